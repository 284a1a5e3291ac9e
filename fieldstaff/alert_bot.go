package fieldstaff

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"citybot/routing"
	"citybot/staff"
)

// WithCases returns a copy of s that answers replies to alerts and their
// buttons with cs (the inbox's case functions, with their permission
// checks). Without it, HandleAlert handles nothing.
func (s *Store) WithCases(cs *routing.Cases) *Store {
	c := *s
	c.cases = cs
	return &c
}

// AlertInput is what HandleAlert needs of a message or button press of a
// chat.
type AlertInput struct {
	ChatID int64
	// Text is the message's text (or caption).
	Text string
	// Data is a pressed button's data ("" for messages).
	Data string
	// ReplyTo is the id of the message this one replies to (0: none), and
	// ReplyToBot whether that message is the bot's (or forwarded).
	ReplyTo    int
	ReplyToBot bool
	// ReplyToText is the start of the replied message's text: an alert's
	// (or a forwarded copy's) is recognised by it.
	ReplyToText string
	// Media: the message carries a file, photo, location, ... not just text.
	Media bool
}

// alertInput is what HandleAlert needs of a message: a button's data only
// for a button press, and whether it carries anything but text.
func (m Message) alertInput() AlertInput {
	in := AlertInput{ChatID: m.ChatID, Text: m.Text, ReplyTo: m.ReplyTo, ReplyToBot: m.ReplyToBot, ReplyToText: m.ReplyToText,
		Media: m.Media != nil || (m.Kind != routing.KindText && m.Kind != routing.KindButton)}
	if m.Kind == routing.KindButton {
		in.Data = m.Data
	}
	return in
}

// HandleAlert handles, in tx (the transaction of the update), what a
// linked staff chat does with an alert: a reply to it answers the citizen
// exactly as the web inbox does (routing.(*Cases).Reply, audited as the
// user), its buttons claim or close the case (Assign, Close). The case
// functions check the user's departments as they do for the web UI: a case
// of another department is refused and nothing changes. A button of an
// alert in a chat that is no longer linked is refused too. Everything else
// (plain messages, a citizen's replies and buttons) is not handled.
func (s *Store) HandleAlert(ctx context.Context, tx *sqlx.Tx, in AlertInput) (Reply, error) {
	button := strings.HasPrefix(in.Data, AlertPrefix)
	// A command is a command, also as a reply (HandleChat answers it).
	reply := in.ReplyTo != 0 && in.ReplyToBot && in.Data == "" && !strings.HasPrefix(strings.TrimSpace(in.Text), "/")
	if s.cases == nil || in.ChatID == 0 || (!button && !reply) {
		return Reply{}, nil
	}
	var st struct {
		UserID  *int64 `db:"user_id"`
		Refused bool   `db:"refused"`
		Alert   bool   `db:"alert"`
	}
	if err := tx.GetContext(ctx, &st, `SELECT (SELECT user_id FROM fieldstaff_links WHERE chat_id = $1) AS user_id,
		EXISTS (SELECT 1 FROM fieldstaff_refused_chats WHERE chat_id = $1) AS refused,
		EXISTS (SELECT 1 FROM fieldstaff_alerts WHERE chat_id = $1 AND message_id = $2) AS alert`,
		in.ChatID, in.ReplyTo); err != nil {
		return Reply{}, fmt.Errorf("load chat status: %w", err)
	}
	if st.UserID == nil {
		switch {
		case st.Refused:
			return Reply{}, nil // HandleChat refuses the chat
		case button, st.Alert, reply && looksLikeAlert(in.ReplyToText):
			// An alert's button or a reply to an alert in a chat that is no
			// longer linked: staff business, not a citizen's.
			return Reply{Handled: true, Text: both("alert.not_linked")}, nil
		}
		return Reply{}, nil // a citizen replying to the bot
	}
	p, err := principal(ctx, tx, *st.UserID)
	if err != nil {
		return Reply{}, err
	}
	if button {
		return s.alertButton(ctx, tx, p, in.Data)
	}
	return s.alertReply(ctx, tx, p, in)
}

// principal loads the linked user as the inbox knows them.
func principal(ctx context.Context, tx *sqlx.Tx, userID int64) (staff.Principal, error) {
	var row struct {
		staff.Principal
		Active bool           `db:"active"`
		Deps   pq.StringArray `db:"departments"`
	}
	err := tx.GetContext(ctx, &row, `SELECT u.id, u.email, u.name, u.role, u.language, u.active,
		COALESCE(ARRAY(SELECT ud.department_id FROM user_departments ud WHERE ud.user_id = u.id ORDER BY ud.department_id), '{}') AS departments
		FROM users u WHERE u.id = $1`, userID)
	if err != nil {
		return staff.Principal{}, fmt.Errorf("load linked user: %w", err)
	}
	p := row.Principal
	p.Departments = []string(row.Deps)
	if !row.Active {
		p.Role = "" // not Valid: every case function refuses
	}
	return p, nil
}

// alertButton claims ("al:c:<id>") or closes ("al:x:<id>") a case.
func (s *Store) alertButton(ctx context.Context, tx *sqlx.Tx, p staff.Principal, data string) (Reply, error) {
	rest := strings.TrimPrefix(data, AlertPrefix)
	action, raw, _ := strings.Cut(rest, ":")
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id <= 0 || (action != "c" && action != "x") {
		return Reply{Handled: true, Text: both("alert.bad_button")}, nil
	}
	cs := s.cases.WithTx(tx)
	var text string
	err = savepoint(ctx, tx, func() error {
		c, err := cs.Get(ctx, p, id)
		if err != nil {
			return err
		}
		if !c.Open() {
			return fmt.Errorf("case %d closed: %w", id, routing.ErrInvalid)
		}
		if action == "x" {
			if err := cs.Close(ctx, p, id); err != nil {
				return err
			}
			text = both("alert.closed", id)
			return nil
		}
		if c.AssigneeID != nil && *c.AssigneeID == p.ID {
			text = both("alert.claimed_already", id)
			return nil
		}
		// As "Mir zuweisen" in the inbox: a case a colleague has is taken
		// over (audited with the previous assignee), and the answer names
		// the colleague.
		if err := cs.Assign(ctx, p, id, p.ID); err != nil {
			return err
		}
		text = both("alert.claimed", id)
		if c.AssigneeID != nil {
			name := "–"
			if c.AssigneeName != nil {
				name = *c.AssigneeName
			}
			text = both("alert.taken_over", id, name)
		}
		return nil
	})
	return s.caseResult(id, text, err)
}

// digestCaseRE is the "#12 text" of a reply to a digest.
var digestCaseRE = regexp.MustCompile(`^#\s?(\d{1,18})\b[\s:,.-]*`)

// alertReply answers the citizen of the alert that in replies to.
func (s *Store) alertReply(ctx context.Context, tx *sqlx.Tx, p staff.Principal, in AlertInput) (Reply, error) {
	if err := copyMessageIDs(ctx, tx, in.ChatID); err != nil {
		return Reply{}, err
	}
	var rows []struct {
		CaseID int64 `db:"case_id"`
		UserID int64 `db:"user_id"`
		Digest bool  `db:"digest"`
	}
	if err := tx.SelectContext(ctx, &rows, `SELECT case_id, user_id, digest FROM fieldstaff_alerts
		WHERE chat_id = $1 AND message_id = $2 ORDER BY case_id`, in.ChatID, in.ReplyTo); err != nil {
		return Reply{}, fmt.Errorf("load alert: %w", err)
	}
	if len(rows) == 0 {
		if looksLikeAlert(in.ReplyToText) {
			// A forwarded alert, or one of another chat: no case of this
			// chat's alerts; refused rather than taken for something else.
			return Reply{Handled: true, Text: both("alert.reply_no_alert")}, nil
		}
		return Reply{}, nil // a reply to another message of the bot: HandleChat's
	}
	if rows[0].UserID != p.ID {
		return Reply{Handled: true, Text: both("alert.reply_not_yours")}, nil
	}
	text := strings.TrimSpace(in.Text)
	if in.Media {
		return Reply{Handled: true, Text: both("alert.reply_text_only")}, nil
	}
	id := rows[0].CaseID
	if rows[0].Digest {
		m := digestCaseRE.FindStringSubmatch(text)
		if m == nil {
			return Reply{Handled: true, Text: both("alert.reply_digest")}, nil
		}
		n, _ := strconv.ParseInt(m[1], 10, 64)
		id = 0
		for _, r := range rows {
			if r.CaseID == n {
				id = n
			}
		}
		if id == 0 {
			return Reply{Handled: true, Text: both("alert.reply_digest")}, nil
		}
		text = strings.TrimSpace(text[len(m[0]):])
	}
	if text == "" {
		return Reply{Handled: true, Text: both("alert.reply_text_only")}, nil
	}
	err := savepoint(ctx, tx, func() error {
		_, err := s.cases.WithTx(tx).Reply(ctx, p, id, text, nil)
		return err
	})
	return s.caseResult(id, both("alert.replied", id), err)
}

// looksLikeAlert reports whether text starts like an alert or a digest
// (alertPayload, digestPayload).
func looksLikeAlert(text string) bool {
	return alertTextRE.MatchString(text)
}

var alertTextRE = regexp.MustCompile(`^🔔 (Neuer Fall #\d+|\d+ neue Fälle)`)

// caseResult turns a case function's result into the chat's answer: the
// refusals of the case functions are told, other errors fail the update.
func (s *Store) caseResult(id int64, ok string, err error) (Reply, error) {
	switch {
	case err == nil:
		return Reply{Handled: true, Text: ok}, nil
	case errors.Is(err, routing.ErrNotFound), errors.Is(err, routing.ErrForbidden):
		return Reply{Handled: true, Text: both("alert.not_yours", id)}, nil
	case errors.Is(err, routing.ErrInvalid):
		return Reply{Handled: true, Text: both("alert.invalid", id)}, nil
	}
	return Reply{}, err
}

// savepoint runs fn under a savepoint of tx and rolls back to it when fn
// fails, so that a refusal leaves the update's transaction usable and
// nothing of fn's work in it.
func savepoint(ctx context.Context, tx *sqlx.Tx, fn func() error) error {
	if _, err := tx.ExecContext(ctx, `SAVEPOINT fieldstaff_alert`); err != nil {
		return fmt.Errorf("savepoint: %w", err)
	}
	if err := fn(); err != nil {
		if _, rerr := tx.ExecContext(ctx, `ROLLBACK TO SAVEPOINT fieldstaff_alert`); rerr != nil {
			return fmt.Errorf("rollback to savepoint: %w (after: %v)", rerr, err)
		}
		return err
	}
	if _, err := tx.ExecContext(ctx, `RELEASE SAVEPOINT fieldstaff_alert`); err != nil {
		return fmt.Errorf("release savepoint: %w", err)
	}
	return nil
}
