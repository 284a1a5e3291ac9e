package admin

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/gin-gonic/gin"

	"citybot/staff"
)

// The group mapping of sign-in through the identity provider: which
// directory group gives which role and departments. Admins edit it at
// /admin/sso; it lives in oidc_groups. CITYBOT_OIDC_GROUPS (Config.OIDC.Groups)
// is the initial mapping: it is taken over once, when the table was never
// filled (oidc_mapping_state), and ignored from then on.
//
// The role and departments of a user who signed in through the provider
// follow the mapping: at every sign-in (from the token's groups) and when
// an admin changes the mapping (from the groups of the user's last sign-in,
// users.oidc_groups), in the transaction of the change. A user whose groups
// no longer map to anything loses access at once: no departments, the role
// staff, all sessions ended; the next sign-in is refused.

// seedOIDCGroups takes CITYBOT_OIDC_GROUPS over into the table when the
// mapping was never filled (once per database; any instance may do it).
func (s *Server) seedOIDCGroups(ctx context.Context) error {
	if s.oidcSeeded.Load() {
		return nil
	}
	if err := s.staff.SeedOIDCGroups(ctx, s.cfg.OIDC.Groups, s.log); err != nil {
		return err
	}
	s.oidcSeeded.Store(true)
	return nil
}

// ---- the settings page ----

type ssoForm struct {
	ID          int64 // 0: a new mapping
	Group       string
	Role        string
	Departments []string
	Errors      map[string]string
	General     string
}

var ssoFields = []string{"group", "role", "departments"}

func (s *Server) routeSSO(g *gin.RouterGroup) {
	g.GET("/sso", s.ssoPage)
	g.GET("/sso/new", s.ssoNewForm)
	g.POST("/sso", s.ssoSave)
	g.GET("/sso/:id", s.ssoEditForm)
	g.POST("/sso/:id", s.ssoSave)
	g.GET("/sso/:id/delete", s.ssoDeleteForm)
	g.POST("/sso/:id/delete", s.ssoDelete)
}

func (s *Server) ssoPage(c *gin.Context) {
	ctx := c.Request.Context()
	if err := s.seedOIDCGroups(ctx); err != nil {
		s.fail(c, err)
		return
	}
	rows, err := s.staff.ListOIDCGroups(ctx)
	if err != nil {
		s.fail(c, err)
		return
	}
	refs, err := s.departmentRefs(ctx)
	if err != nil {
		s.fail(c, err)
		return
	}
	names := make(map[string]string, len(refs))
	for _, d := range refs {
		names[d.ID] = d.Name
	}
	users, err := s.staff.CountOIDCUsers(ctx)
	if err != nil {
		s.fail(c, err)
		return
	}
	claim := s.cfg.OIDC.GroupClaim
	if claim == "" {
		claim = "groups"
	}
	p := s.page(c, "sso.title")
	p.Nav = "users"
	p.Data = map[string]any{"Groups": rows, "DeptNames": names, "Enabled": s.cfg.OIDC.Enabled(),
		"Issuer": s.cfg.OIDC.Issuer, "Claim": claim, "Users": users}
	s.render(c, http.StatusOK, "sso", p)
}

// ssoParam loads the mapping named by the id parameter.
func (s *Server) ssoParam(c *gin.Context) (staff.OIDCGroupRow, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return staff.OIDCGroupRow{}, errNotFound
	}
	return s.staff.GetOIDCGroup(c.Request.Context(), id)
}

func (s *Server) ssoNewForm(c *gin.Context) {
	if err := s.seedOIDCGroups(c.Request.Context()); err != nil {
		s.fail(c, err)
		return
	}
	s.renderSSOForm(c, s.page(c, "sso.new"), http.StatusOK, ssoForm{Role: staff.RoleStaff, Errors: map[string]string{}})
}

func (s *Server) ssoEditForm(c *gin.Context) {
	r, err := s.ssoParam(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.renderSSOForm(c, s.page(c, "sso.edit"), http.StatusOK,
		ssoForm{ID: r.ID, Group: r.Group, Role: r.Role, Departments: r.Departments, Errors: map[string]string{}})
}

func (s *Server) renderSSOForm(c *gin.Context, p *page, status int, f ssoForm) {
	deps, err := s.departmentRefs(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return
	}
	p.Nav = "users"
	p.Data = map[string]any{"F": f, "Departments": deps, "Roles": staff.Roles,
		"Summary": errorSummary(f.Errors, ssoFields)}
	s.render(c, status, "sso_form", p)
}

// ssoSave creates (POST /admin/sso) or changes (POST /admin/sso/:id) a
// mapping and applies the mapping to the provider's users, audited, in one
// transaction.
func (s *Server) ssoSave(c *gin.Context) {
	ctx := c.Request.Context()
	me := currentUser(c)
	if err := s.seedOIDCGroups(ctx); err != nil {
		s.fail(c, err)
		return
	}
	var old staff.OIDCGroupRow
	key := "sso.new"
	if c.Param("id") != "" {
		var err error
		if old, err = s.ssoParam(c); err != nil {
			s.fail(c, err)
			return
		}
		key = "sso.edit"
	}
	p := s.page(c, key)
	refs, err := s.departmentRefs(ctx)
	if err != nil {
		s.fail(c, err)
		return
	}
	f := ssoForm{
		ID:          old.ID,
		Group:       strings.TrimSpace(c.PostForm("group")),
		Role:        c.PostForm("role"),
		Departments: c.PostFormArray("departments"),
		Errors:      map[string]string{},
	}
	switch {
	case f.Group == "":
		f.Errors["group"] = p.T("sso.err.group_empty")
	case len(f.Group) > staff.MaxOIDCGroupName || strings.ContainsFunc(f.Group, unicode.IsControl):
		f.Errors["group"] = p.T("sso.err.group")
	}
	if !validRole(f.Role) {
		f.Errors["role"] = p.T("users.err.role")
	}
	slices.Sort(f.Departments)
	f.Departments = slices.Compact(f.Departments)
	for _, d := range f.Departments {
		if !hasDept(refs, d) {
			f.Errors["departments"] = p.T("users.err.departments")
		}
	}
	if len(f.Errors) > 0 {
		s.renderSSOForm(c, p, http.StatusBadRequest, f)
		return
	}
	res, err := s.staff.SaveOIDCGroup(ctx, me.ID, old, staff.OIDCGroup{Group: f.Group, Role: f.Role, Departments: f.Departments})
	changed, revoked := res.Changed, res.Revoked
	if err == nil {
		f.ID = res.ID
	}
	switch {
	case err == nil:
	case errors.Is(err, staff.ErrExists):
		f.Errors["group"] = p.T("sso.err.group_taken")
		s.renderSSOForm(c, p, s.statusOf(err), f)
		return
	case errors.Is(err, staff.ErrSelfAdmin):
		f.General = p.T("sso.err.self_admin")
		s.renderSSOForm(c, p, s.statusOf(err), f)
		return
	case errors.Is(err, staff.ErrInvalid):
		f.General = p.T("users.err.not_saved")
		s.renderSSOForm(c, p, s.statusOf(err), f)
		return
	default:
		s.fail(c, err)
		return
	}
	s.log.Info("oidc group mapping saved", "group_id", f.ID, "users_changed", len(changed), "users_revoked", len(revoked))
	redirect(c, "/admin/sso", "saved")
}

func (s *Server) ssoDeleteForm(c *gin.Context) {
	r, err := s.ssoParam(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	p := s.page(c, "sso.delete")
	p.Nav = "users"
	p.Data = map[string]any{"G": r}
	s.render(c, http.StatusOK, "sso_delete", p)
}

func (s *Server) ssoDelete(c *gin.Context) {
	ctx := c.Request.Context()
	me := currentUser(c)
	r, err := s.ssoParam(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	res, err := s.staff.DeleteOIDCGroup(ctx, me.ID, r)
	changed, revoked := res.Changed, res.Revoked
	if errors.Is(err, staff.ErrSelfAdmin) {
		p := s.page(c, "sso.delete")
		p.Nav = "users"
		p.Error = p.T("sso.err.self_admin")
		p.Data = map[string]any{"G": r}
		s.render(c, s.statusOf(err), "sso_delete", p)
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	s.log.Info("oidc group mapping deleted", "group_id", r.ID, "users_changed", len(changed), "users_revoked", len(revoked))
	redirect(c, "/admin/sso", "deleted")
}
