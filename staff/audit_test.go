package staff

import (
	"context"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
)

// failAudit makes every audit_log insert of action fail (a CHECK
// constraint on the test database) until the returned function runs.
func failAudit(t *testing.T, d *sqlx.DB, action string) func() {
	t.Helper()
	if _, err := d.Exec(`ALTER TABLE audit_log ADD CONSTRAINT test_fail_audit CHECK (action <> '` + action + `')`); err != nil {
		t.Fatal(err)
	}
	return func() {
		if _, err := d.Exec(`ALTER TABLE audit_log DROP CONSTRAINT test_fail_audit`); err != nil {
			t.Fatal(err)
		}
	}
}

// TestLoginAuditAtomic: a sign-in's session and its "user.login" row, and
// a sign-out's deletion and its "user.logout" row, commit together.
func TestLoginAuditAtomic(t *testing.T) {
	ctx := context.Background()
	s, d := newStore(t)
	id, err := s.CreateUser(ctx, "anna@example.org", "Anna", testPassword, RoleStaff, nil)
	if err != nil {
		t.Fatal(err)
	}
	sessions := func() int { return count(t, d, `SELECT count(*) FROM sessions WHERE user_id = $1`, id) }
	audits := func(action, details string) int {
		return count(t, d, `SELECT count(*) FROM audit_log WHERE user_id = $1 AND action = $2
			AND object_type = 'user' AND object_id = $1::text AND details = $3::jsonb`, id, action, details)
	}

	undo := failAudit(t, d, "user.login")
	if _, err := s.LogIn(ctx, id, "", time.Hour, "192.0.2.1", "test"); err == nil {
		t.Fatal("login with failing audit insert succeeded")
	}
	if n := sessions(); n != 0 {
		t.Fatalf("login with failing audit insert left %d sessions", n)
	}
	undo()
	ns, err := s.LogIn(ctx, id, "", time.Hour, "192.0.2.1", "test")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.SessionByToken(ctx, ns.Token); err != nil {
		t.Fatal(err)
	}
	if _, err := s.LogIn(ctx, id, "oidc", time.Hour, "192.0.2.1", "test"); err != nil {
		t.Fatal(err)
	}
	if audits("user.login", `{}`) != 1 || audits("user.login", `{"method": "oidc"}`) != 1 || sessions() != 2 {
		t.Fatalf("after two logins: %d sessions, login rows %d+%d", sessions(), audits("user.login", `{}`), audits("user.login", `{"method": "oidc"}`))
	}

	undo = failAudit(t, d, "user.logout")
	if err := s.LogOut(ctx, id, TokenHash(ns.Token)); err == nil {
		t.Fatal("logout with failing audit insert succeeded")
	}
	if _, err := s.SessionByToken(ctx, ns.Token); err != nil {
		t.Fatalf("logout with failing audit insert ended the session: %v", err)
	}
	undo()
	if err := s.LogOut(ctx, id, TokenHash(ns.Token)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SessionByToken(ctx, ns.Token); err == nil {
		t.Fatal("the session lives on after logout")
	}
	if audits("user.logout", `{}`) != 1 || sessions() != 1 {
		t.Fatalf("after logout: %d sessions, %d logout rows", sessions(), audits("user.logout", `{}`))
	}

	// CreateSession and DeleteSession (the invitation's path) write none.
	other, err := s.CreateSession(ctx, id, time.Hour, "192.0.2.1", "test")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteSession(ctx, TokenHash(other.Token)); err != nil {
		t.Fatal(err)
	}
	if n := count(t, d, `SELECT count(*) FROM audit_log WHERE action IN ('user.login', 'user.logout')`); n != 3 {
		t.Errorf("%d login/logout rows, want 3", n)
	}
}
