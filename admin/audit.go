package admin

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/jmoiron/sqlx"

	auditlog "citybot/internal/audit"
)

// AuditEntry is one row of the audit log.
type AuditEntry struct {
	ID         int64           `db:"id"`
	UserID     *int64          `db:"user_id"`
	UserName   *string         `db:"user_name"`
	UserEmail  *string         `db:"user_email"`
	Action     string          `db:"action"`
	ObjectType string          `db:"object_type"`
	ObjectID   string          `db:"object_id"`
	Details    json.RawMessage `db:"details"`
	At         time.Time       `db:"at"`
}

// DetailsText is the details as compact JSON ("" when empty).
func (e AuditEntry) DetailsText() string { return auditlog.DetailsText(e.Details) }

// ActionText is the action in words ("Fall angesehen"), else its code.
func (p *page) ActionText(action string) string {
	if k := "audit.act." + action; p.cat.known(k) {
		return p.T(k)
	}
	return action
}

// DetailPairs are the details as "key: value" pairs, sorted by key;
// nested values stay JSON.
func (e AuditEntry) DetailPairs() []string {
	var m map[string]any
	if err := json.Unmarshal(e.Details, &m); err != nil || len(m) == 0 {
		if t := e.DetailsText(); t != "" {
			return []string{t}
		}
		return nil
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]string, 0, len(keys))
	for _, k := range keys {
		var v string
		switch x := m[k].(type) {
		case string:
			v = x
		case nil:
			v = "–"
		default:
			b, _ := json.Marshal(x)
			v = string(b)
		}
		out = append(out, k+": "+v)
	}
	return out
}

// RecordAudit writes one audit log row with q (the database or a
// transaction, so an action and its record can commit together). userID 0
// means the system.
func RecordAudit(ctx context.Context, q sqlx.ExecerContext, userID int64, action, objectType, objectID string, details map[string]any) error {
	return auditlog.Record(ctx, q, userID, action, objectType, objectID, details)
}

// audit records an action after it happened; a failure is logged, not
// shown (the action itself succeeded).
func (s *Server) audit(ctx context.Context, userID int64, action, objectType, objectID string, details map[string]any) {
	if err := RecordAudit(context.WithoutCancel(ctx), s.db, userID, action, objectType, objectID, details); err != nil {
		s.log.Error("audit log", "action", action, "object_type", objectType, "object_id", objectID, "err", err)
	}
}

const auditPageSize = 50

type auditFilter struct {
	User       string // email (substring)
	Action     string // prefix
	ObjectType string
	ObjectID   string
	From, To   string // dates YYYY-MM-DD
	Before     int64  // keyset cursor: entries with id < Before
}

// listAudit returns one page of entries, newest first, and the cursor of
// the next page (0 when this is the last).
func (s *Server) listAudit(ctx context.Context, f auditFilter) ([]AuditEntry, int64, error) {
	where := []string{"true"}
	var args []any
	arg := func(v any) string { args = append(args, v); return "$" + strconv.Itoa(len(args)) }
	if f.User != "" {
		where = append(where, "u.email LIKE "+arg("%"+escapeLike(strings.ToLower(f.User))+"%"))
	}
	if f.Action != "" {
		where = append(where, "a.action LIKE "+arg(escapeLike(f.Action)+"%"))
	}
	if f.ObjectType != "" {
		where = append(where, "a.object_type = "+arg(f.ObjectType))
	}
	if f.ObjectID != "" {
		where = append(where, "a.object_id = "+arg(f.ObjectID))
	}
	if t, err := time.ParseInLocation("2006-01-02", f.From, s.loc()); err == nil {
		where = append(where, "a.at >= "+arg(t))
	}
	if t, err := time.ParseInLocation("2006-01-02", f.To, s.loc()); err == nil {
		where = append(where, "a.at < "+arg(t.AddDate(0, 0, 1)))
	}
	if f.Before > 0 {
		where = append(where, "a.id < "+arg(f.Before))
	}
	q := `SELECT a.id, a.user_id, u.name AS user_name, u.email AS user_email, a.action, a.object_type, a.object_id, a.details, a.at
		FROM audit_log a LEFT JOIN users u ON u.id = a.user_id
		WHERE ` + strings.Join(where, " AND ") + `
		ORDER BY a.id DESC LIMIT ` + strconv.Itoa(auditPageSize+1)
	var out []AuditEntry
	if err := s.db.SelectContext(ctx, &out, q, args...); err != nil {
		return nil, 0, fmt.Errorf("list audit log: %w", err)
	}
	var next int64
	if len(out) > auditPageSize {
		out = out[:auditPageSize]
		next = out[len(out)-1].ID
	}
	return out, next, nil
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

func (s *Server) auditPage(c *gin.Context) {
	f := auditFilter{
		User:       strings.TrimSpace(c.Query("user")),
		Action:     strings.TrimSpace(c.Query("action")),
		ObjectType: strings.TrimSpace(c.Query("object_type")),
		ObjectID:   strings.TrimSpace(c.Query("object_id")),
		From:       c.Query("from"),
		To:         c.Query("to"),
	}
	f.Before, _ = strconv.ParseInt(c.Query("before"), 10, 64)
	entries, next, err := s.listAudit(c.Request.Context(), f)
	if err != nil {
		s.fail(c, err)
		return
	}
	p := s.page(c, "audit.title")
	p.Nav = "audit"
	nextURL := ""
	if next > 0 {
		v := c.Request.URL.Query()
		v.Set("before", strconv.FormatInt(next, 10))
		nextURL = "/admin/audit?" + v.Encode()
	}
	p.Data = map[string]any{"Filter": f, "Entries": entries, "Next": nextURL}
	s.render(c, http.StatusOK, "audit", p)
}
