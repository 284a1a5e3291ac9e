package staff

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"golang.org/x/crypto/bcrypt"

	"citybot/internal/audit"
	"citybot/internal/db"
)

// Session is a live session of an active user.
type Session struct {
	User Principal
	// MustChange: an admin set the password; the user must choose their
	// own before anything else.
	MustChange bool
	CSRF       string
	// Hash is the session token's hash (the token itself is only in the
	// browser's cookie).
	Hash []byte
}

// NewSession is a created session: the token for the cookie, once.
type NewSession struct {
	Token string
	CSRF  string
}

// CreateSession starts a session of user userID that lasts lifetime; ip
// and userAgent are recorded with it. It writes no audit row (a session
// that follows an accepted invitation); a sign-in is LogIn.
func (s *Store) CreateSession(ctx context.Context, userID int64, lifetime time.Duration, ip, userAgent string) (NewSession, error) {
	return createSession(ctx, s.db, userID, lifetime, ip, userAgent)
}

// LogIn starts a session like CreateSession after a successful sign-in and
// records "user.login" in the same transaction; method is how the user
// signed in ("" for the password, "oidc").
func (s *Store) LogIn(ctx context.Context, userID int64, method string, lifetime time.Duration, ip, userAgent string) (NewSession, error) {
	var ns NewSession
	err := db.InTx(ctx, s.db, func(tx *sqlx.Tx) (err error) {
		if ns, err = createSession(ctx, tx, userID, lifetime, ip, userAgent); err != nil {
			return err
		}
		var details map[string]any
		if method != "" {
			details = map[string]any{"method": method}
		}
		return audit.Record(ctx, tx, userID, "user.login", "user", strconv.FormatInt(userID, 10), details)
	})
	if err != nil {
		return NewSession{}, err
	}
	return ns, nil
}

func createSession(ctx context.Context, q sqlx.ExecerContext, userID int64, lifetime time.Duration, ip, userAgent string) (NewSession, error) {
	ns := NewSession{Token: RandomToken(), CSRF: RandomToken()}
	if _, err := q.ExecContext(ctx, `INSERT INTO sessions (token_hash, user_id, csrf_token, expires_at, ip, user_agent) VALUES ($1, $2, $3, $4, $5, $6)`,
		TokenHash(ns.Token), userID, ns.CSRF, time.Now().Add(lifetime), ip, truncate(userAgent, 200)); err != nil {
		return NewSession{}, fmt.Errorf("create session: %w", err)
	}
	return ns, nil
}

// SessionByToken loads the live session of an active user by its token;
// ErrNotFound when there is none (unknown, expired, or the user was
// deactivated).
func (s *Store) SessionByToken(ctx context.Context, token string) (Session, error) {
	return s.SessionByHash(ctx, TokenHash(token))
}

// SessionByHash is SessionByToken by the token's hash.
func (s *Store) SessionByHash(ctx context.Context, hash []byte) (Session, error) {
	var row struct {
		Principal
		MustChange bool           `db:"must_change_password"`
		Active     bool           `db:"active"`
		CSRF       string         `db:"csrf_token"`
		Deps       pq.StringArray `db:"departments"`
	}
	err := s.db.GetContext(ctx, &row, `
		SELECT u.id, u.email, u.name, u.role, u.active, u.language, u.must_change_password, s.csrf_token,
		       COALESCE(ARRAY(SELECT ud.department_id FROM user_departments ud WHERE ud.user_id = u.id ORDER BY ud.department_id), '{}') AS departments
		FROM sessions s JOIN users u ON u.id = s.user_id
		WHERE s.token_hash = $1 AND s.expires_at > now() AND u.active`, hash)
	if db.IsNoRows(err) {
		return Session{}, ErrNotFound
	}
	if err != nil {
		return Session{}, fmt.Errorf("load session: %w", err)
	}
	p := row.Principal
	p.Departments = []string(row.Deps)
	return Session{User: p, MustChange: row.MustChange, CSRF: row.CSRF, Hash: hash}, nil
}

// DeleteSession ends the session of the token hash without an audit row
// (another user's session in the browser that accepts an invitation).
func (s *Store) DeleteSession(ctx context.Context, hash []byte) error {
	return deleteSession(ctx, s.db, hash)
}

// LogOut ends the session of the token hash of user userID and records
// "user.logout" in the same transaction.
func (s *Store) LogOut(ctx context.Context, userID int64, hash []byte) error {
	return db.InTx(ctx, s.db, func(tx *sqlx.Tx) error {
		if err := deleteSession(ctx, tx, hash); err != nil {
			return err
		}
		return audit.Record(ctx, tx, userID, "user.logout", "user", strconv.FormatInt(userID, 10), nil)
	})
}

func deleteSession(ctx context.Context, q sqlx.ExecerContext, hash []byte) error {
	if _, err := q.ExecContext(ctx, `DELETE FROM sessions WHERE token_hash = $1`, hash); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// Cleanup removes expired sessions and login throttles whose last failure
// is older than a day.
func (s *Store) Cleanup(ctx context.Context) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at < now()`); err != nil {
		return fmt.Errorf("delete expired sessions: %w", err)
	}
	if _, err := s.db.ExecContext(ctx, `DELETE FROM login_throttles WHERE last_fail < now() - make_interval(secs => $1)`, throttleForget.Seconds()); err != nil {
		return fmt.Errorf("delete old login throttles: %w", err)
	}
	return nil
}

func endSessions(ctx context.Context, tx *sqlx.Tx, userID int64) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = $1`, userID); err != nil {
		return fmt.Errorf("end sessions: %w", err)
	}
	return nil
}

// Account is a user as a password check finds them.
type Account struct {
	Principal
	Active     bool `db:"active"`
	MustChange bool `db:"must_change_password"`
}

// dummy is compared against when the email is unknown, so that a failed
// login takes the same time whether the account exists or not.
var dummy = sync.OnceValue(func() []byte {
	h, _ := bcrypt.GenerateFromPassword([]byte(RandomToken()), bcryptCost)
	return h
})

// Authenticate checks the credentials under the throttle (throttle.go):
// the attempt is counted before the password is compared and taken back
// when it was right. Errors: ErrBadLogin (never which part was wrong), a
// throttle (Throttled).
func (s *Store) Authenticate(ctx context.Context, email, password, ip string) (Account, error) {
	email = NormalizeEmail(email)
	if err := s.ReserveAttempt(ctx, email, ip); err != nil {
		return Account{}, err
	}
	var row struct {
		Account
		Hash string `db:"password_hash"`
	}
	err := s.db.GetContext(ctx, &row, `SELECT id, email, name, role, active, language, must_change_password, password_hash FROM users WHERE email = $1`, email)
	if err != nil && !db.IsNoRows(err) {
		return Account{}, fmt.Errorf("load user: %w", err)
	}
	ok := false
	if err == nil {
		ok = bcrypt.CompareHashAndPassword([]byte(row.Hash), []byte(password)) == nil && row.Active
	} else {
		_ = bcrypt.CompareHashAndPassword(dummy(), []byte(password))
	}
	if !ok {
		return Account{}, ErrBadLogin
	}
	if err := s.ReleaseAttempt(ctx, email, ip); err != nil {
		return Account{}, err
	}
	return row.Account, nil
}

// ErrWrongPassword: the current password given to ChangePassword is wrong.
var ErrWrongPassword = fmt.Errorf("%w: wrong current password", ErrInvalid)

// CheckPassword compares password with user userID's, throttled like a
// login (a stolen session must not guess it) for the user's e-mail
// address from ip. Errors: ErrWrongPassword, a throttle (Throttled).
func (s *Store) CheckPassword(ctx context.Context, userID int64, email, password, ip string) error {
	if err := s.ReserveAttempt(ctx, email, ip); err != nil {
		return err
	}
	var hash string
	if err := s.db.GetContext(ctx, &hash, `SELECT password_hash FROM users WHERE id = $1`, userID); err != nil {
		return fmt.Errorf("load password: %w", err)
	}
	if bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) != nil {
		return ErrWrongPassword
	}
	return s.ReleaseAttempt(ctx, email, ip)
}

// ChangePassword sets the user's own new password (after CheckPassword):
// the forced change an admin asked for is done, every other session of the
// user (all but keep, a token hash) ends, and the audit row is written, in
// one transaction.
func (s *Store) ChangePassword(ctx context.Context, userID int64, keep []byte, password string) error {
	return s.changePassword(ctx, userID, keep, password, audit.Record)
}

// recordFunc is audit.Record's signature (tests make it fail).
type recordFunc func(ctx context.Context, q sqlx.ExecerContext, userID int64, action, objectType, objectID string, details map[string]any) error

func (s *Store) changePassword(ctx context.Context, userID int64, keep []byte, password string, record recordFunc) error {
	nh, err := s.hashPassword(password)
	if err != nil {
		return err
	}
	return db.InTx(ctx, s.db, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = $2, must_change_password = false, updated_at = now() WHERE id = $1`, userID, nh)
		if err != nil {
			return fmt.Errorf("set password: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("user %d: %w", userID, ErrNotFound)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2`, userID, keep); err != nil {
			return fmt.Errorf("end other sessions: %w", err)
		}
		return record(ctx, tx, userID, "user.password", "user", strconv.FormatInt(userID, 10), nil)
	})
}
