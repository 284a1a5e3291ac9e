package db_test

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"citybot/internal/db"
)

// A stored error text is valid UTF-8 without NUL bytes, within 1000 bytes,
// also when the cut falls inside a rune.
func TestErrorText(t *testing.T) {
	if db.ErrorText(nil) != "" {
		t.Error("nil error")
	}
	s := db.ErrorText(errors.New("x\x00" + strings.Repeat("ä", 600)))
	if !utf8.ValidString(s) || strings.Contains(s, "\x00") || len(s) > 1000 || !strings.HasPrefix(s, "xää") {
		t.Errorf("ErrorText = %d bytes, valid %v: %.20q", len(s), utf8.ValidString(s), s)
	}
}
