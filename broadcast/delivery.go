package broadcast

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"citybot/internal/db"
)

// claimLockKey is the advisory lock that serialises claims ("bcclaim").
const claimLockKey = 0x6263636c61696d

// delivery is a claimed delivery row.
type delivery struct {
	ID        int64  `db:"id"`
	PostID    int64  `db:"post_id"`
	CitizenID int64  `db:"citizen_id"`
	ChatID    string `db:"chat_id"`
	Priority  int    `db:"priority"`
	Attempts  int    `db:"attempts"`

	// deadline: a send must not start after this (the lease would be close
	// to expiring and another sender might claim the row again).
	deadline time.Time
}

// startDuePosts moves scheduled posts whose time has come to sending;
// ordinary posts wait while quiet hours last, warnings do not.
func (s *Service) startDuePosts(ctx context.Context, now time.Time) ([]int64, error) {
	quiet := s.cfg.QuietHours.Active(now, s.cfg.Location)
	var ids []int64
	err := s.db.SelectContext(ctx, &ids, `
		UPDATE posts SET status = 'sending', started_at = $1, updated_at = now()
		WHERE id IN (
			SELECT id FROM posts
			WHERE status = 'scheduled' AND send_at <= $1 AND (is_warning OR NOT $2)
			ORDER BY is_warning DESC, send_at, id
			FOR UPDATE SKIP LOCKED)
		RETURNING id`, now, quiet)
	if err != nil {
		return nil, fmt.Errorf("start due posts: %w", err)
	}
	return ids, nil
}

// nextSendAt returns the earliest future send_at of a scheduled post (zero:
// none).
func (s *Service) nextSendAt(ctx context.Context, now time.Time) (time.Time, error) {
	var t pq.NullTime
	if err := s.db.GetContext(ctx, &t, `SELECT min(send_at) FROM posts WHERE status = 'scheduled' AND send_at > $1`, now); err != nil {
		return time.Time{}, fmt.Errorf("next scheduled post: %w", err)
	}
	return t.Time, nil
}

// fanoutBatch materialises the next batch of deliveries of one sending post
// (warnings first): one row per subscribed Telegram citizen, idempotent
// (ON CONFLICT DO NOTHING), resumable (fanout_cursor, committed with the
// batch). It reports whether it did anything.
func (s *Service) fanoutBatch(ctx context.Context, now time.Time) (bool, error) {
	did, analyze := false, false
	err := db.InTx(ctx, s.db, func(tx *sqlx.Tx) error {
		var p struct {
			ID        int64 `db:"id"`
			IsWarning bool  `db:"is_warning"`
			Cursor    int64 `db:"fanout_cursor"`
		}
		err := tx.GetContext(ctx, &p, `
			SELECT id, is_warning, fanout_cursor FROM posts
			WHERE status = 'sending' AND NOT fanout_done
			ORDER BY is_warning DESC, id LIMIT 1
			FOR UPDATE SKIP LOCKED`)
		if db.IsNoRows(err) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("fan-out: pick post: %w", err)
		}
		did = true
		prio := 0
		if p.IsWarning {
			prio = 1
		}
		var r struct {
			N   int   `db:"n"`
			Max int64 `db:"max"`
		}
		err = tx.GetContext(ctx, &r, `
			WITH cand AS (
				SELECT DISTINCT s.citizen_id FROM subscriptions s
				JOIN post_topics pt ON pt.topic_id = s.topic_id AND pt.post_id = $1
				WHERE s.citizen_id > $2
				ORDER BY s.citizen_id LIMIT $3
			), ins AS (
				INSERT INTO deliveries (post_id, citizen_id, chat_id, priority, next_attempt_at)
				SELECT $1, c.id, c.external_id, $4, $5
				FROM cand JOIN citizens c ON c.id = cand.citizen_id AND c.channel = 'telegram'
				ORDER BY c.id
				ON CONFLICT (post_id, citizen_id) DO NOTHING
			)
			SELECT count(*) AS n, COALESCE(max(citizen_id), 0) AS max FROM cand`,
			p.ID, p.Cursor, s.cfg.FanoutBatch, prio, now)
		if err != nil {
			return fmt.Errorf("fan-out post %d: %w", p.ID, err)
		}
		done := r.N < s.cfg.FanoutBatch
		cursor := max(p.Cursor, r.Max)
		// A big fan-out changes the table a lot: fresh statistics keep the
		// claim query on its index (without them it can take 50x longer
		// until autovacuum catches up). After the first and the last batch.
		analyze = r.N == s.cfg.FanoutBatch && p.Cursor == 0 || done && p.Cursor > 0
		if _, err := tx.ExecContext(ctx, `UPDATE posts SET fanout_cursor = $2, fanout_done = $3 WHERE id = $1`,
			p.ID, cursor, done); err != nil {
			return fmt.Errorf("fan-out post %d: %w", p.ID, err)
		}
		return nil
	})
	if err == nil && analyze {
		if _, err := s.db.ExecContext(ctx, `ANALYZE deliveries`); err != nil {
			s.log.Warn("analyze deliveries", "err", err)
		}
	}
	return did, err
}

// finishPosts marks sending posts whose deliveries are all settled as sent.
func (s *Service) finishPosts(ctx context.Context, now time.Time) ([]int64, error) {
	var ids []int64
	err := db.InTx(ctx, s.db, func(tx *sqlx.Tx) error {
		if err := tx.SelectContext(ctx, &ids, `
			UPDATE posts p SET status = 'sent', finished_at = $1, updated_at = now()
			WHERE p.id IN (
				SELECT id FROM posts WHERE status = 'sending' AND fanout_done
				FOR UPDATE SKIP LOCKED)
			  AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.post_id = p.id AND d.status IN ('pending', 'sending'))
			RETURNING p.id`, now); err != nil {
			return fmt.Errorf("finish posts: %w", err)
		}
		for _, id := range ids {
			if err := finishCounts(ctx, tx, id); err != nil {
				return err
			}
		}
		return nil
	})
	return ids, err
}

// claim takes up to limit due deliveries for sending, warnings first, with a
// lease: status 'sending' and next_attempt_at = end of the lease, after which
// any sender may claim the row again. A chat with a message in flight or
// sent within the last second is skipped (at most one message per second
// per chat, across instances). In quiet hours only warnings are claimed.
func (s *Service) claim(ctx context.Context, now time.Time, limit int) ([]delivery, error) {
	quietCond := ""
	if s.cfg.QuietHours.Active(now, s.cfg.Location) {
		quietCond = "AND d.priority > 0"
	}
	var ds []delivery
	// Claims are serialised (a transaction-scoped advisory lock, held for
	// the few milliseconds of the claim) so that the per-chat check sees the
	// previous claim of any instance: with SKIP LOCKED alone, two concurrent
	// claims could take two posts' rows of one chat.
	err := db.InTx(ctx, s.db, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, claimLockKey); err != nil {
			return err
		}
		return tx.SelectContext(ctx, &ds, `
		WITH c AS (
			SELECT d.id FROM deliveries d
			WHERE d.status IN ('pending', 'sending') AND d.next_attempt_at <= $1 `+quietCond+`
			  -- Per-row index probes (scalar subqueries, which the planner
			  -- does not turn into anti-joins over all recent sends).
			  AND NOT COALESCE((SELECT true FROM deliveries o
				WHERE o.chat_id = d.chat_id AND o.status = 'sending' AND o.next_attempt_at > $1 AND o.id <> d.id
				LIMIT 1), false)
			  AND NOT COALESCE((SELECT true FROM deliveries o
				WHERE o.chat_id = d.chat_id AND o.sent_at IS NOT NULL AND o.sent_at > $1 - interval '1 second'
				LIMIT 1), false)
			ORDER BY d.priority DESC, d.next_attempt_at, d.id
			LIMIT $2
			FOR UPDATE SKIP LOCKED
		)
		UPDATE deliveries d SET status = 'sending', attempts = d.attempts + 1,
			next_attempt_at = $1 + make_interval(secs => $3), claimed_by = NULLIF($4::int, 0)
		FROM c WHERE d.id = c.id
		RETURNING d.id, d.post_id, d.citizen_id, d.chat_id, d.priority, d.attempts`,
			now, limit, s.cfg.Lease.Seconds(), s.cfg.Instance)
	})
	if err != nil {
		return nil, fmt.Errorf("claim deliveries: %w", err)
	}
	// Warnings first within the batch too (RETURNING has no order).
	sort.Slice(ds, func(i, j int) bool {
		if ds[i].Priority != ds[j].Priority {
			return ds[i].Priority > ds[j].Priority
		}
		return ds[i].ID < ds[j].ID
	})
	// A send must not start unless it ends (SendTimeout) before the lease
	// does, with a margin for clock skew and the write-back.
	deadline := time.Now().Add(s.cfg.Lease - s.cfg.Lease/10 - s.cfg.SendTimeout)
	for i := range ds {
		ds[i].deadline = deadline
	}
	return ds, nil
}

// markSent records a successful send. A row cancelled meanwhile is still
// recorded as sent: it was.
func (s *Service) markSent(ctx context.Context, d delivery, now time.Time) error {
	return s.markSentBatch(ctx, []sentRecord{{d: d, at: now}})
}

// markSentBatch records successful sends with one UPDATE.
func (s *Service) markSentBatch(ctx context.Context, rs []sentRecord) error {
	ids := make(pq.Int64Array, len(rs))
	attempts := make(pq.Int64Array, len(rs))
	at := make([]time.Time, len(rs))
	for i, r := range rs {
		ids[i], attempts[i], at[i] = r.d.ID, int64(r.d.Attempts), r.at
	}
	_, err := s.db.ExecContext(ctx, `
		UPDATE deliveries d SET status = 'sent', sent_at = v.at, last_error = ''
		FROM unnest($1::bigint[], $2::int[], $3::timestamptz[]) AS v(id, attempts, at)
		WHERE d.id = v.id AND d.attempts = v.attempts AND d.status IN ('sending', 'cancelled')`,
		ids, attempts, pq.Array(at))
	if err != nil {
		return fmt.Errorf("mark deliveries sent: %w", err)
	}
	return nil
}

// markRetry puts a claimed row back for another attempt at; countAttempt
// false does not count this attempt (rate limits, releases on shutdown).
func (s *Service) markRetry(ctx context.Context, d delivery, at time.Time, cause error, countAttempt bool) error {
	dec := 0
	if !countAttempt {
		dec = 1
	}
	_, err := s.db.ExecContext(ctx, `
		UPDATE deliveries SET status = 'pending', next_attempt_at = $3, last_error = $4, attempts = attempts - $5
		WHERE id = $1 AND attempts = $2 AND status = 'sending'`, d.ID, d.Attempts, at, db.ErrorText(cause), dec)
	if err != nil {
		return fmt.Errorf("mark delivery retry: %w", err)
	}
	return nil
}

// release puts claimed rows that were not sent back, without counting an
// attempt.
func (s *Service) release(ctx context.Context, ds []delivery, at time.Time) error {
	if len(ds) == 0 {
		return nil
	}
	ids := make([]int64, len(ds))
	for i, d := range ds {
		ids[i] = d.ID
	}
	_, err := s.db.ExecContext(ctx, `
		UPDATE deliveries SET status = 'pending', next_attempt_at = $2, attempts = attempts - 1
		WHERE id = ANY($1) AND status = 'sending'`, pq.Int64Array(ids), at)
	if err != nil {
		return fmt.Errorf("release deliveries: %w", err)
	}
	return nil
}

// markFailed gives up on a row (permanent error or too many attempts).
func (s *Service) markFailed(ctx context.Context, d delivery, cause error) error {
	_, err := s.db.ExecContext(ctx, `
		UPDATE deliveries SET status = 'failed', last_error = $3
		WHERE id = $1 AND attempts = $2 AND status IN ('sending', 'cancelled')`, d.ID, d.Attempts, db.ErrorText(cause))
	if err != nil {
		return fmt.Errorf("mark delivery failed: %w", err)
	}
	return nil
}

// markBlocked records that the chat refuses the bot: this and the citizen's
// other open deliveries are undeliverable, and the citizen is unsubscribed
// from every topic.
func (s *Service) markBlocked(ctx context.Context, d delivery, cause error) error {
	return db.InTx(ctx, s.db, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, `
			UPDATE deliveries SET status = 'undeliverable', last_error = $3
			WHERE (id = $1 AND status IN ('sending', 'cancelled'))
			   OR (citizen_id = $2 AND status = 'pending')`, d.ID, d.CitizenID, db.ErrorText(cause)); err != nil {
			return fmt.Errorf("mark delivery undeliverable: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM subscriptions WHERE citizen_id = $1`, d.CitizenID); err != nil {
			return fmt.Errorf("unsubscribe blocked citizen: %w", err)
		}
		return nil
	})
}

// PurgeDeliveries deletes the delivery rows (citizen data) of posts finished
// before the given time; the posts keep their final counts. It returns how
// many rows it deleted.
func (s *Service) PurgeDeliveries(ctx context.Context, before time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx, `
		DELETE FROM deliveries d USING posts p
		WHERE d.post_id = p.id AND p.status IN ('sent', 'cancelled') AND p.finished_at < $1
		  AND d.status NOT IN ('pending', 'sending')`, before)
	if err != nil {
		return 0, fmt.Errorf("purge deliveries: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}
