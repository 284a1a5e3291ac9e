package routing

import (
	"math"
	"sort"
	"strings"

	"citybot/internal/german"
)

// Department is what the classifier knows of a department: its id, name,
// description and keywords (staff keeps them; routing reads them).
type Department struct {
	ID          string
	Name        string
	Description string
	Keywords    []string
}

// FAQEntry is a published FAQ entry as the classifier learns from it: the
// department that answers it and its texts. Routing does not import faq; the
// wiring converts (bot.RoutingEntries).
type FAQEntry struct {
	Department string
	Question   string
	Variants   []string
	Tags       []string
	// Answer is the entry's answer text; the learned model reads its
	// sentences as weak evidence of what the department deals with.
	Answer string
	// Messages are generated citizen-like and report-style messages about
	// the entry (faq.RoutingMessages): training text for the learned model.
	Messages []string
}

// Candidate is one of the FAQ matcher's candidates as routing weighs it:
// the entry, its department and the matcher's score.
type Candidate struct {
	EntryID    string
	Department string
	Score      float64
}

// Rule is an admin-defined routing rule: a message containing Pattern (a
// keyword or phrase, analysed like the FAQ matcher analyses text) goes to
// Department. Among matching rules the highest Priority wins, then the
// lowest ID.
type Rule struct {
	ID         int64  `json:"id" db:"id"`
	Department string `json:"department" db:"department_id"`
	Pattern    string `json:"pattern" db:"pattern"`
	Priority   int    `json:"priority" db:"priority"`
}

// DeptScore is one department's score for a message, with the evidence.
type DeptScore struct {
	Department string   `json:"department"`
	Score      float64  `json:"score"`
	Rule       int64    `json:"rule,omitempty"`     // id of the matching rule that decided, if any
	Keywords   []string `json:"keywords,omitempty"` // message words that matched the department's vocabulary
	FAQ        float64  `json:"faq"`                // share of the score from the nearest FAQ candidates
	Learned    float64  `json:"learned"`            // the learned model's probability (its share of the score is weightLearned times it)
}

// Weights of the classifier's evidence.
const (
	// weightKeyword, weightName, weightDescription: a department's own
	// vocabulary.
	weightKeyword     = 1.0
	weightName        = 1.0
	weightDescription = 0.6
	// weightFAQText: words of the department's FAQ questions, variants, tags.
	weightFAQText = 0.4
	// weightGeneral: general municipal vocabulary (municipalVocab) attached
	// to the department whose own vocabulary matches the line's anchors.
	weightGeneral = 0.6
	// weightLearned scales the learned model's probability of a department
	// (learn.go). Cross-validation on held-out FAQ entries gives 0.750
	// routed right for the vocabulary alone, 0.770 at weight 1 and at most
	// 0.776 (weight 4): the curve is flat from 1 on, and a larger weight
	// lifts out-of-scope messages over minScore, which the FAQ cannot show
	// (it has none), so the smallest weight within a point of the best.
	weightLearned = 1.0
	// weightFAQ scales the FAQ candidates' scores (best first: 1, 0.5, 0.3).
	weightFAQ = 1.2
	// minFAQScore: candidates below this score are not evidence.
	minFAQScore = 0.3
	// minScore: below it the message goes to the fallback department
	// (out of scope: weather, football, bus timetables).
	minScore = 1.0
	// ruleScore is added to a department whose rule matched.
	ruleScore = 1000
)

// Classifier picks the department for a message the FAQ did not answer. It
// combines admin rules (a matching rule wins by priority), the departments'
// keywords, names and descriptions, and the departments owning the nearest
// FAQ candidates. It is immutable and safe for concurrent use.
type Classifier struct {
	an       *german.Analyzer
	depts    []string
	known    map[string]bool
	vocab    []map[string]float64 // per department: stem -> weight
	idf      map[string]float64   // over departments
	rules    []compiledRule
	fallback string
	model    *deptModel // the learned model (learn.go)
}

type compiledRule struct {
	Rule
	stems []string // pattern stems, in order
}

// NewClassifier builds a classifier. fallback ("zentrale") receives what
// matches no department.
func NewClassifier(depts []Department, rules []Rule, fallback string) *Classifier {
	return NewClassifierWithFAQ(depts, rules, fallback, nil)
}

// NewClassifierWithFAQ is NewClassifier whose department vocabulary also
// holds the questions, variants and tags of the department's published FAQ
// entries (weighted weightFAQText): a department is known by what it answers.
// Answer texts are left out of this vocabulary: they mention other offices,
// addresses and procedures, and on the demo data they only added noise; they
// only enlarge the analyser's vocabulary (compound splitting, typo
// correction) and teach the learned model at a low weight. Every department
// also receives the general municipal vocabulary (municipalVocab) whose
// anchors match its own name, description and keywords best.
//
// The classifier also trains its learned model (learn.go) on the
// departments, the municipal vocabulary and the entries, including their
// generated messages (FAQEntry.Messages); 0.6-1.2 s for the demo FAQ.
//
// entries are the published entries only (the caller filters).
func NewClassifierWithFAQ(depts []Department, rules []Rule, fallback string, entries []FAQEntry) *Classifier {
	return newClassifier(depts, rules, fallback, entries, lambda)
}

// newClassifier is NewClassifierWithFAQ with the learned model's L2 penalty
// lam (the cross-validation test varies it).
func newClassifier(depts []Department, rules []Rule, fallback string, entries []FAQEntry, lam float64) *Classifier {
	var corpus []string
	for _, d := range depts {
		corpus = append(corpus, d.Name, d.Description, strings.Join(d.Keywords, " . "))
	}
	byDept := map[string][]string{}
	for _, e := range entries {
		text := e.Question + " . " + strings.Join(e.Variants, " . ") + " . " + strings.Join(e.Tags, " . ")
		byDept[e.Department] = append(byDept[e.Department], text)
		corpus = append(corpus, text, e.Answer)
	}
	general := parseMunicipalVocab()
	for _, l := range general {
		corpus = append(corpus, l.anchors, l.words)
	}
	for _, r := range rules {
		corpus = append(corpus, r.Pattern)
	}
	c := &Classifier{
		an:       german.NewAnalyzer(german.DefaultSynonyms(), corpus...),
		known:    map[string]bool{},
		idf:      map[string]float64{},
		fallback: fallback,
	}
	df := map[string]int{}
	own := make([]map[string]float64, len(depts)) // name, description, keywords
	for i, d := range depts {
		v := map[string]float64{}
		put := func(text string, w float64) {
			for s, x := range c.an.DocTerms(text) {
				if x*w > v[s] {
					v[s] = x * w
				}
			}
		}
		put(d.Name, weightName)
		put(d.Description, weightDescription)
		for _, k := range d.Keywords {
			put(k, weightKeyword)
		}
		own[i] = v
	}
	// General vocabulary: each line goes to the department whose own
	// vocabulary matches the line's anchors best (none when nothing does).
	generalFor := make([][]string, len(depts))
	for _, l := range general {
		anchors := c.an.DocTerms(l.anchors)
		best, bestScore := -1, 0.0
		for i := range depts {
			var s float64
			for st, w := range anchors {
				s += w * own[i][st]
			}
			if s > bestScore {
				best, bestScore = i, s
			}
		}
		if best >= 0 && bestScore >= 1 {
			generalFor[best] = append(generalFor[best], l.words)
		}
	}
	for i, d := range depts {
		v := own[i]
		put := func(text string, w float64) {
			for s, x := range c.an.DocTerms(text) {
				if x*w > v[s] {
					v[s] = x * w
				}
			}
		}
		for _, text := range byDept[d.ID] {
			put(text, weightFAQText)
		}
		for _, text := range generalFor[i] {
			put(text, weightGeneral)
		}
		for s := range v {
			df[s]++
		}
		c.depts = append(c.depts, d.ID)
		c.known[d.ID] = true
		c.vocab = append(c.vocab, v)
	}
	c.model = cachedModel(c.an, depts, rules, entries, generalFor, lam)
	n := float64(len(depts))
	for s, d := range df {
		c.idf[s] = math.Log(1 + (n-float64(d)+0.5)/(float64(d)+0.5))
	}
	for _, r := range rules {
		cr := compiledRule{Rule: r}
		for _, t := range german.Tokens(r.Pattern) {
			if !german.IsStopword(t) {
				cr.stems = append(cr.stems, german.StemGerman(t))
			}
		}
		if len(cr.stems) > 0 {
			c.rules = append(c.rules, cr)
		}
	}
	sort.SliceStable(c.rules, func(i, j int) bool {
		if c.rules[i].Priority != c.rules[j].Priority {
			return c.rules[i].Priority > c.rules[j].Priority
		}
		return c.rules[i].ID < c.rules[j].ID
	})
	return c
}

// Route returns the department for text: the best of Scores, or the
// fallback when nothing is convincing; candidates are the FAQ matcher's,
// best first.
func (c *Classifier) Route(text string, candidates []Candidate) string {
	s := c.scores(text, candidates)
	if !inScope(s) {
		return c.fallback
	}
	return s[0].Department
}

// Rank returns the departments for question, best first, the fallback last
// when it is not already there. It satisfies routing.Router.
func (c *Classifier) Rank(question string, candidates []Candidate) []string {
	s := c.scores(question, candidates)
	var out []string
	if !inScope(s) {
		out = append(out, c.fallback)
	}
	for _, d := range s {
		if d.Score <= 0 {
			break
		}
		if d.Department != c.fallback || len(out) == 0 {
			out = append(out, d.Department)
		}
	}
	if len(out) == 0 || out[len(out)-1] != c.fallback && !contains(out, c.fallback) {
		out = append(out, c.fallback)
	}
	return out
}

// inScope reports whether scores are convincing enough for a department:
// a rule matched, or some department's evidence without the learned
// model's share reaches minScore. The learned model picks among the
// departments but does not decide whether a message is the city's at all:
// it never saw an out-of-scope message (the FAQ has none), and its
// probabilities sum to one for weather and football too.
func inScope(s []DeptScore) bool {
	if len(s) == 0 {
		return false
	}
	if s[0].Rule != 0 {
		return true
	}
	for _, d := range s {
		if d.Score-weightLearned*d.Learned >= minScore {
			return true
		}
	}
	return false
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// Scores explains the routing decision: every department with evidence,
// best first, scores rounded to three decimals. candidates are the FAQ
// matcher's, best first.
func (c *Classifier) Scores(text string, candidates []Candidate) []DeptScore {
	out := c.scores(text, candidates)
	for i := range out {
		out[i].Score = math.Round(out[i].Score*1000) / 1000
		out[i].FAQ = math.Round(out[i].FAQ*1000) / 1000
		out[i].Learned = math.Round(out[i].Learned*1000) / 1000
	}
	return out
}

// scores is Scores unrounded (Route and Rank decide on it).
func (c *Classifier) scores(text string, candidates []Candidate) []DeptScore {
	scores := make([]DeptScore, len(c.depts))
	for i, d := range c.depts {
		scores[i].Department = d
	}
	terms := c.an.QueryTerms(german.StripAddresses(german.ContentPart(text)))
	// Admin rules.
	stems := make([][]string, len(terms))
	for i, t := range terms {
		for s := range t.Stems {
			stems[i] = append(stems[i], s)
		}
	}
	for _, r := range c.rules {
		if !matchRule(r.stems, stems) {
			continue
		}
		for i := range scores {
			if scores[i].Department == r.Department && scores[i].Rule == 0 {
				scores[i].Rule = r.ID
				scores[i].Score += ruleScore + float64(r.Priority)
			}
		}
		break // the highest-priority matching rule decides
	}
	// Department vocabulary.
	for i, v := range c.vocab {
		for _, t := range terms {
			var best float64
			for s, w := range t.Stems {
				if x := w * v[s] * c.idf[s]; x > best {
					best = x
				}
			}
			if best > 0 {
				scores[i].Score += best
				scores[i].Keywords = append(scores[i].Keywords, t.Surface)
			}
		}
	}
	// The learned model.
	if c.model != nil {
		c.learned(terms, scores)
	}
	// Nearest FAQ candidates.
	rankW := []float64{1, 0.5, 0.3}
	for k, cand := range candidates {
		if k >= len(rankW) || cand.Score < minFAQScore {
			break
		}
		for i := range scores {
			if scores[i].Department == cand.Department {
				x := weightFAQ * rankW[k] * cand.Score
				scores[i].Score += x
				scores[i].FAQ += x
			}
		}
	}
	sort.SliceStable(scores, func(i, j int) bool { return scores[i].Score > scores[j].Score })
	out := scores[:0]
	for _, s := range scores {
		if s.Score > 0 && (s.Rule != 0 || len(s.Keywords) > 0 || s.FAQ > 0 || s.Learned >= minLearned) {
			out = append(out, s)
		}
	}
	return out
}

// matchRule reports whether the rule's stems occur in the message in order,
// with at most two other words between consecutive pattern words.
func matchRule(pattern []string, msg [][]string) bool {
	has := func(i int, s string) bool {
		for _, x := range msg[i] {
			if x == s {
				return true
			}
		}
		return false
	}
	for start := range msg {
		if !has(start, pattern[0]) {
			continue
		}
		pos, ok := start, true
		for _, p := range pattern[1:] {
			found := false
			for j := pos + 1; j < len(msg) && j <= pos+3; j++ {
				if has(j, p) {
					pos, found = j, true
					break
				}
			}
			if !found {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}
