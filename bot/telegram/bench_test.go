package telegram

import (
	"os"
	"slices"
	"strconv"
	"testing"
	"time"
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
// capacity.
func BenchmarkThroughput(b *testing.B) {
	rate := 1000.0
	if v, err := strconv.ParseFloat(os.Getenv("CITYBOT_BENCH_RATE"), 64); err == nil && v > 0 {
		rate = v
	}
	b.Run("paced", func(b *testing.B) { benchThroughput(b, rate) })
	b.Run("burst", func(b *testing.B) { benchThroughput(b, 0) })
}

func benchThroughput(b *testing.B, rate float64) {
	e := newEnv(b)
	e.start(e.config(func(c *Config) {
		c.Workers = 8
		c.Senders = 8
		c.IdleInterval = 200 * time.Millisecond
	}))
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
	n := b.N
	pushed := make([]time.Time, n)
	b.ResetTimer()
	start := time.Now()
	cpu0, pg0 := selfCPU(), postgresCPU(e.db)
	for i := range n {
		if rate > 0 {
			if d := time.Until(start.Add(time.Duration(float64(i) / rate * float64(time.Second)))); d > 0 {
				time.Sleep(d)
			}
		}
		pushed[i] = time.Now()
		e.fake.PushText(int64(10_000+i%chats), questions[(i/chats+i)%len(questions)])
	}
	deadline := time.Now().Add(time.Duration(n)*10*time.Millisecond + 30*time.Second)
	for e.fake.SentCount() < n {
		if time.Now().After(deadline) {
			b.Fatalf("sent %d of %d", e.fake.SentCount(), n)
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
