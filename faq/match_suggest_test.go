package faq

import "testing"

func TestSuggested(t *testing.T) {
	o := DefaultOptions() // RelatedThreshold 0.30, SuggestWindow 0.2
	c := func(id string, s float64) Candidate { return Candidate{EntryID: id, Score: s} }
	ids := func(cs []Candidate) []string {
		var out []string
		for _, x := range cs {
			out = append(out, x.EntryID)
		}
		return out
	}
	tests := []struct {
		in   []Candidate
		want []string
	}{
		{nil, nil},
		// runners-up below SuggestThreshold but above RelatedThreshold stay
		{[]Candidate{c("a", 0.45), c("b", 0.36), c("c", 0.31)}, []string{"a", "b", "c"}},
		// below RelatedThreshold
		{[]Candidate{c("a", 0.45), c("b", 0.29)}, []string{"a"}},
		// outside the window
		{[]Candidate{c("a", 0.80), c("b", 0.55)}, []string{"a"}},
		// the best is always offered
		{[]Candidate{c("a", 0.32)}, []string{"a"}},
	}
	for _, tt := range tests {
		got := ids(suggested(tt.in, o))
		if len(got) != len(tt.want) {
			t.Errorf("suggested(%v) = %v, want %v", ids(tt.in), got, tt.want)
			continue
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Errorf("suggested(%v) = %v, want %v", ids(tt.in), got, tt.want)
			}
		}
	}
}

// A message whose best entry is below SuggestThreshold is suggested, not
// handed off, when the gate's probability reaches GateVetoAt, and handed
// off (with related entries) when the gate is off.
func TestGateSuggestsBelowSuggestThreshold(t *testing.T) {
	entries := []Entry{
		{ID: "hund", Department: "steuer", Question: "Wie melde ich meinen Hund zur Hundesteuer an?", Answer: "Mit dem Formular."},
		{ID: "müll", Department: "umwelt", Question: "Wann wird die Biotonne geleert?", Answer: "Laut Abfallkalender."},
		{ID: "pass", Department: "buergeramt", Question: "Wie beantrage ich einen Reisepass?", Answer: "Im Bürgerbüro."},
	}
	off := DefaultOptions()
	off.Gate = nil
	on := DefaultOptions()
	on.GateVetoAt = 0 // any probability lets the gate suggest
	on.GateAnswerAt = 1.1
	const msg = "Hundesteuer Quittung Bank Konto" // hund scores 0.37
	ixOff, ixOn := NewIndexWithOptions(entries, nil, off), NewIndexWithOptions(entries, nil, on)
	r := ixOff.Match(msg)
	if len(r.Candidates) == 0 || r.Candidates[0].Score >= off.SuggestThreshold || r.Candidates[0].Score < off.RelatedThreshold {
		t.Fatalf("candidates of %q: %v, want the best between RelatedThreshold and SuggestThreshold", msg, r.Candidates)
	}
	if r.Decision != DecisionNone {
		t.Errorf("gate off: decision %s, want none", r.Decision)
	}
	if r = ixOn.Match(msg); r.Decision != DecisionSuggest || r.Candidates[0].EntryID != "hund" {
		t.Errorf("gate on: decision %s %v, want suggest hund", r.Decision, r.Candidates)
	}
}
