package tgfake

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
)

// newBot returns a real library client talking to fake.
func newBot(t testing.TB, fake *Server, opts ...bot.Option) *bot.Bot {
	t.Helper()
	opts = append([]bot.Option{
		bot.WithServerURL(fake.URL()),
		bot.WithErrorsHandler(func(error) {}),
		bot.WithDefaultHandler(func(context.Context, *bot.Bot, *models.Update) {}),
	}, opts...)
	b, err := bot.New(fake.Token(), opts...)
	if err != nil {
		t.Fatalf("bot.New: %v", err)
	}
	return b
}

// rawCall posts a form to a method URL and decodes the envelope.
func rawCall(t *testing.T, u string, form url.Values) (int, map[string]any) {
	t.Helper()
	resp, err := http.PostForm(u, form)
	if err != nil {
		t.Fatalf("post %s: %v", u, err)
	}
	defer resp.Body.Close()
	var env map[string]any
	body, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(body, &env); err != nil {
		t.Fatalf("decode %q: %v", body, err)
	}
	return resp.StatusCode, env
}

func TestGetMeTokenAndRouting(t *testing.T) {
	fake := New(t)
	b := newBot(t, fake) // calls getMe
	me, err := b.GetMe(context.Background())
	if err != nil || me.Username != "citybot_test_bot" || !me.IsBot || me.ID != 123456789 {
		t.Fatalf("GetMe = %+v, %v", me, err)
	}
	if strings.HasSuffix(fake.URL(), "/") {
		t.Fatalf("URL has trailing slash: %s", fake.URL())
	}

	_, err = bot.New("1:wrong", bot.WithServerURL(fake.URL()))
	if !errors.Is(err, bot.ErrorUnauthorized) {
		t.Fatalf("wrong token: err = %v, want ErrorUnauthorized", err)
	}
	code, env := rawCall(t, fake.URL()+"/bot1:wrong/getMe", nil)
	if code != 401 || env["ok"] != false || env["error_code"] != 401.0 || env["description"] != "Unauthorized" {
		t.Fatalf("wrong token raw = %d %v", code, env)
	}
	code, env = rawCall(t, fake.MethodURL("noSuchMethod"), nil)
	if code != 404 || env["error_code"] != 404.0 {
		t.Fatalf("unknown method = %d %v", code, env)
	}
	// Method names are case-insensitive.
	code, env = rawCall(t, fake.MethodURL("GETME"), nil)
	if code != 200 || env["ok"] != true {
		t.Fatalf("GETME = %d %v", code, env)
	}
}

func TestSendMessageRecorded(t *testing.T) {
	fake := New(t)
	b := newBot(t, fake, bot.WithSkipGetMe())
	ctx := context.Background()
	kb := &models.InlineKeyboardMarkup{InlineKeyboard: [][]models.InlineKeyboardButton{
		{{Text: "Ja", CallbackData: "faq:yes"}, {Text: "Nein", CallbackData: "faq:no"}},
		{{Text: "Web", URL: "https://www.musterstadt.de/termine"}},
	}}
	m1, err := b.SendMessage(ctx, &bot.SendMessageParams{
		ChatID: int64(42), Text: "<b>Bürgerbüro</b> &amp; Rathaus", ParseMode: models.ParseModeHTML, ReplyMarkup: kb,
	})
	if err != nil {
		t.Fatal(err)
	}
	m2, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: int64(43), Text: "zweite"})
	if err != nil {
		t.Fatal(err)
	}
	if m1.ID == 0 || m2.ID != m1.ID+1 || m1.Chat.ID != 42 || m1.Text != "Bürgerbüro & Rathaus" || m1.Date == 0 {
		t.Fatalf("messages = %+v / %+v", m1, m2)
	}
	if m1.ReplyMarkup == nil || m1.ReplyMarkup.InlineKeyboard[0][1].CallbackData != "faq:no" {
		t.Fatalf("returned markup = %+v", m1.ReplyMarkup)
	}

	sent := fake.WaitSent(t, 2, time.Second)
	s := sent[0]
	if s.ChatID != 42 || s.MessageID != m1.ID || s.ParseMode != "HTML" || s.Text != "<b>Bürgerbüro</b> &amp; Rathaus" ||
		s.PlainText != "Bürgerbüro & Rathaus" {
		t.Fatalf("sent = %+v", s)
	}
	if got := s.ReplyMarkup.CallbackData(); len(got) != 2 || got[0] != "faq:yes" {
		t.Fatalf("callback data = %v (raw %s)", got, s.ReplyMarkup.Raw)
	}
	if s.ReplyMarkup.InlineKeyboard[1][0].URL != "https://www.musterstadt.de/termine" {
		t.Fatalf("url button = %+v", s.ReplyMarkup.InlineKeyboard[1][0])
	}
	if got := fake.SentTo(43); len(got) != 1 || got[0].Text != "zweite" {
		t.Fatalf("SentTo(43) = %+v", got)
	}
	calls := fake.Calls("sendmessage")
	if len(calls) != 2 || calls[0].Params["chat_id"] != "42" || !calls[0].OK {
		t.Fatalf("calls = %+v", calls)
	}
	if fake.CallCount("sendMessage") != 2 || fake.SentCount() != 2 {
		t.Fatalf("counts = %d %d", fake.CallCount("sendMessage"), fake.SentCount())
	}
	fake.ResetRecords()
	if len(fake.Sent()) != 0 || fake.CallCount("") != 0 {
		t.Fatal("ResetRecords did not reset")
	}
}

func TestErrorsThroughLibrary(t *testing.T) {
	fake := New(t)
	b := newBot(t, fake, bot.WithSkipGetMe())
	ctx := context.Background()
	send := func(chat int64) error {
		_, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: chat, Text: "hallo"})
		return err
	}

	fake.FailNext("sendMessage", 1, TooManyRequests(7))
	var tooMany *bot.TooManyRequestsError
	if err := send(1); !errors.As(err, &tooMany) || tooMany.RetryAfter != 7 {
		t.Fatalf("429: err = %v", err)
	}
	fake.FailNext("SENDMESSAGE", 1, Blocked())
	if err := send(1); !errors.Is(err, bot.ErrorForbidden) {
		t.Fatalf("403: err = %v", err)
	}
	fake.FailNext("*", 1, BadRequest("chat not found"))
	if err := send(1); !errors.Is(err, bot.ErrorBadRequest) {
		t.Fatalf("400: err = %v", err)
	}
	fake.FailNext("sendMessage", 1, Migrated(-1001234))
	var mig *bot.MigrateError
	if err := send(1); !errors.As(err, &mig) || mig.MigrateToChatID != -1001234 {
		t.Fatalf("migrate: err = %v", err)
	}
	fake.FailNext("sendMessage", 1, ServerError())
	if err := send(1); err == nil || errors.Is(err, bot.ErrorBadRequest) || errors.Is(err, bot.ErrorForbidden) {
		t.Fatalf("500: err = %v", err)
	}
	fake.FailNext("sendMessage", 1, BadGatewayHTML())
	if err := send(1); err == nil || !strings.Contains(err.Error(), "decode") {
		t.Fatalf("502: err = %v", err)
	}
	if err := send(1); err != nil {
		t.Fatalf("after failures: %v", err)
	}

	fake.BlockChat(99)
	if err := send(99); !errors.Is(err, bot.ErrorForbidden) || !strings.Contains(err.Error(), "bot was blocked by the user") {
		t.Fatalf("blocked: err = %v", err)
	}
	if err := send(98); err != nil {
		t.Fatalf("other chat: %v", err)
	}
	fake.UnblockChat(99)
	if err := send(99); err != nil {
		t.Fatalf("unblocked: %v", err)
	}
	if got := fake.SentCount(); got != 3 {
		t.Fatalf("sent = %d, want 3", got)
	}
	failed := 0
	for _, c := range fake.Calls("sendMessage") {
		if !c.OK {
			failed++
		}
	}
	if failed != 7 {
		t.Fatalf("failed calls = %d, want 7", failed)
	}
}

func TestValidation(t *testing.T) {
	fake := New(t)
	b := newBot(t, fake, bot.WithSkipGetMe())
	ctx := context.Background()
	wantBad := func(name string, err error, desc string) {
		t.Helper()
		if !errors.Is(err, bot.ErrorBadRequest) || !strings.Contains(err.Error(), desc) {
			t.Errorf("%s: err = %v, want 400 %q", name, err, desc)
		}
	}
	_, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: 1, Text: ""})
	wantBad("empty", err, "message text is empty")
	_, err = b.SendMessage(ctx, &bot.SendMessageParams{ChatID: 1, Text: "<b> </b>", ParseMode: models.ParseModeHTML})
	wantBad("only tags", err, "message text is empty")
	// 2048 emoji = 4096 UTF-16 units: fits; one more ASCII char does not.
	long := strings.Repeat("😀", 2048)
	if _, err = b.SendMessage(ctx, &bot.SendMessageParams{ChatID: 1, Text: long}); err != nil {
		t.Errorf("4096 units: %v", err)
	}
	_, err = b.SendMessage(ctx, &bot.SendMessageParams{ChatID: 1, Text: long + "x"})
	wantBad("too long", err, "message is too long")
	// Entities do not count: 4096 chars inside <b> is fine.
	if _, err = b.SendMessage(ctx, &bot.SendMessageParams{ChatID: 1, Text: "<b>" + strings.Repeat("a", 4096) + "</b>", ParseMode: models.ParseModeHTML}); err != nil {
		t.Errorf("4096 in tags: %v", err)
	}
	kb := func(data string) models.ReplyMarkup {
		return &models.InlineKeyboardMarkup{InlineKeyboard: [][]models.InlineKeyboardButton{{{Text: "x", CallbackData: data}}}}
	}
	if _, err = b.SendMessage(ctx, &bot.SendMessageParams{ChatID: 1, Text: "k", ReplyMarkup: kb(strings.Repeat("d", 64))}); err != nil {
		t.Errorf("64 byte data: %v", err)
	}
	_, err = b.SendMessage(ctx, &bot.SendMessageParams{ChatID: 1, Text: "k", ReplyMarkup: kb(strings.Repeat("ä", 33))})
	wantBad("65 byte data", err, "BUTTON_DATA_INVALID")
	_, err = b.SendMessage(ctx, &bot.SendMessageParams{ChatID: 1, Text: "<br>", ParseMode: models.ParseModeHTML})
	wantBad("html", err, `can't parse entities: Unsupported start tag "br" at byte offset 0`)
	_, err = b.SendMessage(ctx, &bot.SendMessageParams{ChatID: 1, Text: "x", ParseMode: "HTML5"})
	wantBad("parse mode", err, "unsupported parse_mode")
	_, err = b.SendMessage(ctx, &bot.SendMessageParams{ChatID: "notachat", Text: "x"})
	wantBad("chat", err, "chat not found")

	_, err = b.EditMessageText(ctx, &bot.EditMessageTextParams{ChatID: 1, MessageID: 9999, Text: "neu"})
	wantBad("edit missing", err, "message to edit not found")
	m, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: 5, Text: "alt", ReplyMarkup: kb("a")})
	if err != nil {
		t.Fatal(err)
	}
	_, err = b.EditMessageText(ctx, &bot.EditMessageTextParams{ChatID: 5, MessageID: m.ID, Text: "alt", ReplyMarkup: kb("a")})
	wantBad("not modified", err, "message is not modified")
	em, err := b.EditMessageText(ctx, &bot.EditMessageTextParams{ChatID: 5, MessageID: m.ID, Text: "neu", ReplyMarkup: kb("a")})
	if err != nil || em.Text != "neu" || em.EditDate == 0 {
		t.Fatalf("edit = %+v, %v", em, err)
	}
	if _, err = b.EditMessageReplyMarkup(ctx, &bot.EditMessageReplyMarkupParams{ChatID: 5, MessageID: m.ID, ReplyMarkup: kb("b")}); err != nil {
		t.Fatalf("edit markup: %v", err)
	}
	cur, ok := fake.Message(5, m.ID)
	if !ok || cur.Text != "neu" || cur.Edits != 2 || cur.ReplyMarkup.CallbackData()[0] != "b" {
		t.Fatalf("current = %+v", cur)
	}
	if ok, err := b.DeleteMessage(ctx, &bot.DeleteMessageParams{ChatID: 5, MessageID: m.ID}); !ok || err != nil {
		t.Fatalf("delete: %v %v", ok, err)
	}
	_, err = b.DeleteMessage(ctx, &bot.DeleteMessageParams{ChatID: 5, MessageID: m.ID})
	wantBad("delete twice", err, "message to delete not found")
	_, err = b.EditMessageText(ctx, &bot.EditMessageTextParams{ChatID: 5, MessageID: m.ID, Text: "x"})
	wantBad("edit deleted", err, "message to edit not found")

	if ok, err := b.SendChatAction(ctx, &bot.SendChatActionParams{ChatID: 5, Action: models.ChatActionTyping}); !ok || err != nil {
		t.Fatalf("chat action: %v %v", ok, err)
	}
	if ok, err := b.SetMyCommands(ctx, &bot.SetMyCommandsParams{Commands: []models.BotCommand{{Command: "start", Description: "Start"}, {Command: "help", Description: "Hilfe"}}}); !ok || err != nil {
		t.Fatalf("set commands: %v %v", ok, err)
	}
	if got := fake.MyCommands("", ""); len(got) != 2 || got[1].Command != "help" {
		t.Fatalf("commands = %+v", got)
	}
	_, err = b.SetMyCommands(ctx, &bot.SetMyCommandsParams{Commands: []models.BotCommand{{Command: "Start!", Description: "x"}}})
	wantBad("bad command", err, "BOT_COMMAND_INVALID")
}

func TestParseHTML(t *testing.T) {
	ok := []struct{ in, plain string }{
		{"plain text", "plain text"},
		{"<b>b</b><strong>s</strong><i>i</i><em>e</em><u>u</u><ins>n</ins><s>s</s><strike>k</strike><del>d</del>", "bsieunskd"},
		{`<a href="https://example.org/?a=1&amp;b=2">link</a>`, "link"},
		{`<a href='https://x.de'>x</a>`, "x"},
		{"<code>x &lt; y</code> <pre>p</pre> <pre><code class=\"language-go\">go</code></pre>", "x < y p go"},
		{`<tg-spoiler>s</tg-spoiler><span class="tg-spoiler">t</span>`, "st"},
		{"<blockquote>q</blockquote><blockquote expandable>e</blockquote>", "qe"},
		{"&lt;&gt;&amp;&quot;&#39;&#x41;", `<>&"'A`},
		{"<B>upper</B>", "upper"},
		{"<b>bold <i>nested</i></b >", "bold nested"},
		{"a > b", "a > b"},
	}
	for _, c := range ok {
		got, err := ParseHTML(c.in, false)
		if err != nil || got != c.plain {
			t.Errorf("ParseHTML(%q) = %q, %v; want %q", c.in, got, err, c.plain)
		}
	}
	bad := []struct{ in, err string }{
		{"a < b", `Unsupported start tag "" at byte offset 2`},
		{"<div>x</div>", `Unsupported start tag "div"`},
		{"<b>x", `Can't find end tag corresponding to start tag "b"`},
		{"x</b>", "Unexpected end tag at byte offset 1"},
		{"<b>x</i>", `Unmatched end tag at byte offset 4, expected "</b>", found "</i>"`},
		{"<b", "Unclosed start tag at byte offset 0"},
		{`<a href="x>y</a>`, "Unclosed start tag"},
		{`<span>x</span>`, `Tag "span" must have class "tg-spoiler"`},
		{"Q&A", `unescaped "&"`},
		{"&nbsp;", `unescaped "&"`},
		{"<b>x</b", "Unclosed end tag"},
		{"<a href>x</a>", "Expected equal sign"},
	}
	for _, c := range bad {
		_, err := ParseHTML(c.in, false)
		if err == nil || !strings.Contains(err.Error(), c.err) {
			t.Errorf("ParseHTML(%q) err = %v; want %q", c.in, err, c.err)
		}
	}
	if got, err := ParseHTML("Q&A", true); err != nil || got != "Q&A" {
		t.Errorf("lenient Q&A = %q, %v", got, err)
	}
}

func TestHTMLThroughLibrary(t *testing.T) {
	fake := New(t)
	b := newBot(t, fake, bot.WithSkipGetMe())
	_, err := b.SendMessage(context.Background(), &bot.SendMessageParams{ChatID: 1, Text: "Öffnungszeiten <Mo-Fr>", ParseMode: models.ParseModeHTML})
	if !errors.Is(err, bot.ErrorBadRequest) || !strings.Contains(err.Error(), "can't parse entities") {
		t.Fatalf("err = %v", err)
	}
	if fake.SentCount() != 0 {
		t.Fatal("invalid message recorded as sent")
	}
	lenient := New(t, WithLenientHTMLEntities())
	lb := newBot(t, lenient, bot.WithSkipGetMe())
	if _, err := lb.SendMessage(context.Background(), &bot.SendMessageParams{ChatID: 1, Text: "Q&A", ParseMode: models.ParseModeHTML}); err != nil {
		t.Fatalf("lenient: %v", err)
	}
}

func TestCommandEntities(t *testing.T) {
	cases := []struct {
		text string
		want []models.MessageEntity
	}{
		{"/start", []models.MessageEntity{{Type: "bot_command", Offset: 0, Length: 6}}},
		{"/start@citybot_test_bot payload", []models.MessageEntity{{Type: "bot_command", Offset: 0, Length: 23}}},
		{"😀 /help me", []models.MessageEntity{{Type: "bot_command", Offset: 3, Length: 5}}},
		{"grüße /faq_1", []models.MessageEntity{{Type: "bot_command", Offset: 6, Length: 6}}},
		{"a/b /", nil},
		{"hallo", nil},
	}
	for _, c := range cases {
		got := CommandEntities(c.text)
		if len(got) != len(c.want) {
			t.Errorf("%q: %+v, want %+v", c.text, got, c.want)
			continue
		}
		for i := range got {
			if got[i] != c.want[i] {
				t.Errorf("%q: %+v, want %+v", c.text, got[i], c.want[i])
			}
		}
	}
}

func TestLongPollingWithLibrary(t *testing.T) {
	fake := New(t, WithPollCap(200*time.Millisecond))
	var mu sync.Mutex
	var texts, cmds, datas []string
	b := newBot(t, fake, bot.WithSkipGetMe(), bot.WithNotAsyncHandlers())
	b.RegisterHandler(bot.HandlerTypeMessageText, "start", bot.MatchTypeCommand, func(ctx context.Context, b *bot.Bot, u *models.Update) {
		mu.Lock()
		cmds = append(cmds, u.Message.Text)
		mu.Unlock()
		_, _ = b.SendMessage(ctx, &bot.SendMessageParams{ChatID: u.Message.Chat.ID, Text: "Willkommen"})
	})
	b.RegisterHandler(bot.HandlerTypeCallbackQueryData, "faq:", bot.MatchTypePrefix, func(ctx context.Context, b *bot.Bot, u *models.Update) {
		cq := u.CallbackQuery
		if cq.Message.Message == nil || cq.Message.Message.Chat.ID != 7 {
			t.Errorf("callback message = %+v", cq.Message)
		}
		mu.Lock()
		datas = append(datas, cq.Data)
		mu.Unlock()
		_, _ = b.AnswerCallbackQuery(ctx, &bot.AnswerCallbackQueryParams{CallbackQueryID: cq.ID})
	})
	b.RegisterHandler(bot.HandlerTypeMessageText, "", bot.MatchTypePrefix, func(ctx context.Context, b *bot.Bot, u *models.Update) {
		mu.Lock()
		texts = append(texts, u.Message.Text)
		mu.Unlock()
	})

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { b.Start(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	fake.PushText(7, "/start")
	sent := fake.WaitSent(t, 1, 3*time.Second)
	if sent[0].ChatID != 7 || sent[0].Text != "Willkommen" {
		t.Fatalf("reply = %+v", sent[0])
	}
	fake.PushText(7, "Wo ist das Bürgerbüro?")
	fake.JumpUpdateIDs(1000)
	fake.PushCallback(7, sent[0].MessageID, "faq:1")
	fake.WaitCalls(t, "answerCallbackQuery", 1, 3*time.Second)
	fake.WaitDrained(t, 3*time.Second)

	mu.Lock()
	defer mu.Unlock()
	if len(cmds) != 1 || len(texts) != 1 || texts[0] != "Wo ist das Bürgerbüro?" || len(datas) != 1 || datas[0] != "faq:1" {
		t.Fatalf("cmds %v texts %v datas %v", cmds, texts, datas)
	}
	if un := fake.UnansweredCallbacks(); len(un) != 0 {
		t.Fatalf("unanswered = %v", un)
	}
	if c := fake.Calls("answerCallbackQuery"); !c[0].OK {
		t.Fatalf("answer = %+v", c[0])
	}
}

func TestGetUpdatesOffsetAndConflict(t *testing.T) {
	fake := New(t, WithPollCap(2*time.Second))
	id1 := fake.PushText(1, "a")
	fake.PushLocation(1, 52.52, 13.40)
	id3 := fake.PushUpdate(json.RawMessage(`{"message":{"message_id":1,"date":1,"chat":{"id":1,"type":"private"},"text":"x","entities":[{"type":"bot_command","offset":5,"length":9}]}}`))

	code, env := rawCall(t, fake.MethodURL("getUpdates"), url.Values{"limit": {"2"}})
	if code != 200 || len(env["result"].([]any)) != 2 {
		t.Fatalf("limit 2: %d %v", code, env)
	}
	// JSON body, offset confirms the first two.
	resp, err := http.Post(fake.MethodURL("getUpdates"), "application/json", strings.NewReader(`{"offset":`+itoa(id1+2)+`}`))
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		OK     bool             `json:"ok"`
		Result []*models.Update `json:"result"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&got)
	resp.Body.Close()
	if len(got.Result) != 1 || got.Result[0].ID != int64(id3) || got.Result[0].Message.Entities[0].Offset != 5 {
		t.Fatalf("after offset: %+v", got)
	}
	if fake.Pending() != 1 {
		t.Fatalf("pending = %d", fake.Pending())
	}

	// A held poll blocks a second one with 409.
	held := make(chan int64, 1)
	go func() {
		resp, err := http.PostForm(fake.MethodURL("getUpdates"), url.Values{"offset": {itoa(id3 + 1)}, "timeout": {"30"}})
		if err != nil {
			held <- -1
			return
		}
		defer resp.Body.Close()
		var r struct {
			Result []*models.Update `json:"result"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&r)
		if len(r.Result) != 1 {
			held <- -2
			return
		}
		held <- r.Result[0].ID
	}()
	waitPolling(t, fake)
	code, env = rawCall(t, fake.MethodURL("getUpdates"), nil)
	if code != 409 || env["error_code"] != 409.0 || !strings.HasPrefix(env["description"].(string), "Conflict") {
		t.Fatalf("concurrent poll: %d %v", code, env)
	}
	id4 := fake.PushText(1, "wakes the held poll")
	if got := <-held; got != int64(id4) {
		t.Fatalf("held poll got %d, want %d", got, id4)
	}

	// Library poller sees ErrorConflict while a webhook is set.
	b := newBot(t, fake, bot.WithSkipGetMe())
	if ok, err := b.SetWebhook(context.Background(), &bot.SetWebhookParams{URL: "https://example.org/hook", SecretToken: "s3cr3t"}); !ok || err != nil {
		t.Fatalf("setWebhook: %v %v", ok, err)
	}
	code, env = rawCall(t, fake.MethodURL("getUpdates"), nil)
	if code != 409 || !strings.Contains(env["description"].(string), "webhook is active") {
		t.Fatalf("poll with webhook: %d %v", code, env)
	}
	info, err := b.GetWebhookInfo(context.Background())
	if err != nil || info.URL != "https://example.org/hook" || info.PendingUpdateCount != 1 {
		t.Fatalf("webhook info = %+v, %v", info, err)
	}
	if u, s := fake.Webhook(); u != "https://example.org/hook" || s != "s3cr3t" {
		t.Fatalf("Webhook() = %q %q", u, s)
	}
	if _, err := b.DeleteWebhook(context.Background(), &bot.DeleteWebhookParams{DropPendingUpdates: true}); err != nil {
		t.Fatal(err)
	}
	if fake.Pending() != 0 {
		t.Fatalf("drop_pending_updates: pending = %d", fake.Pending())
	}
}

func TestPollReleasedOnCancelAndClose(t *testing.T) {
	fake := NewServer("", WithPollCap(time.Minute))
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, fake.MethodURL("getUpdates")+"?timeout=50", nil)
	errc := make(chan error, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		errc <- err
	}()
	waitPolling(t, fake)
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled poll err = %v", err)
	}
	// The slot is free again: a new poll is held, and Close releases it promptly.
	go func() {
		resp, err := http.Get(fake.MethodURL("getUpdates") + "?timeout=50")
		if err == nil {
			resp.Body.Close()
		}
		errc <- err
	}()
	waitPolling(t, fake)
	start := time.Now()
	fake.Close()
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("Close took %v", d)
	}
	<-errc
	fake.Close() // idempotent
}

func TestFilesAndUploads(t *testing.T) {
	fake := New(t)
	b := newBot(t, fake, bot.WithSkipGetMe())
	ctx := context.Background()
	fake.PushPhoto(3, "Schlagloch")
	fake.PushDocument(3, "antrag.pdf", []byte("%PDF-1.4 fake"), "")
	fake.PushSticker(3, "👍")
	fake.PushVoice(3, 4)
	var upd struct {
		Result []*models.Update `json:"result"`
	}
	resp, err := http.Get(fake.MethodURL("getUpdates"))
	if err != nil {
		t.Fatal(err)
	}
	_ = json.NewDecoder(resp.Body).Decode(&upd)
	resp.Body.Close()
	if len(upd.Result) != 4 {
		t.Fatalf("updates = %d", len(upd.Result))
	}
	photo := upd.Result[0].Message.Photo
	if len(photo) != 2 || upd.Result[0].Message.Caption != "Schlagloch" || upd.Result[2].Message.Sticker.Emoji != "👍" || upd.Result[3].Message.Voice.Duration != 4 {
		t.Fatalf("media updates = %+v", upd.Result)
	}
	f, err := b.GetFile(ctx, &bot.GetFileParams{FileID: photo[1].FileID})
	if err != nil || f.FilePath == "" {
		t.Fatalf("getFile = %+v, %v", f, err)
	}
	data := download(t, b.FileDownloadLink(f))
	if !bytes.HasPrefix(data, []byte{0xFF, 0xD8}) {
		t.Fatalf("photo is not a JPEG: % x", data[:4])
	}
	df, err := b.GetFile(ctx, &bot.GetFileParams{FileID: upd.Result[1].Message.Document.FileID})
	if err != nil || string(download(t, b.FileDownloadLink(df))) != "%PDF-1.4 fake" {
		t.Fatalf("document: %+v %v", df, err)
	}
	if _, err := b.GetFile(ctx, &bot.GetFileParams{FileID: "nope"}); !errors.Is(err, bot.ErrorBadRequest) {
		t.Fatalf("bad file id: %v", err)
	}

	m, err := b.SendPhoto(ctx, &bot.SendPhotoParams{
		ChatID: 3, Photo: &models.InputFileUpload{Filename: "map.png", Data: bytes.NewReader([]byte("PNGDATA"))},
		Caption: "<i>Karte</i>", ParseMode: models.ParseModeHTML,
	})
	if err != nil || len(m.Photo) != 1 || m.Caption != "Karte" {
		t.Fatalf("sendPhoto = %+v, %v", m, err)
	}
	if _, err := b.SendDocument(ctx, &bot.SendDocumentParams{ChatID: 3, Document: &models.InputFileString{Data: photo[1].FileID}}); err != nil {
		t.Fatalf("sendDocument by file_id: %v", err)
	}
	sent := fake.WaitSent(t, 2, time.Second)
	if sent[0].Method != "sendPhoto" || len(sent[0].Files) != 1 || sent[0].Files[0].Filename != "map.png" || string(sent[0].Files[0].Data) != "PNGDATA" {
		t.Fatalf("recorded upload = %+v", sent[0])
	}
	_, err = b.SendPhoto(ctx, &bot.SendPhotoParams{ChatID: 3, Photo: &models.InputFileString{Data: "bogus"}})
	if !errors.Is(err, bot.ErrorBadRequest) {
		t.Fatalf("bogus file id: %v", err)
	}
}

func TestWebhookDelivery(t *testing.T) {
	fake := New(t)
	got := make(chan *models.Update, 4)
	b := newBot(t, fake, bot.WithSkipGetMe(), bot.WithWebhookSecretToken("geheim"),
		bot.WithDefaultHandler(func(_ context.Context, _ *bot.Bot, u *models.Update) { got <- u }))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { b.StartWebhook(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	hook := httptest.NewServer(b.WebhookHandler())
	defer hook.Close()

	status, err := fake.DeliverWebhook(hook.URL, "geheim", fake.TextUpdate(11, "/help"))
	if err != nil || status != 200 {
		t.Fatalf("deliver: %d %v", status, err)
	}
	select {
	case u := <-got:
		if u.Message.Text != "/help" || len(u.Message.Entities) != 1 {
			t.Fatalf("update = %+v", u.Message)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("webhook update not processed")
	}

	if _, err := b.SetWebhook(context.Background(), &bot.SetWebhookParams{URL: hook.URL, SecretToken: "geheim"}); err != nil {
		t.Fatal(err)
	}
	fake.PushCallback(11, 77, "faq:x")
	n, err := fake.FlushWebhook()
	if err != nil || n != 1 {
		t.Fatalf("flush: %d %v", n, err)
	}
	select {
	case u := <-got:
		if u.CallbackQuery == nil || u.CallbackQuery.Message.Message == nil || u.CallbackQuery.Data != "faq:x" {
			t.Fatalf("callback update = %+v", u)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("flushed update not processed")
	}
}

func TestRateLimitsAndCounterMode(t *testing.T) {
	fake := New(t, WithRecordBodies(false))
	b := newBot(t, fake, bot.WithSkipGetMe())
	ctx := context.Background()
	fake.SetRateLimit(5, 3)
	var limited int
	for range 20 {
		_, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: 1, Text: "x"})
		var tm *bot.TooManyRequestsError
		if errors.As(err, &tm) {
			if tm.RetryAfter != 3 {
				t.Fatalf("retry_after = %d", tm.RetryAfter)
			}
			limited++
		} else if err != nil {
			t.Fatal(err)
		}
	}
	if limited < 10 {
		t.Fatalf("limited = %d of 20", limited)
	}
	fake.SetRateLimit(0, 0)
	fake.SetRandom429(0.5, 1)
	limited = 0
	for range 200 {
		if _, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: 1, Text: "x"}); err != nil {
			limited++
		}
	}
	if limited < 50 || limited > 150 {
		t.Fatalf("random 429: %d of 200", limited)
	}
	fake.SetRandom429(0, 0)
	if len(fake.Sent()) != 0 || len(fake.Calls("")) != 0 {
		t.Fatal("counter-only mode recorded bodies")
	}
	if got := fake.SentCount(); got < 50 {
		t.Fatalf("sent count = %d", got)
	}
	if got := fake.CallCount("sendMessage"); got != 220 {
		t.Fatalf("call count = %d", got)
	}
	// Edits of assigned ids are accepted without contents.
	m, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: 1, Text: "x"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.EditMessageText(ctx, &bot.EditMessageTextParams{ChatID: 1, MessageID: m.ID, Text: "y"}); err != nil {
		t.Fatalf("edit in counter mode: %v", err)
	}
	if _, err := fake.AwaitSent(ctx, fake.SentCount()); err != nil {
		t.Fatal(err)
	}

	fake.SetLatency(50 * time.Millisecond)
	start := time.Now()
	if _, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: 1, Text: "slow"}); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 50*time.Millisecond {
		t.Fatalf("latency not applied: %v", d)
	}
}

func TestAwaitTimeoutDump(t *testing.T) {
	fake := New(t)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := fake.AwaitSent(ctx, 1); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v", err)
	}
	fake.FailNext("sendMessage", 1, Blocked())
	rawCall(t, fake.MethodURL("sendMessage"), url.Values{"chat_id": {"5"}, "text": {"hi"}})
	if d := fake.Dump(); !strings.Contains(d, "bot was blocked") || strings.Contains(d, fake.Token()) {
		t.Fatalf("dump = %s", d)
	}
}

func BenchmarkSendMessage(b *testing.B) {
	fake := New(b, WithRecordBodies(false))
	client := newBot(b, fake, bot.WithSkipGetMe(), bot.WithHTTPClient(time.Minute, fake.HTTPClient()))
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := client.SendMessage(ctx, &bot.SendMessageParams{ChatID: 1, Text: "<b>Hallo</b> Welt", ParseMode: models.ParseModeHTML}); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func waitPolling(t *testing.T, s *Server) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		s.mu.Lock()
		p := s.polling
		s.mu.Unlock()
		if p {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("no getUpdates poll is held")
}

func download(t *testing.T, u string) []byte {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("download %d", resp.StatusCode)
	}
	data, _ := io.ReadAll(resp.Body)
	return data
}

func itoa(n int) string { return strconv.Itoa(n) }
