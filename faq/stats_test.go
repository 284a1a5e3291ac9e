package faq

import (
	"bytes"
	"context"
	"encoding/csv"
	"math"
	"strings"
	"testing"
	"time"
)

// statsFixture inserts a known data set: see TestDashboardMatchesKnownDataSet.
func statsFixture(t *testing.T, f editorFixture) map[string]int64 {
	t.Helper()
	ctx := context.Background()
	cit := map[string]int64{}
	for _, c := range []string{"c1", "c2", "c3", "c4"} {
		var id int64
		if err := f.db.GetContext(ctx, &id, `INSERT INTO citizens (channel, external_id) VALUES ('telegram', $1) RETURNING id`, c); err != nil {
			t.Fatal(err)
		}
		cit[c] = id
	}
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := f.db.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	msg := func(c, at string) {
		exec(`INSERT INTO messages (citizen_id, direction, kind, text, sender, created_at) VALUES ($1, 'in', 'text', 'x', 'citizen', $2)`, cit[c], at)
		exec(`INSERT INTO messages (citizen_id, direction, kind, text, sender, created_at) VALUES ($1, 'out', 'text', 'y', 'bot', $2)`, cit[c], at)
	}
	// day 1 (10.03. Berlin): c1 3 messages, c2 1 (00:30 Berlin = 23:30 UTC the day before)
	msg("c1", "2025-03-10T08:00:00Z")
	msg("c1", "2025-03-10T08:01:00Z")
	msg("c1", "2025-03-10T09:00:00Z")
	msg("c2", "2025-03-09T23:30:00Z")
	// day 2: c1 1, c3 2
	msg("c1", "2025-03-11T10:00:00Z")
	msg("c3", "2025-03-11T11:00:00Z")
	msg("c3", "2025-03-11T11:05:00Z")
	// day 3: c4 at 23:30 Berlin; outside: 00:30 Berlin on the 13th, and the 9th
	msg("c4", "2025-03-12T22:30:00Z")
	msg("c4", "2025-03-12T23:30:00Z")
	msg("c2", "2025-03-09T12:00:00Z")

	ans := func(c, entry, at string, helpful any) {
		exec(`INSERT INTO bot_answers (citizen_id, entry_id, question, score, via, helpful, created_at) VALUES ($1, $2, 'q', 0.9, 'direct', $3, $4)`,
			cit[c], entry, helpful, at)
	}
	ans("c1", "bauantrag-stellen", "2025-03-10T08:00:01Z", true)
	ans("c1", "bauantrag-stellen", "2025-03-10T08:01:01Z", false)
	ans("c2", "hund-anmelden", "2025-03-09T23:30:01Z", nil)
	ans("c3", "bauantrag-stellen", "2025-03-11T11:00:01Z", true)
	ans("c4", "hund-anmelden", "2025-03-12T23:30:01Z", true) // outside

	// handoffs: cases, with staff replies
	kase := func(c, dept, at, closedAt string, replyAt ...string) {
		var closed any
		status := "waiting"
		if closedAt != "" {
			closed, status = closedAt, "closed"
		}
		var id int64
		if err := f.db.GetContext(ctx, &id, `INSERT INTO cases (citizen_id, department_id, status, created_at, closed_at) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
			cit[c], dept, status, at, closed); err != nil {
			t.Fatal(err)
		}
		for _, r := range replyAt {
			var mid int64
			if err := f.db.GetContext(ctx, &mid, `INSERT INTO messages (citizen_id, direction, kind, text, sender, staff_user_id, created_at)
				VALUES ($1, 'out', 'text', 'Antwort', 'staff', $2, $3) RETURNING id`, cit[c], f.staf.ID, r); err != nil {
				t.Fatal(err)
			}
			exec(`INSERT INTO case_messages (case_id, message_id) VALUES ($1, $2)`, id, mid)
		}
	}
	kase("c1", "bauamt", "2025-03-10T09:00:00Z", "2025-03-10T10:00:00Z", "2025-03-10T09:10:00Z", "2025-03-10T09:15:00Z")
	kase("c3", "ordnungsamt", "2025-03-11T11:05:00Z", "2025-03-11T11:30:00Z", "2025-03-11T11:25:00Z")
	kase("c3", "bauamt", "2025-03-11T11:40:00Z", "")
	kase("c4", "zentrale", "2025-03-12T22:30:00Z", "", "2025-03-13T07:30:00Z")
	kase("c2", "zentrale", "2025-03-13T10:00:00Z", "") // outside

	ids := map[string]int64{}
	un := func(key, c, text, reason, entry, at string) {
		var e any
		if entry != "" {
			e = entry
		}
		var id int64
		if err := f.db.GetContext(ctx, &id, `INSERT INTO unanswered (citizen_id, text, reason, entry_id, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
			cit[c], text, reason, e, at); err != nil {
			t.Fatal(err)
		}
		ids[key] = id
	}
	un("d1", "c1", "Drohne anmelden", ReasonNoMatch, "", "2025-03-10T09:00:00Z")
	un("d2", "c3", "Wo kann ich meine Drohne anmelden?", ReasonNoMatch, "", "2025-03-11T11:05:00Z")
	un("p", "c3", "Mein Antrag 123 ist weg", ReasonPersonal, "", "2025-03-11T11:00:00Z")
	un("nh", "c1", "Bauantrag stellen aber digital", ReasonNotHelpful, "bauantrag-stellen", "2025-03-11T10:00:00Z")
	un("r", "c4", "Drohne registrieren", ReasonNoSuggestionFit, "", "2025-03-12T22:30:00Z")
	un("old", "c2", "Drohne anmelden bitte", ReasonNoMatch, "", "2024-01-01T12:00:00Z") // beyond retention
	return ids
}

func TestDashboardMatchesKnownDataSet(t *testing.T) {
	ctx := context.Background()
	f := newEditorFixture(t)
	statsFixture(t, f)
	loc, _ := time.LoadLocation("Europe/Berlin")
	now := time.Date(2025, 3, 20, 12, 0, 0, 0, loc)
	p := Period{From: time.Date(2025, 3, 10, 0, 0, 0, 0, loc), To: time.Date(2025, 3, 13, 0, 0, 0, 0, loc), TZ: "Europe/Berlin"}
	d, err := f.s.Dashboard(ctx, p, now)
	if err != nil {
		t.Fatal(err)
	}
	type day struct{ msgs, convs, answered, handoffs, hconvs, helpful, nothelpful int }
	want := []day{{4, 2, 3, 1, 1, 1, 1}, {3, 2, 1, 2, 1, 1, 0}, {1, 1, 0, 1, 1, 0, 0}}
	if len(d.Days) != 3 {
		t.Fatalf("days: %+v", d.Days)
	}
	for i, w := range want {
		g := d.Days[i]
		got := day{g.Messages, g.Conversations, g.Answered, g.Handoffs, g.HandoffConvs, g.Helpful, g.NotHelpful}
		if got != w || g.Day.Day() != 10+i {
			t.Errorf("day %d (%s): %+v, want %+v", i, g.Day, got, w)
		}
	}
	if d.Messages != 8 || d.Conversations != 5 || d.Answered != 4 || d.Handoffs != 4 || d.Questions() != 8 {
		t.Errorf("totals: %+v", d)
	}
	near := func(a, b float64) bool { return math.Abs(a-b) < 1e-9 }
	if !near(d.AnsweredShare(), 0.5) || !near(d.HelpfulRate(), 2.0/3) || !near(d.HandoffRate(), 0.6) {
		t.Errorf("rates: answered %v, helpful %v, handoff %v", d.AnsweredShare(), d.HelpfulRate(), d.HandoffRate())
	}
	if len(d.TopEntries) != 2 || d.TopEntries[0] != (EntryStats{"bauantrag-stellen", "Wie stelle ich einen Bauantrag?", 3, 2, 1}) ||
		d.TopEntries[1].EntryID != "hund-anmelden" || d.TopEntries[1].Answers != 1 {
		t.Errorf("top entries: %+v", d.TopEntries)
	}
	if len(d.TopUnanswered) == 0 || d.TopUnanswered[0].Count != 2 || d.TopUnanswered[0].Sample != "Wo kann ich meine Drohne anmelden?" {
		t.Errorf("top unanswered: %+v", d.TopUnanswered)
	}
	type fr struct {
		dept           string
		cases, replied int
		median         time.Duration
	}
	wantFR := []fr{{"bauamt", 2, 1, 10 * time.Minute}, {"ordnungsamt", 1, 1, 20 * time.Minute}, {"zentrale", 1, 1, 9 * time.Hour}}
	if len(d.FirstReply) != len(wantFR) {
		t.Fatalf("first reply: %+v", d.FirstReply)
	}
	for i, w := range wantFR {
		g := d.FirstReply[i]
		if (fr{g.Department, g.Cases, g.Replied, g.Median}) != w {
			t.Errorf("first reply %d: %+v, want %+v", i, g, w)
		}
	}

	var buf bytes.Buffer
	if err := WriteDashboardCSV(&buf, d); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, s := range []string{"messages,8\n", "answered_share,0.5000\n", "helpful_rate,0.6667\n", "handoff_rate,0.6000\n",
		"\n\nday,messages,conversations,answered,handoffs,handoff_conversations,helpful,not_helpful\n2025-03-10,4,2,3,1,1,1,1\n",
		"bauantrag-stellen,Wie stelle ich einen Bauantrag?,3,2,1\n", "department,cases,replied,median_first_reply_seconds\nbauamt,2,1,600\n"} {
		if !strings.Contains(out, s) {
			t.Errorf("CSV lacks %q:\n%s", s, out)
		}
	}
	for _, section := range strings.Split(out, "\n\n") {
		r := csv.NewReader(strings.NewReader(section))
		if _, err := r.ReadAll(); err != nil {
			t.Errorf("CSV section does not parse: %v", err)
		}
	}
}
