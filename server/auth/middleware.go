package auth

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/vscard/vscard/ent"
	"github.com/vscard/vscard/server/errs"
	"github.com/vscard/vscard/server/viewer"
)

// Middleware puts the caller's *viewer.Viewer into the request context:
//
//   - "Authorization: Bearer vsb_…": a desktop bridge session, checked by the
//     BridgeAuthenticator (KindBridge);
//   - "Authorization: Bearer <JWT>": a portal access token from the provider with the API
//     audience and the portal scope (KindPortal);
//   - otherwise the session cookie (KindUser), or no viewer at all.
//
// An invalid bearer token is answered with an UNAUTHENTICATED error (401); the cookie is
// not consulted then. State-changing requests that carry the session cookie must pass the
// CSRF check, and WebSocket upgrades the origin check. A user who is not ACTIVE still gets
// a viewer: the API reports USER_NOT_ACTIVE where it matters.
//
// Do not put the development identity provider behind Middleware: its login form is a
// plain cross-page form POST.
func (s *Service) Middleware(next http.Handler) http.Handler {
	withSession := s.sessions.LoadAndSave(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.serveSession(w, r, next)
	}))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if IsWebSocketUpgrade(r) {
			if !s.CheckOrigin(r) {
				writeError(w, errs.Forbidden, "This origin may not open a connection.")
				return
			}
			// A token may come only later, in connection_init: InitFunc takes the address from here.
			r = r.WithContext(context.WithValue(r.Context(), clientAddrKey{}, s.clientAddr(r)))
		}
		if token, ok := bearerToken(r); ok {
			s.serveBearer(w, r, token, next)
			return
		}
		if IsWebSocketUpgrade(r) {
			s.serveUpgrade(w, r, next)
			return
		}
		withSession.ServeHTTP(w, r.WithContext(withSessionRead(r.Context())))
	})
}

// serveUpgrade loads the session of a WebSocket upgrade without saving it afterwards: the
// connection is hijacked and may outlive the session, and InitFunc watches the session.
func (s *Service) serveUpgrade(w http.ResponseWriter, r *http.Request, next http.Handler) {
	token := ""
	if c, err := r.Cookie(s.sessions.Cookie.Name); err == nil {
		token = c.Value
	}
	ctx, err := s.sessions.Load(r.Context(), token)
	if err != nil {
		s.sessionError(w, r, err)
		return
	}
	s.serveSession(w, r.WithContext(ctx), next)
}

// serveSession runs next with the viewer of the session cookie, if any.
func (s *Service) serveSession(w http.ResponseWriter, r *http.Request, next http.Handler) {
	if err := s.checkCSRF(r); err != nil {
		s.logger.InfoContext(r.Context(), "request refused by CSRF check", "reason", err, "path", r.URL.Path, "remote_addr", s.clientAddr(r))
		writeError(w, errs.Forbidden, "This request is not allowed from a browser form or another site.")
		return
	}
	ctx := viewer.WithRemoteAddr(r.Context(), s.clientAddr(r))
	if uid := s.sessions.GetString(ctx, keyUserID); uid != "" {
		u, err := s.loadUser(ctx, uid)
		switch {
		case ent.IsNotFound(err):
			// The user is gone: so is the session.
			if err := s.sessions.Destroy(ctx); err != nil {
				s.sessionError(w, r, err)
				return
			}
		case err != nil:
			s.sessionError(w, r, err)
			return
		default:
			ctx = viewer.NewContext(ctx, userViewer(u, s.clientAddr(r)))
			ctx = context.WithValue(ctx, sessionKey{}, s.sessions.Token(ctx))
		}
	}
	next.ServeHTTP(w, r.WithContext(ctx))
}

// serveBearer runs next with the viewer of a bearer token, or answers 401.
func (s *Service) serveBearer(w http.ResponseWriter, r *http.Request, token string, next http.Handler) {
	addr := s.clientAddr(r)
	v, _, err := s.authenticateBearer(r.Context(), token, addr)
	if err != nil {
		s.logger.InfoContext(r.Context(), "bearer token refused", "reason", err, "remote_addr", addr)
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		code, msg := errs.Unauthenticated, "The bearer token is invalid, expired or lacks the required scope."
		if errs.CodeOf(err) != errs.Unauthenticated {
			// The token could not be checked at all (the provider is unreachable): not
			// the caller's fault, and worth trying again.
			code, msg = errs.Unavailable, "The token cannot be checked right now. Try again later."
		}
		writeError(w, code, msg)
		return
	}
	next.ServeHTTP(w, r.WithContext(viewer.NewContext(r.Context(), v)))
}

// clientAddrKey carries the client's address of a WebSocket upgrade to InitFunc.
type clientAddrKey struct{}

// sessionKey carries the session token of a cookie-authenticated request, so that a
// WebSocket opened by it can check that the session is still live.
type sessionKey struct{}

// userViewer is the viewer of a signed-in user.
func userViewer(u *ent.User, addr string) *viewer.Viewer {
	return &viewer.Viewer{
		Kind:       viewer.KindUser,
		UserID:     u.ID,
		Name:       u.Username,
		Roles:      u.Roles,
		RemoteAddr: addr,
		Record:     u,
	}
}

// loadUser reads the user fresh from the database, so a change of state or roles by an
// administrator applies at the next request.
func (s *Service) loadUser(ctx context.Context, id string) (*ent.User, error) {
	if u := userRead(ctx, id); u != nil {
		return u, nil // read with the session, in this request
	}
	u, err := s.client.User.Get(viewer.AsServer(ctx), id)
	if err != nil {
		return nil, fmt.Errorf("load user: %w", err)
	}
	return u, nil
}

// bearerToken returns the token of an "Authorization: Bearer" header. Other schemes
// (Basic) are not ours and are ignored.
func bearerToken(r *http.Request) (string, bool) {
	return parseBearer(r.Header.Get("Authorization"))
}

func parseBearer(h string) (string, bool) {
	scheme, token, _ := strings.Cut(strings.TrimSpace(h), " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	return strings.TrimSpace(token), true
}

// clientAddr is the client's address for the audit log and the logs: the TCP peer, or
// what a trusted proxy forwarded (see TrustedProxies.ClientAddr).
func (s *Service) clientAddr(r *http.Request) string {
	return s.cfg.TrustedProxies.ClientAddr(r)
}

// IsWebSocketUpgrade reports whether r asks to become a WebSocket.
func IsWebSocketUpgrade(r *http.Request) bool {
	return strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
}
