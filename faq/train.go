package faq

import (
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"unicode/utf8"

	"citybot/internal/german"
)

// TrainReport summarises a training run of the confidence model.
type TrainReport struct {
	Queries      int `json:"queries"`       // training messages
	Samples      int `json:"samples"`       // candidates scored (rows of the regression)
	HeldVariants int `json:"held_variants"` // queries whose entry stayed in the index (a variant held out)
	HeldEntries  int `json:"held_entries"`  // queries whose entry was removed: any answer is false
	Reports      int `json:"reports"`       // report-style queries (for staff): any answer is false
	// At the chosen thresholds, on the training queries:
	Answered        float64 `json:"answered"`          // held-variant queries answered with their entry
	WrongAnswers    float64 `json:"wrong_answers"`     // held-variant queries answered with another entry
	FalseAnswerRate float64 `json:"false_answer_rate"` // held-entry queries answered at all
	Suggested       float64 `json:"suggested"`         // held-variant queries whose entry is answered or suggested
	ReportFalseRate float64 `json:"report_false_rate"` // report-style queries answered
	LogLoss         float64 `json:"log_loss"`
}

// TrainTarget is the largest share of held-entry training queries (whose
// entry is missing from the index) that may be answered.
const TrainTarget = 0.05

// suggestTarget: held-entry queries that may still get suggestions.
const suggestTarget = 0.35

// Train fits the confidence model on the FAQ itself. Two kinds of training
// message come from every entry's question and variants, each also in
// noisy forms (see augment):
//   - held-out variant: the entry is indexed without that variant, which is
//     then the message; its entry is the right candidate;
//   - held-out entry: the entry is removed from the index; the message has
//     no right candidate, so answering it is a false answer.
//
// The vocabulary is built once from the full FAQ. Deterministic.
func Train(entries []Entry, synonyms []Synonym, opts Options) (*Model, error) {
	live, corpus := liveCorpus(entries)
	if len(live) < 3 {
		return nil, ErrInvalid
	}
	an := newAnalyzer(opts, synonyms, corpus)
	cache := map[string][]german.DocTerm{}
	rng := rand.New(rand.NewPCG(1, 2))
	// words of the answer texts, for side talk in augmented messages
	var pool []string
	for _, e := range live {
		for _, w := range strings.Fields(e.Answer) {
			w = strings.Trim(w, ".,;:!?()\"„“")
			if utf8.RuneCountInString(w) >= 4 && !german.IsStopword(w) && !strings.ContainsAny(w, "0123456789/@") {
				pool = append(pool, w)
			}
		}
	}
	type query struct {
		cands  []Candidate
		mf     msgFeatures
		entry  string
		heldIn bool // the entry is in the index
		report bool // a report-style message (see reportNegatives)
		// personal: never answered (IsPersonal); rule: the score
		// thresholds alone would answer the best candidate.
		personal, rule bool
		calib          bool // the message sets thresholds (see sideTalk)
	}
	var qs []query
	run := func(ix *Index, text, entry string, heldIn, calib bool) {
		c, st := ix.search(text, modelDepth)
		if len(c) == 0 {
			return
		}
		q := query{cands: c, mf: messageFeatures(text, st), entry: entry, heldIn: heldIn, personal: IsPersonal(text), calib: calib}
		q.rule = ruleAnswers(c, opts)
		qs = append(qs, q)
	}
	held := make([]Entry, len(live))
	for i, e := range live {
		for vi, v := range e.Variants {
			holdOutVariant(held, live, i, vi)
			ix := buildIndex(held, an, opts, cache)
			for _, q := range append(augment(v, rng, pool), citizenForms(v, rng)...) {
				run(ix, q, e.ID, true, true)
			}
			for _, q := range sideTalk(v, rng, pool) {
				run(ix, q, e.ID, true, false)
			}
		}
		// the question held out: the most citizen-like phrasing
		copy(held, live)
		held[i].Question = ""
		ix := buildIndex(held, an, opts, cache)
		for _, q := range append(augment(e.Question, rng, pool), citizenForms(e.Question, rng)...) {
			run(ix, q, e.ID, true, true)
		}
		for _, q := range sideTalk(e.Question, rng, pool) {
			run(ix, q, e.ID, true, false)
		}
		without := make([]Entry, 0, len(live)-1)
		without = append(without, live[:i]...)
		without = append(without, live[i+1:]...)
		ix = buildIndex(without, an, opts, cache)
		for _, p := range append([]string{e.Question}, e.Variants...) {
			for _, q := range augment(p, rng, pool) {
				run(ix, q, e.ID, false, true)
			}
			for _, q := range sideTalk(p, rng, pool) {
				run(ix, q, e.ID, false, false)
			}
		}
	}
	// reports of concrete problems about the FAQ's topics, against the
	// full index: whatever matches, they are for staff
	full := buildIndex(live, an, opts, cache)
	for _, q := range reportNegatives(live, rng, reportsPerEntry) {
		n := len(qs)
		run(full, q, "", false, true)
		if len(qs) > n {
			qs[n].report = true
		}
	}
	// regression rows: every candidate of every query
	var X [][]float64
	var Y []float64
	for _, q := range qs {
		if q.personal {
			// never answered (IsPersonal): nothing for the model to
			// decide, and its rows would only teach that a high personal
			// score means a wrong candidate
			continue
		}
		for i := range q.cands {
			X = append(X, features(q.cands, i, q.mf))
			y := 0.0
			if q.heldIn && q.cands[i].EntryID == q.entry {
				y = 1
			}
			Y = append(Y, y)
		}
	}
	m := &Model{Features: append([]string(nil), featureNames...), FAQ: Fingerprint(entries, synonyms)}
	m.Ranker, m.Fit.LogLoss = fitLogistic(X, Y)
	// the gate: one row per message, its best candidate after ranking
	X, Y = X[:0], Y[:0]
	for _, q := range qs {
		if q.personal {
			continue
		}
		ord := m.ranked(q.cands, q.mf)
		y := 0.0
		if q.heldIn && ord[0].EntryID == q.entry {
			y = 1
		}
		X = append(X, features(ord, 0, q.mf))
		Y = append(Y, y)
	}
	m.Gate, _ = fitLogistic(X, Y)
	m.Fit.Samples = len(X)
	m.Fit.Queries = len(qs)
	// thresholds on the best candidate (after ranking by the model)
	type top struct {
		p, p3  float64 // best probability; probability of the right entry if in the suggestions
		ok     bool    // best is the right entry
		heldIn bool
		report bool
		// never: the message is personal and never answered; rule: the
		// score thresholds answer and the model ranks the same entry first.
		never, rule bool
		calib       bool
	}
	tops := make([]top, 0, len(qs))
	var nIn, nHeld, nReport float64
	for _, q := range qs {
		ord, p := m.order(q.cands, q.mf)
		t := top{p: p, heldIn: q.heldIn, report: q.report, never: q.personal, rule: q.rule && ord[0].EntryID == q.cands[0].EntryID, calib: q.calib}
		switch {
		case q.heldIn:
			m.Fit.HeldVariants++
			if q.calib {
				nIn++
			}
			t.ok = ord[0].EntryID == q.entry
			for _, c := range suggestions(ord, opts.MaxCandidates) {
				if c.EntryID == q.entry {
					t.p3 = p
				}
			}
		case q.report:
			m.Fit.Reports++
			if q.calib {
				nReport++
			}
		default:
			m.Fit.HeldEntries++
			if q.calib {
				nHeld++
			}
		}
		tops = append(tops, t)
	}
	// SuggestAt: at most suggestTarget of the held-out entries get
	// suggestions.
	var neg []float64
	for _, t := range tops {
		if !t.heldIn && !t.report {
			neg = append(neg, t.p)
		}
	}
	sort.Float64s(neg)
	quantile := func(share float64) float64 {
		if len(neg) == 0 {
			return 0.5
		}
		k := int(math.Ceil(float64(len(neg)) * (1 - share)))
		if k >= len(neg) {
			return neg[len(neg)-1] + 1e-9
		}
		return neg[k] + 1e-9
	}
	// Sample weights of the utility: answerable messages make up
	// 1-missingShare of the traffic, messages for staff the rest, half of
	// them questions the FAQ does not cover (held-out entries), half
	// reports. Personal messages are never answered, so they do not move a
	// threshold.
	weight := func(t top) float64 {
		switch {
		case t.heldIn:
			return (1 - missingShare) / max(nIn, 1)
		case t.report:
			return missingShare * reportShare / max(nReport, 1)
		}
		return missingShare * (1 - reportShare) / max(nHeld, 1)
	}
	var all, ruled []gateSample
	for _, t := range tops {
		if !t.never && t.calib {
			all = append(all, gateSample{p: t.p, ok: t.ok, heldIn: t.heldIn, w: weight(t)})
		}
	}
	m.AnswerAt = bestAnswerAt(all)
	// VetoAt: where the score thresholds answer and the model agrees on the
	// entry, a lower probability suffices (the model only vetoes).
	for _, t := range tops {
		if !t.never && t.calib && t.rule && t.p < m.AnswerAt {
			ruled = append(ruled, gateSample{p: t.p, ok: t.ok, heldIn: t.heldIn, w: weight(t)})
		}
	}
	m.VetoAt = min(bestAnswerAt(ruled), m.AnswerAt)
	m.SuggestAt = round3up(min(quantile(suggestTarget), m.AnswerAt))
	var ans, wrong, sug, fa, fr float64
	for _, t := range tops {
		answered := !t.never && (t.p >= m.AnswerAt || t.rule && t.p >= m.VetoAt)
		switch {
		case t.report:
			if answered {
				fr++
			}
			continue
		case !t.heldIn:
			if answered {
				fa++
			}
			continue
		}
		if answered {
			if t.ok {
				ans++
			} else {
				wrong++
			}
		}
		if (t.ok && answered) || t.p3 >= m.SuggestAt {
			sug++
		}
	}
	hv, he := float64(max(m.Fit.HeldVariants, 1)), float64(max(m.Fit.HeldEntries, 1))
	m.Fit.Answered, m.Fit.WrongAnswers, m.Fit.Suggested, m.Fit.FalseAnswerRate = round3(ans/hv), round3(wrong/hv), round3(sug/hv), round3(fa/he)
	m.Fit.ReportFalseRate = round3(fr / max(nReport, 1))
	return m, nil
}

type gateSample struct {
	p          float64
	ok, heldIn bool
	w          float64 // weight in the utility
}

// Utility of the answer threshold: a right answer gains 1, a wrong answer
// (another entry, or any answer to a message whose entry is missing) costs
// wrongCost, a handoff is neutral. Messages without an answer in the FAQ
// are weighted to make up missingShare of the traffic, the share of
// unanswerable messages citizens send (about 3 in 10 in the demo city's
// question sets); reportShare of those are reports of concrete problems.
const (
	wrongCost    = 3.0
	missingShare = 0.3
	reportShare  = 0.5
	// reportsPerEntry: report-style training messages per entry.
	reportsPerEntry = 4
)

// bestAnswerAt picks the threshold with the highest utility over weighted
// samples (1 when there is nothing to decide).
func bestAnswerAt(s []gateSample) float64 {
	sort.Slice(s, func(i, j int) bool { return s[i].p > s[j].p })
	best, bestAt, u := 0.0, 1.0, 0.0
	for i, x := range s {
		switch {
		case !x.heldIn:
			u -= wrongCost * x.w
		case x.ok:
			u += x.w
		default:
			u -= wrongCost * x.w
		}
		if i+1 < len(s) && s[i+1].p == x.p {
			continue
		}
		if u > best {
			best, bestAt = u, x.p
		}
	}
	return math.Floor(bestAt*1000) / 1000
}

func round3up(x float64) float64 { return math.Ceil(x*1000) / 1000 }

// modelDepth is how many candidates the model scores per message.
const modelDepth = 5

type ranked struct {
	i int
	p float64
}

// rank scores cands with the model, best first.
func (m *Model) rank(cands []Candidate, mf msgFeatures) []ranked {
	out := make([]ranked, len(cands))
	for i := range cands {
		out[i] = ranked{i, m.Ranker.prob(features(cands, i, mf))}
	}
	sort.SliceStable(out, func(a, b int) bool { return out[a].p > out[b].p })
	return out
}

// fitLogistic fits an L2-regularised logistic regression on standardised
// features by full-batch gradient descent (deterministic; the data are a
// few thousand rows).
func fitLogistic(X [][]float64, Y []float64) (Logistic, float64) {
	n := len(featureNames)
	m := Logistic{Mean: make([]float64, n), Scale: make([]float64, n), Weights: make([]float64, n)}
	if len(X) == 0 {
		return m, 0
	}
	for j := 0; j < n; j++ {
		var s, ss float64
		for _, x := range X {
			s += x[j]
		}
		mean := s / float64(len(X))
		for _, x := range X {
			ss += (x[j] - mean) * (x[j] - mean)
		}
		sd := math.Sqrt(ss / float64(len(X)))
		if sd < 1e-9 {
			sd = 1
		}
		m.Mean[j], m.Scale[j] = mean, sd
	}
	Z := make([][]float64, len(X))
	for i, x := range X {
		z := make([]float64, n)
		for j := range x {
			z[j] = (x[j] - m.Mean[j]) / m.Scale[j]
		}
		Z[i] = z
	}
	const (
		iters = 3000
		rate  = 0.5
		l2    = 1e-3
	)
	grad := make([]float64, n)
	N := float64(len(Z))
	for it := 0; it < iters; it++ {
		clear(grad)
		var gb float64
		for i, z := range Z {
			s := m.Bias
			for j, v := range z {
				s += m.Weights[j] * v
			}
			d := 1/(1+math.Exp(-s)) - Y[i]
			for j, v := range z {
				grad[j] += d * v
			}
			gb += d
		}
		for j := range m.Weights {
			m.Weights[j] -= rate * (grad[j]/N + l2*m.Weights[j])
		}
		m.Bias -= rate * gb / N
	}
	var loss float64
	for i, z := range Z {
		s := m.Bias
		for j, v := range z {
			s += m.Weights[j] * v
		}
		p := math.Min(math.Max(1/(1+math.Exp(-s)), 1e-12), 1-1e-12)
		loss -= Y[i]*math.Log(p) + (1-Y[i])*math.Log(1-p)
	}
	for j := range m.Weights {
		m.Weights[j] = math.Round(m.Weights[j]*1e6) / 1e6
		m.Mean[j] = math.Round(m.Mean[j]*1e6) / 1e6
		m.Scale[j] = math.Round(m.Scale[j]*1e6) / 1e6
	}
	m.Bias = math.Round(m.Bias*1e6) / 1e6
	return m, round3(loss / N)
}

// suggestions are the candidates (ranked) worth offering: those whose
// ranker probability is at least half the best one's, at most k.
func suggestions(ord []Candidate, k int) []Candidate {
	n := 1
	for n < len(ord) && n < k && ord[n].Confidence >= ord[0].Confidence/2 {
		n++
	}
	return ord[:min(n, len(ord))]
}

// Generic ways citizens wrap a question; none is taken from a question set.
var (
	augPrefixes = []string{"", "Hallo, ", "Guten Tag, ich hätte eine Frage: ", "Hi, kurze Frage: ", "Moin, ", "Entschuldigung, ",
		"Sehr geehrte Damen und Herren, ich wende mich mit einer Frage an Sie. ", "Hallo zusammen, ich bin neu hier und kenne mich nicht aus. ",
		"Guten Morgen, ich habe im Internet nichts gefunden. ", "Hallo, ich weiß nicht, ob ich hier richtig bin. "}
	augSuffixes = []string{"", "?", " Danke!", " Vielen Dank im Voraus.", " LG", " bitte", " Was muss ich da machen?",
		" Mit freundlichen Grüßen", " Wäre nett, wenn Sie mir helfen könnten. Danke!", " Wie geht das und was brauche ich dafür?"}
)

// augment returns a training phrase as written and in two noisier forms a
// citizen might produce: lower case without umlauts and punctuation, with
// one typo in a long word; and wrapped in a greeting or a thank-you.
func augment(p string, rng *rand.Rand, pool []string) []string {
	out := []string{p}
	// lower case, umlauts written out or dropped, one typo
	words := strings.Fields(strings.ToLower(p))
	r := strings.NewReplacer("ä", "ae", "ö", "oe", "ü", "ue", "ß", "ss", "?", "", "!", "", ",", "", ".", "")
	if rng.IntN(2) == 0 {
		r = strings.NewReplacer("ä", "a", "ö", "o", "ü", "u", "ß", "ss", "?", "", "!", "", ",", "", ".", "")
	}
	longest := -1
	for i, w := range words {
		words[i] = r.Replace(w)
		if utf8.RuneCountInString(words[i]) >= 7 && (longest < 0 || len(words[i]) > len(words[longest])) {
			longest = i
		}
	}
	if longest >= 0 {
		w := []rune(words[longest])
		k := 1 + rng.IntN(len(w)-2)
		switch rng.IntN(3) {
		case 0: // deletion
			w = append(w[:k], w[k+1:]...)
		case 1: // transposition
			w[k], w[k+1] = w[k+1], w[k]
		default: // doubled letter
			w = append(w[:k+1], w[k:]...)
		}
		words[longest] = string(w)
	}
	if noisy := strings.Join(words, " "); noisy != "" && noisy != p {
		out = append(out, noisy)
	}
	pre := augPrefixes[1+rng.IntN(len(augPrefixes)-1)]
	suf := augSuffixes[1+rng.IntN(len(augSuffixes)-1)]
	out = append(out, pre+p+suf)
	pre = augPrefixes[1+rng.IntN(len(augPrefixes)-1)]
	suf = augSuffixes[1+rng.IntN(len(augSuffixes)-1)]
	out = append(out, pre+strings.ToLower(p)+suf)
	return out
}

// sideTalk returns p with words of the answer texts appended: a citizen's
// message carries words of its own story that no entry explains, or that
// belong to neighbouring topics. Random words make such messages harder
// than real ones, so they train the regressions but do not set thresholds.
func sideTalk(p string, rng *rand.Rand, pool []string) []string {
	if len(pool) == 0 {
		return nil
	}
	var extra []string
	for k := 0; k < 2+rng.IntN(3); k++ {
		extra = append(extra, pool[rng.IntN(len(pool))])
	}
	return []string{p + " " + strings.Join(extra, " ")}
}
