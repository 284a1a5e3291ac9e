package faq_test

import (
	"strings"
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
	if !(m1.SuggestAt > 0 && m1.SuggestAt <= m1.AnswerAt && m1.AnswerAt < 1 && m1.VetoAt <= m1.AnswerAt) {
		t.Errorf("thresholds suggest %v, answer %v, veto %v", m1.SuggestAt, m1.AnswerAt, m1.VetoAt)
	}
	if m1.Fit.HeldEntries == 0 || m1.Fit.HeldVariants == 0 || m1.Fit.Reports == 0 || m1.Fit.Answered == 0 {
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

// The gate: a personal message is never answered, whatever the model says;
// a plain FAQ question still is; the model's probability is reported.
func TestGateDecisions(t *testing.T) {
	entries, _, _ := loadDemo(t)
	m, err := faq.DefaultModel()
	if err != nil {
		t.Fatal(err)
	}
	opts := faq.DefaultOptions()
	opts.Gate = m
	ix := faq.NewIndexWithOptions(entries, german.DefaultSynonyms(), opts)
	res := ix.Match(entries[0].Question)
	if res.Decision != faq.DecisionAnswer || res.Answer.EntryID != entries[0].ID || res.Confidence <= 0 {
		t.Errorf("Match(%q) = %s %+v (confidence %v), want the answer %s", entries[0].Question, res.Decision, res.Answer, res.Confidence, entries[0].ID)
	}
	q := "Ich habe vor drei Wochen meinen Personalausweis beantragt, Vorgangsnummer 2025-4471, und noch nichts gehört."
	if res := ix.Match(q); res.Decision == faq.DecisionAnswer || !res.Personal {
		t.Errorf("Match(%q) = %s personal %v, want no answer, personal", q, res.Decision, res.Personal)
	}
}

// RoutingMessages: deterministic per entry and made of the entry's own
// words (citizen forms and reports).
func TestRoutingMessages(t *testing.T) {
	e := faq.Entry{ID: "laterne", Department: "tiefbau", Question: "Wem melde ich eine defekte Straßenlaterne?", Variants: []string{"Laterne kaputt"}, Tags: []string{"Beleuchtung"}}
	a, b := faq.RoutingMessages(e), faq.RoutingMessages(e)
	if len(a) < 6 {
		t.Fatalf("RoutingMessages = %q, want citizen forms and reports", a)
	}
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("not deterministic: %q vs %q", a[i], b[i])
		}
	}
	var reports int
	for _, m := range a {
		if strings.Contains(m, "Straßenlaterne") || strings.Contains(m, "Laterne") || strings.Contains(m, "Beleuchtung") {
			reports++
		}
	}
	if reports == 0 {
		t.Errorf("no report-style message names the entry's nouns: %q", a)
	}

}
