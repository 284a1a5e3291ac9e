package fieldstaff

import (
	"context"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"citybot/internal/apperr"
	"citybot/internal/db"
	"citybot/routing"
)

// Message is what a chat sent, as the bot hands it to HandleMessage.
type Message struct {
	ChatID int64
	Kind   string // routing.KindText, KindPhoto, KindLocation, KindButton, ...
	Text   string // the text or caption
	Data   string // a button's data (KindButton)
	// CallbackMsgID is the message whose button was pressed (0: unknown).
	CallbackMsgID int
	// MediaGroupID: the photo is part of an album.
	MediaGroupID string
	Media        *routing.Media
	// ReplyTo is the message this one replies to (0: none), ReplyToBot
	// whether that is the bot's (or forwarded), ReplyToText its start: a
	// reply to a case alert answers the citizen (HandleAlert).
	ReplyTo     int
	ReplyToBot  bool
	ReplyToText string
	// Flood is the flood limit of citizens' chats (the bot engine's):
	// HandleMessage applies it to staff chats too. Zero: no limit.
	Flood routing.Flood
	// NotStaff: the caller learnt in the same transaction (StaffChatsAmong)
	// that the chat is neither linked nor refused, so HandleMessage does
	// not load the chat's status again unless the message is a link code.
	NotStaff bool
}

// Button is an inline button of a staff reply.
type Button struct{ Text, Data string }

// Desk is routing as field reports need it (*routing.Handoff): the
// departments to offer (the classifier's suggestion first), the case of a
// report, and the reporter's open reports.
type Desk interface {
	FieldReportDepartments(ctx context.Context, tx *sqlx.Tx, text string) ([]routing.DepartmentChoice, error)
	OpenFieldReport(ctx context.Context, tx *sqlx.Tx, r routing.FieldReport) (routing.Case, error)
	OpenFieldReports(ctx context.Context, q sqlx.QueryerContext, reporterID int64, limit int) ([]routing.Case, error)
}

// WithDesk returns a copy of s that takes field reports from linked chats
// and hands them to d. Without a desk, a linked chat's photos get the
// "staff only" note.
func (s *Store) WithDesk(d Desk) *Store {
	c := *s
	c.desk = d
	return &c
}

// ButtonPrefix starts the data of the department buttons of a field
// report: "fr:<draft id>:<department id>", "fr:<draft id>:#<n>" (the n-th
// offered department, for an id too long for Telegram's 64 bytes) or
// "fr:<draft id>:x" (discard). The department id, not its place, is in
// the data: a later question may order the departments differently, and
// the buttons of an earlier one still mean what they say.
const ButtonPrefix = "fr:"

// maxButtons bounds the departments offered on buttons.
const maxButtons = 30

// photoList is a draft's photos as jsonb.
type photoList []routing.Media

func (p photoList) Value() (driver.Value, error) {
	if p == nil {
		return []byte("[]"), nil
	}
	return json.Marshal([]routing.Media(p))
}

func (p *photoList) Scan(src any) error {
	b, ok := src.([]byte)
	if !ok {
		return fmt.Errorf("photos: unexpected %T", src)
	}
	return json.Unmarshal(b, (*[]routing.Media)(p))
}

type draft struct {
	ID        int64          `db:"id"`
	UserID    int64          `db:"user_id"`
	Text      string         `db:"text"`
	Photos    photoList      `db:"photos"`
	Location  *routing.Media `db:"location"`
	LastGroup string         `db:"last_group"`
	Offered   pq.StringArray `db:"offered"`
}

func (d draft) empty() bool { return d.Text == "" && len(d.Photos) == 0 && d.Location == nil }

// complete: photos and a position; the bot asks for the department.
func (d draft) complete() bool { return len(d.Photos) > 0 && d.Location != nil }

const draftColumns = `id, user_id, text, photos, location, last_group, offered`

// loadDraft locks and returns the chat's draft, creating an empty one
// when create is set; ErrNotFound when there is none.
func loadDraft(ctx context.Context, tx *sqlx.Tx, l Link, create bool) (draft, error) {
	var d draft
	err := tx.GetContext(ctx, &d, `SELECT `+draftColumns+` FROM fieldstaff_drafts WHERE chat_id = $1 FOR UPDATE`, l.ChatID)
	if db.IsNoRows(err) && create {
		err = tx.GetContext(ctx, &d, `INSERT INTO fieldstaff_drafts (chat_id, user_id) VALUES ($1, $2) RETURNING `+draftColumns, l.ChatID, l.UserID)
	}
	if db.IsNoRows(err) {
		return d, fmt.Errorf("draft: %w", ErrNotFound)
	}
	if err != nil {
		return d, fmt.Errorf("load draft: %w", err)
	}
	return d, nil
}

func saveDraft(ctx context.Context, tx *sqlx.Tx, d draft) error {
	if _, err := tx.ExecContext(ctx, `UPDATE fieldstaff_drafts SET text = $2, photos = $3, location = $4, last_group = $5,
		offered = $6, updated_at = now() WHERE id = $1`, d.ID, d.Text, d.Photos, d.Location, d.LastGroup, d.Offered); err != nil {
		return fmt.Errorf("save draft: %w", err)
	}
	return nil
}

// fieldReport handles what a linked chat sends for a field report: photos,
// a position, text, /senden, /abbrechen and the department buttons. ok is
// false for anything else (the commands of bot.go).
func (s *Store) fieldReport(ctx context.Context, tx *sqlx.Tx, l Link, m Message) (r Reply, ok bool, err error) {
	if s.desk == nil {
		return Reply{}, false, nil
	}
	r.Handled = true
	cmd, _ := command(strings.TrimSpace(m.Text))
	if m.Kind == routing.KindDocument && m.Media != nil && slices.Contains(imageTypes, strings.ToLower(m.Media.MIMEType)) {
		m.Kind = routing.KindPhoto // a photo sent as a file (full quality)
	}
	switch {
	case m.Kind == routing.KindButton:
		if !strings.HasPrefix(m.Data, ButtonPrefix) {
			return Reply{}, false, nil
		}
		r, err = s.choose(ctx, tx, l, m)
		return r, true, err
	case m.Kind == routing.KindText && (cmd == "/abbrechen" || cmd == "/cancel"):
		res, err := tx.ExecContext(ctx, `DELETE FROM fieldstaff_drafts WHERE chat_id = $1`, l.ChatID)
		if err != nil {
			return r, true, fmt.Errorf("discard draft: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			r.Text = both("report.no_draft")
		} else {
			r.Text = both("report.discarded")
		}
		return r, true, nil
	case m.Kind == routing.KindText && (cmd == "/senden" || cmd == "/send"):
		d, err := loadDraft(ctx, tx, l, false)
		if errors.Is(err, ErrNotFound) || err == nil && d.empty() {
			r.Text = both("report.no_draft")
			return r, true, nil
		}
		if err != nil {
			return r, true, err
		}
		r, err = s.ask(ctx, tx, d)
		return r, true, err
	case m.Kind == routing.KindText && cmd == "" && strings.TrimSpace(m.Text) != "":
		d, err := loadDraft(ctx, tx, l, true)
		if err != nil {
			return r, true, err
		}
		t := strings.TrimSpace(m.Text)
		if d.Text != "" {
			t = d.Text + "\n" + t
		}
		if utf8.RuneCountInString(t) > routing.MaxFieldReportText {
			r.Text = both("report.too_long", routing.MaxFieldReportText)
			return r, true, nil
		}
		d.Text = t
		return s.progress(ctx, tx, d, true)
	case m.Kind == routing.KindPhoto && m.Media != nil && m.Media.FileID != "":
		d, err := loadDraft(ctx, tx, l, true)
		if err != nil {
			return r, true, err
		}
		album := m.MediaGroupID != "" && (d.LastGroup == m.MediaGroupID || d.LastGroup == "full:"+m.MediaGroupID)
		if len(d.Photos) >= routing.MaxFieldReportPhotos {
			if d.LastGroup == "full:"+m.MediaGroupID && m.MediaGroupID != "" {
				return Reply{Handled: true}, true, nil // told already for this album
			}
			d.LastGroup = "full:" + m.MediaGroupID
			if err := saveDraft(ctx, tx, d); err != nil {
				return r, true, err
			}
			r.Text = both("report.too_many_photos", routing.MaxFieldReportPhotos)
			return r, true, nil
		}
		p := *m.Media
		p.Type = routing.KindPhoto
		d.Photos = append(d.Photos, p)
		d.LastGroup = m.MediaGroupID
		if c := strings.TrimSpace(m.Text); c != "" && utf8.RuneCountInString(d.Text)+utf8.RuneCountInString(c) < routing.MaxFieldReportText {
			if d.Text != "" {
				c = d.Text + "\n" + c
			}
			d.Text = c
		}
		// The later photos of an album are taken in silently, unless one
		// completes the report.
		wasComplete := d.Location != nil && len(d.Photos) > 1
		return s.progress(ctx, tx, d, !album || !wasComplete && d.complete())
	case m.Kind == routing.KindLocation && m.Media != nil && m.Media.Latitude != nil && m.Media.Longitude != nil:
		d, err := loadDraft(ctx, tx, l, true)
		if err != nil {
			return r, true, err
		}
		loc := *m.Media
		loc.Type = routing.KindLocation
		d.Location = &loc
		return s.progress(ctx, tx, d, true)
	case m.Media != nil && m.Kind != routing.KindButton:
		// A video, voice message, sticker, other file: not lost silently.
		r.Text = both("report.only_photos")
		return r, true, nil
	}
	return Reply{}, false, nil
}

// imageTypes are the files taken as photos of a report (what browsers
// show; the inbox's media proxy checks the content again).
var imageTypes = []string{"image/jpeg", "image/png", "image/webp"}

// progress saves d and, when say, tells what the report has and lacks, or
// asks for the department once it is complete.
func (s *Store) progress(ctx context.Context, tx *sqlx.Tx, d draft, say bool) (Reply, bool, error) {
	if err := saveDraft(ctx, tx, d); err != nil {
		return Reply{}, true, err
	}
	if !say {
		return Reply{Handled: true}, true, nil
	}
	if d.complete() {
		r, err := s.ask(ctx, tx, d)
		return r, true, err
	}
	return Reply{Handled: true, Text: summary(d) + "\n\n" + textMissing(d)}, true, nil
}

// ask offers the departments on buttons, the classifier's suggestion
// first, and remembers them in the draft.
func (s *Store) ask(ctx context.Context, tx *sqlx.Tx, d draft) (Reply, error) {
	deps, err := s.desk.FieldReportDepartments(ctx, tx, d.Text)
	if err != nil {
		return Reply{}, fmt.Errorf("field report departments: %w", err)
	}
	if len(deps) > maxButtons {
		deps = deps[:maxButtons]
	}
	d.Offered = d.Offered[:0]
	r := Reply{Handled: true, Text: summary(d) + "\n\n" + both("report.ask")}
	for i, dep := range deps {
		d.Offered = append(d.Offered, dep.ID)
		label := dep.Name
		if i == 0 {
			label = textIn("de", "report.suggested", dep.Name)
		}
		data := ButtonPrefix + strconv.FormatInt(d.ID, 10) + ":" + dep.ID
		if len(data) > 64 || dep.ID == "x" || strings.HasPrefix(dep.ID, "#") {
			data = ButtonPrefix + strconv.FormatInt(d.ID, 10) + ":#" + strconv.Itoa(i)
		}
		r.Buttons = append(r.Buttons, Button{Text: label, Data: data})
	}
	r.Buttons = append(r.Buttons, Button{Text: textIn("de", "report.discard_button") + " / " + textIn("en", "report.discard_button"), Data: ButtonPrefix + strconv.FormatInt(d.ID, 10) + ":x"})
	return r, saveDraft(ctx, tx, d)
}

// choose handles a department button: "fr:<draft id>:<n>" opens the case
// in the n-th offered department, "fr:<draft id>:x" discards the draft.
// A button of another chat's draft, of a report sent or discarded, or with
// bogus data is answered and changes nothing.
func (s *Store) choose(ctx context.Context, tx *sqlx.Tx, l Link, m Message) (Reply, error) {
	r := Reply{Handled: true, ClearButtons: m.CallbackMsgID}
	parts := strings.Split(strings.TrimPrefix(m.Data, ButtonPrefix), ":")
	var id int64
	var err error
	if len(parts) == 2 {
		id, err = strconv.ParseInt(parts[0], 10, 64)
	}
	if len(parts) != 2 || err != nil || id <= 0 {
		r.Text = both("report.bad_button")
		return r, nil
	}
	var d draft
	err = tx.GetContext(ctx, &d, `SELECT `+draftColumns+` FROM fieldstaff_drafts WHERE id = $1 AND chat_id = $2 FOR UPDATE`, id, l.ChatID)
	if db.IsNoRows(err) {
		r.Text = both("report.stale_button")
		return r, nil
	}
	if err != nil {
		return Reply{}, fmt.Errorf("load draft: %w", err)
	}
	if parts[1] == "x" {
		if _, err := tx.ExecContext(ctx, `DELETE FROM fieldstaff_drafts WHERE id = $1`, d.ID); err != nil {
			return Reply{}, fmt.Errorf("discard draft: %w", err)
		}
		r.Text = both("report.discarded")
		return r, nil
	}
	dept := ""
	if num, ok := strings.CutPrefix(parts[1], "#"); ok {
		if n, err := strconv.Atoi(num); err == nil && n >= 0 && n < len(d.Offered) && num == strconv.Itoa(n) {
			dept = d.Offered[n]
		}
	} else if slices.Contains(d.Offered, parts[1]) {
		dept = parts[1]
	}
	if dept == "" {
		r.Text = both("report.bad_button")
		return r, nil
	}
	if d.empty() {
		r.Text = both("report.no_draft")
		return r, nil
	}
	c, err := s.desk.OpenFieldReport(ctx, tx, routing.FieldReport{
		Key: strconv.FormatInt(d.ID, 10), ReporterID: l.UserID, Department: dept,
		Text: d.Text, Photos: d.Photos, Location: d.Location,
	})
	if apperr.Is(err, apperr.Invalid) {
		// The department went away meanwhile (checked before any write):
		// ask again.
		ar, aerr := s.ask(ctx, tx, d)
		ar.Text = both("report.department_gone") + "\n\n" + ar.Text
		ar.ClearButtons = m.CallbackMsgID
		return ar, aerr
	}
	if err != nil {
		return Reply{}, err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM fieldstaff_drafts WHERE id = $1`, d.ID); err != nil {
		return Reply{}, fmt.Errorf("delete draft: %w", err)
	}
	r.Text = both("report.sent", c.ID, c.DepartmentName)
	return r, nil
}

// myReports lists the reporter's open field reports for /meinedaten.
func (s *Store) myReports(ctx context.Context, tx *sqlx.Tx, l Link) (string, error) {
	if s.desk == nil {
		return "", nil
	}
	cs, err := s.desk.OpenFieldReports(ctx, tx, l.UserID, 20)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString("\n\n" + pair("report.open_list"))
	if len(cs) == 0 {
		b.WriteString(" –")
	}
	for _, c := range cs {
		fmt.Fprintf(&b, "\n#%d %s, %s", c.ID, c.DepartmentName, c.CreatedAt.In(s.loc).Format("02.01.2006 15:04"))
	}
	var draftPhotos int
	err = tx.GetContext(ctx, &draftPhotos, `SELECT jsonb_array_length(photos) FROM fieldstaff_drafts WHERE chat_id = $1`, l.ChatID)
	switch {
	case err == nil:
		b.WriteString("\n" + both("report.draft_line", draftPhotos))
	case !db.IsNoRows(err):
		return "", fmt.Errorf("load draft: %w", err)
	}
	return b.String(), nil
}

func summary(d draft) string {
	pos := "–"
	if d.Location != nil && d.Location.Latitude != nil && d.Location.Longitude != nil {
		pos = strconv.FormatFloat(*d.Location.Latitude, 'f', 5, 64) + ", " + strconv.FormatFloat(*d.Location.Longitude, 'f', 5, 64)
		if d.Location.Title != "" {
			pos = d.Location.Title + " (" + pos + ")"
		}
	}
	text := func(lang string) string {
		if d.Text == "" {
			return "–"
		}
		return textIn(lang, "report.chars", utf8.RuneCountInString(d.Text))
	}
	return textIn("de", "report.summary", len(d.Photos), pos, text("de")) + "\n\n" +
		textIn("en", "report.summary", len(d.Photos), pos, text("en"))
}

func textMissing(d draft) string {
	missing := func(lang string) string {
		var miss []string
		if len(d.Photos) == 0 {
			miss = append(miss, textIn(lang, "report.missing_photos"))
		}
		if d.Location == nil {
			miss = append(miss, textIn(lang, "report.missing_position"))
		}
		return textIn(lang, "report.missing", strings.Join(miss, ", "))
	}
	return missing("de") + "\n" + missing("en") + "\n\n" + both("report.help")
}
