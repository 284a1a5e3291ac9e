package routing

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"citybot/internal/apperr"
	"citybot/internal/audit"
	"citybot/internal/db"
	"citybot/internal/tgtext"
	"citybot/staff"
)

// ErrCaseOpen is returned by Open when the citizen already has an open case;
// the Case returned with it is that open case.
var ErrCaseOpen = apperr.New(apperr.Conflict, "routing: citizen already has an open case")

// Case states.
const (
	CaseWaiting  = "waiting"  // in the department's waiting list
	CaseAssigned = "assigned" // a staff member works on it
	CaseAnswered = "answered" // staff replied; waiting for the citizen
	CaseClosed   = "closed"
)

// Reasons a case was opened (as in the bot's unanswered reasons, plus
// "requested" for /mitarbeiter).
const (
	ReasonNoMatch         = "no_match"
	ReasonNotHelpful      = "not_helpful"
	ReasonNoSuggestionFit = "no_suggestion_fit"
	ReasonPersonal        = "personal"
	ReasonRequested       = "requested"
)

// Why a case was closed.
const (
	CloseByStaff   = "staff"
	CloseWithdrawn = "withdrawn" // the citizen's /abbrechen; never reopened by a message
)

// Case event kinds (case_events.kind, and the kind of a CaseNotification).
const (
	EventOpened            = "opened"
	EventMessage           = "message" // the citizen wrote (notification only, no event row)
	EventAssigned          = "assigned"
	EventUnassigned        = "unassigned"
	EventReplied           = "replied"
	EventNote              = "note" // an internal note, never sent
	EventTransferred       = "transferred"
	EventDepartmentChanged = "department_changed" // the citizen chose another department
	EventClosed            = "closed"
	EventReopened          = "reopened"
	EventWithdrawn         = "withdrawn"
	EventViewed            = "viewed" // audit log only
)

// Actors of case events.
const (
	ActorCitizen = "citizen"
	ActorStaff   = "staff"
	ActorSystem  = "system"
)

// NotifyChannel is the PostgreSQL NOTIFY channel of case changes; the
// payload is a CaseNotification as JSON. Every instance's live inbox
// (server-sent events) listens on it.
const NotifyChannel = "case_events"

// CaseNotification is the payload of a NOTIFY on NotifyChannel.
type CaseNotification struct {
	CaseID     int64  `json:"case_id"`
	Department string `json:"department"`
	From       string `json:"from,omitempty"` // the previous department of a transfer
	Kind       string `json:"kind"`
}

// checkViewer refuses an operation on behalf of someone who is not a
// signed-in user with a role. Admins see every department's cases; editors
// and staff only the cases of their departments.
func checkViewer(v staff.Principal) error {
	if !v.Valid() {
		return fmt.Errorf("viewer %d with role %q: %w", v.ID, v.Role, ErrForbidden)
	}
	return nil
}

// viewerDepartments are the viewer's departments as a query argument.
func viewerDepartments(v staff.Principal) pq.StringArray {
	if v.Departments == nil {
		return pq.StringArray{}
	}
	return pq.StringArray(v.Departments)
}

// Case is a handed-off conversation in a department's inbox.
type Case struct {
	ID              int64      `db:"id"`
	CitizenID       int64      `db:"citizen_id"`
	Department      string     `db:"department_id"`
	DepartmentName  string     `db:"department_name"`
	Status          string     `db:"status"`
	AssigneeID      *int64     `db:"assignee_id"`
	AssigneeName    *string    `db:"assignee_name"`
	Reason          string     `db:"reason"`
	Subject         string     `db:"subject"`
	Preview         string     `db:"preview"`
	Channel         string     `db:"channel"`          // the citizen's channel
	CitizenLanguage string     `db:"citizen_language"` // "de", "en", ...
	CreatedAt       time.Time  `db:"created_at"`
	UpdatedAt       time.Time  `db:"updated_at"`
	WaitingSince    time.Time  `db:"waiting_since"`
	AttentionAt     time.Time  `db:"attention_at"`
	LastActivityAt  time.Time  `db:"last_activity_at"`
	ClosedAt        *time.Time `db:"closed_at"`
	CloseReason     string     `db:"close_reason"`
	// FieldReport: a staff member's report from the field (no citizen
	// chat: nothing can be sent to it); FieldReportBy and ReporterName
	// are the reporter.
	FieldReport   bool    `db:"field_report"`
	FieldReportBy *int64  `db:"field_report_by"`
	ReporterName  *string `db:"reporter_name"`
	FieldPosition *Media  `db:"field_position"` // a field report's position, nil for none
}

// Open reports whether the case is not closed.
func (c Case) Open() bool { return c.Status != CaseClosed }

// CaseSummary is a case in an inbox list, with the viewer's unread mark.
type CaseSummary struct {
	Case
	Unread bool `db:"unread"`
}

const caseFrom = `
	FROM cases c
	JOIN departments d ON d.id = c.department_id
	JOIN citizens ci ON ci.id = c.citizen_id
	LEFT JOIN users u ON u.id = c.assignee_id
	LEFT JOIN users fr ON fr.id = c.field_report_by`

const caseColumns = `c.id, c.citizen_id, c.department_id, d.name AS department_name, c.status,
	c.assignee_id, u.name AS assignee_name, c.reason, c.subject, c.preview,
	ci.channel AS channel, ci.language AS citizen_language, c.created_at, c.updated_at,
	c.waiting_since, c.attention_at, c.last_activity_at, c.closed_at, c.close_reason,
	c.field_report, c.field_report_by, fr.name AS reporter_name,
	CASE WHEN c.field_report THEN (SELECT m.media FROM case_messages cm JOIN messages m ON m.id = cm.message_id
		WHERE cm.case_id = c.id AND m.kind = 'location' ORDER BY m.id LIMIT 1) END AS field_position`

// CasesOptions configure Cases.
type CasesOptions struct {
	// ReopenWindow: a citizen message this long after a case was closed
	// reopens it; later ones go to the bot again. Default 72 hours.
	ReopenWindow time.Duration
	// TranscriptWindow and TranscriptMax: Open links the citizen's messages
	// of this period (at most this many) to the new case. Defaults 24 hours
	// and 50.
	TranscriptWindow time.Duration
	TranscriptMax    int
	// RetentionDays: closed cases are deleted after this many days unless
	// the setting RetentionSetting or the department says otherwise.
	// Default DefaultRetentionDays.
	RetentionDays int
}

// Cases runs the case lifecycle for the bot (citizen side) and the staff
// inbox (staff.Principal side). Every staff operation checks the viewer's
// departments in its SQL: a case of another department is ErrNotFound.
type Cases struct {
	db    *sqlx.DB
	tx    *sqlx.Tx // set by WithTx
	store *Store
	opt   CasesOptions
}

// WithTx returns Cases whose operations run in the caller's transaction tx
// (the bot opens a case in the transaction of the inbound message). Soft
// failures (ErrCaseOpen, ErrNotFound of a closed case, ErrInvalid of an
// unknown department) leave tx usable.
func (s *Cases) WithTx(tx *sqlx.Tx) *Cases {
	c := *s
	c.tx = tx
	return &c
}

// inTx runs fn in the caller's transaction, or in a new one.
func (s *Cases) inTx(ctx context.Context, fn func(tx *sqlx.Tx) error) error {
	return db.InTxWith(ctx, s.db, s.tx, fn)
}

// q is what single statements run on.
func (s *Cases) q() sqlx.ExtContext {
	if s.tx != nil {
		return s.tx
	}
	return s.db
}

// NewCases returns Cases on d.
func NewCases(d *sqlx.DB, opt CasesOptions) *Cases {
	if opt.ReopenWindow <= 0 {
		opt.ReopenWindow = 72 * time.Hour
	}
	if opt.TranscriptWindow <= 0 {
		opt.TranscriptWindow = 24 * time.Hour
	}
	if opt.TranscriptMax <= 0 {
		opt.TranscriptMax = 50
	}
	return &Cases{db: d, store: NewStore(d), opt: opt}
}

// ReopenWindow is the configured reopen window.
func (s *Cases) ReopenWindow() time.Duration { return s.opt.ReopenWindow }

func getCase(ctx context.Context, q sqlx.QueryerContext, where string, args ...any) (Case, error) {
	var c Case
	err := sqlx.GetContext(ctx, q, &c, `SELECT `+caseColumns+caseFrom+` WHERE `+where, args...)
	if db.IsNoRows(err) {
		return Case{}, ErrNotFound
	}
	if err != nil {
		return Case{}, fmt.Errorf("get case: %w", err)
	}
	return c, nil
}

// lockCase locks a case for update without a visibility check (citizen side).
func lockCase(ctx context.Context, tx *sqlx.Tx, id int64) (Case, error) {
	c, err := getCase(ctx, tx, `c.id = $1 FOR UPDATE OF c`, id)
	if errors.Is(err, ErrNotFound) {
		return Case{}, fmt.Errorf("case %d: %w", id, ErrNotFound)
	}
	return c, err
}

// visible is the department isolation predicate; $2 is the viewer's admin
// flag, $3 the viewer's departments.
const visible = `($2::boolean OR c.department_id = ANY($3::text[]))`

// lockVisible locks a case the viewer may see, else ErrNotFound.
func lockVisible(ctx context.Context, tx *sqlx.Tx, v staff.Principal, id int64) (Case, error) {
	if err := checkViewer(v); err != nil {
		return Case{}, err
	}
	c, err := getCase(ctx, tx, `c.id = $1 AND `+visible+` FOR UPDATE OF c`, id, v.IsAdmin(), viewerDepartments(v))
	if errors.Is(err, ErrNotFound) {
		return Case{}, fmt.Errorf("case %d: %w", id, ErrNotFound)
	}
	return c, err
}

type actor struct {
	kind   string
	userID int64
}

func citizenActor() actor                { return actor{kind: ActorCitizen} }
func staffActor(v staff.Principal) actor { return actor{kind: ActorStaff, userID: v.ID} }

// record writes a case event (except for plain citizen messages), an audit
// log row for staff actions, and the NOTIFY, all in tx.
func record(ctx context.Context, tx *sqlx.Tx, c Case, a actor, kind string, details map[string]any, from string) error {
	if details == nil {
		details = map[string]any{}
	}
	var uid *int64
	if a.userID != 0 {
		uid = &a.userID
	}
	if kind != EventMessage && kind != EventViewed {
		b, err := json.Marshal(details)
		if err != nil {
			return fmt.Errorf("case event details: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `
			INSERT INTO case_events (case_id, actor, actor_user_id, kind, details) VALUES ($1, $2, $3, $4, $5)`,
			c.ID, a.kind, uid, kind, b); err != nil {
			return fmt.Errorf("insert case event: %w", err)
		}
	}
	if a.kind == ActorStaff {
		// The audit log outlives the case: no citizen or note text in it.
		ad := map[string]any{"department": c.Department}
		for k, v := range details {
			if k != "text" && k != "note" {
				ad[k] = v
			}
		}
		if err := audit.Record(ctx, tx, a.userID, "case."+kind, "case", strconv.FormatInt(c.ID, 10), ad); err != nil {
			return err
		}
	}
	if kind == EventViewed {
		return nil
	}
	n, _ := json.Marshal(CaseNotification{CaseID: c.ID, Department: c.Department, From: from, Kind: kind})
	if _, err := tx.ExecContext(ctx, `SELECT pg_notify($1, $2)`, NotifyChannel, string(n)); err != nil {
		return fmt.Errorf("notify: %w", err)
	}
	return nil
}

// OpenOptions are the optional parts of opening a case.
type OpenOptions struct {
	// Question is the citizen's question that led to the handoff, the
	// case's subject. Default: the citizen's latest text message.
	Question string
}

// Open opens a case of the citizen in department dept and links the
// citizen's recent messages (the transcript so far) to it. A citizen has at
// most one open case: if there is one, Open returns it with ErrCaseOpen.
// An unknown department is ErrInvalid, an unknown citizen ErrNotFound.
func (s *Cases) Open(ctx context.Context, citizenID int64, dept, reason string, opts OpenOptions) (Case, error) {
	var out Case
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		if err := checkDepartment(ctx, tx, dept); err != nil {
			return err
		}
		var id int64
		err := tx.GetContext(ctx, &id, `
			INSERT INTO cases (citizen_id, department_id, reason, subject)
			SELECT ci.id, $2, $3, $4 FROM citizens ci WHERE ci.id = $1
			ON CONFLICT (citizen_id) WHERE status <> 'closed' DO NOTHING
			RETURNING id`,
			citizenID, dept, reason, clip(strings.TrimSpace(opts.Question), 1000))
		if db.IsNoRows(err) {
			var gerr error
			if out, gerr = getCase(ctx, tx, `c.citizen_id = $1 AND c.status <> 'closed'`, citizenID); gerr != nil {
				if errors.Is(gerr, ErrNotFound) {
					return fmt.Errorf("open case: citizen %d: %w", citizenID, ErrNotFound)
				}
				return gerr
			}
			return ErrCaseOpen
		}
		if err != nil {
			return fmt.Errorf("open case: %w", err)
		}
		// The transcript so far: recent messages not already part of a case.
		if _, err := tx.ExecContext(ctx, `
			INSERT INTO case_messages (case_id, message_id)
			SELECT $1, m.id FROM messages m
			WHERE m.citizen_id = $2 AND m.created_at > now() - make_interval(secs => $3)
			  AND NOT EXISTS (SELECT 1 FROM case_messages cm WHERE cm.message_id = m.id)
			ORDER BY m.id DESC LIMIT $4`,
			id, citizenID, s.opt.TranscriptWindow.Seconds(), s.opt.TranscriptMax); err != nil {
			return fmt.Errorf("link transcript: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `
			UPDATE cases c SET
				subject = CASE WHEN c.subject <> '' THEN c.subject ELSE left(coalesce(t.last_text, ''), 1000) END,
				preview = left(CASE WHEN c.subject <> '' THEN c.subject ELSE coalesce(t.last_text, '') END, 300),
				search = to_tsvector('simple', c.subject || ' ' || coalesce(t.all_text, ''))
			FROM (
				SELECT (array_agg(m.text ORDER BY m.id DESC)
				        FILTER (WHERE m.text <> '' AND m.kind <> 'button' AND m.text NOT LIKE '/%'))[1] AS last_text,
				       string_agg(m.text, ' ' ORDER BY m.id) AS all_text
				FROM case_messages cm JOIN messages m ON m.id = cm.message_id
				WHERE cm.case_id = $1 AND m.direction = 'in'
			) t
			WHERE c.id = $1`, id); err != nil {
			return fmt.Errorf("case subject: %w", err)
		}
		if out, err = getCase(ctx, tx, `c.id = $1`, id); err != nil {
			return err
		}
		return record(ctx, tx, out, citizenActor(), EventOpened, map[string]any{"reason": reason}, "")
	})
	if errors.Is(err, ErrCaseOpen) {
		return out, ErrCaseOpen
	}
	if err != nil {
		return Case{}, err
	}
	return out, nil
}

// reopenable is the SQL condition of a closed case a citizen message reopens;
// $R is the reopen window in seconds.
func reopenableSQL(param string) string {
	return `(c.status = 'closed' AND c.close_reason <> 'withdrawn' AND c.closed_at > now() - make_interval(secs => ` + param + `))`
}

// Active returns the citizen's open case, or else a recently closed one that
// the citizen's next message would reopen (within the reopen window, not
// withdrawn). Otherwise ErrNotFound: the bot answers.
func (s *Cases) Active(ctx context.Context, citizenID int64) (Case, error) {
	c, err := getCase(ctx, s.q(), `c.citizen_id = $1 AND (c.status <> 'closed' OR `+reopenableSQL("$2")+`)
		ORDER BY (c.status <> 'closed') DESC, c.closed_at DESC NULLS FIRST, c.id DESC LIMIT 1`,
		citizenID, s.opt.ReopenWindow.Seconds())
	if errors.Is(err, ErrNotFound) {
		return Case{}, fmt.Errorf("active case of citizen %d: %w", citizenID, ErrNotFound)
	}
	return c, err
}

// AddCitizenMessage adds a stored message of the case's citizen (text,
// photo, document, location, ...) to the case. An inbound message makes an
// answered case the staff's turn again. On a closed case it reopens the case
// within the reopen window; after it (or after a withdrawal) the result is
// ErrNotFound and the bot handles the message. Adding the same message twice
// changes nothing. Outgoing bot messages of the citizen's chat may be added
// too (they are only linked).
func (s *Cases) AddCitizenMessage(ctx context.Context, caseID, messageID int64) (Case, error) {
	var out Case
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		c, err := lockCase(ctx, tx, caseID)
		if err != nil {
			return err
		}
		var m Message
		if err := tx.GetContext(ctx, &m, `SELECT `+messageColumns+` FROM messages WHERE id = $1`, messageID); err != nil {
			if db.IsNoRows(err) {
				return fmt.Errorf("message %d: %w", messageID, ErrNotFound)
			}
			return fmt.Errorf("get message: %w", err)
		}
		if m.CitizenID != c.CitizenID {
			return fmt.Errorf("message %d is not of the case's citizen: %w", messageID, ErrInvalid)
		}
		// Everything that can refuse comes before the first write, so that a
		// refusal leaves a caller's transaction as it was.
		var linked bool
		if err := tx.GetContext(ctx, &linked, `SELECT EXISTS (SELECT 1 FROM case_messages WHERE case_id = $1 AND message_id = $2)`, caseID, messageID); err != nil {
			return fmt.Errorf("check message: %w", err)
		}
		if linked {
			out = c // added before
			return nil
		}
		link := func() error {
			if _, err := tx.ExecContext(ctx, `INSERT INTO case_messages (case_id, message_id) VALUES ($1, $2)`, caseID, messageID); err != nil {
				return fmt.Errorf("link message: %w", err)
			}
			return nil
		}
		if m.Direction != DirectionIn {
			out = c
			return link()
		}
		reopened := false
		if c.Status == CaseClosed {
			var ok bool
			if err := tx.GetContext(ctx, &ok, `SELECT `+reopenableSQL("$2")+` FROM cases c WHERE c.id = $1`, caseID, s.opt.ReopenWindow.Seconds()); err != nil {
				return fmt.Errorf("reopen window: %w", err)
			}
			if !ok {
				return fmt.Errorf("case %d is closed: %w", caseID, ErrNotFound)
			}
			if other, err := hasOtherOpenCase(ctx, tx, c); err != nil {
				return err
			} else if other {
				return fmt.Errorf("reopen case %d: the citizen has another open case: %w", caseID, ErrNotFound)
			}
			reopened = true
		}
		if err := link(); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `
			UPDATE cases SET
				status = CASE WHEN status IN ('answered', 'closed') THEN
				           CASE WHEN assignee_id IS NULL THEN 'waiting' ELSE 'assigned' END
				         ELSE status END,
				waiting_since = CASE WHEN status IN ('answered', 'closed') AND assignee_id IS NULL THEN now() ELSE waiting_since END,
				closed_at = NULL, close_reason = '',
				preview = $2,
				search = search || to_tsvector('simple', $3),
				attention_at = now(), last_activity_at = now(), updated_at = now()
			WHERE id = $1`, caseID, clip(previewOf(m), 300), m.Text); err != nil {
			return fmt.Errorf("update case: %w", err)
		}
		if out, err = getCase(ctx, tx, `c.id = $1`, caseID); err != nil {
			return err
		}
		if reopened {
			if err := record(ctx, tx, out, citizenActor(), EventReopened, nil, ""); err != nil {
				return err
			}
		}
		return record(ctx, tx, out, citizenActor(), EventMessage, nil, "")
	})
	if err != nil {
		return Case{}, err
	}
	return out, nil
}

// hasOtherOpenCase reports whether c's citizen has an open case other than c.
func hasOtherOpenCase(ctx context.Context, tx *sqlx.Tx, c Case) (bool, error) {
	var ok bool
	if err := tx.GetContext(ctx, &ok, `SELECT EXISTS (SELECT 1 FROM cases WHERE citizen_id = $1 AND status <> 'closed' AND id <> $2)`, c.CitizenID, c.ID); err != nil {
		return false, fmt.Errorf("check open cases: %w", err)
	}
	return ok, nil
}

// previewOf is the inbox list's one-line preview of a citizen message.
func previewOf(m Message) string {
	if t := strings.TrimSpace(m.Text); t != "" {
		return t
	}
	switch m.Kind {
	case KindPhoto:
		return "[Foto]"
	case KindDocument:
		if m.Media != nil && m.Media.FileName != "" {
			return "[Dokument: " + m.Media.FileName + "]"
		}
		return "[Dokument]"
	case KindLocation:
		return "[Standort]"
	case KindVoice:
		return "[Sprachnachricht]"
	case KindSticker:
		return "[Sticker]"
	default:
		return "[Nachricht]"
	}
}

// lockOpenCaseOf locks the citizen's open case; ErrNotFound without one.
func lockOpenCaseOf(ctx context.Context, tx *sqlx.Tx, citizenID int64) (Case, error) {
	c, err := getCase(ctx, tx, `c.citizen_id = $1 AND c.status <> 'closed' FOR UPDATE OF c`, citizenID)
	if errors.Is(err, ErrNotFound) {
		return Case{}, fmt.Errorf("open case of citizen %d: %w", citizenID, ErrNotFound)
	}
	return c, err
}

// Withdraw closes the citizen's open case at the citizen's request
// (/abbrechen). Without an open case it is ErrNotFound.
func (s *Cases) Withdraw(ctx context.Context, citizenID int64) (Case, error) {
	var out Case
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		c, err := lockOpenCaseOf(ctx, tx, citizenID)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `
			UPDATE cases SET status = 'closed', closed_at = now(), close_reason = 'withdrawn',
				last_activity_at = now(), updated_at = now()
			WHERE id = $1`, c.ID); err != nil {
			return fmt.Errorf("withdraw case: %w", err)
		}
		if out, err = getCase(ctx, tx, `c.id = $1`, c.ID); err != nil {
			return err
		}
		return record(ctx, tx, out, citizenActor(), EventWithdrawn, nil, "")
	})
	if err != nil {
		return Case{}, err
	}
	return out, nil
}

// ChangeDepartment moves the citizen's open case to another department at
// the citizen's request (the "choose another department" button). It
// starts waiting there, unassigned.
func (s *Cases) ChangeDepartment(ctx context.Context, citizenID int64, dept string) (Case, error) {
	var out Case
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		c, err := lockOpenCaseOf(ctx, tx, citizenID)
		if err != nil {
			return err
		}
		if c.Department == dept {
			out = c
			return nil
		}
		if out, err = moveCase(ctx, tx, c, dept); err != nil {
			return err
		}
		return record(ctx, tx, out, citizenActor(), EventDepartmentChanged, map[string]any{"from": c.Department, "to": dept}, c.Department)
	})
	if err != nil {
		return Case{}, err
	}
	return out, nil
}

// checkDepartment is ErrInvalid for an unknown department (checked before
// writing, so that a caller's transaction is not aborted by a foreign key).
func checkDepartment(ctx context.Context, q sqlx.QueryerContext, dept string) error {
	var ok bool
	if err := sqlx.GetContext(ctx, q, &ok, `SELECT EXISTS (SELECT 1 FROM departments WHERE id = $1)`, dept); err != nil {
		return fmt.Errorf("check department: %w", err)
	}
	if !ok {
		return fmt.Errorf("department %q: %w", dept, ErrInvalid)
	}
	return nil
}

// moveCase puts c into dept's waiting list, unassigned. A citizen who was
// waiting for an answer keeps their place: the wait (waiting_since) goes
// on; only a case that had been answered starts a new wait.
func moveCase(ctx context.Context, tx *sqlx.Tx, c Case, dept string) (Case, error) {
	if err := checkDepartment(ctx, tx, dept); err != nil {
		return Case{}, err
	}
	if _, err := tx.ExecContext(ctx, `
		UPDATE cases SET department_id = $2, status = 'waiting', assignee_id = NULL,
			waiting_since = CASE WHEN status = 'answered' THEN now() ELSE waiting_since END,
			attention_at = now(), last_activity_at = now(), updated_at = now()
		WHERE id = $1`, c.ID, dept); err != nil {
		if db.IsForeignKeyViolation(err) {
			return Case{}, fmt.Errorf("department %q: %w", dept, ErrInvalid)
		}
		return Case{}, fmt.Errorf("move case: %w", err)
	}
	return getCase(ctx, tx, `c.id = $1`, c.ID)
}

// Inbox list views.
const (
	ViewWaiting     = "waiting"     // waiting cases of the viewer's departments, oldest first
	ViewMine        = "mine"        // open cases assigned to the viewer, latest activity first
	ViewDepartments = "departments" // open cases of the viewer's departments, latest activity first
	ViewClosed      = "closed"      // closed cases of the viewer's departments, latest closed first
	ViewAll         = "all"         // every case of the viewer's departments (search), latest activity first
)

// ListFilter selects an inbox list page.
type ListFilter struct {
	View       string // ViewWaiting (default), ViewMine, ViewDepartments, ViewClosed, ViewAll
	Query      string // words in the citizen's messages (prefix match), or "#123" for a case number
	Department string // only this department ("" = all the viewer's)
	Cursor     string // from the previous page; "" = first page
	Limit      int    // default 50, at most 200
	// Sort orders by a column instead of the view's order: SortWait,
	// SortNumber, SortDepartment or SortStatus ("" = the view's own).
	Sort string
	// Desc reverses the column's order: for SortWait the longest wait
	// comes first when it is false.
	Desc bool
}

// Sort columns of an inbox list.
const (
	SortWait       = "wait"   // how long the citizen has waited: longest first
	SortNumber     = "number" // case number, lowest first
	SortDepartment = "dept"   // department name, A-Z
	SortStatus     = "status" // waiting, assigned, answered, closed
)

// sortColumn is a whitelisted ORDER BY key: its expression and the type
// of its value in the cursor.
type sortColumn struct {
	expr string
	kind string // "time", "int", "text", "" (the case number alone)
}

var sortColumns = map[string]sortColumn{
	SortWait:       {expr: `c.waiting_since`, kind: "time"},
	SortNumber:     {expr: `c.id`},
	SortDepartment: {expr: `d.name`, kind: "text"},
	SortStatus:     {expr: `CASE c.status WHEN 'waiting' THEN 0 WHEN 'assigned' THEN 1 WHEN 'answered' THEN 2 ELSE 3 END`, kind: "int"},
}

// ValidSort reports whether s is a sort column of List.
func ValidSort(s string) bool { _, ok := sortColumns[s]; return ok }

// sortKey is the value of the sort column of c, as the cursor holds it.
func sortKey(sort string, c Case) string {
	switch sort {
	case SortWait:
		return strconv.FormatInt(c.WaitingSince.UnixMicro(), 10)
	case SortDepartment:
		return c.DepartmentName
	case SortStatus:
		switch c.Status {
		case CaseWaiting:
			return "0"
		case CaseAssigned:
			return "1"
		case CaseAnswered:
			return "2"
		}
		return "3"
	}
	return ""
}

// encodeSortCursor and decodeSortCursor keep the position in a list
// sorted by a column: the column, its direction, the last case's key
// and number. A cursor of another order is refused.
func encodeSortCursor(sort string, desc bool, key string, id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(sort + "|" + strconv.FormatBool(desc) + "|" + strconv.FormatInt(id, 10) + "|" + key))
}

func decodeSortCursor(s, sort string, desc bool) (string, int64, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		parts := strings.SplitN(string(b), "|", 4)
		if len(parts) == 4 && parts[0] == sort && parts[1] == strconv.FormatBool(desc) {
			if id, err := strconv.ParseInt(parts[2], 10, 64); err == nil {
				return parts[3], id, nil
			}
		}
	}
	return "", 0, fmt.Errorf("list cursor: %w", ErrInvalid)
}

type listView struct {
	where   string
	sortCol string
	asc     bool
}

// The ORDER BY of each view, whitelisted.
var listViews = map[string]listView{
	ViewWaiting:     {where: `c.status = 'waiting'`, sortCol: `c.waiting_since`, asc: true},
	ViewMine:        {where: `c.status <> 'closed' AND c.assignee_id = $1`, sortCol: `c.last_activity_at`},
	ViewDepartments: {where: `c.status <> 'closed'`, sortCol: `c.last_activity_at`},
	ViewClosed:      {where: `c.status = 'closed'`, sortCol: `c.closed_at`},
	ViewAll:         {where: `true`, sortCol: `c.last_activity_at`},
}

// List returns a page of an inbox list and the cursor of the next page (""
// on the last page). Only cases of the viewer's departments (all, for
// admins) are listed; Unread is per viewer.
func (s *Cases) List(ctx context.Context, v staff.Principal, f ListFilter) ([]CaseSummary, string, error) {
	if err := checkViewer(v); err != nil {
		return nil, "", err
	}
	if f.View == "" {
		f.View = ViewWaiting
	}
	lv, ok := listViews[f.View]
	if !ok {
		return nil, "", fmt.Errorf("list view %q: %w", f.View, ErrInvalid)
	}
	if f.Limit <= 0 {
		f.Limit = 50
	}
	f.Limit = min(f.Limit, 200)

	args := []any{v.ID, v.IsAdmin(), viewerDepartments(v)}
	arg := func(a any) string {
		args = append(args, a)
		return "$" + strconv.Itoa(len(args))
	}
	conds := []string{lv.where, visible}
	if f.Department != "" {
		conds = append(conds, `c.department_id = `+arg(f.Department))
	}
	if q := strings.TrimSpace(f.Query); q != "" {
		// "#123" is a case number; a plain number may also be a house number.
		id, idErr := strconv.ParseInt(strings.TrimPrefix(q, "#"), 10, 64)
		ts := ""
		if !strings.HasPrefix(q, "#") || idErr != nil {
			ts = tsPrefixQuery(q)
		}
		switch {
		case idErr == nil && ts != "":
			conds = append(conds, `(c.id = `+arg(id)+` OR c.search @@ to_tsquery('simple', `+arg(ts)+`))`)
		case idErr == nil:
			conds = append(conds, `c.id = `+arg(id))
		case ts != "":
			conds = append(conds, `c.search @@ to_tsquery('simple', `+arg(ts)+`)`)
		}
	}
	if f.Sort != "" {
		return s.listSorted(ctx, f, conds, func() []any { return args }, arg)
	}
	dir, cmp := "DESC", "<"
	if lv.asc {
		dir, cmp = "ASC", ">"
	}
	if f.Cursor != "" {
		at, id, err := decodeCursor(f.Cursor)
		if err != nil {
			return nil, "", err
		}
		conds = append(conds, `(`+lv.sortCol+`, c.id) `+cmp+` (`+arg(at)+`::timestamptz, `+arg(id)+`::bigint)`)
	}
	q := `SELECT ` + caseColumns + `,
		(r.read_at IS NULL OR c.attention_at > r.read_at) AS unread` + caseFrom + `
		LEFT JOIN case_reads r ON r.case_id = c.id AND r.user_id = $1
		WHERE ` + strings.Join(conds, " AND ") + `
		ORDER BY ` + lv.sortCol + ` ` + dir + `, c.id ` + dir + `
		LIMIT ` + arg(f.Limit+1)
	var page []CaseSummary
	if err := sqlx.SelectContext(ctx, s.q(), &page, q, args...); err != nil {
		return nil, "", fmt.Errorf("list cases: %w", err)
	}
	next := ""
	if len(page) > f.Limit {
		page = page[:f.Limit]
		last := page[len(page)-1].Case
		var at time.Time
		switch f.View {
		case ViewWaiting:
			at = last.WaitingSince
		case ViewClosed:
			at = *last.ClosedAt
		default:
			at = last.LastActivityAt
		}
		next = encodeCursor(at, last.ID)
	}
	return page, next, nil
}

// listSorted is List ordered by a column (f.Sort), keyset-paginated on
// (column, case number).
// args returns the query's arguments as arg has added them.
func (s *Cases) listSorted(ctx context.Context, f ListFilter, conds []string, args func() []any, arg func(any) string) ([]CaseSummary, string, error) {
	col, ok := sortColumns[f.Sort]
	if !ok {
		return nil, "", fmt.Errorf("list sort %q: %w", f.Sort, ErrInvalid)
	}
	asc := !f.Desc
	dir, cmp := "ASC", ">"
	if !asc {
		dir, cmp = "DESC", "<"
	}
	if f.Cursor != "" {
		key, id, err := decodeSortCursor(f.Cursor, f.Sort, f.Desc)
		if err != nil {
			return nil, "", err
		}
		switch col.kind {
		case "":
			conds = append(conds, `c.id `+cmp+` `+arg(id)+`::bigint`)
		case "time":
			us, err := strconv.ParseInt(key, 10, 64)
			if err != nil {
				return nil, "", fmt.Errorf("list cursor: %w", ErrInvalid)
			}
			conds = append(conds, `(`+col.expr+`, c.id) `+cmp+` (`+arg(time.UnixMicro(us))+`::timestamptz, `+arg(id)+`::bigint)`)
		case "int":
			n, err := strconv.Atoi(key)
			if err != nil {
				return nil, "", fmt.Errorf("list cursor: %w", ErrInvalid)
			}
			conds = append(conds, `(`+col.expr+`, c.id) `+cmp+` (`+arg(n)+`::int, `+arg(id)+`::bigint)`)
		default:
			conds = append(conds, `(`+col.expr+`, c.id) `+cmp+` (`+arg(key)+`::text, `+arg(id)+`::bigint)`)
		}
	}
	order := col.expr + ` ` + dir + `, c.id ` + dir
	if col.kind == "" {
		order = `c.id ` + dir
	}
	q := `SELECT ` + caseColumns + `,
		(r.read_at IS NULL OR c.attention_at > r.read_at) AS unread` + caseFrom + `
		LEFT JOIN case_reads r ON r.case_id = c.id AND r.user_id = $1
		WHERE ` + strings.Join(conds, " AND ") + `
		ORDER BY ` + order + `
		LIMIT ` + arg(f.Limit+1)
	var page []CaseSummary
	if err := sqlx.SelectContext(ctx, s.q(), &page, q, args()...); err != nil {
		return nil, "", fmt.Errorf("list cases: %w", err)
	}
	next := ""
	if len(page) > f.Limit {
		page = page[:f.Limit]
		last := page[len(page)-1].Case
		next = encodeSortCursor(f.Sort, f.Desc, sortKey(f.Sort, last), last.ID)
	}
	return page, next, nil
}

func encodeCursor(at time.Time, id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(at.UnixMicro(), 10) + "." + strconv.FormatInt(id, 10)))
}

func decodeCursor(s string) (time.Time, int64, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		a, i, ok := strings.Cut(string(b), ".")
		us, err1 := strconv.ParseInt(a, 10, 64)
		id, err2 := strconv.ParseInt(i, 10, 64)
		if ok && err1 == nil && err2 == nil {
			return time.UnixMicro(us), id, nil
		}
	}
	return time.Time{}, 0, fmt.Errorf("list cursor: %w", ErrInvalid)
}

// tsPrefixQuery turns user input into a safe tsquery of prefix terms that
// must all match: "Bau schild!" -> "bau:* & schild:*".
func tsPrefixQuery(q string) string {
	words := strings.FieldsFunc(strings.ToLower(q), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	var terms []string
	for _, w := range words {
		if len(terms) == 8 {
			break
		}
		terms = append(terms, "'"+w+"':*")
	}
	return strings.Join(terms, " & ")
}

// Get returns a case the viewer may see, else ErrNotFound.
func (s *Cases) Get(ctx context.Context, v staff.Principal, id int64) (Case, error) {
	if err := checkViewer(v); err != nil {
		return Case{}, err
	}
	c, err := getCase(ctx, s.q(), `c.id = $1 AND `+visible, id, v.IsAdmin(), viewerDepartments(v))
	if errors.Is(err, ErrNotFound) {
		return Case{}, fmt.Errorf("case %d: %w", id, ErrNotFound)
	}
	return c, err
}

// EventDetails are the details of a case event.
type EventDetails map[string]any

// Scan reads details from jsonb.
func (d *EventDetails) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*d = EventDetails{}
		return nil
	case []byte:
		return json.Unmarshal(v, d)
	case string:
		return json.Unmarshal([]byte(v), d)
	default:
		return fmt.Errorf("event details: cannot scan %T", src)
	}
}

// Value stores details as jsonb.
func (d EventDetails) Value() (driver.Value, error) {
	if d == nil {
		return []byte("{}"), nil
	}
	return json.Marshal(map[string]any(d))
}

// String returns a detail as text ("" when absent).
func (d EventDetails) String(key string) string {
	switch v := d[key].(type) {
	case string:
		return v
	case nil:
		return ""
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	default:
		return fmt.Sprint(v)
	}
}

// CaseEvent is a state change, staff action or internal note of a case.
type CaseEvent struct {
	ID          int64        `db:"id"`
	CaseID      int64        `db:"case_id"`
	Actor       string       `db:"actor"`
	ActorUserID *int64       `db:"actor_user_id"`
	ActorName   *string      `db:"actor_name"`
	Kind        string       `db:"kind"`
	Details     EventDetails `db:"details"`
	At          time.Time    `db:"at"`
}

// Delivery is the outbox state of an outgoing message.
type Delivery struct {
	Status string // OutboxPending, OutboxSending, OutboxSent, OutboxFailed, OutboxUndeliverable
	Error  string // why it failed, or the last transient error
}

// TranscriptItem is one entry of a case's transcript: a message or an event
// (an internal note is an event of kind EventNote with Details["text"]).
type TranscriptItem struct {
	At        time.Time
	Message   *Message
	StaffName string    // the author of a staff message
	Delivery  *Delivery // outgoing messages; nil when no outbox row is left
	Event     *CaseEvent
}

type transcriptRow struct {
	Message
	StaffName      sql.NullString `db:"staff_name"`
	DeliveryStatus sql.NullString `db:"delivery_status"`
	DeliveryError  sql.NullString `db:"delivery_error"`
}

// Transcript returns the case's messages (with delivery state), internal
// notes and events in time order. A case the viewer may not see is
// ErrNotFound.
func (s *Cases) Transcript(ctx context.Context, v staff.Principal, id int64) ([]TranscriptItem, error) {
	if _, err := s.Get(ctx, v, id); err != nil {
		return nil, err
	}
	var rows []transcriptRow
	if err := sqlx.SelectContext(ctx, s.q(), &rows, `
		SELECT m.id, m.citizen_id, m.direction, m.kind, m.text, m.media, m.sender, m.staff_user_id,
			m.external_message_id, m.created_at, u.name AS staff_name,
			o.status AS delivery_status, o.last_error AS delivery_error
		FROM case_messages cm
		JOIN messages m ON m.id = cm.message_id
		LEFT JOIN users u ON u.id = m.staff_user_id
		LEFT JOIN LATERAL (
			SELECT CASE
				WHEN count(*) = 0 THEN NULL
				WHEN bool_or(ob.status = 'undeliverable') THEN 'undeliverable'
				WHEN bool_or(ob.status = 'failed') THEN 'failed'
				WHEN bool_and(ob.status = 'sent') THEN 'sent'
				WHEN bool_or(ob.status = 'sending') THEN 'sending'
				ELSE 'pending' END AS status,
				coalesce(string_agg(NULLIF(ob.last_error, ''), '; ' ORDER BY ob.id), '') AS last_error
			FROM outbox ob WHERE ob.message_id = m.id
		) o ON m.direction = 'out'
		WHERE cm.case_id = $1
		ORDER BY m.created_at, m.id`, id); err != nil {
		return nil, fmt.Errorf("case messages: %w", err)
	}
	var events []CaseEvent
	if err := sqlx.SelectContext(ctx, s.q(), &events, `
		SELECT e.id, e.case_id, e.actor, e.actor_user_id, u.name AS actor_name, e.kind, e.details, e.at
		FROM case_events e LEFT JOIN users u ON u.id = e.actor_user_id
		WHERE e.case_id = $1 AND e.kind <> 'replied'
		ORDER BY e.at, e.id`, id); err != nil {
		return nil, fmt.Errorf("case events: %w", err)
	}
	items := make([]TranscriptItem, 0, len(rows)+len(events))
	for i := range rows {
		r := rows[i]
		m := r.Message
		it := TranscriptItem{At: m.CreatedAt, Message: &m, StaffName: r.StaffName.String}
		if r.DeliveryStatus.Valid {
			it.Delivery = &Delivery{Status: r.DeliveryStatus.String, Error: r.DeliveryError.String}
		}
		items = append(items, it)
	}
	for i := range events {
		items = append(items, TranscriptItem{At: events[i].At, Event: &events[i]})
	}
	slices.SortStableFunc(items, func(a, b TranscriptItem) int { return a.At.Compare(b.At) })
	return items, nil
}

// Attachment is a file a staff member sends with a reply.
type Attachment struct {
	Name string
	MIME string
	Data []byte
}

// MaxAttachmentSize is the largest file a reply may carry.
const MaxAttachmentSize = 20 << 20

// MaxReplyLength is the longest reply text, in characters.
const MaxReplyLength = 10000

// replyPayloads are the messages that carry a staff reply to the citizen:
// the department's name in bold above the text (the citizen writes to one
// bot and should see which office answers), split on paragraph boundaries
// within Telegram's limit.
func replyPayloads(department, text string) []Payload {
	header := ""
	if department != "" {
		header = "<b>" + html.EscapeString(department) + "</b>\n"
	}
	first := tgtext.TelegramTextLimit - tgtext.UTF16Len(department) - 1
	parts := tgtext.SplitText(text, first)
	if len(parts) > 1 {
		// The parts after the first have the whole limit.
		rest := strings.TrimSpace(strings.TrimPrefix(text, parts[0]))
		parts = append(parts[:1], tgtext.SplitText(rest, tgtext.TelegramTextLimit)...)
	}
	ps := make([]Payload, len(parts))
	for i, part := range parts {
		ps[i] = Payload{Text: html.EscapeString(part), Format: FormatHTML}
		if i == 0 {
			ps[i].Text = header + ps[i].Text
		}
	}
	return ps
}

// Reply sends a staff reply to the citizen: the message rows and their
// outbox rows are written in one transaction with the case change (the case
// becomes answered and, when unassigned, assigned to the replier). Text and
// each attachment are one message each. A closed case is ErrInvalid.
func (s *Cases) Reply(ctx context.Context, v staff.Principal, id int64, text string, attachments []Attachment) ([]Message, error) {
	text = strings.TrimSpace(text)
	if text == "" && len(attachments) == 0 {
		return nil, fmt.Errorf("empty reply: %w", ErrInvalid)
	}
	if utf8.RuneCountInString(text) > MaxReplyLength {
		return nil, fmt.Errorf("reply longer than %d characters: %w", MaxReplyLength, ErrInvalid)
	}
	for _, a := range attachments {
		if len(a.Data) == 0 || len(a.Data) > MaxAttachmentSize || strings.TrimSpace(a.Name) == "" {
			return nil, fmt.Errorf("attachment %q: empty, unnamed or larger than %d bytes: %w", a.Name, MaxAttachmentSize, ErrInvalid)
		}
	}
	var sent []Message
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		c, err := lockVisible(ctx, tx, v, id)
		if err != nil {
			return err
		}
		if c.Status == CaseClosed {
			return fmt.Errorf("reply to closed case %d: %w", id, ErrInvalid)
		}
		if c.FieldReport {
			return fmt.Errorf("reply to field report %d (no citizen chat): %w", id, ErrInvalid)
		}
		st := s.store.WithTx(tx)
		cit, err := st.Citizen(ctx, c.CitizenID)
		if err != nil {
			return err
		}
		uid := v.ID
		if text != "" {
			m, err := st.Send(ctx, cit, Message{Sender: SenderStaff, StaffUserID: &uid, Kind: KindText, Text: text},
				replyPayloads(c.DepartmentName, text)...)
			if err != nil {
				return err
			}
			sent = append(sent, m)
		}
		for i, a := range attachments {
			mime := a.MIME
			if mime == "" {
				mime = "application/octet-stream"
			}
			p := Payload{Document: &Document{Name: a.Name, MIME: mime, Data: a.Data}}
			if i == 0 && text == "" {
				p.Text = c.DepartmentName // who sends it, as a text reply says it
			}
			m, err := st.Send(ctx, cit, Message{Sender: SenderStaff, StaffUserID: &uid, Kind: KindDocument,
				Media: &Media{Type: KindDocument, FileName: a.Name, MIMEType: mime, FileSize: int64(len(a.Data))}}, p)
			if err != nil {
				return err
			}
			sent = append(sent, m)
		}
		ids := make([]int64, len(sent))
		for i, m := range sent {
			ids[i] = m.ID
		}
		if _, err := tx.ExecContext(ctx, `
			INSERT INTO case_messages (case_id, message_id) SELECT $1, unnest($2::bigint[])`, id, pq.Int64Array(ids)); err != nil {
			return fmt.Errorf("link reply: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `
			UPDATE cases SET status = 'answered', assignee_id = coalesce(assignee_id, $2),
				last_activity_at = now(), updated_at = now()
			WHERE id = $1`, id, v.ID); err != nil {
			return fmt.Errorf("update case: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `
			INSERT INTO case_reads (case_id, user_id, read_at) VALUES ($1, $2, now())
			ON CONFLICT (case_id, user_id) DO UPDATE SET read_at = now()`, id, v.ID); err != nil {
			return fmt.Errorf("mark read: %w", err)
		}
		c.Status = CaseAnswered
		return record(ctx, tx, c, staffActor(v), EventReplied, map[string]any{"message_ids": ids}, "")
	})
	if err != nil {
		return nil, err
	}
	return sent, nil
}

// AddNote adds an internal note (never sent to the citizen) to a case.
func (s *Cases) AddNote(ctx context.Context, v staff.Principal, id int64, text string) error {
	text = strings.TrimSpace(text)
	if text == "" || utf8.RuneCountInString(text) > MaxReplyLength {
		return fmt.Errorf("note empty or too long: %w", ErrInvalid)
	}
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		c, err := lockVisible(ctx, tx, v, id)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE cases SET last_activity_at = now(), updated_at = now() WHERE id = $1`, id); err != nil {
			return fmt.Errorf("update case: %w", err)
		}
		return record(ctx, tx, c, staffActor(v), EventNote, map[string]any{"text": text}, "")
	})
}

// Assign gives a case to userID (0: unassign; the case waits again). The
// user must be active and an admin or staff of the case's department.
func (s *Cases) Assign(ctx context.Context, v staff.Principal, id, userID int64) error {
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		c, err := lockVisible(ctx, tx, v, id)
		if err != nil {
			return err
		}
		if c.Status == CaseClosed {
			return fmt.Errorf("assign closed case %d: %w", id, ErrInvalid)
		}
		if userID == 0 {
			if c.AssigneeID == nil {
				return nil
			}
			if _, err := tx.ExecContext(ctx, `
				UPDATE cases SET assignee_id = NULL,
					status = CASE WHEN status = 'assigned' THEN 'waiting' ELSE status END,
					waiting_since = CASE WHEN status = 'assigned' THEN now() ELSE waiting_since END,
					last_activity_at = now(), updated_at = now()
				WHERE id = $1`, id); err != nil {
				return fmt.Errorf("unassign case: %w", err)
			}
			return record(ctx, tx, c, staffActor(v), EventUnassigned, map[string]any{"previous": *c.AssigneeID}, "")
		}
		ok, err := staff.CanHandle(ctx, tx, userID, c.Department)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("user %d cannot take cases of %s: %w", userID, c.Department, ErrInvalid)
		}
		if c.AssigneeID != nil && *c.AssigneeID == userID {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `
			UPDATE cases SET assignee_id = $2,
				status = CASE WHEN status = 'waiting' THEN 'assigned' ELSE status END,
				last_activity_at = now(), updated_at = now()
			WHERE id = $1`, id, userID); err != nil {
			return fmt.Errorf("assign case: %w", err)
		}
		d := map[string]any{"user_id": userID}
		if c.AssigneeID != nil {
			d["previous"] = *c.AssigneeID
		}
		return record(ctx, tx, c, staffActor(v), EventAssigned, d, "")
	})
}

// Transfer moves a case to another department with a note for its staff;
// it waits there unassigned and leaves the first department's lists.
func (s *Cases) Transfer(ctx context.Context, v staff.Principal, id int64, dept, note string) error {
	note = strings.TrimSpace(note)
	if utf8.RuneCountInString(note) > MaxReplyLength {
		return fmt.Errorf("transfer note too long: %w", ErrInvalid)
	}
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		c, err := lockVisible(ctx, tx, v, id)
		if err != nil {
			return err
		}
		if c.Status == CaseClosed {
			return fmt.Errorf("transfer closed case %d: %w", id, ErrInvalid)
		}
		if dept == c.Department {
			return fmt.Errorf("transfer case %d to its own department: %w", id, ErrInvalid)
		}
		moved, err := moveCase(ctx, tx, c, dept)
		if err != nil {
			return err
		}
		if err := s.tellTransfer(ctx, tx, moved); err != nil {
			return err
		}
		return record(ctx, tx, moved, staffActor(v), EventTransferred,
			map[string]any{"from": c.Department, "to": dept, "note": note}, c.Department)
	})
}

// tellTransfer tells the citizen, in the same transaction, which office
// has their request now (the internal note stays internal).
func (s *Cases) tellTransfer(ctx context.Context, tx *sqlx.Tx, c Case) error {
	if c.FieldReport {
		return nil // no citizen chat to tell
	}
	st := s.store.WithTx(tx)
	cit, err := st.Citizen(ctx, c.CitizenID)
	if err != nil {
		return err
	}
	var name string
	if err := tx.GetContext(ctx, &name, `SELECT name FROM departments WHERE id = $1`, c.Department); err != nil {
		return fmt.Errorf("department name: %w", err)
	}
	msg := text(cit.Language, "transfer.notice", name)
	m, err := st.Send(ctx, cit, Message{Sender: SenderBot, Kind: KindText, Text: msg}, Payload{Text: msg})
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO case_messages (case_id, message_id) VALUES ($1, $2)`, c.ID, m.ID); err != nil {
		return fmt.Errorf("link transfer notice: %w", err)
	}
	return nil
}

// Close closes an open case.
func (s *Cases) Close(ctx context.Context, v staff.Principal, id int64) error {
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		c, err := lockVisible(ctx, tx, v, id)
		if err != nil {
			return err
		}
		if c.Status == CaseClosed {
			return fmt.Errorf("case %d is already closed: %w", id, ErrInvalid)
		}
		if _, err := tx.ExecContext(ctx, `
			UPDATE cases SET status = 'closed', closed_at = now(), close_reason = 'staff',
				last_activity_at = now(), updated_at = now()
			WHERE id = $1`, id); err != nil {
			return fmt.Errorf("close case: %w", err)
		}
		c.Status = CaseClosed
		if err := s.tellReporter(ctx, tx, c); err != nil {
			return err
		}
		return record(ctx, tx, c, staffActor(v), EventClosed, nil, "")
	})
}

// Reopen reopens a closed case (assigned again to its assignee, else
// waiting). If the citizen meanwhile has another open case it is ErrInvalid.
func (s *Cases) Reopen(ctx context.Context, v staff.Principal, id int64) error {
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		c, err := lockVisible(ctx, tx, v, id)
		if err != nil {
			return err
		}
		if c.Status != CaseClosed {
			return fmt.Errorf("case %d is not closed: %w", id, ErrInvalid)
		}
		if other, err := hasOtherOpenCase(ctx, tx, c); err != nil {
			return err
		} else if other {
			return fmt.Errorf("reopen case %d: the citizen has another open case: %w", id, ErrInvalid)
		}
		if _, err := tx.ExecContext(ctx, `
			UPDATE cases SET status = CASE WHEN assignee_id IS NULL THEN 'waiting' ELSE 'assigned' END,
				waiting_since = now(), attention_at = now(), closed_at = NULL, close_reason = '',
				last_activity_at = now(), updated_at = now()
			WHERE id = $1`, id); err != nil {
			return fmt.Errorf("reopen case: %w", err)
		}
		return record(ctx, tx, c, staffActor(v), EventReopened, nil, "")
	})
}

// MarkRead records that the viewer has seen the case now (its unread mark
// goes away) and writes "case.viewed" to the audit log.
func (s *Cases) MarkRead(ctx context.Context, v staff.Principal, id int64) error {
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		if err := checkViewer(v); err != nil {
			return err
		}
		c, err := getCase(ctx, tx, `c.id = $1 AND `+visible, id, v.IsAdmin(), viewerDepartments(v))
		if err != nil {
			if errors.Is(err, ErrNotFound) {
				return fmt.Errorf("case %d: %w", id, ErrNotFound)
			}
			return err
		}
		if _, err := tx.ExecContext(ctx, `
			INSERT INTO case_reads (case_id, user_id, read_at) VALUES ($1, $2, now())
			ON CONFLICT (case_id, user_id) DO UPDATE SET read_at = now()`, id, v.ID); err != nil {
			return fmt.Errorf("mark read: %w", err)
		}
		return record(ctx, tx, c, staffActor(v), EventViewed, nil, "")
	})
}

func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n])
}

// NoteMessage links a stored message of the case's citizen to the case
// without making it the staff's turn (status and attention stay): the bot
// notes there an FAQ question it answered while the case was open, and its
// answer, so that staff see the whole conversation.
func (s *Cases) NoteMessage(ctx context.Context, caseID, messageID int64) error {
	res, err := s.q().ExecContext(ctx, `
		INSERT INTO case_messages (case_id, message_id)
		SELECT c.id, m.id FROM cases c JOIN messages m ON m.citizen_id = c.citizen_id
		WHERE c.id = $1 AND m.id = $2
		ON CONFLICT DO NOTHING`, caseID, messageID)
	if err != nil {
		return fmt.Errorf("note message: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		var ok bool
		if err := sqlx.GetContext(ctx, s.q(), &ok, `SELECT EXISTS (SELECT 1 FROM case_messages WHERE case_id = $1 AND message_id = $2)`, caseID, messageID); err != nil {
			return fmt.Errorf("note message: %w", err)
		}
		if !ok {
			return fmt.Errorf("note message %d in case %d: %w", messageID, caseID, ErrNotFound)
		}
	}
	return nil
}

// Counts are the numbers of cases of the inbox views (ViewWaiting,
// ViewMine, ViewDepartments, ViewClosed) the viewer may see.
func (s *Cases) Counts(ctx context.Context, v staff.Principal) (map[string]int, error) {
	var r struct {
		Waiting     int `db:"waiting"`
		Mine        int `db:"mine"`
		Departments int `db:"departments"`
		Closed      int `db:"closed"`
	}
	if err := sqlx.GetContext(ctx, s.q(), &r, `
		SELECT count(*) FILTER (WHERE status = 'waiting') AS waiting,
			count(*) FILTER (WHERE status <> 'closed' AND assignee_id = $1) AS mine,
			count(*) FILTER (WHERE status <> 'closed') AS departments,
			count(*) FILTER (WHERE status = 'closed') AS closed
		FROM cases WHERE ($2 OR department_id = ANY($3))`, v.ID, v.IsAdmin(), viewerDepartments(v)); err != nil {
		return nil, fmt.Errorf("inbox counts: %w", err)
	}
	return map[string]int{ViewWaiting: r.Waiting, ViewMine: r.Mine, ViewDepartments: r.Departments, ViewClosed: r.Closed}, nil
}

// EarlierCase is another case of the same citizen, for the case page.
type EarlierCase struct {
	ID             int64     `db:"id"`
	Subject        string    `db:"subject"`
	Status         string    `db:"status"`
	DepartmentName string    `db:"department_name"`
	CreatedAt      time.Time `db:"created_at"`
}

// EarlierCases lists the citizen's cases other than except that the viewer
// may see, newest first (at most 10).
func (s *Cases) EarlierCases(ctx context.Context, v staff.Principal, citizenID, except int64) ([]EarlierCase, error) {
	var out []EarlierCase
	if err := sqlx.SelectContext(ctx, s.q(), &out, `
		SELECT c.id, c.subject, c.status, d.name AS department_name, c.created_at
		FROM cases c JOIN departments d ON d.id = c.department_id
		WHERE c.citizen_id = $1 AND c.id <> $2 AND ($3 OR c.department_id = ANY($4))
		ORDER BY c.created_at DESC, c.id DESC LIMIT 10`,
		citizenID, except, v.IsAdmin(), viewerDepartments(v)); err != nil {
		return nil, fmt.Errorf("earlier cases: %w", err)
	}
	return out, nil
}
