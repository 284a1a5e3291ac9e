// Package telegram is the Telegram adapter of the bot: at-least-once intake
// (long polling with one poller among all instances, or a webhook handler),
// a dispatcher that hands stored updates to the dialog engine (bounded
// workers, in order per chat), and a delivery worker that sends the outbox
// through github.com/go-telegram/bot with retries.
//
// The path of one update: intake stores it in telegram_updates (keyed by
// update_id) before Telegram learns it arrived, and claims it in the same
// statement when its chat has nothing else open (otherwise the dispatcher
// claims it later: FOR UPDATE SKIP LOCKED, only the oldest open update of a
// chat); in one transaction the engine stores the message and the answer's
// outbox rows and the update is marked done; the answer's first outbox row
// is claimed in that transaction too and goes straight to a sender, and the
// delivery worker sends whatever else the outbox holds.
package telegram

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
	"github.com/jmoiron/sqlx"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"citybot/bot"
	"citybot/internal/db"
	"citybot/internal/jobs"
	"citybot/internal/tgtext"
	"citybot/routing"
)

// ErrConfig: the configuration is not valid.
var ErrConfig = errors.New("telegram: invalid configuration")

// DefaultAPIURL is Telegram's Bot API server.
const DefaultAPIURL = "https://api.telegram.org"

// Config configures the Service. Zero values mean the defaults.
type Config struct {
	// Token is the bot token from @BotFather. Secret: never logged.
	Token string
	// Location is the city's time zone (CITYBOT_TIMEZONE); nil means
	// Europe/Berlin.
	Location *time.Location
	// APIURL is the Bot API server, without trailing slash (a self-hosted
	// Bot API server, or a fake in tests). Default DefaultAPIURL.
	APIURL string
	// WebhookURL is the public URL Telegram posts updates to; empty means
	// long polling. The handler is WebhookHandler; mounting it is the
	// caller's job.
	WebhookURL string
	// WebhookSecret is the secret_token Telegram sends with every webhook
	// request (1..256 of A-Za-z0-9_-). Required with WebhookURL.
	WebhookSecret string
	// Workers handle updates concurrently (default 8); one chat's updates
	// are always handled one after another.
	Workers int
	// Senders deliver outbox rows concurrently (default 8).
	Senders int
	// PrivacyURL is linked from /start (default bot.DefaultPrivacyURL).
	PrivacyURL string
	// Handoff receives what the FAQ could not answer (nil: recorded only).
	Handoff bot.Desk
	// StaffChats, when set, is asked first about every message: a chat
	// linked to a staff user (or refused since its user was deactivated)
	// is answered there and never reaches the citizen engine.
	StaffChats StaffChats
	// Subscriptions enables /abo, /abbestellen, subscription deep links and
	// "Frage dazu" (broadcast.Subscribers; nil: not offered).
	Subscriptions bot.Subscriptions
	// Registerer registers the Prometheus metrics (nil: none).
	Registerer prometheus.Registerer

	// PollTimeout is the long-poll timeout of getUpdates (default 25 s).
	PollTimeout time.Duration
	// LeaderRetry is how often a non-polling instance tries to become the
	// poller (default 5 s).
	LeaderRetry time.Duration
	// IdleInterval is how often idle workers look for work that another
	// instance stored (default 500 ms); work of this instance wakes them at once.
	IdleInterval time.Duration
	// Lease is how long a claimed update or outbox row stays with a worker
	// before another may take it (default 2 min): it bounds the delay after a crash.
	Lease time.Duration
	// Instance is this process's id among the instances (db.Instance; 0:
	// none). It is recorded on claims; the claims of instances that are no
	// longer running are taken over within OrphanSweep instead of after
	// their lease.
	Instance int32
	// OrphanSweep is how often the service looks for claims of instances
	// that died (default 5 s; only with Instance).
	OrphanSweep time.Duration
	// FloodLimit and FloodWindow: see bot.Config (defaults 20 messages per
	// minute and chat).
	FloodLimit  int
	FloodWindow time.Duration
	// MaxUpdateAttempts: an update whose handling failed this often is
	// given up (default 5).
	MaxUpdateAttempts int
	// Retention: processed updates and finished outbox rows are purged after
	// this (default 48 h).
	Retention time.Duration
	// DrainTimeout bounds the final delivery at shutdown (default 5 s).
	DrainTimeout time.Duration
	// HTTPClient is used for Bot API calls (default: a pooled client).
	HTTPClient *http.Client
}

var (
	tokenRE  = regexp.MustCompile(`^[0-9]+:[A-Za-z0-9_-]+$`)
	secretRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,256}$`)
)

func (c *Config) validate() error {
	if !tokenRE.MatchString(c.Token) {
		return fmt.Errorf("%w: token: not of the form 123456:ABC-xyz", ErrConfig)
	}
	if c.APIURL == "" {
		c.APIURL = DefaultAPIURL
	}
	c.APIURL = strings.TrimRight(c.APIURL, "/")
	if !strings.HasPrefix(c.APIURL, "http://") && !strings.HasPrefix(c.APIURL, "https://") {
		return fmt.Errorf("%w: api url: must start with http:// or https://", ErrConfig)
	}
	if c.WebhookURL != "" {
		if !strings.HasPrefix(c.WebhookURL, "https://") && !strings.HasPrefix(c.WebhookURL, "http://") {
			return fmt.Errorf("%w: webhook url: must be an http(s) URL", ErrConfig)
		}
		if !secretRE.MatchString(c.WebhookSecret) {
			return fmt.Errorf("%w: webhook secret: required with a webhook URL, 1-256 characters of A-Z a-z 0-9 _ -", ErrConfig)
		}
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	if c.Workers <= 0 {
		c.Workers = 8
	}
	if c.Senders <= 0 {
		c.Senders = 8
	}
	if c.MaxUpdateAttempts <= 0 {
		c.MaxUpdateAttempts = 5
	}
	def(&c.PollTimeout, 25*time.Second)
	def(&c.LeaderRetry, 5*time.Second)
	def(&c.IdleInterval, 500*time.Millisecond)
	def(&c.Lease, 2*time.Minute)
	def(&c.OrphanSweep, 5*time.Second)
	def(&c.Retention, 48*time.Hour)
	def(&c.DrainTimeout, 5*time.Second)
	return nil
}

// Service runs the Telegram bot: intake, dispatcher and delivery.
type Service struct {
	db      *sqlx.DB
	cfg     Config
	logger  *slog.Logger
	engine  *bot.Engine
	api     *tgbot.Bot
	http    *http.Client
	updates updateStore
	outbox  *routing.Store
	metrics *metrics

	ready        readyQueue    // claimed updates for the workers
	webhookStore storeBatcher  // groups the inserts of concurrent webhook requests
	wakeDispatch chan struct{} // one token per idle worker to wake (capacity Workers)
	idleWorkers  atomic.Int32  // dispatch workers waiting for a wake-up
	backlog      atomic.Int64  // pending updates not claimed, as the last claim saw them, plus those stored since
	added        atomic.Int64  // updates stored unclaimed by this instance, ever (to keep backlog right across a claim)
	wakeDeliver  chan struct{}
	sendJobs     chan routing.OutboxItem // to the senders (buffered: a worker does not wait for a free sender)
	busySenders  atomic.Int32
	deliveryDone chan struct{} // closed when the senders stopped
	// recording holds a token per sent message whose "sent" is being
	// recorded in the background (recordSent); records waits for them.
	recording chan struct{}
	records   sync.WaitGroup

	pauseMu    sync.Mutex
	pauseUntil time.Time // the whole sender waits after a 429

	// trace, when set (benchmarks), is told when an update of a chat
	// reaches a stage of the pipeline. nil in production.
	trace func(st stage, chatID int64)
	// claims counts claim queries (benchmarks): of updates and of the
	// outbox, and how many of them came back empty.
	claims struct{ updates, updatesEmpty, outbox, outboxEmpty atomic.Int64 }
}

// stage is a point on the path of an update, for latency breakdowns.
type stage int

const (
	stageStored    stage = iota // intake stored it
	stageClaimed                // a worker claimed it
	stageCommitted              // its handling transaction committed
	stageSendStart              // the sender starts the Bot API call of its answer
	stageSendDone               // the Bot API call returned
	numStages
)

func (s *Service) traceAt(st stage, chatID int64) {
	if s.trace != nil {
		s.trace(st, chatID)
	}
}

// NewService returns a Service answering from m. It does not contact
// Telegram; Run does.
func NewService(d *sqlx.DB, m bot.Matcher, logger *slog.Logger, cfg Config) (*Service, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	logger = logger.With("component", "telegram")
	hc := cfg.HTTPClient
	if hc == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConns = 4 * (cfg.Senders + cfg.Workers)
		tr.MaxIdleConnsPerHost = 2 * (cfg.Senders + cfg.Workers)
		tr.DialContext = (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext
		hc = &http.Client{Transport: tr}
	}
	hc = bufferBodies(hc)
	var err error
	s := &Service{
		db:           d,
		cfg:          cfg,
		logger:       logger,
		http:         hc,
		updates:      updateStore{db: d, stmts: db.NewStmts(d), owner: cfg.Instance},
		outbox:       routing.NewStore(d).WithOwner(cfg.Instance),
		wakeDispatch: make(chan struct{}, cfg.Workers),
		wakeDeliver:  make(chan struct{}, 1),
		sendJobs:     make(chan routing.OutboxItem, 4*cfg.Senders),
		deliveryDone: make(chan struct{}),
		recording:    make(chan struct{}, maxRecording*cfg.Senders),
	}
	if s.metrics, err = newMetrics(cfg.Registerer); err != nil {
		return nil, err
	}
	s.engine = bot.NewEngine(m, bot.Config{PrivacyURL: cfg.PrivacyURL, Location: cfg.Location, MaxTextLen: 4096, Handoff: cfg.Handoff, ClaimLease: cfg.Lease, Instance: cfg.Instance, Subscriptions: cfg.Subscriptions, DB: d,
		FloodLimit: cfg.FloodLimit, FloodWindow: cfg.FloodWindow}, logger)
	api, err := tgbot.New(cfg.Token,
		tgbot.WithServerURL(cfg.APIURL),
		tgbot.WithSkipGetMe(),
		tgbot.WithHTTPClient(time.Minute, hc),
		tgbot.WithNotAsyncHandlers(),
		tgbot.WithErrorsHandler(func(err error) { logger.Warn("bot api", "err", redact(err, cfg.Token)) }),
		tgbot.WithDefaultHandler(func(context.Context, *tgbot.Bot, *models.Update) {}),
	)
	if err != nil {
		return nil, fmt.Errorf("telegram client: %w", redact(err, cfg.Token))
	}
	s.api = api
	return s, nil
}

// Run runs intake (polling, or webhook registration), dispatcher, delivery
// and housekeeping until ctx is done, then finishes in-flight work: updates
// being handled are completed, and what is due in the outbox is sent for up
// to DrainTimeout. Run is called once per Service.
func (s *Service) Run(ctx context.Context) error {
	// Intake and dispatch stop with ctx; delivery outlives them briefly to
	// send the answers of the last updates.
	deliverCtx, stopDeliver := context.WithCancel(context.WithoutCancel(ctx))
	defer stopDeliver()
	var g errgroup.Group
	g.Go(func() error {
		s.runDispatcher(ctx)
		return nil
	})
	var delivered sync.WaitGroup
	delivered.Add(1)
	go func() {
		defer delivered.Done()
		s.runDelivery(deliverCtx)
	}()
	if s.cfg.WebhookURL == "" {
		g.Go(func() error { return s.runPoller(ctx) })
	} else {
		g.Go(func() error { s.registerWebhook(ctx); return nil })
	}
	g.Go(func() error { s.setCommands(ctx); return nil })
	g.Go(func() error { s.runHousekeeping(ctx); return nil })
	if s.cfg.Instance != 0 {
		g.Go(func() error { s.runOrphanSweep(ctx); return nil })
	}
	err := g.Wait()

	// Drain: deliver what is due now, then stop.
	s.wake(s.wakeDeliver)
	drain := time.AfterFunc(s.cfg.DrainTimeout, stopDeliver)
	s.drainDelivery(deliverCtx)
	drain.Stop()
	stopDeliver()
	delivered.Wait()
	// The last "sent" records, before the caller closes the database.
	s.records.Wait()
	return err
}

// wake nudges a worker loop without blocking.
func (s *Service) wake(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

func (s *Service) registerWebhook(ctx context.Context) {
	for attempt := 1; ; attempt++ {
		_, err := s.api.SetWebhook(ctx, &tgbot.SetWebhookParams{
			URL:            s.cfg.WebhookURL,
			SecretToken:    s.cfg.WebhookSecret,
			AllowedUpdates: allowedUpdates,
			MaxConnections: 40,
		})
		if err == nil {
			s.logger.Info("webhook registered")
			return
		}
		if ctx.Err() != nil {
			return
		}
		s.logger.Error("register webhook", "err", redact(err, s.cfg.Token), "attempt", attempt)
		if !sleep(ctx, tgtext.RetryDelay(attempt)) {
			return
		}
	}
}

// setCommands shows the commands in Telegram's menu (best effort).
func (s *Service) setCommands(ctx context.Context) {
	for _, menu := range bot.CommandMenus() {
		cmds := make([]models.BotCommand, 0, len(menu.Commands))
		for _, c := range menu.Commands {
			cmds = append(cmds, models.BotCommand{Command: c.Command, Description: c.Description})
		}
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		_, err := s.api.SetMyCommands(cctx, &tgbot.SetMyCommandsParams{Commands: cmds, LanguageCode: menu.Lang})
		cancel()
		if err != nil && ctx.Err() == nil {
			s.logger.Warn("set bot commands", "err", redact(err, s.cfg.Token))
		}
	}
}

func (s *Service) runHousekeeping(ctx context.Context) {
	jobs.Every(ctx, "telegram housekeeping", 10*time.Minute, s.logger, func(ctx context.Context) error {
		before := time.Now().Add(-s.cfg.Retention)
		var errs []error
		if n, err := s.updates.purge(ctx, before); err != nil {
			errs = append(errs, fmt.Errorf("purge updates: %w", err))
		} else if n > 0 {
			s.logger.Info("purged updates", "count", n)
		}
		if n, err := s.outbox.PurgeOutbox(ctx, before); err != nil {
			errs = append(errs, fmt.Errorf("purge outbox: %w", err))
		} else if n > 0 {
			s.logger.Info("purged outbox rows", "count", n)
		}
		return errors.Join(errs...)
	})
}

// runOrphanSweep ends, at start and then every OrphanSweep, the leases of
// updates and outbox rows claimed by instances that are no longer running
// (a crash or kill): the dispatcher and the senders then take them at their
// next look instead of after the lease.
func (s *Service) runOrphanSweep(ctx context.Context) {
	jobs.Every(ctx, "telegram orphan sweep", s.cfg.OrphanSweep, s.logger, func(ctx context.Context) error {
		nu, uerr := s.updates.endOrphanedClaims(ctx)
		if uerr != nil {
			uerr = fmt.Errorf("end update claims of stopped instances: %w", uerr)
		}
		no, oerr := s.outbox.EndOrphanedClaims(ctx)
		if oerr != nil {
			oerr = fmt.Errorf("end outbox claims of stopped instances: %w", oerr)
		}
		if nu+no > 0 {
			s.metrics.takenOver.WithLabelValues("update").Add(float64(nu))
			s.metrics.takenOver.WithLabelValues("outbox").Add(float64(no))
			s.logger.Info("took over the claims of a stopped instance", "updates", nu, "outbox_rows", no)
			s.backlog.Add(nu)
			s.wakeIdle(int(nu))
			s.wake(s.wakeDeliver)
		}
		return errors.Join(uerr, oerr)
	})
}

var allowedUpdates = []string{models.AllowedUpdateMessage, models.AllowedUpdateCallbackQuery}

// sleep waits d or until ctx is done; it reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// redact removes the token from an error's text (HTTP errors carry the URL,
// which contains the token).
func redact(err error, token string) error {
	if err == nil || token == "" || !strings.Contains(err.Error(), token) {
		return err
	}
	return redactedError{msg: strings.ReplaceAll(err.Error(), token, "<token>"), err: err}
}

type redactedError struct {
	msg string
	err error
}

func (e redactedError) Error() string { return e.msg }
func (e redactedError) Unwrap() error { return e.err }
