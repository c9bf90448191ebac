// Package users holds what administrators do to users.
package users

import (
	"context"
	"fmt"

	"github.com/vscard/vscard/ent"
	"github.com/vscard/vscard/ent/privacy"
	"github.com/vscard/vscard/ent/user"
	"github.com/vscard/vscard/server/audit"
	"github.com/vscard/vscard/server/auth"
	"github.com/vscard/vscard/server/errs"
)

// SetState changes a user's state (only ACTIVE users may order) and records why. A user
// set to LOCKED or INACTIVE is signed out of every portal session in the same
// transaction: the next request of any of them is UNAUTHENTICATED.
func SetState(ctx context.Context, db *ent.Client, id string, state user.State, reason string) (*ent.User, error) {
	if err := user.StateValidator(state); err != nil {
		return nil, errs.Wrap(err, errs.InvalidInput, "Unknown user state %q.", state)
	}
	allow := privacy.DecisionContext(ctx, privacy.Allow)
	tx, err := db.Tx(allow)
	if err != nil {
		return nil, fmt.Errorf("begin transaction: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after commit
	old, err := tx.User.Get(allow, id)
	if ent.IsNotFound(err) {
		return nil, errs.New(errs.NotFound, "There is no user %s.", id)
	}
	if err != nil {
		return nil, fmt.Errorf("load user: %w", err)
	}
	u, err := tx.User.UpdateOne(old).SetState(state).Save(allow)
	if err != nil {
		return nil, fmt.Errorf("update user state: %w", err)
	}
	details := map[string]any{"from": string(old.State), "to": string(state), "reason": reason}
	if state == user.StateLOCKED || state == user.StateINACTIVE {
		n, err := auth.EndUserSessions(ctx, tx.Client(), id, "")
		if err != nil {
			return nil, err
		}
		details["sessions_ended"] = n
	}
	if err := audit.Write(ctx, tx.AuditEvent, audit.Entry{
		Action: "user.set_state", ObjectType: "User", ObjectID: id, Details: details,
	}); err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("commit user state: %w", err)
	}
	return u.Unwrap(), nil
}

// Audit actions of ending sessions.
const (
	ActionSignOutEverywhere = "user.sign_out_everywhere"
	ActionEndSessions       = "user.end_sessions"
)

// SignOutEverywhere ends every portal session of the signed-in person but the one with
// token keep, which the portal then signs out itself (RP-initiated, so that the
// provider's session ends too), and returns how many it ended.
func SignOutEverywhere(ctx context.Context, db *ent.Client, userID, keep string) (int, error) {
	return endSessions(ctx, db, userID, keep, ActionSignOutEverywhere)
}

// EndSessions ends every portal session of user id, for an administrator, and returns how
// many it ended.
func EndSessions(ctx context.Context, db *ent.Client, id string) (int, error) {
	allow := privacy.DecisionContext(ctx, privacy.Allow)
	if _, err := db.User.Get(allow, id); ent.IsNotFound(err) {
		return 0, errs.New(errs.NotFound, "There is no user %s.", id)
	} else if err != nil {
		return 0, fmt.Errorf("load user: %w", err)
	}
	return endSessions(ctx, db, id, "", ActionEndSessions)
}

func endSessions(ctx context.Context, db *ent.Client, id, keep, action string) (int, error) {
	allow := privacy.DecisionContext(ctx, privacy.Allow)
	tx, err := db.Tx(allow)
	if err != nil {
		return 0, fmt.Errorf("begin transaction: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after commit
	n, err := auth.EndUserSessions(ctx, tx.Client(), id, keep)
	if err != nil {
		return 0, err
	}
	if err := audit.Write(ctx, tx.AuditEvent, audit.Entry{
		Action: action, ObjectType: "User", ObjectID: id, Details: map[string]any{"sessions_ended": n},
	}); err != nil {
		return 0, err
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("commit end of sessions: %w", err)
	}
	return n, nil
}
