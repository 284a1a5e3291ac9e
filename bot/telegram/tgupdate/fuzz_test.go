package tgupdate

import "testing"

// FuzzDecodeUpdate: intake and the dispatcher take any update body (the
// webhook's and getUpdates' raw JSON) without panicking: Peek for
// storing it, Decode for answering it.
func FuzzDecodeUpdate(f *testing.F) {
	for _, s := range []string{
		`{"update_id":1,"message":{"message_id":1,"date":1,"chat":{"id":42,"type":"private"},"from":{"id":42,"is_bot":false,"first_name":"A"},"text":"Hallo"}}`,
		`{"update_id":2,"message":{"message_id":2,"date":1,"chat":{"id":42,"type":"private"},"text":"/start abo-warnungen","entities":[{"type":"bot_command","offset":0,"length":6}]}}`,
		`{"update_id":3,"message":{"message_id":3,"chat":{"id":42,"type":"private"},"text":"x","entities":[{"type":"bold","offset":-5,"length":99999}]}}`,
		`{"update_id":4,"callback_query":{"id":"c","from":{"id":42},"data":"faq:yes:1","message":{"message_id":9,"chat":{"id":42,"type":"private"}}}}`,
		`{"update_id":5,"message":{"message_id":5,"chat":{"id":42,"type":"private"},"photo":[{"file_id":"f","width":1,"height":1}],"caption":"\u0000\ud800"}}`,
		`{"update_id":6,"message":{"chat":{"id":"not a number"}}}`,
		`{"update_id":7,"message":{"message_id":7,"chat":{"id":42,"type":"private"},"location":{"latitude":91,"longitude":-181}}}`,
		`{"update_id":8,"edited_message":{}}`,
		`[]`, `{"update_id":1e400}`, "\xff",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		_, _ = Peek(raw)
		_ = Decode(raw)
	})
}
