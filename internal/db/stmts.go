package db

import (
	"context"
	"sync"

	"github.com/jmoiron/sqlx"
)

// Stmts prepares each query once on a database. database/sql then prepares
// it on each connection the first time it runs there and keeps it, also when
// it runs in a transaction: one round trip per call instead of two (lib/pq
// parses an unprepared query with arguments in a round trip of its own), and
// no parsing and planning on the server per call.
//
// A nil *Stmts runs every query unprepared.
type Stmts struct {
	db *sqlx.DB
	mu sync.RWMutex
	m  map[string]*sqlx.Stmt
}

// NewStmts returns a statement cache on d; nil when d is nil.
func NewStmts(d *sqlx.DB) *Stmts {
	if d == nil {
		return nil
	}
	return &Stmts{db: d, m: map[string]*sqlx.Stmt{}}
}

// stmt returns query prepared on the database.
func (c *Stmts) stmt(ctx context.Context, query string) (*sqlx.Stmt, error) {
	c.mu.RLock()
	st, ok := c.m[query]
	c.mu.RUnlock()
	if ok {
		return st, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if st, ok := c.m[query]; ok {
		return st, nil
	}
	st, err := c.db.PreparexContext(ctx, query)
	if err != nil {
		return nil, err
	}
	c.m[query] = st
	return st, nil
}

// Prepared returns query as a statement in tx (on the database when tx is
// nil; tx must be of the cache's database), or nil for a nil cache.
func (c *Stmts) Prepared(ctx context.Context, tx *sqlx.Tx, query string) (*sqlx.Stmt, error) {
	if c == nil {
		return nil, nil
	}
	st, err := c.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	if tx != nil {
		return tx.StmtxContext(ctx, st), nil
	}
	return st, nil
}

// Get runs a query returning one row into dest in tx, prepared when c is
// not nil.
func (c *Stmts) Get(ctx context.Context, tx *sqlx.Tx, dest any, query string, args ...any) error {
	st, err := c.Prepared(ctx, tx, query)
	if err != nil {
		return err
	}
	if st == nil {
		return tx.GetContext(ctx, dest, query, args...)
	}
	return st.GetContext(ctx, dest, args...)
}

// Select runs a query returning rows into dest in tx, prepared when c is
// not nil.
func (c *Stmts) Select(ctx context.Context, tx *sqlx.Tx, dest any, query string, args ...any) error {
	st, err := c.Prepared(ctx, tx, query)
	if err != nil {
		return err
	}
	if st == nil {
		return tx.SelectContext(ctx, dest, query, args...)
	}
	return st.SelectContext(ctx, dest, args...)
}

// Exec runs a statement in tx, prepared when c is not nil.
func (c *Stmts) Exec(ctx context.Context, tx *sqlx.Tx, query string, args ...any) error {
	st, err := c.Prepared(ctx, tx, query)
	if err != nil {
		return err
	}
	if st == nil {
		_, err = tx.ExecContext(ctx, query, args...)
		return err
	}
	_, err = st.ExecContext(ctx, args...)
	return err
}
