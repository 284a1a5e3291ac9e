package german

import (
	"slices"
	"testing"
)

func TestEnglishTranslate(t *testing.T) {
	d := DefaultEnglish()
	for en, de := range map[string]string{"rent": "miete", "died": "gestorben", "apply": "beantragen", "backpack": "rucksack", "order": "bestellung"} {
		if got := d.Translate(EnglishStem(en)); !slices.Contains(got, StemGerman(de)) {
			t.Errorf("Translate(%s) = %v, want %s among them", en, got, de)
		}
	}
	if got := d.Translate("xyzqwv"); got != nil {
		t.Errorf("Translate(xyzqwv) = %v, want nil", got)
	}
	var none *English
	if none.Translate("rent") != nil {
		t.Error("a nil dictionary translates")
	}
}

// groupAlts returns the alternatives of the group of the message word surf.
func groupAlts(t *testing.T, qa QueryAnalysis, surf string) []QAlt {
	t.Helper()
	for _, g := range qa.Groups {
		if g.Surface == surf {
			return g.Alts
		}
	}
	t.Fatalf("no group for %q in %+v", surf, qa.Groups)
	return nil
}

// An English message reaches the German words of the FAQ through the
// dictionary, below an exact match; a German message does not; the city's
// synonyms win; the canonical words of a synonym are not translated again.
func TestAnalyzerEnglishDictionary(t *testing.T) {
	a := NewAnalyzer([]Synonym{{Term: "tenant", Canonical: "Mieter"}}, "Die Miete bezahlen", "Eine Mülltonne bestellen", "Der Mieter zieht aus")
	a.SetEnglish(DefaultEnglish)
	dict := func(x QAlt) bool { return x.Rel == RelDictionary }

	qa := a.AnalyzeQuery("How do I order a new bin?", true)
	got := groupAlts(t, qa, "order")
	i := slices.IndexFunc(got, func(x QAlt) bool { return x.Stem == StemGerman("bestellen") })
	if i < 0 || got[i].W != AltDictionary || got[i].Rel != RelDictionary {
		t.Errorf("order: alternatives %v, want bestellen at weight %v via the dictionary", got, AltDictionary)
	}

	if got := groupAlts(t, a.AnalyzeQuery("Wie kann ich die Miete bezahlen und order?", true), "order"); slices.ContainsFunc(got, dict) {
		t.Errorf("German message: order translated: %v", got)
	}

	qa = a.AnalyzeQuery("the tenant has to pay", true)
	if got := groupAlts(t, qa, "tenant"); slices.ContainsFunc(got, dict) || !slices.ContainsFunc(got, func(x QAlt) bool { return x.Stem == StemGerman("mieter") && x.Rel == RelSynonym }) {
		t.Errorf("tenant: alternatives %v, want the synonym Mieter and no translation", got)
	}
	if got := groupAlts(t, qa, "pay"); !slices.ContainsFunc(got, func(x QAlt) bool { return x.Stem == StemGerman("bezahlen") && x.Rel == RelDictionary }) {
		t.Errorf("pay: alternatives %v, want bezahlen via the dictionary", got)
	}

	// without SetEnglish nothing is translated
	b := NewAnalyzer(nil, "Eine Mülltonne bestellen")
	if got := groupAlts(t, b.AnalyzeQuery("How do I order a new bin?", true), "order"); slices.ContainsFunc(got, dict) {
		t.Errorf("no dictionary set: order translated: %v", got)
	}
}

// With a lexicon, a word of a German message that is no German word but an
// English one is translated too.
func TestAnalyzerEnglishWordInGermanMessage(t *testing.T) {
	a := NewAnalyzerWithLexicon(DefaultLexicon(), nil, "Einen Rucksack verloren", "Im Fundbüro abholen")
	a.SetEnglish(DefaultEnglish)
	got := groupAlts(t, a.AnalyzeQuery("Ich habe meinen Backpack verloren", true), "backpack")
	if !slices.ContainsFunc(got, func(x QAlt) bool { return x.Stem == StemGerman("rucksack") && x.Rel == RelDictionary }) {
		t.Errorf("backpack: alternatives %v, want Rucksack via the dictionary", got)
	}
}

// An English word of an English message that the dictionary has, none of
// whose translations the FAQ uses, is not taken for a typo of a German
// word ("cross" is no "groß").
func TestAnalyzerEnglishWordNoTypo(t *testing.T) {
	a := NewAnalyzer(nil, "Wie groß ist die Tonne?")
	typo := func(x QAlt) bool { return x.Rel == RelTypo }
	q := "how do I cross the road"
	if got := groupAlts(t, a.AnalyzeQuery(q, true), "cross"); !slices.ContainsFunc(got, typo) {
		t.Fatalf("without the dictionary: cross: alternatives %v, want a typo of groß (the test's premise)", got)
	}
	a.SetEnglish(DefaultEnglish)
	if got := groupAlts(t, a.AnalyzeQuery(q, true), "cross"); slices.ContainsFunc(got, typo) {
		t.Errorf("cross: alternatives %v, want no typo", got)
	}
}
