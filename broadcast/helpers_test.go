package broadcast_test

import (
	"context"
	"errors"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	tgbot "github.com/go-telegram/bot"
	"github.com/jmoiron/sqlx"

	"citybot/bot/telegram"
	"citybot/broadcast"
	"citybot/internal/dbtest"
	"citybot/internal/tgfake"
	"citybot/staff"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// env is a test database, a fake Telegram server and a sender through the
// real library.
type env struct {
	t      testing.TB
	db     *sqlx.DB
	fake   *tgfake.Server
	sender broadcast.Sender
}

func newEnv(t testing.TB) *env {
	t.Helper()
	d := dbtest.New(t)
	fake := tgfake.New(t)
	// The tests' feed servers are on loopback: allow it by name, as an
	// admin would allow an intranet host (feedguard.go).
	allowLoopbackFeeds(t, d)
	return &env{t: t, db: d, fake: fake, sender: newSender(t, fake)}
}

func newSender(t testing.TB, fake *tgfake.Server) broadcast.Sender {
	t.Helper()
	b, err := tgbot.New(fake.Token(),
		tgbot.WithServerURL(fake.URL()),
		tgbot.WithSkipGetMe(),
		tgbot.WithHTTPClient(time.Minute, fake.HTTPClient()),
	)
	if err != nil {
		t.Fatal(err)
	}
	return telegram.NewBroadcastSender(b)
}

// service returns a Service with fast test timings; change cfg with mod.
func (e *env) service(mod func(*broadcast.Config)) *broadcast.Service {
	cfg := broadcast.Config{
		Rate:             200,
		PollInterval:     50 * time.Millisecond,
		FeedPollInterval: 50 * time.Millisecond,
		Lease:            3 * time.Second,
	}
	if mod != nil {
		mod(&cfg)
	}
	return broadcast.New(e.db, e.sender, cfg)
}

// run runs s until the returned stop is called (or the test ends).
func run(t testing.TB, s *broadcast.Service) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	var stopped atomic.Bool
	stop = func() {
		if stopped.Swap(true) {
			return
		}
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Errorf("Run did not return within 30s of cancel")
		}
	}
	t.Cleanup(stop)
	return stop
}

// citizens creates n Telegram citizens; chat ids are 10001, 10002, ...
func (e *env) citizens(n int) []int64 {
	e.t.Helper()
	var ids []int64
	err := e.db.Select(&ids, `
		INSERT INTO citizens (channel, external_id)
		SELECT 'telegram', (10000 + g)::text FROM generate_series(1, $1) g
		RETURNING id`, n)
	if err != nil {
		e.t.Fatal(err)
	}
	return ids
}

func (e *env) chatOf(citizenID int64) int64 {
	e.t.Helper()
	var ext string
	if err := e.db.Get(&ext, `SELECT external_id FROM citizens WHERE id = $1`, citizenID); err != nil {
		e.t.Fatal(err)
	}
	id, _ := strconv.ParseInt(ext, 10, 64)
	return id
}

func (e *env) topic(s *broadcast.Service, slug string) broadcast.Topic {
	e.t.Helper()
	tp, err := s.CreateTopic(context.Background(), staff.Principal{}, broadcast.TopicInput{Slug: slug, NameDE: "Thema " + slug, Active: true})
	if err != nil {
		e.t.Fatal(err)
	}
	return tp
}

// subscribeAll subscribes the citizens to the topic in one statement.
func (e *env) subscribeAll(ids []int64, topicID int64) {
	e.t.Helper()
	if _, err := e.db.Exec(`INSERT INTO subscriptions (citizen_id, topic_id) SELECT unnest($1::bigint[]), $2`,
		int64Array(ids), topicID); err != nil {
		e.t.Fatal(err)
	}
}

func int64Array(ids []int64) string {
	b := []byte("{")
	for i, id := range ids {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, id, 10)
	}
	return string(append(b, '}'))
}

// post creates a post for the topic and releases it at sendAt (zero: now).
func (e *env) post(s *broadcast.Service, in broadcast.PostInput, sendAt time.Time) broadcast.Post {
	e.t.Helper()
	ctx := context.Background()
	p, err := s.CreatePost(ctx, staff.Principal{}, in)
	if err != nil {
		e.t.Fatal(err)
	}
	if p, err = s.SchedulePost(ctx, staff.Principal{}, p.ID, sendAt); err != nil {
		e.t.Fatal(err)
	}
	return p
}

// perChat counts the messages the fake server recorded per chat.
func perChat(fake *tgfake.Server) map[int64]int {
	m := map[int64]int{}
	for _, s := range fake.Sent() {
		m[s.ChatID]++
	}
	return m
}

// exactlyOnce checks that every chat of ids got exactly want messages.
func (e *env) exactlyOnce(ids []int64, want int) {
	e.t.Helper()
	counts := perChat(e.fake)
	bad := 0
	for _, id := range ids {
		c := e.chatOf(id)
		if counts[c] != want {
			bad++
			if bad <= 5 {
				e.t.Errorf("chat %d got %d messages, want %d", c, counts[c], want)
			}
		}
	}
	if bad > 0 {
		e.t.Errorf("%d of %d chats did not get exactly %d message(s)", bad, len(ids), want)
	}
}

// waitStatus waits until the post has the status.
func waitStatus(t testing.TB, s *broadcast.Service, id int64, status string, timeout time.Duration) broadcast.Post {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		p, err := s.Post(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if p.Status == status {
			return p
		}
		if time.Now().After(deadline) {
			pr, _ := s.Progress(context.Background(), id)
			t.Fatalf("post %d is %s after %v, want %s (progress %+v)", id, p.Status, timeout, status, pr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func mustErrIs(t testing.TB, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("err = %v, want %v", err, target)
	}
}

func allowLoopbackFeeds(t testing.TB, d *sqlx.DB) {
	t.Helper()
	if _, err := d.Exec(`INSERT INTO settings (key, value) VALUES ($1, '["127.0.0.1"]')`, broadcast.SettingFeedInternalHosts); err != nil {
		t.Fatal(err)
	}
}
