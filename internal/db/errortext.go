package db

import "strings"

// ErrorText is err's text as stored with a failed row: at most 1000 bytes,
// valid UTF-8 (cut within a rune, or with a NUL, PostgreSQL would refuse
// it in a text column), "" for nil.
func ErrorText(err error) string {
	if err == nil {
		return ""
	}
	s := err.Error()
	if len(s) > 1000 {
		s = s[:1000]
	}
	return strings.ToValidUTF8(strings.ReplaceAll(s, "\x00", ""), "")
}
