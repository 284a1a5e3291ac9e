package broadcast

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"citybot/internal/audit"
	"citybot/internal/db"
	"citybot/staff"
)

// Topic is a channel citizens can subscribe to.
type Topic struct {
	ID          int64     `db:"id"`
	Slug        string    `db:"slug"`
	NameDE      string    `db:"name_de"`
	NameEN      string    `db:"name_en"`
	Description string    `db:"description"`
	Active      bool      `db:"active"`
	Sort        int       `db:"sort"`
	CreatedAt   time.Time `db:"created_at"`
	UpdatedAt   time.Time `db:"updated_at"`
}

// Name returns the topic's name in lang ("en" falls back to German).
func (t Topic) Name(lang string) string {
	if lang == "en" && t.NameEN != "" {
		return t.NameEN
	}
	return t.NameDE
}

// TopicInput is what an admin enters for a topic.
type TopicInput struct {
	Slug        string
	NameDE      string
	NameEN      string
	Description string
	Active      bool
	Sort        int
}

var slugRe = regexp.MustCompile(`^[a-z0-9_-]{1,40}$`)

func (in *TopicInput) normalize() error {
	in.Slug = strings.ToLower(strings.TrimSpace(in.Slug))
	in.NameDE = strings.TrimSpace(in.NameDE)
	in.NameEN = strings.TrimSpace(in.NameEN)
	in.Description = strings.TrimSpace(in.Description)
	if !slugRe.MatchString(in.Slug) {
		return fmt.Errorf("%w: slug must be 1-40 characters of a-z, 0-9, _ and -", ErrInvalid)
	}
	if in.NameDE == "" {
		return fmt.Errorf("%w: the German name is required", ErrInvalid)
	}
	return nil
}

const topicCols = `id, slug, name_de, name_en, description, active, sort, created_at, updated_at`

// CreateTopic adds a topic; the audit row "broadcast.topic.create" of by
// commits with it. A slug in use gives ErrInvalid.
func (s *Service) CreateTopic(ctx context.Context, by staff.Principal, in TopicInput) (Topic, error) {
	details := topicDetails(in)
	if err := in.normalize(); err != nil {
		return Topic{}, err
	}
	var t Topic
	err := db.InTx(ctx, s.db, func(tx *sqlx.Tx) error {
		err := tx.GetContext(ctx, &t, `
			INSERT INTO topics (slug, name_de, name_en, description, active, sort)
			VALUES ($1, $2, $3, $4, $5, $6) RETURNING `+topicCols,
			in.Slug, in.NameDE, in.NameEN, in.Description, in.Active, in.Sort)
		if db.IsUniqueViolation(err) {
			return fmt.Errorf("%w: slug %q is in use", ErrInvalid, in.Slug)
		}
		if err != nil {
			return fmt.Errorf("create topic: %w", err)
		}
		return audit.Record(ctx, tx, by.ID, "broadcast.topic.create", "topic", idStr(t.ID), details)
	})
	if err != nil {
		return Topic{}, err
	}
	return t, nil
}

// UpdateTopic changes a topic; the audit row "broadcast.topic.update" of
// by (with the topic before) commits with it. Changing the slug breaks deep
// links already handed out; the admin UI should say so.
func (s *Service) UpdateTopic(ctx context.Context, by staff.Principal, id int64, in TopicInput) (Topic, error) {
	details := topicDetails(in)
	if err := in.normalize(); err != nil {
		return Topic{}, err
	}
	var t Topic
	err := db.InTx(ctx, s.db, func(tx *sqlx.Tx) error {
		var old Topic
		err := tx.GetContext(ctx, &old, `SELECT `+topicCols+` FROM topics WHERE id = $1 FOR UPDATE`, id)
		if db.IsNoRows(err) {
			return fmt.Errorf("topic %d: %w", id, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("update topic: %w", err)
		}
		err = tx.GetContext(ctx, &t, `
			UPDATE topics SET slug = $2, name_de = $3, name_en = $4, description = $5, active = $6, sort = $7,
				updated_at = now()
			WHERE id = $1 RETURNING `+topicCols,
			id, in.Slug, in.NameDE, in.NameEN, in.Description, in.Active, in.Sort)
		switch {
		case db.IsUniqueViolation(err):
			return fmt.Errorf("%w: slug %q is in use", ErrInvalid, in.Slug)
		case err != nil:
			return fmt.Errorf("update topic: %w", err)
		}
		details["before"] = topicDetails(TopicInput{Slug: old.Slug, NameDE: old.NameDE, NameEN: old.NameEN, Active: old.Active, Sort: old.Sort})
		return audit.Record(ctx, tx, by.ID, "broadcast.topic.update", "topic", idStr(t.ID), details)
	})
	if err != nil {
		return Topic{}, err
	}
	return t, nil
}

// Topic returns one topic.
func (s *Service) Topic(ctx context.Context, id int64) (Topic, error) {
	var t Topic
	err := s.db.GetContext(ctx, &t, `SELECT `+topicCols+` FROM topics WHERE id = $1`, id)
	if db.IsNoRows(err) {
		return Topic{}, fmt.Errorf("topic %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return Topic{}, fmt.Errorf("get topic: %w", err)
	}
	return t, nil
}

// ListTopics returns the topics in display order; inactive ones only when
// all is true (admin view).
func (s *Service) ListTopics(ctx context.Context, all bool) ([]Topic, error) {
	var ts []Topic
	err := s.db.SelectContext(ctx, &ts, `SELECT `+topicCols+` FROM topics
		WHERE active OR $1 ORDER BY sort, name_de, id`, all)
	if err != nil {
		return nil, fmt.Errorf("list topics: %w", err)
	}
	return ts, nil
}

// TopicChoice is a topic as the citizen sees it in /abo, with whether the
// citizen subscribed to it.
type TopicChoice struct {
	Topic
	Subscribed bool `db:"subscribed"`
}

// Topics returns the active topics with the citizen's subscription state,
// in display order: the content of the /abo keyboard.
func (s *Service) Topics(ctx context.Context, citizenID int64) ([]TopicChoice, error) {
	return topicChoices(ctx, s.db, citizenID)
}

// Subscriptions returns the topics the citizen subscribed to (also inactive
// ones), e.g. for /meinedaten.
func (s *Service) Subscriptions(ctx context.Context, citizenID int64) ([]Topic, error) {
	return subscriptionsOf(ctx, s.db, citizenID)
}

// Subscribe subscribes the citizen to an active topic (idempotent).
func (s *Service) Subscribe(ctx context.Context, citizenID, topicID int64) error {
	return subscribe(ctx, s.db, citizenID, topicID)
}

// Unsubscribe removes one subscription (idempotent).
func (s *Service) Unsubscribe(ctx context.Context, citizenID, topicID int64) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM subscriptions WHERE citizen_id = $1 AND topic_id = $2`,
		citizenID, topicID); err != nil {
		return fmt.Errorf("unsubscribe: %w", err)
	}
	return nil
}

// Toggle flips the citizen's subscription to a topic (the /abo inline
// buttons) and returns whether the citizen is now subscribed.
func (s *Service) Toggle(ctx context.Context, citizenID, topicID int64) (subscribed bool, err error) {
	err = db.InTx(ctx, s.db, func(tx *sqlx.Tx) error {
		subscribed, err = toggle(ctx, tx, citizenID, topicID)
		return err
	})
	return subscribed, err
}

// UnsubscribeAll removes all of the citizen's subscriptions (/abbestellen)
// and cancels deliveries not yet sent to them. It returns how many topics
// the citizen had.
func (s *Service) UnsubscribeAll(ctx context.Context, citizenID int64) (int, error) {
	var n int
	err := db.InTx(ctx, s.db, func(tx *sqlx.Tx) (err error) {
		n, err = unsubscribeAll(ctx, tx, citizenID)
		return err
	})
	return n, err
}

// DeepLinkPrefix starts the /start payload of a subscription deep link.
const DeepLinkPrefix = "abo-"

// DeepLinkPayload returns the /start payload that subscribes to the topic.
func DeepLinkPayload(slug string) string { return DeepLinkPrefix + slug }

// DeepLink returns the t.me link that subscribes to the topic.
func DeepLink(botUsername, slug string) string {
	return "https://t.me/" + strings.TrimPrefix(botUsername, "@") + "?start=" + DeepLinkPayload(slug)
}

// IsDeepLinkPayload reports whether a /start payload is a subscription link.
func IsDeepLinkPayload(payload string) bool { return strings.HasPrefix(payload, DeepLinkPrefix) }

// SubscribeByDeepLink subscribes the citizen to the topic named by a /start
// payload ("abo-<slug>") and returns the topic. Not a subscription payload,
// or no such active topic: ErrNotFound.
func (s *Service) SubscribeByDeepLink(ctx context.Context, citizenID int64, payload string) (Topic, error) {
	return subscribeByDeepLink(ctx, s.db, citizenID, payload)
}

// Callback data of the buttons (Telegram allows 64 bytes).
const (
	// ToggleCallbackPrefix: an /abo keyboard button, "bt:<topicID>".
	ToggleCallbackPrefix = "bt:"
	// QuestionCallbackPrefix: the "Frage dazu" button under a post, "bq:<postID>".
	QuestionCallbackPrefix = "bq:"
)

// ToggleCallbackData is the callback data of the /abo button for a topic.
func ToggleCallbackData(topicID int64) string {
	return ToggleCallbackPrefix + strconv.FormatInt(topicID, 10)
}

// QuestionCallbackData is the callback data of a post's "Frage dazu" button.
func QuestionCallbackData(postID int64) string {
	return QuestionCallbackPrefix + strconv.FormatInt(postID, 10)
}

// ParseToggleCallback returns the topic id of an /abo button's data.
func ParseToggleCallback(data string) (topicID int64, ok bool) {
	return parseIDCallback(data, ToggleCallbackPrefix)
}

// ParseQuestionCallback returns the post id of a "Frage dazu" button's data.
func ParseQuestionCallback(data string) (postID int64, ok bool) {
	return parseIDCallback(data, QuestionCallbackPrefix)
}

func parseIDCallback(data, prefix string) (int64, bool) {
	rest, ok := strings.CutPrefix(data, prefix)
	if !ok {
		return 0, false
	}
	id, err := strconv.ParseInt(rest, 10, 64)
	if err != nil || id <= 0 {
		return 0, false
	}
	return id, true
}

// SubscriberPoint is the number of subscribers of a topic at the end of a
// day (in the service's time zone).
type SubscriberPoint struct {
	Day         time.Time // midnight, local
	Subscribers int
	Added       int
	Removed     int
}

// SubscriberHistory returns, for each day from..to (inclusive, local
// dates), the subscriber count of the topic at the day's end and the day's
// changes: the admin's "subscribers per topic over time".
func (s *Service) SubscriberHistory(ctx context.Context, topicID int64, from, to time.Time) ([]SubscriberPoint, error) {
	loc := s.cfg.Location
	from = startOfDay(from.In(loc))
	to = startOfDay(to.In(loc))
	if to.Before(from) {
		return nil, fmt.Errorf("%w: empty date range", ErrInvalid)
	}
	if to.Sub(from) > 3*366*24*time.Hour {
		return nil, fmt.Errorf("%w: date range too long", ErrInvalid)
	}
	var rows []struct {
		Hour         time.Time `db:"hour"`
		Subscribed   int       `db:"subscribed"`
		Unsubscribed int       `db:"unsubscribed"`
	}
	end := to.AddDate(0, 0, 1)
	if err := s.db.SelectContext(ctx, &rows, `
		SELECT hour, subscribed, unsubscribed FROM subscription_stats
		WHERE topic_id = $1 AND hour < $2 ORDER BY hour`, topicID, end); err != nil {
		return nil, fmt.Errorf("subscriber history: %w", err)
	}
	var out []SubscriberPoint
	total, i := 0, 0
	for day := from; !day.After(to); day = day.AddDate(0, 0, 1) {
		next := day.AddDate(0, 0, 1)
		p := SubscriberPoint{Day: day}
		for ; i < len(rows) && rows[i].Hour.Before(next); i++ {
			total += rows[i].Subscribed - rows[i].Unsubscribed
			if !rows[i].Hour.Before(day) {
				p.Added += rows[i].Subscribed
				p.Removed += rows[i].Unsubscribed
			}
		}
		p.Subscribers = total
		out = append(out, p)
	}
	return out, nil
}

// SubscriberCounts returns the current number of subscribers per topic id.
func (s *Service) SubscriberCounts(ctx context.Context) (map[int64]int, error) {
	var rows []struct {
		TopicID int64 `db:"topic_id"`
		N       int   `db:"n"`
	}
	if err := s.db.SelectContext(ctx, &rows, `SELECT topic_id, count(*) AS n FROM subscriptions GROUP BY topic_id`); err != nil {
		return nil, fmt.Errorf("subscriber counts: %w", err)
	}
	out := make(map[int64]int, len(rows))
	for _, r := range rows {
		out[r.TopicID] = r.N
	}
	return out, nil
}

func startOfDay(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, t.Location())
}
