package store_test

import (
	"context"
	"errors"
	"testing"

	"github.com/vscard/vscard/ent"
	"github.com/vscard/vscard/ent/user"
	"github.com/vscard/vscard/server/store"
	"github.com/vscard/vscard/server/store/storetest"
	"github.com/vscard/vscard/server/viewer"
)

// TestInTx runs the transaction helper on every backend: what it commits, what it rolls
// back, and that nested calls join one transaction, on SQLite too, where a second
// transaction would wait for the first to end.
func TestInTx(t *testing.T) {
	for name, dsn := range storetest.Backends() {
		t.Run(name, func(t *testing.T) {
			db := open(t, dsn(t))
			ctx := viewer.AsServer(context.Background())
			if err := db.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			c := db.Client
			create := func(ctx context.Context, tx *ent.Tx, subject string) error {
				return tx.User.Create().SetOidcIssuer("https://idp.test").SetOidcSubject(subject).SetUsername(subject).Exec(ctx)
			}
			exists := func(subject string) bool {
				return c.User.Query().Where(user.OidcSubject(subject)).ExistX(ctx)
			}
			boom := errors.New("boom")

			t.Run("ok/commits", func(t *testing.T) {
				if err := store.InTx(ctx, c, func(ctx context.Context, tx *ent.Tx) error { return create(ctx, tx, "committed") }); err != nil {
					t.Fatal(err)
				}
				if !exists("committed") {
					t.Error("the row is not there after the commit")
				}
			})
			t.Run("error/rolls back", func(t *testing.T) {
				err := store.InTx(ctx, c, func(ctx context.Context, tx *ent.Tx) error {
					if err := create(ctx, tx, "failed"); err != nil {
						return err
					}
					return boom
				})
				if !errors.Is(err, boom) {
					t.Fatalf("InTx = %v, want the error of fn", err)
				}
				if exists("failed") {
					t.Error("the row of a failed transaction is there")
				}
			})
			t.Run("error/panic rolls back", func(t *testing.T) {
				func() {
					defer func() { _ = recover() }()
					_ = store.InTx(ctx, c, func(ctx context.Context, tx *ent.Tx) error {
						if err := create(ctx, tx, "panicked"); err != nil {
							return err
						}
						panic("boom")
					})
				}()
				if exists("panicked") {
					t.Error("the row of a panicked transaction is there")
				}
			})
			t.Run("ok/nested calls join, and after-commit waits for the outermost", func(t *testing.T) {
				var inner *ent.Tx
				committed := false
				err := store.InTx(ctx, c, func(ctx context.Context, outer *ent.Tx) error {
					if err := create(ctx, outer, "outer"); err != nil {
						return err
					}
					err := store.InTx(ctx, c, func(ctx context.Context, tx *ent.Tx) error {
						inner = tx
						store.AfterCommit(tx, func() { committed = true })
						return create(ctx, tx, "inner")
					})
					if inner != outer {
						t.Error("the nested call opened a transaction of its own")
					}
					if committed {
						t.Error("after-commit ran before the outermost commit")
					}
					return err
				})
				if err != nil {
					t.Fatal(err)
				}
				if !committed || !exists("outer") || !exists("inner") {
					t.Errorf("after the commit: after-commit ran %v, outer %v, inner %v", committed, exists("outer"), exists("inner"))
				}
			})
			t.Run("error/a nested error rolls back the whole", func(t *testing.T) {
				ran := false
				err := store.InTx(ctx, c, func(ctx context.Context, tx *ent.Tx) error {
					store.AfterCommit(tx, func() { ran = true })
					if err := create(ctx, tx, "whole"); err != nil {
						return err
					}
					return store.InTx(ctx, c, func(context.Context, *ent.Tx) error { return boom })
				})
				if !errors.Is(err, boom) || exists("whole") || ran {
					t.Errorf("InTx = %v, row there %v, after-commit ran %v; want boom, no row, not run", err, exists("whole"), ran)
				}
			})
		})
	}
}
