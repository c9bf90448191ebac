package enroll

import (
	"context"
	"fmt"

	"github.com/vscard/vscard/ent"
	"github.com/vscard/vscard/ent/card"
	"github.com/vscard/vscard/ent/certificate"
	"github.com/vscard/vscard/ent/order"
	"github.com/vscard/vscard/server/audit"
	"github.com/vscard/vscard/server/revocation"
)

// Replace is "Get virtual smart card" for someone who has a card that no longer serves: the
// computer was lost, stolen or broken. The new card is made through the same steps and the
// same Desktop App hand-off (newCardTable, claimNewCard, newCardActivation); what differs
// is the old card (the order's subject card), which ends:
//
//   - at once, at the hand-off, when the person says it was lost or stolen: its
//     certificates are revoked as keyCompromise and the card is REVOKED, whatever happens to
//     the new card afterwards, since someone else may hold the key;
//   - otherwise only once the new card is active (superseded): until then the old card
//     works, so a replacement that is cancelled, fails or expires leaves the person with
//     the card they had.
//
// Either way the old card records its successor (replaced_by) when the new card is active.
// An ending undoes the new card as get-virtual-smart-card's does.

// ProcessReplaceCard is the symbolic name of "Replace virtual smart card".
const ProcessReplaceCard = "replace-virtual-smart-card"

// ChoiceLostOrStolen is replace's first question: whether the old card's computer was lost
// or stolen (yes: keyCompromise, at once) rather than broken or otherwise unusable (no:
// superseded, once the new card is ready). It defaults to no; a person who says yes is
// shown that the old card stops working now.
const ChoiceLostOrStolen = "lostOrStolen"

// replaceCard: the person replaces an ACTIVE or LOCKED card (a card whose PUK is blocked
// can only be replaced) with a new one made like get-virtual-smart-card's.
func replaceCard() *Definition {
	handoff := newCardHandoff()
	handoff.Choices = map[string]bool{ChoiceLostOrStolen: false}
	handoff.Do = revokeIfLost
	handoff.After = afterCardEnded
	activate := newCardActivation()
	activate.Note = "new card active; old card superseded"
	activate.Do = supersedeSubject
	activate.After = afterCardEnded
	return &Definition{
		Name:        ProcessReplaceCard,
		DisplayName: "process.replace-virtual-smart-card.name",
		Description: "process.replace-virtual-smart-card.description",
		Starters:    BySelf,
		CardStates:  []card.State{card.StateACTIVE, card.StateLOCKED},
		Options:     true,
		Forward:     newCardTable(),
		Next: map[order.State]Step{
			order.StateSTARTED:    handoff,
			order.StateCARD_READY: activate,
		},
		Claim:   claimNewCard,
		Undo:    UndoCertificates | UndoNewCard,
		NewCard: true,
	}
}

// revokeIfLost revokes the old card at once (keyCompromise, REVOKED) when the person said
// it was lost or stolen; otherwise it leaves it working.
func revokeIfLost(ctx context.Context, tx *ent.Tx, o *ent.Order) error {
	if !choicesOf(ctx)[ChoiceLostOrStolen] {
		return nil
	}
	return endCardTx(ctx, tx, o, *o.SubjectCardID, card.StateREVOKED, revocation.KeyCompromise, "card.replace.revoke")
}

// supersedeSubject ends the old card now that the new one is active (activateNewCard ran in
// the same transaction): certificates still valid or on hold are revoked as superseded and
// the card is REVOKED, unless it already ended otherwise (lost or stolen, deleted
// meanwhile), and it names its successor either way.
func supersedeSubject(ctx context.Context, tx *ent.Tx, o *ent.Order) error {
	if o.SubjectCardID == nil {
		return nil // an operator purged the old card meanwhile: nothing left to supersede
	}
	oldID := *o.SubjectCardID
	newCard, err := tx.Card.Query().Where(card.OrderID(o.ID)).Only(ctx)
	if err != nil {
		return fmt.Errorf("load new card: %w", err)
	}
	old, err := tx.Card.Get(ctx, oldID)
	if err != nil {
		return fmt.Errorf("load old card: %w", err)
	}
	now := stepTime(o)
	upd := tx.Card.UpdateOneID(oldID).SetReplacedByID(newCard.ID).SetUpdatedAt(now)
	if old.State == card.StateACTIVE || old.State == card.StateLOCKED {
		upd.SetState(card.StateREVOKED).SetStateChangedAt(now)
	}
	if err := upd.Exec(ctx); err != nil {
		return fmt.Errorf("supersede old card: %w", err)
	}
	if err := markSuperseded(ctx, tx, certificate.CardID(oldID), o.ID); err != nil {
		return err
	}
	serials, err := revokeCertificates(ctx, tx, certificate.CardID(oldID), now, revocation.Superseded)
	if err != nil {
		return err
	}
	return audit.Write(ctx, tx.AuditEvent, audit.Entry{
		Action: "card.replace.supersede", ObjectType: "Card", ObjectID: oldID, Subject: o.UserID,
		Details: map[string]any{
			"serial": old.Serial, "order": o.ID, "replacedBy": newCard.Serial, "wasState": string(old.State),
			"crlReason": string(revocation.Superseded), "certificates": serials,
		},
	})
}
