package bot

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"citybot/faq"
	"citybot/internal/german"
	"citybot/routing"
)

// Kind of bot_choices rows that ask before reopening a closed case.
const choiceReopen = "reopen"

// loadState reads what the dialog's state is derived from.
func (h *turn) loadState(ctx context.Context) error {
	if h.loaded {
		return nil
	}
	h.loaded = true
	var dc dialogContext
	if h.pre != nil {
		dc = *h.pre
	} else {
		var err error
		if dc, err = h.bots(ctx).loadDialog(ctx, h.c.ID, h.e.cfg.ConfirmWindow); err != nil {
			return err
		}
	}
	h.dc, h.dcRead = dc, true
	if d := h.e.desk; d != nil && h.mayHaveCase {
		cs, ok, err := d.ActiveCase(ctx, h.txFor(ctx), h.c.ID)
		if err != nil {
			return err
		}
		h.cs, h.hasCase = cs, ok
	}
	return nil
}

// supersedeChoices closes the citizen's open confirmations (see the
// function of that name); it skips the statement when the turn knows there
// are none.
func (h *turn) supersedeChoices(ctx context.Context) error {
	if h.dcRead && !h.dc.OpenChoices {
		return nil
	}
	if err := h.bots(ctx).supersedeChoices(ctx, h.c.ID); err != nil {
		return err
	}
	h.dc.OpenChoices = false
	return nil
}

// insertChoice stores an open confirmation of the turn's citizen.
func (h *turn) insertChoice(ctx context.Context, c choice) (int64, error) {
	id, err := h.bots(ctx).insertChoice(ctx, h.c.ID, c)
	if err == nil && (c.Kind == choiceHandoff || c.Kind == choiceReopen) {
		h.dc.OpenChoices = true
	}
	return id, err
}

// state derives the dialog's state (dialog.go) from what loadState read.
func (h *turn) state() State {
	if h.hasCase && h.cs.Open() {
		return StateCaseOpen
	}
	p, pending := h.dc.pending()
	if h.hasCase {
		if pending && p.Kind == choiceReopen && p.CaseID != nil && *p.CaseID == h.cs.ID {
			return StateConfirmReopen
		}
		return StateCaseClosed
	}
	if pending && p.Kind == choiceHandoff {
		return StateConfirm
	}
	now := time.Now()
	if at := h.dc.AskTopicAt; at != nil && now.Sub(*at) < h.e.cfg.AskTopicWindow {
		return StateAskTopic
	}
	if at := h.dc.TopicAt; at != nil && h.dc.TopicEntryID != "" && now.Sub(*at) < h.e.cfg.FollowUpWindow {
		return StateTopic
	}
	return StateIdle
}

// useLanguage picks the language of the reply: the text's when it is clear
// (and remembered), else the one the citizen wrote in before, else the
// channel's setting.
func (h *turn) useLanguage(ctx context.Context, text string) error {
	lang := textLanguage(text)
	if lang != "" && lang != h.dc.Lang {
		if err := h.bots(ctx).setLang(ctx, h.c.ID, lang); err != nil {
			return err
		}
		h.dc.Lang = lang
	}
	if lang == "" {
		lang = h.dc.Lang
	}
	if lang != "" && !strings.HasPrefix(strings.ToLower(h.c.Language), lang) {
		h.c.Language = lang
	}
	h.t = textsFor(h.c.Language)
	return nil
}

// converse handles a text, caption or file through the dialog's state
// machine: it derives the state, classifies the message into an event and
// executes the transition's action.
func (h *turn) converse(ctx context.Context) error {
	text := strings.TrimSpace(h.msg.Text)
	isText := h.in.Kind == routing.KindText
	if err := h.loadState(ctx); err != nil {
		return err
	}
	known := isText && strings.HasPrefix(text, "/") && knownCommands[commandName(text)]
	st := h.state()
	flooded, notice := h.e.Flood().Check(h.recentIn)
	if st == StateCaseOpen && !known && (flooded || (isText && strings.HasPrefix(text, "/"))) {
		// A flood, or an unknown command, goes to the case unacknowledged.
		h.res.Outcome = "case"
		_, _, err := h.e.desk.AddToCase(ctx, h.txFor(ctx), h.cs.ID, h.msg.ID)
		return err
	}
	if flooded {
		// Too many messages: one notice when the limit is reached, then
		// silence until the rate drops (the message is stored).
		h.res.Outcome = "flood"
		if notice {
			return h.say(ctx, h.t.flood, nil)
		}
		return nil
	}
	if known {
		if err := h.useLanguage(ctx, ""); err != nil {
			return err
		}
		h.res.Outcome = "command"
		return h.command(ctx, text)
	}
	if err := h.useLanguage(ctx, text); err != nil {
		return err
	}
	var ev Event
	switch {
	case !isText && (text == "" || st == StateCaseOpen || st == StateCaseClosed || st == StateConfirmReopen):
		ev = EvMedia
	case isText && strings.HasPrefix(text, "/"):
		h.res.Outcome = "command"
		return h.say(ctx, h.t.unknownCommand, nil)
	case text == "":
		h.res.Outcome = "empty"
		return h.say(ctx, h.t.empty, nil)
	case utf8.RuneCountInString(text) > h.e.cfg.MaxQuestionLen:
		h.res.Outcome = "too_long"
		return h.say(ctx, fmt.Sprintf(h.t.tooLong, h.e.cfg.MaxQuestionLen), nil)
	default:
		if err := h.takePostQuestion(ctx); err != nil {
			return err
		}
		ev = h.classify(text, st)
	}
	return h.run(ctx, st, ev, text)
}

// classify turns a text into the dialog's event; it runs the FAQ matcher
// when the text is not an intent of its own.
func (h *turn) classify(text string, st State) Event {
	in, request := classifyIntent(text)
	switch in {
	case intentEmpty:
		return EvEmpty
	case intentGreeting:
		return EvGreeting
	case intentThanks:
		return EvThanks
	case intentGoodbye:
		return EvGoodbye
	case intentBot:
		return EvBot
	case intentCapabilities:
		return EvCapabilities
	case intentInsult:
		return EvInsult
	case intentImpatience:
		var vague bool
		vague, h.cue = vagueQuestion(text)
		if vague && h.cue != cueNone && st != StateCaseOpen {
			// "wie lange dauert das?" asks about a topic, not about a case
			return EvVague
		}
		return EvImpatience
	case intentYes:
		return EvYes
	case intentNo:
		return EvNo
	case intentHuman:
		if request {
			return EvStaffRequest
		}
		return EvHuman
	}
	vague, cue := vagueQuestion(text)
	h.cue = cue
	if vague && st != StateCaseOpen && st != StateCaseClosed && st != StateConfirmReopen {
		// "und was kostet das?" names no topic: it is about the last
		// answer (or needs one), whatever the matcher makes of the words.
		return EvVague
	}
	r := h.e.m.Match(text)
	h.match = &r
	switch r.Decision {
	case faq.DecisionAnswer:
		return EvFAQ
	case faq.DecisionSuggest:
		if st == StateCaseOpen || st == StateCaseClosed || st == StateConfirmReopen {
			// unsure guesses do not interrupt a case: staff have the context
			return EvQuestion
		}
		return EvFAQ
	case faq.DecisionSmalltalk:
		if r.Smalltalk == german.SmalltalkThanks || r.Smalltalk == german.SmalltalkOK {
			return EvThanks
		}
		return EvGreeting
	}
	if vague {
		return EvVague
	}
	return EvQuestion
}

// run executes the transition of event ev in state st.
func (h *turn) run(ctx context.Context, st State, ev Event, text string) error {
	step := Transition(st, ev)
	h.res.Outcome = step.Do.String()
	h.res.State, h.res.Event, h.res.Action = st, ev, step.Do
	switch step.Do {
	case ActReply:
		h.res.Outcome = "smalltalk"
		return h.reply(ctx, st, ev, text)
	case ActAnswer, ActAnswerNote:
		if h.match == nil {
			r := h.e.m.Match(text)
			h.match = &r
		}
		return h.answerMatch(ctx, text, step.Do == ActAnswerNote)
	case ActFollowUp:
		return h.followUp(ctx, text)
	case ActAskDetail:
		return h.say(ctx, h.t.askDetail, nil)
	case ActAskConfirm:
		return h.confirmQuestion(ctx, st, ev, text)
	case ActExtendConfirm:
		p, _ := h.dc.pending()
		p.Question = truncateRunes(strings.TrimSpace(p.Question+"\n"+text), maxStoredText)
		if err := h.bots(ctx).extendChoice(ctx, h.c.ID, p.ID, p.Question, p.Options); err != nil {
			return err
		}
		return h.showConfirm(ctx, p, h.t.confirmExtended)
	case ActRemindConfirm:
		p, _ := h.dc.pending()
		if p.Kind == choiceReopen {
			return h.showReopen(ctx, p)
		}
		return h.showConfirm(ctx, p, h.t.confirmRemind)
	case ActOpenCase:
		p, _ := h.dc.pending()
		return h.openCase(ctx, p, 0, "y")
	case ActDecline:
		if err := h.supersedeChoices(ctx); err != nil {
			return err
		}
		if err := h.bots(ctx).setAskTopic(ctx, h.c.ID, false); err != nil {
			return err
		}
		return h.say(ctx, h.t.handoffDeclined, nil)
	case ActAskTopic:
		if err := h.bots(ctx).setAskTopic(ctx, h.c.ID, true); err != nil {
			return err
		}
		return h.say(ctx, h.t.askTopic, nil)
	case ActAddToCase:
		h.res.Outcome = "case"
		return h.addToCase(ctx)
	case ActExpectation:
		return h.expectation(ctx)
	case ActAskReopen:
		return h.askReopen(ctx, text)
	case ActExtendReopen:
		p, _ := h.dc.pending()
		p.Question = truncateRunes(strings.TrimSpace(p.Question+"\n"+text), maxStoredText)
		p.Options = append(p.Options, fmt.Sprint(h.msg.ID))
		if err := h.bots(ctx).extendChoice(ctx, h.c.ID, p.ID, p.Question, p.Options); err != nil {
			return err
		}
		return h.showReopen(ctx, p)
	case ActReopen:
		p, _ := h.dc.pending()
		return h.reopen(ctx, p)
	case ActClosedInfo:
		return h.say(ctx, fmt.Sprintf(h.t.caseClosedInfo, h.cs.ID, officeName(h.cs.DepartmentName)), nil)
	case ActMedia:
		h.res.Outcome = "media"
		return h.say(ctx, h.mediaReply(h.in.Kind), nil)
	}
	return fmt.Errorf("dialog: no action %v", step.Do)
}

// reply is the short reply to an intent.
func (h *turn) reply(ctx context.Context, st State, ev Event, text string) error {
	t := h.t
	var s string
	switch ev {
	case EvThanks:
		kind := german.Smalltalk(text)
		switch {
		case st == StateCaseOpen:
			s = fmt.Sprintf(t.caseThanks, h.cs.ID, routing.AtOffice(h.cs.DepartmentName, h.c.Language))
		case kind == german.SmalltalkOK:
			s = t.smalltalkReply(german.SmalltalkOK)
		default:
			s = t.smalltalkReply(german.SmalltalkThanks)
		}
	case EvYes, EvNo:
		s = t.smalltalkReply(german.SmalltalkOK)
		if st == StateCaseOpen {
			s = fmt.Sprintf(t.caseThanks, h.cs.ID, routing.AtOffice(h.cs.DepartmentName, h.c.Language))
		}
	case EvGoodbye:
		s = t.smalltalkReply(german.SmalltalkGoodbye)
	case EvBot:
		s = t.botReply
	case EvCapabilities:
		s = t.capabilities
	case EvInsult:
		s = t.calm
	case EvEmpty, EvImpatience:
		s = t.emptyPrompt
	default: // EvGreeting
		kind := german.Smalltalk(text)
		if kind == german.SmalltalkHowAreYou || kind == german.SmalltalkAsk {
			s = t.smalltalkReply(kind)
		} else {
			s = t.smalltalkReply(german.SmalltalkGreeting)
		}
	}
	return h.say(ctx, s, nil)
}

// answerMatch answers from the FAQ (or offers candidates); with note, the
// question and the answer are noted in the open case.
func (h *turn) answerMatch(ctx context.Context, text string, note bool) error {
	r := *h.match
	h.res.Outcome = string(r.Decision)
	if err := h.supersedeChoices(ctx); err != nil {
		return err
	}
	if h.dc.AskTopicAt != nil {
		if err := h.bots(ctx).setAskTopic(ctx, h.c.ID, false); err != nil {
			return err
		}
	}
	var sent routing.Message
	var err error
	switch r.Decision {
	case faq.DecisionAnswer:
		entry, ok := h.e.m.Entry(r.Answer.EntryID)
		if !ok {
			return h.say(ctx, h.t.entryGone, nil)
		}
		sent, err = h.answer(ctx, entry, text, r.Answer.Score, "direct")
	case faq.DecisionSuggest:
		var ok bool
		ok, err = h.suggest(ctx, text, r.Candidates)
		if err == nil && !ok {
			return h.confirmQuestion(ctx, StateIdle, EvQuestion, text)
		}
	}
	if err != nil || !note || !h.hasCase {
		return err
	}
	if err := h.e.desk.Note(ctx, h.txFor(ctx), h.cs.ID, h.msg.ID); err != nil {
		return err
	}
	if sent.ID != 0 {
		return h.e.desk.Note(ctx, h.txFor(ctx), h.cs.ID, sent.ID)
	}
	return nil
}

// confirmQuestion asks before a case opens: for a question the FAQ cannot
// answer, a request for staff, or the topic named after "Worum geht es?".
func (h *turn) confirmQuestion(ctx context.Context, st State, ev Event, text string) error {
	question, reason := text, ReasonNoMatch
	var cands []faq.Candidate
	if h.match != nil {
		cands = h.match.Candidates
		if h.match.Personal {
			reason = ReasonPersonal
		}
	}
	switch {
	case ev == EvHuman && st == StateTopic:
		question, reason = h.dc.TopicQuestion, ReasonRequested
	case ev == EvStaffRequest || st == StateAskTopic:
		reason = ReasonRequested
	}
	if st == StateAskTopic {
		if err := h.bots(ctx).setAskTopic(ctx, h.c.ID, false); err != nil {
			return err
		}
	}
	if reason == ReasonRequested {
		if cands == nil && question != "" {
			cands = h.e.m.Match(question).Candidates
		}
		return h.askConfirm(ctx, question, reason, "", cands)
	}
	best := ""
	if len(cands) > 0 {
		best = cands[0].EntryID
	}
	if reason == ReasonNoMatch && h.match != nil {
		h.related = h.match.Related
	}
	return h.unanswered(ctx, question, reason, best, cands)
}

// askConfirm proposes an office for the question and asks (buttons)
// whether to pass it on; nothing opens before the citizen confirms.
func (h *turn) askConfirm(ctx context.Context, question, reason, entryID string, cands []faq.Candidate) error {
	d := h.e.desk
	if d == nil {
		return h.say(ctx, h.t.noStaff, nil)
	}
	h.res.Outcome = "none"
	props, err := d.Propose(ctx, h.txFor(ctx), HandoffRequest{Citizen: h.c, Question: question, Reason: reason, Candidates: cands, Department: h.postDept})
	if err != nil {
		return fmt.Errorf("propose: %w", err)
	}
	if err := h.supersedeChoices(ctx); err != nil {
		return err
	}
	opts := make([]string, len(props))
	for i, p := range props {
		opts[i] = p.ID
	}
	c := choice{Kind: choiceHandoff, Question: truncateRunes(question, maxStoredText), Reason: reason, EntryID: entryID, Options: opts}
	if c.ID, err = h.insertChoice(ctx, c); err != nil {
		return err
	}
	related := h.related
	h.related = nil
	var rel *relatedOffer
	if reason == ReasonNoMatch && len(related) > 0 {
		if rel, err = h.offerRelated(ctx, question, related); err != nil {
			return err
		}
	}
	lead := ""
	switch reason {
	case ReasonNoMatch:
		lead = h.t.confirmNoMatch
	case ReasonPersonal:
		lead = h.t.confirmPersonal
	case ReasonNotHelpful:
		lead = h.t.notHelpfulLead
	case ReasonNoSuggestionFit:
		lead = h.t.noFitLead
	}
	return h.showConfirmWith(ctx, c, lead, rel)
}

// relatedOffer is the list of FAQ entries shown beside a handoff
// confirmation: a stored suggestion whose buttons answer like "Meinten
// Sie ...?" while the confirmation stays open.
type relatedOffer struct {
	text string
	rows [][]routing.Button
}

// offerRelated stores the related entries as a suggestion and returns its
// text and buttons (nil when no entry exists any more).
func (h *turn) offerRelated(ctx context.Context, question string, related []faq.Candidate) (*relatedOffer, error) {
	var ids []string
	var scores []float64
	var qs []string
	for _, c := range related {
		if len(ids) == maxRelated {
			break
		}
		if e, ok := h.e.m.Entry(c.EntryID); ok {
			ids = append(ids, c.EntryID)
			scores = append(scores, c.Score)
			qs = append(qs, e.Question)
		}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	sid, err := h.bots(ctx).insertSuggestion(ctx, h.c.ID, truncateRunes(question, maxStoredText), ids, scores)
	if err != nil {
		return nil, err
	}
	o := &relatedOffer{text: h.t.relatedLead}
	for i, q := range qs {
		o.text += fmt.Sprintf("\n%d. %s", i+1, q)
		o.rows = append(o.rows, []routing.Button{{Text: truncateRunes(q, 60), Data: fmt.Sprintf("sg:%d:%d", sid, i)}})
	}
	return o, nil
}

// maxRelated is the number of FAQ entries offered beside a handoff.
const maxRelated = 3

// showConfirm says the confirmation of choice c: the question restated,
// the proposed office, and the buttons yes / another office / no.
func (h *turn) showConfirm(ctx context.Context, c choice, lead string) error {
	return h.showConfirmWith(ctx, c, lead, nil)
}

// showConfirmWith is showConfirm with related FAQ entries offered below
// the question (rel may be nil).
func (h *turn) showConfirmWith(ctx context.Context, c choice, lead string, rel *relatedOffer) error {
	office := ""
	if len(c.Options) > 0 {
		if name, err := h.bots(ctx).departmentName(ctx, c.Options[0]); err == nil {
			office = officeName(name)
		}
	}
	var b strings.Builder
	if lead != "" {
		b.WriteString(lead + " ")
	}
	if office != "" {
		fmt.Fprintf(&b, h.t.confirmAsk, office)
	} else {
		b.WriteString(h.t.handoffAsk)
	}
	if q := strings.TrimSpace(c.Question); q != "" {
		fmt.Fprintf(&b, "\n\n"+h.t.confirmRestate, truncateRunes(strings.ReplaceAll(q, "\n", " "), 200))
	}
	rows := [][]routing.Button{{{Text: h.t.handoffYes, Data: fmt.Sprintf("ho:%d:y", c.ID)}}}
	if len(c.Options) > 1 || h.e.desk != nil {
		rows = append(rows, []routing.Button{{Text: h.t.otherOffice, Data: fmt.Sprintf("ho:%d:m", c.ID)}})
	}
	rows = append(rows, []routing.Button{{Text: h.t.handoffNo, Data: fmt.Sprintf("ho:%d:n", c.ID)}})
	if rel != nil {
		b.WriteString("\n\n" + rel.text)
		rows = append(rows, rel.rows...)
	}
	return h.say(ctx, b.String(), rows)
}

// openCase opens the case of confirmation c in its i-th proposed office
// (arg is what is recorded as chosen).
func (h *turn) openCase(ctx context.Context, c choice, i int, arg string) error {
	d := h.e.desk
	if d == nil {
		return h.say(ctx, h.t.noStaff, nil)
	}
	if _, err := h.bots(ctx).takeChoice(ctx, h.c.ID, c.ID, choiceHandoff, arg); err != nil {
		return err
	}
	dept := ""
	if i < len(c.Options) {
		dept = c.Options[i]
	}
	reason := c.Reason
	if reason == "" {
		reason = ReasonNoMatch
	}
	h.res.Outcome = "handoff"
	var cands []faq.Candidate
	if c.Question != "" {
		cands = h.e.m.Match(c.Question).Candidates
	}
	handled, err := d.HandOff(ctx, h.txFor(ctx), HandoffRequest{Citizen: h.c, Message: h.msg, Question: c.Question, Reason: reason, Candidates: cands, Department: dept})
	if err != nil {
		return fmt.Errorf("handoff: %w", err)
	}
	if err := h.bots(ctx).setTopic(ctx, h.c.ID, "", ""); err != nil {
		return err
	}
	if !handled {
		return h.say(ctx, h.t.noStaff, nil)
	}
	return nil
}

// addToCase adds the message to the open case and confirms it briefly;
// files are confirmed at most once per MediaAckInterval.
func (h *turn) addToCase(ctx context.Context) error {
	c, ok, err := h.e.desk.AddToCase(ctx, h.txFor(ctx), h.cs.ID, h.msg.ID)
	if err != nil {
		return err
	}
	if !ok {
		return h.confirmQuestion(ctx, StateIdle, EvQuestion, h.msg.Text)
	}
	to := routing.ToOffice(c.DepartmentName, h.c.Language)
	var ack string
	if isMedia(h.in.Kind) {
		last, err := h.bots(ctx).caseAckAt(ctx, h.c.ID)
		if err != nil {
			return err
		}
		if time.Since(last) < h.e.cfg.MediaAckInterval && h.cs.Status != routing.CaseAnswered {
			return nil
		}
		ack = fmt.Sprintf(h.t.caseMediaForwarded, h.t.noun(h.in.Kind), to, c.ID)
		if err := h.bots(ctx).setCaseAck(ctx, h.c.ID); err != nil {
			return err
		}
	} else {
		ack = fmt.Sprintf(h.t.caseForwarded, to, c.ID)
	}
	return h.sayToCase(ctx, c.ID, ack, nil)
}

// expectation tells where the open case is and when to expect a reply.
func (h *turn) expectation(ctx context.Context) error {
	s, err := h.e.desk.Expectation(ctx, h.txFor(ctx), h.cs, h.c.Language)
	if err != nil {
		return err
	}
	return h.say(ctx, s, nil)
}

// askReopen asks before a message reopens the closed case.
func (h *turn) askReopen(ctx context.Context, text string) error {
	caseID := h.cs.ID
	c := choice{Kind: choiceReopen, CaseID: &caseID, Question: truncateRunes(text, maxStoredText), Options: []string{fmt.Sprint(h.msg.ID)}}
	if err := h.supersedeChoices(ctx); err != nil {
		return err
	}
	var err error
	if c.ID, err = h.insertChoice(ctx, c); err != nil {
		return err
	}
	return h.showReopen(ctx, c)
}

func (h *turn) showReopen(ctx context.Context, c choice) error {
	return h.say(ctx, fmt.Sprintf(h.t.reopenAsk, h.cs.ID, officeName(h.cs.DepartmentName)), [][]routing.Button{
		{{Text: h.t.reopenYes, Data: fmt.Sprintf("ro:%d:y", c.ID)}},
		{{Text: h.t.reopenNew, Data: fmt.Sprintf("ro:%d:q", c.ID)}},
		{{Text: h.t.handoffNo, Data: fmt.Sprintf("ro:%d:n", c.ID)}},
	})
}

// reopen reopens the closed case with the messages of confirmation c.
func (h *turn) reopen(ctx context.Context, c choice) error {
	if _, err := h.bots(ctx).takeChoice(ctx, h.c.ID, c.ID, choiceReopen, "y"); err != nil {
		return err
	}
	if c.CaseID == nil {
		return h.say(ctx, h.t.staleReopen, nil)
	}
	var cs routing.Case
	ok := false
	for _, o := range c.Options {
		var id int64
		if _, err := fmt.Sscan(o, &id); err != nil {
			continue
		}
		got, added, err := h.e.desk.AddToCase(ctx, h.txFor(ctx), *c.CaseID, id)
		if err != nil {
			return err
		}
		if added {
			cs, ok = got, true
		}
	}
	if !ok {
		// The reopen window passed (or another case is open): a new question.
		return h.askConfirm(ctx, c.Question, ReasonNoMatch, "", h.e.m.Match(c.Question).Candidates)
	}
	h.res.Outcome = "reopened"
	return h.sayToCase(ctx, cs.ID, fmt.Sprintf(h.t.caseReopened, cs.ID, routing.ToOffice(cs.DepartmentName, h.c.Language)), nil)
}

// followUp answers a short question about the last topic ("und was kostet
// das?"): the sentences of the last answer about that detail, else the FAQ
// asked with the topic's words, else a confirmation for staff.
func (h *turn) followUp(ctx context.Context, text string) error {
	entry, ok := h.e.m.Entry(h.dc.TopicEntryID)
	if !ok {
		return h.say(ctx, h.t.askDetail, nil)
	}
	if sents := detailSentences(entry.Answer, h.cue); len(sents) > 0 {
		id, err := h.bots(ctx).insertAnswerTopic(ctx, h.c.ID, entry.ID, truncateRunes(text, maxStoredText), 0, "follow_up", h.dc.TopicQuestion)
		if err != nil {
			return err
		}
		body := fmt.Sprintf(h.t.followUpLead, strings.TrimSpace(entry.Question)) + "\n\n" + strings.Join(sents, " ")
		s := "<b>" + EscapeHTML(fmt.Sprintf(h.t.followUpLead, strings.TrimSpace(entry.Question))) + "</b>\n\n" + EscapeHTML(strings.Join(sents, " "))
		if n := h.t.note(entry.Answer); n != "" {
			body += n
			s += EscapeHTML(n)
		}
		err = h.send(ctx, routing.Message{Kind: routing.KindText, Text: body}, routing.Payload{Text: s, Format: routing.FormatHTML,
			Buttons: [][]routing.Button{
				{{Text: h.t.moreAbout, Data: fmt.Sprintf("mo:%d:a", id)}},
				{{Text: h.t.helpful, Data: fmt.Sprintf("fb:%d:y", id)}, {Text: h.t.notHelpful, Data: fmt.Sprintf("fb:%d:n", id)}},
			}})
		h.res.Outcome = "follow_up"
		return err
	}
	r := h.e.m.Match(entry.Question + " " + text)
	if r.Decision == faq.DecisionAnswer || r.Decision == faq.DecisionSuggest {
		h.match = &r
		if err := h.answerMatch(ctx, text, false); err != nil {
			return err
		}
		h.res.Outcome = "follow_up"
		return nil
	}
	h.match = &r
	return h.unanswered(ctx, strings.TrimSpace(entry.Question)+" – "+text, ReasonNoMatch, entry.ID, r.Candidates)
}

var (
	sentenceEnd = regexp.MustCompile(`([.!?])\s+|\n+`)
	costRe      = regexp.MustCompile(`(?i)(€|euro|gebühr|kostet|kosten|kostenlos|gebührenfrei|\bfrei\b)`)
	whereRe     = regexp.MustCompile(`(?i)(straße|str\.|platz|rathaus|zimmer|raum|online|https?://|www\.|bürgerbüro|adresse|gebäude|\bim\b|\bin der\b)`)
	whenRe      = regexp.MustCompile(`(?i)(\d+\s*(uhr|tag|tage|tagen|woche|wochen|monat|monaten|jahr|jahre|jahren)|montag|dienstag|mittwoch|donnerstag|freitag|samstag|werktag|frist|sofort|spätestens|innerhalb|bis zum|dauert)`)
	documentsRe = regexp.MustCompile(`(?i)(mitbringen|unterlagen|nachweis|ausweis|foto|formular|bescheinigung|urkunde|vorlegen)`)
)

// detailSentences are the sentences of answer about the detail cue (at
// most three).
func detailSentences(answer string, cue followUpCue) []string {
	var re *regexp.Regexp
	switch cue {
	case cueCost:
		re = costRe
	case cueWhere:
		re = whereRe
	case cueWhen:
		re = whenRe
	case cueDocuments:
		re = documentsRe
	default:
		return nil
	}
	var out []string
	for _, s := range splitSentences(answer) {
		if re.MatchString(s) {
			out = append(out, s)
			if len(out) == 3 {
				break
			}
		}
	}
	return out
}

// abbreviation reports whether text ends with an abbreviation whose dot
// does not end a sentence.
func abbreviation(text string) bool {
	i := strings.LastIndexAny(text, " (\n")
	w := strings.ToLower(text[i+1:])
	if utf8.RuneCountInString(w) == 1 || (len(w) == 2 && w[0] >= '0' && w[0] <= '9') {
		return true // "z. B.", "d. h.", "2. OG", "3."
	}
	switch w {
	case "bzw", "ca", "nr", "str", "usw", "etc", "ggf", "inkl", "evtl", "vgl", "tel", "og", "eg", "abs", "max", "min", "zzgl", "ggü", "mo", "di", "mi", "do", "fr", "sa", "so", "jan", "feb", "dr", "e.v", "u.a", "z.b", "d.h":
		return true
	}
	return false
}

// splitSentences splits text after ., ! and ? followed by space, and at
// line breaks.
func splitSentences(text string) []string {
	var out []string
	last := 0
	for _, m := range sentenceEnd.FindAllStringSubmatchIndex(text, -1) {
		if m[2] >= 0 && text[m[2]] == '.' && abbreviation(text[last:m[2]]) {
			continue // "z. B.", "bzw.", "Nr."
		}
		end := m[1]
		if m[2] >= 0 {
			end = m[3] // keep the punctuation
		} else {
			end = m[0]
		}
		if s := strings.TrimSpace(text[last:end]); s != "" {
			out = append(out, strings.TrimLeft(s, "•-* "))
		}
		last = m[1]
	}
	if s := strings.TrimSpace(text[last:]); s != "" {
		out = append(out, strings.TrimLeft(s, "•-* "))
	}
	return out
}
