package handoff

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-piv/piv-go/v2/piv"

	"github.com/vscard/vscard/desktop-bridge/internal/portaltest"
	"github.com/vscard/vscard/desktop-bridge/pcsctest"
)

const newPIN = "730461"

// TestChangePIN changes the PIN of a card made by get-virtual-smart-card, through a real
// server, a private pcscd and vpcd: the new PIN is checked against the policy, the card
// then signs with it and no longer takes the old one; a wrong current PIN says the tries
// left (the last one that the card blocks) and leaves the PIN as it was; a blocked PIN
// fails the order with words that send the person to Reset PIN.
func TestChangePIN(t *testing.T) {
	env := pcsctest.Start(t, 1)
	srv := portaltest.Start(t)
	alice := srv.SignIn(t)
	host := newTestHost(t, env)
	trust := &memTrust{}
	trust.Trust(srv.URL)
	run := func(t *testing.T, link string, p *scriptedPrompter) (*Result, []Event, error) {
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

	// The card, as get-virtual-smart-card leaves it: ACTIVE, PIN goodPIN.
	o, link := alice.StartOrder()
	card, _, err := run(t, link, newPrompter(false, goodPIN))
	if err != nil {
		t.Fatal(err)
	}
	if got := alice.Next(o.ID).State; got != "COMPLETED" {
		t.Fatalf("new card order %s", got)
	}
	serial64, _ := strconv.ParseUint(card.Serial, 10, 32)
	serial := uint32(serial64)
	change := func(t *testing.T, answers ...PINAnswer) (*scriptedPrompter, portaltest.Order, []Event, error) {
		t.Helper()
		o, link := alice.StartOnCard(ChangePINProcess, card.Serial)
		p := &scriptedPrompter{answers: answers, cancelled: make(chan struct{})}
		_, events, err := run(t, link, p)
		return p, alice.Order(o.ID), events, err
	}

	t.Run("ok/new PIN against the policy, then the card signs with it", func(t *testing.T) {
		p, o, events, err := change(t, PINAnswer{Current: goodPIN, New: "12"}, PINAnswer{Current: goodPIN, New: newPIN})
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
		if o.State != "COMPLETED" {
			t.Fatalf("order %s (%s), want COMPLETED", o.State, o.FailureReason)
		}
		if len(p.asked) != 2 {
			t.Fatalf("asked %d times, want 2", len(p.asked))
		}
		first := p.asked[0]
		if first.Mode != PINChange || first.Claim.CardSerial != card.Serial || len(first.Problems) != 0 {
			t.Fatalf("first question %+v", first)
		}
		want := CheckPIN(PINChange, first.Claim.PINPolicy, PINAnswer{Current: goodPIN, New: "12"})
		if len(want) == 0 || !slices.Equal(p.asked[1].Problems, want) {
			t.Fatalf("policy problems %v, want %v", p.asked[1].Problems, want)
		}
		if !slices.ContainsFunc(events, func(ev Event) bool { return ev.Step == StepPINChanged }) {
			t.Errorf("no %s event in %v", StepPINChanged, events)
		}
		if err := signWith(host, serial, card.Reader, goodPIN); err == nil {
			t.Error("the card still signs with the old PIN")
		}
		if err := signWith(host, serial, card.Reader, newPIN); err != nil {
			t.Fatalf("sign with the new PIN: %v", err)
		}
	})

	t.Run("error/wrong current PIN says the tries left and changes nothing", func(t *testing.T) {
		p, o, _, err := change(t,
			PINAnswer{Current: "111999", New: "582914"},
			PINAnswer{Current: "111999", New: "582914"},
		) // then the person gives up (the prompter cancels)
		if !errors.Is(err, ErrCancelled) {
			t.Fatalf("error %v, want ErrCancelled", err)
		}
		if o.State != "CANCELLED" {
			t.Errorf("order %s, want CANCELLED", o.State)
		}
		retries := p.asked[0].Claim.PINPolicy.RetryCount
		if retries != 3 {
			t.Fatalf("the test expects 3 tries, the policy has %d", retries)
		}
		if got := p.asked[1].Problems; len(got) != 1 || got[0].Code != ProblemCurrentWrong || !strings.Contains(got[0].Message, "2 more tries") {
			t.Errorf("after the first wrong PIN: %v", got)
		}
		if got := p.asked[2].Problems; len(got) != 1 || got[0].Code != ProblemCurrentWrongLast || !strings.Contains(got[0].Message, "blocks") {
			t.Errorf("after the second wrong PIN: %v", got)
		}
		if err := signWith(host, serial, card.Reader, newPIN); err != nil {
			t.Fatalf("the PIN changed after wrong current PINs: %v", err)
		}
	})

	t.Run("error/blocked PIN fails the order and sends the person to Reset PIN", func(t *testing.T) {
		wrong := PINAnswer{Current: "111999", New: "582914"}
		_, o, events, err := change(t, wrong, wrong, wrong)
		if CodeOf(err) != CodePINBlocked {
			t.Fatalf("error %v, want %s", err, CodePINBlocked)
		}
		if o.State != "FAILED" || o.FailureReason != ReasonPrefix+string(CodePINBlocked) {
			t.Errorf("order %s (%q), want FAILED with the code %s", o.State, o.FailureReason, CodePINBlocked)
		}
		if last := events[len(events)-1]; last.Step != StepFailed || last.Code != CodePINBlocked {
			t.Errorf("last event %+v", last)
		}
		// Asked again, the Desktop App says so before asking for anything.
		p, _, _, err := change(t, PINAnswer{Current: newPIN, New: "582914"})
		if CodeOf(err) != CodePINBlocked || len(p.asked) != 0 {
			t.Errorf("on a blocked card: %v after %d questions", err, len(p.asked))
		}
	})
}

// signWith signs with the card's authentication key as any PC/SC program would, the PIN
// forgotten first (as after taking the card out), and checks the signature against the
// slot's certificate.
func signWith(host *testHost, serial uint32, reader, pin string) error {
	if err := host.ResetCard(serial); err != nil {
		return err
	}
	yk, err := piv.Open(reader)
	if err != nil {
		return err
	}
	defer yk.Close()
	cert, err := yk.Certificate(piv.SlotAuthentication)
	if err != nil {
		return err
	}
	priv, err := yk.PrivateKey(piv.SlotAuthentication, cert.PublicKey, piv.KeyAuth{PIN: pin})
	if err != nil {
		return err
	}
	digest := sha256.Sum256([]byte("change-pin"))
	sig, err := priv.(crypto.Signer).Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil {
		return err
	}
	if pub, ok := cert.PublicKey.(*ecdsa.PublicKey); !ok || !ecdsa.VerifyASN1(pub, digest[:], sig) {
		return errors.New("the signature does not verify with the certificate's key")
	}
	return nil
}
