package faq

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"citybot/internal/dbtest"
	"citybot/internal/german"
)

// TestLiveRetrainsOnAChangedFAQ: the committed confidence model was
// trained on the demo FAQ; a city whose published FAQ differs gets a model
// retrained on its own FAQ, and the index is rebuilt with it. An unchanged
// FAQ is not retrained again. (A small FAQ keeps the training short.)
func TestLiveRetrainsOnAChangedFAQ(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := NewStore(dbtest.New(t))
	ds := demoDataset(t)
	ds.Entries = ds.Entries[:10]
	if _, err := s.Import(ctx, ds); err != nil {
		t.Fatal(err)
	}
	l := NewLive(s, slog.New(slog.NewTextHandler(io.Discard, nil)))
	l.RetrainAfter = time.Millisecond
	committed := l.gate.Load()
	if committed == nil || committed.FAQ != Fingerprint(demoDataset(t).Entries, german.DefaultSynonyms()) {
		t.Fatalf("the committed model does not carry the demo FAQ's fingerprint: %+v", committed)
	}
	if err := l.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if l.Index().opts.Gate != committed {
		t.Fatal("before retraining the index should use the committed model")
	}
	go l.retrainLoop(ctx)
	want := Fingerprint(ds.Entries, german.DefaultSynonyms())
	deadline := time.Now().Add(5 * time.Minute)
	for {
		if m := l.Index().opts.Gate; m != nil && m.FAQ == want {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("index not rebuilt with a model of the changed FAQ (gate FAQ %q, want %q)", l.gate.Load().FAQ, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if m := l.gate.Load(); m.Fit.Queries == 0 || m == committed {
		t.Fatalf("retrained model: %+v", m.Fit)
	}
	// Nothing changed: a reload keeps the model and schedules nothing.
	if err := l.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	l.mu.Lock()
	pending := l.pending
	l.mu.Unlock()
	if pending != nil || len(l.retrain) != 0 {
		t.Fatal("an unchanged FAQ was scheduled for retraining")
	}
	if r := l.Match(ds.Entries[0].Question); r.Confidence == 0 {
		t.Errorf("the retrained gate gives no confidence: %+v", r)
	}
}
