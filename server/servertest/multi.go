package servertest

import (
	"context"
	"os"
	"testing"

	"github.com/vscard/vscard/server"
)

// WithDatabase makes the server use the database at dsn instead of a fresh one, e.g. the
// database of another instance.
func WithDatabase(dsn string) Option {
	return func(c *server.Config) { c.DatabaseURL = dsn }
}

// WithDataDir makes the server use dir as its data folder instead of a fresh one. Instances
// that share it share the CA files, the secret key and the development provider's signing
// key, as instances provisioned with the same files would.
func WithDataDir(dir string) Option {
	return func(c *server.Config) { c.DataDir = dir }
}

// StartCluster runs n server instances on one fresh PostgreSQL database with one data
// folder, each on its own listener, as several instances behind a load balancer would run.
// They start one after another (the first creates the CA and the secret key, the others
// load them). It skips the test when VSCARD_TEST_POSTGRES is unset: SQLite is one
// instance's store.
func StartCluster(tb testing.TB, n int, opts ...Option) []*Env {
	tb.Helper()
	if !hasPostgres() {
		tb.Skip("several instances need PostgreSQL: set VSCARD_TEST_POSTGRES (make test-postgres, or VSCARD_TEST_POSTGRES=$(scripts/test-postgres.sh start))")
	}
	shared := append([]Option{WithDatabase(Database(tb)), WithDataDir(tb.TempDir())}, opts...)
	envs := make([]*Env, n)
	for i := range envs {
		envs[i] = Start(tb, shared...)
	}
	return envs
}

// Kill stops the instance abruptly, as a crash would: its context ends (background work
// stops), open connections are cut, and the event listener and the database are closed,
// with no graceful shutdown (see Drain for that). Clients of other instances carry on.
func (e *Env) Kill() {
	e.Cancel()
	e.HTTP.CloseClientConnections()
	e.HTTP.Listener.Close()
	e.Server.Close()
}

// At returns a client that talks to the instance at url as the same caller: the same
// cookie jar (sessions live in the shared database) and the same bearer token.
func (c *Client) At(url string) *Client {
	return &Client{URL: url, HTTP: c.HTTP, Bearer: c.Bearer}
}

func hasPostgres() bool { return os.Getenv("VSCARD_TEST_POSTGRES") != "" }

// Drain stops the instance gracefully, as a rolling restart does (server.Server.Drain):
// /readyz reports it shutting down, it stops listening once the configured delay has
// passed, requests in flight finish and subscriptions are closed normally.
func (e *Env) Drain(ctx context.Context) error { return e.Server.Drain(ctx, e.HTTP.Config) }
