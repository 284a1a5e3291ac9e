package bot

import (
	"strings"
	"testing"
)

func TestClassifyIntent(t *testing.T) {
	cases := []struct {
		text    string
		want    intent
		request bool
	}{
		{"?", intentEmpty, false},
		{"???", intentEmpty, false},
		{"hmm", intentEmpty, false},
		{"Hallo, ich hätte da mal eine Frage", intentEmpty, false},
		{"Hallo", intentGreeting, false},
		{"Guten Morgen!", intentGreeting, false},
		{"Danke!", intentThanks, false},
		{"Vielen Dank für die schnelle Hilfe", intentThanks, false},
		{"ok", intentThanks, false},
		{"alles klar", intentThanks, false},
		{"Tschüss", intentGoodbye, false},
		{"Bist du ein Mensch?", intentBot, false},
		{"bist du ein echter mensch", intentBot, false},
		{"Are you a bot?", intentBot, false},
		{"Sind Sie ein Roboter?", intentBot, false},
		{"Kann ich bitte mit einem echten Menschen sprechen?", intentHuman, false},
		{"Mitarbeiter bitte", intentHuman, false},
		{"I want to talk to a human", intentHuman, false},
		{"can i speak to a real person please", intentHuman, false},
		{"Ich möchte mit einem Sachbearbeiter über meinen Bauantrag sprechen", intentHuman, true},
		{"Ich möchte mit einem Mitarbieter sprechen", intentHuman, false}, // typo
		{"Du Idiot", intentInsult, false},
		{"Ihr seid doch alle unfähig!", intentInsult, false},
		{"Scheiß Bot", intentInsult, false},
		{"you are useless", intentInsult, false},
		{"Was kannst du?", intentCapabilities, false},
		{"Was kannst du eigentlich alles?", intentCapabilities, false},
		{"What can you do?", intentCapabilities, false},
		{"Do you speak English?", intentCapabilities, false},
		{"Hallo? Bekomme ich noch eine Antwort?", intentImpatience, false},
		{"Hallo?", intentImpatience, false},
		{"Antwort?", intentImpatience, false},
		{"Ist da jemand?", intentImpatience, false},
		{"wie lange dauert das noch", intentImpatience, false},
		{"any news?", intentImpatience, false},
		{"ja", intentYes, false},
		{"Ja bitte", intentYes, false},
		{"yes please", intentYes, false},
		{"nein danke", intentNo, false},
		{"no thanks", intentNo, false},
		// questions, reports and complaints stay questions
		{"Wie beantrage ich einen Personalausweis?", intentNone, false},
		{"Die scheiß Straßenlaterne in der Goethestraße ist seit Wochen kaputt", intentNone, false},
		{"Wie lange dauert ein Reisepass?", intentNone, false},
		{"Wie funktioniert die Briefwahl?", intentNone, false},
		{"Wann hat der Wertstoffhof offen?", intentNone, false},
		{"Mein Perso ist abgelaufen", intentNone, false},
		{"Parken", intentNone, false},
		{"Säcke für Verpackungsmüll", intentNone, false},
		{"perso verloren", intentNone, false},
		{"Adresse einer Person herausfinden", intentNone, false},
		{"Parkausweis für Menschen mit Schwerbehinderung", intentNone, false},
	}
	for _, c := range cases {
		got, req := classifyIntent(c.text)
		if got != c.want || req != c.request {
			t.Errorf("classifyIntent(%q) = %v, %v; want %v, %v", c.text, got, req, c.want, c.request)
		}
	}
}

func TestVagueQuestion(t *testing.T) {
	cases := []struct {
		text  string
		vague bool
		cue   followUpCue
	}{
		{"und was kostet das?", true, cueCost},
		{"Was kostet das?", true, cueCost},
		{"wo genau?", true, cueWhere},
		{"bis wann?", true, cueWhen},
		{"wie lange dauert das?", true, cueWhen},
		{"welche Unterlagen brauche ich dafür?", true, cueDocuments},
		{"how much does it cost?", true, cueCost},
		{"Was kostet ein Reisepass?", false, cueCost},
		{"Wo melde ich mein Auto an?", false, cueWhere},
	}
	for _, c := range cases {
		vague, cue := vagueQuestion(c.text)
		if vague != c.vague || cue != c.cue {
			t.Errorf("vagueQuestion(%q) = %v, %v; want %v, %v", c.text, vague, cue, c.vague, c.cue)
		}
	}
}

func TestTextLanguage(t *testing.T) {
	cases := map[string]string{
		"Do you speak English?":                 "en",
		"Where can I register my car?":          "en",
		"How do I get a parking permit?":        "en",
		"Thanks":                                "en",
		"Wie beantrage ich einen Reisepass?":    "de",
		"Ich brauche einen neuen Perso":         "de",
		"Hallo":                                 "de",
		"ok":                                    "",
		"Personalausweis":                       "",
		"Mein Auto wurde abgeschleppt, was nun": "de",
	}
	for text, want := range cases {
		if got := textLanguage(text); got != want {
			t.Errorf("textLanguage(%q) = %q, want %q", text, got, want)
		}
	}
}

func TestEditDistanceAtMost1(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want bool
	}{
		{"mitarbeiter", "mitarbieter", true}, {"mitarbeiter", "mitarbeter", true}, {"mitarbeiter", "mitarbeitern", true},
		{"mitarbeiter", "mitxrbeiter", true}, {"mitarbeiter", "mtiarbeietr", false}, {"abc", "abc", true}, {"abc", "xyz", false},
	} {
		if got := editDistanceAtMost1(c.a, c.b); got != c.want {
			t.Errorf("editDistanceAtMost1(%q, %q) = %v", c.a, c.b, got)
		}
	}
}

// The ASCII fast path agrees with the rune by rune check, and near with
// and without its length filter.
func TestEditDistanceASCII(t *testing.T) {
	words := []string{"mitarbeiter", "abcdef", "abcdefg", "bacdef", "abcdfe", "abdef", "xbcdef", "abcdefgh", "abcdeg", "", "a", "ab", "ba", "fuehrerschein", "fuehrerschien", "fuhrerschein"}
	for _, a := range words {
		for _, b := range words {
			if got, want := editDistanceAtMost1(a, b), runeDistanceAtMost1(a, b); got != want {
				t.Errorf("editDistanceAtMost1(%q, %q) = %v, rune by rune %v", a, b, got, want)
			}
		}
	}
	if !editDistanceAtMost1("führerschein", "führerschien") || editDistanceAtMost1("führerschein", "fuhrerschien") {
		t.Error("non-ASCII words")
	}
	set := map[string]bool{"führerschein": true, "mitarbeiter": true, "abc": true}
	for w, want := range map[string]bool{"führerschien": true, "mitarbieter": true, "mitarbeiterin": false, "abd": false, "abc": true, "fuehrerschein": false} {
		if got := near(set, w); got != want {
			t.Errorf("near(%q) = %v, want %v", w, got, want)
		}
	}
}

func TestSummarizeAnswer(t *testing.T) {
	long := strings.Repeat("Ein Satz über den Reisepass, der lang genug ist. ", 20)
	for range 2 { // computed, then remembered
		for _, text := range []string{"kurz", long} {
			s, more := summarizeAnswer(text)
			if ws, wmore := summarize(text, summaryLen); s != ws || more != wmore {
				t.Errorf("summarizeAnswer(%.20q) = %.20q, %v; summarize %.20q, %v", text, s, more, ws, wmore)
			}
		}
	}
}

func TestSummarize(t *testing.T) {
	short := "Kurz und gut."
	if s, more := summarize(short, 450); s != short || more {
		t.Errorf("short = %q %v", s, more)
	}
	long := "Erster Absatz mit wichtigen Dingen. Noch ein Satz.\n\n" + repeat("Zweiter Absatz mit vielen Einzelheiten. ", 20)
	s, more := summarize(long, 450)
	if !more || s != "Erster Absatz mit wichtigen Dingen. Noch ein Satz." {
		t.Errorf("summary = %q %v", s, more)
	}
	if r := rest(long, 450); r == "" || r[:7] != "Zweiter" {
		t.Errorf("rest = %q", r)
	}
}

func repeat(s string, n int) string {
	out := ""
	for i := 0; i < n; i++ {
		out += s
	}
	return out
}

func TestSplitSentences(t *testing.T) {
	got := splitSentences("Mitzubringen sind z. B. der Ausweis bzw. der Pass. Im 2. OG, Zimmer 110. Fertig!\nNeue Zeile")
	want := []string{"Mitzubringen sind z. B. der Ausweis bzw. der Pass.", "Im 2. OG, Zimmer 110.", "Fertig!", "Neue Zeile"}
	if len(got) != len(want) {
		t.Fatalf("got %q", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("sentence %d = %q, want %q", i, got[i], want[i])
		}
	}
}

func TestEnglishNote(t *testing.T) {
	if got := en.note("Termin unter https://www.musterstadt.de/termine. Danach (siehe https://x.de)"); got != "\n\n(This answer is only available in German. More on the city's website: https://www.musterstadt.de/termine – or write “staff” to reach a person.)" {
		t.Errorf("note with link = %q", got)
	}
	if got := en.note("Ohne Link."); got != en.englishNote {
		t.Errorf("note without link = %q", got)
	}
	if got := de.note("https://x.de"); got != "" {
		t.Errorf("German readers get a note: %q", got)
	}
}
