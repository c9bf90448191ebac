package server_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"

	"github.com/vscard/vscard/server/cardspec/unblockcode"
	"github.com/vscard/vscard/server/enroll"
	"github.com/vscard/vscard/server/options"
	"github.com/vscard/vscard/server/servertest"
)

const qAnswerUnblock = `mutation($id: ID!, $ch: String!) { answerUnblockChallenge(orderId: $id, challenge: $ch) { response order { state } } }`

// TestUnblockPINOfflineAPI runs unblock-pin-offline through the API: refused while the
// option script leaves it off; with UNBLOCK_PIN_OFFLINE = True the person's challenge gets
// the response the card (whose management key the Desktop App got at the claim) expects,
// and a challenge of another card gets INVALID_INPUT with its reason.
func TestUnblockPINOfflineAPI(t *testing.T) {
	env := servertest.Start(t)
	alice := env.SignIn(t, servertest.Alice)
	admin := env.SignIn(t, servertest.Admin)
	o := start(t, env, alice)
	o.next()
	// The claim as the Desktop App gets it, with the management key it sets on the card.
	var raw struct{ ClaimOrder json.RawMessage }
	env.Anonymous().MustDo(t, qClaim, map[string]any{"id": o.id, "token": o.token}, &raw)
	var claimed struct {
		Card struct{ Serial, ManagementKey string }
	}
	if err := json.Unmarshal(raw.ClaimOrder, &o.claim); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw.ClaimOrder, &claimed); err != nil {
		t.Fatal(err)
	}
	o.bridge = env.Bearer(o.claim.SessionToken)
	o.mustCreate()
	o.mustSubmit()
	o.mustReady()
	o.next()
	serial := claimed.Card.Serial
	key, err := hex.DecodeString(claimed.Card.ManagementKey)
	if err != nil || len(key) != 24 {
		t.Fatalf("claim's management key %q", claimed.Card.ManagementKey)
	}
	c := readCard(t, alice, serial)

	startUnblock := func() (string, error) {
		var started struct{ StartProcess struct{ ID string } }
		err := alice.Do(context.Background(), qStartOnCard, map[string]any{"p": enroll.ProcessUnblockPINOffline, "c": c.Card.ID}, &started)
		return started.StartProcess.ID, err
	}
	if _, err := startUnblock(); codeOf(err) != "FORBIDDEN" {
		t.Fatalf("unblock-pin-offline with the default script: %v, want FORBIDDEN", err)
	}
	src := strings.Replace(options.DefaultScript, "UNBLOCK_PIN_OFFLINE = False", "UNBLOCK_PIN_OFFLINE = True", 1)
	admin.MustDo(t, `mutation($s: String!) { updateOptionScript(source: $s) { name } }`, map[string]any{"s": src}, nil)
	id, err := startUnblock()
	if err != nil {
		t.Fatal(err)
	}

	other, err := unblockcode.NewChallenge(serial+"1", rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	for unblockcode.ForCard(other, serial) {
		other, _ = unblockcode.NewChallenge(serial+"1", rand.Reader)
	}
	err = alice.Do(context.Background(), qAnswerUnblock, map[string]any{"id": id, "ch": unblockcode.Format(other)}, nil)
	es, _ := err.(servertest.Errors)
	if codeOf(err) != "INVALID_INPUT" || len(es) == 0 || es[0].Extensions["reason"] != enroll.ChallengeOtherCard {
		t.Fatalf("another card's challenge: %v, want INVALID_INPUT with reason %s", err, enroll.ChallengeOtherCard)
	}

	ch, _ := unblockcode.NewChallenge(serial, rand.Reader)
	var out struct {
		AnswerUnblockChallenge struct {
			Response string
			Order    struct{ State string }
		}
	}
	alice.MustDo(t, qAnswerUnblock, map[string]any{"id": id, "ch": unblockcode.Format(ch)}, &out)
	if want := unblockcode.Format(unblockcode.Response(key, serial, ch)); out.AnswerUnblockChallenge.Response != want {
		t.Fatalf("response %q, want %q", out.AnswerUnblockChallenge.Response, want)
	}
	if out.AnswerUnblockChallenge.Order.State != "COMPLETED" {
		t.Fatalf("order is %s", out.AnswerUnblockChallenge.Order.State)
	}
}
