package enroll

import (
	"context"
	"fmt"
	"net/url"
	"time"

	"entgo.io/ent/dialect"

	"github.com/vscard/vscard/ent"
	"github.com/vscard/vscard/ent/order"
	"github.com/vscard/vscard/ent/user"
	"github.com/vscard/vscard/server/audit"
	"github.com/vscard/vscard/server/cardspec"
	"github.com/vscard/vscard/server/errs"
	"github.com/vscard/vscard/server/record"
	"github.com/vscard/vscard/server/store"
	"github.com/vscard/vscard/server/users"
	"github.com/vscard/vscard/server/viewer"
)

// Handoff is what the portal's Open Desktop App button needs. The token inside URL is
// shown once and stored only as a hash.
type Handoff struct {
	URL              string
	ExpiresAt        time.Time
	VerificationCode string
}

// Process is a self-service process as one caller sees it (for a card process: on one
// card). DisplayName and Description are message keys; the portal has the words.
type Process struct {
	Name              string
	DisplayName       string
	Description       string
	Available         bool
	UnavailableReason *Unavailable
	RunningOrder      *ent.Order
}

// Processes lists what the signed-in user may start, and why not when they may not:
// without cardID the processes that make something new, with it those that act on that
// card (NOT_FOUND when the caller may not see it).
func (e *Engine) Processes(ctx context.Context, cardID string) ([]*Process, error) {
	u, err := e.currentUser(ctx)
	if err != nil {
		return nil, err
	}
	person, c := u, (*ent.Card)(nil)
	if cardID != "" {
		if c, person, err = e.actingCard(ctx, u, cardID); err != nil {
			return nil, err
		}
	}
	running, err := runningOrder(viewer.AsServer(ctx), e.db.Order, person.ID)
	if err != nil {
		return nil, err
	}
	var out []*Process
	for _, d := range e.procs.list {
		if d.OnCard() == (c != nil) {
			out = append(out, e.offer(ctx, d, person, c, running))
		}
	}
	return out, nil
}

// Start begins the process named process for the signed-in user or, for a card process,
// on the card cardID (the caller's own, or anyone's for an operator where the process
// allows it).
func (e *Engine) Start(ctx context.Context, process, cardID string) (*ent.Order, error) {
	d, err := e.procs.lookup(process)
	if err != nil {
		return nil, err
	}
	u, err := e.currentUser(ctx)
	if err != nil {
		return nil, err
	}
	person, c, err := e.subjectOf(ctx, d, u, cardID)
	if err != nil {
		return nil, err
	}
	return e.start(ctx, d, person, c)
}

// start begins an order of d for person (on card c, for a card process), once the caller
// in ctx is found to be allowed to.
func (e *Engine) start(ctx context.Context, d *Definition, person *ent.User, c *ent.Card) (*ent.Order, error) {
	if err := e.mayStart(ctx, d, person, c); err != nil {
		return nil, err
	}
	if !startedBySystem(ctx) {
		if err := audit.RequireReason(ctx, person.ID); err != nil {
			return nil, err
		}
	}
	u := person
	if err := e.starts.allow(u.ID, "card orders started"); err != nil {
		return nil, err
	}
	var opts *cardspec.Options
	var version string
	if d.Options {
		var err error
		if opts, version, err = e.opts.Evaluate(ctx, u); err != nil {
			e.log.Error("evaluate option script", "user", u.ID, "err", err)
			return nil, errs.Wrap(err, errs.ScriptError,
				"The card options could not be computed. An administrator needs to fix the option script.")
		}
	}
	if d.Issues != nil {
		// What the order issues is decided now, under the script in force now, and kept
		// on the order: the claim, SubmitKeys and ConfirmCardReady all go by it.
		specs, err := e.toIssue(ctx, d, c, opts)
		if err != nil {
			return nil, err
		}
		if len(specs) == 0 {
			return nil, errs.New(errs.IllegalState, "Card %s has every certificate this process would issue.", c.Serial).
				WithDetails(map[string]any{"reason": string(UnavailableNothingToIssue)})
		}
		narrowed := *opts
		narrowed.Certificates = specs
		opts = &narrowed
	}
	process := d.Name
	details := map[string]any{"process": process}
	if d.Options {
		details["optionScriptVersion"] = version
	}
	if c != nil {
		details["card"] = c.Serial
	}
	sys := viewer.AsServer(ctx)
	now := e.now()
	create := func(orders *ent.OrderClient) *ent.OrderCreate {
		create := orders.Create().
			SetProcess(process).
			SetUserID(u.ID).
			SetState(order.StateSTARTED).
			SetSteps([]record.OrderStep{{State: string(order.StateSTARTED), At: now}}).
			SetExpiresAt(now.Add(e.cfg.IdleTTL))
		if d.Options {
			create.SetOptions(opts).SetOptionScriptVersion(version)
		}
		if c != nil {
			create.SetSubjectCardID(c.ID)
		}
		return create
	}
	joined := ent.TxFromContext(ctx)
	var o *ent.Order
	var err error
	if e.cfg.Dialect == dialect.Postgres {
		// The check, the order and its audit event in one statement (startInOne); two
		// starts at once (a double click, two tabs) cannot both succeed, as the database
		// keeps one order in progress per person (order_user_id_running).
		o, err = e.startInOne(sys, ctx, e.client(ctx), create(e.client(ctx).Order).Mutation(), details)
	} else {
		// SQLite's write transactions take turns: the check sees any order a concurrent
		// start committed.
		err = e.withTx(sys, func(tx *ent.Tx) error {
			if err := refuseSecondOrder(runningOrder(sys, tx.Order, u.ID)); err != nil {
				return err
			}
			var err error
			if o, err = create(tx.Order).Save(sys); err != nil {
				return fmt.Errorf("create order: %w", err)
			}
			return audit.Write(ctx, tx.AuditEvent, audit.Entry{
				Action: "order.start", ObjectType: "Order", ObjectID: o.ID, Subject: o.UserID, Details: details,
			})
		})
		if err == nil && joined == nil {
			o = o.Unwrap()
		}
	}
	if err != nil {
		return nil, err
	}
	e.afterCommit(joined, func() {
		e.cfg.Entered(order.StateSTARTED)
		e.publish(sys, o.ID)
	})
	return o, nil
}

// Next proceeds one step on the person's side, as the order's process says (Definition.Next):
// for get-virtual-smart-card, from STARTED it hands the order to the Desktop App, from
// CARD_READY it completes the order and activates the card.
func (e *Engine) Next(ctx context.Context, orderID string) (*ent.Order, *Handoff, error) {
	return e.NextWith(ctx, orderID, nil)
}

// NextWith is Next with the person's choices for the step (Step.Choices), e.g. lock's
// whether to hold the encryption certificate too; a choice left out takes its default.
func (e *Engine) NextWith(ctx context.Context, orderID string, choices map[string]any) (*ent.Order, *Handoff, error) {
	ctx, o, d, err := e.stepOrder(ctx, orderID)
	if err != nil {
		return nil, nil, err
	}
	step, ok := d.Next[o.State]
	if !ok {
		if IsFinal(o.State) {
			return nil, nil, errs.New(errs.IllegalState, "The order is %s and cannot go on.", o.State).
				WithDetails(map[string]any{"state": string(o.State)})
		}
		return nil, nil, errs.New(errs.IllegalState,
			"The Desktop App is working on this order (%s); Next is possible once the card is ready.", o.State).
			WithDetails(map[string]any{"state": string(o.State)})
	}
	chosen, err := stepChoices(step, choices)
	if err != nil {
		return nil, nil, err
	}
	if len(chosen) > 0 {
		ctx = withChoices(ctx, chosen)
	}
	m := move{to: step.To, action: step.Action, note: step.Note, then: step.Do}
	if step.Writes != nil {
		m.writes, m.requires = step.Writes(o)
	}
	if m.action == "" {
		m.action = "order.next"
	}
	if len(chosen) > 0 {
		m.details = map[string]any{"choices": chosen}
	}
	var h *Handoff
	if step.Handoff {
		h, m.set = e.newHandoff(o)
	}
	if o, err = e.transition(ctx, o, m); err != nil {
		return nil, nil, err
	}
	if step.After != nil {
		step.After(ctx, e, o)
	}
	return o, h, nil
}

// RenewHandoff replaces the hand-off link of an order that waits for the Desktop App, e.g.
// after the portal page was reloaded. The old link stops working.
func (e *Engine) RenewHandoff(ctx context.Context, orderID string) (*Handoff, error) {
	o, err := e.ownOrder(ctx, orderID)
	if err != nil {
		return nil, err
	}
	if o.State != order.StateAWAITING_DESKTOP_APP {
		return nil, errs.New(errs.IllegalState, "Only an order waiting for the Desktop App has a hand-off link; this one is %s.", o.State)
	}
	h, set := e.newHandoff(o)
	h.VerificationCode = o.VerificationCode
	sys := viewer.AsServer(ctx)
	err = e.withTx(sys, func(tx *ent.Tx) error {
		u := tx.Order.UpdateOneID(o.ID).Where(order.Version(o.Version), order.StateEQ(o.State)).SetVersion(o.Version + 1)
		set(u.Mutation())
		u.SetVerificationCode(o.VerificationCode)
		if _, err := u.Save(sys); ent.IsNotFound(err) {
			return changedMeanwhile(sys, tx, o.ID, o.State)
		} else if err != nil {
			return fmt.Errorf("renew hand-off: %w", err)
		}
		return audit.Write(ctx, tx.AuditEvent, audit.Entry{Action: "order.renew_handoff", ObjectType: "Order", ObjectID: o.ID, Subject: o.UserID})
	})
	if err != nil {
		return nil, err
	}
	return h, nil
}

// newHandoff makes a token and verification code, and the update that stores the token's
// hash on the order.
func (e *Engine) newHandoff(o *ent.Order) (*Handoff, func(*ent.OrderMutation)) {
	token, code := newToken(), newVerificationCode()
	expires := e.now().Add(e.cfg.TokenTTL)
	q := url.Values{}
	q.Set("server", e.cfg.PublicURL)
	q.Set("order", o.ID)
	q.Set("token", token)
	q.Set("process", o.Process)
	h := &Handoff{URL: "vscard://enroll?" + q.Encode(), ExpiresAt: expires, VerificationCode: code}
	return h, func(m *ent.OrderMutation) {
		m.SetTokenHash(hashToken(token))
		m.SetTokenExpiresAt(expires)
		m.ClearTokenUsedAt()
		m.SetVerificationCode(code)
	}
}

// Cancel ends a running order: the owner, an operator (administrators are operators), or
// the order's bridge may.
func (e *Engine) Cancel(ctx context.Context, orderID, reason string) (*ent.Order, error) {
	v := viewer.FromContext(ctx)
	var o *ent.Order
	var err error
	switch {
	case v.IsOperator():
		o, err = e.db.Order.Get(viewer.AsServer(ctx), orderID)
		if ent.IsNotFound(err) {
			return nil, errs.New(errs.NotFound, "There is no order %s.", orderID)
		}
	case v != nil && v.Kind == viewer.KindBridge:
		o, err = e.bridgeOrder(ctx, orderID)
	default:
		o, err = e.ownOrder(ctx, orderID)
	}
	if err != nil {
		return nil, err
	}
	ctx = audit.WithReason(ctx, reason)
	// An operator cancelling, in the wizard, an order they started for someone goes on with
	// the reason they started it with, as their Next does (stepOrder); the wizard sends none.
	if audit.Reason(ctx) == "" && v != nil && v.Kind == viewer.KindUser && v.UserID != o.UserID {
		if ctx, err = e.startReason(ctx, o); err != nil {
			return nil, err
		}
	}
	if err := audit.RequireReason(ctx, o.UserID); err != nil {
		return nil, err
	}
	if IsFinal(o.State) {
		return nil, errs.New(errs.IllegalState, "The order is already %s.", o.State).
			WithDetails(map[string]any{"state": string(o.State)})
	}
	return e.transition(ctx, o, cancellation(reason))
}

// cancellation is the move that cancels an order, for reason (may be empty).
func cancellation(reason string) move {
	m := move{to: order.StateCANCELLED, action: "order.cancel", note: "cancelled"}
	if reason != "" {
		m.note = "cancelled: " + truncate(reason, 200)
		m.details = map[string]any{"reason": reason}
	}
	return m
}

// causedCancellation is a cancel that follows from another action (an account locked, a
// card's record deleted): why goes into the order's step history, but not into the audit
// event as a reason: the log tells the cause in the reader's language, and the event carries
// the reason of the person who acted (audit.Reasoned), if any.
func causedCancellation(why string) move {
	return move{to: order.StateCANCELLED, action: "order.cancel", note: "cancelled: " + truncate(why, 200)}
}

// EndOrderOf cancels the order in progress of a person who may no longer order (an
// administrator set them LOCKED or INACTIVE): what it had issued is revoked, its card is
// removed, and the portal and the Desktop App see it end. why goes into the order's
// history (causedCancellation). Within a transaction ctx carries (store.InTx) it is part of
// that transaction, and the CA and the subscribers hear of it once that commits.
func (e *Engine) EndOrderOf(ctx context.Context, userID, why string) error {
	sys := viewer.AsServer(ctx)
	for range 3 { // the order moved on meanwhile: cancel it where it is now
		o, err := runningOrder(sys, e.client(ctx).Order, userID)
		if err != nil || o == nil {
			return err
		}
		_, err = e.transition(ctx, o, causedCancellation(why))
		if errs.CodeOf(err) != errs.IllegalState {
			return err
		}
	}
	return errs.New(errs.Conflict, "The person's order in progress kept changing; try again.")
}

// SetUserState changes a person's state for an administrator (users.SetState) and, in the
// same transaction, makes their cards follow it (CardCascade) and, unless they are now
// ACTIVE, ends their order in progress (EndOrderOf): all of it commits or none does. The
// CA and the subscribers hear of it after the commit.
func (e *Engine) SetUserState(ctx context.Context, userID string, state user.State, reason string) (*ent.User, error) {
	now := e.now()
	cards := e.NewCardCascade()
	var u *ent.User
	err := store.InTx(ctx, e.db, func(ctx context.Context, _ *ent.Tx) error {
		var err error
		u, err = users.SetState(ctx, e.db, now, userID, state, reason,
			func(ctx context.Context, tx *ent.Tx, u *ent.User, from user.State) error {
				return cards.InTx(ctx, tx, u, from, now)
			})
		if err != nil || u.State == user.StateACTIVE {
			return err
		}
		// Only ACTIVE people may order: an order in progress ends with the change.
		return e.EndOrderOf(ctx, u.ID, "the account was set to "+string(u.State))
	})
	if err != nil {
		return nil, err
	}
	cards.After(ctx)
	return u, nil
}

// refuseInactive is a USER_NOT_ACTIVE error unless u may have an order of d.
func refuseInactive(d *Definition, u *ent.User) error {
	if !d.userMay(u.State) {
		return errs.New(errs.UserNotActive, "%s", notActiveReason(u)).WithDetails(map[string]any{"state": string(u.State)})
	}
	return nil
}

// currentUser loads the signed-in user.
func (e *Engine) currentUser(ctx context.Context) (*ent.User, error) {
	v := viewer.FromContext(ctx)
	if v == nil || v.Kind != viewer.KindUser {
		return nil, errs.New(errs.Unauthenticated, "Sign in first.")
	}
	if u, ok := v.Record.(*ent.User); ok && u.ID == v.UserID {
		return u, nil // read by this request's authentication
	}
	u, err := e.db.User.Get(viewer.AsServer(ctx), v.UserID)
	if err != nil {
		return nil, errs.Wrap(err, errs.Unauthenticated, "Your account was not found; sign in again.")
	}
	return u, nil
}

// ownOrder loads an order of the signed-in user; another user's order is NOT_FOUND.
func (e *Engine) ownOrder(ctx context.Context, id string) (*ent.Order, error) {
	v := viewer.FromContext(ctx)
	if v == nil || v.Kind != viewer.KindUser {
		return nil, errs.New(errs.Unauthenticated, "Sign in first.")
	}
	// Read through the Order privacy rule as the caller; "own" is narrower than what the
	// rule lets an administrator see, so the owner condition stays.
	o, err := e.db.Order.Query().
		Where(order.ID(id), order.UserID(v.UserID)).
		Only(ctx)
	if ent.IsNotFound(err) {
		return nil, errs.New(errs.NotFound, "There is no order %s for you.", id)
	}
	if err != nil {
		return nil, fmt.Errorf("load order: %w", err)
	}
	return o, nil
}

func runningOrder(ctx context.Context, orders *ent.OrderClient, userID string) (*ent.Order, error) {
	o, err := orders.Query().
		Where(order.UserID(userID), order.StateIn(running...)).
		Order(ent.Desc(order.FieldCreatedAt)).
		First(ctx)
	if ent.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("find running order: %w", err)
	}
	return o, nil
}

// refuseSecondOrder turns the order a person already has in progress (runningOrder's
// result) into a CONFLICT error that names it.
func refuseSecondOrder(running *ent.Order, err error) error {
	if err != nil || running == nil {
		return err
	}
	return errs.New(errs.Conflict, "You already have a card order in progress; continue or cancel it first.").
		WithDetails(map[string]any{"orderId": running.ID})
}

// notActiveReason says, for the error's message, why u may not order.
func notActiveReason(u *ent.User) string {
	switch u.State {
	case user.StateACTIVE:
		return "Your account's state does not allow this."
	case user.StateREGISTERED:
		return "Your account is registered but not yet active. An administrator must activate it before you can get a card."
	case user.StateLOCKED:
		return "Your account is locked. Contact an administrator."
	default:
		return "Your account is inactive. Only active users can get a virtual smart card; contact an administrator."
	}
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}
