package dbtest

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Fuzz targets live in test binaries without a database: `go test -fuzz`
// runs the test binary once per fuzz worker, and a binary whose TestMain is
// Main would start a PostgreSQL cluster in every one of them. Every package
// directory with a Fuzz function must have no test file that uses this
// package.
func TestFuzzTargetsApartFromDatabase(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root not found: %v", err)
	}
	fuzzDirs := map[string][]string{}
	dbDirs := map[string]string{}
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != root && (strings.HasPrefix(name, ".") || name == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, "_test.go") {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		src, dir := string(data), filepath.Dir(path)
		for _, line := range strings.Split(src, "\n") {
			if strings.HasPrefix(line, "func Fuzz") {
				name, _, _ := strings.Cut(strings.TrimPrefix(line, "func "), "(")
				fuzzDirs[dir] = append(fuzzDirs[dir], name)
			}
		}
		if strings.Contains(src, `"citybot/internal/dbtest"`) || strings.Contains(src, "dbtest.Main(") ||
			filepath.Base(dir) == "dbtest" && strings.Contains(src, "Main(m)") {
			dbDirs[dir] = path
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, targets := range fuzzDirs {
		n += len(targets)
	}
	if n < 5 {
		t.Fatalf("found %d fuzz targets only: %v", n, fuzzDirs)
	}
	for dir, targets := range fuzzDirs {
		if f, ok := dbDirs[dir]; ok {
			rel, _ := filepath.Rel(root, f)
			t.Errorf("%v share a test binary with a database (%s): move them to a package without one", targets, rel)
		}
	}
}
