package telegram

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"citybot/internal/db"
	"citybot/routing"
)

// A backlog is handled in batches (several updates per transaction): every
// update answered exactly once, each chat's in order.
func TestBacklogHandledInBatches(t *testing.T) {
	e := newEnv(t)
	s, err := NewService(e.db, e.m, testLogger(t), e.config())
	must(t, err)
	const chats, perChat = 40, 3
	var ups []rawUpdate
	id := int64(1000)
	for k := range perChat {
		for c := range chats {
			u := e.fake.TextUpdate(int64(5000+c), fmt.Sprintf("/start %d", k))
			u.ID = id
			raw, _ := json.Marshal(u)
			ups = append(ups, rawUpdate{ID: id, ChatID: int64(5000 + c), Raw: raw})
			id++
		}
	}
	n, _, err := s.updates.insert(context.Background(), ups, 0)
	must(t, err)
	if n != len(ups) {
		t.Fatalf("stored %d of %d", n, len(ups))
	}
	// Two workers: a round claims up to 16 updates, 8 per transaction.
	e.start(e.config(func(c *Config) { c.Workers = 2 }))
	for c := range chats {
		e.waitSentTo(int64(5000+c), perChat)
	}
	time.Sleep(200 * time.Millisecond)
	if got := e.fake.SentCount(); got != chats*perChat {
		t.Fatalf("sent %d, want %d", got, chats*perChat)
	}
	if n := e.count(`SELECT count(*) FROM telegram_updates WHERE status <> 'done'`); n != 0 {
		t.Errorf("%d updates not done", n)
	}
	// The inbound messages of each chat were stored in update order.
	var bad int
	must(t, e.db.Get(&bad, `
		SELECT count(*) FROM (
			SELECT text, lag(text) OVER (PARTITION BY citizen_id ORDER BY id) AS prev
			FROM messages WHERE direction = 'in') m
		WHERE prev IS NOT NULL AND prev > text`))
	if bad != 0 {
		t.Errorf("%d inbound messages out of order", bad)
	}
}

// A claim looks past a window full of one chat's queue.
func TestClaimPastLongChatQueue(t *testing.T) {
	e := newEnv(t)
	st := updateStore{db: e.db}
	var ups []rawUpdate
	for i := range claimWindow + 10 {
		ups = append(ups, rawUpdate{ID: int64(i + 1), ChatID: 1, Raw: []byte(`{}`)})
	}
	ups = append(ups, rawUpdate{ID: int64(claimWindow + 100), ChatID: 2, Raw: []byte(`{}`)})
	_, _, err := st.insert(context.Background(), ups, 0)
	must(t, err)
	cs, err := st.claim(context.Background(), 4, time.Minute)
	must(t, err)
	if len(cs) != 2 || cs[0].ID != 1 || cs[1].ID != claimWindow+100 {
		t.Fatalf("claimed %+v, want the heads of chats 1 and 2", cs)
	}
	// Chat 1's head is claimed: nothing more of it, nor of chat 2.
	cs, err = st.claim(context.Background(), 4, time.Minute)
	must(t, err)
	if len(cs) != 0 {
		t.Fatalf("claimed behind open heads: %+v", cs)
	}
}

// Intake claims a new update whose chat has nothing open in the same
// statement that stores it; one behind an open update of its chat is
// stored pending, and so is the second update of a chat within one batch.
func TestIntakeClaimsHeadsOnly(t *testing.T) {
	e := newEnv(t)
	st := updateStore{db: e.db}
	ctx := context.Background()
	up := func(id, chat int64) rawUpdate { return rawUpdate{ID: id, ChatID: chat, Raw: []byte(`{}`)} }
	n, cs, err := st.insert(ctx, []rawUpdate{up(1, 10), up(2, 20), up(3, 10), up(4, 0)}, time.Minute)
	must(t, err)
	if n != 4 || len(cs) != 3 || cs[0].ID != 1 || cs[1].ID != 2 || cs[2].ID != 4 {
		t.Fatalf("stored %d, claimed %+v; want 4 stored, 1, 2 and 4 claimed", n, cs)
	}
	for _, c := range cs {
		if c.Attempts != 1 {
			t.Errorf("update %d: attempts %d, want 1", c.ID, c.Attempts)
		}
	}
	// Chat 10 still has 1 open: 5 waits; chat 30 is new; 2 again is a duplicate.
	n, cs, err = st.insert(ctx, []rawUpdate{up(2, 20), up(5, 10), up(6, 30)}, time.Minute)
	must(t, err)
	if n != 2 || len(cs) != 1 || cs[0].ID != 6 {
		t.Fatalf("stored %d, claimed %+v; want 2 stored, 6 claimed", n, cs)
	}
	// Without a lease nothing is claimed.
	n, cs, err = st.insert(ctx, []rawUpdate{up(7, 40)}, 0)
	must(t, err)
	if n != 1 || len(cs) != 0 {
		t.Fatalf("stored %d, claimed %+v without a lease", n, cs)
	}
	if got := e.count(`SELECT count(*) FROM telegram_updates WHERE status = 'pending'`); got != 3 {
		t.Errorf("pending = %d, want 3 (3, 5, 7)", got)
	}
}

// An instance that claimed updates at intake and died before handling
// them: another instance handles them once their (short) lease ends.
func TestCrashAfterIntakeClaim(t *testing.T) {
	e := newEnv(t)
	a, err := NewService(e.db, e.m, testLogger(t), e.config(func(c *Config) { c.Lease = time.Second }))
	must(t, err)
	a.ready.start() // a dispatcher that never takes anything
	ctx, cancel := context.WithCancel(context.Background())
	polled := make(chan error, 1)
	go func() { polled <- a.runPoller(ctx) }()
	e.fake.PushText(861, "/start")
	waitFor(t, "update claimed at intake", func() bool {
		return e.count(`SELECT count(*) FROM telegram_updates WHERE status = 'processing' AND attempts = 1`) == 1
	})
	cancel()
	must(t, <-polled)

	e.start(e.config())
	e.expectExactly(861, 1)
	if n := e.count(`SELECT count(*) FROM telegram_updates WHERE status = 'done' AND attempts = 2`); n != 1 {
		t.Errorf("done after a second attempt = %d, want 1", n)
	}
}

// Webhook mode, each chat's messages one after another while other chats
// write at the same time: answered in order, never two of a chat at once.
func TestWebhookInOrderPerChat(t *testing.T) {
	e := newEnv(t)
	const secret = "hooksecret"
	s := e.start(e.config(func(c *Config) {
		c.WebhookURL = "https://bot.example.org/hook"
		c.WebhookSecret = secret
		c.Workers = 8
	}))
	srv := httptest.NewServer(s.WebhookHandler())
	defer srv.Close()
	e.inOrderPerChat(3000, 30, func(chat int64, text string) {
		if status, err := e.fake.DeliverWebhook(srv.URL, secret, e.fake.TextUpdate(chat, text)); err != nil || status != 200 {
			t.Errorf("webhook: %d %v", status, err)
		}
	})
}

// Claims of an instance that stopped running are taken over within the
// orphan sweep, long before their lease ends: an update claimed at intake
// and an answer claimed for sending.
func TestDeadInstanceClaimsTakenOver(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	dead, err := db.StartInstance(ctx, e.db, nil)
	must(t, err)
	a, err := NewService(e.db, e.m, testLogger(t), e.config(func(c *Config) { c.Instance = dead.ID }))
	must(t, err)
	a.ready.start() // a dispatcher that never takes anything
	pctx, cancel := context.WithCancel(ctx)
	polled := make(chan error, 1)
	go func() { polled <- a.runPoller(pctx) }()
	e.fake.PushText(871, "/start")
	waitFor(t, "update claimed at intake", func() bool {
		return e.count(`SELECT count(*) FROM telegram_updates WHERE status = 'processing' AND claimed_by = $1`, dead.ID) == 1
	})
	cancel()
	must(t, <-polled)
	// An answer to another chat, claimed for sending by the same instance.
	st := routing.NewStore(e.db).WithOwner(dead.ID)
	c, err := st.TouchCitizen(ctx, routing.ChannelTelegram, "872", "de")
	must(t, err)
	_, it, err := st.SendClaimed(ctx, c, routing.Message{Kind: routing.KindText, Text: "Antwort"}, 2*time.Minute, routing.Payload{Text: "Antwort"})
	must(t, err)
	if it == nil {
		t.Fatal("answer not claimed")
	}
	dead.Close() // the process is gone

	other, err := db.StartInstance(ctx, e.db, nil)
	must(t, err)
	defer other.Close()
	start := time.Now()
	b := e.start(e.config(func(c *Config) { c.Instance = other.ID; c.OrphanSweep = 200 * time.Millisecond }))
	e.expectExactly(871, 1)
	e.expectExactly(872, 1)
	if u, o := counterValue(b.metrics.takenOver.WithLabelValues("update")), counterValue(b.metrics.takenOver.WithLabelValues("outbox")); u != 1 || o != 1 {
		t.Errorf("taken over: %v updates, %v outbox rows; want 1 and 1", u, o)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("took over after %v", took)
	}
	if n := e.count(`SELECT count(*) FROM outbox WHERE status = 'sent' AND claimed_by = $1`, other.ID); n < 2 {
		t.Errorf("rows sent by the new instance = %d, want 2", n)
	}
}

// Concurrent webhook requests are stored together; the same update posted
// by several of them at once is answered once and counted new once.
func TestWebhookConcurrentDuplicates(t *testing.T) {
	e := newEnv(t)
	const secret = "hooksecret"
	s := e.start(e.config(func(c *Config) {
		c.WebhookURL = "https://bot.example.org/hook"
		c.WebhookSecret = secret
	}))
	srv := httptest.NewServer(s.WebhookHandler())
	defer srv.Close()
	u := e.fake.TextUpdate(3101, "/start")
	others := make([]any, 30)
	for i := range others {
		others[i] = e.fake.TextUpdate(int64(3200+i), "Hallo")
	}
	var wg sync.WaitGroup
	post := func(u any) {
		defer wg.Done()
		if status, err := e.fake.DeliverWebhook(srv.URL, secret, u); err != nil || status != 200 {
			t.Errorf("webhook: %d %v", status, err)
		}
	}
	for i := range 10 {
		wg.Add(2)
		go post(u)
		go post(others[i])
	}
	for _, o := range others[10:] {
		wg.Add(1)
		go post(o)
	}
	wg.Wait()
	e.expectExactly(3101, 1)
	for i := range others {
		e.waitSentTo(int64(3200+i), 1)
	}
	if got := counterValue(s.metrics.received.WithLabelValues("webhook")); got != 31 {
		t.Errorf("received = %v, want 31", got)
	}
	if got := counterValue(s.metrics.duplicates); got != 9 {
		t.Errorf("duplicates = %v, want 9", got)
	}
}

// A worker takes queued chunks together up to maxBatch, in order.
func TestReadyQueuePopMerges(t *testing.T) {
	var q readyQueue
	if q.push([][]claimed{{{ID: 1}}}) {
		t.Fatal("push before start")
	}
	q.start()
	chunk := func(ids ...int64) []claimed {
		var cs []claimed
		for _, id := range ids {
			cs = append(cs, claimed{ID: id})
		}
		return cs
	}
	first := chunk(1, 2)
	q.push([][]claimed{first, chunk(3, 4, 5), chunk(6, 7, 8), chunk(9)}) // maxBatch is 8
	ids := func(cs []claimed) (out []int64) {
		for _, c := range cs {
			out = append(out, c.ID)
		}
		return out
	}
	got, ok := q.pop()
	if !ok || fmt.Sprint(ids(got)) != "[1 2 3 4 5 6 7 8]" || len(first) != 2 || q.len() != 1 {
		t.Fatalf("pop = %v (first chunk now %v), %d left", ids(got), ids(first), q.len())
	}
	got, _ = q.pop()
	if fmt.Sprint(ids(got)) != "[9]" || q.len() != 0 {
		t.Fatalf("pop = %v, %d left", ids(got), q.len())
	}
	if _, ok := q.pop(); ok {
		t.Fatal("pop from an empty queue")
	}
	q.push([][]claimed{chunk(10)})
	if left := q.close(); len(left) != 1 || q.push([][]claimed{chunk(11)}) {
		t.Fatalf("close left %v; push after close accepted", left)
	}
}

// Intake claims only while a dispatcher runs and its queue is short, and
// then for a short lease.
func TestIntakeLease(t *testing.T) {
	e := newEnv(t)
	s, err := NewService(e.db, e.m, testLogger(t), e.config())
	must(t, err)
	if l := s.intakeLease(); l != 0 {
		t.Errorf("lease before the dispatcher runs = %v", l)
	}
	s.ready.start()
	if l := s.intakeLease(); l != maxIntakeLease {
		t.Errorf("lease = %v, want %v", l, maxIntakeLease)
	}
	long := make([]claimed, s.maxReady())
	for i := range long {
		long[i].ID = int64(i + 1)
	}
	s.ready.push([][]claimed{long})
	if l := s.intakeLease(); l != 0 {
		t.Errorf("lease with %d updates queued = %v", s.ready.len(), l)
	}
	s.ready.close()
	if l := s.intakeLease(); l != 0 {
		t.Errorf("lease after the dispatcher stopped = %v", l)
	}
}
