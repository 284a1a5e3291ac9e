package routing

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
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

// keyLiteral is a string literal shaped like a message key ("hours.open",
// or a prefix the code completes: "weekday.").
var keyLiteral = regexp.MustCompile(`"([a-z][a-z0-9_]*(?:\.[a-z0-9_]+)*\.)"|"([a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+)"`)

// TestTextKeysInCode: every key-shaped literal of a catalogue group
// ("hours.", "office.", ...) in the package's Go code exists in de.toml (a
// literal ending in a dot is a prefix the code completes, and the keys it
// completes to exist), and every key of de.toml is used.
func TestTextKeysInCode(t *testing.T) {
	ref := loadMessages()[i18n.Ref]
	groups := map[string]bool{}
	for k := range ref {
		groups[strings.SplitN(k, ".", 2)[0]] = true
	}
	used := map[string]bool{}
	var prefixes []string
	files, _ := filepath.Glob("*.go")
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range keyLiteral.FindAllStringSubmatch(string(src), -1) {
			k := m[1] + m[2]
			if !groups[strings.SplitN(k, ".", 2)[0]] {
				continue
			}
			if strings.HasSuffix(k, ".") {
				prefixes = append(prefixes, k)
				continue
			}
			used[k] = true
			if _, ok := ref[k]; !ok {
				t.Errorf("%s: unknown key %q", f, k)
			}
		}
	}
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
	for _, k := range built {
		if _, ok := ref[k]; !ok {
			t.Errorf("de.toml lacks %q", k)
		}
		used[k] = true
	}
	for _, p := range prefixes {
		found := false
		for _, k := range built {
			found = found || strings.HasPrefix(k, p)
		}
		if !found {
			t.Errorf("the code completes %q, which this test does not know", p)
		}
	}
	for k := range ref {
		if !used[k] {
			t.Errorf("de.toml has %q, which the code does not use", k)
		}
	}
}

// TestTextLang: a citizen's language code picks its language's texts when
// there are any, else German.
func TestTextLang(t *testing.T) {
	for code, want := range map[string]string{"": "de", "de": "de", "de-AT": "de", "en": "en", "en-GB": "en", "EN_us": "en", "fr": "de", "tr": "de"} {
		if got := textLang(code); got != want {
			t.Errorf("textLang(%q) = %q, want %q", code, got, want)
		}
	}
	if got := text("en", "no.such.key"); got != "no.such.key" {
		t.Errorf("a missing key: %q", got)
	}
	// A text the reordered arguments leave one out of: no "%!(EXTRA".
	if got := handoffLead("Bauamt", "en", 12, false); got != "I have passed your request to Bauamt. Your reference number: #12." {
		t.Errorf("handoffLead = %q", got)
	}
	if got := handoffLead("Zentrale", "de", 12, true); got != "Ihre Anfrage #12 liegt bereits bei der Zentrale; schreiben Sie einfach hier weiter." {
		t.Errorf("handoffLead = %q", got)
	}
}
