package faq

// Narrative cues of the personal-case detector: a citizen describing their
// own situation with specific circumstances ("Meine Mutter liegt im
// Pflegeheim und kann nicht kommen", "Ich bin im Ausland geboren und habe
// keine Geburtsurkunde", "Darf unser Hund mit dabei sein?"). General FAQ
// phrasings mention the same topics ("Kinderreisepass für mein Kind", "Rente
// reicht nicht") but rarely combine a third party of one's own with what
// happens to them, so each cue is weak on its own and only a combination
// reaches the threshold of 1.
//
// The cues work on the folded tokens in a single pass with keyword sets.

// Cue weights (see narrativeScore).
const (
	wOwnParty     = 0.4 // "meine Mutter", "unser Hund", "my son"
	wCircumstance = 0.4 // care and illness: "Pflegeheim", "pflegebedürftig" (death is an FAQ topic of its own)
	wInability    = 0.3 // "kann nicht", "reicht nicht", "can't"
	wAlong        = 0.3 // taking that party along, same clause: "… mitbringen", "mit dabei sein"
	wPermit       = 0.3 // … and asking permission for it: "Darf unser Hund mit dabei sein?"
	wBorn         = 0.5 // "ich bin in … geboren", "I was born in"
	wLack         = 0.5 // "ich habe keine …", "I don't have"
	wMyCase       = 0.6 // "in meinem Fall", "in my case"
)

func wordSet(ws ...string) map[string]struct{} {
	m := make(map[string]struct{}, len(ws))
	for _, w := range ws {
		m[w] = struct{}{}
	}
	return m
}

var (
	possessives = wordSet("mein", "meine", "meinem", "meinen", "meiner", "meines", "unser", "unsere", "unserem",
		"unseren", "unserer", "unseres", "my", "our")
	// family members and pets: the third parties of one's own situation
	ownParties = wordSet("mutter", "vater", "mama", "papa", "eltern", "sohn", "tochter", "kind", "kinder", "baby",
		"enkel", "enkelin", "enkelkind", "oma", "opa", "grossmutter", "grossvater", "grosseltern", "mann", "frau",
		"ehemann", "ehefrau", "ehepartner", "ehepartnerin", "partner", "partnerin", "lebensgefahrte", "lebensgefahrtin",
		"freund", "freundin", "verlobter", "verlobte", "bruder", "schwester", "tante", "onkel", "schwiegermutter",
		"schwiegervater", "schwiegereltern", "neffe", "nichte", "hund", "katze",
		"mother", "father", "mum", "mom", "dad", "parents", "son", "daughter", "child", "children", "kid", "kids",
		"husband", "wife", "grandmother", "grandfather", "grandma", "grandpa", "brother", "sister", "dog", "cat")
	circumstances = wordSet("pflegeheim", "altenheim", "seniorenheim", "pflegebedurftig", "pflegefall", "pflegegrad",
		"krank", "schwerkrank", "krankenhaus", "bettlagerig", "demenz", "dement", "hospital", "sick", "ill")
	alongWords = wordSet("mitbringen", "mitnehmen", "mitkommen", "bring", "along")
	permitVerb = wordSet("darf", "durfen", "may")
	// "für mein Kind mitbringen" is about documents, not the party
	forParty  = wordSet("fur", "for", "von", "of")
	modalsCan = wordSet("kann", "konnen", "konnte", "konnten", "reicht", "reichen", "can", "could")
	lackWords = wordSet("kein", "keine", "keinen", "keinerlei")
	haveFirst = wordSet("habe", "hab", "haben", "hatte", "hatten", "besitze", "besitzen")
	firstPers = wordSet("ich", "wir", "i", "we")
	beFirst   = wordSet("bin", "sind", "wurde", "wurden", "was", "were", "am")
)

// narrativeTokens splits folded text into words; sentence ends become "."
// so that cues stay within a clause.
func narrativeTokens(norm string) []string {
	out := make([]string, 0, 24)
	start := -1
	for i := 0; i <= len(norm); i++ {
		var c byte = ' '
		if i < len(norm) {
			c = norm[i]
		}
		word := c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '\'' || c >= 0x80
		if word {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 {
			out = append(out, norm[start:i])
			start = -1
		}
		if c == '.' || c == '?' || c == '!' || c == ';' {
			if len(out) > 0 && out[len(out)-1] != "." {
				out = append(out, ".")
			}
		}
	}
	return out
}

func in(set map[string]struct{}, w string) bool {
	_, ok := set[w]
	return ok
}

// narrativeScore sums the narrative cues of folded, space-normalised text.
// Each cue counts once.
func narrativeScore(norm string) float64 {
	toks := narrativeTokens(norm)
	var clause uint
	var partyClauses, alongClauses uint64 // clauses with an own party / a taking-along word
	var ownParty, permit, circ, unable, born, lack, myCase bool
	clauseFirst := false // a first-person pronoun earlier in the clause
	for i, t := range toks {
		if t == "." {
			clauseFirst = false
			clause++
			continue
		}
		next := func(k int) string {
			if i+k < len(toks) {
				return toks[i+k]
			}
			return "."
		}
		prev := "."
		if i > 0 {
			prev = toks[i-1]
		}
		switch {
		case in(possessives, t):
			// "meine Mutter", "meine alte Mutter"
			j := 1
			if !in(ownParties, next(1)) && in(ownParties, next(2)) {
				j = 2
			}
			if in(ownParties, next(j)) {
				ownParty = true
				if in(permitVerb, prev) {
					permit = true
				}
				if !in(forParty, prev) && clause < 64 {
					partyClauses |= 1 << clause
				}
			}
			// "in meinem Fall", "in my case"
			if (t == "meinem" || t == "unserem" || t == "my" || t == "our") && (next(1) == "fall" || next(1) == "case") && prev == "in" {
				myCase = true
			}
		case in(circumstances, t):
			circ = true
		case t == "care" || t == "nursing":
			if next(1) == "home" {
				circ = true
			}
		case t == "nicht" || t == "not":
			// "kann nicht", "kann den Termin nicht", "reicht nicht", "can not"
			for k := i - 1; k >= 0 && k >= i-4 && toks[k] != "."; k-- {
				if in(modalsCan, toks[k]) {
					unable = true
				}
			}
		case t == "cannot" || t == "can't" || t == "cant":
			unable = true
		case in(alongWords, t) || t == "dabei" && (prev == "mit" || next(1) == "sein"):
			if clause < 64 {
				alongClauses |= 1 << clause
			}
		case t == "geboren" || t == "born":
			// "ich bin in Syrien geboren", "I was born abroad"
			for k := i - 1; k >= 0 && k >= i-5 && toks[k] != "."; k-- {
				if in(beFirst, toks[k]) && clauseFirst {
					born = true
				}
			}
		case in(lackWords, t):
			// "ich habe keine Geburtsurkunde", "hab keinen Pass"
			if in(haveFirst, prev) && (clauseFirst || i < 2 || in(firstPers, next(1)) || toks[max(i-2, 0)] == ".") {
				lack = true
			}
		case t == "don't" || t == "dont":
			if next(1) == "have" {
				lack = true
			}
		case t == "no":
			// "I have no birth certificate"
			if (prev == "have" || prev == "had") && clauseFirst {
				lack = true
			}
		}
		if in(firstPers, t) {
			clauseFirst = true
		}
	}
	var s float64
	if ownParty {
		s += wOwnParty
		if partyClauses&alongClauses != 0 {
			s += wAlong
			if permit {
				s += wPermit
			}
		}
	}
	if circ {
		s += wCircumstance
	}
	if unable {
		s += wInability
	}
	if born {
		s += wBorn
	}
	if lack {
		s += wLack
	}
	if myCase {
		s += wMyCase
	}
	return s
}
