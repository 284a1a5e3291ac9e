package tgupdate

import (
	"strings"
	"testing"
)

// TestDecodeVenue: a place the citizen chose in Telegram (a venue) keeps
// its name and address for the case page; a bare location has none; hostile
// text in them is cleaned and bounded.
func TestDecodeVenue(t *testing.T) {
	in := Decode([]byte(`{"update_id":1,"message":{"message_id":1,"date":1,"chat":{"id":42,"type":"private"},
		"venue":{"location":{"latitude":49.4521,"longitude":11.0767},"title":"Spielplatz Amselweg","address":"Amselweg 9, 90403 Nürnberg"}}}`)).In
	if in.Media == nil || in.Media.Type != "location" || *in.Media.Latitude != 49.4521 || in.Media.Title != "Spielplatz Amselweg" || in.Media.Address != "Amselweg 9, 90403 Nürnberg" {
		t.Fatalf("venue: %+v", in.Media)
	}
	in = Decode([]byte(`{"update_id":2,"message":{"message_id":2,"date":1,"chat":{"id":42,"type":"private"},"location":{"latitude":49.4521,"longitude":11.0767}}}`)).In
	if in.Media == nil || in.Media.Title != "" || in.Media.Address != "" {
		t.Fatalf("location: %+v", in.Media)
	}
	in = Decode([]byte(`{"update_id":3,"message":{"message_id":3,"date":1,"chat":{"id":42,"type":"private"},
		"venue":{"location":{"latitude":1,"longitude":2},"title":"a\u0000b","address":"` + strings.Repeat("x", 2000) + `"}}}`)).In
	if in.Media.Title != "ab" || len(in.Media.Address) != 512 {
		t.Fatalf("hostile venue: %q, %d bytes", in.Media.Title, len(in.Media.Address))
	}
}
