package handoff

import (
	"context"
	"encoding/base64"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/vscard/vscard/desktop-bridge/api"
	"github.com/vscard/vscard/desktop-bridge/internal/portaltest"
	"github.com/vscard/vscard/desktop-bridge/pcsctest"
)

// TestDeleteWithTheCard is vscard-bridge delete's conversation with the server, on a card
// made by get-virtual-smart-card through a real server, a private pcscd and vpcd: the card
// signs the server's challenge with its authentication key once it took the PIN (a wrong
// PIN is asked again with the tries left), and the server then deletes the card for its
// owner: INACTIVE, every certificate revoked. A challenge signed for another card, or a
// second delete, is refused.
func TestDeleteWithTheCard(t *testing.T) {
	env := pcsctest.Start(t, 2)
	srv := portaltest.Start(t)
	alice := srv.SignIn(t)
	host := newTestHost(t, env)
	trust := &memTrust{}
	trust.Trust(srv.URL)
	newCard := func() *Result {
		t.Helper()
		o, link := alice.StartOrder()
		h, err := ParseLink(link)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		res, err := Run(ctx, Config{
			Trust: trust, Prompter: newPrompter(false, goodPIN), Cards: host, Host: "test-host", Version: "test",
			Logger: testLogger(t),
		}, h)
		if err != nil {
			t.Fatal(err)
		}
		if got := alice.Next(o.ID).State; got != "COMPLETED" {
			t.Fatalf("new card order %s", got)
		}
		return res
	}
	card, other := newCard(), newCard()
	serialOf := func(r *Result) uint32 {
		n, _ := strconv.ParseUint(r.Serial, 10, 32)
		return uint32(n)
	}
	client, err := api.New(srv.URL, http.DefaultClient)
	if err != nil {
		t.Fatal(err)
	}
	gql := client.GraphQL()
	ctx := context.Background()
	sign := func(t *testing.T, r *Result, challenge string, pins ...string) ([]byte, [][]Problem, error) {
		t.Helper()
		if err := host.ResetCard(serialOf(r)); err != nil { // as the agent leaves a card
			t.Fatal(err)
		}
		var asked [][]Problem
		sig, err := SignChallenge(ctx, r.Reader, serialOf(r), []byte(challenge), func(_ context.Context, problems []Problem) (string, error) {
			asked = append(asked, problems)
			if len(asked) > len(pins) {
				return "", ErrCancelled
			}
			return pins[len(asked)-1], nil
		})
		return sig, asked, err
	}

	ch, err := api.DeleteChallenge(ctx, gql, card.Serial)
	if err != nil {
		t.Fatal(err)
	}
	// The other card's signature of this card's challenge proves nothing.
	otherSig, _, err := sign(t, other, ch.DeleteChallenge, goodPIN)
	if err != nil {
		t.Fatal(err)
	}
	_, err = api.DeleteCardWithCard(ctx, gql, card.Serial, ch.DeleteChallenge, base64.StdEncoding.EncodeToString(otherSig))
	if api.Code(err) != api.ErrorCodeForbidden {
		t.Fatalf("another card's signature: %v, want FORBIDDEN", err)
	}

	sig, asked, err := sign(t, card, ch.DeleteChallenge, "111999", goodPIN)
	if err != nil {
		t.Fatalf("sign: %v", err)
	}
	if len(asked) != 2 || len(asked[1]) != 1 || asked[1][0].Code != ProblemCurrentWrong {
		t.Fatalf("problems asked with: %v", asked)
	}
	got, err := api.DeleteCardWithCard(ctx, gql, card.Serial, ch.DeleteChallenge, base64.StdEncoding.EncodeToString(sig))
	if err != nil {
		t.Fatalf("delete: %v", err)
	}
	if got.DeleteCardWithCard.State != api.CardStateInactive {
		t.Fatalf("the server says the card is %s", got.DeleteCardWithCard.State)
	}
	st := alice.CardStatus(card.Serial)
	if st.State != "INACTIVE" || len(st.Certificates) == 0 {
		t.Fatalf("card status %+v", st)
	}
	for _, c := range st.Certificates {
		if c.State != "REVOKED" {
			t.Errorf("certificate %s is %s", c.Serial, c.State)
		}
	}
	if s := alice.CardStatus(other.Serial); s.State != "ACTIVE" {
		t.Errorf("the other card is %s", s.State)
	}

	// Deleted already: the server refuses by the card's state, and the Desktop App then
	// removes the card all the same.
	ch, err = api.DeleteChallenge(ctx, gql, card.Serial)
	if err != nil {
		t.Fatal(err)
	}
	if sig, _, err = sign(t, card, ch.DeleteChallenge, goodPIN); err != nil {
		t.Fatal(err)
	}
	_, err = api.DeleteCardWithCard(ctx, gql, card.Serial, ch.DeleteChallenge, base64.StdEncoding.EncodeToString(sig))
	if api.Code(err) != api.ErrorCodeIllegalState {
		t.Fatalf("a second delete: %v, want ILLEGAL_STATE", err)
	}
}
