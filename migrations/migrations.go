// Package migrations holds the numbered SQL migrations of the database
// schema, embedded in the binary, and applies them with goose under a
// PostgreSQL advisory lock, so that instances starting together never race.
//
// Numbering: 00001-00009 core and bot, 00010-00019 routing and staff inbox,
// 00020-00029 editors, 00030-00039 broadcasts; from 00040 on each new
// migration takes the next free number, whatever its domain, so that an
// installed database only ever meets higher versions. Out-of-order
// application stays allowed so that parallel branches can land.
package migrations

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"log/slog"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

//go:embed *.sql
var files embed.FS

// Up applies all pending migrations.
func Up(ctx context.Context, db *sql.DB, logger *slog.Logger) error {
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		return fmt.Errorf("migration lock: %w", err)
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db, files,
		goose.WithSessionLocker(locker),
		goose.WithAllowOutofOrder(true),
		goose.WithDisableGlobalRegistry(true),
	)
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	res, err := p.Up(ctx)
	if err != nil {
		return fmt.Errorf("apply migrations: %w", err)
	}
	if logger != nil && len(res) > 0 {
		logger.Info("applied migrations", "count", len(res), "version", res[len(res)-1].Source.Version)
	}
	return nil
}
