package server_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/vscard/vscard/server"
	"github.com/vscard/vscard/server/servertest"
	"github.com/vscard/vscard/server/store"
)

// TestDatabaseMaxConns: --database-max-conns bounds an instance's connection pool, and no
// request needs two of its connections at once: with a single connection every step of
// an order, and a cancel that undoes one, still go through.
func TestDatabaseMaxConns(t *testing.T) {
	for _, tc := range []struct {
		name      string
		set, want int
	}{
		{"ok/default", 0, store.DefaultMaxConns},
		{"ok/set", 3, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := servertest.Start(t, func(c *server.Config) { c.DatabaseMaxConns = tc.set })
			if got := env.Server.DB.SQL.Stats().MaxOpenConnections; got != tc.want {
				t.Fatalf("the pool opens up to %d connections, want %d", got, tc.want)
			}
		})
	}

	t.Run("ok/one connection is enough for every step", func(t *testing.T) {
		env := servertest.Start(t, func(c *server.Config) { c.DatabaseMaxConns = 1 })
		alice := env.SignIn(t, servertest.Alice)
		o := start(t, env, alice)
		o.toCardReady()
		if got := o.next(); got != "COMPLETED" {
			t.Fatalf("after the last Next the order is %s", got)
		}
		o = start(t, env, alice)
		o.next()
		o.mustClaim()
		o.mustCreate()
		o.mustSubmit()
		alice.MustDo(t, qCancel, map[string]any{"id": o.id}, nil)
		if got := o.state(); got != "CANCELLED" {
			t.Fatalf("after Cancel the order is %s", got)
		}
		if got := env.Server.DB.SQL.Stats().MaxOpenConnections; got != 1 {
			t.Fatalf("the pool opens up to %d connections, want 1", got)
		}
	})

	t.Run("error/negative", func(t *testing.T) {
		_, err := server.New(context.Background(), server.Config{DataDir: t.TempDir(), DatabaseMaxConns: -1},
			slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err == nil || !strings.Contains(err.Error(), "--database-max-conns") {
			t.Fatalf("server.New = %v, want an error naming --database-max-conns", err)
		}
	})
}
