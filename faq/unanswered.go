package faq

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"citybot/internal/db"
	"citybot/internal/german"
	"citybot/internal/settings"
	"citybot/staff"
)

// Retention of unanswered questions: their texts are citizen data and are
// shown only this long (settings key, a number of days), then purged.
const (
	SettingUnansweredRetentionDays = settings.UnansweredRetentionDays
	DefaultUnansweredRetentionDays = 90
)

// UnansweredRetentionDays returns the retention setting (default 90).
func (s *Store) UnansweredRetentionDays(ctx context.Context) (int, error) {
	raw, ok, err := settings.Raw(ctx, s.db, SettingUnansweredRetentionDays)
	if err != nil {
		return 0, fmt.Errorf("get retention setting: %w", err)
	}
	if !ok {
		return DefaultUnansweredRetentionDays, nil
	}
	var days int
	if err := json.Unmarshal(raw, &days); err != nil || days < 1 {
		return DefaultUnansweredRetentionDays, nil
	}
	return days, nil
}

// SetUnansweredRetentionDays changes the retention (admins only, 1..3650 days).
func (s *Store) SetUnansweredRetentionDays(ctx context.Context, a staff.Principal, days int) error {
	if a.Role != staff.RoleAdmin {
		return ErrForbidden
	}
	if days < 1 || days > 3650 {
		return &ValidationError{File: "settings", Field: SettingUnansweredRetentionDays, Msg: "must be between 1 and 3650 days"}
	}
	return db.InTx(ctx, s.db, func(tx *sqlx.Tx) error {
		if err := settings.Set(ctx, tx, SettingUnansweredRetentionDays, days); err != nil {
			return fmt.Errorf("set retention: %w", err)
		}
		return recordAudit(ctx, tx, a, "setting.update", "setting", SettingUnansweredRetentionDays, map[string]any{"value": days})
	})
}

// unansweredCutoff is the oldest creation time still visible at now.
func (s *Store) unansweredCutoff(ctx context.Context, now time.Time) (time.Time, error) {
	days, err := s.UnansweredRetentionDays(ctx)
	if err != nil {
		return time.Time{}, err
	}
	return now.AddDate(0, 0, -days), nil
}

// PurgeUnanswered deletes unanswered questions older than the retention
// (any status) and returns how many it deleted. Run it periodically.
func (s *Store) PurgeUnanswered(ctx context.Context, now time.Time) (int64, error) {
	cut, err := s.unansweredCutoff(ctx, now)
	if err != nil {
		return 0, err
	}
	res, err := s.db.ExecContext(ctx, `DELETE FROM unanswered WHERE created_at < $1`, cut)
	if err != nil {
		return 0, fmt.Errorf("purge unanswered: %w", err)
	}
	return res.RowsAffected()
}

// RecordUnanswered stores a question the bot could not answer (reason one
// of the Reason constants; entryID the entry concerned, or ""), in the
// transaction of the message that asked it. The bot calls it once per such
// question, so st runs it prepared (nil: unprepared).
func RecordUnanswered(ctx context.Context, st *db.Stmts, tx *sqlx.Tx, citizenID int64, messageID *int64, text, reason, entryID string) error {
	var eid *string
	if entryID != "" {
		eid = &entryID
	}
	if err := st.Exec(ctx, tx, `
		INSERT INTO unanswered (citizen_id, message_id, text, reason, entry_id) VALUES ($1, $2, $3, $4, $5)`,
		citizenID, messageID, text, reason, eid); err != nil {
		return fmt.Errorf("store unanswered: %w", err)
	}
	return nil
}

// CitizenUnanswered is a question recorded of one citizen, for the
// citizen's right of access (the bot's /meinedaten).
type CitizenUnanswered struct {
	ID        int64     `db:"id" json:"-"`
	Text      string    `db:"text" json:"text"`
	Reason    string    `db:"reason" json:"reason"`
	EntryID   *string   `db:"entry_id" json:"entry_id,omitempty"`
	Status    string    `db:"status" json:"status"`
	CreatedAt time.Time `db:"created_at" json:"created_at"`
}

// CitizenUnansweredOf returns the questions recorded of the citizen, oldest
// first; q is the database or a transaction.
func CitizenUnansweredOf(ctx context.Context, q sqlx.QueryerContext, citizenID int64) ([]CitizenUnanswered, error) {
	us := []CitizenUnanswered{}
	if err := sqlx.SelectContext(ctx, q, &us, `
		SELECT id, text, reason, entry_id, status, created_at
		FROM unanswered WHERE citizen_id = $1 ORDER BY id`, citizenID); err != nil {
		return nil, fmt.Errorf("list unanswered: %w", err)
	}
	return us, nil
}

// Reasons of an unanswered question (the unanswered table's reason column).
const (
	ReasonNoMatch         = "no_match"
	ReasonPersonal        = "personal"
	ReasonNotHelpful      = "not_helpful"
	ReasonNoSuggestionFit = "no_suggestion_fit"
)

// UnansweredItem is one question the bot could not answer, or whose
// answer did not help.
type UnansweredItem struct {
	ID        int64     `db:"id"`
	CitizenID int64     `db:"citizen_id"` // 0: unknown (each such question counts as its own citizen)
	Text      string    `db:"text"`
	Reason    string    `db:"reason"`
	EntryID   string    `db:"entry_id"` // the entry that did not help, or the best candidate
	Status    string    `db:"status"`
	CreatedAt time.Time `db:"created_at"`
}

// UnansweredGroup is a set of similar unanswered questions.
type UnansweredGroup struct {
	Items     []UnansweredItem // newest first
	Count     int
	Citizens  int // distinct citizens who asked: groups are ranked by it
	FirstSeen time.Time
	LastSeen  time.Time
	Terms     []string       // the most frequent normalised terms, a label
	Sample    string         // the newest text
	EntryID   string         // the entry most often involved ("" if none)
	Reasons   map[string]int // count per reason
}

// IDs returns the ids of the group's questions.
func (g UnansweredGroup) IDs() []int64 {
	out := make([]int64, len(g.Items))
	for i, it := range g.Items {
		out[i] = it.ID
	}
	return out
}

// UnansweredFilter selects unanswered questions. Rows older than the
// retention are never returned.
type UnansweredFilter struct {
	Status   string    // "open" (default), "dismissed", "resolved", "all"
	From, To time.Time // optional creation time window [From, To)
}

// DefaultGroupThreshold is the Jaccard similarity of the normalised term
// sets from which two questions fall into one group.
const DefaultGroupThreshold = 0.5

// UnansweredGroups returns the unanswered questions within retention,
// grouped by similarity, largest groups first.
func (s *Store) UnansweredGroups(ctx context.Context, f UnansweredFilter, now time.Time) ([]UnansweredGroup, error) {
	items, err := s.unansweredItems(ctx, f, now)
	if err != nil {
		return nil, err
	}
	entries, syns, err := s.matcherInputs(ctx)
	if err != nil {
		return nil, err
	}
	return GroupUnanswered(items, NewTermNormalizer(NewIndex(entries, syns).Analyzer(), syns), DefaultGroupThreshold), nil
}

// TermNormalizer reduces a question to the set of terms the grouping of
// unanswered questions compares: German stems of the content words, with
// synonyms replaced by their official terms and compounds also split into
// the parts the FAQ's vocabulary knows. Unlike the matcher it does not
// correct typos towards the vocabulary: an unknown word stays itself.
type TermNormalizer struct {
	an   *german.Analyzer
	syn  map[string][]string // normalised term -> canonical words (folded)
	maxN int                 // longest term in words
}

// NewTermNormalizer builds a normaliser on the vocabulary of an (for
// compound splitting) and the synonyms.
func NewTermNormalizer(an *german.Analyzer, syns []Synonym) *TermNormalizer {
	tn := &TermNormalizer{an: an, syn: map[string][]string{}, maxN: 1}
	for _, s := range syns {
		k := german.Normalize(s.Term)
		if k == "" {
			continue
		}
		tn.syn[k] = german.Tokens(s.Canonical)
		tn.maxN = max(tn.maxN, len(strings.Fields(k)))
	}
	return tn
}

// Terms returns the sorted, distinct terms of text.
func (tn *TermNormalizer) Terms(text string) []string {
	words := german.Tokens(text)
	set := map[string]bool{}
	addWord := func(w string) {
		if german.IsStopword(w) || strings.IndexFunc(w, func(r rune) bool { return r >= '0' && r <= '9' }) >= 0 {
			return
		}
		set[german.StemGerman(w)] = true
		if tn.an != nil {
			for _, p := range tn.an.SplitCompound(w) {
				set[german.StemGerman(p)] = true
			}
		}
	}
	for i := 0; i < len(words); {
		n := min(tn.maxN, len(words)-i)
		for ; n > 0; n-- {
			if canon, ok := tn.syn[strings.Join(words[i:i+n], " ")]; ok {
				for _, c := range canon {
					addWord(c)
				}
				break
			}
		}
		if n == 0 {
			addWord(words[i])
			n = 1
		}
		i += n
	}
	out := make([]string, 0, len(set))
	for t := range set {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

func (s *Store) unansweredItems(ctx context.Context, f UnansweredFilter, now time.Time) ([]UnansweredItem, error) {
	cut, err := s.unansweredCutoff(ctx, now)
	if err != nil {
		return nil, err
	}
	if f.From.After(cut) {
		cut = f.From
	}
	status := f.Status
	if status == "" {
		status = "open"
	}
	to := f.To
	if to.IsZero() {
		to = now.Add(24 * time.Hour)
	}
	var items []UnansweredItem
	err = s.db.SelectContext(ctx, &items, `
		SELECT id, citizen_id, text, reason, coalesce(entry_id, '') AS entry_id, status, created_at FROM unanswered
		WHERE created_at >= $1 AND created_at < $2 AND ($3 = 'all' OR status = $3)
		ORDER BY created_at, id
		LIMIT 20000`, cut, to, status)
	if err != nil {
		return nil, fmt.Errorf("list unanswered: %w", err)
	}
	return items, nil
}

// GroupUnanswered clusters questions deterministically: in order of
// creation, each question joins the first-created group whose seed (its
// first question) has the highest Jaccard similarity of terms (see
// TermNormalizer) with it, when that is at least
// threshold; otherwise it starts a group. Questions without terms are
// grouped by their normalised text. Groups are ranked by how many citizens
// they reached, then by how many questions they hold, then the newest first.
func GroupUnanswered(items []UnansweredItem, tn *TermNormalizer, threshold float64) []UnansweredGroup {
	sorted := append([]UnansweredItem(nil), items...)
	sort.SliceStable(sorted, func(i, j int) bool {
		if !sorted[i].CreatedAt.Equal(sorted[j].CreatedAt) {
			return sorted[i].CreatedAt.Before(sorted[j].CreatedAt)
		}
		return sorted[i].ID < sorted[j].ID
	})
	type group struct {
		seed  map[string]bool
		key   string // for term-less questions
		items []UnansweredItem
		terms map[string]int
	}
	var groups []*group
	byKey := map[string]*group{}
	for _, it := range sorted {
		terms := map[string]bool{}
		for _, t := range tn.Terms(it.Text) {
			terms[t] = true
		}
		var best *group
		if len(terms) == 0 {
			k := german.Normalize(it.Text)
			best = byKey[k]
			if best == nil {
				best = &group{key: k, terms: map[string]int{}}
				byKey[k] = best
				groups = append(groups, best)
			}
		} else {
			bestSim := -1.0
			for _, g := range groups {
				if g.seed == nil {
					continue
				}
				if sim := jaccard(terms, g.seed); sim >= threshold && sim > bestSim {
					best, bestSim = g, sim
				}
			}
			if best == nil {
				best = &group{seed: terms, terms: map[string]int{}}
				groups = append(groups, best)
			}
		}
		best.items = append(best.items, it)
		for t := range terms {
			best.terms[t]++
		}
	}
	out := make([]UnansweredGroup, 0, len(groups))
	for _, g := range groups {
		ug := UnansweredGroup{Count: len(g.items), Reasons: map[string]int{}}
		entryCount := map[string]int{}
		citizens := map[int64]bool{}
		for i := len(g.items) - 1; i >= 0; i-- {
			it := g.items[i]
			if it.CitizenID == 0 || !citizens[it.CitizenID] {
				ug.Citizens++
				citizens[it.CitizenID] = true
			}
			ug.Items = append(ug.Items, it)
			ug.Reasons[it.Reason]++
			if it.EntryID != "" {
				entryCount[it.EntryID]++
			}
		}
		ug.FirstSeen = g.items[0].CreatedAt
		ug.LastSeen = g.items[len(g.items)-1].CreatedAt
		ug.Sample = ug.Items[0].Text
		ug.Terms = topKeys(g.terms, 3)
		if e := topKeys(entryCount, 1); len(e) > 0 {
			ug.EntryID = e[0]
		}
		out = append(out, ug)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Citizens != out[j].Citizens {
			return out[i].Citizens > out[j].Citizens
		}
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].LastSeen.After(out[j].LastSeen)
	})
	return out
}

func jaccard(a, b map[string]bool) float64 {
	inter := 0
	for t := range a {
		if b[t] {
			inter++
		}
	}
	union := len(a) + len(b) - inter
	if union == 0 {
		return 0
	}
	return float64(inter) / float64(union)
}

// topKeys returns the n keys with the highest counts (ties: alphabetical).
func topKeys(m map[string]int, n int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if m[keys[i]] != m[keys[j]] {
			return m[keys[i]] > m[keys[j]]
		}
		return keys[i] < keys[j]
	})
	if len(keys) > n {
		keys = keys[:n]
	}
	return keys
}

// setUnansweredStatus moves open questions to status.
func (s *Store) setUnansweredStatus(ctx context.Context, tx *sqlx.Tx, ids []int64, status string) (int, error) {
	if len(ids) == 0 {
		return 0, &ValidationError{File: "unanswered", Field: "ids", Msg: "no question selected"}
	}
	res, err := tx.ExecContext(ctx, `UPDATE unanswered SET status = $2 WHERE id = ANY($1) AND status = 'open'`,
		pq.Int64Array(ids), status)
	if err != nil {
		return 0, fmt.Errorf("update unanswered: %w", err)
	}
	n, _ := res.RowsAffected()
	if n == 0 {
		return 0, fmt.Errorf("open unanswered questions %v: %w", ids, ErrNotFound)
	}
	return int(n), nil
}

// DismissUnanswered marks open questions as dismissed (nothing to do).
func (s *Store) DismissUnanswered(ctx context.Context, a staff.Principal, ids []int64) (int, error) {
	if !a.IsEditor() {
		return 0, ErrForbidden
	}
	var n int
	err := db.InTx(ctx, s.db, func(tx *sqlx.Tx) error {
		var err error
		if n, err = s.setUnansweredStatus(ctx, tx, ids, "dismissed"); err != nil {
			return err
		}
		return recordAudit(ctx, tx, a, "unanswered.dismiss", "unanswered", joinIDs(ids), map[string]any{"count": n})
	})
	return n, err
}

// AddUnansweredAsVariant adds variant (the editor's wording of the
// questions, usually one of their texts without personal details) to the
// entry as a new revision, and marks the questions resolved.
func (s *Store) AddUnansweredAsVariant(ctx context.Context, a staff.Principal, ids []int64, entryID, variant string) (Revision, error) {
	variant = strings.Join(strings.Fields(variant), " ")
	if variant == "" {
		return Revision{}, &ValidationError{File: "entry", ID: entryID, Field: "variants", Msg: "must not be empty"}
	}
	var rev Revision
	err := db.InTx(ctx, s.db, func(tx *sqlx.Tx) error {
		cur, err := lockEditable(ctx, tx, a, entryID)
		if err != nil {
			return err
		}
		next := cur
		next.Variants = append(append([]string{}, cur.Variants...), variant)
		if rev, err = s.applyChange(ctx, tx, a, cur, CleanEntry(next), ActionUpdate, AnyRevision, 0); err != nil {
			return err
		}
		n, err := s.setUnansweredStatus(ctx, tx, ids, "resolved")
		if err != nil {
			return err
		}
		return recordAudit(ctx, tx, a, "unanswered.resolve", "unanswered", joinIDs(ids),
			map[string]any{"count": n, "entry": entryID, "as": "variant"})
	})
	return rev, err
}

// CreateEntryFromUnanswered creates a new entry (a draft unless e.Status
// says otherwise) for the questions and marks them resolved.
func (s *Store) CreateEntryFromUnanswered(ctx context.Context, a staff.Principal, ids []int64, e Entry) (Revision, error) {
	e = CleanEntry(e)
	if e.Status == "" {
		e.Status = StatusDraft
	}
	if err := mayEdit(a, e.Department); err != nil {
		return Revision{}, err
	}
	var rev Revision
	err := db.InTx(ctx, s.db, func(tx *sqlx.Tx) error {
		var err error
		if rev, err = s.createEntryTx(ctx, tx, a, e); err != nil {
			return err
		}
		n, err := s.setUnansweredStatus(ctx, tx, ids, "resolved")
		if err != nil {
			return err
		}
		return recordAudit(ctx, tx, a, "unanswered.resolve", "unanswered", joinIDs(ids),
			map[string]any{"count": n, "entry": rev.EntryID, "as": "new_entry"})
	})
	return rev, err
}

// Unanswered returns one question within retention, or ErrNotFound.
func (s *Store) Unanswered(ctx context.Context, id int64, now time.Time) (UnansweredItem, error) {
	cut, err := s.unansweredCutoff(ctx, now)
	if err != nil {
		return UnansweredItem{}, err
	}
	var it UnansweredItem
	err = s.db.GetContext(ctx, &it, `SELECT id, text, reason, coalesce(entry_id, '') AS entry_id, status, created_at
		FROM unanswered WHERE id = $1 AND created_at >= $2`, id, cut)
	if db.IsNoRows(err) {
		return UnansweredItem{}, fmt.Errorf("unanswered %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return UnansweredItem{}, fmt.Errorf("get unanswered: %w", err)
	}
	return it, nil
}

func joinIDs(ids []int64) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = strconv.FormatInt(id, 10)
	}
	s := strings.Join(parts, ",")
	if len(s) > 200 {
		s = s[:200]
	}
	return s
}
