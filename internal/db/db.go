// Package db is the PostgreSQL plumbing: opening a connection pool, running
// a function in a transaction, and an embedded local cluster for
// configuration-free development and tests.
package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// Open connects to PostgreSQL and verifies the connection within ctx.
//
// Every connection uses generic plans for prepared statements
// (plan_cache_mode): the only statements citybot prepares are the hot
// paths of Stmts, small statements on keys and short arrays whose plan
// does not depend on the values, and a custom plan per call (PostgreSQL's
// default when it estimates the generic plan as no cheaper) re-plans them
// on every call. Unprepared queries are planned per call as before.
func Open(ctx context.Context, dsn string) (*sqlx.DB, error) {
	return OpenPool(ctx, dsn, PoolOptions{})
}

// PoolOptions bound the application's use of the database.
type PoolOptions struct {
	// MaxConns is the most connections the pool opens (default 20). They
	// are kept open when idle: a new PostgreSQL backend is a fork.
	MaxConns int
	// StatementTimeout bounds every statement of the pool's connections
	// (PostgreSQL's statement_timeout; 0: none). A statement that runs into
	// it fails with query_canceled (57014) instead of holding a connection
	// and its locks indefinitely.
	StatementTimeout time.Duration
	// IdleInTxTimeout ends a session that sits idle inside a transaction
	// this long (idle_in_transaction_session_timeout; 0: none), so that a
	// stuck caller cannot hold row locks forever.
	IdleInTxTimeout time.Duration
}

// OpenPool is Open with the pool's size and time limits. Settings given in
// dsn itself take precedence.
func OpenPool(ctx context.Context, dsn string, o PoolOptions) (*sqlx.DB, error) {
	cfg, err := pq.NewConfig(dsn)
	if err != nil {
		// The URL parser's error quotes the whole URL, password included.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("open database: invalid connection string: %w", err)
	}
	if cfg.Runtime == nil {
		cfg.Runtime = map[string]string{}
	}
	setDefault := func(k, v string) {
		if _, set := cfg.Runtime[k]; !set {
			cfg.Runtime[k] = v
		}
	}
	setDefault("plan_cache_mode", "force_generic_plan")
	if o.StatementTimeout > 0 {
		setDefault("statement_timeout", fmt.Sprint(o.StatementTimeout.Milliseconds()))
	}
	if o.IdleInTxTimeout > 0 {
		setDefault("idle_in_transaction_session_timeout", fmt.Sprint(o.IdleInTxTimeout.Milliseconds()))
	}
	if cfg.ConnectTimeout <= 0 {
		// A database host that does not answer must not hold a caller
		// (a web request, a worker) for the kernel's TCP timeout.
		cfg.ConnectTimeout = 10 * time.Second
	}
	if o.MaxConns <= 0 {
		o.MaxConns = 20
	}
	connector, err := pq.NewConnectorConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	d := sqlx.NewDb(sql.OpenDB(connector), "postgres")
	d.SetMaxOpenConns(o.MaxConns)
	d.SetMaxIdleConns(o.MaxConns) // = MaxOpenConns: under load, no connection churn (a new backend is a fork)
	d.SetConnMaxIdleTime(5 * time.Minute)
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := d.PingContext(pctx); err != nil {
		_ = d.Close()
		return nil, fmt.Errorf("connect to database: %w", err)
	}
	return d, nil
}

// InTx runs fn in a transaction; it commits when fn returns nil and rolls
// back otherwise (also when fn panics).
func InTx(ctx context.Context, d *sqlx.DB, fn func(tx *sqlx.Tx) error) (err error) {
	tx, err := d.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	defer func() {
		if p := recover(); p != nil {
			_ = tx.Rollback()
			panic(p)
		}
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	if err = fn(tx); err != nil {
		return err
	}
	if err = tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// InTxWith runs fn in tx when tx is not nil (the caller's transaction,
// which the caller commits), else in a new transaction as InTx does. A
// store that works on the database or inside a caller's transaction uses
// it for its multi-statement writes.
func InTxWith(ctx context.Context, d *sqlx.DB, tx *sqlx.Tx, fn func(tx *sqlx.Tx) error) error {
	if tx != nil {
		return fn(tx)
	}
	return InTx(ctx, d, fn)
}

// IsUniqueViolation reports whether err is a PostgreSQL unique violation.
func IsUniqueViolation(err error) bool {
	var pe *pq.Error
	return errors.As(err, &pe) && pe.Code == "23505"
}

// IsForeignKeyViolation reports whether err is a PostgreSQL foreign key violation.
func IsForeignKeyViolation(err error) bool {
	var pe *pq.Error
	return errors.As(err, &pe) && pe.Code == "23503"
}

// IsNoRows reports whether err means a query returned no row.
func IsNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }
