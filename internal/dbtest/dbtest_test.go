package dbtest

import (
	"context"
	"testing"
)

func TestMain(m *testing.M) { Main(m) }

func TestNewIsMigratedAndIsolated(t *testing.T) {
	a := New(t)
	b := New(t)
	ctx := context.Background()
	if _, err := a.ExecContext(ctx, `INSERT INTO departments (id, name) VALUES ('x', 'X')`); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := b.GetContext(ctx, &n, `SELECT count(*) FROM departments`); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("databases are not isolated: %d rows", n)
	}
}
