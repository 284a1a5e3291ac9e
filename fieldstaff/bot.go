package fieldstaff

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jmoiron/sqlx"

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
func (s *Store) HandleMessage(ctx context.Context, tx *sqlx.Tx, m Message) (Reply, error) {
	if r, err := s.HandleAlert(ctx, tx, m.alertInput()); err != nil || r.Handled {
		return r, err
	}
	chatID := m.ChatID
	text := strings.TrimSpace(m.Text)
	cmd, args := command(text)
	switch {
	case cmd == "/start" && strings.HasPrefix(strings.ToLower(args), DeepLinkPrefix):
		return s.redeemReply(ctx, tx, chatID, args[len(DeepLinkPrefix):], true)
	case strings.HasPrefix(strings.ToLower(text), DeepLinkPrefix):
		return s.redeemReply(ctx, tx, chatID, text[len(DeepLinkPrefix):], true)
	}
	if _, ok := NormalizeCode(text); ok && len(text) <= 16 {
		r, err := s.redeemReply(ctx, tx, chatID, text, false)
		if err != nil || r.Handled {
			return r, err
		}
	}
	// One round trip for the common case, a citizen's chat.
	var st struct {
		Linked  bool `db:"linked"`
		Refused bool `db:"refused"`
	}
	if err := tx.GetContext(ctx, &st, `SELECT EXISTS (SELECT 1 FROM fieldstaff_links WHERE chat_id = $1) AS linked,
		EXISTS (SELECT 1 FROM fieldstaff_refused_chats WHERE chat_id = $1) AS refused`, chatID); err != nil {
		return Reply{}, fmt.Errorf("load chat status: %w", err)
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
