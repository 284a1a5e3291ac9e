package broadcast

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"citybot/internal/audit"
	"citybot/internal/db"
	"citybot/internal/tgtext"
	"citybot/staff"
)

// Post states.
const (
	StatusDraft     = "draft"
	StatusScheduled = "scheduled"
	StatusSending   = "sending"
	StatusSent      = "sent"
	StatusCancelled = "cancelled"
)

// Limits of a post (Telegram's).
const (
	MaxTextLen    = 4096     // UTF-16 units, text message
	MaxCaptionLen = 1024     // UTF-16 units, text with a photo
	MaxPhotoBytes = 10 << 20 // uploaded photo
)

// Post is a message to the subscribers of one or more topics.
type Post struct {
	ID           int64         `db:"id"`
	Text         string        `db:"text"`
	PhotoURL     string        `db:"photo_url"`
	PhotoName    string        `db:"photo_name"`
	HasPhotoData bool          `db:"has_photo_data"`
	LinkURL      string        `db:"link_url"`
	DepartmentID string        `db:"department_id"` // "" = none
	IsWarning    bool          `db:"is_warning"`
	Status       string        `db:"status"`
	SendAt       sql.NullTime  `db:"send_at"`
	CreatedBy    sql.NullInt64 `db:"created_by"`
	StartedAt    sql.NullTime  `db:"started_at"`
	FinishedAt   sql.NullTime  `db:"finished_at"`
	// Final counts, set when the post is finished (see Progress for live ones).
	Recipients  int           `db:"recipients"`
	SentCount   int           `db:"sent_count"`
	FailedCount int           `db:"failed_count"`
	CreatedAt   time.Time     `db:"created_at"`
	UpdatedAt   time.Time     `db:"updated_at"`
	TopicIDs    pq.Int64Array `db:"topic_ids"`
}

const postCols = `p.id, p.text, p.photo_url, p.photo_name, p.photo_data IS NOT NULL AS has_photo_data, p.link_url,
	COALESCE(p.department_id, '') AS department_id, p.is_warning, p.status, p.send_at, p.created_by,
	p.started_at, p.finished_at, p.recipients, p.sent_count, p.failed_count, p.created_at, p.updated_at,
	ARRAY(SELECT pt.topic_id FROM post_topics pt WHERE pt.post_id = p.id ORDER BY pt.topic_id) AS topic_ids`

// PostInput is what an editor writes.
type PostInput struct {
	Text string
	// PhotoURL (http(s) URL or Telegram file id) or Photo (uploaded bytes,
	// with PhotoName); at most one.
	PhotoURL     string
	Photo        []byte
	PhotoName    string
	LinkURL      string
	TopicIDs     []int64
	DepartmentID string // for "Frage dazu" handoffs; "" = routing decides
	IsWarning    bool
	CreatedBy    int64 // users.id; 0 = the system (feeds)
	// RemovePhoto (UpdatePost): drop the post's photo first, in the same
	// transaction, with its own audit row (as RemovePhoto).
	RemovePhoto bool
}

var fileIDRe = regexp.MustCompile(`^[A-Za-z0-9_-]{10,200}$`)

func (in *PostInput) normalize() error {
	in.Text = strings.TrimSpace(strings.ReplaceAll(in.Text, "\r\n", "\n"))
	in.PhotoURL = strings.TrimSpace(in.PhotoURL)
	in.LinkURL = strings.TrimSpace(in.LinkURL)
	in.DepartmentID = strings.TrimSpace(in.DepartmentID)
	if in.Text == "" {
		return fmt.Errorf("%w: the text is empty", ErrInvalid)
	}
	if !utf8.ValidString(in.Text) {
		return fmt.Errorf("%w: the text is not valid UTF-8", ErrInvalid)
	}
	limit := MaxTextLen
	if in.PhotoURL != "" || len(in.Photo) > 0 {
		limit = MaxCaptionLen
	}
	if n := tgtext.UTF16Len(in.Text); n > limit {
		return fmt.Errorf("%w: the text has %d characters, at most %d are allowed", ErrInvalid, n, limit)
	}
	if in.PhotoURL != "" && len(in.Photo) > 0 {
		return fmt.Errorf("%w: either a photo URL or an uploaded photo", ErrInvalid)
	}
	if in.PhotoURL != "" && !IsHTTPURL(in.PhotoURL) && !fileIDRe.MatchString(in.PhotoURL) {
		return fmt.Errorf("%w: the photo must be an http(s) URL", ErrInvalid)
	}
	if len(in.Photo) > MaxPhotoBytes {
		return fmt.Errorf("%w: the photo is larger than %d MB", ErrInvalid, MaxPhotoBytes>>20)
	}
	if len(in.Photo) > 0 && in.PhotoName == "" {
		in.PhotoName = "photo.jpg"
	}
	if len(in.Photo) == 0 {
		in.PhotoName = ""
	}
	if in.LinkURL != "" && !IsHTTPURL(in.LinkURL) {
		return fmt.Errorf("%w: the link must be an http(s) URL", ErrInvalid)
	}
	if len(in.TopicIDs) == 0 {
		return fmt.Errorf("%w: choose at least one topic", ErrInvalid)
	}
	return nil
}

// IsHTTPURL reports whether s is an absolute http or https URL with a host.
func IsHTTPURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

func nullString(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }
func nullID(id int64) sql.NullInt64      { return sql.NullInt64{Int64: id, Valid: id > 0} }
func nullBytes(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

// CreatePost stores a draft post; the audit row "broadcast.post.create" of
// by commits with it.
func (s *Service) CreatePost(ctx context.Context, by staff.Principal, in PostInput) (Post, error) {
	details := postDetails(in)
	if err := in.normalize(); err != nil {
		return Post{}, err
	}
	var id int64
	err := db.InTx(ctx, s.db, func(tx *sqlx.Tx) error {
		var err error
		if id, err = insertPost(ctx, tx, in, StatusDraft, sql.NullTime{}); err != nil {
			return err
		}
		return audit.Record(ctx, tx, by.ID, "broadcast.post.create", "post", idStr(id), details)
	})
	if err != nil {
		return Post{}, err
	}
	return s.Post(ctx, id)
}

func insertPost(ctx context.Context, tx *sqlx.Tx, in PostInput, status string, sendAt sql.NullTime) (int64, error) {
	var id int64
	err := tx.GetContext(ctx, &id, `
		INSERT INTO posts (text, photo_url, photo_data, photo_name, link_url, department_id, is_warning, status, send_at, created_by)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id`,
		in.Text, in.PhotoURL, nullBytes(in.Photo), in.PhotoName, in.LinkURL, nullString(in.DepartmentID),
		in.IsWarning, status, sendAt, nullID(in.CreatedBy))
	if db.IsForeignKeyViolation(err) {
		return 0, fmt.Errorf("%w: unknown department or user", ErrInvalid)
	}
	if err != nil {
		return 0, fmt.Errorf("insert post: %w", err)
	}
	if err := setPostTopics(ctx, tx, id, in.TopicIDs); err != nil {
		return 0, err
	}
	return id, nil
}

func setPostTopics(ctx context.Context, tx *sqlx.Tx, id int64, topics []int64) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM post_topics WHERE post_id = $1`, id); err != nil {
		return fmt.Errorf("post topics: %w", err)
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO post_topics (post_id, topic_id)
		SELECT $1, unnest($2::bigint[]) ON CONFLICT DO NOTHING`, id, pq.Int64Array(topics))
	if db.IsForeignKeyViolation(err) {
		return fmt.Errorf("%w: unknown topic", ErrInvalid)
	}
	if err != nil {
		return fmt.Errorf("post topics: %w", err)
	}
	return nil
}

// UpdatePost changes a draft or a scheduled post (not yet sending); the
// audit row "broadcast.post.update" of by commits with it.
func (s *Service) UpdatePost(ctx context.Context, by staff.Principal, id int64, in PostInput) (Post, error) {
	details := postDetails(in)
	if err := in.normalize(); err != nil {
		return Post{}, err
	}
	err := db.InTx(ctx, s.db, func(tx *sqlx.Tx) error {
		if err := lockPostIn(ctx, tx, id, StatusDraft, StatusScheduled); err != nil {
			return err
		}
		if in.RemovePhoto {
			if err := removePhoto(ctx, tx, by, id); err != nil {
				return err
			}
		}
		// An uploaded photo is kept unless replaced or a photo URL is set.
		_, err := tx.ExecContext(ctx, `
			UPDATE posts SET text = $2, photo_url = $3,
				photo_data = CASE WHEN $4::bytea IS NOT NULL OR $3 <> '' THEN $4::bytea ELSE photo_data END,
				photo_name = CASE WHEN $4::bytea IS NOT NULL OR $3 <> '' THEN $5 ELSE photo_name END,
				link_url = $6, department_id = $7, is_warning = $8, updated_at = now()
			WHERE id = $1`,
			id, in.Text, in.PhotoURL, nullBytes(in.Photo), in.PhotoName, in.LinkURL, nullString(in.DepartmentID), in.IsWarning)
		if db.IsForeignKeyViolation(err) {
			return fmt.Errorf("%w: unknown department", ErrInvalid)
		}
		if err != nil {
			return fmt.Errorf("update post: %w", err)
		}
		if err := setPostTopics(ctx, tx, id, in.TopicIDs); err != nil {
			return err
		}
		return audit.Record(ctx, tx, by.ID, "broadcast.post.update", "post", idStr(id), details)
	})
	if err != nil {
		return Post{}, err
	}
	return s.Post(ctx, id)
}

// RemovePhoto removes a post's photo (draft or scheduled), with the audit
// row "broadcast.post.remove_photo" of by.
func (s *Service) RemovePhoto(ctx context.Context, by staff.Principal, id int64) error {
	return db.InTx(ctx, s.db, func(tx *sqlx.Tx) error {
		if err := lockPostIn(ctx, tx, id, StatusDraft, StatusScheduled); err != nil {
			return err
		}
		return removePhoto(ctx, tx, by, id)
	})
}

// removePhoto removes the photo of the post id, locked by the caller.
func removePhoto(ctx context.Context, tx *sqlx.Tx, by staff.Principal, id int64) error {
	_, err := tx.ExecContext(ctx, `UPDATE posts SET photo_url = '', photo_data = NULL, photo_name = '', updated_at = now() WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("remove photo: %w", err)
	}
	return audit.Record(ctx, tx, by.ID, "broadcast.post.remove_photo", "post", idStr(id), nil)
}

// lockPostIn locks the post row and checks that its status is one of allowed.
func lockPostIn(ctx context.Context, tx *sqlx.Tx, id int64, allowed ...string) error {
	var st string
	err := tx.GetContext(ctx, &st, `SELECT status FROM posts WHERE id = $1 FOR UPDATE`, id)
	if db.IsNoRows(err) {
		return fmt.Errorf("post %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("lock post: %w", err)
	}
	for _, a := range allowed {
		if st == a {
			return nil
		}
	}
	return fmt.Errorf("post %d is %s: %w", id, st, ErrState)
}

// DeletePost deletes a draft, with the audit row "broadcast.post.delete"
// of by.
func (s *Service) DeletePost(ctx context.Context, by staff.Principal, id int64) error {
	return db.InTx(ctx, s.db, func(tx *sqlx.Tx) error {
		if err := lockPostIn(ctx, tx, id, StatusDraft); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM posts WHERE id = $1`, id); err != nil {
			return fmt.Errorf("delete post: %w", err)
		}
		return audit.Record(ctx, tx, by.ID, "broadcast.post.delete", "post", idStr(id), nil)
	})
}

// SchedulePost releases a draft (or reschedules a scheduled post) to be sent
// at sendAt; the zero time means now. Ordinary posts wait for the end of
// quiet hours; warnings do not. The audit row of by commits with it:
// "broadcast.post.send" (sendAt zero) or "broadcast.post.schedule".
func (s *Service) SchedulePost(ctx context.Context, by staff.Principal, id int64, sendAt time.Time) (Post, error) {
	now := s.now()
	sendNow := sendAt.IsZero()
	if sendNow || sendAt.Before(now) {
		sendAt = now
	}
	err := db.InTx(ctx, s.db, func(tx *sqlx.Tx) error {
		if err := lockPostIn(ctx, tx, id, StatusDraft, StatusScheduled); err != nil {
			return err
		}
		var n int
		if err := tx.GetContext(ctx, &n, `SELECT count(*) FROM post_topics WHERE post_id = $1`, id); err != nil {
			return fmt.Errorf("schedule post: %w", err)
		}
		if n == 0 {
			return fmt.Errorf("%w: the post has no topic", ErrInvalid)
		}
		var p struct {
			IsWarning bool      `db:"is_warning"`
			SendAt    time.Time `db:"send_at"`
		}
		if err := tx.GetContext(ctx, &p, `UPDATE posts SET status = 'scheduled', send_at = $2, updated_at = now() WHERE id = $1
			RETURNING is_warning, send_at`, id, sendAt); err != nil {
			return fmt.Errorf("schedule post: %w", err)
		}
		if sendNow {
			return audit.Record(ctx, tx, by.ID, "broadcast.post.send", "post", idStr(id), map[string]any{"warning": p.IsWarning})
		}
		return audit.Record(ctx, tx, by.ID, "broadcast.post.schedule", "post", idStr(id),
			map[string]any{"send_at": p.SendAt.UTC().Format(time.RFC3339), "warning": p.IsWarning})
	})
	if err != nil {
		return Post{}, err
	}
	s.wake()
	return s.Post(ctx, id)
}

// Unschedule turns a scheduled post back into a draft, with the audit row
// "broadcast.post.unschedule" of by.
func (s *Service) Unschedule(ctx context.Context, by staff.Principal, id int64) error {
	return db.InTx(ctx, s.db, func(tx *sqlx.Tx) error {
		if err := lockPostIn(ctx, tx, id, StatusScheduled); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE posts SET status = 'draft', send_at = NULL, updated_at = now() WHERE id = $1`, id); err != nil {
			return fmt.Errorf("unschedule post: %w", err)
		}
		return audit.Record(ctx, tx, by.ID, "broadcast.post.unschedule", "post", idStr(id), nil)
	})
}

// CancelPost stops a scheduled or sending post: deliveries not yet sent are
// cancelled. Sends already in progress complete and count as sent; other
// instances stop within a second (their heartbeat). The audit row
// "broadcast.post.cancel" of by commits with it.
func (s *Service) CancelPost(ctx context.Context, by staff.Principal, id int64) error {
	err := db.InTx(ctx, s.db, func(tx *sqlx.Tx) error {
		if err := lockPostIn(ctx, tx, id, StatusScheduled, StatusSending); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE deliveries SET status = 'cancelled', last_error = 'post cancelled'
			WHERE post_id = $1 AND status IN ('pending', 'sending')`, id); err != nil {
			return fmt.Errorf("cancel deliveries: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE posts SET status = 'cancelled', finished_at = $2, updated_at = now() WHERE id = $1`,
			id, s.now()); err != nil {
			return fmt.Errorf("cancel post: %w", err)
		}
		if err := finishCounts(ctx, tx, id); err != nil {
			return err
		}
		return audit.Record(ctx, tx, by.ID, "broadcast.post.cancel", "post", idStr(id), nil)
	})
	if err == nil {
		s.markCancelled(id) // drop this instance's queued sends at once
	}
	return err
}

// finishCounts stores the final delivery counts on the post.
func finishCounts(ctx context.Context, tx *sqlx.Tx, id int64) error {
	_, err := tx.ExecContext(ctx, `
		UPDATE posts p SET recipients = c.total, sent_count = c.sent, failed_count = c.failed
		FROM (SELECT count(*) AS total,
				count(*) FILTER (WHERE status = 'sent') AS sent,
				count(*) FILTER (WHERE status IN ('failed', 'undeliverable')) AS failed
			FROM deliveries WHERE post_id = $1) c
		WHERE p.id = $1`, id)
	if err != nil {
		return fmt.Errorf("post counts: %w", err)
	}
	return nil
}

// Post returns one post.
func (s *Service) Post(ctx context.Context, id int64) (Post, error) {
	var p Post
	err := s.db.GetContext(ctx, &p, `SELECT `+postCols+` FROM posts p WHERE p.id = $1`, id)
	if db.IsNoRows(err) {
		return Post{}, fmt.Errorf("post %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return Post{}, fmt.Errorf("get post: %w", err)
	}
	return p, nil
}

// PostPhoto returns an uploaded photo of a post (for the preview page).
func (s *Service) PostPhoto(ctx context.Context, id int64) (name string, data []byte, err error) {
	var row struct {
		Name string `db:"photo_name"`
		Data []byte `db:"photo_data"`
	}
	err = s.db.GetContext(ctx, &row, `SELECT photo_name, photo_data FROM posts WHERE id = $1 AND photo_data IS NOT NULL`, id)
	if db.IsNoRows(err) {
		return "", nil, fmt.Errorf("photo of post %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return "", nil, fmt.Errorf("post photo: %w", err)
	}
	return row.Name, row.Data, nil
}

// ListPostsOptions selects posts for the admin list: newest first, keyset
// pagination by id (BeforeID = the last id of the previous page).
type ListPostsOptions struct {
	Status   string // "" = all
	BeforeID int64
	Limit    int // default 50, at most 200
}

// ListPosts returns posts, newest first.
func (s *Service) ListPosts(ctx context.Context, o ListPostsOptions) ([]Post, error) {
	if o.Limit <= 0 || o.Limit > 200 {
		o.Limit = 50
	}
	if o.BeforeID <= 0 {
		o.BeforeID = 1<<63 - 1
	}
	var ps []Post
	err := s.db.SelectContext(ctx, &ps, `SELECT `+postCols+` FROM posts p
		WHERE p.id < $1 AND ($2 = '' OR p.status = $2) ORDER BY p.id DESC LIMIT $3`, o.BeforeID, o.Status, o.Limit)
	if err != nil {
		return nil, fmt.Errorf("list posts: %w", err)
	}
	return ps, nil
}

// Preview is what an editor sees before sending.
type Preview struct {
	Message    Message   // exactly what each subscriber gets (Photo not loaded)
	Recipients int       // subscribers of the post's topics now
	StartsAt   time.Time // when sending would start if released now (quiet hours)
	Duration   time.Duration
	Problems   []string // why it cannot be sent as is, as Problem* codes (empty: fine)
}

// Problems of a post's preview: codes the UI words (admin's "bc.problem.<code>").
const (
	ProblemNoTopic       = "no_topic"       // no topic chosen
	ProblemNoSubscribers = "no_subscribers" // its topics have no subscribers yet
)

// Preview returns the message as it will be sent, with the number of
// recipients and, if it were released now, when it starts and how long
// sending takes at the configured rate.
func (s *Service) Preview(ctx context.Context, id int64) (Preview, error) {
	p, err := s.Post(ctx, id)
	if err != nil {
		return Preview{}, err
	}
	pv := Preview{Message: s.message(p, nil)}
	if err := s.db.GetContext(ctx, &pv.Recipients, `
		SELECT count(DISTINCT s.citizen_id) FROM subscriptions s
		JOIN citizens c ON c.id = s.citizen_id AND c.channel = 'telegram'
		WHERE s.topic_id = ANY($1)`, p.TopicIDs); err != nil {
		return Preview{}, fmt.Errorf("preview recipients: %w", err)
	}
	now := s.now()
	pv.StartsAt = now
	if p.SendAt.Valid && p.SendAt.Time.After(now) {
		pv.StartsAt = p.SendAt.Time
	}
	if !p.IsWarning {
		pv.StartsAt = s.cfg.QuietHours.NextAllowed(pv.StartsAt, s.cfg.Location)
	}
	if s.cfg.Rate > 0 {
		pv.Duration = time.Duration(float64(pv.Recipients) / s.cfg.Rate * float64(time.Second))
	}
	if len(p.TopicIDs) == 0 {
		pv.Problems = append(pv.Problems, ProblemNoTopic)
	}
	if pv.Recipients == 0 {
		pv.Problems = append(pv.Problems, ProblemNoSubscribers)
	}
	return pv, nil
}

// message builds the message of a post; photo are the uploaded bytes, if any.
func (s *Service) message(p Post, photo []byte) Message {
	m := Message{
		PostID:       p.ID,
		Text:         p.Text,
		PhotoURL:     p.PhotoURL,
		Photo:        photo,
		PhotoName:    p.PhotoName,
		LinkURL:      p.LinkURL,
		QuestionText: s.cfg.QuestionButton,
		QuestionData: QuestionCallbackData(p.ID),
		IsWarning:    p.IsWarning,
	}
	if m.LinkURL != "" {
		m.LinkText = s.cfg.LinkButton
	}
	return m
}

// Progress is the live state of a post's sending, for the admin UI.
type Progress struct {
	PostID        int64
	Status        string
	FanoutDone    bool // all deliveries created
	Total         int  // deliveries created so far
	Sent          int
	Failed        int // gave up after retries
	Undeliverable int // blocked the bot
	Cancelled     int
	Remaining     int     // pending or in flight
	Rate          float64 // messages/s over the last 30 s
	EstimatedEnd  time.Time
}

// Progress returns the post's delivery counts and an estimated end.
func (s *Service) Progress(ctx context.Context, id int64) (Progress, error) {
	var p struct {
		Status     string       `db:"status"`
		FanoutDone bool         `db:"fanout_done"`
		IsWarning  bool         `db:"is_warning"`
		SendAt     sql.NullTime `db:"send_at"`
	}
	err := s.db.GetContext(ctx, &p, `SELECT status, fanout_done, is_warning, send_at FROM posts WHERE id = $1`, id)
	if db.IsNoRows(err) {
		return Progress{}, fmt.Errorf("post %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return Progress{}, fmt.Errorf("post progress: %w", err)
	}
	var rows []struct {
		Status string `db:"status"`
		N      int    `db:"n"`
	}
	if err := s.db.SelectContext(ctx, &rows, `SELECT status, count(*) AS n FROM deliveries WHERE post_id = $1 GROUP BY status`, id); err != nil {
		return Progress{}, fmt.Errorf("post progress: %w", err)
	}
	pr := Progress{PostID: id, Status: p.Status, FanoutDone: p.FanoutDone}
	for _, r := range rows {
		pr.Total += r.N
		switch r.Status {
		case "sent":
			pr.Sent = r.N
		case "failed":
			pr.Failed = r.N
		case "undeliverable":
			pr.Undeliverable = r.N
		case "cancelled":
			pr.Cancelled = r.N
		default:
			pr.Remaining += r.N
		}
	}
	now := s.now()
	var recent int
	if err := s.db.GetContext(ctx, &recent, `SELECT count(*) FROM deliveries
		WHERE post_id = $1 AND status = 'sent' AND sent_at > $2`, id, now.Add(-30*time.Second)); err != nil {
		return Progress{}, fmt.Errorf("post progress: %w", err)
	}
	pr.Rate = float64(recent) / 30
	remaining := pr.Remaining
	if !p.FanoutDone && (p.Status == StatusSending || p.Status == StatusScheduled) {
		// Not all deliveries exist yet: estimate with the current subscribers.
		var subs int
		if err := s.db.GetContext(ctx, &subs, `
			SELECT count(DISTINCT s.citizen_id) FROM subscriptions s
			JOIN post_topics pt ON pt.topic_id = s.topic_id AND pt.post_id = $1`, id); err != nil {
			return Progress{}, fmt.Errorf("post progress: %w", err)
		}
		remaining = max(remaining, subs-pr.Total+pr.Remaining)
	}
	if remaining > 0 && (p.Status == StatusSending || p.Status == StatusScheduled) {
		rate := pr.Rate
		if rate < 0.1 {
			rate = s.cfg.Rate
		}
		start := now
		if p.Status == StatusScheduled && p.SendAt.Valid && p.SendAt.Time.After(now) {
			start = p.SendAt.Time
		}
		if !p.IsWarning {
			start = s.cfg.QuietHours.NextAllowed(start, s.cfg.Location)
		}
		pr.EstimatedEnd = start.Add(time.Duration(float64(remaining) / rate * float64(time.Second)))
	}
	return pr, nil
}

// PostContext is what the bot needs when a citizen presses "Frage dazu":
// the post (to show it in the case) and the department that answers.
type PostContext struct {
	PostID       int64
	Text         string
	LinkURL      string
	DepartmentID string // "" = let routing decide
	IsWarning    bool
	SentAt       time.Time // when sending started
	Topics       []string  // German topic names
}

// PostContext returns the context of a post for a "Frage dazu" handoff.
// Drafts are not found (a citizen cannot have seen them).
func (s *Service) PostContext(ctx context.Context, postID int64) (PostContext, error) {
	return postContext(ctx, s.db, postID)
}
