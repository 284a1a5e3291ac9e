package admin

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/jmoiron/sqlx"

	"citybot/internal/db"
	"citybot/staff"
)

var inviteLinkRe = regexp.MustCompile(`id="invite-url" readonly value="([^"]+)"`)

// inviteToken returns the token of the invitation link shown on page body.
func inviteToken(t *testing.T, body string) string {
	t.Helper()
	m := inviteLinkRe.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no invitation link on the page: %s", body)
	}
	u, err := url.Parse(html.UnescapeString(m[1]))
	if err != nil {
		t.Fatal(err)
	}
	if u.Path != "/invite" || u.Query().Get("t") == "" {
		t.Fatalf("invitation link %s", u)
	}
	return u.Query().Get("t")
}

// invited creates a user without a password and an invitation for them,
// as the admin form does; it returns the user's id and the link's token.
func (e *env) invited(email, role string, deps ...string) (int64, string) {
	e.t.Helper()
	ctx := context.Background()
	var id int64
	var tok string
	err := db.InTx(ctx, e.db, func(tx *sqlx.Tx) error {
		if err := tx.GetContext(ctx, &id, `INSERT INTO users (email, name, password_hash, role) VALUES ($1, $2, '!', $3) RETURNING id`,
			email, strings.Split(email, "@")[0], role); err != nil {
			return err
		}
		for _, d := range deps {
			if _, err := tx.ExecContext(ctx, `INSERT INTO user_departments (user_id, department_id) VALUES ($1, $2)`, id, d); err != nil {
				return err
			}
		}
		tok = staff.RandomToken()
		_, err := tx.ExecContext(ctx, `INSERT INTO user_invitations (user_id, token_hash, expires_at) VALUES ($1, $2, now() + interval '1 hour')`,
			id, staff.TokenHash(tok))
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return id, tok
}

// accept posts the invitation form with password (typed twice).
func (c *client) accept(tok, password string) resp {
	c.t.Helper()
	return c.postForm("/invite?t="+url.QueryEscape(tok), "/invite", url.Values{"t": {tok}, "password": {password}, "password2": {password}})
}

const invitePassword = "Kanu Lampe Wolke Pfeffer"

// TestInviteFlow: an admin creates a user without typing a password and
// gets a one-time link, shown once; the invited person chooses a password
// there and is logged in; the link then no longer works. Only the token's
// hash is stored. Every step leaves an audit row.
func TestInviteFlow(t *testing.T) {
	e := newEnv(t, withCases)
	adminID := e.user("admin@example.org", staff.RoleAdmin)
	admin := e.loggedIn("admin@example.org")

	form := admin.get("/admin/users/new")
	if strings.Contains(form.Body, `name="password"`) {
		t.Error("the new-user form asks for a password")
	}
	r := admin.postForm("/admin/users/new", "/admin/users", url.Values{
		"email": {"Neu@Example.org"}, "name": {"Neue Kollegin"}, "role": {"staff"}, "language": {"de"}, "departments": {"bauamt"},
	})
	if r.Status != http.StatusCreated {
		t.Fatalf("create: status %d: %s", r.Status, r.Body)
	}
	tok := inviteToken(t, r.Body)
	if !strings.Contains(r.Body, "http://example.test/invite?t=") {
		t.Errorf("the link is not on the public URL")
	}
	var id int64
	if err := e.db.Get(&id, `SELECT id FROM users WHERE email = 'neu@example.org' AND password_hash = '!'`); err != nil {
		t.Fatalf("invited user: %v", err)
	}
	// Stored hashed: no column holds the token.
	if n := e.count(`SELECT count(*) FROM user_invitations WHERE user_id = $1 AND token_hash = $2 AND expires_at > now() + interval '6 days'`, id, tokenHash(tok)); n != 1 {
		t.Fatalf("invitation rows with the token's hash: %d", n)
	}
	if n := e.count(`SELECT count(*) FROM user_invitations i WHERE position(convert_to($1, 'UTF8') in i.token_hash) > 0 OR row_to_json(i)::text LIKE '%' || $1 || '%'`, tok); n != 0 {
		t.Fatal("the token is stored in clear")
	}
	// Not shown again: the edit page and the list say the state only.
	if r := admin.get("/admin/users/" + itoa(id)); strings.Contains(r.Body, tok) || !strings.Contains(r.Body, "Einladung offen bis") {
		t.Errorf("edit page: token shown again or no state: %s", r.Body)
	}
	if r := admin.get("/admin/users"); !strings.Contains(r.Body, "eingeladen (bis ") {
		t.Error("user list: no invitation state")
	}
	// Nobody can log in with an empty or guessed password meanwhile.
	anon := e.client()
	for _, pw := range []string{"", "!"} {
		if r := anon.postForm("/login", "/login", url.Values{"email": {"neu@example.org"}, "password": {pw}}); r.Status != http.StatusUnauthorized {
			t.Errorf("login with %q before accepting: %d", pw, r.Status)
		}
	}

	// The invited person opens the link, in a browser of their own.
	neu := e.client()
	page := neu.get("/invite?t=" + url.QueryEscape(tok))
	if page.Status != http.StatusOK || !strings.Contains(page.Body, "neu@example.org") || !strings.Contains(page.Body, "Sachbearbeitung") {
		t.Fatalf("invitation page: %d: %s", page.Status, page.Body)
	}
	// A weak password, and two that differ, are refused with the reason.
	if r := neu.postForm("/invite?t="+url.QueryEscape(tok), "/invite", url.Values{"t": {tok}, "password": {"passwort12"}, "password2": {"passwort12"}}); r.Status != http.StatusBadRequest || !strings.Contains(r.Body, "zu verbreitet") {
		t.Errorf("weak password: %d", r.Status)
	}
	if r := neu.postForm("/invite?t="+url.QueryEscape(tok), "/invite", url.Values{"t": {tok}, "password": {invitePassword}, "password2": {invitePassword + "x"}}); r.Status != http.StatusBadRequest || !strings.Contains(r.Body, "stimmen nicht überein") {
		t.Errorf("mismatch: %d", r.Status)
	}
	r = neu.accept(tok, invitePassword)
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/?notice=invite_welcome" {
		t.Fatalf("accept: %d %s: %s", r.Status, r.Header.Get("Location"), r.Body)
	}
	// Logged in: the inbox opens.
	if r := neu.get("/inbox"); r.Status != http.StatusOK || !strings.Contains(r.Body, "Neue Kollegin") {
		t.Fatalf("after accepting: inbox %d", r.Status)
	}
	// And the chosen password works for the next login.
	again := e.client()
	if r := again.postForm("/login", "/login", url.Values{"email": {"neu@example.org"}, "password": {invitePassword}}); r.Status != http.StatusSeeOther {
		t.Fatalf("login with the chosen password: %d", r.Status)
	}

	// Used once: the link is gone, also for its owner.
	if r := e.client().get("/invite?t=" + url.QueryEscape(tok)); r.Status != http.StatusGone || !strings.Contains(r.Body, "ungültig, abgelaufen oder wurde schon benutzt") {
		t.Errorf("reused link: GET %d", r.Status)
	}
	other := e.client()
	if r := other.accept(tok, "Ganz Anderes Passwort Heute"); r.Status != http.StatusGone {
		t.Errorf("reused link: POST %d", r.Status)
	}
	if r := e.client().postForm("/login", "/login", url.Values{"email": {"neu@example.org"}, "password": {invitePassword}}); r.Status != http.StatusSeeOther {
		t.Errorf("a reused link changed the password: login %d", r.Status)
	}

	// Audit: created, invited (by the admin), accepted (by the user).
	for _, a := range []struct {
		action string
		by     int64
	}{{"user.create", adminID}, {"user.invite", adminID}, {"user.invite_accept", id}} {
		if n := e.count(`SELECT count(*) FROM audit_log WHERE action = $1 AND user_id = $2 AND object_id = $3`, a.action, a.by, itoa(id)); n != 1 {
			t.Errorf("audit %s by %d: %d rows", a.action, a.by, n)
		}
	}
	if r := admin.get("/admin/audit?action=user.invite"); !strings.Contains(r.Body, "Einladungslink erstellt") || !strings.Contains(r.Body, "Einladung angenommen") {
		t.Error("audit page: invitation actions not in words")
	}
}

// TestInviteInvalidLinks: a forged, an expired, a revoked and a superseded
// link are refused (GET and POST) and change nothing.
func TestInviteInvalidLinks(t *testing.T) {
	e := newEnv(t)
	e.user("admin@example.org", staff.RoleAdmin)
	admin := e.loggedIn("admin@example.org")
	id, tok := e.invited("neu@example.org", staff.RoleStaff, "bauamt")

	unchanged := func(what string) {
		t.Helper()
		if n := e.count(`SELECT count(*) FROM users WHERE id = $1 AND password_hash = '!'`, id); n != 1 {
			t.Fatalf("%s: the password was set", what)
		}
		if n := e.count(`SELECT count(*) FROM sessions WHERE user_id = $1`, id); n != 0 {
			t.Fatalf("%s: a session was started", what)
		}
	}
	c := e.client()
	// Forged: random, truncated, changed in one character, too long, hostile.
	forged := []string{randomToken(), tok[:len(tok)-1], tok[:len(tok)-1] + string(rune(tok[len(tok)-1])^1), strings.Repeat("A", 5000), "\x00'; DROP TABLE users;--", ""}
	for _, f := range forged {
		if r := c.get("/invite?t=" + url.QueryEscape(f)); r.Status != http.StatusNotFound || !strings.Contains(r.Body, "Einladungslink ungültig") {
			t.Errorf("forged %.20q: GET %d", f, r.Status)
		}
		if r := c.accept(f, invitePassword); r.Status != http.StatusNotFound {
			t.Errorf("forged %.20q: POST %d", f, r.Status)
		}
	}
	unchanged("forged")

	// Expired.
	if _, err := e.db.Exec(`UPDATE user_invitations SET expires_at = now() - interval '1 second' WHERE user_id = $1`, id); err != nil {
		t.Fatal(err)
	}
	if r := c.get("/invite?t=" + url.QueryEscape(tok)); r.Status != http.StatusGone {
		t.Errorf("expired: GET %d", r.Status)
	}
	if r := c.accept(tok, invitePassword); r.Status != http.StatusGone {
		t.Errorf("expired: POST %d", r.Status)
	}
	unchanged("expired")
	if r := admin.get("/admin/users"); !strings.Contains(r.Body, "Einladung abgelaufen") {
		t.Error("user list: expired invitation not shown")
	}

	// A new link (re-issued by the admin) works; the old one stays dead.
	r := admin.postForm("/admin/users/"+itoa(id), "/admin/users/"+itoa(id)+"/invite", nil)
	if r.Status != http.StatusOK {
		t.Fatalf("reissue: %d", r.Status)
	}
	tok2 := inviteToken(t, r.Body)
	if tok2 == tok {
		t.Fatal("the same token again")
	}
	// Re-issuing once more supersedes tok2.
	tok3 := inviteToken(t, admin.postForm("/admin/users/"+itoa(id), "/admin/users/"+itoa(id)+"/invite", nil).Body)
	if r := c.accept(tok2, invitePassword); r.Status != http.StatusGone {
		t.Errorf("superseded: POST %d", r.Status)
	}
	unchanged("superseded")
	// Revoked.
	if r := admin.postForm("/admin/users/"+itoa(id), "/admin/users/"+itoa(id)+"/invite/revoke", nil); r.Status != http.StatusSeeOther {
		t.Fatalf("revoke: %d", r.Status)
	}
	if r := c.get("/invite?t=" + url.QueryEscape(tok3)); r.Status != http.StatusGone {
		t.Errorf("revoked: GET %d", r.Status)
	}
	if r := c.accept(tok3, invitePassword); r.Status != http.StatusGone {
		t.Errorf("revoked: POST %d", r.Status)
	}
	unchanged("revoked")
	if n := e.count(`SELECT count(*) FROM audit_log WHERE action = 'user.invite_revoke' AND object_id = $1`, itoa(id)); n != 1 {
		t.Errorf("revocation audit rows: %d", n)
	}
	// A deactivated user's link does not work.
	_, tok4 := e.invited("weg@example.org", staff.RoleStaff)
	if _, err := e.db.Exec(`UPDATE users SET active = false WHERE email = 'weg@example.org'`); err != nil {
		t.Fatal(err)
	}
	if r := c.accept(tok4, invitePassword); r.Status != http.StatusGone {
		t.Errorf("deactivated: POST %d", r.Status)
	}
	// Only admins issue and revoke links.
	clerk := e.user("bau@example.org", staff.RoleStaff, "bauamt")
	_ = clerk
	bau := e.loggedIn("bau@example.org")
	if r := bau.postForm("/account", "/admin/users/"+itoa(id)+"/invite", nil); r.Status != http.StatusForbidden {
		t.Errorf("staff reissues: %d", r.Status)
	}
}

// TestInviteSameTokenTwice: two submissions of one link at once: one wins,
// the other is refused.
func TestInviteSameTokenTwice(t *testing.T) {
	e := newEnv(t)
	_, tok := e.invited("neu@example.org", staff.RoleStaff)
	a, b := e.client(), e.client()
	fa := url.Values{"t": {tok}, "password": {invitePassword}, "password2": {invitePassword}, "csrf_token": {a.csrf("/invite?t=" + url.QueryEscape(tok))}}
	fb := url.Values{"t": {tok}, "password": {"Ganz Anderes Passwort Heute"}, "password2": {"Ganz Anderes Passwort Heute"}, "csrf_token": {b.csrf("/invite?t=" + url.QueryEscape(tok))}}
	res := make(chan int, 2)
	go func() { res <- a.post("/invite", fa).Status }()
	go func() { res <- b.post("/invite", fb).Status }()
	got := map[int]int{<-res: 1}
	got[<-res]++
	if got[http.StatusSeeOther] != 1 || got[http.StatusGone] != 1 {
		t.Fatalf("statuses %v, want one 303 and one 410", got)
	}
	if n := e.count(`SELECT count(*) FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.email = 'neu@example.org'`); n != 1 {
		t.Fatalf("sessions: %d", n)
	}
}

// TestAdminSetPasswordForcesChange: a password an admin sets for someone
// else works for one login, after which the user must choose their own
// before anything else; their own choice lifts it.
func TestAdminSetPasswordForcesChange(t *testing.T) {
	e := newEnv(t, withCases)
	e.user("admin@example.org", staff.RoleAdmin)
	id := e.user("bau@example.org", staff.RoleStaff, "bauamt")
	admin := e.loggedIn("admin@example.org")
	const set = "Vom Admin Gesetzt Heute"
	path := "/admin/users/" + itoa(id)
	if r := admin.postForm(path, path, url.Values{"name": {"Bau"}, "role": {"staff"}, "language": {"de"}, "active": {"on"}, "departments": {"bauamt"}, "password": {set}}); r.Status != http.StatusSeeOther {
		t.Fatalf("set password: %d %s", r.Status, r.Body)
	}
	if n := e.count(`SELECT count(*) FROM audit_log WHERE action = 'user.update' AND object_id = $1 AND details->>'must_change_password' = 'true'`, itoa(id)); n != 1 {
		t.Errorf("audit: %d rows with must_change_password", n)
	}
	if r := admin.get("/admin/users"); !strings.Contains(r.Body, "muss Passwort ändern") {
		t.Error("user list does not show the forced change")
	}
	c := e.client()
	r := c.postForm("/login", "/login", url.Values{"email": {"bau@example.org"}, "password": {set}, "next": {"/inbox"}})
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/account?notice=password_required" {
		t.Fatalf("login: %d %s", r.Status, r.Header.Get("Location"))
	}
	// Nothing else until then.
	for _, p := range []string{"/inbox", "/canned", "/"} {
		if r := c.get(p); r.Status != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/account") {
			t.Errorf("GET %s: %d %s", p, r.Status, r.Header.Get("Location"))
		}
	}
	if r := c.postForm("/account", "/inbox/bulk", url.Values{"action": {"close"}, "ids": {"1"}}); r.Status != http.StatusForbidden {
		t.Errorf("POST before the change: %d", r.Status)
	}
	acc := c.get("/account?notice=password_required")
	if acc.Status != http.StatusOK || !strings.Contains(acc.Body, "Bitte wählen Sie jetzt Ihr eigenes Passwort") {
		t.Fatalf("account page: %d", acc.Status)
	}
	// The same password again is not a choice.
	if r := c.postForm("/account", "/account/password", url.Values{"current": {set}, "password": {set}}); r.Status != http.StatusBadRequest || !strings.Contains(r.Body, "anderes Passwort als das bisherige") {
		t.Errorf("same password: %d", r.Status)
	}
	if r := c.postForm("/account", "/account/password", url.Values{"current": {set}, "password": {invitePassword}}); r.Status != http.StatusSeeOther {
		t.Fatalf("change: %d %s", r.Status, r.Body)
	}
	if r := c.get("/inbox"); r.Status != http.StatusOK {
		t.Errorf("inbox after the change: %d", r.Status)
	}
	if n := e.count(`SELECT count(*) FROM users WHERE id = $1 AND NOT must_change_password`, id); n != 1 {
		t.Error("flag not cleared")
	}
	// An admin changing their own password on the form is not forced.
	me := e.count(`SELECT id FROM users WHERE email = 'admin@example.org'`)
	mp := "/admin/users/" + itoa(int64(me))
	if r := admin.postForm(mp, mp, url.Values{"name": {"admin"}, "role": {"admin"}, "language": {"de"}, "active": {"on"}, "password": {"Mein Eigenes Neues Passwort"}}); r.Status != http.StatusSeeOther {
		t.Fatalf("own password: %d", r.Status)
	}
	if n := e.count(`SELECT count(*) FROM users WHERE id = $1 AND must_change_password`, me); n != 0 {
		t.Error("an admin's own password was forced to change")
	}
}
