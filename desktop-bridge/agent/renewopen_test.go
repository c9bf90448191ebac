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
	"github.com/vscard/vscard/server/viewer"
)

// TestRenewalKilledWhileOpen: a Desktop App killed in the middle of a renewal while the
// order is still open on the server (nothing reaches the server after the kill, so the
// order neither completes nor fails). The bridge session lived in the killed process
// only and the hand-off link is single use, so no Desktop App can take the order up
// again: the server ends it, by its expiry (the sweep, IdleTTL after its last step) or
// the person's Cancel, and revokes what it issued. Until then the restarted agent keeps
// a card whose slots each hold a key and the certificate it is for, one the server has
// VALID; afterwards the card has the old keys and certificates back, the server has them
// VALID and not superseded, and the next renewal works.
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
		// swapped: the new keys and certificates were in 9A/9C at the kill.
		swapped bool
		// cancel: the person cancels the order; else it expires.
		cancel bool
	}{
		{name: "ok/killed after making the keys, before submitting them; the order expires",
			point: crashPoint{op: "SubmitCardKeys"}, open: "DESKTOP_APP_CONNECTED"},
		{name: "ok/killed after the certificates were issued, before the swap; the order expires",
			point: crashPoint{op: "SubmitCardKeys", after: true}, open: "ISSUING_CERTIFICATES", issued: true},
		{name: "ok/killed after the swap, before card-ready; the order expires",
			point: crashPoint{op: "ConfirmCardReady"}, open: "ISSUING_CERTIFICATES", issued: true, swapped: true},
		{name: "ok/killed after the swap, before card-ready; the person cancels",
			point: crashPoint{op: "ConfirmCardReady"}, open: "ISSUING_CERTIFICATES", issued: true, swapped: true, cancel: true},
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
			r.restart(t, snap)
			r.sync(t)

			// The order is open. A certificate was issued or not; either way the card's
			// slots hold a key and its certificate, which the server has VALID.
			if got := r.alice.Order(o.ID).State; got != tc.open {
				t.Fatalf("order %s after the restart, want %s", got, tc.open)
			}
			valid := r.certs("VALID")
			var issued map[string]string // slot: serial of the certificate the order issued
			for _, slot := range []string{"9A", "9C"} {
				n := 1
				if tc.issued {
					n = 2
				}
				if len(valid[slot]) != n || !slices.Contains(valid[slot], old[slot]) {
					t.Fatalf("VALID in %s: %v, want %d with %s", slot, valid[slot], n, old[slot])
				}
				if tc.issued {
					if issued == nil {
						issued = map[string]string{}
					}
					issued[slot] = valid[slot][0]
					if issued[slot] == old[slot] {
						issued[slot] = valid[slot][1]
					}
				}
			}
			inPlace := old
			if tc.swapped {
				inPlace = issued
			}
			// Nothing issued: the staged keys were of no use and went at once. Else
			// both keys stay until the server has decided.
			r.signsWith(t, inPlace, !tc.issued)
			if tc.issued && !r.aside() {
				t.Errorf("the other key of the slot went while the order was open")
			}
			want := map[string]int{}
			if !tc.issued {
				want["RESTORED_OLD"] = 2
			}
			if got := r.repairs(); !maps.Equal(got, want) {
				t.Errorf("card.keys_repaired events while open %v, want %v", got, want)
			}

			// The server ends the order.
			ended := "EXPIRED"
			if tc.cancel {
				ended = "CANCELLED"
				r.alice.Cancel(o.ID)
			} else {
				// The order's IdleTTL (30 minutes) passes, the person's portal open
				// meanwhile (its session too ends after 30 idle minutes).
				r.clock.Advance(20 * time.Minute)
				if got := r.alice.Order(o.ID).State; got != tc.open {
					t.Fatalf("order %s before its expiry, want %s", got, tc.open)
				}
				r.clock.Advance(11 * time.Minute)
				res, err := r.srv.Env.Server.Enroll.Sweep(context.Background())
				if err != nil || res.Expired != 1 {
					t.Fatalf("sweep: %+v, %v", res, err)
				}
			}
			if got := r.alice.Order(o.ID).State; got != ended {
				t.Fatalf("order %s, want %s", got, ended)
			}
			r.sync(t)
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
			want = map[string]int{}
			if tc.issued {
				want["RESTORED_OLD"] = 2
			}
			if got := r.repairs(); !maps.Equal(got, want) {
				t.Errorf("card.keys_repaired events after the ending %v, want %v", got, want)
			}
		})
	}
	t.Run("ok/a renewal after the repairs works", r.renewsAgain)
}

func viewerServer() context.Context { return viewer.AsServer(context.Background()) }
