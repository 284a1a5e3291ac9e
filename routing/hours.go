package routing

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"citybot/internal/db"
	"citybot/staff"
)

// Span is one opening interval of a day, as "HH:MM" wall-clock times in the
// city's time zone: ["08:00","12:00"]. The end is exclusive; "24:00" means
// until midnight.
type Span [2]string

// WeekHours are a department's office hours per ISO weekday (1 = Monday ...
// 7 = Sunday). Its JSON form is the departments.office_hours column:
// {"1":[["08:00","12:00"],["14:00","16:00"]], ...}. A day without spans is
// closed.
type WeekHours map[int][]Span

// ParseWeekHours reads and validates the JSON form. Empty input and "{}" and
// "null" mean no office hours.
func ParseWeekHours(raw []byte) (WeekHours, error) {
	w := WeekHours{}
	if s := strings.TrimSpace(string(raw)); s == "" || s == "null" {
		return w, nil
	}
	if err := json.Unmarshal(raw, &w); err != nil {
		return nil, fmt.Errorf("%w: office hours: %v", ErrInvalid, err)
	}
	if err := w.Validate(); err != nil {
		return nil, err
	}
	return w, nil
}

// Validate checks weekdays, times and that the spans of a day are ordered
// and do not overlap.
func (w WeekHours) Validate() error {
	for day, spans := range w {
		if day < 1 || day > 7 {
			return fmt.Errorf("%w: office hours: weekday %d (want 1=Monday .. 7=Sunday)", ErrInvalid, day)
		}
		prevEnd := -1
		for _, s := range spans {
			from, err := parseClock(s[0])
			if err != nil {
				return err
			}
			to, err := parseClock(s[1])
			if err != nil {
				return err
			}
			if from >= to {
				return fmt.Errorf("%w: office hours: %s-%s ends before it starts", ErrInvalid, s[0], s[1])
			}
			if from < prevEnd {
				return fmt.Errorf("%w: office hours: spans of weekday %d overlap or are out of order", ErrInvalid, day)
			}
			prevEnd = to
		}
	}
	return nil
}

// Empty reports whether no day has office hours.
func (w WeekHours) Empty() bool {
	for _, s := range w {
		if len(s) > 0 {
			return false
		}
	}
	return true
}

// JSON returns the column form.
func (w WeekHours) JSON() []byte {
	if w == nil {
		return []byte("{}")
	}
	b, _ := json.Marshal(w) // map[int][][2]string cannot fail
	return b
}

// parseClock turns "HH:MM" into minutes after midnight (0..1440).
func parseClock(s string) (int, error) {
	var h, m int
	if len(s) < 4 || len(s) > 5 {
		return 0, fmt.Errorf("%w: office hours: time %q (want HH:MM)", ErrInvalid, s)
	}
	if _, err := fmt.Sscanf(s, "%d:%d", &h, &m); err != nil || m < 0 || m > 59 || h < 0 || h > 24 || (h == 24 && m != 0) {
		return 0, fmt.Errorf("%w: office hours: time %q (want HH:MM)", ErrInvalid, s)
	}
	return h*60 + m, nil
}

type minuteSpan struct{ from, to int }

// day returns the valid spans of an ISO weekday in order; invalid spans
// (which Validate rejects) are skipped.
func (w WeekHours) day(iso int) []minuteSpan {
	var out []minuteSpan
	for _, s := range w[iso] {
		from, err1 := parseClock(s[0])
		to, err2 := parseClock(s[1])
		if err1 == nil && err2 == nil && from < to {
			out = append(out, minuteSpan{from, to})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].from < out[j].from })
	return out
}

func isoWeekday(t time.Time) int {
	if wd := t.Weekday(); wd != time.Sunday {
		return int(wd)
	}
	return 7
}

// at is the instant of a wall-clock minute on the date of day.
func (c *Calendar) at(day time.Time, minute int) time.Time {
	y, m, d := day.Date()
	return time.Date(y, m, d, minute/60, minute%60, 0, 0, c.loc)
}

// openSpan returns the span that contains t, if the office is open at t.
func (c *Calendar) openSpan(w WeekHours, t time.Time) (minuteSpan, bool) {
	lt := t.In(c.loc)
	if _, hol := c.Holiday(lt); hol {
		return minuteSpan{}, false
	}
	mins := lt.Hour()*60 + lt.Minute()
	for _, s := range w.day(isoWeekday(lt)) {
		if s.from <= mins && mins < s.to {
			return s, true
		}
	}
	return minuteSpan{}, false
}

// IsOpen reports whether a department with office hours w is open at t:
// within a span of t's weekday and not on a public holiday.
func (c *Calendar) IsOpen(w WeekHours, t time.Time) bool {
	_, ok := c.openSpan(w, t)
	return ok
}

// NextOpening returns t itself when the office is open at t, else the start
// of the next span on a day that is not a public holiday. ok is false when
// the office never opens (no office hours).
func (c *Calendar) NextOpening(w WeekHours, t time.Time) (next time.Time, ok bool) {
	if c.IsOpen(w, t) {
		return t, true
	}
	return c.nextStartAfter(w, t)
}

// nextStartAfter is the first span start strictly after t that is not on a
// holiday.
func (c *Calendar) nextStartAfter(w WeekHours, t time.Time) (time.Time, bool) {
	if w.Empty() {
		return time.Time{}, false
	}
	lt := t.In(c.loc)
	y, m, d := lt.Date()
	for i := 0; i <= 370; i++ {
		day := time.Date(y, m, d+i, 12, 0, 0, 0, c.loc)
		if _, hol := c.Holiday(day); hol {
			continue
		}
		for _, s := range w.day(isoWeekday(day)) {
			if start := c.at(day, s.from); start.After(t) {
				return start, true
			}
		}
	}
	return time.Time{}, false
}

// Availability is what a citizen should know about when a department answers.
type Availability struct {
	Open        bool
	ClosesAt    time.Time // end of the current span, when Open
	Holiday     string    // name of today's public holiday, if closed for it
	NextOpening time.Time // when closed: the next opening; when open: the first opening after ClosesAt; zero: no office hours
}

// Availability computes whether a department with office hours w is open at t
// and, if not, when it opens next.
func (c *Calendar) Availability(w WeekHours, t time.Time) Availability {
	var a Availability
	if s, ok := c.openSpan(w, t); ok {
		a.Open = true
		a.ClosesAt = c.at(t.In(c.loc), s.to)
		a.NextOpening, _ = c.nextStartAfter(w, a.ClosesAt)
		return a
	}
	if name, hol := c.Holiday(t); hol {
		a.Holiday = name
	}
	a.NextOpening, _ = c.nextStartAfter(w, t)
	return a
}

// soonClosing: when an open office closes within this time, the message says
// so honestly instead of promising an answer within a few hours.
const soonClosing = time.Hour

// Message is the honest sentence for the citizen about when the department
// (by its display name, e.g. "Bauamt / Bauaufsicht") will answer, in the
// citizen's language ("de", "en", "en-GB", ...; German when there are no
// texts for it). now is the instant a was computed for.
func (a Availability) Message(deptName, lang string, now time.Time) string {
	subj := office("subject", shortName(deptName, lang), lang)
	switch {
	case a.Open && !a.NextOpening.IsZero() && a.ClosesAt.Sub(now) < soonClosing:
		return text(lang, "hours.closing_soon", subj, clock(a.ClosesAt), when(lang, a.NextOpening, now))
	case a.Open:
		return text(lang, "hours.open", subj)
	case a.NextOpening.IsZero():
		return text(lang, "hours.no_hours", subj)
	case a.Holiday != "":
		return text(lang, "hours.holiday", subj, a.Holiday, when(lang, a.NextOpening, now))
	default:
		return text(lang, "hours.closed", subj, when(lang, a.NextOpening, now))
	}
}

func clock(t time.Time) string { return fmt.Sprintf("%d:%02d", t.Hour(), t.Minute()) }

// dayDiff is the number of calendar days from now's date to t's date, both
// in t's location.
func dayDiff(t, now time.Time) int {
	ny, nm, nd := now.In(t.Location()).Date()
	ty, tm, td := t.Date()
	a := time.Date(ny, nm, nd, 12, 0, 0, 0, time.UTC)
	b := time.Date(ty, tm, td, 12, 0, 0, 0, time.UTC)
	return int(b.Sub(a).Hours() / 24)
}

// when words when an office opens: "heute, 14:00 Uhr", "morgen, 8:00
// Uhr", "Montag, 8:00 Uhr", "Dienstag, 7. April, 8:00 Uhr"; English
// "today, 14:00", "Tuesday, 7 April, 8:00".
func when(lang string, t, now time.Time) string {
	switch n := dayDiff(t, now); {
	case n <= 0:
		return text(lang, "when.today", clock(t))
	case n == 1:
		return text(lang, "when.tomorrow", clock(t))
	case n < 7:
		return text(lang, "when.weekday", weekdayName(lang, int(t.Weekday())), clock(t))
	default:
		return text(lang, "when.date", weekdayName(lang, int(t.Weekday())), t.Day(), monthName(lang, int(t.Month())), clock(t))
	}
}

// DemoOfficeHours are plausible office hours for the demo city's departments
// (by department id). The demo loader stores them with SetOfficeHours.
func DemoOfficeHours() map[string]WeekHours {
	// Each department's hours are what the demo FAQ tells citizens
	// (TestDemoOfficeHoursMatchFAQ): "Die übrigen Ämter haben allgemeine
	// Sprechzeiten montags bis freitags von 8 bis 12 Uhr und donnerstags
	// zusätzlich von 14 bis 17:30 Uhr".
	general := WeekHours{
		1: {{"08:00", "12:00"}},
		2: {{"08:00", "12:00"}},
		3: {{"08:00", "12:00"}},
		4: {{"08:00", "12:00"}, {"14:00", "17:30"}},
		5: {{"08:00", "12:00"}},
	}
	zentrale := WeekHours{ // "montags bis donnerstags von 7:30 bis 16 Uhr und freitags von 7:30 bis 13 Uhr"
		1: {{"07:30", "16:00"}},
		2: {{"07:30", "16:00"}},
		3: {{"07:30", "16:00"}},
		4: {{"07:30", "16:00"}},
		5: {{"07:30", "13:00"}},
	}
	citizen := WeekHours{ // Bürgerbüro: long Tuesday and Thursday, Saturday morning
		1: {{"08:00", "12:30"}},
		2: {{"08:00", "18:00"}},
		3: {{"08:00", "12:30"}},
		4: {{"08:00", "18:00"}},
		5: {{"08:00", "12:30"}},
		6: {{"09:00", "12:00"}},
	}
	kfz := WeekHours{ // "montags bis freitags von 7:30 bis 12:30 Uhr und donnerstags zusätzlich von 14 bis 17:30 Uhr"
		1: {{"07:30", "12:30"}},
		2: {{"07:30", "12:30"}},
		3: {{"07:30", "12:30"}},
		4: {{"07:30", "12:30"}, {"14:00", "17:30"}},
		5: {{"07:30", "12:30"}},
	}
	cemetery := WeekHours{ // Friedhofsverwaltung: "montags bis donnerstags von 8 bis 15:30 Uhr und freitags von 8 bis 12 Uhr"
		1: {{"08:00", "15:30"}},
		2: {{"08:00", "15:30"}},
		3: {{"08:00", "15:30"}},
		4: {{"08:00", "15:30"}},
		5: {{"08:00", "12:00"}},
	}
	return map[string]WeekHours{
		"zentrale":         zentrale,
		"buergerbuero":     citizen,
		"bauamt":           general,
		"ordnungsamt":      general,
		"standesamt":       general,
		"kfz-zulassung":    kfz,
		"abfallwirtschaft": general,
		"steueramt":        general,
		"sozialamt":        general,
		"jugendamt":        general,
		"gewerbeamt":       general,
		"gruenflaechen":    cemetery,
		"tiefbau":          general,
		"fundbuero":        general,
	}
}

// OfficeHours reads a department's office hours, or ErrNotFound.
func OfficeHours(ctx context.Context, q sqlx.QueryerContext, dept string) (WeekHours, error) {
	var raw []byte
	err := sqlx.GetContext(ctx, q, &raw, `SELECT office_hours FROM departments WHERE id = $1`, dept)
	if db.IsNoRows(err) {
		return nil, fmt.Errorf("department %q: %w", dept, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get office hours: %w", err)
	}
	return ParseWeekHours(raw)
}

// SetOfficeHours validates and stores a department's office hours.
func SetOfficeHours(ctx context.Context, q sqlx.ExecerContext, dept string, w WeekHours) error {
	if err := w.Validate(); err != nil {
		return err
	}
	// The departments are staff's; routing only checks the hours.
	if err := staff.SetOfficeHours(ctx, q, dept, w.JSON()); err != nil {
		if errors.Is(err, staff.ErrNotFound) {
			return fmt.Errorf("department %q: %w", dept, ErrNotFound)
		}
		return err
	}
	return nil
}

// ApplyDemoOfficeHours stores DemoOfficeHours for those demo departments
// that exist and have no office hours yet.
func ApplyDemoOfficeHours(ctx context.Context, q sqlx.ExecerContext) error {
	for id, w := range DemoOfficeHours() {
		if err := staff.SetOfficeHoursIfEmpty(ctx, q, id, w.JSON()); err != nil {
			return fmt.Errorf("demo %w", err)
		}
	}
	return nil
}

// ToOffice words "to the office" for the citizen: "an das Tiefbauamt", "an
// die Zentrale", "an den Bürgerservice"; English "to Tiefbauamt".
func ToOffice(name, lang string) string {
	return office("to", shortName(name, lang), lang)
}

// AtOffice words where a request is: "beim Bauamt", "bei der Zentrale";
// English "with Bauamt".
func AtOffice(name, lang string) string {
	return office("at", shortName(name, lang), lang)
}

// OpenTime is how much of the interval [from, to) falls into the office
// hours w (public holidays excluded): the time a citizen has waited as the
// department counts it. Without office hours it is the whole interval.
func (c *Calendar) OpenTime(w WeekHours, from, to time.Time) time.Duration {
	if !to.After(from) {
		return 0
	}
	if w.Empty() {
		return to.Sub(from)
	}
	var total time.Duration
	lf := from.In(c.loc)
	y, m, d := lf.Date()
	// At most a year of days; longer waits are far beyond any target anyway.
	for i := 0; i <= 370; i++ {
		day := time.Date(y, m, d+i, 12, 0, 0, 0, c.loc)
		if !c.at(day, 0).Before(to) {
			break
		}
		if _, hol := c.Holiday(day); hol {
			continue
		}
		for _, s := range w.day(isoWeekday(day)) {
			a, b := c.at(day, s.from), c.at(day, s.to)
			if a.Before(from) {
				a = from
			}
			if b.After(to) {
				b = to
			}
			if b.After(a) {
				total += b.Sub(a)
			}
		}
	}
	return total
}
