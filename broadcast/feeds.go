package broadcast

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/mmcdole/gofeed"
	"golang.org/x/net/html"

	"citybot/internal/audit"
	"citybot/internal/db"
	"citybot/internal/jobs"
	"citybot/internal/tgtext"
	"citybot/staff"
)

// Feed item states.
const (
	ItemNew      = "new"      // waits for an editor
	ItemRejected = "rejected" // an editor said no
	ItemPosted   = "posted"   // became a post
	ItemSkipped  = "skipped"  // already in the feed when it was first fetched
)

// MinFeedPoll is the shortest poll interval an admin can set.
const MinFeedPoll = time.Minute

// maxAutoPostsPerFetch bounds what one fetch publishes on its own; more new
// items (a feed that reset its ids, say) wait for an editor.
const maxAutoPostsPerFetch = 5

// Feed is an RSS/Atom feed whose items become posts of a topic.
type Feed struct {
	ID            int64          `db:"id"`
	URL           string         `db:"url"`
	Title         string         `db:"title"`
	TopicID       int64          `db:"topic_id"`
	DepartmentID  string         `db:"department_id"`
	AutoPublish   bool           `db:"auto_publish"`
	PollSeconds   int            `db:"poll_seconds"`
	Active        bool           `db:"active"`
	NextFetchAt   time.Time      `db:"next_fetch_at"`
	LastFetchAt   sql.NullTime   `db:"last_fetch_at"`
	LastSuccessAt sql.NullTime   `db:"last_success_at"`
	LastError     string         `db:"last_error"` // "" = the last fetch worked
	ETag          string         `db:"etag"`
	LastModified  string         `db:"last_modified"`
	CreatedAt     time.Time      `db:"created_at"`
	UpdatedAt     time.Time      `db:"updated_at"`
	NewItems      int            `db:"new_items"` // waiting for approval
	TopicName     sql.NullString `db:"topic_name"`
}

const feedCols = `f.id, f.url, f.title, f.topic_id, COALESCE(f.department_id, '') AS department_id, f.auto_publish,
	f.poll_seconds, f.active, f.next_fetch_at, f.last_fetch_at, f.last_success_at, f.last_error, f.etag,
	f.last_modified, f.created_at, f.updated_at,
	(SELECT count(*) FROM feed_items i WHERE i.feed_id = f.id AND i.status = 'new') AS new_items,
	(SELECT t.name_de FROM topics t WHERE t.id = f.topic_id) AS topic_name`

// FeedInput is what an admin enters for a feed.
type FeedInput struct {
	URL          string
	Title        string
	TopicID      int64
	DepartmentID string
	AutoPublish  bool          // false: items wait for an editor's approval
	PollInterval time.Duration // default 15 minutes, at least MinFeedPoll
	Active       bool
}

func (in *FeedInput) normalize() error {
	in.URL = strings.TrimSpace(in.URL)
	in.Title = strings.TrimSpace(in.Title)
	in.DepartmentID = strings.TrimSpace(in.DepartmentID)
	if !IsHTTPURL(in.URL) {
		return fmt.Errorf("%w: the feed address must be an http(s) URL", ErrInvalid)
	}
	if u, _ := url.Parse(in.URL); u.User != nil {
		return fmt.Errorf("%w: the feed address must not contain a password", ErrInvalid)
	}
	if in.TopicID <= 0 {
		return fmt.Errorf("%w: choose a topic", ErrInvalid)
	}
	if in.PollInterval == 0 {
		in.PollInterval = 15 * time.Minute
	}
	if in.PollInterval < MinFeedPoll {
		return fmt.Errorf("%w: poll at most once a minute", ErrInvalid)
	}
	return nil
}

func mapFeedErr(err error, what string) error {
	switch {
	case db.IsUniqueViolation(err):
		return fmt.Errorf("%w: this feed already exists for the topic", ErrInvalid)
	case db.IsForeignKeyViolation(err):
		return fmt.Errorf("%w: unknown topic or department", ErrInvalid)
	default:
		return fmt.Errorf("%s: %w", what, err)
	}
}

// CreateFeed adds a feed; it is fetched soon. Items already in the feed at
// the first fetch are not posted. The audit row "broadcast.feed.create" of
// by commits with it.
func (s *Service) CreateFeed(ctx context.Context, by staff.Principal, in FeedInput) (Feed, error) {
	details := feedDetails(in)
	if err := in.normalize(); err != nil {
		return Feed{}, err
	}
	var id int64
	err := db.InTx(ctx, s.db, func(tx *sqlx.Tx) error {
		err := tx.GetContext(ctx, &id, `
			INSERT INTO feeds (url, title, topic_id, department_id, auto_publish, poll_seconds, active, next_fetch_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
			in.URL, in.Title, in.TopicID, nullString(in.DepartmentID), in.AutoPublish, int(in.PollInterval.Seconds()), in.Active, s.now())
		if err != nil {
			return mapFeedErr(err, "create feed")
		}
		return audit.Record(ctx, tx, by.ID, "broadcast.feed.create", "feed", idStr(id), details)
	})
	if err != nil {
		return Feed{}, err
	}
	s.wakeFeedPoller()
	return s.Feed(ctx, id)
}

// UpdateFeed changes a feed. Items already seen stay seen (also when the URL
// changes), so nothing is posted twice. The audit row
// "broadcast.feed.update" of by commits with it.
func (s *Service) UpdateFeed(ctx context.Context, by staff.Principal, id int64, in FeedInput) (Feed, error) {
	details := feedDetails(in)
	if err := in.normalize(); err != nil {
		return Feed{}, err
	}
	err := db.InTx(ctx, s.db, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, `
		UPDATE feeds SET
			etag = CASE WHEN url = $2 THEN etag ELSE '' END,
			last_modified = CASE WHEN url = $2 THEN last_modified ELSE '' END,
			url = $2, title = $3, topic_id = $4, department_id = $5, auto_publish = $6, poll_seconds = $7,
			active = $8, next_fetch_at = least(next_fetch_at, $9), updated_at = now()
		WHERE id = $1`,
			id, in.URL, in.Title, in.TopicID, nullString(in.DepartmentID), in.AutoPublish, int(in.PollInterval.Seconds()),
			in.Active, s.now().Add(in.PollInterval))
		if err != nil {
			return mapFeedErr(err, "update feed")
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("feed %d: %w", id, ErrNotFound)
		}
		return audit.Record(ctx, tx, by.ID, "broadcast.feed.update", "feed", idStr(id), details)
	})
	if err != nil {
		return Feed{}, err
	}
	return s.Feed(ctx, id)
}

// DeleteFeed removes a feed and its items (posts made from them stay); the
// audit row "broadcast.feed.delete" of by commits with it.
func (s *Service) DeleteFeed(ctx context.Context, by staff.Principal, id int64) error {
	return db.InTx(ctx, s.db, func(tx *sqlx.Tx) error {
		var f struct {
			URL     string `db:"url"`
			TopicID int64  `db:"topic_id"`
		}
		err := tx.GetContext(ctx, &f, `DELETE FROM feeds WHERE id = $1 RETURNING url, topic_id`, id)
		if db.IsNoRows(err) {
			return fmt.Errorf("feed %d: %w", id, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("delete feed: %w", err)
		}
		return audit.Record(ctx, tx, by.ID, "broadcast.feed.delete", "feed", idStr(id), map[string]any{"url": f.URL, "topic": f.TopicID})
	})
}

// Feed returns one feed.
func (s *Service) Feed(ctx context.Context, id int64) (Feed, error) {
	var f Feed
	err := s.db.GetContext(ctx, &f, `SELECT `+feedCols+` FROM feeds f WHERE f.id = $1`, id)
	if db.IsNoRows(err) {
		return Feed{}, fmt.Errorf("feed %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return Feed{}, fmt.Errorf("get feed: %w", err)
	}
	return f, nil
}

// ListFeeds returns all feeds with their last fetch, last error and number
// of items waiting for approval.
func (s *Service) ListFeeds(ctx context.Context) ([]Feed, error) {
	var fs []Feed
	if err := s.db.SelectContext(ctx, &fs, `SELECT `+feedCols+` FROM feeds f ORDER BY f.title, f.url, f.id`); err != nil {
		return nil, fmt.Errorf("list feeds: %w", err)
	}
	return fs, nil
}

// FeedItem is an item seen in a feed.
type FeedItem struct {
	ID          int64         `db:"id"`
	FeedID      int64         `db:"feed_id"`
	Title       string        `db:"title"`
	Link        string        `db:"link"`
	Summary     string        `db:"summary"`
	PublishedAt sql.NullTime  `db:"published_at"`
	Status      string        `db:"status"`
	PostID      sql.NullInt64 `db:"post_id"`
	DecidedBy   sql.NullInt64 `db:"decided_by"`
	DecidedAt   sql.NullTime  `db:"decided_at"`
	CreatedAt   time.Time     `db:"created_at"`
}

const itemCols = `id, feed_id, title, link, summary, published_at, status, post_id, decided_by, decided_at, created_at`

// FeedItemsOptions selects feed items, newest first, keyset by id.
type FeedItemsOptions struct {
	FeedID   int64  // 0 = all feeds
	Status   string // "" = all; ItemNew = the approval queue
	BeforeID int64
	Limit    int // default 50, at most 200
}

// FeedItems lists feed items (the approval queue with Status: ItemNew).
func (s *Service) FeedItems(ctx context.Context, o FeedItemsOptions) ([]FeedItem, error) {
	if o.Limit <= 0 || o.Limit > 200 {
		o.Limit = 50
	}
	if o.BeforeID <= 0 {
		o.BeforeID = 1<<63 - 1
	}
	var items []FeedItem
	err := s.db.SelectContext(ctx, &items, `SELECT `+itemCols+` FROM feed_items
		WHERE id < $1 AND ($2 = 0 OR feed_id = $2) AND ($3 = '' OR status = $3)
		ORDER BY id DESC LIMIT $4`, o.BeforeID, o.FeedID, o.Status, o.Limit)
	if err != nil {
		return nil, fmt.Errorf("feed items: %w", err)
	}
	return items, nil
}

// ApproveItem turns a waiting item into a post that is sent now (subject to
// quiet hours) and returns the post. The audit row
// "broadcast.item.approve" of by commits with it.
func (s *Service) ApproveItem(ctx context.Context, by staff.Principal, itemID int64) (Post, error) {
	var postID int64
	err := db.InTx(ctx, s.db, func(tx *sqlx.Tx) error {
		it, f, err := lockNewItem(ctx, tx, itemID)
		if err != nil {
			return err
		}
		if postID, err = s.postItem(ctx, tx, f, it, by.ID); err != nil {
			return err
		}
		return audit.Record(ctx, tx, by.ID, "broadcast.item.approve", "feed_item", idStr(itemID), map[string]any{"post_id": postID})
	})
	if err != nil {
		return Post{}, err
	}
	s.wake()
	return s.Post(ctx, postID)
}

// RejectItem discards a waiting item, with the audit row
// "broadcast.item.reject" of by.
func (s *Service) RejectItem(ctx context.Context, by staff.Principal, itemID int64) error {
	return db.InTx(ctx, s.db, func(tx *sqlx.Tx) error {
		if _, _, err := lockNewItem(ctx, tx, itemID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE feed_items SET status = 'rejected', decided_by = $2, decided_at = now() WHERE id = $1`,
			itemID, nullID(by.ID)); err != nil {
			return fmt.Errorf("reject item: %w", err)
		}
		return audit.Record(ctx, tx, by.ID, "broadcast.item.reject", "feed_item", idStr(itemID), nil)
	})
}

func lockNewItem(ctx context.Context, tx *sqlx.Tx, itemID int64) (FeedItem, Feed, error) {
	var it FeedItem
	err := tx.GetContext(ctx, &it, `SELECT `+itemCols+` FROM feed_items WHERE id = $1 FOR UPDATE`, itemID)
	if db.IsNoRows(err) {
		return it, Feed{}, fmt.Errorf("feed item %d: %w", itemID, ErrNotFound)
	}
	if err != nil {
		return it, Feed{}, fmt.Errorf("lock feed item: %w", err)
	}
	if it.Status != ItemNew {
		return it, Feed{}, fmt.Errorf("feed item %d is %s: %w", itemID, it.Status, ErrState)
	}
	var f Feed
	if err := tx.GetContext(ctx, &f, `SELECT `+feedCols+` FROM feeds f WHERE f.id = $1`, it.FeedID); err != nil {
		return it, Feed{}, fmt.Errorf("feed of item: %w", err)
	}
	return it, f, nil
}

// postItem creates the post of a feed item (scheduled now) and marks the
// item posted, in tx.
func (s *Service) postItem(ctx context.Context, tx *sqlx.Tx, f Feed, it FeedItem, userID int64) (int64, error) {
	in := PostInput{
		Text:         itemText(it.Title, it.Summary, MaxTextLen),
		LinkURL:      it.Link,
		TopicIDs:     []int64{f.TopicID},
		DepartmentID: f.DepartmentID,
		CreatedBy:    userID,
	}
	if !IsHTTPURL(in.LinkURL) {
		in.LinkURL = ""
	}
	if err := in.normalize(); err != nil {
		return 0, err
	}
	id, err := insertPost(ctx, tx, in, StatusScheduled, sql.NullTime{Time: s.now(), Valid: true})
	if err != nil {
		return 0, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE feed_items SET status = 'posted', post_id = $2, decided_by = $3, decided_at = now() WHERE id = $1`,
		it.ID, id, nullID(userID)); err != nil {
		return 0, fmt.Errorf("mark item posted: %w", err)
	}
	return id, nil
}

// itemText is the post text of a feed item: title, blank line, summary,
// cut to limit UTF-16 units.
func itemText(title, summary string, limit int) string {
	t := strings.TrimSpace(title)
	if sm := strings.TrimSpace(summary); sm != "" && sm != t {
		if t != "" {
			t += "\n\n"
		}
		t += sm
	}
	if t == "" {
		t = text("item.untitled")
	}
	if tgtext.UTF16Len(t) <= limit {
		return t
	}
	var b strings.Builder
	n := 0
	for _, r := range t {
		l := 1
		if r > 0xFFFF {
			l = 2
		}
		if n+l > limit-1 {
			break
		}
		b.WriteRune(r)
		n += l
	}
	return strings.TrimSpace(b.String()) + "…"
}

// plainText turns an HTML fragment into text: tags dropped, entities
// decoded, paragraphs kept, spaces collapsed.
func plainText(s string) string {
	if !strings.ContainsAny(s, "<&") {
		return collapse(s)
	}
	z := html.NewTokenizer(strings.NewReader(s))
	var b strings.Builder
	skip := 0
	for {
		switch z.Next() {
		case html.ErrorToken:
			return collapse(b.String())
		case html.TextToken:
			if skip == 0 {
				b.Write(z.Text())
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			name, _ := z.TagName()
			switch string(name) {
			case "script", "style":
				skip++
			case "br", "p", "div", "li", "h1", "h2", "h3", "h4", "tr":
				b.WriteString("\n")
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			switch string(name) {
			case "script", "style":
				skip = max(0, skip-1)
			case "p", "div", "li", "h1", "h2", "h3", "h4", "tr":
				b.WriteString("\n")
			}
		}
	}
}

func collapse(s string) string {
	lines := strings.Split(strings.ReplaceAll(s, "\r", ""), "\n")
	var out []string
	blank := false
	for _, l := range lines {
		l = strings.Join(strings.Fields(l), " ")
		if l == "" {
			blank = len(out) > 0
			continue
		}
		if blank {
			out = append(out, "")
			blank = false
		}
		out = append(out, l)
	}
	return strings.Join(out, "\n")
}

// itemKey is the stable identity of a feed item: the guid, else the
// normalised link, else a hash of title and date. Long keys are hashed.
func itemKey(it *gofeed.Item) string {
	var k string
	switch {
	case strings.TrimSpace(it.GUID) != "":
		k = "guid:" + strings.TrimSpace(it.GUID)
	case strings.TrimSpace(it.Link) != "":
		k = "link:" + normalizeLink(it.Link)
	default:
		pub := ""
		if it.PublishedParsed != nil {
			pub = it.PublishedParsed.UTC().Format(time.RFC3339)
		}
		k = "text:" + strings.TrimSpace(it.Title) + "\x00" + pub
	}
	if len(k) > 200 || strings.HasPrefix(k, "text:") {
		sum := sha256.Sum256([]byte(k))
		k = k[:strings.IndexByte(k, ':')+1] + "sha256:" + hex.EncodeToString(sum[:])
	}
	return k
}

// normalizeLink makes equivalent links equal: scheme and host lower case,
// no fragment, no tracking parameters, no trailing slash, sorted query.
func normalizeLink(raw string) string {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return strings.TrimSpace(raw)
	}
	u.Scheme = strings.ToLower(u.Scheme)
	if u.Scheme == "http" {
		u.Scheme = "https"
	}
	u.Host = strings.TrimPrefix(strings.ToLower(u.Host), "www.")
	u.Fragment = ""
	q := u.Query()
	for k := range q {
		if strings.HasPrefix(strings.ToLower(k), "utm_") {
			q.Del(k)
		}
	}
	u.RawQuery = q.Encode()
	u.Path = strings.TrimRight(u.Path, "/")
	return u.String()
}

func checkFeedRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= 5 {
		return errors.New("too many redirects")
	}
	if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
		return fmt.Errorf("redirect to a non-http(s) address")
	}
	return nil
}

// ---- polling ----

func (s *Service) wakeFeedPoller() {
	select {
	case s.wakeFeeds <- struct{}{}:
	default:
	}
}

// runFeeds fetches due feeds, at most FeedConcurrency at once; a slow feed
// holds one slot for at most FeedTimeout and never blocks the others.
func (s *Service) runFeeds(ctx context.Context) error {
	slots := make(chan struct{}, s.cfg.FeedConcurrency)
	var wg sync.WaitGroup
	defer wg.Wait()
	jobs.Job{Name: "broadcast feeds", Interval: s.cfg.FeedPollInterval, Wake: s.wakeFeeds, Log: s.log, Func: func(ctx context.Context) error {
		free := cap(slots) - len(slots)
		if free <= 0 {
			return nil
		}
		feeds, err := s.claimFeeds(ctx, free)
		for _, f := range feeds {
			slots <- struct{}{}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-slots }()
				if err := s.fetchFeed(ctx, f, nil); err != nil && ctx.Err() == nil {
					s.log.Warn("feed fetch failed", "feed_id", f.ID, "err", err)
				}
			}()
		}
		if err != nil {
			return fmt.Errorf("claim feeds: %w", err)
		}
		return nil
	}}.Loop(ctx)
	return ctx.Err()
}

// claimFeeds takes due feeds, pushing their next fetch a lease ahead so no
// other instance fetches them meanwhile.
func (s *Service) claimFeeds(ctx context.Context, limit int) ([]Feed, error) {
	now := s.now()
	var ids []int64
	err := s.db.SelectContext(ctx, &ids, `
		UPDATE feeds SET next_fetch_at = $1 + make_interval(secs => $3)
		WHERE id IN (SELECT id FROM feeds WHERE active AND next_fetch_at <= $1
			ORDER BY next_fetch_at LIMIT $2 FOR UPDATE SKIP LOCKED)
		RETURNING id`, now, limit, (s.cfg.FeedTimeout + time.Minute).Seconds())
	if err != nil {
		return nil, fmt.Errorf("claim feeds: %w", err)
	}
	var fs []Feed
	for _, id := range ids {
		f, err := s.Feed(ctx, id)
		if err != nil {
			return fs, err
		}
		fs = append(fs, f)
	}
	return fs, nil
}

// RefreshFeed fetches a feed now (the admin's "Jetzt abrufen") for by and
// returns the fetch error, which is also recorded on the feed; the audit
// row "broadcast.feed.refresh" commits with that record.
func (s *Service) RefreshFeed(ctx context.Context, by staff.Principal, id int64) error {
	f, err := s.Feed(ctx, id)
	if err != nil {
		return err
	}
	return s.fetchFeed(ctx, f, &by)
}

// fetchFeed fetches, parses and stores one feed and records the outcome;
// by is who asked for the fetch (nil: the poller).
func (s *Service) fetchFeed(ctx context.Context, f Feed, by *staff.Principal) error {
	fctx, cancel := context.WithTimeout(ctx, s.cfg.FeedTimeout)
	defer cancel()
	res, err := s.download(fctx, f)
	if err == nil && !res.notModified {
		err = s.storeItems(ctx, f, res.feed)
	}
	next := s.now().Add(time.Duration(f.PollSeconds) * time.Second)
	if err != nil {
		if ctx.Err() != nil {
			return err
		}
		dbErr := s.recordFetch(ctx, f.ID, by, false, `UPDATE feeds SET last_fetch_at = $2, last_error = $3, next_fetch_at = $4 WHERE id = $1`,
			f.ID, s.now(), feedErrorText(err), next)
		if dbErr != nil {
			return fmt.Errorf("record feed error: %w", dbErr)
		}
		return err
	}
	title := f.Title
	if title == "" && res.feed != nil {
		title = strings.TrimSpace(res.feed.Title)
	}
	err = s.recordFetch(ctx, f.ID, by, true, `
		UPDATE feeds SET last_fetch_at = $2, last_success_at = $2, last_error = '', next_fetch_at = $3,
			etag = $4, last_modified = $5, title = $6
		WHERE id = $1`, f.ID, s.now(), next, res.etag, res.lastModified, title)
	if err != nil {
		return fmt.Errorf("record feed fetch: %w", err)
	}
	return nil
}

// recordFetch stores a fetch's outcome on the feed (query with args); a
// fetch that by asked for writes its audit row "broadcast.feed.refresh" in
// the same transaction.
func (s *Service) recordFetch(ctx context.Context, feedID int64, by *staff.Principal, ok bool, query string, args ...any) error {
	if by == nil {
		_, err := s.db.ExecContext(ctx, query, args...)
		return err
	}
	return db.InTx(ctx, s.db, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, query, args...); err != nil {
			return err
		}
		return audit.Record(ctx, tx, by.ID, "broadcast.feed.refresh", "feed", idStr(feedID), map[string]any{"ok": ok})
	})
}

type download struct {
	feed               *gofeed.Feed
	notModified        bool
	etag, lastModified string
}

func (s *Service) download(ctx context.Context, f Feed) (download, error) {
	if !IsHTTPURL(f.URL) {
		return download{}, fmt.Errorf("%w: not an http(s) URL", ErrInvalid)
	}
	allowed, err := s.FeedInternalHosts(ctx)
	if err != nil {
		return download{}, err
	}
	req, err := http.NewRequestWithContext(context.WithValue(ctx, allowedHostsKey{}, allowed), http.MethodGet, f.URL, nil)
	if err != nil {
		return download{}, fmt.Errorf("feed request: %w", err)
	}
	req.Header.Set("User-Agent", "citybot-feeds/1.0")
	req.Header.Set("Accept", "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.8, */*;q=0.5")
	if f.ETag != "" {
		req.Header.Set("If-None-Match", f.ETag)
	}
	if f.LastModified != "" {
		req.Header.Set("If-Modified-Since", f.LastModified)
	}
	resp, err := s.cfg.FeedClient.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return download{}, fmt.Errorf("%w: no answer within %v", errFeedTimeout, s.cfg.FeedTimeout)
		}
		return download{}, fmt.Errorf("fetch feed: %w", err)
	}
	defer resp.Body.Close()
	d := download{etag: resp.Header.Get("ETag"), lastModified: resp.Header.Get("Last-Modified")}
	if resp.StatusCode == http.StatusNotModified {
		d.notModified = true
		if d.etag == "" {
			d.etag = f.ETag
		}
		if d.lastModified == "" {
			d.lastModified = f.LastModified
		}
		return d, nil
	}
	if resp.StatusCode != http.StatusOK {
		return download{}, &httpStatusError{status: resp.StatusCode}
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, s.cfg.FeedMaxBytes+1))
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return download{}, fmt.Errorf("%w: no complete answer within %v", errFeedTimeout, s.cfg.FeedTimeout)
		}
		return download{}, fmt.Errorf("read feed: %w", err)
	}
	if int64(len(body)) > s.cfg.FeedMaxBytes {
		return download{}, fmt.Errorf("%w: larger than %d bytes", errFeedTooLarge, s.cfg.FeedMaxBytes)
	}
	d.feed, err = gofeed.NewParser().Parse(bytes.NewReader(body))
	if err != nil {
		return download{}, fmt.Errorf("%w: %w", errFeedParse, err)
	}
	return d, nil
}

// storeItems inserts the feed's new items (idempotent by item key) and posts
// them (auto-publish) or queues them for approval, in one transaction.
func (s *Service) storeItems(ctx context.Context, f Feed, pf *gofeed.Feed) error {
	items := append([]*gofeed.Item(nil), pf.Items...)
	if len(items) > 200 {
		items = items[:200]
	}
	// Oldest first, so posts go out in the feed's order.
	sort.SliceStable(items, func(i, j int) bool {
		a, b := items[i].PublishedParsed, items[j].PublishedParsed
		if a == nil || b == nil {
			return false
		}
		return a.Before(*b)
	})
	posted := 0
	err := db.InTx(ctx, s.db, func(tx *sqlx.Tx) error {
		// Serialise with other fetches of the same feed (manual refresh,
		// another instance). Whether this is the first fetch is decided
		// under the lock, and a first fetch marks the feed fetched in the
		// same transaction: a fetch that waited for it must not take the
		// items published meanwhile for old ones.
		var first bool
		if err := tx.GetContext(ctx, &first, `SELECT last_success_at IS NULL FROM feeds WHERE id = $1 FOR UPDATE`, f.ID); err != nil {
			return fmt.Errorf("lock feed: %w", err)
		}
		if first {
			if _, err := tx.ExecContext(ctx, `UPDATE feeds SET last_success_at = $2 WHERE id = $1`, f.ID, s.now()); err != nil {
				return fmt.Errorf("mark feed fetched: %w", err)
			}
		}
		for _, gi := range items {
			it := FeedItem{
				FeedID:  f.ID,
				Title:   plainText(gi.Title),
				Link:    strings.TrimSpace(gi.Link),
				Summary: plainText(firstNonEmpty(gi.Description, gi.Content)),
				Status:  ItemNew,
			}
			if gi.PublishedParsed != nil {
				it.PublishedAt = sql.NullTime{Time: *gi.PublishedParsed, Valid: true}
			} else if gi.UpdatedParsed != nil {
				it.PublishedAt = sql.NullTime{Time: *gi.UpdatedParsed, Valid: true}
			}
			if first {
				it.Status = ItemSkipped
			}
			err := tx.GetContext(ctx, &it.ID, `
				INSERT INTO feed_items (feed_id, item_key, title, link, summary, published_at, status)
				VALUES ($1, $2, $3, $4, $5, $6, $7)
				ON CONFLICT (feed_id, item_key) DO NOTHING RETURNING id`,
				f.ID, itemKey(gi), truncate(it.Title, 1000), truncate(it.Link, 2000), truncate(it.Summary, 8000), it.PublishedAt, it.Status)
			if db.IsNoRows(err) {
				continue // seen before
			}
			if err != nil {
				return fmt.Errorf("store feed item: %w", err)
			}
			if it.Status == ItemNew && f.AutoPublish && posted < maxAutoPostsPerFetch {
				if _, err := s.postItem(ctx, tx, f, it, 0); err != nil {
					return err
				}
				posted++
			}
		}
		return nil
	})
	if err == nil && posted > 0 {
		s.wake()
	}
	return err
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if strings.TrimSpace(s) != "" {
			return s
		}
	}
	return ""
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }
