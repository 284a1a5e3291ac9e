package faq

import (
	"context"
	"errors"
	"sort"
	"testing"
)

func TestWouldChangeListsExactlyTheAffectedSavedQuestions(t *testing.T) {
	ctx := context.Background()
	f := newEditorFixture(t)
	saved := []RegressionQuestion{
		{Question: "Wie stelle ich einen Bauantrag?", Expect: "bauantrag-stellen"},
		{Question: "Baugenehmigung beantragen", Expect: "bauantrag-stellen"},
		{Question: "Hund anmelden", Expect: "hund-anmelden"},
		{Question: "Drohne anmelden", Expect: ExpectStaff},
		{Question: "Darf ich mit einer Drohne fliegen?", Expect: ExpectStaff},
	}
	for _, q := range saved {
		if _, err := f.s.AddRegression(ctx, f.editor, q); err != nil {
			t.Fatal(err)
		}
	}
	var ve *ValidationError
	if _, err := f.s.AddRegression(ctx, f.editor, RegressionQuestion{Question: "hund  anmelden", Expect: "hund-anmelden"}); !errors.As(err, &ve) || ve.Field != "question" {
		t.Fatalf("duplicate: %v", err)
	}
	if _, err := f.s.AddRegression(ctx, f.editor, RegressionQuestion{Question: "x", Expect: "gibt-es-nicht"}); !errors.As(err, &ve) || ve.Field != "expect" {
		t.Fatalf("unknown entry: %v", err)
	}

	// All saved questions pass on the demo FAQ.
	rep, err := f.s.RegressionReport(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range rep {
		if !c.BeforeOK || c.Changed() {
			t.Fatalf("baseline: %q -> %s", c.Question.Question, c.Before.Key())
		}
	}

	bau, _ := f.s.Entry(ctx, "bauantrag-stellen")
	bau.Status = StatusArchived
	drohne := Entry{ID: "drohne", Department: "ordnungsamt", Question: "Darf ich mit einer Drohne fliegen?",
		Variants: []string{"Drohne anmelden"}, Answer: "Drohnen über 250 g brauchen eine Registrierung beim LBA.", Status: StatusPublished}

	ids := func(cs []RegressionCheck) []string {
		var out []string
		for _, c := range cs {
			out = append(out, c.Question.Question+" => "+c.After.Key())
		}
		sort.Strings(out)
		return out
	}
	for _, tc := range []struct {
		name    string
		changes []Entry
		want    []string
	}{
		{"archive", []Entry{bau}, []string{"Baugenehmigung beantragen => ", "Wie stelle ich einen Bauantrag? => "}},
		{"new entry", []Entry{drohne}, []string{"Darf ich mit einer Drohne fliegen? => answer:drohne", "Drohne anmelden => answer:drohne"}},
		{"both", []Entry{bau, drohne}, []string{"Baugenehmigung beantragen => ", "Darf ich mit einer Drohne fliegen? => answer:drohne", "Drohne anmelden => answer:drohne", "Wie stelle ich einen Bauantrag? => "}},
		{"no change", []Entry{func() Entry { e, _ := f.s.Entry(ctx, "hund-anmelden"); return e }()}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := f.s.WouldChange(ctx, tc.changes...)
			if err != nil {
				t.Fatal(err)
			}
			gotIDs := ids(got)
			if len(gotIDs) != len(tc.want) {
				t.Fatalf("would change %q, want %q", gotIDs, tc.want)
			}
			for i := range gotIDs {
				// the archived entry's questions fall to some other outcome: compare the prefix
				if len(tc.want[i]) > len(gotIDs[i]) || gotIDs[i][:len(tc.want[i])] != tc.want[i] {
					t.Fatalf("would change %q, want %q", gotIDs, tc.want)
				}
			}
			for _, c := range got {
				if !c.BeforeOK || c.AfterOK || !c.Broken() {
					t.Fatalf("%q: before ok %v, after ok %v", c.Question.Question, c.BeforeOK, c.AfterOK)
				}
				if c.Question.Expect == "bauantrag-stellen" && c.After.Key() == "answer:bauantrag-stellen" {
					t.Fatal("archived entry still answers")
				}
			}
		})
	}

	// The same through a draft entry and WouldChangeOnPublish, and "try it".
	drohne.Status = ""
	if _, err := f.s.CreateEntry(ctx, f.admin, drohne); err != nil {
		t.Fatal(err)
	}
	got, err := f.s.WouldChangeOnPublish(ctx, "drohne")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("on publish: %q", ids(got))
	}
	tr, err := f.s.TryDraft(ctx, "Drohne anmelden", "drohne", DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	if tr.Published.Result.Decision == DecisionAnswer || tr.Draft == nil || tr.Draft.Result.Decision != DecisionAnswer ||
		tr.Draft.Result.Answer.EntryID != "drohne" || tr.Draft.AnswerText != drohne.Answer || !tr.Changed {
		t.Fatalf("try it: %+v / %+v", tr.Published, tr.Draft)
	}
	if len(tr.Draft.Result.Candidates) == 0 || len(tr.Draft.Result.Candidates[0].Matched) == 0 || tr.Draft.Result.Candidates[0].Score <= 0 {
		t.Fatalf("try it lacks scores or matched words: %+v", tr.Draft.Result.Candidates)
	}
	tr, err = f.s.TryIt(ctx, "Hund anmelden", nil, DefaultOptions())
	if err != nil || tr.Draft != nil || tr.Published.Result.Decision != DecisionAnswer || tr.Published.AnswerText == "" {
		t.Fatalf("try it without draft: %+v %v", tr, err)
	}

	// The saved set as `citybot faq eval` questions.
	qs, err := f.s.EvalQuestions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(qs) != 5 || qs[0].Expect != "faq:bauantrag-stellen" || qs[3].Expect != "handoff" {
		t.Fatalf("eval questions: %+v", qs)
	}
	entries, syns, _ := f.s.matcherInputs(ctx)
	er := Evaluate(NewIndex(entries, syns), qs, nil)
	if er.Answerable != 3 || er.Top1Correct != 3 || er.Handoff != 2 || er.FalseAnswers != 0 {
		t.Fatalf("eval: %+v", er)
	}

	// Deleting, and the rights.
	if err := f.s.DeleteRegression(ctx, f.editor, rep[0].Question.ID); err != nil {
		t.Fatal(err)
	}
	if err := f.s.DeleteRegression(ctx, f.editor, rep[0].Question.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
	if err := f.s.DeleteRegression(ctx, f.staf, rep[1].Question.ID); !errors.Is(err, ErrForbidden) {
		t.Fatalf("staff delete: %v", err)
	}
}
