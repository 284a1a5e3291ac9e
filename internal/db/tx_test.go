package db_test

import (
	"context"
	"errors"
	"testing"

	"github.com/jmoiron/sqlx"

	"citybot/internal/db"
	"citybot/internal/dbtest"
)

// InTx commits what fn wrote when fn succeeds and rolls it back when fn
// fails or panics; InTxWith joins a caller's transaction (which only the
// caller ends) or, without one, is InTx.
func TestInTxAndInTxWith(t *testing.T) {
	d := dbtest.New(t)
	ctx := context.Background()
	if _, err := d.Exec(`CREATE TABLE tx_probe (v text PRIMARY KEY)`); err != nil {
		t.Fatal(err)
	}
	insert := func(v string) func(tx *sqlx.Tx) error {
		return func(tx *sqlx.Tx) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO tx_probe (v) VALUES ($1)`, v)
			return err
		}
	}
	has := func(v string) bool {
		var n int
		if err := d.Get(&n, `SELECT count(*) FROM tx_probe WHERE v = $1`, v); err != nil {
			t.Fatal(err)
		}
		return n == 1
	}
	boom := errors.New("boom")

	if err := db.InTx(ctx, d, insert("committed")); err != nil || !has("committed") {
		t.Fatalf("InTx: err %v, committed %v", err, has("committed"))
	}
	err := db.InTx(ctx, d, func(tx *sqlx.Tx) error {
		if err := insert("failed")(tx); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) || has("failed") {
		t.Errorf("InTx with an error: err %v, rolled back %v", err, !has("failed"))
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("InTx swallowed a panic")
			}
		}()
		_ = db.InTx(ctx, d, func(tx *sqlx.Tx) error {
			_ = insert("panicked")(tx)
			panic("boom")
		})
	}()
	if has("panicked") {
		t.Error("InTx kept the write of a function that panicked")
	}

	// No caller's transaction: a transaction of its own.
	if err := db.InTxWith(ctx, d, nil, insert("own")); err != nil || !has("own") {
		t.Errorf("InTxWith(nil): err %v, committed %v", err, has("own"))
	}
	// In the caller's transaction: the same tx, nothing committed before
	// the caller commits, and gone when the caller rolls back.
	err = db.InTx(ctx, d, func(outer *sqlx.Tx) error {
		err := db.InTxWith(ctx, d, outer, func(tx *sqlx.Tx) error {
			if tx != outer {
				t.Error("InTxWith(tx) runs in another transaction")
			}
			return insert("joined")(tx)
		})
		if err != nil {
			return err
		}
		if has("joined") {
			t.Error("InTxWith(tx) committed before the caller")
		}
		return boom
	})
	if !errors.Is(err, boom) || has("joined") {
		t.Errorf("caller's rollback: err %v, joined write kept %v", err, has("joined"))
	}
}
