package admin

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	auditlog "citybot/internal/audit"
)

// AuditEntry is one row of the audit log.
type AuditEntry struct{ auditlog.Entry }

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
	af := auditlog.Filter{
		UserEmail:    strings.ToLower(f.User),
		ActionPrefix: f.Action,
		ObjectID:     f.ObjectID,
		Before:       f.Before,
		Limit:        auditPageSize,
	}
	if f.ObjectType != "" {
		af.ObjectTypes = []string{f.ObjectType}
	}
	if t, err := time.ParseInLocation("2006-01-02", f.From, s.loc()); err == nil {
		af.From = t
	}
	if t, err := time.ParseInLocation("2006-01-02", f.To, s.loc()); err == nil {
		af.To = t.AddDate(0, 0, 1)
	}
	es, next, err := auditlog.List(ctx, s.db, af)
	if err != nil {
		return nil, 0, err
	}
	out := make([]AuditEntry, len(es))
	for i, e := range es {
		out[i] = AuditEntry{e}
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
