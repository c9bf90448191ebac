package server_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/vscard/vscard/ent"
	"github.com/vscard/vscard/ent/card"
	"github.com/vscard/vscard/server/servertest"
)

// TestCardStatus: what a portal reads about a card is what the store holds, field by
// field, while the card is active and after it is revoked (the look-up selects only the
// columns it answers with, so a column left out would show here as a zero value).
func TestCardStatus(t *testing.T) {
	env := servertest.Start(t)
	alice := env.SignIn(t, servertest.Alice)
	portal := env.Bearer(env.PortalToken(t, "cards:read"))
	o := start(t, env, alice)
	o.toCardReady()
	o.next()
	serial := o.claim.Card.Serial

	check := func(when string) {
		t.Helper()
		var out struct {
			CardStatus struct {
				Serial, State         string
				ValidFrom, ValidUntil time.Time
				Certificates          []struct {
					Serial, Slot, Template, State string
					NotAfter                      time.Time
					RevokedAt                     *time.Time
				}
			}
		}
		portal.MustDo(t, `query($s: String!) { cardStatus(serial: $s) {
			serial state validFrom validUntil certificates { serial slot template state notAfter revokedAt } } }`,
			map[string]any{"s": serial}, &out)
		stored := env.Server.DB.Client.Card.Query().Where(card.Serial(serial)).WithCertificates().OnlyX(systemCtx())
		got := out.CardStatus
		if got.Serial != stored.Serial || got.State != string(stored.State) ||
			!got.ValidFrom.Equal(stored.ValidFrom) || !got.ValidUntil.Equal(stored.ValidUntil) {
			t.Errorf("%s: cardStatus %s %s %s..%s, stored %s %s %s..%s", when, got.Serial, got.State, got.ValidFrom, got.ValidUntil,
				stored.Serial, stored.State, stored.ValidFrom, stored.ValidUntil)
		}
		if len(got.Certificates) != 2 || len(stored.Edges.Certificates) != 2 {
			t.Fatalf("%s: %d certificates reported, %d stored; want 2", when, len(got.Certificates), len(stored.Edges.Certificates))
		}
		bySerial := map[string]*ent.Certificate{}
		for _, c := range stored.Edges.Certificates {
			bySerial[c.Serial] = c
		}
		for _, c := range got.Certificates {
			s, ok := bySerial[c.Serial]
			switch {
			case !ok:
				t.Errorf("%s: certificate %s reported but not stored", when, c.Serial)
			case c.Slot != s.Slot || c.Template != string(s.Template) || c.State != string(s.State) || !c.NotAfter.Equal(s.NotAfter):
				t.Errorf("%s: certificate %s %s %s %s, stored %s %s %s %s", when, c.Slot, c.Template, c.State, c.NotAfter, s.Slot, s.Template, s.State, s.NotAfter)
			case (c.RevokedAt == nil) != (s.RevokedAt == nil) || (c.RevokedAt != nil && !c.RevokedAt.Equal(*s.RevokedAt)):
				t.Errorf("%s: certificate %s revoked at %v, stored %v", when, c.Serial, c.RevokedAt, s.RevokedAt)
			}
		}
	}
	check("active")
	alice.MustDo(t, `mutation($s: String!) { revokeCard(serial: $s, reason: LOST_OR_STOLEN, comment: "lost laptop") { id } }`, map[string]any{"s": serial}, nil)
	check("revoked")
}

// TestCardStatuses: the batch form answers in the order asked, null where there is no card
// or the caller may not see it (a person sees only their own cards, a portal all), and
// refuses more than a bounded number of serials with INVALID_INPUT.
func TestCardStatuses(t *testing.T) {
	env := servertest.Start(t)
	alice := env.SignIn(t, servertest.Alice)
	carol := env.SignIn(t, servertest.Carol)
	portal := env.Bearer(env.PortalToken(t, "cards:read"))
	issue := func(c *servertest.Client) string {
		o := start(t, env, c)
		o.toCardReady()
		o.next()
		return o.claim.Card.Serial
	}
	aliceCard, carolCard := issue(alice), issue(carol)

	const q = `query($s: [String!]!) { cardStatuses(serials: $s) { serial state } }`
	ask := func(c *servertest.Client, serials ...string) []string {
		t.Helper()
		var out struct {
			CardStatuses []*struct{ Serial, State string }
		}
		c.MustDo(t, q, map[string]any{"s": serials}, &out)
		if len(out.CardStatuses) != len(serials) {
			t.Fatalf("%d answers to %d serials", len(out.CardStatuses), len(serials))
		}
		got := make([]string, len(serials))
		for i, st := range out.CardStatuses {
			switch {
			case st == nil:
				got[i] = "null"
			case st.Serial != serials[i]:
				t.Fatalf("answer %d is for %s, asked %s", i, st.Serial, serials[i])
			default:
				got[i] = st.State
			}
		}
		return got
	}
	for _, tc := range []struct {
		name    string
		c       *servertest.Client
		serials []string
		want    []string
	}{
		{"alice", alice, []string{carolCard, aliceCard, "00000000", aliceCard}, []string{"null", "ACTIVE", "null", "ACTIVE"}},
		{"carol", carol, []string{aliceCard, carolCard}, []string{"null", "ACTIVE"}},
		{"portal", portal, []string{carolCard, "00000000", aliceCard}, []string{"ACTIVE", "null", "ACTIVE"}},
		{"none", portal, []string{}, []string{}},
	} {
		if got := ask(tc.c, tc.serials...); strings.Join(got, " ") != strings.Join(tc.want, " ") {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}

	tooMany := make([]string, 101)
	for i := range tooMany {
		tooMany[i] = aliceCard
	}
	err := portal.Do(context.Background(), q, map[string]any{"s": tooMany}, nil)
	if codeOf(err) != "INVALID_INPUT" {
		t.Fatalf("101 serials: %v, want INVALID_INPUT", err)
	}
	if got := ask(portal, tooMany[:100]...); len(got) != 100 || got[99] != "ACTIVE" {
		t.Errorf("100 serials: %v", got[len(got)-1])
	}
}
