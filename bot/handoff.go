package bot

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"citybot/routing"
)

// ReasonRequested: the citizen asked for staff (/mitarbeiter).
const ReasonRequested = routing.ReasonRequested

// Desk is where the engine hands questions to staff (Config.Handoff;
// RoutingHandoff in the service): it proposes an office, opens the case
// once the citizen confirms, and runs the case side of the dialog (see
// dialog.go). All methods run in the transaction of the inbound message.
type Desk interface {
	Handoff
	// Propose ranks the departments for a question without opening a case
	// (best first, then a few alternatives).
	Propose(ctx context.Context, tx *sqlx.Tx, req HandoffRequest) ([]routing.DepartmentChoice, error)
	// Expectation words where the case is and when to expect a reply.
	Expectation(ctx context.Context, tx *sqlx.Tx, c routing.Case, lang string) (string, error)
	// Note links a message of the citizen's chat to the case without
	// making it the staff's turn (an FAQ question answered meanwhile).
	Note(ctx context.Context, tx *sqlx.Tx, caseID, messageID int64) error
	// ReopenWindow is how long after closing a citizen may reopen a case;
	// the engine skips the case lookup for a citizen with no case open or
	// closed within it.
	ReopenWindow() time.Duration
	// ActiveCase returns the case the citizen's next message belongs to:
	// the open one, or a closed one the message would reopen. ok is false
	// when there is none (the bot answers).
	ActiveCase(ctx context.Context, tx *sqlx.Tx, citizenID int64) (c routing.Case, ok bool, err error)
	// AddToCase adds a stored message of the citizen's chat to the case
	// (reopening a closed one within the reopen window). ok is false when
	// the case cannot take it any more (the bot answers).
	AddToCase(ctx context.Context, tx *sqlx.Tx, caseID, messageID int64) (c routing.Case, ok bool, err error)
	// Withdraw closes the citizen's open case at the citizen's request; ok
	// is false when there is none.
	Withdraw(ctx context.Context, tx *sqlx.Tx, citizenID int64) (c routing.Case, ok bool, err error)
	// ChangeDepartment moves the citizen's open case to dept and tells the
	// citizen (like HandOff). ok is false when there is no open case or the
	// department is unknown.
	ChangeDepartment(ctx context.Context, tx *sqlx.Tx, c routing.Citizen, dept string) (ok bool, err error)
}

// RoutingHandoff is the Desk of the routing package: routing picks the
// department and words the honest message about when staff answer; the
// citizen can choose another department with a button.
type RoutingHandoff struct {
	h     *routing.Handoff
	cases *routing.Cases
	// store runs the messages to the citizen (in the transaction of the
	// inbound message).
	store *routing.Store
	// bots stores the buttons of other departments (unprepared, in the
	// transaction of the inbound message).
	bots *Store
}

// ReopenWindow implements Desk: the cases' reopen window.
func (r *RoutingHandoff) ReopenWindow() time.Duration { return r.cases.ReopenWindow() }

// NewRoutingHandoff returns a Desk that opens cases with h in cases and
// sends its messages to the citizen through st: a Store of the database
// (routing.NewStore(db)) prepares their statements; nil runs them
// unprepared.
func NewRoutingHandoff(h *routing.Handoff, cases *routing.Cases, st *routing.Store) *RoutingHandoff {
	if st == nil {
		st = routing.NewStore(nil)
	}
	return &RoutingHandoff{h: h, cases: cases, store: st, bots: NewStore(nil)}
}

var _ Desk = (*RoutingHandoff)(nil)

// HandOff opens a case in the department routing picks (or finds the open
// one) and tells the citizen which department has the request, whether it
// is open and when to expect a reply, with a button to choose another
// department.
func (r *RoutingHandoff) HandOff(ctx context.Context, tx *sqlx.Tx, req HandoffRequest) (bool, error) {
	res, err := r.h.Start(ctx, tx, routing.HandoffRequest{
		CitizenID:  req.Citizen.ID,
		Question:   req.Question,
		Reason:     req.Reason,
		Language:   req.Citizen.Language,
		Candidates: RoutingCandidates(req.Candidates),
		Department: req.Department,
	})
	if err != nil {
		return false, err
	}
	cases := r.cases.WithTx(tx)
	if res.AlreadyOpen && req.Message.ID != 0 && req.Message.Direction == routing.DirectionIn && req.Message.Kind != routing.KindButton {
		// The question goes to the open case.
		if _, err := cases.AddCitizenMessage(ctx, res.Case.ID, req.Message.ID); err != nil && !errors.Is(err, routing.ErrNotFound) {
			return false, err
		}
	}
	t := textsFor(req.Citizen.Language)
	text := res.Message
	var buttons [][]routing.Button
	if !res.AlreadyOpen {
		text += "\n\n" + t.caseHintFor(req.Citizen.Channel)
		if len(res.Alternatives) > 0 {
			opts := make([]string, len(res.Alternatives))
			for i, a := range res.Alternatives {
				opts[i] = a.ID
			}
			caseID := res.Case.ID
			id, err := r.bots.WithTx(tx).insertChoice(ctx, req.Citizen.ID, choice{Kind: choiceDepartments, CaseID: &caseID, Options: opts})
			if err != nil {
				return false, err
			}
			buttons = [][]routing.Button{{{Text: t.otherOffice, Data: fmt.Sprintf("dp:%d:m", id)}}}
		}
	}
	return true, r.tell(ctx, tx, req.Citizen, res.Case.ID, text, buttons)
}

// tell sends text to the citizen and links it to the case, so that staff
// see in the transcript what the bot said.
func (r *RoutingHandoff) tell(ctx context.Context, tx *sqlx.Tx, c routing.Citizen, caseID int64, text string, buttons [][]routing.Button) error {
	m, err := r.store.WithTx(tx).Send(ctx, c, routing.Message{Kind: routing.KindText, Text: text}, routing.Payload{Text: text, Buttons: buttons})
	if err != nil {
		return err
	}
	if _, err := r.cases.WithTx(tx).AddCitizenMessage(ctx, caseID, m.ID); err != nil && !errors.Is(err, routing.ErrNotFound) {
		return err
	}
	return nil
}

// Propose implements Desk.
func (r *RoutingHandoff) Propose(ctx context.Context, tx *sqlx.Tx, req HandoffRequest) ([]routing.DepartmentChoice, error) {
	return r.h.Propose(ctx, tx, routing.HandoffRequest{
		CitizenID: req.Citizen.ID, Question: req.Question, Reason: req.Reason, Language: req.Citizen.Language,
		Candidates: RoutingCandidates(req.Candidates), Department: req.Department,
	})
}

// Expectation implements Desk.
func (r *RoutingHandoff) Expectation(ctx context.Context, tx *sqlx.Tx, c routing.Case, lang string) (string, error) {
	return r.h.Expectation(ctx, tx, c, lang)
}

// Note implements Desk.
func (r *RoutingHandoff) Note(ctx context.Context, tx *sqlx.Tx, caseID, messageID int64) error {
	err := r.cases.WithTx(tx).NoteMessage(ctx, caseID, messageID)
	if errors.Is(err, routing.ErrNotFound) {
		return nil
	}
	return err
}

// ActiveCase implements Desk.
func (r *RoutingHandoff) ActiveCase(ctx context.Context, tx *sqlx.Tx, citizenID int64) (routing.Case, bool, error) {
	c, err := r.cases.WithTx(tx).Active(ctx, citizenID)
	if errors.Is(err, routing.ErrNotFound) {
		return routing.Case{}, false, nil
	}
	if err != nil {
		return routing.Case{}, false, err
	}
	return c, true, nil
}

// AddToCase implements Desk.
func (r *RoutingHandoff) AddToCase(ctx context.Context, tx *sqlx.Tx, caseID, messageID int64) (routing.Case, bool, error) {
	c, err := r.cases.WithTx(tx).AddCitizenMessage(ctx, caseID, messageID)
	if errors.Is(err, routing.ErrNotFound) {
		return routing.Case{}, false, nil
	}
	if err != nil {
		return routing.Case{}, false, err
	}
	return c, true, nil
}

// Withdraw implements Desk.
func (r *RoutingHandoff) Withdraw(ctx context.Context, tx *sqlx.Tx, citizenID int64) (routing.Case, bool, error) {
	c, err := r.cases.WithTx(tx).Withdraw(ctx, citizenID)
	if errors.Is(err, routing.ErrNotFound) {
		return routing.Case{}, false, nil
	}
	if err != nil {
		return routing.Case{}, false, err
	}
	return c, true, nil
}

// ChangeDepartment implements Desk.
func (r *RoutingHandoff) ChangeDepartment(ctx context.Context, tx *sqlx.Tx, c routing.Citizen, dept string) (bool, error) {
	res, err := r.h.ChangeDepartment(ctx, tx, c.ID, dept, c.Language)
	if errors.Is(err, routing.ErrNotFound) || errors.Is(err, routing.ErrInvalid) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return true, r.tell(ctx, tx, c, res.Case.ID, res.Message, nil)
}
