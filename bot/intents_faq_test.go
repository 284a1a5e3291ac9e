package bot

import (
	"testing"

	"citybot/faq"
	"citybot/internal/demodata"
	"citybot/internal/german"
)

// TestIntentsLeaveFAQQuestionsAlone: no text the FAQ answers (the demo
// entries' questions and variants, the dev questions) is taken for an
// intent or a vague follow-up ("Säcke" is not an insult, "Perso" is not a
// person, "Adresse einer Person herausfinden" is not a request for staff).
func TestIntentsLeaveFAQQuestionsAlone(t *testing.T) {
	ds, _ := faq.ReadDatasetFS(demodata.FS)
	m := NewIndexMatcher(ds.Entries, german.DefaultSynonyms())
	var texts []string
	for _, e := range ds.Entries {
		texts = append(texts, e.Question)
		texts = append(texts, e.Variants...)
	}
	qs, _ := faq.LoadQuestionsFS(demodata.FS)
	for _, q := range qs {
		texts = append(texts, q.Q)
	}
	for _, txt := range texts {
		r := m.Match(txt)
		if r.Decision != faq.DecisionAnswer {
			continue
		}
		in, req := classifyIntent(txt)
		v, cue := vagueQuestion(txt)
		if in != intentNone || v {
			t.Errorf("%q: the FAQ answers it, but it is taken for %v (request %v), vague %v (cue %v)", txt, in, req, v, cue)
		}
	}
}
