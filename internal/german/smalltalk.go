package german

import "strings"

// Kinds of small talk returned by Smalltalk.
const (
	SmalltalkGreeting  = "greeting" // "Hallo", "Guten Morgen", "Moin"
	SmalltalkThanks    = "thanks"   // "Danke!", "Vielen Dank für die Hilfe"
	SmalltalkGoodbye   = "goodbye"  // "Tschüss", "Schönen Abend noch"
	SmalltalkHowAreYou = "how_are_you"
	SmalltalkBot       = "bot" // "Bist du ein Mensch?", "Wer bist du?"
	SmalltalkOK        = "ok"  // "ok", "alles klar", "super"
	SmalltalkAsk       = "ask" // "Ich hätte mal eine Frage" (a question is coming)
)

// smalltalkPhrases, folded, longest first within a kind does not matter:
// matching tries longer phrases first.
var smalltalkPhrases = map[string]string{
	// greetings
	"hallo": SmalltalkGreeting, "hallihallo": SmalltalkGreeting, "hi": SmalltalkGreeting, "hey": SmalltalkGreeting,
	"moin": SmalltalkGreeting, "moinsen": SmalltalkGreeting, "servus": SmalltalkGreeting, "gruss gott": SmalltalkGreeting,
	"gruezi": SmalltalkGreeting, "guten morgen": SmalltalkGreeting, "guten tag": SmalltalkGreeting, "guten abend": SmalltalkGreeting,
	"tag": SmalltalkGreeting, "morgen": SmalltalkGreeting, "n abend": SmalltalkGreeting, "nabend": SmalltalkGreeting,
	"hello": SmalltalkGreeting, "good morning": SmalltalkGreeting, "good afternoon": SmalltalkGreeting,
	"good evening": SmalltalkGreeting, "greetings": SmalltalkGreeting, "salut": SmalltalkGreeting, "merhaba": SmalltalkGreeting,
	"selam": SmalltalkGreeting, "hallo zusammen": SmalltalkGreeting, "huhu": SmalltalkGreeting, "na": SmalltalkGreeting,
	// thanks
	"danke": SmalltalkThanks, "dankeschon": SmalltalkThanks, "danke schon": SmalltalkThanks, "vielen dank": SmalltalkThanks,
	"danke sehr": SmalltalkThanks, "herzlichen dank": SmalltalkThanks, "besten dank": SmalltalkThanks, "tausend dank": SmalltalkThanks,
	"merci": SmalltalkThanks, "thx": SmalltalkThanks, "thanks": SmalltalkThanks, "thank you": SmalltalkThanks,
	"thank you very much": SmalltalkThanks, "many thanks": SmalltalkThanks, "vielen lieben dank": SmalltalkThanks,
	"dank": SmalltalkThanks, "danke vielmals": SmalltalkThanks,
	// goodbye
	"tschuss": SmalltalkGoodbye, "tschau": SmalltalkGoodbye, "ciao": SmalltalkGoodbye, "bye": SmalltalkGoodbye,
	"auf wiedersehen": SmalltalkGoodbye, "wiedersehen": SmalltalkGoodbye, "auf wiederhoren": SmalltalkGoodbye,
	"bis dann": SmalltalkGoodbye, "bis bald": SmalltalkGoodbye, "bis spater": SmalltalkGoodbye, "mach's gut": SmalltalkGoodbye,
	"machs gut": SmalltalkGoodbye, "schonen tag": SmalltalkGoodbye, "schonen abend": SmalltalkGoodbye,
	"schones wochenende": SmalltalkGoodbye, "gute nacht": SmalltalkGoodbye, "goodbye": SmalltalkGoodbye,
	"good bye": SmalltalkGoodbye, "see you": SmalltalkGoodbye, "have a nice day": SmalltalkGoodbye,
	"einen schonen tag": SmalltalkGoodbye, "einen schonen abend": SmalltalkGoodbye, "schonen feierabend": SmalltalkGoodbye,
	// how are you
	"wie gehts": SmalltalkHowAreYou, "wie geht es dir": SmalltalkHowAreYou, "wie geht es ihnen": SmalltalkHowAreYou,
	"wie geht's": SmalltalkHowAreYou, "alles gut": SmalltalkHowAreYou, "how are you": SmalltalkHowAreYou,
	"how are you doing": SmalltalkHowAreYou, "was geht": SmalltalkHowAreYou,
	// bot identity
	"bist du ein mensch": SmalltalkBot, "bist du ein bot": SmalltalkBot, "bist du ein roboter": SmalltalkBot,
	"bist du eine ki": SmalltalkBot, "bist du echt": SmalltalkBot, "wer bist du": SmalltalkBot, "was bist du": SmalltalkBot,
	"bist du ein mensch oder ein bot": SmalltalkBot, "bist du ein mensch oder eine maschine": SmalltalkBot,
	"sind sie ein mensch": SmalltalkBot, "sind sie ein bot": SmalltalkBot, "mit wem spreche ich": SmalltalkBot,
	"mit wem schreibe ich": SmalltalkBot, "are you a bot": SmalltalkBot, "are you human": SmalltalkBot,
	"are you a human": SmalltalkBot, "who are you": SmalltalkBot, "are you a robot": SmalltalkBot,
	"wie heisst du": SmalltalkBot,
	// ok / acknowledgements
	"ok": SmalltalkOK, "okay": SmalltalkOK, "oki": SmalltalkOK, "okey": SmalltalkOK, "alles klar": SmalltalkOK,
	"super": SmalltalkOK, "prima": SmalltalkOK, "toll": SmalltalkOK, "klasse": SmalltalkOK, "perfekt": SmalltalkOK,
	"cool": SmalltalkOK, "gut": SmalltalkOK, "sehr gut": SmalltalkOK, "verstanden": SmalltalkOK, "jo": SmalltalkOK,
	"ja": SmalltalkOK, "nein": SmalltalkOK, "passt": SmalltalkOK, "great": SmalltalkOK, "fine": SmalltalkOK,
	"got it": SmalltalkOK, "alright": SmalltalkOK, "gut zu wissen": SmalltalkOK, "top": SmalltalkOK, "hat geholfen": SmalltalkOK,
	// announcing a question
	"ich habe eine frage": SmalltalkAsk, "ich hatte eine frage": SmalltalkAsk, "ich hatte mal eine frage": SmalltalkAsk,
	"ich habe mal eine frage": SmalltalkAsk, "hab mal ne frage": SmalltalkAsk, "hab ne frage": SmalltalkAsk,
	"eine frage": SmalltalkAsk, "kurze frage": SmalltalkAsk, "frage": SmalltalkAsk, "ich brauche hilfe": SmalltalkAsk,
	"konnen sie mir helfen": SmalltalkAsk, "kannst du mir helfen": SmalltalkAsk, "i have a question": SmalltalkAsk,
	"can you help me": SmalltalkAsk, "help": SmalltalkAsk, "hilfe": SmalltalkAsk,
}

// fillers may surround small talk without making it a question:
// "Vielen Dank für die schnelle Hilfe!", "Hallo zusammen", "Schönen Abend noch".
var smalltalkFillers = map[string]struct{}{
	"fur": {}, "die": {}, "der": {}, "das": {}, "ihre": {}, "deine": {}, "eure": {}, "schnelle": {}, "hilfe": {}, "info": {},
	"infos": {}, "information": {}, "informationen": {}, "antwort": {}, "auskunft": {}, "nochmal": {}, "noch": {}, "sehr": {},
	"vielen": {}, "lieben": {}, "ganz": {}, "auch": {}, "ihnen": {}, "euch": {}, "dir": {}, "zusammen": {}, "allerseits": {},
	"leute": {}, "liebe": {}, "lieber": {}, "team": {}, "stadt": {}, "musterstadt": {}, "erstmal": {}, "mal": {}, "so": {},
	"wunderbar": {}, "nett": {}, "freundlich": {}, "and": {}, "for": {}, "the": {}, "your": {}, "help": {}, "so much": {},
	"a": {}, "lot": {}, "very": {}, "much": {}, "you": {}, "too": {}, "to": {}, "und": {}, "ihnen auch": {}, "dann": {},
	"schon": {}, "gut": {}, "jetzt": {}, "weiss": {}, "ich": {}, "bescheid": {}, "sie": {}, "du": {}, "oder": {},
	"einen": {}, "eine": {}, "ein": {}, "es": {}, "mir": {}, "uns": {}, "bot": {}, "chatbot": {}, "ja": {}, "hier": {}, "there": {},
}

// Smalltalk reports which kind of small talk text is ("greeting",
// "thanks", "goodbye", "how_are_you", "bot", "ok", "ask"), or "" when text
// is not purely small talk. Only short messages qualify: "Hallo, wie
// beantrage ich einen Pass?" is a question, not small talk.
func Smalltalk(text string) string {
	toks := Tokens(text)
	if len(toks) == 0 || len(toks) > 12 {
		return ""
	}
	kind := ""
	phrases := 0
	for i := 0; i < len(toks); {
		matched := false
		for l := min(8, len(toks)-i); l >= 1; l-- {
			p := strings.Join(toks[i:i+l], " ")
			if k, ok := smalltalkPhrases[p]; ok {
				// a greeting followed by a real request is not small talk;
				// the first substantial kind wins, thanks/bye outrank greeting.
				if kind == "" || rank(k) > rank(kind) {
					kind = k
				}
				phrases++
				i += l
				matched = true
				break
			}
		}
		if matched {
			continue
		}
		if _, ok := smalltalkFillers[toks[i]]; ok {
			i++
			continue
		}
		return ""
	}
	if phrases == 0 {
		return ""
	}
	return kind
}

func rank(kind string) int {
	switch kind {
	case SmalltalkBot, SmalltalkHowAreYou:
		return 5
	case SmalltalkThanks:
		return 4
	case SmalltalkGoodbye:
		return 3
	case SmalltalkAsk:
		return 2
	case SmalltalkGreeting:
		return 1
	}
	return 0
}
