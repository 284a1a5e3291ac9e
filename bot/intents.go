package bot

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"citybot/internal/german"
)

// Intents beyond the FAQ: what a message is when it is not (only) a
// question the FAQ answers. Recognition works on internal/german's folded
// tokens (german.Tokens: case, umlauts, ß, punctuation), German and English,
// with one typo allowed in words of five letters or more.

// intent is what classifyIntent found in a message.
type intent int

const (
	intentNone         intent = iota // a question (or addition) for the FAQ or staff
	intentEmpty                      // only punctuation, emoji or filler words: "?", "hmm", "äh"
	intentGreeting                   // "Hallo", "Moin", "Ich hätte eine Frage"
	intentThanks                     // "Danke!", "ok", "alles klar", "super"
	intentGoodbye                    // "Tschüss"
	intentBot                        // "Bist du ein Mensch?", "are you a bot"
	intentHuman                      // "Kann ich mit einem echten Menschen sprechen?"
	intentInsult                     // abuse with no request in it
	intentCapabilities               // "Was kannst du?", "what can you do", "do you speak English"
	intentImpatience                 // "Hallo? Antwort?", "wie lange dauert das noch"
	intentYes                        // "ja", "ja bitte", "yes please"
	intentNo                         // "nein", "nein danke", "no thanks"
)

var intentNames = map[intent]string{
	intentNone: "question", intentEmpty: "empty", intentGreeting: "greeting", intentThanks: "thanks",
	intentGoodbye: "goodbye", intentBot: "bot", intentHuman: "human", intentInsult: "insult",
	intentCapabilities: "capabilities", intentImpatience: "impatience", intentYes: "yes", intentNo: "no",
}

func (i intent) String() string { return intentNames[i] }

// words builds a set of folded words.
func words(s string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(s) {
		m[german.Fold(w)] = true
	}
	return m
}

var (
	yesWords = words("ja jaa jap jo jawohl gerne gern bitte klar sicher genau yes yeah yep please sure ok okay weitergeben")
	noWords  = words("nein ne nee no nope danke thanks lieber nicht not nicht")
	// words that make "ja"/"nein" answers without being either
	yesNoFill = words("bitte danke thanks please sehr gerne gern doch")

	insultWords = words("idiot idioten vollidiot depp deppen trottel dumm dummer dumme blod blode bloder doof doofer scheiss scheisse " +
		"scheissbot kacke mist arsch arschloch wichser penner spast hurensohn fotze verpiss schwachsinn bescheuert " +
		"behindert nutzlos unfahig lappen fuck fucking shit stupid idiotic useless dumbass asshole crap sucks moron")
	// not content next to an insult: "du bist so ein dummer Bot"
	insultFill = words("bot chatbot du sie ihr so ein eine echt voll total richtig wirklich bist seid sind ist " +
		"you are is so such a an the really bloody damn verein laden stadt verwaltung amt")

	botSubject = words("mensch bot roboter ki maschine computer automat echt human robot ai machine real person chatbot programm")
	botAsk     = words("bist sind are is du sie you ihr this")

	humanNouns = words("mensch menschen mitarbeiter mitarbeiterin mitarbeitern mitarbeitende mitarbeitenden sachbearbeiter " +
		"sachbearbeiterin sachbearbeitern person personen human humans agent staff operator beamter beamten jemand jemandem " +
		"someone somebody kollege kollegin berater beraterin ansprechpartner ansprechpartnerin telefon anrufen call")
	humanFill = words("sprechen reden schreiben chatten verbinden verbunden weiterleiten echten echter echte echtem real " +
		"talk speak chat connect transfer human live richtigen richtiger richtige bitte please will mochte mochten want need brauche " +
		"brauchen kann konnte konnen can could may i ich mit einem einer einen with to a an the me mich mir uns gerne gern " +
		"lieber jetzt sofort direkt persoenlich personlich telefonisch right now anrufen call zu sprech")

	talkVerbs = words("sprechen reden verbinden verbunden weiterleiten talk speak chat chatten connect transfer " +
		"anrufen anruf call erreichen kontaktieren zurückrufen ruckruf schreiben")

	capabilityPhrases = [][]string{
		{"was", "kannst", "du"}, {"was", "konnen", "sie"}, {"was", "kann", "ich", "fragen"}, {"was", "kann", "ich", "hier"},
		{"wobei", "kannst"}, {"wobei", "konnen"}, {"wie", "funktioniert"}, {"was", "machst", "du"}, {"was", "bietest"},
		{"what", "can", "you", "do"}, {"what", "can", "you", "help"}, {"what", "can", "i", "ask"}, {"what", "do", "you", "do"},
		{"how", "does", "this", "work"}, {"how", "does", "it", "work"},
		{"speak", "english"}, {"sprichst", "du", "englisch"}, {"sprechen", "sie", "englisch"}, {"english", "please"},
		{"in", "english"}, {"auf", "englisch"}, {"do", "you", "speak"},
	}
	capabilityFill = words("du sie ihr hier chat bot dieser dieses alles so eigentlich noch denn genau hier mir " +
		"you this chat bot here exactly actually please bitte also auch")

	// impatience: all words from this set, at least one strong one
	impatienceWords = words("hallo hello hi halloo hallooo antwort antworten antwortet answer answers reply replies respond " +
		"noch da jemand niemand keiner keine nobody anyone someone anybody there still waiting warte warten wartet " +
		"wie lange dauert dauern dauerts long take takes taking bekomme bekommt kriege krieg get wann when " +
		"neuigkeiten news update updates stand status anfrage meiner meine mein request my was ist mit what about with " +
		"warum wieso why melden meldet meldest sich ruckmeldung passiert happening geht weiter es denn eigentlich")
	impatienceStrong = words("antwort antworten antwortet answer answers reply replies respond jemand niemand keiner nobody anyone anybody " +
		"waiting warte warten wartet neuigkeiten news update updates stand status ruckmeldung meldet melden passiert happening dauert dauern lange long")

	// vague words: a question made only of these needs a topic ("und was
	// kostet das?", "wo genau?", "bis wann?")
	vagueWords = words("kostet kosten kost gebuhr gebuhren preis teuer euro cost costs price fee much " +
		"wo wohin where ort adresse genau exactly wann when bis frist deadline lange long dauert dauern takes take " +
		"offen geoffnet open offnungszeiten hours unterlagen dokumente mitbringen documents bring need brauche brauch " +
		"online termin appointment und and also aber but noch more dafur dazu davon das dies diese dieses it that this " +
		"was what wie how welche which muss must soll machen tun do gilt")
)

// followUpCue: the kind of detail a follow-up question asks about.
type followUpCue int

const (
	cueNone followUpCue = iota
	cueCost
	cueWhere
	cueWhen
	cueDocuments
)

var cueWords = map[string]followUpCue{
	"kostet": cueCost, "kosten": cueCost, "kost": cueCost, "gebuhr": cueCost, "gebuhren": cueCost, "preis": cueCost,
	"teuer": cueCost, "euro": cueCost, "cost": cueCost, "costs": cueCost, "price": cueCost, "fee": cueCost,
	"wo": cueWhere, "wohin": cueWhere, "where": cueWhere, "ort": cueWhere, "adresse": cueWhere,
	"wann": cueWhen, "bis": cueWhen, "frist": cueWhen, "deadline": cueWhen, "lange": cueWhen, "dauert": cueWhen,
	"dauern": cueWhen, "when": cueWhen, "long": cueWhen, "offen": cueWhen, "geoffnet": cueWhen, "open": cueWhen,
	"offnungszeiten": cueWhen, "hours": cueWhen,
	"unterlagen": cueDocuments, "dokumente": cueDocuments, "mitbringen": cueDocuments, "documents": cueDocuments,
	"bring": cueDocuments,
}

// near reports whether the folded word w is one of set, allowing one typo
// (substitution, insertion, deletion or swap) in words of six letters or
// more ("perso" is not "person").
func near(set map[string]bool, w string) bool {
	if set[w] {
		return true
	}
	n := utf8.RuneCountInString(w)
	if n < 6 {
		return false
	}
	for k := range set {
		// A word of m runes has m to 4m bytes: most words of the set are
		// ruled out by their length in bytes, without counting runes.
		if len(k) < 6 || len(k) < n-1 || len(k) > 4*(n+1) {
			continue
		}
		if m := utf8.RuneCountInString(k); m >= 6 && m-n <= 1 && n-m <= 1 && editDistanceAtMost1(k, w) {
			return true
		}
	}
	return false
}

// editDistanceAtMost1 is an optimal-string-alignment distance check <= 1.
func editDistanceAtMost1(a, b string) bool {
	if isASCII(a) && isASCII(b) {
		return asciiDistanceAtMost1(a, b)
	}
	return runeDistanceAtMost1(a, b)
}

// runeDistanceAtMost1 is editDistanceAtMost1 rune by rune.
func runeDistanceAtMost1(a, b string) bool {
	ra, rb := []rune(a), []rune(b)
	if len(ra) < len(rb) {
		ra, rb = rb, ra
	}
	if len(ra)-len(rb) > 1 {
		return false
	}
	i := 0
	for i < len(rb) && ra[i] == rb[i] {
		i++
	}
	if i == len(rb) {
		return true // equal, or one appended
	}
	if len(ra) == len(rb) {
		if string(ra[i+1:]) == string(rb[i+1:]) {
			return true // substitution
		}
		// transposition
		return i+1 < len(ra) && ra[i] == rb[i+1] && ra[i+1] == rb[i] && string(ra[i+2:]) == string(rb[i+2:])
	}
	return string(ra[i+1:]) == string(rb[i:]) // deletion
}

// asciiDistanceAtMost1 is editDistanceAtMost1 of two ASCII strings (a
// byte is a rune), without converting them.
func asciiDistanceAtMost1(a, b string) bool {
	if len(a) < len(b) {
		a, b = b, a
	}
	if len(a)-len(b) > 1 {
		return false
	}
	i := 0
	for i < len(b) && a[i] == b[i] {
		i++
	}
	if i == len(b) {
		return true // equal, or one appended
	}
	if len(a) == len(b) {
		if a[i+1:] == b[i+1:] {
			return true // substitution
		}
		// transposition
		return i+1 < len(a) && a[i] == b[i+1] && a[i+1] == b[i] && a[i+2:] == b[i+2:]
	}
	return a[i+1:] == b[i:] // deletion
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// hasPhrase reports whether toks contain the phrase in order (not
// necessarily adjacent: "was kannst du eigentlich" / "was genau kannst du").
func hasPhrase(toks []string, phrase []string) bool {
	j := 0
	for _, t := range toks {
		if j < len(phrase) && (t == phrase[j] || (len(phrase[j]) >= 5 && editDistanceAtMost1(t, phrase[j]))) {
			j++
		}
	}
	return j == len(phrase)
}

// contentWords are the words of toks that carry a topic: not stopwords and
// not in any of the sets.
func contentWords(toks []string, sets ...map[string]bool) []string {
	var out []string
outer:
	for _, t := range toks {
		if german.IsStopword(t) || isNumber(t) {
			continue
		}
		for _, s := range sets {
			if near(s, t) {
				continue outer
			}
		}
		out = append(out, t)
	}
	return out
}

func isNumber(t string) bool {
	for _, r := range t {
		if !unicode.IsDigit(r) {
			return false
		}
	}
	return t != ""
}

// classifyIntent tells what a message is beyond the FAQ. rest is, for
// intentHuman, the request in the message ("mit einem Menschen über meinen
// Bauantrag sprechen" -> the whole text when it names a topic), else "".
func classifyIntent(text string) (in intent, request bool) {
	toks := german.Tokens(text)
	if len(toks) == 0 {
		return intentEmpty, false
	}
	n := len(toks)
	all := func(set map[string]bool) bool {
		for _, t := range toks {
			if !near(set, t) {
				return false
			}
		}
		return true
	}
	any := func(set map[string]bool) bool {
		for _, t := range toks {
			if near(set, t) {
				return true
			}
		}
		return false
	}
	// yes / no: short answers to the bot's question
	if n <= 3 {
		switch {
		case (toks[0] == "ja" || toks[0] == "yes" || toks[0] == "jo" || toks[0] == "gerne" || toks[0] == "yeah" || toks[0] == "klar") && all(union(yesWords, yesNoFill)):
			return intentYes, false
		case (toks[0] == "nein" || toks[0] == "no" || toks[0] == "nee" || toks[0] == "ne" || toks[0] == "nope" || (n >= 2 && toks[0] == "lieber" && toks[1] == "nicht")) && all(union(noWords, yesNoFill)):
			return intentNo, false
		}
	}
	// abuse: an insult with no request in it (exact words only: "Säcke"
	// is not "Kacke")
	anyExact := func(set map[string]bool) bool {
		for _, t := range toks {
			if set[t] {
				return true
			}
		}
		return false
	}
	if n <= 15 && anyExact(insultWords) && len(contentWords(toks, insultWords, insultFill)) <= 1 {
		return intentInsult, false
	}
	// "are you a bot / human?"
	if n <= 10 && any(botSubject) && any(botAsk) && (toks[0] == "bist" || toks[0] == "sind" || toks[0] == "are" || toks[0] == "is" ||
		hasPhrase(toks, []string{"bist", "du"}) || hasPhrase(toks, []string{"sind", "sie"}) || hasPhrase(toks, []string{"are", "you"}) ||
		hasPhrase(toks, []string{"mit", "wem"}) || hasPhrase(toks, []string{"who", "am", "i"})) &&
		len(contentWords(toks, botSubject, botAsk, humanFill)) == 0 {
		return intentBot, false
	}
	// "what can you do?"
	if n <= 10 {
		for _, p := range capabilityPhrases {
			if hasPhrase(toks, p) && len(contentWords(toks, words(strings.Join(p, " ")), capabilityFill, vagueWords)) == 0 {
				return intentCapabilities, false
			}
		}
	}
	// impatience: "Hallo? Bekomme ich noch eine Antwort?"
	// ("Hallo?" alone too: the dialog answers it like a greeting when no
	// case is open.)
	if n <= 12 && len(contentWords(toks, impatienceWords)) == 0 && (any(impatienceStrong) || strings.Contains(text, "?")) {
		return intentImpatience, false
	}
	// "a person, please" (with or without what it is about): a person and
	// talking to them, or a person and nothing else ("Mitarbeiter bitte");
	// "Adresse einer Person herausfinden" is a question for the FAQ.
	if n <= 40 && any(humanNouns) {
		rest := contentWords(toks, humanNouns, humanFill, impatienceWords)
		if any(talkVerbs) {
			return intentHuman, len(rest) > 0
		}
		if len(rest) == 0 && n <= 5 {
			return intentHuman, false
		}
	}
	switch german.Smalltalk(text) {
	case german.SmalltalkGreeting, german.SmalltalkHowAreYou, german.SmalltalkAsk:
		return intentGreeting, false
	case german.SmalltalkThanks, german.SmalltalkOK:
		return intentThanks, false
	case german.SmalltalkGoodbye:
		return intentGoodbye, false
	case german.SmalltalkBot:
		return intentBot, false
	}
	// nothing but fillers: "Hallo, ich hätte da mal eine Frage", "hmm", "äh"
	if len(contentWords(toks, fillerWords)) == 0 {
		return intentEmpty, false
	}
	return intentNone, false
}

// fillerWords carry no request of their own.
var fillerWords = words("hmm hm hmmm ah ahh aha oh ohh aeh ah eh ahm ahem uh um uhm na naja tja also so hallo hi hey moin " +
	"frage fragen anliegen problem question issue thing sache ding hilfe help")

func union(sets ...map[string]bool) map[string]bool {
	m := map[string]bool{}
	for _, s := range sets {
		for k := range s {
			m[k] = true
		}
	}
	return m
}

// vagueQuestion reports whether text asks for a detail without naming a
// topic ("und was kostet das?", "wo genau?", "bis wann?") and which detail.
func vagueQuestion(text string) (bool, followUpCue) {
	toks := german.Tokens(text)
	if len(toks) == 0 || len(toks) > 8 {
		return false, cueNone
	}
	cue := cueNone
	for _, t := range toks {
		if c, ok := cueWords[t]; ok && cue == cueNone {
			cue = c
		}
	}
	if len(contentWords(toks, vagueWords, fillerWords)) > 0 {
		return false, cue
	}
	return true, cue
}

// Language from the text: English when the message clearly is English.

var (
	englishMarkers = words("the is are do does how what where when can could i my you your please need want have has " +
		"to for of with about get apply english hello thanks thank which much it there this that would should " +
		"we our me from and or not don't i'm it's speak help")
	germanMarkers = words("ich der die das ist wie wo was wann kann konnen mein meine ein eine und bitte habe brauche nicht " +
		"sie fur mit wir ihr du bin hallo danke muss gibt es auf zum zur den dem des im am auch noch sprechen hilfe")
)

// textLanguage returns "en" for a clearly English text, "de" for a clearly
// German one and "" when the text does not say (too short, names only).
func textLanguage(text string) string {
	toks := german.Tokens(text)
	en, de := 0, 0
	for _, t := range toks {
		if englishMarkers[t] {
			en++
		}
		if germanMarkers[t] {
			de++
		}
	}
	switch {
	case en >= 2 && en > de:
		return "en"
	case en == 1 && de == 0 && len(toks) <= 3 && (englishOnly[toks[0]] || (len(toks) > 1 && englishOnly[toks[len(toks)-1]])):
		return "en"
	case de >= 1 && de >= en:
		return "de"
	}
	return ""
}

// englishOnly are English words that are not also German words.
var englishOnly = words("hello thanks thank please the help what how where when why english")
