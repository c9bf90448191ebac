package server

import (
	"time"

	"github.com/vscard/vscard/graph"
	"github.com/vscard/vscard/server/enroll"
	"github.com/vscard/vscard/server/notices"
)

// Config is everything the server can be told. cmd/vscard-server fills it from flags and
// VSCARD_* environment variables; the zero values of optional fields are the embedded
// development defaults.
type Config struct {
	// Addr is where to listen, e.g. ":8080". Empty: ":8080" (every interface), or
	// "127.0.0.1:8080" (loopback) while the development identity provider is on, because
	// its demo users' passwords, the administrator's too, are public.
	Addr string
	// PublicURL is how browsers and desktop bridges reach this server (no trailing slash).
	PublicURL string
	// DataDir holds the SQLite database, the CA files and generated keys.
	DataDir string
	// DatabaseURL is a postgres:// URL or a SQLite file; empty means DataDir/vscard.db.
	DatabaseURL string
	// DatabaseMaxConns bounds the connections this instance opens to the database, besides
	// the one that listens for events on PostgreSQL (0: store.DefaultMaxConns).
	DatabaseMaxConns int
	// Production turns off development conveniences (the embedded identity provider,
	// generated secret key, new users ACTIVE).
	Production bool

	// SecretKey (64 hex characters) encrypts card management keys and PUKs at rest;
	// PreviousSecretKeys still open values sealed before a rotation. Empty in development:
	// a key is generated into DataDir/secret.key.
	SecretKey          string
	PreviousSecretKeys []string

	// Organization names the embedded CA and goes into certificates.
	Organization string
	// CAPassphrase encrypts the CA key files.
	CAPassphrase string

	// OIDC: an external provider. Empty Issuer in development uses the embedded one.
	OIDCIssuer       string
	OIDCClientID     string
	OIDCClientSecret string
	OIDCScopes       []string
	SignatureAlgs    []string
	RolesClaim       string
	AdminGroup       string
	OperatorGroup    string
	APIAudience      string
	APIScope         string
	ScopeClaims      []string
	AllowedOrigins   []string
	DefaultUserState string
	// SessionIdleTimeout and SessionLifetime end browser sessions (defaults 30m / 12h).
	SessionIdleTimeout time.Duration
	SessionLifetime    time.Duration

	// DevIDP runs the embedded development identity provider at /dev/idp. It is on in
	// development when no OIDCIssuer is set; AllowDevIDPInProduction forces it.
	DevIDPUsersFile         string
	AllowDevIDPInProduction bool

	// AllowIntrospection opens GraphQL introspection to everyone (default: admins only).
	AllowIntrospection bool
	// GraphQLLimits bound what one GraphQL request may ask for (zero fields: the defaults
	// in graph.DefaultLimits); GraphQLTimeout ends a query or mutation that runs longer
	// (default graph.DefaultRequestTimeout).
	GraphQLLimits  graph.Limits
	GraphQLTimeout time.Duration
	// SweepInterval is how often stale orders are expired.
	SweepInterval time.Duration
	// TokenTTL is how long a hand-off link works.
	TokenTTL time.Duration
	// OrderIdleTTL is how long an order may sit in one state.
	OrderIdleTTL time.Duration
	// Limits bound claim attempts per order and order starts per user.
	Limits enroll.Limits
	// AttestationRootsFile (PEM) makes the server verify card attestations before issuing.
	AttestationRootsFile string
	// TPMRootsFile (PEM) holds the TPM manufacturers' roots (and intermediates) that a
	// TPM's endorsement key certificate must chain to for its keys to count as
	// TPM_ATTESTED (server/tpmverify).
	TPMRootsFile string
	// TrustedProxies are CIDR prefixes or single addresses of the load balancers in front of
	// the server; only from them is X-Forwarded-For believed for the client's address.
	// Empty: the TCP peer is the client.
	TrustedProxies []string
	// ShutdownDelay is how long an instance told to stop keeps serving while /readyz
	// already reports it shutting down, so that a load balancer that learns of it from
	// health checks stops sending it requests first (default 0: stop listening at once).
	ShutdownDelay time.Duration
	// MetricsAddr, when set, is where Prometheus metrics are served (GET /metrics), apart
	// from the public listener: keep it off the load balancer.
	MetricsAddr string

	// SMTP is where renewal notices are e-mailed from (STARTTLS or implicit TLS, and AUTH
	// PLAIN when a username is set). Without SMTP.Host no e-mail goes out: a card due for
	// renewal is an open task on its owner's start page only.
	SMTP notices.SMTP
	// NoticeTemplates is a folder whose renewal.subject.tmpl and renewal.body.tmpl
	// (text/template) replace the embedded notice templates; either may be left out.
	NoticeTemplates string
	// NoticeRate is how many notices a second this instance sends at most (default 5).
	NoticeRate float64
	// ExpiryCheckInterval is how often the expiry check runs in the cluster (default 1h);
	// ExpiryPoll how often each instance looks whether it is its turn and sends due
	// notices (default 1m).
	ExpiryCheckInterval time.Duration
	ExpiryPoll          time.Duration
	// TestClock makes the clock movable by POST /test/clock?advance=<duration>, which
	// then runs the expiry check: for end-to-end tests of expiries. Refused in production.
	TestClock bool

	// Now is the server's clock: everything that decides by the time of day reads it
	// (sessions and their idle timeout, tokens, orders and their sweep, the CA's stamps).
	// Tests move it (server/testclock) instead of sleeping until something expires.
	// Default: time.Now.
	Now func() time.Time
}

func (c *Config) defaults() {
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Addr == "" {
		c.Addr = ":8080"
		if c.devIDP() {
			c.Addr = "127.0.0.1:8080"
		}
	}
	if c.PublicURL == "" {
		c.PublicURL = "http://localhost:8080"
	}
	if c.DataDir == "" {
		c.DataDir = "data"
	}
	if c.Organization == "" {
		c.Organization = "vscard Demo"
	}
	if c.SweepInterval == 0 {
		c.SweepInterval = 30 * time.Second
	}
	if c.APIAudience == "" {
		c.APIAudience = "vscard-api"
	}
	if c.APIScope == "" {
		c.APIScope = "cards:read"
	}
	if c.OIDCClientID == "" {
		c.OIDCClientID = "vscard"
	}
}

// devIDP reports whether the embedded identity provider runs.
func (c *Config) devIDP() bool {
	return c.OIDCIssuer == "" && (!c.Production || c.AllowDevIDPInProduction)
}
