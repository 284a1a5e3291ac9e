package admin

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"citybot/fieldstaff"
	"citybot/staff"
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
	data := map[string]any{"Errors": errs, "Summary": errorSummary(errs, passwordFields)}
	p.Data = data
	if err := s.telegramData(c, p, data); err != nil {
		s.fail(c, err)
		return
	}
	s.render(c, status, "account", p)
}

// telegramData adds the user's Telegram link (or its absence) to the
// account page.
func (s *Server) telegramData(c *gin.Context, p *page, data map[string]any) error {
	l, err := s.field.UserLink(c.Request.Context(), p.User.ID)
	switch {
	case err == nil:
		data["Telegram"] = l
	case !errors.Is(err, fieldstaff.ErrNotFound):
		return err
	}
	return s.alertData(c, p, data)
}

// telegramCode creates a one-time code that links the user's Telegram
// account, and shows it (with the bot's deep link) this once.
func (s *Server) telegramCode(c *gin.Context) {
	me := currentUser(c)
	code, expires, err := s.field.CreateLinkCode(c.Request.Context(), me.ID)
	if err != nil {
		s.fail(c, err)
		return
	}
	p := s.page(c, "account.title")
	p.Nav = "account"
	p.Path = "/account"
	data := map[string]any{"Errors": map[string]string{}, "Code": code, "Expires": expires}
	p.Data = data
	if s.cfg.BotUsername != "" {
		data["DeepLink"] = "https://t.me/" + strings.TrimPrefix(s.cfg.BotUsername, "@") + "?start=" + fieldstaff.DeepLinkPrefix + code
	}
	if err := s.telegramData(c, p, data); err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Cache-Control", "no-store") // the code is shown once
	s.render(c, http.StatusOK, "account", p)
}

// telegramUnlink removes the link of the user's Telegram account.
func (s *Server) telegramUnlink(c *gin.Context) {
	me := currentUser(c)
	if err := s.field.Unlink(c.Request.Context(), me.ID, me.ID); err != nil && !errors.Is(err, fieldstaff.ErrNotFound) {
		s.fail(c, err)
		return
	}
	redirect(c, "/account", "telegram_unlinked")
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
		// The check is throttled like a login (staff/throttle.go): a
		// stolen session must not guess the password.
		ip := c.ClientIP()
		err := s.staff.CheckPassword(ctx, sess.User.ID, sess.User.Email, current, ip)
		if wait, ok := staff.Throttled(err); ok {
			c.Header("Retry-After", fmt.Sprint(int(wait.Seconds())+1))
			errs["current"] = p.T("login.throttled", waitText(p, wait))
			s.renderAccount(c, p, http.StatusTooManyRequests, errs)
			return
		}
		switch {
		case errors.Is(err, staff.ErrWrongPassword):
			errs["current"] = p.T("account.err.current_wrong")
			s.log.Info("wrong current password", "user_id", sess.User.ID, "ip", ip)
		case err != nil:
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
	// The new password, the end of the user's other sessions and the
	// audit row commit together.
	if err := s.staff.ChangePassword(ctx, sess.User.ID, sess.hash, password); err != nil {
		s.fail(c, err) // newPasswordError checks what staff refuses
		return
	}
	redirect(c, "/account", "saved")
}
