package bot

import (
	"html"
	"strings"
	"unicode/utf8"
)

// EscapeHTML escapes text for Telegram's HTML parse mode (which knows &lt;
// &gt; &amp; &quot; and numeric entities).
func EscapeHTML(s string) string { return html.EscapeString(s) }

// sanitize makes s storable and sendable: valid UTF-8 without NUL bytes.
func sanitize(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if strings.IndexByte(s, 0) >= 0 {
		s = strings.ReplaceAll(s, "\x00", "")
	}
	return s
}

// truncateRunes cuts s to at most n runes, adding "…" when it cut.
func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
