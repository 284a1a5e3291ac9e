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
// report's badge with the reporter, the case page the badge, the reporter
// and the OpenStreetMap link; both pages pass axe (WCAG 2.1 AA).
// Screenshots with CITYBOT_UX_SHOTS=<dir>.
func TestBrowserFieldReport(t *testing.T) {
	files := &fakeFiles{files: map[string][]byte{"photo-1": pngBytes}}
	e := newEnv(t, withCases, func(_ *Config, d *Deps) { d.Files = files })
	anna := e.user("anna@example.org", staff.RoleStaff, "ordnungsamt")
	e.user("ord@example.org", staff.RoleStaff, "ordnungsamt")
	cs := e.newFieldReport("1", "ordnungsamt", anna)
	e.newCase("4711", "ordnungsamt", text("Wann ist das Ordnungsamt geöffnet?"))

	au := newAudit(t)
	b := browsertest.Start(t, browsertest.WithTimeout(2*time.Minute))
	loginIn(b, e.url, "ord@example.org")
	b.Do(15*time.Second, chromedp.Navigate(e.url+"/inbox?view=departments"))
	waitFor(b, ".badge-field")
	if got := evalString(t, b, `document.querySelector(".badge-field").closest("tr").textContent.replace(/\s+/g, " ")`); !strings.Contains(got, "Außendienst") || !strings.Contains(got, "von anna") {
		t.Errorf("inbox row = %q", got)
	}
	if got := evalString(t, b, `document.querySelector(".field-osm").href`); !strings.HasPrefix(got, "https://www.openstreetmap.org/?mlat=51.339700&mlon=12.373100") {
		t.Errorf("inbox OSM link = %q", got)
	}
	shot(t, b, os.Getenv("CITYBOT_UX_SHOTS"), "field-report-inbox")
	au.check(b, "/inbox (field report)", "de")
	b.Do(15*time.Second, chromedp.Navigate(fmt.Sprintf("%s/cases/%d", e.url, cs.ID)))
	waitFor(b, ".field-report a")
	if got := evalString(t, b, `document.querySelector(".field-report a").href`); !strings.HasPrefix(got, "https://www.openstreetmap.org/?mlat=51.339700&mlon=12.373100") {
		t.Errorf("OSM link = %q", got)
	}
	if got := evalString(t, b, `document.querySelector(".field-report").textContent.replace(/\s+/g, " ")`); !strings.Contains(got, "Außendienst") || !strings.Contains(got, "von anna") || !strings.Contains(got, "OpenStreetMap") {
		t.Errorf("field report facts = %q", got)
	}
	shot(t, b, os.Getenv("CITYBOT_UX_SHOTS"), "field-report-case")
	au.check(b, "/cases/ID (field report)", "de")
	au.report()
	if ex := b.Exceptions(); len(ex) > 0 {
		t.Errorf("page exceptions: %v", ex)
	}
}
