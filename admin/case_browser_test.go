package admin

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"citybot/faq"
	"citybot/internal/browsertest"
	"citybot/routing"
	"citybot/staff"
)

// TestBrowserCasePage: the reply box of a case in a real browser. The
// picker offers the case's office only and fills placeholders; a draft
// survives leaving the page; an empty Senden stays on the page with a
// message (with and without the browser's script check); Ctrl+Enter
// sends; codes are shown as names; the heading is the short subject; the
// citizen's earlier case is listed; "Senden & abschließen" opens the next
// waiting case.
func TestBrowserCasePage(t *testing.T) {
	e := newEnv(t, withCases, func(_ *Config, d *Deps) { d.FAQ = faq.NewStore(d.DB) })
	e.withDemoFAQ()
	if _, err := e.db.Exec(`UPDATE departments SET office_hours = '{"1":[["08:00","12:00"]],"3":[["14:00","18:00"]]}' WHERE id = 'bauamt'`); err != nil {
		t.Fatal(err)
	}
	e.user("bau@example.org", staff.RoleStaff, "bauamt", "ordnungsamt")
	clerk := e.loggedIn("bau@example.org")
	if r := clerk.postForm("/canned/new", "/canned", url.Values{"department": {"bauamt"}, "title": {"Carport Auskunft"},
		"body": {"Ihre Anfrage {fall} liegt beim {amt}. Sprechzeiten: {oeffnungszeiten}."}}); r.Status != 303 {
		t.Fatalf("canned: %d", r.Status)
	}
	// An earlier, closed case of the same citizen, then the current one.
	old, _ := e.newCase("777", "bauamt", text("Wann wird die Straße gekehrt?"))
	ctx := context.Background()
	cases := routing.NewCases(e.db, routing.CasesOptions{})
	var uid int64
	if err := e.db.Get(&uid, `SELECT id FROM users WHERE email = 'bau@example.org'`); err != nil {
		t.Fatal(err)
	}
	v := staff.Principal{ID: uid, Role: staff.RoleStaff, Departments: []string{"bauamt", "ordnungsamt"}}
	if err := cases.Close(ctx, v, old.ID); err != nil {
		t.Fatal(err)
	}
	long := "Darf ich einen Carport an der Grundstücksgrenze bauen? Er wäre 6 m lang, 3 m breit und hätte ein Flachdach, und der Nachbar ist einverstanden."
	cs, _ := e.newCase("777", "ordnungsamt", text(long))
	if err := cases.Transfer(ctx, v, cs.ID, "bauamt", ""); err != nil {
		t.Fatal(err)
	}
	next, _ := e.newCase("778", "bauamt", text("Brauche ich für ein Gartenhaus eine Genehmigung?"))

	b := browsertest.Start(t, browsertest.WithTimeout(2*time.Minute))
	loginIn(b, e.url, "bau@example.org")
	casePath := fmt.Sprintf("%s/cases/%d", e.url, cs.ID)
	b.Do(15*time.Second, chromedp.Navigate(casePath))
	waitFor(b, "#reply")
	get := func(js string) string {
		t.Helper()
		s, err := chromedp.Run(b.Context(), chromedp.Evaluate[string](js))
		if err != nil {
			t.Fatalf("%s: %v", js, err)
		}
		return s
	}

	// Heading: the short subject, not the whole message.
	if h := get(`document.querySelector("h1").textContent`); !strings.Contains(h, "Darf ich einen Carport an der Grundstücksgrenze bauen?") || strings.Contains(h, "Flachdach") {
		t.Errorf("heading %q", h)
	}
	// Names instead of codes.
	info := get(`document.querySelector("#caseinfo").textContent + " " + document.querySelector("#transcript").textContent`)
	for _, want := range []string{"Telegram", "Deutsch", "Weitergeleitet von Ordnungsamt an Bauamt", "wartet seit"} {
		if !strings.Contains(info, want) {
			t.Errorf("case info lacks %q: %s", want, info)
		}
	}
	if strings.Contains(info, "ordnungsamt an bauamt") {
		t.Errorf("raw department ids shown: %s", info)
	}
	// The earlier case is listed.
	if got := get(`(document.querySelector("aside .earlier") || {textContent: ""}).textContent`); !strings.Contains(got, fmt.Sprintf("#%d", old.ID)) || !strings.Contains(got, "gekehrt") {
		t.Errorf("earlier cases %q", got)
	}
	// The picker: the Bauamt's answers only, placed before Senden.
	opts := get(`Array.prototype.map.call(document.querySelectorAll("#pick option"), function(o){return o.textContent}).join("|")`)
	if strings.Contains(opts, "Müll") || !strings.Contains(opts, "Carport Auskunft") || !strings.Contains(opts, "Bauantrag") {
		t.Errorf("picker options %q", opts)
	}
	if pos := get(`String(document.querySelector("#pick").compareDocumentPosition(document.querySelector("#send")) & Node.DOCUMENT_POSITION_FOLLOWING)`); pos == "0" {
		t.Error("the picker is not before Senden")
	}
	// Typing filters; Enter inserts the first match with placeholders filled.
	b.Do(10*time.Second, chromedp.SendKeys("#pick-q", "carport ausk"))
	if vis := get(`Array.prototype.filter.call(document.querySelectorAll("#pick option"), function(o){return o.value && !o.hidden}).length + ""`); vis != "1" {
		t.Errorf("%s options left after filtering", vis)
	}
	b.Do(10*time.Second, browsertest.Eval(`document.querySelector("#pick-q").dispatchEvent(new KeyboardEvent("keydown", {key: "Enter", bubbles: true}))`))
	body := get(`document.querySelector("#reply").value`)
	if want := fmt.Sprintf("Ihre Anfrage #%d liegt beim Bauamt", cs.ID); !strings.Contains(body, want) || !strings.Contains(body, "Mo 08:00–12:00; Mi 14:00–18:00") {
		t.Errorf("inserted %q", body)
	}

	// A draft survives leaving the page.
	b.Do(10*time.Second, browsertest.Eval(`document.querySelector("#reply").value = ""`), chromedp.SendKeys("#reply", "Entwurf zum Carport"))
	time.Sleep(500 * time.Millisecond) // the draft is saved 300 ms after typing
	b.Do(15*time.Second, chromedp.Navigate(e.url+"/inbox"))
	waitFor(b, "#caselist")
	b.Do(15*time.Second, chromedp.Navigate(casePath))
	waitFor(b, "#reply")
	if got := get(`document.querySelector("#reply").value`); got != "Entwurf zum Carport" {
		t.Errorf("draft after navigation %q", got)
	}

	// An empty Senden stays on the page with a message: in the browser ...
	b.Do(10*time.Second, browsertest.Eval(`document.querySelector("#reply").value = ""; window.__stay = 1; document.querySelector("#send").click()`))
	if got := get(`window.__stay + " " + location.pathname + " " + (document.querySelector("#reply-error").hidden ? "" : document.querySelector("#reply-error").textContent)`); !strings.Contains(got, fmt.Sprintf("1 /cases/%d Bitte schreiben Sie eine Antwort", cs.ID)) {
		t.Errorf("empty send in the browser: %q", got)
	}
	// ... and at the server, when the script check is bypassed.
	b.Do(10*time.Second, browsertest.Eval(`document.querySelector("#reply-form").noValidate = true; HTMLFormElement.prototype.submit.call(document.querySelector("#reply-form"))`))
	waitJS(b, `location.pathname.endsWith("/reply") && document.readyState === "complete" && !!document.querySelector("#reply-error")`)
	if got := get(`location.pathname + " " + document.querySelector("#reply-error").textContent`); got != fmt.Sprintf("/cases/%d/reply Bitte schreiben Sie eine Antwort oder hängen Sie eine Datei an.", cs.ID) {
		t.Errorf("empty send at the server: %q", got)
	}

	// Ctrl+Enter sends.
	b.Do(15*time.Second, chromedp.Navigate(casePath))
	waitFor(b, "#reply")
	b.Do(10*time.Second, browsertest.Eval(`document.querySelector("#reply").value = ""`), chromedp.SendKeys("#reply", "Ein Carport bis 30 m² ist meist genehmigungsfrei."),
		browsertest.Eval(`document.querySelector("#reply").dispatchEvent(new KeyboardEvent("keydown", {key: "Enter", ctrlKey: true, bubbles: true}))`))
	waitFor(b, ".notice")
	var n int
	if err := e.db.Get(&n, `SELECT count(*) FROM case_messages cm JOIN messages m ON m.id = cm.message_id WHERE cm.case_id = $1 AND m.text = 'Ein Carport bis 30 m² ist meist genehmigungsfrei.'`, cs.ID); err != nil || n != 1 {
		t.Fatalf("Ctrl+Enter: %d replies (%v)", n, err)
	}
	if got := get(`localStorage.getItem("citybot.draft.` + fmt.Sprint(cs.ID) + `") || ""`); got != "" {
		t.Errorf("draft kept after sending: %q", got)
	}

	// "Senden & abschließen" closes and opens the next waiting case.
	b.Do(10*time.Second, chromedp.SendKeys("#reply", "Danke, damit ist alles geklärt."), browsertest.Eval(`document.querySelector("#send-close").click()`))
	waitFor(b, fmt.Sprintf(`#transcript[data-live-case="%d"]`, next.ID))
	if st := e.statusOf(cs.ID); st != routing.CaseClosed {
		t.Errorf("case %d is %s", cs.ID, st)
	}
	if got := get(`document.querySelector(".notice").textContent`); !strings.Contains(got, "nächste wartende Fall") {
		t.Errorf("notice %q", got)
	}
	if ex := b.Exceptions(); len(ex) > 0 {
		t.Errorf("page exceptions: %v", ex)
	}
}

func (e *env) statusOf(id int64) string {
	e.t.Helper()
	var s string
	if err := e.db.Get(&s, `SELECT status FROM cases WHERE id = $1`, id); err != nil {
		e.t.Fatal(err)
	}
	return s
}
