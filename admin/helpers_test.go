package admin

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/crypto/bcrypt"

	"citybot/internal/dbtest"
	"citybot/staff"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

const testPassword = "correct horse battery"

// env is a running admin server on a fresh database.
type env struct {
	t   testing.TB
	db  *sqlx.DB
	url string
	srv *Server
	ts  *httptest.Server
}

type envOption func(*Config, *Deps)

func newEnv(t testing.TB, opts ...envOption) *env {
	t.Helper()
	d, dbURL := dbtest.NewWithURL(t)
	ctx := context.Background()
	for _, dep := range []struct{ id, name string }{{"bauamt", "Bauamt"}, {"ordnungsamt", "Ordnungsamt"}, {"zentrale", "Zentrale"}} {
		if _, err := d.ExecContext(ctx, `INSERT INTO departments (id, name, is_fallback) VALUES ($1, $2, $1 = 'zentrale')`, dep.id, dep.name); err != nil {
			t.Fatal(err)
		}
	}
	// Test feed servers are on loopback: allowed by name, as an admin
	// would allow an intranet host (broadcast/feedguard.go).
	if _, err := d.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES ('feed_internal_hosts', '["127.0.0.1"]')`); err != nil {
		t.Fatal(err)
	}
	level := slog.LevelWarn
	if os.Getenv("CITYBOT_TEST_LOG") != "" {
		level = slog.LevelDebug
	}
	// A generous request deadline: under the race detector on a busy
	// machine, a login's bcrypt alone can take tens of seconds.
	cfg := Config{BaseURL: "http://example.test", SessionLifetime: 0, RequestTimeout: 3 * time.Minute}
	deps := Deps{
		DB:          d,
		DatabaseURL: dbURL,
		Logger:      slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: level})),
		Gatherer:    prometheus.NewRegistry(),
	}
	for _, o := range opts {
		o(&cfg, &deps)
	}
	s := New(cfg, deps)
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	runCtx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = s.Run(runCtx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return &env{t: t, db: d, url: ts.URL, srv: s, ts: ts}
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func (e *env) user(email, role string, deps ...string) int64 {
	e.t.Helper()
	id, err := staff.New(e.db).WithCost(bcrypt.MinCost).CreateUser(context.Background(), email, strings.Split(email, "@")[0], testPassword, role, deps)
	if err != nil {
		e.t.Fatal(err)
	}
	return id
}

// client is a browser-like HTTP client with a cookie jar that does not follow redirects.
type client struct {
	t    testing.TB
	base string
	hc   *http.Client
	jar  *cookiejar.Jar
}

func (e *env) client() *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: e.t, base: e.url, jar: jar, hc: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

type resp struct {
	Status int
	Header http.Header
	Body   string
}

func (c *client) do(req *http.Request) resp {
	c.t.Helper()
	r, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	return resp{Status: r.StatusCode, Header: r.Header, Body: string(b)}
}

func (c *client) get(path string) resp {
	c.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, c.base+path, nil)
	return c.do(req)
}

func (c *client) post(path string, form url.Values) resp {
	c.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, c.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.do(req)
}

var csrfRe = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// csrf fetches path and returns the CSRF token of its forms.
func (c *client) csrf(path string) string {
	c.t.Helper()
	r := c.get(path)
	m := csrfRe.FindStringSubmatch(r.Body)
	if m == nil {
		c.t.Fatalf("no csrf token on %s (status %d)", path, r.Status)
	}
	return m[1]
}

// postForm posts with a valid CSRF token taken from the page at from.
func (c *client) postForm(from, path string, form url.Values) resp {
	c.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	form.Set("csrf_token", c.csrf(from))
	return c.post(path, form)
}

func (c *client) login(email string) {
	c.t.Helper()
	r := c.postForm("/login", "/login", url.Values{"email": {email}, "password": {testPassword}})
	if r.Status != http.StatusSeeOther {
		c.t.Fatalf("login %s: status %d: %s", email, r.Status, r.Body)
	}
}

func (e *env) loggedIn(email string) *client {
	c := e.client()
	c.login(email)
	return c
}

var regexpNext = regexp.MustCompile(`cursor=([A-Za-z0-9_-]+)`)

// formWith is a copy of valid with the field k set to v: a form that is
// valid but for one field.
func formWith(valid url.Values, k, v string) url.Values {
	f := url.Values{}
	for k, vs := range valid {
		f[k] = vs
	}
	f.Set(k, v)
	return f
}
