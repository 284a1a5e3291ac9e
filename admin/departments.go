package admin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/mail"
	"regexp"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"citybot/routing"
	"citybot/staff"
)

// department is a department as the admin page edits it.
type department struct{ staff.Department }

// dayHours is one weekday's office hours as text ("08:00-12:00, 14:00-16:00").
type dayHours struct {
	Day  int
	Text string
}

func (d department) Days() []dayHours {
	w, _ := routing.ParseWeekHours(d.OfficeHours)
	out := make([]dayHours, 7)
	for i := range out {
		day := i + 1
		var parts []string
		for _, s := range w[day] {
			parts = append(parts, s[0]+"-"+s[1])
		}
		out[i] = dayHours{Day: day, Text: strings.Join(parts, ", ")}
	}
	return out
}

func (s *Server) departmentsPage(c *gin.Context) {
	list, err := s.staff.ListDepartments(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return
	}
	ds := make([]department, len(list))
	for i, d := range list {
		ds[i] = department{d}
	}
	p := s.page(c, "departments.title")
	p.Nav = "departments"
	p.Data = map[string]any{"Departments": ds}
	s.render(c, http.StatusOK, "departments", p)
}

func (s *Server) getDepartment(ctx context.Context, id string) (department, error) {
	d, err := s.staff.GetDepartment(ctx, id)
	return department{d}, err
}

// deptForm is the department form as typed, with its errors per field,
// already translated; General is a problem of the whole form.
type deptForm struct {
	New         bool // creating a department: the id is chosen
	ID          string
	StoredName  string // the name as saved, for the heading
	Name        string
	Description string
	Keywords    string
	Email       string
	Phone       string
	Address     string
	Days        []dayHours
	Retention   string
	// FieldRetention: days closed field reports are kept.
	FieldRetention string
	Target         string // answer target in office hours
	Errors         map[string]string
	General        string
}

// deptFields are the department form's fields in the order it shows them.
var deptFields = []string{"name", "description", "keywords", "email", "phone", "address",
	"hours_1", "hours_2", "hours_3", "hours_4", "hours_5", "hours_6", "hours_7", "answer_target", "retention_days", "field_retention_days"}

// maxRetentionDays bounds the retention a department may set (100 years).
const maxRetentionDays = 36500

func deptFormOf(d department) deptForm {
	f := deptForm{ID: d.ID, StoredName: d.Name, Name: d.Name, Description: d.Description, Keywords: strings.Join(d.Keywords, ", "),
		Email: d.Email, Phone: d.Phone, Address: d.Address, Days: d.Days(), Errors: map[string]string{},
		Target: strconv.FormatFloat(float64(d.TargetMinutes)/60, 'f', -1, 64), FieldRetention: strconv.Itoa(d.FieldRetentionDays)}
	if d.RetentionDays != nil {
		f.Retention = strconv.Itoa(*d.RetentionDays)
	}
	return f
}

func (s *Server) departmentForm(c *gin.Context) {
	d, err := s.getDepartment(c.Request.Context(), c.Param("id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	s.renderDepartmentForm(c, s.page(c, "departments.edit"), http.StatusOK, deptFormOf(d))
}

func (s *Server) renderDepartmentForm(c *gin.Context, p *page, status int, f deptForm) {
	p.Nav = "departments"
	fields := deptFields
	if f.New {
		fields = append([]string{"id"}, deptFields...)
	}
	summary := errorSummary(f.Errors, fields)
	for i, e := range summary {
		// Seven fields share their messages: the summary says which day.
		if day, ok := strings.CutPrefix(e.Field, "hours_"); ok {
			summary[i].Message = p.T("weekday."+day) + ": " + e.Message
		}
	}
	global := routing.DefaultRetentionDays
	if g, ok := s.deps.Cases.(interface {
		GlobalRetentionDays(context.Context) (int, error)
	}); ok {
		if n, err := g.GlobalRetentionDays(c.Request.Context()); err == nil {
			global = n
		}
	}
	p.Data = map[string]any{"F": f, "Summary": summary, "MaxRetention": maxRetentionDays, "DefaultRetention": global}
	s.render(c, status, "department_form", p)
}

// deptInput is a checked department form, ready to store.
type deptInput struct {
	Name, Description, Email, Phone, Address string
	Keywords                                 []string
	Hours                                    routing.WeekHours
	Retention                                *int
	TargetMinutes                            int
	FieldRetention                           int
}

// store is the input as staff stores it.
func (in deptInput) store() staff.DepartmentInput {
	return staff.DepartmentInput{Name: in.Name, Description: in.Description, Email: in.Email, Phone: in.Phone,
		Address: in.Address, Keywords: in.Keywords, OfficeHours: in.Hours.JSON(), Retention: in.Retention, TargetMinutes: in.TargetMinutes,
		FieldRetention: in.FieldRetention}
}

// phoneRe are the characters of a phone number as people write it.
var phoneRe = regexp.MustCompile(`^[0-9+()/. -]+$`)

// readDepartmentForm reads and checks the posted department form.
func readDepartmentForm(c *gin.Context, p *page, old department) (deptForm, deptInput) {
	f := deptForm{
		ID:             old.ID,
		StoredName:     old.Name,
		Name:           strings.TrimSpace(c.PostForm("name")),
		Description:    strings.TrimSpace(c.PostForm("description")),
		Keywords:       strings.TrimSpace(c.PostForm("keywords")),
		Email:          strings.TrimSpace(c.PostForm("email")),
		Phone:          strings.TrimSpace(c.PostForm("phone")),
		Address:        strings.TrimSpace(c.PostForm("address")),
		Retention:      strings.TrimSpace(c.PostForm("retention_days")),
		Target:         strings.TrimSpace(c.PostForm("answer_target")),
		FieldRetention: strings.TrimSpace(c.PostForm("field_retention_days")),
		Errors:         map[string]string{},
	}
	// Keywords not nil: pq sends a nil array as NULL, the column is NOT NULL.
	in := deptInput{Name: f.Name, Description: f.Description, Email: f.Email, Phone: f.Phone, Address: f.Address,
		Keywords: []string{}, Hours: routing.WeekHours{}}
	if f.Name == "" {
		f.Errors["name"] = p.T("departments.err.name")
	}
	if f.Email != "" {
		if a, err := mail.ParseAddress(f.Email); err != nil || a.Address != f.Email {
			f.Errors["email"] = p.T("departments.err.email")
		}
	}
	if f.Phone != "" && (!phoneRe.MatchString(f.Phone) || countDigits(f.Phone) < 3) {
		f.Errors["phone"] = p.T("departments.err.phone")
	}
	for day := 1; day <= 7; day++ {
		text := strings.TrimSpace(c.PostForm("hours_" + strconv.Itoa(day)))
		f.Days = append(f.Days, dayHours{Day: day, Text: text})
		spans, msg := parseDayHours(p, text)
		if msg != "" {
			f.Errors["hours_"+strconv.Itoa(day)] = msg
			continue
		}
		if len(spans) > 0 {
			in.Hours[day] = spans
		}
	}
	in.TargetMinutes = 240
	if f.Target != "" {
		h, err := strconv.ParseFloat(strings.Replace(f.Target, ",", ".", 1), 64)
		if err != nil || h < 0.25 || h > 500 {
			f.Errors["answer_target"] = p.T("departments.err.target")
		} else {
			in.TargetMinutes = int(h*60 + 0.5)
		}
	}
	if f.Retention != "" {
		n, err := strconv.Atoi(f.Retention)
		if err != nil || n < 1 || n > maxRetentionDays {
			f.Errors["retention_days"] = p.T("departments.err.retention", 1, maxRetentionDays)
		} else {
			in.Retention = &n
		}
	}
	in.FieldRetention = 90
	if f.FieldRetention != "" {
		n, err := strconv.Atoi(f.FieldRetention)
		if err != nil || n < 1 || n > 3650 {
			f.Errors["field_retention_days"] = p.T("dept.field_retention_invalid")
		} else {
			in.FieldRetention = n
		}
	}
	for _, k := range strings.Split(f.Keywords, ",") {
		if k = strings.TrimSpace(k); k != "" {
			in.Keywords = append(in.Keywords, k)
		}
	}
	if len(f.Errors) == 0 && in.Hours.Validate() != nil {
		// parseDayHours checks what Validate does; this is a safety net.
		f.General = p.T("departments.err.hours")
	}
	return f, in
}

func countDigits(s string) int {
	n := 0
	for _, r := range s {
		if r >= '0' && r <= '9' {
			n++
		}
	}
	return n
}

// parseDayHours reads one weekday's office hours, "08:00-12:00, 14:00-16:00",
// and checks them as routing.WeekHours.Validate does; the message says what
// is wrong ("" when nothing is).
func parseDayHours(p *page, text string) ([]routing.Span, string) {
	var out []routing.Span
	prevEnd := -1
	for _, part := range strings.FieldsFunc(text, func(r rune) bool { return r == ',' || r == ';' }) {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		from, to, ok := strings.Cut(part, "-")
		if !ok {
			from, to, ok = strings.Cut(part, "–")
		}
		from, to = strings.TrimSpace(from), strings.TrimSpace(to)
		fm, ferr := clockMinutes(from)
		tm, terr := clockMinutes(to)
		if !ok || ferr != nil || terr != nil {
			return nil, p.T("departments.err.hours_format", part)
		}
		if fm >= tm {
			return nil, p.T("departments.err.hours_order", from+"-"+to)
		}
		if fm < prevEnd {
			return nil, p.T("departments.err.hours_overlap")
		}
		prevEnd = tm
		out = append(out, routing.Span{from, to})
	}
	return out, ""
}

// clockMinutes turns "HH:MM" into minutes after midnight (0..1440), as
// routing accepts it.
func clockMinutes(s string) (int, error) {
	var h, m int
	if len(s) < 4 || len(s) > 5 {
		return 0, ErrInvalid
	}
	if _, err := fmt.Sscanf(s, "%d:%d", &h, &m); err != nil || m < 0 || m > 59 || h < 0 || h > 24 || (h == 24 && m != 0) {
		return 0, ErrInvalid
	}
	return h*60 + m, nil
}

func (s *Server) updateDepartment(c *gin.Context) {
	ctx := c.Request.Context()
	id := c.Param("id")
	old, err := s.getDepartment(ctx, id)
	if err != nil {
		s.fail(c, err)
		return
	}
	p := s.page(c, "departments.edit")
	f, in := readDepartmentForm(c, p, old)
	if len(f.Errors) > 0 || f.General != "" {
		s.renderDepartmentForm(c, p, http.StatusBadRequest, f)
		return
	}
	if err := s.staff.UpdateDepartment(ctx, currentUser(c).ID, id, in.store()); err != nil {
		s.fail(c, err)
		return
	}
	redirect(c, "/admin/departments", "saved")
}

// deptIDRe is a department id as the database accepts it.
var deptIDRe = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

func (s *Server) newDepartmentForm(c *gin.Context) {
	f := deptForm{New: true, Days: department{}.Days(), Errors: map[string]string{}, Target: "4"}
	s.renderDepartmentForm(c, s.page(c, "departments.new"), http.StatusOK, f)
}

func (s *Server) createDepartment(c *gin.Context) {
	ctx := c.Request.Context()
	p := s.page(c, "departments.new")
	f, in := readDepartmentForm(c, p, department{})
	f.New = true
	f.ID = strings.TrimSpace(c.PostForm("id"))
	if !deptIDRe.MatchString(f.ID) || len(f.ID) > 60 {
		f.Errors["id"] = p.T("departments.err.id")
	}
	if len(f.Errors) > 0 || f.General != "" {
		s.renderDepartmentForm(c, p, http.StatusBadRequest, f)
		return
	}
	if err := s.staff.CreateDepartment(ctx, currentUser(c).ID, f.ID, in.store()); err != nil {
		if errors.Is(err, staff.ErrExists) {
			f.Errors["id"] = p.T("departments.err.id_taken")
			s.renderDepartmentForm(c, p, s.statusOf(err), f)
			return
		}
		s.fail(c, err)
		return
	}
	redirect(c, "/admin/departments", "saved")
}
