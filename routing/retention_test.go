package routing_test

import (
	"sync"
	"testing"

	"github.com/lib/pq"

	"citybot/routing"
)

func TestRetention(t *testing.T) {
	f := newFixture(t)
	ctx := f.ctx
	f.exec(`UPDATE departments SET retention_days = 10 WHERE id = 'ordnungsamt'`)
	if err := f.cases.SetGlobalRetentionDays(ctx, 30); err != nil {
		t.Fatal(err)
	}
	type kase struct {
		dept      string
		closedAgo string // "" = open
		due       bool
	}
	setup := []kase{
		{"bauamt", "31 days", true},       // global 30 days
		{"bauamt", "29 days", false},      // not yet
		{"bauamt", "", false},             // open, however old
		{"ordnungsamt", "11 days", true},  // department: 10 days
		{"ordnungsamt", "9 days", false},  // not yet
		{"zentrale", "400 days", true},    // long ago
		{"ordnungsamt", "200 days", true}, // more
	}
	var all []routing.Case
	var msgIDs [][]int64
	for i, k := range setup {
		cit := f.citizen("9" + string(rune('0'+i)))
		cs := f.open(cit, k.dept, "Frage")
		if _, err := f.cases.Reply(ctx, f.admin, cs.ID, "Antwort", []routing.Attachment{{Name: "a.pdf", Data: []byte("x")}}); err != nil {
			t.Fatal(err)
		}
		var ms []int64
		if err := f.db.SelectContext(ctx, &ms, `SELECT message_id FROM case_messages WHERE case_id = $1`, cs.ID); err != nil || len(ms) != 3 {
			t.Fatalf("messages %v %v", ms, err)
		}
		msgIDs = append(msgIDs, ms)
		if k.closedAgo != "" {
			if err := f.cases.Close(ctx, f.admin, cs.ID); err != nil {
				t.Fatal(err)
			}
			f.exec(`UPDATE cases SET closed_at = now() - $2::interval, created_at = now() - $2::interval - interval '1 day' WHERE id = $1`, cs.ID, k.closedAgo)
		} else {
			f.exec(`UPDATE cases SET created_at = now() - interval '1000 days' WHERE id = $1`, cs.ID)
		}
		all = append(all, cs)
	}
	// A message of the citizen outside the case stays.
	outside := f.say(f.citizen("90"), "später, ohne Fall")

	// Two instances at once delete each due case exactly once.
	var wg sync.WaitGroup
	counts := make([]int, 2)
	errs := make([]error, 2)
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			counts[i], errs[i] = f.cases.RunRetention(ctx)
		}()
	}
	wg.Wait()
	if errs[0] != nil || errs[1] != nil {
		t.Fatal(errs)
	}
	if counts[0]+counts[1] != 4 {
		t.Fatalf("deleted %v cases, want 4 in total", counts)
	}
	for i, k := range setup {
		exists := f.count(`SELECT count(*) FROM cases WHERE id = $1`, all[i].ID) == 1
		msgs := f.count(`SELECT count(*) FROM messages WHERE id = ANY($1)`, pqInts(msgIDs[i]))
		if exists == k.due {
			t.Errorf("case %d (%s, closed %s ago): exists %v", i, k.dept, k.closedAgo, exists)
		}
		if (msgs == 0) != k.due {
			t.Errorf("case %d: %d of its messages left", i, msgs)
		}
	}
	if f.count(`SELECT count(*) FROM messages WHERE id = $1`, outside.ID) != 1 {
		t.Error("message outside any case deleted")
	}
	if n := f.count(`SELECT count(*) FROM outbox`); n != 2*len(setup)-2*4 {
		t.Errorf("%d outbox rows left", n)
	}
	if n := f.count(`SELECT count(*) FROM case_events e WHERE NOT EXISTS (SELECT 1 FROM cases c WHERE c.id = e.case_id)`); n != 0 {
		t.Errorf("%d orphaned events", n)
	}
	if n, err := f.cases.RunRetention(ctx); err != nil || n != 0 {
		t.Errorf("second run: %d %v", n, err)
	}
	if d, err := f.cases.GlobalRetentionDays(ctx); err != nil || d != 30 {
		t.Errorf("global = %d %v", d, err)
	}
	if err := f.cases.SetGlobalRetentionDays(ctx, 0); err == nil {
		t.Error("0 days accepted")
	}
}

func pqInts(v []int64) any { return pq.Int64Array(v) }
