package routing_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"citybot/internal/dbtest"
	"citybot/routing"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

func TestCitizenMessagesExportErase(t *testing.T) {
	ctx := context.Background()
	s := routing.NewStore(dbtest.New(t))

	c, err := s.TouchCitizen(ctx, routing.ChannelTelegram, "42", "en")
	if err != nil {
		t.Fatal(err)
	}
	c2, err := s.TouchCitizen(ctx, routing.ChannelTelegram, "42", "")
	if err != nil {
		t.Fatal(err)
	}
	if c2.ID != c.ID || c2.Language != "en" {
		t.Fatalf("touch again: got %+v, want id %d language en", c2, c.ID)
	}
	if _, err := s.CitizenByExternalID(ctx, routing.ChannelTelegram, "43"); !errors.Is(err, routing.ErrNotFound) {
		t.Fatalf("unknown citizen: err = %v, want ErrNotFound", err)
	}

	lat, lon := 49.1, 8.4
	in, err := s.AddMessage(ctx, routing.Message{CitizenID: c.ID, Direction: routing.DirectionIn, Sender: routing.SenderCitizen,
		Kind: routing.KindLocation, Media: &routing.Media{Type: "location", Latitude: &lat, Longitude: &lon}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddMessage(ctx, routing.Message{CitizenID: c.ID, Direction: routing.DirectionOut, Sender: routing.SenderCitizen, Kind: routing.KindText}); !errors.Is(err, routing.ErrInvalid) {
		t.Fatalf("outbound from citizen: err = %v, want ErrInvalid", err)
	}
	out, err := s.Send(ctx, c, routing.Message{Text: "Hallo"}, routing.Payload{Text: "Hallo"}, routing.Payload{Text: "zweiter Teil"})
	if err != nil {
		t.Fatal(err)
	}
	if out.Direction != routing.DirectionOut || out.Sender != routing.SenderBot {
		t.Fatalf("sent message = %+v", out)
	}

	ex, err := s.Export(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(ex.Messages) != 2 || ex.Messages[0].ID != in.ID || ex.Messages[0].Media == nil || *ex.Messages[0].Media.Latitude != lat {
		t.Fatalf("export = %+v", ex)
	}

	if err := s.EraseCitizen(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.EraseCitizen(ctx, c.ID); !errors.Is(err, routing.ErrNotFound) {
		t.Fatalf("erase twice: err = %v, want ErrNotFound", err)
	}
	if _, err := s.Export(ctx, c.ID); !errors.Is(err, routing.ErrNotFound) {
		t.Fatalf("export after erase: err = %v", err)
	}
	items, err := s.ClaimOutbox(ctx, routing.ChannelTelegram, 10, time.Minute)
	if err != nil || len(items) != 0 {
		t.Fatalf("outbox after erase: %v, %v", items, err)
	}
}

func TestOutboxOrderRetryUndeliverable(t *testing.T) {
	ctx := context.Background()
	s := routing.NewStore(dbtest.New(t))
	a, _ := s.TouchCitizen(ctx, routing.ChannelTelegram, "1", "de")
	b, _ := s.TouchCitizen(ctx, routing.ChannelTelegram, "2", "de")
	for _, txt := range []string{"a1", "a2"} {
		if _, err := s.Send(ctx, a, routing.Message{Text: txt}, routing.Payload{Text: txt}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Send(ctx, b, routing.Message{Text: "b1"}, routing.Payload{Text: "b1"}, routing.Payload{Text: "b2"}); err != nil {
		t.Fatal(err)
	}

	// Only the head of each chat is claimable.
	items, err := s.ClaimOutbox(ctx, routing.ChannelTelegram, 10, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 2 || items[0].Payload.Text != "a1" || items[1].Payload.Text != "b1" || items[0].Attempts != 1 {
		t.Fatalf("first claim = %+v", items)
	}
	// While the heads are being sent, nothing else of those chats is claimable.
	if more, _ := s.ClaimOutbox(ctx, routing.ChannelTelegram, 10, time.Minute); len(more) != 0 {
		t.Fatalf("claimed behind an open head: %+v", more)
	}

	// a1: rate limited, not counted; retried later.
	if err := s.MarkRetry(ctx, items[0], time.Now().Add(time.Hour), errors.New("429"), false); err != nil {
		t.Fatal(err)
	}
	// b1 sent; a stale claim cannot mark it again.
	if err := s.MarkSent(ctx, items[1], "100"); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkSent(ctx, items[1], "100"); !errors.Is(err, routing.ErrNotFound) {
		t.Fatalf("mark sent twice: %v", err)
	}
	items, _ = s.ClaimOutbox(ctx, routing.ChannelTelegram, 10, time.Minute)
	if len(items) != 1 || items[0].Payload.Text != "b2" {
		t.Fatalf("second claim = %+v (a1 waits, a2 behind it)", items)
	}
	// b2: the bot is blocked -> undeliverable, and so is everything else open for chat 2.
	if _, err := s.Send(ctx, b, routing.Message{Text: "b3"}, routing.Payload{Text: "b3"}); err != nil {
		t.Fatal(err)
	}
	n, err := s.MarkUndeliverable(ctx, items[0], errors.New("403"))
	if err != nil || n != 2 {
		t.Fatalf("undeliverable: n = %d, err = %v", n, err)
	}
	if items, _ := s.ClaimOutbox(ctx, routing.ChannelTelegram, 10, time.Minute); len(items) != 0 {
		t.Fatalf("claimed after undeliverable / before retry time: %+v", items)
	}

	// An ephemeral row leaves nothing behind once sent.
	if err := s.SendEphemeral(ctx, routing.ChannelTelegram, "3", routing.Payload{Text: "gelöscht"}); err != nil {
		t.Fatal(err)
	}
	items, _ = s.ClaimOutbox(ctx, routing.ChannelTelegram, 10, time.Minute)
	if len(items) != 1 || !items[0].Ephemeral {
		t.Fatalf("ephemeral claim = %+v", items)
	}
	if err := s.MarkSent(ctx, items[0], "7"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.OutboxStatus(ctx, items[0].ID); !errors.Is(err, routing.ErrNotFound) {
		t.Fatalf("ephemeral row still there: %v", err)
	}
}

func TestOutboxLeaseExpires(t *testing.T) {
	ctx := context.Background()
	s := routing.NewStore(dbtest.New(t))
	c, _ := s.TouchCitizen(ctx, routing.ChannelTelegram, "1", "de")
	if _, err := s.Send(ctx, c, routing.Message{Text: "x"}, routing.Payload{Text: "x"}); err != nil {
		t.Fatal(err)
	}
	first, _ := s.ClaimOutbox(ctx, routing.ChannelTelegram, 10, time.Millisecond)
	if len(first) != 1 {
		t.Fatalf("claim = %+v", first)
	}
	time.Sleep(20 * time.Millisecond)
	second, _ := s.ClaimOutbox(ctx, routing.ChannelTelegram, 10, time.Minute)
	if len(second) != 1 || second[0].Attempts != 2 {
		t.Fatalf("reclaim after lease = %+v", second)
	}
	// The crashed sender's late result is refused (fencing by attempt count).
	if err := s.MarkSent(ctx, first[0], ""); !errors.Is(err, routing.ErrNotFound) {
		t.Fatalf("stale mark sent: %v", err)
	}
	if err := s.MarkSent(ctx, second[0], "5"); err != nil {
		t.Fatal(err)
	}
}

// A claim looks past a prefix of the queue full of one chat's rows, and
// concurrent MarkSent calls are recorded together, each with its result.
func TestOutboxClaimPastLongChatQueueAndGroupedMarkSent(t *testing.T) {
	ctx := context.Background()
	s := routing.NewStore(dbtest.New(t))
	a, _ := s.TouchCitizen(ctx, routing.ChannelTelegram, "1", "de")
	b, _ := s.TouchCitizen(ctx, routing.ChannelTelegram, "2", "de")
	parts := make([]routing.Payload, 300)
	for i := range parts {
		parts[i] = routing.Payload{Text: fmt.Sprint("a", i)}
	}
	if _, err := s.Send(ctx, a, routing.Message{Text: "long"}, parts...); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Send(ctx, b, routing.Message{Text: "b"}, routing.Payload{Text: "b"}); err != nil {
		t.Fatal(err)
	}
	items, err := s.ClaimOutbox(ctx, routing.ChannelTelegram, 4, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 2 || items[0].Payload.Text != "a0" || items[1].Payload.Text != "b" {
		t.Fatalf("claim = %+v, want a0 and b", items)
	}
	stale := items[0]
	stale.Attempts = 7
	errs := make(chan error, 3)
	for _, it := range []routing.OutboxItem{items[0], items[1], stale} {
		go func() { errs <- s.MarkSent(ctx, it, "42") }()
	}
	var ok, notFound int
	for range 3 {
		switch err := <-errs; {
		case err == nil:
			ok++
		case errors.Is(err, routing.ErrNotFound):
			notFound++
		default:
			t.Fatal(err)
		}
	}
	if ok != 2 || notFound != 1 {
		t.Fatalf("mark sent: %d ok, %d not found; want 2, 1", ok, notFound)
	}
	items, err = s.ClaimOutbox(ctx, routing.ChannelTelegram, 4, time.Minute)
	if err != nil || len(items) != 1 || items[0].Payload.Text != "a1" {
		t.Fatalf("next claim = %+v, %v; want a1", items, err)
	}
}

// ReceiveAll stores the messages of several chats as Receive does for each:
// the citizens (an empty language keeps the stored one), the messages in
// the order given, what was there before (recent messages, a case) and the
// media; a chat given twice is refused.
func TestReceiveAllLikeReceive(t *testing.T) {
	ctx := context.Background()
	s := routing.NewStore(dbtest.New(t))
	in := func(text string) routing.Message {
		return routing.Message{Direction: routing.DirectionIn, Sender: routing.SenderCitizen, Kind: routing.KindText, Text: text}
	}
	// Chat 1 is known (English, two recent messages); chat 2 is new.
	old, err := s.Receive(ctx, routing.ChannelTelegram, "1", "en", in("eins"), time.Hour, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Receive(ctx, routing.ChannelTelegram, "1", "", in("zwei"), time.Hour, time.Minute); err != nil {
		t.Fatal(err)
	}
	lat, lon := 49.1, 8.4
	ext := "77"
	loc := routing.Message{Direction: routing.DirectionIn, Sender: routing.SenderCitizen, Kind: routing.KindLocation,
		Media: &routing.Media{Type: "location", Latitude: &lat, Longitude: &lon}, ExternalMessageID: &ext}
	got, err := s.ReceiveAll(ctx, []routing.Receipt{
		{Channel: routing.ChannelTelegram, ExternalID: "2", Language: "", Message: loc},
		{Channel: routing.ChannelTelegram, ExternalID: "1", Language: "", Message: in("drei")},
	}, time.Hour, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("got %d results", len(got))
	}
	if c := got[1].Citizen; c.ID != old.Citizen.ID || c.Language != "en" || got[1].RecentIn != 2 || got[1].Message.Text != "drei" {
		t.Errorf("known chat: %+v, recent %d", got[1], got[1].RecentIn)
	}
	if c := got[0].Citizen; c.ID == old.Citizen.ID || c.Language != "de" || got[0].RecentIn != 0 || got[0].MayHaveCase {
		t.Errorf("new chat: %+v", got[0])
	}
	if got[0].Message.ID >= got[1].Message.ID || got[1].Message.ID <= old.Message.ID {
		t.Errorf("message ids not in the order given: %d, %d after %d", got[0].Message.ID, got[1].Message.ID, old.Message.ID)
	}
	msgs, err := s.Messages(ctx, got[0].Citizen.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 1 || msgs[0].Media == nil || *msgs[0].Media.Latitude != lat || msgs[0].ExternalMessageID == nil || *msgs[0].ExternalMessageID != ext {
		t.Errorf("stored location = %+v", msgs)
	}
	if msgs, _ := s.Messages(ctx, old.Citizen.ID); len(msgs) != 3 || msgs[2].Text != "drei" || msgs[2].ExternalMessageID != nil {
		t.Errorf("known chat's messages = %+v", msgs)
	}
	// English given again replaces German.
	if got, err := s.ReceiveAll(ctx, []routing.Receipt{{Channel: routing.ChannelTelegram, ExternalID: "2", Language: "en", Message: in("x")}}, 0, 0); err != nil || got[0].Citizen.Language != "en" {
		t.Errorf("language: %+v %v", got, err)
	}
	_, err = s.ReceiveAll(ctx, []routing.Receipt{
		{Channel: routing.ChannelTelegram, ExternalID: "3", Message: in("a")},
		{Channel: routing.ChannelTelegram, ExternalID: "3", Message: in("b")},
	}, 0, 0)
	if !errors.Is(err, routing.ErrInvalid) {
		t.Errorf("one chat twice: err = %v, want ErrInvalid", err)
	}
}

// SendAll stores messages and queues their parts as Send does for each, in
// the order given; only a chat's first message is claimed, and only when
// nothing of the chat is open.
func TestSendAllLikeSend(t *testing.T) {
	ctx := context.Background()
	d := dbtest.New(t)
	s := routing.NewStore(d)
	a, err := s.TouchCitizen(ctx, routing.ChannelTelegram, "1", "de")
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.TouchCitizen(ctx, routing.ChannelTelegram, "2", "de")
	if err != nil {
		t.Fatal(err)
	}
	// b has an open row already.
	if _, err := s.Send(ctx, b, routing.Message{Text: "vorher"}, routing.Payload{Text: "vorher"}); err != nil {
		t.Fatal(err)
	}
	got, err := s.SendAll(ctx, []routing.Outgoing{
		{Citizen: a, Message: routing.Message{Text: "a1"}, Parts: []routing.Payload{{Text: "a1 Teil 1"}, {Text: "a1 Teil 2"}}},
		{Citizen: b, Message: routing.Message{Text: "b1"}, Parts: []routing.Payload{{Text: "b1"}}},
		{Citizen: a, Message: routing.Message{Text: "a2"}, Parts: []routing.Payload{{Text: "a2"}}},
	}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0].Message.ID >= got[1].Message.ID || got[1].Message.ID >= got[2].Message.ID {
		t.Fatalf("messages not in the order given: %+v", got)
	}
	if c := got[0].Claimed; c == nil || c.Payload.Text != "a1 Teil 1" || c.ChatID != "1" || c.Attempts != 1 || *c.MessageID != got[0].Message.ID {
		t.Errorf("a1 claimed = %+v", c)
	}
	if got[1].Claimed != nil || got[2].Claimed != nil {
		t.Errorf("claimed behind an open row: b1 %+v, a2 %+v", got[1].Claimed, got[2].Claimed)
	}
	if m := got[2].Message; m.Direction != routing.DirectionOut || m.Sender != routing.SenderBot || m.Kind != routing.KindText || m.CitizenID != a.ID {
		t.Errorf("a2 = %+v", m)
	}
	var texts []string
	if err := d.Select(&texts, `SELECT payload->>'text' FROM outbox WHERE chat_id = '1' ORDER BY id`); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(texts) != "[a1 Teil 1 a1 Teil 2 a2]" {
		t.Errorf("chat 1's outbox = %q", texts)
	}
	msgs, err := s.Messages(ctx, b.ID)
	if err != nil || len(msgs) != 2 || msgs[1].Text != "b1" {
		t.Errorf("chat 2's messages = %+v %v", msgs, err)
	}
}
