package broadcast

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"citybot/internal/i18n"
)

// TestTextFiles: the message files parse, English has the keys of de.toml
// and no others, with the same fmt verbs; every key the code looks up is in
// textKeys (checked when the files load) and in de.toml, and every key of
// de.toml is used.
func TestTextFiles(t *testing.T) {
	m := loadMessages()
	if len(m) < 2 {
		t.Fatalf("%d languages", len(m))
	}
	for _, p := range i18n.Check(m) {
		t.Error(p)
	}
	files, _ := filepath.Glob("*.go")
	used := map[string]bool{}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range regexp.MustCompile(`\btext\("([a-z_.]+)"\)`).FindAllStringSubmatch(string(b), -1) {
			used[k[1]] = true
		}
	}
	if len(used) == 0 {
		t.Fatal("no text(...) call found")
	}
	for k := range used {
		if _, ok := m[i18n.Ref][k]; !ok {
			t.Errorf("the code uses %q, which de.toml lacks", k)
		}
		if !slices.Contains(textKeys, k) {
			t.Errorf("%q is not in textKeys", k)
		}
	}
	for k := range m[i18n.Ref] {
		if !used[k] {
			t.Errorf("de.toml has %q, which the code does not use", k)
		}
	}
	if got := itemText("", "", 100); got != "(ohne Titel)" {
		t.Errorf("untitled item: %q", got)
	}
}
