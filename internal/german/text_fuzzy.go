package german

import (
	"slices"
	"sync"
)

// deletionIndex finds the vocabulary words closest to a misspelt word
// (restricted Damerau-Levenshtein distance, like trie.search) through
// precomputed deletion neighbourhoods: two words are within distance k only
// if deleting at most k letters from each yields a common string. Each word
// is indexed under its deletions up to the distance a query could need
// (maxTypoDistance of the longest query it can match), so a lookup generates
// the query's own few deletions and verifies a handful of candidates instead
// of walking a trie. The neighbourhoods are built on the first search: many
// indexes (editor previews, leave-one-out) never correct a typo.
type deletionIndex struct {
	words []string
	runes [][]rune
	seen  map[string]struct{}

	once sync.Once
	dels map[string][]int32 // deletion -> word ids
}

func newDeletionIndex() *deletionIndex {
	return &deletionIndex{seen: map[string]struct{}{}}
}

func (x *deletionIndex) insert(w string) {
	if _, ok := x.seen[w]; ok || w == "" {
		return
	}
	x.seen[w] = struct{}{}
	x.words = append(x.words, w)
	x.runes = append(x.runes, []rune(w))
}

// wordBudget is how many deletions a word of n letters needs: a word is
// only reachable from queries within maxTypoDistance of the query's length,
// so words under 4 letters never match (queries need >= 5 letters and then
// allow 1), words under 6 letters at most 1 (queries of >= 8 letters allow 2).
func wordBudget(n int) int {
	switch {
	case n >= 6:
		return 2
	case n >= 4:
		return 1
	}
	return 0
}

func (x *deletionIndex) build() {
	x.dels = make(map[string][]int32, len(x.words)*8)
	buf := make([]rune, 0, 64)
	for id, r := range x.runes {
		k := wordBudget(len(r))
		if k == 0 {
			continue
		}
		forDeletions(r, k, buf, func(d []rune) {
			key := string(d)
			ids := x.dels[key]
			if n := len(ids); n > 0 && ids[n-1] == int32(id) {
				return // the same deletion reached twice ("ss" -> "s")
			}
			x.dels[key] = append(ids, int32(id))
		})
	}
}

// forDeletions calls f with w and every string obtained by deleting up to k
// (at most 2) letters of w, some of them more than once. d is scratch space;
// f must not keep its argument.
func forDeletions(w []rune, k int, d []rune, f func([]rune)) {
	f(w)
	if k <= 0 {
		return
	}
	n := len(w)
	if cap(d) < 2*n {
		d = make([]rune, 0, 2*n)
	}
	d1, d2 := d[:n-1:n], d[n:2*n-1]
	for i := 0; i < n; i++ {
		copy(d1, w[:i])
		copy(d1[i:], w[i+1:])
		f(d1)
		if k < 2 || n < 2 {
			continue
		}
		for j := i; j < n-1; j++ {
			d2 = d2[:n-2]
			copy(d2, d1[:j])
			copy(d2[j:], d1[j+1:])
			f(d2)
		}
	}
}

// search returns the words at the smallest distance <= max from w (sorted)
// and that distance; nil when none is within max.
func (x *deletionIndex) search(w string, max int) ([]string, int) {
	if max <= 0 || len(x.words) == 0 {
		return nil, 0
	}
	x.once.Do(x.build)
	q := []rune(w)
	bestD := max + 1
	var best []string
	var checked []int32
	var buf [64]rune
	forDeletions(q, max, buf[:0], func(d []rune) {
		for _, id := range x.dels[string(d)] {
			if slices.Contains(checked, id) {
				continue
			}
			checked = append(checked, id)
			r := x.runes[id]
			if diff := len(r) - len(q); diff > bestD || -diff > bestD {
				continue
			}
			dist := osaDistance(q, r, bestD)
			switch {
			case dist < bestD:
				bestD = dist
				best = append(best[:0], x.words[id])
			case dist == bestD:
				best = append(best, x.words[id])
			}
		}
	})
	if bestD > max {
		return nil, 0
	}
	slices.Sort(best)
	return best, bestD
}

// osaDistance is the restricted Damerau-Levenshtein distance of a and b, or
// a value > limit once it is certain to exceed limit.
func osaDistance(a, b []rune, limit int) int {
	n, m := len(a), len(b)
	if n == 0 || m == 0 {
		return max(n, m)
	}
	var stack [3 * 40]int
	var rows []int
	if 3*(m+1) <= len(stack) {
		rows = stack[:3*(m+1)]
	} else {
		rows = make([]int, 3*(m+1))
	}
	pp, p, c := rows[:m+1], rows[m+1:2*(m+1)], rows[2*(m+1):]
	for j := range p {
		p[j] = j
	}
	for i := 1; i <= n; i++ {
		c[0] = i
		rowMin := i
		for j := 1; j <= m; j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			v := min(c[j-1]+1, p[j]+1, p[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				v = min(v, pp[j-2]+1)
			}
			c[j] = v
			rowMin = min(rowMin, v)
		}
		if rowMin > limit {
			return limit + 1
		}
		pp, p, c = p, c, pp
	}
	return p[m]
}
