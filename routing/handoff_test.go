package routing_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"citybot/faq"
	"citybot/internal/db"
	"citybot/routing"
)

type fakeRouter []string

func (r fakeRouter) Rank(string, []faq.Candidate) []string { return r }

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
			Candidates: []faq.Candidate{{Department: "zentrale", Score: 0.2}}})
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
			!strings.HasPrefix(again.Message, "Ihre Anfrage liegt bereits beim Bauamt;") {
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
	want := "Ihre Anfrage liegt jetzt beim Bauamt. Das Bauamt ist gerade geschlossen (Feiertag: Karfreitag). Wir melden uns ab Dienstag, 8:00 Uhr."
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
	if moved.Department.ID != "zentrale" || !strings.HasPrefix(moved.Message, "I have passed your request to Zentrale. Zentrale is closed right now (public holiday: Karfreitag).") {
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
		r2.Message != "Ihre Anfrage liegt jetzt bei der Zentrale. Die Zentrale ist gerade geöffnet; wir melden uns in der Regel innerhalb weniger Stunden." {
		t.Errorf("r2 = %+v", r2)
	}
	ds, err := h2.Departments(ctx)
	if err != nil || len(ds) != 3 || ds[0].Name == "" {
		t.Errorf("departments = %+v %v", ds, err)
	}
}
