package handoff

import (
	"context"
	"time"

	"github.com/vscard/vscard/server/cardspec"
)

// Prompter asks the person at the desktop. The PIN page (desktop-bridge/pinpage) is
// one; the agent's control endpoint relays another to `vscard-bridge open --pin-stdin`.
type Prompter interface {
	// ConfirmTrust asks whether to trust a server that is not on the trusted list yet.
	ConfirmTrust(ctx context.Context, server string) (bool, error)
	// AskPIN asks for PINs as req.Mode says. req.Problems says why the previous answer
	// was refused. It returns ErrCancelled when the person cancels. A prompter may
	// refuse a form itself (CheckPIN) before answering; Job.AskPIN checks again.
	AskPIN(ctx context.Context, req PINRequest) (PINAnswer, error)
	// Cancelled is closed when the person cancels at any point of the run.
	Cancelled() <-chan struct{}
}

// PINMode is what a PIN prompt asks for: the PIN page is one form with these modes.
type PINMode string

// The PIN prompt's modes. Every mode takes the new PIN twice and checks it against the
// order's PIN policy.
const (
	// PINChoose: a new card's first PIN (get-virtual-smart-card).
	PINChoose PINMode = "choose"
	// PINChange: the current PIN, then the new one (change-pin). The current PIN is
	// not checked against the policy: it may date from an older one.
	PINChange PINMode = "change"
	// PINUnblock: a new PIN for a card whose PIN was reset with the PUK (unblock,
	// reset-pin). The PUK comes from the server and is never shown or asked for.
	PINUnblock PINMode = "unblock"
	// PINVerify: the card's current PIN, once, to use the new keys a renewal or added
	// certificates make on a card the person has (their CSRs are signed on the card).
	// Only the card checks it: the PIN may date from an older policy.
	PINVerify PINMode = "verify"
)

// PINModes lists the modes, for checks that each has its words.
var PINModes = []PINMode{PINChoose, PINChange, PINUnblock, PINVerify}

// PINRequest is what a PIN prompt shows.
type PINRequest struct {
	// Mode is what to ask for; "" means PINChoose.
	Mode  PINMode
	Claim ClaimInfo
	// Problems say why the previous answer was refused, one per broken rule.
	Problems []Problem
}

// PINAnswer is what the person typed. Current is set in PINChange mode only; in
// PINVerify mode New holds the card's PIN.
type PINAnswer struct {
	Current string
	New     string
}

// Problem is one reason a PIN answer was refused: a code (a policy rule of
// cardspec.Violation, or a Problem* code) and its words.
type Problem struct {
	Code    Code
	Message string
	// Tries is the card's PIN tries left, for ProblemCurrentWrong: the PIN page words
	// a problem from its code and this, never from Message.
	Tries int
}

// ClaimInfo is what the person sees once the order is claimed: enough to recognise the
// order (the verification code the portal shows too) and the rules for the PIN.
type ClaimInfo struct {
	Server           string
	Order            string
	Process          string
	UserName         string
	VerificationCode string
	CardSerial       string
	PINPolicy        cardspec.PINPolicy
	// Rules are the PIN policy in words, one per line, for the prompt.
	Rules []string
}

// Step names a point of a run that Notify reports. A handler may report the steps that
// fit its process; the final three are the runner's.
type Step string

// The steps, in get-virtual-smart-card's order, and the three ways a run ends.
const (
	StepClaimed      Step = "claimed"       // the order is ours; Event.Claim is set
	StepPINAccepted  Step = "pin_accepted"  // the PIN meets the policy
	StepCardCreated  Step = "card_created"  // the virtual card exists and is in its reader
	StepCardSecured  Step = "card_secured"  // management key, PUK, PIN and retries set
	StepKeysCreated  Step = "keys_created"  // one key per certificate generated on the card
	StepCertsIssued  Step = "certs_issued"  // the server issued the certificates
	StepCertsStored  Step = "certs_stored"  // the certificates are on the card
	StepPINChanged   Step = "pin_changed"   // change-pin: the card took the new PIN
	StepPINVerified  Step = "pin_verified"  // renew, add certificates: the card took the PIN
	StepDone         Step = "done"          // the handler is done (a new card: the server knows it is ready); Event.Result is set
	StepFailed       Step = "failed"        // Event.Error says why; nothing is left behind
	StepCancelled    Step = "cancelled"     // cancelled here or in the portal
	stepTrustChecked Step = "trust_checked" // internal: logged only
)

// Event is one report of a run's progress.
type Event struct {
	Step   Step       `json:"step"`
	At     time.Time  `json:"at"`
	Claim  *ClaimInfo `json:"claim,omitempty"`
	Result *Result    `json:"result,omitempty"`
	// Error is a message a person can act on (StepFailed, StepCancelled).
	Error string `json:"error,omitempty"`
	// Code is the code of the refusal a person gets words for (WordsCodeOf: the Desktop
	// App's own, or the server's reason for refusing TPM evidence), when it has one, for a
	// client that shows its own words.
	Code Code `json:"code,omitempty"`
	// ServerCode is the server's error code (api.ErrorCode) of a refusal by the
	// server, for the same purpose.
	ServerCode string `json:"serverCode,omitempty"`
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
	// PINPolicy is the PIN policy the server gave with the claim (the option script's at
	// that time), which the Desktop App keeps with the card's record.
	PINPolicy *cardspec.PINPolicy `json:"pinPolicy,omitempty"`
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

// Errors of a run, checked with errors.Is; each has a Code, so a person reads its
// words (Describe), not the state or server it was wrapped with for the log.
var (
	// ErrCancelled: the person cancelled in the Desktop App.
	ErrCancelled = &Error{Code: CodeCancelled}
	// ErrCancelledByServer: the order ended on the server (cancelled in the portal,
	// failed or expired) while the bridge was working on it.
	ErrCancelledByServer = &Error{Code: CodeOrderEnded}
	// ErrSessionEnded: the server no longer accepts the bridge session, which ends with
	// its order, so the order is over there.
	ErrSessionEnded = &Error{Code: CodeSessionEnded}
	// ErrUntrusted: the server is not on the trusted list and nobody trusted it.
	ErrUntrusted = &Error{Code: CodeUntrusted}
)
