package staff

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/mail"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"golang.org/x/crypto/bcrypt"

	"citybot/internal/audit"
	"citybot/internal/db"
)

// MinPasswordLen is the shortest password accepted.
const MinPasswordLen = 10

// noPassword is the password hash of a user who has none (invited, or
// signing in through OpenID Connect): no password matches it ("!" never
// matches a bcrypt hash).
const noPassword = "!"

// User is a stored user as the admin's user list shows it.
type User struct {
	Principal
	Active bool `db:"active"`
	// MustChange: an admin set the password; the user must choose their
	// own before anything else.
	MustChange bool `db:"must_change_password"`
	// InvitedUntil is when the user's open invitation link expires (nil:
	// none); InvitePending: invited and no password chosen yet.
	InvitedUntil  *time.Time `db:"invited_until"`
	InvitePending bool       `db:"invite_pending"`
}

type userRow struct {
	User
	Deps pq.StringArray `db:"departments"`
}

func (r userRow) user() User {
	u := r.User
	u.Departments = []string(r.Deps)
	return u
}

const userSelect = `SELECT u.id, u.email, u.name, u.role, u.active, u.language, u.must_change_password,
	(SELECT max(i.expires_at) FROM user_invitations i WHERE i.user_id = u.id AND i.used_at IS NULL AND i.revoked_at IS NULL AND i.expires_at > now()) AS invited_until,
	(u.password_hash = '!' AND EXISTS (SELECT 1 FROM user_invitations i WHERE i.user_id = u.id)) AS invite_pending,
	COALESCE(ARRAY(SELECT ud.department_id FROM user_departments ud WHERE ud.user_id = u.id ORDER BY ud.department_id), '{}') AS departments
	FROM users u`

// ListUsers returns all users, the active ones first, by name.
func (s *Store) ListUsers(ctx context.Context) ([]User, error) {
	var rows []userRow
	if err := s.db.SelectContext(ctx, &rows, userSelect+` ORDER BY u.active DESC, u.name, u.id`); err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	out := make([]User, len(rows))
	for i, r := range rows {
		out[i] = r.user()
	}
	return out, nil
}

// GetUser returns the user, or ErrNotFound.
func (s *Store) GetUser(ctx context.Context, id int64) (User, error) {
	var r userRow
	if err := s.db.GetContext(ctx, &r, userSelect+` WHERE u.id = $1`, id); err != nil {
		if db.IsNoRows(err) {
			return User{}, fmt.Errorf("user %d: %w", id, ErrNotFound)
		}
		return User{}, fmt.Errorf("get user: %w", err)
	}
	return r.user(), nil
}

// CountUsers returns how many users there are.
func (s *Store) CountUsers(ctx context.Context) (int, error) {
	var n int
	if err := s.db.GetContext(ctx, &n, `SELECT count(*) FROM users`); err != nil {
		return 0, fmt.Errorf("count users: %w", err)
	}
	return n, nil
}

// EmailTaken reports whether a user has the e-mail address.
func (s *Store) EmailTaken(ctx context.Context, email string) (bool, error) {
	var taken bool
	if err := s.db.GetContext(ctx, &taken, `SELECT EXISTS (SELECT 1 FROM users WHERE email = $1)`, NormalizeEmail(email)); err != nil {
		return false, fmt.Errorf("check email: %w", err)
	}
	return taken, nil
}

// CanHandle reports whether user userID may be assigned a case of
// department dept: an active admin, or an active user of the department.
// q is the database or the caller's transaction.
func CanHandle(ctx context.Context, q sqlx.QueryerContext, userID int64, dept string) (bool, error) {
	var ok bool
	if err := sqlx.GetContext(ctx, q, &ok, `
		SELECT EXISTS (SELECT 1 FROM users u WHERE u.id = $1 AND u.active AND (u.role = 'admin'
			OR EXISTS (SELECT 1 FROM user_departments ud WHERE ud.user_id = u.id AND ud.department_id = $2)))`,
		userID, dept); err != nil {
		return false, fmt.Errorf("check assignee: %w", err)
	}
	return ok, nil
}

// CreateUser creates an active user with a bcrypt password hash and the
// given departments (ids), as `citybot user add` and the demo start-up do.
// Errors: ErrInvalid (bad email, role, weak password, unknown department),
// ErrExists (email taken).
func CreateUser(ctx context.Context, d *sqlx.DB, email, name, password, role string, departments []string) (int64, error) {
	return New(d).CreateUser(ctx, email, name, password, role, departments)
}

// CreateUser creates an active user with a password; see the function
// CreateUser.
func (s *Store) CreateUser(ctx context.Context, email, name, password, role string, departments []string) (int64, error) {
	email = NormalizeEmail(email)
	name = strings.TrimSpace(name)
	if a, err := mail.ParseAddress(email); err != nil || a.Address != email {
		return 0, fmt.Errorf("%w: email %q", ErrInvalid, email)
	}
	if name == "" {
		return 0, fmt.Errorf("%w: name is empty", ErrInvalid)
	}
	if !ValidRole(role) {
		return 0, fmt.Errorf("%w: role %q (want admin, editor or staff)", ErrInvalid, role)
	}
	if key := PasswordProblem(password, email, name); key != "" {
		return 0, fmt.Errorf("%w: weak password: %s", ErrInvalid, passwordProblemText[key])
	}
	hash, err := s.hashPassword(password)
	if err != nil {
		return 0, err
	}
	var id int64
	err = db.InTx(ctx, s.db, func(tx *sqlx.Tx) error {
		if err := tx.GetContext(ctx, &id, `INSERT INTO users (email, name, password_hash, role) VALUES ($1, $2, $3, $4) RETURNING id`,
			email, name, hash, role); err != nil {
			if db.IsUniqueViolation(err) {
				return fmt.Errorf("%w: email %s", ErrExists, email)
			}
			return fmt.Errorf("insert user: %w", err)
		}
		// No audit row, as before: the command line and the demo start-up
		// are not a signed-in user's action.
		return setUserDepartments(ctx, tx, id, departments)
	})
	if err != nil {
		return 0, err
	}
	return id, nil
}

// UserUpdate is what an admin changes of a user.
type UserUpdate struct {
	ID          int64
	Name        string
	Role        string
	Language    string
	Active      bool
	Departments []string
	// Password, when not empty, is set; the user must change it at the
	// next sign-in unless they set it for themselves.
	Password string
}

// UpdateUser changes a user on behalf of admin by, with its audit row, in
// one transaction. A deactivated user, or one whose password was set,
// loses their sessions. Errors: ErrNotFound, ErrInvalid (a weak password,
// an unknown department).
func (s *Store) UpdateUser(ctx context.Context, by int64, u UserUpdate) error {
	var hash string
	if u.Password != "" {
		var err error
		if hash, err = s.hashPassword(u.Password); err != nil {
			return err
		}
	}
	return db.InTx(ctx, s.db, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE users SET name = $2, role = $3, language = $4, active = $5,
			password_hash = CASE WHEN $6 = '' THEN password_hash ELSE $6 END,
			must_change_password = CASE WHEN $6 = '' THEN must_change_password ELSE $7 END,
			updated_at = now() WHERE id = $1`,
			u.ID, u.Name, u.Role, u.Language, u.Active, hash, u.ID != by)
		if err != nil {
			return fmt.Errorf("update user: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("user %d: %w", u.ID, ErrNotFound)
		}
		if err := setUserDepartments(ctx, tx, u.ID, u.Departments); err != nil {
			return err
		}
		if !u.Active || hash != "" {
			if err := endSessions(ctx, tx, u.ID); err != nil {
				return err
			}
		}
		if !u.Active && s.onDeactivate != nil {
			if err := s.onDeactivate(ctx, tx, by, u.ID); err != nil {
				return err
			}
		}
		return audit.Record(ctx, tx, by, "user.update", "user", strconv.FormatInt(u.ID, 10), map[string]any{
			"role": u.Role, "active": u.Active, "departments": u.Departments, "password_changed": hash != "",
			"must_change_password": hash != "" && u.ID != by,
		})
	})
}

// SetLanguage stores the user's UI language.
func (s *Store) SetLanguage(ctx context.Context, userID int64, lang string) error {
	if _, err := s.db.ExecContext(ctx, `UPDATE users SET language = $1, updated_at = now() WHERE id = $2`, lang, userID); err != nil {
		return fmt.Errorf("set language: %w", err)
	}
	return nil
}

func setUserDepartments(ctx context.Context, tx *sqlx.Tx, userID int64, departments []string) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM user_departments WHERE user_id = $1`, userID); err != nil {
		return fmt.Errorf("clear user departments: %w", err)
	}
	for _, dep := range departments {
		if _, err := tx.ExecContext(ctx, `INSERT INTO user_departments (user_id, department_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`, userID, dep); err != nil {
			if db.IsForeignKeyViolation(err) {
				return fmt.Errorf("%w: unknown department %q", ErrInvalid, dep)
			}
			return fmt.Errorf("insert user department: %w", err)
		}
	}
	return nil
}

// hashPassword hashes pw at the store's cost; ErrInvalid when it is too
// short or longer than bcrypt takes.
func (s *Store) hashPassword(pw string) (string, error) {
	if len([]rune(pw)) < MinPasswordLen {
		return "", fmt.Errorf("%w: password shorter than %d characters", ErrInvalid, MinPasswordLen)
	}
	if len(pw) > 72 {
		return "", fmt.Errorf("%w: password longer than 72 bytes", ErrInvalid)
	}
	h, err := bcrypt.GenerateFromPassword([]byte(pw), s.cost)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return string(h), nil
}

// RandomToken returns 32 random bytes, base64url.
func RandomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return base64.RawURLEncoding.EncodeToString(b)
}

// TokenHash is the stored form of a session or invitation token.
func TokenHash(tok string) []byte {
	h := sha256.Sum256([]byte(tok))
	return h[:]
}

// Colleague is a user a case can be assigned to.
type Colleague struct {
	ID   int64  `db:"id"`
	Name string `db:"name"`
}

// Colleagues returns the users who may be assigned a case of department
// dept (as CanHandle decides), by name.
func (s *Store) Colleagues(ctx context.Context, dept string) ([]Colleague, error) {
	var out []Colleague
	if err := s.db.SelectContext(ctx, &out, `
		SELECT u.id, u.name FROM users u
		WHERE u.active AND (u.role = 'admin' OR EXISTS (SELECT 1 FROM user_departments ud WHERE ud.user_id = u.id AND ud.department_id = $1))
		ORDER BY u.name, u.id`, dept); err != nil {
		return nil, fmt.Errorf("list colleagues: %w", err)
	}
	return out, nil
}
