package i18n

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// keyLiteral is a Go string literal shaped like a message key
// ("hours.open"), or like a prefix the code completes at run time
// ("weekday.").
var keyLiteral = regexp.MustCompile(`"([a-z][a-z0-9_]*(?:\.[a-z0-9_]+)*\.)"|"([a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+)"`)

// CheckCode compares a package's code with its reference catalogue ref:
// every key-shaped string literal of one of ref's groups ("hours." for
// "hours.open") in the non-test Go files of dir must be a key of ref; a
// literal ending in a dot is a prefix the code completes, which must
// start one of built, the keys the code builds at run time (each of them
// must be in ref too); and every key of ref must be used. It returns the
// keys used and what is wrong, for the package's text test.
func CheckCode(dir string, ref map[string]string, built []string) (used map[string]bool, problems []string) {
	groups := map[string]bool{}
	for k := range ref {
		groups[strings.SplitN(k, ".", 2)[0]] = true
	}
	used = map[string]bool{}
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil || len(files) == 0 {
		return used, []string{fmt.Sprintf("no Go files in %s (%v)", dir, err)}
	}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		for _, m := range keyLiteral.FindAllStringSubmatch(string(src), -1) {
			k := m[1] + m[2]
			if !groups[strings.SplitN(k, ".", 2)[0]] {
				continue
			}
			if strings.HasSuffix(k, ".") {
				if !slices.ContainsFunc(built, func(b string) bool { return strings.HasPrefix(b, k) }) {
					problems = append(problems, fmt.Sprintf("%s completes %q, which the test names no key for", filepath.Base(f), k))
				}
				continue
			}
			used[k] = true
			if _, ok := ref[k]; !ok {
				problems = append(problems, fmt.Sprintf("%s uses %q, which %s.toml lacks", filepath.Base(f), k, Ref))
			}
		}
	}
	for _, k := range built {
		used[k] = true
		if _, ok := ref[k]; !ok {
			problems = append(problems, fmt.Sprintf("the code builds %q, which %s.toml lacks", k, Ref))
		}
	}
	for _, k := range sortedKeys(ref) {
		if !used[k] {
			problems = append(problems, fmt.Sprintf("%s.toml has %q, which the code does not use", Ref, k))
		}
	}
	return used, problems
}
