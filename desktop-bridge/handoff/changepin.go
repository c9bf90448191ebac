package handoff

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/go-piv/piv-go/v2/piv"

	"github.com/vscard/vscard/desktop-bridge/api"
	"github.com/vscard/vscard/desktop-bridge/vcard"
)

// ChangePINProcess is the symbolic name of the process that changes a card's PIN.
const ChangePINProcess = "change-pin"

// changePIN is the desktop side of change-pin: the person types the current PIN and the
// new one here, the card checks the current one and takes the new one, and the server
// hears only that it is done (BridgeNext) or, through the runner, why not. Nothing is
// made on the desktop, so there is nothing to undo: a PIN the card took stays.
type changePIN struct{}

func (h *changePIN) Run(ctx context.Context, job *Job) (*Result, error) {
	card := job.Claim.Card
	serial, err := strconv.ParseUint(card.Serial, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("read card setup: card serial %q is not a PIV serial", card.Serial)
	}
	job.Log = job.Log.With("card", card.Serial)
	reader, err := job.Cards.CardReader(uint32(serial))
	if err != nil {
		return nil, cardNotHere(err)
	}
	ask := func(ctx context.Context, problems []Problem) (PINAnswer, error) {
		return job.askPIN(ctx, PINChange, problems)
	}
	if err := changeCardPIN(ctx, reader, uint32(serial), job.cfg.CardTimeout, ask, job.Cards.ResetCard); err != nil {
		return nil, err
	}
	job.Log.Info("PIN changed on the card")
	job.Notify(Event{Step: StepPINChanged})
	if _, err := api.BridgeNext(ctx, job.Session.GraphQL(), job.Link.Order, ptr("PIN changed")); err != nil {
		return nil, fmt.Errorf("report PIN changed: %w", err)
	}
	return &Result{
		Server: job.Link.Server, Order: job.Link.Order, UserName: job.Claim.UserName, Serial: card.Serial,
		Reader: reader, ValidUntil: card.ValidUntil, Duration: job.Since(),
	}, nil
}

// Undo has nothing to take back: the run made nothing, and a PIN the card took is the
// person's new PIN whatever the server heard of it.
func (h *changePIN) Undo(*Job) error { return nil }

// AskChange asks for the current and the new PIN; problems say why the previous answer
// was refused (a wrong current PIN, with the tries left).
type AskChange func(ctx context.Context, problems []Problem) (PINAnswer, error)

// ChangePIN changes the PIN of the card serial in reader through PC/SC, asking with ask
// until the card takes the current PIN. It is change-pin's work on the card, for
// `vscard-bridge pin change` without the portal; the new PIN is ask's to check.
func ChangePIN(ctx context.Context, reader string, serial uint32, ask AskChange) error {
	return changeCardPIN(ctx, reader, serial, 20*time.Second, ask, nil)
}

// changeCardPIN asks and changes until the card takes the current PIN, the person stops,
// or the PIN blocks. A wrong current PIN is asked again with the tries the card has
// left (the last one says that the card blocks after it); a blocked PIN ends it with
// CodePINBlocked, which sends the person to Reset PIN. reset, when set, makes the card
// forget afterwards that a PIN was verified: piv-go leaves the card so when it
// disconnects.
func changeCardPIN(ctx context.Context, reader string, serial uint32, timeout time.Duration, ask AskChange, reset func(uint32) error) error {
	c, err := openCard(ctx, reader, serial, timeout)
	if err != nil {
		return err
	}
	defer func() {
		c.close()
		if reset != nil {
			_ = reset(serial)
		}
	}()
	// Blocked already: say so before the person types anything. A card that answers
	// otherwise (its PIN verified in this session) is asked as usual.
	if left, err := c.yk.Retries(); err == nil && left == 0 {
		return &Error{Code: CodePINBlocked, Detail: "the card's PIN was blocked before the change"}
	}
	var problems []Problem
	for {
		a, err := ask(ctx, problems)
		if err != nil {
			return err
		}
		err = c.yk.SetPIN(a.Current, a.New)
		var auth piv.AuthErr
		switch {
		case err == nil:
			return nil
		case errors.As(err, &auth) && auth.Retries == 0:
			return &Error{Code: CodePINBlocked, Detail: "wrong current PIN; no tries left"}
		case errors.As(err, &auth):
			problems = []Problem{WrongPINProblem(auth.Retries)}
		default:
			return fmt.Errorf("change PIN on the card: %w", err)
		}
	}
}

// WrongPINProblem says that the current PIN was wrong and how many tries the card has
// left; with one left, that the card blocks after it.
func WrongPINProblem(left int) Problem {
	if left == 1 {
		return NewProblem(ProblemCurrentWrongLast)
	}
	return Problem{Code: ProblemCurrentWrong, Message: fmt.Sprintf(Words(Languages[0], ProblemCurrentWrong), left), Tries: left}
}

// cardNotHere turns a card host's "no reader holds it" into words a person can act on.
func cardNotHere(err error) error {
	if errors.Is(err, vcard.ErrNotFound) {
		return &Error{Code: CodeCardNotHere, Detail: err.Error()}
	}
	return fmt.Errorf("find the card's reader: %w", err)
}
