package admin

import (
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"citybot/internal/browsertest"
	"citybot/staff"
)

// evalString evaluates js in the page and fails the test on error.
func evalString(t *testing.T, b *browsertest.Browser, js string) string {
	t.Helper()
	s, err := chromedp.Run(b.Context(), chromedp.Evaluate[string](js))
	if err != nil {
		t.Fatalf("%s: %v", js, err)
	}
	return s
}

const rowOrderJS = `Array.prototype.map.call(document.querySelectorAll("#caselist tr[data-case]"), function(r){return r.getAttribute("data-case")}).join(",")`

// TestBrowserInboxSortAndBulk: the inbox's columns sort from the keyboard
// (Tab to the header, Enter), say so with aria-sort, keep the order in the
// URL (through the search form, the next page and live updates), and the
// bulk actions transfer and close the chosen cases.
func TestBrowserInboxSortAndBulk(t *testing.T) {
	e := newEnv(t, withCases)
	e.user("chef@example.org", staff.RoleAdmin)
	a, _ := e.newCase("811", "ordnungsamt", text("Laute Musik jede Nacht im Hinterhof"))
	b2, _ := e.newCase("812", "bauamt", text("Baustelle ohne Schild in der Gartenstraße"))
	c, _ := e.newCase("813", "bauamt", text("Wann ist die Bauberatung?"))
	d, _ := e.newCase("814", "zentrale", text("Wo finde ich das Fundbüro?"))
	for i, id := range []int64{a.ID, b2.ID, c.ID, d.ID} {
		if _, err := e.db.Exec(`UPDATE cases SET waiting_since = now() - make_interval(mins => $2) WHERE id = $1`, id, []int{30, 240, 5, 90}[i]); err != nil {
			t.Fatal(err)
		}
	}
	shots := os.Getenv("CITYBOT_UX_SHOTS")
	br := browsertest.Start(t, browsertest.WithTimeout(3*time.Minute))
	br.Do(5*time.Second, chromedp.EmulateViewport(1366, 900))
	loginIn(br, e.url, "chef@example.org")
	br.Do(15*time.Second, chromedp.Navigate(e.url+"/inbox"))
	waitFor(br, "#caselist tr[data-case]")
	ids := func(xs ...int64) string {
		s := make([]string, len(xs))
		for i, x := range xs {
			s[i] = fmt.Sprint(x)
		}
		return strings.Join(s, ",")
	}
	// The waiting list: longest wait first, and the wait column says so.
	if got := evalString(t, br, rowOrderJS); got != ids(b2.ID, d.ID, a.ID, c.ID) {
		t.Errorf("waiting order %s", got)
	}
	if got := evalString(t, br, `Array.prototype.map.call(document.querySelectorAll("#caselist th[aria-sort]"), function(th){return th.textContent.trim().split("\n")[0] + "=" + th.getAttribute("aria-sort")}).join(";")`); !strings.HasPrefix(got, "Wartezeit") || !strings.HasSuffix(got, "=descending") {
		t.Errorf("aria-sort on the waiting list: %q", got)
	}

	// From the keyboard: Tab to the "Amt" header link, Enter.
	tabTo := func(sel string) {
		t.Helper()
		br.Do(5*time.Second, browsertest.Eval(resetFocusJS))
		for i := 0; i < 60; i++ {
			br.Do(5*time.Second, chromedp.KeyEvent(kb.Tab))
			if ok, _ := chromedp.Run(br.Context(), chromedp.Evaluate[bool](`document.activeElement === document.querySelector(`+fmt.Sprintf("%q", sel)+`)`)); ok {
				return
			}
		}
		t.Fatalf("Tab never reaches %s", sel)
	}
	tabTo(`#caselist a[data-sort="dept"]`)
	br.Do(5*time.Second, browsertest.Eval(`window.__old = 1`), chromedp.KeyEvent(kb.Enter))
	waitJS(br, `!window.__old && document.readyState === "complete" && location.search.indexOf("sort=dept") >= 0`)
	// Bauamt (2 cases, by number), Ordnungsamt, Zentrale.
	if got := evalString(t, br, rowOrderJS); got != ids(b2.ID, c.ID, a.ID, d.ID) {
		t.Errorf("by department %s", got)
	}
	if got := evalString(t, br, `document.querySelector('#caselist a[data-sort="dept"]').closest("th").getAttribute("aria-sort") + " " + document.querySelectorAll("#caselist th[aria-sort]").length`); got != "ascending 1" {
		t.Errorf("aria-sort after sorting by department: %q", got)
	}
	shot(t, br, shots, "inbox-sorted-desktop")
	// Enter again: the other way round.
	tabTo(`#caselist a[data-sort="dept"]`)
	br.Do(5*time.Second, browsertest.Eval(`window.__old = 1`), chromedp.KeyEvent(kb.Enter))
	waitJS(br, `!window.__old && document.readyState === "complete" && location.search.indexOf("dir=desc") >= 0`)
	if got := evalString(t, br, rowOrderJS); got != ids(d.ID, a.ID, c.ID, b2.ID) {
		t.Errorf("by department, descending %s", got)
	}
	if got := evalString(t, br, `document.querySelector('#caselist a[data-sort="dept"]').closest("th").getAttribute("aria-sort")`); got != "descending" {
		t.Errorf("aria-sort %q", got)
	}
	// By case number, then a search keeps the order.
	br.Do(15*time.Second, browsertest.Eval(`window.__old = 1`), chromedp.Click(`#caselist a[data-sort="number"]`))
	waitJS(br, `!window.__old && document.readyState === "complete" && location.search.indexOf("sort=number") >= 0`)
	if got := evalString(t, br, rowOrderJS); got != ids(a.ID, b2.ID, c.ID, d.ID) {
		t.Errorf("by number %s", got)
	}
	br.Do(10*time.Second, chromedp.SendKeys("#q", "Bau"), browsertest.Eval(`window.__old = 1; document.querySelector("#q").form.requestSubmit()`))
	waitJS(br, `!window.__old && document.readyState === "complete"`)
	if got := evalString(t, br, `new URLSearchParams(location.search).get("sort") + " " + document.querySelector('#caselist a[data-sort="number"]').closest("th").getAttribute("aria-sort")`); got != "number ascending" {
		t.Errorf("search lost the order: %q", got)
	}
	// Live updates keep the order: a new case with a low wait lands by its number, last.
	br.Do(15*time.Second, chromedp.Navigate(e.url+"/inbox?view=waiting&sort=number&dir=desc"))
	waitFor(br, "#caselist tr[data-case]")
	br.Do(15*time.Second, browsertest.Until(`document.body.getAttribute("data-live") === "on"`))
	nw, _ := e.newCase("815", "bauamt", text("Noch eine Frage zum Bauantrag"))
	waitJS(br, fmt.Sprintf(`!!document.querySelector('#caselist tr[data-case="%d"]')`, nw.ID))
	if got := evalString(t, br, rowOrderJS); got != ids(nw.ID, d.ID, c.ID, b2.ID, a.ID) {
		t.Errorf("live update, by number descending: %s", got)
	}

	// Bulk transfer: choose two cases, transfer them to the Ordnungsamt.
	br.Do(10*time.Second,
		chromedp.Click(fmt.Sprintf(`#sel-%d`, b2.ID)), chromedp.Click(fmt.Sprintf(`#sel-%d`, c.ID)),
		chromedp.SetValue("#bulk-action", "transfer"), chromedp.SetValue("#bulk-department", "ordnungsamt"),
		browsertest.Eval(`window.__old = 1`), chromedp.Click("#bulk-go"))
	waitJS(br, `!window.__old && !!document.querySelector(".notice")`)
	if n := e.count(`SELECT count(*) FROM cases WHERE id IN ($1, $2) AND department_id = 'ordnungsamt' AND status = 'waiting'`, b2.ID, c.ID); n != 2 {
		t.Errorf("bulk transfer: %d moved", n)
	}
	if got := evalString(t, br, `new URLSearchParams(location.search).get("sort") + "/" + new URLSearchParams(location.search).get("dir")`); got != "number/desc" {
		t.Errorf("bulk action lost the order: %s", got)
	}
	// Bulk close: two more.
	br.Do(10*time.Second,
		chromedp.Click(fmt.Sprintf(`#sel-%d`, a.ID)), chromedp.Click(fmt.Sprintf(`#sel-%d`, d.ID)),
		chromedp.SetValue("#bulk-action", "close"),
		browsertest.Eval(`window.__old = 1`), chromedp.Click("#bulk-go"))
	waitJS(br, `!window.__old && !!document.querySelector(".notice")`)
	if n := e.count(`SELECT count(*) FROM cases WHERE id IN ($1, $2) AND status = 'closed'`, a.ID, d.ID); n != 2 {
		t.Errorf("bulk close: %d closed", n)
	}
	if got := evalString(t, br, rowOrderJS); got != ids(nw.ID, c.ID, b2.ID) {
		t.Errorf("after the bulk close the waiting list is %s", got)
	}
	// On a phone the sort links are visible above the cards and nothing
	// scrolls sideways.
	br.Do(5*time.Second, chromedp.EmulateViewport(390, 844))
	br.Do(15*time.Second, chromedp.Navigate(e.url+"/inbox?view=departments&sort=wait"))
	waitFor(br, "#caselist tr[data-case]")
	shot(t, br, shots, "inbox-sorted-phone")
	if got := evalString(t, br, `Array.prototype.map.call(document.querySelectorAll("#caselist th a[data-sort]"), function(a){ var r = a.getBoundingClientRect(); return a.getAttribute("data-sort") + (r.width > 1 && r.right <= document.documentElement.clientWidth ? "" : " hidden"); }).join(",")`); got != "number,dept,status" {
		t.Errorf("phone: sort links %q", got)
	}
	if got := evalString(t, br, sidewaysJS); got != "" {
		t.Errorf("phone: %s", got)
	}
	if ex := br.Exceptions(); len(ex) > 0 {
		t.Errorf("page exceptions: %v", ex)
	}
}

// TestBrowserNotificationsAndKeys: desktop notifications are opt-in (the
// browser's permission, granted here through the DevTools protocol, and
// the button): a new case arriving while the tab is in the background
// creates a Notification, none before opting in. Then the keyboard: j
// picks a case, r opens it with the reply box focused, e sends the typed
// answer and closes the case.
func TestBrowserNotificationsAndKeys(t *testing.T) {
	e := newEnv(t, withCases)
	e.user("bau@example.org", staff.RoleStaff, "bauamt")
	first, _ := e.newCase("821", "bauamt", text("Brauche ich für einen Zaun eine Genehmigung?"))
	b := browsertest.Start(t, browsertest.WithTimeout(3*time.Minute))
	b.Do(5*time.Second, chromedp.EmulateViewport(1366, 900))
	loginIn(b, e.url, "bau@example.org")
	u, _ := url.Parse(e.url)
	params := browser.SetPermissionParams{
		Permission: &browser.PermissionDescriptor{Name: "notifications"},
		Setting:    browser.PermissionSettingGranted,
		Origin:     u.Scheme + "://" + u.Host,
	}
	if c := chromedp.FromContext(b.Context()); c != nil {
		params.BrowserContextID = c.BrowserContextID
	}
	if _, err := chromedp.CallBrowser(b.Context(), browser.SetPermission, params); err != nil {
		t.Fatalf("grant notifications: %v", err)
	}
	b.Do(15*time.Second, chromedp.Navigate(e.url+"/inbox"))
	waitFor(b, "#notify-toggle:not([hidden])")
	b.Do(15*time.Second, browsertest.Until(`document.body.getAttribute("data-live") === "on"`))
	// Record the notifications the page creates (the real constructor
	// runs), and put the tab in the background as far as the page sees.
	spy := `window.__notes = [];
(function(N){ class Spy extends N { constructor(t, o) { super(t, o); window.__notes.push(t + "|" + (o && o.body)); } } window.Notification = Spy; })(window.Notification);
Object.defineProperty(document, "hidden", {configurable: true, get: function(){ return true; }});`
	b.Do(5*time.Second, browsertest.Eval(spy))
	if got := evalString(t, b, `Notification.permission + " " + document.getElementById("notify-toggle").getAttribute("aria-pressed")`); got != "granted false" {
		t.Fatalf("before opting in: %q", got)
	}
	// Not opted in: a new case makes no notification.
	quiet, _ := e.newCase("822", "bauamt", text("Darf ich eine Hecke pflanzen?"))
	waitJS(b, fmt.Sprintf(`!!document.querySelector('#caselist tr[data-case="%d"]')`, quiet.ID))
	if got := evalString(t, b, `String(window.__notes.length)`); got != "0" {
		t.Errorf("notifications before opting in: %s", got)
	}
	// Opt in.
	b.Do(10*time.Second, chromedp.Click("#notify-toggle"))
	waitJS(b, `document.getElementById("notify-toggle").getAttribute("aria-pressed") === "true" && localStorage.getItem("citybot.notify") === "1"`)
	third, _ := e.newCase("823", "bauamt", text("Wie hoch darf die Garage sein?"))
	waitJS(b, `window.__notes.length === 1`)
	if got := evalString(t, b, `window.__notes[0]`); got != fmt.Sprintf("Neue Nachricht im Posteingang|#%d", third.ID) {
		t.Errorf("notification %q", got)
	}
	// Opting out again: quiet.
	b.Do(10*time.Second, chromedp.Click("#notify-toggle"))
	waitJS(b, `document.getElementById("notify-toggle").getAttribute("aria-pressed") === "false"`)
	fourth, _ := e.newCase("824", "bauamt", text("Noch eine Frage"))
	waitJS(b, fmt.Sprintf(`!!document.querySelector('#caselist tr[data-case="%d"]')`, fourth.ID))
	if got := evalString(t, b, `String(window.__notes.length)`); got != "1" {
		t.Errorf("notifications after opting out: %s", got)
	}

	// j, r: the first waiting case opens with the reply box focused.
	b.Do(5*time.Second, browsertest.Eval(`document.activeElement && document.activeElement.blur()`), chromedp.KeyEvent("j"))
	b.Do(5*time.Second, browsertest.Eval(`document.activeElement && document.activeElement.blur()`), chromedp.KeyEvent("r"))
	waitJS(b, fmt.Sprintf(`location.pathname === "/cases/%d" && document.readyState === "complete" && document.activeElement && document.activeElement.id === "reply"`, first.ID))
	b.Do(10*time.Second, chromedp.KeyEvent("Ein Zaun bis 1,80 m ist genehmigungsfrei."))
	// e (outside the text box) sends and closes; the next waiting case opens.
	b.Do(5*time.Second, browsertest.Eval(`window.__old = 1; document.activeElement.blur()`), chromedp.KeyEvent("e"))
	waitJS(b, `!window.__old && document.readyState === "complete" && location.pathname.indexOf("/cases/") === 0`)
	if st := e.statusOf(first.ID); st != "closed" {
		t.Errorf("after e: case %d is %s", first.ID, st)
	}
	if n := e.count(`SELECT count(*) FROM messages m JOIN cases c ON c.citizen_id = m.citizen_id WHERE c.id = $1 AND m.direction = 'out' AND m.text LIKE 'Ein Zaun bis 1,80 m%'`, first.ID); n != 1 {
		t.Errorf("after e: %d replies stored", n)
	}
	if got := evalString(t, b, `location.pathname`); got == fmt.Sprintf("/cases/%d", first.ID) {
		t.Errorf("after e: still on the closed case")
	}
	if ex := b.Exceptions(); len(ex) > 0 {
		t.Errorf("page exceptions: %v", ex)
	}
}
