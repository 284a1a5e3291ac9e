package fieldstaff

import (
	"os"
	"regexp"
	"testing"

	"citybot/internal/i18n"
)

// TestTextFiles: the field report texts parse, English has the keys of
// de.toml and no others, with the same fmt verbs; every key is used in the
// code and every key the code uses exists.
func TestTextFiles(t *testing.T) {
	m := loadMessages()
	if len(m) < 2 || len(m[i18n.Ref]) == 0 {
		t.Fatalf("%d languages, %d German keys", len(m), len(m[i18n.Ref]))
	}
	for _, p := range i18n.Check(m) {
		t.Error(p)
	}
	src, err := os.ReadFile("report.go")
	if err != nil {
		t.Fatal(err)
	}
	used := map[string]bool{}
	for _, k := range regexp.MustCompile(`"(report\.[a-z_]+)"`).FindAllStringSubmatch(string(src), -1) {
		used[k[1]] = true
		if _, ok := m[i18n.Ref][k[1]]; !ok {
			t.Errorf("report.go uses %q, which de.toml lacks", k[1])
		}
	}
	for k := range m[i18n.Ref] {
		if !used[k] {
			t.Errorf("de.toml has %q, which report.go does not use", k)
		}
	}
}
