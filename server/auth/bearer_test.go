package auth

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vscard/vscard/server/testclock"
	"github.com/vscard/vscard/server/viewer"
)

// portalToken gets an access token from the devidp with client credentials, as a portal
// would with curl.
func portalToken(t *testing.T, issuer, clientID, secret, scope string) string {
	t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}}
	if scope != "" {
		form.Set("scope", scope)
	}
	req, _ := http.NewRequest(http.MethodPost, issuer+"/oauth/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(clientID, secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		AccessToken string `json:"access_token"`
		Error       string `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.AccessToken == "" {
		t.Fatalf("token for %s: %d %v %s", clientID, resp.StatusCode, err, out.Error)
	}
	return out.AccessToken
}

func bearerRequest(method, u, auth string) *http.Request {
	req, _ := http.NewRequest(method, u, strings.NewReader(`{"query":"{ __typename }"}`))
	req.Header.Set("Content-Type", "application/json")
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	return req
}

func TestBearer(t *testing.T) {
	var idp interface{ Issuer() string }
	app := newApp(t, nil, func(cfg *Config) {
		p := startIdP(t, cfg.PublicURL, idpOptions{})
		idp, cfg.Issuer = p, p.Issuer()
	})
	// A provider this vscard does not trust, for tokens with a foreign issuer.
	foreign := startFakeIdP(t)

	good := portalToken(t, idp.Issuer(), "demo-portal", "portal-secret", "")
	asked := portalToken(t, idp.Issuer(), "demo-portal", "portal-secret", "cards:read")
	noScope := portalToken(t, idp.Issuer(), "no-scope-portal", "portal-secret", "")
	otherAPI := portalToken(t, idp.Issuer(), "other-api-portal", "portal-secret", "")
	notGranted := portalToken(t, idp.Issuer(), "demo-portal", "portal-secret", "openid")

	for _, tc := range []struct {
		name   string
		auth   string
		status int
		kind   viewer.Kind
		who    string
	}{
		{name: "ok/portal token with cards:read", auth: "Bearer " + good, status: 200, kind: viewer.KindPortal, who: "demo-portal"},
		{name: "ok/portal token asking for cards:read", auth: "Bearer " + asked, status: 200, kind: viewer.KindPortal, who: "demo-portal"},
		{name: "ok/bridge session", auth: "Bearer vsb_good", status: 200, kind: viewer.KindBridge, who: "bridge"},
		{name: "ok/scheme is case-insensitive", auth: "bearer " + good, status: 200, kind: viewer.KindPortal, who: "demo-portal"},
		{name: "ok/basic auth is not ours: anonymous", auth: "Basic Zm9vOmJhcg==", status: 200},
		{name: "error/portal token without the scope", auth: "Bearer " + noScope, status: 401},
		{name: "error/scope asked for but not granted", auth: "Bearer " + notGranted, status: 401},
		{name: "error/portal token for another audience", auth: "Bearer " + otherAPI, status: 401},
		{name: "error/token from another issuer", auth: "Bearer " + foreign.accessToken("", nil), status: 401},
		{name: "error/tampered token", auth: "Bearer " + good[:len(good)-4] + "AAAA", status: 401},
		{name: "error/garbage", auth: "Bearer not-a-jwt", status: 401},
		{name: "error/empty bearer", auth: "Bearer ", status: 401},
		{name: "error/bridge token refused by the authenticator", auth: "Bearer vsb_revoked", status: 401},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, method := range []string{http.MethodGet, http.MethodPost} {
				path := "/api/whoami"
				if method == http.MethodPost {
					path = "/api/mutate"
				}
				status, who, body := callWhoami(t, http.DefaultClient, bearerRequest(method, app.URL+path, tc.auth))
				if status != tc.status {
					t.Fatalf("%s: status %d, want %d: %s", method, status, tc.status, body)
				}
				if status == 401 {
					if !strings.Contains(body, `"code":"UNAUTHENTICATED"`) || !strings.Contains(body, `"errors":[`) {
						t.Errorf("401 body = %s", body)
					}
					continue
				}
				if who.Kind != tc.kind || who.Name != tc.who {
					t.Errorf("%s: viewer = %+v", method, who)
				}
				if who.Kind == viewer.KindPortal && (!slices.Equal(who.Scopes, []string{"cards:read"}) || who.Addr != "127.0.0.1") {
					t.Errorf("portal viewer = %+v", who)
				}
				if who.Kind == viewer.KindBridge && (who.OrderID != "ord_1" || who.Addr != "127.0.0.1") {
					t.Errorf("bridge viewer = %+v", who)
				}
			}
		})
	}
}

// TestPortalTokenChecks shapes access tokens the devidp would never issue.
func TestPortalTokenChecks(t *testing.T) {
	f := startFakeIdP(t)
	app := newApp(t, nil, func(cfg *Config) { cfg.Issuer = f.issuer })
	for _, tc := range []struct {
		name   string
		signer string
		typ    *string // header typ; nil: "JWT"
		shape  func(map[string]any)
		status int
		scopes []string
	}{
		{name: "ok/scope string", status: 200, scopes: []string{"cards:read", "other"}},
		{name: "ok/typ at+jwt (RFC 9068)", typ: ptr("at+jwt"), status: 200, scopes: []string{"cards:read", "other"}},
		{name: "ok/typ application/at+jwt", typ: ptr("application/at+jwt"), status: 200, scopes: []string{"cards:read", "other"}},
		{name: "ok/no typ", typ: ptr(""), status: 200, scopes: []string{"cards:read", "other"}},
		{name: "ok/iat within the skew", shape: func(c map[string]any) { c["iat"] = time.Now().Add(20 * time.Second).Unix() }, status: 200, scopes: []string{"cards:read", "other"}},
		{name: "error/iat in the future", shape: func(c map[string]any) { c["iat"] = time.Now().Add(10 * time.Minute).Unix() }, status: 401},
		{name: "error/typ of an ID token", typ: ptr("id_token+jwt"), status: 401},
		{name: "error/typ of a logout token", typ: ptr("logout+jwt"), status: 401},
		{name: "error/typ of a DPoP proof", typ: ptr("dpop+jwt"), status: 401},
		{name: "error/ID token with the API audience (nonce)", shape: func(c map[string]any) { c["nonce"] = "n-1" }, status: 401},
		{name: "error/Keycloak ID token (typ claim ID)", shape: func(c map[string]any) { c["typ"] = "ID" }, status: 401},
		{name: "ok/scp list (Entra ID style)", shape: func(c map[string]any) { delete(c, "scope"); c["scp"] = []string{"cards:read"} }, status: 200, scopes: []string{"cards:read"}},
		{name: "ok/ES256", signer: "ES256", status: 200, scopes: []string{"cards:read", "other"}},
		{name: "error/expired", shape: func(c map[string]any) { c["exp"] = time.Now().Add(-time.Minute).Unix() }, status: 401},
		{name: "error/wrong audience", shape: func(c map[string]any) { c["aud"] = "vscard" }, status: 401},
		{name: "error/wrong issuer", shape: func(c map[string]any) { c["iss"] = "https://evil.example" }, status: 401},
		{name: "error/no scope", shape: func(c map[string]any) { delete(c, "scope") }, status: 401},
		{name: "error/roles are not scopes unless configured", shape: func(c map[string]any) { delete(c, "scope"); c["roles"] = []string{"cards:read"} }, status: 401},
		{name: "error/scope prefix is not the scope", shape: func(c map[string]any) { c["scope"] = "cards:readwrite" }, status: 401},
		{name: "error/algorithm not allowed", signer: "RS512", status: 401},
		{name: "error/signed by another key", signer: "rogue", status: 401},
	} {
		t.Run(tc.name, func(t *testing.T) {
			typ := "JWT"
			if tc.typ != nil {
				typ = *tc.typ
			}
			status, who, body := callWhoami(t, http.DefaultClient, bearerRequest(http.MethodGet, app.URL+"/api/whoami", "Bearer "+f.accessTokenTyp(tc.signer, typ, tc.shape)))
			if status != tc.status {
				t.Fatalf("status %d, want %d: %s", status, tc.status, body)
			}
			if status == 200 && (who.Kind != viewer.KindPortal || who.Name != "fake-portal" || !slices.Equal(who.Scopes, tc.scopes)) {
				t.Errorf("viewer = %+v", who)
			}
		})
	}
}

func TestScopeClaims(t *testing.T) {
	f := startFakeIdP(t)
	app := newApp(t, nil, func(cfg *Config) {
		cfg.Issuer = f.issuer
		cfg.ScopeClaims = []string{"scp", "roles"} // Entra ID client credentials
	})
	token := f.accessToken("", func(c map[string]any) { delete(c, "scope"); c["roles"] = []string{"cards:read"} })
	if status, who, body := callWhoami(t, http.DefaultClient, bearerRequest(http.MethodGet, app.URL+"/api/whoami", "Bearer "+token)); status != 200 || !slices.Equal(who.Scopes, []string{"cards:read"}) {
		t.Fatalf("status %d: %s", status, body)
	}
	token = f.accessToken("", nil) // "scope" is no longer read
	if status, _, _ := callWhoami(t, http.DefaultClient, bearerRequest(http.MethodGet, app.URL+"/api/whoami", "Bearer "+token)); status != 401 {
		t.Fatalf("status %d", status)
	}
}

func TestBridgeAuthenticatorMissing(t *testing.T) {
	f := startFakeIdP(t)
	db := newTestDB(t)
	svc, err := New(Config{Issuer: f.issuer, ClientID: "vscard", PublicURL: "http://localhost"}, db.client, nil, quietLogger())
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc.authenticateBearer(context.Background(), "vsb_good", ""); err == nil {
		t.Fatal("bridge token accepted without an authenticator")
	}
}

// TestPortalTokenRemembered: a verified portal token is checked once and then served from
// memory, but only until it expires.
func TestPortalTokenRemembered(t *testing.T) {
	f := startFakeIdP(t)
	clock := testclock.New()
	app := newApp(t, nil, func(cfg *Config) { cfg.Issuer = f.issuer; cfg.Now = clock.Now })
	exp := clock.Now().Add(10 * time.Minute).Truncate(time.Second)
	token := f.accessToken("", func(c map[string]any) { c["exp"] = exp.Unix() })
	for i := range 3 {
		status, who, body := callWhoami(t, http.DefaultClient, bearerRequest(http.MethodGet, app.URL+"/api/whoami", "Bearer "+token))
		if status != 200 || who.Kind != viewer.KindPortal || who.Name != "fake-portal" || who.Addr != "127.0.0.1" {
			t.Fatalf("request %d: status %d, viewer %+v: %s", i, status, who, body)
		}
	}
	if n := app.svc.portals.Len(); n != 1 {
		t.Fatalf("%d tokens remembered, want 1", n)
	}
	clock.Advance(exp.Sub(clock.Now()) + time.Second)
	if status, _, body := callWhoami(t, http.DefaultClient, bearerRequest(http.MethodGet, app.URL+"/api/whoami", "Bearer "+token)); status != 401 {
		t.Fatalf("expired remembered token: status %d, want 401: %s", status, body)
	}
	if n := app.svc.portals.Len(); n != 0 {
		t.Fatalf("%d tokens remembered after expiry, want 0", n)
	}
}

func ptr[T any](v T) *T { return &v }
