package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"path"
	"strconv"
	"strings"
	"time"

	"ariga.io/atlas/sql/migrate"
	"ariga.io/atlas/sql/postgres"
	"ariga.io/atlas/sql/sqlite"
	"entgo.io/ent/dialect"
)

// migrations holds the versioned migrations, one folder per dialect, written by
// `go run ./server/store/gen-migration NAME` from ent/schema. They are the only way the
// schema changes: what runs in production is what was reviewed and committed.
//
//go:embed migrations/sqlite migrations/postgres
var migrations embed.FS

// RevisionsTable records which migrations a database has applied.
const RevisionsTable = "atlas_schema_revisions"

// Migrations returns the committed migrations of dia (dialect.SQLite or dialect.Postgres),
// checked against their atlas.sum.
func Migrations(dia string) (migrate.Dir, error) {
	folder := map[string]string{dialect.SQLite: "sqlite", dialect.Postgres: "postgres"}[dia]
	if folder == "" {
		return nil, fmt.Errorf("read migrations: no migrations for dialect %q", dia)
	}
	root := path.Join("migrations", folder)
	entries, err := fs.ReadDir(migrations, root)
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	dir := &migrate.MemDir{}
	for _, e := range entries {
		b, err := migrations.ReadFile(path.Join(root, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", e.Name(), err)
		}
		if err := dir.WriteFile(e.Name(), b); err != nil {
			return nil, fmt.Errorf("load migration %s: %w", e.Name(), err)
		}
	}
	if err := migrate.Validate(dir); err != nil {
		return nil, fmt.Errorf("validate migrations: %w", err)
	}
	return dir, nil
}

// Migrate applies the committed migrations that the database has not applied yet, each
// file in a transaction of its own, and records them in RevisionsTable. On PostgreSQL an
// advisory lock makes instances that start together take turns; the second finds nothing
// left to do.
//
// A database created before versioned migrations (by ent's auto-migration, recognised by
// an "orders" table without any recorded revision) is brought up to date the old way once,
// which yields exactly the schema of the latest migration, and recorded as that baseline.
func (d *DB) Migrate(ctx context.Context) error {
	dir, err := Migrations(d.Dialect)
	if err != nil {
		return err
	}
	conn, err := d.SQL.Conn(ctx)
	if err != nil {
		return fmt.Errorf("migrate schema: %w", err)
	}
	defer conn.Close()
	if d.Dialect == dialect.Postgres {
		unlock, err := advisoryLock(ctx, conn, "vscard:migrate")
		if err != nil {
			return err
		}
		defer unlock()
	}
	revs := &revisions{q: conn, dialect: d.Dialect}
	if err := revs.create(ctx); err != nil {
		return err
	}
	applied, err := revs.ReadRevisions(ctx)
	if err != nil {
		return err
	}
	if len(applied) == 0 {
		legacy, err := d.hasTable(ctx, conn, "orders")
		if err != nil {
			return err
		}
		if legacy {
			return d.adopt(ctx, conn, dir, revs)
		}
	}
	if d.Dialect == dialect.SQLite {
		// SQLite rebuilds tables to alter them; foreign keys are checked once at the end
		// (the pragma cannot change inside a transaction).
		if _, err := conn.ExecContext(ctx, "PRAGMA foreign_keys = off"); err != nil {
			return fmt.Errorf("migrate schema: %w", err)
		}
		defer restoreForeignKeys(ctx, conn)
	}
	for {
		done, err := d.applyNext(ctx, conn, dir)
		if err != nil {
			return err
		}
		if done {
			break
		}
	}
	if d.Dialect == dialect.SQLite {
		return foreignKeyCheck(ctx, conn)
	}
	return nil
}

// applyNext applies the first pending migration file and records it, in one transaction
// that also decides what is pending (on SQLite the transaction holds the write lock from
// its start, so two processes cannot both apply the same file). It reports done when
// nothing was pending.
func (d *DB) applyNext(ctx context.Context, conn *sql.Conn, dir migrate.Dir) (done bool, err error) {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("migrate schema: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // no-op after Commit
	drv, err := atlasDriver(d.Dialect, tx)
	if err != nil {
		return false, err
	}
	// A new database holds RevisionsTable already, which Atlas does not count as "clean"
	// outside a schema-bound connection: allow it (legacy databases were adopted before).
	ex, err := migrate.NewExecutor(drv, dir, &revisions{q: tx, dialect: d.Dialect}, migrate.WithAllowDirty(true))
	if err != nil {
		return false, fmt.Errorf("migrate schema: %w", err)
	}
	pending, err := ex.Pending(ctx)
	switch {
	case errors.Is(err, migrate.ErrNoPendingFiles):
		return true, nil
	case err != nil:
		return false, fmt.Errorf("find pending migrations: %w", err)
	}
	f := pending[0]
	if err := ex.Execute(ctx, f); err != nil {
		return false, fmt.Errorf("apply migration %s: %w", f.Name(), err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("apply migration %s: %w", f.Name(), err)
	}
	return false, nil
}

// adopt brings a database made by ent's auto-migration to the current schema and records
// the latest migration as its baseline.
func (d *DB) adopt(ctx context.Context, conn *sql.Conn, dir migrate.Dir, revs *revisions) error {
	if err := d.Client.Schema.Create(ctx); err != nil {
		return fmt.Errorf("bring pre-migration schema up to date: %w", err)
	}
	files, err := dir.Files()
	if err != nil {
		return fmt.Errorf("read migrations: %w", err)
	}
	if len(files) == 0 {
		return errors.New("adopt database: no migrations to take as baseline")
	}
	drv, err := atlasDriver(d.Dialect, conn)
	if err != nil {
		return err
	}
	latest := files[len(files)-1].Version()
	ex, err := migrate.NewExecutor(drv, dir, revs, migrate.WithBaselineVersion(latest))
	if err != nil {
		return fmt.Errorf("adopt database: %w", err)
	}
	if _, err := ex.Pending(ctx); err != nil && !errors.Is(err, migrate.ErrNoPendingFiles) {
		return fmt.Errorf("record baseline %s: %w", latest, err)
	}
	return nil
}

func (d *DB) hasTable(ctx context.Context, q querier, name string) (bool, error) {
	query := `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?`
	if d.Dialect == dialect.Postgres {
		query = `SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = $1`
	}
	var n int
	if err := q.QueryRowContext(ctx, query, name).Scan(&n); err != nil {
		return false, fmt.Errorf("look for table %s: %w", name, err)
	}
	return n > 0, nil
}

type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func atlasDriver(dia string, q querier) (migrate.Driver, error) {
	var (
		drv migrate.Driver
		err error
	)
	switch dia {
	case dialect.Postgres:
		drv, err = postgres.Open(q)
	case dialect.SQLite:
		drv, err = sqlite.Open(q)
	default:
		err = fmt.Errorf("unsupported dialect %q", dia)
	}
	if err != nil {
		return nil, fmt.Errorf("open migration driver: %w", err)
	}
	return drv, nil
}

// advisoryLock holds a PostgreSQL advisory lock on conn until the returned func is called.
func advisoryLock(ctx context.Context, conn *sql.Conn, name string) (func(), error) {
	h := fnv.New64a()
	h.Write([]byte(name))
	id := int64(h.Sum64())
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", id); err != nil {
		return nil, fmt.Errorf("lock migrations: %w", err)
	}
	return func() {
		_, _ = conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", id)
	}, nil
}

// restoreForeignKeys turns SQLite's foreign keys back on for conn, or, failing that, makes
// the pool discard conn rather than hand it out without them.
func restoreForeignKeys(ctx context.Context, conn *sql.Conn) {
	if _, err := conn.ExecContext(context.WithoutCancel(ctx), "PRAGMA foreign_keys = on"); err != nil {
		_ = conn.Raw(func(any) error { return driver.ErrBadConn })
	}
}

func foreignKeyCheck(ctx context.Context, conn *sql.Conn) error {
	rows, err := conn.QueryContext(ctx, "PRAGMA foreign_key_check")
	if err != nil {
		return fmt.Errorf("check foreign keys: %w", err)
	}
	defer rows.Close()
	if rows.Next() {
		return errors.New("check foreign keys: the migrated data violates a foreign key")
	}
	return rows.Err()
}

// revisions is Atlas's RevisionReadWriter over RevisionsTable, in the migrated database
// itself, through a connection or a transaction.
type revisions struct {
	q       querier
	dialect string
}

var _ migrate.RevisionReadWriter = (*revisions)(nil)

func (r *revisions) create(ctx context.Context) error {
	ts := "timestamp"
	if r.dialect == dialect.Postgres {
		ts = "timestamptz"
	}
	_, err := r.q.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS `+RevisionsTable+` (
		version text PRIMARY KEY,
		description text NOT NULL,
		type bigint NOT NULL DEFAULT 2,
		applied bigint NOT NULL DEFAULT 0,
		total bigint NOT NULL DEFAULT 0,
		executed_at `+ts+` NOT NULL,
		execution_time bigint NOT NULL,
		error text NULL,
		error_stmt text NULL,
		hash text NOT NULL,
		partial_hashes text NULL,
		operator_version text NOT NULL
	)`)
	if err != nil {
		return fmt.Errorf("create revisions table: %w", err)
	}
	return nil
}

// Ident implements migrate.RevisionReadWriter.
func (r *revisions) Ident() *migrate.TableIdent {
	return &migrate.TableIdent{Name: RevisionsTable}
}

const revisionColumns = `version, description, type, applied, total, executed_at, execution_time, error, error_stmt, hash, partial_hashes, operator_version`

// ReadRevisions implements migrate.RevisionReadWriter.
func (r *revisions) ReadRevisions(ctx context.Context) ([]*migrate.Revision, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT `+revisionColumns+` FROM `+RevisionsTable+` ORDER BY version`)
	if err != nil {
		return nil, fmt.Errorf("read revisions: %w", err)
	}
	defer rows.Close()
	var out []*migrate.Revision
	for rows.Next() {
		rev, err := scanRevision(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, rev)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read revisions: %w", err)
	}
	return out, nil
}

// ReadRevision implements migrate.RevisionReadWriter.
func (r *revisions) ReadRevision(ctx context.Context, version string) (*migrate.Revision, error) {
	rows, err := r.q.QueryContext(ctx, r.rebind(`SELECT `+revisionColumns+` FROM `+RevisionsTable+` WHERE version = ?`), version)
	if err != nil {
		return nil, fmt.Errorf("read revision %s: %w", version, err)
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("read revision %s: %w", version, err)
		}
		return nil, migrate.ErrRevisionNotExist
	}
	return scanRevision(rows)
}

// WriteRevision implements migrate.RevisionReadWriter.
func (r *revisions) WriteRevision(ctx context.Context, rev *migrate.Revision) error {
	partial, err := json.Marshal(rev.PartialHashes)
	if err != nil {
		return fmt.Errorf("encode revision %s: %w", rev.Version, err)
	}
	_, err = r.q.ExecContext(ctx, r.rebind(`INSERT INTO `+RevisionsTable+` (`+revisionColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (version) DO UPDATE SET description = excluded.description, type = excluded.type,
			applied = excluded.applied, total = excluded.total, executed_at = excluded.executed_at,
			execution_time = excluded.execution_time, error = excluded.error, error_stmt = excluded.error_stmt,
			hash = excluded.hash, partial_hashes = excluded.partial_hashes, operator_version = excluded.operator_version`),
		rev.Version, rev.Description, int64(rev.Type), rev.Applied, rev.Total, rev.ExecutedAt.UTC(),
		int64(rev.ExecutionTime), nullString(rev.Error), nullString(rev.ErrorStmt), rev.Hash, string(partial), rev.OperatorVersion)
	if err != nil {
		return fmt.Errorf("write revision %s: %w", rev.Version, err)
	}
	return nil
}

// DeleteRevision implements migrate.RevisionReadWriter.
func (r *revisions) DeleteRevision(ctx context.Context, version string) error {
	if _, err := r.q.ExecContext(ctx, r.rebind(`DELETE FROM `+RevisionsTable+` WHERE version = ?`), version); err != nil {
		return fmt.Errorf("delete revision %s: %w", version, err)
	}
	return nil
}

// rebind turns ? placeholders into PostgreSQL's $n.
func (r *revisions) rebind(query string) string {
	if r.dialect != dialect.Postgres {
		return query
	}
	var b strings.Builder
	n := 0
	for _, c := range query {
		if c == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}

func scanRevision(rows *sql.Rows) (*migrate.Revision, error) {
	var (
		rev             migrate.Revision
		typ, execTime   int64
		errMsg, errStmt sql.NullString
		partial         sql.NullString
		executedAt      time.Time
	)
	if err := rows.Scan(&rev.Version, &rev.Description, &typ, &rev.Applied, &rev.Total, &executedAt,
		&execTime, &errMsg, &errStmt, &rev.Hash, &partial, &rev.OperatorVersion); err != nil {
		return nil, fmt.Errorf("scan revision: %w", err)
	}
	rev.Type = migrate.RevisionType(typ)
	rev.ExecutedAt = executedAt
	rev.ExecutionTime = time.Duration(execTime)
	rev.Error, rev.ErrorStmt = errMsg.String, errStmt.String
	if partial.Valid && partial.String != "" && partial.String != "null" {
		if err := json.Unmarshal([]byte(partial.String), &rev.PartialHashes); err != nil {
			return nil, fmt.Errorf("decode revision %s: %w", rev.Version, err)
		}
	}
	return &rev, nil
}

func nullString(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }
