package telegram

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"citybot/bot"
	"citybot/faq"
	"citybot/fieldstaff"
	"citybot/staff"
)

// spyMatcher records the texts the citizen engine asked the matcher.
type spyMatcher struct {
	bot.Matcher
	mu    sync.Mutex
	asked []string
}

func (m *spyMatcher) Match(text string) faq.Result {
	m.mu.Lock()
	m.asked = append(m.asked, text)
	m.mu.Unlock()
	return m.Matcher.Match(text)
}

func (m *spyMatcher) saw(sub string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, a := range m.asked {
		if strings.Contains(a, sub) {
			return true
		}
	}
	return false
}

func (e *env) staffUser(email, name, dep string) int64 {
	e.t.Helper()
	var id int64
	must(e.t, e.db.Get(&id, `INSERT INTO users (email, name, password_hash, role) VALUES ($1, $2, 'x', 'staff') RETURNING id`, email, name))
	e.db.MustExec(`INSERT INTO departments (id, name) VALUES ($1, $1) ON CONFLICT DO NOTHING`, dep)
	e.db.MustExec(`INSERT INTO user_departments (user_id, department_id) VALUES ($1, $2)`, id, dep)
	return id
}

func TestStaffChatLinking(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	fs := fieldstaff.New(e.db)
	spy := &spyMatcher{Matcher: e.m}
	e.startWith(spy, e.config(func(c *Config) { c.StaffChats = fs }))
	question := devQuestion(t, e.m, faq.DecisionAnswer, "")

	anna := e.staffUser("anna@example.org", "Anna Außendienst", "ordnungsamt")
	code, _, err := fs.CreateLinkCode(ctx, anna)
	must(t, err)

	// Link by deep link.
	const chat = 501
	e.fake.PushText(chat, "/start staff-"+code)
	got := e.waitSentTo(chat, 1)
	if !strings.Contains(got[0].PlainText, "Verknüpft") || !strings.Contains(got[0].PlainText, "Anna Außendienst") {
		t.Fatalf("link reply = %q", got[0].PlainText)
	}
	if n := e.count(`SELECT count(*) FROM fieldstaff_links WHERE chat_id = $1 AND user_id = $2`, chat, anna); n != 1 {
		t.Fatalf("links = %d", n)
	}
	waitFor(t, "staff command menu", func() bool { return len(e.fake.MyCommands("chat:501", "")) == len(fieldstaff.StaffCommands) })

	// The linked chat's question reaches neither the matcher nor the citizen tables.
	e.fake.PushText(chat, question)
	got = e.waitSentTo(chat, 2)
	if !strings.Contains(got[1].PlainText, "Mitarbeiterzugang") {
		t.Fatalf("staff chat question answered with %q", got[1].PlainText)
	}
	e.fake.PushText(chat, "/meinedaten")
	got = e.waitSentTo(chat, 3)
	for _, want := range []string{"Anna Außendienst", "anna@example.org", "ordnungsamt", "Verknüpft seit"} {
		if !strings.Contains(got[2].PlainText, want) {
			t.Fatalf("/meinedaten = %q, want %q in it", got[2].PlainText, want)
		}
	}
	e.fake.PushText(chat, "/hilfe")
	got = e.waitSentTo(chat, 4)
	if !strings.Contains(got[3].PlainText, "/abmelden") {
		t.Fatalf("/hilfe = %q", got[3].PlainText)
	}
	if spy.saw(question) {
		t.Fatal("the staff chat's question reached the matcher")
	}
	if n := e.count(`SELECT count(*) FROM citizens WHERE external_id = '501'`); n != 0 {
		t.Fatalf("citizen rows for the staff chat: %d", n)
	}

	// The used code does not link another chat, and that chat stays a citizen.
	const other = 502
	e.fake.PushText(other, "/start staff-"+code)
	got = e.waitSentTo(other, 1)
	if !strings.Contains(got[0].PlainText, "ungültig") {
		t.Fatalf("used code reply = %q", got[0].PlainText)
	}
	// An expired code is refused as well.
	code2, _, err := fs.CreateLinkCode(ctx, anna)
	must(t, err)
	e.db.MustExec(`UPDATE fieldstaff_link_codes SET expires_at = now() - interval '1 second' WHERE used_at IS NULL`)
	e.fake.PushText(other, "staff-"+code2)
	got = e.waitSentTo(other, 2)
	if !strings.Contains(got[1].PlainText, "abgelaufen") {
		t.Fatalf("expired code reply = %q", got[1].PlainText)
	}
	if n := e.count(`SELECT count(*) FROM fieldstaff_links WHERE chat_id = $1`, other); n != 0 {
		t.Fatal("a used or expired code linked a chat")
	}
	// A citizen's question still reaches the engine.
	e.fake.PushText(other, question)
	e.waitSentTo(other, 3)
	waitFor(t, "the matcher to see the citizen's question", func() bool { return spy.saw(question) })

	// Unlink by command: the chat is a citizen again.
	e.fake.PushText(chat, "/abmelden")
	got = e.waitSentTo(chat, 5)
	if !strings.Contains(got[4].PlainText, "Getrennt") {
		t.Fatalf("/abmelden = %q", got[4].PlainText)
	}
	if n := e.count(`SELECT count(*) FROM fieldstaff_links WHERE chat_id = $1`, chat); n != 0 {
		t.Fatal("still linked after /abmelden")
	}
	if n := e.count(`SELECT count(*) FROM audit_log WHERE action = 'fieldstaff.unlink' AND details->>'reason' = 'bot_command'`); n != 1 {
		t.Fatalf("unlink audit rows = %d", n)
	}
	waitFor(t, "staff command menu removed", func() bool { return len(e.fake.MyCommands("chat:501", "")) == 0 })
}

func TestStaffChatDeactivatedRefused(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	fs := fieldstaff.New(e.db)
	spy := &spyMatcher{Matcher: e.m}
	e.startWith(spy, e.config(func(c *Config) { c.StaffChats = fs }))
	st := staff.New(e.db).WithCost(bcrypt.MinCost).WithDeactivateHook(fs.Deactivated)

	bert := e.staffUser("bert@example.org", "Bert", "bauamt")
	var admin int64
	must(t, e.db.Get(&admin, `INSERT INTO users (email, name, password_hash, role) VALUES ('admin@example.org', 'Admin', 'x', 'admin') RETURNING id`))
	code, _, err := fs.CreateLinkCode(ctx, bert)
	must(t, err)
	const chat = 601
	e.fake.PushText(chat, code) // the bare code, typed
	e.waitSentTo(chat, 1)
	if n := e.count(`SELECT count(*) FROM fieldstaff_links WHERE chat_id = $1`, chat); n != 1 {
		t.Fatal("the typed code did not link")
	}
	must(t, st.UpdateUser(ctx, admin, staff.UserUpdate{ID: bert, Name: "Bert", Role: "staff", Language: "de", Active: false, Departments: []string{"bauamt"}}))

	const q = "Wo kann ich meinen Sperrmüll anmelden?"
	e.fake.PushText(chat, q)
	got := e.expectExactly(chat, 2)
	if !strings.Contains(got[1].PlainText, "deaktiviert") {
		t.Fatalf("deactivated user's chat got %q", got[1].PlainText)
	}
	if spy.saw(q) {
		t.Fatal("the refused chat's message reached the matcher")
	}
	if n := e.count(`SELECT count(*) FROM citizens WHERE external_id = '601'`); n != 0 {
		t.Fatalf("citizen rows for the refused chat: %d", n)
	}
}

// A backlog handled in batches keeps staff chats apart from citizens.
func TestStaffChatsInBatches(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	fs := fieldstaff.New(e.db)
	spy := &spyMatcher{Matcher: e.m}
	cfg := e.config(func(c *Config) { c.StaffChats = fs; c.Workers = 2 })
	s, err := NewService(e.db, spy, testLogger(t), cfg)
	must(t, err)
	const n = 12
	question := devQuestion(t, e.m, faq.DecisionAnswer, "")
	var ups []rawUpdate
	id := int64(1000)
	add := func(chat int64, text string) {
		u := e.fake.TextUpdate(chat, text)
		u.ID = id
		raw, _ := json.Marshal(u)
		ups = append(ups, rawUpdate{ID: id, ChatID: chat, Raw: raw})
		id++
	}
	for i := range n {
		uid := e.staffUser(fmt.Sprintf("s%d@example.org", i), fmt.Sprintf("Staff %d", i), "ordnungsamt")
		code, _, err := fs.CreateLinkCode(ctx, uid)
		must(t, err)
		add(int64(7000+i), "/start staff-"+code)
		add(int64(8000+i), question) // a citizen
	}
	for i := range n {
		add(int64(7000+i), question)
	}
	stored, _, err := s.updates.insert(ctx, ups, 0)
	must(t, err)
	if stored != len(ups) {
		t.Fatalf("stored %d of %d", stored, len(ups))
	}
	e.startWith(spy, cfg)
	for i := range n {
		got := e.waitSentTo(int64(7000+i), 2)
		if !strings.Contains(got[0].PlainText, "Verknüpft") || !strings.Contains(got[1].PlainText, "Mitarbeiterzugang") {
			t.Fatalf("staff chat %d got %q, %q", i, got[0].PlainText, got[1].PlainText)
		}
		e.waitSentTo(int64(8000+i), 1)
	}
	if c := e.count(`SELECT count(*) FROM citizens WHERE external_id LIKE '70%'`); c != 0 {
		t.Fatalf("%d citizen rows for staff chats", c)
	}
	if c := e.count(`SELECT count(*) FROM citizens WHERE external_id LIKE '80%'`); c != n {
		t.Fatalf("%d citizen rows for the citizens, want %d", c, n)
	}
	if c := e.count(`SELECT count(*) FROM fieldstaff_links`); c != n {
		t.Fatalf("%d links, want %d", c, n)
	}
}

// A staff chat that floods the bot is limited as a citizen's chat is
// (TestFloodProtection): one notice at the limit, then nothing is taken
// or answered until it slows down; an album counts as one message. The
// same holds for a deactivated user's refused chat and for a chat that
// sends link codes; citizens' chats are answered meanwhile.
func TestStaffChatFlood(t *testing.T) {
	ctx := context.Background()
	const limit, window = 5, 3 * time.Second
	e := newFieldEnvWith(t, func(c *Config) { c.FloodLimit = limit; c.FloodWindow = window })

	// Linking was message 1 of the window; photos 1-4 are answered, the
	// 5th reaches the limit, the rest are neither taken nor answered.
	for range 12 {
		e.fake.PushPhoto(annaChat, "")
	}
	got := e.expectExactly(annaChat, 1+(limit-1)+1)
	if !strings.Contains(got[limit].PlainText, "sehr viele Nachrichten") {
		t.Fatalf("message %d = %q, want the flood notice", limit+1, got[limit].PlainText)
	}
	for _, m := range got[1:limit] {
		if !strings.Contains(m.PlainText, "Außendienstmeldung") {
			t.Fatalf("before the limit: %q", m.PlainText)
		}
	}
	if n := e.draftPhotos(annaChat); n != limit-1 {
		t.Fatalf("photos in the draft = %d, want %d (none past the limit)", n, limit-1)
	}
	// A citizen is answered meanwhile.
	e.fake.PushText(730, "Hallo")
	e.expectExactly(730, 1)

	// After the window: an album of 8 photos is one message of the window.
	time.Sleep(window + 200*time.Millisecond)
	e.fake.PushAlbum(annaChat, 8, "Sperrmüll am Gehweg")
	e.fake.WaitDrained(t, 30*time.Second)
	got = e.expectExactly(annaChat, limit+2)
	if !strings.Contains(got[limit+1].PlainText, "Fotos: 5") {
		t.Fatalf("album reply = %q", got[limit+1].PlainText)
	}
	if n := e.draftPhotos(annaChat); n != limit-1+8 {
		t.Fatalf("photos in the draft = %d, want %d", n, limit-1+8)
	}

	// A deactivated user's refused chat, and a chat trying link codes.
	const bobChat, codeChat = 731, 732
	bob := e.staffUser("bob@example.org", "Bob", "ordnungsamt")
	e.link(bob, bobChat)
	var admin int64
	must(t, e.db.Get(&admin, `INSERT INTO users (email, name, password_hash, role) VALUES ('admin@example.org', 'Admin', 'x', 'admin') RETURNING id`))
	st := staff.New(e.db).WithCost(bcrypt.MinCost).WithDeactivateHook(e.fs.Deactivated)
	must(t, st.UpdateUser(ctx, admin, staff.UserUpdate{ID: bob, Name: "Bob", Role: "staff", Language: "de", Active: false, Departments: []string{"ordnungsamt"}}))
	for range 10 {
		e.fake.PushText(bobChat, "Hallo?")
		e.fake.PushText(codeChat, "/start staff-AAAAAAAAAA")
	}
	got = e.expectExactly(bobChat, 1+(limit-1)+1)
	if !strings.Contains(got[1].PlainText, "deaktiviert") || !strings.Contains(got[limit].PlainText, "sehr viele Nachrichten") {
		t.Fatalf("refused chat: %q ... %q", got[1].PlainText, got[limit].PlainText)
	}
	got = e.expectExactly(codeChat, limit+1)
	if !strings.Contains(got[0].PlainText, "ungültig") || !strings.Contains(got[limit].PlainText, "sehr viele Nachrichten") {
		t.Fatalf("code chat: %q ... %q", got[0].PlainText, got[limit].PlainText)
	}
	if c := e.count(`SELECT count(*) FROM citizens WHERE external_id IN ('731', '732')`); c != 0 {
		t.Fatalf("%d citizen rows for flooding staff chats", c)
	}
}

// /meinedaten of a linked staff chat lists what is linked: the account,
// the alert mode of each of the user's departments, the open field
// reports and the draft, and what is stored.
func TestStaffChatMyData(t *testing.T) {
	ctx := context.Background()
	e := newFieldEnv(t)
	e.db.MustExec(`INSERT INTO user_departments (user_id, department_id) VALUES ($1, 'bauamt')`, e.anna)
	must(t, e.fs.SetAlertModes(ctx, e.anna, map[string]string{"ordnungsamt": fieldstaff.AlertEach, "bauamt": fieldstaff.AlertDigest}))

	// One report sent, a second one as a draft.
	e.fake.PushLocation(annaChat, 51.3397, 12.3731)
	e.next(annaChat, 2)
	e.fake.PushPhoto(annaChat, "Wilder Müll am Waldweg")
	ask := e.next(annaChat, 3)
	e.fake.PushCallback(annaChat, ask.MessageID, ask.ReplyMarkup.CallbackData()[0])
	sent := e.next(annaChat, 4)
	var caseID int64
	must(t, e.db.Get(&caseID, `SELECT id FROM cases WHERE field_report AND field_report_by = $1`, e.anna))
	if !strings.Contains(sent.PlainText, "#"+strconv.FormatInt(caseID, 10)) {
		t.Fatalf("report sent = %q", sent.PlainText)
	}
	e.fake.PushPhoto(annaChat, "")
	e.next(annaChat, 5)

	e.fake.PushText(annaChat, "/meinedaten")
	got := e.next(annaChat, 6).PlainText
	for _, want := range []string{
		"Anna Außendienst", "anna@example.org", "Verknüpft seit",
		"Meldungen zu neuen Fällen", "rdnungsamt: jeder neue Fall einzeln / each new case", "Bauamt / Bauaufsicht: Sammelmeldung / digest",
		"Offene Außendienstmeldungen", "#" + strconv.FormatInt(caseID, 10),
		"Entwurf: 1 Foto(s)", "Gespeichert sind", "Stored are",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("/meinedaten lacks %q:\n%s", want, got)
		}
	}
	// A department switched off shows as such.
	must(t, e.fs.SetAlertModes(ctx, e.anna, map[string]string{"bauamt": fieldstaff.AlertOff}))
	e.fake.PushText(annaChat, "/mydata")
	if got := e.next(annaChat, 7).PlainText; !strings.Contains(got, "Bauamt / Bauaufsicht: aus / off") {
		t.Errorf("/mydata after switching off:\n%s", got)
	}
}
