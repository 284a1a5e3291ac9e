package telegram

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"
)

// A backlog is handled in batches (several updates per transaction): every
// update answered exactly once, each chat's in order.
func TestBacklogHandledInBatches(t *testing.T) {
	e := newEnv(t)
	s, err := NewService(e.db, e.m, testLogger(t), e.config())
	must(t, err)
	const chats, perChat = 40, 3
	var ups []rawUpdate
	id := int64(1000)
	for k := range perChat {
		for c := range chats {
			u := e.fake.TextUpdate(int64(5000+c), fmt.Sprintf("/start %d", k))
			u.ID = id
			raw, _ := json.Marshal(u)
			ups = append(ups, rawUpdate{ID: id, ChatID: int64(5000 + c), Raw: raw})
			id++
		}
	}
	n, err := s.updates.insert(context.Background(), ups)
	must(t, err)
	if n != len(ups) {
		t.Fatalf("stored %d of %d", n, len(ups))
	}
	// Two workers: a round claims up to 16 updates, 8 per transaction.
	e.start(e.config(func(c *Config) { c.Workers = 2 }))
	for c := range chats {
		e.waitSentTo(int64(5000+c), perChat)
	}
	time.Sleep(200 * time.Millisecond)
	if got := e.fake.SentCount(); got != chats*perChat {
		t.Fatalf("sent %d, want %d", got, chats*perChat)
	}
	if n := e.count(`SELECT count(*) FROM telegram_updates WHERE status <> 'done'`); n != 0 {
		t.Errorf("%d updates not done", n)
	}
	// The inbound messages of each chat were stored in update order.
	var bad int
	must(t, e.db.Get(&bad, `
		SELECT count(*) FROM (
			SELECT text, lag(text) OVER (PARTITION BY citizen_id ORDER BY id) AS prev
			FROM messages WHERE direction = 'in') m
		WHERE prev IS NOT NULL AND prev > text`))
	if bad != 0 {
		t.Errorf("%d inbound messages out of order", bad)
	}
}

// A claim looks past a window full of one chat's queue.
func TestClaimPastLongChatQueue(t *testing.T) {
	e := newEnv(t)
	st := updateStore{db: e.db}
	var ups []rawUpdate
	for i := range claimWindow + 10 {
		ups = append(ups, rawUpdate{ID: int64(i + 1), ChatID: 1, Raw: []byte(`{}`)})
	}
	ups = append(ups, rawUpdate{ID: int64(claimWindow + 100), ChatID: 2, Raw: []byte(`{}`)})
	_, err := st.insert(context.Background(), ups)
	must(t, err)
	cs, err := st.claim(context.Background(), 4, time.Minute)
	must(t, err)
	if len(cs) != 2 || cs[0].ID != 1 || cs[1].ID != claimWindow+100 {
		t.Fatalf("claimed %+v, want the heads of chats 1 and 2", cs)
	}
	// Chat 1's head is claimed: nothing more of it, nor of chat 2.
	cs, err = st.claim(context.Background(), 4, time.Minute)
	must(t, err)
	if len(cs) != 0 {
		t.Fatalf("claimed behind open heads: %+v", cs)
	}
}
