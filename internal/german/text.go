package german

import (
	"slices"
	"sort"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/kljensen/snowball/english"
)

// This file holds the German-first text pipeline shared by the matcher and
// the department classifier: folding (case, umlauts, ß), tokenisation,
// stopwords, stemming, compound splitting and typo tolerance.

// Fold lowercases s and folds German special letters to one spelling, so
// that "Führungszeugnis", "Fuehrungszeugnis" and "fuhrungszeugnis" become
// the same string: ä/ae -> a, ö/oe -> o, ü/ue -> u, ß -> ss.
//
// "ae", "oe" and "ue" are only folded when the vowel pair cannot be a
// diphthong or a vowel sequence: "ue" after a vowel ("Steuer", "neue",
// "Bauer") or after q ("Quelle") is kept. Everything that is not a letter or
// digit is kept as is; see Normalize for punctuation.
func Fold(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	var prev rune // previous folded letter, 0 at start of a word
	for i := 0; i < len(s); {
		r0, size := utf8.DecodeRuneInString(s[i:])
		i += size
		r := unicode.ToLower(r0)
		switch r {
		case 'ä', 'à', 'á', 'â':
			r = 'a'
		case 'ö', 'ò', 'ó', 'ô':
			r = 'o'
		case 'ü', 'ù', 'ú', 'û':
			r = 'u'
		case 'é', 'è', 'ê':
			r = 'e'
		case 'ß':
			b.WriteString("ss")
			prev = 's'
			continue
		case '’', '`', '´':
			r = '\''
		case 'a', 'o', 'u':
			if i < len(s) && (s[i] == 'e' || s[i] == 'E') && !isVowel(prev) && !(r == 'u' && prev == 'q') {
				b.WriteRune(r)
				prev = r
				i++ // drop the e of ae/oe/ue
				continue
			}
		}
		b.WriteRune(r)
		if unicode.IsLetter(r) {
			prev = r
		} else {
			prev = 0
		}
	}
	return b.String()
}

func isVowel(r rune) bool {
	switch r {
	case 'a', 'e', 'i', 'o', 'u', 'y', 'ä', 'ö', 'ü':
		return true
	}
	return false
}

// Normalize folds s (see Fold) and replaces punctuation by single spaces:
// the canonical string form used for comparisons and rule patterns.
func Normalize(s string) string {
	toks := TokenizeWith(s, nil, false, false)
	parts := make([]string, len(toks))
	for i, t := range toks {
		parts[i] = t.Surf
	}
	return strings.Join(parts, " ")
}

// Token is one word of a text after folding.
type Token struct {
	Surf   string   // folded surface form
	Stem   string   // German stem
	En     string   // English stem
	Hyph   []string // parts of a hyphenated word ("kita-platz" -> kita, platz)
	Clause int32    // clause number (punctuation separates clauses)
	Stop   bool     // German or English stopword
	Digit  bool     // contains a digit
}

// tokenize splits text into folded tokens. Letters and digits form words;
// an apostrophe inside a word is dropped ("geht's" -> "gehts"); everything
// else separates words, and sentence punctuation also ends a clause.
func tokenize(text string) []Token { return TokenizeWith(text, nil, true, true) }

// TokenizeWith is tokenize with the stems of known words taken from a
// (may be nil) and English stems only when en is set.
func TokenizeWith(text string, a *Analyzer, en, stem bool) []Token {
	folded := Fold(text)
	toks := make([]Token, 0, countWords(folded))
	var clause int32
	start := -1
	flush := func(end int) {
		if start < 0 {
			return
		}
		w := strings.ReplaceAll(folded[start:end], "'", "")
		start = -1
		w = strings.Trim(w, "-")
		if w == "" {
			return
		}
		var hyph []string
		if strings.Contains(w, "-") {
			for _, p := range strings.Split(w, "-") {
				if p != "" {
					hyph = append(hyph, p)
				}
			}
			w = strings.Join(hyph, "")
		}
		t := Token{Surf: w, Clause: clause, Hyph: hyph}
		for _, r := range w {
			if unicode.IsDigit(r) {
				t.Digit = true
				break
			}
		}
		t.Stop = IsStopwordFolded(w)
		if !stem {
			t.Stem = w
		} else if !t.Digit {
			t.Stem = a.StemOf(w)
			if en {
				t.En = a.englishStemOf(w)
			}
		} else {
			t.Stem = w
			t.En = w
		}
		toks = append(toks, t)
	}
	for i, r := range folded {
		if unicode.IsLetter(r) || unicode.IsDigit(r) || ((r == '\'' || r == '-') && start >= 0) {
			if start < 0 {
				start = i
			}
			continue
		}
		flush(i)
		switch r {
		case '.', ',', ';', ':', '!', '?', '(', ')', '–', '—', '"', '\n':
			clause++
		}
	}
	flush(len(folded))
	return toks
}

// countWords counts the runs of letters and digits in s: an upper bound
// of the tokens of s, so the token slice is allocated once.
func countWords(s string) int {
	n := 0
	in := false
	for _, r := range s {
		w := unicode.IsLetter(r) || unicode.IsDigit(r)
		if w && !in {
			n++
		}
		in = w
	}
	return n
}

// StemOf returns the German stem of a folded word, from the analyzer's
// word cache when it knows the word.
func (a *Analyzer) StemOf(w string) string {
	if a != nil {
		if wi, ok := a.words[w]; ok {
			return wi.stem
		}
	}
	return StemGerman(w)
}

// englishStemOf is the English stem of w. The stems of the stopwords are
// precomputed; those of the vocabulary are cached on first use (an index is
// built far more often than most of its words are queried).
func (a *Analyzer) englishStemOf(w string) string {
	if e, ok := stopwordEnglishStems[w]; ok {
		return e
	}
	if a == nil {
		return english.Stem(w, true)
	}
	if _, known := a.words[w]; !known {
		return english.Stem(w, true) // unbounded: unknown words are not cached
	}
	if e, ok := a.enStems.Load(w); ok {
		return e.(string)
	}
	e := english.Stem(w, true)
	a.enStems.Store(w, e)
	return e
}

// stopwordEnglishStems caches the English stems of the stopwords, which
// occur in nearly every message.
var stopwordEnglishStems = func() map[string]string {
	m := make(map[string]string, len(stopwords))
	for w := range stopwords {
		m[w] = english.Stem(w, true)
	}
	return m
}()

// Tokens returns the folded words of text, stopwords included.
func Tokens(text string) []string {
	toks := TokenizeWith(text, nil, false, false)
	out := make([]string, len(toks))
	for i, t := range toks {
		out[i] = t.Surf
	}
	return out
}

// stopwords: German (snowball list plus colloquial fillers) and English.
// Particles of separable verbs (an, ab, um, ...) are stopwords on their own;
// analyseQuery re-attaches them to their verb ("melde ... an" -> anmelden).
// Folded spelling (ü -> u, ß -> ss).
var stopwordList = `
aber alle allem allen aller alles als also am an ander andere anderem anderen anderer anderes anders auch auf aus bei beim bin bis bist
da dabei dafur damit dann darf darum das dass dazu dein deine deinem deinen deiner deines dem den denn der deren des dessen dich die dies diese diesem diesen dieser dieses diesmal
dir doch dort du durch durfen ein eine einem einen einer eines einfach einige einigem einigen einiger einiges einmal er es etwa etwas euch euer eure eurem euren eurer eures
fur gegen gewesen hab habe haben hast hat hatte hatten hatte hier hin hinter ich ihm ihn ihnen ihr ihre ihrem ihren ihrer ihres im in indem ins ist ja jede jedem jeden jeder jedes jemand jetzt
kann kannst konnen konnte konnten kein keine keinem keinen keiner keines man mal manche mein meine meinem meinen meiner meines mich mir mit muss musst mussen musste
nach nein nicht nichts noch nun nur ob oder ohne schon sehr sein seine seinem seinen seiner seines sich sie sind so soll sollen sollte sondern sonst uber um und uns unser unsere unserem unseren unserer unseres unter
viel viele vom von vor war waren warst was weil welche welchem welchen welcher welches wenn wer werde werden wie wieder will willst wir wird wirst wo wollen wollte wurde wurden wurde zu zum zur zwar zwischen
bitte bzw ca eigentlich gern gerne halt eben genau irgendwie irgendwo irgendwas irgendwann wann warum wieso weshalb woher wohin womit wofur wozu worauf wieviel wieviele denen dir ihr
nachste nachsten nachster nachstes letzte letzten letzter letztes ab zuruck her hin durch eins zwei drei vier funf sechs sieben acht neun zehn hallo moin hi hey servus danke dank vielen lg mfg gruss grusse gruße freundlichen frage fragen mochte mochten wurde hatte hatten konnte ganz gibt gibts geht gehts
tun tue macht mache machen krieg kriege kriegt kriegen brauch brauche brauchen braucht notig gibt eigentlich bisschen kurz kurze ungefahr leider wirklich
trotzdem gestern vorgestern ubermorgen riesig riesige ganze ganzen ganzer ganzes irgendwas irgendwelche sowas sowieso uberhaupt bereits momentan derzeit gerade bald demnachst endlich vielleicht wahrscheinlich naturlich tatsachlich total echt ziemlich wohl bloss nu nun na tja okay ok
a about after again all also am an and any are as at be because been being but by can could did do does doing for from get got had has have having he her here hi
him his how i if in into is it its just me my myself no nor not of on once only or our ours please she should so some such than that the their them then there these they this those
to too very was we were what when where which while who whom why will with would you your yours yourself yourselves need want hello thanks thank there's i'm
`

var stopwords = func() map[string]struct{} {
	m := make(map[string]struct{})
	for _, w := range strings.Fields(stopwordList) {
		m[Fold(w)] = struct{}{}
	}
	return m
}()

func IsStopwordFolded(w string) bool {
	_, ok := stopwords[w]
	return ok || utf8.RuneCountInString(w) < 2
}

// IsStopword reports whether the folded word w is a German or English
// stopword (or shorter than two letters).
func IsStopword(w string) bool { return IsStopwordFolded(Fold(w)) }

// separable verb particles (folded), re-attached to their verb when they end
// a clause: "Wie melde ich mich um?" -> ummelden.
var particles = []string{"an", "ab", "um", "aus", "auf", "ein", "zu", "zuruck", "weg", "vor", "nach", "mit", "los", "her", "hin", "fest", "durch"}

// shortParts are the three-letter words accepted as compound parts; longer
// parts only need to be in the vocabulary. Keeping this list short avoids
// nonsense splits such as "termin" -> "ter" + "min".
var shortParts = map[string]struct{}{
	"bau": {}, "amt": {}, "ehe": {}, "hof": {}, "weg": {}, "tag": {}, "zug": {}, "rad": {}, "see": {}, "ort": {},
	"tur": {}, "kfz": {}, "pkw": {}, "lkw": {}, "eid": {}, "pin": {}, "tod": {}, "gas": {}, "not": {}, "alt": {},
	"neu": {}, "tor": {}, "bus": {}, "kur": {}, "hut": {}, "bad": {}, "ufo": {}, "bio": {}, "gut": {}, "rat": {},
}

// StemGerman is the Snowball German stemmer (snowballstem.org, "german"),
// written here: github.com/kljensen/snowball, used for English, has no
// German.
// It expects a lowercase word; umlauts are removed in the output.
func StemGerman(word string) string {
	w := []rune(strings.ReplaceAll(word, "ß", "ss"))
	if len(w) < 3 {
		return string(w)
	}
	// Mark u and y between vowels as consonants (upper case).
	for i := 1; i < len(w)-1; i++ {
		if (w[i] == 'u' || w[i] == 'y') && isVowel(w[i-1]) && isVowel(w[i+1]) {
			w[i] = unicode.ToUpper(w[i])
		}
	}
	r1, r2 := regions(w)
	if r1 < 3 {
		r1 = 3
	}
	// suffixes are ASCII, so a byte-wise comparison against runes works
	hasSuffix := func(s string) bool {
		if len(s) > len(w) {
			return false
		}
		off := len(w) - len(s)
		for i := 0; i < len(s); i++ {
			if w[off+i] != rune(s[i]) {
				return false
			}
		}
		return true
	}
	// ending is the first of suffixes (longest first) that w ends with, or "".
	ending := func(suffixes ...string) string {
		for _, s := range suffixes {
			if hasSuffix(s) {
				return s
			}
		}
		return ""
	}
	in := func(s string, region int) bool { return len(w)-len(s) >= region }
	validS := func(r rune) bool { return strings.ContainsRune("bdfghklmnrt", r) }
	validSt := func(r rune) bool { return strings.ContainsRune("bdfghklmnt", r) }

	// Step 1.
	switch a, b := ending("ern", "em", "er"), ending("en", "es", "e"); {
	case a != "":
		if in(a, r1) {
			w = w[:len(w)-len(a)]
		}
	case b != "":
		if in(b, r1) {
			w = w[:len(w)-len(b)]
			if hasSuffix("niss") {
				w = w[:len(w)-1]
			}
		}
	case hasSuffix("s"):
		if len(w) >= 2 && validS(w[len(w)-2]) && in("s", r1) {
			w = w[:len(w)-1]
		}
	}
	// Step 2.
	switch s := ending("est", "en", "er"); {
	case s != "":
		if in(s, r1) {
			w = w[:len(w)-len(s)]
		}
	case hasSuffix("st"):
		if len(w) >= 6 && validSt(w[len(w)-3]) && in("st", r1) {
			w = w[:len(w)-2]
		}
	}
	// Step 3: d-suffixes.
	switch {
	case hasSuffix("end"), hasSuffix("ung"):
		if in("ung", r2) {
			w = w[:len(w)-3]
			if hasSuffix("ig") && !hasSuffix("eig") && in("ig", r2) {
				w = w[:len(w)-2]
			}
		}
	case hasSuffix("isch"), hasSuffix("ig"), hasSuffix("ik"):
		s := ending("isch", "ig", "ik")
		n := len(s)
		if in(s, r2) && !(len(w) > n && w[len(w)-n-1] == 'e') {
			w = w[:len(w)-n]
		}
	case hasSuffix("lich"), hasSuffix("heit"):
		if in("heit", r2) {
			w = w[:len(w)-4]
			if (hasSuffix("er") || hasSuffix("en")) && in("er", r1) {
				w = w[:len(w)-2]
			}
		}
	case hasSuffix("keit"):
		if in("keit", r2) {
			w = w[:len(w)-4]
			if hasSuffix("lich") && in("lich", r2) {
				w = w[:len(w)-4]
			} else if hasSuffix("ig") && in("ig", r2) {
				w = w[:len(w)-2]
			}
		}
	}
	for i, r := range w {
		switch r {
		case 'U':
			w[i] = 'u'
		case 'Y':
			w[i] = 'y'
		case 'ä':
			w[i] = 'a'
		case 'ö':
			w[i] = 'o'
		case 'ü':
			w[i] = 'u'
		}
	}
	return string(w)
}

// regions returns the Snowball R1 and R2 start offsets of w.
func regions(w []rune) (int, int) {
	next := func(from int) int {
		for i := from + 1; i < len(w); i++ {
			if !isVowel(w[i]) && isVowel(w[i-1]) {
				return i + 1
			}
		}
		return len(w)
	}
	r1 := next(0)
	if r1 > len(w) {
		r1 = len(w)
	}
	r2 := len(w)
	if r1 < len(w) {
		r2 = next(r1)
	}
	return r1, r2
}

// Analyzer turns text into weighted search terms against a vocabulary: the
// stems an index knows. It applies synonyms, splits compounds into known
// parts and corrects typos against that vocabulary. An Analyzer is
// immutable after NewAnalyzer and safe for concurrent use.
type Analyzer struct {
	vocab map[string]int      // stem -> document frequency hint (occurrences)
	lex   map[string]struct{} // folded surface words and stems usable as compound parts
	fuzzy *deletionIndex      // stems and synonym keys for typo correction
	syn   *synTable

	surfStem map[string]string   // folded surface word -> stem
	words    map[string]wordInfo // analysis of every corpus word (read-only after build)
	sorted   []string            // surface words, sorted (prefix search)
	rsorted  []string            // reversed surface words, sorted (suffix search)
	enStems  sync.Map            // vocabulary word -> English stem (englishStemOf)
	dict     *Lexicon            // general German words and thesaurus (nil: none)
	english  func() *English     // English -> German dictionary, loaded on first use (nil: none)
}

// SetEnglish lets English messages (LooksEnglish) reach the vocabulary
// through the English -> German dictionary d returns, called on the first
// English message (pass DefaultEnglish); nil turns it off. Call it before
// the analyzer is used.
func (a *Analyzer) SetEnglish(d func() *English) { a.english = d }

// NewAnalyzer builds an analyzer whose vocabulary is made of the words of
// corpus and of the canonical terms of synonyms.
func NewAnalyzer(synonyms []Synonym, corpus ...string) *Analyzer {
	return NewAnalyzerWithLexicon(nil, synonyms, corpus...)
}

// NewAnalyzerWithLexicon is NewAnalyzer with general German vocabulary: a
// word of the message that the corpus lacks may then match through the
// thesaurus (at AltThesaurus), and a real German word is not taken for a
// typo of a corpus word. lx may be nil.
func NewAnalyzerWithLexicon(lx *Lexicon, synonyms []Synonym, corpus ...string) *Analyzer {
	a := &Analyzer{vocab: map[string]int{}, lex: map[string]struct{}{}, surfStem: map[string]string{}, dict: lx}
	a.syn = compileSynonyms(synonyms)
	// a temporary word cache makes the first pass stem each word once
	a.words = map[string]wordInfo{}
	add := func(text string) {
		for _, t := range TokenizeWith(text, a, false, true) {
			if _, ok := a.words[t.Surf]; !ok && !t.Digit {
				a.words[t.Surf] = wordInfo{stem: t.Stem}
			}
			if t.Stop || t.Digit {
				continue
			}
			a.vocab[t.Stem]++
			a.lex[t.Surf] = struct{}{}
			a.lex[t.Stem] = struct{}{}
			a.surfStem[t.Surf] = t.Stem
		}
	}
	for _, c := range corpus {
		add(c)
	}
	for _, s := range synonyms {
		for _, alt := range strings.Split(s.Canonical, "|") {
			add(alt)
		}
	}
	// Analyse every distinct word once (stem, compound parts, derived
	// forms); queries and indexing read this cache.
	words := make(map[string]wordInfo, len(a.surfStem))
	for w, st := range a.surfStem {
		words[w] = wordInfo{stem: st}
	}
	for w, wi := range words {
		if ps := a.SplitCompound(w); ps != nil {
			for _, p := range ps {
				wi.parts = append(wi.parts, StemGerman(p))
			}
		}
		if b := ungBase(wi.stem); b != "" {
			wi.extra = append(wi.extra, b)
		}
		wi.extra = append(wi.extra, participleBase(w)...)
		words[w] = wi
	}
	a.words = words
	// Derived forms (joined separable verbs, participles, -ung bases) are
	// part of the vocabulary too, so that queries can find them.
	var extra []string
	for _, wi := range words {
		extra = append(extra, wi.extra...)
	}
	for _, c := range corpus {
		for _, js := range a.joinParticles(TokenizeWith(c, a, false, true)) {
			extra = append(extra, js...)
		}
	}
	for _, x := range extra {
		if _, ok := a.vocab[x]; !ok {
			a.vocab[x] = 0
		}
	}
	a.fuzzy = newDeletionIndex()
	for s := range a.vocab {
		a.fuzzy.insert(s)
	}
	for k := range a.syn.single {
		a.fuzzy.insert(k)
	}
	for w := range a.surfStem {
		a.sorted = append(a.sorted, w)
		a.rsorted = append(a.rsorted, reverse(w))
	}
	sort.Strings(a.sorted)
	sort.Strings(a.rsorted)
	return a
}

func reverse(s string) string {
	r := []rune(s)
	for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
		r[i], r[j] = r[j], r[i]
	}
	return string(r)
}

// affixMatches returns the stems of known words that begin (modifier) or
// end (head) with the folded word w, at least 3 letters longer than w:
// "rasen" finds "Rasenmähen", "schein" finds "Fischereischein". At most
// max of each kind, shortest first.
func (a *Analyzer) affixMatches(w string, max int) (prefix, suffix []string) {
	n := utf8.RuneCountInString(w)
	if n < 5 {
		return nil, nil
	}
	collect := func(list []string, key string, rev bool) []string {
		var out []string
		i := sort.SearchStrings(list, key)
		for ; i < len(list) && strings.HasPrefix(list[i], key) && len(out) < 4*max; i++ {
			if utf8.RuneCountInString(list[i]) < n+3 {
				continue
			}
			s := list[i]
			if rev {
				s = reverse(s)
			}
			out = append(out, s)
		}
		sort.Slice(out, func(i, j int) bool { return len(out[i]) < len(out[j]) })
		if len(out) > max {
			out = out[:max]
		}
		for i, s := range out {
			out[i] = a.surfStem[s]
		}
		return out
	}
	return collect(a.sorted, w, false), collect(a.rsorted, reverse(w), true)
}

// Known reports whether stem is in the vocabulary.
func (a *Analyzer) Known(stem string) bool {
	_, ok := a.vocab[stem]
	return ok
}

// SplitCompound splits a folded word into parts that the vocabulary knows
// ("bauantrag" -> "bau", "antrag"; "hundesteuer" -> "hund", "steuer"). It
// returns nil when the word cannot be split into at least two known parts.
// Parts are at least four letters long (three for a short list of common
// words such as "bau", "amt", "ehe"); German linking elements (s, es, n, en,
// e, er) between parts are dropped. Among all splits the one with the fewest
// parts wins, then the one whose shortest part is longest.
func (a *Analyzer) SplitCompound(word string) []string {
	if isASCII(word) {
		return a.splitASCII(word)
	}
	w := []rune(word)
	n := len(w)
	if n < 6 {
		return nil
	}
	type cell struct {
		parts  int
		minLen int
		prev   int // start of the last part
		end    int // end of the last part's word (before the linker)
		ok     bool
	}
	best := make([]cell, n+1)
	best[0] = cell{ok: true, minLen: 1 << 30}
	okPart := func(s string) bool {
		l := utf8.RuneCountInString(s)
		if l < 3 {
			return false
		}
		if l == 3 {
			_, ok := shortParts[s]
			return ok
		}
		_, ok := a.lex[s]
		return ok
	}
	linkers := []string{"", "s", "es", "n", "en", "e", "er"}
	for i := 0; i < n; i++ {
		if !best[i].ok {
			continue
		}
		for j := i + 3; j <= n; j++ {
			if i == 0 && j == n {
				continue // the whole word is not a split
			}
			part := string(w[i:j])
			final := j == n
			if !okPart(part) {
				// a final part may also be an inflected known word
				if !(final && utf8.RuneCountInString(part) >= 4 && a.Known(StemGerman(part))) {
					continue
				}
			}
			for _, l := range linkers {
				e := j + utf8.RuneCountInString(l)
				if e > n || string(w[j:e]) != l {
					continue
				}
				if l != "" && e == n {
					continue // linkers only between parts
				}
				c := cell{parts: best[i].parts + 1, minLen: min(best[i].minLen, j-i), prev: i, end: j, ok: true}
				cur := best[e]
				if !cur.ok || c.parts < cur.parts || (c.parts == cur.parts && c.minLen > cur.minLen) {
					best[e] = c
				}
			}
		}
	}
	if !best[n].ok || best[n].parts < 2 {
		return nil
	}
	var parts []string
	for e := n; e > 0; {
		c := best[e]
		parts = append(parts, string(w[c.prev:c.end]))
		e = c.prev
	}
	for i, j := 0, len(parts)-1; i < j; i, j = i+1, j-1 {
		parts[i], parts[j] = parts[j], parts[i]
	}
	return parts
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// splitASCII is SplitCompound for ASCII words (the common case after
// folding), slicing without allocation.
func (a *Analyzer) splitASCII(w string) []string {
	n := len(w)
	if n < 6 {
		return nil
	}
	type cell struct {
		parts, minLen, prev, end int
		ok                       bool
	}
	var buf [48]cell
	var best []cell
	if n+1 <= len(buf) {
		best = buf[:n+1]
	} else {
		best = make([]cell, n+1)
	}
	best[0] = cell{ok: true, minLen: 1 << 30}
	okPart := func(s string) bool {
		switch {
		case len(s) < 3:
			return false
		case len(s) == 3:
			_, ok := shortParts[s]
			return ok
		}
		_, ok := a.lex[s]
		return ok
	}
	linkers := [...]string{"", "s", "es", "n", "en", "e", "er"}
	for i := 0; i < n; i++ {
		if !best[i].ok {
			continue
		}
		for j := i + 3; j <= n; j++ {
			if i == 0 && j == n {
				continue
			}
			part := w[i:j]
			if !okPart(part) && !(j == n && len(part) >= 4 && a.Known(StemGerman(part))) {
				continue
			}
			for _, l := range linkers {
				e := j + len(l)
				if e > n || w[j:e] != l || (l != "" && e == n) {
					continue
				}
				c := cell{parts: best[i].parts + 1, minLen: min(best[i].minLen, j-i), prev: i, end: j, ok: true}
				cur := best[e]
				if !cur.ok || c.parts < cur.parts || (c.parts == cur.parts && c.minLen > cur.minLen) {
					best[e] = c
				}
			}
		}
	}
	if !best[n].ok || best[n].parts < 2 {
		return nil
	}
	parts := make([]string, best[n].parts)
	k := len(parts) - 1
	for e := n; e > 0; k-- {
		c := best[e]
		parts[k] = w[c.prev:c.end]
		e = c.prev
	}
	return parts
}

// maxTypoDistance is the edit distance tolerated for a word of n letters:
// none below 5 letters, 1 from 5, 2 from 8.
func maxTypoDistance(n int) int {
	switch {
	case n >= 8:
		return 2
	case n >= 5:
		return 1
	}
	return 0
}

// Correct returns the vocabulary stems (or synonym keys) closest to stem
// within the typo tolerance for its length, and their distance. It returns
// nil when stem is known or nothing is close enough.
func (a *Analyzer) Correct(stem string) ([]string, int) {
	if a.Known(stem) {
		return nil, 0
	}
	d := maxTypoDistance(utf8.RuneCountInString(stem))
	if d == 0 {
		return nil, 0
	}
	return a.fuzzy.search(stem, d)
}

// Terms returns the analysed stems of text in query mode (synonyms,
// compound parts and typo corrections included), for callers that only need
// a bag of terms, such as the department classifier.
func (a *Analyzer) Terms(text string) []string {
	q := a.AnalyzeQuery(text, false)
	seen := map[string]struct{}{}
	var out []string
	for _, g := range q.Groups {
		for _, alt := range g.Alts {
			if _, ok := seen[alt.Stem]; !ok {
				seen[alt.Stem] = struct{}{}
				out = append(out, alt.Stem)
			}
		}
		for _, p := range g.Parts {
			if _, ok := seen[p.Stem]; !ok && !strings.HasPrefix(p.Stem, "\x00") {
				seen[p.Stem] = struct{}{}
				out = append(out, p.Stem)
			}
		}
	}
	return out
}

// WeightedTerm is one word of a message with the stems it may match and
// how much each is trusted (synonyms, typo corrections and compound parts
// count less than the word itself).
type WeightedTerm struct {
	Surface string
	Stems   map[string]float64
}

// QueryTerms analyses a message like the matcher does (synonyms, compound
// parts, separable verbs, typo correction against the vocabulary).
func (a *Analyzer) QueryTerms(text string) []WeightedTerm {
	qa := a.AnalyzeQuery(text, false)
	out := make([]WeightedTerm, 0, len(qa.Groups))
	for _, g := range qa.Groups {
		wt := WeightedTerm{Surface: g.Surface, Stems: map[string]float64{}}
		put := func(s string, w float64) {
			if strings.HasPrefix(s, "\x00") {
				return
			}
			if w > wt.Stems[s] {
				wt.Stems[s] = w
			}
		}
		for _, x := range g.Alts {
			put(x.Stem, x.W)
		}
		for i, p := range g.Parts {
			f := 0.5
			if i == len(g.Parts)-1 {
				f = 0.75
			}
			put(p.Stem, p.W*f)
		}
		out = append(out, wt)
	}
	return out
}

// DocTerms analyses an indexed text (a department keyword, a description, a
// rule pattern) into stems with weights: whole words 1, compound head 0.7,
// derived forms 0.9 (the modifiers of a compound 0.4).
func (a *Analyzer) DocTerms(text string) map[string]float64 {
	out := map[string]float64{}
	put := func(s string, w float64) {
		if w > out[s] {
			out[s] = w
		}
	}
	for _, t := range a.AnalyzeDoc(text) {
		put(t.Stem, 1)
		for i, p := range t.Parts {
			if i == len(t.Parts)-1 {
				put(p, 0.7)
			} else {
				put(p, 0.4)
			}
		}
		for _, x := range t.Extra {
			put(x, AltVerb)
		}
	}
	return out
}

// DocTerm is one analysed word of an indexed text.
type DocTerm struct {
	Stem  string
	Parts []string // stems of its compound parts, head last
	Extra []string // further stems that identify the word (joined verb, -ung base)
}

// PartStems returns the stems of the compound parts of t: the parts of a
// hyphenated word (each split further) or a split against the vocabulary.
func (a *Analyzer) PartStems(t Token) []string {
	var out []string
	if len(t.Hyph) > 1 {
		for _, h := range t.Hyph {
			if utf8.RuneCountInString(h) < 2 || IsStopwordFolded(h) {
				continue
			}
			if ps := a.SplitCompound(h); ps != nil {
				for _, p := range ps {
					out = append(out, StemGerman(p))
				}
				continue
			}
			out = append(out, StemGerman(h))
		}
		if len(out) < 2 {
			return nil
		}
		return out
	}
	if wi, ok := a.words[t.Surf]; ok {
		return wi.parts
	}
	for _, p := range a.SplitCompound(t.Surf) {
		out = append(out, StemGerman(p))
	}
	return out
}

// wordInfo is the cached analysis of one corpus word.
type wordInfo struct {
	stem  string
	parts []string // compound part stems
	extra []string // -ung base, participle bases
}

// Resolve maps a stem to known stems: the stem itself, the canonical terms of
// a one-word synonym, the stem without a verb ending ("meldet" -> meld) or
// without the ge- of a participle.
func (a *Analyzer) Resolve(stem string) ([]string, bool) {
	var out []string
	add := func(s string) {
		if c, ok := a.syn.single[s]; ok {
			out = append(out, c...)
		} else if a.Known(s) {
			out = append(out, s)
		}
	}
	add(stem)
	for _, suf := range []string{"est", "et", "st", "t"} {
		if strings.HasSuffix(stem, suf) && utf8.RuneCountInString(stem)-len(suf) >= 3 {
			add(stem[:len(stem)-len(suf)])
			break
		}
	}
	if len(out) == 0 && strings.HasPrefix(stem, "ge") && utf8.RuneCountInString(stem) >= 6 {
		if r, ok := a.Resolve(stem[2:]); ok {
			out = append(out, r...)
		}
	}
	return out, len(out) > 0
}

// joinParticles re-attaches separable verb particles that end a clause to
// a verb of the same clause, and undoes zu-infinitives ("abzureissen"):
// it returns, per token index, the stems of the joined verb.
func (a *Analyzer) joinParticles(toks []Token) map[int][]string {
	joined := map[int][]string{}
	for i, t := range toks {
		if !isParticle(t.Surf) || (i+1 < len(toks) && toks[i+1].Clause == t.Clause && !toks[i+1].Stop) {
			continue
		}
		for j := i - 1; j >= 0 && toks[j].Clause == t.Clause && i-j <= 8; j-- {
			if toks[j].Stop || toks[j].Digit {
				continue
			}
			if s, ok := a.Resolve(StemGerman(t.Surf + toks[j].Surf)); ok {
				joined[j] = s
				break
			}
		}
	}
	for i, t := range toks {
		if _, ok := joined[i]; ok || t.Stop {
			continue
		}
		for _, p := range particles {
			if strings.HasPrefix(t.Surf, p+"zu") && len(t.Surf) > len(p)+4 {
				if s, ok := a.Resolve(StemGerman(p + t.Surf[len(p)+2:])); ok {
					joined[i] = s
				}
			}
		}
	}
	return joined
}

// participleBase returns the infinitive stems of a participle of a
// separable verb ("abgelaufen" -> ablauf, "angemeldet" -> anmeld).
func participleBase(w string) []string {
	for _, p := range particles {
		if strings.HasPrefix(w, p+"ge") && len(w) >= len(p)+5 {
			base := StemGerman(p + w[len(p)+2:])
			out := []string{base}
			for _, suf := range []string{"et", "t"} {
				if strings.HasSuffix(base, suf) && len(base)-len(suf) >= len(p)+3 {
					out = append(out, base[:len(base)-len(suf)])
					break
				}
			}
			return out
		}
	}
	return nil
}

// ungBase returns the verb stem of a noun in -ung that the stemmer kept
// ("zahlung" -> "zahl"), or "".
func ungBase(stem string) string {
	if strings.HasSuffix(stem, "ung") && utf8.RuneCountInString(stem) >= 7 {
		return stem[:len(stem)-3]
	}
	return ""
}

// AnalyzeDoc analyses an indexed text: stems, compound parts, joined
// separable verbs; no synonyms and no typo correction.
func (a *Analyzer) AnalyzeDoc(text string) []DocTerm {
	toks := TokenizeWith(text, a, false, true)
	joined := a.joinParticles(toks)
	out := make([]DocTerm, 0, len(toks))
	for i, t := range toks {
		if t.Stop || t.Digit {
			continue
		}
		dt := DocTerm{Stem: t.Stem, Parts: a.PartStems(t)}
		if wi, ok := a.words[t.Surf]; ok && len(t.Hyph) == 0 {
			dt.Extra = append(dt.Extra, wi.extra...)
		} else {
			if b := ungBase(t.Stem); b != "" {
				dt.Extra = append(dt.Extra, b)
			}
			dt.Extra = append(dt.Extra, participleBase(t.Surf)...)
		}
		if len(joined[i]) > 0 {
			dt.Extra = append(dt.Extra[:len(dt.Extra):len(dt.Extra)], joined[i]...)
		}
		out = append(out, dt)
	}
	return out
}

// Term kinds in a query, from most to least trusted.
const (
	altExact    = 1.0
	altSynonym  = 0.95
	altJoined   = 1.0  // separable verb re-attached
	AltVerb     = 0.9  // verb ending removed, -ung base
	altTypo1    = 0.92 // one edit away
	altTypo2    = 0.75 // two edits away
	altModifier = 0.5  // the word is the first part of a known compound, or vice versa
	altHead     = 0.6  // the word is the last part (head) of a known compound
	// AltThesaurus: a synonym of the word in the general thesaurus, weighted
	// below an exact, stemmed or city-synonym match.
	AltThesaurus = 0.8
	// AltDictionary: a German translation of an English word in the
	// English -> German dictionary, weighted like the thesaurus.
	AltDictionary = 0.8
)

// QAlt is one way a query word can match: a stem, how much to trust it and
// through which relation the word reached it.
type QAlt struct {
	Stem string
	W    float64
	Rel  Relation
}

// Relation says how a word of a message reached a word of the index.
type Relation uint8

// Relations, from the most to the least direct.
const (
	RelExact      Relation = iota // the same word (after folding and stemming)
	RelStem                       // another form: verb ending, -ung base, particle verb
	RelCompound                   // a part of a compound, or the word is part of one
	RelSynonym                    // the city's synonym list
	RelThesaurus                  // the general thesaurus
	RelTypo                       // a typo corrected
	RelDictionary                 // the English -> German dictionary (after RelTypo: the values are kept)
)

var relNames = [...]string{"exact", "stem", "compound", "synonym", "thesaurus", "typo", "dictionary"}

// String is the relation's name: exact, stem, compound, synonym, thesaurus,
// typo, dictionary.
func (r Relation) String() string {
	if int(r) < len(relNames) {
		return relNames[r]
	}
	return "unknown"
}

// QGroup is one query word (or synonym phrase, or canonical word of a
// synonym) with its alternatives: exact stem, synonym canonicals, typo
// corrections, and the parts of a compound (all of which should match).
type QGroup struct {
	Surface string
	Alts    []QAlt
	Parts   []QAlt // compound parts, head (last) weighted most
	Known   bool   // some alternative is in the vocabulary
	ViaSyn  bool
}

type QueryAnalysis struct {
	Groups  []QGroup
	Bigrams [][2]string // adjacent primary stems
	Toks    []Token
}

func (g *QGroup) add(stem string, w float64, rel Relation) {
	for i, x := range g.Alts {
		if x.Stem == stem {
			if w > x.W {
				g.Alts[i].W, g.Alts[i].Rel = w, rel
			}
			return
		}
	}
	g.Alts = append(g.Alts, QAlt{stem, w, rel})
}

// AnalyzeQuery analyses a citizen's message against the vocabulary.
func (a *Analyzer) AnalyzeQuery(text string, affix bool) QueryAnalysis {
	toks := TokenizeWith(text, a, true, true)
	qa := QueryAnalysis{Toks: toks}
	english := LooksEnglish(toks)
	joined := a.joinParticles(toks)

	// word analyses one token into a group; msg: the token is a word of
	// the message (not of a synonym's canonical term).
	word := func(t Token, w float64, surface string, msg bool) QGroup {
		g := QGroup{Surface: surface}
		if a.Known(t.Stem) {
			g.add(t.Stem, w, RelExact)
		}
		if b := ungBase(t.Stem); b != "" && a.Known(b) {
			g.add(b, w*AltVerb, RelStem)
		}
		// An English word reaches German ones through the dictionary; it
		// is then no compound or typo of a German word ("backpack"), and
		// neither is one whose translations the FAQ does not use ("cross").
		var translated, enWord bool
		if msg {
			translated, enWord = a.translate(&g, t, w, english)
		}

		if ps := a.PartStems(t); ps != nil && !translated {
			for _, p := range ps {
				g.Parts = append(g.Parts, QAlt{p, w, RelCompound})
			}
			// a split of an unknown word may hide a typo of a known one
			// ("wohngelt": wohn + gelt, or Wohngeld misspelt)
			if len(g.Alts) == 0 && !a.dict.IsWord(t.Surf) && !enWord {
				if cands, d := a.Correct(t.Stem); d == 1 {
					for _, c := range cands {
						g.add(c, w*altTypo1, RelTypo)
					}
				}
			}
		}
		if len(g.Alts) == 0 && len(g.Parts) == 0 {
			if r, ok := a.Resolve(t.Stem); ok {
				for _, s := range r {
					g.add(s, w*AltVerb, RelStem)
				}
			} else if rel := a.thesaurus(t); len(rel) > 0 {
				for _, s := range rel {
					g.add(s, w*AltThesaurus, RelThesaurus)
				}
			} else if a.dict.IsWord(t.Surf) || enWord {
				// a real word the FAQ does not use is no typo of one it does
			} else if cands, d := a.Correct(t.Stem); len(cands) > 0 {
				tw := altTypo1
				if d == 2 {
					tw = altTypo2
				}
				for _, c := range cands {
					if canon, ok := a.syn.single[c]; ok {
						for _, ct := range canon {
							g.add(ct, w*tw, RelTypo)
						}
						continue
					}
					g.add(c, w*tw, RelTypo)
				}
			} else if affix {
				// an unknown word inside known compounds, or an unknown
				// compound with a known first part: weak evidence.
				pre, suf := a.affixMatches(t.Surf, 4)
				for _, x := range pre {
					g.add(x, w*altModifier, RelCompound)
				}
				for _, x := range suf {
					g.add(x, w*altHead, RelCompound)
				}
				if len(g.Alts) == 0 {
					if p := a.knownPrefix(t.Surf); p != "" {
						g.add(a.surfStemOf(p), w*altModifier, RelCompound)
					}
				}
			}
		}
		g.Known = len(g.Alts) > 0 || len(g.Parts) > 0
		if !g.Known {
			g.Alts = append(g.Alts, QAlt{t.Stem, w, RelExact})
		}
		return g
	}

	for i := 0; i < len(toks); i++ {
		t := toks[i]
		if !t.Digit {
			if end, canon, ok := a.syn.match(toks, i, english); ok {
				raw := make([]string, 0, end-i)
				var src []string
				for k := i; k < end; k++ {
					raw = append(raw, toks[k].Surf)
					if !toks[k].Stop && a.Known(toks[k].Stem) {
						src = append(src, toks[k].Stem)
					}
				}
				surface := strings.Join(raw, " ")
				for ci, alts := range canon {
					var g QGroup
					for ai, alt := range alts {
						ct := tokenize(alt)
						if len(ct) == 0 {
							continue
						}
						ag := word(ct[0], altSynonym, surface, false)
						for k := range ag.Alts {
							ag.Alts[k].Rel = RelSynonym
						}
						if ai == 0 {
							g = ag
							continue
						}
						for _, x := range ag.Alts {
							g.add(x.Stem, x.W, RelSynonym)
						}
						if len(g.Parts) == 0 {
							g.Parts = ag.Parts
						}
					}
					if ci == 0 {
						for _, s := range src {
							g.add(s, altExact, RelExact)
						}
					}
					g.ViaSyn = true
					g.Known = g.Known || len(g.Alts) > 0
					qa.Groups = append(qa.Groups, g)
				}
				i = end - 1
				continue
			}
		}
		if t.Stop || t.Digit {
			continue
		}
		if s, ok := joined[i]; ok {
			g := QGroup{Surface: t.Surf, Known: true}
			for _, x := range s {
				g.add(x, altJoined, RelStem)
			}
			if a.Known(t.Stem) {
				g.add(t.Stem, 0.5, RelExact)
			}
			qa.Groups = append(qa.Groups, g)
			continue
		}
		qa.Groups = append(qa.Groups, word(t, altExact, t.Surf, true))
	}
	// Dedupe groups with the same primary stem.
	seen := map[string]bool{}
	out := qa.Groups[:0]
	for _, g := range qa.Groups {
		key := g.primary()
		if seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, g)
	}
	qa.Groups = out
	for i := 1; i < len(qa.Groups); i++ {
		qa.Bigrams = append(qa.Bigrams, [2]string{qa.Groups[i-1].primary(), qa.Groups[i].primary()})
	}
	return qa
}

// translate adds to g the known German stems that the English dictionary
// gives for t, at AltDictionary, and reports whether it added any and
// whether the dictionary has the word at all. It translates the words of
// an English message (english), and in another message a word the FAQ
// does not know that the general German word list does not know either
// (only with a lexicon: without one, German words the FAQ lacks cannot be
// told from English ones).
func (a *Analyzer) translate(g *QGroup, t Token, w float64, english bool) (added, inDict bool) {
	if a.english == nil || t.Stop || t.Digit || t.En == "" {
		return false, false
	}
	if !english && (len(g.Alts) > 0 || a.dict == nil || a.dict.IsWord(t.Surf)) {
		return false, false
	}
	tr := a.english().Translate(t.En)
	for _, s := range tr {
		if a.Known(s) {
			g.add(s, w*AltDictionary, RelDictionary)
			added = true
		}
	}
	return added, len(tr) > 0
}

// thesaurus returns the known stems that the general thesaurus relates to
// the token (through its stem or, for an unknown compound, its head).
func (a *Analyzer) thesaurus(t Token) []string {
	var out []string
	add := func(s string) {
		if a.Known(s) && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	a.dict.Related(t.Stem, add)
	return out
}

// englishWords are frequent English function words that German does not
// use (so "die", "also", "will" are not among them).
var englishWords = map[string]bool{
	"the": true, "a": true, "is": true, "are": true, "my": true, "i": true, "you": true, "how": true, "what": true,
	"where": true, "when": true, "can": true, "do": true, "does": true, "to": true, "of": true, "for": true,
	"and": true, "it": true, "this": true, "that": true, "with": true, "have": true, "has": true, "need": true,
	"please": true, "there": true, "get": true, "your": true, "our": true, "we": true, "on": true, "at": true,
}

// LooksEnglish reports whether more of the message's words are English
// function words than German stopwords.
func LooksEnglish(toks []Token) bool {
	var en, de int
	for _, t := range toks {
		switch {
		case englishWords[t.Surf]:
			en++
		case t.Stop:
			de++
		}
	}
	return en > de
}

func (a *Analyzer) surfStemOf(w string) string {
	if s, ok := a.surfStem[w]; ok {
		return s
	}
	return StemGerman(w)
}

// knownPrefix returns the longest known word (>= 4 letters) that starts w,
// leaving at least 4 letters, or "".
func (a *Analyzer) knownPrefix(w string) string {
	r := []rune(w)
	for n := len(r) - 4; n >= 4; n-- {
		p := string(r[:n])
		if _, ok := a.lex[p]; ok {
			return p
		}
	}
	return ""
}

func (g QGroup) primary() string {
	if len(g.Alts) > 0 {
		return g.Alts[0].Stem
	}
	var s []string
	for _, p := range g.Parts {
		s = append(s, p.Stem)
	}
	return strings.Join(s, "+")
}

func isParticle(w string) bool {
	for _, p := range particles {
		if p == w {
			return true
		}
	}
	return false
}
