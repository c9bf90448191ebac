// Package users holds what administrators do to users.
package users

import (
	"context"
	"fmt"

	"github.com/vscard/vscard/ent"
	"github.com/vscard/vscard/ent/privacy"
	"github.com/vscard/vscard/ent/user"
	"github.com/vscard/vscard/server/audit"
	"github.com/vscard/vscard/server/errs"
)

// SetState changes a user's state (only ACTIVE users may order) and records why.
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
	if err := audit.Write(ctx, tx.AuditEvent, audit.Entry{
		Action: "user.set_state", ObjectType: "User", ObjectID: id,
		Details: map[string]any{"from": string(old.State), "to": string(state), "reason": reason},
	}); err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("commit user state: %w", err)
	}
	return u.Unwrap(), nil
}
