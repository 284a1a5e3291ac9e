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

// shot saves a screenshot of the page as dir/name.png when dir is set
// (CITYBOT_UX_SHOTS).
func shot(t *testing.T, b *browsertest.Browser, dir, name string) {
	t.Helper()
	if dir == "" {
		return
	}
	png, err := chromedp.Run(b.Context(), chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// sidewaysJS names what makes the page wider than the viewport ("": nothing).
const sidewaysJS = `(function(){
  var de = document.documentElement;
  if (de.scrollWidth <= de.clientWidth) return "";
  var out = [];
  document.querySelectorAll("body *").forEach(function(el){ var r = el.getBoundingClientRect(); if (r.right > de.clientWidth + 1 && out.length < 5) out.push(el.tagName + (el.id ? "#" + el.id : "") + " " + Math.round(r.right)); });
  return de.scrollWidth + "px: " + out.join(", ");
})()`

// TestBrowserInvite: an admin creates a colleague in the browser without a
// password and copies the invitation link; the colleague opens it in a
// browser of their own, chooses a password and lands logged in in the
// inbox; the link then says it was used. At 1366x900 and 390x844.
func TestBrowserInvite(t *testing.T) {
	e := newEnv(t, withCases)
	e.user("admin@example.org", staff.RoleAdmin)
	shots := os.Getenv("CITYBOT_UX_SHOTS")
	for i, size := range []struct {
		name string
		w, h int64
	}{{"desktop", 1366, 900}, {"phone", 390, 844}} {
		email := []string{"neu@example.org", "neu2@example.org"}[i]
		admin := browsertest.Start(t, browsertest.WithTimeout(2*time.Minute))
		admin.Do(5*time.Second, chromedp.EmulateViewport(size.w, size.h))
		loginIn(admin, e.url, "admin@example.org")
		admin.Do(15*time.Second, chromedp.Navigate(e.url+"/admin/users/new"))
		waitFor(admin, "#email")
		if n, _ := chromedp.Run(admin.Context(), chromedp.Evaluate[int](`document.querySelectorAll('main input[type=password]').length`)); n != 0 {
			t.Errorf("%s: the new-user form has %d password fields", size.name, n)
		}
		admin.Do(15*time.Second,
			chromedp.SendKeys("#email", email),
			chromedp.SendKeys("#name", "Neue Kollegin"),
			chromedp.Click("#dep-bauamt"),
			browsertest.Eval(`window.__old = 1`),
			chromedp.Click(`main form button[type=submit]`),
		)
		waitFor(admin, "#invite-url")
		shot(t, admin, shots, "user-invited-"+size.name)
		link, err := chromedp.Run(admin.Context(), chromedp.Evaluate[string](`document.getElementById("invite-url").value`))
		if err != nil || !strings.HasPrefix(link, "http://example.test/invite?t=") {
			t.Fatalf("%s: link %q %v", size.name, link, err)
		}
		// The page does not leave the viewport sideways (the long link wraps in its field).
		if w, _ := chromedp.Run(admin.Context(), chromedp.Evaluate[bool](`document.documentElement.scrollWidth <= document.documentElement.clientWidth`)); !w {
			t.Errorf("%s: the invitation page scrolls sideways", size.name)
		}
		path := strings.TrimPrefix(link, "http://example.test")
		// The user's page says the invitation is open and offers a new link.
		admin.Do(15*time.Second, browsertest.Eval(`window.__old = 1`), chromedp.Click(`main a[href^="/admin/users/"]`))
		waitFor(admin, "#access-state")
		shot(t, admin, shots, "user-edit-"+size.name)
		if got, _ := chromedp.Run(admin.Context(), chromedp.Evaluate[string](`document.getElementById("access-state").textContent`)); !strings.HasPrefix(got, "Einladung offen bis ") {
			t.Errorf("%s: access state %q", size.name, got)
		}

		// The colleague, in a browser of their own.
		neu := browsertest.Start(t, browsertest.WithTimeout(2*time.Minute))
		neu.Do(5*time.Second, chromedp.EmulateViewport(size.w, size.h))
		neu.Do(15*time.Second, chromedp.Navigate(e.url+path))
		waitFor(neu, "#password2")
		shot(t, neu, shots, "invite-"+size.name)
		if got, _ := chromedp.Run(neu.Context(), chromedp.Evaluate[string](sidewaysJS)); got != "" {
			t.Errorf("%s: the invitation page scrolls sideways: %s", size.name, got)
		}
		neu.Do(15*time.Second,
			chromedp.SendKeys("#password", "passwort12"),
			chromedp.SendKeys("#password2", "passwort12"),
			browsertest.Eval(`window.__old = 1; document.querySelector("#password2").form.noValidate = true; document.querySelector("#password2").form.requestSubmit()`),
		)
		waitJS(neu, `!window.__old && document.readyState === "complete"`)
		if got, _ := chromedp.Run(neu.Context(), chromedp.Evaluate[string](`(document.getElementById("password-error") || {}).textContent || ""`)); got == "" {
			t.Errorf("%s: a weak password was not refused on the page", size.name)
		}
		shot(t, neu, shots, "invite-weak-"+size.name)
		neu.Do(15*time.Second,
			chromedp.SendKeys("#password", invitePassword),
			chromedp.SendKeys("#password2", invitePassword),
			browsertest.Eval(`window.__old = 1`),
			chromedp.Click(`main form button[type=submit]`),
		)
		waitFor(neu, "#caselist")
		got, _ := chromedp.Run(neu.Context(), chromedp.Evaluate[string](`location.pathname + " | " + document.querySelector(".notice").textContent + " | " + document.querySelector(".who").textContent`))
		if got != "/inbox | Ihr Passwort ist gespeichert. Sie sind angemeldet. | Neue Kollegin" {
			t.Errorf("%s: after accepting: %q", size.name, got)
		}
		// The link is used up.
		neu.Do(15*time.Second, chromedp.Navigate(e.url+path))
		waitFor(neu, "#invite-invalid")
		shot(t, neu, shots, "invite-used-"+size.name)
		if ex := append(admin.Exceptions(), neu.Exceptions()...); len(ex) > 0 {
			t.Errorf("%s: page exceptions: %v", size.name, ex)
		}
	}
}
