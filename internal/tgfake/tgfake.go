// Package tgfake is a fake Telegram Bot API server for tests and benchmarks.
//
// It runs on loopback (net/http/httptest) and speaks the real wire format, so the
// real github.com/go-telegram/bot library (bot.WithServerURL(fake.URL())) and raw
// HTTP pollers can be tested end to end:
//
//   - routes /bot{token}/{method} (method case-insensitive) and /file/bot{token}/{path};
//   - the {"ok":...} envelope with error_code, description and parameters.retry_after;
//   - multipart/form-data, application/x-www-form-urlencoded, JSON bodies and query strings;
//   - getUpdates with offset confirmation, capped long polling and 409 on concurrent polls
//     or while a webhook is set;
//   - validation like Telegram's (empty/too long text, HTML entity parsing,
//     callback_data length, editing missing messages, ...);
//   - test controls to push updates, inject failures, block chats, rate limit, add
//     latency, wait for calls and deliver updates to a webhook.
//
// All methods of *Server are safe for concurrent use. The package has no
// package-level mutable state: every Server is independent.
package tgfake

import (
	"encoding/json"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-telegram/bot/models"
)

// DefaultToken is the bot token used when no WithToken option is given. The part
// before the colon is the bot's user id (bot.Bot.ID() parses it).
const DefaultToken = "123456789:AAFakeTokenForTests_tgfake-0123456789"

// DefaultPollCap is the default upper bound for a getUpdates long poll.
const DefaultPollCap = time.Second

// Option configures a Server at construction time.
type Option func(*config)

type config struct {
	token          string
	botUsername    string
	botFirstName   string
	pollCap        time.Duration
	firstUpdateID  int64
	firstMessageID int
	seed           uint64
	recordBodies   bool
	lenientAmp     bool
	defaultLang    string
}

// WithToken sets the bot token the server accepts.
func WithToken(token string) Option { return func(c *config) { c.token = token } }

// WithBotUsername sets the username returned by getMe (default "citybot_test_bot").
func WithBotUsername(username string) Option {
	return func(c *config) { c.botUsername = strings.TrimPrefix(username, "@") }
}

// WithPollCap sets the maximum time a getUpdates long poll is held
// (min(timeout, cap)); default DefaultPollCap.
func WithPollCap(d time.Duration) Option { return func(c *config) { c.pollCap = d } }

// WithFirstUpdateID sets the id of the first pushed update (default 1000).
func WithFirstUpdateID(id int64) Option { return func(c *config) { c.firstUpdateID = id } }

// WithFirstMessageID sets the first message_id assigned by the server (default 1).
func WithFirstMessageID(id int) Option { return func(c *config) { c.firstMessageID = id } }

// WithSeed seeds the random generator used by SetRandom429 (default 1).
func WithSeed(seed uint64) Option { return func(c *config) { c.seed = seed } }

// WithRecordBodies sets the initial recording mode; see Server.RecordBodies.
func WithRecordBodies(on bool) Option { return func(c *config) { c.recordBodies = on } }

// WithDefaultLanguage sets language_code of the default user in pushed updates
// (default "de").
func WithDefaultLanguage(lang string) Option { return func(c *config) { c.defaultLang = lang } }

// WithLenientHTMLEntities makes the HTML validator accept a bare '&' that does not
// start a known entity, as real Telegram does. By default the fake is stricter and
// rejects it, to catch text that was not escaped.
func WithLenientHTMLEntities() Option { return func(c *config) { c.lenientAmp = true } }

// Server is a fake Telegram Bot API server. Create it with New or NewServer.
type Server struct {
	ts      *httptest.Server
	token   string
	botUser models.User
	cfg     config
	closed  chan struct{}
	once    sync.Once

	mu sync.Mutex

	// change notification: closed and replaced on every state change if someone waits.
	changed     chan struct{}
	changedUsed bool

	// updates
	queue        []queuedUpdate
	nextUpdateID int64
	polling      bool
	webhook      webhookState
	pollCap      time.Duration

	// messages sent by the bot
	nextMessageID int
	messages      map[msgKey]*msgState
	callbacks     map[string]*callbackState
	nextCallback  int64
	files         map[string]*storedFile // by file_id
	filesByPath   map[string]*storedFile
	nextFile      int
	commands      map[string][]models.BotCommand // scope type + "/" + language

	// records
	record     bool
	calls      []Call
	callCounts map[string]int
	sent       []SentMessage
	sentCount  int

	// faults
	failures   map[string][]Failure // lower-case method or "*"
	blocked    map[int64]bool
	limiter    *rateLimiter
	rand429    float64
	rand429Ret int
	rng        *rand.Rand
	latency    time.Duration
}

// New starts a fake server for a test or benchmark and registers its shutdown with
// t.Cleanup.
func New(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s := newServer(opts...)
	t.Cleanup(s.Close)
	return s
}

// NewServer starts a fake server with the given token (DefaultToken if empty)
// without a testing.TB, e.g. for a benchmark command. The caller must call Close.
func NewServer(token string, opts ...Option) *Server {
	if token != "" {
		opts = append([]Option{WithToken(token)}, opts...)
	}
	return newServer(opts...)
}

func newServer(opts ...Option) *Server {
	cfg := config{
		token:          DefaultToken,
		botUsername:    "citybot_test_bot",
		botFirstName:   "CityBot (fake)",
		pollCap:        DefaultPollCap,
		firstUpdateID:  1000,
		firstMessageID: 1,
		seed:           1,
		recordBodies:   true,
		defaultLang:    "de",
	}
	for _, o := range opts {
		o(&cfg)
	}
	botID, _ := strconv.ParseInt(strings.SplitN(cfg.token, ":", 2)[0], 10, 64)
	s := &Server{
		token: cfg.token,
		botUser: models.User{
			ID:                      botID,
			IsBot:                   true,
			FirstName:               cfg.botFirstName,
			Username:                cfg.botUsername,
			CanJoinGroups:           true,
			CanReadAllGroupMessages: false,
			SupportInlineQueries:    false,
		},
		cfg:           cfg,
		closed:        make(chan struct{}),
		changed:       make(chan struct{}),
		nextUpdateID:  cfg.firstUpdateID,
		pollCap:       cfg.pollCap,
		nextMessageID: cfg.firstMessageID,
		messages:      make(map[msgKey]*msgState),
		callbacks:     make(map[string]*callbackState),
		files:         make(map[string]*storedFile),
		filesByPath:   make(map[string]*storedFile),
		record:        cfg.recordBodies,
		callCounts:    make(map[string]int),
		failures:      make(map[string][]Failure),
		blocked:       make(map[int64]bool),
		rng:           rand.New(rand.NewPCG(cfg.seed, cfg.seed^0x9e3779b97f4a7c15)),
	}
	s.ts = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	return s
}

// URL returns the base URL without a trailing slash, for bot.WithServerURL.
func (s *Server) URL() string { return s.ts.URL }

// Token returns the bot token the server accepts.
func (s *Server) Token() string { return s.token }

// BotUser returns the user returned by getMe.
func (s *Server) BotUser() models.User { return s.botUser }

// MethodURL returns the full URL of a Bot API method, e.g. for a raw poller.
func (s *Server) MethodURL(method string) string {
	return s.ts.URL + "/bot" + s.token + "/" + method
}

// HTTPClient returns an HTTP client with a connection pool sized for high request
// rates (use with bot.WithHTTPClient in benchmarks; the default client keeps only
// two idle connections per host).
func (s *Server) HTTPClient() *http.Client {
	tr := &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        512,
		MaxIdleConnsPerHost: 512,
		IdleConnTimeout:     90 * time.Second,
	}
	return &http.Client{Transport: tr, Timeout: time.Minute}
}

// Close releases held long polls and latency sleeps, then shuts the HTTP server
// down. It is idempotent; New registers it with t.Cleanup.
func (s *Server) Close() {
	s.once.Do(func() {
		close(s.closed)
		s.mu.Lock()
		s.notifyLocked()
		s.mu.Unlock()
		s.ts.Close()
	})
}

// SetPollCap changes the maximum hold time of a getUpdates long poll.
func (s *Server) SetPollCap(d time.Duration) {
	s.mu.Lock()
	s.pollCap = d
	s.mu.Unlock()
}

// RecordBodies switches between full recording (true, the default: every call with
// its parameters and files, every sent message, message contents for edit checks)
// and counter-only mode (false: only per-method call counts and the sent-message
// count are kept, which keeps benchmarks with 100k sends cheap). In counter-only
// mode Calls/Sent return nothing new, and edits of any message id the server has
// assigned are accepted.
func (s *Server) RecordBodies(on bool) {
	s.mu.Lock()
	s.record = on
	s.mu.Unlock()
}

// notifyLocked wakes every waiter (long polls, Wait* helpers). Callers hold s.mu.
func (s *Server) notifyLocked() {
	if s.changedUsed {
		close(s.changed)
		s.changed = make(chan struct{})
		s.changedUsed = false
	}
}

// waitChanLocked returns a channel closed at the next state change. Callers hold s.mu.
func (s *Server) waitChanLocked() <-chan struct{} {
	s.changedUsed = true
	return s.changed
}

// ---- HTTP plumbing ----

type apiError struct {
	OK          bool       `json:"ok"`
	ErrorCode   int        `json:"error_code"`
	Description string     `json:"description"`
	Parameters  *apiParams `json:"parameters,omitempty"`
}

type apiParams struct {
	RetryAfter      int   `json:"retry_after,omitempty"`
	MigrateToChatID int64 `json:"migrate_to_chat_id,omitempty"`
}

type apiOK struct {
	OK     bool `json:"ok"`
	Result any  `json:"result"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"ok":false,"error_code":500,"description":"tgfake: marshal: ` + strings.ReplaceAll(err.Error(), `"`, `'`) + `"}`)
	}
	writeRaw(w, status, "application/json", b)
}

func writeRaw(w http.ResponseWriter, status int, contentType string, b []byte) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func writeFailure(w http.ResponseWriter, f Failure) {
	if f.RawBody != "" {
		ct := f.ContentType
		if ct == "" {
			ct = "text/html"
		}
		writeRaw(w, f.Code, ct, []byte(f.RawBody))
		return
	}
	e := apiError{ErrorCode: f.Code, Description: f.Description}
	if f.RetryAfter > 0 || f.MigrateToChatID != 0 {
		e.Parameters = &apiParams{RetryAfter: f.RetryAfter, MigrateToChatID: f.MigrateToChatID}
	}
	writeJSON(w, f.Code, e)
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if !s.sleepLatency(r) {
		return
	}
	path := r.URL.Path
	switch {
	case strings.HasPrefix(path, "/file/bot"):
		s.serveFile(w, r, strings.TrimPrefix(path, "/file/bot"))
	case strings.HasPrefix(path, "/bot"):
		rest := strings.TrimPrefix(path, "/bot")
		token, method, ok := strings.Cut(rest, "/")
		if !ok || token != s.token {
			writeFailure(w, Failure{Code: http.StatusUnauthorized, Description: "Unauthorized"})
			return
		}
		method = strings.TrimPrefix(method, "test/")
		s.serveMethod(w, r, method)
	default:
		writeFailure(w, Failure{Code: http.StatusNotFound, Description: "Not Found"})
	}
}

func (s *Server) serveFile(w http.ResponseWriter, r *http.Request, rest string) {
	token, path, ok := strings.Cut(rest, "/")
	if !ok || token != s.token {
		writeFailure(w, Failure{Code: http.StatusUnauthorized, Description: "Unauthorized"})
		return
	}
	s.mu.Lock()
	f := s.filesByPath[path]
	s.mu.Unlock()
	if f == nil {
		writeFailure(w, Failure{Code: http.StatusNotFound, Description: "Not Found"})
		return
	}
	writeRaw(w, http.StatusOK, f.contentType, f.data)
}

func (s *Server) serveMethod(w http.ResponseWriter, r *http.Request, rawMethod string) {
	lower := strings.ToLower(rawMethod)
	h, known := methodTable[lower]
	if !known {
		writeFailure(w, Failure{Code: http.StatusNotFound, Description: "Not Found"})
		return
	}
	method := h.name
	req, err := parseRequest(r)
	if err != nil {
		f := Failure{Code: http.StatusBadRequest, Description: "Bad Request: " + err.Error()}
		s.finish(method, req, f, false)
		writeFailure(w, f)
		return
	}

	if f, injected := s.injectedFailure(lower, req); injected {
		s.finish(method, req, f, false)
		writeFailure(w, f)
		return
	}

	res, f := h.fn(s, w, r, req)
	if res == nil && f.Code == 0 {
		// The handler wrote nothing (request cancelled while long polling).
		return
	}
	if f.Code != 0 {
		s.finish(method, req, f, false)
		writeFailure(w, f)
		return
	}
	s.finish(method, req, Failure{}, true)
	if raw, ok := res.(rawResult); ok {
		writeRaw(w, http.StatusOK, "application/json", raw)
		return
	}
	writeJSON(w, http.StatusOK, apiOK{OK: true, Result: res})
}

// rawResult is a complete, already encoded response body.
type rawResult []byte
