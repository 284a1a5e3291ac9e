package faq

import (
	"context"
	"encoding/json"
	"slices"
	"time"

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
	es, next, err := audit.List(ctx, s.db, audit.Filter{ObjectTypes: types, ObjectID: f.ObjectID, Before: f.Before, Limit: auditPage})
	if err != nil {
		return nil, 0, err
	}
	rows := make([]AuditRow, len(es))
	for i, e := range es {
		rows[i] = AuditRow{ID: e.ID, UserID: e.UserID, Action: e.Action, ObjectType: e.ObjectType, ObjectID: e.ObjectID, Details: e.Details, At: e.At}
		if e.UserName != nil {
			rows[i].UserName = *e.UserName
		}
	}
	return rows, next, nil
}
