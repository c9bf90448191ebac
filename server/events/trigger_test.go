package events_test

import (
	"context"
	"testing"
	"time"

	"github.com/vscard/vscard/ent"
	"github.com/vscard/vscard/server/events"
	"github.com/vscard/vscard/server/record"
	"github.com/vscard/vscard/server/store"
	"github.com/vscard/vscard/server/store/storetest"
	"github.com/vscard/vscard/server/viewer"
)

// TestOrdersTrigger: on a migrated PostgreSQL database an order's notice comes from the
// database when the transaction that changed the order commits, without any Publish, and
// never from a transaction that rolled back.
func TestOrdersTrigger(t *testing.T) {
	if storetest.Postgres() == "" {
		t.Skip("set VSCARD_TEST_POSTGRES (scripts/test-postgres.sh start) to test PostgreSQL events")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dsn := storetest.PostgresDatabase(t)
	db, err := store.Open(ctx, dsn, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	bus := newPostgres(t, ctx, dsn)
	sys := viewer.AsServer(ctx)
	onRolledBack, _ := bus.Subscribe(ctx, events.OrderKey("ord_rolledback"))
	onCommitted, _ := bus.Subscribe(ctx, events.OrderKey("ord_committed"))
	// One person per order: a person has at most one unfinished order.
	for id, ch := range map[string]<-chan struct{}{"ord_rolledback": onRolledBack, "ord_committed": onCommitted} {
		u := db.Client.User.Create().SetOidcIssuer("https://idp.test").SetOidcSubject(id).SetUsername(id).SaveX(sys)
		db.Client.Order.Create().SetID(id).SetUserID(u.ID).SetSteps([]record.OrderStep{}).SetExpiresAt(time.Now().Add(time.Hour)).ExecX(sys)
		receive(t, ch, "notice of the new order "+id)
	}
	rolledBack, committed := &ent.Order{ID: "ord_rolledback"}, &ent.Order{ID: "ord_committed"}

	tx, err := db.Client.Tx(sys)
	if err != nil {
		t.Fatal(err)
	}
	tx.Order.UpdateOneID(rolledBack.ID).SetVersion(1).ExecX(sys)
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	tx, err = db.Client.Tx(sys)
	if err != nil {
		t.Fatal(err)
	}
	tx.Order.UpdateOneID(committed.ID).SetVersion(1).ExecX(sys)
	select {
	case <-onCommitted:
		t.Fatal("notice before the transaction committed")
	case <-time.After(200 * time.Millisecond):
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	receive(t, onCommitted, "notice of the committed change")
	// One listener connection delivers notices in commit order: had the rolled-back
	// change been sent, it would be here by now.
	select {
	case <-onRolledBack:
		t.Fatal("notice of a change that was rolled back")
	default:
	}
}
