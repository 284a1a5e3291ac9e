package faq

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"citybot/internal/db"
)

// Store reads and writes departments, FAQ entries and synonyms.
type Store struct {
	db *sqlx.DB
}

// NewStore returns a Store on d.
func NewStore(d *sqlx.DB) *Store { return &Store{db: d} }

type departmentRow struct {
	ID          string         `db:"id"`
	Name        string         `db:"name"`
	Description string         `db:"description"`
	Keywords    pq.StringArray `db:"keywords"`
}

type entryRow struct {
	Entry
	VariantsArr pq.StringArray `db:"variants"`
	TagsArr     pq.StringArray `db:"tags"`
}

func (r entryRow) entry() Entry {
	e := r.Entry
	e.Variants = []string(r.VariantsArr)
	e.Tags = []string(r.TagsArr)
	if e.Variants == nil {
		e.Variants = []string{}
	}
	if e.Tags == nil {
		e.Tags = []string{}
	}
	return e
}

const entryColumns = `id, department_id, question, variants, answer, answer_en, tags, status, created_at, updated_at`

// Departments returns all departments ordered by name.
func (s *Store) Departments(ctx context.Context) ([]Department, error) {
	var rows []departmentRow
	if err := s.db.SelectContext(ctx, &rows, `SELECT id, name, description, keywords FROM departments ORDER BY name`); err != nil {
		return nil, fmt.Errorf("list departments: %w", err)
	}
	out := make([]Department, len(rows))
	for i, r := range rows {
		out[i] = Department{ID: r.ID, Name: r.Name, Description: r.Description, Keywords: []string(r.Keywords)}
		if out[i].Keywords == nil {
			out[i].Keywords = []string{}
		}
	}
	return out, nil
}

// Entries returns the entries with the given status ("" for all), ordered by id.
func (s *Store) Entries(ctx context.Context, status string) ([]Entry, error) {
	var rows []entryRow
	q := `SELECT ` + entryColumns + ` FROM faq_entries WHERE ($1 = '' OR status = $1) ORDER BY id`
	if err := s.db.SelectContext(ctx, &rows, q, status); err != nil {
		return nil, fmt.Errorf("list faq entries: %w", err)
	}
	out := make([]Entry, len(rows))
	for i, r := range rows {
		out[i] = r.entry()
	}
	return out, nil
}

// Entry returns one entry by id, or ErrNotFound.
func (s *Store) Entry(ctx context.Context, id string) (Entry, error) {
	var r entryRow
	err := s.db.GetContext(ctx, &r, `SELECT `+entryColumns+` FROM faq_entries WHERE id = $1`, id)
	if db.IsNoRows(err) {
		return Entry{}, fmt.Errorf("faq entry %q: %w", id, ErrNotFound)
	}
	if err != nil {
		return Entry{}, fmt.Errorf("get faq entry: %w", err)
	}
	return r.entry(), nil
}

// CountEntries returns the number of FAQ entries of any status.
func (s *Store) CountEntries(ctx context.Context) (int, error) {
	var n int
	if err := s.db.GetContext(ctx, &n, `SELECT count(*) FROM faq_entries`); err != nil {
		return 0, fmt.Errorf("count faq entries: %w", err)
	}
	return n, nil
}

// Synonyms returns the synonyms editors added, ordered by term.
func (s *Store) Synonyms(ctx context.Context) ([]Synonym, error) {
	var out []Synonym
	if err := s.db.SelectContext(ctx, &out, `SELECT term, canonical FROM synonyms ORDER BY term`); err != nil {
		return nil, fmt.Errorf("list synonyms: %w", err)
	}
	return out, nil
}
