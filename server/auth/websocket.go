package auth

import (
	"context"
	"errors"
	"time"

	"github.com/99designs/gqlgen/graphql/handler/transport"

	"github.com/vscard/vscard/server/errs"
	"github.com/vscard/vscard/server/viewer"
)

// errSessionEnded is the cancel cause of a WebSocket whose session or token ended.
var errSessionEnded = errors.New("session ended")

// InitFunc authenticates a GraphQL WebSocket at connection_init, for
// transport.Websocket{InitFunc: svc.InitFunc}.
//
// A bearer token in the payload ({"authorization": "Bearer …"}: portal JWT or "vsb_"
// bridge session) wins; otherwise the session that Middleware found on the upgrade
// request is used. Without either the connection is refused. The returned context is
// cancelled, which closes the connection, once the session ends or expires, the bridge
// session is no longer accepted, or the portal token expires; this is checked every
// SessionCheckInterval.
func (s *Service) InitFunc(ctx context.Context, payload transport.InitPayload) (context.Context, *transport.InitPayload, error) {
	addr, _ := ctx.Value(clientAddrKey{}).(string)
	var check func(context.Context) bool
	if h := payload.Authorization(); h != "" {
		token, ok := parseBearer(h)
		if !ok {
			return ctx, nil, errs.New(errs.Unauthenticated, "authorization must be a bearer token")
		}
		v, expiry, err := s.authenticateBearer(ctx, token, addr)
		if err != nil {
			s.logger.InfoContext(ctx, "websocket token refused", "reason", err)
			return ctx, nil, errs.New(errs.Unauthenticated, "the bearer token is invalid, expired or lacks the required scope")
		}
		ctx = viewer.NewContext(ctx, v)
		check = s.tokenCheck(token, v, expiry)
	} else if payload["cardProof"] == true && viewer.FromContext(ctx) == nil {
		// The Desktop App following its cards outside any order: it has no session, and
		// each cardUpdated proves its card (server/cardproof). The connection has no
		// viewer, so only ANONYMOUS fields run on it.
		return ctx, nil, nil
	} else {
		v := viewer.FromContext(ctx)
		sessionToken, _ := ctx.Value(sessionKey{}).(string)
		if v == nil || v.Kind != viewer.KindUser || sessionToken == "" {
			return ctx, nil, errs.New(errs.Unauthenticated, "sign in first")
		}
		check = s.sessionCheck(sessionToken, v.UserID)
	}
	// The connection outlives the records its authentication read.
	ctx = viewer.NewContext(ctx, viewer.FromContext(ctx).Detached())
	ctx = transport.AppendCloseReason(ctx, errSessionEnded.Error())
	ctx, cancel := context.WithCancelCause(ctx)
	go s.watch(ctx, cancel, check)
	return ctx, nil, nil
}

// watch cancels ctx as soon as check fails; it ends with ctx.
func (s *Service) watch(ctx context.Context, cancel context.CancelCauseFunc, check func(context.Context) bool) {
	t := time.NewTicker(s.cfg.SessionCheckInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if !check(ctx) {
				cancel(errSessionEnded)
				return
			}
		}
	}
}

// sessionCheck reports whether the browser session is still live and its user exists.
func (s *Service) sessionCheck(token, userID string) func(context.Context) bool {
	return func(ctx context.Context) bool {
		live, err := s.store.live(ctx, token)
		if err != nil {
			s.logger.WarnContext(ctx, "websocket session check failed", "err", err)
			return true // a database hiccup is not a sign-out; check again next time
		}
		if !live {
			return false
		}
		_, err = s.loadUser(ctx, userID)
		return err == nil
	}
}

// tokenCheck reports whether a bearer token is still good: a portal token until its
// expiry, a bridge session as long as the authenticator accepts it.
func (s *Service) tokenCheck(token string, v *viewer.Viewer, expiry time.Time) func(context.Context) bool {
	if v.Kind == viewer.KindBridge {
		return func(ctx context.Context) bool {
			_, err := s.authenticateBridge(ctx, token, v.RemoteAddr)
			return err == nil
		}
	}
	return func(context.Context) bool { return expiry.IsZero() || s.cfg.Now().Before(expiry) }
}
