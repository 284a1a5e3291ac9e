package telegram

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"citybot/bot"
	"citybot/bot/telegram/tgupdate"
	"citybot/internal/db"
)

// batchScript is a batch of messages: chat (an index) and text. Chat 0
// writes twice: its second message is received in its turn, after the
// first one's answer.
var batchScript = []struct {
	chat int64
	text string
}{
	{0, "Wie beantrage ich einen Personalausweis?"},
	{1, "Hallo"},
	{0, "Danke!"},
	{2, "Knöllchen bekommen obwohl ich einen Parkschein hatte, wie kann ich mich wehren?"},
	{3, "/start"},
	{4, "Bordstein absenken lassen für Garage Kosten"},
	// A handoff: the case links the transcript so far (the bot's replies
	// of the batch included), then the bot answers with a case open.
	{5, "/mitarbeiter Mein Nachbar parkt seit Wochen vor meiner Einfahrt"},
	{1, "Wie beantrage ich einen Personalausweis?"},
	{5, "Ja"},
	{5, "Wie beantrage ich einen Personalausweis?"},
}

const batchChats = 6

var caseNumber = regexp.MustCompile(`#[0-9]+`)

// The engine's batch (set-wise receive and dialog read) answers exactly as
// the same messages handled one by one: the same outcomes, the same
// messages in the same order per chat, the same replies queued. A crash
// after the batch committed, before its claimed replies were sent: the
// next instance sends each of them once, in order.
func TestHandleBatchLikeOneByOne(t *testing.T) {
	he := newHandoffEnv(t)
	e := he.env
	cfg := he.cfg
	cfg.Lease = time.Second
	s, err := NewService(e.db, e.m, testLogger(t), cfg)
	must(t, err)
	ctx := context.Background()
	inbound := func(chat0 int64) []bot.Inbound {
		var ins []bot.Inbound
		for _, m := range batchScript {
			raw, _ := json.Marshal(e.fake.TextUpdate(chat0+m.chat, m.text))
			inc := tgupdate.Decode(raw)
			if inc.Skip != "" {
				t.Fatalf("%q: skipped: %s", m.text, inc.Skip)
			}
			ins = append(ins, inc.In)
		}
		return ins
	}
	const batchBase, singleBase = 7000, 7100
	var batch []bot.Result
	must(t, db.InTx(ctx, e.db, func(tx *sqlx.Tx) error {
		batch, err = s.engine.HandleBatch(ctx, tx, inbound(batchBase))
		return err
	}))
	var single []bot.Result
	for _, in := range inbound(singleBase) {
		must(t, db.InTx(ctx, e.db, func(tx *sqlx.Tx) error {
			r, err := s.engine.Handle(ctx, tx, in)
			single = append(single, r)
			return err
		}))
	}
	if len(batch) != len(single) {
		t.Fatalf("%d results, want %d", len(batch), len(single))
	}
	for i := range batch {
		b, o := batch[i], single[i]
		if b.Outcome != o.Outcome || b.State != o.State || b.Event != o.Event || b.Action != o.Action || len(b.Claimed) != len(o.Claimed) {
			t.Errorf("%q: batch %s/%v/%v/%v %d claimed, one by one %s/%v/%v/%v %d claimed", batchScript[i].text,
				b.Outcome, b.State, b.Event, b.Action, len(b.Claimed), o.Outcome, o.State, o.Event, o.Action, len(o.Claimed))
		}
	}
	// The transcripts: each chat's messages (both directions) in id order,
	// and the outbox's texts.
	transcript := func(chat int64) []string {
		var rows []string
		must(t, e.db.Select(&rows, `
			SELECT m.direction || ': ' || m.text FROM messages m JOIN citizens c ON c.id = m.citizen_id
			WHERE c.channel = 'telegram' AND c.external_id = $1 ORDER BY m.id`, fmt.Sprint(chat)))
		var out []string
		must(t, e.db.Select(&out, `SELECT payload->>'text' FROM outbox WHERE chat_id = $1 ORDER BY id`, fmt.Sprint(chat)))
		// The FAQ answers given and the topic of follow-up questions.
		var answers []string
		must(t, e.db.Select(&answers, `
			SELECT 'answer: ' || a.entry_id || ' ' || a.via || ' ' || a.question FROM bot_answers a JOIN citizens c ON c.id = a.citizen_id
			WHERE c.external_id = $1 ORDER BY a.id`, fmt.Sprint(chat)))
		must(t, e.db.Select(&answers, `
			SELECT 'topic: ' || coalesce(ds.topic_entry_id, '') || ' ' || coalesce(ds.topic_question, '') || ' ' || (ds.topic_at IS NOT NULL)::text
			FROM dialog_state ds JOIN citizens c ON c.id = ds.citizen_id WHERE c.external_id = $1`, fmt.Sprint(chat)))
		rows = append(rows, answers...)
		var linked []string
		must(t, e.db.Select(&linked, `
			SELECT 'case: ' || m.direction || ': ' || m.text FROM case_messages cm JOIN messages m ON m.id = cm.message_id
			JOIN citizens c ON c.id = m.citizen_id WHERE c.external_id = $1 ORDER BY m.id`, fmt.Sprint(chat)))
		all := append(append(rows, out...), linked...)
		for i, r := range all {
			all[i] = caseNumber.ReplaceAllString(r, "#N") // the batch's case is opened first
		}
		return all
	}
	for c := range int64(batchChats) {
		b, o := transcript(batchBase+c), transcript(singleBase+c)
		if len(b) == 0 || !slices.Equal(b, o) {
			t.Errorf("chat %d: batch\n%q\none by one\n%q", c, b, o)
		}
	}
	if b := transcript(batchBase); len(b) < 4 || b[0] != "in: "+batchScript[0].text || b[2] != "in: "+batchScript[2].text {
		t.Errorf("chat 0 out of order: %q", b)
	}
	// The feedback buttons of the batch's answers name the answer stored
	// for the citizen.
	if n := e.count(`
		SELECT count(*) FROM outbox o, jsonb_array_elements(o.payload->'buttons') AS r, jsonb_array_elements(r) AS b
		WHERE o.chat_id::bigint BETWEEN $1 AND $1 + 99 AND b->>'data' LIKE 'fb:%' AND NOT EXISTS (
			SELECT 1 FROM bot_answers a JOIN citizens c ON c.id = a.citizen_id
			WHERE a.id = split_part(b->>'data', ':', 2)::bigint AND c.external_id = o.chat_id)`, batchBase); n != 0 {
		t.Errorf("%d feedback buttons name no answer of their citizen", n)
	}
	if n := e.count(`SELECT count(*) FROM outbox WHERE chat_id::bigint BETWEEN $1 AND $1 + 99 AND payload::text LIKE '%fb:%'`, batchBase); n < 3 {
		t.Errorf("%d of the batch's replies have feedback buttons, want the answers'", n)
	}
	if n := e.count(`SELECT count(*) FROM case_messages cm JOIN messages m ON m.id = cm.message_id JOIN citizens c ON c.id = m.citizen_id
		WHERE c.external_id = $1 AND m.direction = 'out'`, fmt.Sprint(batchBase+5)); n < 2 {
		t.Errorf("the case links %d of the bot's messages, want the confirmation question and after", n)
	}

	// Nothing was sent yet: the claimed replies wait for their lease.
	if n := e.fake.SentCount(); n != 0 {
		t.Fatalf("sent %d before any service ran", n)
	}
	e.start(cfg)
	for c := range int64(batchChats) {
		for _, base := range []int64{batchBase, singleBase} {
			var want int
			must(t, e.db.Get(&want, `SELECT count(*) FROM outbox WHERE chat_id = $1`, fmt.Sprint(base+c)))
			got := e.expectExactly(base+c, want)
			if base == batchBase && c == 0 {
				var texts []string
				must(t, e.db.Select(&texts, `SELECT payload->>'text' FROM outbox WHERE chat_id = $1 ORDER BY id`, fmt.Sprint(base)))
				for i, m := range got {
					if m.Text != texts[i] {
						t.Errorf("chat 0: message %d sent %q, want %q", i, m.Text, texts[i])
					}
				}
			}
		}
	}
}

// Updates of many chats claimed at intake by an instance that dies before
// handling them (one of them delivered twice, one chat with two updates):
// the next instance handles them in batches, each answered once, a chat's
// in order.
func TestBatchAfterCrashOnceAndInOrder(t *testing.T) {
	e := newEnv(t)
	cfg := e.config(func(c *Config) { c.Lease = time.Second; c.Workers = 2 })
	a, err := NewService(e.db, e.m, testLogger(t), cfg)
	must(t, err)
	a.ready.start() // a dispatcher that never takes anything
	ctx, cancel := context.WithCancel(context.Background())
	polled := make(chan error, 1)
	go func() { polled <- a.runPoller(ctx) }()
	const chats = 24
	for c := range int64(chats) {
		e.fake.PushText(9000+c, "Wie beantrage ich einen Personalausweis?")
	}
	raw, _ := json.Marshal(e.fake.TextUpdate(9000, "Hallo"))
	e.fake.PushUpdateVerbatim(raw)
	e.fake.PushUpdateVerbatim(raw) // delivered twice
	waitFor(t, "updates stored", func() bool {
		return e.count(`SELECT count(*) FROM telegram_updates`) == chats+1 && e.fake.Pending() == 0
	})
	cancel()
	must(t, <-polled)
	if n := e.count(`SELECT count(*) FROM telegram_updates WHERE status = 'processing'`); n < 2 {
		t.Fatalf("%d updates claimed at intake, want most", n)
	}

	e.start(cfg)
	for c := range int64(chats) {
		want := 1
		if c == 0 {
			want = 2
		}
		got := e.expectExactly(9000+c, want)
		if c == 0 && got[1].PlainText == got[0].PlainText {
			t.Errorf("chat 0 answered %q twice", got[0].PlainText)
		}
	}
	// Chat 0's messages were received in update order.
	var texts []string
	must(t, e.db.Select(&texts, `
		SELECT m.text FROM messages m JOIN citizens c ON c.id = m.citizen_id
		WHERE c.external_id = '9000' AND m.direction = 'in' ORDER BY m.id`))
	if !slices.Equal(texts, []string{"Wie beantrage ich einen Personalausweis?", "Hallo"}) {
		t.Errorf("chat 0 received %q", texts)
	}
	if n := e.count(`SELECT count(*) FROM telegram_updates WHERE status <> 'done'`); n != 0 {
		t.Errorf("%d updates not done", n)
	}
}

// Finishing a chat's update claims its next one in the same statement,
// only when it is pending and due and only with a lease; rolled back, the
// claim goes too; a lost claim fails the finish.
func TestFinishClaimsChatsNext(t *testing.T) {
	e := newEnv(t)
	s, err := NewService(e.db, e.m, testLogger(t), e.config())
	must(t, err)
	ctx := context.Background()
	var ups []rawUpdate
	for i, chat := range []int64{31, 31, 31, 32, 32, 33} {
		raw, _ := json.Marshal(e.fake.TextUpdate(chat, "Hallo"))
		ups = append(ups, rawUpdate{ID: int64(100 + i), ChatID: chat, Raw: raw})
	}
	_, _, err = s.updates.insert(ctx, ups, 0)
	must(t, err)
	// Chat 32's second update is due later.
	_, err = e.db.Exec(`UPDATE telegram_updates SET next_attempt_at = now() + interval '1 hour' WHERE update_id = 104`)
	must(t, err)
	heads, err := s.updates.claim(ctx, 10, time.Minute)
	must(t, err)
	if len(heads) != 3 {
		t.Fatalf("claimed %d heads, want 3", len(heads))
	}
	// Rolled back: nothing changes.
	tx, err := e.db.Beginx()
	must(t, err)
	if _, err := s.updates.finishClaimNext(ctx, tx, time.Minute, heads...); err != nil {
		t.Fatal(err)
	}
	must(t, tx.Rollback())
	if n := e.count(`SELECT count(*) FROM telegram_updates WHERE status = 'processing'`); n != 3 {
		t.Fatalf("after rollback %d processing, want the 3 heads", n)
	}
	// Without a lease: done, nothing claimed.
	var next []claimed
	must(t, db.InTx(ctx, e.db, func(tx *sqlx.Tx) error {
		next, err = s.updates.finishClaimNext(ctx, tx, 0, heads[2])
		return err
	}))
	if len(next) != 0 {
		t.Errorf("claimed %v without a lease", next)
	}
	must(t, db.InTx(ctx, e.db, func(tx *sqlx.Tx) error {
		next, err = s.updates.finishClaimNext(ctx, tx, time.Minute, heads[:2]...)
		return err
	}))
	if len(next) != 1 || next[0].ID != 101 || *next[0].ChatID != 31 || next[0].Attempts != 1 || len(next[0].Payload) == 0 {
		t.Fatalf("next = %+v, want chat 31's update 101 only", next)
	}
	if n := e.count(`SELECT count(*) FROM telegram_updates WHERE status = 'processing'`); n != 1 {
		t.Errorf("%d processing, want 1", n)
	}
	// The claim is the caller's: finishing it again after it was taken
	// over fails.
	_, err = e.db.Exec(`UPDATE telegram_updates SET attempts = attempts + 1 WHERE update_id = 101`)
	must(t, err)
	err = db.InTx(ctx, e.db, func(tx *sqlx.Tx) error {
		_, err := s.updates.finishClaimNext(ctx, tx, time.Minute, next...)
		return err
	})
	if !errors.Is(err, errLost) {
		t.Errorf("finish of a lost claim: err = %v, want errLost", err)
	}
	if n := e.count(`SELECT count(*) FROM telegram_updates WHERE update_id = 102 AND status = 'pending'`); n != 1 {
		t.Errorf("chat 31's third update was claimed by a lost finish")
	}
}
