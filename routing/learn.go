package routing

import (
	"crypto/sha256"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"citybot/internal/german"
)

// The learned department model: a multinomial logistic regression over the
// analysed terms of a message (stems, compound parts, synonyms, typo
// corrections, as german.Analyzer.QueryTerms gives them). Its weights are
// learned whenever a Classifier is built (start-up, and on every FAQ publish
// or rule change through LiveRouter), from the departments' own data and the
// published FAQ, never from a question set:
//   - each department's name, description (whole and item by item) and
//     keywords;
//   - the general municipal vocabulary lines attached to the department
//     (municipalVocab), word by word;
//   - each FAQ entry's question, variants, tags and answer sentences, and
//     the citizen-like and report-style messages generated from the entry
//     (faq.RoutingMessages, carried in FAQEntry.Messages).
//
// Every department weighs the same in training (its samples' weights sum to
// one), so a department with many FAQ entries is not preferred for the
// number of its entries alone. The model's probability of a department is
// added, times weightLearned, to the hand-weighted vocabulary score of
// Scores: the regression learns which words tell departments apart, the
// vocabulary score keeps the admins' keywords and the fallback threshold
// meaningful.

// Learned model parameters. lambda and the sample weights were chosen by
// cross-validation on the FAQ itself (entries held out with all their
// texts, see TestLearnedCrossValidation), weightLearned by the same
// cross-validation of the combined score; none was fitted to a question set.
const (
	// lambda is the L2 penalty on the term weights (not the biases), per
	// unit of total sample weight.
	lambda = 3e-5
	// trainIterations of full-batch Adam; the loss is convex and the data
	// in a fixed order, so the result is deterministic.
	trainIterations = 300
	// weightAnswerText: a sentence of an entry's answer is weaker evidence
	// than its question (answers mention other offices and procedures).
	weightAnswerText = 0.3
	// weightGeneratedText: a generated message (FAQEntry.Messages).
	weightGeneratedText = 0.5
	// keywordMargin: a message word is shown as the model's evidence for a
	// department when it raises that department's logit by at least this
	// much over its mean effect on all departments.
	keywordMargin = 0.5
	// minLearned: a department that only the learned model supports (no
	// keyword, rule or FAQ candidate) is listed by Scores and offered by
	// Rank from this probability on, about three times the even share of
	// 14 departments.
	minLearned = 0.2
)

// deptModel is a trained multinomial logistic regression.
type deptModel struct {
	index map[string]int // stem -> feature
	k     int            // departments (classes)
	w     []float64      // feature*k + class
	bias  []float64
}

type feat struct {
	i int
	v float64
}

type sample struct {
	x []feat
	y int
	w float64
}

// termFeatures turns analysed terms into a sparse vector: each stem takes
// the highest weight any term gives it; stems the model does not know are
// dropped when index is read-only (grow false). The vector is scaled by
// 1/sqrt(number of words with a known stem), so that a long message is not
// more certain than a short one only for its length.
func termFeatures(terms []german.WeightedTerm, index map[string]int, grow bool) (x []feat, owner []int) {
	pos := map[int]int{}
	known := 0
	for ti, t := range terms {
		hit := false
		for _, s := range termStems(t, grow) {
			w := t.Stems[s]
			i, ok := index[s]
			if !ok {
				if !grow {
					continue
				}
				i = len(index)
				index[s] = i
			}
			hit = true
			if p, ok := pos[i]; ok {
				if w > x[p].v {
					x[p].v = w
					owner[p] = ti
				}
				continue
			}
			pos[i] = len(x)
			x = append(x, feat{i, w})
			owner = append(owner, ti)
		}
		if !hit && !grow {
			// a word the model does not know: its longest known head
			// and modifier ("gehwegplatten": gehweg, platten)
			for _, part := range compoundParts(t.Surface, index) {
				i := index[part.stem]
				hit = true
				if p, ok := pos[i]; ok {
					if part.w > x[p].v {
						x[p].v = part.w
						owner[p] = ti
					}
					continue
				}
				pos[i] = len(x)
				x = append(x, feat{i, part.w})
				owner = append(owner, ti)
			}
		}
		if hit {
			known++
		}
	}
	if known > 0 {
		f := 1 / math.Sqrt(float64(known))
		for j := range x {
			x[j].v *= f
		}
	}
	// a stable order: the sums below must not depend on map order
	sort.Sort(byFeat{x, owner})
	return x, owner
}

type byFeat struct {
	x     []feat
	owner []int
}

func (b byFeat) Len() int           { return len(b.x) }
func (b byFeat) Less(i, j int) bool { return b.x[i].i < b.x[j].i }
func (b byFeat) Swap(i, j int) {
	b.x[i], b.x[j] = b.x[j], b.x[i]
	b.owner[i], b.owner[j] = b.owner[j], b.owner[i]
}

// trainingTexts returns the labelled training texts of every department
// (see the package comment above); generalFor are the municipal vocabulary
// lines attached to each department.
func trainingTexts(depts []Department, entries []FAQEntry, generalFor [][]string) (texts []string, labels []int, weights []float64) {
	idx := map[string]int{}
	for i, d := range depts {
		idx[d.ID] = i
	}
	add := func(i int, text string, w float64) {
		if strings.TrimSpace(text) == "" {
			return
		}
		texts = append(texts, text)
		labels = append(labels, i)
		weights = append(weights, w)
	}
	for i, d := range depts {
		add(i, d.Name, 1)
		add(i, d.Description, 1)
		for _, p := range splitPieces(d.Description) {
			add(i, p, 1)
		}
		for _, k := range d.Keywords {
			add(i, k, 1)
		}
		for _, line := range generalFor[i] {
			for _, w := range strings.Fields(line) {
				add(i, w, 1)
			}
		}
	}
	for _, e := range entries {
		i, ok := idx[e.Department]
		if !ok {
			continue
		}
		add(i, e.Question, 1)
		for _, v := range e.Variants {
			add(i, v, 1)
		}
		for _, t := range e.Tags {
			add(i, t, 1)
		}
		for _, s := range splitSentences(e.Answer) {
			add(i, s, weightAnswerText)
		}
		for _, m := range e.Messages {
			add(i, m, weightGeneratedText)
		}
	}
	return texts, labels, weights
}

// splitPieces splits a description into its listed items (commas, "und",
// "sowie"), so that each item is learned on its own too.
func splitPieces(s string) []string {
	s = strings.NewReplacer(" und ", ",", " sowie ", ",", ";", ",", ".", ",").Replace(s)
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// splitSentences splits an answer text into sentences.
func splitSentences(s string) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		if (s[i] == '.' || s[i] == '!' || s[i] == '?' || s[i] == '\n') && (i+1 == len(s) || s[i+1] == ' ' || s[i+1] == '\n') {
			if t := strings.TrimSpace(s[start : i+1]); len(t) > 1 {
				out = append(out, t)
			}
			start = i + 1
		}
	}
	if t := strings.TrimSpace(s[start:]); t != "" {
		out = append(out, t)
	}
	return out
}

// analyseSamples turns texts into samples, growing index; each department's
// sample weights are scaled to sum to one.
func analyseSamples(an *german.Analyzer, texts []string, labels []int, weights []float64, k int, index map[string]int) []sample {
	total := make([]float64, k)
	for j, w := range weights {
		total[labels[j]] += w
	}
	out := make([]sample, 0, len(texts))
	for j, t := range texts {
		x, _ := termFeatures(an.QueryTerms(t), index, true)
		if len(x) == 0 {
			continue
		}
		out = append(out, sample{x: x, y: labels[j], w: weights[j] / total[labels[j]]})
	}
	return out
}

// trainModel fits the regression by full-batch Adam on the weighted log
// loss plus lambda/2 times the squared term weights.
func trainModel(samples []sample, nfeat, k int, lam float64, iters int) *deptModel {
	m := &deptModel{k: k, w: make([]float64, nfeat*k), bias: make([]float64, k)}
	var wsum float64
	for _, s := range samples {
		wsum += s.w
	}
	if wsum == 0 {
		return m
	}
	gw := make([]float64, len(m.w))
	gb := make([]float64, k)
	mw, vw := make([]float64, len(m.w)), make([]float64, len(m.w))
	mb, vb := make([]float64, k), make([]float64, k)
	p := make([]float64, k)
	const lr, b1, b2, eps = 0.05, 0.9, 0.999, 1e-8
	for it := 1; it <= iters; it++ {
		for j := range gw {
			gw[j] = lam * m.w[j]
		}
		for c := range gb {
			gb[c] = 0
		}
		for _, s := range samples {
			m.probs(s.x, nil, p)
			f := s.w / wsum
			for c := 0; c < k; c++ {
				g := p[c]
				if c == s.y {
					g -= 1
				}
				g *= f
				gb[c] += g
				for _, x := range s.x {
					gw[x.i*k+c] += g * x.v
				}
			}
		}
		c1 := 1 - math.Pow(b1, float64(it))
		c2 := 1 - math.Pow(b2, float64(it))
		for j, g := range gw {
			mw[j] = b1*mw[j] + (1-b1)*g
			vw[j] = b2*vw[j] + (1-b2)*g*g
			m.w[j] -= lr * (mw[j] / c1) / (math.Sqrt(vw[j]/c2) + eps)
		}
		for c, g := range gb {
			mb[c] = b1*mb[c] + (1-b1)*g
			vb[c] = b2*vb[c] + (1-b2)*g*g
			m.bias[c] -= lr * (mb[c] / c1) / (math.Sqrt(vb[c]/c2) + eps)
		}
	}
	return m
}

// logits writes the class logits of x plus extra (may be nil) into out.
func (m *deptModel) logits(x []feat, extra, out []float64) {
	copy(out, m.bias)
	for _, f := range x {
		row := m.w[f.i*m.k : f.i*m.k+m.k]
		for c, w := range row {
			out[c] += w * f.v
		}
	}
	for c := range extra {
		out[c] += extra[c]
	}
}

// probs writes the class probabilities of x (logits plus extra) into out.
func (m *deptModel) probs(x []feat, extra, out []float64) {
	m.logits(x, extra, out)
	softmax(out)
}

func softmax(z []float64) {
	mx := math.Inf(-1)
	for _, v := range z {
		mx = math.Max(mx, v)
	}
	var sum float64
	for c, v := range z {
		z[c] = math.Exp(v - mx)
		sum += z[c]
	}
	for c := range z {
		z[c] /= sum
	}
}

// buildModel trains the department model of a classifier whose analyser is
// an (see the comment at the top of this file).
func buildModel(an *german.Analyzer, depts []Department, entries []FAQEntry, generalFor [][]string, lam float64) *deptModel {
	texts, labels, weights := trainingTexts(depts, entries, generalFor)
	index := map[string]int{}
	samples := analyseSamples(an, texts, labels, weights, len(depts), index)
	m := trainModel(samples, len(index), len(depts), lam, trainIterations)
	m.index = index
	return m
}

// learned adds the learned model's evidence to scores (every department,
// in the classifier's order): weightLearned times its probability, and the
// message words that favour it most as keywords.
func (c *Classifier) learned(terms []german.WeightedTerm, scores []DeptScore) {
	m := c.model
	x, owner := termFeatures(terms, m.index, false)
	p := make([]float64, m.k)
	m.probs(x, nil, p)
	contrib := make([]float64, m.k)
	for j, f := range x {
		row := m.w[f.i*m.k : f.i*m.k+m.k]
		var mean float64
		for k, w := range row {
			contrib[k] = w * f.v
			mean += contrib[k]
		}
		mean /= float64(m.k)
		for k := range row {
			if contrib[k]-mean >= keywordMargin && !slices.Contains(scores[k].Keywords, terms[owner[j]].Surface) {
				scores[k].Keywords = append(scores[k].Keywords, terms[owner[j]].Surface)
			}
		}
	}
	for i := range scores {
		scores[i].Learned = p[i]
		scores[i].Score += weightLearned * p[i]
	}
}

type part struct {
	stem string
	w    float64
}

// Weights of the parts of an unknown compound word (its head, the last
// part, and its modifier), below the whole word like the analyser's
// compound parts; parts are at least minPartRunes long.
const (
	weightHeadPart     = 0.75
	weightModifierPart = 0.5
	minPartRunes       = 4
)

// compoundParts returns the stems of the longest known suffix (head) and
// the longest known prefix (modifier, a linking s dropped) of a word the
// model does not know. The analyser splits compounds only against the
// FAQ's vocabulary; the model knows more words (descriptions, answers,
// generated messages).
func compoundParts(surface string, index map[string]int) []part {
	r := []rune(surface)
	var out []part
	for k := minPartRunes; k <= len(r)-minPartRunes; k++ {
		if s := german.StemGerman(string(r[k:])); len([]rune(s)) >= minPartRunes-1 {
			if _, ok := index[s]; ok {
				out = append(out, part{s, weightHeadPart})
				break
			}
		}
	}
	for k := len(r) - minPartRunes; k >= minPartRunes; k-- {
		for _, w := range []string{string(r[:k]), strings.TrimSuffix(string(r[:k]), "s")} {
			if s := german.StemGerman(w); len([]rune(s)) >= minPartRunes-1 {
				if _, ok := index[s]; ok {
					return append(out, part{s, weightModifierPart})
				}
			}
		}
	}
	return out
}

// termStems are the stems of t; sorted when the index grows, so that
// features are numbered in the same order on every build (the sums of the
// logits follow the numbering).
func termStems(t german.WeightedTerm, sorted bool) []string {
	out := make([]string, 0, len(t.Stems))
	for s := range t.Stems {
		out = append(out, s)
	}
	if sorted {
		sort.Strings(out)
	}
	return out
}

// The last trained model, by a digest of everything it was trained from
// (with the rule patterns, which enter the analyser's vocabulary). Training
// is deterministic, so reusing it gives the same classifier as training
// again: the admin's rule test (a classifier per request) and a LiveRouter
// reload for a rule change do not train again while the departments and the
// FAQ stay the same.
var modelCache struct {
	sync.Mutex
	key [sha256.Size]byte
	m   *deptModel
}

// cachedModel is buildModel through modelCache.
func cachedModel(an *german.Analyzer, depts []Department, rules []Rule, entries []FAQEntry, generalFor [][]string, lam float64) *deptModel {
	h := sha256.New()
	put := func(ss ...string) {
		for _, s := range ss {
			fmt.Fprintf(h, "%d:%s", len(s), s)
		}
	}
	put(strconv.FormatFloat(lam, 'g', -1, 64))
	for i, d := range depts {
		put("d", d.ID, d.Name, d.Description)
		put(d.Keywords...)
		put("g")
		put(generalFor[i]...)
	}
	for _, r := range rules {
		put("r", r.Pattern)
	}
	for _, e := range entries {
		put("e", e.Department, e.Question, e.Answer)
		put(e.Variants...)
		put("t")
		put(e.Tags...)
		put("m")
		put(e.Messages...)
	}
	var key [sha256.Size]byte
	h.Sum(key[:0])
	modelCache.Lock()
	defer modelCache.Unlock()
	if modelCache.m != nil && modelCache.key == key {
		return modelCache.m
	}
	m := buildModel(an, depts, entries, generalFor, lam)
	modelCache.key, modelCache.m = key, m
	return m
}
