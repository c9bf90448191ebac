package auth

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/vscard/vscard/server/viewer"
)

func TestParseTrustedProxies(t *testing.T) {
	got, err := ParseTrustedProxies([]string{"127.0.0.1", " 10.1.2.3/8 ", "::1", "fd00::/8", "::ffff:192.168.0.0/112"})
	if err != nil {
		t.Fatal(err)
	}
	var s []string
	for _, p := range got {
		s = append(s, p.String())
	}
	want := []string{"127.0.0.1/32", "10.0.0.0/8", "::1/128", "fd00::/8", "192.168.0.0/16"}
	if !slices.Equal(s, want) {
		t.Errorf("parsed %v, want %v", s, want)
	}

	for _, bad := range []string{"10.0.0.0/33", "proxy.internal", "", "127.0.0.1:8080", "10.0.0.0/8/8", "256.0.0.1"} {
		t.Run("error/"+bad, func(t *testing.T) {
			_, err := ParseTrustedProxies([]string{"127.0.0.1", bad})
			if err == nil {
				t.Fatal("accepted")
			}
			if !strings.Contains(err.Error(), `"`+bad+`"`) {
				t.Errorf("error %q does not name the entry", err)
			}
		})
	}
}

func TestClientAddr(t *testing.T) {
	const lb = "127.0.0.1:50000" // a load balancer on the same host
	for _, tc := range []struct {
		name      string
		trusted   []string
		peer      string
		forwarded []string // X-Forwarded-For header lines; nil: no header
		want      string
	}{
		{"ok/no setting ignores the header", nil, lb, []string{"203.0.113.7"}, "127.0.0.1"},
		{"ok/no setting, IPv6 peer", nil, "[::1]:50000", nil, "::1"},
		{"ok/untrusted peer with a spoofed header", []string{"10.0.0.0/8"}, "198.51.100.9:4000", []string{"10.0.0.1"}, "198.51.100.9"},
		{"ok/trusted peer without the header", []string{"127.0.0.1"}, lb, nil, "127.0.0.1"},
		{"ok/trusted peer", []string{"127.0.0.1"}, lb, []string{"203.0.113.7"}, "203.0.113.7"},
		{"ok/what the client prepends is passed over", []string{"127.0.0.1"}, lb, []string{"10.9.9.9, 203.0.113.7"}, "203.0.113.7"},
		{"ok/chain of trusted proxies", []string{"127.0.0.1", "10.0.0.0/8"}, lb,
			[]string{"6.6.6.6, 203.0.113.7, 10.0.0.5,10.1.2.3"}, "203.0.113.7"},
		{"ok/several header lines are one list", []string{"127.0.0.1", "10.0.0.0/8"}, lb,
			[]string{"6.6.6.6, 203.0.113.7", "10.0.0.5"}, "203.0.113.7"},
		{"ok/every hop trusted: the farthest one", []string{"127.0.0.1", "10.0.0.0/8"}, lb, []string{"10.0.0.5, 10.1.2.3"}, "10.0.0.5"},
		{"ok/IPv6", []string{"::1", "fd00::/8"}, "[::1]:443", []string{"2001:db8::1, fd00::2"}, "2001:db8::1"},
		{"ok/IPv6 peer with a zone", []string{"fe80::/10"}, "[fe80::1%eth0]:443", []string{"2001:db8::1"}, "2001:db8::1"},
		{"ok/IPv4-mapped peer", []string{"127.0.0.1"}, "[::ffff:127.0.0.1]:50000", []string{"203.0.113.7"}, "203.0.113.7"},
		{"ok/IPv4-mapped client is unmapped", []string{"127.0.0.1"}, lb, []string{"::ffff:203.0.113.7"}, "203.0.113.7"},
		{"ok/IPv4-mapped trusted hop", []string{"127.0.0.1", "10.0.0.0/8"}, lb, []string{"203.0.113.7, ::ffff:10.0.0.5"}, "203.0.113.7"},
		{"ok/IPv4-mapped setting", []string{"::ffff:127.0.0.1"}, lb, []string{"203.0.113.7"}, "203.0.113.7"},
		{"ok/malformed entry: the peer", []string{"127.0.0.1"}, lb, []string{"203.0.113.7, unknown"}, "127.0.0.1"},
		{"ok/malformed entry: the last trusted hop", []string{"127.0.0.1", "10.0.0.0/8"}, lb, []string{"203.0.113.7, unknown, 10.0.0.5"}, "10.0.0.5"},
		{"ok/an address with a port is malformed", []string{"127.0.0.1"}, lb, []string{"203.0.113.7:4711"}, "127.0.0.1"},
		{"ok/empty entry is malformed", []string{"127.0.0.1"}, lb, []string{"203.0.113.7,"}, "127.0.0.1"},
		{"ok/empty header", []string{"127.0.0.1"}, lb, []string{""}, "127.0.0.1"},
		{"ok/peer without a port", []string{"127.0.0.1"}, "127.0.0.1", []string{"203.0.113.7"}, "203.0.113.7"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			proxies, err := ParseTrustedProxies(tc.trusted)
			if err != nil {
				t.Fatal(err)
			}
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tc.peer
			for _, v := range tc.forwarded {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := proxies.ClientAddr(r); got != tc.want {
				t.Errorf("ClientAddr = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestBearerBehindProxy: a bridge's viewer carries the address its trusted load balancer
// forwarded, and the peer's when the peer is not trusted.
func TestBearerBehindProxy(t *testing.T) {
	for _, tc := range []struct {
		name    string
		trusted []string
		want    string
	}{
		{"ok/trusted peer", []string{"127.0.0.1"}, "203.0.113.7"},
		{"ok/untrusted peer", []string{"10.0.0.0/8"}, "127.0.0.1"},
		{"ok/no setting", nil, "127.0.0.1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			app := newApp(t, nil, func(cfg *Config) {
				cfg.Issuer = "http://127.0.0.1:1" // bridge tokens never reach the provider
				var err error
				if cfg.TrustedProxies, err = ParseTrustedProxies(tc.trusted); err != nil {
					t.Fatal(err)
				}
			})
			req := bearerRequest(http.MethodGet, app.URL+"/api/whoami", "Bearer vsb_good")
			req.Header.Set("X-Forwarded-For", "198.51.100.1, 203.0.113.7")
			status, who, body := callWhoami(t, http.DefaultClient, req)
			if status != 200 || who.Kind != viewer.KindBridge || who.Addr != tc.want {
				t.Fatalf("status %d, address %q, want %q: %s", status, who.Addr, tc.want, body)
			}
		})
	}
}
