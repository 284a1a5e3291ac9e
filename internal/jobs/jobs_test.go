package jobs

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// logBuf is a concurrency-safe log sink.
type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func newLog() (*slog.Logger, *logBuf) {
	var b logBuf
	return slog.New(slog.NewTextHandler(&b, nil)), &b
}

// waitFor polls cond for up to 5 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// start runs j in a goroutine; the returned func cancels it and waits for
// Loop to return.
func start(t *testing.T, j Job) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		j.Loop(ctx)
	}()
	return func() {
		cancel()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("Loop did not return after cancel")
		}
	}
}

func TestEveryTicks(t *testing.T) {
	var n atomic.Int32
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		Every(ctx, "tick", 5*time.Millisecond, nil, func(context.Context) error { n.Add(1); return nil })
	}()
	waitFor(t, "three runs", func() bool { return n.Load() >= 3 })
	cancel()
	<-done
	after := n.Load()
	time.Sleep(20 * time.Millisecond)
	if n.Load() != after {
		t.Fatal("ran after Loop returned")
	}
}

func TestRunsAtStartUnlessDelayed(t *testing.T) {
	var n atomic.Int32
	stop := start(t, Job{Name: "now", Interval: time.Hour, Func: func(context.Context) error { n.Add(1); return nil }})
	waitFor(t, "the first run", func() bool { return n.Load() == 1 })
	stop()

	var m atomic.Int32
	stop = start(t, Job{Name: "later", Interval: 200 * time.Millisecond, Delay: true, Func: func(context.Context) error { m.Add(1); return nil }})
	time.Sleep(20 * time.Millisecond)
	if m.Load() != 0 {
		t.Fatal("a delayed job ran at start")
	}
	waitFor(t, "the delayed run", func() bool { return m.Load() == 1 })
	stop()
}

func TestErrorLoggedAndLoopGoesOn(t *testing.T) {
	log, buf := newLog()
	var n atomic.Int32
	stop := start(t, Job{Name: "flaky", Interval: 2 * time.Millisecond, Log: log, Func: func(context.Context) error {
		if n.Add(1) <= 2 {
			return errors.New("database away")
		}
		return nil
	}})
	waitFor(t, "runs after the failures", func() bool { return n.Load() >= 4 })
	stop()
	out := buf.String()
	if strings.Count(out, "database away") != 2 || !strings.Contains(out, "job=flaky") {
		t.Fatalf("log:\n%s", out)
	}
}

func TestPanicRecovered(t *testing.T) {
	log, buf := newLog()
	var n atomic.Int32
	stop := start(t, Job{Name: "panicky", Interval: 2 * time.Millisecond, Log: log, Func: func(context.Context) error {
		if n.Add(1) == 1 {
			panic("nil map")
		}
		return nil
	}})
	waitFor(t, "a run after the panic", func() bool { return n.Load() >= 3 })
	stop()
	if out := buf.String(); !strings.Contains(out, "panic: nil map") || !strings.Contains(out, "job=panicky") {
		t.Fatalf("log:\n%s", out)
	}
}

func TestStopsOnCancel(t *testing.T) {
	log, buf := newLog()
	started := make(chan struct{})
	stop := start(t, Job{Name: "long", Interval: time.Hour, Log: log, Func: func(ctx context.Context) error {
		close(started)
		<-ctx.Done()
		return ctx.Err()
	}})
	<-started
	stop() // returns although the interval is an hour
	if out := buf.String(); out != "" {
		t.Fatalf("an error of a cancelled run was logged:\n%s", out)
	}
}

func TestWakeRetryAndNext(t *testing.T) {
	wake := make(chan struct{}, 1)
	var n atomic.Int32
	stop := start(t, Job{Name: "woken", Interval: time.Hour, Wake: wake, Func: func(context.Context) error { n.Add(1); return nil }})
	waitFor(t, "the first run", func() bool { return n.Load() == 1 })
	wake <- struct{}{}
	waitFor(t, "the woken run", func() bool { return n.Load() == 2 })
	stop()

	var r atomic.Int32
	stop = start(t, Job{Name: "retry", Interval: time.Hour, RetryInterval: time.Millisecond, Log: slog.New(slog.DiscardHandler),
		Func: func(context.Context) error {
			if r.Add(1) < 3 {
				return errors.New("again")
			}
			return nil
		}})
	waitFor(t, "the retries", func() bool { return r.Load() == 3 })
	stop()

	var x atomic.Int32
	stop = start(t, Job{Name: "next", Interval: time.Hour, Jitter: time.Millisecond,
		Next: func(context.Context) time.Duration { return time.Millisecond },
		Func: func(context.Context) error { x.Add(1); return nil }})
	waitFor(t, "the sooner runs", func() bool { return x.Load() >= 3 })
	stop()
}
