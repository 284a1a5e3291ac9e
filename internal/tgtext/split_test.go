package tgtext

import (
	"strings"
	"testing"
)

func TestSplitText(t *testing.T) {
	para := strings.Repeat("a", 30)
	for _, tc := range []struct {
		name string
		in   string
		max  int
		want []string
	}{
		{"short", "hallo", 10, []string{"hallo"}},
		{"empty", "  ", 10, nil},
		{"paragraphs", para + "\n\n" + para, 40, []string{para, para}},
		{"line break", "eins zwei\ndrei vier", 12, []string{"eins zwei", "drei vier"}},
		{"sentence", "Erster Satz. Zweiter Satz.", 15, []string{"Erster Satz.", "Zweiter Satz."}},
		{"hard cut", "abcdefghij", 4, []string{"abcd", "efgh", "ij"}},
		// an emoji is two UTF-16 units and is never cut in half
		{"surrogates", "😀😀😀", 3, []string{"😀", "😀", "😀"}},
	} {
		got := SplitText(tc.in, tc.max)
		if strings.Join(got, "|") != strings.Join(tc.want, "|") || len(got) != len(tc.want) {
			t.Errorf("%s: SplitText(%q, %d) = %q, want %q", tc.name, tc.in, tc.max, got, tc.want)
		}
		for _, p := range got {
			if UTF16Len(p) > tc.max {
				t.Errorf("%s: part %q longer than %d", tc.name, p, tc.max)
			}
		}
	}
}

func TestSplitTextTelegramLimit(t *testing.T) {
	text := strings.Repeat("Ein Absatz über Gebühren 💶 und Öffnungszeiten. ", 120) + "\n\n" + strings.Repeat("x", 5000)
	parts := SplitText(text, 4096)
	total := 0
	for _, p := range parts {
		if n := UTF16Len(p); n > 4096 {
			t.Errorf("part of %d UTF-16 units", n)
		}
		total += len(strings.ReplaceAll(p, " ", ""))
	}
	if want := len(strings.ReplaceAll(strings.ReplaceAll(text, " ", ""), "\n", "")); total != want {
		t.Errorf("lost text: %d of %d bytes", total, want)
	}
}

// BenchmarkSplitTextLong: a long text (1 MB) in Telegram-sized parts.
func BenchmarkSplitTextLong(b *testing.B) {
	text := strings.Repeat("Ein Satz über Gebühren und Öffnungszeiten. ", 24000)
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		if len(SplitText(text, TelegramTextLimit)) < 200 {
			b.Fatal("too few parts")
		}
	}
}
