package admin

import (
	"context"
	"io"

	"citybot/faq"
	"citybot/routing"
	"citybot/staff"
)

// Cases is the case domain the inbox uses; *routing.Cases implements it.
// Department isolation is enforced there, in the SQL: a case the viewer may
// not see is routing.ErrNotFound for every method.
type Cases interface {
	List(ctx context.Context, v staff.Principal, f routing.ListFilter) ([]routing.CaseSummary, string, error)
	Get(ctx context.Context, v staff.Principal, id int64) (routing.Case, error)
	Transcript(ctx context.Context, v staff.Principal, id int64) ([]routing.TranscriptItem, error)
	Reply(ctx context.Context, v staff.Principal, id int64, text string, attachments []routing.Attachment) ([]routing.Message, error)
	AddNote(ctx context.Context, v staff.Principal, id int64, text string) error
	Assign(ctx context.Context, v staff.Principal, id, userID int64) error
	Transfer(ctx context.Context, v staff.Principal, id int64, dept, note string) error
	Close(ctx context.Context, v staff.Principal, id int64) error
	Reopen(ctx context.Context, v staff.Principal, id int64) error
	MarkRead(ctx context.Context, v staff.Principal, id int64) error
	// Counts are the numbers of cases per inbox view; EarlierCases the
	// citizen's other cases (the case page).
	Counts(ctx context.Context, v staff.Principal) (map[string]int, error)
	EarlierCases(ctx context.Context, v staff.Principal, citizenID, except int64) ([]routing.EarlierCase, error)

	// Canned answers per department (admin/canned.go, the reply box); the
	// viewer sees and edits only its departments' answers (admins all).
	CannedAnswers(ctx context.Context, v staff.Principal, dept string) ([]routing.CannedAnswer, error)
	CannedAnswer(ctx context.Context, v staff.Principal, id int64) (routing.CannedAnswer, error)
	AddCannedAnswer(ctx context.Context, v staff.Principal, a routing.CannedAnswer) (routing.CannedAnswer, error)
	UpdateCannedAnswer(ctx context.Context, v staff.Principal, a routing.CannedAnswer) error
	DeleteCannedAnswer(ctx context.Context, v staff.Principal, id int64) error
}

// Rules are the admin-defined routing rules (admin/rules.go);
// *routing.RuleStore implements it. Its changes NOTIFY routing_changed, so
// every instance's router reloads.
type Rules interface {
	List(ctx context.Context) ([]routing.RuleRecord, error)
	Get(ctx context.Context, id int64) (routing.RuleRecord, error)
	// The changes take the acting admin and write their audit rows.
	Create(ctx context.Context, by staff.Principal, r routing.Rule, active bool) (routing.RuleRecord, error)
	Update(ctx context.Context, by staff.Principal, r routing.Rule, active bool) error
	SetActive(ctx context.Context, by staff.Principal, id int64, active bool) error
	Delete(ctx context.Context, by staff.Principal, id int64) error
}

// Files fetches the content of a citizen's file (a Telegram file_id) for
// the media proxy route. The bot implements it; the bot token never reaches
// the browser.
type Files interface {
	OpenFile(ctx context.Context, channel, fileID string) (io.ReadCloser, error)
}

// FAQSource lists FAQ entries for the "insert FAQ answer" picker;
// *faq.Store implements it.
type FAQSource interface {
	Entries(ctx context.Context, status string) ([]faq.Entry, error)
}
