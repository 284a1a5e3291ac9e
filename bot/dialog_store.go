package bot

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"citybot/internal/db"
)

// dialogContext is what the dialog's state is derived from, besides the
// active case (dialog.go).
type dialogContext struct {
	TopicEntryID  string     `db:"topic_entry_id"`
	TopicQuestion string     `db:"topic_question"`
	TopicAt       *time.Time `db:"topic_at"`
	AskTopicAt    *time.Time `db:"ask_topic_at"`
	Lang          string     `db:"lang"`
	// the open confirmation ("pass this on?" / "reopen?"), if any
	PendingID       *int64         `db:"p_id"`
	PendingKind     *string        `db:"p_kind"`
	PendingCaseID   *int64         `db:"p_case_id"`
	PendingOptions  pq.StringArray `db:"p_options"`
	PendingQuestion *string        `db:"p_question"`
	PendingReason   *string        `db:"p_reason"`
	PendingAt       *time.Time     `db:"p_created_at"`
	// OpenChoices: the citizen has open confirmations of any age (their
	// buttons work for a day, typed answers count for window only); false
	// lets the turn skip superseding them.
	OpenChoices bool `db:"open_choices"`
	// PostQuestion: a "Frage dazu" waits (takePostQuestion); false lets the
	// turn skip taking it.
	PostQuestion bool `db:"post_question"`
}

// pending returns the open confirmation as a choice; ok is false when
// there is none.
func (d dialogContext) pending() (choice, bool) {
	if d.PendingID == nil {
		return choice{}, false
	}
	c := choice{ID: *d.PendingID, Kind: *d.PendingKind, CaseID: d.PendingCaseID, Options: d.PendingOptions}
	if d.PendingQuestion != nil {
		c.Question = *d.PendingQuestion
	}
	if d.PendingReason != nil {
		c.Reason = *d.PendingReason
	}
	if d.PendingAt != nil {
		c.CreatedAt = *d.PendingAt
	}
	return c, true
}

// loadDialog reads the citizen's dialog context in one statement; an open
// confirmation counts for window. The hot statements of the dialog run
// prepared (Store.get, Store.exec).
func (s *Store) loadDialog(ctx context.Context, citizenID int64, window time.Duration) (dialogContext, error) {
	var d dialogContext
	err := s.get(ctx, &d, `
		SELECT coalesce(ds.topic_entry_id, '') AS topic_entry_id, coalesce(ds.topic_question, '') AS topic_question,
		       ds.topic_at, ds.ask_topic_at, coalesce(ds.lang, '') AS lang,
		       p.id AS p_id, p.kind AS p_kind, p.case_id AS p_case_id, p.options AS p_options,
		       p.question AS p_question, p.reason AS p_reason, p.created_at AS p_created_at,
		       EXISTS (SELECT 1 FROM bot_choices o
		               WHERE o.citizen_id = x.citizen_id AND o.kind IN ('handoff', 'reopen') AND o.chosen IS NULL) AS open_choices,
		       EXISTS (SELECT 1 FROM bot_post_questions q WHERE q.citizen_id = x.citizen_id) AS post_question
		FROM (SELECT $1::bigint AS citizen_id) x
		LEFT JOIN dialog_state ds ON ds.citizen_id = x.citizen_id
		LEFT JOIN LATERAL (
			SELECT id, kind, case_id, options, question, reason, created_at FROM bot_choices
			WHERE citizen_id = x.citizen_id AND kind IN ('handoff', 'reopen') AND chosen IS NULL
			  AND created_at > now() - make_interval(secs => $2)
			ORDER BY id DESC LIMIT 1) p ON true`, citizenID, window.Seconds())
	if err != nil {
		return dialogContext{}, fmt.Errorf("load dialog: %w", err)
	}
	return d, nil
}

// loadDialogs is loadDialog for several citizens in one statement, by
// citizen id.
func (s *Store) loadDialogs(ctx context.Context, citizenIDs []int64, window time.Duration) (map[int64]batchDialog, error) {
	var rows []struct {
		CitizenID int64 `db:"citizen_id"`
		batchDialog
	}
	st, err := s.stmts.Prepared(ctx, s.tx, loadDialogsSQL)
	if err == nil {
		if st == nil {
			err = sqlx.SelectContext(ctx, s.q, &rows, loadDialogsSQL, pq.Int64Array(citizenIDs), window.Seconds())
		} else {
			err = st.SelectContext(ctx, &rows, pq.Int64Array(citizenIDs), window.Seconds())
		}
	}
	if err != nil {
		return nil, fmt.Errorf("load dialogs: %w", err)
	}
	out := make(map[int64]batchDialog, len(rows))
	for _, r := range rows {
		out[r.CitizenID] = r.batchDialog
	}
	return out, nil
}

// batchDialog is a citizen's dialog context as loadDialogs reads it, with
// a bot_answers id taken for the answer of the turn (an unused one leaves
// a gap in the ids).
type batchDialog struct {
	dialogContext
	AnswerID int64 `db:"answer_id"`
}

// loadDialogsSQL is the statement of loadDialog for an array of citizens.
const loadDialogsSQL = `
		SELECT x.citizen_id, nextval(pg_get_serial_sequence('bot_answers', 'id')) AS answer_id,
		       coalesce(ds.topic_entry_id, '') AS topic_entry_id, coalesce(ds.topic_question, '') AS topic_question,
		       ds.topic_at, ds.ask_topic_at, coalesce(ds.lang, '') AS lang,
		       p.id AS p_id, p.kind AS p_kind, p.case_id AS p_case_id, p.options AS p_options,
		       p.question AS p_question, p.reason AS p_reason, p.created_at AS p_created_at,
		       EXISTS (SELECT 1 FROM bot_choices o
		               WHERE o.citizen_id = x.citizen_id AND o.kind IN ('handoff', 'reopen') AND o.chosen IS NULL) AS open_choices,
		       EXISTS (SELECT 1 FROM bot_post_questions q WHERE q.citizen_id = x.citizen_id) AS post_question
		FROM unnest($1::bigint[]) AS x (citizen_id)
		LEFT JOIN dialog_state ds ON ds.citizen_id = x.citizen_id
		LEFT JOIN LATERAL (
			SELECT id, kind, case_id, options, question, reason, created_at FROM bot_choices
			WHERE citizen_id = x.citizen_id AND kind IN ('handoff', 'reopen') AND chosen IS NULL
			  AND created_at > now() - make_interval(secs => $2)
			ORDER BY id DESC LIMIT 1) p ON true`

// setTopic remembers the FAQ entry just answered (entryID "" forgets it).
func (s *Store) setTopic(ctx context.Context, citizenID int64, entryID, question string) error {
	var at *time.Time
	if entryID != "" {
		now := time.Now()
		at = &now
	}
	if err := s.exec(ctx, `
		INSERT INTO dialog_state (citizen_id, topic_entry_id, topic_question, topic_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (citizen_id) DO UPDATE SET topic_entry_id = $2, topic_question = $3, topic_at = $4, updated_at = now()`,
		citizenID, entryID, question, at); err != nil {
		return fmt.Errorf("store topic: %w", err)
	}
	return nil
}

// setAskTopic records (or, with on false, clears) that the bot asked what a
// request for staff is about.
func (s *Store) setAskTopic(ctx context.Context, citizenID int64, on bool) error {
	var at *time.Time
	if on {
		now := time.Now()
		at = &now
	}
	if err := s.exec(ctx, `
		INSERT INTO dialog_state (citizen_id, ask_topic_at) VALUES ($1, $2)
		ON CONFLICT (citizen_id) DO UPDATE SET ask_topic_at = $2, updated_at = now()`, citizenID, at); err != nil {
		return fmt.Errorf("store ask topic: %w", err)
	}
	return nil
}

// setLang remembers the language the citizen writes in.
func (s *Store) setLang(ctx context.Context, citizenID int64, lang string) error {
	if err := s.exec(ctx, `
		INSERT INTO dialog_state (citizen_id, lang) VALUES ($1, $2)
		ON CONFLICT (citizen_id) DO UPDATE SET lang = $2, updated_at = now()`, citizenID, lang); err != nil {
		return fmt.Errorf("store language: %w", err)
	}
	return nil
}

// supersedeChoices closes the citizen's open confirmations: a newer
// question or an answer replaced them (their buttons become stale).
func (s *Store) supersedeChoices(ctx context.Context, citizenID int64) error {
	if err := s.exec(ctx, `
		UPDATE bot_choices SET chosen = 'superseded'
		WHERE citizen_id = $1 AND kind IN ('handoff', 'reopen') AND chosen IS NULL`, citizenID); err != nil {
		return fmt.Errorf("supersede choices: %w", err)
	}
	return nil
}

// extendChoice adds text to an open confirmation's question and, for a
// reopen, the message id to its options.
func (s *Store) extendChoice(ctx context.Context, citizenID, id int64, question string, options []string) error {
	if _, err := s.q.ExecContext(ctx, `
		UPDATE bot_choices SET question = $3, options = $4 WHERE id = $1 AND citizen_id = $2`,
		id, citizenID, question, pq.StringArray(options)); err != nil {
		return fmt.Errorf("extend choice: %w", err)
	}
	return nil
}

// answerByID returns the citizen's stored FAQ answer.
func (s *Store) answerByID(ctx context.Context, citizenID, id int64) (Answer, error) {
	var a Answer
	err := sqlx.GetContext(ctx, s.q, &a, `
		SELECT id, entry_id, question, score, via, helpful, feedback_at, created_at
		FROM bot_answers WHERE id = $1 AND citizen_id = $2`, id, citizenID)
	if err != nil {
		if db.IsNoRows(err) {
			return Answer{}, fmt.Errorf("answer %d: %w", id, ErrNotFound)
		}
		return Answer{}, fmt.Errorf("get answer: %w", err)
	}
	return a, nil
}

// rememberPostQuestion records that the citizen pressed "Frage dazu" under
// the broadcast post postID: their next question is about it.
func (s *Store) rememberPostQuestion(ctx context.Context, citizenID, postID int64) error {
	if _, err := s.q.ExecContext(ctx, `
		INSERT INTO bot_post_questions (citizen_id, post_id) VALUES ($1, $2)
		ON CONFLICT (citizen_id) DO UPDATE SET post_id = excluded.post_id, created_at = now()`, citizenID, postID); err != nil {
		return fmt.Errorf("remember post question: %w", err)
	}
	return nil
}

// takePostQuestion removes the citizen's waiting "Frage dazu" and returns
// its post and when it was asked; ok is false when none waits.
func (s *Store) takePostQuestion(ctx context.Context, citizenID int64) (postID int64, at time.Time, ok bool, err error) {
	var row struct {
		PostID    int64     `db:"post_id"`
		CreatedAt time.Time `db:"created_at"`
	}
	err = s.get(ctx, &row, `DELETE FROM bot_post_questions WHERE citizen_id = $1 RETURNING post_id, created_at`, citizenID)
	if db.IsNoRows(err) {
		return 0, time.Time{}, false, nil
	}
	if err != nil {
		return 0, time.Time{}, false, fmt.Errorf("take post question: %w", err)
	}
	return row.PostID, row.CreatedAt, true, nil
}
