package webchat

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"citybot/internal/browsertest"
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
	host := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><html lang="de"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Stadt Musterstadt</title></head>
<body><main><h1>Willkommen in Musterstadt</h1><p>Die Seite der Stadt.</p></main>
<script src="%s/widget.js" data-city-title="Stadt Musterstadt"></script></body></html>`, chatURL)
	}))
	t.Cleanup(host.Close)
	e := newEnv(t, func(c *Config) { c.Origins = []string{host.URL}; c.ProofOfWork = 14 })
	chatURL = e.srv.URL
	if strings.TrimPrefix(host.URL, "http://127.0.0.1:") == strings.TrimPrefix(chatURL, "http://127.0.0.1:") {
		t.Fatal("same origin")
	}

	b := browsertest.Start(t, browsertest.WithTimeout(3*time.Minute))
	b.Do(5*time.Second, chromedp.EmulateViewport(320, 640))
	b.Do(15*time.Second, chromedp.Navigate(host.URL+"/"))
	b.Do(10*time.Second, browsertest.Until(`document.querySelector(".cbw-launcher")`))
	// Keyboard only: Tab to the launcher, Enter opens, focus is in the text field.
	b.Do(5*time.Second, browsertest.Eval(`document.activeElement && document.activeElement.blur()`), chromedp.KeyEvent(kb.Tab))
	b.Do(5*time.Second, browsertest.Until(`document.activeElement && document.activeElement.classList.contains("cbw-launcher")`))
	b.Do(5*time.Second, chromedp.KeyEvent(kb.Enter))
	b.Do(5*time.Second, browsertest.Until(`document.activeElement && document.activeElement.tagName === "TEXTAREA"`))
	// Fits at 320 px.
	fits, err := chromedp.Run(b.Context(), chromedp.Evaluate[bool](`(function(){ var r = document.querySelector(".cbw-panel").getBoundingClientRect(); return r.left >= 0 && r.right <= window.innerWidth && document.documentElement.scrollWidth <= window.innerWidth; })()`))
	must(t, err)
	if !fits {
		t.Error("the panel does not fit 320 px")
	}

	say := func(text string) {
		t.Helper()
		b.Do(10*time.Second, chromedp.SendKeys("textarea", text), chromedp.KeyEvent(kb.Enter))
	}
	say("Wie beantrage ich einen Personalausweis?")
	b.Do(15*time.Second, browsertest.Until(`Array.from(document.querySelectorAll(".cbw-from-bot")).some(function(m){ return /Personalausweis/i.test(m.textContent) && m.querySelector(".cbw-buttons button"); })`))
	// The log is a live region: screen readers announce what is added.
	live, err := chromedp.Run(b.Context(), chromedp.Evaluate[string](`document.querySelector(".cbw-log").getAttribute("role") + " " + document.querySelector(".cbw-log").getAttribute("aria-live")`))
	must(t, err)
	if live != "log polite" {
		t.Errorf("log region %q", live)
	}
	var token string
	tok, err := chromedp.Run(b.Context(), chromedp.Evaluate[string](`Object.keys(localStorage).map(function(k){ return localStorage.getItem(k); }).join("")`))
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
	if cookies, _ := chromedp.Run(b.Context(), chromedp.Evaluate[string](`document.cookie`)); cookies != "" {
		t.Errorf("cookies %q", cookies)
	}

	// Something the FAQ cannot answer: the bot asks, the citizen confirms.
	say("Ich möchte mich über nächtlichen Lärm von der Baustelle in der Hauptstraße beschweren")
	yes := `Array.from(document.querySelectorAll(".cbw-buttons button")).filter(function(x){ return /^(Ja|Yes)/.test(x.textContent.trim()); }).pop()`
	b.Do(15*time.Second, browsertest.Until(yes))
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

	// A staff reply through routing (as the inbox sends it) appears live.
	var uid int64
	must(t, e.db.Get(&uid, `INSERT INTO users (email, name, password_hash, role) VALUES ('a@x.de', 'A', 'x', 'admin') RETURNING id`))
	_, err = e.cases.Reply(context.Background(), staff.Principal{ID: uid, Role: staff.RoleAdmin}, caseID, "Wir kümmern uns darum. <script>alert(1)</script>", nil)
	must(t, err)
	staff := `Array.from(document.querySelectorAll(".cbw-from-staff")).some(function(m){ return m.textContent.indexOf("Wir kümmern uns darum. <script>alert(1)</script>") >= 0; })`
	b.Do(15*time.Second, browsertest.Until(staff))
	if n, _ := chromedp.Run(b.Context(), chromedp.Evaluate[int](`document.querySelectorAll(".cbw script").length`)); n != 0 {
		t.Error("message content became markup")
	}

	// axe-core on the open widget.
	b.Do(10*time.Second, browsertest.Eval(string(axe)))
	res, err := chromedp.Run(b.Context(), chromedp.Evaluate[string](`axe.run(document, {runOnly: {type: 'tag', values: ["wcag2a","wcag2aa","wcag21a","wcag21aa"]}, resultTypes: ['violations']}).then(function(r){ return JSON.stringify(r.violations.map(function(v){ return v.id + ": " + v.nodes.map(function(n){ return n.target.join(" ") + " " + n.failureSummary; }).join("; "); })); })`, chromedp.EvalAwaitPromise))
	must(t, err)
	var violations []string
	must(t, json.Unmarshal([]byte(res), &violations))
	if len(violations) > 0 {
		t.Errorf("axe: %s", strings.Join(violations, "\n"))
	}

	// A reload keeps the conversation.
	b.Do(15*time.Second, chromedp.Navigate(host.URL+"/"))
	b.Do(10*time.Second, browsertest.Eval(`document.querySelector(".cbw-launcher").click()`))
	b.Do(15*time.Second, browsertest.Until(staff))
	b.Do(5*time.Second, browsertest.Until(`document.querySelectorAll(".cbw-from-citizen").length >= 2`))
	// Escape closes and gives focus back to the launcher.
	b.Do(5*time.Second, browsertest.Eval(`document.querySelector(".cbw-panel textarea").focus()`), chromedp.KeyEvent(kb.Escape))
	b.Do(5*time.Second, browsertest.Until(`document.querySelector(".cbw-panel").hidden && document.activeElement.classList.contains("cbw-launcher")`))

	// The standalone page, in English.
	b.Do(15*time.Second, chromedp.Navigate(chatURL+"/chat?lang=en"))
	b.Do(10*time.Second, browsertest.Until(`document.querySelector(".cbw-page .cbw-log") && document.querySelector(".cbw-send").textContent === "Send"`))
	b.Do(15*time.Second, browsertest.Until(`document.querySelectorAll(".cbw-msg").length === 0 || true`))
	if ex := b.Exceptions(); len(ex) > 0 {
		t.Errorf("page exceptions: %v", ex)
	}
}
