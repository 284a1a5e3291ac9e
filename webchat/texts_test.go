package webchat

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"citybot/internal/i18n"
)

// TestTextFiles: the web chat's message files parse, English has the keys
// of de.toml and no others, with the same fmt verbs; every key the code
// uses exists (a problem's key is problem.<code>), every key is used, and
// the privacy notice is a template that renders in both languages.
func TestTextFiles(t *testing.T) {
	m := loadMessages()
	if len(m) < 2 || len(m[i18n.Ref]) == 0 {
		t.Fatalf("%d languages, %d German keys", len(m), len(m[i18n.Ref]))
	}
	for _, p := range i18n.Check(m) {
		t.Error(p)
	}
	var src strings.Builder
	for _, f := range []string{"api.go", "static.go", "texts.go"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		src.Write(b)
	}
	used := map[string]bool{}
	for _, k := range regexp.MustCompile(`"((?:chat|privacy)\.[a-z_]+)"`).FindAllStringSubmatch(src.String(), -1) {
		used[k[1]] = true
	}
	for _, c := range regexp.MustCompile(`problem\{(?:kind: )?apperr\.[A-Za-z]+, (?:code: )?"([a-z_]+)"`).FindAllStringSubmatch(src.String(), -1) {
		used["problem."+c[1]] = true
	}
	if len(used) < 8 {
		t.Fatalf("found only %d keys in the code: %v", len(used), used)
	}
	for k := range used {
		for _, lang := range []string{"de", "en"} {
			if _, ok := m[lang][k]; !ok {
				t.Errorf("the code uses %q, which %s.toml lacks", k, lang)
			}
		}
		if !slices.Contains(requiredKeys, k) {
			t.Errorf("%q is not in requiredKeys (checked when the files load)", k)
		}
	}
	for k := range m[i18n.Ref] {
		if !used[k] {
			t.Errorf("de.toml has %q, which the code does not use", k)
		}
	}
	for lang, p := range privacyPages {
		var b strings.Builder
		if err := p.Execute(&b, map[string]any{"Lang": lang, "Title": "Stadt Musterstadt", "Heading": "H", "Days": 30}); err != nil {
			t.Fatalf("%s: %v", lang, err)
		}
		if !strings.Contains(b.String(), "Stadt Musterstadt") || !strings.Contains(b.String(), "30") {
			t.Errorf("%s: the notice lacks the city or the retention days:\n%s", lang, b.String())
		}
	}
}

// TestProblemStatus: a problem's status is its kind's (apperr.HTTPStatus),
// as the widget and its tests expect them.
func TestProblemStatus(t *testing.T) {
	for _, c := range []struct {
		p    problem
		want int
	}{
		{probTooLong(2000), 413}, {probRate, 429}, {probInvalid, 400}, {probToken, 401},
		{probOrigin, 403}, {probPoW, 403}, {probHandoffPoW, 403}, {probUnavailable, 503},
	} {
		if got := c.p.status(); got != c.want {
			t.Errorf("%s: status %d, want %d", c.p.code, got, c.want)
		}
	}
	if got := probTooLong(2000).text("de"); got != "Die Nachricht ist zu lang (höchstens 2000 Zeichen). Bitte kürzen Sie sie." {
		t.Errorf("too_long: %q", got)
	}
}
