package auth

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// discoveryTimeout bounds one discovery attempt.
const discoveryTimeout = 10 * time.Second

// endpoints is what discovery gives us: the OAuth2 client config and the two verifiers.
type endpoints struct {
	oauth2 *oauth2.Config
	// idTokens verifies ID tokens: issuer, audience = client id, expiry, algorithm.
	idTokens *oidc.IDTokenVerifier
	// accessTokens verifies portal JWT access tokens: audience = API audience.
	accessTokens *oidc.IDTokenVerifier
	// endSession is the provider's end_session_endpoint, or "" without RP-initiated logout.
	endSession string
}

// lazyProvider discovers the provider at first use and retries after a failure, because
// the embedded development provider is served by this same process and is not yet
// listening when auth.New runs.
type lazyProvider struct {
	cfg *Config

	mu  sync.Mutex
	eps *endpoints
}

// get returns the discovered endpoints, discovering them now if needed.
func (l *lazyProvider) get(ctx context.Context) (*endpoints, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.eps != nil {
		return l.eps, nil
	}
	eps, err := l.discover(ctx)
	if err != nil {
		return nil, err
	}
	l.eps = eps
	return eps, nil
}

func (l *lazyProvider) discover(ctx context.Context) (*endpoints, error) {
	// The provider keeps the client for later JWKS fetches; the deadline is only for
	// this attempt and does not outlive it.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), discoveryTimeout)
	defer cancel()
	p, err := oidc.NewProvider(oidc.ClientContext(ctx, l.cfg.HTTPClient), l.cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("discover OIDC provider: %w", err)
	}
	var meta struct {
		EndSession string `json:"end_session_endpoint"`
	}
	if err := p.Claims(&meta); err != nil {
		return nil, fmt.Errorf("read provider metadata: %w", err)
	}
	return &endpoints{
		oauth2: &oauth2.Config{
			ClientID:     l.cfg.ClientID,
			ClientSecret: l.cfg.ClientSecret,
			RedirectURL:  l.cfg.RedirectURL,
			Endpoint:     p.Endpoint(),
			Scopes:       l.cfg.Scopes,
		},
		idTokens: p.Verifier(&oidc.Config{
			ClientID:             l.cfg.ClientID,
			SupportedSigningAlgs: l.cfg.SignatureAlgs,
			Now:                  l.cfg.Now,
		}),
		accessTokens: p.Verifier(&oidc.Config{
			ClientID:             l.cfg.APIAudience,
			SupportedSigningAlgs: l.cfg.SignatureAlgs,
			Now:                  l.cfg.Now,
		}),
		endSession: meta.EndSession,
	}, nil
}
