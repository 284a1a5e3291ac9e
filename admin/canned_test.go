package admin

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"citybot/staff"
)

func cannedID(t *testing.T, e *env, title string) int64 {
	t.Helper()
	var id int64
	if err := e.db.Get(&id, `SELECT id FROM canned_answers WHERE title = $1`, title); err != nil {
		t.Fatalf("canned answer %q: %v", title, err)
	}
	return id
}

func TestCannedAnswers(t *testing.T) {
	e := newEnv(t, withCases)
	e.user("admin@example.org", staff.RoleAdmin)
	e.user("bau@example.org", staff.RoleStaff, "bauamt")
	e.user("ord@example.org", staff.RoleStaff, "ordnungsamt")
	bau := e.loggedIn("bau@example.org")
	ord := e.loggedIn("ord@example.org")
	admin := e.loggedIn("admin@example.org")

	r := bau.get("/canned")
	if r.Status != http.StatusOK || !strings.Contains(r.Body, "Bauamt") || strings.Contains(r.Body, "Ordnungsamt") {
		t.Fatalf("list: %d", r.Status)
	}

	// Validation: the error is shown next to its field and linked to it.
	valid := url.Values{"department": {"bauamt"}, "title": {"Unterlagen Bauantrag"}, "body": {"Für den Bauantrag brauchen wir:\r\n- Lageplan\r\n- Bauzeichnungen"}}
	with := func(k, v string) url.Values { return formWith(valid, k, v) }
	invalid := []struct {
		name  string
		form  url.Values
		field string
	}{
		{"empty title", with("title", " "), "title"},
		{"title too long", with("title", strings.Repeat("x", 201)), "title"},
		{"empty text", with("body", ""), "body"},
		{"text too long", with("body", strings.Repeat("x", 10001)), "body"},
		{"another department", with("department", "ordnungsamt"), "department"},
		{"unknown department", with("department", "nope"), "department"},
	}
	for _, tt := range invalid {
		r := bau.postForm("/canned/new", "/canned", tt.form)
		if r.Status != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400", tt.name, r.Status)
			continue
		}
		if !strings.Contains(r.Body, `id="`+tt.field+`-error"`) || !strings.Contains(r.Body, `aria-describedby="`+tt.field+`-error`) ||
			!strings.Contains(r.Body, `aria-invalid="true"`) {
			t.Errorf("%s: no error linked to the field %s", tt.name, tt.field)
		}
	}
	if n := e.count(`SELECT count(*) FROM canned_answers`); n != 0 {
		t.Fatalf("invalid forms stored %d answers", n)
	}

	// Create.
	r = bau.postForm("/canned/new", "/canned", valid)
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/canned?dept=bauamt&notice=saved" {
		t.Fatalf("create: %d %s", r.Status, r.Header.Get("Location"))
	}
	bauID := cannedID(t, e, "Unterlagen Bauantrag")
	if n := e.count(`SELECT count(*) FROM canned_answers WHERE id = $1 AND department_id = 'bauamt' AND body = $2`, bauID, "Für den Bauantrag brauchen wir:\n- Lageplan\n- Bauzeichnungen"); n != 1 {
		t.Error("answer not stored as typed")
	}
	if e.auditCount("canned.create", "canned_answer", fmt.Sprint(bauID)) != 1 {
		t.Error("create not audited")
	}
	if r := ord.postForm("/canned/new", "/canned", url.Values{"department": {"ordnungsamt"}, "title": {"<script>alert(1)</script> Lärm"}, "body": {"Ruhezeiten gelten ab 22 Uhr."}}); r.Status != http.StatusSeeOther {
		t.Fatalf("create ord: %d", r.Status)
	}
	ordID := cannedID(t, e, "<script>alert(1)</script> Lärm")
	ordPath := fmt.Sprintf("/canned/%d", ordID)

	// Each department sees only its own answers.
	if r := bau.get("/canned"); !strings.Contains(r.Body, "Unterlagen Bauantrag") || strings.Contains(r.Body, "Lärm") {
		t.Error("bauamt list shows the wrong answers")
	}
	if r := bau.get("/canned?dept=ordnungsamt"); strings.Contains(r.Body, "Lärm") {
		t.Error("bauamt sees ordnungsamt's answers by filter")
	}
	if r := ord.get("/canned"); !strings.Contains(r.Body, "&lt;script&gt;alert(1)&lt;/script&gt; Lärm") || strings.Contains(r.Body, "<script>alert") {
		t.Error("title not shown escaped")
	}

	// Another department's answer is 404 on every route, and unchanged.
	snapshot := func() string {
		var s string
		if err := e.db.Get(&s, `SELECT row_to_json(c)::text FROM canned_answers c WHERE id = $1`, ordID); err != nil {
			t.Fatal(err)
		}
		return s
	}
	before := snapshot()
	for _, rt := range e.srv.engineRoutes() {
		if !strings.HasPrefix(rt[1], "/canned/:id") {
			continue
		}
		path := strings.ReplaceAll(rt[1], ":id", fmt.Sprint(ordID))
		var r resp
		if rt[0] == http.MethodGet {
			r = bau.get(path)
		} else {
			r = bau.postForm("/canned", path, url.Values{"department": {"bauamt"}, "title": {"gekapert"}, "body": {"gekapert"}})
		}
		if r.Status != http.StatusNotFound {
			t.Errorf("bauamt: %s %s: %d, want 404", rt[0], path, r.Status)
		}
		if strings.Contains(r.Body, "Ruhezeiten") {
			t.Errorf("bauamt: %s %s: text leaked", rt[0], path)
		}
	}
	if after := snapshot(); after != before {
		t.Errorf("answer changed by another department:\n%s\n%s", before, after)
	}

	// Edit the own answer.
	bauPath := fmt.Sprintf("/canned/%d", bauID)
	if r := bau.get(bauPath); r.Status != http.StatusOK || !strings.Contains(r.Body, `value="Unterlagen Bauantrag"`) {
		t.Fatalf("edit form: %d", r.Status)
	}
	if r := bau.postForm(bauPath, bauPath, url.Values{"department": {"ordnungsamt"}, "title": {"x"}, "body": {"y"}}); r.Status != http.StatusBadRequest {
		t.Errorf("move to another department: %d", r.Status)
	}
	r = bau.postForm(bauPath, bauPath, url.Values{"department": {"bauamt"}, "title": {"Unterlagen Bauantrag"}, "body": {"Bitte bringen Sie den Lageplan mit."}})
	if r.Status != http.StatusSeeOther {
		t.Fatalf("update: %d", r.Status)
	}
	if n := e.count(`SELECT count(*) FROM canned_answers WHERE id = $1 AND body = 'Bitte bringen Sie den Lageplan mit.'`, bauID); n != 1 {
		t.Error("update not stored")
	}
	if e.auditCount("canned.update", "canned_answer", fmt.Sprint(bauID)) != 1 {
		t.Error("update not audited")
	}

	// The inbox's reply box offers the department's answers.
	cs, _ := e.newCase("2001", "bauamt", text("Was brauche ich für den Bauantrag?"))
	casePath := fmt.Sprintf("/cases/%d", cs.ID)
	r = bau.get(casePath)
	if !strings.Contains(r.Body, fmt.Sprintf(`<option value="c:%d" data-text="Bitte bringen Sie den Lageplan mit.">Unterlagen Bauantrag</option>`, bauID)) {
		t.Error("reply box does not offer the canned answer")
	}
	if strings.Contains(r.Body, "Ruhezeiten") {
		t.Error("reply box offers another department's answer")
	}
	if r := bau.get(fmt.Sprintf("%s?insert=c:%d", casePath, bauID)); !strings.Contains(r.Body, ">Bitte bringen Sie den Lageplan mit.</textarea>") {
		t.Error("insert without JavaScript does not fill the reply")
	}
	if r := admin.get(casePath); !strings.Contains(r.Body, "Unterlagen Bauantrag") {
		t.Error("admin's reply box does not offer the canned answer")
	}

	// Admins see and edit every department's answers.
	if r := admin.get("/canned"); !strings.Contains(r.Body, "Unterlagen Bauantrag") || !strings.Contains(r.Body, "Lärm") {
		t.Error("admin does not see all answers")
	}
	if r := admin.postForm(ordPath, ordPath, url.Values{"department": {"ordnungsamt"}, "title": {"Lärm"}, "body": {"Ruhezeiten gelten ab 22 Uhr."}}); r.Status != http.StatusSeeOther {
		t.Errorf("admin update: %d", r.Status)
	}

	// Delete with confirmation.
	r = bau.get(bauPath + "/delete")
	if r.Status != http.StatusOK || !strings.Contains(r.Body, `action="`+bauPath+`/delete"`) {
		t.Fatalf("confirmation: %d", r.Status)
	}
	if r := bau.postForm(bauPath+"/delete", bauPath+"/delete", nil); r.Status != http.StatusSeeOther {
		t.Fatalf("delete: %d", r.Status)
	}
	if n := e.count(`SELECT count(*) FROM canned_answers WHERE id = $1`, bauID); n != 0 {
		t.Error("not deleted")
	}
	if e.auditCount("canned.delete", "canned_answer", fmt.Sprint(bauID)) != 1 {
		t.Error("delete not audited")
	}
	if r := bau.get(bauPath); r.Status != http.StatusNotFound {
		t.Errorf("deleted answer: %d", r.Status)
	}
}

func TestCannedRolesAndCSRF(t *testing.T) {
	e := newEnv(t, withCases)
	e.user("bau@example.org", staff.RoleStaff, "bauamt")
	e.user("editor@example.org", staff.RoleEditor, "bauamt")
	bau := e.loggedIn("bau@example.org")
	form := url.Values{"department": {"bauamt"}, "title": {"Öffnungszeiten"}, "body": {"Mo–Fr 8–12 Uhr"}}

	// Editors manage the FAQ, not canned answers.
	editor := e.loggedIn("editor@example.org")
	if r := editor.get("/canned"); r.Status != http.StatusForbidden {
		t.Errorf("editor: %d", r.Status)
	}
	if r := editor.postForm("/account", "/canned", form); r.Status != http.StatusForbidden {
		t.Errorf("editor create: %d", r.Status)
	}
	if r := e.client().get("/canned"); r.Status != http.StatusSeeOther {
		t.Errorf("anonymous: %d", r.Status)
	}

	// CSRF: without a valid token nothing is written.
	for _, tok := range []string{"", "forged"} {
		f := url.Values{}
		for k, v := range form {
			f[k] = v
		}
		if tok != "" {
			f.Set("csrf_token", tok)
		}
		if r := bau.post("/canned", f); r.Status != http.StatusForbidden {
			t.Errorf("token %q: %d", tok, r.Status)
		}
	}
	if r := bau.postForm("/canned/new", "/canned", form); r.Status != http.StatusSeeOther {
		t.Fatalf("create: %d", r.Status)
	}
	id := cannedID(t, e, "Öffnungszeiten")
	if r := bau.post(fmt.Sprintf("/canned/%d/delete", id), url.Values{}); r.Status != http.StatusForbidden {
		t.Errorf("delete without token: %d", r.Status)
	}
	if n := e.count(`SELECT count(*) FROM canned_answers`); n != 1 {
		t.Errorf("%d answers, want 1", n)
	}
	if n := e.count(`SELECT count(*) FROM audit_log WHERE action LIKE 'canned.%'`); n != 1 {
		t.Errorf("%d audit rows, want 1", n)
	}

	// Without the case domain the pages are not available.
	e2 := newEnv(t)
	e2.user("bau@example.org", staff.RoleStaff, "bauamt")
	if r := e2.loggedIn("bau@example.org").get("/canned"); r.Status != http.StatusNotImplemented {
		t.Errorf("no case domain: %d", r.Status)
	}
}
