package routing

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"citybot/internal/db"
)

// ChannelFieldStaff is the channel of a field report's citizens row: a
// report has no citizen chat; its row carries the case, the messages and
// the photos, and nothing is ever sent to it.
const ChannelFieldStaff = "fieldstaff"

// ReasonFieldReport is the reason of a case opened from a field report.
const ReasonFieldReport = "field_report"

// Limits of a field report.
const (
	MaxFieldReportPhotos = 20
	MaxFieldReportText   = 4000
)

// FieldReport is what a linked staff member sent from the field
// (fieldstaff collects it).
type FieldReport struct {
	// Key identifies the report (the draft's id): opening the same report
	// twice returns the first case.
	Key        string
	ReporterID int64 // the staff user
	Department string
	Text       string
	Photos     []Media // type photo, with file ids
	Location   *Media  // type location, nil for none
}

// FieldReportDepartments are the departments a field report can go to:
// the routing classifier's suggestion for text first, then all the others
// by name.
func (h *Handoff) FieldReportDepartments(ctx context.Context, tx *sqlx.Tx, text string) ([]DepartmentChoice, error) {
	ds, err := loadDepartments(ctx, tx)
	if err != nil {
		return nil, err
	}
	ranked := h.rank(HandoffRequest{Question: text}, ds)
	out := []DepartmentChoice{{ID: ranked[0].ID, Name: ranked[0].Name}}
	var all []DepartmentChoice
	if err := tx.SelectContext(ctx, &all, `SELECT id AS "id", name AS "name" FROM departments ORDER BY name, id`); err != nil {
		return nil, fmt.Errorf("list departments: %w", err)
	}
	for _, d := range all {
		if d.ID != out[0].ID {
			out = append(out, d)
		}
	}
	return out, nil
}

// OpenFieldReport opens the case of a field report in tx (the handling
// transaction of the staff member's button press).
func (h *Handoff) OpenFieldReport(ctx context.Context, tx *sqlx.Tx, r FieldReport) (Case, error) {
	return h.cases.OpenFieldReport(ctx, tx, r)
}

// OpenFieldReport opens the case of a field report in tx: a citizens row of
// its own (channel fieldstaff), the text, the photos and the position as
// its messages, and the case marked as field report of the reporter, with
// the opening recorded (case event, audit row of the reporter, NOTIFY).
// An unknown department or an empty report is ErrInvalid.
func (s *Cases) OpenFieldReport(ctx context.Context, tx *sqlx.Tx, r FieldReport) (Case, error) {
	r.Text = strings.TrimSpace(r.Text)
	switch {
	case r.Key == "" || r.ReporterID == 0:
		return Case{}, fmt.Errorf("field report without key or reporter: %w", ErrInvalid)
	case r.Text == "" && len(r.Photos) == 0 && r.Location == nil:
		return Case{}, fmt.Errorf("empty field report: %w", ErrInvalid)
	case len(r.Photos) > MaxFieldReportPhotos:
		return Case{}, fmt.Errorf("field report with %d photos: %w", len(r.Photos), ErrInvalid)
	}
	if err := checkDepartment(ctx, tx, r.Department); err != nil {
		return Case{}, err
	}
	var citizenID int64
	err := tx.GetContext(ctx, &citizenID, `INSERT INTO citizens (channel, external_id, language) VALUES ($1, $2, 'de')
		ON CONFLICT (channel, external_id) DO NOTHING RETURNING id`, ChannelFieldStaff, "report-"+r.Key)
	if db.IsNoRows(err) {
		// Opened before: the same case.
		return getCase(ctx, tx, `ci.channel = $1 AND ci.external_id = $2 ORDER BY c.id LIMIT 1`, ChannelFieldStaff, "report-"+r.Key)
	}
	if err != nil {
		return Case{}, fmt.Errorf("field report citizen: %w", err)
	}
	var msgs []Message
	if r.Text != "" {
		msgs = append(msgs, Message{Kind: KindText, Text: clip(r.Text, MaxFieldReportText)})
	}
	for i := range r.Photos {
		p := r.Photos[i]
		p.Type = KindPhoto
		msgs = append(msgs, Message{Kind: KindPhoto, Media: &p})
	}
	if r.Location != nil {
		l := *r.Location
		l.Type = KindLocation
		if l.Latitude == nil || l.Longitude == nil || *l.Latitude < -90 || *l.Latitude > 90 || *l.Longitude < -180 || *l.Longitude > 180 {
			return Case{}, fmt.Errorf("field report position: %w", ErrInvalid)
		}
		msgs = append(msgs, Message{Kind: KindLocation, Media: &l})
	}
	ids := make(pq.Int64Array, 0, len(msgs))
	for _, m := range msgs {
		var id int64
		if err := tx.GetContext(ctx, &id, `INSERT INTO messages (citizen_id, direction, kind, text, media, sender)
			VALUES ($1, 'in', $2, $3, $4, 'citizen') RETURNING id`, citizenID, m.Kind, m.Text, m.Media); err != nil {
			return Case{}, fmt.Errorf("field report message: %w", err)
		}
		ids = append(ids, id)
	}
	subject := clip(r.Text, 1000)
	var caseID int64
	if err := tx.GetContext(ctx, &caseID, `INSERT INTO cases (citizen_id, department_id, reason, subject, preview, search, field_report, field_report_by)
		VALUES ($1, $2, $3, $4, left($4, 300), to_tsvector('simple', $4), true, $5) RETURNING id`,
		citizenID, r.Department, ReasonFieldReport, subject, r.ReporterID); err != nil {
		return Case{}, fmt.Errorf("open field report: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO case_messages (case_id, message_id) SELECT $1, unnest($2::bigint[])`, caseID, ids); err != nil {
		return Case{}, fmt.Errorf("link field report messages: %w", err)
	}
	c, err := getCase(ctx, tx, `c.id = $1`, caseID)
	if err != nil {
		return Case{}, err
	}
	details := map[string]any{"reason": ReasonFieldReport, "photos": len(r.Photos), "position": r.Location != nil}
	return c, record(ctx, tx, c, actor{kind: ActorStaff, userID: r.ReporterID}, EventOpened, details, "")
}

// tellReporter tells the reporter of a field report, in tx, that staff
// closed it: a message to the chat the reporter has linked now (none when
// they unlinked meanwhile), through the outbox, kept with the report.
func (s *Cases) tellReporter(ctx context.Context, tx *sqlx.Tx, c Case) error {
	if !c.FieldReport || c.FieldReportBy == nil {
		return nil
	}
	var chat int64
	err := tx.GetContext(ctx, &chat, `SELECT chat_id FROM fieldstaff_links WHERE user_id = $1`, *c.FieldReportBy)
	if db.IsNoRows(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reporter's chat: %w", err)
	}
	st := s.store.WithTx(tx)
	cit, err := st.Citizen(ctx, c.CitizenID)
	if err != nil {
		return err
	}
	// The report's row stays the message's owner; the outbox row goes to
	// the reporter's Telegram chat.
	cit.Channel, cit.ExternalID = ChannelTelegram, strconv.FormatInt(chat, 10)
	msg := text("de", "fieldreport.closed", c.ID, c.DepartmentName) + "\n" + text("en", "fieldreport.closed", c.ID, c.DepartmentName)
	m, err := st.Send(ctx, cit, Message{Sender: SenderBot, Kind: KindText, Text: msg}, Payload{Text: msg})
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO case_messages (case_id, message_id) VALUES ($1, $2)`, c.ID, m.ID); err != nil {
		return fmt.Errorf("link close notice: %w", err)
	}
	return nil
}

// OpenFieldReports lists the reporter's field reports that are not closed
// (for the staff member's /meinedaten), newest first, at most limit.
func (s *Cases) OpenFieldReports(ctx context.Context, q sqlx.QueryerContext, reporterID int64, limit int) ([]Case, error) {
	var out []Case
	if err := sqlx.SelectContext(ctx, q, &out, `SELECT `+caseColumns+caseFrom+`
		WHERE c.field_report AND c.field_report_by = $1 AND c.status <> 'closed'
		ORDER BY c.id DESC LIMIT $2`, reporterID, limit); err != nil {
		return nil, fmt.Errorf("list field reports: %w", err)
	}
	return out, nil
}

// OpenFieldReports is (*Cases).OpenFieldReports.
func (h *Handoff) OpenFieldReports(ctx context.Context, q sqlx.QueryerContext, reporterID int64, limit int) ([]Case, error) {
	return h.cases.OpenFieldReports(ctx, q, reporterID, limit)
}

// Reporter is the name of a field report's reporter ("" for none).
func (c Case) Reporter() string {
	if c.ReporterName == nil {
		return ""
	}
	return *c.ReporterName
}

// HasPosition reports whether the case is a field report with a position
// (FieldPosition); Lat and Lon are its coordinates.
func (c Case) HasPosition() bool {
	return c.FieldPosition != nil && c.FieldPosition.Latitude != nil && c.FieldPosition.Longitude != nil
}

// Lat is the latitude of a field report's position (0 without one).
func (c Case) Lat() float64 {
	if !c.HasPosition() {
		return 0
	}
	return *c.FieldPosition.Latitude
}

// Lon is the longitude of a field report's position (0 without one).
func (c Case) Lon() float64 {
	if !c.HasPosition() {
		return 0
	}
	return *c.FieldPosition.Longitude
}
