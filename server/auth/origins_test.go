package auth

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
)

// TestProviderOrigins: the page's form-action must let sign-out's redirect reach the
// provider. Before discovery that is the issuer's origin; once discovery has found an
// end_session_endpoint elsewhere, that origin too, each once.
func TestProviderOrigins(t *testing.T) {
	mux := http.NewServeMux()
	idp := httptest.NewServer(mux)
	t.Cleanup(idp.Close)
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{
			"issuer":                 idp.URL,
			"authorization_endpoint": idp.URL + "/authorize",
			"token_endpoint":         idp.URL + "/token",
			"jwks_uri":               idp.URL + "/keys",
			"end_session_endpoint":   "https://logout.example.net/end?tenant=1",
		})
	})
	app := newApp(t, nil, func(cfg *Config) { cfg.Issuer = idp.URL + "/" })
	if got, want := app.svc.ProviderOrigins(), []string{idp.URL}; !slices.Equal(got, want) {
		t.Fatalf("before discovery: %q, want %q", got, want)
	}
	if _, err := app.svc.provider.get(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got, want := app.svc.ProviderOrigins(), []string{idp.URL, "https://logout.example.net"}; !slices.Equal(got, want) {
		t.Fatalf("after discovery: %q, want %q", got, want)
	}
}
