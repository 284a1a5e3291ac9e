package i18n

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
)

func TestLoad(t *testing.T) {
	fsys := fstest.MapFS{
		"de.toml": {Data: []byte("# comment\n\"nav.inbox\" = \"Posteingang\"\n\"a\" = \"\"\"\nzwei\nZeilen\"\"\"\n[x]\ny = \"%d Fälle\"\n")},
		"en.toml": {Data: []byte("\"nav.inbox\" = \"Inbox\"\na = \"two\\nlines\"\n\"x.y\" = \"%s cases\"\n\"extra\" = \"x\"\n")},
		"README":  {Data: []byte("not a catalogue")},
	}
	m, err := Load(fsys)
	if err != nil {
		t.Fatal(err)
	}
	if m["de"]["nav.inbox"] != "Posteingang" || m["de"]["a"] != "zwei\nZeilen" || m["de"]["x.y"] != "%d Fälle" || m["en"]["a"] != "two\nlines" {
		t.Errorf("loaded %q", m)
	}
	got := Check(m)
	want := []string{`"x.y": verbs [d] in de, [s] in en`, `en.toml has "extra", which de.toml lacks`}
	if !slices.Equal(got, want) {
		t.Errorf("Check = %q, want %q", got, want)
	}
	m["de"]["note"], m["en"]["note"] = "", "(German only: %s)"
	if got := Check(m); len(got) != 2 {
		t.Errorf("an empty reference text is checked: %q", got)
	}
	delete(m["en"], "a")
	if got := Check(m); !slices.Contains(got, `en.toml lacks "a"`) {
		t.Errorf("Check = %q", got)
	}
}

func TestLoadErrors(t *testing.T) {
	for name, data := range map[string]string{
		"duplicate":   "a = \"1\"\na = \"2\"\n",
		"dotted twin": "\"a.b\" = \"1\"\n[a]\nb = \"2\"\n",
		"not string":  "a = 1\n",
		"syntax":      "a = \"open\n",
	} {
		if _, err := Load(fstest.MapFS{"de.toml": {Data: []byte(data)}}); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := Load(fstest.MapFS{"en.toml": {Data: []byte("a = \"x\"\n")}}); err == nil || !strings.Contains(err.Error(), "de.toml") {
		t.Errorf("no de.toml: %v", err)
	}
}

func TestVerbs(t *testing.T) {
	for s, want := range map[string][]string{
		"no verbs":               {},
		"%d von %s, 100%%":       {"d", "s"},
		"%[2]s then %[1]d, %-5s": {"d", "s", "s"},
		"%.1f MB, %q":            {"f", "q"},
		"trailing %":             {},
	} {
		if got := Verbs(s); !slices.Equal(got, want) && !(len(got) == 0 && len(want) == 0) {
			t.Errorf("Verbs(%q) = %q, want %q", s, got, want)
		}
	}
}

func TestText(t *testing.T) {
	m := Messages{Ref: {"a": "Hallo %s", "b": "nur deutsch"}, "en": {"a": "Hello %s"}}
	for _, c := range []struct{ lang, key, want string }{
		{"en", "a", "Hello Anna"},
		{"en", "b", "nur deutsch"},
		{"fr", "a", "Hallo Anna"},
		{"en", "missing", "missing"},
	} {
		var got string
		if c.key == "a" {
			got = m.Text(c.lang, c.key, "Anna")
		} else {
			got = m.Text(c.lang, c.key)
		}
		if got != c.want {
			t.Errorf("Text(%q, %q) = %q, want %q", c.lang, c.key, got, c.want)
		}
	}
}

// TestCheckCode: keys the code names but the catalogue lacks, prefixes no
// built key completes, built keys the catalogue lacks and unused keys are
// all reported; literals of no catalogue group ("month." here) and test
// files are not looked at; a package that matches its catalogue has no
// problem.
func TestCheckCode(t *testing.T) {
	dir := t.TempDir()
	src := "package p\n\nvar _ = []string{\"hours.open\", \"hours.gone\", \"weekday.\", \"hours.\", \"month.\", \"not a key\", \"other.group\"}\n"
	if err := os.WriteFile(filepath.Join(dir, "p.go"), []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	// a test file is not the package's code
	if err := os.WriteFile(filepath.Join(dir, "p_test.go"), []byte("package p\n\nvar _ = \"hours.test\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ref := map[string]string{"hours.open": "", "hours.unused": "", "weekday.1": "", "weekday.2": ""}
	used, problems := CheckCode(dir, ref, []string{"weekday.1", "weekday.2", "weekday.3"})
	want := []string{
		`p.go uses "hours.gone", which de.toml lacks`,
		`p.go completes "hours.", which the test names no key for`,
		`the code builds "weekday.3", which de.toml lacks`,
		`de.toml has "hours.unused", which the code does not use`,
	}
	if !slices.Equal(problems, want) {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(problems, "\n"), strings.Join(want, "\n"))
	}
	if !used["hours.open"] || !used["weekday.1"] || used["hours.test"] {
		t.Errorf("used = %v", used)
	}
	delete(ref, "hours.unused")
	ref["hours.gone"] = ""
	if _, problems := CheckCode(dir, ref, []string{"weekday.1", "weekday.2", "hours.open"}); len(problems) != 0 {
		t.Errorf("a package that matches its catalogue: %v", problems)
	}
}
