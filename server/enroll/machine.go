package enroll

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"entgo.io/ent/dialect"

	"github.com/vscard/vscard/ent"
	"github.com/vscard/vscard/ent/order"
	"github.com/vscard/vscard/server/audit"
	"github.com/vscard/vscard/server/errs"
	"github.com/vscard/vscard/server/events"
	"github.com/vscard/vscard/server/record"
	"github.com/vscard/vscard/server/revocation"
	"github.com/vscard/vscard/server/store"
	"github.com/vscard/vscard/server/viewer"
)

// move is one transition request.
type move struct {
	to     order.State
	action string // audit action, e.g. "order.next"
	note   string // shown in the step history; never a secret
	// set adds field changes to the order's update.
	set func(u *ent.OrderMutation)
	// then writes related rows, inside the transaction, once the order's version-checked
	// update has succeeded: a request that lost a race never gets this far.
	then    func(ctx context.Context, tx *ent.Tx, o *ent.Order) error
	details map[string]any
	// events are further audit events, read once then has run, written together with the
	// transition's own.
	events func() []audit.Entry
	// writes are further rows the move changes, and requires what must hold for it, both
	// made and checked with the order's update: in its one statement where the database
	// allows (transitionInOne), unlike then.
	writes   []write
	requires []condition
	// inserted, when set, receives the certificates writes inserted, as a one-statement
	// transition reads them back (transitionInOne); elsewhere it stays empty.
	inserted *[]*ent.Certificate
}

// transition moves o (as last read) to m.to. It returns the updated order, or an
// ILLEGAL_STATE error if the move is not allowed or o changed meanwhile.
func (e *Engine) transition(ctx context.Context, o *ent.Order, m move) (*ent.Order, error) {
	if !e.procs.of(o).CanMove(o.State, m.to) { // the one place a move is checked
		return nil, illegal(o.State, m.to)
	}
	sys := viewer.AsServer(ctx)
	now := e.now()
	steps := append(slices.Clone(o.Steps), record.OrderStep{State: string(m.to), At: now, Note: m.note})
	change := func(u *ent.OrderMutation) {
		u.SetState(m.to)
		u.SetVersion(o.Version + 1)
		u.SetSteps(steps)
		u.SetExpiresAt(now.Add(e.cfg.IdleTTL))
		if IsFinal(m.to) {
			u.SetFinishedAt(now)
			if o.BridgeSessionExpiresAt != nil && o.BridgeSessionExpiresAt.After(now) {
				u.SetBridgeSessionExpiresAt(now) // the bridge session ends with the order
			}
		}
		if m.set != nil {
			m.set(u)
		}
	}
	entries := func() []audit.Entry {
		details := map[string]any{"from": string(o.State), "to": string(m.to)}
		for k, v := range m.details {
			details[k] = v
		}
		entries := []audit.Entry{{Action: m.action, ObjectType: "Order", ObjectID: o.ID, Details: details}}
		if m.events != nil {
			entries = append(entries, m.events()...)
		}
		return audit.About(o.UserID, entries...)
	}
	var revoke []string
	var updated *ent.Order
	var err error
	// Inside a caller's transaction (store.InTx, e.g. a person's state change ending their
	// order) the move joins it, and what follows a commit waits for that commit.
	joined := ent.TxFromContext(ctx)
	// One statement where the database allows it (transitionInOne). A move with code of
	// its own (then) and an ending, which undoes what the order made, run in a transaction.
	if e.cfg.Dialect == dialect.Postgres && m.then == nil && !slices.Contains(endings, m.to) && joined == nil {
		updated, err = e.transitionInOne(sys, ctx, o, m, change, entries())
	} else {
		var unmet *condition
		err = e.withTx(sys, func(tx *ent.Tx) error {
			u := tx.Order.Update().Where(order.ID(o.ID), order.Version(o.Version))
			change(u.Mutation())
			n, err := u.Save(sys)
			if err != nil {
				return fmt.Errorf("update order: %w", err)
			}
			if n == 0 {
				return changedMeanwhile(sys, tx, o.ID, m.to)
			}
			// The update holds the order's row: what the conditions read cannot change
			// under it by another transition.
			for _, c := range m.requires {
				ok, err := c.check(sys, tx, e.dialect())
				if err != nil {
					return fmt.Errorf("check order: %w", err)
				}
				if !ok {
					unmet = &c // explained once the transaction is over: why may read
					return errUnmet
				}
			}
			if updated, err = afterUpdate(sys, tx, o, u.Mutation()); err != nil {
				return err
			}
			for _, w := range m.writes {
				if err := execWrite(sys, tx, e.dialect(), w); err != nil {
					return err
				}
			}
			if m.then != nil {
				if err := m.then(sys, tx, updated); err != nil {
					return err
				}
			}
			if slices.Contains(endings, m.to) {
				var undone record.Undone
				if revoke, undone, err = e.discard(sys, tx, o, now); err != nil {
					return err
				}
				// The ending step says what it took back (the portal words it); the row is
				// this transaction's since the update above.
				if n := len(updated.Steps); n > 0 && updated.Steps[n-1].State == string(m.to) {
					updated.Steps[n-1].Undone = &undone
					if err := tx.Order.UpdateOneID(o.ID).SetSteps(updated.Steps).Exec(sys); err != nil {
						return fmt.Errorf("record what the order undid: %w", err)
					}
				}
			}
			return audit.WriteAll(ctx, tx.AuditEvent, entries()...)
		})
		if errors.Is(err, errUnmet) {
			err = unmet.why(sys)
		}
	}
	if err != nil {
		return nil, err
	}
	e.afterCommit(joined, func() {
		e.cfg.Entered(m.to)
		e.revokeAtCA(sys, o.ID, revoke, revocation.CessationOfOperation)
		e.publish(sys, o.ID)
		if o.SubjectCardID != nil { // a card process may have changed its card
			e.PublishCard(sys, *o.SubjectCardID)
		}
	})
	return updated, nil
}

// afterCommit runs fn, what tells others of a change, once the change is durable: now when
// the change committed on its own (joined is nil), else when the caller's transaction
// joined commits, and never if it rolls back.
func (e *Engine) afterCommit(joined *ent.Tx, fn func()) {
	if joined == nil {
		fn()
		return
	}
	store.AfterCommit(joined, fn)
}

// afterUpdate returns the order as the version-checked update m left it: o with m's
// changes, so that a transition does not read the order back. An update of a field it
// does not know is read back through tx instead.
func afterUpdate(ctx context.Context, tx *ent.Tx, o *ent.Order, m *ent.OrderMutation) (*ent.Order, error) {
	n := *o
	n.Steps = slices.Clone(o.Steps)
	for _, f := range m.Fields() {
		var ok bool
		switch f {
		case order.FieldState:
			n.State, ok = m.State()
		case order.FieldVersion:
			n.Version, ok = m.Version()
		case order.FieldSteps:
			n.Steps, ok = m.Steps()
		case order.FieldUpdatedAt:
			n.UpdatedAt, ok = m.UpdatedAt()
		case order.FieldExpiresAt:
			n.ExpiresAt, ok = m.ExpiresAt()
		case order.FieldFinishedAt:
			n.FinishedAt, ok = ptr(m.FinishedAt())
		case order.FieldTokenHash:
			n.TokenHash, ok = m.TokenHash()
		case order.FieldTokenExpiresAt:
			n.TokenExpiresAt, ok = ptr(m.TokenExpiresAt())
		case order.FieldTokenUsedAt:
			n.TokenUsedAt, ok = ptr(m.TokenUsedAt())
		case order.FieldBridgeSessionHash:
			n.BridgeSessionHash, ok = m.BridgeSessionHash()
		case order.FieldBridgeSessionExpiresAt:
			n.BridgeSessionExpiresAt, ok = ptr(m.BridgeSessionExpiresAt())
		case order.FieldVerificationCode:
			n.VerificationCode, ok = m.VerificationCode()
		case order.FieldFailureReason:
			n.FailureReason, ok = ptr(m.FailureReason())
		}
		if !ok {
			return readBack(ctx, tx, o.ID)
		}
	}
	for _, f := range m.ClearedFields() {
		switch f {
		case order.FieldTokenUsedAt:
			n.TokenUsedAt = nil
		default:
			return readBack(ctx, tx, o.ID)
		}
	}
	return &n, nil
}

// readBack reads an order through tx and detaches it, so that its edges resolve after
// the transaction.
func readBack(ctx context.Context, tx *ent.Tx, id string) (*ent.Order, error) {
	if tx == nil {
		return nil, errReadBack
	}
	o, err := tx.Order.Get(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("reload order: %w", err)
	}
	return o.Unwrap(), nil
}

func ptr[T any](v T, ok bool) (*T, bool) { return &v, ok }

// changedMeanwhile explains a lost race: another request moved the order first. It reads
// through the caller's transaction: asking the pool for a second connection while holding
// one can starve SQLite, where every other connection may be waiting to begin.
func changedMeanwhile(ctx context.Context, tx *ent.Tx, id string, to order.State) error {
	cur, err := tx.Order.Get(ctx, id)
	if err != nil {
		return fmt.Errorf("reload order: %w", err)
	}
	return changed(cur.State, to)
}

// changed is the error of a transition to to that lost a race: the order is now in state.
func changed(state, to order.State) error {
	return errs.New(errs.IllegalState,
		"The order changed meanwhile and is now %s; it cannot move to %s.", state, to).
		WithDetails(map[string]any{"state": string(state)})
}

func illegal(from, to order.State) error {
	return errs.New(errs.IllegalState, "An order that is %s cannot move to %s.", from, to).
		WithDetails(map[string]any{"state": string(from), "to": string(to)})
}

// withTx runs fn in a transaction and commits if it returns nil; within a transaction ctx
// carries (store.InTx) it joins that one, whose outermost caller commits or rolls back.
// Work that must follow a commit goes through afterCommit.
func (e *Engine) withTx(ctx context.Context, fn func(tx *ent.Tx) error) error {
	return store.InTx(ctx, e.db, func(_ context.Context, tx *ent.Tx) error { return fn(tx) })
}

// client reads and writes through the transaction ctx carries, if any, else the pool: a
// read inside a joined transaction sees what it wrote so far, and on SQLite a second
// connection would wait for it.
func (e *Engine) client(ctx context.Context) *ent.Client {
	if tx := ent.TxFromContext(ctx); tx != nil {
		return tx.Client()
	}
	return e.db
}

// publish tells subscribers the order changed. A lost notice costs nothing: subscribers
// re-read on the next one, and on reconnect.
func (e *Engine) publish(ctx context.Context, orderID string) {
	if err := e.bus.Publish(ctx, events.OrderKey(orderID)); err != nil {
		e.log.Warn("publish order event", "order", orderID, "err", err)
	}
}
