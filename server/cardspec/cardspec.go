// Package cardspec holds what an option script decides for one card: the PIN policy and its
// check, the certificates, the validity and the properties, and the limits of each.
//
// It is the contract between the option script and the rest of vscard: the enrolment engine
// stores [Options] on each order as a snapshot (ent/schema binds the JSON columns to these
// types), the CA reads validity and properties, and the desktop bridge enforces [PINPolicy]
// with [PINPolicy.Check]. Changing a JSON name changes stored snapshots.
//
// The package is a leaf on purpose: it imports nothing of vscard and nothing of Starlark, so
// ent and the desktop bridge, which need the values, do not link the interpreter. The
// evaluator that produces them lives in server/options.
package cardspec

import (
	"fmt"
	"io"
	"strconv"
)

// Rule says whether a class of characters may, must or must not appear in a PIN.
type Rule string

// The three character-class rules.
const (
	Allowed    Rule = "ALLOWED"
	Required   Rule = "REQUIRED"
	Disallowed Rule = "DISALLOWED"
)

// Template names what a certificate is for: the PIV slot it goes into and the key usages
// and SANs the CA gives it. It is vscard's one template type: ent stores it (GoType), the
// GraphQL enum CertificateTemplate is bound to it, and the CA issues by it.
type Template string

// The certificate templates, the PIV slot each goes into, and what the CA's certificate for
// it carries (server/ca's template in issue.go sets the key usages; the SANs come from the
// issue request).
const (
	Authentication Template = "AUTHENTICATION" // slot 9A: clientAuth + smartcardLogon, UPN and email SANs
	Signature      Template = "SIGNATURE"      // slot 9C: digitalSignature + nonRepudiation, emailProtection
	Encryption     Template = "ENCRYPTION"     // slot 9D: keyEncipherment / keyAgreement, emailProtection
)

// Values lists the templates; ent uses it for the enum field.
func (Template) Values() []string {
	return []string{string(Authentication), string(Signature), string(Encryption)}
}

// MarshalGQL writes t as a GraphQL enum value (gqlgen's graphql.Marshaler).
func (t Template) MarshalGQL(w io.Writer) { io.WriteString(w, strconv.Quote(string(t))) }

// UnmarshalGQL reads t from a GraphQL enum value (gqlgen's graphql.Unmarshaler).
func (t *Template) UnmarshalGQL(v any) error {
	s, ok := v.(string)
	if !ok || !Template(s).Valid() {
		return fmt.Errorf("%v is not a certificate template", v)
	}
	*t = Template(s)
	return nil
}

// Slot returns the PIV slot (upper-case hex, e.g. "9A") for the template.
func (t Template) Slot() string {
	switch t {
	case Authentication:
		return "9A"
	case Signature:
		return "9C"
	case Encryption:
		return "9D"
	}
	return ""
}

// KeyAlgorithm is the on-card key type of a certificate: vscard's one key-algorithm type,
// stored by ent (GoType) and bound to the GraphQL enum KeyAlgorithm.
type KeyAlgorithm string

// The key algorithms the virtual card generates.
const (
	ECCP256 KeyAlgorithm = "ECCP256"
	ECCP384 KeyAlgorithm = "ECCP384"
	RSA2048 KeyAlgorithm = "RSA2048"
)

// Values lists the key algorithms; ent uses it for the enum field.
func (KeyAlgorithm) Values() []string {
	return []string{string(ECCP256), string(ECCP384), string(RSA2048)}
}

// MarshalGQL writes a as a GraphQL enum value (gqlgen's graphql.Marshaler).
func (a KeyAlgorithm) MarshalGQL(w io.Writer) { io.WriteString(w, strconv.Quote(string(a))) }

// UnmarshalGQL reads a from a GraphQL enum value (gqlgen's graphql.Unmarshaler).
func (a *KeyAlgorithm) UnmarshalGQL(v any) error {
	s, ok := v.(string)
	if !ok || !KeyAlgorithm(s).Valid() {
		return fmt.Errorf("%v is not a key algorithm", v)
	}
	*a = KeyAlgorithm(s)
	return nil
}

// PINPolicy is the PIN complexity the bridge enforces before it sets the PIN.
// PIV stores PINs of 6 to 8 bytes, so MinLength >= 6 and MaxLength <= 8.
type PINPolicy struct {
	MinLength int  `json:"minLength"`
	MaxLength int  `json:"maxLength"`
	Upper     Rule `json:"upper"`
	Lower     Rule `json:"lower"`
	Digits    Rule `json:"digits"`
	Special   Rule `json:"special"`
	// BlockList holds PINs that are refused outright (compared exactly).
	BlockList []string `json:"blockList"`
	// MaxRepeated is the longest run of one character allowed ("1111" is a run of 4); 0 = no limit.
	MaxRepeated int `json:"maxRepeated"`
	// MaxSequential is the longest ascending or descending run allowed ("1234" is 4); 0 = no limit.
	MaxSequential int `json:"maxSequential"`
	// RetryCount is the number of wrong PINs before the card blocks (1..10).
	RetryCount int `json:"retryCount"`
}

// CertificateSpec is one certificate the card gets.
type CertificateSpec struct {
	Template  Template     `json:"template"`
	Slot      string       `json:"slot"`
	Algorithm KeyAlgorithm `json:"algorithm"`
}

// Validity is how long the card and its certificates are valid. Exactly one of Years, Days is
// set by a valid script; Days() folds them.
type Validity struct {
	Years int `json:"years,omitempty"`
	DaysN int `json:"days,omitempty"`
}

// Days returns the validity in days (a year counts 365 days).
func (v Validity) Days() int { return v.Years*365 + v.DaysN }

// Properties are computed from the user and end up on the card (CHUID, details) and in
// certificate subjects and SANs.
type Properties struct {
	UserID       string `json:"userId"`
	ServerName   string `json:"serverName"`
	ProfileName  string `json:"profileName"`
	CommonName   string `json:"commonName"`
	Email        string `json:"email"`
	Organization string `json:"organization,omitempty"`
	// Extra holds any further string properties the script defines.
	Extra map[string]string `json:"extra,omitempty"`
}

// Options is the evaluated result of an option script for one user.
type Options struct {
	PIN          PINPolicy         `json:"pin"`
	Certificates []CertificateSpec `json:"certificates"`
	Validity     Validity          `json:"validity"`
	Properties   Properties        `json:"properties"`
	// SelfUnlock lets a person unlock their own locked card (unlock-virtual-smart-card);
	// without it only an administrator may. Off unless the script says so: a card is
	// locked because something may be wrong, and a second pair of eyes is the default.
	SelfUnlock bool `json:"selfUnlock,omitempty"`
	// UnblockPINOffline lets a person unblock their card's PIN without the Desktop App
	// reaching the server (unblock-pin-offline): the portal answers the card's challenge
	// with a response from the card's management key. Off unless the script says so.
	UnblockPINOffline bool `json:"unblockPinOffline,omitempty"`
	// Renewal says when a card becomes due for renewal and when its owner is told. A script
	// that leaves it out gets DefaultRenewal.
	Renewal Renewal `json:"renewal"`
	// KeyProtection is the script's KEY_PROTECTION; empty (a snapshot older than it)
	// is KeyPolicySoftware.
	KeyProtection KeyPolicy `json:"keyProtection,omitempty"`
}

// Renewal is the option script's RENEWAL_WINDOW and NOTICE_DAYS. The expiry check
// (server/notices) gives a card an open task for its owner once its certificates expire
// within WindowDays, and sends an e-mail notice when the days left first reach each of
// NoticeDays.
type Renewal struct {
	// WindowDays is how many days before expiry a card becomes due for renewal.
	WindowDays int `json:"windowDays"`
	// NoticeDays are the days before expiry at which a notice goes out, largest first,
	// each at most WindowDays (a notice before the card is due would offer nothing to do).
	NoticeDays []int `json:"noticeDays"`
}

// DefaultRenewal is what a script without renewal gets: due 60 days before expiry, notices
// at 60, 30, 14 and 7 days, as Nexus sends them.
func DefaultRenewal() Renewal {
	return Renewal{WindowDays: 60, NoticeDays: []int{60, 30, 14, 7}}
}

// MaxRenewalWindowDays bounds RENEWAL_WINDOW: a year before expiry is already most of a
// short validity; MaxNoticeDays bounds how many notices one card gets.
const (
	MaxRenewalWindowDays = 365
	MaxNoticeDays        = 10
)

// Limits of the values an option script may return. PIV stores a PIN in at most 8 bytes and
// requires at least 6; a card blocks after at most 10 wrong PINs here.
const (
	MinPINLength     = 6
	MaxPINLength     = 8
	MaxRetryCount    = 10
	MaxValidityYears = 10
	MaxValidityDays  = MaxValidityYears * 365
)

// Valid reports whether r is one of the three rules.
func (r Rule) Valid() bool { return r == Allowed || r == Required || r == Disallowed }

// Valid reports whether t is a known template.
func (t Template) Valid() bool { return t.Slot() != "" }

// Valid reports whether a is a key algorithm the virtual card generates.
func (a KeyAlgorithm) Valid() bool { return a == ECCP256 || a == ECCP384 || a == RSA2048 }

// KeyPolicy is the option script's KEY_PROTECTION: how an order's card keys must be held.
type KeyPolicy string

// The key policies.
const (
	// KeyPolicyTPM requires TPM evidence that chains to a configured root with every CSR.
	KeyPolicyTPM KeyPolicy = "TPM"
	// KeyPolicyTPMPreferred takes keys the Desktop App proves are in a TPM and software
	// keys alike, and records which.
	KeyPolicyTPMPreferred KeyPolicy = "TPM_PREFERRED"
	// KeyPolicySoftware asks for nothing: the keys are recorded as software keys even when
	// the Desktop App sends evidence (it is not checked).
	KeyPolicySoftware KeyPolicy = "SOFTWARE"
)

// Valid reports whether p is one of the key policies.
func (p KeyPolicy) Valid() bool {
	return p == KeyPolicyTPM || p == KeyPolicyTPMPreferred || p == KeyPolicySoftware
}

// KeyProtection is how a card's keys are held, as the server established it: vscard's one
// type for it, stored by ent (GoType) and bound to the GraphQL enum KeyProtection.
type KeyProtection string

// The key protections, weakest first.
const (
	// KeySoftware: no TPM evidence came (or the policy did not look): the keys may be
	// software keys, readable by whoever reads the card's files.
	KeySoftware KeyProtection = "SOFTWARE"
	// KeyTPM: a TPM certified the keys and proved the attestation key is its own, but its
	// endorsement key certificate does not chain to a configured manufacturer root, so the
	// server cannot tell a hardware TPM from a TPM emulator.
	KeyTPM KeyProtection = "TPM"
	// KeyTPMAttested: as KeyTPM, and the endorsement key certificate chains to a root in
	// --tpm-roots: the keys are in a TPM that manufacturer made.
	KeyTPMAttested KeyProtection = "TPM_ATTESTED"
)

// Values lists the key protections; ent uses it for the enum field.
func (KeyProtection) Values() []string {
	return []string{string(KeySoftware), string(KeyTPM), string(KeyTPMAttested)}
}

// Valid reports whether k is one of the key protections.
func (k KeyProtection) Valid() bool {
	return k == KeySoftware || k == KeyTPM || k == KeyTPMAttested
}

// MarshalGQL writes k as a GraphQL enum value (gqlgen's graphql.Marshaler).
func (k KeyProtection) MarshalGQL(w io.Writer) { io.WriteString(w, strconv.Quote(string(k))) }

// UnmarshalGQL reads k from a GraphQL enum value (gqlgen's graphql.Unmarshaler).
func (k *KeyProtection) UnmarshalGQL(v any) error {
	s, ok := v.(string)
	if !ok || !KeyProtection(s).Valid() {
		return fmt.Errorf("%v is not a key protection", v)
	}
	*k = KeyProtection(s)
	return nil
}
