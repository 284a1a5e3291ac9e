package telegram

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
)

func TestShortReply(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`{"ok":true,"result":{"message_id":42,"from":{"id":1,"is_bot":true},"chat":{"id":7,"type":"private"},"date":1,"text":"x"}}`,
			`{"ok":true,"result":{"message_id":42}}`},
		{`{"ok":true,"result":{"message_id":42}}`, `{"ok":true,"result":{"message_id":42}}`},
		// anything else is left alone
		{`{"ok":true,"result":{"from":{"id":1},"message_id":42}}`, `{"ok":true,"result":{"from":{"id":1},"message_id":42}}`},
		{`{"ok":true,"result":{"message_id":}}`, `{"ok":true,"result":{"message_id":}}`},
		{`{"ok":true,"result":{"message_id":12`, `{"ok":true,"result":{"message_id":12`},
		{`{"ok":false,"error_code":403,"description":"Forbidden"}`, `{"ok":false,"error_code":403,"description":"Forbidden"}`},
		{`{"ok":true,"result":true}`, `{"ok":true,"result":true}`},
	} {
		if got := string(shortReply([]byte(c.in))); got != c.want {
			t.Errorf("shortReply(%s) = %s, want %s", c.in, got, c.want)
		}
	}
}

// Through go-telegram/bot: sendMessage gives the message id from the short
// reply, sendPhoto the whole message, errors stay errors.
func TestBufferBodiesShortensReplies(t *testing.T) {
	const msg = `{"message_id":42,"from":{"id":1,"is_bot":true,"first_name":"b"},"chat":{"id":7,"type":"private"},"date":1,"text":"x","photo":[{"file_id":"F","file_unique_id":"U","width":1,"height":1}]}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasSuffix(r.URL.Path, "/getMe"):
			io.WriteString(w, `{"ok":true,"result":{"id":1,"is_bot":true,"first_name":"b","username":"b"}}`)
		case strings.Contains(r.URL.Path, "/sendMessage") && r.FormValue("chat_id") == "8":
			w.WriteHeader(http.StatusForbidden)
			io.WriteString(w, `{"ok":false,"error_code":403,"description":"Forbidden: bot was blocked by the user"}`)
		default:
			io.WriteString(w, `{"ok":true,"result":`+msg+`}`)
		}
	}))
	defer srv.Close()
	b, err := tgbot.New("1:x", tgbot.WithServerURL(srv.URL), tgbot.WithHTTPClient(0, bufferBodies(srv.Client())), tgbot.WithSkipGetMe())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	m, err := b.SendMessage(ctx, &tgbot.SendMessageParams{ChatID: 7, Text: "x"})
	if err != nil || m.ID != 42 {
		t.Fatalf("SendMessage = %+v, %v", m, err)
	}
	if m.Chat.ID != 0 {
		t.Errorf("sendMessage's reply not shortened: %+v", m)
	}
	p, err := b.SendPhoto(ctx, &tgbot.SendPhotoParams{ChatID: 7, Photo: &models.InputFileString{Data: "F"}})
	if err != nil || p.ID != 42 || len(p.Photo) != 1 || p.Photo[0].FileID != "F" {
		t.Fatalf("SendPhoto = %+v, %v", p, err)
	}
	if _, err := b.SendMessage(ctx, &tgbot.SendMessageParams{ChatID: 8, Text: "x"}); !errors.Is(err, tgbot.ErrorForbidden) {
		t.Fatalf("blocked chat: %v", err)
	}
}
