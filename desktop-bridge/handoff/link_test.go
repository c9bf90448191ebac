package handoff

import (
	"errors"
	"net/url"
	"strings"
	"testing"
)

func TestParseLink(t *testing.T) {
	const tok = "x2bT9n0v3Yq8uPZ1a4kD6m7sJrQwEhLcVbNfGtHyUiO"
	link := func(server string) string {
		return "vscard://enroll?server=" + url.QueryEscape(server) + "&order=ord_1&token=" + tok
	}
	tests := []struct {
		name, raw, server string
		process           string // want; empty means DefaultProcess
	}{
		{"ok/https", link("https://cards.example.com"), "https://cards.example.com", ""},
		{"ok/default port and case dropped", link("HTTPS://Cards.Example.COM:443/"), "https://cards.example.com", ""},
		{"ok/path kept, slash dropped", link("https://example.com/vscard/"), "https://example.com/vscard", ""},
		{"ok/http on loopback", link("http://127.0.0.1:18080"), "http://127.0.0.1:18080", ""},
		{"ok/http on localhost", link("http://localhost:8080"), "http://localhost:8080", ""},
		{"ok/http on ::1", link("http://[::1]:8080"), "http://[::1]:8080", ""},
		{"ok/opaque form", "vscard:enroll?server=https%3A%2F%2Fa.example&order=o&token=" + tok, "https://a.example", ""},
		{"ok/process named", link("https://a.example") + "&process=change-pin", "https://a.example", "change-pin"},
		{"ok/unknown process parses; Run refuses it", link("https://a.example") + "&process=renew-everything", "https://a.example", "renew-everything"},
		{"error/two processes", link("https://a.example") + "&process=change-pin&process=unblock", "", ""},
		{"error/empty process", link("https://a.example") + "&process=", "", ""},
		{"error/process not a name", link("https://a.example") + "&process=Change_PIN", "", ""},
		{"error/process with slash", link("https://a.example") + "&process=..%2Fx", "", ""},
		{"error/process too long", link("https://a.example") + "&process=" + strings.Repeat("a", maxProcessLen+1), "", ""},
		{"error/http elsewhere", link("http://cards.example.com"), "", ""},
		{"error/other scheme", "https://enroll?server=https%3A%2F%2Fa.example&order=o&token=t", "", ""},
		{"error/other action", "vscard://renew?server=https%3A%2F%2Fa.example&order=o&token=t", "", ""},
		{"error/no token", "vscard://enroll?server=https%3A%2F%2Fa.example&order=o", "", ""},
		{"error/two tokens", "vscard://enroll?server=https%3A%2F%2Fa.example&order=o&token=t&token=u", "", ""},
		{"error/server with user info", link("https://me:pw@a.example"), "", ""},
		{"error/server with query", link("https://a.example/?x=1"), "", ""},
		{"error/server javascript", link("javascript:alert(1)"), "", ""},
		{"error/token with space", "vscard://enroll?server=https%3A%2F%2Fa.example&order=o&token=a+b", "", ""},
		{"error/fragment", link("https://a.example") + "#x", "", ""},
		{"error/too long", link("https://a.example") + strings.Repeat("x", maxLinkLen), "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := ParseLink(tt.raw)
			if tt.server == "" {
				if !errors.Is(err, ErrBadLink) {
					t.Fatalf("ParseLink = %+v, %v; want ErrBadLink", h, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := tt.process
			if want == "" {
				want = DefaultProcess
			}
			if h.Server != tt.server || h.Order == "" || h.Token == "" || h.Process != want {
				t.Errorf("got %+v, want server %s and process %s", h, tt.server, want)
			}
			if strings.Contains(h.String(), h.Token) {
				t.Errorf("String() reveals the token: %s", h)
			}
		})
	}
}

// FuzzParseLink checks that parsing never panics, that what it accepts is in
// canonical form (parsing the link it rebuilds gives the same hand-off), and that the
// server it accepts is http only on loopback.
func FuzzParseLink(f *testing.F) {
	for _, s := range []string{
		"vscard://enroll?server=https%3A%2F%2Fcards.example.com&order=o1&token=abc",
		"vscard://enroll?server=http%3A%2F%2F127.0.0.1%3A18080&order=o1&token=abc",
		"vscard:enroll?server=https%3A%2F%2F%5B%3A%3A1%5D%3A443%2Fp%2F&order=o&token=t",
		"vscard://enroll?server=HTTPS%3A%2F%2FA.example%3A443%2F&order=%7E&token=%21",
		"vscard://enroll?server=https%3A%2F%2Fa.example%2F%2E%2E%2Fb&order=o&token=t",
		"vscard://enroll?server=https%3A%2F%2Fa%25zz&order=o&token=t",
		"vscard://enroll?;server=x",
		"vscard://enroll?server=https%3A%2F%2Fa.example&order=o&token=t&process=change-pin",
		"vscard://enroll?server=https%3A%2F%2Fa.example&order=o&token=t&process=-x",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		h, err := ParseLink(raw)
		if err != nil {
			return
		}
		again, err := ParseLink(h.URL())
		if err != nil {
			t.Fatalf("rebuilt link %q of %q does not parse: %v", h.URL(), raw, err)
		}
		if again != h {
			t.Fatalf("not canonical: %+v, then %+v", h, again)
		}
		u, err := url.Parse(h.Server)
		if err != nil || (u.Scheme != "https" && !(u.Scheme == "http" && isLoopback(u.Hostname()))) {
			t.Fatalf("accepted server %q", h.Server)
		}
	})
}
