// Command gen-migration writes the next versioned migration of vscard's database, for SQLite
// and for PostgreSQL, from the difference between the committed migrations and the ent
// schema (ent/schema). Run it from the repository root after changing the schema:
//
//	go run ./server/store/gen-migration -postgres "$(scripts/test-postgres.sh start)" add_card_label
//
// Each dialect is planned on a throwaway dev database of its own kind: an in-memory SQLite,
// and a fresh database created (and dropped) on the PostgreSQL server named by -postgres.
// The committed migrations are replayed there first, so the new file holds only the change.
// Nothing is written when the schema and the migrations already agree.
//
// A migration written by hand (SQL that ent does not model, such as a trigger) goes into
// the dialect's folder with a later timestamp; then
//
//	go run ./server/store/gen-migration -rehash
//
// rewrites the folders' atlas.sum, which Atlas checks before it applies anything.
package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"log"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"ariga.io/atlas/sql/migrate"
	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	"entgo.io/ent/dialect/sql/schema"
	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver
	_ "modernc.org/sqlite"             // the "sqlite" driver

	entmigrate "github.com/vscard/vscard/ent/migrate"
)

func main() {
	dir := flag.String("dir", filepath.Join("server", "store", "migrations"), "migrations folder (one sub-folder per dialect)")
	pg := flag.String("postgres", os.Getenv("VSCARD_DEV_POSTGRES"), "admin DSN of a PostgreSQL server for the throwaway dev database (default $VSCARD_DEV_POSTGRES)")
	rehash := flag.Bool("rehash", false, "only rewrite each dialect's atlas.sum (after adding a hand-written migration)")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: gen-migration [-dir DIR] -postgres DSN NAME\n       gen-migration [-dir DIR] -rehash\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if *rehash {
		for _, d := range []string{"sqlite", "postgres"} {
			if err := writeSum(filepath.Join(*dir, d)); err != nil {
				log.Fatal(err)
			}
		}
		return
	}
	if flag.NArg() != 1 || *pg == "" {
		flag.Usage()
		os.Exit(2)
	}
	name := flag.Arg(0)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := generateSQLite(ctx, filepath.Join(*dir, "sqlite"), name); err != nil {
		log.Fatal(err)
	}
	if err := generatePostgres(ctx, filepath.Join(*dir, "postgres"), *pg, name); err != nil {
		log.Fatal(err)
	}
}

// writeSum rewrites dir's atlas.sum from the files in it.
func writeSum(dir string) error {
	local, err := migrate.NewLocalDir(dir)
	if err != nil {
		return fmt.Errorf("open migrations folder: %w", err)
	}
	sum, err := local.Checksum()
	if err != nil {
		return fmt.Errorf("hash %s: %w", dir, err)
	}
	if err := migrate.WriteSumFile(local, sum); err != nil {
		return fmt.Errorf("write %s/atlas.sum: %w", dir, err)
	}
	return nil
}

func generateSQLite(ctx context.Context, dir, name string) error {
	// One connection: every connection to ":memory:" would be a database of its own.
	db, err := sql.Open("sqlite", "file:dev?mode=memory&_pragma=foreign_keys(1)")
	if err != nil {
		return fmt.Errorf("open SQLite dev database: %w", err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	return diff(ctx, dialect.SQLite, db, dir, name)
}

func generatePostgres(ctx context.Context, dir, adminDSN, name string) error {
	admin, err := sql.Open("pgx", adminDSN)
	if err != nil {
		return fmt.Errorf("open PostgreSQL: %w", err)
	}
	defer admin.Close()
	var b [6]byte
	_, _ = rand.Read(b[:])
	devName := "vscard_dev_" + hex.EncodeToString(b[:])
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+devName); err != nil {
		return fmt.Errorf("create PostgreSQL dev database: %w", err)
	}
	defer func() {
		if _, err := admin.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+devName+" WITH (FORCE)"); err != nil {
			log.Printf("drop PostgreSQL dev database %s: %v", devName, err)
		}
	}()
	u, err := url.Parse(adminDSN)
	if err != nil {
		return fmt.Errorf("parse PostgreSQL DSN: %w", err)
	}
	u.Path = "/" + devName
	db, err := sql.Open("pgx", u.String())
	if err != nil {
		return fmt.Errorf("open PostgreSQL dev database: %w", err)
	}
	defer db.Close()
	return diff(ctx, dialect.Postgres, db, dir, name)
}

// diff replays dir on the empty dev database db and writes the statements that take it to
// the ent schema into a new file in dir (Atlas format, with atlas.sum).
func diff(ctx context.Context, dia string, db *sql.DB, dir, name string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create migrations folder: %w", err)
	}
	local, err := migrate.NewLocalDir(dir)
	if err != nil {
		return fmt.Errorf("open migrations folder: %w", err)
	}
	m, err := schema.NewMigrate(entsql.OpenDB(dia, db),
		schema.WithDir(local),
		schema.WithMigrationMode(schema.ModeReplay),
		schema.WithFormatter(migrate.DefaultFormatter),
		schema.WithDropColumn(true),
		schema.WithDropIndex(true),
		schema.WithErrNoPlan(true),
	)
	if err != nil {
		return fmt.Errorf("set up %s migration planner: %w", dia, err)
	}
	switch err := m.NamedDiff(ctx, name, entmigrate.Tables...); {
	case errors.Is(err, migrate.ErrNoPlan):
		log.Printf("%s: the migrations in %s already match the ent schema", dia, dir)
	case err != nil:
		return fmt.Errorf("plan %s migration: %w", dia, err)
	default:
		log.Printf("%s: wrote a migration named %q into %s", dia, name, dir)
	}
	return nil
}
