package staff

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"citybot/internal/audit"
	"citybot/internal/db"
)

// The group mapping of sign-in through the identity provider: which
// directory group gives which role and departments. It lives in
// oidc_groups; the initial mapping (CITYBOT_OIDC_GROUPS) is taken over
// once, when the table was never filled (oidc_mapping_state), and ignored
// from then on.
//
// The role and departments of a user who signed in through the provider
// follow the mapping: at every sign-in (from the token's groups) and when
// an admin changes the mapping (from the groups of the user's last sign-in,
// users.oidc_groups), in the transaction of the change. A user whose groups
// no longer map to anything loses access at once: no departments, the role
// staff, all sessions ended; the next sign-in is refused.

const (
	// MaxOIDCGroupName bounds a group's name.
	MaxOIDCGroupName = 256
	// maxOIDCUserGroups bounds what is kept of a token's group claim.
	maxOIDCUserGroups = 1000
)

// OIDCGroup maps one group of the identity provider to a role and departments.
type OIDCGroup struct {
	Group       string   `json:"group"`
	Role        string   `json:"role"`
	Departments []string `json:"departments"`
}

// OIDCGroupRow is one mapping as stored.
type OIDCGroupRow struct {
	ID          int64          `db:"id"`
	Group       string         `db:"group_name"`
	Role        string         `db:"role"`
	Departments pq.StringArray `db:"departments"`
}

func (r OIDCGroupRow) mapping() OIDCGroup {
	return OIDCGroup{Group: r.Group, Role: r.Role, Departments: r.Departments}
}

const oidcGroupSelect = `SELECT g.id, g.group_name, g.role,
	COALESCE(ARRAY(SELECT d.department_id FROM oidc_group_departments d WHERE d.group_id = g.id ORDER BY d.department_id), '{}') AS departments
	FROM oidc_groups g`

// ListOIDCGroups returns the mapping by group name.
func (s *Store) ListOIDCGroups(ctx context.Context) ([]OIDCGroupRow, error) {
	return listOIDCGroups(ctx, s.db)
}

func listOIDCGroups(ctx context.Context, q sqlx.QueryerContext) ([]OIDCGroupRow, error) {
	var rows []OIDCGroupRow
	if err := sqlx.SelectContext(ctx, q, &rows, oidcGroupSelect+` ORDER BY lower(g.group_name), g.id`); err != nil {
		return nil, fmt.Errorf("list oidc groups: %w", err)
	}
	return rows, nil
}

// GetOIDCGroup returns one mapping; ErrNotFound when there is none.
func (s *Store) GetOIDCGroup(ctx context.Context, id int64) (OIDCGroupRow, error) {
	var r OIDCGroupRow
	if err := s.db.GetContext(ctx, &r, oidcGroupSelect+` WHERE g.id = $1`, id); err != nil {
		if db.IsNoRows(err) {
			return OIDCGroupRow{}, ErrNotFound
		}
		return OIDCGroupRow{}, fmt.Errorf("get oidc group: %w", err)
	}
	return r, nil
}

// CountOIDCUsers returns how many users signed in through the provider.
func (s *Store) CountOIDCUsers(ctx context.Context) (int, error) {
	var n int
	if err := s.db.GetContext(ctx, &n, `SELECT count(*) FROM users WHERE oidc_groups IS NOT NULL`); err != nil {
		return 0, fmt.Errorf("count oidc users: %w", err)
	}
	return n, nil
}

func oidcMappings(rows []OIDCGroupRow) []OIDCGroup {
	out := make([]OIDCGroup, len(rows))
	for i, r := range rows {
		out[i] = r.mapping()
	}
	return out
}

// SeedOIDCGroups takes the initial mapping over into the table when the
// mapping was never filled (once per database; any instance may do it).
// Departments the database does not know are left out (and logged).
func (s *Store) SeedOIDCGroups(ctx context.Context, groups []OIDCGroup, log *slog.Logger) error {
	return db.InTx(ctx, s.db, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO oidc_mapping_state DEFAULT VALUES ON CONFLICT DO NOTHING`)
		if err != nil {
			return fmt.Errorf("mark oidc mapping: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			if len(groups) > 0 {
				log.Info("CITYBOT_OIDC_GROUPS ignored: the group mapping is edited on /admin/sso")
			}
			return nil
		}
		var taken []map[string]any
		for _, g := range groups {
			name := strings.TrimSpace(g.Group)
			if name == "" || len(name) > MaxOIDCGroupName || !ValidRole(g.Role) {
				log.Warn("oidc group mapping left out", "group", truncate(name, 80))
				continue
			}
			var id int64
			if err := tx.GetContext(ctx, &id, `INSERT INTO oidc_groups (group_name, role) VALUES ($1, $2)
				ON CONFLICT (group_name) DO UPDATE SET role = EXCLUDED.role RETURNING id`, name, g.Role); err != nil {
				return fmt.Errorf("seed oidc group: %w", err)
			}
			var deps []string
			if err := tx.SelectContext(ctx, &deps, `INSERT INTO oidc_group_departments (group_id, department_id)
				SELECT $1, d.id FROM departments d WHERE d.id = ANY($2) ON CONFLICT DO NOTHING RETURNING department_id`,
				id, pq.StringArray(g.Departments)); err != nil {
				return fmt.Errorf("seed oidc group departments: %w", err)
			}
			if len(deps) != len(g.Departments) {
				log.Warn("oidc group mapping: unknown departments left out", "group", truncate(name, 80), "departments", g.Departments)
			}
			slices.Sort(deps)
			taken = append(taken, map[string]any{"group": name, "role": g.Role, "departments": deps})
		}
		if len(taken) == 0 {
			return nil
		}
		return audit.Record(ctx, tx, 0, "oidc_group.import", "oidc_groups", "", map[string]any{"source": "CITYBOT_OIDC_GROUPS", "groups": taken})
	})
}

// OIDCUserGroups are the groups kept of a token's group claim.
func OIDCUserGroups(groups []string) []string {
	out := make([]string, 0, min(len(groups), maxOIDCUserGroups))
	for _, g := range groups {
		if len(out) == maxOIDCUserGroups {
			break
		}
		if g != "" && len(g) <= MaxOIDCGroupName && !slices.Contains(out, g) {
			out = append(out, strings.ToValidUTF8(strings.ReplaceAll(g, "\x00", ""), ""))
		}
	}
	return out
}

// OIDCAccess is the role and departments the groups map to: the highest
// role of the matching groups, the departments of all of them; ErrNoGroup
// when none matches.
func OIDCAccess(groups []string, m []OIDCGroup) (role string, deps []string, err error) {
	rank := map[string]int{RoleStaff: 1, RoleEditor: 2, RoleAdmin: 3}
	for _, g := range m {
		if !slices.Contains(groups, g.Group) {
			continue
		}
		if rank[g.Role] > rank[role] {
			role = g.Role
		}
		for _, d := range g.Departments {
			if !slices.Contains(deps, d) {
				deps = append(deps, d)
			}
		}
	}
	if role == "" {
		return "", nil, ErrNoGroup
	}
	slices.Sort(deps)
	return role, deps, nil
}

// OIDCSignIn creates or updates the user of a verified token (e-mail
// address, name, the groups kept by OIDCUserGroups) from the mapping.
// Errors: ErrNoGroup (the groups map to nothing: a user who had signed in
// through the provider before loses their access), ErrInvalid (the user
// was deactivated).
func (s *Store) OIDCSignIn(ctx context.Context, email, name string, groups []string) (Principal, error) {
	var (
		u        Principal
		active   bool
		noAccess bool
	)
	err := db.InTx(ctx, s.db, func(tx *sqlx.Tx) error {
		// The mapping holds still until the user is written (an admin's
		// change of it waits, and then applies it to this user too).
		if _, err := tx.ExecContext(ctx, `SELECT 1 FROM oidc_mapping_state FOR SHARE`); err != nil {
			return fmt.Errorf("lock oidc mapping: %w", err)
		}
		rows, err := listOIDCGroups(ctx, tx)
		if err != nil {
			return err
		}
		role, ds, aerr := OIDCAccess(groups, oidcMappings(rows))
		if aerr != nil {
			noAccess = true
			return revokeOIDCUser(ctx, tx, email, groups)
		}
		// A user who signs in only through the provider has no usable
		// password; a local user keeps theirs.
		var row struct {
			Principal
			Active bool `db:"active"`
		}
		if err := tx.GetContext(ctx, &row, `
			INSERT INTO users (email, name, password_hash, role, oidc_groups) VALUES ($1, $2, '!', $3, $4)
			ON CONFLICT (email) DO UPDATE SET role = EXCLUDED.role, name = EXCLUDED.name, oidc_groups = EXCLUDED.oidc_groups, updated_at = now()
			RETURNING id, email, name, role, active, language`, email, truncate(name, 200), role, pq.StringArray(groups)); err != nil {
			return fmt.Errorf("upsert oidc user: %w", err)
		}
		u, active = row.Principal, row.Active
		if !active {
			return fmt.Errorf("%w: user deactivated", ErrInvalid)
		}
		u.Departments = ds
		return setUserDepartments(ctx, tx, u.ID, ds)
	})
	if err != nil {
		return Principal{}, err
	}
	if noAccess {
		return Principal{}, ErrNoGroup
	}
	return u, nil
}

// revokeOIDCUser takes what the mapping gave from a user who signed in
// through the provider before and whose groups now map to nothing: the
// departments, the role (staff) and the sessions. Users who never signed
// in that way are left alone.
func revokeOIDCUser(ctx context.Context, tx *sqlx.Tx, email string, groups []string) error {
	var id int64
	err := tx.GetContext(ctx, &id, `UPDATE users SET oidc_groups = $2, role = 'staff', updated_at = now()
		WHERE email = $1 AND oidc_groups IS NOT NULL RETURNING id`, email, pq.StringArray(groups))
	if db.IsNoRows(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("revoke oidc user: %w", err)
	}
	if err := setUserDepartments(ctx, tx, id, nil); err != nil {
		return err
	}
	if err := endSessions(ctx, tx, id); err != nil {
		return err
	}
	return audit.Record(ctx, tx, 0, "user.oidc_revoke", "user", strconv.FormatInt(id, 10), map[string]any{"reason": "no mapped group at sign-in"})
}

// syncOIDCUsers applies the mapping in tx to every user who signed in
// through the provider, and returns the ids of those whose role or
// departments changed and of those who lost access. me is the acting admin:
// a change that would take their admin role is refused with ErrSelfAdmin.
func syncOIDCUsers(ctx context.Context, tx *sqlx.Tx, me int64) (changed, revoked []int64, err error) {
	rows, err := listOIDCGroups(ctx, tx)
	if err != nil {
		return nil, nil, err
	}
	mapping := oidcMappings(rows)
	var users []struct {
		ID     int64          `db:"id"`
		Role   string         `db:"role"`
		Groups pq.StringArray `db:"oidc_groups"`
		Deps   pq.StringArray `db:"departments"`
	}
	if err := tx.SelectContext(ctx, &users, `SELECT u.id, u.role, u.oidc_groups,
		COALESCE(ARRAY(SELECT ud.department_id FROM user_departments ud WHERE ud.user_id = u.id ORDER BY ud.department_id), '{}') AS departments
		FROM users u WHERE u.oidc_groups IS NOT NULL ORDER BY u.id FOR UPDATE`); err != nil {
		return nil, nil, fmt.Errorf("list oidc users: %w", err)
	}
	for _, u := range users {
		role, deps, aerr := OIDCAccess([]string(u.Groups), mapping)
		lost := errors.Is(aerr, ErrNoGroup)
		if lost {
			role, deps = RoleStaff, nil
		}
		if u.ID == me && role != RoleAdmin {
			return nil, nil, ErrSelfAdmin
		}
		if role == u.Role && slices.Equal(deps, []string(u.Deps)) && !lost {
			continue
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET role = $2, updated_at = now() WHERE id = $1`, u.ID, role); err != nil {
			return nil, nil, fmt.Errorf("update oidc user: %w", err)
		}
		if err := setUserDepartments(ctx, tx, u.ID, deps); err != nil {
			return nil, nil, err
		}
		if lost {
			if err := endSessions(ctx, tx, u.ID); err != nil {
				return nil, nil, err
			}
			revoked = append(revoked, u.ID)
			continue
		}
		changed = append(changed, u.ID)
	}
	return changed, revoked, nil
}

// lockOIDCMapping serialises changes of the mapping with each other and
// with sign-ins (which hold the row FOR SHARE while they write the user).
func lockOIDCMapping(ctx context.Context, tx *sqlx.Tx) error {
	if _, err := tx.ExecContext(ctx, `SELECT 1 FROM oidc_mapping_state FOR UPDATE`); err != nil {
		return fmt.Errorf("lock oidc mapping: %w", err)
	}
	return nil
}

// OIDCSync is what a change of the mapping did to the provider's users.
type OIDCSync struct {
	ID      int64   // the mapping's id
	Changed []int64 // users whose role or departments changed
	Revoked []int64 // users who lost access
}

// SaveOIDCGroup creates (old.ID 0) or changes a mapping on behalf of admin
// by and applies the mapping to the provider's users, audited, in one
// transaction. old is the mapping as loaded (for the audit row). Errors:
// ErrExists (the group's name), ErrSelfAdmin, ErrInvalid (an unknown
// department), ErrNotFound.
func (s *Store) SaveOIDCGroup(ctx context.Context, by int64, old OIDCGroupRow, g OIDCGroup) (OIDCSync, error) {
	var out OIDCSync
	err := db.InTx(ctx, s.db, func(tx *sqlx.Tx) error {
		if err := lockOIDCMapping(ctx, tx); err != nil {
			return err
		}
		id := old.ID
		if id == 0 {
			if err := tx.GetContext(ctx, &id, `INSERT INTO oidc_groups (group_name, role) VALUES ($1, $2) RETURNING id`, g.Group, g.Role); err != nil {
				if db.IsUniqueViolation(err) {
					return fmt.Errorf("%w: group %q", ErrExists, g.Group)
				}
				return fmt.Errorf("insert oidc group: %w", err)
			}
		} else {
			res, err := tx.ExecContext(ctx, `UPDATE oidc_groups SET group_name = $2, role = $3, updated_at = now() WHERE id = $1`, id, g.Group, g.Role)
			if err != nil {
				if db.IsUniqueViolation(err) {
					return fmt.Errorf("%w: group %q", ErrExists, g.Group)
				}
				return fmt.Errorf("update oidc group: %w", err)
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return ErrNotFound
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM oidc_group_departments WHERE group_id = $1`, id); err != nil {
				return fmt.Errorf("clear oidc group departments: %w", err)
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO oidc_group_departments (group_id, department_id) SELECT $1, unnest($2::text[])`,
			id, pq.StringArray(g.Departments)); err != nil {
			if db.IsForeignKeyViolation(err) {
				return fmt.Errorf("%w: unknown department", ErrInvalid)
			}
			return fmt.Errorf("insert oidc group departments: %w", err)
		}
		changed, revoked, err := syncOIDCUsers(ctx, tx, by)
		if err != nil {
			return err
		}
		action, details := "oidc_group.create", map[string]any{"group": g.Group, "role": g.Role, "departments": g.Departments}
		if old.ID != 0 {
			action = "oidc_group.update"
			details["before"] = map[string]any{"group": old.Group, "role": old.Role, "departments": []string(old.Departments)}
		}
		details["users_changed"], details["users_revoked"] = changed, revoked
		out = OIDCSync{ID: id, Changed: changed, Revoked: revoked}
		return audit.Record(ctx, tx, by, action, "oidc_group", strconv.FormatInt(id, 10), details)
	})
	if err != nil {
		return OIDCSync{}, err
	}
	return out, nil
}

// DeleteOIDCGroup deletes the mapping r on behalf of admin by and applies
// the mapping to the provider's users, audited, in one transaction.
// Errors: ErrNotFound, ErrSelfAdmin.
func (s *Store) DeleteOIDCGroup(ctx context.Context, by int64, r OIDCGroupRow) (OIDCSync, error) {
	var out OIDCSync
	err := db.InTx(ctx, s.db, func(tx *sqlx.Tx) error {
		if err := lockOIDCMapping(ctx, tx); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM oidc_groups WHERE id = $1`, r.ID)
		if err != nil {
			return fmt.Errorf("delete oidc group: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		changed, revoked, err := syncOIDCUsers(ctx, tx, by)
		if err != nil {
			return err
		}
		out = OIDCSync{ID: r.ID, Changed: changed, Revoked: revoked}
		return audit.Record(ctx, tx, by, "oidc_group.delete", "oidc_group", strconv.FormatInt(r.ID, 10), map[string]any{
			"group": r.Group, "role": r.Role, "departments": []string(r.Departments),
			"users_changed": changed, "users_revoked": revoked,
		})
	})
	if err != nil {
		return OIDCSync{}, err
	}
	return out, nil
}
