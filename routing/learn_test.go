package routing

import (
	"fmt"
	"math"
	"os"
	"testing"

	"citybot/faq"
	"citybot/internal/demodata"
)

// demoLearnData is the demo dataset as the classifier learns from it, with
// the generated messages (as bot.RoutingEntries gives them; routing's
// internal tests cannot import bot).
func demoLearnData(t testing.TB) ([]Department, []FAQEntry) {
	t.Helper()
	ds, err := faq.ReadDatasetFS(demodata.FS)
	if err != nil {
		t.Fatal(err)
	}
	var depts []Department
	for _, d := range ds.Departments {
		depts = append(depts, Department{ID: d.ID, Name: d.Name, Description: d.Description, Keywords: d.Keywords})
	}
	var es []FAQEntry
	for _, e := range ds.Entries {
		es = append(es, FAQEntry{Department: e.Department, Question: e.Question, Variants: e.Variants, Tags: e.Tags, Answer: e.Answer, Messages: faq.RoutingMessages(e)})
	}
	return depts, es
}

// cvRow is one held-out message of the cross-validation: its department
// and, per department, the vocabulary score and the model's probability.
type cvRow struct {
	y    int
	h, p []float64
}

// crossValidate holds out every fifth FAQ entry (all its texts and
// generated messages) in turn, builds the classifier on the rest and scores
// the held-out entries' questions, variants and generated messages.
func crossValidate(t testing.TB, depts []Department, es []FAQEntry, lam float64) []cvRow {
	var rows []cvRow
	for fold := 0; fold < 5; fold++ {
		var train, test []FAQEntry
		for i, e := range es {
			if i%5 == fold {
				test = append(test, e)
			} else {
				train = append(train, e)
			}
		}
		c := newClassifier(depts, nil, "zentrale", train, lam)
		hand := *c
		hand.model = nil
		pos := map[string]int{}
		for i, d := range c.depts {
			pos[d] = i
		}
		for _, e := range test {
			for _, m := range append(append([]string{e.Question}, e.Variants...), e.Messages...) {
				r := cvRow{y: pos[e.Department], h: make([]float64, len(c.depts)), p: make([]float64, len(c.depts))}
				for _, s := range hand.Scores(m, nil) {
					r.h[pos[s.Department]] = s.Score
				}
				x, _ := termFeatures(c.an.QueryTerms(m), c.model.index, false)
				c.model.probs(x, nil, r.p)
				rows = append(rows, r)
			}
		}
	}
	return rows
}

// cvAccuracy is the share of rows whose department scores best with
// vocabulary score + g times the model's probability (g < 0: the model
// alone).
func cvAccuracy(rows []cvRow, g float64) float64 {
	var ok int
	for _, r := range rows {
		best, bi := math.Inf(-1), -1
		for k := range r.h {
			s := r.h[k] + g*r.p[k]
			if g < 0 {
				s = r.p[k]
			}
			if s > best {
				best, bi = s, k
			}
		}
		if bi == r.y {
			ok++
		}
	}
	return float64(ok) / float64(len(rows))
}

// TestLearnedCrossValidation checks on FAQ entries the classifier never
// saw that the learned model helps: the combined score must route held-out
// messages better than the hand-weighted vocabulary alone, and
// weightLearned must be near the best weight of the combination. With
// CITYBOT_ROUTING_CV set it also compares L2 penalties (how lambda was
// chosen).
func TestLearnedCrossValidation(t *testing.T) {
	depts, es := demoLearnData(t)
	lams := []float64{lambda}
	if os.Getenv("CITYBOT_ROUTING_CV") != "" {
		lams = []float64{1e-3, 1e-4, 3e-5, 1e-5, 1e-6}
	}
	for _, lam := range lams {
		rows := crossValidate(t, depts, es, lam)
		hand, model, combined := cvAccuracy(rows, 0), cvAccuracy(rows, -1), cvAccuracy(rows, weightLearned)
		bestG, bestAcc := 0.0, 0.0
		curve := ""
		for _, g := range []float64{0, 0.25, 0.5, 1, 1.5, 2, 3, 4, 6} {
			a := cvAccuracy(rows, g)
			curve += fmt.Sprintf(" %g:%.3f", g, a)
			if a > bestAcc+1e-9 {
				bestG, bestAcc = g, a
			}
		}
		t.Logf("weights:%s", curve)
		t.Logf("lambda %g: %d held-out messages: vocabulary %.3f, model %.3f, combined (weight %g) %.3f; best weight %g: %.3f",
			lam, len(rows), hand, model, weightLearned, combined, bestG, bestAcc)
		if lam != lambda {
			continue
		}
		if combined < hand+0.015 {
			t.Errorf("combined %.3f, want at least 1.5 points over the vocabulary alone (%.3f)", combined, hand)
		}
		if combined < bestAcc-0.01 {
			t.Errorf("weightLearned %g gives %.3f, weight %g %.3f: refit", weightLearned, combined, bestG, bestAcc)
		}
	}
}

// The learned model is deterministic: two trainings on the same data give
// the same weights.
func TestLearnedDeterministic(t *testing.T) {
	depts, es := demoLearnData(t)
	a := NewClassifierWithFAQ(depts, nil, "zentrale", es[:40])
	modelCache.Lock()
	modelCache.m = nil // train again, not from the cache
	modelCache.Unlock()
	b := NewClassifierWithFAQ(depts, nil, "zentrale", es[:40])
	if a.model == b.model {
		t.Fatal("the second build reused the first model")
	}
	if len(a.model.w) != len(b.model.w) || len(a.model.index) != len(b.model.index) {
		t.Fatalf("sizes differ: %d/%d weights", len(a.model.w), len(b.model.w))
	}
	for s, i := range a.model.index {
		for k := 0; k < a.model.k; k++ {
			if a.model.w[i*a.model.k+k] != b.model.w[b.model.index[s]*b.model.k+k] {
				t.Fatalf("weight of %q differs between two builds", s)
			}
		}
	}
}

// What the learned model adds on messages that name no department keyword:
// it learns the words of the FAQ's answers and of the generated messages,
// admin rules still win, and its evidence is explained by keywords.
func TestLearnedModel(t *testing.T) {
	depts, es := demoLearnData(t)
	rules := []Rule{{ID: 7, Department: "ordnungsamt", Pattern: "Laterne", Priority: 1}}
	c := NewClassifierWithFAQ(depts, rules, "zentrale", es)
	if got := c.Route("Die Laterne vor meinem Haus flackert", nil); got != "ordnungsamt" {
		t.Errorf("rule: Route = %q, want ordnungsamt; %+v", got, c.Scores("Die Laterne vor meinem Haus flackert", nil))
	}
	// every department's own held-in questions route home, the model's
	// probability and keywords are in the explanation
	c = NewClassifierWithFAQ(depts, nil, "zentrale", es)
	var learned, wrong int
	for _, e := range es {
		s := c.Scores(e.Question, nil)
		if len(s) == 0 || s[0].Department != e.Department {
			wrong++
			continue
		}
		if s[0].Learned > 0.3 && len(s[0].Keywords) > 0 {
			learned++
		}
	}
	if wrong > len(es)/20 {
		t.Errorf("%d of %d FAQ questions route to another department", wrong, len(es))
	}
	if learned < len(es)/2 {
		t.Errorf("only %d of %d FAQ questions have the model's probability > 0.3 with keywords", learned, len(es))
	}
	// out of scope stays with the fallback
	for _, q := range []string{"Wie wird das Wetter morgen?", "Wer hat gestern das Spiel gewonnen?"} {
		if got := c.Route(q, nil); got != "zentrale" {
			t.Errorf("Route(%q) = %q, want zentrale; %+v", q, got, c.Scores(q, nil))
		}
	}
}

// compoundParts: a word the model does not know is read by its known head
// and modifier.
func TestCompoundParts(t *testing.T) {
	index := map[string]int{"gehweg": 0, "kennzeich": 1}
	got := compoundParts("gehwegplatten", index)
	if len(got) != 1 || got[0].stem != "gehweg" || got[0].w != weightModifierPart {
		t.Errorf("gehwegplatten: %+v", got)
	}
	got = compoundParts("saisonkennzeichen", index)
	if len(got) != 1 || got[0].stem != "kennzeich" || got[0].w != weightHeadPart {
		t.Errorf("saisonkennzeichen: %+v", got)
	}
	if got := compoundParts("geh", index); len(got) != 0 {
		t.Errorf("short word: %+v", got)
	}
}

// BenchmarkRoute: one routing decision with the learned model on the demo
// FAQ (14 departments), with three FAQ candidates.
func BenchmarkRoute(b *testing.B) {
	depts, es := demoLearnData(b)
	c := NewClassifierWithFAQ(depts, nil, "zentrale", es)
	cands := []Candidate{{EntryID: "a", Department: "tiefbau", Score: 0.4}, {EntryID: "b", Department: "ordnungsamt", Score: 0.35}, {EntryID: "c", Department: "gruenflaechen", Score: 0.3}}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c.Route("Die Gehwegplatten vor der Brunnenstraße 22 stehen hoch, meine Mutter ist gestürzt", cands)
	}
}

// BenchmarkBuild: building the classifier and training the model from the
// demo FAQ, as at start-up and after a publish (the cache is emptied).
func BenchmarkBuild(b *testing.B) {
	depts, es := demoLearnData(b)
	for i := 0; i < b.N; i++ {
		modelCache.Lock()
		modelCache.m = nil // train, not from the cache
		modelCache.Unlock()
		NewClassifierWithFAQ(depts, nil, "zentrale", es)
	}
}

// BenchmarkRouteVocabulary: the same without the learned model (the
// hand-weighted vocabulary and the candidates only), for comparison.
func BenchmarkRouteVocabulary(b *testing.B) {
	depts, es := demoLearnData(b)
	c := NewClassifierWithFAQ(depts, nil, "zentrale", es)
	c.model = nil
	cands := []Candidate{{EntryID: "a", Department: "tiefbau", Score: 0.4}, {EntryID: "b", Department: "ordnungsamt", Score: 0.35}, {EntryID: "c", Department: "gruenflaechen", Score: 0.3}}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c.Route("Die Gehwegplatten vor der Brunnenstraße 22 stehen hoch, meine Mutter ist gestürzt", cands)
	}
}

// The model is trained again only when what it learns from changes: the
// same departments, FAQ and rules reuse it (the admin's rule test builds a
// classifier per request), another entry or rule trains anew.
func TestLearnedModelCache(t *testing.T) {
	depts, es := demoLearnData(t)
	a := NewClassifierWithFAQ(depts, nil, "zentrale", es[:30])
	b := NewClassifierWithFAQ(depts, nil, "zentrale", es[:30])
	if a.model != b.model {
		t.Error("same data: trained again")
	}
	c := NewClassifierWithFAQ(depts, nil, "zentrale", es[:31])
	if c.model == a.model {
		t.Error("another entry: the old model was reused")
	}
	d := NewClassifierWithFAQ(depts, []Rule{{ID: 1, Department: "tiefbau", Pattern: "Laterne"}}, "zentrale", es[:31])
	if d.model == c.model {
		t.Error("another rule: the old model was reused")
	}
}
