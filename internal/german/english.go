package german

import (
	"strings"
	"sync"

	"github.com/kljensen/snowball/english"
)

// English is an English -> German dictionary: for an English word's stem,
// German stems it translates to, likeliest first. It is derived by lexgen
// from the Ding dictionary (Debian package trans-de-en; see lexicon/NOTICE),
// embedded as lexicon/en-de.txt.gz, and lets an English message reach the
// German words of a FAQ ("rent" -> Miete, "apply" -> beantragen). It is
// immutable and safe for concurrent use.
type English struct {
	byStem map[string][]string
}

// DefaultEnglish returns the embedded dictionary, loaded on first use (the
// first English message, not when an index is built).
var DefaultEnglish = sync.OnceValue(func() *English {
	d, err := LoadEnglish()
	if err != nil {
		// the file is embedded at build time; a broken build is a programming error
		panic("german: embedded English dictionary: " + err.Error())
	}
	return d
})

// LoadEnglish decompresses and indexes the embedded dictionary; use
// DefaultEnglish, which does it once per process. Each line of the file is
// "english<TAB>german1;german2;..." (German words folded, likeliest
// first); English words with the same stem ("die", "died") are merged.
func LoadEnglish() (*English, error) {
	b, err := gunzip("lexicon/en-de.txt.gz")
	if err != nil {
		return nil, err
	}
	d := &English{byStem: make(map[string][]string, 1<<15)}
	stems := map[string]string{} // German word -> stem, shared by many lines
	for _, line := range strings.Split(string(b), "\n") {
		en, de, ok := strings.Cut(line, "\t")
		if !ok {
			continue
		}
		es := english.Stem(en, true)
		list := d.byStem[es]
		for _, w := range strings.Split(de, ";") {
			s, ok := stems[w]
			if !ok {
				s = StemGerman(w)
				stems[w] = s
			}
			if IsStopwordFolded(w) || containsString(list, s) {
				continue
			}
			list = append(list, s)
		}
		d.byStem[es] = list
	}
	return d, nil
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Translate returns the German stems of the English stem en (a token's En),
// likeliest first; nil when the dictionary lacks it.
func (d *English) Translate(en string) []string {
	if d == nil {
		return nil
	}
	return d.byStem[en]
}

// EnglishStem is the English stem of a folded word, as in Token.En.
func EnglishStem(w string) string { return english.Stem(w, true) }
