package routing_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"citybot/internal/db"
	"citybot/internal/dbtest"
	"citybot/internal/tgtext"
	"citybot/routing"
	"citybot/staff"
)

type fixture struct {
	t     *testing.T
	ctx   context.Context
	db    *sqlx.DB
	url   string
	store *routing.Store
	cases *routing.Cases

	admin, bau, bau2, ord staff.Principal
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	d, url := dbtest.NewWithURL(t)
	f := &fixture{t: t, ctx: context.Background(), db: d, url: url, store: routing.NewStore(d), cases: routing.NewCases(d, routing.CasesOptions{})}
	f.exec(`INSERT INTO departments (id, name, keywords, is_fallback) VALUES
		('zentrale', 'Zentrale / Bürgerservice', '{Rathaus}', true),
		('bauamt', 'Bauamt / Bauaufsicht', '{Bauantrag,Baugenehmigung}', false),
		('ordnungsamt', 'Ordnungsamt', '{Lärm,Parken}', false)`)
	f.admin = f.user("admin@example.org", staff.RoleAdmin)
	f.bau = f.user("bau@example.org", staff.RoleStaff, "bauamt")
	f.bau2 = f.user("bau2@example.org", staff.RoleStaff, "bauamt")
	f.ord = f.user("ord@example.org", staff.RoleEditor, "ordnungsamt")
	return f
}

func (f *fixture) exec(q string, args ...any) {
	f.t.Helper()
	if _, err := f.db.ExecContext(f.ctx, q, args...); err != nil {
		f.t.Fatalf("%s: %v", q, err)
	}
}

func (f *fixture) count(q string, args ...any) int {
	f.t.Helper()
	var n int
	if err := f.db.GetContext(f.ctx, &n, q, args...); err != nil {
		f.t.Fatalf("%s: %v", q, err)
	}
	return n
}

func (f *fixture) user(email, role string, depts ...string) staff.Principal {
	f.t.Helper()
	var id int64
	if err := f.db.GetContext(f.ctx, &id, `INSERT INTO users (email, name, password_hash, role) VALUES ($1, $1, 'x', $2) RETURNING id`, email, role); err != nil {
		f.t.Fatal(err)
	}
	for _, d := range depts {
		f.exec(`INSERT INTO user_departments (user_id, department_id) VALUES ($1, $2)`, id, d)
	}
	return staff.Principal{ID: id, Role: role, Departments: depts}
}

func (f *fixture) citizen(ext string) routing.Citizen {
	f.t.Helper()
	c, err := f.store.TouchCitizen(f.ctx, routing.ChannelTelegram, ext, "de")
	if err != nil {
		f.t.Fatal(err)
	}
	return c
}

func (f *fixture) say(c routing.Citizen, text string) routing.Message {
	f.t.Helper()
	m, err := f.store.AddMessage(f.ctx, routing.Message{CitizenID: c.ID, Direction: routing.DirectionIn, Sender: routing.SenderCitizen, Kind: routing.KindText, Text: text})
	if err != nil {
		f.t.Fatal(err)
	}
	return m
}

func (f *fixture) open(c routing.Citizen, dept, question string) routing.Case {
	f.t.Helper()
	f.say(c, question)
	cs, err := f.cases.Open(f.ctx, c.ID, dept, routing.ReasonNoMatch, routing.OpenOptions{})
	if err != nil {
		f.t.Fatal(err)
	}
	return cs
}

func (f *fixture) status(id int64) string {
	f.t.Helper()
	c, err := f.cases.Get(f.ctx, f.admin, id)
	if err != nil {
		f.t.Fatal(err)
	}
	return c.Status
}

func ids(page []routing.CaseSummary) []int64 {
	out := make([]int64, len(page))
	for i, c := range page {
		out[i] = c.ID
	}
	return out
}

func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Errorf("%s: err = %v, want %v", what, err, want)
	}
}

func TestOpenCase(t *testing.T) {
	f := newFixture(t)
	c := f.citizen("100")
	f.say(c, "Hallo")
	if _, err := f.store.Send(f.ctx, c, routing.Message{Text: "Wie kann ich helfen?"}, routing.Payload{Text: "Wie kann ich helfen?"}); err != nil {
		t.Fatal(err)
	}
	f.say(c, "Nebenan wird ohne Bauschild gebaut")
	cs, err := f.cases.Open(f.ctx, c.ID, "bauamt", routing.ReasonNoMatch, routing.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if cs.Status != routing.CaseWaiting || cs.Department != "bauamt" || cs.DepartmentName != "Bauamt / Bauaufsicht" ||
		cs.Subject != "Nebenan wird ohne Bauschild gebaut" || cs.Channel != routing.ChannelTelegram {
		t.Fatalf("case = %+v", cs)
	}
	tr, err := f.cases.Transcript(f.ctx, f.bau, cs.ID)
	if err != nil {
		t.Fatal(err)
	}
	var msgs, events int
	for _, it := range tr {
		if it.Message != nil {
			msgs++
		}
		if it.Event != nil {
			events++
			if it.Event.Kind != routing.EventOpened || it.Event.Details.String("reason") != routing.ReasonNoMatch {
				t.Errorf("event = %+v", it.Event)
			}
		}
	}
	if msgs != 3 || events != 1 {
		t.Fatalf("transcript has %d messages and %d events, want 3 and 1: %+v", msgs, events, tr)
	}

	// One open case per citizen.
	again, err := f.cases.Open(f.ctx, c.ID, "ordnungsamt", routing.ReasonRequested, routing.OpenOptions{Question: "noch was"})
	wantErr(t, "second open", err, routing.ErrCaseOpen)
	if again.ID != cs.ID {
		t.Errorf("second open returned case %d, want %d", again.ID, cs.ID)
	}
	_, err = f.cases.Open(f.ctx, f.citizen("101").ID, "nope", routing.ReasonNoMatch, routing.OpenOptions{})
	wantErr(t, "unknown department", err, routing.ErrInvalid)
	_, err = f.cases.Open(f.ctx, 999999, "bauamt", routing.ReasonNoMatch, routing.OpenOptions{})
	wantErr(t, "unknown citizen", err, routing.ErrNotFound)

	// A later case of the same citizen gets only the messages since.
	if err := f.cases.Close(f.ctx, f.bau, cs.ID); err != nil {
		t.Fatal(err)
	}
	second, err := f.cases.Open(f.ctx, c.ID, "ordnungsamt", routing.ReasonRequested, routing.OpenOptions{Question: "Lärm nachts"})
	if err != nil {
		t.Fatal(err)
	}
	if second.Subject != "Lärm nachts" {
		t.Errorf("subject = %q", second.Subject)
	}
	if n := f.count(`SELECT count(*) FROM case_messages WHERE case_id = $1`, second.ID); n != 0 {
		t.Errorf("second case has %d messages of the first", n)
	}
}

// TestIsolation: staff of another department get ErrNotFound from every
// operation on a case, and do not see it in any list.
func TestIsolation(t *testing.T) {
	f := newFixture(t)
	cit := f.citizen("200")
	cs := f.open(cit, "bauamt", "Bauantrag Gartenhaus")
	ctx := f.ctx
	other := f.ord

	ops := map[string]func() error{
		"Get":        func() error { _, err := f.cases.Get(ctx, other, cs.ID); return err },
		"Transcript": func() error { _, err := f.cases.Transcript(ctx, other, cs.ID); return err },
		"Reply":      func() error { _, err := f.cases.Reply(ctx, other, cs.ID, "hallo", nil); return err },
		"AddNote":    func() error { return f.cases.AddNote(ctx, other, cs.ID, "notiz") },
		"Assign":     func() error { return f.cases.Assign(ctx, other, cs.ID, other.ID) },
		"Unassign":   func() error { return f.cases.Assign(ctx, other, cs.ID, 0) },
		"Transfer":   func() error { return f.cases.Transfer(ctx, other, cs.ID, "ordnungsamt", "meins") },
		"Close":      func() error { return f.cases.Close(ctx, other, cs.ID) },
		"Reopen":     func() error { return f.cases.Reopen(ctx, other, cs.ID) },
		"MarkRead":   func() error { return f.cases.MarkRead(ctx, other, cs.ID) },
	}
	for name, op := range ops {
		wantErr(t, name, op(), routing.ErrNotFound)
	}
	// Also when closed (Reopen's precondition) and for a non-existent case.
	if err := f.cases.Close(ctx, f.bau, cs.ID); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "Reopen closed", f.cases.Reopen(ctx, other, cs.ID), routing.ErrNotFound)
	if err := f.cases.Reopen(ctx, f.bau, cs.ID); err != nil {
		t.Fatal(err)
	}
	_, err := f.cases.Get(ctx, f.bau, cs.ID+1000)
	wantErr(t, "Get unknown", err, routing.ErrNotFound)

	for _, view := range []string{routing.ViewWaiting, routing.ViewMine, routing.ViewDepartments, routing.ViewClosed} {
		for _, dept := range []string{"", "bauamt"} {
			page, _, err := f.cases.List(ctx, other, routing.ListFilter{View: view, Department: dept})
			if err != nil {
				t.Fatal(err)
			}
			if len(page) != 0 {
				t.Errorf("%s/%s: other department sees %v", view, dept, ids(page))
			}
		}
	}
	page, _, err := f.cases.List(ctx, other, routing.ListFilter{View: routing.ViewWaiting, Query: fmt.Sprint(cs.ID)})
	if err != nil || len(page) != 0 {
		t.Errorf("search by number: %v %v", ids(page), err)
	}
	// Nothing changed, nothing was recorded for the other viewer.
	if n := f.count(`SELECT count(*) FROM case_events WHERE actor_user_id = $1`, other.ID); n != 0 {
		t.Errorf("%d events by the other viewer", n)
	}
	if n := f.count(`SELECT count(*) FROM outbox`); n != 0 {
		t.Errorf("%d outbox rows", n)
	}

	// The own department and admins see it.
	for _, v := range []staff.Principal{f.bau, f.bau2, f.admin} {
		if _, err := f.cases.Get(ctx, v, cs.ID); err != nil {
			t.Errorf("viewer %d: %v", v.ID, err)
		}
		page, _, err := f.cases.List(ctx, v, routing.ListFilter{View: routing.ViewWaiting})
		if err != nil || len(page) != 1 || page[0].ID != cs.ID {
			t.Errorf("viewer %d waiting list = %v %v", v.ID, ids(page), err)
		}
	}
	// A viewer without user or role is forbidden.
	_, err = f.cases.Get(ctx, staff.Principal{Role: staff.RoleAdmin}, cs.ID)
	wantErr(t, "no user", err, routing.ErrForbidden)
	_, _, err = f.cases.List(ctx, staff.Principal{ID: f.bau.ID, Role: "citizen", Departments: []string{"bauamt"}}, routing.ListFilter{})
	wantErr(t, "bad role", err, routing.ErrForbidden)
}

func TestStateMachine(t *testing.T) {
	f := newFixture(t)
	ctx := f.ctx
	cit := f.citizen("300")
	cs := f.open(cit, "bauamt", "Brauche ich eine Baugenehmigung für einen Carport?")

	step := func(name string, err error, want string) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got := f.status(cs.ID); got != want {
			t.Fatalf("after %s: status %s, want %s", name, got, want)
		}
	}
	wantErr(t, "assign to other department's staff", f.cases.Assign(ctx, f.bau, cs.ID, f.ord.ID), routing.ErrInvalid)
	step("assign", f.cases.Assign(ctx, f.bau, cs.ID, f.bau.ID), routing.CaseAssigned)
	step("unassign", f.cases.Assign(ctx, f.bau, cs.ID, 0), routing.CaseWaiting)
	step("assign colleague", f.cases.Assign(ctx, f.bau, cs.ID, f.bau2.ID), routing.CaseAssigned)
	_, err := f.cases.Reply(ctx, f.bau, cs.ID, "Ja, ab 30 m³.", nil)
	step("reply", err, routing.CaseAnswered)
	if c, _ := f.cases.Get(ctx, f.bau, cs.ID); c.AssigneeID == nil || *c.AssigneeID != f.bau2.ID {
		t.Fatalf("reply changed the assignee: %+v", c.AssigneeID)
	}
	m := f.say(cit, "Danke, und für ein Gartenhaus?")
	_, err = f.cases.AddCitizenMessage(ctx, cs.ID, m.ID)
	step("citizen message", err, routing.CaseAssigned)
	_, err = f.cases.AddCitizenMessage(ctx, cs.ID, m.ID) // redelivered
	step("same message again", err, routing.CaseAssigned)
	step("note", f.cases.AddNote(ctx, f.bau, cs.ID, "Rückfrage beim Kollegen"), routing.CaseAssigned)
	step("close", f.cases.Close(ctx, f.bau, cs.ID), routing.CaseClosed)
	wantErr(t, "close closed", f.cases.Close(ctx, f.bau, cs.ID), routing.ErrInvalid)
	_, err = f.cases.Reply(ctx, f.bau, cs.ID, "noch was", nil)
	wantErr(t, "reply closed", err, routing.ErrInvalid)
	wantErr(t, "assign closed", f.cases.Assign(ctx, f.bau, cs.ID, f.bau.ID), routing.ErrInvalid)
	wantErr(t, "transfer closed", f.cases.Transfer(ctx, f.bau, cs.ID, "ordnungsamt", ""), routing.ErrInvalid)
	step("reopen", f.cases.Reopen(ctx, f.bau, cs.ID), routing.CaseAssigned)
	wantErr(t, "reopen open", f.cases.Reopen(ctx, f.bau, cs.ID), routing.ErrInvalid)
	wantErr(t, "transfer to own", f.cases.Transfer(ctx, f.bau, cs.ID, "bauamt", ""), routing.ErrInvalid)
	wantErr(t, "transfer to unknown", f.cases.Transfer(ctx, f.bau, cs.ID, "nope", ""), routing.ErrInvalid)
	wantErr(t, "empty reply", func() error { _, err := f.cases.Reply(ctx, f.bau, cs.ID, "  ", nil); return err }(), routing.ErrInvalid)
	wantErr(t, "empty note", f.cases.AddNote(ctx, f.bau, cs.ID, ""), routing.ErrInvalid)

	// Unassigned reply: the replier takes the case.
	step("unassign again", f.cases.Assign(ctx, f.bau, cs.ID, 0), routing.CaseWaiting)
	_, err = f.cases.Reply(ctx, f.bau, cs.ID, "Für ein Gartenhaus bis 30 m³ nicht.", nil)
	step("reply unassigned", err, routing.CaseAnswered)
	if c, _ := f.cases.Get(ctx, f.bau, cs.ID); c.AssigneeID == nil || *c.AssigneeID != f.bau.ID {
		t.Fatalf("replier did not take the case: %+v", c.AssigneeID)
	}

	// Withdrawal by the citizen.
	w, err := f.cases.Withdraw(ctx, cit.ID)
	if err != nil || w.Status != routing.CaseClosed || w.CloseReason != routing.CloseWithdrawn {
		t.Fatalf("withdraw: %+v %v", w, err)
	}
	_, err = f.cases.Withdraw(ctx, cit.ID)
	wantErr(t, "withdraw twice", err, routing.ErrNotFound)

	var kinds []string
	if err := f.db.SelectContext(ctx, &kinds, `SELECT kind FROM case_events WHERE case_id = $1 ORDER BY id`, cs.ID); err != nil {
		t.Fatal(err)
	}
	want := []string{"opened", "assigned", "unassigned", "assigned", "replied", "note", "closed", "reopened", "unassigned", "replied", "withdrawn"}
	if fmt.Sprint(kinds) != fmt.Sprint(want) {
		t.Errorf("events = %v\nwant %v", kinds, want)
	}
	// Staff actions are in the audit log, without texts.
	if n := f.count(`SELECT count(*) FROM audit_log WHERE object_type = 'case' AND object_id = $1`, fmt.Sprint(cs.ID)); n != 9 {
		t.Errorf("%d audit rows, want 9", n)
	}
	if n := f.count(`SELECT count(*) FROM audit_log WHERE details::text LIKE '%Kollegen%'`); n != 0 {
		t.Error("note text in audit log")
	}
}

func TestReopenWindow(t *testing.T) {
	f := newFixture(t)
	ctx := f.ctx
	cit := f.citizen("400")
	cs := f.open(cit, "bauamt", "Frage")
	if _, err := f.cases.Reply(ctx, f.bau, cs.ID, "Antwort", nil); err != nil {
		t.Fatal(err)
	}
	if err := f.cases.Close(ctx, f.bau, cs.ID); err != nil {
		t.Fatal(err)
	}
	// Within the window: Active finds it, a message reopens it (assigned again).
	a, err := f.cases.Active(ctx, cit.ID)
	if err != nil || a.ID != cs.ID {
		t.Fatalf("active = %+v %v", a, err)
	}
	got, err := f.cases.AddCitizenMessage(ctx, cs.ID, f.say(cit, "Noch eine Frage").ID)
	if err != nil || got.Status != routing.CaseAssigned {
		t.Fatalf("reopen by message: %+v %v", got, err)
	}
	// After the window: not active, a message is the bot's.
	if err := f.cases.Close(ctx, f.bau, cs.ID); err != nil {
		t.Fatal(err)
	}
	f.exec(`UPDATE cases SET closed_at = now() - interval '73 hours' WHERE id = $1`, cs.ID)
	_, err = f.cases.Active(ctx, cit.ID)
	wantErr(t, "active after window", err, routing.ErrNotFound)
	_, err = f.cases.AddCitizenMessage(ctx, cs.ID, f.say(cit, "Hallo?").ID)
	wantErr(t, "message after window", err, routing.ErrNotFound)
	if f.status(cs.ID) != routing.CaseClosed {
		t.Fatal("reopened after the window")
	}
	// A shorter configured window.
	short := routing.NewCases(f.db, routing.CasesOptions{ReopenWindow: time.Hour})
	f.exec(`UPDATE cases SET closed_at = now() - interval '2 hours' WHERE id = $1`, cs.ID)
	if _, err := f.cases.Active(ctx, cit.ID); err != nil {
		t.Errorf("default window: %v", err)
	}
	_, err = short.Active(ctx, cit.ID)
	wantErr(t, "short window", err, routing.ErrNotFound)

	// Withdrawn cases never reopen.
	cit2 := f.citizen("401")
	cs2 := f.open(cit2, "bauamt", "Frage")
	if _, err := f.cases.Withdraw(ctx, cit2.ID); err != nil {
		t.Fatal(err)
	}
	_, err = f.cases.Active(ctx, cit2.ID)
	wantErr(t, "active withdrawn", err, routing.ErrNotFound)
	_, err = f.cases.AddCitizenMessage(ctx, cs2.ID, f.say(cit2, "doch noch").ID)
	wantErr(t, "message to withdrawn", err, routing.ErrNotFound)

	// A message of another citizen is refused.
	_, err = f.cases.AddCitizenMessage(ctx, cs.ID, f.say(cit2, "fremd").ID)
	wantErr(t, "foreign message", err, routing.ErrInvalid)
}

func TestMediaMessagesAndPreview(t *testing.T) {
	f := newFixture(t)
	cit := f.citizen("450")
	cs := f.open(cit, "ordnungsamt", "Auto parkt auf dem Gehweg")
	lat, lon := 51.5, 7.4
	for _, m := range []routing.Message{
		{Kind: routing.KindPhoto, Media: &routing.Media{Type: "photo", FileID: "AgAD1"}},
		{Kind: routing.KindDocument, Media: &routing.Media{Type: "document", FileID: "BQAD2", FileName: "anzeige.pdf"}},
		{Kind: routing.KindLocation, Media: &routing.Media{Type: "location", Latitude: &lat, Longitude: &lon}},
	} {
		m.CitizenID, m.Direction, m.Sender = cit.ID, routing.DirectionIn, routing.SenderCitizen
		stored, err := f.store.AddMessage(f.ctx, m)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.cases.AddCitizenMessage(f.ctx, cs.ID, stored.ID); err != nil {
			t.Fatal(err)
		}
	}
	c, _ := f.cases.Get(f.ctx, f.ord, cs.ID)
	if c.Preview != "[Standort]" {
		t.Errorf("preview = %q", c.Preview)
	}
	tr, err := f.cases.Transcript(f.ctx, f.ord, cs.ID)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, it := range tr {
		if it.Message != nil {
			kinds = append(kinds, it.Message.Kind)
		}
	}
	if fmt.Sprint(kinds) != "[text photo document location]" {
		t.Errorf("kinds = %v", kinds)
	}
}

func TestReplyOutbox(t *testing.T) {
	f := newFixture(t)
	ctx := f.ctx
	cit := f.citizen("500")
	cs := f.open(cit, "bauamt", "Frage")
	msgs, err := f.cases.Reply(ctx, f.bau, cs.ID, "Hier die Antwort <b>fett</b>", nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 1 || msgs[0].Sender != routing.SenderStaff || msgs[0].StaffUserID == nil || *msgs[0].StaffUserID != f.bau.ID {
		t.Fatalf("messages = %+v", msgs)
	}
	if n := f.count(`SELECT count(*) FROM outbox WHERE message_id = $1 AND chat_id = '500' AND channel = 'telegram'`, msgs[0].ID); n != 1 {
		t.Fatalf("%d outbox rows for the reply, want exactly 1", n)
	}
	if n := f.count(`SELECT count(*) FROM outbox`); n != 1 {
		t.Fatalf("%d outbox rows, want 1", n)
	}
	var p routing.Payload
	// Escaped for Telegram's HTML mode, below the department's name.
	if err := f.db.GetContext(ctx, &p, `SELECT payload FROM outbox`); err != nil ||
		p.Text != "<b>Bauamt / Bauaufsicht</b>\nHier die Antwort &lt;b&gt;fett&lt;/b&gt;" || p.Format != routing.FormatHTML {
		t.Fatalf("payload = %+v %v", p, err)
	}

	delivery := func() *routing.Delivery {
		t.Helper()
		tr, err := f.cases.Transcript(ctx, f.bau, cs.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range tr {
			if it.Message != nil && it.Message.ID == msgs[0].ID {
				if it.StaffName != "bau@example.org" {
					t.Errorf("staff name = %q", it.StaffName)
				}
				return it.Delivery
			}
		}
		t.Fatal("reply not in transcript")
		return nil
	}
	if d := delivery(); d == nil || d.Status != routing.OutboxPending {
		t.Fatalf("delivery = %+v", d)
	}
	f.exec(`UPDATE outbox SET status = 'failed', last_error = 'telegram: 400 Bad Request: chat not found'`)
	if d := delivery(); d == nil || d.Status != routing.OutboxFailed || d.Error != "telegram: 400 Bad Request: chat not found" {
		t.Fatalf("delivery = %+v", d)
	}
	f.exec(`UPDATE outbox SET status = 'sent', last_error = ''`)
	if d := delivery(); d == nil || d.Status != routing.OutboxSent {
		t.Fatalf("delivery = %+v", d)
	}

	// Text with an attachment: two messages, two outbox rows.
	msgs, err = f.cases.Reply(ctx, f.bau, cs.ID, "Das Formular:", []routing.Attachment{{Name: "antrag.pdf", MIME: "application/pdf", Data: []byte("%PDF-1.4")}})
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 2 || msgs[1].Kind != routing.KindDocument || msgs[1].Media == nil || msgs[1].Media.FileName != "antrag.pdf" {
		t.Fatalf("messages = %+v", msgs)
	}
	if n := f.count(`SELECT count(*) FROM outbox WHERE payload->'document'->>'name' = 'antrag.pdf'`); n != 1 {
		t.Fatalf("document outbox rows = %d", n)
	}
	if n := f.count(`SELECT count(*) FROM case_messages WHERE case_id = $1`, cs.ID); n != 4 {
		t.Fatalf("case has %d messages, want 4", n)
	}
	_, err = f.cases.Reply(ctx, f.bau, cs.ID, "", []routing.Attachment{{Name: "leer.pdf"}})
	wantErr(t, "empty attachment", err, routing.ErrInvalid)
}

func TestTransferAndLists(t *testing.T) {
	f := newFixture(t)
	ctx := f.ctx
	cit := f.citizen("600")
	cs := f.open(cit, "bauamt", "Falschparker vor der Einfahrt")
	if err := f.cases.Assign(ctx, f.bau, cs.ID, f.bau.ID); err != nil {
		t.Fatal(err)
	}
	list := func(v staff.Principal, view string) []int64 {
		t.Helper()
		page, _, err := f.cases.List(ctx, v, routing.ListFilter{View: view})
		if err != nil {
			t.Fatal(err)
		}
		return ids(page)
	}
	if got := list(f.bau, routing.ViewMine); len(got) != 1 {
		t.Fatalf("mine = %v", got)
	}
	if err := f.cases.Transfer(ctx, f.bau, cs.ID, "ordnungsamt", "Bitte übernehmen, Parken ist eure Sache."); err != nil {
		t.Fatal(err)
	}
	for _, view := range []string{routing.ViewWaiting, routing.ViewMine, routing.ViewDepartments} {
		if got := list(f.bau, view); len(got) != 0 {
			t.Errorf("bauamt %s still lists %v", view, got)
		}
	}
	_, err := f.cases.Get(ctx, f.bau, cs.ID)
	wantErr(t, "first department after transfer", err, routing.ErrNotFound)
	if got := list(f.ord, routing.ViewWaiting); len(got) != 1 || got[0] != cs.ID {
		t.Fatalf("ordnungsamt waiting = %v", got)
	}
	c, err := f.cases.Get(ctx, f.ord, cs.ID)
	if err != nil || c.AssigneeID != nil || c.Status != routing.CaseWaiting {
		t.Fatalf("transferred case = %+v %v", c, err)
	}
	// The citizen's wait goes on across the transfer: it is not reset.
	if !c.WaitingSince.Equal(cs.WaitingSince) {
		t.Errorf("waiting since %v after the transfer, was %v", c.WaitingSince, cs.WaitingSince)
	}
	tr, _ := f.cases.Transcript(ctx, f.ord, cs.ID)
	var note string
	for _, it := range tr {
		if it.Event != nil && it.Event.Kind == routing.EventTransferred {
			note = it.Event.Details.String("note")
			if it.Event.Details.String("from") != "bauamt" || it.Event.ActorName == nil {
				t.Errorf("transfer event = %+v", it.Event)
			}
		}
	}
	if note != "Bitte übernehmen, Parken ist eure Sache." {
		t.Errorf("transfer note = %q", note)
	}
	// The citizen is told where the request is now; the internal note is not sent.
	var told []string
	if err := f.db.SelectContext(ctx, &told, `SELECT payload->>'text' FROM outbox WHERE citizen_id = $1 ORDER BY id`, cit.ID); err != nil {
		t.Fatal(err)
	}
	if len(told) == 0 || !strings.Contains(told[len(told)-1], "Ordnungsamt") || strings.Contains(strings.Join(told, " "), "Parken ist eure Sache") {
		t.Errorf("citizen was told %q", told)
	}

	// The citizen chooses another department.
	moved, err := f.cases.ChangeDepartment(ctx, cit.ID, "zentrale")
	if err != nil || moved.Department != "zentrale" {
		t.Fatalf("change department: %+v %v", moved, err)
	}
	if got := list(f.ord, routing.ViewWaiting); len(got) != 0 {
		t.Errorf("ordnungsamt still lists %v", got)
	}
	_, err = f.cases.ChangeDepartment(ctx, f.citizen("601").ID, "zentrale")
	wantErr(t, "change without case", err, routing.ErrNotFound)
}

func TestListPaginationSearchUnread(t *testing.T) {
	f := newFixture(t)
	ctx := f.ctx
	var all []int64
	for i := range 7 {
		q := fmt.Sprintf("Frage Nummer %d zum Bauantrag", i)
		if i == 3 {
			q = "Nachbar baut ohne Bauschild, Amselweg 9"
		}
		all = append(all, f.open(f.citizen(fmt.Sprint(700+i)), "bauamt", q).ID)
	}
	// Waiting: oldest first, in pages of 3.
	var got []int64
	cursor := ""
	pages := 0
	for {
		page, next, err := f.cases.List(ctx, f.bau, routing.ListFilter{View: routing.ViewWaiting, Limit: 3, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		pages++
		got = append(got, ids(page)...)
		if next == "" {
			break
		}
		cursor = next
	}
	if pages != 3 || fmt.Sprint(got) != fmt.Sprint(all) {
		t.Fatalf("pages %d, waiting = %v, want %v", pages, got, all)
	}
	// Departments view: latest activity first.
	page, next, err := f.cases.List(ctx, f.bau, routing.ListFilter{View: routing.ViewDepartments, Limit: 4})
	if err != nil || next == "" || fmt.Sprint(ids(page)) != fmt.Sprint([]int64{all[6], all[5], all[4], all[3]}) {
		t.Fatalf("departments page 1 = %v %q %v", ids(page), next, err)
	}
	page, next, err = f.cases.List(ctx, f.bau, routing.ListFilter{View: routing.ViewDepartments, Limit: 4, Cursor: next})
	if err != nil || next != "" || fmt.Sprint(ids(page)) != fmt.Sprint([]int64{all[2], all[1], all[0]}) {
		t.Fatalf("departments page 2 = %v %q %v", ids(page), next, err)
	}
	_, _, err = f.cases.List(ctx, f.bau, routing.ListFilter{Cursor: "garbage!"})
	wantErr(t, "bad cursor", err, routing.ErrInvalid)
	_, _, err = f.cases.List(ctx, f.bau, routing.ListFilter{View: "everything"})
	wantErr(t, "bad view", err, routing.ErrInvalid)

	// Search in citizen texts: words, prefixes, case numbers, hostile input.
	for q, want := range map[string][]int64{
		"Bauschild":               {all[3]},
		"bausch amsel":            {all[3]},
		"bauantrag":               {all[0], all[1], all[2], all[4], all[5], all[6]},
		"#" + fmt.Sprint(all[2]):  {all[2]},
		"gibtsnicht":              nil,
		"') OR 1=1 --":            nil,
		"a & b | !c <-> d:* '\\'": nil,
	} {
		page, _, err := f.cases.List(ctx, f.bau, routing.ListFilter{View: routing.ViewWaiting, Query: q})
		if err != nil {
			t.Errorf("search %q: %v", q, err)
			continue
		}
		if fmt.Sprint(ids(page)) != fmt.Sprint(want) && !(len(page) == 0 && len(want) == 0) {
			t.Errorf("search %q = %v, want %v", q, ids(page), want)
		}
	}

	// Closed view, newest closed first.
	for _, id := range []int64{all[1], all[4]} {
		if err := f.cases.Close(ctx, f.bau, id); err != nil {
			t.Fatal(err)
		}
	}
	page, _, _ = f.cases.List(ctx, f.bau, routing.ListFilter{View: routing.ViewClosed})
	if fmt.Sprint(ids(page)) != fmt.Sprint([]int64{all[4], all[1]}) {
		t.Errorf("closed = %v", ids(page))
	}

	// Unread marks are per viewer.
	unread := func(v staff.Principal, id int64) bool {
		t.Helper()
		page, _, err := f.cases.List(ctx, v, routing.ListFilter{View: routing.ViewWaiting, Query: fmt.Sprint("#", id)})
		if err != nil || len(page) != 1 {
			t.Fatalf("list %d: %v %v", id, ids(page), err)
		}
		return page[0].Unread
	}
	if !unread(f.bau, all[0]) {
		t.Error("new case not unread")
	}
	if err := f.cases.MarkRead(ctx, f.bau, all[0]); err != nil {
		t.Fatal(err)
	}
	if unread(f.bau, all[0]) || !unread(f.bau2, all[0]) {
		t.Error("read mark not per viewer")
	}
	var citizenID int64
	if err := f.db.GetContext(ctx, &citizenID, `SELECT citizen_id FROM cases WHERE id = $1`, all[0]); err != nil {
		t.Fatal(err)
	}
	m, err := f.store.AddMessage(ctx, routing.Message{CitizenID: citizenID, Direction: routing.DirectionIn, Sender: routing.SenderCitizen, Kind: routing.KindText, Text: "Hallo?"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.cases.AddCitizenMessage(ctx, all[0], m.ID); err != nil {
		t.Fatal(err)
	}
	if !unread(f.bau, all[0]) {
		t.Error("new citizen message did not make the case unread")
	}
	if n := f.count(`SELECT count(*) FROM audit_log WHERE action = 'case.viewed'`); n != 1 {
		t.Errorf("%d viewed audit rows", n)
	}
}

func TestNotifications(t *testing.T) {
	f := newFixture(t)
	l := pq.NewListener(f.url, 10*time.Millisecond, time.Second, nil)
	defer l.Close()
	if err := l.Listen(routing.NotifyChannel); err != nil {
		t.Fatal(err)
	}
	next := func() routing.CaseNotification {
		t.Helper()
		select {
		case n := <-l.Notify:
			var cn routing.CaseNotification
			if err := json.Unmarshal([]byte(n.Extra), &cn); err != nil {
				t.Fatal(err)
			}
			return cn
		case <-time.After(5 * time.Second):
			t.Fatal("no notification")
		}
		return routing.CaseNotification{}
	}
	cit := f.citizen("800")
	cs := f.open(cit, "bauamt", "Frage")
	if n := next(); n.CaseID != cs.ID || n.Department != "bauamt" || n.Kind != routing.EventOpened {
		t.Fatalf("open: %+v", n)
	}
	if _, err := f.cases.AddCitizenMessage(f.ctx, cs.ID, f.say(cit, "noch was").ID); err != nil {
		t.Fatal(err)
	}
	if n := next(); n.Kind != routing.EventMessage {
		t.Fatalf("message: %+v", n)
	}
	if err := f.cases.Transfer(f.ctx, f.bau, cs.ID, "ordnungsamt", ""); err != nil {
		t.Fatal(err)
	}
	if n := next(); n.Kind != routing.EventTransferred || n.Department != "ordnungsamt" || n.From != "bauamt" {
		t.Fatalf("transfer: %+v", n)
	}
	// A failed operation notifies nothing.
	_ = f.cases.Close(f.ctx, f.bau, cs.ID)
	if err := f.cases.Close(f.ctx, f.ord, cs.ID); err != nil {
		t.Fatal(err)
	}
	if n := next(); n.Kind != routing.EventClosed || n.Department != "ordnungsamt" {
		t.Fatalf("close: %+v", n)
	}
}

// TestInCallerTransaction: the bot runs the citizen side in the transaction
// of the inbound message; refusals must leave that transaction usable.
func TestInCallerTransaction(t *testing.T) {
	f := newFixture(t)
	ctx := f.ctx
	cit := f.citizen("1100")
	cs := f.open(cit, "bauamt", "Frage")
	if err := f.cases.Close(ctx, f.bau, cs.ID); err != nil {
		t.Fatal(err)
	}
	f.exec(`UPDATE cases SET closed_at = now() - interval '100 hours' WHERE id = $1`, cs.ID)
	var msgID int64
	err := db.InTx(ctx, f.db, func(tx *sqlx.Tx) error {
		m, err := f.store.WithTx(tx).AddMessage(ctx, routing.Message{CitizenID: cit.ID, Direction: routing.DirectionIn, Sender: routing.SenderCitizen, Kind: routing.KindText, Text: "wieder da"})
		if err != nil {
			return err
		}
		msgID = m.ID
		cases := f.cases.WithTx(tx)
		if _, err := cases.Active(ctx, cit.ID); !errors.Is(err, routing.ErrNotFound) {
			t.Errorf("active: %v", err)
		}
		if _, err := cases.AddCitizenMessage(ctx, cs.ID, m.ID); !errors.Is(err, routing.ErrNotFound) {
			t.Errorf("add to expired: %v", err)
		}
		if _, err := cases.ChangeDepartment(ctx, cit.ID, "zentrale"); !errors.Is(err, routing.ErrNotFound) {
			t.Errorf("change without open case: %v", err)
		}
		if _, err := cases.Withdraw(ctx, cit.ID); !errors.Is(err, routing.ErrNotFound) {
			t.Errorf("withdraw without open case: %v", err)
		}
		// The bot goes on and hands the message off anew.
		n, err := cases.Open(ctx, cit.ID, "ordnungsamt", routing.ReasonNoMatch, routing.OpenOptions{})
		if err != nil {
			return err
		}
		if _, err := cases.ChangeDepartment(ctx, cit.ID, "nope"); !errors.Is(err, routing.ErrInvalid) {
			t.Errorf("change to unknown: %v", err)
		}
		if _, err := cases.Open(ctx, cit.ID, "bauamt", routing.ReasonNoMatch, routing.OpenOptions{}); !errors.Is(err, routing.ErrCaseOpen) {
			t.Errorf("second open: %v", err)
		}
		_, err = cases.AddCitizenMessage(ctx, n.ID, m.ID) // already in the transcript
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := f.count(`SELECT count(*) FROM case_messages WHERE message_id = $1`, msgID); n != 1 {
		t.Errorf("message linked %d times", n)
	}
	if n := f.count(`SELECT count(*) FROM case_messages WHERE case_id = $1 AND message_id = $2`, cs.ID, msgID); n != 0 {
		t.Error("message linked to the expired case")
	}
	if f.status(cs.ID) != routing.CaseClosed {
		t.Error("expired case reopened")
	}
}

func TestSubjectSkipsCommands(t *testing.T) {
	f := newFixture(t)
	cit := f.citizen("1200")
	f.say(cit, "Wann wird mein Sperrmüll abgeholt?")
	f.say(cit, "/mitarbeiter")
	cs, err := f.cases.Open(f.ctx, cit.ID, "zentrale", routing.ReasonRequested, routing.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if cs.Subject != "Wann wird mein Sperrmüll abgeholt?" || cs.Preview != cs.Subject {
		t.Errorf("subject %q preview %q", cs.Subject, cs.Preview)
	}
}

// A reply longer than Telegram's limit goes out in parts on paragraph
// boundaries, each within the limit; the stored message is the whole text.
func TestLongReplySplit(t *testing.T) {
	f := newFixture(t)
	ctx := f.ctx
	cit := f.citizen("510")
	cs := f.open(cit, "bauamt", "Frage")
	para := strings.TrimSpace(strings.Repeat("Die Unterlagen & Pläne <A3> bitte vollständig einreichen. ", 40))
	var paras []string
	for range 6 {
		paras = append(paras, para)
	}
	text := strings.Join(paras, "\n\n") // about 14,000 characters
	text = text[:routing.MaxReplyLength-10]
	msgs, err := f.cases.Reply(ctx, f.bau, cs.ID, text, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 1 || msgs[0].Text != text {
		t.Fatalf("stored %d messages", len(msgs))
	}
	var ps []routing.Payload
	if err := f.db.SelectContext(ctx, &ps, `SELECT payload FROM outbox WHERE message_id = $1 ORDER BY id`, msgs[0].ID); err != nil {
		t.Fatal(err)
	}
	if len(ps) < 3 {
		t.Fatalf("%d parts, want at least 3", len(ps))
	}
	var plain []string
	for i, p := range ps {
		s := html.UnescapeString(strings.ReplaceAll(strings.ReplaceAll(p.Text, "<b>", ""), "</b>", ""))
		if n := tgtext.UTF16Len(s); n > tgtext.TelegramTextLimit {
			t.Errorf("part %d: %d UTF-16 units", i, n)
		}
		if i == 0 {
			if !strings.HasPrefix(p.Text, "<b>Bauamt / Bauaufsicht</b>\n") {
				t.Errorf("first part without the department: %.60q", p.Text)
			}
			s = strings.TrimPrefix(s, "Bauamt / Bauaufsicht\n")
		} else if strings.Contains(p.Text, "<b>") {
			t.Errorf("part %d repeats the header", i)
		}
		plain = append(plain, s)
	}
	if got := strings.Join(strings.Fields(strings.Join(plain, " ")), " "); got != strings.Join(strings.Fields(text), " ") {
		t.Errorf("the parts do not add up to the reply")
	}
}

// Two colleagues take the same waiting case at the same moment (the inbox's
// "Mir zuweisen" or the alert's "Übernehmen"): the case lock orders them, so
// the case ends with one of them, and the history names the first as the
// previous assignee of the second. Without the lock both would see the case
// unassigned and the takeover would be lost from the history.
func TestAssignConcurrent(t *testing.T) {
	f := newFixture(t)
	for round := 0; round < 10; round++ {
		cs := f.open(f.citizen(fmt.Sprintf("race-%d", round)), "bauamt", "Wer genehmigt den Carport?")
		start := make(chan struct{})
		errs := make(chan error, 2)
		for _, p := range []staff.Principal{f.bau, f.bau2} {
			go func(p staff.Principal) {
				<-start
				errs <- f.cases.Assign(f.ctx, p, cs.ID, p.ID)
			}(p)
		}
		close(start)
		for i := 0; i < 2; i++ {
			if err := <-errs; err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
		}
		var events []struct {
			User     int64         `db:"user_id"`
			Previous sql.NullInt64 `db:"previous"`
		}
		if err := f.db.SelectContext(f.ctx, &events, `
			SELECT (details->>'user_id')::bigint AS user_id, (details->>'previous')::bigint AS previous
			FROM case_events WHERE case_id = $1 AND kind = 'assigned' ORDER BY id`, cs.ID); err != nil {
			t.Fatal(err)
		}
		if len(events) != 2 {
			t.Fatalf("round %d: %d assigned events, want 2: %+v", round, len(events), events)
		}
		first, second := events[0], events[1]
		if first.Previous.Valid || !second.Previous.Valid || second.Previous.Int64 != first.User || second.User == first.User {
			t.Fatalf("round %d: history %+v, want the second to take over from the first", round, events)
		}
		var assignee int64
		if err := f.db.GetContext(f.ctx, &assignee, `SELECT assignee_id FROM cases WHERE id = $1`, cs.ID); err != nil {
			t.Fatal(err)
		}
		if assignee != second.User || f.status(cs.ID) != routing.CaseAssigned {
			t.Fatalf("round %d: case with %d (%s), want %d assigned", round, assignee, f.status(cs.ID), second.User)
		}
	}
}
