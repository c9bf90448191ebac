package enroll

import (
	"context"
	"errors"
	"time"

	"github.com/vscard/vscard/server/cardspec"
)

// Prompter asks the person at the desktop. The PIN page (desktop-bridge/pinpage) is
// one; the agent's control endpoint relays another to `vscard-bridge open --pin-stdin`.
type Prompter interface {
	// ConfirmTrust asks whether to trust a server that is not on the trusted list yet.
	ConfirmTrust(ctx context.Context, server string) (bool, error)
	// AskPIN asks for the card's new PIN. req.Problems says why the previous one was
	// refused. It returns ErrCancelled when the person cancels.
	AskPIN(ctx context.Context, req PINRequest) (string, error)
	// Cancelled is closed when the person cancels at any point of the enrolment.
	Cancelled() <-chan struct{}
}

// PINRequest is what a PIN prompt shows.
type PINRequest struct {
	Claim ClaimInfo
	// Problems are the messages of the rules the previous PIN broke, one per rule.
	Problems []string
}

// ClaimInfo is what the person sees once the order is claimed: enough to recognise the
// order (the verification code the portal shows too) and the rules for the PIN.
type ClaimInfo struct {
	Server           string
	Order            string
	UserName         string
	VerificationCode string
	CardSerial       string
	PINPolicy        cardspec.PINPolicy
	// Rules are the PIN policy in words, one per line, for the prompt.
	Rules []string
}

// Step names a point of the enrolment that Notify reports.
type Step string

// The steps, in order, and the three ways an enrolment ends.
const (
	StepClaimed      Step = "claimed"       // the order is ours; Event.Claim is set
	StepPINAccepted  Step = "pin_accepted"  // the PIN meets the policy
	StepCardCreated  Step = "card_created"  // the virtual card exists and is in its reader
	StepCardSecured  Step = "card_secured"  // management key, PUK, PIN and retries set
	StepKeysCreated  Step = "keys_created"  // one key per certificate generated on the card
	StepCertsIssued  Step = "certs_issued"  // the server issued the certificates
	StepCertsStored  Step = "certs_stored"  // the certificates are on the card
	StepDone         Step = "done"          // the server knows the card is ready; Event.Result is set
	StepFailed       Step = "failed"        // Event.Error says why; nothing is left behind
	StepCancelled    Step = "cancelled"     // cancelled here or in the portal
	stepTrustChecked Step = "trust_checked" // internal: logged only
)

// Event is one report of an enrolment's progress.
type Event struct {
	Step   Step       `json:"step"`
	At     time.Time  `json:"at"`
	Claim  *ClaimInfo `json:"claim,omitempty"`
	Result *Result    `json:"result,omitempty"`
	// Error is a message a person can act on (StepFailed, StepCancelled).
	Error string `json:"error,omitempty"`
}

// Result describes the finished card.
type Result struct {
	Server       string        `json:"server"`
	Order        string        `json:"order"`
	UserName     string        `json:"userName"`
	Serial       string        `json:"serial"`
	Reader       string        `json:"reader"`
	ValidUntil   time.Time     `json:"validUntil"`
	Certificates []Certificate `json:"certificates"`
	// Duration is the time from the claim to the server's CARD_READY.
	Duration time.Duration `json:"duration"`
}

// Certificate is one certificate on the finished card.
type Certificate struct {
	Slot     string    `json:"slot"`
	Template string    `json:"template"`
	Serial   string    `json:"serial"`
	Subject  string    `json:"subject"`
	NotAfter time.Time `json:"notAfter"`
	PEM      string    `json:"pem"`
}

// Errors of an enrolment, checked with errors.Is.
var (
	// ErrCancelled: the person cancelled in the Desktop App.
	ErrCancelled = errors.New("cancelled in the Desktop App")
	// ErrCancelledByServer: the order ended on the server (cancelled in the portal,
	// failed or expired) while the bridge was working on it.
	ErrCancelledByServer = errors.New("the order was ended in the portal")
	// ErrSessionEnded: the server no longer accepts the bridge session, which ends with
	// its order, so the order is over there.
	ErrSessionEnded = errors.New("the order is over on the server")
	// ErrUntrusted: the server is not on the trusted list and nobody trusted it.
	ErrUntrusted = errors.New("server is not trusted")
)
