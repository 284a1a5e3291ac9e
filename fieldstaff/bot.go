package fieldstaff

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"citybot/internal/i18n"
	"citybot/routing"
)

// Reply is what the bot does with a message of a chat (HandleChat).
type Reply struct {
	// Handled: the chat is staff (linked, just linked, or refused); the
	// message must not reach the citizen dialog. False: a citizen's chat.
	Handled bool
	// Text is the answer to send (German first, English second); empty
	// for none.
	Text string
	// Linked and Unlinked: the chat became, or stopped being, a staff
	// chat (the bot changes the chat's command menu).
	Linked, Unlinked bool
	// Buttons, one per row, go with Text (report.go).
	Buttons []Button
	// ClearButtons is a message whose buttons the bot removes (0: none).
	ClearButtons int
}

// StaffCommands are the commands of a linked chat's menu, described in
// German, then English (the bot also understands English aliases).
var StaffCommands = staffCommands()

func staffCommands() []struct{ Command, Description string } {
	var out []struct{ Command, Description string }
	for _, c := range []string{"hilfe", "meinedaten", "senden", "abbrechen", "abmelden"} {
		out = append(out, struct{ Command, Description string }{c,
			textIn(i18n.Ref, "command."+c) + " / " + textIn("en", "command."+c)})
	}
	return out
}

// HandleChat decides, in tx (the transaction of the update), whether a
// message of chatID is staff's and answers it: "/start staff-<code>",
// "staff-<code>" or a bare code links the chat; a linked chat's commands
// (/hilfe, /meinedaten, /abmelden) are answered and anything else it sends
// gets a short note, never the citizen dialog; a refused chat (its user
// was deactivated) is told so. Every other chat is not handled.
func (s *Store) HandleChat(ctx context.Context, tx *sqlx.Tx, chatID int64, text string) (Reply, error) {
	return s.HandleMessage(ctx, tx, Message{ChatID: chatID, Kind: routing.KindText, Text: text})
}

// HandleMessage is HandleChat for a whole message: a reply to a case alert
// or its button (HandleAlert); a linked chat's photos,
// position and text make a field report (report.go).
//
// A staff chat (linked, refused, or sending a link code) that sent
// m.Flood.Limit messages within m.Flood.Window gets one notice and then
// nothing is taken or answered until it slows down, as citizens' chats
// are limited (an album counts as one message).
func (s *Store) HandleMessage(ctx context.Context, tx *sqlx.Tx, m Message) (Reply, error) {
	chatID := m.ChatID
	text := strings.TrimSpace(m.Text)
	cmd, args := command(text)
	deepLink := cmd == "/start" && strings.HasPrefix(strings.ToLower(args), DeepLinkPrefix)
	prefixed := strings.HasPrefix(strings.ToLower(text), DeepLinkPrefix)
	// One round trip for the common case, a citizen's chat: whether the
	// chat is linked or refused, and for a staff chat its recent messages.
	// None when the caller knows the chat is neither (m.NotStaff) and the
	// message is no link code: chatStatus would count nothing and find
	// the chat under no limit.
	var st chatState
	if !m.NotStaff || deepLink || prefixed {
		var err error
		if st, err = chatStatus(ctx, tx, m, deepLink || prefixed); err != nil {
			return Reply{}, err
		}
	}
	if over, notice := m.Flood.Check(st.RecentIn); over && (st.Linked || st.Refused || deepLink || prefixed) {
		if notice && !st.AlbumNext {
			return Reply{Handled: true, Text: both("flood.notice")}, nil
		}
		return Reply{Handled: true}, nil
	}
	if r, err := s.HandleAlert(ctx, tx, m.alertInput()); err != nil || r.Handled {
		return r, err
	}
	switch {
	case deepLink:
		return s.redeemReply(ctx, tx, chatID, args[len(DeepLinkPrefix):], true)
	case prefixed:
		return s.redeemReply(ctx, tx, chatID, text[len(DeepLinkPrefix):], true)
	}
	if _, ok := NormalizeCode(text); ok && len(text) <= 16 {
		r, err := s.redeemReply(ctx, tx, chatID, text, false)
		if err != nil || r.Handled {
			return r, err
		}
	}
	switch {
	case !st.Linked && st.Refused:
		return Reply{Handled: true, Text: both("link.refused")}, nil
	case !st.Linked:
		return Reply{}, nil
	}
	l, err := s.lookup(ctx, tx, chatID)
	if err != nil {
		return Reply{}, err
	}
	if r, ok, err := s.fieldReport(ctx, tx, l, m); ok || err != nil {
		return r, err
	}
	switch cmd {
	case "/abmelden", "/unlink":
		if err := s.UnlinkChat(ctx, tx, chatID); err != nil {
			return Reply{}, err
		}
		return Reply{Handled: true, Text: both("link.unlinked"), Unlinked: true}, nil
	case "/meinedaten", "/mydata":
		text, err := s.myData(ctx, tx, l)
		if err != nil {
			return Reply{}, err
		}
		return Reply{Handled: true, Text: text}, nil
	case "/start", "/hilfe", "/help":
		return Reply{Handled: true, Text: bothBlock("link.help", l.Name)}, nil
	case "":
		if text == "" {
			return Reply{Handled: true}, nil // a button, a sticker: nothing to say
		}
	}
	return Reply{Handled: true, Text: both("link.staff_only")}, nil
}

// redeemReply links chat with code. strict: the text was meant as a code
// (deep link, "staff-" prefix), so a bad code is answered; otherwise a bad
// code is not handled (a citizen wrote ten letters).
func (s *Store) redeemReply(ctx context.Context, tx *sqlx.Tx, chatID int64, code string, strict bool) (Reply, error) {
	// A savepoint, so that a refused code leaves the transaction usable.
	if _, err := tx.ExecContext(ctx, `SAVEPOINT fieldstaff_redeem`); err != nil {
		return Reply{}, fmt.Errorf("savepoint: %w", err)
	}
	l, err := s.Redeem(ctx, tx, chatID, code)
	switch {
	case err == nil:
		if _, err := tx.ExecContext(ctx, `RELEASE SAVEPOINT fieldstaff_redeem`); err != nil {
			return Reply{}, fmt.Errorf("release savepoint: %w", err)
		}
		return Reply{Handled: true, Linked: true, Text: both("link.linked", l.Name) + "\n\n" + bothBlock("link.help", l.Name)}, nil
	case errors.Is(err, ErrCodeInvalid), errors.Is(err, ErrChatTaken):
		if _, rerr := tx.ExecContext(ctx, `ROLLBACK TO SAVEPOINT fieldstaff_redeem`); rerr != nil {
			return Reply{}, fmt.Errorf("rollback to savepoint: %w", rerr)
		}
		if !strict {
			return Reply{}, nil
		}
		if errors.Is(err, ErrChatTaken) {
			return Reply{Handled: true, Text: both("link.chat_taken")}, nil
		}
		return Reply{Handled: true, Text: both("link.code_invalid")}, nil
	default:
		return Reply{}, err
	}
}

// command is the lower-case command of text ("/start@citybot x" ->
// "/start", "x"); "" when text is no command.
func command(text string) (cmd, args string) {
	if !strings.HasPrefix(text, "/") {
		return "", ""
	}
	cmd, args, _ = strings.Cut(text, " ")
	cmd, _, _ = strings.Cut(cmd, "\n")
	cmd, _, _ = strings.Cut(cmd, "@")
	return strings.ToLower(cmd), strings.TrimSpace(args)
}

// myData is the answer to /meinedaten: the linked account, the alert mode
// of each of the user's departments, the open field reports and a draft,
// and what is stored.
func (s *Store) myData(ctx context.Context, tx *sqlx.Tx, l Link) (string, error) {
	deps := "–"
	if len(l.Departments) > 0 {
		deps = strings.Join(l.Departments, ", ")
	}
	since := l.LinkedAt.In(s.loc).Format("02.01.2006 15:04")
	var b strings.Builder
	b.WriteString(bothBlock("mydata.link", l.Name, l.Email, deps, since))
	settings, err := alertSettings(ctx, tx, l.UserID)
	if err != nil {
		return "", err
	}
	b.WriteString("\n\n" + pair("mydata.alerts"))
	if len(settings) == 0 {
		b.WriteString(" " + pair("mydata.alerts_none"))
	}
	for _, a := range settings {
		b.WriteString("\n" + textIn(i18n.Ref, "mydata.alert_line", a.DepartmentName,
			pair("alert_mode."+a.Mode)))
	}
	reports, err := s.myReports(ctx, tx, l)
	if err != nil {
		return "", err
	}
	b.WriteString(reports)
	b.WriteString("\n\n" + both("mydata.stored"))
	return b.String(), nil
}

// StaffChatsAmong returns which of chatIDs are linked or refused chats, in
// one statement in tx: the others are citizens' chats, for which the
// caller sets Message.NotStaff (a batch of updates asks once, not once per
// update). tx must be of the Store's database (the statement is prepared).
func (s *Store) StaffChatsAmong(ctx context.Context, tx *sqlx.Tx, chatIDs []int64) (map[int64]bool, error) {
	if len(chatIDs) == 0 {
		return nil, nil
	}
	var ids []int64
	if err := s.stmts.Select(ctx, tx, &ids, `
		SELECT chat_id FROM fieldstaff_links WHERE chat_id = ANY ($1::bigint[])
		UNION
		SELECT chat_id FROM fieldstaff_refused_chats WHERE chat_id = ANY ($1::bigint[])`, pq.Int64Array(chatIDs)); err != nil {
		return nil, fmt.Errorf("load staff chats: %w", err)
	}
	staff := make(map[int64]bool, len(ids))
	for _, id := range ids {
		staff[id] = true
	}
	return staff, nil
}

// chatState is what HandleMessage first learns of a chat.
type chatState struct {
	Linked  bool `db:"linked"`
	Refused bool `db:"refused"`
	// RecentIn: the staff chat's counted messages within m.Flood.Window
	// before this one (0 for a citizen's chat, or without a limit).
	RecentIn int `db:"recent_in"`
	// AlbumNext: a later photo of the album of the chat's last photo (not
	// counted; over the limit when the album's first photo was, but the
	// notice went with that one).
	AlbumNext bool `db:"album_next"`
}

// chatStatus loads whether m's chat is linked or refused and, with a flood
// limit, counts m for a staff chat (linked, refused, or code: the message
// is a link code) in one statement. The latest Limit+1 times within the
// window are kept: enough to tell the message that reaches the limit
// from those after it. The later photos of an album are not counted.
func chatStatus(ctx context.Context, tx *sqlx.Tx, m Message, code bool) (chatState, error) {
	var st chatState
	if m.Flood.Limit <= 0 {
		err := tx.GetContext(ctx, &st, `SELECT EXISTS (SELECT 1 FROM fieldstaff_links WHERE chat_id = $1) AS linked,
			EXISTS (SELECT 1 FROM fieldstaff_refused_chats WHERE chat_id = $1) AS refused, 0 AS recent_in, false AS album_next`, m.ChatID)
		if err != nil {
			return st, fmt.Errorf("load chat status: %w", err)
		}
		return st, nil
	}
	err := tx.GetContext(ctx, &st, `
		WITH s AS (
			SELECT EXISTS (SELECT 1 FROM fieldstaff_links WHERE chat_id = $1) AS linked,
				EXISTS (SELECT 1 FROM fieldstaff_refused_chats WHERE chat_id = $1) AS refused,
				-- The statement's snapshot: the row before the update below.
				$3 <> '' AND EXISTS (SELECT 1 FROM fieldstaff_chat_flood WHERE chat_id = $1 AND last_group = $3) AS album_next
		), f AS (
			INSERT INTO fieldstaff_chat_flood AS f (chat_id, recent, last_group)
			SELECT $1, ARRAY[now()], $3 FROM s WHERE s.linked OR s.refused OR $2
			ON CONFLICT (chat_id) DO UPDATE SET
				recent = CASE WHEN $3 <> '' AND f.last_group = $3 THEN f.recent
					ELSE ARRAY(SELECT t FROM (
						SELECT t FROM unnest(f.recent) t WHERE t > now() - make_interval(secs => $4::float8)
						ORDER BY t DESC LIMIT $5) x ORDER BY t) || now() END,
				last_group = $3, updated_at = now()
			RETURNING (SELECT count(*) FROM unnest(f.recent) t WHERE t > now() - make_interval(secs => $4::float8)) - 1 AS n
		)
		SELECT s.linked, s.refused, coalesce((SELECT n FROM f), 0) AS recent_in, s.album_next FROM s`,
		m.ChatID, code, m.MediaGroupID, m.Flood.Window.Seconds(), m.Flood.Limit+1)
	if err != nil {
		return st, fmt.Errorf("load chat status: %w", err)
	}
	return st, nil
}
