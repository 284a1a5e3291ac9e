package faq

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/lib/pq"

	"citybot/internal/audit"
)

// AuditRow is one audit_log row about an object of the FAQ editor.
type AuditRow struct {
	ID         int64           `db:"id"`
	UserID     *int64          `db:"user_id"`
	UserName   string          `db:"user_name"`
	Action     string          `db:"action"`
	ObjectType string          `db:"object_type"`
	ObjectID   string          `db:"object_id"`
	Details    json.RawMessage `db:"details"`
	At         time.Time       `db:"at"`
}

// DetailsText is the details as compact JSON ("" when empty).
func (r AuditRow) DetailsText() string { return audit.DetailsText(r.Details) }

// EditorAuditTypes are the object types of the editor's audit log: FAQ
// entries, synonyms, regression questions, imports, unanswered questions
// and settings.
func EditorAuditTypes() []string {
	return []string{"faq_entry", "synonym", "regression", "faq", "unanswered", "setting"}
}

// AuditFilter selects audit rows; Before is the keyset cursor (id).
type AuditFilter struct {
	ObjectType string // one of EditorAuditTypes, "" for all of them
	ObjectID   string
	Before     int64
}

const auditPage = 50

// EditorAudit returns a page of the audit log about the editor's objects,
// newest first, and the cursor of the next page (0 on the last).
func (s *Store) EditorAudit(ctx context.Context, f AuditFilter) ([]AuditRow, int64, error) {
	types := EditorAuditTypes()
	if f.ObjectType != "" {
		if !slices.Contains(types, f.ObjectType) {
			return nil, 0, &ValidationError{File: "audit", Field: "object_type", Msg: "unknown object type"}
		}
		types = []string{f.ObjectType}
	}
	q := `SELECT a.id, a.user_id, coalesce(u.name, '') AS user_name, a.action, a.object_type, a.object_id, a.details, a.at
		FROM audit_log a LEFT JOIN users u ON u.id = a.user_id
		WHERE a.object_type = ANY($1) AND ($2 = '' OR a.object_id = $2) AND ($3 = 0 OR a.id < $3)
		ORDER BY a.id DESC LIMIT ` + strconv.Itoa(auditPage+1)
	var rows []AuditRow
	if err := s.db.SelectContext(ctx, &rows, q, pq.StringArray(types), f.ObjectID, f.Before); err != nil {
		return nil, 0, fmt.Errorf("list audit log: %w", err)
	}
	var next int64
	if len(rows) > auditPage {
		rows = rows[:auditPage]
		next = rows[len(rows)-1].ID
	}
	return rows, next, nil
}
