package ca

import (
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"time"

	"github.com/vscard/vscard/server/cardspec"
)

// IssueRequest asks for one certificate from a PKCS#10 CSR.
type IssueRequest struct {
	// CSR is the DER of a PKCS#10 request; its signature is checked.
	CSR []byte
	// Template selects the key usages and SANs (cardspec.Template's constants say which).
	Template cardspec.Template
	// Subject is the subject the CA writes; the CSR's own subject is ignored.
	Subject pkix.Name
	// UPN goes into an otherName SAN (1.3.6.1.4.1.311.20.2.3) for Authentication.
	UPN string
	// Emails become rfc822Name SANs.
	Emails []string
	// NotAfter is clamped so a certificate never outlives the issuing CA.
	NotAfter time.Time
	// Reference ties the CA's record to the order that asked (the order id).
	Reference string
	// Policies go into the certificatePolicies extension (how the key is held:
	// enroll's OIDKeyEKCertVerified and OIDKeyEKTrustedOnUse).
	Policies []asn1.ObjectIdentifier
}

// Status is a certificate's state in the CA's own records.
type Status string

// The CA record states.
const (
	StatusPending Status = "PENDING" // recorded, being signed
	StatusValid   Status = "VALID"
	StatusOnHold  Status = "ON_HOLD"
	StatusRevoked Status = "REVOKED"
	StatusExpired Status = "EXPIRED"
	StatusUnknown Status = "UNKNOWN"
)

// Issued is a signed certificate.
type Issued struct {
	// Serial is the certificate serial in lower-case hex without leading zeros.
	Serial      string
	DER         []byte
	Certificate *x509.Certificate
}

// Authority is what vscard needs from a certificate authority. The embedded CA implements
// it; an external CA (EJBCA, step-ca, AD CS) can be added behind the same interface.
type Authority interface {
	// Issue checks the CSR and issues a certificate. The CA records it before returning it.
	Issue(ctx context.Context, req IssueRequest) (*Issued, error)
	// Revoke revokes serial with an RFC 5280 reason code (ocsp.Unspecified etc.).
	// Revoking an already revoked certificate is not an error.
	Revoke(ctx context.Context, serial string, reason int) error
	// Status returns the CA's own state for serial.
	Status(ctx context.Context, serial string) (Status, error)
	// Chain returns the issuing CA certificate followed by the root.
	Chain() []*x509.Certificate
}

// BatchIssuer issues several certificates at once, all or none checked before anything is
// recorded; *CA implements it with two statements for the lot instead of two per
// certificate. A caller without it calls Issue for each.
type BatchIssuer interface {
	IssueAll(ctx context.Context, reqs []IssueRequest) ([]*Issued, error)
}

// ReferenceRevoker revokes everything a CA issued for one reference (an order id),
// including certificates that were signed but never reached the identity store. The
// enrolment engine uses it on cancel, failure and expiry. *CA implements it.
type ReferenceRevoker interface {
	RevokeReference(ctx context.Context, reference string, reason int) ([]string, error)
}
