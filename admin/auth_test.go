package admin

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"citybot/staff"
)

func TestOperationalEndpoints(t *testing.T) {
	ready := errors.New("bot not ready")
	var readyErr error
	reg := prometheus.NewRegistry()
	reg.MustRegister(prometheus.NewCounter(prometheus.CounterOpts{Name: "citybot_test_total", Help: "test"}))
	e := newEnv(t, func(_ *Config, d *Deps) {
		d.Gatherer = reg
		d.Ready = func(context.Context) error { return readyErr }
	})
	c := e.client()
	tests := []struct {
		name   string
		path   string
		before func()
		status int
		body   string
	}{
		{"healthz", "/healthz", nil, 200, "ok"},
		{"readyz", "/readyz", nil, 200, "ready"},
		{"readyz not ready", "/readyz", func() { readyErr = ready }, 503, "not ready"},
		{"unknown", "/nope", nil, 404, "<html"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.before != nil {
				tt.before()
			}
			r := c.get(tt.path)
			if r.Status != tt.status || !strings.Contains(r.Body, tt.body) {
				t.Fatalf("GET %s = %d %q, want %d containing %q", tt.path, r.Status, r.Body, tt.status, tt.body)
			}
			if strings.Contains(r.Body, ready.Error()) {
				t.Fatal("internal error text shown")
			}
		})
	}
}

func TestLogin(t *testing.T) {
	e := newEnv(t, func(c *Config, _ *Deps) { c.SecureCookies = true })
	e.user("anna@example.org", staff.RoleStaff, "bauamt")
	e.user("old@example.org", staff.RoleStaff, "bauamt")
	if _, err := e.db.Exec(`UPDATE users SET active = false WHERE email = 'old@example.org'`); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, email, password string
		status                int
	}{
		{"wrong password", "anna@example.org", "wrong password!", http.StatusUnauthorized},
		{"unknown email", "nobody@example.org", testPassword, http.StatusUnauthorized},
		{"deactivated", "old@example.org", testPassword, http.StatusUnauthorized},
		{"ok, email case-insensitive", "Anna@Example.org", testPassword, http.StatusSeeOther},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := e.client()
			r := c.postForm("/login", "/login", url.Values{"email": {tt.email}, "password": {tt.password}, "next": {"/inbox"}})
			if r.Status != tt.status {
				t.Fatalf("status %d, want %d", r.Status, tt.status)
			}
			if tt.status != http.StatusSeeOther {
				if !strings.Contains(r.Body, "E-Mail-Adresse oder Passwort ist falsch.") {
					t.Fatalf("want the generic message, got %s", r.Body)
				}
				return
			}
			if loc := r.Header.Get("Location"); loc != "/inbox" {
				t.Fatalf("redirect to %q", loc)
			}
			var sc *http.Cookie
			for _, ck := range (&http.Response{Header: r.Header}).Cookies() {
				if ck.Name == sessionCookie {
					sc = ck
				}
			}
			if sc == nil || !sc.HttpOnly || !sc.Secure || sc.SameSite != http.SameSiteLaxMode || sc.Path != "/" {
				t.Fatalf("session cookie flags: %+v", sc)
			}
			if len(sc.Value) < 43 {
				t.Fatalf("session token too short: %d", len(sc.Value))
			}
			var n int
			if err := e.db.Get(&n, `SELECT count(*) FROM sessions WHERE token_hash = $1`, tokenHash(sc.Value)); err != nil || n != 1 {
				t.Fatalf("session by hash: %d %v", n, err)
			}
			if err := e.db.Get(&n, `SELECT count(*) FROM sessions WHERE position($1::bytea in token_hash) > 0 OR csrf_token = $2`, []byte(sc.Value), sc.Value); err != nil || n != 0 {
				t.Fatalf("raw token stored: %d %v", n, err)
			}
		})
	}
}

func TestLoginOpenRedirect(t *testing.T) {
	e := newEnv(t)
	e.user("anna@example.org", staff.RoleStaff, "bauamt")
	for _, next := range []string{"https://evil.example", "//evil.example", `/\evil.example`} {
		c := e.client()
		r := c.postForm("/login", "/login", url.Values{"email": {"anna@example.org"}, "password": {testPassword}, "next": {next}})
		if loc := r.Header.Get("Location"); loc != "/" {
			t.Errorf("next=%q redirected to %q", next, loc)
		}
	}
}

func TestLogoutAndSessionEnd(t *testing.T) {
	e := newEnv(t)
	e.user("anna@example.org", staff.RoleStaff, "bauamt")
	c := e.loggedIn("anna@example.org")
	if r := c.get("/account"); r.Status != 200 {
		t.Fatalf("account: %d", r.Status)
	}
	u, _ := url.Parse(e.url)
	var tok string
	for _, ck := range c.jar.Cookies(u) {
		if ck.Name == sessionCookie {
			tok = ck.Value
		}
	}
	if r := c.postForm("/account", "/logout", nil); r.Status != http.StatusSeeOther {
		t.Fatalf("logout: %d", r.Status)
	}
	var n int
	if err := e.db.Get(&n, `SELECT count(*) FROM sessions`); err != nil || n != 0 {
		t.Fatalf("sessions after logout: %d %v", n, err)
	}
	// The old cookie is worthless.
	c2 := e.client()
	c2.jar.SetCookies(u, []*http.Cookie{{Name: sessionCookie, Value: tok}})
	if r := c2.get("/account"); r.Status != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/login") {
		t.Fatalf("old cookie: %d %s", r.Status, r.Header.Get("Location"))
	}
}

func TestCSRF(t *testing.T) {
	e := newEnv(t)
	e.user("admin@example.org", staff.RoleAdmin)
	c := e.loggedIn("admin@example.org")
	newUser := url.Values{"email": {"x@example.org"}, "name": {"X"}, "role": {"staff"}}
	other := e.loggedIn("admin@example.org").csrf("/account") // a valid token of another session
	tests := []struct {
		name   string
		token  string
		header map[string]string
		status int
	}{
		{"missing token", "", nil, http.StatusForbidden},
		{"invalid token", "forged", nil, http.StatusForbidden},
		{"token of another session", other, nil, http.StatusForbidden},
		{"cross-site with valid token", "valid", map[string]string{"Sec-Fetch-Site": "cross-site"}, http.StatusForbidden},
		{"foreign origin with valid token", "valid", map[string]string{"Origin": "https://evil.example"}, http.StatusForbidden},
		{"valid", "valid", map[string]string{"Sec-Fetch-Site": "same-origin"}, http.StatusCreated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := url.Values{}
			for k, v := range newUser {
				f[k] = v
			}
			if tt.token == "valid" {
				f.Set("csrf_token", c.csrf("/admin/users/new"))
			} else if tt.token != "" {
				f.Set("csrf_token", tt.token)
			}
			req, _ := http.NewRequest(http.MethodPost, e.url+"/admin/users", strings.NewReader(f.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			r := c.do(req)
			if r.Status != tt.status {
				t.Fatalf("status %d, want %d: %s", r.Status, tt.status, r.Body)
			}
		})
	}
	var n int
	if err := e.db.Get(&n, `SELECT count(*) FROM users WHERE email = 'x@example.org'`); err != nil || n != 1 {
		t.Fatalf("users created: %d %v", n, err)
	}
	// The login form is protected too (anonymous token).
	anon := e.client()
	if r := anon.post("/login", url.Values{"email": {"admin@example.org"}, "password": {testPassword}}); r.Status != http.StatusForbidden {
		t.Fatalf("login without token: %d", r.Status)
	}
}

func TestRoles(t *testing.T) {
	e := newEnv(t)
	e.user("admin@example.org", staff.RoleAdmin)
	e.user("staff@example.org", staff.RoleStaff, "bauamt")
	e.user("editor@example.org", staff.RoleEditor, "bauamt")
	anon := e.client()
	clerk := e.loggedIn("staff@example.org")
	editor := e.loggedIn("editor@example.org")
	admin := e.loggedIn("admin@example.org")
	tests := []struct {
		c      *client
		path   string
		status int
	}{
		{anon, "/admin/users", http.StatusSeeOther},
		{anon, "/account", http.StatusSeeOther},
		{clerk, "/admin/users", http.StatusForbidden},
		{clerk, "/admin/audit", http.StatusForbidden},
		{editor, "/admin/users", http.StatusForbidden},
		{clerk, "/account", http.StatusOK},
		{admin, "/admin/users", http.StatusOK},
		{admin, "/admin/audit", http.StatusOK},
		{admin, "/admin/users/new", http.StatusOK},
	}
	for _, tt := range tests {
		if r := tt.c.get(tt.path); r.Status != tt.status {
			t.Errorf("GET %s: %d, want %d", tt.path, r.Status, tt.status)
		}
	}
}

func TestSecurityHeaders(t *testing.T) {
	e := newEnv(t)
	r := e.client().get("/login")
	want := map[string]string{
		"X-Frame-Options":        "DENY",
		"X-Content-Type-Options": "nosniff",
		"Referrer-Policy":        "same-origin",
	}
	for k, v := range want {
		if got := r.Header.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	csp := r.Header.Get("Content-Security-Policy")
	for _, part := range []string{"script-src 'self'", "frame-ancestors 'none'", "object-src 'none'"} {
		if !strings.Contains(csp, part) {
			t.Errorf("CSP %q lacks %q", csp, part)
		}
	}
	if strings.Contains(csp, "unsafe-inline") {
		t.Error("CSP allows inline code")
	}
	if strings.Contains(r.Body, "<script>") || strings.Contains(r.Body, " style=") || strings.Contains(r.Body, " onclick=") {
		t.Error("inline script or style in page")
	}
	for _, want := range []string{`<html lang="de">`, `href="#main"`, `<main id="main"`, `<label for="email">`, `aria-live="polite"`} {
		if !strings.Contains(r.Body, want) {
			t.Errorf("login page lacks %q", want)
		}
	}
	// The pre-session CSRF cookie is HttpOnly as well.
	for _, ck := range (&http.Response{Header: r.Header}).Cookies() {
		if !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode {
			t.Errorf("cookie %s flags: %+v", ck.Name, ck)
		}
	}
}

func TestLanguageSwitch(t *testing.T) {
	e := newEnv(t)
	e.user("anna@example.org", staff.RoleStaff, "bauamt")
	anon := e.client()
	if r := anon.postForm("/login", "/language", url.Values{"lang": {"en"}, "next": {"/login"}}); r.Status != http.StatusSeeOther {
		t.Fatalf("switch: %d", r.Status)
	}
	if r := anon.get("/login"); !strings.Contains(r.Body, `<html lang="en">`) || !strings.Contains(r.Body, "Log in") {
		t.Fatal("login page not in English")
	}
	c := e.loggedIn("anna@example.org")
	c.postForm("/account", "/language", url.Values{"lang": {"en"}, "next": {"/account"}})
	var lang string
	if err := e.db.Get(&lang, `SELECT language FROM users WHERE email = 'anna@example.org'`); err != nil || lang != "en" {
		t.Fatalf("stored language %q %v", lang, err)
	}
}

func TestUserAdminAndAudit(t *testing.T) {
	e := newEnv(t)
	e.user("admin@example.org", staff.RoleAdmin)
	admin := e.loggedIn("admin@example.org")
	r := admin.postForm("/admin/users/new", "/admin/users", url.Values{
		"email": {"neu@example.org"}, "name": {"Neue <b>Kollegin</b>"}, "role": {"staff"}, "language": {"de"}, "departments": {"bauamt", "ordnungsamt"},
	})
	if r.Status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	if strings.Contains(r.Body, "Neue <b>") {
		t.Fatal("user name not escaped on the invitation page")
	}
	tok := inviteToken(t, r.Body)
	r = admin.get("/admin/users")
	if !strings.Contains(r.Body, "Neue &lt;b&gt;Kollegin&lt;/b&gt;") {
		t.Fatal("user name not escaped in list")
	}
	var id int64
	if err := e.db.Get(&id, `SELECT id FROM users WHERE email = 'neu@example.org'`); err != nil {
		t.Fatal(err)
	}
	neu := e.client()
	if r := neu.accept(tok, invitePassword); r.Status != http.StatusSeeOther {
		t.Fatalf("accept invitation: %d", r.Status)
	}
	// Deactivate: sessions end.
	r = admin.postForm("/admin/users/"+itoa(id), "/admin/users/"+itoa(id), url.Values{"name": {"Neue"}, "role": {"staff"}, "language": {"de"}, "departments": {"bauamt"}})
	if r.Status != http.StatusSeeOther {
		t.Fatalf("update: %d %s", r.Status, r.Body)
	}
	if r := neu.get("/account"); r.Status != http.StatusSeeOther {
		t.Fatalf("deactivated user still in: %d", r.Status)
	}
	// Duplicate email.
	if r := admin.postForm("/admin/users/new", "/admin/users", url.Values{"email": {"neu@example.org"}, "name": {"N"}, "role": {"staff"}, "language": {"de"}}); r.Status != http.StatusConflict {
		t.Fatalf("duplicate: %d", r.Status)
	}
	r = admin.get("/admin/audit?action=user.")
	for _, want := range []string{"user.create", "user.update", "user.login"} {
		if !strings.Contains(r.Body, want) {
			t.Errorf("audit page lacks %s", want)
		}
	}
	r = admin.get("/admin/audit?action=user.update&object_type=user&object_id=" + itoa(id))
	if strings.Contains(r.Body, "user.create") || !strings.Contains(r.Body, "user.update") {
		t.Error("audit filter")
	}
}

func TestAuditKeyset(t *testing.T) {
	e := newEnv(t)
	uid := e.user("admin@example.org", staff.RoleAdmin)
	if _, err := e.db.Exec(`INSERT INTO audit_log (user_id, action, object_type, object_id) SELECT $1, 'test.action', 'thing', g::text FROM generate_series(1, 120) g`, uid); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	f := auditFilter{Action: "test."}
	for pages := 0; ; pages++ {
		entries, next, err := e.srv.listAudit(context.Background(), f)
		if err != nil {
			t.Fatal(err)
		}
		for _, en := range entries {
			if seen[en.ObjectID] {
				t.Fatalf("duplicate %s", en.ObjectID)
			}
			seen[en.ObjectID] = true
		}
		if next == 0 {
			if pages != 2 {
				t.Fatalf("pages %d", pages+1)
			}
			break
		}
		f.Before = next
	}
	if len(seen) != 120 {
		t.Fatalf("seen %d", len(seen))
	}
}

func itoa(i int64) string { return strconv.FormatInt(i, 10) }
