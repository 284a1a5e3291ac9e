package faq

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"citybot/internal/db"
	"citybot/staff"
)

// Revision actions.
const (
	ActionCreate  = "create"
	ActionUpdate  = "update"
	ActionStatus  = "status"
	ActionRestore = "restore"
	ActionPublish = "publish"
	ActionImport  = "import"
)

// Revision is one recorded state of an entry: the entry after a change,
// who made it (AuthorID 0: the system or an import) and when.
type Revision struct {
	ID           int64
	EntryID      string
	Action       string
	Entry        Entry
	AuthorID     int64
	AuthorName   string
	RestoredFrom int64 // for ActionRestore: the revision restored
	At           time.Time
}

const revisionColumns = `id, entry_id, action, snapshot, author_id, restored_from, at`

type revisionRow struct {
	ID           int64     `db:"id"`
	EntryID      string    `db:"entry_id"`
	Action       string    `db:"action"`
	Snapshot     []byte    `db:"snapshot"`
	AuthorID     *int64    `db:"author_id"`
	RestoredFrom *int64    `db:"restored_from"`
	At           time.Time `db:"at"`
	AuthorName   string    `db:"author_name"`
}

func (r revisionRow) revision() (Revision, error) {
	rev := Revision{ID: r.ID, EntryID: r.EntryID, Action: r.Action, AuthorName: r.AuthorName, At: r.At}
	if r.AuthorID != nil {
		rev.AuthorID = *r.AuthorID
	}
	if r.RestoredFrom != nil {
		rev.RestoredFrom = *r.RestoredFrom
	}
	if err := json.Unmarshal(r.Snapshot, &rev.Entry); err != nil {
		return Revision{}, fmt.Errorf("revision %d: snapshot: %w", r.ID, err)
	}
	rev.Entry.Variants, rev.Entry.Tags = nonNil(rev.Entry.Variants), nonNil(rev.Entry.Tags)
	return rev, nil
}

const revisionSelect = `SELECT r.id, r.entry_id, r.action, r.snapshot, r.author_id, r.restored_from, r.at,
	coalesce(u.name, '') AS author_name
	FROM faq_revisions r LEFT JOIN users u ON u.id = r.author_id`

// History returns the revisions of an entry, newest first. An entry that
// was never changed since it was imported has none.
func (s *Store) History(ctx context.Context, entryID string) ([]Revision, error) {
	var rows []revisionRow
	if err := s.db.SelectContext(ctx, &rows, revisionSelect+` WHERE r.entry_id = $1 ORDER BY r.id DESC`, entryID); err != nil {
		return nil, fmt.Errorf("list revisions: %w", err)
	}
	out := make([]Revision, 0, len(rows))
	for _, r := range rows {
		rev, err := r.revision()
		if err != nil {
			return nil, err
		}
		out = append(out, rev)
	}
	return out, nil
}

// Revision returns one revision by id, or ErrNotFound.
func (s *Store) Revision(ctx context.Context, id int64) (Revision, error) {
	var r revisionRow
	err := s.db.GetContext(ctx, &r, revisionSelect+` WHERE r.id = $1`, id)
	if db.IsNoRows(err) {
		return Revision{}, fmt.Errorf("revision %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return Revision{}, fmt.Errorf("get revision: %w", err)
	}
	return r.revision()
}

func (s *Store) revisionTx(ctx context.Context, tx *sqlx.Tx, id int64) (Revision, error) {
	var r revisionRow
	err := tx.GetContext(ctx, &r, revisionSelect+` WHERE r.id = $1`, id)
	if db.IsNoRows(err) {
		return Revision{}, fmt.Errorf("revision %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return Revision{}, fmt.Errorf("get revision: %w", err)
	}
	return r.revision()
}

// RevisionDiff returns the diff from the revision before id to id (for the
// first revision: from an empty entry).
func (s *Store) RevisionDiff(ctx context.Context, id int64) (EntryDiff, error) {
	rev, err := s.Revision(ctx, id)
	if err != nil {
		return EntryDiff{}, err
	}
	var prev revisionRow
	err = s.db.GetContext(ctx, &prev, revisionSelect+` WHERE r.entry_id = $1 AND r.id < $2 ORDER BY r.id DESC LIMIT 1`, rev.EntryID, id)
	if db.IsNoRows(err) {
		return DiffEntries(Entry{}, rev.Entry), nil
	}
	if err != nil {
		return EntryDiff{}, fmt.Errorf("previous revision: %w", err)
	}
	p, err := prev.revision()
	if err != nil {
		return EntryDiff{}, err
	}
	return DiffEntries(p.Entry, rev.Entry), nil
}

// Draft is the pending change of an entry: editors work on it without
// affecting the bot; Publish applies it.
type Draft struct {
	EntryID      string
	Entry        Entry
	BaseRevision int64 // the revision the draft was saved against
	AuthorID     int64
	AuthorName   string
	UpdatedAt    time.Time
}

type draftRow struct {
	EntryID      string    `db:"entry_id"`
	Snapshot     []byte    `db:"snapshot"`
	BaseRevision *int64    `db:"base_revision"`
	AuthorID     *int64    `db:"author_id"`
	AuthorName   string    `db:"author_name"`
	UpdatedAt    time.Time `db:"updated_at"`
}

func (r draftRow) draft() (Draft, error) {
	d := Draft{EntryID: r.EntryID, AuthorName: r.AuthorName, UpdatedAt: r.UpdatedAt}
	if r.BaseRevision != nil {
		d.BaseRevision = *r.BaseRevision
	}
	if r.AuthorID != nil {
		d.AuthorID = *r.AuthorID
	}
	if err := json.Unmarshal(r.Snapshot, &d.Entry); err != nil {
		return Draft{}, fmt.Errorf("draft %s: snapshot: %w", r.EntryID, err)
	}
	d.Entry.Variants, d.Entry.Tags = nonNil(d.Entry.Variants), nonNil(d.Entry.Tags)
	return d, nil
}

const draftSelect = `SELECT d.entry_id, d.snapshot, d.base_revision, d.author_id, coalesce(u.name, '') AS author_name, d.updated_at
	FROM faq_drafts d LEFT JOIN users u ON u.id = d.author_id`

// Draft returns the pending draft of an entry, or ErrNotFound.
func (s *Store) Draft(ctx context.Context, entryID string) (Draft, error) {
	var r draftRow
	err := s.db.GetContext(ctx, &r, draftSelect+` WHERE d.entry_id = $1`, entryID)
	if db.IsNoRows(err) {
		return Draft{}, fmt.Errorf("draft of %q: %w", entryID, ErrNotFound)
	}
	if err != nil {
		return Draft{}, fmt.Errorf("get draft: %w", err)
	}
	return r.draft()
}

// SaveDraft stores e as the pending change of the existing entry e.ID,
// replacing an earlier draft. The bot keeps answering with the current
// entry until the draft is published. The draft is validated like an update.
func (s *Store) SaveDraft(ctx context.Context, a staff.Principal, e Entry) (Draft, error) {
	e = CleanEntry(e)
	var d Draft
	err := db.InTx(ctx, s.db, func(tx *sqlx.Tx) error {
		cur, err := lockEntry(ctx, tx, e.ID)
		if err != nil {
			return err
		}
		if e.Department == "" {
			e.Department = cur.Department
		}
		e.Status = cur.Status
		if err := mayEdit(a, cur.Department, e.Department); err != nil {
			return err
		}
		if err := s.validateEntry(ctx, tx, e); err != nil {
			return err
		}
		base, _, err := ensureBaseline(ctx, tx, cur)
		if err != nil {
			return err
		}
		var r draftRow
		err = tx.GetContext(ctx, &r, `
			WITH up AS (
				INSERT INTO faq_drafts (entry_id, snapshot, base_revision, author_id) VALUES ($1, $2, $3, $4)
				ON CONFLICT (entry_id) DO UPDATE SET snapshot = EXCLUDED.snapshot, base_revision = EXCLUDED.base_revision,
					author_id = EXCLUDED.author_id, updated_at = now()
				RETURNING entry_id, snapshot, base_revision, author_id, updated_at)
			SELECT up.entry_id, up.snapshot, up.base_revision, up.author_id, coalesce(u.name, '') AS author_name, up.updated_at
			FROM up LEFT JOIN users u ON u.id = up.author_id`, e.ID, snapshotOf(e), base, author(a))
		if err != nil {
			return fmt.Errorf("save draft: %w", err)
		}
		if d, err = r.draft(); err != nil {
			return err
		}
		return recordAudit(ctx, tx, a, "faq.draft.save", "faq_entry", e.ID, map[string]any{"base_revision": base})
	})
	return d, err
}

// DiscardDraft deletes the pending draft of an entry.
func (s *Store) DiscardDraft(ctx context.Context, a staff.Principal, entryID string) error {
	return db.InTx(ctx, s.db, func(tx *sqlx.Tx) error {
		return discardDraftTx(ctx, tx, a, entryID)
	})
}

func discardDraftTx(ctx context.Context, tx *sqlx.Tx, a staff.Principal, entryID string) error {
	if _, err := lockEditable(ctx, tx, a, entryID); err != nil {
		return err
	}
	res, err := tx.ExecContext(ctx, `DELETE FROM faq_drafts WHERE entry_id = $1`, entryID)
	if err != nil {
		return fmt.Errorf("discard draft: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("draft of %q: %w", entryID, ErrNotFound)
	}
	return recordAudit(ctx, tx, a, "faq.draft.discard", "faq_entry", entryID, nil)
}

// Publish makes an entry live: its pending draft, if any, is applied, and
// the status becomes published, as one revision (action publish). A draft
// saved against an older revision than the entry's latest fails with
// ErrConflict (someone changed the entry meanwhile: save the draft again
// to rebase it). Every instance's matcher reloads through faq_changed.
func (s *Store) Publish(ctx context.Context, a staff.Principal, entryID string) (Revision, error) {
	var rev Revision
	err := db.InTx(ctx, s.db, func(tx *sqlx.Tx) error {
		cur, err := lockEditable(ctx, tx, a, entryID)
		if err != nil {
			return err
		}
		next := cur
		base := AnyRevision
		var r draftRow
		err = tx.GetContext(ctx, &r, draftSelect+` WHERE d.entry_id = $1`, entryID)
		switch {
		case err == nil:
			d, err := r.draft()
			if err != nil {
				return err
			}
			if err := mayEdit(a, d.Entry.Department); err != nil {
				return err
			}
			next, base = d.Entry, d.BaseRevision
			if _, err := tx.ExecContext(ctx, `DELETE FROM faq_drafts WHERE entry_id = $1`, entryID); err != nil {
				return fmt.Errorf("delete draft: %w", err)
			}
		case !db.IsNoRows(err):
			return fmt.Errorf("get draft: %w", err)
		}
		next.Status = StatusPublished
		if sameContent(cur, next) {
			return fmt.Errorf("faq entry %q is published and has no draft: %w", entryID, ErrConflict)
		}
		rev, err = s.applyChange(ctx, tx, a, cur, next, ActionPublish, base, 0)
		return err
	})
	return rev, err
}

// PendingEntry returns the entry as it would be after Publish: the draft
// applied (or the entry itself) with status published. For "try it" and
// the would-change check before publishing.
func (s *Store) PendingEntry(ctx context.Context, entryID string) (Entry, error) {
	d, err := s.Draft(ctx, entryID)
	if err == nil {
		e := d.Entry
		e.Status = StatusPublished
		return e, nil
	}
	if !errors.Is(err, ErrNotFound) {
		return Entry{}, err
	}
	e, err := s.Entry(ctx, entryID)
	if err != nil {
		return Entry{}, err
	}
	e.Status = StatusPublished
	return e, nil
}
