package auth

import (
	"context"
	"fmt"

	"github.com/vscard/vscard/ent"
	"github.com/vscard/vscard/ent/user"
	"github.com/vscard/vscard/server/audit"
	"github.com/vscard/vscard/server/store"
	"github.com/vscard/vscard/server/viewer"
)

// Audit actions written by this package.
const (
	ActionLogin  = "auth.login"
	ActionLogout = "auth.logout"
)

// upsertUser creates the user of p, or updates the profile of an existing one, in one
// transaction with the audit event of the sign-in. Existing users keep their state: an
// administrator may have changed it.
func (s *Service) upsertUser(ctx context.Context, p *profile, remoteAddr string) (*ent.User, error) {
	var u *ent.User
	err := store.InTx(viewer.AsServer(ctx), s.client, func(ctx context.Context, tx *ent.Tx) error {
		var err error
		u, err = s.signIn(ctx, tx, p, remoteAddr)
		return err
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

// signIn is upsertUser inside its transaction.
func (s *Service) signIn(ctx context.Context, tx *ent.Tx, p *profile, remoteAddr string) (*ent.User, error) {
	now := s.cfg.Now()
	u, err := tx.User.Query().
		Where(user.OidcIssuer(p.Issuer), user.OidcSubject(p.Subject)).
		Only(ctx)
	created := false
	switch {
	case ent.IsNotFound(err):
		u, err = tx.User.Create().
			SetOidcIssuer(p.Issuer).
			SetOidcSubject(p.Subject).
			SetUsername(p.Username).
			SetDisplayName(p.DisplayName).
			SetEmail(p.Email).
			SetRoles(p.Roles).
			SetAttributes(p.Attributes).
			SetState(user.State(s.initialState(p.Subject))).
			SetLastLoginAt(now).
			Save(ctx)
		if err != nil {
			return nil, fmt.Errorf("create user: %w", err)
		}
		created = true
	case err != nil:
		return nil, fmt.Errorf("find user: %w", err)
	default:
		u, err = u.Update().
			SetUsername(p.Username).
			SetDisplayName(p.DisplayName).
			SetEmail(p.Email).
			SetRoles(p.Roles).
			SetAttributes(p.Attributes).
			SetLastLoginAt(now).
			Save(ctx)
		if err != nil {
			return nil, fmt.Errorf("update user: %w", err)
		}
	}
	details := map[string]any{"created": created, "roles": p.Roles, "state": string(u.State)}
	if err := auditUser(ctx, tx.Client(), u, ActionLogin, remoteAddr, details); err != nil {
		return nil, err
	}
	return u, nil
}

// initialState is the state a new user with subject starts in.
func (s *Service) initialState(subject string) string {
	if st, ok := s.cfg.InitialStates[subject]; ok {
		return st
	}
	return s.cfg.DefaultUserState
}

// auditUser appends one event about u, done by u, to the audit log of client.
func auditUser(ctx context.Context, client *ent.Client, u *ent.User, action, remoteAddr string, details map[string]any) error {
	ctx = viewer.NewContext(ctx, userViewer(u, remoteAddr))
	return audit.Write(ctx, client.AuditEvent, audit.Entry{
		Action:     action,
		ObjectType: "User",
		ObjectID:   u.ID,
		Details:    details,
	})
}
