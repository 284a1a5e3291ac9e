package telegram

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/go-telegram/bot/models"
	"golang.org/x/crypto/bcrypt"

	"citybot/faq"
	"citybot/fieldstaff"
	"citybot/internal/tgfake"
	"citybot/routing"
	"citybot/staff"
)

// pushReply queues a text message of chat that replies to the bot's
// message replyTo (whose text was replyText).
func (e *env) pushReply(chat int64, replyTo int, replyText, text string) {
	e.t.Helper()
	u := e.fake.TextUpdate(chat, text)
	botUser := e.fake.BotUser()
	u.Message.ReplyToMessage = &models.Message{ID: replyTo, From: &botUser, Chat: u.Message.Chat, Text: replyText}
	raw, err := json.Marshal(u)
	must(e.t, err)
	e.fake.PushUpdate(raw)
}

// linkChat links chat to user by the deep link and waits for the answer.
func (e *env) linkChat(fs *fieldstaff.Store, uid, chat int64) {
	e.t.Helper()
	code, _, err := fs.CreateLinkCode(context.Background(), uid)
	must(e.t, err)
	e.fake.PushText(chat, "/start staff-"+code)
	e.waitSentTo(chat, 1)
}

// citizenCase opens a waiting case of citizen chat in dept.
func (e *env) citizenCase(cases *routing.Cases, chat int64, dept, question string) int64 {
	e.t.Helper()
	ctx := context.Background()
	c, err := routing.NewStore(e.db).TouchCitizen(ctx, routing.ChannelTelegram, strconv.FormatInt(chat, 10), "de")
	must(e.t, err)
	cs, err := cases.Open(ctx, c.ID, dept, "test", routing.OpenOptions{Question: question})
	must(e.t, err)
	return cs.ID
}

func (e *env) caseState(id int64) (status string, assignee int64) {
	e.t.Helper()
	var row struct {
		Status   string `db:"status"`
		Assignee *int64 `db:"assignee_id"`
	}
	must(e.t, e.db.Get(&row, `SELECT status, assignee_id FROM cases WHERE id = $1`, id))
	if row.Assignee != nil {
		assignee = *row.Assignee
	}
	return row.Status, assignee
}

func lastText(t *testing.T, got []tgfake.SentMessage, want ...string) {
	t.Helper()
	last := got[len(got)-1].PlainText
	for _, w := range want {
		if !strings.Contains(last, w) {
			t.Fatalf("last message %q lacks %q", last, w)
		}
	}
}

// An alert of a new case reaches the staff member of its department (and
// nobody else); a reply to it reaches the citizen through the outbox, its
// buttons claim and close the case; another department's staff member can
// neither answer nor press buttons; unlinked and deactivated users' chats
// are refused.
func TestStaffAlertReplyAndButtons(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	cases := routing.NewCases(e.db, routing.CasesOptions{})
	fs := fieldstaff.New(e.db).WithCases(cases)
	spy := &spyMatcher{Matcher: e.m}
	e.startWith(spy, e.config(func(c *Config) { c.StaffChats = fs }))

	anna := e.staffUser("anna@example.org", "Anna Bau", "bauamt")
	otto := e.staffUser("otto@example.org", "Otto Ordnung", "ordnungsamt")
	const annaChat, ottoChat, citizen = 701, 702, 900
	e.linkChat(fs, anna, annaChat)
	e.linkChat(fs, otto, ottoChat)
	must(t, fs.SetAlertModes(ctx, anna, map[string]string{"bauamt": fieldstaff.AlertEach}))
	must(t, fs.SetAlertModes(ctx, otto, map[string]string{"ordnungsamt": fieldstaff.AlertEach}))

	id := e.citizenCase(cases, citizen, "bauamt", "Darf mein Nachbar <b>so</b> hoch bauen?")
	sid := strconv.FormatInt(id, 10)
	n, err := fs.RunAlerts(ctx, fieldstaff.AlertConfig{PublicURL: "https://city.example.org"})
	if err != nil || n != 1 {
		t.Fatalf("RunAlerts = %d, %v", n, err)
	}
	got := e.waitSentTo(annaChat, 2)
	alert := got[1]
	lastText(t, got, "Neuer Fall #"+sid, "bauamt", "Darf mein Nachbar <b>so</b> hoch bauen?")
	if !strings.Contains(alert.Text, `<a href="https://city.example.org/cases/`+sid+`">`) || alert.ParseMode != "HTML" {
		t.Fatalf("alert %q (%s) lacks the case link", alert.Text, alert.ParseMode)
	}
	if cb := alert.ReplyMarkup.CallbackData(); !slices.Equal(cb, []string{"al:c:" + sid, "al:x:" + sid}) {
		t.Fatalf("alert buttons = %v", cb)
	}
	e.expectExactly(ottoChat, 1) // the link answer only: no alert of another department
	waitFor(t, "the alert's message id", func() bool {
		return e.count(`SELECT count(*) FROM outbox WHERE staff_chat AND status = 'sent' AND external_message_id = $1`, strconv.Itoa(alert.MessageID)) == 1
	})

	// Isolation: Otto forges the buttons and replies to Anna's alert's id.
	e.fake.PushCallback(ottoChat, alert.MessageID, "al:x:"+sid)
	lastText(t, e.waitSentTo(ottoChat, 2), "gehört nicht zu Ihren Fachbereichen", "Nichts wurde")
	e.fake.PushCallback(ottoChat, alert.MessageID, "al:c:"+sid)
	lastText(t, e.waitSentTo(ottoChat, 3), "gehört nicht zu Ihren Fachbereichen")
	e.pushReply(ottoChat, alert.MessageID, alert.PlainText, "Ich bin nicht zuständig, antworte aber trotzdem")
	lastText(t, e.waitSentTo(ottoChat, 4), "keinem Fall zuordnen", "Nichts wurde gesendet")
	e.fake.PushCallback(ottoChat, alert.MessageID, "al:zz:1")
	lastText(t, e.waitSentTo(ottoChat, 5), "Schaltfläche ist ungültig")
	if st, who := e.caseState(id); st != routing.CaseWaiting || who != 0 {
		t.Fatalf("after another department's attempts: case %s, assignee %d", st, who)
	}
	if len(e.fake.SentTo(citizen)) != 0 {
		t.Fatal("the citizen got a message from another department's attempts")
	}
	if spy.saw("nicht zuständig") {
		t.Fatal("a staff chat's reply reached the matcher")
	}

	// Anna claims, replies, closes.
	e.fake.PushCallback(annaChat, alert.MessageID, "al:c:"+sid)
	lastText(t, e.waitSentTo(annaChat, 3), "Fall #"+sid+" ist jetzt Ihnen zugewiesen")
	if st, who := e.caseState(id); st != routing.CaseAssigned || who != anna {
		t.Fatalf("after claim: case %s, assignee %d", st, who)
	}
	e.pushReply(annaChat, alert.MessageID, alert.PlainText, "Guten Tag, wir prüfen das & melden uns.")
	lastText(t, e.waitSentTo(annaChat, 4), "Ihre Antwort zu Fall #"+sid)
	cit := e.waitSentTo(citizen, 1)
	if !strings.Contains(cit[0].PlainText, "Guten Tag, wir prüfen das & melden uns.") || !strings.Contains(cit[0].PlainText, "bauamt") {
		t.Fatalf("the citizen got %q", cit[0].PlainText)
	}
	if n := e.count(`SELECT count(*) FROM messages m JOIN case_messages cm ON cm.message_id = m.id
		WHERE cm.case_id = $1 AND m.sender = 'staff' AND m.staff_user_id = $2`, id, anna); n != 1 {
		t.Fatalf("staff reply messages of the case = %d", n)
	}
	for _, action := range []string{"case.assigned", "case.replied"} {
		if n := e.count(`SELECT count(*) FROM audit_log WHERE action = $1 AND user_id = $2 AND object_id = $3`, action, anna, sid); n != 1 {
			t.Fatalf("%s audit rows of anna = %d", action, n)
		}
	}
	e.fake.PushCallback(annaChat, alert.MessageID, "al:x:"+sid)
	lastText(t, e.waitSentTo(annaChat, 5), "Fall #"+sid+" ist geschlossen")
	if st, _ := e.caseState(id); st != routing.CaseClosed {
		t.Fatalf("after close: case %s", st)
	}
	if n := e.count(`SELECT count(*) FROM audit_log WHERE action = 'case.closed' AND user_id = $1 AND object_id = $2`, anna, sid); n != 1 {
		t.Fatalf("close audit rows = %d", n)
	}
	// A reply to the closed case is refused; nothing reaches the citizen.
	e.pushReply(annaChat, alert.MessageID, alert.PlainText, "Noch etwas")
	lastText(t, e.waitSentTo(annaChat, 6), "geschlossen", "Nichts wurde gesendet")
	// A reply to a bot message that is no alert is a staff chat's message
	// like any other; a command stays a command.
	e.pushReply(annaChat, got[0].MessageID, got[0].PlainText, "Antwort auf die Begrüßung")
	lastText(t, e.waitSentTo(annaChat, 7), "Mitarbeiterzugang")
	e.pushReply(annaChat, alert.MessageID, alert.PlainText, "/meinedaten")
	lastText(t, e.waitSentTo(annaChat, 8), "anna@example.org")
	e.expectExactly(citizen, 1)

	// Unlinked: no more alerts; the old alert's buttons and replies are refused.
	e.fake.PushText(annaChat, "/abmelden")
	e.waitSentTo(annaChat, 9)
	id2 := e.citizenCase(cases, 901, "bauamt", "Zweite Frage")
	if n, err := fs.RunAlerts(ctx, fieldstaff.AlertConfig{}); err != nil || n != 0 {
		t.Fatalf("RunAlerts after unlink = %d, %v", n, err)
	}
	e.fake.PushCallback(annaChat, alert.MessageID, "al:c:"+strconv.FormatInt(id2, 10))
	lastText(t, e.waitSentTo(annaChat, 10), "nicht (mehr) mit einem Mitarbeiterzugang verknüpft")
	e.pushReply(annaChat, alert.MessageID, alert.PlainText, "Hallo?")
	lastText(t, e.expectExactly(annaChat, 11), "nicht (mehr) mit einem Mitarbeiterzugang verknüpft")
	if st, who := e.caseState(id2); st != routing.CaseWaiting || who != 0 {
		t.Fatalf("an unlinked chat changed case %d: %s, %d", id2, st, who)
	}
	if n := e.count(`SELECT count(*) FROM citizens WHERE external_id = $1`, strconv.Itoa(annaChat)); n != 0 {
		t.Fatal("the unlinked chat's alert actions reached the citizen engine")
	}

	// Deactivated: the chat is refused, buttons included.
	var admin int64
	must(t, e.db.Get(&admin, `INSERT INTO users (email, name, password_hash, role) VALUES ('admin@example.org', 'Admin', 'x', 'admin') RETURNING id`))
	st := staff.New(e.db).WithCost(bcrypt.MinCost).WithDeactivateHook(fs.Deactivated)
	must(t, st.UpdateUser(ctx, admin, staff.UserUpdate{ID: otto, Name: "Otto Ordnung", Role: "staff", Language: "de", Active: false, Departments: []string{"ordnungsamt"}}))
	e.fake.PushCallback(ottoChat, alert.MessageID, "al:c:"+strconv.FormatInt(id2, 10))
	lastText(t, e.waitSentTo(ottoChat, 6), "deaktiviert")
	e.pushReply(ottoChat, alert.MessageID, alert.PlainText, "Hallo?")
	lastText(t, e.expectExactly(ottoChat, 7), "deaktiviert")
	if st, who := e.caseState(id2); st != routing.CaseWaiting || who != 0 {
		t.Fatalf("a deactivated user's chat changed case %d: %s, %d", id2, st, who)
	}
	e.expectExactly(citizen, 1)
}

// A digest lists the new cases; a reply to it needs the case number.
func TestStaffAlertDigestReply(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	cases := routing.NewCases(e.db, routing.CasesOptions{})
	fs := fieldstaff.New(e.db).WithCases(cases)
	e.start(e.config(func(c *Config) { c.StaffChats = fs }))

	dora := e.staffUser("dora@example.org", "Dora", "bauamt")
	const chat = 801
	e.linkChat(fs, dora, chat)
	must(t, fs.SetAlertModes(ctx, dora, map[string]string{"bauamt": fieldstaff.AlertDigest}))
	id1 := e.citizenCase(cases, 910, "bauamt", "Erste Frage")
	id2 := e.citizenCase(cases, 911, "bauamt", "Zweite Frage")
	if n, err := fs.RunAlerts(ctx, fieldstaff.AlertConfig{}); err != nil || n != 1 {
		t.Fatalf("RunAlerts = %d, %v", n, err)
	}
	got := e.waitSentTo(chat, 2)
	lastText(t, got, "2 neue Fälle", "#"+strconv.FormatInt(id1, 10), "#"+strconv.FormatInt(id2, 10))
	digest := got[1]
	waitFor(t, "the digest's message id", func() bool {
		return e.count(`SELECT count(*) FROM outbox WHERE staff_chat AND status = 'sent' AND external_message_id = $1`, strconv.Itoa(digest.MessageID)) == 1
	})
	e.pushReply(chat, digest.MessageID, digest.PlainText, "Ohne Nummer")
	lastText(t, e.waitSentTo(chat, 3), "Sammelmeldung")
	e.pushReply(chat, digest.MessageID, digest.PlainText, "#999999 Falsche Nummer")
	lastText(t, e.waitSentTo(chat, 4), "Sammelmeldung")
	e.pushReply(chat, digest.MessageID, digest.PlainText, "#"+strconv.FormatInt(id2, 10)+" Antwort an die Zweite")
	lastText(t, e.waitSentTo(chat, 5), "Ihre Antwort zu Fall #"+strconv.FormatInt(id2, 10))
	cit := e.waitSentTo(911, 1)
	if !strings.Contains(cit[0].PlainText, "Antwort an die Zweite") || strings.Contains(cit[0].PlainText, "#") {
		t.Fatalf("citizen of case %d got %q", id2, cit[0].PlainText)
	}
	if len(e.fake.SentTo(910)) != 0 {
		t.Fatal("the other citizen of the digest got the reply")
	}
}

// Unlinked in the web UI: the chat is a citizen's again (its questions
// reach the FAQ), gets no alerts, and an old alert's reply is refused
// instead of reaching the citizen dialog.
func TestStaffChatUnlinkedInUI(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	cases := routing.NewCases(e.db, routing.CasesOptions{})
	fs := fieldstaff.New(e.db).WithCases(cases)
	spy := &spyMatcher{Matcher: e.m}
	e.startWith(spy, e.config(func(c *Config) { c.StaffChats = fs }))
	question := devQuestion(t, e.m, faq.DecisionAnswer, "")

	uid := e.staffUser("hans@example.org", "Hans", "bauamt")
	const chat = 751
	e.linkChat(fs, uid, chat)
	must(t, fs.SetAlertModes(ctx, uid, map[string]string{"bauamt": fieldstaff.AlertEach}))
	e.citizenCase(cases, 920, "bauamt", "Frage")
	if n, err := fs.RunAlerts(ctx, fieldstaff.AlertConfig{}); err != nil || n != 1 {
		t.Fatalf("RunAlerts = %d, %v", n, err)
	}
	alert := e.waitSentTo(chat, 2)[1]
	waitFor(t, "the alert's message id", func() bool {
		return e.count(`SELECT count(*) FROM outbox WHERE staff_chat AND status = 'sent' AND external_message_id = $1`, strconv.Itoa(alert.MessageID)) == 1
	})

	must(t, fs.Unlink(ctx, uid, uid)) // "Telegram-Verknüpfung trennen" on the account page
	e.citizenCase(cases, 921, "bauamt", "Noch eine Frage")
	if n, err := fs.RunAlerts(ctx, fieldstaff.AlertConfig{}); err != nil || n != 0 {
		t.Fatalf("RunAlerts after unlinking = %d, %v", n, err)
	}
	e.pushReply(chat, alert.MessageID, alert.PlainText, "Antwort nach dem Trennen")
	lastText(t, e.waitSentTo(chat, 3), "nicht (mehr) mit einem Mitarbeiterzugang verknüpft")
	if spy.saw("Antwort nach dem Trennen") {
		t.Fatal("the reply to an old alert reached the matcher")
	}
	e.fake.PushText(chat, question)
	e.waitSentTo(chat, 4)
	waitFor(t, "the matcher to see the unlinked chat's question", func() bool { return spy.saw(question) })
	if len(e.fake.SentTo(920)) != 0 {
		t.Fatal("the citizen got something from the unlinked chat")
	}
}

// Übernehmen on a case a colleague has takes it over, as "Mir zuweisen"
// in the inbox does (routing's Assign, audited with the previous
// assignee), and names the colleague. A staff member who left the
// department can no longer answer, claim or close through their own
// earlier alert: refused with a clear message, nothing changes.
func TestStaffAlertColleagueAndLostDepartment(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	cases := routing.NewCases(e.db, routing.CasesOptions{})
	fs := fieldstaff.New(e.db).WithCases(cases)
	e.start(e.config(func(c *Config) { c.StaffChats = fs }))

	anna := e.staffUser("anna@example.org", "Anna Bau", "bauamt")
	carl := e.staffUser("carl@example.org", "Carl Bau", "bauamt")
	const annaChat, carlChat, citizen = 711, 712, 930
	e.linkChat(fs, anna, annaChat)
	e.linkChat(fs, carl, carlChat)
	for _, u := range []int64{anna, carl} {
		must(t, fs.SetAlertModes(ctx, u, map[string]string{"bauamt": fieldstaff.AlertEach}))
	}
	id := e.citizenCase(cases, citizen, "bauamt", "Wann ist die Baugenehmigung fertig?")
	sid := strconv.FormatInt(id, 10)
	if n, err := fs.RunAlerts(ctx, fieldstaff.AlertConfig{}); err != nil || n != 2 {
		t.Fatalf("RunAlerts = %d, %v", n, err)
	}
	annaAlert, carlAlert := e.waitSentTo(annaChat, 2)[1], e.waitSentTo(carlChat, 2)[1]

	e.fake.PushCallback(carlChat, carlAlert.MessageID, "al:c:"+sid)
	lastText(t, e.waitSentTo(carlChat, 3), "Fall #"+sid+" ist jetzt Ihnen zugewiesen")
	e.fake.PushCallback(annaChat, annaAlert.MessageID, "al:c:"+sid)
	lastText(t, e.waitSentTo(annaChat, 3), "Fall #"+sid+" war Carl Bau zugewiesen und ist jetzt Ihnen zugewiesen", "was assigned to Carl Bau")
	if st, who := e.caseState(id); st != routing.CaseAssigned || who != anna {
		t.Fatalf("after taking over: case %s, assignee %d", st, who)
	}
	if n := e.count(`SELECT count(*) FROM audit_log WHERE action = 'case.assigned' AND user_id = $1 AND object_id = $2
		AND (details->>'previous')::bigint = $3`, anna, sid, carl); n != 1 {
		t.Fatalf("audit rows of the take-over naming the colleague = %d", n)
	}
	e.fake.PushCallback(annaChat, annaAlert.MessageID, "al:c:"+sid)
	lastText(t, e.waitSentTo(annaChat, 4), "ist Ihnen schon zugewiesen")

	// Anna leaves the department: her own alert no longer lets her act.
	e.db.MustExec(`DELETE FROM user_departments WHERE user_id = $1`, anna)
	e.db.MustExec(`INSERT INTO departments (id, name) VALUES ('ordnungsamt', 'Ordnungsamt') ON CONFLICT DO NOTHING`)
	e.db.MustExec(`INSERT INTO user_departments (user_id, department_id) VALUES ($1, 'ordnungsamt')`, anna)
	e.pushReply(annaChat, annaAlert.MessageID, annaAlert.PlainText, "Die Genehmigung ist nächste Woche fertig.")
	lastText(t, e.waitSentTo(annaChat, 5), "Fall #"+sid+" gibt es nicht oder er gehört nicht zu Ihren Fachbereichen", "Nichts wurde gesendet")
	e.fake.PushCallback(annaChat, annaAlert.MessageID, "al:x:"+sid)
	lastText(t, e.waitSentTo(annaChat, 6), "gehört nicht zu Ihren Fachbereichen")
	e.fake.PushCallback(annaChat, annaAlert.MessageID, "al:c:"+sid)
	lastText(t, e.expectExactly(annaChat, 7), "gehört nicht zu Ihren Fachbereichen")
	if st, _ := e.caseState(id); st != routing.CaseAssigned {
		t.Fatalf("after the refused attempts: case %s", st)
	}
	if len(e.fake.SentTo(citizen)) != 0 {
		t.Fatal("the citizen got a reply of a staff member outside the department")
	}
}
