package fieldstaff

import (
	"regexp"
	"testing"

	"citybot/internal/i18n"
)

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
	var built []string
	for _, keys := range builtKeys {
		built = append(built, keys...)
	}
	used, problems := i18n.CheckCode(".", m[i18n.Ref], built)
	for _, p := range problems {
		t.Error(p)
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
