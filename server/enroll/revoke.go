package enroll

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/vscard/vscard/ent"
	"github.com/vscard/vscard/ent/card"
	"github.com/vscard/vscard/ent/certificate"
	"github.com/vscard/vscard/server/audit"
	"github.com/vscard/vscard/server/errs"
	"github.com/vscard/vscard/server/revocation"
	"github.com/vscard/vscard/server/viewer"
)

// MaxRevokeComment bounds the free text a person may give when revoking a card, in
// characters.
const MaxRevokeComment = 500

// RevokeCard takes an active card out of service: the card becomes INACTIVE and its
// certificates are revoked in the identity store and at the CA, with the RFC 5280 reason
// for cause. Its owner or an administrator may. comment, the person's own words, is
// trimmed and kept in the audit event only: it is theirs to write, not a relying party's
// to read.
func (e *Engine) RevokeCard(ctx context.Context, serial string, cause revocation.Cause, comment string) (*ent.Card, error) {
	if !cause.Valid() {
		return nil, errs.New(errs.InvalidInput, "Say why the card is revoked: lost or stolen, replaced, or no longer needed.")
	}
	comment = strings.TrimSpace(comment)
	if n := utf8.RuneCountInString(comment); n > MaxRevokeComment {
		return nil, errs.New(errs.InvalidInput, "The comment is %d characters long; shorten it to at most %d.", n, MaxRevokeComment).
			WithDetails(map[string]any{"field": "comment", "max": MaxRevokeComment})
	}
	v := viewer.FromContext(ctx)
	if v == nil || v.Kind != viewer.KindUser {
		return nil, errs.New(errs.Unauthenticated, "Sign in first.")
	}
	sys := viewer.AsServer(ctx)
	q := e.db.Card.Query().Where(card.Serial(serial))
	if !v.IsOperator() {
		q = q.Where(card.OwnerID(v.UserID))
	}
	c, err := q.Only(sys)
	if ent.IsNotFound(err) {
		return nil, errs.New(errs.NotFound, "There is no card %s for you.", serial)
	}
	if err != nil {
		return nil, fmt.Errorf("load card: %w", err)
	}
	if err := audit.RequireReason(audit.WithReason(ctx, comment), c.OwnerID); err != nil {
		return nil, err
	}
	if c.State != card.StateACTIVE && c.State != card.StateLOCKED {
		return nil, errs.New(errs.IllegalState, "Card %s is %s; only an active or locked card can be revoked.", serial, c.State).
			WithDetails(map[string]any{"state": string(c.State)})
	}
	reason := cause.Reason()
	var serials []string
	now := e.now()
	err = e.withTx(sys, func(tx *ent.Tx) error {
		n, err := tx.Card.Update().
			Where(card.ID(c.ID), card.StateEQ(c.State)).
			SetState(card.StateINACTIVE).
			SetStateChangedAt(now).
			SetUpdatedAt(now). // the engine's clock: the sweep finds changed cards by it
			Save(sys)
		if err != nil {
			return fmt.Errorf("deactivate card: %w", err)
		}
		if n != 1 {
			return errs.New(errs.IllegalState, "Card %s changed meanwhile.", serial)
		}
		if serials, err = revokeCertificates(sys, tx, certificate.CardID(c.ID), now, reason); err != nil {
			return err
		}
		return audit.Write(ctx, tx.AuditEvent, audit.Entry{
			Action: "card.revoke", ObjectType: "Card", ObjectID: c.ID, Subject: c.OwnerID,
			Details: map[string]any{"serial": serial, "reason": string(cause), "crlReason": string(reason), "comment": comment, "certificates": serials},
		})
	})
	if err != nil {
		return nil, err
	}
	e.revokeAtCA(sys, c.ID, serials, reason)
	e.PublishCard(sys, c.ID)
	if c.OrderID != nil {
		e.publish(sys, *c.OrderID)
	}
	return e.db.Card.Get(sys, c.ID)
}
