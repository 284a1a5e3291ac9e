package fieldstaff

import (
	"context"
	"fmt"
	"html"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"citybot/internal/audit"
	"citybot/internal/db"
	"citybot/internal/i18n"
	"citybot/routing"
)

// Alert modes of a user for one of their departments.
const (
	AlertOff    = "off"
	AlertEach   = "each"   // one message per new case
	AlertDigest = "digest" // one message per digest interval listing the new cases
)

// AlertModes are the modes in the order forms offer them.
var AlertModes = []string{AlertOff, AlertEach, AlertDigest}

// AlertPrefix starts the callback data of an alert's buttons:
// "al:c:<case>" claims the case, "al:x:<case>" closes it.
const AlertPrefix = "al:"

// Defaults of AlertConfig.
const (
	DefaultAlertInterval  = 30 * time.Second
	DefaultDigestInterval = time.Hour
)

// alertLock is the transaction advisory lock key of an alert run: one
// instance at a time looks for new cases.
const alertLock = 0x6669656c64_13 // "field", issue 13

// AlertSetting is a user's alert mode for one of their departments.
type AlertSetting struct {
	Department     string `db:"department_id"`
	DepartmentName string `db:"department_name"`
	Mode           string `db:"mode"`
}

// AlertSettings returns the alert mode of each department of the user, by
// department name; a department without a choice is AlertOff.
func (s *Store) AlertSettings(ctx context.Context, userID int64) ([]AlertSetting, error) {
	return alertSettings(ctx, s.db, userID)
}

func alertSettings(ctx context.Context, q sqlx.QueryerContext, userID int64) ([]AlertSetting, error) {
	var out []AlertSetting
	if err := sqlx.SelectContext(ctx, q, &out, `
		SELECT ud.department_id, d.name AS department_name, coalesce(a.mode, 'off') AS mode
		FROM user_departments ud
		JOIN departments d ON d.id = ud.department_id
		LEFT JOIN fieldstaff_alert_settings a ON a.user_id = ud.user_id AND a.department_id = ud.department_id
		WHERE ud.user_id = $1
		ORDER BY d.name, ud.department_id`, userID); err != nil {
		return nil, fmt.Errorf("load alert settings: %w", err)
	}
	return out, nil
}

// SetAlertModes sets the user's alert modes (department id -> mode), the
// user acting for themselves, with one audit row of what changed. Every
// department must be one of the user's and every mode one of AlertModes
// (ErrInvalid, nothing changes). Switching a department on alerts the
// cases that wait from then on, not the backlog.
func (s *Store) SetAlertModes(ctx context.Context, userID int64, modes map[string]string) error {
	for dep, m := range modes {
		if !slices.Contains(AlertModes, m) {
			return fmt.Errorf("alert mode %q for %q: %w", m, dep, ErrInvalid)
		}
	}
	return db.InTx(ctx, s.db, func(tx *sqlx.Tx) error {
		if err := requireActive(ctx, tx, userID); err != nil {
			return err
		}
		var cur []AlertSetting
		if err := tx.SelectContext(ctx, &cur, `
			SELECT ud.department_id, '' AS department_name, coalesce(a.mode, 'off') AS mode
			FROM user_departments ud
			LEFT JOIN fieldstaff_alert_settings a ON a.user_id = ud.user_id AND a.department_id = ud.department_id
			WHERE ud.user_id = $1`, userID); err != nil {
			return fmt.Errorf("load alert settings: %w", err)
		}
		old := make(map[string]string, len(cur))
		for _, c := range cur {
			old[c.Department] = c.Mode
		}
		changed := map[string]any{}
		deps := make([]string, 0, len(modes))
		for dep := range modes {
			deps = append(deps, dep)
		}
		slices.Sort(deps)
		for _, dep := range deps {
			was, ok := old[dep]
			if !ok {
				return fmt.Errorf("department %q is not one of the user's: %w", dep, ErrInvalid)
			}
			if was == modes[dep] {
				continue
			}
			if _, err := tx.ExecContext(ctx, `
				INSERT INTO fieldstaff_alert_settings (user_id, department_id, mode) VALUES ($1, $2, $3)
				ON CONFLICT (user_id, department_id) DO UPDATE SET mode = EXCLUDED.mode, updated_at = now(),
					enabled_at = CASE WHEN fieldstaff_alert_settings.mode = 'off' THEN now()
						ELSE fieldstaff_alert_settings.enabled_at END`, userID, dep, modes[dep]); err != nil {
				return fmt.Errorf("save alert mode: %w", err)
			}
			changed[dep] = modes[dep]
		}
		if len(changed) == 0 {
			return nil
		}
		return audit.Record(ctx, tx, userID, "fieldstaff.alerts", "user", strconv.FormatInt(userID, 10), changed)
	})
}

// AlertConfig configures RunAlerts.
type AlertConfig struct {
	// PublicURL is the web UI's public base URL (CITYBOT_PUBLIC_URL); an
	// alert links to the case there. Empty: no link, the alert names the
	// case number to look up in the inbox.
	PublicURL string
	// Calendar reads the departments' office hours: outside them alerts
	// wait for the next opening. Nil: always open.
	Calendar *routing.Calendar
	// DigestInterval is the least time between two digests of a user and
	// department (default DefaultDigestInterval).
	DigestInterval time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// alertCandidate is a waiting case that a linked user chose alerts for and
// has not been alerted about.
type alertCandidate struct {
	CaseID         int64      `db:"case_id"`
	Department     string     `db:"department_id"`
	DepartmentName string     `db:"department_name"`
	OfficeHours    []byte     `db:"office_hours"`
	Subject        string     `db:"subject"`
	Preview        string     `db:"preview"`
	UserID         int64      `db:"user_id"`
	Mode           string     `db:"mode"`
	LastDigestAt   *time.Time `db:"last_digest_at"`
	ChatID         int64      `db:"chat_id"`
}

// maxAlertsPerRun bounds one run; the rest waits for the next.
const maxAlertsPerRun = 2000

// maxDigestLines bounds the cases one digest lists; more are named as a
// count (they are marked alerted all the same).
const maxDigestLines = 15

// RunAlerts queues the due alerts of new cases through the outbox, in one
// transaction under an advisory lock, so that two instances never alert
// twice; each case alerts each user at most once (fieldstaff_alerts). A
// user is alerted about the waiting cases of a department when their chat
// is linked, they are active and still in the department, and they chose
// each or digest for it; outside the department's office hours alerts
// wait for the next opening. It also copies the Telegram message ids of
// sent alerts. It returns how many alert messages it queued; 0 also when
// another instance held the lock.
func (s *Store) RunAlerts(ctx context.Context, cfg AlertConfig) (int, error) {
	now := time.Now()
	if cfg.Now != nil {
		now = cfg.Now()
	}
	every := cfg.DigestInterval
	if every <= 0 {
		every = DefaultDigestInterval
	}
	queued := 0
	err := db.InTx(ctx, s.db, func(tx *sqlx.Tx) error {
		var locked bool
		if err := tx.GetContext(ctx, &locked, `SELECT pg_try_advisory_xact_lock($1)`, int64(alertLock)); err != nil {
			return fmt.Errorf("alert lock: %w", err)
		}
		if !locked {
			return nil
		}
		if err := copyMessageIDs(ctx, tx, 0); err != nil {
			return err
		}
		var cands []alertCandidate
		if err := tx.SelectContext(ctx, &cands, `
			SELECT c.id AS case_id, c.department_id, d.name AS department_name, d.office_hours,
				c.subject, c.preview, a.user_id, a.mode, a.last_digest_at, l.chat_id
			FROM fieldstaff_alert_settings a
			JOIN users u ON u.id = a.user_id AND u.active
			JOIN user_departments ud ON ud.user_id = a.user_id AND ud.department_id = a.department_id
			JOIN fieldstaff_links l ON l.user_id = a.user_id
			JOIN departments d ON d.id = a.department_id
			JOIN cases c ON c.department_id = a.department_id AND c.status = 'waiting' AND c.waiting_since >= a.enabled_at
			WHERE a.mode <> 'off'
			  AND NOT EXISTS (SELECT 1 FROM fieldstaff_alerts x WHERE x.case_id = c.id AND x.user_id = a.user_id)
			ORDER BY a.user_id, c.department_id, c.id
			LIMIT $1`, maxAlertsPerRun); err != nil {
			return fmt.Errorf("find new cases: %w", err)
		}
		out := routing.NewStore(nil).WithTx(tx)
		open := map[string]bool{}
		isOpen := func(c alertCandidate) bool {
			o, ok := open[c.Department]
			if !ok {
				o = true
				if w, err := routing.ParseWeekHours(c.OfficeHours); err == nil && !w.Empty() && cfg.Calendar != nil {
					o = cfg.Calendar.IsOpen(w, now)
				}
				open[c.Department] = o
			}
			return o
		}
		for i := 0; i < len(cands); {
			// One user and department at a time.
			j := i
			for j < len(cands) && cands[j].UserID == cands[i].UserID && cands[j].Department == cands[i].Department {
				j++
			}
			group := cands[i:j]
			i = j
			first := group[0]
			if !isOpen(first) {
				continue // held until the department opens
			}
			if first.Mode == AlertDigest {
				if first.LastDigestAt != nil && now.Sub(*first.LastDigestAt) < every {
					continue
				}
				n, err := s.queueDigest(ctx, tx, out, cfg.PublicURL, group, now)
				if err != nil {
					return err
				}
				queued += n
				continue
			}
			for _, c := range group {
				n, err := s.queueAlerts(ctx, tx, out, []alertCandidate{c}, false, alertPayload(cfg.PublicURL, c))
				if err != nil {
					return err
				}
				queued += n
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return queued, nil
}

// queueDigest queues one digest of group (one user and department) and
// records its time; a digest of one case is a plain alert.
func (s *Store) queueDigest(ctx context.Context, tx *sqlx.Tx, out *routing.Store, publicURL string, group []alertCandidate, now time.Time) (int, error) {
	p := alertPayload(publicURL, group[0])
	digest := len(group) > 1
	if digest {
		p = digestPayload(publicURL, group)
	}
	n, err := s.queueAlerts(ctx, tx, out, group, digest, p)
	if err != nil {
		return 0, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE fieldstaff_alert_settings SET last_digest_at = $3
		WHERE user_id = $1 AND department_id = $2`, group[0].UserID, group[0].Department, now); err != nil {
		return 0, fmt.Errorf("record digest: %w", err)
	}
	return n, nil
}

// queueAlerts records the alerts of cs (one user) and queues p as the one
// message that carries them. Cases recorded meanwhile are left out; when
// none is left, nothing is sent.
func (s *Store) queueAlerts(ctx context.Context, tx *sqlx.Tx, out *routing.Store, cs []alertCandidate, digest bool, p routing.Payload) (int, error) {
	ids := make([]int64, len(cs))
	for i, c := range cs {
		ids[i] = c.CaseID
	}
	var fresh []int64
	if err := tx.SelectContext(ctx, &fresh, `
		INSERT INTO fieldstaff_alerts (case_id, user_id, chat_id, digest)
		SELECT unnest($1::bigint[]), $2, $3, $4
		ON CONFLICT (case_id, user_id) DO NOTHING
		RETURNING case_id`, pq.Int64Array(ids), cs[0].UserID, cs[0].ChatID, digest); err != nil {
		return 0, fmt.Errorf("record alerts: %w", err)
	}
	if len(fresh) == 0 {
		return 0, nil
	}
	oid, err := out.SendStaffChat(ctx, routing.ChannelTelegram, strconv.FormatInt(cs[0].ChatID, 10), p)
	if err != nil {
		return 0, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE fieldstaff_alerts SET outbox_id = $1
		WHERE user_id = $2 AND case_id = ANY($3::bigint[])`, oid, cs[0].UserID, pq.Int64Array(fresh)); err != nil {
		return 0, fmt.Errorf("record alert message: %w", err)
	}
	return 1, nil
}

// copyMessageIDs copies the Telegram message ids of sent alerts from the
// outbox (which forgets them after its retention) to fieldstaff_alerts;
// chatID 0 means every chat.
func copyMessageIDs(ctx context.Context, tx *sqlx.Tx, chatID int64) error {
	if _, err := tx.ExecContext(ctx, `
		UPDATE fieldstaff_alerts a SET message_id = o.external_message_id::bigint
		FROM outbox o
		WHERE a.message_id IS NULL AND a.outbox_id = o.id AND ($1 = 0 OR a.chat_id = $1)
		  AND o.status = 'sent' AND o.external_message_id ~ '^[0-9]{1,18}$'`, chatID); err != nil {
		return fmt.Errorf("copy alert message ids: %w", err)
	}
	return nil
}

// caseURL is the case's page in the web UI ("" without a public URL).
func caseURL(publicURL string, id int64) string {
	if publicURL == "" {
		return ""
	}
	return strings.TrimRight(publicURL, "/") + "/cases/" + strconv.FormatInt(id, 10)
}

// excerpt is the case's question (or latest message) in one line of at most
// n characters, HTML-escaped for Telegram.
func excerpt(c alertCandidate, n int) string {
	t := c.Subject
	if strings.TrimSpace(t) == "" {
		t = c.Preview
	}
	t = strings.Join(strings.Fields(strings.ToValidUTF8(t, "")), " ")
	if utf8.RuneCountInString(t) > n {
		r := []rune(t)
		t = strings.TrimSpace(string(r[:n-1])) + "…"
	}
	if t == "" {
		t = "–"
	}
	return html.EscapeString(t)
}

// alertPayload is the alert of one case: number, department, excerpt, the
// link to the case and the buttons.
func alertPayload(publicURL string, c alertCandidate) routing.Payload {
	var b strings.Builder
	fmt.Fprintf(&b, "🔔 <b>%s</b> · %s / <i>%s</i>\n", htmlText(i18n.Ref, "alert.new", c.CaseID),
		html.EscapeString(c.DepartmentName), htmlText("en", "alert.new", c.CaseID))
	fmt.Fprintf(&b, "„%s“\n", excerpt(c, 300))
	if u := caseURL(publicURL, c.CaseID); u != "" {
		fmt.Fprintf(&b, "<a href=\"%s\">%s</a>\n", html.EscapeString(u), html.EscapeString(pair("alert.open")))
	} else {
		b.WriteString(html.EscapeString(pair("alert.in_inbox", c.CaseID)) + "\n")
	}
	b.WriteString("\n" + html.EscapeString(both("alert.hint")))
	id := strconv.FormatInt(c.CaseID, 10)
	return routing.Payload{Text: b.String(), Format: routing.FormatHTML, Buttons: [][]routing.Button{{
		{Text: pair("alert.claim_button"), Data: AlertPrefix + "c:" + id},
		{Text: pair("alert.close_button"), Data: AlertPrefix + "x:" + id},
	}}}
}

// digestPayload lists the cases of group (one user and department).
func digestPayload(publicURL string, group []alertCandidate) routing.Payload {
	var b strings.Builder
	fmt.Fprintf(&b, "🔔 <b>%s</b> · %s / <i>%s</i>\n\n", htmlText(i18n.Ref, "alert.digest", len(group)),
		html.EscapeString(group[0].DepartmentName), htmlText("en", "alert.digest", len(group)))
	for i, c := range group {
		if i == maxDigestLines {
			b.WriteString(html.EscapeString(pair("alert.more", len(group)-i)) + "\n")
			break
		}
		if u := caseURL(publicURL, c.CaseID); u != "" {
			fmt.Fprintf(&b, "• <a href=\"%s\">#%d</a> %s\n", html.EscapeString(u), c.CaseID, excerpt(c, 90))
		} else {
			fmt.Fprintf(&b, "• #%d %s\n", c.CaseID, excerpt(c, 90))
		}
	}
	b.WriteString("\n" + html.EscapeString(both("alert.digest_hint")))
	return routing.Payload{Text: b.String(), Format: routing.FormatHTML}
}

// htmlText is textIn, escaped for Telegram's HTML.
func htmlText(lang, key string, args ...any) string {
	return html.EscapeString(textIn(lang, key, args...))
}
