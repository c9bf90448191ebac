package devidp

import (
	_ "embed"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
)

//go:embed users.yaml
var defaultUsers []byte

// Config configures the development identity provider.
type Config struct {
	// Issuer is the provider's issuer URL, including the path it is mounted under, e.g.
	// http://localhost:8080/dev/idp. The handler serves the paths below that prefix.
	Issuer string

	// ClientID and ClientSecret identify vscard's own web client (the browser login).
	// ClientID defaults to "vscard". An empty ClientSecret makes it a public client; PKCE
	// is required either way.
	ClientID     string
	ClientSecret string
	// RedirectURIs are the web client's allowed redirect URIs (e.g.
	// http://localhost:8080/auth/callback).
	RedirectURIs []string
	// PostLogoutRedirectURIs are the web client's allowed post_logout_redirect_uri values.
	PostLogoutRedirectURIs []string

	// PortalClients may use the client credentials grant (third-party portals).
	PortalClients []PortalClient
	// APIAudience is the audience of portal access tokens, default "vscard-api".
	APIAudience string

	// UsersFile is a YAML file with the demo users; empty means the embedded users.yaml.
	// Users, when not nil, is used instead of either.
	UsersFile string
	Users     []User

	// KeyFile is where the signing key is kept (PEM, PKCS#8). When set, the key is created
	// on first start and reused afterwards, so tokens and sessions survive a restart. When
	// empty, a fresh key is generated at every start.
	KeyFile string
	// CryptoKey encrypts the provider's opaque tokens. Zero means a random key per start.
	CryptoKey [32]byte

	// TokenLifetime is the lifetime of ID and access tokens, default 15 minutes.
	TokenLifetime time.Duration

	// Production says the server runs in production mode; New then refuses to start
	// unless AllowInProduction is set too.
	Production        bool
	AllowInProduction bool

	// Logger receives the start-up warning and login events; nil means slog.Default().
	Logger *slog.Logger
}

// PortalClient is a confidential client that gets JWT access tokens with client credentials.
type PortalClient struct {
	ID     string `yaml:"id" json:"id"`
	Secret string `yaml:"secret" json:"secret"`
	// Scopes are the scopes the client may be granted. A token request without a scope
	// parameter gets all of them.
	Scopes []string `yaml:"scopes" json:"scopes"`
	// Audience overrides Config.APIAudience for this client.
	Audience string `yaml:"audience" json:"audience"`
}

// User is a demo user.
type User struct {
	Username string `yaml:"username" json:"username"`
	Subject  string `yaml:"subject" json:"subject"`
	Password string `yaml:"password" json:"password"`
	Name     string `yaml:"name" json:"name"`
	Email    string `yaml:"email" json:"email"`
	// State is the vscard user state the user starts in; see Provider.InitialStates.
	State  string         `yaml:"state" json:"state"`
	Groups []string       `yaml:"groups" json:"groups"`
	Claims map[string]any `yaml:"claims" json:"claims"`
}

type usersFile struct {
	Users []User `yaml:"users"`
}

// ErrProduction is returned by New when the configuration says production and the
// development identity provider was not explicitly allowed there.
var ErrProduction = errors.New("the development identity provider is disabled in production (set AllowInProduction to override)")

func (c *Config) withDefaults() Config {
	out := *c
	if out.ClientID == "" {
		out.ClientID = "vscard"
	}
	if out.APIAudience == "" {
		out.APIAudience = "vscard-api"
	}
	if out.TokenLifetime == 0 {
		out.TokenLifetime = 15 * time.Minute
	}
	if out.Logger == nil {
		out.Logger = slog.Default()
	}
	out.Issuer = strings.TrimSuffix(out.Issuer, "/")
	return out
}

func (c *Config) validate() error {
	if c.Production && !c.AllowInProduction {
		return ErrProduction
	}
	u, err := url.Parse(c.Issuer)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return fmt.Errorf("check issuer %q: want an absolute http(s) URL", c.Issuer)
	}
	for _, pc := range c.PortalClients {
		if pc.ID == "" || pc.Secret == "" {
			return fmt.Errorf("check portal client %q: id and secret are required", pc.ID)
		}
		if pc.ID == c.ClientID {
			return fmt.Errorf("check portal client %q: same id as the web client", pc.ID)
		}
	}
	return nil
}

// loadUsers returns the configured users, the users file, or the embedded default.
func (c *Config) loadUsers() ([]User, error) {
	users := slices.Clone(c.Users)
	if users == nil {
		raw := defaultUsers
		if c.UsersFile != "" {
			b, err := os.ReadFile(c.UsersFile)
			if err != nil {
				return nil, fmt.Errorf("read users file: %w", err)
			}
			raw = b
		}
		var f usersFile
		if err := yaml.Unmarshal(raw, &f); err != nil {
			return nil, fmt.Errorf("parse users file: %w", err)
		}
		users = f.Users
	}
	seen := map[string]bool{}
	for i, u := range users {
		if u.Username == "" || u.Password == "" {
			return nil, fmt.Errorf("check user %d: username and password are required", i+1)
		}
		if u.Subject == "" {
			users[i].Subject = u.Username
		}
		key := strings.ToLower(u.Username)
		if seen[key] || seen["sub:"+users[i].Subject] {
			return nil, fmt.Errorf("check user %q: duplicate username or subject", u.Username)
		}
		seen[key], seen["sub:"+users[i].Subject] = true, true
	}
	return users, nil
}
