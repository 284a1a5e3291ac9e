package bot

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"citybot/broadcast"
	"citybot/routing"
)

// The engine's side of the news channels: /abo (topic toggles), /abbestellen,
// subscription deep links (/start abo-<slug>), subscriptions in /meinedaten
// and the "Frage dazu" button under a post.

// Subscriptions is what the engine needs of the broadcast domain, in the
// transaction of the inbound message. broadcast.Subscribers implements it.
type Subscriptions interface {
	Topics(ctx context.Context, tx *sqlx.Tx, citizenID int64) ([]broadcast.TopicChoice, error)
	Toggle(ctx context.Context, tx *sqlx.Tx, citizenID, topicID int64) (subscribed bool, err error)
	UnsubscribeAll(ctx context.Context, tx *sqlx.Tx, citizenID int64) (int, error)
	SubscribeByDeepLink(ctx context.Context, tx *sqlx.Tx, citizenID int64, payload string) (broadcast.Topic, error)
	Subscriptions(ctx context.Context, tx *sqlx.Tx, citizenID int64) ([]broadcast.Topic, error)
	PostContext(ctx context.Context, tx *sqlx.Tx, postID int64) (broadcast.PostContext, error)
}

var _ Subscriptions = broadcast.Subscribers{}

// Keyboard replaces the buttons of the message whose button was pressed
// (Result.Keyboard): the /abo toggles are edited in place.
type Keyboard struct {
	Buttons [][]routing.Button
}

// DefaultPostQuestionWindow: how long after "Frage dazu" the citizen's next
// message is taken as a question about the post.
const DefaultPostQuestionWindow = time.Hour

func (e *Engine) postQuestionWindow() time.Duration {
	if e.cfg.PostQuestionWindow > 0 {
		return e.cfg.PostQuestionWindow
	}
	return DefaultPostQuestionWindow
}

// topicKeyboard is the /abo keyboard: one toggle per topic.
func (h *turn) topicKeyboard(ts []broadcast.TopicChoice) [][]routing.Button {
	rows := make([][]routing.Button, 0, len(ts))
	lang := h.t.topicLang
	for _, t := range ts {
		mark := "⬜ "
		if t.Subscribed {
			mark = "✅ "
		}
		rows = append(rows, []routing.Button{{Text: mark + truncateRunes(t.Name(lang), 60), Data: broadcast.ToggleCallbackData(t.ID)}})
	}
	return rows
}

// showTopics answers /abo: the topics with toggle buttons.
func (h *turn) showTopics(ctx context.Context) error {
	subs := h.e.cfg.Subscriptions
	if subs == nil {
		return h.say(ctx, h.t.aboUnavailable, nil)
	}
	ts, err := subs.Topics(ctx, h.tx, h.c.ID)
	if err != nil {
		return err
	}
	if len(ts) == 0 {
		return h.say(ctx, h.t.aboNoTopics, nil)
	}
	h.res.Outcome = "abo"
	return h.say(ctx, h.t.aboIntro, h.topicKeyboard(ts))
}

// unsubscribeAll answers /abbestellen.
func (h *turn) unsubscribeAll(ctx context.Context) error {
	subs := h.e.cfg.Subscriptions
	if subs == nil {
		return h.say(ctx, h.t.aboUnavailable, nil)
	}
	n, err := subs.UnsubscribeAll(ctx, h.tx, h.c.ID)
	if err != nil {
		return err
	}
	h.res.Outcome = "unsubscribe"
	if n == 0 {
		return h.say(ctx, h.t.aboNothingToCancel, nil)
	}
	return h.say(ctx, h.t.aboCancelled, nil)
}

// deepLink handles "/start abo-<slug>"; ok is false when the /start payload
// is not a subscription link (the welcome follows).
func (h *turn) deepLink(ctx context.Context, payload string) (ok bool, err error) {
	subs := h.e.cfg.Subscriptions
	if subs == nil || !broadcast.IsDeepLinkPayload(payload) {
		return false, nil
	}
	h.res.Outcome = "deep_link"
	t, err := subs.SubscribeByDeepLink(ctx, h.tx, h.c.ID, payload)
	if errors.Is(err, broadcast.ErrNotFound) {
		ts, err := subs.Topics(ctx, h.tx, h.c.ID)
		if err != nil {
			return false, err
		}
		if len(ts) == 0 {
			return true, h.say(ctx, h.t.deepLinkUnknown+"\n\n"+h.t.aboNoTopics, nil)
		}
		return true, h.say(ctx, h.t.deepLinkUnknown+"\n\n"+h.t.aboIntro, h.topicKeyboard(ts))
	}
	if err != nil {
		return false, err
	}
	return true, h.say(ctx, fmt.Sprintf(h.t.deepLinkDone, t.Name(h.t.topicLang)), nil)
}

// toggleButton handles an /abo button ("bt:<topicID>"): it flips the
// subscription, answers with a toast and redraws the keyboard in place.
// ok is false for a stale button.
func (h *turn) toggleButton(ctx context.Context, data string) (ok bool, err error) {
	subs := h.e.cfg.Subscriptions
	id, valid := broadcast.ParseToggleCallback(data)
	if subs == nil || !valid {
		return false, nil
	}
	h.res.Outcome = "abo_toggle"
	on, err := subs.Toggle(ctx, h.tx, h.c.ID, id)
	gone := errors.Is(err, broadcast.ErrNotFound)
	if err != nil && !gone {
		return false, err
	}
	ts, err := subs.Topics(ctx, h.tx, h.c.ID)
	if err != nil {
		return false, err
	}
	h.res.Keyboard = &Keyboard{Buttons: h.topicKeyboard(ts)}
	if gone {
		h.res.CallbackText = h.t.topicGone
		return true, nil
	}
	name := ""
	for _, t := range ts {
		if t.ID == id {
			name = t.Name(h.t.topicLang)
		}
	}
	if on {
		h.res.CallbackText = truncateRunes(fmt.Sprintf(h.t.toggledOn, name), 190)
	} else {
		h.res.CallbackText = truncateRunes(fmt.Sprintf(h.t.toggledOff, name), 190)
	}
	return true, nil
}

// postTitle is the first line of a post, shortened.
func postTitle(text string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(text), "\n")
	line = strings.TrimSpace(line)
	if utf8Len := len([]rune(line)); utf8Len > 80 {
		line = strings.TrimSpace(string([]rune(line)[:79])) + "…"
	}
	return line
}

// questionButton handles "Frage dazu" ("bq:<postID>"): it remembers the
// post for the citizen's next message, stores the post in the chat's
// history (so that a case opened from the question shows it) and asks what
// the citizen wants to know. ok is false for a stale button.
func (h *turn) questionButton(ctx context.Context, data string) (ok bool, err error) {
	subs := h.e.cfg.Subscriptions
	id, valid := broadcast.ParseQuestionCallback(data)
	if subs == nil || !valid {
		return false, nil
	}
	p, err := subs.PostContext(ctx, h.tx, id)
	if errors.Is(err, broadcast.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	h.res.Outcome = "post_question"
	if err := h.bots(ctx).rememberPostQuestion(ctx, h.c.ID, id); err != nil {
		return false, err
	}
	h.dc.PostQuestion = true
	// The post as the citizen saw it, for the transcript of a case (stored,
	// not sent again).
	text := truncateRunes(fmt.Sprintf(h.t.postRef, postTopics(p), p.Text), maxStoredText)
	if p.LinkURL != "" {
		text += "\n" + p.LinkURL
	}
	if err := h.flushOwn(ctx); err != nil {
		return false, err
	}
	if _, err := h.st.AddMessage(ctx, routing.Message{
		CitizenID: h.c.ID, Direction: routing.DirectionOut, Sender: routing.SenderBot,
		Kind: routing.KindText, Text: text,
	}); err != nil {
		return false, err
	}
	return true, h.say(ctx, fmt.Sprintf(h.t.postAsk, postTitle(p.Text)), nil)
}

func postTopics(p broadcast.PostContext) string {
	if len(p.Topics) == 0 {
		return "-"
	}
	return strings.Join(p.Topics, ", ")
}

// takePostQuestion consumes the citizen's pending "Frage dazu": when it is
// recent and the post still exists, the question is about that post and a
// handoff goes to the post's department (h.postDept).
func (h *turn) takePostQuestion(ctx context.Context) error {
	subs := h.e.cfg.Subscriptions
	if subs == nil {
		return nil
	}
	if h.dcRead && !h.dc.PostQuestion {
		return nil // none waits: no statement
	}
	postID, at, ok, err := h.bots(ctx).takePostQuestion(ctx, h.c.ID)
	h.dc.PostQuestion = false
	if err != nil || !ok {
		return err
	}
	if time.Since(at) > h.e.postQuestionWindow() {
		return nil
	}
	p, err := subs.PostContext(ctx, h.tx, postID)
	if errors.Is(err, broadcast.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	h.postDept = p.DepartmentID
	return nil
}

// subscriptionNames lists the citizen's topics for /meinedaten (nil
// without subscriptions configured).
func (h *turn) subscriptionNames(ctx context.Context) ([]string, error) {
	subs := h.e.cfg.Subscriptions
	if subs == nil {
		return nil, nil
	}
	ts, err := subs.Subscriptions(ctx, h.tx, h.c.ID)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(ts))
	for i, t := range ts {
		names[i] = t.Name(h.t.topicLang)
	}
	return names, nil
}

// subscriptionSummary is the /meinedaten line about subscriptions.
func (t *texts) subscriptionSummary(names []string) string {
	if len(names) == 0 {
		return t.dataNoSubscriptions
	}
	return fmt.Sprintf(t.dataSubscriptions, strings.Join(names, ", "))
}

// broadcastButtonLabel is the stored text of an /abo or "Frage dazu" press.
func (h *turn) broadcastButtonLabel(ctx context.Context, data string) string {
	if _, ok := broadcast.ParseQuestionCallback(data); ok {
		return h.t.questionButton
	}
	id, ok := broadcast.ParseToggleCallback(data)
	if !ok || h.e.cfg.Subscriptions == nil {
		return ""
	}
	ts, err := h.e.cfg.Subscriptions.Topics(ctx, h.tx, h.c.ID)
	if err != nil {
		return ""
	}
	for _, t := range ts {
		if t.ID == id {
			return "Abo: " + t.Name(h.t.topicLang)
		}
	}
	return ""
}
