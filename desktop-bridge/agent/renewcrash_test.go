package agent

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
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
// as the scenario needs. With kill, nothing the agent sends from then on reaches the
// server (revive ends that), as after a real kill: the order stays where the killed
// Desktop App left it, instead of the first agent going on to finish or fail it.
type crashPoint struct {
	op    string
	after bool
	then  func()
	kill  bool
}

// crashTransport copies the data directory at the armed crash point.
type crashTransport struct {
	base    http.RoundTripper
	dataDir func() string

	mu    sync.Mutex
	point *crashPoint
	snap  string
	dead  bool // killed: every request fails
}

// errKilled is what the agent's requests meet once it stands for a killed Desktop App.
var errKilled = errors.New("crash test: the Desktop App was killed")

// revive lets requests through again, for the agent that restarts from the snapshot.
func (c *crashTransport) revive() {
	c.mu.Lock()
	c.dead = false
	c.mu.Unlock()
}

func (c *crashTransport) isDead() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.dead
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
	c.dead = p.kill
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
	if c.isDead() {
		return nil, errKilled
	}
	c.fire(op.OperationName, false)
	if c.isDead() {
		return nil, errKilled
	}
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

// renewRig is a Desktop App with one card, enrolled for alice on a real server with a
// movable clock, whose traffic goes through a crashTransport: what TestRenewalKilled and
// TestRenewalKilledWhileOpen kill and restart.
type renewRig struct {
	env        *pcsctest.Env
	clock      *testclock.Clock
	srv        *portaltest.Server
	alice      *portaltest.Portal
	outerDir   string // outlives the subtests, whose agents go on with the copies made here
	dir        string // the running agent's data directory
	tr         *crashTransport
	tpmDial    func() (io.ReadWriteCloser, error)
	a          *Agent
	serial     uint32
	serialText string
	audited    int // card.keys_repaired events seen
}

const rigPIN = "482915"

// newRenewRig starts the rig, with new cards in the TPM tpmDial opens (software when
// nil), and enrols the card.
func newRenewRig(t *testing.T, tpmDial func() (io.ReadWriteCloser, error)) *renewRig {
	r := &renewRig{env: pcsctest.Start(t, 1), clock: testclock.New(), tpmDial: tpmDial}
	r.srv = portaltest.Start(t, servertest.WithClock(r.clock))
	r.alice = r.srv.SignIn(t)
	r.outerDir = t.TempDir()
	r.dir = filepath.Join(r.outerDir, "first")
	r.tr = &crashTransport{base: http.DefaultTransport, dataDir: func() string { return r.dir }}
	r.a = r.start(t)
	t.Cleanup(func() { r.a.Close() })
	order, link := r.alice.StartOrder()
	if ev := runEnrolment(t, r.a, link, rigPIN); ev == nil || ev.Step != handoff.StepDone {
		t.Fatalf("new card: %+v", ev)
	}
	r.alice.Next(order.ID)
	cards, err := r.a.Cards()
	if err != nil || len(cards) != 1 {
		t.Fatalf("cards %+v, %v", cards, err)
	}
	r.serial = cards[0].Serial
	r.serialText = strconv.FormatUint(uint64(r.serial), 10)
	return r
}

func (r *renewRig) start(t *testing.T) *Agent {
	t.Helper()
	return startAgent(t, Config{
		DataDir: r.dir, Slots: slotsOf(r.env, 1),
		HTTPClient: &http.Client{Transport: r.tr}, Version: "test",
		SyncInterval: -1, PINWatchInterval: -1, TPMDial: r.tpmDial,
	})
}

// restart stops the running agent and starts one on snap, what the killed one left, and
// waits until pcscd has the card: a piv.Open that meets the card half powered leaves its
// exclusive handle behind.
func (r *renewRig) restart(t *testing.T, snap string) {
	t.Helper()
	r.a.Close()
	r.tr.revive()
	r.dir = snap
	r.a = r.start(t)
	r.a.mu.Lock()
	att := r.a.pool.Attachment(r.a.cards[r.serial])
	r.a.mu.Unlock()
	wctx, cancel := context.WithTimeout(context.Background(), time.Minute) // a busy machine
	defer cancel()
	if err := att.WaitReady(wctx); err != nil {
		t.Fatal(err)
	}
}

// sync contacts the server for the card twice, a minute later on the server's clock: the
// agent's contact at Start may have met the server's limit on card challenges (restarts
// in quick succession), and the second contact sends the report of a repair the first
// made.
func (r *renewRig) sync(t *testing.T) {
	t.Helper()
	r.clock.Advance(time.Minute)
	for range 2 {
		if _, err := r.a.SyncCard(context.Background(), r.serial); err != nil {
			t.Fatal(err)
		}
	}
}

// repairs counts the card.keys_repaired events since the last call, by outcome.
func (r *renewRig) repairs() map[string]int {
	events := r.srv.Env.Server.DB.Client.AuditEvent.Query().
		Where(auditevent.Action("card.keys_repaired")).AllX(viewer.AsServer(context.Background()))
	got := map[string]int{}
	for _, ev := range events[r.audited:] {
		got[fmt.Sprint(ev.Details["outcome"])]++
	}
	r.audited = len(events)
	return got
}

// certs returns the serials of the card's certificates in state, by slot; a slot with
// two (a renewal still open) keeps both.
func (r *renewRig) certs(state string) map[string][]string {
	out := map[string][]string{}
	for _, c := range r.alice.CardStatus(r.serialText).Certificates {
		if c.State == state {
			out[c.Slot] = append(out[c.Slot], c.Serial)
		}
	}
	return out
}

// valid returns the serial of the VALID certificate of each slot (one, outside a renewal).
func (r *renewRig) valid() map[string]string {
	out := map[string]string{}
	for slot, s := range r.certs("VALID") {
		out[slot] = s[len(s)-1]
	}
	return out
}

// signsWith: PC/SC sees in 9A and 9C the certificates want names, and the card signs
// with the key of each. With noAside, no staged or backup key is left on the card.
func (r *renewRig) signsWith(t *testing.T, want map[string]string, noAside bool) {
	t.Helper()
	var yk *piv.YubiKey
	var err error
	for range 100 {
		if yk, err = piv.Open(r.env.Readers[0].Name); err == nil {
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
			t.Fatalf("slot %s holds certificate %s, want %s", name, got, want[name])
		}
		priv, err := yk.PrivateKey(slot, cert.PublicKey, piv.KeyAuth{PIN: rigPIN})
		if err != nil {
			t.Fatal(err)
		}
		digest := sha256.Sum256([]byte("renewal survived " + name))
		sig, err := priv.(crypto.Signer).Sign(nil, digest[:], crypto.SHA256)
		if err != nil {
			t.Fatalf("sign with %s: %v", name, err)
		}
		if !ecdsa.VerifyASN1(cert.PublicKey.(*ecdsa.PublicKey), digest[:], sig) {
			t.Fatalf("slot %s signs with a key that is not its certificate's", name)
		}
	}
	if noAside && r.aside() {
		t.Errorf("a staged or backup key is still on the card")
	}
}

// aside reports whether a staged or backup key of 9A or 9C is on the card.
func (r *renewRig) aside() bool {
	r.a.mu.Lock()
	c := r.a.cards[r.serial]
	r.a.mu.Unlock()
	for _, slot := range []string{"9A", "9C"} {
		_, staging, backup, _ := handoff.AsideSlots(slot)
		if c.PublicKey(staging) != nil || c.PublicKey(backup) != nil {
			return true
		}
	}
	return false
}

// signsWithValid: the card holds and signs with the server's VALID certificates, and no
// staged or backup key is left.
func (r *renewRig) signsWithValid(t *testing.T) {
	t.Helper()
	r.signsWith(t, r.valid(), true)
}

// renewsAgain: a renewal run to its end replaces the VALID certificates of 9A and 9C,
// and the card signs with the new ones.
func (r *renewRig) renewsAgain(t *testing.T) {
	t.Helper()
	before := r.valid()
	o, link := r.alice.StartOnCard(handoff.RenewCard, r.serialText)
	if ev := runEnrolment(t, r.a, link, rigPIN); ev == nil || ev.Step != handoff.StepDone {
		t.Fatalf("renewal: %+v", ev)
	}
	if got := r.alice.Order(o.ID).State; got != "COMPLETED" {
		t.Fatalf("order %s", got)
	}
	if now := r.valid(); now["9A"] == before["9A"] || now["9C"] == before["9C"] {
		t.Fatalf("VALID before %v, after %v", before, now)
	}
	r.signsWithValid(t)
}

// testRenewalKilled runs TestRenewalKilled with new cards in the TPM tpmDial opens, or in
// software when it is nil.
func testRenewalKilled(t *testing.T, tpmDial func() (io.ReadWriteCloser, error)) {
	r := newRenewRig(t, tpmDial)
	r.signsWithValid(t)

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
		t.Run(tc.name, func(t *testing.T) {
			before := r.valid()
			o, link := r.alice.StartOnCard(handoff.RenewCard, r.serialText)
			snap := filepath.Join(r.outerDir, strconv.Itoa(i))
			p := tc.point
			if tc.cancel {
				p.then = func() { r.alice.Cancel(o.ID) }
			}
			r.tr.arm(&p, snap)
			runEnrolment(t, r.a, link, rigPIN) // the first agent goes on; its copy is what a kill leaves
			want := "COMPLETED"
			if tc.cancel {
				want = "CANCELLED"
			}
			if got := r.alice.Order(o.ID).State; got != want {
				t.Fatalf("order %s, want %s", got, want)
			}
			after := r.valid()
			if tc.keptNew == (after["9A"] == before["9A"]) {
				t.Fatalf("VALID before %v, after %v", before, after)
			}
			r.restart(t, snap) // the restarted Desktop App finds what the killed one left
			// The agent's first contact at Start repairs the card already, unless the
			// server's limit on card challenges refused it.
			r.sync(t)
			r.signsWithValid(t)
			// The server has the repair in its audit log, one event per slot.
			outcome := "RESTORED_OLD"
			if tc.keptNew {
				outcome = "KEPT_NEW"
			}
			if got := r.repairs(); got[outcome] != 2 || len(got) != 1 {
				t.Errorf("card.keys_repaired events %v, want 2 %s", got, outcome)
			}
		})
	}

	t.Run("ok/a renewal after the repairs works", r.renewsAgain)
}
