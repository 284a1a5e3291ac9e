// Package settings owns the table settings: run-time settings that admins
// change in the web UI, one JSON value per key. It is plumbing: it knows
// the keys, not what they mean. Each key belongs to one package, which
// alone reads and writes it through Get and Set (and validates the value):
//
//	key                        package    value
//	retention_days             routing    days closed cases are kept (number)
//	unanswered_retention_days  faq        days unanswered questions are kept (number)
//	feed_internal_hosts        broadcast  hosts whose feeds may be internal (array of strings)
//
// A new key gets a constant here and a row in this list.
package settings

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jmoiron/sqlx"

	"citybot/internal/db"
)

// The keys, by owning package.
const (
	CaseRetentionDays       = "retention_days"            // routing
	UnansweredRetentionDays = "unanswered_retention_days" // faq
	FeedInternalHosts       = "feed_internal_hosts"       // broadcast
)

// Raw returns the stored JSON of key; ok is false when it is not set.
// q is the database or a transaction.
func Raw(ctx context.Context, q sqlx.QueryerContext, key string) (raw json.RawMessage, ok bool, err error) {
	var b []byte
	err = sqlx.GetContext(ctx, q, &b, `SELECT value FROM settings WHERE key = $1`, key)
	if db.IsNoRows(err) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("get setting %s: %w", key, err)
	}
	return json.RawMessage(b), true, nil
}

// Get decodes the value of key into v; ok is false (and v untouched) when
// it is not set.
func Get(ctx context.Context, q sqlx.QueryerContext, key string, v any) (ok bool, err error) {
	raw, ok, err := Raw(ctx, q, key)
	if err != nil || !ok {
		return ok, err
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return true, fmt.Errorf("setting %s: %w", key, err)
	}
	return true, nil
}

// Set stores v (encoded as JSON) under key, replacing what was there. q is
// the database or a transaction (with the audit row of the change).
func Set(ctx context.Context, q sqlx.ExecerContext, key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("setting %s: %w", key, err)
	}
	if _, err := q.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES ($1, $2)
		ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()`, key, string(b)); err != nil {
		return fmt.Errorf("set setting %s: %w", key, err)
	}
	return nil
}
