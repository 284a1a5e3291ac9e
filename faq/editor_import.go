package faq

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/jmoiron/sqlx"

	"citybot/internal/db"
	"citybot/staff"
)

// ImportAs is Store.Import on behalf of a user of the web UI: the same
// validation and all-or-nothing behaviour, plus the editor's rules: only
// admins import departments, editors only entries of their departments
// (also the current department of an entry that exists). Every entry that
// changes gets a revision (action import); unchanged entries are not
// counted. file names the file in validation errors ("faq.json", "faq.csv").
func (s *Store) ImportAs(ctx context.Context, a staff.Principal, ds Dataset, file string) (ImportStats, error) {
	if !a.IsEditor() || (len(ds.Departments) > 0 && a.Role != staff.RoleAdmin) {
		return ImportStats{}, ErrForbidden
	}
	for i := range ds.Entries {
		ds.Entries[i] = CleanEntry(ds.Entries[i])
		if ds.Entries[i].Status == "" {
			ds.Entries[i].Status = StatusPublished
		}
	}
	var st ImportStats
	err := db.InTx(ctx, s.db, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtext('citybot.faq.import'))`); err != nil {
			return fmt.Errorf("lock: %w", err)
		}
		known, err := knownDepartments(ctx, tx)
		if err != nil {
			return err
		}
		if err := ds.Validate(known); err != nil {
			return relabelEntries(err, file)
		}
		if err := s.checkPhrasesAgainstDB(ctx, tx, ds); err != nil {
			return relabelEntries(err, file)
		}
		for _, d := range ds.Departments {
			// The departments are staff's: it writes them, in this
			// transaction.
			inserted, err := staff.UpsertImportedDepartment(ctx, tx, d.ID, d.Name, d.Description, nonNil(d.Keywords))
			if err != nil {
				return err
			}
			if inserted {
				st.DepartmentsCreated++
			} else {
				st.DepartmentsUpdated++
			}
		}
		for i, e := range ds.Entries {
			cur, err := lockEntry(ctx, tx, e.ID)
			exists := err == nil
			if err != nil && !errors.Is(err, ErrNotFound) {
				return err
			}
			if err := mayEdit(a, e.Department); err != nil {
				return fmt.Errorf("%s: item %d (id %q): %w", file, i+1, e.ID, err)
			}
			if exists {
				if err := mayEdit(a, cur.Department); err != nil {
					return fmt.Errorf("%s: item %d (id %q): %w", file, i+1, e.ID, err)
				}
				if e.AnswerEN == "" {
					// A file without English answers (an older export, a
					// spreadsheet without the column) keeps the stored one;
					// the editor clears it.
					e.AnswerEN = cur.AnswerEN
				}
				if sameContent(cur, e) {
					continue
				}
				if _, _, err := ensureBaseline(ctx, tx, cur); err != nil {
					return err
				}
			}
			saved, err := writeEntry(ctx, tx, e, !exists)
			if err != nil {
				return err
			}
			if _, err := insertRevision(ctx, tx, a, ActionImport, saved, 0); err != nil {
				return err
			}
			if exists {
				st.EntriesUpdated++
			} else {
				st.EntriesCreated++
			}
		}
		return recordAudit(ctx, tx, a, "faq.import", "faq", file, map[string]any{
			"departments_created": st.DepartmentsCreated, "departments_updated": st.DepartmentsUpdated,
			"entries_created": st.EntriesCreated, "entries_updated": st.EntriesUpdated})
	})
	if err != nil {
		return ImportStats{}, err
	}
	return st, nil
}

// relabelEntries names the uploaded file in entry validation errors
// (Validate reports them as faq.json).
func relabelEntries(err error, file string) error {
	var ve *ValidationError
	if errors.As(err, &ve) && ve.File == "faq.json" && file != "" {
		return relabel(err, file, true)
	}
	return err
}

// ImportCSV reads the CSV exchange format and imports it with ImportAs.
func (s *Store) ImportCSV(ctx context.Context, a staff.Principal, r io.Reader) (ImportStats, error) {
	ds, err := ReadCSV(r)
	if err != nil {
		return ImportStats{}, err
	}
	return s.ImportAs(ctx, a, ds, CSVFile)
}

// ExportCSV writes all entries in the CSV exchange format.
func (s *Store) ExportCSV(ctx context.Context, w io.Writer) error {
	entries, err := s.Entries(ctx, "")
	if err != nil {
		return err
	}
	return WriteCSV(w, entries)
}
