package handoff

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
// disconnected is still seen. listening is called once the watcher has learned the
// order's state for the first time (the subscription sends it first), or its first
// attempt failed and the order was read instead, or it stopped.
func (r *run) watchOrder(ctx context.Context, cancel context.CancelCauseFunc, listening func()) {
	defer listening()
	ended := func(s api.OrderStatus) bool {
		if !finalStates[s.State] {
			return false
		}
		reason := string(s.State)
		if s.FailureReason != nil && *s.FailureReason != "" {
			reason += ": " + *s.FailureReason
		}
		r.log.Info("order ended on the server", "state", s.State)
		cancel(fmt.Errorf("%w (%s)", ErrCancelledByServer, reason))
		return true
	}
	backoff := 250 * time.Millisecond
	for ctx.Err() == nil {
		err := r.job.Session.Watch(ctx, r.link.Order, func(s api.OrderStatus) bool {
			backoff = 250 * time.Millisecond
			defer listening()
			// A process the Desktop App itself completes (reset-pin) is over and done:
			// its session ends with it, so there is nothing more to follow.
			return s.State != api.OrderStateCompleted && !ended(s)
		})
		if ctx.Err() != nil || err == nil {
			return
		}
		r.log.Debug("order subscription ended", "err", err)
		o, qerr := api.Order(ctx, r.job.Session.GraphQL(), r.link.Order)
		if qerr == nil && o.Order != nil && ended(*o.Order) {
			return
		}
		if api.Code(qerr) == api.ErrorCodeUnauthenticated {
			// The bridge session ends with its order (or at its expiry): the order is
			// over, but how is no longer ours to read. Stop, and delete nothing on a guess.
			r.log.Info("bridge session ended: the order is over on the server")
			cancel(fmt.Errorf("%w: the Desktop App session ended", ErrSessionEnded))
			return
		}
		listening() // degraded: no subscription yet, but the order was read
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 10*time.Second)
	}
}

// undoIfEnded has the handler undo its work when the order ended after the handler was
// done other than by the person finishing it: cancelled at the last step, or expired.
// The server took back its part (for a new card: revoked its certificates), so the
// desktop's goes too.
func (r *run) undoIfEnded(ended error) {
	if !errors.Is(ended, ErrCancelledByServer) {
		return
	}
	if err := r.handler.Undo(r.job); err != nil {
		r.log.Error("undo the work of an order that ended before it was finished", "err", err)
		return
	}
	r.log.Info("undone: the order ended in the portal before it was finished", "reason", ended)
}

// cleanUp ends a run that failed after the claim (the handler has undone its work): it
// tells the server, unless the server ended the order itself. It returns the error the
// run ends with.
func (r *run) cleanUp(ctx context.Context, runErr error) error {
	// ctx may be cancelled already; the clean-up still has to reach the server.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer cancel()
	if r.job == nil || errors.Is(runErr, ErrCancelledByServer) {
		return runErr
	}
	gql := r.job.Session.GraphQL()
	var err error
	if errors.Is(runErr, ErrCancelled) {
		_, err = api.CancelOrder(ctx, gql, r.link.Order, ptr("cancelled in the Desktop App"))
	} else {
		_, err = api.FailOrder(ctx, gql, r.link.Order, failureReason(runErr))
	}
	switch {
	case err == nil:
		r.log.Info("server told that the order ended")
	case api.Code(err) == api.ErrorCodeIllegalState, api.Code(err) == api.ErrorCodeUnauthenticated:
		// The order had ended already (cancelled or expired meanwhile; the bridge session
		// ends with it): nothing to say.
		r.log.Info("order had ended on the server already")
	default:
		r.log.Error("tell the server that the order ended", "err", err)
	}
	return runErr
}

// ReasonPrefix starts an order's failure reason that is a code of the Desktop App's.
const ReasonPrefix = "desktop-app:"

// failureReason is what the server records: short, and free of secrets by construction
// (errors here never carry the PIN, PUK, management key or tokens). A refusal of the
// Desktop App's own, or the server's refusal of TPM evidence, travels as its code,
// "desktop-app:PIN_BLOCKED" (ReasonPrefix, WordsCodeOf): the portal has the words, in the
// person's language. A fault without a code keeps its text, for the operator's order list.
func failureReason(err error) string {
	if c := WordsCodeOf(err); c != "" {
		return ReasonPrefix + string(c)
	}
	const max = 400
	s := "Desktop App: " + Describe(err)
	if len(s) > max {
		s = s[:max]
	}
	return s
}
