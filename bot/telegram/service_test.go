package telegram

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"citybot/bot"
	"citybot/faq"
	"citybot/internal/tgfake"
)

func TestStartGermanAndEnglish(t *testing.T) {
	e := newEnv(t)
	e.start(e.config())

	e.fake.PushText(101, "/start")
	got := e.waitSentTo(101, 1)
	if !strings.Contains(got[0].PlainText, "Willkommen") || !strings.Contains(got[0].PlainText, "https://example.org/datenschutz") {
		t.Errorf("German welcome = %q", got[0].PlainText)
	}

	en := e.fake.DefaultUser(102)
	en.LanguageCode = "en-GB"
	e.fake.PushTextFrom(en, 102, "/start")
	got = e.waitSentTo(102, 1)
	if !strings.Contains(got[0].PlainText, "Welcome") {
		t.Errorf("English welcome = %q", got[0].PlainText)
	}

	e.fake.PushText(101, "/hilfe")
	got = e.waitSentTo(101, 2)
	if !strings.Contains(got[1].PlainText, "/mitarbeiter") || got[1].ReplyMarkup == nil || got[1].ReplyMarkup.InlineKeyboard[0][0].Text != "Mehr dazu" {
		t.Errorf("help = %q", got[1].PlainText)
	}
	// Welcome and help fit one phone screen; the details are behind a button.
	for i, m := range got[:2] {
		if n := len([]rune(m.PlainText)); n > 400 {
			t.Errorf("message %d has %d characters: %q", i, n, m.PlainText)
		}
	}
	// The details on Telegram: photos and files, news subscriptions (the
	// web chat's details have neither).
	e.fake.PushCallback(101, got[1].MessageID, got[1].ReplyMarkup.CallbackData()[0])
	more := e.waitSentTo(101, 3)[2]
	if !strings.Contains(more.PlainText, "Fotos und Dateien gebe ich an die Stelle weiter") || !strings.Contains(more.PlainText, "/abo") {
		t.Errorf("help details = %q", more.PlainText)
	}
	if strings.Contains(got[0].PlainText, "/abo") {
		t.Errorf("the welcome advertises /abo without topics: %q", got[0].PlainText)
	}
	if !strings.Contains(more.PlainText, "/meinedaten") || !strings.Contains(more.PlainText, "https://example.org/datenschutz") {
		t.Errorf("help details without privacy commands = %q", more.PlainText)
	}
	// The button press was handled (and answered) before the count: the
	// press itself, /start twice and /hilfe in, four texts out.
	waitFor(t, "callback answered", func() bool { return len(e.fake.UnansweredCallbacks()) == 0 })
	if n := e.count(`SELECT count(*) FROM messages`); n != 8 {
		t.Errorf("messages stored = %d, want 8 (4 in, 4 out)", n)
	}
}

func TestQuestionAnswerFeedback(t *testing.T) {
	e := newEnv(t)
	e.start(e.config())
	const chat = 201
	q := "Wie beantrage ich einen Personalausweis?"
	if r := e.m.Match(q); r.Decision != faq.DecisionAnswer {
		t.Fatalf("matcher: %q -> %s", q, r.Decision)
	}
	e.fake.PushText(chat, q)
	ans := e.waitSentTo(chat, 1)[0]
	if ans.ParseMode != "HTML" || !strings.HasPrefix(ans.Text, "<b>") || !strings.Contains(ans.PlainText, "Bürgerbüro") {
		t.Fatalf("answer = %+v", ans)
	}
	// A long answer: its summary, "Mehr dazu", and the feedback buttons.
	kb := ans.ReplyMarkup.InlineKeyboard
	if len(kb) != 2 || kb[0][0].Text != "Mehr dazu" {
		t.Fatalf("buttons = %v", ans.ReplyMarkup.CallbackData())
	}
	data := []string{kb[1][0].CallbackData, kb[1][1].CallbackData}
	if !strings.HasSuffix(data[0], ":y") || !strings.HasSuffix(data[1], ":n") {
		t.Fatalf("feedback buttons = %v", data)
	}
	labels := kb[1]
	if labels[0].Text != "👍 Hat geholfen" || labels[1].Text != "👎 Nicht geholfen" {
		t.Errorf("button labels = %q, %q", labels[0].Text, labels[1].Text)
	}

	e.fake.PushCallback(chat, ans.MessageID, data[0])
	waitFor(t, "helpful feedback", func() bool {
		return e.count(`SELECT count(*) FROM bot_answers WHERE helpful AND feedback_at IS NOT NULL`) == 1
	})
	waitFor(t, "callback answered", func() bool { return len(e.fake.UnansweredCallbacks()) == 0 })

	// Changing one's mind: not helpful -> recorded for staff, with a reply.
	e.fake.PushCallback(chat, ans.MessageID, data[1])
	msgs := e.waitSentTo(chat, 2)
	if !strings.Contains(msgs[1].PlainText, "notiert") {
		t.Errorf("not helpful reply = %q", msgs[1].PlainText)
	}
	if n := e.count(`SELECT count(*) FROM unanswered WHERE reason = 'not_helpful' AND entry_id = 'personalausweis-beantragen' AND text = $1`, q); n != 1 {
		t.Errorf("unanswered not_helpful rows = %d", n)
	}
	if n := e.count(`SELECT count(*) FROM bot_answers WHERE helpful = false`); n != 1 {
		t.Errorf("answers marked not helpful = %d", n)
	}
	waitFor(t, "callbacks answered", func() bool { return len(e.fake.UnansweredCallbacks()) == 0 })

	// A forged button for someone else's answer does nothing but a notice.
	e.fake.PushCallback(chat+1, 1, data[0])
	waitFor(t, "forged callback answered", func() bool { return len(e.fake.UnansweredCallbacks()) == 0 })
	if n := e.count(`SELECT count(*) FROM bot_answers WHERE helpful = false`); n != 1 {
		t.Errorf("forged feedback changed an answer")
	}
}

func TestSuggestCandidates(t *testing.T) {
	e := newEnv(t)
	e.start(e.config())
	const chat = 301
	q := devQuestion(t, e.m, faq.DecisionSuggest, "")
	e.fake.PushText(chat, q)
	sug := e.waitSentTo(chat, 1)[0]
	data := sug.ReplyMarkup.CallbackData()
	if len(data) < 2 || len(data) > 4 {
		t.Fatalf("suggestion buttons = %v", data)
	}
	last := sug.ReplyMarkup.InlineKeyboard[len(sug.ReplyMarkup.InlineKeyboard)-1][0]
	if last.Text != "Nichts davon" {
		t.Errorf("last button = %q", last.Text)
	}
	for _, d := range data {
		if len(d) > 64 {
			t.Errorf("callback data %q longer than 64 bytes", d)
		}
	}
	// Choose the first candidate: its answer comes with feedback buttons.
	e.fake.PushCallback(chat, sug.MessageID, data[0])
	ans := e.waitSentTo(chat, 2)[1]
	if ans.ParseMode != "HTML" || len(ans.ReplyMarkup.CallbackData()) < 2 {
		t.Errorf("answer after suggestion = %+v", ans)
	}
	if n := e.count(`SELECT count(*) FROM bot_answers WHERE via = 'suggestion' AND question = $1`, q); n != 1 {
		t.Errorf("answers via suggestion = %d", n)
	}
	// "Nichts davon" records the question for staff.
	e.fake.PushCallback(chat, sug.MessageID, last.CallbackData)
	e.waitSentTo(chat, 3)
	if n := e.count(`SELECT count(*) FROM unanswered WHERE reason = 'no_suggestion_fit' AND text = $1`, q); n != 1 {
		t.Errorf("unanswered no_suggestion_fit = %d", n)
	}
}

func TestSmalltalkAndNoMatch(t *testing.T) {
	e := newEnv(t)
	e.start(e.config())
	e.fake.PushText(401, "Hallo")
	if got := e.waitSentTo(401, 1)[0].PlainText; !strings.Contains(got, "Wie kann ich Ihnen helfen") {
		t.Errorf("small talk reply = %q", got)
	}

	q := "Welche Farbe hat der Mantel des Nikolaus auf dem Mars?"
	if d := e.m.Match(q).Decision; d != faq.DecisionNone {
		q = devQuestion(t, e.m, faq.DecisionNone, "")
	}
	e.fake.PushText(402, q)
	if got := e.waitSentTo(402, 1)[0].PlainText; !strings.Contains(got, "notiert") {
		t.Errorf("no match reply = %q", got)
	}
	if n := e.count(`SELECT count(*) FROM unanswered WHERE text = $1 AND reason IN ('no_match', 'personal') AND status = 'open' AND message_id IS NOT NULL`, q); n != 1 {
		t.Errorf("unanswered rows for %q = %d", q, n)
	}
}

func TestRateLimitedSendDeliveredOnceAfterRetryAfter(t *testing.T) {
	e := newEnv(t)
	e.fake.FailNext("sendMessage", 1, tgfake.TooManyRequests(1))
	e.start(e.config())
	e.fake.PushText(501, "Hallo")
	got := e.expectExactly(501, 1)
	var failed, ok []tgfake.Call
	for _, c := range e.fake.Calls("sendMessage") {
		if c.OK {
			ok = append(ok, c)
		} else {
			failed = append(failed, c)
		}
	}
	if len(failed) != 1 || failed[0].ErrorCode != 429 || len(ok) != 1 {
		t.Fatalf("sendMessage calls: %d failed, %d ok", len(failed), len(ok))
	}
	if wait := ok[0].Time.Sub(failed[0].Time); wait < 900*time.Millisecond {
		t.Errorf("retried after %v, want >= retry_after (1s)", wait)
	}
	if !strings.Contains(got[0].PlainText, "Hallo") {
		t.Errorf("message = %q", got[0].PlainText)
	}
	// The record of the accepted send follows it (in the background).
	waitFor(t, "the send recorded", func() bool { return e.count(`SELECT count(*) FROM outbox WHERE status = 'sent'`) == 1 })
	if n := e.count(`SELECT count(*) FROM outbox WHERE status = 'sent' AND attempts = 1`); n != 1 {
		t.Errorf("outbox rows sent with one counted attempt = %d", n)
	}
}

func TestBlockedChatUndeliverableNoRetryStorm(t *testing.T) {
	e := newEnv(t)
	const chat = 601
	e.fake.BlockChat(chat)
	e.start(e.config())
	e.fake.PushText(chat, "/start")
	e.fake.PushText(chat, "/hilfe")
	waitFor(t, "undeliverable", func() bool {
		return e.count(`SELECT count(*) FROM outbox WHERE status = 'undeliverable'`) == 2
	})
	time.Sleep(1500 * time.Millisecond) // enough for retries to show, if there were any
	if n := e.fake.CallCount("sendMessage"); n > 2 {
		t.Errorf("sendMessage called %d times for 2 messages to a blocked chat", n)
	}
	if n := e.count(`SELECT count(*) FROM outbox WHERE status <> 'undeliverable'`); n != 0 {
		t.Errorf("%d outbox rows not undeliverable", n)
	}
	// Another chat is not affected.
	e.fake.PushText(602, "/start")
	e.waitSentTo(602, 1)
}

func TestTransientErrorsRetried(t *testing.T) {
	e := newEnv(t)
	e.fake.FailNext("sendMessage", 1, tgfake.ServerError())
	e.fake.FailNext("sendMessage", 1, tgfake.BadGatewayHTML())
	e.start(e.config())
	e.fake.PushText(701, "/start")
	e.expectExactly(701, 1)
	if n := e.count(`SELECT attempts FROM outbox`); n != 3 {
		t.Errorf("attempts = %d, want 3", n)
	}
}

func TestCrashBetweenIntakeAndAnswer(t *testing.T) {
	e := newEnv(t)
	const secret = "s3cr3t-Token_1"
	cfg := e.config(func(c *Config) {
		c.WebhookURL = "https://bot.example.org/telegram"
		c.WebhookSecret = secret
		c.Lease = time.Second
	})
	// Instance A stores updates through its webhook handler and dies before
	// handling them: it never runs.
	a, err := NewService(e.db, e.m, testLogger(t), cfg)
	must(t, err)
	srv := httptest.NewServer(a.WebhookHandler())
	defer srv.Close()
	for _, chat := range []int64{801, 802} {
		status, err := e.fake.DeliverWebhook(srv.URL, secret, e.fake.TextUpdate(chat, "/start"))
		if err != nil || status != http.StatusOK {
			t.Fatalf("webhook: %d %v", status, err)
		}
	}
	// Chat 802's update was claimed by a worker that crashed mid-way.
	_, err = e.db.Exec(`UPDATE telegram_updates SET status = 'processing', attempts = 1, locked_until = now() + interval '500 milliseconds'
		WHERE chat_id = 802`)
	must(t, err)

	// Instance B starts and answers both, once.
	e.start(cfg)
	e.expectExactly(801, 1)
	e.expectExactly(802, 1)
	if n := e.count(`SELECT count(*) FROM telegram_updates WHERE status = 'done' AND payload IS NULL AND chat_id IS NULL`); n != 2 {
		t.Errorf("done updates without payload = %d, want 2", n)
	}
}

func TestCrashBetweenIntakeAndAnswerPolling(t *testing.T) {
	e := newEnv(t)
	// Instance A only gets as far as intake: its poller stores the update
	// and confirms it to Telegram, then the process is gone.
	a, err := NewService(e.db, e.m, testLogger(t), e.config())
	must(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	polled := make(chan error, 1)
	go func() { polled <- a.runPoller(ctx) }()
	e.fake.PushText(851, "Wie beantrage ich einen Personalausweis?")
	waitFor(t, "update stored", func() bool { return e.count(`SELECT count(*) FROM telegram_updates`) == 1 })
	waitFor(t, "update confirmed to Telegram", func() bool { return e.fake.Pending() == 0 })
	cancel()
	must(t, <-polled)
	if n := e.fake.SentCount(); n != 0 {
		t.Fatalf("answered before the crash: %d", n)
	}

	// Instance B answers it, once.
	e.start(e.config())
	got := e.expectExactly(851, 1)
	if !strings.Contains(got[0].PlainText, "Personalausweis") {
		t.Errorf("answer = %q", got[0].PlainText)
	}
}

func TestDuplicateUpdateAnsweredOnce(t *testing.T) {
	e := newEnv(t)
	e.start(e.config())
	raw, _ := json.Marshal(e.fake.TextUpdate(901, "/start"))
	e.fake.PushUpdateVerbatim(raw)
	e.fake.PushUpdateVerbatim(raw)
	e.expectExactly(901, 1)

	// The same through the webhook handler.
	const secret = "abc"
	s, err := NewService(e.db, e.m, testLogger(t), e.config(func(c *Config) {
		c.WebhookURL = "https://x.example/hook"
		c.WebhookSecret = secret
	}))
	must(t, err)
	srv := httptest.NewServer(s.WebhookHandler())
	defer srv.Close()
	u := e.fake.TextUpdate(902, "/start")
	for range 2 {
		if status, err := e.fake.DeliverWebhook(srv.URL, secret, u); err != nil || status != 200 {
			t.Fatalf("webhook: %d %v", status, err)
		}
	}
	e.expectExactly(902, 1)
}

func TestWebhookAuthAndValidation(t *testing.T) {
	e := newEnv(t)
	const secret = "correct-secret"
	s, err := NewService(e.db, e.m, testLogger(t), e.config(func(c *Config) {
		c.WebhookURL = "https://x.example/hook"
		c.WebhookSecret = secret
	}))
	must(t, err)
	srv := httptest.NewServer(s.WebhookHandler())
	defer srv.Close()
	u := e.fake.TextUpdate(1001, "hallo")
	for _, tc := range []struct {
		name, secret string
		body         any
		want         int
	}{
		{"no secret", "", u, 401},
		{"wrong secret", "correct-secreT", u, 401},
		{"prefix of secret", "correct", u, 401},
		{"not JSON", secret, "{", 400},
		{"no update_id", secret, `{"message":{}}`, 400},
		{"too large", secret, `{"update_id":1,"x":"` + strings.Repeat("a", 2<<20) + `"}`, 413},
		{"ok", secret, u, 200},
	} {
		status, err := e.fake.DeliverWebhook(srv.URL, tc.secret, tc.body)
		if err != nil || status != tc.want {
			t.Errorf("%s: status %d (%v), want %d", tc.name, status, err, tc.want)
		}
	}
	if n := e.count(`SELECT count(*) FROM telegram_updates`); n != 1 {
		t.Errorf("stored updates = %d, want 1", n)
	}
	// GET is not allowed.
	resp, err := http.Get(srv.URL)
	must(t, err)
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET: %d", resp.StatusCode)
	}
	// The database is gone: 5xx, so Telegram retries.
	e.db.Close()
	if status, _ := e.fake.DeliverWebhook(srv.URL, secret, e.fake.TextUpdate(1002, "x")); status < 500 {
		t.Errorf("store failure: status %d, want 5xx", status)
	}
}

func TestMalformedAndOddMessages(t *testing.T) {
	e := newEnv(t)
	e.start(e.config())
	user := e.fake.DefaultUser(1101)
	msg := func(id int, fields string) json.RawMessage {
		from, _ := json.Marshal(user)
		return json.RawMessage(fmt.Sprintf(`{"update_id":%d,"message":{"message_id":%d,"date":%d,"chat":{"id":1101,"type":"private"},"from":%s,%s}}`,
			id, id, time.Now().Unix(), from, fields))
	}
	cases := []struct {
		raw  json.RawMessage
		want string
	}{
		// A bot_command entity far past the end of the text (panics the library's router).
		{msg(50001, `"text":"/start","entities":[{"type":"bot_command","offset":0,"length":50}]`), "nicht verarbeiten"},
		{msg(50002, `"text":"hi","entities":[{"type":"bold","offset":-3,"length":1}]`), "nicht verarbeiten"},
		// Invalid UTF-8 bytes in the text.
		{msg(50003, "\"text\":\"Personalausweis \xff\xfe\xfd beantragen\""), "nicht lesen"},
		// \u0000 and a lone surrogate (PostgreSQL rejects both in text/jsonb).
		{msg(50004, `"text":"\u0000\ud800"`), "nicht lesen"},
		{msg(50005, `"text":""`), "leer"},
		{msg(50006, `"text":"`+strings.Repeat("Bauantrag ", 1000)+`"`), "sehr lang"},
		{msg(50007, `"text":{"not":"a string"}`), "nicht verarbeiten"},
	}
	for _, c := range cases {
		e.fake.PushUpdateVerbatim(c.raw)
	}
	got := e.waitSentTo(1101, len(cases))
	for i, c := range cases {
		if !strings.Contains(got[i].PlainText, c.want) {
			t.Errorf("case %d: reply %q, want it to contain %q", i, got[i].PlainText, c.want)
		}
	}

	// Media.
	e.fake.PushPhoto(1102, "")
	e.fake.PushSticker(1102, "😀")
	e.fake.PushVoice(1102, 3)
	e.fake.PushLocation(1102, 49.0, 8.4)
	e.fake.PushDocument(1102, "antrag.pdf", []byte("%PDF-1.4"), "")
	e.fake.PushPhoto(1102, "Wie beantrage ich einen Personalausweis?")
	got = e.waitSentTo(1102, 6)
	for i, want := range []string{"Bild", "Text", "Sprachnachrichten", "Standort", "Datei", "Personalausweis"} {
		if !strings.Contains(got[i].PlainText, want) {
			t.Errorf("media %d: reply %q, want %q", i, got[i].PlainText, want)
		}
	}
	if n := e.count(`SELECT count(*) FROM messages WHERE kind = 'location' AND (media->>'latitude')::float = 49.0`); n != 1 {
		t.Errorf("location messages = %d", n)
	}
	if n := e.count(`SELECT count(*) FROM telegram_updates WHERE status <> 'done'`); n != 0 {
		t.Errorf("%d updates not done", n)
	}
}

// panicMatcher panics on one question.
type panicMatcher struct{ bot.Matcher }

func (p panicMatcher) Match(text string) faq.Result {
	if strings.Contains(text, "PANIK") {
		panic("matcher exploded")
	}
	return p.Matcher.Match(text)
}

func TestPanicIsContained(t *testing.T) {
	e := newEnv(t)
	e.startWith(panicMatcher{e.m}, e.config())
	e.fake.PushText(1201, "PANIK bitte")
	e.fake.PushText(1201, "/start")
	got := e.expectExactly(1201, 1)
	if !strings.Contains(got[0].PlainText, "Willkommen") {
		t.Errorf("after panic: %q", got[0].PlainText)
	}
	if n := e.count(`SELECT count(*) FROM telegram_updates WHERE status = 'failed' AND last_error LIKE 'panic%'`); n != 1 {
		t.Errorf("failed updates = %d", n)
	}
}

func TestLongAnswerSplitAndEscaped(t *testing.T) {
	long := strings.Repeat("Absatz mit <Sonderzeichen> & \"Zitaten\". ", 60) // ~2,400 chars
	answer := long + "\n\n" + long + "\n\n" + long
	m := bot.NewIndexMatcher([]faq.Entry{{ID: "lang", Department: "x", Question: "Wie lang ist die Antwort zum Bauantrag?", Answer: answer}}, nil)
	e := newEnv(t)
	e.startWith(m, e.config())
	e.fake.PushText(1301, "Wie lang ist die Antwort zum Bauantrag?")
	// First a summary (one message) with "Mehr dazu"; the rest on request.
	sum := e.waitSentTo(1301, 1)[0]
	if n := len([]rune(sum.PlainText)); n > 600 || sum.ReplyMarkup == nil || sum.ReplyMarkup.InlineKeyboard[0][0].Text != "Mehr dazu" {
		t.Fatalf("summary (%d characters) = %+v", n, sum.ReplyMarkup)
	}
	e.fake.PushCallback(1301, sum.MessageID, sum.ReplyMarkup.CallbackData()[0])
	e.waitSentTo(1301, 3)
	time.Sleep(200 * time.Millisecond)
	got := e.fake.SentTo(1301)[1:]
	if len(got) < 2 {
		t.Fatalf("parts = %d", len(got))
	}
	var plain []string
	for i, g := range got {
		if tgfake.UTF16Len(g.PlainText) > 4096 {
			t.Errorf("part %d: %d UTF-16 units", i, tgfake.UTF16Len(g.PlainText))
		}
		if !strings.Contains(g.Text, "&lt;Sonderzeichen&gt;") {
			t.Errorf("part %d not escaped: %.80q", i, g.Text)
		}
		if g.ReplyMarkup != nil {
			t.Errorf("part %d: buttons", i)
		}
		plain = append(plain, g.PlainText)
	}
	if j := strings.Join(plain, "\n\n"); !strings.Contains(j, strings.TrimSpace(long)) {
		t.Errorf("answer text lost in splitting")
	}
}

func TestMyDataAndErasure(t *testing.T) {
	e := newEnv(t)
	e.start(e.config())
	const chat = 770011223344
	e.fake.PushText(chat, "Wie beantrage ich einen Personalausweis?")
	ans := e.waitSentTo(chat, 1)[0]
	data := ans.ReplyMarkup.CallbackData()
	e.fake.PushCallback(chat, ans.MessageID, data[len(data)-1]) // not helpful
	e.waitSentTo(chat, 2)
	e.fake.PushLocation(chat, 49.1, 8.2)
	e.waitSentTo(chat, 3)

	e.fake.PushText(chat, "/meinedaten")
	got := e.waitSentTo(chat, 5)
	summary, doc := got[3], got[4]
	if !strings.Contains(summary.PlainText, "gespeichert") {
		t.Errorf("summary = %q", summary.PlainText)
	}
	if doc.Method != "sendDocument" || len(doc.Files) != 1 {
		t.Fatalf("document = %+v", doc)
	}
	var export struct {
		Citizen struct {
			ExternalID string `json:"external_id"`
		} `json:"citizen"`
		Messages   []json.RawMessage `json:"messages"`
		Answers    []json.RawMessage `json:"faq_answers"`
		Unanswered []json.RawMessage `json:"recorded_questions"`
	}
	must(t, json.Unmarshal(doc.Files[0].Data, &export))
	if export.Citizen.ExternalID != strconv.Itoa(chat) || len(export.Messages) < 7 || len(export.Answers) != 1 || len(export.Unanswered) != 1 {
		t.Errorf("export: citizen %q, %d messages, %d answers, %d unanswered", export.Citizen.ExternalID, len(export.Messages), len(export.Answers), len(export.Unanswered))
	}

	e.fake.PushText(chat, "/loeschen")
	ask := e.waitSentTo(chat, 6)[5]
	buttons := ask.ReplyMarkup.CallbackData()
	if len(buttons) != 2 {
		t.Fatalf("erase buttons = %v", buttons)
	}
	e.fake.PushCallback(chat, ask.MessageID, buttons[0])
	done := e.waitSentTo(chat, 7)[6]
	if !strings.Contains(done.PlainText, "gelöscht") {
		t.Errorf("confirmation = %q", done.PlainText)
	}
	waitFor(t, "callbacks answered", func() bool { return len(e.fake.UnansweredCallbacks()) == 0 })
	waitFor(t, "ephemeral outbox row gone", func() bool { return e.count(`SELECT count(*) FROM outbox`) == 0 })
	assertNoTrace(t, e, chat)

	// A later message starts afresh.
	e.fake.PushText(chat, "/start")
	e.waitSentTo(chat, 8)
	if n := e.count(`SELECT count(*) FROM messages`); n != 2 {
		t.Errorf("messages after new start = %d, want 2", n)
	}
}

// assertNoTrace checks every column of every table for the chat id (and
// citizen_id columns for any citizen): nothing of the chat may be left.
func assertNoTrace(t *testing.T, e *env, chat int64) {
	t.Helper()
	var cols []struct {
		Table  string `db:"table_name"`
		Column string `db:"column_name"`
		Type   string `db:"data_type"`
	}
	must(t, e.db.Select(&cols, `
		SELECT table_name, column_name, data_type FROM information_schema.columns
		WHERE table_schema = 'public' AND table_name NOT LIKE 'goose%'
		  AND table_name IN (SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE')`))
	id := strconv.FormatInt(chat, 10)
	checked := 0
	for _, c := range cols {
		q := ""
		switch {
		case c.Column == "citizen_id" || (c.Table == "citizens" && c.Column == "id"):
			q = fmt.Sprintf(`SELECT count(*) FROM %q WHERE %q IS NOT NULL`, c.Table, c.Column)
		case c.Type == "text" || c.Type == "character varying" || c.Type == "jsonb" || c.Type == "json" || c.Type == "ARRAY":
			q = fmt.Sprintf(`SELECT count(*) FROM %q WHERE %q::text LIKE '%%%s%%'`, c.Table, c.Column, id)
		case c.Type == "bigint" || c.Type == "numeric":
			q = fmt.Sprintf(`SELECT count(*) FROM %q WHERE %q = %s`, c.Table, c.Column, id)
		case c.Type == "bytea":
			q = fmt.Sprintf(`SELECT count(*) FROM %q WHERE position(convert_to('%s', 'UTF8') in %q) > 0`, c.Table, id, c.Column)
		default:
			continue
		}
		checked++
		if n := e.count(q); n != 0 {
			t.Errorf("%s.%s: %d rows still refer to the chat/citizen", c.Table, c.Column, n)
		}
	}
	if checked < 10 {
		t.Errorf("only %d columns checked", checked)
	}
}

func TestEraseNeedsConfirmation(t *testing.T) {
	e := newEnv(t)
	e.start(e.config())
	const chat = 1401
	// A "yes" without a request does nothing.
	e.fake.PushCallback(chat, 1, "del:y")
	e.waitSentTo(chat, 1)
	e.fake.PushText(chat, "/loeschen")
	ask := e.waitSentTo(chat, 2)[1]
	e.fake.PushCallback(chat, ask.MessageID, "del:n")
	e.waitSentTo(chat, 3)
	e.fake.PushCallback(chat, ask.MessageID, "del:y") // cancelled: expired
	got := e.waitSentTo(chat, 4)
	if !strings.Contains(got[3].PlainText, "abgelaufen") {
		t.Errorf("reply = %q", got[3].PlainText)
	}
	if n := e.count(`SELECT count(*) FROM citizens`); n != 1 {
		t.Errorf("citizens = %d", n)
	}
}

func TestOnlyOnePoller(t *testing.T) {
	e := newEnv(t)
	a := e.start(e.config())
	b := e.start(e.config())
	waitFor(t, "a poller", func() bool { return e.fake.CallCount("getUpdates") > 0 })
	time.Sleep(700 * time.Millisecond)
	for _, c := range e.fake.Calls("getUpdates") {
		if c.ErrorCode == http.StatusConflict {
			t.Fatalf("a second poller got 409 Conflict")
		}
	}
	leader, other := a, b
	if gaugeValue(b.metrics.leader) == 1 {
		leader, other = b, a
	}
	if gaugeValue(leader.metrics.leader) != 1 || gaugeValue(other.metrics.leader) != 0 {
		t.Fatalf("leader gauges: %v %v", gaugeValue(a.metrics.leader), gaugeValue(b.metrics.leader))
	}
	e.fake.PushText(1501, "/start")
	e.expectExactly(1501, 1)

	// The leader dies; the other takes over.
	leader.stop()
	waitFor(t, "takeover", func() bool { return gaugeValue(other.metrics.leader) == 1 })
	e.fake.PushText(1502, "/start")
	e.expectExactly(1502, 1)
}

func TestInOrderPerChatAcrossInstances(t *testing.T) {
	e := newEnv(t)
	e.start(e.config(func(c *Config) { c.Workers = 8 }))
	e.start(e.config(func(c *Config) { c.Workers = 8 }))
	e.inOrderPerChat(2000, 40, func(chat int64, text string) { e.fake.PushText(chat, text) })
}

// inOrderPerChat has chats base, base+1, ... each write five messages, one
// after another, all chats at the same time (deliver sends one), and checks
// that each chat got its answers in order and that its messages are stored
// strictly alternating (in, out, in, ...): never two of a chat at once.
func (e *env) inOrderPerChat(base int64, chats int, deliver func(chat int64, text string)) {
	e.t.Helper()
	texts := []string{"/start", "Hallo", "/hilfe", "Danke", "Tschüss"}
	want := []string{"Willkommen", "Wie kann ich Ihnen helfen", "So funktioniert", "Gern geschehen", "Auf Wiedersehen"}
	var wg sync.WaitGroup
	for c := range chats {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, txt := range texts {
				deliver(base+int64(c), txt)
			}
		}()
	}
	wg.Wait()
	for c := range chats {
		got := e.waitSentTo(base+int64(c), len(texts))
		for i := range texts {
			if !strings.Contains(got[i].PlainText, want[i]) {
				e.t.Fatalf("chat %d message %d = %.40q, want %q", base+int64(c), i, got[i].PlainText, want[i])
			}
		}
	}
	var bad int
	must(e.t, e.db.Get(&bad, `
		SELECT count(*) FROM (
			SELECT direction, lag(direction) OVER (PARTITION BY citizen_id ORDER BY id) AS prev FROM messages
		) x WHERE direction = prev`))
	if bad != 0 {
		e.t.Errorf("%d messages out of turn", bad)
	}
}

// A chat that floods the bot gets one notice at the limit and then no
// answers (every message is stored) until it slows down.
func TestFloodProtection(t *testing.T) {
	e := newEnv(t)
	e.start(e.config(func(c *Config) { c.FloodLimit = 5; c.FloodWindow = 2 * time.Second }))
	const chat = 1701
	for range 8 {
		e.fake.PushText(chat, "Hallo")
	}
	got := e.expectExactly(chat, 6)
	if !strings.Contains(got[5].PlainText, "sehr viele Nachrichten") {
		t.Errorf("6th message = %q, want the flood notice", got[5].PlainText)
	}
	for i, m := range got[:5] {
		if strings.Contains(m.PlainText, "sehr viele Nachrichten") {
			t.Errorf("message %d is the flood notice", i)
		}
	}
	if n := e.count(`SELECT count(*) FROM messages m JOIN citizens c ON c.id = m.citizen_id WHERE c.external_id = '1701' AND m.direction = 'in'`); n != 8 {
		t.Errorf("%d inbound messages stored, want 8", n)
	}
	// Other chats are answered meanwhile; after the window this one again.
	e.fake.PushText(chat+1, "Hallo")
	e.expectExactly(chat+1, 1)
	time.Sleep(2200 * time.Millisecond)
	e.fake.PushText(chat, "Danke")
	got = e.expectExactly(chat, 7)
	if !strings.Contains(got[6].PlainText, "Gern geschehen") {
		t.Errorf("after the window: %q", got[6].PlainText)
	}
}

func TestWebhookModeEndToEnd(t *testing.T) {
	e := newEnv(t)
	cfg := e.config(func(c *Config) {
		c.WebhookURL = "https://bot.example.org/hook"
		c.WebhookSecret = "hooksecret"
	})
	s := e.start(cfg)
	srv := httptest.NewServer(s.WebhookHandler())
	defer srv.Close()
	waitFor(t, "webhook registered", func() bool { u, _ := e.fake.Webhook(); return u != "" })
	if _, secret := e.fake.Webhook(); secret != "hooksecret" {
		t.Errorf("registered secret = %q", secret)
	}
	status, err := e.fake.DeliverWebhook(srv.URL, "hooksecret", e.fake.TextUpdate(1601, "/start"))
	if err != nil || status != 200 {
		t.Fatalf("deliver: %d %v", status, err)
	}
	e.expectExactly(1601, 1)
}

func TestConfigValidation(t *testing.T) {
	e := newEnv(t)
	for _, c := range []Config{
		{Token: ""},
		{Token: "nocolon"},
		{Token: "123:abc", APIURL: "ftp://x"},
		{Token: "123:abc", WebhookURL: "https://x/hook"},
		{Token: "123:abc", WebhookURL: "https://x/hook", WebhookSecret: "bad secret!"},
	} {
		if _, err := NewService(e.db, e.m, nil, c); err == nil {
			t.Errorf("config %+v accepted", c)
		}
	}
}

func gaugeValue(g interface{ Write(*dtoMetric) error }) float64 {
	var m dtoMetric
	if err := g.Write(&m); err != nil {
		return -1
	}
	return m.GetGauge().GetValue()
}

func counterValue(c interface{ Write(*dtoMetric) error }) float64 {
	var m dtoMetric
	if err := c.Write(&m); err != nil {
		return -1
	}
	return m.GetCounter().GetValue()
}

type dtoMetric = dto.Metric
