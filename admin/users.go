package admin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/mail"
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

const userSelect = `SELECT u.id, u.email, u.name, u.role, u.active, u.language, u.must_change_password,
	(SELECT max(i.expires_at) FROM user_invitations i WHERE i.user_id = u.id AND i.used_at IS NULL AND i.revoked_at IS NULL AND i.expires_at > now()) AS invited_until,
	(u.password_hash = '!' AND EXISTS (SELECT 1 FROM user_invitations i WHERE i.user_id = u.id)) AS invite_pending,
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
	refs, err := s.departmentRefs(ctx)
	if err != nil {
		s.fail(c, err)
		return
	}
	names := make(map[string]string, len(refs))
	for _, d := range refs {
		names[d.ID] = d.Name
	}
	p := s.page(c, "users.title")
	p.Nav = "users"
	p.Data = map[string]any{"Users": users, "DeptNames": names}
	s.render(c, http.StatusOK, "users", p)
}

// userForm is the user form as typed (never the password), with its errors
// per field, already translated; General is a problem of the whole form.
type userForm struct {
	ID          int64 // 0: a new user
	Email       string
	Name        string
	Role        string
	Language    string
	Active      bool
	Departments []string
	Errors      map[string]string
	General     string
}

// userFields are the user form's fields in the order it shows them.
var userFields = []string{"email", "name", "password", "role", "language", "active", "departments"}

func userFormOf(u User) userForm {
	return userForm{ID: u.ID, Email: u.Email, Name: u.Name, Role: u.Role, Language: u.Language, Active: u.Active,
		Departments: u.Departments, Errors: map[string]string{}}
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
	s.renderUserForm(c, s.page(c, titleKey), http.StatusOK, userFormOf(u), deps)
}

func (s *Server) renderUserForm(c *gin.Context, p *page, status int, f userForm, deps []deptRef) {
	p.Nav = "users"
	data := map[string]any{"F": f, "Departments": deps, "Roles": []string{RoleStaff, RoleEditor, RoleAdmin},
		"Summary": errorSummary(f.Errors, userFields)}
	if f.ID != 0 {
		ui, err := s.userInvitation(c.Request.Context(), f.ID)
		if err != nil {
			s.fail(c, err)
			return
		}
		data["Access"] = ui
	}
	p.Data = data
	s.render(c, status, "user_form", p)
}

// readUserForm reads and checks the posted user form of user id (0: a new
// user) as the user me submits it; it returns the password apart (it is
// never shown again). Whether a new email address is taken is checked by
// the caller.
func (s *Server) readUserForm(c *gin.Context, p *page, deps []deptRef, id, me int64) (userForm, string) {
	f := userForm{
		ID:          id,
		Email:       strings.TrimSpace(c.PostForm("email")),
		Name:        strings.TrimSpace(c.PostForm("name")),
		Role:        c.PostForm("role"),
		Language:    c.PostForm("language"),
		Active:      c.PostForm("active") == "on",
		Departments: c.PostFormArray("departments"),
		Errors:      map[string]string{},
	}
	password := c.PostForm("password")
	if id == 0 {
		// A new user chooses their own password through an invitation link.
		password = ""
		if f.Language == "" {
			f.Language = s.cfg.DefaultLanguage
		}
		email := normalizeEmail(f.Email)
		switch a, err := mail.ParseAddress(email); {
		case email == "":
			f.Errors["email"] = p.T("users.err.email_empty")
		case err != nil || a.Address != email:
			f.Errors["email"] = p.T("users.err.email")
		}
	} else if password != "" {
		if msg := newPasswordError(p, password, f.Email, f.Name); msg != "" {
			f.Errors["password"] = msg
		}
	}
	if !s.cat.has(f.Language) {
		f.Errors["language"] = p.T("users.err.language")
	}
	if f.Name == "" {
		f.Errors["name"] = p.T("users.err.name")
	}
	switch {
	case !validRole(f.Role):
		f.Errors["role"] = p.T("users.err.role")
	case id != 0 && id == me && f.Role != RoleAdmin:
		f.Errors["role"] = p.T("users.err.self_role")
	}
	if id != 0 && id == me && !f.Active {
		f.Errors["active"] = p.T("users.err.self_active")
	}
	for _, d := range f.Departments {
		if !hasDept(deps, d) {
			f.Errors["departments"] = p.T("users.err.departments")
		}
	}
	return f, password
}

// emailTaken reports whether a user has the (normalized) email address.
func (s *Server) emailTaken(ctx context.Context, email string) (bool, error) {
	var taken bool
	if err := s.db.GetContext(ctx, &taken, `SELECT EXISTS (SELECT 1 FROM users WHERE email = $1)`, email); err != nil {
		return false, fmt.Errorf("check email: %w", err)
	}
	return taken, nil
}

func (s *Server) createUser(c *gin.Context) {
	ctx := c.Request.Context()
	me := currentUser(c)
	deps, err := s.departmentRefs(ctx)
	if err != nil {
		s.fail(c, err)
		return
	}
	p := s.page(c, "users.new")
	f, _ := s.readUserForm(c, p, deps, 0, me.ID)
	status := http.StatusBadRequest
	if _, bad := f.Errors["email"]; !bad {
		taken, err := s.emailTaken(ctx, normalizeEmail(f.Email))
		if err != nil {
			s.fail(c, err)
			return
		}
		if taken {
			f.Errors["email"] = p.T("users.err.email_taken")
			if len(f.Errors) == 1 {
				status = http.StatusConflict
			}
		}
	}
	if len(f.Errors) > 0 {
		s.renderUserForm(c, p, status, f, deps)
		return
	}
	id, tok, expires, err := s.createInvitedUser(ctx, me.ID, f)
	if err != nil {
		s.userSaveError(c, p, f, err)
		return
	}
	u, err := s.getUser(ctx, id)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.renderInvited(c, http.StatusCreated, u, tok, expires, true)
}

func (s *Server) updateUser(c *gin.Context) {
	ctx := c.Request.Context()
	me := currentUser(c)
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		s.fail(c, ErrNotFound)
		return
	}
	old, err := s.getUser(ctx, id)
	if err != nil {
		s.fail(c, err)
		return
	}
	deps, err := s.departmentRefs(ctx)
	if err != nil {
		s.fail(c, err)
		return
	}
	p := s.page(c, "users.edit")
	f, password := s.readUserForm(c, p, deps, id, me.ID)
	f.Email = old.Email
	if len(f.Errors) > 0 {
		s.renderUserForm(c, p, http.StatusBadRequest, f, deps)
		return
	}
	var hash string
	if password != "" {
		if hash, err = hashPassword(password); err != nil {
			s.userSaveError(c, p, f, err)
			return
		}
	}
	err = db.InTx(ctx, s.db, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE users SET name = $2, role = $3, language = $4, active = $5,
			password_hash = CASE WHEN $6 = '' THEN password_hash ELSE $6 END,
			must_change_password = CASE WHEN $6 = '' THEN must_change_password ELSE $7 END,
			updated_at = now() WHERE id = $1`,
			id, f.Name, f.Role, f.Language, f.Active, hash, id != me.ID)
		if err != nil {
			return fmt.Errorf("update user: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("user %d: %w", id, ErrNotFound)
		}
		if err := setUserDepartments(ctx, tx, id, f.Departments); err != nil {
			return err
		}
		if !f.Active || hash != "" {
			if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = $1`, id); err != nil {
				return fmt.Errorf("end sessions: %w", err)
			}
		}
		return RecordAudit(ctx, tx, me.ID, "user.update", "user", strconv.FormatInt(id, 10), map[string]any{
			"role": f.Role, "active": f.Active, "departments": f.Departments, "password_changed": hash != "",
			"must_change_password": hash != "" && id != me.ID,
		})
	})
	if err != nil {
		s.userSaveError(c, p, f, err)
		return
	}
	redirect(c, "/admin/users", "saved")
}

// userSaveError shows what the store refused although the form passed the
// checks (a department or the email address changed meanwhile) on the form;
// everything else fails the request. The error's text is only logged.
func (s *Server) userSaveError(c *gin.Context, p *page, f userForm, err error) {
	status := http.StatusBadRequest
	switch {
	case errors.Is(err, ErrExists): // the only unique key: the email address
		f.Errors["email"] = p.T("users.err.email_taken")
		status = http.StatusConflict
	case errors.Is(err, ErrInvalid):
		f.General = p.T("users.err.not_saved")
	default:
		s.fail(c, err)
		return
	}
	s.log.Info("user form refused", "err", err)
	deps, derr := s.departmentRefs(c.Request.Context())
	if derr != nil {
		s.fail(c, derr)
		return
	}
	s.renderUserForm(c, p, status, f, deps)
}
