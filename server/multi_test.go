package server_test

import (
	"context"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/vscard/vscard/server"
	"github.com/vscard/vscard/server/servertest"
)

var allStates = []string{"STARTED", "AWAITING_DESKTOP_APP", "DESKTOP_APP_CONNECTED", "CREATING_CARD", "ISSUING_CERTIFICATES", "CARD_READY", "COMPLETED"}

// follow subscribes to the order on the user's instance and returns a func that waits
// for the subscription to end and returns every state it delivered, repeats removed.
func follow(t *testing.T, o *order) func() []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	sub, err := o.user.Subscribe(ctx, qUpdates, map[string]any{"id": o.id})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	first, ok := <-sub.Next // the current state comes first, so we are subscribed
	if !ok {
		cancel()
		t.Fatalf("subscription ended at once: %v", *sub.Err)
	}
	return func() []string {
		defer cancel()
		defer sub.Close()
		states := []string{decodeState(t, first)}
		for data := range sub.Next {
			if s := decodeState(t, data); s != states[len(states)-1] {
				states = append(states, s)
			}
		}
		if len(*sub.Err) > 0 {
			t.Fatalf("subscription ended with %v", *sub.Err)
		}
		return states
	}
}

// TestTwoInstances runs two server instances on one PostgreSQL database and one set of CA
// files, as behind a load balancer: an order moves freely between them, the portal's
// subscription on one instance sees every change made through the other, and when an
// instance dies the other carries the order to the end.
func TestTwoInstances(t *testing.T) {
	envs := servertest.StartCluster(t, 2)
	a, b := envs[0], envs[1]
	alice := a.SignIn(t, servertest.Alice)

	t.Run("ok/started on A, claimed and completed through B, followed live on A", func(t *testing.T) {
		o := start(t, a, alice)
		states := follow(t, o)
		if got := o.next(); got != "AWAITING_DESKTOP_APP" {
			t.Fatalf("after Next the order is %s", got)
		}
		o.env = b // the desktop bridge reaches the other instance
		o.mustClaim()
		o.mustCreate()
		o.mustSubmit()
		o.mustReady()
		o.user = alice.At(b.URL) // and so does the portal's last Next
		if got := o.next(); got != "COMPLETED" {
			t.Fatalf("after the last Next the order is %s", got)
		}
		if got := states(); !equal(got, allStates) {
			t.Fatalf("subscription on A saw %v\nwant %v", got, allStates)
		}

		// Either instance tells the same story: the CA is one CA.
		var card struct {
			Card struct {
				State        string
				Certificates struct{ Edges []struct{ Node issued } }
			}
		}
		alice.MustDo(t, qCard, map[string]any{"serial": o.claim.Card.Serial}, &card)
		if card.Card.State != "ACTIVE" || len(card.Card.Certificates.Edges) != 2 {
			t.Fatalf("card on A: %+v", card.Card)
		}
		for _, c := range o.certs {
			if got := ocspStatus(t, a, c.Pem); got != ocsp.Good {
				t.Errorf("A's OCSP says %d for %s issued through B, want good", got, c.Serial)
			}
		}
	})

	t.Run("ok/B dies mid-order and A completes it", func(t *testing.T) {
		alice := alice.At(a.URL)
		o := start(t, a, alice)
		states := follow(t, o)
		o.next()
		o.env = b
		o.mustClaim()
		o.mustCreate()

		b.Kill()
		if err := o.bridge.Do(context.Background(), qOrder, map[string]any{"id": o.id}, nil); err == nil {
			t.Fatal("B still answers after it was killed")
		}

		o.env, o.bridge = a, o.bridge.At(a.URL) // the load balancer sends the bridge to A
		o.mustSubmit()
		o.mustReady()
		if got := o.next(); got != "COMPLETED" {
			t.Fatalf("after the last Next the order is %s", got)
		}
		if got := states(); !equal(got, allStates) {
			t.Fatalf("subscription on A saw %v\nwant %v", got, allStates)
		}
		for _, c := range o.certs {
			if st, err := a.Server.CA.Status(context.Background(), c.Serial); err != nil || st != "VALID" {
				t.Errorf("certificate %s is %s at the CA (%v), want VALID", c.Serial, st, err)
			}
		}
	})
}

// TestRollingRestart stops instance A of two the way a rolling restart does, with an
// order in progress and the portal following it on A: A keeps serving while /readyz
// tells the balancer to stop sending it requests, then closes the subscription normally;
// the portal reconnects to B, gets the order's current state first, and the order ends
// there.
func TestRollingRestart(t *testing.T) {
	const delay = 2 * time.Second
	envs := servertest.StartCluster(t, 2, func(c *server.Config) { c.ShutdownDelay = delay })
	a, b := envs[0], envs[1]
	alice := a.SignIn(t, servertest.Alice)
	o := start(t, a, alice)
	sub := subscribe(t, o, "STARTED")

	drained := make(chan error, 1)
	began := time.Now()
	go func() { drained <- a.Drain(context.Background()) }()
	awaitNotReady(t, a.URL, delay)
	// Still serving, and still delivering changes, until the delay is over.
	if got := o.next(); got != "AWAITING_DESKTOP_APP" {
		t.Fatalf("Next on the draining instance: %s", got)
	}
	if s := nextState(t, sub); s != "AWAITING_DESKTOP_APP" {
		t.Fatalf("the draining instance's subscription delivered %s", s)
	}
	if err := <-drained; err != nil {
		t.Fatalf("drain: %v", err)
	}
	if took := time.Since(began); took < delay {
		t.Fatalf("A stopped after %s, before its %s delay", took, delay)
	}
	expectNormalClosure(t, sub)
	if _, err := http.Get(a.URL + "/healthz"); err == nil {
		t.Fatal("A still accepts connections after draining")
	}

	// The portal's client reconnects; the balancer sends it to B.
	o.user, o.env = alice.At(b.URL), b
	states := follow(t, o)
	o.mustClaim()
	o.mustCreate()
	o.mustSubmit()
	o.mustReady()
	if got := o.next(); got != "COMPLETED" {
		t.Fatalf("after the last Next the order is %s", got)
	}
	if got, want := states(), allStates[1:]; !equal(got, want) {
		t.Fatalf("the subscription on B saw %v\nwant %v (the current state first)", got, want)
	}
}

func httpStatus(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestRollingRestartUnderLoad restarts both instances of a cluster, one after the other,
// while three people run orders through a load balancer that, like Caddy configured as
// the README says, health-checks /readyz every 100 ms and sends requests only to ready
// instances: A drains, a fresh instance C joins, B drains. No request may fail. (Without
// the shutdown delay, requests the balancer sends before its next check fail: seen.)
func TestRollingRestartUnderLoad(t *testing.T) {
	limits := func(c *server.Config) {
		c.ShutdownDelay = time.Second // ten health checks
		c.Limits.StartsPerMinute, c.Limits.StartBurst = 6000, 1000
	}
	envs := servertest.StartCluster(t, 2, limits)
	a, b := envs[0], envs[1]
	lb := newBalancer(t, a.URL, b.URL)
	front := &servertest.Env{URL: lb.URL}
	var users []*servertest.Client
	for _, who := range []servertest.Credentials{servertest.Alice, servertest.Carol, servertest.Admin} {
		users = append(users, a.SignIn(t, who).At(lb.URL)) // the session is in the shared database
	}

	var started, completed atomic.Int64
	stop := make(chan struct{})
	failures := make(chan error, len(users))
	finished := make(chan struct{}, 1) // an order completed since the last look
	var wg sync.WaitGroup
	for _, u := range users {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := driveOrder(front, u, &started); err != nil {
					failures <- err
					return
				}
				completed.Add(1)
				select {
				case finished <- struct{}{}:
				default:
				}
			}
		}()
	}
	// awaitOrders waits until n orders have completed from now on: each phase runs under
	// load however slow the machine, where a fixed pause may see none on a busy one.
	awaitOrders := func(phase string, n int64) {
		t.Helper()
		target := completed.Load() + n
		timeout := time.After(2 * time.Minute)
		for completed.Load() < target {
			select {
			case <-finished:
			case <-timeout:
				close(stop)
				for len(failures) > 0 {
					t.Errorf("a request failed: %v", <-failures)
				}
				t.Fatalf("%s: %d orders completed in two minutes, want %d", phase, completed.Load()-target+n, n)
			}
		}
	}
	awaitOrders("before the restarts", 3)
	if err := a.Drain(context.Background()); err != nil {
		t.Fatalf("drain A: %v", err)
	}
	c := servertest.Start(t, servertest.WithDatabase(a.Server.Config.DatabaseURL),
		servertest.WithDataDir(a.Server.Config.DataDir), limits)
	lb.add(c.URL)
	awaitOrders("with B and C", 3)
	if err := b.Drain(context.Background()); err != nil {
		t.Fatalf("drain B: %v", err)
	}
	awaitOrders("with C alone", 3)
	close(stop)
	wg.Wait()
	close(failures)
	for err := range failures {
		t.Errorf("a request failed during the restarts: %v", err)
	}
	served := lb.served()
	t.Logf("orders completed %d; requests served by A %d, B %d, C %d", completed.Load(), served[a.URL], served[b.URL], served[c.URL])
	for _, e := range []*servertest.Env{a, b, c} {
		if served[e.URL] == 0 {
			t.Errorf("instance %s served no request: the test did not exercise it", e.URL)
		}
	}
}

// balancer is a small HTTP load balancer for tests: round robin over the backends whose
// /readyz answered 200 at the last check, every 100 ms.
type balancer struct {
	*httptest.Server
	mu       sync.Mutex
	backends []string
	ready    map[string]bool
	count    map[string]int
	next     int
}

func newBalancer(t *testing.T, backends ...string) *balancer {
	lb := &balancer{ready: map[string]bool{}, count: map[string]int{}}
	for _, u := range backends {
		lb.add(u)
	}
	proxy := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		target, _ := url.Parse(lb.pick())
		r.SetURL(target)
	}}
	lb.Server = httptest.NewServer(proxy)
	t.Cleanup(lb.Close)
	go func() {
		for {
			select {
			case <-t.Context().Done():
				return
			case <-time.After(100 * time.Millisecond):
			}
			lb.mu.Lock()
			all := slices.Clone(lb.backends)
			lb.mu.Unlock()
			for _, u := range all {
				resp, err := http.Get(u + "/readyz")
				ok := err == nil && resp.StatusCode == http.StatusOK
				if err == nil {
					resp.Body.Close()
				}
				lb.mu.Lock()
				lb.ready[u] = ok
				lb.mu.Unlock()
			}
		}
	}()
	return lb
}

// add puts a backend into rotation (as ready: the health check corrects that).
func (lb *balancer) add(u string) {
	lb.mu.Lock()
	defer lb.mu.Unlock()
	lb.backends = append(lb.backends, u)
	lb.ready[u] = true
}

func (lb *balancer) pick() string {
	lb.mu.Lock()
	defer lb.mu.Unlock()
	for range lb.backends {
		u := lb.backends[lb.next%len(lb.backends)]
		lb.next++
		if lb.ready[u] {
			lb.count[u]++
			return u
		}
	}
	return "http://127.0.0.1:1" // none ready: the request fails, and the test with it
}

func (lb *balancer) served() map[string]int {
	lb.mu.Lock()
	defer lb.mu.Unlock()
	return maps.Clone(lb.count)
}
