package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/vscard/vscard/ent"
)

// InTx runs fn in a transaction of db and commits it when fn returns nil; an error or a
// panic rolls it back. It is the one way vscard opens a transaction.
//
// fn gets a context that carries the transaction (ent.TxFromContext, as entgql's
// Transactioner sets it). An InTx called with such a context joins that transaction
// instead of opening a second one: domain functions that each need "a transaction"
// compose into one commit, and an error in any of them rolls back all (the outermost InTx
// decides). Whatever must happen only once the change is durable (publishing an event,
// telling another system) goes in AfterCommit, which then waits for the outermost commit.
func InTx(ctx context.Context, db *ent.Client, fn func(ctx context.Context, tx *ent.Tx) error) (err error) {
	if tx := ent.TxFromContext(ctx); tx != nil {
		return fn(ctx, tx)
	}
	tx, err := db.Tx(ctx)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	defer func() {
		if v := recover(); v != nil {
			_ = tx.Rollback()
			panic(v)
		}
	}()
	if err := fn(ent.NewTxContext(ctx, tx), tx); err != nil {
		if rerr := tx.Rollback(); rerr != nil {
			err = errors.Join(err, fmt.Errorf("roll back: %w", rerr))
		}
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit transaction: %w", err)
	}
	return nil
}

// AfterCommit runs fn once tx has committed, and never if it rolls back.
func AfterCommit(tx *ent.Tx, fn func()) {
	tx.OnCommit(func(next ent.Committer) ent.Committer {
		return ent.CommitFunc(func(ctx context.Context, tx *ent.Tx) error {
			if err := next.Commit(ctx, tx); err != nil {
				return err
			}
			fn()
			return nil
		})
	})
}
