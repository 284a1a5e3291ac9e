package arch

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// ownership is what DESIGN.md says: table -> owner, table -> readers.
type ownership struct {
	owner   map[string]string
	readers map[string][]string
}

var backticked = regexp.MustCompile("^`([^`]+)`$")

// parseDesign reads the tables of the section "## Tables and their owners":
// the first with the columns table | owner, the second table | reader | why.
func parseDesign(path string) (ownership, error) {
	f, err := os.Open(path)
	if err != nil {
		return ownership{}, err
	}
	defer f.Close()
	o := ownership{owner: map[string]string{}, readers: map[string][]string{}}
	in, tableNo, inTable := false, 0, false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "## ") {
			in = line == "## Tables and their owners"
			continue
		}
		if !in {
			continue
		}
		if !strings.HasPrefix(line, "|") {
			inTable = false
			continue
		}
		if !inTable {
			inTable = true
			tableNo++
			continue // the header row
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		if strings.HasPrefix(cells[0], "---") || strings.HasPrefix(cells[0], ":--") {
			continue
		}
		name := func(i int) (string, error) {
			if i >= len(cells) {
				return "", fmt.Errorf("DESIGN.md: row %q has too few cells", line)
			}
			m := backticked.FindStringSubmatch(cells[i])
			if m == nil {
				return "", fmt.Errorf("DESIGN.md: cell %q of row %q is not a `name`", cells[i], line)
			}
			return m[1], nil
		}
		table, err := name(0)
		if err != nil {
			return ownership{}, err
		}
		who, err := name(1)
		if err != nil {
			return ownership{}, err
		}
		switch tableNo {
		case 1:
			if prev, dup := o.owner[table]; dup {
				return ownership{}, fmt.Errorf("DESIGN.md: %s has two owners, %s and %s", table, prev, who)
			}
			o.owner[table] = who
		case 2:
			o.readers[table] = append(o.readers[table], who)
		default:
			return ownership{}, fmt.Errorf("DESIGN.md: a third table in the ownership section: %q", line)
		}
	}
	if err := sc.Err(); err != nil {
		return ownership{}, err
	}
	if len(o.owner) == 0 {
		return ownership{}, fmt.Errorf("DESIGN.md: no ownership table found")
	}
	for t := range o.readers {
		if _, ok := o.owner[t]; !ok {
			return ownership{}, fmt.Errorf("DESIGN.md: reader of %s, which has no owner row", t)
		}
	}
	return o, nil
}

// allowedBy reports whether who (a package dir or a file in it) covers the
// use u: the package itself or the named file.
func allowedBy(who string, u use) bool {
	if strings.HasSuffix(who, ".go") {
		file, _, _ := strings.Cut(u.Pos, ":")
		return file == who
	}
	return u.Pkg == who
}

// violations checks uses against o.
func violations(o ownership, uses []use) []string {
	var out []string
	for _, u := range uses {
		owner, ok := o.owner[u.Table]
		switch {
		case !ok:
			out = append(out, fmt.Sprintf("%s: %s names table %s, which has no owner in DESIGN.md", u.Pos, u.Pkg, u.Table))
			continue
		case owner == u.Pkg:
			continue
		}
		if u.Write {
			out = append(out, fmt.Sprintf("%s: %s writes %s, which %s owns", u.Pos, u.Pkg, u.Table, owner))
			continue
		}
		allowed := false
		for _, r := range o.readers[u.Table] {
			allowed = allowed || allowedBy(r, u)
		}
		if !allowed {
			out = append(out, fmt.Sprintf("%s: %s reads %s, which %s owns, and is no declared reader", u.Pos, u.Pkg, u.Table, owner))
		}
	}
	return out
}

func moduleRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root: %v", err)
	}
	return root
}

func TestTableOwnership(t *testing.T) {
	root := moduleRoot(t)
	o, err := parseDesign(filepath.Join(root, "DESIGN.md"))
	if err != nil {
		t.Fatal(err)
	}
	uses, err := scanModule(root)
	if err != nil {
		t.Fatal(err)
	}
	if len(uses) < 100 {
		t.Fatalf("found only %d table uses; is the scanner blind?", len(uses))
	}
	for _, v := range violations(o, uses) {
		t.Error(v)
	}
	// Every owner and reader names a package directory or file that exists.
	for table, owner := range o.owner {
		if _, err := os.Stat(filepath.Join(root, owner)); err != nil {
			t.Errorf("DESIGN.md: owner %s of %s does not exist", owner, table)
		}
	}
	for table, rs := range o.readers {
		for _, r := range rs {
			if _, err := os.Stat(filepath.Join(root, r)); err != nil {
				t.Errorf("DESIGN.md: reader %s of %s does not exist", r, table)
			}
		}
	}
}

var (
	createTable = regexp.MustCompile(`(?i)\bCREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?([a-z_][a-z0-9_]*)`)
	dropTable   = regexp.MustCompile(`(?i)\bDROP\s+TABLE\s+(?:IF\s+EXISTS\s+)?([a-z_][a-z0-9_]*)`)
	renameTable = regexp.MustCompile(`(?i)\bALTER\s+TABLE\s+(?:IF\s+EXISTS\s+)?([a-z_][a-z0-9_]*)\s+RENAME\s+TO\s+([a-z_][a-z0-9_]*)`)
)

// migratedTables replays the Up sections of the migrations in order and
// returns the tables that exist after the last one.
func migratedTables(dir string) (map[string]bool, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.sql"))
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	tables := map[string]bool{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		up := string(b)
		if i := strings.Index(up, "-- +goose Down"); i >= 0 {
			up = up[:i]
		}
		type ev struct {
			at   int
			kind string
			a, b string
		}
		var evs []ev
		for _, m := range createTable.FindAllStringSubmatchIndex(up, -1) {
			evs = append(evs, ev{m[0], "create", up[m[2]:m[3]], ""})
		}
		for _, m := range dropTable.FindAllStringSubmatchIndex(up, -1) {
			evs = append(evs, ev{m[0], "drop", up[m[2]:m[3]], ""})
		}
		for _, m := range renameTable.FindAllStringSubmatchIndex(up, -1) {
			evs = append(evs, ev{m[0], "rename", up[m[2]:m[3]], up[m[4]:m[5]]})
		}
		sort.Slice(evs, func(i, j int) bool { return evs[i].at < evs[j].at })
		for _, e := range evs {
			switch e.kind {
			case "create":
				tables[strings.ToLower(e.a)] = true
			case "drop":
				delete(tables, strings.ToLower(e.a))
			case "rename":
				delete(tables, strings.ToLower(e.a))
				tables[strings.ToLower(e.b)] = true
			}
		}
	}
	if len(tables) == 0 {
		return nil, fmt.Errorf("no CREATE TABLE in %s", dir)
	}
	return tables, nil
}

func TestEveryMigratedTableHasAnOwner(t *testing.T) {
	root := moduleRoot(t)
	o, err := parseDesign(filepath.Join(root, "DESIGN.md"))
	if err != nil {
		t.Fatal(err)
	}
	tables, err := migratedTables(filepath.Join(root, "migrations"))
	if err != nil {
		t.Fatal(err)
	}
	for tb := range tables {
		if _, ok := o.owner[tb]; !ok {
			t.Errorf("table %s (migrations) has no owner row in DESIGN.md", tb)
		}
	}
	for tb := range o.owner {
		if !tables[tb] {
			t.Errorf("DESIGN.md names an owner for %s, which the migrations do not create (or drop)", tb)
		}
	}
	if tables["login_attempts"] {
		t.Error("login_attempts is dropped by 00045 and must not count")
	}
}

// TestCheckerFindsForeignSQL runs the checker on testdata/foreign, a
// package whose SQL writes and reads tables it does not own.
func TestCheckerFindsForeignSQL(t *testing.T) {
	dir, err := filepath.Abs("testdata")
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "foreign", "*.go"))
	uses, err := scanFiles("foreign", dir, files)
	if err != nil {
		t.Fatal(err)
	}
	o := ownership{
		owner:   map[string]string{"cases": "routing", "messages": "routing", "faq_entries": "faq", "foreign_own": "foreign", "audit_log": "internal/audit"},
		readers: map[string][]string{"faq_entries": {"foreign"}},
	}
	got := violations(o, uses)
	want := []string{
		"foreign/foreign.go:11: foreign writes cases, which routing owns",
		"foreign/foreign.go:15: foreign reads messages, which routing owns, and is no declared reader",
		"foreign/foreign.go:22: foreign names table mystery, which has no owner in DESIGN.md",
		"foreign/foreign.go:26: foreign writes audit_log, which internal/audit owns",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("violations:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestTablesIn(t *testing.T) {
	for _, tc := range []struct {
		sql  string
		want string
	}{
		{`SELECT a FROM cases c JOIN departments d ON d.id = c.department_id`, "cases departments"},
		{`INSERT INTO bot_answers (x) VALUES ($1) ON CONFLICT (x) DO UPDATE SET y = 1`, "bot_answers!"},
		{`UPDATE cases c SET status = 'x' FROM messages m WHERE m.id = c.id`, "cases! messages"},
		{`DELETE FROM messages m WHERE m.id IN (SELECT cm.message_id FROM case_messages cm)`, "messages! case_messages"},
		{`WITH ins AS (INSERT INTO faq_revisions (x) VALUES (1) RETURNING *) SELECT * FROM ins LEFT JOIN users u ON true`, "faq_revisions! users"},
		{`SELECT EXTRACT(EPOCH FROM greatest(a, now()) - now()) FROM broadcast_pause WHERE a IS DISTINCT FROM b`, "broadcast_pause"},
		{`SELECT x FROM unnest($1::text[]) AS t(x), topics`, "topics"},
		{`SELECT 1 FROM cases FOR UPDATE SKIP LOCKED`, "cases"},
		{`SELECT a FROM posts p, topics AS t, feeds WHERE true`, "posts topics feeds"},
		{`TRUNCATE outbox, messages`, "outbox! messages!"},
		{`SELECT ` + "x" + ` FROM pg_stat_activity`, ""},
		{"Wählen Sie aus der Liste", ""},
		{"Select a department from the list", ""},
		{` FROM settings WHERE key = $1`, "settings"},
	} {
		var got []string
		for _, r := range tablesIn(tc.sql) {
			s := r.name
			if r.write {
				s += "!"
			}
			got = append(got, s)
		}
		if strings.Join(got, " ") != tc.want {
			t.Errorf("tablesIn(%q) = %q, want %q", tc.sql, strings.Join(got, " "), tc.want)
		}
	}
}
