package staff

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"citybot/internal/audit"
	"citybot/internal/db"
)

// Password checks (login, the current password on /account/password) are
// throttled per account and client address, and per client address alone:
//
//   - A failure is counted *before* the password is compared (a
//     reservation, under a row lock) and taken back when it was right, so
//     that simultaneous requests cannot all pass a count read before any of
//     them was recorded.
//   - After ThrottleFreePair failures of one account from one address, each
//     further attempt from there waits: 30 s, doubling up to 15 minutes.
//     The account's owner at another address is not affected: a stranger
//     cannot lock anybody out.
//   - An address with ThrottleFreeAddr failures over any accounts waits the
//     same way (password spraying). Behind a reverse proxy the client
//     address comes from X-Forwarded-For, believed only from
//     CITYBOT_TRUSTED_PROXIES.
//   - Failures are forgotten a day after the last one; admins see and clear
//     throttles at /admin/throttles.
const (
	ThrottleFreePair = 5
	ThrottleFreeAddr = 50
	ThrottleBase     = 30 * time.Second
	ThrottleMax      = 15 * time.Minute
	throttleForget   = 24 * time.Hour
)

// addrKey is the email column of the per-address row.
const addrKey = ""

// throttleDelay is the wait after fails failures with free allowed.
func throttleDelay(fails, free int) time.Duration {
	if fails < free {
		return 0
	}
	d := ThrottleBase
	for i := free; i < fails && d < ThrottleMax; i++ {
		d *= 2
	}
	return min(d, ThrottleMax)
}

// throttledError tells how long to wait.
type throttledError struct{ wait time.Duration }

func (e *throttledError) Error() string { return fmt.Sprintf("staff: throttled for %v", e.wait) }
func (e *throttledError) Unwrap() error { return ErrThrottled }

// ReserveAttempt counts one password check of email from ip as failed
// before it is made. It returns ErrThrottled (a *throttledError) when the
// pair or the address has to wait; then nothing is counted.
func (s *Store) ReserveAttempt(ctx context.Context, email, ip string) error {
	return db.InTx(ctx, s.db, func(tx *sqlx.Tx) error {
		type row struct {
			Fails        int          `db:"fails"`
			LastFail     time.Time    `db:"last_fail"`
			BlockedUntil sql.NullTime `db:"blocked_until"`
			Now          time.Time    `db:"now"`
		}
		keys := []struct {
			email string
			free  int
		}{{email, ThrottleFreePair}, {addrKey, ThrottleFreeAddr}}
		rows := make([]row, len(keys))
		// Lock both rows, always in this order (pair, then address).
		for i, k := range keys {
			if _, err := tx.ExecContext(ctx, `INSERT INTO login_throttles (email, ip, fails) VALUES ($1, $2, 0) ON CONFLICT DO NOTHING`, k.email, ip); err != nil {
				return fmt.Errorf("create throttle: %w", err)
			}
			if err := tx.GetContext(ctx, &rows[i], `SELECT fails, last_fail, blocked_until, now() AS now FROM login_throttles WHERE email = $1 AND ip = $2 FOR UPDATE`, k.email, ip); err != nil {
				return fmt.Errorf("lock throttle: %w", err)
			}
			r := rows[i]
			if r.BlockedUntil.Valid && r.BlockedUntil.Time.After(r.Now) {
				return &throttledError{wait: r.BlockedUntil.Time.Sub(r.Now)}
			}
		}
		for i, k := range keys {
			r := rows[i]
			fails := r.Fails + 1
			if r.Now.Sub(r.LastFail) > throttleForget {
				fails = 1
			}
			var blocked sql.NullTime
			if d := throttleDelay(fails, k.free); d > 0 {
				blocked = sql.NullTime{Time: r.Now.Add(d), Valid: true}
			}
			if _, err := tx.ExecContext(ctx, `UPDATE login_throttles SET fails = $3, last_fail = $4, blocked_until = $5 WHERE email = $1 AND ip = $2`,
				k.email, ip, fails, r.Now, blocked); err != nil {
				return fmt.Errorf("count attempt: %w", err)
			}
		}
		return nil
	})
}

// ReleaseAttempt takes back the reservation of a check that succeeded:
// the pair's failures are forgotten, the address's count goes down by one
// (its earlier failures stay).
func (s *Store) ReleaseAttempt(ctx context.Context, email, ip string) error {
	return db.InTx(ctx, s.db, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM login_throttles WHERE email = $1 AND ip = $2`, email, ip); err != nil {
			return fmt.Errorf("clear throttle: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE login_throttles SET fails = GREATEST(fails - 1, 0),
				blocked_until = CASE WHEN fails - 1 >= $2 THEN blocked_until END
			WHERE email = '' AND ip = $1`, ip, ThrottleFreeAddr); err != nil {
			return fmt.Errorf("release address throttle: %w", err)
		}
		return nil
	})
}

// Throttle is one row of the admin's throttle list.
type Throttle struct {
	Email        string       `db:"email"` // "" = all accounts from the address
	IP           string       `db:"ip"`
	Fails        int          `db:"fails"`
	LastFail     time.Time    `db:"last_fail"`
	BlockedUntil sql.NullTime `db:"blocked_until"`
	Blocked      bool         `db:"blocked"`
}

// ListThrottles returns the throttles with failures in the last day,
// blocked ones first.
func (s *Store) ListThrottles(ctx context.Context) ([]Throttle, error) {
	var out []Throttle
	err := s.db.SelectContext(ctx, &out, `
		SELECT email, ip, fails, last_fail, blocked_until, COALESCE(blocked_until > now(), false) AS blocked
		FROM login_throttles
		WHERE fails > 0 AND last_fail > now() - make_interval(secs => $1)
		ORDER BY blocked DESC, last_fail DESC, email, ip
		LIMIT 500`, throttleForget.Seconds())
	if err != nil {
		return nil, fmt.Errorf("list throttles: %w", err)
	}
	return out, nil
}

// ClearThrottle removes one throttle on behalf of admin by, with its
// audit row; ErrNotFound when there is none.
func (s *Store) ClearThrottle(ctx context.Context, by int64, email, ip string) error {
	return db.InTx(ctx, s.db, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM login_throttles WHERE email = $1 AND ip = $2`, email, ip)
		if err != nil {
			return fmt.Errorf("clear throttle: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		return audit.Record(ctx, tx, by, "throttle.clear", "throttle", email+" "+ip, map[string]any{"email": email, "ip": ip})
	})
}

// Throttled reports whether err is a throttle and how long to wait.
func Throttled(err error) (time.Duration, bool) {
	var te *throttledError
	if errors.As(err, &te) {
		return te.wait, true
	}
	return 0, false
}
