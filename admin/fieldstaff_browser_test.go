package admin

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/jmoiron/sqlx"

	"citybot/fieldstaff"
	"citybot/internal/browsertest"
	"citybot/internal/db"
	"citybot/staff"
)

// TestBrowserAccountTelegram: in a real Chromium a staff member creates a
// link code on the account page (the code and the bot's deep link are
// shown once), the bot redeems it, the page then shows the link with its
// unlink button, and unlinking there ends it. The page passes axe (WCAG
// 2.1 AA) in each state. The README's screenshots with
// CITYBOT_UX_SHOTS=<dir>.
func TestBrowserAccountTelegram(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, withCases, func(c *Config, _ *Deps) { c.BotUsername = "musterstadt_bot" })
	uid := e.namedUser("jonas.weber@musterstadt.de", "Jonas Weber", staff.RoleStaff, "ordnungsamt")
	shots := os.Getenv("CITYBOT_UX_SHOTS")
	b := browsertest.Start(t, browsertest.WithTimeout(90*time.Second))
	au := newAudit(t)
	loginIn(b, e.url, "jonas.weber@musterstadt.de")
	b.Do(15*time.Second, chromedp.Navigate(e.url+"/account"), chromedp.WaitVisible(`form[action="/account/telegram/code"] button`))
	b.Do(15*time.Second, chromedp.Click(`form[action="/account/telegram/code"] button`))
	waitForT(t, b, "#telegram-code-value")
	code := evalString(t, b, `document.querySelector("#telegram-code-value").textContent`)
	if _, ok := fieldstaff.NormalizeCode(code); !ok {
		t.Fatalf("code on the page = %q", code)
	}
	if got := evalString(t, b, `document.querySelector("#telegram-deeplink").href`); got != "https://t.me/musterstadt_bot?start=staff-"+code {
		t.Fatalf("deep link = %q", got)
	}
	au.check(b, "staff de /account (link code)", "de")
	showFromTop(t, b, "#telegram")
	shot(t, b, shots, "account-telegram-code")

	// The code is shown once: the page again has none.
	b.Do(15*time.Second, chromedp.Navigate(e.url+"/account"), chromedp.WaitVisible("#alerts"))
	if got := evalString(t, b, `document.body.textContent.includes(`+jsString(code)+`) ? "shown" : ""`); got != "" {
		t.Fatal("the code is shown again")
	}

	// The bot redeems it (the chat sent /start staff-<code>).
	fs := fieldstaff.New(e.db)
	if err := db.InTx(ctx, e.db, func(tx *sqlx.Tx) error { _, err := fs.Redeem(ctx, tx, 424242, code); return err }); err != nil {
		t.Fatal(err)
	}
	b.Do(15*time.Second, chromedp.Navigate(e.url+"/account"), chromedp.WaitVisible("#telegram-linked"))
	au.check(b, "staff de /account (linked)", "de")
	showFromTop(t, b, "#telegram")
	shot(t, b, shots, "account-telegram-linked")

	b.Do(15*time.Second,
		chromedp.Click(`form[action="/account/telegram/unlink"] button`),
		browsertest.Until(`location.search.includes("notice=telegram_unlinked") && document.readyState === "complete"`),
	)
	if got := evalString(t, b, `document.querySelector("#telegram-linked") ? "linked" : document.querySelector('form[action="/account/telegram/code"]') ? "unlinked" : "?"`); got != "unlinked" {
		t.Fatalf("after unlinking the page shows %q", got)
	}
	if _, err := fs.UserLink(ctx, uid); err == nil {
		t.Fatal("still linked after unlinking in the browser")
	}
	au.check(b, "staff de /account (unlinked)", "de")
	au.report()
	if ex := b.Exceptions(); len(ex) > 0 {
		t.Errorf("page exceptions: %v", ex)
	}
}

// jsString quotes s as a JavaScript string literal (s has no quotes or
// backslashes here: a link code).
func jsString(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// showFromTop scrolls the element sel to the top of the window and takes
// the focus away (the skip link would cover the page), for a screenshot.
func showFromTop(t *testing.T, b *browsertest.Browser, sel string) {
	t.Helper()
	evalString(t, b, `(document.activeElement && document.activeElement.blur(), document.querySelector(`+jsString(sel)+`).scrollIntoView({block: "start"}), "")`)
}
