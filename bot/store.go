package bot

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"citybot/internal/db"
)

// Reasons an unanswered question was recorded.
const (
	ReasonNoMatch         = "no_match"
	ReasonPersonal        = "personal"
	ReasonNotHelpful      = "not_helpful"
	ReasonNoSuggestionFit = "no_suggestion_fit"
)

// Answer is an FAQ answer the bot gave, with the citizen's feedback.
type Answer struct {
	ID         int64      `db:"id" json:"-"`
	EntryID    string     `db:"entry_id" json:"entry_id"`
	Question   string     `db:"question" json:"question"`
	Score      float64    `db:"score" json:"score"`
	Via        string     `db:"via" json:"via"`
	Helpful    *bool      `db:"helpful" json:"helpful"`
	FeedbackAt *time.Time `db:"feedback_at" json:"feedback_at,omitempty"`
	CreatedAt  time.Time  `db:"created_at" json:"created_at"`
}

// Unanswered is a question recorded for staff and editors.
type Unanswered struct {
	ID        int64     `db:"id" json:"-"`
	Text      string    `db:"text" json:"text"`
	Reason    string    `db:"reason" json:"reason"`
	EntryID   *string   `db:"entry_id" json:"entry_id,omitempty"`
	Status    string    `db:"status" json:"status"`
	CreatedAt time.Time `db:"created_at" json:"created_at"`
}

type suggestion struct {
	ID       int64           `db:"id"`
	Question string          `db:"question"`
	EntryIDs pq.StringArray  `db:"entry_ids"`
	Scores   pq.Float64Array `db:"scores"`
}

func insertAnswer(ctx context.Context, tx *sqlx.Tx, citizenID int64, entryID, question string, score float64, via string) (int64, error) {
	var id int64
	err := tx.GetContext(ctx, &id, `
		INSERT INTO bot_answers (citizen_id, entry_id, question, score, via) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
		citizenID, entryID, question, score, via)
	if err != nil {
		return 0, fmt.Errorf("store answer: %w", err)
	}
	return id, nil
}

// setFeedback records helpful on the citizen's answer and returns the answer
// as it was before; ErrNotFound when it is not the citizen's (or gone).
func setFeedback(ctx context.Context, tx *sqlx.Tx, citizenID, answerID int64, helpful bool) (Answer, error) {
	var a Answer
	err := tx.GetContext(ctx, &a, `
		SELECT id, entry_id, question, score, via, helpful, feedback_at, created_at
		FROM bot_answers WHERE id = $1 AND citizen_id = $2 FOR UPDATE`, answerID, citizenID)
	if db.IsNoRows(err) {
		return Answer{}, fmt.Errorf("answer %d: %w", answerID, ErrNotFound)
	}
	if err != nil {
		return Answer{}, fmt.Errorf("get answer: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE bot_answers SET helpful = $2, feedback_at = now() WHERE id = $1`, answerID, helpful); err != nil {
		return Answer{}, fmt.Errorf("store feedback: %w", err)
	}
	return a, nil
}

func insertSuggestion(ctx context.Context, tx *sqlx.Tx, citizenID int64, question string, ids []string, scores []float64) (int64, error) {
	var id int64
	err := tx.GetContext(ctx, &id, `
		INSERT INTO bot_suggestions (citizen_id, question, entry_ids, scores) VALUES ($1, $2, $3, $4) RETURNING id`,
		citizenID, question, pq.StringArray(ids), pq.Float64Array(scores))
	if err != nil {
		return 0, fmt.Errorf("store suggestion: %w", err)
	}
	return id, nil
}

func chooseSuggestion(ctx context.Context, tx *sqlx.Tx, citizenID, id int64, chosen string) (suggestion, error) {
	var s suggestion
	err := tx.GetContext(ctx, &s, `
		UPDATE bot_suggestions SET chosen = $3 WHERE id = $1 AND citizen_id = $2
		RETURNING id, question, entry_ids, scores`, id, citizenID, chosen)
	if db.IsNoRows(err) {
		return suggestion{}, fmt.Errorf("suggestion %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return suggestion{}, fmt.Errorf("choose suggestion: %w", err)
	}
	return s, nil
}

func suggestionByID(ctx context.Context, tx *sqlx.Tx, citizenID, id int64) (suggestion, error) {
	var s suggestion
	err := tx.GetContext(ctx, &s, `
		SELECT id, question, entry_ids, scores FROM bot_suggestions WHERE id = $1 AND citizen_id = $2`, id, citizenID)
	if db.IsNoRows(err) {
		return suggestion{}, fmt.Errorf("suggestion %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return suggestion{}, fmt.Errorf("get suggestion: %w", err)
	}
	return s, nil
}

func insertUnanswered(ctx context.Context, tx *sqlx.Tx, citizenID int64, messageID *int64, text, reason, entryID string) error {
	var eid *string
	if entryID != "" {
		eid = &entryID
	}
	if _, err := tx.ExecContext(ctx, `
		INSERT INTO unanswered (citizen_id, message_id, text, reason, entry_id) VALUES ($1, $2, $3, $4, $5)`,
		citizenID, messageID, text, reason, eid); err != nil {
		return fmt.Errorf("store unanswered: %w", err)
	}
	return nil
}

func requestErase(ctx context.Context, tx *sqlx.Tx, citizenID int64, at *time.Time) error {
	if _, err := tx.ExecContext(ctx, `
		INSERT INTO dialog_state (citizen_id, erase_requested_at) VALUES ($1, $2)
		ON CONFLICT (citizen_id) DO UPDATE SET erase_requested_at = $2, updated_at = now()`, citizenID, at); err != nil {
		return fmt.Errorf("store erase request: %w", err)
	}
	return nil
}

// eraseRequestedAt returns when the citizen asked for erasure; ok is false
// when there is no open request.
func eraseRequestedAt(ctx context.Context, tx *sqlx.Tx, citizenID int64) (at time.Time, ok bool, err error) {
	var t *time.Time
	err = tx.GetContext(ctx, &t, `SELECT erase_requested_at FROM dialog_state WHERE citizen_id = $1`, citizenID)
	if db.IsNoRows(err) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, fmt.Errorf("get erase request: %w", err)
	}
	if t == nil {
		return time.Time{}, false, nil
	}
	return *t, true, nil
}

func answersOf(ctx context.Context, tx *sqlx.Tx, citizenID int64) ([]Answer, error) {
	as := []Answer{}
	if err := tx.SelectContext(ctx, &as, `
		SELECT id, entry_id, question, score, via, helpful, feedback_at, created_at
		FROM bot_answers WHERE citizen_id = $1 ORDER BY id`, citizenID); err != nil {
		return nil, fmt.Errorf("list answers: %w", err)
	}
	return as, nil
}

func unansweredOf(ctx context.Context, tx *sqlx.Tx, citizenID int64) ([]Unanswered, error) {
	us := []Unanswered{}
	if err := tx.SelectContext(ctx, &us, `
		SELECT id, text, reason, entry_id, status, created_at
		FROM unanswered WHERE citizen_id = $1 ORDER BY id`, citizenID); err != nil {
		return nil, fmt.Errorf("list unanswered: %w", err)
	}
	return us, nil
}
