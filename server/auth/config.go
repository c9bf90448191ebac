package auth

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// User states a new user may start in (ent user.State values).
const (
	StateRegistered = "REGISTERED"
	StateActive     = "ACTIVE"
	StateInactive   = "INACTIVE"
	StateLocked     = "LOCKED"
)

// Config is everything about sign-in that an operator can change. Zero values get the
// defaults documented on each field.
type Config struct {
	// Issuer is the OIDC issuer URL (VSCARD_OIDC_ISSUER).
	Issuer string
	// ClientID and ClientSecret are vscard's client at the provider
	// (VSCARD_OIDC_CLIENT_ID, VSCARD_OIDC_CLIENT_SECRET). An empty secret makes vscard a
	// public client, relying on PKCE alone.
	ClientID     string
	ClientSecret string
	// Scopes requested at sign-in (VSCARD_OIDC_SCOPES). Default: openid profile email.
	Scopes []string
	// SignatureAlgs are the ID and access token signature algorithms accepted
	// (VSCARD_OIDC_SIGNATURE_ALGS). Default: RS256, ES256.
	SignatureAlgs []string

	// PublicURL is where browsers reach vscard, e.g. https://vscard.example.com
	// (VSCARD_PUBLIC_URL). It decides the redirect URL, the cookie's Secure flag and
	// __Host- prefix, and the default allowed origin.
	PublicURL string
	// RedirectURL is the callback registered at the provider. Default:
	// PublicURL + "/auth/callback".
	RedirectURL string
	// PostLogoutRedirectURL is where the provider sends the browser after RP-initiated
	// logout. Default: PublicURL + "/".
	PostLogoutRedirectURL string
	// AllowedOrigins may send cookie-authenticated state-changing requests and open
	// WebSocket connections (VSCARD_ALLOWED_ORIGINS). Default: the origin of PublicURL.
	AllowedOrigins []string

	// RolesClaim names the ID token claim with the user's groups or roles
	// (VSCARD_OIDC_ROLES_CLAIM), default "groups". A dotted path reaches into objects,
	// e.g. "realm_access.roles" for Keycloak realm roles.
	RolesClaim string
	// AdminGroup is the value of RolesClaim that makes a user an administrator
	// (VSCARD_OIDC_ADMIN_GROUP), default "vscard-admins". The value "admin" does too.
	AdminGroup string
	// OperatorGroup is the value of RolesClaim that makes a user an operator, the help
	// desk that looks after other people's cards (VSCARD_OIDC_OPERATOR_GROUP), default
	// "vscard-operators". The value "operator" does too; administrators are operators.
	OperatorGroup string

	// APIAudience is the audience portal access tokens must carry (VSCARD_API_AUDIENCE),
	// default "vscard-api".
	APIAudience string
	// PortalScope is the scope portal access tokens must carry (VSCARD_API_SCOPE),
	// default "cards:read".
	PortalScope string
	// ScopeClaims name the access token claims that hold granted scopes, as a
	// space-separated string or a list (VSCARD_API_SCOPE_CLAIMS). Default: scope, scp.
	// Entra ID puts application permissions of client-credential tokens in "roles".
	ScopeClaims []string

	// DefaultUserState is the state of a user on first sign-in
	// (VSCARD_DEFAULT_USER_STATE): REGISTERED unless set; the development setup uses
	// ACTIVE. Existing users keep their state.
	DefaultUserState string
	// InitialStates overrides DefaultUserState for new users by OIDC subject. The
	// development setup fills it from devidp.Provider.InitialStates (bob starts
	// INACTIVE).
	InitialStates map[string]string

	// IdleTimeout ends a session after this long without a request
	// (VSCARD_SESSION_IDLE_TIMEOUT), default 30 minutes.
	IdleTimeout time.Duration
	// Lifetime ends a session this long after sign-in whatever happens
	// (VSCARD_SESSION_LIFETIME), default 12 hours.
	Lifetime time.Duration
	// CleanupInterval is how often expired session rows are deleted, default 5 minutes.
	CleanupInterval time.Duration
	// SessionCheckInterval is how often an open WebSocket checks that its session or
	// token is still good, default 30 seconds.
	SessionCheckInterval time.Duration

	// TrustedProxies are the load balancers whose X-Forwarded-For header names the client
	// in the audit log and the logs (VSCARD_TRUSTED_PROXIES). Default: none, the header
	// is ignored and the TCP peer is the client.
	TrustedProxies TrustedProxies

	// LoginStateKeys seal the cookie that carries a sign-in's state, nonce, PKCE verifier
	// and return path from /auth/login to /auth/callback; each at least 32 bytes. The
	// first seals, all open (rotation). Every instance behind one public URL needs the
	// same keys; server derives them from the secret key (--secret-key). Default: a random
	// key, which suits a single instance (a restart only fails sign-ins under way).
	LoginStateKeys [][]byte

	// Now is the clock of sessions (idle timeout, lifetime), token checks and sign-in
	// state: server.Config.Now. Default: time.Now.
	Now func() time.Time

	// HTTPClient talks to the provider (discovery, JWKS, token endpoint). Default: a
	// client with a 15 second timeout.
	HTTPClient *http.Client
}

// withDefaults returns a copy of c with every zero value replaced by its default.
func (c Config) withDefaults() Config {
	c.Issuer = strings.TrimSuffix(c.Issuer, "/")
	c.PublicURL = strings.TrimSuffix(c.PublicURL, "/")
	if len(c.Scopes) == 0 {
		c.Scopes = []string{"openid", "profile", "email"}
	}
	if !slices.Contains(c.Scopes, "openid") {
		c.Scopes = append([]string{"openid"}, c.Scopes...)
	} else {
		c.Scopes = slices.Clone(c.Scopes)
	}
	if len(c.SignatureAlgs) == 0 {
		c.SignatureAlgs = []string{"RS256", "ES256"}
	}
	if c.RedirectURL == "" {
		c.RedirectURL = c.PublicURL + "/auth/callback"
	}
	if c.PostLogoutRedirectURL == "" {
		c.PostLogoutRedirectURL = c.PublicURL + "/"
	}
	if len(c.AllowedOrigins) == 0 {
		if o := originOf(c.PublicURL); o != "" {
			c.AllowedOrigins = []string{o}
		}
	}
	c.AllowedOrigins = slices.Clone(c.AllowedOrigins)
	for i, o := range c.AllowedOrigins {
		c.AllowedOrigins[i] = strings.TrimSuffix(o, "/")
	}
	if c.RolesClaim == "" {
		c.RolesClaim = "groups"
	}
	if c.AdminGroup == "" {
		c.AdminGroup = "vscard-admins"
	}
	if c.OperatorGroup == "" {
		c.OperatorGroup = "vscard-operators"
	}
	if c.APIAudience == "" {
		c.APIAudience = "vscard-api"
	}
	if c.PortalScope == "" {
		c.PortalScope = "cards:read"
	}
	if len(c.ScopeClaims) == 0 {
		c.ScopeClaims = []string{"scope", "scp"}
	}
	if c.DefaultUserState == "" {
		c.DefaultUserState = StateRegistered
	}
	if c.IdleTimeout == 0 {
		c.IdleTimeout = 30 * time.Minute
	}
	if c.Lifetime == 0 {
		c.Lifetime = 12 * time.Hour
	}
	if c.CleanupInterval == 0 {
		c.CleanupInterval = 5 * time.Minute
	}
	if c.SessionCheckInterval == 0 {
		c.SessionCheckInterval = 30 * time.Second
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{Timeout: 15 * time.Second}
	}
	return c
}

func (c Config) validate() error {
	var errs []error
	if u, err := url.Parse(c.Issuer); err != nil || u.Host == "" {
		errs = append(errs, fmt.Errorf("issuer %q is not an absolute URL", c.Issuer))
	}
	if c.ClientID == "" {
		errs = append(errs, errors.New("client id is required"))
	}
	if originOf(c.PublicURL) == "" {
		errs = append(errs, fmt.Errorf("public URL %q is not an absolute http(s) URL", c.PublicURL))
	}
	if !validState(c.DefaultUserState) {
		errs = append(errs, fmt.Errorf("default user state %q is not a user state", c.DefaultUserState))
	}
	for sub, s := range c.InitialStates {
		if !validState(s) {
			errs = append(errs, fmt.Errorf("initial state %q of subject %q is not a user state", s, sub))
		}
	}
	if c.IdleTimeout < 0 || c.Lifetime < 0 || c.IdleTimeout > c.Lifetime {
		errs = append(errs, errors.New("session timeouts must be positive, the idle timeout no longer than the lifetime"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("check auth config: %w", err)
	}
	return nil
}

func validState(s string) bool {
	switch s {
	case StateRegistered, StateActive, StateInactive, StateLocked:
		return true
	}
	return false
}

// secure reports whether the public URL is https, so the cookie can be Secure and
// __Host- prefixed.
func (c Config) secure() bool { return strings.HasPrefix(c.PublicURL, "https://") }

// originOf returns scheme://host[:port] of an absolute http(s) URL, or "".
func originOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return ""
	}
	return u.Scheme + "://" + u.Host
}
