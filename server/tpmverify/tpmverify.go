// Package tpmverify checks, on the server, that a card key lives in a TPM 2.0 made by a
// manufacturer the administrator trusts (--tpm-roots).
//
// The evidence (made by desktop-bridge/tpmevidence) has three links, and each one is
// checked here, once, in this order:
//
//  1. The endorsement key (EK) certificate chains to a configured root. The EK is the
//     TPM's identity; its certificate is what the manufacturer vouches for.
//  2. The attestation key (AK) is in the same TPM as that EK: the server encrypts a fresh
//     secret to the EK, bound to the AK's name (TPM2_MakeCredential, done in software
//     here); only that TPM can return it (TPM2_ActivateCredential), and only if it holds
//     a key with exactly that name. The server keeps only a digest of the secret, the AK
//     and the EK certificate (Challenge.Digest), expiring, and single use.
//  3. The AK certified the card key (TPM2_Certify): the AK is a restricted signing key, so
//     its signature over a TPMS_ATTEST that starts with TPM_GENERATED_VALUE can only have
//     been made by the TPM about an object it holds. The certified name is the name of
//     the key's public area, whose attributes say the TPM made the key (sensitiveDataOrigin)
//     and will never let it out (fixedTPM, fixedParent), and whose public key is the CSR's.
//
// Hostile input: every field has a size limit checked before parsing, every structure is
// parsed once, and the work per submission is bounded (one chain verification, one RSA or
// ECC operation per key), so a Desktop App cannot make the server do unbounded work.
package tpmverify

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"time"

	"github.com/google/go-tpm/tpm2"
)

// Reason is why evidence was refused: a code the SPA and the Desktop App put into words
// (the GraphQL error's extensions.reason, under INVALID_INPUT).
type Reason string

// The reasons. Each has words in the SPA's tpm namespace and the bridge's catalogue.
const (
	// EvidenceMissing: the option script requires TPM keys and the CSR came without evidence.
	EvidenceMissing Reason = "TPM_EVIDENCE_MISSING"
	// EvidenceInvalid: the evidence is malformed, or a signature or name does not match.
	EvidenceInvalid Reason = "TPM_EVIDENCE_INVALID"
	// RootUnknown: the EK certificate does not chain to a configured TPM root (or none is configured).
	RootUnknown Reason = "TPM_ROOT_UNKNOWN"
	// ChallengeFailed: the credential activation answer is wrong, expired or used already.
	ChallengeFailed Reason = "TPM_CHALLENGE_FAILED"
	// KeyMismatch: the certified key is not the CSR's key.
	KeyMismatch Reason = "TPM_KEY_MISMATCH"
	// KeyNotFixed: the certified key may leave the TPM or was imported (fixedTPM,
	// fixedParent or sensitiveDataOrigin not set).
	KeyNotFixed Reason = "TPM_KEY_NOT_FIXED"
)

// Reasons lists every reason, for the catalogue tests.
func Reasons() []Reason {
	return []Reason{EvidenceMissing, EvidenceInvalid, RootUnknown, ChallengeFailed, KeyMismatch, KeyNotFixed}
}

// Error is a refusal with its reason; Err is for logs only.
type Error struct {
	Reason Reason
	Err    error
}

func (e *Error) Error() string {
	if e.Err == nil {
		return string(e.Reason)
	}
	return string(e.Reason) + ": " + e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

func fail(r Reason, format string, args ...any) error {
	return &Error{Reason: r, Err: fmt.Errorf(format, args...)}
}

// ReasonOf returns the reason of a refusal, or "" when err is not one.
func ReasonOf(err error) Reason {
	var e *Error
	if errors.As(err, &e) {
		return e.Reason
	}
	return ""
}

// Size limits, checked before anything is parsed. An EK certificate is 1-2 KiB, TPM
// structures are a few hundred bytes.
const (
	maxCert      = 8 << 10
	maxTPMStruct = 2 << 10
	// SecretSize is the size of the credential secret.
	SecretSize = 32
	// ChallengeTTL is how long the Desktop App has to answer a challenge.
	ChallengeTTL = 5 * time.Minute
)

// Identity is what the Desktop App sends to ask for a challenge: the TPM's EK certificate
// and its attestation key's public area.
type Identity struct {
	// EKCert is the EK certificate, DER, as read from the TPM's NV.
	EKCert []byte
	// AKPublic is the AK's TPMT_PUBLIC, marshalled.
	AKPublic []byte
}

// Challenge is the credential the TPM must activate, and what the server keeps of it.
type Challenge struct {
	// CredentialBlob and EncryptedSecret are TPM2_ActivateCredential's inputs (the
	// TPM2B buffers' contents).
	CredentialBlob  []byte
	EncryptedSecret []byte
	// Digest binds the secret to the AK and EK certificate; the server keeps only this.
	Digest    []byte
	ExpiresAt time.Time
}

// Evidence is what the Desktop App sends with a CSR.
type Evidence struct {
	Identity
	// Secret is the activated credential (TPM2_ActivateCredential's output).
	Secret []byte
	// KeyPublic is the card key's TPMT_PUBLIC, marshalled.
	KeyPublic []byte
	// CertifyInfo is the TPMS_ATTEST the AK signed (TPM2_Certify's certifyInfo contents;
	// the TPM2B_ATTEST with its size first is taken too).
	CertifyInfo []byte
	// Signature is the AK's TPMT_SIGNATURE over CertifyInfo, marshalled.
	Signature []byte
}

// Verifier checks evidence against the configured manufacturer roots.
type Verifier struct {
	roots         *x509.CertPool
	intermediates *x509.CertPool
}

// New returns a verifier trusting roots (self-signed) and building chains through
// intermediates. A nil verifier has no roots: no EK chains (Session.RootErr).
func New(roots, intermediates []*x509.Certificate) *Verifier {
	v := &Verifier{roots: x509.NewCertPool(), intermediates: x509.NewCertPool()}
	for _, c := range roots {
		v.roots.AddCert(c)
	}
	for _, c := range intermediates {
		v.intermediates.AddCert(c)
	}
	return v
}

// Load reads a PEM file of TPM manufacturer certificates: self-signed ones are roots,
// the others are intermediates (manufacturers publish both; EKs are usually signed by an
// intermediate the TPM does not carry).
func Load(path string) (*Verifier, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read TPM roots: %w", err)
	}
	var roots, inter []*x509.Certificate
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			break
		}
		if blk.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parse TPM root in %s: %w", path, err)
		}
		if bytes.Equal(c.RawSubject, c.RawIssuer) && c.CheckSignatureFrom(c) == nil {
			roots = append(roots, c)
		} else {
			inter = append(inter, c)
		}
	}
	if len(roots) == 0 {
		return nil, fmt.Errorf("read TPM roots: %s has no self-signed certificate", path)
	}
	return New(roots, inter), nil
}

// oidSAN is subjectAltName: EK certificates put the TPM's manufacturer, model and version
// there as a directoryName, critical because the subject is empty, which crypto/x509 does
// not count as handled.
var oidSAN = asn1.ObjectIdentifier{2, 5, 29, 17}

// parseEK parses the EK certificate, within its size limit.
func parseEK(der []byte) (*x509.Certificate, error) {
	if len(der) == 0 || len(der) > maxCert {
		return nil, fail(EvidenceInvalid, "EK certificate of %d bytes", len(der))
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fail(EvidenceInvalid, "parse EK certificate: %w", err)
	}
	return c, nil
}

// chain checks that the EK certificate chains to a configured root.
func (v *Verifier) chain(c *x509.Certificate) error {
	if v == nil {
		return fail(RootUnknown, "no TPM roots configured")
	}
	// A copy, so the parsed certificate stays as it came.
	cc := *c
	cc.UnhandledCriticalExtensions = nil
	for _, o := range c.UnhandledCriticalExtensions {
		if !o.Equal(oidSAN) {
			cc.UnhandledCriticalExtensions = append(cc.UnhandledCriticalExtensions, o)
		}
	}
	// The EK certificate's validity is the TPM's manufacturing date onwards; its end is
	// often far off or omitted, so the chain is checked at the certificate's own start.
	if _, err := cc.Verify(x509.VerifyOptions{
		Roots: v.roots, Intermediates: v.intermediates, CurrentTime: c.NotBefore.Add(time.Second),
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
	}); err != nil {
		return fail(RootUnknown, "verify EK certificate: %w", err)
	}
	return nil
}

// ekPublic rebuilds the EK's TPMT_PUBLIC from its certificate's key with the TCG default
// template (the one TPM2_CreatePrimary recreates the certified EK with), so the
// credential is encrypted with the right symmetric scheme and name algorithm.
func ekPublic(c *x509.Certificate) (*tpm2.TPMTPublic, error) {
	switch k := c.PublicKey.(type) {
	case *rsa.PublicKey:
		if k.N.BitLen() != 2048 || k.E != 65537 {
			return nil, fail(EvidenceInvalid, "EK is RSA-%d, e=%d", k.N.BitLen(), k.E)
		}
		p := tpm2.RSAEKTemplate
		p.Unique = tpm2.NewTPMUPublicID(tpm2.TPMAlgRSA, &tpm2.TPM2BPublicKeyRSA{Buffer: k.N.Bytes()})
		return &p, nil
	case *ecdsa.PublicKey:
		if k.Curve.Params().Name != "P-256" {
			return nil, fail(EvidenceInvalid, "EK on curve %s", k.Curve.Params().Name)
		}
		p := tpm2.ECCEKTemplate
		p.Unique = tpm2.NewTPMUPublicID(tpm2.TPMAlgECC, &tpm2.TPMSECCPoint{
			X: tpm2.TPM2BECCParameter{Buffer: k.X.FillBytes(make([]byte, 32))},
			Y: tpm2.TPM2BECCParameter{Buffer: k.Y.FillBytes(make([]byte, 32))},
		})
		return &p, nil
	}
	return nil, fail(EvidenceInvalid, "EK key of type %T", c.PublicKey)
}

// ak parses the AK's public area: it must be a restricted signing key that never leaves
// the TPM, else its signature proves nothing about what the TPM holds.
func parseAK(b []byte) (*tpm2.TPMTPublic, []byte, error) {
	if len(b) == 0 || len(b) > maxTPMStruct {
		return nil, nil, fail(EvidenceInvalid, "AK public of %d bytes", len(b))
	}
	pub, err := tpm2.Unmarshal[tpm2.TPMTPublic](b)
	if err != nil {
		return nil, nil, fail(EvidenceInvalid, "parse AK public: %w", err)
	}
	a := pub.ObjectAttributes
	if !a.Restricted || !a.SignEncrypt || a.Decrypt || !a.FixedTPM || !a.FixedParent || !a.SensitiveDataOrigin {
		return nil, nil, fail(EvidenceInvalid, "AK is not a restricted signing key fixed to its TPM")
	}
	name, err := tpm2.ObjectName(pub)
	if err != nil {
		return nil, nil, fail(EvidenceInvalid, "AK name: %w", err)
	}
	return pub, name.Buffer, nil
}

// digest binds a secret to the AK's name and the EK certificate.
func digest(secret, akName, ekCert []byte) []byte {
	h := sha256.New()
	for _, b := range [][]byte{secret, akName, ekCert} {
		var n [4]byte
		n[0], n[1], n[2], n[3] = byte(len(b)>>24), byte(len(b)>>16), byte(len(b)>>8), byte(len(b))
		h.Write(n[:])
		h.Write(b)
	}
	return h.Sum(nil)
}

// NewChallenge parses the EK certificate and the AK, and makes the credential for the
// TPM to activate, valid until now+ChallengeTTL. The caller keeps Digest and ExpiresAt.
// The EK's chain is checked when the answer comes (Open), so that a policy that takes
// keys in any TPM can still tell them from software keys.
func (v *Verifier) NewChallenge(id Identity, now time.Time) (*Challenge, error) {
	ek, err := parseEK(id.EKCert)
	if err != nil {
		return nil, err
	}
	ekPub, err := ekPublic(ek)
	if err != nil {
		return nil, err
	}
	_, akName, err := parseAK(id.AKPublic)
	if err != nil {
		return nil, err
	}
	key, err := tpm2.ImportEncapsulationKey(ekPub)
	if err != nil {
		return nil, fail(EvidenceInvalid, "import EK: %w", err)
	}
	secret := make([]byte, SecretSize)
	if _, err := rand.Read(secret); err != nil {
		return nil, fmt.Errorf("make TPM challenge: %w", err)
	}
	blob, enc, err := tpm2.CreateCredential(rand.Reader, key, akName, secret)
	if err != nil {
		return nil, fail(EvidenceInvalid, "make credential: %w", err)
	}
	return &Challenge{
		CredentialBlob: blob, EncryptedSecret: enc,
		Digest: digest(secret, akName, id.EKCert), ExpiresAt: now.Add(ChallengeTTL),
	}, nil
}

// Session is one checked answer to a challenge: the AK is proven to be in the TPM of the
// EK certificate. Certified keys are checked against it, one per CSR.
type Session struct {
	ak     *tpm2.TPMTPublic
	akKey  crypto.PublicKey
	nonce  []byte
	ekCert *x509.Certificate
	// RootErr is why the EK certificate does not chain to a configured root (reason
	// RootUnknown), nil when it does: the caller's policy decides whether that refuses.
	RootErr error
}

// Open checks the identity and the activated secret against the kept challenge digest
// (expiring at expiresAt, compared with now), and the EK's chain (Session.RootErr). The
// caller must forget the digest whatever the result, so a challenge is answered once.
func (v *Verifier) Open(id Identity, secret, keptDigest []byte, expiresAt, now time.Time) (*Session, error) {
	if len(keptDigest) == 0 || !now.Before(expiresAt) {
		return nil, fail(ChallengeFailed, "no challenge, or it expired at %s", expiresAt)
	}
	if len(secret) != SecretSize {
		return nil, fail(ChallengeFailed, "secret of %d bytes", len(secret))
	}
	ek, err := parseEK(id.EKCert)
	if err != nil {
		return nil, err
	}
	ak, akName, err := parseAK(id.AKPublic)
	if err != nil {
		return nil, err
	}
	if subtle.ConstantTimeCompare(digest(secret, akName, id.EKCert), keptDigest) != 1 {
		return nil, fail(ChallengeFailed, "the activated secret does not match the challenge")
	}
	akKey, err := tpm2.Pub(*ak)
	if err != nil {
		return nil, fail(EvidenceInvalid, "AK key: %w", err)
	}
	return &Session{ak: ak, akKey: akKey, nonce: Nonce(secret), ekCert: ek, RootErr: v.chain(ek)}, nil
}

// Nonce is the qualifying data the Desktop App puts into TPM2_Certify: derived from the
// activated secret, so a certification belongs to this challenge and cannot be replayed
// from another one.
func Nonce(secret []byte) []byte {
	h := sha256.Sum256(append([]byte("vscard tpm certify\x00"), secret...))
	return h[:]
}

// EKCertificate is the checked EK certificate (for the record: which TPM).
func (s *Session) EKCertificate() *x509.Certificate { return s.ekCert }

// Certified checks that the AK certified a key that cannot leave the TPM and whose public
// key is csrKey.
func (s *Session) Certified(keyPublic, certifyInfo, signature []byte, csrKey crypto.PublicKey) error {
	for _, b := range [][]byte{keyPublic, certifyInfo, signature} {
		if len(b) == 0 || len(b) > maxTPMStruct {
			return fail(EvidenceInvalid, "evidence field of %d bytes", len(b))
		}
	}
	certifyInfo = attestContents(certifyInfo)
	sig, err := tpm2.Unmarshal[tpm2.TPMTSignature](signature)
	if err != nil {
		return fail(EvidenceInvalid, "parse signature: %w", err)
	}
	if err := verifySig(s.akKey, certifyInfo, sig); err != nil {
		return err
	}
	att, err := tpm2.Unmarshal[tpm2.TPMSAttest](certifyInfo)
	if err != nil {
		return fail(EvidenceInvalid, "parse certify info: %w", err)
	}
	if att.Magic != tpm2.TPMGeneratedValue || att.Type != tpm2.TPMSTAttestCertify {
		return fail(EvidenceInvalid, "not a TPM-made certification")
	}
	if subtle.ConstantTimeCompare(att.ExtraData.Buffer, s.nonce) != 1 {
		return fail(ChallengeFailed, "the certification is not for this challenge")
	}
	info, err := att.Attested.Certify()
	if err != nil {
		return fail(EvidenceInvalid, "certify info: %w", err)
	}
	pub, err := tpm2.Unmarshal[tpm2.TPMTPublic](keyPublic)
	if err != nil {
		return fail(EvidenceInvalid, "parse key public: %w", err)
	}
	name, err := tpm2.ObjectName(pub)
	if err != nil {
		return fail(EvidenceInvalid, "key name: %w", err)
	}
	if !bytes.Equal(name.Buffer, info.Name.Buffer) {
		return fail(EvidenceInvalid, "the certified name is not the key's")
	}
	a := pub.ObjectAttributes
	if !a.FixedTPM || !a.FixedParent || !a.SensitiveDataOrigin {
		return fail(KeyNotFixed, "fixedTPM=%v fixedParent=%v sensitiveDataOrigin=%v", a.FixedTPM, a.FixedParent, a.SensitiveDataOrigin)
	}
	key, err := tpm2.Pub(*pub)
	if err != nil {
		return fail(EvidenceInvalid, "key: %w", err)
	}
	k, ok := key.(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !k.Equal(csrKey) {
		return fail(KeyMismatch, "the certified key is not the CSR's key")
	}
	return nil
}

// attestContents takes a TPMS_ATTEST as it is, or the TPM2B_ATTEST around one (as
// TPM2_Certify's response marshals it, with a size first) without its size: a TPMS_ATTEST
// starts with TPM_GENERATED_VALUE, which no size of a structure this small can be.
func attestContents(b []byte) []byte {
	if len(b) >= 6 && int(b[0])<<8|int(b[1]) == len(b)-2 &&
		b[2] == 0xff && b[3] == 'T' && b[4] == 'C' && b[5] == 'G' {
		return b[2:]
	}
	return b
}

// verifySig checks the AK's signature over msg (SHA-256: the AK template's scheme).
func verifySig(ak crypto.PublicKey, msg []byte, sig *tpm2.TPMTSignature) error {
	d := sha256.Sum256(msg)
	switch k := ak.(type) {
	case *ecdsa.PublicKey:
		e, err := sig.Signature.ECDSA()
		if err != nil || sig.SigAlg != tpm2.TPMAlgECDSA || e.Hash != tpm2.TPMAlgSHA256 {
			return fail(EvidenceInvalid, "AK signature is not ECDSA with SHA-256")
		}
		r, s := new(big.Int).SetBytes(e.SignatureR.Buffer), new(big.Int).SetBytes(e.SignatureS.Buffer)
		if !ecdsa.Verify(k, d[:], r, s) {
			return fail(EvidenceInvalid, "AK signature does not verify")
		}
	case *rsa.PublicKey:
		e, err := sig.Signature.RSASSA()
		if err != nil || sig.SigAlg != tpm2.TPMAlgRSASSA || e.Hash != tpm2.TPMAlgSHA256 {
			return fail(EvidenceInvalid, "AK signature is not RSASSA with SHA-256")
		}
		if err := rsa.VerifyPKCS1v15(k, crypto.SHA256, d[:], e.Sig.Buffer); err != nil {
			return fail(EvidenceInvalid, "AK signature does not verify")
		}
	default:
		return fail(EvidenceInvalid, "AK key of type %T", ak)
	}
	return nil
}
