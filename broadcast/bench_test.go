package broadcast_test

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"citybot/broadcast"
)

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// BenchmarkFanout sends one post to many subscribers through the fake Bot
// API at a configured rate and reports the achieved rate. Sizes:
// BROADCAST_BENCH_N subscribers (default 100000) at BROADCAST_BENCH_RATE
// messages/s (default 1700), about a minute per run:
//
//	go test -run '^$' -bench BenchmarkFanout -benchtime 1x ./broadcast/
//
// Sub-benchmarks: clean; 5 % of sends answered 429 with retry_after 0 (the
// cost of the retries alone); and 5 % answered 429 with retry_after 1 s on
// a smaller population (every 429 pauses the whole sender for a second, so
// the rate is bound by the 429s, not by the configured rate).
func BenchmarkFanout(b *testing.B) {
	n := envInt("BROADCAST_BENCH_N", 100000)
	r := envInt("BROADCAST_BENCH_RATE", 1700)
	b.Run("clean", func(b *testing.B) { benchFanout(b, n, float64(r), 0, 0) })
	b.Run("429-5pct-retry0", func(b *testing.B) { benchFanout(b, n, float64(r), 0.05, 0) })
	b.Run("429-5pct-retry1s", func(b *testing.B) {
		benchFanout(b, envInt("BROADCAST_BENCH_N_429", 1000), float64(r), 0.05, 1)
	})
}

func benchFanout(b *testing.B, n int, rate, frac429 float64, retryAfter int) {
	e := newEnv(b)
	e.fake.RecordBodies(false)
	ctx := context.Background()
	s := broadcast.New(e.db, e.sender, broadcast.Config{Rate: rate, PollInterval: 100 * time.Millisecond, Workers: envInt("BROADCAST_BENCH_WORKERS", 0)})
	tp := e.topic(s, "aktuelles")
	if _, err := e.db.Exec(`
		WITH c AS (
			INSERT INTO citizens (channel, external_id)
			SELECT 'telegram', (1000000 + g)::text FROM generate_series(1, $1) g
			RETURNING id)
		INSERT INTO subscriptions (citizen_id, topic_id) SELECT id, $2 FROM c`, n, tp.ID); err != nil {
		b.Fatal(err)
	}
	if _, err := e.db.Exec(`VACUUM ANALYZE`); err != nil {
		b.Fatal(err)
	}
	run(b, s)
	var total, sending time.Duration
	var calls, sent int
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		e.fake.ResetRecords()
		if frac429 > 0 {
			e.fake.SetRandom429(frac429, retryAfter)
		}
		start := time.Now()
		p := e.post(s, broadcast.PostInput{Text: "Benchmark " + strconv.Itoa(i), TopicIDs: []int64{tp.ID}}, time.Time{})
		if _, err := e.fake.AwaitSent(ctx, 1); err != nil {
			b.Fatal(err)
		}
		first := time.Now()
		waitStatus(b, s, p.ID, broadcast.StatusSent, 2*time.Hour)
		end := time.Now()
		e.fake.SetRandom429(0, 0)
		total += end.Sub(start)
		sending += end.Sub(first)
		sent += e.fake.SentCount()
		calls += e.fake.CallCount("sendMessage")
		if got := e.fake.SentCount(); got != n {
			b.Errorf("fake server got %d messages for %d subscribers", got, n)
		}
		pr, err := s.Progress(ctx, p.ID)
		if err != nil || pr.Sent != n {
			b.Errorf("progress %+v, %v", pr, err)
		}
	}
	b.StopTimer()
	achieved := float64(sent) / sending.Seconds()
	b.ReportMetric(float64(n), "subscribers")
	b.ReportMetric(rate, "configured/s")
	b.ReportMetric(achieved, "achieved/s")
	b.ReportMetric(achieved/rate, "achieved/configured")
	b.ReportMetric(float64(sent)/total.Seconds()/rate, "incl_fanout/configured")
	b.ReportMetric(float64(calls-sent)/float64(b.N), "429s")
	b.Logf("%d subscribers: %d sent by %d calls in %v (%v from first send); %.1f/s of %.0f/s configured",
		n, sent, calls, total.Round(time.Millisecond), sending.Round(time.Millisecond), achieved, rate)
}
