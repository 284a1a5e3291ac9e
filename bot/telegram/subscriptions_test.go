package telegram

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"citybot/broadcast"
	"citybot/staff"
)

// aboEnv is a handoff env with topics and the bot's subscriptions enabled.
type aboEnv struct {
	*handoffEnv
	bc     *broadcast.Service // the store API (no sender unless startBroadcast)
	topics map[string]broadcast.Topic
}

func newAboEnv(t *testing.T) *aboEnv {
	t.Helper()
	e := newHandoffEnv(t)
	e.cfg.Subscriptions = broadcast.Subscribers{}
	a := &aboEnv{handoffEnv: e, bc: broadcast.New(e.db, nil, broadcast.Config{}), topics: map[string]broadcast.Topic{}}
	ctx := context.Background()
	for i, in := range []broadcast.TopicInput{
		{Slug: "aktuelles", NameDE: "Aktuelles", NameEN: "News", Active: true, Sort: 1},
		{Slug: "baustellen", NameDE: "Baustellen & Verkehr", NameEN: "Roadworks & traffic", Active: true, Sort: 2},
		{Slug: "alt", NameDE: "Altes Thema", Active: false, Sort: 3},
	} {
		tp, err := a.bc.CreateTopic(ctx, staff.Principal{}, in)
		if err != nil {
			t.Fatalf("topic %d: %v", i, err)
		}
		a.topics[in.Slug] = tp
	}
	return a
}

func (a *aboEnv) subscribed(chat int64) []string {
	a.t.Helper()
	var slugs []string
	if err := a.db.Select(&slugs, `SELECT t.slug FROM subscriptions s JOIN topics t ON t.id = s.topic_id
		JOIN citizens c ON c.id = s.citizen_id WHERE c.external_id = $1 ORDER BY t.sort`, fmt.Sprint(chat)); err != nil {
		a.t.Fatal(err)
	}
	return slugs
}

// callbackAnswer waits for the n-th answerCallbackQuery and returns its text.
func (a *aboEnv) callbackAnswer(n int) string {
	a.t.Helper()
	calls := a.fake.WaitCalls(a.t, "answerCallbackQuery", n, 20*time.Second)
	return calls[n-1].Params["text"]
}

func TestAboTogglesEditKeyboard(t *testing.T) {
	a := newAboEnv(t)
	a.start(a.cfg)
	const chat = 7001
	a.fake.PushText(chat, "/abo")
	msg := a.waitSentTo(chat, 1)[0]
	if !strings.HasPrefix(msg.PlainText, "Welche Nachrichten der Stadt") {
		t.Errorf("/abo text = %q", msg.PlainText)
	}
	kb := msg.ReplyMarkup
	if kb == nil || len(kb.InlineKeyboard) != 2 ||
		kb.InlineKeyboard[0][0].Text != "⬜ Aktuelles" || kb.InlineKeyboard[1][0].Text != "⬜ Baustellen & Verkehr" ||
		kb.InlineKeyboard[0][0].CallbackData != broadcast.ToggleCallbackData(a.topics["aktuelles"].ID) {
		t.Fatalf("/abo keyboard = %+v", kb)
	}

	// Press "Aktuelles": subscribed, toast, keyboard edited in place.
	a.fake.PushCallback(chat, msg.MessageID, kb.InlineKeyboard[0][0].CallbackData)
	if got := a.callbackAnswer(1); got != "✅ Abonniert: Aktuelles" {
		t.Errorf("toast = %q", got)
	}
	waitFor(t, "edited keyboard", func() bool {
		m, ok := a.fake.Message(chat, msg.MessageID)
		return ok && m.Edits == 1 && m.ReplyMarkup != nil && m.ReplyMarkup.InlineKeyboard[0][0].Text == "✅ Aktuelles"
	})
	if got := a.subscribed(chat); len(got) != 1 || got[0] != "aktuelles" {
		t.Errorf("subscriptions = %v", got)
	}
	// Baustellen too, then Aktuelles off again.
	a.fake.PushCallback(chat, msg.MessageID, kb.InlineKeyboard[1][0].CallbackData)
	a.callbackAnswer(2)
	a.fake.PushCallback(chat, msg.MessageID, kb.InlineKeyboard[0][0].CallbackData)
	if got := a.callbackAnswer(3); got != "Abbestellt: Aktuelles" {
		t.Errorf("toast = %q", got)
	}
	waitFor(t, "third edit", func() bool {
		m, _ := a.fake.Message(chat, msg.MessageID)
		return m.Edits == 3 && m.ReplyMarkup.InlineKeyboard[0][0].Text == "⬜ Aktuelles" && m.ReplyMarkup.InlineKeyboard[1][0].Text == "✅ Baustellen & Verkehr"
	})
	if got := a.subscribed(chat); len(got) != 1 || got[0] != "baustellen" {
		t.Errorf("subscriptions = %v", got)
	}
	// No extra messages: toggles only edit.
	a.expectExactly(chat, 1)

	// /abbestellen removes all, and says how to subscribe again.
	a.fake.PushText(chat, "/abbestellen")
	got := a.waitSentTo(chat, 2)
	if !strings.Contains(got[1].PlainText, "alle Abos beendet") || !strings.Contains(got[1].PlainText, "/abo") {
		t.Errorf("/abbestellen = %q", got[1].PlainText)
	}
	waitFor(t, "no subscriptions", func() bool { return len(a.subscribed(chat)) == 0 })
	a.fake.PushText(chat, "/unsubscribe")
	got = a.waitSentTo(chat, 3)
	if !strings.Contains(got[2].PlainText, "keine Abos") {
		t.Errorf("second /unsubscribe = %q", got[2].PlainText)
	}

	// The command menu lists /abo and /abbestellen.
	a.fake.WaitCalls(t, "setMyCommands", 2, 20*time.Second)
	var names []string
	for _, c := range a.fake.MyCommands("", "") {
		names = append(names, c.Command)
	}
	if s := strings.Join(names, " "); !strings.Contains(s, "abo") || !strings.Contains(s, "abbestellen") {
		t.Errorf("menu = %v", names)
	}
}

func TestAboDeepLink(t *testing.T) {
	a := newAboEnv(t)
	a.start(a.cfg)
	// A brand-new citizen whose very first message is the deep link.
	const chat = 7101
	a.fake.PushText(chat, "/start "+broadcast.DeepLinkPayload("baustellen"))
	msg := a.waitSentTo(chat, 1)[0]
	if !strings.HasPrefix(msg.PlainText, "Sie haben „Baustellen & Verkehr“ abonniert.") {
		t.Errorf("deep link reply = %q", msg.PlainText)
	}
	if got := a.subscribed(chat); len(got) != 1 || got[0] != "baustellen" {
		t.Errorf("subscriptions = %v", got)
	}

	// Unknown and inactive topics: a friendly text and the /abo list.
	for i, slug := range []string{"gibtsnicht", "alt"} {
		a.fake.PushText(chat, "/start abo-"+slug)
		m := a.waitSentTo(chat, 2+i)[1+i]
		if !strings.HasPrefix(m.PlainText, "Dieses Thema gibt es leider nicht (mehr).") || m.ReplyMarkup == nil ||
			len(m.ReplyMarkup.InlineKeyboard) != 2 || m.ReplyMarkup.InlineKeyboard[1][0].Text != "✅ Baustellen & Verkehr" {
			t.Errorf("unknown deep link %q: %q %+v", slug, m.PlainText, m.ReplyMarkup)
		}
	}
	// A plain /start still welcomes, mentioning /abo.
	a.fake.PushText(chat, "/start")
	if m := a.waitSentTo(chat, 4)[3]; !strings.HasPrefix(m.PlainText, "Willkommen") || !strings.Contains(m.PlainText, "/abo") || len([]rune(m.PlainText)) > 400 {
		t.Errorf("/start (%d characters) = %q", len([]rune(m.PlainText)), m.PlainText)
	}

	// In English.
	const en = 7102
	u := a.fake.DefaultUser(en)
	u.LanguageCode = "en"
	a.fake.PushTextFrom(u, en, "/start abo-aktuelles")
	if m := a.waitSentTo(en, 1)[0]; !strings.HasPrefix(m.PlainText, "You have subscribed to “News”.") {
		t.Errorf("English deep link = %q", m.PlainText)
	}
}

func TestAboMyDataAndErase(t *testing.T) {
	a := newAboEnv(t)
	a.start(a.cfg)
	ctx := context.Background()
	const chat = 7201
	a.fake.PushText(chat, "/start abo-aktuelles")
	a.waitSentTo(chat, 1)
	a.fake.PushText(chat, "/start abo-baustellen")
	a.waitSentTo(chat, 2)

	a.fake.PushText(chat, "/meinedaten")
	got := a.waitSentTo(chat, 4)
	if !strings.Contains(got[2].PlainText, "Abonnierte Themen: Aktuelles, Baustellen & Verkehr.") {
		t.Errorf("/meinedaten summary = %q", got[2].PlainText)
	}
	if len(got[3].Files) != 1 || !strings.Contains(string(got[3].Files[0].Data), `"subscribed_topics": [`) ||
		!strings.Contains(string(got[3].Files[0].Data), `"Aktuelles"`) {
		t.Errorf("/meinedaten file lacks the subscriptions")
	}

	// A delivery of a post to the citizen, then /loeschen.
	p, err := a.bc.CreatePost(ctx, staff.Principal{}, broadcast.PostInput{Text: "Straßenfest am Samstag", TopicIDs: []int64{a.topics["aktuelles"].ID}})
	must(t, err)
	_, err = a.db.Exec(`INSERT INTO deliveries (post_id, citizen_id, chat_id, status, sent_at)
		SELECT $1, id, external_id, 'sent', now() FROM citizens WHERE external_id = $2`, p.ID, fmt.Sprint(chat))
	must(t, err)
	q := `SELECT count(*) FROM deliveries d JOIN citizens c ON c.id = d.citizen_id WHERE c.external_id = $1`
	if n := a.count(q, fmt.Sprint(chat)); n != 1 {
		t.Fatalf("deliveries = %d", n)
	}
	var citizenID int64
	must(t, a.db.Get(&citizenID, `SELECT id FROM citizens WHERE external_id = $1`, fmt.Sprint(chat)))

	a.fake.PushText(chat, "/loeschen")
	ask := a.waitSentTo(chat, 5)[4]
	a.fake.PushCallback(chat, ask.MessageID, ask.ReplyMarkup.InlineKeyboard[0][0].CallbackData)
	a.waitSentTo(chat, 6)
	waitFor(t, "erasure", func() bool {
		return a.count(`SELECT count(*) FROM citizens WHERE id = $1`, citizenID) == 0
	})
	if n := a.count(`SELECT count(*) FROM subscriptions WHERE citizen_id = $1`, citizenID); n != 0 {
		t.Errorf("%d subscriptions left", n)
	}
	if n := a.count(`SELECT count(*) FROM deliveries WHERE citizen_id = $1`, citizenID); n != 0 {
		t.Errorf("%d deliveries left", n)
	}
}

// TestPostFanoutAndQuestion: a post goes out through the Telegram
// BroadcastSender to two subscribers; one presses "Frage dazu" and asks
// something the FAQ cannot answer: the case lands with the post's
// department, with the post in the transcript. The other's question is
// routed as usual.
func TestPostFanoutAndQuestion(t *testing.T) {
	a := newAboEnv(t)
	r := a.start(a.cfg)
	ctx := context.Background()
	const asker, other = 7301, 7302
	for _, c := range []int64{asker, other} {
		a.fake.PushText(c, "/start abo-baustellen")
		a.waitSentTo(c, 1)
	}
	bc := broadcast.New(a.db, r.BroadcastSender(), broadcast.Config{Rate: 100, PollInterval: 50 * time.Millisecond, Sender: "Stadt Musterstadt"})
	bctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- bc.Run(bctx) }()
	t.Cleanup(func() { cancel(); <-done })

	const postText = "Vollsperrung der Hauptstraße\nVom 1. bis 5. Juni ist die Hauptstraße zwischen Markt und Bahnhof gesperrt."
	p, err := bc.CreatePost(ctx, staff.Principal{}, broadcast.PostInput{Text: postText, TopicIDs: []int64{a.topics["baustellen"].ID}, DepartmentID: "ordnungsamt"})
	must(t, err)
	_, err = bc.SchedulePost(ctx, staff.Principal{}, p.ID, time.Now())
	must(t, err)
	var post = map[int64]int{}
	for _, c := range []int64{asker, other} {
		m := a.waitSentTo(c, 2)[1]
		// Who writes and why: the city's name and the topic above the post.
		if m.PlainText != "📢 Stadt Musterstadt · Baustellen & Verkehr\n\n"+postText || m.ReplyMarkup == nil || m.ReplyMarkup.CallbackData()[0] != broadcast.QuestionCallbackData(p.ID) {
			t.Fatalf("chat %d: post = %q %+v", c, m.PlainText, m.ReplyMarkup)
		}
		post[c] = m.MessageID
	}
	a.expectExactly(asker, 2)

	// "Frage dazu".
	a.fake.PushCallback(asker, post[asker], broadcast.QuestionCallbackData(p.ID))
	ask := a.waitSentTo(asker, 3)[2]
	if ask.PlainText != "Was möchten Sie zu „Vollsperrung der Hauptstraße“ wissen? Schreiben Sie Ihre Frage einfach hier in den Chat." {
		t.Errorf("question prompt = %q", ask.PlainText)
	}
	a.fake.WaitCalls(t, "answerCallbackQuery", 1, 20*time.Second)

	// The next message, which routing alone would give to the Bauamt, lands
	// with the post's department, with the post in the case.
	a.fake.PushText(asker, bauantrag)
	ask2 := a.waitSentTo(asker, 4)[3]
	if !strings.Contains(ask2.PlainText, "Mein Vorschlag: Ordnungsamt.") {
		t.Errorf("confirmation = %q", ask2.PlainText)
	}
	a.fake.PushCallback(asker, ask2.MessageID, ask2.ReplyMarkup.CallbackData()[0])
	reply := a.waitSentTo(asker, 5)[4]
	if !strings.HasPrefix(reply.PlainText, "Ihre Anfrage liegt jetzt beim Ordnungsamt") {
		t.Errorf("handoff = %q", reply.PlainText)
	}
	c := a.caseOf(asker)
	if c.Department != "ordnungsamt" || c.Subject != bauantrag {
		t.Errorf("case = %+v", c)
	}
	texts := a.caseTexts(c.ID)
	if !containsPrefix(texts, "out:text:📢 Nachricht der Stadt (Baustellen & Verkehr):\n"+postText) ||
		!containsPrefix(texts, "in:text:"+bauantrag) {
		t.Errorf("transcript = %q", texts)
	}

	// The other subscriber asks without "Frage dazu": routing decides.
	a.fake.PushText(other, bauantrag)
	ask3 := a.waitSentTo(other, 3)[2]
	a.fake.PushCallback(other, ask3.MessageID, ask3.ReplyMarkup.CallbackData()[0])
	a.waitSentTo(other, 4)
	if c := a.caseOf(other); c.Department != "bauamt" {
		t.Errorf("other's case = %+v", c)
	}

	// A "Frage dazu" is used once: after the case is withdrawn, the next
	// question is routed as usual.
	a.fake.PushText(asker, "/abbrechen")
	a.waitSentTo(asker, 6)
	a.fake.PushText(asker, bauantrag)
	ask4 := a.waitSentTo(asker, 7)[6]
	a.fake.PushCallback(asker, ask4.MessageID, ask4.ReplyMarkup.CallbackData()[0])
	a.waitSentTo(asker, 8)
	if c := a.caseOf(asker); c.Department != "bauamt" {
		t.Errorf("second case = %+v", c)
	}

	// A stale "Frage dazu" (a draft) is refused politely.
	draft, err := bc.CreatePost(ctx, staff.Principal{}, broadcast.PostInput{Text: "Entwurf", TopicIDs: []int64{a.topics["baustellen"].ID}})
	must(t, err)
	n := a.fake.CallCount("answerCallbackQuery")
	a.fake.PushCallback(other, post[other], broadcast.QuestionCallbackData(draft.ID))
	if got := a.callbackAnswer(n + 1); got != "Diese Schaltfläche ist nicht mehr gültig." {
		t.Errorf("stale toast = %q", got)
	}
}
