package handoff

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/vscard/vscard/desktop-bridge/api"
)

// GetVirtualSmartCard is the symbolic name of the process that makes a new card.
const GetVirtualSmartCard = "get-virtual-smart-card"

// Processes returns the Desktop App's handlers, keyed by the symbolic name of the
// process each carries out, as the server names it in the link and the claim. This is
// the one list to extend when a process gains a desktop side (see the package doc).
func Processes() Registry {
	return Registry{
		GetVirtualSmartCard: func() Handler { return &getCard{} },
		ChangePINProcess:    func() Handler { return &changePIN{} },
		ResetPIN:            func() Handler { return &resetPIN{} },
		RenewCard:           newRenewal,
		IssueCertificates:   newAddCertificates,
		ReplaceCard:         func() Handler { return &replaceCard{} },
	}
}

// Registry maps a process's symbolic name to a constructor of its handler. Run makes
// one handler per run, so a handler keeps what it did in its own fields for Undo.
type Registry map[string]func() Handler

// Handler carries out one process on this desktop once Run has checked the server,
// claimed the order and confirmed that the server's process is the link's.
//
// Run owns everything around it: the trust check, the claim, watching the order,
// Cancel on the PIN page, telling the server why a run failed or was cancelled, and the
// Final event. A handler does only its own steps, through Job.
type Handler interface {
	// Run does the process's work for the claimed order and returns what the person
	// is shown at the end. ctx ends when the order ends on the server or the person
	// cancels; an error after that is replaced with the reason. Run reports its steps
	// with Job.Notify (StepClaimed and the final steps are the runner's).
	Run(ctx context.Context, job *Job) (*Result, error)
	// Undo takes back on the desktop what Run did, as far as it got: called when Run
	// fails, when the run fails after Run returned, and when the order ends on the
	// server (cancelled at the last step, expired) before the person finished it in
	// the portal, as the server then takes back its part. It may be called more than
	// once and must not block long (the run's clean-up and agent shutdown wait for it).
	Undo(job *Job) error
}

// Job is one claimed order, and what a handler uses to carry it out.
type Job struct {
	// Link is the hand-off link; Link.Process is the claim's process.
	Link Link
	// Claim is the server's answer to the claim: the order, the card setup (serial,
	// PIN policy, PUK, management key, certificates to make).
	Claim *api.Claim
	// Session calls the server as this order's bridge session.
	Session *api.Client
	// Prompter asks the person: the PIN page, or `open --pin-stdin`.
	Prompter Prompter
	// Cards creates, resets and deletes the virtual cards.
	Cards CardHost
	// Log receives the handler's steps, never a secret.
	Log *slog.Logger

	cfg     *Config
	claimed time.Time
}

// Notify reports a step of the run to Config.Notify.
func (j *Job) Notify(ev Event) {
	if j.cfg.Notify != nil {
		ev.At = time.Now()
		j.cfg.Notify(ev)
	}
}

// Since returns the time since the claim.
func (j *Job) Since() time.Duration { return time.Since(j.claimed) }

// ClaimInfo is what the PIN page shows about the claimed order.
func (j *Job) ClaimInfo() ClaimInfo {
	p := pinPolicy(j.Claim.Card.PinPolicy)
	return ClaimInfo{
		Server: j.Link.Server, Order: j.Link.Order, Process: j.Link.Process, UserName: j.Claim.UserName,
		VerificationCode: j.Claim.VerificationCode, CardSerial: j.Claim.Card.Serial,
		PINPolicy: p, Rules: PolicyRules(p),
	}
}

// AskPIN asks in mode until the answer meets the order's PIN policy (CheckPIN), and
// reports StepPINAccepted.
func (j *Job) AskPIN(ctx context.Context, mode PINMode) (PINAnswer, error) {
	return j.askPIN(ctx, mode, nil)
}

// askPIN is AskPIN with the problems of an answer the card refused (a wrong current PIN)
// shown with the first question.
func (j *Job) askPIN(ctx context.Context, mode PINMode, problems []Problem) (PINAnswer, error) {
	policy := pinPolicy(j.Claim.Card.PinPolicy)
	req := PINRequest{Mode: mode, Claim: j.ClaimInfo(), Problems: problems}
	for {
		a, err := j.Prompter.AskPIN(ctx, req)
		if err != nil {
			return PINAnswer{}, fmt.Errorf("ask for PIN: %w", err)
		}
		req.Problems = CheckPIN(mode, policy, a)
		if len(req.Problems) == 0 {
			j.Log.Info("PIN accepted", "mode", mode)
			j.Notify(Event{Step: StepPINAccepted})
			return a, nil
		}
		// Which rules, not the PIN: the log must not help guess it.
		j.Log.Info("PIN refused", "mode", mode, "problems", len(req.Problems))
	}
}

// openPIV opens the card with serial in reader through PC/SC (piv-go), waiting up to
// Config.CardTimeout for pcscd to see a card just inserted.
func (j *Job) openPIV(ctx context.Context, reader string, serial uint32) (*pivCard, error) {
	return openCard(ctx, reader, serial, j.cfg.CardTimeout)
}

// Device describes this desktop to the server.
func (j *Job) Device(reader, firmware string) api.DeviceInput {
	if reader == "" {
		reader = "vscard virtual card"
	}
	d := api.DeviceInput{Reader: reader}
	if j.cfg.Host != "" {
		d.Host = ptr(j.cfg.Host)
	}
	if j.cfg.Version != "" {
		d.BridgeVersion = ptr(j.cfg.Version)
	}
	if firmware != "" {
		d.Firmware = ptr(firmware)
	}
	return d
}
