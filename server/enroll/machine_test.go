package enroll

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/vscard/vscard/ent"
	"github.com/vscard/vscard/ent/order"
	"github.com/vscard/vscard/server/record"
	"github.com/vscard/vscard/server/store"
	"github.com/vscard/vscard/server/viewer"
)

// TestAfterUpdate: the order a transition hands back without reading it again is the
// order the database holds, for every field a move sets or clears, and a change it does not
// know is read back.
func TestAfterUpdate(t *testing.T) {
	ctx := viewer.AsServer(context.Background())
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "vscard.db"), 0)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	u := db.Client.User.Create().SetOidcIssuer("https://idp.test").SetOidcSubject("s").SetUsername("ann").SaveX(ctx)
	now := time.Now().UTC().Truncate(time.Microsecond)
	used := now.Add(-time.Minute)
	o := db.Client.Order.Create().SetUserID(u.ID).SetSteps([]record.OrderStep{{State: "STARTED", At: now}}).
		SetExpiresAt(now.Add(time.Hour)).SetTokenUsedAt(used).SaveX(ctx)

	for _, tc := range []struct {
		name string
		set  func(m *ent.OrderMutation)
	}{
		{"ok/every field a move sets", func(m *ent.OrderMutation) {
			m.SetState(order.StateFAILED)
			m.SetVersion(o.Version + 1)
			m.SetSteps(append(o.Steps, record.OrderStep{State: "FAILED", At: now, Note: "broken"}))
			m.SetExpiresAt(now.Add(2 * time.Hour))
			m.SetFinishedAt(now)
			m.SetTokenHash([]byte{1, 2, 3})
			m.SetTokenExpiresAt(now.Add(10 * time.Minute))
			m.SetBridgeSessionHash([]byte{4, 5, 6})
			m.SetBridgeSessionExpiresAt(now.Add(30 * time.Minute))
			m.SetVerificationCode("123-456")
			m.SetFailureReason("broken")
		}},
		{"ok/a cleared field", func(m *ent.OrderMutation) { m.ClearTokenUsedAt(); m.SetTokenUsedAt(used); m.ClearTokenUsedAt() }},
		{"ok/a field it does not know is read back", func(m *ent.OrderMutation) { m.SetOptionScriptVersion("7") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tx, err := db.Client.Tx(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback()
			before := tx.Order.GetX(ctx, o.ID)
			up := tx.Order.Update().Where(order.ID(o.ID))
			tc.set(up.Mutation())
			if n := up.SaveX(ctx); n != 1 {
				t.Fatalf("updated %d orders", n)
			}
			got, err := afterUpdate(ctx, tx, before, up.Mutation())
			if err != nil {
				t.Fatal(err)
			}
			want := tx.Order.GetX(ctx, o.ID)
			if g, w := orderJSON(t, got), orderJSON(t, want); g != w {
				t.Fatalf("afterUpdate:\n %s\nthe database:\n %s", g, w)
			}
		})
	}
}

// orderJSON shows every column of o, hashes and times in one form.
func orderJSON(t *testing.T, o *ent.Order) string {
	t.Helper()
	c := *o
	c.Edges = ent.OrderEdges{}
	for _, p := range []*time.Time{&c.CreatedAt, &c.UpdatedAt, &c.ExpiresAt} {
		*p = p.UTC()
	}
	for _, p := range []**time.Time{&c.TokenExpiresAt, &c.TokenUsedAt, &c.BridgeSessionExpiresAt, &c.FinishedAt} {
		if *p != nil {
			v := (*p).UTC()
			*p = &v
		}
	}
	for i := range c.Steps {
		c.Steps[i].At = c.Steps[i].At.UTC()
	}
	b, err := json.Marshal(struct {
		*ent.Order
		TokenHash, BridgeSessionHash []byte
	}{&c, c.TokenHash, c.BridgeSessionHash})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
