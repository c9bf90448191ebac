package store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/vscard/vscard/ent/auditevent"
	"github.com/vscard/vscard/ent/card"
	"github.com/vscard/vscard/server/cardspec"
	"github.com/vscard/vscard/server/record"
	"github.com/vscard/vscard/server/store"
	"github.com/vscard/vscard/server/store/storetest"
	"github.com/vscard/vscard/server/viewer"
)

// TestAuditSubjectBackfill: the migration that adds audit_events.subject_id fills it for
// the events written before, as audit.Write names it now: a User itself, a card's owner
// (also of a card purged since, from its purge event), an order's owner, a certificate's
// order's owner; an option script's event stays about no one. On SQLite and PostgreSQL.
func TestAuditSubjectBackfill(t *testing.T) {
	for name, newDSN := range storetest.Backends() {
		t.Run(name, func(t *testing.T) {
			ctx := viewer.AsServer(context.Background())
			db := open(t, newDSN(t))
			if err := db.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			c := db.Client
			ann := c.User.Create().SetOidcIssuer("t").SetOidcSubject("ann").SetUsername("ann").SaveX(ctx)
			crd := c.Card.Create().SetSerial("1").SetOwnerID(ann.ID).SetState(card.StateACTIVE).
				SetValidFrom(time.Now()).SetValidUntil(time.Now()).
				SetProperties(cardspec.Properties{CommonName: "ann"}).SetManagementKey([]byte{1}).SetPuk([]byte{2}).SaveX(ctx)
			o := c.Order.Create().SetUserID(ann.ID).SetExpiresAt(time.Now()).SetSteps([]record.OrderStep{}).SaveX(ctx)
			ev := func(typ, id, action string, details map[string]any) string {
				return c.AuditEvent.Create().SetAt(time.Now()).SetActor("system").SetActorKind("system").
					SetAction(action).SetObjectType(typ).SetObjectID(id).SetDetails(details).SaveX(ctx).ID
			}
			want := map[string]string{
				ev("User", ann.ID, "auth.login", nil):                                     ann.ID,
				ev("Card", crd.ID, "card.lock", nil):                                      ann.ID,
				ev("Order", o.ID, "order.start", nil):                                     ann.ID,
				ev("Card", "crd_gone", "card.lock", nil):                                  "usr_gone",
				ev("Card", "crd_gone", "card.purge", map[string]any{"owner": "usr_gone"}): "usr_gone",
				ev("OptionScript", "default", "script.update", nil):                       "",
				ev("Order", "ord_unknown", "order.cancel", nil):                           "",
			}
			for _, stmt := range backfill(t, db.Dialect) {
				if _, err := db.SQL.ExecContext(ctx, stmt); err != nil {
					t.Fatalf("%s: %v", stmt, err)
				}
			}
			for id, subject := range want {
				got := c.AuditEvent.Query().Where(auditevent.ID(id)).OnlyX(ctx)
				if got.SubjectID != subject {
					t.Errorf("%s %s: subject %q, want %q", got.ObjectType, got.Action, got.SubjectID, subject)
				}
			}
		})
	}
}

// backfill is the UPDATE statements of the subject_id migration of dialect.
func backfill(t *testing.T, dialect string) []string {
	t.Helper()
	dir, err := store.Migrations(dialect)
	if err != nil {
		t.Fatal(err)
	}
	files, err := dir.Files()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if !strings.HasSuffix(f.Name(), "_opconsole_audit_subject.sql") {
			continue
		}
		var out []string
		for _, s := range strings.Split(string(f.Bytes()), ";\n") {
			if i := strings.Index(s, "UPDATE "); i >= 0 {
				out = append(out, s[i:])
			}
		}
		if len(out) != 4 {
			t.Fatalf("%s has %d UPDATE statements, want 4", f.Name(), len(out))
		}
		return out
	}
	t.Fatal("no migration _opconsole_audit_subject.sql")
	return nil
}
