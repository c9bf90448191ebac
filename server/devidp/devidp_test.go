package devidp

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

const callbackPath = "/cb"

// env is a devidp on a test server, with a relying party endpoint that only records the
// code it is sent.
type env struct {
	srv *httptest.Server
	idp *Provider
}

func start(t *testing.T, mutate func(*Config)) *env {
	t.Helper()
	e := &env{}
	mux := http.NewServeMux()
	e.srv = httptest.NewServer(mux)
	t.Cleanup(e.srv.Close)
	cfg := Config{
		Issuer:       e.srv.URL + "/dev/idp",
		ClientSecret: "web-secret",
		RedirectURIs: []string{e.srv.URL + callbackPath},
		PortalClients: []PortalClient{
			{ID: "demo-portal", Secret: "portal-secret", Scopes: []string{"cards:read"}},
		},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	if mutate != nil {
		mutate(&cfg)
	}
	idp, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	e.idp = idp
	mux.Handle("/dev/idp/", idp)
	mux.HandleFunc(callbackPath, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, r.URL.RawQuery) })
	return e
}

func (e *env) oauth2Config(t *testing.T) (*oauth2.Config, *oidc.Provider) {
	t.Helper()
	p, err := oidc.NewProvider(context.Background(), e.idp.Issuer())
	if err != nil {
		t.Fatalf("discover: %v", err)
	}
	return &oauth2.Config{
		ClientID: "vscard", ClientSecret: "web-secret", Endpoint: p.Endpoint(),
		RedirectURL: e.srv.URL + callbackPath, Scopes: []string{"openid", "profile", "email"},
	}, p
}

// authorize runs the browser part for username and returns the code.
func (e *env) authorize(t *testing.T, authURL, username, password string) (url.Values, int) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	resp, err := c.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	id := resp.Request.URL.Query().Get("authRequestID")
	if id == "" {
		return nil, resp.StatusCode
	}
	if !strings.Contains(string(page), "alice-demo") {
		t.Errorf("login page does not list the demo passwords")
	}
	resp, err = c.PostForm(e.idp.Issuer()+"/login", url.Values{"id": {id}, "username": {username}, "password": {password}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.Request.URL.Path != callbackPath {
		return nil, resp.StatusCode
	}
	q, _ := url.ParseQuery(string(body))
	return q, resp.StatusCode
}

func TestNew(t *testing.T) {
	t.Run("error/refused in production", func(t *testing.T) {
		_, err := New(Config{Issuer: "https://idp.example/dev/idp", Production: true})
		if !errors.Is(err, ErrProduction) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("ok/allowed in production when asked", func(t *testing.T) {
		if _, err := New(Config{Issuer: "https://idp.example/dev/idp", Production: true, AllowInProduction: true,
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}); err != nil {
			t.Fatal(err)
		}
	})
	for name, cfg := range map[string]Config{
		"error/relative issuer":       {Issuer: "/dev/idp"},
		"error/portal without secret": {Issuer: "http://localhost/idp", PortalClients: []PortalClient{{ID: "p"}}},
		"error/duplicate user":        {Issuer: "http://localhost/idp", Users: []User{{Username: "a", Password: "x"}, {Username: "A", Password: "y"}}},
		"error/user without password": {Issuer: "http://localhost/idp", Users: []User{{Username: "a"}}},
		"error/missing users file":    {Issuer: "http://localhost/idp", UsersFile: "testdata/nope.yaml"},
	} {
		t.Run(name, func(t *testing.T) {
			cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
			if _, err := New(cfg); err == nil {
				t.Fatal("accepted")
			}
		})
	}
	t.Run("ok/initial states from the users file", func(t *testing.T) {
		e := start(t, nil)
		got := e.idp.InitialStates()
		if got["7b0d4e1a-0000-4000-8000-000000000b0b"] != "INACTIVE" || got["7b0d4e1a-0000-4000-8000-00000000a11c"] != "ACTIVE" ||
			got["7b0d4e1a-0000-4000-8000-0000000019a0"] != "ACTIVE" || len(got) != 5 {
			t.Errorf("InitialStates = %v", got)
		}
	})
}

func TestDiscovery(t *testing.T) {
	e := start(t, nil)
	resp, err := http.Get(e.idp.Issuer() + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var d map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&d); err != nil {
		t.Fatal(err)
	}
	if d["issuer"] != e.idp.Issuer() || d["end_session_endpoint"] != e.idp.Issuer()+"/end_session" ||
		d["jwks_uri"] != e.idp.Issuer()+"/keys" || !strings.Contains(toJSON(d["code_challenge_methods_supported"]), "S256") {
		t.Errorf("discovery = %v", d)
	}
}

func toJSON(v any) string { b, _ := json.Marshal(v); return string(b) }

func TestCodeFlow(t *testing.T) {
	e := start(t, nil)
	cfg, p := e.oauth2Config(t)
	ctx := context.Background()

	t.Run("ok/code with PKCE, ID token with profile, groups and claims, code works once", func(t *testing.T) {
		verifier := oauth2.GenerateVerifier()
		q, status := e.authorize(t, cfg.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier), oidc.Nonce("nc")), "admin", "admin-demo")
		if q.Get("state") != "st" || q.Get("code") == "" {
			t.Fatalf("callback %d: %v", status, q)
		}
		tok, err := cfg.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
		if err != nil {
			t.Fatalf("exchange: %v", err)
		}
		idt, err := p.Verifier(&oidc.Config{ClientID: "vscard"}).Verify(ctx, tok.Extra("id_token").(string))
		if err != nil {
			t.Fatalf("verify: %v", err)
		}
		var c struct {
			Username string   `json:"preferred_username"`
			Email    string   `json:"email"`
			Groups   []string `json:"groups"`
			Dept     string   `json:"department"`
		}
		_ = idt.Claims(&c)
		if idt.Nonce != "nc" || idt.Subject != "7b0d4e1a-0000-4000-8000-00000000ad01" || c.Username != "admin" ||
			c.Email != "admin@vscard.test" || toJSON(c.Groups) != `["vscard-admins"]` || c.Dept != "IT" {
			t.Errorf("ID token: nonce %s sub %s claims %+v", idt.Nonce, idt.Subject, c)
		}
		if _, err := cfg.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier)); err == nil {
			t.Error("code exchanged twice")
		}
	})

	t.Run("error/wrong PKCE verifier", func(t *testing.T) {
		q, _ := e.authorize(t, cfg.AuthCodeURL("st", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())), "alice", "alice-demo")
		if _, err := cfg.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(oauth2.GenerateVerifier())); err == nil {
			t.Error("exchanged with the wrong verifier")
		}
	})

	t.Run("error/no PKCE", func(t *testing.T) {
		q, _ := e.authorize(t, cfg.AuthCodeURL("st"), "alice", "alice-demo")
		if q.Get("code") != "" {
			t.Errorf("code issued without PKCE")
		}
	})

	t.Run("error/wrong password", func(t *testing.T) {
		q, status := e.authorize(t, cfg.AuthCodeURL("st", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())), "alice", "bob-demo")
		if q != nil || status != http.StatusUnauthorized {
			t.Errorf("status %d, callback %v", status, q)
		}
	})

	t.Run("error/unregistered redirect URI", func(t *testing.T) {
		bad := *cfg
		bad.RedirectURL = "https://evil.example/cb"
		q, _ := e.authorize(t, bad.AuthCodeURL("st", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())), "alice", "alice-demo")
		if q != nil {
			t.Errorf("redirected to an unregistered URI: %v", q)
		}
	})
}

func TestClientCredentials(t *testing.T) {
	e := start(t, nil)
	_, p := e.oauth2Config(t)
	ctx := context.Background()
	for _, tc := range []struct {
		name, secret, scope string
		ok                  bool
	}{
		{"ok/default scopes", "portal-secret", "", true},
		{"ok/asked scope", "portal-secret", "cards:read", true},
		{"error/wrong secret", "nope", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			form := url.Values{"grant_type": {"client_credentials"}}
			if tc.scope != "" {
				form.Set("scope", tc.scope)
			}
			req, _ := http.NewRequest(http.MethodPost, p.Endpoint().TokenURL, strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.SetBasicAuth("demo-portal", tc.secret)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var out struct {
				AccessToken string `json:"access_token"`
			}
			_ = json.NewDecoder(resp.Body).Decode(&out)
			if !tc.ok {
				if resp.StatusCode != http.StatusUnauthorized && resp.StatusCode != http.StatusBadRequest || out.AccessToken != "" {
					t.Fatalf("status %d, token %q", resp.StatusCode, out.AccessToken)
				}
				return
			}
			at, err := p.Verifier(&oidc.Config{ClientID: "vscard-api"}).Verify(ctx, out.AccessToken)
			if err != nil {
				t.Fatalf("verify access token: %v", err)
			}
			var c struct {
				Scope    string `json:"scope"`
				ClientID string `json:"client_id"`
			}
			_ = at.Claims(&c)
			if c.Scope != "cards:read" || c.ClientID != "demo-portal" || at.Subject != "demo-portal" {
				t.Errorf("claims = %+v sub %s", c, at.Subject)
			}
		})
	}
}

func TestKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys", "devidp.pem")
	kid := func() string {
		e := start(t, func(c *Config) { c.KeyFile = path })
		resp, err := http.Get(e.idp.Issuer() + "/keys")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var ks struct {
			Keys []struct {
				Kid string `json:"kid"`
			} `json:"keys"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&ks)
		if len(ks.Keys) != 1 {
			t.Fatalf("keys = %+v", ks)
		}
		return ks.Keys[0].Kid
	}
	first, second := kid(), kid()
	if first != second {
		t.Errorf("key changed across restarts: %s, %s", first, second)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("key file: %v %v", fi, err)
	}
	if err := os.WriteFile(path, []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := New(Config{Issuer: "http://localhost/idp", KeyFile: path}); err == nil {
		t.Error("garbage key file accepted")
	}
}

// TestBrowserSession: like a real provider, the devidp remembers who signed in at a
// browser, and end_session (RP-initiated logout) forgets it, so that the next sign-in asks
// for the password again.
func TestBrowserSession(t *testing.T) {
	e := start(t, func(c *Config) { c.PostLogoutRedirectURIs = []string{c.RedirectURIs[0] + "?out"} })
	cfg, p := e.oauth2Config(t)
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	// open follows authURL and says whether the login form came up, or the code when not.
	open := func(authURL string) (form bool, code string) {
		t.Helper()
		resp, err := c.Get(authURL)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.Request.URL.Path == callbackPath {
			q, _ := url.ParseQuery(string(body))
			return false, q.Get("code")
		}
		if !strings.Contains(string(body), `name="password"`) {
			t.Fatalf("neither login form nor callback: %s %s", resp.Request.URL, body)
		}
		id := resp.Request.URL.Query().Get("authRequestID")
		resp, err = c.PostForm(e.idp.Issuer()+"/login", url.Values{"id": {id}, "username": {"alice"}, "password": {"alice-demo"}})
		if err != nil {
			t.Fatal(err)
		}
		body, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		q, _ := url.ParseQuery(string(body))
		return true, q.Get("code")
	}
	verifier := oauth2.GenerateVerifier()
	authURL := cfg.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier), oidc.Nonce("nc"))

	if form, _ := open(authURL); !form {
		t.Fatal("first sign-in asked for no password")
	}
	form, code := open(authURL)
	if form || code == "" {
		t.Fatalf("second sign-in in the same browser: form %v code %q, want no form", form, code)
	}
	if form, _ := open(cfg.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("prompt", "login"))); !form {
		t.Error("prompt=login asked for no password")
	}

	tok, err := cfg.Exchange(context.Background(), code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	idToken := tok.Extra("id_token").(string)
	if _, err := p.Verifier(&oidc.Config{ClientID: "vscard"}).Verify(context.Background(), idToken); err != nil {
		t.Fatal(err)
	}
	end := e.idp.Issuer() + "/end_session?" + url.Values{
		"id_token_hint": {idToken}, "post_logout_redirect_uri": {cfg.RedirectURL + "?out"},
	}.Encode()
	resp, err := c.Get(end)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Request.URL.Path != callbackPath || resp.Request.URL.RawQuery != "out" {
		t.Fatalf("end_session landed at %s (%d)", resp.Request.URL, resp.StatusCode)
	}
	if form, _ := open(authURL); !form {
		t.Fatal("after end_session the sign-in asked for no password")
	}

	// A browser with a copy of the old cookie is signed out too: the session is gone
	// on the provider's side, not only in this browser.
	t.Run("error/the ended session's cookie does not sign in", func(t *testing.T) {
		u, _ := url.Parse(e.idp.Issuer() + "/")
		cookies := jar.Cookies(u)
		if len(cookies) == 0 {
			t.Fatal("no provider cookie")
		}
		// The current cookie is from the sign-in just above; end it with its ID token.
		_, code := open(authURL)
		tok, err := cfg.Exchange(context.Background(), code, oauth2.VerifierOption(verifier))
		if err != nil {
			t.Fatal(err)
		}
		saved := jar.Cookies(u)
		resp, err := c.Get(e.idp.Issuer() + "/end_session?" + url.Values{"id_token_hint": {tok.Extra("id_token").(string)}}.Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		jar.SetCookies(u, saved)
		if form, _ := open(authURL); !form {
			t.Fatal("a copied cookie of an ended session signed in without a password")
		}
	})
}
