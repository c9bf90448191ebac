package enroll

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/asn1"
	"fmt"
	"time"

	"github.com/vscard/vscard/ent"
	"github.com/vscard/vscard/ent/certificate"
	"github.com/vscard/vscard/ent/order"
	"github.com/vscard/vscard/server/cardspec"
	"github.com/vscard/vscard/server/errs"
	"github.com/vscard/vscard/server/tpmverify"
	"github.com/vscard/vscard/server/viewer"
)

// TPMEvidence is one CSR's proof that its key lives in the computer's TPM.
type TPMEvidence struct {
	Identity tpmverify.Identity
	// Secret answers the order's TPMChallenge.
	Secret                            []byte
	KeyPublic, CertifyInfo, Signature []byte
}

// The certificate policies a certificate gets for its key's protection. They are the
// issuance policies Microsoft's CA writes for TPM key attestation (MS-WCCE, AD CS "key
// attestation"), so relying parties that already tell attested keys apart (Windows
// authentication mechanism assurance, policy filters in VPNs and RADIUS servers) need no
// vscard-specific rule: EK certificate verified (the chain to --tpm-roots) and EK trusted
// on use (a TPM's evidence without a known manufacturer). Software keys get none.
var (
	OIDKeyEKCertVerified = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 311, 21, 31}
	OIDKeyEKTrustedOnUse = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 311, 21, 32}
)

// policiesFor are the certificate policies of a key held as k.
func policiesFor(k cardspec.KeyProtection) []asn1.ObjectIdentifier {
	switch k {
	case cardspec.KeyTPMAttested:
		return []asn1.ObjectIdentifier{OIDKeyEKCertVerified}
	case cardspec.KeyTPM:
		return []asn1.ObjectIdentifier{OIDKeyEKTrustedOnUse}
	}
	return nil
}

// weaker returns the weaker of two key protections.
func weaker(a, b cardspec.KeyProtection) cardspec.KeyProtection {
	rank := map[cardspec.KeyProtection]int{cardspec.KeySoftware: 0, cardspec.KeyTPM: 1, cardspec.KeyTPMAttested: 2}
	if rank[a] <= rank[b] {
		return a
	}
	return b
}

// heldAs is how the key of a certificate the CA issued (DER) is held, as the policies the
// CA wrote into it for that (policiesFor) say: the certificate is the lasting record of its
// key's evidence, so the card's protection can be weighed again when keys come and go.
func heldAs(der []byte) cardspec.KeyProtection {
	c, err := x509.ParseCertificate(der)
	if err != nil {
		return cardspec.KeySoftware
	}
	for _, p := range c.PolicyIdentifiers {
		switch {
		case p.Equal(OIDKeyEKCertVerified):
			return cardspec.KeyTPMAttested
		case p.Equal(OIDKeyEKTrustedOnUse):
			return cardspec.KeyTPM
		}
	}
	return cardspec.KeySoftware
}

// weakestCurrent is the card's key protection: the weakest of its current keys (the
// certificates still valid or on hold) and of added, the keys about to join them. A
// software key in use keeps the card SOFTWARE whatever TPM keys come later; once every
// software key is superseded or revoked, the card is as strong as what is left. It returns
// "" for a card with no keys, whose record then stays as it is.
func weakestCurrent(ctx context.Context, certs *ent.CertificateClient, cardID string, added ...cardspec.KeyProtection) (cardspec.KeyProtection, error) {
	ders, err := certs.Query().
		Where(certificate.CardID(cardID), certificate.StateIn(certificate.StateVALID, certificate.StateON_HOLD)).
		Select(certificate.FieldDer).All(ctx)
	if err != nil {
		return "", fmt.Errorf("read card certificates: %w", err)
	}
	if len(ders) == 0 && len(added) == 0 {
		return "", nil
	}
	prot := cardspec.KeyTPMAttested
	for _, c := range ders {
		prot = weaker(prot, heldAs(c.Der))
	}
	for _, a := range added {
		prot = weaker(prot, a)
	}
	return prot, nil
}

// reweigh sets card cardID's key protection to the weakest of its current keys after
// some were revoked or superseded, and returns it ("" if the card has no keys left and
// keeps its record).
func reweigh(ctx context.Context, tx *ent.Tx, cardID string, now time.Time) (cardspec.KeyProtection, error) {
	prot, err := weakestCurrent(ctx, tx.Certificate, cardID)
	if err != nil || prot == "" {
		return prot, err
	}
	if err := tx.Card.UpdateOneID(cardID).SetKeyProtection(prot).SetUpdatedAt(now).Exec(ctx); err != nil && !ent.IsNotFound(err) {
		return "", fmt.Errorf("weigh card key protection: %w", err)
	}
	return prot, nil
}

// tpmRefusal is the API error for a refused piece of evidence: INVALID_INPUT with the
// reason a person gets words for.
func tpmRefusal(err error, slot string) error {
	r := tpmverify.ReasonOf(err)
	if r == "" {
		return err
	}
	d := map[string]any{"reason": string(r)}
	if slot != "" {
		d["slot"] = slot
	}
	return errs.Wrap(err, errs.InvalidInput, "The TPM evidence was refused (%s).", r).WithDetails(d)
}

// TPMChallenge makes a credential for the order's Desktop App's TPM to activate and keeps
// its digest on the order, replacing any earlier one. Only an order about to issue asks.
func (e *Engine) TPMChallenge(ctx context.Context, orderID string, id tpmverify.Identity) (*tpmverify.Challenge, error) {
	o, err := e.bridgeOrder(ctx, orderID)
	if err != nil {
		return nil, err
	}
	if d := e.procs.of(o); d == nil || d.Forward[o.State] != order.StateISSUING_CERTIFICATES {
		return nil, illegal(o.State, order.StateISSUING_CERTIFICATES)
	}
	// Per bridge session (bound to its order), then per person over all their sessions.
	if err := e.tpmSessions.allow(o.ID, "TPM challenges for this order"); err != nil {
		return nil, err
	}
	if err := e.tpmPeople.allow(o.UserID, "TPM challenges"); err != nil {
		return nil, err
	}
	ch, err := e.cfg.TPM.NewChallenge(id, e.now())
	if err != nil {
		return nil, tpmRefusal(err, "")
	}
	if err := e.db.Order.UpdateOneID(o.ID).SetTpmChallenge(ch.Digest).SetTpmChallengeExpiresAt(ch.ExpiresAt).
		Exec(viewer.AsServer(ctx)); err != nil {
		return nil, fmt.Errorf("keep TPM challenge: %w", err)
	}
	return ch, nil
}

// tpmCheck checks the CSRs' evidence of one submission under the order's key policy.
type tpmCheck struct {
	e      *Engine
	ctx    context.Context
	o      *ent.Order
	policy cardspec.KeyPolicy
	// session is the opened answer, shared by every key: the identity and the secret are
	// checked (and the challenge spent) once per submission.
	session  *tpmverify.Session
	identity tpmverify.Identity
	secret   []byte
}

// protection returns how the key of csrKey is held, or the refusal.
func (c *tpmCheck) protection(slot string, ev *TPMEvidence, csrKey crypto.PublicKey) (cardspec.KeyProtection, error) {
	if c.policy == "" || c.policy == cardspec.KeyPolicySoftware {
		return cardspec.KeySoftware, nil
	}
	if ev == nil {
		if c.policy == cardspec.KeyPolicyTPM {
			return "", tpmRefusal(&tpmverify.Error{Reason: tpmverify.EvidenceMissing}, slot)
		}
		return cardspec.KeySoftware, nil
	}
	if c.session == nil {
		s, err := c.open(ev)
		if err != nil {
			return "", tpmRefusal(err, slot)
		}
		c.session, c.identity, c.secret = s, ev.Identity, ev.Secret
	} else if !sameBytes(ev.Identity.EKCert, c.identity.EKCert) || !sameBytes(ev.Identity.AKPublic, c.identity.AKPublic) || !sameBytes(ev.Secret, c.secret) {
		// One challenge per order: every key of a submission comes from the same TPM.
		return "", tpmRefusal(&tpmverify.Error{Reason: tpmverify.EvidenceInvalid, Err: fmt.Errorf("keys from different TPMs")}, slot)
	}
	if err := c.session.Certified(ev.KeyPublic, ev.CertifyInfo, ev.Signature, csrKey); err != nil {
		return "", tpmRefusal(err, slot)
	}
	if c.session.RootErr != nil {
		if c.policy == cardspec.KeyPolicyTPM {
			return "", tpmRefusal(c.session.RootErr, slot)
		}
		return cardspec.KeyTPM, nil
	}
	return cardspec.KeyTPMAttested, nil
}

// open spends the order's challenge, whatever comes of it, and checks the answer.
func (c *tpmCheck) open(ev *TPMEvidence) (*tpmverify.Session, error) {
	if c.o.TpmChallenge == nil || c.o.TpmChallengeExpiresAt == nil {
		return nil, &tpmverify.Error{Reason: tpmverify.ChallengeFailed, Err: fmt.Errorf("the order has no TPM challenge")}
	}
	kept, expires := *c.o.TpmChallenge, *c.o.TpmChallengeExpiresAt
	// Spent only if still the one read: of two submissions racing with one answer, one
	// gets it.
	n, err := c.e.db.Order.Update().
		Where(order.ID(c.o.ID), order.TpmChallenge(kept)).
		ClearTpmChallenge().ClearTpmChallengeExpiresAt().
		Save(viewer.AsServer(c.ctx))
	if err != nil {
		return nil, fmt.Errorf("spend TPM challenge: %w", err)
	}
	if n != 1 {
		return nil, &tpmverify.Error{Reason: tpmverify.ChallengeFailed, Err: fmt.Errorf("the TPM challenge was used already")}
	}
	return c.e.cfg.TPM.Open(ev.Identity, ev.Secret, kept, expires, c.e.now())
}

func sameBytes(a, b []byte) bool { return string(a) == string(b) }
