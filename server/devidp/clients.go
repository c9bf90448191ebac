package devidp

import (
	"slices"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// client is a registered OAuth client: vscard's web client or a portal client.
type client struct {
	id           string
	secret       string
	redirectURIs []string
	postLogout   []string
	grantTypes   []oidc.GrantType
	tokenType    op.AccessTokenType
	loginURL     func(authRequestID string) string
	lifetime     time.Duration
	// scopes and audience apply to portal clients (client credentials).
	scopes   []string
	audience string
}

var _ op.Client = (*client)(nil)

func (c *client) GetID() string                    { return c.id }
func (c *client) RedirectURIs() []string           { return c.redirectURIs }
func (c *client) PostLogoutRedirectURIs() []string { return c.postLogout }
func (c *client) ApplicationType() op.ApplicationType {
	return op.ApplicationTypeWeb
}

func (c *client) AuthMethod() oidc.AuthMethod {
	if c.secret == "" {
		return oidc.AuthMethodNone
	}
	return oidc.AuthMethodBasic
}

func (c *client) ResponseTypes() []oidc.ResponseType {
	if slices.Contains(c.grantTypes, oidc.GrantTypeCode) {
		return []oidc.ResponseType{oidc.ResponseTypeCode}
	}
	return nil
}

func (c *client) GrantTypes() []oidc.GrantType { return c.grantTypes }

func (c *client) LoginURL(id string) string {
	if c.loginURL == nil {
		return ""
	}
	return c.loginURL(id)
}

func (c *client) AccessTokenType() op.AccessTokenType { return c.tokenType }
func (c *client) IDTokenLifetime() time.Duration      { return c.lifetime }

// DevMode allows http redirect URIs for the public (secret-less) web client; this whole
// provider is for development.
func (c *client) DevMode() bool { return true }

func (c *client) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}

func (c *client) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}

// IsScopeAllowed admits the portal scopes beyond the standard OIDC ones.
func (c *client) IsScopeAllowed(scope string) bool { return slices.Contains(c.scopes, scope) }

// IDTokenUserinfoClaimsAssertion puts profile and email claims into the ID token even
// though an access token is issued too: vscard reads the user from the ID token alone.
func (c *client) IDTokenUserinfoClaimsAssertion() bool { return true }
func (c *client) ClockSkew() time.Duration             { return 0 }

// grantScopes returns the scopes a portal client gets for a token request: all its scopes
// when none were asked for, else the ones asked for that it may have.
func (c *client) grantScopes(requested []string) []string {
	if len(requested) == 0 {
		return slices.Clone(c.scopes)
	}
	var out []string
	for _, s := range requested {
		if slices.Contains(c.scopes, s) && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}
