package admin

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"citybot/faq"
	"citybot/routing"
	"citybot/staff"
)

// This file holds what the case page and the inbox need beyond the case
// itself: department facts (names, office hours, the answer target), how
// long a citizen has waited, the answer picker with placeholders, the
// citizen's earlier cases and the German number and duration formats.

// deptInfo is what the inbox knows of a department.
type deptInfo struct {
	ID     string            `db:"id"`
	Name   string            `db:"name"`
	Raw    []byte            `db:"office_hours"`
	Target int               `db:"answer_target_minutes"`
	Addr   string            `db:"address"`
	Phone  string            `db:"phone"`
	Email  string            `db:"email"`
	Hours  routing.WeekHours `db:"-"`
}

func (s *Server) deptInfos(ctx context.Context) (map[string]deptInfo, error) {
	ds, err := s.staff.ListDepartments(ctx)
	if err != nil {
		return nil, fmt.Errorf("department facts: %w", err)
	}
	out := make(map[string]deptInfo, len(ds))
	for _, sd := range ds {
		d := deptInfo{ID: sd.ID, Name: sd.Name, Raw: sd.OfficeHours, Target: sd.TargetMinutes, Addr: sd.Address, Phone: sd.Phone, Email: sd.Email}
		d.Hours, _ = routing.ParseWeekHours(d.Raw)
		out[d.ID] = d
	}
	return out, nil
}

// waitInfo is how long a citizen has waited, for the inbox and the case.
type waitInfo struct {
	Text   string // "wartet seit 2 Std."
	Detail string // "1 Std. 10 Min. in den Öffnungszeiten, Ziel 4 Std."
	Level  string // "ok", "soon" (three quarters of the target), "over"
}

// waitOf: the wall-clock wait since since, judged in office hours against
// the department's target.
func (s *Server) waitOf(p *page, d deptInfo, since, now time.Time) waitInfo {
	open := s.cal.OpenTime(d.Hours, since, now)
	target := time.Duration(d.Target) * time.Minute
	if target <= 0 {
		target = 4 * time.Hour
	}
	w := waitInfo{
		Text:   p.T("wait.since", p.Duration(now.Sub(since))),
		Detail: p.T("wait.detail", p.Duration(open), p.Duration(target)),
		Level:  "ok",
	}
	switch {
	case open >= target:
		w.Level = "over"
	case open*4 >= target*3:
		w.Level = "soon"
	}
	return w
}

// Duration formats d for people: "45 s", "12 Min.", "2 Std. 5 Min.",
// "3 Tg. 4 Std." (German) or "12 min", "2 h 5 min", "3 d 4 h"; the units
// are the catalogue's fmt.unit.*.
func (p *page) Duration(d time.Duration) string {
	s, mins, hours, days := p.T("fmt.unit.s"), p.T("fmt.unit.min"), p.T("fmt.unit.h"), p.T("fmt.unit.d")
	if d < 0 {
		d = 0
	}
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%d %s", int(d/time.Second), s)
	case d < time.Hour:
		m, sec := int(d/time.Minute), int(d%time.Minute/time.Second)
		if m < 10 && sec > 0 {
			return fmt.Sprintf("%d %s %d %s", m, mins, sec, s)
		}
		return fmt.Sprintf("%d %s", m, mins)
	case d < 24*time.Hour:
		h, m := int(d/time.Hour), int(d%time.Hour/time.Minute)
		if m == 0 || h >= 10 {
			return fmt.Sprintf("%d %s", h, hours)
		}
		return fmt.Sprintf("%d %s %d %s", h, hours, m, mins)
	default:
		n, h := int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour)
		if h == 0 || n >= 10 {
			return fmt.Sprintf("%d %s", n, days)
		}
		return fmt.Sprintf("%d %s %d %s", n, days, h, hours)
	}
}

// Num formats a number with decimals digits after the decimal separator
// and thousands grouping: "1.234,5" (German), "1,234.5" (English); the
// separators are the catalogue's fmt.decimal and fmt.group.
func (p *page) Num(v float64, decimals int) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "–"
	}
	s := strconv.FormatFloat(math.Abs(v), 'f', decimals, 64)
	intPart, frac, _ := strings.Cut(s, ".")
	dec, group := p.T("fmt.decimal"), p.T("fmt.group")
	var b strings.Builder
	if v < 0 && strings.Trim(s, "0.") != "" {
		b.WriteByte('-')
	}
	for i, r := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteString(group)
		}
		b.WriteRune(r)
	}
	if frac != "" {
		b.WriteString(dec)
		b.WriteString(frac)
	}
	return b.String()
}

// Int formats a count with thousands grouping: "1.234" (German).
func (p *page) Int(n int) string { return p.Num(float64(n), 0) }

// Percent formats a share 0..1 as "45,0 %" (German) or "45.0%" (English)
// (fmt.percent).
func (p *page) Percent(share float64) string {
	return p.T("fmt.percent", p.Num(share*100, 1))
}

// Date formats t as a date and time in the page's conventions (the Go
// layout fmt.date).
func (p *page) Date(t time.Time) string {
	if p.loc != nil {
		t = t.In(p.loc)
	}
	return t.Format(p.T("fmt.date"))
}

// CodeName is the readable name of a code (a channel "telegram", a
// language "de"), else the code itself.
func (p *page) CodeName(kind, code string) string {
	k := kind + "." + strings.ToLower(code)
	if p.cat.known(k) {
		return p.T(k)
	}
	return code
}

// shortSubject is the first sentence or line of a subject, at most n
// characters (cut at a word, with "…").
func shortSubject(s string, n int) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexAny(s, "\n?!"); i > 0 {
		if s[i] != '\n' {
			i++
		}
		s = s[:i]
	} else if i := strings.Index(s, ". "); i > 0 {
		s = s[:i]
	}
	s = strings.TrimSpace(s)
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)[:n]
	cut := string(r)
	if i := strings.LastIndexByte(cut, ' '); i > n/2 {
		cut = cut[:i]
	}
	return strings.TrimRight(cut, " ,;:-") + "…"
}

// hoursText is office hours in one line: "Mo 08:00–12:00, 14:00–16:00; Di …".
func (p *page) hoursText(w routing.WeekHours) string {
	if w.Empty() {
		return p.T("hours.none")
	}
	var days []string
	for d := 1; d <= 7; d++ {
		var spans []string
		for _, s := range w[d] {
			spans = append(spans, s[0]+"–"+s[1])
		}
		if len(spans) > 0 {
			days = append(days, p.T("weekday.short."+strconv.Itoa(d))+" "+strings.Join(spans, ", "))
		}
	}
	return strings.Join(days, "; ")
}

// placeholders fills a canned answer's placeholders for a case:
// {amt}/{office}, {fall}/{case}, {oeffnungszeiten}/{hours}, {telefon}/{phone},
// {email}, {anschrift}/{address}. Unknown ones stay as typed.
func (p *page) placeholders(text string, cs routing.Case, d deptInfo) string {
	if !strings.Contains(text, "{") {
		return text
	}
	name := d.Name
	if name == "" {
		name = cs.DepartmentName
	}
	r := strings.NewReplacer(
		"{amt}", name, "{office}", name,
		"{fall}", "#"+strconv.FormatInt(cs.ID, 10), "{case}", "#"+strconv.FormatInt(cs.ID, 10),
		"{oeffnungszeiten}", p.hoursText(d.Hours), "{öffnungszeiten}", p.hoursText(d.Hours), "{hours}", p.hoursText(d.Hours),
		"{telefon}", d.Phone, "{phone}", d.Phone,
		"{email}", d.Email,
		"{anschrift}", d.Addr, "{address}", d.Addr,
	)
	return r.Replace(text)
}

// pick is one answer in the reply box's picker.
type pick struct {
	Value string // "c:12" (canned) or "f:bauantrag" (FAQ)
	Title string
	Text  string // with the placeholders filled
}

// picks: the department's canned answers, then its published FAQ answers.
func (s *Server) picks(ctx context.Context, p *page, v staff.Principal, cs routing.Case, d deptInfo) (canned, faqs []pick, err error) {
	ca, err := s.cannedFor(ctx, v, cs.Department)
	if err != nil {
		return nil, nil, err
	}
	for _, a := range ca {
		canned = append(canned, pick{Value: "c:" + strconv.FormatInt(a.ID, 10), Title: a.Title, Text: p.placeholders(a.Body, cs, d)})
	}
	if s.deps.FAQ != nil {
		es, err := s.deps.FAQ.Entries(ctx, faq.StatusPublished)
		if err != nil {
			return nil, nil, err
		}
		for _, e := range es {
			if e.Department == cs.Department {
				faqs = append(faqs, pick{Value: "f:" + e.ID, Title: e.Question, Text: e.Answer})
			}
		}
	}
	return canned, faqs, nil
}

// earlierCase is another case of the same citizen.
type earlierCase = routing.EarlierCase

// earlierCases lists the citizen's other cases the viewer may see, newest first.
func (s *Server) earlierCases(ctx context.Context, v staff.Principal, cs routing.Case) ([]earlierCase, error) {
	return s.deps.Cases.EarlierCases(ctx, v, cs.CitizenID, cs.ID)
}

// nextWaiting is the oldest waiting case of the viewer's departments other
// than except, or 0.
func (s *Server) nextWaiting(ctx context.Context, v staff.Principal, except int64) (int64, error) {
	list, _, err := s.deps.Cases.List(ctx, v, routing.ListFilter{View: routing.ViewWaiting, Limit: 2})
	if err != nil {
		return 0, err
	}
	for _, c := range list {
		if c.ID != except {
			return c.ID, nil
		}
	}
	return 0, nil
}

// Coord is a position as "49,45210° N, 11,07670° O" (German) or
// "49.45210° N, 11.07670° E".
func (p *page) Coord(lat, lon float64) string {
	ns, ew := p.T("fmt.north"), p.T("fmt.east")
	if lat < 0 {
		ns = p.T("fmt.south")
	}
	if lon < 0 {
		ew = p.T("fmt.west")
	}
	return p.Num(math.Abs(lat), 5) + "° " + ns + ", " + p.Num(math.Abs(lon), 5) + "° " + ew
}
