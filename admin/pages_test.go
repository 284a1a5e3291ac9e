package admin

import (
	"io/fs"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"citybot/staff"
)

// TestCatalogComplete: every key the templates use exists in every
// language, and the languages have the same keys.
func TestCatalogComplete(t *testing.T) {
	cat := newCatalog()
	for lang := range cat {
		for k := range cat["de"] {
			if _, ok := cat[lang][k]; !ok {
				t.Errorf("%s lacks %q", lang, k)
			}
		}
		for k := range cat[lang] {
			if _, ok := cat["de"][k]; !ok {
				t.Errorf("de lacks %q (present in %s)", k, lang)
			}
		}
	}
	re := regexp.MustCompile(`\.T "([a-z_.]+)"`)
	_ = fs.WalkDir(templateFiles, "templates", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := fs.ReadFile(templateFiles, p)
		for _, m := range re.FindAllStringSubmatch(string(b), -1) {
			if !cat.known(m[1]) {
				t.Errorf("%s uses unknown key %q", p, m[1])
			}
		}
		return nil
	})
}

func TestDepartmentsAdmin(t *testing.T) {
	e := newEnv(t)
	e.user("admin@example.org", staff.RoleAdmin)
	admin := e.loggedIn("admin@example.org")
	if r := admin.get("/admin/departments"); r.Status != 200 || !strings.Contains(r.Body, "Bauamt") {
		t.Fatalf("list: %d", r.Status)
	}
	tests := []struct {
		name   string
		form   url.Values
		status int
	}{
		{"bad hours", url.Values{"name": {"Bauamt"}, "hours_1": {"8 bis 12"}}, http.StatusBadRequest},
		{"overlapping", url.Values{"name": {"Bauamt"}, "hours_1": {"08:00-12:00, 11:00-13:00"}}, http.StatusBadRequest},
		{"bad retention", url.Values{"name": {"Bauamt"}, "retention_days": {"-3"}}, http.StatusBadRequest},
		{"ok", url.Values{"name": {"Bauamt"}, "email": {"bauamt@stadt.example"}, "hours_1": {"08:00-12:00, 14:00-16:00"}, "hours_4": {"08:00-18:00"}, "retention_days": {"90"}, "keywords": {"Bauantrag, Carport"}}, http.StatusSeeOther},
	}
	for _, tt := range tests {
		r := admin.postForm("/admin/departments/bauamt", "/admin/departments/bauamt", tt.form)
		if r.Status != tt.status {
			t.Errorf("%s: %d, want %d", tt.name, r.Status, tt.status)
		}
	}
	var hours string
	var retention int
	if err := e.db.QueryRow(`SELECT office_hours::text, retention_days FROM departments WHERE id = 'bauamt'`).Scan(&hours, &retention); err != nil {
		t.Fatal(err)
	}
	if hours != `{"1": [["08:00", "12:00"], ["14:00", "16:00"]], "4": [["08:00", "18:00"]]}` || retention != 90 {
		t.Errorf("stored %s %d", hours, retention)
	}
	if r := admin.get("/admin/departments/bauamt"); !strings.Contains(r.Body, `value="08:00-12:00, 14:00-16:00"`) {
		t.Error("form does not show the hours")
	}
	if r := admin.get("/admin/departments/nope"); r.Status != 404 {
		t.Errorf("unknown department: %d", r.Status)
	}
}
