package telegram

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"citybot/bot"
	"citybot/faq"
	"citybot/internal/demodata"
	"citybot/routing"
)

// bauantrag is a question the FAQ cannot answer (personal, about a file
// number) that routing gives to the Bauamt.
const bauantrag = "Wo bleibt mein Bauantrag, Aktenzeichen 2024-113?"

// mondayMorning: every demo department is open.
var mondayMorning = time.Date(2026, 3, 16, 10, 0, 0, 0, mustLocation("Europe/Berlin"))

func mustLocation(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// handoffEnv is an env with the demo departments, office hours and routing,
// and a Service configuration that hands off to routing.
type handoffEnv struct {
	*env
	cases *routing.Cases
	cfg   Config
}

func newHandoffEnv(t *testing.T) *handoffEnv {
	t.Helper()
	e := newEnv(t)
	ctx := context.Background()
	ds, err := faq.ReadDatasetFS(demodata.FS)
	must(t, err)
	_, err = faq.NewStore(e.db).Import(ctx, ds)
	must(t, err)
	must(t, routing.ApplyDemoOfficeHours(ctx, e.db))
	router, err := routing.NewLiveRouter(ctx, e.db)
	must(t, err)
	cal, err := routing.NewCalendar("NW")
	must(t, err)
	cases := routing.NewCases(e.db, routing.CasesOptions{})
	h := routing.NewHandoff(cases, cal, router, routing.HandoffOptions{Now: func() time.Time { return mondayMorning }})
	cfg := e.config(func(c *Config) { c.Handoff = bot.NewRoutingHandoff(h, cases) })
	return &handoffEnv{env: e, cases: cases, cfg: cfg}
}

// staff creates a staff member of dept and returns the viewer.
func (e *handoffEnv) staff(email, dept string) routing.Viewer {
	e.t.Helper()
	var id int64
	if err := e.db.Get(&id, `INSERT INTO users (email, name, password_hash, role) VALUES ($1, $1, 'x', 'staff') RETURNING id`, email); err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.db.Exec(`INSERT INTO user_departments (user_id, department_id) VALUES ($1, $2)`, id, dept); err != nil {
		e.t.Fatal(err)
	}
	return routing.Viewer{UserID: id, Role: routing.RoleStaff, Departments: []string{dept}}
}

type caseRow struct {
	ID          int64  `db:"id"`
	Department  string `db:"department_id"`
	Status      string `db:"status"`
	Reason      string `db:"reason"`
	Subject     string `db:"subject"`
	CloseReason string `db:"close_reason"`
}

// caseOf returns the citizen's latest case.
func (e *handoffEnv) caseOf(chat int64) caseRow {
	e.t.Helper()
	var c caseRow
	if err := e.db.Get(&c, `
		SELECT c.id, c.department_id, c.status, c.reason, c.subject, c.close_reason FROM cases c
		JOIN citizens ci ON ci.id = c.citizen_id WHERE ci.external_id = $1 ORDER BY c.id DESC LIMIT 1`, fmt.Sprint(chat)); err != nil {
		e.t.Fatalf("case of chat %d: %v", chat, err)
	}
	return c
}

// caseTexts are the texts (or kinds) of the case's messages in order.
func (e *handoffEnv) caseTexts(caseID int64) []string {
	e.t.Helper()
	var rows []struct {
		Dir  string `db:"direction"`
		Kind string `db:"kind"`
		Text string `db:"text"`
	}
	if err := e.db.Select(&rows, `SELECT m.direction, m.kind, m.text FROM case_messages cm JOIN messages m ON m.id = cm.message_id WHERE cm.case_id = $1 ORDER BY m.id`, caseID); err != nil {
		e.t.Fatal(err)
	}
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = r.Dir + ":" + r.Kind + ":" + r.Text
	}
	return out
}

func containsPrefix(list []string, prefix string) bool {
	for _, s := range list {
		if strings.HasPrefix(s, prefix) {
			return true
		}
	}
	return false
}

func TestHandoffNoMatchOpensCase(t *testing.T) {
	e := newHandoffEnv(t)
	e.start(e.cfg)
	const chat = 5001
	e.fake.PushText(chat, bauantrag)
	msg := e.expectExactly(chat, 1)[0]
	want := "Ihre Anfrage liegt jetzt beim Bauamt. Das Bauamt ist gerade geöffnet"
	if !strings.HasPrefix(msg.PlainText, want) || !strings.Contains(msg.PlainText, "/abbrechen") {
		t.Errorf("handoff message = %q", msg.PlainText)
	}
	if msg.ReplyMarkup == nil || len(msg.ReplyMarkup.InlineKeyboard) != 1 || msg.ReplyMarkup.InlineKeyboard[0][0].Text != "Andere Stelle wählen" {
		t.Fatalf("buttons = %+v", msg.ReplyMarkup)
	}
	c := e.caseOf(chat)
	if c.Department != "bauamt" || c.Status != routing.CaseWaiting || c.Subject != bauantrag || c.Reason != routing.ReasonPersonal {
		t.Errorf("case = %+v", c)
	}
	texts := e.caseTexts(c.ID)
	if len(texts) != 2 || texts[0] != "in:text:"+bauantrag || !strings.HasPrefix(texts[1], "out:text:Ihre Anfrage liegt jetzt beim Bauamt") {
		t.Errorf("transcript = %q", texts)
	}

	// In English.
	const en = 5002
	u := e.fake.DefaultUser(en)
	u.LanguageCode = "en"
	e.fake.PushTextFrom(u, en, bauantrag)
	msg = e.waitSentTo(en, 1)[0]
	if !strings.HasPrefix(msg.PlainText, "I have passed your request to Bauamt. Bauamt is open right now") ||
		msg.ReplyMarkup.InlineKeyboard[0][0].Text != "Choose another office" {
		t.Errorf("English handoff = %q %+v", msg.PlainText, msg.ReplyMarkup)
	}
}

func TestCaseModeAppendsMessages(t *testing.T) {
	e := newHandoffEnv(t)
	e.start(e.cfg)
	const chat = 5101
	e.fake.PushText(chat, bauantrag)
	e.waitSentTo(chat, 1)
	c := e.caseOf(chat)

	// A question the FAQ could answer goes to the case; no reply (staff answer).
	e.fake.PushText(chat, "Wie beantrage ich einen Personalausweis?")
	e.fake.PushText(chat, "/unbekannt")
	waitFor(t, "texts in the case", func() bool { return len(e.caseTexts(c.ID)) == 4 })
	// A photo is acknowledged once; a location right after it is not.
	e.fake.PushPhoto(chat, "")
	got := e.waitSentTo(chat, 2)
	if !strings.Contains(got[1].PlainText, "das Foto an Ihre Anfrage angehängt") || !strings.Contains(got[1].PlainText, "Bauamt") {
		t.Errorf("photo acknowledgement = %q", got[1].PlainText)
	}
	e.fake.PushLocation(chat, 51.5, 7.4)
	e.fake.PushSticker(chat, "👍")
	waitFor(t, "location and sticker in the case", func() bool { return len(e.caseTexts(c.ID)) == 8 })
	e.expectExactly(chat, 2)
	texts := e.caseTexts(c.ID)
	for _, want := range []string{"in:text:Wie beantrage", "in:text:/unbekannt", "in:photo:", "out:text:Danke, ich habe das Foto", "in:location:", "in:sticker:"} {
		if !containsPrefix(texts, want) {
			t.Errorf("transcript lacks %q: %q", want, texts)
		}
	}
	var media string
	must(t, e.db.Get(&media, `SELECT m.media->>'file_id' FROM case_messages cm JOIN messages m ON m.id = cm.message_id WHERE cm.case_id = $1 AND m.kind = 'photo'`, c.ID))
	if media == "" {
		t.Error("photo without file id")
	}
	if n := e.count(`SELECT count(*) FROM bot_answers`); n != 0 {
		t.Errorf("the bot answered %d questions during the case", n)
	}

	// The staff reply reaches the citizen; the next message is acknowledged
	// (once) and makes it the staff's turn again.
	v := e.staff("bau@example.org", "bauamt")
	_, err := e.cases.Reply(context.Background(), v, c.ID, "Ihr Antrag ist in Prüfung.", nil)
	must(t, err)
	got = e.waitSentTo(chat, 3)
	if got[2].PlainText != e.deptName("bauamt")+"\nIhr Antrag ist in Prüfung." {
		t.Errorf("staff reply = %q", got[2].PlainText)
	}
	e.fake.PushText(chat, "Danke, wie lange dauert das noch?")
	got = e.waitSentTo(chat, 4)
	if !strings.Contains(got[3].PlainText, "Ihre Nachricht an Ihre Anfrage angehängt") {
		t.Errorf("acknowledgement after reply = %q", got[3].PlainText)
	}
	e.fake.PushText(chat, "Und noch etwas")
	waitFor(t, "second text in the case", func() bool { return containsPrefix(e.caseTexts(c.ID), "in:text:Und noch etwas") })
	e.expectExactly(chat, 4)
	if c := e.caseOf(chat); c.Status != routing.CaseAssigned {
		t.Errorf("status after the citizen's answer = %s", c.Status)
	}

	// Closed by staff: a message within the reopen window reopens it.
	must(t, e.cases.Close(context.Background(), v, c.ID))
	e.fake.PushText(chat, "Eine Frage noch")
	got = e.waitSentTo(chat, 5)
	if !strings.Contains(got[4].PlainText, "wieder offen") {
		t.Errorf("reopen acknowledgement = %q", got[4].PlainText)
	}
	if c := e.caseOf(chat); c.Status == routing.CaseClosed {
		t.Errorf("case not reopened: %+v", c)
	}

	// /meinedaten lists the case with its messages.
	e.fake.PushText(chat, "/meinedaten")
	got = e.waitSentTo(chat, 7)
	if !strings.Contains(got[5].PlainText, "1 Anfragen an die Mitarbeitenden") {
		t.Errorf("summary = %q", got[5].PlainText)
	}
	doc := string(got[6].Files[0].Data)
	if !strings.Contains(doc, `"cases"`) || !strings.Contains(doc, "Ihr Antrag ist in Prüfung.") || !strings.Contains(doc, `"department": "Bauamt / Bauaufsicht"`) {
		t.Errorf("export without the case: %s", doc)
	}
}

func TestWithdrawCase(t *testing.T) {
	e := newHandoffEnv(t)
	e.start(e.cfg)
	const chat = 5201
	e.fake.PushText(chat, "/abbrechen")
	if got := e.waitSentTo(chat, 1)[0]; !strings.Contains(got.PlainText, "keine offene Anfrage") {
		t.Errorf("without case: %q", got.PlainText)
	}
	e.fake.PushText(chat, bauantrag)
	e.waitSentTo(chat, 2)
	e.fake.PushText(chat, "/abbrechen")
	got := e.waitSentTo(chat, 3)[2]
	if !strings.Contains(got.PlainText, "Ihre Anfrage (Bauamt) ist zurückgezogen") {
		t.Errorf("withdrawal = %q", got.PlainText)
	}
	c := e.caseOf(chat)
	if c.Status != routing.CaseClosed || c.CloseReason != routing.CloseWithdrawn {
		t.Errorf("case = %+v", c)
	}
	if texts := e.caseTexts(c.ID); !containsPrefix(texts, "in:text:/abbrechen") || !containsPrefix(texts, "out:text:Ihre Anfrage (Bauamt) ist zurückgezogen") {
		t.Errorf("transcript = %q", texts)
	}
	// Afterwards the bot answers again.
	e.fake.PushText(chat, "Wie beantrage ich einen Personalausweis?")
	got = e.waitSentTo(chat, 4)[3]
	if !strings.Contains(got.PlainText, "Personalausweis") || got.ReplyMarkup == nil {
		t.Errorf("FAQ answer after withdrawal = %q", got.PlainText)
	}
	// English command.
	e.fake.PushText(chat, "/cancel")
	if got := e.waitSentTo(chat, 5)[4]; !strings.Contains(got.PlainText, "keine offene Anfrage") {
		t.Errorf("/cancel without case: %q", got.PlainText)
	}
}

func TestStaffCommand(t *testing.T) {
	e := newHandoffEnv(t)
	e.start(e.cfg)
	// Right after a question: routed by that question.
	const chat = 5301
	e.fake.PushText(chat, "Wie beantrage ich einen Personalausweis?")
	e.waitSentTo(chat, 1)
	e.fake.PushText(chat, "/mitarbeiter")
	got := e.waitSentTo(chat, 2)[1]
	if !strings.HasPrefix(got.PlainText, "Ihre Anfrage liegt jetzt beim Bürgerbüro.") {
		t.Errorf("handoff = %q", got.PlainText)
	}
	c := e.caseOf(chat)
	if c.Department != "buergerbuero" || c.Reason != routing.ReasonRequested || c.Subject != "Wie beantrage ich einen Personalausweis?" {
		t.Errorf("case = %+v", c)
	}
	if texts := e.caseTexts(c.ID); len(texts) < 4 || !containsPrefix(texts, "out:text:Personalausweis") && !containsPrefix(texts, "out:text:Wie beantrage") {
		t.Errorf("transcript so far missing: %q", texts)
	}
	// Again: already open, nothing new.
	e.fake.PushText(chat, "/staff")
	got = e.waitSentTo(chat, 3)[2]
	if !strings.HasPrefix(got.PlainText, "Ihre Anfrage liegt bereits beim Bürgerbüro") || got.ReplyMarkup != nil {
		t.Errorf("second request = %q", got.PlainText)
	}
	if n := e.count(`SELECT count(*) FROM cases`); n != 1 {
		t.Errorf("%d cases", n)
	}

	// A bare request of a new citizen goes to the fallback department.
	e.fake.PushText(chat+1, "/mitarbeiter")
	got = e.waitSentTo(chat+1, 1)[0]
	if !strings.HasPrefix(got.PlainText, "Ihre Anfrage liegt jetzt bei der Zentrale") {
		t.Errorf("bare request = %q", got.PlainText)
	}
	// With text after the command: routed by it.
	e.fake.PushText(chat+2, "/mitarbeiter Mein Nachbar baut eine Garage ohne Genehmigung")
	got = e.waitSentTo(chat+2, 1)[0]
	if !strings.HasPrefix(got.PlainText, "Ihre Anfrage liegt jetzt beim Bauamt") {
		t.Errorf("request with text = %q", got.PlainText)
	}
}

func TestNotHelpfulConfirmOpensCase(t *testing.T) {
	e := newHandoffEnv(t)
	e.start(e.cfg)
	const chat = 5401
	q := "Wie beantrage ich einen Personalausweis?"
	e.fake.PushText(chat, q)
	ans := e.waitSentTo(chat, 1)[0]
	e.fake.PushCallback(chat, ans.MessageID, ans.ReplyMarkup.CallbackData()[1]) // not helpful
	ask := e.waitSentTo(chat, 2)[1]
	if !strings.Contains(ask.PlainText, "Soll ich Ihre Frage an die zuständige Stelle weitergeben?") {
		t.Fatalf("question = %q", ask.PlainText)
	}
	row := ask.ReplyMarkup.InlineKeyboard[0]
	if len(row) != 2 || row[0].Text != "Ja, bitte weitergeben" || row[1].Text != "Nein, danke" {
		t.Fatalf("buttons = %+v", row)
	}
	if n := e.count(`SELECT count(*) FROM cases`); n != 0 {
		t.Fatalf("case opened before confirmation")
	}
	e.fake.PushCallback(chat, ask.MessageID, row[0].CallbackData)
	got := e.waitSentTo(chat, 3)[2]
	if !strings.HasPrefix(got.PlainText, "Ihre Anfrage liegt jetzt beim Bürgerbüro.") {
		t.Errorf("handoff = %q", got.PlainText)
	}
	c := e.caseOf(chat)
	if c.Department != "buergerbuero" || c.Reason != routing.ReasonNotHelpful || c.Subject != q {
		t.Errorf("case = %+v", c)
	}
	texts := e.caseTexts(c.ID)
	if len(texts) < 4 || texts[0] != "in:text:"+q || !strings.HasPrefix(texts[1], "out:text:") {
		t.Errorf("transcript = %q", texts)
	}
	// The button works once.
	e.fake.PushCallback(chat, ask.MessageID, row[0].CallbackData)
	waitFor(t, "callbacks answered", func() bool { return len(e.fake.UnansweredCallbacks()) == 0 })
	e.expectExactly(chat, 3)

	// "Nein": nothing is passed on. "Nichts davon" asks too.
	const other = 5402
	e.fake.PushText(other, q)
	ans = e.waitSentTo(other, 1)[0]
	e.fake.PushCallback(other, ans.MessageID, ans.ReplyMarkup.CallbackData()[1])
	ask = e.waitSentTo(other, 2)[1]
	e.fake.PushCallback(other, ask.MessageID, ask.ReplyMarkup.CallbackData()[1])
	if got := e.waitSentTo(other, 3)[2]; !strings.HasPrefix(got.PlainText, "In Ordnung.") {
		t.Errorf("declined = %q", got.PlainText)
	}
	if n := e.count(`SELECT count(*) FROM cases`); n != 1 {
		t.Errorf("%d cases after declining", n)
	}
	sq := devQuestion(t, e.m, faq.DecisionSuggest, "")
	e.fake.PushText(other, sq)
	sug := e.waitSentTo(other, 4)[3]
	data := sug.ReplyMarkup.CallbackData()
	e.fake.PushCallback(other, sug.MessageID, data[len(data)-1]) // none of these
	ask = e.waitSentTo(other, 5)[4]
	if !strings.Contains(ask.PlainText, "keine passende Antwort. Soll ich Ihre Frage") {
		t.Errorf("none of these = %q", ask.PlainText)
	}
	e.fake.PushCallback(other, ask.MessageID, ask.ReplyMarkup.CallbackData()[0])
	if got := e.waitSentTo(other, 6)[5]; !strings.HasPrefix(got.PlainText, "Ihre Anfrage liegt jetzt") {
		t.Errorf("handoff after none of these = %q", got.PlainText)
	}
	if c := e.caseOf(other); c.Reason != routing.ReasonNoSuggestionFit || c.Subject != sq {
		t.Errorf("case = %+v", c)
	}
}

func TestChooseAnotherDepartment(t *testing.T) {
	e := newHandoffEnv(t)
	e.start(e.cfg)
	const chat = 5501
	e.fake.PushText(chat, bauantrag)
	msg := e.waitSentTo(chat, 1)[0]
	e.fake.PushCallback(chat, msg.MessageID, msg.ReplyMarkup.CallbackData()[0])
	menu := e.waitSentTo(chat, 2)[1]
	if !strings.Contains(menu.PlainText, "Zurzeit: Bauamt.") {
		t.Errorf("menu = %q", menu.PlainText)
	}
	kb := menu.ReplyMarkup.InlineKeyboard
	if len(kb) < 3 || len(kb) > 5 || kb[len(kb)-2][0].Text != "Alle Stellen anzeigen" || kb[len(kb)-1][0].Text != "So lassen" {
		t.Fatalf("menu buttons = %+v", kb)
	}
	for _, d := range menu.ReplyMarkup.CallbackData() {
		if len(d) > 20 {
			t.Errorf("callback data %q: keep it short", d)
		}
	}
	// The full list: every department but the current one, and "keep".
	e.fake.PushCallback(chat, menu.MessageID, kb[len(kb)-2][0].CallbackData)
	all := e.waitSentTo(chat, 3)[2]
	if n := len(all.ReplyMarkup.InlineKeyboard); n != 14 { // 13 others + keep
		t.Errorf("full list has %d rows", n)
	}
	var zentrale string
	for _, row := range all.ReplyMarkup.InlineKeyboard {
		if strings.HasPrefix(row[0].Text, "Zentrale") {
			zentrale = row[0].CallbackData
		}
		if strings.HasPrefix(row[0].Text, "Bauamt") {
			t.Errorf("the current department is offered")
		}
	}
	e.fake.PushCallback(chat, all.MessageID, zentrale)
	got := e.waitSentTo(chat, 4)[3]
	if !strings.HasPrefix(got.PlainText, "Ihre Anfrage liegt jetzt bei der Zentrale") {
		t.Errorf("after the change = %q", got.PlainText)
	}
	c := e.caseOf(chat)
	if c.Department != "zentrale" || c.Status != routing.CaseWaiting {
		t.Errorf("case = %+v", c)
	}
	var events int
	must(t, e.db.Get(&events, `SELECT count(*) FROM case_events WHERE case_id = $1 AND kind = 'department_changed'`, c.ID))
	if events != 1 {
		t.Errorf("department_changed events = %d", events)
	}
	// "Keep" only answers the button.
	e.fake.PushCallback(chat, menu.MessageID, kb[len(kb)-1][0].CallbackData)
	waitFor(t, "callbacks answered", func() bool { return len(e.fake.UnansweredCallbacks()) == 0 })
	e.expectExactly(chat, 4)

	// Once staff work on it, the citizen cannot move it any more.
	v := e.staff("z@example.org", "zentrale")
	must(t, e.cases.Assign(context.Background(), v, c.ID, v.UserID))
	e.fake.PushCallback(chat, menu.MessageID, kb[0][0].CallbackData)
	got = e.waitSentTo(chat, 5)[4]
	if !strings.Contains(got.PlainText, "bereits bearbeitet") {
		t.Errorf("locked = %q", got.PlainText)
	}
	if c := e.caseOf(chat); c.Department != "zentrale" {
		t.Errorf("moved although assigned: %+v", c)
	}
}

// deptName is the name of a department of the test database.
func (e *env) deptName(id string) string {
	e.t.Helper()
	var name string
	if err := e.db.Get(&name, `SELECT name FROM departments WHERE id = $1`, id); err != nil {
		e.t.Fatal(err)
	}
	return name
}

func TestStaffReplyDeliveryState(t *testing.T) {
	e := newHandoffEnv(t)
	e.start(e.cfg)
	const chat = 5601
	e.fake.PushText(chat, bauantrag)
	e.waitSentTo(chat, 1)
	c := e.caseOf(chat)
	v := e.staff("bau@example.org", "bauamt")
	ctx := context.Background()
	delivery := func(text string) *routing.Delivery {
		items, err := e.cases.Transcript(ctx, v, c.ID)
		must(t, err)
		for _, it := range items {
			if it.Message != nil && it.Message.Text == text {
				return it.Delivery
			}
		}
		t.Fatalf("%q not in the transcript", text)
		return nil
	}
	_, err := e.cases.Reply(ctx, v, c.ID, "Wir prüfen das.", []routing.Attachment{{Name: "merkblatt.txt", MIME: "text/plain", Data: []byte("Merkblatt")}})
	must(t, err)
	got := e.waitSentTo(chat, 3)
	if got[1].PlainText != e.deptName("bauamt")+"\nWir prüfen das." || got[2].Method != "sendDocument" || string(got[2].Files[0].Data) != "Merkblatt" {
		t.Errorf("reply = %+v / %+v", got[1], got[2])
	}
	waitFor(t, "delivery state sent", func() bool { d := delivery("Wir prüfen das."); return d != nil && d.Status == routing.OutboxSent })

	// The citizen blocked the bot: the reply shows as undeliverable, with why.
	e.fake.BlockChat(chat)
	_, err = e.cases.Reply(ctx, v, c.ID, "Sind Sie noch da?", nil)
	must(t, err)
	waitFor(t, "delivery state undeliverable", func() bool {
		d := delivery("Sind Sie noch da?")
		return d != nil && d.Status == routing.OutboxUndeliverable
	})
	if d := delivery("Sind Sie noch da?"); !strings.Contains(d.Error, "blocked") || strings.Contains(d.Error, e.fake.Token()) {
		t.Errorf("undeliverable error = %q", d.Error)
	}
	e.expectExactly(chat, 3)

	// A reply of Telegram's limit and more arrives in parts, each accepted.
	e.fake.UnblockChat(chat)
	long := strings.TrimSpace(strings.Repeat("Bitte reichen Sie die Bauvorlagen vollständig ein. ", 120)) // ~6,000 characters
	_, err = e.cases.Reply(ctx, v, c.ID, long, nil)
	must(t, err)
	waitFor(t, "long reply sent", func() bool { d := delivery(long); return d != nil && d.Status == routing.OutboxSent })
	got = e.expectExactly(chat, 5)
	joined := strings.TrimPrefix(got[3].PlainText, e.deptName("bauamt")+"\n") + " " + got[4].PlainText
	if joined != long {
		t.Errorf("long reply arrived as %d + %d characters, not as sent", len(got[3].PlainText), len(got[4].PlainText))
	}
}

func TestClosedCaseAfterReopenWindow(t *testing.T) {
	e := newHandoffEnv(t)
	e.start(e.cfg)
	const chat = 5701
	e.fake.PushText(chat, bauantrag)
	e.waitSentTo(chat, 1)
	c := e.caseOf(chat)
	v := e.staff("bau@example.org", "bauamt")
	must(t, e.cases.Close(context.Background(), v, c.ID))
	// Closed longer ago than the reopen window (72 h): the bot answers.
	if _, err := e.db.Exec(`UPDATE cases SET closed_at = now() - interval '4 days' WHERE id = $1`, c.ID); err != nil {
		t.Fatal(err)
	}
	e.fake.PushText(chat, "Wie beantrage ich einen Personalausweis?")
	got := e.waitSentTo(chat, 2)[1]
	if !strings.Contains(got.PlainText, "Personalausweis") || got.ReplyMarkup == nil || len(got.ReplyMarkup.CallbackData()) != 2 {
		t.Errorf("FAQ answer after the window = %q", got.PlainText)
	}
	if c := e.caseOf(chat); c.Status != routing.CaseClosed {
		t.Errorf("case reopened after the window: %+v", c)
	}
}
