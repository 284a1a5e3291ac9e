package bot

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"citybot/faq"
	"citybot/routing"
)

// The engine's side of the handoff: case mode, /mitarbeiter, /abbrechen,
// the "pass my question on?" confirmation and the department buttons.

// isMedia reports whether kind is a file or location worth acknowledging.
func isMedia(kind string) bool {
	switch kind {
	case routing.KindPhoto, routing.KindDocument, routing.KindLocation, routing.KindVoice:
		return true
	}
	return false
}

// caseMode adds the message to the citizen's active case, if there is one,
// and acknowledges it when that helps the citizen: the first message after a
// staff reply, a message that reopens a closed case, and files or locations
// (at most once per MediaAckInterval). Everything else gets no reply: staff
// answer. handled is false when the bot should answer the message itself.
func (h *turn) caseMode(ctx context.Context) (handled bool, err error) {
	d := h.e.desk
	if d == nil || h.in.Problem != ProblemNone || !h.mayHaveCase {
		return false, nil
	}
	if t := strings.TrimSpace(h.msg.Text); h.in.Kind == routing.KindText && strings.HasPrefix(t, "/") && knownCommands[commandName(t)] {
		return false, nil
	}
	c, ok, err := d.ActiveCase(ctx, h.tx, h.c.ID)
	if err != nil || !ok {
		return false, err
	}
	prev := c.Status
	if c, ok, err = d.AddToCase(ctx, h.tx, c.ID, h.msg.ID); err != nil || !ok {
		return false, err
	}
	h.res.Outcome = "case"
	office := officeName(c.DepartmentName)
	media := isMedia(h.in.Kind)
	var ack string
	switch {
	case prev == routing.CaseClosed:
		ack = fmt.Sprintf(h.t.caseReopened, office)
	case prev == routing.CaseAnswered && media:
		ack = fmt.Sprintf(h.t.caseMediaAck, h.t.noun(h.in.Kind), office)
	case prev == routing.CaseAnswered:
		ack = fmt.Sprintf(h.t.caseAck, office)
	case media:
		last, err := caseAckAt(ctx, h.tx, h.c.ID)
		if err != nil {
			return false, err
		}
		if time.Since(last) >= h.e.cfg.MediaAckInterval {
			ack = fmt.Sprintf(h.t.caseMediaAck, h.t.noun(h.in.Kind), office)
		}
	}
	if ack == "" {
		return true, nil
	}
	if err := setCaseAck(ctx, h.tx, h.c.ID); err != nil {
		return false, err
	}
	return true, h.sayToCase(ctx, c.ID, ack, nil)
}

// sayToCase says text and links it to the case, so that staff see in the
// transcript what the bot told the citizen.
func (h *turn) sayToCase(ctx context.Context, caseID int64, text string, buttons [][]routing.Button) error {
	m, err := h.sayMsg(ctx, text, buttons)
	if err != nil || m.ID == 0 || h.e.desk == nil {
		return err
	}
	_, _, err = h.e.desk.AddToCase(ctx, h.tx, caseID, m.ID)
	return err
}

// requestStaff opens a case on the citizen's request (/mitarbeiter). The
// question is the command's text, else the citizen's latest question.
func (h *turn) requestStaff(ctx context.Context, question string) error {
	hf := h.e.cfg.Handoff
	if hf == nil {
		return h.say(ctx, h.t.noStaff, nil)
	}
	if question == "" {
		var err error
		if question, err = lastQuestion(ctx, h.tx, h.c.ID, h.msg.ID); err != nil {
			return err
		}
	}
	question = truncateRunes(question, h.e.cfg.MaxQuestionLen)
	var cands []faq.Candidate
	if question != "" {
		cands = h.e.m.Match(question).Candidates
	}
	h.res.Outcome = "handoff"
	handled, err := hf.HandOff(ctx, h.tx, HandoffRequest{Citizen: h.c, Message: h.msg, Question: question, Reason: ReasonRequested, Candidates: cands})
	if err != nil {
		return fmt.Errorf("handoff: %w", err)
	}
	if !handled {
		return h.say(ctx, h.t.noStaff, nil)
	}
	return nil
}

// withdraw closes the citizen's open case (/abbrechen) and confirms it.
func (h *turn) withdraw(ctx context.Context) error {
	d := h.e.desk
	if d == nil {
		return h.say(ctx, h.t.noCase, nil)
	}
	c, ok, err := d.ActiveCase(ctx, h.tx, h.c.ID)
	if err != nil {
		return err
	}
	if !ok || !c.Open() {
		return h.say(ctx, h.t.noCase, nil)
	}
	// The command shows in the transcript, before the case closes.
	if _, _, err := d.AddToCase(ctx, h.tx, c.ID, h.msg.ID); err != nil {
		return err
	}
	if c, ok, err = d.Withdraw(ctx, h.tx, h.c.ID); err != nil {
		return err
	}
	if !ok {
		return h.say(ctx, h.t.noCase, nil)
	}
	h.res.Outcome = "withdrawn"
	return h.sayToCase(ctx, c.ID, fmt.Sprintf(h.t.withdrawn, officeName(c.DepartmentName)), nil)
}

// askHandoff asks whether to pass a question on after "not helpful" or
// "none of these"; the buttons carry the id of the stored question.
func (h *turn) askHandoff(ctx context.Context, question, reason, entryID string) error {
	id, err := insertChoice(ctx, h.tx, h.c.ID, choice{Kind: choiceHandoff, Question: truncateRunes(question, maxStoredText), Reason: reason, EntryID: entryID})
	if err != nil {
		return err
	}
	lead := h.t.notHelpfulLead
	if reason == ReasonNoSuggestionFit {
		lead = h.t.noFitLead
	}
	return h.say(ctx, lead+" "+h.t.handoffAsk, [][]routing.Button{{
		{Text: h.t.handoffYes, Data: fmt.Sprintf("ho:%d:y", id)},
		{Text: h.t.handoffNo, Data: fmt.Sprintf("ho:%d:n", id)},
	}})
}

// handoffButton handles "ho:ID:y|n"; ok is false for a stale button.
func (h *turn) handoffButton(ctx context.Context, id int64, arg string) (ok bool, err error) {
	if arg != "y" && arg != "n" {
		return false, nil
	}
	c, err := takeChoice(ctx, h.tx, h.c.ID, id, choiceHandoff, arg)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if time.Since(c.CreatedAt) > h.e.cfg.HandoffConfirmWindow {
		return false, nil
	}
	if arg == "n" {
		return true, h.say(ctx, h.t.handoffDeclined, nil)
	}
	hf := h.e.cfg.Handoff
	if hf == nil {
		return true, h.say(ctx, h.t.noStaff, nil)
	}
	h.res.Outcome = "handoff"
	handled, err := hf.HandOff(ctx, h.tx, HandoffRequest{
		Citizen: h.c, Message: h.msg, Question: c.Question, Reason: c.Reason,
		Candidates: h.e.m.Match(c.Question).Candidates,
	})
	if err != nil {
		return false, fmt.Errorf("handoff: %w", err)
	}
	if !handled {
		return true, h.say(ctx, h.t.notHelpfulReply, nil)
	}
	return true, nil
}

// departmentButton handles "dp:ID:m" (offer the alternatives), "dp:ID:a"
// (all departments), "dp:ID:k" (keep) and "dp:ID:N" (move the case to the
// N-th department of the row). Only a waiting case can move: once staff work
// on it, they transfer it if needed. ok is false for a stale button.
func (h *turn) departmentButton(ctx context.Context, id int64, arg string) (ok bool, err error) {
	d := h.e.desk
	if d == nil {
		return false, nil
	}
	ch, err := choiceByID(ctx, h.tx, h.c.ID, id, choiceDepartments)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	cs, ok, err := d.ActiveCase(ctx, h.tx, h.c.ID)
	if err != nil || !ok || !cs.Open() || ch.CaseID == nil || *ch.CaseID != cs.ID {
		return false, err
	}
	if arg == "k" {
		h.res.CallbackText = h.t.keptOffice
		return true, nil
	}
	if cs.Status != routing.CaseWaiting {
		return true, h.say(ctx, h.t.officeLocked, nil)
	}
	ds, err := departments(ctx, h.tx)
	if err != nil {
		return false, err
	}
	names := make(map[string]string, len(ds))
	for _, dep := range ds {
		names[dep.ID] = dep.Name
	}
	menu := func(choiceID int64, opts []string) [][]routing.Button {
		var rows [][]routing.Button
		for i, o := range opts {
			if name, ok := names[o]; ok && o != cs.Department {
				rows = append(rows, []routing.Button{{Text: truncateRunes(name, 60), Data: fmt.Sprintf("dp:%d:%d", choiceID, i)}})
			}
		}
		return rows
	}
	question := fmt.Sprintf(h.t.chooseOffice, officeName(cs.DepartmentName))
	keep := []routing.Button{{Text: h.t.keepOffice, Data: fmt.Sprintf("dp:%d:k", ch.ID)}}
	switch arg {
	case "m":
		rows := menu(ch.ID, ch.Options)
		rows = append(rows, []routing.Button{{Text: h.t.allOffices, Data: fmt.Sprintf("dp:%d:a", ch.ID)}}, keep)
		return true, h.say(ctx, question, rows)
	case "a":
		var all []string
		for _, dep := range ds {
			if dep.ID != cs.Department {
				all = append(all, dep.ID)
			}
		}
		caseID := cs.ID
		nid, err := insertChoice(ctx, h.tx, h.c.ID, choice{Kind: choiceDepartments, CaseID: &caseID, Options: all})
		if err != nil {
			return false, err
		}
		rows := append(menu(nid, all), keep)
		return true, h.say(ctx, question, rows)
	}
	i, err := strconv.Atoi(arg)
	if err != nil || i < 0 || i >= len(ch.Options) {
		return false, nil
	}
	return d.ChangeDepartment(ctx, h.tx, h.c, ch.Options[i])
}
