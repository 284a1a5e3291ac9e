package faq

import (
	"context"
	"errors"
	"testing"
	"time"

	"citybot/internal/german"
)

func TestGroupUnansweredIsDeterministic(t *testing.T) {
	tn := NewTermNormalizer(NewIndex(demoDataset(t).Entries, german.DefaultSynonyms()).Analyzer(), german.DefaultSynonyms())
	at := func(m int) time.Time { return time.Date(2025, 3, 1, 0, m, 0, 0, time.UTC) }
	items := []UnansweredItem{
		{ID: 1, Text: "Perso verloren", CreatedAt: at(1)},
		{ID: 2, Text: "Drohne anmelden", CreatedAt: at(2)},
		{ID: 3, Text: "Personalausweis verloren!", CreatedAt: at(3), EntryID: "ausweis-verloren"},
		{ID: 4, Text: "wo drohne anmelden", CreatedAt: at(4)},
		{ID: 5, Text: "???", CreatedAt: at(5)},
		{ID: 6, Text: "?!?", CreatedAt: at(6)},
		{ID: 7, Text: "Wie wird das Wetter morgen", CreatedAt: at(7)},
	}
	groups := GroupUnanswered(items, tn, DefaultGroupThreshold)
	var got [][]int64
	for _, g := range groups {
		got = append(got, g.IDs())
	}
	// largest groups first, then the most recent; members newest first;
	// texts without words form one group
	want := [][]int64{{6, 5}, {4, 2}, {3, 1}, {7}}
	if len(got) != len(want) {
		t.Fatalf("groups %v, want %v", got, want)
	}
	for i := range want {
		if len(got[i]) != len(want[i]) || got[i][0] != want[i][0] {
			t.Fatalf("groups %v, want %v", got, want)
		}
	}
	if groups[2].EntryID != "ausweis-verloren" || groups[2].Sample != "Personalausweis verloren!" || !groups[2].LastSeen.Equal(at(3)) || groups[2].Count != 2 {
		t.Fatalf("group: %+v", groups[2])
	}
	// same input in another order, same result
	rev := append([]UnansweredItem(nil), items...)
	for i, j := 0, len(rev)-1; i < j; i, j = i+1, j-1 {
		rev[i], rev[j] = rev[j], rev[i]
	}
	again := GroupUnanswered(rev, tn, DefaultGroupThreshold)
	for i := range groups {
		if groups[i].Sample != again[i].Sample || groups[i].Count != again[i].Count {
			t.Fatal("grouping depends on input order")
		}
	}
}

func TestUnansweredLoop(t *testing.T) {
	ctx := context.Background()
	f := newEditorFixture(t)
	ids := statsFixture(t, f)
	loc, _ := time.LoadLocation("Europe/Berlin")
	now := time.Date(2025, 3, 20, 12, 0, 0, 0, loc)

	groups, err := f.s.UnansweredGroups(ctx, UnansweredFilter{}, now)
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, g := range groups {
		total += g.Count
		for _, it := range g.Items {
			if it.ID == ids["old"] {
				t.Fatal("a question beyond retention is shown")
			}
		}
	}
	if total != 5 || groups[0].Count != 2 {
		t.Fatalf("groups: %+v", groups)
	}
	// Retention: a shorter setting hides more; purge deletes what is beyond it.
	if err := f.s.SetUnansweredRetentionDays(ctx, f.editor, 5); !errors.Is(err, ErrForbidden) {
		t.Fatalf("editor sets retention: %v", err)
	}
	if err := f.s.SetUnansweredRetentionDays(ctx, f.admin, 8); err != nil {
		t.Fatal(err)
	}
	if days, _ := f.s.UnansweredRetentionDays(ctx); days != 8 {
		t.Fatalf("retention: %d", days)
	}
	groups, _ = f.s.UnansweredGroups(ctx, UnansweredFilter{}, now)
	if len(groups) != 1 || groups[0].Sample != "Drohne registrieren" {
		t.Fatalf("after shorter retention: %+v", groups)
	}
	if _, err := f.s.Unanswered(ctx, ids["d1"], now); !errors.Is(err, ErrNotFound) {
		t.Fatalf("text beyond retention readable: %v", err)
	}
	if err := f.s.SetUnansweredRetentionDays(ctx, f.admin, 90); err != nil {
		t.Fatal(err)
	}
	n, err := f.s.PurgeUnanswered(ctx, now)
	if err != nil || n != 1 {
		t.Fatalf("purge: %d %v", n, err)
	}

	// Actions.
	if _, err := f.s.DismissUnanswered(ctx, f.editor, []int64{ids["p"]}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.DismissUnanswered(ctx, f.editor, []int64{ids["p"]}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("dismiss twice: %v", err)
	}
	rev, err := f.s.AddUnansweredAsVariant(ctx, f.editor, []int64{ids["nh"]}, "bauantrag-stellen", "Bauantrag digital stellen")
	if err != nil {
		t.Fatal(err)
	}
	if rev.Action != ActionUpdate || rev.Entry.Variants[len(rev.Entry.Variants)-1] != "Bauantrag digital stellen" {
		t.Fatalf("variant revision: %+v", rev)
	}
	rev, err = f.s.CreateEntryFromUnanswered(ctx, f.admin, []int64{ids["d1"], ids["d2"]}, Entry{Department: "ordnungsamt",
		Question: "Wo melde ich eine Drohne an?", Variants: []string{"Drohne anmelden"}, Answer: "Beim Luftfahrt-Bundesamt."})
	if err != nil {
		t.Fatal(err)
	}
	if rev.Entry.Status != StatusDraft || rev.EntryID != "wo-melde-ich-eine-drohne-an" {
		t.Fatalf("new entry: %+v", rev)
	}
	var statuses []string
	if err := f.db.SelectContext(ctx, &statuses, `SELECT status FROM unanswered ORDER BY id`); err != nil {
		t.Fatal(err)
	}
	want := []string{"resolved", "resolved", "dismissed", "resolved", "open"}
	for i := range want {
		if statuses[i] != want[i] {
			t.Fatalf("statuses %v, want %v", statuses, want)
		}
	}
	groups, _ = f.s.UnansweredGroups(ctx, UnansweredFilter{}, now)
	if len(groups) != 1 || groups[0].Count != 1 {
		t.Fatalf("open after actions: %+v", groups)
	}
}

// Groups are ranked by how many citizens they reached, not by how often
// one citizen asked.
func TestGroupUnansweredRanksByCitizens(t *testing.T) {
	tn := NewTermNormalizer(NewIndex(demoDataset(t).Entries, german.DefaultSynonyms()).Analyzer(), german.DefaultSynonyms())
	at := func(m int) time.Time { return time.Date(2025, 3, 1, 0, m, 0, 0, time.UTC) }
	items := []UnansweredItem{
		{ID: 1, CitizenID: 7, Text: "Drohne anmelden", CreatedAt: at(1)},
		{ID: 2, CitizenID: 7, Text: "wo drohne anmelden", CreatedAt: at(2)},
		{ID: 3, CitizenID: 7, Text: "Drohne anmelden??", CreatedAt: at(3)},
		{ID: 4, CitizenID: 8, Text: "Wie wird das Wetter morgen", CreatedAt: at(4)},
		{ID: 5, CitizenID: 9, Text: "Wetter morgen?", CreatedAt: at(5)},
	}
	groups := GroupUnanswered(items, tn, DefaultGroupThreshold)
	if len(groups) != 2 {
		t.Fatalf("%d groups: %+v", len(groups), groups)
	}
	if groups[0].Citizens != 2 || groups[0].Count != 2 || groups[1].Citizens != 1 || groups[1].Count != 3 {
		t.Errorf("groups: first %d citizens / %d questions, second %d / %d; want 2/2 then 1/3",
			groups[0].Citizens, groups[0].Count, groups[1].Citizens, groups[1].Count)
	}
}
