package arch

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// use is one table named in one package's SQL.
type use struct {
	Pkg   string // directory relative to the module root, "admin", "bot/telegram"
	Table string
	Write bool
	Pos   string // file:line of the literal
}

// scanModule parses every non-test .go file under root (skipping testdata,
// hidden directories and migrations/) and returns the tables its SQL
// string literals read and write.
func scanModule(root string) ([]use, error) {
	var out []use
	byDir := map[string][]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if p != root && (strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") || name == "testdata" || name == "vendor" || name == "node_modules") {
				return filepath.SkipDir
			}
			rel, _ := filepath.Rel(root, p)
			if rel == "migrations" {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(name, ".go") && !strings.HasSuffix(name, "_test.go") {
			byDir[filepath.Dir(p)] = append(byDir[filepath.Dir(p)], p)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for dir, files := range byDir {
		rel, _ := filepath.Rel(root, dir)
		us, err := scanFiles(filepath.ToSlash(rel), root, files)
		if err != nil {
			return nil, err
		}
		out = append(out, us...)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Pos < out[j].Pos })
	return out, nil
}

// scanFiles scans the files of one package directory. Package-level string
// constants and variables are resolved so that concatenations such as
// `SELECT `+columns+` FROM x` and "DELETE FROM "+table are read whole.
func scanFiles(pkg, root string, files []string) ([]use, error) {
	fset := token.NewFileSet()
	var parsed []*ast.File
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		af, err := parser.ParseFile(fset, f, src, parser.SkipObjectResolution)
		if err != nil {
			return nil, err
		}
		parsed = append(parsed, af)
	}
	// Package-level string constants/variables, resolved iteratively.
	values := map[string]string{}
	exprs := map[string]ast.Expr{}
	for _, af := range parsed {
		for _, decl := range af.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok || (gd.Tok != token.CONST && gd.Tok != token.VAR) {
				continue
			}
			for _, spec := range gd.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, n := range vs.Names {
					if i < len(vs.Values) {
						exprs[n.Name] = vs.Values[i]
					}
				}
			}
		}
	}
	for range 4 {
		for name, e := range exprs {
			if s, ok := stringValue(e, values); ok {
				values[name] = s
			}
		}
	}
	var out []use
	seen := map[use]bool{}
	var visit func(n ast.Node) bool
	visit = func(n ast.Node) bool {
		var s string
		switch e := n.(type) {
		case *ast.BinaryExpr:
			if e.Op != token.ADD {
				return true
			}
			// A + chain is read whole, once; what is not a string in it
			// (a call, a closure) is visited on its own.
			s = concat(e, values)
			for _, leaf := range leaves(e) {
				switch leaf.(type) {
				case *ast.BasicLit, *ast.Ident:
				default:
					ast.Inspect(leaf, visit)
				}
			}
		case *ast.BasicLit:
			if e.Kind != token.STRING {
				return true
			}
			s, _ = strconv.Unquote(e.Value)
		default:
			return true
		}
		pos := fset.Position(n.Pos())
		rel, _ := filepath.Rel(root, pos.Filename)
		for _, t := range tablesIn(s) {
			u := use{Pkg: pkg, Table: t.name, Write: t.write, Pos: filepath.ToSlash(rel) + ":" + strconv.Itoa(pos.Line)}
			if !seen[u] {
				seen[u] = true
				out = append(out, u)
			}
		}
		return false
	}
	for _, af := range parsed {
		ast.Inspect(af, visit)
	}
	return out, nil
}

// stringValue evaluates a constant string expression (literals, known
// names, +); ok is false when any part is unknown.
func stringValue(e ast.Expr, values map[string]string) (string, bool) {
	switch e := e.(type) {
	case *ast.BasicLit:
		if e.Kind != token.STRING {
			return "", false
		}
		s, err := strconv.Unquote(e.Value)
		return s, err == nil
	case *ast.Ident:
		s, ok := values[e.Name]
		return s, ok
	case *ast.ParenExpr:
		return stringValue(e.X, values)
	case *ast.BinaryExpr:
		if e.Op != token.ADD {
			return "", false
		}
		a, ok1 := stringValue(e.X, values)
		b, ok2 := stringValue(e.Y, values)
		return a + b, ok1 && ok2
	}
	return "", false
}

// leaves are the operands of a + chain.
func leaves(e ast.Expr) []ast.Expr {
	switch b := e.(type) {
	case *ast.BinaryExpr:
		if b.Op == token.ADD {
			return append(leaves(b.X), leaves(b.Y)...)
		}
	case *ast.ParenExpr:
		return leaves(b.X)
	}
	return []ast.Expr{e}
}

// concat is a + chain with unknown parts (function calls, variables) as
// a placeholder, so that the SQL around them still reads.
func concat(e ast.Expr, values map[string]string) string {
	if b, ok := e.(*ast.BinaryExpr); ok && b.Op == token.ADD {
		return concat(b.X, values) + concat(b.Y, values)
	}
	if p, ok := e.(*ast.ParenExpr); ok {
		return concat(p.X, values)
	}
	if s, ok := stringValue(e, values); ok {
		return s
	}
	return " $0 "
}

type tableRef struct {
	name  string
	write bool
}

var (
	// SQL in this code base is written with upper-case keywords; prose
	// ("choose one from the list") is not SQL.
	sqlStart = regexp.MustCompile(`(?s)^\s*(--[^\n]*\n\s*)*(SELECT|INSERT|UPDATE|DELETE|WITH|TRUNCATE|FROM|JOIN|LEFT|WHERE)\b`)
	sqlAny   = regexp.MustCompile(`(?s)\b(SELECT\b.*\bFROM|INSERT INTO|DELETE FROM|UPDATE\s+\w+(\s+\w+)?\s+SET|TRUNCATE)\b`)
	tokenRe  = regexp.MustCompile(`--[^\n]*|'(?:[^']|'')*'|"[^"]*"|\$\d+|[A-Za-z_][A-Za-z0-9_.]*|::|\S`)
	identRe  = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.]*$`)
)

// keywords that may follow a table name instead of an alias.
var notAlias = map[string]bool{
	"where": true, "join": true, "left": true, "right": true, "inner": true, "outer": true, "full": true,
	"cross": true, "on": true, "using": true, "group": true, "order": true, "limit": true, "offset": true,
	"for": true, "returning": true, "set": true, "values": true, "union": true, "except": true,
	"intersect": true, "having": true, "window": true, "natural": true, "lateral": true, "default": true,
	"select": true, "on_conflict": true, "tablesample": true, "as": true, "fetch": true,
}

// functions whose argument lists use FROM without naming a table.
var fromFuncs = map[string]bool{"extract": true, "substring": true, "trim": true, "overlay": true, "position": true, "btrim": true}

// tablesIn returns the tables an SQL text reads and writes: the names
// after INSERT INTO, UPDATE, DELETE FROM, TRUNCATE (writes) and FROM, JOIN
// (reads). CTE names, functions in FROM (unnest(...)), subqueries and
// names of the catalog (pg_*, information_schema) are skipped. Text that
// does not look like SQL yields nothing.
func tablesIn(s string) []tableRef {
	if !sqlStart.MatchString(s) && !sqlAny.MatchString(s) {
		return nil
	}
	var toks []string
	for _, t := range tokenRe.FindAllString(s, -1) {
		if !strings.HasPrefix(t, "--") {
			toks = append(toks, t)
		}
	}
	low := make([]string, len(toks))
	for i, t := range toks {
		low[i] = strings.ToLower(t)
	}
	at := func(i int) string {
		if i >= 0 && i < len(low) {
			return low[i]
		}
		return ""
	}
	isIdent := func(i int) bool { return i >= 0 && i < len(toks) && identRe.MatchString(toks[i]) }
	// CTE names: WITH [RECURSIVE] name [(cols)] AS ( and , name AS (.
	ctes := map[string]bool{}
	for i := range low {
		if isIdent(i) && at(i+1) == "as" && (at(i+2) == "(" || at(i+2) == "materialized" || at(i+2) == "not") {
			p := at(i - 1)
			if p == "with" || p == "recursive" || p == "," {
				ctes[low[i]] = true
			}
		}
	}
	// the function, if any, whose parenthesis encloses token i.
	enclosingFunc := func(i int) string {
		depth := 0
		for j := i - 1; j >= 0; j-- {
			switch low[j] {
			case ")":
				depth++
			case "(":
				if depth == 0 {
					return at(j - 1)
				}
				depth--
			}
		}
		return ""
	}
	var out []tableRef
	add := func(i int, write bool) bool {
		if !isIdent(i) || (at(i+1) == "(" && !(write && at(i-1) == "into")) {
			return false // a subquery or a function (INSERT INTO t (cols) aside)
		}
		n := low[i]
		if ctes[n] || strings.HasPrefix(n, "pg_") || strings.HasPrefix(n, "information_schema") || notAlias[n] {
			return false
		}
		if strings.ToLower(toks[i]) != toks[i] {
			return false // tables are lower-case; an upper-case word is a keyword
		}
		out = append(out, tableRef{name: n, write: write})
		return true
	}
	// skipParens returns the index after the parenthesis opened at i.
	skipParens := func(i int) int {
		depth := 0
		for j := i; j < len(low); j++ {
			switch low[j] {
			case "(":
				depth++
			case ")":
				depth--
				if depth == 0 {
					return j + 1
				}
			}
		}
		return len(low)
	}
	for i := 0; i < len(low); i++ {
		switch toks[i] { // keywords are upper-case (see sqlStart)
		case "INSERT", "UPDATE", "DELETE", "TRUNCATE", "JOIN", "FROM":
		default:
			continue
		}
		switch low[i] {
		case "insert":
			if at(i+1) == "into" {
				add(i+2, true)
			}
		case "update":
			j := i + 1
			if at(j) == "only" {
				j++
			}
			// UPDATE name [[AS] alias] SET; not DO UPDATE SET, FOR UPDATE.
			k := j + 1
			if at(k) == "as" {
				k++
			}
			if at(k) != "set" {
				k++
			}
			if at(j) != "set" && at(k) == "set" {
				add(j, true)
			}
		case "delete":
			if at(i+1) == "from" {
				j := i + 2
				if at(j) == "only" {
					j++
				}
				add(j, true)
				i = j
			}
		case "truncate":
			j := i + 1
			if at(j) == "table" {
				j++
			}
			for add(j, true) && at(j+1) == "," {
				j += 2
			}
		case "join":
			j := i + 1
			if at(j) == "lateral" {
				continue
			}
			add(j, false)
		case "from":
			if at(i-1) == "distinct" || at(i-1) == "delete" || fromFuncs[enclosingFunc(i)] {
				continue
			}
			j := i + 1
			if at(j) == "only" {
				j++
			}
			// FROM a [[AS] x], f(...) [AS] y [(cols)], (subquery) z ...
			for {
				k := j
				switch {
				case at(k) == "(":
					k = skipParens(k)
				case isIdent(k) && at(k+1) == "(":
					k = skipParens(k + 1)
				case add(k, false):
					k++
				default:
					k = len(low)
				}
				if at(k) == "with" && at(k+1) == "ordinality" {
					k += 2
				}
				if at(k) == "as" {
					k++
				}
				if isIdent(k) && !notAlias[at(k)] {
					k++
					if at(k) == "(" {
						k = skipParens(k)
					}
				}
				if at(k) != "," {
					break
				}
				j = k + 1
			}
		}
	}
	return out
}
