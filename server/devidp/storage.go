package devidp

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

const (
	// authRequestTTL bounds how long a user may take on the login page.
	authRequestTTL = 10 * time.Minute
	// codeTTL bounds how long an issued code can be exchanged.
	codeTTL = 2 * time.Minute
	// browserSessionTTL is how long the provider remembers who signed in at a browser, as
	// real providers do: a second sign-in within it asks for no password.
	browserSessionTTL = 8 * time.Hour
)

var errNotFound = errors.New("not found")

// accessToken is what the provider remembers of an issued access token (for userinfo,
// introspection and end_session).
type accessToken struct {
	id       string
	clientID string
	subject  string
	audience []string
	scopes   []string
	expires  time.Time
}

// storage is the provider's in-memory op.Storage. Nothing in it needs to survive a
// restart: a pending login is simply started again.
type storage struct {
	key      *signingKey
	lifetime time.Duration
	clients  map[string]*client
	users    map[string]*User // by subject
	byName   map[string]*User // by lower-case username

	mu           sync.Mutex
	authRequests map[string]*authRequest
	codes        map[string]string // code -> auth request id
	tokens       map[string]*accessToken
	browsers     map[string]*browserSession // by the browser cookie's value
}

// browserSession is the provider's own sign-in at one browser (its cookie), which
// end_session ends.
type browserSession struct {
	subject  string
	authTime time.Time
	expires  time.Time
}

var (
	_ op.Storage                        = (*storage)(nil)
	_ op.ClientCredentialsStorage       = (*storage)(nil)
	_ op.CanSetUserinfoFromRequest      = (*storage)(nil)
	_ op.CanTerminateSessionFromRequest = (*storage)(nil)
)

func newStorage(key *signingKey, lifetime time.Duration, clients []*client, users []User) *storage {
	s := &storage{
		key:          key,
		lifetime:     lifetime,
		clients:      map[string]*client{},
		users:        map[string]*User{},
		byName:       map[string]*User{},
		authRequests: map[string]*authRequest{},
		codes:        map[string]string{},
		tokens:       map[string]*accessToken{},
		browsers:     map[string]*browserSession{},
	}
	for _, c := range clients {
		s.clients[c.id] = c
	}
	for i := range users {
		u := &users[i]
		s.users[u.Subject] = u
		s.byName[strings.ToLower(u.Username)] = u
	}
	return s
}

func randomID() string {
	return rand.Text()
}

// checkPassword completes auth request id for the user whose password matches, and
// returns the id of the browser session it starts.
func (s *storage) checkPassword(id, username, password string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	req, ok := s.authRequests[id]
	if !ok || time.Since(req.created) > authRequestTTL {
		return "", fmt.Errorf("find login request: %w", errNotFound)
	}
	u, ok := s.byName[strings.ToLower(strings.TrimSpace(username))]
	if !ok || subtle.ConstantTimeCompare([]byte(u.Password), []byte(password)) != 1 {
		return "", errors.New("unknown user or wrong password")
	}
	now := time.Now()
	req.subject = u.Subject
	req.authTime = now
	req.done = true
	browser := randomID()
	s.browsers[browser] = &browserSession{subject: u.Subject, authTime: now, expires: now.Add(browserSessionTTL)}
	return browser, nil
}

// resumeSession completes auth request id from the browser session, without a password,
// unless the client asked for a fresh sign-in (prompt=login, max_age=0) or there is no
// live session. It reports whether it did.
func (s *storage) resumeSession(id, browser string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	req, ok := s.authRequests[id]
	b, live := s.browsers[browser]
	if !ok || !live || time.Now().After(b.expires) || req.done {
		return false
	}
	if slices.Contains(req.prompt, oidc.PromptLogin) || (req.maxAge != nil && time.Since(b.authTime) > time.Duration(*req.maxAge)*time.Second) {
		return false
	}
	req.subject = b.subject
	req.authTime = b.authTime
	req.done = true
	return true
}

type browserKey struct{}

// withBrowser tells TerminateSessionFromRequest which browser session the request has.
func withBrowser(ctx context.Context, browser string) context.Context {
	return context.WithValue(ctx, browserKey{}, browser)
}

// TerminateSessionFromRequest ends the provider's sign-in at this browser, and every
// other of the same user, and forgets the user's tokens for the client (end_session).
func (s *storage) TerminateSessionFromRequest(ctx context.Context, r *op.EndSessionRequest) (string, error) {
	s.mu.Lock()
	if browser, _ := ctx.Value(browserKey{}).(string); browser != "" {
		delete(s.browsers, browser)
	}
	if r.UserID != "" {
		for id, b := range s.browsers {
			if b.subject == r.UserID {
				delete(s.browsers, id)
			}
		}
	}
	s.mu.Unlock()
	return r.RedirectURI, s.TerminateSession(ctx, r.UserID, r.ClientID)
}

// CreateAuthRequest stores a validated authorization request. PKCE with S256 is required
// of every client: vscard always sends it, and the provider should not teach anything less.
func (s *storage) CreateAuthRequest(_ context.Context, r *oidc.AuthRequest, _ string) (op.AuthRequest, error) {
	if slices.Contains(r.Prompt, oidc.PromptNone) {
		return nil, oidc.ErrLoginRequired()
	}
	if r.CodeChallenge == "" || r.CodeChallengeMethod != oidc.CodeChallengeMethodS256 {
		return nil, oidc.ErrInvalidRequest().WithDescription("PKCE with S256 is required")
	}
	req := &authRequest{
		id:           randomID(),
		created:      time.Now(),
		clientID:     r.ClientID,
		redirectURI:  r.RedirectURI,
		state:        r.State,
		nonce:        r.Nonce,
		scopes:       r.Scopes,
		responseType: r.ResponseType,
		responseMode: r.ResponseMode,
		prompt:       []string(r.Prompt),
		maxAge:       r.MaxAge,
		codeChallenge: &oidc.CodeChallenge{
			Challenge: r.CodeChallenge,
			Method:    r.CodeChallengeMethod,
		},
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweepLocked()
	s.authRequests[req.id] = req
	return req, nil
}

// sweepLocked drops expired auth requests and tokens.
func (s *storage) sweepLocked() {
	now := time.Now()
	for id, r := range s.authRequests {
		if now.Sub(r.created) > authRequestTTL {
			delete(s.authRequests, id)
		}
	}
	for code, id := range s.codes {
		if _, ok := s.authRequests[id]; !ok {
			delete(s.codes, code)
		}
	}
	for id, t := range s.tokens {
		if now.After(t.expires) {
			delete(s.tokens, id)
		}
	}
	for id, b := range s.browsers {
		if now.After(b.expires) {
			delete(s.browsers, id)
		}
	}
}

func (s *storage) AuthRequestByID(_ context.Context, id string) (op.AuthRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	req, ok := s.authRequests[id]
	if !ok || time.Since(req.created) > authRequestTTL {
		return nil, fmt.Errorf("find auth request: %w", errNotFound)
	}
	return req, nil
}

// AuthRequestByCode finds the request of a code that was issued at most codeTTL ago. A
// code works once: the request is deleted when the tokens are issued.
func (s *storage) AuthRequestByCode(_ context.Context, code string) (op.AuthRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.codes[code]
	if !ok {
		return nil, fmt.Errorf("find code: %w", errNotFound)
	}
	req, ok := s.authRequests[id]
	if !ok || time.Since(req.codeIssued) > codeTTL {
		return nil, fmt.Errorf("find code: %w", errNotFound)
	}
	return req, nil
}

func (s *storage) SaveAuthCode(_ context.Context, id, code string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	req, ok := s.authRequests[id]
	if !ok {
		return fmt.Errorf("save code: %w", errNotFound)
	}
	req.codeIssued = time.Now()
	s.codes[code] = id
	return nil
}

func (s *storage) DeleteAuthRequest(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.authRequests, id)
	for code, rid := range s.codes {
		if rid == id {
			delete(s.codes, code)
		}
	}
	return nil
}

func (s *storage) CreateAccessToken(_ context.Context, r op.TokenRequest) (string, time.Time, error) {
	t := &accessToken{
		id:       randomID(),
		subject:  r.GetSubject(),
		audience: r.GetAudience(),
		scopes:   r.GetScopes(),
		expires:  time.Now().Add(s.lifetime),
	}
	switch req := r.(type) {
	case *authRequest:
		t.clientID = req.clientID
	case *oidc.JWTTokenRequest:
		t.clientID = req.Subject // client credentials: the client is the subject
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens[t.id] = t
	return t.id, t.expires, nil
}

var errNoRefresh = errors.New("refresh tokens are not supported")

func (s *storage) CreateAccessAndRefreshTokens(context.Context, op.TokenRequest, string) (string, string, time.Time, error) {
	return "", "", time.Time{}, errNoRefresh
}

func (s *storage) TokenRequestByRefreshToken(context.Context, string) (op.RefreshTokenRequest, error) {
	return nil, errNoRefresh
}

func (s *storage) GetRefreshTokenInfo(context.Context, string, string) (string, string, error) {
	return "", "", op.ErrInvalidRefreshToken
}

// TerminateSession forgets the user's tokens for the client (end_session).
func (s *storage) TerminateSession(_ context.Context, userID, clientID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, t := range s.tokens {
		if t.subject == userID && t.clientID == clientID {
			delete(s.tokens, id)
		}
	}
	return nil
}

func (s *storage) RevokeToken(_ context.Context, tokenID, _, clientID string) *oidc.Error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t, ok := s.tokens[tokenID]; ok {
		if t.clientID != clientID {
			return oidc.ErrInvalidClient().WithDescription("token was not issued to this client")
		}
		delete(s.tokens, tokenID)
	}
	return nil
}

func (s *storage) SigningKey(context.Context) (op.SigningKey, error) { return s.key, nil }

func (s *storage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{jose.RS256}, nil
}

func (s *storage) KeySet(context.Context) ([]op.Key, error) {
	return []op.Key{publicKey{s.key}}, nil
}

func (s *storage) GetClientByClientID(_ context.Context, id string) (op.Client, error) {
	c, ok := s.clients[id]
	if !ok {
		return nil, fmt.Errorf("find client: %w", errNotFound)
	}
	return c, nil
}

func (s *storage) AuthorizeClientIDSecret(_ context.Context, id, secret string) error {
	c, ok := s.clients[id]
	if !ok || c.secret == "" || subtle.ConstantTimeCompare([]byte(c.secret), []byte(secret)) != 1 {
		return errors.New("unknown client or wrong secret")
	}
	return nil
}

// ClientCredentials authenticates a portal client.
func (s *storage) ClientCredentials(ctx context.Context, id, secret string) (op.Client, error) {
	if err := s.AuthorizeClientIDSecret(ctx, id, secret); err != nil {
		return nil, err
	}
	return s.clients[id], nil
}

// ClientCredentialsTokenRequest grants a portal client the scopes it may have, for the API
// audience.
func (s *storage) ClientCredentialsTokenRequest(_ context.Context, id string, scopes []string) (op.TokenRequest, error) {
	c, ok := s.clients[id]
	if !ok {
		return nil, fmt.Errorf("find client: %w", errNotFound)
	}
	return &oidc.JWTTokenRequest{
		Subject:  c.id,
		Audience: []string{c.audience},
		Scopes:   c.grantScopes(scopes),
		IssuedAt: oidc.FromTime(time.Now()),
	}, nil
}

// SetUserinfoFromScopes is deprecated in op; SetUserinfoFromRequest does the work.
func (s *storage) SetUserinfoFromScopes(context.Context, *oidc.UserInfo, string, string, []string) error {
	return nil
}

func (s *storage) SetUserinfoFromRequest(_ context.Context, info *oidc.UserInfo, r op.IDTokenRequest, scopes []string) error {
	return s.setUserinfo(info, r.GetSubject(), scopes)
}

func (s *storage) SetUserinfoFromToken(_ context.Context, info *oidc.UserInfo, tokenID, subject, _ string) error {
	t, err := s.token(tokenID)
	if err != nil {
		return err
	}
	return s.setUserinfo(info, subject, t.scopes)
}

func (s *storage) SetIntrospectionFromToken(_ context.Context, resp *oidc.IntrospectionResponse, tokenID, subject, clientID string) error {
	t, err := s.token(tokenID)
	if err != nil {
		return err
	}
	if !slices.Contains(t.audience, clientID) && t.clientID != clientID {
		return errors.New("token was not issued for this client")
	}
	resp.Scope = t.scopes
	resp.ClientID = t.clientID
	resp.Subject = subject
	resp.Expiration = oidc.FromTime(t.expires)
	resp.Audience = t.audience
	return nil
}

func (s *storage) token(id string) (*accessToken, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens[id]
	if !ok || time.Now().After(t.expires) {
		return nil, fmt.Errorf("find token: %w", errNotFound)
	}
	return t, nil
}

// setUserinfo fills the standard claims by scope, and always the groups and the user's
// extra claims, as most enterprise providers do with a claim mapper.
func (s *storage) setUserinfo(info *oidc.UserInfo, subject string, scopes []string) error {
	u, ok := s.users[subject]
	if !ok {
		return fmt.Errorf("find user: %w", errNotFound)
	}
	info.Subject = u.Subject
	for _, scope := range scopes {
		switch scope {
		case oidc.ScopeProfile:
			info.PreferredUsername = u.Username
			info.Name = u.Name
		case oidc.ScopeEmail:
			info.Email = u.Email
			info.EmailVerified = oidc.Bool(u.Email != "")
		}
	}
	if len(u.Groups) > 0 {
		info.AppendClaims("groups", u.Groups)
	}
	for k, v := range u.Claims {
		info.AppendClaims(k, v)
	}
	return nil
}

// GetPrivateClaimsFromScopes adds the granted scopes to JWT access tokens, where resource
// servers look for them ("scope", space-separated, RFC 9068).
func (s *storage) GetPrivateClaimsFromScopes(_ context.Context, _, _ string, scopes []string) (map[string]any, error) {
	if len(scopes) == 0 {
		return nil, nil
	}
	return map[string]any{"scope": strings.Join(scopes, " ")}, nil
}

func (s *storage) GetKeyByIDAndClientID(context.Context, string, string) (*jose.JSONWebKey, error) {
	return nil, errors.New("JWT profile grants are not supported")
}

func (s *storage) ValidateJWTProfileScopes(context.Context, string, []string) ([]string, error) {
	return nil, errors.New("JWT profile grants are not supported")
}

func (s *storage) Health(context.Context) error { return nil }
