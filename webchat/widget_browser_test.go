package webchat

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/storage"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/jmoiron/sqlx"

	"citybot/faq"
	"citybot/internal/browsertest"
	"citybot/internal/demodata"
	"citybot/routing"
	"citybot/staff"
)

// The widget embedded in a page of another origin, driven by keyboard in
// headless Chromium: an FAQ question gets its answer, a question the FAQ
// cannot answer is handed off after confirming, a staff reply appears
// live, a reload keeps the conversation, and axe-core finds no violation
// in the open widget.
func TestBrowserWidget(t *testing.T) {
	axePath := os.Getenv("CITYBOT_AXE_JS")
	if axePath == "" {
		t.Fatal("CITYBOT_AXE_JS is not set: run the tests with scripts/test")
	}
	axe, err := os.ReadFile(axePath)
	must(t, err)

	var chatURL string
	// The city's page: German at /, English at /en.
	host := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		lang, h1, p := "de", "Willkommen in Musterstadt", "Die Seite der Stadt."
		if r.URL.Path == "/en" {
			lang, h1, p = "en", "Welcome to Musterstadt", "The city's page."
		}
		fmt.Fprintf(w, `<!doctype html><html lang="%s"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Stadt Musterstadt</title></head>
<body><main><h1>%s</h1><p>%s</p></main>
<script src="%s/widget.js" data-city-title="Stadt Musterstadt"></script></body></html>`, lang, h1, p, chatURL)
	}))
	t.Cleanup(host.Close)
	e := newEnv(t, func(c *Config) { c.Origins = []string{host.URL}; c.ProofOfWork = 14 })
	chatURL = e.srv.URL
	suggestQ := questionWith(t, e.db, faq.DecisionSuggest)
	if strings.TrimPrefix(host.URL, "http://127.0.0.1:") == strings.TrimPrefix(chatURL, "http://127.0.0.1:") {
		t.Fatal("same origin")
	}

	b := browsertest.Start(t, browsertest.WithTimeout(4*time.Minute))
	// runAxe runs axe-core (WCAG 2.1 A and AA) on the page as it is.
	runAxe := func(what string) {
		t.Helper()
		b.Do(10*time.Second, browsertest.Eval(`window.axe ? true : (eval(`+strconv.Quote(string(axe))+`), true)`))
		res, err := chromedp.Run(b.Context(), chromedp.Evaluate[string](`axe.run(document, {runOnly: {type: 'tag', values: ["wcag2a","wcag2aa","wcag21a","wcag21aa"]}, resultTypes: ['violations']}).then(function(r){ return JSON.stringify(r.violations.map(function(v){ return v.id + ": " + v.nodes.map(function(n){ return n.target.join(" ") + " " + n.failureSummary; }).join("; "); })); })`, chromedp.EvalAwaitPromise))
		must(t, err)
		var violations []string
		must(t, json.Unmarshal([]byte(res), &violations))
		if len(violations) > 0 {
			t.Errorf("axe, %s: %s", what, strings.Join(violations, "\n"))
		}
	}
	// fits320 checks that nothing is wider than the 320 px viewport.
	fits320 := func(what, sel string) {
		t.Helper()
		fits, err := chromedp.Run(b.Context(), chromedp.Evaluate[bool](`(function(){ var r = document.querySelector(`+strconv.Quote(sel)+`).getBoundingClientRect(); return window.innerWidth === 320 && r.left >= 0 && r.right <= window.innerWidth && document.documentElement.scrollWidth <= window.innerWidth; })()`))
		must(t, err)
		if !fits {
			t.Errorf("%s does not fit 320 px", what)
		}
	}
	// cookies counts the browser's cookies, of every origin, HttpOnly too.
	cookies := func() int {
		t.Helper()
		n := -1
		b.Do(5*time.Second, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			r, err := cdp.Call(ctx, tg, storage.GetCookies, storage.GetCookiesParams{})
			n = len(r.Cookies)
			return err
		}))
		return n
	}
	b.Do(5*time.Second, chromedp.EmulateViewport(320, 640))
	b.Do(15*time.Second, chromedp.Navigate(host.URL+"/"))
	b.Do(10*time.Second, browsertest.Until(`document.querySelector(".cbw-launcher")`))
	// The widget brings its style sheet from its own origin: the page does
	// not link it, yet the button is styled (and shown once it is).
	b.Do(10*time.Second, browsertest.Until(`!document.querySelector(".cbw").hidden`))
	styled, err := chromedp.Run(b.Context(), chromedp.Evaluate[string](`(function(){ var s = getComputedStyle(document.querySelector(".cbw-launcher")); return s.position + " " + s.backgroundColor; })()`))
	must(t, err)
	if styled != "fixed rgb(11, 79, 138)" {
		t.Errorf("launcher on the foreign page: computed style %q", styled)
	}
	// Nothing is stored before the first message.
	if n, _ := chromedp.Run(b.Context(), chromedp.Evaluate[int](`localStorage.length`)); n != 0 {
		t.Errorf("%d localStorage entries before the first message", n)
	}
	if n := cookies(); n != 0 {
		t.Errorf("%d cookies before the first message", n)
	}
	// Keyboard only: Tab to the launcher, Enter opens, focus is in the text field.
	b.Do(5*time.Second, browsertest.Eval(`document.activeElement && document.activeElement.blur()`), chromedp.KeyEvent(kb.Tab))
	b.Do(5*time.Second, browsertest.Until(`document.activeElement && document.activeElement.classList.contains("cbw-launcher")`))
	b.Do(5*time.Second, chromedp.KeyEvent(kb.Enter))
	b.Do(5*time.Second, browsertest.Until(`document.activeElement && document.activeElement.tagName === "TEXTAREA"`))
	fits320("the panel", ".cbw-panel")
	// The privacy notice before the first message, with its link (the
	// built-in notice of citybot's origin; CITYBOT_PRIVACY_URL replaces it).
	notice, err := chromedp.Run(b.Context(), chromedp.Evaluate[string](`(function(){ var p = document.querySelector(".cbw-privacy"); var t = p.querySelector(".cbw-privacy-text"); return (t.hidden ? "hidden" : t.textContent) + " | " + p.querySelector("a").href; })()`))
	must(t, err)
	if !strings.Contains(notice, "keine Cookies") || !strings.HasSuffix(notice, " | "+chatURL+"/chat/datenschutz") {
		t.Errorf("privacy notice %q", notice)
	}

	say := func(text string) {
		t.Helper()
		b.Do(10*time.Second, chromedp.SendKeys("textarea", text), chromedp.KeyEvent(kb.Enter))
	}
	say("Wie beantrage ich einen Personalausweis?")
	b.Do(15*time.Second, browsertest.Until(`Array.from(document.querySelectorAll(".cbw-from-bot")).some(function(m){ return /Personalausweis/i.test(m.textContent) && m.querySelector(".cbw-buttons button"); })`))
	// Web addresses in answers are links (as Telegram shows them), without
	// the sentence's punctuation.
	if links, _ := chromedp.Run(b.Context(), chromedp.Evaluate[string](`Array.from(document.querySelectorAll(".cbw-from-bot a")).map(function(a){ return a.getAttribute("href") + " " + a.target + " " + a.rel; }).join("|")`)); links != "https://www.musterstadt.de/termine _blank noopener noreferrer" {
		t.Errorf("links in the answer: %q", links)
	}
	// New messages are announced by a live region outside the panel.
	live, err := chromedp.Run(b.Context(), chromedp.Evaluate[string](`(function(){ var a = document.querySelector(".cbw-announce"); return a.getAttribute("role") + " " + a.getAttribute("aria-live") + " " + !a.closest(".cbw-panel") + " " + a.textContent; })()`))
	must(t, err)
	if !strings.HasPrefix(live, "status polite true Neue Nachricht. Chatbot antwortet: ") || !strings.Contains(live, "Personalausweis") {
		t.Errorf("announcement %q", live)
	}
	// After the first message: the notice's link and the data buttons.
	b.Do(5*time.Second, browsertest.Until(`document.querySelector(".cbw-privacy-text").hidden && Array.from(document.querySelectorAll(".cbw-privacy-row button")).map(function(x){ return x.hidden ? "" : x.textContent; }).join("|") === "Meine Daten anzeigen|Meine Daten löschen"`))
	// "Did you mean": a question the FAQ is unsure about gets candidates
	// as buttons; choosing one gives its answer with the feedback buttons.
	say(suggestQ)
	b.Do(20*time.Second, browsertest.Until(`(function(){ var m = Array.from(document.querySelectorAll(".cbw-from-bot")).pop(); if (!m || m.textContent.indexOf("Geht es um eines dieser Themen?") < 0) { return false; } var bs = Array.from(m.querySelectorAll(".cbw-buttons button")).map(function(x){ return x.textContent; }); return bs.length >= 3 && bs[bs.length-1] === "Nichts davon"; })()`))
	runAxe("German widget with candidates")
	b.Do(5*time.Second, browsertest.Eval(`Array.from(document.querySelectorAll(".cbw-from-bot")).pop().querySelector(".cbw-buttons button").focus()`), chromedp.KeyEvent(kb.Enter))
	b.Do(20*time.Second, browsertest.Until(`(function(){ var m = Array.from(document.querySelectorAll(".cbw-from-bot")).pop(); return Array.from(m.querySelectorAll(".cbw-buttons button")).some(function(x){ return /Hat geholfen/.test(x.textContent); }); })()`))
	// The feedback: "Hat geholfen" is recorded, and the buttons show the choice.
	answer, err := chromedp.Run(b.Context(), chromedp.Evaluate[string](`Array.from(document.querySelectorAll(".cbw-from-bot")).pop().getAttribute("data-event")`))
	must(t, err)
	inAnswer := `document.querySelector('.cbw-msg[data-event="` + answer + `"]')`
	b.Do(5*time.Second, browsertest.Eval(`Array.from(`+inAnswer+`.querySelectorAll(".cbw-buttons button")).filter(function(x){ return /Hat geholfen/.test(x.textContent); })[0].click()`))
	b.Do(15*time.Second, browsertest.Until(`Array.from(`+inAnswer+`.querySelectorAll(".cbw-buttons button")).map(function(x){ return x.textContent; }).join("|") === "✓ 👍 Hat geholfen"`))
	var helpful int
	must(t, e.db.Get(&helpful, `SELECT count(*) FROM bot_answers WHERE helpful AND via = 'suggestion'`))
	if helpful != 1 {
		t.Errorf("%d helpful answers via a suggestion", helpful)
	}
	var token string
	tok, err := chromedp.Run(b.Context(), chromedp.Evaluate[string](`Object.keys(localStorage).filter(function(k){ return !/:seen$/.test(k); }).map(function(k){ return localStorage.getItem(k); }).join("")`))
	must(t, err)
	token = tok
	if token == "" {
		t.Fatal("no token in localStorage")
	}
	var salted int
	must(t, e.db.Get(&salted, `SELECT count(*) FROM webchat_conversations WHERE pow_salt IS NOT NULL`))
	if salted != 1 {
		t.Fatalf("%d conversations with a proof of work", salted)
	}
	if n := cookies(); n != 0 {
		t.Errorf("%d cookies after the first message", n)
	}

	// Something the FAQ cannot answer: the bot asks, the citizen confirms.
	say("Ich möchte mich über nächtlichen Lärm von der Baustelle in der Hauptstraße beschweren")
	yes := `Array.from(document.querySelectorAll(".cbw-buttons button")).filter(function(x){ return /^(Ja|Yes)/.test(x.textContent.trim()); }).pop()`
	b.Do(15*time.Second, browsertest.Until(yes))
	// The handoff needs a proof of work of its own: the widget computes it
	// when the server asks, without the citizen doing anything.
	b.Do(5*time.Second, browsertest.Eval(yes+`.focus()`), chromedp.KeyEvent(kb.Enter))
	var caseID int64
	deadline := time.Now().Add(15 * time.Second)
	for e.db.Get(&caseID, `SELECT id FROM cases`) != nil {
		if time.Now().After(deadline) {
			t.Fatal("no case opened")
		}
		time.Sleep(100 * time.Millisecond)
	}
	var ch string
	must(t, e.db.Get(&ch, `SELECT ci.channel FROM cases c JOIN citizens ci ON ci.id = c.citizen_id WHERE c.id = $1`, caseID))
	if ch != routing.ChannelWeb {
		t.Fatalf("case channel %q", ch)
	}

	// The handoff's answer is there (with the hint for a web citizen).
	b.Do(15*time.Second, browsertest.Until(`(function(){ var m = document.querySelectorAll(".cbw-msg"); var l = m[m.length-1]; return l.classList.contains("cbw-from-bot") && /Vorgangsnummer/.test(l.textContent); })()`))
	// It names the office and whether it is open now (office hours), and
	// has the web chat's hint (no photos or files).
	if h, _ := chromedp.Run(b.Context(), chromedp.Evaluate[string](`Array.from(document.querySelectorAll(".cbw-from-bot")).pop().textContent`)); !regexp.MustCompile(`liegt jetzt beim Ordnungsamt.*Das Ordnungsamt ist gerade (geöffnet|geschlossen)`).MatchString(h) || !strings.Contains(h, "Fotos und Dateien kann dieser Chat nicht annehmen") {
		t.Errorf("handoff message %q", h)
	}
	// Markup a citizen types stays text (in the widget and on its way).
	say(`<img src=x onerror="window.pwned=1"><b>Noch etwas</b>`)
	// (The bot confirms that it went to the case.)
	b.Do(15*time.Second, browsertest.Until(`Array.from(document.querySelectorAll(".cbw-from-citizen")).some(function(m){ return m.textContent.indexOf('<img src=x onerror="window.pwned=1"><b>Noch etwas</b>') >= 0 && m.nextElementSibling && m.nextElementSibling.classList.contains("cbw-from-bot"); })`))
	if n, _ := chromedp.Run(b.Context(), chromedp.Evaluate[int](`document.querySelectorAll(".cbw img, .cbw-from-citizen b").length + (window.pwned ? 100 : 0)`)); n != 0 {
		t.Errorf("citizen markup became markup (%d)", n)
	}
	// The panel closed (Escape): a staff reply through routing (as the
	// inbox sends it) appears live, is announced, and the button counts it.
	b.Do(5*time.Second, browsertest.Eval(`document.querySelector(".cbw-panel textarea").focus()`), chromedp.KeyEvent(kb.Escape))
	b.Do(5*time.Second, browsertest.Until(`document.querySelector(".cbw-panel").hidden && document.activeElement.classList.contains("cbw-launcher")`))
	var uid int64
	must(t, e.db.Get(&uid, `INSERT INTO users (email, name, password_hash, role) VALUES ('a@x.de', 'A', 'x', 'admin') RETURNING id`))
	staffUser := staff.Principal{ID: uid, Role: staff.RoleAdmin}
	_, err = e.cases.Reply(context.Background(), staffUser, caseID, "Wir kümmern uns darum. <script>alert(1)</script>", nil)
	must(t, err)
	staff := `Array.from(document.querySelectorAll(".cbw-from-staff")).some(function(m){ return m.textContent.indexOf("Wir kümmern uns darum. <script>alert(1)</script>") >= 0; })`
	b.Do(15*time.Second, browsertest.Until(staff))
	if n, _ := chromedp.Run(b.Context(), chromedp.Evaluate[int](`document.querySelectorAll(".cbw script").length`)); n != 0 {
		t.Error("message content became markup")
	}
	b.Do(5*time.Second, browsertest.Until(`document.querySelector(".cbw-launcher").textContent === "Stadt Musterstadt (1 neue Nachricht)" && /Neue Nachricht\. Antwort der Verwaltung: Ordnungsamt\s+Wir kümmern uns darum\. <script>alert\(1\)<\/script>$/.test(document.querySelector(".cbw-announce").lastChild.textContent)`))
	runAxe("closed widget with an unread reply")
	// Opened: the marker stands before the unread reply; the count is gone.
	b.Do(5*time.Second, chromedp.KeyEvent(kb.Enter))
	b.Do(5*time.Second, browsertest.Until(`document.querySelector(".cbw-launcher").textContent === "Stadt Musterstadt" && document.querySelector(".cbw-marker") && document.querySelector(".cbw-marker").nextElementSibling.classList.contains("cbw-from-staff") && document.activeElement.tagName === "TEXTAREA"`))

	if st, _ := chromedp.Run(b.Context(), chromedp.Evaluate[string](`document.querySelector(".cbw-status").textContent`)); st != "" {
		t.Errorf("status after the handoff: %q", st)
	}

	// A message over the size limit: the server's clear text is shown (and
	// announced: the status is a live region); nothing is cut silently.
	b.Do(10*time.Second, browsertest.Eval(`document.querySelector(".cbw-panel textarea").value = "a".repeat(2001)`),
		browsertest.Eval(`document.querySelector(".cbw-send").click()`))
	b.Do(10*time.Second, browsertest.Until(`/zu lang \(höchstens 2000 Zeichen\)/.test(document.querySelector(".cbw-status").textContent)`))
	if v, _ := chromedp.Run(b.Context(), chromedp.Evaluate[int](`document.querySelector(".cbw-panel textarea").value.length`)); v != 2001 {
		t.Errorf("the too long text was changed to %d characters", v)
	}
	b.Do(5*time.Second, browsertest.Eval(`document.querySelector(".cbw-panel textarea").value = ""`))

	// The widget asked nothing of anybody but citybot (and the page its
	// own origin): no third-party requests.
	res, err := chromedp.Run(b.Context(), chromedp.Evaluate[string](`performance.getEntriesByType("resource").map(function(r){ return new URL(r.name).origin; }).filter(function(o){ return o !== location.origin && o !== `+strconv.Quote(chatURL)+`; }).join(" ")`))
	must(t, err)
	if res != "" {
		t.Errorf("requests to other origins: %s", res)
	}
	if n, _ := chromedp.Run(b.Context(), chromedp.Evaluate[int](`performance.getEntriesByType("resource").filter(function(r){ return r.name.indexOf(`+strconv.Quote(chatURL)+`) === 0; }).length`)); n < 3 {
		t.Errorf("only %d requests to citybot seen: the check above sees nothing", n)
	}

	// axe-core on the open German widget.
	runAxe("German widget")

	// A reply while the citizen is away; then a reload keeps the
	// conversation: the history is shown without being announced, the
	// button counts the reply not seen yet, the marker stands before it.
	b.Do(10*time.Second, chromedp.Navigate("about:blank"))
	_, err = e.cases.Reply(context.Background(), staffUser, caseID, "Heute kommt jemand vorbei.", nil)
	must(t, err)
	deadline = time.Now().Add(15 * time.Second)
	for n := 0; n == 0; {
		must(t, e.db.Get(&n, `SELECT count(*) FROM webchat_events WHERE payload->>'text' LIKE '%Heute kommt jemand vorbei.%'`))
		if time.Now().After(deadline) {
			t.Fatal("the second reply was not delivered")
		}
		time.Sleep(50 * time.Millisecond)
	}
	b.Do(15*time.Second, chromedp.Navigate(host.URL+"/"))
	b.Do(15*time.Second, browsertest.Until(`document.querySelector(".cbw-launcher").textContent === "Stadt Musterstadt (1 neue Nachricht)"`))
	if ann, _ := chromedp.Run(b.Context(), chromedp.Evaluate[string](`document.querySelector(".cbw-announce").textContent`)); ann != "" {
		t.Errorf("the history after a reload was announced: %q", ann)
	}
	b.Do(10*time.Second, browsertest.Eval(`document.querySelector(".cbw-launcher").click()`))
	b.Do(15*time.Second, browsertest.Until(staff))
	b.Do(5*time.Second, browsertest.Until(`document.querySelectorAll(".cbw-from-citizen").length >= 2`))
	b.Do(5*time.Second, browsertest.Until(`document.querySelector(".cbw-marker").nextElementSibling.textContent.indexOf("Heute kommt jemand vorbei.") >= 0 && document.querySelector(".cbw-launcher").textContent === "Stadt Musterstadt"`))
	// Escape closes and gives focus back to the launcher.
	b.Do(5*time.Second, browsertest.Eval(`document.querySelector(".cbw-panel textarea").focus()`), chromedp.KeyEvent(kb.Escape))
	b.Do(5*time.Second, browsertest.Until(`document.querySelector(".cbw-panel").hidden && document.activeElement.classList.contains("cbw-launcher")`))

	// The English page: the same conversation, in English; axe-core.
	b.Do(15*time.Second, chromedp.Navigate(host.URL+"/en"))
	b.Do(10*time.Second, browsertest.Until(`document.querySelector(".cbw-launcher")`))
	b.Do(10*time.Second, browsertest.Eval(`document.querySelector(".cbw-launcher").click()`))
	b.Do(15*time.Second, browsertest.Until(staff))
	b.Do(5*time.Second, browsertest.Until(`document.querySelector(".cbw-send").textContent === "Send" && document.querySelector(".cbw").getAttribute("lang") === "en"`))
	fits320("the English panel", ".cbw-panel")
	runAxe("English widget")

	// The standalone page, in English: a new conversation (another
	// origin's localStorage), its answer, axe-core, 320 px.
	b.Do(15*time.Second, chromedp.Navigate(chatURL+"/chat?lang=en"))
	b.Do(10*time.Second, browsertest.Until(`document.querySelector(".cbw-page .cbw-log") && document.querySelector(".cbw-send").textContent === "Send"`))
	say("How do I apply for an ID card?")
	b.Do(20*time.Second, browsertest.Until(`document.querySelectorAll(".cbw-page .cbw-from-bot").length > 0`))
	// "Talk to a person": the bot asks what it is about.
	b.Do(5*time.Second, browsertest.Eval(`document.querySelector(".cbw-human").textContent === "Talk to a person" && document.querySelector(".cbw-human").click()`))
	b.Do(20*time.Second, browsertest.Until(`(function(){ var m = document.querySelectorAll(".cbw-page .cbw-msg"); return m.length >= 4 && m[m.length-2].textContent.indexOf("Talk to a person") >= 0 && m[m.length-1].classList.contains("cbw-from-bot"); })()`))
	fits320("the /chat page", ".cbw-page")
	runAxe("/chat?lang=en")
	// And in German.
	b.Do(15*time.Second, chromedp.Navigate(chatURL+"/chat?lang=de"))
	b.Do(10*time.Second, browsertest.Until(`document.querySelector(".cbw-send").textContent === "Senden" && document.querySelectorAll(".cbw-page .cbw-from-bot").length > 0`))
	fits320("the German /chat page", ".cbw-page")
	runAxe("/chat")
	// Data export and erasure from the widget's own buttons: the export
	// comes as a file; the erasure, confirmed, empties the log, and the
	// browser forgets the conversation (a reload starts afresh). (The bot
	// speaks the language the conversation began in: English.)
	b.Do(5*time.Second, browsertest.Eval(`Array.from(document.querySelectorAll(".cbw-privacy-row button")).filter(function(x){ return x.textContent === "Meine Daten anzeigen"; })[0].click()`))
	b.Do(20*time.Second, browsertest.Until(`Array.from(document.querySelectorAll(".cbw-file a[download]")).some(function(a){ return a.download === "meinedaten.json" && /^blob:/.test(a.href); })`))
	b.Do(5*time.Second, browsertest.Eval(`Array.from(document.querySelectorAll(".cbw-privacy-row button")).filter(function(x){ return x.textContent === "Meine Daten löschen"; })[0].click()`))
	eraseYes := `Array.from(document.querySelectorAll(".cbw-buttons button")).filter(function(x){ return /Ja, alles löschen|Yes, delete everything/.test(x.textContent); }).pop()`
	b.Do(20*time.Second, browsertest.Until(eraseYes))
	b.Do(5*time.Second, browsertest.Eval(eraseYes+`.click()`))
	b.Do(20*time.Second, browsertest.Until(`localStorage.length === 0 && document.querySelectorAll(".cbw-from-citizen").length === 0 && /Ihre Daten wurden gelöscht|Your data has been deleted/.test(document.querySelector(".cbw-log").textContent)`))
	b.Do(15*time.Second, chromedp.Navigate(chatURL+"/chat?lang=de"))
	b.Do(10*time.Second, browsertest.Until(`document.querySelector(".cbw-send") && !document.querySelector(".cbw-privacy-text").hidden && document.querySelectorAll(".cbw-msg").length === 0 && localStorage.length === 0`))
	// The built-in privacy notice, in both languages, passes axe-core too.
	for _, u := range []string{"/chat/datenschutz", "/chat/datenschutz?lang=en"} {
		b.Do(15*time.Second, chromedp.Navigate(chatURL+u))
		b.Do(10*time.Second, browsertest.Until(`/^(Datenschutzhinweise zum Chat|Privacy notice of the chat)$/.test(document.querySelector("h1").textContent) && getComputedStyle(document.body).paddingTop === "16px"`))
		runAxe(u)
	}

	if ex := b.Exceptions(); len(ex) > 0 {
		t.Errorf("page exceptions: %v", ex)
	}
}

// questionWith is a question of the demo's dev set that the FAQ decides
// with d.
func questionWith(t *testing.T, d *sqlx.DB, dec faq.Decision) string {
	t.Helper()
	live := faq.NewLive(faq.NewStore(d), slog.New(slog.DiscardHandler))
	must(t, live.Reload(context.Background()))
	qs, err := faq.LoadQuestionsFS(demodata.FS)
	must(t, err)
	for _, q := range qs {
		if live.Match(q.Q).Decision == dec {
			return q.Q
		}
	}
	t.Fatalf("no dev question with decision %s", dec)
	return ""
}

// A page on an origin that is not in CITYBOT_WEBCHAT_ORIGINS may load the
// script, but the API refuses it: nothing is stored, on either side, and
// the widget says that the message could not be sent. On an allowed page
// with a strict Content Security Policy the widget works.
func TestBrowserWidgetOtherOriginRefused(t *testing.T) {
	var chatURL string
	page := func(w http.ResponseWriter, r *http.Request) {
		// The city's Content Security Policy as the README asks for it:
		// citybot's origin in script-src, style-src and connect-src.
		w.Header().Set("Content-Security-Policy", "default-src 'self'; script-src 'self' "+chatURL+"; style-src 'self' "+chatURL+"; connect-src 'self' "+chatURL)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><html lang="de"><head><meta charset="utf-8"><title>Fremde Seite</title></head>
<body><main><h1>Fremde Seite</h1></main><script src="%s/widget.js" data-city-title="Stadt Musterstadt"></script></body></html>`, chatURL)
	}
	allowed := httptest.NewServer(http.HandlerFunc(page))
	t.Cleanup(allowed.Close)
	other := httptest.NewServer(http.HandlerFunc(page))
	t.Cleanup(other.Close)
	e := newEnv(t, func(c *Config) { c.Origins = []string{allowed.URL} })
	chatURL = e.srv.URL

	b := browsertest.Start(t, browsertest.WithTimeout(time.Minute))
	b.Do(15*time.Second, chromedp.Navigate(other.URL+"/"))
	b.Do(10*time.Second, browsertest.Until(`document.querySelector(".cbw-launcher") && !document.querySelector(".cbw").hidden`))
	b.Do(5*time.Second, browsertest.Eval(`document.querySelector(".cbw-launcher").click()`))
	b.Do(10*time.Second, chromedp.SendKeys("textarea", "Wie beantrage ich einen Personalausweis?"), chromedp.KeyEvent(kb.Enter))
	b.Do(15*time.Second, browsertest.Until(`document.querySelector(".cbw-status").textContent === "Die Nachricht konnte nicht gesendet werden. Bitte versuchen Sie es noch einmal."`))
	var convs int
	must(t, e.db.Get(&convs, `SELECT count(*) FROM webchat_conversations`))
	if convs != 0 {
		t.Errorf("%d conversations from a page of another origin", convs)
	}
	if n, _ := chromedp.Run(b.Context(), chromedp.Evaluate[int](`localStorage.length + document.querySelectorAll(".cbw-msg").length`)); n != 0 {
		t.Errorf("%d entries in localStorage and messages after a refused message", n)
	}
	// The same widget on the allowed page works (the refusal was the
	// origin), styled, under the page's Content Security Policy.
	b.Do(15*time.Second, chromedp.Navigate(allowed.URL+"/"))
	b.Do(10*time.Second, browsertest.Until(`document.querySelector(".cbw-launcher") && !document.querySelector(".cbw").hidden`))
	if st, _ := chromedp.Run(b.Context(), chromedp.Evaluate[string](`getComputedStyle(document.querySelector(".cbw-launcher")).backgroundColor`)); st != "rgb(11, 79, 138)" {
		t.Errorf("launcher under the CSP: background %q", st)
	}
	b.Do(5*time.Second, browsertest.Eval(`document.querySelector(".cbw-launcher").click()`))
	b.Do(10*time.Second, chromedp.SendKeys("textarea", "Wie beantrage ich einen Personalausweis?"), chromedp.KeyEvent(kb.Enter))
	b.Do(15*time.Second, browsertest.Until(`document.querySelectorAll(".cbw-from-bot").length > 0`))
}
