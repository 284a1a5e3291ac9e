package main

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/jmoiron/sqlx"

	"citybot/internal/config"
	"citybot/internal/db"
	"citybot/migrations"
)

// database is an open, migrated database, and the local cluster behind it
// when there is one.
type database struct {
	*sqlx.DB
	URL   string
	local *db.Local
}

// openDatabase connects to DATABASE_URL, or starts the embedded local
// cluster, and applies the migrations.
func (a *app) openDatabase(ctx context.Context) (*database, error) {
	d := &database{URL: a.cfg.DatabaseURL}
	if d.URL == "" {
		dir, setting := a.cfg.PGDir, "CITYBOT_PG_DIR"
		if dir == "" {
			var err error
			if dir, err = db.ClusterDir(a.cfg.DataDir); err != nil {
				return nil, fmt.Errorf("CITYBOT_DATA_DIR: %w", err)
			}
			setting = "CITYBOT_DATA_DIR"
		}
		l, err := db.StartLocal(ctx, db.LocalOptions{Dir: dir, ProjectDir: a.cfg.DataDir, BinDir: a.cfg.PGBin, Logger: a.logger.With("component", "postgres")})
		if err != nil {
			if errors.Is(err, db.ErrNoPostgres) {
				return nil, fmt.Errorf("DATABASE_URL is not set and %w", err)
			}
			return nil, fmt.Errorf("local PostgreSQL in %s (%s): %w", dir, setting, err)
		}
		d.local = l
		d.URL = l.URL("")
		a.logger.Info("using embedded local PostgreSQL in "+l.Dir()+" (data: pgdata, log: postgres.log)", "dir", l.Dir())
	}
	fail := func(err error) (*database, error) {
		d.Close()
		if a.cfg.DatabaseURL != "" {
			return nil, fmt.Errorf("DATABASE_URL: %w", err)
		}
		return nil, err
	}
	// Migrations on a connection of their own, without the statement
	// timeout: a migration may take long, and so may waiting for another
	// instance's migrations (an advisory lock).
	mconn, err := db.Open(ctx, d.URL)
	if err != nil {
		return fail(err)
	}
	mconn.SetMaxOpenConns(1)
	err = migrations.Up(ctx, mconn.DB, a.logger.With("component", "migrations"))
	_ = mconn.Close()
	if err != nil {
		return fail(err)
	}
	conn, err := db.OpenPool(ctx, d.URL, db.PoolOptions{
		MaxConns:         a.cfg.DBMaxConns,
		StatementTimeout: a.cfg.StatementTimeout,
		IdleInTxTimeout:  max(a.cfg.StatementTimeout, time.Minute),
	})
	if err != nil {
		return fail(err)
	}
	d.DB = conn
	return d, nil
}

// Close closes the pool and stops the local cluster if we started it.
func (d *database) Close() {
	if d.DB != nil {
		_ = d.DB.Close()
	}
	d.stopLocal()
}

func (d *database) stopLocal() {
	if d.local != nil {
		_ = d.local.Stop() // logs what went wrong
		d.local = nil
	}
}

func (a *app) migrate(ctx context.Context) error {
	d, err := a.openDatabase(ctx)
	if err != nil {
		return err
	}
	d.Close()
	return nil
}

func sortedKeys() []string {
	keys := make([]string, 0, len(config.Known))
	for k := range config.Known {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
