package telegram

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"citybot/bot"
	"citybot/faq"
	"citybot/fieldstaff"
	"citybot/internal/demodata"
	"citybot/internal/tgfake"
	"citybot/routing"
	"citybot/staff"
)

// fieldEnv is an env with the demo departments and routing's real
// classifier, a Service whose linked staff chats make field reports, and a
// linked staff member (Anna, Ordnungsamt) in chat annaChat.
type fieldEnv struct {
	*env
	fs     *fieldstaff.Store
	cases  *routing.Cases
	router routing.Router
	anna   int64
	run    *running
	// mod changes the Service's config (nil: none).
	mod func(*Config)
}

const annaChat = 701

func newFieldEnv(t *testing.T) *fieldEnv { return newFieldEnvWith(t, nil) }

// newFieldEnvWith is newFieldEnv with mod applied to the Service's config.
func newFieldEnvWith(t *testing.T, mod func(*Config)) *fieldEnv {
	t.Helper()
	e := newEnv(t)
	ctx := context.Background()
	ds, err := faq.ReadDatasetFS(demodata.FS)
	must(t, err)
	_, err = faq.NewStore(e.db).Import(ctx, ds)
	must(t, err)
	router, err := routing.NewLiveRouter(ctx, e.db, bot.RoutingFAQ(faq.NewStore(e.db)))
	must(t, err)
	cal, err := routing.NewCalendar("NW")
	must(t, err)
	cases := routing.NewCases(e.db, routing.CasesOptions{})
	h := routing.NewHandoff(cases, cal, router, routing.HandoffOptions{})
	fe := &fieldEnv{env: e, fs: fieldstaff.New(e.db).WithDesk(h), cases: cases, router: router, mod: mod}
	fe.run = fe.startService()
	fe.anna = e.staffUser("anna@example.org", "Anna Außendienst", "ordnungsamt")
	fe.link(fe.anna, annaChat)
	return fe
}

func (e *fieldEnv) startService() *running {
	return e.start(e.config(func(c *Config) {
		c.StaffChats = e.fs
		if e.mod != nil {
			e.mod(c)
		}
	}))
}

// link links chat to user and waits for the bot's confirmation.
func (e *fieldEnv) link(user, chat int64) {
	e.t.Helper()
	code, _, err := e.fs.CreateLinkCode(context.Background(), user)
	must(e.t, err)
	n := len(e.fake.SentTo(chat))
	e.fake.PushText(chat, "/start staff-"+code)
	if got := e.waitSentTo(chat, n+1); !strings.Contains(got[n].PlainText, "Verknüpft") {
		e.t.Fatalf("link reply = %q", got[n].PlainText)
	}
}

// next pushes nothing; it waits for the chat's message number n (1-based)
// and returns it.
func (e *fieldEnv) next(chat int64, n int) tgfake.SentMessage {
	e.t.Helper()
	return e.waitSentTo(chat, n)[n-1]
}

func (e *fieldEnv) draftPhotos(chat int64) int {
	e.t.Helper()
	return e.count(`SELECT coalesce((SELECT jsonb_array_length(photos) FROM fieldstaff_drafts WHERE chat_id = $1), -1)`, chat)
}

// TestFieldReportAlbumAndLocation: a linked staff member sends a position
// and an album of three photos with a caption; the bot asks once for the
// department, the classifier's suggestion first; bogus buttons and a
// button pressed in another chat change nothing; the choice opens one
// field report case with all photos, the text and the position; the
// reporter gets the case number, sees it in /meinedaten, and is told when
// staff close it. Nothing of it reaches the citizen tables of the chat.
func TestFieldReportAlbumAndLocation(t *testing.T) {
	e := newFieldEnv(t)
	ctx := context.Background()
	const text = "Illegale Müllablagerung, Sperrmüll und Altreifen am Waldweg"

	e.fake.PushVenue(annaChat, 51.3397, 12.3731, "Waldweg Parkplatz", "Waldweg 3")
	if m := e.next(annaChat, 2); !strings.Contains(m.PlainText, "Es fehlt noch") || !strings.Contains(m.PlainText, "Fotos") {
		t.Fatalf("after the position: %q", m.PlainText)
	}
	e.fake.PushAlbum(annaChat, 3, text)
	ask := e.next(annaChat, 3)
	if !strings.Contains(ask.PlainText, "Fachbereich") {
		t.Fatalf("department question = %q", ask.PlainText)
	}
	e.expectExactly(annaChat, 3) // the album's other photos are taken in silently
	waitFor(t, "three photos in the draft", func() bool { return e.draftPhotos(annaChat) == 3 })

	data := ask.ReplyMarkup.CallbackData()
	var draftID int64
	must(t, e.db.Get(&draftID, `SELECT id FROM fieldstaff_drafts WHERE chat_id = $1`, annaChat))
	prefix := "fr:" + strconv.FormatInt(draftID, 10) + ":"
	suggested := e.router.Rank(text, nil)[0]
	if len(data) < 3 || data[0] != prefix+suggested || data[len(data)-1] != prefix+"x" {
		t.Fatalf("buttons = %q, want %q first", data, prefix+suggested)
	}
	firstLabel := ask.ReplyMarkup.InlineKeyboard[0][0].Text
	var suggestedName string
	must(t, e.db.Get(&suggestedName, `SELECT name FROM departments WHERE id = $1`, suggested))
	if !strings.Contains(firstLabel, suggestedName) || !strings.Contains(firstLabel, "Vorschlag") {
		t.Fatalf("first button %q, want the classifier's %q marked as suggestion", firstLabel, suggestedName)
	}

	// More text after the question: asked again; the first question's
	// buttons still mean what they say.
	e.fake.PushText(annaChat, "Liegt teils auf dem Gehweg.")
	if m := e.next(annaChat, 4); !strings.Contains(m.PlainText, "Fachbereich") || len(m.ReplyMarkup.CallbackData()) != len(data) {
		t.Fatalf("asked again = %q", m.PlainText)
	}

	// Hostile presses: bogus data, an index beyond the offer, another
	// chat's press of Anna's button (a linked colleague and a citizen).
	for i, d := range []string{"fr:", "fr:abc:bauamt", prefix + "nope", prefix + "#99", prefix + "#-1", prefix + "#01", prefix, "fr:999999999:bauamt"} {
		e.fake.PushCallback(annaChat, ask.MessageID, d)
		m := e.next(annaChat, 5+i)
		if !strings.Contains(m.PlainText, "ungültig") && !strings.Contains(m.PlainText, "schon gesendet") {
			t.Fatalf("press %q answered %q", d, m.PlainText)
		}
	}
	const bobChat = 702
	bob := e.staffUser("bob@example.org", "Bob", "bauamt")
	e.link(bob, bobChat)
	e.fake.PushCallback(bobChat, ask.MessageID, prefix+suggested)
	if m := e.next(bobChat, 2); !strings.Contains(m.PlainText, "schon gesendet") {
		t.Fatalf("a colleague pressing Anna's button: %q", m.PlainText)
	}
	const citizenChat = 703
	e.fake.PushCallback(citizenChat, ask.MessageID, prefix+suggested)
	e.fake.WaitDrained(t, 20*time.Second)
	if n := e.count(`SELECT count(*) FROM cases`); n != 0 {
		t.Fatalf("cases after hostile presses: %d", n)
	}
	if e.draftPhotos(annaChat) != 3 {
		t.Fatal("the draft changed")
	}

	// The choice.
	n := len(e.fake.SentTo(annaChat))
	e.fake.PushCallback(annaChat, ask.MessageID, prefix+suggested)
	done := e.next(annaChat, n+1)
	var c struct {
		ID     int64  `db:"id"`
		Dept   string `db:"department_id"`
		By     int64  `db:"field_report_by"`
		Reason string `db:"reason"`
		Chan   string `db:"channel"`
	}
	must(t, e.db.Get(&c, `SELECT c.id, c.department_id, c.field_report_by, c.reason, ci.channel
		FROM cases c JOIN citizens ci ON ci.id = c.citizen_id WHERE c.field_report`))
	if c.Dept != suggested || c.By != e.anna || c.Reason != routing.ReasonFieldReport || c.Chan != routing.ChannelFieldStaff {
		t.Fatalf("case = %+v, want department %s by %d", c, suggested, e.anna)
	}
	if !strings.Contains(done.PlainText, "#"+strconv.FormatInt(c.ID, 10)) {
		t.Fatalf("confirmation %q lacks the case number %d", done.PlainText, c.ID)
	}
	if got := e.count(`SELECT count(*) FROM case_messages cm JOIN messages m ON m.id = cm.message_id
		WHERE cm.case_id = $1 AND m.kind = 'photo' AND m.media->>'file_id' <> ''`, c.ID); got != 3 {
		t.Fatalf("photos in the case: %d", got)
	}
	if got := e.count(`SELECT count(*) FROM case_messages cm JOIN messages m ON m.id = cm.message_id
		WHERE cm.case_id = $1 AND m.kind = 'location' AND (m.media->>'latitude')::float8 = 51.3397
		AND m.media->>'title' = 'Waldweg Parkplatz'`, c.ID); got != 1 {
		t.Fatalf("positions in the case: %d", got)
	}
	if got := e.count(`SELECT count(*) FROM case_messages cm JOIN messages m ON m.id = cm.message_id
		WHERE cm.case_id = $1 AND m.kind = 'text' AND m.text = $2`, c.ID, text+"\nLiegt teils auf dem Gehweg."); got != 1 {
		t.Fatalf("text in the case: %d", got)
	}
	if got := e.count(`SELECT count(*) FROM fieldstaff_drafts`); got != 0 {
		t.Fatalf("drafts left: %d", got)
	}
	if got := e.count(`SELECT count(*) FROM citizens WHERE channel = 'telegram' AND external_id IN ('701', '702')`); got != 0 {
		t.Fatalf("citizen rows for staff chats: %d", got)
	}
	waitFor(t, "the buttons removed", func() bool { m, _ := e.fake.Message(annaChat, ask.MessageID); return m.Edits > 0 })
	// Pressing again: sent already, no second case.
	e.fake.PushCallback(annaChat, ask.MessageID, prefix+suggested)
	if m := e.next(annaChat, n+2); !strings.Contains(m.PlainText, "schon gesendet") {
		t.Fatalf("second press: %q", m.PlainText)
	}
	// The photos are served to the inbox like a citizen's.
	var fileID string
	must(t, e.db.Get(&fileID, `SELECT m.media->>'file_id' FROM case_messages cm JOIN messages m ON m.id = cm.message_id
		WHERE cm.case_id = $1 AND m.kind = 'photo' ORDER BY m.id LIMIT 1`, c.ID))
	rc, err := e.run.OpenFile(ctx, routing.ChannelFieldStaff, fileID)
	must(t, err)
	rc.Close()

	// /meinedaten lists the open report.
	e.fake.PushText(annaChat, "/meinedaten")
	if m := e.next(annaChat, n+3); !strings.Contains(m.PlainText, "#"+strconv.FormatInt(c.ID, 10)) {
		t.Fatalf("/meinedaten = %q", m.PlainText)
	}

	// Staff of the department close it: Anna is told, through the outbox.
	v := staff.Principal{ID: bob, Role: staff.RoleAdmin}
	must(t, e.cases.Close(ctx, v, c.ID))
	if m := e.next(annaChat, n+4); !strings.Contains(m.PlainText, "erledigt") || !strings.Contains(m.PlainText, "#"+strconv.FormatInt(c.ID, 10)) {
		t.Fatalf("close notice = %q", m.PlainText)
	}
	// No reply can go to a report (there is no citizen chat).
	must(t, e.cases.Reopen(ctx, v, c.ID))
	if _, err := e.cases.Reply(ctx, v, c.ID, "Hallo", nil); err == nil {
		t.Fatal("a reply to a field report was accepted")
	}
}

// pngFile is a PNG's signature: enough for a file the bot only stores.
var pngFile = []byte("\x89PNG\r\n\x1a\nfake")

// TestFieldReportDraftCommands: /abbrechen discards the draft; a draft
// survives a restart; /senden sends a report of text only; an album beyond
// the photo limit is told once and keeps the first photos; a photo of a
// chat that is not linked is a citizen's as before.
func TestFieldReportDraftCommands(t *testing.T) {
	e := newFieldEnv(t)

	e.fake.PushPhoto(annaChat, "Umgestürzter Baum")
	if m := e.next(annaChat, 2); !strings.Contains(m.PlainText, "Standort") {
		t.Fatalf("after a photo: %q", m.PlainText)
	}
	e.fake.PushText(annaChat, "/abbrechen")
	if m := e.next(annaChat, 3); !strings.Contains(m.PlainText, "verworfen") {
		t.Fatalf("/abbrechen = %q", m.PlainText)
	}
	if e.draftPhotos(annaChat) != -1 {
		t.Fatal("draft kept after /abbrechen")
	}
	e.fake.PushText(annaChat, "/senden")
	if m := e.next(annaChat, 4); !strings.Contains(m.PlainText, "keinen Entwurf") {
		t.Fatalf("/senden without draft = %q", m.PlainText)
	}

	// A draft survives a restart.
	e.fake.PushText(annaChat, "Schlagloch vor Hausnummer 12, etwa 20 cm tief")
	if m := e.next(annaChat, 5); !strings.Contains(m.PlainText, "Zeichen") {
		t.Fatalf("after text: %q", m.PlainText)
	}
	e.run.stop()
	e.run = e.startService()
	e.fake.PushText(annaChat, "/senden")
	ask := e.next(annaChat, 6)
	data := ask.ReplyMarkup.CallbackData()
	if len(data) < 2 {
		t.Fatalf("no department buttons after restart: %q", ask.PlainText)
	}
	e.fake.PushCallback(annaChat, ask.MessageID, data[0])
	if m := e.next(annaChat, 7); !strings.Contains(m.PlainText, "Meldung #") {
		t.Fatalf("choice = %q", m.PlainText)
	}
	if got := e.count(`SELECT count(*) FROM cases c JOIN case_messages cm ON cm.case_id = c.id JOIN messages m ON m.id = cm.message_id
		WHERE c.field_report AND m.text LIKE 'Schlagloch%'`); got != 1 {
		t.Fatalf("text-only report: %d", got)
	}

	// A huge album: the first MaxFieldReportPhotos photos, one notice.
	e.fake.PushAlbum(annaChat, routing.MaxFieldReportPhotos+5, "")
	e.fake.WaitDrained(t, 30*time.Second)
	got := e.expectExactly(annaChat, 9)
	if !strings.Contains(got[8].PlainText, "höchstens") {
		t.Fatalf("limit notice = %q", got[8].PlainText)
	}
	if n := e.draftPhotos(annaChat); n != routing.MaxFieldReportPhotos {
		t.Fatalf("photos in the draft = %d", n)
	}

	// A photo sent as a file is a photo (the draft is full: told so); a
	// voice message is not lost silently.
	e.fake.PushDocument(annaChat, "baum.png", pngFile, "")
	if m := e.next(annaChat, 10); !strings.Contains(m.PlainText, "höchstens") {
		t.Fatalf("image file = %q", m.PlainText)
	}
	e.fake.PushVoice(annaChat, 3)
	if m := e.next(annaChat, 11); !strings.Contains(m.PlainText, "nicht übernommen") {
		t.Fatalf("voice = %q", m.PlainText)
	}
	e.fake.PushText(annaChat, "/abbrechen")
	e.next(annaChat, 12)
	e.fake.PushDocument(annaChat, "baum.png", pngFile, "Baum")
	if m := e.next(annaChat, 13); !strings.Contains(m.PlainText, "Fotos: 1") {
		t.Fatalf("image file in a new draft = %q", m.PlainText)
	}

	// Unlinking ends the draft with the link.
	e.fake.PushText(annaChat, "/abmelden")
	e.next(annaChat, 14)
	if got := e.count(`SELECT count(*) FROM fieldstaff_drafts`); got != 0 {
		t.Fatalf("drafts after unlinking: %d", got)
	}

	// A chat that is not linked sending a photo is a citizen as before.
	const citizen = 720
	e.fake.PushPhoto(citizen, "Müll am Straßenrand")
	e.waitSentTo(citizen, 1)
	if got := e.count(`SELECT count(*) FROM citizens ci JOIN messages m ON m.citizen_id = ci.id
		WHERE ci.channel = 'telegram' AND ci.external_id = '720' AND m.kind = 'photo'`); got != 1 {
		t.Fatalf("citizen photo rows = %d", got)
	}
	if got := e.count(`SELECT count(*) FROM fieldstaff_drafts`); got != 0 {
		t.Fatalf("a citizen's photo made a draft")
	}
}
