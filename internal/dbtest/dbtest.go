// Package dbtest gives tests a real PostgreSQL database with the production
// migrations applied: from TEST_DATABASE_URL when set, else from a private
// local cluster that the test binary starts and stops itself.
//
// Use it from TestMain:
//
//	func TestMain(m *testing.M) { dbtest.Main(m) }
//
// and call New(t) for a fresh, isolated database per test.
package dbtest

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"citybot/internal/db"
	"citybot/migrations"
)

const template = "citybot_template"

type env struct {
	adminURL string                 // URL of a maintenance database on the server
	urlFor   func(db string) string // URL of a given database on the server
	prefix   string
	seq      atomic.Int64
	local    *db.Local
	tmp      string
}

var (
	mu      sync.Mutex
	current *env
)

// Main starts the database server for the test binary, runs the tests and
// stops the server again. It exits the process with the tests' exit code.
func Main(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	ctx := context.Background()
	e, err := setup(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "dbtest:", err)
		return 1
	}
	mu.Lock()
	current = e
	mu.Unlock()
	code := m.Run()
	e.teardown()
	return code
}

func setup(ctx context.Context) (*env, error) {
	e := &env{prefix: fmt.Sprintf("t%d_", os.Getpid())}
	if u := os.Getenv("TEST_DATABASE_URL"); u != "" {
		pu, err := url.Parse(u)
		if err != nil {
			return nil, fmt.Errorf("TEST_DATABASE_URL: %w", err)
		}
		e.adminURL = u
		e.urlFor = func(name string) string {
			c := *pu
			c.Path = "/" + name
			return c.String()
		}
	} else {
		dir, err := os.MkdirTemp("", "citybot-test-pg-")
		if err != nil {
			return nil, err
		}
		e.tmp = dir
		l, err := db.StartLocal(ctx, db.LocalOptions{Dir: dir, Database: "postgres", Fast: true})
		if err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		e.local = l
		e.adminURL = l.URL("postgres")
		e.urlFor = l.URL
	}
	if err := e.makeTemplate(ctx); err != nil {
		e.teardown()
		return nil, err
	}
	return e, nil
}

func (e *env) tmplName() string { return e.prefix + template }

func (e *env) makeTemplate(ctx context.Context) error {
	admin, err := db.Open(ctx, e.adminURL)
	if err != nil {
		return err
	}
	defer admin.Close()
	if _, err := admin.ExecContext(ctx, `CREATE DATABASE `+e.tmplName()); err != nil {
		return fmt.Errorf("create template database: %w", err)
	}
	t, err := db.Open(ctx, e.urlFor(e.tmplName()))
	if err != nil {
		return err
	}
	defer t.Close()
	return migrations.Up(ctx, t.DB, nil)
}

func (e *env) teardown() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if admin, err := db.Open(ctx, e.adminURL); err == nil {
		var names []string
		_ = admin.SelectContext(ctx, &names, `SELECT datname FROM pg_database WHERE datname LIKE $1`, strings.ReplaceAll(e.prefix, "_", `\_`)+"%")
		for _, n := range names {
			_, _ = admin.ExecContext(ctx, `DROP DATABASE IF EXISTS `+n+` WITH (FORCE)`)
		}
		admin.Close()
	}
	if e.local != nil {
		_ = e.local.Stop()
	}
	if e.tmp != "" {
		os.RemoveAll(e.tmp)
	}
}

// New returns a fresh database with all migrations applied. It is dropped
// when the test ends.
func New(t testing.TB) *sqlx.DB {
	t.Helper()
	d, _ := NewWithURL(t)
	return d
}

// NewWithURL is New that also returns the database's connection URL (for
// code under test that opens its own connections, e.g. LISTEN).
func NewWithURL(t testing.TB) (*sqlx.DB, string) {
	t.Helper()
	mu.Lock()
	e := current
	mu.Unlock()
	if e == nil {
		t.Fatal("dbtest: call dbtest.Main(m) from TestMain")
	}
	ctx := context.Background()
	name := fmt.Sprintf("%sdb%d", e.prefix, e.seq.Add(1))
	admin, err := db.Open(ctx, e.adminURL)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if _, err := admin.ExecContext(ctx, `CREATE DATABASE `+name+` TEMPLATE `+e.tmplName()); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	u := e.urlFor(name)
	d, err := db.Open(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		d.Close()
		a, err := db.Open(context.Background(), e.adminURL)
		if err != nil {
			return
		}
		defer a.Close()
		_, _ = a.ExecContext(context.Background(), `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`)
	})
	return d, u
}
