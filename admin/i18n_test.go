package admin

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"citybot/internal/i18n"
	"citybot/staff"
)

// TestCatalogFiles: the message files parse, every language has the keys
// of de.toml and no others, and each key's translations take the same fmt
// verbs (TestCatalogComplete checks the templates' keys).
func TestCatalogFiles(t *testing.T) {
	cat := newCatalog()
	if len(cat) < 2 || len(cat["de"]) == 0 {
		t.Fatalf("catalogue: %d languages, %d German keys", len(cat), len(cat["de"]))
	}
	for _, p := range i18n.Check(i18n.Messages(cat)) {
		t.Error(p)
	}
}

// keyLiteral is a string literal shaped like a message key ("nav.inbox",
// or a prefix the code completes: "audit.act.").
var keyLiteral = regexp.MustCompile(`"([a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+\.?)"`)

// notKeys are literals of that shape that are no message keys: file
// names, and audit actions (checked as "audit.act." + action below).
var notKeys = map[string]bool{
	"faq.json": true, "departments.json": true, "faq.csv": true,
	"case.viewed": true, // an audit action routing records, named in a comment
}

var (
	// an audit action the code records: its text is "audit.act." + action
	auditCall = regexp.MustCompile(`\.audit\([^,\n]+, [^,\n]+, "([a-z_.]+)"`)
	// audit actions that have no text yet: the audit log shows their code
	auditWithoutText = map[string]bool{"throttle.clear": true, "broadcast.feed.internal_hosts": true}
	// a redirect with a notice: its text is "notice." + notice
	redirectCall = regexp.MustCompile(`redirect\(c, .*"([a-z_]+)"\)\s*$`)
)

// TestCatalogKeysInCode: every string literal in the package's Go code
// that looks like a message key of a known group ("nav.", "faq.", ...)
// exists in de.toml; a literal ending in a dot is a prefix the code
// completes at run time, and some key must start with it.
func TestCatalogKeysInCode(t *testing.T) {
	cat := newCatalog()
	groups := map[string]bool{}
	for k := range cat["de"] {
		groups[strings.SplitN(k, ".", 2)[0]] = true
	}
	files, _ := filepath.Glob("*.go")
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		actions := map[string]bool{}
		for _, m := range auditCall.FindAllStringSubmatch(string(src), -1) {
			actions[m[1]] = true
			if strings.HasSuffix(m[1], ".") {
				actions[strings.TrimSuffix(m[1], ".")] = true
			}
			if !auditWithoutText[m[1]] && !hasPrefix(cat, "audit.act."+m[1]) {
				t.Errorf("%s: audit action %q has no text audit.act.%s", f, m[1], m[1])
			}
		}
		for _, line := range strings.Split(string(src), "\n") {
			if m := redirectCall.FindStringSubmatch(line); m != nil && !cat.known("notice."+m[1]) {
				t.Errorf("%s: redirect with unknown notice %q", f, m[1])
			}
		}
		for _, m := range keyLiteral.FindAllStringSubmatch(string(src), -1) {
			k := m[1]
			if notKeys[k] || actions[k] || !groups[strings.SplitN(k, ".", 2)[0]] {
				continue
			}
			if strings.HasSuffix(k, ".") {
				if !hasPrefix(cat, k) {
					t.Errorf("%s: no key starts with %q", f, k)
				}
			} else if !cat.known(k) {
				t.Errorf("%s: unknown key %q", f, k)
			}
		}
	}
}

// hasPrefix: the key is known, or it ends in a dot and some key starts
// with it.
func hasPrefix(cat catalog, k string) bool {
	if !strings.HasSuffix(k, ".") {
		return cat.known(k)
	}
	for key := range cat["de"] {
		if strings.HasPrefix(key, k) {
			return true
		}
	}
	return false
}

// TestLanguageNames: the language switch and the users' language choice
// list the catalogue's languages by their own names (lang.name).
func TestLanguageNames(t *testing.T) {
	e := newEnv(t)
	e.user("admin@example.org", staff.RoleAdmin)
	if r := e.client().get("/login"); !strings.Contains(r.Body, `<button type="submit" name="lang" value="en" lang="en" class="link">English</button>`) {
		t.Errorf("login page: no switch to English")
	}
	admin := e.loggedIn("admin@example.org")
	r := admin.get("/admin/users/new")
	if !strings.Contains(r.Body, `<option value="de" selected>Deutsch</option><option value="en">English</option></select>`) {
		t.Errorf("user form: language choice not as before")
	}
}
