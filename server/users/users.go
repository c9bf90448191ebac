// Package users holds what administrators do to users.
package users

import (
	"context"
	"fmt"
	"time"

	"github.com/vscard/vscard/ent"
	"github.com/vscard/vscard/ent/user"
	"github.com/vscard/vscard/server/audit"
	"github.com/vscard/vscard/server/auth"
	"github.com/vscard/vscard/server/errs"
	"github.com/vscard/vscard/server/store"
	"github.com/vscard/vscard/server/viewer"
)

// SetState changes a user's state (only ACTIVE users may order) and records why, at now. A
// user set to LOCKED or INACTIVE is signed out of every portal session in the same
// transaction: the next request of any of them is UNAUTHENTICATED. Administrators may not
// change their own state: one who locked themself out could not undo it.
//
// cascade, when set, runs in the same transaction once the state changed (the person's
// cards follow it: enroll.CardCascade); an error from it undoes the change.
func SetState(ctx context.Context, db *ent.Client, now time.Time, id string, state user.State, reason string, cascade Cascade) (*ent.User, error) {
	if err := user.StateValidator(state); err != nil {
		return nil, errs.Wrap(err, errs.InvalidInput, "Unknown user state %q.", state)
	}
	if v := viewer.FromContext(ctx); v != nil && v.Kind == viewer.KindUser && v.UserID == id {
		return nil, errs.New(errs.Forbidden, "You cannot change the state of your own account; ask another administrator.").
			WithDetails(map[string]any{"reason": "OWN_ACCOUNT"})
	}
	var u *ent.User
	err := store.InTx(viewer.AsServer(ctx), db, func(ctx context.Context, tx *ent.Tx) error {
		old, err := tx.User.Get(ctx, id)
		if ent.IsNotFound(err) {
			return errs.New(errs.NotFound, "There is no user %s.", id)
		}
		if err != nil {
			return fmt.Errorf("load user: %w", err)
		}
		if err := audit.RequireReason(audit.WithReason(ctx, reason), id); err != nil {
			return err
		}
		if u, err = tx.User.UpdateOne(old).SetState(state).Save(ctx); err != nil {
			return fmt.Errorf("update user state: %w", err)
		}
		details := map[string]any{"from": string(old.State), "to": string(state), "reason": reason}
		if state == user.StateLOCKED || state == user.StateINACTIVE {
			n, err := auth.EndUserSessions(ctx, tx.Client(), now, id, "")
			if err != nil {
				return err
			}
			details["sessions_ended"] = n
		}
		if err := audit.Write(ctx, tx.AuditEvent, audit.Entry{
			Action: "user.set_state", ObjectType: "User", ObjectID: id, Details: details,
		}); err != nil {
			return err
		}
		if cascade == nil || old.State == state {
			return nil
		}
		return cascade(ctx, tx, u, old.State)
	})
	if err != nil {
		return nil, err
	}
	return u.Unwrap(), nil
}

// Cascade is what else a user's state change changes, in SetState's transaction: u is the
// user in the new state, from the state before.
type Cascade func(ctx context.Context, tx *ent.Tx, u *ent.User, from user.State) error

// Audit actions of ending sessions.
const (
	ActionSignOutEverywhere = "user.sign_out_everywhere"
	ActionEndSessions       = "user.end_sessions"
)

// SignOutEverywhere ends every portal session of the signed-in person but the one with
// token keep, which the portal then signs out itself (RP-initiated, so that the
// provider's session ends too), and returns how many it ended.
func SignOutEverywhere(ctx context.Context, db *ent.Client, now time.Time, userID, keep string) (int, error) {
	return endSessions(ctx, db, now, userID, keep, ActionSignOutEverywhere)
}

// EndSessions ends every portal session of user id, for an administrator, and returns how
// many it ended.
func EndSessions(ctx context.Context, db *ent.Client, now time.Time, id string) (int, error) {
	// Read as the caller: the privacy rules decide whether they may see this person.
	if _, err := db.User.Get(ctx, id); ent.IsNotFound(err) {
		return 0, errs.New(errs.NotFound, "There is no user %s.", id)
	} else if err != nil {
		return 0, fmt.Errorf("load user: %w", err)
	}
	if err := audit.RequireReason(ctx, id); err != nil {
		return 0, err
	}
	return endSessions(ctx, db, now, id, "", ActionEndSessions)
}

func endSessions(ctx context.Context, db *ent.Client, now time.Time, id, keep, action string) (int, error) {
	var n int
	err := store.InTx(viewer.AsServer(ctx), db, func(ctx context.Context, tx *ent.Tx) error {
		var err error
		if n, err = auth.EndUserSessions(ctx, tx.Client(), now, id, keep); err != nil {
			return err
		}
		return audit.Write(ctx, tx.AuditEvent, audit.Entry{
			Action: action, ObjectType: "User", ObjectID: id, Details: map[string]any{"sessions_ended": n},
		})
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}
