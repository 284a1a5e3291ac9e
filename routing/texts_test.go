package routing

import (
	"strconv"
	"testing"

	"citybot/internal/i18n"
)

// TestTextFiles: the message files parse, every language has the keys of
// de.toml and no others, and each key's translations take the same fmt
// verbs.
func TestTextFiles(t *testing.T) {
	m := loadMessages()
	if len(m) < 2 || len(m[i18n.Ref]) == 0 {
		t.Fatalf("%d languages, %d German keys", len(m), len(m[i18n.Ref]))
	}
	for _, p := range i18n.Check(m) {
		t.Error(p)
	}
}

// TestTextKeysInCode: every key-shaped literal of a catalogue group
// ("hours.", "office.", ...) in the package's Go code exists in de.toml (a
// literal ending in a dot is a prefix the code completes, and the keys it
// completes to exist), and every key of de.toml is used.
func TestTextKeysInCode(t *testing.T) {
	ref := loadMessages()[i18n.Ref]
	// The keys the code completes at run time.
	var built []string
	for _, form := range []string{"subject", "to", "at"} {
		for _, g := range []string{"n", "f", "m", "other"} {
			built = append(built, "office."+form+"."+g)
		}
	}
	for d := range 7 {
		built = append(built, "weekday."+strconv.Itoa(d))
	}
	for m := 1; m <= 12; m++ {
		built = append(built, "month."+strconv.Itoa(m))
	}
	_, problems := i18n.CheckCode(".", ref, built)
	for _, p := range problems {
		t.Error(p)
	}
}
