package admin

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"citybot/internal/browsertest"
	"citybot/routing"
	"citybot/staff"
)

// TestBrowserInbox: a staff member logs in in a real headless Chromium,
// sees a new case appear in the inbox live (SSE, no reload), opens it, sees
// the citizen's photo, sees a new citizen message appear live, replies (an
// outbox row is written) and transfers the case to another department,
// after which it is gone from their inbox.
func TestBrowserInbox(t *testing.T) {
	files := &fakeFiles{files: map[string][]byte{"photo-1": pngBytes}}
	e := newEnv(t, withCases, func(_ *Config, d *Deps) { d.Files = files })
	e.user("bau@example.org", staff.RoleStaff, "bauamt")
	b := browsertest.Start(t, browsertest.WithTimeout(90*time.Second))
	const step = 15 * time.Second

	// Log in with the keyboard-usable form.
	b.Do(step,
		chromedp.Navigate(e.url+"/inbox"),
		chromedp.WaitVisible("#email"),
		chromedp.SendKeys("#email", "bau@example.org"),
		chromedp.SendKeys("#password", testPassword),
		chromedp.Submit("#password"),
		chromedp.WaitVisible("#caselist"),
	)
	if loc, _ := chromedp.Run(b.Context(), chromedp.Location()); !strings.HasSuffix(loc, "/inbox") {
		t.Fatalf("after login at %s", loc)
	}
	// The session cookie is not readable by JavaScript.
	if ck, _ := chromedp.Run(b.Context(), chromedp.Evaluate[string]("document.cookie")); strings.Contains(ck, sessionCookie) {
		t.Fatalf("session cookie visible to JS: %q", ck)
	}
	// Wait for the event stream, then mark the page to detect reloads.
	b.Do(step,
		browsertest.Until(`document.body.getAttribute("data-live") === "on"`),
		browsertest.Eval(`window.__noReload = 1`),
	)

	// A citizen's case arrives in the database.
	cs, _ := e.newCase("4711", "bauamt",
		routing.Message{Kind: routing.KindPhoto, Text: "So soll er aussehen", Media: &routing.Media{Type: "photo", FileID: "photo-1"}},
		routing.Message{Text: "Darf ich <b>ohne</b> Genehmigung einen Carport bauen?"},
	)
	row := fmt.Sprintf(`tr[data-case="%d"]`, cs.ID)
	b.Do(step, chromedp.WaitVisible(row))
	if v, _ := chromedp.Run(b.Context(), chromedp.Evaluate[int](`window.__noReload || 0`)); v != 1 {
		t.Fatal("the page was reloaded")
	}
	txt, _ := chromedp.Run(b.Context(), chromedp.Text(row))
	if !strings.Contains(txt, "<b>ohne</b>") || !strings.Contains(txt, "ungelesen") {
		t.Errorf("row text %q", txt)
	}

	// Open the case: the photo is shown through the proxy.
	b.Do(step,
		chromedp.Click(row+" td a"),
		chromedp.WaitVisible("#reply"),
		browsertest.Until(`document.body.getAttribute("data-live") === "on"`),
		browsertest.Until(`(function(){var i=document.querySelector(".transcript img");return !!i && i.complete && i.naturalWidth === 1})()`),
	)
	// A further citizen message appears live in the transcript.
	cases := routing.NewCases(e.db, routing.CasesOptions{})
	st := routing.NewStore(e.db)
	m, err := st.AddMessage(context.Background(), routing.Message{CitizenID: cs.CitizenID, Direction: routing.DirectionIn, Sender: routing.SenderCitizen, Kind: routing.KindText, Text: "Hallo? Noch jemand da?"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cases.AddCitizenMessage(context.Background(), cs.ID, m.ID); err != nil {
		t.Fatal(err)
	}
	b.Do(step, browsertest.Until(`document.querySelector("#transcript").textContent.indexOf("Noch jemand da?") >= 0`))

	// Reply.
	b.Do(step,
		chromedp.SendKeys("#reply", "Ein Carport bis 30 m² ist meist genehmigungsfrei."),
		chromedp.Click(`form[action$="/reply"] button[type=submit]`),
		chromedp.WaitVisible(".notice"),
	)
	var n int
	if err := e.db.Get(&n, `SELECT count(*) FROM outbox o JOIN messages m ON m.id = o.message_id WHERE m.text LIKE 'Ein Carport bis 30 m%' AND o.chat_id = '4711'`); err != nil || n != 1 {
		t.Fatalf("outbox rows %d %v", n, err)
	}
	body, _ := chromedp.Run(b.Context(), chromedp.Text("#transcript"))
	if !strings.Contains(body, "Ein Carport bis 30 m² ist meist genehmigungsfrei.") {
		t.Errorf("reply not in transcript: %s", body)
	}

	// Transfer to the Ordnungsamt: back in the inbox, the case is gone.
	b.Do(step,
		browsertest.Eval(`document.querySelector("#h-transfer").closest("details").open = true`),
		chromedp.SetValue("#department", "ordnungsamt"),
		chromedp.SendKeys("#transfer-note", "Bitte prüfen"),
		chromedp.Click(`form[action$="/transfer"] button[type=submit]`),
		chromedp.WaitVisible("#caselist"),
		chromedp.WaitNotPresent(row),
	)
	var dept string
	if err := e.db.Get(&dept, `SELECT department_id FROM cases WHERE id = $1`, cs.ID); err != nil || dept != "ordnungsamt" {
		t.Fatalf("department %q %v", dept, err)
	}
	if ex := b.Exceptions(); len(ex) > 0 {
		t.Errorf("page exceptions: %v", ex)
	}
}
