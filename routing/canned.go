package routing

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"

	"citybot/internal/audit"
	"citybot/internal/db"
	"citybot/staff"
)

// CannedAnswer is a prepared reply text of a department that staff insert
// into their replies.
type CannedAnswer struct {
	ID         int64     `db:"id"`
	Department string    `db:"department_id"`
	Title      string    `db:"title"`
	Body       string    `db:"body"`
	CreatedBy  *int64    `db:"created_by"`
	CreatedAt  time.Time `db:"created_at"`
	UpdatedAt  time.Time `db:"updated_at"`
}

const cannedColumns = `c.id, c.department_id, c.title, c.body, c.created_by, c.created_at, c.updated_at`

// auditDetails are what the audit log records of a canned answer.
func (a CannedAnswer) auditDetails() map[string]any {
	return map[string]any{"department": a.Department, "title": a.Title, "body_length": utf8.RuneCountInString(a.Body)}
}

func (a CannedAnswer) auditID() string { return strconv.FormatInt(a.ID, 10) }

func (a CannedAnswer) validate() error {
	a.Title, a.Body = strings.TrimSpace(a.Title), strings.TrimSpace(a.Body)
	switch {
	case a.Title == "" || a.Body == "":
		return fmt.Errorf("canned answer needs a title and a text: %w", ErrInvalid)
	case utf8.RuneCountInString(a.Title) > 200 || utf8.RuneCountInString(a.Body) > MaxReplyLength:
		return fmt.Errorf("canned answer too long: %w", ErrInvalid)
	}
	return nil
}

// CannedAnswers lists the canned answers of dept ("" = all the viewer's
// departments, or all for admins), by title. Viewers see and edit the canned
// answers of their own departments; admins all.
func (s *Cases) CannedAnswers(ctx context.Context, v staff.Principal, dept string) ([]CannedAnswer, error) {
	if err := checkViewer(v); err != nil {
		return nil, err
	}
	var out []CannedAnswer
	if err := sqlx.SelectContext(ctx, s.q(), &out, `SELECT `+cannedColumns+` FROM canned_answers c
		WHERE ($1 = '' OR c.department_id = $1) AND `+visible+`
		ORDER BY c.department_id, c.title, c.id`, dept, v.IsAdmin(), viewerDepartments(v)); err != nil {
		return nil, fmt.Errorf("list canned answers: %w", err)
	}
	return out, nil
}

// CannedAnswer returns one canned answer the viewer may see, else ErrNotFound.
func (s *Cases) CannedAnswer(ctx context.Context, v staff.Principal, id int64) (CannedAnswer, error) {
	return getCanned(ctx, s.q(), v, id, false)
}

func getCanned(ctx context.Context, q sqlx.QueryerContext, v staff.Principal, id int64, lock bool) (CannedAnswer, error) {
	if err := checkViewer(v); err != nil {
		return CannedAnswer{}, err
	}
	forUpdate := ""
	if lock {
		forUpdate = " FOR UPDATE"
	}
	var a CannedAnswer
	err := sqlx.GetContext(ctx, q, &a, `SELECT `+cannedColumns+` FROM canned_answers c WHERE c.id = $1 AND `+visible+forUpdate,
		id, v.IsAdmin(), viewerDepartments(v))
	if db.IsNoRows(err) {
		return CannedAnswer{}, fmt.Errorf("canned answer %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return CannedAnswer{}, fmt.Errorf("get canned answer: %w", err)
	}
	return a, nil
}

// AddCannedAnswer creates a canned answer in a.Department, which must be one
// of the viewer's departments (any, for admins). The answer and its audit
// row ("canned.create") commit together.
func (s *Cases) AddCannedAnswer(ctx context.Context, v staff.Principal, a CannedAnswer) (CannedAnswer, error) {
	if err := checkViewer(v); err != nil {
		return CannedAnswer{}, err
	}
	if err := a.validate(); err != nil {
		return CannedAnswer{}, err
	}
	if !v.IsAdmin() && !slices.Contains(v.Departments, a.Department) {
		return CannedAnswer{}, fmt.Errorf("canned answer for department %q: %w", a.Department, ErrForbidden)
	}
	var out CannedAnswer
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		err := sqlx.GetContext(ctx, tx, &out, `
			INSERT INTO canned_answers AS c (department_id, title, body, created_by) VALUES ($1, $2, $3, $4)
			RETURNING `+cannedColumns, a.Department, strings.TrimSpace(a.Title), strings.TrimSpace(a.Body), v.ID)
		if err != nil {
			if db.IsForeignKeyViolation(err) {
				return fmt.Errorf("canned answer: department %q: %w", a.Department, ErrInvalid)
			}
			return fmt.Errorf("add canned answer: %w", err)
		}
		return audit.Record(ctx, tx, v.ID, "canned.create", "canned_answer", out.auditID(), out.auditDetails())
	})
	if err != nil {
		return CannedAnswer{}, err
	}
	return out, nil
}

// UpdateCannedAnswer changes title and text (and, for a department of the
// viewer, the department) of a canned answer the viewer may see. The change
// and its audit row ("canned.update", with the answer before) commit
// together.
func (s *Cases) UpdateCannedAnswer(ctx context.Context, v staff.Principal, a CannedAnswer) error {
	if err := a.validate(); err != nil {
		return err
	}
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		old, err := getCanned(ctx, tx, v, a.ID, true)
		if err != nil {
			return err
		}
		if a.Department == "" {
			a.Department = old.Department
		}
		if !v.IsAdmin() && !slices.Contains(v.Departments, a.Department) {
			return fmt.Errorf("canned answer for department %q: %w", a.Department, ErrForbidden)
		}
		if _, err := tx.ExecContext(ctx, `
			UPDATE canned_answers SET department_id = $2, title = $3, body = $4, updated_at = now() WHERE id = $1`,
			a.ID, a.Department, strings.TrimSpace(a.Title), strings.TrimSpace(a.Body)); err != nil {
			if db.IsForeignKeyViolation(err) {
				return fmt.Errorf("canned answer: department %q: %w", a.Department, ErrInvalid)
			}
			return fmt.Errorf("update canned answer: %w", err)
		}
		a.Title, a.Body = strings.TrimSpace(a.Title), strings.TrimSpace(a.Body)
		d := a.auditDetails()
		d["before"] = old.auditDetails()
		return audit.Record(ctx, tx, v.ID, "canned.update", "canned_answer", a.auditID(), d)
	})
}

// DeleteCannedAnswer deletes a canned answer the viewer may see; the
// deletion and its audit row ("canned.delete") commit together.
func (s *Cases) DeleteCannedAnswer(ctx context.Context, v staff.Principal, id int64) error {
	if err := checkViewer(v); err != nil {
		return err
	}
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		var a CannedAnswer
		err := sqlx.GetContext(ctx, tx, &a, `DELETE FROM canned_answers c WHERE c.id = $1 AND `+visible+` RETURNING `+cannedColumns,
			id, v.IsAdmin(), viewerDepartments(v))
		if db.IsNoRows(err) {
			return fmt.Errorf("canned answer %d: %w", id, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("delete canned answer: %w", err)
		}
		return audit.Record(ctx, tx, v.ID, "canned.delete", "canned_answer", a.auditID(), a.auditDetails())
	})
}
