package staff

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/jmoiron/sqlx"

	"citybot/internal/audit"
	"citybot/internal/db"
)

// Invitations: an admin creates a user without a password and hands them a
// one-time link; the invited person chooses their own password there and is
// logged in. The link's token (32 random bytes) is shown once and stored as
// its SHA-256 hash only; it is valid for the configured lifetime and for
// one use. Issuing a new link revokes the user's open ones; an admin can
// also revoke a link without issuing another. A user who was invited has no
// password until they use the link.

// DefaultInvitationLifetime is how long an invitation link is valid unless
// configured otherwise.
const DefaultInvitationLifetime = 7 * 24 * time.Hour

// maxTokenLen bounds what is looked up: a real token has 43 characters.
const maxTokenLen = 64

// Invitation is an invitation with its user, as the link finds it.
type Invitation struct {
	ID        int64      `db:"id"`
	UserID    int64      `db:"user_id"`
	ExpiresAt time.Time  `db:"expires_at"`
	UsedAt    *time.Time `db:"used_at"`
	RevokedAt *time.Time `db:"revoked_at"`
	Email     string     `db:"email"`
	Name      string     `db:"name"`
	Role      string     `db:"role"`
	Language  string     `db:"language"`
	Active    bool       `db:"active"`
}

// Usable reports whether the link can still be used at now.
func (r Invitation) Usable(now time.Time) bool {
	return r.UsedAt == nil && r.RevokedAt == nil && r.Active && now.Before(r.ExpiresAt)
}

// Principal is the invited user.
func (r Invitation) Principal() Principal {
	return Principal{ID: r.UserID, Email: r.Email, Name: r.Name, Role: r.Role, Language: r.Language}
}

// issueInvitation revokes the user's open invitations and creates a new
// one; it returns the token (the only time it exists in clear) and when
// it expires.
func issueInvitation(ctx context.Context, tx *sqlx.Tx, userID, by int64, ttl time.Duration) (string, time.Time, error) {
	if _, err := tx.ExecContext(ctx, `UPDATE user_invitations SET revoked_at = now()
		WHERE user_id = $1 AND used_at IS NULL AND revoked_at IS NULL`, userID); err != nil {
		return "", time.Time{}, fmt.Errorf("revoke invitations: %w", err)
	}
	tok := RandomToken()
	var creator *int64
	if by != 0 {
		creator = &by
	}
	var expires time.Time
	if err := tx.GetContext(ctx, &expires, `INSERT INTO user_invitations (user_id, token_hash, created_by, expires_at)
		VALUES ($1, $2, $3, now() + make_interval(secs => $4)) RETURNING expires_at`,
		userID, TokenHash(tok), creator, ttl.Seconds()); err != nil {
		return "", time.Time{}, fmt.Errorf("insert invitation: %w", err)
	}
	return tok, expires, nil
}

// LookupInvitation finds the invitation of tok; ErrNotFound for an unknown
// or malformed token.
func (s *Store) LookupInvitation(ctx context.Context, tok string) (Invitation, error) {
	return lookupInvitation(ctx, s.db, tok, false)
}

func lookupInvitation(ctx context.Context, q sqlx.QueryerContext, tok string, lock bool) (Invitation, error) {
	var r Invitation
	if tok == "" || len(tok) > maxTokenLen {
		return r, fmt.Errorf("invitation: %w", ErrNotFound)
	}
	query := `SELECT i.id, i.user_id, i.expires_at, i.used_at, i.revoked_at, u.email, u.name, u.role, u.language, u.active
		FROM user_invitations i JOIN users u ON u.id = i.user_id WHERE i.token_hash = $1`
	if lock {
		query += ` FOR UPDATE OF i`
	}
	if err := sqlx.GetContext(ctx, q, &r, query, TokenHash(tok)); err != nil {
		if db.IsNoRows(err) {
			return r, fmt.Errorf("invitation: %w", ErrNotFound)
		}
		return r, fmt.Errorf("load invitation: %w", err)
	}
	return r, nil
}

// ErrInvitationUsed: the link was used, revoked or has expired.
var ErrInvitationUsed = fmt.Errorf("%w: invitation used, revoked or expired", ErrInvalid)

// AcceptInvitation sets the invited user's password and uses up the link,
// in one transaction with its audit row; every session of the user ends
// (a reset link). Errors: ErrNotFound (no such link), ErrInvitationUsed.
func (s *Store) AcceptInvitation(ctx context.Context, tok, password string) (Invitation, error) {
	hash, err := s.hashPassword(password)
	if err != nil {
		return Invitation{}, err
	}
	var cur Invitation
	err = db.InTx(ctx, s.db, func(tx *sqlx.Tx) error {
		// Two tabs sending the form at once: the lock lets one win.
		var err error
		if cur, err = lookupInvitation(ctx, tx, tok, true); err != nil {
			return err
		}
		if !cur.Usable(time.Now()) {
			return ErrInvitationUsed
		}
		if _, err := tx.ExecContext(ctx, `UPDATE user_invitations SET used_at = now() WHERE id = $1`, cur.ID); err != nil {
			return fmt.Errorf("use invitation: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE user_invitations SET revoked_at = now()
			WHERE user_id = $1 AND id <> $2 AND used_at IS NULL AND revoked_at IS NULL`, cur.UserID, cur.ID); err != nil {
			return fmt.Errorf("revoke other invitations: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = $2, must_change_password = false, updated_at = now()
			WHERE id = $1`, cur.UserID, hash); err != nil {
			return fmt.Errorf("set password: %w", err)
		}
		// Whoever held a session of this account before (a reset link)
		// is logged out.
		if err := endSessions(ctx, tx, cur.UserID); err != nil {
			return err
		}
		return audit.Record(ctx, tx, cur.UserID, "user.invite_accept", "user", strconv.FormatInt(cur.UserID, 10),
			map[string]any{"invitation": cur.ID})
	})
	if err != nil {
		return Invitation{}, err
	}
	return cur, nil
}

// Access is the state of a user's access for the admin: an open
// invitation (until when), and whether the user has a password.
type Access struct {
	OpenUntil   *time.Time `db:"open_until"`
	Invited     bool       `db:"invited"` // some invitation was ever issued
	HasPassword bool       `db:"has_password"`
}

// UserAccess returns the user's access state; ErrNotFound for no user.
func (s *Store) UserAccess(ctx context.Context, id int64) (Access, error) {
	var ui Access
	if err := s.db.GetContext(ctx, &ui, `SELECT
		(SELECT max(expires_at) FROM user_invitations WHERE user_id = u.id AND used_at IS NULL AND revoked_at IS NULL AND expires_at > now()) AS open_until,
		EXISTS (SELECT 1 FROM user_invitations WHERE user_id = u.id) AS invited,
		u.password_hash <> $2 AS has_password
		FROM users u WHERE u.id = $1`, id, noPassword); err != nil {
		if db.IsNoRows(err) {
			return ui, fmt.Errorf("user %d: %w", id, ErrNotFound)
		}
		return ui, fmt.Errorf("user invitation: %w", err)
	}
	return ui, nil
}

// ReissueInvitation issues a new link for an existing user on behalf of
// admin by (a lost link, an expired one, or a forgotten password); the old
// links stop working. It returns the token and when it expires.
func (s *Store) ReissueInvitation(ctx context.Context, by, userID int64, ttl time.Duration) (string, time.Time, error) {
	var tok string
	var expires time.Time
	err := db.InTx(ctx, s.db, func(tx *sqlx.Tx) error {
		var err error
		if tok, expires, err = issueInvitation(ctx, tx, userID, by, ttl); err != nil {
			return err
		}
		return audit.Record(ctx, tx, by, "user.invite", "user", strconv.FormatInt(userID, 10),
			map[string]any{"expires_at": expires.UTC().Format(time.RFC3339), "reissued": true})
	})
	if err != nil {
		return "", time.Time{}, err
	}
	return tok, expires, nil
}

// RevokeInvitations ends the user's open invitation links on behalf of
// admin by.
func (s *Store) RevokeInvitations(ctx context.Context, by, userID int64) error {
	return db.InTx(ctx, s.db, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE user_invitations SET revoked_at = now()
			WHERE user_id = $1 AND used_at IS NULL AND revoked_at IS NULL`, userID)
		if err != nil {
			return fmt.Errorf("revoke invitations: %w", err)
		}
		n, _ := res.RowsAffected()
		return audit.Record(ctx, tx, by, "user.invite_revoke", "user", strconv.FormatInt(userID, 10), map[string]any{"revoked": n})
	})
}

// NewUser is a user an admin invites.
type NewUser struct {
	Email, Name, Role, Language string
	Departments                 []string
}

// CreateInvitedUser creates an active user without a password and their
// first invitation, with its audit rows, in one transaction, on behalf of
// admin by. It returns the user's id, the link's token and when it
// expires. Errors: ErrExists (the e-mail address), ErrInvalid (an unknown
// department).
func (s *Store) CreateInvitedUser(ctx context.Context, by int64, u NewUser, ttl time.Duration) (int64, string, time.Time, error) {
	email := NormalizeEmail(u.Email)
	var id int64
	var tok string
	var expires time.Time
	err := db.InTx(ctx, s.db, func(tx *sqlx.Tx) error {
		if err := tx.GetContext(ctx, &id, `INSERT INTO users (email, name, password_hash, role, language) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
			email, u.Name, noPassword, u.Role, u.Language); err != nil {
			if db.IsUniqueViolation(err) {
				return fmt.Errorf("%w: email %s", ErrExists, email)
			}
			return fmt.Errorf("insert user: %w", err)
		}
		if err := setUserDepartments(ctx, tx, id, u.Departments); err != nil {
			return err
		}
		var err error
		if tok, expires, err = issueInvitation(ctx, tx, id, by, ttl); err != nil {
			return err
		}
		sid := strconv.FormatInt(id, 10)
		if err := audit.Record(ctx, tx, by, "user.create", "user", sid, map[string]any{
			"email": email, "role": u.Role, "departments": u.Departments,
		}); err != nil {
			return err
		}
		return audit.Record(ctx, tx, by, "user.invite", "user", sid, map[string]any{"expires_at": expires.UTC().Format(time.RFC3339)})
	})
	if err != nil {
		return 0, "", time.Time{}, err
	}
	return id, tok, expires, nil
}
