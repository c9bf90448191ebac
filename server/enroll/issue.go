package enroll

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"entgo.io/ent/dialect/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/vscard/vscard/ent"
	"github.com/vscard/vscard/ent/card"
	"github.com/vscard/vscard/ent/certificate"
	"github.com/vscard/vscard/ent/order"
	"github.com/vscard/vscard/server/audit"
	"github.com/vscard/vscard/server/ca"
	"github.com/vscard/vscard/server/cardspec"
	"github.com/vscard/vscard/server/errs"
	"github.com/vscard/vscard/server/revocation"
	"github.com/vscard/vscard/server/viewer"
)

// maxPEM bounds any PEM or base64 input (a CSR or attestation is well under 4 KiB).
const maxPEM = 16 << 10

// KeySubmission is one CSR from the bridge, made with a key generated in the slot.
type KeySubmission struct {
	Slot     string
	Template cardspec.Template
	// CSR is PEM or base64 DER.
	CSR string
	// Attestation is the slot's attestation certificate (PEM), AttestationSigner the
	// card's attestation signer (slot F9).
	Attestation       string
	AttestationSigner string
	// TPM is the evidence that the key lives in the computer's TPM, if the Desktop App has it.
	TPM *TPMEvidence
}

// checked is a submission that passed every check, ready for the CA.
type checked struct {
	spec        cardspec.CertificateSpec
	csr         []byte
	attestation []byte
	attested    bool
	protection  cardspec.KeyProtection
}

// issueAll has the CA issue reqs, at once where it can (ca.BatchIssuer: two statements for
// all of them instead of two per certificate), and returns what it issued until the first
// error.
func (e *Engine) issueAll(ctx context.Context, reqs []ca.IssueRequest) ([]*ca.Issued, error) {
	if b, ok := e.ca.(ca.BatchIssuer); ok {
		return b.IssueAll(ctx, reqs)
	}
	issued := make([]*ca.Issued, 0, len(reqs))
	for _, req := range reqs {
		cert, err := e.ca.Issue(ctx, req)
		if err != nil {
			return issued, err
		}
		issued = append(issued, cert)
	}
	return issued, nil
}

// SubmitKeys issues one certificate per requested slot. Either every submission passes its
// checks and is issued, or nothing is stored. The CA signs first; then one version-checked
// transition to ISSUING_CERTIFICATES records the certificates, so a cancel that came
// meanwhile wins and what was signed is revoked.
func (e *Engine) SubmitKeys(ctx context.Context, orderID string, keys []KeySubmission) ([]*ent.Certificate, error) {
	o, err := e.bridgeOrder(ctx, orderID)
	if err != nil {
		return nil, err
	}
	// The state a process issues from: CREATING_CARD for a new card, the claim's
	// DESKTOP_APP_CONNECTED for a card process that issues (Definition.Issues).
	d := e.procs.of(o)
	if d == nil || d.Forward[o.State] != order.StateISSUING_CERTIFICATES {
		return nil, illegal(o.State, order.StateISSUING_CERTIFICATES)
	}
	todo, err := e.checkSubmissions(ctx, o, keys)
	if err != nil {
		return nil, err
	}
	sys := viewer.AsServer(ctx)
	crd, err := e.issuingCard(ctx, o)
	if err != nil {
		return nil, err
	}
	notAfter := e.issuedUntil(o, d, crd)

	props := o.Options.Properties
	subject := pkix.Name{CommonName: props.CommonName}
	if props.Organization != "" {
		subject.Organization = []string{props.Organization}
	}
	var emails []string
	if props.Email != "" {
		emails = []string{props.Email}
	}
	reqs := make([]ca.IssueRequest, len(todo))
	for i, t := range todo {
		reqs[i] = ca.IssueRequest{
			CSR: t.csr, Template: t.spec.Template, Subject: subject,
			UPN: props.UserID, Emails: emails, NotAfter: notAfter, Reference: o.ID,
			Policies: policiesFor(t.protection),
		}
	}
	issued, err := e.issueAll(ctx, reqs)
	if err != nil {
		e.abandon(ctx, o, issued, "the CA refused a certificate: "+errs.CodeOfMessage(err))
		return nil, err
	}

	// The rows are made here, ids included, so that the transition writes them in its
	// own statement and the events can name them.
	out := make([]*ent.Certificate, len(issued))
	rows := make([]write, len(issued))
	now := time.Now()
	for i, c := range issued {
		t := todo[i]
		if err := certificate.SlotValidator(t.spec.Slot); err != nil {
			return nil, errs.Wrap(err, errs.InvalidInput, "Slot %s is not a PIV slot for certificates.", t.spec.Slot)
		}
		row := &ent.Certificate{
			ID: certificate.DefaultID(), CreatedAt: now, UpdatedAt: now,
			Serial: c.Serial, Slot: t.spec.Slot,
			Template:     t.spec.Template,
			KeyAlgorithm: t.spec.Algorithm,
			Subject:      c.Certificate.Subject.String(), Sans: sans(c.Certificate, props.UserID),
			Issuer: c.Certificate.Issuer.String(), NotBefore: c.Certificate.NotBefore, NotAfter: c.Certificate.NotAfter,
			State: certificate.StateVALID, Der: c.DER,
			Attestation: t.attestation, AttestationVerified: t.attested,
			CardID: &crd.ID, OrderID: o.ID,
		}
		out[i] = row
		rows[i] = insertRow(certificate.Table,
			certificate.FieldID, row.ID, certificate.FieldCreatedAt, now, certificate.FieldUpdatedAt, now,
			certificate.FieldSerial, row.Serial, certificate.FieldSlot, row.Slot,
			certificate.FieldTemplate, row.Template, certificate.FieldKeyAlgorithm, row.KeyAlgorithm,
			certificate.FieldSubject, row.Subject, certificate.FieldSans, row.Sans,
			certificate.FieldIssuer, row.Issuer, certificate.FieldNotBefore, row.NotBefore,
			certificate.FieldNotAfter, row.NotAfter, certificate.FieldState, row.State,
			certificate.FieldDer, row.Der, certificate.FieldAttestation, row.Attestation,
			certificate.FieldAttestationVerified, row.AttestationVerified,
			certificate.FieldCardID, crd.ID, certificate.FieldOrderID, row.OrderID)
	}
	// The card is held as its weakest current key: the keys it has (a renewal's old ones
	// are still in use until the new ones are on the card) and the new ones.
	added := make([]cardspec.KeyProtection, len(todo))
	for i, t := range todo {
		added[i] = t.protection
	}
	prot, err := weakestCurrent(sys, e.db.Certificate, crd.ID, added...)
	if err != nil {
		e.revokeAtCA(sys, o.ID, serialsOf(issued), revocation.CessationOfOperation)
		return nil, err
	}
	was := crd.KeyProtection
	rows = append(rows, updateRows(card.Table, sql.EQ(card.FieldID, crd.ID),
		card.FieldKeyProtection, string(prot), card.FieldUpdatedAt, now))
	var inserted []*ent.Certificate
	_, err = e.transition(ctx, o, move{
		to: order.StateISSUING_CERTIFICATES, action: "order.issuing",
		note:     fmt.Sprintf("%d certificates issued", len(issued)),
		writes:   rows,
		inserted: &inserted,
		events: func() []audit.Entry {
			events := make([]audit.Entry, len(out))
			for i, row := range out {
				t := todo[i]
				events[i] = audit.Entry{
					Action: "certificate.issue", ObjectType: "Certificate", ObjectID: row.ID,
					Details: map[string]any{"serial": row.Serial, "slot": t.spec.Slot, "template": string(t.spec.Template), "order": o.ID,
						// How this key is held, and what that makes of the card.
						"keyProtection": string(t.protection), "cardKeyProtection": string(prot)},
				}
				if !e.procs.of(o).NewCard && was != prot {
					events[i].Details["cardKeyProtectionWas"] = string(was)
				}
			}
			return events
		},
	})
	if err != nil {
		// What the CA signed is in its own records and must not stay valid.
		e.revokeAtCA(sys, o.ID, serialsOf(issued), revocation.CessationOfOperation)
		return nil, err
	}
	// Not the rows built above: only an entity ent read resolves its edges (the card, the
	// order) for the caller. A one-statement transition returned them; else read back.
	saved := inserted
	if len(saved) != len(out) {
		ids := make([]string, len(out))
		for i, c := range out {
			ids[i] = c.ID
		}
		if saved, err = e.db.Certificate.Query().Where(certificate.IDIn(ids...)).All(sys); err != nil {
			return nil, fmt.Errorf("read certificates: %w", err)
		}
	}
	byID := make(map[string]*ent.Certificate, len(saved))
	for _, c := range saved {
		byID[c.ID] = c
	}
	for i, c := range out {
		if out[i] = byID[c.ID]; out[i] == nil {
			return nil, fmt.Errorf("read certificates: %s is missing", c.ID)
		}
	}
	return out, nil
}

// issuingCard is the card the order's certificates go to: the card the order acts on,
// which must still be ACTIVE, or the card it made.
func (e *Engine) issuingCard(ctx context.Context, o *ent.Order) (*ent.Card, error) {
	// A replacement acts on the old card but issues to the new one it made.
	if d := e.procs.of(o); o.SubjectCardID != nil && (d == nil || !d.NewCard) {
		return e.subjectCard(ctx, o)
	}
	if crd := orderCard(o); crd != nil { // read with the bridge's session
		return crd, nil
	}
	crd, err := e.db.Card.Query().Where(card.OrderID(o.ID)).Only(viewer.AsServer(ctx))
	if err != nil {
		return nil, errs.Wrap(err, errs.IllegalState, "The order has no card.")
	}
	return crd, nil
}

// abandon fails the order after a CA error and revokes what was issued so far.
func (e *Engine) abandon(ctx context.Context, o *ent.Order, issued []*ca.Issued, reason string) {
	e.revokeAtCA(viewer.AsServer(ctx), o.ID, serialsOf(issued), revocation.CessationOfOperation)
	if _, err := e.transition(ctx, o, move{
		to: order.StateFAILED, action: "order.fail", note: reason,
		set: func(m *ent.OrderMutation) { m.SetFailureReason(reason) },
	}); err != nil {
		e.log.Error("fail order after CA error", "order", o.ID, "err", err)
	}
}

// checkSubmissions matches the submissions against the order's certificate list: exactly
// the requested slots, each with a CSR of the requested key algorithm.
func (e *Engine) checkSubmissions(ctx context.Context, o *ent.Order, keys []KeySubmission) ([]checked, error) {
	opts := o.Options
	if opts == nil {
		return nil, errs.New(errs.Internal, "The order has no options.")
	}
	bySlot := map[string]cardspec.CertificateSpec{}
	for _, s := range opts.Certificates {
		bySlot[s.Slot] = s
	}
	seen := map[string]bool{}
	tpm := &tpmCheck{e: e, ctx: ctx, o: o, policy: opts.KeyProtection}
	var out []checked
	for _, k := range keys {
		slot := strings.ToUpper(k.Slot)
		spec, ok := bySlot[slot]
		if !ok {
			return nil, errs.New(errs.InvalidInput, "Slot %q was not requested for this card.", k.Slot)
		}
		if seen[slot] {
			return nil, errs.New(errs.InvalidInput, "Slot %s was submitted twice.", slot)
		}
		seen[slot] = true
		if k.Template != spec.Template {
			return nil, errs.New(errs.InvalidInput, "Slot %s is for %s, not %s.", slot, spec.Template, k.Template)
		}
		der, err := decodePEMOrBase64(k.CSR, "CERTIFICATE REQUEST")
		if err != nil {
			return nil, errs.Wrap(err, errs.InvalidInput, "The CSR for slot %s is not PEM or base64 DER.", slot)
		}
		csr, err := x509.ParseCertificateRequest(der)
		if err != nil {
			return nil, errs.Wrap(err, errs.InvalidInput, "The CSR for slot %s cannot be parsed.", slot)
		}
		if got := algorithmOf(csr.PublicKey); got != spec.Algorithm {
			return nil, errs.New(errs.InvalidInput, "Slot %s needs a %s key; the CSR has %s.", slot, spec.Algorithm, orUnknown(got))
		}
		c := checked{spec: spec, csr: der}
		if c.protection, err = tpm.protection(slot, k.TPM, csr.PublicKey); err != nil {
			return nil, err
		}
		if k.Attestation != "" {
			c.attestation, c.attested, err = e.checkAttestation(csr, k.Attestation, k.AttestationSigner)
			if err != nil {
				return nil, errs.Wrap(err, errs.InvalidInput, "The attestation for slot %s does not verify: %v", slot, err)
			}
		} else if e.cfg.AttestationRoots != nil {
			return nil, errs.New(errs.InvalidInput, "Slot %s needs an attestation from the card.", slot)
		}
		out = append(out, c)
	}
	for _, s := range opts.Certificates {
		if !seen[s.Slot] {
			return nil, errs.New(errs.InvalidInput, "The %s certificate (slot %s) is missing.", s.Template, s.Slot)
		}
	}
	return out, nil
}

// checkAttestation parses the slot's attestation, checks that it attests the CSR's key,
// and, when roots are configured, that it chains to one of them through the signer.
func (e *Engine) checkAttestation(csr *x509.CertificateRequest, attPEM, signerPEM string) ([]byte, bool, error) {
	attDER, err := decodePEMOrBase64(attPEM, "CERTIFICATE")
	if err != nil {
		return nil, false, err
	}
	att, err := x509.ParseCertificate(attDER)
	if err != nil {
		return nil, false, fmt.Errorf("parse attestation: %w", err)
	}
	if k, ok := att.PublicKey.(interface{ Equal(crypto.PublicKey) bool }); !ok || !k.Equal(csr.PublicKey) {
		return nil, false, errors.New("the attested key is not the CSR's key")
	}
	if e.cfg.AttestationRoots == nil {
		return attDER, false, nil
	}
	signerDER, err := decodePEMOrBase64(signerPEM, "CERTIFICATE")
	if err != nil {
		return nil, false, fmt.Errorf("attestation signer: %w", err)
	}
	signer, err := x509.ParseCertificate(signerDER)
	if err != nil {
		return nil, false, fmt.Errorf("parse attestation signer: %w", err)
	}
	if err := att.CheckSignatureFrom(signer); err != nil {
		return nil, false, fmt.Errorf("attestation not signed by the signer: %w", err)
	}
	if _, err := signer.Verify(x509.VerifyOptions{Roots: e.cfg.AttestationRoots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
		return nil, false, fmt.Errorf("attestation signer not trusted: %w", err)
	}
	return attDER, true, nil
}

func decodePEMOrBase64(s, pemType string) ([]byte, error) {
	if len(s) > maxPEM {
		return nil, fmt.Errorf("input is larger than %d bytes", maxPEM)
	}
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "-----BEGIN") {
		block, rest := pem.Decode([]byte(s))
		if block == nil || block.Type != pemType || len(strings.TrimSpace(string(rest))) > 0 {
			return nil, fmt.Errorf("want exactly one PEM block of type %s", pemType)
		}
		return block.Bytes, nil
	}
	der, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("decode base64: %w", err)
	}
	return der, nil
}

func algorithmOf(pub any) cardspec.KeyAlgorithm {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256():
			return cardspec.ECCP256
		case elliptic.P384():
			return cardspec.ECCP384
		}
	case *rsa.PublicKey:
		if k.N.BitLen() == 2048 {
			return cardspec.RSA2048
		}
	}
	return ""
}

func orUnknown(a cardspec.KeyAlgorithm) string {
	if a == "" {
		return "an unsupported key"
	}
	return string(a)
}

// sans renders a certificate's SANs for the identity store ("email:…", "upn:…").
func sans(c *x509.Certificate, upn string) []string {
	var out []string
	for _, e := range c.EmailAddresses {
		out = append(out, "email:"+e)
	}
	if upn != "" && c.ExtKeyUsage != nil {
		for _, u := range c.UnknownExtKeyUsage {
			if u.String() == "1.3.6.1.4.1.311.20.2.2" { // smartcardLogon: the UPN is in the SAN
				out = append(out, "upn:"+upn)
			}
		}
	}
	return out
}

func serialsOf(issued []*ca.Issued) []string {
	out := make([]string, len(issued))
	for i, c := range issued {
		out[i] = c.Serial
	}
	return out
}
