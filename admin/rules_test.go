package admin

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/lib/pq"

	"citybot/routing"
	"citybot/staff"
)

// withRules wires the real routing rule store.
func withRules(_ *Config, d *Deps) { d.Rules = routing.NewRuleStore(d.DB) }

// auditCount counts the audit rows of action on an object.
func (e *env) auditCount(action, objectType, objectID string) int {
	e.t.Helper()
	var n int
	if err := e.db.Get(&n, `SELECT count(*) FROM audit_log WHERE action = $1 AND object_type = $2 AND object_id = $3`,
		action, objectType, objectID); err != nil {
		e.t.Fatal(err)
	}
	return n
}

func (e *env) count(query string, args ...any) int {
	e.t.Helper()
	var n int
	if err := e.db.Get(&n, query, args...); err != nil {
		e.t.Fatal(err)
	}
	return n
}

// pickedBy runs the rules page's test box and returns the department it picked.
func pickedBy(t *testing.T, c *client, question string) string {
	t.Helper()
	r := c.get("/admin/rules?q=" + url.QueryEscape(question))
	if r.Status != http.StatusOK {
		t.Fatalf("test box: %d", r.Status)
	}
	const marker = `id="test-picked" data-department="`
	i := strings.Index(r.Body, marker)
	if i < 0 {
		t.Fatalf("test box shows no result:\n%s", r.Body)
	}
	rest := r.Body[i+len(marker):]
	return rest[:strings.IndexByte(rest, '"')]
}

func TestRulesAdmin(t *testing.T) {
	e := newEnv(t, withRules)
	e.user("admin@example.org", staff.RoleAdmin)
	admin := e.loggedIn("admin@example.org")

	if r := admin.get("/admin/rules"); r.Status != http.StatusOK || !strings.Contains(r.Body, "Noch keine Regeln") {
		t.Fatalf("empty list: %d", r.Status)
	}
	const question = "Darf ich den Baum in meinem Garten fällen?"
	if got := pickedBy(t, admin, question); got != "zentrale" {
		t.Fatalf("without rules the question goes to %q, want the fallback", got)
	}

	// Validation: the error is shown next to its field and linked to it.
	valid := url.Values{"pattern": {"Baum fällen"}, "department": {"ordnungsamt"}, "priority": {"10"}, "active": {"on"}}
	with := func(k, v string) url.Values { return formWith(valid, k, v) }
	invalid := []struct {
		name  string
		form  url.Values
		field string
	}{
		{"empty pattern", with("pattern", "   "), "pattern"},
		{"stopwords only", with("pattern", "wie kann ich"), "pattern"},
		{"pattern too long", with("pattern", strings.Repeat("Baum ", 50)), "pattern"},
		{"priority not a number", with("priority", "hoch"), "priority"},
		{"priority out of range", with("priority", "5000"), "priority"},
		{"unknown department", with("department", "nope"), "department"},
		{"no department", with("department", ""), "department"},
	}
	for _, tt := range invalid {
		r := admin.postForm("/admin/rules/new", "/admin/rules", tt.form)
		if r.Status != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400", tt.name, r.Status)
			continue
		}
		if !strings.Contains(r.Body, `id="`+tt.field+`-error"`) || !strings.Contains(r.Body, `aria-invalid="true"`) ||
			!strings.Contains(r.Body, `aria-describedby="`+tt.field+`-error`) {
			t.Errorf("%s: no error linked to the field %s", tt.name, tt.field)
		}
		if !strings.Contains(r.Body, `role="alert"`) {
			t.Errorf("%s: no error summary", tt.name)
		}
	}
	if n := e.count(`SELECT count(*) FROM routing_rules`); n != 0 {
		t.Fatalf("invalid forms stored %d rules", n)
	}

	// Create.
	r := admin.postForm("/admin/rules/new", "/admin/rules", valid)
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/admin/rules?notice=saved" {
		t.Fatalf("create: %d %s", r.Status, r.Header.Get("Location"))
	}
	var id int64
	if err := e.db.Get(&id, `SELECT id FROM routing_rules WHERE pattern = 'Baum fällen' AND department_id = 'ordnungsamt' AND priority = 10 AND active`); err != nil {
		t.Fatalf("rule not stored: %v", err)
	}
	sid := fmt.Sprint(id)
	if e.auditCount("rule.create", "routing_rule", sid) != 1 {
		t.Error("create not audited")
	}
	r = admin.get("/admin/rules?notice=saved")
	if !strings.Contains(r.Body, "Baum fällen") || !strings.Contains(r.Body, "Ordnungsamt") || !strings.Contains(r.Body, "Gespeichert.") {
		t.Error("list does not show the new rule")
	}
	// The test box sees the change at once.
	if got := pickedBy(t, admin, question); got != "ordnungsamt" {
		t.Fatalf("with the rule the question goes to %q", got)
	}
	if r := admin.get("/admin/rules?q=" + url.QueryEscape(question)); !strings.Contains(r.Body, "Entschieden durch die Regel „Baum fällen“") {
		t.Error("test box does not name the deciding rule")
	}

	// Edit.
	if r := admin.get("/admin/rules/" + sid); r.Status != http.StatusOK || !strings.Contains(r.Body, `value="Baum fällen"`) {
		t.Fatalf("edit form: %d", r.Status)
	}
	r = admin.postForm("/admin/rules/"+sid, "/admin/rules/"+sid, url.Values{"pattern": {"Baum  fällen"}, "department": {"bauamt"}, "priority": {"-5"}, "active": {"on"}})
	if r.Status != http.StatusSeeOther {
		t.Fatalf("update: %d", r.Status)
	}
	if n := e.count(`SELECT count(*) FROM routing_rules WHERE id = $1 AND department_id = 'bauamt' AND priority = -5 AND pattern = 'Baum fällen'`, id); n != 1 {
		t.Error("update not stored")
	}
	if e.auditCount("rule.update", "routing_rule", sid) != 1 {
		t.Error("update not audited")
	}
	if r := admin.postForm("/admin/rules/"+sid, "/admin/rules/"+sid, url.Values{"pattern": {""}, "department": {"bauamt"}}); r.Status != http.StatusBadRequest {
		t.Errorf("invalid update: %d", r.Status)
	}
	if got := pickedBy(t, admin, question); got != "bauamt" {
		t.Errorf("after the update the question goes to %q", got)
	}

	// Deactivate and activate.
	r = admin.postForm("/admin/rules", "/admin/rules/"+sid+"/active", url.Values{"active": {"false"}})
	if r.Status != http.StatusSeeOther || e.count(`SELECT count(*) FROM routing_rules WHERE id = $1 AND NOT active`, id) != 1 {
		t.Fatalf("deactivate: %d", r.Status)
	}
	if e.auditCount("rule.deactivate", "routing_rule", sid) != 1 {
		t.Error("deactivate not audited")
	}
	if got := pickedBy(t, admin, question); got != "zentrale" {
		t.Errorf("an inactive rule still routes (to %q)", got)
	}
	if r := admin.postForm("/admin/rules", "/admin/rules/"+sid+"/active", url.Values{"active": {"maybe"}}); r.Status != http.StatusBadRequest {
		t.Errorf("bad active value: %d", r.Status)
	}
	r = admin.postForm("/admin/rules", "/admin/rules/"+sid+"/active", url.Values{"active": {"true"}})
	if r.Status != http.StatusSeeOther || e.count(`SELECT count(*) FROM routing_rules WHERE id = $1 AND active`, id) != 1 {
		t.Fatalf("activate: %d", r.Status)
	}
	if e.auditCount("rule.activate", "routing_rule", sid) != 1 {
		t.Error("activate not audited")
	}

	// Unknown rules.
	for _, p := range []string{"/admin/rules/999999", "/admin/rules/abc", "/admin/rules/999999/delete"} {
		if r := admin.get(p); r.Status != http.StatusNotFound {
			t.Errorf("GET %s: %d", p, r.Status)
		}
	}
	if r := admin.postForm("/admin/rules", "/admin/rules/999999/delete", nil); r.Status != http.StatusNotFound {
		t.Errorf("delete unknown: %d", r.Status)
	}

	// Delete with confirmation.
	r = admin.get("/admin/rules/" + sid + "/delete")
	if r.Status != http.StatusOK || !strings.Contains(r.Body, `action="/admin/rules/`+sid+`/delete"`) || !strings.Contains(r.Body, "wirklich löschen") {
		t.Fatalf("confirmation: %d", r.Status)
	}
	r = admin.postForm("/admin/rules/"+sid+"/delete", "/admin/rules/"+sid+"/delete", nil)
	if r.Status != http.StatusSeeOther || e.count(`SELECT count(*) FROM routing_rules`) != 0 {
		t.Fatalf("delete: %d", r.Status)
	}
	if e.auditCount("rule.delete", "routing_rule", sid) != 1 {
		t.Error("delete not audited")
	}
}

func TestRulesRolesAndCSRF(t *testing.T) {
	e := newEnv(t, withRules)
	e.user("admin@example.org", staff.RoleAdmin)
	e.user("staff@example.org", staff.RoleStaff, "bauamt")
	e.user("editor@example.org", staff.RoleEditor, "bauamt")
	admin := e.loggedIn("admin@example.org")
	admin.postForm("/admin/rules/new", "/admin/rules", url.Values{"pattern": {"Sperrmüll"}, "department": {"bauamt"}, "priority": {"0"}, "active": {"on"}})
	var id int64
	if err := e.db.Get(&id, `SELECT id FROM routing_rules`); err != nil {
		t.Fatal(err)
	}
	snapshot := func() string {
		var s string
		if err := e.db.Get(&s, `SELECT COALESCE(string_agg(row_to_json(r)::text, ','), '') FROM routing_rules r`); err != nil {
			t.Fatal(err)
		}
		return s
	}
	before := snapshot()
	form := url.Values{"pattern": {"Lärm"}, "department": {"ordnungsamt"}, "priority": {"1"}, "active": {"true"}}

	// Staff and editors: every rules route is forbidden.
	for _, who := range []string{"staff@example.org", "editor@example.org"} {
		c := e.loggedIn(who)
		tok := c.csrf("/account")
		for _, rt := range e.srv.engineRoutes() {
			if !strings.HasPrefix(rt[1], "/admin/rules") {
				continue
			}
			path := strings.ReplaceAll(rt[1], ":id", fmt.Sprint(id))
			var r resp
			if rt[0] == http.MethodGet {
				r = c.get(path)
			} else {
				f := url.Values{"csrf_token": {tok}}
				for k, v := range form {
					f[k] = v
				}
				r = c.post(path, f)
			}
			if r.Status != http.StatusForbidden {
				t.Errorf("%s: %s %s: %d, want 403", who, rt[0], path, r.Status)
			}
		}
	}
	if r := e.client().get("/admin/rules"); r.Status != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/login") {
		t.Errorf("anonymous: %d", r.Status)
	}

	// CSRF: admin POSTs without a valid token are rejected.
	for _, tok := range []string{"", "forged"} {
		for _, path := range []string{"/admin/rules", fmt.Sprintf("/admin/rules/%d", id), fmt.Sprintf("/admin/rules/%d/active", id), fmt.Sprintf("/admin/rules/%d/delete", id)} {
			f := url.Values{}
			for k, v := range form {
				f[k] = v
			}
			if tok != "" {
				f.Set("csrf_token", tok)
			}
			if r := admin.post(path, f); r.Status != http.StatusForbidden {
				t.Errorf("POST %s with token %q: %d", path, tok, r.Status)
			}
		}
	}
	if after := snapshot(); after != before {
		t.Errorf("rules changed by forbidden requests:\n%s\n%s", before, after)
	}
	if n := e.count(`SELECT count(*) FROM audit_log WHERE action LIKE 'rule.%'`); n != 1 {
		t.Errorf("audit rows: %d, want only the admin's create", n)
	}
}

// TestRulesNotify: a rule saved on the page notifies routing_changed (not
// faq_changed: the FAQ index does not depend on rules), so every instance
// reloads its router; an unchecked "active" box stores the rule switched
// off.
func TestRulesNotify(t *testing.T) {
	e := newEnv(t, withRules)
	e.user("admin@example.org", staff.RoleAdmin)
	admin := e.loggedIn("admin@example.org")
	l := pq.NewListener(e.srv.deps.DatabaseURL, 10*time.Millisecond, time.Second, nil)
	defer l.Close()
	if err := l.Listen("faq_changed"); err != nil {
		t.Fatal(err)
	}
	if err := l.Listen("routing_changed"); err != nil {
		t.Fatal(err)
	}
	if r := admin.postForm("/admin/rules/new", "/admin/rules", url.Values{"pattern": {"Sperrmüll"}, "department": {"bauamt"}, "priority": {"0"}}); r.Status != http.StatusSeeOther {
		t.Fatalf("create: %d", r.Status)
	}
	select {
	case n := <-l.Notify:
		if n == nil || n.Channel != "routing_changed" || n.Extra != "routing_rules" {
			t.Errorf("notification %+v, want routing_changed routing_rules", n)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no routing_changed notification")
	}
	if n := e.count(`SELECT count(*) FROM routing_rules WHERE NOT active`); n != 1 {
		t.Errorf("unchecked box: %d inactive rules", n)
	}
}
