package bot

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"citybot/faq"
	"citybot/internal/db"
	"citybot/routing"
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

// Unanswered is a question recorded for staff and editors (faq's table).
type Unanswered = faq.CitizenUnanswered

type suggestion struct {
	ID       int64           `db:"id"`
	Question string          `db:"question"`
	EntryIDs pq.StringArray  `db:"entry_ids"`
	Scores   pq.Float64Array `db:"scores"`
}

// Store keeps the dialog's own tables (bot_answers, bot_suggestions,
// bot_choices, bot_post_questions, dialog_state) and reads the departments
// as the citizen sees them. Like routing.Store, a Store works on the
// database or, from WithTx, inside a transaction: the engine's statements
// run in the transaction of the inbound message.
type Store struct {
	q  sqlx.ExtContext
	tx *sqlx.Tx
	// stmts are the prepared statements of the hot paths (one or more per
	// turn; nil without a database: NewStore(nil).WithTx(tx) runs them
	// unprepared).
	stmts *db.Stmts
}

// NewStore returns a Store on d. The statements of the hot paths are
// prepared once per connection of d, also when they run in a transaction
// of WithTx: one round trip each instead of two.
func NewStore(d *sqlx.DB) *Store {
	return &Store{q: d, stmts: db.NewStmts(d)}
}

// WithTx returns a Store whose statements run in tx (tx must be of the
// Store's database, when it has one).
func (s *Store) WithTx(tx *sqlx.Tx) *Store {
	return &Store{q: tx, tx: tx, stmts: s.stmts}
}

// get runs a query returning one row into dest, prepared when the Store
// has a database.
func (s *Store) get(ctx context.Context, dest any, query string, args ...any) error {
	st, err := s.stmts.Prepared(ctx, s.tx, query)
	if err != nil {
		return err
	}
	if st == nil {
		return sqlx.GetContext(ctx, s.q, dest, query, args...)
	}
	return st.GetContext(ctx, dest, args...)
}

// exec runs a statement, prepared when the Store has a database.
func (s *Store) exec(ctx context.Context, query string, args ...any) error {
	st, err := s.stmts.Prepared(ctx, s.tx, query)
	if err != nil {
		return err
	}
	if st == nil {
		_, err = s.q.ExecContext(ctx, query, args...)
		return err
	}
	_, err = st.ExecContext(ctx, args...)
	return err
}

// The hot statements (one per answered question) run prepared (get, exec).

func (s *Store) insertAnswer(ctx context.Context, citizenID int64, entryID, question string, score float64, via string) (int64, error) {
	var id int64
	err := s.get(ctx, &id, `
		INSERT INTO bot_answers (citizen_id, entry_id, question, score, via) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
		citizenID, entryID, question, score, via)
	if err != nil {
		return 0, fmt.Errorf("store answer: %w", err)
	}
	return id, nil
}

// insertAnswerTopic stores an answer like insertAnswer and makes its entry
// the topic of follow-up questions like setTopic (with topicQuestion), in
// one statement.
func (s *Store) insertAnswerTopic(ctx context.Context, citizenID int64, entryID, question string, score float64, via, topicQuestion string) (int64, error) {
	var id int64
	err := s.get(ctx, &id, `
		WITH a AS (
			INSERT INTO bot_answers (citizen_id, entry_id, question, score, via) VALUES ($1, $2, $3, $4, $5) RETURNING id
		), t AS (
			INSERT INTO dialog_state (citizen_id, topic_entry_id, topic_question, topic_at) VALUES ($1, $2, $6, $7)
			ON CONFLICT (citizen_id) DO UPDATE SET topic_entry_id = $2, topic_question = $6, topic_at = $7, updated_at = now()
		)
		SELECT id FROM a`,
		citizenID, entryID, question, score, via, topicQuestion, time.Now())
	if err != nil {
		return 0, fmt.Errorf("store answer: %w", err)
	}
	return id, nil
}

// pendingAnswer is an answer for insertAnswersTopics: what
// insertAnswerTopic takes, with its id taken beforehand and the time.
type pendingAnswer struct {
	ID, CitizenID                         int64
	EntryID, Question, Via, TopicQuestion string
	Score                                 float64
	At                                    time.Time
}

// insertAnswersTopics stores answers as insertAnswerTopic does for each,
// in one statement. Of several answers to one citizen the last one is the
// topic.
func (s *Store) insertAnswersTopics(ctx context.Context, as []pendingAnswer) error {
	n := len(as)
	ids, citizens, scores := make(pq.Int64Array, n), make(pq.Int64Array, n), make(pq.Float64Array, n)
	entries, questions, vias, topics := make(pq.StringArray, n), make(pq.StringArray, n), make(pq.StringArray, n), make(pq.StringArray, n)
	ats := make([]string, n)
	for i, a := range as {
		ids[i], citizens[i], scores[i] = a.ID, a.CitizenID, a.Score
		entries[i], questions[i], vias[i], topics[i] = a.EntryID, a.Question, a.Via, a.TopicQuestion
		ats[i] = a.At.UTC().Format(time.RFC3339Nano)
	}
	err := s.exec(ctx, `
		WITH r AS MATERIALIZED (
			SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::float8[], $6::text[], $7::text[], $8::timestamptz[])
				WITH ORDINALITY AS r (id, citizen_id, entry_id, question, score, via, topic_question, at, n)
		), a AS (
			INSERT INTO bot_answers (id, citizen_id, entry_id, question, score, via)
			SELECT r.id, r.citizen_id, r.entry_id, r.question, r.score, r.via FROM r ORDER BY r.n
		)
		INSERT INTO dialog_state (citizen_id, topic_entry_id, topic_question, topic_at)
		SELECT DISTINCT ON (r.citizen_id) r.citizen_id, r.entry_id, r.topic_question, r.at FROM r
		ORDER BY r.citizen_id, r.n DESC
		ON CONFLICT (citizen_id) DO UPDATE SET topic_entry_id = excluded.topic_entry_id,
			topic_question = excluded.topic_question, topic_at = excluded.topic_at, updated_at = now()`,
		ids, citizens, entries, questions, scores, vias, topics, pq.StringArray(ats))
	if err != nil {
		return fmt.Errorf("store answers: %w", err)
	}
	return nil
}

// setFeedback records helpful on the citizen's answer and returns the answer
// as it was before; ErrNotFound when it is not the citizen's (or gone).
func (s *Store) setFeedback(ctx context.Context, citizenID, answerID int64, helpful bool) (Answer, error) {
	var a Answer
	err := sqlx.GetContext(ctx, s.q, &a, `
		SELECT id, entry_id, question, score, via, helpful, feedback_at, created_at
		FROM bot_answers WHERE id = $1 AND citizen_id = $2 FOR UPDATE`, answerID, citizenID)
	if db.IsNoRows(err) {
		return Answer{}, fmt.Errorf("answer %d: %w", answerID, ErrNotFound)
	}
	if err != nil {
		return Answer{}, fmt.Errorf("get answer: %w", err)
	}
	if _, err := s.q.ExecContext(ctx, `UPDATE bot_answers SET helpful = $2, feedback_at = now() WHERE id = $1`, answerID, helpful); err != nil {
		return Answer{}, fmt.Errorf("store feedback: %w", err)
	}
	return a, nil
}

func (s *Store) insertSuggestion(ctx context.Context, citizenID int64, question string, ids []string, scores []float64) (int64, error) {
	var id int64
	err := s.get(ctx, &id, `
		INSERT INTO bot_suggestions (citizen_id, question, entry_ids, scores) VALUES ($1, $2, $3, $4) RETURNING id`,
		citizenID, question, pq.StringArray(ids), pq.Float64Array(scores))
	if err != nil {
		return 0, fmt.Errorf("store suggestion: %w", err)
	}
	return id, nil
}

func (s *Store) chooseSuggestion(ctx context.Context, citizenID, id int64, chosen string) (suggestion, error) {
	var sg suggestion
	err := sqlx.GetContext(ctx, s.q, &sg, `
		UPDATE bot_suggestions SET chosen = $3 WHERE id = $1 AND citizen_id = $2
		RETURNING id, question, entry_ids, scores`, id, citizenID, chosen)
	if db.IsNoRows(err) {
		return suggestion{}, fmt.Errorf("suggestion %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return suggestion{}, fmt.Errorf("choose suggestion: %w", err)
	}
	return sg, nil
}

func (s *Store) suggestionByID(ctx context.Context, citizenID, id int64) (suggestion, error) {
	var sg suggestion
	err := sqlx.GetContext(ctx, s.q, &sg, `
		SELECT id, question, entry_ids, scores FROM bot_suggestions WHERE id = $1 AND citizen_id = $2`, id, citizenID)
	if db.IsNoRows(err) {
		return suggestion{}, fmt.Errorf("suggestion %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return suggestion{}, fmt.Errorf("get suggestion: %w", err)
	}
	return sg, nil
}

func (s *Store) requestErase(ctx context.Context, citizenID int64, at *time.Time) error {
	if _, err := s.q.ExecContext(ctx, `
		INSERT INTO dialog_state (citizen_id, erase_requested_at) VALUES ($1, $2)
		ON CONFLICT (citizen_id) DO UPDATE SET erase_requested_at = $2, updated_at = now()`, citizenID, at); err != nil {
		return fmt.Errorf("store erase request: %w", err)
	}
	return nil
}

// eraseRequestedAt returns when the citizen asked for erasure; ok is false
// when there is no open request.
func (s *Store) eraseRequestedAt(ctx context.Context, citizenID int64) (at time.Time, ok bool, err error) {
	var t *time.Time
	err = sqlx.GetContext(ctx, s.q, &t, `SELECT erase_requested_at FROM dialog_state WHERE citizen_id = $1`, citizenID)
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

func (s *Store) answersOf(ctx context.Context, citizenID int64) ([]Answer, error) {
	as := []Answer{}
	if err := sqlx.SelectContext(ctx, s.q, &as, `
		SELECT id, entry_id, question, score, via, helpful, feedback_at, created_at
		FROM bot_answers WHERE citizen_id = $1 ORDER BY id`, citizenID); err != nil {
		return nil, fmt.Errorf("list answers: %w", err)
	}
	return as, nil
}

// Kinds of bot_choices rows.
const (
	choiceDepartments = "departments"
	choiceHandoff     = "handoff"
)

// choice is the server-side state of a row of handoff buttons.
type choice struct {
	ID        int64          `db:"id"`
	Kind      string         `db:"kind"`
	CaseID    *int64         `db:"case_id"`
	Options   pq.StringArray `db:"options"`
	Question  string         `db:"question"`
	Reason    string         `db:"reason"`
	EntryID   string         `db:"entry_id"`
	Chosen    *string        `db:"chosen"`
	CreatedAt time.Time      `db:"created_at"`
}

func (s *Store) insertChoice(ctx context.Context, citizenID int64, c choice) (int64, error) {
	if c.Options == nil {
		c.Options = pq.StringArray{}
	}
	var id int64
	err := sqlx.GetContext(ctx, s.q, &id, `
		INSERT INTO bot_choices (citizen_id, kind, case_id, options, question, reason, entry_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
		citizenID, c.Kind, c.CaseID, c.Options, c.Question, c.Reason, c.EntryID)
	if err != nil {
		return 0, fmt.Errorf("store choice: %w", err)
	}
	return id, nil
}

// choiceByID returns the citizen's choice row of kind; ErrNotFound when it
// is not the citizen's (or gone).
func (s *Store) choiceByID(ctx context.Context, citizenID, id int64, kind string) (choice, error) {
	var c choice
	err := sqlx.GetContext(ctx, s.q, &c, `
		SELECT id, kind, case_id, options, question, reason, entry_id, chosen, created_at
		FROM bot_choices WHERE id = $1 AND citizen_id = $2 AND kind = $3`, id, citizenID, kind)
	if db.IsNoRows(err) {
		return choice{}, fmt.Errorf("choice %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return choice{}, fmt.Errorf("get choice: %w", err)
	}
	return c, nil
}

// takeChoice records what the citizen chose, once: ErrNotFound when the row
// is not the citizen's or was chosen before.
func (s *Store) takeChoice(ctx context.Context, citizenID, id int64, kind, chosen string) (choice, error) {
	var c choice
	err := sqlx.GetContext(ctx, s.q, &c, `
		UPDATE bot_choices SET chosen = $4 WHERE id = $1 AND citizen_id = $2 AND kind = $3 AND chosen IS NULL
		RETURNING id, kind, case_id, options, question, reason, entry_id, chosen, created_at`, id, citizenID, kind, chosen)
	if db.IsNoRows(err) {
		return choice{}, fmt.Errorf("choice %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return choice{}, fmt.Errorf("take choice: %w", err)
	}
	return c, nil
}

// department is a department as the citizen sees it.
type department struct {
	ID   string `db:"id"`
	Name string `db:"name"`
}

func (s *Store) departments(ctx context.Context) ([]department, error) {
	var ds []department
	if err := sqlx.SelectContext(ctx, s.q, &ds, `SELECT id, name FROM departments ORDER BY name`); err != nil {
		return nil, fmt.Errorf("list departments: %w", err)
	}
	return ds, nil
}

func (s *Store) departmentName(ctx context.Context, id string) (string, error) {
	var name string
	err := sqlx.GetContext(ctx, s.q, &name, `SELECT name FROM departments WHERE id = $1`, id)
	if db.IsNoRows(err) {
		return "", fmt.Errorf("department %q: %w", id, ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("get department: %w", err)
	}
	return name, nil
}

func (s *Store) caseAckAt(ctx context.Context, citizenID int64) (time.Time, error) {
	var at *time.Time
	err := sqlx.GetContext(ctx, s.q, &at, `SELECT case_ack_at FROM dialog_state WHERE citizen_id = $1`, citizenID)
	if db.IsNoRows(err) || (err == nil && at == nil) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("get case acknowledgement: %w", err)
	}
	return *at, nil
}

func (s *Store) setCaseAck(ctx context.Context, citizenID int64) error {
	if _, err := s.q.ExecContext(ctx, `
		INSERT INTO dialog_state (citizen_id, case_ack_at) VALUES ($1, now())
		ON CONFLICT (citizen_id) DO UPDATE SET case_ack_at = now(), updated_at = now()`, citizenID); err != nil {
		return fmt.Errorf("store case acknowledgement: %w", err)
	}
	return nil
}

// CaseExport is a case of the citizen with its messages, for /meinedaten.
type CaseExport = routing.CitizenCase
