package webchat

import (
	"sync"
	"time"
)

// limiter counts events per key in fixed windows (per instance: several
// instances behind a load balancer each allow the rate).
type limiter struct {
	n      int
	window time.Duration
	mu     sync.Mutex
	counts map[string]*slot
	swept  time.Time
}

type slot struct {
	start time.Time
	n     int
}

func newLimiter(n int, window time.Duration) *limiter {
	return &limiter{n: n, window: window, counts: map[string]*slot{}}
}

// allow counts an event of key and reports whether it is within the rate.
func (l *limiter) allow(key string) bool {
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.swept) > l.window {
		for k, s := range l.counts {
			if now.Sub(s.start) >= l.window {
				delete(l.counts, k)
			}
		}
		l.swept = now
	}
	s := l.counts[key]
	if s == nil || now.Sub(s.start) >= l.window {
		s = &slot{start: now}
		l.counts[key] = s
	}
	if s.n >= l.n {
		return false
	}
	s.n++
	return true
}
