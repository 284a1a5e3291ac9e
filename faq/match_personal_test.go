package faq_test

import (
	"testing"

	"citybot/faq"
)

// TestPersonalNarrative: first-person narratives with specific
// circumstances are individual cases; general questions about the same
// topics are not. The phrasings are made up for this test (not from the dev
// set).
func TestPersonalNarrative(t *testing.T) {
	personal := []string{
		"Mein Vater liegt im Krankenhaus und kann seinen Antrag nicht selbst abgeben. Was nun?",
		"My mother is in a care home and cannot come to the office to renew her ID.",
		"Ich bin in Kasachstan geboren und habe keinen Geburtsnachweis. Wie bekomme ich trotzdem eine Meldebescheinigung?",
		"I was born abroad and I have no birth certificate, what now?",
		"Darf meine Katze bei der Hochzeit mit dabei sein?",
		"May our dog come along to the ceremony in the registry office?",
		"In meinem Fall gibt es keinen Vermieter, weil ich bei meinen Eltern wohne – brauche ich trotzdem eine Bestätigung?",
		"Meine Oma ist pflegebedürftig und kann nicht mehr allein wohnen, wer hilft uns?",
	}
	general := []string{
		"Kann ich für mein Kind einen Kinderreisepass beantragen?",
		"Muss ich meinen Hund anmelden?",
		"Was muss ich tun, wenn mein Vater gestorben ist?",
		"Rente reicht nicht – gibt es Grundsicherung?",
		"Wie melde ich mein Baby beim Standesamt an?",
		"Kann meine Frau das Auto für mich zulassen?",
		"Wo darf mein Hund ohne Leine laufen?",
		"Ich habe keine Ahnung, wann der Müll abgeholt wird.",
		"Steuer kann nicht bezahlt werden",
		"Was muss ich für mein Kind mitbringen?",
		"Muss mein Kind beim Termin dabei sein?",
		"Ich möchte mein Kind für die Kita anmelden, was muss ich dabei beachten?",
		"What do I need to bring for my child's passport?",
		"Darf mein Hund auf dem Friedhof frei laufen?",
	}
	for _, q := range personal {
		if !faq.IsPersonal(q) {
			t.Errorf("IsPersonal(%q) = false (score %.2f), want true", q, faq.PersonalScore(q))
		}
	}
	for _, q := range general {
		if faq.IsPersonal(q) {
			t.Errorf("IsPersonal(%q) = true (score %.2f), want false", q, faq.PersonalScore(q))
		}
	}
}

// TestPersonalFAQPhrasings: the detector's false-positive rate on the FAQ's
// own questions and variants (general phrasings by definition) stays 0.
func TestPersonalFAQPhrasings(t *testing.T) {
	entries, _, _ := loadDemo(t)
	n, flagged := 0, 0
	for _, e := range entries {
		for _, p := range append([]string{e.Question}, e.Variants...) {
			n++
			if faq.IsPersonal(p) {
				flagged++
				t.Errorf("FAQ phrasing flagged as personal (%s, score %.2f): %q", e.ID, faq.PersonalScore(p), p)
			}
		}
	}
	t.Logf("personal-case detector on FAQ phrasings: %d/%d flagged", flagged, n)
}
