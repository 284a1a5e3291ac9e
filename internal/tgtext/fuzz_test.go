package tgtext

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// FuzzSplitText: the splitter of Telegram messages (staff replies and
// answers, each part escaped for Telegram's HTML mode) gives parts within
// the limit, valid UTF-8 for valid input, and loses nothing but the
// whitespace at the cuts.
func FuzzSplitText(f *testing.F) {
	f.Add("Guten Tag,\n\nvielen Dank. Ihr Antrag ist da! Wir melden uns.", 20)
	f.Add(strings.Repeat("a", 50), 7)
	f.Add(strings.Repeat("😀", 30)+" x", 5)
	f.Add("<b>fett</b> &amp; &lt;tag&gt; "+strings.Repeat("Wort ", 40), 16)
	f.Add("\xff\xfe\x00 kaputt", 3)
	f.Add("", 10)
	f.Fuzz(func(t *testing.T, s string, max int) {
		if max <= 1 || max > 5000 || len(s) > 20000 {
			return
		}
		parts := SplitText(s, max)
		var got strings.Builder
		for _, p := range parts {
			if p == "" {
				t.Fatal("empty part")
			}
			if UTF16Len(p) > max && utf8.ValidString(p) {
				t.Fatalf("part of %d units, max %d: %q", UTF16Len(p), max, p)
			}
			if utf8.ValidString(s) && !utf8.ValidString(p) {
				t.Fatalf("invalid UTF-8 part %q of %q", p, s)
			}
			got.WriteString(p)
		}
		if !utf8.ValidString(s) {
			return
		}
		keep := func(s string) string {
			return strings.Map(func(r rune) rune {
				if unicode.IsSpace(r) {
					return -1
				}
				return r
			}, s)
		}
		if keep(got.String()) != keep(s) {
			t.Fatalf("content changed: %q -> %q", s, parts)
		}
	})
}
