package server_test

import (
	"context"
	"testing"
	"time"

	"github.com/vscard/vscard/server"
	"github.com/vscard/vscard/server/servertest"
	"github.com/vscard/vscard/server/testclock"
)

// TestRefusals: each bad request gets a clear code and changes nothing.
func TestRefusals(t *testing.T) {
	clock := testclock.New()
	const tokenTTL = 5 * time.Minute
	env := servertest.Start(t, servertest.WithClock(clock), func(c *server.Config) { c.TokenTTL = tokenTTL })
	alice := env.SignIn(t, servertest.Alice)
	carol := env.SignIn(t, servertest.Carol)
	ctx := context.Background()

	cases := []struct {
		name string
		// run drives a fresh order of alice's and returns the refused call's error and the
		// state the order must still be in.
		run      func(t *testing.T, o *order) (error, string)
		wantCode string
	}{
		{"error/reused token", func(t *testing.T, o *order) (error, string) {
			o.next()
			o.mustClaim()
			return o.claimWith(o.token), "DESKTOP_APP_CONNECTED"
		}, "TOKEN_ALREADY_USED"},
		{"error/expired token", func(t *testing.T, o *order) (error, string) {
			o.next()
			clock.Advance(tokenTTL + time.Second)
			return o.claimWith(o.token), "AWAITING_DESKTOP_APP"
		}, "TOKEN_EXPIRED"},
		{"error/renewed link replaces the old one", func(t *testing.T, o *order) (error, string) {
			o.next()
			old := o.token
			o.user.MustDo(t, `mutation($id: ID!) { renewHandoff(orderId: $id) { url } }`, map[string]any{"id": o.id}, nil)
			return o.claimWith(old), "AWAITING_DESKTOP_APP"
		}, "TOKEN_INVALID"},
		{"error/token of another order", func(t *testing.T, o *order) (error, string) {
			o.next()
			other := start(t, env, carol)
			t.Cleanup(func() { _ = carol.Do(ctx, qCancel, map[string]any{"id": other.id}, nil) })
			other.next()
			o.token = other.token
			err := o.claimWith(o.token)
			if st := other.state(); st != "AWAITING_DESKTOP_APP" {
				t.Errorf("the other order moved to %s", st)
			}
			return err, "AWAITING_DESKTOP_APP"
		}, "TOKEN_INVALID"},
		{"error/garbage token", func(t *testing.T, o *order) (error, string) {
			o.next()
			return o.claimWith("not-a-token"), "AWAITING_DESKTOP_APP"
		}, "TOKEN_INVALID"},
		{"error/next while the Desktop App works", func(t *testing.T, o *order) (error, string) {
			o.next()
			return o.user.Do(ctx, qNext, map[string]any{"id": o.id}, nil), "AWAITING_DESKTOP_APP"
		}, "ILLEGAL_STATE"},
		{"error/card ready before keys", func(t *testing.T, o *order) (error, string) {
			o.next()
			o.mustClaim()
			o.mustCreate()
			return o.bridge.Do(ctx, qReady, map[string]any{"id": o.id, "serial": o.claim.Card.Serial}, nil), "CREATING_CARD"
		}, "ILLEGAL_STATE"},
		{"error/keys before the card is being created", func(t *testing.T, o *order) (error, string) {
			o.next()
			o.mustClaim()
			return o.bridge.Do(ctx, qSubmit, map[string]any{"id": o.id, "keys": o.keys()}, nil), "DESKTOP_APP_CONNECTED"
		}, "ILLEGAL_STATE"},
		{"error/cancel a completed order", func(t *testing.T, o *order) (error, string) {
			o.toCardReady()
			o.next()
			return o.user.Do(ctx, qCancel, map[string]any{"id": o.id}, nil), "COMPLETED"
		}, "ILLEGAL_STATE"},
		{"error/bridge session of another order", func(t *testing.T, o *order) (error, string) {
			o.next()
			o.mustClaim()
			other := start(t, env, carol)
			t.Cleanup(func() { _ = carol.Do(ctx, qCancel, map[string]any{"id": other.id}, nil) })
			return o.bridge.Do(ctx, qCreate, map[string]any{"id": other.id}, nil), "DESKTOP_APP_CONNECTED"
		}, "FORBIDDEN"},
		{"error/another user's order", func(t *testing.T, o *order) (error, string) {
			return carol.Do(ctx, qNext, map[string]any{"id": o.id}, nil), "STARTED"
		}, "NOT_FOUND"},
		{"error/extra slot", func(t *testing.T, o *order) (error, string) {
			o.next()
			o.mustClaim()
			o.mustCreate()
			keys := append(o.keys(), map[string]any{"slot": "9D", "template": "ENCRYPTION", "csr": csrPEM(t, p256())})
			return o.bridge.Do(ctx, qSubmit, map[string]any{"id": o.id, "keys": keys}, nil), "CREATING_CARD"
		}, "INVALID_INPUT"},
		{"error/wrong key algorithm", func(t *testing.T, o *order) (error, string) {
			o.next()
			o.mustClaim()
			o.mustCreate()
			keys := o.keys()
			keys[0]["csr"] = csrPEM(t, p384())
			return o.bridge.Do(ctx, qSubmit, map[string]any{"id": o.id, "keys": keys}, nil), "CREATING_CARD"
		}, "INVALID_INPUT"},
		{"error/malformed CSR", func(t *testing.T, o *order) (error, string) {
			o.next()
			o.mustClaim()
			o.mustCreate()
			keys := o.keys()
			keys[0]["csr"] = "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n"
			return o.bridge.Do(ctx, qSubmit, map[string]any{"id": o.id, "keys": keys}, nil), "CREATING_CARD"
		}, "INVALID_INPUT"},
		{"error/a second running order", func(t *testing.T, o *order) (error, string) {
			return alice.Do(ctx, qStart, nil, nil), "STARTED"
		}, "CONFLICT"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := start(t, env, alice)
			o.t = t
			t.Cleanup(func() { _ = alice.Do(ctx, qCancel, map[string]any{"id": o.id}, nil) })
			certsBefore := countCertificates(t, env)
			err, wantState := tc.run(t, o)
			if got := codeOf(err); got != tc.wantCode {
				t.Fatalf("error = %v, want code %s", err, tc.wantCode)
			}
			if got := o.state(); got != wantState {
				t.Errorf("order is %s after the refused call, want %s", got, wantState)
			}
			if tc.wantCode == "INVALID_INPUT" && countCertificates(t, env) != certsBefore {
				t.Errorf("a refused submission stored certificates")
			}
		})
	}
}

func TestInactiveUserCannotOrder(t *testing.T) {
	env := servertest.Start(t)
	bob := env.SignIn(t, servertest.Bob)
	err := bob.Do(context.Background(), qStart, nil, nil)
	if codeOf(err) != "USER_NOT_ACTIVE" {
		t.Fatalf("inactive user's start: %v, want USER_NOT_ACTIVE", err)
	}
	var out struct {
		Processes []struct {
			Available         bool
			UnavailableReason *string
		}
		Orders struct{ TotalCount int }
	}
	bob.MustDo(t, `{ processes { available unavailableReason } orders { totalCount } }`, nil, &out)
	if out.Processes[0].Available || out.Processes[0].UnavailableReason == nil {
		t.Errorf("process offered to an inactive user: %+v", out.Processes[0])
	}
	if out.Orders.TotalCount != 0 {
		t.Errorf("refused start left %d orders", out.Orders.TotalCount)
	}

	// An administrator activates bob; now he may order.
	admin := env.SignIn(t, servertest.Admin)
	var me struct{ Me struct{ ID string } }
	bob.MustDo(t, `{ me { id } }`, nil, &me)
	admin.MustDo(t, `mutation($id: ID!) { setUserState(userId: $id, state: ACTIVE, reason: "joined") { state } }`, map[string]any{"id": me.Me.ID}, nil)
	bob.MustDo(t, qStart, nil, nil)
}

func TestSweepExpiresStaleOrders(t *testing.T) {
	clock := testclock.New()
	const idle = 10 * time.Minute
	env := servertest.Start(t, servertest.WithClock(clock), func(c *server.Config) { c.OrderIdleTTL = idle })
	alice := env.SignIn(t, servertest.Alice)
	o := start(t, env, alice)
	o.next()
	o.mustClaim()
	o.mustCreate()
	o.mustSubmit()
	if res, err := env.Server.Enroll.Sweep(context.Background()); err != nil || res.Expired != 0 {
		t.Fatalf("sweep before the idle time = %+v, %v; want none expired", res, err)
	}
	clock.Advance(idle + time.Second)
	res, err := env.Server.Enroll.Sweep(context.Background())
	if err != nil || res.Expired != 1 {
		t.Fatalf("sweep = %+v, %v; want 1 expired", res, err)
	}
	if got := o.state(); got != "EXPIRED" {
		t.Fatalf("order is %s, want EXPIRED", got)
	}
	for _, c := range o.certs {
		if st, _ := env.Server.CA.Status(context.Background(), c.Serial); st != "REVOKED" {
			t.Errorf("certificate %s is %s at the CA after expiry", c.Serial, st)
		}
	}
}

func countCertificates(t *testing.T, env *servertest.Env) int {
	t.Helper()
	n, err := env.Server.DB.Client.Certificate.Query().Count(systemCtx())
	if err != nil {
		t.Fatal(err)
	}
	return n
}
