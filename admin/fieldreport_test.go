package admin

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/jmoiron/sqlx"

	"citybot/internal/browsertest"
	"citybot/internal/db"
	"citybot/routing"
	"citybot/staff"
)

// newFieldReport opens a field report of reporter in dept with a text, a
// photo and a position, as the bot does.
func (e *env) newFieldReport(key, dept string, reporter int64) routing.Case {
	e.t.Helper()
	lat, lon := 51.3397, 12.3731
	var c routing.Case
	err := db.InTx(context.Background(), e.db, func(tx *sqlx.Tx) error {
		var err error
		c, err = routing.NewCases(e.db, routing.CasesOptions{}).OpenFieldReport(context.Background(), tx, routing.FieldReport{
			Key: key, ReporterID: reporter, Department: dept, Text: "Sperrmüll am Waldweg",
			Photos:   []routing.Media{{FileID: "photo-1"}},
			Location: &routing.Media{Latitude: &lat, Longitude: &lon, Title: "Waldweg"},
		})
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// newFieldReportOf opens the field report r as the bot does.
func (e *env) newFieldReportOf(r routing.FieldReport) routing.Case {
	e.t.Helper()
	var c routing.Case
	err := db.InTx(context.Background(), e.db, func(tx *sqlx.Tx) error {
		var err error
		c, err = routing.NewCases(e.db, routing.CasesOptions{}).OpenFieldReport(context.Background(), tx, r)
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// backdate moves case id and its messages and events d into the past, so
// that a screenshot shows waiting times as they are in an office.
func (e *env) backdate(id int64, d time.Duration) {
	e.t.Helper()
	secs := d.Seconds()
	e.db.MustExec(`UPDATE cases SET created_at = created_at - make_interval(secs => $2), updated_at = updated_at - make_interval(secs => $2),
		waiting_since = waiting_since - make_interval(secs => $2), attention_at = attention_at - make_interval(secs => $2),
		last_activity_at = last_activity_at - make_interval(secs => $2) WHERE id = $1`, id, secs)
	e.db.MustExec(`UPDATE messages SET created_at = created_at - make_interval(secs => $2)
		WHERE id IN (SELECT message_id FROM case_messages WHERE case_id = $1)`, id, secs)
	e.db.MustExec(`UPDATE case_events SET at = at - make_interval(secs => $2) WHERE case_id = $1`, id, secs)
}

// namedUser is user with a real name.
func (e *env) namedUser(email, name, role string, deps ...string) int64 {
	e.t.Helper()
	id := e.user(email, role, deps...)
	e.db.MustExec(`UPDATE users SET name = $2 WHERE id = $1`, id, name)
	return id
}

// TestFieldReportInbox: the inbox lists a field report with the badge and
// the reporter's name; the case page shows the reporter, the position as a
// link to OpenStreetMap (no tiles configured: no map), the photo through
// the media proxy, and no reply form; a posted reply is refused; staff of
// another department do not see it.
func TestFieldReportInbox(t *testing.T) {
	files := &fakeFiles{files: map[string][]byte{"photo-1": pngBytes}}
	e := newEnv(t, withCases, func(_ *Config, d *Deps) { d.Files = files })
	anna := e.user("anna@example.org", staff.RoleStaff, "ordnungsamt")
	e.user("bau@example.org", staff.RoleStaff, "bauamt")
	e.user("ord@example.org", staff.RoleStaff, "ordnungsamt")
	cs := e.newFieldReport("1", "ordnungsamt", anna)
	e.newCase("4711", "ordnungsamt", text("Wann ist das Ordnungsamt geöffnet?"))

	ord := e.loggedIn("ord@example.org")
	r := ord.get("/inbox?view=departments")
	if r.Status != http.StatusOK {
		t.Fatalf("inbox: %d", r.Status)
	}
	if n := strings.Count(r.Body, `class="badge badge-field"`); n != 1 {
		t.Fatalf("field badges in the inbox: %d\n%s", n, r.Body)
	}
	for _, want := range []string{"Außendienst</span>", "von anna", `class="field-osm" href="https://www.openstreetmap.org/?mlat=51.339700&amp;mlon=12.373100`} {
		if !strings.Contains(r.Body, want) {
			t.Errorf("inbox lacks %q", want)
		}
	}
	r = ord.get(fmt.Sprintf("/cases/%d", cs.ID))
	if r.Status != http.StatusOK {
		t.Fatalf("case: %d", r.Status)
	}
	for _, want := range []string{
		`<dd class="field-report"><span class="badge badge-field">Außendienst</span> von anna`,
		`href="https://www.openstreetmap.org/?mlat=51.339700&amp;mlon=12.373100`,
		fmt.Sprintf(`/cases/%d/media/`, cs.ID),
		`id="field-no-reply"`,
		"von der meldenden Person gewählter Ort",
	} {
		if !strings.Contains(r.Body, want) {
			t.Errorf("case page lacks %q", want)
		}
	}
	if strings.Contains(r.Body, `id="reply-form"`) || strings.Contains(r.Body, "minimap") {
		t.Error("case page of a field report has a reply form or a map")
	}
	path := fmt.Sprintf("/cases/%d", cs.ID)
	ord.postForm(path, path+"/reply", url.Values{"text": {"Hallo"}})
	var outbox int
	if err := e.db.Get(&outbox, `SELECT count(*) FROM outbox`); err != nil || outbox != 0 {
		t.Fatalf("outbox after a reply to a field report: %d %v", outbox, err)
	}
	if r := e.loggedIn("bau@example.org").get(path); r.Status != http.StatusNotFound {
		t.Fatalf("another department's staff see the report: %d", r.Status)
	}
}

// TestFieldReportRetentionSetting: an admin sets the department's field
// report retention; a bad value is refused with a message.
func TestFieldReportRetentionSetting(t *testing.T) {
	e := newEnv(t, withCases)
	e.user("admin@example.org", staff.RoleAdmin)
	admin := e.loggedIn("admin@example.org")
	r := admin.get("/admin/departments/bauamt")
	if !strings.Contains(r.Body, `name="field_retention_days"`) || !strings.Contains(r.Body, `value="90"`) {
		t.Fatalf("department form lacks the field report retention (default 90)")
	}
	form := url.Values{"name": {"Bauamt"}, "field_retention_days": {"14"}}
	if r := admin.postForm("/admin/departments/bauamt", "/admin/departments/bauamt", form); r.Status != http.StatusSeeOther {
		t.Fatalf("save: %d %s", r.Status, r.Body)
	}
	var days int
	if err := e.db.Get(&days, `SELECT field_report_retention_days FROM departments WHERE id = 'bauamt'`); err != nil || days != 14 {
		t.Fatalf("days = %d, %v", days, err)
	}
	form.Set("field_retention_days", "0")
	r = admin.postForm("/admin/departments/bauamt", "/admin/departments/bauamt", form)
	if r.Status == http.StatusSeeOther || !strings.Contains(r.Body, "1 bis 3650") {
		t.Fatalf("retention 0 accepted: %d", r.Status)
	}
	if err := e.db.Get(&days, `SELECT field_report_retention_days FROM departments WHERE id = 'bauamt'`); err != nil || days != 14 {
		t.Fatalf("days after a bad value = %d, %v", days, err)
	}
}

// TestBrowserFieldReport: in a real browser the inbox shows the field
// report's badge with the reporter, the case page the badge, the reporter,
// the photos and the OpenStreetMap link; both pages pass axe (WCAG 2.1
// AA). Screenshots with CITYBOT_UX_SHOTS=<dir> (the README's, with demo
// data that looks like a city's).
func TestBrowserFieldReport(t *testing.T) {
	wide, closeUp := demoPhotos(t)
	files := &fakeFiles{files: map[string][]byte{"photo-wide": wide, "photo-close": closeUp}}
	e := newEnv(t, withCases, func(_ *Config, d *Deps) { d.Files = files })
	anna := e.namedUser("anna.becker@musterstadt.de", "Anna Becker", staff.RoleStaff, "ordnungsamt")
	e.namedUser("jonas.weber@musterstadt.de", "Jonas Weber", staff.RoleStaff, "ordnungsamt")
	parked, _ := e.newCase("4711", "ordnungsamt", text("Guten Tag, in der Lindenstraße 14 steht seit über einer Woche ein Auto ohne Kennzeichen auf dem Gehweg. Wer kümmert sich darum?"))
	e.backdate(parked.ID, 3*time.Hour+10*time.Minute)
	hours, _ := e.newCase("4712", "ordnungsamt", text("Wann hat das Ordnungsamt am Samstag geöffnet?"))
	e.backdate(hours.ID, 55*time.Minute)
	lat, lon := 51.3397, 12.3731
	cs := e.newFieldReportOf(routing.FieldReport{
		Key: "1", ReporterID: anna, Department: "ordnungsamt",
		Text: "Illegal abgeladener Sperrmüll am Waldweg hinter dem Sportplatz: ein Kühlschrank, eine Matratze, drei Altreifen und Müllsäcke. " +
			"Der Weg ist für Kinderwagen und Rollstühle kaum noch passierbar. Bitte Abholung durch den Bauhof veranlassen.",
		Photos:   []routing.Media{{FileID: "photo-wide"}, {FileID: "photo-close"}},
		Location: &routing.Media{Latitude: &lat, Longitude: &lon, Title: "Waldweg am Sportplatz", Address: "Am Sportplatz, 04109 Musterstadt"},
	})
	e.backdate(cs.ID, 12*time.Minute)

	au := newAudit(t)
	b := browsertest.Start(t, browsertest.WithTimeout(2*time.Minute))
	loginIn(b, e.url, "jonas.weber@musterstadt.de")
	b.Do(15*time.Second, chromedp.Navigate(e.url+"/inbox?view=departments"))
	waitFor(b, ".badge-field")
	if got := evalString(t, b, `document.querySelector(".badge-field").closest("tr").textContent.replace(/\s+/g, " ")`); !strings.Contains(got, "Außendienst") || !strings.Contains(got, "von Anna Becker") {
		t.Errorf("inbox row = %q", got)
	}
	if got := evalString(t, b, `document.querySelector(".field-osm").href`); !strings.HasPrefix(got, "https://www.openstreetmap.org/?mlat=51.339700&mlon=12.373100") {
		t.Errorf("inbox OSM link = %q", got)
	}
	shot(t, b, os.Getenv("CITYBOT_UX_SHOTS"), "field-report-inbox")
	au.check(b, "/inbox (field report)", "de")
	// The case page a little taller, to show the report's text and a photo.
	b.Do(5*time.Second, chromedp.EmulateViewport(1280, 1000))
	b.Do(15*time.Second, chromedp.Navigate(fmt.Sprintf("%s/cases/%d", e.url, cs.ID)))
	waitFor(b, ".field-report a")
	if got := evalString(t, b, `document.querySelector(".field-report a").href`); !strings.HasPrefix(got, "https://www.openstreetmap.org/?mlat=51.339700&mlon=12.373100") {
		t.Errorf("OSM link = %q", got)
	}
	if got := evalString(t, b, `document.querySelector(".field-report").textContent.replace(/\s+/g, " ")`); !strings.Contains(got, "Außendienst") || !strings.Contains(got, "von Anna Becker") || !strings.Contains(got, "OpenStreetMap") {
		t.Errorf("field report facts = %q", got)
	}
	// Both photos are shown, loaded through the media proxy.
	b.Do(15*time.Second, browsertest.Until(`Array.from(document.querySelectorAll(".transcript img")).filter(function(i){ return i.complete && i.naturalWidth === 480; }).length === 2`))
	evalString(t, b, `(document.querySelector(".transcript-box").scrollTop = 0, "")`)
	shot(t, b, os.Getenv("CITYBOT_UX_SHOTS"), "field-report-case")
	au.check(b, "/cases/ID (field report)", "de")
	au.report()
	if ex := b.Exceptions(); len(ex) > 0 {
		t.Errorf("page exceptions: %v", ex)
	}
}
