package telegram

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-telegram/bot/models"

	"citybot/internal/db"
)

// BenchmarkThroughput pushes b.N citizen messages from many chats through
// the fake Bot API server: long polling, storage of every update, the
// dialog engine with the demo FAQ, the outbox and delivery through the real
// library. It reports updates/s and the latency from push to answer sent.
//
//	go test -bench BenchmarkThroughput -benchtime 5000x ./bot/telegram/
//
// "paced" pushes at CITYBOT_BENCH_RATE updates/s (default 1000), the latency
// a citizen sees at that load; "burst" pushes everything at once, the
// capacity; "webhook-paced" is paced in webhook mode (Telegram posting over
// up to 40 connections, a chat's updates over one of them in order).
func BenchmarkThroughput(b *testing.B) {
	rate := 1000.0
	if v, err := strconv.ParseFloat(os.Getenv("CITYBOT_BENCH_RATE"), 64); err == nil && v > 0 {
		rate = v
	}
	b.Run("paced", func(b *testing.B) { benchThroughput(b, rate, false) })
	b.Run("burst", func(b *testing.B) { benchThroughput(b, 0, false) })
	b.Run("webhook-paced", func(b *testing.B) { benchThroughput(b, rate, true) })
}

// webhookConns is how many connections the benchmark's Telegram opens to
// the webhook at once (Telegram's default max_connections is 40); a chat's
// updates go over one of them, one after another.
const webhookConns = 40

func benchThroughput(b *testing.B, rate float64, webhook bool) {
	e := newEnv(b)
	tr := newStageTrace()
	inst, err := db.StartInstance(context.Background(), e.db, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer inst.Close()
	const secret = "benchsecret"
	svc := e.startTraced(e.config(func(c *Config) {
		c.Instance = inst.ID // as in production: claims record their instance
		c.Workers = 8
		c.Senders = 8
		c.IdleInterval = 200 * time.Millisecond
		c.FloodLimit = 1 << 20 // a chat here writes more often than a person (the check still runs)
		if webhook {
			c.WebhookURL = "https://bot.example.org/hook"
			c.WebhookSecret = secret
		}
	}), tr.record)
	// push hands Telegram a citizen's message: queued for getUpdates, or
	// posted to the webhook by one of webhookConns connections.
	push := func(chat int64, text string) { e.fake.PushText(chat, text) }
	if webhook {
		srv := httptest.NewServer(svc.WebhookHandler())
		defer srv.Close()
		conns := make([]chan *models.Update, webhookConns)
		var wg sync.WaitGroup
		for i := range conns {
			conns[i] = make(chan *models.Update, 1024)
			wg.Add(1)
			go func() {
				defer wg.Done()
				for u := range conns[i] {
					if status, err := e.fake.DeliverWebhook(srv.URL, secret, u); err != nil || status != 200 {
						b.Errorf("webhook: %d %v", status, err)
					}
				}
			}()
		}
		defer func() {
			for _, c := range conns {
				close(c)
			}
			wg.Wait()
		}()
		push = func(chat int64, text string) { conns[chat%webhookConns] <- e.fake.TextUpdate(chat, text) }
	}
	questions := []string{
		"Wie beantrage ich einen Personalausweis?",
		"muellabfuhr termine ahornweg",
		"Hallo",
		"Wann kommt die gelbe Tonne?",
		"Fuehrungszeugnis beantragen wo",
		"Knöllchen bekommen obwohl ich einen Parkschein hatte, wie kann ich mich wehren?",
		"Danke!",
		"Bordstein absenken lassen für Garage Kosten",
	}
	const chats = 500
	// Warm-up, not measured: the first second of load also grows the
	// connection pool (a backend forked per connection, each statement
	// prepared on it) and warms caches. Its chats are not the measured ones.
	warm := warmUp
	if rate <= 0 {
		warm = 0
	}
	warmStart := time.Now()
	for i := range warm {
		if d := time.Until(warmStart.Add(time.Duration(float64(i) / rate * float64(time.Second)))); d > 0 {
			time.Sleep(d)
		}
		push(int64(90_000+i%chats), questions[i%len(questions)])
	}
	for e.fake.SentCount() < warm {
		time.Sleep(time.Millisecond)
	}
	base := e.fake.SentCount()
	n := b.N
	pushed := make([]time.Time, n)
	b.ResetTimer()
	start := time.Now()
	cpu0, pg0 := selfCPU(), postgresCPU(e.db)
	pool0 := e.db.Stats()
	claims0 := svc.claimCounts()
	polls0 := e.fake.CallCount("getUpdates")
	for i := range n {
		if rate > 0 {
			if d := time.Until(start.Add(time.Duration(float64(i) / rate * float64(time.Second)))); d > 0 {
				time.Sleep(d)
			}
		}
		pushed[i] = time.Now()
		push(int64(10_000+i%chats), questions[(i/chats+i)%len(questions)])
	}
	deadline := time.Now().Add(time.Duration(n)*10*time.Millisecond + 30*time.Second)
	for e.fake.SentCount()-base < n {
		if time.Now().After(deadline) {
			b.Fatalf("sent %d of %d", e.fake.SentCount()-base, n)
		}
		time.Sleep(time.Millisecond)
	}
	end := time.Now()
	b.StopTimer()
	cpu1, pg1 := selfCPU(), postgresCPU(e.db)

	// The k-th answer of a chat answers its k-th message (in order per chat).
	byChat := map[int64][]time.Time{}
	for _, m := range e.fake.Sent() {
		byChat[m.ChatID] = append(byChat[m.ChatID], m.Time)
	}
	lat := make([]float64, 0, n)
	seen := map[int64]int{}
	for i := range n {
		chat := int64(10_000 + i%chats)
		k := seen[chat]
		seen[chat]++
		if k < len(byChat[chat]) {
			lat = append(lat, byChat[chat][k].Sub(pushed[i]).Seconds()*1000)
		}
	}
	slices.Sort(lat)
	pct := func(p float64) float64 {
		if len(lat) == 0 {
			return 0
		}
		return lat[min(len(lat)-1, int(p*float64(len(lat))))]
	}
	tr.report(b, pushed, func(i int) int64 { return int64(10_000 + i%chats) }, byChat)
	pool1 := e.db.Stats()
	b.ReportMetric(float64((pool1.WaitDuration-pool0.WaitDuration).Microseconds())/float64(n), "pool_wait_us/update")
	perUpdate := func(v int64) float64 { return float64(v) / float64(n) }
	claims1 := svc.claimCounts()
	b.ReportMetric(perUpdate(int64(e.fake.CallCount("getUpdates")-polls0)), "polls/update")
	b.ReportMetric(float64(pool1.InUse+pool1.Idle), "db_conns")
	b.ReportMetric(perUpdate(claims1[0]-claims0[0]), "update_claims/update")
	b.ReportMetric(perUpdate(claims1[1]-claims0[1]), "empty_update_claims/update")
	b.ReportMetric(perUpdate(claims1[2]-claims0[2]), "outbox_claims/update")
	b.ReportMetric(perUpdate(claims1[3]-claims0[3]), "empty_outbox_claims/update")
	b.ReportMetric(float64(n)/end.Sub(start).Seconds(), "updates/s")
	b.ReportMetric(pct(0.50), "p50_ms")
	b.ReportMetric(pct(0.99), "p99_ms")
	b.ReportMetric(0, "ns/op")
	// CPU per update, of this process (service, fake server, pushing) and
	// of PostgreSQL: on a shared machine the wall-clock figures above depend
	// on the neighbours, these do not. 2 cores / (go + pg) is the capacity
	// of a dedicated 2-core machine.
	goCPU := float64((cpu1 - cpu0).Microseconds()) / float64(n)
	b.ReportMetric(goCPU, "go_cpu_us/update")
	if pg0 > 0 && pg1 > pg0 {
		pgCPU := float64((pg1 - pg0).Microseconds()) / float64(n)
		b.ReportMetric(pgCPU, "pg_cpu_us/update")
		b.ReportMetric(2e6/(goCPU+pgCPU), "capacity_2cores_updates/s")
	}
}

// warmUp is how many updates the paced run sends before it measures.
const warmUp = 1000

// claimCounts returns the claim counters: update claims, empty ones, outbox
// claims, empty ones.
func (s *Service) claimCounts() [4]int64 {
	return [4]int64{s.claims.updates.Load(), s.claims.updatesEmpty.Load(), s.claims.outbox.Load(), s.claims.outboxEmpty.Load()}
}

// stageTrace records when each update of a chat reached each stage: the
// k-th event of a stage of a chat belongs to the chat's k-th update (one
// answer per update, handled and sent in order per chat).
type stageTrace struct {
	mu sync.Mutex
	at [numStages]map[int64][]time.Time
}

func newStageTrace() *stageTrace {
	t := &stageTrace{}
	for i := range t.at {
		t.at[i] = map[int64][]time.Time{}
	}
	return t
}

func (t *stageTrace) record(st stage, chat int64) {
	now := time.Now()
	t.mu.Lock()
	t.at[st][chat] = append(t.at[st][chat], now)
	t.mu.Unlock()
}

// report logs the latency of each step of the path (push -> stored ->
// claimed -> committed -> send start -> send done -> recorded by the fake),
// at p50 and p99, and the same steps averaged over the slowest 1 % of
// updates: where the tail comes from.
func (t *stageTrace) report(b *testing.B, pushed []time.Time, chatOf func(int) int64, sent map[int64][]time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	names := []string{"poll+store", "wait claim", "handle+commit", "to sender", "send call", "fake record"}
	type row struct {
		total float64
		step  [6]float64
	}
	var rows []row
	seen := map[int64]int{}
	for i := range pushed {
		chat := chatOf(i)
		k := seen[chat]
		seen[chat]++
		ts := []time.Time{pushed[i]}
		ok := true
		for st := range numStages {
			l := t.at[st][chat]
			if k >= len(l) {
				ok = false
				break
			}
			ts = append(ts, l[k])
		}
		if !ok || k >= len(sent[chat]) {
			continue
		}
		ts = append(ts, sent[chat][k])
		var r row
		for j := range r.step {
			r.step[j] = ts[j+1].Sub(ts[j]).Seconds() * 1000
		}
		r.total = ts[len(ts)-1].Sub(ts[0]).Seconds() * 1000
		rows = append(rows, r)
	}
	if len(rows) == 0 {
		return
	}
	pct := func(v []float64, p float64) float64 {
		slices.Sort(v)
		return v[min(len(v)-1, int(p*float64(len(v))))]
	}
	slices.SortFunc(rows, func(a, b row) int {
		switch {
		case a.total < b.total:
			return -1
		case a.total > b.total:
			return 1
		}
		return 0
	})
	tail := rows[len(rows)*99/100:]
	var sb strings.Builder
	fmt.Fprintf(&sb, "breakdown of %d updates (ms): step p50 / p99 / mean over slowest 1%%", len(rows))
	for j, name := range names {
		v := make([]float64, len(rows))
		for i, r := range rows {
			v[i] = r.step[j]
		}
		var tm float64
		for _, r := range tail {
			tm += r.step[j]
		}
		tm /= float64(len(tail))
		fmt.Fprintf(&sb, "\n  %-14s %7.1f / %7.1f / %7.1f", name, pct(v, 0.5), pct(v, 0.99), tm)
		b.ReportMetric(pct(v, 0.99), strings.ReplaceAll(name, " ", "_")+"_p99_ms")
	}
	b.Log(sb.String())
}

// startTraced starts a Service with a stage trace.
func (e *env) startTraced(cfg Config, trace func(stage, int64)) *Service {
	s, err := NewService(e.db, e.m, testLogger(e.t), cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	s.trace = trace
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	e.t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			e.t.Errorf("Run did not return after cancel")
		}
	})
	return s
}
