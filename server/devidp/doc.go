// Package devidp is a small but real OpenID Connect provider (zitadel/oidc's op) that runs
// inside vscard-server in the development setup, so that `vscard-server` works out of the
// box without an external identity provider.
//
// It serves discovery, JWKS, the authorization code flow with PKCE (S256 required), the
// client credentials grant for demo portal clients (JWT access tokens with the API audience
// and granted scopes), userinfo and end_session, plus a plain HTML login page that lists
// the demo users and their passwords. It is a development tool: New refuses to start when
// the configuration says production, unless AllowInProduction is set.
//
// Demo users come from an embedded users.yaml (or a file given in Config.UsersFile). Each
// user may name the vscard state it should start in (state: INACTIVE); that is not a claim
// of the identity provider but a seed for vscard's own database, handed to server/auth via
// Provider.InitialStates.
package devidp
