// Package pglisten runs a function whenever PostgreSQL notifies one of a
// set of channels (LISTEN/NOTIFY): the way every instance learns that
// shared data it caches (the FAQ index, the routing classifier) changed.
package pglisten

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/lib/pq"
)

// Listener is a subscription on its own connection. Create it before the
// first load of what it guards, so that no change in between is missed.
type Listener struct {
	l      *pq.Listener
	name   string
	logger *slog.Logger
}

// New subscribes to channels on a connection of its own to url.
func New(url string, logger *slog.Logger, channels ...string) (*Listener, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	name := fmt.Sprint(channels)
	pl := pq.NewListener(url, time.Second, 30*time.Second, func(ev pq.ListenerEventType, err error) {
		if err != nil {
			logger.Warn("listener", "channels", name, "err", err)
		}
	})
	for _, ch := range channels {
		if err := pl.Listen(ch); err != nil {
			pl.Close()
			return nil, fmt.Errorf("listen %s: %w", ch, err)
		}
	}
	return &Listener{l: pl, name: name, logger: logger}, nil
}

// Debounce is how long Run waits after a notification for more before it
// calls its function once for all of them.
const Debounce = 200 * time.Millisecond

// Run calls fn after every burst of notifications (and after a reconnect,
// when one may have been missed) until ctx is done, then closes the
// subscription. An error of fn is logged; the next notification retries.
func (l *Listener) Run(ctx context.Context, fn func(context.Context) error) error {
	defer l.l.Close()
	var timer <-chan time.Time
	ping := time.NewTicker(90 * time.Second)
	defer ping.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-l.l.Notify:
			// A nil notification follows a reconnect.
			if timer == nil {
				timer = time.After(Debounce)
			}
		case <-timer:
			timer = nil
			if err := fn(ctx); err != nil && ctx.Err() == nil {
				l.logger.Error("reload after notification", "channels", l.name, "err", err)
			}
		case <-ping.C:
			go func() { _ = l.l.Ping() }()
		}
	}
}

// Close ends the subscription (Run closes it too).
func (l *Listener) Close() error { return l.l.Close() }
