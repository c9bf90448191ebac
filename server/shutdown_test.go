package server_test

import (
	"net"
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/vscard/vscard/server/servertest"
)

// TestSIGTERM stops a server process the way a service manager or an orchestrator does,
// with an order in progress and the portal following it: the process keeps serving, and
// delivering the order's changes, for its shutdown delay while /readyz says it is
// shutting down; then it closes the subscription normally and exits with status 0.
// Before that, its metrics listener answers with the open subscription.
func TestSIGTERM(t *testing.T) {
	const delay = 2 * time.Second
	addr, metricsAddr := freeAddr(t), freeAddr(t)
	c := &child{t: t, url: "http://" + addr, env: []string{
		"VSCARD_CRASH_CHILD=1", "VSCARD_ADDR=" + addr, "VSCARD_PUBLIC_URL=http://" + addr,
		"VSCARD_DATA_DIR=" + t.TempDir(), "VSCARD_DATABASE_URL=" + servertest.Database(t),
		"VSCARD_SHUTDOWN_DELAY=" + delay.String(), "VSCARD_METRICS_ADDR=" + metricsAddr,
	}}
	c.start()
	defer c.kill()
	env := &servertest.Env{URL: c.url}
	alice := env.SignIn(t, servertest.Alice)
	o := start(t, env, alice)
	sub := subscribe(t, o, "STARTED")
	resp, err := http.Get("http://" + metricsAddr + "/metrics")
	if err != nil {
		t.Fatalf("metrics listener: %v", err)
	}
	families := parseMetrics(t, resp.Body)
	resp.Body.Close()
	if got := gauge(t, families, "vscard_subscriptions"); got != 1 {
		t.Fatalf("the metrics listener says vscard_subscriptions = %v, want 1", got)
	}

	exited := make(chan error, 1)
	if err := c.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	signalled := time.Now()
	go func() { exited <- c.cmd.Wait() }()
	awaitNotReady(t, c.url, delay)
	if got := o.next(); got != "AWAITING_DESKTOP_APP" {
		t.Fatalf("Next after SIGTERM: %s", got)
	}
	// On PostgreSQL this notice comes through the instance's LISTEN connection: the
	// event bus must outlive the signal.
	if s := nextState(t, sub); s != "AWAITING_DESKTOP_APP" {
		t.Fatalf("the subscription delivered %s after SIGTERM", s)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("the server exited with %v, want status 0", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the server is still running 30 s after SIGTERM")
	}
	if took := time.Since(signalled); took < delay {
		t.Fatalf("the server exited %s after SIGTERM, before its %s delay", took, delay)
	}
	expectNormalClosure(t, sub)
}

// subscribe follows o's order for its user and returns once the first delivery, the
// order's current state, has come; it must be want.
func subscribe(t *testing.T, o *order, want string) *servertest.Subscription {
	t.Helper()
	sub, err := o.user.Subscribe(t.Context(), qUpdates, map[string]any{"id": o.id})
	if err != nil {
		t.Fatal(err)
	}
	if s := nextState(t, sub); s != want {
		t.Fatalf("the subscription began with %s, want %s", s, want)
	}
	return sub
}

// awaitNotReady polls the instance's /readyz until it answers 503, for at most within.
func awaitNotReady(t *testing.T, url string, within time.Duration) {
	t.Helper()
	began := time.Now()
	for status := 0; status != http.StatusServiceUnavailable; status = httpStatus(t, url+"/readyz") {
		if time.Since(began) > within {
			t.Fatalf("/readyz still answers %d %s after the stop began", status, within)
		}
	}
}

// expectNormalClosure waits up to 10 s for sub to end and fails unless it delivered
// nothing more and the server closed it normally (1000), without an error.
func expectNormalClosure(t *testing.T, sub *servertest.Subscription) {
	t.Helper()
	select {
	case _, open := <-sub.Next:
		if open {
			t.Fatal("the subscription delivered after the stop")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the subscription is still open 10 s after the stop")
	}
	if *sub.Closed != websocket.StatusNormalClosure || len(*sub.Err) > 0 {
		t.Fatalf("the subscription ended with close status %d and errors %v, want a normal closure", *sub.Closed, *sub.Err)
	}
}

// nextState waits up to 10 s for the subscription's next delivery and returns the
// order's state.
func nextState(t *testing.T, sub *servertest.Subscription) string {
	t.Helper()
	select {
	case data, ok := <-sub.Next:
		if !ok {
			t.Fatalf("the subscription ended (close status %d, errors %v)", *sub.Closed, *sub.Err)
		}
		return decodeState(t, data)
	case <-time.After(10 * time.Second):
		t.Fatal("the subscription delivered nothing for 10 s")
		return ""
	}
}

// freeAddr returns a loopback address that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
