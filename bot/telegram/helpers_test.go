package telegram

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"citybot/bot"
	"citybot/faq"
	"citybot/internal/dbtest"
	"citybot/internal/demodata"
	"citybot/internal/german"
	"citybot/internal/tgfake"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

var (
	demoOnce    sync.Once
	demoMatcher *bot.IndexMatcher
	demoErr     error
)

// matcher is the demo FAQ's matcher, built once per test binary.
func matcher(t testing.TB) *bot.IndexMatcher {
	t.Helper()
	demoOnce.Do(func() {
		data, err := demodata.FS.ReadFile("faq.json")
		if err != nil {
			demoErr = err
			return
		}
		var entries []faq.Entry
		if err := json.Unmarshal(data, &entries); err != nil {
			demoErr = err
			return
		}
		demoMatcher = bot.NewIndexMatcher(entries, german.DefaultSynonyms())
	})
	if demoErr != nil {
		t.Fatal(demoErr)
	}
	return demoMatcher
}

// devQuestion returns the first dev question for which the matcher decides
// d (and, when expect is set, whose expectation starts with it).
func devQuestion(t testing.TB, m bot.Matcher, d faq.Decision, expect string) string {
	t.Helper()
	qs, err := faq.LoadQuestionsFS(demodata.FS)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range qs {
		if m.Match(q.Q).Decision == d && strings.HasPrefix(q.Expect, expect) {
			return q.Q
		}
	}
	t.Skipf("no dev question with decision %s", d)
	return ""
}

type env struct {
	t    testing.TB
	db   *sqlx.DB
	url  string
	fake *tgfake.Server
	m    bot.Matcher
}

func newEnv(t testing.TB, opts ...tgfake.Option) *env {
	t.Helper()
	d, url := dbtest.NewWithURL(t)
	fake := tgfake.New(t, append([]tgfake.Option{tgfake.WithPollCap(200 * time.Millisecond)}, opts...)...)
	return &env{t: t, db: d, url: url, fake: fake, m: matcher(t)}
}

func (e *env) config(mut ...func(*Config)) Config {
	c := Config{
		Token:        e.fake.Token(),
		APIURL:       e.fake.URL(),
		Workers:      4,
		Senders:      4,
		PollTimeout:  time.Second,
		LeaderRetry:  100 * time.Millisecond,
		IdleInterval: 50 * time.Millisecond,
		HTTPClient:   e.fake.HTTPClient(),
		PrivacyURL:   "https://example.org/datenschutz",
	}
	for _, f := range mut {
		f(&c)
	}
	return c
}

func testLogger(t testing.TB) *slog.Logger {
	if os.Getenv("CITYBOT_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// running is a started Service.
type running struct {
	*Service
	stop func()
}

// start runs a Service until the test ends (or stop is called).
func (e *env) start(cfg Config) *running {
	e.t.Helper()
	return e.startWith(e.m, cfg)
}

func (e *env) startWith(m bot.Matcher, cfg Config) *running {
	e.t.Helper()
	s, err := NewService(e.db, m, testLogger(e.t), cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					e.t.Errorf("Run: %v", err)
				}
			case <-time.After(20 * time.Second):
				e.t.Errorf("Run did not return after cancel")
			}
		})
	}
	e.t.Cleanup(stop)
	return &running{Service: s, stop: stop}
}

// waitSentTo waits until chat got n messages and returns them.
func (e *env) waitSentTo(chat int64, n int) []tgfake.SentMessage {
	e.t.Helper()
	return e.fake.WaitSentTo(e.t, chat, n, 20*time.Second)
}

// settle waits a little and asserts that chat got exactly n messages.
func (e *env) expectExactly(chat int64, n int) []tgfake.SentMessage {
	e.t.Helper()
	e.waitSentTo(chat, n)
	time.Sleep(300 * time.Millisecond)
	got := e.fake.SentTo(chat)
	if len(got) != n {
		var texts []string
		for _, m := range got {
			texts = append(texts, m.PlainText)
		}
		e.t.Fatalf("chat %d: got %d messages, want exactly %d: %q", chat, len(got), n, texts)
	}
	return got
}

func (e *env) count(query string, args ...any) int {
	e.t.Helper()
	var n int
	if err := e.db.Get(&n, query, args...); err != nil {
		e.t.Fatalf("%s: %v", query, err)
	}
	return n
}

// waitFor polls cond until it holds.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

var _ = fmt.Sprint
