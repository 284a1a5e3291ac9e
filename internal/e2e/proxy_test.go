package e2e

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"citybot/internal/dbtest"
	"citybot/internal/tgfake"
	"citybot/staff"
)

// TestTrustedProxiesSetting runs the binary behind a "reverse proxy" at
// 127.0.0.2, named in CITYBOT_TRUSTED_PROXIES, while other clients connect
// from 127.0.0.1 (the whole 127/8 is loopback on Linux). Through the proxy
// the client address is the last X-Forwarded-For entry the proxy added, so
// a stranger who guesses a staff member's password behind the proxy is
// throttled alone and the owner, behind the same proxy, still signs in;
// a spoofed entry in front of it is not believed. From a peer that is not
// a trusted proxy, X-Forwarded-For is ignored: rotating it does not dodge
// the throttle. (Without the setting, everybody behind the proxy has the
// proxy's address, and five wrong passwords lock the owner out.)
func TestTrustedProxiesSetting(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildCitybot(t)
	d, dbURL := dbtest.NewWithURL(t)
	fake := tgfake.New(t)
	log := &procLog{}
	showLogOnFailure(t, log)
	env := append(citybotEnv(t, dbURL, fake), "CITYBOT_TRUSTED_PROXIES=127.0.0.2")
	p := startCitybot(t, bin, env, log, "citybot")
	_, err := staff.CreateUser(context.Background(), d, "anna@example.org", "Anna", password, staff.RoleStaff, nil)
	must(t, err)

	const (
		attacker = "203.0.113.9"
		spoofed  = "198.51.100.1"
		owner    = "198.51.100.7"
	)
	proxy := func(xff string) *proxyClient { return newProxyClient(t, p.url, "127.0.0.2", xff) }
	// The proxy appends the address it saw to what the client sent: the
	// attacker's own X-Forwarded-For comes first and must be ignored.
	att := proxy(spoofed + ", " + attacker)
	for i := range 5 {
		if code := att.login("anna@example.org", "wrong password"); code != http.StatusUnauthorized {
			t.Fatalf("attempt %d through the proxy: %d", i, code)
		}
	}
	if code := att.login("anna@example.org", password); code != http.StatusTooManyRequests {
		t.Fatalf("the guesser after 5 failures: %d, want 429", code)
	}
	if code := proxy(owner).login("anna@example.org", password); code != http.StatusSeeOther {
		t.Fatalf("the owner behind the same proxy: %d, want 303 (locked out by the guesser)", code)
	}
	var ips []string
	must(t, d.Select(&ips, `SELECT DISTINCT host(ip::inet) FROM login_throttles WHERE email = 'anna@example.org'`))
	if len(ips) != 1 || ips[0] != attacker {
		t.Fatalf("failures recorded for %q, want only %s", ips, attacker)
	}

	// A direct client (not a trusted proxy) sends X-Forwarded-For itself.
	for i := range 5 {
		c := newProxyClient(t, p.url, "127.0.0.1", fmt.Sprintf("192.0.2.%d", i+1))
		if code := c.login("anna@example.org", "wrong password"); code != http.StatusUnauthorized {
			t.Fatalf("direct attempt %d: %d", i, code)
		}
	}
	if code := newProxyClient(t, p.url, "127.0.0.1", "192.0.2.200").login("anna@example.org", password); code != http.StatusTooManyRequests {
		t.Fatalf("rotating X-Forwarded-For from an untrusted peer: %d, want 429", code)
	}
	must(t, d.Select(&ips, `SELECT DISTINCT host(ip::inet) FROM login_throttles WHERE email = 'anna@example.org' ORDER BY 1`))
	if strings.Join(ips, " ") != "127.0.0.1 "+attacker {
		t.Fatalf("failures recorded for %q, want 127.0.0.1 and %s", ips, attacker)
	}
}

// proxyClient is a browser that connects from a given loopback address and
// sends a given X-Forwarded-For, as a reverse proxy in front of citybot does.
type proxyClient struct {
	t    testing.TB
	base string
	xff  string
	hc   *http.Client
}

func newProxyClient(t testing.TB, base, from, xff string) *proxyClient {
	jar, _ := cookiejar.New(nil)
	dialer := &net.Dialer{Timeout: 10 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
	tr := &http.Transport{DialContext: dialer.DialContext}
	t.Cleanup(tr.CloseIdleConnections)
	return &proxyClient{t: t, base: base, xff: xff, hc: &http.Client{
		Jar: jar, Transport: tr, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

func (c *proxyClient) do(method, path string, form url.Values) (int, string) {
	c.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, c.base+path, body)
	must(c.t, err)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("X-Forwarded-For", c.xff)
	r, err := c.hc.Do(req)
	must(c.t, err)
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	return r.StatusCode, string(b)
}

// login posts the login form (with the token of a fresh login page).
func (c *proxyClient) login(email, pw string) int {
	c.t.Helper()
	_, page := c.do(http.MethodGet, "/login", nil)
	m := csrfRe.FindStringSubmatch(page)
	if m == nil {
		c.t.Fatal("no CSRF token on /login")
	}
	code, _ := c.do(http.MethodPost, "/login", url.Values{"email": {email}, "password": {pw}, "csrf_token": {m[1]}})
	return code
}
