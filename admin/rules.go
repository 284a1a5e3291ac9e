package admin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"citybot/faq"
	"citybot/internal/german"
	"citybot/routing"
)

// Routing rules (admins only): list, create, edit, switch on and off,
// delete after a confirmation, and a test box that shows which department
// routing would pick for a question. Deps.Rules (routing.RuleStore) stores
// them; a trigger on routing_rules NOTIFYs routing_changed, so every
// instance's router reloads (routing.LiveRouter.Run). Every change is written to the audit log
// by the store, in the change's transaction.

// routeRouting registers the routing rules under adm (/admin, admins) and
// the canned answers under authed (admin/canned.go).
func (s *Server) routeRouting(adm, authed *gin.RouterGroup) {
	r := adm.Group("/rules", s.needRules)
	r.GET("", s.rulesPage)
	r.GET("/new", s.ruleNewForm)
	r.POST("", s.ruleCreate)
	r.GET("/:id", s.ruleEditForm)
	r.POST("/:id", s.ruleUpdate)
	r.POST("/:id/active", s.ruleSetActive)
	r.GET("/:id/delete", s.ruleDeleteForm)
	r.POST("/:id/delete", s.ruleDelete)
	s.routeCanned(authed)
}

func (s *Server) needRules(c *gin.Context) {
	if s.deps.Rules == nil {
		s.fail(c, errNoService)
		return
	}
	c.Next()
}

// ruleForm is the rule form as typed, with its errors per field (already
// translated; the template links them to the fields).
type ruleForm struct {
	ID         int64
	Pattern    string
	Department string
	Priority   string
	Active     bool
	Errors     map[string]string
}

func ruleFormOf(r routing.RuleRecord) ruleForm {
	return ruleForm{ID: r.ID, Pattern: r.Pattern, Department: r.Department, Priority: strconv.Itoa(r.Priority), Active: r.Active}
}

// readRuleForm reads and checks the posted form; the rule is valid when
// f.Errors is empty.
func readRuleForm(c *gin.Context, p *page, depts []deptRef) (ruleForm, routing.Rule) {
	f := ruleForm{
		Pattern:    strings.Join(strings.Fields(c.PostForm("pattern")), " "),
		Department: strings.TrimSpace(c.PostForm("department")),
		Priority:   strings.TrimSpace(c.PostForm("priority")),
		Active:     c.PostForm("active") != "",
		Errors:     map[string]string{},
	}
	r := routing.Rule{Pattern: f.Pattern, Department: f.Department}
	switch {
	case f.Pattern == "":
		f.Errors["pattern"] = p.T("rules.err.pattern_empty")
	case utf8.RuneCountInString(f.Pattern) > routing.MaxRulePatternLength:
		f.Errors["pattern"] = p.T("rules.err.pattern_long", routing.MaxRulePatternLength)
	case onlyStopwords(f.Pattern):
		f.Errors["pattern"] = p.T("rules.err.pattern_stopwords")
	}
	if f.Priority == "" {
		f.Priority = "0"
	}
	n, err := strconv.Atoi(f.Priority)
	switch {
	case err != nil:
		f.Errors["priority"] = p.T("rules.err.priority_number")
	case n < -routing.MaxRulePriority || n > routing.MaxRulePriority:
		f.Errors["priority"] = p.T("rules.err.priority_range", -routing.MaxRulePriority, routing.MaxRulePriority)
	default:
		r.Priority = n
	}
	known := false
	for _, d := range depts {
		known = known || d.ID == f.Department
	}
	if !known {
		f.Errors["department"] = p.T("rules.err.department")
	}
	return f, r
}

// onlyStopwords: a pattern of filler words only ("wie kann ich") never
// matches (the classifier drops it), so it is refused.
func onlyStopwords(pattern string) bool {
	for _, t := range german.Tokens(pattern) {
		if !german.IsStopword(t) {
			return false
		}
	}
	return true
}

// ruleTest is the result of the test box.
type ruleTest struct {
	Question string
	Picked   string // department id
	Fallback bool   // nothing was convincing: the fallback department
	Rule     *routing.RuleRecord
	Scores   []routing.DeptScore
}

func (s *Server) rulesPage(c *gin.Context) {
	ctx := c.Request.Context()
	rules, err := s.deps.Rules.List(ctx)
	if err != nil {
		s.fail(c, err)
		return
	}
	depts, err := s.departmentRefs(ctx)
	if err != nil {
		s.fail(c, err)
		return
	}
	names := map[string]string{}
	for _, d := range depts {
		names[d.ID] = d.Name
	}
	p := s.page(c, "rules.title")
	p.Nav = "rules"
	data := map[string]any{"Rules": rules, "Names": names}
	if q := strings.TrimSpace(c.Query("q")); q != "" {
		if utf8.RuneCountInString(q) > routing.MaxReplyLength {
			s.fail(c, fmt.Errorf("%w: question too long", ErrInvalid))
			return
		}
		cl, err := routing.LoadClassifier(ctx, s.db, s.routingFAQ())
		if err != nil {
			s.fail(c, err)
			return
		}
		t := ruleTest{Question: q, Scores: cl.Scores(q, nil)}
		if ranked := cl.Rank(q, nil); len(ranked) > 0 {
			t.Picked = ranked[0]
		}
		t.Fallback = len(t.Scores) == 0 || t.Scores[0].Department != t.Picked
		if !t.Fallback && t.Scores[0].Rule != 0 {
			for i := range rules {
				if rules[i].ID == t.Scores[0].Rule {
					t.Rule = &rules[i]
				}
			}
		}
		data["Test"] = t
	}
	p.Data = data
	s.render(c, http.StatusOK, "rules", p)
}

func (s *Server) renderRuleForm(c *gin.Context, p *page, status int, f ruleForm, depts []deptRef) {
	p.Nav = "rules"
	if len(f.Errors) > 0 {
		p.Error = p.T("form.has_errors")
	}
	p.Data = map[string]any{"F": f, "Departments": depts, "MaxPattern": routing.MaxRulePatternLength, "MinPriority": -routing.MaxRulePriority, "MaxPriority": routing.MaxRulePriority}
	s.render(c, status, "rules_form", p)
}

func (s *Server) ruleNewForm(c *gin.Context) {
	depts, err := s.departmentRefs(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return
	}
	f := ruleForm{Department: c.Query("department"), Priority: "0", Active: true}
	s.renderRuleForm(c, s.page(c, "rules.new"), http.StatusOK, f, depts)
}

// ruleParam is the rule of the :id parameter, or ErrNotFound.
func (s *Server) ruleParam(c *gin.Context) (routing.RuleRecord, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return routing.RuleRecord{}, errNotFound
	}
	return s.deps.Rules.Get(c.Request.Context(), id)
}

// ruleWithDepts loads the rule named by the id parameter and the
// departments. On an error it has failed the request and reports false.
func (s *Server) ruleWithDepts(c *gin.Context) (routing.RuleRecord, []deptRef, bool) {
	r, err := s.ruleParam(c)
	if err != nil {
		s.fail(c, err)
		return routing.RuleRecord{}, nil, false
	}
	depts, err := s.departmentRefs(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return routing.RuleRecord{}, nil, false
	}
	return r, depts, true
}

func (s *Server) ruleEditForm(c *gin.Context) {
	r, depts, ok := s.ruleWithDepts(c)
	if !ok {
		return
	}
	s.renderRuleForm(c, s.page(c, "rules.edit"), http.StatusOK, ruleFormOf(r), depts)
}

func (s *Server) ruleCreate(c *gin.Context) {
	ctx := c.Request.Context()
	depts, err := s.departmentRefs(ctx)
	if err != nil {
		s.fail(c, err)
		return
	}
	p := s.page(c, "rules.new")
	f, r := readRuleForm(c, p, depts)
	if len(f.Errors) > 0 {
		s.renderRuleForm(c, p, http.StatusBadRequest, f, depts)
		return
	}
	if _, err := s.deps.Rules.Create(ctx, principalOf(currentUser(c)), r, f.Active); err != nil {
		s.ruleSaveError(c, p, f, depts, err)
		return
	}
	redirect(c, "/admin/rules", "saved")
}

func (s *Server) ruleUpdate(c *gin.Context) {
	ctx := c.Request.Context()
	old, depts, ok := s.ruleWithDepts(c)
	if !ok {
		return
	}
	p := s.page(c, "rules.edit")
	f, r := readRuleForm(c, p, depts)
	f.ID, r.ID = old.ID, old.ID
	if len(f.Errors) > 0 {
		s.renderRuleForm(c, p, http.StatusBadRequest, f, depts)
		return
	}
	if err := s.deps.Rules.Update(ctx, principalOf(currentUser(c)), r, f.Active); err != nil {
		s.ruleSaveError(c, p, f, depts, err)
		return
	}
	redirect(c, "/admin/rules", "saved")
}

// ruleSaveError shows a rule the store refused on the form: after the
// checks of readRuleForm that is a department deleted meanwhile. Other
// errors fail the request.
func (s *Server) ruleSaveError(c *gin.Context, p *page, f ruleForm, depts []deptRef, err error) {
	if !errors.Is(err, routing.ErrInvalid) {
		s.fail(c, err)
		return
	}
	s.log.Info("routing rule refused", "err", err)
	if f.Errors == nil {
		f.Errors = map[string]string{}
	}
	f.Errors["department"] = p.T("rules.err.department")
	s.renderRuleForm(c, p, s.statusOf(err), f, depts)
}

func (s *Server) ruleSetActive(c *gin.Context) {
	ctx := c.Request.Context()
	r, err := s.ruleParam(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	var active bool
	switch c.PostForm("active") {
	case "true":
		active = true
	case "false":
	default:
		s.fail(c, fmt.Errorf("%w: active must be true or false", ErrInvalid))
		return
	}
	if err := s.deps.Rules.SetActive(ctx, principalOf(currentUser(c)), r.ID, active); err != nil {
		s.fail(c, err)
		return
	}
	notice := "deactivated"
	if active {
		notice = "activated"
	}
	redirect(c, "/admin/rules", notice)
}

func (s *Server) ruleDeleteForm(c *gin.Context) {
	r, err := s.ruleParam(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	p := s.page(c, "rules.delete")
	p.Nav = "rules"
	p.Data = map[string]any{"R": r}
	s.render(c, http.StatusOK, "rules_delete", p)
}

func (s *Server) ruleDelete(c *gin.Context) {
	ctx := c.Request.Context()
	r, err := s.ruleParam(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	if err := s.deps.Rules.Delete(ctx, principalOf(currentUser(c)), r.ID); err != nil {
		s.fail(c, err)
		return
	}
	redirect(c, "/admin/rules", "deleted")
}

// routingFAQ gives routing's classifier the published FAQ entries (routing
// does not import faq).
func (s *Server) routingFAQ() routing.FAQSource {
	return routing.FAQFunc(func(ctx context.Context) ([]routing.FAQEntry, error) {
		es, err := s.faqStore().Entries(ctx, faq.StatusPublished)
		if err != nil {
			return nil, err
		}
		out := make([]routing.FAQEntry, len(es))
		for i, e := range es {
			out[i] = routing.FAQEntry{Department: e.Department, Question: e.Question, Variants: e.Variants, Tags: e.Tags}
		}
		return out, nil
	})
}
