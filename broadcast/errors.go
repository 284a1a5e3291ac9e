package broadcast

import (
	"errors"
	"fmt"
	"time"

	"citybot/internal/apperr"
)

// Sentinel errors of the package.
var (
	ErrNotFound = apperr.New(apperr.NotFound, "broadcast: not found")
	ErrInvalid  = apperr.New(apperr.Invalid, "broadcast: invalid input")
	// ErrState: the post (or feed item) is not in a state that allows the
	// change, e.g. editing a post that is already sending.
	ErrState = apperr.New(apperr.State, "broadcast: not allowed in this state")
)

// Errors a Sender returns (wrapped), so that the sender loop can classify
// them without knowing the channel's library.
var (
	// ErrBlocked: the chat refuses the bot for good (Telegram 403: blocked
	// by the user, user deactivated). The citizen is unsubscribed.
	ErrBlocked = errors.New("broadcast: chat blocked the bot")
	// ErrRejected: the channel rejected this message for good (Telegram
	// 400); retrying does not help.
	ErrRejected = errors.New("broadcast: message rejected")
)

// RateLimitError is returned by a Sender when the channel asks to slow down
// (Telegram 429 with retry_after). The whole sender pauses for RetryAfter.
type RateLimitError struct {
	RetryAfter time.Duration
	Err        error
}

func (e *RateLimitError) Error() string {
	return fmt.Sprintf("rate limited, retry after %v: %v", e.RetryAfter, e.Err)
}

func (e *RateLimitError) Unwrap() error { return e.Err }

// RetryAfter reports whether err is a rate limit and how long to wait.
func RetryAfter(err error) (time.Duration, bool) {
	var rl *RateLimitError
	if errors.As(err, &rl) {
		return rl.RetryAfter, true
	}
	return 0, false
}

// IsBlocked reports whether err means the chat refuses the bot for good.
func IsBlocked(err error) bool { return errors.Is(err, ErrBlocked) }

// IsTransient reports whether a send that failed with err should be retried
// with backoff (5xx, timeouts, network errors, anything unclassified). Rate
// limits, blocked chats and rejected messages are not transient.
func IsTransient(err error) bool {
	if err == nil {
		return false
	}
	if _, ok := RetryAfter(err); ok {
		return false
	}
	return !errors.Is(err, ErrBlocked) && !errors.Is(err, ErrRejected)
}
