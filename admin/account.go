package admin

import (
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"
	"golang.org/x/crypto/bcrypt"

	"citybot/internal/db"
)

// accountPage shows the user's own account: departments, role, language,
// and a form to change the password.
func (s *Server) accountPage(c *gin.Context) {
	p := s.page(c, "account.title")
	p.Nav = "account"
	s.render(c, http.StatusOK, "account", p)
}

// changePassword sets a new password after checking the current one; all
// other sessions of the user end.
func (s *Server) changePassword(c *gin.Context) {
	ctx := c.Request.Context()
	sess := currentSession(c)
	var hash string
	if err := s.db.GetContext(ctx, &hash, `SELECT password_hash FROM users WHERE id = $1`, sess.User.ID); err != nil {
		s.fail(c, fmt.Errorf("load password: %w", err))
		return
	}
	if bcrypt.CompareHashAndPassword([]byte(hash), []byte(c.PostForm("current"))) != nil {
		s.formError(c, fmt.Errorf("%w: current password", ErrInvalid))
		return
	}
	nh, err := hashPassword(c.PostForm("password"))
	if err != nil {
		s.formError(c, err)
		return
	}
	if _, err := s.db.ExecContext(ctx, `UPDATE users SET password_hash = $2, updated_at = now() WHERE id = $1`, sess.User.ID, nh); err != nil {
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
