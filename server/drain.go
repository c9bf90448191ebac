package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vscard/vscard/server/auth"
)

// shutdownTimeout bounds how long requests in flight may take to finish once an instance
// stops listening.
const shutdownTimeout = 15 * time.Second

// drainer ends what outlives an HTTP server's Shutdown: WebSocket connections, which
// net/http hands over to their handler and no longer tracks.
type drainer struct {
	draining atomic.Bool // /readyz says so from the first moment of a drain

	mu     sync.Mutex
	ending bool // set once: no new WebSocket is served after it
	open   sync.WaitGroup
	// end, cancelled with ending, ends every WebSocket's context.
	end       context.Context
	endCancel context.CancelFunc
}

func newDrainer() *drainer {
	d := &drainer{}
	d.end, d.endCancel = context.WithCancel(context.Background())
	return d
}

// webSockets gives each WebSocket a context that ends when the drain ends subscriptions, and
// counts them, so that the drain can wait for their close frames.
func (d *drainer) webSockets(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !auth.IsWebSocketUpgrade(r) {
			next.ServeHTTP(w, r)
			return
		}
		d.mu.Lock()
		if d.ending {
			d.mu.Unlock()
			w.Header().Set("Connection", "close")
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "shutting down"})
			return
		}
		d.open.Add(1)
		d.mu.Unlock()
		defer d.open.Done()
		ctx, cancel := context.WithCancel(r.Context())
		defer cancel()
		defer context.AfterFunc(d.end, cancel)()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// endWebSockets ends every WebSocket's context: gqlgen then closes the connection with a
// normal closure (1000), which the portal's client answers by reconnecting.
func (d *drainer) endWebSockets() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.ending = true
	d.endCancel()
}

// Drain takes the instance out of service and stops hs, as a rolling restart behind a
// load balancer needs, and returns when that is done or ctx ends:
//
//  1. /readyz answers 503 at once, so that the balancer's health checks take the instance
//     out of rotation, while everything else is still served for Config.ShutdownDelay;
//  2. hs stops listening, and the requests in flight finish;
//  3. open subscriptions are closed with a normal closure: their clients reconnect,
//     through the balancer to another instance, and re-read their order there.
//
// The event bus and the database stay open, so that subscriptions hear of changes until
// they are closed; Close releases them.
func (s *Server) Drain(ctx context.Context, hs *http.Server) error {
	s.drain.draining.Store(true)
	if d := s.Config.ShutdownDelay; d > 0 {
		s.log.Info("draining: /readyz reports shutting down; still serving", "for", d)
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
		}
	}
	s.log.Info("shutting down: no new connections; finishing requests in flight, closing subscriptions")
	// Shutdown runs its hooks once the listeners are closed: a client that reconnects at
	// once reaches another instance.
	hs.RegisterOnShutdown(s.drain.endWebSockets)
	err := hs.Shutdown(ctx)
	s.drain.endWebSockets() // when Shutdown gave up at ctx before its hooks ran
	closed := make(chan struct{})
	go func() { s.drain.open.Wait(); close(closed) }()
	select {
	case <-closed:
	case <-ctx.Done():
		err = errors.Join(err, fmt.Errorf("close subscriptions: %w", ctx.Err()))
	}
	if err != nil {
		return fmt.Errorf("shut down http: %w", err)
	}
	return nil
}
