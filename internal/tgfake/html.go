package tgfake

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// htmlTags are the tags Telegram's HTML parse mode supports.
var htmlTags = map[string]bool{
	"b": true, "strong": true, "i": true, "em": true, "u": true, "ins": true,
	"s": true, "strike": true, "del": true, "a": true, "code": true, "pre": true,
	"tg-spoiler": true, "blockquote": true, "span": true, "tg-emoji": true,
}

// ParseHTML validates text the way Telegram's parse_mode=HTML does and returns the
// plain text (tags removed, entities decoded). The error text matches what follows
// "Bad Request: can't parse entities: " in Telegram's answer.
//
// Supported: the tags b, strong, i, em, u, ins, s, strike, del, a (href), code
// (class="language-..."), pre, tg-spoiler, blockquote (expandable), span
// class="tg-spoiler", tg-emoji (emoji-id); the entities &lt; &gt; &amp; &quot; and
// numeric &#NN; / &#xHH;. An unescaped '<' is always an error. A '&' that does not
// start a supported entity is an error unless lenientAmp is set (Telegram itself
// keeps it literally; the strict default catches missing escaping).
func ParseHTML(text string, lenientAmp bool) (string, error) {
	var out strings.Builder
	out.Grow(len(text))
	var stack []string
	n := len(text)
	for i := 0; i < n; {
		c := text[i]
		switch c {
		case '&':
			if r, size := decodeEntity(text[i:]); size > 0 {
				out.WriteRune(r)
				i += size
				continue
			}
			if !lenientAmp {
				return "", fmt.Errorf("unsupported HTML entity or unescaped \"&\" at byte offset %d (tgfake strict mode)", i)
			}
			out.WriteByte('&')
			i++
		case '<':
			begin := i
			i++
			if i < n && text[i] == '/' {
				// end tag
				if len(stack) == 0 {
					return "", fmt.Errorf("Unexpected end tag at byte offset %d", begin)
				}
				j := i + 1
				for j < n && !isHTMLSpace(text[j]) && text[j] != '>' {
					j++
				}
				name := strings.ToLower(text[i+1 : j])
				for j < n && isHTMLSpace(text[j]) {
					j++
				}
				if j >= n || text[j] != '>' {
					return "", fmt.Errorf("Unclosed end tag at byte offset %d", begin)
				}
				open := stack[len(stack)-1]
				if name != "" && name != open {
					return "", fmt.Errorf("Unmatched end tag at byte offset %d, expected \"</%s>\", found \"</%s>\"", begin, open, name)
				}
				stack = stack[:len(stack)-1]
				i = j + 1
				continue
			}
			// start tag
			j := i
			for j < n && !isHTMLSpace(text[j]) && text[j] != '>' {
				j++
			}
			if j >= n {
				return "", fmt.Errorf("Unclosed start tag at byte offset %d", begin)
			}
			name := strings.ToLower(text[i:j])
			if !htmlTags[name] {
				return "", fmt.Errorf("Unsupported start tag \"%s\" at byte offset %d", name, begin)
			}
			var spanClass string
			// attributes
			for {
				for j < n && isHTMLSpace(text[j]) {
					j++
				}
				if j >= n {
					return "", fmt.Errorf("Unclosed start tag at byte offset %d", begin)
				}
				if text[j] == '>' {
					j++
					break
				}
				ab := j
				for j < n && !isHTMLSpace(text[j]) && text[j] != '=' && text[j] != '>' {
					j++
				}
				attr := strings.ToLower(text[ab:j])
				for j < n && isHTMLSpace(text[j]) {
					j++
				}
				if j >= n {
					return "", fmt.Errorf("Unclosed start tag at byte offset %d", begin)
				}
				if text[j] != '=' {
					if name == "blockquote" && attr == "expandable" {
						continue // boolean attribute
					}
					return "", fmt.Errorf("Expected equal sign in declaration of an attribute of the tag \"%s\" at byte offset %d", name, begin)
				}
				j++
				for j < n && isHTMLSpace(text[j]) {
					j++
				}
				if j >= n {
					return "", fmt.Errorf("Unclosed start tag at byte offset %d", begin)
				}
				var val string
				if q := text[j]; q == '"' || q == '\'' {
					end := strings.IndexByte(text[j+1:], q)
					if end < 0 {
						return "", fmt.Errorf("Unclosed start tag at byte offset %d", begin)
					}
					raw := text[j+1 : j+1+end]
					dec, err := decodeAttr(raw)
					if err != nil {
						return "", fmt.Errorf("%v in attribute of the tag \"%s\" at byte offset %d", err, name, begin)
					}
					val = dec
					j += end + 2
				} else {
					vb := j
					for j < n && !isHTMLSpace(text[j]) && text[j] != '>' {
						j++
					}
					val = text[vb:j]
				}
				if name == "span" && attr == "class" {
					spanClass = val
				}
			}
			if name == "span" && spanClass != "tg-spoiler" {
				return "", fmt.Errorf("Tag \"span\" must have class \"tg-spoiler\" at byte offset %d", begin)
			}
			stack = append(stack, name)
			i = j
		default:
			// copy a run of plain bytes
			j := i + 1
			for j < n && text[j] != '&' && text[j] != '<' {
				j++
			}
			out.WriteString(text[i:j])
			i = j
		}
	}
	if len(stack) > 0 {
		return "", fmt.Errorf("Can't find end tag corresponding to start tag \"%s\"", stack[len(stack)-1])
	}
	return out.String(), nil
}

func decodeAttr(raw string) (string, error) {
	if !strings.Contains(raw, "&") {
		return raw, nil
	}
	var b strings.Builder
	for i := 0; i < len(raw); {
		if raw[i] == '&' {
			if r, size := decodeEntity(raw[i:]); size > 0 {
				b.WriteRune(r)
				i += size
				continue
			}
		}
		b.WriteByte(raw[i])
		i++
	}
	return b.String(), nil
}

// decodeEntity decodes an HTML entity at the start of s ("&lt;", "&#39;", ...) and
// returns the rune and the number of bytes consumed, or size 0 if s does not start
// with an entity Telegram supports.
func decodeEntity(s string) (rune, int) {
	end := strings.IndexByte(s, ';')
	if end < 2 || end > 12 {
		return 0, 0
	}
	name := s[1:end]
	switch name {
	case "lt":
		return '<', end + 1
	case "gt":
		return '>', end + 1
	case "amp":
		return '&', end + 1
	case "quot":
		return '"', end + 1
	}
	if name[0] != '#' || len(name) < 2 {
		return 0, 0
	}
	var v uint64
	var err error
	if name[1] == 'x' || name[1] == 'X' {
		if len(name) < 3 {
			return 0, 0
		}
		v, err = strconv.ParseUint(name[2:], 16, 32)
	} else {
		v, err = strconv.ParseUint(name[1:], 10, 32)
	}
	if err != nil || v == 0 || v > utf8.MaxRune || (v >= 0xD800 && v <= 0xDFFF) {
		return 0, 0
	}
	return rune(v), end + 1
}

func isHTMLSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'
}

// UTF16Len returns the length of s in UTF-16 code units, the unit Telegram uses
// for text limits and entity offsets.
func UTF16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}
