package arch

import (
	"fmt"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// importRule is one of DESIGN.md's import rules: no package matched by Pkg
// (a directory, or a prefix ending in "/...") imports a path matched by
// Import, except the packages in Except.
type importRule struct {
	Pkg    string
	Import string
	Except []string
	Why    string
}

// importRules are the rules of DESIGN.md ("Packages"), checked on the
// non-test Go files of the module.
var importRules = []importRule{
	{Pkg: "routing", Import: "citybot/faq/...", Why: "routing takes its own input types (routing.Department, FAQEntry, Candidate); the wiring converts"},
	{Pkg: "...", Import: "github.com/go-telegram/bot/...", Except: []string{"bot/...", "internal/tgfake"}, Why: "bot is the only importer of go-telegram/bot"},
	{Pkg: "...", Import: "github.com/gin-gonic/gin/...", Except: []string{"admin"}, Why: "admin is the only importer of gin"},
	{Pkg: "internal/german", Import: "citybot/...", Why: "the analyzer imports nothing of the project"},
	{Pkg: "internal/tgtext", Import: "citybot/...", Why: "Telegram's text rules import nothing of the project"},
}

// matchPath reports whether p is pattern or, for "x/...", x or below it;
// "..." matches everything.
func matchPath(pattern, p string) bool {
	if pattern == "..." {
		return true
	}
	if base, ok := strings.CutSuffix(pattern, "/..."); ok {
		return p == base || strings.HasPrefix(p, base+"/")
	}
	return p == pattern
}

// importViolations checks imports (package dir -> imported paths).
func importViolations(rules []importRule, imports map[string][]string) []string {
	var out []string
	for _, r := range rules {
		for pkg, imps := range imports {
			if !matchPath(r.Pkg, pkg) {
				continue
			}
			except := false
			for _, e := range r.Except {
				except = except || matchPath(e, pkg)
			}
			if except {
				continue
			}
			for _, imp := range imps {
				if matchPath(r.Import, imp) {
					out = append(out, fmt.Sprintf("%s imports %s: %s", pkg, imp, r.Why))
				}
			}
		}
	}
	sort.Strings(out)
	return out
}

// moduleImports returns the imports of every package's non-test files, by
// package directory relative to root (testdata, hidden and vendored
// directories left out).
func moduleImports(root string) (map[string][]string, error) {
	out := map[string][]string{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if p != root && (strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") || name == "testdata" || name == "vendor" || name == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, p, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, filepath.Dir(p))
		rel = filepath.ToSlash(rel)
		for _, s := range f.Imports {
			path, err := strconv.Unquote(s.Path.Value)
			if err != nil {
				return err
			}
			if !slices.Contains(out[rel], path) {
				out[rel] = append(out[rel], path)
			}
		}
		return nil
	})
	return out, err
}

func TestImportRules(t *testing.T) {
	imports, err := moduleImports(moduleRoot(t))
	if err != nil {
		t.Fatal(err)
	}
	// The scanner sees what it checks.
	for _, want := range [][2]string{{"routing", "citybot/staff"}, {"admin", "github.com/gin-gonic/gin"}, {"bot/telegram", "github.com/go-telegram/bot"}} {
		found := false
		for _, imp := range imports[want[0]] {
			found = found || imp == want[1]
		}
		if !found {
			t.Fatalf("the scanner does not see %s importing %s; is it blind?", want[0], want[1])
		}
	}
	for _, v := range importViolations(importRules, imports) {
		t.Error(v)
	}
}

// TestImportRulesCatch: each rule fails on the import it forbids.
func TestImportRulesCatch(t *testing.T) {
	imports := map[string][]string{
		"routing":         {"citybot/faq", "citybot/staff"},
		"faq":             {"github.com/gin-gonic/gin/binding"},
		"admin":           {"github.com/gin-gonic/gin"},
		"bot/telegram":    {"github.com/go-telegram/bot"},
		"webchat":         {"github.com/go-telegram/bot/models"},
		"internal/german": {"citybot/internal/i18n", "strings"},
		"internal/tgtext": {"unicode/utf16"},
	}
	got := importViolations(importRules, imports)
	want := []string{
		"faq imports github.com/gin-gonic/gin/binding: admin is the only importer of gin",
		"internal/german imports citybot/internal/i18n: the analyzer imports nothing of the project",
		"routing imports citybot/faq: routing takes its own input types (routing.Department, FAQEntry, Candidate); the wiring converts",
		"webchat imports github.com/go-telegram/bot/models: bot is the only importer of go-telegram/bot",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("violations:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
