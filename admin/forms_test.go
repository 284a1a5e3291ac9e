package admin

import (
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"citybot/staff"
)

// Invalid input on the users, departments and account forms: the form comes
// back with what was typed (never a password), a message next to each wrong
// field (aria-invalid, aria-describedby) and a summary linking to the
// fields; nothing is saved.

// escaped is s as html/template writes it into text and attributes.
func escaped(s string) string { return strings.ReplaceAll(html.EscapeString(s), "+", "&#43;") }

// fieldTag is the opening tag of the form control (or fieldset) with the id.
func fieldTag(t *testing.T, body, id string) string {
	t.Helper()
	tag := regexp.MustCompile(`<(?:input|select|textarea|fieldset)\b[^>]*\bid="` + regexp.QuoteMeta(id) + `"[^>]*>`).FindString(body)
	if tag == "" {
		t.Fatalf("no field #%s in the page", id)
	}
	return tag
}

// wantFieldError checks that the field shows the message (in the given
// language, from the catalog) next to it, is marked invalid and described
// by the message, and that the summary links to it.
func wantFieldError(t *testing.T, r resp, lang, field, key string, args ...any) {
	t.Helper()
	msg := escaped(newCatalog().t(lang, key, args...))
	if msg == key {
		t.Fatalf("unknown message key %s", key)
	}
	tag := fieldTag(t, r.Body, field)
	if !strings.Contains(tag, `aria-invalid="true"`) {
		t.Errorf("#%s not marked invalid: %s", field, tag)
	}
	if !regexp.MustCompile(`aria-describedby="[^"]*\b` + regexp.QuoteMeta(field) + `-error\b`).MatchString(tag) {
		t.Errorf("#%s not described by its message: %s", field, tag)
	}
	if !strings.Contains(r.Body, `<span id="`+field+`-error" class="error">`+msg+`</span>`) {
		t.Errorf("#%s: message %q (%s) not next to the field", field, msg, lang)
	}
	// The summary names the day of an office-hours message (seven fields
	// share their messages).
	summaryMsg := msg
	if day, ok := strings.CutPrefix(field, "hours_"); ok {
		summaryMsg = escaped(newCatalog().t(lang, "weekday."+day)) + ": " + msg
	}
	if !strings.Contains(r.Body, `<a href="#`+field+`">`+summaryMsg+`</a>`) {
		t.Errorf("#%s: the error summary does not link the message to the field", field)
	}
	if !strings.Contains(r.Body, `id="error-summary"`) || !strings.Contains(r.Body, `role="alert"`) {
		t.Error("no error summary announced as an alert")
	}
}

// wantNoFieldError checks that the field is not marked invalid.
func wantNoFieldError(t *testing.T, r resp, field string) {
	t.Helper()
	if tag := fieldTag(t, r.Body, field); strings.Contains(tag, "aria-invalid") || strings.Contains(r.Body, `id="`+field+`-error"`) {
		t.Errorf("#%s marked invalid: %s", field, tag)
	}
}

// wantNoGoError checks that no Go error text reaches the page.
func wantNoGoError(t *testing.T, r resp) {
	t.Helper()
	for _, s := range []string{"admin: ", "routing: ", "invalid:", "already exists", "pq: ", "violates", "password shorter", "bcrypt"} {
		if strings.Contains(r.Body, s) {
			t.Errorf("page shows error text %q", s)
		}
	}
}

func TestUserFormErrors(t *testing.T) {
	e := newEnv(t)
	meID := e.user("admin@example.org", staff.RoleAdmin)
	admin := e.loggedIn("admin@example.org")
	valid := url.Values{"email": {"neu@example.org"}, "name": {"Neue Kollegin"}, "role": {"editor"}, "language": {"de"}, "departments": {"ordnungsamt"}}
	with := func(k, v string) url.Values { return formWith(valid, k, v) }
	tests := []struct {
		name, field, key string
		form             url.Values
		args             []any
	}{
		{"bad email", "email", "users.err.email", with("email", "neu(at)example.org"), nil},
		{"no email", "email", "users.err.email_empty", with("email", " "), nil},
		{"email with name", "email", "users.err.email", with("email", "Neu <neu@example.org>"), nil},
		{"no name", "name", "users.err.name", with("name", "  "), nil},
		{"bad role", "role", "users.err.role", with("role", "chef"), nil},
		{"bad language", "language", "users.err.language", with("language", "xx"), nil},
		{"unknown department", "departments", "users.err.departments", with("departments", "nope"), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := admin.postForm("/admin/users/new", "/admin/users", tt.form)
			if r.Status != http.StatusBadRequest {
				t.Fatalf("status %d, want 400", r.Status)
			}
			wantFieldError(t, r, "de", tt.field, tt.key, tt.args...)
			for _, f := range []string{"email", "name", "role"} {
				if f != tt.field {
					wantNoFieldError(t, r, f)
				}
			}
			wantNoGoError(t, r)
			// What was typed is back, but the password is not.
			if tag := fieldTag(t, r.Body, "name"); !strings.Contains(tag, `value="`+escaped(strings.TrimSpace(tt.form.Get("name")))+`"`) {
				t.Errorf("name not kept: %s", tag)
			}
			if tag := fieldTag(t, r.Body, "email"); !strings.Contains(tag, `value="`+escaped(strings.TrimSpace(tt.form.Get("email")))+`"`) {
				t.Errorf("email not kept: %s", tag)
			}
			if tt.field != "role" && !strings.Contains(r.Body, `<option value="editor" selected>`) {
				t.Error("role not kept")
			}
			if tt.field != "departments" && !strings.Contains(r.Body, `id="dep-ordnungsamt" name="departments" value="ordnungsamt" checked`) {
				t.Error("departments not kept")
			}
			if strings.Contains(r.Body, `id="dep-bauamt" name="departments" value="bauamt" checked`) {
				t.Error("a department checked that was not chosen")
			}
			if tt.form.Get("password") != "" && strings.Contains(r.Body, tt.form.Get("password")) {
				t.Error("the password is shown again")
			}
			if !strings.Contains(r.Body, `name="csrf_token" value="`) || !strings.Contains(r.Body, `action="/admin/users"`) {
				t.Error("the form cannot be sent again")
			}
		})
	}
	// Several problems at once: each field has its message, the summary
	// lists them in the order of the form.
	r := admin.postForm("/admin/users/new", "/admin/users", url.Values{"email": {"x"}, "name": {""}, "role": {"chef"}, "language": {"de"}})
	if r.Status != http.StatusBadRequest {
		t.Fatalf("several errors: status %d", r.Status)
	}
	for _, f := range []string{"email", "name", "role"} {
		if !strings.Contains(r.Body, `id="`+f+`-error"`) {
			t.Errorf("several errors: no message for %s", f)
		}
	}
	if i, j, k := strings.Index(r.Body, `href="#email"`), strings.Index(r.Body, `href="#name"`), strings.Index(r.Body, `href="#role"`); i < 0 || i > j || j > k {
		t.Error("the summary is not in the order of the form")
	}
	// A taken email address (in any case) is a conflict.
	r = admin.postForm("/admin/users/new", "/admin/users", with("email", " Admin@Example.org "))
	if r.Status != http.StatusConflict {
		t.Fatalf("taken email: status %d, want 409", r.Status)
	}
	wantFieldError(t, r, "de", "email", "users.err.email_taken")
	if !strings.Contains(r.Body, "Diese E-Mail-Adresse hat schon ein anderer Benutzer.") {
		t.Error("taken email: German message missing")
	}
	if n := e.count(`SELECT count(*) FROM users`); n != 1 {
		t.Fatalf("invalid forms created %d users", n-1)
	}

	// Editing: the same for the fields of the edit form.
	otherID := e.user("bau@example.org", staff.RoleStaff, "bauamt")
	other := fmt.Sprintf("/admin/users/%d", otherID)
	snapshot := func(id int64) string {
		var s string
		if err := e.db.Get(&s, `SELECT row_to_json(u)::text || COALESCE((SELECT string_agg(department_id, ',') FROM user_departments WHERE user_id = u.id), '')
			FROM users u WHERE id = $1`, id); err != nil {
			t.Fatal(err)
		}
		return s
	}
	before := snapshot(otherID)
	edit := url.Values{"name": {"Bau Neu"}, "role": {"editor"}, "language": {"en"}, "active": {"on"}, "departments": {"ordnungsamt"}}
	editWith := func(k, v string) url.Values { return formWith(edit, k, v) }
	editTests := []struct {
		name, field, key string
		form             url.Values
		args             []any
	}{
		{"no name", "name", "users.err.name", editWith("name", ""), nil},
		{"short password", "password", "form.err.password_short", editWith("password", "Xq7-kurz"), []any{minPasswordLen}},
		{"long password", "password", "form.err.password_long", editWith("password", strings.Repeat("ä", 40)), []any{maxPasswordBytes}},
		{"bad language", "language", "users.err.language", editWith("language", "fr"), nil},
		{"bad role", "role", "users.err.role", editWith("role", "root"), nil},
		{"unknown department", "departments", "users.err.departments", editWith("departments", "nope"), nil},
	}
	for _, tt := range editTests {
		t.Run("edit "+tt.name, func(t *testing.T) {
			r := admin.postForm(other, other, tt.form)
			if r.Status != http.StatusBadRequest {
				t.Fatalf("status %d, want 400", r.Status)
			}
			wantFieldError(t, r, "de", tt.field, tt.key, tt.args...)
			wantNoGoError(t, r)
			if tt.field != "name" && !strings.Contains(fieldTag(t, r.Body, "name"), `value="Bau Neu"`) {
				t.Error("name not kept")
			}
			if tt.field != "language" && !strings.Contains(r.Body, `<option value="en" selected>`) {
				t.Error("language not kept")
			}
			if !strings.Contains(r.Body, "bau@example.org") {
				t.Error("the email address is not shown")
			}
		})
	}
	// Unchecking "active" is kept too.
	r = admin.postForm(other, other, formWith(url.Values{"name": {""}, "role": {"staff"}, "language": {"de"}}, "departments", "bauamt"))
	if r.Status != http.StatusBadRequest || strings.Contains(fieldTag(t, r.Body, "active"), "checked") {
		t.Errorf("unchecked active not kept: %d", r.Status)
	}
	if after := snapshot(otherID); after != before {
		t.Errorf("invalid edits changed the user:\n%s\n%s", before, after)
	}
	// Admins cannot demote or deactivate themselves.
	me := fmt.Sprintf("/admin/users/%d", meID)
	meBefore := snapshot(meID)
	r = admin.postForm(me, me, url.Values{"name": {"admin"}, "role": {"staff"}, "language": {"de"}, "active": {"on"}})
	if r.Status != http.StatusBadRequest {
		t.Fatalf("self demote: status %d", r.Status)
	}
	wantFieldError(t, r, "de", "role", "users.err.self_role")
	wantNoGoError(t, r)
	if !strings.Contains(r.Body, `<option value="staff" selected>`) {
		t.Error("self demote: the chosen role is not kept")
	}
	r = admin.postForm(me, me, url.Values{"name": {"admin"}, "role": {"admin"}, "language": {"de"}})
	if r.Status != http.StatusBadRequest {
		t.Fatalf("self deactivate: status %d", r.Status)
	}
	wantFieldError(t, r, "de", "active", "users.err.self_active")
	if after := snapshot(meID); after != meBefore {
		t.Errorf("self demote changed the admin:\n%s\n%s", meBefore, after)
	}

	// In English.
	admin.post("/language", url.Values{"lang": {"en"}, "csrf_token": {admin.csrf("/admin/users")}})
	r = admin.postForm("/admin/users/new", "/admin/users", with("email", "neu(at)example.org"))
	if r.Status != http.StatusBadRequest || !strings.Contains(r.Body, `<html lang="en">`) {
		t.Fatalf("English: status %d", r.Status)
	}
	wantFieldError(t, r, "en", "email", "users.err.email")
	if !strings.Contains(r.Body, "Please enter a valid email address") || strings.Contains(r.Body, "Bitte geben Sie") {
		t.Error("English: message not in English")
	}
	r = admin.postForm(me, me, url.Values{"name": {"admin"}, "role": {"admin"}, "language": {"en"}})
	wantFieldError(t, r, "en", "active", "users.err.self_active")
	if n := e.count(`SELECT count(*) FROM users`); n != 2 {
		t.Fatalf("invalid forms created %d users", n-2)
	}

	// Valid forms still save.
	if r := admin.postForm("/admin/users/new", "/admin/users", valid); r.Status != http.StatusCreated {
		t.Fatalf("valid create: status %d: %s", r.Status, r.Body)
	}
	if n := e.count(`SELECT count(*) FROM users u JOIN user_departments d ON d.user_id = u.id
		WHERE u.email = 'neu@example.org' AND u.name = 'Neue Kollegin' AND u.role = 'editor' AND d.department_id = 'ordnungsamt'`); n != 1 {
		t.Error("valid create not stored as typed")
	}
	if r := admin.postForm(other, other, editWith("password", "ein neues langes Passwort")); r.Status != http.StatusSeeOther {
		t.Fatalf("valid edit: status %d: %s", r.Status, r.Body)
	}
	if n := e.count(`SELECT count(*) FROM users WHERE id = $1 AND name = 'Bau Neu' AND role = 'editor' AND language = 'en' AND active`, otherID); n != 1 {
		t.Error("valid edit not stored")
	}
}

func TestDepartmentFormErrors(t *testing.T) {
	e := newEnv(t)
	e.user("admin@example.org", staff.RoleAdmin)
	admin := e.loggedIn("admin@example.org")
	const path = "/admin/departments/bauamt"
	snapshot := func() string {
		var s string
		if err := e.db.Get(&s, `SELECT row_to_json(d)::text FROM departments d WHERE id = 'bauamt'`); err != nil {
			t.Fatal(err)
		}
		return s
	}
	before := snapshot()
	valid := url.Values{"name": {"Bauamt Süd"}, "description": {"Bauanträge & Genehmigungen"}, "keywords": {"Carport, Garage"},
		"email": {"bauamt@stadt.example"}, "phone": {"+49 (911) 231-0"}, "address": {"Rathausplatz 1\n90403 Nürnberg"},
		"hours_1": {"08:00-12:00, 14:00-16:00"}, "hours_5": {"8:00–12:00"}, "retention_days": {"90"}}
	with := func(k, v string) url.Values { return formWith(valid, k, v) }
	tests := []struct {
		name, field, key string
		form             url.Values
		args             []any
	}{
		{"no name", "name", "departments.err.name", with("name", " "), nil},
		{"bad email", "email", "departments.err.email", with("email", "bauamt(at)stadt.example"), nil},
		{"bad phone", "phone", "departments.err.phone", with("phone", "ruf an"), nil},
		{"hours not a span", "hours_1", "departments.err.hours_format", with("hours_1", "8 bis 12"), []any{"8 bis 12"}},
		{"hours bad clock", "hours_2", "departments.err.hours_format", with("hours_2", "08:00-25:00"), []any{"08:00-25:00"}},
		{"hours reversed", "hours_3", "departments.err.hours_order", with("hours_3", "12:00-08:00"), []any{"12:00-08:00"}},
		{"hours overlap", "hours_4", "departments.err.hours_overlap", with("hours_4", "08:00-12:00, 11:00-13:00"), nil},
		{"negative retention", "retention_days", "departments.err.retention", with("retention_days", "-3"), []any{1, maxRetentionDays}},
		{"retention not a number", "retention_days", "departments.err.retention", with("retention_days", "ein Jahr"), []any{1, maxRetentionDays}},
		{"retention too large", "retention_days", "departments.err.retention", with("retention_days", "99999999999"), []any{1, maxRetentionDays}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := admin.postForm(path, path, tt.form)
			if r.Status != http.StatusBadRequest {
				t.Fatalf("status %d, want 400", r.Status)
			}
			wantFieldError(t, r, "de", tt.field, tt.key, tt.args...)
			wantNoGoError(t, r)
			for _, f := range deptFields {
				if f != tt.field {
					wantNoFieldError(t, r, f)
				}
			}
			// Everything typed is back.
			for _, f := range []string{"name", "keywords", "email", "phone", "hours_1", "hours_5", "retention_days"} {
				want := `value="` + escaped(strings.TrimSpace(tt.form.Get(f))) + `"`
				if tag := fieldTag(t, r.Body, f); !strings.Contains(tag, want) {
					t.Errorf("%s not kept: %s, want %s", f, tag, want)
				}
			}
			if !strings.Contains(r.Body, ">Bauanträge &amp; Genehmigungen</textarea>") || !strings.Contains(r.Body, ">Rathausplatz 1\n90403 Nürnberg</textarea>") {
				t.Error("description or address not kept")
			}
			if !strings.Contains(r.Body, "<h1>Amt bearbeiten: Bauamt</h1>") {
				t.Error("the heading does not name the department as saved")
			}
		})
	}
	// Several problems at once, in the order of the form.
	r := admin.postForm(path, path, url.Values{"name": {""}, "hours_2": {"zu"}, "retention_days": {"0"}})
	if r.Status != http.StatusBadRequest {
		t.Fatalf("several errors: status %d", r.Status)
	}
	if i, j, k := strings.Index(r.Body, `href="#name"`), strings.Index(r.Body, `href="#hours_2"`), strings.Index(r.Body, `href="#retention_days"`); i < 0 || i > j || j > k {
		t.Error("the summary is not in the order of the form")
	}
	// In English.
	admin.post("/language", url.Values{"lang": {"en"}, "csrf_token": {admin.csrf(path)}})
	r = admin.postForm(path, path, with("hours_1", "8 bis 12"))
	if r.Status != http.StatusBadRequest {
		t.Fatalf("English: status %d", r.Status)
	}
	wantFieldError(t, r, "en", "hours_1", "departments.err.hours_format", "8 bis 12")
	if !strings.Contains(r.Body, "is not a time span") {
		t.Error("English: message not in English")
	}
	if after := snapshot(); after != before {
		t.Fatalf("invalid forms changed the department:\n%s\n%s", before, after)
	}

	// Valid forms still save, also without keywords.
	if r := admin.postForm(path, path, valid); r.Status != http.StatusSeeOther {
		t.Fatalf("valid: status %d: %s", r.Status, r.Body)
	}
	if n := e.count(`SELECT count(*) FROM departments WHERE id = 'bauamt' AND name = 'Bauamt Süd' AND phone = '+49 (911) 231-0'
		AND keywords = '{Carport,Garage}' AND retention_days = 90 AND office_hours = '{"1": [["08:00", "12:00"], ["14:00", "16:00"]], "5": [["8:00", "12:00"]]}'`); n != 1 {
		t.Errorf("valid form not stored as typed: %s", snapshot())
	}
	if r := admin.postForm(path, path, url.Values{"name": {"Bauamt"}}); r.Status != http.StatusSeeOther {
		t.Fatalf("valid without keywords: status %d", r.Status)
	}
}

func TestAccountFormErrors(t *testing.T) {
	e := newEnv(t)
	id := e.user("bau@example.org", staff.RoleStaff, "bauamt")
	c := e.loggedIn("bau@example.org")
	hash := func() string {
		var h string
		if err := e.db.Get(&h, `SELECT password_hash FROM users WHERE id = $1`, id); err != nil {
			t.Fatal(err)
		}
		return h
	}
	before := hash()
	const newPassword = "ein ganz neues Passwort"
	tests := []struct {
		name    string
		form    url.Values
		current string // key of the message at #current ("" none)
		pw      string // key of the message at #password ("" none)
		args    []any
	}{
		{"wrong current", url.Values{"current": {"falsch falsch"}, "password": {newPassword}}, "account.err.current_wrong", "", nil},
		{"no current", url.Values{"current": {""}, "password": {newPassword}}, "account.err.current_empty", "", nil},
		{"short new", url.Values{"current": {testPassword}, "password": {"Xq7-kurz"}}, "", "form.err.password_short", []any{minPasswordLen}},
		{"no new", url.Values{"current": {testPassword}, "password": {""}}, "", "form.err.password_empty", nil},
		{"long new", url.Values{"current": {testPassword}, "password": {strings.Repeat("x", 73)}}, "", "form.err.password_long", []any{maxPasswordBytes}},
		{"both wrong", url.Values{"current": {"falsch falsch"}, "password": {"Xq7-kurz"}}, "account.err.current_wrong", "form.err.password_short", []any{minPasswordLen}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := c.postForm("/account", "/account/password", tt.form)
			if r.Status != http.StatusBadRequest {
				t.Fatalf("status %d, want 400", r.Status)
			}
			if tt.current != "" {
				wantFieldError(t, r, "de", "current", tt.current)
			} else {
				wantNoFieldError(t, r, "current")
			}
			if tt.pw != "" {
				wantFieldError(t, r, "de", "password", tt.pw, tt.args...)
			} else {
				wantNoFieldError(t, r, "password")
			}
			wantNoGoError(t, r)
			for _, k := range []string{"current", "password"} {
				if pw := tt.form.Get(k); pw != "" && strings.Contains(r.Body, pw) {
					t.Error("a password is shown again")
				}
			}
			if !strings.Contains(r.Body, `action="/account/password"`) || !strings.Contains(r.Body, `name="next" value="/account"`) {
				t.Error("the account page is not shown again")
			}
		})
	}
	c.post("/language", url.Values{"lang": {"en"}, "csrf_token": {c.csrf("/account")}})
	r := c.postForm("/account", "/account/password", url.Values{"current": {"falsch falsch"}, "password": {newPassword}})
	if r.Status != http.StatusBadRequest {
		t.Fatalf("English: status %d", r.Status)
	}
	wantFieldError(t, r, "en", "current", "account.err.current_wrong")
	if !strings.Contains(r.Body, "The current password is not correct.") {
		t.Error("English: message not in English")
	}
	if hash() != before {
		t.Fatal("an invalid form changed the password")
	}
	if r := c.postForm("/account", "/account/password", url.Values{"current": {testPassword}, "password": {newPassword}}); r.Status != http.StatusSeeOther {
		t.Fatalf("valid: status %d: %s", r.Status, r.Body)
	}
	if bcrypt.CompareHashAndPassword([]byte(hash()), []byte(newPassword)) != nil {
		t.Error("the new password was not stored")
	}
}

func TestErrorSummaryOrder(t *testing.T) {
	got := errorSummary(map[string]string{"z": "3", "b": "2", "a": "1", "y": "4"}, []string{"b", "a", "c"})
	want := []summaryEntry{{"b", "2"}, {"a", "1"}, {"y", "4"}, {"z", "3"}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got %v, want %v", got, want)
	}
}
