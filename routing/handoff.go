package routing

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
)

// Router ranks the departments for a handed-off question, best first (rules,
// the departments of the nearest FAQ candidates, department keywords). It may
// return unknown ids or none; Handoff falls back to the fallback department.
type Router interface {
	Rank(question string, candidates []Candidate) []string
}

// HandoffRequest is a question the bot hands to staff.
type HandoffRequest struct {
	CitizenID  int64
	Question   string      // the citizen's question ("" for a bare /mitarbeiter)
	Reason     string      // ReasonNoMatch, ReasonNotHelpful, ReasonNoSuggestionFit, ReasonPersonal, ReasonRequested
	Language   string      // "en", "en-GB", ... for English, else German
	Candidates []Candidate // the FAQ matcher's candidates, best first
	// Department, when set and known, is chosen first (e.g. the department
	// of a broadcast post the question is about); routing still offers
	// alternatives.
	Department string
}

// DepartmentChoice is a department as offered to the citizen.
type DepartmentChoice struct {
	ID   string
	Name string
}

// HandoffResult tells the bot what to say.
type HandoffResult struct {
	Case Case
	// AlreadyOpen: the citizen already had an open case; nothing new was
	// opened (the question was not added either: the bot adds the message).
	AlreadyOpen  bool
	Department   DepartmentChoice
	Open         bool // the department is open now
	Availability Availability
	// Message is the honest text for the citizen: which department has the
	// request, whether it is open, and when to expect a reply.
	Message string
	// Alternatives are a few other plausible departments for a "choose
	// another department" button (never the chosen one).
	Alternatives []DepartmentChoice
}

// HandoffOptions configure a Handoff.
type HandoffOptions struct {
	// MaxAlternatives offered to the citizen. Default 3.
	MaxAlternatives int
	// Now is the clock (tests). Default time.Now.
	Now func() time.Time
}

// Handoff opens cases for questions the FAQ cannot answer: it picks the
// department, opens the case and words the message about when staff answer.
type Handoff struct {
	cases  *Cases
	cal    *Calendar
	router Router
	opt    HandoffOptions
}

// NewHandoff returns a Handoff. A nil router sends everything to the
// fallback department.
func NewHandoff(cases *Cases, cal *Calendar, router Router, opt HandoffOptions) *Handoff {
	if opt.MaxAlternatives <= 0 {
		opt.MaxAlternatives = 3
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	return &Handoff{cases: cases, cal: cal, router: router, opt: opt}
}

type deptInfo struct {
	ID         string `db:"id"`
	Name       string `db:"name"`
	Hours      []byte `db:"office_hours"`
	IsFallback bool   `db:"is_fallback"`
}

func loadDepartments(ctx context.Context, q sqlx.QueryerContext) ([]deptInfo, error) {
	var ds []deptInfo
	if err := sqlx.SelectContext(ctx, q, &ds, `SELECT id, name, office_hours, is_fallback FROM departments ORDER BY is_fallback DESC, name`); err != nil {
		return nil, fmt.Errorf("list departments: %w", err)
	}
	if len(ds) == 0 {
		return nil, fmt.Errorf("no departments: %w", ErrInvalid)
	}
	return ds, nil
}

// Departments lists all departments for a "choose another department" list,
// by name.
func (h *Handoff) Departments(ctx context.Context) ([]DepartmentChoice, error) {
	var out []DepartmentChoice
	if err := sqlx.SelectContext(ctx, h.cases.q(), &out, `SELECT id AS "id", name AS "name" FROM departments ORDER BY name`); err != nil {
		return nil, fmt.Errorf("list departments: %w", err)
	}
	return out, nil
}

// rank returns the known departments for a question, best first, ending
// with the fallback department.
func (h *Handoff) rank(req HandoffRequest, ds []deptInfo) []deptInfo {
	byID := make(map[string]deptInfo, len(ds))
	for _, d := range ds {
		byID[d.ID] = d
	}
	var out []deptInfo
	seen := map[string]bool{}
	add := func(id string) {
		if d, ok := byID[id]; ok && !seen[id] {
			seen[id] = true
			out = append(out, d)
		}
	}
	add(req.Department)
	if h.router != nil {
		for _, id := range h.router.Rank(req.Question, req.Candidates) {
			add(id)
		}
	}
	for _, c := range req.Candidates {
		add(c.Department)
	}
	add(ds[0].ID) // the fallback (or, without one, the first by name)
	return out
}

// Start hands a question to the best department: it opens the case (in tx,
// when not nil: the bot's transaction of the inbound message) and returns
// what to tell the citizen. If the citizen already has an open case, it is
// returned with AlreadyOpen and a message about it.
func (h *Handoff) Start(ctx context.Context, tx *sqlx.Tx, req HandoffRequest) (HandoffResult, error) {
	cases := h.cases
	if tx != nil {
		cases = cases.WithTx(tx)
	}
	ds, err := loadDepartments(ctx, cases.q())
	if err != nil {
		return HandoffResult{}, err
	}
	ranked := h.rank(req, ds)
	if req.Reason == "" {
		req.Reason = ReasonNoMatch
	}
	c, err := cases.Open(ctx, req.CitizenID, ranked[0].ID, req.Reason, OpenOptions{Question: req.Question})
	already := false
	switch {
	case errors.Is(err, ErrCaseOpen):
		already = true
	case err != nil:
		return HandoffResult{}, err
	}
	var chosen deptInfo
	var alts []DepartmentChoice
	for _, d := range ranked {
		if d.ID == c.Department {
			chosen = d
		} else if len(alts) < h.opt.MaxAlternatives && !already {
			alts = append(alts, DepartmentChoice{ID: d.ID, Name: d.Name})
		}
	}
	if chosen.ID == "" { // an already open case elsewhere
		for _, d := range ds {
			if d.ID == c.Department {
				chosen = d
			}
		}
	}
	res := h.result(c, chosen, req.Language, already)
	res.Alternatives = alts
	return res, nil
}

// ChangeDepartment moves the citizen's open case to dept (the citizen chose
// another department) and returns the new message. In tx when not nil.
func (h *Handoff) ChangeDepartment(ctx context.Context, tx *sqlx.Tx, citizenID int64, dept, lang string) (HandoffResult, error) {
	cases := h.cases
	if tx != nil {
		cases = cases.WithTx(tx)
	}
	c, err := cases.ChangeDepartment(ctx, citizenID, dept)
	if err != nil {
		return HandoffResult{}, err
	}
	ds, err := loadDepartments(ctx, cases.q())
	if err != nil {
		return HandoffResult{}, err
	}
	var chosen deptInfo
	for _, d := range ds {
		if d.ID == c.Department {
			chosen = d
		}
	}
	return h.result(c, chosen, lang, false), nil
}

func (h *Handoff) result(c Case, d deptInfo, lang string, already bool) HandoffResult {
	now := h.opt.Now()
	hours, err := ParseWeekHours(d.Hours)
	if err != nil {
		hours = WeekHours{} // invalid stored hours: no promise
	}
	a := h.cal.Availability(hours, now)
	res := HandoffResult{
		Case:         c,
		AlreadyOpen:  already,
		Department:   DepartmentChoice{ID: d.ID, Name: d.Name},
		Open:         a.Open,
		Availability: a,
	}
	lead := handoffLead(d.Name, lang, c.ID, already)
	res.Message = lead + " " + a.Message(d.Name, lang, now)
	return res
}

// Propose ranks the departments for a question without opening a case: the
// bot asks the citizen before it opens one. The first is the department
// Start would choose (pass it as HandoffRequest.Department); at most
// MaxAlternatives others follow. In tx when not nil.
func (h *Handoff) Propose(ctx context.Context, tx *sqlx.Tx, req HandoffRequest) ([]DepartmentChoice, error) {
	var q sqlx.QueryerContext = h.cases.q()
	if tx != nil {
		q = tx
	}
	ds, err := loadDepartments(ctx, q)
	if err != nil {
		return nil, err
	}
	ranked := h.rank(req, ds)
	out := make([]DepartmentChoice, 0, min(len(ranked), h.opt.MaxAlternatives+1))
	for _, d := range ranked {
		if len(out) == h.opt.MaxAlternatives+1 {
			break
		}
		out = append(out, DepartmentChoice{ID: d.ID, Name: d.Name})
	}
	return out, nil
}

// Expectation words where the citizen's case c is and when its department
// answers ("Ihre Anfrage #12 liegt beim Tiefbauamt. Das Tiefbauamt ist
// gerade geöffnet; ..."), for a citizen who asks whether anybody answers.
func (h *Handoff) Expectation(ctx context.Context, tx *sqlx.Tx, c Case, lang string) (string, error) {
	var q sqlx.QueryerContext = h.cases.q()
	if tx != nil {
		q = tx
	}
	ds, err := loadDepartments(ctx, q)
	if err != nil {
		return "", err
	}
	d := deptInfo{ID: c.Department, Name: c.DepartmentName}
	for _, x := range ds {
		if x.ID == c.Department {
			d = x
		}
	}
	now := h.opt.Now()
	hours, err := ParseWeekHours(d.Hours)
	if err != nil {
		hours = WeekHours{}
	}
	a := h.cal.Availability(hours, now)
	short := shortName(d.Name, lang)
	if c.Status == CaseAnswered {
		return text(lang, "expectation.answered", office("subject", short, lang), c.ID), nil
	}
	return text(lang, "expectation.waiting", c.ID, office("at", short, lang), a.Message(d.Name, lang, now)), nil
}

// handoffLead is the first sentence: where the request is now.
// The case number (#12) is the reference staff see in the inbox too.
func handoffLead(name, lang string, caseID int64, already bool) string {
	short := shortName(name, lang)
	key := "handoff.new"
	if already {
		key = "handoff.already"
	}
	return text(lang, key, office("at", short, lang), office("to", short, lang), caseID)
}
