package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"citybot/internal/db"
	"citybot/internal/tgfake"
)

// BenchmarkBinary measures the built citybot binary with its default
// settings, in a process of its own with its embedded PostgreSQL cluster
// (durable: fsync on, synchronous_commit on), against the fake Bot API, next
// to a bare go-telegram/bot echo bot (testdata/echobot: no database, no
// matching) run the same way in the same benchmark. Per mode (long polling,
// webhook) each bot gets a warm-up of 500 updates, then
//
//   - burst: 3,000 updates from 500 chats at once; updates/s from the first
//     push to the last answer, and the ratio citybot/echo;
//   - paced: 3,000 updates from 500 other chats at 1,000/s; p50/p99 from the
//     push to the answer arriving at the fake.
//
// For citybot it also reports, for the burst: CPU per update of the binary
// and of PostgreSQL, statements and commits per update (pg_stat_statements,
// pg_stat_database) and WAL flushes per update (pg_stat_wal). With
// CITYBOT_BENCH_PROFILE=DIR it writes the binary's CPU profile of the burst
// to DIR (go tool pprof DIR/citybot-polling-burst.pprof).
//
//	go test -run '^$' -bench BenchmarkBinary -benchtime 1x ./internal/e2e/
func BenchmarkBinary(b *testing.B) {
	bin := buildCitybot(b)
	echo := buildEchobot(b)
	for _, mode := range []string{"polling", "webhook"} {
		b.Run(mode, func(b *testing.B) {
			webhook := mode == "webhook"
			var acc = map[string]float64{}
			for range b.N {
				e := runEchoBench(b, echo, webhook)
				c := runCitybotBench(b, bin, webhook, mode)
				for k, v := range e {
					acc["echo_"+k] += v
				}
				for k, v := range c {
					acc[k] += v
				}
				b.Logf("%s: echo burst %.0f/s, citybot burst %.0f/s (ratio %.2f); paced p50/p99: echo %.1f/%.1f ms, citybot %.1f/%.1f ms",
					mode, e["burst_updates/s"], c["burst_updates/s"], c["burst_updates/s"]/e["burst_updates/s"],
					e["paced_p50_ms"], e["paced_p99_ms"], c["paced_p50_ms"], c["paced_p99_ms"])
				// What a burst update costs the machine in CPU, and the rate
				// that would use all of its cores for nothing else.
				echoCPU := e["cpu_us/update"] + e["fake_cpu_us/update"]
				cityCPU := c["citybot_cpu_us/update"] + c["pg_cpu_us/update"] + c["fake_cpu_us/update"]
				cores := float64(runtime.NumCPU())
				b.Logf("%s: CPU per burst update: echo %.0f µs (bot %.0f + fake API %.0f), citybot %.0f µs (binary %.0f + PostgreSQL %.0f + fake API %.0f); all %.0f cores busy: echo %.0f/s, citybot %.0f/s",
					mode, echoCPU, e["cpu_us/update"], e["fake_cpu_us/update"],
					cityCPU, c["citybot_cpu_us/update"], c["pg_cpu_us/update"], c["fake_cpu_us/update"],
					cores, cores*1e6/echoCPU, cores*1e6/cityCPU)
			}
			for k, v := range acc {
				b.ReportMetric(v/float64(b.N), k)
			}
			b.ReportMetric(acc["burst_updates/s"]/acc["echo_burst_updates/s"], "ratio_citybot/echo")
			b.ReportMetric(0, "ns/op")
		})
	}
}

var benchQuestions = []string{
	"Wie beantrage ich einen Personalausweis?",
	"muellabfuhr termine ahornweg",
	"Hallo",
	"Wann kommt die gelbe Tonne?",
	"Fuehrungszeugnis beantragen wo",
	"Knöllchen bekommen obwohl ich einen Parkschein hatte, wie kann ich mich wehren?",
	"Danke!",
	"Bordstein absenken lassen für Garage Kosten",
}

const (
	benchChats  = 500
	benchWarmUp = 500
	benchBurst  = 3000
	benchPaced  = 3000
	benchRate   = 1000.0
)

// buildEchobot builds testdata/echobot.
func buildEchobot(t testing.TB) string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOMOD").Output()
	must(t, err)
	bin := filepath.Join(t.TempDir(), "echobot")
	cmd := exec.Command("go", "build", "-o", bin, "./internal/e2e/testdata/echobot")
	cmd.Dir = filepath.Dir(strings.TrimSpace(string(out)))
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build echobot: %v\n%s", err, b)
	}
	return bin
}

// benchTarget is a bot under load: how Telegram hands it an update.
type benchTarget struct {
	fake *tgfake.Server
	push func(chat int64, text string)
	stop func()
}

// newBenchTarget makes push for the mode: queue for getUpdates, or post to
// webhookURL over 40 connections (a chat's updates over one, in order), as
// Telegram does.
func newBenchTarget(t testing.TB, fake *tgfake.Server, webhookURL, secret string) *benchTarget {
	bt := &benchTarget{fake: fake, push: func(chat int64, text string) { fake.PushText(chat, text) }, stop: func() {}}
	if webhookURL == "" {
		return bt
	}
	const conns = 40
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns}, Timeout: time.Minute}
	chans := make([]chan []byte, conns)
	var wg sync.WaitGroup
	for i := range chans {
		chans[i] = make(chan []byte, 4096)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for body := range chans[i] {
				for {
					req, _ := http.NewRequest(http.MethodPost, webhookURL, bytes.NewReader(body))
					req.Header.Set("Content-Type", "application/json")
					req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
					r, err := client.Do(req)
					if err == nil {
						_, _ = io.Copy(io.Discard, r.Body)
						r.Body.Close()
						if r.StatusCode == 200 {
							break
						}
					}
					t.Errorf("webhook: %v %v", r, err)
					time.Sleep(100 * time.Millisecond)
				}
			}
		}()
	}
	bt.push = func(chat int64, text string) {
		body, _ := json.Marshal(fake.TextUpdate(chat, text))
		chans[chat%conns] <- body
	}
	bt.stop = func() {
		for _, c := range chans {
			close(c)
		}
		wg.Wait()
	}
	return bt
}

// phase pushes n updates from benchChats chats starting at chat0 (at rate
// per second; 0: at once) and waits for their answers (one each). It
// returns updates/s and the latencies (ms, sorted).
func (bt *benchTarget) phase(t testing.TB, chat0 int64, n int, rate float64) (float64, []float64) {
	base := bt.fake.SentCount()
	pushed := make([]time.Time, n)
	start := time.Now()
	for i := range n {
		if rate > 0 {
			if d := time.Until(start.Add(time.Duration(float64(i) / rate * float64(time.Second)))); d > 0 {
				time.Sleep(d)
			}
		}
		pushed[i] = time.Now()
		bt.push(chat0+int64(i%benchChats), benchQuestions[(i/benchChats+i)%len(benchQuestions)])
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if _, err := bt.fake.AwaitSent(ctx, base+n); err != nil {
		t.Fatalf("%d of %d answered: %v", bt.fake.SentCount()-base, n, err)
	}
	end := time.Now()
	// The k-th answer of a chat answers its k-th message of the phase.
	byChat := map[int64][]time.Time{}
	for _, m := range bt.fake.Sent() {
		if m.ChatID >= chat0 && m.ChatID < chat0+benchChats {
			byChat[m.ChatID] = append(byChat[m.ChatID], m.Time)
		}
	}
	lat := make([]float64, 0, n)
	seen := map[int64]int{}
	for i := range n {
		chat := chat0 + int64(i%benchChats)
		k := seen[chat]
		seen[chat]++
		if k < len(byChat[chat]) {
			lat = append(lat, byChat[chat][k].Sub(pushed[i]).Seconds()*1000)
		}
	}
	slices.Sort(lat)
	return float64(n) / end.Sub(start).Seconds(), lat
}

func pct(lat []float64, p float64) float64 {
	if len(lat) == 0 {
		return 0
	}
	return lat[min(len(lat)-1, int(p*float64(len(lat))))]
}

// runPhases runs warm-up, burst and paced; around the burst it calls
// measure (nil: none) with the phase's name and false before, true after.
func runPhases(t testing.TB, bt *benchTarget, measure func(after bool, n int)) map[string]float64 {
	bt.phase(t, 1_000, benchWarmUp, benchRate)
	if measure != nil {
		measure(false, benchBurst)
	}
	rate, _ := bt.phase(t, 10_000, benchBurst, 0)
	if measure != nil {
		measure(true, benchBurst)
	}
	_, lat := bt.phase(t, 20_000, benchPaced, benchRate)
	return map[string]float64{"burst_updates/s": rate, "paced_p50_ms": pct(lat, 0.5), "paced_p99_ms": pct(lat, 0.99)}
}

func freeAddr(t testing.TB) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	defer ln.Close()
	return ln.Addr().String()
}

func runEchoBench(t testing.TB, bin string, webhook bool) map[string]float64 {
	fake := tgfake.New(t)
	cmd := exec.Command(bin)
	const secret = "benchsecret"
	cmd.Env = []string{"ECHOBOT_TOKEN=" + fake.Token(), "ECHOBOT_API_URL=" + fake.URL(), "ECHOBOT_WEBHOOK_SECRET=" + secret}
	addr := ""
	if webhook {
		addr = freeAddr(t)
		cmd.Env = append(cmd.Env, "ECHOBOT_WEBHOOK_ADDR="+addr)
	}
	var out procLog
	cmd.Stdout, cmd.Stderr = &out, &out
	must(t, cmd.Start())
	defer func() {
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
	}()
	url := ""
	if webhook {
		url = "http://" + addr + "/telegram/webhook"
		waitFor(t, "the echo bot's webhook", 10*time.Second, func() bool {
			c, err := net.Dial("tcp", addr)
			if err == nil {
				c.Close()
			}
			return err == nil
		})
	}
	bt := newBenchTarget(t, fake, url, secret)
	defer bt.stop()
	var bot, self time.Duration
	measured := map[string]float64{}
	res := runPhases(t, bt, func(after bool, n int) {
		b, f := procCPU(cmd.Process.Pid), selfCPU()
		if !after {
			bot, self = b, f
			return
		}
		measured["cpu_us/update"] = float64((b - bot).Microseconds()) / float64(n)
		measured["fake_cpu_us/update"] = float64((f - self).Microseconds()) / float64(n)
	})
	for k, v := range measured {
		res[k] = v
	}
	return res
}

// procCPU is the CPU time (user and system) a process has used so far.
func procCPU(pid int) time.Duration {
	if f := procStat(pid); len(f) > 15 {
		return ticks(f, 14, 15)
	}
	return 0
}

// selfCPU is the CPU time of this process (the fake Bot API, and the
// benchmark's pushing and waiting).
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func runCitybotBench(t testing.TB, bin string, webhook bool, name string) map[string]float64 {
	// The embedded cluster, as the binary would start it (fsync on), with
	// pg_stat_statements loaded to count statements; the binary attaches
	// to it instead of starting its own.
	pgDir := filepath.Join(t.TempDir(), "pg")
	if os.Geteuid() == 0 {
		// Where the postgres OS user can reach it.
		pgDir = filepath.Join(db.SystemClusterRoot, fmt.Sprintf("bench-%d-%s", os.Getpid(), name))
	}
	ctx := context.Background()
	local, err := db.StartLocal(ctx, db.LocalOptions{Dir: pgDir, Settings: []string{"shared_preload_libraries=pg_stat_statements"}})
	must(t, err)
	defer func() {
		_ = local.Stop()
		os.RemoveAll(pgDir)
	}()

	fake := tgfake.New(t)
	const secret = "benchsecret"
	addr := freeAddr(t)
	env := []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"),
		"CITYBOT_DATA_DIR=" + filepath.Join(t.TempDir(), "data"),
		"CITYBOT_PG_DIR=" + pgDir,
		"CITYBOT_TELEGRAM_TOKEN=" + fake.Token(),
		"CITYBOT_TELEGRAM_API_URL=" + fake.URL(),
		"CITYBOT_HTTP_ADDR=" + addr,
		// Not the default port: another service on the machine may hold it.
		"CITYBOT_METRICS_ADDR=127.0.0.1:0",
		"CITYBOT_LOG_FORMAT=json",
		"CITYBOT_LOG_LEVEL=warn",
	}
	// Settings to try against the defaults, e.g. CITYBOT_BENCH_ENV="CITYBOT_WORKERS=32".
	env = append(env, strings.Fields(os.Getenv("CITYBOT_BENCH_ENV"))...)
	profileDir := os.Getenv("CITYBOT_BENCH_PROFILE")
	debugAddr := ""
	if profileDir != "" {
		debugAddr = freeAddr(t)
		env = append(env, "CITYBOT_DEBUG_ADDR="+debugAddr)
	}
	url := ""
	if webhook {
		env = append(env, "CITYBOT_PUBLIC_URL=http://"+addr, "CITYBOT_TELEGRAM_WEBHOOK_SECRET="+secret)
		url = "http://" + addr + "/telegram/webhook"
	}
	log := &procLog{}
	showLogOnFailure(t, log)
	// Warn level: the ready line with the URL is not logged; wait for /readyz.
	cmd := exec.Command(bin, "serve")
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = log, log
	must(t, cmd.Start())
	defer func() {
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
	}()
	waitFor(t, "citybot ready", 60*time.Second, func() bool {
		r, err := http.Get("http://" + addr + "/readyz")
		if err != nil {
			return false
		}
		r.Body.Close()
		return r.StatusCode == 200
	})

	stats, err := db.Open(ctx, local.URL("citybot"))
	must(t, err)
	defer stats.Close()
	_, err = stats.Exec(`CREATE EXTENSION IF NOT EXISTS pg_stat_statements`)
	must(t, err)

	bt := newBenchTarget(t, fake, url, secret)
	defer bt.stop()
	var before benchCounters
	var profile chan []byte
	measured := map[string]float64{}
	res := runPhases(t, bt, func(after bool, n int) {
		if !after {
			_, err := stats.Exec(`SELECT pg_stat_statements_reset()`)
			must(t, err)
			before = readCounters(t, stats, cmd.Process.Pid, local.Dir())
			before.polls = fake.CallCount("getUpdates")
			if profileDir != "" {
				profile = make(chan []byte, 1)
				go func() {
					r, err := http.Get("http://" + debugAddr + "/debug/pprof/profile?seconds=3")
					if err != nil {
						profile <- nil
						return
					}
					defer r.Body.Close()
					b, _ := io.ReadAll(r.Body)
					profile <- b
				}()
			}
			return
		}
		a := readCounters(t, stats, cmd.Process.Pid, local.Dir())
		logTopStatements(t, stats, name, n)
		per := func(v float64) float64 { return v / float64(n) }
		res := map[string]float64{
			"citybot_cpu_us/update":   per(float64((a.goCPU - before.goCPU).Microseconds())),
			"pg_cpu_us/update":        per(float64((a.pgCPU - before.pgCPU).Microseconds())),
			"fake_cpu_us/update":      per(float64((a.selfCPU - before.selfCPU).Microseconds())),
			"statements/update":       per(a.calls - before.calls),
			"commits/update":          per(a.commits - before.commits),
			"wal_flushes/update":      per(a.walSyncs - before.walSyncs),
			"pg_exec_ms/update":       per(a.execMS - before.execMS),
			"get_updates/update":      per(float64(fake.CallCount("getUpdates") - before.polls)),
			"citybot_rss_mb_at_burst": a.rssMB,
		}
		for k, v := range res {
			measured[k] = v
		}
	})
	for k, v := range measured {
		res[k] = v
	}
	if profile != nil {
		if p := <-profile; len(p) > 0 {
			must(t, os.MkdirAll(profileDir, 0o755))
			f := filepath.Join(profileDir, "citybot-"+name+"-burst.pprof")
			must(t, os.WriteFile(f, p, 0o644))
			t.Logf("CPU profile of the burst: %s", f)
		}
	}
	return res
}

// logTopStatements logs where PostgreSQL spent its time in the burst of n
// updates: the statements by total execution time.
func logTopStatements(t testing.TB, stats *sqlx.DB, name string, n int) {
	var rows []struct {
		Query string  `db:"query"`
		Calls float64 `db:"calls"`
		MS    float64 `db:"ms"`
		Rows  float64 `db:"rows"`
		Hit   float64 `db:"hit"`
	}
	must(t, stats.Select(&rows, `
		SELECT regexp_replace(left(query, 90), '\s+', ' ', 'g') AS query, calls::float8 AS calls,
			total_exec_time AS ms, rows::float8 AS rows,
			(shared_blks_hit + shared_blks_read)::float8 AS hit
		FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT 20`))
	var b strings.Builder
	fmt.Fprintf(&b, "%s burst, PostgreSQL statements by execution time (per update: calls, ms, rows, buffers):\n", name)
	for _, r := range rows {
		fmt.Fprintf(&b, "  %6.3f calls %7.3f ms %6.2f rows %7.1f bufs  %s\n", r.Calls/float64(n), r.MS/float64(n), r.Rows/float64(n), r.Hit/float64(n), r.Query)
	}
	t.Log(b.String())
}

type benchCounters struct {
	goCPU, pgCPU, selfCPU            time.Duration
	calls, commits, walSyncs, execMS float64
	polls                            int
	rssMB                            float64
}

func readCounters(t testing.TB, stats *sqlx.DB, pid int, clusterDir string) benchCounters {
	var c benchCounters
	must(t, stats.Get(&c.calls, `SELECT COALESCE(sum(calls), 0)::float8 FROM pg_stat_statements`))
	must(t, stats.Get(&c.execMS, `SELECT COALESCE(sum(total_exec_time), 0)::float8 FROM pg_stat_statements`))
	must(t, stats.Get(&c.commits, `SELECT xact_commit::float8 FROM pg_stat_database WHERE datname = 'citybot'`))
	must(t, stats.Get(&c.walSyncs, `SELECT wal_sync::float8 FROM pg_stat_wal`))
	c.selfCPU = selfCPU()
	f := procStat(pid)
	if len(f) > 21 {
		c.goCPU = ticks(f, 14, 15)
		pages, _ := strconv.ParseFloat(f[24-3], 64)
		c.rssMB = pages * float64(os.Getpagesize()) / (1 << 20)
	}
	b, err := os.ReadFile(filepath.Join(clusterDir, "pgdata", "postmaster.pid"))
	must(t, err)
	pm, _ := strconv.Atoi(strings.SplitN(string(b), "\n", 2)[0])
	if f := procStat(pm); len(f) > 15 {
		c.pgCPU = ticks(f, 14, 15, 16, 17)
		procs, _ := os.ReadDir("/proc")
		for _, p := range procs {
			if f := procStat(atoi(p.Name())); len(f) > 15 && f[1] == strconv.Itoa(pm) {
				c.pgCPU += ticks(f, 14, 15)
			}
		}
	}
	return c
}

func atoi(s string) int { n, _ := strconv.Atoi(s); return n }

// procStat is /proc/pid/stat from field 3 (state) on.
func procStat(pid int) []string {
	if pid <= 0 {
		return nil
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return nil
	}
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 {
		return strings.Fields(s[i+2:])
	}
	return nil
}

// ticks sums the given fields (1-based, as in proc(5)) of clock ticks.
func ticks(f []string, idx ...int) time.Duration {
	var n int64
	for _, i := range idx {
		v, _ := strconv.ParseInt(f[i-3], 10, 64)
		n += v
	}
	return time.Duration(n) * time.Second / 100
}
