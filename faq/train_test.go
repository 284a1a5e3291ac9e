package faq_test

import (
	"testing"

	"citybot/faq"
	"citybot/internal/demodata"
	"citybot/internal/german"
)

func TestCommittedModelLoads(t *testing.T) {
	m, err := faq.DefaultModel()
	if err != nil {
		t.Fatal(err)
	}
	if !(m.SuggestAt > 0 && m.SuggestAt <= m.AnswerAt && m.AnswerAt < 1) {
		t.Errorf("thresholds suggest %v, answer %v: want 0 < suggest <= answer < 1", m.SuggestAt, m.AnswerAt)
	}
	if _, err := faq.ParseModel([]byte(`{"features":["score"]}`)); err == nil {
		t.Error("a model with the wrong features was accepted")
	}
}

// Train on part of the demo FAQ: deterministic, thresholds inside (0,1),
// and the held-out-entry false-answer rate near the utility's choice.
func TestTrain(t *testing.T) {
	ds, err := faq.ReadDatasetFS(demodata.FS)
	if err != nil {
		t.Fatal(err)
	}
	entries := ds.Entries[:40]
	m1, err := faq.Train(entries, german.DefaultSynonyms(), faq.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	m2, err := faq.Train(entries, german.DefaultSynonyms(), faq.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	if m1.AnswerAt != m2.AnswerAt || m1.Gate.Bias != m2.Gate.Bias || m1.Fit != m2.Fit {
		t.Errorf("two runs differ: %+v vs %+v", m1.Fit, m2.Fit)
	}
	if !(m1.SuggestAt > 0 && m1.SuggestAt <= m1.AnswerAt && m1.AnswerAt < 1) {
		t.Errorf("thresholds suggest %v, answer %v", m1.SuggestAt, m1.AnswerAt)
	}
	if m1.Fit.HeldEntries == 0 || m1.Fit.HeldVariants == 0 || m1.Fit.Answered == 0 {
		t.Errorf("fit %+v: no held-out data or nothing answered", m1.Fit)
	}
	// with the model, Match decides by it and reports its confidence
	opts := faq.DefaultOptions()
	opts.Model = m1
	ix := faq.NewIndexWithOptions(entries, german.DefaultSynonyms(), opts)
	res := ix.Match(entries[0].Question)
	if len(res.Candidates) == 0 || res.Candidates[0].Confidence <= 0 {
		t.Fatalf("Match(%q) = %+v: no confidence", entries[0].Question, res)
	}
	if res.Decision != faq.DecisionAnswer || res.Answer.EntryID != entries[0].ID {
		t.Errorf("Match(%q) = %s %+v, want the answer %s", entries[0].Question, res.Decision, res.Candidates[0], entries[0].ID)
	}
}
