package enroll

import (
	"bytes"
	"context"
	"slices"
	"testing"

	"github.com/vscard/vscard/ent"
	"github.com/vscard/vscard/ent/auditevent"
	"github.com/vscard/vscard/ent/card"
	"github.com/vscard/vscard/ent/user"
	"github.com/vscard/vscard/server/audit"
	"github.com/vscard/vscard/server/cardproof"
	"github.com/vscard/vscard/server/errs"
	"github.com/vscard/vscard/server/events"
	"github.com/vscard/vscard/server/record"
	"github.com/vscard/vscard/server/revocation"
)

// provenCard gives u an ACTIVE card whose management key the test knows, as the card
// itself does.
func (env *testEnv) provenCard(t *testing.T, u *ent.User, serial string) (*ent.Card, []byte) {
	t.Helper()
	key := bytes.Repeat([]byte{byte(len(serial)), serial[len(serial)-1]}, 12)
	c := env.activeCard(t, u, serial)
	c = env.db.Card.UpdateOne(c).SetManagementKey(env.e.box.Seal(key, "card:management-key:"+serial)).SaveX(env.sys)
	return c, key
}

// answer asks for a challenge for serial and answers it with key, as the card would.
func (env *testEnv) answer(t *testing.T, serial string, key []byte) (challenge, response []byte) {
	t.Helper()
	ch, err := env.e.CardChallenge(context.Background(), serial)
	if err != nil {
		t.Fatalf("challenge for %s: %v", serial, err)
	}
	if !ch.ExpiresAt.Equal(env.clock.Now().Add(cardproof.ChallengeTTL)) {
		t.Errorf("challenge expires at %v, want the clock + %v", ch.ExpiresAt, cardproof.ChallengeTTL)
	}
	return ch.Challenge, cardproof.Response(key, serial, ch.Challenge)
}

func TestCardProof(t *testing.T) {
	env := newEnv(t, nil)
	crd, key := env.provenCard(t, env.ann, "40000001")
	other, otherKey := env.provenCard(t, env.ann, "40000002")
	anon := context.Background()
	sync := func(serial string, ch, resp []byte) (*CardSync, error) {
		return env.e.SyncCard(anon, CardReport{Serial: serial, Challenge: ch, Response: resp})
	}

	t.Run("accepted", func(t *testing.T) {
		ch, resp := env.answer(t, crd.Serial, key)
		s, err := sync(crd.Serial, ch, resp)
		if err != nil || s.State != card.StateACTIVE || s.Remove {
			t.Fatalf("sync = %+v, %v; want the ACTIVE card, kept", s, err)
		}
		if c := env.db.Card.GetX(env.sys, crd.ID); c.SeenAt == nil || !c.SeenAt.Equal(env.clock.Now()) || c.ProofChallenge != nil && len(*c.ProofChallenge) > 0 {
			t.Errorf("after the proof: seen %v, challenge left %v", c.SeenAt, c.ProofChallenge)
		}
	})
	t.Run("replayed", func(t *testing.T) {
		ch, resp := env.answer(t, crd.Serial, key)
		if _, err := sync(crd.Serial, ch, resp); err != nil {
			t.Fatal(err)
		}
		_, err := sync(crd.Serial, ch, resp)
		wantCode(t, err, errs.Forbidden)
	})
	t.Run("replaced by a newer challenge", func(t *testing.T) {
		ch, resp := env.answer(t, crd.Serial, key)
		env.answer(t, crd.Serial, key)
		_, err := sync(crd.Serial, ch, resp)
		wantCode(t, err, errs.Forbidden)
	})
	t.Run("expired", func(t *testing.T) {
		ch, resp := env.answer(t, crd.Serial, key)
		env.clock.Add(cardproof.ChallengeTTL)
		_, err := sync(crd.Serial, ch, resp)
		wantCode(t, err, errs.Forbidden)
	})
	t.Run("wrong key", func(t *testing.T) {
		ch, _ := env.answer(t, crd.Serial, key)
		_, err := sync(crd.Serial, ch, cardproof.Response(otherKey, crd.Serial, ch))
		wantCode(t, err, errs.Forbidden)
	})
	t.Run("wrong response spends the challenge", func(t *testing.T) {
		ch, resp := env.answer(t, crd.Serial, key)
		_, err := sync(crd.Serial, ch, append([]byte{}, resp[1:]...))
		wantCode(t, err, errs.Forbidden)
		_, err = sync(crd.Serial, ch, resp)
		wantCode(t, err, errs.Forbidden)
	})
	t.Run("other card", func(t *testing.T) {
		// The other card's own answer, sent for this card: its challenge is not this
		// card's, and its MAC binds its serial.
		ch, resp := env.answer(t, other.Serial, otherKey)
		_, err := sync(crd.Serial, ch, resp)
		wantCode(t, err, errs.Forbidden)
		// This card's challenge answered by the other card's key.
		ch, _ = env.answer(t, crd.Serial, key)
		_, err = sync(crd.Serial, ch, cardproof.Response(otherKey, other.Serial, ch))
		wantCode(t, err, errs.Forbidden)
	})
	t.Run("unknown card", func(t *testing.T) {
		_, err := env.e.CardChallenge(anon, "49999999")
		wantCode(t, err, errs.NotFound)
	})
	t.Run("updated_at stays for the sweep", func(t *testing.T) {
		before := env.db.Card.GetX(env.sys, crd.ID).UpdatedAt
		env.clock.Add(1)
		ch, resp := env.answer(t, crd.Serial, key)
		if _, err := sync(crd.Serial, ch, resp); err != nil {
			t.Fatal(err)
		}
		if after := env.db.Card.GetX(env.sys, crd.ID).UpdatedAt; !after.Equal(before) {
			t.Errorf("updated_at moved from %v to %v by a mere contact", before, after)
		}
	})
}

func TestSyncCardPINState(t *testing.T) {
	env := newEnv(t, nil)
	crd, key := env.provenCard(t, env.ann, "40000011")
	anon := context.Background()
	notices, err := env.e.bus.Subscribe(t.Context(), events.CardKey(crd.ID))
	if err != nil {
		t.Fatal(err)
	}
	report := func(st *record.PINState, changes ...PINChange) *CardSync {
		t.Helper()
		ch, resp := env.answer(t, crd.Serial, key)
		s, err := env.e.SyncCard(anon, CardReport{Serial: crd.Serial, Challenge: ch, Response: resp, PINState: st, PINChanges: changes})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	pinAudits := func() []string {
		return env.db.AuditEvent.Query().Where(auditevent.ObjectID(crd.ID)).
			Order(ent.Asc(auditevent.FieldID)).Select(auditevent.FieldAction).StringsX(env.sys)
	}

	two := 2
	s := report(&record.PINState{TriesLeft: 2}, PINChange{Result: PINChangeWrongPIN, At: env.clock.Now(), TriesLeft: &two})
	if s.PinState == nil || s.PinState.TriesLeft != 2 || !s.PinState.ReportedAt.Equal(env.clock.Now()) {
		t.Fatalf("stored PIN state %+v", s.PinState)
	}
	select {
	case <-notices:
	default:
		t.Error("a changed PIN state published no card notice")
	}
	if got := pinAudits(); len(got) != 2 || !slices.Contains(got, "card.pin_change_failed") || !slices.Contains(got, "card.pin_state_reported") {
		t.Errorf("audit = %v", got)
	}

	// The same state again changes nothing and audits nothing.
	env.clock.Add(60e9)
	s = report(&record.PINState{TriesLeft: 2})
	if !s.PinState.ReportedAt.Equal(env.clock.Now().Add(-60e9)) || len(pinAudits()) != 2 {
		t.Errorf("an unchanged report wrote: reported %v, %d audit events", s.PinState.ReportedAt, len(pinAudits()))
	}
	select {
	case <-notices:
		t.Error("an unchanged report published a notice")
	default:
	}

	// A PIN change alone (the state as before) is audited.
	report(&record.PINState{TriesLeft: 2}, PINChange{Result: PINChanged, At: env.clock.Now()})
	if got := pinAudits(); len(got) != 3 || !slices.Contains(got, "card.pin_changed") {
		t.Errorf("audit = %v", got)
	}
	// What a card's contact reports is its owner's Desktop App's doing, not an anonymous one.
	for _, ev := range env.db.AuditEvent.Query().Where(auditevent.ObjectID(crd.ID)).AllX(env.sys) {
		if ev.ActorKind != audit.KindCard || ev.Actor != "card:"+crd.Serial || ev.ActorID != crd.OwnerID {
			t.Errorf("%s by %s %q (%q), want the Desktop App holding card %s", ev.Action, ev.ActorKind, ev.Actor, ev.ActorID, crd.Serial)
		}
	}

	s = report(&record.PINState{TriesLeft: 0, Blocked: true})
	if c := env.db.Card.GetX(env.sys, crd.ID); c.PinState == nil || !c.PinState.Blocked {
		t.Errorf("blocked PIN not stored: %+v", c.PinState)
	}
	if got := pinAudits(); len(got) != 4 {
		t.Errorf("audit = %v", got)
	}

	_, err = env.e.SyncCard(anon, CardReport{Serial: crd.Serial, PINState: &record.PINState{TriesLeft: 300}})
	wantCode(t, err, errs.InvalidInput)
}

// TestCardPublished: revoke and the cascades tell the card's subscribers, and the sync
// then tells the Desktop App to remove the card.
func TestCardPublished(t *testing.T) {
	env := newEnv(t, nil)
	crd, key := env.provenCard(t, env.ann, "40000021")
	locked, _ := env.provenCard(t, env.ann, "40000022")
	sub := func(id string) <-chan struct{} {
		ch, err := env.e.bus.Subscribe(t.Context(), events.CardKey(id))
		if err != nil {
			t.Fatal(err)
		}
		return ch
	}
	heard := func(name string, ch <-chan struct{}) {
		t.Helper()
		select {
		case <-ch:
		default:
			t.Errorf("%s: no card notice", name)
		}
	}

	// A cascade: the person is LOCKED, so are their cards.
	n1, n2 := sub(crd.ID), sub(locked.ID)
	env.cascade(t, env.ann, user.StateLOCKED)
	heard("lock cascade", n1)
	heard("lock cascade", n2)

	// Back to ACTIVE changes no card, then INACTIVE revokes them.
	env.cascade(t, env.ann, user.StateACTIVE)
	env.cascade(t, env.ann, user.StateINACTIVE)
	heard("revoke cascade", n1)
	ch, resp := env.answer(t, crd.Serial, key)
	s, err := env.e.SyncCard(context.Background(), CardReport{Serial: crd.Serial, Challenge: ch, Response: resp})
	if err != nil || s.State != card.StateINACTIVE || !s.Remove {
		t.Fatalf("sync of a revoked card = %+v, %v; want INACTIVE, remove", s, err)
	}

	// A revoke by the owner.
	env.db.User.UpdateOne(env.ann).SetState(user.StateACTIVE).ExecX(env.sys)
	third, _ := env.provenCard(t, env.ann, "40000023")
	n3 := sub(third.ID)
	if _, err := env.e.RevokeCard(env.as(env.ann, false), third.Serial, revocation.NoLongerNeeded, ""); err != nil {
		t.Fatal(err)
	}
	heard("revoke", n3)
}

// cascade sets u's state and runs the card cascade as users.SetState does.
func (env *testEnv) cascade(t *testing.T, u *ent.User, st user.State) {
	t.Helper()
	cur := env.db.User.GetX(env.sys, u.ID)
	cc := env.e.NewCardCascade()
	err := env.e.withTx(env.sys, func(tx *ent.Tx) error {
		upd, err := tx.User.UpdateOneID(u.ID).SetState(st).Save(env.sys)
		if err != nil {
			return err
		}
		return cc.InTx(env.sys, tx, upd, cur.State, env.clock.Now())
	})
	if err != nil {
		t.Fatal(err)
	}
	cc.After(env.sys)
}
