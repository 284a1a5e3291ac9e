package admin

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/jmoiron/sqlx"

	"citybot/fieldstaff"
	"citybot/internal/db"
	"citybot/staff"
)

var codeRe = regexp.MustCompile(`id="telegram-code-value">([A-Z0-9]+)<`)

func TestAccountTelegramLink(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, func(c *Config, _ *Deps) { c.BotUsername = "@musterstadt_bot" })
	anna := e.user("anna@example.org", staff.RoleStaff, "ordnungsamt")
	admin := e.user("admin@example.org", staff.RoleAdmin)
	c := e.loggedIn("anna@example.org")

	r := c.get("/account")
	if r.Status != http.StatusOK || !strings.Contains(r.Body, `action="/account/telegram/code"`) || strings.Contains(r.Body, "telegram-linked") {
		t.Fatalf("account page before linking: %d\n%s", r.Status, r.Body)
	}

	// The code is shown once, with the deep link, and not stored in clear.
	r = c.postForm("/account", "/account/telegram/code", nil)
	if r.Status != http.StatusOK {
		t.Fatalf("create code: %d", r.Status)
	}
	m := codeRe.FindStringSubmatch(r.Body)
	if m == nil {
		t.Fatalf("no code on the page:\n%s", r.Body)
	}
	code := m[1]
	if !strings.Contains(r.Body, `href="https://t.me/musterstadt_bot?start=staff-`+code+`"`) {
		t.Fatalf("no deep link for %s:\n%s", code, r.Body)
	}
	if cc := r.Header.Get("Cache-Control"); cc != "no-store" {
		t.Fatalf("Cache-Control = %q", cc)
	}
	var n int
	if err := e.db.Get(&n, `SELECT count(*) FROM fieldstaff_link_codes WHERE user_id = $1 AND position(convert_to($2, 'UTF8') in code_hash) = 0`, anna, code); err != nil || n != 1 {
		t.Fatalf("stored codes: %d, %v", n, err)
	}
	if r := c.get("/account"); strings.Contains(r.Body, code) {
		t.Fatal("the code is shown again")
	}

	// The bot redeems it: the page shows the link and the unlink button.
	fs := fieldstaff.New(e.db)
	if err := db.InTx(ctx, e.db, func(tx *sqlx.Tx) error { _, err := fs.Redeem(ctx, tx, 901, code); return err }); err != nil {
		t.Fatal(err)
	}
	r = c.get("/account")
	if !strings.Contains(r.Body, `id="telegram-linked"`) || !strings.Contains(r.Body, `action="/account/telegram/unlink"`) || strings.Contains(r.Body, `action="/account/telegram/code"`) {
		t.Fatalf("account page when linked:\n%s", r.Body)
	}

	// Unlink in the UI, audited.
	r = c.postForm("/account", "/account/telegram/unlink", url.Values{})
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/account?notice=telegram_unlinked" {
		t.Fatalf("unlink: %d %q", r.Status, r.Header.Get("Location"))
	}
	if _, err := fs.Lookup(ctx, 901); err == nil {
		t.Fatal("still linked after unlinking in the UI")
	}
	if err := e.db.Get(&n, `SELECT count(*) FROM audit_log WHERE action = 'fieldstaff.unlink' AND user_id = $1`, anna); err != nil || n != 1 {
		t.Fatalf("unlink audit rows: %d, %v", n, err)
	}

	// Deactivating the user through the server's staff store unlinks and
	// refuses the chat.
	code2, _, err := fs.CreateLinkCode(ctx, anna)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.InTx(ctx, e.db, func(tx *sqlx.Tx) error { _, err := fs.Redeem(ctx, tx, 902, code2); return err }); err != nil {
		t.Fatal(err)
	}
	if err := e.srv.staff.UpdateUser(ctx, admin, staff.UserUpdate{ID: anna, Name: "anna", Role: staff.RoleStaff, Language: "de", Active: false, Departments: []string{"ordnungsamt"}}); err != nil {
		t.Fatal(err)
	}
	if ok, err := fs.Refused(ctx, e.db, 902); err != nil || !ok {
		t.Fatalf("deactivated user's chat not refused: %v, %v", ok, err)
	}
	if _, err := fs.Lookup(ctx, 902); err == nil {
		t.Fatal("deactivated user's chat still linked")
	}
}
