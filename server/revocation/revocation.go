// Package revocation names why a certificate was revoked: the RFC 5280 reason that CRLs
// and OCSP responses carry, and the reason a person gives when taking a card out of
// service, which picks the RFC 5280 one. It is a leaf package, so the ent schema, the
// GraphQL layer and the domain share one type each.
package revocation

import (
	"fmt"
	"io"
	"slices"
	"strconv"
)

// Reason is an RFC 5280 CRLReason (5.3.1) by its ASN.1 name, as a certificate records it.
type Reason string

// The RFC 5280 reasons a certificate can be revoked or held for. removeFromCRL is left
// out: it releases a hold and is never a certificate's reason.
const (
	Unspecified          Reason = "unspecified"
	KeyCompromise        Reason = "keyCompromise"
	CACompromise         Reason = "cACompromise"
	AffiliationChanged   Reason = "affiliationChanged"
	Superseded           Reason = "superseded"
	CessationOfOperation Reason = "cessationOfOperation"
	CertificateHold      Reason = "certificateHold"
	PrivilegeWithdrawn   Reason = "privilegeWithdrawn"
	AACompromise         Reason = "aACompromise"
)

// reasons are the reasons with their CRLReason numbers (7 is unused; 8 is
// removeFromCRL), in the order Values lists them: one list, so the two cannot drift.
var reasons = []struct {
	reason Reason
	code   int
}{
	{Unspecified, 0}, {KeyCompromise, 1}, {CACompromise, 2}, {AffiliationChanged, 3},
	{Superseded, 4}, {CessationOfOperation, 5}, {CertificateHold, 6},
	{PrivilegeWithdrawn, 9}, {AACompromise, 10},
}

// Values lists the reasons; ent uses it for the enum field.
func (Reason) Values() []string {
	out := make([]string, len(reasons))
	for i, r := range reasons {
		out[i] = string(r.reason)
	}
	return out
}

// Code is the RFC 5280 CRLReason number of r, as ca.Authority.Revoke takes it;
// unspecified (0) for a reason it does not know.
func (r Reason) Code() int {
	for _, x := range reasons {
		if x.reason == r {
			return x.code
		}
	}
	return 0
}

// MarshalGQL writes r as a GraphQL enum value (gqlgen's graphql.Marshaler).
func (r Reason) MarshalGQL(w io.Writer) { io.WriteString(w, strconv.Quote(string(r))) }

// UnmarshalGQL reads r from a GraphQL enum value (gqlgen's graphql.Unmarshaler).
func (r *Reason) UnmarshalGQL(v any) error {
	s, ok := v.(string)
	if !ok || !slices.Contains(Reason("").Values(), s) {
		return fmt.Errorf("%v is not an RFC 5280 revocation reason", v)
	}
	*r = Reason(s)
	return nil
}

// Cause is the reason a person gives for revoking a card (the GraphQL RevocationReason).
type Cause string

// The causes a person can choose between.
const (
	// LostOrStolen: someone else may hold the key, so relying parties must distrust
	// even old signatures (keyCompromise).
	LostOrStolen Cause = "LOST_OR_STOLEN"
	// Replaced: a new card took its place (superseded).
	Replaced Cause = "REPLACED"
	// NoLongerNeeded: the card is retired with nothing wrong with it (cessationOfOperation).
	NoLongerNeeded Cause = "NO_LONGER_NEEDED"
)

// Valid reports whether c is one of the causes.
func (c Cause) Valid() bool { return c == LostOrStolen || c == Replaced || c == NoLongerNeeded }

// MarshalGQL writes c as a GraphQL enum value (gqlgen's graphql.Marshaler).
func (c Cause) MarshalGQL(w io.Writer) { io.WriteString(w, strconv.Quote(string(c))) }

// UnmarshalGQL reads c from a GraphQL enum value (gqlgen's graphql.Unmarshaler).
func (c *Cause) UnmarshalGQL(v any) error {
	s, ok := v.(string)
	if !ok || !Cause(s).Valid() {
		return fmt.Errorf("%v is not a revocation reason: use LOST_OR_STOLEN, REPLACED or NO_LONGER_NEEDED", v)
	}
	*c = Cause(s)
	return nil
}

// Reason is the RFC 5280 reason for c.
func (c Cause) Reason() Reason {
	switch c {
	case LostOrStolen:
		return KeyCompromise
	case Replaced:
		return Superseded
	}
	return CessationOfOperation
}
