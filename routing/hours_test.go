package routing

import (
	"errors"
	"testing"
	"time"
)

func mustCal(t *testing.T, state string) *Calendar {
	t.Helper()
	c, err := NewCalendar(state)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func berlin(t *testing.T, s string) time.Time {
	t.Helper()
	loc, err := time.LoadLocation(TimeZone)
	if err != nil {
		t.Fatal(err)
	}
	v, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

var testHours = WeekHours{
	1: {{"08:00", "12:00"}, {"14:00", "16:00"}},
	2: {{"08:00", "12:00"}, {"14:00", "16:00"}},
	3: {{"08:00", "12:00"}},
	4: {{"08:00", "12:00"}, {"14:00", "18:00"}},
	5: {{"08:00", "12:00"}},
}

func TestHolidays(t *testing.T) {
	tests := []struct {
		state, day string
		want       string // "" = no holiday
	}{
		{"NW", "2025-10-03", "Tag der Deutschen Einheit"},
		{"BY", "2025-10-03", "Tag der Deutschen Einheit"},
		{"NW", "2026-04-03", "Karfreitag"},
		{"NW", "2026-04-06", "Ostermontag"},
		{"NW", "2026-06-04", "Fronleichnam"},
		{"NI", "2026-06-04", ""}, // Corpus Christi is no holiday in Lower Saxony
		{"BY", "2026-01-06", "Heilige Drei Könige"},
		{"NW", "2026-01-06", ""},
		{"BE", "2026-03-08", "Frauentag"},
		{"SN", "2025-11-19", "Buß- und Bettag"},
		{"BB", "2025-10-31", "Reformationstag"},
		{"NW", "2025-10-31", ""},
		{"", "2025-12-25", "Weihnachtstag"},
		{"", "2025-11-01", ""},
		{"NW", "2025-11-01", "Allerheiligen"},
		{"NW", "2026-04-07", ""},
	}
	for _, tt := range tests {
		t.Run(tt.state+"/"+tt.day, func(t *testing.T) {
			c := mustCal(t, tt.state)
			name, ok := c.Holiday(berlin(t, tt.day+" 10:00"))
			if ok != (tt.want != "") || name != tt.want {
				t.Errorf("Holiday = %q, %v; want %q", name, ok, tt.want)
			}
		})
	}
}

func TestNewCalendarUnknownState(t *testing.T) {
	if _, err := NewCalendar("XX"); !errors.Is(err, ErrInvalid) {
		t.Fatalf("err = %v, want ErrInvalid", err)
	}
	c, err := NewCalendar("de-nw")
	if err != nil || c.State() != "NW" {
		t.Fatalf("de-nw: %v %v", c, err)
	}
	if n := len(c.Holidays(2026)); n != 11 {
		t.Errorf("NW 2026 has %d holidays, want 11", n)
	}
}

func TestIsOpenAndNextOpening(t *testing.T) {
	c := mustCal(t, "NW")
	tests := []struct {
		name, at string
		open     bool
		next     string
	}{
		{"monday morning", "2026-03-16 09:30", true, "2026-03-16 09:30"},
		{"opening minute", "2026-03-16 08:00", true, "2026-03-16 08:00"},
		{"before opening", "2026-03-16 07:59", false, "2026-03-16 08:00"},
		{"lunch break", "2026-03-16 12:30", false, "2026-03-16 14:00"},
		{"closing minute is closed", "2026-03-16 12:00", false, "2026-03-16 14:00"},
		{"afternoon", "2026-03-16 15:59", true, "2026-03-16 15:59"},
		{"evening", "2026-03-16 18:00", false, "2026-03-17 08:00"},
		{"wednesday afternoon closed", "2026-03-18 13:00", false, "2026-03-19 08:00"},
		{"friday afternoon to monday", "2026-03-20 13:00", false, "2026-03-23 08:00"},
		{"saturday", "2026-03-21 10:00", false, "2026-03-23 08:00"},
		{"sunday", "2026-03-22 10:00", false, "2026-03-23 08:00"},
		{"Tag der Deutschen Einheit (Friday)", "2025-10-03 09:00", false, "2025-10-06 08:00"},
		{"Karfreitag to Tuesday after Ostermontag", "2026-04-03 10:00", false, "2026-04-07 08:00"},
		{"Thursday before Easter evening", "2026-04-02 19:00", false, "2026-04-07 08:00"},
		{"Fronleichnam NW", "2026-06-04 10:00", false, "2026-06-05 08:00"},
		{"Christmas week", "2025-12-24 13:00", false, "2025-12-29 08:00"},
		// DST begins Sunday 2026-03-29: Monday 8:00 is 06:00 UTC, Friday 8:00 was 07:00 UTC.
		{"across DST start", "2026-03-27 13:00", false, "2026-03-30 08:00"},
		// DST ends Sunday 2026-10-25.
		{"across DST end", "2026-10-23 13:00", false, "2026-10-26 08:00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			at := berlin(t, tt.at)
			if got := c.IsOpen(testHours, at); got != tt.open {
				t.Errorf("IsOpen = %v, want %v", got, tt.open)
			}
			next, ok := c.NextOpening(testHours, at)
			if !ok || !next.Equal(berlin(t, tt.next)) {
				t.Errorf("NextOpening = %v %v, want %s", next.In(c.Location()), ok, tt.next)
			}
		})
	}
}

func TestDSTInstants(t *testing.T) {
	c := mustCal(t, "NW")
	// Friday before DST start at 13:00 UTC+1; next opening Monday 08:00 CEST = 06:00 UTC.
	next, _ := c.NextOpening(testHours, time.Date(2026, 3, 27, 12, 0, 0, 0, time.UTC))
	if want := time.Date(2026, 3, 30, 6, 0, 0, 0, time.UTC); !next.Equal(want) {
		t.Errorf("next = %v, want %v", next.UTC(), want)
	}
	// 07:30 UTC on Monday after DST start is 09:30 CEST: open. The same UTC
	// clock on the Monday before (08:30 CET) is open too, 06:30 UTC is not.
	if !c.IsOpen(testHours, time.Date(2026, 3, 30, 7, 30, 0, 0, time.UTC)) {
		t.Error("Monday 07:30 UTC after DST start should be open")
	}
	if c.IsOpen(testHours, time.Date(2026, 3, 23, 6, 30, 0, 0, time.UTC)) {
		t.Error("Monday 06:30 UTC (07:30 CET) should be closed")
	}
	if !c.IsOpen(testHours, time.Date(2026, 3, 30, 6, 30, 0, 0, time.UTC)) {
		t.Error("Monday 06:30 UTC (08:30 CEST) should be open")
	}
	// A night hotline on the DST-end Sunday: the 02:00-03:00 hour happens twice.
	night := WeekHours{7: {{"01:00", "04:00"}}}
	for _, h := range []int{0, 1, 2} { // 02:00 CEST, 02:00 CET, 03:00 CET (UTC 0, 1, 2)
		if !c.IsOpen(night, time.Date(2025, 10, 26, h, 0, 0, 0, time.UTC)) {
			t.Errorf("night line at %02d:00 UTC on DST end should be open", h)
		}
	}
	if c.IsOpen(night, time.Date(2025, 10, 26, 3, 0, 0, 0, time.UTC)) {
		t.Error("04:00 CET should be closed")
	}
}

func TestNoOfficeHours(t *testing.T) {
	c := mustCal(t, "NW")
	at := berlin(t, "2026-03-16 10:00")
	if c.IsOpen(WeekHours{}, at) {
		t.Fatal("open without hours")
	}
	if _, ok := c.NextOpening(WeekHours{}, at); ok {
		t.Fatal("next opening without hours")
	}
	msg := c.Availability(WeekHours{}, at).Message("Fundbüro", "de", at)
	if msg != "Das Fundbüro hat keine festen Sprechzeiten hinterlegt. Wir melden uns so bald wie möglich." {
		t.Errorf("msg = %q", msg)
	}
}

func TestAvailabilityMessage(t *testing.T) {
	c := mustCal(t, "NW")
	tests := []struct {
		at, dept, lang, want string
	}{
		{"2026-03-16 09:00", "Bauamt / Bauaufsicht", "de",
			"Das Bauamt ist gerade geöffnet; wir melden uns in der Regel innerhalb weniger Stunden."},
		{"2026-04-03 10:00", "Bauamt / Bauaufsicht", "de",
			"Das Bauamt ist gerade geschlossen (Feiertag: Karfreitag). Wir melden uns ab Dienstag, 8:00 Uhr."},
		{"2026-03-21 10:00", "Bauamt / Bauaufsicht", "de",
			"Das Bauamt ist gerade geschlossen. Wir melden uns ab Montag, 8:00 Uhr."},
		{"2026-03-16 12:30", "Zentrale / Bürgerservice", "de",
			"Die Zentrale ist gerade geschlossen. Wir melden uns ab heute, 14:00 Uhr."},
		{"2026-03-16 19:00", "Kfz-Zulassungs- und Führerscheinstelle", "de",
			"Die Kfz-Zulassungs- und Führerscheinstelle ist gerade geschlossen. Wir melden uns ab morgen, 8:00 Uhr."},
		{"2026-03-16 15:30", "Bauamt / Bauaufsicht", "de",
			"Das Bauamt ist nur noch bis 16:00 Uhr geöffnet. Wenn es heute nicht mehr klappt, melden wir uns ab morgen, 8:00 Uhr."},
		{"2025-12-22 13:00", "Bürgerbüro", "de",
			"Das Bürgerbüro ist gerade geschlossen. Wir melden uns ab Montag, 29. Dezember, 8:00 Uhr."},
		{"2025-12-24 19:00", "Bauamt / Bauaufsicht", "de",
			"Das Bauamt ist gerade geschlossen. Wir melden uns ab Montag, 8:00 Uhr."},
		{"2026-03-16 09:00", "Bauamt / Bauaufsicht", "en",
			"Bauamt is open right now; we usually get back to you within a few hours."},
		{"2025-10-03 10:00", "Ordnungsamt", "en",
			"Ordnungsamt is closed right now (public holiday: Tag der Deutschen Einheit). We will get back to you from Monday, 8:00."},
		{"2026-03-16 09:00", "Wahlteam", "de",
			"Das Wahlteam ist gerade geöffnet; wir melden uns in der Regel innerhalb weniger Stunden."},
		{"2026-03-16 09:00", "Stadtmarketing", "de",
			"Die Stelle „Stadtmarketing“ ist gerade geöffnet; wir melden uns in der Regel innerhalb weniger Stunden."},
	}
	for _, tt := range tests {
		t.Run(tt.at+"/"+tt.lang, func(t *testing.T) {
			at := berlin(t, tt.at)
			hours := testHours
			if tt.dept == "Bürgerbüro" {
				hours = WeekHours{1: {{"08:00", "12:00"}}} // Mondays only
			}
			got := c.Availability(hours, at).Message(tt.dept, tt.lang, at)
			if got != tt.want {
				t.Errorf("\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestParseWeekHours(t *testing.T) {
	w, err := ParseWeekHours([]byte(`{"1":[["08:00","12:00"],["14:00","16:00"]],"7":[["00:00","24:00"]]}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(w[1]) != 2 || w[7][0][1] != "24:00" {
		t.Fatalf("w = %v", w)
	}
	if w2, err := ParseWeekHours(w.JSON()); err != nil || len(w2) != 2 {
		t.Fatalf("round trip: %v %v", w2, err)
	}
	for _, bad := range []string{
		`{"0":[["08:00","12:00"]]}`,
		`{"8":[["08:00","12:00"]]}`,
		`{"1":[["12:00","08:00"]]}`,
		`{"1":[["08:00","12:00"],["11:00","13:00"]]}`,
		`{"1":[["8","12:00"]]}`,
		`{"1":[["08:60","12:00"]]}`,
		`{"1":[["08:00","24:30"]]}`,
		`[1,2]`,
	} {
		if _, err := ParseWeekHours([]byte(bad)); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", bad, err)
		}
	}
	for _, empty := range []string{"", "null", "{}"} {
		if w, err := ParseWeekHours([]byte(empty)); err != nil || !w.Empty() {
			t.Errorf("%q: %v %v", empty, w, err)
		}
	}
}

func TestDemoOfficeHoursValid(t *testing.T) {
	for id, w := range DemoOfficeHours() {
		if err := w.Validate(); err != nil || w.Empty() {
			t.Errorf("%s: %v", id, err)
		}
	}
}

func TestOpenTime(t *testing.T) {
	c := mustCal(t, "")
	tests := []struct {
		name     string
		w        WeekHours
		from, to string
		want     time.Duration
	}{
		{"within a span", testHours, "2026-11-30 09:00", "2026-11-30 11:00", 2 * time.Hour},
		{"across the lunch break", testHours, "2026-11-30 11:00", "2026-11-30 15:00", 2 * time.Hour},
		{"over the weekend", testHours, "2026-12-04 11:00", "2026-12-07 09:00", 2 * time.Hour},
		{"before opening until after closing", testHours, "2026-12-02 06:00", "2026-12-02 20:00", 4 * time.Hour},
		{"over Christmas (a public holiday)", testHours, "2026-12-24 17:00", "2026-12-28 09:00", 2 * time.Hour},
		{"no office hours: wall-clock time", WeekHours{}, "2026-12-05 10:00", "2026-12-05 13:00", 3 * time.Hour},
		{"end before start", testHours, "2026-11-30 11:00", "2026-11-30 09:00", 0},
	}
	for _, tt := range tests {
		if got := c.OpenTime(tt.w, berlin(t, tt.from), berlin(t, tt.to)); got != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestCalendarTimeZone: the city's time zone (CITYBOT_TIMEZONE) decides
// which day a moment falls on and when the offices are open.
func TestCalendarTimeZone(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewCalendarIn("NW", ny)
	if err != nil {
		t.Fatal(err)
	}
	if c.Location() != ny {
		t.Fatalf("Location() = %v, want America/New_York", c.Location())
	}
	// 1 January 2027, 20:00 in New York is already 2 January in Berlin.
	at := time.Date(2027, 1, 1, 20, 0, 0, 0, ny)
	if _, ok := c.Holiday(at); !ok {
		t.Error("New Year's evening in New York: not a holiday in the New York calendar")
	}
	if _, ok := mustCal(t, "NW").Holiday(at); ok {
		t.Error("the same moment (2 January in Berlin) is a holiday in the default calendar")
	}
	// Wednesday (mornings only in the test hours) 09:00 in New York.
	wed := time.Date(2027, 1, 6, 9, 0, 0, 0, ny) // 15:00 in Berlin
	if !c.IsOpen(testHours, wed) {
		t.Error("Wednesday 09:00 in New York: closed in the New York calendar")
	}
	if mustCal(t, "NW").IsOpen(testHours, wed) {
		t.Error("Wednesday 15:00 in Berlin: open in the default calendar")
	}
	if d, _ := NewCalendarIn("", nil); d.Location().String() != TimeZone {
		t.Errorf("nil location: %v, want %s", d.Location(), TimeZone)
	}
}
