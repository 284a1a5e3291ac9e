package telegram

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"time"

	tgbot "github.com/go-telegram/bot"
	"github.com/jmoiron/sqlx"

	"citybot/bot"
	"citybot/internal/db"
	"citybot/routing"
)

// handleTimeout bounds the handling of one update (also during shutdown).
const handleTimeout = 30 * time.Second

// maxBatch is the most updates a worker handles in one transaction. Under
// load a claim round takes up to Workers*maxBatch updates and each worker
// handles its share in one transaction: one BEGIN, one statement marking
// them done and one COMMIT (one WAL flush) for all of them. Idle, every
// update gets its own worker at once.
const maxBatch = 8

// runDispatcher claims stored updates and hands them to Workers goroutines
// until ctx is done; then it waits for the updates in hand and gives back
// those claimed but not started.
func (s *Service) runDispatcher(ctx context.Context) {
	jobs := make(chan []claimed)
	var wg sync.WaitGroup
	for range s.cfg.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for cs := range jobs {
				s.handleBatch(context.WithoutCancel(ctx), cs)
			}
		}()
	}
	defer func() {
		close(jobs)
		wg.Wait()
	}()

	idle := time.NewTicker(s.cfg.IdleInterval)
	defer idle.Stop()
	limit := s.cfg.Workers * maxBatch
	for ctx.Err() == nil {
		batch, err := s.updates.claim(ctx, limit, s.cfg.Lease)
		if err != nil && ctx.Err() == nil {
			s.logger.Error("claim updates", "err", err)
			sleep(ctx, time.Second)
			continue
		}
		// Spread the claimed updates evenly over the workers (one chat has
		// at most one update in a round: the chunks are independent).
		size := max(1, (len(batch)+s.cfg.Workers-1)/s.cfg.Workers)
		for i := 0; i < len(batch); i += size {
			select {
			case jobs <- batch[i:min(i+size, len(batch))]:
			case <-ctx.Done():
				for _, r := range batch[i:] {
					if err := s.updates.release(context.WithoutCancel(ctx), r); err != nil {
						s.logger.Warn("give back update", "update_id", r.ID, "err", err)
					}
				}
				return
			}
		}
		if len(batch) == limit {
			continue // there may be more
		}
		select {
		case <-ctx.Done():
		case <-s.wakeDispatch:
		case <-idle.C:
		}
	}
}

// batchOutcome is what handling one update of a batch produced.
type batchOutcome struct {
	inc          incoming
	outcome      string
	callbackText string
	sendNow      []routing.OutboxItem
	keyboard     *bot.Keyboard
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
	outs, err := s.tryBatch(ctx, cs)
	if err != nil {
		s.logger.Debug("batch failed, handling its updates one by one", "updates", len(cs), "err", err)
		for _, c := range cs {
			s.handle(ctx, c)
		}
		return
	}
	took := time.Since(start).Seconds()
	s.wake(s.wakeDispatch) // the chats' next updates may be waiting
	for i, o := range outs {
		s.metrics.handled.WithLabelValues(o.outcome).Inc()
		s.metrics.latency.Observe(took)
		if o.inc.skip != "" {
			s.logger.Debug("update skipped", "update_id", cs[i].ID, "reason", o.inc.skip)
		}
		s.handOver(ctx, o.sendNow)
	}
	s.wake(s.wakeDeliver)
	for _, o := range outs {
		s.answerCallback(ctx, o.inc.callbackID, o.callbackText)
		s.editKeyboard(ctx, o.inc, o.keyboard)
	}
}

func (s *Service) tryBatch(ctx context.Context, cs []claimed) (outs []batchOutcome, err error) {
	ctx, cancel := context.WithTimeout(ctx, handleTimeout)
	defer cancel()
	defer func() {
		if p := recover(); p != nil {
			outs, err = nil, fmt.Errorf("panic: %v", p)
		}
	}()
	outs = make([]batchOutcome, len(cs))
	err = db.InTx(ctx, s.db, func(tx *sqlx.Tx) error {
		// Fence first: this locks the rows, and fails if a claim expired.
		if err := finishAll(ctx, tx, cs); err != nil {
			return err
		}
		for i, c := range cs {
			o := &outs[i]
			o.inc = decode(c.Payload)
			o.outcome = "skipped"
			if o.inc.skip != "" {
				continue
			}
			res, err := s.engine.Handle(ctx, tx, o.inc.in)
			if err != nil {
				return err
			}
			o.outcome, o.callbackText, o.sendNow, o.keyboard = res.Outcome, res.CallbackText, res.Claimed, res.Keyboard
			if res.Erased {
				if err := eraseChat(ctx, tx, o.inc.chatID, c.ID); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return outs, nil
}

// handle handles one claimed update: decode and validate it, let the engine
// answer it and mark it done, in one transaction. A panic is recovered, logged
// and the update marked failed; errors are retried with backoff.
func (s *Service) handle(ctx context.Context, c claimed) {
	ctx, cancel := context.WithTimeout(ctx, handleTimeout)
	defer cancel()
	start := time.Now()
	var inc incoming
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
		s.answerCallback(ctx, inc.callbackID, "")
	}()

	inc = decode(c.Payload)
	outcome := "skipped"
	callbackText := ""
	var sendNow []routing.OutboxItem
	var kb *bot.Keyboard
	err := db.InTx(ctx, s.db, func(tx *sqlx.Tx) error {
		// Fence first: this locks the row, and fails if our claim expired.
		if err := finish(ctx, tx, c); err != nil {
			return err
		}
		if inc.skip != "" {
			return nil
		}
		res, err := s.engine.Handle(ctx, tx, inc.in)
		if err != nil {
			return err
		}
		outcome, callbackText, sendNow, kb = res.Outcome, res.CallbackText, res.Claimed, res.Keyboard
		if res.Erased {
			return eraseChat(ctx, tx, inc.chatID, c.ID)
		}
		return nil
	})
	switch {
	case err == nil:
		s.metrics.handled.WithLabelValues(outcome).Inc()
		s.metrics.latency.Observe(time.Since(start).Seconds())
		if inc.skip != "" {
			s.logger.Debug("update skipped", "update_id", c.ID, "reason", inc.skip)
		}
		s.wake(s.wakeDispatch) // the chat's next update may be waiting
		s.answerCallback(ctx, inc.callbackID, callbackText)
		s.editKeyboard(ctx, inc, kb)
		s.handOver(ctx, sendNow)
		s.wake(s.wakeDeliver)
	case errors.Is(err, errLost):
		s.logger.Warn("update claimed elsewhere after lease expiry", "update_id", c.ID)
	case c.Attempts >= s.cfg.MaxUpdateAttempts:
		s.metrics.failed.Inc()
		s.logger.Error("giving up on update", "update_id", c.ID, "attempts", c.Attempts, "err", err)
		if ferr := s.updates.fail(context.WithoutCancel(ctx), c, err); ferr != nil {
			s.logger.Error("mark update failed", "update_id", c.ID, "err", ferr)
		}
		s.answerCallback(ctx, inc.callbackID, "")
		s.wake(s.wakeDispatch)
	default:
		s.logger.Warn("handling update failed, will retry", "update_id", c.ID, "attempts", c.Attempts, "err", err)
		if rerr := s.updates.retry(context.WithoutCancel(ctx), c, time.Now().Add(routing.RetryDelay(c.Attempts)), err); rerr != nil {
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
