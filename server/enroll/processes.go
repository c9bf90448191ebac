package enroll

import (
	"context"
	"encoding/hex"
	"fmt"
	"strconv"
	"time"

	"entgo.io/ent/dialect/sql"

	"github.com/vscard/vscard/ent"
	"github.com/vscard/vscard/ent/card"
	"github.com/vscard/vscard/ent/order"
	"github.com/vscard/vscard/server/errs"
	"github.com/vscard/vscard/server/record"
	"github.com/vscard/vscard/server/viewer"
)

// ProcessGetVirtualSmartCard is the symbolic name of "Get virtual smart card".
const ProcessGetVirtualSmartCard = "get-virtual-smart-card"

// ProcessChangePIN is the symbolic name of "Change PIN".
const ProcessChangePIN = "change-pin"

// builtin are the processes every engine runs, in the order the portal offers them. A new
// process is one more entry here (see the package doc).
func builtin() []*Definition {
	return []*Definition{
		getVirtualSmartCard(),
		changePIN(),
		resetPIN(),
		lockCard(),
		unlockCard(),
		unblockPINOffline(),
		renewCard(),
		issueCertificates(),
		replaceCard(),
		deleteCard(),
	}
}

// getVirtualSmartCard: a person makes a new virtual smart card on their computer. The
// Desktop App claims the order (the card record is made, REGISTERED), creates the card,
// submits one key per certificate (SubmitKeys), confirms the card ready; the person's Next
// then activates it.
func getVirtualSmartCard() *Definition {
	return &Definition{
		Name:        ProcessGetVirtualSmartCard,
		DisplayName: "process.get-virtual-smart-card.name",
		Description: "process.get-virtual-smart-card.description",
		Starters:    BySelf,
		Options:     true,
		Forward:     newCardTable(),
		Next: map[order.State]Step{
			order.StateSTARTED:    newCardHandoff(),
			order.StateCARD_READY: newCardActivation(),
		},
		Claim:   claimNewCard,
		Undo:    UndoCertificates | UndoNewCard,
		NewCard: true,
	}
}

// newCardTable is the table of a process that makes a new card with the Desktop App
// (get-virtual-smart-card, replace-virtual-smart-card): the Desktop App's calls
// (ReportCardCreation, SubmitKeys, ConfirmCardReady) move its middle states.
func newCardTable() map[order.State]order.State {
	return map[order.State]order.State{
		order.StateSTARTED:               order.StateAWAITING_DESKTOP_APP,
		order.StateAWAITING_DESKTOP_APP:  order.StateDESKTOP_APP_CONNECTED,
		order.StateDESKTOP_APP_CONNECTED: order.StateCREATING_CARD,
		order.StateCREATING_CARD:         order.StateISSUING_CERTIFICATES,
		order.StateISSUING_CERTIFICATES:  order.StateCARD_READY,
		order.StateCARD_READY:            order.StateCOMPLETED,
	}
}

// newCardHandoff is the person's first step of a process that makes a new card: Next
// hands the order to the Desktop App.
func newCardHandoff() Step { return Step{To: order.StateAWAITING_DESKTOP_APP, Handoff: true} }

// newCardActivation is the person's last step of a process that makes a new card: once
// they saw it ready, Next activates it.
func newCardActivation() Step {
	return Step{To: order.StateCOMPLETED, Note: "card active", Writes: activateNewCard}
}

// activateNewCard makes the card the order made ACTIVE, on condition that it is still
// REGISTERED.
func activateNewCard(o *ent.Order) ([]write, []condition) {
	at := card.UpdateDefaultUpdatedAt()
	return []write{updateRows(card.Table,
			sql.And(sql.EQ(card.FieldOrderID, o.ID), sql.EQ(card.FieldState, card.StateREGISTERED)),
			card.FieldState, card.StateACTIVE, card.FieldUpdatedAt, at, card.FieldStateChangedAt, at)},
		[]condition{{
			holds: sql.P(func(b *sql.Builder) {
				b.WriteString(`EXISTS (SELECT 1 FROM "cards" WHERE "cards"."order_id" = `).Arg(o.ID).
					WriteString(` AND "cards"."state" = `).Arg(card.StateREGISTERED).WriteString(")")
			}),
			why: func(context.Context) error {
				return errs.New(errs.IllegalState, "The order has no card to activate.")
			},
		}}
}

// claimNewCard makes the card's credentials and, with the claim, its record (REGISTERED).
func claimNewCard(ctx context.Context, e *Engine, o *ent.Order, device *record.Device) (*Claimed, error) {
	opts := o.Options
	if opts == nil {
		return nil, errs.New(errs.Internal, "The order has no options.")
	}
	now := e.now()
	mgmtKey := make([]byte, 24)
	if _, err := randRead(mgmtKey); err != nil {
		return nil, err
	}
	puk := newPUK()
	validUntil := e.cardValidUntil(now, opts)
	serial := strconv.FormatUint(uint64(newCardSerial()), 10)
	created := time.Now()
	return &Claimed{
		Card: &CardSetup{
			Serial:        serial,
			ManagementKey: hex.EncodeToString(mgmtKey),
			PUK:           puk,
			PINPolicy:     opts.PIN,
			Certificates:  opts.Certificates,
			Properties:    opts.Properties,
			ValidUntil:    validUntil,
		},
		Details: map[string]any{"cardSerial": serial, "reader": device.Reader, "host": device.Host},
		Writes: []write{insertRow(card.Table,
			card.FieldID, card.DefaultID(), card.FieldCreatedAt, created, card.FieldUpdatedAt, created,
			card.FieldSerial, serial, card.FieldKind, card.DefaultKind,
			card.FieldState, card.StateREGISTERED, card.FieldStateChangedAt, created, card.FieldValidFrom, now, card.FieldValidUntil, validUntil,
			card.FieldProperties, opts.Properties, card.FieldDevice, *device,
			// Sealed under a context that names the card: a value moved elsewhere won't open.
			card.FieldManagementKey, e.box.Seal(mgmtKey, "card:management-key:"+serial),
			card.FieldPuk, e.box.Seal([]byte(puk), "card:puk:"+serial),
			card.FieldOwnerID, o.UserID, card.FieldOrderID, o.ID)},
	}, nil
}

// changePIN: a person changes the PIN of their ACTIVE card. The PIN is typed into the
// Desktop App and goes to the card only: the server hands the order off, gives the
// Desktop App the card's serial and the PIN policy the option script gives now, and
// learns only that the PIN was changed (the Desktop App's step, which completes the order)
// or why not (failOrder). Nothing on the server changes, so an ending undoes nothing.
func changePIN() *Definition {
	return &Definition{
		Name:        ProcessChangePIN,
		DisplayName: "process.change-pin.name",
		Description: "process.change-pin.description",
		Starters:    BySelf,
		CardStates:  []card.State{card.StateACTIVE},
		Forward: map[order.State]order.State{
			order.StateSTARTED:               order.StateAWAITING_DESKTOP_APP,
			order.StateAWAITING_DESKTOP_APP:  order.StateDESKTOP_APP_CONNECTED,
			order.StateDESKTOP_APP_CONNECTED: order.StateCOMPLETED,
		},
		Next: map[order.State]Step{
			order.StateSTARTED: {To: order.StateAWAITING_DESKTOP_APP, Handoff: true},
		},
		Bridge: map[order.State]Step{
			order.StateDESKTOP_APP_CONNECTED: {To: order.StateCOMPLETED, Action: "order.pin_changed", Note: "PIN changed"},
		},
		Claim: claimCardPIN,
	}
}

// claimCardPIN gives the Desktop App the card an order acts on and the PIN policy the
// option script gives now (a PIN chosen today meets today's rules, whatever they were
// when the card was made); never the card's PUK or management key, which changing a PIN
// does not need (reset-pin's PUK waits for the person's confirmation, ReleasePUK). The
// card must still be ACTIVE: it may have been locked or revoked since the order started.
func claimCardPIN(ctx context.Context, e *Engine, o *ent.Order, device *record.Device) (*Claimed, error) {
	c, err := e.subjectCard(ctx, o)
	if err != nil {
		return nil, err
	}
	owner, err := e.db.User.Get(viewer.AsServer(ctx), o.UserID)
	if err != nil {
		return nil, fmt.Errorf("load order owner: %w", err)
	}
	opts, version, err := e.opts.Evaluate(ctx, owner)
	if err != nil {
		e.log.Error("evaluate option script", "user", owner.ID, "err", err)
		return nil, errs.Wrap(err, errs.ScriptError,
			"The PIN rules could not be computed. An administrator needs to fix the option script.")
	}
	return &Claimed{
		Card: &CardSetup{
			Serial:     c.Serial,
			PINPolicy:  opts.PIN,
			Properties: c.Properties,
			ValidUntil: c.ValidUntil,
		},
		Details: map[string]any{"cardSerial": c.Serial, "optionScriptVersion": version, "host": device.Host},
	}, nil
}
