package routing_test

import (
	"errors"
	"sync"
	"testing"

	"github.com/jmoiron/sqlx"

	"citybot/internal/db"
	"citybot/routing"
)

func (f *fixture) fieldReport(key, dept string, by int64) routing.Case {
	f.t.Helper()
	lat, lon := 51.3397, 12.3731
	var c routing.Case
	err := db.InTx(f.ctx, f.db, func(tx *sqlx.Tx) error {
		var err error
		c, err = f.cases.OpenFieldReport(f.ctx, tx, routing.FieldReport{
			Key: key, ReporterID: by, Department: dept, Text: "Wilder Müll am Waldweg",
			Photos:   []routing.Media{{FileID: "p1", FileUniqueID: "u1"}, {FileID: "p2", FileUniqueID: "u2"}},
			Location: &routing.Media{Latitude: &lat, Longitude: &lon},
		})
		return err
	})
	if err != nil {
		f.t.Fatal(err)
	}
	return c
}

// TestFieldReportCase: a field report is a case of its own citizens row
// (channel fieldstaff) with the reporter's name, its text, photos and
// position; the same key opens it once; several reports of one reporter
// are open at once; a reply is refused (no chat); a transfer tells nobody;
// bad reports are refused before anything is written.
func TestFieldReportCase(t *testing.T) {
	f := newFixture(t)
	c := f.fieldReport("1", "ordnungsamt", f.bau.ID)
	if !c.FieldReport || c.FieldReportBy == nil || *c.FieldReportBy != f.bau.ID || c.ReporterName == nil || *c.ReporterName != "bau@example.org" {
		t.Fatalf("case = %+v", c)
	}
	if c.Channel != routing.ChannelFieldStaff || c.Reason != routing.ReasonFieldReport || c.Subject != "Wilder Müll am Waldweg" || c.Department != "ordnungsamt" {
		t.Fatalf("case = %+v", c)
	}
	if n := f.count(`SELECT count(*) FROM case_messages WHERE case_id = $1`, c.ID); n != 4 {
		t.Fatalf("messages = %d, want text, 2 photos, position", n)
	}
	if again := f.fieldReport("1", "ordnungsamt", f.bau.ID); again.ID != c.ID {
		t.Fatalf("same key opened case %d, then %d", c.ID, again.ID)
	}
	second := f.fieldReport("2", "bauamt", f.bau.ID)
	if second.ID == c.ID || f.count(`SELECT count(*) FROM cases WHERE field_report AND status <> 'closed'`) != 2 {
		t.Fatal("a reporter's second report is not a case of its own")
	}
	// The reporter's action is audited.
	if n := f.count(`SELECT count(*) FROM audit_log WHERE action = 'case.opened' AND user_id = $1`, f.bau.ID); n != 2 {
		t.Fatalf("audit rows = %d", n)
	}
	if _, err := f.cases.Reply(f.ctx, f.admin, c.ID, "Antwort", nil); !errors.Is(err, routing.ErrInvalid) {
		t.Fatalf("reply to a field report: %v", err)
	}
	if err := f.cases.Transfer(f.ctx, f.admin, c.ID, "bauamt", "bitte übernehmen"); err != nil {
		t.Fatal(err)
	}
	if n := f.count(`SELECT count(*) FROM outbox`); n != 0 {
		t.Fatalf("outbox rows after transfer: %d", n)
	}
	// Closing without a linked reporter chat sends nothing; with one, the
	// reporter's chat gets the notice.
	if err := f.cases.Close(f.ctx, f.admin, c.ID); err != nil {
		t.Fatal(err)
	}
	if n := f.count(`SELECT count(*) FROM outbox`); n != 0 {
		t.Fatalf("outbox rows without a linked reporter: %d", n)
	}
	f.exec(`INSERT INTO fieldstaff_links (chat_id, user_id) VALUES (4711, $1)`, f.bau.ID)
	if err := f.cases.Close(f.ctx, f.admin, second.ID); err != nil {
		t.Fatal(err)
	}
	if n := f.count(`SELECT count(*) FROM outbox WHERE channel = 'telegram' AND chat_id = '4711' AND payload->>'text' LIKE '%erledigt%'`); n != 1 {
		t.Fatalf("close notice rows = %d", n)
	}

	lat := 91.0
	for name, r := range map[string]routing.FieldReport{
		"empty":        {Key: "e", ReporterID: f.bau.ID, Department: "bauamt"},
		"no key":       {ReporterID: f.bau.ID, Department: "bauamt", Text: "x"},
		"unknown dept": {Key: "u", ReporterID: f.bau.ID, Department: "nope", Text: "x"},
		"bad position": {Key: "b", ReporterID: f.bau.ID, Department: "bauamt", Location: &routing.Media{Latitude: &lat, Longitude: &lat}},
		"too many":     {Key: "m", ReporterID: f.bau.ID, Department: "bauamt", Photos: make([]routing.Media, routing.MaxFieldReportPhotos+1)},
	} {
		err := db.InTx(f.ctx, f.db, func(tx *sqlx.Tx) error {
			_, err := f.cases.OpenFieldReport(f.ctx, tx, r)
			return err
		})
		if !errors.Is(err, routing.ErrInvalid) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if n := f.count(`SELECT count(*) FROM cases WHERE field_report`); n != 2 {
		t.Fatalf("field reports = %d", n)
	}
}

// TestFieldReportRetention: closed field reports go after the department's
// field_report_retention_days (not its retention_days), with their
// messages (the photos' file ids) and their own citizens row; ordinary
// cases keep their period.
func TestFieldReportRetention(t *testing.T) {
	f := newFixture(t)
	f.exec(`UPDATE departments SET retention_days = 365, field_report_retention_days = 30 WHERE id = 'ordnungsamt'`)
	old := f.fieldReport("old", "ordnungsamt", f.bau.ID)
	young := f.fieldReport("young", "ordnungsamt", f.bau.ID)
	open := f.fieldReport("open", "ordnungsamt", f.bau.ID)
	citizenCase := f.open(f.citizen("77"), "ordnungsamt", "Frage")
	for _, c := range []routing.Case{old, young, citizenCase} {
		if err := f.cases.Close(f.ctx, f.admin, c.ID); err != nil {
			t.Fatal(err)
		}
	}
	f.exec(`UPDATE cases SET closed_at = now() - interval '31 days' WHERE id IN ($1, $2)`, old.ID, citizenCase.ID)
	f.exec(`UPDATE cases SET closed_at = now() - interval '29 days' WHERE id = $1`, young.ID)
	f.exec(`UPDATE cases SET created_at = now() - interval '400 days' WHERE id = $1`, open.ID)
	n, err := f.cases.RunRetention(f.ctx)
	if err != nil || n != 1 {
		t.Fatalf("retention deleted %d (%v), want 1", n, err)
	}
	for _, c := range []struct {
		cs   routing.Case
		kept bool
	}{{old, false}, {young, true}, {open, true}, {citizenCase, true}} {
		if got := f.count(`SELECT count(*) FROM cases WHERE id = $1`, c.cs.ID) == 1; got != c.kept {
			t.Errorf("case %d kept = %v, want %v", c.cs.ID, got, c.kept)
		}
	}
	if n := f.count(`SELECT count(*) FROM citizens WHERE id = $1`, old.CitizenID); n != 0 {
		t.Fatal("the erased report's citizens row stayed")
	}
	if n := f.count(`SELECT count(*) FROM messages WHERE citizen_id = $1`, old.CitizenID); n != 0 {
		t.Fatalf("the erased report's messages stayed: %d", n)
	}
	if n := f.count(`SELECT count(*) FROM messages WHERE media->>'file_id' = 'p1'`); n != 2 {
		t.Fatalf("photos of the kept reports = %d, want 2", n)
	}
}

// TestFieldReportConcurrentOpen: the same report opened by many
// transactions at once (a double tap on two instances) is one case with
// its messages once.
func TestFieldReportConcurrentOpen(t *testing.T) {
	f := newFixture(t)
	const n = 8
	ids := make([]int64, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs[i] = db.InTx(f.ctx, f.db, func(tx *sqlx.Tx) error {
				c, err := f.cases.OpenFieldReport(f.ctx, tx, routing.FieldReport{
					Key: "tap", ReporterID: f.bau.ID, Department: "ordnungsamt", Text: "Umgestürzter Baum",
					Photos: []routing.Media{{FileID: "p1", FileUniqueID: "u1"}},
				})
				ids[i] = c.ID
				return err
			})
		}()
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
		if ids[i] != ids[0] {
			t.Fatalf("opens gave cases %v, want one", ids)
		}
	}
	if c := f.count(`SELECT count(*) FROM cases WHERE field_report`); c != 1 {
		t.Fatalf("%d field report cases, want 1", c)
	}
	if c := f.count(`SELECT count(*) FROM case_messages WHERE case_id = $1`, ids[0]); c != 2 {
		t.Fatalf("%d messages, want text and photo once", c)
	}
}
