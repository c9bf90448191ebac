package devidp

import (
	"crypto/rand"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// Provider is the running development identity provider. It is an http.Handler for the
// issuer's path and everything below it: mount it at that path, e.g.
//
//	mux.Handle("/dev/idp/", idp)
type Provider struct {
	issuer  string
	prefix  string
	mux     *http.ServeMux
	users   []User
	clients []*client
	cookies browserCookie
}

// New starts the development identity provider. It refuses to when cfg.Production is set
// and cfg.AllowInProduction is not, and logs a warning either way.
func New(cfg Config) (*Provider, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	users, err := cfg.loadUsers()
	if err != nil {
		return nil, err
	}
	key, err := loadOrCreateKey(cfg.KeyFile)
	if err != nil {
		return nil, err
	}
	issuerURL, _ := url.Parse(cfg.Issuer) // validated above
	p := &Provider{
		issuer: cfg.Issuer,
		prefix: strings.TrimSuffix(issuerURL.Path, "/"),
		mux:    http.NewServeMux(),
		users:  users,
	}
	loginURL := func(id string) string { return p.issuer + "/login?authRequestID=" + url.QueryEscape(id) }
	p.clients = append(p.clients, &client{
		id:           cfg.ClientID,
		secret:       cfg.ClientSecret,
		redirectURIs: cfg.RedirectURIs,
		postLogout:   cfg.PostLogoutRedirectURIs,
		grantTypes:   []oidc.GrantType{oidc.GrantTypeCode},
		tokenType:    op.AccessTokenTypeBearer,
		loginURL:     loginURL,
		lifetime:     cfg.TokenLifetime,
	})
	for _, pc := range cfg.PortalClients {
		aud := pc.Audience
		if aud == "" {
			aud = cfg.APIAudience
		}
		p.clients = append(p.clients, &client{
			id:         pc.ID,
			secret:     pc.Secret,
			grantTypes: []oidc.GrantType{oidc.GrantTypeClientCredentials},
			tokenType:  op.AccessTokenTypeJWT,
			lifetime:   cfg.TokenLifetime,
			scopes:     pc.Scopes,
			audience:   aud,
		})
	}
	store := newStorage(key, cfg.TokenLifetime, p.clients, users)

	cryptoKey := cfg.CryptoKey
	if cryptoKey == ([32]byte{}) {
		if _, err := rand.Read(cryptoKey[:]); err != nil {
			return nil, fmt.Errorf("generate crypto key: %w", err)
		}
	}
	opts := []op.Option{}
	if issuerURL.Scheme == "http" {
		opts = append(opts, op.WithAllowInsecure())
	}
	provider, err := op.NewProvider(&op.Config{
		CryptoKey:                cryptoKey,
		DefaultLogoutRedirectURI: p.issuer + "/logged-out",
		CodeMethodS256:           true,
		AuthMethodPost:           true,
	}, store, op.StaticIssuer(p.issuer), opts...)
	if err != nil {
		return nil, fmt.Errorf("create OpenID provider: %w", err)
	}

	p.cookies = browserCookie{path: p.prefix + "/", secure: issuerURL.Scheme == "https"}
	login := &loginHandler{
		path:    p.prefix + "/login",
		cookies: p.cookies,
		storage: store,
		users:   users,
		callback: func(r *http.Request, id string) string {
			return op.AuthCallbackURL(provider)(op.ContextWithIssuer(r.Context(), p.issuer), id)
		},
		logger: cfg.Logger,
	}
	p.mux.Handle("/login", login)
	p.mux.HandleFunc("/logged-out", loggedOut)
	p.mux.Handle("/", provider)

	cfg.Logger.Warn("development identity provider enabled: demo users with public passwords can sign in; point vscard at a real OIDC provider in production",
		"issuer", p.issuer, "users", len(users), "portal_clients", len(cfg.PortalClients))
	return p, nil
}

// ServeHTTP serves the provider's endpoints below the issuer's path. end_session ends the
// browser's session with the provider (and the user's others), so that the next sign-in
// asks for the password again.
func (p *Provider) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if browser := p.cookies.read(r); browser != "" {
		r = r.WithContext(withBrowser(r.Context(), browser))
		if strings.TrimPrefix(r.URL.Path, p.prefix) == "/end_session" {
			p.cookies.set(w, "")
		}
	}
	http.StripPrefix(p.prefix, p.mux).ServeHTTP(w, r)
}

// Issuer returns the issuer URL, as it appears in discovery and in tokens.
func (p *Provider) Issuer() string { return p.issuer }

// InitialStates maps each demo user's subject to the vscard state it should start in
// (users without a state are left out). Hand it to auth.Config.InitialStates: the state
// lives in vscard's database, not in the identity provider's tokens.
func (p *Provider) InitialStates() map[string]string {
	out := map[string]string{}
	for _, u := range p.users {
		if u.State != "" {
			out[u.Subject] = strings.ToUpper(u.State)
		}
	}
	return out
}

func loggedOut(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("You are signed out of the development identity provider.\n"))
}
