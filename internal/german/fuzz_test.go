package german

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzNormalize: the normaliser and tokenizer take any citizen text
// (invalid UTF-8, NUL, control characters, huge words) without panicking
// and give valid UTF-8. (Fold is not idempotent and need not be: "öe"
// folds to "oe", which folds to "o"; text is folded once.)
func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"Wie stelle ich einen Bauantrag?", "Straßenverkehrsbehörde ÄÖÜ äöü ß ẞ", "Perso verloren!!!", "\xff\xfe\x00abc",
		"Kfz-Zulassungsstelle / Führerschein", "ﬁ ﬂ İı ǅ", strings.Repeat("Donaudampfschifffahrt", 20), "12.03.2026 14:00 Uhr", "e\u0301\u0308 👩‍👩‍👧 \u202e"} {
		f.Add(s)
	}
	a := NewAnalyzer(DefaultSynonyms(), "Bauantrag stellen", "Personalausweis verloren", "Hund anmelden")
	f.Fuzz(func(t *testing.T, s string) {
		folded := Fold(s)
		if utf8.ValidString(s) && !utf8.ValidString(folded) {
			t.Fatalf("Fold(%q) = %q: invalid UTF-8", s, folded)
		}
		n := Normalize(s)
		if utf8.ValidString(s) && !utf8.ValidString(n) {
			t.Fatalf("Normalize(%q) = %q: invalid UTF-8", s, n)
		}
		for _, tok := range Tokens(s) {
			_ = StemGerman(tok)
		}
		_ = TokenizeWith(s, a, false, true)
		_ = TokenizeWith(s, a, true, true)
		_ = Smalltalk(s)
		_ = ContentPart(s)
	})
}
