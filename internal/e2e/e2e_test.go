package e2e

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/jmoiron/sqlx"
	"github.com/prometheus/client_golang/prometheus"

	"citybot/admin"
	"citybot/bot"
	"citybot/bot/telegram"
	"citybot/faq"
	"citybot/internal/browsertest"
	"citybot/internal/dbtest"
	"citybot/internal/demodata"
	"citybot/internal/tgfake"
	"citybot/routing"
	"citybot/staff"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

const password = "correct horse battery"

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func logger(t testing.TB) *slog.Logger {
	if os.Getenv("CITYBOT_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// stack is the whole service as cmd/citybot wires it: the demo city's FAQ,
// departments and office hours, the Telegram bot (against the fake Bot API)
// handing off to routing, and the admin web UI with the media proxy.
type stack struct {
	t     *testing.T
	db    *sqlx.DB
	fake  *tgfake.Server
	tg    *telegram.Service
	cases *routing.Cases
	url   string // the admin UI
}

func newStack(t *testing.T) *stack {
	t.Helper()
	ctx := context.Background()
	d, dbURL := dbtest.NewWithURL(t)
	log := logger(t)

	ds, err := faq.ReadDatasetFS(demodata.FS)
	must(t, err)
	_, err = faq.NewStore(d).Import(ctx, ds)
	must(t, err)
	must(t, routing.ApplyDemoOfficeHours(ctx, d))
	live := faq.NewLive(faq.NewStore(d), log)
	must(t, live.Reload(ctx))
	router, err := routing.NewLiveRouter(ctx, d, bot.RoutingFAQ(faq.NewStore(d)))
	must(t, err)
	cal, err := routing.NewCalendar("NW")
	must(t, err)
	cases := routing.NewCases(d, routing.CasesOptions{})

	fake := tgfake.New(t, tgfake.WithPollCap(200*time.Millisecond))
	tg, err := telegram.NewService(d, live, log, telegram.Config{
		Token:        fake.Token(),
		APIURL:       fake.URL(),
		HTTPClient:   fake.HTTPClient(),
		Workers:      4,
		Senders:      4,
		PollTimeout:  time.Second,
		LeaderRetry:  100 * time.Millisecond,
		IdleInterval: 50 * time.Millisecond,
		Handoff:      bot.NewRoutingHandoff(routing.NewHandoff(cases, cal, router, routing.HandoffOptions{}), cases, routing.NewStore(d)),
	})
	must(t, err)

	ui := admin.New(admin.Config{BaseURL: "http://example.test"}, admin.Deps{
		DB:          d,
		Logger:      log,
		DatabaseURL: dbURL,
		Gatherer:    prometheus.NewRegistry(),
		Cases:       cases,
		Files:       tg,
		FAQ:         faq.NewStore(d),
	})
	ts := httptest.NewServer(ui.Handler())

	runCtx, cancel := context.WithCancel(context.Background())
	tgDone, uiDone := make(chan error, 1), make(chan error, 1)
	go func() { tgDone <- tg.Run(runCtx) }()
	go func() { uiDone <- ui.Run(runCtx) }()
	t.Cleanup(func() {
		cancel()
		for name, c := range map[string]chan error{"bot": tgDone, "ui": uiDone} {
			select {
			case err := <-c:
				if err != nil && runCtx.Err() == nil {
					t.Errorf("%s: %v", name, err)
				}
			case <-time.After(20 * time.Second):
				t.Errorf("%s did not stop", name)
			}
		}
		ts.Close()
	})
	return &stack{t: t, db: d, fake: fake, tg: tg, cases: cases, url: ts.URL}
}

func (s *stack) user(email string, depts ...string) {
	s.t.Helper()
	_, err := staff.CreateUser(context.Background(), s.db, email, strings.Split(email, "@")[0], password, staff.RoleStaff, depts)
	must(s.t, err)
}

// waitSent waits until the citizen's chat got n messages.
func (s *stack) waitSent(chat int64, n int) []tgfake.SentMessage {
	s.t.Helper()
	return s.fake.WaitSentTo(s.t, chat, n, 30*time.Second)
}

var csrfRe = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// inboxAs logs in with a plain HTTP client and returns the inbox page.
func (s *stack) inboxAs(email string) string {
	s.t.Helper()
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar}
	get := func(path string) string {
		r, err := hc.Get(s.url + path)
		must(s.t, err)
		defer r.Body.Close()
		b, _ := io.ReadAll(r.Body)
		return string(b)
	}
	m := csrfRe.FindStringSubmatch(get("/login"))
	if m == nil {
		s.t.Fatal("no CSRF token on /login")
	}
	r, err := hc.PostForm(s.url+"/login", url.Values{"email": {email}, "password": {password}, "csrf_token": {m[1]}})
	must(s.t, err)
	r.Body.Close()
	return get("/inbox")
}

// TestCitizenToStaffAndBack: a citizen's question the FAQ cannot answer
// becomes a case in the Bauamt's inbox, which a Bauamt staff member sees
// appear live in a real browser; the citizen's photo shows in the case
// (through the media proxy, from the fake Telegram server); the reply written
// in the browser reaches the citizen through the fake Telegram server; a
// transfer moves the case to the Ordnungsamt's inbox and out of the Bauamt's.
func TestCitizenToStaffAndBack(t *testing.T) {
	s := newStack(t)
	s.user("bau@musterstadt.de", "bauamt")
	s.user("ordnung@musterstadt.de", "ordnungsamt")
	b := browsertest.Start(t, browsertest.WithTimeout(150*time.Second))
	const step = 20 * time.Second
	const chat = 424242

	// Staff logs in and waits on the live inbox.
	b.Do(step,
		chromedp.Navigate(s.url+"/inbox"),
		chromedp.WaitVisible("#email"),
		chromedp.SendKeys("#email", "bau@musterstadt.de"),
		chromedp.SendKeys("#password", password),
		chromedp.Submit("#password"),
		chromedp.WaitVisible("#caselist"),
		browsertest.Until(`document.body.getAttribute("data-live") === "on"`),
		browsertest.Eval(`window.__noReload = 1`),
	)

	// The citizen asks; the FAQ has no answer; routing picks the Bauamt.
	question := "Wo bleibt mein Bauantrag, Aktenzeichen 2024-113?"
	// The bot asks first, proposing the Bauamt; the citizen confirms.
	s.fake.PushText(chat, question)
	ask := s.waitSent(chat, 1)[0]
	if !strings.Contains(ask.PlainText, "Mein Vorschlag: Bauamt.") || ask.ReplyMarkup == nil {
		t.Fatalf("confirmation = %q", ask.PlainText)
	}
	s.fake.PushCallback(chat, ask.MessageID, ask.ReplyMarkup.CallbackData()[0])
	handoff := s.waitSent(chat, 2)[1]
	if !strings.HasPrefix(handoff.PlainText, "Ihre Anfrage liegt jetzt beim Bauamt.") {
		t.Fatalf("handoff message = %q", handoff.PlainText)
	}
	var caseID int64
	must(t, s.db.Get(&caseID, `SELECT id FROM cases WHERE department_id = 'bauamt'`))

	// It appears in the open inbox without a reload.
	row := fmt.Sprintf(`tr[data-case="%d"]`, caseID)
	b.Do(step, chromedp.WaitVisible(row))
	if v, _ := chromedp.Run(b.Context(), chromedp.Evaluate[int](`window.__noReload || 0`)); v != 1 {
		t.Fatal("the inbox was reloaded")
	}
	if txt, _ := chromedp.Run(b.Context(), chromedp.Text(row)); !strings.Contains(txt, "Aktenzeichen 2024-113") {
		t.Errorf("inbox row = %q", txt)
	}

	// Open the case; the citizen sends a photo, which appears live and loads
	// through the proxy.
	b.Do(step,
		chromedp.Click(row+" td a"),
		chromedp.WaitVisible("#reply"),
		browsertest.Until(`document.body.getAttribute("data-live") === "on"`),
	)
	if txt, _ := chromedp.Run(b.Context(), chromedp.Text("#transcript")); !strings.Contains(txt, question) || !strings.Contains(txt, "beim Bauamt") {
		t.Errorf("transcript = %q", txt)
	}
	s.fake.PushPhoto(chat, "So sieht es aus")
	ack := s.waitSent(chat, 3)[2]
	if !strings.Contains(ack.PlainText, "Foto") {
		t.Errorf("photo acknowledgement = %q", ack.PlainText)
	}
	b.Do(step,
		browsertest.Until(`!!document.querySelector(".transcript img")`),
		browsertest.Eval(`document.querySelector(".transcript img").scrollIntoView()`),
		browsertest.Until(`(function(){var i=document.querySelector(".transcript img");return i.complete && i.naturalWidth > 0})()`),
	)

	// Reply in the browser; the citizen receives it.
	reply := "Ihr Bauantrag ist vollständig und in Prüfung. Sie hören bis Freitag von uns."
	b.Do(step,
		chromedp.SendKeys("#reply", reply),
		chromedp.Click(`form[action$="/reply"] button[type=submit]`),
		chromedp.WaitVisible(".notice"),
	)
	got := s.waitSent(chat, 4)[3]
	if got.PlainText != "Bauamt / Bauaufsicht\n"+reply { // below the department's name
		t.Errorf("citizen got %q", got.PlainText)
	}
	// The transcript shows it delivered.
	deadline := time.Now().Add(step)
	for {
		b.Do(step, chromedp.Reload(), chromedp.WaitVisible("#transcript"))
		txt, _ := chromedp.Run(b.Context(), chromedp.Text("#transcript"))
		if strings.Contains(txt, reply) && strings.Contains(txt, "zugestellt") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("reply not shown as delivered: %q", txt)
		}
		time.Sleep(200 * time.Millisecond)
	}

	// Transfer to the Ordnungsamt: gone from the Bauamt inbox, in the
	// Ordnungsamt's.
	b.Do(step,
		browsertest.Eval(`document.querySelector("#h-transfer").closest("details").open = true`),
		chromedp.SetValue("#department", "ordnungsamt"),
		chromedp.SendKeys("#transfer-note", "Betrifft eher eine Ordnungswidrigkeit"),
		chromedp.Click(`form[action$="/transfer"] button[type=submit]`),
		chromedp.WaitVisible("#caselist"),
		chromedp.WaitNotPresent(row),
	)
	if page := s.inboxAs("ordnung@musterstadt.de"); !strings.Contains(page, fmt.Sprintf(`data-case="%d"`, caseID)) {
		t.Errorf("case %d not in the Ordnungsamt inbox", caseID)
	}
	if page := s.inboxAs("bau@musterstadt.de"); strings.Contains(page, fmt.Sprintf(`data-case="%d"`, caseID)) {
		t.Errorf("case %d still in the Bauamt inbox", caseID)
	}

	// The citizen's next addition goes to the case, now at the Ordnungsamt.
	const addition = "Die Bauvorlagen habe ich am Montag eingereicht."
	s.fake.PushText(chat, addition)
	deadline = time.Now().Add(step)
	for {
		var n int
		must(t, s.db.Get(&n, `SELECT count(*) FROM case_messages cm JOIN messages m ON m.id = cm.message_id
			JOIN cases c ON c.id = cm.case_id WHERE c.id = $1 AND c.department_id = 'ordnungsamt' AND m.text = $2`, caseID, addition))
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the citizen's message did not reach the transferred case")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if ex := b.Exceptions(); len(ex) > 0 {
		t.Errorf("page exceptions: %v", ex)
	}
}
