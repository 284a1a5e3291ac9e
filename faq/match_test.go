package faq_test

import (
	"sync"
	"testing"

	"citybot/faq"
	"citybot/internal/german"
)

func TestSmalltalk(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Hallo", german.SmalltalkGreeting},
		{"hi", german.SmalltalkGreeting},
		{"Guten Morgen!", german.SmalltalkGreeting},
		{"moin moin", german.SmalltalkGreeting},
		{"Hallo zusammen", german.SmalltalkGreeting},
		{"Danke!", german.SmalltalkThanks},
		{"ok danke", german.SmalltalkThanks},
		{"Vielen Dank für die schnelle Hilfe!", german.SmalltalkThanks},
		{"thank you so much", german.SmalltalkThanks},
		{"Tschüss", german.SmalltalkGoodbye},
		{"Schönen Abend noch", german.SmalltalkGoodbye},
		{"Wie geht's?", german.SmalltalkHowAreYou},
		{"how are you", german.SmalltalkHowAreYou},
		{"Bist du ein Mensch oder ein Bot?", german.SmalltalkBot},
		{"are you a bot?", german.SmalltalkBot},
		{"ok", german.SmalltalkOK},
		{"Alles klar, super", german.SmalltalkOK},
		{"Guten Tag, ich hätte mal eine Frage", german.SmalltalkAsk},
		// questions are not small talk, even with a greeting
		{"Hallo, wie beantrage ich einen Pass?", ""},
		{"Danke, und wo ist der Wertstoffhof?", ""},
		{"Guten Morgen, mein Perso ist weg", ""},
		{"Wie wird das Wetter morgen?", ""},
		{"sperrmüll", ""},
		{"", ""},
		{"die Stadt", ""},
	}
	for _, tt := range tests {
		if got := german.Smalltalk(tt.in); got != tt.want {
			t.Errorf("german.Smalltalk(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestIsPersonal(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		// file numbers and status enquiries
		{"Wo bleibt mein Antrag? Aktenzeichen 2023-77", true},
		{"Status meines Vorgangs AZ: B-2024-1", true},
		{"Ich habe vor drei Wochen den Pass beantragt und noch nichts gehört", true},
		{"Meine Bestellung ist immer noch nicht angekommen, seit Wochen warte ich", true},
		// defect reports with a place
		{"Die Ampel in der Kirchstraße 3 ist kaputt", true},
		{"Schlagloch in der Bergstraße, bitte reparieren", true},
		{"Der Papiercontainer am Marktweg 2 wurde nicht geleert", true},
		{"Im Park hat jemand Müll abgeladen", true},
		{"Die Scheibe der Bushaltestelle Gartenweg 4 ist eingeschlagen", true},
		{"Der Glascontainer am Rosenplatz 1 quillt über", true},
		{"The bins in Ahornweg 3 have been overflowing for days", true},
		// a failed service or a defect stated as a fact, in any tense
		{"Die Biotonne wird seit zwei Wochen nicht geleert", true},
		{"Die Laterne vor dem Kindergarten ist kaputt", true},
		// nobody does what should be done
		{"Am Spielplatz liegt seit Tagen Müll und niemand räumt ihn weg", true},
		// a rejected application with one more cue
		{"Mein Antrag auf Wohngeld wurde abgelehnt, obwohl ich alles eingereicht habe", true},
		// complaints
		{"Ich möchte mich über den Service beschweren", true},
		{"Das ist eine Frechheit!", true},
		{"Mein Bescheid ist falsch, das Einkommen ist zu hoch angesetzt", true},
		// general questions are not personal
		{"Wie beantrage ich einen Reisepass?", false},
		{"Mein Ausweis ist abgelaufen, was nun?", false},
		{"Kann ich eine kaputte Waschmaschine zum Sperrmüll stellen?", false},
		{"Wann wird bei uns in der Lindenstraße der Müll abgeholt?", false},
		{"Wir ziehen am 15. um, brauchen wir ein Halteverbot?", false},
		{"Was kostet ein Führungszeugnis und wie lange dauert es?", false},
		{"Mein Vater ist gestern gestorben, was muss ich tun?", false},
		{"Was kann ich tun, wenn mein Antrag abgelehnt wird?", false},
		{"Wohin mit einem gebrochenen Spiegel?", false},
		{"Was passiert, wenn die Tonne nicht geleert wird?", false},
		{"Keiner weiß, wann der Sperrmüll kommt. Wie melde ich ihn an?", false},
	}
	for _, tt := range tests {
		if got := faq.IsPersonal(tt.in); got != tt.want {
			t.Errorf("IsPersonal(%q) = %v (score %.2f), want %v", tt.in, got, faq.PersonalScore(tt.in), tt.want)
		}
	}
}

func demoIndex(t testing.TB) *faq.Index {
	entries, _, _ := loadDemo(t)
	return faq.NewIndex(entries, german.DefaultSynonyms())
}

func TestMatchDecisions(t *testing.T) {
	ix := demoIndex(t)
	tests := []struct {
		name, in string
		decision faq.Decision
		entry    string // expected answer (or first candidate for suggest)
		personal bool
	}{
		{"exact question", "Wie beantrage ich einen Reisepass?", faq.DecisionAnswer, "reisepass-beantragen", false},
		{"keywords", "sperrmüll anmelden", faq.DecisionAnswer, "sperrmuell-anmelden", false},
		{"synonym", "Perso beantragen", faq.DecisionAnswer, "personalausweis-beantragen", false},
		{"typo", "Baugenemigung beantragen", faq.DecisionAnswer, "bauantrag-stellen", false},
		{"no umlauts", "Fuehrungszeugnis beantragen", faq.DecisionAnswer, "fuehrungszeugnis", false},
		{"split compound", "Steuer für meinen Hund anmelden", faq.DecisionAnswer, "hund-anmelden", false},
		{"english", "How do I get a passport?", faq.DecisionAnswer, "reisepass-beantragen", false},
		{"smalltalk", "Danke!", faq.DecisionSmalltalk, "", false},
		{"personal", "Wo bleibt mein Bauantrag? Aktenzeichen 2024-999", faq.DecisionNone, "bauantrag-stellen", true},
		{"out of scope", "Wie wird das Wetter morgen?", faq.DecisionNone, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := ix.Match(tt.in)
			if res.Decision != tt.decision || res.Personal != tt.personal {
				t.Fatalf("Match(%q) = %s personal=%v, want %s personal=%v; candidates %+v", tt.in, res.Decision, res.Personal, tt.decision, tt.personal, res.Candidates)
			}
			switch tt.decision {
			case faq.DecisionAnswer:
				if res.Answer == nil || res.Answer.EntryID != tt.entry {
					t.Fatalf("answer %+v, want %s", res.Answer, tt.entry)
				}
				if len(res.Answer.Matched) == 0 {
					t.Errorf("answer without matched words")
				}
			case faq.DecisionNone:
				if res.Answer != nil {
					t.Errorf("none with an answer")
				}
				if tt.entry != "" && (len(res.Candidates) == 0 || res.Candidates[0].EntryID != tt.entry) {
					t.Errorf("candidates %+v, want %s first (explainability)", res.Candidates, tt.entry)
				}
			}
			if len(res.Candidates) > 3 {
				t.Errorf("%d candidates, want <= 3", len(res.Candidates))
			}
		})
	}
}

func TestIndexStatusAndSynonymsAtRuntime(t *testing.T) {
	entries := []faq.Entry{
		{ID: "a", Department: "x", Question: "Wie bekomme ich einen Angelschein?", Variants: []string{"Angelschein beantragen"}, Answer: "Im Bürgerbüro."},
		{ID: "b", Department: "x", Question: "Wann ist der Flohmarkt?", Status: faq.StatusDraft, Answer: "Samstags."},
		{ID: "c", Department: "x", Question: "Wie melde ich einen Hund an?", Status: faq.StatusPublished, Answer: "Beim Steueramt."},
		{ID: "d", Department: "x", Question: "Wo ist das Archiv?", Status: faq.StatusArchived, Answer: "Im Keller."},
	}
	ix := faq.NewIndex(entries, []faq.Synonym{{Term: "Wauwau", Canonical: "Hund"}})
	if ix.Len() != 2 {
		t.Fatalf("Len = %d, want 2 (draft and archived skipped)", ix.Len())
	}
	if res := ix.Match("Wann ist der Flohmarkt?"); res.Decision == faq.DecisionAnswer {
		t.Errorf("draft entry answered: %+v", res.Answer)
	}
	if res := ix.Match("Wauwau anmelden"); res.Decision != faq.DecisionAnswer || res.Answer.EntryID != "c" {
		t.Errorf("editor synonym not applied: %+v", res)
	}
	empty := faq.NewIndex(nil, nil)
	if res := empty.Match("Hallo, wo ist das Rathaus?"); res.Decision != faq.DecisionNone {
		t.Errorf("empty index: %+v", res)
	}
}

func TestMatchConcurrent(t *testing.T) {
	ix := demoIndex(t)
	qs := []string{"perso verloren", "Wertstofhof samstags offen?", "Hundesteuer abmelden", "Danke!"}
	want := make([]faq.Result, len(qs))
	for i, q := range qs {
		want[i] = ix.Match(q)
	}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i, q := range qs {
				if got := ix.Match(q); got.Decision != want[i].Decision {
					t.Errorf("concurrent Match(%q) = %s, want %s", q, got.Decision, want[i].Decision)
				}
			}
		}()
	}
	wg.Wait()
}

// TestRelated: entries too weak to suggest are offered beside a handoff,
// never beside a report, an answer or small talk.
func TestRelated(t *testing.T) {
	ix := demoIndex(t)
	r := ix.Match("Hecke am Zaun pflanzen, Abstand zum Nachbargrundstück?")
	if r.Decision != faq.DecisionNone || len(r.Related) == 0 {
		t.Fatalf("weak match: decision %s, related %v; want none with related entries", r.Decision, r.Related)
	}
	for _, c := range r.Related {
		if c.Score < ix.Options().RelatedThreshold {
			t.Errorf("related %s scores %.3f, below the threshold", c.EntryID, c.Score)
		}
	}
	for _, text := range []string{
		"Die Straßenlaterne in der Goethestraße 12 ist seit Tagen kaputt", // a report
		"Wie beantrage ich einen Personalausweis?",                        // answered
		"Danke!", // small talk
	} {
		if r := ix.Match(text); len(r.Related) > 0 {
			t.Errorf("%q (%s): related %v, want none", text, r.Decision, r.Related)
		}
	}
}
