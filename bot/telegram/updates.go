package telegram

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"citybot/bot/telegram/tgupdate"
	"citybot/internal/db"
)

// errLost: the update was claimed again by someone else (our lease expired).
var errLost = errors.New("telegram: update no longer claimed")

// rawUpdate is an update as received, with the fields intake needs.
type rawUpdate = tgupdate.Raw

// updateStore keeps the telegram_updates table.
type updateStore struct {
	db *sqlx.DB
	// stmts prepares the statements of the hot path (nil: unprepared).
	stmts *db.Stmts
	// owner is the instance recorded on claims (db.Instance; 0: none).
	owner int32
}

// sel runs a query returning rows into dest, in tx when tx is not nil,
// prepared when the store has a statement cache.
func (s updateStore) sel(ctx context.Context, tx *sqlx.Tx, dest any, query string, args ...any) error {
	st, err := s.stmts.Prepared(ctx, tx, query)
	switch {
	case err != nil:
		return err
	case st != nil:
		return st.SelectContext(ctx, dest, args...)
	case tx != nil:
		return tx.SelectContext(ctx, dest, query, args...)
	}
	return s.db.SelectContext(ctx, dest, query, args...)
}

// exec runs a statement like sel.
func (s updateStore) exec(ctx context.Context, tx *sqlx.Tx, query string, args ...any) (sql.Result, error) {
	st, err := s.stmts.Prepared(ctx, tx, query)
	switch {
	case err != nil:
		return nil, err
	case st != nil:
		return st.ExecContext(ctx, args...)
	case tx != nil:
		return tx.ExecContext(ctx, query, args...)
	}
	return s.db.ExecContext(ctx, query, args...)
}

// insertUpdatesSQL stores and claims updates (see insert).
const insertUpdatesSQL = `
		WITH u AS (
			SELECT u.id, NULLIF(u.chat, 0) AS chat, u.payload,
				row_number() OVER (PARTITION BY u.chat ORDER BY u.id) AS rn
			FROM unnest($1::bigint[], $2::bigint[], $3::bytea[]) AS u (id, chat, payload)
		), v AS MATERIALIZED (
			-- Materialized: claim is computed once per row, not once per use.
			-- The scalar subquery (LIMIT 1) is an index probe per row; as NOT
			-- EXISTS the planner may hash all open updates instead.
			SELECT u.id, u.chat, u.payload,
				$4::float8 > 0 AND (u.chat IS NULL OR (u.rn = 1 AND NOT COALESCE((
					SELECT true FROM telegram_updates t
					WHERE t.chat_id = u.chat AND t.status IN ('pending', 'processing')
					LIMIT 1), false))) AS claim
			FROM u
		)
		INSERT INTO telegram_updates (update_id, chat_id, payload, status, attempts, locked_until, claimed_by)
		SELECT v.id, v.chat, v.payload,
			CASE WHEN v.claim THEN 'processing' ELSE 'pending' END,
			CASE WHEN v.claim THEN 1 ELSE 0 END,
			CASE WHEN v.claim THEN now() + make_interval(secs => $4::float8) END,
			CASE WHEN v.claim THEN NULLIF($5::int, 0) END
		FROM v
		ORDER BY v.id
		ON CONFLICT (update_id) DO NOTHING
		RETURNING update_id, attempts, status = 'processing' AS claimed`

// insert stores updates that are not known yet and returns how many were
// new. With lease > 0 it also claims for the caller, for lease, each new
// update that is the oldest of its chat in ups while the chat has no open
// (pending or processing) update stored: the caller hands those straight to
// a worker, with no claim query and no wait for one. The others are stored
// pending, for the claim query (it keeps each chat's order).
//
// Two intakes storing updates of one chat at the same moment (webhook
// requests to two instances) could both see no open update and both claim;
// the handling transactions then serialise on the citizen's row. The claim
// query has the same window (an update becomes visible to it only when its
// insert commits), so this keeps the guarantee it gave.
func (s updateStore) insert(ctx context.Context, ups []rawUpdate, lease time.Duration) (int, []claimed, error) {
	stored, cs, err := s.insertIDs(ctx, ups, lease)
	return len(stored), cs, err
}

// insertIDs is insert that returns the ids of the updates that were new.
func (s updateStore) insertIDs(ctx context.Context, ups []rawUpdate, lease time.Duration) (map[int64]bool, []claimed, error) {
	if len(ups) == 0 {
		return nil, nil, nil
	}
	ids := make(pq.Int64Array, len(ups))
	chats := make(pq.Int64Array, len(ups))
	payloads := make(pq.ByteaArray, len(ups))
	byID := make(map[int64]rawUpdate, len(ups))
	for i, u := range ups {
		ids[i], chats[i], payloads[i] = u.ID, u.ChatID, u.Raw
		byID[u.ID] = u
	}
	var rows []struct {
		ID       int64 `db:"update_id"`
		Attempts int   `db:"attempts"`
		Claimed  bool  `db:"claimed"`
	}
	err := s.sel(ctx, nil, &rows, insertUpdatesSQL, ids, chats, payloads, lease.Seconds(), s.owner)
	if err != nil {
		return nil, nil, fmt.Errorf("store updates: %w", err)
	}
	stored := make(map[int64]bool, len(rows))
	var cs []claimed
	for _, r := range rows {
		stored[r.ID] = true
		if !r.Claimed {
			continue
		}
		u := byID[r.ID]
		c := claimed{ID: u.ID, Payload: u.Raw, Attempts: r.Attempts}
		if u.ChatID != 0 {
			chat := u.ChatID
			c.ChatID = &chat
		}
		cs = append(cs, c)
	}
	sort.Slice(cs, func(i, j int) bool { return cs[i].ID < cs[j].ID })
	return stored, cs, nil
}

// claimed is an update claimed for processing.
type claimed struct {
	ID       int64  `db:"update_id"`
	ChatID   *int64 `db:"chat_id"`
	Payload  []byte `db:"payload"`
	Attempts int    `db:"attempts"`
}

// claimWindow is how many open updates (in update_id order) a claim looks
// at first; it grows when that prefix holds too few claimable ones (a chat
// with a long queue of its own).
const claimWindow = 256

// claim claims up to limit updates. Only the oldest open update of each chat
// is claimable, so one chat's updates are handled in order and never
// concurrently, across instances too; a crashed worker's claim expires
// after lease.
//
// The query looks at a prefix of the open updates in update_id order (a
// bounded index scan, or a top-N sort: either is linear in the window and
// never runs a subquery per open row, whatever the statistics say), finds
// the heads of their chats with a window function (every earlier open
// update of a chat lies in the prefix too), and locks those that are due.
// When the prefix was full and yielded fewer than limit, it looks again at a
// larger prefix.
func (s updateStore) claim(ctx context.Context, limit int, lease time.Duration) ([]claimed, error) {
	cs, _, err := s.claimWaiting(ctx, limit, lease)
	return cs, err
}

// claimWaiting is claim that also returns how many waiting updates the
// (last) prefix held besides the claimed ones: pending (claimable now, due
// later, or behind their chat's head) or claimed under a lease that ended
// (a dead instance's, ended by the orphan sweep). Those count as much as
// pending ones: were they left out, the workers would see no backlog after
// the first claim and take over a dead instance's updates one per idle
// tick. The dispatcher sizes batches by it, and 0 tells
// a worker that nothing is left for it.
func (s updateStore) claimWaiting(ctx context.Context, limit int, lease time.Duration) (all []claimed, waiting int, err error) {
	for window := max(claimWindow, 4*limit); ; window *= 8 {
		cs, full, pending, err := s.claimIn(ctx, limit-len(all), lease, window)
		all = append(all, cs...)
		if err != nil || len(all) >= limit || !full || window >= 1<<22 {
			sort.Slice(all, func(i, j int) bool { return all[i].ID < all[j].ID })
			return all, max(pending-len(cs), 0), err
		}
	}
}

func (s updateStore) claimIn(ctx context.Context, limit int, lease time.Duration, window int) ([]claimed, bool, int, error) {
	var rows []struct {
		Window   int    `db:"window_rows"`
		Pending  int    `db:"pending_rows"`
		ID       *int64 `db:"update_id"`
		ChatID   *int64 `db:"chat_id"`
		Payload  []byte `db:"payload"`
		Attempts *int   `db:"attempts"`
	}
	err := s.sel(ctx, nil, &rows, `
		WITH w AS MATERIALIZED (
			SELECT update_id, chat_id, status, next_attempt_at, locked_until
			FROM telegram_updates
			WHERE status IN ('pending', 'processing')
			ORDER BY update_id
			LIMIT $3
		), h AS (
			SELECT x.update_id FROM (
				SELECT w.*, row_number() OVER (PARTITION BY w.chat_id ORDER BY w.update_id) AS rn FROM w
			) x
			WHERE (x.rn = 1 OR x.chat_id IS NULL)
			  AND x.next_attempt_at <= now()
			  AND (x.status = 'pending' OR x.locked_until < now())
			ORDER BY x.update_id
			-- room for the heads that workers claiming at the same time take
			LIMIT 8 * $1
		), c AS (
			-- the conditions again: they are rechecked on the newest row
			-- version when another worker claimed it meanwhile. The limit
			-- applies after SKIP LOCKED: workers claiming at the same time
			-- take different heads instead of all but one coming back empty.
			-- ARRAY(): the heads are looked up by key, never by reading
			-- all open updates (a plan for stale statistics).
			SELECT u.update_id FROM telegram_updates u
			WHERE u.update_id = ANY (ARRAY(SELECT update_id FROM h))
			  AND u.status IN ('pending', 'processing')
			  AND u.next_attempt_at <= now()
			  AND (u.status = 'pending' OR u.locked_until < now())
			ORDER BY u.update_id
			LIMIT $1
			FOR UPDATE OF u SKIP LOCKED
		), t AS (
			UPDATE telegram_updates t SET status = 'processing', attempts = t.attempts + 1,
				locked_until = now() + make_interval(secs => $2), claimed_by = NULLIF($4::int, 0)
			FROM c WHERE t.update_id = c.update_id
			RETURNING t.update_id, t.chat_id, t.payload, t.attempts
		)
		SELECT n.window_rows, n.pending_rows, t.update_id, t.chat_id, t.payload, t.attempts
		FROM (SELECT count(*) AS window_rows,
				count(*) FILTER (WHERE status = 'pending' OR locked_until < now()) AS pending_rows FROM w) n
		LEFT JOIN t ON true`, limit, lease.Seconds(), window, s.owner)
	if err != nil {
		return nil, false, 0, fmt.Errorf("claim updates: %w", err)
	}
	var cs []claimed
	full, pending := false, 0
	for _, r := range rows {
		full, pending = r.Window >= window, r.Pending
		if r.ID != nil && r.Attempts != nil {
			cs = append(cs, claimed{ID: *r.ID, ChatID: r.ChatID, Payload: r.Payload, Attempts: *r.Attempts})
		}
	}
	sort.Slice(cs, func(i, j int) bool { return cs[i].ID < cs[j].ID })
	return cs, full, pending, nil
}

// finishClaimNext marks claimed updates done inside tx (with the effects
// of handling them), in one statement; it fails with errLost unless all of
// them were still claimed. The payload and chat id are dropped: only the
// id stays, for deduplication, until purge. The same statement claims, for
// lease (0: none), the next open update of each finished update's chat
// when it is pending and due (in tx: rolled back, the claims go too).
// A chat's next update is thus handed on by the worker that handled the
// one before it, with no claim query; the chat's order holds, as its next
// update becomes claimable only when this transaction commits.
func (s updateStore) finishClaimNext(ctx context.Context, tx *sqlx.Tx, lease time.Duration, cs ...claimed) ([]claimed, error) {
	ids := make(pq.Int64Array, len(cs))
	attempts := make(pq.Int64Array, len(cs))
	var chats pq.Int64Array
	for i, c := range cs {
		ids[i], attempts[i] = c.ID, int64(c.Attempts)
		if c.ChatID != nil {
			chats = append(chats, *c.ChatID)
		}
	}
	var rows []struct {
		Finished int    `db:"finished"`
		ID       *int64 `db:"update_id"`
		ChatID   *int64 `db:"chat_id"`
		Payload  []byte `db:"payload"`
		Attempts *int   `db:"attempts"`
	}
	err := s.sel(ctx, tx, &rows, finishSQL, ids, attempts, chats, lease.Seconds(), s.owner)
	if err != nil {
		return nil, fmt.Errorf("finish update: %w", err)
	}
	var next []claimed
	for _, r := range rows {
		if r.Finished != len(cs) {
			return nil, errLost
		}
		if r.ID != nil && r.Attempts != nil {
			next = append(next, claimed{ID: *r.ID, ChatID: r.ChatID, Payload: r.Payload, Attempts: *r.Attempts})
		}
	}
	if len(rows) == 0 {
		return nil, errLost
	}
	sort.Slice(next, func(i, j int) bool { return next[i].ID < next[j].ID })
	return next, nil
}

// finishSQL is finishClaimNext's statement.
const finishSQL = `
		WITH d AS (
			UPDATE telegram_updates t SET status = 'done', payload = NULL, chat_id = NULL,
				processed_at = now(), locked_until = NULL, last_error = ''
			FROM unnest($1::bigint[], $2::int[]) AS c (id, attempts)
			-- = ANY: the rows are looked up by key whatever the statistics
			-- say (joined only to the unnest, a planner that believes few
			-- updates open reads all of them and hashes them).
			WHERE t.update_id = ANY ($1::bigint[]) AND t.update_id = c.id AND t.attempts = c.attempts AND t.status = 'processing'
			RETURNING t.update_id
		), h AS (
			-- each chat's next open update after the finished ones (this
			-- statement does not see its own update yet: they are skipped)
			SELECT x.update_id FROM unnest($3::bigint[]) AS ch (chat_id)
			CROSS JOIN LATERAL (
				SELECT t.update_id, t.status, t.next_attempt_at FROM telegram_updates t
				WHERE t.chat_id = ch.chat_id AND t.status IN ('pending', 'processing') AND t.update_id <> ALL ($1::bigint[])
				ORDER BY t.update_id LIMIT 1) x
			WHERE $4::float8 > 0 AND x.status = 'pending' AND x.next_attempt_at <= now()
		), n AS (
			-- ARRAY(): looked up by key (see d)
			SELECT u.update_id FROM telegram_updates u
			WHERE u.update_id = ANY (ARRAY(SELECT update_id FROM h)) AND u.status = 'pending'
			FOR UPDATE OF u SKIP LOCKED
		), t AS (
			UPDATE telegram_updates t SET status = 'processing', attempts = t.attempts + 1,
				locked_until = now() + make_interval(secs => $4::float8), claimed_by = NULLIF($5::int, 0)
			FROM n WHERE t.update_id = n.update_id
			RETURNING t.update_id, t.chat_id, t.payload, t.attempts
		)
		SELECT (SELECT count(*) FROM d) AS finished, t.update_id, t.chat_id, t.payload, t.attempts
		FROM (SELECT 1) one LEFT JOIN t ON true`

// retry puts a claimed update back for another attempt at.
func (s updateStore) retry(ctx context.Context, c claimed, at time.Time, cause error) error {
	_, err := s.db.ExecContext(ctx, `
		UPDATE telegram_updates SET status = 'pending', next_attempt_at = $3, locked_until = NULL, last_error = $4
		WHERE update_id = $1 AND attempts = $2 AND status = 'processing'`, c.ID, c.Attempts, at, db.ErrorText(cause))
	if err != nil {
		return fmt.Errorf("retry update: %w", err)
	}
	return nil
}

// release gives a claimed update back unhandled (shutdown), not counting
// the attempt.
func (s updateStore) release(ctx context.Context, c claimed) error {
	_, err := s.db.ExecContext(ctx, `
		UPDATE telegram_updates SET status = 'pending', attempts = attempts - 1, locked_until = NULL
		WHERE update_id = $1 AND attempts = $2 AND status = 'processing'`, c.ID, c.Attempts)
	if err != nil {
		return fmt.Errorf("release update: %w", err)
	}
	return nil
}

// fail gives up on a claimed update. It keeps its payload for diagnosis
// until purge; the chat's later updates go ahead.
func (s updateStore) fail(ctx context.Context, c claimed, cause error) error {
	_, err := s.db.ExecContext(ctx, `
		UPDATE telegram_updates SET status = 'failed', processed_at = now(), locked_until = NULL, last_error = $3
		WHERE update_id = $1 AND attempts = $2 AND status = 'processing'`, c.ID, c.Attempts, db.ErrorText(cause))
	if err != nil {
		return fmt.Errorf("fail update: %w", err)
	}
	return nil
}

// eraseChat deletes the stored raw updates of a chat (erasure), except the
// one being handled (it is finished without its payload) and later ones not
// handled yet (they are the citizen's new messages).
func eraseChat(ctx context.Context, tx *sqlx.Tx, chatID, current int64) error {
	if _, err := tx.ExecContext(ctx, `
		DELETE FROM telegram_updates
		WHERE chat_id = $1 AND update_id <> $2 AND (status IN ('done', 'failed') OR update_id < $2)`, chatID, current); err != nil {
		return fmt.Errorf("erase chat updates: %w", err)
	}
	return nil
}

// endOrphanedClaims ends the lease of updates claimed by instances that are
// no longer running (db.Instance) and returns how many.
func (s updateStore) endOrphanedClaims(ctx context.Context) (int64, error) {
	return db.EndOrphanedClaims(ctx, s.db, "telegram_updates", "processing", "locked_until", s.owner)
}

// purge deletes finished updates older than before.
func (s updateStore) purge(ctx context.Context, before time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx, `
		DELETE FROM telegram_updates WHERE status IN ('done', 'failed') AND processed_at < $1`, before)
	if err != nil {
		return 0, fmt.Errorf("purge updates: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}
