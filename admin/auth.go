package admin

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/mail"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"golang.org/x/crypto/bcrypt"

	"citybot/internal/db"
)

// Roles of web UI users.
const (
	RoleAdmin  = "admin"
	RoleEditor = "editor"
	RoleStaff  = "staff"
)

// Cookie names.
const (
	sessionCookie = "citybot_session"
	preCookie     = "citybot_pre" // anonymous CSRF token (login form)
	langCookie    = "citybot_lang"
)

// Password rules (see password.go for the strength estimate).
const (
	minPasswordLen = 10
	bcryptCost     = 12 // ~0.25 s per check on a current server core
)

// User is a web UI user as the request sees it.
type User struct {
	ID          int64    `db:"id"`
	Email       string   `db:"email"`
	Name        string   `db:"name"`
	Role        string   `db:"role"`
	Active      bool     `db:"active"`
	Language    string   `db:"language"`
	Departments []string `db:"-"`
	// MustChange: an admin set the password; the user must choose their
	// own before anything else.
	MustChange bool `db:"must_change_password"`
	// InvitedUntil is when the user's open invitation link expires (nil:
	// none); InvitePending: invited and no password chosen yet. Only the
	// user list reads them.
	InvitedUntil  *time.Time `db:"invited_until"`
	InvitePending bool       `db:"invite_pending"`
}

// IsAdmin reports whether the user has the admin role.
func (u *User) IsAdmin() bool { return u != nil && u.Role == RoleAdmin }

// session is the authenticated state of a request.
type session struct {
	User *User
	CSRF string
	hash []byte
}

func validRole(r string) bool { return r == RoleAdmin || r == RoleEditor || r == RoleStaff }

func normalizeEmail(e string) string { return strings.ToLower(strings.TrimSpace(e)) }

// CreateUser creates an active user with a bcrypt password hash and the
// given departments (ids). It is used by `citybot user add` and by the
// demo start-up. Errors: ErrInvalid (bad email, role, short password,
// unknown department), ErrExists (email taken).
func CreateUser(ctx context.Context, d *sqlx.DB, email, name, password, role string, departments []string) (int64, error) {
	return createUser(ctx, d, bcryptCost, email, name, password, role, departments)
}

// createUser is CreateUser with a chosen bcrypt cost (tests use the minimum).
func createUser(ctx context.Context, d *sqlx.DB, cost int, email, name, password, role string, departments []string) (int64, error) {
	email = normalizeEmail(email)
	name = strings.TrimSpace(name)
	if a, err := mail.ParseAddress(email); err != nil || a.Address != email {
		return 0, fmt.Errorf("%w: email %q", ErrInvalid, email)
	}
	if name == "" {
		return 0, fmt.Errorf("%w: name is empty", ErrInvalid)
	}
	if !validRole(role) {
		return 0, fmt.Errorf("%w: role %q (want admin, editor or staff)", ErrInvalid, role)
	}
	if key := passwordProblem(password, email, name); key != "" {
		return 0, fmt.Errorf("%w: weak password: %s", ErrInvalid, newCatalog().t("en", key))
	}
	hash, err := hashPasswordCost(password, cost)
	if err != nil {
		return 0, err
	}
	var id int64
	err = db.InTx(ctx, d, func(tx *sqlx.Tx) error {
		if err := tx.GetContext(ctx, &id, `INSERT INTO users (email, name, password_hash, role) VALUES ($1, $2, $3, $4) RETURNING id`,
			email, name, hash, role); err != nil {
			if db.IsUniqueViolation(err) {
				return fmt.Errorf("%w: email %s", ErrExists, email)
			}
			return fmt.Errorf("insert user: %w", err)
		}
		return setUserDepartments(ctx, tx, id, departments)
	})
	if err != nil {
		return 0, err
	}
	return id, nil
}

func setUserDepartments(ctx context.Context, tx *sqlx.Tx, userID int64, departments []string) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM user_departments WHERE user_id = $1`, userID); err != nil {
		return fmt.Errorf("clear user departments: %w", err)
	}
	for _, dep := range departments {
		if _, err := tx.ExecContext(ctx, `INSERT INTO user_departments (user_id, department_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`, userID, dep); err != nil {
			if db.IsForeignKeyViolation(err) {
				return fmt.Errorf("%w: unknown department %q", ErrInvalid, dep)
			}
			return fmt.Errorf("insert user department: %w", err)
		}
	}
	return nil
}

func hashPassword(pw string) (string, error) { return hashPasswordCost(pw, bcryptCost) }

func hashPasswordCost(pw string, cost int) (string, error) {
	if len([]rune(pw)) < minPasswordLen {
		return "", fmt.Errorf("%w: password shorter than %d characters", ErrInvalid, minPasswordLen)
	}
	if len(pw) > 72 {
		return "", fmt.Errorf("%w: password longer than 72 bytes", ErrInvalid)
	}
	h, err := bcrypt.GenerateFromPassword([]byte(pw), cost)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return string(h), nil
}

// dummyHash is compared against when the email is unknown, so that a
// failed login takes the same time whether the account exists or not.
func (s *Server) dummyHash() []byte {
	s.dummyOnce.Do(func() {
		s.dummy, _ = bcrypt.GenerateFromPassword([]byte(randomToken()), bcryptCost)
	})
	return s.dummy
}

func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return base64.RawURLEncoding.EncodeToString(b)
}

func tokenHash(tok string) []byte {
	h := sha256.Sum256([]byte(tok))
	return h[:]
}

// loadSession reads the session cookie and, when it names a live session of
// an active user, puts the session in the request context.
func (s *Server) loadSession(c *gin.Context) {
	ck, err := c.Cookie(sessionCookie)
	if err != nil || ck == "" {
		c.Next()
		return
	}
	sess, err := s.sessionByHash(c.Request.Context(), tokenHash(ck))
	if err != nil {
		if !errors.Is(err, ErrNotFound) {
			s.fail(c, err)
			return
		}
		s.clearCookie(c, sessionCookie)
		c.Next()
		return
	}
	c.Set(ctxSession, sess)
	c.Next()
}

// sessionByHash loads the live session of an active user by its token
// hash; ErrNotFound when there is none.
func (s *Server) sessionByHash(ctx context.Context, hash []byte) (*session, error) {
	var row struct {
		User
		CSRF string         `db:"csrf_token"`
		Deps pq.StringArray `db:"departments"`
	}
	err := s.db.GetContext(ctx, &row, `
		SELECT u.id, u.email, u.name, u.role, u.active, u.language, u.must_change_password, s.csrf_token,
		       COALESCE(ARRAY(SELECT ud.department_id FROM user_departments ud WHERE ud.user_id = u.id ORDER BY ud.department_id), '{}') AS departments
		FROM sessions s JOIN users u ON u.id = s.user_id
		WHERE s.token_hash = $1 AND s.expires_at > now() AND u.active`, hash)
	if db.IsNoRows(err) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("load session: %w", err)
	}
	u := row.User
	u.Departments = []string(row.Deps)
	return &session{User: &u, CSRF: row.CSRF, hash: hash}, nil
}

const ctxSession = "citybot.session"

func currentSession(c *gin.Context) *session {
	v, ok := c.Get(ctxSession)
	if !ok {
		return nil
	}
	return v.(*session)
}

func currentUser(c *gin.Context) *User {
	if s := currentSession(c); s != nil {
		return s.User
	}
	return nil
}

// requireRole lets the request through for a logged-in user with one of the
// roles; anonymous GETs are sent to the login page, the rest get 403.
func (s *Server) requireRole(roles ...string) gin.HandlerFunc {
	return func(c *gin.Context) {
		u := currentUser(c)
		if u == nil {
			if c.Request.Method == http.MethodGet || c.Request.Method == http.MethodHead {
				c.Redirect(http.StatusSeeOther, "/login?next="+url.QueryEscape(c.Request.URL.RequestURI()))
				c.Abort()
				return
			}
			s.fail(c, errForbidden)
			return
		}
		if !slices.Contains(roles, u.Role) {
			s.fail(c, errForbidden)
			return
		}
		if u.MustChange && c.Request.URL.Path != "/account" && c.Request.URL.Path != "/account/password" {
			// An admin set this password: nothing else until the user
			// has chosen their own.
			if c.Request.Method == http.MethodGet || c.Request.Method == http.MethodHead {
				redirect(c, "/account", "password_required")
				c.Abort()
				return
			}
			s.fail(c, errForbidden)
			return
		}
		c.Next()
	}
}

func (s *Server) setCookie(c *gin.Context, name, value string, maxAge time.Duration) {
	http.SetCookie(c.Writer, &http.Cookie{
		Name:     name,
		Value:    value,
		Path:     "/",
		MaxAge:   int(maxAge.Seconds()),
		HttpOnly: true,
		Secure:   s.cfg.SecureCookies,
		SameSite: http.SameSiteLaxMode,
	})
}

func (s *Server) clearCookie(c *gin.Context, name string) {
	http.SetCookie(c.Writer, &http.Cookie{
		Name: name, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: s.cfg.SecureCookies, SameSite: http.SameSiteLaxMode,
	})
}

// safeNext returns next when it is a path on this site, else "/". Browsers
// drop tabs and line breaks from URLs and treat a backslash as a slash, so
// "/\t/evil.example" would lead to another host: any control character,
// space or backslash is refused, and what is left must parse as a bare path
// that does not start with "//".
func safeNext(next string) string {
	if next == "" || next[0] != '/' || len(next) > 2000 {
		return "/"
	}
	for _, r := range next {
		if r < 0x21 || r == 0x7f || r == '\\' || (r >= 0x80 && r <= 0x9f) || r == '\u2028' || r == '\u2029' || r == '\ufeff' {
			return "/"
		}
	}
	if strings.HasPrefix(next, "//") {
		return "/"
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" || !strings.HasPrefix(u.Path, "/") || strings.HasPrefix(u.Path, "//") {
		return "/"
	}
	return next
}

func (s *Server) loginForm(c *gin.Context) {
	if currentUser(c) != nil {
		c.Redirect(http.StatusSeeOther, safeNext(c.Query("next")))
		return
	}
	p := s.page(c, "login.title")
	p.Data = map[string]any{"Next": safeNext(c.Query("next")), "Email": ""}
	s.render(c, http.StatusOK, "login", p)
}

var errThrottled = errors.New("admin: too many failed logins")

// waitText says how long to wait, in whole seconds or minutes.
func waitText(p *page, d time.Duration) string {
	if d < 90*time.Second {
		return p.T("wait.seconds", int(d.Seconds())+1)
	}
	return p.T("wait.minutes", int((d+time.Minute-1)/time.Minute))
}

func (s *Server) login(c *gin.Context) {
	ctx := c.Request.Context()
	email := normalizeEmail(c.PostForm("email"))
	password := c.PostForm("password")
	next := safeNext(c.PostForm("next"))
	ip := c.ClientIP()

	u, err := s.authenticate(ctx, email, password, ip)
	if err != nil {
		p := s.page(c, "login.title")
		p.Error = p.T("login.failed")
		status := http.StatusUnauthorized
		wait, throttled := isThrottled(err)
		switch {
		case throttled:
			p.Error, status = p.T("login.throttled", waitText(p, wait)), http.StatusTooManyRequests
			c.Header("Retry-After", fmt.Sprint(int(wait.Seconds())+1))
		case errors.Is(err, errBadLogin):
		default:
			s.fail(c, err)
			return
		}
		s.log.Info("login failed", "ip", ip, "throttled", throttled)
		p.Data = map[string]any{"Next": next, "Email": email}
		s.render(c, status, "login", p)
		return
	}
	if err := s.startSession(c, u); err != nil {
		s.fail(c, err)
		return
	}
	s.audit(ctx, u.ID, "user.login", "user", fmt.Sprint(u.ID), nil)
	if u.MustChange {
		redirect(c, "/account", "password_required")
		return
	}
	c.Redirect(http.StatusSeeOther, next)
}

// startSession creates a new session for u and sets its cookie.
func (s *Server) startSession(c *gin.Context, u *User) error {
	tok := randomToken()
	csrf := randomToken()
	if _, err := s.db.ExecContext(c.Request.Context(), `INSERT INTO sessions (token_hash, user_id, csrf_token, expires_at, ip, user_agent) VALUES ($1, $2, $3, $4, $5, $6)`,
		tokenHash(tok), u.ID, csrf, time.Now().Add(s.cfg.SessionLifetime), c.ClientIP(), truncate(c.Request.UserAgent(), 200)); err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	s.setCookie(c, sessionCookie, tok, s.cfg.SessionLifetime)
	s.clearCookie(c, preCookie)
	return nil
}

var errBadLogin = errors.New("admin: wrong email or password")

// authenticate checks the credentials under the throttle (throttle.go):
// the attempt is counted before the password is compared and taken back
// when it was right. The error never tells which part was wrong.
func (s *Server) authenticate(ctx context.Context, email, password, ip string) (*User, error) {
	if err := s.reserveAttempt(ctx, email, ip); err != nil {
		return nil, err
	}
	var row struct {
		User
		Hash string `db:"password_hash"`
	}
	err := s.db.GetContext(ctx, &row, `SELECT id, email, name, role, active, language, must_change_password, password_hash FROM users WHERE email = $1`, email)
	if err != nil && !db.IsNoRows(err) {
		return nil, fmt.Errorf("load user: %w", err)
	}
	ok := false
	if err == nil {
		ok = bcrypt.CompareHashAndPassword([]byte(row.Hash), []byte(password)) == nil && row.Active
	} else {
		_ = bcrypt.CompareHashAndPassword(s.dummyHash(), []byte(password))
	}
	if !ok {
		return nil, errBadLogin
	}
	if err := s.releaseAttempt(ctx, email, ip); err != nil {
		return nil, err
	}
	u := row.User
	return &u, nil
}

func (s *Server) logout(c *gin.Context) {
	if sess := currentSession(c); sess != nil {
		if _, err := s.db.ExecContext(c.Request.Context(), `DELETE FROM sessions WHERE token_hash = $1`, sess.hash); err != nil {
			s.fail(c, fmt.Errorf("delete session: %w", err))
			return
		}
		s.audit(c.Request.Context(), sess.User.ID, "user.logout", "user", fmt.Sprint(sess.User.ID), nil)
	}
	s.clearCookie(c, sessionCookie)
	c.Redirect(http.StatusSeeOther, "/login")
}

// setLanguage switches the UI language (stored for the user, or in a cookie).
func (s *Server) setLanguage(c *gin.Context) {
	lang := c.PostForm("lang")
	if !s.cat.has(lang) {
		s.fail(c, fmt.Errorf("%w: language", ErrInvalid))
		return
	}
	if u := currentUser(c); u != nil {
		if _, err := s.db.ExecContext(c.Request.Context(), `UPDATE users SET language = $1, updated_at = now() WHERE id = $2`, lang, u.ID); err != nil {
			s.fail(c, fmt.Errorf("set language: %w", err))
			return
		}
	}
	s.setCookie(c, langCookie, lang, 365*24*time.Hour)
	c.Redirect(http.StatusSeeOther, safeNext(c.PostForm("next")))
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	r := []rune(s)
	if len(r) > n {
		r = r[:n]
	}
	return string(r)
}
