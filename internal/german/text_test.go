package german_test

import (
	"reflect"
	"strings"
	"testing"

	"citybot/internal/german"
)

func TestFold(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Führungszeugnis", "fuhrungszeugnis"},
		{"Fuehrungszeugnis", "fuhrungszeugnis"},
		{"FÜHRUNGSZEUGNIS", "fuhrungszeugnis"},
		{"Straße", "strasse"},
		{"Strasse", "strasse"},
		{"Gartenhäuschen", "gartenhauschen"},
		{"Gartenhaeuschen", "gartenhauschen"},
		{"Müll", "mull"},
		{"Muell", "mull"},
		{"Größe", "grosse"},
		{"Groesse", "grosse"},
		// diphthongs and vowel sequences stay: Steuer, neue, Bauer, Quelle
		{"Steuer", "steuer"},
		{"neue", "neue"},
		{"Bauer", "bauer"},
		{"Quelle", "quelle"},
	}
	for _, tt := range tests {
		if got := german.Fold(tt.in); got != tt.want {
			t.Errorf("Fold(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestNormalizeAndTokens(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Wo bleibt mein Bauantrag?!", "wo bleibt mein bauantrag"},
		{"  Kita-Platz   anmelden… ", "kitaplatz anmelden"},
		{"Geht's online?", "gehts online"},
		{"E-Mail: info@musterstadt.de", "email info musterstadt de"},
	}
	for _, tt := range tests {
		if got := german.Normalize(tt.in); got != tt.want {
			t.Errorf("Normalize(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if got := german.Tokens("Hallo, Welt!"); !reflect.DeepEqual(got, []string{"hallo", "welt"}) {
		t.Errorf("Tokens = %v", got)
	}
}

func TestStopwords(t *testing.T) {
	for _, w := range []string{"der", "und", "ich", "möchte", "the", "how", "an", "ab"} {
		if !german.IsStopword(w) {
			t.Errorf("%q should be a stopword", w)
		}
	}
	for _, w := range []string{"Ausweis", "weg", "Kosten", "Hund", "fest"} {
		if german.IsStopword(w) {
			t.Errorf("%q should not be a stopword", w)
		}
	}
}

func TestStemGerman(t *testing.T) {
	// Pairs that must share a stem.
	same := [][]string{
		{"genehmigung", "genehmigen"},
		{"anmeldung", "anmelden"},
		{"hunde", "hund"},
		{"steuer", "steuern"},
		{"sonntags", "sonntag"},
		{"kosten", "koste"},
		{"ausweise", "ausweis"},
	}
	for _, p := range same {
		a, b := german.StemGerman(german.Fold(p[0])), german.StemGerman(german.Fold(p[1]))
		if a != b {
			t.Errorf("StemGerman(%q) = %q, StemGerman(%q) = %q, want equal", p[0], a, p[1], b)
		}
	}
	// Snowball reference outputs (snowballstem.org German vocabulary).
	ref := map[string]string{
		"aufeinanderfolgenden": "aufeinanderfolg",
		"kategorischen":        "kategor",
		"bedürfnissen":         "bedurfnis",
		"äckern":               "ack",
		"derbsten":             "derb",
	}
	for in, want := range ref {
		if got := german.StemGerman(in); got != want {
			t.Errorf("StemGerman(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSplitCompound(t *testing.T) {
	a := german.NewAnalyzer(nil,
		"Hund anmelden. Die Steuer zahlen. Antrag stellen. Bauen und Bau. Parken mit Ausweis. Platz für Kinder, Kita.",
		"Park und Amt. Ehe schließen, Urkunde holen. Termin.")
	tests := []struct {
		in   string
		want []string
	}{
		{"hundesteuer", []string{"hund", "steuer"}},
		{"bauantrag", []string{"bau", "antrag"}},
		{"parkausweis", []string{"park", "ausweis"}},
		{"kitaplatz", []string{"kita", "platz"}},
		{"eheurkunde", []string{"ehe", "urkunde"}},
		{"hundesteuern", []string{"hund", "steuern"}}, // inflected head
		{"termin", nil},    // no nonsense split ("ter" + "min")
		{"hund", nil},      // too short
		{"xyzsteuer", nil}, // unknown modifier
	}
	for _, tt := range tests {
		if got := a.SplitCompound(tt.in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("SplitCompound(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestTypoCorrection(t *testing.T) {
	a := german.NewAnalyzer(nil, "Personalausweis beantragen. Baugenehmigung. Wertstoffhof. Führungszeugnis. Pass. Hund.")
	stem := func(w string) string { return german.StemGerman(german.Fold(w)) }
	tests := []struct {
		in   string
		want string // "" = no correction
		dist int
	}{
		{"Persnalausweis", stem("Personalausweis"), 1}, // deletion
		{"Baugenemigung", stem("Baugenehmigung"), 1},
		{"Wertstofhof", stem("Wertstoffhof"), 1},
		{"Fürungszeugnis", stem("Führungszeugnis"), 1},
		{"Pesronalausweis", stem("Personalausweis"), 1}, // transposition
		{"Wertstofhoff", stem("Wertstoffhof"), 2},       // two edits, long word
		{"Pas", "", 0}, // short words are not corrected
		{"Hnud", "", 0},
		{"Baugenemmigunk", "", 0}, // too far
	}
	for _, tt := range tests {
		got, d := a.Correct(stem(tt.in))
		if tt.want == "" {
			if len(got) != 0 {
				t.Errorf("Correct(%q) = %v, want none", tt.in, got)
			}
			continue
		}
		if len(got) == 0 || got[0] != tt.want || d != tt.dist {
			t.Errorf("Correct(%q) = %v (d=%d), want %q (d=%d)", tt.in, got, d, tt.want, tt.dist)
		}
	}
}

func TestQueryTermsSynonymsAndVerbs(t *testing.T) {
	a := german.NewAnalyzer(german.DefaultSynonyms(),
		"Wie melde ich meinen Hund an? Personalausweis beantragen. Ausweis und Personal. Verwarnungsgeld bezahlen. Reisepass. Wohnsitz anmelden. Umzug. Kennzeichen.")
	has := func(text, stem string) bool {
		for _, wt := range a.QueryTerms(text) {
			if wt.Stems[stem] > 0 {
				return true
			}
		}
		return false
	}
	st := func(w string) string { return german.StemGerman(german.Fold(w)) }
	tests := []struct{ text, stem string }{
		{"Perso verloren", st("Personalausweis")},
		{"Knöllchen bezahlen", st("Verwarnungsgeld")},
		{"neues Nummernschild", st("Kennzeichen")},
		{"I need a passport", st("Reisepass")},
		{"how do I register my address", st("Wohnsitz")},
		{"Wie melde ich mich an?", st("anmelden")},   // separable verb re-attached
		{"wir ziehen nächste Woche um", st("Umzug")}, // joined verb + synonym
		{"Personalausweis", st("Ausweis")},           // compound part
	}
	for _, tt := range tests {
		if !has(tt.text, tt.stem) {
			t.Errorf("QueryTerms(%q) lacks %q: %+v", tt.text, tt.stem, a.QueryTerms(tt.text))
		}
	}
	if strings.Contains(german.Normalize("Knöllchen"), "ö") {
		t.Error("Normalize keeps umlauts")
	}
}

func TestDefaultSynonyms(t *testing.T) {
	syns := german.DefaultSynonyms()
	if len(syns) < 200 {
		t.Fatalf("only %d default synonyms", len(syns))
	}
	seen := map[string]bool{}
	for _, s := range syns {
		if s.Term == "" || s.Canonical == "" {
			t.Errorf("empty synonym %+v", s)
		}
		k := german.Normalize(s.Term)
		if seen[k] {
			t.Errorf("duplicate synonym term %q", s.Term)
		}
		seen[k] = true
	}
}
