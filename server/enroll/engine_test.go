package enroll

import (
	"context"
	"testing"
	"time"

	"github.com/vscard/vscard/ent"
	"github.com/vscard/vscard/ent/card"
	"github.com/vscard/vscard/ent/certificate"
	"github.com/vscard/vscard/ent/order"
	"github.com/vscard/vscard/server/ca"
	"github.com/vscard/vscard/server/cardspec"
	"github.com/vscard/vscard/server/errs"
)

func wantCode(t *testing.T, err error, code errs.Code) {
	t.Helper()
	if errs.CodeOf(err) != code {
		t.Fatalf("error %v, want %s", err, code)
	}
}

// runToIssuing takes a get-virtual-smart-card order of ann from start to CREATING_CARD and
// returns it with the Desktop App's session.
func runToCreating(t *testing.T, env *testEnv) (*ent.Order, string) {
	t.Helper()
	ann := env.as(env.ann, false)
	o, err := env.e.Start(ann, ProcessGetVirtualSmartCard, "")
	if err != nil {
		t.Fatal(err)
	}
	o, h, err := env.e.Next(ann, o.ID)
	if err != nil {
		t.Fatal(err)
	}
	token, process := handoffToken(t, h.URL)
	if process != ProcessGetVirtualSmartCard {
		t.Fatalf("hand-off link names process %q", process)
	}
	claim, err := env.e.Claim(context.Background(), o.ID, token, device)
	if err != nil {
		t.Fatal(err)
	}
	if claim.Process != ProcessGetVirtualSmartCard || claim.Card == nil || claim.Card.Serial == "" {
		t.Fatalf("claim = %+v", claim)
	}
	if o, err = env.e.ReportCardCreation(env.bridge(t, claim.SessionToken), o.ID, ""); err != nil {
		t.Fatal(err)
	}
	return o, claim.SessionToken
}

func submit(t *testing.T, env *testEnv, o *ent.Order, session string) ([]*ent.Certificate, error) {
	t.Helper()
	return env.e.SubmitKeys(env.bridge(t, session), o.ID,
		[]KeySubmission{{Slot: "9A", Template: cardspec.Authentication, CSR: p256CSR(t)}})
}

// TestGetVirtualSmartCardThroughTheEngine: the built-in process runs as before, and the
// hand-off link and the claim name it.
func TestGetVirtualSmartCardThroughTheEngine(t *testing.T) {
	env := newEnv(t, nil)
	o, session := runToCreating(t, env)
	certs, err := submit(t, env, o, session)
	if err != nil || len(certs) != 1 {
		t.Fatalf("SubmitKeys = %d, %v", len(certs), err)
	}
	crd := env.db.Card.Query().Where(card.OrderID(o.ID)).OnlyX(env.sys)
	if _, err := env.e.ConfirmCardReady(env.bridge(t, session), o.ID, crd.Serial, device); err != nil {
		t.Fatal(err)
	}
	done, h, err := env.e.Next(env.as(env.ann, false), o.ID)
	if err != nil || h != nil || done.State != order.StateCOMPLETED {
		t.Fatalf("Next = %v, %v, %v", done, h, err)
	}
	if c := env.db.Card.GetX(env.sys, crd.ID); c.State != card.StateACTIVE {
		t.Fatalf("card is %s", c.State)
	}
	if done.SubjectCardID != nil {
		t.Errorf("an order that makes a card acts on card %s", *done.SubjectCardID)
	}
}

// TestCAFailureThenSweep: the CA refuses the second of two certificates while it cannot
// revoke either: the order fails, its card is gone, and what the CA signed stays valid at the
// CA only until the next sweep, which revokes it once the CA answers again.
func TestCAFailureThenSweep(t *testing.T) {
	env := newEnv(t, nil)
	o, session := runToCreating(t, env)
	o.Options.Certificates = append(o.Options.Certificates,
		cardspec.CertificateSpec{Template: cardspec.Signature, Slot: "9C", Algorithm: cardspec.ECCP256})
	env.db.Order.UpdateOneID(o.ID).SetOptions(o.Options).ExecX(env.sys)
	env.ca.failIssue = func(n int) error {
		if n == 2 {
			return errs.New(errs.Internal, "the CA refused")
		}
		return nil
	}
	env.ca.failRevoke = errCADown

	_, err := env.e.SubmitKeys(env.bridge(t, session), o.ID, []KeySubmission{
		{Slot: "9A", Template: cardspec.Authentication, CSR: p256CSR(t)},
		{Slot: "9C", Template: cardspec.Signature, CSR: p256CSR(t)},
	})
	wantCode(t, err, errs.Internal)
	if got := env.order(t, o.ID); got.State != order.StateFAILED || got.FailureReason == nil {
		t.Fatalf("order is %s (%v), want FAILED with a reason", got.State, got.FailureReason)
	}
	if n := env.db.Card.Query().Where(card.OrderID(o.ID)).CountX(env.sys); n != 0 {
		t.Fatalf("the failed order left %d cards", n)
	}
	if n := env.db.Certificate.Query().CountX(env.sys); n != 0 {
		t.Fatalf("the identity store has %d certificates of a failed order", n)
	}
	if st := env.ca.statuses(o.ID); st[ca.StatusValid] != 1 {
		t.Fatalf("the CA has %v, want the one signed certificate still valid while it is down", st)
	}

	res, err := env.e.Sweep(context.Background())
	if err != nil || res.Revoked != 0 {
		t.Fatalf("sweep with the CA down = %+v, %v", res, err)
	}
	env.ca.failRevoke = nil
	res, err = env.e.Sweep(context.Background())
	if err != nil || res.Revoked != 1 {
		t.Fatalf("sweep = %+v, %v; want 1 revoked", res, err)
	}
	if st := env.ca.statuses(o.ID); st[ca.StatusValid] != 0 || st[ca.StatusRevoked] != 1 {
		t.Fatalf("after the sweep the CA has %v", st)
	}
}

// TestSweepRevokesBySerialWithoutReferences: a CA that revokes only by serial gets, from the
// sweep, what the identity store revoked while the CA was down.
func TestSweepRevokesBySerialWithoutReferences(t *testing.T) {
	env := newEnv(t, func(f *fakeCA) ca.Authority { return plainCA{f} })
	o, session := runToCreating(t, env)
	if _, err := submit(t, env, o, session); err != nil {
		t.Fatal(err)
	}
	env.ca.failRevoke = errCADown
	if _, err := env.e.Cancel(env.as(env.ann, false), o.ID, "changed my mind"); err != nil {
		t.Fatal(err)
	}
	c := env.db.Certificate.Query().OnlyX(env.sys)
	if c.State != certificate.StateREVOKED {
		t.Fatalf("certificate of a cancelled order is %s", c.State)
	}
	if st, _ := env.ca.Status(context.Background(), c.Serial); st != ca.StatusValid {
		t.Fatalf("CA status %s while it was down", st)
	}
	env.ca.failRevoke = nil
	res, err := env.e.Sweep(context.Background())
	if err != nil || res.Revoked != 1 {
		t.Fatalf("sweep = %+v, %v", res, err)
	}
	if st, _ := env.ca.Status(context.Background(), c.Serial); st != ca.StatusRevoked {
		t.Fatalf("CA status %s after the sweep", st)
	}
}

// TestCancelWhileTheCASigns: a cancel that lands while the CA signs wins; what was signed
// is revoked at the CA and never recorded as valid.
func TestCancelWhileTheCASigns(t *testing.T) {
	env := newEnv(t, nil)
	o, session := runToCreating(t, env)
	env.ca.duringIssue = func() {
		if _, err := env.e.Cancel(env.as(env.ann, false), o.ID, ""); err != nil {
			t.Errorf("cancel: %v", err)
		}
	}
	_, err := submit(t, env, o, session)
	wantCode(t, err, errs.IllegalState)
	if st := env.ca.statuses(o.ID); st[ca.StatusValid] != 0 || st[ca.StatusRevoked] != 1 {
		t.Fatalf("the CA has %v, want the signed certificate revoked", st)
	}
	if n := env.db.Certificate.Query().CountX(env.sys); n != 0 {
		t.Fatalf("%d certificates recorded for a cancelled order", n)
	}
}

// TestEndOrderOfRetries: when the order moves on between EndOrderOf's read and its cancel,
// EndOrderOf cancels it where it is; when it keeps moving, it gives up with CONFLICT.
func TestEndOrderOfRetries(t *testing.T) {
	for _, tc := range []struct {
		name    string
		races   int // how many of EndOrderOf's attempts lose to another request
		want    errs.Code
		tries   int
		stateIs order.State
	}{
		{"ok/one lost race, then cancelled", 1, "", 2, order.StateCANCELLED},
		{"error/keeps changing", 1000, errs.Conflict, 3, order.StateSTARTED},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := newEnv(t, nil)
			o, err := env.e.Start(env.as(env.ann, false), ProcessGetVirtualSmartCard, "")
			if err != nil {
				t.Fatal(err)
			}
			// Another request moves the order just before each cancel's version-checked
			// update, in the same transaction: the update finds a newer version.
			tries, inside := 0, false
			env.db.Order.Use(func(next ent.Mutator) ent.Mutator {
				return ent.MutateFunc(func(ctx context.Context, m ent.Mutation) (ent.Value, error) {
					om := m.(*ent.OrderMutation)
					if st, ok := om.State(); ok && st == order.StateCANCELLED && !inside {
						tries++
						if tries <= tc.races {
							inside = true
							err := om.Client().Order.Update().Where(order.ID(o.ID)).AddVersion(1).Exec(ctx)
							inside = false
							if err != nil {
								return nil, err
							}
						}
					}
					return next.Mutate(ctx, m)
				})
			})
			err = env.e.EndOrderOf(context.Background(), env.ann.ID, "locked by an administrator")
			if tc.want == "" && err != nil || tc.want != "" {
				wantCode(t, err, tc.want)
			}
			if tries != tc.tries {
				t.Errorf("%d cancel attempts, want %d", tries, tc.tries)
			}
			if got := env.order(t, o.ID); got.State != tc.stateIs {
				t.Errorf("order is %s, want %s", got.State, tc.stateIs)
			}
		})
	}
}

// TestExpiryThroughTheClock: links, orders and bridge sessions expire when the engine's
// clock says so; nothing sleeps.
func TestExpiryThroughTheClock(t *testing.T) {
	env := newEnv(t, nil)
	ann := env.as(env.ann, false)
	o, err := env.e.Start(ann, ProcessGetVirtualSmartCard, "")
	if err != nil {
		t.Fatal(err)
	}
	_, h, err := env.e.Next(ann, o.ID)
	if err != nil {
		t.Fatal(err)
	}
	token, _ := handoffToken(t, h.URL)
	env.clock.Add(env.tokenTTL)
	_, err = env.e.Claim(context.Background(), o.ID, token, device)
	wantCode(t, err, errs.TokenExpired)

	if res, err := env.e.Sweep(context.Background()); err != nil || res.Expired != 0 {
		t.Fatalf("sweep before the idle time = %+v, %v", res, err)
	}
	env.clock.Add(env.idle - env.tokenTTL + time.Second) // PostgreSQL keeps microseconds
	if res, err := env.e.Sweep(context.Background()); err != nil || res.Expired != 1 {
		t.Fatalf("sweep after the idle time = %+v, %v", res, err)
	}
	if got := env.order(t, o.ID); got.State != order.StateEXPIRED || got.FinishedAt == nil {
		t.Fatalf("order is %s", got.State)
	}
	_, _, err = env.e.Next(ann, o.ID)
	wantCode(t, err, errs.IllegalState)
}

// TestBridgeSessionEndsWithItsTime: the Desktop App's session stops working at its expiry.
func TestBridgeSessionEndsWithItsTime(t *testing.T) {
	env := newEnv(t, nil)
	_, session := runToCreating(t, env)
	env.clock.Add(env.e.cfg.BridgeSessionTTL)
	_, err := env.e.AuthenticateBridge(context.Background(), session)
	wantCode(t, err, errs.Unauthenticated)
}
