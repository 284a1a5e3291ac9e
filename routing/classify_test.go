package routing_test

import (
	"bytes"
	"os"
	"testing"

	"citybot/faq"
	"citybot/internal/demodata"
	"citybot/internal/german"
	"citybot/routing"
)

// The tests convert the matcher's types themselves (routing does not
// import faq; the wiring uses bot.RoutingEntries and friends).

func routingDepts(ds []faq.Department) []routing.Department {
	out := make([]routing.Department, len(ds))
	for i, d := range ds {
		out[i] = routing.Department{ID: d.ID, Name: d.Name, Description: d.Description, Keywords: d.Keywords}
	}
	return out
}

func routingEntries(es []faq.Entry) []routing.FAQEntry {
	var out []routing.FAQEntry
	for _, e := range es {
		if e.Status == "" || e.Status == faq.StatusPublished {
			out = append(out, routing.FAQEntry{Department: e.Department, Question: e.Question, Variants: e.Variants, Tags: e.Tags, Answer: e.Answer, Messages: faq.RoutingMessages(e)})
		}
	}
	return out
}

// evalRouter is a classifier as faq.Evaluate's router.
type evalRouter struct{ c *routing.Classifier }

func (r evalRouter) Route(text string, res faq.Result) string {
	var cs []routing.Candidate
	for _, c := range res.Candidates {
		cs = append(cs, routing.Candidate{EntryID: c.EntryID, Department: c.Department, Score: c.Score})
	}
	return r.c.Route(text, cs)
}

func loadDemo(t testing.TB) ([]faq.Entry, []routing.Department, []faq.EvalQuestion) {
	t.Helper()
	ds, err := faq.ReadDatasetFS(demodata.FS)
	if err != nil {
		t.Fatal(err)
	}
	qs, err := faq.LoadQuestionsFS(demodata.FS)
	if err != nil {
		t.Fatal(err)
	}
	return ds.Entries, routingDepts(ds.Departments), qs
}

const guardRoutingStrict = 0.90

// TestRoutingDevSet guards department routing on the handoff rows of the
// demo dataset (strict: false answers count as routing errors).
func TestRoutingDevSet(t *testing.T) {
	entries, depts, qs := loadDemo(t)
	ix := faq.NewIndex(entries, german.DefaultSynonyms())
	plain := faq.Evaluate(ix, qs, evalRouter{routing.NewClassifier(depts, nil, "zentrale")})
	t.Logf("keywords+descriptions only: routing strict %.3f conditional %.3f", plain.RoutingStrict(), plain.RoutingConditional())
	c := evalRouter{routing.NewClassifierWithFAQ(depts, nil, "zentrale", routingEntries(entries))}
	rep := faq.Evaluate(ix, qs, c)
	var buf bytes.Buffer
	if err := rep.WriteText(&buf, false); err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + buf.String())
	if os.Getenv("CITYBOT_EVAL_VERBOSE") != "" {
		for _, r := range rep.Rows {
			if r.Expect == "handoff" && !r.Correct {
				t.Logf("MISS %q want %s got %s/%s", r.Q, r.ExpectDepartment, r.Result, r.Department)
			}
		}
	}
	// Target: >= 0.85 strict, met (0.861 with the FAQ vocabulary and the
	// general municipal vocabulary; 3 of the 79 handoff rows are lost to
	// false answers). With the learned model (learn.go) 0.924; the guard
	// sits at 0.90, which the vocabulary alone (0.899) just misses.
	if got := rep.RoutingStrict(); got < guardRoutingStrict {
		t.Errorf("routing strict = %.3f, want >= %.2f", got, guardRoutingStrict)
	}
	var hs [2][]faq.EvalQuestion
	for i, q := range qs {
		hs[i%2] = append(hs[i%2], q)
	}
	for h, part := range hs {
		r := faq.Evaluate(ix, part, c)
		t.Logf("half %d: routing strict %.3f conditional %.3f", h, r.RoutingStrict(), r.RoutingConditional())
	}
}

func TestClassifier(t *testing.T) {
	_, depts, _ := loadDemo(t)
	rules := []routing.Rule{
		{ID: 1, Department: "ordnungsamt", Pattern: "Tauben füttern", Priority: 5},
		{ID: 2, Department: "gruenflaechen", Pattern: "Tauben", Priority: 1},
	}
	c := routing.NewClassifier(depts, rules, "zentrale")
	cand := func(dept string, score float64) []routing.Candidate {
		return []routing.Candidate{{EntryID: "x", Department: dept, Score: score}}
	}
	tests := []struct {
		name, text string
		res        []routing.Candidate
		want       string
	}{
		{"out of scope", "Wie wird das Wetter morgen?", nil, "zentrale"},
		{"football", "Wer hat gestern das Spiel gewonnen?", nil, "zentrale"},
		{"keyword", "Die Straßenlaterne vor meinem Haus flackert", nil, "tiefbau"},
		{"compound keyword part", "Laterne flackert seit gestern", nil, "tiefbau"},
		{"faq candidate", "Frage zu meinem Vorgang", cand("standesamt", 0.9), "standesamt"},
		{"weak faq candidate", "Frage zu meinem Vorgang", cand("standesamt", 0.35), "zentrale"},
		{"rule by priority", "Die Nachbarin will Tauben füttern", nil, "ordnungsamt"},
		{"lower rule", "Tauben im Park", nil, "gruenflaechen"},
		{"typo keyword", "Schlagloc in der Straße", nil, "tiefbau"},
		{"kita", "Unser Kita-Platz wurde gestrichen", nil, "jugendamt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := c.Route(tt.text, tt.res); got != tt.want {
				t.Errorf("Route(%q) = %q, want %q; scores %+v", tt.text, got, tt.want, c.Scores(tt.text, tt.res))
			}
		})
	}
	// Rank always ends with a fallback option and satisfies routing.Router.
	var r routing.Router = c
	got := r.Rank("Straßenlaterne kaputt", nil)
	if len(got) == 0 || got[0] != "tiefbau" || got[len(got)-1] != "zentrale" {
		t.Errorf("Rank = %v", got)
	}
	var _ faq.Router = evalRouter{c}
}
