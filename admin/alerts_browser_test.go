package admin

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"citybot/internal/browsertest"
	"citybot/staff"
)

// TestBrowserAccountAlerts: a staff member chooses alerts in a real
// Chromium, with the keyboard-usable radio buttons, and the page passes
// axe's WCAG 2.1 AA rules before and after saving.
func TestBrowserAccountAlerts(t *testing.T) {
	e := newEnv(t, withCases)
	uid := e.user("bau@example.org", staff.RoleStaff, "bauamt", "ordnungsamt")
	b := browsertest.Start(t, browsertest.WithTimeout(90*time.Second))
	au := newAudit(t)
	loginIn(b, e.url, "bau@example.org")
	b.Do(15*time.Second, chromedp.Navigate(e.url+"/account"), chromedp.WaitVisible("#alerts-form"))
	au.check(b, "staff de /account (alerts)", "de")
	b.Do(15*time.Second,
		chromedp.Click(`label[for="alert-bauamt-digest"]`),
		chromedp.Click(`#alerts-form button[type=submit]`),
		browsertest.Until(`location.search.includes("notice=alerts_saved") && document.readyState === "complete"`),
		chromedp.WaitVisible(`#alert-bauamt-digest:checked`),
	)
	if loc, _ := chromedp.Run(b.Context(), chromedp.Location()); !strings.Contains(loc, "notice=alerts_saved") {
		t.Fatalf("after saving at %s", loc)
	}
	if m := alertModes(t, e, uid); m["bauamt"] != "digest" || m["ordnungsamt"] != "off" {
		t.Fatalf("saved modes = %v", m)
	}
	au.check(b, "staff de /account (alerts saved)", "de")
	// The README's screenshot of the settings (CITYBOT_UX_SHOTS=dir).
	b.Do(15*time.Second, chromedp.ScrollIntoView("#alerts-form button[type=submit]"))
	shot(t, b, os.Getenv("CITYBOT_UX_SHOTS"), "account-alerts")
	au.report()
}
