package routing

import (
	"fmt"
	"sort"
	"strings"
	"time"
	_ "time/tzdata" // office hours must not depend on the host's zoneinfo

	"github.com/rickar/cal/v2"
	"github.com/rickar/cal/v2/de"
)

// TimeZone is the default zone office hours are read in (CITYBOT_TIMEZONE
// sets the city's own, see NewCalendarIn).
const TimeZone = "Europe/Berlin"

// States lists the German states (ISO 3166-2:DE codes without "DE-") whose
// public holidays a Calendar knows.
func States() []string {
	s := make([]string, 0, len(stateHolidays))
	for k := range stateHolidays {
		s = append(s, k)
	}
	sort.Strings(s)
	return s
}

var stateHolidays = map[string][]*cal.Holiday{
	"BW": de.HolidaysBW, "BY": de.HolidaysBY, "BE": de.HolidaysBE, "BB": de.HolidaysBB,
	"HB": de.HolidaysHB, "HH": de.HolidaysHH, "HE": de.HolidaysHE, "MV": de.HolidaysMV,
	"NI": de.HolidaysNI, "NW": de.HolidaysNW, "RP": de.HolidaysRP, "SL": de.HolidaysSL,
	"SN": de.HolidaysSN, "ST": de.HolidaysST, "SH": de.HolidaysSH, "TH": de.HolidaysTH,
}

// Calendar knows the public holidays of one German state and the city's time
// zone. It is immutable and safe for concurrent use.
type Calendar struct {
	state    string
	loc      *time.Location
	holidays []*cal.Holiday
}

// NewCalendar returns the calendar of a German state ("NW", "BY", ...) in
// the default time zone (TimeZone). An empty state means the nationwide
// holidays only.
func NewCalendar(state string) (*Calendar, error) { return NewCalendarIn(state, nil) }

// NewCalendarIn is NewCalendar in the city's time zone loc (nil: TimeZone):
// office hours, holidays and every date the city shows are read in it.
func NewCalendarIn(state string, loc *time.Location) (*Calendar, error) {
	if loc == nil {
		var err error
		if loc, err = time.LoadLocation(TimeZone); err != nil {
			return nil, fmt.Errorf("load time zone: %w", err)
		}
	}
	state = strings.ToUpper(strings.TrimPrefix(strings.ToUpper(strings.TrimSpace(state)), "DE-"))
	hs := de.Holidays
	if state != "" {
		var ok bool
		if hs, ok = stateHolidays[state]; !ok {
			return nil, fmt.Errorf("%w: unknown German state %q (want one of %s)", ErrInvalid, state, strings.Join(States(), ", "))
		}
	}
	return &Calendar{state: state, loc: loc, holidays: hs}, nil
}

// State is the calendar's state code ("" for nationwide holidays only).
func (c *Calendar) State() string { return c.state }

// Location is the city's time zone.
func (c *Calendar) Location() *time.Location { return c.loc }

// Holiday reports whether the day of t (in the city's time zone) is a public
// holiday, and its German name.
func (c *Calendar) Holiday(t time.Time) (name string, ok bool) {
	y, m, d := t.In(c.loc).Date()
	for _, h := range c.holidays {
		act, _ := h.Calc(y)
		if act.IsZero() {
			continue
		}
		if ay, am, ad := act.Date(); ay == y && am == m && ad == d {
			return h.Name, true
		}
	}
	return "", false
}

// Holidays lists the public holidays of a year, in date order.
func (c *Calendar) Holidays(year int) []HolidayDate {
	var out []HolidayDate
	for _, h := range c.holidays {
		act, _ := h.Calc(year)
		if act.IsZero() {
			continue
		}
		y, m, d := act.Date()
		out = append(out, HolidayDate{Date: time.Date(y, m, d, 0, 0, 0, 0, c.loc), Name: h.Name})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Date.Before(out[j].Date) })
	return out
}

// HolidayDate is one public holiday.
type HolidayDate struct {
	Date time.Time // midnight in the city's time zone
	Name string
}
