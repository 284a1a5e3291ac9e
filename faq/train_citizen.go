package faq

import (
	"math/rand/v2"
	"strings"
	"unicode"
	"unicode/utf8"

	"citybot/internal/german"
)

// Training messages that look like citizens' messages rather than like FAQ
// phrasings: the confidence model's probabilities are only useful on real
// text if its training text resembles it (see Train). Everything here is
// generated from the FAQ itself and from generic patterns of how people
// write; nothing is taken from a question set.

// Colloquial frames around an FAQ phrasing ("%s" is the phrasing, lower
// case, without its question mark).
var citizenFrames = []string{
	"ich will %s", "ich muss %s, wie geht das?", "wie geht das mit %s?", "was muss ich machen: %s",
	"%s, geht das bei euch?", "frage zu %s", "kurze frage, %s?", "weiss jemand was zu %s",
	"ich hab gehört %s, stimmt das?", "%s - was brauche ich dafür?", "wo kann ich %s", "%s wie lange dauert das",
	"brauche hilfe: %s", "hallo, es geht um %s", "mein mann fragt, %s?", "%s, danke schon mal",
}

// Ways a message ends after the question.
var citizenSignatures = []string{"", "", " Gruß Maria", " Danke, Peter K.", " Mit freundlichen Grüßen, Jana Schulz", " lg", " Danke im Voraus!", " Schönen Tag noch."}

// citizenForms returns colloquial forms of a training phrase: framed in
// everyday wording, written without umlauts and capitals, with a signature,
// or cut down to its content words.
func citizenForms(p string, rng *rand.Rand) []string {
	base := strings.TrimRight(strings.TrimSpace(p), "?!. ")
	if base == "" {
		return nil
	}
	lower := strings.ToLower(base)
	var out []string
	for k := 0; k < 2; k++ {
		f := citizenFrames[rng.IntN(len(citizenFrames))]
		m := strings.Replace(f, "%s", lower, 1)
		if rng.IntN(2) == 0 {
			m = noUmlauts(m)
		}
		out = append(out, m+citizenSignatures[rng.IntN(len(citizenSignatures))])
	}
	// content words only, in a citizen's order: "perso abgelaufen was tun"
	var content []string
	for _, w := range strings.Fields(lower) {
		w = strings.Trim(w, ".,;:!?()\"„“")
		if w != "" && !german.IsStopword(w) {
			content = append(content, w)
		}
	}
	if len(content) >= 2 {
		tails := []string{" was tun", " wie", "?", " wo", " kosten?", ""}
		out = append(out, noUmlauts(strings.Join(content, " "))+tails[rng.IntN(len(tails))])
	}
	return out
}

func noUmlauts(s string) string {
	return strings.NewReplacer("ä", "a", "ö", "o", "ü", "u", "Ä", "A", "Ö", "O", "Ü", "U", "ß", "ss").Replace(s)
}

// Report-style messages: a concrete problem, a complaint or a status
// enquiry about one's own case, about a topic the FAQ covers. They belong to
// staff, never to an FAQ answer, however well their words match an entry.
// Some carry one weak cue only, so that the model learns what partial
// personal-case evidence means (PersonalScore below 1 does not hand off by
// itself).
var reportFrames = []string{
	"%s in der %s ist seit Tagen kaputt, bitte kümmern Sie sich",
	"Schon wieder %s! Das geht so nicht weiter.",
	"%s %s %d, schon wieder das gleiche Problem",
	"Ich warte seit Wochen auf %s und keiner meldet sich",
	"Bei uns vor dem Haus %s, seit Tagen, wann passiert da was?",
	"%s: immer noch nichts passiert, obwohl ich angerufen habe",
	"Was ist mit %s los? Das ist schon das dritte Mal",
	"%s in der %s, das ist eine Zumutung",
	"Hallo, %s klappt bei mir nicht, was ist da los? Gruß Thomas",
	"%s wurde bei uns nicht gemacht, obwohl es zugesagt war",
	"Mein %s ist immer noch nicht da",
	"Seit gestern %s, kann da jemand vorbeikommen?",
	"Mit %s stimmt was nicht bei mir, können Sie nachsehen?",
	"Unser %s, das ist jetzt schon wieder passiert",
}

var reportStreets = []string{"Lindenstraße", "Ahornweg", "Bahnhofstraße", "Gartenstraße", "Schulweg", "Kirchplatz", "Mühlenweg", "Rosenstraße"}

// reportNegatives returns report-style messages built from the vocabulary
// of the entries of each department: its capitalised words (nouns) of
// questions, variants and tags.
func reportNegatives(live []Entry, rng *rand.Rand, perEntry int) []string {
	var out []string
	for _, e := range live {
		nouns := entryNouns(e)
		if len(nouns) == 0 {
			continue
		}
		for k := 0; k < perEntry; k++ {
			n := nouns[rng.IntN(len(nouns))]
			if rng.IntN(3) == 0 && len(nouns) > 1 {
				n += " und " + nouns[rng.IntN(len(nouns))]
			}
			f := reportFrames[rng.IntN(len(reportFrames))]
			var m string
			switch strings.Count(f, "%") {
			case 1:
				m = strings.Replace(f, "%s", n, 1)
			case 2:
				m = strings.Replace(strings.Replace(f, "%s", n, 1), "%s", reportStreets[rng.IntN(len(reportStreets))], 1)
			default:
				m = strings.Replace(strings.Replace(f, "%s", n, 1), "%s", reportStreets[rng.IntN(len(reportStreets))], 1)
				m = strings.Replace(m, "%d", string(rune('1'+rng.IntN(9))), 1)
			}
			if rng.IntN(3) == 0 {
				m = noUmlauts(strings.ToLower(m))
			}
			out = append(out, m)
		}
	}
	return out
}

// entryNouns are the capitalised words of an entry's question, variants and
// tags (not sentence-initial question words), as written.
func entryNouns(e Entry) []string {
	seen := map[string]bool{}
	var out []string
	add := func(s string) {
		for i, w := range strings.Fields(s) {
			w = strings.Trim(w, ".,;:!?()\"„“")
			r, _ := utf8.DecodeRuneInString(w)
			if utf8.RuneCountInString(w) < 4 || !unicode.IsUpper(r) || german.IsStopword(w) || seen[w] {
				continue
			}
			if i == 0 && questionWords[strings.ToLower(w)] {
				continue
			}
			seen[w] = true
			out = append(out, w)
		}
	}
	add(e.Question)
	for _, v := range e.Variants {
		add(v)
	}
	for _, t := range e.Tags {
		add(t)
	}
	return out
}

// RoutingMessages returns generated messages about e, written the way
// citizens write: colloquial forms of its question and variants
// (citizenForms) and report-style messages built from its nouns
// (reportNegatives). The department classifier learns from them, labelled
// with e's department (bot.RoutingEntries). Deterministic: the random
// choices are seeded by the entry's id, so an entry's messages do not change
// when other entries do. The confidence model's training (Train) keeps its
// own random stream; this does not touch it.
func RoutingMessages(e Entry) []string {
	var seed uint64 = 14695981039346656037 // FNV-1a of the id
	for i := 0; i < len(e.ID); i++ {
		seed = (seed ^ uint64(e.ID[i])) * 1099511628211
	}
	rng := rand.New(rand.NewPCG(seed, 9))
	var out []string
	for _, p := range append([]string{e.Question}, e.Variants...) {
		out = append(out, citizenForms(p, rng)...)
	}
	return append(out, reportNegatives([]Entry{e}, rng, routingReportsPerEntry)...)
}

// routingReportsPerEntry: report-style routing messages per entry.
const routingReportsPerEntry = 6
