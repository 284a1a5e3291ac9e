package admin

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"citybot/routing"
	"citybot/staff"
)

// Canned answers: the prepared reply texts of a department that staff insert
// in the inbox's reply box. Staff manage their own departments' answers,
// admins all. Isolation is in the queries (the routing.Cases methods take a
// Viewer): another department's answer is ErrNotFound, so 404. Every change
// is written to the audit log.

// maxCannedTitle is the length limit of a canned answer's title (as in
// routing).
const maxCannedTitle = 200

func (s *Server) routeCanned(authed *gin.RouterGroup) {
	g := authed.Group("/canned", s.requireRole(staff.RoleAdmin, staff.RoleStaff), s.needCases)
	g.GET("", s.cannedPage)
	g.GET("/new", s.cannedNewForm)
	g.POST("", s.cannedCreate)
	g.GET("/:id", s.cannedEditForm)
	g.POST("/:id", s.cannedUpdate)
	g.GET("/:id/delete", s.cannedDeleteForm)
	g.POST("/:id/delete", s.cannedDelete)
}

// cannedGroup is one department's canned answers on the list page.
type cannedGroup struct {
	Dept    deptRef
	Answers []cannedRow
}

// cannedRow is a canned answer with the start of its text.
type cannedRow struct {
	routing.CannedAnswer
	Preview string
}

// cannedPreviewLength is how much of a text the list shows.
const cannedPreviewLength = 160

func preview(text string, n int) string {
	text = strings.Join(strings.Fields(text), " ")
	if utf8.RuneCountInString(text) <= n {
		return text
	}
	r := []rune(text)
	return strings.TrimSpace(string(r[:n])) + " …"
}

func (s *Server) cannedPage(c *gin.Context) {
	ctx := c.Request.Context()
	u := currentUser(c)
	depts, err := s.visibleDepartments(ctx, u)
	if err != nil {
		s.fail(c, err)
		return
	}
	dept := c.Query("dept")
	if !hasDept(depts, dept) {
		dept = ""
	}
	list, err := s.deps.Cases.CannedAnswers(ctx, principalOf(u), dept)
	if err != nil {
		s.fail(c, err)
		return
	}
	var groups []cannedGroup
	for _, d := range depts {
		if dept != "" && d.ID != dept {
			continue
		}
		g := cannedGroup{Dept: d}
		for _, a := range list {
			if a.Department == d.ID {
				g.Answers = append(g.Answers, cannedRow{CannedAnswer: a, Preview: preview(a.Body, cannedPreviewLength)})
			}
		}
		groups = append(groups, g)
	}
	p := s.page(c, "canned.title")
	p.Nav = "canned"
	p.Data = map[string]any{"Groups": groups, "Departments": depts, "Dept": dept}
	s.render(c, http.StatusOK, "canned", p)
}

func hasDept(depts []deptRef, id string) bool {
	for _, d := range depts {
		if d.ID == id {
			return true
		}
	}
	return false
}

// cannedForm is the canned answer form as typed, with its errors per field
// (already translated; the template links them to the fields).
type cannedForm struct {
	ID         int64
	Department string
	Title      string
	Body       string
	Errors     map[string]string
}

// readCannedForm reads and checks the posted form against the departments
// the user may write to.
func readCannedForm(c *gin.Context, p *page, depts []deptRef) cannedForm {
	f := cannedForm{
		Department: strings.TrimSpace(c.PostForm("department")),
		Title:      strings.TrimSpace(c.PostForm("title")),
		Body:       strings.TrimSpace(strings.ReplaceAll(c.PostForm("body"), "\r\n", "\n")),
		Errors:     map[string]string{},
	}
	if !hasDept(depts, f.Department) {
		f.Errors["department"] = p.T("canned.err.department")
	}
	switch {
	case f.Title == "":
		f.Errors["title"] = p.T("canned.err.title_empty")
	case utf8.RuneCountInString(f.Title) > maxCannedTitle:
		f.Errors["title"] = p.T("canned.err.too_long", maxCannedTitle)
	}
	switch {
	case f.Body == "":
		f.Errors["body"] = p.T("canned.err.body_empty")
	case utf8.RuneCountInString(f.Body) > routing.MaxReplyLength:
		f.Errors["body"] = p.T("canned.err.too_long", routing.MaxReplyLength)
	}
	return f
}

func (s *Server) renderCannedForm(c *gin.Context, p *page, status int, f cannedForm, depts []deptRef) {
	p.Nav = "canned"
	if len(f.Errors) > 0 {
		p.Error = p.T("form.has_errors")
	}
	p.Data = map[string]any{"F": f, "Departments": depts, "MaxTitle": maxCannedTitle, "MaxBody": routing.MaxReplyLength}
	s.render(c, status, "canned_form", p)
}

// cannedParam is the canned answer of the :id parameter the user may see,
// else ErrNotFound.
func (s *Server) cannedParam(c *gin.Context) (routing.CannedAnswer, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return routing.CannedAnswer{}, errNotFound
	}
	return s.deps.Cases.CannedAnswer(c.Request.Context(), principalOf(currentUser(c)), id)
}

func (s *Server) cannedNewForm(c *gin.Context) {
	depts, err := s.visibleDepartments(c.Request.Context(), currentUser(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	f := cannedForm{Department: c.Query("dept")}
	if f.Department == "" && len(depts) == 1 {
		f.Department = depts[0].ID
	}
	s.renderCannedForm(c, s.page(c, "canned.new"), http.StatusOK, f, depts)
}

// cannedWithDepts loads the answer named by the id parameter (404 before
// anything else for another department's answer) and the departments the
// current user sees. On an error it has failed the request and reports false.
func (s *Server) cannedWithDepts(c *gin.Context) (routing.CannedAnswer, []deptRef, bool) {
	a, err := s.cannedParam(c)
	if err != nil {
		s.fail(c, err)
		return routing.CannedAnswer{}, nil, false
	}
	depts, err := s.visibleDepartments(c.Request.Context(), currentUser(c))
	if err != nil {
		s.fail(c, err)
		return routing.CannedAnswer{}, nil, false
	}
	return a, depts, true
}

func (s *Server) cannedEditForm(c *gin.Context) {
	a, depts, ok := s.cannedWithDepts(c)
	if !ok {
		return
	}
	f := cannedForm{ID: a.ID, Department: a.Department, Title: a.Title, Body: a.Body}
	s.renderCannedForm(c, s.page(c, "canned.edit"), http.StatusOK, f, depts)
}

func (s *Server) cannedCreate(c *gin.Context) {
	ctx := c.Request.Context()
	u := currentUser(c)
	depts, err := s.visibleDepartments(ctx, u)
	if err != nil {
		s.fail(c, err)
		return
	}
	p := s.page(c, "canned.new")
	f := readCannedForm(c, p, depts)
	if len(f.Errors) > 0 {
		s.renderCannedForm(c, p, http.StatusBadRequest, f, depts)
		return
	}
	a, err := s.deps.Cases.AddCannedAnswer(ctx, principalOf(u), routing.CannedAnswer{Department: f.Department, Title: f.Title, Body: f.Body})
	if err != nil {
		s.cannedSaveError(c, p, f, depts, err)
		return
	}
	redirect(c, "/canned?dept="+url.QueryEscape(a.Department), "saved")
}

func (s *Server) cannedUpdate(c *gin.Context) {
	ctx := c.Request.Context()
	u := currentUser(c)
	old, depts, ok := s.cannedWithDepts(c)
	if !ok {
		return
	}
	p := s.page(c, "canned.edit")
	f := readCannedForm(c, p, depts)
	f.ID = old.ID
	if len(f.Errors) > 0 {
		s.renderCannedForm(c, p, http.StatusBadRequest, f, depts)
		return
	}
	a := routing.CannedAnswer{ID: old.ID, Department: f.Department, Title: f.Title, Body: f.Body}
	if err := s.deps.Cases.UpdateCannedAnswer(ctx, principalOf(u), a); err != nil {
		s.cannedSaveError(c, p, f, depts, err)
		return
	}
	redirect(c, "/canned?dept="+url.QueryEscape(a.Department), "saved")
}

// cannedSaveError shows an answer the store refused as invalid (its
// department deleted meanwhile) on the form; not found, forbidden and
// everything else fail the request.
func (s *Server) cannedSaveError(c *gin.Context, p *page, f cannedForm, depts []deptRef, err error) {
	if !errors.Is(err, routing.ErrInvalid) {
		s.fail(c, err)
		return
	}
	s.log.Info("canned answer refused", "err", err)
	if f.Errors == nil {
		f.Errors = map[string]string{}
	}
	f.Errors["department"] = p.T("canned.err.department")
	s.renderCannedForm(c, p, s.statusOf(err), f, depts)
}

func (s *Server) cannedDeleteForm(c *gin.Context) {
	a, depts, ok := s.cannedWithDepts(c)
	if !ok {
		return
	}
	name := a.Department
	for _, d := range depts {
		if d.ID == a.Department {
			name = d.Name
		}
	}
	p := s.page(c, "canned.delete")
	p.Nav = "canned"
	p.Data = map[string]any{"A": a, "DeptName": name}
	s.render(c, http.StatusOK, "canned_delete", p)
}

func (s *Server) cannedDelete(c *gin.Context) {
	ctx := c.Request.Context()
	u := currentUser(c)
	a, err := s.cannedParam(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	if err := s.deps.Cases.DeleteCannedAnswer(ctx, principalOf(u), a.ID); err != nil {
		s.fail(c, err)
		return
	}
	redirect(c, "/canned?dept="+url.QueryEscape(a.Department), "deleted")
}
