package routing_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"citybot/internal/db"
	"citybot/routing"
)

type fakeRouter []string

func (r fakeRouter) Rank(string, []routing.Candidate) []string { return r }

func newHandoff(t *testing.T, f *fixture, r routing.Router, now string) *routing.Handoff {
	t.Helper()
	cal, err := routing.NewCalendar("NW")
	if err != nil {
		t.Fatal(err)
	}
	at, err := time.ParseInLocation("2006-01-02 15:04", now, cal.Location())
	if err != nil {
		t.Fatal(err)
	}
	return routing.NewHandoff(f.cases, cal, r, routing.HandoffOptions{Now: func() time.Time { return at }})
}

func TestHandoff(t *testing.T) {
	f := newFixture(t)
	ctx := f.ctx
	if err := routing.ApplyDemoOfficeHours(ctx, f.db); err != nil {
		t.Fatal(err)
	}
	// Karfreitag: the Bauamt is closed until Tuesday 8:00.
	h := newHandoff(t, f, fakeRouter{"nope", "bauamt", "ordnungsamt"}, "2026-04-03 10:00")
	cit := f.citizen("1000")

	// In the bot's transaction: the inbound message, then the handoff.
	var res routing.HandoffResult
	err := db.InTx(ctx, f.db, func(tx *sqlx.Tx) error {
		if _, err := f.store.WithTx(tx).AddMessage(ctx, routing.Message{CitizenID: cit.ID, Direction: routing.DirectionIn, Sender: routing.SenderCitizen, Kind: routing.KindText, Text: "Nachbar baut ohne Genehmigung"}); err != nil {
			return err
		}
		var err error
		res, err = h.Start(ctx, tx, routing.HandoffRequest{CitizenID: cit.ID, Question: "Nachbar baut ohne Genehmigung", Reason: routing.ReasonPersonal,
			Candidates: []routing.Candidate{{Department: "zentrale", Score: 0.2}}})
		if err != nil {
			return err
		}
		// A second handoff in the same transaction finds the open case and
		// leaves the transaction usable.
		again, err := h.Start(ctx, tx, routing.HandoffRequest{CitizenID: cit.ID, Question: "noch was"})
		if err != nil {
			return err
		}
		if !again.AlreadyOpen || again.Case.ID != res.Case.ID || len(again.Alternatives) != 0 ||
			again.Message != fmt.Sprintf("Ihre Anfrage #%d liegt bereits beim Bauamt; schreiben Sie einfach hier weiter. Das Bauamt ist gerade geschlossen (Feiertag: Karfreitag). Wir melden uns ab Dienstag, 8:00 Uhr.", res.Case.ID) {
			t.Errorf("again = %+v", again)
		}
		_, err = f.cases.WithTx(tx).Open(ctx, cit.ID, "unknown", routing.ReasonNoMatch, routing.OpenOptions{})
		if !errors.Is(err, routing.ErrInvalid) {
			t.Errorf("unknown department: %v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Department.ID != "bauamt" || res.Open || res.Availability.Holiday != "Karfreitag" {
		t.Fatalf("res = %+v", res)
	}
	// The case number is the citizen's reference; staff see it in the inbox.
	want := fmt.Sprintf("Ihre Anfrage liegt jetzt beim Bauamt. Ihre Vorgangsnummer: #%d. Das Bauamt ist gerade geschlossen (Feiertag: Karfreitag). Wir melden uns ab Dienstag, 8:00 Uhr.", res.Case.ID)
	if res.Message != want {
		t.Errorf("message\n got %q\nwant %q", res.Message, want)
	}
	var alts []string
	for _, a := range res.Alternatives {
		alts = append(alts, a.ID)
	}
	if strings.Join(alts, ",") != "ordnungsamt,zentrale" {
		t.Errorf("alternatives = %v", alts)
	}
	c, err := f.cases.Get(ctx, f.bau, res.Case.ID)
	if err != nil || c.Reason != routing.ReasonPersonal || c.Subject != "Nachbar baut ohne Genehmigung" {
		t.Fatalf("case = %+v %v", c, err)
	}
	if n := f.count(`SELECT count(*) FROM case_messages WHERE case_id = $1`, c.ID); n != 1 {
		t.Errorf("transcript has %d messages", n)
	}

	// The citizen picks another department.
	moved, err := h.ChangeDepartment(ctx, nil, cit.ID, "zentrale", "en")
	if err != nil {
		t.Fatal(err)
	}
	if moved.Department.ID != "zentrale" || !strings.HasPrefix(moved.Message, fmt.Sprintf("I have passed your request to Zentrale. Your reference number: #%d. Zentrale is closed right now (public holiday: Karfreitag).", res.Case.ID)) {
		t.Errorf("moved = %+v", moved)
	}
	_, err = f.cases.Get(ctx, f.bau, res.Case.ID)
	wantErr(t, "bauamt after change", err, routing.ErrNotFound)
	_, err = h.ChangeDepartment(ctx, nil, cit.ID, "nope", "de")
	wantErr(t, "change to unknown", err, routing.ErrInvalid)

	// Without a router, or when it knows nothing: the fallback department,
	// open on a Monday morning.
	h2 := newHandoff(t, f, nil, "2026-03-16 09:00")
	r2, err := h2.Start(ctx, nil, routing.HandoffRequest{CitizenID: f.citizen("1001").ID, Reason: routing.ReasonRequested})
	if err != nil {
		t.Fatal(err)
	}
	if r2.Department.ID != "zentrale" || !r2.Open ||
		r2.Message != fmt.Sprintf("Ihre Anfrage liegt jetzt bei der Zentrale. Ihre Vorgangsnummer: #%d. Die Zentrale ist gerade geöffnet; wir melden uns in der Regel innerhalb weniger Stunden.", r2.Case.ID) {
		t.Errorf("r2 = %+v", r2)
	}
	ds, err := h2.Departments(ctx)
	if err != nil || len(ds) != 3 || ds[0].Name == "" {
		t.Errorf("departments = %+v %v", ds, err)
	}
}

// Propose ranks like Start without opening a case; Expectation words the
// reply time of an open case and its reference number.
func TestHandoffProposeAndExpectation(t *testing.T) {
	f := newFixture(t)
	ctx := f.ctx
	if err := routing.ApplyDemoOfficeHours(ctx, f.db); err != nil {
		t.Fatal(err)
	}
	h := newHandoff(t, f, fakeRouter{"nope", "ordnungsamt", "bauamt"}, "2026-04-03 10:00")
	cit := f.citizen("1100")
	f.say(cit, "Laterne kaputt")
	props, err := h.Propose(ctx, nil, routing.HandoffRequest{CitizenID: cit.ID, Question: "Laterne kaputt"})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, p := range props {
		ids = append(ids, p.ID)
	}
	if strings.Join(ids, ",") != "ordnungsamt,bauamt,zentrale" || props[0].Name == "" {
		t.Errorf("proposal = %+v", props)
	}
	if n := f.count(`SELECT count(*) FROM cases WHERE citizen_id = $1`, cit.ID); n != 0 {
		t.Fatalf("Propose opened %d cases", n)
	}
	// A preferred department comes first.
	props, err = h.Propose(ctx, nil, routing.HandoffRequest{CitizenID: cit.ID, Question: "Laterne kaputt", Department: "bauamt"})
	if err != nil || props[0].ID != "bauamt" {
		t.Errorf("preferred: %+v %v", props, err)
	}

	c := f.open(cit, "ordnungsamt", "Laterne kaputt")
	got, err := h.Expectation(ctx, nil, c, "de")
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("Ihre Anfrage #%d liegt beim Ordnungsamt. Das Ordnungsamt ist gerade geschlossen (Feiertag: Karfreitag).", c.ID)
	if !strings.HasPrefix(got, want) {
		t.Errorf("expectation\n got %q\nwant %q...", got, want)
	}
	got, err = h.Expectation(ctx, nil, c, "en")
	if err != nil || !strings.HasPrefix(got, fmt.Sprintf("Your request #%d is with Ordnungsamt. Ordnungsamt is closed right now", c.ID)) {
		t.Errorf("english expectation = %q %v", got, err)
	}
	c.Status = routing.CaseAnswered
	got, _ = h.Expectation(ctx, nil, c, "de")
	if !strings.HasPrefix(got, fmt.Sprintf("Das Ordnungsamt hat Ihre Anfrage #%d beantwortet", c.ID)) {
		t.Errorf("answered expectation = %q", got)
	}
}
