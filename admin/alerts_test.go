package admin

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"citybot/fieldstaff"
	"citybot/staff"
)

func alertModes(t *testing.T, e *env, uid int64) map[string]string {
	t.Helper()
	as, err := fieldstaff.New(e.db).AlertSettings(context.Background(), uid)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, a := range as {
		out[a.Department] = a.Mode
	}
	return out
}

// TestAccountAlerts: the account page offers off/each/digest per
// department of the user; saving needs the CSRF token, is audited, and
// refuses modes and departments that are not the user's.
func TestAccountAlerts(t *testing.T) {
	e := newEnv(t)
	anna := e.user("anna@example.org", staff.RoleStaff, "bauamt", "ordnungsamt")
	e.user("admin@example.org", staff.RoleAdmin)
	c := e.loggedIn("anna@example.org")

	r := c.get("/account")
	for _, want := range []string{`action="/account/telegram/alerts"`, `name="alert:bauamt" type="radio" value="each"`,
		`id="alert-ordnungsamt-off" name="alert:ordnungsamt" type="radio" value="off" checked`, `id="alerts-unlinked"`, "<legend>Bauamt</legend>"} {
		if !strings.Contains(r.Body, want) {
			t.Fatalf("account page lacks %q:\n%s", want, r.Body)
		}
	}
	// Without the CSRF token nothing is saved.
	if r := c.post("/account/telegram/alerts", url.Values{"alert:bauamt": {"each"}}); r.Status != http.StatusForbidden {
		t.Fatalf("without CSRF: %d", r.Status)
	}
	if m := alertModes(t, e, anna); m["bauamt"] != "off" {
		t.Fatalf("saved without CSRF: %v", m)
	}
	r = c.postForm("/account", "/account/telegram/alerts", url.Values{"alert:bauamt": {"each"}, "alert:ordnungsamt": {"digest"}})
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/account?notice=alerts_saved" {
		t.Fatalf("save: %d %q", r.Status, r.Header.Get("Location"))
	}
	if m := alertModes(t, e, anna); m["bauamt"] != "each" || m["ordnungsamt"] != "digest" {
		t.Fatalf("saved modes = %v", m)
	}
	if !strings.Contains(c.get("/account").Body, `id="alert-bauamt-each" name="alert:bauamt" type="radio" value="each" checked`) {
		t.Fatal("the saved mode is not checked on the page")
	}
	var n int
	if err := e.db.Get(&n, `SELECT count(*) FROM audit_log WHERE action = 'fieldstaff.alerts' AND user_id = $1`, anna); err != nil || n != 1 {
		t.Fatalf("audit rows: %d, %v", n, err)
	}
	// Hostile input: an unknown mode is refused; another department's
	// field is ignored. Nothing changes.
	if r := c.postForm("/account", "/account/telegram/alerts", url.Values{"alert:bauamt": {"<script>"}}); r.Status != http.StatusBadRequest || strings.Contains(r.Body, "<script>") {
		t.Fatalf("unknown mode: %d", r.Status)
	}
	if r := c.postForm("/account", "/account/telegram/alerts", url.Values{"alert:zentrale": {"each"}}); r.Status != http.StatusSeeOther {
		t.Fatalf("another department's field: %d", r.Status)
	}
	if m := alertModes(t, e, anna); m["bauamt"] != "each" || len(m) != 2 {
		t.Fatalf("modes after hostile posts = %v", m)
	}
	// An admin without departments is told why there is nothing to choose.
	if r := e.loggedIn("admin@example.org").get("/account"); strings.Contains(r.Body, `action="/account/telegram/alerts"`) || !strings.Contains(r.Body, "keinem Fachbereich") {
		t.Fatalf("admin's account page:\n%s", r.Body)
	}
}

// TestAccountAlertsDigestInterval: the account page says how often a
// digest comes at most, as configured (CITYBOT_ALERT_DIGEST_INTERVAL).
func TestAccountAlertsDigestInterval(t *testing.T) {
	for _, tc := range []struct {
		every time.Duration
		want  []string
	}{
		{0, []string{"Sammelmeldung höchstens einmal pro Stunde.", "Sammelmeldung (höchstens einmal pro Stunde)"}},
		{30 * time.Minute, []string{"Sammelmeldung höchstens alle 30 Minuten.", "Sammelmeldung (höchstens alle 30 Minuten)"}},
		{4 * time.Hour, []string{"Sammelmeldung höchstens alle 4 Stunden.", "Sammelmeldung (höchstens alle 4 Stunden)"}},
	} {
		e := newEnv(t, func(c *Config, _ *Deps) { c.AlertDigestInterval = tc.every })
		e.user("anna@example.org", staff.RoleStaff, "bauamt")
		body := e.loggedIn("anna@example.org").get("/account").Body
		for _, w := range tc.want {
			if !strings.Contains(body, w) {
				t.Errorf("%v: the account page lacks %q", tc.every, w)
			}
		}
	}
}
