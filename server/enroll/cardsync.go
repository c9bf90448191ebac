package enroll

import (
	"context"
	"encoding/pem"
	"fmt"
	"time"

	"github.com/vscard/vscard/ent"
	"github.com/vscard/vscard/ent/card"
	"github.com/vscard/vscard/ent/certificate"
	"github.com/vscard/vscard/ent/order"
	"github.com/vscard/vscard/server/audit"
	"github.com/vscard/vscard/server/cardproof"
	"github.com/vscard/vscard/server/cardspec"
	"github.com/vscard/vscard/server/errs"
	"github.com/vscard/vscard/server/events"
	"github.com/vscard/vscard/server/record"
	"github.com/vscard/vscard/server/viewer"
)

// CardChallenge is a challenge for the card proof (server/cardproof).
type CardChallenge struct {
	Challenge []byte
	ExpiresAt time.Time
}

// CardSync is the card as the server sees it, for the Desktop App that holds it.
type CardSync struct {
	Serial   string
	State    card.State
	Remove   bool
	PinState *record.PINState
	// PINPolicy is the option script's PIN policy for the card's owner now; set in
	// SyncCard's answer only.
	PINPolicy *cardspec.PINPolicy
	// Certificates are the card's certificates in force (VALID or ON_HOLD): the Desktop
	// App keeps the keys that match them after an interrupted renewal.
	Certificates []CardSyncCertificate
	// ID is the card's id, for following its notices; never sent.
	ID string
}

// CardSyncCertificate is one certificate in force on a card, for its Desktop App.
type CardSyncCertificate struct {
	Slot   string
	Serial string
	State  certificate.State
	Pem    string
}

// PIN change results a Desktop App reports (the GraphQL enum PinChangeResult).
const (
	PINChanged        = "CHANGED"
	PINChangeWrongPIN = "WRONG_PIN"
	PINChangeBlocked  = "PIN_BLOCKED"
	PINChangeCancel   = "CANCELLED"
	PINChangeCardErr  = "CARD_ERROR"
)

// PINChange is one PIN change the Desktop App made without the portal.
type PINChange struct {
	Result    string
	At        time.Time
	TriesLeft *int
}

// CardReport is what the Desktop App reports of a card it proved it holds.
type CardReport struct {
	Serial              string
	Challenge, Response []byte
	PINState            *record.PINState
	PINChanges          []PINChange
	KeyRepairs          []KeyRepair
	// RenewalCutShort: the card holds the keys of a renewal that no Desktop App works on
	// any more (the one that did stopped in the middle), or the Desktop App repaired such
	// a card since its last report. SyncCard then ends the card's renewal order that a
	// Desktop App had claimed (endRenewalsCutShort).
	RenewalCutShort bool
}

// KeyRepair is one slot the Desktop App repaired after a renewal was cut short: it kept
// the key of the certificate in force (outcome KEPT_NEW or RESTORED_OLD, the GraphQL enum
// CardKeyRepairOutcome).
type KeyRepair struct {
	Slot, Outcome, CertificateSerial string
	At                               time.Time
}

// maxPINChanges bounds the PIN changes one report may carry: a Desktop App that was
// offline for long reports its queue in a few contacts.
const maxPINChanges = 20

// leaves says whether a card in state st has left service, so that the Desktop App
// removes it. A card process that ends a card's life (delete, replace) makes it INACTIVE.
func leaves(st card.State) bool { return st == card.StateINACTIVE }

func syncOf(c *ent.Card) *CardSync {
	return &CardSync{Serial: c.Serial, State: c.State, Remove: leaves(c.State), PinState: c.PinState, ID: c.ID}
}

// withCertificates adds to s the certificates of c in force. A renewal that is still open
// has two per slot (the old and the new); the Desktop App then waits for the server's
// decision (the order completes, or ends and revokes the new ones).
func (e *Engine) withCertificates(ctx context.Context, c *ent.Card, s *CardSync) (*CardSync, error) {
	certs, err := e.db.Certificate.Query().
		Where(certificate.CardID(c.ID), certificate.StateIn(certificate.StateVALID, certificate.StateON_HOLD)).
		Order(ent.Asc(certificate.FieldSlot), ent.Asc(certificate.FieldNotBefore)).
		All(viewer.AsServer(ctx))
	if err != nil {
		return nil, fmt.Errorf("find the card's certificates: %w", err)
	}
	s.Certificates = make([]CardSyncCertificate, 0, len(certs))
	for _, cert := range certs {
		s.Certificates = append(s.Certificates, CardSyncCertificate{
			Slot: cert.Slot, Serial: cert.Serial, State: cert.State,
			Pem: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Der})),
		})
	}
	return s, nil
}

// CardChallenge hands out a challenge for the card serial: its digest and expiry replace
// the card's previous ones. An unknown card is NOT_FOUND: the Desktop App then removes it.
func (e *Engine) CardChallenge(ctx context.Context, serial string) (*CardChallenge, error) {
	if err := e.challenges.allow(serial, "card challenges"); err != nil {
		return nil, err
	}
	sys := viewer.AsServer(ctx)
	ch := cardproof.NewChallenge()
	expires := e.now().Add(cardproof.ChallengeTTL)
	c, err := e.db.Card.Query().Where(card.Serial(serial)).Only(sys)
	if ent.IsNotFound(err) {
		return nil, errs.New(errs.NotFound, "The server has no card %s.", serial)
	}
	if err != nil {
		return nil, fmt.Errorf("load card: %w", err)
	}
	// updated_at stays: it is the sweep's "changed since", and a challenge changes nothing
	// the CA cares about.
	err = e.db.Card.UpdateOneID(c.ID).
		SetProofChallenge(cardproof.Digest(ch)).SetProofChallengeExpiresAt(expires).
		SetUpdatedAt(c.UpdatedAt).Exec(sys)
	if err != nil {
		return nil, fmt.Errorf("store card challenge: %w", err)
	}
	return &CardChallenge{Challenge: ch, ExpiresAt: expires}, nil
}

// errProof is the one refusal of a proof, whatever was wrong, so that a prober learns
// nothing; why goes to the log.
func errProof(serial string) error {
	return errs.New(errs.Forbidden, "The Desktop App could not prove that it holds card %s.", serial)
}

// proveCard consumes the card's challenge and checks the response. The challenge is
// consumed before the response is checked, so that a wrong response spends it too.
func (e *Engine) proveCard(ctx context.Context, serial string, challenge, response []byte) (*ent.Card, error) {
	sys := viewer.AsServer(ctx)
	c, err := e.db.Card.Query().Where(card.Serial(serial)).Only(sys)
	if ent.IsNotFound(err) {
		return nil, errs.New(errs.NotFound, "The server has no card %s.", serial)
	}
	if err != nil {
		return nil, fmt.Errorf("load card: %w", err)
	}
	now := e.now()
	n, err := e.db.Card.Update().
		Where(card.ID(c.ID), card.ProofChallenge(cardproof.Digest(challenge)), card.ProofChallengeExpiresAtGT(now)).
		ClearProofChallenge().ClearProofChallengeExpiresAt().SetSeenAt(now).
		SetUpdatedAt(c.UpdatedAt).Save(sys)
	if err != nil {
		return nil, fmt.Errorf("use card challenge: %w", err)
	}
	if n != 1 {
		e.log.Info("card proof refused: challenge unknown, used or expired", "card", serial)
		return nil, errProof(serial)
	}
	key, err := e.box.Open(c.ManagementKey, "card:management-key:"+c.Serial)
	if err != nil {
		return nil, fmt.Errorf("open management key: %w", err)
	}
	if !cardproof.Verify(key, c.Serial, challenge, response) {
		e.log.Info("card proof refused: wrong response", "card", serial)
		return nil, errProof(serial)
	}
	return c, nil
}

// FollowCard checks the proof for a Desktop App's cardUpdated and returns the card.
func (e *Engine) FollowCard(ctx context.Context, serial string, challenge, response []byte) (*CardSync, error) {
	c, err := e.proveCard(ctx, serial, challenge, response)
	if err != nil {
		return nil, err
	}
	return e.withCertificates(ctx, c, syncOf(c))
}

// CardState reads the card serial for a subscriber that proved it or may see it.
func (e *Engine) CardState(ctx context.Context, id string) (*CardSync, error) {
	c, err := e.db.Card.Get(viewer.AsServer(ctx), id)
	if ent.IsNotFound(err) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("load card: %w", err)
	}
	return e.withCertificates(ctx, c, syncOf(c))
}

// SyncCard takes a Desktop App's report of a card it proved it holds: the PIN state
// (stored, and audited when it changed) and the PIN changes it made without the portal
// (each audited with its result code). It returns the card as the server sees it.
func (e *Engine) SyncCard(ctx context.Context, r CardReport) (*CardSync, error) {
	serial := r.Serial
	if len(r.PINChanges) > maxPINChanges {
		return nil, errs.New(errs.InvalidInput, "Report at most %d PIN changes at once.", maxPINChanges).
			WithDetails(map[string]any{"field": "pinChanges", "max": maxPINChanges})
	}
	if len(r.KeyRepairs) > maxPINChanges {
		return nil, errs.New(errs.InvalidInput, "Report at most %d key repairs at once.", maxPINChanges).
			WithDetails(map[string]any{"field": "keyRepairs", "max": maxPINChanges})
	}
	for _, pc := range r.PINChanges {
		if pc.TriesLeft != nil && (*pc.TriesLeft < 0 || *pc.TriesLeft > 255) {
			return nil, errs.New(errs.InvalidInput, "The PIN tries left must be between 0 and 255.").
				WithDetails(map[string]any{"field": "triesLeft"})
		}
	}
	if st := r.PINState; st != nil && (st.TriesLeft < 0 || st.TriesLeft > 255) {
		return nil, errs.New(errs.InvalidInput, "The PIN tries left must be between 0 and 255.").
			WithDetails(map[string]any{"field": "triesLeft"})
	}
	c, err := e.proveCard(ctx, serial, r.Challenge, r.Response)
	if err != nil {
		return nil, err
	}
	ctx = audit.AsCard(ctx, c.Serial, c.OwnerID)
	// Before the audit events: an error here makes the Desktop App send the same report
	// again, and an order ended once is not ended twice. Before the answer too, which
	// then lists the certificates as the ending left them, so that the Desktop App puts
	// the old keys back at once.
	if r.RenewalCutShort {
		if err := e.endRenewalsCutShort(ctx, c); err != nil {
			return nil, err
		}
	}
	sys := viewer.AsServer(ctx)
	var entries []audit.Entry
	for _, pc := range r.PINChanges {
		d := map[string]any{"serial": serial, "result": pc.Result, "at": pc.At.UTC(), "via": "desktop-app"}
		if pc.TriesLeft != nil {
			d["triesLeft"] = *pc.TriesLeft
		}
		action := "card.pin_changed"
		if pc.Result != PINChanged {
			action = "card.pin_change_failed"
		}
		entries = append(entries, audit.Entry{Action: action, ObjectType: "Card", ObjectID: c.ID, Details: d})
	}
	for _, kr := range r.KeyRepairs {
		entries = append(entries, audit.Entry{
			Action: "card.keys_repaired", ObjectType: "Card", ObjectID: c.ID,
			Details: map[string]any{"serial": serial, "slot": kr.Slot, "outcome": kr.Outcome,
				"certificate": kr.CertificateSerial, "at": kr.At.UTC(), "via": "desktop-app"},
		})
	}
	st := r.PINState
	changed := st != nil && (c.PinState == nil || c.PinState.TriesLeft != st.TriesLeft ||
		c.PinState.Blocked != st.Blocked || c.PinState.PUKBlocked != st.PUKBlocked)
	if changed {
		entries = append(entries, audit.Entry{
			Action: "card.pin_state_reported", ObjectType: "Card", ObjectID: c.ID,
			Details: map[string]any{"serial": serial, "triesLeft": st.TriesLeft, "blocked": st.Blocked, "pukBlocked": st.PUKBlocked, "via": "desktop-app"},
		})
	}
	if len(entries) == 0 {
		return e.withCertificates(ctx, c, e.withPolicy(ctx, c, syncOf(c)))
	}
	err = e.withTx(sys, func(tx *ent.Tx) error {
		if changed {
			st.ReportedAt = e.now()
			// updated_at stays: the sweep's "changed since" is for what the CA must know.
			u := tx.Card.UpdateOneID(c.ID).SetPinState(st).SetUpdatedAt(c.UpdatedAt)
			saved, err := u.Save(sys)
			if err != nil {
				return fmt.Errorf("update card PIN state: %w", err)
			}
			c = saved.Unwrap()
		}
		return audit.WriteAll(ctx, tx.AuditEvent, audit.About(c.OwnerID, entries...)...)
	})
	if err != nil {
		return nil, err
	}
	if changed {
		e.PublishCard(sys, c.ID)
	}
	return e.withCertificates(ctx, c, e.withPolicy(ctx, c, syncOf(c)))
}

// ReasonRenewalInterrupted is the failure reason of a renewal order the server ended because
// the Desktop App that worked on it stopped in the middle (endRenewalsCutShort). It is a
// Desktop App code (desktop-bridge/handoff CodeRenewalInterrupted, whose FailureCodes gives
// the portal the list it has words for): the Desktop App's report is why the order ends.
const ReasonRenewalInterrupted = "desktop-app:RENEWAL_INTERRUPTED"

// claimed are the states of an issuing order that a Desktop App claimed and has not
// finished.
var claimed = []order.State{order.StateDESKTOP_APP_CONNECTED, order.StateISSUING_CERTIFICATES}

// endRenewalsCutShort fails card c's renewal order that a Desktop App claimed, when the
// Desktop App that holds c reports a renewal cut short (CardReport.RenewalCutShort). No
// Desktop App can finish that order: its bridge session lived in the process that stopped,
// and the hand-off link works once. Ending it now, as a failure does (what it issued is
// revoked, the card keeps its old certificates), frees the person to renew again and lets
// the Desktop App put the old keys back, instead of both waiting for the order's expiry.
//
// The Desktop App reports this only while it runs no hand-off, and it is the one place
// the card is, so a claimed renewal of c is never one that is still being worked on. An
// order that has not been claimed (its link may still be opened), an order that ended, one
// of another card or of another process is left alone. A cancel, the sweep or the order's
// completion at the same moment: transition's version check lets exactly one win, and
// the others' ending stands.
func (e *Engine) endRenewalsCutShort(ctx context.Context, c *ent.Card) error {
	open, err := e.db.Order.Query().
		Where(order.SubjectCardID(c.ID), order.StateIn(claimed...)).
		All(viewer.AsServer(ctx))
	if err != nil {
		return fmt.Errorf("find the card's open renewal: %w", err)
	}
	for _, o := range open {
		if d := e.procs.of(o); d == nil || d.Issues == nil || !d.Issues.Renew {
			continue
		}
		_, err := e.transition(ctx, o, move{
			to: order.StateFAILED, action: "order.fail", note: ReasonRenewalInterrupted,
			set:     func(m *ent.OrderMutation) { m.SetFailureReason(ReasonRenewalInterrupted) },
			details: map[string]any{"cardSerial": c.Serial, "via": "desktop-app"},
		})
		if errs.CodeOf(err) == errs.IllegalState {
			e.log.Info("renewal cut short had ended meanwhile", "order", o.ID, "card", c.Serial, "err", err)
			continue
		}
		if err != nil {
			return fmt.Errorf("end renewal cut short: %w", err)
		}
		e.log.Info("renewal cut short ended: the Desktop App that worked on it stopped", "order", o.ID, "card", c.Serial)
	}
	return nil
}

// withPolicy adds to s the PIN policy the option script gives c's owner now. A script
// that fails leaves it out: the Desktop App keeps the policy it had, and the sync stands.
func (e *Engine) withPolicy(ctx context.Context, c *ent.Card, s *CardSync) *CardSync {
	owner, err := e.db.User.Get(viewer.AsServer(ctx), c.OwnerID)
	if err == nil {
		var opts *cardspec.Options
		if opts, _, err = e.opts.Evaluate(ctx, owner); err == nil {
			s.PINPolicy = &opts.PIN
		}
	}
	if err != nil {
		e.log.Warn("PIN policy for card sync", "card", c.Serial, "err", err)
	}
	return s
}

// PublishCard tells the card's subscribers (cardUpdated) that it changed. Every change of
// a card's state, certificates or PIN state calls it once committed; a lost notice costs
// nothing, as with orders.
func (e *Engine) PublishCard(ctx context.Context, ids ...string) {
	for _, id := range ids {
		if err := e.bus.Publish(ctx, events.CardKey(id)); err != nil {
			e.log.Warn("publish card event", "card", id, "err", err)
		}
	}
}
