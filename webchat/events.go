package webchat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"
)

// hub wakes the open streams of this instance when their conversation has
// new events. Events written here wake them directly; events of other
// instances arrive by NOTIFY, after which scan looks at the newest events
// once for all streams.
type hub struct {
	db   *sqlx.DB
	mu   sync.Mutex
	subs map[int64]map[chan struct{}]struct{}
	last int64 // the newest event id scan has seen
}

// scanLookback: scan also looks at this many ids below the newest it saw,
// for transactions that took their id earlier and committed later.
const scanLookback = 1000

func newHub(d *sqlx.DB) *hub {
	return &hub{db: d, subs: map[int64]map[chan struct{}]struct{}{}}
}

func (h *hub) init(ctx context.Context) error {
	var last int64
	if err := h.db.GetContext(ctx, &last, `SELECT coalesce(max(id), 0) FROM webchat_events`); err != nil {
		return fmt.Errorf("webchat: newest event: %w", err)
	}
	h.mu.Lock()
	h.last = last
	h.mu.Unlock()
	return nil
}

// subscribe returns a channel that receives a value when conv has news.
func (h *hub) subscribe(conv int64) (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	h.mu.Lock()
	m := h.subs[conv]
	if m == nil {
		m = map[chan struct{}]struct{}{}
		h.subs[conv] = m
	}
	m[ch] = struct{}{}
	h.mu.Unlock()
	return ch, func() {
		h.mu.Lock()
		delete(m, ch)
		if len(m) == 0 {
			delete(h.subs, conv)
		}
		h.mu.Unlock()
	}
}

func (h *hub) wake(conv int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch := range h.subs[conv] {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// scan wakes the streams of conversations with events newer than the last
// scan (less the lookback).
func (h *hub) scan(ctx context.Context) error {
	h.mu.Lock()
	from, idle := h.last-scanLookback, len(h.subs) == 0
	h.mu.Unlock()
	var rows []struct {
		Conv int64 `db:"conversation_id"`
		Max  int64 `db:"max"`
	}
	if err := h.db.SelectContext(ctx, &rows, `
		SELECT conversation_id, max(id) AS max FROM webchat_events WHERE id > $1 GROUP BY conversation_id`, from); err != nil {
		return fmt.Errorf("webchat: scan events: %w", err)
	}
	h.mu.Lock()
	for _, r := range rows {
		h.last = max(h.last, r.Max)
	}
	h.mu.Unlock()
	if idle {
		return nil
	}
	for _, r := range rows {
		h.wake(r.Conv)
	}
	return nil
}

// event is one row of the log as the widget gets it.
type event struct {
	ID      int64           `db:"id" json:"id"`
	Sender  string          `db:"sender" json:"from"`
	Payload json.RawMessage `db:"payload" json:"payload"`
	At      time.Time       `db:"created_at" json:"at"`
}

// eventsAfter returns up to limit events of conv after id.
func eventsAfter(ctx context.Context, q sqlx.QueryerContext, conv, after int64, limit int) ([]event, error) {
	var evs []event
	err := sqlx.SelectContext(ctx, q, &evs, `
		SELECT id, sender, payload, created_at FROM webchat_events
		WHERE conversation_id = $1 AND id > $2 ORDER BY id LIMIT $3`, conv, after, limit)
	if err != nil {
		return nil, fmt.Errorf("webchat: events: %w", err)
	}
	return evs, nil
}

// eventBatch is how many events one query of a stream reads.
const eventBatch = 100

// events streams the conversation's events as server-sent events, starting
// after Last-Event-ID (header, or the query parameter after), then live.
func (s *Service) events(w http.ResponseWriter, r *http.Request) {
	conv, err := s.lookup(r.Context(), bearer(r))
	if err != nil {
		if errors.Is(err, ErrUnauthorized) {
			writeProblem(w, probToken)
		} else {
			s.log.Error("webchat: lookup", "err", err)
			writeProblem(w, probUnavailable)
		}
		return
	}
	last := r.Header.Get("Last-Event-ID")
	if last == "" {
		last = r.URL.Query().Get("after")
	}
	after, _ := strconv.ParseInt(strings.TrimSpace(last), 10, 64)
	after = max(after, 0)

	news, cancel := s.hub.subscribe(conv.ID)
	defer cancel()
	rc := http.NewResponseController(w)
	// A stream outlives the server's ReadTimeout and WriteTimeout: lift
	// them (past the read deadline the server would cancel the request).
	// Each write gets its own deadline.
	_ = rc.SetReadDeadline(time.Time{})
	_ = rc.SetWriteDeadline(time.Time{})
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	ctx := r.Context()
	write := func(b []byte) bool {
		_ = rc.SetWriteDeadline(time.Now().Add(30 * time.Second))
		if _, err := w.Write(b); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	if !write([]byte("retry: 2000\n\n")) {
		return
	}
	keep := time.NewTicker(s.cfg.Keepalive)
	defer keep.Stop()
	var buf []byte
	caughtUp := false
	for {
		evs, err := eventsAfter(ctx, s.db, conv.ID, after, eventBatch)
		if err != nil {
			if ctx.Err() == nil {
				s.log.Warn("webchat: stream", "err", err)
			}
			return // the widget reconnects after its last id
		}
		if len(evs) > 0 {
			buf = buf[:0]
			for _, ev := range evs {
				data, _ := json.Marshal(ev)
				buf = fmt.Appendf(buf, "id: %d\ndata: %s\n\n", ev.ID, data)
				after = ev.ID
			}
			if !write(buf) {
				return
			}
			if len(evs) == eventBatch {
				continue
			}
		}
		if !caughtUp {
			// Everything up to now is sent: the widget shows what came
			// before without announcing it (the history after a reload).
			caughtUp = true
			if !write([]byte("event: caught-up\ndata: {}\n\n")) {
				return
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-news:
		case <-keep.C:
			// A comment keeps proxies from closing the stream; the query
			// after it catches a notification that was missed.
			if !write([]byte(": keepalive\n\n")) {
				return
			}
		}
	}
}
