package auth

import (
	"context"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"net/http"
	"sync/atomic"

	"github.com/alexedwards/scs/v2"
	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/vscard/vscard/ent"
	"github.com/vscard/vscard/server/errs"
	"github.com/vscard/vscard/server/viewer"
)

// BridgeAuthenticator checks a desktop bridge session token ("vsb_…"). server/enroll
// implements it; the returned viewer must be of KindBridge.
type BridgeAuthenticator interface {
	AuthenticateBridge(ctx context.Context, token string) (*viewer.Viewer, error)
}

// Service is sign-in, sessions and API authentication for one vscard server.
type Service struct {
	cfg      Config
	client   *ent.Client
	bridges  BridgeAuthenticator
	logger   *slog.Logger
	store    *Store
	sessions *scs.SessionManager
	// loginState carries sign-ins under way, so that they need no session.
	loginState *loginState
	provider   *lazyProvider
	// origins caches ProviderOrigins once discovery has run, after which they cannot
	// change: every response's header asks for them.
	origins atomic.Pointer[[]string]
	// portals remembers verified portal access tokens (by SHA-256) until they expire, so a
	// portal that sends the same token with every request pays for one signature check.
	portals *lru.Cache[[sha256.Size]byte, verifiedToken]
}

// New returns the service for cfg. It does not contact the provider: discovery happens at
// the first sign-in or bearer token. bridges may be nil, which refuses bridge tokens.
func New(cfg Config, client *ent.Client, bridges BridgeAuthenticator, logger *slog.Logger) (*Service, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if client == nil {
		return nil, fmt.Errorf("check auth config: an ent client is required")
	}
	if logger == nil {
		logger = slog.Default()
	}
	s := &Service{
		cfg:     cfg,
		client:  client,
		bridges: bridges,
		logger:  logger,
		store:   NewStore(client, cfg.Lifetime),
	}
	s.store.now, s.store.idle, s.store.lifetime = cfg.Now, cfg.IdleTimeout, cfg.Lifetime
	// An unchanged session is written back once its idle deadline has moved by 1/30 of the
	// idle timeout (a minute of the default 30), not on every request.
	s.store.Refresh = cfg.IdleTimeout / 30
	s.provider = &lazyProvider{cfg: &s.cfg}
	var err error
	if s.portals, err = lru.New[[sha256.Size]byte, verifiedToken](portalTokenCache); err != nil {
		return nil, fmt.Errorf("set up token cache: %w", err)
	}
	s.sessions = newSessionManager(&s.cfg, s.store, s.sessionError)
	if s.loginState, err = newLoginState(&s.cfg); err != nil {
		return nil, err
	}
	return s, nil
}

// Run deletes expired sessions every CleanupInterval until ctx ends.
func (s *Service) Run(ctx context.Context) {
	s.store.RunCleanup(ctx, s.cfg.CleanupInterval, s.logger)
}

// Store returns the database session store.
func (s *Service) Store() *Store { return s.store }

// logoutPath is where the SPA's sign-out form posts.
const logoutPath = "/auth/logout"

// Routes serves /auth/login, /auth/callback, /auth/logout (POST) and /auth/session. Mount
// it at "/auth/"; it applies Middleware itself.
func (s *Service) Routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /auth/login", s.login)
	mux.HandleFunc("GET /auth/callback", s.callback)
	mux.HandleFunc("POST "+logoutPath, s.logout)
	mux.HandleFunc("GET /auth/session", s.session)
	return s.Middleware(mux)
}

// Register mounts Routes on mux.
func (s *Service) Register(mux *http.ServeMux) {
	mux.Handle("/auth/", s.Routes())
}

// sessionError answers a request whose session could not be loaded or saved.
func (s *Service) sessionError(w http.ResponseWriter, r *http.Request, err error) {
	s.logger.ErrorContext(r.Context(), "session store failed", "err", err, "path", r.URL.Path)
	writeError(w, errs.Unavailable, "The session store is unavailable. Try again later.")
}
