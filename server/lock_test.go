package server_test

import (
	"context"
	"testing"

	"golang.org/x/crypto/ocsp"

	"github.com/vscard/vscard/ent/card"
	"github.com/vscard/vscard/ent/certificate"
	entorder "github.com/vscard/vscard/ent/order"
	"github.com/vscard/vscard/ent/user"
	"github.com/vscard/vscard/server/servertest"
)

const qSetState = `mutation($id: ID!, $state: UserState!) { setUserState(userId: $id, state: $state, reason: "test") { state } }`

// TestLockingEndsTheOrder has an administrator lock a person at each step of an order in
// progress. Only ACTIVE people may order, so the order ends at once (the portal sees
// CANCELLED live), the Desktop App's next call is refused, nothing it issued stays valid in
// the identity store or at the CA, no card is left, and the person cannot start again until
// they are ACTIVE.
func TestLockingEndsTheOrder(t *testing.T) {
	env := servertest.Start(t)
	alice := env.SignIn(t, servertest.Alice)
	admin := env.SignIn(t, servertest.Admin)
	var me struct{ Me struct{ ID string } }
	alice.MustDo(t, `{ me { id } }`, nil, &me)
	setState := func(state string) {
		admin.MustDo(t, qSetState, map[string]any{"id": me.Me.ID, "state": state}, nil)
	}
	for _, tc := range []struct {
		name   string
		before func(o *order)
		// then is the Desktop App's or the portal's next call, now refused.
		then func(o *order) error
	}{
		{"awaiting the Desktop App", func(o *order) { o.next() }, func(o *order) error { return o.claimWith(o.token) }},
		{"card being created", func(o *order) { o.next(); o.mustClaim(); o.mustCreate() }, func(o *order) error {
			return o.bridge.Do(context.Background(), qSubmit, map[string]any{"id": o.id, "keys": o.keys()}, nil)
		}},
		{"card ready, certificates issued", func(o *order) { o.toCardReady() }, func(o *order) error {
			return alice.Do(context.Background(), qNext, map[string]any{"id": o.id}, nil)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := start(t, env, alice)
			o.t = t
			tc.before(o)
			sub := subscribe(t, o, o.state())
			setState("LOCKED")
			if s := nextState(t, sub); s != "CANCELLED" {
				t.Fatalf("after locking, the portal's subscription delivered %s, want CANCELLED", s)
			}
			if err := tc.then(o); err == nil {
				t.Fatal("the order went on after its owner was locked")
			}
			o.user = admin // locking ended the owner's session
			if got := o.state(); got != "CANCELLED" {
				t.Fatalf("order is %s, want CANCELLED", got)
			}
			for _, c := range o.certs {
				if got := ocspStatus(t, env, c.Pem); got != ocsp.Revoked {
					t.Errorf("certificate %s: OCSP status %d, want revoked", c.Serial, got)
				}
			}
			db := env.Server.DB.Client
			if n := db.Certificate.Query().Where(certificate.OrderID(o.id), certificate.StateEQ(certificate.StateVALID)).CountX(systemCtx()); n != 0 {
				t.Errorf("%d certificates of the order are still VALID in the identity store", n)
			}
			if n := db.Card.Query().Where(card.OrderID(o.id)).CountX(systemCtx()); n != 0 {
				t.Errorf("the order left %d cards", n)
			}
			// Locking ended the person's session; signed in again, they may not start.
			signedOut(t, alice, "the locked person")
			alice = env.SignIn(t, servertest.Alice)
			if err := alice.Do(context.Background(), qStart, nil, nil); codeOf(err) != "USER_NOT_ACTIVE" {
				t.Errorf("a locked person's start: %v, want USER_NOT_ACTIVE", err)
			}
			setState("ACTIVE")
		})
	}
	// The history says why.
	o := env.Server.DB.Client.Order.Query().Where(entorder.StateEQ(entorder.StateCANCELLED)).FirstX(systemCtx())
	if last := o.Steps[len(o.Steps)-1].Note; last != "cancelled: the account was set to LOCKED" {
		t.Errorf("the cancelled order's last step says %q", last)
	}
}

// TestInactiveOwnerCannotGoOn changes a person's state behind the API's back (as another
// tool writing to the database might, or if ending their order failed): the portal's Next
// and the Desktop App's claim still refuse to go on for someone who is not ACTIVE.
func TestInactiveOwnerCannotGoOn(t *testing.T) {
	env := servertest.Start(t)
	alice := env.SignIn(t, servertest.Alice)
	var me struct{ Me struct{ ID string } }
	alice.MustDo(t, `{ me { id } }`, nil, &me)
	setState := func(s user.State) {
		env.Server.DB.Client.User.UpdateOneID(me.Me.ID).SetState(s).ExecX(systemCtx())
	}

	waiting := start(t, env, alice)
	waiting.next()
	setState(user.StateLOCKED)
	if err := waiting.claimWith(waiting.token); codeOf(err) != "USER_NOT_ACTIVE" {
		t.Errorf("claim for a locked owner: %v, want USER_NOT_ACTIVE", err)
	}
	setState(user.StateACTIVE)
	alice.MustDo(t, qCancel, map[string]any{"id": waiting.id}, nil)

	started := start(t, env, alice)
	setState(user.StateINACTIVE)
	if err := alice.Do(context.Background(), qNext, map[string]any{"id": started.id}, nil); codeOf(err) != "USER_NOT_ACTIVE" {
		t.Errorf("Next for an inactive owner: %v, want USER_NOT_ACTIVE", err)
	}
	if got := started.state(); got != "STARTED" {
		t.Errorf("the refused Next moved the order to %s", got)
	}
}
