package faq

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"sort"
	"strings"

	"citybot/internal/german"
)

// EvalQuestion is one line of a question set (JSON lines):
// {"q": "...", "expect": "faq:<id>" | "handoff" | "smalltalk", "department": "..."}.
type EvalQuestion struct {
	Q          string `json:"q"`
	Expect     string `json:"expect"`
	Department string `json:"department,omitempty"`
}

// DevQuestionsFile is the name of the question set in a dataset folder.
const DevQuestionsFile = "dev_questions.jsonl"

// LoadQuestionsFS reads the question set DevQuestionsFile of a dataset
// folder (as ReadDatasetFS reads its FAQ).
func LoadQuestionsFS(fsys fs.FS) ([]EvalQuestion, error) {
	f, err := fsys.Open(DevQuestionsFile)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return LoadQuestions(f)
}

// LoadQuestions reads a JSON-lines question set. Blank lines are skipped; a
// bad line is reported with its line number.
func LoadQuestions(r io.Reader) ([]EvalQuestion, error) {
	var out []EvalQuestion
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 4*1024*1024)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" {
			continue
		}
		var q EvalQuestion
		if err := json.Unmarshal([]byte(text), &q); err != nil {
			return nil, fmt.Errorf("line %d: %w: %w", line, ErrInvalid, err)
		}
		switch {
		case q.Q == "":
			return nil, fmt.Errorf("line %d: %w: empty \"q\"", line, ErrInvalid)
		case q.Expect == "handoff", q.Expect == "smalltalk":
		case strings.HasPrefix(q.Expect, "faq:") && len(q.Expect) > 4:
		default:
			return nil, fmt.Errorf("line %d: %w: \"expect\" must be faq:<id>, handoff or smalltalk, got %q", line, ErrInvalid, q.Expect)
		}
		out = append(out, q)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read questions: %w", err)
	}
	return out, nil
}

// Router picks a department for a message the FAQ did not answer.
type Router interface {
	Route(text string, res Result) string
}

// EvalRow is the outcome for one question.
type EvalRow struct {
	Q                string   `json:"q"`
	Expect           string   `json:"expect"`
	ExpectDepartment string   `json:"expect_department,omitempty"`
	Decision         string   `json:"decision"`
	Answer           string   `json:"answer,omitempty"`
	Suggested        []string `json:"suggested,omitempty"`
	Related          []string `json:"related,omitempty"` // offered beside the handoff
	Department       string   `json:"department,omitempty"`
	Correct          bool     `json:"correct"`
	// Result is the row's result in the scoring format: faq:<id>, handoff or smalltalk.
	Result string `json:"result"`
	// Candidates are the top candidates, for explanations.
	Candidates []Candidate `json:"candidates,omitempty"`
	// Confidence is the model's probability for the best candidate (with a model).
	Confidence float64 `json:"confidence,omitempty"`
}

// EvalReport holds the counts of the dataset's scoring rules (see the
// dataset README): A answerable, H handoff, S smalltalk rows.
type EvalReport struct {
	Answerable    int `json:"answerable"`
	Top1Correct   int `json:"top1_correct"`
	WrongAnswers  int `json:"wrong_answers"`
	Missed        int `json:"missed_answers"`
	InSuggestions int `json:"correct_in_suggestions"`
	// InRelated: the expected entry was not answered or suggested but
	// offered beside the handoff (Result.Related).
	InRelated   int `json:"correct_in_related"`
	RankedFirst int `json:"ranked_first"` // the expected entry is the best candidate, whatever the decision
	InTop3      int `json:"in_top3"`      // the expected entry is among the three best candidates

	Handoff      int `json:"handoff"`
	FalseAnswers int `json:"false_answers"`
	HandedOff    int `json:"handed_off"`
	RoutedOK     int `json:"routed_ok"`

	Smalltalk             int `json:"smalltalk"`
	SmalltalkOK           int `json:"smalltalk_ok"`
	SmalltalkFalseAnswers int `json:"smalltalk_false_answers"`
	SmalltalkFP           int `json:"smalltalk_false_positives"`

	Suggested int `json:"suggested"` // rows with a suggest decision

	// ConfidenceAUC: how well the confidence model's probability for its
	// best candidate separates the messages whose best candidate is the
	// right entry from the rest (answerable rows with another entry first,
	// and handoff rows), over the ConfidenceRows messages the model decides
	// on (not small talk, not personal). 1 separates perfectly, 0.5 is
	// chance. It does not depend on any threshold, so a change of the model
	// or its training can be judged before thresholds are chosen. 0 without
	// a model.
	ConfidenceAUC  float64 `json:"confidence_auc,omitempty"`
	ConfidenceRows int     `json:"confidence_rows,omitempty"`

	Rows []EvalRow `json:"-"`
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// Top1 is the top-1 accuracy on answerable rows.
func (r EvalReport) Top1() float64 { return ratio(r.Top1Correct, r.Answerable) }

// FalseAnswerRate is the share of handoff rows that got an FAQ answer.
func (r EvalReport) FalseAnswerRate() float64 { return ratio(r.FalseAnswers, r.Handoff) }

// RoutingStrict is the share of handoff rows handed off to the expected department.
func (r EvalReport) RoutingStrict() float64 { return ratio(r.RoutedOK, r.Handoff) }

// RoutingConditional is RoutingStrict over the rows that were handed off.
func (r EvalReport) RoutingConditional() float64 { return ratio(r.RoutedOK, max(r.HandedOff, 1)) }

// SmalltalkRecall is the share of smalltalk rows recognised as small talk.
func (r EvalReport) SmalltalkRecall() float64 { return ratio(r.SmalltalkOK, r.Smalltalk) }

// SuggestRate is the share of answerable rows whose expected entry was the
// answer or among the suggestions.
func (r EvalReport) SuggestRate() float64 { return ratio(r.InSuggestions, r.Answerable) }

// OfferedRate is the share of answerable rows whose expected entry was the
// answer, among the suggestions or offered beside the handoff: everything
// the citizen could reach with one tap.
func (r EvalReport) OfferedRate() float64 {
	return ratio(r.InSuggestions+r.InRelated, r.Answerable)
}

// Evaluate runs every question through ix (and router for handoffs, which
// may be nil) and scores the results like the dataset's reference scorer:
// a "suggest" decision counts as a handoff.
func Evaluate(ix *Index, qs []EvalQuestion, router Router) EvalReport {
	var rep EvalReport
	m := ix.opts.Model
	if m == nil {
		m = ix.opts.Gate
	}
	var confs []float64
	var rightFirst []bool
	for _, q := range qs {
		res := ix.Match(q.Q)
		if m != nil && res.Decision != DecisionSmalltalk && !res.Personal && q.Expect != "smalltalk" {
			if cands, st := ix.search(q.Q, max(modelDepth, ix.opts.MaxCandidates+1)); len(cands) > 0 {
				ord, p := m.order(cands, messageFeatures(q.Q, st))
				confs = append(confs, p)
				rightFirst = append(rightFirst, q.Expect == "faq:"+ord[0].EntryID)
			}
		}
		row := EvalRow{Q: q.Q, Expect: q.Expect, ExpectDepartment: q.Department, Decision: string(res.Decision), Candidates: res.Candidates, Confidence: res.Confidence}
		switch res.Decision {
		case DecisionAnswer:
			row.Answer = res.Answer.EntryID
			row.Result = "faq:" + res.Answer.EntryID
		case DecisionSmalltalk:
			row.Result = "smalltalk"
		default:
			row.Result = "handoff"
			if res.Decision == DecisionSuggest {
				rep.Suggested++
				for _, c := range res.Candidates {
					row.Suggested = append(row.Suggested, c.EntryID)
				}
			}
			for _, c := range res.Related {
				row.Related = append(row.Related, c.EntryID)
			}
			if router != nil {
				row.Department = router.Route(q.Q, res)
			}
		}
		switch {
		case strings.HasPrefix(q.Expect, "faq:"):
			rep.Answerable++
			id := strings.TrimPrefix(q.Expect, "faq:")
			switch {
			case row.Result == q.Expect:
				rep.Top1Correct++
				row.Correct = true
			case strings.HasPrefix(row.Result, "faq:"):
				rep.WrongAnswers++
			default:
				rep.Missed++
			}
			if row.Result == "smalltalk" {
				rep.SmalltalkFP++
			}
			if row.Answer == id || contains(row.Suggested, id) {
				rep.InSuggestions++
			} else if contains(row.Related, id) {
				rep.InRelated++
			}
			for i, c := range ix.Ranked(q.Q, 3) {
				if c.EntryID == id {
					if i == 0 {
						rep.RankedFirst++
					}
					rep.InTop3++
				}
			}
		case q.Expect == "handoff":
			rep.Handoff++
			switch {
			case strings.HasPrefix(row.Result, "faq:"):
				rep.FalseAnswers++
			case row.Result == "handoff":
				rep.HandedOff++
				if row.Department != "" && row.Department == q.Department {
					rep.RoutedOK++
					row.Correct = true
				}
			case row.Result == "smalltalk":
				rep.SmalltalkFP++
			}
		default:
			rep.Smalltalk++
			switch {
			case row.Result == "smalltalk":
				rep.SmalltalkOK++
				row.Correct = true
			case strings.HasPrefix(row.Result, "faq:"):
				rep.SmalltalkFalseAnswers++
			}
		}
		rep.Rows = append(rep.Rows, row)
	}
	if m != nil {
		rep.ConfidenceAUC, rep.ConfidenceRows = round3(auc(confs, rightFirst)), len(confs)
	}
	return rep
}

// auc is the area under the ROC curve of scores p for the labels pos: the
// probability that a random positive scores above a random negative (ties
// count half). 0 when either class is empty.
func auc(p []float64, pos []bool) float64 {
	idx := make([]int, len(p))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return p[idx[a]] < p[idx[b]] })
	var nPos, nNeg, rankSum float64
	for i := 0; i < len(idx); {
		j := i
		for j < len(idx) && p[idx[j]] == p[idx[i]] {
			j++
		}
		// ranks i+1..j share their mean
		mean := float64(i+1+j) / 2
		for _, k := range idx[i:j] {
			if pos[k] {
				nPos++
				rankSum += mean
			} else {
				nNeg++
			}
		}
		i = j
	}
	if nPos == 0 || nNeg == 0 {
		return 0
	}
	return (rankSum - nPos*(nPos+1)/2) / (nPos * nNeg)
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// WriteText writes a human-readable summary; verbose also lists every row
// that was not correct, with what was expected, what came out and the top
// candidates.
func (r EvalReport) WriteText(w io.Writer, verbose bool) error {
	var b strings.Builder
	fmt.Fprintf(&b, "answerable:  %d  top-1 %d (%.1f %%)  wrong answers %d  missed %d  correct in answer/suggestions %d (%.1f %%)\n",
		r.Answerable, r.Top1Correct, 100*r.Top1(), r.WrongAnswers, r.Missed, r.InSuggestions, 100*r.SuggestRate())
	fmt.Fprintf(&b, "offered:     right entry answered, suggested or offered beside the handoff %d (%.1f %%)\n",
		r.InSuggestions+r.InRelated, 100*r.OfferedRate())
	fmt.Fprintf(&b, "ranking:     right entry first %d (%.1f %%)  in top 3 %d (%.1f %%)\n",
		r.RankedFirst, 100*ratio(r.RankedFirst, r.Answerable), r.InTop3, 100*ratio(r.InTop3, r.Answerable))
	fmt.Fprintf(&b, "handoff:     %d  false answers %d (%.1f %%)  handed off %d  routed ok %d  routing strict %.1f %%  conditional %.1f %%\n",
		r.Handoff, r.FalseAnswers, 100*r.FalseAnswerRate(), r.HandedOff, r.RoutedOK, 100*r.RoutingStrict(), 100*r.RoutingConditional())
	fmt.Fprintf(&b, "smalltalk:   %d  recognised %d (%.1f %%)  false answers %d  false positives (non-smalltalk rows) %d\n",
		r.Smalltalk, r.SmalltalkOK, 100*r.SmalltalkRecall(), r.SmalltalkFalseAnswers, r.SmalltalkFP)
	fmt.Fprintf(&b, "suggest decisions: %d\n", r.Suggested)
	if r.ConfidenceRows > 0 {
		fmt.Fprintf(&b, "confidence:  AUC %.3f over %d messages (the model's probability: best candidate right vs. not)\n", r.ConfidenceAUC, r.ConfidenceRows)
	}
	if verbose {
		for _, row := range r.Rows {
			if row.Correct {
				continue
			}
			exp := row.Expect
			if row.ExpectDepartment != "" {
				exp += " -> " + row.ExpectDepartment
			}
			got := row.Result
			if row.Result == "handoff" {
				got += " -> " + row.Department
			}
			if len(row.Suggested) > 0 {
				got += " (suggested " + strings.Join(row.Suggested, ", ") + ")"
			}
			if len(row.Related) > 0 {
				got += " (offered " + strings.Join(row.Related, ", ") + ")"
			}
			fmt.Fprintf(&b, "\nMISS %q\n  expected %s\n  got      %s\n", row.Q, exp, got)
			for _, c := range row.Candidates {
				fmt.Fprintf(&b, "  %.3f %-32s %s [%s]\n", c.Score, c.EntryID, c.Department, strings.Join(c.Matched, ", "))
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteJSON writes one JSON object per question, then one summary object
// {"summary": {...}} with the counts and rates.
func (r EvalReport) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for _, row := range r.Rows {
		if err := enc.Encode(row); err != nil {
			return fmt.Errorf("write eval row: %w", err)
		}
	}
	type summary struct {
		EvalReport
		Top1               float64 `json:"top1_accuracy"`
		FalseAnswerRate    float64 `json:"false_answer_rate"`
		RoutingStrict      float64 `json:"routing_accuracy_strict"`
		RoutingConditional float64 `json:"routing_accuracy_conditional"`
		SmalltalkRecall    float64 `json:"smalltalk_recall"`
		SuggestRate        float64 `json:"correct_in_suggestions_rate"`
		OfferedRate        float64 `json:"correct_offered_rate"`
	}
	s := summary{r, r.Top1(), r.FalseAnswerRate(), r.RoutingStrict(), r.RoutingConditional(), r.SmalltalkRecall(), r.SuggestRate(), r.OfferedRate()}
	if err := enc.Encode(map[string]summary{"summary": s}); err != nil {
		return fmt.Errorf("write eval summary: %w", err)
	}
	return nil
}

// LOOReport is the outcome of EvaluateVariantsLOO: every variant of every
// entry is held out of the index in turn and used as a query.
type LOOReport struct {
	Total    int `json:"total"`
	Ranked1  int `json:"ranked_first"`  // the held-out entry ranks first
	Answered int `json:"answered"`      // Match answers with the held-out entry
	Wrong    int `json:"wrong_answers"` // Match answers with another entry
}

// Top1 is the share of held-out variants answered with their own entry.
func (r LOOReport) Top1() float64 { return ratio(r.Answered, r.Total) }

// RankTop1 is the share of held-out variants whose entry ranks first.
func (r LOOReport) RankTop1() float64 { return ratio(r.Ranked1, r.Total) }

// EvaluateVariantsLOO is a self-supervised check that needs no question
// set: for every entry and variant, the entry is indexed without that
// variant and the variant is matched. It measures how well the matcher
// generalises from an entry's remaining phrasings, tags and answer to a
// new phrasing, on data that was never used to tune it. The vocabulary
// (compound splitting, typo correction) is built once from the full FAQ;
// postings, weights and phrases are rebuilt without the held-out variant.
func EvaluateVariantsLOO(entries []Entry, synonyms []Synonym, opts Options) LOOReport {
	live, corpus := liveCorpus(entries)
	an := newAnalyzer(opts, synonyms, corpus)
	cache := map[string][]german.DocTerm{}
	var rep LOOReport
	held := make([]Entry, len(live))
	for i, e := range live {
		for vi, v := range e.Variants {
			holdOutVariant(held, live, i, vi)
			ix := buildIndex(held, an, opts, cache)
			rep.Total++
			if c := ix.Search(v, 1); len(c) > 0 && c[0].EntryID == e.ID {
				rep.Ranked1++
			}
			if res := ix.Match(v); res.Decision == DecisionAnswer {
				if res.Answer.EntryID == e.ID {
					rep.Answered++
				} else {
					rep.Wrong++
				}
			}
		}
	}
	return rep
}
