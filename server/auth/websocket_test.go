package auth

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql/handler/transport"

	"github.com/vscard/vscard/server/testclock"
	"github.com/vscard/vscard/server/viewer"
)

// openWebSocket runs an upgrade request through Middleware and calls InitFunc with its
// context, as gqlgen does; the request stays open until the returned context ends, like
// a WebSocket connection.
func openWebSocket(t *testing.T, svc *Service, cookie *http.Cookie, payload transport.InitPayload) (context.Context, error) {
	t.Helper()
	type result struct {
		ctx context.Context
		err error
	}
	done := make(chan result, 1)
	h := svc.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, _, err := svc.InitFunc(r.Context(), payload)
		done <- result{ctx, err}
		if err == nil {
			<-ctx.Done()
		}
	}))
	req := httptest.NewRequest(http.MethodGet, "http://vscard.test/query", nil)
	req.Header.Set("Upgrade", "websocket")
	if cookie != nil {
		req.AddCookie(cookie)
	}
	reqCtx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go h.ServeHTTP(httptest.NewRecorder(), req.WithContext(reqCtx))
	select {
	case r := <-done:
		return r.ctx, r.err
	case <-time.After(5 * time.Second):
		t.Fatal("InitFunc did not run")
		return nil, nil
	}
}

// waitClosed fails unless ctx ends, for the session's end, within a few check intervals.
func waitClosed(t *testing.T, ctx context.Context) {
	t.Helper()
	select {
	case <-ctx.Done():
		if !errors.Is(context.Cause(ctx), errSessionEnded) {
			t.Errorf("closed for %v", context.Cause(ctx))
		}
	case <-time.After(3 * time.Second):
		t.Fatal("connection stayed open after its session ended")
	}
}

func stillOpen(t *testing.T, ctx context.Context) {
	t.Helper()
	select {
	case <-ctx.Done():
		t.Fatalf("closed: %v", context.Cause(ctx))
	case <-time.After(200 * time.Millisecond):
	}
}

func TestInitFunc(t *testing.T) {
	app, idp := devSetup(t)

	t.Run("ok/browser session, closed at logout", func(t *testing.T) {
		b := newBrowser(t)
		b.signIn(app.URL, "alice", "alice-demo")
		ctx, err := openWebSocket(t, app.svc, b.sessionCookie(app.URL), nil)
		if err != nil {
			t.Fatal(err)
		}
		if v := viewer.FromContext(ctx); v == nil || v.Kind != viewer.KindUser || v.Name != "alice" {
			t.Fatalf("viewer = %+v", v)
		}
		// The user was read at the upgrade; the connection must not go on using that read.
		if v := viewer.FromContext(ctx); v.Record != nil {
			t.Fatalf("a WebSocket viewer carries the record read at the upgrade: %+v", v.Record)
		}
		stillOpen(t, ctx)
		b.signOut(app.URL)
		waitClosed(t, ctx)
	})

	t.Run("ok/bridge token in connection_init, closed when refused", func(t *testing.T) {
		ctx, err := openWebSocket(t, app.svc, nil, transport.InitPayload{"authorization": "Bearer vsb_other"})
		if err != nil {
			t.Fatal(err)
		}
		// The address is the upgrade request's (httptest's 192.0.2.1), not lost with the cookie-less upgrade.
		if v := viewer.FromContext(ctx); v.Kind != viewer.KindBridge || v.OrderID != "ord_2" || v.RemoteAddr != "192.0.2.1" {
			t.Fatalf("viewer = %+v", v)
		}
		stillOpen(t, ctx)
		app.bridges.revoke("vsb_other")
		waitClosed(t, ctx)
	})

	t.Run("ok/portal token in connection_init, closed at expiry", func(t *testing.T) {
		f := startFakeIdP(t)
		clock := testclock.New()
		portalApp := newApp(t, nil, func(cfg *Config) { cfg.Issuer = f.issuer; cfg.Now = clock.Now })
		exp := clock.Now().Add(10 * time.Minute)
		token := f.accessToken("", func(c map[string]any) { c["exp"] = exp.Unix() })
		ctx, err := openWebSocket(t, portalApp.svc, nil, transport.InitPayload{"Authorization": "Bearer " + token})
		if err != nil {
			t.Fatal(err)
		}
		if v := viewer.FromContext(ctx); v.Kind != viewer.KindPortal || !v.HasScope("cards:read") {
			t.Fatalf("viewer = %+v", v)
		}
		stillOpen(t, ctx)
		clock.Advance(exp.Sub(clock.Now()) + time.Second)
		waitClosed(t, ctx)
	})

	t.Run("ok/devidp portal token in connection_init", func(t *testing.T) {
		token := portalToken(t, idp.Issuer(), "demo-portal", "portal-secret", "")
		ctx, err := openWebSocket(t, app.svc, nil, transport.InitPayload{"authorization": "Bearer " + token})
		if err != nil || viewer.FromContext(ctx).Kind != viewer.KindPortal {
			t.Fatalf("init: %v", err)
		}
	})

	t.Run("ok/Desktop App following its cards: no viewer, each subscription proves its card", func(t *testing.T) {
		ctx, err := openWebSocket(t, app.svc, nil, transport.InitPayload{"cardProof": true})
		if err != nil || viewer.FromContext(ctx) != nil {
			t.Fatalf("init: %v, viewer %+v", err, viewer.FromContext(ctx))
		}
	})

	for _, tc := range []struct {
		name    string
		payload transport.InitPayload
	}{
		{"error/anonymous", nil},
		{"error/card proof that is not true", transport.InitPayload{"cardProof": "yes"}},
		{"error/bridge token refused", transport.InitPayload{"authorization": "Bearer vsb_nope"}},
		{"error/invalid portal token", transport.InitPayload{"authorization": "Bearer eyJhbGciOiJub25lIn0.e30."}},
		{"error/not a bearer token", transport.InitPayload{"authorization": "Basic Zm9vOmJhcg=="}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := openWebSocket(t, app.svc, nil, tc.payload); err == nil {
				t.Fatal("connection accepted")
			}
		})
	}

	t.Run("error/upgrade from a foreign origin", func(t *testing.T) {
		req := httptest.NewRequest(http.MethodGet, app.URL+"/query", nil)
		req.Header.Set("Upgrade", "websocket")
		req.Header.Set("Origin", "https://evil.example")
		rec := httptest.NewRecorder()
		app.svc.Middleware(http.NotFoundHandler()).ServeHTTP(rec, req)
		if rec.Code != http.StatusForbidden {
			t.Fatalf("status %d", rec.Code)
		}
	})
}
