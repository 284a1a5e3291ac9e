package german

import (
	"slices"
	"testing"
)

func TestLexiconWords(t *testing.T) {
	lx := DefaultLexicon()
	for w, want := range map[string]bool{
		"mull": true, "hundesteuer": true, "gebuhren": true, "wiese": true, "weise": true,
		"persnalausweis": false, "wertstofhof": false, "xyzqwv": false, "": false,
	} {
		if got := lx.IsWord(w); got != want {
			t.Errorf("IsWord(%q) = %v, want %v", w, got, want)
		}
	}
}

func TestLexiconRelated(t *testing.T) {
	var got []string
	DefaultLexicon().Related(StemGerman("strafzettel"), func(s string) { got = append(got, s) })
	if !slices.Contains(got, StemGerman("knollchen")) || !slices.Contains(got, StemGerman("strafmandat")) {
		t.Errorf("Related(strafzettel) = %v, want knöllchen and strafmandat among them", got)
	}
}

// A word the FAQ does not use reaches a known word through the thesaurus,
// weighted below an exact match; a real word the FAQ does not use is not
// taken for a typo of one it does.
func TestAnalyzerThesaurusAndRealWords(t *testing.T) {
	a := NewAnalyzerWithLexicon(DefaultLexicon(), nil, "Strafmandat bezahlen", "Die Abmeldung des Hundes")
	alts := func(q string) []QAlt {
		qa := a.AnalyzeQuery(q, true)
		if len(qa.Groups) != 1 {
			t.Fatalf("%q: %d groups, want 1", q, len(qa.Groups))
		}
		return qa.Groups[0].Alts
	}
	got := alts("Strafzettel")
	i := slices.IndexFunc(got, func(x QAlt) bool { return x.Stem == StemGerman("strafmandat") })
	if i < 0 || got[i].W != AltThesaurus {
		t.Errorf("Strafzettel: alternatives %v, want strafmandat at weight %v", got, AltThesaurus)
	}
	abmeld := func(x QAlt) bool { return x.Stem == StemGerman("abmeldung") }
	if got := alts("Anmeldung"); slices.ContainsFunc(got, abmeld) {
		t.Errorf("Anmeldung (a real word) corrected to Abmeldung: %v", got)
	}
	if got := alts("Abmelduung"); !slices.ContainsFunc(got, abmeld) {
		t.Errorf("Abmelduung (a typo) not corrected to Abmeldung: %v", got)
	}
}
