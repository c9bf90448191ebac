package enroll

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vscard/vscard/ent"
	"github.com/vscard/vscard/ent/auditevent"
	"github.com/vscard/vscard/ent/card"
	"github.com/vscard/vscard/ent/order"
	"github.com/vscard/vscard/server/audit"
	"github.com/vscard/vscard/server/errs"
	"github.com/vscard/vscard/server/record"
	"github.com/vscard/vscard/server/viewer"
)

// Two processes that exist only here prove that a card process is a declaration: one that
// works on an existing ACTIVE card through the Desktop App (as change-pin will), and one
// without the Desktop App (as lock will).

// testCardDesktop hands an ACTIVE card to the Desktop App, which reports its work done; the
// person's Next completes the order. An ending undoes nothing: the card was not changed.
func testCardDesktop() *Definition {
	return &Definition{
		Name: "test-card-desktop", DisplayName: "process.test-card-desktop.name", Description: "process.test-card-desktop.description",
		Starters:   BySelf,
		CardStates: []card.State{card.StateACTIVE},
		Forward: map[order.State]order.State{
			order.StateSTARTED:               order.StateAWAITING_DESKTOP_APP,
			order.StateAWAITING_DESKTOP_APP:  order.StateDESKTOP_APP_CONNECTED,
			order.StateDESKTOP_APP_CONNECTED: order.StateCARD_READY,
			order.StateCARD_READY:            order.StateCOMPLETED,
		},
		Next: map[order.State]Step{
			order.StateSTARTED:    {To: order.StateAWAITING_DESKTOP_APP, Handoff: true},
			order.StateCARD_READY: {To: order.StateCOMPLETED, Note: "done"},
		},
		Bridge: map[order.State]Step{
			order.StateDESKTOP_APP_CONNECTED: {To: order.StateCARD_READY, Note: "card changed"},
		},
		Claim: func(ctx context.Context, e *Engine, o *ent.Order, _ *record.Device) (*Claimed, error) {
			c, err := e.db.Card.Get(viewer.AsServer(ctx), *o.SubjectCardID)
			if err != nil {
				return nil, err
			}
			return &Claimed{Card: &CardSetup{Serial: c.Serial}, Details: map[string]any{"cardSerial": c.Serial}}, nil
		},
	}
}

// testLock locks an ACTIVE card on the person's Next; an administrator may do it for the
// owner, and the server on its own.
func testLock() *Definition {
	return &Definition{
		Name: "test-lock", DisplayName: "process.test-lock.name", Description: "process.test-lock.description",
		Starters:   BySelf | ByOperator | BySystem,
		CardStates: []card.State{card.StateACTIVE},
		Forward:    map[order.State]order.State{order.StateSTARTED: order.StateCOMPLETED},
		Next: map[order.State]Step{
			order.StateSTARTED: {To: order.StateCOMPLETED, Note: "card locked", Do: func(ctx context.Context, tx *ent.Tx, o *ent.Order) error {
				n, err := tx.Card.Update().Where(card.ID(*o.SubjectCardID), card.StateEQ(card.StateACTIVE)).
					SetState(card.StateLOCKED).Save(ctx)
				if err != nil {
					return fmt.Errorf("lock card: %w", err)
				}
				if n != 1 {
					return errs.New(errs.IllegalState, "The card changed meanwhile.")
				}
				return nil
			}},
		},
	}
}

func offerOf(t *testing.T, ps []*Process, name string) *Process {
	t.Helper()
	for _, p := range ps {
		if p.Name == name {
			return p
		}
	}
	t.Fatalf("process %s not offered; offered %v", name, ps)
	return nil
}

func reasonOf(p *Process) Unavailable {
	if p.UnavailableReason == nil {
		return ""
	}
	return *p.UnavailableReason
}

// TestCardProcessWithDesktopApp runs testCardDesktop through start, the hand-off, the
// Desktop App's step and Next; and a second order through cancel.
func TestCardProcessWithDesktopApp(t *testing.T) {
	env := newEnv(t, nil, testCardDesktop(), testLock())
	ann := env.as(env.ann, false)
	crd := env.activeCard(t, env.ann, "10000001")
	bobs := env.activeCard(t, env.bob, "10000002")

	// Offered per card, and only card processes; without a card only the others.
	ps, err := env.e.Processes(ann, "")
	if err != nil || len(ps) != 1 || ps[0].Name != ProcessGetVirtualSmartCard {
		t.Fatalf("processes without a card = %v, %v", ps, err)
	}
	ps, err = env.e.Processes(ann, crd.ID)
	if err != nil || len(ps) != 2+len(builtinOnCard()) {
		t.Fatalf("processes on the card = %v, %v", ps, err)
	}
	if p := offerOf(t, ps, "test-card-desktop"); !p.Available || p.DisplayName != "process.test-card-desktop.name" {
		t.Fatalf("offer = %+v", p)
	}
	_, err = env.e.Processes(ann, bobs.ID)
	wantCode(t, err, errs.NotFound)

	_, err = env.e.Start(ann, "test-card-desktop", "")
	wantCode(t, err, errs.InvalidInput)
	_, err = env.e.Start(ann, ProcessGetVirtualSmartCard, crd.ID)
	wantCode(t, err, errs.InvalidInput)
	_, err = env.e.Start(ann, "test-card-desktop", bobs.ID)
	wantCode(t, err, errs.NotFound)
	_, err = env.e.Start(ann, "test-no-such-process", crd.ID)
	wantCode(t, err, errs.NotFound)

	o, err := env.e.Start(ann, "test-card-desktop", crd.ID)
	if err != nil {
		t.Fatal(err)
	}
	if o.SubjectCardID == nil || *o.SubjectCardID != crd.ID {
		t.Fatalf("order acts on %v, want %s", o.SubjectCardID, crd.ID)
	}
	if got := env.db.Card.QuerySubjectOrders(crd).IDsX(env.sys); len(got) != 1 || got[0] != o.ID {
		t.Fatalf("card's orders = %v", got)
	}
	ps, _ = env.e.Processes(ann, crd.ID)
	if p := offerOf(t, ps, "test-card-desktop"); p.Available || reasonOf(p) != UnavailableOrderRunning || p.RunningOrder == nil || p.RunningOrder.ID != o.ID {
		t.Fatalf("offer while running = %+v", p)
	}
	if p := offerOf(t, ps, "test-lock"); reasonOf(p) != UnavailableOrderRunning || p.RunningOrder != nil {
		t.Fatalf("the other process while one runs = %+v", p)
	}
	_, err = env.e.Start(ann, "test-lock", crd.ID)
	wantCode(t, err, errs.Conflict)

	o, h, err := env.e.Next(ann, o.ID)
	if err != nil || h == nil || o.State != order.StateAWAITING_DESKTOP_APP {
		t.Fatalf("Next = %v, %v, %v", o, h, err)
	}
	token, process := handoffToken(t, h.URL)
	if process != "test-card-desktop" {
		t.Fatalf("hand-off link names %q", process)
	}
	claim, err := env.e.Claim(context.Background(), o.ID, token, device)
	if err != nil {
		t.Fatal(err)
	}
	if claim.Process != "test-card-desktop" || claim.Card.Serial != crd.Serial {
		t.Fatalf("claim = %+v", claim)
	}
	if n := env.db.Card.Query().CountX(env.sys); n != 2 {
		t.Fatalf("claiming a card process made a card: %d cards", n)
	}
	// get-virtual-smart-card's own bridge call is not in this process's table.
	_, err = env.e.ReportCardCreation(env.bridge(t, claim.SessionToken), o.ID, "")
	wantCode(t, err, errs.IllegalState)
	_, _, err = env.e.Next(ann, o.ID)
	wantCode(t, err, errs.IllegalState)

	if o, err = env.e.BridgeNext(env.bridge(t, claim.SessionToken), o.ID, ""); err != nil || o.State != order.StateCARD_READY {
		t.Fatalf("BridgeNext = %v, %v", o, err)
	}
	_, err = env.e.BridgeNext(env.bridge(t, claim.SessionToken), o.ID, "")
	wantCode(t, err, errs.IllegalState)
	if o, _, err = env.e.Next(ann, o.ID); err != nil || o.State != order.StateCOMPLETED {
		t.Fatalf("Next = %v, %v", o, err)
	}
	if c := env.db.Card.GetX(env.sys, crd.ID); c.State != card.StateACTIVE {
		t.Fatalf("card is %s", c.State)
	}

	// A second run, cancelled after the claim: the card it acts on stays as it was.
	o2, err := env.e.Start(ann, "test-card-desktop", crd.ID)
	if err != nil {
		t.Fatal(err)
	}
	_, h, _ = env.e.Next(ann, o2.ID)
	token, _ = handoffToken(t, h.URL)
	claim, err = env.e.Claim(context.Background(), o2.ID, token, device)
	if err != nil {
		t.Fatal(err)
	}
	if o2, err = env.e.Cancel(env.bridge(t, claim.SessionToken), o2.ID, "closed the dialog"); err != nil || o2.State != order.StateCANCELLED {
		t.Fatalf("Cancel = %v, %v", o2, err)
	}
	if c, err := env.db.Card.Get(env.sys, crd.ID); err != nil || c.State != card.StateACTIVE {
		t.Fatalf("after cancel the card is %v, %v", c, err)
	}
	if got := env.db.Card.QuerySubjectOrders(crd).IDsX(env.sys); len(got) != 2 {
		t.Fatalf("card's orders = %v", got)
	}
}

// TestCardProcessWithoutDesktopApp runs testLock: by the owner, by an administrator for the
// owner, by the server; through Next, cancel and expiry.
func TestCardProcessWithoutDesktopApp(t *testing.T) {
	env := newEnv(t, nil, testCardDesktop(), testLock())
	ann, admin, bob := env.as(env.ann, false), env.as(env.admin, true), env.as(env.bob, false)

	t.Run("ok/the owner locks their card", func(t *testing.T) {
		crd := env.activeCard(t, env.ann, "20000001")
		o, err := env.e.Start(ann, "test-lock", crd.ID)
		if err != nil {
			t.Fatal(err)
		}
		o, h, err := env.e.Next(ann, o.ID)
		if err != nil || h != nil || o.State != order.StateCOMPLETED {
			t.Fatalf("Next = %v, %v, %v", o, h, err)
		}
		if c := env.db.Card.GetX(env.sys, crd.ID); c.State != card.StateLOCKED {
			t.Fatalf("card is %s", c.State)
		}
		ps, _ := env.e.Processes(ann, crd.ID)
		for _, name := range []string{"test-lock", "test-card-desktop"} {
			if p := offerOf(t, ps, name); reasonOf(p) != UnavailableCardState {
				t.Errorf("%s on a locked card = %+v", name, p)
			}
		}
		_, err = env.e.Start(ann, "test-lock", crd.ID)
		wantCode(t, err, errs.IllegalState)
	})

	t.Run("ok/an administrator locks someone's card and moves the order on", func(t *testing.T) {
		crd := env.activeCard(t, env.ann, "20000002")
		ps, err := env.e.Processes(admin, crd.ID)
		if err != nil {
			t.Fatal(err)
		}
		if p := offerOf(t, ps, "test-lock"); !p.Available {
			t.Fatalf("lock offered to an administrator = %+v", p)
		}
		if p := offerOf(t, ps, "test-card-desktop"); reasonOf(p) != UnavailableNotPermitted {
			t.Fatalf("a process only the owner may start, offered to an administrator = %+v", p)
		}
		_, err = env.e.Start(admin, "test-card-desktop", crd.ID)
		wantCode(t, err, errs.Forbidden)
		// Acting for someone else takes a reason; the steps go on under the one given at
		// the start (the portal's wizard asks for none).
		_, err = env.e.Start(admin, "test-lock", crd.ID)
		wantCode(t, err, errs.ReasonRequired)
		_, err = env.e.Start(audit.WithReason(admin, "  "), "test-lock", crd.ID)
		wantCode(t, err, errs.ReasonRequired)
		o, err := env.e.Start(audit.WithReason(admin, "left the company"), "test-lock", crd.ID)
		if err != nil {
			t.Fatal(err)
		}
		if o.UserID != env.ann.ID {
			t.Fatalf("the order is for %s, want the card's owner", o.UserID)
		}
		if o, _, err = env.e.Next(admin, o.ID); err != nil || o.State != order.StateCOMPLETED {
			t.Fatalf("Next = %v, %v", o, err)
		}
		next, err := env.db.AuditEvent.Query().Where(auditevent.ObjectID(o.ID), auditevent.ActionNEQ("order.start")).All(viewer.AsServer(context.Background()))
		if err != nil || len(next) == 0 {
			t.Fatalf("events of the step = %v, %v", next, err)
		}
		for _, ev := range next {
			if ev.Details["reason"] != "left the company" {
				t.Errorf("%s carries reason %v, want the start's", ev.Action, ev.Details["reason"])
			}
		}
	})

	t.Run("ok/the server locks a card", func(t *testing.T) {
		crd := env.activeCard(t, env.ann, "20000003")
		o, err := env.e.StartAsSystem(context.Background(), "test-lock", env.ann.ID, crd.ID)
		if err != nil || o.SubjectCardID == nil || *o.SubjectCardID != crd.ID {
			t.Fatalf("StartAsSystem = %v, %v", o, err)
		}
		_, err = env.e.Cancel(admin, o.ID, " ")
		wantCode(t, err, errs.ReasonRequired)
		if _, err := env.e.Cancel(admin, o.ID, "the card was found"); err != nil {
			t.Fatal(err)
		}
		_, err = env.e.StartAsSystem(context.Background(), "test-card-desktop", env.ann.ID, crd.ID)
		wantCode(t, err, errs.Forbidden)
	})

	// The wizard sends no reason with Cancel: a person's own cancel needs none, and an
	// operator's goes on with the reason the order was started with, as Next does.
	t.Run("ok/cancel without a reason", func(t *testing.T) {
		crd := env.activeCard(t, env.ann, "20000009")
		o, err := env.e.Start(audit.WithReason(admin, "computer stolen"), "test-lock", crd.ID)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := env.e.Cancel(admin, o.ID, ""); err != nil {
			t.Fatalf("the operator's cancel in the wizard: %v", err)
		}
		mine, err := env.e.Start(ann, "test-lock", crd.ID)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := env.e.Cancel(ann, mine.ID, ""); err != nil {
			t.Fatal(err)
		}
		for id, want := range map[string]any{o.ID: "computer stolen", mine.ID: nil} {
			ev, err := env.db.AuditEvent.Query().Where(auditevent.ObjectID(id), auditevent.Action("order.cancel")).Only(viewer.AsServer(context.Background()))
			if err != nil {
				t.Fatal(err)
			}
			if ev.Details["reason"] != want {
				t.Errorf("cancel of %s carries reason %v, want %v", id, ev.Details["reason"], want)
			}
		}
	})

	t.Run("ok/cancel and expiry undo nothing on the card", func(t *testing.T) {
		crd := env.activeCard(t, env.ann, "20000004")
		o, err := env.e.Start(ann, "test-lock", crd.ID)
		if err != nil {
			t.Fatal(err)
		}
		if o, err = env.e.Cancel(ann, o.ID, "by mistake"); err != nil || o.State != order.StateCANCELLED {
			t.Fatalf("Cancel = %v, %v", o, err)
		}
		o, err = env.e.Start(ann, "test-lock", crd.ID)
		if err != nil {
			t.Fatal(err)
		}
		env.clock.Add(env.idle + time.Second)
		if res, err := env.e.Sweep(context.Background()); err != nil || res.Expired != 1 {
			t.Fatalf("sweep = %+v, %v", res, err)
		}
		if got := env.order(t, o.ID); got.State != order.StateEXPIRED {
			t.Fatalf("order is %s", got.State)
		}
		if c := env.db.Card.GetX(env.sys, crd.ID); c.State != card.StateACTIVE {
			t.Fatalf("card is %s", c.State)
		}
	})

	t.Run("error/a person who is not active", func(t *testing.T) {
		crd := env.activeCard(t, env.bob, "20000005")
		ps, err := env.e.Processes(bob, crd.ID)
		if err != nil {
			t.Fatal(err)
		}
		if p := offerOf(t, ps, "test-lock"); reasonOf(p) != UnavailableUserNotActive {
			t.Fatalf("offer to an inactive person = %+v", p)
		}
		_, err = env.e.Start(bob, "test-lock", crd.ID)
		wantCode(t, err, errs.UserNotActive)
	})
}

// TestProcessesOfAPerson: the start page's answer, per caller.
func TestProcessesOfAPerson(t *testing.T) {
	env := newEnv(t, nil)
	for _, tc := range []struct {
		name    string
		ctx     context.Context
		running bool
		want    Unavailable
	}{
		{"ok/active", env.as(env.ann, false), false, ""},
		{"error/inactive", env.as(env.bob, false), false, UnavailableUserNotActive},
		{"error/order running", env.as(env.ann, false), true, UnavailableOrderRunning},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var o *ent.Order
			if tc.running {
				var err error
				if o, err = env.e.Start(tc.ctx, ProcessGetVirtualSmartCard, ""); err != nil {
					t.Fatal(err)
				}
			}
			ps, err := env.e.Processes(tc.ctx, "")
			if err != nil || len(ps) != 1 {
				t.Fatalf("Processes = %v, %v", ps, err)
			}
			p := ps[0]
			if p.Available != (tc.want == "") || reasonOf(p) != tc.want {
				t.Fatalf("offer = %+v, want reason %q", p, tc.want)
			}
			if p.DisplayName != "process.get-virtual-smart-card.name" || p.Description != "process.get-virtual-smart-card.description" {
				t.Fatalf("display keys = %q, %q", p.DisplayName, p.Description)
			}
			if (o != nil) != (p.RunningOrder != nil) {
				t.Fatalf("running order %v, want %v", p.RunningOrder, o)
			}
		})
	}
	_, err := env.e.Start(env.as(env.ann, false), "no-such-process", "")
	wantCode(t, err, errs.NotFound)
	if errs.CodeOf(err) == errs.NotFound && !strings.Contains(err.Error(), "no-such-process") {
		t.Errorf("the refusal does not name the process: %v", err)
	}
}

// TestRegistryRefusesInconsistentProcesses: a process whose declaration contradicts itself
// is refused when it is registered, not found in the middle of an order.
func TestRegistryRefusesInconsistentProcesses(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(d *Definition)
	}{
		{"error/no name", func(d *Definition) { d.Name = "" }},
		{"error/no display key", func(d *Definition) { d.DisplayName = "" }},
		{"error/nobody may start it", func(d *Definition) { d.Starters = 0 }},
		{"error/the table does not reach COMPLETED", func(d *Definition) {
			delete(d.Forward, order.StateCARD_READY)
			delete(d.Next, order.StateCARD_READY)
		}},
		{"error/a state off the path", func(d *Definition) { d.Forward[order.StateCREATING_CARD] = order.StateCARD_READY }},
		{"error/a step not in the table", func(d *Definition) {
			d.Next[order.StateCARD_READY] = Step{To: order.StateEXPIRED}
		}},
		{"error/a hand-off without a claim", func(d *Definition) { d.Claim = nil }},
		{"error/the person and the Desktop App move on from one state", func(d *Definition) {
			d.Next[order.StateDESKTOP_APP_CONNECTED] = Step{To: order.StateCARD_READY}
		}},
		{"error/a card process that deletes a new card", func(d *Definition) { d.Undo = UndoNewCard }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := testCardDesktop()
			if err := newRegistry().register(d); err != nil {
				t.Fatalf("the unchanged process is refused: %v", err)
			}
			d = testCardDesktop()
			tc.change(d)
			if err := newRegistry().register(d); err == nil {
				t.Fatal("registered")
			}
		})
	}
	r := newRegistry(builtin()...)
	if err := r.register(getVirtualSmartCard()); err == nil {
		t.Error("a second process of the same name was registered")
	}
}

// TestCanMoveOnlyAlongTheTable: the one legality check, for a process and for an order of
// a process this server does not know.
func TestCanMoveOnlyAlongTheTable(t *testing.T) {
	lock := testLock()
	for _, tc := range []struct {
		d        *Definition
		from, to order.State
		ok       bool
	}{
		{lock, order.StateSTARTED, order.StateCOMPLETED, true},
		{lock, order.StateSTARTED, order.StateAWAITING_DESKTOP_APP, false},
		{lock, order.StateSTARTED, order.StateEXPIRED, true},
		{lock, order.StateCOMPLETED, order.StateCANCELLED, false},
		{getVirtualSmartCard(), order.StateSTARTED, order.StateCOMPLETED, false},
		{nil, order.StateSTARTED, order.StateCANCELLED, true},
		{nil, order.StateSTARTED, order.StateCOMPLETED, false},
	} {
		if got := tc.d.CanMove(tc.from, tc.to); got != tc.ok {
			name := "<unknown>"
			if tc.d != nil {
				name = tc.d.Name
			}
			t.Errorf("%s: CanMove(%s, %s) = %v", name, tc.from, tc.to, got)
		}
	}
}

// builtinOnCard are the built-in card processes, which every card is offered besides the
// test-only ones.
func builtinOnCard() []*Definition {
	var out []*Definition
	for _, d := range builtin() {
		if d.OnCard() {
			out = append(out, d)
		}
	}
	return out
}
