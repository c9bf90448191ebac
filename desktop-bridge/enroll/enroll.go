package enroll

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vscard/vscard/desktop-bridge/api"
)

// CardHost creates and removes the virtual cards an enrolment works on.
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
}

// Config is what an enrolment needs besides the hand-off.
type Config struct {
	// Trust decides which servers may enrol cards. Required.
	Trust TrustStore
	// TrustWithoutAsking puts an unknown server on the trusted list without asking
	// (vscard-bridge open --trust).
	TrustWithoutAsking bool
	// Prompter asks for trust and the PIN. Required.
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
	// Tasks owns the work an enrolment leaves running after Run has returned with a
	// ready card: following the order until the person finishes it in the portal, and
	// deleting the card if it is cancelled or expires first. The owner cancels Run's
	// context and waits for Tasks before it closes the card host; it must not start
	// waiting before Run has returned unless Run itself runs under Tasks (the agent's
	// enrolments do), as sync.WaitGroup requires. Without Tasks, Run does not follow
	// the order once the card is ready.
	Tasks *sync.WaitGroup
}

// Run enrols one card for the hand-off: it checks that the server is trusted, claims
// the order, asks for a PIN that meets the order's policy, creates the virtual card,
// personalises it with piv-go through PC/SC, has the server issue the certificates and
// stores them on the card. Meanwhile it watches the order: if the order ends on the
// server (cancelled in the portal), or the person cancels here, Run stops. Whenever Run
// fails after the claim, it deletes the unfinished card and, unless the server ended
// the order itself, tells the server why.
func Run(ctx context.Context, cfg Config, h Handoff) (*Result, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = http.DefaultClient
	}
	if cfg.CardTimeout == 0 {
		cfg.CardTimeout = 20 * time.Second
	}
	e := &enrolment{cfg: cfg, h: h, log: cfg.Logger.With("server", h.Server, "order", h.Order)}
	res, err := e.run(ctx)
	switch {
	case err == nil:
		e.notify(Event{Step: StepDone, Result: res})
	case errors.Is(err, ErrCancelled), errors.Is(err, ErrCancelledByServer), errors.Is(err, ErrSessionEnded):
		// An order the server ended (its session ends with it) was cancelled, not failed here.
		e.log.Info("enrolment cancelled", "reason", err)
		e.notify(Event{Step: StepCancelled, Error: Describe(err)})
	default:
		e.log.Warn("enrolment failed", "err", err)
		e.notify(Event{Step: StepFailed, Error: Describe(err)})
	}
	return res, err
}

// enrolment is the state of one Run.
type enrolment struct {
	cfg Config
	h   Handoff
	log *slog.Logger

	session *api.Client // after the claim
	claim   *api.Claim
	serial  uint32
	created bool // the virtual card exists
	started time.Time
}

func (e *enrolment) run(parent context.Context) (res *Result, err error) {
	if err := e.checkTrust(parent); err != nil {
		return nil, err
	}
	if err := e.claimOrder(parent); err != nil {
		return nil, err
	}

	// From here on the order is ours: whatever ends the run early ends the order too.
	ctx, cancel := context.WithCancelCause(parent)
	defer cancel(nil)

	// One subscription follows the order from the claim to its end. Until the card is
	// ready, an end on the server cancels the run; after it, the follower deletes the card
	// if the order is cancelled or expires before the person finishes it in the portal.
	// Keeping the subscription that was open all along matters: the bridge session ends
	// with the order, so a subscription opened after a cancel could no longer learn how
	// the order ended.
	var ready atomic.Bool
	var endedAfterReady error
	var once sync.Once
	onEnd := func(cause error) {
		if ready.Load() {
			once.Do(func() { endedAfterReady = cause })
			return
		}
		cancel(cause)
	}
	followCtx, stopFollow := context.WithDeadline(parent, e.claim.SessionExpiresAt)
	follower := make(chan struct{})
	go func() {
		defer close(follower)
		e.watchOrder(followCtx, onEnd)
	}()
	// The prompter's Cancel matters until the run ends; run waits for its goroutine
	// (deferred calls run last in, first out: stopPrompt, then Wait).
	var prompt sync.WaitGroup
	defer prompt.Wait()
	promptCtx, stopPrompt := context.WithCancel(ctx)
	defer stopPrompt()
	prompt.Go(func() {
		select {
		case <-e.cfg.Prompter.Cancelled():
			cancel(ErrCancelled)
		case <-promptCtx.Done():
		}
	})
	defer func() {
		if err != nil || e.cfg.Tasks == nil {
			stopFollow()
			<-follower
			return
		}
		// Handed over: Tasks owns the follower from here on.
		e.cfg.Tasks.Go(func() {
			defer stopFollow()
			<-follower
			e.deleteIfEnded(endedAfterReady)
		})
	}()
	defer func() {
		if err != nil {
			err = e.cleanUp(ctx, err)
		}
	}()

	pin, err := e.askPIN(ctx)
	if err != nil {
		return nil, e.cause(ctx, err)
	}
	res, err = e.build(ctx, pin)
	if err != nil {
		return nil, e.cause(ctx, err)
	}
	// The card is ready, but the order is not finished until the person clicks Next in the
	// portal; until then it can still be cancelled or expire.
	ready.Store(true)
	if ctx.Err() != nil { // ended on the server, or cancelled here, just before ready
		return nil, e.cause(ctx, context.Cause(ctx))
	}
	return res, nil
}

func (e *enrolment) checkTrust(ctx context.Context) error {
	ok, err := e.cfg.Trust.Trusted(e.h.Server)
	if err != nil {
		return fmt.Errorf("check trusted servers: %w", err)
	}
	if !ok {
		switch {
		case e.cfg.TrustWithoutAsking:
			e.log.Info("trusting server as told")
		default:
			yes, err := e.cfg.Prompter.ConfirmTrust(ctx, e.h.Server)
			if err != nil {
				return fmt.Errorf("ask whether to trust %s: %w", e.h.Server, err)
			}
			if !yes {
				return fmt.Errorf("%w: %s is not on the list of trusted servers; trust it on the PIN page or run `vscard-bridge open --trust`", ErrUntrusted, e.h.Server)
			}
		}
		if err := e.cfg.Trust.Trust(e.h.Server); err != nil {
			return fmt.Errorf("remember trusted server: %w", err)
		}
	}
	e.log.Debug("server trusted", "step", stepTrustChecked)
	return nil
}

func (e *enrolment) claimOrder(ctx context.Context) error {
	c, err := api.New(e.h.Server, e.cfg.HTTPClient)
	if err != nil {
		return err
	}
	e.started = time.Now()
	resp, err := api.ClaimOrder(ctx, c.GraphQL(), e.h.Order, e.h.Token, e.device("", ""))
	if err != nil {
		return fmt.Errorf("claim order: %w", err)
	}
	cl := resp.ClaimOrder
	serial, err := strconv.ParseUint(cl.Card.Serial, 10, 32)
	if err != nil {
		// The order is claimed; without a usable serial it cannot go on.
		e.session, e.claim = c.WithSession(cl.SessionToken), &cl
		return e.cleanUp(ctx, fmt.Errorf("claim order: card serial %q is not a PIV serial", cl.Card.Serial))
	}
	e.session, e.claim, e.serial = c.WithSession(cl.SessionToken), &cl, uint32(serial)
	e.log = e.log.With("card", cl.Card.Serial)
	e.log.Info("order claimed", "state", cl.Order.State, "certificates", len(cl.Card.Certificates))
	info := e.claimInfo()
	e.notify(Event{Step: StepClaimed, Claim: &info})
	return nil
}

func (e *enrolment) claimInfo() ClaimInfo {
	p := pinPolicy(e.claim.Card.PinPolicy)
	return ClaimInfo{
		Server: e.h.Server, Order: e.h.Order, UserName: e.claim.UserName,
		VerificationCode: e.claim.VerificationCode, CardSerial: e.claim.Card.Serial,
		PINPolicy: p, Rules: PolicyRules(p),
	}
}

// askPIN asks until the PIN meets every rule of the policy.
func (e *enrolment) askPIN(ctx context.Context) (string, error) {
	policy := pinPolicy(e.claim.Card.PinPolicy)
	req := PINRequest{Claim: e.claimInfo()}
	for {
		pin, err := e.cfg.Prompter.AskPIN(ctx, req)
		if err != nil {
			return "", fmt.Errorf("ask for PIN: %w", err)
		}
		req.Problems = CheckPIN(policy, pin)
		if len(req.Problems) == 0 {
			e.log.Info("PIN accepted")
			e.notify(Event{Step: StepPINAccepted})
			return pin, nil
		}
		// Which rules, not the PIN: the log must not help guess it.
		e.log.Info("PIN refused by the policy", "rules", len(req.Problems))
	}
}

// build creates and personalises the card and gets its certificates.
func (e *enrolment) build(ctx context.Context, pin string) (*Result, error) {
	card := e.claim.Card
	mgmtKey, err := hex.DecodeString(card.ManagementKey)
	if err != nil || len(mgmtKey) != 24 {
		return nil, errors.New("read card setup: the management key is not 24 bytes of hex")
	}
	gql := e.session.GraphQL()
	if _, err := api.ReportCardCreation(ctx, gql, e.h.Order, ptr("creating virtual card "+card.Serial)); err != nil {
		return nil, fmt.Errorf("report card creation: %w", err)
	}

	e.created = true // from now on a card may exist: clean-up deletes it
	reader, err := e.cfg.Cards.CreateCard(ctx, e.serial)
	if err != nil {
		return nil, fmt.Errorf("create card: %w", err)
	}
	e.log.Info("card created", "reader", reader)
	e.notify(Event{Step: StepCardCreated})

	c, err := openCard(ctx, reader, e.serial, e.cfg.CardTimeout)
	if err != nil {
		return nil, err
	}
	defer func() {
		c.close()
		if err := e.cfg.Cards.ResetCard(e.serial); err != nil {
			e.log.Warn("reset card", "err", err)
		}
	}()
	if err := c.secure(mgmtKey, card.Puk, pin, card.PinPolicy.RetryCount); err != nil {
		return nil, err
	}
	e.log.Info("card secured", "pinRetries", card.PinPolicy.RetryCount)
	e.notify(Event{Step: StepCardSecured})
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	keys, err := c.generateKeys(mgmtKey, pin, card.Certificates, card.Properties.CommonName)
	if err != nil {
		return nil, err
	}
	e.log.Info("keys generated", "slots", len(keys))
	e.notify(Event{Step: StepKeysCreated})
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	sub, err := api.SubmitCardKeys(ctx, gql, e.h.Order, keys)
	if err != nil {
		return nil, fmt.Errorf("submit card keys: %w", err)
	}
	issued := sub.SubmitCardKeys
	e.log.Info("certificates issued", "count", len(issued))
	e.notify(Event{Step: StepCertsIssued})

	if err := c.storeCertificates(mgmtKey, issued); err != nil {
		return nil, err
	}
	e.log.Info("certificates stored")
	e.notify(Event{Step: StepCertsStored})
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	v := c.version
	firmware := fmt.Sprintf("%d.%d.%d", v.Major, v.Minor, v.Patch)
	if _, err := api.ConfirmCardReady(ctx, gql, e.h.Order, card.Serial, e.device(reader, firmware)); err != nil {
		return nil, fmt.Errorf("confirm card ready: %w", err)
	}
	took := time.Since(e.started)
	e.log.Info("card ready", "took", took.Round(time.Millisecond))

	res := &Result{
		Server: e.h.Server, Order: e.h.Order, UserName: e.claim.UserName, Serial: card.Serial,
		Reader: reader, ValidUntil: card.ValidUntil, Duration: took,
	}
	for _, ic := range issued {
		res.Certificates = append(res.Certificates, Certificate{
			Slot: ic.Slot, Template: string(ic.Template), Serial: ic.Serial,
			Subject: ic.Subject, NotAfter: ic.NotAfter, PEM: ic.Pem,
		})
	}
	return res, nil
}

func (e *enrolment) device(reader, firmware string) api.DeviceInput {
	if reader == "" {
		reader = "vscard virtual card"
	}
	d := api.DeviceInput{Reader: reader}
	if e.cfg.Host != "" {
		d.Host = ptr(e.cfg.Host)
	}
	if e.cfg.Version != "" {
		d.BridgeVersion = ptr(e.cfg.Version)
	}
	if firmware != "" {
		d.Firmware = ptr(firmware)
	}
	return d
}

// cause prefers the reason the run's context was cancelled (portal cancel, Cancel
// button) over the error it caused in whatever was running.
// A refusal with ILLEGAL_STATE usually means the same: the order ended meanwhile and
// the subscription has not said so yet; the order is read to tell.
func (e *enrolment) cause(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		if c := context.Cause(ctx); c != nil && !errors.Is(c, context.Canceled) {
			return c
		}
	}
	if api.Code(err) == api.ErrorCodeIllegalState {
		qctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if o, qerr := api.Order(qctx, e.session.GraphQL(), e.h.Order); qerr == nil && o.Order != nil && finalStates[o.Order.State] {
			return fmt.Errorf("%w (%s)", ErrCancelledByServer, o.Order.State)
		}
	}
	return err
}

func (e *enrolment) notify(ev Event) {
	if e.cfg.Notify != nil {
		ev.At = time.Now()
		e.cfg.Notify(ev)
	}
}

func ptr[T any](v T) *T { return &v }
