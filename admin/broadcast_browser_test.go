package admin

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"citybot/internal/browsertest"
	"citybot/staff"
)

// TestBroadcastBrowserSendPost: an editor writes a post in a real headless
// Chromium, sees the preview (the text escaped, the buttons), sends it now
// and watches the progress reach "sent" without reloading the page.
func TestBroadcastBrowserSendPost(t *testing.T) {
	// 15 subscribers at 5 messages/s: about 3 s of sending to watch.
	e := newBroadcastEnv(t, 5, 50*time.Millisecond)
	e.user("ed@example.org", staff.RoleEditor, "bauamt")
	tp := e.topic("baustellen", "Baustellen & Verkehr")
	e.subscribers(tp.ID, 15)

	b := browsertest.Start(t, browsertest.WithTimeout(90*time.Second))
	const step = 15 * time.Second
	const text = "Sperrung der <b>Hauptstraße</b> ab Montag."
	b.Do(step,
		chromedp.Navigate(e.url+"/broadcast/posts/new"),
		chromedp.WaitVisible("#email"),
		chromedp.SendKeys("#email", "ed@example.org"),
		chromedp.SendKeys("#password", testPassword),
		chromedp.Submit("#password"),
		chromedp.WaitVisible("#text"),
		chromedp.SendKeys("#text", text),
		chromedp.Click(fmt.Sprintf("#topic-%d", tp.ID)),
		chromedp.SendKeys("#link_url", "https://stadt.example/hauptstrasse"),
		chromedp.Click("#save"),
		chromedp.WaitVisible("#preview"),
	)
	if txt, _ := chromedp.Run(b.Context(), chromedp.Text("#preview-text")); txt != text {
		t.Errorf("preview text %q, want %q", txt, text)
	}
	if n, _ := chromedp.Run(b.Context(), chromedp.Evaluate[int](`document.querySelectorAll("#preview b").length`)); n != 0 {
		t.Error("the preview renders the text as HTML")
	}
	if txt, _ := chromedp.Run(b.Context(), chromedp.Text("#preview")); !strings.Contains(txt, "Frage dazu") || !strings.Contains(txt, "Mehr erfahren") {
		t.Errorf("preview buttons: %q", txt)
	}
	if txt, _ := chromedp.Run(b.Context(), chromedp.Text("#preview-recipients")); txt != "15" {
		t.Errorf("recipients %q", txt)
	}

	b.Do(step,
		chromedp.Click("#send-now"),
		chromedp.WaitVisible("#send-confirm"),
	)
	if txt, _ := chromedp.Run(b.Context(), chromedp.Text("#confirm")); !strings.Contains(txt, "an 15 Empfängerinnen und Empfänger") {
		t.Errorf("confirmation %q", txt)
	}
	b.Do(step,
		chromedp.Click("#send-confirm"),
		chromedp.WaitVisible("#progress"),
		browsertest.Eval(`window.__noReload = 1`),
	)
	first, _ := chromedp.Run(b.Context(), chromedp.Evaluate[string](`document.querySelector("#progress-status").getAttribute("data-status")`))
	if first == "sent" {
		t.Log("the post was sent before the page showed it: the live update is not exercised")
	}
	if live, _ := chromedp.Run(b.Context(), chromedp.Evaluate[string](`document.querySelector("#progress .progress-status").getAttribute("aria-live")`)); live != "polite" {
		t.Errorf("status line aria-live %q", live)
	}
	b.Do(30*time.Second,
		browsertest.Until(`document.querySelector("#progress-status").getAttribute("data-status") === "sent"`),
	)
	if v, _ := chromedp.Run(b.Context(), chromedp.Evaluate[int](`window.__noReload || 0`)); v != 1 {
		t.Fatal("the page was reloaded")
	}
	for sel, want := range map[string]string{"#progress-status": "Gesendet", "#progress-sent": "15", "#progress-remaining": "0"} {
		if txt, _ := chromedp.Run(b.Context(), chromedp.Text(sel)); txt != want {
			t.Errorf("%s = %q, want %q", sel, txt, want)
		}
	}
	// The progress is on top, in view; the estimate of the duration is gone.
	if top, _ := chromedp.Run(b.Context(), chromedp.Evaluate[bool](`document.querySelector("#progress").getBoundingClientRect().top < window.innerHeight / 2`)); !top {
		t.Error("the progress is not at the top of the page")
	}
	b.Do(step, chromedp.Reload(), chromedp.WaitVisible("#progress"))
	if txt, _ := chromedp.Run(b.Context(), chromedp.Text("main")); strings.Contains(txt, "Voraussichtliche Dauer") {
		t.Error("a finished post still shows the expected duration")
	}
	if hidden, _ := chromedp.Run(b.Context(), chromedp.Evaluate[bool](`document.querySelector("#cancel-form") === null || document.querySelector("#cancel-form").hidden`)); !hidden {
		t.Error("the cancel button is still offered after sending")
	}
	if chats, msgs := e.sender.count(); chats != 15 || msgs != 15 {
		t.Errorf("sent %d messages to %d chats, want 15 to 15", msgs, chats)
	}
	if ex := b.Exceptions(); len(ex) > 0 {
		t.Errorf("page exceptions: %v", ex)
	}
}
