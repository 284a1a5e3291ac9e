package admin

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/lib/pq"

	"citybot/internal/db"
	"citybot/routing"
)

// department is a department as the admin page edits it.
type department struct {
	ID            string         `db:"id"`
	Name          string         `db:"name"`
	Description   string         `db:"description"`
	Keywords      pq.StringArray `db:"keywords"`
	Email         string         `db:"email"`
	Phone         string         `db:"phone"`
	Address       string         `db:"address"`
	OfficeHours   []byte         `db:"office_hours"`
	RetentionDays *int           `db:"retention_days"`
	IsFallback    bool           `db:"is_fallback"`
}

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

const departmentColumns = `id, name, description, keywords, email, phone, address, office_hours, retention_days, is_fallback`

func (s *Server) departmentsPage(c *gin.Context) {
	var ds []department
	if err := s.db.SelectContext(c.Request.Context(), &ds, `SELECT `+departmentColumns+` FROM departments ORDER BY name`); err != nil {
		s.fail(c, fmt.Errorf("list departments: %w", err))
		return
	}
	p := s.page(c, "departments.title")
	p.Nav = "departments"
	p.Data = map[string]any{"Departments": ds}
	s.render(c, http.StatusOK, "departments", p)
}

func (s *Server) getDepartment(ctx context.Context, id string) (department, error) {
	var d department
	if err := s.db.GetContext(ctx, &d, `SELECT `+departmentColumns+` FROM departments WHERE id = $1`, id); err != nil {
		if db.IsNoRows(err) {
			return d, fmt.Errorf("department %q: %w", id, ErrNotFound)
		}
		return d, fmt.Errorf("get department: %w", err)
	}
	return d, nil
}

func (s *Server) departmentForm(c *gin.Context) {
	d, err := s.getDepartment(c.Request.Context(), c.Param("id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	p := s.page(c, "departments.edit")
	p.Nav = "departments"
	p.Data = map[string]any{"D": d}
	s.render(c, http.StatusOK, "department_form", p)
}

// parseDayHours reads "08:00-12:00, 14:00-16:00".
func parseDayHours(text string) ([]routing.Span, error) {
	var out []routing.Span
	for _, part := range strings.FieldsFunc(text, func(r rune) bool { return r == ',' || r == ';' }) {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		from, to, ok := strings.Cut(part, "-")
		if !ok {
			from, to, ok = strings.Cut(part, "–")
		}
		if !ok {
			return nil, fmt.Errorf("%w: office hours %q (want like 08:00-12:00)", ErrInvalid, part)
		}
		out = append(out, routing.Span{strings.TrimSpace(from), strings.TrimSpace(to)})
	}
	return out, nil
}

func (s *Server) updateDepartment(c *gin.Context) {
	ctx := c.Request.Context()
	id := c.Param("id")
	if _, err := s.getDepartment(ctx, id); err != nil {
		s.fail(c, err)
		return
	}
	name := strings.TrimSpace(c.PostForm("name"))
	if name == "" {
		s.formError(c, fmt.Errorf("%w: name is empty", ErrInvalid))
		return
	}
	w := routing.WeekHours{}
	for day := 1; day <= 7; day++ {
		spans, err := parseDayHours(c.PostForm("hours_" + strconv.Itoa(day)))
		if err != nil {
			s.formError(c, err)
			return
		}
		if len(spans) > 0 {
			w[day] = spans
		}
	}
	if err := w.Validate(); err != nil {
		s.formError(c, fmt.Errorf("%w: office hours", ErrInvalid))
		return
	}
	var retention *int
	if r := strings.TrimSpace(c.PostForm("retention_days")); r != "" {
		n, err := strconv.Atoi(r)
		if err != nil || n <= 0 {
			s.formError(c, fmt.Errorf("%w: retention must be a positive number of days", ErrInvalid))
			return
		}
		retention = &n
	}
	var keywords []string
	for _, k := range strings.Split(c.PostForm("keywords"), ",") {
		if k = strings.TrimSpace(k); k != "" {
			keywords = append(keywords, k)
		}
	}
	if _, err := s.db.ExecContext(ctx, `UPDATE departments SET name = $2, description = $3, keywords = $4, email = $5, phone = $6,
		address = $7, office_hours = $8, retention_days = $9, updated_at = now() WHERE id = $1`,
		id, name, strings.TrimSpace(c.PostForm("description")), pq.StringArray(keywords), strings.TrimSpace(c.PostForm("email")),
		strings.TrimSpace(c.PostForm("phone")), strings.TrimSpace(c.PostForm("address")), w.JSON(), retention); err != nil {
		s.fail(c, fmt.Errorf("update department: %w", err))
		return
	}
	s.audit(ctx, currentUser(c).ID, "department.update", "department", id, map[string]any{"office_hours": string(w.JSON()), "retention_days": retention})
	redirect(c, "/admin/departments", "saved")
}
