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

// Without the thesaurus the word list still answers and nothing is related.
func TestLexiconWordsOnly(t *testing.T) {
	lx := DefaultLexicon().WordsOnly()
	if !lx.IsWord("hundesteuer") || lx.IsWord("persnalausweis") {
		t.Errorf("WordsOnly: IsWord changed")
	}
	lx.Related(StemGerman("strafzettel"), func(s string) { t.Errorf("WordsOnly: Related gave %q", s) })
	a := NewAnalyzerWithLexicon(lx, nil, "Strafmandat bezahlen")
	for _, g := range a.AnalyzeQuery("Strafzettel", true).Groups {
		for _, x := range g.Alts {
			if x.Rel == RelThesaurus {
				t.Errorf("WordsOnly: thesaurus alternative %v", x)
			}
		}
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

// A one-word synonym that is also a German stopword ("bin" = Mülltonne)
// does not fire in a German message.
func TestStopwordSynonymOnlyInEnglish(t *testing.T) {
	a := NewAnalyzer([]Synonym{{Term: "bin", Canonical: "Mülltonne"}}, "Die Mülltonne bestellen", "Umzug melden")
	has := func(q string) bool {
		for _, g := range a.AnalyzeQuery(q, true).Groups {
			if slices.ContainsFunc(g.Alts, func(x QAlt) bool { return x.Stem == StemGerman("mülltonne") }) {
				return true
			}
		}
		return false
	}
	if has("Ich bin umgezogen, was muss ich tun?") {
		t.Error(`"ich bin" matched the synonym bin = Mülltonne`)
	}
	if !has("When is my bin emptied?") {
		t.Error(`English "bin" did not match Mülltonne`)
	}
}

// An unknown word that splits into known parts but is one edit from a
// known word also gets that word as a typo alternative.
func TestTypoBehindCompoundSplit(t *testing.T) {
	a := NewAnalyzer(nil, "Wohngeld beantragen", "Wir wohnen hier", "Die Regeln gelten")
	qa := a.AnalyzeQuery("wohngelt", true)
	if len(qa.Groups) != 1 {
		t.Fatalf("%d groups", len(qa.Groups))
	}
	g := qa.Groups[0]
	if !slices.ContainsFunc(g.Alts, func(x QAlt) bool { return x.Stem == StemGerman("wohngeld") && x.Rel == RelTypo }) {
		t.Errorf("wohngelt: alternatives %v, parts %v: want wohngeld as a typo", g.Alts, g.Parts)
	}
}
