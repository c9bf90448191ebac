// Package viewer carries who is asking through a request's context, and whether the server
// acts on its own behalf for a call.
//
// Every entry point (browser session, portal bearer token, desktop bridge session) puts a
// Viewer into the context; the ent privacy policies and the GraphQL resolvers read it from
// there. It lives in its own small package so that ent/schema can depend on it without
// importing the HTTP layer.
//
// Reads a request makes for its caller go through the privacy rules (ent/schema/privacy.go)
// with the caller's viewer. Work the server does after checks of its own (a transition of
// an order, a sweep, a session look-up, an audit event) runs under [AsServer], the one
// bypass: the rules let it through, and the viewer stays, so the audit log still names
// the person whose request it was.
package viewer

import "context"

// Kind says how the caller authenticated.
type Kind int

const (
	// KindUser is a person signed in to the portal with a browser session.
	KindUser Kind = iota + 1
	// KindPortal is a third-party portal presenting a bearer token (client credentials).
	KindPortal
	// KindBridge is a desktop bridge holding a short-lived session bound to one order.
	KindBridge
)

// Role names as they appear in the configured roles claim.
const (
	RoleUser     = "user"
	RoleAdmin    = "admin"
	RoleOperator = "operator"
)

// Viewer is the authenticated caller of one request.
type Viewer struct {
	Kind Kind
	// UserID is the ent id of the user for KindUser, and of the order's owner for KindBridge.
	UserID string
	// Name is a display form for audit events and logs (username, client id, "system").
	Name string
	// Roles holds the caller's roles (KindUser).
	Roles []string
	// Scopes holds the granted OAuth scopes (KindPortal).
	Scopes []string
	// OrderID binds a bridge session to exactly one order (KindBridge).
	OrderID string
	// RemoteAddr is where the request came from, for the audit log.
	RemoteAddr string
	// Record is what the viewer was authenticated from, as read at the start of a plain
	// HTTP request (the *ent.User of a session, the *ent.Order of a bridge session), so
	// that the request does not read it again. It is nil for WebSocket connections, whose
	// viewer outlives any read (see Detached): code that finds it nil reads the record
	// itself.
	Record any
}

// Detached returns v without its Record, for a viewer that outlives the request that
// read it: a WebSocket connection.
func (v *Viewer) Detached() *Viewer {
	if v == nil || v.Record == nil {
		return v
	}
	c := *v
	c.Record = nil
	return &c
}

// Has reports whether the viewer holds role.
func (v *Viewer) Has(role string) bool {
	if v == nil {
		return false
	}
	for _, r := range v.Roles {
		if r == role {
			return true
		}
	}
	return false
}

// HasScope reports whether the viewer was granted scope.
func (v *Viewer) HasScope(scope string) bool {
	if v == nil {
		return false
	}
	for _, s := range v.Scopes {
		if s == scope {
			return true
		}
	}
	return false
}

// IsAdmin reports whether the viewer is a signed-in administrator.
func (v *Viewer) IsAdmin() bool { return v != nil && v.Kind == KindUser && v.Has(RoleAdmin) }

// IsOperator reports whether the viewer is a signed-in operator (help desk): someone who
// reads every person's cards, orders and audit trail and acts on them for the person, but
// does not configure the server. An administrator is an operator too.
func (v *Viewer) IsOperator() bool {
	return v != nil && v.Kind == KindUser && (v.Has(RoleOperator) || v.Has(RoleAdmin))
}

type ctxKey struct{}

// NewContext returns a context that carries v.
func NewContext(ctx context.Context, v *Viewer) context.Context {
	return context.WithValue(ctx, ctxKey{}, v)
}

// FromContext returns the viewer in ctx, or nil for an anonymous request.
func FromContext(ctx context.Context) *Viewer {
	v, _ := ctx.Value(ctxKey{}).(*Viewer)
	return v
}

type asServerKey struct{}

// AsServer marks ctx as the server acting on its own behalf for the calls made with it:
// the privacy rules let them read and write any row. Use it only after the caller's right
// to the action has been checked, or for work no caller asked for (sweeps, sign-in, the
// session store). Unlike replacing the viewer, it keeps the person or bridge in ctx, so
// that audit events written under it name who asked; without a viewer they name the system.
func AsServer(ctx context.Context) context.Context {
	if ActsAsServer(ctx) {
		return ctx
	}
	return context.WithValue(ctx, asServerKey{}, true)
}

// ActsAsServer reports whether ctx was marked by AsServer.
func ActsAsServer(ctx context.Context) bool {
	b, _ := ctx.Value(asServerKey{}).(bool)
	return b
}

type remoteAddrKey struct{}

// WithRemoteAddr records where a request without a viewer came from (an anonymous
// request, e.g. the Desktop App's claim with its one-time token), for the audit log.
func WithRemoteAddr(ctx context.Context, addr string) context.Context {
	return context.WithValue(ctx, remoteAddrKey{}, addr)
}

// RemoteAddr is where the request in ctx came from: its viewer's address, or the one
// WithRemoteAddr recorded.
func RemoteAddr(ctx context.Context) string {
	if v := FromContext(ctx); v != nil && v.RemoteAddr != "" {
		return v.RemoteAddr
	}
	addr, _ := ctx.Value(remoteAddrKey{}).(string)
	return addr
}
