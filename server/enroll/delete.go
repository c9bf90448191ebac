package enroll

import (
	"context"
	"fmt"

	"github.com/vscard/vscard/ent"
	"github.com/vscard/vscard/ent/card"
	"github.com/vscard/vscard/ent/certificate"
	"github.com/vscard/vscard/ent/order"
	"github.com/vscard/vscard/server/audit"
	"github.com/vscard/vscard/server/ca"
	"github.com/vscard/vscard/server/errs"
	"github.com/vscard/vscard/server/revocation"
	"github.com/vscard/vscard/server/viewer"
)

// Delete ends a card for good and keeps its record: the person no longer needs it (or an
// operator takes it away), so it must stop working everywhere and leave the desktop. The
// identity store changes in the step's transaction; the CA is told after commit and the
// sweep repairs a crash between (syncChangedCards), as for lock. An operator may also purge
// a card's record entirely (PurgeCard), which is not a process: nothing is left to follow.

// ProcessDeleteCard is the symbolic name of "Delete virtual smart card".
const ProcessDeleteCard = "delete-virtual-smart-card"

// deleteCard: the person or an operator deletes an ACTIVE or LOCKED card. Next makes it
// INACTIVE and revokes its certificates (cessationOfOperation) and completes the order; the
// Desktop App removes the card once it learns of it (vscard-bridge delete at once; a
// running agent from the card's state).
func deleteCard() *Definition {
	return &Definition{
		Name:        ProcessDeleteCard,
		DisplayName: "process.delete-virtual-smart-card.name",
		Description: "process.delete-virtual-smart-card.description",
		Starters:    BySelf | ByOperator,
		CardStates:  []card.State{card.StateACTIVE, card.StateLOCKED},
		Forward:     map[order.State]order.State{order.StateSTARTED: order.StateCOMPLETED},
		Next: map[order.State]Step{
			order.StateSTARTED: {
				To: order.StateCOMPLETED, Note: "card deleted",
				Do: deactivateSubject, After: afterCardEnded,
			},
		},
	}
}

// deactivateSubject makes the order's card INACTIVE and revokes its certificates.
func deactivateSubject(ctx context.Context, tx *ent.Tx, o *ent.Order) error {
	return endCardTx(ctx, tx, o, *o.SubjectCardID, card.StateINACTIVE, revocation.CessationOfOperation, "card.delete")
}

// endCardTx takes card id out of service, into state to, if it is still ACTIVE or LOCKED,
// and revokes its certificates still valid or on hold for reason, writing action to the
// audit log.
func endCardTx(ctx context.Context, tx *ent.Tx, o *ent.Order, id string, to card.State, reason revocation.Reason, action string) error {
	c, err := tx.Card.Get(ctx, id)
	if err != nil {
		return fmt.Errorf("load card: %w", err)
	}
	now := stepTime(o)
	n, err := tx.Card.Update().Where(card.ID(id), card.StateIn(card.StateACTIVE, card.StateLOCKED)).
		SetState(to).SetUpdatedAt(now).Save(ctx)
	if err != nil {
		return fmt.Errorf("end card: %w", err)
	}
	if n != 1 {
		return errs.New(errs.IllegalState, "Card %s is no longer in use.", c.Serial).
			WithDetails(map[string]any{"state": string(c.State)})
	}
	serials, err := revokeCertificates(ctx, tx, certificate.CardID(id), now, reason)
	if err != nil {
		return err
	}
	return audit.Write(ctx, tx.AuditEvent, audit.Entry{
		Action: action, ObjectType: "Card", ObjectID: id, Subject: o.UserID,
		Details: map[string]any{"serial": c.Serial, "order": o.ID, "crlReason": string(reason), "certificates": serials},
	})
}

// afterCardEnded tells the CA what ending the order's card changed, and the subscribers of
// the order that made the card (the Desktop App that holds it follows that order's card).
func afterCardEnded(ctx context.Context, e *Engine, o *ent.Order) {
	if o.SubjectCardID == nil {
		return
	}
	e.syncCardsAtCA(ctx, *o.SubjectCardID)
	e.publishCardOrder(ctx, *o.SubjectCardID)
}

// publishCardOrder publishes the order that made card id, for those that follow it.
func (e *Engine) publishCardOrder(ctx context.Context, id string) {
	sys := viewer.AsServer(ctx)
	made, err := e.db.Card.Query().Where(card.ID(id), card.OrderIDNotNil()).Select(card.FieldOrderID).Strings(sys)
	if err != nil {
		e.log.Warn("find the order of a card", "card", id, "err", err)
		return
	}
	for _, oid := range made {
		e.publish(sys, oid)
	}
}

// PurgeCard removes the record of the card serial entirely, in any state: an operator's
// "no information left". Certificates the CA still holds valid or on hold are revoked
// there first (cessationOfOperation, or the reason the identity store has): once the
// records are gone nothing would find them again, so a CA that does not answer refuses the
// purge. Orders still running on the card are cancelled; the orders that made or acted on
// it stay, without it; the audit log keeps the event with reason. Removing someone else's
// card needs a reason (audit.RequireReason), checked before anything is touched.
func (e *Engine) PurgeCard(ctx context.Context, serial, reason string) error {
	ctx = audit.WithReason(ctx, reason)
	v := viewer.FromContext(ctx)
	if v == nil || v.Kind != viewer.KindUser || !v.IsAdmin() {
		return errs.New(errs.Forbidden, "Only an administrator may delete a card's record.")
	}
	sys := viewer.AsServer(ctx)
	c, err := e.db.Card.Query().Where(card.Serial(serial)).WithCertificates().Only(sys)
	if ent.IsNotFound(err) {
		return errs.New(errs.NotFound, "There is no card %s.", serial)
	}
	if err != nil {
		return fmt.Errorf("load card: %w", err)
	}
	if err := audit.RequireReason(ctx, c.OwnerID); err != nil {
		return err
	}
	// Orders still running on the card end first, undoing what they made (a replacement
	// card being made for it; the card itself when it is the one a running order makes).
	running, err := e.db.Order.Query().Where(order.StateIn(running...),
		order.Or(order.SubjectCardID(c.ID), order.HasCardWith(card.ID(c.ID)))).All(sys)
	if err != nil {
		return fmt.Errorf("find running orders of the card: %w", err)
	}
	for _, o := range running {
		if _, err := e.transition(ctx, o, causedCancellation("the card was deleted by an administrator")); err != nil && errs.CodeOf(err) != errs.IllegalState {
			return err
		}
	}
	var certs []string
	for _, cert := range c.Edges.Certificates {
		certs = append(certs, cert.Serial)
		if err := e.revokeForGood(sys, cert); err != nil {
			e.log.Error("revoke certificate at CA before purge", "serial", cert.Serial, "err", err)
			return errs.Wrap(err, errs.Unavailable,
				"The certificate authority could not revoke the card's certificates; the card was not deleted. Try again later.")
		}
	}
	var orders []string
	err = e.withTx(sys, func(tx *ent.Tx) error {
		orders, err = tx.Order.Query().Where(order.Or(order.SubjectCardID(c.ID), order.HasCardWith(card.ID(c.ID)))).IDs(sys)
		if err != nil {
			return fmt.Errorf("find orders of the card: %w", err)
		}
		if _, err := tx.Certificate.Delete().Where(certificate.CardID(c.ID)).Exec(sys); err != nil {
			return fmt.Errorf("delete certificates: %w", err)
		}
		// Orders' subject_card_id and other cards' replaced_by_id are set to NULL by
		// their foreign keys (ON DELETE SET NULL).
		// Delete, not DeleteOneID: a cancelled order above may have deleted the card
		// already, when it was the REGISTERED card that order was making.
		if _, err := tx.Card.Delete().Where(card.ID(c.ID)).Exec(sys); err != nil {
			return fmt.Errorf("delete card: %w", err)
		}
		return audit.Write(ctx, tx.AuditEvent, audit.Entry{
			Action: "card.purge", ObjectType: "Card", ObjectID: c.ID, Subject: c.OwnerID,
			Details: map[string]any{"serial": c.Serial, "owner": c.OwnerID, "state": string(c.State), "certificates": certs, "orders": orders},
		})
	})
	if err != nil {
		return err
	}
	for _, id := range orders {
		e.publish(sys, id)
	}
	return nil
}

// revokeForGood makes sure the CA no longer holds cert valid or on hold.
func (e *Engine) revokeForGood(ctx context.Context, cert *ent.Certificate) error {
	st, err := e.ca.Status(ctx, cert.Serial)
	if err != nil {
		return fmt.Errorf("read certificate at CA: %w", err)
	}
	if st != ca.StatusValid && st != ca.StatusOnHold && st != ca.StatusPending {
		return nil
	}
	reason := revocation.CessationOfOperation
	if cert.State == certificate.StateREVOKED && cert.RevocationReason != nil {
		reason = *cert.RevocationReason
	}
	if err := e.ca.Revoke(ctx, cert.Serial, reason.Code()); err != nil {
		return fmt.Errorf("revoke certificate at CA: %w", err)
	}
	return nil
}
