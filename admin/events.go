package admin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/lib/pq"

	"citybot/routing"
	"citybot/staff"
)

// caseEventsChannel is the PostgreSQL NOTIFY channel of case changes; the
// payload is a routing.CaseNotification.
const caseEventsChannel = routing.NotifyChannel

// caseEvent is one change of a case as sent to browsers.
type caseEvent struct {
	CaseID         int64  `json:"case_id"`
	Department     string `json:"department"`
	FromDepartment string `json:"from,omitempty"`
	Kind           string `json:"kind"`
}

// userChangedChannel is the NOTIFY channel (migration 00045) that names a
// user whose sessions, role, active flag or departments changed.
const userChangedChannel = "user_changed"

// sessionRecheck is how often an open stream re-checks its session even
// without a notification (an expired session, a lost notification).
const sessionRecheck = 30 * time.Second

// subscriber is one open event stream.
type subscriber struct {
	userID  int64
	all     bool     // admins see every department
	deps    []string // departments of the user
	ch      chan caseEvent
	resync  chan struct{}
	recheck chan struct{} // the user changed: re-check the session
}

func (sub *subscriber) wants(e caseEvent) bool {
	return sub.all || slices.Contains(sub.deps, e.Department) ||
		(e.FromDepartment != "" && slices.Contains(sub.deps, e.FromDepartment))
}

// hub fans the database's notifications out to the open streams of this
// process. Every instance has its own hub and its own LISTEN connection, so
// a change made through any instance reaches the browsers of all.
type hub struct {
	log  *slog.Logger
	mu   sync.Mutex
	subs map[*subscriber]struct{}
}

func newHub(log *slog.Logger) *hub {
	return &hub{log: log, subs: map[*subscriber]struct{}{}}
}

func (h *hub) subscribe(userID int64, all bool, deps []string) (*subscriber, func()) {
	sub := &subscriber{userID: userID, all: all, deps: slices.Clone(deps), ch: make(chan caseEvent, 64),
		resync: make(chan struct{}, 1), recheck: make(chan struct{}, 1)}
	h.mu.Lock()
	h.subs[sub] = struct{}{}
	h.mu.Unlock()
	return sub, func() {
		h.mu.Lock()
		delete(h.subs, sub)
		h.mu.Unlock()
	}
}

// publish hands e to every interested subscriber without blocking; a
// subscriber that cannot keep up is told to resynchronise instead.
func (h *hub) publish(e caseEvent) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for sub := range h.subs {
		if !sub.wants(e) {
			continue
		}
		select {
		case sub.ch <- e:
		default:
			h.signalResync(sub)
		}
	}
}

// update sets what a stream may see (after its user changed).
func (h *hub) update(sub *subscriber, all bool, deps []string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	sub.all, sub.deps = all, slices.Clone(deps)
}

// userChanged tells the streams of the user (every stream when userID is
// 0: notifications may have been lost) to re-check their session.
func (h *hub) userChanged(userID int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for sub := range h.subs {
		if userID == 0 || sub.userID == userID {
			select {
			case sub.recheck <- struct{}{}:
			default:
			}
		}
	}
}

// resyncAll tells every stream that events may have been missed (after the
// LISTEN connection was re-established).
func (h *hub) resyncAll() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for sub := range h.subs {
		h.signalResync(sub)
	}
}

func (h *hub) signalResync(sub *subscriber) {
	select {
	case sub.resync <- struct{}{}:
	default:
	}
}

// listen holds a LISTEN connection (pq.Listener, reconnecting by itself)
// until ctx ends.
func (h *hub) listen(ctx context.Context, dsn string) error {
	l := pq.NewListener(dsn, 500*time.Millisecond, 30*time.Second, func(ev pq.ListenerEventType, err error) {
		switch ev {
		case pq.ListenerEventConnectionAttemptFailed, pq.ListenerEventDisconnected:
			h.log.Warn("live updates: listen connection lost", "err", err)
		case pq.ListenerEventReconnected:
			h.log.Info("live updates: listen connection re-established")
		}
	})
	defer l.Close()
	for _, ch := range []string{caseEventsChannel, userChangedChannel} {
		if err := l.Listen(ch); err != nil {
			return fmt.Errorf("listen %s: %w", ch, err)
		}
	}
	ping := time.NewTicker(90 * time.Second)
	defer ping.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case n := <-l.Notify:
			if n == nil { // reconnected: notifications may have been lost
				h.resyncAll()
				h.userChanged(0)
				continue
			}
			if n.Channel == userChangedChannel {
				if id, err := strconv.ParseInt(n.Extra, 10, 64); err == nil {
					h.userChanged(id)
				}
				continue
			}
			var e caseEvent
			if err := json.Unmarshal([]byte(n.Extra), &e); err != nil {
				h.log.Warn("live updates: bad notification payload", "err", err)
				continue
			}
			h.publish(e)
		case <-ping.C:
			go func() { _ = l.Ping() }()
		}
	}
}

// events streams the viewer's case events as server-sent events. The page's
// script refreshes the affected region when one arrives. The stream lives
// only as long as its session: when the user logs out, is deactivated or
// loses a department (a notification on userChangedChannel), and every
// sessionRecheck, the session is loaded again; a session that ended ends
// the stream, changed departments change what it delivers from then on.
func (s *Server) events(c *gin.Context) {
	sess := currentSession(c)
	u := sess.User
	sub, cancel := s.hub.subscribe(u.ID, u.IsAdmin(), u.Departments)
	defer cancel()

	w := c.Writer
	// The stream outlives a server-wide WriteTimeout: lift it for this response.
	_ = http.NewResponseController(w).SetWriteDeadline(time.Time{})
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, "retry: 3000\n: connected\n\n")
	w.Flush()

	heartbeat := time.NewTicker(25 * time.Second)
	defer heartbeat.Stop()
	recheck := time.NewTicker(sessionRecheck)
	defer recheck.Stop()
	ctx := c.Request.Context()
	check := func() bool {
		cur, err := s.sessionByHash(ctx, sess.hash)
		if err != nil {
			if ctx.Err() == nil && !errors.Is(err, staff.ErrNotFound) {
				s.log.Warn("live updates: session check failed", "err", err)
			}
			return false // a session we cannot confirm gets no more events
		}
		s.hub.update(sub, cur.User.IsAdmin(), cur.User.Departments)
		return true
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-sub.recheck:
			if !check() {
				fmt.Fprint(w, "event: logout\ndata: {}\n\n")
				w.Flush()
				return
			}
			continue
		case <-recheck.C:
			if !check() {
				fmt.Fprint(w, "event: logout\ndata: {}\n\n")
				w.Flush()
				return
			}
			continue
		case e := <-sub.ch:
			b, _ := json.Marshal(e)
			fmt.Fprintf(w, "event: case\ndata: %s\n\n", b)
		case <-sub.resync:
			fmt.Fprint(w, "event: resync\ndata: {}\n\n")
		case <-heartbeat.C:
			fmt.Fprint(w, ": ping\n\n")
		}
		w.Flush()
	}
}
