// Command vscard-server runs vscard: the Self-Service portal, the GraphQL API, the
// embedded CA and, in development, an embedded OIDC provider with demo users.
//
// Every flag has a VSCARD_* environment variable; `vscard-server --help` lists them.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/alecthomas/kong"

	"github.com/vscard/vscard/server"
	"github.com/vscard/vscard/server/notices"
	"github.com/vscard/vscard/server/store"
)

// cli is the command line. kong keeps flag, environment variable, default and help text
// together in one tag.
type cli struct {
	Serve   serveCmd   `cmd:"" default:"withargs" help:"Run the server (default)."`
	Migrate migrateCmd `cmd:"" help:"Bring the database schema up to date and exit."`
	Check   checkCmd   `cmd:"" help:"Say which settings production still needs (secret key, identity provider, public URL), without starting the server."`

	RotateSecrets rotateCmd `cmd:"" name:"rotate-secrets" help:"Re-seal card management keys and PUKs under the current --secret-key (keep the old one in --previous-secret-keys while this runs)."`

	LogLevel  string `env:"VSCARD_LOG_LEVEL" default:"info" enum:"debug,info,warn,error" help:"Log level."`
	LogFormat string `env:"VSCARD_LOG_FORMAT" default:"text" enum:"text,json" help:"Log format."`
}

type common struct {
	DataDir     string `env:"VSCARD_DATA_DIR" default:"data" help:"Folder for the SQLite database, CA files and generated keys."`
	DatabaseURL string `env:"VSCARD_DATABASE_URL" help:"postgres:// URL or SQLite file (default: <data-dir>/vscard.db)."`
}

type serveCmd struct {
	common
	Addr string `env:"VSCARD_ADDR" help:"Listen address (default :8080; 127.0.0.1:8080, loopback only, while the development identity provider with its public demo passwords is on)."`
	// Only the server has this flag: migrate runs with the default pool.
	DatabaseMaxConns int    `env:"VSCARD_DATABASE_MAX_CONNS" default:"${dbMaxConns}" help:"Most connections this instance opens to the database, besides PostgreSQL's event listener. Across all instances, 2-4 per PostgreSQL core."`
	PublicURL        string `env:"VSCARD_PUBLIC_URL" default:"http://localhost:8080" help:"URL browsers and desktop bridges use to reach this server."`
	Production       bool   `env:"VSCARD_PRODUCTION" help:"Turn off development defaults (embedded identity provider, generated secret key, new users ACTIVE)."`

	SecretKey          string   `env:"VSCARD_SECRET_KEY" help:"64 hex characters; encrypts card management keys and PUKs at rest."`
	PreviousSecretKeys []string `env:"VSCARD_PREVIOUS_SECRET_KEYS" help:"Keys in use before a rotation (comma-separated)."`
	Organization       string   `env:"VSCARD_ORGANIZATION" default:"vscard Demo" help:"Organisation name of the embedded CA."`
	CAPassphrase       string   `env:"VSCARD_CA_PASSPHRASE" help:"Encrypts the CA key files."`

	OIDCIssuer         string        `name:"oidc-issuer" env:"VSCARD_OIDC_ISSUER" help:"OIDC provider issuer URL (empty in development: the embedded provider)."`
	OIDCClientID       string        `name:"oidc-client-id" env:"VSCARD_OIDC_CLIENT_ID" help:"OIDC client id of the portal."`
	OIDCClientSecret   string        `name:"oidc-client-secret" env:"VSCARD_OIDC_CLIENT_SECRET" help:"OIDC client secret (empty: public client with PKCE)."`
	OIDCScopes         []string      `name:"oidc-scopes" env:"VSCARD_OIDC_SCOPES" help:"Scopes to request (default openid,profile,email)."`
	SignatureAlgs      []string      `name:"oidc-signature-algs" env:"VSCARD_OIDC_SIGNATURE_ALGS" help:"Accepted token signature algorithms (default RS256,ES256)."`
	RolesClaim         string        `name:"oidc-roles-claim" env:"VSCARD_OIDC_ROLES_CLAIM" help:"Claim with the user's groups or roles; a dotted path reaches into objects (default groups)."`
	AdminGroup         string        `name:"oidc-admin-group" env:"VSCARD_OIDC_ADMIN_GROUP" help:"Value of that claim that makes an administrator (default vscard-admins)."`
	OperatorGroup      string        `name:"oidc-operator-group" env:"VSCARD_OIDC_OPERATOR_GROUP" help:"Value of that claim that makes an operator, who looks after other people's cards (default vscard-operators)."`
	APIAudience        string        `env:"VSCARD_API_AUDIENCE" default:"vscard-api" help:"Audience of portal access tokens."`
	APIScope           string        `env:"VSCARD_API_SCOPE" default:"cards:read" help:"Scope that allows card-status look-ups."`
	APIScopeClaims     []string      `env:"VSCARD_API_SCOPE_CLAIMS" help:"Claims that hold granted scopes (default scope,scp; add roles for Entra ID)."`
	SessionIdleTimeout time.Duration `env:"VSCARD_SESSION_IDLE_TIMEOUT" default:"30m" help:"A session ends after this long without a request."`
	SessionLifetime    time.Duration `env:"VSCARD_SESSION_LIFETIME" default:"12h" help:"A session ends this long after sign-in."`
	AllowedOrigins     []string      `env:"VSCARD_ALLOWED_ORIGINS" help:"Origins allowed for cookie-authenticated requests and WebSockets (default: the public URL's)."`
	DefaultUserState   string        `env:"VSCARD_DEFAULT_USER_STATE" enum:",REGISTERED,ACTIVE" default:"" help:"State of new users (default ACTIVE in development, REGISTERED in production)."`

	DevIDPUsers             string `name:"devidp-users" env:"VSCARD_DEVIDP_USERS" help:"YAML file with the embedded provider's demo users."`
	AllowDevIDPInProduction bool   `name:"allow-devidp-in-production" env:"VSCARD_ALLOW_DEVIDP_IN_PRODUCTION" help:"Run the embedded provider even in production (demos only)."`

	AllowIntrospection   bool          `env:"VSCARD_ALLOW_INTROSPECTION" help:"Allow GraphQL introspection for everyone (default: administrators only)."`
	TokenTTL             time.Duration `env:"VSCARD_TOKEN_TTL" default:"10m" help:"How long a Desktop App hand-off link works."`
	OrderIdleTTL         time.Duration `env:"VSCARD_ORDER_IDLE_TTL" default:"30m" help:"How long an order may wait in one step before it expires."`
	SweepInterval        time.Duration `env:"VSCARD_SWEEP_INTERVAL" default:"30s" help:"How often expired orders are swept."`
	AttestationRootsFile string        `env:"VSCARD_ATTESTATION_ROOTS" help:"PEM file of card attestation roots; when set, attestations must verify."`
	TPMRoots             string        `name:"tpm-roots" env:"VSCARD_TPM_ROOTS" help:"PEM file of TPM manufacturer roots (and their intermediates) that endorsement key certificates must chain to for KEY_PROTECTION = TPM (default: none, no TPM counts as attested)."`
	TrustedProxies       []string      `env:"VSCARD_TRUSTED_PROXIES" help:"Load balancers (CIDRs or addresses, comma-separated) whose X-Forwarded-For names the client in the audit log (default: none, the header is ignored)."`
	ShutdownDelay        time.Duration `env:"VSCARD_SHUTDOWN_DELAY" default:"0s" help:"On SIGTERM, keep serving this long with /readyz reporting shutting down, for load balancers that learn of it from health checks."`
	SMTPHost             string        `name:"smtp-host" env:"VSCARD_SMTP_HOST" help:"SMTP submission server for renewal notices (default: none; cards due for renewal are only open tasks on the start page)."`
	SMTPPort             int           `name:"smtp-port" env:"VSCARD_SMTP_PORT" help:"Its port (default 587 with STARTTLS, 465 with --smtp-implicit-tls)."`
	SMTPUsername         string        `name:"smtp-username" env:"VSCARD_SMTP_USERNAME" help:"Username for AUTH PLAIN (empty: no authentication)."`
	SMTPPassword         string        `name:"smtp-password" env:"VSCARD_SMTP_PASSWORD" help:"Password for AUTH PLAIN."`
	SMTPFrom             string        `name:"smtp-from" env:"VSCARD_SMTP_FROM" help:"Sender of notices, e.g. 'vscard <vscard@example.com>'."`
	SMTPImplicitTLS      bool          `name:"smtp-implicit-tls" env:"VSCARD_SMTP_IMPLICIT_TLS" help:"Speak TLS from the start (port 465) instead of STARTTLS, which is otherwise required."`
	SMTPCAFile           string        `name:"smtp-ca-file" env:"VSCARD_SMTP_CA_FILE" help:"PEM roots to trust for the SMTP server besides the system's."`
	NoticeTemplates      string        `env:"VSCARD_NOTICE_TEMPLATES" help:"Folder whose renewal.subject.tmpl / renewal.body.tmpl (Go text/template) replace the built-in notice."`
	NoticeRate           float64       `env:"VSCARD_NOTICE_RATE" default:"5" help:"Notices a second this instance sends at most."`
	ExpiryCheckInterval  time.Duration `env:"VSCARD_EXPIRY_CHECK_INTERVAL" default:"1h" help:"How often the expiry check runs, once across all instances."`
	TestClock            bool          `env:"VSCARD_TEST_CLOCK" hidden:"" help:"End-to-end tests only: POST /test/clock?advance=<duration> moves the clock. Refused with --production."`
	MetricsAddr          string        `env:"VSCARD_METRICS_ADDR" help:"Serve Prometheus metrics at http://<addr>/metrics, on a listener of its own (default: off), e.g. 127.0.0.1:9090."`
}

func (c *serveCmd) config() server.Config {
	return server.Config{
		Addr: c.Addr, PublicURL: c.PublicURL, DataDir: c.DataDir, DatabaseURL: c.DatabaseURL, DatabaseMaxConns: c.DatabaseMaxConns,
		Production: c.Production, SecretKey: c.SecretKey, PreviousSecretKeys: c.PreviousSecretKeys,
		Organization: c.Organization, CAPassphrase: c.CAPassphrase,
		OIDCIssuer: c.OIDCIssuer, OIDCClientID: c.OIDCClientID, OIDCClientSecret: c.OIDCClientSecret,
		OIDCScopes: c.OIDCScopes, SignatureAlgs: c.SignatureAlgs, RolesClaim: c.RolesClaim, AdminGroup: c.AdminGroup, OperatorGroup: c.OperatorGroup,
		ScopeClaims: c.APIScopeClaims, SessionIdleTimeout: c.SessionIdleTimeout, SessionLifetime: c.SessionLifetime,
		APIAudience: c.APIAudience, APIScope: c.APIScope, AllowedOrigins: c.AllowedOrigins,
		DefaultUserState: c.DefaultUserState, DevIDPUsersFile: c.DevIDPUsers,
		AllowDevIDPInProduction: c.AllowDevIDPInProduction, AllowIntrospection: c.AllowIntrospection,
		TokenTTL: c.TokenTTL, OrderIdleTTL: c.OrderIdleTTL, SweepInterval: c.SweepInterval,
		AttestationRootsFile: c.AttestationRootsFile, TPMRootsFile: c.TPMRoots, TrustedProxies: c.TrustedProxies,
		ShutdownDelay: c.ShutdownDelay, MetricsAddr: c.MetricsAddr,
		SMTP: notices.SMTP{
			Host: c.SMTPHost, Port: c.SMTPPort, Username: c.SMTPUsername, Password: c.SMTPPassword,
			From: c.SMTPFrom, ImplicitTLS: c.SMTPImplicitTLS, CAFile: c.SMTPCAFile,
		},
		NoticeTemplates: c.NoticeTemplates, NoticeRate: c.NoticeRate, ExpiryCheckInterval: c.ExpiryCheckInterval,
		TestClock: c.TestClock,
	}
}

func (c *serveCmd) Run(ctx context.Context, log *slog.Logger) error {
	if m := c.missingInProduction(); len(m) > 0 {
		printFirstSettings(os.Stderr, m)
		return errUnconfigured
	}
	srv, err := server.New(ctx, c.config(), log)
	if err != nil {
		return err
	}
	defer srv.Close()
	fmt.Fprintf(os.Stderr, "\n  vscard Self-Service: %s\n  GraphQL playground (admins): %s/playground\n", c.PublicURL, c.PublicURL)
	if srv.DevIDP != nil {
		fmt.Fprintf(os.Stderr, "  Demo users: alice / alice-demo (active), bob / bob-demo (inactive), admin / admin-demo\n")
	}
	fmt.Fprintln(os.Stderr)
	return srv.Run(ctx)
}

type rotateCmd struct{ serveCmd }

func (c *rotateCmd) Run(ctx context.Context, log *slog.Logger) error {
	n, err := server.RotateSecretsCommand(ctx, c.config(), log)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "re-sealed the secrets of %d cards under the current key\n", n)
	return nil
}

type migrateCmd struct{ common }

func (c *migrateCmd) Run(ctx context.Context, log *slog.Logger) error {
	return server.Migrate(ctx, c.DataDir, c.DatabaseURL, log)
}

func main() {
	var c cli
	k := kong.Parse(&c,
		kong.Name("vscard-server"),
		kong.Description("vscard: credential management for virtual smart cards."),
		kong.UsageOnError(),
		kong.Vars{"dbMaxConns": strconv.Itoa(store.DefaultMaxConns)},
	)
	log := newLogger(c.LogLevel, c.LogFormat)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// The first signal starts a graceful stop; a second one ends the process at once.
	context.AfterFunc(ctx, stop)
	k.BindTo(ctx, (*context.Context)(nil))
	k.Bind(log)
	if err := k.Run(); err != nil {
		if errors.Is(err, errUnconfigured) {
			fmt.Fprintln(os.Stderr, "vscard-server:", err)
			os.Exit(exitConfig)
		}
		log.Error("vscard-server stopped", "err", err)
		os.Exit(1)
	}
}

func newLogger(level, format string) *slog.Logger {
	var lv slog.Level
	_ = lv.UnmarshalText([]byte(level))
	opts := &slog.HandlerOptions{Level: lv}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}
