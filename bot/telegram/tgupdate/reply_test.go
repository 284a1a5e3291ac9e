package tgupdate

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// TestDecodeReplyTo: a reply carries the id of the message it answers,
// whether that is the bot's (or forwarded), and the start of its text,
// bounded and valid UTF-8 whatever the update holds.
func TestDecodeReplyTo(t *testing.T) {
	cases := []struct {
		name, reply string
		id          int
		bot         bool
		text        string
	}{
		{"none", ``, 0, false, ""},
		{"to the bot", `,"reply_to_message":{"message_id":7,"date":1,"chat":{"id":42,"type":"private"},"from":{"id":1,"is_bot":true,"first_name":"B"},"text":"🔔 Neuer Fall #12"}`, 7, true, "🔔 Neuer Fall #12"},
		{"to oneself", `,"reply_to_message":{"message_id":8,"date":1,"chat":{"id":42,"type":"private"},"from":{"id":42,"is_bot":false,"first_name":"A"},"caption":"Foto"}`, 8, false, "Foto"},
		{"forwarded", `,"reply_to_message":{"message_id":9,"date":1,"chat":{"id":42,"type":"private"},"from":{"id":42,"is_bot":false,"first_name":"A"},"forward_origin":{"type":"hidden_user","date":1,"sender_user_name":"X"},"text":"x"}`, 9, true, "x"},
		{"hostile text", `,"reply_to_message":{"message_id":10,"date":1,"chat":{"id":42,"type":"private"},"from":{"id":1,"is_bot":true,"first_name":"B"},"text":"a\u0000` + strings.Repeat("ä", 300) + `"}`, 10, true, "a" + strings.Repeat("ä", 127)},
		{"bad id", `,"reply_to_message":{"message_id":-3,"date":1,"chat":{"id":42,"type":"private"}}`, 0, false, ""},
	}
	for _, c := range cases {
		inc := Decode([]byte(`{"update_id":1,"message":{"message_id":20,"date":1,"chat":{"id":42,"type":"private"},"from":{"id":42,"is_bot":false,"first_name":"A"},"text":"Antwort"` + c.reply + `}}`))
		if inc.ReplyTo != c.id || inc.ReplyToBot != c.bot || inc.ReplyToText != c.text || !utf8.ValidString(inc.ReplyToText) {
			t.Errorf("%s: ReplyTo %d, bot %v, text %q (want %d, %v, %q)", c.name, inc.ReplyTo, inc.ReplyToBot, inc.ReplyToText, c.id, c.bot, c.text)
		}
		if inc.In.Text != "Antwort" {
			t.Errorf("%s: text %q", c.name, inc.In.Text)
		}
	}
}
