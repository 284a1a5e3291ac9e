// Package admin is the web UI of citybot: login, the staff inbox, admin
// pages and the audit log, plus the operational endpoints (/healthz,
// /readyz, /metrics) and the mount point of the Telegram webhook.
//
// It is the only package that imports gin. Pages are server-rendered from
// embedded html/template files into a buffer before anything is written.
// Every state-changing request is protected twice against CSRF: by
// net/http.CrossOriginProtection (Sec-Fetch-Site / Origin) and by a
// synchronizer token bound to the server-side session (see csrf.go).
package admin

import (
	"citybot/faq"
	"context"
	"crypto/subtle"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"citybot/fieldstaff"
	"citybot/internal/apperr"
	"citybot/internal/jobs"
	"citybot/routing"
	"citybot/staff"
)

// Config is the admin server's configuration.
type Config struct {
	// BaseURL is the public URL of the web UI (e.g. https://buergerservice.example.de).
	// Its origin is trusted by the cross-origin check; it may be empty.
	BaseURL string
	// SecureCookies sets the Secure flag on cookies (true behind HTTPS).
	SecureCookies bool
	// SessionLifetime is how long a login lasts; default 12h.
	SessionLifetime time.Duration
	// BotUsername is the Telegram bot's username (without @): the news
	// topics then show their subscription links ready to copy.
	BotUsername string
	// DefaultLanguage is the UI language for visitors without a setting: "de" (default) or "en".
	DefaultLanguage string
	// TrustedProxies are the proxy addresses/CIDRs whose X-Forwarded-For is
	// believed for the client address (login throttling, logs). Empty: none.
	TrustedProxies []string
	// MetricsToken, when set, serves /metrics on the UI's handler to
	// requests with "Authorization: Bearer <token>"; without it /metrics
	// is only on MetricsHandler (its own listen address).
	MetricsToken string
	// OIDC enables sign-in through the city's identity provider (oidc.go).
	OIDC OIDCConfig
	// RequestTimeout bounds every request (default 30 s): its context ends
	// then, so that a stuck database or Bot API call ends in an error page
	// instead of a hanging browser. The live-update stream has none; media
	// downloads get ten times as long.
	RequestTimeout time.Duration
	// MapTiles is a map tile URL template ({z}, {x}, {y}): the case page
	// shows a location on a small map; its origin is allowed for images.
	// Empty: no map, a link to OpenStreetMap only (maps.go).
	MapTiles string
	// MapAttribution is the credit under the map.
	MapAttribution string
	// InvitationLifetime is how long an invitation link is valid
	// (default 7 days; invite.go).
	InvitationLifetime time.Duration
	// AlertDigestInterval is how often at most a digest of case alerts
	// goes to a staff member (the account page says so; default
	// fieldstaff.DefaultDigestInterval).
	AlertDigestInterval time.Duration
}

// Deps are the admin server's collaborators.
type Deps struct {
	DB     *sqlx.DB
	Logger *slog.Logger
	// DatabaseURL is used for the LISTEN connection of live updates (Run).
	DatabaseURL string
	// Gatherer is served at /metrics; nil means prometheus.DefaultGatherer.
	Gatherer prometheus.Gatherer
	// Ready reports whether the service is ready (besides the DB ping); may be nil.
	Ready func(ctx context.Context) error
	// Webhook, when set, is mounted at POST /telegram/webhook (outside of
	// sessions and CSRF checks: the bot checks Telegram's secret token).
	Webhook http.Handler
	// Cases is the case domain (routing); nil disables the inbox.
	Cases Cases
	// Files fetches citizen media (Telegram files) for the proxy route; may be nil.
	Files Files
	// FAQ answers for the "insert FAQ answer" picker; may be nil.
	FAQ FAQSource
	// Matcher gives the options of the bot's FAQ index (*faq.Live): Try-it
	// matches with the same confidence model as the bot. nil: the
	// committed model (faq.DefaultOptions).
	Matcher interface{ Options() faq.Options }
	// Rules are the routing rules of the admin page; nil disables it.
	Rules Rules
	// Calendar knows public holidays; the inbox counts waits in office
	// hours with it. nil: the nationwide holidays.
	Calendar *routing.Calendar
	// Broadcast is the news channel domain (*broadcast.Service): posts,
	// topics, feeds (admin/broadcast*.go); nil hides those pages.
	Broadcast Broadcast
}

// Server is the admin HTTP server.
type Server struct {
	cfg     Config
	deps    Deps
	db      *sqlx.DB
	log     *slog.Logger
	tmpl    *templates
	cat     catalog
	hub     *hub
	cal     *routing.Calendar
	handler http.Handler
	engine  *gin.Engine
	oidc    *oidcClient
	// oidcSeeded: the group mapping in the database was filled (sso.go).
	oidcSeeded atomic.Bool
	// staff are the users, sessions and departments.
	staff *staff.Store
	// field links staff users to their Telegram chats.
	field *fieldstaff.Store
}

// New builds the server. It does no I/O; call Run to start background work
// (live updates, session clean-up) and Handler to serve HTTP.
func New(cfg Config, deps Deps) *Server {
	if cfg.SessionLifetime <= 0 {
		cfg.SessionLifetime = 12 * time.Hour
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = 30 * time.Second
	}
	if cfg.MapTiles != "" && cfg.MapAttribution == "" {
		cfg.MapAttribution = "© OpenStreetMap-Mitwirkende"
	}
	if cfg.DefaultLanguage != "en" {
		cfg.DefaultLanguage = "de"
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	if deps.Gatherer == nil {
		deps.Gatherer = prometheus.DefaultGatherer
	}
	s := &Server{
		cfg:   cfg,
		deps:  deps,
		db:    deps.DB,
		field: fieldstaff.New(deps.DB),
		log:   deps.Logger.With("component", "admin"),
		cat:   newCatalog(),
	}
	s.staff = staff.New(deps.DB).WithDeactivateHook(s.field.Deactivated)
	s.hub = newHub(s.log)
	s.cal = deps.Calendar
	if s.cal == nil {
		cal, err := routing.NewCalendar("")
		if err != nil {
			panic(err) // the embedded time zone data is part of the binary
		}
		s.cal = cal
	}
	s.tmpl = mustParseTemplates(s.cal.Location())
	s.oidc = &oidcClient{cfg: cfg.OIDC}
	s.handler = s.buildHandler()
	return s
}

// Handler returns the HTTP handler of the whole UI.
func (s *Server) Handler() http.Handler { return s.handler }

// Run runs the background work until ctx ends: the LISTEN connection that
// feeds live updates, and the periodic clean-up of expired sessions and old
// login attempts (every 10 minutes, the first after 10 minutes). It returns
// the LISTEN connection's error, if it fails before ctx ends.
func (s *Server) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cleaned := make(chan struct{})
	go func() {
		defer close(cleaned)
		jobs.Job{Name: "clean-up of sessions", Interval: 10 * time.Minute, Delay: true, Log: s.log, Func: s.cleanup}.Loop(ctx)
	}()
	var err error
	if s.deps.DatabaseURL == "" {
		s.log.Warn("no database URL for LISTEN: live updates disabled")
	} else {
		err = s.hub.listen(ctx, s.deps.DatabaseURL)
	}
	if err == nil || ctx.Err() != nil {
		<-ctx.Done()
		err = nil
	}
	cancel()
	<-cleaned
	return err
}

func (s *Server) cleanup(ctx context.Context) error { return s.staff.Cleanup(ctx) }

func (s *Server) buildHandler() http.Handler {
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	s.engine = e
	e.HandleMethodNotAllowed = true
	_ = e.SetTrustedProxies(s.cfg.TrustedProxies)
	// Only X-Forwarded-For names the client (as SECURITY.md says): gin
	// would also believe X-Real-IP, which a proxy that sets only
	// X-Forwarded-For passes through from the client unchanged.
	e.RemoteIPHeaders = []string{"X-Forwarded-For"}
	if len(s.cfg.TrustedProxies) == 0 {
		e.ForwardedByClientIP = false
	}
	hsts := strings.HasPrefix(strings.ToLower(s.cfg.BaseURL), "https://")
	e.Use(s.logRequests, s.recoverPanic, securityHeaders(hsts, contentSecurityPolicyWith(tileOrigin(s.cfg.MapTiles))), s.loadSession, s.limitBody, s.checkCSRF)
	e.NoRoute(func(c *gin.Context) { s.fail(c, errNotFound) })
	e.NoMethod(func(c *gin.Context) { s.fail(c, errMethod) })

	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
	if s.cfg.MetricsToken != "" {
		e.GET("/metrics", s.metricsWithToken)
	}
	e.GET("/static/*file", s.static)

	e.GET("/login", s.loginForm)
	e.POST("/login", s.login)
	e.POST("/logout", s.logout)
	e.GET("/invite", s.invitePage)
	e.POST("/invite", s.acceptInvite)
	if s.cfg.OIDC.Enabled() {
		e.GET("/auth/oidc/start", s.oidcStart)
		e.GET(oidcCallback, s.oidcCallbackHandler)
	}
	e.POST("/language", s.setLanguage)

	authed := e.Group("/", s.requireRole(staff.RoleAdmin, staff.RoleEditor, staff.RoleStaff))
	authed.GET("/", s.home)
	authed.GET("/account", s.accountPage)
	authed.POST("/account/password", s.changePassword)
	authed.POST("/account/telegram/code", s.telegramCode)
	authed.POST("/account/telegram/unlink", s.telegramUnlink)
	authed.POST("/account/telegram/alerts", s.saveAlerts)
	s.routeInbox(authed)

	adm := e.Group("/admin", s.requireRole(staff.RoleAdmin))
	s.routeAdmin(adm)
	s.routeEditor(e) // FAQ editor (admin/editor.go)
	// Routing rules (admins) and canned answers (admin/rules.go, admin/canned.go).
	s.routeRouting(adm, authed)
	s.routeBroadcast(e) // news channels (admin/broadcast*.go)

	mux := http.NewServeMux()
	if s.deps.Webhook != nil {
		mux.Handle("POST /telegram/webhook", s.deps.Webhook)
	}
	cop := http.NewCrossOriginProtection()
	if u, err := url.Parse(s.cfg.BaseURL); err == nil && u.Scheme != "" && u.Host != "" {
		_ = cop.AddTrustedOrigin(u.Scheme + "://" + u.Host)
	}
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.log.Warn("cross-origin request rejected", "method", r.Method, "path", r.URL.Path)
		securityHeadersTo(w.Header())
		if hsts {
			w.Header().Set("Strict-Transport-Security", hstsValue)
		}
		http.Error(w, "Forbidden: cross-origin request", http.StatusForbidden)
	}))
	mux.Handle("/", cop.Handler(e))
	return s.withDeadline(mux)
}

// withDeadline gives each request's context the deadline of RequestTimeout
// (see there).
func (s *Server) withDeadline(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d := s.cfg.RequestTimeout
		switch {
		case r.URL.Path == "/inbox/events":
			next.ServeHTTP(w, r)
			return
		case strings.Contains(r.URL.Path, "/media/"):
			d *= 10
			_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(d + 10*time.Second))
		}
		ctx, cancel := context.WithTimeout(r.Context(), d)
		defer cancel()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// home sends a user to the start page of their role.
// A notice (the welcome after an invitation) goes along.
func (s *Server) home(c *gin.Context) {
	u := currentUser(c)
	to := "/inbox"
	switch {
	case u.Role == staff.RoleEditor:
		// Editors work on the FAQ; their inbox is one click away.
		to = "/faq"
	case s.deps.Cases == nil:
		to = "/account"
	}
	notice := c.Query("notice")
	if !s.cat.known("notice." + notice) {
		notice = ""
	}
	redirect(c, to, notice)
}

// Sentinel errors of the admin package, mapped to HTTP status by their kind
// in statusOf.
var (
	ErrNotFound = apperr.New(apperr.NotFound, "admin: not found")
	ErrInvalid  = apperr.New(apperr.Invalid, "admin: invalid")
	ErrExists   = apperr.New(apperr.Conflict, "admin: already exists")

	errNotFound  = ErrNotFound
	errForbidden = apperr.New(apperr.Forbidden, "admin: forbidden")
	errCSRF      = apperr.New(apperr.Forbidden, "admin: invalid csrf token")
	// errMethod has no kind: it is the one status no domain returns.
	errMethod    = errors.New("admin: method not allowed")
	errNoService = apperr.New(apperr.NotConfigured, "admin: service not configured")
)

// statusOf maps an error to its HTTP status: the one place in the web UI
// that does. The domain packages' errors (and admin's own) carry a kind,
// whose status is apperr.HTTPStatus; what has none is a failure of the
// request's context, of the database, or internal.
func (s *Server) statusOf(err error) int {
	if k := apperr.KindOf(err); k != apperr.Unknown {
		return apperr.HTTPStatus(k)
	}
	switch {
	case errors.Is(err, errMethod):
		return http.StatusMethodNotAllowed
	case errors.Is(err, context.Canceled), isQueryCanceled(err) && !errors.Is(err, context.DeadlineExceeded):
		// The client went away (lib/pq cancels the running statement), or
		// a statement ran into statement_timeout (see fail).
		return 499
	case errors.Is(err, context.DeadlineExceeded), isUnavailable(err):
		// The request's deadline passed, or the database is not reachable.
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// isUnavailable reports an error of a database that is not there: no
// connection (refused, no socket, the server shutting down or starting
// up), or a connection that broke.
func isUnavailable(err error) bool {
	var pe *pq.Error
	if errors.As(err, &pe) {
		code := string(pe.Code)
		return strings.HasPrefix(code, "08") || code == "57P01" || code == "57P02" || code == "57P03"
	}
	var ne net.Error
	return errors.Is(err, driver.ErrBadConn) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ENOENT) || errors.As(err, &ne)
}

// isQueryCanceled reports PostgreSQL's query_canceled, which is what a
// statement returns when its request's context ends.
func isQueryCanceled(err error) bool {
	var pe *pq.Error
	return errors.As(err, &pe) && pe.Code == "57014"
}

// fail renders the error page for err; internal error text is only logged.
func (s *Server) fail(c *gin.Context, err error) {
	status := s.statusOf(err)
	if status == 499 && c.Request.Context().Err() == nil {
		// Canceled, but not by the client: statement_timeout.
		status = http.StatusServiceUnavailable
	}
	if status >= 500 {
		s.log.Error("request failed", "method", c.Request.Method, "path", c.Request.URL.Path, "err", err)
	}
	c.Error(err) //nolint:errcheck // recorded for the request log
	if status == 499 {
		c.Abort()
		return
	}
	key := "error.internal"
	switch status {
	case http.StatusNotFound:
		key = "error.notfound"
	case http.StatusForbidden:
		key = "error.forbidden"
		if errors.Is(err, errCSRF) {
			key = "error.csrf"
		}
	case http.StatusBadRequest:
		key = "error.invalid"
	case http.StatusConflict:
		key = "error.conflict"
	case http.StatusMethodNotAllowed:
		key = "error.method"
	case http.StatusRequestEntityTooLarge:
		key = "error.toolarge"
	case http.StatusNotImplemented:
		key = "error.unavailable"
	case http.StatusServiceUnavailable:
		key = "error.busy"
		c.Header("Retry-After", "30")
	}
	p := s.page(c, "error.title")
	p.Data = map[string]any{"Status": status, "Message": p.T(key)}
	s.render(c, status, "error", p)
	c.Abort()
}

func (s *Server) logRequests(c *gin.Context) {
	start := time.Now()
	c.Next()
	attrs := []any{
		"method", c.Request.Method,
		"path", c.Request.URL.Path,
		"status", c.Writer.Status(),
		"duration_ms", float64(time.Since(start).Microseconds()) / 1000,
		"ip", c.ClientIP(),
	}
	if u := currentUser(c); u != nil {
		attrs = append(attrs, "user_id", u.ID)
	}
	level := slog.LevelInfo
	if c.Writer.Status() >= 500 {
		level = slog.LevelError
	} else if strings.HasPrefix(c.Request.URL.Path, "/static/") || c.Request.URL.Path == "/healthz" || c.Request.URL.Path == "/metrics" {
		level = slog.LevelDebug
	}
	s.log.Log(c.Request.Context(), level, "http request", attrs...)
}

func (s *Server) recoverPanic(c *gin.Context) {
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			s.log.Error("panic in handler", "method", c.Request.Method, "path", c.Request.URL.Path, "err", fmt.Sprint(p), "stack", stack())
			if !c.Writer.Written() {
				s.fail(c, fmt.Errorf("panic: %v", p))
			}
			c.Abort()
		}
	}()
	c.Next()
}

// contentSecurityPolicy allows no inline script or style and no framing.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

func securityHeadersTo(h http.Header) {
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
}

// hstsValue asks browsers to use https only for two years (sent when the
// public URL is https).
const hstsValue = "max-age=63072000; includeSubDomains"

func securityHeaders(hsts bool, csp string) gin.HandlerFunc {
	return func(c *gin.Context) {
		securityHeadersTo(c.Writer.Header())
		c.Header("Content-Security-Policy", csp)
		if hsts {
			c.Header("Strict-Transport-Security", hstsValue)
		}
		if !strings.HasPrefix(c.Request.URL.Path, "/static/") {
			c.Header("Cache-Control", "no-store")
		}
		c.Next()
	}
}

// MetricsHandler serves the Prometheus metrics; cmd/citybot serves it on
// its own listen address (CITYBOT_METRICS_ADDR, loopback by default), not
// on the web UI's port.
func (s *Server) MetricsHandler() http.Handler {
	return promhttp.HandlerFor(s.deps.Gatherer, promhttp.HandlerOpts{})
}

// metricsWithToken serves /metrics on the UI's port to a request that
// carries the configured bearer token.
func (s *Server) metricsWithToken(c *gin.Context) {
	tok, ok := strings.CutPrefix(c.GetHeader("Authorization"), "Bearer ")
	if !ok || subtle.ConstantTimeCompare([]byte(tok), []byte(s.cfg.MetricsToken)) != 1 {
		c.Header("WWW-Authenticate", `Bearer realm="metrics"`)
		c.String(http.StatusUnauthorized, "unauthorized\n")
		c.Abort()
		return
	}
	s.MetricsHandler().ServeHTTP(c.Writer, c.Request)
}

// engineRoutes lists the engine's routes as (method, path).
func (s *Server) engineRoutes() [][2]string {
	var out [][2]string
	for _, r := range s.engine.Routes() {
		out = append(out, [2]string{r.Method, r.Path})
	}
	return out
}
