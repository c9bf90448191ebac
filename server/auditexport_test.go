package server_test

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/vscard/vscard/ent"
	"github.com/vscard/vscard/ent/auditevent"
	"github.com/vscard/vscard/ent/predicate"
	"github.com/vscard/vscard/server/servertest"
)

// TestAuditExport: the audit log leaves as CSV and JSON Lines, every event selected and
// each once, newest first, across many pages; the person, action and time filters select
// what the same predicates select in the store; a cell that a spreadsheet would run as a
// formula is defused and commas, quotes and newlines survive; names replace ids; only
// administrators may export, and the export is itself audited.
func TestAuditExport(t *testing.T) {
	env := servertest.Start(t)
	admin := env.SignIn(t, servertest.Admin)
	alice := env.SignIn(t, servertest.Alice)
	aliceID := userID(t, alice)
	o := start(t, env, alice) // a claim, among other events, by alice's Desktop App
	o.toCardReady()
	o.next()
	admin.MustDo(t, qSetState, map[string]any{"id": aliceID, "state": "ACTIVE"}, nil)

	// Enough events for three pages, some by alice, one with an actor a spreadsheet
	// would take for a formula and details that need quoting.
	db := env.Server.DB.Client
	base := time.Now().Add(-time.Hour)
	rows := make([]*ent.AuditEventCreate, 2300)
	for i := range rows {
		actor, actorID := "portal-x", ""
		if i%3 == 0 {
			actor, actorID = "alice", aliceID
		}
		if i == 7 {
			actor = `=HYPERLINK("http://evil.example")`
		}
		rows[i] = db.AuditEvent.Create().SetAt(base.Add(time.Duration(i) * time.Millisecond)).
			SetActor(actor).SetActorID(actorID).SetActorKind("portal").
			SetAction(fmt.Sprintf("test.action%d", i%4)).SetObjectType("Thing").SetObjectID(fmt.Sprintf("thing_%d", i)).
			SetDetails(map[string]any{"note": "a, \"quoted\"\nline"})
	}
	for i := 0; i < len(rows); i += 500 {
		db.AuditEvent.CreateBulk(rows[i:min(i+500, len(rows))]...).ExecX(systemCtx())
	}

	export := func(c *servertest.Client, query url.Values) *http.Response {
		t.Helper()
		resp, err := c.HTTP.Get(env.URL + "/audit/export?" + query.Encode())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	readCSV := func(query url.Values) [][]string {
		t.Helper()
		resp := export(admin, query)
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") ||
			!strings.Contains(resp.Header.Get("Content-Disposition"), ".csv") {
			t.Fatalf("CSV export: %s %v", resp.Status, resp.Header)
		}
		recs, err := csv.NewReader(resp.Body).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) == 0 || recs[0][0] != "time" {
			t.Fatalf("no header: %v", recs[:min(1, len(recs))])
		}
		return recs[1:]
	}
	// want counts what the store holds for ps, once the export (itself an event) is in.
	want := func(ps ...predicate.AuditEvent) int {
		return db.AuditEvent.Query().Where(ps...).CountX(systemCtx())
	}
	const colTime, colActor, colActorName, colActorKind, colActorID, colAction, colObjectType, colObjectID, colObject, colSubject = 0, 1, 2, 3, 4, 5, 6, 7, 8, 10

	t.Run("ok/everything", func(t *testing.T) {
		recs := readCSV(nil)
		if n := want(); len(recs) != n {
			t.Errorf("%d rows, the store holds %d events", len(recs), n)
		}
		seen := map[string]bool{}
		var prev time.Time
		for i, r := range recs {
			at, err := time.Parse(time.RFC3339Nano, r[colTime])
			if err != nil {
				t.Fatal(err)
			}
			if i > 0 && at.After(prev) {
				t.Fatalf("row %d (%s) is newer than the row before it (%s)", i, at, prev)
			}
			prev = at
			key := r[colAction] + "/" + r[colObjectType] + "/" + r[colObjectID] + "/" + r[colTime]
			if seen[key] {
				t.Fatalf("row %d twice: %s", i, key)
			}
			seen[key] = true
			if strings.HasPrefix(r[colActor], "=") || strings.HasPrefix(r[colActorName], "=") {
				t.Errorf("row %d: a cell a spreadsheet would run: %q", i, r[colActor])
			}
			if r[colObjectType] == "Thing" && r[len(r)-1] != `{"note":"a, \"quoted\"\nline"}` {
				t.Errorf("row %d: details %q", i, r[len(r)-1])
			}
		}
		var claim, setState []string
		for _, r := range recs {
			switch r[colAction] {
			case "order.claim":
				claim = r
			case "user.set_state":
				setState = r
			}
		}
		if claim == nil || claim[colActorKind] != "bridge" || claim[colActorID] != aliceID || claim[colActorName] != "Alice Active" {
			t.Errorf("the claim is audited as %v, want alice's Desktop App", claim)
		}
		if setState == nil || setState[colActor] != "admin" || setState[colObject] != "Alice Active" || setState[colSubject] != "Alice Active" {
			t.Errorf("set state: %v, want the administrator acting on Alice Active", setState)
		}
	})
	t.Run("ok/filters", func(t *testing.T) {
		from, to := base.Add(100*time.Millisecond), base.Add(1700*time.Millisecond)
		q := url.Values{"person": {aliceID}, "action": {"test.action0,test.action3"},
			"from": {from.Format(time.RFC3339Nano)}, "to": {to.Format(time.RFC3339Nano)}}
		recs := readCSV(q)
		n := want(auditevent.Or(auditevent.ActorID(aliceID), auditevent.And(auditevent.ObjectType("User"), auditevent.ObjectID(aliceID))),
			auditevent.ActionIn("test.action0", "test.action3"), auditevent.AtGTE(from), auditevent.AtLT(to))
		if len(recs) != n || n == 0 {
			t.Errorf("%d rows, the store holds %d such events", len(recs), n)
		}
		for _, r := range recs {
			if r[colActorID] != aliceID || (r[colAction] != "test.action0" && r[colAction] != "test.action3") {
				t.Errorf("a row the filter excludes: %v", r)
			}
		}
	})
	t.Run("ok/jsonl", func(t *testing.T) {
		resp := export(admin, url.Values{"format": {"jsonl"}, "action": {"user.set_state"}})
		if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Header.Get("Content-Disposition"), ".jsonl") {
			t.Fatalf("JSON Lines export: %s %v", resp.Status, resp.Header)
		}
		sc := bufio.NewScanner(resp.Body)
		lines := 0
		for sc.Scan() {
			var ev struct{ Action, ActorName, ObjectLabel string }
			if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
				t.Fatalf("line %d: %v", lines, err)
			}
			if ev.Action != "user.set_state" || ev.ObjectLabel == "" {
				t.Errorf("line %d: %+v", lines, ev)
			}
			lines++
		}
		if n := want(auditevent.Action("user.set_state")); lines != n {
			t.Errorf("%d lines, %d events", lines, n)
		}
	})
	t.Run("error/refused", func(t *testing.T) {
		for _, c := range []struct {
			name   string
			client *servertest.Client
			query  url.Values
			status int
			code   string
		}{
			{"alice", alice, nil, http.StatusForbidden, "FORBIDDEN"},
			{"anonymous", env.Anonymous(), nil, http.StatusUnauthorized, "UNAUTHENTICATED"},
			{"bad time", admin, url.Values{"from": {"yesterday"}}, http.StatusBadRequest, "INVALID_INPUT"},
			{"bad format", admin, url.Values{"format": {"xlsx"}}, http.StatusBadRequest, "INVALID_INPUT"},
		} {
			resp := export(c.client, c.query)
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != c.status || !strings.Contains(string(body), c.code) {
				t.Errorf("%s: %s %s, want %d %s", c.name, resp.Status, body, c.status, c.code)
			}
		}
	})
	// Three exports went out (the refused ones did not).
	if n := want(auditevent.Action("audit.export")); n != 3 {
		t.Errorf("%d exports audited, want 3", n)
	}
}
