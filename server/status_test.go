package server_test

import (
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
