package settings_test

import (
	"context"
	"testing"

	"citybot/internal/dbtest"
	"citybot/internal/settings"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

func TestGetSet(t *testing.T) {
	ctx := context.Background()
	d := dbtest.New(t)
	var hosts []string
	if ok, err := settings.Get(ctx, d, settings.FeedInternalHosts, &hosts); ok || err != nil || hosts != nil {
		t.Fatalf("unset: ok %v, err %v, hosts %v", ok, err, hosts)
	}
	if err := settings.Set(ctx, d, settings.FeedInternalHosts, []string{"intranet.local"}); err != nil {
		t.Fatal(err)
	}
	if err := settings.Set(ctx, d, settings.FeedInternalHosts, []string{"news.intern", "a"}); err != nil {
		t.Fatal(err)
	}
	if ok, err := settings.Get(ctx, d, settings.FeedInternalHosts, &hosts); !ok || err != nil || len(hosts) != 2 || hosts[0] != "news.intern" {
		t.Fatalf("after set: ok %v, err %v, hosts %v", ok, err, hosts)
	}
	if err := settings.Set(ctx, d, settings.CaseRetentionDays, 30); err != nil {
		t.Fatal(err)
	}
	raw, ok, err := settings.Raw(ctx, d, settings.CaseRetentionDays)
	if !ok || err != nil || string(raw) != "30" {
		t.Fatalf("raw: %q %v %v", raw, ok, err)
	}
	var days int
	if _, err := settings.Get(ctx, d, settings.FeedInternalHosts, &days); err == nil {
		t.Fatal("decoding an array into an int: no error")
	}
}
