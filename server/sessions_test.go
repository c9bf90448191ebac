package server_test

import (
	"context"
	"testing"

	"github.com/vscard/vscard/ent/auditevent"
	"github.com/vscard/vscard/ent/user"
	"github.com/vscard/vscard/server/servertest"
	"github.com/vscard/vscard/server/users"
)

const (
	qMe                = `{ me { id } }`
	qSignOutEverywhere = `mutation { signOutEverywhere }`
	qEndUserSessions   = `mutation($id: ID!) { endUserSessions(userId: $id, reason: "laptop stolen") }`
)

// signedOut fails the test unless c's session is over: its next request is
// UNAUTHENTICATED.
func signedOut(t *testing.T, c *servertest.Client, who string) {
	t.Helper()
	if err := c.Do(context.Background(), qMe, nil, nil); codeOf(err) != "UNAUTHENTICATED" {
		t.Errorf("%s: next request got %v, want UNAUTHENTICATED", who, err)
	}
}

func signedIn(t *testing.T, c *servertest.Client, who string) {
	t.Helper()
	if err := c.Do(context.Background(), qMe, nil, nil); err != nil {
		t.Errorf("%s: next request got %v, want the session to go on", who, err)
	}
}

func userID(t *testing.T, c *servertest.Client) string {
	t.Helper()
	var me struct{ Me struct{ ID string } }
	c.MustDo(t, qMe, nil, &me)
	return me.Me.ID
}

// sessionsEnded returns what the newest audit event of action on user id says it ended.
func sessionsEnded(t *testing.T, env *servertest.Env, action, id string) float64 {
	t.Helper()
	ev, err := env.Server.DB.Client.AuditEvent.Query().
		Where(auditevent.Action(action), auditevent.ObjectID(id)).
		Order(auditevent.ByAt()).All(systemCtx())
	if err != nil || len(ev) == 0 {
		t.Fatalf("audit %s of %s: %v (%d events)", action, id, err, len(ev))
	}
	n, _ := ev[len(ev)-1].Details["sessions_ended"].(float64)
	return n
}

// TestLockingEndsSessions: locking a person, or setting them INACTIVE, ends every portal
// session they have at once, in every browser; other people's sessions go on.
func TestLockingEndsSessions(t *testing.T) {
	env := servertest.Start(t)
	admin := env.SignIn(t, servertest.Admin)
	carol := env.SignIn(t, servertest.Carol)
	for _, tc := range []struct {
		state string
		ended float64 // the second run also ends the session signed in again in the first
	}{{"LOCKED", 2}, {"INACTIVE", 3}} {
		state := tc.state
		t.Run(state, func(t *testing.T) {
			laptop := env.SignIn(t, servertest.Alice)
			phone := env.SignIn(t, servertest.Alice)
			id := userID(t, laptop)
			admin.MustDo(t, qSetState, map[string]any{"id": id, "state": state}, nil)
			signedOut(t, laptop, "alice's laptop")
			signedOut(t, phone, "alice's phone")
			signedIn(t, carol, "carol")
			signedIn(t, admin, "the administrator")
			if n := sessionsEnded(t, env, "user.set_state", id); n != tc.ended {
				t.Errorf("the audit event says %v sessions ended, want %v", n, tc.ended)
			}
			// Signing in again works (the person then reads why they cannot order).
			again := env.SignIn(t, servertest.Alice)
			if err := again.Do(context.Background(), qStart, nil, nil); codeOf(err) != "USER_NOT_ACTIVE" {
				t.Errorf("start after signing in again: %v, want USER_NOT_ACTIVE", err)
			}
			admin.MustDo(t, qSetState, map[string]any{"id": id, "state": "ACTIVE"}, nil)
			signedIn(t, again, "alice, set ACTIVE again") // ACTIVE ends nothing
		})
	}
}

// TestSignOutEverywhere: a person ends their sessions in every other browser; this one
// goes on until the portal signs it out (RP-initiated logout).
func TestSignOutEverywhere(t *testing.T) {
	env := servertest.Start(t)
	here := env.SignIn(t, servertest.Alice)
	other := env.SignIn(t, servertest.Alice)
	third := env.SignIn(t, servertest.Alice)
	carol := env.SignIn(t, servertest.Carol)
	var out struct{ SignOutEverywhere int }
	here.MustDo(t, qSignOutEverywhere, nil, &out)
	if out.SignOutEverywhere != 2 {
		t.Errorf("signOutEverywhere = %d, want 2", out.SignOutEverywhere)
	}
	signedOut(t, other, "the other browser")
	signedOut(t, third, "the third browser")
	signedIn(t, here, "this browser")
	signedIn(t, carol, "carol")
	if n := sessionsEnded(t, env, users.ActionSignOutEverywhere, userID(t, here)); n != 2 {
		t.Errorf("the audit event says %v sessions ended, want 2", n)
	}
}

// TestAdministratorEndsSessions: an administrator ends every session of a person.
func TestAdministratorEndsSessions(t *testing.T) {
	env := servertest.Start(t)
	admin := env.SignIn(t, servertest.Admin)
	carol := env.SignIn(t, servertest.Carol)
	carol2 := env.SignIn(t, servertest.Carol)
	alice := env.SignIn(t, servertest.Alice)
	id := userID(t, carol)
	var out struct{ EndUserSessions int }
	admin.MustDo(t, qEndUserSessions, map[string]any{"id": id}, &out)
	if out.EndUserSessions != 2 {
		t.Errorf("endUserSessions = %d, want 2", out.EndUserSessions)
	}
	signedOut(t, carol, "carol")
	signedOut(t, carol2, "carol's second browser")
	signedIn(t, alice, "alice")
	signedIn(t, admin, "the administrator")
	if n := sessionsEnded(t, env, users.ActionEndSessions, id); n != 2 {
		t.Errorf("the audit event says %v sessions ended, want 2", n)
	}
	if err := admin.Do(context.Background(), qEndUserSessions, map[string]any{"id": "usr_nobody"}, nil); codeOf(err) != "NOT_FOUND" {
		t.Errorf("end sessions of nobody: %v, want NOT_FOUND", err)
	}
	if err := alice.Do(context.Background(), qEndUserSessions, map[string]any{"id": id}, nil); codeOf(err) != "FORBIDDEN" {
		t.Errorf("a person ends another's sessions: %v, want FORBIDDEN", err)
	}
}

// TestAdministratorKeepsOwnState: an administrator may not change their own state (one who
// locked themself out could not undo it). The server refuses, not only the portal, and
// nothing changes: the state, the session, the audit log.
func TestAdministratorKeepsOwnState(t *testing.T) {
	env := servertest.Start(t)
	admin := env.SignIn(t, servertest.Admin)
	id := userID(t, admin)
	for _, state := range []string{"LOCKED", "INACTIVE", "REGISTERED", "ACTIVE"} {
		err := admin.Do(context.Background(), qSetState, map[string]any{"id": id, "state": state}, nil)
		if codeOf(err) != "FORBIDDEN" {
			t.Errorf("an administrator sets themself %s: %v, want FORBIDDEN", state, err)
		}
	}
	signedIn(t, admin, "the administrator")
	u, err := env.Server.DB.Client.User.Get(systemCtx(), id)
	if err != nil || u.State != user.StateACTIVE {
		t.Fatalf("the administrator is %v (%v), want ACTIVE", u.State, err)
	}
	n, err := env.Server.DB.Client.AuditEvent.Query().
		Where(auditevent.Action("user.set_state"), auditevent.ObjectID(id)).Count(systemCtx())
	if err != nil || n != 0 {
		t.Errorf("%d audit events of a refused change (%v), want 0", n, err)
	}
	// A change of someone else's state still works: the refusal is about oneself. The
	// server makes it on its own behalf, and the audit log still names the administrator.
	alice := env.SignIn(t, servertest.Alice)
	aliceID := userID(t, alice)
	admin.MustDo(t, qSetState, map[string]any{"id": aliceID, "state": "ACTIVE"}, nil)
	ev, err := env.Server.DB.Client.AuditEvent.Query().
		Where(auditevent.Action("user.set_state"), auditevent.ObjectID(aliceID)).Only(systemCtx())
	if err != nil {
		t.Fatal(err)
	}
	if ev.ActorKind != "user" || ev.Actor != "admin" || ev.ActorID != id {
		t.Errorf("the audit event names %s %q, want the administrator", ev.ActorKind, ev.Actor)
	}
}
