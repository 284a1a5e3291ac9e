package faq

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"
	"strings"
	"time"
)

// DefaultRetrainAfter is how long Live waits after the last change of the
// published FAQ before it retrains the confidence model on it: editors
// often publish several entries in a row, and one training takes some
// seconds of CPU.
const DefaultRetrainAfter = 2 * time.Minute

// Fingerprint identifies what a confidence model is trained on: the
// published entries (order does not matter) and the synonyms. A model
// whose FAQ field equals the fingerprint of the current FAQ needs no
// retraining.
func Fingerprint(entries []Entry, synonyms []Synonym) string {
	live, _ := liveCorpus(entries)
	type fp struct {
		ID, Department, Question, Answer string
		Variants, Tags                   []string
	}
	rows := make([]fp, 0, len(live))
	for _, e := range live {
		rows = append(rows, fp{e.ID, e.Department, e.Question, e.Answer, e.Variants, e.Tags})
	}
	slices.SortFunc(rows, func(a, b fp) int { return strings.Compare(a.ID, b.ID) })
	syns := slices.Clone(synonyms)
	slices.SortFunc(syns, func(a, b Synonym) int {
		if c := strings.Compare(a.Term, b.Term); c != 0 {
			return c
		}
		return strings.Compare(a.Canonical, b.Canonical)
	})
	b, _ := json.Marshal(struct {
		Entries  []fp
		Synonyms []Synonym
	}{rows, syns})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:12])
}

// trainJob is the FAQ a retraining is due for.
type trainJob struct {
	entries  []Entry
	synonyms []Synonym
}

// wantRetrain notes that the published FAQ differs from what the current
// gate model was trained on. Called with l.mu held.
func (l *Live) wantRetrain(j trainJob) {
	l.pending = &j
	select {
	case l.retrain <- struct{}{}:
	default:
	}
}

// retrainLoop retrains the confidence model after the published FAQ
// changed and stayed unchanged for RetrainAfter, then rebuilds the index
// with it. The index keeps matching with the previous model meanwhile.
func (l *Live) retrainLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-l.retrain:
		}
		// debounce: wait until no change came for RetrainAfter
		for quiet := false; !quiet; {
			select {
			case <-ctx.Done():
				return
			case <-l.retrain:
			case <-time.After(l.RetrainAfter):
				quiet = true
			}
		}
		l.mu.Lock()
		j := l.pending
		l.pending = nil
		l.mu.Unlock()
		if j == nil {
			continue
		}
		start := time.Now()
		m, err := Train(j.entries, j.synonyms, DefaultOptions())
		if err != nil {
			l.logger.Warn("faq model not retrained; the previous one stays", "err", err, "entries", len(j.entries))
			continue
		}
		l.gate.Store(m)
		l.logger.Info("faq model retrained on the published FAQ", "entries", len(j.entries), "took_ms", time.Since(start).Milliseconds(),
			"answered_right", m.Fit.Answered, "false_answers", m.Fit.FalseAnswerRate)
		if err := l.Reload(ctx); err != nil {
			l.logger.Error("faq reload after retraining", "err", err)
		}
	}
}
