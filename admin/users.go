package admin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"citybot/internal/db"
)

// deptRef is a department's id and name, for pickers.
type deptRef struct {
	ID   string `db:"id"`
	Name string `db:"name"`
}

func (s *Server) departmentRefs(ctx context.Context) ([]deptRef, error) {
	var ds []deptRef
	if err := s.db.SelectContext(ctx, &ds, `SELECT id, name FROM departments ORDER BY name`); err != nil {
		return nil, fmt.Errorf("list departments: %w", err)
	}
	return ds, nil
}

type userRow struct {
	User
	Deps pq.StringArray `db:"departments"`
}

const userSelect = `SELECT u.id, u.email, u.name, u.role, u.active, u.language,
	COALESCE(ARRAY(SELECT ud.department_id FROM user_departments ud WHERE ud.user_id = u.id ORDER BY ud.department_id), '{}') AS departments
	FROM users u`

func (s *Server) listUsers(ctx context.Context) ([]User, error) {
	var rows []userRow
	if err := s.db.SelectContext(ctx, &rows, userSelect+` ORDER BY u.active DESC, u.name, u.id`); err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	out := make([]User, len(rows))
	for i, r := range rows {
		out[i] = r.User
		out[i].Departments = r.Deps
	}
	return out, nil
}

func (s *Server) getUser(ctx context.Context, id int64) (User, error) {
	var r userRow
	if err := s.db.GetContext(ctx, &r, userSelect+` WHERE u.id = $1`, id); err != nil {
		if db.IsNoRows(err) {
			return User{}, fmt.Errorf("user %d: %w", id, ErrNotFound)
		}
		return User{}, fmt.Errorf("get user: %w", err)
	}
	u := r.User
	u.Departments = r.Deps
	return u, nil
}

func (s *Server) usersPage(c *gin.Context) {
	ctx := c.Request.Context()
	users, err := s.listUsers(ctx)
	if err != nil {
		s.fail(c, err)
		return
	}
	p := s.page(c, "users.title")
	p.Nav = "users"
	p.Data = map[string]any{"Users": users}
	s.render(c, http.StatusOK, "users", p)
}

func (s *Server) userForm(c *gin.Context) {
	ctx := c.Request.Context()
	deps, err := s.departmentRefs(ctx)
	if err != nil {
		s.fail(c, err)
		return
	}
	u := User{Role: RoleStaff, Active: true, Language: s.cfg.DefaultLanguage}
	titleKey := "users.new"
	if idStr := c.Param("id"); idStr != "" {
		id, err := strconv.ParseInt(idStr, 10, 64)
		if err != nil {
			s.fail(c, ErrNotFound)
			return
		}
		if u, err = s.getUser(ctx, id); err != nil {
			s.fail(c, err)
			return
		}
		titleKey = "users.edit"
	}
	p := s.page(c, titleKey)
	p.Nav = "users"
	p.Data = map[string]any{"U": u, "Departments": deps, "Roles": []string{RoleStaff, RoleEditor, RoleAdmin}}
	s.render(c, http.StatusOK, "user_form", p)
}

func (s *Server) createUser(c *gin.Context) {
	ctx := c.Request.Context()
	me := currentUser(c)
	id, err := CreateUser(ctx, s.db, c.PostForm("email"), c.PostForm("name"), c.PostForm("password"), c.PostForm("role"), c.PostFormArray("departments"))
	if err != nil {
		s.formError(c, err)
		return
	}
	s.audit(ctx, me.ID, "user.create", "user", strconv.FormatInt(id, 10), map[string]any{
		"email": normalizeEmail(c.PostForm("email")), "role": c.PostForm("role"), "departments": c.PostFormArray("departments"),
	})
	redirect(c, "/admin/users", "saved")
}

func (s *Server) updateUser(c *gin.Context) {
	ctx := c.Request.Context()
	me := currentUser(c)
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		s.fail(c, ErrNotFound)
		return
	}
	name := strings.TrimSpace(c.PostForm("name"))
	role := c.PostForm("role")
	lang := c.PostForm("language")
	active := c.PostForm("active") == "on"
	deps := c.PostFormArray("departments")
	password := c.PostForm("password")
	if name == "" || !validRole(role) || !s.cat.has(lang) {
		s.formError(c, fmt.Errorf("%w: name, role or language", ErrInvalid))
		return
	}
	if id == me.ID && (role != RoleAdmin || !active) {
		s.formError(c, fmt.Errorf("%w: cannot demote or deactivate yourself", ErrInvalid))
		return
	}
	var hash string
	if password != "" {
		if hash, err = hashPassword(password); err != nil {
			s.formError(c, err)
			return
		}
	}
	err = db.InTx(ctx, s.db, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE users SET name = $2, role = $3, language = $4, active = $5,
			password_hash = CASE WHEN $6 = '' THEN password_hash ELSE $6 END, updated_at = now() WHERE id = $1`,
			id, name, role, lang, active, hash)
		if err != nil {
			return fmt.Errorf("update user: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("user %d: %w", id, ErrNotFound)
		}
		if err := setUserDepartments(ctx, tx, id, deps); err != nil {
			return err
		}
		if !active || hash != "" {
			if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = $1`, id); err != nil {
				return fmt.Errorf("end sessions: %w", err)
			}
		}
		return RecordAudit(ctx, tx, me.ID, "user.update", "user", strconv.FormatInt(id, 10), map[string]any{
			"role": role, "active": active, "departments": deps, "password_changed": hash != "",
		})
	})
	if err != nil {
		s.formError(c, err)
		return
	}
	redirect(c, "/admin/users", "saved")
}

// formError shows a validation problem on the previous page (PRG keeps the
// form simple: the message names the problem, the form is filled again by
// the browser's history) or fails for anything else.
func (s *Server) formError(c *gin.Context, err error) {
	if errors.Is(err, ErrInvalid) || errors.Is(err, ErrExists) || isDomainInvalid(err) {
		p := s.page(c, "error.invalid.title")
		msg := p.T("error.invalid")
		if errors.Is(err, ErrExists) {
			msg = p.T("error.conflict")
		}
		p.Data = map[string]any{"Status": s.statusOf(err), "Message": msg, "Detail": publicDetail(err)}
		s.render(c, s.statusOf(err), "error", p)
		return
	}
	s.fail(c, err)
}

// publicDetail is the detail of an admin validation error
// ("admin: invalid: <detail>"), written by this package for users; other
// errors give nothing (their text is never shown).
func publicDetail(err error) string {
	for _, sentinel := range []error{ErrInvalid, ErrExists} {
		if p := sentinel.Error() + ": "; strings.HasPrefix(err.Error(), p) {
			return strings.TrimPrefix(err.Error(), p)
		}
	}
	return ""
}
