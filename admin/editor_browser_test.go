package admin

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"citybot/bot/telegram"
	"citybot/faq"
	"citybot/internal/browsertest"
	"citybot/internal/tgfake"
	"citybot/staff"
)

// botUnderTest is the Telegram bot running against the fake Bot API with
// the live FAQ matcher (reloaded on faq_changed), as in production.
type botUnderTest struct {
	t    *testing.T
	fake *tgfake.Server
	chat int64
}

func startBot(t *testing.T, e *env) *botUnderTest {
	t.Helper()
	logger := slog.New(slog.DiscardHandler)
	live := faq.NewLive(faq.NewStore(e.db), logger)
	if err := live.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	fake := tgfake.New(t, tgfake.WithPollCap(200*time.Millisecond))
	svc, err := telegram.NewService(e.db, live, logger, telegram.Config{
		Token: fake.Token(), APIURL: fake.URL(), HTTPClient: fake.HTTPClient(),
		Workers: 2, Senders: 2, PollTimeout: time.Second, LeaderRetry: 100 * time.Millisecond, IdleInterval: 50 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{}, 2)
	go func() { _ = live.Run(ctx, e.srv.deps.DatabaseURL); done <- struct{}{} }()
	go func() { _ = svc.Run(ctx); done <- struct{}{} }()
	t.Cleanup(func() { cancel(); <-done; <-done })
	return &botUnderTest{t: t, fake: fake, chat: 4242}
}

// ask sends question as the citizen and returns the text of the bot's reply.
func (b *botUnderTest) ask(question string) string {
	b.t.Helper()
	n := len(b.fake.SentTo(b.chat))
	b.fake.PushText(b.chat, question)
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if got := b.fake.SentTo(b.chat); len(got) > n {
			time.Sleep(100 * time.Millisecond) // a reply may have several messages
			var texts []string
			for _, m := range b.fake.SentTo(b.chat)[n:] {
				texts = append(texts, m.PlainText)
			}
			return strings.Join(texts, "\n")
		}
		time.Sleep(20 * time.Millisecond)
	}
	b.t.Fatalf("no reply to %q", question)
	return ""
}

// askUntil asks until the reply contains want (the matcher reloads within
// seconds after a change) and returns how long it took.
func (b *botUnderTest) askUntil(question, want string, within time.Duration) time.Duration {
	b.t.Helper()
	start := time.Now()
	var last string
	for time.Since(start) < within {
		if last = b.ask(question); strings.Contains(last, want) {
			return time.Since(start)
		}
		time.Sleep(200 * time.Millisecond)
	}
	b.t.Fatalf("the bot did not answer %q with %q within %s; last reply: %q", question, want, within, last)
	return 0
}

// TestBrowserEditorPublishChangesTheBotsAnswer: an editor creates an entry
// in a real headless Chromium, publishes it, and the bot (through the fake
// Telegram server) answers with it within seconds; then edits the answer,
// and restores the first revision, each reaching the bot.
func TestBrowserEditorPublishChangesTheBotsAnswer(t *testing.T) {
	e := newEnv(t)
	e.withDemoFAQ()
	e.user("bau@example.org", staff.RoleEditor, "bauamt")
	tg := startBot(t, e)
	const question = "Darf ich mit meiner Drohne über eine Baustelle fliegen?"
	const answer1 = "Drohnenflüge über Baustellen brauchen eine Erlaubnis der Luftfahrtbehörde."
	const answer2 = "Über Baustellen dürfen Drohnen nur mit Zustimmung der Bauleitung fliegen."
	if got := tg.ask(question); strings.Contains(got, "Luftfahrtbehörde") {
		t.Fatalf("the bot knows the answer before it exists: %q", got)
	}

	b := browsertest.Start(t, browsertest.WithTimeout(120*time.Second))
	const step = 15 * time.Second
	b.Do(step,
		chromedp.Navigate(e.url+"/faq"),
		chromedp.WaitVisible("#email"),
		chromedp.SendKeys("#email", "bau@example.org"),
		chromedp.SendKeys("#password", testPassword),
		chromedp.Submit("#password"),
		chromedp.WaitVisible("#entries"),
		chromedp.Click(`a[href="/faq/new"]`),
		chromedp.WaitVisible("#question"),
		chromedp.SendKeys("#id", "drohne-baustelle"),
		chromedp.SetValue("#department", "bauamt"),
		chromedp.SendKeys("#question", "Darf ich mit einer Drohne über eine Baustelle fliegen?"),
		chromedp.SendKeys("#variants", "Drohne über Baustelle\nDrohnenflug Baustelle"),
		chromedp.SendKeys("#answer", answer1),
		chromedp.SendKeys("#tags", "Drohne, Bauen"),
		chromedp.Click("#save"),
		chromedp.WaitVisible("#publish"),
	)
	if txt, _ := chromedp.Run(b.Context(), chromedp.Text("#preview")); !strings.Contains(txt, "Luftfahrtbehörde") {
		t.Errorf("preview: %q", txt)
	}
	// A draft entry is not used by the bot.
	if got := tg.ask(question); strings.Contains(got, "Luftfahrtbehörde") {
		t.Fatalf("the bot answers with a draft: %q", got)
	}
	b.Do(step, chromedp.Click("#publish"), chromedp.WaitVisible(".notice"))
	took := tg.askUntil(question, "Luftfahrtbehörde", 10*time.Second)
	t.Logf("published answer reached the bot after %s", took)

	// Edit the answer and save it live.
	b.Do(step,
		chromedp.SetValue("#answer", answer2),
		chromedp.Click("#save"),
		chromedp.WaitVisible(".notice"),
	)
	tg.askUntil(question, "Bauleitung", 10*time.Second)

	// Restore the first revision: the first answer comes back.
	b.Do(step,
		chromedp.Click(`a[href="/faq/e/drohne-baustelle/history"]`),
		chromedp.WaitVisible(".history"),
		chromedp.Click(`.history > li:last-child form button[type=submit]`),
		chromedp.WaitVisible(".notice"),
	)
	if txt, _ := chromedp.Run(b.Context(), chromedp.Text(".history > li:first-child h2")); !strings.Contains(txt, "wiederhergestellt") {
		t.Errorf("newest revision: %q", txt)
	}
	tg.askUntil(question, "Luftfahrtbehörde", 10*time.Second)
	if ex := b.Exceptions(); len(ex) > 0 {
		t.Errorf("page exceptions: %v", ex)
	}
}

// TestBrowserEditorPreviewKeepsState: "Vorschau aktualisieren" on a
// published entry keeps showing it as published (not the raw key
// "faq.status."), offers no "Veröffentlichen" (which would publish nothing
// and throw the edits away) and keeps the edits, which "Speichern" then
// saves.
func TestBrowserEditorPreviewKeepsState(t *testing.T) {
	e := newEnv(t)
	e.withDemoFAQ()
	e.user("ed@example.org", staff.RoleEditor, "bauamt")
	var id string
	if err := e.db.Get(&id, `SELECT id FROM faq_entries WHERE department_id = 'bauamt' AND status = 'published' ORDER BY id LIMIT 1`); err != nil {
		t.Fatal(err)
	}
	b := browsertest.Start(t, browsertest.WithTimeout(90*time.Second))
	loginIn(b, e.url, "ed@example.org")
	b.Do(15*time.Second, chromedp.Navigate(e.url+"/faq/e/"+id))
	waitFor(b, "#answer")
	const edit = "Neu: Bitte reichen Sie den Antrag online ein."
	b.Do(15*time.Second,
		browsertest.Eval(`document.querySelector("#answer").value = ""`),
		chromedp.SendKeys("#answer", edit),
		browsertest.Eval(`window.__old = 1; window.onbeforeunload = null; document.querySelector('button[value="preview"]').click()`),
	)
	waitJS(b, `!window.__old && document.readyState === "complete" && !!document.querySelector("#entry-status")`)
	got, err := chromedp.Run(b.Context(), chromedp.Evaluate[string](`document.querySelector("#entry-status").textContent + " | publish button: " + !!document.querySelector("#publish") + " | " + document.querySelector("#answer").value + " | preview: " + document.querySelector("#preview").textContent`))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(got, "Veröffentlicht | publish button: false | "+edit) || !strings.Contains(got, "online ein") {
		t.Errorf("after the preview: %q", got)
	}
	// Leaving the page now would lose the edits: the browser asks first.
	const leave = `(function(){ var ev = new Event("beforeunload", {cancelable: true}); window.dispatchEvent(ev); return ev.defaultPrevented; })()`
	if warn, _ := chromedp.Run(b.Context(), chromedp.Evaluate[bool](leave)); !warn {
		t.Error("no unsaved-changes warning after the preview")
	}
	b.Do(15*time.Second, browsertest.Eval(`window.__old = 1; document.querySelector("#save").click()`))
	waitJS(b, `!window.__old && document.readyState === "complete" && !!document.querySelector(".notice")`)
	var answer, status string
	if err := e.db.QueryRow(`SELECT answer, status FROM faq_entries WHERE id = $1`, id).Scan(&answer, &status); err != nil || answer != edit || status != "published" {
		t.Errorf("saved %q %q (%v)", answer, status, err)
	}
	// A saved form does not warn; a changed one does.
	if warn, _ := chromedp.Run(b.Context(), chromedp.Evaluate[bool](leave)); warn {
		t.Error("unsaved-changes warning on a saved form")
	}
	b.Do(5*time.Second, chromedp.SendKeys("#question", " (neu)"))
	if warn, _ := chromedp.Run(b.Context(), chromedp.Evaluate[bool](leave)); !warn {
		t.Error("no unsaved-changes warning after typing")
	}
	// Editors land on the FAQ after login.
	b2 := browsertest.Start(t, browsertest.WithTimeout(60*time.Second))
	loginIn(b2, e.url, "ed@example.org")
	if loc, _ := chromedp.Run(b2.Context(), chromedp.Location()); !strings.HasSuffix(loc, "/faq") {
		t.Errorf("editor landed on %s", loc)
	}
}
