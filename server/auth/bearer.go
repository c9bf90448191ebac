package auth

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/vscard/vscard/server/errs"
	"github.com/vscard/vscard/server/viewer"
)

// BridgeTokenPrefix starts every desktop bridge session token.
const BridgeTokenPrefix = "vsb_"

// authenticateBearer returns the viewer of a bridge session token or a portal access
// token, and when the token stops being valid (zero when unknown). Errors carry
// errs.Unauthenticated, or errs.Unavailable when the provider cannot be reached.
func (s *Service) authenticateBearer(ctx context.Context, token, addr string) (*viewer.Viewer, time.Time, error) {
	if token == "" {
		return nil, time.Time{}, errs.New(errs.Unauthenticated, "empty bearer token")
	}
	if strings.HasPrefix(token, BridgeTokenPrefix) {
		v, err := s.authenticateBridge(ctx, token, addr)
		return v, time.Time{}, err
	}
	return s.authenticatePortal(ctx, token, addr)
}

func (s *Service) authenticateBridge(ctx context.Context, token, addr string) (*viewer.Viewer, error) {
	if s.bridges == nil {
		return nil, errs.New(errs.Unauthenticated, "bridge sessions are not accepted here")
	}
	v, err := s.bridges.AuthenticateBridge(ctx, token)
	if err != nil {
		return nil, errs.Wrap(err, errs.Unauthenticated, "bridge session refused")
	}
	if v == nil || v.Kind != viewer.KindBridge {
		return nil, errs.New(errs.Unauthenticated, "bridge session refused")
	}
	out := *v
	out.RemoteAddr = addr
	return &out, nil
}

// portalClaims are the access token claims that name the client.
type portalClaims struct {
	ClientID string `json:"client_id"`
	AZP      string `json:"azp"`
	AppID    string `json:"appid"` // Entra ID v1 tokens
}

// issuedAtSkew is how far in the future a portal token's "iat" may lie: the provider's
// clock and ours disagree a little, but a token from the future was not issued yet.
const issuedAtSkew = time.Minute

// checkTokenType refuses a JWT whose header says it is something other than an access
// token. RFC 9068 access tokens say "at+jwt"; many providers (zitadel, Keycloak, Entra ID)
// put the generic "JWT" on every token, ID tokens included, and some leave typ out. Any
// other explicit type (an ID token's "id+jwt", a logout token, a DPoP proof) is refused.
func checkTokenType(token string) error {
	head, _, ok := strings.Cut(token, ".")
	if !ok {
		return errs.New(errs.Unauthenticated, "access token is not a JWT")
	}
	raw, err := base64.RawURLEncoding.DecodeString(head)
	if err != nil {
		return errs.Wrap(err, errs.Unauthenticated, "access token header unreadable")
	}
	var h struct {
		Typ *string `json:"typ"`
	}
	if err := json.Unmarshal(raw, &h); err != nil {
		return errs.Wrap(err, errs.Unauthenticated, "access token header unreadable")
	}
	if h.Typ == nil {
		return nil
	}
	switch strings.ToLower(*h.Typ) {
	case "at+jwt", "application/at+jwt", "jwt":
		return nil
	}
	return errs.New(errs.Unauthenticated, "token type %q is not an access token", *h.Typ)
}

// idTokenMarks are what tell an ID token from an access token when the header's typ does
// not: a nonce (vscard always sends one at sign-in, and a portal's client-credentials
// token never has one), and Keycloak's "typ" claim of "ID".
type idTokenMarks struct {
	Nonce    string `json:"nonce"`
	TypClaim any    `json:"typ"`
}

// portalTokenCache is how many verified portal access tokens are remembered.
const portalTokenCache = 4096

// verifiedToken is a portal access token that passed every check, until it expires.
type verifiedToken struct {
	viewer viewer.Viewer
	expiry time.Time
}

// authenticatePortal verifies a JWT access token from the provider: issuer, audience
// (the API audience), expiry, signature algorithm, and the portal scope. A token that
// passed is remembered until it expires: the same token always yields the same viewer.
func (s *Service) authenticatePortal(ctx context.Context, token, addr string) (*viewer.Viewer, time.Time, error) {
	key := sha256.Sum256([]byte(token))
	if t, ok := s.portals.Get(key); ok {
		if s.cfg.Now().Before(t.expiry) {
			v := t.viewer
			v.RemoteAddr = addr
			return &v, t.expiry, nil
		}
		s.portals.Remove(key)
	}
	v, expiry, err := s.verifyPortal(ctx, token, addr)
	if err == nil && !expiry.IsZero() {
		s.portals.Add(key, verifiedToken{viewer: *v, expiry: expiry})
	}
	return v, expiry, err
}

// verifyPortal checks a portal access token with the provider's keys.
func (s *Service) verifyPortal(ctx context.Context, token, addr string) (*viewer.Viewer, time.Time, error) {
	eps, err := s.provider.get(ctx)
	if err != nil {
		return nil, time.Time{}, errs.Wrap(err, errs.Unavailable, "identity provider unavailable")
	}
	if err := checkTokenType(token); err != nil {
		return nil, time.Time{}, err
	}
	at, err := eps.accessTokens.Verify(oidc.ClientContext(ctx, s.cfg.HTTPClient), token)
	if err != nil {
		return nil, time.Time{}, errs.Wrap(err, errs.Unauthenticated, "access token invalid")
	}
	var marks idTokenMarks
	if err := at.Claims(&marks); err != nil {
		return nil, time.Time{}, errs.Wrap(err, errs.Unauthenticated, "access token claims unreadable")
	}
	if typ, _ := marks.TypClaim.(string); marks.Nonce != "" || strings.EqualFold(typ, "ID") {
		return nil, time.Time{}, errs.New(errs.Unauthenticated, "an ID token is not an access token")
	}
	// go-oidc checks exp and nbf but not iat.
	if !at.IssuedAt.IsZero() && at.IssuedAt.After(s.cfg.Now().Add(issuedAtSkew)) {
		return nil, time.Time{}, errs.New(errs.Unauthenticated, "access token issued in the future")
	}
	var c portalClaims
	var all map[string]any
	if err := at.Claims(&c); err != nil {
		return nil, time.Time{}, errs.Wrap(err, errs.Unauthenticated, "access token claims unreadable")
	}
	if err := at.Claims(&all); err != nil {
		return nil, time.Time{}, errs.Wrap(err, errs.Unauthenticated, "access token claims unreadable")
	}
	var scopes []string
	for _, name := range s.cfg.ScopeClaims {
		scopes = append(scopes, stringValues(all[name])...)
	}
	slices.Sort(scopes)
	scopes = slices.Compact(scopes)
	if !slices.Contains(scopes, s.cfg.PortalScope) {
		return nil, time.Time{}, errs.New(errs.Unauthenticated, "access token lacks scope %s", s.cfg.PortalScope)
	}
	name := firstNonEmpty(c.ClientID, c.AZP, c.AppID, at.Subject)
	return &viewer.Viewer{
		Kind:       viewer.KindPortal,
		Name:       name,
		Scopes:     scopes,
		RemoteAddr: addr,
	}, at.Expiry, nil
}

func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}
