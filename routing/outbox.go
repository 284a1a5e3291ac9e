package routing

import (
	"context"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"citybot/internal/db"
)

// Outbox row states.
const (
	OutboxPending       = "pending"
	OutboxSending       = "sending"
	OutboxSent          = "sent"
	OutboxFailed        = "failed"        // gave up after MaxSendAttempts transient errors
	OutboxUndeliverable = "undeliverable" // the channel refuses for good (bot blocked)
)

// MaxSendAttempts is how often a row is tried on transient errors before it
// is marked failed. With tgtext.RetryDelay that is a bit more than an hour.
const MaxSendAttempts = 12

// Button is an inline button under a message. Data goes back to the bot when
// pressed (at most 64 bytes on Telegram); URL buttons open a link instead.
type Button struct {
	Text string `json:"text"`
	Data string `json:"data,omitempty"`
	URL  string `json:"url,omitempty"`
}

// Document is a file sent to the citizen.
type Document struct {
	Name string `json:"name"`
	MIME string `json:"mime"`
	Data []byte `json:"data"`
}

// Payload formats.
const (
	FormatPlain = ""
	FormatHTML  = "html" // Telegram's HTML subset; text must be escaped
)

// Payload is what one outbox row sends: a text with optional buttons, or a
// document with an optional caption in Text. Channel adapters translate it.
type Payload struct {
	Text     string     `json:"text,omitempty"`
	Format   string     `json:"format,omitempty"`
	Buttons  [][]Button `json:"buttons,omitempty"`
	Document *Document  `json:"document,omitempty"`
}

// Value stores a Payload as jsonb.
func (p Payload) Value() (driver.Value, error) { return json.Marshal(p) }

// Scan reads a Payload from jsonb.
func (p *Payload) Scan(src any) error {
	switch v := src.(type) {
	case []byte:
		return json.Unmarshal(v, p)
	case string:
		return json.Unmarshal([]byte(v), p)
	default:
		return fmt.Errorf("payload: cannot scan %T", src)
	}
}

// OutboxItem is a claimed outbox row.
type OutboxItem struct {
	ID        int64     `db:"id"`
	CitizenID *int64    `db:"citizen_id"`
	MessageID *int64    `db:"message_id"`
	Channel   string    `db:"channel"`
	ChatID    string    `db:"chat_id"`
	Payload   Payload   `db:"payload"`
	Ephemeral bool      `db:"ephemeral"`
	Status    string    `db:"status"`
	Attempts  int       `db:"attempts"` // including the current one
	CreatedAt time.Time `db:"created_at"`
}

const outboxColumns = `id, citizen_id, message_id, channel, chat_id, payload, ephemeral, status, attempts, created_at`

// outboxColumnsNoPayload are outboxColumns without the payload (when the
// caller has it).
const outboxColumnsNoPayload = `id, citizen_id, message_id, channel, chat_id, ephemeral, status, attempts, created_at`

// Send stores an outgoing message of citizen c and queues its parts (one
// outbox row each, sent in order) in one transaction. m.CitizenID,
// Direction and (when empty) Sender and Kind are filled in.
func (s *Store) Send(ctx context.Context, c Citizen, m Message, parts ...Payload) (Message, error) {
	out, _, err := s.send(ctx, c, m, 0, parts)
	return out, err
}

// SendClaimed is Send that also claims the message's first outbox row for
// the caller for lease, when nothing else of the chat is waiting to be sent:
// the caller sends it right after commit, without a round through the queue
// (should it crash, the lease expires and the delivery worker sends the row).
// claimed is nil when the row was queued normally.
func (s *Store) SendClaimed(ctx context.Context, c Citizen, m Message, lease time.Duration, parts ...Payload) (Message, *OutboxItem, error) {
	return s.send(ctx, c, m, lease, parts)
}

func (s *Store) send(ctx context.Context, c Citizen, m Message, lease time.Duration, parts []Payload) (Message, *OutboxItem, error) {
	if len(parts) == 0 {
		return Message{}, nil, fmt.Errorf("send without payload: %w", ErrInvalid)
	}
	m.CitizenID = c.ID
	m.Direction = DirectionOut
	if m.Sender == "" {
		m.Sender = SenderBot
	}
	if m.Kind == "" {
		m.Kind = KindText
		if parts[0].Document != nil {
			m.Kind = KindDocument
		}
	}
	if err := validMessage(m); err != nil {
		return Message{}, nil, err
	}
	payloads := make([]string, len(parts))
	for i, p := range parts {
		b, err := json.Marshal(p)
		if err != nil {
			return Message{}, nil, fmt.Errorf("enqueue: %w", err)
		}
		payloads[i] = string(b)
	}
	// One statement: the message, and its parts in order; the first part is
	// claimed for the caller (lease > 0) unless an earlier row of the chat
	// is still open. Only the first part's row comes back, without its
	// payload (that is parts[0]).
	var row struct {
		MsgID        int64     `db:"msg_id"`
		MsgCreatedAt time.Time `db:"msg_created_at"`
		OutboxItem
	}
	err := s.get(ctx, &row, `
		WITH m AS (
			INSERT INTO messages (citizen_id, direction, kind, text, media, sender, staff_user_id, external_message_id)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
			RETURNING id, created_at
		), b AS MATERIALIZED (
			SELECT $11::float8 > 0 AND NOT EXISTS (
				SELECT 1 FROM outbox WHERE channel = $9 AND chat_id = $10 AND status IN ('pending', 'sending')) AS claim
		), o AS (
			INSERT INTO outbox (citizen_id, message_id, channel, chat_id, payload, status, attempts, locked_until, claimed_by)
			SELECT $1, m.id, $9, $10, p.payload,
				CASE WHEN p.n = 1 AND b.claim THEN 'sending' ELSE 'pending' END,
				CASE WHEN p.n = 1 AND b.claim THEN 1 ELSE 0 END,
				CASE WHEN p.n = 1 AND b.claim THEN now() + make_interval(secs => $11::float8) END,
				CASE WHEN p.n = 1 AND b.claim THEN NULLIF($13::int, 0) END
			FROM m, b, unnest($12::jsonb[]) WITH ORDINALITY AS p (payload, n)
			ORDER BY p.n
			RETURNING `+outboxColumnsNoPayload+`
		)
		SELECT m.id AS msg_id, m.created_at AS msg_created_at, o.* FROM m, o ORDER BY o.id LIMIT 1`,
		m.CitizenID, m.Direction, m.Kind, m.Text, m.Media, m.Sender, m.StaffUserID, m.ExternalMessageID,
		c.Channel, c.ExternalID, lease.Seconds(), pq.StringArray(payloads), s.owner)
	if db.IsNoRows(err) {
		return Message{}, nil, fmt.Errorf("send: nothing stored")
	}
	if err != nil {
		if db.IsForeignKeyViolation(err) {
			return Message{}, nil, fmt.Errorf("send: citizen %d: %w", c.ID, ErrNotFound)
		}
		return Message{}, nil, fmt.Errorf("send: %w", err)
	}
	out := m
	out.ID, out.CreatedAt = row.MsgID, row.MsgCreatedAt
	var claimed *OutboxItem
	if it := row.OutboxItem; it.Status == OutboxSending {
		it.Payload = parts[0]
		claimed = &it
	}
	return out, claimed, nil
}

// Outgoing is one message for SendAll: what Send takes.
type Outgoing struct {
	Citizen Citizen
	Message Message
	Parts   []Payload
}

// Sent is what SendAll stored for an Outgoing: the message, and the
// outbox row of its first part when it was claimed for the caller.
type Sent struct {
	Message Message
	Claimed *OutboxItem
}

// SendAll stores outgoing messages and queues their parts as Send (lease
// 0) or SendClaimed does for each, in the order given, in one statement.
// Of a chat's messages only the first may be claimed, as when they were
// sent one after the other. The results are in the order of out.
func (s *Store) SendAll(ctx context.Context, out []Outgoing, lease time.Duration) ([]Sent, error) {
	if len(out) == 0 {
		return nil, nil
	}
	n := len(out)
	citizens, staff := make(pq.Int64Array, n), make(pq.Int64Array, n)
	kinds, texts, media, senders := make(pq.StringArray, n), make(pq.StringArray, n), make(pq.StringArray, n), make(pq.StringArray, n)
	channels, chats := make(pq.StringArray, n), make(pq.StringArray, n)
	var partN, partK pq.Int64Array
	var payloads pq.StringArray
	msgs := make([]Message, n)
	for i, o := range out {
		if len(o.Parts) == 0 {
			return nil, fmt.Errorf("send without payload: %w", ErrInvalid)
		}
		m := o.Message
		m.CitizenID = o.Citizen.ID
		m.Direction = DirectionOut
		if m.Sender == "" {
			m.Sender = SenderBot
		}
		if m.Kind == "" {
			m.Kind = KindText
			if o.Parts[0].Document != nil {
				m.Kind = KindDocument
			}
		}
		if err := validMessage(m); err != nil {
			return nil, err
		}
		if m.ExternalMessageID != nil {
			return nil, fmt.Errorf("send with an external message id: %w", ErrInvalid)
		}
		msgs[i] = m
		citizens[i], kinds[i], texts[i], senders[i] = m.CitizenID, m.Kind, m.Text, m.Sender
		channels[i], chats[i] = o.Citizen.Channel, o.Citizen.ExternalID
		if m.StaffUserID != nil {
			staff[i] = *m.StaffUserID
		}
		if m.Media != nil {
			b, err := json.Marshal(m.Media)
			if err != nil {
				return nil, fmt.Errorf("send: media: %w", err)
			}
			media[i] = string(b)
		}
		for k, p := range o.Parts {
			b, err := json.Marshal(p)
			if err != nil {
				return nil, fmt.Errorf("enqueue: %w", err)
			}
			partN, partK, payloads = append(partN, int64(i+1)), append(partK, int64(k+1)), append(payloads, string(b))
		}
	}
	var rows []struct {
		N            int        `db:"n"`
		MsgID        int64      `db:"msg_id"`
		MsgCreatedAt time.Time  `db:"msg_created_at"`
		ID           *int64     `db:"id"`
		Attempts     *int       `db:"attempts"`
		CreatedAt    *time.Time `db:"created_at"`
	}
	// The message ids are taken in the order given (the sorted subquery
	// below the nextval), so that the messages of a chat keep their order;
	// the outbox rows are inserted in message and part order, as in send.
	err := s.sel(ctx, &rows, `
		WITH g AS MATERIALIZED (
			SELECT nextval(pg_get_serial_sequence('messages', 'id')) AS id, s.* FROM (
				SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::text[], $8::text[])
					WITH ORDINALITY AS g (citizen_id, kind, text, media, sender, staff_user_id, channel, chat_id, n)
				ORDER BY n) s
		), m AS (
			INSERT INTO messages (id, citizen_id, direction, kind, text, media, sender, staff_user_id)
			SELECT g.id, g.citizen_id, 'out', g.kind, g.text, NULLIF(g.media, '')::jsonb, g.sender, NULLIF(g.staff_user_id, 0)
			FROM g ORDER BY g.n
			RETURNING id, created_at
		), b AS MATERIALIZED (
			-- A scalar subquery (LIMIT 1) is an index probe per chat; as
			-- NOT EXISTS the planner may read and hash all open rows.
			SELECT x.n, $12::float8 > 0 AND x.rn = 1 AND NOT COALESCE((
				SELECT true FROM outbox WHERE channel = x.channel AND chat_id = x.chat_id AND status IN ('pending', 'sending')
				LIMIT 1), false) AS claim
			FROM (SELECT g.n, g.channel, g.chat_id, row_number() OVER (PARTITION BY g.channel, g.chat_id ORDER BY g.n) AS rn FROM g) x
		), o AS (
			INSERT INTO outbox (citizen_id, message_id, channel, chat_id, payload, status, attempts, locked_until, claimed_by)
			SELECT g.citizen_id, m.id, g.channel, g.chat_id, p.payload,
				CASE WHEN p.k = 1 AND b.claim THEN 'sending' ELSE 'pending' END,
				CASE WHEN p.k = 1 AND b.claim THEN 1 ELSE 0 END,
				CASE WHEN p.k = 1 AND b.claim THEN now() + make_interval(secs => $12::float8) END,
				CASE WHEN p.k = 1 AND b.claim THEN NULLIF($13::int, 0) END
			FROM unnest($9::bigint[], $10::bigint[], $11::jsonb[]) AS p (n, k, payload)
			JOIN g ON g.n = p.n JOIN m ON m.id = g.id JOIN b ON b.n = p.n
			ORDER BY p.n, p.k
			RETURNING id, message_id, status, attempts, created_at
		)
		SELECT g.n, m.id AS msg_id, m.created_at AS msg_created_at, o.id, o.attempts, o.created_at
		FROM g JOIN m ON m.id = g.id
		LEFT JOIN o ON o.message_id = m.id AND o.status = 'sending'
		ORDER BY g.n`,
		citizens, kinds, texts, media, senders, staff, channels, chats, partN, partK, payloads, lease.Seconds(), s.owner)
	if err != nil {
		if db.IsForeignKeyViolation(err) {
			return nil, fmt.Errorf("send: %w", ErrNotFound)
		}
		return nil, fmt.Errorf("send: %w", err)
	}
	if len(rows) != n {
		return nil, fmt.Errorf("send: %d of %d stored", len(rows), n)
	}
	res := make([]Sent, n)
	for _, r := range rows {
		i := r.N - 1
		m := msgs[i]
		m.ID, m.CreatedAt = r.MsgID, r.MsgCreatedAt
		res[i].Message = m
		if r.ID != nil {
			cid, mid := m.CitizenID, m.ID
			res[i].Claimed = &OutboxItem{ID: *r.ID, CitizenID: &cid, MessageID: &mid, Channel: channels[i], ChatID: chats[i],
				Payload: out[i].Parts[0], Status: OutboxSending, Attempts: *r.Attempts, CreatedAt: *r.CreatedAt}
		}
	}
	return res, nil
}

// EndOrphanedClaims ends the lease of outbox rows claimed by instances that
// are no longer running (see db.Instance), so that they are sent again now
// rather than when the lease would have ended. It returns how many.
func (s *Store) EndOrphanedClaims(ctx context.Context) (int64, error) {
	return db.EndOrphanedClaims(ctx, s.q, "outbox", "sending", "locked_until", s.owner)
}

// ReleaseOutbox gives a claimed row back unsent (not counting the attempt),
// e.g. at shutdown.
func (s *Store) ReleaseOutbox(ctx context.Context, it OutboxItem) error {
	return s.MarkRetry(ctx, it, time.Now(), nil, false)
}

// SendEphemeral queues a message to a chat that leaves no trace: no message
// row, no citizen, and the outbox row is deleted once sent or given up. It is
// for the confirmation of an erasure.
func (s *Store) SendEphemeral(ctx context.Context, channel, chatID string, p Payload) error {
	if _, err := s.q.ExecContext(ctx, `
		INSERT INTO outbox (channel, chat_id, payload, ephemeral) VALUES ($1, $2, $3, true)`,
		channel, chatID, p); err != nil {
		return fmt.Errorf("enqueue ephemeral: %w", err)
	}
	return nil
}

// claimWindow is how many open rows of a channel (in id order) a claim
// looks at first; it grows when that prefix holds too few claimable rows.
const claimWindow = 256

// ClaimOutbox claims up to limit due rows of channel for sending, for lease
// (after which a crashed sender's rows are claimed again). Only the oldest
// open row of each chat is claimable, so one chat's messages go out in order
// and never concurrently, across instances too.
//
// The query looks at a prefix of the channel's open rows in id order (its
// cost is linear in that window, with no subquery per open row whatever the
// statistics say), finds the chats' oldest rows in it with a window
// function, and locks those that are due. When the prefix was full and
// yielded fewer than limit rows, it looks again at a larger one.
func (s *Store) ClaimOutbox(ctx context.Context, channel string, limit int, lease time.Duration) ([]OutboxItem, error) {
	var all []OutboxItem
	for window := max(claimWindow, 4*limit); ; window *= 8 {
		items, full, err := s.claimOutboxIn(ctx, channel, limit-len(all), lease, window)
		all = append(all, items...)
		if err != nil || len(all) >= limit || !full || window >= 1<<22 {
			sort.Slice(all, func(i, j int) bool { return all[i].ID < all[j].ID })
			return all, err
		}
	}
}

func (s *Store) claimOutboxIn(ctx context.Context, channel string, limit int, lease time.Duration, window int) ([]OutboxItem, bool, error) {
	var rows []struct {
		Window    int        `db:"window_rows"`
		ID        *int64     `db:"id"`
		CitizenID *int64     `db:"citizen_id"`
		MessageID *int64     `db:"message_id"`
		Channel   *string    `db:"channel"`
		ChatID    *string    `db:"chat_id"`
		Payload   []byte     `db:"payload"`
		Ephemeral *bool      `db:"ephemeral"`
		Status    *string    `db:"status"`
		Attempts  *int       `db:"attempts"`
		CreatedAt *time.Time `db:"created_at"`
	}
	err := s.sel(ctx, &rows, `
		WITH w AS MATERIALIZED (
			SELECT id, chat_id, status, next_attempt_at, locked_until
			FROM outbox
			WHERE status IN ('pending', 'sending') AND channel = $1
			ORDER BY id
			LIMIT $4
		), h AS (
			SELECT x.id FROM (
				SELECT w.*, row_number() OVER (PARTITION BY w.chat_id ORDER BY w.id) AS rn FROM w
			) x
			WHERE x.rn = 1
			  AND x.next_attempt_at <= now()
			  AND (x.status = 'pending' OR x.locked_until < now())
			ORDER BY x.id
			LIMIT $2
		), c AS (
			-- the conditions again: they are rechecked on the newest row
			-- version when another sender claimed it meanwhile
			-- ARRAY(): the heads are looked up by key, never by reading
			-- all open rows (a plan for stale statistics).
			SELECT o.id FROM outbox o
			WHERE o.id = ANY (ARRAY(SELECT id FROM h))
			  AND o.status IN ('pending', 'sending')
			  AND o.next_attempt_at <= now()
			  AND (o.status = 'pending' OR o.locked_until < now())
			FOR UPDATE OF o SKIP LOCKED
		), u AS (
			UPDATE outbox o SET status = 'sending', attempts = o.attempts + 1,
				locked_until = now() + make_interval(secs => $3), claimed_by = NULLIF($5::int, 0)
			FROM c WHERE o.id = c.id
			RETURNING `+prefixed("o.", outboxColumns)+`
		)
		SELECT n.window_rows, u.* FROM (SELECT count(*) AS window_rows FROM w) n LEFT JOIN u ON true ORDER BY u.id`,
		channel, limit, lease.Seconds(), window, s.owner)
	if err != nil {
		return nil, false, fmt.Errorf("claim outbox: %w", err)
	}
	var items []OutboxItem
	full := false
	for _, r := range rows {
		full = r.Window >= window
		if r.ID == nil {
			continue
		}
		it := OutboxItem{ID: *r.ID, CitizenID: r.CitizenID, MessageID: r.MessageID, Channel: *r.Channel, ChatID: *r.ChatID,
			Ephemeral: *r.Ephemeral, Status: *r.Status, Attempts: *r.Attempts, CreatedAt: *r.CreatedAt}
		if err := it.Payload.Scan(r.Payload); err != nil {
			return nil, false, fmt.Errorf("claim outbox: row %d: %w", it.ID, err)
		}
		items = append(items, it)
	}
	return items, full, nil
}

// prefixed puts prefix before each column of a comma-separated list.
func prefixed(prefix, columns string) string {
	cols := strings.Split(columns, ", ")
	for i, c := range cols {
		cols[i] = prefix + c
	}
	return strings.Join(cols, ", ")
}

// MarkSent records that a claimed row was delivered (externalID: the
// channel's message id). Ephemeral rows are deleted. A row that was claimed
// again meanwhile, or deleted (erasure), gives ErrNotFound.
//
// On a Store of the database (not of a transaction), concurrent calls are
// recorded together in one statement (group commit): a call returns once
// its row is recorded.
func (s *Store) MarkSent(ctx context.Context, it OutboxItem, externalID string) error {
	_, err := s.MarkSentNext(ctx, it, externalID)
	return err
}

// MarkSentNext is MarkSent that also reports whether the row's chat has
// another open row (the sender may claim it now): false means the chat's
// queue was empty when the row was recorded. It is true when unknown.
func (s *Store) MarkSentNext(ctx context.Context, it OutboxItem, externalID string) (more bool, err error) {
	if it.Ephemeral {
		return true, s.deleteClaimed(ctx, it)
	}
	if s.tx == nil && s.sent != nil {
		return s.sent.mark(ctx, s, it, externalID)
	}
	r := s.markSent(ctx, []OutboxItem{it}, []string{externalID})[0]
	return r.more, r.err
}

// markResult is the result of marking one row sent.
type markResult struct {
	more bool // the chat has another open row
	err  error
}

// markSent marks rows sent in one statement and returns each row's result.
func (s *Store) markSent(ctx context.Context, items []OutboxItem, externalIDs []string) []markResult {
	ids := make(pq.Int64Array, len(items))
	attempts := make(pq.Int64Array, len(items))
	for i, it := range items {
		ids[i], attempts[i] = it.ID, int64(it.Attempts)
	}
	res := make([]markResult, len(items))
	// A row is recorded for the claim (id and attempts) that matched: a
	// stale claim of the same row in the same batch gets ErrNotFound.
	var done []struct {
		ID       int64 `db:"id"`
		Attempts int   `db:"attempts"`
		More     bool  `db:"more"`
	}
	err := s.sel(ctx, &done, `
		UPDATE outbox o SET status = 'sent', sent_at = now(), locked_until = NULL, last_error = '',
			external_message_id = NULLIF(m.ext, '')
		FROM unnest($1::bigint[], $2::int[], $3::text[]) AS m (id, attempts, ext)
		-- The rows are looked up by key (= ANY on the primary key). The
		-- status test is written so that it does not match the predicate of
		-- the partial indexes of open rows: with statistics from before a
		-- burst the planner believes them tiny and reads one whole, with
		-- all the open rows of the channel (thousands in a burst).
		WHERE o.id = ANY ($1::bigint[]) AND o.id = m.id AND o.attempts = m.attempts AND (o.status = 'sending') IS TRUE
		RETURNING o.id, o.attempts, EXISTS (
			SELECT 1 FROM outbox n
			WHERE n.channel = o.channel AND n.chat_id = o.chat_id AND n.status IN ('pending', 'sending') AND n.id <> o.id
		) AS more`, ids, attempts, pq.StringArray(externalIDs))
	if err != nil {
		for i := range res {
			res[i] = markResult{more: true, err: fmt.Errorf("update outbox: %w", err)}
		}
		return res
	}
	type claim struct {
		id       int64
		attempts int
	}
	ok := make(map[claim]bool, len(done))
	for _, d := range done {
		ok[claim{d.ID, d.Attempts}] = d.More
	}
	for i, it := range items {
		more, found := ok[claim{it.ID, it.Attempts}]
		res[i].more = more
		if !found {
			res[i] = markResult{more: true, err: fmt.Errorf("outbox row no longer claimed: %w", ErrNotFound)}
		}
	}
	return res
}

// markBatcher records concurrent MarkSent calls together: the first caller
// becomes the leader and records what is waiting in one statement; callers
// arriving meanwhile wait, and the first of them leads the next round.
type markBatcher struct {
	mu      sync.Mutex
	leading bool
	waiting []*markReq
}

type markReq struct {
	it  OutboxItem
	ext string
	// res gets the result, or errLead: the receiver leads the next round.
	res chan markResult
}

var errLead = errors.New("routing: lead the next round")

// maxMarkBatch bounds one round of markBatcher.
const maxMarkBatch = 256

func (b *markBatcher) mark(ctx context.Context, s *Store, it OutboxItem, ext string) (bool, error) {
	r := &markReq{it: it, ext: ext, res: make(chan markResult, 1)}
	b.mu.Lock()
	b.waiting = append(b.waiting, r)
	if b.leading {
		b.mu.Unlock()
		if res := <-r.res; !errors.Is(res.err, errLead) {
			return res.more, res.err
		}
		b.mu.Lock() // leading stayed true for us
	} else {
		b.leading = true
	}
	round := b.waiting[:min(len(b.waiting), maxMarkBatch)]
	b.waiting = b.waiting[len(round):]
	b.mu.Unlock()

	items := make([]OutboxItem, len(round))
	exts := make([]string, len(round))
	for i, q := range round {
		items[i], exts[i] = q.it, q.ext
	}
	// Bounded by the leader's context, but not cancelled with it: the
	// others wait for this result.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	results := s.markSent(rctx, items, exts)
	cancel()
	var own markResult
	for i, q := range round {
		if q == r {
			own = results[i]
			continue
		}
		q.res <- results[i]
	}

	b.mu.Lock()
	if len(b.waiting) > 0 {
		next := b.waiting[0]
		b.mu.Unlock()
		next.res <- markResult{err: errLead}
	} else {
		b.leading = false
		b.mu.Unlock()
	}
	return own.more, own.err
}

// MarkRetry puts a claimed row back for another attempt at. countAttempt
// false does not count this attempt (rate limits are not failures).
func (s *Store) MarkRetry(ctx context.Context, it OutboxItem, at time.Time, cause error, countAttempt bool) error {
	dec := 0
	if !countAttempt {
		dec = 1
	}
	return s.expectOne(s.q.ExecContext(ctx, `
		UPDATE outbox SET status = 'pending', attempts = attempts - $3, next_attempt_at = $4,
			locked_until = NULL, last_error = $5
		WHERE id = $1 AND attempts = $2 AND status = 'sending'`,
		it.ID, it.Attempts, dec, at, db.ErrorText(cause)))
}

// MarkFailed gives up on a claimed row after transient errors.
func (s *Store) MarkFailed(ctx context.Context, it OutboxItem, cause error) error {
	if it.Ephemeral {
		return s.deleteClaimed(ctx, it)
	}
	return s.expectOne(s.q.ExecContext(ctx, `
		UPDATE outbox SET status = 'failed', locked_until = NULL, last_error = $3
		WHERE id = $1 AND attempts = $2 AND status = 'sending'`, it.ID, it.Attempts, db.ErrorText(cause)))
}

// MarkUndeliverable records that the channel refuses the chat for good (the
// citizen blocked the bot): the row and every other open row of that chat
// are not tried again. It returns how many rows it marked.
func (s *Store) MarkUndeliverable(ctx context.Context, it OutboxItem, cause error) (int, error) {
	var n int
	err := s.InTx(ctx, func(s *Store) error {
		if _, err := s.q.ExecContext(ctx, `
			DELETE FROM outbox WHERE ephemeral AND channel = $1 AND chat_id = $2 AND status IN ('pending', 'sending')`,
			it.Channel, it.ChatID); err != nil {
			return fmt.Errorf("drop ephemeral outbox rows: %w", err)
		}
		res, err := s.q.ExecContext(ctx, `
			UPDATE outbox SET status = 'undeliverable', locked_until = NULL, last_error = $3
			WHERE channel = $1 AND chat_id = $2 AND status IN ('pending', 'sending')`,
			it.Channel, it.ChatID, db.ErrorText(cause))
		if err != nil {
			return fmt.Errorf("mark undeliverable: %w", err)
		}
		m, _ := res.RowsAffected()
		n = int(m)
		return nil
	})
	return n, err
}

// OutboxStatus returns the status of an outbox row, or ErrNotFound.
func (s *Store) OutboxStatus(ctx context.Context, id int64) (string, error) {
	var st string
	err := sqlx.GetContext(ctx, s.q, &st, `SELECT status FROM outbox WHERE id = $1`, id)
	if err != nil {
		if db.IsNoRows(err) {
			return "", fmt.Errorf("outbox %d: %w", id, ErrNotFound)
		}
		return "", fmt.Errorf("outbox status: %w", err)
	}
	return st, nil
}

// PurgeOutbox deletes finished rows (sent, failed, undeliverable) older than
// before; the messages table keeps what was said. It returns the count.
func (s *Store) PurgeOutbox(ctx context.Context, before time.Time) (int64, error) {
	res, err := s.q.ExecContext(ctx, `
		DELETE FROM outbox WHERE status IN ('sent', 'failed', 'undeliverable') AND created_at < $1`, before)
	if err != nil {
		return 0, fmt.Errorf("purge outbox: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

func (s *Store) deleteClaimed(ctx context.Context, it OutboxItem) error {
	return s.expectOne(s.q.ExecContext(ctx, `
		DELETE FROM outbox WHERE id = $1 AND attempts = $2 AND status = 'sending'`, it.ID, it.Attempts))
}

func (s *Store) expectOne(res interface{ RowsAffected() (int64, error) }, err error) error {
	if err != nil {
		return fmt.Errorf("update outbox: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("outbox row no longer claimed: %w", ErrNotFound)
	}
	return nil
}
