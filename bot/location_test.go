package bot

import (
	"testing"
	"time"

	"citybot/routing"
)

// TestEngineLocation: the bot writes dates in the city's time zone
// (CITYBOT_TIMEZONE), Europe/Berlin when none is set.
func TestEngineLocation(t *testing.T) {
	kiri, err := time.LoadLocation("Pacific/Kiritimati")
	if err != nil {
		t.Fatal(err)
	}
	if e := NewEngine(nil, Config{Location: kiri}, nil); e.loc != kiri {
		t.Errorf("configured zone: engine uses %v", e.loc)
	}
	if e := NewEngine(nil, Config{}, nil); e.loc.String() != routing.TimeZone {
		t.Errorf("default zone: engine uses %v, want %s", e.loc, routing.TimeZone)
	}
}
