package faq

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"

	"citybot/internal/db"
	"citybot/internal/german"
	"citybot/staff"
)

// SynonymItem is a synonym editors added, with its row id.
type SynonymItem struct {
	ID        int64     `db:"id"`
	Term      string    `db:"term"`
	Canonical string    `db:"canonical"`
	CreatedAt time.Time `db:"created_at"`
}

const (
	maxSynonymTerm      = 100
	maxSynonymCanonical = 200
)

// CleanSynonym lowercases the term and collapses spaces in both sides.
func CleanSynonym(s Synonym) Synonym {
	return Synonym{
		Term:      strings.ToLower(strings.Join(strings.Fields(s.Term), " ")),
		Canonical: strings.Join(strings.Fields(s.Canonical), " "),
	}
}

// ValidateSynonym checks a cleaned synonym, naming the field.
func ValidateSynonym(s Synonym) error {
	ve := func(field, msg string) error {
		return &ValidationError{File: "synonym", ID: s.Term, Field: field, Msg: msg}
	}
	switch {
	case s.Term == "":
		return ve("term", "must not be empty")
	case utf8.RuneCountInString(s.Term) > maxSynonymTerm:
		return ve("term", fmt.Sprintf("is longer than %d characters", maxSynonymTerm))
	case len(german.Tokens(s.Term)) == 0:
		return ve("term", "must contain a word")
	case s.Canonical == "":
		return ve("canonical", "must not be empty")
	case utf8.RuneCountInString(s.Canonical) > maxSynonymCanonical:
		return ve("canonical", fmt.Sprintf("is longer than %d characters", maxSynonymCanonical))
	case len(german.Tokens(s.Canonical)) == 0:
		return ve("canonical", "must contain a word")
	case german.Normalize(s.Term) == german.Normalize(s.Canonical):
		return ve("canonical", "is the same as the term")
	}
	return nil
}

// SynonymItems returns the editors' synonyms ordered by term.
func (s *Store) SynonymItems(ctx context.Context) ([]SynonymItem, error) {
	var out []SynonymItem
	if err := s.db.SelectContext(ctx, &out, `SELECT id, term, canonical, created_at FROM synonyms ORDER BY term`); err != nil {
		return nil, fmt.Errorf("list synonyms: %w", err)
	}
	return out, nil
}

// CreateSynonym adds a synonym (term lowercased; a term may appear once).
// The matcher of every instance reloads through faq_changed.
func (s *Store) CreateSynonym(ctx context.Context, a staff.Principal, syn Synonym) (SynonymItem, error) {
	syn = CleanSynonym(syn)
	if !a.IsEditor() {
		return SynonymItem{}, ErrForbidden
	}
	if err := ValidateSynonym(syn); err != nil {
		return SynonymItem{}, err
	}
	var it SynonymItem
	err := db.InTx(ctx, s.db, func(tx *sqlx.Tx) error {
		err := tx.GetContext(ctx, &it, `INSERT INTO synonyms (term, canonical) VALUES ($1, $2) RETURNING id, term, canonical, created_at`,
			syn.Term, syn.Canonical)
		if db.IsUniqueViolation(err) {
			return &ValidationError{File: "synonym", ID: syn.Term, Field: "term", Msg: "exists already"}
		}
		if err != nil {
			return fmt.Errorf("insert synonym: %w", err)
		}
		return recordAudit(ctx, tx, a, "synonym.create", "synonym", strconv.FormatInt(it.ID, 10),
			map[string]any{"term": it.Term, "canonical": it.Canonical})
	})
	return it, err
}

// UpdateSynonym changes a synonym's term and canonical term.
func (s *Store) UpdateSynonym(ctx context.Context, a staff.Principal, id int64, syn Synonym) (SynonymItem, error) {
	syn = CleanSynonym(syn)
	if !a.IsEditor() {
		return SynonymItem{}, ErrForbidden
	}
	if err := ValidateSynonym(syn); err != nil {
		return SynonymItem{}, err
	}
	var it SynonymItem
	err := db.InTx(ctx, s.db, func(tx *sqlx.Tx) error {
		var old SynonymItem
		err := tx.GetContext(ctx, &old, `SELECT id, term, canonical, created_at FROM synonyms WHERE id = $1 FOR UPDATE`, id)
		if db.IsNoRows(err) {
			return fmt.Errorf("synonym %d: %w", id, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("get synonym: %w", err)
		}
		err = tx.GetContext(ctx, &it, `UPDATE synonyms SET term = $2, canonical = $3 WHERE id = $1 RETURNING id, term, canonical, created_at`,
			id, syn.Term, syn.Canonical)
		if db.IsUniqueViolation(err) {
			return &ValidationError{File: "synonym", ID: syn.Term, Field: "term", Msg: "exists already"}
		}
		if err != nil {
			return fmt.Errorf("update synonym: %w", err)
		}
		return recordAudit(ctx, tx, a, "synonym.update", "synonym", strconv.FormatInt(id, 10), map[string]any{
			"term": it.Term, "canonical": it.Canonical, "old_term": old.Term, "old_canonical": old.Canonical})
	})
	return it, err
}

// DeleteSynonym removes a synonym.
func (s *Store) DeleteSynonym(ctx context.Context, a staff.Principal, id int64) error {
	if !a.IsEditor() {
		return ErrForbidden
	}
	return db.InTx(ctx, s.db, func(tx *sqlx.Tx) error {
		var old SynonymItem
		err := tx.GetContext(ctx, &old, `DELETE FROM synonyms WHERE id = $1 RETURNING id, term, canonical, created_at`, id)
		if db.IsNoRows(err) {
			return fmt.Errorf("synonym %d: %w", id, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("delete synonym: %w", err)
		}
		return recordAudit(ctx, tx, a, "synonym.delete", "synonym", strconv.FormatInt(id, 10),
			map[string]any{"term": old.Term, "canonical": old.Canonical})
	})
}
