package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"citybot/internal/db"
	"citybot/internal/tgfake"
	"citybot/staff"
)

// TestDatabaseRestart stops PostgreSQL for 10 s under load (citizens keep
// writing) and starts it again, with the real binary in long polling and in
// webhook mode: the process keeps running (no crash, no restart), /readyz
// says 503 while the database is gone and 200 again within 5 s after it is
// back, the web UI answers with an error page and does not hang, and
// answers resume by themselves: every citizen message is stored once and
// answered once.
func TestDatabaseRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildCitybot(t)
	for _, mode := range []string{"polling", "webhook"} {
		t.Run(mode, func(t *testing.T) { testDatabaseRestart(t, bin, mode) })
	}
}

func testDatabaseRestart(t *testing.T, bin, mode string) {
	webhook := mode == "webhook"
	ctx := context.Background()
	pgDir := filepath.Join(t.TempDir(), "pg")
	if os.Geteuid() == 0 {
		// Where the postgres OS user can reach it.
		pgDir = filepath.Join(db.SystemClusterRoot, fmt.Sprintf("test-restart-%d-%s", os.Getpid(), mode))
	}
	opts := db.LocalOptions{Dir: pgDir, Fast: true}
	local, err := db.StartLocal(ctx, opts)
	must(t, err)
	t.Cleanup(func() {
		_ = local.Stop()
		os.RemoveAll(pgDir)
	})
	d, err := db.Open(ctx, local.URL("citybot"))
	must(t, err)
	t.Cleanup(func() { d.Close() })

	fake := tgfake.New(t, tgfake.WithPollCap(500*time.Millisecond))
	log := &procLog{}
	showLogOnFailure(t, log)
	addr := freeAddr(t)
	const secret = "restartsecret"
	env := []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"),
		"DATABASE_URL=" + local.URL("citybot"),
		"CITYBOT_DATA_DIR=" + t.TempDir(),
		"CITYBOT_TELEGRAM_TOKEN=" + fake.Token(),
		"CITYBOT_TELEGRAM_API_URL=" + fake.URL(),
		"CITYBOT_HTTP_ADDR=" + addr,
		"CITYBOT_LOG_FORMAT=json",
	}
	if webhook {
		env = append(env, "CITYBOT_PUBLIC_URL=http://"+addr, "CITYBOT_TELEGRAM_WEBHOOK_SECRET="+secret, "CITYBOT_COOKIE_SECURE=false")
	}
	p := startCitybot(t, bin, env, log, "citybot")
	qs := crashQuestions(t, d)
	_, err = staff.CreateUser(ctx, d, "staff@example.org", "Staff", password, staff.RoleAdmin, nil)
	must(t, err)
	web := loginClient(t, p.url, "staff@example.org")
	if code, _ := web.get("/inbox"); code != 200 {
		t.Fatalf("inbox before the restart: %d", code)
	}

	// Citizens write throughout: 50 messages/s from 200 chats (each chat
	// about one message in 4 s, well below the flood limit).
	const chats, chat0 = 200, 30000
	var mu sync.Mutex
	want := map[int64]int{}
	var bt *benchTarget
	if webhook {
		bt = newRetryingWebhook(t, fake, p.url+"/telegram/webhook", secret)
	} else {
		bt = &benchTarget{fake: fake, push: func(chat int64, text string) { fake.PushText(chat, text) }, stop: func() {}}
	}
	stopLoad := make(chan struct{})
	loadDone := make(chan struct{})
	go func() {
		defer close(loadDone)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-stopLoad:
				return
			case <-tick.C:
			}
			chat := int64(chat0 + i%chats)
			mu.Lock()
			want[chat]++
			mu.Unlock()
			bt.push(chat, qs[i%len(qs)].text)
		}
	}()

	time.Sleep(3 * time.Second)
	log.mark("stopping PostgreSQL")
	must(t, local.Stop())
	stopped := time.Now()
	// While it is gone: /readyz says so promptly, the web UI shows an
	// error page promptly, the process keeps running.
	sawNotReady := false
	for time.Since(stopped) < 10*time.Second {
		start := time.Now()
		code, _ := httpGet(t, p.url+"/readyz")
		if took := time.Since(start); took > 3*time.Second {
			t.Errorf("/readyz took %v with the database gone", took)
		}
		if code == http.StatusServiceUnavailable {
			sawNotReady = true
		} else if time.Since(stopped) > 3*time.Second {
			t.Errorf("/readyz said %d %v after the database stopped", code, time.Since(stopped).Round(time.Millisecond))
		}
		time.Sleep(250 * time.Millisecond)
	}
	if !sawNotReady {
		t.Error("/readyz never said 503 while the database was gone")
	}
	start := time.Now()
	code, body := web.get("/inbox")
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("the inbox took %v with the database gone", took)
	}
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "nicht erreichbar") {
		t.Errorf("inbox with the database gone: %d, want 503 with an error page\n%.500s", code, body)
	}
	select {
	case <-p.done:
		t.Fatalf("citybot exited while the database was gone: %v", p.err)
	default:
	}

	log.mark("starting PostgreSQL")
	local, err = db.StartLocal(ctx, opts)
	must(t, err)
	back := time.Now()
	waitFor(t, "/readyz to say ready again", 5*time.Second, func() bool {
		code, _ := httpGet(t, p.url+"/readyz")
		return code == http.StatusOK
	})
	t.Logf("ready again %v after the database came back", time.Since(back).Round(time.Millisecond))
	waitFor(t, "the inbox again", 5*time.Second, func() bool {
		code, _ := web.get("/inbox")
		return code == http.StatusOK
	})

	time.Sleep(3 * time.Second) // citizens keep writing after the restart
	close(stopLoad)
	<-loadDone
	bt.stop()
	total := 0
	for _, n := range want {
		total += n
	}
	waitFor(t, "every message answered", 60*time.Second, func() bool { return fake.SentCount() >= total })
	waitFor(t, "the queues to drain", 20*time.Second, func() bool {
		return count(t, d, `SELECT count(*) FROM telegram_updates WHERE status IN ('pending', 'processing')`) == 0 &&
			count(t, d, `SELECT count(*) FROM outbox WHERE status IN ('pending', 'sending')`) == 0
	})
	time.Sleep(500 * time.Millisecond)
	select {
	case <-p.done:
		t.Fatalf("citybot exited: %v", p.err)
	default:
	}
	extra := 0
	for chat, n := range want {
		if got := len(fake.SentTo(chat)); got != n {
			t.Errorf("chat %d: %d answers to %d messages", chat, got, n)
			extra += got - n
		}
	}
	if n := count(t, d, `SELECT count(*) FROM telegram_updates`); n != total {
		t.Errorf("%d updates stored, want %d", n, total)
	}
	if n := count(t, d, `SELECT count(*) FROM messages WHERE direction = 'in'`); n != total {
		t.Errorf("%d inbound messages, want %d", n, total)
	}
	t.Logf("%d messages from %d chats over a database restart: all answered, %d extra answers", total, chats, extra)
}

// newRetryingWebhook is a webhook target that repeats an update until the
// webhook answers 200, as Telegram does.
func newRetryingWebhook(t testing.TB, fake *tgfake.Server, webhookURL, secret string) *benchTarget {
	var wg sync.WaitGroup
	stop := make(chan struct{})
	conns := make([]chan any, 40)
	for i := range conns {
		conns[i] = make(chan any, 4096)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for u := range conns[i] {
				for {
					if status, err := fake.DeliverWebhook(webhookURL, secret, u); err == nil && status == 200 {
						break
					}
					select {
					case <-stop:
						return
					case <-time.After(200 * time.Millisecond):
					}
				}
			}
		}()
	}
	return &benchTarget{
		fake: fake,
		push: func(chat int64, text string) { conns[chat%40] <- fake.TextUpdate(chat, text) },
		stop: func() {
			for _, c := range conns {
				close(c)
			}
			done := make(chan struct{})
			go func() { wg.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(60 * time.Second):
				t.Error("updates not taken by the webhook within 60 s")
				close(stop)
				<-done
			}
		},
	}
}

func httpGet(t testing.TB, u string) (int, string) {
	c := &http.Client{Timeout: 20 * time.Second}
	r, err := c.Get(u)
	if err != nil {
		return 0, err.Error()
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	return r.StatusCode, string(b)
}

// webClient is a logged-in browser without a browser.
type webClient struct {
	base string
	hc   *http.Client
}

func (w *webClient) get(path string) (int, string) {
	r, err := w.hc.Get(w.base + path)
	if err != nil {
		return 0, err.Error()
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	return r.StatusCode, string(b)
}

func loginClient(t testing.TB, base, email string) *webClient {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	w := &webClient{base: base, hc: &http.Client{Jar: jar, Timeout: 40 * time.Second}}
	_, page := w.get("/login")
	m := csrfRe.FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no CSRF token on /login")
	}
	r, err := w.hc.PostForm(base+"/login", url.Values{"email": {email}, "password": {password}, "csrf_token": {m[1]}})
	must(t, err)
	r.Body.Close()
	return w
}
