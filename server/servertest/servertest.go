// Package servertest runs a real vscard server for tests: an httptest listener, the
// embedded SQLite store (or PostgreSQL when VSCARD_TEST_DATABASE_URL is set), the CA, the
// development identity provider, and a GraphQL client that signs in through the provider's
// login form like a browser and subscribes over WebSocket (graphql-transport-ws).
//
// Nothing here is linked into vscard-server: it exists for tests only, and every identity
// it uses comes from a real sign-in.
package servertest

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/vscard/vscard/server"
	"github.com/vscard/vscard/server/store/storetest"
	"github.com/vscard/vscard/server/testclock"
)

// Env is a running server.
type Env struct {
	URL    string
	Server *server.Server
	HTTP   *httptest.Server
	Cancel context.CancelFunc
}

// Option changes the server's configuration before it starts.
type Option func(*server.Config)

// WithClock makes c the server's clock, so that the test moves time (c.Advance) past an
// expiry instead of sleeping until it.
func WithClock(c *testclock.Clock) Option {
	return func(cfg *server.Config) { cfg.Now = c.Now }
}

// Start runs a server until the test ends.
func Start(tb testing.TB, opts ...Option) *Env {
	tb.Helper()
	return StartLogged(tb, nil, opts...)
}

// StartLogged is Start with the server's debug log written to w (nil: discarded, or stderr
// when VSCARD_TEST_LOG is set).
func StartLogged(tb testing.TB, w io.Writer, opts ...Option) *Env {
	tb.Helper()
	ts := httptest.NewUnstartedServer(nil)
	url := "http://" + ts.Listener.Addr().String()
	cfg := server.Config{
		Addr:          ts.Listener.Addr().String(),
		PublicURL:     url,
		DataDir:       tb.TempDir(),
		DatabaseURL:   defaultDatabase,
		SweepInterval: time.Hour, // tests sweep explicitly
	}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.DatabaseURL == defaultDatabase { // no option chose one
		cfg.DatabaseURL = Database(tb)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if w == nil {
		w = io.Discard
		if os.Getenv("VSCARD_TEST_LOG") != "" {
			w = os.Stderr
		}
	}
	log := slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv, err := server.New(ctx, cfg, log)
	if err != nil {
		cancel()
		tb.Fatalf("start server: %v", err)
	}
	ts.Config.Handler = srv.Handler
	ts.Config.BaseContext = func(net.Listener) context.Context { return ctx }
	ts.Start()
	go srv.Auth.Run(ctx)
	env := &Env{URL: url, Server: srv, HTTP: ts, Cancel: cancel}
	tb.Cleanup(func() {
		cancel()
		ts.CloseClientConnections()
		ts.Close()
		srv.Close()
	})
	return env
}

// defaultDatabase stands for "no option chose a database" until the options have run, so
// that a fresh PostgreSQL database is created only for servers that use it.
const defaultDatabase = "\x00servertest: the test's own database"

// Database returns the DSN of a fresh, empty database for one test: "" (SQLite in the data
// folder) unless VSCARD_TEST_POSTGRES holds the DSN of a PostgreSQL server, where a new
// database is created and dropped when the test ends.
func Database(tb testing.TB) string {
	tb.Helper()
	if storetest.Postgres() == "" {
		return ""
	}
	return storetest.PostgresDatabase(tb)
}

// Demo users of the development identity provider (server/devidp/users.yaml).
var (
	Alice = Credentials{"alice", "alice-demo"} // ACTIVE
	Bob   = Credentials{"bob", "bob-demo"}     // INACTIVE
	Carol = Credentials{"carol", "carol-demo"} // ACTIVE
	Admin = Credentials{"admin", "admin-demo"} // administrator
	Olga  = Credentials{"olga", "olga-demo"}   // operator (help desk)
)

// Credentials are a demo user's username and password.
type Credentials struct{ Username, Password string }

// SignIn signs in through /auth/login and the provider's login form, and returns a client
// that carries the session cookie.
func (e *Env) SignIn(tb testing.TB, c Credentials) *Client {
	tb.Helper()
	cl := e.Anonymous()
	resp, err := cl.HTTP.Get(e.URL + "/auth/login?return=/auth/session")
	if err != nil {
		tb.Fatalf("open login: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `name="password"`) {
		tb.Fatalf("login page: status %d at %s", resp.StatusCode, resp.Request.URL)
	}
	page := resp.Request.URL
	form := "id=" + page.Query().Get("authRequestID") + "&username=" + c.Username + "&password=" + c.Password
	req, _ := http.NewRequest(http.MethodPost, page.Scheme+"://"+page.Host+page.Path, strings.NewReader(form))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err = cl.HTTP.Do(req)
	if err != nil {
		tb.Fatalf("submit login: %v", err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/auth/session" ||
		!strings.Contains(string(body), `"authenticated":true`) {
		tb.Fatalf("sign-in as %s ended with status %d at %s: %s", c.Username, resp.StatusCode, resp.Request.URL, body)
	}
	return cl
}

// Anonymous returns a client without a session.
func (e *Env) Anonymous() *Client {
	return newClient(e.URL)
}

// Bearer returns a client that sends token as a bearer token (a portal's access token or a
// desktop bridge's session).
func (e *Env) Bearer(token string) *Client {
	c := newClient(e.URL)
	c.Bearer = token
	return c
}
