package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"citybot/broadcast"
	"citybot/faq"
	"citybot/internal/demodata"
	"citybot/routing"
	"citybot/staff"
)

// demoUser is a login the demo creates, so that a newcomer can try every role.
type demoUser struct {
	email, name, role string
	departments       []string
}

var demoUsers = []demoUser{
	{"admin@musterstadt.de", "Demo Admin", staff.RoleAdmin, nil},
	{"redaktion@musterstadt.de", "Demo Redaktion", staff.RoleEditor, []string{"zentrale", "buergerbuero", "bauamt"}},
	{"bauamt@musterstadt.de", "Demo Bauamt", staff.RoleStaff, []string{"bauamt"}},
	{"ordnungsamt@musterstadt.de", "Demo Ordnungsamt", staff.RoleStaff, []string{"ordnungsamt"}},
}

// loadDemo fills an empty database with the demo city: departments, FAQ,
// office hours and logins. It returns the path of the credentials file when
// it created logins, and the path of an existing one otherwise.
func (a *app) loadDemo(ctx context.Context, d *database) (string, error) {
	st := faq.NewStore(d.DB)
	n, err := st.CountEntries(ctx)
	if err != nil {
		return "", err
	}
	if n == 0 {
		ds, err := faq.ReadDatasetFS(demodata.FS)
		if err != nil {
			return "", fmt.Errorf("demo data: %w", err)
		}
		res, err := st.Import(ctx, ds)
		if err != nil {
			return "", fmt.Errorf("demo data: %w", err)
		}
		a.logger.Info("loaded demo FAQ", "departments", res.DepartmentsCreated, "entries", res.EntriesCreated)
		if err := a.loadDemoRouting(ctx, d); err != nil {
			return "", err
		}
	}
	credFile := filepath.Join(a.cfg.DataDir, "demo-logins.txt")
	users, err := staff.New(d.DB).CountUsers(ctx)
	if err != nil {
		return "", err
	}
	if users > 0 {
		if _, err := os.Stat(credFile); err == nil {
			return credFile, nil
		}
		return "", nil
	}
	var b strings.Builder
	b.WriteString("citybot demo logins (created on first start; change or delete them for real use)\n\n")
	for _, u := range a.demoUsers() {
		pw, err := randomPassword()
		if err != nil {
			return "", err
		}
		if _, err := staff.CreateUser(ctx, d.DB, u.email, u.name, pw, u.role, u.departments); err != nil {
			if errors.Is(err, staff.ErrInvalid) {
				return "", fmt.Errorf("demo user %s: %w", u.email, err)
			}
			return "", err
		}
		fmt.Fprintf(&b, "%-8s %-28s %s\n", u.role, u.email, pw)
	}
	if err := os.MkdirAll(a.cfg.DataDir, 0o755); err != nil {
		return "", err
	}
	if err := os.WriteFile(credFile, []byte(b.String()), 0o600); err != nil {
		return "", fmt.Errorf("write %s: %w", credFile, err)
	}
	return credFile, nil
}

// demoUsers are the demo logins, the admin's with CITYBOT_DEMO_ADMIN_EMAIL.
func (a *app) demoUsers() []demoUser {
	us := slices.Clone(demoUsers)
	if e := strings.TrimSpace(a.cfg.DemoAdminEmail); e != "" {
		us[0].email = e
	}
	return us
}

func randomPassword() (string, error) {
	buf := make([]byte, 12)
	if _, err := rand.Read(buf); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(buf), nil
}

// loadDemoRouting gives the demo departments office hours and the demo city
// its news topics.
func (a *app) loadDemoRouting(ctx context.Context, d *database) error {
	if err := routing.ApplyDemoOfficeHours(ctx, d.DB); err != nil {
		return fmt.Errorf("demo office hours: %w", err)
	}
	n, err := broadcast.ApplyDemoTopics(ctx, d.DB)
	if err != nil {
		return fmt.Errorf("demo topics: %w", err)
	}
	if n > 0 {
		a.logger.Info("created demo news topics", "topics", n)
	}
	return nil
}
