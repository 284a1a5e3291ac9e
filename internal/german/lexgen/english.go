package main

import (
	"fmt"
	"math"
	"os"
	"regexp"
	"sort"
	"strings"
	"unicode"

	"citybot/internal/german"
)

// English -> German dictionary, derived from Ding (Debian package
// trans-de-en, /usr/share/trans/de-en). A Ding line is
//
//	German alternatives | inflections or derived terms :: English | ...
//
// where the sections on both sides of "::" run in parallel, ";" separates
// alternatives inside a section, "{f}", "{vt}" ... tag the German part of
// speech, "[med.]", "[Br.]" ... the subject or register, and "(...)" and
// "<...>" carry explanations and variant spellings.

// maxTranslations is the number of German words kept per English word.
const maxTranslations = 8

var (
	posTag     = regexp.MustCompile(`\{([a-z]*)\}`)
	subjectTag = regexp.MustCompile(`\[([^\]]*)\]`)
	bracketed  = regexp.MustCompile(`\{[^}]*\}|\[[^\]]*\]|\([^)]*\)|<[^>]*>`)
)

// contentPOS are the German parts of speech kept: nouns, verbs, adjectives
// and adverbs (no pronouns, conjunctions, prepositions, interjections).
var contentPOS = map[string]bool{"f": true, "m": true, "n": true, "pl": true, "adj": true, "adv": true, "vt": true, "vi": true, "vr": true, "v": true}

// skipSubjects are specialist or marked registers that a citizen's message
// to a city hardly means: an alternative tagged with one counts little
// (subjectWeight), so that it is kept only when nothing else translates
// the word ("sterben" is tagged [biol.] [med.]).
var skipSubjects = map[string]bool{
	"ornith.": true, "techn.": true, "chem.": true, "bot.": true, "zool.": true, "comp.": true, "electr.": true,
	"mil.": true, "min.": true, "hist.": true, "textil.": true, "mus.": true, "phys.": true, "math.": true,
	"geol.": true, "biol.": true, "ling.": true, "naut.": true, "mach.": true, "aviat.": true, "telco.": true,
	"psych.": true, "art": true, "lit.": true, "pej.": true, "biochem.": true, "phil.": true, "slang": true,
	"rare": true, "humor.": true, "poet.": true, "arch.": true, "dated": true, "veraltet": true, "print": true,
	"meteo.": true, "astron.": true, "selten": true, "obs.": true, "archaic": true, "vulg.": true, "anat.": true,
	"pharm.": true, "geogr.": true, "statist.": true, "photo.": true, "mining": true, "archaeol.": true,
	"Jägersprache": true, "insur.": false,
}

// objectWords are the placeholders of a German or English verb phrase
// ("etw. beantragen", "to apply for sth.", "sich bewerben").
var objectWords = map[string]bool{
	"etw.": true, "jdn.": true, "jdm.": true, "jds.": true, "sich": true, "etw": true,
	"sth.": true, "sb.": true, "sb.'s": true, "to": true, "one's": true, "oneself": true,
}

// particles may follow an English verb ("to apply for sth.", "to pick
// up"): the verb alone stands for the phrase, at phraseWeight.
var particles = map[string]bool{
	"for": true, "with": true, "up": true, "off": true, "out": true, "in": true, "on": true, "at": true,
	"about": true, "from": true, "into": true, "down": true, "away": true, "back": true, "over": true, "of": true,
}

const (
	subjectWeight = 0.5
	phraseWeight  = 0.5
)

// alternative is one alternative of a section with its tags removed: the
// remaining word (or "" when it is no single word) and whether it is
// marked as a content word or with a skipped subject. With verb set (an
// English alternative of a verb entry), a verb followed by particles
// yields the verb and phrase.
func alternative(s string, verb bool) (w string, content, skip, phrase bool) {
	for _, m := range posTag.FindAllStringSubmatch(s, -1) {
		if contentPOS[m[1]] {
			content = true
		}
	}
	for _, m := range subjectTag.FindAllStringSubmatch(s, -1) {
		for _, t := range strings.Split(m[1], ";") {
			if skipSubjects[strings.TrimSpace(t)] {
				skip = true
			}
		}
	}
	s = bracketed.ReplaceAllString(s, " ")
	var rest []string
	for _, f := range strings.Fields(s) {
		if !objectWords[strings.ToLower(f)] {
			rest = append(rest, f)
		}
	}
	if verb && len(rest) > 1 {
		phrase = true
		for _, p := range rest[1:] {
			if !particles[p] {
				phrase = false
			}
		}
		if phrase {
			rest = rest[:1]
		}
	}
	if len(rest) != 1 || !word(rest[0]) || strings.Contains(rest[0], "-") {
		return "", content, skip, false
	}
	return rest[0], content, skip, phrase
}

// englishWord reports whether w is a plain lower-case English word.
func englishWord(w string) bool {
	if len(w) < 3 {
		return false
	}
	for _, r := range w {
		if r < 'a' || r > 'z' {
			return false
		}
	}
	return true
}

// buildEnglish reads the Ding dictionary and returns the lines of
// en-de.txt.gz: "english<TAB>german1;german2;...", German words folded, at
// most maxTranslations each, the likeliest first; only German words that
// the word list (known) has.
func buildEnglish(path string, known map[string]bool) ([]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w (Debian: apt-get install trans-de-en)", err)
	}
	// How many entries use a German word anywhere (in phrases and
	// examples too): common words are used often, so this ranks "sterben"
	// above "Prägestempel" for "die".
	use := map[string]int{}
	for _, line := range strings.Split(string(data), "\n") {
		de, _, ok := strings.Cut(line, " :: ")
		if !ok || strings.HasPrefix(line, "#") {
			continue
		}
		seen := map[string]bool{}
		for _, w := range strings.FieldsFunc(de, func(r rune) bool { return !unicode.IsLetter(r) }) {
			w = german.Fold(w)
			if !seen[w] {
				seen[w] = true
				use[w]++
			}
		}
	}
	type cand struct {
		word  string // folded German word
		score float64
	}
	// score[en][german stem]: how strongly the dictionary pairs them
	score := map[string]map[string]*cand{}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "#") {
			continue
		}
		de, en, ok := strings.Cut(line, " :: ")
		if !ok {
			continue
		}
		deSec, enSec := strings.Split(de, " | "), strings.Split(en, " | ")
		if len(deSec) != len(enSec) {
			deSec, enSec = deSec[:1], enSec[:1]
		}
		headContent := false
		// a verb entry: its English head starts with "to", its inflections
		// ("applied for") do not
		headVerb := strings.HasPrefix(strings.TrimSpace(enSec[0]), "to ")
		for si := range deSec {
			// the main entry counts fully; inflections and derived terms
			// (later sections) less
			secW := 1.0
			if si > 0 {
				secW = 0.5
			}
			var des []string
			var deW []float64
			for _, alt := range strings.Split(deSec[si], ";") {
				w, content, skip, _ := alternative(alt, false)
				if si == 0 && content {
					headContent = true
				}
				if !(content || (si > 0 && headContent)) || w == "" {
					continue
				}
				w = german.Fold(w)
				if !known[w] {
					continue
				}
				des = append(des, w)
				deW = append(deW, weightIf(skip, subjectWeight))
			}
			if len(des) == 0 {
				continue
			}
			var ens []string
			var enW []float64
			for _, alt := range strings.Split(enSec[si], ";") {
				w, _, skip, phrase := alternative(alt, headVerb)
				if !englishWord(w) {
					continue
				}
				ens = append(ens, w)
				enW = append(enW, weightIf(skip, subjectWeight)*weightIf(phrase, phraseWeight))
			}
			for ei, e := range ens {
				m := score[e]
				if m == nil {
					m = map[string]*cand{}
					score[e] = m
				}
				for di, d := range des {
					v := secW * deW[di] * enW[ei] / (float64(1+di) * (1 + 0.5*float64(ei)))
					st := german.StemGerman(d)
					if c := m[st]; c != nil {
						c.score += v
					} else {
						m[st] = &cand{d, v}
					}
				}
			}
		}
	}
	lines := make([]string, 0, len(score))
	for e, m := range score {
		cs := make([]*cand, 0, len(m))
		for _, c := range m {
			c.score *= 1 + math.Log(float64(use[c.word]))
			cs = append(cs, c)
		}
		sort.Slice(cs, func(i, j int) bool {
			if cs[i].score != cs[j].score {
				return cs[i].score > cs[j].score
			}
			return cs[i].word < cs[j].word
		})
		if len(cs) > maxTranslations {
			cs = cs[:maxTranslations]
		}
		ws := make([]string, len(cs))
		for i, c := range cs {
			ws[i] = c.word
		}
		lines = append(lines, e+"\t"+strings.Join(ws, ";"))
	}
	sort.Strings(lines)
	return lines, nil
}

func weightIf(cond bool, w float64) float64 {
	if cond {
		return w
	}
	return 1
}
