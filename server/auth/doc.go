// Package auth is how vscard knows who is asking.
//
// Browsers sign in with the OpenID Connect authorization code flow (PKCE S256, state,
// nonce) against any OIDC provider, through go-oidc and x/oauth2. The server keeps the
// session (scs, stored in the database through the ent Session entity, token kept only as
// a SHA-256 hash) behind an HttpOnly, SameSite=Lax cookie; no token ever reaches the
// browser's JavaScript. Users are created or updated from the ID token at sign-in.
//
// Third-party portals present JWT access tokens from the same provider (client
// credentials), checked for the API audience and the card-status scope. Desktop bridges
// present a "vsb_" session token that a BridgeAuthenticator (server/enroll) checks.
//
// Middleware puts a *viewer.Viewer in every request's context and enforces the CSRF
// rules for cookie-authenticated requests; InitFunc and CheckOrigin do the same for
// GraphQL WebSocket connections.
//
// Discovery is lazy: the provider is looked up at the first login or the first bearer
// token, and again after a failure, because the embedded development provider
// (server/devidp) is served by the same process and is not listening at construction.
package auth
