package db

import (
	"context"
	"crypto/rand"
	"database/sql"
	"database/sql/driver"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"

	"citybot/internal/jobs"
)

// instanceLockClass is the first key of the session advisory lock that each
// running instance holds on its id (the second key).
const instanceLockClass = 1667396713

// LiveInstances is a subquery of the ids of the instances running now
// against this database: those whose session holds their instance lock.
// Work claimed by an id not in it (claimed_by) belongs to a dead instance
// and need not wait for its lease.
const LiveInstances = `(SELECT l.objid::bigint FROM pg_locks l
	WHERE l.locktype = 'advisory' AND l.classid = 1667396713 AND l.objsubid = 2 AND l.granted
	  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()))`

// EndOrphanedClaims ends the lease of the rows of table in status claimed
// (column claimed_by) by instances that are no longer running, by setting
// leaseCol (the lease's end) to now, and returns how many. table, status
// and leaseCol are the caller's constants, never input. The claims of self
// (the calling instance; 0: none) are never ended: it is running, even when
// its lock is gone for a moment (its connection broke, the database
// restarted) and not taken again yet; ending them would let its own workers
// take again what it is still working on (a send in flight would be sent
// twice).
func EndOrphanedClaims(ctx context.Context, q sqlx.ExecerContext, table, status, leaseCol string, self int32) (int64, error) {
	res, err := q.ExecContext(ctx, `
		UPDATE `+table+` SET `+leaseCol+` = now()
		WHERE status = '`+status+`' AND `+leaseCol+` > now() AND claimed_by IS NOT NULL
		  AND claimed_by <> $1 AND claimed_by::bigint NOT IN `+LiveInstances, self)
	if err != nil {
		return 0, fmt.Errorf("end orphaned claims of %s: %w", table, err)
	}
	return res.RowsAffected()
}

// Instance is this process among the instances sharing the database. It
// holds a session advisory lock on its id on a connection of its own, so
// PostgreSQL knows it is alive for as long as the process is: when the
// process dies (crash, kill -9, OOM), its session ends and the lock with it,
// and other instances take over its claimed work at once instead of after
// the lease. (A machine that vanishes without closing its connections is
// noticed by TCP keepalive; the lease bounds the wait in any case.)
type Instance struct {
	ID  int32
	d   *sqlx.DB
	log *slog.Logger

	mu   sync.Mutex
	conn *sql.Conn
}

// StartInstance picks a free id and takes its lock.
func StartInstance(ctx context.Context, d *sqlx.DB, logger *slog.Logger) (*Instance, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	in := &Instance{d: d, log: logger}
	for range 10 {
		var b [4]byte
		_, _ = rand.Read(b[:])
		id := int32(binary.BigEndian.Uint32(b[:]) & 0x7fffffff)
		if id == 0 {
			continue
		}
		ok, err := in.lock(ctx, id)
		if err != nil {
			return nil, err
		}
		if ok {
			in.ID = id
			return in, nil
		}
	}
	return nil, errors.New("instance lock: no free id")
}

// lock takes the lock of id on a new connection.
func (in *Instance) lock(ctx context.Context, id int32) (bool, error) {
	conn, err := in.d.Conn(ctx)
	if err != nil {
		return false, fmt.Errorf("instance lock: %w", err)
	}
	var ok bool
	if err := conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock($1, $2)`, instanceLockClass, id).Scan(&ok); err != nil || !ok {
		CloseConn(conn)
		if err != nil {
			return false, fmt.Errorf("instance lock: %w", err)
		}
		return false, nil
	}
	in.mu.Lock()
	in.conn = conn
	in.mu.Unlock()
	return true, nil
}

// Run keeps the lock until ctx is done: should its connection break, the
// lock is taken again on a new one (meanwhile other instances may take over
// this one's claims, which the claims' fences and at-least-once delivery
// allow for).
func (in *Instance) Run(ctx context.Context) {
	// Checked every 10 s; without the lock (the database restarted), every
	// second until it is taken again.
	jobs.Job{Name: "instance lock", Interval: 10 * time.Second, RetryInterval: time.Second, Delay: true, Log: in.log,
		Func: in.keep}.Loop(ctx)
}

// keep checks the lock's connection and takes the lock again on a new one
// when it broke; it fails while the lock is not held.
func (in *Instance) keep(ctx context.Context) error {
	in.mu.Lock()
	conn := in.conn
	in.mu.Unlock()
	if conn != nil {
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err := conn.PingContext(pctx)
		cancel()
		if err == nil {
			return nil
		}
		in.log.Warn("instance lock connection lost; taking the lock again", "err", err)
		CloseConn(conn)
		in.mu.Lock()
		in.conn = nil
		in.mu.Unlock()
	}
	ok, err := in.lock(ctx, in.ID)
	switch {
	case err != nil:
		return fmt.Errorf("instance lock %d not taken: %w", in.ID, err)
	case !ok:
		return fmt.Errorf("instance lock %d not taken: held by another session", in.ID)
	}
	in.log.Info("instance lock taken again", "instance", in.ID)
	return nil
}

// Close releases the lock: the instance's remaining claims are free for
// others at once.
func (in *Instance) Close() {
	in.mu.Lock()
	conn := in.conn
	in.conn = nil
	in.mu.Unlock()
	if conn != nil {
		// Unlock first: the session ends a moment after the connection closes.
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, _ = conn.ExecContext(ctx, `SELECT pg_advisory_unlock($1, $2)`, instanceLockClass, in.ID)
		cancel()
		CloseConn(conn)
	}
}

// CloseConn closes a dedicated connection for good (its session and locks
// end) instead of returning it to the pool.
func CloseConn(conn *sql.Conn) {
	_ = conn.Raw(func(any) error { return driver.ErrBadConn })
	_ = conn.Close()
}
