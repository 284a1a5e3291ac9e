// Package staff is the city's staff and organisation: the departments
// (contact data, office hours, response targets, keywords, the fallback),
// the web UI's users with their roles and departments, their passwords,
// sessions, invitations and login throttles, and the group mapping of
// sign-in through the city's identity provider. It alone writes these
// tables (users, sessions, user_departments, user_invitations,
// login_throttles, oidc_groups, oidc_group_departments, oidc_mapping_state,
// departments).
//
// Principal is the one staff identity: every domain function that acts on
// behalf of a signed-in user (faq's editor, routing's inbox) takes it.
package staff

import (
	"context"
	"slices"
	"strings"

	"github.com/jmoiron/sqlx"

	"citybot/internal/apperr"
)

// Roles of the web UI's users. Admins may do everything and see every
// department; editors maintain the FAQ of their departments and answer
// their cases; staff answer the cases of their departments.
const (
	RoleAdmin  = "admin"
	RoleEditor = "editor"
	RoleStaff  = "staff"
)

// Roles are the roles in the order forms offer them.
var Roles = []string{RoleStaff, RoleEditor, RoleAdmin}

// ValidRole reports whether r is one of the roles.
func ValidRole(r string) bool { return r == RoleAdmin || r == RoleEditor || r == RoleStaff }

// Errors of the package.
var (
	ErrNotFound  = apperr.New(apperr.NotFound, "staff: not found")
	ErrExists    = apperr.New(apperr.Conflict, "staff: already exists")
	ErrInvalid   = apperr.New(apperr.Invalid, "staff: invalid")
	ErrForbidden = apperr.New(apperr.Forbidden, "staff: forbidden")
	// ErrBadLogin: wrong e-mail address or password (never which).
	ErrBadLogin = apperr.New(apperr.Unauthorized, "staff: wrong email or password")
	// ErrSelfAdmin: the change would end the acting admin's own admin role.
	ErrSelfAdmin = apperr.New(apperr.Conflict, "staff: the change would end the acting admin's admin role")
	// ErrNoGroup: no group of the identity provider maps to a role.
	ErrNoGroup = apperr.New(apperr.Forbidden, "staff: no group of the identity provider maps to a role")
	// ErrThrottled: too many failed password checks; see Throttled.
	ErrThrottled = apperr.New(apperr.RateLimited, "staff: too many failed logins")
)

// Principal is the signed-in staff member on whose behalf an operation
// runs.
type Principal struct {
	ID          int64    `db:"id"`
	Email       string   `db:"email"`
	Name        string   `db:"name"`
	Role        string   `db:"role"`
	Language    string   `db:"language"`
	Departments []string `db:"-"`
}

// IsAdmin reports whether p has the admin role (false for nil).
func (p *Principal) IsAdmin() bool { return p != nil && p.Role == RoleAdmin }

// IsEditor reports whether p may use the FAQ editor at all (admins and
// editors).
func (p Principal) IsEditor() bool { return p.Role == RoleAdmin || p.Role == RoleEditor }

// CanEdit reports whether p may change FAQ entries of department dept:
// admins all, editors those of their departments, other roles none.
func (p Principal) CanEdit(dept string) bool {
	switch p.Role {
	case RoleAdmin:
		return true
	case RoleEditor:
		return slices.Contains(p.Departments, dept)
	}
	return false
}

// CanSeeDepartment reports whether p sees the cases of department dept:
// admins every department's, the others only their departments'.
func (p Principal) CanSeeDepartment(dept string) bool {
	return p.Role == RoleAdmin || slices.Contains(p.Departments, dept)
}

// Valid reports whether p is a signed-in user with a known role.
func (p Principal) Valid() bool { return p.ID > 0 && ValidRole(p.Role) }

// Store reads and writes the package's tables.
type Store struct {
	db   *sqlx.DB
	cost int
	// onDeactivate runs in the transaction that deactivates a user.
	onDeactivate DeactivateHook
}

// DeactivateHook is told, in the transaction of the change, that admin by
// deactivated (or saved as inactive) user userID; an error rolls the
// change back. Other domains end what the user had there (fieldstaff
// unlinks their Telegram chat).
type DeactivateHook func(ctx context.Context, tx *sqlx.Tx, by, userID int64) error

// WithDeactivateHook returns a copy of s that calls h whenever it
// deactivates a user.
func (s *Store) WithDeactivateHook(h DeactivateHook) *Store {
	c := *s
	c.onDeactivate = h
	return &c
}

// bcryptCost is the cost of password hashes (~0.25 s per check on a
// current server core).
const bcryptCost = 12

// New returns a Store on d.
func New(d *sqlx.DB) *Store { return &Store{db: d, cost: bcryptCost} }

// WithCost returns a copy of s that hashes passwords at the bcrypt cost
// (tests use bcrypt.MinCost).
func (s *Store) WithCost(cost int) *Store {
	c := *s
	c.cost = cost
	return &c
}

// DB is the store's database (for callers that run their own
// transactions through the package's functions that take one).
func (s *Store) DB() *sqlx.DB { return s.db }

// NormalizeEmail is the form of an e-mail address the users table keys on.
func NormalizeEmail(e string) string { return strings.ToLower(strings.TrimSpace(e)) }

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	r := []rune(s)
	if len(r) > n {
		r = r[:n]
	}
	return string(r)
}
