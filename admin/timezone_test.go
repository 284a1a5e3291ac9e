package admin

import (
	"strings"
	"testing"
	"time"

	"citybot/routing"
	"citybot/staff"
)

// TestCityTimeZone: the web UI shows and reads dates in the city's time
// zone (CITYBOT_TIMEZONE, through the calendar), not the server's.
func TestCityTimeZone(t *testing.T) {
	kiri, err := time.LoadLocation("Pacific/Kiritimati") // UTC+14
	if err != nil {
		t.Fatal(err)
	}
	cal, err := routing.NewCalendarIn("NW", kiri)
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, func(_ *Config, d *Deps) { d.Calendar = cal })
	e.user("admin@example.test", staff.RoleAdmin)
	// 10 March 2026, 12:00 UTC is 11 March, 02:00 in the city.
	at := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	if _, err := e.db.Exec(`INSERT INTO audit_log (action, object_type, object_id, at) VALUES ('tz.probe', 'probe', 'x', $1)`, at); err != nil {
		t.Fatal(err)
	}
	c := e.loggedIn("admin@example.test")
	r := c.get("/admin/audit?action=tz.probe&from=2026-03-11&to=2026-03-11")
	if !strings.Contains(r.Body, "11.03.2026 02:00") {
		t.Errorf("audit entry of 11 March (city time) not listed at 02:00 for that day:\n%s", around(r.Body, "tz.probe"))
	}
	r = c.get("/admin/audit?action=tz.probe&from=2026-03-10&to=2026-03-10")
	if strings.Contains(r.Body, "11.03.2026 02:00") {
		t.Error("the filter for 10 March (city time) lists an entry of 11 March")
	}
	p := &page{Lang: "de", cat: e.srv.cat, loc: e.srv.loc()}
	if p.TimeZone() != "Pacific/Kiritimati" || p.Date(at) != "11.03.2026, 02:00 Uhr" {
		t.Errorf("page: zone %s, date %s", p.TimeZone(), p.Date(at))
	}
}

// around is the part of body around the first occurrence of s (or its end).
func around(body, s string) string {
	i := strings.Index(body, s)
	if i < 0 {
		i = len(body) - min(len(body), 400)
	}
	return body[max(0, i-200):min(len(body), i+400)]
}
