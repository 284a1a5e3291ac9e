package admin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"citybot/staff"
)

// Cookie names.
const (
	sessionCookie = "citybot_session"
	preCookie     = "citybot_pre" // anonymous CSRF token (login form)
	langCookie    = "citybot_lang"
)

// minPasswordLen is the shortest password staff accept.
const minPasswordLen = staff.MinPasswordLen

// session is the authenticated state of a request.
type session struct {
	User *staff.Principal
	// MustChange: an admin set the password; the user must choose their
	// own before anything else.
	MustChange bool
	CSRF       string
	hash       []byte
}

func sessionOf(ss staff.Session) *session {
	u := ss.User
	return &session{User: &u, MustChange: ss.MustChange, CSRF: ss.CSRF, hash: ss.Hash}
}

func validRole(r string) bool { return staff.ValidRole(r) }

func normalizeEmail(e string) string { return staff.NormalizeEmail(e) }

func randomToken() string { return staff.RandomToken() }

func tokenHash(tok string) []byte { return staff.TokenHash(tok) }

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
		if !errors.Is(err, staff.ErrNotFound) {
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
// hash; staff.ErrNotFound when there is none.
func (s *Server) sessionByHash(ctx context.Context, hash []byte) (*session, error) {
	ss, err := s.staff.SessionByHash(ctx, hash)
	if err != nil {
		return nil, err
	}
	return sessionOf(ss), nil
}

const ctxSession = "citybot.session"

func currentSession(c *gin.Context) *session {
	v, ok := c.Get(ctxSession)
	if !ok {
		return nil
	}
	return v.(*session)
}

func currentUser(c *gin.Context) *staff.Principal {
	if s := currentSession(c); s != nil {
		return s.User
	}
	return nil
}

// principalOf is the signed-in user as every domain function takes them
// (staff.Principal, by value).
func principalOf(u *staff.Principal) staff.Principal { return *u }

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
		if currentSession(c).MustChange && c.Request.URL.Path != "/account" && c.Request.URL.Path != "/account/password" {
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

	u, err := s.staff.Authenticate(ctx, email, password, ip)
	if err != nil {
		p := s.page(c, "login.title")
		p.Error = p.T("login.failed")
		status := s.statusOf(err) // 401, or 429 when throttled
		wait, throttled := staff.Throttled(err)
		switch {
		case throttled:
			p.Error = p.T("login.throttled", waitText(p, wait))
			c.Header("Retry-After", fmt.Sprint(int(wait.Seconds())+1))
		case errors.Is(err, staff.ErrBadLogin):
		default:
			s.fail(c, err)
			return
		}
		s.log.Info("login failed", "ip", ip, "throttled", throttled)
		p.Data = map[string]any{"Next": next, "Email": email}
		s.render(c, status, "login", p)
		return
	}
	if err := s.logIn(c, u.ID, ""); err != nil {
		s.fail(c, err)
		return
	}
	if u.MustChange {
		redirect(c, "/account", "password_required")
		return
	}
	c.Redirect(http.StatusSeeOther, next)
}

// startSession creates a new session for user userID and sets its cookie
// (no audit row: the invitation's acceptance is recorded).
func (s *Server) startSession(c *gin.Context, userID int64) error {
	ns, err := s.staff.CreateSession(c.Request.Context(), userID, s.cfg.SessionLifetime, c.ClientIP(), c.Request.UserAgent())
	if err != nil {
		return err
	}
	s.setSessionCookie(c, ns)
	return nil
}

// logIn signs user userID in: a new session and its "user.login" audit row
// in one transaction (method: "" for the password, "oidc"), and the cookie.
func (s *Server) logIn(c *gin.Context, userID int64, method string) error {
	ns, err := s.staff.LogIn(c.Request.Context(), userID, method, s.cfg.SessionLifetime, c.ClientIP(), c.Request.UserAgent())
	if err != nil {
		return err
	}
	s.setSessionCookie(c, ns)
	return nil
}

func (s *Server) setSessionCookie(c *gin.Context, ns staff.NewSession) {
	s.setCookie(c, sessionCookie, ns.Token, s.cfg.SessionLifetime)
	s.clearCookie(c, preCookie)
}

func (s *Server) logout(c *gin.Context) {
	if sess := currentSession(c); sess != nil {
		if err := s.staff.LogOut(c.Request.Context(), sess.User.ID, sess.hash); err != nil {
			s.fail(c, err)
			return
		}
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
		if err := s.staff.SetLanguage(c.Request.Context(), u.ID, lang); err != nil {
			s.fail(c, err)
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
