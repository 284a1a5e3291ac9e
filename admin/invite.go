package admin

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"citybot/staff"
)

// Invitations: an admin creates a user without a password and hands them a
// one-time link; the invited person chooses their own password there and is
// logged in. The link's token (32 random bytes) is shown once and stored as
// its SHA-256 hash only; it is valid for Config.InvitationLifetime and for
// one use. Issuing a new link revokes the user's open ones; an admin can
// also revoke a link without issuing another. A user who was invited has no
// password until they use the link ("!" never matches a bcrypt hash).

func (s *Server) invitationLifetime() time.Duration {
	if s.cfg.InvitationLifetime > 0 {
		return s.cfg.InvitationLifetime
	}
	return staff.DefaultInvitationLifetime
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

func (s *Server) renderInvite(c *gin.Context, p *page, status int, tok string, r staff.Invitation, errs map[string]string) {
	p.Path = "/login" // the language switch must not carry the token around
	p.Data = map[string]any{"Token": tok, "Invite": r, "Errors": errs, "Summary": errorSummary(errs, inviteFields)}
	s.render(c, status, "invite", p)
}

// invitePage shows the invited person the form to choose their password.
func (s *Server) invitePage(c *gin.Context) {
	tok := c.Query("t")
	r, err := s.staff.LookupInvitation(c.Request.Context(), tok)
	switch {
	case errors.Is(err, staff.ErrNotFound):
		s.renderInviteInvalid(c, http.StatusNotFound)
		return
	case err != nil:
		s.fail(c, err)
		return
	case !r.Usable(time.Now()):
		s.renderInviteInvalid(c, http.StatusGone)
		return
	}
	s.renderInvite(c, s.invitePageFor(c, r), http.StatusOK, tok, r, nil)
}

// invitePageFor is the invitation page in the invited user's language.
func (s *Server) invitePageFor(c *gin.Context, r staff.Invitation) *page {
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
	r, err := s.staff.LookupInvitation(ctx, tok)
	switch {
	case errors.Is(err, staff.ErrNotFound):
		s.renderInviteInvalid(c, http.StatusNotFound)
		return
	case err != nil:
		s.fail(c, err)
		return
	case !r.Usable(time.Now()):
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
	// The password, the used-up link and the audit row commit together.
	_, err = s.staff.AcceptInvitation(ctx, tok, password)
	switch {
	case errors.Is(err, staff.ErrNotFound):
		s.renderInviteInvalid(c, http.StatusNotFound)
		return
	case errors.Is(err, staff.ErrInvitationUsed):
		s.renderInviteInvalid(c, http.StatusGone)
		return
	case err != nil:
		s.fail(c, err) // newPasswordError checks what staff refuses
		return
	}
	// Someone else logged in in this browser (an admin trying the link)
	// is logged out first.
	if sess := currentSession(c); sess != nil {
		if err := s.staff.DeleteSession(ctx, sess.hash); err != nil {
			s.fail(c, err)
			return
		}
	}
	if err := s.startSession(c, r.UserID); err != nil {
		s.fail(c, err)
		return
	}
	s.log.Info("invitation accepted", "user_id", r.UserID)
	redirect(c, "/", "invite_welcome")
}

// renderInvited shows the admin the link once, to copy and hand over.
func (s *Server) renderInvited(c *gin.Context, status int, u staff.User, tok string, expires time.Time, created bool) {
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
	u, err := s.staff.GetUser(ctx, id)
	if err != nil {
		s.fail(c, err)
		return
	}
	if !u.Active {
		s.fail(c, fmt.Errorf("%w: invitation for a deactivated user", ErrInvalid))
		return
	}
	tok, expires, err := s.staff.ReissueInvitation(ctx, me.ID, id, s.invitationLifetime())
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
	if _, err := s.staff.GetUser(ctx, id); err != nil {
		s.fail(c, err)
		return
	}
	if err := s.staff.RevokeInvitations(ctx, me.ID, id); err != nil {
		s.fail(c, err)
		return
	}
	redirect(c, fmt.Sprintf("/admin/users/%d", id), "invite_revoked")
}
