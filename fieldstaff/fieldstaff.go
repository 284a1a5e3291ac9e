// Package fieldstaff links staff users to their Telegram accounts, so that
// staff on the move can use the city's bot as staff. A user creates a
// one-time link code on their account page (shown once, stored as its
// SHA-256 hash only, valid LinkCodeLifetime, usable once); the bot redeems
// it on "/start staff-<code>" or when the code is sent as a message. A
// linked chat is staff: the bot hands its messages here, never to the
// citizen dialog. Unlinking is possible in the web UI and with /abmelden;
// deactivating a user unlinks (staff calls Deactivated in the
// deactivation's transaction), and the chat is then refused.
//
// The package alone writes fieldstaff_links, fieldstaff_link_codes,
// fieldstaff_refused_chats and fieldstaff_chat_flood (and the tables of
// reports and alerts); it reads users, user_departments and
// departments (staff writes them).
package fieldstaff

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"citybot/internal/apperr"
	"citybot/internal/audit"
	"citybot/internal/db"
	"citybot/routing"
)

// LinkCodeLifetime is how long a link code is valid.
const LinkCodeLifetime = 10 * time.Minute

// DeepLinkPrefix precedes the code in the bot's deep link
// (https://t.me/<bot>?start=staff-<code>).
const DeepLinkPrefix = "staff-"

// codeAlphabet has no look-alikes (0/O, 1/I/L); 10 characters of it are 50
// bits, against a code that lives 10 minutes.
const (
	codeAlphabet = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
	codeLen      = 10
)

// Errors of the package.
var (
	ErrNotFound = apperr.New(apperr.NotFound, "fieldstaff: not found")
	ErrInvalid  = apperr.New(apperr.Invalid, "fieldstaff: invalid")
	// ErrCodeInvalid: the code is unknown, used, expired, or its user is
	// no longer active.
	ErrCodeInvalid = fmt.Errorf("%w: link code unknown, used or expired", ErrInvalid)
	// ErrChatTaken: the chat is linked to another user.
	ErrChatTaken = apperr.New(apperr.Conflict, "fieldstaff: chat linked to another user")
)

// Store is the field staff store.
type Store struct {
	db    *sqlx.DB
	stmts *db.Stmts // the prepared statements of the bot's hot path
	loc   *time.Location
	cases *routing.Cases // WithCases (alert_bot.go)
	desk  Desk           // field reports; nil: none (report.go)
}

// New returns a Store on d that shows times in UTC.
func New(d *sqlx.DB) *Store { return &Store{db: d, stmts: db.NewStmts(d), loc: time.UTC} }

// WithLocation returns a copy of s that shows times (the bot's "linked
// since") in loc, the city's time zone.
func (s *Store) WithLocation(loc *time.Location) *Store {
	c := *s
	if loc != nil {
		c.loc = loc
	}
	return &c
}

// Link is a linked Telegram chat with its user.
type Link struct {
	ChatID      int64     `db:"chat_id"`
	UserID      int64     `db:"user_id"`
	Name        string    `db:"name"`
	Email       string    `db:"email"`
	LinkedAt    time.Time `db:"linked_at"`
	Departments []string  `db:"-"`
}

// newCode returns a random link code.
func newCode() string {
	b := make([]byte, codeLen)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	out := make([]byte, codeLen)
	for i, c := range b {
		// 256 is not a multiple of 31: the bias (at most 1/256) does not
		// matter for a code that lives 10 minutes.
		out[i] = codeAlphabet[int(c)%len(codeAlphabet)]
	}
	return string(out)
}

// NormalizeCode returns the code in its stored form (upper case, without
// spaces and dashes) and whether it looks like a code at all.
func NormalizeCode(s string) (string, bool) {
	s = strings.ToUpper(strings.TrimSpace(s))
	s = strings.NewReplacer(" ", "", "-", "").Replace(s)
	if len(s) != codeLen {
		return "", false
	}
	for _, r := range s {
		if !strings.ContainsRune(codeAlphabet, r) {
			return "", false
		}
	}
	return s, true
}

func codeHash(code string) []byte {
	h := sha256.Sum256([]byte(code))
	return h[:]
}

// CreateLinkCode creates a link code for user (acting for themselves) and
// returns it (the only time it exists in clear) with its expiry. The
// user's earlier unused codes stop working. Audited.
func (s *Store) CreateLinkCode(ctx context.Context, userID int64) (string, time.Time, error) {
	code := newCode()
	var expires time.Time
	err := db.InTx(ctx, s.db, func(tx *sqlx.Tx) error {
		if err := requireActive(ctx, tx, userID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE fieldstaff_link_codes SET expires_at = now()
			WHERE user_id = $1 AND used_at IS NULL AND expires_at > now()`, userID); err != nil {
			return fmt.Errorf("end old link codes: %w", err)
		}
		if err := tx.GetContext(ctx, &expires, `INSERT INTO fieldstaff_link_codes (user_id, code_hash, expires_at)
			VALUES ($1, $2, now() + make_interval(secs => $3)) RETURNING expires_at`,
			userID, codeHash(code), LinkCodeLifetime.Seconds()); err != nil {
			return fmt.Errorf("insert link code: %w", err)
		}
		return audit.Record(ctx, tx, userID, "fieldstaff.code", "user", strconv.FormatInt(userID, 10), nil)
	})
	if err != nil {
		return "", time.Time{}, err
	}
	return code, expires, nil
}

// Redeem uses up code and links chat to the code's user, in tx (the
// handling transaction of the update), with its audit row. A user linked
// from another chat before is moved to this one. Errors: ErrCodeInvalid,
// ErrChatTaken.
func (s *Store) Redeem(ctx context.Context, tx *sqlx.Tx, chatID int64, code string) (Link, error) {
	norm, ok := NormalizeCode(code)
	if !ok {
		return Link{}, ErrCodeInvalid
	}
	var userID int64
	err := tx.GetContext(ctx, &userID, `UPDATE fieldstaff_link_codes c SET used_at = now(), used_chat = $2
		FROM users u
		WHERE c.code_hash = $1 AND c.used_at IS NULL AND c.expires_at > now() AND u.id = c.user_id AND u.active
		RETURNING c.user_id`, codeHash(norm), chatID)
	if db.IsNoRows(err) {
		return Link{}, ErrCodeInvalid
	}
	if err != nil {
		return Link{}, fmt.Errorf("use link code: %w", err)
	}
	var other int64
	err = tx.GetContext(ctx, &other, `SELECT user_id FROM fieldstaff_links WHERE chat_id = $1 FOR UPDATE`, chatID)
	switch {
	case err == nil && other != userID:
		return Link{}, ErrChatTaken
	case err == nil:
		return s.lookup(ctx, tx, chatID) // linked already: the code is used up, nothing changes
	case !db.IsNoRows(err):
		return Link{}, fmt.Errorf("load link: %w", err)
	}
	var old []int64
	if err := tx.SelectContext(ctx, &old, `DELETE FROM fieldstaff_links WHERE user_id = $1 RETURNING chat_id`, userID); err != nil {
		return Link{}, fmt.Errorf("move link: %w", err)
	}
	for _, c := range old {
		if err := audit.Record(ctx, tx, userID, "fieldstaff.unlink", "user", strconv.FormatInt(userID, 10),
			map[string]any{"chat_id": c, "reason": "relinked"}); err != nil {
			return Link{}, err
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO fieldstaff_links (chat_id, user_id) VALUES ($1, $2)`, chatID, userID); err != nil {
		return Link{}, fmt.Errorf("insert link: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM fieldstaff_refused_chats WHERE chat_id = $1`, chatID); err != nil {
		return Link{}, fmt.Errorf("clear refusal: %w", err)
	}
	if err := audit.Record(ctx, tx, userID, "fieldstaff.link", "user", strconv.FormatInt(userID, 10),
		map[string]any{"chat_id": chatID}); err != nil {
		return Link{}, err
	}
	return s.lookup(ctx, tx, chatID)
}

const linkSelect = `SELECT l.chat_id, l.user_id, u.name, u.email, l.linked_at
	FROM fieldstaff_links l JOIN users u ON u.id = l.user_id`

// Lookup returns the link of chat; ErrNotFound when it is not linked.
func (s *Store) Lookup(ctx context.Context, chatID int64) (Link, error) {
	return s.lookup(ctx, s.db, chatID)
}

func (s *Store) lookup(ctx context.Context, q sqlx.QueryerContext, chatID int64) (Link, error) {
	var l Link
	if err := sqlx.GetContext(ctx, q, &l, linkSelect+` WHERE l.chat_id = $1`, chatID); err != nil {
		if db.IsNoRows(err) {
			return l, fmt.Errorf("chat link: %w", ErrNotFound)
		}
		return l, fmt.Errorf("load chat link: %w", err)
	}
	if err := sqlx.SelectContext(ctx, q, &l.Departments, `SELECT d.name FROM user_departments ud
		JOIN departments d ON d.id = ud.department_id WHERE ud.user_id = $1 ORDER BY d.name`, l.UserID); err != nil {
		return l, fmt.Errorf("load departments: %w", err)
	}
	return l, nil
}

// UserLink returns the link of user; ErrNotFound when they have none.
func (s *Store) UserLink(ctx context.Context, userID int64) (Link, error) {
	var l Link
	if err := s.db.GetContext(ctx, &l, linkSelect+` WHERE l.user_id = $1`, userID); err != nil {
		if db.IsNoRows(err) {
			return l, fmt.Errorf("user link: %w", ErrNotFound)
		}
		return l, fmt.Errorf("load user link: %w", err)
	}
	return l, nil
}

// LinkedUsers returns every link, by user name.
func (s *Store) LinkedUsers(ctx context.Context) ([]Link, error) {
	var ls []Link
	if err := s.db.SelectContext(ctx, &ls, linkSelect+` ORDER BY u.name, l.user_id`); err != nil {
		return nil, fmt.Errorf("list links: %w", err)
	}
	return ls, nil
}

// Unlink removes the link of user on behalf of by (the user, or an
// admin), with its audit row. ErrNotFound when the user has no link.
func (s *Store) Unlink(ctx context.Context, by, userID int64) error {
	return db.InTx(ctx, s.db, func(tx *sqlx.Tx) error {
		return unlink(ctx, tx, by, userID, "unlinked", false)
	})
}

// UnlinkChat removes the link of chat (the /abmelden command) in tx, with
// its audit row; ErrNotFound when the chat is not linked.
func (s *Store) UnlinkChat(ctx context.Context, tx *sqlx.Tx, chatID int64) error {
	var userID int64
	if err := tx.GetContext(ctx, &userID, `SELECT user_id FROM fieldstaff_links WHERE chat_id = $1`, chatID); err != nil {
		if db.IsNoRows(err) {
			return fmt.Errorf("chat link: %w", ErrNotFound)
		}
		return fmt.Errorf("load chat link: %w", err)
	}
	return unlink(ctx, tx, userID, userID, "bot_command", false)
}

// Deactivated ends the link of a user who was deactivated, in the
// deactivation's transaction tx: the chat is refused from now on. A user
// without a link is no error.
func (s *Store) Deactivated(ctx context.Context, tx *sqlx.Tx, by, userID int64) error {
	err := unlink(ctx, tx, by, userID, "deactivated", true)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}

func unlink(ctx context.Context, tx *sqlx.Tx, by, userID int64, reason string, refuse bool) error {
	var chats []int64
	if err := tx.SelectContext(ctx, &chats, `DELETE FROM fieldstaff_links WHERE user_id = $1 RETURNING chat_id`, userID); err != nil {
		return fmt.Errorf("delete link: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE fieldstaff_link_codes SET expires_at = now()
		WHERE user_id = $1 AND used_at IS NULL AND expires_at > now()`, userID); err != nil {
		return fmt.Errorf("end link codes: %w", err)
	}
	if len(chats) == 0 {
		return fmt.Errorf("user link: %w", ErrNotFound)
	}
	for _, c := range chats {
		// Alerts not sent yet stay unsent: the chat is no longer staff's.
		if _, err := routing.NewStore(nil).WithTx(tx).DropStaffChat(ctx, routing.ChannelTelegram, strconv.FormatInt(c, 10)); err != nil {
			return err
		}
		if refuse {
			if _, err := tx.ExecContext(ctx, `INSERT INTO fieldstaff_refused_chats (chat_id, user_id) VALUES ($1, $2)
				ON CONFLICT (chat_id) DO UPDATE SET user_id = EXCLUDED.user_id, refused_at = now()`, c, userID); err != nil {
				return fmt.Errorf("refuse chat: %w", err)
			}
		}
		if err := audit.Record(ctx, tx, by, "fieldstaff.unlink", "user", strconv.FormatInt(userID, 10),
			map[string]any{"chat_id": c, "reason": reason}); err != nil {
			return err
		}
	}
	return nil
}

// Refused reports whether chat is refused (its user was deactivated).
func (s *Store) Refused(ctx context.Context, q sqlx.QueryerContext, chatID int64) (bool, error) {
	var ok bool
	if err := sqlx.GetContext(ctx, q, &ok, `SELECT EXISTS (SELECT 1 FROM fieldstaff_refused_chats WHERE chat_id = $1)`, chatID); err != nil {
		return false, fmt.Errorf("load refusal: %w", err)
	}
	return ok, nil
}

// Sweep deletes expired link codes (used or not) and returns how many; it
// also deletes the flood counts of chats silent for a day.
func (s *Store) Sweep(ctx context.Context) (int64, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM fieldstaff_link_codes WHERE expires_at < now()`)
	if err != nil {
		return 0, fmt.Errorf("sweep link codes: %w", err)
	}
	if _, err := s.db.ExecContext(ctx, `DELETE FROM fieldstaff_chat_flood WHERE updated_at < now() - interval '1 day'`); err != nil {
		return 0, fmt.Errorf("sweep flood counts: %w", err)
	}
	return res.RowsAffected()
}

// requireActive checks in tx that the user exists (else ErrNotFound) and is
// active (else ErrInvalid).
func requireActive(ctx context.Context, tx *sqlx.Tx, userID int64) error {
	var active bool
	if err := tx.GetContext(ctx, &active, `SELECT active FROM users WHERE id = $1`, userID); err != nil {
		if db.IsNoRows(err) {
			return fmt.Errorf("user %d: %w", userID, ErrNotFound)
		}
		return fmt.Errorf("load user: %w", err)
	}
	if !active {
		return fmt.Errorf("user %d inactive: %w", userID, ErrInvalid)
	}
	return nil
}
