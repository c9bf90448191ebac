package events_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver

	"github.com/vscard/vscard/server/events"
	"github.com/vscard/vscard/server/store/storetest"
)

// wait bounds how long a test waits for a notice that must come; it is a safety net
// against hanging, not a performance assertion.
const wait = 30 * time.Second

// instances returns two buses that stand for two server instances sharing a store: the
// same Local for SQLite (one instance), two Postgres buses with their own connections on
// one fresh database when VSCARD_TEST_POSTGRES is set.
type instances func(t *testing.T, ctx context.Context) (a, b events.Bus)

func backends() map[string]instances {
	b := map[string]instances{
		"local": func(t *testing.T, _ context.Context) (events.Bus, events.Bus) {
			l := events.NewLocal()
			return l, l
		},
	}
	if storetest.Postgres() != "" {
		b["postgres"] = func(t *testing.T, ctx context.Context) (events.Bus, events.Bus) {
			dsn := storetest.PostgresDatabase(t)
			return newPostgres(t, ctx, dsn), newPostgres(t, ctx, dsn)
		}
	}
	return b
}

func newPostgres(t *testing.T, ctx context.Context, dsn string) *events.Postgres {
	t.Helper()
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(ctx)
	bus, err := events.NewPostgres(ctx, events.PostgresConfig{DSN: dsn, DB: db})
	if err != nil {
		cancel()
		db.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		<-bus.Done()
		db.Close()
	})
	return bus
}

func receive(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case _, ok := <-ch:
		if !ok {
			t.Fatalf("%s: channel closed", what)
		}
	case <-time.After(wait):
		t.Fatalf("%s: no notice", what)
	}
}

// TestBus is the behaviour every Bus has, on every backend.
func TestBus(t *testing.T) {
	for name, newInstances := range backends() {
		t.Run(name, func(t *testing.T) {
			t.Run("ok/publish on one instance, hear on both", func(t *testing.T) {
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				a, b := newInstances(t, ctx)
				onA, _ := a.Subscribe(ctx, events.OrderKey("1"))
				onB, _ := b.Subscribe(ctx, events.OrderKey("1"))
				other, _ := b.Subscribe(ctx, events.OrderKey("2"))
				if err := a.Publish(ctx, events.OrderKey("1")); err != nil {
					t.Fatal(err)
				}
				receive(t, onA, "subscriber on the publishing instance")
				receive(t, onB, "subscriber on the other instance")
				if err := b.Publish(ctx, events.OrderKey("2")); err != nil {
					t.Fatal(err)
				}
				receive(t, other, "subscriber of a second key")
			})

			t.Run("ok/notices coalesce but never vanish", func(t *testing.T) {
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				a, b := newInstances(t, ctx)
				ch, _ := b.Subscribe(ctx, events.OrderKey("c"))
				for range 20 {
					if err := a.Publish(ctx, events.OrderKey("c")); err != nil {
						t.Fatal(err)
					}
				}
				receive(t, ch, "slow subscriber")
			})

			t.Run("ok/channel closes when the subscription ends", func(t *testing.T) {
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				_, b := newInstances(t, ctx)
				subCtx, end := context.WithCancel(ctx)
				ch, _ := b.Subscribe(subCtx, events.OrderKey("x"))
				end()
				for range ch { // must end: the sender closes it
				}
			})
		})
	}
}

// TestPostgresReconnect cuts the listening connection of one instance: its subscribers
// get a resync notice once it is back, and notices from the other instance arrive again.
func TestPostgresReconnect(t *testing.T) {
	admin := storetest.Postgres()
	if admin == "" {
		t.Skip("set VSCARD_TEST_POSTGRES (scripts/test-postgres.sh start) to test PostgreSQL events")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dsn := storetest.PostgresDatabase(t)
	a, b := newPostgres(t, ctx, dsn), newPostgres(t, ctx, dsn)
	ch, _ := b.Subscribe(ctx, events.OrderKey("r"))

	for round := range 2 { // a second cut proves the reconnected listener is a full one
		pid := b.BackendPID()
		if pid == 0 {
			t.Fatal("listener has no backend")
		}
		db, err := sql.Open("pgx", admin)
		if err != nil {
			t.Fatal(err)
		}
		var killed bool
		err = db.QueryRowContext(ctx, "SELECT pg_terminate_backend($1)", int64(pid)).Scan(&killed)
		db.Close()
		if err != nil || !killed {
			t.Fatalf("terminate listener backend %d: %v %v", pid, killed, err)
		}
		receive(t, ch, "resync after the connection was cut") // nothing was published
		if got := b.BackendPID(); got == pid || got == 0 {
			t.Fatalf("round %d: listener backend is %d after reconnect (was %d)", round, got, pid)
		}
		if got := b.Reconnects(); got != int64(round+1) {
			t.Fatalf("round %d: Reconnects() = %d", round, got)
		}
		notices := b.Notices()
		if err := a.Publish(ctx, events.OrderKey("r")); err != nil {
			t.Fatal(err)
		}
		receive(t, ch, "notice after reconnect")
		if got := b.Notices(); got != notices+1 {
			t.Fatalf("round %d: Notices() went from %d to %d for one notice", round, notices, got)
		}
	}
}

func TestPostgresError(t *testing.T) {
	ctx := context.Background()
	if _, err := events.NewPostgres(ctx, events.PostgresConfig{DSN: "postgres://127.0.0.1:1/none"}); err == nil {
		t.Error("NewPostgres without a pool succeeded")
	}
	db, _ := sql.Open("pgx", "postgres://127.0.0.1:1/none?connect_timeout=2")
	defer db.Close()
	if _, err := events.NewPostgres(ctx, events.PostgresConfig{DSN: "postgres://vscard@127.0.0.1:1/none?connect_timeout=2", DB: db}); err == nil {
		t.Error("NewPostgres with an unreachable server succeeded")
	}
}
