package staff

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"citybot/internal/audit"
	"citybot/internal/db"
)

// Department is one of the city's departments, as stored. OfficeHours is
// the week's office hours as JSON (routing.WeekHours reads and validates
// it).
type Department struct {
	ID            string         `db:"id"`
	Name          string         `db:"name"`
	Description   string         `db:"description"`
	Keywords      pq.StringArray `db:"keywords"`
	Email         string         `db:"email"`
	Phone         string         `db:"phone"`
	Address       string         `db:"address"`
	OfficeHours   []byte         `db:"office_hours"`
	RetentionDays *int           `db:"retention_days"`
	IsFallback    bool           `db:"is_fallback"`
	TargetMinutes int            `db:"answer_target_minutes"`
	// FieldRetentionDays: closed field reports are deleted after this
	// many days (their photos may show people or number plates).
	FieldRetentionDays int `db:"field_report_retention_days"`
}

// DeptRef is a department's id and name, for pickers.
type DeptRef struct {
	ID   string `db:"id"`
	Name string `db:"name"`
}

const departmentColumns = `id, name, description, keywords, email, phone, address, office_hours, retention_days, is_fallback, answer_target_minutes, field_report_retention_days`

// ListDepartments returns all departments by name.
func (s *Store) ListDepartments(ctx context.Context) ([]Department, error) {
	var ds []Department
	if err := s.db.SelectContext(ctx, &ds, `SELECT `+departmentColumns+` FROM departments ORDER BY name`); err != nil {
		return nil, fmt.Errorf("list departments: %w", err)
	}
	return ds, nil
}

// DepartmentRefs returns every department's id and name, by name.
func (s *Store) DepartmentRefs(ctx context.Context) ([]DeptRef, error) {
	var ds []DeptRef
	if err := s.db.SelectContext(ctx, &ds, `SELECT id, name FROM departments ORDER BY name`); err != nil {
		return nil, fmt.Errorf("list departments: %w", err)
	}
	return ds, nil
}

// GetDepartment returns the department, or ErrNotFound.
func (s *Store) GetDepartment(ctx context.Context, id string) (Department, error) {
	var d Department
	if err := s.db.GetContext(ctx, &d, `SELECT `+departmentColumns+` FROM departments WHERE id = $1`, id); err != nil {
		if db.IsNoRows(err) {
			return d, fmt.Errorf("department %q: %w", id, ErrNotFound)
		}
		return d, fmt.Errorf("get department: %w", err)
	}
	return d, nil
}

// DepartmentInput is what an admin sets of a department (checked by the
// caller; OfficeHours is valid routing.WeekHours JSON).
type DepartmentInput struct {
	Name, Description, Email, Phone, Address string
	Keywords                                 []string
	OfficeHours                              []byte
	Retention                                *int
	TargetMinutes                            int
	FieldRetention                           int // days; 0: the default (90)
}

func (in DepartmentInput) fieldRetention() int {
	if in.FieldRetention <= 0 {
		return 90
	}
	return in.FieldRetention
}

func (in DepartmentInput) keywords() pq.StringArray {
	// Not nil: pq sends a nil array as NULL, the column is NOT NULL.
	if in.Keywords == nil {
		return pq.StringArray{}
	}
	return pq.StringArray(in.Keywords)
}

func (in DepartmentInput) hours() []byte {
	if len(in.OfficeHours) == 0 {
		return []byte("{}")
	}
	return in.OfficeHours
}

// CreateDepartment creates department id on behalf of admin by, with its
// audit row. Errors: ErrExists (the id is taken).
func (s *Store) CreateDepartment(ctx context.Context, by int64, id string, in DepartmentInput) error {
	return db.InTx(ctx, s.db, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO departments (id, name, description, keywords, email, phone, address, office_hours, retention_days, answer_target_minutes, field_report_retention_days)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
			id, in.Name, in.Description, in.keywords(), in.Email, in.Phone, in.Address, in.hours(), in.Retention, in.TargetMinutes, in.fieldRetention()); err != nil {
			if db.IsUniqueViolation(err) {
				return fmt.Errorf("department %q: %w", id, ErrExists)
			}
			return fmt.Errorf("create department: %w", err)
		}
		return audit.Record(ctx, tx, by, "department.create", "department", id, map[string]any{"name": in.Name})
	})
}

// UpdateDepartment changes department id on behalf of admin by, with its
// audit row. Errors: ErrNotFound.
func (s *Store) UpdateDepartment(ctx context.Context, by int64, id string, in DepartmentInput) error {
	return db.InTx(ctx, s.db, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE departments SET name = $2, description = $3, keywords = $4, email = $5, phone = $6,
			address = $7, office_hours = $8, retention_days = $9, answer_target_minutes = $10,
			field_report_retention_days = $11, updated_at = now() WHERE id = $1`,
			id, in.Name, in.Description, in.keywords(), in.Email, in.Phone, in.Address, in.hours(), in.Retention, in.TargetMinutes, in.fieldRetention())
		if err != nil {
			return fmt.Errorf("update department: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("department %q: %w", id, ErrNotFound)
		}
		return audit.Record(ctx, tx, by, "department.update", "department", id, map[string]any{"office_hours": string(in.hours()), "retention_days": in.Retention,
			"field_report_retention_days": in.fieldRetention()})
	})
}

// UpsertImportedDepartment creates or updates a department of an imported
// dataset (id, name, description, keywords; contact data and office hours
// stay) in the importer's transaction, and reports whether it was created.
// The first "zentrale" becomes the fallback when there is none.
func UpsertImportedDepartment(ctx context.Context, tx *sqlx.Tx, id, name, description string, keywords []string) (bool, error) {
	if keywords == nil {
		keywords = []string{}
	}
	var inserted bool
	err := tx.GetContext(ctx, &inserted, `
		INSERT INTO departments (id, name, description, keywords, is_fallback)
		VALUES ($1, $2, $3, $4, $1 = 'zentrale' AND NOT EXISTS (SELECT 1 FROM departments WHERE is_fallback))
		ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, description = EXCLUDED.description,
			keywords = EXCLUDED.keywords, updated_at = now()
		RETURNING (xmax = 0)`, id, name, description, pq.StringArray(keywords))
	if err != nil {
		return false, fmt.Errorf("department %q: %w", id, err)
	}
	return inserted, nil
}

// SetOfficeHours stores a department's office hours (JSON, validated by
// the caller); ErrNotFound when there is no such department.
func SetOfficeHours(ctx context.Context, q sqlx.ExecerContext, dept string, hours []byte) error {
	res, err := q.ExecContext(ctx, `UPDATE departments SET office_hours = $2, updated_at = now() WHERE id = $1`, dept, hours)
	if err != nil {
		return fmt.Errorf("set office hours: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("department %q: %w", dept, ErrNotFound)
	}
	return nil
}

// SetOfficeHoursIfEmpty stores a department's office hours when it exists
// and has none yet (the demo's).
func SetOfficeHoursIfEmpty(ctx context.Context, q sqlx.ExecerContext, dept string, hours []byte) error {
	if _, err := q.ExecContext(ctx, `UPDATE departments SET office_hours = $2, updated_at = now()
		WHERE id = $1 AND office_hours = '{}'::jsonb`, dept, hours); err != nil {
		return fmt.Errorf("office hours of %s: %w", dept, err)
	}
	return nil
}
