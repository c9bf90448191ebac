package server_test

import (
	"context"
	"net/http"
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
