package faq

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"citybot/internal/apperr"
	"citybot/internal/audit"
	"citybot/internal/db"
	"citybot/internal/german"
	"citybot/staff"
)

// Errors of the editor functions.
var (
	// ErrForbidden: the actor may not change this entry (another
	// department's, or a role without editing rights).
	ErrForbidden = apperr.New(apperr.Forbidden, "faq: forbidden")
	// ErrConflict: the entry changed since the editor loaded it (a stale
	// form or draft), or the object already exists.
	ErrConflict = apperr.New(apperr.Conflict, "faq: conflict")
)

// mayEdit refuses a change by a of entries of the departments: editors
// change the entries of their departments, admins all entries; other
// roles nothing (staff.Principal.CanEdit).
func mayEdit(a staff.Principal, depts ...string) error {
	for _, d := range depts {
		if !a.CanEdit(d) {
			return fmt.Errorf("department %q: %w", d, ErrForbidden)
		}
	}
	return nil
}

// author is a's user id as a revision's author (nil: the system).
func author(a staff.Principal) *int64 {
	if a.ID == 0 {
		return nil
	}
	id := a.ID
	return &id
}

// AnyRevision, as the base revision of UpdateEntry, skips the check that
// the entry has not changed since the editor loaded it.
const AnyRevision int64 = -1

// CleanEntry trims the entry's texts and drops empty and repeated variants
// and tags (form input: one variant per line).
func CleanEntry(e Entry) Entry {
	e.ID = strings.TrimSpace(e.ID)
	e.Department = strings.TrimSpace(e.Department)
	e.Question = strings.TrimSpace(e.Question)
	e.Answer = strings.TrimSpace(strings.ReplaceAll(e.Answer, "\r\n", "\n"))
	e.AnswerEN = strings.TrimSpace(strings.ReplaceAll(e.AnswerEN, "\r\n", "\n"))
	e.Status = strings.TrimSpace(e.Status)
	e.Variants = cleanList(e.Variants)
	e.Tags = cleanList(e.Tags)
	return e
}

func cleanList(in []string) []string {
	out := []string{}
	seen := map[string]bool{}
	for _, s := range in {
		s = strings.Join(strings.Fields(s), " ")
		k := strings.ToLower(s)
		if s == "" || seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, s)
	}
	return out
}

// sameContent reports whether a and b hold the same editable content.
func sameContent(a, b Entry) bool {
	return a.ID == b.ID && a.Department == b.Department && a.Question == b.Question && a.Answer == b.Answer && a.AnswerEN == b.AnswerEN &&
		a.Status == b.Status && slices.Equal(nonNil(a.Variants), nonNil(b.Variants)) && slices.Equal(nonNil(a.Tags), nonNil(b.Tags))
}

// validateEntry checks one entry like an import would (fields, department,
// questions and variants unique across entries), naming the field.
func (s *Store) validateEntry(ctx context.Context, tx *sqlx.Tx, e Entry) error {
	known, err := knownDepartments(ctx, tx)
	if err != nil {
		return err
	}
	ds := Dataset{Entries: []Entry{e}}
	err = ds.Validate(known)
	if err == nil {
		err = s.checkPhrasesAgainstDB(ctx, tx, ds)
	}
	return relabel(err, "entry", false)
}

// knownDepartments returns the ids of the departments in the database, as
// Dataset.Validate takes them.
func knownDepartments(ctx context.Context, tx *sqlx.Tx) (map[string]bool, error) {
	var ids []string
	if err := tx.SelectContext(ctx, &ids, `SELECT id FROM departments`); err != nil {
		return nil, fmt.Errorf("list departments: %w", err)
	}
	known := map[string]bool{}
	for _, id := range ids {
		known[id] = true
	}
	return known, nil
}

// relabel renames the file of a ValidationError (and drops the item
// number when keepIndex is false), leaving other errors alone.
func relabel(err error, file string, keepIndex bool) error {
	var ve *ValidationError
	if errors.As(err, &ve) {
		c := *ve
		c.File = file
		if !keepIndex {
			c.Index = 0
		}
		return &c
	}
	return err
}

// lockEntry reads an entry for update within tx.
func lockEntry(ctx context.Context, tx *sqlx.Tx, id string) (Entry, error) {
	var r entryRow
	err := tx.GetContext(ctx, &r, `SELECT `+entryColumns+` FROM faq_entries WHERE id = $1 FOR UPDATE`, id)
	if db.IsNoRows(err) {
		return Entry{}, fmt.Errorf("faq entry %q: %w", id, ErrNotFound)
	}
	if err != nil {
		return Entry{}, fmt.Errorf("get faq entry: %w", err)
	}
	return r.entry(), nil
}

// lockEditable is lockEntry for an actor who must be allowed to edit the
// entry's department.
func lockEditable(ctx context.Context, tx *sqlx.Tx, a staff.Principal, id string) (Entry, error) {
	cur, err := lockEntry(ctx, tx, id)
	if err != nil {
		return Entry{}, err
	}
	if err := mayEdit(a, cur.Department); err != nil {
		return Entry{}, err
	}
	return cur, nil
}

func writeEntry(ctx context.Context, tx *sqlx.Tx, e Entry, create bool) (Entry, error) {
	q := `UPDATE faq_entries SET department_id = $2, question = $3, variants = $4, answer = $5, tags = $6,
			status = $7, answer_en = $8, updated_at = now() WHERE id = $1 RETURNING ` + entryColumns
	if create {
		q = `INSERT INTO faq_entries (id, department_id, question, variants, answer, tags, status, answer_en)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING ` + entryColumns
	}
	var r entryRow
	err := tx.GetContext(ctx, &r, q, e.ID, e.Department, e.Question, pq.StringArray(nonNil(e.Variants)),
		e.Answer, pq.StringArray(nonNil(e.Tags)), e.Status, e.AnswerEN)
	if create && db.IsUniqueViolation(err) {
		return Entry{}, &ValidationError{File: "entry", ID: e.ID, Field: "id", Msg: "an entry with this id exists already"}
	}
	if err != nil {
		return Entry{}, fmt.Errorf("write faq entry %q: %w", e.ID, err)
	}
	return r.entry(), nil
}

// snapshotOf is the revision form of an entry (the exchange format).
func snapshotOf(e Entry) []byte {
	e.Variants, e.Tags = nonNil(e.Variants), nonNil(e.Tags)
	b, _ := json.Marshal(e)
	return b
}

// ensureBaseline records the current state of an entry that has no
// revision yet (imported or created before revisions existed), so that its
// first change has something to diff against and to restore.
// It returns the latest revision and whether it was just created.
func ensureBaseline(ctx context.Context, tx *sqlx.Tx, e Entry) (int64, bool, error) {
	var last int64
	err := tx.GetContext(ctx, &last, `SELECT coalesce(max(id), 0) FROM faq_revisions WHERE entry_id = $1`, e.ID)
	if err != nil {
		return 0, false, fmt.Errorf("latest revision: %w", err)
	}
	if last != 0 {
		return last, false, nil
	}
	at := e.UpdatedAt
	if at.IsZero() {
		at = time.Now()
	}
	err = tx.GetContext(ctx, &last, `INSERT INTO faq_revisions (entry_id, action, snapshot, at) VALUES ($1, 'import', $2, $3) RETURNING id`,
		e.ID, snapshotOf(e), at)
	if err != nil {
		return 0, false, fmt.Errorf("baseline revision: %w", err)
	}
	return last, true, nil
}

func insertRevision(ctx context.Context, tx *sqlx.Tx, a staff.Principal, action string, e Entry, restoredFrom int64) (Revision, error) {
	var from *int64
	if restoredFrom != 0 {
		from = &restoredFrom
	}
	var r revisionRow
	err := tx.GetContext(ctx, &r, `
		WITH ins AS (
			INSERT INTO faq_revisions (entry_id, action, snapshot, author_id, restored_from)
			VALUES ($1, $2, $3, $4, $5) RETURNING `+revisionColumns+`)
		SELECT ins.*, coalesce(u.name, '') AS author_name FROM ins LEFT JOIN users u ON u.id = ins.author_id`,
		e.ID, action, snapshotOf(e), author(a), from)
	if err != nil {
		return Revision{}, fmt.Errorf("insert revision: %w", err)
	}
	return r.revision()
}

// recordAudit writes an audit_log row within tx (same columns as the admin's
// audit log view reads).
func recordAudit(ctx context.Context, tx *sqlx.Tx, a staff.Principal, action, objectType, objectID string, details map[string]any) error {
	return audit.Record(ctx, tx, a.ID, action, objectType, objectID, details)
}

// CreateEntry creates an entry (status draft unless given) and its first
// revision. An empty id is derived from the question.
func (s *Store) CreateEntry(ctx context.Context, a staff.Principal, e Entry) (Revision, error) {
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
		rev, err = s.createEntryTx(ctx, tx, a, e)
		return err
	})
	return rev, err
}

func (s *Store) createEntryTx(ctx context.Context, tx *sqlx.Tx, a staff.Principal, e Entry) (Revision, error) {
	if e.ID == "" {
		id, err := uniqueSlug(ctx, tx, e.Question)
		if err != nil {
			return Revision{}, err
		}
		e.ID = id
	}
	if err := s.validateEntry(ctx, tx, e); err != nil {
		return Revision{}, err
	}
	saved, err := writeEntry(ctx, tx, e, true)
	if err != nil {
		return Revision{}, err
	}
	rev, err := insertRevision(ctx, tx, a, ActionCreate, saved, 0)
	if err != nil {
		return Revision{}, err
	}
	err = recordAudit(ctx, tx, a, "faq.create", "faq_entry", saved.ID, map[string]any{"revision": rev.ID, "status": saved.Status})
	return rev, err
}

// UpdateEntry saves the editable fields of an existing entry (question,
// variants, answer, tags, department and status) as a new revision.
// baseRevision is the revision the editor started from (EntryView.Revision);
// when the entry changed since, the update fails with ErrConflict. Pass
// AnyRevision to skip that check. An update that changes nothing returns
// the latest revision and writes nothing.
func (s *Store) UpdateEntry(ctx context.Context, a staff.Principal, e Entry, baseRevision int64) (Revision, error) {
	var rev Revision
	err := db.InTx(ctx, s.db, func(tx *sqlx.Tx) (err error) {
		rev, err = s.updateEntryTx(ctx, tx, a, e, baseRevision)
		return err
	})
	return rev, err
}

// UpdateEntryOverDraft is UpdateEntry for a form that showed the entry's
// pending draft: the update and the discarding of the draft it supersedes
// (if there still is one) commit together, each with its audit row.
func (s *Store) UpdateEntryOverDraft(ctx context.Context, a staff.Principal, e Entry, baseRevision int64) (Revision, error) {
	var rev Revision
	err := db.InTx(ctx, s.db, func(tx *sqlx.Tx) (err error) {
		if rev, err = s.updateEntryTx(ctx, tx, a, e, baseRevision); err != nil {
			return err
		}
		if err := discardDraftTx(ctx, tx, a, strings.TrimSpace(e.ID)); err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
		return nil
	})
	return rev, err
}

func (s *Store) updateEntryTx(ctx context.Context, tx *sqlx.Tx, a staff.Principal, e Entry, baseRevision int64) (Revision, error) {
	e = CleanEntry(e)
	cur, err := lockEntry(ctx, tx, e.ID)
	if err != nil {
		return Revision{}, err
	}
	if e.Status == "" {
		e.Status = cur.Status
	}
	if e.Department == "" {
		e.Department = cur.Department
	}
	if err := mayEdit(a, cur.Department, e.Department); err != nil {
		return Revision{}, err
	}
	return s.applyChange(ctx, tx, a, cur, e, "update", baseRevision, 0)
}

// applyChange validates next and writes it over cur with a revision and an
// audit row. It is the one write path of the editor.
func (s *Store) applyChange(ctx context.Context, tx *sqlx.Tx, a staff.Principal, cur, next Entry, action string, baseRevision, restoredFrom int64) (Revision, error) {
	last, created, err := ensureBaseline(ctx, tx, cur)
	if err != nil {
		return Revision{}, err
	}
	// An editor who loaded the entry before it had any revision saw revision 0.
	if baseRevision != AnyRevision && baseRevision != last && !(created && baseRevision == 0) {
		return Revision{}, fmt.Errorf("faq entry %q changed since revision %d (now %d): %w", cur.ID, baseRevision, last, ErrConflict)
	}
	next.ID = cur.ID
	if sameContent(cur, next) && action != "restore" {
		return s.revisionTx(ctx, tx, last)
	}
	if err := s.validateEntry(ctx, tx, next); err != nil {
		return Revision{}, err
	}
	saved, err := writeEntry(ctx, tx, next, false)
	if err != nil {
		return Revision{}, err
	}
	rev, err := insertRevision(ctx, tx, a, action, saved, restoredFrom)
	if err != nil {
		return Revision{}, err
	}
	details := map[string]any{"revision": rev.ID}
	if cur.Status != saved.Status {
		details["status"] = saved.Status
	}
	if cur.Department != saved.Department {
		details["department"] = saved.Department
	}
	if restoredFrom != 0 {
		details["restored_from"] = restoredFrom
	}
	if err := recordAudit(ctx, tx, a, "faq."+action, "faq_entry", cur.ID, details); err != nil {
		return Revision{}, err
	}
	return rev, nil
}

// SetStatus changes an entry's status (draft, published, archived) as a
// new revision. Publishing or archiving reaches the bot's matcher on every
// instance through the faq_changed notification.
func (s *Store) SetStatus(ctx context.Context, a staff.Principal, id, status string) (Revision, error) {
	switch status {
	case StatusDraft, StatusPublished, StatusArchived:
	default:
		return Revision{}, &ValidationError{File: "entry", ID: id, Field: "status", Msg: "must be draft, published or archived"}
	}
	var rev Revision
	err := db.InTx(ctx, s.db, func(tx *sqlx.Tx) error {
		cur, err := lockEditable(ctx, tx, a, id)
		if err != nil {
			return err
		}
		next := cur
		next.Status = status
		rev, err = s.applyChange(ctx, tx, a, cur, next, "status", AnyRevision, 0)
		return err
	})
	return rev, err
}

// Restore makes the content of an older revision (question, variants,
// answer, tags, department) the entry's current content, as a new revision
// that names the restored one. The entry keeps its current status: a
// restore never takes an answer off the bot or publishes a draft.
func (s *Store) Restore(ctx context.Context, a staff.Principal, revisionID int64) (Revision, error) {
	var rev Revision
	err := db.InTx(ctx, s.db, func(tx *sqlx.Tx) error {
		old, err := s.revisionTx(ctx, tx, revisionID)
		if err != nil {
			return err
		}
		cur, err := lockEntry(ctx, tx, old.EntryID)
		if err != nil {
			return err
		}
		if err := mayEdit(a, cur.Department, old.Entry.Department); err != nil {
			return err
		}
		next := old.Entry
		next.Status = cur.Status
		rev, err = s.applyChange(ctx, tx, a, cur, next, "restore", AnyRevision, old.ID)
		return err
	})
	return rev, err
}

// EntryView is an entry as the editor shows it: the entry, its latest
// revision (the base for UpdateEntry) and its pending draft, if any.
type EntryView struct {
	Entry    Entry
	Revision int64 // latest revision id, 0 when the entry has none yet
	Draft    *Draft
}

// EntryView returns an entry with its latest revision id and pending draft.
func (s *Store) EntryView(ctx context.Context, id string) (EntryView, error) {
	e, err := s.Entry(ctx, id)
	if err != nil {
		return EntryView{}, err
	}
	v := EntryView{Entry: e}
	if err := s.db.GetContext(ctx, &v.Revision, `SELECT coalesce(max(id), 0) FROM faq_revisions WHERE entry_id = $1`, id); err != nil {
		return EntryView{}, fmt.Errorf("latest revision: %w", err)
	}
	d, err := s.Draft(ctx, id)
	switch {
	case err == nil:
		v.Draft = &d
	case !errors.Is(err, ErrNotFound):
		return EntryView{}, err
	}
	return v, nil
}

// Search limits of the editor's list: a query is cut to MaxSearchRunes
// characters and its first MaxSearchWords distinct words, which one
// statement looks for (each must occur).
const (
	MaxSearchRunes = 200
	MaxSearchWords = 8
)

// SearchWords are the words of a list query as searched: lower-case,
// distinct, at most MaxSearchWords of the first MaxSearchRunes characters.
func SearchWords(q string) []string {
	if r := []rune(q); len(r) > MaxSearchRunes {
		q = string(r[:MaxSearchRunes])
	}
	var out []string
	for _, w := range strings.Fields(strings.ToLower(q)) {
		if !slices.Contains(out, w) {
			out = append(out, w)
		}
		if len(out) == MaxSearchWords {
			break
		}
	}
	return out
}

// EntryFilter selects entries for the editor's list.
type EntryFilter struct {
	Query      string // words in question, variants, answer or tags (case-insensitive)
	Department string
	Tag        string
	Status     string
}

// EntryListItem is one row of the editor's list.
type EntryListItem struct {
	Entry
	HasDraft bool `db:"has_draft"`
}

// ListEntries returns the entries matching f, ordered by department and
// question. The FAQ is small (hundreds of entries): no pagination.
func (s *Store) ListEntries(ctx context.Context, f EntryFilter) ([]EntryListItem, error) {
	q := `SELECT ` + prefixed("e.", entryColumns) + `, EXISTS (SELECT 1 FROM faq_drafts d WHERE d.entry_id = e.id) AS has_draft
		FROM faq_entries e
		WHERE ($1 = '' OR e.department_id = $1)
		  AND ($2 = '' OR e.status = $2)
		  AND ($3 = '' OR EXISTS (SELECT 1 FROM unnest(e.tags) t WHERE lower(t) = lower($3)))`
	args := []any{f.Department, f.Status, strings.TrimSpace(f.Tag)}
	if words := SearchWords(f.Query); len(words) > 0 {
		pats := make([]string, len(words))
		for i, w := range words {
			pats[i] = "%" + escapeLikeFAQ(w) + "%"
		}
		args = append(args, pq.StringArray(pats))
		q += ` AND lower(e.id || ' ' || e.question || ' ' || e.answer || ' ' || array_to_string(e.variants, ' ') || ' ' || array_to_string(e.tags, ' ')) LIKE ALL ($4::text[])`
	}
	q += ` ORDER BY e.department_id, lower(e.question), e.id`
	var rows []struct {
		entryRow
		HasDraft bool `db:"has_draft"`
	}
	if err := s.db.SelectContext(ctx, &rows, q, args...); err != nil {
		return nil, fmt.Errorf("list faq entries: %w", err)
	}
	out := make([]EntryListItem, len(rows))
	for i, r := range rows {
		out[i] = EntryListItem{Entry: r.entry(), HasDraft: r.HasDraft}
	}
	return out, nil
}

// Tags returns all tags in use, sorted, for the list's filter.
func (s *Store) Tags(ctx context.Context) ([]string, error) {
	var out []string
	if err := s.db.SelectContext(ctx, &out, `SELECT DISTINCT t FROM faq_entries, unnest(tags) t ORDER BY t`); err != nil {
		return nil, fmt.Errorf("list tags: %w", err)
	}
	return out, nil
}

func prefixed(p, cols string) string {
	parts := strings.Split(cols, ", ")
	for i := range parts {
		parts[i] = p + parts[i]
	}
	return strings.Join(parts, ", ")
}

func escapeLikeFAQ(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// Slugify derives an entry id from a question: folded, ASCII letters and
// digits joined by dashes, at most 60 characters.
func Slugify(s string) string {
	toks := german.Tokens(s)
	var b strings.Builder
	for _, t := range toks {
		var w strings.Builder
		for _, r := range t {
			if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
				w.WriteRune(r)
			}
		}
		if w.Len() == 0 {
			continue
		}
		if b.Len()+w.Len()+1 > 60 {
			break
		}
		if b.Len() > 0 {
			b.WriteByte('-')
		}
		b.WriteString(w.String())
	}
	if b.Len() == 0 {
		return "eintrag"
	}
	return b.String()
}

func uniqueSlug(ctx context.Context, tx *sqlx.Tx, question string) (string, error) {
	base := Slugify(question)
	for i := 1; i < 1000; i++ {
		id := base
		if i > 1 {
			id = fmt.Sprintf("%s-%d", base, i)
		}
		var n int
		if err := tx.GetContext(ctx, &n, `SELECT count(*) FROM faq_entries WHERE id = $1`, id); err != nil {
			return "", fmt.Errorf("check id: %w", err)
		}
		if n == 0 {
			return id, nil
		}
	}
	return "", fmt.Errorf("no free id for %q: %w", base, ErrConflict)
}
