package german

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"citybot/internal/demodata"
)

// TestDeletionIndexMatchesTrie: the deletion-neighbourhood search returns
// the same words and distance as the exhaustive trie search.
func TestDeletionIndexMatchesTrie(t *testing.T) {
	b, err := demodata.FS.ReadFile("faq.json")
	if err != nil {
		t.Fatal(err)
	}
	var entries []struct {
		Question, Answer string
		Variants         []string
	}
	if err := json.Unmarshal(b, &entries); err != nil {
		t.Fatal(err)
	}
	var corpus []string
	for _, e := range entries {
		corpus = append(corpus, e.Question, strings.Join(e.Variants, " "), e.Answer)
	}
	a := NewAnalyzer(DefaultSynonyms(), corpus...)
	tr := newTrie()
	for _, w := range a.fuzzy.words {
		tr.insert(w)
	}
	queries := []string{"wertstofhof", "persnalausweis", "hundsteur", "bauantarg", "sperrmul", "fuehrershein",
		"kenzeichen", "abfallkalnder", "grundstuek", "gebuhren", "meldebeschienigung", "xyzqwv", "standesamtt"}
	for _, w := range a.fuzzy.words {
		if len(queries) > 3000 {
			break
		}
		r := []rune(w)
		if len(r) >= 5 {
			// a transposition, a deletion and a substitution of real words
			x := slices.Clone(r)
			x[1], x[2] = x[2], x[1]
			queries = append(queries, string(x), string(slices.Delete(slices.Clone(r), 3, 4)), string(append(slices.Clone(r[:len(r)-1]), 'q')))
		}
	}
	n := 0
	for _, q := range queries {
		d := maxTypoDistance(len([]rune(q)))
		if d == 0 {
			continue
		}
		want, wd := tr.search(q, d)
		got, gd := a.fuzzy.search(q, d)
		slices.Sort(want)
		n++
		if gd != wd || !slices.Equal(got, want) {
			t.Errorf("search(%q, %d) = %v %d, trie %v %d", q, d, got, gd, want, wd)
		}
	}
	t.Logf("%d searches over %d words agree", n, len(a.fuzzy.words))
}

// The exhaustive trie search the deletion index replaced, kept as the
// reference implementation for TestDeletionIndexMatchesTrie.

// trie is a compact prefix tree over stems for bounded edit-distance search
// (restricted Damerau-Levenshtein: insertions, deletions, substitutions and
// transpositions of adjacent letters).
type trie struct {
	nodes []trieNode
}

type trieNode struct {
	kids  []trieEdge
	word  string
	final bool
}

type trieEdge struct {
	r    rune
	node int32
}

func newTrie() *trie { return &trie{nodes: []trieNode{{}}} }

func (t *trie) insert(w string) {
	n := 0
	for _, r := range w {
		next := -1
		for _, e := range t.nodes[n].kids {
			if e.r == r {
				next = int(e.node)
				break
			}
		}
		if next < 0 {
			t.nodes = append(t.nodes, trieNode{})
			next = len(t.nodes) - 1
			t.nodes[n].kids = append(t.nodes[n].kids, trieEdge{r, int32(next)})
		}
		n = next
	}
	t.nodes[n].final = true
	t.nodes[n].word = w
}

// search returns the words at the smallest distance <= max from w.
func (t *trie) search(w string, max int) ([]string, int) {
	target := []rune(w)
	cols := len(target) + 1
	bestD := max + 1
	var best []string
	// One row per trie depth, reused: depth is bounded by the longest
	// word that can still be within max edits.
	maxDepth := len(target) + max + 1
	rows := make([]int, (maxDepth+1)*cols)
	row := func(d int) []int { return rows[d*cols : (d+1)*cols] }
	for i := range cols {
		rows[i] = i
	}
	var walk func(n, depth int, pr, r rune)
	walk = func(n, depth int, pr, r rune) {
		prev, cur := row(depth-1), row(depth)
		var prevPrev []int
		if depth >= 2 {
			prevPrev = row(depth - 2)
		}
		cur[0] = prev[0] + 1
		rowMin := cur[0]
		for c := 1; c < cols; c++ {
			cost := 1
			if target[c-1] == r {
				cost = 0
			}
			v := min(cur[c-1]+1, prev[c]+1, prev[c-1]+cost)
			if prevPrev != nil && c > 1 && target[c-1] == pr && target[c-2] == r {
				v = min(v, prevPrev[c-2]+1)
			}
			cur[c] = v
			rowMin = min(rowMin, v)
		}
		node := &t.nodes[n]
		if node.final {
			d := cur[cols-1]
			if d < bestD {
				bestD = d
				best = append(best[:0], node.word)
			} else if d == bestD {
				best = append(best, node.word)
			}
		}
		if rowMin > max || rowMin > bestD || depth >= maxDepth {
			return
		}
		for _, e := range node.kids {
			walk(int(e.node), depth+1, r, e.r)
		}
	}
	for _, e := range t.nodes[0].kids {
		walk(int(e.node), 1, 0, e.r)
	}
	if bestD > max {
		return nil, 0
	}
	return best, bestD
}
