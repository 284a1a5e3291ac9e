package routing

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"citybot/internal/db"
)

// Channels a citizen can write through.
const (
	ChannelTelegram = "telegram"
	ChannelWeb      = "web"
)

// Message directions and senders.
const (
	DirectionIn  = "in"
	DirectionOut = "out"

	SenderCitizen = "citizen"
	SenderBot     = "bot"
	SenderStaff   = "staff"
)

// Message kinds.
const (
	KindText     = "text"
	KindButton   = "button" // a press of an inline button
	KindPhoto    = "photo"
	KindDocument = "document"
	KindLocation = "location"
	KindSticker  = "sticker"
	KindVoice    = "voice"
	KindOther    = "other"
)

// Citizen is a person writing through one channel (one Telegram chat).
type Citizen struct {
	ID         int64     `db:"id" json:"id"`
	Channel    string    `db:"channel" json:"channel"`
	ExternalID string    `db:"external_id" json:"external_id"`
	Language   string    `db:"language" json:"language"`
	CreatedAt  time.Time `db:"created_at" json:"created_at"`
	LastSeenAt time.Time `db:"last_seen_at" json:"last_seen_at"`
}

// Media describes what a non-text message carried: file references of the
// channel (never the file content), or a location.
type Media struct {
	Type         string   `json:"type,omitempty"` // photo, document, sticker, voice, location, ...
	FileID       string   `json:"file_id,omitempty"`
	FileUniqueID string   `json:"file_unique_id,omitempty"`
	FileName     string   `json:"file_name,omitempty"`
	MIMEType     string   `json:"mime_type,omitempty"`
	FileSize     int64    `json:"file_size,omitempty"`
	Emoji        string   `json:"emoji,omitempty"`
	Latitude     *float64 `json:"latitude,omitempty"`
	Longitude    *float64 `json:"longitude,omitempty"`
	// Title and Address of a place the citizen chose (a Telegram venue),
	// as they sent them; empty for a bare location.
	Title   string `json:"title,omitempty"`
	Address string `json:"address,omitempty"`
}

// Value stores Media as jsonb.
func (m *Media) Value() (driver.Value, error) {
	if m == nil {
		return nil, nil
	}
	return json.Marshal(m)
}

// Scan reads Media from jsonb.
func (m *Media) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		return nil
	case []byte:
		return json.Unmarshal(v, m)
	case string:
		return json.Unmarshal([]byte(v), m)
	default:
		return fmt.Errorf("media: cannot scan %T", src)
	}
}

// Message is one inbound or outbound message of a citizen's chat.
type Message struct {
	ID                int64     `db:"id" json:"id"`
	CitizenID         int64     `db:"citizen_id" json:"-"`
	Direction         string    `db:"direction" json:"direction"`
	Kind              string    `db:"kind" json:"kind"`
	Text              string    `db:"text" json:"text"`
	Media             *Media    `db:"media" json:"media,omitempty"`
	Sender            string    `db:"sender" json:"sender"`
	StaffUserID       *int64    `db:"staff_user_id" json:"-"`
	ExternalMessageID *string   `db:"external_message_id" json:"-"`
	CreatedAt         time.Time `db:"created_at" json:"created_at"`
}

// Store keeps citizens, their messages and the outbox. A Store works on the
// database or, from WithTx, inside a transaction.
type Store struct {
	db *sqlx.DB
	q  sqlx.ExtContext
	tx *sqlx.Tx
	// sent groups concurrent MarkSent calls on the database (not in a
	// transaction) into one statement.
	sent *markBatcher
	// stmts are the prepared statements of the hot paths (nil without a
	// database: NewStore(nil).WithTx(tx) runs them unprepared).
	stmts *db.Stmts
	// owner is the instance (db.Instance) recorded on outbox claims; 0: none.
	owner int32
}

// NewStore returns a Store on d. The statements of the hot paths (citizen,
// message, outbox) are prepared once per connection of d, also when they
// run in a transaction of WithTx: one round trip each instead of two, and
// no parsing and planning per call.
func NewStore(d *sqlx.DB) *Store {
	return &Store{db: d, q: d, sent: &markBatcher{}, stmts: db.NewStmts(d)}
}

// WithTx returns a Store whose statements run in tx (tx must be of the
// Store's database, when it has one).
func (s *Store) WithTx(tx *sqlx.Tx) *Store {
	return &Store{db: s.db, q: tx, tx: tx, stmts: s.stmts, owner: s.owner}
}

// WithOwner returns a Store that records instance id on the outbox rows it
// claims (0: none), so that other instances can take them over at once
// should this one die (EndOrphanedClaims).
func (s *Store) WithOwner(id int32) *Store {
	c := *s
	c.owner = id
	return &c
}

// prepared returns query as a statement of the Store (in its transaction),
// or nil when the Store has no database to prepare it on.
func (s *Store) prepared(ctx context.Context, query string) (*sqlx.Stmt, error) {
	return s.stmts.Prepared(ctx, s.tx, query)
}

// get runs a query returning one row into dest, prepared when possible.
func (s *Store) get(ctx context.Context, dest any, query string, args ...any) error {
	st, err := s.prepared(ctx, query)
	if err != nil {
		return err
	}
	if st == nil {
		return sqlx.GetContext(ctx, s.q, dest, query, args...)
	}
	return st.GetContext(ctx, dest, args...)
}

// sel runs a query returning rows into dest, prepared when possible.
func (s *Store) sel(ctx context.Context, dest any, query string, args ...any) error {
	st, err := s.prepared(ctx, query)
	if err != nil {
		return err
	}
	if st == nil {
		return sqlx.SelectContext(ctx, s.q, dest, query, args...)
	}
	return st.SelectContext(ctx, dest, args...)
}

// InTx runs fn with a Store inside one transaction (or inside the Store's
// transaction, when it has one).
func (s *Store) InTx(ctx context.Context, fn func(*Store) error) error {
	return db.InTxWith(ctx, s.db, s.tx, func(tx *sqlx.Tx) error {
		if tx == s.tx {
			return fn(s)
		}
		return fn(s.WithTx(tx))
	})
}

const citizenColumns = `id, channel, external_id, language, created_at, last_seen_at`

// TouchCitizen returns the citizen of (channel, externalID), creating it when
// new, and records that they were seen now. A non-empty language replaces the
// stored one.
func (s *Store) TouchCitizen(ctx context.Context, channel, externalID, language string) (Citizen, error) {
	var c Citizen
	err := s.get(ctx, &c, `
		INSERT INTO citizens (channel, external_id, language)
		VALUES ($1, $2, COALESCE(NULLIF($3, ''), 'de'))
		ON CONFLICT (channel, external_id) DO UPDATE
		SET last_seen_at = now(),
		    language = COALESCE(NULLIF($3, ''), citizens.language)
		RETURNING `+citizenColumns, channel, externalID, language)
	if err != nil {
		return Citizen{}, fmt.Errorf("touch citizen: %w", err)
	}
	return c, nil
}

// Received is what Receive stored.
type Received struct {
	Citizen Citizen
	Message Message
	// MayHaveCase: the citizen has an open case, or one closed (not
	// withdrawn) within the caseWindow given to Receive. When false, no case
	// can be active and the case lookup can be skipped.
	MayHaveCase bool
	// RecentIn is how many messages the citizen sent within the recent
	// window given to Receive before this one (counted among their last
	// RecentWindow messages), for flood protection; 0 without a window.
	RecentIn int
}

// RecentWindow is how many of a citizen's latest messages (both
// directions) Receive looks at to count their recent ones: a bounded index
// scan, whatever the citizen's history.
const RecentWindow = 100

// Receive records an inbound message of the chat (channel, externalID) in
// one statement: the citizen as TouchCitizen does, then m as AddMessage does
// (m.CitizenID is filled in). With caseWindow > 0 it also tells whether the
// citizen may have an active case (see Received.MayHaveCase); with
// recentWindow > 0, how many messages they sent within it (RecentIn).
func (s *Store) Receive(ctx context.Context, channel, externalID, language string, m Message, caseWindow, recentWindow time.Duration) (Received, error) {
	m.CitizenID = -1 // validated without a citizen; the statement sets it
	if err := validMessage(m); err != nil {
		return Received{}, err
	}
	var r struct {
		Citizen
		MsgID        int64     `db:"msg_id"`
		MsgCreatedAt time.Time `db:"msg_created_at"`
		MayHaveCase  bool      `db:"may_have_case"`
		RecentIn     int       `db:"recent_in"`
	}
	err := s.get(ctx, &r, `
		WITH c AS (
			INSERT INTO citizens (channel, external_id, language)
			VALUES ($1, $2, COALESCE(NULLIF($3, ''), 'de'))
			ON CONFLICT (channel, external_id) DO UPDATE
			SET last_seen_at = now(),
			    language = COALESCE(NULLIF($3, ''), citizens.language)
			RETURNING `+citizenColumns+`
		), m AS (
			INSERT INTO messages (citizen_id, direction, kind, text, media, sender, staff_user_id, external_message_id)
			SELECT c.id, $4, $5, $6, $7, $8, $9, $10 FROM c
			RETURNING id, created_at
		)
		SELECT `+prefixed("c.", citizenColumns)+`, m.id AS msg_id, m.created_at AS msg_created_at,
			$11::float8 > 0 AND EXISTS (
				SELECT 1 FROM cases k WHERE k.citizen_id = c.id
				  AND (k.status <> 'closed' OR (k.close_reason <> 'withdrawn' AND k.closed_at > now() - make_interval(secs => $11::float8)))
			) AS may_have_case,
			-- The statement's own message is not visible here: earlier ones only.
			CASE WHEN $12::float8 > 0 THEN (SELECT count(*) FROM (
				SELECT r.direction, r.created_at FROM messages r WHERE r.citizen_id = c.id
				ORDER BY r.id DESC LIMIT `+strconv.Itoa(RecentWindow)+`) x
			 WHERE x.direction = 'in' AND x.created_at > now() - make_interval(secs => $12::float8)) ELSE 0 END AS recent_in
		FROM c, m`,
		channel, externalID, language,
		m.Direction, m.Kind, m.Text, m.Media, m.Sender, m.StaffUserID, m.ExternalMessageID, caseWindow.Seconds(), recentWindow.Seconds())
	if err != nil {
		return Received{}, fmt.Errorf("receive message: %w", err)
	}
	m.ID, m.CitizenID, m.CreatedAt = r.MsgID, r.Citizen.ID, r.MsgCreatedAt
	return Received{Citizen: r.Citizen, Message: m, MayHaveCase: r.MayHaveCase, RecentIn: r.RecentIn}, nil
}

// Receipt is one inbound message for ReceiveAll: what Receive takes.
type Receipt struct {
	Channel, ExternalID, Language string
	Message                       Message
}

// ReceiveAll records the inbound messages of several chats as Receive does
// for each, in one statement (the citizens, then the messages in the order
// given). The chats must be distinct (one message per (channel,
// ExternalID)): a chat's messages are received one after the other, as its
// dialog handles them. The results are in the order of rs.
func (s *Store) ReceiveAll(ctx context.Context, rs []Receipt, caseWindow, recentWindow time.Duration) ([]Received, error) {
	if len(rs) == 0 {
		return nil, nil
	}
	n := len(rs)
	channels, ids, langs := make(pq.StringArray, n), make(pq.StringArray, n), make(pq.StringArray, n)
	dirs, kinds, texts, media := make(pq.StringArray, n), make(pq.StringArray, n), make(pq.StringArray, n), make(pq.StringArray, n)
	senders, extIDs, staff := make(pq.StringArray, n), make(pq.StringArray, n), make(pq.Int64Array, n)
	type chat struct{ channel, id string }
	seen := make(map[chat]bool, n)
	for i, r := range rs {
		m := r.Message
		m.CitizenID = -1 // set by the statement
		if err := validMessage(m); err != nil {
			return nil, err
		}
		k := chat{r.Channel, r.ExternalID}
		if seen[k] {
			return nil, fmt.Errorf("receive: chat %s/%s twice: %w", r.Channel, r.ExternalID, ErrInvalid)
		}
		seen[k] = true
		channels[i], ids[i], langs[i] = r.Channel, r.ExternalID, r.Language
		dirs[i], kinds[i], texts[i], senders[i] = m.Direction, m.Kind, m.Text, m.Sender
		if m.Media != nil {
			b, err := json.Marshal(m.Media)
			if err != nil {
				return nil, fmt.Errorf("receive: media: %w", err)
			}
			media[i] = string(b)
		}
		if m.ExternalMessageID != nil {
			extIDs[i] = *m.ExternalMessageID
		}
		if m.StaffUserID != nil {
			staff[i] = *m.StaffUserID
		}
	}
	var rows []struct {
		Citizen
		N            int       `db:"n"`
		MsgID        int64     `db:"msg_id"`
		MsgCreatedAt time.Time `db:"msg_created_at"`
		MayHaveCase  bool      `db:"may_have_case"`
		RecentIn     int       `db:"recent_in"`
	}
	// The citizens are upserted in key order (two statements of the same
	// chats lock them in the same order); an empty language keeps the
	// stored one, as in Receive.
	err := s.sel(ctx, &rows, `
		WITH r AS MATERIALIZED (
			SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::bigint[])
				WITH ORDINALITY AS r (channel, external_id, language, direction, kind, text, media, sender, external_message_id, staff_user_id, n)
		), c AS (
			INSERT INTO citizens (channel, external_id, language)
			SELECT r.channel, r.external_id, COALESCE(NULLIF(r.language, ''), 'de') FROM r
			ORDER BY r.channel, r.external_id
			ON CONFLICT (channel, external_id) DO UPDATE
			SET last_seen_at = now(),
			    language = COALESCE(NULLIF((SELECT r.language FROM r
			        WHERE r.channel = excluded.channel AND r.external_id = excluded.external_id), ''), citizens.language)
			RETURNING `+citizenColumns+`
		), m AS (
			INSERT INTO messages (citizen_id, direction, kind, text, media, sender, staff_user_id, external_message_id)
			SELECT c.id, r.direction, r.kind, r.text, NULLIF(r.media, '')::jsonb, r.sender, NULLIF(r.staff_user_id, 0), NULLIF(r.external_message_id, '')
			FROM r JOIN c ON c.channel = r.channel AND c.external_id = r.external_id
			ORDER BY r.n
			RETURNING id, citizen_id, created_at
		)
		SELECT r.n, `+prefixed("c.", citizenColumns)+`, m.id AS msg_id, m.created_at AS msg_created_at,
			$11::float8 > 0 AND EXISTS (
				SELECT 1 FROM cases k WHERE k.citizen_id = c.id
				  AND (k.status <> 'closed' OR (k.close_reason <> 'withdrawn' AND k.closed_at > now() - make_interval(secs => $11::float8)))
			) AS may_have_case,
			-- The statement's own messages are not visible here: earlier ones only.
			CASE WHEN $12::float8 > 0 THEN (SELECT count(*) FROM (
				SELECT x.direction, x.created_at FROM messages x WHERE x.citizen_id = c.id
				ORDER BY x.id DESC LIMIT `+strconv.Itoa(RecentWindow)+`) y
			 WHERE y.direction = 'in' AND y.created_at > now() - make_interval(secs => $12::float8)) ELSE 0 END AS recent_in
		FROM r JOIN c ON c.channel = r.channel AND c.external_id = r.external_id
		JOIN m ON m.citizen_id = c.id
		ORDER BY r.n`,
		channels, ids, langs, dirs, kinds, texts, media, senders, extIDs, staff, caseWindow.Seconds(), recentWindow.Seconds())
	if err != nil {
		return nil, fmt.Errorf("receive messages: %w", err)
	}
	if len(rows) != n {
		return nil, fmt.Errorf("receive messages: %d of %d stored", len(rows), n)
	}
	out := make([]Received, n)
	for _, r := range rows {
		m := rs[r.N-1].Message
		m.ID, m.CitizenID, m.CreatedAt = r.MsgID, r.Citizen.ID, r.MsgCreatedAt
		out[r.N-1] = Received{Citizen: r.Citizen, Message: m, MayHaveCase: r.MayHaveCase, RecentIn: r.RecentIn}
	}
	return out, nil
}

// CitizenByExternalID returns the citizen of (channel, externalID), or
// ErrNotFound.
func (s *Store) CitizenByExternalID(ctx context.Context, channel, externalID string) (Citizen, error) {
	var c Citizen
	err := sqlx.GetContext(ctx, s.q, &c, `SELECT `+citizenColumns+` FROM citizens WHERE channel = $1 AND external_id = $2`, channel, externalID)
	if errors.Is(err, sql.ErrNoRows) {
		return Citizen{}, fmt.Errorf("citizen %s/%s: %w", channel, externalID, ErrNotFound)
	}
	if err != nil {
		return Citizen{}, fmt.Errorf("get citizen: %w", err)
	}
	return c, nil
}

// Citizen returns the citizen with id, or ErrNotFound.
func (s *Store) Citizen(ctx context.Context, id int64) (Citizen, error) {
	var c Citizen
	err := sqlx.GetContext(ctx, s.q, &c, `SELECT `+citizenColumns+` FROM citizens WHERE id = $1`, id)
	if errors.Is(err, sql.ErrNoRows) {
		return Citizen{}, fmt.Errorf("citizen %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return Citizen{}, fmt.Errorf("get citizen: %w", err)
	}
	return c, nil
}

const messageColumns = `id, citizen_id, direction, kind, text, media, sender, staff_user_id, external_message_id, created_at`

// AddMessage stores a message and returns it with id and time set.
func (s *Store) AddMessage(ctx context.Context, m Message) (Message, error) {
	if err := validMessage(m); err != nil {
		return Message{}, err
	}
	var out Message
	err := s.get(ctx, &out, `
		INSERT INTO messages (citizen_id, direction, kind, text, media, sender, staff_user_id, external_message_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		RETURNING `+messageColumns,
		m.CitizenID, m.Direction, m.Kind, m.Text, m.Media, m.Sender, m.StaffUserID, m.ExternalMessageID)
	if err != nil {
		if db.IsForeignKeyViolation(err) {
			return Message{}, fmt.Errorf("add message: citizen %d: %w", m.CitizenID, ErrNotFound)
		}
		return Message{}, fmt.Errorf("add message: %w", err)
	}
	return out, nil
}

func validMessage(m Message) error {
	switch {
	case m.CitizenID == 0:
		return fmt.Errorf("message without citizen: %w", ErrInvalid)
	case m.Direction != DirectionIn && m.Direction != DirectionOut:
		return fmt.Errorf("message direction %q: %w", m.Direction, ErrInvalid)
	case (m.Sender == SenderCitizen) != (m.Direction == DirectionIn):
		return fmt.Errorf("message sender %q with direction %q: %w", m.Sender, m.Direction, ErrInvalid)
	case m.Kind == "":
		return fmt.Errorf("message without kind: %w", ErrInvalid)
	}
	return nil
}

// Messages returns the messages of a citizen, oldest first.
func (s *Store) Messages(ctx context.Context, citizenID int64) ([]Message, error) {
	var ms []Message
	if err := sqlx.SelectContext(ctx, s.q, &ms, `SELECT `+messageColumns+` FROM messages WHERE citizen_id = $1 ORDER BY id`, citizenID); err != nil {
		return nil, fmt.Errorf("list messages: %w", err)
	}
	return ms, nil
}

// Export is what is stored about a citizen in this package's tables, for
// the citizen's right of access (Art. 15 DSGVO).
type Export struct {
	Citizen  Citizen   `json:"citizen"`
	Messages []Message `json:"messages"`
}

// Export returns the citizen's data, or ErrNotFound.
func (s *Store) Export(ctx context.Context, citizenID int64) (Export, error) {
	c, err := s.Citizen(ctx, citizenID)
	if err != nil {
		return Export{}, err
	}
	ms, err := s.Messages(ctx, citizenID)
	if err != nil {
		return Export{}, err
	}
	if ms == nil {
		ms = []Message{}
	}
	return Export{Citizen: c, Messages: ms}, nil
}

// CitizenCase is a case of a citizen with its messages, for the citizen's
// right of access (the bot's /meinedaten).
type CitizenCase struct {
	ID          int64      `db:"id" json:"id"`
	Department  string     `db:"department" json:"department"`
	Status      string     `db:"status" json:"status"`
	Reason      string     `db:"reason" json:"reason"`
	Subject     string     `db:"subject" json:"subject"`
	CreatedAt   time.Time  `db:"created_at" json:"created_at"`
	ClosedAt    *time.Time `db:"closed_at" json:"closed_at,omitempty"`
	CloseReason string     `db:"close_reason" json:"close_reason,omitempty"`
	Messages    []Message  `db:"-" json:"messages"`
}

// CitizenCases returns the citizen's cases, oldest first, each with its
// messages (none: an empty list).
func (s *Store) CitizenCases(ctx context.Context, citizenID int64) ([]CitizenCase, error) {
	cs := []CitizenCase{}
	if err := sqlx.SelectContext(ctx, s.q, &cs, `
		SELECT c.id, d.name AS department, c.status, c.reason, c.subject, c.created_at, c.closed_at, c.close_reason
		FROM cases c JOIN departments d ON d.id = c.department_id
		WHERE c.citizen_id = $1 ORDER BY c.id`, citizenID); err != nil {
		return nil, fmt.Errorf("list cases: %w", err)
	}
	if len(cs) == 0 {
		return cs, nil
	}
	var rows []struct {
		CaseID int64 `db:"case_id"`
		Message
	}
	if err := sqlx.SelectContext(ctx, s.q, &rows, `
		SELECT cm.case_id, m.id, m.citizen_id, m.direction, m.kind, m.text, m.media, m.sender, m.staff_user_id,
			m.external_message_id, m.created_at
		FROM case_messages cm JOIN messages m ON m.id = cm.message_id
		JOIN cases c ON c.id = cm.case_id
		WHERE c.citizen_id = $1 ORDER BY m.id`, citizenID); err != nil {
		return nil, fmt.Errorf("list case messages: %w", err)
	}
	idx := make(map[int64]int, len(cs))
	for i := range cs {
		cs[i].Messages = []Message{}
		idx[cs[i].ID] = i
	}
	for _, r := range rows {
		if i, ok := idx[r.CaseID]; ok {
			cs[i].Messages = append(cs[i].Messages, r.Message)
		}
	}
	return cs, nil
}

// EraseCitizen deletes the citizen and, by cascade, everything stored about
// them (messages, outbox rows, answers, feedback, dialog state, ...). Channel
// adapters erase their own raw data (e.g. stored Telegram updates) themselves.
func (s *Store) EraseCitizen(ctx context.Context, citizenID int64) error {
	res, err := s.q.ExecContext(ctx, `DELETE FROM citizens WHERE id = $1`, citizenID)
	if err != nil {
		return fmt.Errorf("erase citizen: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("erase citizen %d: %w", citizenID, ErrNotFound)
	}
	return nil
}
