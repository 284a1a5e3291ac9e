package tgtext

import "time"

// RetryDelay is the wait before the next attempt after attempts failed ones:
// 1 s, 2 s, 4 s, ... capped at 10 minutes.
func RetryDelay(attempts int) time.Duration {
	if attempts < 1 {
		attempts = 1
	}
	if attempts > 10 {
		return 10 * time.Minute
	}
	d := time.Second << (attempts - 1)
	return min(d, 10*time.Minute)
}
