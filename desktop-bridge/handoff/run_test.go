package handoff

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/go-piv/piv-go/v2/piv"

	"github.com/vscard/vscard/desktop-bridge/api"
	"github.com/vscard/vscard/desktop-bridge/internal/portaltest"
	"github.com/vscard/vscard/desktop-bridge/pcsctest"
	"github.com/vscard/vscard/desktop-bridge/vcard"
)

const goodPIN = "482915"

// TestRun enrols cards against a real vscard server, through a private pcscd with
// vpcd readers, personalising them with piv-go.
func TestRun(t *testing.T) {
	env := pcsctest.Start(t, 2)
	srv := portaltest.Start(t)
	alice := srv.SignIn(t)

	run := func(t *testing.T, link string, host *testHost, p *scriptedPrompter, trust TrustStore) (*Result, []Event, error) {
		t.Helper()
		h, err := ParseLink(link)
		if err != nil {
			t.Fatal(err)
		}
		var events []Event
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		res, err := Run(ctx, Config{
			Trust: trust, Prompter: p, Cards: host, Host: "test-host", Version: "test",
			Logger: testLogger(t), Notify: func(ev Event) { events = append(events, ev) },
		}, h)
		return res, events, err
	}
	trusted := func() TrustStore {
		ts := &memTrust{}
		ts.Trust(srv.URL)
		return ts
	}

	var firstLink string
	t.Run("ok/card ready after refused PINs, active with valid certificates", func(t *testing.T) {
		order, link := alice.StartOrder()
		firstLink = link
		host := newTestHost(t, env)
		p := newPrompter(false, "123456", "11119", "aaaa1", goodPIN)
		res, events, err := run(t, link, host, p, trusted())
		if err != nil {
			t.Fatalf("Run: %v", err)
		}

		// Each refused PIN was refused with one message per broken rule.
		if len(p.asked) != 4 {
			t.Fatalf("asked for a PIN %d times, want 4", len(p.asked))
		}
		policy := p.asked[0].Claim.PINPolicy
		for i, pin := range []string{"123456", "11119", "aaaa1"} {
			want := CheckPIN(PINChoose, policy, PINAnswer{New: pin})
			got := p.asked[i+1].Problems
			if len(want) == 0 || !slices.Equal(got, want) {
				t.Errorf("PIN %q: problems %+v, want %+v", pin, got, want)
			}
		}
		for _, req := range p.asked {
			if req.Mode != PINChoose {
				t.Errorf("asked in mode %q, want %q", req.Mode, PINChoose)
			}
		}
		if n := len(CheckPIN(PINChoose, policy, PINAnswer{New: "aaaa1"})); n < 3 {
			t.Errorf("1234abc broke %d rules; the test wants one that breaks several", n)
		}
		if p.asked[0].Claim.VerificationCode != order.VerificationCode || p.asked[0].Claim.UserName == "" {
			t.Errorf("claim shown %+v, portal code %s", p.asked[0].Claim, order.VerificationCode)
		}

		var steps []Step
		for _, ev := range events {
			steps = append(steps, ev.Step)
		}
		want := []Step{StepClaimed, StepPINAccepted, StepCardCreated, StepCardSecured, StepKeysCreated, StepCertsIssued, StepCertsStored, StepDone}
		if !slices.Equal(steps, want) {
			t.Errorf("steps %v, want %v", steps, want)
		}
		if got := alice.Order(order.ID).State; got != "CARD_READY" {
			t.Errorf("order state %s, want CARD_READY", got)
		}
		if len(res.Certificates) != 2 {
			t.Fatalf("%d certificates, want 2", len(res.Certificates))
		}
		t.Logf("claim to CARD_READY: %v", res.Duration)

		checkCard(t, res, policy.RetryCount)
		serial, _ := strconv.ParseUint(res.Serial, 10, 32)
		if r, err := host.CardReader(uint32(serial)); err != nil || r != res.Reader {
			t.Errorf("CardReader = %q, %v; want %q", r, err, res.Reader)
		}

		if got := alice.Next(order.ID).State; got != "COMPLETED" {
			t.Errorf("after Next: %s, want COMPLETED", got)
		}
		st := alice.CardStatus(res.Serial)
		if st.State != "ACTIVE" || len(st.Certificates) != 2 {
			t.Fatalf("card status %+v", st)
		}
		for _, c := range st.Certificates {
			if c.State != "VALID" {
				t.Errorf("certificate %s in %s: %s, want VALID", c.Serial, c.Slot, c.State)
			}
		}
	})

	t.Run("error/reused link refused with TOKEN_ALREADY_USED", func(t *testing.T) {
		if firstLink == "" {
			t.Skip("needs the first enrolment")
		}
		host := newTestHost(t, env)
		_, events, err := run(t, firstLink, host, newPrompter(false, goodPIN), trusted())
		if code := api.Code(err); code != api.ErrorCodeTokenAlreadyUsed {
			t.Fatalf("error %v (code %q), want %s", err, code, api.ErrorCodeTokenAlreadyUsed)
		}
		if last := events[len(events)-1]; last.Step != StepFailed || last.Error == "" {
			t.Errorf("last event %+v, want a failure with a message", last)
		}
		if len(host.deleted) != 0 || len(host.cards) != 0 {
			t.Error("a card was made for a refused link")
		}
	})

	t.Run("error/untrusted server refused before the claim", func(t *testing.T) {
		order, link := alice.StartOrder()
		_, _, err := run(t, link, newTestHost(t, env), newPrompter(false, goodPIN), &memTrust{})
		if !errors.Is(err, ErrUntrusted) {
			t.Fatalf("error %v, want ErrUntrusted", err)
		}
		// The link was not used: the person can still trust the server and go on.
		if got := alice.Order(order.ID).State; got != "AWAITING_DESKTOP_APP" {
			t.Errorf("order state %s, want AWAITING_DESKTOP_APP", got)
		}
		alice.Cancel(order.ID)
	})

	t.Run("ok/trusting on first use puts the server on the list", func(t *testing.T) {
		_, link := alice.StartOrder()
		ts := &memTrust{}
		p := newPrompter(true) // trusts, then cancels at the PIN prompt
		_, _, err := run(t, link, newTestHost(t, env), p, ts)
		if !errors.Is(err, ErrCancelled) {
			t.Fatalf("error %v, want ErrCancelled", err)
		}
		if ok, _ := ts.Trusted(srv.URL); !ok {
			t.Error("server not trusted after the person trusted it")
		}
	})

	t.Run("ok/cancel on the PIN page cancels the order", func(t *testing.T) {
		order, link := alice.StartOrder()
		_, events, err := run(t, link, newTestHost(t, env), newPrompter(false), trusted())
		if !errors.Is(err, ErrCancelled) {
			t.Fatalf("error %v, want ErrCancelled", err)
		}
		if last := events[len(events)-1]; last.Step != StepCancelled {
			t.Errorf("last event %+v", last)
		}
		if got := alice.Order(order.ID).State; got != "CANCELLED" {
			t.Errorf("order state %s, want CANCELLED", got)
		}
	})

	t.Run("ok/cancel in the portal mid-enrolment deletes the card", func(t *testing.T) {
		order, link := alice.StartOrder()
		host := newTestHost(t, env)
		var serial uint32
		host.afterCreate = func(s uint32) {
			serial = s
			if got := alice.Cancel(order.ID).State; got != "CANCELLED" {
				t.Errorf("portal cancel: %s", got)
			}
		}
		_, events, err := run(t, link, host, newPrompter(false, goodPIN), trusted())
		if !errors.Is(err, ErrCancelledByServer) {
			t.Fatalf("error %v, want ErrCancelledByServer", err)
		}
		if serial == 0 || !host.wasDeleted(serial) {
			t.Fatalf("card %d not deleted", serial)
		}
		if serials, _ := vcard.List(host.dir); len(serials) != 0 {
			t.Errorf("card files left: %v", serials)
		}
		if last := events[len(events)-1]; last.Step != StepCancelled {
			t.Errorf("last event %+v", last)
		}
		if got := alice.Order(order.ID); got.State != "CANCELLED" {
			t.Errorf("order %+v, want CANCELLED (the bridge must not turn it into FAILED)", got)
		}
		var st struct{ CardStatus *portaltest.CardStatus }
		err = alice.TryGraphQL(`query($s: String!) { cardStatus(serial: $s) { state certificates { serial state } } }`,
			map[string]any{"s": strconv.FormatUint(uint64(serial), 10)}, &st)
		if err == nil && st.CardStatus != nil {
			for _, c := range st.CardStatus.Certificates {
				if c.State == "VALID" {
					t.Errorf("certificate %s still VALID after cancel", c.Serial)
				}
			}
		}
	})

	// runReady runs an order to a ready card with Tasks, for the follower's tests, and
	// returns the card's serial.
	runReady := func(t *testing.T, ctx context.Context, host *testHost, tasks *sync.WaitGroup) (orderID string, serial uint32) {
		t.Helper()
		order, link := alice.StartOrder()
		h, err := ParseLink(link)
		if err != nil {
			t.Fatal(err)
		}
		res, err := Run(ctx, Config{
			Trust: trusted(), Prompter: newPrompter(false, goodPIN), Cards: host,
			Logger: testLogger(t), Tasks: tasks,
		}, h)
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
		n, _ := strconv.ParseUint(res.Serial, 10, 32)
		return order.ID, uint32(n)
	}

	t.Run("ok/cancel in the portal after the card is ready deletes it, and the follower ends", func(t *testing.T) {
		host := newTestHost(t, env)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		var tasks sync.WaitGroup
		orderID, serial := runReady(t, ctx, host, &tasks)
		if host.wasDeleted(serial) {
			t.Fatal("card deleted before the order ended")
		}
		if got := alice.Cancel(orderID).State; got != "CANCELLED" {
			t.Fatalf("portal cancel: %s", got)
		}
		// Waiting for Tasks is what an owner does on close: it returns once the follower
		// has seen the cancel and deleted the card, not before.
		tasks.Wait()
		if !host.wasDeleted(serial) {
			t.Errorf("card %d still there after the order was cancelled", serial)
		}
	})

	t.Run("ok/the follower ends with its context", func(t *testing.T) {
		host := newTestHost(t, env)
		ctx, cancel := context.WithCancel(context.Background())
		var tasks sync.WaitGroup
		_, serial := runReady(t, ctx, host, &tasks)
		cancel()
		tasks.Wait() // hangs (test timeout) if the follower ignores its context
		if host.wasDeleted(serial) {
			t.Errorf("card %d deleted although its order is still CARD_READY", serial)
		}
	})
}

// checkCard opens the finished card with piv-go and checks what the enrolment put on it.
func checkCard(t *testing.T, res *Result, retries int) {
	t.Helper()
	yk, err := piv.Open(res.Reader)
	if err != nil {
		t.Fatalf("open %s: %v", res.Reader, err)
	}
	defer yk.Close()
	if s, err := yk.Serial(); err != nil || strconv.FormatUint(uint64(s), 10) != res.Serial {
		t.Errorf("card serial %d (%v), want %s", s, err, res.Serial)
	}
	for _, c := range res.Certificates {
		slot, _ := pivSlot(c.Slot)
		onCard, err := yk.Certificate(slot)
		if err != nil {
			t.Errorf("certificate in %s: %v", c.Slot, err)
			continue
		}
		issued, _ := parseCertificatePEM(c.PEM)
		if issued == nil || !onCard.Equal(issued) {
			t.Errorf("slot %s holds another certificate than the issued one", c.Slot)
		}
	}
	if n, err := yk.Retries(); err != nil || n != retries {
		t.Errorf("PIN retries %d (%v), want %d", n, err, retries)
	}
	if err := yk.VerifyPIN(piv.DefaultPIN); err == nil {
		t.Error("the default PIN still works")
	}
	if err := yk.VerifyPIN(goodPIN); err != nil {
		t.Errorf("the chosen PIN does not work: %v", err)
	}
	if err := yk.SetManagementKey(piv.DefaultManagementKey, piv.DefaultManagementKey); err == nil {
		t.Error("the default management key still works")
	}
}
