package server_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/vscard/vscard/server/servertest"
)

// TestAuthorizationMatrix runs every root field of the API as every kind of caller and
// asserts the outcome: OK, or the error code. Rows a caller may not see are NOT_FOUND
// (indistinguishable from missing), fields a caller may not use are FORBIDDEN, and
// anonymous callers are UNAUTHENTICATED.
func TestAuthorizationMatrix(t *testing.T) {
	env := servertest.Start(t, generous)
	alice := env.SignIn(t, servertest.Alice)
	carol := env.SignIn(t, servertest.Carol)
	admin := env.SignIn(t, servertest.Admin)
	olga := env.SignIn(t, servertest.Olga) // operator
	portal := env.Bearer(env.PortalToken(t, "cards:read"))
	anon := env.Anonymous()

	// alice owns a completed order with a card. Its bridge session ended with the order, so
	// the bridge is refused everything (UNAUTHENTICATED); what a live bridge session may do
	// is driven step by step in process_test.go.
	done := start(t, env, alice)
	done.toCardReady()
	done.next()
	bridge := done.bridge
	serial := done.claim.Card.Serial
	var carolMe struct{ Me struct{ ID string } }
	carol.MustDo(t, `{ me { id } }`, nil, &carolMe)
	var aliceCard struct{ Card struct{ ID string } }
	alice.MustDo(t, `query($s: String!) { card(serial: $s) { id } }`, map[string]any{"s": serial}, &aliceCard)
	onCard := map[string]any{"card": aliceCard.Card.ID}

	callers := []struct {
		name string
		c    *servertest.Client
	}{{"anonymous", anon}, {"alice", alice}, {"carol", carol}, {"admin", admin}, {"operator", olga}, {"portal", portal}, {"bridge", bridge}}

	const (
		OK    = "OK"
		UN    = "UNAUTHENTICATED"
		FB    = "FORBIDDEN"
		NF    = "NOT_FOUND"
		IS    = "ILLEGAL_STATE"
		TI    = "TOKEN_INVALID"
		SE    = "SCRIPT_ERROR"
		CONFL = "CONFLICT"
		RR    = "REASON_REQUIRED"
	)
	ord := map[string]any{"id": done.id}
	cases := []struct {
		op   string
		vars map[string]any
		// want per caller, in the order of callers: anonymous, alice, carol, admin, operator,
		// portal, bridge. An operator may what an administrator may, but not configure the
		// server (the option script).
		want [7]string
	}{
		{`{ me { id } }`, nil, [7]string{UN, OK, OK, OK, OK, FB, UN}},
		{`query($id: ID!) { order(id: $id) { id } }`, ord, [7]string{UN, OK, NF, OK, OK, FB, UN}},
		{`query($s: String!) { card(serial: $s) { id } }`, map[string]any{"s": serial}, [7]string{UN, OK, NF, OK, OK, FB, UN}},
		{`query($s: String!) { cardStatus(serial: $s) { state certificates { state } } }`, map[string]any{"s": serial}, [7]string{UN, OK, NF, OK, OK, OK, UN}},
		// The batch form answers null for a card the caller may not see, not NOT_FOUND.
		{`query($s: String!) { cardStatuses(serials: [$s]) { state } }`, map[string]any{"s": serial}, [7]string{UN, OK, OK, OK, OK, OK, UN}},
		{`{ processes { name } }`, nil, [7]string{UN, OK, OK, OK, OK, FB, UN}},
		{`{ optionScript { name } }`, nil, [7]string{UN, FB, FB, OK, FB, FB, UN}},
		{`{ validateOptionScript(source: "x = 1") { ok } }`, nil, [7]string{UN, FB, FB, OK, FB, FB, UN}},
		{`query($id: ID!) { node(id: $id) { id } }`, ord, [7]string{UN, OK, NF, OK, OK, FB, UN}},
		{`query($id: ID!) { nodes(ids: [$id]) { id } }`, ord, [7]string{UN, OK, NF, OK, OK, FB, UN}},
		{`{ cards { totalCount } }`, nil, [7]string{UN, OK, OK, OK, OK, FB, UN}},
		{`{ certificates { totalCount } }`, nil, [7]string{UN, OK, OK, OK, OK, FB, UN}},
		{`{ orders { totalCount } }`, nil, [7]string{UN, OK, OK, OK, OK, FB, UN}},
		{`{ users { totalCount } }`, nil, [7]string{UN, FB, FB, OK, OK, FB, UN}},
		{`{ auditEvents { totalCount } }`, nil, [7]string{UN, FB, FB, OK, OK, FB, UN}},
		{qNext, ord, [7]string{UN, IS, NF, NF, NF, FB, UN}},
		{`mutation($id: ID!) { renewHandoff(orderId: $id) { url } }`, ord, [7]string{UN, IS, NF, NF, NF, FB, UN}},
		// Acting on someone else's order, account or card needs a reason; one's own does not.
		{qCancel, ord, [7]string{UN, IS, NF, IS, IS, FB, UN}},
		{`mutation($id: ID!) { cancelOrder(orderId: $id) { id } }`, ord, [7]string{UN, IS, NF, RR, RR, FB, UN}},
		{`mutation($id: ID!) { claimOrder(orderId: $id, token: "forged") { sessionToken } }`, ord, [7]string{TI, TI, TI, TI, TI, FB, UN}},
		{qCreate, ord, [7]string{UN, FB, FB, FB, FB, FB, UN}},
		{`mutation($id: ID!) { submitCardKeys(orderId: $id, keys: []) { serial } }`, ord, [7]string{UN, FB, FB, FB, FB, FB, UN}},
		{`mutation($id: ID!) { confirmCardReady(orderId: $id, serial: "1", device: {reader: "r"}) { state } }`, ord, [7]string{UN, FB, FB, FB, FB, FB, UN}},
		{`mutation($id: ID!) { failOrder(orderId: $id, reason: "x") { state } }`, ord, [7]string{UN, FB, FB, FB, FB, FB, UN}},
		{`mutation($id: ID!) { setUserState(userId: $id, state: ACTIVE) { state } }`, map[string]any{"id": carolMe.Me.ID}, [7]string{UN, FB, FB, RR, RR, FB, UN}},
		{`mutation($id: ID!) { setUserState(userId: $id, state: ACTIVE, reason: " ") { state } }`, map[string]any{"id": carolMe.Me.ID}, [7]string{UN, FB, FB, RR, RR, FB, UN}},
		{`mutation($id: ID!) { setUserState(userId: $id, state: ACTIVE, reason: "back from leave") { state } }`, map[string]any{"id": carolMe.Me.ID}, [7]string{UN, FB, FB, OK, OK, FB, UN}},
		{`mutation($id: ID!) { endUserSessions(userId: $id) }`, map[string]any{"id": carolMe.Me.ID}, [7]string{UN, FB, FB, RR, RR, FB, UN}},
		{`mutation { endUserSessions(userId: "usr_nobody") }`, nil, [7]string{UN, FB, FB, NF, NF, FB, UN}},
		{`mutation { signOutEverywhere }`, nil, [7]string{UN, OK, OK, OK, OK, FB, UN}}, // ends only the others
		{`mutation { updateOptionScript(source: "def options(") { name } }`, nil, [7]string{UN, FB, FB, SE, FB, FB, UN}},
		{`mutation { revertOptionScript(version: 1) { current { version } } }`, nil, [7]string{UN, FB, FB, OK, FB, FB, UN}},
		{`mutation { revokeCard(serial: "00000000") { id } }`, nil, [7]string{UN, NF, NF, NF, NF, FB, UN}},
		{qStart, nil, [7]string{UN, OK, OK, OK, OK, FB, UN}},
		{qStart, nil, [7]string{UN, CONFL, CONFL, CONFL, CONFL, FB, UN}}, // the order each just started is running
		// The operator console: what may be done on alice's card, and Reset PIN for her. Once
		// alice's own order runs, a permitted start is CONFLICT: it passed every check before.
		{`query($card: ID!) { processes(card: $card) { name available } }`, onCard, [7]string{UN, OK, NF, OK, OK, FB, UN}},
		{`mutation($card: ID!) { startProcess(name: "reset-pin", card: $card, reason: "forgot PIN") { id } }`, onCard, [7]string{UN, CONFL, NF, CONFL, CONFL, FB, UN}},
		{`mutation($card: ID!) { startProcess(name: "reset-pin", card: $card) { id } }`, onCard, [7]string{UN, CONFL, NF, RR, RR, FB, UN}},
		{`mutation { endUserSessions(userId: "usr_nobody", reason: "left") }`, nil, [7]string{UN, FB, FB, NF, NF, FB, UN}},
		// Removing alice's card record is an administrator's, and needs a reason too.
		{`mutation($s: String!) { purgeCard(serial: $s, reason: " ") }`, map[string]any{"s": serial}, [7]string{UN, FB, FB, RR, FB, FB, UN}},
		// Last, as alice's card is gone after it: she revokes it without a word; an
		// operator revoking someone's card must say why.
		{`mutation($s: String!) { revokeCard(serial: $s) { id } }`, map[string]any{"s": serial}, [7]string{UN, OK, NF, RR, RR, FB, UN}},
	}
	for _, tc := range cases {
		for i, who := range callers {
			t.Run(fmt.Sprintf("%s/%s", who.name, firstLine(tc.op)), func(t *testing.T) {
				err := who.c.Do(context.Background(), tc.op, tc.vars, nil)
				got := OK
				if err != nil {
					got = codeOf(err)
					if got == "" {
						got = err.Error()
					}
				}
				if got != tc.want[i] {
					t.Errorf("got %s, want %s (%v)", got, tc.want[i], err)
				}
			})
		}
	}

	// Lists show each caller only their own rows.
	counts := map[string]int{}
	for _, who := range []struct {
		name string
		c    *servertest.Client
	}{{"alice", alice}, {"carol", carol}} {
		var out struct{ Cards struct{ TotalCount int } }
		who.c.MustDo(t, `{ cards { totalCount } }`, nil, &out)
		counts[who.name] = out.Cards.TotalCount
	}
	if counts["alice"] != 1 || counts["carol"] != 0 {
		t.Errorf("cards visible: %v, want alice 1 and carol 0", counts)
	}
	// Edges too: carol's own orders never lead to alice's card.
	var edges struct {
		Me struct{ Cards struct{ TotalCount int } }
	}
	carol.MustDo(t, `{ me { cards { totalCount } } }`, nil, &edges)
	if edges.Me.Cards.TotalCount != 0 {
		t.Errorf("carol's me.cards shows %d cards", edges.Me.Cards.TotalCount)
	}

	// Subscriptions, over WebSocket.
	subWant := [7]string{UN, OK, NF, OK, OK, FB, UN}
	for i, who := range callers {
		t.Run("subscription/"+who.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			got := OK
			sub, err := who.c.Subscribe(ctx, qUpdates, ord)
			if err != nil {
				got = UN // the connection itself was refused
			} else {
				defer sub.Close()
				var n int
				for range sub.Next {
					n++
				}
				if len(*sub.Err) > 0 {
					got = sub.Err.Code()
				} else if n != 1 {
					got = fmt.Sprintf("%d messages for a completed order", n)
				}
			}
			if got != subWant[i] {
				t.Errorf("got %s, want %s (%v)", got, subWant[i], err)
			}
		})
	}
}

func firstLine(op string) string {
	if len(op) > 60 {
		return op[:60]
	}
	return op
}

func TestPlaygroundIsForAdmins(t *testing.T) {
	env := servertest.Start(t)
	noRedirect := func(c *servertest.Client) *http.Client {
		h := *c.HTTP
		h.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		return &h
	}
	cases := []struct {
		name string
		c    *servertest.Client
		want int
	}{
		{"error/anonymous is sent to sign in", env.Anonymous(), http.StatusFound},
		{"error/user", env.SignIn(t, servertest.Alice), http.StatusForbidden},
		{"ok/admin", env.SignIn(t, servertest.Admin), http.StatusOK},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := noRedirect(tc.c).Get(env.URL + "/playground")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Errorf("GET /playground: %d, want %d", resp.StatusCode, tc.want)
			}
		})
	}
}
