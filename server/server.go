// Package server assembles vscard: storage, CA, option scripts, the enrolment engine,
// sign-in, the GraphQL API, the embedded identity provider and the Self-Service app,
// behind one HTTP handler.
package server

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/vscard/vscard/server/tpmverify"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/vscard/vscard/ent/order"
	"github.com/vscard/vscard/frontend"
	"github.com/vscard/vscard/graph"
	"github.com/vscard/vscard/server/auth"
	"github.com/vscard/vscard/server/ca"
	"github.com/vscard/vscard/server/devidp"
	"github.com/vscard/vscard/server/enroll"
	"github.com/vscard/vscard/server/errs"
	"github.com/vscard/vscard/server/events"
	"github.com/vscard/vscard/server/metrics"
	"github.com/vscard/vscard/server/notices"
	"github.com/vscard/vscard/server/options"
	"github.com/vscard/vscard/server/scripts"
	"github.com/vscard/vscard/server/secretbox"
	"github.com/vscard/vscard/server/store"
	"github.com/vscard/vscard/server/testclock"
	"github.com/vscard/vscard/server/viewer"
)

// Server is an assembled vscard server.
type Server struct {
	Config  Config
	DB      *store.DB
	CA      *ca.CA
	Enroll  *enroll.Engine
	Scripts *scripts.Store
	Auth    *auth.Service
	Events  events.Bus
	DevIDP  *devidp.Provider
	Metrics *metrics.Metrics
	// Notices runs the expiry check and e-mails renewal notices.
	Notices *notices.Service
	Handler http.Handler
	log     *slog.Logger
	drain   *drainer
	// stopEvents ends the event bus's listener: at Close, not when New's context ends, so
	// that subscriptions hear of changes while the instance drains.
	stopEvents context.CancelFunc
	// clock is the movable clock of Config.TestClock, else nil.
	clock *testclock.Clock
	// loopbackByDefault: no address was given and the development provider is on, so Run
	// listens on loopback only (Config.Addr) and says why.
	loopbackByDefault bool
}

// New opens storage, brings the schema up to date and assembles the server.
func New(ctx context.Context, cfg Config, log *slog.Logger) (*Server, error) {
	loopbackByDefault := cfg.Addr == "" && cfg.devIDP()
	var clock *testclock.Clock
	if cfg.TestClock {
		if cfg.Production {
			return nil, errors.New("the movable test clock (--test-clock) is for end-to-end tests and refused in production")
		}
		clock = testclock.New()
		cfg.Now = clock.Now
	}
	cfg.defaults()
	cfg.PublicURL = strings.TrimRight(cfg.PublicURL, "/")
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	dsn := cfg.DatabaseURL
	if dsn == "" {
		dsn = filepath.Join(cfg.DataDir, "vscard.db")
	}
	if cfg.DatabaseMaxConns < 0 {
		return nil, fmt.Errorf("the database connection limit (--database-max-conns) must be at least 1, not %d", cfg.DatabaseMaxConns)
	}
	db, err := store.Open(ctx, dsn, cfg.DatabaseMaxConns)
	if err != nil {
		return nil, err
	}
	s := &Server{Config: cfg, DB: db, log: log, drain: newDrainer(), stopEvents: func() {}, loopbackByDefault: loopbackByDefault, clock: clock}
	if err := s.assemble(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func (s *Server) assemble(ctx context.Context) error {
	cfg := s.Config
	proxies, err := auth.ParseTrustedProxies(cfg.TrustedProxies)
	if err != nil {
		return fmt.Errorf("parse trusted proxies (--trusted-proxies): %w", err)
	}
	if err := s.DB.Migrate(ctx); err != nil {
		return err
	}
	box, keys, err := s.secretKeys()
	if err != nil {
		return err
	}
	s.CA, err = ca.Open(filepath.Join(cfg.DataDir, "ca"), ca.Config{
		Organization: cfg.Organization,
		BaseURL:      cfg.PublicURL,
		Passphrase:   []byte(cfg.CAPassphrase),
		Logger:       s.log,
		Now:          cfg.Now,
	}, ca.NewEntStore(s.DB.Client))
	if err != nil {
		return fmt.Errorf("open CA: %w", err)
	}
	s.Scripts = scripts.New(s.DB.Client, options.Env{ServerName: serverName(cfg.PublicURL)})
	if err := s.Scripts.EnsureDefault(ctx); err != nil {
		return err
	}
	busCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	s.stopEvents = stop
	if store.IsPostgres(s.DB.DSN) { // several instances may share the store: events cross them
		if s.Events, err = events.NewPostgres(busCtx, events.PostgresConfig{
			DSN: s.DB.DSN, DB: s.DB.SQL, Logger: s.log.With("component", "events"),
		}); err != nil {
			return err
		}
	} else {
		s.Events = events.NewLocal()
	}
	// OCSP answers from memory, kept current on every instance through the bus.
	s.CA.Follow(busCtx, s.Events.(events.Watcher))
	// The script in force is kept until a save on any instance says otherwise.
	if err := s.Scripts.Follow(busCtx, s.Events); err != nil {
		return err
	}
	var roots *x509.CertPool
	if cfg.AttestationRootsFile != "" {
		pemBytes, err := os.ReadFile(cfg.AttestationRootsFile)
		if err != nil {
			return fmt.Errorf("read attestation roots: %w", err)
		}
		roots = x509.NewCertPool()
		if !roots.AppendCertsFromPEM(pemBytes) {
			return errors.New("read attestation roots: no PEM certificates found")
		}
	}
	var tpmRoots *tpmverify.Verifier
	if cfg.TPMRootsFile != "" {
		if tpmRoots, err = tpmverify.Load(cfg.TPMRootsFile); err != nil {
			return err
		}
	}
	var listener metrics.Listener
	if pg, ok := s.Events.(*events.Postgres); ok {
		listener = pg
	}
	s.Metrics = metrics.New(s.DB.SQL, listener)
	s.Enroll = enroll.New(s.DB.Client, s.CA, s.Events, s.Scripts, box, enroll.Config{
		PublicURL: cfg.PublicURL, TokenTTL: cfg.TokenTTL, IdleTTL: cfg.OrderIdleTTL, AttestationRoots: roots,
		TPM:     tpmRoots,
		Limits:  cfg.Limits,
		Dialect: s.DB.Dialect,
		Entered: func(state order.State) { s.Metrics.OrderEntered(string(state)) },
		Now:     cfg.Now,
	}, s.log.With("component", "enroll"))

	if err := s.assembleNotices(); err != nil {
		return err
	}

	authCfg := auth.Config{
		Issuer:           cfg.OIDCIssuer,
		ClientID:         cfg.OIDCClientID,
		ClientSecret:     cfg.OIDCClientSecret,
		Scopes:           cfg.OIDCScopes,
		SignatureAlgs:    cfg.SignatureAlgs,
		ScopeClaims:      cfg.ScopeClaims,
		IdleTimeout:      cfg.SessionIdleTimeout,
		Lifetime:         cfg.SessionLifetime,
		PublicURL:        cfg.PublicURL,
		AllowedOrigins:   cfg.AllowedOrigins,
		RolesClaim:       cfg.RolesClaim,
		AdminGroup:       cfg.AdminGroup,
		OperatorGroup:    cfg.OperatorGroup,
		APIAudience:      cfg.APIAudience,
		PortalScope:      cfg.APIScope,
		DefaultUserState: cfg.DefaultUserState,
		TrustedProxies:   proxies,
		// Every instance shares the secret key, so any of them can finish a sign-in
		// another one started; auth derives the cookie's own keys from it.
		LoginStateKeys: keys,
		Now:            cfg.Now,
	}
	if cfg.devIDP() {
		if err := s.startDevIDP(&authCfg); err != nil {
			return err
		}
	}
	if authCfg.Issuer == "" {
		return errors.New("configure an OIDC provider (--oidc-issuer) in production")
	}
	s.Auth, err = auth.New(authCfg, s.DB.Client, s.Enroll, s.log.With("component", "auth"))
	if err != nil {
		return fmt.Errorf("set up sign-in: %w", err)
	}

	gql := graph.NewHandler(&graph.Resolver{
		DB: s.DB.Client, Enroll: s.Enroll, Scripts: s.Scripts, CA: s.CA, Events: s.Events,
		Log: s.log.With("component", "graphql"), Metrics: s.Metrics, Now: cfg.Now,
	}, graph.HandlerOptions{
		CheckOrigin:        s.Auth.CheckOrigin,
		WebsocketInit:      s.Auth.InitFunc,
		AllowIntrospection: cfg.AllowIntrospection,
		Limits:             cfg.GraphQLLimits,
		RequestTimeout:     cfg.GraphQLTimeout,
	})
	s.Handler = s.routes(gql)
	return nil
}

func (s *Server) startDevIDP(authCfg *auth.Config) error {
	cfg := s.Config
	issuer := cfg.PublicURL + "/dev/idp"
	p, err := devidp.New(devidp.Config{
		Issuer:                 issuer,
		ClientID:               s.Config.OIDCClientID,
		RedirectURIs:           []string{cfg.PublicURL + "/auth/callback"},
		PostLogoutRedirectURIs: []string{cfg.PublicURL + "/"},
		PortalClients: []devidp.PortalClient{{
			ID: "demo-portal", Secret: "demo-portal-secret", Scopes: []string{cfg.APIScope},
		}},
		APIAudience:       cfg.APIAudience,
		UsersFile:         cfg.DevIDPUsersFile,
		KeyFile:           filepath.Join(cfg.DataDir, "devidp-signing.pem"),
		Production:        cfg.Production,
		AllowInProduction: cfg.AllowDevIDPInProduction,
		Logger:            s.log.With("component", "devidp"),
	})
	if err != nil {
		return fmt.Errorf("start development identity provider: %w", err)
	}
	s.DevIDP = p
	s.log.Warn("the embedded DEVELOPMENT identity provider is on: demo users with public passwords can sign in; configure --oidc-issuer for real use",
		"issuer", issuer)
	authCfg.Issuer = issuer
	authCfg.InitialStates = p.InitialStates()
	if authCfg.DefaultUserState == "" && !cfg.Production {
		authCfg.DefaultUserState = "ACTIVE"
	}
	return nil
}

// secretBox opens the key that seals card secrets: configured, or in development generated
// once into the data directory.
func (s *Server) secretBox() (*secretbox.Box, error) {
	box, _, err := s.secretKeys()
	return box, err
}

// secretKeys is secretBox, and the keys themselves (current first) for what derives its
// own keys from them.
func (s *Server) secretKeys() (*secretbox.Box, [][]byte, error) {
	cfg := s.Config
	keyHex := cfg.SecretKey
	if keyHex == "" {
		if cfg.Production {
			return nil, nil, errors.New("set a secret key (--secret-key / VSCARD_SECRET_KEY, 64 hex characters) in production")
		}
		path := filepath.Join(cfg.DataDir, "secret.key")
		b, err := os.ReadFile(path)
		switch {
		case errors.Is(err, os.ErrNotExist):
			k := secretbox.NewKey()
			keyHex = fmt.Sprintf("%x", k[:])
			if err := os.WriteFile(path, []byte(keyHex+"\n"), 0o600); err != nil {
				return nil, nil, fmt.Errorf("write secret key: %w", err)
			}
		case err != nil:
			return nil, nil, fmt.Errorf("read secret key: %w", err)
		default:
			keyHex = strings.TrimSpace(string(b))
		}
	}
	cur, err := secretbox.ParseKey(keyHex)
	if err != nil {
		return nil, nil, err
	}
	keys := [][]byte{cur[:]}
	var prev []secretbox.Key
	for _, p := range cfg.PreviousSecretKeys {
		k, err := secretbox.ParseKey(p)
		if err != nil {
			return nil, nil, fmt.Errorf("previous secret key: %w", err)
		}
		prev = append(prev, k)
		keys = append(keys, k[:])
	}
	box, err := secretbox.New(cur, prev...)
	return box, keys, err
}

func (s *Server) routes(gql http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, 200, map[string]string{"status": "ok"}) })
	mux.HandleFunc("GET /readyz", s.ready)
	mux.Handle("/query", s.Auth.Middleware(limitBody(s.drain.webSockets(gql), 1<<20)))
	spa := frontend.Handler()
	// The playground is a page of the SPA (GraphiQL, built in); loaded directly, the server
	// gives its index.html to administrators only, as it did for the old one.
	mux.Handle("GET /playground", s.Auth.Middleware(adminOnly(spa)))
	mux.Handle("GET /audit/export", s.Auth.Middleware(http.HandlerFunc(s.exportAudit)))
	s.Auth.Register(mux)
	if s.DevIDP != nil {
		mux.Handle("/dev/idp/", s.DevIDP) // it strips its own issuer path
	}
	if s.clock != nil {
		mux.HandleFunc("POST /test/clock", s.moveClock)
	}
	mux.Handle("/", spa)
	caHandler := s.CA.Handler()
	headers := &securityHeaders{
		hsts:            strings.HasPrefix(s.Config.PublicURL, "https://"),
		providerOrigins: s.Auth.ProviderOrigins,
	}
	return headers.wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The CA routes by hand: ServeMux would "clean" an OCSP GET whose base64 holds "//".
		if strings.HasPrefix(r.URL.Path, "/ca/") {
			caHandler.ServeHTTP(w, r)
			return
		}
		mux.ServeHTTP(w, r)
	}))
}

func (s *Server) ready(w http.ResponseWriter, r *http.Request) {
	if s.drain.draining.Load() {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "shutting down"})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.DB.SQL.PingContext(ctx); err != nil {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "database unavailable"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

// Run serves until ctx ends, then drains (see Drain). With Config.MetricsAddr it also
// serves /metrics there, until the drain is over.
func (s *Server) Run(ctx context.Context) error {
	srv := &http.Server{
		Addr:              s.Config.Addr,
		Handler:           s.Handler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
	}
	// Listening first makes the log name the address in use (the port of ":0" too) and
	// reports a taken port before anything else starts.
	ln, err := net.Listen("tcp", s.Config.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", s.Config.Addr, err)
	}
	go s.Auth.Run(ctx)
	go s.Enroll.RunSweeper(ctx, s.Config.SweepInterval)
	go s.Notices.Run(ctx)
	errc := make(chan error, 2)
	go func() { errc <- srv.Serve(ln) }()
	if addr := s.Config.MetricsAddr; addr != "" {
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", s.Metrics.Handler())
		ms := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		go func() { errc <- fmt.Errorf("metrics: %w", ms.ListenAndServe()) }()
		defer ms.Close()
		s.log.Info("metrics are served", "url", "http://"+addr+"/metrics")
	}
	s.log.Info("vscard is running", "url", s.Config.PublicURL, "listen", ln.Addr().String())
	if s.loopbackByDefault {
		s.log.Info("listening on loopback only: the development identity provider's demo passwords are public; give --addr (e.g. :8080) to listen on other interfaces",
			"listen", ln.Addr().String())
	}
	select {
	case err := <-errc:
		return fmt.Errorf("serve http: %w", err)
	case <-ctx.Done():
	}
	drainCtx, cancel := context.WithTimeout(context.Background(), s.Config.ShutdownDelay+shutdownTimeout)
	defer cancel()
	return s.Drain(drainCtx, srv)
}

// Close stops the event bus and releases the database.
func (s *Server) Close() error {
	s.stopEvents()
	return s.DB.Close()
}

func adminOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v := viewer.FromContext(r.Context())
		if v == nil {
			http.Redirect(w, r, "/auth/login?return=/playground", http.StatusFound)
			return
		}
		if !v.IsAdmin() {
			http.Error(w, "The GraphQL playground is for administrators.", http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func limitBody(next http.Handler, n int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > n {
			errs.Write(w, errs.New(errs.RequestTooLarge, "The request is larger than %d bytes.", n).
				WithDetails(map[string]any{"max": n}))
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, n)
		next.ServeHTTP(w, r)
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func serverName(publicURL string) string {
	name := strings.TrimPrefix(strings.TrimPrefix(publicURL, "https://"), "http://")
	if i := strings.IndexAny(name, ":/"); i >= 0 {
		name = name[:i]
	}
	return name
}

// Migrate brings the database schema up to date.
func Migrate(ctx context.Context, dataDir, databaseURL string, log *slog.Logger) error {
	dsn := databaseURL
	if dsn == "" {
		dsn = filepath.Join(dataDir, "vscard.db")
	}
	db, err := store.Open(ctx, dsn, 0) // the pool every instance migrates with at start
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		return err
	}
	log.Info("database schema is up to date", "dialect", db.Dialect)
	return nil
}
