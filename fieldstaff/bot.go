package fieldstaff

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jmoiron/sqlx"

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

// StaffCommands are the commands of a linked chat's menu (German, then
// English aliases that the bot also understands).
var StaffCommands = []struct{ Command, Description string }{
	{"hilfe", "Was ich für Mitarbeitende tun kann / help"},
	{"meinedaten", "Was verknüpft ist / what is linked"},
	{"senden", "Meldung absenden / send the field report"},
	{"abbrechen", "Entwurf verwerfen / discard the draft"},
	{"abmelden", "Telegram-Konto trennen / unlink this account"},
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
		return Reply{Handled: true, Text: textRefused}, nil
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
		return Reply{Handled: true, Text: textUnlinked, Unlinked: true}, nil
	case "/meinedaten", "/mydata":
		reports, err := s.myReports(ctx, tx, l)
		if err != nil {
			return Reply{}, err
		}
		return Reply{Handled: true, Text: s.myData(l) + reports}, nil
	case "/start", "/hilfe", "/help":
		return Reply{Handled: true, Text: fmt.Sprintf(textHelp, l.Name)}, nil
	case "":
		if text == "" {
			return Reply{Handled: true}, nil // a button, a sticker: nothing to say
		}
	}
	return Reply{Handled: true, Text: textStaffOnly}, nil
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
		return Reply{Handled: true, Linked: true, Text: fmt.Sprintf(textLinked, l.Name) + "\n\n" + fmt.Sprintf(textHelp, l.Name)}, nil
	case errors.Is(err, ErrCodeInvalid), errors.Is(err, ErrChatTaken):
		if _, rerr := tx.ExecContext(ctx, `ROLLBACK TO SAVEPOINT fieldstaff_redeem`); rerr != nil {
			return Reply{}, fmt.Errorf("rollback to savepoint: %w", rerr)
		}
		if !strict {
			return Reply{}, nil
		}
		if errors.Is(err, ErrChatTaken) {
			return Reply{Handled: true, Text: textChatTaken}, nil
		}
		return Reply{Handled: true, Text: textCodeInvalid}, nil
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

func (s *Store) myData(l Link) string {
	deps := "–"
	if len(l.Departments) > 0 {
		deps = strings.Join(l.Departments, ", ")
	}
	since := l.LinkedAt.In(s.loc).Format("02.01.2006 15:04")
	return fmt.Sprintf(textMyData, l.Name, l.Email, deps, since)
}

const (
	textLinked = "Verknüpft: Dieser Telegram-Chat gehört jetzt zu Ihrem Zugang als %s. " +
		"Ihre Nachrichten hier werden nicht als Bürgeranfragen behandelt.\n" +
		"Linked: this Telegram chat now belongs to your staff account."
	textHelp = "Sie sind als Mitarbeiterin/Mitarbeiter angemeldet (%s).\n" +
		"Außendienstmeldung: Fotos (auch als Album), Standort und Text senden; dann den Fachbereich wählen.\n" +
		"/senden – Meldung absenden\n/abbrechen – Entwurf verwerfen\n" +
		"/meinedaten – was verknüpft ist, offene Meldungen\n/abmelden – dieses Telegram-Konto trennen\n/hilfe – diese Hilfe\n\n" +
		"Field report: send photos, a location and text, then choose the department.\n" +
		"You are linked as staff. /meinedaten shows what is linked, /abmelden unlinks this account."
	textStaffOnly = "Dieser Chat ist mit einem Mitarbeiterzugang verknüpft; Bürgeranfragen sind hier nicht möglich. /hilfe zeigt, was geht.\n" +
		"This chat is linked to a staff account; citizen questions are not possible here. /hilfe shows what you can do."
	textUnlinked = "Getrennt: Dieser Telegram-Chat ist nicht mehr mit Ihrem Mitarbeiterzugang verknüpft.\n" +
		"Unlinked: this chat is no longer linked to your staff account."
	textMyData = "Verknüpft mit / linked to:\nName: %s\nE-Mail: %s\nFachbereiche / departments: %s\nVerknüpft seit / linked since: %s\n\n" +
		"Gespeichert ist nur die Verbindung dieses Chats mit Ihrem Zugang. /abmelden trennt sie.\n" +
		"Only the link of this chat to your account is stored. /abmelden removes it."
	textCodeInvalid = "Dieser Code ist ungültig, schon benutzt oder abgelaufen (er gilt 10 Minuten). Bitte erzeugen Sie auf Ihrer Kontoseite einen neuen.\n" +
		"This code is invalid, used or expired (it is valid for 10 minutes). Please create a new one on your account page."
	textChatTaken = "Dieser Chat ist schon mit einem anderen Mitarbeiterzugang verknüpft. Bitte dort zuerst /abmelden.\n" +
		"This chat is already linked to another staff account. Please /abmelden there first."
	textRefused = "Dieser Chat war mit einem Mitarbeiterzugang verknüpft, der deaktiviert wurde. Er kann den Bot nicht mehr nutzen. Bitte wenden Sie sich an die Verwaltung des Bots.\n" +
		"This chat was linked to a staff account that was deactivated; it can no longer use the bot. Please contact the bot's administrators."
)
