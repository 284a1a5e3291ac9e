package arch

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
)

// txMethods are the calls that begin or end a transaction by hand. Only
// internal/db (InTx, InTxWith) makes them: every other package runs its
// transactions through that one helper, so that a failure or a panic
// always rolls back and audit rows commit with the change they record.
var txMethods = map[string]bool{
	"Begin": true, "BeginTx": true, "Beginx": true, "BeginTxx": true,
	"MustBegin": true, "MustBeginTx": true, "Commit": true, "Rollback": true,
}

// txOwner is the one package that may call txMethods.
const txOwner = "internal/db"

// handMadeTx returns file:line: call for each call of a txMethods method in
// the non-test Go files under root (testdata, hidden directories and the
// txOwner package left out), paths relative to root.
func handMadeTx(root string, skipTestdata bool) ([]string, error) {
	var out []string
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if p != root && (strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") || (skipTestdata && name == "testdata") || name == "vendor" || name == "node_modules") {
				return filepath.SkipDir
			}
			if rel == txOwner {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, p, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			if sel, ok := call.Fun.(*ast.SelectorExpr); ok && txMethods[sel.Sel.Name] {
				out = append(out, fmt.Sprintf("%s:%d: %s", rel, fset.Position(call.Pos()).Line, sel.Sel.Name))
			}
			return true
		})
		return nil
	})
	return out, err
}

// TestOneTransactionHelper: no package but internal/db begins, commits or
// rolls back a transaction itself.
func TestOneTransactionHelper(t *testing.T) {
	found, err := handMadeTx(moduleRoot(t), true)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range found {
		t.Errorf("%s: transactions go through db.InTx or db.InTxWith", f)
	}
}

// TestOneTransactionHelperCatches: the checker finds the hand-made
// transaction of testdata/owntx.
func TestOneTransactionHelperCatches(t *testing.T) {
	dir, err := filepath.Abs("testdata/owntx")
	if err != nil {
		t.Fatal(err)
	}
	got, err := handMadeTx(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	want := "owntx.go:12: BeginTxx\nowntx.go:17: Rollback\nowntx.go:20: Commit\nowntx.go:23: MustBegin"
	if strings.Join(got, "\n") != want {
		t.Errorf("found:\n%s\nwant:\n%s", strings.Join(got, "\n"), want)
	}
}
