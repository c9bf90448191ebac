package auth

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestCallback runs the browser flow against a provider that answers with the ID token
// each case asks for; every token but the good ones must be refused, and leave no session.
func TestCallback(t *testing.T) {
	f := startFakeIdP(t)
	app := newApp(t, nil, func(cfg *Config) { cfg.Issuer = f.issuer })

	for _, tc := range []struct {
		name   string
		signer string
		shape  func(map[string]any)
		status int
	}{
		{name: "ok/RS256", status: http.StatusOK},
		{name: "ok/ES256", signer: "ES256", status: http.StatusOK},
		{name: "error/wrong nonce", shape: func(c map[string]any) { c["nonce"] = "not-the-nonce" }, status: http.StatusUnauthorized},
		{name: "error/no nonce", shape: func(c map[string]any) { delete(c, "nonce") }, status: http.StatusUnauthorized},
		{name: "error/wrong audience", shape: func(c map[string]any) { c["aud"] = "someone-else" }, status: http.StatusUnauthorized},
		{name: "error/wrong issuer", shape: func(c map[string]any) { c["iss"] = "https://evil.example" }, status: http.StatusUnauthorized},
		{name: "error/expired", shape: func(c map[string]any) { c["exp"] = time.Now().Add(-time.Minute).Unix() }, status: http.StatusUnauthorized},
		{name: "error/algorithm not allowed", signer: "RS512", status: http.StatusUnauthorized},
		{name: "error/signed by another key", signer: "rogue", status: http.StatusUnauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f.set(tc.signer, tc.shape)
			b := newBrowser(t)
			resp, body := b.get(app.URL + "/auth/login")
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, body)
			}
			info := b.sessionInfo(app.URL)
			if ok := tc.status == http.StatusOK; info.Authenticated != ok {
				t.Fatalf("authenticated = %v, want %v", info.Authenticated, ok)
			}
			if info.Authenticated && (info.User.Username != "frank" || info.User.Email != "frank@fake.test") {
				t.Errorf("user = %+v", info.User)
			}
		})
	}

	t.Run("error/state missing, unknown, or from another browser", func(t *testing.T) {
		f.set("", nil)
		b := newBrowser(t)
		b.stopCallback = true
		resp, _ := b.get(app.URL + "/auth/login")
		cb, _ := url.Parse(resp.Header.Get("Location"))
		good := cb.Query()

		other := newBrowser(t)
		other.stopCallback = true
		other.get(app.URL + "/auth/login") // a session with a pending sign-in of its own
		for name, q := range map[string]url.Values{
			"missing": {"code": {good.Get("code")}},
			"unknown": {"code": {good.Get("code")}, "state": {"forged"}},
		} {
			cb.RawQuery = q.Encode()
			if resp, _ := b.get(cb.String()); resp.StatusCode != http.StatusBadRequest {
				t.Errorf("%s state: status %d", name, resp.StatusCode)
			}
		}
		cb.RawQuery = good.Encode()
		if resp, _ := other.get(cb.String()); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("another browser's state: status %d", resp.StatusCode)
		}
		if other.sessionInfo(app.URL).Authenticated {
			t.Error("the other browser got signed in")
		}
		// The owner can still finish: the failures did not use up its state.
		if resp, body := b.get(cb.String()); resp.StatusCode != http.StatusOK || body != "home /" {
			t.Fatalf("own callback: %d %s", resp.StatusCode, body)
		}
		if !b.sessionInfo(app.URL).Authenticated {
			t.Error("owner not signed in")
		}
	})

	t.Run("error/a callback URL works once", func(t *testing.T) {
		f.set("", nil)
		b := newBrowser(t)
		b.stopCallback = true
		resp, _ := b.get(app.URL + "/auth/login")
		cb := resp.Header.Get("Location")
		if resp, body := b.get(cb); resp.StatusCode != http.StatusOK || body != "home /" {
			t.Fatalf("first use: %d %s", resp.StatusCode, body)
		}
		if resp, _ := b.get(cb); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("replay: status %d", resp.StatusCode)
		}
	})

	t.Run("error/provider error is shown, not trusted", func(t *testing.T) {
		b := newBrowser(t)
		b.stopCallback = true
		resp, _ := b.get(app.URL + "/auth/login")
		cb, _ := url.Parse(resp.Header.Get("Location"))
		q := cb.Query()
		q.Set("error", "access_denied")
		q.Del("code")
		cb.RawQuery = q.Encode()
		resp, body := b.get(cb.String())
		if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "did not sign you in") {
			t.Errorf("status %d: %s", resp.StatusCode, body)
		}
		if b.sessionInfo(app.URL).Authenticated {
			t.Error("signed in")
		}
	})
}

// TestDiscoveryIsLazy builds the service while the provider is down, as when the embedded
// provider shares the server that has not started listening yet.
func TestDiscoveryIsLazy(t *testing.T) {
	srv, lh := newLateServer(t) // answers 503 until it has a handler
	app := newApp(t, nil, func(cfg *Config) { cfg.Issuer = srv.URL })
	b := newBrowser(t)
	if resp, _ := b.get(app.URL + "/auth/login"); resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("login while provider is down: %d", resp.StatusCode)
	}
	// A portal token cannot be checked either: that is not the caller's fault, and worth
	// trying again (UNAVAILABLE, 503), unlike a bad token (UNAUTHENTICATED, 401).
	if status, _, body := callWhoami(t, http.DefaultClient, bearerRequest(http.MethodGet, app.URL+"/api/whoami", "Bearer a.b.c")); status != http.StatusServiceUnavailable || !strings.Contains(body, `"code":"UNAVAILABLE"`) {
		t.Fatalf("portal token while provider is down: %d %s, want 503 UNAVAILABLE", status, body)
	}
	f := startFakeIdP(t)
	// The provider comes up at the configured issuer: hand its handler to srv, with
	// srv's URL as issuer.
	f.issuer = srv.URL
	lh.set(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/.well-known/openid-configuration":
			f.discovery(w, r)
		case "/keys":
			f.keys(w, r)
		case "/authorize":
			f.authorize(w, r)
		case "/token":
			f.token(w, r)
		}
	}))
	if resp, body := b.get(app.URL + "/auth/login"); resp.StatusCode != http.StatusOK || !b.sessionInfo(app.URL).Authenticated {
		t.Fatalf("login after provider came up: %d %s", resp.StatusCode, body)
	}
}
