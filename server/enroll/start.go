package enroll

import (
	"context"
	"fmt"
	"slices"

	"github.com/vscard/vscard/ent"
	"github.com/vscard/vscard/ent/auditevent"
	"github.com/vscard/vscard/ent/card"
	"github.com/vscard/vscard/server/audit"
	"github.com/vscard/vscard/server/errs"
	"github.com/vscard/vscard/server/viewer"
)

// Who may start what, on which card, is decided here for Processes (the offer), Start and
// StartAsSystem (the refusal) alike, so that the portal never offers what the server then
// refuses.

// whyNot says why the caller in ctx may not start d for person (on card c), or "" when they
// may. running is person's order in progress, if any: a person has one order at a time.
func (e *Engine) whyNot(ctx context.Context, d *Definition, person *ent.User, c *ent.Card, running *ent.Order) Unavailable {
	switch {
	case !permitted(ctx, d, person):
		return UnavailableNotPermitted
	case !d.userMay(person.State):
		return UnavailableUserNotActive
	case c != nil && !slices.Contains(d.CardStates, c.State):
		return UnavailableCardState
	case c != nil && d.NeedsPUK && c.PinState != nil && c.PinState.PUKBlocked:
		return UnavailablePUKBlocked
	case !e.selfMay(ctx, d, person):
		// After the card's state: unlock on an active card is no action at all (the
		// portal hides it), not one the person is refused; and the script is not run for it.
		return UnavailableNotPermitted
	case e.nothingToIssue(ctx, d, person, c):
		return UnavailableNothingToIssue
	case running != nil:
		return UnavailableOrderRunning
	}
	return ""
}

// permitted reports whether the caller in ctx may start d for person: as themself, as an
// operator for someone else, or as the system (StartAsSystem), each where d allows it.
func permitted(ctx context.Context, d *Definition, person *ent.User) bool {
	v := viewer.FromContext(ctx)
	switch {
	case startedBySystem(ctx):
		return d.Starters&BySystem != 0
	case v == nil || v.Kind != viewer.KindUser:
		return false
	case v.UserID == person.ID:
		return d.Starters&BySelf != 0
	default:
		return v.IsOperator() && d.Starters&ByOperator != 0
	}
}

// selfMay reports whether the option script lets the caller start d on their own, where
// d narrows BySelf (Definition.SelfMay); an operator or the system is not narrowed. A
// script that fails to evaluate allows nothing.
func (e *Engine) selfMay(ctx context.Context, d *Definition, person *ent.User) bool {
	v := viewer.FromContext(ctx)
	if d.SelfMay == nil || startedBySystem(ctx) || v == nil || v.UserID != person.ID {
		return true
	}
	opts, _, err := e.opts.Evaluate(ctx, person)
	if err != nil {
		e.log.Error("evaluate option script", "user", person.ID, "err", err)
		return false
	}
	return d.SelfMay(opts)
}

// offer is d as the caller sees it for person (on card c).
func (e *Engine) offer(ctx context.Context, d *Definition, person *ent.User, c *ent.Card, running *ent.Order) *Process {
	p := &Process{Name: d.Name, DisplayName: d.DisplayName, Description: d.Description, Available: true}
	if running != nil && running.Process == d.Name && (c == nil || ptrIs(running.SubjectCardID, c.ID)) {
		p.RunningOrder = running
	}
	if why := e.whyNot(ctx, d, person, c, running); why != "" {
		p.Available, p.UnavailableReason = false, &why
	}
	return p
}

// mayStart refuses the caller in ctx starting d for person (on card c), with the code of
// the first reason; the order in progress is checked later, under the person's lock.
func (e *Engine) mayStart(ctx context.Context, d *Definition, person *ent.User, c *ent.Card) error {
	switch e.whyNot(ctx, d, person, c, nil) {
	case UnavailableNotPermitted:
		return errs.New(errs.Forbidden, "You may not start this process here.").
			WithDetails(map[string]any{"process": d.Name, "reason": string(UnavailableNotPermitted)})
	case UnavailableUserNotActive:
		return refuseInactive(d, person)
	case UnavailableCardState:
		return errs.New(errs.IllegalState, "Card %s is %s; this process needs it %v.", c.Serial, c.State, d.CardStates).
			WithDetails(map[string]any{"state": string(c.State), "reason": string(UnavailableCardState)})
	case UnavailableNothingToIssue:
		return errs.New(errs.IllegalState, "Card %s has every certificate this process would issue.", c.Serial).
			WithDetails(map[string]any{"reason": string(UnavailableNothingToIssue)})
	case UnavailablePUKBlocked:
		return errs.New(errs.IllegalState, "The PUK of card %s is blocked; the card can only be replaced.", c.Serial).
			WithDetails(map[string]any{"state": string(c.State), "reason": string(UnavailablePUKBlocked)})
	}
	return nil
}

// subjectOf is who an order of d started by u is for and which card it acts on: u for a
// process that makes something new, the card's owner for a card process.
func (e *Engine) subjectOf(ctx context.Context, d *Definition, u *ent.User, cardID string) (*ent.User, *ent.Card, error) {
	switch {
	case d.OnCard() && cardID == "":
		return nil, nil, errs.New(errs.InvalidInput, "Say which card the process acts on.").
			WithDetails(map[string]any{"field": "card"})
	case !d.OnCard() && cardID != "":
		return nil, nil, errs.New(errs.InvalidInput, "This process makes a new card; it acts on no card.").
			WithDetails(map[string]any{"field": "card"})
	case cardID == "":
		return u, nil, nil
	}
	c, owner, err := e.actingCard(ctx, u, cardID)
	return owner, c, err
}

// actingCard loads a card u may act on, and its owner: their own, or anyone's for an
// administrator. A card u may not see is NOT_FOUND, as if it did not exist.
func (e *Engine) actingCard(ctx context.Context, u *ent.User, cardID string) (*ent.Card, *ent.User, error) {
	sys := viewer.AsServer(ctx)
	q := e.db.Card.Query().Where(card.ID(cardID))
	if !viewer.FromContext(ctx).IsOperator() {
		q = q.Where(card.OwnerID(u.ID))
	}
	c, err := q.Only(sys)
	if ent.IsNotFound(err) {
		return nil, nil, errs.New(errs.NotFound, "There is no card %s for you.", cardID)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("load card: %w", err)
	}
	if c.OwnerID == u.ID {
		return c, u, nil
	}
	owner, err := e.db.User.Get(sys, c.OwnerID)
	if err != nil {
		return nil, nil, fmt.Errorf("load card owner: %w", err)
	}
	return c, owner, nil
}

// StartAsSystem begins the process named process as the server, for the person userID
// (on card cardID, for a card process): e.g. an expiry check renewing a card. The process
// must allow BySystem.
func (e *Engine) StartAsSystem(ctx context.Context, process, userID, cardID string) (*ent.Order, error) {
	d, err := e.procs.lookup(process)
	if err != nil {
		return nil, err
	}
	ctx = withSystemStart(viewer.AsServer(ctx))
	person, err := e.db.User.Get(ctx, userID)
	if err != nil {
		return nil, errs.Wrap(err, errs.NotFound, "There is no user %s.", userID)
	}
	var c *ent.Card
	if d.OnCard() != (cardID != "") {
		return nil, errs.New(errs.InvalidInput, "Process %s acts on a card exactly when it is given one.", process)
	}
	if cardID != "" {
		c, err = e.db.Card.Query().Where(card.ID(cardID), card.OwnerID(userID)).Only(ctx)
		if err != nil {
			return nil, errs.Wrap(err, errs.NotFound, "There is no card %s of user %s.", cardID, userID)
		}
	}
	return e.start(ctx, d, person, c)
}

// stepOrder loads an order the signed-in person may move on with Next: their own, or, for
// an administrator, one of a process an operator may start. It refuses a person the process
// does not allow (no longer ACTIVE) and an order of a process this server does not know.
// A step on someone else's order needs a reason (audit.RequireReason): the one in ctx, or
// the one the order was started with, which the returned ctx then carries for its events.
func (e *Engine) stepOrder(ctx context.Context, id string) (context.Context, *ent.Order, *Definition, error) {
	u, err := e.currentUser(ctx)
	if err != nil {
		return ctx, nil, nil, err
	}
	o, err := e.ownOrder(ctx, id)
	person := u
	if errs.CodeOf(err) == errs.NotFound && u != nil && viewer.FromContext(ctx).IsOperator() {
		sys := viewer.AsServer(ctx)
		if other, gerr := e.db.Order.Get(sys, id); gerr == nil {
			if d := e.procs.of(other); d != nil && d.Starters&ByOperator != 0 {
				if person, err = e.db.User.Get(sys, other.UserID); err != nil {
					return ctx, nil, nil, fmt.Errorf("load order owner: %w", err)
				}
				o = other
			}
		}
	}
	if err != nil {
		return ctx, nil, nil, err
	}
	if person.ID != u.ID && audit.Reason(ctx) == "" {
		if ctx, err = e.startReason(ctx, o); err != nil {
			return ctx, nil, nil, err
		}
		if err := audit.RequireReason(ctx, person.ID); err != nil {
			return ctx, nil, nil, err
		}
	}
	d := e.procs.of(o)
	if d == nil {
		return ctx, nil, nil, errs.New(errs.IllegalState, "This server does not run process %q; the order can only be cancelled.", o.Process)
	}
	if err := refuseInactive(d, person); err != nil {
		return ctx, nil, nil, err
	}
	return ctx, o, d, nil
}

// startReason is ctx with the reason o was started with, if any (the operator's, in the
// details of its order.start event): the steps of an order an operator started for someone
// go on under the reason given for it, as the portal's wizard asks for none.
func (e *Engine) startReason(ctx context.Context, o *ent.Order) (context.Context, error) {
	ev, err := e.db.AuditEvent.Query().Where(auditevent.ObjectType("Order"), auditevent.ObjectID(o.ID),
		auditevent.Action("order.start")).First(viewer.AsServer(ctx))
	if ent.IsNotFound(err) {
		return ctx, nil
	}
	if err != nil {
		return ctx, fmt.Errorf("read start of order: %w", err)
	}
	r, _ := ev.Details["reason"].(string)
	return audit.WithReason(ctx, r), nil
}

// BridgeNext moves the order of the Desktop App's session on by the step the Desktop App
// reports done (Definition.Bridge), for processes with no call of their own for it.
func (e *Engine) BridgeNext(ctx context.Context, orderID, note string) (*ent.Order, error) {
	o, err := e.bridgeOrder(ctx, orderID)
	if err != nil {
		return nil, err
	}
	d := e.procs.of(o)
	step, ok := Step{}, false
	if d != nil {
		step, ok = d.Bridge[o.State]
	}
	if !ok {
		return nil, errs.New(errs.IllegalState, "The Desktop App has no step to report for an order that is %s.", o.State).
			WithDetails(map[string]any{"state": string(o.State)})
	}
	m := move{to: step.To, action: step.Action, note: step.Note, then: step.Do}
	if m.action == "" {
		m.action = "order.bridge_step"
	}
	if note != "" {
		m.note = truncate(note, 200)
	}
	return e.transition(ctx, o, m)
}

func ptrIs[T comparable](p *T, v T) bool { return p != nil && *p == v }

// systemStartKey marks a context of StartAsSystem. It is apart from viewer.AsServer, which
// every request uses to read past the privacy rules: reading as the server must never make
// a person's request count as the server starting a process.
type systemStartKey struct{}

func withSystemStart(ctx context.Context) context.Context {
	return context.WithValue(ctx, systemStartKey{}, true)
}

func startedBySystem(ctx context.Context) bool {
	b, _ := ctx.Value(systemStartKey{}).(bool)
	return b
}
