package german

import (
	"bytes"
	"compress/gzip"
	"embed"
	"io"
	"sort"
	"strings"
	"sync"
)

//go:generate go run ./lexgen -out lexicon

// The lexicon is derived from Debian packages by lexgen (see
// lexicon/NOTICE for the sources and their licences) and embedded, so the
// binary needs nothing at run time.
//
//go:embed lexicon/thesaurus.txt.gz lexicon/words.txt.gz lexicon/en-de.txt.gz
var lexiconFS embed.FS

// Lexicon is general German vocabulary: a word list (to tell real words from
// typos and to split compounds) and the synonym sets of a thesaurus. It is
// immutable and safe for concurrent use.
type Lexicon struct {
	words   string   // sorted folded words, each followed by '\n'
	offsets []uint32 // start of each word in words
	sets    [][]string
	byStem  map[string][]int32 // stem -> indexes into sets
}

// DefaultLexicon returns the embedded lexicon, loaded on first use.
var DefaultLexicon = sync.OnceValue(func() *Lexicon {
	lx, err := LoadLexicon()
	if err != nil {
		// the files are embedded at build time; a broken build is a programming error
		panic("german: embedded lexicon: " + err.Error())
	}
	return lx
})

func gunzip(name string) ([]byte, error) {
	b, err := lexiconFS.ReadFile(name)
	if err != nil {
		return nil, err
	}
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	return io.ReadAll(zr)
}

// LoadLexicon decompresses and indexes the embedded lexicon; use
// DefaultLexicon, which does it once per process.
func LoadLexicon() (*Lexicon, error) {
	w, err := gunzip("lexicon/words.txt.gz")
	if err != nil {
		return nil, err
	}
	lx := &Lexicon{words: string(w), byStem: map[string][]int32{}}
	lx.offsets = make([]uint32, 0, bytes.Count(w, []byte{'\n'}))
	for i := 0; i < len(w); {
		lx.offsets = append(lx.offsets, uint32(i))
		j := bytes.IndexByte(w[i:], '\n')
		if j < 0 {
			break
		}
		i += j + 1
	}
	t, err := gunzip("lexicon/thesaurus.txt.gz")
	if err != nil {
		return nil, err
	}
	for _, line := range strings.Split(string(t), "\n") {
		if line == "" {
			continue
		}
		members := strings.Split(line, ";")
		stems := make([]string, 0, len(members))
		seen := map[string]bool{}
		for _, m := range members {
			s := StemGerman(m)
			if seen[s] || IsStopwordFolded(m) {
				continue
			}
			seen[s] = true
			stems = append(stems, s)
		}
		if len(stems) < 2 {
			continue
		}
		id := int32(len(lx.sets))
		lx.sets = append(lx.sets, stems)
		for _, s := range stems {
			lx.byStem[s] = append(lx.byStem[s], id)
		}
	}
	return lx, nil
}

// WordsOnly returns the lexicon without its thesaurus: the word list still
// tells real words from typos, but Related relates nothing. The word list is
// shared, not copied.
func (lx *Lexicon) WordsOnly() *Lexicon {
	if lx == nil {
		return nil
	}
	return &Lexicon{words: lx.words, offsets: lx.offsets}
}

func (lx *Lexicon) word(i int) string {
	s := lx.words[lx.offsets[i]:]
	return s[:strings.IndexByte(s, '\n')]
}

// IsWord reports whether the folded word w is a German word of the word
// list (any inflected form it lists).
func (lx *Lexicon) IsWord(w string) bool {
	if lx == nil || w == "" {
		return false
	}
	i := sort.Search(len(lx.offsets), func(i int) bool { return lx.word(i) >= w })
	return i < len(lx.offsets) && lx.word(i) == w
}

// maxSetSize: larger synonym sets are too vague to relate their members.
const maxSetSize = 12

// Related returns the stems that share a synonym set with stem (without
// stem itself), calling f for each; sets larger than maxSetSize are skipped.
func (lx *Lexicon) Related(stem string, f func(related string)) {
	if lx == nil {
		return
	}
	for _, id := range lx.byStem[stem] {
		set := lx.sets[id]
		if len(set) > maxSetSize {
			continue
		}
		for _, s := range set {
			if s != stem {
				f(s)
			}
		}
	}
}
