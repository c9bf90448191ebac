package enroll

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vscard/vscard/ent"
	"github.com/vscard/vscard/ent/auditevent"
	"github.com/vscard/vscard/ent/order"
	"github.com/vscard/vscard/server/audit"
	"github.com/vscard/vscard/server/errs"
	"github.com/vscard/vscard/server/record"
)

// resetCard gives u an ACTIVE card whose PUK is sealed as a card's is.
func (env *testEnv) resetCard(t *testing.T, u *ent.User, serial, puk string) *ent.Card {
	t.Helper()
	c := env.activeCard(t, u, serial)
	return env.db.Card.UpdateOne(c).SetPuk(env.e.box.Seal([]byte(puk), "card:puk:"+serial)).SaveX(env.sys)
}

// claimReset starts reset-pin on c as ctx, hands it off and claims it; it returns the
// order and the bridge's session.
func (env *testEnv) claimReset(t *testing.T, ctx context.Context, c *ent.Card) (*ent.Order, string) {
	t.Helper()
	o, err := env.e.Start(ctx, ProcessResetPIN, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	_, h, err := env.e.Next(ctx, o.ID)
	if err != nil || h == nil {
		t.Fatalf("Next = %v, %v", h, err)
	}
	token, process := handoffToken(t, h.URL)
	if process != ProcessResetPIN {
		t.Fatalf("link names %q", process)
	}
	claim, err := env.e.Claim(context.Background(), o.ID, token, device)
	if err != nil {
		t.Fatal(err)
	}
	if claim.Card.Serial != c.Serial || claim.Card.PUK != "" || claim.Card.ManagementKey != "" {
		t.Fatalf("claim gives serial %q and secrets %v/%v; want the card and no secret",
			claim.Card.Serial, claim.Card.PUK != "", claim.Card.ManagementKey != "")
	}
	return claim.Order, claim.SessionToken
}

func TestResetPINReleasesThePUKOnlyToItsOrder(t *testing.T) {
	env := newEnv(t, nil, testCardDesktop())
	ann, admin := env.as(env.ann, false), audit.WithReason(env.as(env.admin, true), "forgot the PIN")
	crd := env.resetCard(t, env.ann, "30000001", "11111111")
	other := env.resetCard(t, env.ann, "30000002", "22222222")

	o, session := env.claimReset(t, ann, crd)
	b := env.bridge(t, session)

	_, err := env.e.ReleasePUK(b, o.ID, other.Serial)
	wantCode(t, err, errs.Forbidden)
	_, err = env.e.ConfirmPUK(b, o.ID, crd.Serial)
	wantCode(t, err, errs.IllegalState)
	_, err = env.e.ReleasePUK(ann, o.ID, crd.Serial)
	wantCode(t, err, errs.Unauthenticated)

	// The session of another order (of another process) on the same card gets nothing.
	env.e.Cancel(ann, o.ID, "")
	o2, err := env.e.Start(ann, "test-card-desktop", crd.ID)
	if err != nil {
		t.Fatal(err)
	}
	_, h, _ := env.e.Next(ann, o2.ID)
	token, _ := handoffToken(t, h.URL)
	claim2, err := env.e.Claim(context.Background(), o2.ID, token, device)
	if err != nil {
		t.Fatal(err)
	}
	_, err = env.e.ReleasePUK(env.bridge(t, claim2.SessionToken), o2.ID, crd.Serial)
	wantCode(t, err, errs.IllegalState)
	env.e.Cancel(ann, o2.ID, "")

	// An operator starts it for ann.
	o, session = env.claimReset(t, admin, crd)
	if o.UserID != env.ann.ID {
		t.Fatalf("order for %s, want the owner", o.UserID)
	}
	b = env.bridge(t, session)
	rel, err := env.e.ReleasePUK(b, o.ID, crd.Serial)
	if err != nil {
		t.Fatal(err)
	}
	if len(rel.Candidates) != 1 || rel.Candidates[0] != "11111111" || len(rel.Fresh) != 8 || rel.Fresh == "11111111" {
		t.Fatalf("release = %d candidates, fresh of %d", len(rel.Candidates), len(rel.Fresh))
	}
	if got := env.order(t, o.ID); got.State != order.StateRESETTING_PIN {
		t.Fatalf("order %s", got.State)
	}
	_, err = env.e.ReleasePUK(env.bridge(t, session), o.ID, crd.Serial)
	wantCode(t, err, errs.IllegalState) // once per order
	done, err := env.e.ConfirmPUK(env.bridge(t, session), o.ID, crd.Serial)
	if err != nil || done.State != order.StateCOMPLETED {
		t.Fatalf("confirm = %v, %v", done, err)
	}
	c := env.db.Card.GetX(env.sys, crd.ID)
	if puk, err := env.e.box.Open(c.Puk, "card:puk:"+c.Serial); err != nil || string(puk) != rel.Fresh {
		t.Fatalf("the card's PUK is not the fresh one (%v)", err)
	}
	if pending, err := env.e.unconfirmedPUKs(c); err != nil || len(pending) != 0 {
		t.Error("unconfirmed PUKs kept after the confirmation")
	}

	// Every step is audited, and no audit event holds a PUK.
	evs := env.db.AuditEvent.Query().Where(auditevent.ObjectIDIn(o.ID, crd.ID)).AllX(env.sys)
	actions := map[string]bool{}
	for _, ev := range evs {
		actions[ev.Action] = true
		for _, puk := range []string{"11111111", rel.Fresh} {
			if strings.Contains(fmtDetails(ev.Details), puk) {
				t.Errorf("audit event %s holds a PUK", ev.Action)
			}
		}
	}
	for _, a := range []string{"order.claim", "order.puk_released", "card.puk_released", "order.puk_confirmed", "card.pin_reset"} {
		if !actions[a] {
			t.Errorf("no audit event %s; have %v", a, actions)
		}
	}
}

// TestResetPINInterrupted: an order that ends after the PUK was released, or expires,
// leaves the server every PUK the card may have, until a run confirms one.
func TestResetPINInterrupted(t *testing.T) {
	env := newEnv(t, nil)
	ann := env.as(env.ann, false)
	crd := env.resetCard(t, env.ann, "30000003", "11111111")

	o, session := env.claimReset(t, ann, crd)
	first, err := env.e.ReleasePUK(env.bridge(t, session), o.ID, crd.Serial)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.e.Cancel(ann, o.ID, "closed"); err != nil {
		t.Fatal(err)
	}

	o, session = env.claimReset(t, ann, crd)
	second, err := env.e.ReleasePUK(env.bridge(t, session), o.ID, crd.Serial)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"11111111", first.Fresh}; strings.Join(second.Candidates, ",") != strings.Join(want, ",") {
		t.Fatalf("candidates after a cancelled run: %d, want the kept PUK and the unconfirmed one", len(second.Candidates))
	}
	env.clock.Add(env.idle + time.Second)
	if res, err := env.e.Sweep(context.Background()); err != nil || res.Expired != 1 {
		t.Fatalf("sweep = %+v, %v", res, err)
	}

	o, session = env.claimReset(t, ann, crd)
	third, err := env.e.ReleasePUK(env.bridge(t, session), o.ID, crd.Serial)
	if err != nil {
		t.Fatal(err)
	}
	if len(third.Candidates) != 1+maxUnconfirmedPUKs || third.Candidates[0] != "11111111" ||
		third.Candidates[2] != second.Fresh {
		t.Fatalf("candidates after two interrupted runs: %d", len(third.Candidates))
	}
	if _, err := env.e.ConfirmPUK(env.bridge(t, session), o.ID, crd.Serial); err != nil {
		t.Fatal(err)
	}
	o, session = env.claimReset(t, ann, crd)
	last, err := env.e.ReleasePUK(env.bridge(t, session), o.ID, crd.Serial)
	if err != nil || len(last.Candidates) != 1 || last.Candidates[0] != third.Fresh {
		t.Fatalf("after a confirmed run: %d candidates, %v", len(last.Candidates), err)
	}
}

func TestReportPINState(t *testing.T) {
	env := newEnv(t, nil)
	ann := env.as(env.ann, false)
	crd := env.resetCard(t, env.ann, "30000004", "11111111")
	o, session := env.claimReset(t, ann, crd)
	c, err := env.e.ReportPINState(env.bridge(t, session), o.ID, crd.Serial, record.PINState{TriesLeft: 0, Blocked: true})
	if err != nil || c.PinState == nil || !c.PinState.Blocked || !c.PinState.ReportedAt.Equal(env.clock.Now()) {
		t.Fatalf("report = %+v, %v", c, err)
	}
	_, err = env.e.ReportPINState(env.bridge(t, session), o.ID, "99999999", record.PINState{})
	wantCode(t, err, errs.Forbidden)
	_, err = env.e.ReportPINState(env.bridge(t, session), o.ID, crd.Serial, record.PINState{TriesLeft: -1})
	wantCode(t, err, errs.InvalidInput)
}

func fmtDetails(m map[string]any) string { return fmt.Sprint(m) }
