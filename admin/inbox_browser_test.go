package admin

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"citybot/internal/browsertest"
	"citybot/staff"
)

// TestBrowserInboxWork: the inbox in a real browser at 1366x900 and
// 390x844. Waits are shown in words and judged against the department's
// target; the tabs and the title carry counts (live); a search covers
// every tab; j/k/x choose cases from the keyboard and a bulk action
// assigns them; "?" shows the shortcuts; on a phone nothing scrolls
// sideways. With CITYBOT_UX_SHOTS=dir screenshots are saved.
func TestBrowserInboxWork(t *testing.T) {
	e := newEnv(t, withCases)
	uid := e.user("bau@example.org", staff.RoleStaff, "bauamt")
	if _, err := e.db.Exec(`UPDATE departments SET answer_target_minutes = 60 WHERE id = 'bauamt'`); err != nil {
		t.Fatal(err)
	}
	old, _ := e.newCase("801", "bauamt", text("Mein Nachbar baut ohne Genehmigung eine Garage an meine Grenze, was kann ich tun?"))
	if _, err := e.db.Exec(`UPDATE cases SET waiting_since = now() - interval '5 hours 10 minutes', created_at = now() - interval '5 hours 10 minutes' WHERE id = $1`, old.ID); err != nil {
		t.Fatal(err)
	}
	fresh, _ := e.newCase("802", "bauamt", text("Wie lange dauert ein Bauantrag?"))
	done, _ := e.newCase("803", "bauamt", text("Darf ich einen Carport bauen?"))
	if _, err := e.db.Exec(`UPDATE cases SET status = 'closed', closed_at = now() WHERE id = $1`, done.ID); err != nil {
		t.Fatal(err)
	}
	shots := os.Getenv("CITYBOT_UX_SHOTS")

	for _, size := range []struct {
		name string
		w, h int64
	}{{"desktop", 1366, 900}, {"phone", 390, 844}} {
		b := browsertest.Start(t, browsertest.WithTimeout(2*time.Minute))
		b.Do(5*time.Second, chromedp.EmulateViewport(size.w, size.h))
		loginIn(b, e.url, "bau@example.org")
		b.Do(15*time.Second, chromedp.Navigate(e.url+"/inbox"))
		waitFor(b, "#caselist")
		get := func(js string) string {
			t.Helper()
			s, err := chromedp.Run(b.Context(), chromedp.Evaluate[string](js))
			if err != nil {
				t.Fatalf("%s: %s: %v", size.name, js, err)
			}
			return s
		}
		if shots != "" {
			png, err := chromedp.Run(b.Context(), chromedp.CaptureScreenshot())
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(shots, "inbox-"+size.name+".png"), png, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		// Nothing scrolls sideways; every row's status is on screen.
		if got := get(`(function(){
  var de = document.documentElement, bad = [];
  if (de.scrollWidth > de.clientWidth) bad.push("page " + de.scrollWidth + "px wide");
  document.querySelectorAll("#caselist td.state").forEach(function(td){ var r = td.getBoundingClientRect(); if (r.right > de.clientWidth + 1) bad.push("status at " + Math.round(r.right)); });
  return bad.join(", ");
})()`); got != "" {
			t.Errorf("%s: %s", size.name, got)
		}
		if size.name == "phone" {
			continue
		}

		// Waits in words, judged against the target (60 min).
		row := func(id int64) string { return fmt.Sprintf(`#caselist tr[data-case="%d"]`, id) }
		if got := get(`document.querySelector('` + row(old.ID) + ` td.state').textContent`); !strings.Contains(got, "wartet seit 5 Std. 10 Min.") || !strings.Contains(got, "über dem Ziel") {
			t.Errorf("old case wait %q", got)
		}
		if got := get(`document.querySelector('` + row(old.ID) + ` .wait').className + " / " + document.querySelector('` + row(fresh.ID) + ` .wait').className`); got != "wait wait-over / wait wait-ok" {
			t.Errorf("wait levels %q", got)
		}
		// Counts in the tabs and the title.
		if got := get(`document.querySelector('.views a[data-view="waiting"] .count').textContent + " " + document.querySelector('.views a[data-view="closed"] .count').textContent + " | " + document.title`); got != "2 1 | (2) Posteingang – Bürgerservice" {
			t.Errorf("counts %q", got)
		}
		// A new case arrives: the counts follow live.
		b.Do(15*time.Second, browsertest.Until(`document.body.getAttribute("data-live") === "on"`))
		third, _ := e.newCase("804", "bauamt", text("Brauche ich für eine Solaranlage eine Genehmigung?"))
		waitFor(b, row(third.ID))
		b.Do(10*time.Second, browsertest.Until(`document.title.indexOf("(3)") === 0`))

		// Keyboard: j, x, j, x chooses the first two cases; the bulk action assigns them.
		b.Do(10*time.Second, browsertest.Eval(`document.activeElement && document.activeElement.blur()`))
		for _, k := range []string{"j", "x", "j", "x"} {
			b.Do(5*time.Second, browsertest.Eval(`document.body.dispatchEvent(new KeyboardEvent("keydown", {key: "`+k+`", bubbles: true}))`))
		}
		if got := get(`Array.prototype.map.call(document.querySelectorAll('#caselist input[name="ids"]:checked'), function(c){return c.value}).join(",")`); got != fmt.Sprintf("%d,%d", old.ID, fresh.ID) {
			t.Fatalf("chosen by keyboard %q", got)
		}
		b.Do(10*time.Second, chromedp.SetValue("#bulk-action", "assign_me"), browsertest.Eval(`window.__old = 1; document.querySelector("#bulk-go").click()`))
		waitJS(b, `!window.__old && !!document.querySelector(".notice")`)
		var n int
		if err := e.db.Get(&n, `SELECT count(*) FROM cases WHERE assignee_id = $1 AND status = 'assigned'`, uid); err != nil || n != 2 {
			t.Errorf("bulk assign: %d assigned (%v)", n, err)
		}
		// "?" shows the shortcuts.
		b.Do(5*time.Second, browsertest.Eval(`document.body.dispatchEvent(new KeyboardEvent("keydown", {key: "?", bubbles: true}))`))
		if got := get(`document.getElementById("shortcuts").open ? document.getElementById("shortcuts").textContent : "closed"`); !strings.Contains(got, "nächster / vorheriger Fall") {
			t.Errorf("shortcut help %q", got)
		}
		// A search from the Wartend tab finds the closed carport case.
		b.Do(15*time.Second, chromedp.Navigate(e.url+"/inbox?view=waiting"))
		waitFor(b, "#q")
		b.Do(10*time.Second, chromedp.SendKeys("#q", "Carport"), browsertest.Eval(`window.__old = 1; document.querySelector("#q").form.requestSubmit()`))
		waitJS(b, `!window.__old && document.readyState === "complete"`)
		if got := get(`Array.prototype.map.call(document.querySelectorAll("#caselist tr[data-case]"), function(r){return r.getAttribute("data-case")}).join(",")`); got != fmt.Sprint(done.ID) {
			t.Errorf("search for Carport from Wartend found %q, want %d", got, done.ID)
		}
		if ex := b.Exceptions(); len(ex) > 0 {
			t.Errorf("page exceptions: %v", ex)
		}
	}
}
