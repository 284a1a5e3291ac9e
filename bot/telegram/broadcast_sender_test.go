package telegram

import (
	"context"
	"errors"
	"testing"
	"time"

	tgbot "github.com/go-telegram/bot"

	"citybot/broadcast"
	"citybot/internal/tgfake"
)

func newTestBroadcastSender(t *testing.T) (*BroadcastSender, *tgfake.Server) {
	t.Helper()
	fake := tgfake.New(t)
	b, err := tgbot.New(fake.Token(), tgbot.WithServerURL(fake.URL()), tgbot.WithSkipGetMe(),
		tgbot.WithHTTPClient(time.Minute, fake.HTTPClient()))
	if err != nil {
		t.Fatal(err)
	}
	return NewBroadcastSender(b), fake
}

func TestBroadcastSenderErrors(t *testing.T) {
	s, fake := newTestBroadcastSender(t)
	ctx := context.Background()
	msg := broadcast.Message{PostID: 1, Text: "Hallo", QuestionText: "Frage dazu", QuestionData: "bq:1"}
	cases := []struct {
		name      string
		fail      tgfake.Failure
		retry     time.Duration
		blocked   bool
		transient bool
	}{
		{"429", tgfake.TooManyRequests(3), 3 * time.Second, false, false},
		{"403", tgfake.Blocked(), 0, true, false},
		{"deactivated", tgfake.Forbidden("Forbidden: user is deactivated"), 0, true, false},
		{"400", tgfake.BadRequest("chat not found"), 0, false, false},
		{"500", tgfake.ServerError(), 0, false, true},
		{"502 html", tgfake.BadGatewayHTML(), 0, false, true},
	}
	for _, tc := range cases {
		fake.FailNext("sendMessage", 1, tc.fail)
		err := s.Send(ctx, "4711", msg)
		if err == nil {
			t.Fatalf("%s: no error", tc.name)
		}
		ra, isRA := broadcast.RetryAfter(err)
		if isRA != (tc.retry > 0) || ra != tc.retry {
			t.Errorf("%s: RetryAfter = %v, %v", tc.name, ra, isRA)
		}
		if broadcast.IsBlocked(err) != tc.blocked || broadcast.IsTransient(err) != tc.transient {
			t.Errorf("%s: blocked %v transient %v (%v)", tc.name, broadcast.IsBlocked(err), broadcast.IsTransient(err), err)
		}
		if tc.name == "400" && !errors.Is(err, broadcast.ErrRejected) {
			t.Errorf("400 is not ErrRejected: %v", err)
		}
	}
	if err := s.Send(ctx, "4711", msg); err != nil {
		t.Fatal(err)
	}
	sent := fake.SentTo(4711)
	if len(sent) != 1 || sent[0].Text != "Hallo" || sent[0].ReplyMarkup.CallbackData()[0] != "bq:1" {
		t.Fatalf("sent %+v", sent)
	}
}

func TestBroadcastSenderPhotos(t *testing.T) {
	s, fake := newTestBroadcastSender(t)
	ctx := context.Background()
	up := broadcast.Message{PostID: 2, Text: "Foto", Photo: []byte("\xff\xd8\xff jpeg"), PhotoName: "a.jpg",
		LinkURL: "https://www.musterstadt.de/", LinkText: "Mehr erfahren", QuestionText: "Frage dazu", QuestionData: "bq:2"}
	for _, chat := range []string{"1", "2", "3"} {
		if err := s.Send(ctx, chat, up); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Send(ctx, "4", broadcast.Message{Text: "URL", PhotoURL: "https://www.musterstadt.de/a.jpg"}); err != nil {
		t.Fatal(err)
	}
	calls := fake.Calls("sendPhoto")
	if len(calls) != 4 {
		t.Fatalf("%d sendPhoto calls", len(calls))
	}
	if len(calls[0].Files) != 1 || len(calls[1].Files) != 0 || len(calls[2].Files) != 0 {
		t.Errorf("uploads per call: %d %d %d; want the file once, then its id", len(calls[0].Files), len(calls[1].Files), len(calls[2].Files))
	}
	if calls[0].Params["caption"] != "Foto" {
		t.Errorf("caption %q", calls[0].Params["caption"])
	}
}
