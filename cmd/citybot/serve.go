package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"golang.org/x/sync/errgroup"

	"citybot/admin"
	"citybot/bot"
	"citybot/bot/telegram"
	"citybot/broadcast"
	"citybot/faq"
	"citybot/fieldstaff"
	"citybot/internal/config"
	"citybot/internal/db"
	"citybot/internal/german"
	"citybot/internal/jobs"
	"citybot/routing"
	"citybot/webchat"
)

// serve runs the whole service until ctx is cancelled (Ctrl-C, SIGTERM).
func (a *app) serve(ctx context.Context) error {
	log := a.logger
	// Listen first: a busy port is a configuration error worth one clear line.
	ln, err := net.Listen("tcp", a.cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("CITYBOT_HTTP_ADDR %s: %w", a.cfg.HTTPAddr, err)
	}
	d, err := a.openDatabase(ctx)
	if err != nil {
		ln.Close()
		return err
	}
	defer d.Close() // the database closes last
	// This process among the instances sharing the database: its claims
	// are taken over at once should it die. Released after everything
	// else has stopped (deferred after d.Close, so it runs before it).
	inst, err := db.StartInstance(ctx, d.DB, log.With("component", "instance"))
	if err != nil {
		ln.Close()
		return err
	}
	defer inst.Close()
	var credFile string
	if a.cfg.Demo {
		if credFile, err = a.loadDemo(ctx, d); err != nil {
			ln.Close()
			return err
		}
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	// The English -> German dictionary loads on its first use (about 0.15
	// s); load it now, beside the start, so the first English message does
	// not wait for it.
	go german.DefaultEnglish()

	live := faq.NewLive(faq.NewStore(d.DB), log.With("component", "faq"))
	live.RetrainAfter = faq.DefaultRetrainAfter
	// Subscribe before the first build, so no change in between is missed
	// and the index is built once at start.
	if err := live.Listen(d.URL); err != nil {
		ln.Close()
		return err
	}
	if err := live.Reload(ctx); err != nil {
		ln.Close()
		return err
	}
	router, err := routing.NewLiveRouter(ctx, d.DB, bot.RoutingFAQ(faq.NewStore(d.DB)))
	if err != nil {
		ln.Close()
		return err
	}
	if err := router.Listen(d.URL, log.With("component", "routing")); err != nil {
		ln.Close()
		return err
	}
	live.OnReload(func(ctx context.Context) {
		if err := router.Reload(ctx); err != nil {
			log.Error("reload routing", "err", err)
		}
	})
	cal, err := routing.NewCalendarIn(a.cfg.HolidayState, a.cfg.Timezone)
	if err != nil {
		ln.Close()
		return fmt.Errorf("CITYBOT_HOLIDAY_STATE: %w", err)
	}
	cases := routing.NewCases(d.DB, routing.CasesOptions{ReopenWindow: a.cfg.ReopenWindow, RetentionDays: a.cfg.RetentionDays})
	desk := routing.NewHandoff(cases, cal, router, routing.HandoffOptions{})
	handoff := bot.NewRoutingHandoff(desk, cases, routing.NewStore(d.DB))

	// The privacy notice: CITYBOT_PRIVACY_URL, else the web chat's own
	// notice (its address from CITYBOT_PUBLIC_URL, else the listen
	// address), else for Telegram bot.DefaultPrivacyURL.
	privacyURL, webPrivacyURL := a.cfg.PrivacyURL, a.cfg.PrivacyURL
	if privacyURL == "" && a.cfg.Webchat {
		webPrivacyURL = localBaseURL(a.cfg.PublicURL, a.cfg.HTTPAddr) + "/chat/datenschutz"
		if a.cfg.PublicURL != "" {
			privacyURL = webPrivacyURL
		}
	}

	var tg *telegram.Service
	var webhook http.Handler
	if a.cfg.TelegramToken == "" {
		log.Info("no Telegram token (CITYBOT_TELEGRAM_TOKEN): the bot is not running; serving the web UI only")
	} else {
		tcfg := telegram.Config{
			Token:      a.cfg.TelegramToken,
			Location:   a.cfg.Timezone,
			APIURL:     a.cfg.TelegramAPIURL,
			Workers:    a.cfg.Workers,
			Senders:    a.cfg.Senders,
			PrivacyURL: privacyURL,
			Registerer: reg,
			Handoff:    handoff,
			Instance:   inst.ID,
			// The bot's side of the news channels runs in the transaction of
			// each update; it needs nothing of the broadcast.Service below.
			Subscriptions: broadcast.Subscribers{},
			// Linked staff chats are answered by fieldstaff, never as citizens.
			// Replies to case alerts and their buttons use the inbox's case functions;
			// field reports become cases through routing.
			StaffChats: fieldstaff.New(d.DB).WithLocation(a.cfg.Timezone).WithCases(cases).WithDesk(desk),
		}
		if a.cfg.PublicURL != "" {
			tcfg.WebhookURL = a.cfg.PublicURL + "/telegram/webhook"
			tcfg.WebhookSecret = a.cfg.WebhookSecret
			if tcfg.WebhookSecret == "" {
				tcfg.WebhookSecret = randomToken()
			}
		}
		if tg, err = telegram.NewService(d.DB, live, log, tcfg); err != nil {
			ln.Close()
			return fmt.Errorf("CITYBOT_TELEGRAM_TOKEN: %w", err)
		}
		if tcfg.WebhookURL != "" {
			webhook = tg.WebhookHandler()
		}
	}

	var files admin.Files // citizen photos and documents in the inbox
	if tg != nil {
		files = tg
	}
	var quiet broadcast.QuietHours
	if a.cfg.QuietHours != "" {
		quiet.From, quiet.To, _ = config.ParseQuietHours(a.cfg.QuietHours) // validated by config.Load
	}
	var sender broadcast.Sender // nil without a bot: feeds and scheduling still run
	if tg != nil {
		sender = tg.BroadcastSender()
	}
	bc := broadcast.New(d.DB, sender, broadcast.Config{
		Rate:       a.cfg.BroadcastRate,
		Instance:   inst.ID,
		Registerer: reg,
		QuietHours: quiet,
		Location:   a.cfg.Timezone,
		Sender:     a.cfg.CityName,
		Logger:     log,
	})

	ui := admin.New(admin.Config{
		BaseURL:        a.cfg.PublicURL,
		SecureCookies:  a.cfg.CookieSecure,
		TrustedProxies: a.cfg.TrustedProxies,
		MetricsToken:   a.cfg.MetricsToken,
		OIDC:           oidcConfig(a.cfg),
		RequestTimeout: a.cfg.RequestTimeout,
		MapTiles:       a.cfg.MapTiles,
		MapAttribution: a.cfg.MapAttribution,
		BotUsername:    a.cfg.BotUsername,
		// The account page tells how often a digest of alerts comes.
		AlertDigestInterval: a.cfg.AlertDigestInterval,
	}, admin.Deps{
		DB:          d.DB,
		Logger:      log,
		DatabaseURL: d.URL,
		Gatherer:    reg,
		Webhook:     webhook,
		Cases:       cases,
		Rules:       routing.NewRuleStore(d.DB),
		Broadcast:   bc,
		Files:       files,
		FAQ:         faq.NewStore(d.DB),
		Matcher:     live,
		Calendar:    cal,
	})
	handler := ui.Handler()
	var chat *webchat.Service
	if a.cfg.Webchat { // the web chat: its own routes beside the UI's, on the same listener
		chat = webchat.New(d.DB, bot.NewEngine(live, bot.Config{PrivacyURL: webPrivacyURL, Location: a.cfg.Timezone,
			Handoff: handoff, Instance: inst.ID, DB: d.DB}, log.With("component", "webchat")), webchat.Config{
			Origins: a.cfg.WebchatOrigins, PublicURL: a.cfg.PublicURL, PrivacyURL: a.cfg.PrivacyURL, Title: a.cfg.CityName, TrustedProxies: a.cfg.TrustedProxies,
			DatabaseURL: d.URL, Instance: inst.ID, Logger: log.With("component", "webchat"), ProofOfWork: 14,
			RetentionDays: cases.GlobalRetentionDays})
		mux := http.NewServeMux()
		for _, p := range webchat.Paths {
			mux.Handle(p, chat.Handler())
		}
		mux.Handle("/", handler)
		handler = mux
	}
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		// Past the request deadline, plus room to write the error page;
		// the live-update stream renews it (admin.Server.events).
		WriteTimeout: a.cfg.RequestTimeout + 10*time.Second,
		IdleTimeout:  2 * time.Minute,
	}

	g, gctx := errgroup.WithContext(ctx)
	if a.cfg.DebugAddr != "" {
		if err := serveDebug(gctx, g, a.cfg.DebugAddr, log); err != nil {
			ln.Close()
			return err
		}
	}
	if a.cfg.MetricsAddr != "off" {
		// /metrics has its own listener (loopback by default), not the UI's port.
		mln, err := net.Listen("tcp", a.cfg.MetricsAddr)
		if err != nil {
			ln.Close()
			return fmt.Errorf("CITYBOT_METRICS_ADDR %s: %w", a.cfg.MetricsAddr, err)
		}
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", ui.MetricsHandler())
		msrv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		g.Go(func() error {
			if err := msrv.Serve(mln); !errors.Is(err, http.ErrServerClosed) {
				return fmt.Errorf("metrics server: %w", err)
			}
			return nil
		})
		g.Go(func() error {
			<-gctx.Done()
			return msrv.Close()
		})
		log.Info("metrics at http://"+mln.Addr().String()+"/metrics", "addr", mln.Addr().String())
	}
	g.Go(func() error {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("http server: %w", err)
		}
		return nil
	})
	g.Go(func() error {
		<-gctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return srv.Shutdown(sctx)
	})
	g.Go(func() error { inst.Run(gctx); return nil })
	g.Go(func() error { return live.Run(gctx, d.URL) })
	g.Go(func() error { return router.Run(gctx) })
	g.Go(func() error { return ui.Run(gctx) })
	g.Go(func() error {
		return cases.RetentionLoop(gctx, time.Hour, log.With("component", "retention"))
	})
	if tg != nil {
		g.Go(func() error { return tg.Run(gctx) })
	}
	g.Go(func() error { return bc.Run(gctx) })
	if chat != nil {
		g.Go(func() error { return chat.Run(gctx) })
	}
	g.Go(func() error { return purgeLoop(gctx, faq.NewStore(d.DB), log.With("component", "retention")) })
	g.Go(func() error { return sweepLinkCodes(gctx, fieldstaff.New(d.DB), log.With("component", "fieldstaff")) })
	if tg != nil { // alerts are sent by the bot's delivery
		g.Go(func() error {
			return alertLoop(gctx, fieldstaff.New(d.DB), a.cfg.AlertInterval, fieldstaff.AlertConfig{PublicURL: a.cfg.PublicURL, Calendar: cal,
				DigestInterval: a.cfg.AlertDigestInterval},
				log.With("component", "fieldstaff"))
		})
	}

	url := "http://" + ln.Addr().String()
	if a.cfg.PublicURL != "" {
		url = a.cfg.PublicURL
	}
	switch {
	case credFile != "":
		log.Info("web UI ready: log in at "+url+"/login with "+a.demoUsers()[0].email+"; the demo passwords are in "+credFile, "url", url)
	default:
		log.Info("web UI ready at "+url+"/login (create logins with 'citybot user add')", "url", url)
	}
	if chat != nil {
		origins := "none besides citybot's own (CITYBOT_WEBCHAT_ORIGINS)"
		if len(a.cfg.WebchatOrigins) > 0 {
			origins = strings.Join(a.cfg.WebchatOrigins, ", ")
		}
		log.Info("web chat ready at "+url+"/chat; embed <script src=\""+url+"/widget.js\" defer></script>; pages that may embed it: "+origins, "url", url+"/chat")
	}
	err = g.Wait()
	log.Info("stopped")
	return err
}

// serveDebug serves Go's profiler (net/http/pprof) on addr until ctx ends.
func serveDebug(ctx context.Context, g *errgroup.Group, addr string, log *slog.Logger) error {
	dl, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("CITYBOT_DEBUG_ADDR %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	g.Go(func() error {
		if err := srv.Serve(dl); !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("debug server: %w", err)
		}
		return nil
	})
	g.Go(func() error {
		<-ctx.Done()
		return srv.Close()
	})
	log.Info("profiler at http://"+dl.Addr().String()+"/debug/pprof/", "debug_addr", dl.Addr().String())
	return nil
}

func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// purgeLoop deletes unanswered questions older than their retention, hourly.
// Several instances may run it: the delete is idempotent.
func purgeLoop(ctx context.Context, st *faq.Store, log *slog.Logger) error {
	jobs.Every(ctx, "purge unanswered questions", time.Hour, log, func(ctx context.Context) error {
		n, err := st.PurgeUnanswered(ctx, time.Now())
		if n > 0 {
			log.Info("purged unanswered questions", "count", n)
		}
		return err
	})
	return nil
}

// sweepLinkCodes deletes expired Telegram link codes of staff, hourly.
// Several instances may run it: the delete is idempotent.
func sweepLinkCodes(ctx context.Context, st *fieldstaff.Store, log *slog.Logger) error {
	jobs.Every(ctx, "sweep staff link codes", time.Hour, log, func(ctx context.Context) error {
		n, err := st.Sweep(ctx)
		if n > 0 {
			log.Info("swept staff link codes", "count", n)
		}
		return err
	})
	return nil
}

// alertLoop queues the alerts of new cases for linked staff chats every
// interval. Several instances may run it: a run takes an advisory lock and
// records each alert once.
func alertLoop(ctx context.Context, st *fieldstaff.Store, every time.Duration, cfg fieldstaff.AlertConfig, log *slog.Logger) error {
	jobs.Job{Name: "staff case alerts", Interval: every, Jitter: every / 10, Log: log, Func: func(ctx context.Context) error {
		n, err := st.RunAlerts(ctx, cfg)
		if n > 0 {
			log.Info("queued case alerts", "count", n)
		}
		return err
	}}.Loop(ctx)
	return nil
}

// oidcConfig is the identity provider sign-in of the configuration.
func oidcConfig(c config.Config) admin.OIDCConfig {
	o := admin.OIDCConfig{Issuer: c.OIDCIssuer, ClientID: c.OIDCClientID, ClientSecret: c.OIDCClientSecret,
		GroupClaim: c.OIDCGroupClaim, Name: c.OIDCName}
	for _, g := range c.OIDCGroups {
		o.Groups = append(o.Groups, admin.OIDCGroup{Group: g.Group, Role: g.Role, Departments: g.Departments})
	}
	return o
}

// localBaseURL is citybot's base URL: the public URL, else http:// and the
// listen address (a host-less address as 127.0.0.1).
func localBaseURL(public, addr string) string {
	if public != "" {
		return strings.TrimRight(public, "/")
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "http://" + addr
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port)
}
