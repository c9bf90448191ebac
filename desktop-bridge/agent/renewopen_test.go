package agent

import (
	"context"
	"io"
	"maps"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/vscard/vscard/desktop-bridge/handoff"
	"github.com/vscard/vscard/desktop-bridge/internal/tpmtest"
	"github.com/vscard/vscard/server/ca"
	"github.com/vscard/vscard/server/enroll"
	"github.com/vscard/vscard/server/viewer"
)

// TestRenewalKilledWhileOpen: a Desktop App killed in the middle of a renewal while the
// order is still open on the server (nothing reaches the server after the kill, so the
// order neither completes nor fails). The bridge session lived in the killed process
// only and the hand-off link is single use, so no Desktop App can take the order up
// again. The restarted agent finds the renewal's keys on the card and says so with its
// first contact (renewalCutShort): the server fails the order there and then, with the
// reason the portal words as a renewal cut short, and revokes what it issued, without
// waiting for the person's Cancel or the order's expiry; the agent puts the old keys and
// certificates back, the server has them VALID and not superseded, and the next renewal
// works. An order the person cancelled before the agent restarted stays cancelled.
func TestRenewalKilledWhileOpen(t *testing.T) {
	t.Run("software", func(t *testing.T) { testRenewalKilledWhileOpen(t, nil) })
	t.Run("tpm", func(t *testing.T) {
		tp := tpmtest.Start(t)
		testRenewalKilledWhileOpen(t, func() (io.ReadWriteCloser, error) { return tp.Dial() })
	})
}

func testRenewalKilledWhileOpen(t *testing.T, tpmDial func() (io.ReadWriteCloser, error)) {
	r := newRenewRig(t, tpmDial)
	for i, tc := range []struct {
		name  string
		point crashPoint
		// open is the order's state the kill leaves.
		open string
		// issued: the server issued the new certificates before the kill.
		issued bool
		// cancel: the person cancels the order before the agent restarts.
		cancel bool
	}{
		{name: "ok/killed after making the keys, before submitting them; the restart ends the order",
			point: crashPoint{op: "SubmitCardKeys"}, open: "DESKTOP_APP_CONNECTED"},
		{name: "ok/killed after the certificates were issued, before the swap; the restart ends the order",
			point: crashPoint{op: "SubmitCardKeys", after: true}, open: "ISSUING_CERTIFICATES", issued: true},
		{name: "ok/killed after the swap, before card-ready; the restart ends the order",
			point: crashPoint{op: "ConfirmCardReady"}, open: "ISSUING_CERTIFICATES", issued: true},
		{name: "ok/killed after the swap, before card-ready; the person cancelled before the restart",
			point: crashPoint{op: "ConfirmCardReady"}, open: "ISSUING_CERTIFICATES", issued: true, cancel: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			old := r.valid()
			o, link := r.alice.StartOnCard(handoff.RenewCard, r.serialText)
			snap := filepath.Join(r.outerDir, "open", string(rune('a'+i)))
			p := tc.point
			p.kill = true
			r.tr.arm(&p, snap)
			runEnrolment(t, r.a, link, rigPIN) // fails: nothing reaches the server any more
			if got := r.alice.Order(o.ID).State; got != tc.open {
				t.Fatalf("order %s after the kill, want %s", got, tc.open)
			}
			// The certificates the order issued: the second VALID one of each slot.
			var issued map[string]string
			if tc.issued {
				issued = map[string]string{}
				for slot, serials := range r.certs("VALID") {
					if len(serials) != 2 || !slices.Contains(serials, old[slot]) {
						t.Fatalf("VALID in %s after the kill: %v, want %s and a new one", slot, serials, old[slot])
					}
					issued[slot] = serials[0]
					if issued[slot] == old[slot] {
						issued[slot] = serials[1]
					}
				}
			}
			ended, reason := "FAILED", enroll.ReasonRenewalInterrupted
			if tc.cancel {
				ended, reason = "CANCELLED", ""
				r.alice.Cancel(o.ID)
			}
			r.restart(t, snap)
			r.sync(t)

			// No Cancel, no expiry: the restarted agent's contact ended the order.
			if got := r.alice.Order(o.ID); got.State != ended || got.FailureReason != reason {
				t.Fatalf("order %s (%q) after the restart, want %s (%q)", got.State, got.FailureReason, ended, reason)
			}
			if now := r.valid(); now["9A"] != old["9A"] || now["9C"] != old["9C"] || len(r.certs("VALID")["9A"]) != 1 {
				t.Fatalf("VALID before %v, after the ending %v", old, r.certs("VALID"))
			}
			r.signsWithValid(t)
			for slot, serial := range issued {
				if !slices.Contains(r.certs("REVOKED")[slot], serial) {
					t.Errorf("the certificate the order issued for %s (%s) is not REVOKED", slot, serial)
				}
				if st, err := r.srv.Env.Server.CA.Status(context.Background(), serial); err != nil || st != ca.StatusRevoked {
					t.Errorf("the CA has %s as %s, %v", serial, st, err)
				}
			}
			for _, c := range r.srv.Env.Server.DB.Client.Certificate.Query().AllX(viewerServer()) {
				if c.SupersededByID != nil && (c.Serial == old["9A"] || c.Serial == old["9C"]) {
					t.Errorf("certificate %s in force is marked superseded", c.Serial)
				}
			}
			if got, want := r.repairs(), map[string]int{"RESTORED_OLD": 2}; !maps.Equal(got, want) {
				t.Errorf("card.keys_repaired events %v, want %v", got, want)
			}
			// The order had ended: its expiry (IdleTTL, 30 minutes), later, finds nothing
			// to do. The person's portal stays open meanwhile (its session too ends after
			// 30 idle minutes).
			r.clock.Advance(20 * time.Minute)
			if got := r.alice.Order(o.ID).State; got != ended {
				t.Fatalf("order %s, want %s", got, ended)
			}
			r.clock.Advance(11 * time.Minute)
			if res, err := r.srv.Env.Server.Enroll.Sweep(context.Background()); err != nil || res.Expired != 0 {
				t.Fatalf("sweep: %+v, %v", res, err)
			}
			if got := r.alice.Order(o.ID).State; got != ended {
				t.Fatalf("order %s after the sweep, want %s", got, ended)
			}
		})
	}
	t.Run("ok/a contact in the middle of a live renewal ends nothing", func(t *testing.T) {
		// After the swap, before card-ready, the card holds the old keys aside, as after a
		// kill at that point; but this agent is running the hand-off, which owns them.
		o, link := r.alice.StartOnCard(handoff.RenewCard, r.serialText)
		var during string
		p := crashPoint{op: "ConfirmCardReady", then: func() {
			if !r.aside() {
				t.Error("no key aside in the middle of the renewal")
			}
			r.clock.Advance(time.Minute) // the server's limit on card challenges
			if _, err := r.a.SyncCard(context.Background(), r.serial); err != nil {
				t.Error(err)
			}
			during = r.alice.Order(o.ID).State
		}}
		r.tr.arm(&p, filepath.Join(r.outerDir, "live"))
		if ev := runEnrolment(t, r.a, link, rigPIN); ev == nil || ev.Step != handoff.StepDone {
			t.Fatalf("renewal: %+v", ev)
		}
		if got := r.alice.Order(o.ID).State; during != "ISSUING_CERTIFICATES" || got != "COMPLETED" {
			t.Fatalf("order %s during the contact, %s after; want ISSUING_CERTIFICATES, COMPLETED", during, got)
		}
		r.signsWithValid(t)
	})
	t.Run("ok/a renewal after the repairs works", r.renewsAgain)
}

func viewerServer() context.Context { return viewer.AsServer(context.Background()) }
