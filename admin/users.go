package admin

import (
	"context"
	"errors"
	"net/http"
	"net/mail"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"citybot/staff"
)

// deptRef is a department's id and name, for pickers.
type deptRef = staff.DeptRef

func (s *Server) departmentRefs(ctx context.Context) ([]deptRef, error) {
	return s.staff.DepartmentRefs(ctx)
}

func (s *Server) usersPage(c *gin.Context) {
	ctx := c.Request.Context()
	users, err := s.staff.ListUsers(ctx)
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

func userFormOf(u staff.User) userForm {
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
	u := staff.User{Principal: staff.Principal{Role: staff.RoleStaff, Language: s.cfg.DefaultLanguage}, Active: true}
	titleKey := "users.new"
	if idStr := c.Param("id"); idStr != "" {
		id, err := strconv.ParseInt(idStr, 10, 64)
		if err != nil {
			s.fail(c, ErrNotFound)
			return
		}
		if u, err = s.staff.GetUser(ctx, id); err != nil {
			s.fail(c, err)
			return
		}
		titleKey = "users.edit"
	}
	s.renderUserForm(c, s.page(c, titleKey), http.StatusOK, userFormOf(u), deps)
}

func (s *Server) renderUserForm(c *gin.Context, p *page, status int, f userForm, deps []deptRef) {
	p.Nav = "users"
	data := map[string]any{"F": f, "Departments": deps, "Roles": staff.Roles,
		"Summary": errorSummary(f.Errors, userFields)}
	if f.ID != 0 {
		ui, err := s.staff.UserAccess(c.Request.Context(), f.ID)
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
	case id != 0 && id == me && f.Role != staff.RoleAdmin:
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
		taken, err := s.staff.EmailTaken(ctx, f.Email)
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
	id, tok, expires, err := s.staff.CreateInvitedUser(ctx, me.ID, staff.NewUser{
		Email: f.Email, Name: f.Name, Role: f.Role, Language: f.Language, Departments: f.Departments,
	}, s.invitationLifetime())
	if err != nil {
		s.userSaveError(c, p, f, err)
		return
	}
	u, err := s.staff.GetUser(ctx, id)
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
	old, err := s.staff.GetUser(ctx, id)
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
	err = s.staff.UpdateUser(ctx, me.ID, staff.UserUpdate{ID: id, Name: f.Name, Role: f.Role, Language: f.Language,
		Active: f.Active, Departments: f.Departments, Password: password})
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
	switch {
	case errors.Is(err, staff.ErrExists): // the only unique key: the email address
		f.Errors["email"] = p.T("users.err.email_taken")
	case errors.Is(err, staff.ErrInvalid):
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
	s.renderUserForm(c, p, s.statusOf(err), f, deps)
}
