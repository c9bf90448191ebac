package enroll

import (
	"context"
	"testing"

	"github.com/vscard/vscard/ent"
	"github.com/vscard/vscard/ent/auditevent"
	"github.com/vscard/vscard/ent/card"
	"github.com/vscard/vscard/ent/order"
	"github.com/vscard/vscard/server/cardspec"
	"github.com/vscard/vscard/server/errs"
)

// laterOptions is the option script after an administrator changed the PIN rules.
type laterOptions struct{ fixedOptions }

func (l laterOptions) Evaluate(ctx context.Context, u *ent.User) (*cardspec.Options, string, error) {
	o, _, err := l.fixedOptions.Evaluate(ctx, u)
	o.PIN = cardspec.PINPolicy{MinLength: 8, MaxLength: 8, Digits: cardspec.Required}
	return o, "2", err
}

// TestChangePIN runs change-pin on the server: offered on an ACTIVE card only, handed to
// the Desktop App with the card and the PIN rules of the option script at the claim (not
// at the start), never the card's secrets; the Desktop App's step completes the order,
// each step with its audit event; and a card locked meanwhile cannot be claimed.
func TestChangePIN(t *testing.T) {
	env := newEnv(t, nil)
	ann := env.as(env.ann, false)
	crd := env.activeCard(t, env.ann, "20000001")

	ps, err := env.e.Processes(ann, crd.ID)
	if err != nil {
		t.Fatal(err)
	}
	if p := offerOf(t, ps, ProcessChangePIN); !p.Available || p.DisplayName != "process.change-pin.name" {
		t.Fatalf("offer = %+v", p)
	}
	o, err := env.e.Start(ann, ProcessChangePIN, crd.ID)
	if err != nil {
		t.Fatal(err)
	}
	if o.Options != nil {
		t.Fatalf("change-pin kept options at the start: %+v", o.Options)
	}
	o, h, err := env.e.Next(ann, o.ID)
	if err != nil || h == nil || o.State != order.StateAWAITING_DESKTOP_APP {
		t.Fatalf("Next = %v, %v, %v", o, h, err)
	}
	token, process := handoffToken(t, h.URL)
	if process != ProcessChangePIN {
		t.Fatalf("link names %q", process)
	}
	env.e.opts = laterOptions{} // the rules change while the link waits
	claim, err := env.e.Claim(context.Background(), o.ID, token, device)
	if err != nil {
		t.Fatal(err)
	}
	c := claim.Card
	if claim.Process != ProcessChangePIN || c.Serial != crd.Serial {
		t.Fatalf("claim = %+v", claim)
	}
	if c.PINPolicy.MinLength != 8 || c.PINPolicy.Digits != cardspec.Required {
		t.Fatalf("claim's PIN policy = %+v, want the option script's at the claim", c.PINPolicy)
	}
	if c.PUK != "" || c.ManagementKey != "" || len(c.Certificates) != 0 {
		t.Fatalf("claim hands out what changing a PIN does not need: %+v", c)
	}
	// Next is not the person's while the Desktop App has the order.
	_, _, err = env.e.Next(ann, o.ID)
	wantCode(t, err, errs.IllegalState)

	if o, err = env.e.BridgeNext(env.bridge(t, claim.SessionToken), o.ID, "PIN changed"); err != nil || o.State != order.StateCOMPLETED {
		t.Fatalf("BridgeNext = %v, %v", o, err)
	}
	if got := env.db.Card.GetX(env.sys, crd.ID); got.State != card.StateACTIVE {
		t.Fatalf("card is %s", got.State)
	}
	actions := env.db.AuditEvent.Query().Where(auditevent.ObjectID(o.ID)).Order(ent.Asc(auditevent.FieldAt), ent.Asc(auditevent.FieldID)).
		Select(auditevent.FieldAction).StringsX(env.sys)
	want := []string{"order.start", "order.next", "order.claim", "order.pin_changed"}
	if len(actions) != len(want) {
		t.Fatalf("audit = %v, want %v", actions, want)
	}
	for i := range want {
		if actions[i] != want[i] {
			t.Fatalf("audit = %v, want %v", actions, want)
		}
	}

	// Locked between the start and the claim: the Desktop App gets nothing.
	o, err = env.e.Start(ann, ProcessChangePIN, crd.ID)
	if err != nil {
		t.Fatal(err)
	}
	_, h, err = env.e.Next(ann, o.ID)
	if err != nil {
		t.Fatal(err)
	}
	env.db.Card.UpdateOneID(crd.ID).SetState(card.StateLOCKED).ExecX(env.sys)
	token, _ = handoffToken(t, h.URL)
	_, err = env.e.Claim(context.Background(), o.ID, token, device)
	wantCode(t, err, errs.IllegalState)
	if _, err := env.e.Cancel(ann, o.ID, ""); err != nil {
		t.Fatal(err)
	}
	ps, _ = env.e.Processes(ann, crd.ID)
	if p := offerOf(t, ps, ProcessChangePIN); p.Available || reasonOf(p) != UnavailableCardState {
		t.Fatalf("offer on a locked card = %+v", p)
	}
}
