package webchat

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"citybot/bot"
	"citybot/faq"
	"citybot/internal/dbtest"
	"citybot/internal/demodata"
	"citybot/routing"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// env is a running web chat on a demo database: the demo FAQ, office
// hours, routing and handoff.
type env struct {
	t     testing.TB
	db    *sqlx.DB
	url   string
	svc   *Service
	srv   *httptest.Server
	cases *routing.Cases
}

func newEnv(t testing.TB, opts ...func(*Config)) *env {
	t.Helper()
	d, url := newDB(t)
	return startEnv(t, d, url, true, opts...)
}

// newDB is a test database with the demo FAQ and office hours.
func newDB(t testing.TB) (*sqlx.DB, string) {
	t.Helper()
	d, url := dbtest.NewWithURL(t)
	ctx := context.Background()
	ds, err := faq.ReadDatasetFS(demodata.FS)
	must(t, err)
	_, err = faq.NewStore(d).Import(ctx, ds)
	must(t, err)
	must(t, routing.ApplyDemoOfficeHours(ctx, d))
	return d, url
}

// instance starts another instance of the web chat on e's database (as
// behind a load balancer): its own engine, Service and HTTP server. With
// deliver false it serves streams and messages but never claims outbox
// rows, so that every delivery is another instance's.
func (e *env) instance(deliver bool, opts ...func(*Config)) *env {
	e.t.Helper()
	return startEnv(e.t, e.db, e.url, deliver, opts...)
}

func startEnv(t testing.TB, d *sqlx.DB, url string, deliver bool, opts ...func(*Config)) *env {
	t.Helper()
	ctx := context.Background()
	live := faq.NewLive(faq.NewStore(d), slog.New(slog.DiscardHandler))
	must(t, live.Reload(ctx))
	router, err := routing.NewLiveRouter(ctx, d, bot.RoutingFAQ(faq.NewStore(d)))
	must(t, err)
	cal, err := routing.NewCalendar("NW")
	must(t, err)
	cases := routing.NewCases(d, routing.CasesOptions{})
	cfg := Config{DatabaseURL: url, IdleInterval: 100 * time.Millisecond, Keepalive: time.Second}
	for _, o := range opts {
		o(&cfg)
	}
	handoff := bot.NewRoutingHandoff(routing.NewHandoff(cases, cal, router, routing.HandoffOptions{}), cases, routing.NewStore(d))
	engine := bot.NewEngine(live, bot.Config{Handoff: handoff, DB: d, Instance: cfg.Instance}, nil)
	svc := New(d, engine, cfg)
	srv := httptest.NewServer(svc.Handler())
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	if deliver {
		go func() { _ = svc.Run(rctx); close(done) }()
	} else {
		must(t, svc.listen(rctx))
		close(done)
	}
	t.Cleanup(func() { srv.Close(); cancel(); <-done })
	return &env{t: t, db: d, url: url, svc: svc, srv: srv, cases: cases}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// post sends a message; it returns the status and the decoded answer.
func (e *env) post(token string, body map[string]any, hdr ...string) (int, map[string]any) {
	e.t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/chat/api/messages", bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	must(e.t, err)
	defer res.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(res.Body).Decode(&out)
	return res.StatusCode, out
}

// start sends a first message and returns the new token.
func (e *env) start(text string) string {
	e.t.Helper()
	st, out := e.post("", map[string]any{"text": text, "lang": "de"})
	if st != http.StatusOK {
		e.t.Fatalf("first message: %d %v", st, out)
	}
	tok, _ := out["token"].(string)
	if tok == "" {
		e.t.Fatalf("no token: %v", out)
	}
	return tok
}

// sseEvent is an event as the stream sends it.
type sseEvent struct {
	ID      int64          `json:"id"`
	From    string         `json:"from"`
	Payload map[string]any `json:"payload"`
}

// stream opens the event stream after lastID.
type stream struct {
	res    *http.Response
	events chan sseEvent
}

func (e *env) stream(token string, lastID int64) *stream {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/chat/api/events", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	if lastID > 0 {
		req.Header.Set("Last-Event-ID", jsonInt(lastID))
	}
	res, err := http.DefaultClient.Do(req)
	must(e.t, err)
	s := &stream{res: res, events: make(chan sseEvent, 100)}
	e.t.Cleanup(func() { res.Body.Close() })
	if res.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(res.Body)
		e.t.Fatalf("stream: %d %s", res.StatusCode, b)
	}
	go func() {
		defer close(s.events)
		sc := bufio.NewScanner(res.Body)
		sc.Buffer(make([]byte, 1<<20), 8<<20)
		for sc.Scan() {
			line := sc.Text()
			if data, ok := strings.CutPrefix(line, "data: "); ok {
				var ev sseEvent
				if json.Unmarshal([]byte(data), &ev) == nil && ev.ID != 0 {
					s.events <- ev
				}
			}
		}
	}()
	return s
}

func jsonInt(n int64) string { b, _ := json.Marshal(n); return string(b) }

// until reads events until one satisfies ok (within d).
func (s *stream) until(t *testing.T, d time.Duration, ok func(sseEvent) bool) []sseEvent {
	t.Helper()
	var seen []sseEvent
	timeout := time.After(d)
	for {
		select {
		case ev, open := <-s.events:
			if !open {
				t.Fatalf("stream closed; seen %v", seen)
			}
			seen = append(seen, ev)
			if ok(ev) {
				return seen
			}
		case <-timeout:
			t.Fatalf("timed out; seen %v", seen)
		}
	}
}

func text(ev sseEvent) string { s, _ := ev.Payload["text"].(string); return s }
