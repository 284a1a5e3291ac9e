// Package bot is the channel-agnostic dialog engine: it takes an inbound
// message of a citizen, decides what to answer (FAQ answer, candidate
// buttons, small talk, handoff to staff, commands such as /meinedaten,
// /mitarbeiter, /abbrechen and /loeschen) and stores the inbound message, the
// outgoing messages and their outbox rows in the caller's transaction.
// While the citizen has an open case (see Desk), messages go to the case
// instead. Channel adapters (bot/telegram) turn channel updates into Inbound
// values and deliver the outbox.
package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"

	"citybot/faq"
	"citybot/internal/apperr"
	"citybot/internal/tgtext"
	"citybot/routing"
)

// ErrNotFound: the thing does not exist or is not the citizen's.
var ErrNotFound = apperr.New(apperr.NotFound, "bot: not found")

// Matcher answers questions from the FAQ. *faq.Live implements it.
type Matcher interface {
	Match(text string) faq.Result
	Entry(id string) (faq.Entry, bool)
}

// HandoffRequest is a question the FAQ could not answer.
type HandoffRequest struct {
	Citizen routing.Citizen
	// Message is the citizen's message (for not_helpful / no_suggestion_fit
	// the button press; the question is in Question).
	Message    routing.Message
	Question   string
	Reason     string // ReasonNoMatch, ReasonPersonal, ReasonNotHelpful, ReasonNoSuggestionFit
	Candidates []faq.Candidate
	// Department, when set, is preferred over routing's choice (a question
	// about a broadcast post goes to the post's department).
	Department string
}

// Handoff hands a question the FAQ could not answer to a department, in the
// transaction of the inbound message. When it returns handled, it has told
// the citizen what happens next and the engine sends nothing itself.
type Handoff interface {
	HandOff(ctx context.Context, tx *sqlx.Tx, req HandoffRequest) (handled bool, err error)
}

// Config configures the Engine.
type Config struct {
	// PrivacyURL is linked from /start and /hilfe.
	PrivacyURL string
	// Location is the city's time zone (CITYBOT_TIMEZONE) for the dates
	// the bot writes; nil means routing.TimeZone.
	Location *time.Location
	// MaxTextLen is the channel's message length limit in UTF-16 units
	// (Telegram: 4096); longer texts are split into several messages.
	MaxTextLen int
	// MaxQuestionLen (in characters) is the longest question the matcher
	// gets; longer messages are asked to be shortened. Default 1000.
	MaxQuestionLen int
	// EraseConfirmWindow is how long the /loeschen button stays valid.
	EraseConfirmWindow time.Duration
	// Handoff, when set, receives what the FAQ could not answer (after the
	// citizen confirms) and runs the case side of the dialog; nil: such
	// questions are only recorded for editors.
	Handoff Desk
	// FollowUpWindow: how long after an FAQ answer a short question ("und
	// was kostet das?") refers to it. Default 5 minutes.
	FollowUpWindow time.Duration
	// ConfirmWindow: how long a typed "ja"/"nein" or an addition refers to
	// the bot's "pass this on?" question (its buttons stay valid for
	// HandoffConfirmWindow). Default 30 minutes.
	ConfirmWindow time.Duration
	// AskTopicWindow: how long after "Worum geht es?" the next message is
	// the topic of the request for staff. Default 15 minutes.
	AskTopicWindow time.Duration
	// HandoffConfirmWindow is how long the "pass my question on?" buttons
	// stay valid. Default 24 hours.
	HandoffConfirmWindow time.Duration
	// MediaAckInterval: photos, files and locations added to a case are
	// acknowledged at most once per interval. Default 2 minutes.
	MediaAckInterval time.Duration
	// ClaimLease > 0: the first outbox row of a reply is claimed for the
	// caller (Result.Claimed), who sends it right after commit.
	ClaimLease time.Duration
	// Instance is recorded on those claims (db.Instance; 0: none).
	Instance int32
	// DB, when set, is the database of the transactions given to Handle:
	// the engine's statements are then prepared (once per connection).
	DB *sqlx.DB
	// Subscriptions, when set, enables /abo, /abbestellen, subscription
	// deep links and "Frage dazu" (see subscriptions.go).
	Subscriptions Subscriptions
	// PostQuestionWindow: how long after "Frage dazu" the next message is
	// about the post. Default DefaultPostQuestionWindow.
	PostQuestionWindow time.Duration
	// FloodLimit: a citizen who sent this many messages within FloodWindow
	// gets one notice and then no answers until they slow down; their
	// messages are still stored (and added to an open case). It keeps one
	// chat from running into Telegram's per-chat limit, whose 429 pauses
	// the sending for everybody. Defaults 20 and 1 minute.
	FloodLimit  int
	FloodWindow time.Duration
}

// DefaultPrivacyURL is used when Config.PrivacyURL is empty.
const DefaultPrivacyURL = "https://www.musterstadt.de/datenschutz"

// maxStoredText caps what is stored of one inbound text (runes).
const maxStoredText = 10000

func (c *Config) setDefaults() {
	if c.PrivacyURL == "" {
		c.PrivacyURL = DefaultPrivacyURL
	}
	if c.MaxTextLen <= 0 {
		c.MaxTextLen = 4096
	}
	if c.MaxQuestionLen <= 0 {
		c.MaxQuestionLen = 1000
	}
	if c.EraseConfirmWindow <= 0 {
		c.EraseConfirmWindow = 15 * time.Minute
	}
	if c.HandoffConfirmWindow <= 0 {
		c.HandoffConfirmWindow = 24 * time.Hour
	}
	if c.FollowUpWindow <= 0 {
		c.FollowUpWindow = 5 * time.Minute
	}
	if c.ConfirmWindow <= 0 {
		c.ConfirmWindow = 30 * time.Minute
	}
	if c.AskTopicWindow <= 0 {
		c.AskTopicWindow = 15 * time.Minute
	}
	if c.MediaAckInterval <= 0 {
		c.MediaAckInterval = 2 * time.Minute
	}
	if c.FloodLimit <= 0 {
		c.FloodLimit = 20
	}
	if c.FloodWindow <= 0 {
		c.FloodWindow = time.Minute
	}
}

// Problem marks an inbound message the adapter could not read properly.
type Problem string

// Problems of inbound messages.
const (
	ProblemNone       Problem = ""
	ProblemUnreadable Problem = "unreadable" // invalid text encoding
	ProblemMalformed  Problem = "malformed"  // structurally invalid (e.g. entities past the text)
)

// Inbound is one message or button press of a citizen, channel-agnostic.
type Inbound struct {
	Channel   string // routing.ChannelTelegram, ...
	ChatID    string // the channel's chat id
	MessageID string // the channel's message id, if any
	Language  string // the user's language code ("de", "en-GB"), may be empty
	Kind      string // routing.KindText, KindButton, KindPhoto, ...
	Text      string // the text or caption
	Data      string // the button's data (KindButton)
	Media     *routing.Media
	Problem   Problem
}

// Result tells the adapter what happened.
type Result struct {
	CitizenID int64
	// Outcome for metrics: answer, suggest, smalltalk, none, command, button, media, problem, ...
	Outcome string
	// CallbackText is a short notice for the button press (shown as a toast).
	CallbackText string
	// Erased: the citizen's data was deleted; the adapter deletes its own raw
	// data of the chat.
	Erased bool
	// Claimed are outbox rows claimed for the caller (Config.ClaimLease) to
	// send after commit.
	Claimed []routing.OutboxItem
	// Keyboard, when set, replaces the buttons of the message whose button
	// was pressed (best effort, after commit).
	Keyboard *Keyboard
	// State, Event and Action: the dialog's transition for a text or file
	// (dialog.go); zero values for buttons and commands.
	State  State
	Event  Event
	Action Action
}

// Engine is the dialog engine. It is safe for concurrent use; the caller
// serialises the messages of one chat.
type Engine struct {
	m      Matcher
	cfg    Config
	desk   Desk // cfg.Handoff
	logger *slog.Logger
	loc    *time.Location
	// store (routing's tables) and bots (the dialog's own tables) run the
	// engine's statements, prepared on cfg.DB.
	store *routing.Store
	bots  *Store
	// caseWindow > 0: Handle learns with the inbound message whether the
	// citizen may have an active case (the desk's reopen window).
	caseWindow time.Duration
}

// NewEngine returns an Engine answering from m.
func NewEngine(m Matcher, cfg Config, logger *slog.Logger) *Engine {
	cfg.setDefaults()
	loc := cfg.Location
	if loc == nil {
		var err error
		if loc, err = time.LoadLocation(routing.TimeZone); err != nil {
			loc = time.UTC
		}
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	desk := cfg.Handoff
	e := &Engine{m: m, cfg: cfg, desk: desk, logger: logger, loc: loc,
		store: routing.NewStore(cfg.DB).WithOwner(cfg.Instance), bots: NewStore(cfg.DB)}
	if desk != nil {
		e.caseWindow = desk.ReopenWindow()
	}
	return e
}

// turn is the handling of one inbound message.
type turn struct {
	e   *Engine
	tx  *sqlx.Tx
	st  *routing.Store // routing's tables, in tx
	bs  *Store         // the dialog's own tables, in tx
	c   routing.Citizen
	t   *texts
	in  Inbound
	msg routing.Message // the stored inbound message
	res Result
	// mayHaveCase is false when the citizen surely has no active case.
	mayHaveCase bool
	// postDept: the message is a question about a broadcast post of this
	// department ("Frage dazu").
	postDept string
	// recentIn: the citizen's messages within FloodWindow before this one.
	recentIn int

	// The dialog (dialog_flow.go): what the state is derived from, loaded
	// once per turn.
	loaded bool
	dc     dialogContext
	// pre: the dialog context HandleBatch read for the turn (nil: none).
	pre *dialogContext
	// out: the batch's replies stored together (HandleBatch; nil: each
	// reply is stored at once); idx is the turn's place in the batch.
	out *outgoing
	idx int
	// answerID: the id for the turn's FAQ answer, stored with the batch's
	// (0: stored at once).
	answerID int64
	// dcRead: dc was read in this turn, so its OpenChoices and
	// PostQuestion tell what is stored (kept up to date by the turn).
	dcRead  bool
	cs      routing.Case // the active case, when hasCase
	hasCase bool
	match   *faq.Result // the FAQ matcher's result for the text, once run
	// related: FAQ entries to offer beside the next handoff confirmation
	// (set by confirmQuestion for a question the FAQ could not answer,
	// taken by askConfirm).
	related []faq.Candidate
	cue     followUpCue // the detail a vague question asks about
}

// Flood is the engine's flood limit (Config.FloodLimit and FloodWindow,
// with their defaults), for the chats it does not handle itself (staff
// chats) to be limited alike.
func (e *Engine) Flood() routing.Flood {
	return routing.Flood{Limit: e.cfg.FloodLimit, Window: e.cfg.FloodWindow}
}

// Handle handles one inbound message inside tx: it stores the citizen and the
// message, decides the reply and queues it in the outbox. Nothing is sent
// before tx commits.
func (e *Engine) Handle(ctx context.Context, tx *sqlx.Tx, in Inbound) (Result, error) {
	return e.handle(ctx, tx, in, nil, nil, 0)
}

// received is what HandleBatch stored and read for a turn before it runs:
// the inbound message (routing.Store.ReceiveAll) and the dialog context.
type received struct {
	r  routing.Received
	dc dialogContext
	// answerID is a bot_answers id taken for the turn's FAQ answer.
	answerID int64
}

// HandleBatch handles inbound messages inside tx as Handle does, one after
// the other in the order given, with the same results. The first message
// of each chat (buttons aside) is stored, and its dialog context read, for
// all of them at once before the turns run, and the replies no turn needs
// back are stored together after them (or when a turn touches the
// citizen's messages or cases): three statements for the batch instead of
// three per message. A chat's later messages in the batch are received in
// their turn, after the chat's replies so far, so each chat's messages
// keep their order.
func (e *Engine) HandleBatch(ctx context.Context, tx *sqlx.Tx, ins []Inbound) ([]Result, error) {
	pre := make([]*received, len(ins))
	var rs []routing.Receipt
	var at []int
	type chat struct{ channel, id string }
	seen := map[chat]bool{}
	for i, in := range ins {
		k := chat{in.Channel, in.ChatID}
		if in.Kind == routing.KindButton || seen[k] {
			continue
		}
		seen[k] = true
		m, lang := inboundMessage(in)
		rs = append(rs, routing.Receipt{Channel: in.Channel, ExternalID: in.ChatID, Language: lang, Message: m})
		at = append(at, i)
	}
	if len(rs) > 1 {
		got, err := e.store.WithTx(tx).ReceiveAll(ctx, rs, e.caseWindow, e.cfg.FloodWindow)
		if err != nil {
			return nil, err
		}
		ids := make([]int64, len(got))
		for j, r := range got {
			ids[j] = r.Citizen.ID
		}
		dcs, err := e.bots.WithTx(tx).loadDialogs(ctx, ids, e.cfg.ConfirmWindow)
		if err != nil {
			return nil, err
		}
		for j, r := range got {
			d := dcs[r.Citizen.ID]
			pre[at[j]] = &received{r: r, dc: d.dialogContext, answerID: d.AnswerID}
		}
	}
	st := e.store.WithTx(tx)
	replies := newOutgoing(st, e.bots.WithTx(tx), e.cfg.ClaimLease)
	out := make([]Result, len(ins))
	for i, in := range ins {
		if pre[i] == nil {
			// A chat's later message, or a button: its chat's replies so far
			// are stored before it.
			if err := replies.flush(ctx); err != nil {
				return nil, err
			}
		}
		res, err := e.handle(ctx, tx, in, pre[i], replies, i)
		if err != nil {
			return nil, err
		}
		out[i] = res
	}
	if err := replies.flush(ctx); err != nil {
		return nil, err
	}
	for i, cs := range replies.claimed {
		out[i].Claimed = append(out[i].Claimed, cs...)
	}
	return out, nil
}

// inboundMessage is the message Handle stores for in, and the language it
// records for the citizen.
func inboundMessage(in Inbound) (routing.Message, string) {
	lang := truncateRunes(sanitize(in.Language), 16)
	m := routing.Message{
		Direction: routing.DirectionIn, Sender: routing.SenderCitizen,
		Kind: in.Kind, Text: truncateRunes(sanitize(in.Text), maxStoredText), Media: in.Media,
	}
	if m.Kind == "" {
		m.Kind = routing.KindOther
	}
	if in.MessageID != "" {
		id := in.MessageID
		m.ExternalMessageID = &id
	}
	return m, lang
}

// handle is Handle, with the message received and the dialog context read
// already when pre is not nil.
func (e *Engine) handle(ctx context.Context, tx *sqlx.Tx, in Inbound, pre *received, out *outgoing, idx int) (Result, error) {
	st := e.store.WithTx(tx)
	m, lang := inboundMessage(in)
	h := &turn{e: e, tx: tx, st: st, bs: e.bots.WithTx(tx), in: in, mayHaveCase: true, out: out, idx: idx}
	if in.Kind != routing.KindButton {
		// The citizen and the message in one statement.
		var r routing.Received
		if pre != nil {
			r, h.pre, h.answerID = pre.r, &pre.dc, pre.answerID
		} else {
			var err error
			if r, err = st.Receive(ctx, in.Channel, in.ChatID, lang, m, e.caseWindow, e.cfg.FloodWindow); err != nil {
				return Result{}, err
			}
		}
		h.c, h.msg = r.Citizen, r.Message
		h.mayHaveCase = e.caseWindow <= 0 || r.MayHaveCase
		h.recentIn = r.RecentIn
	} else {
		// A button's label is looked up with the citizen.
		c, err := st.TouchCitizen(ctx, in.Channel, in.ChatID, lang)
		if err != nil {
			return Result{}, err
		}
		h.c = c
		if in.Language != "" {
			h.c.Language = in.Language
		}
		if h.dc, err = h.bots(ctx).loadDialog(ctx, c.ID, e.cfg.ConfirmWindow); err != nil {
			return Result{}, err
		}
		h.dcRead = true
		if h.dc.Lang != "" && !strings.HasPrefix(strings.ToLower(h.c.Language), h.dc.Lang) {
			h.c.Language = h.dc.Lang // the language the citizen writes in
		}
		h.t = textsFor(h.c.Language)
		m.CitizenID = c.ID
		m.Text = h.buttonLabel(ctx, in.Data)
		if h.msg, err = st.AddMessage(ctx, m); err != nil {
			return Result{}, err
		}
	}
	if in.Language != "" && (in.Kind != routing.KindButton || h.dc.Lang == "") {
		h.c.Language = in.Language
	}
	h.t = textsFor(h.c.Language)
	h.res.CitizenID = h.c.ID
	var err error

	switch {
	case in.Problem == ProblemUnreadable:
		h.res.Outcome = "problem"
		err = h.say(ctx, h.t.unreadable, nil)
	case in.Problem == ProblemMalformed:
		h.res.Outcome = "problem"
		err = h.say(ctx, h.t.malformed, nil)
	case in.Kind == routing.KindButton:
		h.res.Outcome = "button"
		err = h.button(ctx, in.Data)
	default:
		err = h.converse(ctx)
	}
	if err != nil {
		return Result{}, err
	}
	return h.res, nil
}

func (h *turn) mediaReply(kind string) string {
	switch kind {
	case routing.KindPhoto:
		return h.t.photo
	case routing.KindDocument:
		return h.t.document
	case routing.KindSticker:
		return h.t.sticker
	case routing.KindVoice:
		return h.t.voice
	case routing.KindLocation:
		return h.t.location
	default:
		return h.t.other
	}
}

// welcome answers /start: short (one phone screen), /abo only when the
// city has topics to subscribe to, details behind a button.
func (h *turn) welcome(ctx context.Context) error {
	abo := ""
	if subs := h.e.cfg.Subscriptions; subs != nil {
		ts, err := subs.Topics(ctx, h.tx, h.c.ID)
		if err != nil {
			return err
		}
		if len(ts) > 0 {
			abo = h.t.welcomeAbo
		}
	}
	return h.say(ctx, fmt.Sprintf(h.t.welcome, abo, h.e.cfg.PrivacyURL), [][]routing.Button{{{Text: h.t.moreHelp, Data: "hp:more"}}})
}

// commandName is the lower-case command of a text ("/start@citybot x" -> "/start").
func commandName(text string) string {
	cmd, _, _ := strings.Cut(text, " ")
	cmd, _, _ = strings.Cut(cmd, "\n")
	cmd, _, _ = strings.Cut(cmd, "@") // /start@citybot
	return strings.ToLower(cmd)
}

// commandArgs is the text after the command.
func commandArgs(text string) string {
	i := strings.IndexAny(text, " \n")
	if i < 0 {
		return ""
	}
	return strings.TrimSpace(text[i+1:])
}

// knownCommands are answered by the bot also while a case is open; any
// other text starting with "/" then goes to the case.
var knownCommands = map[string]bool{
	"/start": true, "/hilfe": true, "/help": true, "/datenschutz": true, "/privacy": true,
	"/meinedaten": true, "/mydata": true, "/mitarbeiter": true, "/staff": true,
	"/abbrechen": true, "/cancel": true, "/loeschen": true, "/löschen": true, "/delete": true,
	"/abo": true, "/subscribe": true, "/abbestellen": true, "/unsubscribe": true,
}

func (h *turn) command(ctx context.Context, text string) error {
	switch commandName(text) {
	case "/start":
		if ok, err := h.deepLink(ctx, commandArgs(text)); ok || err != nil {
			return err
		}
		return h.welcome(ctx)
	case "/abo", "/subscribe":
		return h.showTopics(ctx)
	case "/abbestellen", "/unsubscribe":
		return h.unsubscribeAll(ctx)
	case "/hilfe", "/help":
		return h.say(ctx, fmt.Sprintf(h.t.help, h.e.cfg.PrivacyURL), [][]routing.Button{{{Text: h.t.moreHelp, Data: "hp:more"}}})
	case "/datenschutz", "/privacy":
		return h.say(ctx, fmt.Sprintf(h.t.privacy, h.e.cfg.PrivacyURL), nil)
	case "/meinedaten", "/mydata":
		return h.exportData(ctx)
	case "/mitarbeiter", "/staff":
		return h.staffCommand(ctx, commandArgs(text))
	case "/abbrechen", "/cancel":
		return h.withdraw(ctx)
	case "/loeschen", "/löschen", "/delete":
		now := time.Now()
		if err := h.bots(ctx).requestErase(ctx, h.c.ID, &now); err != nil {
			return err
		}
		return h.say(ctx, h.t.eraseAsk, [][]routing.Button{
			{{Text: h.t.eraseYes, Data: "del:y"}},
			{{Text: h.t.eraseNo, Data: "del:n"}},
		})
	default:
		return h.say(ctx, h.t.unknownCommand, nil)
	}
}

// summaryLen: answers longer than this (in characters) are sent as a
// summary with a "Mehr dazu" button for the rest.
const summaryLen = 450

// answer sends an FAQ entry with feedback buttons; a long answer is sent
// as its summary with a "Mehr dazu" button. The entry becomes the topic of
// follow-up questions.
func (h *turn) answer(ctx context.Context, entry faq.Entry, question string, score float64, via string) (routing.Message, error) {
	q := truncateRunes(question, maxStoredText)
	var id int64
	if h.out != nil && h.answerID != 0 {
		// In a batch: stored with the batch's other answers, under the id
		// HandleBatch took for the turn.
		id, h.answerID = h.answerID, 0
		h.out.addAnswer(pendingAnswer{ID: id, CitizenID: h.c.ID, EntryID: entry.ID, Question: q, Score: score, Via: via, TopicQuestion: q, At: time.Now()})
	} else {
		var err error
		if id, err = h.bots(ctx).insertAnswerTopic(ctx, h.c.ID, entry.ID, q, score, via, q); err != nil {
			return routing.Message{}, err
		}
	}
	text, translated := h.answerText(entry)
	body, more := summarizeAnswer(text)
	buttons := [][]routing.Button{{
		{Text: h.t.helpful, Data: fmt.Sprintf("fb:%d:y", id)},
		{Text: h.t.notHelpful, Data: fmt.Sprintf("fb:%d:n", id)},
	}}
	if more {
		buttons = append([][]routing.Button{{{Text: h.t.moreAbout, Data: fmt.Sprintf("mo:%d:r", id)}}}, buttons...)
	}
	// The message comes back for a case's transcript only.
	return h.sendEntry(ctx, strings.TrimSpace(entry.Question), body, !translated, buttons, h.hasCase)
}

// answerText is the entry's answer in the reader's language: the English
// answer for English readers when the entry has one (translated true).
func (h *turn) answerText(entry faq.Entry) (text string, translated bool) {
	if h.t == en && strings.TrimSpace(entry.AnswerEN) != "" {
		return strings.TrimSpace(entry.AnswerEN), true
	}
	return strings.TrimSpace(entry.Answer), false
}

// sendEntry sends a bold title and a text (split when long) with buttons
// under the last part.
func (h *turn) sendEntry(ctx context.Context, title, body string, note bool, buttons [][]routing.Button, needID bool) (routing.Message, error) {
	full := title + "\n\n" + body
	if note {
		full += h.t.note(body)
	}
	parts := tgtext.SplitText(full, h.e.cfg.MaxTextLen)
	payloads := make([]routing.Payload, len(parts))
	for i, p := range parts {
		var s string
		switch {
		case i == 0 && strings.HasPrefix(p, title+"\n\n"):
			s = "<b>" + EscapeHTML(title) + "</b>\n\n" + EscapeHTML(p[len(title)+2:])
		case i == 0 && p == title:
			s = "<b>" + EscapeHTML(title) + "</b>"
		default:
			s = EscapeHTML(p)
		}
		payloads[i] = routing.Payload{Text: s, Format: routing.FormatHTML}
	}
	payloads[len(payloads)-1].Buttons = buttons
	m := routing.Message{Kind: routing.KindText, Text: full}
	if needID {
		return h.sendMsg(ctx, m, payloads...)
	}
	return routing.Message{}, h.send(ctx, m, payloads...)
}

// summaries holds summarize(text, summaryLen) of the answers summarized
// so far (text -> summary): the FAQ's few hundred answers come back again
// and again, and splitting one into sentences was a few percent of a
// turn's CPU. At most maxSummaries are kept (an edited answer is a new
// text; beyond the bound, answers are summarized each time).
var (
	summaries    sync.Map
	summaryCount atomic.Int32
)

const maxSummaries = 4096

type summary struct {
	text string
	more bool
}

// summarizeAnswer is summarize(text, summaryLen), remembered.
func summarizeAnswer(text string) (string, bool) {
	if v, ok := summaries.Load(text); ok {
		s := v.(summary)
		return s.text, s.more
	}
	body, more := summarize(text, summaryLen)
	if summaryCount.Load() < maxSummaries {
		if _, loaded := summaries.LoadOrStore(text, summary{body, more}); !loaded {
			summaryCount.Add(1)
		}
	}
	return body, more
}

// summarize returns the start of a long answer (whole paragraphs, else
// whole sentences, up to max characters) and whether there is more.
func summarize(answer string, max int) (string, bool) {
	if utf8.RuneCountInString(answer) <= max+max/3 {
		return answer, false
	}
	var b strings.Builder
	for _, para := range strings.Split(answer, "\n\n") {
		if b.Len() > 0 && utf8.RuneCountInString(b.String())+utf8.RuneCountInString(para)+2 > max {
			break
		}
		if b.Len() > 0 {
			b.WriteString("\n\n")
		}
		b.WriteString(para)
	}
	if s := b.String(); utf8.RuneCountInString(s) <= max && s != answer {
		return s, true
	}
	// the first paragraph alone is too long: whole sentences of it
	b.Reset()
	for _, sent := range splitSentences(answer) {
		if b.Len() > 0 && utf8.RuneCountInString(b.String())+utf8.RuneCountInString(sent)+1 > max {
			break
		}
		if b.Len() > 0 {
			b.WriteString(" ")
		}
		b.WriteString(sent)
	}
	if s := b.String(); s != "" && utf8.RuneCountInString(s) < utf8.RuneCountInString(answer) {
		return s, true
	}
	return answer, false
}

// rest returns what summarize left out of answer.
func rest(answer string, max int) string {
	sum, more := summarize(answer, max)
	if !more {
		return ""
	}
	if strings.HasPrefix(answer, sum) {
		return strings.TrimSpace(answer[len(sum):])
	}
	// sentences were re-joined: drop as many sentences as the summary has
	sents := splitSentences(answer)
	n := len(splitSentences(sum))
	if n >= len(sents) {
		return ""
	}
	return strings.Join(sents[n:], " ")
}

// suggest offers up to three candidates as buttons; ok is false when none
// of them is known (any more).
func (h *turn) suggest(ctx context.Context, question string, cands []faq.Candidate) (bool, error) {
	var ids []string
	var scores []float64
	var entries []faq.Entry
	for _, c := range cands {
		if len(ids) == 3 {
			break
		}
		if e, ok := h.e.m.Entry(c.EntryID); ok {
			ids = append(ids, c.EntryID)
			scores = append(scores, c.Score)
			entries = append(entries, e)
		}
	}
	if len(ids) == 0 {
		return false, nil
	}
	sid, err := h.bots(ctx).insertSuggestion(ctx, h.c.ID, truncateRunes(question, maxStoredText), ids, scores)
	if err != nil {
		return false, err
	}
	var b strings.Builder
	b.WriteString(h.t.suggest)
	var rows [][]routing.Button
	for i, e := range entries {
		fmt.Fprintf(&b, "\n%d. %s", i+1, e.Question)
		rows = append(rows, []routing.Button{{Text: truncateRunes(e.Question, 60), Data: fmt.Sprintf("sg:%d:%d", sid, i)}})
	}
	rows = append(rows, []routing.Button{{Text: h.t.noneOfThese, Data: fmt.Sprintf("sg:%d:x", sid)}})
	return true, h.say(ctx, b.String(), rows)
}

// unanswered records a question for editors and asks whether to pass it
// to staff (without a desk it says it was recorded).
func (h *turn) unanswered(ctx context.Context, question, reason, entryID string, cands []faq.Candidate) error {
	if err := faq.RecordUnanswered(ctx, h.bots(ctx).stmts, h.tx, h.c.ID, &h.msg.ID, truncateRunes(question, maxStoredText), reason, entryID); err != nil {
		return err
	}
	if h.e.desk != nil {
		return h.askConfirm(ctx, question, reason, entryID, cands)
	}
	msg := h.t.noMatch
	switch reason {
	case ReasonPersonal:
		msg = h.t.personal
	case ReasonNotHelpful:
		msg = h.t.notHelpfulReply
	case ReasonNoSuggestionFit:
		msg = h.t.noSuggestionFit
	}
	return h.say(ctx, msg, nil)
}

// button handles a press of an inline button. Its data are "fb:ID:y|n"
// (feedback), "sg:ID:N|x" (a suggestion) and "del:y|n" (erasure).
func (h *turn) button(ctx context.Context, data string) error {
	kind, id, arg := parseButton(data)
	switch kind {
	case "fb":
		h.res.Outcome = "feedback"
		helpful := arg == "y"
		if arg != "y" && arg != "n" {
			break
		}
		prev, err := h.bots(ctx).setFeedback(ctx, h.c.ID, id, helpful)
		if errors.Is(err, ErrNotFound) {
			break
		}
		if err != nil {
			return err
		}
		h.res.CallbackText = h.t.thanksFeedback
		// The buttons give way to the choice made (pressing it again
		// changes nothing).
		chosenLabel := "✓ " + h.t.helpful
		if !helpful {
			chosenLabel = "✓ " + h.t.notHelpful
		}
		h.res.Keyboard = &Keyboard{Buttons: [][]routing.Button{{{Text: chosenLabel, Data: data}}}}
		if !helpful && (prev.Helpful == nil || *prev.Helpful) {
			return h.unanswered(ctx, prev.Question, ReasonNotHelpful, prev.EntryID, nil)
		}
		return nil
	case "sg":
		h.res.Outcome = "suggestion"
		chosen := ""
		if arg != "x" {
			s, err := h.bots(ctx).suggestionByID(ctx, h.c.ID, id)
			if errors.Is(err, ErrNotFound) {
				break
			}
			if err != nil {
				return err
			}
			i, err := strconv.Atoi(arg)
			if err != nil || i < 0 || i >= len(s.EntryIDs) {
				break
			}
			chosen = s.EntryIDs[i]
		}
		s, err := h.bots(ctx).chooseSuggestion(ctx, h.c.ID, id, chosen)
		if errors.Is(err, ErrNotFound) {
			break
		}
		if err != nil {
			return err
		}
		if chosen == "" {
			return h.unanswered(ctx, s.Question, ReasonNoSuggestionFit, "", nil)
		}
		entry, ok := h.e.m.Entry(chosen)
		if !ok {
			return h.say(ctx, h.t.entryGone, nil)
		}
		score := 0.0
		for i, eid := range s.EntryIDs {
			if eid == chosen && i < len(s.Scores) {
				score = s.Scores[i]
			}
		}
		_, err = h.answer(ctx, entry, s.Question, score, "suggestion")
		return err
	case "ho":
		h.res.Outcome = "handoff_confirm"
		if ok, err := h.handoffButton(ctx, id, arg); ok || err != nil {
			return err
		}
	case "ro":
		h.res.Outcome = "reopen_confirm"
		if ok, err := h.reopenButton(ctx, id, arg); ok || err != nil {
			return err
		}
	case "mo":
		h.res.Outcome = "more"
		if ok, err := h.moreButton(ctx, id, arg); ok || err != nil {
			return err
		}
	case "hp":
		h.res.Outcome = "help"
		return h.say(ctx, fmt.Sprintf(h.t.helpMoreFor(h.c.Channel), h.e.cfg.PrivacyURL), nil)
	case "dp":
		h.res.Outcome = "department"
		if ok, err := h.departmentButton(ctx, id, arg); ok || err != nil {
			return err
		}
	case "bt":
		if ok, err := h.toggleButton(ctx, data); ok || err != nil {
			return err
		}
	case "bq":
		if ok, err := h.questionButton(ctx, data); ok || err != nil {
			return err
		}
	case "del":
		h.res.Outcome = "erase"
		switch arg {
		case "y":
			at, ok, err := h.bots(ctx).eraseRequestedAt(ctx, h.c.ID)
			if err != nil {
				return err
			}
			if !ok || time.Since(at) > h.e.cfg.EraseConfirmWindow {
				return h.say(ctx, h.t.eraseExpired, nil)
			}
			return h.erase(ctx)
		case "n":
			if err := h.bots(ctx).requestErase(ctx, h.c.ID, nil); err != nil {
				return err
			}
			return h.say(ctx, h.t.eraseCancelled, nil)
		}
	}
	h.res.CallbackText = h.t.staleButton
	return nil
}

// buttonLabel is what is stored as the text of a button press.
func (h *turn) buttonLabel(ctx context.Context, data string) string {
	kind, id, arg := parseButton(data)
	switch {
	case kind == "fb" && arg == "y":
		return h.t.helpful
	case kind == "fb" && arg == "n":
		return h.t.notHelpful
	case kind == "sg" && arg == "x":
		return h.t.noneOfThese
	case kind == "sg":
		if s, err := h.bots(ctx).suggestionByID(ctx, h.c.ID, id); err == nil {
			if i, err := strconv.Atoi(arg); err == nil && i >= 0 && i < len(s.EntryIDs) {
				if e, ok := h.e.m.Entry(s.EntryIDs[i]); ok {
					return e.Question
				}
			}
		}
	case kind == "ho" && arg == "y":
		return h.t.handoffYes
	case kind == "ho" && arg == "n", kind == "ro" && arg == "n":
		return h.t.handoffNo
	case kind == "ho" && arg == "m":
		return h.t.otherOffice
	case kind == "ho" && arg == "a":
		return h.t.allOffices
	case kind == "ho":
		if c, err := h.bots(ctx).choiceByID(ctx, h.c.ID, id, choiceHandoff); err == nil {
			if i, err := strconv.Atoi(arg); err == nil && i >= 0 && i < len(c.Options) {
				if name, err := h.bots(ctx).departmentName(ctx, c.Options[i]); err == nil {
					return name
				}
			}
		}
	case kind == "ro" && arg == "y":
		return h.t.reopenYes
	case kind == "ro" && arg == "q":
		return h.t.reopenNew
	case kind == "mo":
		return h.t.moreAbout
	case kind == "hp":
		return h.t.moreHelp
	case kind == "dp" && arg == "m":
		return h.t.otherOffice
	case kind == "dp" && arg == "a":
		return h.t.allOffices
	case kind == "dp" && arg == "k":
		return h.t.keepOffice
	case kind == "dp":
		if c, err := h.bots(ctx).choiceByID(ctx, h.c.ID, id, choiceDepartments); err == nil {
			if i, err := strconv.Atoi(arg); err == nil && i >= 0 && i < len(c.Options) {
				if name, err := h.bots(ctx).departmentName(ctx, c.Options[i]); err == nil {
					return name
				}
			}
		}
	case kind == "bt" || kind == "bq":
		if l := h.broadcastButtonLabel(ctx, data); l != "" {
			return l
		}
	case kind == "del" && arg == "y":
		return h.t.eraseYes
	case kind == "del" && arg == "n":
		return h.t.eraseNo
	}
	return truncateRunes(sanitize(data), 64)
}

func parseButton(data string) (kind string, id int64, arg string) {
	parts := strings.Split(data, ":")
	switch {
	case len(parts) == 3:
		n, err := strconv.ParseInt(parts[1], 10, 64)
		if err != nil {
			return "", 0, ""
		}
		return parts[0], n, parts[2]
	case len(parts) == 2:
		return parts[0], 0, parts[1]
	}
	return "", 0, ""
}

// erase deletes everything stored about the citizen and confirms with a
// message that leaves no trace.
func (h *turn) erase(ctx context.Context) error {
	if err := h.flushOwn(ctx); err != nil {
		return err
	}
	if err := h.st.EraseCitizen(ctx, h.c.ID); err != nil {
		return err
	}
	h.res.Erased = true
	return h.st.SendEphemeral(ctx, h.c.Channel, h.c.ExternalID, routing.Payload{Text: h.t.eraseDone})
}

// exportData sends what is stored about the citizen: a summary and a JSON file.
func (h *turn) exportData(ctx context.Context) error {
	if err := h.flushOwn(ctx); err != nil {
		return err
	}
	ex, err := h.st.Export(ctx, h.c.ID)
	if err != nil {
		return err
	}
	answers, err := h.bots(ctx).answersOf(ctx, h.c.ID)
	if err != nil {
		return err
	}
	unans, err := faq.CitizenUnansweredOf(ctx, h.tx, h.c.ID)
	if err != nil {
		return err
	}
	cases, err := h.st.CitizenCases(ctx, h.c.ID)
	if err != nil {
		return err
	}
	subs, err := h.subscriptionNames(ctx)
	if err != nil {
		return err
	}
	doc := struct {
		ExportedAt time.Time         `json:"exported_at"`
		Citizen    routing.Citizen   `json:"citizen"`
		Messages   []routing.Message `json:"messages"`
		Answers    []Answer          `json:"faq_answers"`
		Unanswered []Unanswered      `json:"recorded_questions"`
		Cases      []CaseExport      `json:"cases"`
		Topics     []string          `json:"subscribed_topics"`
	}{time.Now().UTC(), ex.Citizen, ex.Messages, answers, unans, cases, subs}
	data, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	in, feedback := 0, 0
	for _, m := range ex.Messages {
		if m.Direction == routing.DirectionIn {
			in++
		}
	}
	for _, a := range answers {
		if a.Helpful != nil {
			feedback++
		}
	}
	since := ex.Citizen.CreatedAt.In(h.e.loc).Format("02.01.2006")
	summary := h.t.dataSummaryText(since, len(ex.Messages), in, len(ex.Messages)-in, len(answers), feedback, len(unans), len(cases))
	if h.e.cfg.Subscriptions != nil {
		summary += "\n\n" + h.t.subscriptionSummary(subs)
	}
	if err := h.say(ctx, summary, nil); err != nil {
		return err
	}
	const name = "meinedaten.json"
	return h.send(ctx,
		routing.Message{Kind: routing.KindDocument, Text: name, Media: &routing.Media{Type: "document", FileName: name, MIMEType: "application/json", FileSize: int64(len(data))}},
		routing.Payload{Text: h.t.dataFileCaption, Document: &routing.Document{Name: name, MIME: "application/json", Data: data}})
}

// say queues a plain text (split when long) with buttons under its last part.
func (h *turn) say(ctx context.Context, text string, buttons [][]routing.Button) error {
	payloads := h.textParts(text, buttons)
	if len(payloads) == 0 {
		return nil
	}
	return h.send(ctx, routing.Message{Kind: routing.KindText, Text: text}, payloads...)
}

// sayMsg is say returning the stored message (ID 0 when nothing was sent).
func (h *turn) sayMsg(ctx context.Context, text string, buttons [][]routing.Button) (routing.Message, error) {
	payloads := h.textParts(text, buttons)
	if len(payloads) == 0 {
		return routing.Message{}, nil
	}
	return h.sendMsg(ctx, routing.Message{Kind: routing.KindText, Text: text}, payloads...)
}

// textParts splits a plain text into the payloads of its messages, with
// buttons under the last one.
func (h *turn) textParts(text string, buttons [][]routing.Button) []routing.Payload {
	parts := tgtext.SplitText(text, h.e.cfg.MaxTextLen)
	if len(parts) == 0 {
		return nil
	}
	payloads := make([]routing.Payload, len(parts))
	for i, p := range parts {
		payloads[i] = routing.Payload{Text: p}
	}
	payloads[len(payloads)-1].Buttons = buttons
	return payloads
}

// outgoing holds the replies of a batch's turns (HandleBatch) that no turn
// needs back, to be stored set-wise (routing.Store.SendAll), and the FAQ
// answers they give (Store.insertAnswersTopics).
type outgoing struct {
	st    *routing.Store
	bs    *Store
	lease time.Duration

	answers []pendingAnswer
	items   []routing.Outgoing
	turns   []int // the turn (index in the batch) of each item
	// citizens have items waiting
	citizens map[int64]bool
	// claimed are the outbox rows claimed for each turn by flush.
	claimed map[int][]routing.OutboxItem
	// err is the error of a flush; the transaction is lost with it.
	err error
}

func newOutgoing(st *routing.Store, bs *Store, lease time.Duration) *outgoing {
	return &outgoing{st: st, bs: bs, lease: lease, citizens: map[int64]bool{}, claimed: map[int][]routing.OutboxItem{}}
}

func (o *outgoing) addAnswer(a pendingAnswer) {
	o.answers = append(o.answers, a)
	o.citizens[a.CitizenID] = true
}

func (o *outgoing) add(turn int, c routing.Citizen, m routing.Message, parts []routing.Payload) {
	o.items = append(o.items, routing.Outgoing{Citizen: c, Message: m, Parts: parts})
	o.turns = append(o.turns, turn)
	o.citizens[c.ID] = true
}

// flush stores the waiting answers and replies, in a statement each.
func (o *outgoing) flush(ctx context.Context) error {
	if o.err != nil {
		return o.err
	}
	if len(o.answers) > 0 {
		if err := o.bs.insertAnswersTopics(ctx, o.answers); err != nil {
			o.err = err
			return err
		}
		o.answers = nil
	}
	if len(o.items) == 0 {
		clear(o.citizens)
		return nil
	}
	sent, err := o.st.SendAll(ctx, o.items, o.lease)
	if err != nil {
		o.err = err
		return err
	}
	for j, r := range sent {
		if r.Claimed != nil {
			o.claimed[o.turns[j]] = append(o.claimed[o.turns[j]], *r.Claimed)
		}
	}
	o.items, o.turns = nil, nil
	clear(o.citizens)
	return nil
}

// flushOwn stores the batch's waiting answers and replies when the turn's
// citizen has some: before the turn stores, reads or changes anything else
// of the citizen (a handoff links the transcript so far, an erasure deletes
// it, a follow-up reads the topic), so that all of it sees them in order.
func (h *turn) flushOwn(ctx context.Context) error {
	if h.out == nil || !h.out.citizens[h.c.ID] {
		return nil
	}
	return h.out.flush(ctx)
}

// bots is the turn's Store of the dialog's tables, after flushOwn (see
// txFor).
func (h *turn) bots(ctx context.Context) *Store {
	_ = h.flushOwn(ctx)
	return h.bs
}

// txFor is the turn's transaction for the desk (routing's cases), after
// flushOwn. Should the flush fail, the transaction is aborted: the desk's
// statement fails too, and HandleBatch reports the flush's error.
func (h *turn) txFor(ctx context.Context) *sqlx.Tx {
	_ = h.flushOwn(ctx)
	return h.tx
}

// send stores an outgoing message and queues its parts. In a batch
// (HandleBatch) it is stored with the batch's other replies, set-wise,
// before anything else reads or writes the citizen's messages.
func (h *turn) send(ctx context.Context, m routing.Message, parts ...routing.Payload) error {
	if h.out != nil && m.ExternalMessageID == nil && len(parts) > 0 {
		h.out.add(h.idx, h.c, m, parts)
		return nil
	}
	_, err := h.sendMsg(ctx, m, parts...)
	return err
}

// sendMsg is send returning the stored message: it is stored now.
func (h *turn) sendMsg(ctx context.Context, m routing.Message, parts ...routing.Payload) (routing.Message, error) {
	if err := h.flushOwn(ctx); err != nil {
		return routing.Message{}, err
	}
	if h.e.cfg.ClaimLease <= 0 {
		return h.st.Send(ctx, h.c, m, parts...)
	}
	sent, claimed, err := h.st.SendClaimed(ctx, h.c, m, h.e.cfg.ClaimLease, parts...)
	if claimed != nil {
		h.res.Claimed = append(h.res.Claimed, *claimed)
	}
	return sent, err
}
