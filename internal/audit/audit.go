// Package audit writes the audit log (table audit_log): who did what to
// which object, for the admin's audit view and the FAQ editor's history.
// Staff actions in the web UI, case changes, FAQ edits and retention jobs
// all record through Record, so the rows have one form.
package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/jmoiron/sqlx"
)

// Record writes one audit_log row with q (the database or a transaction,
// so that an action and its record commit together). userID 0 means the
// system; details may be nil.
func Record(ctx context.Context, q sqlx.ExecerContext, userID int64, action, objectType, objectID string, details map[string]any) error {
	b := []byte("{}")
	if len(details) > 0 {
		var err error
		if b, err = json.Marshal(details); err != nil {
			return fmt.Errorf("audit details: %w", err)
		}
	}
	var uid *int64
	if userID != 0 {
		uid = &userID
	}
	if _, err := q.ExecContext(ctx, `INSERT INTO audit_log (user_id, action, object_type, object_id, details) VALUES ($1, $2, $3, $4, $5)`,
		uid, action, objectType, objectID, b); err != nil {
		return fmt.Errorf("insert audit log: %w", err)
	}
	return nil
}

// DetailsText is a row's details as compact JSON ("" when empty).
func DetailsText(details json.RawMessage) string {
	s := strings.TrimSpace(string(details))
	if s == "{}" || s == "null" {
		return ""
	}
	return s
}
