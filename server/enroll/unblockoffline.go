package enroll

import (
	"context"
	"errors"
	"fmt"

	"github.com/vscard/vscard/ent"
	"github.com/vscard/vscard/ent/card"
	"github.com/vscard/vscard/ent/order"
	"github.com/vscard/vscard/server/audit"
	"github.com/vscard/vscard/server/cardspec"
	"github.com/vscard/vscard/server/cardspec/unblockcode"
	"github.com/vscard/vscard/server/errs"
	"github.com/vscard/vscard/server/viewer"
)

// ProcessUnblockPINOffline is the symbolic name of "Unblock PIN offline".
const ProcessUnblockPINOffline = "unblock-pin-offline"

// The reasons an unblock challenge is refused, in the INVALID_INPUT error's details
// ("reason"), for the portal to put into words: the person retypes, or finds the right card.
const (
	// ChallengeMalformed: not 12 symbols of the code's alphabet.
	ChallengeMalformed = "CHALLENGE_MALFORMED"
	// ChallengeMistyped: 12 symbols whose check symbol does not match.
	ChallengeMistyped = "CHALLENGE_MISTYPED"
	// ChallengeOtherCard: a good challenge, of another card than the order's.
	ChallengeOtherCard = "CHALLENGE_OTHER_CARD"
)

// unblockPINOffline: the Desktop App cannot reach the server (the VPN needs the card), so
// the person, signed in to the portal on another device, types the challenge the Desktop
// App shows (AnswerUnblockChallenge), and the portal shows the response once: the card's
// management key, which the server holds, makes it (package server/cardspec/unblockcode).
// Nothing is handed off and nothing on the server changes; the card checks the response,
// takes the new PIN and counts wrong responses itself. Off unless the option script
// enables it (unblock_pin_offline): whoever is signed in to the portal as the person can
// unblock the card without the PUK.
func unblockPINOffline() *Definition {
	return &Definition{
		Name:        ProcessUnblockPINOffline,
		DisplayName: "process.unblock-pin-offline.name",
		Description: "process.unblock-pin-offline.description",
		Starters:    BySelf,
		SelfMay:     func(o *cardspec.Options) bool { return o.UnblockPINOffline },
		CardStates:  []card.State{card.StateACTIVE},
		// The one step takes the challenge, so it is AnswerUnblockChallenge's, not Next's.
		Forward: map[order.State]order.State{order.StateSTARTED: order.StateCOMPLETED},
	}
}

// AnswerUnblockChallenge is the person's step of an unblock-pin-offline order: it reads
// challenge as typed, checks that it is a challenge of the order's card, and completes
// the order with the response, which it returns and keeps nowhere. A challenge refused
// leaves the order where it was, to type it again. The asks of a person are rate-limited:
// the response is not guessable, but an unlimited supply of them is no one's business.
func (e *Engine) AnswerUnblockChallenge(ctx context.Context, orderID, challenge string) (*ent.Order, string, error) {
	ctx, o, d, err := e.stepOrder(ctx, orderID)
	if err != nil {
		return nil, "", err
	}
	if o.Process != ProcessUnblockPINOffline {
		return nil, "", errs.New(errs.IllegalState, "This order does not unblock a PIN offline.")
	}
	if o.State != order.StateSTARTED {
		return nil, "", illegal(o.State, order.StateCOMPLETED)
	}
	if err := e.unblocks.allow(o.UserID, "unblock responses"); err != nil {
		return nil, "", err
	}
	// The option script may have changed since the start: it decides now.
	person, err := e.db.User.Get(viewer.AsServer(ctx), o.UserID)
	if err != nil {
		return nil, "", fmt.Errorf("load order owner: %w", err)
	}
	if !e.selfMay(ctx, d, person) {
		return nil, "", errs.New(errs.Forbidden, "You may not unblock a PIN offline.").
			WithDetails(map[string]any{"process": d.Name, "reason": string(UnavailableNotPermitted)})
	}
	c, err := e.subjectCard(ctx, o)
	if err != nil {
		return nil, "", err
	}
	ch, err := unblockcode.Parse(challenge)
	reason := ""
	switch {
	case errors.Is(err, unblockcode.ErrCheck):
		reason = ChallengeMistyped
	case err != nil:
		reason = ChallengeMalformed
	case !unblockcode.ForCard(ch, c.Serial):
		reason = ChallengeOtherCard
	}
	if reason != "" {
		e.log.Info("unblock challenge refused", "order", o.ID, "card", c.Serial, "reason", reason)
		return nil, "", errs.New(errs.InvalidInput, "The challenge is not one of card %s: check what you typed.", c.Serial).
			WithDetails(map[string]any{"field": "challenge", "reason": reason})
	}
	key, err := e.box.Open(c.ManagementKey, "card:management-key:"+c.Serial)
	if err != nil {
		return nil, "", errs.Wrap(err, errs.Internal, "The card's key cannot be read.")
	}
	response := unblockcode.Response(key, c.Serial, ch)
	clear(key)
	asker := ""
	if v := viewer.FromContext(ctx); v != nil {
		asker = v.UserID
	}
	o, err = e.transition(ctx, o, move{
		to: order.StateCOMPLETED, action: "order.unblock_response", note: "response given for card " + c.Serial,
		details: map[string]any{"cardSerial": c.Serial, "challenge": unblockcode.Format(ch)},
		events: func() []audit.Entry {
			// The challenge is no secret (the Desktop App shows it); the response is
			// never written anywhere.
			return []audit.Entry{{Action: "card.pin_unblock_offline", ObjectType: "Card", ObjectID: c.ID,
				Details: map[string]any{"order": o.ID, "serial": c.Serial, "challenge": unblockcode.Format(ch), "askedBy": asker}}}
		},
	})
	if err != nil {
		return nil, "", err
	}
	return o, unblockcode.Format(response), nil
}
