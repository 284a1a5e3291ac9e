// Package audit writes the audit log (table audit_log): who did what to
// which object, for the admin's audit view and the FAQ editor's history.
// Staff actions in the web UI, case changes, FAQ edits and retention jobs
// all record through Record, so the rows have one form.
package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
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

// Entry is one audit_log row with the name and e-mail of its user (nil for
// the system or a deleted user).
type Entry struct {
	ID         int64           `db:"id"`
	UserID     *int64          `db:"user_id"`
	UserName   *string         `db:"user_name"`
	UserEmail  *string         `db:"user_email"`
	Action     string          `db:"action"`
	ObjectType string          `db:"object_type"`
	ObjectID   string          `db:"object_id"`
	Details    json.RawMessage `db:"details"`
	At         time.Time       `db:"at"`
}

// Filter selects audit rows for List. Zero fields select everything.
type Filter struct {
	UserEmail    string   // a substring of the user's e-mail (compared as given)
	ActionPrefix string   // the action starts with this
	ObjectTypes  []string // the object type is one of these
	ObjectID     string
	From, To     time.Time // From <= at < To
	Before       int64     // keyset cursor: rows with id < Before
	Limit        int       // the page size (default 50)
}

// List returns one page of rows, newest first, and the cursor of the next
// page (0 when this is the last). q is the database or a transaction.
func List(ctx context.Context, q sqlx.QueryerContext, f Filter) ([]Entry, int64, error) {
	if f.Limit <= 0 {
		f.Limit = 50
	}
	where := []string{"true"}
	var args []any
	arg := func(v any) string { args = append(args, v); return "$" + strconv.Itoa(len(args)) }
	if f.UserEmail != "" {
		where = append(where, "u.email LIKE "+arg("%"+escapeLike(f.UserEmail)+"%"))
	}
	if f.ActionPrefix != "" {
		where = append(where, "a.action LIKE "+arg(escapeLike(f.ActionPrefix)+"%"))
	}
	if f.ObjectTypes != nil {
		where = append(where, "a.object_type = ANY("+arg(pq.StringArray(f.ObjectTypes))+")")
	}
	if f.ObjectID != "" {
		where = append(where, "a.object_id = "+arg(f.ObjectID))
	}
	if !f.From.IsZero() {
		where = append(where, "a.at >= "+arg(f.From))
	}
	if !f.To.IsZero() {
		where = append(where, "a.at < "+arg(f.To))
	}
	if f.Before > 0 {
		where = append(where, "a.id < "+arg(f.Before))
	}
	query := `SELECT a.id, a.user_id, u.name AS user_name, u.email AS user_email, a.action, a.object_type, a.object_id, a.details, a.at
		FROM audit_log a LEFT JOIN users u ON u.id = a.user_id
		WHERE ` + strings.Join(where, " AND ") + `
		ORDER BY a.id DESC LIMIT ` + strconv.Itoa(f.Limit+1)
	var out []Entry
	if err := sqlx.SelectContext(ctx, q, &out, query, args...); err != nil {
		return nil, 0, fmt.Errorf("list audit log: %w", err)
	}
	var next int64
	if len(out) > f.Limit {
		out = out[:f.Limit]
		next = out[len(out)-1].ID
	}
	return out, next, nil
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
