package fieldstaff

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"citybot/internal/i18n"
)

// keyLiteral is a string literal shaped like a message key ("alert.hint"),
// or a prefix the code completes ("alert_mode.").
var keyLiteral = regexp.MustCompile(`"([a-z][a-z_]*\.(?:[a-z_]+)?)"`)

// builtKeys are the keys the code completes at run time, by prefix.
var builtKeys = map[string][]string{
	"alert_mode.": {"alert_mode.off", "alert_mode.each", "alert_mode.digest"},
	"command.":    {"command.hilfe", "command.meinedaten", "command.senden", "command.abbrechen", "command.abmelden"},
}

// TestTextFiles: the bot's texts to staff chats parse, English has the
// keys of de.toml and no others, with the same fmt verbs; every key the
// package's code names exists in de.toml (a key missing there is a test
// failure, not a key shown to staff), and every key of de.toml is used.
func TestTextFiles(t *testing.T) {
	m := loadMessages()
	if len(m) < 2 || len(m[i18n.Ref]) == 0 {
		t.Fatalf("%d languages, %d German keys", len(m), len(m[i18n.Ref]))
	}
	for _, p := range i18n.Check(m) {
		t.Error(p)
	}
	ref := m[i18n.Ref]
	groups := map[string]bool{}
	for k := range ref {
		groups[strings.SplitN(k, ".", 2)[0]] = true
	}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	used := map[string]bool{}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range keyLiteral.FindAllStringSubmatch(string(src), -1) {
			key := k[1]
			if !groups[strings.SplitN(key, ".", 2)[0]] {
				continue
			}
			if strings.HasSuffix(key, ".") {
				built, ok := builtKeys[key]
				if !ok {
					t.Errorf("%s completes %q, which this test does not know", f, key)
				}
				for _, b := range built {
					used[b] = true
					if _, ok := ref[b]; !ok {
						t.Errorf("%s builds %q, which de.toml lacks", f, b)
					}
				}
				continue
			}
			used[key] = true
			if _, ok := ref[key]; !ok {
				t.Errorf("%s uses %q, which de.toml lacks", f, key)
			}
		}
	}
	for k := range ref {
		if !used[k] {
			t.Errorf("de.toml has %q, which the code does not use", k)
		}
	}
	for _, mode := range AlertModes {
		if !used["alert_mode."+mode] {
			t.Errorf("alert mode %q has no text", mode)
		}
	}
}

// TestAlertTextsRecognised: the alerts and digests built from the
// catalogue start as looksLikeAlert expects (a reply to a forwarded
// alert is recognised by its text).
func TestAlertTextsRecognised(t *testing.T) {
	c := alertCandidate{CaseID: 12, DepartmentName: "Bauamt", Subject: "Frage"}
	for _, p := range []string{alertPayload("", c).Text, digestPayload("", []alertCandidate{c, c}).Text} {
		plain := regexp.MustCompile(`<[^>]+>`).ReplaceAllString(p, "")
		if !looksLikeAlert(plain) {
			t.Errorf("not recognised as an alert: %q", plain)
		}
	}
}
