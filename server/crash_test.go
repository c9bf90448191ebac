package server_test

import (
	"bytes"
	"context"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vscard/vscard/ent/card"
	"github.com/vscard/vscard/ent/carecord"
	"github.com/vscard/vscard/ent/certificate"
	entorder "github.com/vscard/vscard/ent/order"
	"github.com/vscard/vscard/server/servertest"
	"github.com/vscard/vscard/server/store"
)

// child is a vscard server in its own process, so that it can be killed with SIGKILL.
type child struct {
	t        *testing.T
	env      []string
	url      string
	cmd      *exec.Cmd
	restarts int
}

func (c *child) start() {
	c.t.Helper()
	c.cmd = exec.Command(os.Args[0], "-test.run=^$")
	c.cmd.Env = append(os.Environ(), c.env...)
	c.cmd.Stderr = os.Stderr
	if err := c.cmd.Start(); err != nil {
		c.t.Fatalf("start server process: %v", err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(c.url + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	c.t.Fatal("server process did not become ready")
}

func (c *child) kill() {
	_ = c.cmd.Process.Signal(os.Kill)
	_ = c.cmd.Wait()
}

// TestCrashSafety kills the server with SIGKILL at random moments while four users run
// 200 orders, restarts it each time, and then checks what is left: every order ended,
// every certificate in the identity store has a CA record with the same DER, and nothing
// is valid (in the identity store or at the CA) that does not belong to an active card of
// a completed order.
func TestCrashSafety(t *testing.T) {
	if testing.Short() {
		t.Skip("kills and restarts a server many times")
	}
	const orders = 200
	dataDir := t.TempDir()
	dsn := servertest.Database(t)
	addr := freeAddr(t)
	c := &child{t: t, url: "http://" + addr, env: []string{
		"VSCARD_CRASH_CHILD=1", "VSCARD_ADDR=" + addr, "VSCARD_PUBLIC_URL=http://" + addr,
		"VSCARD_DATA_DIR=" + dataDir, "VSCARD_DATABASE_URL=" + dsn,
	}}
	c.start()
	defer func() { c.kill() }()

	env := &servertest.Env{URL: c.url}
	users := []*servertest.Client{
		env.SignIn(t, servertest.Alice), env.SignIn(t, servertest.Carol), env.SignIn(t, servertest.Admin),
	}

	var started, completed, failedCalls atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for _, u := range users {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for started.Load() < orders {
				select {
				case <-stop:
					return
				default:
				}
				if ok, err := driveOrder(env, u, &started); err != nil {
					failedCalls.Add(1)
					time.Sleep(50 * time.Millisecond) // the server is probably down
				} else if ok {
					completed.Add(1)
				}
			}
		}()
	}
	var kills int
	for started.Load() < orders {
		time.Sleep(time.Duration(100+rand.IntN(400)) * time.Millisecond)
		c.kill()
		kills++
		c.start()
	}
	close(stop)
	wg.Wait()

	// Let every order that was cut off expire, and the sweep repair the CA.
	time.Sleep(5 * time.Second)
	c.kill()
	c.start()
	time.Sleep(2 * time.Second)
	c.kill()

	t.Logf("orders started %d, completed %d, calls failed during crashes %d, kill -9: %d",
		started.Load(), completed.Load(), failedCalls.Load(), kills)
	checkAfterCrashes(t, dataDir, dsn)
	if completed.Load() == 0 {
		t.Fatal("no order completed: the test did not exercise the happy path")
	}
}

// driveOrder runs one order to the end. It reports whether the order completed; an error
// means a call failed (typically because the server was killed).
func driveOrder(env *servertest.Env, u *servertest.Client, started *atomic.Int64) (bool, error) {
	ctx := context.Background()
	var st struct{ StartProcess struct{ ID string } }
	if err := u.Do(ctx, qStart, nil, &st); err != nil {
		if codeOf(err) == "CONFLICT" { // a previous order was cut off: end it
			var p struct {
				Processes []struct{ RunningOrder *struct{ ID string } }
			}
			if err := u.Do(ctx, `{ processes { runningOrder { id } } }`, nil, &p); err == nil && p.Processes[0].RunningOrder != nil {
				_ = u.Do(ctx, qCancel, map[string]any{"id": p.Processes[0].RunningOrder.ID}, nil)
			}
		}
		return false, err
	}
	started.Add(1)
	id := map[string]any{"id": st.StartProcess.ID}
	var nx struct {
		NextStep struct{ Handoff struct{ URL string } }
	}
	if err := u.Do(ctx, qNext, id, &nx); err != nil {
		return false, err
	}
	token := tokenOf(nx.NextStep.Handoff.URL)
	var cl struct{ ClaimOrder claim }
	if err := env.Anonymous().Do(ctx, qClaim, map[string]any{"id": st.StartProcess.ID, "token": token}, &cl); err != nil {
		return false, err
	}
	b := env.Bearer(cl.ClaimOrder.SessionToken)
	if err := b.Do(ctx, qCreate, id, nil); err != nil {
		return false, err
	}
	var keys []map[string]any
	for _, spec := range cl.ClaimOrder.Card.Certificates {
		keys = append(keys, map[string]any{"slot": spec.Slot, "template": spec.Template, "csr": csrPEM(nil, p256())})
	}
	if err := b.Do(ctx, qSubmit, map[string]any{"id": st.StartProcess.ID, "keys": keys}, nil); err != nil {
		return false, err
	}
	if err := b.Do(ctx, qReady, map[string]any{"id": st.StartProcess.ID, "serial": cl.ClaimOrder.Card.Serial}, nil); err != nil {
		return false, err
	}
	if err := u.Do(ctx, qNext, id, nil); err != nil {
		return false, err
	}
	return true, nil
}

func checkAfterCrashes(t *testing.T, dataDir, dsn string) {
	t.Helper()
	if dsn == "" {
		dsn = dataDir + "/vscard.db"
	}
	db, err := store.Open(context.Background(), dsn, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := systemCtx()

	running, err := db.Client.Order.Query().
		Where(entorder.StateNotIn(entorder.StateCOMPLETED, entorder.StateCANCELLED, entorder.StateFAILED, entorder.StateEXPIRED)).
		Count(ctx)
	if err != nil || running != 0 {
		t.Errorf("%d orders neither ended nor expired after the sweep (%v)", running, err)
	}
	completedOrders, _ := db.Client.Order.Query().Where(entorder.StateEQ(entorder.StateCOMPLETED)).Count(ctx)

	certs, err := db.Client.Certificate.Query().WithCard().WithOrder().All(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range certs {
		rec, err := db.Client.CaRecord.Query().Where(carecord.Serial(c.Serial)).Only(ctx)
		if err != nil {
			t.Errorf("certificate %s has no CA record: %v", c.Serial, err)
			continue
		}
		if !bytes.Equal(rec.Der, c.Der) {
			t.Errorf("certificate %s differs from the CA's record", c.Serial)
		}
		if c.State == certificate.StateVALID &&
			(c.Edges.Card == nil || c.Edges.Card.State != card.StateACTIVE || c.Edges.Order.State != entorder.StateCOMPLETED) {
			t.Errorf("certificate %s is VALID without an active card of a completed order", c.Serial)
		}
	}
	recs, err := db.Client.CaRecord.Query().
		Where(carecord.StateIn(carecord.StatePENDING, carecord.StateVALID)).
		All(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		o, err := db.Client.Order.Get(ctx, r.Reference)
		if err != nil || o.State != entorder.StateCOMPLETED {
			t.Errorf("CA record %s is %s but its order %s is not completed", r.Serial, r.State, r.Reference)
		}
	}
	active, _ := db.Client.Card.Query().Where(card.StateEQ(card.StateACTIVE)).Count(ctx)
	if active != completedOrders {
		t.Errorf("%d active cards for %d completed orders", active, completedOrders)
	}
	t.Logf("after the crashes: %d completed orders, %d active cards, %d identity certificates, %d CA records still valid",
		completedOrders, active, len(certs), len(recs))
}

func tokenOf(link string) string {
	u, err := mustParse(link)
	if err != nil {
		return ""
	}
	return u.Query().Get("token")
}
