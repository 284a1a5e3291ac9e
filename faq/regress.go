package faq

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"

	"citybot/internal/db"
	"citybot/staff"
)

// ExpectStaff is the expected outcome of a saved question that the bot
// must not answer from the FAQ but hand to staff.
const ExpectStaff = "staff"

// RegressionQuestion is a citizen question editors saved with the outcome
// they expect: an entry id, or ExpectStaff.
type RegressionQuestion struct {
	ID        int64     `db:"id"`
	Question  string    `db:"question"`
	Expect    string    `db:"expect"`
	Note      string    `db:"note"`
	CreatedBy *int64    `db:"created_by"`
	CreatedAt time.Time `db:"created_at"`
}

const regressionColumns = `id, question, expect, note, created_by, created_at`

// Regressions returns the saved questions, oldest first.
func (s *Store) Regressions(ctx context.Context) ([]RegressionQuestion, error) {
	var out []RegressionQuestion
	if err := s.db.SelectContext(ctx, &out, `SELECT `+regressionColumns+` FROM faq_regressions ORDER BY id`); err != nil {
		return nil, fmt.Errorf("list regression questions: %w", err)
	}
	return out, nil
}

// AddRegression saves a question with its expected outcome (an existing
// entry's id, or ExpectStaff).
func (s *Store) AddRegression(ctx context.Context, a staff.Principal, q RegressionQuestion) (RegressionQuestion, error) {
	if !a.IsEditor() {
		return RegressionQuestion{}, ErrForbidden
	}
	q.Question = strings.Join(strings.Fields(q.Question), " ")
	q.Expect = strings.TrimSpace(q.Expect)
	q.Note = strings.TrimSpace(q.Note)
	ve := func(field, msg string) error {
		return &ValidationError{File: "regression", Field: field, Msg: msg}
	}
	switch {
	case q.Question == "":
		return RegressionQuestion{}, ve("question", "must not be empty")
	case utf8.RuneCountInString(q.Question) > 1000:
		return RegressionQuestion{}, ve("question", "is longer than 1000 characters")
	case q.Expect == "":
		return RegressionQuestion{}, ve("expect", "must be an entry or staff")
	}
	var out RegressionQuestion
	err := db.InTx(ctx, s.db, func(tx *sqlx.Tx) error {
		if q.Expect != ExpectStaff {
			var n int
			if err := tx.GetContext(ctx, &n, `SELECT count(*) FROM faq_entries WHERE id = $1`, q.Expect); err != nil {
				return fmt.Errorf("check entry: %w", err)
			}
			if n == 0 {
				return ve("expect", fmt.Sprintf("unknown entry %q", q.Expect))
			}
		}
		err := tx.GetContext(ctx, &out, `INSERT INTO faq_regressions (question, expect, note, created_by) VALUES ($1, $2, $3, $4)
			RETURNING `+regressionColumns, q.Question, q.Expect, q.Note, author(a))
		if db.IsUniqueViolation(err) {
			return ve("question", "is saved already")
		}
		if err != nil {
			return fmt.Errorf("insert regression question: %w", err)
		}
		return recordAudit(ctx, tx, a, "regression.create", "regression", strconv.FormatInt(out.ID, 10),
			map[string]any{"expect": out.Expect})
	})
	return out, err
}

// DeleteRegression removes a saved question.
func (s *Store) DeleteRegression(ctx context.Context, a staff.Principal, id int64) error {
	if !a.IsEditor() {
		return ErrForbidden
	}
	return db.InTx(ctx, s.db, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM faq_regressions WHERE id = $1`, id)
		if err != nil {
			return fmt.Errorf("delete regression question: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("regression question %d: %w", id, ErrNotFound)
		}
		return recordAudit(ctx, tx, a, "regression.delete", "regression", strconv.FormatInt(id, 10), nil)
	})
}

// EvalQuestions returns the saved questions in the form `citybot faq eval`
// scores: expect "faq:<id>" or "handoff".
func (s *Store) EvalQuestions(ctx context.Context) ([]EvalQuestion, error) {
	qs, err := s.Regressions(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]EvalQuestion, len(qs))
	for i, q := range qs {
		out[i] = EvalQuestion{Q: q.Question, Expect: "handoff"}
		if q.Expect != ExpectStaff {
			out[i].Expect = "faq:" + q.Expect
		}
	}
	return out, nil
}

// Outcome is what the bot does with a question, reduced to what a citizen
// sees: an answer (which entry), suggestions (which entries), small talk,
// or a handoff to staff.
type Outcome struct {
	Decision  Decision
	EntryID   string   // Decision answer
	Suggested []string // Decision suggest, best first
}

// OutcomeOf reduces a match result to its outcome.
func OutcomeOf(r Result) Outcome {
	o := Outcome{Decision: r.Decision}
	switch r.Decision {
	case DecisionAnswer:
		if r.Answer != nil {
			o.EntryID = r.Answer.EntryID
		}
	case DecisionSuggest:
		for _, c := range r.Candidates {
			o.Suggested = append(o.Suggested, c.EntryID)
		}
	}
	return o
}

// Key is a comparable form: "answer:<id>", "suggest:<id>,<id>", "none",
// "smalltalk". Suggestions compare as a set.
func (o Outcome) Key() string {
	switch o.Decision {
	case DecisionAnswer:
		return "answer:" + o.EntryID
	case DecisionSuggest:
		s := append([]string(nil), o.Suggested...)
		sort.Strings(s)
		return "suggest:" + strings.Join(s, ",")
	}
	return string(o.Decision)
}

// SuggestedList is the suggested entry ids joined with ", " (for display).
func (o Outcome) SuggestedList() string { return strings.Join(o.Suggested, ", ") }

// Meets reports whether the outcome is the expected one: the entry's
// answer, or for ExpectStaff no answer (suggestions count as a handoff, as
// in Evaluate).
func (o Outcome) Meets(expect string) bool {
	if expect == ExpectStaff {
		return o.Decision == DecisionNone || o.Decision == DecisionSuggest
	}
	return o.Decision == DecisionAnswer && o.EntryID == expect
}

// RegressionCheck is one saved question before and after a change.
type RegressionCheck struct {
	Question          RegressionQuestion
	Before, After     Outcome
	BeforeOK, AfterOK bool
	BeforeScore       float64 // best candidate's score
	AfterScore        float64
}

// Changed reports whether the change alters what the bot does.
func (c RegressionCheck) Changed() bool { return c.Before.Key() != c.After.Key() }

// Fixed and Broken tell whether the change makes the question meet (or
// fail) its expectation.
func (c RegressionCheck) Fixed() bool  { return !c.BeforeOK && c.AfterOK }
func (c RegressionCheck) Broken() bool { return c.BeforeOK && !c.AfterOK }

// CheckRegressions runs every question through both indexes.
func CheckRegressions(before, after *Index, qs []RegressionQuestion) []RegressionCheck {
	out := make([]RegressionCheck, len(qs))
	for i, q := range qs {
		rb, ra := before.Match(q.Question), after.Match(q.Question)
		c := RegressionCheck{Question: q, Before: OutcomeOf(rb), After: OutcomeOf(ra)}
		c.BeforeOK, c.AfterOK = c.Before.Meets(q.Expect), c.After.Meets(q.Expect)
		if len(rb.Candidates) > 0 {
			c.BeforeScore = rb.Candidates[0].Score
		}
		if len(ra.Candidates) > 0 {
			c.AfterScore = ra.Candidates[0].Score
		}
		out[i] = c
	}
	return out
}

// RegressionReport runs the saved questions against the published FAQ
// (Before and After are the same).
func (s *Store) RegressionReport(ctx context.Context) ([]RegressionCheck, error) {
	entries, syns, err := s.matcherInputs(ctx)
	if err != nil {
		return nil, err
	}
	qs, err := s.Regressions(ctx)
	if err != nil {
		return nil, err
	}
	ix := NewIndex(entries, syns)
	return CheckRegressions(ix, ix, qs), nil
}

// WouldChange returns the saved questions whose outcome changes when the
// given entries replace the published ones (an entry with status draft or
// archived drops out of the bot's FAQ).
func (s *Store) WouldChange(ctx context.Context, changes ...Entry) ([]RegressionCheck, error) {
	entries, syns, err := s.matcherInputs(ctx)
	if err != nil {
		return nil, err
	}
	qs, err := s.Regressions(ctx)
	if err != nil {
		return nil, err
	}
	for i := range changes {
		changes[i] = CleanEntry(changes[i])
	}
	before := NewIndex(entries, syns)
	after := NewIndex(withEntries(entries, changes...), syns)
	var out []RegressionCheck
	for _, c := range CheckRegressions(before, after, qs) {
		if c.Changed() {
			out = append(out, c)
		}
	}
	return out, nil
}

// WouldChangeOnPublish is WouldChange for Publish(entryID): the pending
// draft (or the entry itself) as published.
func (s *Store) WouldChangeOnPublish(ctx context.Context, entryID string) ([]RegressionCheck, error) {
	e, err := s.PendingEntry(ctx, entryID)
	if err != nil {
		return nil, err
	}
	return s.WouldChange(ctx, e)
}
