package i18n

import (
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
