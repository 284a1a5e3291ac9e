package staff

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"golang.org/x/crypto/bcrypt"

	"citybot/internal/apperr"
	"citybot/internal/dbtest"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

const testPassword = "Kanu Lampe Wolke Pfeffer"

func newStore(t *testing.T) (*Store, *sqlx.DB) {
	t.Helper()
	d := dbtest.New(t)
	return New(d).WithCost(bcrypt.MinCost), d
}

func count(t *testing.T, d *sqlx.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := d.Get(&n, q, args...); err != nil {
		t.Fatal(err)
	}
	return n
}

func mustDepartment(t *testing.T, s *Store, id string) {
	t.Helper()
	if err := s.CreateDepartment(context.Background(), 0, id, DepartmentInput{Name: "Amt " + id, TargetMinutes: 240}); err != nil {
		t.Fatal(err)
	}
}

func TestPrincipal(t *testing.T) {
	admin := Principal{ID: 1, Role: RoleAdmin}
	editor := Principal{ID: 2, Role: RoleEditor, Departments: []string{"bauamt"}}
	clerk := Principal{ID: 3, Role: RoleStaff, Departments: []string{"bauamt"}}
	for _, c := range []struct {
		name                     string
		p                        Principal
		admin, editor, edit, see bool
	}{
		{"admin", admin, true, true, true, true},
		{"editor", editor, false, true, true, true},
		{"staff", clerk, false, false, false, true},
		{"no role", Principal{ID: 4, Role: "citizen", Departments: []string{"bauamt"}}, false, false, false, true},
	} {
		if got := c.p.IsAdmin(); got != c.admin {
			t.Errorf("%s: IsAdmin = %v", c.name, got)
		}
		if got := c.p.IsEditor(); got != c.editor {
			t.Errorf("%s: IsEditor = %v", c.name, got)
		}
		if got := c.p.CanEdit("bauamt"); got != c.edit {
			t.Errorf("%s: CanEdit(bauamt) = %v", c.name, got)
		}
		if got := c.p.CanSeeDepartment("bauamt"); got != c.see {
			t.Errorf("%s: CanSeeDepartment(bauamt) = %v", c.name, got)
		}
		if c.p.Role != RoleAdmin && (c.p.CanEdit("ordnungsamt") || c.p.CanSeeDepartment("ordnungsamt")) {
			t.Errorf("%s: sees another department", c.name)
		}
	}
	var nobody *Principal
	if nobody.IsAdmin() {
		t.Error("nil principal is admin")
	}
	if (Principal{Role: RoleAdmin}).Valid() || (Principal{ID: 1, Role: "citizen"}).Valid() || !admin.Valid() {
		t.Error("Valid")
	}
}

func TestCreateUser(t *testing.T) {
	ctx := context.Background()
	s, d := newStore(t)
	mustDepartment(t, s, "bauamt")
	id, err := s.CreateUser(ctx, " Anna@Example.org ", "Anna", testPassword, RoleStaff, []string{"bauamt"})
	if err != nil {
		t.Fatal(err)
	}
	u, err := s.GetUser(ctx, id)
	if err != nil || u.Email != "anna@example.org" || u.Role != RoleStaff || !u.Active || len(u.Departments) != 1 || u.Departments[0] != "bauamt" {
		t.Fatalf("user = %+v, %v", u, err)
	}
	var hash string
	if err := d.Get(&hash, `SELECT password_hash FROM users WHERE id = $1`, id); err != nil || bcrypt.CompareHashAndPassword([]byte(hash), []byte(testPassword)) != nil {
		t.Fatalf("password hash does not match: %v", err)
	}
	for _, c := range []struct {
		name            string
		email, pw, role string
		deps            []string
		want            error
		kind            apperr.Kind
	}{
		{"taken", "anna@example.org", testPassword, RoleStaff, nil, ErrExists, apperr.Conflict},
		{"bad email", "anna", testPassword, RoleStaff, nil, ErrInvalid, apperr.Invalid},
		{"bad role", "b@example.org", testPassword, "citizen", nil, ErrInvalid, apperr.Invalid},
		{"weak password", "c@example.org", "passwort12", RoleStaff, nil, ErrInvalid, apperr.Invalid},
		{"short password", "c@example.org", "Xq7-kurz", RoleStaff, nil, ErrInvalid, apperr.Invalid},
		{"unknown department", "d@example.org", testPassword, RoleStaff, []string{"nope"}, ErrInvalid, apperr.Invalid},
	} {
		_, err := s.CreateUser(ctx, c.email, "Somebody", c.pw, c.role, c.deps)
		if !errors.Is(err, c.want) || apperr.KindOf(err) != c.kind {
			t.Errorf("%s: err = %v, want %v", c.name, err, c.want)
		}
	}
	if n := count(t, d, `SELECT count(*) FROM users`); n != 1 {
		t.Errorf("users = %d, want 1 (refused ones left nothing)", n)
	}
	if ok, err := CanHandle(ctx, d, id, "bauamt"); err != nil || !ok {
		t.Errorf("CanHandle(bauamt) = %v %v", ok, err)
	}
	if ok, err := CanHandle(ctx, d, id, "ordnungsamt"); err != nil || ok {
		t.Errorf("CanHandle(ordnungsamt) = %v %v", ok, err)
	}
}

func TestSessionLifecycle(t *testing.T) {
	ctx := context.Background()
	s, d := newStore(t)
	mustDepartment(t, s, "bauamt")
	id, err := s.CreateUser(ctx, "anna@example.org", "Anna", testPassword, RoleEditor, []string{"bauamt"})
	if err != nil {
		t.Fatal(err)
	}
	acc, err := s.Authenticate(ctx, "ANNA@example.org", testPassword, "192.0.2.1")
	if err != nil || acc.ID != id || acc.MustChange {
		t.Fatalf("authenticate = %+v, %v", acc, err)
	}
	if _, err := s.Authenticate(ctx, "anna@example.org", "falsch falsch", "192.0.2.1"); !errors.Is(err, ErrBadLogin) {
		t.Fatalf("wrong password: %v", err)
	}
	ns, err := s.CreateSession(ctx, id, time.Hour, "192.0.2.1", "test")
	if err != nil {
		t.Fatal(err)
	}
	sess, err := s.SessionByToken(ctx, ns.Token)
	if err != nil || sess.User.ID != id || sess.User.Role != RoleEditor || sess.CSRF != ns.CSRF || len(sess.User.Departments) != 1 {
		t.Fatalf("session = %+v, %v", sess, err)
	}
	if _, err := s.SessionByToken(ctx, "nonsense"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown token: %v", err)
	}
	// A deactivated user's session is gone for the lookup.
	if err := s.UpdateUser(ctx, 0, UserUpdate{ID: id, Name: "Anna", Role: RoleEditor, Language: "de", Active: false}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SessionByToken(ctx, ns.Token); !errors.Is(err, ErrNotFound) {
		t.Errorf("deactivated user's session: %v", err)
	}
	if err := s.UpdateUser(ctx, 0, UserUpdate{ID: id, Name: "Anna", Role: RoleEditor, Language: "de", Active: true, Departments: []string{"bauamt"}}); err != nil {
		t.Fatal(err)
	}
	ns, err = s.CreateSession(ctx, id, time.Hour, "192.0.2.1", "test")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteSession(ctx, TokenHash(ns.Token)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SessionByToken(ctx, ns.Token); !errors.Is(err, ErrNotFound) {
		t.Errorf("deleted session: %v", err)
	}
	// Expired sessions are not found and the clean-up removes them.
	old, err := s.CreateSession(ctx, id, -time.Minute, "192.0.2.1", "test")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.SessionByToken(ctx, old.Token); !errors.Is(err, ErrNotFound) {
		t.Errorf("expired session: %v", err)
	}
	if err := s.Cleanup(ctx); err != nil {
		t.Fatal(err)
	}
	if n := count(t, d, `SELECT count(*) FROM sessions`); n != 0 {
		t.Errorf("sessions after clean-up = %d", n)
	}
}

func TestThrottle(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	if _, err := s.CreateUser(ctx, "anna@example.org", "Anna", testPassword, RoleStaff, nil); err != nil {
		t.Fatal(err)
	}
	for i := range ThrottleFreePair {
		if _, err := s.Authenticate(ctx, "anna@example.org", "falsch falsch", "192.0.2.9"); !errors.Is(err, ErrBadLogin) {
			t.Fatalf("attempt %d: %v", i+1, err)
		}
	}
	_, err := s.Authenticate(ctx, "anna@example.org", testPassword, "192.0.2.9")
	if wait, ok := Throttled(err); !ok || wait <= 0 || !errors.Is(err, ErrThrottled) {
		t.Fatalf("after %d failures: %v", ThrottleFreePair, err)
	}
	// The owner at another address is not locked out.
	if _, err := s.Authenticate(ctx, "anna@example.org", testPassword, "192.0.2.10"); err != nil {
		t.Fatalf("other address: %v", err)
	}
	if err := s.ClearThrottle(ctx, 0, "anna@example.org", "192.0.2.9"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(ctx, "anna@example.org", testPassword, "192.0.2.9"); err != nil {
		t.Fatalf("after the throttle was cleared: %v", err)
	}
	if err := s.ClearThrottle(ctx, 0, "anna@example.org", "192.0.2.9"); !errors.Is(err, ErrNotFound) {
		t.Errorf("clearing twice: %v", err)
	}
}

// TestChangePasswordAudited: the new password, the end of the other
// sessions and the audit row commit together; when the audit row cannot be
// written, nothing changes.
func TestChangePasswordAudited(t *testing.T) {
	ctx := context.Background()
	s, d := newStore(t)
	id, err := s.CreateUser(ctx, "anna@example.org", "Anna", testPassword, RoleStaff, nil)
	if err != nil {
		t.Fatal(err)
	}
	keep, err := s.CreateSession(ctx, id, time.Hour, "192.0.2.1", "test")
	if err != nil {
		t.Fatal(err)
	}
	other, err := s.CreateSession(ctx, id, time.Hour, "192.0.2.2", "test")
	if err != nil {
		t.Fatal(err)
	}
	hashOf := func() string {
		var h string
		if err := d.Get(&h, `SELECT password_hash FROM users WHERE id = $1`, id); err != nil {
			t.Fatal(err)
		}
		return h
	}
	audits := func() int {
		return count(t, d, `SELECT count(*) FROM audit_log WHERE action = 'user.password' AND user_id = $1`, id)
	}
	const newPassword = "Tisch Möwe Regen Sattel"

	// A failing audit insert rolls the change back.
	before := hashOf()
	errAudit := errors.New("audit insert failed")
	err = s.changePassword(ctx, id, TokenHash(keep.Token), newPassword,
		func(context.Context, sqlx.ExecerContext, int64, string, string, string, map[string]any) error {
			return errAudit
		})
	if !errors.Is(err, errAudit) {
		t.Fatalf("change with failing audit: %v", err)
	}
	if hashOf() != before || audits() != 0 || count(t, d, `SELECT count(*) FROM sessions WHERE user_id = $1`, id) != 2 {
		t.Fatal("a change whose audit row failed left something behind")
	}

	if err := s.CheckPassword(ctx, id, "anna@example.org", "falsch falsch", "192.0.2.1"); !errors.Is(err, ErrWrongPassword) {
		t.Errorf("wrong current password: %v", err)
	}
	if err := s.CheckPassword(ctx, id, "anna@example.org", testPassword, "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	if err := s.ChangePassword(ctx, id, TokenHash(keep.Token), newPassword); err != nil {
		t.Fatal(err)
	}
	if bcrypt.CompareHashAndPassword([]byte(hashOf()), []byte(newPassword)) != nil || audits() != 1 {
		t.Fatalf("after the change: audit rows %d", audits())
	}
	if _, err := s.SessionByToken(ctx, keep.Token); err != nil {
		t.Errorf("the changing session ended: %v", err)
	}
	if _, err := s.SessionByToken(ctx, other.Token); !errors.Is(err, ErrNotFound) {
		t.Errorf("the other session lives on: %v", err)
	}
	if err := s.ChangePassword(ctx, id, nil, "kurz"); !errors.Is(err, ErrInvalid) {
		t.Errorf("short password: %v", err)
	}
}

// TestForcedPasswordChange: a password an admin sets must be changed by
// the user; their own change ends the obligation.
func TestForcedPasswordChange(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	admin, err := s.CreateUser(ctx, "admin@example.org", "Admin", testPassword, RoleAdmin, nil)
	if err != nil {
		t.Fatal(err)
	}
	id, err := s.CreateUser(ctx, "anna@example.org", "Anna", testPassword, RoleStaff, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.UpdateUser(ctx, admin, UserUpdate{ID: id, Name: "Anna", Role: RoleStaff, Language: "de", Active: true, Password: "Tisch Möwe Regen Sattel"}); err != nil {
		t.Fatal(err)
	}
	acc, err := s.Authenticate(ctx, "anna@example.org", "Tisch Möwe Regen Sattel", "192.0.2.1")
	if err != nil || !acc.MustChange {
		t.Fatalf("after the admin set it: %+v %v", acc, err)
	}
	if err := s.ChangePassword(ctx, id, nil, "Garten Schiff Lampe Nebel"); err != nil {
		t.Fatal(err)
	}
	if acc, err := s.Authenticate(ctx, "anna@example.org", "Garten Schiff Lampe Nebel", "192.0.2.1"); err != nil || acc.MustChange {
		t.Fatalf("after the own change: %+v %v", acc, err)
	}
}

func TestDepartments(t *testing.T) {
	ctx := context.Background()
	s, d := newStore(t)
	days := 30
	in := DepartmentInput{Name: "Bauamt", Description: "Bauanträge", Email: "bau@example.org", Phone: "0123 456",
		Address: "Markt 1", Keywords: []string{"Bauantrag", "Carport"}, OfficeHours: []byte(`{"1": [["08:00", "12:00"]]}`),
		Retention: &days, TargetMinutes: 120}
	if err := s.CreateDepartment(ctx, 0, "bauamt", in); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateDepartment(ctx, 0, "bauamt", in); !errors.Is(err, ErrExists) || apperr.KindOf(err) != apperr.Conflict {
		t.Errorf("duplicate: %v", err)
	}
	got, err := s.GetDepartment(ctx, "bauamt")
	if err != nil || got.Name != "Bauamt" || got.Email != "bau@example.org" || len(got.Keywords) != 2 || got.RetentionDays == nil || *got.RetentionDays != 30 || got.TargetMinutes != 120 {
		t.Fatalf("department = %+v, %v", got, err)
	}
	in.Name, in.Keywords, in.Retention = "Bauordnungsamt", nil, nil
	if err := s.UpdateDepartment(ctx, 0, "bauamt", in); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.GetDepartment(ctx, "bauamt"); got.Name != "Bauordnungsamt" || len(got.Keywords) != 0 || got.RetentionDays != nil {
		t.Errorf("updated = %+v", got)
	}
	if err := s.UpdateDepartment(ctx, 0, "nope", in); !errors.Is(err, ErrNotFound) {
		t.Errorf("update unknown: %v", err)
	}
	if _, err := s.GetDepartment(ctx, "nope"); !errors.Is(err, ErrNotFound) || apperr.KindOf(err) != apperr.NotFound {
		t.Errorf("get unknown: %v", err)
	}
	if n := count(t, d, `SELECT count(*) FROM audit_log WHERE object_type = 'department' AND object_id = 'bauamt'`); n != 2 {
		t.Errorf("audit rows = %d, want 2 (create, update)", n)
	}
	// Office hours, as routing sets them.
	if err := SetOfficeHours(ctx, d, "nope", []byte(`{}`)); !errors.Is(err, ErrNotFound) {
		t.Errorf("office hours of unknown: %v", err)
	}
	if err := SetOfficeHoursIfEmpty(ctx, d, "bauamt", []byte(`{"2": [["09:00", "10:00"]]}`)); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.GetDepartment(ctx, "bauamt"); string(got.OfficeHours) != `{"1": [["08:00", "12:00"]]}` {
		t.Errorf("hours overwritten although set: %s", got.OfficeHours)
	}
	// A dataset import creates and updates departments in its transaction.
	tx, err := d.Beginx()
	if err != nil {
		t.Fatal(err)
	}
	created, err := UpsertImportedDepartment(ctx, tx, "zentrale", "Zentrale", "", nil)
	if err != nil || !created {
		t.Fatalf("import new: %v %v", created, err)
	}
	created, err = UpsertImportedDepartment(ctx, tx, "bauamt", "Bauamt", "neu", []string{"Bau"})
	if err != nil || created {
		t.Fatalf("import existing: %v %v", created, err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	refs, err := s.DepartmentRefs(ctx)
	if err != nil || len(refs) != 2 || refs[0].ID != "bauamt" || refs[1].ID != "zentrale" {
		t.Fatalf("refs = %+v, %v", refs, err)
	}
	z, _ := s.GetDepartment(ctx, "zentrale")
	b, _ := s.GetDepartment(ctx, "bauamt")
	if !z.IsFallback || b.Description != "neu" || b.Email != "bau@example.org" {
		t.Errorf("after import: zentrale %+v, bauamt %+v", z, b)
	}
}

func TestInvitation(t *testing.T) {
	ctx := context.Background()
	s, d := newStore(t)
	id, tok, expires, err := s.CreateInvitedUser(ctx, 0, NewUser{Email: "neu@example.org", Name: "Neu", Role: RoleStaff, Language: "de"}, time.Hour)
	if err != nil || time.Until(expires) < 50*time.Minute {
		t.Fatalf("invite: %v %v", expires, err)
	}
	if _, _, _, err := s.CreateInvitedUser(ctx, 0, NewUser{Email: "NEU@example.org", Name: "Neu", Role: RoleStaff, Language: "de"}, time.Hour); !errors.Is(err, ErrExists) {
		t.Errorf("second invitation of the address: %v", err)
	}
	if acc, _ := s.UserAccess(ctx, id); acc.HasPassword || !acc.Invited || acc.OpenUntil == nil {
		t.Errorf("access before = %+v", acc)
	}
	tok2, _, err := s.ReissueInvitation(ctx, 0, id, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.AcceptInvitation(ctx, tok, testPassword); !errors.Is(err, ErrInvitationUsed) {
		t.Errorf("the revoked first link: %v", err)
	}
	inv, err := s.AcceptInvitation(ctx, tok2, testPassword)
	if err != nil || inv.UserID != id {
		t.Fatalf("accept: %+v %v", inv, err)
	}
	if _, err := s.AcceptInvitation(ctx, tok2, testPassword); !errors.Is(err, ErrInvitationUsed) {
		t.Errorf("the link twice: %v", err)
	}
	if _, err := s.AcceptInvitation(ctx, "unknown", testPassword); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown link: %v", err)
	}
	if acc, _ := s.UserAccess(ctx, id); !acc.HasPassword || acc.OpenUntil != nil {
		t.Errorf("access after = %+v", acc)
	}
	if n := count(t, d, `SELECT count(*) FROM audit_log WHERE object_type = 'user' AND object_id = $1::text`, id); n != 4 {
		t.Errorf("audit rows = %d, want 4 (create, invite, reissue, accept)", n)
	}
}
