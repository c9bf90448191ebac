package store_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"ariga.io/atlas/sql/migrate"
	entsql "entgo.io/ent/dialect/sql"
	"entgo.io/ent/dialect/sql/schema"

	entmigrate "github.com/vscard/vscard/ent/migrate"
	"github.com/vscard/vscard/server/store"
	"github.com/vscard/vscard/server/store/storetest"
)

func open(t *testing.T, dsn string) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), dsn, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// drift returns the statements that would take db to the ent schema; "" when it is there.
func drift(t *testing.T, db *store.DB) string {
	t.Helper()
	dir := &migrate.MemDir{}
	m, err := schema.NewMigrate(entsql.OpenDB(db.Dialect, db.SQL),
		schema.WithDir(dir),
		schema.WithFormatter(migrate.DefaultFormatter),
		schema.WithDropColumn(true),
		schema.WithDropIndex(true),
		schema.WithErrNoPlan(true),
	)
	if err != nil {
		t.Fatal(err)
	}
	switch err := m.NamedDiff(context.Background(), "drift", entmigrate.Tables...); {
	case errors.Is(err, migrate.ErrNoPlan):
		return ""
	case err != nil:
		t.Fatalf("diff database against ent schema: %v", err)
	}
	files, err := dir.Files()
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, f := range files {
		b.Write(f.Bytes())
	}
	return b.String()
}

func revisionCount(t *testing.T, db *store.DB) (n int, baseline bool) {
	t.Helper()
	rows, err := db.SQL.Query("SELECT type FROM " + store.RevisionsTable)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var typ int64
		if err := rows.Scan(&typ); err != nil {
			t.Fatal(err)
		}
		n++
		baseline = baseline || migrate.RevisionType(typ).Has(migrate.RevisionTypeBaseline)
	}
	return n, baseline
}

func migrationFiles(t *testing.T, dialect string) int {
	t.Helper()
	dir, err := store.Migrations(dialect)
	if err != nil {
		t.Fatal(err)
	}
	files, err := dir.Files()
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no %s migrations are embedded", dialect)
	}
	return len(files)
}

func TestMigrate(t *testing.T) {
	ctx := context.Background()
	for name, newDSN := range storetest.Backends() {
		t.Run(name, func(t *testing.T) {
			t.Run("ok/fresh database gets exactly the ent schema", func(t *testing.T) {
				db := open(t, newDSN(t))
				if err := db.Migrate(ctx); err != nil {
					t.Fatalf("migrate: %v", err)
				}
				if d := drift(t, db); d != "" {
					t.Fatalf("the committed migrations differ from ent/schema; run gen-migration. Missing:\n%s", d)
				}
				n, baseline := revisionCount(t, db)
				if want := migrationFiles(t, db.Dialect); n != want || baseline {
					t.Fatalf("%d revisions recorded (baseline %v), want %d applied", n, baseline, want)
				}
				if err := db.Migrate(ctx); err != nil { // nothing left to do
					t.Fatalf("migrate again: %v", err)
				}
				if again, _ := revisionCount(t, db); again != n {
					t.Fatalf("second run recorded %d revisions, want %d", again, n)
				}
			})

			t.Run("ok/drift is noticed", func(t *testing.T) {
				db := open(t, newDSN(t))
				if err := db.Migrate(ctx); err != nil {
					t.Fatal(err)
				}
				if _, err := db.SQL.Exec(`DROP INDEX cards_serial_key`); err != nil {
					t.Fatal(err)
				}
				if d := drift(t, db); !strings.Contains(d, "cards_serial_key") {
					t.Fatalf("drift after dropping an index = %q, want it recreated", d)
				}
			})

			t.Run("ok/database from auto-migration is adopted", func(t *testing.T) {
				db := open(t, newDSN(t))
				if err := db.Client.Schema.Create(ctx); err != nil {
					t.Fatal(err)
				}
				if err := db.Migrate(ctx); err != nil {
					t.Fatalf("migrate: %v", err)
				}
				if n, baseline := revisionCount(t, db); n != 1 || !baseline {
					t.Fatalf("%d revisions (baseline %v), want one baseline", n, baseline)
				}
				if d := drift(t, db); d != "" {
					t.Fatalf("adopted database differs from ent/schema:\n%s", d)
				}
			})

			t.Run("ok/instances starting together", func(t *testing.T) {
				dsn := newDSN(t)
				dbs := []*store.DB{open(t, dsn), open(t, dsn), open(t, dsn)}
				var wg sync.WaitGroup
				errs := make([]error, len(dbs))
				for i, db := range dbs {
					wg.Add(1)
					go func() {
						defer wg.Done()
						errs[i] = db.Migrate(ctx)
					}()
				}
				wg.Wait()
				for i, err := range errs {
					if err != nil {
						t.Errorf("instance %d: %v", i, err)
					}
				}
				if n, _ := revisionCount(t, dbs[0]); n != migrationFiles(t, dbs[0].Dialect) {
					t.Fatalf("%d revisions recorded", n)
				}
			})
		})
	}
}

func TestMigrationsError(t *testing.T) {
	if _, err := store.Migrations("mysql"); err == nil {
		t.Fatal("Migrations(mysql) succeeded, want an error")
	}
}
