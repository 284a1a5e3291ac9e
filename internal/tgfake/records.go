package tgfake

import (
	"context"
	"fmt"
	"maps"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/go-telegram/bot/models"
)

// Call is one recorded API call (also failed ones).
type Call struct {
	Method      string            // canonical name, e.g. "sendMessage"
	Params      map[string]string // all parameters as strings (JSON text for structured ones)
	Files       []UploadedFile    // uploaded files, with name and bytes
	Time        time.Time         // when the call completed
	OK          bool
	ErrorCode   int    // 0 if OK
	Description string // error description if not OK
}

// ReplyMarkup is a parsed reply_markup parameter.
type ReplyMarkup struct {
	InlineKeyboard [][]models.InlineKeyboardButton `json:"inline_keyboard,omitempty"`
	Keyboard       [][]models.KeyboardButton       `json:"keyboard,omitempty"`
	RemoveKeyboard bool                            `json:"remove_keyboard,omitempty"`
	ForceReply     bool                            `json:"force_reply,omitempty"`
	Raw            string                          `json:"-"` // the JSON text as received
}

// CallbackData returns the callback_data of all inline buttons, row by row.
func (m *ReplyMarkup) CallbackData() []string {
	if m == nil {
		return nil
	}
	var out []string
	for _, row := range m.InlineKeyboard {
		for _, b := range row {
			if b.CallbackData != "" {
				out = append(out, b.CallbackData)
			}
		}
	}
	return out
}

// SentMessage is a message the bot sent successfully (sendMessage, sendPhoto,
// sendDocument).
type SentMessage struct {
	Method      string
	ChatID      int64  // numeric chat id (a stable negative id for "@channel" refs)
	ChatRef     string // chat_id exactly as sent
	MessageID   int
	Text        string // text or caption as sent (with markup)
	PlainText   string // text after parse_mode processing (HTML tags removed)
	ParseMode   string
	ReplyMarkup *ReplyMarkup // nil if none was sent
	Params      map[string]string
	Files       []UploadedFile
	Time        time.Time
	Edits       int  // number of successful edits (only in Server.Message)
	Deleted     bool // deleted with deleteMessage (only in Server.Message)
}

// finish records a completed call. It is called before the response is written, so
// a client that got its answer always finds its call recorded.
func (s *Server) finish(method string, req *request, f Failure, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.callCounts[method]++
	if s.record {
		c := Call{Method: method, Time: time.Now(), OK: ok}
		if req != nil {
			c.Params = req.params
			c.Files = req.files
		}
		if !ok {
			c.ErrorCode = f.Code
			c.Description = f.Description
		}
		s.calls = append(s.calls, c)
	}
	s.notifyLocked()
}

// recordSentLocked stores a successfully sent message. Callers hold s.mu.
func (s *Server) recordSentLocked(m SentMessage) {
	s.sentCount++
	if s.record {
		s.sent = append(s.sent, m)
	}
}

// Calls returns the recorded calls of method (case-insensitive; "" or "*" for all).
func (s *Server) Calls(method string) []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.callsLocked(method)
}

func (s *Server) callsLocked(method string) []Call {
	var out []Call
	for _, c := range s.calls {
		if method == "" || method == "*" || strings.EqualFold(c.Method, method) {
			out = append(out, c)
		}
	}
	return out
}

// CallCount returns how many calls of method (case-insensitive; "" or "*" for all)
// completed, also in counter-only mode.
func (s *Server) CallCount(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.callCountLocked(method)
}

func (s *Server) callCountLocked(method string) int {
	n := 0
	for m, c := range s.callCounts {
		if method == "" || method == "*" || strings.EqualFold(m, method) {
			n += c
		}
	}
	return n
}

// Sent returns all recorded sent messages in order.
func (s *Server) Sent() []SentMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]SentMessage(nil), s.sent...)
}

// SentTo returns the recorded messages sent to chatID.
func (s *Server) SentTo(chatID int64) []SentMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []SentMessage
	for _, m := range s.sent {
		if m.ChatID == chatID {
			out = append(out, m)
		}
	}
	return out
}

// SentCount returns the number of successfully sent messages, also in
// counter-only mode.
func (s *Server) SentCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sentCount
}

// CallCounts returns a copy of the per-method call counters.
func (s *Server) CallCounts() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.callCounts)
}

// ResetRecords forgets recorded calls, sent messages and counters (message state,
// updates and faults are kept).
func (s *Server) ResetRecords() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = nil
	s.sent = nil
	s.sentCount = 0
	clear(s.callCounts)
	s.notifyLocked()
}

// AwaitSent waits until at least n messages were sent (counted also in
// counter-only mode) or ctx ends. It returns the recorded messages.
func (s *Server) AwaitSent(ctx context.Context, n int) ([]SentMessage, error) {
	err := s.await(ctx, func() bool { return s.sentCount >= n })
	s.mu.Lock()
	defer s.mu.Unlock()
	out := append([]SentMessage(nil), s.sent...)
	if err != nil {
		return out, fmt.Errorf("tgfake: %d of %d messages sent: %w", s.sentCount, n, err)
	}
	return out, nil
}

// AwaitCalls waits until at least n calls of method (case-insensitive) completed or
// ctx ends. It returns the recorded calls of method.
func (s *Server) AwaitCalls(ctx context.Context, method string, n int) ([]Call, error) {
	err := s.await(ctx, func() bool { return s.callCountLocked(method) >= n })
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.callsLocked(method)
	if err != nil {
		return out, fmt.Errorf("tgfake: %d of %d %s calls: %w", s.callCountLocked(method), n, method, err)
	}
	return out, nil
}

// WaitSent waits until at least n messages were sent and returns the recorded
// messages. On timeout it fails t with a dump of the recorded traffic.
func (s *Server) WaitSent(t testing.TB, n int, timeout time.Duration) []SentMessage {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	out, err := s.AwaitSent(ctx, n)
	if err != nil {
		t.Fatalf("%v after %v\n%s", err, timeout, s.Dump())
	}
	return out
}

// WaitSentTo waits until chat got at least n messages and returns them. On
// timeout it fails t with the chat's texts and a dump of the recorded
// traffic.
func (s *Server) WaitSentTo(t testing.TB, chatID int64, n int, timeout time.Duration) []SentMessage {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	err := s.await(ctx, func() bool {
		k := 0
		for _, m := range s.sent {
			if m.ChatID == chatID {
				k++
			}
		}
		return k >= n
	})
	got := s.SentTo(chatID)
	if err != nil {
		texts := make([]string, len(got))
		for i, m := range got {
			texts[i] = m.PlainText
		}
		t.Fatalf("chat %d: got %d messages, want %d: %q\n%s", chatID, len(got), n, texts, s.Dump())
	}
	return got
}

// WaitCalls waits until at least n calls of method completed and returns them. On
// timeout it fails t with a dump of the recorded traffic.
func (s *Server) WaitCalls(t testing.TB, method string, n int, timeout time.Duration) []Call {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	out, err := s.AwaitCalls(ctx, method, n)
	if err != nil {
		t.Fatalf("%v after %v\n%s", err, timeout, s.Dump())
	}
	return out
}

// await blocks until cond (evaluated with s.mu held) is true or ctx ends.
func (s *Server) await(ctx context.Context, cond func() bool) error {
	for {
		s.mu.Lock()
		if cond() {
			s.mu.Unlock()
			return nil
		}
		ch := s.waitChanLocked()
		s.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		case <-s.closed:
			s.mu.Lock()
			ok := cond()
			s.mu.Unlock()
			if ok {
				return nil
			}
			return fmt.Errorf("server closed")
		}
	}
}

// Dump renders the recorded calls and messages (the last 50 of each) and the
// state of the update queue, for test failure messages. The token is never
// included.
func (s *Server) Dump() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var b strings.Builder
	counts := make([]string, 0, len(s.callCounts))
	for m, c := range s.callCounts {
		counts = append(counts, fmt.Sprintf("%s=%d", m, c))
	}
	sort.Strings(counts)
	fmt.Fprintf(&b, "tgfake: calls %v; sent %d; pending updates %d; polling %v; webhook %q\n",
		counts, s.sentCount, len(s.queue), s.polling, s.webhook.url)
	calls := s.calls
	if len(calls) > 50 {
		fmt.Fprintf(&b, "  ... %d earlier calls\n", len(calls)-50)
		calls = calls[len(calls)-50:]
	}
	for _, c := range calls {
		if c.Method == "getUpdates" && c.OK {
			continue
		}
		status := "ok"
		if !c.OK {
			status = fmt.Sprintf("%d %s", c.ErrorCode, c.Description)
		}
		keys := make([]string, 0, len(c.Params))
		for k := range c.Params {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var ps []string
		for _, k := range keys {
			v := c.Params[k]
			if len(v) > 120 {
				v = v[:120] + "..."
			}
			ps = append(ps, fmt.Sprintf("%s=%q", k, v))
		}
		fmt.Fprintf(&b, "  call %s %s [%s] -> %s\n", c.Time.Format("15:04:05.000"), c.Method, strings.Join(ps, " "), status)
	}
	sent := s.sent
	if len(sent) > 50 {
		sent = sent[len(sent)-50:]
	}
	for _, m := range sent {
		fmt.Fprintf(&b, "  sent #%d to %d (%s): %q\n", m.MessageID, m.ChatID, m.Method, m.Text)
	}
	return b.String()
}
