// Package broadcast is the city's news channels: topics citizens subscribe
// to, posts editors write (or RSS/Atom feeds produce), and the durable
// fan-out that sends every post once to every subscriber, as fast as the
// channel allows.
//
// # Delivery guarantees
//
// Starting a post materialises one deliveries row per subscriber (in
// batches, idempotent, resumable). Senders, in any number of instances,
// claim due rows with FOR UPDATE SKIP LOCKED and a lease (status 'sending',
// next_attempt_at = end of lease), send, and record the outcome at once with
// a single-row UPDATE. A crashed sender's rows become claimable again when
// their lease ends, so nobody misses a post.
//
// The remaining at-least-once window: a process that dies after Telegram
// accepted a message and before the UPDATE committed (the time to read the
// HTTP response and run one UPDATE, about a millisecond) leaves the row
// 'sending'; after the lease it is sent again. Equally, a send that timed out
// although Telegram delivered it is retried. Telegram has no idempotency key,
// so these duplicates cannot be excluded; everything else is exactly once.
// A send in progress is never aborted by shutdown: it completes (bounded by
// Config.SendTimeout) and is recorded.
//
// # Rates
//
// A token bucket (Config.Rate messages/s, shared among the live instances
// through heartbeats) paces all sends; a chat with a message in flight or
// sent within the last second is not claimed. A 429 pauses every sender of
// every instance (broadcast_pause) for retry_after; the message is retried
// after the pause without counting an attempt. A 403 marks the citizen's
// deliveries undeliverable and unsubscribes them. Other errors retry with
// exponential backoff up to Config.MaxAttempts.
package broadcast

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"
	"golang.org/x/time/rate"

	"citybot/internal/db"
	"citybot/internal/jobs"
	"citybot/internal/tgtext"
)

// Config configures a Service. Zero fields take the defaults.
type Config struct {
	// Rate is the global send rate in messages per second, shared by all
	// instances (default 25; Telegram's bulk limit is about 30/s).
	Rate       float64
	QuietHours QuietHours
	Location   *time.Location // for quiet hours and day statistics (default Europe/Berlin)

	// Workers is the number of concurrent sends per instance (default from
	// the rate: enough to keep up with Telegram's latency).
	Workers     int
	ClaimBatch  int           // deliveries claimed at once (default from the rate)
	FanoutBatch int           // deliveries materialised per transaction (default 5000)
	Lease       time.Duration // a claim's lease (default 2 min)
	SendTimeout time.Duration // one send (default 30 s)
	MaxAttempts int           // transient failures before giving up (default 10)
	// PollInterval: how often the scheduler looks for due posts and idle
	// senders for work when not woken (default 1 s).
	PollInterval time.Duration

	// Feeds.
	FeedPollInterval time.Duration // how often due feeds are looked for (default 30 s)
	FeedConcurrency  int           // feeds fetched at once (default 4)
	FeedTimeout      time.Duration // one fetch (default 20 s)
	FeedMaxBytes     int64         // response size limit (default 5 MB)
	FeedClient       *http.Client  // default: public addresses only, http(s) redirects only (feedguard.go)

	// Sender is the city's name, shown with the post's topics in a line
	// above every post ("📢 Stadt Musterstadt · Baustellen & Verkehr"), so
	// that a citizen sees at once who writes and why; empty: no such line.
	Sender string

	// Button labels.
	QuestionButton string // default button.question of locales/de.toml ("Frage dazu")
	LinkButton     string // default button.link of locales/de.toml ("Mehr erfahren")

	// Registerer registers the Prometheus metrics (nil: none).
	Registerer prometheus.Registerer
	// InstanceID names this instance in heartbeats (default random).
	InstanceID string
	// Instance is this process's id among the instances (db.Instance; 0:
	// none). It is recorded on claimed deliveries; the claims of instances
	// that are no longer running are sent again within seconds instead of
	// after their lease.
	Instance int32
	Now      func() time.Time // clock (default time.Now); tests inject one
	Logger   *slog.Logger
}

func (c *Config) defaults() {
	if c.Rate <= 0 {
		c.Rate = 25
	}
	if c.Location == nil {
		loc, err := time.LoadLocation("Europe/Berlin")
		if err != nil {
			loc = time.UTC
		}
		c.Location = loc
	}
	if c.Workers <= 0 {
		// Sends take ~50-200 ms on Telegram; keep enough in flight to
		// hold the rate through slow answers.
		c.Workers = min(128, max(4, int(c.Rate/5)))
	}
	if c.ClaimBatch <= 0 {
		c.ClaimBatch = min(200, max(c.Workers, int(c.Rate/4)))
	}
	if c.FanoutBatch <= 0 {
		c.FanoutBatch = 5000
	}
	if c.Lease <= 0 {
		c.Lease = 2 * time.Minute
	}
	if c.SendTimeout <= 0 {
		c.SendTimeout = 30 * time.Second
	}
	// A send must end within the lease, or another instance could claim
	// the row meanwhile (see claim: a send starts only while it can end
	// before Lease - Lease/10).
	c.SendTimeout = min(c.SendTimeout, c.Lease/2)
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 10
	}
	if c.PollInterval <= 0 {
		c.PollInterval = time.Second
	}
	if c.FeedPollInterval <= 0 {
		c.FeedPollInterval = 30 * time.Second
	}
	if c.FeedConcurrency <= 0 {
		c.FeedConcurrency = 4
	}
	if c.FeedTimeout <= 0 {
		c.FeedTimeout = 20 * time.Second
	}
	if c.FeedMaxBytes <= 0 {
		c.FeedMaxBytes = 5 << 20
	}
	if c.FeedClient == nil {
		c.FeedClient = newFeedClient() // public addresses only (feedguard.go)
	}
	if c.QuestionButton == "" {
		c.QuestionButton = text("button.question")
	}
	if c.LinkButton == "" {
		c.LinkButton = text("button.link")
	}
	if c.InstanceID == "" {
		b := make([]byte, 8)
		_, _ = rand.Read(b)
		c.InstanceID = hex.EncodeToString(b)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// Service is the broadcast domain: the store API for the bot and the admin
// UI, and (Run) the scheduler, the senders and the feed poller.
type Service struct {
	db     *sqlx.DB
	sender Sender
	cfg    Config
	log    *slog.Logger

	wakeSched chan struct{}
	wakeSend  chan struct{}
	wakeFeeds chan struct{}
	limiter   *rate.Limiter

	pauseMu    sync.Mutex
	pauseUntil time.Time

	cacheMu   sync.Mutex
	cache     map[int64]Message
	cancelled map[int64]bool // posts cancelled recently: queued deliveries are dropped

	metrics *metrics

	// crashOnStop (tests): on shutdown leave claimed rows as a killed
	// process would, instead of releasing them.
	crashOnStop bool
}

// New returns a Service. sender may be nil when no channel is configured:
// Run then only polls feeds and starts posts, nothing is sent.
func New(d *sqlx.DB, sender Sender, cfg Config) *Service {
	cfg.defaults()
	m, errs := newMetrics(cfg.Registerer)
	for _, err := range errs {
		cfg.Logger.Error("register broadcast metrics", "err", err)
	}
	return &Service{
		metrics:   m,
		db:        d,
		sender:    sender,
		cfg:       cfg,
		log:       cfg.Logger.With("component", "broadcast"),
		wakeSched: make(chan struct{}, 1),
		wakeSend:  make(chan struct{}, 1),
		wakeFeeds: make(chan struct{}, 1),
		limiter:   rate.NewLimiter(rate.Limit(cfg.Rate), burst(cfg.Rate)),
		cache:     make(map[int64]Message),
		cancelled: make(map[int64]bool),
	}
}

// burst is the token bucket's size: 50 ms worth of sends, so that a late
// worker does not lose the rate, but at least 1 (at 25/s: no bursts).
func burst(r float64) int { return max(1, int(r/20)) }

// Config returns the effective configuration.
func (s *Service) Config() Config { return s.cfg }

func (s *Service) now() time.Time { return s.cfg.Now() }

// wake makes the scheduler look for due posts now.
func (s *Service) wake() {
	select {
	case s.wakeSched <- struct{}{}:
	default:
	}
}

func (s *Service) wakeSender() {
	select {
	case s.wakeSend <- struct{}{}:
	default:
	}
}

// Run runs the scheduler, the senders and the feed poller until ctx is
// done. Sends in progress complete and are recorded; claimed rows not yet
// sent are released.
func (s *Service) Run(ctx context.Context) error {
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return s.runScheduler(ctx) })
	g.Go(func() error { return s.runFeeds(ctx) })
	if s.sender != nil {
		g.Go(func() error { return s.runHeartbeat(ctx) })
		g.Go(func() error { return s.runSender(ctx) })
	} else {
		s.log.Warn("no sender configured: broadcasts are not sent")
	}
	err := g.Wait()
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// sleep waits for d, a wake-up on ch, or the end of ctx (false).
func sleep(ctx context.Context, d time.Duration, ch <-chan struct{}) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-ch:
		return true
	case <-t.C:
		return true
	}
}

// runScheduler starts due posts, materialises deliveries and finishes posts.
func (s *Service) runScheduler(ctx context.Context) error {
	lastPurge := time.Time{}
	jobs.Job{
		Name: "broadcast scheduler", Interval: s.cfg.PollInterval, Wake: s.wakeSched, Log: s.log,
		Func: func(ctx context.Context) error {
			err := s.schedulePass(ctx)
			if time.Since(lastPurge) > time.Hour {
				lastPurge = time.Now()
				if n, perr := s.PurgeDeliveries(ctx, s.now().AddDate(0, 0, -30)); perr != nil {
					err = errors.Join(err, fmt.Errorf("purge deliveries: %w", perr))
				} else if n > 0 {
					s.log.Info("purged deliveries", "count", n)
				}
			}
			return err
		},
		// Wake for the next scheduled post (a due one held by quiet hours
		// is looked at every PollInterval).
		Next: func(ctx context.Context) time.Duration {
			if next, err := s.nextSendAt(ctx, s.now()); err == nil && !next.IsZero() {
				if d := next.Sub(s.now()); d > 0 {
					return max(d, 10*time.Millisecond)
				}
			}
			return 0
		},
	}.Loop(ctx)
	return ctx.Err()
}

func (s *Service) schedulePass(ctx context.Context) error {
	now := s.now()
	ids, err := s.startDuePosts(ctx, now)
	if err != nil {
		return err
	}
	for _, id := range ids {
		s.log.Info("post sending", "post_id", id)
	}
	for ctx.Err() == nil {
		did, err := s.fanoutBatch(ctx, now)
		if err != nil {
			return err
		}
		if !did {
			break
		}
		s.wakeSender()
	}
	done, err := s.finishPosts(ctx, s.now())
	for _, id := range done {
		s.log.Info("post sent", "post_id", id)
		s.cacheMu.Lock()
		delete(s.cache, id)
		s.cacheMu.Unlock()
	}
	return err
}

// runHeartbeat shares the rate among live instances and picks up pauses
// that other instances recorded after a 429.
func (s *Service) runHeartbeat(ctx context.Context) error {
	beat := 0
	jobs.Every(ctx, "broadcast heartbeat", time.Second, s.log, func(ctx context.Context) error {
		err := s.heartbeat(ctx)
		if s.cfg.Instance != 0 && beat%orphanSweepBeats == 0 {
			n, oerr := s.endOrphanedClaims(ctx)
			switch {
			case oerr != nil:
				err = errors.Join(err, fmt.Errorf("end delivery claims of stopped instances: %w", oerr))
			case n > 0:
				s.metrics.takenOver.Add(float64(n))
				s.log.Info("took over the deliveries of a stopped instance", "deliveries", n)
				s.wakeSender()
			}
		}
		beat++
		return err
	})
	_, _ = s.db.ExecContext(context.WithoutCancel(ctx), `DELETE FROM broadcast_senders WHERE instance_id = $1`, s.cfg.InstanceID)
	return ctx.Err()
}

// orphanSweepBeats: every this many heartbeats (seconds), and at the first,
// the claims of stopped instances are ended.
const orphanSweepBeats = 5

// endOrphanedClaims makes the deliveries claimed by instances that are no
// longer running due now (their lease ends) and returns how many.
func (s *Service) endOrphanedClaims(ctx context.Context) (int64, error) {
	return db.EndOrphanedClaims(ctx, s.db, "deliveries", "sending", "next_attempt_at", s.cfg.Instance)
}

func (s *Service) heartbeat(ctx context.Context) error {
	var st struct {
		Alive int     `db:"alive"`
		Pause float64 `db:"pause"` // seconds of shared pause left
	}
	err := s.db.GetContext(ctx, &st, `
		WITH hb AS (
			INSERT INTO broadcast_senders (instance_id, seen_at) VALUES ($1, now())
			ON CONFLICT (instance_id) DO UPDATE SET seen_at = now()
		), gc AS (
			DELETE FROM broadcast_senders WHERE seen_at < now() - interval '1 minute'
		)
		SELECT 1 + (SELECT count(*) FROM broadcast_senders WHERE instance_id <> $1 AND seen_at > now() - interval '5 seconds') AS alive,
			(SELECT EXTRACT(EPOCH FROM greatest(paused_until, now()) - now())::float8 FROM broadcast_pause WHERE id = 1) AS pause`,
		s.cfg.InstanceID)
	if err != nil {
		return fmt.Errorf("heartbeat: %w", err)
	}
	r := s.cfg.Rate / float64(max(1, st.Alive))
	s.limiter.SetLimit(rate.Limit(r))
	s.limiter.SetBurst(burst(r))
	if st.Pause > 0 {
		s.extendPause(time.Now().Add(time.Duration(st.Pause * float64(time.Second))))
	}
	// Posts cancelled through another instance: drop their queued rows here.
	var ids []int64
	if err := s.db.SelectContext(ctx, &ids, `SELECT id FROM posts WHERE status = 'cancelled' AND finished_at > $1`,
		s.now().Add(-time.Minute)); err != nil {
		return fmt.Errorf("heartbeat: cancelled posts: %w", err)
	}
	for _, id := range ids {
		s.markCancelled(id)
	}
	return nil
}

func (s *Service) markCancelled(postID int64) {
	s.cacheMu.Lock()
	if len(s.cancelled) > 1000 {
		clear(s.cancelled)
	}
	s.cancelled[postID] = true
	s.cacheMu.Unlock()
}

func (s *Service) isCancelled(postID int64) bool {
	s.cacheMu.Lock()
	defer s.cacheMu.Unlock()
	return s.cancelled[postID]
}

func (s *Service) extendPause(until time.Time) {
	s.pauseMu.Lock()
	if until.After(s.pauseUntil) {
		s.pauseUntil = until
	}
	s.pauseMu.Unlock()
}

func (s *Service) pausedUntil() time.Time {
	s.pauseMu.Lock()
	defer s.pauseMu.Unlock()
	return s.pauseUntil
}

// pause stops every sender for d, here and (through the database) in the
// other instances.
func (s *Service) pause(ctx context.Context, d time.Duration) {
	s.extendPause(time.Now().Add(d))
	if _, err := s.db.ExecContext(ctx, `UPDATE broadcast_pause SET paused_until = greatest(paused_until, now() + make_interval(secs => $1)) WHERE id = 1`,
		d.Seconds()); err != nil {
		s.log.Error("record broadcast pause", "err", err)
	}
}

// waitTurn waits until no pause is in force and the rate limiter grants a
// send.
func (s *Service) waitTurn(ctx context.Context) error {
	for {
		if d := time.Until(s.pausedUntil()); d > 0 {
			if !sleep(ctx, d, nil) {
				return ctx.Err()
			}
			continue
		}
		if err := s.limiter.Wait(ctx); err != nil {
			return err
		}
		if time.Until(s.pausedUntil()) <= 0 {
			return nil
		}
	}
}

// runSender claims due deliveries and hands them to the workers; a
// recorder writes the successful sends back (group commit).
func (s *Service) runSender(ctx context.Context) error {
	// A claimed batch is queued at once, so the next claim overlaps with
	// sending this one.
	work := make(chan delivery, s.cfg.ClaimBatch)
	sent := make(chan sentRecord, 4*s.cfg.Workers)
	recorded := make(chan struct{})
	go func() {
		defer close(recorded)
		s.runRecorder(sent)
	}()
	var wg sync.WaitGroup
	for range s.cfg.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for d := range work {
				s.deliver(ctx, d, sent)
			}
		}()
	}
	defer func() {
		close(work)
		wg.Wait()
		close(sent)
		<-recorded
	}()
	for {
		if d := time.Until(s.pausedUntil()); d > 0 {
			if !sleep(ctx, d, nil) {
				return ctx.Err()
			}
		}
		ds, err := s.claim(ctx, s.now(), s.cfg.ClaimBatch)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			s.log.Error("broadcast claim", "err", err)
			if !sleep(ctx, s.cfg.PollInterval, nil) {
				return ctx.Err()
			}
			continue
		}
		if len(ds) == 0 {
			if !sleep(ctx, s.cfg.PollInterval, s.wakeSend) {
				return ctx.Err()
			}
			continue
		}
		ds = s.onePerChat(ctx, ds)
		for i, d := range ds {
			select {
			case work <- d:
			case <-ctx.Done():
				s.stopWith(ds[i:])
				return ctx.Err()
			}
		}
	}
}

// sentRecord is a successful send waiting to be written.
type sentRecord struct {
	d  delivery
	at time.Time
}

// runRecorder writes successful sends as they come: it takes everything
// queued, writes it with one UPDATE, and repeats. At low rates that is one
// row per UPDATE right after the send; at high rates the rows that arrive
// during one UPDATE go into the next. It returns when sent is closed and
// drained; writes are not cancelled by shutdown.
func (s *Service) runRecorder(sent <-chan sentRecord) {
	ctx := context.Background()
	var batch []sentRecord
	for r := range sent {
		batch = append(batch[:0], r)
	drain:
		for len(batch) < 500 {
			select {
			case r, ok := <-sent:
				if !ok {
					break drain
				}
				batch = append(batch, r)
			default:
				break drain
			}
		}
		var err error
		for try := 0; try < 5; try++ {
			if err = s.markSentBatch(ctx, batch); err == nil {
				break
			}
			time.Sleep(time.Duration(try+1) * 200 * time.Millisecond)
		}
		if err != nil {
			// The rows stay 'sending' and are sent again after their lease.
			s.log.Error("broadcast record sent", "count", len(batch), "err", err)
		}
	}
}

// onePerChat keeps one delivery per chat of a claimed batch and puts the
// others back for a second later.
func (s *Service) onePerChat(ctx context.Context, ds []delivery) []delivery {
	seen := make(map[string]bool, len(ds))
	var keep, later []delivery
	for _, d := range ds {
		if seen[d.ChatID] {
			later = append(later, d)
			continue
		}
		seen[d.ChatID] = true
		keep = append(keep, d)
	}
	if len(later) > 0 {
		if err := s.release(ctx, later, s.now().Add(time.Second)); err != nil {
			s.log.Error("broadcast release", "err", err)
		}
	}
	return keep
}

// stopWith handles claimed rows not sent at shutdown.
func (s *Service) stopWith(ds []delivery) {
	if s.crashOnStop || len(ds) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.release(ctx, ds, s.now()); err != nil {
		s.log.Error("broadcast release at shutdown", "err", err)
	}
}

// deliver sends one claimed delivery and records the outcome (successes
// through the recorder).
func (s *Service) deliver(ctx context.Context, d delivery, sent chan<- sentRecord) {
	if err := s.waitTurn(ctx); err != nil {
		s.stopWith([]delivery{d})
		return
	}
	if s.isCancelled(d.PostID) {
		return // the row is 'cancelled' already
	}
	// From here on the send is not interrupted by shutdown: what Telegram
	// accepted must be recorded.
	bg := context.WithoutCancel(ctx)
	if time.Now().After(d.deadline) {
		// Held too long (a long pause): the lease may run out mid-send.
		if err := s.release(bg, []delivery{d}, s.now()); err != nil {
			s.log.Error("broadcast release", "err", err)
		}
		return
	}
	msg, err := s.postMessage(bg, d.PostID)
	if err != nil {
		s.log.Error("broadcast message", "post_id", d.PostID, "err", err)
		if err := s.markRetry(bg, d, s.now().Add(backoff(d.Attempts)), err, true); err != nil {
			s.log.Error("broadcast record", "err", err)
		}
		return
	}
	sctx, cancel := context.WithTimeout(bg, s.cfg.SendTimeout)
	err = s.sender.Send(sctx, d.ChatID, msg)
	cancel()
	if err == nil {
		s.metrics.sends.WithLabelValues("sent").Inc()
		sent <- sentRecord{d: d, at: s.now()}
		return
	}
	if err = s.record(bg, d, err); err != nil {
		s.log.Error("broadcast record", "delivery_id", d.ID, "err", err)
	}
}

// record stores the outcome of a send.
func (s *Service) record(ctx context.Context, d delivery, sendErr error) error {
	now := s.now()
	if sendErr == nil {
		return s.markSent(ctx, d, now)
	}
	if wait, ok := RetryAfter(sendErr); ok {
		s.metrics.sends.WithLabelValues("rate_limited").Inc()
		s.log.Warn("telegram rate limit: pausing broadcasts", "retry_after", wait)
		s.pause(ctx, wait)
		return s.markRetry(ctx, d, now.Add(wait), sendErr, false)
	}
	if IsBlocked(sendErr) {
		s.metrics.sends.WithLabelValues("blocked").Inc()
		s.log.Info("chat blocked the bot: unsubscribed", "citizen_id", d.CitizenID)
		return s.markBlocked(ctx, d, sendErr)
	}
	if !IsTransient(sendErr) || d.Attempts >= s.cfg.MaxAttempts {
		s.metrics.sends.WithLabelValues("failed").Inc()
		s.log.Warn("broadcast delivery failed", "delivery_id", d.ID, "post_id", d.PostID, "attempts", d.Attempts, "err", sendErr)
		return s.markFailed(ctx, d, sendErr)
	}
	s.metrics.sends.WithLabelValues("retry").Inc()
	return s.markRetry(ctx, d, now.Add(backoff(d.Attempts)), sendErr, true)
}

// withHeader puts the sender line (Config.Sender and the post's topics)
// above the post's text when it fits the message's limit.
func (s *Service) withHeader(ctx context.Context, p Post, m Message) (string, error) {
	if s.cfg.Sender == "" {
		return m.Text, nil
	}
	var names []string
	if len(p.TopicIDs) > 0 {
		if err := s.db.SelectContext(ctx, &names, `SELECT name_de FROM topics WHERE id = ANY($1) ORDER BY sort, name_de`, pq.Int64Array(p.TopicIDs)); err != nil {
			return "", fmt.Errorf("post topics: %w", err)
		}
	}
	mark := "📢"
	if p.IsWarning {
		mark = "⚠️"
	}
	head := mark + " " + s.cfg.Sender
	if len(names) > 0 {
		head += " · " + strings.Join(names, ", ")
	}
	text := head + "\n\n" + m.Text
	limit := 4096
	if m.HasPhoto() {
		limit = 1024
	}
	if tgtext.UTF16Len(text) > limit {
		return m.Text, nil
	}
	return text, nil
}

// backoff is the wait after attempts failed ones: 1 s, 2 s, 4 s, ... capped
// at 10 minutes.
func backoff(attempts int) time.Duration { return tgtext.RetryDelay(attempts) }

// postMessage returns the message of a post (cached: a sending post does not
// change).
func (s *Service) postMessage(ctx context.Context, postID int64) (Message, error) {
	s.cacheMu.Lock()
	m, ok := s.cache[postID]
	s.cacheMu.Unlock()
	if ok {
		return m, nil
	}
	p, err := s.Post(ctx, postID)
	if err != nil {
		return Message{}, err
	}
	var photo []byte
	if p.HasPhotoData {
		if _, photo, err = s.PostPhoto(ctx, postID); err != nil {
			return Message{}, err
		}
	}
	m = s.message(p, photo)
	if m.Text, err = s.withHeader(ctx, p, m); err != nil {
		return Message{}, err
	}
	s.cacheMu.Lock()
	if len(s.cache) > 64 {
		clear(s.cache)
	}
	s.cache[postID] = m
	s.cacheMu.Unlock()
	return m, nil
}
