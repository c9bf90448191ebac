package handoff

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/go-piv/piv-go/v2/piv"

	"github.com/vscard/vscard/desktop-bridge/api"
	"github.com/vscard/vscard/desktop-bridge/vcard"
)

// ResetPIN is the symbolic name of the process that gives a card whose PIN is forgotten
// or blocked a new PIN with its PUK.
const ResetPIN = "reset-pin"

// resetPIN is the desktop side of reset-pin: it finds the order's card here, reports its
// PIN state, asks for a new PIN twice (the person's confirmation of the unblock), gets the
// PUKs from the server, unblocks the PIN with the one the card takes, sets the server's
// fresh PUK and confirms it.
//
// The PUK is never shown, logged or put into an error: errors name the step, never the
// value. Nothing here needs undoing: until Unblock the card is as it was; after it the
// card works with the new PIN and has a PUK the server still keeps (the old one until the
// fresh one is confirmed).
type resetPIN struct {
	// Test hooks, at the points an interruption is hardest on the PUK: after the
	// server released it, and after the card took the fresh one.
	afterRelease func(ctx context.Context, candidates []string, fresh string) error
	afterSetPUK  func(ctx context.Context) error
}

func (h *resetPIN) Run(ctx context.Context, job *Job) (*Result, error) {
	setup := job.Claim.Card
	n, err := strconv.ParseUint(setup.Serial, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("read card setup: card serial %q is not a PIV serial", setup.Serial)
	}
	serial := uint32(n)
	job.Log = job.Log.With("card", setup.Serial)
	reader, err := job.Cards.CardReader(serial)
	if errors.Is(err, vcard.ErrNotFound) {
		return nil, &Error{Code: CodeCardNotHere, Detail: err.Error()}
	}
	if err != nil {
		return nil, fmt.Errorf("find card: %w", err)
	}
	gql := job.Session.GraphQL()
	order := job.Link.Order

	// What the card says now, so the portal shows it even if the person stops here. The
	// card is not held while the person types: other programs may use it meanwhile.
	if err := h.withCard(ctx, job, reader, serial, func(c *pivCard) error {
		return reportPINState(ctx, job, c, false)
	}); err != nil {
		return nil, err
	}

	// Typing the new PIN twice is the person's confirmation of the unblock.
	a, err := job.AskPIN(ctx, PINUnblock)
	if err != nil {
		return nil, err
	}
	var res *Result
	err = h.withCard(ctx, job, reader, serial, func(c *pivCard) error {
		rel, err := api.ReleaseCardPuk(ctx, gql, order, setup.Serial)
		if err != nil {
			return fmt.Errorf("get PUK: %w", err)
		}
		puks := rel.ReleaseCardPuk
		job.Log.Info("PUK released", "candidates", len(puks.Candidates))
		if h.afterRelease != nil {
			if err := h.afterRelease(ctx, puks.Candidates, puks.Fresh); err != nil {
				return err
			}
		}
		puk, err := unblock(c, puks.Candidates, a.New)
		if err != nil {
			if errors.Is(err, &Error{Code: CodePUKBlocked}) {
				_ = reportPINState(ctx, job, c, true)
			}
			return err
		}
		job.Log.Info("PIN unblocked")
		if err := c.yk.SetPUK(puk, puks.Fresh); err != nil {
			return fmt.Errorf("set new PUK: %w", err)
		}
		job.Log.Info("new PUK set")
		if h.afterSetPUK != nil {
			if err := h.afterSetPUK(ctx); err != nil {
				return err
			}
		}
		if err := reportPINState(ctx, job, c, false); err != nil {
			return err
		}
		if _, err := api.ConfirmCardPuk(ctx, gql, order, setup.Serial); err != nil {
			return fmt.Errorf("confirm new PUK: %w", err)
		}
		job.Log.Info("PIN reset", "took", job.Since())
		res = &Result{
			Server: job.Link.Server, Order: order, UserName: job.Claim.UserName, Serial: setup.Serial,
			Reader: reader, ValidUntil: setup.ValidUntil, Duration: job.Since(),
		}
		return nil
	})
	return res, err
}

// withCard opens the card, runs fn and resets the card afterwards, so that it does not
// stay verified for the next program.
func (h *resetPIN) withCard(ctx context.Context, job *Job, reader string, serial uint32, fn func(c *pivCard) error) error {
	c, err := job.openPIV(ctx, reader, serial)
	if err != nil {
		return err
	}
	defer func() {
		c.close()
		if err := job.Cards.ResetCard(serial); err != nil {
			job.Log.Warn("reset card", "err", err)
		}
	}()
	return fn(c)
}

// unblock resets the PIN to pin with the first of puks the card takes, and returns it. A
// wrong PUK costs one of the PUK's tries, which a right one restores; it stops while one
// try is left, unless that is the last PUK to try.
func unblock(c *pivCard, puks []string, pin string) (string, error) {
	for i, puk := range puks {
		err := c.yk.Unblock(puk, pin)
		if err == nil {
			return puk, nil
		}
		var auth piv.AuthErr
		if !errors.As(err, &auth) {
			return "", fmt.Errorf("unblock PIN: %w", err)
		}
		if auth.Retries == 0 {
			return "", &Error{Code: CodePUKBlocked, Detail: "the card's PUK is blocked"}
		}
		if auth.Retries == 1 && i+1 < len(puks)-1 {
			break
		}
	}
	return "", &Error{Code: CodePUKRefused, Detail: fmt.Sprintf("the card took none of %d PUKs", len(puks))}
}

// reportPINState tells the server what the card says of its PIN.
func reportPINState(ctx context.Context, job *Job, c *pivCard, pukBlocked bool) error {
	tries, err := c.yk.Retries()
	if err != nil {
		return fmt.Errorf("read PIN tries: %w", err)
	}
	job.Log.Info("PIN state", "triesLeft", tries, "pukBlocked", pukBlocked)
	st := api.CardPinStateInput{TriesLeft: tries, Blocked: tries == 0, PukBlocked: pukBlocked}
	if _, err := api.ReportCardPinState(ctx, job.Session.GraphQL(), job.Link.Order, job.Claim.Card.Serial, st); err != nil {
		return fmt.Errorf("report PIN state: %w", err)
	}
	return nil
}

// Undo has nothing to take back: see resetPIN.
func (h *resetPIN) Undo(*Job) error { return nil }
