package enroll

import (
	"context"
	"fmt"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/vscard/vscard/ent"
	"github.com/vscard/vscard/ent/card"
	"github.com/vscard/vscard/ent/certificate"
	"github.com/vscard/vscard/ent/order"
	"github.com/vscard/vscard/ent/user"
	"github.com/vscard/vscard/server/audit"
	"github.com/vscard/vscard/server/ca"
	"github.com/vscard/vscard/server/cardspec"
	"github.com/vscard/vscard/server/errs"
	"github.com/vscard/vscard/server/revocation"
	"github.com/vscard/vscard/server/viewer"
)

// Lock and unlock suspend a card instead of ending it: a laptop that is missing for a while
// should stop working now, and work again when it turns up, without a new card. The
// identity store changes in the step's transaction; the CA, which keeps its own records,
// is told after commit (Step.After), and the sweep makes the CA agree again with cards that
// changed when a crash came between (Engine.syncCardsAtCA).

// The symbolic names of lock and unlock.
const (
	ProcessLockCard   = "lock-virtual-smart-card"
	ProcessUnlockCard = "unlock-virtual-smart-card"
)

// ChoiceHoldEncryption is lock's choice whether the encryption (key management, 9D)
// certificate is held too. It defaults to true: while a card may be in someone else's
// hands, nobody should encrypt new mail to it; holding does not stop the person reading
// old mail once the card is unlocked, and a person who knows the laptop is only at home
// can keep it.
const ChoiceHoldEncryption = "holdEncryptionCertificate"

// lockCard: the person or an operator suspends an ACTIVE card. Next, with the person's
// choice, makes the card LOCKED and its certificates ON_HOLD (certificateHold) and
// completes the order; the CA holds them after commit.
func lockCard() *Definition {
	return &Definition{
		Name:        ProcessLockCard,
		DisplayName: "process.lock-virtual-smart-card.name",
		Description: "process.lock-virtual-smart-card.description",
		Starters:    BySelf | ByOperator,
		CardStates:  []card.State{card.StateACTIVE},
		Forward:     map[order.State]order.State{order.StateSTARTED: order.StateCOMPLETED},
		Next: map[order.State]Step{
			order.StateSTARTED: {
				To: order.StateCOMPLETED, Action: "order.next", Note: "card locked",
				Choices: map[string]bool{ChoiceHoldEncryption: true},
				Do:      holdCard, After: syncSubjectAtCA,
			},
		},
	}
}

// unlockCard: an operator, or the person where the option script allows it (self_unlock),
// makes a LOCKED card ACTIVE again and its held certificates VALID; the CA releases them
// (removeFromCRL) after commit, so the next CRL leaves them out and OCSP says good.
func unlockCard() *Definition {
	return &Definition{
		Name:        ProcessUnlockCard,
		DisplayName: "process.unlock-virtual-smart-card.name",
		Description: "process.unlock-virtual-smart-card.description",
		Starters:    BySelf | ByOperator,
		SelfMay:     func(o *cardspec.Options) bool { return o.SelfUnlock },
		CardStates:  []card.State{card.StateLOCKED},
		Forward:     map[order.State]order.State{order.StateSTARTED: order.StateCOMPLETED},
		Next: map[order.State]Step{
			order.StateSTARTED: {To: order.StateCOMPLETED, Note: "card unlocked", Do: releaseCard, After: syncSubjectAtCA},
		},
	}
}

// stepTime is when the step that runs now happened: the time transition recorded in the
// order's history, from the engine's clock.
func stepTime(o *ent.Order) time.Time { return o.Steps[len(o.Steps)-1].At }

// holdCard locks the order's card and holds its valid certificates, all but an encryption
// certificate the person chose to keep.
func holdCard(ctx context.Context, tx *ent.Tx, o *ent.Order) error {
	hold := choicesOf(ctx)[ChoiceHoldEncryption]
	c, serials, err := lockCardTx(ctx, tx, *o.SubjectCardID, stepTime(o), hold)
	if err != nil {
		return err
	}
	return audit.Write(ctx, tx.AuditEvent, audit.Entry{
		Action: "card.lock", ObjectType: "Card", ObjectID: c.ID, Subject: o.UserID,
		Details: map[string]any{"serial": c.Serial, "order": o.ID, "holdEncryptionCertificate": hold, "certificates": serials},
	})
}

// lockCardTx makes card id LOCKED, if ACTIVE, and its VALID certificates ON_HOLD
// (an encryption certificate only with holdEncryption), and returns the card and the
// serials it held.
func lockCardTx(ctx context.Context, tx *ent.Tx, id string, now time.Time, holdEncryption bool) (*ent.Card, []string, error) {
	c, err := tx.Card.Get(ctx, id)
	if err != nil {
		return nil, nil, fmt.Errorf("load card: %w", err)
	}
	n, err := tx.Card.Update().Where(card.ID(id), card.StateEQ(card.StateACTIVE)).
		SetState(card.StateLOCKED).SetStateChangedAt(now).SetUpdatedAt(now).Save(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("lock card: %w", err)
	}
	if n != 1 {
		return nil, nil, errs.New(errs.IllegalState, "Card %s is no longer active.", c.Serial).
			WithDetails(map[string]any{"state": string(c.State)})
	}
	which := certificate.And(certificate.CardID(id), certificate.StateEQ(certificate.StateVALID))
	if !holdEncryption {
		which = certificate.And(which, certificate.TemplateNEQ(cardspec.Encryption))
	}
	serials, err := tx.Certificate.Query().Where(which).Select(certificate.FieldSerial).Strings(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("find certificates: %w", err)
	}
	if len(serials) > 0 {
		err = tx.Certificate.Update().Where(certificate.SerialIn(serials...)).
			SetState(certificate.StateON_HOLD).SetRevocationReason(revocation.CertificateHold).SetRevokedAt(now).
			Exec(ctx)
		if err != nil {
			return nil, nil, fmt.Errorf("hold certificates: %w", err)
		}
	}
	return c, serials, nil
}

// releaseCard makes the order's LOCKED card ACTIVE and its held certificates VALID.
func releaseCard(ctx context.Context, tx *ent.Tx, o *ent.Order) error {
	id := *o.SubjectCardID
	c, err := tx.Card.Get(ctx, id)
	if err != nil {
		return fmt.Errorf("load card: %w", err)
	}
	n, err := tx.Card.Update().Where(card.ID(id), card.StateEQ(card.StateLOCKED)).
		SetState(card.StateACTIVE).SetStateChangedAt(stepTime(o)).SetUpdatedAt(stepTime(o)).Save(ctx)
	if err != nil {
		return fmt.Errorf("unlock card: %w", err)
	}
	if n != 1 {
		return errs.New(errs.IllegalState, "Card %s is no longer locked.", c.Serial).
			WithDetails(map[string]any{"state": string(c.State)})
	}
	held := certificate.And(certificate.CardID(id), certificate.StateEQ(certificate.StateON_HOLD))
	serials, err := tx.Certificate.Query().Where(held).Select(certificate.FieldSerial).Strings(ctx)
	if err != nil {
		return fmt.Errorf("find certificates: %w", err)
	}
	if len(serials) > 0 {
		err = tx.Certificate.Update().Where(certificate.SerialIn(serials...)).
			SetState(certificate.StateVALID).ClearRevocationReason().ClearRevokedAt().Exec(ctx)
		if err != nil {
			return fmt.Errorf("release certificates: %w", err)
		}
	}
	return audit.Write(ctx, tx.AuditEvent, audit.Entry{
		Action: "card.unlock", ObjectType: "Card", ObjectID: id, Subject: o.UserID,
		Details: map[string]any{"serial": c.Serial, "order": o.ID, "certificates": serials},
	})
}

// syncSubjectAtCA tells the CA what a lock or unlock changed, after commit.
func syncSubjectAtCA(ctx context.Context, e *Engine, o *ent.Order) {
	if o.SubjectCardID != nil {
		e.syncCardsAtCA(ctx, *o.SubjectCardID)
	}
}

// syncCardsAtCA makes the CA's records of the cards' certificates say what the identity
// store says: held, released or revoked. It is idempotent, so the step after commit, a
// cascade and the sweep may all run it. A failure is logged and left to the next sweep.
func (e *Engine) syncCardsAtCA(ctx context.Context, cardIDs ...string) {
	if len(cardIDs) == 0 {
		return
	}
	sys := viewer.AsServer(ctx)
	certs, err := e.db.Certificate.Query().Where(certificate.CardIDIn(cardIDs...)).
		Select(certificate.FieldSerial, certificate.FieldState, certificate.FieldRevocationReason).All(sys)
	if err != nil {
		e.log.Error("find certificates to sync with the CA", "err", err)
		return
	}
	for _, c := range certs {
		st, err := e.ca.Status(sys, c.Serial)
		if err != nil {
			e.log.Error("read certificate at CA", "serial", c.Serial, "err", err)
			continue
		}
		reason := -1
		switch {
		case c.State == certificate.StateON_HOLD && st == ca.StatusValid:
			reason = ocsp.CertificateHold
		case c.State == certificate.StateVALID && st == ca.StatusOnHold:
			reason = ocsp.RemoveFromCRL
		case c.State == certificate.StateREVOKED && (st == ca.StatusValid || st == ca.StatusOnHold || st == ca.StatusPending):
			reason = ocsp.Unspecified
			if c.RevocationReason != nil {
				reason = c.RevocationReason.Code()
			}
		}
		if reason < 0 {
			continue
		}
		if err := e.ca.Revoke(sys, c.Serial, reason); err != nil {
			e.log.Error("sync certificate at CA", "serial", c.Serial, "reason", reason, "err", err)
		}
	}
}

// syncChangedCards makes the CA agree with the cards changed since since (lock, unlock,
// a cascade, a revoke): the sweep's repair of a crash between commit and the CA.
func (e *Engine) syncChangedCards(ctx context.Context, since time.Time) error {
	ids, err := e.db.Card.Query().
		Where(card.StateIn(card.StateACTIVE, card.StateLOCKED, card.StateINACTIVE, card.StateREVOKED), card.UpdatedAtGTE(since)).
		IDs(ctx)
	if err != nil {
		return fmt.Errorf("find changed cards: %w", err)
	}
	for start := 0; start < len(ids); start += 100 {
		e.syncCardsAtCA(ctx, ids[start:min(start+100, len(ids))]...)
	}
	return nil
}

// CardCascade is what a person's state change does to their cards, for users.SetState:
// InTx runs in its transaction, After once it committed.
type CardCascade struct {
	cards []string
	e     *Engine
}

// NewCardCascade returns a cascade for one state change.
func (e *Engine) NewCardCascade() *CardCascade { return &CardCascade{e: e} }

// InTx makes the cards of u follow their owner's state, from the state from, at now: a
// person LOCKED locks their ACTIVE cards and holds every certificate on them; INACTIVE (they
// left) revokes their ACTIVE and LOCKED cards (cessationOfOperation); back to ACTIVE
// changes nothing: a card locked with its owner stays locked until an operator unlocks it.
func (cc *CardCascade) InTx(ctx context.Context, tx *ent.Tx, u *ent.User, from user.State, now time.Time) error {
	var from2 []card.State
	switch u.State {
	case user.StateLOCKED:
		from2 = []card.State{card.StateACTIVE}
	case user.StateINACTIVE:
		from2 = []card.State{card.StateACTIVE, card.StateLOCKED}
	default:
		return nil
	}
	cards, err := tx.Card.Query().Where(card.OwnerID(u.ID), card.StateIn(from2...)).All(ctx)
	if err != nil {
		return fmt.Errorf("find the person's cards: %w", err)
	}
	why := fmt.Sprintf("the account was set to %s", u.State)
	for _, c := range cards {
		var entry audit.Entry
		if u.State == user.StateLOCKED {
			_, serials, err := lockCardTx(ctx, tx, c.ID, now, true)
			if err != nil {
				return err
			}
			entry = audit.Entry{Action: "card.lock", ObjectType: "Card", ObjectID: c.ID,
				Details: map[string]any{"serial": c.Serial, "cascade": why, "certificates": serials}}
		} else {
			n, err := tx.Card.Update().Where(card.ID(c.ID), card.StateEQ(c.State)).
				SetState(card.StateINACTIVE).SetStateChangedAt(now).SetUpdatedAt(now).Save(ctx)
			if err != nil {
				return fmt.Errorf("deactivate card: %w", err)
			}
			if n != 1 {
				return errs.New(errs.Conflict, "Card %s changed meanwhile; try again.", c.Serial)
			}
			serials, err := revokeCertificates(ctx, tx, certificate.CardID(c.ID), now, revocation.CessationOfOperation)
			if err != nil {
				return err
			}
			entry = audit.Entry{Action: "card.revoke", ObjectType: "Card", ObjectID: c.ID,
				Details: map[string]any{"serial": c.Serial, "cascade": why, "crlReason": string(revocation.CessationOfOperation), "certificates": serials}}
		}
		entry.Subject = c.OwnerID
		if err := audit.Write(ctx, tx.AuditEvent, entry); err != nil {
			return err
		}
		cc.cards = append(cc.cards, c.ID)
	}
	return nil
}

// After tells the CA and the subscribers what InTx changed, once it committed.
func (cc *CardCascade) After(ctx context.Context) {
	if len(cc.cards) == 0 {
		return
	}
	cc.e.syncCardsAtCA(ctx, cc.cards...)
	sys := viewer.AsServer(ctx)
	cc.e.PublishCard(sys, cc.cards...)
	orders, err := cc.e.db.Card.Query().Where(card.IDIn(cc.cards...), card.OrderIDNotNil()).
		Select(card.FieldOrderID).Strings(sys)
	if err != nil {
		cc.e.log.Warn("find orders of cascaded cards", "err", err)
		return
	}
	for _, id := range orders {
		cc.e.publish(sys, id)
	}
}

// choicesKey carries a step's choices (NextWith) to its Do.
type choicesKey struct{}

func withChoices(ctx context.Context, c map[string]bool) context.Context {
	return context.WithValue(ctx, choicesKey{}, c)
}

func choicesOf(ctx context.Context) map[string]bool {
	c, _ := ctx.Value(choicesKey{}).(map[string]bool)
	return c
}

// stepChoices checks what the person chose against what step offers and fills in the
// defaults.
func stepChoices(step Step, given map[string]any) (map[string]bool, error) {
	out := make(map[string]bool, len(step.Choices))
	for k, v := range step.Choices {
		out[k] = v
	}
	for k, v := range given {
		if _, ok := step.Choices[k]; !ok {
			return nil, errs.New(errs.InvalidInput, "This step offers no choice %q.", k).WithDetails(map[string]any{"field": k})
		}
		b, ok := v.(bool)
		if !ok {
			return nil, errs.New(errs.InvalidInput, "The choice %q is yes or no.", k).WithDetails(map[string]any{"field": k})
		}
		out[k] = b
	}
	return out, nil
}
