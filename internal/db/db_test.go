package db_test

import (
	"context"
	"strings"
	"testing"

	"citybot/internal/db"
	"citybot/internal/dbtest"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// Connections use generic plans for prepared statements, unless the
// connection string says otherwise.
func TestOpenPlanCacheMode(t *testing.T) {
	_, url := dbtest.NewWithURL(t)
	ctx := context.Background()
	for _, c := range []struct{ url, want string }{
		{url, "force_generic_plan"},
		{url + sep(url) + "plan_cache_mode=auto", "auto"},
	} {
		d, err := db.Open(ctx, c.url)
		if err != nil {
			t.Fatal(err)
		}
		var got string
		if err := d.Get(&got, `SHOW plan_cache_mode`); err != nil {
			t.Fatal(err)
		}
		d.Close()
		if got != c.want {
			t.Errorf("plan_cache_mode = %q, want %q", got, c.want)
		}
	}
}

func sep(url string) string {
	if strings.Contains(url, "?") {
		return "&"
	}
	return "?"
}

// A malformed connection string is reported without its password.
func TestOpenMalformedKeepsPasswordOut(t *testing.T) {
	for _, u := range []string{
		"postgres://citybot:s3cret-pw@db.example:badport/citybot",
		"postgres://citybot:s3cret-pw@db.example/citybot?sslmode=bogus",
		"host=db.example password=s3cret-pw port=abc",
	} {
		_, err := db.Open(context.Background(), u)
		if err == nil {
			t.Fatalf("%q: no error", u)
		}
		if strings.Contains(err.Error(), "s3cret-pw") {
			t.Errorf("error shows the password: %v", err)
		}
	}
}

// An instance is listed as live while it holds its lock, and not after.
func TestInstanceLiveness(t *testing.T) {
	d := dbtest.New(t)
	ctx := context.Background()
	live := func(id int32) bool {
		var n int
		if err := d.Get(&n, `SELECT count(*) FROM `+db.LiveInstances+` AS l (id) WHERE l.id = $1`, id); err != nil {
			t.Fatal(err)
		}
		return n == 1
	}
	a, err := db.StartInstance(ctx, d, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := db.StartInstance(ctx, d, nil)
	if err != nil {
		t.Fatal(err)
	}
	if a.ID == b.ID || a.ID <= 0 || b.ID <= 0 {
		t.Fatalf("ids %d and %d", a.ID, b.ID)
	}
	if !live(a.ID) || !live(b.ID) {
		t.Fatalf("running instances not live")
	}
	a.Close()
	if live(a.ID) {
		t.Errorf("closed instance %d still live", a.ID)
	}
	if !live(b.ID) {
		t.Errorf("instance %d no longer live", b.ID)
	}
	b.Close()
}
