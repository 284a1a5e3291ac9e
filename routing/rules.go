package routing

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"citybot/internal/audit"
	"citybot/internal/db"
	"citybot/internal/pglisten"
	"citybot/staff"
)

// RuleRecord is a stored routing rule (Rule is what the Classifier uses).
type RuleRecord struct {
	Rule
	DepartmentName string
	Active         bool
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

type ruleRow struct {
	ID             int64     `db:"id"`
	Department     string    `db:"department_id"`
	DepartmentName string    `db:"department_name"`
	Pattern        string    `db:"pattern"`
	Priority       int       `db:"priority"`
	Active         bool      `db:"active"`
	CreatedAt      time.Time `db:"created_at"`
	UpdatedAt      time.Time `db:"updated_at"`
}

func (r ruleRow) record() RuleRecord {
	return RuleRecord{
		Rule:           Rule{ID: r.ID, Department: r.Department, Pattern: r.Pattern, Priority: r.Priority},
		DepartmentName: r.DepartmentName,
		Active:         r.Active,
		CreatedAt:      r.CreatedAt,
		UpdatedAt:      r.UpdatedAt,
	}
}

const ruleSelect = `SELECT r.id, r.department_id, d.name AS department_name, r.pattern, r.priority, r.active, r.created_at, r.updated_at
	FROM routing_rules r JOIN departments d ON d.id = r.department_id`

// Rule limits.
const (
	MaxRulePatternLength = 200
	MaxRulePriority      = 1000
)

// RuleStore keeps the admin-defined routing rules. Changes NOTIFY
// "routing_changed" (table routing_rules), so every instance can rebuild its
// classifier (LiveRouter.Run); they do not touch the FAQ index. Only admins
// change rules: every change takes the acting admin and writes its audit
// row in the change's transaction.
type RuleStore struct {
	db *sqlx.DB
}

// NewRuleStore returns a RuleStore on d.
func NewRuleStore(d *sqlx.DB) *RuleStore { return &RuleStore{db: d} }

func validRule(r Rule) (Rule, error) {
	r.Pattern = strings.Join(strings.Fields(r.Pattern), " ")
	switch {
	case r.Pattern == "":
		return r, fmt.Errorf("routing rule without pattern: %w", ErrInvalid)
	case utf8.RuneCountInString(r.Pattern) > MaxRulePatternLength:
		return r, fmt.Errorf("routing rule pattern longer than %d characters: %w", MaxRulePatternLength, ErrInvalid)
	case r.Priority < -MaxRulePriority || r.Priority > MaxRulePriority:
		return r, fmt.Errorf("routing rule priority %d (want -%d..%d): %w", r.Priority, MaxRulePriority, MaxRulePriority, ErrInvalid)
	case r.Department == "":
		return r, fmt.Errorf("routing rule without department: %w", ErrInvalid)
	}
	return r, nil
}

// List returns all rules, by department name, then priority (highest first).
func (s *RuleStore) List(ctx context.Context) ([]RuleRecord, error) {
	var rows []ruleRow
	if err := s.db.SelectContext(ctx, &rows, ruleSelect+` ORDER BY d.name, r.priority DESC, r.id`); err != nil {
		return nil, fmt.Errorf("list routing rules: %w", err)
	}
	out := make([]RuleRecord, len(rows))
	for i, r := range rows {
		out[i] = r.record()
	}
	return out, nil
}

// Active returns the active rules for the Classifier, highest priority first.
func (s *RuleStore) Active(ctx context.Context) ([]Rule, error) {
	var rows []ruleRow
	if err := s.db.SelectContext(ctx, &rows, ruleSelect+` WHERE r.active ORDER BY r.priority DESC, r.id`); err != nil {
		return nil, fmt.Errorf("list active routing rules: %w", err)
	}
	out := make([]Rule, len(rows))
	for i, r := range rows {
		out[i] = r.record().Rule
	}
	return out, nil
}

// Get returns one rule, or ErrNotFound.
func (s *RuleStore) Get(ctx context.Context, id int64) (RuleRecord, error) {
	var r ruleRow
	err := s.db.GetContext(ctx, &r, ruleSelect+` WHERE r.id = $1`, id)
	if db.IsNoRows(err) {
		return RuleRecord{}, fmt.Errorf("routing rule %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return RuleRecord{}, fmt.Errorf("get routing rule: %w", err)
	}
	return r.record(), nil
}

// ruleDetails are what the audit log records of a rule.
func ruleDetails(r Rule, active bool) map[string]any {
	return map[string]any{"pattern": r.Pattern, "department": r.Department, "priority": r.Priority, "active": active}
}

func checkRuleAdmin(by staff.Principal) error {
	if !by.Valid() || !by.IsAdmin() {
		return fmt.Errorf("routing rules by user %d with role %q: %w", by.ID, by.Role, ErrForbidden)
	}
	return nil
}

// inTx runs fn in a transaction; every change and its audit row commit
// together.
func (s *RuleStore) inTx(ctx context.Context, by staff.Principal, fn func(tx *sqlx.Tx) error) error {
	if err := checkRuleAdmin(by); err != nil {
		return err
	}
	return db.InTx(ctx, s.db, fn)
}

// lockRule locks a rule for a change, or ErrNotFound.
func lockRule(ctx context.Context, tx *sqlx.Tx, id int64) (RuleRecord, error) {
	var r ruleRow
	err := tx.GetContext(ctx, &r, ruleSelect+` WHERE r.id = $1 FOR UPDATE OF r`, id)
	if db.IsNoRows(err) {
		return RuleRecord{}, fmt.Errorf("routing rule %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return RuleRecord{}, fmt.Errorf("lock routing rule: %w", err)
	}
	return r.record(), nil
}

// Create stores a new rule (r.ID is ignored) for the admin by, with the
// audit row "rule.create" in the same transaction. An unknown department
// is ErrInvalid; anyone but an admin ErrForbidden.
func (s *RuleStore) Create(ctx context.Context, by staff.Principal, r Rule, active bool) (RuleRecord, error) {
	r, err := validRule(r)
	if err != nil {
		return RuleRecord{}, err
	}
	err = s.inTx(ctx, by, func(tx *sqlx.Tx) error {
		if err := tx.GetContext(ctx, &r.ID, `
			INSERT INTO routing_rules (department_id, pattern, priority, active) VALUES ($1, $2, $3, $4) RETURNING id`,
			r.Department, r.Pattern, r.Priority, active); err != nil {
			if db.IsForeignKeyViolation(err) {
				return fmt.Errorf("routing rule: department %q: %w", r.Department, ErrInvalid)
			}
			return fmt.Errorf("create routing rule: %w", err)
		}
		return audit.Record(ctx, tx, by.ID, "rule.create", "routing_rule", strconv.FormatInt(r.ID, 10), ruleDetails(r, active))
	})
	if err != nil {
		return RuleRecord{}, err
	}
	return s.Get(ctx, r.ID)
}

// Update changes a rule, or ErrNotFound; the audit row "rule.update" (with
// the rule before) commits with it.
func (s *RuleStore) Update(ctx context.Context, by staff.Principal, r Rule, active bool) error {
	r, err := validRule(r)
	if err != nil {
		return err
	}
	return s.inTx(ctx, by, func(tx *sqlx.Tx) error {
		old, err := lockRule(ctx, tx, r.ID)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `
			UPDATE routing_rules SET department_id = $2, pattern = $3, priority = $4, active = $5, updated_at = now()
			WHERE id = $1`, r.ID, r.Department, r.Pattern, r.Priority, active); err != nil {
			if db.IsForeignKeyViolation(err) {
				return fmt.Errorf("routing rule: department %q: %w", r.Department, ErrInvalid)
			}
			return fmt.Errorf("update routing rule: %w", err)
		}
		d := ruleDetails(r, active)
		d["before"] = ruleDetails(old.Rule, old.Active)
		return audit.Record(ctx, tx, by.ID, "rule.update", "routing_rule", strconv.FormatInt(r.ID, 10), d)
	})
}

// SetActive switches a rule on or off, or ErrNotFound; the audit row
// "rule.activate" or "rule.deactivate" commits with it.
func (s *RuleStore) SetActive(ctx context.Context, by staff.Principal, id int64, active bool) error {
	return s.inTx(ctx, by, func(tx *sqlx.Tx) error {
		old, err := lockRule(ctx, tx, id)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE routing_rules SET active = $2, updated_at = now() WHERE id = $1`, id, active); err != nil {
			return fmt.Errorf("switch routing rule: %w", err)
		}
		action := "rule.deactivate"
		if active {
			action = "rule.activate"
		}
		return audit.Record(ctx, tx, by.ID, action, "routing_rule", strconv.FormatInt(id, 10), ruleDetails(old.Rule, active))
	})
}

// Delete removes a rule, or ErrNotFound; the audit row "rule.delete" (with
// the rule) commits with it.
func (s *RuleStore) Delete(ctx context.Context, by staff.Principal, id int64) error {
	return s.inTx(ctx, by, func(tx *sqlx.Tx) error {
		old, err := lockRule(ctx, tx, id)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM routing_rules WHERE id = $1`, id); err != nil {
			return fmt.Errorf("delete routing rule: %w", err)
		}
		return audit.Record(ctx, tx, by.ID, "rule.delete", "routing_rule", strconv.FormatInt(id, 10), ruleDetails(old.Rule, old.Active))
	})
}

// FAQSource gives the classifier the published FAQ entries. Routing does
// not import faq: the wiring adapts faq's store (bot.RoutingFAQ).
type FAQSource interface {
	PublishedEntries(ctx context.Context) ([]FAQEntry, error)
}

// FAQFunc is a function as a FAQSource.
type FAQFunc func(ctx context.Context) ([]FAQEntry, error)

// PublishedEntries calls f.
func (f FAQFunc) PublishedEntries(ctx context.Context) ([]FAQEntry, error) { return f(ctx) }

// LoadDepartments returns what the classifier knows of every department
// (name, description, keywords), by name.
func LoadDepartments(ctx context.Context, d sqlx.QueryerContext) ([]Department, error) {
	var rows []struct {
		ID          string         `db:"id"`
		Name        string         `db:"name"`
		Description string         `db:"description"`
		Keywords    pq.StringArray `db:"keywords"`
	}
	if err := sqlx.SelectContext(ctx, d, &rows, `SELECT id, name, description, keywords FROM departments ORDER BY name`); err != nil {
		return nil, fmt.Errorf("list departments: %w", err)
	}
	out := make([]Department, len(rows))
	for i, r := range rows {
		out[i] = Department{ID: r.ID, Name: r.Name, Description: r.Description, Keywords: []string(r.Keywords)}
		if out[i].Keywords == nil {
			out[i].Keywords = []string{}
		}
	}
	return out, nil
}

// LoadClassifier builds a Classifier from the database: the departments
// (names, descriptions, keywords), the published FAQ entries of faqs (their
// questions, variants and tags as department vocabulary; nil: none), the
// active rules and the fallback department (is_fallback; else "zentrale";
// else the first).
func LoadClassifier(ctx context.Context, d *sqlx.DB, faqs FAQSource) (*Classifier, error) {
	depts, err := LoadDepartments(ctx, d)
	if err != nil {
		return nil, err
	}
	rules, err := NewRuleStore(d).Active(ctx)
	if err != nil {
		return nil, err
	}
	var fallback string
	if err := d.GetContext(ctx, &fallback, `
		SELECT id FROM departments ORDER BY is_fallback DESC, (id = 'zentrale') DESC, name LIMIT 1`); err != nil && !db.IsNoRows(err) {
		return nil, fmt.Errorf("fallback department: %w", err)
	}
	// The published FAQ entries teach the classifier each department's
	// vocabulary (what it answers) next to its keywords and description.
	var entries []FAQEntry
	if faqs != nil {
		if entries, err = faqs.PublishedEntries(ctx); err != nil {
			return nil, err
		}
	}
	return NewClassifierWithFAQ(depts, rules, fallback, entries), nil
}

// LiveRouter is a Router over the database's current departments and rules.
// Run reloads it when the rules change (NOTIFY "routing_changed", on any
// instance); whoever owns the departments and the FAQ calls Reload when
// they change (faq.Live.OnReload). It is safe for concurrent use.
type LiveRouter struct {
	db       *sqlx.DB
	faqs     FAQSource
	cur      atomic.Pointer[Classifier]
	listener *pglisten.Listener
}

// NewLiveRouter loads the classifier once; faqs gives it the published FAQ
// entries (see LoadClassifier).
func NewLiveRouter(ctx context.Context, d *sqlx.DB, faqs FAQSource) (*LiveRouter, error) {
	l := &LiveRouter{db: d, faqs: faqs}
	if err := l.Reload(ctx); err != nil {
		return nil, err
	}
	return l, nil
}

// Listen subscribes to routing_changed on its own connection to url. Run
// reloads once at start, so that a change between NewLiveRouter's load and
// Listen is not missed.
func (l *LiveRouter) Listen(url string, logger *slog.Logger) error {
	listener, err := pglisten.New(url, logger, "routing_changed")
	if err != nil {
		return err
	}
	l.listener = listener
	return nil
}

// Run reloads the classifier on every routing_changed notification until
// ctx is done. It reloads once at start (a rule saved between the first
// load and Listen would be missed otherwise).
func (l *LiveRouter) Run(ctx context.Context) error {
	if l.listener == nil {
		return errors.New("routing: LiveRouter.Run without Listen")
	}
	if err := l.Reload(ctx); err != nil && ctx.Err() == nil {
		return err
	}
	return l.listener.Run(ctx, l.Reload)
}

// Reload rebuilds the classifier; on error the previous one stays.
func (l *LiveRouter) Reload(ctx context.Context) error {
	c, err := LoadClassifier(ctx, l.db, l.faqs)
	if err != nil {
		return err
	}
	l.cur.Store(c)
	return nil
}

// Classifier is the current classifier.
func (l *LiveRouter) Classifier() *Classifier { return l.cur.Load() }

// Rank ranks with the current classifier.
func (l *LiveRouter) Rank(question string, candidates []Candidate) []string {
	return l.cur.Load().Rank(question, candidates)
}
