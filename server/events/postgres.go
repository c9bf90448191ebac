package events

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Channel is the PostgreSQL notification channel that vscard's instances share.
const Channel = "vscard_events"

// maxKeyLen keeps keys well inside PostgreSQL's 8000-byte NOTIFY payload limit.
const maxKeyLen = 1000

// PostgresConfig tunes a Postgres bus. The zero value of every field but DSN and DB means
// the default.
type PostgresConfig struct {
	// DSN is the database's postgres:// URL; the listener dials its own connection.
	DSN string
	// DB is the instance's connection pool, used to publish.
	DB *sql.DB
	// Logger receives connection losses and reconnects.
	Logger *slog.Logger
	// HealthInterval is how long the listener waits without a notification before it pings
	// the server, so that a silently dropped connection is noticed (default 30s).
	HealthInterval time.Duration
	// MinBackoff and MaxBackoff bound the wait between reconnection attempts (100ms, 10s).
	MinBackoff, MaxBackoff time.Duration
}

// Postgres is the Bus for several server instances that share one PostgreSQL database.
// Publish sends NOTIFY on Channel, so every instance hears it; each instance LISTENs on a
// dedicated connection and fans notices out to its own subscribers through a Local.
//
// A lost listening connection loses the notices sent meanwhile. Postgres reconnects with
// backoff and then wakes every subscriber (Local.NotifyAll): each re-reads its state and
// sends it on, so nothing that changed is missed.
type Postgres struct {
	cfg   PostgresConfig
	conn  *pgx.ConnConfig
	local *Local
	done  chan struct{}
	// ordersByTrigger: the database notifies every order change itself (OrdersTrigger).
	ordersByTrigger bool

	mu  sync.Mutex
	pid uint32
	// reconnects and notices count, for metrics, how often the listener came back after a
	// loss and how many notices it delivered.
	reconnects, notices atomic.Int64
}

var _ Bus = (*Postgres)(nil)

// NewPostgres connects the listener and starts delivering notices until ctx ends. It
// returns once the listener is up, so an instance that starts serving hears every notice
// from then on.
func NewPostgres(ctx context.Context, cfg PostgresConfig) (*Postgres, error) {
	if cfg.DB == nil {
		return nil, errors.New("start PostgreSQL events: no connection pool to publish with")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.HealthInterval <= 0 {
		cfg.HealthInterval = 30 * time.Second
	}
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = 100 * time.Millisecond
	}
	if cfg.MaxBackoff < cfg.MinBackoff {
		cfg.MaxBackoff = max(10*time.Second, cfg.MinBackoff)
	}
	connCfg, err := pgx.ParseConfig(cfg.DSN)
	if err != nil {
		return nil, fmt.Errorf("parse events database URL: %w", err)
	}
	connCfg.RuntimeParams["application_name"] = "vscard-events"
	p := &Postgres{cfg: cfg, conn: connCfg, local: NewLocal(), done: make(chan struct{})}
	if p.ordersByTrigger, err = hasOrdersTrigger(ctx, cfg.DB); err != nil {
		return nil, err
	}
	if !p.ordersByTrigger {
		cfg.Logger.Info("the orders table has no " + OrdersTrigger + " trigger: order changes are published after commit")
	}
	conn, err := p.connect(ctx)
	if err != nil {
		return nil, err
	}
	go p.run(ctx, conn)
	return p, nil
}

// OrdersTrigger is the trigger (migration orders_notify) through which the database
// sends an order's notice when the transaction that changed the order commits.
const OrdersTrigger = "orders_notify"

func hasOrdersTrigger(ctx context.Context, db *sql.DB) (bool, error) {
	var n int
	err := db.QueryRowContext(ctx, `SELECT count(*) FROM pg_trigger t
		JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace s ON s.oid = c.relnamespace
		WHERE t.tgname = $1 AND c.relname = 'orders' AND s.nspname = current_schema()`, OrdersTrigger).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("look for the %s trigger: %w", OrdersTrigger, err)
	}
	return n > 0, nil
}

// Publish implements Bus: every instance's subscribers of key hear of it, this one's too
// (through its own listener). Order keys are left to the database's OrdersTrigger where
// it exists: it has sent them already, with the commit.
func (p *Postgres) Publish(ctx context.Context, key string) error {
	if len(key) > maxKeyLen {
		return fmt.Errorf("publish %q…: key longer than %d bytes", key[:32], maxKeyLen)
	}
	if p.ordersByTrigger && strings.HasPrefix(key, orderPrefix) {
		return nil
	}
	if _, err := p.cfg.DB.ExecContext(ctx, "SELECT pg_notify($1, $2)", Channel, key); err != nil {
		return fmt.Errorf("publish %s: %w", key, err)
	}
	return nil
}

// Subscribe implements Bus.
func (p *Postgres) Subscribe(ctx context.Context, key string) (<-chan struct{}, error) {
	return p.local.Subscribe(ctx, key)
}

// Watch implements Watcher: fn hears the notices of every instance, this one's too.
func (p *Postgres) Watch(ctx context.Context, prefix string, fn func(key string)) {
	p.local.Watch(ctx, prefix, fn)
}

var _ Watcher = (*Postgres)(nil)

// Subscribers returns how many subscriptions are open on this instance.
func (p *Postgres) Subscribers() int { return p.local.Subscribers() }

// BackendPID returns the PostgreSQL backend process of the listening connection, or 0
// while it is reconnecting (for diagnostics, and for tests that cut the connection).
func (p *Postgres) BackendPID() uint32 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.pid
}

// Reconnects is how many times the listener has come back after losing its connection.
func (p *Postgres) Reconnects() int64 { return p.reconnects.Load() }

// Notices is how many notices the listener has received.
func (p *Postgres) Notices() int64 { return p.notices.Load() }

// Done is closed when the bus has stopped, after its context ended.
func (p *Postgres) Done() <-chan struct{} { return p.done }

func (p *Postgres) connect(ctx context.Context) (*pgx.Conn, error) {
	conn, err := pgx.ConnectConfig(ctx, p.conn)
	if err != nil {
		return nil, fmt.Errorf("connect events listener: %w", err)
	}
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{Channel}.Sanitize()); err != nil {
		closeConn(conn)
		return nil, fmt.Errorf("listen for events: %w", err)
	}
	p.mu.Lock()
	p.pid = conn.PgConn().PID()
	p.mu.Unlock()
	return conn, nil
}

// run listens on conn, and on every new connection after a loss, until ctx ends.
func (p *Postgres) run(ctx context.Context, conn *pgx.Conn) {
	defer close(p.done)
	log := p.cfg.Logger
	for {
		err := p.listen(ctx, conn)
		p.mu.Lock()
		p.pid = 0
		p.mu.Unlock()
		if ctx.Err() != nil {
			return
		}
		log.Warn("lost the events connection to PostgreSQL; reconnecting", "err", err)
		backoff := p.cfg.MinBackoff
		for {
			select {
			case <-ctx.Done():
				return
			case <-time.After(jitter(backoff)):
			}
			if conn, err = p.connect(ctx); err == nil {
				break
			}
			if ctx.Err() != nil {
				return
			}
			log.Warn("reconnect events listener", "err", err, "retry_in", backoff)
			backoff = min(2*backoff, p.cfg.MaxBackoff)
		}
		p.reconnects.Add(1)
		log.Info("events connection to PostgreSQL is back; every subscriber re-reads")
		// Notices sent while the listener was away are gone: have everyone re-read.
		p.local.NotifyAll()
	}
}

// listen delivers notifications from conn until the connection fails or ctx ends, then
// closes conn.
func (p *Postgres) listen(ctx context.Context, conn *pgx.Conn) error {
	defer closeConn(conn)
	for {
		waitCtx, cancel := context.WithTimeout(ctx, p.cfg.HealthInterval)
		n, err := conn.WaitForNotification(waitCtx)
		cancel()
		switch {
		case err == nil:
			p.notices.Add(1)
			p.local.Notify(n.Payload)
		case ctx.Err() != nil:
			return ctx.Err()
		case pgconn.Timeout(err):
			// Quiet for a while: make sure the connection is still there.
			pingCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
			err := conn.Ping(pingCtx)
			cancel()
			if err != nil {
				return fmt.Errorf("ping events connection: %w", err)
			}
		default:
			return fmt.Errorf("wait for notification: %w", err)
		}
	}
}

func closeConn(conn *pgx.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = conn.Close(ctx)
}

// jitter returns a duration in [d/2, d) so that instances cut off together do not
// reconnect in lockstep.
func jitter(d time.Duration) time.Duration {
	return d/2 + rand.N(d/2+1)
}
