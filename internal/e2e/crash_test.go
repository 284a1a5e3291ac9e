package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"citybot/broadcast"
	"citybot/faq"
	"citybot/internal/dbtest"
	"citybot/internal/demodata"
	"citybot/internal/tgfake"
	"citybot/routing"
	"citybot/staff"
)

// TestCrashKill9 runs the real citybot binary against a real PostgreSQL and
// the fake Telegram server, kills it with SIGKILL in the middle of its work
// and starts it again on the same database: the promises of "a crash between
// intake and answer -> answered once after restart" (the bot) and "after a
// kill -9 it resumes where it stopped" (broadcast fan-out) are checked on a
// real process, not a simulated crash.
//
// One window is inherent and measured, not hidden: a message that Telegram
// accepted just before the kill, whose "sent" was not yet committed, is sent
// again after restart (Telegram has no idempotency key). The test predicts
// those duplicates exactly from the state at the kill (sends the fake server
// recorded that the database does not show as sent) and requires the final
// count to equal the prediction and to stay within the sends that can be in
// flight at once.
//
// Leases: what the killed process had claimed (updates, outbox rows,
// deliveries; leased for 2 minutes) is taken over by the restarted process
// within seconds, because the killed process's instance lock died with it;
// the test checks that no lease had to run out.
func TestCrashKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildCitybot(t)
	t.Run("bot", func(t *testing.T) { testCrashBot(t, bin) })
	t.Run("bot_retry", func(t *testing.T) { testCrashBotRetry(t, bin) })
	t.Run("broadcast", func(t *testing.T) { testCrashBroadcast(t, bin) })
}

// buildCitybot builds ./cmd/citybot into a temporary directory.
func buildCitybot(t testing.TB) string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOMOD").Output()
	must(t, err)
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		t.Fatal("not inside the citybot module")
	}
	bin := filepath.Join(t.TempDir(), "citybot")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/citybot")
	cmd.Dir = filepath.Dir(gomod)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/citybot: %v\n%s", err, b)
	}
	return bin
}

// ---- the process ----

// procLog collects the stderr of all runs of the binary (shown when the test
// fails) and finds the URL the web UI listens on.
type procLog struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	part  []byte // an incomplete last line
	urlCh chan string
}

func (l *procLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf.Write(p)
	l.part = append(l.part, p...)
	for {
		i := bytes.IndexByte(l.part, '\n')
		if i < 0 {
			break
		}
		line := l.part[:i]
		var m struct {
			URL string `json:"url"`
		}
		if json.Unmarshal(line, &m) == nil && m.URL != "" && l.urlCh != nil {
			select {
			case l.urlCh <- m.URL:
			default:
			}
		}
		l.part = append(l.part[:0], l.part[i+1:]...)
	}
	return len(p), nil
}

func (l *procLog) mark(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(&l.buf, "----- %s %s -----\n", time.Now().Format("15:04:05.000"), s)
}

func (l *procLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.buf.String()
	if len(s) > 64<<10 {
		s = "...\n" + s[len(s)-64<<10:]
	}
	return s
}

// proc is one run of the binary.
type proc struct {
	cmd  *exec.Cmd
	done chan struct{}
	err  error
	url  string
}

// citybotEnv is the environment of the binary: nothing of the test's own
// CITYBOT_ settings, only what is given here.
func citybotEnv(t testing.TB, dbURL string, fake *tgfake.Server) []string {
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + os.Getenv("HOME"),
		"DATABASE_URL=" + dbURL,
		"CITYBOT_TELEGRAM_TOKEN=" + fake.Token(),
		"CITYBOT_TELEGRAM_API_URL=" + fake.URL(),
		"CITYBOT_HTTP_ADDR=127.0.0.1:0",
		"CITYBOT_METRICS_ADDR=127.0.0.1:0",
		"CITYBOT_DEMO=true",
		"CITYBOT_DATA_DIR=" + t.TempDir(),
		"CITYBOT_BROADCAST_RATE=200",
		"CITYBOT_LOG_FORMAT=json",
	}
	if tz := os.Getenv("TZ"); tz != "" {
		env = append(env, "TZ="+tz)
	}
	return env
}

// startCitybot starts the binary and waits until /readyz answers 200.
func startCitybot(t testing.TB, bin string, env []string, log *procLog, name string) *proc {
	t.Helper()
	log.mark("start " + name)
	urlCh := make(chan string, 1)
	log.mu.Lock()
	log.urlCh = urlCh
	log.mu.Unlock()
	cmd := exec.Command(bin, "serve")
	cmd.Env = env
	cmd.Stdout = log
	cmd.Stderr = log
	must(t, cmd.Start())
	p := &proc{cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
			return
		default:
		}
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-p.done:
		case <-time.After(20 * time.Second):
			t.Errorf("%s did not stop on SIGINT", name)
			_ = cmd.Process.Kill()
			<-p.done
		}
	})
	select {
	case p.url = <-urlCh:
	case <-p.done:
		t.Fatalf("%s exited at start-up: %v\n%s", name, p.err, log)
	case <-time.After(30 * time.Second):
		t.Fatalf("%s did not log its URL within 30s\n%s", name, log)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		r, err := http.Get(p.url + "/readyz")
		if err == nil {
			r.Body.Close()
			if r.StatusCode == http.StatusOK {
				return p
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not ready after 20s (%v)\n%s", name, err, log)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// kill9 kills the process with SIGKILL and waits until it is gone.
func (p *proc) kill9(t testing.TB) {
	t.Helper()
	must(t, p.cmd.Process.Kill())
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		t.Fatal("the killed process did not exit")
	}
}

// killAfterSent kills p with SIGKILL as soon as the fake server accepted n
// messages.
func killAfterSent(t testing.TB, fake *tgfake.Server, n int, p *proc) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := fake.AwaitSent(ctx, n); err != nil {
		t.Fatal(err)
	}
	p.kill9(t)
}

func showLogOnFailure(t testing.TB, log *procLog) {
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("citybot output:\n%s", log)
		}
	})
}

func waitFor(t testing.TB, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func count(t testing.TB, d *sqlx.DB, query string, args ...any) int {
	t.Helper()
	var n int
	must(t, d.Get(&n, query, args...))
	return n
}

func statusCounts(t testing.TB, d *sqlx.DB, table string) map[string]int {
	t.Helper()
	var rows []struct {
		Status string `db:"status"`
		N      int    `db:"n"`
	}
	must(t, d.Select(&rows, `SELECT status, count(*) AS n FROM `+table+` GROUP BY status`))
	m := map[string]int{}
	for _, r := range rows {
		m[r.Status] = r.N
	}
	return m
}

// ---- the bot ----

// crashQuestion is a text a citizen writes and what its one reply must be.
type crashQuestion struct {
	text  string
	title string // an FAQ answer: the reply starts with the entry's question; "" small talk
}

// crashQuestions picks texts the loaded FAQ answers directly or takes as
// small talk: each gets exactly one reply message, and none opens a case
// (which would change how the chat's later messages are handled).
func crashQuestions(t testing.TB, d *sqlx.DB) []crashQuestion {
	t.Helper()
	live := faq.NewLive(faq.NewStore(d), logger(t))
	must(t, live.Reload(context.Background()))
	ds, err := faq.ReadDatasetFS(demodata.FS)
	must(t, err)
	var texts []string
	for _, e := range ds.Entries {
		texts = append(texts, e.Question)
		texts = append(texts, e.Variants...)
	}
	qs, err := faq.LoadQuestionsFS(demodata.FS)
	must(t, err)
	for _, q := range qs {
		if q.Q != "" {
			texts = append(texts, q.Q)
		}
	}
	var answers, small []crashQuestion
	for _, txt := range texts {
		r := live.Match(txt)
		switch r.Decision {
		case faq.DecisionAnswer:
			e, ok := live.Entry(r.Answer.EntryID)
			if !ok || tgfake.UTF16Len(e.Question+e.Answer) > 3500 {
				continue
			}
			answers = append(answers, crashQuestion{text: txt, title: strings.TrimSpace(e.Question)})
		case faq.DecisionSmalltalk:
			small = append(small, crashQuestion{text: txt})
		}
	}
	for _, txt := range []string{"Hallo", "Danke!", "Guten Morgen", "Vielen Dank, tschüss", "Hi", "Moin"} {
		if live.Match(txt).Decision == faq.DecisionSmalltalk {
			small = append(small, crashQuestion{text: txt})
		}
	}
	if len(answers) < 20 || len(small) < 2 {
		t.Fatalf("too few usable texts: %d answers, %d small talk", len(answers), len(small))
	}
	// Four in five are FAQ questions, the rest small talk, such that with
	// message i going to chat i%50 no chat gets two small talk messages in a
	// row: their replies may be the same text, and a repeated reply must
	// mean a repeated send (every FAQ answer differs by its feedback
	// buttons).
	var out []crashQuestion
	for i := 0; len(out) < 250; i++ {
		if (i+i/50)%5 == 4 {
			out = append(out, small[i%len(small)])
		} else {
			out = append(out, answers[(i*7)%len(answers)])
		}
	}
	return out
}

func testCrashBot(t *testing.T, bin string) {
	const (
		chats   = 50
		updates = 200
		chat0   = 7000
	)
	d, dbURL := dbtest.NewWithURL(t)
	fake := tgfake.New(t, tgfake.WithPollCap(500*time.Millisecond))
	log := &procLog{}
	showLogOnFailure(t, log)
	env := citybotEnv(t, dbURL, fake)

	p1 := startCitybot(t, bin, env, log, "first run")
	qs := crashQuestions(t, d) // the demo FAQ is loaded now

	// Slow Telegram down a little, so that a backlog builds up: when the
	// process dies, updates are stored but not handled, handled but not
	// sent, and sends are in flight.
	fake.SetLatency(30 * time.Millisecond)

	// Citizens write: 200 messages from 50 chats, the first 120 at once
	// (a backlog of stored, unanswered updates), the rest within a second,
	// some of them while the process is dead.
	want := map[int64][]crashQuestion{}
	for i := range updates {
		chat := int64(chat0 + 1 + i%chats)
		want[chat] = append(want[chat], qs[i])
	}
	var pushMu sync.Mutex
	var pushed []int // update ids in push order
	pushDone := make(chan struct{})
	go func() {
		defer close(pushDone)
		for i := range updates {
			pushMu.Lock()
			pushed = append(pushed, fake.PushText(int64(chat0+1+i%chats), qs[i].text))
			pushMu.Unlock()
			if i >= 120 {
				time.Sleep(10 * time.Millisecond)
			}
		}
	}()

	// Kill at once when the 40th answer is accepted (the worst moment:
	// sends just answered by Telegram are not recorded yet).
	killAfterSent(t, fake, 40, p1)
	log.mark("killed")
	time.Sleep(100 * time.Millisecond) // requests the fake server still finishes

	// The state the kill left behind.
	sentAtKill := fake.SentCount()
	pushMu.Lock()
	pushedAtKill := len(pushed)
	pendingAtKill := fake.Pending() // not yet confirmed to Telegram
	confirmed := append([]int(nil), pushed[:pushedAtKill-pendingAtKill]...)
	pushMu.Unlock()
	upd := statusCounts(t, d, "telegram_updates")
	out := statusCounts(t, d, "outbox")
	stored := count(t, d, `SELECT count(*) FROM telegram_updates`)
	// Per chat: messages Telegram accepted that the outbox does not show as
	// sent. They are sent again after restart: the inherent window.
	inFlight := map[int64]int{}
	predicted := 0
	for chat := range want {
		n := len(fake.SentTo(chat)) - count(t, d,
			`SELECT count(*) FROM outbox WHERE channel = 'telegram' AND chat_id = $1 AND status = 'sent'`, strconv.FormatInt(chat, 10))
		if n < 0 {
			t.Errorf("chat %d: the outbox shows %d more sent rows than Telegram got", chat, -n)
		}
		if n > 0 {
			inFlight[chat] = n
			predicted += n
		}
	}
	t.Logf("killed after %d answers: pushed %d, confirmed to Telegram %d, stored %d; updates %v; outbox %v; sends accepted but not recorded: %d",
		sentAtKill, pushedAtKill, pushedAtKill-pendingAtKill, stored, upd, out, predicted)
	if sentAtKill >= updates {
		t.Fatalf("all %d answered before the kill: nothing was tested", updates)
	}
	// The window of issue 2: confirmed to Telegram but not answered when
	// the process died (not handled yet: updates pending or processing; or
	// handled, with the answer still in the outbox). Which of the two holds
	// how many depends on the timing; together they are always many.
	t.Logf("confirmed but unanswered at the kill: %d (not handled: %d; answer not sent: %d)",
		len(confirmed)-sentAtKill, upd["pending"]+upd["processing"], len(confirmed)-sentAtKill-upd["pending"]-upd["processing"])
	if len(confirmed)-sentAtKill < 20 {
		t.Errorf("only %d confirmed updates were unanswered at the kill: the crash window was barely hit", len(confirmed)-sentAtKill)
	}
	// What Telegram was told had arrived was stored first.
	if n := count(t, d, `SELECT count(*) FROM telegram_updates WHERE update_id = ANY($1)`, pq.Array(confirmed)); n != len(confirmed) {
		t.Errorf("only %d of the %d updates confirmed to Telegram were stored", n, len(confirmed))
	}

	// The killed process's claims: leased for 2 minutes, taken over by the
	// next instance at once.
	var killedIDs []int64
	must(t, d.Select(&killedIDs, `
		SELECT DISTINCT claimed_by FROM telegram_updates WHERE status = 'processing' AND claimed_by IS NOT NULL
		UNION SELECT DISTINCT claimed_by FROM outbox WHERE status = 'sending' AND claimed_by IS NOT NULL`))
	nu := count(t, d, `SELECT count(*) FROM telegram_updates WHERE status = 'processing' AND locked_until > now() + interval '10 seconds'`)
	no := count(t, d, `SELECT count(*) FROM outbox WHERE status = 'sending' AND locked_until > now() + interval '10 seconds'`)
	t.Logf("claims of the killed process with their lease running: %d updates, %d outbox rows", nu, no)
	restarted := time.Now()

	startCitybot(t, bin, env, log, "after kill -9")
	waitFor(t, "the killed process's claims taken over", 15*time.Second, func() bool {
		return count(t, d, `SELECT count(*) FROM telegram_updates WHERE status = 'processing' AND locked_until > now() AND claimed_by = ANY($1)`, pq.Array(killedIDs)) == 0 &&
			count(t, d, `SELECT count(*) FROM outbox WHERE status = 'sending' AND locked_until > now() AND claimed_by = ANY($1)`, pq.Array(killedIDs)) == 0
	})
	t.Logf("claims taken over %v after the restart began", time.Since(restarted).Round(time.Millisecond))
	<-pushDone

	// Every update answered; then quiet: nothing left to do.
	waitFor(t, "every update answered", 40*time.Second, func() bool {
		for chat, qs := range want {
			if len(fake.SentTo(chat)) < len(qs) {
				return false
			}
		}
		return true
	})
	waitFor(t, "the queues to drain", 10*time.Second, func() bool {
		return count(t, d, `SELECT count(*) FROM telegram_updates WHERE status IN ('pending', 'processing')`) == 0 &&
			count(t, d, `SELECT count(*) FROM outbox WHERE status IN ('pending', 'sending')`) == 0
	})
	time.Sleep(300 * time.Millisecond)

	if n := count(t, d, `SELECT count(*) FROM telegram_updates`); n != updates {
		t.Errorf("%d updates stored, want %d", n, updates)
	}
	if n := count(t, d, `SELECT count(*) FROM telegram_updates WHERE status <> 'done'`); n != 0 {
		t.Errorf("%d updates not done: %v", n, statusCounts(t, d, "telegram_updates"))
	}
	if n := count(t, d, `SELECT count(*) FROM messages WHERE direction = 'in'`); n != updates {
		t.Errorf("%d inbound messages stored, want %d (one per update)", n, updates)
	}

	// Per chat, in order: one reply per message; a reply repeated right
	// after itself is a duplicate, allowed only where a send was in flight.
	dups, exact := 0, 0
	for chat, qs := range want {
		got := fake.SentTo(chat)
		budget := inFlight[chat]
		j := 0
		for k, m := range got {
			if k > 0 && budget > 0 && m.Text == got[k-1].Text && m.Params["reply_markup"] == got[k-1].Params["reply_markup"] {
				budget--
				dups++
				continue
			}
			if j >= len(qs) {
				t.Errorf("chat %d: extra message %q", chat, m.PlainText)
				continue
			}
			q := qs[j]
			j++
			cb := m.ReplyMarkup.CallbackData()
			switch {
			case q.title != "" && (!strings.HasPrefix(m.PlainText, q.title) || len(cb) < 2 || !strings.HasPrefix(cb[len(cb)-2], "fb:")):
				t.Errorf("chat %d reply %d to %q = %q %v, want the answer %q with feedback buttons", chat, j, q.text, m.PlainText, cb, q.title)
			case q.title == "" && (m.ReplyMarkup != nil || m.PlainText == ""):
				t.Errorf("chat %d reply %d to small talk %q = %q %v", chat, j, q.text, m.PlainText, cb)
			default:
				exact++
			}
		}
		if j != len(qs) {
			t.Errorf("chat %d: %d of %d messages answered", chat, j, len(qs))
		}
	}
	t.Logf("answers: %d of %d exactly once and in order; duplicates %d (predicted at the kill: %d)", exact, updates, dups, predicted)
	logRecordLag(t, d, fake)
	if dups != predicted {
		t.Errorf("%d duplicates, but %d sends were in flight at the kill", dups, predicted)
	}
	// At most one row per sender can be in its Bot API call, and four per
	// sender between Telegram's answer and its "sent" record (recorded in
	// the background, telegram.maxRecording; 8 senders by default).
	if predicted > 8+4*8 {
		t.Errorf("%d sends in flight at the kill, more than the 8 senders and their 32 records", predicted)
	}
}

// testCrashBotRetry kills the process while the answers wait for their
// next delivery attempt after 500s: after restart each is delivered once,
// and the attempts made before the kill still count.
func testCrashBotRetry(t *testing.T, bin string) {
	const chats = 10
	d, dbURL := dbtest.NewWithURL(t)
	fake := tgfake.New(t, tgfake.WithPollCap(500*time.Millisecond))
	log := &procLog{}
	showLogOnFailure(t, log)
	env := citybotEnv(t, dbURL, fake)

	p1 := startCitybot(t, bin, env, log, "first run")
	qs := crashQuestions(t, d)
	// Two rounds of 500s: attempt 1 retries after 1 s, attempt 2 after 2 s.
	fake.FailNext("sendMessage", 2*chats, tgfake.ServerError())
	for i := range chats {
		fake.PushText(int64(8001+i), qs[i].text)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := fake.AwaitCalls(ctx, "sendMessage", 2*chats); err != nil {
		t.Fatal(err)
	}
	p1.kill9(t)
	log.mark("killed")
	time.Sleep(100 * time.Millisecond)
	if n := fake.SentCount(); n != 0 {
		t.Fatalf("%d messages delivered before the kill", n)
	}
	t.Logf("killed after %d failed sends: outbox %v", len(fake.Calls("sendMessage")), statusCounts(t, d, "outbox"))
	n := count(t, d, `SELECT count(*) FROM outbox WHERE status = 'sending' AND locked_until > now() + interval '10 seconds'`)
	t.Logf("outbox rows claimed by the killed process, lease running: %d", n)

	startCitybot(t, bin, env, log, "after kill -9")
	waitFor(t, "every answer delivered", 30*time.Second, func() bool {
		return count(t, d, `SELECT count(*) FROM outbox WHERE status IN ('pending', 'sending')`) == 0
	})
	time.Sleep(300 * time.Millisecond)
	for i := range chats {
		got := fake.SentTo(int64(8001 + i))
		if len(got) != 1 {
			t.Errorf("chat %d got %d messages, want 1", 8001+i, len(got))
		} else if qs[i].title != "" && !strings.HasPrefix(got[0].PlainText, qs[i].title) {
			t.Errorf("chat %d got %q, want the answer %q", 8001+i, got[0].PlainText, qs[i].title)
		}
	}
	if n := count(t, d, `SELECT count(*) FROM outbox WHERE status = 'sent' AND attempts >= 3`); n != chats {
		t.Errorf("%d of %d rows sent with their earlier attempts counted (attempts >= 3): %v", n, chats, statusCounts(t, d, "outbox"))
	}
	if n := count(t, d, `SELECT count(*) FROM messages WHERE direction = 'in'`); n != chats {
		t.Errorf("%d inbound messages, want %d", n, chats)
	}
}

// logRecordLag logs how long after Telegram accepted an answer its outbox
// row was marked sent: the window in which a kill -9 causes a duplicate.
func logRecordLag(t *testing.T, d *sqlx.DB, fake *tgfake.Server) {
	t.Helper()
	var rows []struct {
		Ext    string    `db:"external_message_id"`
		SentAt time.Time `db:"sent_at"`
	}
	must(t, d.Select(&rows, `SELECT external_message_id, sent_at FROM outbox WHERE status = 'sent' AND external_message_id IS NOT NULL`))
	accepted := map[string]time.Time{}
	for _, m := range fake.Sent() {
		accepted[strconv.Itoa(m.MessageID)] = m.Time
	}
	var lags []time.Duration
	for _, r := range rows {
		if at, ok := accepted[r.Ext]; ok {
			lags = append(lags, r.SentAt.Sub(at))
		}
	}
	if len(lags) == 0 {
		return
	}
	slices.Sort(lags)
	q := func(f float64) time.Duration {
		return lags[min(len(lags)-1, int(f*float64(len(lags))))].Round(100 * time.Microsecond)
	}
	t.Logf("accepted by Telegram -> marked sent (statement start): p50 %v, p90 %v, max %v (%d rows)", q(0.5), q(0.9), lags[len(lags)-1].Round(100*time.Microsecond), len(lags))
}

// ---- broadcast ----

func testCrashBroadcast(t *testing.T, bin string) {
	const subscribers = 2000
	ctx := context.Background()
	d, dbURL := dbtest.NewWithURL(t)
	fake := tgfake.New(t)
	log := &procLog{}
	showLogOnFailure(t, log)
	env := citybotEnv(t, dbURL, fake)

	// The topic, the subscribers and a post due now, through the APIs the
	// bot and the admin UI use.
	bc := broadcast.New(d, nil, broadcast.Config{})
	tp, err := bc.CreateTopic(ctx, staff.Principal{}, broadcast.TopicInput{Slug: "aktuelles", NameDE: "Aktuelles", Active: true})
	must(t, err)
	st := routing.NewStore(d)
	chatOf := map[int64]int64{} // citizen -> chat
	var mu sync.Mutex
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for w := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < subscribers; i += 16 {
				chat := int64(900000 + i)
				c, err := st.TouchCitizen(ctx, routing.ChannelTelegram, strconv.FormatInt(chat, 10), "de")
				if err == nil {
					err = bc.Subscribe(ctx, c.ID, tp.ID)
				}
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				chatOf[c.ID] = chat
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	const text = "Baustelle Hauptstraße: ab Montag Umleitung über die Ringstraße."
	p, err := bc.CreatePost(ctx, staff.Principal{}, broadcast.PostInput{Text: text, TopicIDs: []int64{tp.ID}})
	must(t, err)
	_, err = bc.SchedulePost(ctx, staff.Principal{}, p.ID, time.Now())
	must(t, err)

	start := time.Now()
	p1 := startCitybot(t, bin, env, log, "first run")
	killAfterSent(t, fake, 500, p1)
	log.mark("killed")
	time.Sleep(100 * time.Millisecond)

	sentAtKill := fake.SentCount()
	del := statusCounts(t, d, "deliveries")
	// Chats Telegram accepted the post for whose delivery is not 'sent':
	// they get it again after restart (the inherent window).
	var dbSent []string
	must(t, d.Select(&dbSent, `SELECT chat_id FROM deliveries WHERE post_id = $1 AND status = 'sent'`, p.ID))
	recorded := map[string]bool{}
	for _, c := range dbSent {
		recorded[c] = true
	}
	predicted := map[int64]bool{}
	for _, m := range fake.Sent() {
		if !recorded[strconv.FormatInt(m.ChatID, 10)] {
			predicted[m.ChatID] = true
		}
	}
	t.Logf("killed after %d of %d sends (%.1fs after start): deliveries %v; sends accepted but not recorded: %d",
		sentAtKill, subscribers, time.Since(start).Seconds(), del, len(predicted))
	if sentAtKill >= subscribers {
		t.Fatalf("all %d sent before the kill: nothing was tested", subscribers)
	}

	// The killed process's claims: leased for 2 minutes, taken over by the
	// next instance within seconds.
	var killedIDs []int64
	must(t, d.Select(&killedIDs, `SELECT DISTINCT claimed_by FROM deliveries WHERE status = 'sending' AND claimed_by IS NOT NULL`))
	n := count(t, d, `SELECT count(*) FROM deliveries WHERE status = 'sending' AND next_attempt_at > now() + interval '30 seconds'`)
	t.Logf("deliveries claimed by the killed process, lease running: %d", n)
	restarted := time.Now()

	startCitybot(t, bin, env, log, "after kill -9")
	waitFor(t, "the killed process's deliveries taken over", 20*time.Second, func() bool {
		return count(t, d, `SELECT count(*) FROM deliveries WHERE status = 'sending' AND next_attempt_at > now() AND claimed_by = ANY($1)`, pq.Array(killedIDs)) == 0
	})
	t.Logf("deliveries taken over %v after the restart began", time.Since(restarted).Round(time.Millisecond))
	waitFor(t, "the post to be sent", 40*time.Second, func() bool {
		got, err := bc.Post(ctx, p.ID)
		return err == nil && got.Status == broadcast.StatusSent
	})
	time.Sleep(300 * time.Millisecond)
	t.Logf("post sent %.1fs after the first start", time.Since(start).Seconds())

	perChat := map[int64]int{}
	for _, m := range fake.Sent() {
		// below the sender line (the city's name, CITYBOT_CITY_NAME's default, and the topic)
		if m.PlainText != "📢 Stadt Musterstadt · Aktuelles\n\n"+text {
			t.Errorf("chat %d got %q", m.ChatID, m.PlainText)
		}
		perChat[m.ChatID]++
	}
	missing, dups, unexpected := 0, 0, 0
	for _, chat := range chatOf {
		switch c := perChat[chat]; {
		case c == 0:
			missing++
		case c == 1:
		case c == 2 && predicted[chat]:
			dups++
		default:
			unexpected++
			if unexpected <= 5 {
				t.Errorf("chat %d got the post %d times", chat, c)
			}
		}
	}
	if len(perChat) != subscribers {
		t.Errorf("%d chats got the post, want %d", len(perChat), subscribers)
	}
	gotPost, err := bc.Post(ctx, p.ID)
	must(t, err)
	t.Logf("subscribers %d: missing %d, duplicates %d (predicted at the kill: %d), unexpected %d; post counts sent=%d failed=%d",
		subscribers, missing, dups, len(predicted), unexpected, gotPost.SentCount, gotPost.FailedCount)
	if missing > 0 || unexpected > 0 {
		t.Errorf("%d subscribers missed the post, %d got it more often than explained", missing, unexpected)
	}
	if dups != len(predicted) {
		t.Errorf("%d duplicates, but %d sends were in flight at the kill", dups, len(predicted))
	}
	// At most one send per worker is between Telegram's answer and its
	// "sent" (40 workers at 200/s).
	if len(predicted) > 40 {
		t.Errorf("%d sends in flight at the kill, more than the 40 workers", len(predicted))
	}
	if gotPost.SentCount != subscribers || gotPost.FailedCount != 0 {
		t.Errorf("post counts: sent %d, failed %d; want %d, 0", gotPost.SentCount, gotPost.FailedCount, subscribers)
	}
}
