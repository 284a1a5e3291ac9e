package admin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/jmoiron/sqlx"

	"citybot/internal/db"
)

// Invitations: an admin creates a user without a password and hands them a
// one-time link; the invited person chooses their own password there and is
// logged in. The link's token (32 random bytes) is shown once and stored as
// its SHA-256 hash only; it is valid for Config.InvitationLifetime and for
// one use. Issuing a new link revokes the user's open ones; an admin can
// also revoke a link without issuing another. A user who was invited has no
// password until they use the link ("!" never matches a bcrypt hash).

// defaultInvitationLifetime is how long an invitation link is valid unless
// configured otherwise.
const defaultInvitationLifetime = 7 * 24 * time.Hour

// noPassword is the password hash of a user who has none (invited, or
// signing in through OpenID Connect): no password matches it.
const noPassword = "!"

// inviteRow is an invitation with its user, as the link finds it.
type inviteRow struct {
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

// usable reports whether the link can still be used at now.
func (r inviteRow) usable(now time.Time) bool {
	return r.UsedAt == nil && r.RevokedAt == nil && r.Active && now.Before(r.ExpiresAt)
}

// maxTokenLen bounds what is looked up: a real token has 43 characters.
const maxTokenLen = 64

func (s *Server) invitationLifetime() time.Duration {
	if s.cfg.InvitationLifetime > 0 {
		return s.cfg.InvitationLifetime
	}
	return defaultInvitationLifetime
}

// issueInvitation revokes the user's open invitations and creates a new
// one; it returns the token (the only time it exists in clear) and when
// it expires.
func issueInvitation(ctx context.Context, tx *sqlx.Tx, userID, by int64, ttl time.Duration) (string, time.Time, error) {
	if _, err := tx.ExecContext(ctx, `UPDATE user_invitations SET revoked_at = now()
		WHERE user_id = $1 AND used_at IS NULL AND revoked_at IS NULL`, userID); err != nil {
		return "", time.Time{}, fmt.Errorf("revoke invitations: %w", err)
	}
	tok := randomToken()
	var creator *int64
	if by != 0 {
		creator = &by
	}
	var expires time.Time
	if err := tx.GetContext(ctx, &expires, `INSERT INTO user_invitations (user_id, token_hash, created_by, expires_at)
		VALUES ($1, $2, $3, now() + make_interval(secs => $4)) RETURNING expires_at`,
		userID, tokenHash(tok), creator, ttl.Seconds()); err != nil {
		return "", time.Time{}, fmt.Errorf("insert invitation: %w", err)
	}
	return tok, expires, nil
}

// inviteURL is the link that carries tok: on the public URL when one is
// configured, else on the address the admin's browser used. The token is
// a query parameter, so that request logs (which log the path) never see it.
func (s *Server) inviteURL(c *gin.Context, tok string) string {
	base := strings.TrimRight(s.cfg.BaseURL, "/")
	if base == "" {
		scheme := "http"
		if c.Request.TLS != nil {
			scheme = "https"
		}
		base = scheme + "://" + c.Request.Host
	}
	return base + "/invite?t=" + url.QueryEscape(tok)
}

// lookupInvitation finds the invitation of tok (locked for update when
// lock is set); ErrNotFound for an unknown or malformed token.
func lookupInvitation(ctx context.Context, q sqlx.QueryerContext, tok string, lock bool) (inviteRow, error) {
	var r inviteRow
	if tok == "" || len(tok) > maxTokenLen {
		return r, fmt.Errorf("invitation: %w", ErrNotFound)
	}
	query := `SELECT i.id, i.user_id, i.expires_at, i.used_at, i.revoked_at, u.email, u.name, u.role, u.language, u.active
		FROM user_invitations i JOIN users u ON u.id = i.user_id WHERE i.token_hash = $1`
	if lock {
		query += ` FOR UPDATE OF i`
	}
	if err := sqlx.GetContext(ctx, q, &r, query, tokenHash(tok)); err != nil {
		if db.IsNoRows(err) {
			return r, fmt.Errorf("invitation: %w", ErrNotFound)
		}
		return r, fmt.Errorf("load invitation: %w", err)
	}
	return r, nil
}

// renderInviteInvalid says that the link cannot be used, without saying
// more than needed: 404 for a token that never existed, 410 for one that
// was used, revoked or has expired.
func (s *Server) renderInviteInvalid(c *gin.Context, status int) {
	p := s.page(c, "invite.invalid_title")
	p.Path = "/login"
	p.Data = map[string]any{"Invalid": true}
	s.render(c, status, "invite", p)
}

// inviteFields are the invitation form's fields in the order it shows them.
var inviteFields = []string{"password", "password2"}

func (s *Server) renderInvite(c *gin.Context, p *page, status int, tok string, r inviteRow, errs map[string]string) {
	p.Path = "/login" // the language switch must not carry the token around
	p.Data = map[string]any{"Token": tok, "Invite": r, "Errors": errs, "Summary": errorSummary(errs, inviteFields)}
	s.render(c, status, "invite", p)
}

// invitePage shows the invited person the form to choose their password.
func (s *Server) invitePage(c *gin.Context) {
	tok := c.Query("t")
	r, err := lookupInvitation(c.Request.Context(), s.db, tok, false)
	switch {
	case errors.Is(err, ErrNotFound):
		s.renderInviteInvalid(c, http.StatusNotFound)
		return
	case err != nil:
		s.fail(c, err)
		return
	case !r.usable(time.Now()):
		s.renderInviteInvalid(c, http.StatusGone)
		return
	}
	s.renderInvite(c, s.invitePageFor(c, r), http.StatusOK, tok, r, nil)
}

// invitePageFor is the invitation page in the invited user's language.
func (s *Server) invitePageFor(c *gin.Context, r inviteRow) *page {
	p := s.page(c, "invite.title")
	if currentUser(c) == nil && s.cat.has(r.Language) {
		if _, err := c.Cookie(langCookie); err != nil {
			p.Lang = r.Language
			p.Title = p.T("invite.title")
		}
	}
	return p
}

// acceptInvite sets the invited user's password, uses up the link and
// logs them in.
func (s *Server) acceptInvite(c *gin.Context) {
	ctx := c.Request.Context()
	tok := c.PostForm("t")
	r, err := lookupInvitation(ctx, s.db, tok, false)
	switch {
	case errors.Is(err, ErrNotFound):
		s.renderInviteInvalid(c, http.StatusNotFound)
		return
	case err != nil:
		s.fail(c, err)
		return
	case !r.usable(time.Now()):
		s.renderInviteInvalid(c, http.StatusGone)
		return
	}
	p := s.invitePageFor(c, r)
	password, again := c.PostForm("password"), c.PostForm("password2")
	errs := map[string]string{}
	if msg := newPasswordError(p, password, r.Email, r.Name); msg != "" {
		errs["password"] = msg
	} else if again != password {
		errs["password2"] = p.T("invite.err.mismatch")
	}
	if len(errs) > 0 {
		s.renderInvite(c, p, http.StatusBadRequest, tok, r, errs)
		return
	}
	hash, err := hashPassword(password)
	if err != nil {
		s.fail(c, err) // newPasswordError checks what hashPassword refuses
		return
	}
	used := false
	err = db.InTx(ctx, s.db, func(tx *sqlx.Tx) error {
		// Two tabs sending the form at once: the lock lets one win.
		cur, err := lookupInvitation(ctx, tx, tok, true)
		if err != nil {
			return err
		}
		if !cur.usable(time.Now()) {
			used = true
			return nil
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
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = $1`, cur.UserID); err != nil {
			return fmt.Errorf("end sessions: %w", err)
		}
		return RecordAudit(ctx, tx, cur.UserID, "user.invite_accept", "user", strconv.FormatInt(cur.UserID, 10),
			map[string]any{"invitation": cur.ID})
	})
	switch {
	case errors.Is(err, ErrNotFound):
		s.renderInviteInvalid(c, http.StatusNotFound)
		return
	case err != nil:
		s.fail(c, err)
		return
	case used:
		s.renderInviteInvalid(c, http.StatusGone)
		return
	}
	// Someone else logged in in this browser (an admin trying the link)
	// is logged out first.
	if sess := currentSession(c); sess != nil {
		if _, err := s.db.ExecContext(ctx, `DELETE FROM sessions WHERE token_hash = $1`, sess.hash); err != nil {
			s.fail(c, fmt.Errorf("delete session: %w", err))
			return
		}
	}
	u := &User{ID: r.UserID, Email: r.Email, Name: r.Name, Role: r.Role, Language: r.Language, Active: true}
	if err := s.startSession(c, u); err != nil {
		s.fail(c, err)
		return
	}
	s.log.Info("invitation accepted", "user_id", r.UserID)
	redirect(c, "/", "invite_welcome")
}

// userInvitation is the state of a user's access for the admin: an open
// invitation (until when), and whether the user has a password.
type userInvitation struct {
	OpenUntil   *time.Time `db:"open_until"`
	Invited     bool       `db:"invited"` // some invitation was ever issued
	HasPassword bool       `db:"has_password"`
}

func (s *Server) userInvitation(ctx context.Context, id int64) (userInvitation, error) {
	var ui userInvitation
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

// renderInvited shows the admin the link once, to copy and hand over.
func (s *Server) renderInvited(c *gin.Context, status int, u User, tok string, expires time.Time, created bool) {
	p := s.page(c, "invite.issued_title")
	p.Nav = "users"
	p.Path = "/admin/users"
	p.Data = map[string]any{"User": u, "Link": s.inviteURL(c, tok), "Expires": expires, "Created": created}
	s.render(c, status, "user_invited", p)
}

// reissueInvite issues a new link for an existing user (a lost link, an
// expired one, or a forgotten password); the old links stop working.
func (s *Server) reissueInvite(c *gin.Context) {
	ctx := c.Request.Context()
	me := currentUser(c)
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		s.fail(c, ErrNotFound)
		return
	}
	u, err := s.getUser(ctx, id)
	if err != nil {
		s.fail(c, err)
		return
	}
	if !u.Active {
		s.fail(c, fmt.Errorf("%w: invitation for a deactivated user", ErrInvalid))
		return
	}
	var tok string
	var expires time.Time
	err = db.InTx(ctx, s.db, func(tx *sqlx.Tx) error {
		var err error
		if tok, expires, err = issueInvitation(ctx, tx, id, me.ID, s.invitationLifetime()); err != nil {
			return err
		}
		return RecordAudit(ctx, tx, me.ID, "user.invite", "user", strconv.FormatInt(id, 10),
			map[string]any{"expires_at": expires.UTC().Format(time.RFC3339), "reissued": true})
	})
	if err != nil {
		s.fail(c, err)
		return
	}
	s.renderInvited(c, http.StatusOK, u, tok, expires, false)
}

// revokeInvite ends the user's open invitation links.
func (s *Server) revokeInvite(c *gin.Context) {
	ctx := c.Request.Context()
	me := currentUser(c)
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		s.fail(c, ErrNotFound)
		return
	}
	if _, err := s.getUser(ctx, id); err != nil {
		s.fail(c, err)
		return
	}
	err = db.InTx(ctx, s.db, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE user_invitations SET revoked_at = now()
			WHERE user_id = $1 AND used_at IS NULL AND revoked_at IS NULL`, id)
		if err != nil {
			return fmt.Errorf("revoke invitations: %w", err)
		}
		n, _ := res.RowsAffected()
		return RecordAudit(ctx, tx, me.ID, "user.invite_revoke", "user", strconv.FormatInt(id, 10), map[string]any{"revoked": n})
	})
	if err != nil {
		s.fail(c, err)
		return
	}
	redirect(c, fmt.Sprintf("/admin/users/%d", id), "invite_revoked")
}

// createInvitedUser creates an active user without a password and their
// first invitation, with its audit rows, in one transaction.
func (s *Server) createInvitedUser(ctx context.Context, by int64, f userForm) (int64, string, time.Time, error) {
	email := normalizeEmail(f.Email)
	var id int64
	var tok string
	var expires time.Time
	err := db.InTx(ctx, s.db, func(tx *sqlx.Tx) error {
		if err := tx.GetContext(ctx, &id, `INSERT INTO users (email, name, password_hash, role, language) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
			email, f.Name, noPassword, f.Role, f.Language); err != nil {
			if db.IsUniqueViolation(err) {
				return fmt.Errorf("%w: email %s", ErrExists, email)
			}
			return fmt.Errorf("insert user: %w", err)
		}
		if err := setUserDepartments(ctx, tx, id, f.Departments); err != nil {
			return err
		}
		var err error
		if tok, expires, err = issueInvitation(ctx, tx, id, by, s.invitationLifetime()); err != nil {
			return err
		}
		sid := strconv.FormatInt(id, 10)
		if err := RecordAudit(ctx, tx, by, "user.create", "user", sid, map[string]any{
			"email": email, "role": f.Role, "departments": f.Departments,
		}); err != nil {
			return err
		}
		return RecordAudit(ctx, tx, by, "user.invite", "user", sid, map[string]any{"expires_at": expires.UTC().Format(time.RFC3339)})
	})
	if err != nil {
		return 0, "", time.Time{}, err
	}
	return id, tok, expires, nil
}
