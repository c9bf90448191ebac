package auth

import (
	"net/http"
	"strings"
	"testing"

	"github.com/vscard/vscard/server/viewer"
)

func TestCSRF(t *testing.T) {
	app, _ := devSetup(t)
	b := newBrowser(t)
	b.signIn(app.URL, "alice", "alice-demo")

	for _, tc := range []struct {
		name        string
		contentType string
		header      map[string]string
		cookie      bool
		status      int
	}{
		{name: "ok/JSON POST", contentType: "application/json", cookie: true, status: 200},
		{name: "ok/JSON with charset", contentType: "application/json; charset=utf-8", cookie: true, status: 200},
		{name: "ok/X-Requested-With", contentType: "text/plain", header: map[string]string{"X-Requested-With": "fetch"}, cookie: true, status: 200},
		{name: "ok/X-CSRF", contentType: "application/x-www-form-urlencoded", header: map[string]string{"X-CSRF": "1"}, cookie: true, status: 200},
		{name: "ok/allowed Origin", contentType: "application/json", header: map[string]string{"Origin": app.URL}, cookie: true, status: 200},
		{name: "ok/form POST without a cookie is anonymous, not refused", contentType: "application/x-www-form-urlencoded", status: 200},
		{name: "error/form POST with the cookie", contentType: "application/x-www-form-urlencoded", cookie: true, status: 403},
		{name: "error/multipart POST with the cookie", contentType: "multipart/form-data; boundary=x", cookie: true, status: 403},
		{name: "error/text/plain POST with the cookie", contentType: "text/plain", cookie: true, status: 403},
		{name: "error/JSON from another origin", contentType: "application/json", header: map[string]string{"Origin": "https://evil.example"}, cookie: true, status: 403},
		{name: "error/another origin even without a cookie", contentType: "application/json", header: map[string]string{"Origin": "https://evil.example"}, status: 403},
		{name: "error/null origin", contentType: "application/json", header: map[string]string{"Origin": "null"}, cookie: true, status: 403},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, app.URL+"/api/mutate", strings.NewReader(`{}`))
			req.Header.Set("Content-Type", tc.contentType)
			for k, v := range tc.header {
				req.Header.Set(k, v)
			}
			if tc.cookie {
				req.AddCookie(b.sessionCookie(app.URL))
			}
			status, who, body := callWhoami(t, http.DefaultClient, req)
			if status != tc.status {
				t.Fatalf("status %d, want %d: %s", status, tc.status, body)
			}
			if status == 403 && !strings.Contains(body, `"code":"FORBIDDEN"`) {
				t.Errorf("body = %s", body)
			}
			if status == 200 && tc.cookie && who.Kind != viewer.KindUser {
				t.Errorf("viewer = %+v", who)
			}
		})
	}

	t.Run("error/logout by a cross-site form keeps the session", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, app.URL+"/auth/logout", strings.NewReader(""))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if resp, _ := b.do(req); resp.StatusCode != http.StatusForbidden {
			t.Fatalf("status %d", resp.StatusCode)
		}
		if !b.sessionInfo(app.URL).Authenticated {
			t.Fatal("signed out by a form")
		}
	})

	t.Run("error/logout by a form from another site keeps the session", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, app.URL+"/auth/logout", strings.NewReader(""))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", "https://evil.example")
		if resp, _ := b.do(req); resp.StatusCode != http.StatusForbidden {
			t.Fatalf("status %d", resp.StatusCode)
		}
		if !b.sessionInfo(app.URL).Authenticated {
			t.Fatal("signed out by a cross-site form")
		}
	})

	t.Run("error/logout is POST only", func(t *testing.T) {
		if resp, _ := b.get(app.URL + "/auth/logout"); resp.StatusCode != http.StatusMethodNotAllowed {
			t.Fatalf("GET /auth/logout: %d", resp.StatusCode)
		}
		if !b.sessionInfo(app.URL).Authenticated {
			t.Fatal("signed out by a GET")
		}
	})
}

func TestCheckOrigin(t *testing.T) {
	svc := &Service{cfg: Config{PublicURL: "https://vscard.example.com", AllowedOrigins: []string{"https://portal.example.com/"}}.withDefaults()}
	for _, tc := range []struct {
		origin string
		ok     bool
	}{
		{"", true}, // not a browser
		{"https://portal.example.com", true},
		{"https://vscard.example.com", false}, // explicit list replaces the default
		{"https://evil.example", false},
		{"http://portal.example.com", false},
		{"null", false},
	} {
		req, _ := http.NewRequest(http.MethodGet, "https://vscard.example.com/query", nil)
		if tc.origin != "" {
			req.Header.Set("Origin", tc.origin)
		}
		if got := svc.CheckOrigin(req); got != tc.ok {
			t.Errorf("origin %q: %v, want %v", tc.origin, got, tc.ok)
		}
	}
	def := &Service{cfg: Config{PublicURL: "http://localhost:8080/"}.withDefaults()}
	req, _ := http.NewRequest(http.MethodGet, "http://localhost:8080/query", nil)
	req.Header.Set("Origin", "http://localhost:8080")
	if !def.CheckOrigin(req) {
		t.Error("the public URL's origin is not allowed by default")
	}
}
