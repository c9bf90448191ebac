package enroll

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vscard/vscard/ent"
	"github.com/vscard/vscard/ent/auditevent"
	"github.com/vscard/vscard/ent/order"
	"github.com/vscard/vscard/server/cardspec"
	"github.com/vscard/vscard/server/cardspec/unblockcode"
	"github.com/vscard/vscard/server/errs"
)

// offlineOptions is an option script with unblock_pin_offline on.
type offlineOptions struct{ fixedOptions }

func (o offlineOptions) Evaluate(ctx context.Context, u *ent.User) (*cardspec.Options, string, error) {
	opts, v, err := o.fixedOptions.Evaluate(ctx, u)
	opts.UnblockPINOffline = true
	return opts, v, err
}

// keyedCard gives u an ACTIVE card whose management key the server keeps sealed, as a
// claim seals it.
func (env *testEnv) keyedCard(t *testing.T, u *ent.User, serial string, key []byte) *ent.Card {
	t.Helper()
	c := env.activeCard(t, u, serial)
	return env.db.Card.UpdateOne(c).SetManagementKey(env.e.box.Seal(key, "card:management-key:"+serial)).SaveX(env.sys)
}

func newChallenge(t *testing.T, serial string) string {
	t.Helper()
	ch, err := unblockcode.NewChallenge(serial, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

func wantReason(t *testing.T, err error, reason string) {
	t.Helper()
	wantCode(t, err, errs.InvalidInput)
	var e *errs.Error
	if !errors.As(err, &e) || e.Details["reason"] != reason || e.Details["field"] != "challenge" {
		t.Fatalf("error %v, want reason %s", err, reason)
	}
}

// TestUnblockPINOfflineDisabled: without unblock_pin_offline the person is not offered the
// process and may not start it.
func TestUnblockPINOfflineDisabled(t *testing.T) {
	env := newEnv(t, nil)
	ann := env.as(env.ann, false)
	crd := env.keyedCard(t, env.ann, "30000001", bytes.Repeat([]byte{9}, 24))
	ps, err := env.e.Processes(ann, crd.ID)
	if err != nil {
		t.Fatal(err)
	}
	if p := offerOf(t, ps, ProcessUnblockPINOffline); p.Available || reasonOf(p) != UnavailableNotPermitted {
		t.Fatalf("offer without the option = %+v", p)
	}
	_, err = env.e.Start(ann, ProcessUnblockPINOffline, crd.ID)
	wantCode(t, err, errs.Forbidden)

	// Enabled at the start, disabled before the challenge is answered: no response.
	env.e.opts = offlineOptions{}
	o, err := env.e.Start(ann, ProcessUnblockPINOffline, crd.ID)
	if err != nil {
		t.Fatal(err)
	}
	env.e.opts = fixedOptions{}
	_, _, err = env.e.AnswerUnblockChallenge(ann, o.ID, unblockcode.Format(newChallenge(t, crd.Serial)))
	wantCode(t, err, errs.Forbidden)
}

// TestUnblockPINOffline: with the option, the person's challenge gets the response the
// card computes from its management key, once, with an audit event naming who asked; a
// malformed, mistyped or other card's challenge is refused with a reason and leaves the
// order to try again; another person cannot answer it.
func TestUnblockPINOffline(t *testing.T) {
	env := newEnv(t, nil)
	env.e.opts = offlineOptions{}
	ann := env.as(env.ann, false)
	key := bytes.Repeat([]byte{7}, 24)
	crd := env.keyedCard(t, env.ann, "30000002", key)
	env.keyedCard(t, env.ann, "30000003", bytes.Repeat([]byte{8}, 24))

	ps, err := env.e.Processes(ann, crd.ID)
	if err != nil {
		t.Fatal(err)
	}
	if p := offerOf(t, ps, ProcessUnblockPINOffline); !p.Available || p.DisplayName != "process.unblock-pin-offline.name" {
		t.Fatalf("offer = %+v", p)
	}
	o, err := env.e.Start(ann, ProcessUnblockPINOffline, crd.ID)
	if err != nil {
		t.Fatal(err)
	}
	ch := newChallenge(t, crd.Serial)

	_, _, err = env.e.AnswerUnblockChallenge(ann, o.ID, "not a challenge")
	wantReason(t, err, ChallengeMalformed)
	typo := []byte(ch)
	typo[3] = map[bool]byte{true: 'A', false: 'B'}[typo[3] != 'A']
	_, _, err = env.e.AnswerUnblockChallenge(ann, o.ID, string(typo))
	wantReason(t, err, ChallengeMistyped)
	var other string
	for other = newChallenge(t, "30000003"); unblockcode.ForCard(other, crd.Serial); other = newChallenge(t, "30000003") {
	}
	_, _, err = env.e.AnswerUnblockChallenge(ann, o.ID, unblockcode.Format(other))
	wantReason(t, err, ChallengeOtherCard)
	if got := env.order(t, o.ID); got.State != order.StateSTARTED {
		t.Fatalf("a refused challenge moved the order to %s", got.State)
	}

	// Another person cannot see the order, let alone answer it.
	_, _, err = env.e.AnswerUnblockChallenge(env.as(env.admin, false), o.ID, ch)
	wantCode(t, err, errs.NotFound)

	// Typed as a person types it: lower case, spaces.
	typed := strings.ToLower(strings.ReplaceAll(unblockcode.Format(ch), "-", " "))
	done, resp, err := env.e.AnswerUnblockChallenge(ann, o.ID, typed)
	if err != nil {
		t.Fatal(err)
	}
	if want := unblockcode.Format(unblockcode.Response(key, crd.Serial, ch)); resp != want {
		t.Fatalf("response %q, want %q (the card's key over its challenge)", resp, want)
	}
	if done.State != order.StateCOMPLETED {
		t.Fatalf("order is %s after the response", done.State)
	}
	// Once: the order is over.
	_, _, err = env.e.AnswerUnblockChallenge(ann, o.ID, ch)
	wantCode(t, err, errs.IllegalState)

	events := env.db.AuditEvent.Query().Where(auditevent.ActionIn("order.unblock_response", "card.pin_unblock_offline")).AllX(env.sys)
	if len(events) != 2 {
		t.Fatalf("audit events %v, want the order's step and the card's", events)
	}
	for _, ev := range events {
		if ev.Actor == "" || ev.Details["challenge"] != unblockcode.Format(ch) {
			t.Errorf("audit %s: actor %q, details %v", ev.Action, ev.Actor, ev.Details)
		}
		if ev.Action == "card.pin_unblock_offline" && (ev.ObjectID != crd.ID || ev.Details["askedBy"] != env.ann.ID) {
			t.Errorf("card audit event %+v", ev)
		}
		if strings.Contains(fmt.Sprint(ev.Details), resp) || strings.Contains(fmt.Sprint(ev.Details), strings.ReplaceAll(resp, "-", "")) {
			t.Errorf("audit %s keeps the response: %v", ev.Action, ev.Details)
		}
	}
}

// TestUnblockPINOfflineRateLimit: a person gets a few responses (or refusals) in a row,
// then RATE_LIMITED until time passes.
func TestUnblockPINOfflineRateLimit(t *testing.T) {
	env := newEnv(t, nil)
	env.e.opts = offlineOptions{}
	ann := env.as(env.ann, false)
	crd := env.keyedCard(t, env.ann, "30000004", bytes.Repeat([]byte{7}, 24))
	o, err := env.e.Start(ann, ProcessUnblockPINOffline, crd.ID)
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		_, _, err = env.e.AnswerUnblockChallenge(ann, o.ID, "not a challenge")
		wantCode(t, err, errs.InvalidInput)
	}
	_, _, err = env.e.AnswerUnblockChallenge(ann, o.ID, unblockcode.Format(newChallenge(t, crd.Serial)))
	wantCode(t, err, errs.RateLimited)
	env.clock.Add(time.Minute)
	if _, _, err = env.e.AnswerUnblockChallenge(ann, o.ID, unblockcode.Format(newChallenge(t, crd.Serial))); err != nil {
		t.Fatalf("after a minute: %v", err)
	}
}
