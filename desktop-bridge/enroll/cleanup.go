package enroll

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/vscard/vscard/desktop-bridge/api"
)

// finalStates end an order without a card; the bridge must delete what it made.
var finalStates = map[api.OrderState]bool{
	api.OrderStateCancelled: true,
	api.OrderStateFailed:    true,
	api.OrderStateExpired:   true,
}

// watchOrder follows the order on the server until ctx ends and cancels the run with
// ErrCancelledByServer once the order has ended there. A lost subscription is opened
// again; between attempts the order is read once, so that an end missed while
// disconnected is still seen.
func (e *enrolment) watchOrder(ctx context.Context, cancel context.CancelCauseFunc) {
	ended := func(s api.OrderStatus) bool {
		if !finalStates[s.State] {
			return false
		}
		reason := string(s.State)
		if s.FailureReason != nil && *s.FailureReason != "" {
			reason += ": " + *s.FailureReason
		}
		e.log.Info("order ended on the server", "state", s.State)
		cancel(fmt.Errorf("%w (%s)", ErrCancelledByServer, reason))
		return true
	}
	backoff := 250 * time.Millisecond
	for ctx.Err() == nil {
		err := e.session.Watch(ctx, e.h.Order, func(s api.OrderStatus) bool {
			backoff = 250 * time.Millisecond
			return !ended(s)
		})
		if ctx.Err() != nil || err == nil {
			return
		}
		e.log.Debug("order subscription ended", "err", err)
		o, qerr := api.Order(ctx, e.session.GraphQL(), e.h.Order)
		if qerr == nil && o.Order != nil && ended(*o.Order) {
			return
		}
		if api.Code(qerr) == api.ErrorCodeUnauthenticated {
			// The bridge session ends with its order (or at its expiry): the order is
			// over, but how is no longer ours to read. Stop, and delete nothing on a guess.
			e.log.Info("bridge session ended: the order is over on the server")
			cancel(fmt.Errorf("%w: the Desktop App session ended", ErrSessionEnded))
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 10*time.Second)
	}
}

// deleteIfEnded deletes the ready card whose order ended, after it was ready, other than
// by the person finishing it: cancelled at the last step, or expired. Its certificates
// were revoked, so the card on the desktop goes too.
func (e *enrolment) deleteIfEnded(ended error) {
	if !errors.Is(ended, ErrCancelledByServer) {
		return
	}
	if err := e.cfg.Cards.DeleteCard(e.serial); err != nil {
		e.log.Error("delete the card of an order that ended before it was finished", "err", err)
		return
	}
	e.log.Info("card deleted: the order ended in the portal before it was finished", "reason", ended)
}

// cleanUp undoes an enrolment that failed after the claim: it deletes the unfinished
// card and tells the server, unless the server ended the order itself. It returns the
// error the run ends with.
func (e *enrolment) cleanUp(ctx context.Context, runErr error) error {
	// ctx may be cancelled already; the clean-up still has to reach the server.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer cancel()
	if e.created {
		if err := e.cfg.Cards.DeleteCard(e.serial); err != nil {
			e.log.Error("delete unfinished card", "err", err)
			runErr = errors.Join(runErr, fmt.Errorf("delete unfinished card: %w", err))
		} else {
			e.log.Info("unfinished card deleted")
		}
	}
	if e.session == nil || errors.Is(runErr, ErrCancelledByServer) {
		return runErr
	}
	gql := e.session.GraphQL()
	var err error
	if errors.Is(runErr, ErrCancelled) {
		_, err = api.CancelOrder(ctx, gql, e.h.Order, ptr("cancelled in the Desktop App"))
	} else {
		_, err = api.FailOrder(ctx, gql, e.h.Order, failureReason(runErr))
	}
	switch {
	case err == nil:
		e.log.Info("server told that the order ended")
	case api.Code(err) == api.ErrorCodeIllegalState, api.Code(err) == api.ErrorCodeUnauthenticated:
		// The order had ended already (cancelled or expired meanwhile; the bridge session
		// ends with it): nothing to say.
		e.log.Info("order had ended on the server already")
	default:
		e.log.Error("tell the server that the order ended", "err", err)
	}
	return runErr
}

// failureReason is what the server records: short, and free of secrets by construction
// (errors here never carry the PIN, PUK, management key or tokens).
func failureReason(err error) string {
	const max = 400
	s := "Desktop App: " + Describe(err)
	if len(s) > max {
		s = s[:max]
	}
	return s
}

// Describe returns a message about err for a person: the server's own message for its
// errors, else the error text.
func Describe(err error) string {
	if err == nil {
		return ""
	}
	if api.Code(err) != "" {
		return api.Message(err)
	}
	return err.Error()
}
