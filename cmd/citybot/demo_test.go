package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"

	"citybot/internal/config"
	"citybot/internal/dbtest"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// TestDemoAdminEmail: CITYBOT_DEMO_ADMIN_EMAIL names the demo admin login
// (and the credentials file lists it).
func TestDemoAdminEmail(t *testing.T) {
	d, url := dbtest.NewWithURL(t)
	cfg, err := config.Load([]string{"CITYBOT_DEMO_ADMIN_EMAIL=chefin@stadt.example", "CITYBOT_DATA_DIR=" + t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	a := &app{cfg: cfg, logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	cred, err := a.loadDemo(context.Background(), &database{DB: d, URL: url})
	if err != nil {
		t.Fatal(err)
	}
	var role string
	if err := d.Get(&role, `SELECT role FROM users WHERE email = 'chefin@stadt.example'`); err != nil {
		t.Fatalf("demo admin with the configured e-mail: %v", err)
	}
	if role != "admin" {
		t.Errorf("role %q, want admin", role)
	}
	var n int
	if err := d.Get(&n, `SELECT count(*) FROM users WHERE email = 'admin@musterstadt.de'`); err != nil || n != 0 {
		t.Errorf("the default demo admin exists as well (%d, %v)", n, err)
	}
	b, err := os.ReadFile(cred)
	if err != nil || !strings.Contains(string(b), "chefin@stadt.example") {
		t.Errorf("credentials file %s does not list the configured admin (%v):\n%s", cred, err, b)
	}
}
