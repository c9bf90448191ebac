// Package storetest gives tests a fresh database of each kind vscard supports: SQLite
// always, PostgreSQL when VSCARD_TEST_POSTGRES holds the admin DSN of a server (see
// scripts/test-postgres.sh). It depends on nothing else of vscard, so storage and event
// tests do not need the whole server to build.
package storetest

import (
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver
)

// Postgres returns the admin DSN from VSCARD_TEST_POSTGRES, or "".
func Postgres() string { return os.Getenv("VSCARD_TEST_POSTGRES") }

// Backends names a DSN factory per available database: "sqlite" always (a file in a
// temporary folder), "postgres" when VSCARD_TEST_POSTGRES is set (a new database).
func Backends() map[string]func(tb testing.TB) string {
	b := map[string]func(tb testing.TB) string{
		"sqlite": func(tb testing.TB) string { return filepath.Join(tb.TempDir(), "vscard.db") },
	}
	if Postgres() != "" {
		b["postgres"] = PostgresDatabase
	}
	return b
}

// PostgresDatabase creates an empty database on the VSCARD_TEST_POSTGRES server, drops it
// when the test ends, and returns its DSN. It fails the test when the variable is unset.
func PostgresDatabase(tb testing.TB) string {
	tb.Helper()
	admin := Postgres()
	if admin == "" {
		tb.Fatal("VSCARD_TEST_POSTGRES is not set")
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "vscard_t_" + hex.EncodeToString(b[:])
	db, err := sql.Open("pgx", admin)
	if err != nil {
		tb.Fatalf("open PostgreSQL: %v", err)
	}
	defer db.Close()
	if _, err := db.Exec("CREATE DATABASE " + name); err != nil {
		tb.Fatalf("create test database: %v", err)
	}
	tb.Cleanup(func() {
		db, err := sql.Open("pgx", admin)
		if err != nil {
			return
		}
		defer db.Close()
		_, _ = db.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
	})
	u, err := url.Parse(admin)
	if err != nil {
		tb.Fatalf("parse VSCARD_TEST_POSTGRES: %v", err)
	}
	u.Path = "/" + name
	return u.String()
}
