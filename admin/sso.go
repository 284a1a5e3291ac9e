package admin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/gin-gonic/gin"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"citybot/internal/db"
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

const (
	maxOIDCGroupName = 256
	// maxOIDCUserGroups bounds what is kept of a token's group claim.
	maxOIDCUserGroups = 1000
)

// oidcGroupRow is one mapping as stored.
type oidcGroupRow struct {
	ID          int64          `db:"id"`
	Group       string         `db:"group_name"`
	Role        string         `db:"role"`
	Departments pq.StringArray `db:"departments"`
}

func (r oidcGroupRow) mapping() OIDCGroup {
	return OIDCGroup{Group: r.Group, Role: r.Role, Departments: r.Departments}
}

const oidcGroupSelect = `SELECT g.id, g.group_name, g.role,
	COALESCE(ARRAY(SELECT d.department_id FROM oidc_group_departments d WHERE d.group_id = g.id ORDER BY d.department_id), '{}') AS departments
	FROM oidc_groups g`

func listOIDCGroups(ctx context.Context, q sqlx.QueryerContext) ([]oidcGroupRow, error) {
	var rows []oidcGroupRow
	if err := sqlx.SelectContext(ctx, q, &rows, oidcGroupSelect+` ORDER BY lower(g.group_name), g.id`); err != nil {
		return nil, fmt.Errorf("list oidc groups: %w", err)
	}
	return rows, nil
}

func oidcMappings(rows []oidcGroupRow) []OIDCGroup {
	out := make([]OIDCGroup, len(rows))
	for i, r := range rows {
		out[i] = r.mapping()
	}
	return out
}

// seedOIDCGroups takes CITYBOT_OIDC_GROUPS over into the table when the
// mapping was never filled (once per database; any instance may do it).
// Departments the database does not know are left out (and logged).
func (s *Server) seedOIDCGroups(ctx context.Context) error {
	if s.oidcSeeded.Load() {
		return nil
	}
	err := db.InTx(ctx, s.db, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO oidc_mapping_state DEFAULT VALUES ON CONFLICT DO NOTHING`)
		if err != nil {
			return fmt.Errorf("mark oidc mapping: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			if len(s.cfg.OIDC.Groups) > 0 {
				s.log.Info("CITYBOT_OIDC_GROUPS ignored: the group mapping is edited on /admin/sso")
			}
			return nil
		}
		var taken []map[string]any
		for _, g := range s.cfg.OIDC.Groups {
			name := strings.TrimSpace(g.Group)
			if name == "" || len(name) > maxOIDCGroupName || !validRole(g.Role) {
				s.log.Warn("oidc group mapping left out", "group", truncate(name, 80))
				continue
			}
			var id int64
			if err := tx.GetContext(ctx, &id, `INSERT INTO oidc_groups (group_name, role) VALUES ($1, $2)
				ON CONFLICT (group_name) DO UPDATE SET role = EXCLUDED.role RETURNING id`, name, g.Role); err != nil {
				return fmt.Errorf("seed oidc group: %w", err)
			}
			var deps []string
			if err := tx.SelectContext(ctx, &deps, `INSERT INTO oidc_group_departments (group_id, department_id)
				SELECT $1, d.id FROM departments d WHERE d.id = ANY($2) ON CONFLICT DO NOTHING RETURNING department_id`,
				id, pq.StringArray(g.Departments)); err != nil {
				return fmt.Errorf("seed oidc group departments: %w", err)
			}
			if len(deps) != len(g.Departments) {
				s.log.Warn("oidc group mapping: unknown departments left out", "group", truncate(name, 80), "departments", g.Departments)
			}
			slices.Sort(deps)
			taken = append(taken, map[string]any{"group": name, "role": g.Role, "departments": deps})
		}
		if len(taken) == 0 {
			return nil
		}
		return RecordAudit(ctx, tx, 0, "oidc_group.import", "oidc_groups", "", map[string]any{"source": "CITYBOT_OIDC_GROUPS", "groups": taken})
	})
	if err != nil {
		return err
	}
	s.oidcSeeded.Store(true)
	return nil
}

// oidcUserGroups are the groups kept of a token's group claim.
func oidcUserGroups(groups []string) []string {
	out := make([]string, 0, min(len(groups), maxOIDCUserGroups))
	for _, g := range groups {
		if len(out) == maxOIDCUserGroups {
			break
		}
		if g != "" && len(g) <= maxOIDCGroupName && !slices.Contains(out, g) {
			out = append(out, strings.ToValidUTF8(strings.ReplaceAll(g, "\x00", ""), ""))
		}
	}
	return out
}

// errSelfAdmin: the change would take the acting admin's own admin role.
var errSelfAdmin = errors.New("admin: the change would end the acting admin's admin role")

// syncOIDCUsers applies the mapping in tx to every user who signed in
// through the provider, and returns the ids of those whose role or
// departments changed and of those who lost access. me is the acting admin:
// a change that would take their admin role is refused with errSelfAdmin.
func syncOIDCUsers(ctx context.Context, tx *sqlx.Tx, me int64) (changed, revoked []int64, err error) {
	rows, err := listOIDCGroups(ctx, tx)
	if err != nil {
		return nil, nil, err
	}
	mapping := oidcMappings(rows)
	var users []struct {
		ID     int64          `db:"id"`
		Role   string         `db:"role"`
		Groups pq.StringArray `db:"oidc_groups"`
		Deps   pq.StringArray `db:"departments"`
	}
	if err := tx.SelectContext(ctx, &users, `SELECT u.id, u.role, u.oidc_groups,
		COALESCE(ARRAY(SELECT ud.department_id FROM user_departments ud WHERE ud.user_id = u.id ORDER BY ud.department_id), '{}') AS departments
		FROM users u WHERE u.oidc_groups IS NOT NULL ORDER BY u.id FOR UPDATE`); err != nil {
		return nil, nil, fmt.Errorf("list oidc users: %w", err)
	}
	for _, u := range users {
		role, deps, aerr := oidcAccess([]string(u.Groups), mapping)
		lost := errors.Is(aerr, errOIDCNoGroup)
		if lost {
			role, deps = RoleStaff, nil
		}
		if u.ID == me && role != RoleAdmin {
			return nil, nil, errSelfAdmin
		}
		if role == u.Role && slices.Equal(deps, []string(u.Deps)) && !lost {
			continue
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET role = $2, updated_at = now() WHERE id = $1`, u.ID, role); err != nil {
			return nil, nil, fmt.Errorf("update oidc user: %w", err)
		}
		if err := setUserDepartments(ctx, tx, u.ID, deps); err != nil {
			return nil, nil, err
		}
		if lost {
			if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = $1`, u.ID); err != nil {
				return nil, nil, fmt.Errorf("end sessions: %w", err)
			}
			revoked = append(revoked, u.ID)
			continue
		}
		changed = append(changed, u.ID)
	}
	return changed, revoked, nil
}

// lockOIDCMapping serialises changes of the mapping with each other and
// with sign-ins (which hold the row FOR SHARE while they write the user).
func lockOIDCMapping(ctx context.Context, tx *sqlx.Tx) error {
	if _, err := tx.ExecContext(ctx, `SELECT 1 FROM oidc_mapping_state FOR UPDATE`); err != nil {
		return fmt.Errorf("lock oidc mapping: %w", err)
	}
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
	rows, err := listOIDCGroups(ctx, s.db)
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
	var users int
	if err := s.db.GetContext(ctx, &users, `SELECT count(*) FROM users WHERE oidc_groups IS NOT NULL`); err != nil {
		s.fail(c, fmt.Errorf("count oidc users: %w", err))
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
func (s *Server) ssoParam(c *gin.Context) (oidcGroupRow, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return oidcGroupRow{}, errNotFound
	}
	var r oidcGroupRow
	if err := s.db.GetContext(c.Request.Context(), &r, oidcGroupSelect+` WHERE g.id = $1`, id); err != nil {
		if db.IsNoRows(err) {
			return oidcGroupRow{}, errNotFound
		}
		return oidcGroupRow{}, fmt.Errorf("get oidc group: %w", err)
	}
	return r, nil
}

func (s *Server) ssoNewForm(c *gin.Context) {
	if err := s.seedOIDCGroups(c.Request.Context()); err != nil {
		s.fail(c, err)
		return
	}
	s.renderSSOForm(c, s.page(c, "sso.new"), http.StatusOK, ssoForm{Role: RoleStaff, Errors: map[string]string{}})
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
	p.Data = map[string]any{"F": f, "Departments": deps, "Roles": []string{RoleStaff, RoleEditor, RoleAdmin},
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
	var old oidcGroupRow
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
	case len(f.Group) > maxOIDCGroupName || strings.ContainsFunc(f.Group, unicode.IsControl):
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
	var changed, revoked []int64
	err = db.InTx(ctx, s.db, func(tx *sqlx.Tx) error {
		if err := lockOIDCMapping(ctx, tx); err != nil {
			return err
		}
		id := f.ID
		if id == 0 {
			if err := tx.GetContext(ctx, &id, `INSERT INTO oidc_groups (group_name, role) VALUES ($1, $2) RETURNING id`, f.Group, f.Role); err != nil {
				if db.IsUniqueViolation(err) {
					return fmt.Errorf("%w: group %q", ErrExists, f.Group)
				}
				return fmt.Errorf("insert oidc group: %w", err)
			}
		} else {
			res, err := tx.ExecContext(ctx, `UPDATE oidc_groups SET group_name = $2, role = $3, updated_at = now() WHERE id = $1`, id, f.Group, f.Role)
			if err != nil {
				if db.IsUniqueViolation(err) {
					return fmt.Errorf("%w: group %q", ErrExists, f.Group)
				}
				return fmt.Errorf("update oidc group: %w", err)
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return errNotFound
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM oidc_group_departments WHERE group_id = $1`, id); err != nil {
				return fmt.Errorf("clear oidc group departments: %w", err)
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO oidc_group_departments (group_id, department_id) SELECT $1, unnest($2::text[])`,
			id, pq.StringArray(f.Departments)); err != nil {
			if db.IsForeignKeyViolation(err) {
				return fmt.Errorf("%w: unknown department", ErrInvalid)
			}
			return fmt.Errorf("insert oidc group departments: %w", err)
		}
		var err error
		if changed, revoked, err = syncOIDCUsers(ctx, tx, me.ID); err != nil {
			return err
		}
		action, details := "oidc_group.create", map[string]any{"group": f.Group, "role": f.Role, "departments": f.Departments}
		if f.ID != 0 {
			action = "oidc_group.update"
			details["before"] = map[string]any{"group": old.Group, "role": old.Role, "departments": []string(old.Departments)}
		}
		details["users_changed"], details["users_revoked"] = changed, revoked
		f.ID = id
		return RecordAudit(ctx, tx, me.ID, action, "oidc_group", strconv.FormatInt(id, 10), details)
	})
	switch {
	case err == nil:
	case errors.Is(err, ErrExists):
		f.Errors["group"] = p.T("sso.err.group_taken")
		s.renderSSOForm(c, p, http.StatusConflict, f)
		return
	case errors.Is(err, errSelfAdmin):
		f.General = p.T("sso.err.self_admin")
		s.renderSSOForm(c, p, http.StatusConflict, f)
		return
	case errors.Is(err, ErrInvalid):
		f.General = p.T("users.err.not_saved")
		s.renderSSOForm(c, p, http.StatusBadRequest, f)
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
	var changed, revoked []int64
	err = db.InTx(ctx, s.db, func(tx *sqlx.Tx) error {
		if err := lockOIDCMapping(ctx, tx); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM oidc_groups WHERE id = $1`, r.ID)
		if err != nil {
			return fmt.Errorf("delete oidc group: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errNotFound
		}
		if changed, revoked, err = syncOIDCUsers(ctx, tx, me.ID); err != nil {
			return err
		}
		return RecordAudit(ctx, tx, me.ID, "oidc_group.delete", "oidc_group", strconv.FormatInt(r.ID, 10), map[string]any{
			"group": r.Group, "role": r.Role, "departments": []string(r.Departments),
			"users_changed": changed, "users_revoked": revoked,
		})
	})
	if errors.Is(err, errSelfAdmin) {
		p := s.page(c, "sso.delete")
		p.Nav = "users"
		p.Error = p.T("sso.err.self_admin")
		p.Data = map[string]any{"G": r}
		s.render(c, http.StatusConflict, "sso_delete", p)
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	s.log.Info("oidc group mapping deleted", "group_id", r.ID, "users_changed", len(changed), "users_revoked", len(revoked))
	redirect(c, "/admin/sso", "deleted")
}
