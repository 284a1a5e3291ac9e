package faq

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"

	"citybot/internal/german"
)

// Model is an experimental confidence model for the matcher: a logistic regression that
// estimates, for each of the best candidates of a message, the probability
// that it is the entry the citizen asked for. It is trained by Train on the
// FAQ itself (held-out variants and held-out entries, see train.go), never
// on evaluation questions. Match ranks the candidates by it and decides:
// answer when the best reaches AnswerAt, suggest what reaches SuggestAt,
// else hand off. The thresholds are chosen on the training data for a
// bounded false-answer rate.
type Model struct {
	Features []string `json:"features"`
	// Ranker estimates for every candidate that it is the right entry;
	// Gate estimates for the best candidate (after ranking) that it is.
	Ranker   Logistic `json:"ranker"`
	Gate     Logistic `json:"gate"`
	AnswerAt float64  `json:"answer_at"`
	// VetoAt: when the score thresholds alone would answer and the model
	// ranks the same entry first, it is answered from this probability on
	// (the model vetoes the rest). 0 in older models: no such rule.
	VetoAt    float64 `json:"veto_at,omitempty"`
	SuggestAt float64 `json:"suggest_at"`
	// Fit describes the training run (for the closing report and editors).
	Fit TrainReport `json:"fit"`
	// FAQ is the Fingerprint of the FAQ the model was trained on.
	FAQ string `json:"faq,omitempty"`
}

// featureNames are the model's inputs, in order (see features).
var featureNames = []string{
	"score", "coverage", "phrase", "margin_next", "gap_top", "is_top",
	"log_words", "unknown_share", "matched_share", "personal", "log_len", "exclusive_share",
	"narrative",
}

//go:embed model.json
var defaultModelJSON []byte

// DefaultModel returns the committed model (faq/model.json), trained on the
// demo city's FAQ by `citybot faq train`.
func DefaultModel() (*Model, error) { return ParseModel(defaultModelJSON) }

// defaultGate is the committed model, parsed once: the default
// Options.Gate. `citybot faq train` writes only valid models and CI checks
// that the committed one is what it makes of the demo FAQ, so a broken file
// is a build defect.
var defaultGate = sync.OnceValue(func() *Model {
	m, err := DefaultModel()
	if err != nil {
		panic(err)
	}
	return m
})

// ParseModel reads a model written by `citybot faq train`.
func ParseModel(b []byte) (*Model, error) {
	var m Model
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("faq: model: %w: %w", ErrInvalid, err)
	}
	if err := m.check(); err != nil {
		return nil, err
	}
	return &m, nil
}

// Logistic is a logistic regression over standardised features.
type Logistic struct {
	Mean    []float64 `json:"mean"`
	Scale   []float64 `json:"scale"`
	Weights []float64 `json:"weights"`
	Bias    float64   `json:"bias"`
}

func (l Logistic) ok(n int) bool {
	return len(l.Mean) == n && len(l.Scale) == n && len(l.Weights) == n
}

func (m *Model) check() error {
	n := len(featureNames)
	if len(m.Features) != n || !m.Ranker.ok(n) || !m.Gate.ok(n) {
		return fmt.Errorf("faq: model: %w: want %d features", ErrInvalid, n)
	}
	for i, f := range featureNames {
		if m.Features[i] != f {
			return fmt.Errorf("faq: model: %w: feature %d is %q, want %q", ErrInvalid, i, m.Features[i], f)
		}
	}
	return nil
}

// msgFeatures are the message-level inputs shared by all candidates.
type msgFeatures struct {
	qs       queryStats
	personal float64
	// narrative: the first-person part of personal (own family, their
	// circumstances, "ich habe keine ..."; see narrativeScore)
	narrative float64
	question  bool
	runes     int
}

var questionWords = map[string]bool{
	"wie": true, "was": true, "wo": true, "wann": true, "wer": true, "warum": true, "welche": true, "welcher": true,
	"welches": true, "wieviel": true, "wohin": true, "woher": true, "kann": true, "darf": true, "muss": true,
	"how": true, "what": true, "where": true, "when": true, "who": true, "which": true, "can": true, "do": true,
	"does": true, "is": true,
}

func messageFeatures(text string, qs queryStats) msgFeatures {
	ps, narr := personalScores(text)
	return messageFeaturesScored(text, qs, ps, narr)
}

// messageFeaturesScored is messageFeatures with the message's
// PersonalScore and its narrative part already known.
func messageFeaturesScored(text string, qs queryStats, personal, narrative float64) msgFeatures {
	mf := msgFeatures{qs: qs, personal: personal, narrative: narrative, runes: len([]rune(text))}
	mf.question = strings.Contains(text, "?")
	if !mf.question {
		if t := german.Tokens(text); len(t) > 0 && questionWords[t[0]] {
			mf.question = true
		}
	}
	return mf
}

// features of candidate i of cands (best first).
func features(cands []Candidate, i int, mf msgFeatures) []float64 {
	c := cands[i]
	next := 0.0
	if i+1 < len(cands) {
		next = cands[i+1].Score
	}
	b := func(x bool) float64 {
		if x {
			return 1
		}
		return 0
	}
	matched := 0.0
	if mf.qs.groups > 0 {
		matched = float64(len(c.Matched)) / float64(mf.qs.groups)
	}
	return []float64{
		c.Score, c.Coverage, c.Phrase, c.Score - next, cands[0].Score - c.Score, b(i == 0),
		math.Log1p(float64(mf.qs.groups)), mf.qs.unknown, matched, math.Min(mf.personal, 2),
		math.Log1p(float64(mf.runes)), exclusive(cands, i, mf.qs.groups),
		math.Min(mf.narrative, 2),
	}
}

// prob is the regression's probability for a feature vector.
func (l *Logistic) prob(x []float64) float64 {
	z := l.Bias
	for i, v := range x {
		z += l.Weights[i] * (v - l.Mean[i]) / l.Scale[i]
	}
	return 1 / (1 + math.Exp(-z))
}

// order returns cands ranked by the ranker, with their probabilities, and
// the gate's probability that the first is right.
func (m *Model) order(cands []Candidate, mf msgFeatures) ([]Candidate, float64) {
	out := m.ranked(cands, mf)
	return out, m.Gate.prob(features(out, 0, mf))
}

// ranked returns cands ranked by the ranker, with their probabilities.
func (m *Model) ranked(cands []Candidate, mf msgFeatures) []Candidate {
	rk := m.rank(cands, mf)
	out := make([]Candidate, len(rk))
	for j, r := range rk {
		out[j] = cands[r.i]
		out[j].Confidence = round3(r.p)
	}
	return out
}

// exclusive is the share of the message's words that candidate i matches
// and no other candidate does: the evidence that tells confusable entries
// apart ("Wasserturm" among entries that all match "heiraten").
func exclusive(cands []Candidate, i, groups int) float64 {
	if groups == 0 {
		return 0
	}
	n := 0
	for _, w := range cands[i].Matched {
		other := false
		for j := range cands {
			if j != i && slices.Contains(cands[j].Matched, w) {
				other = true
				break
			}
		}
		if !other {
			n++
		}
	}
	return float64(n) / float64(groups)
}
