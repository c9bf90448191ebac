package agent

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/go-piv/piv-go/v2/piv"

	"github.com/vscard/vscard/desktop-bridge/handoff"
	"github.com/vscard/vscard/desktop-bridge/internal/portaltest"
	"github.com/vscard/vscard/desktop-bridge/internal/tpmtest"
	"github.com/vscard/vscard/desktop-bridge/pcsctest"
	"github.com/vscard/vscard/ent/auditevent"
	"github.com/vscard/vscard/server/servertest"
	"github.com/vscard/vscard/server/testclock"
	"github.com/vscard/vscard/server/viewer"
)

// crashPoint stands for the Desktop App killed during a renewal: when the request named
// op is sent (or, with after, when its answer came), the agent's data directory is copied
// as it is at that instant, which is all a killed process leaves (every change of a card
// is written before the card answers). then runs next, to make the server end the order
// as the scenario needs.
type crashPoint struct {
	op    string
	after bool
	then  func()
}

// crashTransport copies the data directory at the armed crash point.
type crashTransport struct {
	base    http.RoundTripper
	dataDir func() string

	mu    sync.Mutex
	point *crashPoint
	snap  string
}

func (c *crashTransport) arm(p *crashPoint, snap string) {
	c.mu.Lock()
	c.point, c.snap = p, snap
	c.mu.Unlock()
}

func (c *crashTransport) fire(op string, after bool) {
	c.mu.Lock()
	p, snap := c.point, c.snap
	if p == nil || p.op != op || p.after != after {
		c.mu.Unlock()
		return
	}
	c.point = nil
	c.mu.Unlock()
	if err := copyDir(c.dataDir(), snap); err != nil {
		panic(err)
	}
	if p.then != nil {
		p.then()
	}
}

func (c *crashTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	var op struct {
		OperationName string `json:"operationName"`
	}
	if r.Body != nil {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			return nil, err
		}
		r.Body = io.NopCloser(bytes.NewReader(b))
		_ = json.Unmarshal(b, &op)
	}
	c.fire(op.OperationName, false)
	resp, err := c.base.RoundTrip(r)
	if err == nil {
		c.fire(op.OperationName, true)
	}
	return resp, err
}

func copyDir(from, to string) error {
	return filepath.WalkDir(from, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		dst := filepath.Join(to, rel)
		if d.IsDir() {
			return os.MkdirAll(dst, 0o700)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, b, 0o600)
	})
}

// runEnrolment runs link in agent a, answering every PIN prompt with pin, and returns the
// final event.
func runEnrolment(t *testing.T, a *Agent, link, pin string) *handoff.Event {
	t.Helper()
	e, err := a.startEnrolment(EnrolRequest{URL: link, Trust: true, ClientPIN: true})
	if err != nil {
		t.Fatal(err)
	}
	timeout := time.After(2 * time.Minute)
	for i := 0; ; {
		msgs, ended, changed := e.next(i)
		i += len(msgs)
		var last *handoff.Event
		for _, m := range msgs {
			switch m.Type {
			case MsgPINNeeded:
				if err := a.SendPIN(e.id, handoff.PINAnswer{New: pin}); err != nil {
					t.Fatal(err)
				}
			case MsgEvent:
				last = m.Event
			}
		}
		if ended {
			return last
		}
		select {
		case <-changed:
		case <-timeout:
			t.Fatal("the enrolment did not end")
		}
	}
}

// TestRenewalKilled: a Desktop App killed in the middle of a renewal, after the new keys
// were made and their CSRs submitted, or after they were swapped in but before the server
// recorded the renewal as done, leaves a card with two keys for a slot. The next agent
// keeps the one the server's VALID certificate is for, whatever the server decided, and
// drops the other: the card signs with a key of a VALID certificate, and the next renewal
// works.
func TestRenewalKilled(t *testing.T) {
	t.Run("software", func(t *testing.T) { testRenewalKilled(t, nil) })
	t.Run("tpm", func(t *testing.T) {
		tp := tpmtest.Start(t)
		testRenewalKilled(t, func() (io.ReadWriteCloser, error) { return tp.Dial() })
	})
}

// testRenewalKilled runs TestRenewalKilled with new cards in the TPM tpmDial opens, or in
// software when it is nil.
func testRenewalKilled(t *testing.T, tpmDial func() (io.ReadWriteCloser, error)) {
	env := pcsctest.Start(t, 1)
	clock := testclock.New()
	srv := portaltest.Start(t, servertest.WithClock(clock))
	alice := srv.SignIn(t)
	const pin = "482915"
	outerDir := t.TempDir() // outlives the subtests, whose agents go on with the copies made here
	dir := filepath.Join(outerDir, "first")
	tr := &crashTransport{base: http.DefaultTransport, dataDir: func() string { return dir }}
	start := func() *Agent {
		t.Helper()
		a, err := New(Config{
			DataDir: dir, Trust: handoff.NewTrustFile(filepath.Join(dir, "bridge.yaml")),
			Slots:      []Slot{{Addr: env.Readers[0].Addr, Reader: env.Readers[0].Name}},
			HTTPClient: &http.Client{Transport: tr}, Version: "test",
			SyncInterval: -1, PINWatchInterval: -1, TPMDial: tpmDial,
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := a.Start(); err != nil {
			t.Fatal(err)
		}
		return a
	}
	a := start()
	defer func() { a.Close() }()
	order, link := alice.StartOrder()
	if ev := runEnrolment(t, a, link, pin); ev == nil || ev.Step != handoff.StepDone {
		t.Fatalf("new card: %+v", ev)
	}
	alice.Next(order.ID)
	cards, err := a.Cards()
	if err != nil || len(cards) != 1 {
		t.Fatalf("cards %+v, %v", cards, err)
	}
	serial := cards[0].Serial
	serialText := strconv.FormatUint(uint64(serial), 10)

	valid := func() map[string]string {
		out := map[string]string{}
		for _, c := range alice.CardStatus(serialText).Certificates {
			if c.State == "VALID" {
				out[c.Slot] = c.Serial
			}
		}
		return out
	}
	// signsWithValid: PC/SC sees in 9A and 9C the certificates the server has as VALID,
	// and the card signs with the key of each.
	signsWithValid := func(t *testing.T) {
		t.Helper()
		want := valid()
		var yk *piv.YubiKey
		var err error
		for range 100 {
			if yk, err = piv.Open(env.Readers[0].Name); err == nil {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if err != nil {
			t.Fatal(err)
		}
		defer yk.Close()
		for name, slot := range map[string]piv.Slot{"9A": piv.SlotAuthentication, "9C": piv.SlotSignature} {
			cert, err := yk.Certificate(slot)
			if err != nil {
				t.Fatalf("certificate of %s: %v", name, err)
			}
			if got := cert.SerialNumber.Text(16); got != want[name] {
				t.Fatalf("slot %s holds certificate %s, the server's VALID one is %s", name, got, want[name])
			}
			priv, err := yk.PrivateKey(slot, cert.PublicKey, piv.KeyAuth{PIN: pin})
			if err != nil {
				t.Fatal(err)
			}
			digest := sha256.Sum256([]byte("renewal survived " + name))
			sig, err := priv.(crypto.Signer).Sign(nil, digest[:], crypto.SHA256)
			if err != nil {
				t.Fatalf("sign with %s: %v", name, err)
			}
			if !ecdsa.VerifyASN1(cert.PublicKey.(*ecdsa.PublicKey), digest[:], sig) {
				t.Fatalf("slot %s signs with a key that is not its VALID certificate's", name)
			}
		}
		for _, slot := range []string{"9A", "9C"} {
			_, staging, backup, _ := handoff.AsideSlots(slot)
			a.mu.Lock()
			c := a.cards[serial]
			a.mu.Unlock()
			if c.PublicKey(staging) != nil || c.PublicKey(backup) != nil {
				t.Errorf("slot %s: a staged or backup key is still on the card", slot)
			}
		}
	}
	signsWithValid(t)

	audited := 0 // card.keys_repaired events seen
	for i, tc := range []struct {
		name  string
		point crashPoint
		// cancel: the order ends without completing (the person cancels, it expires).
		cancel  bool
		keptNew bool
	}{
		{name: "ok/killed after submitting the CSRs; the renewal ends unfinished",
			point: crashPoint{op: "SubmitCardKeys", after: true}, cancel: true},
		{name: "ok/killed after the swap, the server completed the renewal",
			point: crashPoint{op: "ConfirmCardReady"}, keptNew: true},
		{name: "ok/killed after the swap, the renewal ends unfinished",
			point: crashPoint{op: "ConfirmCardReady"}, cancel: true},
	} {
		i := i
		t.Run(tc.name, func(t *testing.T) {
			before := valid()
			o, link := alice.StartOnCard(handoff.RenewCard, serialText)
			snap := filepath.Join(outerDir, strconv.Itoa(i))
			p := tc.point
			if tc.cancel {
				p.then = func() { alice.Cancel(o.ID) }
			}
			tr.arm(&p, snap)
			runEnrolment(t, a, link, pin) // the first agent goes on; its copy is what a kill leaves
			want := "COMPLETED"
			if tc.cancel {
				want = "CANCELLED"
			}
			if got := alice.Order(o.ID).State; got != want {
				t.Fatalf("order %s, want %s", got, want)
			}
			after := valid()
			if tc.keptNew == (after["9A"] == before["9A"]) {
				t.Fatalf("VALID before %v, after %v", before, after)
			}
			a.Close()
			dir = snap // the restarted Desktop App finds what the killed one left
			a = start()
			// pcscd powers the card on again before anyone connects: a piv.Open that
			// meets the card half powered leaves its exclusive handle behind.
			a.mu.Lock()
			att := a.pool.Attachment(a.cards[serial])
			a.mu.Unlock()
			wctx, cancel := context.WithTimeout(context.Background(), time.Minute) // a busy machine
			defer cancel()
			if err := att.WaitReady(wctx); err != nil {
				t.Fatal(err)
			}
			// The agent's first contact at Start repairs the card already, unless the
			// server's limit on card challenges (restarts in quick succession) refused
			// it; this one, a minute later on the server's clock, is answered.
			clock.Advance(time.Minute)
			for range 2 { // the second sends the report of a repair the first made
				if _, err := a.SyncCard(context.Background(), serial); err != nil {
					t.Fatal(err)
				}
			}
			signsWithValid(t)
			// The server has the repair in its audit log, one event per slot.
			outcome := "RESTORED_OLD"
			if tc.keptNew {
				outcome = "KEPT_NEW"
			}
			events := srv.Env.Server.DB.Client.AuditEvent.Query().
				Where(auditevent.Action("card.keys_repaired")).AllX(viewer.AsServer(context.Background()))
			got := map[string]int{}
			for _, ev := range events[audited:] {
				got[fmt.Sprint(ev.Details["outcome"])]++
			}
			audited = len(events)
			if got[outcome] != 2 || len(got) != 1 {
				t.Errorf("card.keys_repaired events %v, want 2 %s", got, outcome)
			}
		})
	}

	t.Run("ok/a renewal after the repairs works", func(t *testing.T) {
		before := valid()
		o, link := alice.StartOnCard(handoff.RenewCard, serialText)
		if ev := runEnrolment(t, a, link, pin); ev == nil || ev.Step != handoff.StepDone {
			t.Fatalf("renewal: %+v", ev)
		}
		if got := alice.Order(o.ID).State; got != "COMPLETED" {
			t.Fatalf("order %s", got)
		}
		if now := valid(); now["9A"] == before["9A"] || now["9C"] == before["9C"] {
			t.Fatalf("VALID before %v, after %v", before, now)
		}
		signsWithValid(t)
	})
}
