// Package store opens vscard's database: SQLite (modernc.org/sqlite, pure Go) for the
// embedded default, PostgreSQL (pgx) for several instances sharing one store.
package store

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	_ "modernc.org/sqlite"             // registers the "sqlite" driver

	"github.com/vscard/vscard/ent"
	_ "github.com/vscard/vscard/ent/runtime" // schema hooks, policies and defaults
)

// DB is an opened database.
type DB struct {
	Client  *ent.Client
	SQL     *sql.DB
	Dialect string
	// DSN is the connection string (PostgreSQL events need a connection of their own).
	DSN string
}

// IsPostgres reports whether dsn names a PostgreSQL database.
func IsPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// SQLiteDSN returns the DSN of a SQLite file with the settings vscard relies on: foreign
// keys, WAL for concurrent readers, a busy timeout, and IMMEDIATE transactions so that two
// writers queue instead of failing with SQLITE_BUSY when they upgrade a read lock.
func SQLiteDSN(path string) string {
	return "file:" + path + "?_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)" +
		"&_pragma=busy_timeout(10000)&_pragma=synchronous(NORMAL)&_txlock=immediate"
}

// DefaultMaxConns is how many connections to the database an instance opens at most
// unless told otherwise. Fewer connections than requests in flight is the point: on
// PostgreSQL every connection is a backend process, and more busy backends than the
// database's cores can run only add switching between them. Enrolment on a 2-core
// PostgreSQL cost 8 ms of its CPU per order with 6 or 8 connections and ~10 ms with 20,
// for the same statements (BENCHMARKS.md). Requests beyond the limit wait for a
// connection, which costs them latency but no database work.
const DefaultMaxConns = 8

// Open connects to dsn: a postgres:// URL, or a SQLite DSN or file path. It opens at
// most maxConns connections (DefaultMaxConns when maxConns is 0).
func Open(ctx context.Context, dsn string, maxConns int) (*DB, error) {
	if maxConns < 0 {
		return nil, fmt.Errorf("open database: the connection limit must be at least 1, not %d", maxConns)
	}
	if maxConns == 0 {
		maxConns = DefaultMaxConns
	}
	driver, dia := "sqlite", dialect.SQLite
	if IsPostgres(dsn) {
		driver, dia = "pgx", dialect.Postgres
	} else if !strings.HasPrefix(dsn, "file:") {
		if err := os.MkdirAll(filepath.Dir(dsn), 0o700); err != nil {
			return nil, fmt.Errorf("create database directory: %w", err)
		}
		dsn = SQLiteDSN(dsn)
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	// Keep as many connections idle as may be open: under load the pool otherwise closes
	// every connection above the idle limit as soon as it is released and opens a new one
	// for the next request (database/sql keeps 2 idle by default). A new connection costs a
	// PostgreSQL backend process, or a SQLite handle that reads the schema again; idle ones
	// still go after ConnMaxIdleTime.
	db.SetMaxOpenConns(maxConns)
	db.SetMaxIdleConns(maxConns)
	db.SetConnMaxIdleTime(5 * time.Minute)
	pingCtx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := db.PingContext(pingCtx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect to database: %w", err)
	}
	client := ent.NewClient(ent.Driver(entsql.OpenDB(dia, db)))
	return &DB{Client: client, SQL: db, Dialect: dia, DSN: dsn}, nil
}

// Close closes the database.
func (d *DB) Close() error { return d.Client.Close() }
