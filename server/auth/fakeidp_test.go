package auth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// fakeIdP is a minimal OIDC provider whose tokens a test shapes at will: discovery, JWKS,
// an authorize endpoint that signs everyone in at once, and a token endpoint that checks
// PKCE and returns an ID token built by mint. It is for the cases a correct provider
// never produces: wrong nonce, audience or issuer, expired or badly signed tokens.
type fakeIdP struct {
	tb     testing.TB
	issuer string
	rsa    *rsa.PrivateKey
	ec     *ecdsa.PrivateKey
	rogue  *rsa.PrivateKey // same kid as rsa, not in the JWKS

	mu     sync.Mutex
	codes  map[string]fakeAuth
	shape  func(claims map[string]any) // changes the ID token's claims
	signer string                      // "RS256" (default), "ES256", "RS512", "rogue"
}

type fakeAuth struct {
	nonce, challenge, clientID string
}

func startFakeIdP(tb testing.TB) *fakeIdP {
	tb.Helper()
	srv, lh := newLateServer(tb)
	f := &fakeIdP{tb: tb, issuer: srv.URL, codes: map[string]fakeAuth{}}
	var err error
	if f.rsa, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		tb.Fatal(err)
	}
	if f.rogue, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		tb.Fatal(err)
	}
	if f.ec, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
		tb.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", f.discovery)
	mux.HandleFunc("GET /keys", f.keys)
	mux.HandleFunc("GET /authorize", f.authorize)
	mux.HandleFunc("POST /token", f.token)
	lh.set(mux)
	return f
}

// set chooses how the next ID tokens look.
func (f *fakeIdP) set(signer string, shape func(map[string]any)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.signer, f.shape = signer, shape
}

func (f *fakeIdP) discovery(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                f.issuer,
		"authorization_endpoint":                f.issuer + "/authorize",
		"token_endpoint":                        f.issuer + "/token",
		"jwks_uri":                              f.issuer + "/keys",
		"id_token_signing_alg_values_supported": []string{"RS256", "ES256", "RS512"},
	})
}

func (f *fakeIdP) keys(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{
		{Key: &f.rsa.PublicKey, KeyID: "rsa", Use: "sig"},
		{Key: &f.ec.PublicKey, KeyID: "ec", Use: "sig", Algorithm: "ES256"},
	}})
}

func (f *fakeIdP) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" {
		http.Error(w, "PKCE S256 required", http.StatusBadRequest)
		return
	}
	code := rand.Text()
	f.mu.Lock()
	f.codes[code] = fakeAuth{nonce: q.Get("nonce"), challenge: q.Get("code_challenge"), clientID: q.Get("client_id")}
	f.mu.Unlock()
	to, _ := url.Parse(q.Get("redirect_uri"))
	to.RawQuery = url.Values{"code": {code}, "state": {q.Get("state")}}.Encode()
	http.Redirect(w, r, to.String(), http.StatusFound)
}

func (f *fakeIdP) token(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	f.mu.Lock()
	auth, ok := f.codes[r.PostForm.Get("code")]
	delete(f.codes, r.PostForm.Get("code"))
	f.mu.Unlock()
	sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
	if !ok || base64.RawURLEncoding.EncodeToString(sum[:]) != auth.challenge {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant"})
		return
	}
	now := time.Now()
	claims := map[string]any{
		"iss": f.issuer, "sub": "fake-subject", "aud": auth.clientID,
		"iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(),
		"nonce": auth.nonce, "preferred_username": "frank", "email": "frank@fake.test",
		"groups": []string{"staff"},
	}
	f.mu.Lock()
	shape, signer := f.shape, f.signer
	f.mu.Unlock()
	if shape != nil {
		shape(claims)
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token": "opaque-access-token",
		"token_type":   "Bearer",
		"expires_in":   300,
		"id_token":     f.sign(signer, claims),
	})
}

// sign returns claims as a JWS signed the way signer says, with header typ "JWT".
func (f *fakeIdP) sign(signer string, claims map[string]any) string {
	f.tb.Helper()
	return f.signTyp(signer, "JWT", claims)
}

// signTyp is sign with the header's typ; "" leaves typ out.
func (f *fakeIdP) signTyp(signer, typ string, claims map[string]any) string {
	f.tb.Helper()
	var key jose.SigningKey
	switch signer {
	case "", "RS256":
		key = jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: f.rsa, KeyID: "rsa"}}
	case "RS512":
		key = jose.SigningKey{Algorithm: jose.RS512, Key: jose.JSONWebKey{Key: f.rsa, KeyID: "rsa"}}
	case "ES256":
		key = jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: f.ec, KeyID: "ec"}}
	case "rogue":
		key = jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: f.rogue, KeyID: "rsa"}}
	default:
		f.tb.Fatalf("unknown signer %q", signer)
	}
	opts := &jose.SignerOptions{}
	if typ != "" {
		opts = opts.WithType(jose.ContentType(typ))
	}
	s, err := jose.NewSigner(key, opts)
	if err != nil {
		f.tb.Fatal(err)
	}
	payload, _ := json.Marshal(claims)
	jws, err := s.Sign(payload)
	if err != nil {
		f.tb.Fatal(err)
	}
	out, err := jws.CompactSerialize()
	if err != nil {
		f.tb.Fatal(err)
	}
	return out
}

// accessToken mints a portal access token with the API audience and cards:read, shaped
// by shape.
func (f *fakeIdP) accessToken(signer string, shape func(map[string]any)) string {
	return f.accessTokenTyp(signer, "JWT", shape)
}

// accessTokenTyp is accessToken with the header's typ ("" for none).
func (f *fakeIdP) accessTokenTyp(signer, typ string, shape func(map[string]any)) string {
	now := time.Now()
	claims := map[string]any{
		"iss": f.issuer, "sub": "portal-client", "aud": []string{"vscard-api"},
		"iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(),
		"client_id": "fake-portal", "scope": "cards:read other",
	}
	if shape != nil {
		shape(claims)
	}
	return f.signTyp(signer, typ, claims)
}
