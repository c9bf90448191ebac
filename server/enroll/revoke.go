package enroll

import (
	"context"
	"fmt"

	"github.com/vscard/vscard/ent"
	"github.com/vscard/vscard/ent/card"
	"github.com/vscard/vscard/ent/certificate"
	"github.com/vscard/vscard/ent/privacy"
	"github.com/vscard/vscard/server/audit"
	"github.com/vscard/vscard/server/errs"
	"github.com/vscard/vscard/server/viewer"
)

// RevokeCard takes an active card out of service: the card becomes INACTIVE and its
// certificates are revoked in the identity store and at the CA. Its owner or an
// administrator may; a lost or deleted card is the usual reason.
func (e *Engine) RevokeCard(ctx context.Context, serial, reason string) (*ent.Card, error) {
	v := viewer.FromContext(ctx)
	if v == nil || v.Kind != viewer.KindUser {
		return nil, errs.New(errs.Unauthenticated, "Sign in first.")
	}
	sys := privacy.DecisionContext(ctx, privacy.Allow)
	q := e.db.Card.Query().Where(card.Serial(serial))
	if !v.IsAdmin() {
		q = q.Where(card.OwnerID(v.UserID))
	}
	c, err := q.Only(sys)
	if ent.IsNotFound(err) {
		return nil, errs.New(errs.NotFound, "There is no card %s for you.", serial)
	}
	if err != nil {
		return nil, fmt.Errorf("load card: %w", err)
	}
	if c.State != card.StateACTIVE && c.State != card.StateLOCKED {
		return nil, errs.New(errs.IllegalState, "Card %s is %s; only an active or locked card can be revoked.", serial, c.State).
			WithDetails(map[string]any{"state": string(c.State)})
	}
	reason = truncate(reason, 200)
	var serials []string
	now := e.now()
	err = e.withTx(sys, func(tx *ent.Tx) error {
		n, err := tx.Card.Update().
			Where(card.ID(c.ID), card.StateEQ(c.State)).
			SetState(card.StateINACTIVE).
			Save(sys)
		if err != nil {
			return fmt.Errorf("deactivate card: %w", err)
		}
		if n != 1 {
			return errs.New(errs.IllegalState, "Card %s changed meanwhile.", serial)
		}
		if serials, err = revokeCertificates(sys, tx, certificate.CardID(c.ID), now); err != nil {
			return err
		}
		return audit.Write(ctx, tx.AuditEvent, audit.Entry{
			Action: "card.revoke", ObjectType: "Card", ObjectID: c.ID,
			Details: map[string]any{"serial": serial, "reason": reason, "certificates": serials},
		})
	})
	if err != nil {
		return nil, err
	}
	e.revokeAtCA(sys, c.ID, serials)
	if c.OrderID != nil {
		e.publish(sys, *c.OrderID)
	}
	return e.db.Card.Get(sys, c.ID)
}
