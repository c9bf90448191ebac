package ca

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/vscard/vscard/server/cardspec"
	"github.com/vscard/vscard/server/errs"
)

// MaxCSRSize bounds the CSR a caller may send. A P-384 or RSA-4096 CSR is well below 2 KiB.
const MaxCSRSize = 16 << 10

// serialAttempts bounds retries on a serial collision, which with 128 random bits means a
// broken random source rather than bad luck.
const serialAttempts = 3

// Issue checks the CSR and the request, records the certificate as PENDING, signs it,
// records it as VALID with its DER, and returns it. Refused requests are INVALID_INPUT
// errors and leave no record. If signing or recording the signed certificate fails, Issue
// returns an error and the PENDING record remains, so whatever was signed can be revoked
// (RevokeReference finds it by the request's Reference). Recording the signed certificate
// is not abandoned when ctx is cancelled.
func (c *CA) Issue(ctx context.Context, req IssueRequest) (*Issued, error) {
	csr, err := parseCSR(req.CSR)
	if err != nil {
		return nil, err
	}
	tmpl, err := c.template(req, csr)
	if err != nil {
		return nil, err
	}
	rec := &Record{
		Reference: req.Reference,
		Template:  req.Template,
		Subject:   req.Subject.String(),
		NotBefore: tmpl.NotBefore,
		NotAfter:  tmpl.NotAfter,
		State:     StatusPending,
	}
	if err := c.reserve(ctx, tmpl, rec); err != nil {
		return nil, err
	}
	tmpl.CRLDistributionPoints = []string{c.cfg.crlPartitionURL(int(partitionOf(rec.Serial)))}

	der, err := x509.CreateCertificate(rand.Reader, tmpl, c.issuing, csr.PublicKey, c.key)
	if err != nil {
		return nil, fmt.Errorf("sign certificate %s: %w", rec.Serial, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("parse certificate %s: %w", rec.Serial, err)
	}
	// The certificate exists now: record it even if the caller has given up.
	mctx, cancel := detached(ctx)
	defer cancel()
	if err := c.store.MarkIssued(mctx, rec.Serial, der); err != nil {
		return nil, fmt.Errorf("record certificate %s: %w", rec.Serial, err)
	}
	// Instances that answered unknown while the record was PENDING answer anew.
	c.announce(mctx, rec.Serial)
	return &Issued{Serial: rec.Serial, DER: der, Certificate: cert}, nil
}

// IssueAll issues a certificate for each of reqs, as Issue does one, with two statements
// for all of them on a BatchStore: every request is checked first, so a refused one (an
// INVALID_INPUT error) leaves no record and nothing signed; then all are recorded PENDING,
// signed, and recorded VALID. If signing fails, what was signed is recorded and the rest
// stays PENDING, so a revocation by Reference finds all of it. On an error it returns
// what it signed before it, for the caller to revoke.
func (c *CA) IssueAll(ctx context.Context, reqs []IssueRequest) ([]*Issued, error) {
	batch, ok := c.store.(BatchStore)
	if !ok {
		out := make([]*Issued, 0, len(reqs))
		for _, req := range reqs {
			is, err := c.Issue(ctx, req)
			if err != nil {
				return out, err
			}
			out = append(out, is)
		}
		return out, nil
	}
	csrs := make([]*x509.CertificateRequest, len(reqs))
	tmpls := make([]*x509.Certificate, len(reqs))
	recs := make([]*Record, len(reqs))
	for i, req := range reqs {
		csr, err := parseCSR(req.CSR)
		if err != nil {
			return nil, err
		}
		tmpl, err := c.template(req, csr)
		if err != nil {
			return nil, err
		}
		csrs[i], tmpls[i] = csr, tmpl
		recs[i] = &Record{
			Reference: req.Reference,
			Template:  req.Template,
			Subject:   req.Subject.String(),
			NotBefore: tmpl.NotBefore,
			NotAfter:  tmpl.NotAfter,
			State:     StatusPending,
		}
	}
	if err := c.reserveAll(ctx, batch, tmpls, recs); err != nil {
		return nil, err
	}
	out := make([]*Issued, 0, len(reqs))
	var signErr error
	for i, tmpl := range tmpls {
		// As Issue: the CDP names the serial's CRL partition.
		tmpl.CRLDistributionPoints = []string{c.cfg.crlPartitionURL(int(partitionOf(recs[i].Serial)))}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, c.issuing, csrs[i].PublicKey, c.key)
		if err != nil {
			signErr = fmt.Errorf("sign certificate %s: %w", recs[i].Serial, err)
			break
		}
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			signErr = fmt.Errorf("parse certificate %s: %w", recs[i].Serial, err)
			break
		}
		recs[i].DER = der
		out = append(out, &Issued{Serial: recs[i].Serial, DER: der, Certificate: cert})
	}
	if len(out) > 0 {
		// The certificates exist now: record them even if the caller has given up.
		mctx, cancel := detached(ctx)
		defer cancel()
		if err := batch.MarkAllIssued(mctx, recs[:len(out)]); err != nil {
			return out, fmt.Errorf("record certificates: %w", err)
		}
		// Instances that answered unknown while the records were PENDING answer anew.
		for _, is := range out {
			c.announce(mctx, is.Serial)
		}
	}
	return out, signErr
}

// reserveAll picks a fresh serial for each of tmpls and records recs under them at once.
func (c *CA) reserveAll(ctx context.Context, batch BatchStore, tmpls []*x509.Certificate, recs []*Record) error {
	serials := make([]*big.Int, len(recs))
	for range serialAttempts {
		for i, rec := range recs {
			serial, err := randomSerial()
			if err != nil {
				return err
			}
			serials[i], rec.Serial = serial, formatSerial(serial)
		}
		err := batch.ReserveAll(ctx, recs)
		if errors.Is(err, ErrSerialTaken) {
			continue
		}
		if err != nil {
			return fmt.Errorf("reserve CA records: %w", err)
		}
		for i, tmpl := range tmpls {
			tmpl.SerialNumber = serials[i]
		}
		return nil
	}
	return fmt.Errorf("reserve CA records: %d serial collisions in a row: %w", serialAttempts, ErrSerialTaken)
}

// reserve picks a fresh serial for tmpl and records rec under it.
func (c *CA) reserve(ctx context.Context, tmpl *x509.Certificate, rec *Record) error {
	for range serialAttempts {
		serial, err := randomSerial()
		if err != nil {
			return err
		}
		rec.Serial = formatSerial(serial)
		err = c.store.Reserve(ctx, rec)
		if errors.Is(err, ErrSerialTaken) {
			continue
		}
		if err != nil {
			return fmt.Errorf("reserve CA record: %w", err)
		}
		tmpl.SerialNumber = serial
		return nil
	}
	return fmt.Errorf("reserve CA record: %d serial collisions in a row: %w", serialAttempts, ErrSerialTaken)
}

// parseCSR parses and checks a PKCS#10 request: size, signature and key.
func parseCSR(der []byte) (*x509.CertificateRequest, error) {
	switch {
	case len(der) == 0:
		return nil, errs.New(errs.InvalidInput, "the CSR is empty; send a DER-encoded PKCS#10 request")
	case len(der) > MaxCSRSize:
		return nil, errs.New(errs.InvalidInput, "the CSR is %d bytes; the limit is %d", len(der), MaxCSRSize)
	}
	csr, err := x509.ParseCertificateRequest(der)
	if err != nil {
		return nil, errs.Wrap(err, errs.InvalidInput, "the CSR is not a DER-encoded PKCS#10 request")
	}
	if err := csr.CheckSignature(); err != nil {
		return nil, errs.Wrap(err, errs.InvalidInput, "the CSR signature does not verify: the request was altered, or not signed by the key it carries")
	}
	if err := checkKey(csr.PublicKey); err != nil {
		return nil, err
	}
	return csr, nil
}

// checkKey accepts ECDSA P-256 and P-384, the curves PIV cards generate, and RSA keys of
// at least 2048 bits.
func checkKey(pub crypto.PublicKey) error {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256(), elliptic.P384():
			return nil
		}
		return errs.New(errs.InvalidInput, "the CSR key is on curve %s, which this CA does not certify; use P-256 or P-384", k.Curve.Params().Name)
	case *rsa.PublicKey:
		if bits := k.N.BitLen(); bits < 2048 {
			return errs.New(errs.InvalidInput, "the CSR has an RSA-%d key, which is too weak; use RSA with at least 2048 bits, or ECDSA P-256/P-384", bits)
		}
		return nil
	case ed25519.PublicKey:
		return errs.New(errs.InvalidInput, "the CSR has an Ed25519 key, which smart cards and this CA do not support; use ECDSA P-256/P-384 or RSA-2048")
	}
	return errs.New(errs.InvalidInput, "the CSR has a %T key, which this CA does not support; use ECDSA P-256/P-384 or RSA-2048", pub)
}

// template builds the certificate for req from the checked csr. The serial is set later.
func (c *CA) template(req IssueRequest, csr *x509.CertificateRequest) (*x509.Certificate, error) {
	if len(req.Subject.ToRDNSequence()) == 0 {
		return nil, errs.New(errs.InvalidInput, "the certificate subject is empty; give at least a common name")
	}
	now := c.cfg.Now().UTC().Truncate(time.Second)
	notAfter, err := c.notAfter(req.NotAfter, now)
	if err != nil {
		return nil, err
	}
	granted, err := grantedSANs(req)
	if err != nil {
		return nil, err
	}
	if err := checkRequestedSANs(csr, granted, req.Template); err != nil {
		return nil, err
	}
	ski, err := subjectKeyID(csr.PublicKey)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		Subject:               req.Subject,
		NotBefore:             now.Add(-time.Minute),
		NotAfter:              notAfter,
		BasicConstraintsValid: true,
		SubjectKeyId:          ski,
		CRLDistributionPoints: []string{c.cfg.crlURL()},
		OCSPServer:            []string{c.cfg.ocspURL()},
		IssuingCertificateURL: []string{c.cfg.issuerURL()},
	}
	_, isRSA := csr.PublicKey.(*rsa.PublicKey)
	switch req.Template {
	case cardspec.Authentication:
		// PIV authentication and Windows logon: signatures; RSA keys also transport keys
		// in Kerberos PKINIT. ECDSA logon needs only digitalSignature.
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature
		if isRSA {
			tmpl.KeyUsage |= x509.KeyUsageKeyEncipherment
		}
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
		tmpl.UnknownExtKeyUsage = []asn1.ObjectIdentifier{oidSmartcardLogon}
	case cardspec.Signature:
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection}
	case cardspec.Encryption:
		// RSA encrypts the content key to the recipient; EC derives it by key agreement.
		tmpl.KeyUsage = x509.KeyUsageKeyAgreement
		if isRSA {
			tmpl.KeyUsage = x509.KeyUsageKeyEncipherment
		}
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection}
	}
	if !granted.empty() {
		der, err := marshalSANs(granted)
		if err != nil {
			return nil, err
		}
		tmpl.ExtraExtensions = []pkix.Extension{{Id: oidSubjectAltName, Value: der}}
	}
	// Go writes Policies (x509usepolicies, the default since 1.24) and ignores
	// PolicyIdentifiers then; both are set so the GODEBUG setting does not matter.
	tmpl.PolicyIdentifiers = req.Policies
	for _, p := range req.Policies {
		ints := make([]uint64, len(p))
		for i, n := range p {
			ints[i] = uint64(n)
		}
		oid, err := x509.OIDFromInts(ints)
		if err != nil {
			return nil, fmt.Errorf("certificate policy %v: %w", p, err)
		}
		tmpl.Policies = append(tmpl.Policies, oid)
	}
	return tmpl, nil
}

// notAfter clamps the requested end of validity to the issuing CA's.
func (c *CA) notAfter(requested, now time.Time) (time.Time, error) {
	if requested.IsZero() {
		return time.Time{}, errs.New(errs.InvalidInput, "the request has no NotAfter; say until when the certificate is valid")
	}
	if !requested.After(now) {
		return time.Time{}, errs.New(errs.InvalidInput, "NotAfter %s is not in the future", requested.UTC().Format(time.RFC3339))
	}
	if requested.After(c.issuing.NotAfter) {
		requested = c.issuing.NotAfter
	}
	return requested.UTC().Truncate(time.Second), nil
}

// grantedSANs are the names the template writes: the UPN for Authentication only, and
// the emails for every template.
func grantedSANs(req IssueRequest) (sans, error) {
	var s sans
	switch req.Template {
	case cardspec.Authentication:
		if req.UPN != "" {
			if !utf8.ValidString(req.UPN) || strings.ContainsAny(req.UPN, " \t\r\n") || !strings.Contains(req.UPN, "@") {
				return s, errs.New(errs.InvalidInput, "UPN %q is not a user principal name like user@example.com", req.UPN)
			}
			s.UPN = req.UPN
		}
	case cardspec.Signature, cardspec.Encryption:
	default:
		return s, errs.New(errs.InvalidInput, "template %q is unknown; use %s, %s or %s", req.Template, cardspec.Authentication, cardspec.Signature, cardspec.Encryption)
	}
	for _, e := range req.Emails {
		a, err := mail.ParseAddress(e)
		if err != nil || a.Address != e || a.Name != "" || !isASCII(e) {
			return s, errs.New(errs.InvalidInput, "%q is not a plain ASCII email address like user@example.com", e)
		}
		s.Emails = append(s.Emails, e)
	}
	return s, nil
}

// checkRequestedSANs refuses a CSR that asks for names the template does not grant.
func checkRequestedSANs(csr *x509.CertificateRequest, granted sans, t cardspec.Template) error {
	for _, ext := range csr.Extensions {
		if !ext.Id.Equal(oidSubjectAltName) {
			continue
		}
		requested, err := parseSANs(ext.Value)
		if err != nil {
			return errs.Wrap(err, errs.InvalidInput, "the CSR's subjectAltName extension cannot be decoded")
		}
		if extra := extraSANs(requested, granted); len(extra) > 0 {
			return errs.New(errs.InvalidInput, "the CSR requests extra SANs the %s template does not grant (%s); leave names out of the CSR, the CA writes them", t, strings.Join(extra, ", ")).
				WithDetails(map[string]any{"extraSANs": extra})
		}
	}
	return nil
}

// subjectKeyID is RFC 7093 method 1: the leftmost 160 bits of the SHA-256 of the
// subjectPublicKey bits.
func subjectKeyID(pub crypto.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("marshal public key: %w", err)
	}
	var spki struct {
		Algorithm pkix.AlgorithmIdentifier
		PublicKey asn1.BitString
	}
	if _, err := asn1.Unmarshal(der, &spki); err != nil {
		return nil, fmt.Errorf("decode public key: %w", err)
	}
	sum := sha256.Sum256(spki.PublicKey.Bytes)
	return sum[:20], nil
}

func isASCII(s string) bool {
	for i := range len(s) {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
