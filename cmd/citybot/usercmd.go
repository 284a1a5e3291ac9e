package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"citybot/staff"
)

func (a *app) userCmd(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] != "add" {
		return errors.New("user: expected 'user add' (see 'citybot help')")
	}
	fs := newFlags("user add", a.stderr)
	email := fs.String("email", "", "login e-mail address")
	name := fs.String("name", "", "display name")
	role := fs.String("role", "staff", "admin, editor or staff")
	depts := fs.String("departments", "", "comma-separated department ids (staff and editors)")
	if err := fs.Parse(args[1:]); err != nil {
		return errUsage
	}
	if *email == "" || *name == "" {
		return errors.New("user add: --email and --name are required")
	}
	password, err := a.readPassword()
	if err != nil {
		return err
	}
	var dl []string
	for _, d := range strings.Split(*depts, ",") {
		if d = strings.TrimSpace(d); d != "" {
			dl = append(dl, d)
		}
	}
	d, err := a.openDatabase(ctx)
	if err != nil {
		return err
	}
	defer d.Close()
	id, err := staff.CreateUser(ctx, d.DB, *email, *name, password, *role, dl)
	if err != nil {
		return fmt.Errorf("user add: %w", err)
	}
	fmt.Fprintf(a.stdout, "created user %d (%s, %s)\n", id, *email, *role)
	return nil
}

// readPassword reads the new user's password from CITYBOT_NEW_PASSWORD_FILE
// or the first line of standard input; never from a flag (it would show in
// the process list and the shell history).
func (a *app) readPassword() (string, error) {
	if f := os.Getenv("CITYBOT_NEW_PASSWORD_FILE"); f != "" {
		b, err := os.ReadFile(f)
		if err != nil {
			return "", fmt.Errorf("CITYBOT_NEW_PASSWORD_FILE: %w", err)
		}
		return strings.TrimRight(string(b), "\r\n"), nil
	}
	fmt.Fprint(a.stderr, "password (at least 10 characters): ")
	line, err := bufio.NewReader(a.stdin).ReadString('\n')
	if err != nil && line == "" {
		return "", errors.New("user add: no password on standard input")
	}
	return strings.TrimRight(line, "\r\n"), nil
}
