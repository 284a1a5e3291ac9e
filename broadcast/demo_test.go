package broadcast_test

import (
	"context"
	"testing"

	"citybot/broadcast"
	"citybot/internal/dbtest"
)

func TestApplyDemoTopics(t *testing.T) {
	d := dbtest.New(t)
	ctx := context.Background()
	n, err := broadcast.ApplyDemoTopics(ctx, d)
	if err != nil || n != len(broadcast.DemoTopics()) || n < 3 {
		t.Fatalf("created %d topics: %v", n, err)
	}
	// Idempotent, and it leaves a city's own topics alone.
	if n, err := broadcast.ApplyDemoTopics(ctx, d); err != nil || n != 0 {
		t.Errorf("second run created %d: %v", n, err)
	}
	var active int
	if err := d.Get(&active, `SELECT count(*) FROM topics WHERE active AND name_en <> ''`); err != nil || active != len(broadcast.DemoTopics()) {
		t.Errorf("active topics with English names = %d (%v)", active, err)
	}
}
