package faq

import (
	"regexp"
	"slices"
	"sort"
	"strings"

	"citybot/internal/german"
)

// Decision is what the bot should do with a message.
type Decision string

// Decisions of the matcher.
const (
	DecisionAnswer    Decision = "answer"    // reply with Result.Answer
	DecisionSuggest   Decision = "suggest"   // offer Result.Candidates
	DecisionSmalltalk Decision = "smalltalk" // reply politely (Result.Smalltalk)
	DecisionNone      Decision = "none"      // hand off to a department
)

// Candidate is a scored FAQ entry.
type Candidate struct {
	EntryID    string   `json:"entry_id"`
	Department string   `json:"department"`
	Question   string   `json:"question"`
	Score      float64  `json:"score"`
	Matched    []string `json:"matched,omitempty"` // words of the message that matched the entry
	// Why says for each matched word through which relation it matched
	// (exact, stem, compound, synonym, thesaurus, typo): for editors.
	Why []WordMatch `json:"why,omitempty"`
	// Coverage is the share of the message (by word weight) the entry
	// explains; Phrase is the share of the entry's best question or variant
	// found in the message. Score combines both.
	Coverage float64 `json:"coverage"`
	Phrase   float64 `json:"phrase"`
	// Confidence is the model's probability that this is the entry the
	// citizen asked for (0 without a model).
	Confidence float64 `json:"confidence,omitempty"`
}

// WordMatch is a word of the message and how it matched an entry.
type WordMatch struct {
	Word string `json:"word"`
	Via  string `json:"via"`
}

// Result is the matcher's answer for one message.
type Result struct {
	Decision   Decision    `json:"decision"`
	Answer     *Candidate  `json:"answer,omitempty"` // set when Decision == answer
	Candidates []Candidate `json:"candidates"`       // best first, always filled when anything matched
	Smalltalk  string      `json:"smalltalk,omitempty"`
	// Personal: the message is an individual case, a report or a complaint;
	// it is never answered from the FAQ (Decision is none).
	Personal bool `json:"personal,omitempty"`
	// Confidence is the model's probability that the best candidate is
	// right (0 without a model).
	Confidence float64 `json:"confidence,omitempty"`
	// Related are entries offered beside a handoff (Decision none, not
	// personal): the candidates scoring at least Options.RelatedThreshold.
	// The citizen sees them next to the question whether to pass the
	// message on, so that an answer the matcher was unsure of is still
	// one tap away.
	Related []Candidate `json:"related,omitempty"`
}

// Match scores text against the FAQ and decides between answer, suggest,
// small talk and none (handoff).
func (ix *Index) Match(text string) Result {
	res := ix.match(text)
	if res.Decision == DecisionNone && !res.Personal {
		for _, c := range res.Candidates {
			if c.Score >= ix.opts.RelatedThreshold {
				res.Related = append(res.Related, c)
			}
		}
	}
	return res
}

func (ix *Index) match(text string) Result {
	if kind := german.Smalltalk(text); kind != "" {
		return Result{Decision: DecisionSmalltalk, Smalltalk: kind}
	}
	res := Result{Decision: DecisionNone}
	cands, st := ix.search(text, max(modelDepth, ix.opts.MaxCandidates+1))
	ps, narr := personalScores(text)
	res.Personal = ps >= 1
	if m := ix.opts.Model; m != nil && len(cands) > 0 {
		return ix.decide(m, text, ps, narr, cands, st, res)
	}
	if g := ix.opts.Gate; g != nil && len(cands) > 0 && !res.Personal {
		return ix.gate(g, text, ps, narr, cands, st, res)
	}
	return ix.thresholds(cands, res)
}

// thresholds decides by the score thresholds alone.
func (ix *Index) thresholds(cands []Candidate, res Result) Result {
	res.Candidates = cands
	var second float64
	if len(res.Candidates) > 1 {
		second = res.Candidates[1].Score
	}
	if len(res.Candidates) > ix.opts.MaxCandidates {
		res.Candidates = res.Candidates[:ix.opts.MaxCandidates]
	}
	if res.Personal || len(res.Candidates) == 0 {
		return res
	}
	best := res.Candidates[0]
	switch {
	case best.Score >= ix.opts.AnswerThreshold && best.Score-second >= ix.opts.AnswerMargin:
		res.Decision = DecisionAnswer
		res.Answer = &res.Candidates[0]
	case best.Score >= ix.opts.SuggestThreshold:
		res.Decision = DecisionSuggest
		res.Candidates = suggested(res.Candidates, ix.opts)
	}
	return res
}

// suggested cuts cands (best first, by score) to the entries offered in a
// suggestion: the best, and those within SuggestWindow of it that reach
// RelatedThreshold. An entry good enough to be offered beside a handoff is
// good enough to be offered beside a better one; with the stricter
// SuggestThreshold a message whose best entry scores just above it lost
// the runners-up that a slightly weaker best entry would have shown as
// related entries.
func suggested(cands []Candidate, o Options) []Candidate {
	if len(cands) == 0 {
		return cands
	}
	best := cands[0]
	n := 1
	for _, c := range cands[1:] {
		if c.Score >= o.RelatedThreshold && best.Score-c.Score <= o.SuggestWindow {
			n++
		}
	}
	return cands[:n]
}

// gate decides by the score thresholds, checked and extended by the
// confidence model g (see Options.Gate).
func (ix *Index) gate(g *Model, text string, ps, narr float64, cands []Candidate, st queryStats, res Result) Result {
	ord, p := g.order(cands, messageFeaturesScored(text, st, ps, narr))
	res.Confidence = round3(p)
	// the model answers alone only among entries the scores find
	// plausible: on words it does not know (another language, a request
	// the FAQ has no words for) its probabilities mean little
	if p >= ix.opts.GateAnswerAt && ord[0].Score >= ix.opts.SuggestThreshold {
		res.Candidates = ord[:min(len(ord), ix.opts.MaxCandidates)]
		res.Decision = DecisionAnswer
		res.Answer = &res.Candidates[0]
		return res
	}
	res = ix.thresholds(cands, res)
	if res.Decision == DecisionAnswer && p < ix.opts.GateVetoAt {
		// vetoed: offer what the thresholds would suggest
		res.Decision, res.Answer = DecisionSuggest, nil
		res.Candidates = suggested(res.Candidates, ix.opts)
	}
	if res.Decision == DecisionNone && len(res.Candidates) > 0 && p >= ix.opts.GateVetoAt && res.Candidates[0].Score >= ix.opts.RelatedThreshold {
		// too weak for the score thresholds to suggest, but the model
		// would not veto the best entry as an answer: offer it (and its
		// close runners-up) rather than hand off with it as a related
		// entry
		res.Decision = DecisionSuggest
		res.Candidates = suggested(res.Candidates, ix.opts)
	}
	return res
}

// Ranked returns the k best entries for text in the order Match ranks them
// (by the confidence model when there is one), without deciding anything.
func (ix *Index) Ranked(text string, k int) []Candidate {
	cands, st := ix.search(text, max(modelDepth, k))
	if m := ix.opts.Model; m != nil && len(cands) > 0 {
		cands, _ = m.order(cands, messageFeatures(text, st))
	}
	if len(cands) > k {
		cands = cands[:k]
	}
	return cands
}

// decide ranks the candidates by the confidence model and answers,
// suggests or hands off by its thresholds.
func (ix *Index) decide(m *Model, text string, ps, narr float64, cands []Candidate, st queryStats, res Result) Result {
	ord, p := m.order(cands, messageFeaturesScored(text, st, ps, narr))
	res.Confidence = round3(p)
	res.Candidates = ord[:min(len(ord), ix.opts.MaxCandidates)]
	if res.Personal {
		return res
	}
	switch {
	case p >= m.AnswerAt, m.VetoAt > 0 && p >= m.VetoAt && ord[0].EntryID == cands[0].EntryID && ruleAnswers(cands, ix.opts):
		res.Decision = DecisionAnswer
		res.Answer = &res.Candidates[0]
	case p >= m.SuggestAt:
		res.Decision = DecisionSuggest
		res.Candidates = suggestions(ord, ix.opts.MaxCandidates)
	}
	return res
}

// ruleAnswers reports whether the score thresholds alone would answer the
// best of cands (ranked by score).
func ruleAnswers(cands []Candidate, o Options) bool {
	if len(cands) == 0 {
		return false
	}
	var second float64
	if len(cands) > 1 {
		second = cands[1].Score
	}
	return cands[0].Score >= o.AnswerThreshold && cands[0].Score-second >= o.AnswerMargin
}

// scratch holds the dense per-query accumulators of Search.
type scratch struct {
	cov, best, part                   []float64
	matched                           []uint64
	touched, bestTouched, partTouched []int32
}

func (ix *Index) getScratch() *scratch {
	if sc, ok := ix.scratch.Get().(*scratch); ok {
		return sc
	}
	n := len(ix.docs)
	return &scratch{cov: make([]float64, n), best: make([]float64, n), part: make([]float64, n), matched: make([]uint64, n)}
}

type scored struct {
	doc     int
	cov     float64
	phrase  float64
	score   float64
	matched uint64
}

// Search returns the k best entries for text with their scores, without
// deciding anything.
func (ix *Index) Search(text string, k int) []Candidate {
	c, _ := ix.search(text, k)
	return c
}

// queryStats describes the analysed message, for the confidence model.
type queryStats struct {
	groups  int     // content words (or synonym phrases)
	unknown float64 // share of the message's weight the index does not know
}

func (ix *Index) search(text string, k int) ([]Candidate, queryStats) {
	qa := ix.an.AnalyzeQuery(german.ContentPart(text), true)
	var qs queryStats
	if len(qa.Groups) == 0 || len(ix.docs) == 0 {
		return nil, qs
	}
	qs.groups = len(qa.Groups)
	o := ix.opts
	// Weight of each message word.
	gidf := make([]float64, len(qa.Groups))
	var mass float64
	for gi, g := range qa.Groups {
		var v float64
		topical := false
		for _, a := range g.Alts {
			if x, ok := ix.qidf[a.Stem]; ok && x > v {
				v = x
			}
			topical = topical || ix.topical[a.Stem]
		}
		for _, p := range g.Parts {
			topical = topical || ix.topical[p.Stem]
		}
		if v > 0 && !topical {
			v *= o.AnswerOnlyWeight
		}
		if v > 0 && len(g.Alts) > 0 && len(g.Parts) == 0 {
			// verbs and adjectives carry the topic less than nouns
			if ns, ok := ix.noun[g.Alts[0].Stem]; ok {
				v *= nonNounWeight + (1-nonNounWeight)*ns
			}
		}
		if v == 0 && len(g.Parts) > 0 {
			var s float64
			var n int
			for _, p := range g.Parts {
				if x, ok := ix.qidf[p.Stem]; ok {
					s += x
					n++
				}
			}
			if n > 0 {
				v = s / float64(n)
			}
		}
		if v == 0 {
			v = o.UnknownIDF * ix.maxIDF
		}
		gidf[gi] = v
		mass += v
		if !g.Known {
			qs.unknown += v
		}
	}
	if mass > 0 {
		qs.unknown /= mass
	}
	// Coverage of the message by each entry, accumulated in dense per-query
	// scratch arrays (pooled) so that large indexes stay fast.
	sc := ix.getScratch()
	defer ix.scratch.Put(sc)
	for gi, g := range qa.Groups {
		for _, a := range g.Alts {
			for _, p := range ix.postings[a.Stem] {
				d := p.doc
				v := a.W * float64(p.w)
				if sc.best[d] == 0 {
					sc.bestTouched = append(sc.bestTouched, d)
				}
				if v > sc.best[d] {
					sc.best[d] = v
				}
			}
		}
		if len(g.Parts) > 0 {
			pw := partWeights(len(g.Parts))
			for pi, part := range g.Parts {
				for _, p := range ix.postings[part.Stem] {
					d := p.doc
					if sc.part[d] == 0 {
						sc.partTouched = append(sc.partTouched, d)
					}
					sc.part[d] += pw[pi] * part.W * float64(p.w)
				}
			}
			for _, d := range sc.partTouched {
				v := sc.part[d] * o.QueryPartWeight
				sc.part[d] = 0
				if sc.best[d] == 0 {
					sc.bestTouched = append(sc.bestTouched, d)
				}
				if v > sc.best[d] {
					sc.best[d] = v
				}
			}
			sc.partTouched = sc.partTouched[:0]
		}
		for _, d := range sc.bestTouched {
			if sc.cov[d] == 0 {
				sc.touched = append(sc.touched, d)
			}
			sc.cov[d] += gidf[gi] * sc.best[d]
			sc.best[d] = 0
			if gi < 64 {
				sc.matched[d] |= 1 << uint(gi)
			}
		}
		sc.bestTouched = sc.bestTouched[:0]
	}
	if len(sc.touched) == 0 {
		return nil, qs
	}
	// Keep the rerank best by coverage (a bounded selection, not a full sort).
	const rerank = 60
	less := func(x, y scored) bool { // x ranks below y
		if x.cov != y.cov {
			return x.cov < y.cov
		}
		return x.doc > y.doc
	}
	cands := make([]scored, 0, rerank)
	minAt := -1
	for _, d := range sc.touched {
		c := scored{doc: int(d), cov: sc.cov[d] / mass, matched: sc.matched[d]}
		sc.cov[d], sc.matched[d] = 0, 0
		if len(cands) < rerank {
			cands = append(cands, c)
			minAt = -1
			continue
		}
		if minAt < 0 {
			minAt = 0
			for i := range cands {
				if less(cands[i], cands[minAt]) {
					minAt = i
				}
			}
		}
		if less(cands[minAt], c) {
			cands[minAt] = c
			minAt = -1
		}
	}
	sc.touched = sc.touched[:0]
	// Query stems with their best weight, for phrase coverage.
	qw := map[string]float64{}
	putQ := func(s string, w float64) {
		if w > qw[s] {
			qw[s] = w
		}
	}
	for _, g := range qa.Groups {
		for _, a := range g.Alts {
			putQ(a.Stem, a.W)
		}
		for i, p := range g.Parts {
			// a part of a message compound matching a whole word of the
			// entry: the head ("steuer" of "Grundsteuer") counts more than
			// a modifier ("grund").
			f := 0.5
			if i == len(g.Parts)-1 {
				f = 0.8
			}
			putQ(p.Stem, p.W*o.QueryPartWeight*f)
		}
	}
	for i := range cands {
		d := &ix.docs[cands[i].doc]
		var bestP float64
		for _, p := range d.phrases {
			if p.total == 0 {
				continue
			}
			var got float64
			for _, t := range p.terms {
				m := qw[t.stem]
				for _, x := range t.extra {
					if v := qw[x] * german.AltVerb; v > m {
						m = v
					}
				}
				if len(t.parts) > 0 {
					var s float64
					for pi, ps := range t.parts {
						s += t.pw[pi] * qw[ps]
					}
					s *= o.QueryPartWeight
					if s > m {
						m = s
					}
				}
				got += t.idf * m
			}
			if v := got / p.total; v > bestP {
				bestP = v
			}
		}
		bonus := 0.0
		nb := 0
		for _, bg := range qa.Bigrams {
			if _, ok := d.bigrams[bg]; ok && nb < 2 {
				bonus += o.BigramBonus
				nb++
			}
		}
		cands[i].phrase = bestP
		cands[i].score = o.CoverageWeight*cands[i].cov + (1-o.CoverageWeight)*bestP + bonus
	}
	sort.Slice(cands, func(i, j int) bool {
		if cands[i].score != cands[j].score {
			return cands[i].score > cands[j].score
		}
		return cands[i].doc < cands[j].doc
	})
	ix.separateTies(qa, gidf, mass, cands)
	if len(cands) > k {
		cands = cands[:k]
	}
	out := make([]Candidate, len(cands))
	for i, c := range cands {
		d := ix.docs[c.doc]
		var words []string
		var why []WordMatch
		for gi, g := range qa.Groups {
			if gi < 64 && c.matched&(1<<uint(gi)) != 0 {
				words = append(words, g.Surface)
				why = append(why, WordMatch{Word: g.Surface, Via: ix.relation(g, c.doc).String()})
			}
		}
		out[i] = Candidate{EntryID: d.id, Department: d.dept, Question: d.question, Score: round3(c.score), Matched: words, Why: why, Coverage: round3(c.cov), Phrase: round3(c.phrase)}
	}
	return out, qs
}

// relation tells through which relation the message word g matched doc:
// the alternative (or the compound parts) that contributed most.
func (ix *Index) relation(g german.QGroup, doc int) german.Relation {
	weight := func(stem string) float64 {
		ps := ix.postings[stem]
		j := sort.Search(len(ps), func(j int) bool { return int(ps[j].doc) >= doc })
		if j < len(ps) && int(ps[j].doc) == doc {
			return float64(ps[j].w)
		}
		return 0
	}
	best, rel := 0.0, german.RelExact
	for _, a := range g.Alts {
		if v := a.W * weight(a.Stem); v > best {
			best, rel = v, a.Rel
		}
	}
	var parts float64
	for _, p := range g.Parts {
		parts += p.W * weight(p.Stem)
	}
	if parts*ix.opts.QueryPartWeight/float64(max(len(g.Parts), 1)) > best {
		rel = german.RelCompound
	}
	if g.ViaSyn && rel == german.RelExact && !slices.ContainsFunc(g.Alts, func(a german.QAlt) bool { return a.Rel == german.RelExact && weight(a.Stem) > 0 }) {
		rel = german.RelSynonym
	}
	return rel
}

// Near-tie re-ranking. Entries that score within tieWindow of the best are
// confusable for this message ("Hund anmelden" / "Hund abmelden"); their
// shared words say nothing about which one is meant. Each of them gains
// (or loses) the weight of the message words that match it in its topical
// fields (question, variants, tags) more (or less) strongly than its best
// rival there. Answer-text matches do not count: they mention neighbouring
// topics in passing ("Elektrogeräte bringen Sie zum Wertstoffhof").
const (
	tieMax    = 4
	tieWindow = 0.1
	tieBoost  = 0.15
	// nonNounWeight scales the weight of a message word that the FAQ
	// writes in lower case (verbs, adjectives): see Index.noun.
	nonNounWeight = 0.5
)

func (ix *Index) separateTies(qa german.QueryAnalysis, gidf []float64, mass float64, cands []scored) {
	n := 0
	for n < len(cands) && n < tieMax && cands[0].score-cands[n].score <= tieWindow {
		n++
	}
	if n < 2 {
		return
	}
	o := ix.opts
	topical := func(w float32) float64 {
		if float64(w) <= o.FieldAnswer {
			return 0
		}
		return float64(w)
	}
	var str [tieMax]float64
	var disc [tieMax]float64
	slot := func(doc int32) int {
		for i := 0; i < n; i++ {
			if int32(cands[i].doc) == doc {
				return i
			}
		}
		return -1
	}
	for gi, g := range qa.Groups {
		clear(str[:])
		for _, a := range g.Alts {
			for _, p := range ix.postings[a.Stem] {
				if i := slot(p.doc); i >= 0 {
					str[i] = max(str[i], a.W*topical(p.w))
				}
			}
		}
		if len(g.Parts) > 0 {
			var part [tieMax]float64
			pw := partWeights(len(g.Parts))
			for pi, pt := range g.Parts {
				for _, p := range ix.postings[pt.Stem] {
					if i := slot(p.doc); i >= 0 {
						part[i] += pw[pi] * pt.W * topical(p.w)
					}
				}
			}
			for i := 0; i < n; i++ {
				str[i] = max(str[i], part[i]*o.QueryPartWeight)
			}
		}
		for i := 0; i < n; i++ {
			rival := 0.0
			for j := 0; j < n; j++ {
				if j != i {
					rival = max(rival, str[j])
				}
			}
			disc[i] += gidf[gi] * (str[i] - rival)
		}
	}
	for i := 0; i < n; i++ {
		cands[i].score += tieBoost * disc[i] / mass
	}
	sort.SliceStable(cands[:n], func(i, j int) bool {
		if cands[i].score != cands[j].score {
			return cands[i].score > cands[j].score
		}
		return cands[i].doc < cands[j].doc
	})
}

// partWeights weighs the parts of a compound: the head (last part) carries
// 0.6, the modifiers share 0.4.
func partWeights(n int) []float64 {
	w := make([]float64, n)
	if n == 1 {
		w[0] = 1
		return w
	}
	for i := range w {
		w[i] = 0.4 / float64(n-1)
	}
	w[n-1] = 0.6
	return w
}

func round3(f float64) float64 {
	return float64(int(f*1000+0.5)) / 1000
}

// Personal-case detection. The cues are generic: reference numbers, status
// enquiries about one's own procedure, reports of defects at a place,
// complaints, and first-person narratives with specific circumstances (see
// narrativeScore in match_personal.go). A message counts as personal when
// its cues add up to 1. Every regexp has a cheap substring precondition, so
// most are never run on a message.

var (
	// reference numbers: "2024-113", "B-2025-0457", "SP-44817", "771245"
	reRefNumber = regexp.MustCompile(`(?i)\b(?:[a-z]{1,4}-)?\d{2,}(?:[-/]\d+)+\b|\b[a-z]{1,4}-\d{3,}\b|\b\d{5,}\b`)
	reRefWord   = regexp.MustCompile(`\b(?:aktenzeichen|az|vorgang|vorgangsnummer|kassenzeichen|auftragsnummer|antragsnummer|kundennummer|buchungsnummer|bescheidnummer|referenznummer|fallnummer|ticketnummer|\w+nummer|nr|nummer|tel|telefon|case|reference)\b\.?:?\s*[a-z]{0,4}-?\d`)
	// a street address with a house number: "Ahornweg 7", "Lindenstraße 12", "vor Nr. 8"
	reAddress = german.AddressPattern()
	// a named place without a number: "in der Schillerstraße", "im Stadtpark"
	rePlace = regexp.MustCompile(`\b(?:in|an|auf|vor|hinter|neben)\s+(?:der|dem|den|die|das)?\s*\w*(?:strasse|weg|allee|gasse|park|spielplatz|friedhof|wald|sportplatz|parkplatz|spielplatzes|container)\b|\b(?:im|am)\s+\w*(?:park|wald|friedhof|spielplatz|weg)\b|\bvor unserem haus\b|\bvor meinem haus\b`)
	// status of one's own procedure
	reStatus  = regexp.MustCompile(`\b(?:wo bleibt|noch nicht|noch nichts|noch kein|noch keine|immer noch|bis heute|nichts gehort|nichts mehr gehort|keine antwort|keine ruckmeldung|keine bestatigung|gibt es was neues|was neues|stand meines|stand meiner|bearbeitungsstand|not yet|still no|haven't heard)\b|\bhat sich (?:\w+ ){0,3}gemeldet\b|\bist (?:mein|meine|unser|unsere)\w* (?:\w+ ){0,2}(?:angekommen|eingegangen|bearbeitet)\b`)
	reSince   = regexp.MustCompile(`\b(?:seit|vor)\s+(?:\d+|ein|einer|einem|zwei|drei|vier|funf|sechs|mehreren|vielen|paar|uber)?\s*(?:tag|tagen|woche|wochen|monat|monaten|jahr|jahren)\b|\bseit (?:19|20)\d\d\b|\bletzte woche\b|\bletzten monat\b|\bfor (?:days|weeks|months)\b`)
	reEndlich = regexp.MustCompile(`\bendlich\b`)
	// "I applied/registered/... (already)": first person + participle
	reDidApply = regexp.MustCompile(`\b(?:ich|wir)\s+(?:habe|hab|haben|hatte|hatten)\b[^.?!]*\b(?:beantragt|angemeldet|abgemeldet|bestellt|abgegeben|eingereicht|gestellt|uberwiesen|bezahlt|gezahlt|geschickt|gemacht|gebucht|reserviert|gemeldet|angerufen|geschrieben)\b|^(?:hab|habe|hatte|haben)\b[^.?!]*\b(?:beantragt|angemeldet|abgemeldet|bestellt|abgegeben|eingereicht|gestellt|uberwiesen|bezahlt|gemacht|gebucht|gemeldet|reserviert)\b|\b(?:hab|habe|haben|hatte|hatten)\s+(?:ich|wir)\b[^.?!]*\b(?:beantragt|angemeldet|abgemeldet|bestellt|abgegeben|eingereicht|gestellt|uberwiesen|bezahlt|geschickt|gemacht|gebucht|reserviert|gemeldet)\b|\b(?:ich|wir)\b[^.?!]*\b(?:beantragt|angemeldet|bestellt|abgegeben|eingereicht|uberwiesen|bezahlt|gezahlt|geschickt|reserviert)\s+(?:habe|hab|haben|hatte|hatten)\b`)
	// a decision or document of one's own
	reOwnDoc = regexp.MustCompile(`\b(?:mein|meine|meinen|meinem|meiner|meines|unser|unsere|unseren|unserem|unserer|unseres|der|die|das|den|dem|in der|im)\s+(?:neuer?n?\s+)?[\w-]*(?:bescheid|bescheids|antrag|antrags|anmeldung|bestellung|vorgang|akte|sachbearbeiter|sachbearbeiterin|zusage|genehmigung|verlustanzeige|urkunde|reisepass|personalausweis|fuhrerschein|bescheinigung)\b|\bmy\s+\w*\s*(?:certificate|application|permit|passport|id|licen[cs]e)\b`)
	reNotice = regexp.MustCompile(`\b(?:hatten|hatte|haben|habe|hab)\s+(?:eine|die|den|einen)\s+(?:zusage|absage|bewilligung|bescheid)\b|\b\w*(?:bescheid|mahnung|rechnung|schreiben|zahlungsaufforderung)\w*\s+(?:\w+\s+)?(?:bekommen|erhalten|gekriegt)\b`)
	reWrong  = regexp.MustCompile(`\b(?:falsch|falsche|falschen|falscher|falsches|fehler|fehlerhaft|zu hoch|nicht korrekt|stimmt nicht|trotzdem|obwohl ich|jetzt heisst es|gar keine?n?|wrong|incorrect|mistake)\b`)
	reWhy    = regexp.MustCompile(`\b(?:warum|wieso|weshalb)\s+(?:wurde|wurden|soll ich|sollen wir|muss ich jetzt|hat man)\b`)
	// defects and nuisances at a place
	reDefect     = regexp.MustCompile(`\b(?:kaputt\w*|defekt\w*|beschadigt|zerstort|umgefahr\w*|umgekippt|umgesturzt|verstopft|ausgefallen|gerissen|schlagloch\w*|uberschwemmt|verdreckt|vermullt|verschmutzt|abgeladen|liegen gelassen|stapeln sich|liegt mull|wilder mull|illegal\w*|abbrechen|umzufallen|herunterzufallen|einzusturzen|eingesturzt|gebrochen|zerbrochen|eingeschlagen|gesplittert|undicht|uberfullt|quellen uber|quillt uber|flackert|broken|damaged|overflowing)\b|\b(?:wurde|wurden)\b[^.?!]*\b(?:nicht|keine?)\b`)
	rePredDefect = regexp.MustCompile(`\b(?:ist|sind|war|wurde|wurden|wird|werden)\s+(?:\w+\s+){0,4}(?:kaputt|defekt|aus|ausgefallen|verstopft|umgekippt|umgefahren|nicht geleert|nicht abgeholt|gerissen|abgeschraubt|beschmiert)\b`)
	reSomeone    = regexp.MustCompile(`\b(?:hat|haben)\s+(?:jemand|welche|leute|unbekannte)\b[^.?!]*\b(?:abgeladen|abgestellt|entsorgt|beschadigt|beschmiert|zerstort|weggeworfen|hingestellt)\b`)
	// nobody does what should be done: "keiner holt ihn ab", "niemand kümmert sich"
	reNobody    = regexp.MustCompile(`\b(?:keiner|niemand|kein mensch)\s+(?:\w+\s+){0,2}(?:holt|holen|kommt|kommen|leert|raumt|kummert|reagiert|repariert|macht|tut|unternimmt)\b`)
	reOngoing   = regexp.MustCompile(`\b(?:standig|dauernd|andauernd|jeden tag|jede nacht|jedes wochenende|immer wieder|taglich|nachts)\b`)
	reNeighbour = regexp.MustCompile(`\bnachbar\w*\b`)
	// asking staff to act on a concrete situation
	reRequestAct = regexp.MustCompile(`\b(?:konnt|konnen|kann|konnten)\s+(?:ihr|sie|jemand|man)\b[^.?!]*\b(?:kontrollieren|prufen|uberprufen|nachsehen|kummern|reparieren|beseitigen|entfernen|wegraumen|abschleppen|schicken|zusenden|zuschicken|korrigieren|andern|verschieben)\b|\bbitte\s+(?:mal\s+)?(?:\w+\s+)?(?:kontrollieren|prufen|reparieren|beseitigen|entfernen|korrigieren|andern)\b`)
	// complaints, suggestions, welfare concerns: always for staff
	reComplaint = regexp.MustCompile(`\b(?:beschwer\w*|frechheit|unverschamt\w*|skandal\w*|zumutung|unfreundlich\w*|sauerei|complain\w*|vorschlagen|anregung|mache mir sorgen|machen uns sorgen|kindeswohl|vernachlassigt|stundenlang allein)\b`)
	// asking for one's case worker / a personal appointment about one's case
	reCaseWorker = regexp.MustCompile(`\b(?:sachbearbeiter\w*|personlichen beratungstermin|ruckruf|zustandige[nr]? mitarbeiter\w*)\b`)
	// a concrete date or time: "am 2. Mai", "14.06.", "um 11 Uhr"
	reDate = regexp.MustCompile(`\b\d{1,2}#\s?(?:\d{1,2}#|januar|februar|marz|april|mai|juni|juli|august|september|oktober|november|dezember)`)
	reTime = regexp.MustCompile(`\bum \d{1,2}(?:[:#]\d\d)?\s?uhr\b`)
	// something expected did not arrive: "ist nicht gekommen", "nicht bekommen"
	reNotArrived = regexp.MustCompile(`\bnicht (?:gekommen|angekommen|eingegangen|erhalten|bekommen|zugestellt|geliefert|bearbeitet|uberwiesen|ausgezahlt)\b`)
	reRecent     = regexp.MustCompile(`\b(?:heute|gestern|diesen monat|diese woche|letzte nacht|heute nacht|heute morgen)\b`)
	reReady      = regexp.MustCompile(`\bwann (?:ist|sind|wird|werden) (?:der|die|das|mein|meine|er|sie|es)\s+(?:\w+\s+){0,2}fertig\b`)
	reDoubt      = regexp.MustCompile(`\b(?:ist|sind|war) (?:das|die|der|es) (?:uberhaupt|eigentlich|denn) (?:erlaubt|genehmigt|zulassig|rechtens|legal)\b`)
	// a rejected application or request
	reRejected = regexp.MustCompile(`\b(?:abgelehnt|ablehnungsbescheid\w*|abgewiesen|rejected|refused)\b`)
	// hardship and emergencies go to staff at once
	reHardship = regexp.MustCompile(`\b(?:obdachlos\w*|wohnungslos\w*|keine bleibe|wo ich (?:heute nacht )?schlafen (?:soll|kann)|bedroht|suizid\w*|hausliche gewalt)\b`)
)

// defectWords: reDefect's first alternative needs one of them.
var defectWords = []string{"kaputt", "defekt", "beschadigt", "zerstort", "umgefahr", "umgekippt", "umgesturzt", "verstopft", "ausgefallen", "gerissen", "schlagloch", "uberschwemmt", "verdreckt", "vermullt", "verschmutzt", "abgeladen", "liegen gelassen", "stapeln", "liegt mull", "wilder mull", "illegal", "abbrechen", "umzufallen", "herunterzufallen", "einzusturzen", "eingesturzt", "gebrochen", "zerbrochen", "eingeschlagen", "gesplittert", "undicht", "uberfullt", "quellen uber", "quillt uber", "flackert", "broken", "damaged", "overflowing"}

// personalCues are the weighted cues of IsPersonal.
var personalCues = []struct {
	re  *regexp.Regexp
	w   float64
	any []string // the regexp can only match when one of these occurs (fast path); nil: always try
	// pre, when set, is a further cheap necessary condition (substring
	// checks) for the regexp to match, tested after any.
	pre func(norm string, hasDigit bool) bool
}{
	{reComplaint, 1, []string{"beschwer", "frechheit", "unverschamt", "skandal", "zumutung", "unfreundlich", "sauerei", "complain", "vorschlag", "anregung", "sorgen", "kindeswohl", "vernachlassigt", "allein"}, nil},
	{reCaseWorker, 1, []string{"sachbearbeit", "beratungstermin", "ruckruf", "zustandig"}, nil},
	{reHardship, 1, []string{"obdachlos", "wohnungslos", "bleibe", "schlafen", "bedroht", "suizid", "gewalt"}, nil},
	{reStatus, 0.6, []string{"wo bleibt", "noch nicht", "noch kein", "immer noch", "bis heute", "gehort", "keine antwort", "keine ruckmeldung", "keine bestatigung", "was neues", "stand mein", "bearbeitungsstand", "not yet", "still no", "haven't heard", "gemeldet", "angekommen", "eingegangen", "bearbeitet"}, nil},
	{reNotArrived, 0.7, []string{"nicht "}, nil},
	{reSince, 0.4, nil, func(n string, _ bool) bool {
		return containsAny(n, []string{"seit", "vor ", "letzte"}) && containsAny(n, []string{"tag", "woche", "monat", "jahr"}) || containsAny(n, []string{"seit 19", "seit 20", "for days", "for weeks", "for months"})
	}},
	{reEndlich, 0.4, []string{"endlich"}, nil},
	{reDidApply, 0.6, []string{"beantragt", "angemeldet", "abgemeldet", "bestellt", "abgegeben", "eingereicht", "gestellt", "uberwiesen", "bezahlt", "gezahlt", "geschickt", "gemacht", "gebucht", "reserviert", "gemeldet", "angerufen", "geschrieben"}, func(n string, _ bool) bool {
		return containsAny(n, []string{"hab", "hatte"})
	}},
	{reOwnDoc, 0.5, []string{"bescheid", "antrag", "anmeldung", "bestellung", "vorgang", "akte", "sachbearbeit", "zusage", "genehmigung", "verlustanzeige", "urkunde", "reisepass", "personalausweis", "fuhrerschein", "bescheinigung", "my "}, nil},
	{reNotice, 0.5, nil, func(n string, _ bool) bool {
		return containsAny(n, []string{"hab", "hatte"}) && containsAny(n, []string{"zusage", "absage", "bewilligung", "bescheid"}) ||
			containsAny(n, []string{"bekommen", "erhalten", "gekriegt"}) && containsAny(n, []string{"bescheid", "mahnung", "rechnung", "schreiben", "zahlungsaufforderung"})
	}},
	{reWrong, 0.5, []string{"falsch", "fehler", "zu hoch", "korrekt", "stimmt nicht", "trotzdem", "obwohl", "heisst es", "gar kein", "wrong", "incorrect", "mistake"}, nil},
	{reWhy, 0.5, []string{"warum", "wieso", "weshalb"}, nil},
	{reAddress, 0.5, nil, func(n string, hasDigit bool) bool {
		return hasDigit && containsAny(n, []string{"str", "weg", "allee", "platz", "gasse", "ring", "damm", "ufer", "pfad", "chaussee", "markt", "steig", "nr", "hausnummer", "feld", "reihe"}) ||
			containsAny(n, []string{"ecke", "/"}) && containsAny(n, []string{"str", "weg", "allee"})
	}},
	{rePlace, 0.4, []string{"strasse", "weg", "allee", "gasse", "park", "spielplatz", "sportplatz", "friedhof", "wald", "container", "haus"}, nil},
	{reDefect, 0.6, nil, func(n string, _ bool) bool {
		return containsAny(n, defectWords) || strings.Contains(n, "wurde") && containsAny(n, []string{"nicht", "kein"})
	}},
	{rePredDefect, 1, nil, func(n string, _ bool) bool {
		return containsAny(n, []string{"ist ", "sind ", "war ", "wurde", "wird ", "werden "}) && containsAny(n, []string{"kaputt", "defekt", "aus", "verstopft", "umgekippt", "umgefahren", "nicht geleert", "nicht abgeholt", "gerissen", "abgeschraubt", "beschmiert"})
	}},
	{reSomeone, 0.5, []string{"jemand", "welche", "leute", "unbekannte"}, nil},
	{reNobody, 0.6, []string{"keiner", "niemand", "kein mensch"}, nil},
	{reOngoing, 0.4, []string{"standig", "dauernd", "andauernd", "jeden tag", "jede nacht", "jedes wochenende", "immer wieder", "taglich", "nachts"}, nil},
	{reNeighbour, 0.4, []string{"nachbar"}, nil},
	{reRequestAct, 0.6, []string{"kontrollier", "pruf", "nachsehen", "kummern", "reparier", "beseitig", "entfern", "wegraum", "abschlepp", "schick", "zusend", "korrigier", "ander", "verschieb"}, func(n string, _ bool) bool {
		return containsAny(n, []string{"konn", "kann", "bitte"})
	}},
	{reRejected, 0.4, []string{"abgelehnt", "ablehnung", "abgewiesen", "rejected", "refused"}, nil},
	{reDate, 0.3, []string{"#"}, nil},
	{reTime, 0.2, []string{"uhr"}, nil},
	{reRecent, 0.3, []string{"heute", "gestern", "diesen monat", "diese woche", "letzte nacht"}, nil},
	{reReady, 0.3, []string{"fertig"}, nil},
	{reDoubt, 0.6, []string{"uberhaupt", "eigentlich", "denn"}, nil},
}

// IsPersonal reports whether text is an individual case, a status enquiry,
// a report of a defect or a complaint, which the FAQ must never answer.
func IsPersonal(text string) bool {
	return PersonalScore(text) >= 1
}

// PersonalScore is the sum of the personal-case cues found in text; 1 or
// more means personal. Exposed for explanations and tuning.
func PersonalScore(text string) float64 {
	s, _ := personalScores(text)
	return s
}

// personalScores returns PersonalScore and its narrative part (the
// first-person cues of narrativeScore), which the confidence model uses as
// a feature of its own.
func personalScores(text string) (total, narrative float64) {
	norm := strings.Join(strings.Fields(german.Fold(text)), " ")
	hasDigit := strings.ContainsAny(norm, "0123456789")
	if hasDigit {
		norm = reDigitDot.ReplaceAllString(norm, "$1#") // "14.06." -> "14#06#": dates do not end clauses
	}
	narrative = narrativeScore(norm)
	s := narrative
	if hasDigit && (reRefWord.MatchString(norm) || (reRefNumber.MatchString(norm) && !isDateOrTime(norm))) {
		s += 1
	}
	if urgentPunct(norm) {
		s += 0.3
	}
	for _, c := range personalCues {
		if c.any != nil && !containsAny(norm, c.any) || c.pre != nil && !c.pre(norm, hasDigit) {
			continue
		}
		if c.re.MatchString(norm) {
			s += c.w
		}
	}
	return s, narrative
}

// urgentPunct reports emotional punctuation: "!!", "?!", "??" (spaces
// between allowed), like reUrgent.
func urgentPunct(s string) bool {
	last := false // previous non-space byte was ! or ?
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '!', '?':
			if last {
				return true
			}
			last = true
		case ' ', '\t', '\n', '\r', '\f', '\v':
		default:
			last = false
		}
	}
	return false
}

func containsAny(s string, subs []string) bool {
	for _, x := range subs {
		if strings.Contains(s, x) {
			return true
		}
	}
	return false
}

var (
	reDateOnly = regexp.MustCompile(`^\d{1,2}[./#-]\d{1,2}([./#-]\d{2,4})?#?$`)
	reDigitDot = regexp.MustCompile(`(\d)\.`)
)

// isDateOrTime reports whether every reference-number-like token in s is a
// date ("14.06.", "12/7") rather than a file number.
func isDateOrTime(s string) bool {
	for _, m := range reRefNumber.FindAllString(s, -1) {
		if !reDateOnly.MatchString(m) {
			return false
		}
	}
	return true
}
