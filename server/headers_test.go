package server_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/vscard/vscard/server"
	"github.com/vscard/vscard/server/servertest"
)

// csp splits a Content-Security-Policy into its directives' source lists.
func csp(header string) map[string][]string {
	out := map[string][]string{}
	for _, d := range strings.Split(header, ";") {
		f := strings.Fields(d)
		if len(f) > 0 {
			out[f[0]] = f[1:]
		}
	}
	return out
}

// checkStrictPolicy fails unless the response carries the app's policy: scripts from
// this server only, nothing inline or eval'd, no framing, no plugins, no <base>.
func checkStrictPolicy(t *testing.T, resp *http.Response) map[string][]string {
	t.Helper()
	raw := resp.Header.Get("Content-Security-Policy")
	p := csp(raw)
	want := map[string][]string{
		"default-src":     {"'self'"},
		"script-src":      {"'self'"},
		"connect-src":     {"'self'"},
		"worker-src":      {"'self'"},
		"object-src":      {"'none'"},
		"base-uri":        {"'none'"},
		"frame-ancestors": {"'none'"},
	}
	for d, sources := range want {
		if !slices.Equal(p[d], sources) {
			t.Errorf("%s: %s is %q, want %q (policy %q)", resp.Request.URL.Path, d, p[d], sources, raw)
		}
	}
	if len(p["form-action"]) == 0 || p["form-action"][0] != "'self'" {
		t.Errorf("%s: form-action is %q, want 'self' first", resp.Request.URL.Path, p["form-action"])
	}
	if got := resp.Header.Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("%s: X-Content-Type-Options %q", resp.Request.URL.Path, got)
	}
	if got := resp.Header.Get("X-Frame-Options"); got != "DENY" {
		t.Errorf("%s: X-Frame-Options %q", resp.Request.URL.Path, got)
	}
	if got := resp.Header.Get("Referrer-Policy"); got != "same-origin" {
		t.Errorf("%s: Referrer-Policy %q", resp.Request.URL.Path, got)
	}
	return p
}

func get(t *testing.T, c *http.Client, method, url string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// TestSecurityHeaders: every page of the app (index.html, its client routes and the
// playground, its files) and every API, sign-in and CA answer carries the policy. On an
// http public URL there is no HSTS (browsers ignore it there, and it would pin a
// development host).
func TestSecurityHeaders(t *testing.T) {
	env := servertest.Start(t)
	admin := env.SignIn(t, servertest.Admin)
	cases := []struct {
		name, method, path string
	}{
		{"ok/index", "GET", "/"},
		{"ok/client route", "GET", "/cards"},
		{"ok/client route below admin", "GET", "/admin/script"},
		{"ok/playground", "GET", "/playground"},
		{"ok/asset", "GET", "/favicon.svg"},
		{"ok/missing asset", "GET", "/assets/nothing.js"},
		{"ok/api", "POST", "/query"},
		{"ok/session", "GET", "/auth/session"},
		{"ok/login redirect", "GET", "/auth/login"},
		{"ok/health", "GET", "/healthz"},
		{"ok/ca", "GET", "/ca/ca.crt"},
	}
	client := *admin.HTTP
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp := get(t, &client, tc.method, env.URL+tc.path)
			checkStrictPolicy(t, resp)
			if got := resp.Header.Get("Strict-Transport-Security"); got != "" {
				t.Errorf("HSTS %q on an http public URL", got)
			}
		})
	}
}

// TestHSTSOnHTTPS: with an https public URL (TLS ends at a proxy in front) every answer
// tells the browser to keep to https.
func TestHSTSOnHTTPS(t *testing.T) {
	env := servertest.Start(t, func(c *server.Config) { c.PublicURL = "https://vscard.example" })
	for _, path := range []string{"/", "/cards", "/auth/session", "/healthz"} {
		resp := get(t, env.Anonymous().HTTP, "GET", env.URL+path)
		if got := resp.Header.Get("Strict-Transport-Security"); got != "max-age=31536000" {
			t.Errorf("%s: Strict-Transport-Security %q, want max-age=31536000", path, got)
		}
		checkStrictPolicy(t, resp)
	}
}

// TestFormActionAllowsTheProvider: sign-out is a form post answered with a redirect to the
// provider's end_session_endpoint, which Chromium checks against form-action: the
// provider's origin is listed, and nothing else besides 'self'.
func TestFormActionAllowsTheProvider(t *testing.T) {
	env := servertest.Start(t, func(c *server.Config) { c.OIDCIssuer = "https://login.example.com/realms/staff" })
	resp := get(t, env.Anonymous().HTTP, "GET", env.URL+"/")
	p := checkStrictPolicy(t, resp)
	if want := []string{"'self'", "https://login.example.com"}; !slices.Equal(p["form-action"], want) {
		t.Errorf("form-action %q, want %q", p["form-action"], want)
	}
}

// TestDefaultAddress: with the development provider on, whose demo passwords are public,
// the server listens on loopback unless told an address; without it on every interface.
func TestDefaultAddress(t *testing.T) {
	cases := []struct {
		name string
		cfg  server.Config
		want string
	}{
		{"ok/development provider: loopback", server.Config{}, "127.0.0.1:8080"},
		{"ok/development provider, address given", server.Config{Addr: ":9090"}, ":9090"},
		{"ok/external provider: every interface", server.Config{OIDCIssuer: "https://login.example.com"}, ":8080"},
		{"ok/external provider, address given", server.Config{OIDCIssuer: "https://login.example.com", Addr: "10.0.0.5:8443"}, "10.0.0.5:8443"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg
			cfg.DataDir = t.TempDir()
			srv, err := server.New(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
			if err != nil {
				t.Fatal(err)
			}
			defer srv.Close()
			if srv.Config.Addr != tc.want {
				t.Errorf("Addr %q, want %q", srv.Config.Addr, tc.want)
			}
		})
	}
}
