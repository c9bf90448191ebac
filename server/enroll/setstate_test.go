package enroll

import (
	"context"
	"testing"

	"github.com/vscard/vscard/ent"
	"github.com/vscard/vscard/ent/auditevent"
	"github.com/vscard/vscard/ent/card"
	"github.com/vscard/vscard/ent/certificate"
	"github.com/vscard/vscard/ent/order"
	"github.com/vscard/vscard/ent/user"
	"github.com/vscard/vscard/server/ca"
	"github.com/vscard/vscard/server/errs"
	"github.com/vscard/vscard/server/store"
)

// TestSetUserStateIsOneTransaction: a person's state change, their cards' cascade and the
// end of their order in progress commit together. A failure in the middle — ending the
// order, after the state and the cards changed — leaves none of it behind and tells the
// CA nothing.
func TestSetUserStateIsOneTransaction(t *testing.T) {
	for _, tc := range []struct {
		name string
		fail bool
	}{{"ok/all of it commits", false}, {"error/ending the order fails, nothing changed", true}} {
		t.Run(tc.name, func(t *testing.T) {
			env := newEnv(t, nil)
			kept := env.activeCard(t, env.ann, "CARD-1")
			o, session := runToCreating(t, env)
			if _, err := submit(t, env, o, session); err != nil {
				t.Fatal(err)
			}
			o = env.order(t, o.ID)
			if tc.fail {
				// Every cancel of the order loses a race, within the transaction, so
				// EndOrderOf gives up (CONFLICT) after the state and cards changed.
				env.db.Order.Use(func(next ent.Mutator) ent.Mutator {
					inside := false
					return ent.MutateFunc(func(ctx context.Context, m ent.Mutation) (ent.Value, error) {
						om := m.(*ent.OrderMutation)
						if st, ok := om.State(); ok && st == order.StateCANCELLED && !inside {
							inside = true
							err := om.Client().Order.Update().Where(order.ID(o.ID)).AddVersion(1).Exec(ctx)
							inside = false
							if err != nil {
								return nil, err
							}
						}
						return next.Mutate(ctx, m)
					})
				})
			}

			_, err := env.e.SetUserState(env.as(env.admin, true), env.ann.ID, user.StateLOCKED, "left the team")

			ann := env.db.User.GetX(env.sys, env.ann.ID)
			c := env.db.Card.GetX(env.sys, kept.ID)
			got := env.order(t, o.ID)
			signed := env.db.Certificate.Query().Where(certificate.OrderID(o.ID)).AllX(env.sys)
			events := env.db.AuditEvent.Query().
				Where(auditevent.ActionIn("user.set_state", "card.lock", "order.cancel")).CountX(env.sys)
			atCA := env.ca.statuses(o.ID)
			if !tc.fail {
				if err != nil {
					t.Fatal(err)
				}
				if ann.State != user.StateLOCKED || c.State != card.StateLOCKED || got.State != order.StateCANCELLED {
					t.Fatalf("person %s, card %s, order %s; want LOCKED, LOCKED, CANCELLED", ann.State, c.State, got.State)
				}
				if events != 3 || atCA[ca.StatusRevoked] != 1 {
					t.Fatalf("%d audit events, CA %v; want 3 and the order's certificate revoked", events, atCA)
				}
				return
			}
			wantCode(t, err, errs.Conflict)
			if ann.State != user.StateACTIVE || c.State != card.StateACTIVE {
				t.Errorf("person %s, card %s after the failure; want both still ACTIVE", ann.State, c.State)
			}
			if got.State != o.State || got.Version != o.Version {
				t.Errorf("order %s v%d after the failure; want %s v%d untouched", got.State, got.Version, o.State, o.Version)
			}
			if len(signed) != 1 || signed[0].State != certificate.StateVALID {
				t.Errorf("the order's certificates after the failure: %v; want one, VALID", signed)
			}
			if events != 0 {
				t.Errorf("%d audit events of a change that did not happen", events)
			}
			if atCA[ca.StatusRevoked] != 0 || atCA[ca.StatusValid] != 1 {
				t.Errorf("the CA has %v; a rolled-back change must not revoke", atCA)
			}
		})
	}
}

// TestEndOrderOfJoinsTheCallersTransaction: EndOrderOf inside a caller's transaction is
// part of it: when the caller rolls back after the order ended, the order is still running
// with its certificate valid, and the CA was not asked to revoke it; when the caller
// commits, the CA hears of it then.
func TestEndOrderOfJoinsTheCallersTransaction(t *testing.T) {
	for _, commit := range []bool{false, true} {
		t.Run(map[bool]string{false: "error/rolled back", true: "ok/committed"}[commit], func(t *testing.T) {
			env := newEnv(t, nil)
			o, session := runToCreating(t, env)
			if _, err := submit(t, env, o, session); err != nil {
				t.Fatal(err)
			}
			o = env.order(t, o.ID)
			boom := errs.New(errs.Internal, "boom")
			var revokedBeforeCommit int
			err := store.InTx(env.sys, env.db, func(ctx context.Context, tx *ent.Tx) error {
				if err := env.e.EndOrderOf(ctx, env.ann.ID, "test"); err != nil {
					return err
				}
				if st := tx.Order.GetX(ctx, o.ID).State; st != order.StateCANCELLED {
					t.Errorf("inside the transaction the order is %s, want CANCELLED", st)
				}
				revokedBeforeCommit = env.ca.statuses(o.ID)[ca.StatusRevoked]
				if commit {
					return nil
				}
				return boom
			})
			if revokedBeforeCommit != 0 {
				t.Errorf("the CA revoked before the transaction committed")
			}
			atCA := env.ca.statuses(o.ID)
			got := env.order(t, o.ID)
			if commit {
				if err != nil || got.State != order.StateCANCELLED || atCA[ca.StatusRevoked] != 1 {
					t.Fatalf("InTx = %v; order %s, CA %v; want CANCELLED and revoked", err, got.State, atCA)
				}
				return
			}
			if err != boom {
				t.Fatalf("InTx = %v, want the caller's error", err)
			}
			if got.State != o.State || got.Version != o.Version || atCA[ca.StatusRevoked] != 0 {
				t.Errorf("order %s v%d, CA %v after the rollback; want %s v%d and nothing revoked",
					got.State, got.Version, atCA, o.State, o.Version)
			}
			if c := env.db.Certificate.Query().Where(certificate.OrderID(o.ID)).OnlyX(env.sys); c.State != certificate.StateVALID {
				t.Errorf("certificate %s after the rollback", c.State)
			}
		})
	}
}
