package server_test

import (
	"io"
	"net/url"
	"strings"
	"testing"

	"github.com/vscard/vscard/ent/auditevent"
	"github.com/vscard/vscard/server/servertest"
)

const qTrail = `query($where: AuditEventWhereInput!) {
  auditEvents(first: 100, where: $where, orderBy: { field: AT, direction: ASC }) {
    edges { node { action actorID objectType subjectID } }
  }
}`

type trail struct {
	AuditEvents struct {
		Edges []struct {
			Node struct{ Action, ActorID, ObjectType, SubjectID string }
		}
	}
}

func (tr trail) actions() []string {
	var out []string
	for _, e := range tr.AuditEvents.Edges {
		out = append(out, e.Node.Action)
	}
	return out
}

// TestAuditTrailAboutAPerson: the audit log filtered by the person an event is about
// (subjectID) has what others did to their account, cards and orders, which filtering by
// actor misses; every event about a person's object names them, so none escapes the
// filter; the export's person filter reads the same. On SQLite, and on PostgreSQL when
// VSCARD_TEST_POSTGRES is set (servertest.Start).
func TestAuditTrailAboutAPerson(t *testing.T) {
	env := servertest.Start(t, generous)
	alice := env.SignIn(t, servertest.Alice)
	olga := env.SignIn(t, servertest.Olga)
	carol := env.SignIn(t, servertest.Carol)
	aliceID, carolID := userID(t, alice), userID(t, carol)
	o := start(t, env, alice)
	o.toCardReady()
	o.next()
	var c struct{ Card struct{ ID string } }
	alice.MustDo(t, `query($s: String!) { card(serial: $s) { id } }`, map[string]any{"s": o.claim.Card.Serial}, &c)
	var st struct{ StartProcess struct{ ID string } }
	olga.MustDo(t, qOpStart, map[string]any{"name": "lock-virtual-smart-card", "card": c.Card.ID, "reason": "laptop left in a taxi"}, &st)
	olga.MustDo(t, qOpNext, map[string]any{"id": st.StartProcess.ID, "reason": "laptop left in a taxi"}, nil)
	olga.MustDo(t, `mutation($id: ID!) { endUserSessions(userId: $id, reason: "laptop left in a taxi") }`, map[string]any{"id": carolID}, nil)

	var about trail
	olga.MustDo(t, qTrail, map[string]any{"where": map[string]any{"subjectID": aliceID}}, &about)
	var byOlgaAboutAlice, cardEvents int
	for _, e := range about.AuditEvents.Edges {
		if e.Node.SubjectID != aliceID {
			t.Errorf("%s about %q in alice's trail", e.Node.Action, e.Node.SubjectID)
		}
		if e.Node.ActorID == userID(t, olga) {
			byOlgaAboutAlice++
		}
		if e.Node.ObjectType == "Card" {
			cardEvents++
		}
	}
	got := strings.Join(about.actions(), " ")
	for _, want := range []string{"auth.login", "order.start", "order.claim", "card.lock"} {
		if !strings.Contains(got, want) {
			t.Errorf("alice's trail %q lacks %s", got, want)
		}
	}
	if byOlgaAboutAlice < 2 || cardEvents == 0 {
		t.Errorf("alice's trail has %d events by olga and %d about her card; want olga's lock order and the card's lock", byOlgaAboutAlice, cardEvents)
	}
	if strings.Contains(got, "user.end_sessions") {
		t.Errorf("alice's trail %q has carol's ended sessions", got)
	}

	// By actor alone, olga's lock is missing from alice's trail: the filter this replaces.
	var by trail
	olga.MustDo(t, qTrail, map[string]any{"where": map[string]any{"actorID": aliceID}}, &by)
	if strings.Contains(strings.Join(by.actions(), " "), "card.lock") {
		t.Errorf("alice did not lock her card: %v", by.actions())
	}

	// Fail closed: every event about a person's account, card, order or certificate names them.
	n, err := env.Server.DB.Client.AuditEvent.Query().Where(
		auditevent.ObjectTypeIn("User", "Card", "Order", "Certificate"), auditevent.SubjectID("")).Count(systemCtx())
	if err != nil || n != 0 {
		t.Errorf("%d events about a person's object name no one (%v)", n, err)
	}

	// The export of alice's events has olga's lock, and nothing about carol.
	resp, err := olga.HTTP.Get(env.URL + "/audit/export?format=jsonl&person=" + url.QueryEscape(aliceID))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"card.lock"`) || strings.Contains(string(body), carolID) {
		t.Errorf("export of alice: %d %.300s", resp.StatusCode, body)
	}
}
