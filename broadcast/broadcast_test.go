package broadcast_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"citybot/broadcast"
	"citybot/internal/db"
	"citybot/internal/tgfake"
	"citybot/staff"
)

func TestSubscriptions(t *testing.T) {
	e := newEnv(t)
	s := e.service(nil)
	ctx := context.Background()
	news := e.topic(s, "aktuelles")
	roads, err := s.CreateTopic(ctx, staff.Principal{}, broadcast.TopicInput{Slug: "Baustellen", NameDE: "Baustellen & Verkehr", NameEN: "Roadworks", Active: true, Sort: -1})
	if err != nil {
		t.Fatal(err)
	}
	if roads.Slug != "baustellen" {
		t.Errorf("slug = %q, want lower case", roads.Slug)
	}
	if _, err := s.CreateTopic(ctx, staff.Principal{}, broadcast.TopicInput{Slug: "baustellen", NameDE: "x"}); err == nil {
		t.Error("duplicate slug accepted")
	}
	hidden, err := s.CreateTopic(ctx, staff.Principal{}, broadcast.TopicInput{Slug: "intern", NameDE: "Intern", Active: false})
	if err != nil {
		t.Fatal(err)
	}
	c := e.citizens(2)
	me := c[0]

	choices, err := s.Topics(ctx, me)
	if err != nil {
		t.Fatal(err)
	}
	if len(choices) != 2 || choices[0].ID != roads.ID || choices[0].Subscribed || choices[0].Name("en") != "Roadworks" {
		t.Fatalf("Topics = %+v", choices)
	}

	on, err := s.Toggle(ctx, me, news.ID)
	if err != nil || !on {
		t.Fatalf("Toggle = %v, %v; want subscribed", on, err)
	}
	tp, err := s.SubscribeByDeepLink(ctx, me, broadcast.DeepLinkPayload("baustellen"))
	if err != nil || tp.ID != roads.ID {
		t.Fatalf("SubscribeByDeepLink = %+v, %v", tp, err)
	}
	if _, err := s.SubscribeByDeepLink(ctx, me, "abo-gibtsnicht"); err == nil {
		t.Error("unknown deep link accepted")
	}
	_, err = s.SubscribeByDeepLink(ctx, me, "something-else")
	mustErrIs(t, err, broadcast.ErrNotFound)
	mustErrIs(t, s.Subscribe(ctx, me, hidden.ID), broadcast.ErrNotFound)
	if got := broadcast.DeepLink("@citybot", "baustellen"); got != "https://t.me/citybot?start=abo-baustellen" {
		t.Errorf("DeepLink = %q", got)
	}

	subs, err := s.Subscriptions(ctx, me)
	if err != nil || len(subs) != 2 {
		t.Fatalf("Subscriptions = %+v, %v", subs, err)
	}
	if err := s.Subscribe(ctx, c[1], news.ID); err != nil {
		t.Fatal(err)
	}
	counts, err := s.SubscriberCounts(ctx)
	if err != nil || counts[news.ID] != 2 || counts[roads.ID] != 1 {
		t.Fatalf("SubscriberCounts = %v, %v", counts, err)
	}

	on, err = s.Toggle(ctx, me, news.ID)
	if err != nil || on {
		t.Fatalf("second Toggle = %v, %v; want unsubscribed", on, err)
	}
	n, err := s.UnsubscribeAll(ctx, me)
	if err != nil || n != 1 {
		t.Fatalf("UnsubscribeAll = %d, %v; want 1", n, err)
	}
	if subs, _ := s.Subscriptions(ctx, me); len(subs) != 0 {
		t.Errorf("after UnsubscribeAll: %+v", subs)
	}
	// Erasure of a citizen removes their subscriptions (cascade); the
	// history keeps the anonymous counts.
	if _, err := e.db.Exec(`DELETE FROM citizens WHERE id = $1`, c[1]); err != nil {
		t.Fatal(err)
	}
	hist, err := s.SubscriberHistory(ctx, news.ID, time.Now().AddDate(0, 0, -1), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 2 || hist[0].Subscribers != 0 || hist[1].Subscribers != 0 || hist[1].Added != 2 || hist[1].Removed != 2 {
		t.Errorf("SubscriberHistory = %+v", hist)
	}

	for _, tc := range []struct {
		data string
		id   int64
		ok   bool
	}{{"bq:42", 42, true}, {"bq:", 0, false}, {"bq:-1", 0, false}, {"bt:42", 0, false}, {"bq:9x", 0, false}} {
		id, ok := broadcast.ParseQuestionCallback(tc.data)
		if id != tc.id || ok != tc.ok {
			t.Errorf("ParseQuestionCallback(%q) = %d, %v", tc.data, id, ok)
		}
	}
	if id, ok := broadcast.ParseToggleCallback(broadcast.ToggleCallbackData(7)); id != 7 || !ok {
		t.Errorf("toggle callback round trip: %d %v", id, ok)
	}
}

func TestScheduledPostSentOnTime(t *testing.T) {
	e := newEnv(t)
	s := e.service(nil)
	ctx := context.Background()
	tp := e.topic(s, "aktuelles")
	ids := e.citizens(5)
	e.subscribeAll(ids, tp.ID)
	run(t, s)

	sendAt := time.Now().Add(1500 * time.Millisecond)
	p := e.post(s, broadcast.PostInput{
		Text: "Stadtfest am Samstag", LinkURL: "https://www.musterstadt.de/stadtfest",
		TopicIDs: []int64{tp.ID},
	}, sendAt)
	if p.Status != broadcast.StatusScheduled {
		t.Fatalf("status = %s", p.Status)
	}
	time.Sleep(time.Second)
	if n := e.fake.SentCount(); n != 0 {
		t.Fatalf("%d messages sent before send_at", n)
	}
	sent := e.fake.WaitSent(t, 5, 5*time.Second)
	for _, m := range sent {
		if m.Time.Before(sendAt) {
			t.Errorf("sent at %v, before send_at %v", m.Time, sendAt)
		}
		if m.Time.After(sendAt.Add(1500 * time.Millisecond)) {
			t.Errorf("sent at %v, more than 1.5 s after send_at %v", m.Time, sendAt)
		}
		if m.Text != "Stadtfest am Samstag" {
			t.Errorf("text = %q", m.Text)
		}
		cb := m.ReplyMarkup.CallbackData()
		if len(cb) != 1 || cb[0] != broadcast.QuestionCallbackData(p.ID) {
			t.Errorf("callback data = %v", cb)
		}
		if row := m.ReplyMarkup.InlineKeyboard[0]; row[0].URL != "https://www.musterstadt.de/stadtfest" || row[1].Text != "Frage dazu" {
			t.Errorf("buttons = %+v", row)
		}
	}
	p = waitStatus(t, s, p.ID, broadcast.StatusSent, 5*time.Second)
	if p.SentCount != 5 || p.Recipients != 5 || p.FailedCount != 0 {
		t.Errorf("counts: %+v", p)
	}
	pc, err := s.PostContext(ctx, p.ID)
	if err != nil || pc.Text != "Stadtfest am Samstag" || len(pc.Topics) != 1 {
		t.Errorf("PostContext = %+v, %v", pc, err)
	}
	e.exactlyOnce(ids, 1)
}

// offsetClock is a clock that runs with real time from a settable origin.
type offsetClock struct{ off atomic.Int64 }

func (c *offsetClock) Now() time.Time  { return time.Now().Add(time.Duration(c.off.Load())) }
func (c *offsetClock) Set(t time.Time) { c.off.Store(int64(time.Until(t))) }

func TestQuietHours(t *testing.T) {
	e := newEnv(t)
	berlin, _ := time.LoadLocation("Europe/Berlin")
	var clock offsetClock
	clock.Set(time.Date(2026, 1, 15, 23, 0, 0, 0, berlin))
	s := e.service(func(c *broadcast.Config) {
		c.QuietHours = broadcast.QuietHours{From: 22, To: 7}
		c.Now = clock.Now
	})
	ctx := context.Background()
	news := e.topic(s, "aktuelles")
	warn := e.topic(s, "warnungen")
	ids := e.citizens(4)
	e.subscribeAll(ids, news.ID)
	e.subscribeAll(ids[:2], warn.ID)
	run(t, s)

	ordinary := e.post(s, broadcast.PostInput{Text: "Neues aus dem Rathaus", TopicIDs: []int64{news.ID}}, time.Time{})
	pv, err := s.Preview(ctx, ordinary.ID)
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2026, 1, 16, 7, 0, 0, 0, berlin); !pv.StartsAt.Equal(want) || pv.Recipients != 4 {
		t.Errorf("Preview: starts %v (want %v), recipients %d", pv.StartsAt, want, pv.Recipients)
	}
	if len(pv.Problems) != 0 {
		t.Errorf("Preview: problems %q", pv.Problems)
	}
	// A draft for a topic nobody subscribed to: a problem code the UI words.
	draft, err := s.CreatePost(ctx, staff.Principal{}, broadcast.PostInput{Text: "Niemand liest mit", TopicIDs: []int64{e.topic(s, "leer").ID}})
	if err != nil {
		t.Fatal(err)
	}
	if pv, err := s.Preview(ctx, draft.ID); err != nil || len(pv.Problems) != 1 || pv.Problems[0] != broadcast.ProblemNoSubscribers {
		t.Errorf("Preview of a draft without subscribers: %q, %v", pv.Problems, err)
	}
	warning := e.post(s, broadcast.PostInput{Text: "Unwetterwarnung: Sturmböen", IsWarning: true, TopicIDs: []int64{warn.ID, news.ID}}, time.Time{})
	sent := e.fake.WaitSent(t, 4, 5*time.Second)
	for _, m := range sent {
		if m.Text != "Unwetterwarnung: Sturmböen" {
			t.Errorf("during quiet hours sent %q", m.Text)
		}
	}
	waitStatus(t, s, warning.ID, broadcast.StatusSent, 5*time.Second)
	time.Sleep(500 * time.Millisecond)
	if n := e.fake.SentCount(); n != 4 {
		t.Fatalf("%d messages sent in quiet hours, want only the 4 warnings", n)
	}
	if p, _ := s.Post(ctx, ordinary.ID); p.Status != broadcast.StatusScheduled {
		t.Errorf("ordinary post is %s in quiet hours", p.Status)
	}

	clock.Set(time.Date(2026, 1, 16, 7, 0, 1, 0, berlin))
	e.fake.WaitSent(t, 8, 5*time.Second)
	waitStatus(t, s, ordinary.ID, broadcast.StatusSent, 5*time.Second)
	e.exactlyOnce(ids, 2)
}

func TestRateLimit429PausesAndResumes(t *testing.T) {
	e := newEnv(t)
	s := e.service(func(c *broadcast.Config) { c.Rate = 50 })
	tp := e.topic(s, "aktuelles")
	ids := e.citizens(20)
	e.subscribeAll(ids, tp.ID)
	e.fake.FailNext("sendMessage", 1, tgfake.TooManyRequests(2))
	run(t, s)
	p := e.post(s, broadcast.PostInput{Text: "Hallo", TopicIDs: []int64{tp.ID}}, time.Time{})
	waitStatus(t, s, p.ID, broadcast.StatusSent, 10*time.Second)
	e.exactlyOnce(ids, 1)

	calls := e.fake.Calls("sendMessage")
	var at429 time.Time
	for _, c := range calls {
		if c.ErrorCode == 429 {
			at429 = c.Time
			continue
		}
		if !at429.IsZero() && c.Time.Before(at429.Add(2*time.Second)) && c.Time.After(at429.Add(100*time.Millisecond)) {
			t.Errorf("send at +%v during the 2 s pause", c.Time.Sub(at429))
		}
	}
	if at429.IsZero() {
		t.Fatal("no 429 recorded")
	}
	if last := calls[len(calls)-1].Time; last.Before(at429.Add(2 * time.Second)) {
		t.Errorf("sending finished %v after the 429, before the pause ended", last.Sub(at429))
	}
	var attempts int
	if err := e.db.Get(&attempts, `SELECT max(attempts) FROM deliveries`); err != nil || attempts != 1 {
		t.Errorf("max attempts = %d, %v; a 429 must not count as an attempt", attempts, err)
	}
}

func TestBlockedChatUnsubscribed(t *testing.T) {
	e := newEnv(t)
	s := e.service(nil)
	ctx := context.Background()
	tp := e.topic(s, "aktuelles")
	ids := e.citizens(5)
	e.subscribeAll(ids, tp.ID)
	blocked := ids[2]
	e.fake.BlockChat(e.chatOf(blocked))
	run(t, s)
	p := e.post(s, broadcast.PostInput{Text: "Erste Nachricht", TopicIDs: []int64{tp.ID}}, time.Time{})
	p = waitStatus(t, s, p.ID, broadcast.StatusSent, 10*time.Second)
	if p.SentCount != 4 || p.FailedCount != 1 {
		t.Errorf("counts %+v", p)
	}
	if subs, _ := s.Subscriptions(ctx, blocked); len(subs) != 0 {
		t.Errorf("blocked citizen still subscribed: %+v", subs)
	}
	pr, err := s.Progress(ctx, p.ID)
	if err != nil || pr.Undeliverable != 1 || pr.Sent != 4 || pr.Remaining != 0 {
		t.Errorf("Progress = %+v, %v", pr, err)
	}
	// The next post does not try the blocked chat at all.
	p2 := e.post(s, broadcast.PostInput{Text: "Zweite Nachricht", TopicIDs: []int64{tp.ID}}, time.Time{})
	waitStatus(t, s, p2.ID, broadcast.StatusSent, 10*time.Second)
	if n := len(e.fake.Calls("sendMessage")); n != 5+4 {
		t.Errorf("%d sendMessage calls, want 9", n)
	}
	e.exactlyOnce(ids[:2], 2)
	e.exactlyOnce(ids[3:], 2)
}

func TestTransientErrorsRetry(t *testing.T) {
	e := newEnv(t)
	s := e.service(nil)
	tp := e.topic(s, "aktuelles")
	ids := e.citizens(3)
	e.subscribeAll(ids, tp.ID)
	e.fake.FailNext("sendMessage", 1, tgfake.ServerError())
	e.fake.FailNext("sendMessage", 1, tgfake.BadGatewayHTML())
	run(t, s)
	p := e.post(s, broadcast.PostInput{Text: "Hallo", TopicIDs: []int64{tp.ID}}, time.Time{})
	waitStatus(t, s, p.ID, broadcast.StatusSent, 15*time.Second)
	e.exactlyOnce(ids, 1)
	var retried int
	if err := e.db.Get(&retried, `SELECT count(*) FROM deliveries WHERE attempts > 1`); err != nil || retried < 1 {
		t.Errorf("retried deliveries = %d, %v", retried, err)
	}
}

func TestKillMidFanoutResumes(t *testing.T) {
	e := newEnv(t)
	const n = 600
	mod := func(c *broadcast.Config) {
		c.Rate = 300
		c.FanoutBatch = 100
		c.Lease = 4 * time.Second
		c.SendTimeout = 2 * time.Second
	}
	s1 := e.service(mod)
	broadcast.SimulateCrashOnStop(s1)
	tp := e.topic(s1, "aktuelles")
	ids := e.citizens(n)
	e.subscribeAll(ids, tp.ID)
	kill := run(t, s1)
	p := e.post(s1, broadcast.PostInput{Text: "Wichtig", TopicIDs: []int64{tp.ID}}, time.Time{})
	e.fake.WaitSent(t, 150, 10*time.Second)
	kill() // abrupt: claimed rows stay leased, as after kill -9
	before := e.fake.SentCount()
	if before >= n {
		t.Fatalf("all %d sent before the kill; test is too slow to kill mid-way", before)
	}
	var stuck int
	_ = e.db.Get(&stuck, `SELECT count(*) FROM deliveries WHERE status = 'sending'`)
	t.Logf("killed after %d of %d sends, %d deliveries left leased", before, n, stuck)

	s2 := e.service(mod)
	run(t, s2)
	waitStatus(t, s2, p.ID, broadcast.StatusSent, 30*time.Second)
	e.exactlyOnce(ids, 1)
}

func TestTwoInstancesNoDoubles(t *testing.T) {
	e := newEnv(t)
	const n = 500
	c1, c2 := &countingSender{Sender: e.sender}, &countingSender{Sender: e.sender}
	s1 := broadcast.New(e.db, c1, broadcast.Config{Rate: 400, FanoutBatch: 100, PollInterval: 50 * time.Millisecond})
	s2 := broadcast.New(e.db, c2, broadcast.Config{Rate: 400, FanoutBatch: 100, PollInterval: 50 * time.Millisecond})
	tp := e.topic(s1, "aktuelles")
	ids := e.citizens(n)
	e.subscribeAll(ids, tp.ID)
	run(t, s1)
	run(t, s2)
	p1 := e.post(s1, broadcast.PostInput{Text: "Eins", TopicIDs: []int64{tp.ID}}, time.Time{})
	p2 := e.post(s2, broadcast.PostInput{Text: "Zwei", TopicIDs: []int64{tp.ID}}, time.Time{})
	waitStatus(t, s1, p1.ID, broadcast.StatusSent, 30*time.Second)
	waitStatus(t, s1, p2.ID, broadcast.StatusSent, 30*time.Second)
	e.exactlyOnce(ids, 2)
	// Per chat, the two posts were at least a second apart.
	last := map[int64]time.Time{}
	close := 0
	for _, m := range e.fake.Sent() {
		if prev, ok := last[m.ChatID]; ok && m.Time.Sub(prev) < 990*time.Millisecond {
			close++
		}
		last[m.ChatID] = m.Time
	}
	if close > 0 {
		t.Errorf("%d chats got two messages within a second", close)
	}
	t.Logf("instance 1 sent %d, instance 2 sent %d", c1.n.Load(), c2.n.Load())
	if c1.n.Load() == 0 || c2.n.Load() == 0 {
		t.Errorf("the instances did not share the work: %d and %d sends", c1.n.Load(), c2.n.Load())
	}
}

type countingSender struct {
	broadcast.Sender
	n atomic.Int64
}

func (c *countingSender) Send(ctx context.Context, chatID string, m broadcast.Message) error {
	c.n.Add(1)
	return c.Sender.Send(ctx, chatID, m)
}

func TestCancelPost(t *testing.T) {
	e := newEnv(t)
	s := e.service(func(c *broadcast.Config) { c.Rate = 20 })
	ctx := context.Background()
	tp := e.topic(s, "aktuelles")
	ids := e.citizens(100)
	e.subscribeAll(ids, tp.ID)
	run(t, s)
	p := e.post(s, broadcast.PostInput{Text: "Falsch", TopicIDs: []int64{tp.ID}}, time.Time{})
	e.fake.WaitSent(t, 10, 10*time.Second)
	pr, err := s.Progress(ctx, p.ID)
	if err != nil || pr.Total != 100 || pr.Remaining == 0 || pr.EstimatedEnd.IsZero() {
		t.Errorf("Progress while sending = %+v, %v", pr, err)
	}
	if err := s.CancelPost(ctx, staff.Principal{}, p.ID); err != nil {
		t.Fatal(err)
	}
	at := e.fake.SentCount()
	time.Sleep(time.Second)
	after := e.fake.SentCount()
	if after-at > 8 { // at most what was already claimed
		t.Errorf("%d messages sent after cancel", after-at)
	}
	p, _ = s.Post(ctx, p.ID)
	if p.Status != broadcast.StatusCancelled || after >= 100 {
		t.Errorf("status %s, sent %d", p.Status, after)
	}
	pr, _ = s.Progress(ctx, p.ID)
	if pr.Sent != after || pr.Remaining != 0 || pr.Cancelled != 100-after {
		t.Errorf("Progress after cancel = %+v (fake sent %d)", pr, after)
	}
	mustErrIs(t, s.CancelPost(ctx, staff.Principal{}, p.ID), broadcast.ErrState)
}

func TestPostValidation(t *testing.T) {
	e := newEnv(t)
	s := e.service(nil)
	ctx := context.Background()
	tp := e.topic(s, "aktuelles")
	long := make([]byte, broadcast.MaxCaptionLen+1)
	for i := range long {
		long[i] = 'a'
	}
	for name, in := range map[string]broadcast.PostInput{
		"empty":        {Text: " ", TopicIDs: []int64{tp.ID}},
		"no topic":     {Text: "x"},
		"bad topic":    {Text: "x", TopicIDs: []int64{999}},
		"js link":      {Text: "x", LinkURL: "javascript:alert(1)", TopicIDs: []int64{tp.ID}},
		"long caption": {Text: string(long), PhotoURL: "https://example.org/a.jpg", TopicIDs: []int64{tp.ID}},
		"bad dept":     {Text: "x", DepartmentID: "nope", TopicIDs: []int64{tp.ID}},
	} {
		if _, err := s.CreatePost(ctx, staff.Principal{}, in); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	p, err := s.CreatePost(ctx, staff.Principal{}, broadcast.PostInput{Text: "Entwurf", TopicIDs: []int64{tp.ID}})
	if err != nil {
		t.Fatal(err)
	}
	if p, err = s.UpdatePost(ctx, staff.Principal{}, p.ID, broadcast.PostInput{Text: "Entwurf 2", PhotoURL: "https://example.org/a.jpg", TopicIDs: []int64{tp.ID}}); err != nil || p.Text != "Entwurf 2" || p.PhotoURL == "" {
		t.Fatalf("UpdatePost = %+v, %v", p, err)
	}
	_, err = s.PostContext(ctx, p.ID)
	mustErrIs(t, err, broadcast.ErrNotFound) // a draft was never seen by citizens
	list, err := s.ListPosts(ctx, broadcast.ListPostsOptions{Status: broadcast.StatusDraft})
	if err != nil || len(list) != 1 {
		t.Errorf("ListPosts = %d, %v", len(list), err)
	}
	if err := s.DeletePost(ctx, staff.Principal{}, p.ID); err != nil {
		t.Fatal(err)
	}
}

func TestPhotoPost(t *testing.T) {
	e := newEnv(t)
	s := e.service(nil)
	tp := e.topic(s, "aktuelles")
	ids := e.citizens(3)
	e.subscribeAll(ids, tp.ID)
	run(t, s)
	p := e.post(s, broadcast.PostInput{Text: "Neues Foto", Photo: []byte("\xff\xd8\xff fake jpeg"), PhotoName: "rathaus.jpg", TopicIDs: []int64{tp.ID}}, time.Time{})
	waitStatus(t, s, p.ID, broadcast.StatusSent, 10*time.Second)
	calls := e.fake.Calls("sendPhoto")
	if len(calls) != 3 {
		t.Fatalf("%d sendPhoto calls", len(calls))
	}
	uploads := 0
	for _, c := range calls {
		uploads += len(c.Files)
		if c.Params["caption"] != "Neues Foto" {
			t.Errorf("caption = %q", c.Params["caption"])
		}
	}
	if uploads < 1 || uploads > 3 {
		t.Errorf("%d uploads", uploads)
	}
	t.Logf("uploads: %d of %d sends (the file id is reused after the first)", uploads, len(calls))
}

// Deliveries claimed by an instance that died are sent again by another
// within seconds, not after their (here two-minute) lease.
func TestDeadInstanceDeliveriesTakenOver(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	const n = 400
	dead, err := db.StartInstance(ctx, e.db, nil)
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	mod := func(id int32) func(*broadcast.Config) {
		return func(c *broadcast.Config) {
			c.Rate = 200
			c.FanoutBatch = 100
			c.Lease = 2 * time.Minute
			c.Instance = id
			if id != dead.ID {
				c.Registerer = reg
			}
		}
	}
	s1 := e.service(mod(dead.ID))
	broadcast.SimulateCrashOnStop(s1)
	tp := e.topic(s1, "aktuelles")
	ids := e.citizens(n)
	e.subscribeAll(ids, tp.ID)
	kill := run(t, s1)
	p := e.post(s1, broadcast.PostInput{Text: "Wichtig", TopicIDs: []int64{tp.ID}}, time.Time{})
	e.fake.WaitSent(t, 100, 10*time.Second)
	kill()
	dead.Close() // the process is gone, and its instance lock with it
	var stuck int
	_ = e.db.Get(&stuck, `SELECT count(*) FROM deliveries WHERE status = 'sending' AND claimed_by = $1`, dead.ID)
	if stuck == 0 {
		t.Fatal("no deliveries left claimed by the killed instance: nothing to take over")
	}
	t.Logf("killed with %d deliveries claimed", stuck)

	other, err := db.StartInstance(ctx, e.db, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	s2 := e.service(mod(other.ID))
	run(t, s2)
	waitStatus(t, s2, p.ID, broadcast.StatusSent, 30*time.Second)
	e.exactlyOnce(ids, 1)
	if got := metricValue(t, reg, "citybot_broadcast_claims_taken_over_total", ""); got != float64(stuck) {
		t.Errorf("taken over (metric) = %v, want %d", got, stuck)
	}
	if got := metricValue(t, reg, "citybot_broadcast_sends_total", "sent"); got < float64(stuck) {
		t.Errorf("sent (metric) = %v, want at least %d", got, stuck)
	}
}

// metricValue is the value of a counter of reg (with result label, when
// given); 0 when it has not counted yet.
func metricValue(t *testing.T, reg *prometheus.Registry, name, result string) float64 {
	t.Helper()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			if result == "" {
				return m.GetCounter().GetValue()
			}
			for _, l := range m.GetLabel() {
				if l.GetName() == "result" && l.GetValue() == result {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}
