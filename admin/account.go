package admin

import (
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"
	"golang.org/x/crypto/bcrypt"

	"citybot/internal/db"
)

// passwordFields are the password form's fields in the order it shows them.
var passwordFields = []string{"current", "password"}

// accountPage shows the user's own account: departments, role, language,
// and a form to change the password.
func (s *Server) accountPage(c *gin.Context) {
	s.renderAccount(c, s.page(c, "account.title"), http.StatusOK, nil)
}

// renderAccount shows the account page with the password form's errors
// per field (already translated; passwords are never filled in again).
func (s *Server) renderAccount(c *gin.Context, p *page, status int, errs map[string]string) {
	p.Nav = "account"
	p.Path = "/account" // the language switch comes back here, not to the POST URL
	p.Data = map[string]any{"Errors": errs, "Summary": errorSummary(errs, passwordFields)}
	s.render(c, status, "account", p)
}

// changePassword sets a new password after checking the current one; all
// other sessions of the user end.
func (s *Server) changePassword(c *gin.Context) {
	ctx := c.Request.Context()
	sess := currentSession(c)
	p := s.page(c, "account.title")
	current, password := c.PostForm("current"), c.PostForm("password")
	errs := map[string]string{}
	if current == "" {
		errs["current"] = p.T("account.err.current_empty")
	} else {
		// The check is throttled like a login (throttle.go): a stolen
		// session must not guess the password.
		ip := c.ClientIP()
		if err := s.reserveAttempt(ctx, sess.User.Email, ip); err != nil {
			wait, ok := isThrottled(err)
			if !ok {
				s.fail(c, err)
				return
			}
			c.Header("Retry-After", fmt.Sprint(int(wait.Seconds())+1))
			errs["current"] = p.T("login.throttled", waitText(p, wait))
			s.renderAccount(c, p, http.StatusTooManyRequests, errs)
			return
		}
		var hash string
		if err := s.db.GetContext(ctx, &hash, `SELECT password_hash FROM users WHERE id = $1`, sess.User.ID); err != nil {
			s.fail(c, fmt.Errorf("load password: %w", err))
			return
		}
		if bcrypt.CompareHashAndPassword([]byte(hash), []byte(current)) != nil {
			errs["current"] = p.T("account.err.current_wrong")
			s.log.Info("wrong current password", "user_id", sess.User.ID, "ip", ip)
		} else if err := s.releaseAttempt(ctx, sess.User.Email, ip); err != nil {
			s.fail(c, err)
			return
		}
	}
	if msg := newPasswordError(p, password, sess.User.Email, sess.User.Name); msg != "" {
		errs["password"] = msg
	} else if password == current {
		errs["password"] = p.T("account.err.same")
	}
	if len(errs) > 0 {
		s.renderAccount(c, p, http.StatusBadRequest, errs)
		return
	}
	nh, err := hashPassword(password)
	if err != nil {
		s.fail(c, err) // newPasswordError checks what hashPassword refuses
		return
	}
	if _, err := s.db.ExecContext(ctx, `UPDATE users SET password_hash = $2, must_change_password = false, updated_at = now() WHERE id = $1`, sess.User.ID, nh); err != nil {
		s.fail(c, fmt.Errorf("set password: %w", err))
		return
	}
	if _, err := s.db.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2`, sess.User.ID, sess.hash); err != nil && !db.IsNoRows(err) {
		s.fail(c, fmt.Errorf("end other sessions: %w", err))
		return
	}
	s.audit(ctx, sess.User.ID, "user.password", "user", fmt.Sprint(sess.User.ID), nil)
	redirect(c, "/account", "saved")
}
