package routing

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"citybot/internal/audit"
	"citybot/internal/jobs"
	"citybot/internal/settings"
)

// RetentionSetting is the settings key of the global retention period of
// closed cases, in days (a JSON number). A department's retention_days
// overrides it; without both, CasesOptions.RetentionDays applies.
const RetentionSetting = settings.CaseRetentionDays

// DefaultRetentionDays applies when neither the department, the setting nor
// the options say otherwise.
const DefaultRetentionDays = 90

const retentionBatch = 500

// GlobalRetentionDays returns the global retention period: the setting, else
// the configured default.
func (s *Cases) GlobalRetentionDays(ctx context.Context) (int, error) {
	raw, ok, err := settings.Raw(ctx, s.q(), RetentionSetting)
	if err != nil {
		return 0, fmt.Errorf("retention setting: %w", err)
	}
	if !ok {
		return s.retentionDefault(), nil
	}
	var days int
	if err := json.Unmarshal(raw, &days); err != nil || days <= 0 {
		var str string // tolerate "90"
		if json.Unmarshal(raw, &str) == nil {
			if d, err := strconv.Atoi(str); err == nil && d > 0 {
				return d, nil
			}
		}
		return 0, fmt.Errorf("retention setting %s: %w", raw, ErrInvalid)
	}
	return days, nil
}

// SetGlobalRetentionDays stores the global retention period.
func (s *Cases) SetGlobalRetentionDays(ctx context.Context, days int) error {
	if days <= 0 || days > 36500 {
		return fmt.Errorf("retention of %d days: %w", days, ErrInvalid)
	}
	if err := settings.Set(ctx, s.q(), RetentionSetting, days); err != nil {
		return fmt.Errorf("set retention: %w", err)
	}
	return nil
}

func (s *Cases) retentionDefault() int {
	if s.opt.RetentionDays > 0 {
		return s.opt.RetentionDays
	}
	return DefaultRetentionDays
}

// RunRetention deletes the closed cases whose retention period (the
// department's retention_days, else the global one) has passed, together
// with their messages (and so the outbox rows and files they carried), events
// and read marks. It works in batches that lock with SKIP LOCKED, so several
// instances can run it at once. It returns the number of deleted cases.
func (s *Cases) RunRetention(ctx context.Context) (int, error) {
	days, err := s.GlobalRetentionDays(ctx)
	if err != nil {
		return 0, err
	}
	total := 0
	for {
		n, err := s.retentionBatch(ctx, days)
		total += n
		if err != nil {
			return total, err
		}
		if n < retentionBatch {
			return total, nil
		}
	}
}

func (s *Cases) retentionBatch(ctx context.Context, globalDays int) (int, error) {
	var n int
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		var ids pq.Int64Array
		if err := tx.GetContext(ctx, &ids, `
			SELECT coalesce(array_agg(id), '{}') FROM (
				SELECT c.id FROM cases c JOIN departments d ON d.id = c.department_id
				WHERE c.status = 'closed'
				  AND c.closed_at < now() - make_interval(days => CASE WHEN c.field_report
				      THEN d.field_report_retention_days ELSE coalesce(d.retention_days, $1) END)
				ORDER BY c.closed_at
				LIMIT $2
				FOR UPDATE OF c SKIP LOCKED
			) due`, globalDays, retentionBatch); err != nil {
			return fmt.Errorf("find due cases: %w", err)
		}
		if len(ids) == 0 {
			return nil
		}
		// Messages of these cases that no other (kept) case shows.
		if _, err := tx.ExecContext(ctx, `
			DELETE FROM messages m
			WHERE m.id IN (SELECT cm.message_id FROM case_messages cm WHERE cm.case_id = ANY($1))
			  AND NOT EXISTS (SELECT 1 FROM case_messages o WHERE o.message_id = m.id AND o.case_id <> ALL($1))`, ids); err != nil {
			return fmt.Errorf("delete case messages: %w", err)
		}
		var gone pq.Int64Array
		if err := tx.GetContext(ctx, &gone, `WITH d AS (DELETE FROM cases WHERE id = ANY($1) RETURNING citizen_id)
			SELECT coalesce(array_agg(citizen_id), '{}') FROM d`, ids); err != nil {
			return fmt.Errorf("delete cases: %w", err)
		}
		n = len(gone)
		// A field report's own citizens row (channel fieldstaff) goes with
		// its case, and with it anything else it still held.
		if _, err := tx.ExecContext(ctx, `DELETE FROM citizens ci WHERE ci.id = ANY($1) AND ci.channel = $2
			AND NOT EXISTS (SELECT 1 FROM cases c WHERE c.citizen_id = ci.id)`, gone, ChannelFieldStaff); err != nil {
			return fmt.Errorf("delete field report rows: %w", err)
		}
		if err := audit.Record(ctx, tx, 0, "case.retention_deleted", "case", "", map[string]any{"count": n}); err != nil {
			return fmt.Errorf("audit retention: %w", err)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

// RetentionLoop runs RunRetention now and then every interval until ctx ends
// (then it returns nil). Failures are logged and retried next time.
func (s *Cases) RetentionLoop(ctx context.Context, interval time.Duration, log *slog.Logger) error {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	jobs.Every(ctx, "retention", interval, log, func(ctx context.Context) error {
		n, err := s.RunRetention(ctx)
		if n > 0 {
			log.Info("retention deleted closed cases", "count", n)
		}
		return err
	})
	return nil
}
