package scripts

import (
	"context"
	"testing"
	"time"

	"github.com/vscard/vscard/ent"
	"github.com/vscard/vscard/server/events"
	"github.com/vscard/vscard/server/options"
	"github.com/vscard/vscard/server/store"
	"github.com/vscard/vscard/server/store/storetest"
	"github.com/vscard/vscard/server/viewer"
)

// TestFollowKeepsTheScriptInForceUntilASave: two instances on one database, each with its
// own bus connection (PostgreSQL) or one bus (SQLite, one process). A following store
// evaluates the version it read until a save on either instance, which both then evaluate;
// a store that does not follow reads the newest version every time.
func TestFollowKeepsTheScriptInForceUntilASave(t *testing.T) {
	for name, dsn := range storetest.Backends() {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(viewer.AsServer(context.Background()))
			t.Cleanup(cancel)
			db, err := store.Open(ctx, dsn(t), 0)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			if err := db.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			shared := events.NewLocal()
			bus := func() events.Bus { return shared }
			if name == "postgres" {
				bus = func() events.Bus {
					b, err := events.NewPostgres(ctx, events.PostgresConfig{DSN: db.DSN, DB: db.SQL})
					if err != nil {
						t.Fatal(err)
					}
					return b
				}
			}
			a, b, plain := New(db.Client, options.Env{}), New(db.Client, options.Env{}), New(db.Client, options.Env{})
			if err := a.EnsureDefault(ctx); err != nil {
				t.Fatal(err)
			}
			for _, s := range []*Store{a, b} {
				if err := s.Follow(ctx, bus()); err != nil {
					t.Fatal(err)
				}
			}
			u := &ent.User{ID: "u1", Username: "ann", DisplayName: "Ann", Email: "ann@example.com"}
			version := func(s *Store) string {
				t.Helper()
				_, v, err := s.Evaluate(ctx, u)
				if err != nil {
					t.Fatal(err)
				}
				return v
			}
			if version(a) != "1" || version(b) != "1" {
				t.Fatal("not at version 1")
			}
			// A version written behind the stores' backs: only the one that does not
			// follow reads it, which shows the others keep what they read.
			src := a.inForce.Source
			db.Client.OptionScript.Create().SetName(DefaultName).SetVersion(2).SetSource(src).SetAuthor("t").SaveX(ctx)
			if version(a) != "1" || version(b) != "1" || version(plain) != "2" {
				t.Fatalf("versions %s %s %s, want the followers at 1 and the other at 2", version(a), version(b), version(plain))
			}
			// A save through a: a at once, b once it hears (over the bus, asynchronously).
			if _, err := a.Update(ctx, DefaultName, src, "again"); err != nil {
				t.Fatal(err)
			}
			if v := version(a); v != "3" {
				t.Fatalf("a evaluates version %s after its own save, want 3", v)
			}
			deadline := time.Now().Add(30 * time.Second)
			for version(b) != "3" {
				if time.Now().After(deadline) {
					t.Fatal("b never heard of the save")
				}
				time.Sleep(10 * time.Millisecond)
			}
		})
	}
}
