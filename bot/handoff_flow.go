package bot

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"citybot/routing"
)

// The engine's side of the handoff: /mitarbeiter, /abbrechen, the buttons
// of the "pass my question on?" confirmation, of a reopen and of the
// department choice. The dialog around them is in dialog_flow.go.

// isMedia reports whether kind is a file or location worth acknowledging.
func isMedia(kind string) bool {
	switch kind {
	case routing.KindPhoto, routing.KindDocument, routing.KindLocation, routing.KindVoice:
		return true
	}
	return false
}

// sayToCase says text and links it to the case, so that staff see in the
// transcript what the bot told the citizen.
func (h *turn) sayToCase(ctx context.Context, caseID int64, text string, buttons [][]routing.Button) error {
	m, err := h.sayMsg(ctx, text, buttons)
	if err != nil || m.ID == 0 || h.e.desk == nil {
		return err
	}
	_, _, err = h.e.desk.AddToCase(ctx, h.txFor(ctx), caseID, m.ID)
	return err
}

// staffCommand is /mitarbeiter: with a text, the confirmation for it;
// bare, "Worum geht es?" (or, with a case open, where it is).
func (h *turn) staffCommand(ctx context.Context, question string) error {
	if h.e.desk == nil {
		return h.say(ctx, h.t.noStaff, nil)
	}
	st := h.state()
	ev := EvHuman
	if question = truncateRunes(strings.TrimSpace(question), h.e.cfg.MaxQuestionLen); question != "" {
		ev = EvStaffRequest
	}
	if st == StateTopic {
		st = StateIdle // a bare /mitarbeiter asks what it is about
	}
	return h.run(ctx, st, ev, question)
}

// withdraw closes the citizen's open case (/abbrechen) and confirms it;
// without one it drops an open confirmation.
func (h *turn) withdraw(ctx context.Context) error {
	d := h.e.desk
	if d == nil {
		return h.say(ctx, h.t.noCase, nil)
	}
	c, ok := h.cs, h.hasCase
	if !ok || !c.Open() {
		if st := h.state(); st == StateConfirm || st == StateAskTopic || st == StateConfirmReopen {
			return h.run(ctx, st, EvNo, "")
		}
		return h.say(ctx, h.t.noCase, nil)
	}
	var err error
	// The command shows in the transcript, before the case closes.
	if _, _, err := d.AddToCase(ctx, h.txFor(ctx), c.ID, h.msg.ID); err != nil {
		return err
	}
	if c, ok, err = d.Withdraw(ctx, h.txFor(ctx), h.c.ID); err != nil {
		return err
	}
	if !ok {
		return h.say(ctx, h.t.noCase, nil)
	}
	h.res.Outcome = "withdrawn"
	return h.sayToCase(ctx, c.ID, fmt.Sprintf(h.t.withdrawn, officeName(c.DepartmentName)), nil)
}

// handoffButton handles the confirmation's buttons: "ho:ID:y" (pass it
// on to the proposed office), "ho:ID:N" (to the N-th proposed office),
// "ho:ID:m" (show the other offices), "ho:ID:a" (all offices) and
// "ho:ID:n" (no). ok is false for a stale button.
func (h *turn) handoffButton(ctx context.Context, id int64, arg string) (ok bool, err error) {
	c, err := h.bots(ctx).choiceByID(ctx, h.c.ID, id, choiceHandoff)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if c.Chosen != nil || time.Since(c.CreatedAt) > h.e.cfg.HandoffConfirmWindow {
		return false, nil
	}
	if err := h.loadState(ctx); err != nil {
		return false, err
	}
	if h.hasCase && h.cs.Open() {
		// A case opened meanwhile: the question goes there.
		if _, err := h.bots(ctx).takeChoice(ctx, h.c.ID, c.ID, choiceHandoff, arg); err != nil {
			return false, err
		}
		h.res.Keyboard = &Keyboard{}
		return true, h.expectation(ctx)
	}
	switch arg {
	case "n":
		if _, err := h.bots(ctx).takeChoice(ctx, h.c.ID, c.ID, choiceHandoff, arg); err != nil {
			return false, err
		}
		h.res.Keyboard = &Keyboard{}
		return true, h.say(ctx, h.t.handoffDeclined, nil)
	case "y":
		h.res.Keyboard = &Keyboard{}
		return true, h.openCase(ctx, c, 0, arg)
	case "m", "a":
		ds, err := h.bots(ctx).departments(ctx)
		if err != nil {
			return false, err
		}
		names := make(map[string]string, len(ds))
		for _, d := range ds {
			names[d.ID] = d.Name
		}
		opts := c.Options
		if arg == "a" || len(opts) <= 1 {
			// every office; the proposed one first, so that index 0 stays it
			all := []string{}
			if len(opts) > 0 {
				all = append(all, opts[0])
			}
			for _, d := range ds {
				if len(opts) == 0 || d.ID != opts[0] {
					all = append(all, d.ID)
				}
			}
			if err := h.bots(ctx).extendChoice(ctx, h.c.ID, c.ID, c.Question, all); err != nil {
				return false, err
			}
			opts = all
		}
		var rows [][]routing.Button
		for i, o := range opts {
			if i == 0 && len(opts) > 1 {
				continue // the proposed office has the "yes" button
			}
			if name, ok := names[o]; ok {
				rows = append(rows, []routing.Button{{Text: truncateRunes(name, 60), Data: fmt.Sprintf("ho:%d:%d", c.ID, i)}})
			}
		}
		if arg == "m" && len(c.Options) > 1 {
			rows = append(rows, []routing.Button{{Text: h.t.allOffices, Data: fmt.Sprintf("ho:%d:a", c.ID)}})
		}
		rows = append(rows, []routing.Button{{Text: h.t.handoffNo, Data: fmt.Sprintf("ho:%d:n", c.ID)}})
		return true, h.say(ctx, h.t.chooseOfficeFirst, rows)
	}
	i, err := strconv.Atoi(arg)
	if err != nil || i < 0 || i >= len(c.Options) {
		return false, nil
	}
	h.res.Keyboard = &Keyboard{}
	return true, h.openCase(ctx, c, i, arg)
}

// reopenButton handles "ro:ID:y" (reopen the closed case), "ro:ID:q" (a
// new question instead) and "ro:ID:n" (neither).
func (h *turn) reopenButton(ctx context.Context, id int64, arg string) (ok bool, err error) {
	c, err := h.bots(ctx).choiceByID(ctx, h.c.ID, id, choiceReopen)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if c.Chosen != nil || time.Since(c.CreatedAt) > h.e.cfg.HandoffConfirmWindow {
		return false, nil
	}
	if err := h.loadState(ctx); err != nil {
		return false, err
	}
	switch arg {
	case "y":
		h.res.Keyboard = &Keyboard{}
		if !h.hasCase || h.cs.Open() || c.CaseID == nil || *c.CaseID != h.cs.ID {
			if _, err := h.bots(ctx).takeChoice(ctx, h.c.ID, c.ID, choiceReopen, arg); err != nil {
				return false, err
			}
			return true, h.say(ctx, h.t.staleReopen, nil)
		}
		return true, h.reopen(ctx, c)
	case "q":
		h.res.Keyboard = &Keyboard{}
		if _, err := h.bots(ctx).takeChoice(ctx, h.c.ID, c.ID, choiceReopen, arg); err != nil {
			return false, err
		}
		return true, h.askConfirm(ctx, c.Question, ReasonNoMatch, "", h.e.m.Match(c.Question).Candidates)
	case "n":
		h.res.Keyboard = &Keyboard{}
		if _, err := h.bots(ctx).takeChoice(ctx, h.c.ID, c.ID, choiceReopen, arg); err != nil {
			return false, err
		}
		return true, h.say(ctx, h.t.handoffDeclined, nil)
	}
	return false, nil
}

// moreButton sends the rest of a long answer ("mo:ID:r") or the whole
// answer after a follow-up excerpt ("mo:ID:a").
func (h *turn) moreButton(ctx context.Context, id int64, arg string) (ok bool, err error) {
	a, err := h.bots(ctx).answerByID(ctx, h.c.ID, id)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	entry, found := h.e.m.Entry(a.EntryID)
	if !found {
		return true, h.say(ctx, h.t.entryGone, nil)
	}
	text, translated := h.answerText(entry)
	if arg == "r" {
		if r := rest(text, summaryLen); r != "" {
			text = r
		}
	}
	// the summary keeps its feedback buttons; "Mehr dazu" is used up
	h.res.Keyboard = &Keyboard{Buttons: [][]routing.Button{{
		{Text: h.t.helpful, Data: fmt.Sprintf("fb:%d:y", id)},
		{Text: h.t.notHelpful, Data: fmt.Sprintf("fb:%d:n", id)},
	}}}
	if err := h.bots(ctx).setTopic(ctx, h.c.ID, entry.ID, a.Question); err != nil {
		return false, err
	}
	_, err = h.sendEntry(ctx, strings.TrimSpace(entry.Question), text, !translated, nil, false)
	return true, err
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
	ch, err := h.bots(ctx).choiceByID(ctx, h.c.ID, id, choiceDepartments)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	cs, ok, err := d.ActiveCase(ctx, h.txFor(ctx), h.c.ID)
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
	ds, err := h.bots(ctx).departments(ctx)
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
		nid, err := h.insertChoice(ctx, choice{Kind: choiceDepartments, CaseID: &caseID, Options: all})
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
	return d.ChangeDepartment(ctx, h.txFor(ctx), h.c, ch.Options[i])
}
