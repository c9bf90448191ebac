package server_test

import (
	"context"
	"io"
	"net/url"
	"strings"
	"testing"

	"github.com/vscard/vscard/ent/auditevent"
	"github.com/vscard/vscard/server/servertest"
)

const (
	qOpStart = `mutation($name: String!, $card: ID!, $reason: String) {
  startProcess(name: $name, card: $card, reason: $reason) { id state } }`
	qOpNext = `mutation($id: ID!, $reason: String) {
  nextStep(orderId: $id, reason: $reason) { order { state } handoff { url verificationCode } } }`
)

// TestOperatorActsWithReason: an operator locks, unlocks and starts Reset PIN on someone
// else's card and ends their sessions, each with a reason that every audit event of the call
// carries; Reset PIN gives the operator the hand-off link the person's Desktop App claims.
// A plain user cannot act on another's card, and an overlong reason is refused.
func TestOperatorActsWithReason(t *testing.T) {
	env := servertest.Start(t, generous)
	alice := env.SignIn(t, servertest.Alice)
	olga := env.SignIn(t, servertest.Olga)
	carol := env.SignIn(t, servertest.Carol)
	o := start(t, env, alice)
	o.toCardReady()
	o.next()
	var c struct{ Card struct{ ID, State string } }
	alice.MustDo(t, `query($s: String!) { card(serial: $s) { id state } }`, map[string]any{"s": o.claim.Card.Serial}, &c)
	cardID := c.Card.ID
	db := env.Server.DB.Client

	// act runs process on alice's card as olga, with reason on both calls.
	act := func(process, reason string) (state, link, code string) {
		t.Helper()
		var st struct{ StartProcess struct{ ID, State string } }
		olga.MustDo(t, qOpStart, map[string]any{"name": process, "card": cardID, "reason": reason}, &st)
		var nx struct {
			NextStep struct {
				Order   struct{ State string }
				Handoff *struct {
					URL              string `json:"url"`
					VerificationCode string `json:"verificationCode"`
				}
			}
		}
		olga.MustDo(t, qOpNext, map[string]any{"id": st.StartProcess.ID, "reason": reason}, &nx)
		if h := nx.NextStep.Handoff; h != nil {
			link, code = h.URL, h.VerificationCode
		}
		return nx.NextStep.Order.State, link, code
	}
	reasonOf := func(action string) string {
		t.Helper()
		ev, err := db.AuditEvent.Query().Where(auditevent.Action(action)).
			Order(auditevent.ByAt(), auditevent.ByID()).All(systemCtx())
		if err != nil || len(ev) == 0 {
			t.Fatalf("no %s event (%v)", action, err)
		}
		last := ev[len(ev)-1]
		if last.Actor != "olga" {
			t.Errorf("%s by %q, want olga", action, last.Actor)
		}
		r, _ := last.Details["reason"].(string)
		return r
	}

	if st, _, _ := act("lock-virtual-smart-card", "laptop left in a taxi"); st != "COMPLETED" {
		t.Fatalf("lock order is %s, want COMPLETED", st)
	}
	alice.MustDo(t, `query($s: String!) { card(serial: $s) { id state } }`, map[string]any{"s": o.claim.Card.Serial}, &c)
	if c.Card.State != "LOCKED" {
		t.Fatalf("card is %s after the operator's lock, want LOCKED", c.Card.State)
	}
	if r := reasonOf("card.lock"); r != "laptop left in a taxi" {
		t.Errorf("card.lock reason %q", r)
	}
	if st, _, _ := act("unlock-virtual-smart-card", "found in the lost property office"); st != "COMPLETED" {
		t.Fatalf("unlock order is %s, want COMPLETED", st)
	}
	if r := reasonOf("card.unlock"); r != "found in the lost property office" {
		t.Errorf("card.unlock reason %q", r)
	}

	// Reset PIN for alice: olga gets the link and code for alice's computer.
	st, link, code := act("reset-pin", "forgot the PIN after holidays")
	if st != "AWAITING_DESKTOP_APP" || link == "" || code == "" {
		t.Fatalf("reset-pin for alice: state %s, link %q, code %q", st, link, code)
	}
	if r := reasonOf("order.start"); r != "forgot the PIN after holidays" {
		t.Errorf("order.start reason %q", r)
	}
	u, err := url.Parse(link)
	if err != nil || u.Scheme != "vscard" {
		t.Fatalf("hand-off link %q", link)
	}
	var claimed struct{ ClaimOrder claim }
	env.Anonymous().MustDo(t, qClaim, map[string]any{"id": u.Query().Get("order"), "token": u.Query().Get("token")}, &claimed)
	if claimed.ClaimOrder.VerificationCode != code || claimed.ClaimOrder.Card.Serial != o.claim.Card.Serial {
		t.Errorf("the person's Desktop App claimed code %q card %q, want %q and %q",
			claimed.ClaimOrder.VerificationCode, claimed.ClaimOrder.Card.Serial, code, o.claim.Card.Serial)
	}

	// Refusals.
	err = carol.Do(context.Background(), qOpStart, map[string]any{"name": "lock-virtual-smart-card", "card": cardID, "reason": "x"}, nil)
	if got := codeOf(err); got != "NOT_FOUND" {
		t.Errorf("carol locking alice's card: %s, want NOT_FOUND", got)
	}
	err = olga.Do(context.Background(), qOpStart, map[string]any{"name": "lock-virtual-smart-card", "card": cardID, "reason": strings.Repeat("x", 501)}, nil)
	if got := codeOf(err); got != "INVALID_INPUT" {
		t.Errorf("a 501-character reason: %s, want INVALID_INPUT", got)
	}

	var me struct{ Me struct{ ID string } }
	alice.MustDo(t, `{ me { id } }`, nil, &me)

	// The export of alice's events has what olga did to alice's card, with its reason.
	resp, err := olga.HTTP.Get(env.URL + "/audit/export?" + url.Values{"person": {me.Me.ID}, "action": {"card.lock"}}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "laptop left in a taxi") {
		t.Errorf("alice's export (%s) lacks the lock of her card:\n%s", resp.Status, body)
	}

	olga.MustDo(t, `mutation($id: ID!) { endUserSessions(userId: $id, reason: "suspicious sign-ins") }`, map[string]any{"id": me.Me.ID}, nil)
	if r := reasonOf("user.end_sessions"); r != "suspicious sign-ins" {
		t.Errorf("user.end_sessions reason %q", r)
	}
}
