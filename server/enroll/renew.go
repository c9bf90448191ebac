package enroll

import (
	"context"
	"encoding/hex"
	"fmt"
	"slices"
	"time"

	"github.com/vscard/vscard/ent"
	"github.com/vscard/vscard/ent/card"
	"github.com/vscard/vscard/ent/certificate"
	"github.com/vscard/vscard/ent/order"
	"github.com/vscard/vscard/server/audit"
	"github.com/vscard/vscard/server/cardspec"
	"github.com/vscard/vscard/server/errs"
	"github.com/vscard/vscard/server/record"
	"github.com/vscard/vscard/server/revocation"
	"github.com/vscard/vscard/server/viewer"
)

// Renew and issue-certificates put new certificates on a card the person has, through the
// Desktop App on that card, instead of making a new card: the card keeps its serial, PIN,
// PUK and management key. Both are get-virtual-smart-card's issuing steps on an existing
// card (Definition.Issues): the claim gives the card's management key and the certificates
// to make, the Desktop App submits one attested CSR per certificate (SubmitKeys, as for a
// new card), writes what the CA issued to the card and confirms (ConfirmCardReady), which
// completes the order. An ending before that revokes what the order issued (UndoCertificates)
// and leaves the card's certificates as they were.

// The symbolic names of renew and issue-certificates.
const (
	ProcessRenewCard         = "renew-virtual-smart-card"
	ProcessIssueCertificates = "issue-certificates-to-virtual-smart-card"
)

// issuingTable is the table of a card process that issues: the Desktop App claims the
// order, submits the keys (ISSUING_CERTIFICATES) and confirms the certificates are on the
// card (COMPLETED). The person's one step is the hand-off.
func issuingTable() (map[order.State]order.State, map[order.State]Step) {
	return map[order.State]order.State{
			order.StateSTARTED:               order.StateAWAITING_DESKTOP_APP,
			order.StateAWAITING_DESKTOP_APP:  order.StateDESKTOP_APP_CONNECTED,
			order.StateDESKTOP_APP_CONNECTED: order.StateISSUING_CERTIFICATES,
			order.StateISSUING_CERTIFICATES:  order.StateCOMPLETED,
		}, map[order.State]Step{
			order.StateSTARTED: {To: order.StateAWAITING_DESKTOP_APP, Handoff: true},
		}
}

// renewCard: new keys and certificates for the authentication and signature slots of an
// ACTIVE card before it expires; the card's validity moves on by the option script's. The
// person, an operator, or the server (an expiry check: StartAsSystem) may start it.
//
// An encryption key and certificate are kept, as Nexus does: mail encrypted to the card
// stays readable, and a new encryption key would need the old one kept anyway. The old
// authentication and signature certificates are revoked as superseded only once the
// Desktop App confirmed the new ones are on the card.
func renewCard() *Definition {
	fwd, next := issuingTable()
	return &Definition{
		Name:        ProcessRenewCard,
		DisplayName: "process.renew-virtual-smart-card.name",
		Description: "process.renew-virtual-smart-card.description",
		Starters:    BySelf | ByOperator | BySystem,
		CardStates:  []card.State{card.StateACTIVE},
		Options:     true,
		Forward:     fwd,
		Next:        next,
		Claim:       claimCardIssuing,
		Undo:        UndoCertificates,
		Issues:      &Issuing{Select: renewals, Renew: true},
	}
}

// issueCertificates: the option script asks for a certificate an ACTIVE card lacks (an
// administrator turned on encryption); the person adds it to the card without a new card.
// Not available when the card has every certificate the script asks for.
func issueCertificates() *Definition {
	fwd, next := issuingTable()
	return &Definition{
		Name:        ProcessIssueCertificates,
		DisplayName: "process.issue-certificates-to-virtual-smart-card.name",
		Description: "process.issue-certificates-to-virtual-smart-card.description",
		Starters:    BySelf | ByOperator,
		CardStates:  []card.State{card.StateACTIVE},
		Options:     true,
		Forward:     fwd,
		Next:        next,
		Claim:       claimCardIssuing,
		Undo:        UndoCertificates,
		Issues:      &Issuing{Select: missing},
	}
}

// renewals are the certificates a renewal issues: every one the script asks for but the
// encryption certificate, which the card keeps.
func renewals(want []cardspec.CertificateSpec, _ []*ent.Certificate) []cardspec.CertificateSpec {
	var out []cardspec.CertificateSpec
	for _, s := range want {
		if s.Template != cardspec.Encryption {
			out = append(out, s)
		}
	}
	return out
}

// missing are the certificates the script asks for in slots where the card has none that
// counts.
func missing(want []cardspec.CertificateSpec, have []*ent.Certificate) []cardspec.CertificateSpec {
	var out []cardspec.CertificateSpec
	for _, s := range want {
		if !slices.ContainsFunc(have, func(c *ent.Certificate) bool { return c.Slot == s.Slot }) {
			out = append(out, s)
		}
	}
	return out
}

// toIssue is what an order of d on card c issues under opts, the script's answer now.
func (e *Engine) toIssue(ctx context.Context, d *Definition, c *ent.Card, opts *cardspec.Options) ([]cardspec.CertificateSpec, error) {
	have, err := e.db.Certificate.Query().
		Where(certificate.CardID(c.ID), certificate.StateIn(certificate.StateVALID, certificate.StateON_HOLD)).
		Select(certificate.FieldSlot, certificate.FieldTemplate).
		All(viewer.AsServer(ctx))
	if err != nil {
		return nil, fmt.Errorf("find the card's certificates: %w", err)
	}
	return d.Issues.Select(opts.Certificates, have), nil
}

// nothingToIssue reports whether an order of d on c would issue nothing under the script in
// force for person. A script that fails to evaluate is not "nothing": Start says what is
// wrong with it.
func (e *Engine) nothingToIssue(ctx context.Context, d *Definition, person *ent.User, c *ent.Card) bool {
	if d.Issues == nil || c == nil {
		return false
	}
	opts, _, err := e.opts.Evaluate(ctx, person)
	if err != nil {
		return false
	}
	specs, err := e.toIssue(ctx, d, c, opts)
	if err != nil {
		e.log.Error("find what a card lacks", "card", c.ID, "err", err)
		return false
	}
	return len(specs) == 0
}

// issuedUntil is when the certificates an order issues to card c end: for a renewal the
// card's next validity, counted from the order's start (so the claim, the CA and the
// card's record agree), else the card's.
func (e *Engine) issuedUntil(o *ent.Order, d *Definition, c *ent.Card) time.Time {
	if d != nil && d.Issues != nil && d.Issues.Renew && o.Options != nil && len(o.Steps) > 0 {
		return e.cardValidUntil(o.Steps[0].At, o.Options)
	}
	return c.ValidUntil
}

// claimCardIssuing gives the Desktop App what it needs to put new keys and certificates
// on the card the order acts on: the card's serial and management key (to generate keys
// and write certificates), the certificates to make (chosen at the start) and the PIN
// policy (the PIN is only typed to use the new keys; the card checks it). Never the PUK.
func claimCardIssuing(ctx context.Context, e *Engine, o *ent.Order, device *record.Device) (*Claimed, error) {
	c, err := e.subjectCard(ctx, o)
	if err != nil {
		return nil, err
	}
	if o.Options == nil || len(o.Options.Certificates) == 0 {
		return nil, errs.New(errs.Internal, "The order has no certificates to issue.")
	}
	mgmtKey, err := e.box.Open(c.ManagementKey, "card:management-key:"+c.Serial)
	if err != nil {
		return nil, fmt.Errorf("open card management key: %w", err)
	}
	return &Claimed{
		Card: &CardSetup{
			Serial:        c.Serial,
			ManagementKey: hex.EncodeToString(mgmtKey),
			PINPolicy:     o.Options.PIN,
			Certificates:  o.Options.Certificates,
			Properties:    o.Options.Properties,
			ValidUntil:    e.issuedUntil(o, e.procs.of(o), c),
		},
		Details: map[string]any{"cardSerial": c.Serial, "host": device.Host, "slots": slotsOf(o.Options.Certificates)},
	}, nil
}

// supersede runs with the transition that completes a renewal, once the Desktop App
// confirmed the new certificates are on card c: the certificates of the renewed slots
// that this order did not issue are revoked as superseded, and the card's validity moves
// on. It returns the serials to revoke at the CA after commit.
func (e *Engine) supersede(ctx context.Context, tx *ent.Tx, o *ent.Order, c *ent.Card) ([]string, error) {
	now := stepTime(o)
	until := e.issuedUntil(o, e.procs.of(o), c)
	n, err := tx.Card.Update().Where(card.ID(c.ID), card.StateEQ(card.StateACTIVE)).
		SetValidUntil(until).SetUpdatedAt(now).Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("renew card: %w", err)
	}
	if n != 1 {
		return nil, errs.New(errs.IllegalState, "Card %s is no longer active.", c.Serial)
	}
	old := certificate.And(certificate.CardID(c.ID), certificate.OrderIDNEQ(o.ID),
		certificate.SlotIn(slotsOf(o.Options.Certificates)...))
	if err := markSuperseded(ctx, tx, old, o.ID); err != nil {
		return nil, err
	}
	serials, err := revokeCertificates(ctx, tx, old, now, revocation.Superseded)
	if err != nil {
		return nil, err
	}
	// The superseded keys are no longer in use: the card is as strong as what is left.
	prot, err := reweigh(ctx, tx, c.ID, now)
	if err != nil {
		return nil, err
	}
	return serials, audit.Write(ctx, tx.AuditEvent, audit.Entry{
		Action: "card.renew", ObjectType: "Card", ObjectID: c.ID, Subject: c.OwnerID,
		Details: map[string]any{"serial": c.Serial, "order": o.ID, "validUntil": until, "superseded": serials,
			"keyProtection": string(prot)},
	})
}

func slotsOf(specs []cardspec.CertificateSpec) []string {
	out := make([]string, len(specs))
	for i, s := range specs {
		out[i] = s.Slot
	}
	return out
}
