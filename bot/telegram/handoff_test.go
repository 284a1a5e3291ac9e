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
	"citybot/internal/tgfake"
	"citybot/routing"
	"citybot/staff"
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
	router, err := routing.NewLiveRouter(ctx, e.db, bot.RoutingFAQ(faq.NewStore(e.db)))
	must(t, err)
	cal, err := routing.NewCalendar("NW")
	must(t, err)
	cases := routing.NewCases(e.db, routing.CasesOptions{})
	h := routing.NewHandoff(cases, cal, router, routing.HandoffOptions{Now: func() time.Time { return mondayMorning }})
	cfg := e.config(func(c *Config) { c.Handoff = bot.NewRoutingHandoff(h, cases, routing.NewStore(e.db)) })
	return &handoffEnv{env: e, cases: cases, cfg: cfg}
}

// staff creates a staff member of dept and returns the viewer.
func (e *handoffEnv) staff(email, dept string) staff.Principal {
	e.t.Helper()
	var id int64
	if err := e.db.Get(&id, `INSERT INTO users (email, name, password_hash, role) VALUES ($1, $1, 'x', 'staff') RETURNING id`, email); err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.db.Exec(`INSERT INTO user_departments (user_id, department_id) VALUES ($1, $2)`, id, dept); err != nil {
		e.t.Fatal(err)
	}
	return staff.Principal{ID: id, Role: staff.RoleStaff, Departments: []string{dept}}
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

// confirmation waits for the bot's "pass it on?" question (the n-th message
// to chat) and checks its shape: the question restated, yes / another
// office / no.
func (e *handoffEnv) confirmation(chat int64, n int, question string) tgfake.SentMessage {
	e.t.Helper()
	ask := e.waitSentTo(chat, n)[n-1]
	if !strings.Contains(ask.PlainText, "Soll ich Ihre Anfrage an die zuständige Stelle weitergeben?") &&
		!strings.Contains(ask.PlainText, "Shall I pass your request on to the responsible office?") {
		e.t.Fatalf("confirmation = %q", ask.PlainText)
	}
	if question != "" && !strings.Contains(ask.PlainText, question) {
		e.t.Errorf("the confirmation does not restate %q: %q", question, ask.PlainText)
	}
	if ask.ReplyMarkup == nil || len(ask.ReplyMarkup.InlineKeyboard) != 3 {
		e.t.Fatalf("confirmation buttons = %+v", ask.ReplyMarkup)
	}
	return ask
}

// openCase asks question, confirms the proposed office and returns the
// handoff message (the chat's second message from here).
func (e *handoffEnv) openCase(chat int64, question string) tgfake.SentMessage {
	e.t.Helper()
	before := len(e.fake.SentTo(chat))
	e.fake.PushText(chat, question)
	ask := e.confirmation(chat, before+1, question)
	e.fake.PushCallback(chat, ask.MessageID, ask.ReplyMarkup.CallbackData()[0])
	return e.waitSentTo(chat, before+2)[before+1]
}

func TestHandoffNoMatchOpensCase(t *testing.T) {
	e := newHandoffEnv(t)
	e.start(e.cfg)
	const chat = 5001
	e.fake.PushText(chat, bauantrag)
	// First the bot asks, restating the question and proposing the office.
	ask := e.confirmation(chat, 1, bauantrag)
	if !strings.Contains(ask.PlainText, "Mein Vorschlag: Bauamt.") {
		t.Errorf("confirmation = %q", ask.PlainText)
	}
	kb := ask.ReplyMarkup.InlineKeyboard
	if kb[0][0].Text != "Ja, bitte weitergeben" || kb[1][0].Text != "Andere Stelle wählen" || kb[2][0].Text != "Nein, danke" {
		t.Errorf("buttons = %+v", kb)
	}
	time.Sleep(200 * time.Millisecond)
	if n := e.count(`SELECT count(*) FROM cases`); n != 0 {
		t.Fatalf("%d cases before the citizen confirmed", n)
	}
	e.fake.PushCallback(chat, ask.MessageID, ask.ReplyMarkup.CallbackData()[0])
	msg := e.waitSentTo(chat, 2)[1]
	c := e.caseOf(chat)
	want := fmt.Sprintf("Ihre Anfrage liegt jetzt beim Bauamt. Ihre Vorgangsnummer: #%d. Das Bauamt ist gerade geöffnet", c.ID)
	if !strings.HasPrefix(msg.PlainText, want) || !strings.Contains(msg.PlainText, "/abbrechen") {
		t.Errorf("handoff message = %q", msg.PlainText)
	}
	// On Telegram the hint invites photos and documents (the web chat's does not).
	if !strings.Contains(msg.PlainText, "Fotos oder Dokumente") {
		t.Errorf("handoff message without Telegram's hint: %q", msg.PlainText)
	}
	if msg.ReplyMarkup == nil || len(msg.ReplyMarkup.InlineKeyboard) != 1 || msg.ReplyMarkup.InlineKeyboard[0][0].Text != "Andere Stelle wählen" {
		t.Fatalf("buttons = %+v", msg.ReplyMarkup)
	}
	// The confirmation's buttons are gone.
	waitFor(t, "confirmation buttons removed", func() bool {
		m, ok := e.fake.Message(chat, ask.MessageID)
		return ok && (m.ReplyMarkup == nil || len(m.ReplyMarkup.InlineKeyboard) == 0)
	})
	if c.Department != "bauamt" || c.Status != routing.CaseWaiting || c.Subject != bauantrag || c.Reason != routing.ReasonPersonal {
		t.Errorf("case = %+v", c)
	}
	texts := e.caseTexts(c.ID)
	if len(texts) < 3 || texts[0] != "in:text:"+bauantrag || !strings.HasPrefix(texts[len(texts)-1], "out:text:Ihre Anfrage liegt jetzt beim Bauamt") {
		t.Errorf("transcript = %q", texts)
	}

	// In English.
	const en = 5002
	u := e.fake.DefaultUser(en)
	u.LanguageCode = "en"
	const enQuestion = "Where is my building application, file number 2024-113?"
	e.fake.PushTextFrom(u, en, enQuestion)
	ask = e.confirmation(en, 1, enQuestion)
	if !strings.Contains(ask.PlainText, "I suggest: ") || ask.ReplyMarkup.InlineKeyboard[1][0].Text != "Choose another office" {
		t.Errorf("English confirmation = %q %+v", ask.PlainText, ask.ReplyMarkup)
	}
	e.fake.PushCallback(en, ask.MessageID, ask.ReplyMarkup.CallbackData()[0])
	msg = e.waitSentTo(en, 2)[1]
	if !strings.HasPrefix(msg.PlainText, "I have passed your request to ") || !strings.Contains(msg.PlainText, "Your reference number: #") ||
		msg.ReplyMarkup.InlineKeyboard[0][0].Text != "Choose another office" {
		t.Errorf("English handoff = %q %+v", msg.PlainText, msg.ReplyMarkup)
	}
}

// While a case is open every message is still understood: FAQ questions
// are answered (and noted in the case), thanks acknowledged without
// touching the case, additions passed on with a short confirmation,
// impatience answered with the expected reply time.
func TestOpenCaseKeepsAnswering(t *testing.T) {
	e := newHandoffEnv(t)
	e.start(e.cfg)
	const chat = 5101
	e.openCase(chat, bauantrag)
	c := e.caseOf(chat)
	base := len(e.caseTexts(c.ID))

	// An FAQ question is answered, and both are noted in the case.
	e.fake.PushText(chat, "Wie beantrage ich einen Personalausweis?")
	got := e.waitSentTo(chat, 3)[2]
	if !strings.Contains(got.PlainText, "Personalausweis") || got.ReplyMarkup == nil {
		t.Errorf("FAQ answer during the case = %q", got.PlainText)
	}
	texts := e.caseTexts(c.ID)
	if !containsPrefix(texts, "in:text:Wie beantrage ich einen Personalausweis?") || len(texts) != base+2 {
		t.Errorf("the answered question is not noted in the case: %q", texts)
	}
	if cs := e.caseOf(chat); cs.Status != routing.CaseWaiting {
		t.Errorf("status = %s", cs.Status)
	}
	// Impatience: where it is and when to expect a reply.
	e.fake.PushText(chat, "Hallo? Bekomme ich noch eine Antwort?")
	got = e.waitSentTo(chat, 4)[3]
	if !strings.HasPrefix(got.PlainText, fmt.Sprintf("Ihre Anfrage #%d liegt beim Bauamt. Das Bauamt ist gerade geöffnet", c.ID)) {
		t.Errorf("impatience = %q", got.PlainText)
	}
	// A real addition goes to the case, with a short confirmation.
	e.fake.PushText(chat, "Der Antrag wurde im Januar eingereicht.")
	got = e.waitSentTo(chat, 5)[4]
	if got.PlainText != fmt.Sprintf("Danke, ich habe das an das Bauamt weitergegeben (Anfrage #%d).", c.ID) {
		t.Errorf("addition = %q", got.PlainText)
	}
	// An unknown command goes to the case silently; a photo is confirmed
	// once, a location right after it is not.
	e.fake.PushText(chat, "/unbekannt")
	e.fake.PushPhoto(chat, "")
	got = e.waitSentTo(chat, 6)[5]
	if got.PlainText != fmt.Sprintf("Danke, ich habe das Foto an das Bauamt weitergegeben (Anfrage #%d).", c.ID) {
		t.Errorf("photo acknowledgement = %q", got.PlainText)
	}
	e.fake.PushLocation(chat, 51.5, 7.4)
	waitFor(t, "location in the case", func() bool { return containsPrefix(e.caseTexts(c.ID), "in:location:") })
	e.expectExactly(chat, 6)
	texts = e.caseTexts(c.ID)
	for _, want := range []string{"in:text:Der Antrag wurde", "in:text:/unbekannt", "in:photo:", "out:text:Danke, ich habe das Foto", "in:location:"} {
		if !containsPrefix(texts, want) {
			t.Errorf("transcript lacks %q: %q", want, texts)
		}
	}
	if containsPrefix(texts, "in:text:Hallo? Bekomme") {
		t.Errorf("impatience went to the case: %q", texts)
	}

	// The staff reply reaches the citizen; "Danke" is acknowledged without
	// making it the staff's turn again; an addition does.
	v := e.staff("bau@example.org", "bauamt")
	_, err := e.cases.Reply(context.Background(), v, c.ID, "Ihr Antrag ist in Prüfung.", nil)
	must(t, err)
	got = e.waitSentTo(chat, 7)[6]
	if got.PlainText != e.deptName("bauamt")+"\nIhr Antrag ist in Prüfung." {
		t.Errorf("staff reply = %q", got.PlainText)
	}
	e.fake.PushText(chat, "Danke!")
	got = e.waitSentTo(chat, 8)[7]
	if !strings.HasPrefix(got.PlainText, fmt.Sprintf("Gern! Ihre Anfrage #%d liegt beim Bauamt; die Antwort bekommen Sie hier im Chat.", c.ID)) {
		t.Errorf("thanks = %q", got.PlainText)
	}
	if cs := e.caseOf(chat); cs.Status != routing.CaseAnswered {
		t.Errorf("thanks changed the status to %s", cs.Status)
	}
	e.fake.PushText(chat, "Muss ich noch Unterlagen nachreichen?")
	got = e.waitSentTo(chat, 9)[8]
	if !strings.Contains(got.PlainText, "an das Bauamt weitergegeben") {
		t.Errorf("addition after the reply = %q", got.PlainText)
	}
	if cs := e.caseOf(chat); cs.Status != routing.CaseAssigned {
		t.Errorf("status after the citizen's addition = %s", cs.Status)
	}

	// Closed by staff: "Danke" does not reopen it; a real follow-up asks first.
	must(t, e.cases.Close(context.Background(), v, c.ID))
	e.fake.PushText(chat, "Danke!")
	e.waitSentTo(chat, 10)
	if cs := e.caseOf(chat); cs.Status != routing.CaseClosed {
		t.Fatalf("thanks reopened the case: %+v", cs)
	}
	e.fake.PushText(chat, "Zum Aktenzeichen 2024-113: Die Statik reiche ich nächste Woche nach.")
	ask := e.waitSentTo(chat, 11)[10]
	if !strings.Contains(ask.PlainText, fmt.Sprintf("Ihre Anfrage #%d (Bauamt) ist abgeschlossen. Soll ich sie mit Ihrer Nachricht wieder öffnen?", c.ID)) {
		t.Fatalf("reopen question = %q", ask.PlainText)
	}
	if cs := e.caseOf(chat); cs.Status != routing.CaseClosed {
		t.Fatalf("reopened before asking: %+v", cs)
	}
	e.fake.PushCallback(chat, ask.MessageID, ask.ReplyMarkup.CallbackData()[0])
	got = e.waitSentTo(chat, 12)[11]
	if !strings.Contains(got.PlainText, "wieder offen") {
		t.Errorf("reopened = %q", got.PlainText)
	}
	if cs := e.caseOf(chat); cs.Status == routing.CaseClosed || !containsPrefix(e.caseTexts(c.ID), "in:text:Zum Aktenzeichen 2024-113") {
		t.Errorf("case not reopened with the message: %+v %q", cs, e.caseTexts(c.ID))
	}

	// /meinedaten lists the case with its messages ("1 Anfrage": singular).
	e.fake.PushText(chat, "/meinedaten")
	got2 := e.waitSentTo(chat, 14)
	if !strings.Contains(got2[12].PlainText, "1 Anfrage an die Mitarbeitenden") {
		t.Errorf("summary = %q", got2[12].PlainText)
	}
	doc := string(got2[13].Files[0].Data)
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
	e.openCase(chat, bauantrag)
	e.fake.PushText(chat, "/abbrechen")
	got := e.waitSentTo(chat, 4)[3]
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
	got = e.waitSentTo(chat, 5)[4]
	if !strings.Contains(got.PlainText, "Personalausweis") || got.ReplyMarkup == nil {
		t.Errorf("FAQ answer after withdrawal = %q", got.PlainText)
	}
	// English command.
	e.fake.PushText(chat, "/cancel")
	if got := e.waitSentTo(chat, 6)[5]; !strings.Contains(got.PlainText, "keine offene Anfrage") {
		t.Errorf("/cancel without case: %q", got.PlainText)
	}
	// /abbrechen while the bot asks drops the question.
	e.fake.PushText(chat, bauantrag)
	e.confirmation(chat, 7, bauantrag)
	e.fake.PushText(chat, "/abbrechen")
	if got := e.waitSentTo(chat, 8)[7]; !strings.HasPrefix(got.PlainText, "In Ordnung.") {
		t.Errorf("/abbrechen of the confirmation = %q", got.PlainText)
	}
	if n := e.count(`SELECT count(*) FROM bot_choices WHERE kind = 'handoff' AND chosen IS NULL`); n != 0 {
		t.Errorf("%d open confirmations after /abbrechen", n)
	}
}

func TestStaffCommand(t *testing.T) {
	e := newHandoffEnv(t)
	e.start(e.cfg)
	// A bare /mitarbeiter asks what it is about; the answer is confirmed.
	const chat = 5301
	e.fake.PushText(chat, "/mitarbeiter")
	got := e.waitSentTo(chat, 1)[0]
	if !strings.Contains(got.PlainText, "Worum geht es?") {
		t.Errorf("bare /mitarbeiter = %q", got.PlainText)
	}
	if n := e.count(`SELECT count(*) FROM cases`); n != 0 {
		t.Fatalf("a bare /mitarbeiter opened %d cases", n)
	}
	e.fake.PushText(chat, "Ich möchte meinen Personalausweis beantragen")
	ask := e.confirmation(chat, 2, "Ich möchte meinen Personalausweis beantragen")
	if !strings.Contains(ask.PlainText, "Mein Vorschlag: Bürgerbüro.") {
		t.Errorf("confirmation = %q", ask.PlainText)
	}
	e.fake.PushCallback(chat, ask.MessageID, ask.ReplyMarkup.CallbackData()[0])
	got = e.waitSentTo(chat, 3)[2]
	if !strings.HasPrefix(got.PlainText, "Ihre Anfrage liegt jetzt beim Bürgerbüro.") {
		t.Errorf("handoff = %q", got.PlainText)
	}
	c := e.caseOf(chat)
	if c.Department != "buergerbuero" || c.Reason != routing.ReasonRequested || c.Subject != "Ich möchte meinen Personalausweis beantragen" {
		t.Errorf("case = %+v", c)
	}
	// Again: already open; the bot says where it is.
	e.fake.PushText(chat, "/staff")
	got = e.waitSentTo(chat, 4)[3]
	if !strings.HasPrefix(got.PlainText, fmt.Sprintf("Ihre Anfrage #%d liegt beim Bürgerbüro.", c.ID)) || got.ReplyMarkup != nil {
		t.Errorf("second request = %q", got.PlainText)
	}
	if n := e.count(`SELECT count(*) FROM cases`); n != 1 {
		t.Errorf("%d cases", n)
	}
	// "Mit einem Menschen sprechen" right after an answer: about that topic.
	const other = 5302
	e.fake.PushText(other, "Wie beantrage ich einen Personalausweis?")
	e.waitSentTo(other, 1)
	e.fake.PushText(other, "Kann ich bitte mit einem echten Menschen sprechen?")
	ask = e.confirmation(other, 2, "Wie beantrage ich einen Personalausweis?")
	// typed "ja" confirms
	e.fake.PushText(other, "ja bitte")
	got = e.waitSentTo(other, 3)[2]
	if !strings.HasPrefix(got.PlainText, "Ihre Anfrage liegt jetzt beim Bürgerbüro.") {
		t.Errorf("typed yes = %q", got.PlainText)
	}
	// With text after the command: routed by it.
	e.fake.PushText(chat+2, "/mitarbeiter Mein Nachbar baut eine Garage ohne Genehmigung")
	ask = e.confirmation(chat+2, 1, "Mein Nachbar baut eine Garage ohne Genehmigung")
	if !strings.Contains(ask.PlainText, "Mein Vorschlag: Bauamt.") {
		t.Errorf("request with text = %q", ask.PlainText)
	}
}

func TestNotHelpfulConfirmOpensCase(t *testing.T) {
	e := newHandoffEnv(t)
	e.start(e.cfg)
	const chat = 5401
	q := "Wie beantrage ich einen Personalausweis?"
	e.fake.PushText(chat, q)
	ans := e.waitSentTo(chat, 1)[0]
	e.fake.PushCallback(chat, ans.MessageID, "fb:1:n") // not helpful
	ask := e.confirmation(chat, 2, q)
	if !strings.HasPrefix(ask.PlainText, "Schade, dass die Antwort nicht geholfen hat.") {
		t.Errorf("question = %q", ask.PlainText)
	}
	// The feedback buttons give way to the choice made.
	waitFor(t, "feedback buttons replaced", func() bool {
		m, ok := e.fake.Message(chat, ans.MessageID)
		return ok && m.ReplyMarkup != nil && len(m.ReplyMarkup.InlineKeyboard) == 1 && len(m.ReplyMarkup.InlineKeyboard[0]) == 1 &&
			m.ReplyMarkup.InlineKeyboard[0][0].Text == "✓ 👎 Nicht geholfen"
	})
	if n := e.count(`SELECT count(*) FROM cases`); n != 0 {
		t.Fatalf("case opened before confirmation")
	}
	yes := ask.ReplyMarkup.CallbackData()[0]
	e.fake.PushCallback(chat, ask.MessageID, yes)
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
	e.fake.PushCallback(chat, ask.MessageID, yes)
	waitFor(t, "callbacks answered", func() bool { return len(e.fake.UnansweredCallbacks()) == 0 })
	e.expectExactly(chat, 3)

	// "Nein": nothing is passed on. "Nichts davon" asks too.
	const other = 5402
	e.fake.PushText(other, q)
	ans = e.waitSentTo(other, 1)[0]
	e.fake.PushCallback(other, ans.MessageID, ans.ReplyMarkup.CallbackData()[len(ans.ReplyMarkup.CallbackData())-1])
	ask = e.confirmation(other, 2, q)
	e.fake.PushCallback(other, ask.MessageID, ask.ReplyMarkup.CallbackData()[2])
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
	ask = e.confirmation(other, 5, "")
	if !strings.HasPrefix(ask.PlainText, "Danke! Dann habe ich dazu leider keine passende Antwort. Soll ich Ihre Anfrage") {
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

// The confirmation offers other offices before a case opens; after it, the
// handoff message's button moves a waiting case.
func TestChooseAnotherDepartment(t *testing.T) {
	e := newHandoffEnv(t)
	e.start(e.cfg)
	const first = 5500
	e.fake.PushText(first, bauantrag)
	ask := e.confirmation(first, 1, bauantrag)
	e.fake.PushCallback(first, ask.MessageID, ask.ReplyMarkup.CallbackData()[1]) // another office
	menu := e.waitSentTo(first, 2)[1]
	kb := menu.ReplyMarkup.InlineKeyboard
	if !strings.Contains(menu.PlainText, "Welche Stelle soll Ihre Anfrage bekommen?") || len(kb) < 3 || kb[len(kb)-2][0].Text != "Alle Stellen anzeigen" {
		t.Fatalf("menu before the case = %q %+v", menu.PlainText, kb)
	}
	for _, row := range kb {
		if strings.HasPrefix(row[0].Text, "Bauamt") {
			t.Errorf("the proposed office is offered again")
		}
	}
	e.fake.PushCallback(first, menu.MessageID, kb[len(kb)-2][0].CallbackData) // all offices
	all := e.waitSentTo(first, 3)[2]
	var zentrale string
	for _, row := range all.ReplyMarkup.InlineKeyboard {
		if strings.HasPrefix(row[0].Text, "Zentrale") {
			zentrale = row[0].CallbackData
		}
	}
	if n := len(all.ReplyMarkup.InlineKeyboard); n != 14 || zentrale == "" { // 13 others + no
		t.Fatalf("full list has %d rows: %+v", n, all.ReplyMarkup.InlineKeyboard)
	}
	e.fake.PushCallback(first, all.MessageID, zentrale)
	if got := e.waitSentTo(first, 4)[3]; !strings.HasPrefix(got.PlainText, "Ihre Anfrage liegt jetzt bei der Zentrale") {
		t.Errorf("chosen before the case = %q", got.PlainText)
	}
	if c := e.caseOf(first); c.Department != "zentrale" {
		t.Errorf("case = %+v", c)
	}

	const chat = 5501
	msg := e.openCase(chat, bauantrag)
	e.fake.PushCallback(chat, msg.MessageID, msg.ReplyMarkup.CallbackData()[0])
	menu = e.waitSentTo(chat, 3)[2]
	if !strings.Contains(menu.PlainText, "Zurzeit: Bauamt.") {
		t.Errorf("menu = %q", menu.PlainText)
	}
	kb = menu.ReplyMarkup.InlineKeyboard
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
	all = e.waitSentTo(chat, 4)[3]
	if n := len(all.ReplyMarkup.InlineKeyboard); n != 14 { // 13 others + keep
		t.Errorf("full list has %d rows", n)
	}
	zentrale = ""
	for _, row := range all.ReplyMarkup.InlineKeyboard {
		if strings.HasPrefix(row[0].Text, "Zentrale") {
			zentrale = row[0].CallbackData
		}
		if strings.HasPrefix(row[0].Text, "Bauamt") {
			t.Errorf("the current department is offered")
		}
	}
	e.fake.PushCallback(chat, all.MessageID, zentrale)
	got := e.waitSentTo(chat, 5)[4]
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
	e.expectExactly(chat, 5)

	// Once staff work on it, the citizen cannot move it any more.
	v := e.staff("z@example.org", "zentrale")
	must(t, e.cases.Assign(context.Background(), v, c.ID, v.ID))
	e.fake.PushCallback(chat, menu.MessageID, kb[0][0].CallbackData)
	got = e.waitSentTo(chat, 6)[5]
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
	e.openCase(chat, bauantrag)
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
	got := e.waitSentTo(chat, 4)
	if got[2].PlainText != e.deptName("bauamt")+"\nWir prüfen das." || got[3].Method != "sendDocument" || string(got[3].Files[0].Data) != "Merkblatt" {
		t.Errorf("reply = %+v / %+v", got[2], got[3])
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
	e.expectExactly(chat, 4)

	// A reply of Telegram's limit and more arrives in parts, each accepted.
	e.fake.UnblockChat(chat)
	long := strings.TrimSpace(strings.Repeat("Bitte reichen Sie die Bauvorlagen vollständig ein. ", 120)) // ~6,000 characters
	_, err = e.cases.Reply(ctx, v, c.ID, long, nil)
	must(t, err)
	waitFor(t, "long reply sent", func() bool { d := delivery(long); return d != nil && d.Status == routing.OutboxSent })
	got = e.expectExactly(chat, 6)
	joined := strings.TrimPrefix(got[4].PlainText, e.deptName("bauamt")+"\n") + " " + got[5].PlainText
	if joined != long {
		t.Errorf("long reply arrived as %d + %d characters, not as sent", len(got[4].PlainText), len(got[5].PlainText))
	}
}

func TestClosedCaseAfterReopenWindow(t *testing.T) {
	e := newHandoffEnv(t)
	e.start(e.cfg)
	const chat = 5701
	e.openCase(chat, bauantrag)
	c := e.caseOf(chat)
	v := e.staff("bau@example.org", "bauamt")
	must(t, e.cases.Close(context.Background(), v, c.ID))
	// Closed longer ago than the reopen window (72 h): the bot answers.
	if _, err := e.db.Exec(`UPDATE cases SET closed_at = now() - interval '4 days' WHERE id = $1`, c.ID); err != nil {
		t.Fatal(err)
	}
	e.fake.PushText(chat, "Wie beantrage ich einen Personalausweis?")
	got := e.waitSentTo(chat, 3)[2]
	if !strings.Contains(got.PlainText, "Personalausweis") || got.ReplyMarkup == nil || len(got.ReplyMarkup.CallbackData()) < 2 {
		t.Errorf("FAQ answer after the window = %q", got.PlainText)
	}
	if c := e.caseOf(chat); c.Status != routing.CaseClosed {
		t.Errorf("case reopened after the window: %+v", c)
	}
}

// An FAQ answer supersedes an open confirmation also when it is too old for
// a typed "ja" (ConfirmWindow) but its buttons still work: pressing "Ja" on
// it afterwards opens no case. (The turn skips the superseding statement
// only when nothing of any age is open.)
func TestAnswerSupersedesOldConfirmation(t *testing.T) {
	e := newHandoffEnv(t)
	e.start(e.cfg)
	const chat = 5101
	e.fake.PushText(chat, bauantrag)
	ask := e.confirmation(chat, 1, bauantrag)
	if _, err := e.db.Exec(`UPDATE bot_choices SET created_at = now() - interval '2 hours' WHERE kind = 'handoff'`); err != nil {
		t.Fatal(err)
	}
	e.fake.PushText(chat, "Wie beantrage ich einen Personalausweis?")
	answer := e.waitSentTo(chat, 2)[1]
	if !strings.Contains(answer.PlainText, "Personalausweis") {
		t.Fatalf("answer = %q", answer.PlainText)
	}
	if n := e.count(`SELECT count(*) FROM bot_choices WHERE kind = 'handoff' AND chosen IS NULL`); n != 0 {
		t.Errorf("%d confirmations still open after the answer", n)
	}
	calls := e.fake.CallCount("answerCallbackQuery")
	e.fake.PushCallback(chat, ask.MessageID, ask.ReplyMarkup.CallbackData()[0])
	waitFor(t, "the button press answered", func() bool { return e.fake.CallCount("answerCallbackQuery") > calls })
	time.Sleep(200 * time.Millisecond)
	if n := e.count(`SELECT count(*) FROM cases`); n != 0 {
		t.Errorf("the old confirmation's button opened %d case(s)", n)
	}
}
