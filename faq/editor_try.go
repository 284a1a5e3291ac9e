package faq

import (
	"context"
	"slices"

	"citybot/internal/german"
)

// matcherInputs loads what the bot's matcher is built from: all entries
// (NewIndex keeps the published ones) and the built-in plus the editors'
// synonyms.
func (s *Store) matcherInputs(ctx context.Context) ([]Entry, []Synonym, error) {
	entries, err := s.Entries(ctx, "")
	if err != nil {
		return nil, nil, err
	}
	extra, err := s.Synonyms(ctx)
	if err != nil {
		return nil, nil, err
	}
	return entries, append(german.DefaultSynonyms(), extra...), nil
}

// withEntries returns entries with each of changes replacing the entry of
// the same id (or added when new). The input is not modified.
func withEntries(entries []Entry, changes ...Entry) []Entry {
	out := slices.Clone(entries)
	for _, c := range changes {
		i := slices.IndexFunc(out, func(e Entry) bool { return e.ID == c.ID })
		if i >= 0 {
			out[i] = c
		} else {
			out = append(out, c)
		}
	}
	return out
}

// TrySide is what the bot would do with a question on one version of the FAQ.
type TrySide struct {
	Result Result
	// AnswerText is the answer the bot would send (Decision answer).
	AnswerText string
}

// TryResult compares the bot's reaction to a question on the published FAQ
// and with the editor's draft applied.
type TryResult struct {
	Question  string
	Published TrySide
	Draft     *TrySide // nil when no draft was given
	// Changed: the draft changes the outcome (decision, answer or suggestions).
	Changed bool
}

// TryIt tells what the bot would answer to question with the published FAQ,
// and with draft (when not nil) swapped in as if it were published. The
// result carries the top candidates' scores and the words that matched.
// The indexes are built with opts (the bot's: Live.Options).
func (s *Store) TryIt(ctx context.Context, question string, draft *Entry, opts Options) (TryResult, error) {
	entries, syns, err := s.matcherInputs(ctx)
	if err != nil {
		return TryResult{}, err
	}
	return TryWith(entries, syns, question, draft, opts), nil
}

// TryDraft is TryIt with the entry's pending change (its draft, or the
// entry itself as if published).
func (s *Store) TryDraft(ctx context.Context, question, entryID string, opts Options) (TryResult, error) {
	e, err := s.PendingEntry(ctx, entryID)
	if err != nil {
		return TryResult{}, err
	}
	return s.TryIt(ctx, question, &e, opts)
}

// Try is TryIt on given entries and synonyms with DefaultOptions.
func Try(entries []Entry, syns []Synonym, question string, draft *Entry) TryResult {
	return TryWith(entries, syns, question, draft, DefaultOptions())
}

// TryWith is Try with the index built with opts.
func TryWith(entries []Entry, syns []Synonym, question string, draft *Entry, opts Options) TryResult {
	side := func(entries []Entry) TrySide {
		res := NewIndexWithOptions(entries, syns, opts).Match(question)
		ts := TrySide{Result: res}
		if res.Decision == DecisionAnswer && res.Answer != nil {
			for _, e := range entries {
				if e.ID == res.Answer.EntryID {
					ts.AnswerText = e.Answer
					break
				}
			}
		}
		return ts
	}
	tr := TryResult{Question: question, Published: side(entries)}
	if draft != nil {
		d := CleanEntry(*draft)
		d.Status = StatusPublished
		ds := side(withEntries(entries, d))
		tr.Draft = &ds
		tr.Changed = OutcomeOf(tr.Published.Result).Key() != OutcomeOf(ds.Result).Key() ||
			tr.Published.AnswerText != ds.AnswerText
	}
	return tr
}
