package broadcast

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"citybot/internal/db"
)

// Subscribers is the citizen side of the broadcast domain for the bot: the
// /abo keyboard, toggles, /abbestellen, deep links, /meinedaten and the
// "Frage dazu" context, each in the caller's transaction (the bot's
// transaction of the inbound message). That way a subscription commits or
// rolls back with the message that asked for it: a retried update does not
// toggle twice, and a citizen whose very first message is a deep link
// (inserted in that same transaction) can subscribe. It holds no state; the
// zero value is ready to use.
type Subscribers struct{}

// Topics returns the active topics with the citizen's subscription state,
// in display order (the /abo keyboard).
func (Subscribers) Topics(ctx context.Context, tx *sqlx.Tx, citizenID int64) ([]TopicChoice, error) {
	return topicChoices(ctx, tx, citizenID)
}

// Subscriptions returns the topics the citizen subscribed to (/meinedaten).
func (Subscribers) Subscriptions(ctx context.Context, tx *sqlx.Tx, citizenID int64) ([]Topic, error) {
	return subscriptionsOf(ctx, tx, citizenID)
}

// Toggle flips the citizen's subscription to an active topic and returns
// whether the citizen is now subscribed. An unknown or inactive topic the
// citizen is not subscribed to: ErrNotFound.
func (Subscribers) Toggle(ctx context.Context, tx *sqlx.Tx, citizenID, topicID int64) (bool, error) {
	return toggle(ctx, tx, citizenID, topicID)
}

// UnsubscribeAll removes all of the citizen's subscriptions, cancels the
// deliveries not yet sent to them and returns how many topics there were.
func (Subscribers) UnsubscribeAll(ctx context.Context, tx *sqlx.Tx, citizenID int64) (int, error) {
	return unsubscribeAll(ctx, tx, citizenID)
}

// SubscribeByDeepLink subscribes the citizen to the topic of a /start
// payload ("abo-<slug>"); no such active topic: ErrNotFound.
func (Subscribers) SubscribeByDeepLink(ctx context.Context, tx *sqlx.Tx, citizenID int64, payload string) (Topic, error) {
	return subscribeByDeepLink(ctx, tx, citizenID, payload)
}

// PostContext returns the context of a sent post for "Frage dazu"; drafts
// and unknown posts: ErrNotFound.
func (Subscribers) PostContext(ctx context.Context, tx *sqlx.Tx, postID int64) (PostContext, error) {
	return postContext(ctx, tx, postID)
}

// The queries, shared by Service (own connection) and Subscribers (the
// caller's transaction).

func topicChoices(ctx context.Context, q sqlx.QueryerContext, citizenID int64) ([]TopicChoice, error) {
	var ts []TopicChoice
	err := sqlx.SelectContext(ctx, q, &ts, `
		SELECT t.id, t.slug, t.name_de, t.name_en, t.description, t.active, t.sort, t.created_at, t.updated_at,
			EXISTS (SELECT 1 FROM subscriptions s WHERE s.citizen_id = $1 AND s.topic_id = t.id) AS subscribed
		FROM topics t WHERE t.active ORDER BY t.sort, t.name_de, t.id`, citizenID)
	if err != nil {
		return nil, fmt.Errorf("topics for citizen: %w", err)
	}
	return ts, nil
}

func subscriptionsOf(ctx context.Context, q sqlx.QueryerContext, citizenID int64) ([]Topic, error) {
	var ts []Topic
	err := sqlx.SelectContext(ctx, q, &ts, `
		SELECT t.id, t.slug, t.name_de, t.name_en, t.description, t.active, t.sort, t.created_at, t.updated_at
		FROM subscriptions s JOIN topics t ON t.id = s.topic_id
		WHERE s.citizen_id = $1 ORDER BY t.sort, t.name_de, t.id`, citizenID)
	if err != nil {
		return nil, fmt.Errorf("subscriptions of citizen: %w", err)
	}
	return ts, nil
}

func subscribe(ctx context.Context, q sqlx.ExtContext, citizenID, topicID int64) error {
	res, err := q.ExecContext(ctx, `
		INSERT INTO subscriptions (citizen_id, topic_id)
		SELECT $1, id FROM topics WHERE id = $2 AND active
		ON CONFLICT DO NOTHING`, citizenID, topicID)
	if db.IsForeignKeyViolation(err) {
		return fmt.Errorf("citizen %d: %w", citizenID, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("subscribe: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		// Already subscribed, or no such active topic.
		var ok bool
		if err := sqlx.GetContext(ctx, q, &ok, `SELECT EXISTS (SELECT 1 FROM topics WHERE id = $1 AND active)`, topicID); err != nil {
			return fmt.Errorf("subscribe: %w", err)
		}
		if !ok {
			return fmt.Errorf("topic %d: %w", topicID, ErrNotFound)
		}
	}
	return nil
}

func toggle(ctx context.Context, tx *sqlx.Tx, citizenID, topicID int64) (bool, error) {
	res, err := tx.ExecContext(ctx, `DELETE FROM subscriptions WHERE citizen_id = $1 AND topic_id = $2`, citizenID, topicID)
	if err != nil {
		return false, fmt.Errorf("toggle subscription: %w", err)
	}
	if n, _ := res.RowsAffected(); n > 0 {
		return false, nil
	}
	res, err = tx.ExecContext(ctx, `
		INSERT INTO subscriptions (citizen_id, topic_id)
		SELECT $1, id FROM topics WHERE id = $2 AND active
		ON CONFLICT DO NOTHING`, citizenID, topicID)
	if db.IsForeignKeyViolation(err) {
		return false, fmt.Errorf("citizen %d: %w", citizenID, ErrNotFound)
	}
	if err != nil {
		return false, fmt.Errorf("toggle subscription: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return false, fmt.Errorf("topic %d: %w", topicID, ErrNotFound)
	}
	return true, nil
}

func unsubscribeAll(ctx context.Context, tx *sqlx.Tx, citizenID int64) (int, error) {
	res, err := tx.ExecContext(ctx, `DELETE FROM subscriptions WHERE citizen_id = $1`, citizenID)
	if err != nil {
		return 0, fmt.Errorf("unsubscribe all: %w", err)
	}
	n, _ := res.RowsAffected()
	if _, err := tx.ExecContext(ctx, `UPDATE deliveries SET status = 'cancelled', last_error = 'unsubscribed'
		WHERE citizen_id = $1 AND status = 'pending'`, citizenID); err != nil {
		return 0, fmt.Errorf("cancel deliveries: %w", err)
	}
	return int(n), nil
}

func subscribeByDeepLink(ctx context.Context, q sqlx.ExtContext, citizenID int64, payload string) (Topic, error) {
	slug, ok := strings.CutPrefix(strings.TrimSpace(payload), DeepLinkPrefix)
	if !ok || !slugRe.MatchString(slug) {
		return Topic{}, fmt.Errorf("deep link %q: %w", payload, ErrNotFound)
	}
	var t Topic
	err := sqlx.GetContext(ctx, q, &t, `SELECT `+topicCols+` FROM topics WHERE slug = $1 AND active`, slug)
	if db.IsNoRows(err) {
		return Topic{}, fmt.Errorf("topic %q: %w", slug, ErrNotFound)
	}
	if err != nil {
		return Topic{}, fmt.Errorf("deep link topic: %w", err)
	}
	if err := subscribe(ctx, q, citizenID, t.ID); err != nil {
		return Topic{}, err
	}
	return t, nil
}

func postContext(ctx context.Context, q sqlx.QueryerContext, postID int64) (PostContext, error) {
	var row struct {
		Text         string         `db:"text"`
		LinkURL      string         `db:"link_url"`
		DepartmentID string         `db:"department_id"`
		IsWarning    bool           `db:"is_warning"`
		StartedAt    sql.NullTime   `db:"started_at"`
		Topics       pq.StringArray `db:"topics"`
	}
	err := sqlx.GetContext(ctx, q, &row, `
		SELECT p.text, p.link_url, COALESCE(p.department_id, '') AS department_id, p.is_warning, p.started_at,
			ARRAY(SELECT t.name_de FROM post_topics pt JOIN topics t ON t.id = pt.topic_id
				WHERE pt.post_id = p.id ORDER BY t.sort, t.name_de) AS topics
		FROM posts p WHERE p.id = $1 AND p.status IN ('sending', 'sent', 'cancelled') AND p.started_at IS NOT NULL`, postID)
	if db.IsNoRows(err) {
		return PostContext{}, fmt.Errorf("post %d: %w", postID, ErrNotFound)
	}
	if err != nil {
		return PostContext{}, fmt.Errorf("post context: %w", err)
	}
	return PostContext{
		PostID: postID, Text: row.Text, LinkURL: row.LinkURL, DepartmentID: row.DepartmentID,
		IsWarning: row.IsWarning, SentAt: row.StartedAt.Time, Topics: row.Topics,
	}, nil
}
