package tgupdate

import (
	"strings"
	"testing"
)

// TestDecodeAlbum: a photo of an album carries its media group id (a field
// report takes the album as one report); a crafted, overlong id is dropped,
// the photo stays.
func TestDecodeAlbum(t *testing.T) {
	photo := `"photo":[{"file_id":"f1","file_unique_id":"u1","width":90,"height":90}]`
	inc := Decode([]byte(`{"update_id":1,"message":{"message_id":1,"date":1,"chat":{"id":42,"type":"private"},` + photo + `,"media_group_id":"13579"}}`))
	if inc.MediaGroupID != "13579" || inc.In.Media == nil || inc.In.Media.FileID != "f1" {
		t.Fatalf("album photo: %q %+v", inc.MediaGroupID, inc.In.Media)
	}
	inc = Decode([]byte(`{"update_id":2,"message":{"message_id":2,"date":1,"chat":{"id":42,"type":"private"},` + photo + `,"media_group_id":"` + strings.Repeat("9", 65) + `"}}`))
	if inc.MediaGroupID != "" || inc.In.Media == nil || inc.In.Media.FileID != "f1" {
		t.Fatalf("overlong media group: %q %+v", inc.MediaGroupID, inc.In.Media)
	}
	if inc := Decode([]byte(`{"update_id":3,"message":{"message_id":3,"date":1,"chat":{"id":42,"type":"private"},"text":"x"}}`)); inc.MediaGroupID != "" {
		t.Fatalf("text with a media group: %q", inc.MediaGroupID)
	}
}
