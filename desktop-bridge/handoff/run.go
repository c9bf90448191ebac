package handoff

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/vscard/vscard/desktop-bridge/api"
)

// CardHost creates and removes the virtual cards the processes work on.
type CardHost interface {
	// CreateCard makes a fresh virtual card with the serial, inserts it into a reader and
	// returns the reader's PC/SC name once PC/SC clients can use the card.
	CreateCard(ctx context.Context, serial uint32) (reader string, err error)
	// ResetCard resets the card as taking it out and putting it back would: it forgets
	// that the PIN was verified and the management key authenticated. piv-go leaves
	// the card with both when it disconnects, and the enrolment must not hand over a
	// card that signs without the PIN.
	ResetCard(serial uint32) error
	// DeleteCard removes the card from its reader and deletes it.
	DeleteCard(serial uint32) error
	// CardReader returns the PC/SC name of the reader that holds the card, for the
	// processes that act on a card this desktop already has (change-pin, unblock,
	// renew, ...); an error wrapping vcard.ErrNotFound when no reader holds it.
	CardReader(serial uint32) (string, error)
	// MoveKey moves the private key of slot from to slot to on the card (to 0xFF
	// deletes it), as a YubiKey 5.7's MOVE KEY does; the slots' certificates stay. A
	// renewal makes its new keys in retired slots and moves them into place only once
	// their certificates exist (renew.go).
	MoveKey(serial uint32, from, to byte) error
}

// ReaderCounter is a CardHost that knows how many of its readers are free, so that a
// process that makes a card refuses before it asks for a PIN when none is.
type ReaderCounter interface {
	FreeReaders() int
}

// Config is what a run needs besides the link.
type Config struct {
	// Trust decides which servers may hand processes to this desktop. Required.
	Trust TrustStore
	// TrustWithoutAsking puts an unknown server on the trusted list without asking
	// (vscard-bridge open --trust).
	TrustWithoutAsking bool
	// Prompter asks for trust and PINs. Required.
	Prompter Prompter
	// Notify, when set, receives every step. It must not block.
	Notify func(Event)
	// Cards creates and deletes the virtual card. Required.
	Cards CardHost
	// HTTPClient talks to the server; nil means http.DefaultClient.
	HTTPClient *http.Client
	// Host and Version describe this device to the server.
	Host, Version string
	// Logger receives each step, never a secret; nil means slog.Default().
	Logger *slog.Logger
	// CardTimeout bounds how long a new card may take to appear in its reader
	// (default 20s).
	CardTimeout time.Duration
	// Tasks owns the work a run leaves running after Run has returned successfully:
	// following the order until the person finishes it in the portal, and the
	// handler's Undo if it is cancelled or expires first. The owner cancels Run's
	// context and waits for Tasks before it closes the card host; it must not start
	// waiting before Run has returned unless Run itself runs under Tasks (the agent's
	// enrolments do), as sync.WaitGroup requires. Without Tasks, Run does not follow
	// the order once the handler is done.
	Tasks *sync.WaitGroup
	// Handlers are the processes this Desktop App carries out; nil means Processes().
	Handlers Registry
}

// Run carries out the process the link names: it finds the process's handler (an
// unknown process is refused before anything else, with CodeUnknownProcess), checks
// that the server is trusted, claims the order, checks that the server's process is the
// link's (CodeProcessMismatch), and hands the claimed order to the handler. Meanwhile it
// watches the order: if the order ends on the server (cancelled in the portal), or the
// person cancels here, Run stops. Whenever Run fails after the claim, the handler undoes
// its work on the desktop and, unless the server ended the order itself, the server is
// told why.
func Run(ctx context.Context, cfg Config, link Link) (*Result, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = http.DefaultClient
	}
	if cfg.CardTimeout == 0 {
		cfg.CardTimeout = 20 * time.Second
	}
	if cfg.Handlers == nil {
		cfg.Handlers = Processes()
	}
	r := &run{cfg: cfg, link: link, log: cfg.Logger.With("server", link.Server, "order", link.Order, "process", link.Process)}
	res, err := r.run(ctx)
	switch {
	case err == nil:
		r.notify(Event{Step: StepDone, Result: res})
	case errors.Is(err, ErrCancelled), errors.Is(err, ErrCancelledByServer), errors.Is(err, ErrSessionEnded):
		// An order the server ended (its session ends with it) was cancelled, not failed here.
		r.log.Info("run cancelled", "reason", err)
		r.notify(Event{Step: StepCancelled, Error: Describe(err), Code: CodeOf(err)})
	default:
		r.log.Warn("run failed", "err", err)
		r.notify(Event{Step: StepFailed, Error: Describe(err), Code: WordsCodeOf(err), ServerCode: string(api.Code(err))})
	}
	return res, err
}

// run is the state of one Run.
type run struct {
	cfg  Config
	link Link
	log  *slog.Logger

	handler Handler
	job     *Job // after the claim
}

func (r *run) run(parent context.Context) (res *Result, err error) {
	newHandler, ok := r.cfg.Handlers[r.link.Process]
	if !ok {
		// Before the trust question and the claim: the order stays as it is on the
		// server, for a Desktop App that knows the process.
		return nil, &Error{Code: CodeUnknownProcess, Detail: fmt.Sprintf("no handler for process %q", r.link.Process)}
	}
	if err := r.checkTrust(parent); err != nil {
		return nil, err
	}
	if err := r.claimOrder(parent); err != nil {
		return nil, err
	}
	if got := r.job.Claim.Process; got != r.link.Process {
		// The server is the authority on its order; a link that disagrees was not made
		// by it for this order, so nothing is done and the order is failed.
		return nil, r.cleanUp(parent, &Error{Code: CodeProcessMismatch,
			Detail: fmt.Sprintf("the link names process %q, the server's order runs %q", r.link.Process, got)})
	}
	r.handler = newHandler()

	// From here on the order is ours: whatever ends the run early ends the order too.
	ctx, cancel := context.WithCancelCause(parent)
	defer cancel(nil)

	// One subscription follows the order from the claim to its end. Until the handler
	// is done, an end on the server cancels the run; after it, the follower has the
	// handler undo its work if the order is cancelled or expires before the person
	// finishes it in the portal. Keeping the subscription that was open all along
	// matters: the bridge session ends with the order, so a subscription opened after a
	// cancel could no longer learn how the order ended.
	// done and the end are decided under one lock: an end either cancels the run or,
	// once the handler is done, is left to the follower's Undo; never neither.
	var mu sync.Mutex
	var done bool
	var endedAfterDone error
	onEnd := func(cause error) {
		mu.Lock()
		defer mu.Unlock()
		if !done {
			cancel(cause)
		} else if endedAfterDone == nil {
			endedAfterDone = cause
		}
	}
	followCtx, stopFollow := context.WithDeadline(parent, r.job.Claim.SessionExpiresAt)
	follower := make(chan struct{})
	listening := make(chan struct{})
	var listenOnce sync.Once
	go func() {
		defer close(follower)
		r.watchOrder(followCtx, onEnd, func() { listenOnce.Do(func() { close(listening) }) })
	}()
	// The prompter's Cancel matters until the run ends; run waits for its goroutine
	// (deferred calls run last in, first out: stopPrompt, then Wait).
	var prompt sync.WaitGroup
	defer prompt.Wait()
	promptCtx, stopPrompt := context.WithCancel(ctx)
	defer stopPrompt()
	prompt.Go(func() {
		select {
		case <-r.cfg.Prompter.Cancelled():
			cancel(ErrCancelled)
		case <-promptCtx.Done():
		}
	})
	defer func() {
		if err != nil || r.cfg.Tasks == nil {
			stopFollow()
			<-follower
			return
		}
		// Handed over: Tasks owns the follower from here on.
		r.cfg.Tasks.Go(func() {
			defer stopFollow()
			<-follower
			r.undoIfEnded(endedAfterDone)
		})
	}()
	defer func() {
		if err != nil {
			err = r.cleanUp(ctx, r.undo(err))
		}
	}()

	res, err = r.handler.Run(ctx, r.job)
	if err != nil {
		return nil, r.cause(ctx, err)
	}
	if res != nil && res.PINPolicy == nil && r.job.Claim.Card.PinPolicy.MinLength > 0 {
		// The PIN rules the server gave with the claim: the Desktop App keeps them with
		// the card to check a PIN chosen without the portal.
		p := pinPolicy(r.job.Claim.Card.PinPolicy)
		res.PINPolicy = &p
	}
	// The handler is done, but the order is not finished until the person clicks Next
	// in the portal; until then it can still be cancelled or expire. Only a follower
	// that is listening can tell: a subscription opened after the order ended finds the
	// bridge session gone and could not say how the order ended. The handler's work
	// (a person choosing a PIN, at least) hides the wait.
	select {
	case <-listening:
	case <-ctx.Done():
	}
	mu.Lock()
	done = true
	endedBefore := ctx.Err() != nil // on the server, or cancelled here, just before done
	mu.Unlock()
	if endedBefore {
		return nil, r.cause(ctx, context.Cause(ctx))
	}
	return res, nil
}

func (r *run) checkTrust(ctx context.Context) error {
	ok, err := r.cfg.Trust.Trusted(r.link.Server)
	if err != nil {
		return fmt.Errorf("check trusted servers: %w", err)
	}
	if !ok {
		switch {
		case r.cfg.TrustWithoutAsking:
			r.log.Info("trusting server as told")
		default:
			yes, err := r.cfg.Prompter.ConfirmTrust(ctx, r.link.Server)
			if err != nil {
				return fmt.Errorf("ask whether to trust %s: %w", r.link.Server, err)
			}
			if !yes {
				return fmt.Errorf("%w: %s is not on the list of trusted servers; trust it on the PIN page or run `vscard-bridge open --trust`", ErrUntrusted, r.link.Server)
			}
		}
		if err := r.cfg.Trust.Trust(r.link.Server); err != nil {
			return fmt.Errorf("remember trusted server: %w", err)
		}
	}
	r.log.Debug("server trusted", "step", stepTrustChecked)
	return nil
}

func (r *run) claimOrder(ctx context.Context) error {
	c, err := api.New(r.link.Server, r.cfg.HTTPClient)
	if err != nil {
		return err
	}
	job := &Job{Link: r.link, Prompter: r.cfg.Prompter, Cards: r.cfg.Cards, cfg: &r.cfg, claimed: time.Now()}
	resp, err := api.ClaimOrder(ctx, c.GraphQL(), r.link.Order, r.link.Token, job.Device("", ""))
	if err != nil {
		return fmt.Errorf("claim order: %w", err)
	}
	cl := resp.ClaimOrder
	job.Claim, job.Session, job.Log = &cl, c.WithSession(cl.SessionToken), r.log
	r.job = job
	r.log.Info("order claimed", "state", cl.Order.State, "serverProcess", cl.Process, "certificates", len(cl.Card.Certificates))
	info := job.ClaimInfo()
	r.notify(Event{Step: StepClaimed, Claim: &info})
	return nil
}

// undo has the handler take back what it did on the desktop after runErr, and returns
// runErr with the undo's failure, if any.
func (r *run) undo(runErr error) error {
	if r.handler == nil {
		return runErr
	}
	if err := r.handler.Undo(r.job); err != nil {
		r.log.Error("undo on the desktop", "err", err)
		return errors.Join(runErr, fmt.Errorf("undo on the desktop: %w", err))
	}
	return runErr
}

// cause prefers the reason the run's context was cancelled (portal cancel, Cancel
// button) over the error it caused in whatever was running.
// A refusal with ILLEGAL_STATE usually means the same: the order ended meanwhile and
// the subscription has not said so yet; the order is read to tell.
func (r *run) cause(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		if c := context.Cause(ctx); c != nil && !errors.Is(c, context.Canceled) {
			return c
		}
	}
	if api.Code(err) == api.ErrorCodeIllegalState {
		qctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if o, qerr := api.Order(qctx, r.job.Session.GraphQL(), r.link.Order); qerr == nil && o.Order != nil && finalStates[o.Order.State] {
			return fmt.Errorf("%w (%s)", ErrCancelledByServer, o.Order.State)
		}
	}
	return err
}

func (r *run) notify(ev Event) {
	if r.cfg.Notify != nil {
		ev.At = time.Now()
		r.cfg.Notify(ev)
	}
}

func ptr[T any](v T) *T { return &v }
