package server_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/vscard/vscard/ent/auditevent"
	"github.com/vscard/vscard/server"
	"github.com/vscard/vscard/server/enroll"
	"github.com/vscard/vscard/server/servertest"
)

// generous lifts the rate limits so that races reach the database.
func generous(c *server.Config) {
	c.Limits = enroll.Limits{ClaimsPerMinute: 6000, ClaimBurst: 1000, StartsPerMinute: 6000, StartBurst: 1000}
}

func TestConcurrentClaimsOneWins(t *testing.T) {
	env := servertest.Start(t, generous)
	alice := env.SignIn(t, servertest.Alice)
	o := start(t, env, alice)
	o.next()

	const n = 100
	codes := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var out struct{ ClaimOrder claim }
			err := env.Anonymous().Do(context.Background(), qClaim, map[string]any{"id": o.id, "token": o.token}, &out)
			codes[i] = codeOf(err)
			if err == nil {
				codes[i] = "WON"
			}
		}()
	}
	wg.Wait()
	tally := map[string]int{}
	for _, c := range codes {
		tally[c]++
	}
	t.Logf("100 concurrent claims: %v", tally)
	if tally["WON"] != 1 || tally["TOKEN_ALREADY_USED"] != n-1 {
		t.Fatalf("claims ended %v, want exactly 1 WON and %d TOKEN_ALREADY_USED", tally, n-1)
	}
	var cards int
	cards, err := env.Server.DB.Client.Card.Query().Count(systemCtx())
	if err != nil || cards != 1 {
		t.Fatalf("%d cards after the race (%v), want 1", cards, err)
	}
}

func TestClaimAttemptsAreRateLimited(t *testing.T) {
	env := servertest.Start(t, func(c *server.Config) { c.Limits = enroll.Limits{ClaimsPerMinute: 1, ClaimBurst: 3} })
	alice := env.SignIn(t, servertest.Alice)
	o := start(t, env, alice)
	o.next()
	var last error
	for range 4 {
		last = o.claimWith("guess-" + o.token[:8])
	}
	if codeOf(last) != "RATE_LIMITED" {
		t.Fatalf("4th wrong guess: %v, want RATE_LIMITED", last)
	}
	if err := o.claimWith(o.token); codeOf(err) != "RATE_LIMITED" {
		t.Fatalf("right token while limited: %v, want RATE_LIMITED", err)
	}
	if got := o.state(); got != "AWAITING_DESKTOP_APP" {
		t.Fatalf("order is %s, want AWAITING_DESKTOP_APP", got)
	}
}

// TestConcurrentNextAndCancel races the last Next against Cancel: whichever wins, the order
// ends consistent — completed with an active card and valid certificates, or cancelled with
// no card and revoked certificates, in the identity store and at the CA alike.
func TestConcurrentNextAndCancel(t *testing.T) {
	env := servertest.Start(t, generous)
	alice := env.SignIn(t, servertest.Alice)
	tally := map[string]int{}
	for i := range 8 {
		o := start(t, env, alice)
		o.toCardReady()
		var wg sync.WaitGroup
		wg.Add(2)
		go func() { defer wg.Done(); _ = alice.Do(context.Background(), qNext, map[string]any{"id": o.id}, nil) }()
		go func() { defer wg.Done(); _ = alice.Do(context.Background(), qCancel, map[string]any{"id": o.id}, nil) }()
		wg.Wait()
		end := o.state()
		tally[end]++
		var ord struct {
			Order struct {
				Card         *struct{ State string }
				Certificates struct{ Edges []struct{ Node issued } }
			}
		}
		alice.MustDo(t, qOrder, map[string]any{"id": o.id}, &ord)
		wantCert := map[string]string{"COMPLETED": "VALID", "CANCELLED": "REVOKED"}[end]
		if wantCert == "" {
			t.Fatalf("race %d ended in %s", i, end)
		}
		if (end == "COMPLETED") != (ord.Order.Card != nil && ord.Order.Card.State == "ACTIVE") {
			t.Errorf("race %d: order %s but card %+v", i, end, ord.Order.Card)
		}
		for _, e := range ord.Order.Certificates.Edges {
			st, _ := env.Server.CA.Status(context.Background(), e.Node.Serial)
			if e.Node.State != wantCert || string(st) != wantCert {
				t.Errorf("race %d: order %s, certificate %s is %s (CA %s), want %s", i, end, e.Node.Serial, e.Node.State, st, wantCert)
			}
		}
	}
	t.Logf("next vs cancel: %v", tally)
}

// TestAuditLog checks the log of a complete and of a cancelled order.
func TestAuditLog(t *testing.T) {
	env := servertest.Start(t)
	alice := env.SignIn(t, servertest.Alice)

	done := start(t, env, alice)
	done.toCardReady()
	done.next()
	cancelled := start(t, env, alice)
	cancelled.next()
	alice.MustDo(t, qCancel, map[string]any{"id": cancelled.id}, nil)

	actions := func(orderID string) []string {
		evs, err := env.Server.DB.Client.AuditEvent.Query().
			Where(auditevent.ObjectID(orderID)).
			Order(auditevent.ByAt()).
			All(systemCtx())
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range evs {
			out = append(out, e.Action+" by "+e.ActorKind)
		}
		return out
	}
	// The claim is the Desktop App acting for the order's owner, as every later bridge step.
	wantDone := []string{
		"order.start by user", "order.next by user", "order.claim by bridge",
		"order.creating_card by bridge", "order.issuing by bridge", "order.card_ready by bridge", "order.next by user",
	}
	if got := actions(done.id); !equal(got, wantDone) {
		t.Errorf("audit of a complete order:\n got %v\nwant %v", got, wantDone)
	}
	wantCancelled := []string{"order.start by user", "order.next by user", "order.cancel by user"}
	if got := actions(cancelled.id); !equal(got, wantCancelled) {
		t.Errorf("audit of a cancelled order:\n got %v\nwant %v", got, wantCancelled)
	}
	issued, err := env.Server.DB.Client.AuditEvent.Query().Where(auditevent.Action("certificate.issue")).Count(systemCtx())
	if err != nil || issued != 2 {
		t.Errorf("%d certificate.issue events (%v), want 2", issued, err)
	}
	logins, err := env.Server.DB.Client.AuditEvent.Query().Where(auditevent.Action("auth.login")).Count(systemCtx())
	if err != nil || logins != 1 {
		t.Errorf("%d sign-in events (%v), want 1", logins, err)
	}
	// Append-only: the log refuses changes, even from the server itself.
	ev, _ := env.Server.DB.Client.AuditEvent.Query().First(systemCtx())
	if err := env.Server.DB.Client.AuditEvent.UpdateOne(ev).Exec(systemCtx()); err == nil {
		t.Error("an audit event was changed")
	}
	if err := env.Server.DB.Client.AuditEvent.DeleteOne(ev).Exec(systemCtx()); err == nil {
		t.Error("an audit event was deleted")
	}
}

// TestNoSecretsAtRestOrInLogs reads every byte of the database and the server's debug log
// after a complete order, looking for the card's management key and PUK, the hand-off
// token, the bridge session and the browser session cookie.
func TestNoSecretsAtRestOrInLogs(t *testing.T) {
	if servertest.Database(t) != "" {
		t.Skip("reads the SQLite file; the PostgreSQL run covers the rest")
	}
	var logs bytes.Buffer
	var mu sync.Mutex
	env := servertest.StartLogged(t, lockedWriter{&logs, &mu})
	alice := env.SignIn(t, servertest.Alice)
	o := start(t, env, alice)
	o.next()
	var out struct {
		ClaimOrder struct {
			SessionToken string
			Card         struct{ ManagementKey, Puk string }
		}
	}
	env.Anonymous().MustDo(t, `mutation($id: ID!, $token: String!) { claimOrder(orderId: $id, token: $token) { sessionToken card { managementKey puk } } }`,
		map[string]any{"id": o.id, "token": o.token}, &out)
	o.bridge = env.Bearer(out.ClaimOrder.SessionToken)
	o.claim.Card.Serial = "" // not needed below
	mgmt, _ := hex.DecodeString(out.ClaimOrder.Card.ManagementKey)

	secrets := map[string][]byte{
		"management key (raw)": mgmt,
		"management key (hex)": []byte(out.ClaimOrder.Card.ManagementKey),
		"PUK":                  []byte(out.ClaimOrder.Card.Puk),
		"hand-off token":       []byte(o.token),
		"bridge session":       []byte(out.ClaimOrder.SessionToken),
	}
	for _, c := range alice.HTTP.Jar.Cookies(mustURL(t, env.URL)) {
		secrets["session cookie "+c.Name] = []byte(c.Value)
	}

	db, err := sql.Open("sqlite", "file:"+filepath.Join(env.Server.Config.DataDir, "vscard.db")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	dump := dumpAll(t, db)
	if len(dump) < 1000 {
		t.Fatalf("database dump is only %d bytes; the test reads the wrong file", len(dump))
	}
	mu.Lock()
	logged := logs.Bytes()
	mu.Unlock()
	if !bytes.Contains(logged, []byte("level=")) {
		t.Fatal("no log captured")
	}
	for name, s := range secrets {
		if len(s) < 6 {
			t.Fatalf("%s is too short to search for", name)
		}
		if bytes.Contains(dump, s) {
			t.Errorf("%s is in the database in the clear", name)
		}
		if bytes.Contains(logged, s) {
			t.Errorf("%s is in the logs", name)
		}
	}
}

// dumpAll returns every value of every table, as bytes and as text.
func dumpAll(t *testing.T, db *sql.DB) []byte {
	t.Helper()
	rows, err := db.Query(`SELECT name FROM sqlite_master WHERE type = 'table'`)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var n string
		_ = rows.Scan(&n)
		tables = append(tables, n)
	}
	rows.Close()
	var out bytes.Buffer
	for _, tbl := range tables {
		r, err := db.Query(fmt.Sprintf("SELECT * FROM %q", tbl))
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := r.Columns()
		for r.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			_ = r.Scan(ptrs...)
			for _, v := range vals {
				switch v := v.(type) {
				case []byte:
					out.Write(v)
				default:
					out.WriteString(fmt.Sprint(v))
				}
				out.WriteByte(0)
			}
		}
		r.Close()
	}
	return out.Bytes()
}

type lockedWriter struct {
	b  *bytes.Buffer
	mu *sync.Mutex
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}
