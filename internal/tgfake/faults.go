package tgfake

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Failure is an error answer injected with FailNext.
//
// Code is both the HTTP status and the envelope's error_code. If RawBody is set it
// is written verbatim instead of a JSON envelope (e.g. an HTML 502 page from a
// proxy), which the library cannot decode.
type Failure struct {
	Code            int
	Description     string
	RetryAfter      int   // parameters.retry_after (429)
	MigrateToChatID int64 // parameters.migrate_to_chat_id (400)
	RawBody         string
	ContentType     string // for RawBody; default text/html
}

// TooManyRequests is a 429 with parameters.retry_after, decoded by the library as
// *bot.TooManyRequestsError.
func TooManyRequests(retryAfter int) Failure {
	return Failure{
		Code:        http.StatusTooManyRequests,
		Description: "Too Many Requests: retry after " + strconv.Itoa(retryAfter),
		RetryAfter:  retryAfter,
	}
}

// Blocked is the 403 Telegram answers when the user blocked the bot
// (errors.Is(err, bot.ErrorForbidden)).
func Blocked() Failure {
	return Failure{Code: http.StatusForbidden, Description: "Forbidden: bot was blocked by the user"}
}

// Forbidden is a 403 with a custom description, e.g. "Forbidden: user is deactivated".
func Forbidden(description string) Failure {
	return Failure{Code: http.StatusForbidden, Description: description}
}

// BadRequest is a 400 with the given description ("Bad Request: " is prepended if
// missing).
func BadRequest(description string) Failure {
	if !strings.HasPrefix(description, "Bad Request") {
		description = "Bad Request: " + description
	}
	return Failure{Code: http.StatusBadRequest, Description: description}
}

// Migrated is a 400 with parameters.migrate_to_chat_id (*bot.MigrateError).
func Migrated(newChatID int64) Failure {
	return Failure{
		Code:            http.StatusBadRequest,
		Description:     "Bad Request: group chat was upgraded to a supergroup chat",
		MigrateToChatID: newChatID,
	}
}

// ServerError is a JSON 500 envelope.
func ServerError() Failure {
	return Failure{Code: http.StatusInternalServerError, Description: "Internal Server Error"}
}

// BadGatewayHTML is a 502 with an HTML body, as sent by a proxy in front of the Bot
// API; the library reports it as a decode error.
func BadGatewayHTML() Failure {
	return Failure{
		Code:    http.StatusBadGateway,
		RawBody: "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n",
	}
}

// FailNext makes the next n calls of method (case-insensitive; "*" for any method)
// fail with f. Repeated calls queue up in order. Failures for the specific method
// are used before "*" failures.
func (s *Server) FailNext(method string, n int, f Failure) {
	key := strings.ToLower(method)
	if key == "" {
		key = "*"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.failures[key] = append(s.failures[key], f)
	}
}

// ClearFailures drops all queued FailNext failures.
func (s *Server) ClearFailures() {
	s.mu.Lock()
	clear(s.failures)
	s.mu.Unlock()
}

// BlockChat makes every send/edit/chat action to chatID fail with Blocked().
func (s *Server) BlockChat(chatID int64) {
	s.mu.Lock()
	s.blocked[chatID] = true
	s.mu.Unlock()
}

// UnblockChat undoes BlockChat.
func (s *Server) UnblockChat(chatID int64) {
	s.mu.Lock()
	delete(s.blocked, chatID)
	s.mu.Unlock()
}

// SetRateLimit enables a global token-bucket limit for sending methods (send*
// except sendChatAction, edit*): at most perSecond calls per second with a burst of
// max(1, perSecond); excess calls get TooManyRequests(retryAfter). perSecond <= 0
// disables it.
func (s *Server) SetRateLimit(perSecond float64, retryAfter int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if perSecond <= 0 {
		s.limiter = nil
		return
	}
	burst := max(1, perSecond)
	s.limiter = &rateLimiter{rate: perSecond, burst: burst, tokens: burst, last: time.Now(), retryAfter: retryAfter}
}

// SetRandom429 makes the given fraction (0..1) of sending calls fail with
// TooManyRequests(retryAfter), chosen by a generator seeded with WithSeed, so
// benchmark runs are repeatable for the same call order. 0 disables it.
func (s *Server) SetRandom429(fraction float64, retryAfter int) {
	s.mu.Lock()
	s.rand429 = fraction
	s.rand429Ret = retryAfter
	s.mu.Unlock()
}

// SetLatency delays every request by d before it is handled (0 disables).
func (s *Server) SetLatency(d time.Duration) {
	s.mu.Lock()
	s.latency = d
	s.mu.Unlock()
}

type rateLimiter struct {
	rate, burst, tokens float64
	last                time.Time
	retryAfter          int
}

func (l *rateLimiter) allow(now time.Time) bool {
	l.tokens = min(l.burst, l.tokens+now.Sub(l.last).Seconds()*l.rate)
	l.last = now
	if l.tokens >= 1 {
		l.tokens--
		return true
	}
	return false
}

// isSendMethod reports whether a (lower-case) method produces or changes a message
// and is therefore subject to rate limits and chat blocking.
func isSendMethod(lower string) bool {
	return (strings.HasPrefix(lower, "send") && lower != "sendchataction") || strings.HasPrefix(lower, "edit")
}

// injectedFailure applies FailNext, random 429, the rate limiter and blocked
// chats, in that order.
func (s *Server) injectedFailure(lower string, req *request) (Failure, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, key := range [...]string{lower, "*"} {
		if q := s.failures[key]; len(q) > 0 {
			f := q[0]
			if len(q) == 1 {
				delete(s.failures, key)
			} else {
				s.failures[key] = q[1:]
			}
			return f, true
		}
	}
	if !isSendMethod(lower) && lower != "sendchataction" {
		return Failure{}, false
	}
	if isSendMethod(lower) {
		if s.rand429 > 0 && s.rng.Float64() < s.rand429 {
			return TooManyRequests(s.rand429Ret), true
		}
		if s.limiter != nil && !s.limiter.allow(time.Now()) {
			return TooManyRequests(s.limiter.retryAfter), true
		}
	}
	if len(s.blocked) > 0 {
		if id, err := strconv.ParseInt(req.get("chat_id"), 10, 64); err == nil && s.blocked[id] {
			return Blocked(), true
		}
	}
	return Failure{}, false
}

// sleepLatency waits for the configured latency; false if the request or the
// server ended meanwhile.
func (s *Server) sleepLatency(r *http.Request) bool {
	s.mu.Lock()
	d := s.latency
	s.mu.Unlock()
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	case <-s.closed:
		return true
	}
}

func (f Failure) String() string {
	if f.RawBody != "" {
		return fmt.Sprintf("%d (raw body)", f.Code)
	}
	return fmt.Sprintf("%d %s", f.Code, f.Description)
}
