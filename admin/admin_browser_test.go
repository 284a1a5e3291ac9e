package admin

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"citybot/internal/browsertest"
	"citybot/staff"
)

// TestBrowserAdminPages: an admin at 1366x900 (and the same pages at
// 390x844): the navigation stays on one line, "Neues Amt" creates a
// department with an answer target, the department form shows whole
// values and says what the default retention is, the user list names
// offices, the audit log names actions in words. With CITYBOT_UX_SHOTS=dir
// screenshots are saved.
func TestBrowserAdminPages(t *testing.T) {
	e := newEnv(t, withCases, withRules)
	e.withDemoFAQ()
	e.user("admin@example.org", staff.RoleAdmin)
	e.user("bau@example.org", staff.RoleStaff, "bauamt")
	if _, err := e.db.Exec(`UPDATE departments SET office_hours = '{"1":[["08:00","12:00"],["14:00","16:00"]]}' WHERE id = 'bauamt'`); err != nil {
		t.Fatal(err)
	}
	shots := os.Getenv("CITYBOT_UX_SHOTS")
	b := browsertest.Start(t, browsertest.WithTimeout(3*time.Minute))
	b.Do(5*time.Second, chromedp.EmulateViewport(1366, 900))
	loginIn(b, e.url, "admin@example.org")
	get := func(js string) string {
		t.Helper()
		s, err := chromedp.Run(b.Context(), chromedp.Evaluate[string](js))
		if err != nil {
			t.Fatalf("%s: %v", js, err)
		}
		return s
	}
	shot := func(name string) {
		t.Helper()
		if shots == "" {
			return
		}
		png, err := chromedp.Run(b.Context(), chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(shots, name+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	open := func(path string) {
		t.Helper()
		b.Do(15*time.Second, chromedp.Navigate(e.url+path))
		waitForT(t, b, "main h1")
	}

	// The navigation is one line at 1366 px, and nothing scrolls sideways.
	open("/admin/departments")
	if got := get(`(function(){
  var tops = {}; document.querySelectorAll("header nav li").forEach(function(li){ tops[Math.round(li.getBoundingClientRect().top)] = 1; });
  var de = document.documentElement;
  return Object.keys(tops).length + " " + (de.scrollWidth > de.clientWidth);
})()`); got != "1 false" {
		t.Errorf("navigation lines / sideways scroll: %s", got)
	}
	shot("admin-departments-desktop")

	// "Neues Amt" creates a department.
	b.Do(15*time.Second, browsertest.Eval(`document.querySelector('a[href="/admin/departments/new"]').click()`))
	waitForT(t, b, "#id")
	b.Do(15*time.Second,
		chromedp.SendKeys("#id", "stadtarchiv"),
		chromedp.SendKeys("#name", "Stadtarchiv"),
		chromedp.SendKeys("#hours_1", "08:00-12:00, 14:00-16:00"),
		browsertest.Eval(`document.querySelector("#answer_target").value = "2"`),
	)
	// Whole values are visible; the default retention is said.
	if got := get(`(function(){ var i = document.querySelector("#hours_1"); return (i.scrollWidth <= i.clientWidth) + " " + document.querySelector("#retention-hint").textContent; })()`); got != "true Leer: Standard (derzeit 90 Tage)." {
		t.Errorf("department form: %q", got)
	}
	shot("admin-department-new-desktop")
	b.Do(15*time.Second, browsertest.Eval(`window.__old = 1; document.querySelector('main form[method=post] button[type=submit]').click()`))
	waitForT(t, b, ".notice")
	if got := get(`document.querySelector("main table").textContent`); !strings.Contains(got, "Stadtarchiv") || !strings.Contains(got, "2 Std.") {
		t.Errorf("departments after creating: %s", got)
	}
	var target int
	if err := e.db.Get(&target, `SELECT answer_target_minutes FROM departments WHERE id = 'stadtarchiv'`); err != nil || target != 120 {
		t.Errorf("answer target %d (%v)", target, err)
	}

	// Users: offices by name.
	open("/admin/users")
	if got := get(`document.querySelector("main table").textContent`); !strings.Contains(got, "Bauamt") || strings.Contains(got, "bauamt") {
		t.Errorf("user list: %s", got)
	}
	// Audit: actions in words.
	open("/admin/audit")
	if got := get(`document.querySelector("main table").textContent`); !strings.Contains(got, "Amt angelegt") || !strings.Contains(got, "Anmeldung") {
		t.Errorf("audit log: %s", got)
	}
	shot("admin-audit-desktop")

	// The same pages on a phone: nothing scrolls sideways.
	b.Do(5*time.Second, chromedp.EmulateViewport(390, 844))
	for _, p := range []string{"/admin/departments/new", "/admin/users", "/inbox"} {
		open(p)
		if got := get(`(function(){ var de = document.documentElement; return de.scrollWidth > de.clientWidth ? "page " + de.scrollWidth + "px wide" : ""; })()`); got != "" {
			t.Errorf("%s on a phone: %s", p, got)
		}
	}
	shot("admin-inbox-phone")
	if ex := b.Exceptions(); len(ex) > 0 {
		t.Errorf("page exceptions: %v", ex)
	}
}
