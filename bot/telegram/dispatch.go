package telegram

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"slices"
	"sync"
	"time"

	tgbot "github.com/go-telegram/bot"
	"github.com/jmoiron/sqlx"

	"citybot/bot"
	"citybot/bot/telegram/tgupdate"
	"citybot/fieldstaff"
	"citybot/internal/db"
	"citybot/internal/tgtext"
	"citybot/routing"
)

// handleTimeout bounds the handling of one update (also during shutdown).
const handleTimeout = 30 * time.Second

// maxBatch is the most updates a worker handles in one transaction: one
// BEGIN, one statement marking them done and one COMMIT for all of them.
// The batch adapts to the queue: a worker takes its share of the updates
// this instance stored and no worker has claimed yet (at least 1, at most
// maxBatch), so a short queue is spread over all workers at once and only a
// long one is handled in bigger transactions.
const maxBatch = 8

// runDispatcher runs Workers goroutines that handle claimed updates until
// ctx is done; it returns when the updates in hand are handled.
//
// Claimed updates reach the workers through the ready queue: intake claims
// most new updates as it stores them (updateStore.insert) and queues them,
// so an update is usually handled without any claim query. Updates stored
// unclaimed (their chat had an open update, another instance stored them,
// a retry became due, or the queue was long) are claimed by a worker that
// finds the queue empty, sized by the backlog: a chunk of up to maxBatch for
// itself and one for each idle worker, queued for them (one claim query
// serves the idle workers), or a single update when the queue is short. SKIP
// LOCKED splits concurrent claims. A worker that handled something looks
// again at once (its commit may have made its chats' next updates
// claimable). Only a worker that found nothing waits: for a queued chunk or
// a new update (one wake-up each, up to the idle workers) or for the idle
// tick (work of other instances, retries that became due).
func (s *Service) runDispatcher(ctx context.Context) {
	idle := time.NewTicker(s.cfg.IdleInterval) // shared: one claim per tick
	defer idle.Stop()
	s.ready.start()
	var wg sync.WaitGroup
	for range s.cfg.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.dispatchWorker(ctx, idle.C)
		}()
	}
	wg.Wait()
	// Chunks nobody took: handle them (they are claimed; as on the way out
	// of a worker, claimed updates are always handled). Intake queues no
	// more after close.
	for _, cs := range s.ready.close() {
		s.handleBatch(context.WithoutCancel(ctx), cs)
	}
}

func (s *Service) dispatchWorker(ctx context.Context, idle <-chan time.Time) {
	look := true // claim even with no known backlog: at start and on the idle tick
	for ctx.Err() == nil {
		if cs, ok := s.ready.pop(); ok {
			s.handleBatch(context.WithoutCancel(ctx), cs)
			continue
		}
		if !look && s.backlog.Load() <= 0 {
			s.waitIdle(ctx, idle, &look)
			continue
		}
		look = false
		total, chunk := s.batchLimit()
		added := s.added.Load()
		batch, waiting, err := s.updates.claimWaiting(ctx, total, s.cfg.Lease)
		if err != nil {
			if ctx.Err() == nil {
				s.logger.Error("claim updates", "err", err)
				sleep(ctx, time.Second)
			}
			continue
		}
		// What intake stored unclaimed meanwhile may not be in waiting.
		s.backlog.Store(int64(waiting) + s.added.Load() - added)
		s.claims.updates.Add(1)
		if len(batch) > 0 {
			if s.trace != nil {
				for _, c := range batch {
					s.traceAt(stageClaimed, chatOf(c))
				}
			}
			// Keep the first chunk, queue the others for idle workers (one
			// chat has at most one update in a claim: the chunks are
			// independent). Claimed updates are always handled, also when
			// ctx ends meanwhile.
			own := batch[:min(chunk, len(batch))]
			if rest := batch[len(own):]; len(rest) > 0 && !s.queue(rest, chunk) {
				own = batch
			}
			s.handleBatch(context.WithoutCancel(ctx), own)
			continue
		}
		s.claims.updatesEmpty.Add(1)
		s.waitIdle(ctx, idle, &look)
	}
}

// waitIdle waits for a wake-up (a queued chunk or new backlog) or the idle
// tick, after which the worker claims whatever the backlog says (look).
func (s *Service) waitIdle(ctx context.Context, idle <-chan time.Time, look *bool) {
	s.idleWorkers.Add(1)
	defer s.idleWorkers.Add(-1)
	select {
	case <-ctx.Done():
	case <-s.wakeDispatch:
	case <-idle:
		*look = true
	}
}

// queue puts claimed updates in chunks of up to chunk on the ready queue
// and wakes as many idle workers. It reports false, queueing nothing, when
// the dispatcher has stopped: the caller must handle or release them.
func (s *Service) queue(cs []claimed, chunk int) bool {
	var chunks [][]claimed
	for i := 0; i < len(cs); i += chunk {
		chunks = append(chunks, cs[i:min(i+chunk, len(cs))])
	}
	if !s.ready.push(chunks) {
		return false
	}
	s.wakeIdle(len(chunks))
	return true
}

// readyQueue holds chunks of claimed updates for the workers. It takes
// them only while the dispatcher runs (between start and close).
type readyQueue struct {
	mu      sync.Mutex
	chunks  [][]claimed
	updates int
	started bool
	closed  bool
}

func (q *readyQueue) start() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.started = true
}

func (q *readyQueue) open() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.started && !q.closed
}

func (q *readyQueue) push(chunks [][]claimed) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if !q.started || q.closed {
		return false
	}
	for _, c := range chunks {
		q.chunks = append(q.chunks, c)
		q.updates += len(c)
	}
	return true
}

// pop takes the first chunk and, while they fit within maxBatch, the
// chunks after it: when the workers fall behind, a worker handles more
// updates per transaction, which is what lets them catch up. (Queued
// updates are of different chats: intake and the claim query claim at most
// one open update per chat.)
func (q *readyQueue) pop() ([]claimed, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.chunks) == 0 {
		return nil, false
	}
	c := q.chunks[0]
	n := 1
	for n < len(q.chunks) && len(c)+len(q.chunks[n]) <= maxBatch {
		if n == 1 {
			c = slices.Clone(c)
		}
		c = append(c, q.chunks[n]...)
		n++
	}
	clear(q.chunks[:n])
	q.chunks = q.chunks[n:]
	q.updates -= len(c)
	return c, true
}

// len is how many updates wait in the queue.
func (q *readyQueue) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.updates
}

// close refuses further pushes and returns what is left.
func (q *readyQueue) close() [][]claimed {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.closed = true
	left := q.chunks
	q.chunks, q.updates = nil, 0
	return left
}

// batchLimit is how many updates a worker claims and the chunk size: a
// worker's share of the backlog (1..maxBatch) for itself and for each idle
// worker (a chunk nobody is free to take would only wait, claimed).
func (s *Service) batchLimit() (total, chunk int) {
	n := s.backlog.Load()
	w := int64(s.cfg.Workers)
	c := min(max((n+w-1)/w, 1), maxBatch)
	takers := 1 + min(int64(s.idleWorkers.Load()), w-1)
	return int(min(max(n, 1), takers*c)), int(c)
}

// maxReady bounds the updates intake claims ahead of the workers: beyond
// it, new updates are stored unclaimed and wait in the table (claimed ones
// in memory would only hold a lease while they wait).
func (s *Service) maxReady() int { return 4 * maxBatch * s.cfg.Workers }

// maxIntakeLease bounds the lease of intake's claims. They wait in memory
// only briefly (maxReady), and the handling transaction locks the row
// first, so a short lease cannot let another worker take an update being
// handled; it bounds how long the updates a crashed instance had queued
// wait for another instance.
const maxIntakeLease = 15 * time.Second

// intakeLease is the lease for intake's claims: none (store unclaimed) when
// no dispatcher runs or its queue is long already.
func (s *Service) intakeLease() time.Duration {
	if !s.ready.open() || s.ready.len() >= s.maxReady() {
		return 0
	}
	return min(s.cfg.Lease, maxIntakeLease)
}

// accept takes what intake stored: n new updates of which cs were claimed
// on insert. The claimed ones are queued for the workers in chunks (a
// worker's share, up to maxBatch); the others are added to the backlog for
// the claim query, waking idle workers. Should the dispatcher have stopped,
// the claimed ones are given back.
func (s *Service) accept(ctx context.Context, n int, cs []claimed) {
	if s.trace != nil {
		for _, c := range cs {
			s.traceAt(stageClaimed, chatOf(c))
		}
	}
	if len(cs) > 0 {
		// Spread over the idle workers: bigger transactions only when few
		// are idle (under load, where they save the most).
		takers := max(int(s.idleWorkers.Load()), 1)
		chunk := min(max((len(cs)+takers-1)/takers, 1), maxBatch)
		if !s.queue(cs, chunk) {
			for _, c := range cs {
				if err := s.updates.release(context.WithoutCancel(ctx), c); err != nil {
					s.logger.Warn("give back update", "update_id", c.ID, "err", err)
				}
			}
		}
	}
	if pending := n - len(cs); pending > 0 {
		s.added.Add(int64(pending))
		s.backlog.Add(int64(pending))
		s.wakeIdle(pending)
	}
}

// wakeIdle wakes up to n idle workers. It wakes no more workers than wait
// (a token left in the channel costs a busy worker a needless look later),
// but always one: a worker between its empty claim and its wait is not
// counted yet.
func (s *Service) wakeIdle(n int) {
	for range max(1, min(n, int(s.idleWorkers.Load()))) {
		select {
		case s.wakeDispatch <- struct{}{}:
		default:
			return
		}
	}
}

// batchOutcome is what handling one update of a batch produced.
type batchOutcome struct {
	inc          tgupdate.Incoming
	outcome      string
	callbackText string
	sendNow      []routing.OutboxItem
	keyboard     *bot.Keyboard
	staff        fieldstaff.Reply
}

// handleBatch handles claimed updates of different chats in one
// transaction. Should anything go wrong (an error, a panic, a lost claim),
// the transaction is rolled back and each update is handled on its own,
// with the retry and failure rules of handle.
func (s *Service) handleBatch(ctx context.Context, cs []claimed) {
	if len(cs) == 1 {
		s.handle(ctx, cs[0])
		return
	}
	start := time.Now()
	outs, next, err := s.tryBatch(ctx, cs)
	if err != nil {
		s.logger.Debug("batch failed, handling its updates one by one", "updates", len(cs), "err", err)
		for _, c := range cs {
			s.handle(ctx, c)
		}
		return
	}
	took := time.Since(start).Seconds()
	// Staff replies go out before the chats' next updates are handed on:
	// they bypass the outbox, and this keeps them in the order of the
	// messages they answer (an album's photos, a button after a question).
	for _, o := range outs {
		s.sendStaffReply(ctx, o.inc.ChatID, o.staff)
	}
	s.handOn(ctx, next)
	wakeDeliver := false // rows queued but not handed to a sender here
	if s.trace != nil {
		for _, c := range cs {
			s.traceAt(stageCommitted, chatOf(c))
		}
	}
	for i, o := range outs {
		s.metrics.handled.WithLabelValues(o.outcome).Inc()
		s.metrics.latency.Observe(took)
		if o.inc.Skip != "" {
			s.logger.Debug("update skipped", "update_id", cs[i].ID, "reason", o.inc.Skip)
		}
		s.handOver(ctx, o.sendNow)
		if len(o.sendNow) == 0 && o.outcome != "skipped" && !o.staff.Handled {
			wakeDeliver = true
		}
	}
	if wakeDeliver {
		s.wake(s.wakeDeliver)
	}
	for _, o := range outs {
		s.answerCallback(ctx, o.inc.CallbackID, o.callbackText)
		s.editKeyboard(ctx, o.inc, o.keyboard)
	}
}

// handOn queues the chats' next updates that finishing a batch claimed
// (finishClaimNext) for the workers; should the dispatcher have stopped,
// they are given back.
func (s *Service) handOn(ctx context.Context, next []claimed) {
	if len(next) == 0 {
		return
	}
	if s.trace != nil {
		for _, c := range next {
			s.traceAt(stageClaimed, chatOf(c))
		}
	}
	// They were pending: no longer part of the backlog (an estimate, kept
	// from going below 0).
	for {
		b := s.backlog.Load()
		if s.backlog.CompareAndSwap(b, max(b-int64(len(next)), 0)) {
			break
		}
	}
	if s.queue(next, maxBatch) {
		return
	}
	for _, c := range next {
		if err := s.updates.release(context.WithoutCancel(ctx), c); err != nil {
			s.logger.Warn("give back update", "update_id", c.ID, "err", err)
		}
	}
}

func (s *Service) tryBatch(ctx context.Context, cs []claimed) (outs []batchOutcome, next []claimed, err error) {
	ctx, cancel := context.WithTimeout(ctx, handleTimeout)
	defer cancel()
	defer func() {
		if p := recover(); p != nil {
			outs, next, err = nil, nil, fmt.Errorf("panic: %v", p)
		}
	}()
	outs = make([]batchOutcome, len(cs))
	// The chats' next updates are claimed like intake's: not when the
	// workers are far behind (they wait in the table then).
	lease := s.intakeLease()
	err = db.InTx(ctx, s.db, func(tx *sqlx.Tx) error {
		// Fence first: this locks the rows, and fails if a claim expired.
		var err error
		if next, err = s.updates.finishClaimNext(ctx, tx, lease, cs...); err != nil {
			return err
		}
		// The engine handles the batch's messages together (set-wise
		// where it can), in the order of cs.
		var ins []bot.Inbound
		var at []int
		incs := make([]tgupdate.Incoming, len(cs))
		for i, c := range cs {
			incs[i] = tgupdate.Decode(c.Payload)
		}
		// Which chats are staff's, for the whole batch in one statement.
		var staff map[int64]bool
		if s.cfg.StaffChats != nil {
			if staff, err = s.staffChatsAmong(ctx, tx, incs); err != nil {
				return err
			}
		}
		for i := range cs {
			o := &outs[i]
			o.inc = incs[i]
			o.outcome = "skipped"
			if o.inc.Skip != "" {
				continue
			}
			// A linked staff member's chat is the field staff's, not a
			// citizen's: the engine never sees it.
			if handled, err := s.staffChat(ctx, tx, o.inc, staff, &o.staff); err != nil || handled {
				if err != nil {
					return err
				}
				o.outcome = "staff"
				continue
			}
			ins = append(ins, o.inc.In)
			at = append(at, i)
		}
		results, err := s.engine.HandleBatch(ctx, tx, ins)
		if err != nil {
			return err
		}
		for j, res := range results {
			o := &outs[at[j]]
			o.outcome, o.callbackText, o.sendNow, o.keyboard = res.Outcome, res.CallbackText, res.Claimed, res.Keyboard
		}
		// Erasures last: a chat's raw updates (its own handled ones
		// included) go after all of the batch's turns ran.
		for j, res := range results {
			if res.Erased {
				if err := eraseChat(ctx, tx, outs[at[j]].inc.ChatID, cs[at[j]].ID); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return outs, next, nil
}

// handle handles one claimed update: decode and validate it, let the engine
// answer it and mark it done, in one transaction. A panic is recovered, logged
// and the update marked failed; errors are retried with backoff.
func (s *Service) handle(ctx context.Context, c claimed) {
	ctx, cancel := context.WithTimeout(ctx, handleTimeout)
	defer cancel()
	start := time.Now()
	var inc tgupdate.Incoming
	defer func() {
		p := recover()
		if p == nil {
			return
		}
		s.metrics.panics.Inc()
		s.metrics.failed.Inc()
		s.logger.Error("panic while handling update", "update_id", c.ID, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
		if err := s.updates.fail(context.WithoutCancel(ctx), c, fmt.Errorf("panic: %v", p)); err != nil {
			s.logger.Error("mark update failed", "update_id", c.ID, "err", err)
		}
		s.answerCallback(ctx, inc.CallbackID, "")
	}()

	inc = tgupdate.Decode(c.Payload)
	outcome := "skipped"
	callbackText := ""
	var sendNow []routing.OutboxItem
	var kb *bot.Keyboard
	var next []claimed
	lease := s.intakeLease()
	var staffReply fieldstaff.Reply
	err := db.InTx(ctx, s.db, func(tx *sqlx.Tx) error {
		// Fence first: this locks the row, and fails if our claim expired.
		var err error
		if next, err = s.updates.finishClaimNext(ctx, tx, lease, c); err != nil {
			return err
		}
		if inc.Skip != "" {
			return nil
		}
		staffReply = fieldstaff.Reply{}
		if handled, err := s.staffChat(ctx, tx, inc, nil, &staffReply); err != nil || handled {
			outcome = "staff"
			return err
		}
		res, err := s.engine.Handle(ctx, tx, inc.In)
		if err != nil {
			return err
		}
		outcome, callbackText, sendNow, kb = res.Outcome, res.CallbackText, res.Claimed, res.Keyboard
		if res.Erased {
			return eraseChat(ctx, tx, inc.ChatID, c.ID)
		}
		return nil
	})
	switch {
	case err == nil:
		s.traceAt(stageCommitted, chatOf(c))
		s.sendStaffReply(ctx, inc.ChatID, staffReply) // before the chat's next update (see handleBatch)
		s.handOn(ctx, next)
		s.metrics.handled.WithLabelValues(outcome).Inc()
		s.metrics.latency.Observe(time.Since(start).Seconds())
		if inc.Skip != "" {
			s.logger.Debug("update skipped", "update_id", c.ID, "reason", inc.Skip)
		}
		s.answerCallback(ctx, inc.CallbackID, callbackText)
		s.editKeyboard(ctx, inc, kb)
		s.handOver(ctx, sendNow)
		if len(sendNow) == 0 && inc.Skip == "" && !staffReply.Handled {
			s.wake(s.wakeDeliver) // rows queued but not handed to a sender here
		}
	case errors.Is(err, errLost):
		s.logger.Warn("update claimed elsewhere after lease expiry", "update_id", c.ID)
	case c.Attempts >= s.cfg.MaxUpdateAttempts:
		s.metrics.failed.Inc()
		s.logger.Error("giving up on update", "update_id", c.ID, "attempts", c.Attempts, "err", err)
		if ferr := s.updates.fail(context.WithoutCancel(ctx), c, err); ferr != nil {
			s.logger.Error("mark update failed", "update_id", c.ID, "err", ferr)
		}
		s.answerCallback(ctx, inc.CallbackID, "")
		s.wake(s.wakeDispatch)
	default:
		s.logger.Warn("handling update failed, will retry", "update_id", c.ID, "attempts", c.Attempts, "err", err)
		if rerr := s.updates.retry(context.WithoutCancel(ctx), c, time.Now().Add(tgtext.RetryDelay(c.Attempts)), err); rerr != nil {
			s.logger.Error("put update back", "update_id", c.ID, "err", rerr)
		}
	}
}

// handOver gives outbox rows claimed in the handling transaction to the
// senders (they wait for a free one). Rows a sender does not take before
// shutdown are given back to the queue.
func (s *Service) handOver(ctx context.Context, items []routing.OutboxItem) {
	for i, it := range items {
		select {
		case s.sendJobs <- it:
		case <-s.deliveryDone:
			for _, r := range items[i:] {
				if err := s.outbox.ReleaseOutbox(context.WithoutCancel(ctx), r); err != nil {
					s.logger.Warn("give back outbox row", "outbox_id", r.ID, "err", err)
				}
			}
			return
		}
	}
}

// answerCallback stops the spinner on a pressed button (best effort: it is
// not durable and needs no retry, the press itself was handled).
func (s *Service) answerCallback(ctx context.Context, id, text string) {
	if id == "" {
		return
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if _, err := s.api.AnswerCallbackQuery(cctx, &tgbot.AnswerCallbackQueryParams{CallbackQueryID: id, Text: text}); err != nil {
		s.logger.Warn("answer callback query", "err", redact(err, s.cfg.Token))
	}
}

// chatOf is the chat id of a claimed update (0: none).
func chatOf(c claimed) int64 {
	if c.ChatID == nil {
		return 0
	}
	return *c.ChatID
}
