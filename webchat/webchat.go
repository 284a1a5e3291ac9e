// Package webchat is the web chat channel: a widget a city embeds in its
// website with one script tag (GET /widget.js), a standalone page (GET
// /chat) and the JSON/SSE API behind them (/chat/api/...). It is a channel
// adapter like bot/telegram: a citizen's message (POST) is stored and
// handed to the channel-agnostic dialog engine in one transaction; a
// delivery loop moves the outbox rows of the channel "web" (the engine's
// answers, staff replies) into a per-conversation event log; the widget
// reads that log as server-sent events, resuming after its Last-Event-ID,
// fed live by LISTEN/NOTIFY so that whichever instance holds a citizen's
// connection delivers.
//
// A conversation is bound to a random token that the server generates on
// the first message and the widget keeps in localStorage; it is sent in the
// Authorization header (never a cookie, never in a URL), and only its
// SHA-256 hash is stored. The package uses plain net/http; admin or
// cmd/citybot mount its Handler.
package webchat

import (
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"citybot/bot"
	"citybot/internal/apperr"
	"citybot/internal/pglisten"
	"citybot/routing"
)

// Engine runs the dialog for one inbound message in the caller's
// transaction. *bot.Engine implements it.
type Engine interface {
	Handle(ctx context.Context, tx *sqlx.Tx, in bot.Inbound) (bot.Result, error)
}

// Errors of the package.
var (
	ErrUnauthorized = apperr.New(apperr.Unauthorized, "webchat: unknown token")
	ErrRateLimited  = apperr.New(apperr.RateLimited, "webchat: rate limited")
	ErrTooLarge     = apperr.New(apperr.TooLarge, "webchat: message too long")
	ErrInvalid      = apperr.New(apperr.Invalid, "webchat: invalid message")
	ErrNotFound     = apperr.New(apperr.NotFound, "webchat: conversation not found")
)

// NotifyChannel is the PostgreSQL NOTIFY channel of new events; the payload
// is the conversation's id.
const NotifyChannel = "webchat_events"

// Config configures the Service. Zero values take the defaults.
type Config struct {
	// Origins are the origins (https://www.musterstadt.de) whose pages may
	// embed the widget and call the API (CORS). citybot's own origin
	// (PublicURL, or the request's host) is always allowed.
	Origins []string
	// PublicURL is citybot's public base URL (may be empty).
	PublicURL string
	// Title is the widget's default title (the script tag's
	// data-city-title overrides it). Default "Stadt Musterstadt".
	Title string
	// PrivacyURL is the privacy notice the widget links to
	// (CITYBOT_PRIVACY_URL); empty: the built-in notice /chat/datenschutz.
	PrivacyURL string
	// MaxTextLen is the longest message in characters. Default 2000.
	MaxTextLen int
	// TokenRate is how many messages one conversation may send per minute.
	// Default 12.
	TokenRate int
	// AddrRate is how many messages one client address may send per
	// minute (all its conversations together). Default 60.
	AddrRate int
	// NewPerAddr is how many conversations one client address may start
	// per hour. Default 20.
	NewPerAddr int
	// ProofOfWork > 0: a new conversation, and every message that opens a
	// case (a handoff), must bring a proof of work of this many leading
	// zero bits (the widget computes it, 14 bits take a browser well under
	// a second; a handoff's proof is for a challenge the server gives,
	// bound to the conversation and the message). 0: none.
	ProofOfWork int
	// TrustedProxies: addresses or CIDRs of reverse proxies whose
	// X-Forwarded-For is believed for the client address.
	TrustedProxies []string
	// DatabaseURL is used for LISTEN (a connection of its own); empty: no
	// live notifications from other instances, only polling.
	DatabaseURL string
	// Instance is recorded on outbox claims (db.Instance; 0: none).
	Instance int32
	// Lease of claimed outbox rows. Default 30 s.
	Lease time.Duration
	// OrphanSweep: how often delivery looks for outbox rows claimed by
	// instances that are no longer running (a crash), to take them over at
	// once instead of after the lease. Default 5 s.
	OrphanSweep time.Duration
	// IdleInterval: how often delivery looks for outbox rows without a
	// wake-up, and how often an idle stream checks its log. Default 1 s.
	IdleInterval time.Duration
	// Keepalive: an idle stream sends a comment this often. Default 25 s.
	Keepalive time.Duration
	// RetentionDays, when set, is the retention of the transcript in days,
	// asked before each hourly purge: cmd/citybot passes the global
	// retention of citizen data (routing.Cases.GlobalRetentionDays, the
	// setting retention_days that also bounds closed cases), so that an
	// admin's change applies to the web chat too. Events older than it are
	// deleted (the messages of a case stay in the case as long as routing
	// keeps them).
	RetentionDays func(context.Context) (int, error)
	// Retention applies without RetentionDays. Default 30 days.
	Retention time.Duration
	Logger    *slog.Logger
}

func (c *Config) setDefaults() {
	if c.Title == "" {
		c.Title = "Stadt Musterstadt"
	}
	if c.MaxTextLen <= 0 {
		c.MaxTextLen = 2000
	}
	if c.TokenRate <= 0 {
		c.TokenRate = 12
	}
	if c.AddrRate <= 0 {
		c.AddrRate = 60
	}
	if c.NewPerAddr <= 0 {
		c.NewPerAddr = 20
	}
	if c.Lease <= 0 {
		c.Lease = 30 * time.Second
	}
	if c.OrphanSweep <= 0 {
		c.OrphanSweep = 5 * time.Second
	}
	if c.IdleInterval <= 0 {
		c.IdleInterval = time.Second
	}
	if c.Keepalive <= 0 {
		c.Keepalive = 25 * time.Second
	}
	if c.Retention <= 0 {
		c.Retention = 30 * 24 * time.Hour
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// Service is the web chat channel.
type Service struct {
	db      *sqlx.DB
	engine  Engine
	cfg     Config
	log     *slog.Logger
	outbox  *routing.Store
	hub     *hub
	origins map[string]bool
	proxies []netip.Prefix
	addrMsg *limiter // messages per address per minute
	addrNew *limiter // new conversations per address per hour
	wakeDel chan struct{}
	script  []byte // widget.js with the privacy notice's address
}

// New returns the web chat channel on d, answering with engine.
func New(d *sqlx.DB, engine Engine, cfg Config) *Service {
	cfg.setDefaults()
	s := &Service{
		db: d, engine: engine, cfg: cfg, log: cfg.Logger,
		outbox:  routing.NewStore(d).WithOwner(cfg.Instance),
		hub:     newHub(d),
		origins: map[string]bool{},
		addrMsg: newLimiter(cfg.AddrRate, time.Minute),
		addrNew: newLimiter(cfg.NewPerAddr, time.Hour),
		wakeDel: make(chan struct{}, 1),
		script:  widgetScript(cfg.PrivacyURL),
	}
	for _, o := range append([]string{cfg.PublicURL}, cfg.Origins...) {
		if o = originOf(o); o != "" {
			s.origins[o] = true
		}
	}
	for _, p := range cfg.TrustedProxies {
		if pfx, err := netip.ParsePrefix(p); err == nil {
			s.proxies = append(s.proxies, pfx)
		} else if a, err := netip.ParseAddr(p); err == nil {
			s.proxies = append(s.proxies, netip.PrefixFrom(a, a.BitLen()))
		}
	}
	return s
}

// originOf is the origin (scheme://host[:port]) of a URL, "" if none.
func originOf(u string) string {
	pu, err := url.Parse(strings.TrimSpace(u))
	if err != nil || pu.Host == "" || (pu.Scheme != "http" && pu.Scheme != "https") {
		return ""
	}
	return strings.ToLower(pu.Scheme + "://" + pu.Host)
}

// Run delivers the outbox of the channel until ctx is done, listens for
// new events of other instances, and purges old events.
func (s *Service) Run(ctx context.Context) error {
	if err := s.listen(ctx); err != nil {
		if ctx.Err() != nil {
			return nil // stopped while starting: a clean stop, not an error
		}
		return err
	}
	go s.purgeLoop(ctx)
	go s.runOrphanSweep(ctx)
	s.runDelivery(ctx)
	return nil
}

// listen starts the hub: the streams of this instance learn of the events
// that other instances append (a staff reply delivered by whichever
// instance claimed it) by NOTIFY, until ctx is done.
func (s *Service) listen(ctx context.Context) error {
	if err := s.hub.init(ctx); err != nil {
		return err
	}
	if s.cfg.DatabaseURL == "" {
		return nil
	}
	l, err := pglisten.New(s.cfg.DatabaseURL, s.log, NotifyChannel, routing.NotifyChannel)
	if err != nil {
		return err
	}
	go func() {
		_ = l.Run(ctx, func(ctx context.Context) error {
			s.wakeDelivery() // a staff reply may be waiting in the outbox
			return s.hub.scan(ctx)
		})
	}()
	return nil
}

func (s *Service) wakeDelivery() {
	select {
	case s.wakeDel <- struct{}{}:
	default:
	}
}

// Handler serves GET /widget.js and /widget.css, GET /chat, the built-in
// privacy notice GET /chat/datenschutz, and the API under /chat/api/.
func (s *Service) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /widget.js", s.widgetJS)
	mux.HandleFunc("GET /widget.css", s.widgetCSS)
	mux.HandleFunc("GET /chat", s.chatPage)
	mux.HandleFunc("GET /chat/datenschutz", s.privacyNotice)
	mux.HandleFunc("/chat/api/messages", s.api(http.MethodPost, s.postMessage))
	mux.HandleFunc("/chat/api/events", s.api(http.MethodGet, s.events))
	return mux
}

// Paths are the patterns Handler serves, for mounting it on another mux.
var Paths = []string{"/widget.js", "/widget.css", "/chat", "/chat/datenschutz", "/chat/api/"}
