package enroll

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/vscard/vscard/ent"
	"github.com/vscard/vscard/ent/card"
	"github.com/vscard/vscard/ent/order"
	"github.com/vscard/vscard/server/audit"
	"github.com/vscard/vscard/server/errs"
	"github.com/vscard/vscard/server/record"
	"github.com/vscard/vscard/server/viewer"
)

// ProcessResetPIN is the symbolic name of "Reset PIN".
const ProcessResetPIN = "reset-pin"

// maxUnconfirmedPUKs bounds the PUKs kept that a Desktop App was given but did not confirm.
// With the card's PUK it makes the candidates a Desktop App may try, each wrong one costing
// a PUK try: the card allows 3 (the Desktop App's pukRetries), and a right one restores them.
const maxUnconfirmedPUKs = 2

// resetPIN: the PIN of an ACTIVE card is forgotten or blocked. The person (or an operator
// for them, who gives them the hand-off link) hands the order to the Desktop App, which
// shows the card and asks for a new PIN twice; once the person confirms, the Desktop App
// asks for the PUK (ReleasePUK, which also hands it a fresh one: RESETTING_PIN), unblocks
// the PIN, sets the fresh PUK and confirms (ConfirmPUK), which completes the order.
//
// The PUK is a secret of the server's until then: the claim does not carry it, and it goes
// only to this order's session, only once. The server keeps the PUK it had until the
// fresh one is confirmed, and every PUK it handed out meanwhile, so whatever interrupts a
// run leaves it a PUK the card takes. An ending undoes nothing: the card works as it did.
func resetPIN() *Definition {
	return &Definition{
		Name:        ProcessResetPIN,
		DisplayName: "process.reset-pin.name",
		Description: "process.reset-pin.description",
		Starters:    BySelf | ByOperator,
		CardStates:  []card.State{card.StateACTIVE},
		Forward: map[order.State]order.State{
			order.StateSTARTED:               order.StateAWAITING_DESKTOP_APP,
			order.StateAWAITING_DESKTOP_APP:  order.StateDESKTOP_APP_CONNECTED,
			order.StateDESKTOP_APP_CONNECTED: order.StateRESETTING_PIN,
			order.StateRESETTING_PIN:         order.StateCOMPLETED,
		},
		Next: map[order.State]Step{
			order.StateSTARTED: {To: order.StateAWAITING_DESKTOP_APP, Handoff: true},
		},
		Claim:    claimCardPIN, // the card and today's PIN policy; the PUK waits for ReleasePUK
		NeedsPUK: true,
	}
}

// subjectCard loads the ACTIVE card order o acts on.
func (e *Engine) subjectCard(ctx context.Context, o *ent.Order) (*ent.Card, error) {
	if o.SubjectCardID == nil {
		return nil, errs.New(errs.Internal, "The order names no card.")
	}
	c, err := e.db.Card.Get(viewer.AsServer(ctx), *o.SubjectCardID)
	if err != nil {
		return nil, fmt.Errorf("load card: %w", err)
	}
	if c.State != card.StateACTIVE {
		return nil, errs.New(errs.IllegalState, "Card %s is no longer active.", c.Serial).
			WithDetails(map[string]any{"state": string(c.State)})
	}
	return c, nil
}

// PUKRelease is what ReleasePUK gives the Desktop App. The card takes one of Candidates,
// tried in order; Fresh replaces it.
type PUKRelease struct {
	Candidates []string
	Fresh      string
}

// ReleasePUK gives the bridge session of a reset-pin order the PUKs of its card, serial,
// once the person confirmed the unblock in the Desktop App, and a fresh PUK to set. The
// fresh PUK is kept with the unconfirmed ones until ConfirmPUK: should the run stop after
// the card took it, the server can still unblock the card.
func (e *Engine) ReleasePUK(ctx context.Context, orderID, serial string) (*PUKRelease, error) {
	o, c, err := e.resetOrder(ctx, orderID, serial)
	if err != nil {
		return nil, err
	}
	if o.State != order.StateDESKTOP_APP_CONNECTED {
		// Once per order: a second request, or one before the claim, gets nothing.
		return nil, illegal(o.State, order.StateRESETTING_PIN)
	}
	rel := &PUKRelease{Fresh: newPUK()}
	_, err = e.transition(ctx, o, move{
		to: order.StateRESETTING_PIN, action: "order.puk_released", note: "resetting the PIN of card " + c.Serial,
		details: map[string]any{"cardSerial": c.Serial},
		then: func(ctx context.Context, tx *ent.Tx, _ *ent.Order) error {
			// Read under the order's version check: the PUKs of the card now, not as before.
			cur, err := tx.Card.Get(ctx, c.ID)
			if err != nil {
				return fmt.Errorf("load card: %w", err)
			}
			puk, err := e.box.Open(cur.Puk, "card:puk:"+cur.Serial)
			if err != nil {
				return fmt.Errorf("open card PUK: %w", err)
			}
			unconfirmed, err := e.unconfirmedPUKs(cur)
			if err != nil {
				return err
			}
			rel.Candidates = append([]string{string(puk)}, unconfirmed...)
			unconfirmed = append(unconfirmed, rel.Fresh)
			if len(unconfirmed) > maxUnconfirmedPUKs {
				unconfirmed = unconfirmed[len(unconfirmed)-maxUnconfirmedPUKs:]
			}
			sealed, err := e.sealPUKs(cur.Serial, unconfirmed)
			if err != nil {
				return err
			}
			return tx.Card.UpdateOneID(c.ID).SetPukUnconfirmed(sealed).Exec(ctx)
		},
		events: func() []audit.Entry {
			return []audit.Entry{{Action: "card.puk_released", ObjectType: "Card", ObjectID: c.ID,
				Details: map[string]any{"order": o.ID, "candidates": len(rel.Candidates)}}}
		},
	})
	if err != nil {
		return nil, err
	}
	return rel, nil
}

// ConfirmPUK records that the card of the bridge's reset-pin order has the fresh PUK of
// ReleasePUK: the server keeps it as the card's PUK, forgets the unconfirmed ones, and the
// order completes.
func (e *Engine) ConfirmPUK(ctx context.Context, orderID, serial string) (*ent.Order, error) {
	o, c, err := e.resetOrder(ctx, orderID, serial)
	if err != nil {
		return nil, err
	}
	if o.State != order.StateRESETTING_PIN {
		return nil, illegal(o.State, order.StateCOMPLETED)
	}
	return e.transition(ctx, o, move{
		to: order.StateCOMPLETED, action: "order.puk_confirmed", note: "PIN reset; PUK replaced",
		details: map[string]any{"cardSerial": c.Serial},
		then: func(ctx context.Context, tx *ent.Tx, _ *ent.Order) error {
			cur, err := tx.Card.Get(ctx, c.ID)
			if err != nil {
				return fmt.Errorf("load card: %w", err)
			}
			unconfirmed, err := e.unconfirmedPUKs(cur)
			if err != nil {
				return err
			}
			if len(unconfirmed) == 0 {
				return errs.New(errs.IllegalState, "Card %s has no PUK to confirm.", c.Serial)
			}
			// This order's is the newest: a person has one order at a time.
			fresh := unconfirmed[len(unconfirmed)-1]
			return tx.Card.UpdateOneID(c.ID).
				SetPuk(e.box.Seal([]byte(fresh), "card:puk:"+cur.Serial)).
				ClearPukUnconfirmed().
				Exec(ctx)
		},
		events: func() []audit.Entry {
			return []audit.Entry{{Action: "card.pin_reset", ObjectType: "Card", ObjectID: c.ID,
				Details: map[string]any{"order": o.ID}}}
		},
	})
}

// ReportPINState records what the bridge read of the PIN of its order's card, serial.
func (e *Engine) ReportPINState(ctx context.Context, orderID, serial string, st record.PINState) (*ent.Card, error) {
	o, err := e.bridgeOrder(ctx, orderID)
	if err != nil {
		return nil, err
	}
	sys := viewer.AsServer(ctx)
	var c *ent.Card
	if o.SubjectCardID != nil {
		c, err = e.db.Card.Get(sys, *o.SubjectCardID)
	} else {
		c, err = e.db.Card.Query().Where(card.OrderID(o.ID)).Only(sys)
	}
	if err != nil {
		return nil, errs.Wrap(err, errs.IllegalState, "The order has no card.")
	}
	if c.Serial != serial {
		return nil, errs.New(errs.Forbidden, "Card %s is not this order's card.", serial)
	}
	if st.TriesLeft < 0 || st.TriesLeft > 255 {
		return nil, errs.New(errs.InvalidInput, "The PIN tries left must be between 0 and 255.").
			WithDetails(map[string]any{"field": "triesLeft"})
	}
	st.ReportedAt = e.now()
	var updated *ent.Card
	err = e.withTx(sys, func(tx *ent.Tx) error {
		if updated, err = tx.Card.UpdateOneID(c.ID).SetPinState(&st).Save(sys); err != nil {
			return fmt.Errorf("update card PIN state: %w", err)
		}
		return audit.WriteAll(ctx, tx.AuditEvent, audit.Entry{
			Action: "card.pin_state_reported", ObjectType: "Card", ObjectID: c.ID, Subject: c.OwnerID,
			Details: map[string]any{"order": o.ID, "triesLeft": st.TriesLeft, "blocked": st.Blocked, "pukBlocked": st.PUKBlocked},
		})
	})
	if err != nil {
		return nil, err
	}
	e.PublishCard(sys, c.ID)
	return updated.Unwrap(), nil
}

// resetOrder loads the bridge's reset-pin order and its card, which must be serial.
func (e *Engine) resetOrder(ctx context.Context, orderID, serial string) (*ent.Order, *ent.Card, error) {
	o, err := e.bridgeOrder(ctx, orderID)
	if err != nil {
		return nil, nil, err
	}
	if o.Process != ProcessResetPIN {
		return nil, nil, errs.New(errs.IllegalState, "This order does not reset a PIN.")
	}
	c, err := e.subjectCard(ctx, o)
	if err != nil {
		return nil, nil, err
	}
	if c.Serial != serial {
		return nil, nil, errs.New(errs.Forbidden, "Card %s is not this order's card.", serial)
	}
	return o, c, nil
}

func (e *Engine) unconfirmedPUKs(c *ent.Card) ([]string, error) {
	if c.PukUnconfirmed == nil || len(*c.PukUnconfirmed) == 0 {
		return nil, nil
	}
	b, err := e.box.Open(*c.PukUnconfirmed, "card:puk-unconfirmed:"+c.Serial)
	if err != nil {
		return nil, fmt.Errorf("open unconfirmed PUKs: %w", err)
	}
	var out []string
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("read unconfirmed PUKs: %w", err)
	}
	return out, nil
}

func (e *Engine) sealPUKs(serial string, puks []string) ([]byte, error) {
	b, err := json.Marshal(puks)
	if err != nil {
		return nil, fmt.Errorf("seal unconfirmed PUKs: %w", err)
	}
	return e.box.Seal(b, "card:puk-unconfirmed:"+serial), nil
}
