package tgtext

import (
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// TelegramTextLimit is the most a Telegram message's text may hold, in
// UTF-16 units after parsing of its HTML markup.
const TelegramTextLimit = 4096

// UTF16Len is the length of s in UTF-16 code units, the unit of Telegram's
// limits and entity offsets.
func UTF16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

// prefixWithin returns the byte length of the longest prefix of s that is at
// most max UTF-16 units long (never splitting a rune).
func prefixWithin(s string, max int) int {
	n := 0
	for i, r := range s {
		w := utf16.RuneLen(r)
		if n+w > max {
			return i
		}
		n += w
	}
	return len(s)
}

// SplitText splits s into parts of at most max UTF-16 units, preferring
// paragraph boundaries, then line breaks, then sentence ends, then spaces;
// only a single over-long word is cut. Parts are trimmed; empty parts are
// dropped.
func SplitText(s string, max int) []string {
	s = strings.TrimSpace(s)
	if max <= 0 || UTF16Len(s) <= max {
		if s == "" {
			return nil
		}
		return []string{s}
	}
	var parts []string
	for s != "" {
		// prefixWithin looks at most max units far: the whole split is
		// linear in the text's length (measuring the rest each round was
		// quadratic: 1 MB in parts of 4096 took 0.2 s).
		cut := prefixWithin(s, max)
		if cut == len(s) {
			parts = append(parts, s)
			break
		}
		head := s[:cut]
		at := -1
		for _, sep := range []string{"\n\n", "\n", ". ", "! ", "? ", " "} {
			// Do not make tiny parts: a boundary in the first quarter is not worth it.
			if i := strings.LastIndex(head, sep); i > 0 && i >= cut/4 {
				at = i + len(sep)
				break
			}
		}
		if at <= 0 {
			at = cut
			if at == 0 { // max smaller than one rune: take one rune
				_, at = utf8.DecodeRuneInString(s)
			}
		}
		if p := strings.TrimSpace(s[:at]); p != "" {
			parts = append(parts, p)
		}
		s = strings.TrimSpace(s[at:])
	}
	return parts
}
