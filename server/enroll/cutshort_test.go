package enroll

import (
	"bytes"
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/vscard/vscard/ent"
	"github.com/vscard/vscard/ent/auditevent"
	"github.com/vscard/vscard/ent/certificate"
	"github.com/vscard/vscard/ent/order"
	"github.com/vscard/vscard/server/audit"
	"github.com/vscard/vscard/server/ca"
)

// renewal is a renewal of a card, taken as far as a test needs.
type renewal struct {
	card   *ent.Card
	key    []byte // the card's management key, as the card itself knows it
	old    map[string]*ent.Certificate
	order  *ent.Order
	issued []*ent.Certificate
}

// renewing gives u a card made through get-virtual-smart-card and starts its renewal
// (renewingCard).
func (env *testEnv) renewing(t *testing.T, u *ent.User, process string, upto order.State) *renewal {
	t.Helper()
	return env.renewingCard(t, u, env.newCardOf(t, u), process, upto)
}

// syncOf is the sync of r's card by the Desktop App that holds it, reporting a renewal
// cut short when cutShort, with a repaired slot when repaired.
func (env *testEnv) syncOf(t *testing.T, r *renewal, cutShort, repaired bool) *CardSync {
	t.Helper()
	ch, resp := env.answer(t, r.card.Serial, r.key)
	rep := CardReport{Serial: r.card.Serial, Challenge: ch, Response: resp, RenewalCutShort: cutShort}
	if repaired {
		rep.KeyRepairs = []KeyRepair{{Slot: "9A", Outcome: "RESTORED_OLD", CertificateSerial: r.old["9A"].Serial, At: env.clock.Now()}}
	}
	s, err := env.e.SyncCard(context.Background(), rep)
	if err != nil {
		t.Fatalf("sync card %s: %v", r.card.Serial, err)
	}
	return s
}

// endings are the steps of o that end it.
func endingsOf(o *ent.Order) []string {
	var out []string
	for _, s := range o.Steps {
		if slices.Contains(endings, order.State(s.State)) {
			out = append(out, s.State)
		}
	}
	return out
}

// TestSyncEndsARenewalCutShort: a Desktop App that reports a renewal of its card cut short
// (it stopped in the middle, and the agent that started next found the renewal's keys)
// has the server fail the card's renewal order that a Desktop App claimed, as a failure
// does: what it issued is revoked, here and at the CA, the old certificates stay VALID,
// and the sync's answer lists only them. Nothing else ends: not an order that ended
// already, not one still waiting for its Desktop App, not another card's or another
// process's, and nothing on a sync without the report.
func TestSyncEndsARenewalCutShort(t *testing.T) {
	for _, tc := range []struct {
		name     string
		process  string
		upto     order.State
		cutShort bool
		// before ends the order before the sync: "cancel" or "expire".
		before string
		// otherCard: the renewal is of another person's card; the sync is of a card
		// without an order.
		otherCard bool
		want      order.State
	}{
		{name: "ok/claimed, nothing issued yet", process: ProcessRenewCard, upto: order.StateDESKTOP_APP_CONNECTED,
			cutShort: true, want: order.StateFAILED},
		{name: "ok/certificates issued", process: ProcessRenewCard, upto: order.StateISSUING_CERTIFICATES,
			cutShort: true, want: order.StateFAILED},
		{name: "ok/a sync without the report ends nothing", process: ProcessRenewCard, upto: order.StateISSUING_CERTIFICATES,
			want: order.StateISSUING_CERTIFICATES},
		{name: "ok/a cancelled order stays cancelled", process: ProcessRenewCard, upto: order.StateISSUING_CERTIFICATES,
			cutShort: true, before: "cancel", want: order.StateCANCELLED},
		{name: "ok/an expired order stays expired", process: ProcessRenewCard, upto: order.StateISSUING_CERTIFICATES,
			cutShort: true, before: "expire", want: order.StateEXPIRED},
		{name: "ok/an order not claimed yet waits for its Desktop App", process: ProcessRenewCard, upto: order.StateAWAITING_DESKTOP_APP,
			cutShort: true, want: order.StateAWAITING_DESKTOP_APP},
		{name: "ok/another card's renewal is left alone", process: ProcessRenewCard, upto: order.StateISSUING_CERTIFICATES,
			cutShort: true, otherCard: true, want: order.StateISSUING_CERTIFICATES},
		{name: "ok/another process is left alone", process: ProcessIssueCertificates, upto: order.StateISSUING_CERTIFICATES,
			cutShort: true, want: order.StateISSUING_CERTIFICATES},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := newEnv(t, nil)
			script := &switchScript{}
			env.e.opts = script
			owner := env.ann
			if tc.otherCard {
				owner = env.admin
			}
			var r *renewal
			if tc.process == ProcessIssueCertificates {
				crd := env.newCardOf(t, owner)
				script.set(true) // an administrator turns encryption on: the card lacks it
				r = env.renewingCard(t, owner, crd, tc.process, tc.upto)
			} else {
				r = env.renewing(t, owner, tc.process, tc.upto)
			}
			synced := r
			if tc.otherCard {
				synced = env.renewing(t, env.ann, ProcessRenewCard, order.StateISSUING_CERTIFICATES)
				if _, err := env.e.Cancel(env.as(env.ann, false), synced.order.ID, ""); err != nil {
					t.Fatal(err)
				}
			}
			switch tc.before {
			case "cancel":
				if _, err := env.e.Cancel(env.as(owner, false), r.order.ID, ""); err != nil {
					t.Fatal(err)
				}
			case "expire":
				env.clock.Add(env.idle + time.Second) // PostgreSQL keeps microseconds
				if res, err := env.e.Sweep(env.sys); err != nil || res.Expired != 1 {
					t.Fatalf("sweep: %+v, %v", res, err)
				}
			}
			s := env.syncOf(t, synced, tc.cutShort, !tc.cutShort)

			o := env.order(t, r.order.ID)
			if o.State != tc.want {
				t.Fatalf("order %s after the sync, want %s", o.State, tc.want)
			}
			if got := endingsOf(o); len(got) > 1 {
				t.Errorf("the order ended %d times: %v", len(got), got)
			}
			fails := env.db.AuditEvent.Query().Where(auditevent.Action("order.fail"), auditevent.ObjectID(o.ID)).AllX(env.sys)
			if tc.want != order.StateFAILED {
				if o.FailureReason != nil || len(fails) != 0 {
					t.Errorf("failure reason %v, %d order.fail events; want none", o.FailureReason, len(fails))
				}
				if !IsFinal(tc.want) {
					for _, c := range r.issued {
						if got := env.db.Certificate.GetX(env.sys, c.ID); got.State != certificate.StateVALID {
							t.Errorf("new %s certificate of the open order is %s", c.Slot, got.State)
						}
					}
				}
				return
			}
			if o.FailureReason == nil || *o.FailureReason != ReasonRenewalInterrupted {
				t.Errorf("failure reason %v, want %s", o.FailureReason, ReasonRenewalInterrupted)
			}
			if len(fails) != 1 || fails[0].Details["cardSerial"] != r.card.Serial || fails[0].Details["via"] != "desktop-app" {
				t.Errorf("order.fail events %+v, want one naming the card", fails)
			}
			// The Desktop App that proved it holds the card ended it, for the card's owner.
			if f := fails[0]; f.ActorKind != audit.KindCard || f.Actor != "card:"+r.card.Serial || f.ActorID != owner.ID {
				t.Errorf("order.fail by %s %q (%q), want the card's Desktop App for %s", f.ActorKind, f.Actor, f.ActorID, owner.ID)
			}
			last := o.Steps[len(o.Steps)-1]
			if last.Undone == nil || last.Undone.CertificatesRevoked != len(r.issued) {
				t.Errorf("the ending step says it undid %+v, want %d certificates revoked", last.Undone, len(r.issued))
			}
			for _, c := range r.issued {
				if got := env.db.Certificate.GetX(env.sys, c.ID); got.State != certificate.StateREVOKED {
					t.Errorf("new %s certificate is %s after the renewal was ended", c.Slot, got.State)
				}
				if st, _ := env.ca.Status(env.sys, c.Serial); st != ca.StatusRevoked {
					t.Errorf("the CA has the new %s certificate as %v", c.Slot, st)
				}
			}
			// The sync's answer already lists the certificates as the ending left them:
			// the Desktop App puts the old keys back with it.
			var listed []string
			for _, c := range s.Certificates {
				listed = append(listed, c.Serial)
			}
			var want []string
			for _, c := range env.certsBySlot(t, r.card) {
				want = append(want, c.Serial)
			}
			slices.Sort(listed)
			slices.Sort(want)
			if !slices.Equal(listed, want) || len(want) != len(r.old) {
				t.Errorf("the sync lists %v, want the old certificates %v", listed, want)
			}
			for slot, c := range r.old {
				if got := env.db.Certificate.GetX(env.sys, c.ID); got.State != certificate.StateVALID || got.SupersededByID != nil {
					t.Errorf("old %s certificate is %s, superseded by %v", slot, got.State, got.SupersededByID)
				}
			}
			// The person may renew again.
			if p := env.offered(t, env.as(owner, false), r.card, ProcessRenewCard); !p.Available {
				t.Errorf("renew unavailable after the renewal was ended: %s", reasonOf(p))
			}
			// A second report (the agent's next contact) ends nothing more.
			env.syncOf(t, r, true, true)
			if got := endingsOf(env.order(t, o.ID)); len(got) != 1 {
				t.Errorf("endings after a second report: %v", got)
			}
		})
	}
}

// renewingCard gives u's card crd a management key the test knows, and starts process on
// it as u, taken to state upto: AWAITING_DESKTOP_APP (Next), DESKTOP_APP_CONNECTED (the
// claim) or ISSUING_CERTIFICATES (the keys submitted).
func (env *testEnv) renewingCard(t *testing.T, u *ent.User, crd *ent.Card, process string, upto order.State) *renewal {
	t.Helper()
	ctx := env.as(u, false)
	r := &renewal{key: bytes.Repeat([]byte{0x5a, crd.Serial[len(crd.Serial)-1]}, 12)}
	r.card = env.db.Card.UpdateOne(crd).SetManagementKey(env.e.box.Seal(r.key, "card:management-key:"+crd.Serial)).SaveX(env.sys)
	r.old = env.certsBySlot(t, r.card)
	o, err := env.e.Start(ctx, process, crd.ID)
	if err != nil {
		t.Fatal(err)
	}
	if upto == order.StateAWAITING_DESKTOP_APP {
		if _, _, err := env.e.Next(ctx, o.ID); err != nil {
			t.Fatal(err)
		}
	} else {
		claim := env.handOffAndClaim(t, ctx, o)
		if upto == order.StateISSUING_CERTIFICATES {
			if r.issued, err = env.e.SubmitKeys(env.bridge(t, claim.SessionToken), o.ID, keysFor(t, claim.Card.Certificates)); err != nil {
				t.Fatal(err)
			}
		}
	}
	r.order = env.order(t, o.ID)
	if r.order.State != upto {
		t.Fatalf("order %s, want %s", r.order.State, upto)
	}
	return r
}

// TestRenewalCutShortRaces: the report of a renewal cut short meets the person's Cancel or
// the sweep's expiry at the same moment. Exactly one ending wins, whichever it is: the
// order ends once, with one audit event for its ending, and what it issued is revoked.
func TestRenewalCutShortRaces(t *testing.T) {
	for _, other := range []string{"cancel", "expire"} {
		t.Run("ok/"+other, func(t *testing.T) {
			env := newEnv(t, nil)
			env.e.opts = &switchScript{}
			r := env.renewing(t, env.ann, ProcessRenewCard, order.StateISSUING_CERTIFICATES)
			if other == "expire" {
				env.clock.Add(env.idle + time.Second) // PostgreSQL keeps microseconds
			}
			ch, resp := env.answer(t, r.card.Serial, r.key)
			var wg sync.WaitGroup
			var syncErr, otherErr error
			start := make(chan struct{})
			wg.Go(func() {
				<-start
				_, syncErr = env.e.SyncCard(context.Background(),
					CardReport{Serial: r.card.Serial, Challenge: ch, Response: resp, RenewalCutShort: true})
			})
			wg.Go(func() {
				<-start
				if other == "cancel" {
					_, otherErr = env.e.Cancel(env.as(env.ann, false), r.order.ID, "")
					if otherErr != nil && env.order(t, r.order.ID).State == order.StateFAILED {
						otherErr = nil // the report won: the Cancel is refused as the order ended
					}
				} else {
					_, otherErr = env.e.Sweep(env.sys)
				}
			})
			close(start)
			wg.Wait()
			if syncErr != nil || otherErr != nil {
				t.Fatalf("sync: %v; %s: %v", syncErr, other, otherErr)
			}
			o := env.order(t, r.order.ID)
			winner := map[string]order.State{"cancel": order.StateCANCELLED, "expire": order.StateEXPIRED}[other]
			if o.State != order.StateFAILED && o.State != winner {
				t.Fatalf("order %s, want FAILED or %s", o.State, winner)
			}
			if got := endingsOf(o); len(got) != 1 || got[0] != string(o.State) {
				t.Errorf("ending steps %v, want one: %s", got, o.State)
			}
			n := env.db.AuditEvent.Query().Where(auditevent.ObjectID(o.ID),
				auditevent.ActionIn("order.fail", "order.cancel", "order.expire")).CountX(env.sys)
			if n != 1 {
				t.Errorf("%d audit events end the order, want 1", n)
			}
			if (o.FailureReason != nil) != (o.State == order.StateFAILED) {
				t.Errorf("order %s with failure reason %v", o.State, o.FailureReason)
			}
			for _, c := range r.issued {
				if got := env.db.Certificate.GetX(env.sys, c.ID); got.State != certificate.StateREVOKED {
					t.Errorf("new %s certificate is %s", c.Slot, got.State)
				}
			}
		})
	}
}
