// Package jobs runs periodic background work: a function every interval
// until the context ends, with the failures and panics of one run logged
// (with the job's name) instead of ending the loop. It imports nothing of
// the project.
package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"runtime/debug"
	"time"
)

// Job is one periodic function. Run it with Loop (or Every for the common
// case).
type Job struct {
	// Name names the job in the log.
	Name string
	// Interval is the wait between the end of one run and the start of the
	// next (> 0).
	Interval time.Duration
	// Func is the work of one run. Its error is logged (unless ctx ended)
	// and the loop goes on; so it does after a panic in Func.
	Func func(ctx context.Context) error
	// Delay: the first run is after one Interval, not at once.
	Delay bool
	// Jitter > 0 adds a random part of up to Jitter to each wait, so that
	// the instances of a cluster spread their runs.
	Jitter time.Duration
	// Wake, when set, starts the next run at once when it receives (a
	// NOTIFY, new work queued).
	Wake <-chan struct{}
	// RetryInterval > 0 is the wait after a run that failed instead of
	// Interval.
	RetryInterval time.Duration
	// Next, when set, is asked after each run for a sooner start: a result
	// in (0, Interval) is the wait instead (the next due item of a queue).
	Next func(ctx context.Context) time.Duration
	// Log receives the failures (nil: slog.Default()).
	Log *slog.Logger
}

// Every runs fn at once and then every interval until ctx ends; failures
// and panics of fn are logged with the job's name. It returns when ctx
// ends.
func Every(ctx context.Context, name string, interval time.Duration, log *slog.Logger, fn func(context.Context) error) {
	Job{Name: name, Interval: interval, Func: fn, Log: log}.Loop(ctx)
}

// Loop runs the job until ctx ends.
func (j Job) Loop(ctx context.Context) {
	if j.Interval <= 0 {
		panic(fmt.Sprintf("jobs: %s: interval %v", j.Name, j.Interval))
	}
	log := j.Log
	if log == nil {
		log = slog.Default()
	}
	if j.Delay && !j.sleep(ctx, j.wait(j.Interval)) {
		return
	}
	for {
		err := j.run(ctx)
		if ctx.Err() != nil {
			return
		}
		d := j.Interval
		if err != nil {
			log.Error("job failed", "job", j.Name, "err", err)
			if j.RetryInterval > 0 {
				d = j.RetryInterval
			}
		}
		if j.Next != nil {
			if n := j.Next(ctx); n > 0 && n < d {
				d = n
			}
		}
		if !j.sleep(ctx, j.wait(d)) {
			return
		}
	}
}

// run runs Func once, turning a panic into an error.
func (j Job) run(ctx context.Context) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v\n%s", r, debug.Stack())
		}
	}()
	return j.Func(ctx)
}

// wait is d with the job's jitter.
func (j Job) wait(d time.Duration) time.Duration {
	if j.Jitter > 0 {
		d += rand.N(j.Jitter)
	}
	return d
}

// sleep waits d, or for a wake-up; it reports false when ctx ended.
func (j Job) sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-j.Wake:
		return true
	case <-t.C:
		return true
	}
}
