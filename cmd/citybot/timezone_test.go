package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"citybot/internal/config"
	"citybot/internal/dbtest"
	"citybot/internal/tgfake"
	"citybot/staff"
)

var csrfRe = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// TestTimeZoneReachesEveryPart: CITYBOT_TIMEZONE, set once, is the zone of
// the web UI and of the Telegram bot as serve wires them (each part falls
// back to Europe/Berlin when it is given none, so a part the wiring forgot
// would show Berlin's date). Pacific/Kiritimati is UTC+14: 10 March 2026,
// 12:00 UTC is 11 March there and still 10 March in Berlin.
func TestTimeZoneReachesEveryPart(t *testing.T) {
	d, dbURL := dbtest.NewWithURL(t)
	fake := tgfake.New(t, tgfake.WithPollCap(200*time.Millisecond))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cfg, err := config.Load([]string{
		"DATABASE_URL=" + dbURL,
		"CITYBOT_TIMEZONE=Pacific/Kiritimati",
		"CITYBOT_HTTP_ADDR=" + addr,
		"CITYBOT_DATA_DIR=" + t.TempDir(),
		"CITYBOT_TELEGRAM_TOKEN=" + fake.Token(),
		"CITYBOT_TELEGRAM_API_URL=" + fake.URL(),
	})
	if err != nil {
		t.Fatal(err)
	}
	a := &app{cfg: cfg, logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("serve did not stop")
		}
	})
	base := "http://" + addr
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if r, err := http.Get(base + "/healthz"); err == nil {
			r.Body.Close()
			if r.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("the service did not come up")
		}
		select {
		case err := <-done:
			t.Fatalf("serve ended: %v", err)
		default:
		}
	}
	at := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

	// The web UI: an audit entry of that instant is listed on 11 March, 02:00.
	const email, password = "admin@example.test", "correct horse battery"
	if _, err := staff.CreateUser(ctx, d, email, "Admin", password, staff.RoleAdmin, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Exec(`INSERT INTO audit_log (action, object_type, object_id, at) VALUES ('tz.probe', 'probe', 'x', $1)`, at); err != nil {
		t.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	get := func(path string) string {
		t.Helper()
		r, err := hc.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Body.Close()
		b, _ := io.ReadAll(r.Body)
		return string(b)
	}
	m := csrfRe.FindStringSubmatch(get("/login"))
	if m == nil {
		t.Fatal("no CSRF token on /login")
	}
	r, err := hc.PostForm(base+"/login", url.Values{"email": {email}, "password": {password}, "csrf_token": {m[1]}})
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if page := get("/admin/audit?action=tz.probe&from=2026-03-11&to=2026-03-11"); !strings.Contains(page, "11.03.2026 02:00") {
		t.Errorf("web UI: the audit entry is not listed on 11 March, 02:00 city time")
	}

	// The bot: a citizen first seen at that instant is told "since 11.03.2026".
	const chat = 7001
	fake.PushText(chat, "Hallo")
	fake.WaitSentTo(t, chat, 1, 30*time.Second)
	if _, err := d.Exec(`UPDATE citizens SET created_at = $1`, at); err != nil {
		t.Fatal(err)
	}
	fake.PushText(chat, "/meinedaten")
	got := fake.WaitSentTo(t, chat, 2, 30*time.Second)
	if !strings.Contains(got[1].PlainText, "11.03.2026") {
		t.Errorf("bot: /meinedaten does not date the citizen 11.03.2026 (city time): %q", got[1].PlainText)
	}
}
