// Package owntx is a test input of the transaction checker: it begins,
// commits and rolls back a transaction itself instead of using db.InTx.
package owntx

import (
	"context"

	"github.com/jmoiron/sqlx"
)

func write(ctx context.Context, d *sqlx.DB) error {
	tx, err := d.BeginTxx(ctx, nil)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE x SET y = 1`); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

func legacy(d *sqlx.DB) { d.MustBegin() }
