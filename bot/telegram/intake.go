package telegram

import (
	"bytes"
	"context"
	"crypto/subtle"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	tgbot "github.com/go-telegram/bot"

	"citybot/bot/telegram/tgupdate"
	"citybot/internal/db"
	"citybot/internal/tgtext"
)

// Polling: exactly one instance polls. It holds a PostgreSQL session advisory
// lock on a dedicated connection; when that instance dies, its session ends,
// the lock is released and another instance takes over.

// pollerLockKey is the advisory lock key of the poller of a bot (by the bot's
// id, the public part of the token).
func pollerLockKey(token string) int64 {
	id, _, _ := strings.Cut(token, ":")
	h := fnv.New64a()
	h.Write([]byte("citybot/telegram/poller/" + id))
	return int64(h.Sum64())
}

// runPoller tries to become the poller and polls while it is; it returns when
// ctx is done.
func (s *Service) runPoller(ctx context.Context) error {
	key := pollerLockKey(s.cfg.Token)
	for attempt := 1; ctx.Err() == nil; {
		conn, err := s.db.Conn(ctx)
		if err != nil {
			if ctx.Err() == nil {
				s.logger.Error("poller: database connection", "err", err)
			}
			sleep(ctx, tgtext.RetryDelay(attempt))
			attempt++
			continue
		}
		var got bool
		if err := conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock($1)`, key).Scan(&got); err != nil || !got {
			db.CloseConn(conn)
			if err != nil && ctx.Err() == nil {
				s.logger.Error("poller: advisory lock", "err", err)
			}
			sleep(ctx, s.cfg.LeaderRetry)
			continue
		}
		attempt = 1
		s.logger.Info("this instance polls Telegram")
		s.metrics.leader.Set(1)
		err = s.poll(ctx, conn)
		s.metrics.leader.Set(0)
		// Closing the session releases the lock; the connection is never
		// returned to the pool with the lock held.
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		_, _ = conn.ExecContext(uctx, `SELECT pg_advisory_unlock($1)`, key)
		cancel()
		db.CloseConn(conn)
		if ctx.Err() != nil {
			return nil
		}
		s.logger.Warn("stopped polling", "err", err)
		sleep(ctx, time.Second)
	}
	return nil
}

// poll is the long-poll loop of the leader: getUpdates, store, then ask for
// the next offset, which confirms the stored updates to Telegram.
func (s *Service) poll(ctx context.Context, lock *sql.Conn) error {
	if _, err := s.api.DeleteWebhook(ctx, &tgbot.DeleteWebhookParams{}); err != nil && ctx.Err() == nil {
		s.logger.Warn("delete webhook before polling", "err", redact(err, s.cfg.Token))
	}
	var offset int64
	failures := 0
	var polled time.Time
	busy := false // the last poll returned some updates, not a full batch
	for ctx.Err() == nil {
		// Still the leader? A broken session has lost the lock.
		if err := lock.PingContext(ctx); err != nil {
			return fmt.Errorf("lock connection: %w", err)
		}
		if lastPoll := time.Since(polled); busy && lastPoll < pollGap {
			sleep(ctx, pollGap-lastPoll)
		}
		polled = time.Now()
		ups, err := s.getUpdates(ctx, offset)
		busy = len(ups) > 0 && len(ups) < pollLimit
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			failures++
			var tooMany *tgbot.TooManyRequestsError
			wait := tgtext.RetryDelay(failures)
			if errors.As(err, &tooMany) {
				wait = time.Duration(max(tooMany.RetryAfter, 1)) * time.Second
			}
			s.logger.Warn("getUpdates failed", "err", err, "retry_in", wait.String())
			sleep(ctx, wait)
			continue
		}
		failures = 0
		if len(ups) == 0 {
			continue
		}
		// Store before confirming: retry until stored (or shutdown, after
		// which the next poller gets the same updates again).
		for attempt := 1; ; attempt++ {
			n, cs, err := s.updates.insert(ctx, ups, s.intakeLease())
			if err == nil {
				s.metrics.received.WithLabelValues("poll").Add(float64(n))
				s.metrics.duplicates.Add(float64(len(ups) - n))
				if s.trace != nil {
					for _, u := range ups {
						s.traceAt(stageStored, u.ChatID)
					}
				}
				s.accept(ctx, n, cs)
				break
			}
			if ctx.Err() != nil {
				return nil
			}
			s.logger.Error("store updates", "err", err, "attempt", attempt)
			sleep(ctx, tgtext.RetryDelay(attempt))
		}
		for _, u := range ups {
			offset = max(offset, u.ID+1)
		}
	}
	return nil
}

// pollLimit is the most updates one getUpdates returns (Telegram's maximum).
const pollLimit = 100

// pollGap: after a poll that returned some updates but not a full batch,
// the next one waits until this long after it. Under load, getUpdates would
// otherwise return at once with one or two updates, and each poll, store and
// hand-over costs about as much for one update as for ten; the gap trades a
// few milliseconds of latency for fewer, larger rounds. An idle bot's long
// poll and a backlog's full batches do not wait.
const pollGap = 20 * time.Millisecond

// apiResponse is the Bot API envelope.
type apiResponse struct {
	OK          bool              `json:"ok"`
	Result      []json.RawMessage `json:"result"`
	ErrorCode   int               `json:"error_code"`
	Description string            `json:"description"`
	Parameters  struct {
		RetryAfter int `json:"retry_after"`
	} `json:"parameters"`
}

// getUpdates is our own long poll (the library has none exported, and its
// Start confirms updates before they are handled).
func (s *Service) getUpdates(ctx context.Context, offset int64) ([]rawUpdate, error) {
	body, _ := json.Marshal(map[string]any{
		"offset":          offset,
		"timeout":         int(s.cfg.PollTimeout / time.Second),
		"limit":           pollLimit,
		"allowed_updates": allowedUpdates,
	})
	rctx, cancel := context.WithTimeout(ctx, s.cfg.PollTimeout+15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, s.cfg.APIURL+"/bot"+s.cfg.Token+"/getUpdates", bytes.NewReader(body))
	if err != nil {
		return nil, redact(fmt.Errorf("getUpdates request: %w", err), s.cfg.Token)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.http.Do(req)
	if err != nil {
		return nil, redact(fmt.Errorf("getUpdates: %w", err), s.cfg.Token)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("getUpdates: read: %w", err)
	}
	var r apiResponse
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("getUpdates: HTTP %d, undecodable response", resp.StatusCode)
	}
	if !r.OK {
		if r.ErrorCode == http.StatusTooManyRequests {
			return nil, &tgbot.TooManyRequestsError{Message: r.Description, RetryAfter: r.Parameters.RetryAfter}
		}
		return nil, fmt.Errorf("getUpdates: %d %s", r.ErrorCode, r.Description)
	}
	ups := make([]rawUpdate, 0, len(r.Result))
	for _, raw := range r.Result {
		u, err := tgupdate.Peek(raw)
		if err != nil {
			s.logger.Warn("ignoring update without id", "err", err)
			continue
		}
		ups = append(ups, u)
	}
	return ups, nil
}

// WebhookHandler returns the handler Telegram posts updates to (plain
// net/http, to be mounted at the path of Config.WebhookURL). It checks the
// secret token in constant time (401), limits and validates the body (413,
// 400), stores the update and only then answers 200; when the update could
// not be stored it answers 500, and Telegram delivers it again.
func (s *Service) WebhookHandler() http.Handler {
	return http.HandlerFunc(s.serveWebhook)
}

func (s *Service) serveWebhook(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	got := r.Header.Get("X-Telegram-Bot-Api-Secret-Token")
	if s.cfg.WebhookSecret == "" || subtle.ConstantTimeCompare([]byte(got), []byte(s.cfg.WebhookSecret)) != 1 {
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, tgupdate.MaxUpdateBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	u, err := tgupdate.Peek(data) // json.Unmarshal checks the whole body first
	if err != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	isNew, err := s.webhookStore.store(r.Context(), s, u)
	if err != nil {
		s.logger.Error("store webhook update", "update_id", u.ID, "err", err)
		http.Error(w, "temporarily unavailable", http.StatusInternalServerError)
		return
	}
	if isNew {
		s.metrics.received.WithLabelValues("webhook").Inc()
	} else {
		s.metrics.duplicates.Inc()
	}
	w.WriteHeader(http.StatusOK)
}

// storeBatcher stores the updates of concurrent webhook requests with one
// statement (group commit): Telegram keeps up to 40 requests open, and one
// insert of ten updates costs little more than one of one. The first
// request stores; those arriving meanwhile wait and are stored together in
// the next round, led by one of them. Each request answers Telegram only
// once its own update is stored.
type storeBatcher struct {
	mu      sync.Mutex
	leading bool
	waiting []*storeReq
	last    int // updates in the last round
}

// storeLinger: when the last round stored more than one update (requests
// arrive faster than a round takes), a new leader waits this long for more
// before it stores. Larger rounds mean fewer statements and larger
// transactions for the workers; an update of a quiet bot does not wait.
const storeLinger = 3 * time.Millisecond

type storeReq struct {
	u rawUpdate
	// res gets the result, or errLeadStore: the receiver leads the next round.
	res chan storeResult
}

type storeResult struct {
	isNew bool
	err   error
}

var errLeadStore = errors.New("telegram: lead the next store round")

// maxStoreBatch bounds one round of storeBatcher.
const maxStoreBatch = 100

// store stores u (in a round with the updates of concurrent requests) and
// hands what was new to the dispatcher; isNew is false for an update that
// was stored before.
func (b *storeBatcher) store(ctx context.Context, s *Service, u rawUpdate) (isNew bool, err error) {
	r := &storeReq{u: u, res: make(chan storeResult, 1)}
	b.mu.Lock()
	b.waiting = append(b.waiting, r)
	if b.leading {
		b.mu.Unlock()
		if res := <-r.res; !errors.Is(res.err, errLeadStore) {
			return res.isNew, res.err
		}
		b.mu.Lock() // leading stayed true for us
	} else {
		b.leading = true
		if b.last > 1 {
			b.mu.Unlock()
			time.Sleep(storeLinger)
			b.mu.Lock()
		}
	}
	round := b.waiting[:min(len(b.waiting), maxStoreBatch)]
	b.waiting = b.waiting[len(round):]
	b.last = len(round)
	b.mu.Unlock()

	ups := make([]rawUpdate, len(round))
	for i, q := range round {
		ups[i] = q.u
	}
	// Bounded by the leader's request, but not cancelled with it: the
	// others wait for this result.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	stored, cs, err := s.updates.insertIDs(rctx, ups, s.intakeLease())
	cancel()
	if err == nil {
		if s.trace != nil {
			for _, u := range ups {
				s.traceAt(stageStored, u.ChatID)
			}
		}
		s.accept(ctx, len(stored), cs)
	}
	var own storeResult
	for _, q := range round {
		// An update delivered twice in one round is new for the first only.
		res := storeResult{isNew: stored[q.u.ID], err: err}
		delete(stored, q.u.ID)
		if q == r {
			own = res
			continue
		}
		q.res <- res
	}

	b.mu.Lock()
	if len(b.waiting) > 0 {
		next := b.waiting[0]
		b.mu.Unlock()
		next.res <- storeResult{err: errLeadStore}
	} else {
		b.leading = false
		b.mu.Unlock()
	}
	return own.isNew, own.err
}
