package telegram

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"citybot/internal/tgtext"
	"citybot/routing"
)

// sendTimeout bounds one Bot API call of the delivery worker.
const sendTimeout = 30 * time.Second

// runDelivery sends due outbox rows with Senders goroutines until ctx is
// done. The senders take rows claimed here and rows the dispatcher claimed
// while handling an update (handOver).
func (s *Service) runDelivery(ctx context.Context) {
	defer close(s.deliveryDone)
	var wg sync.WaitGroup
	for range s.cfg.Senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case it := <-s.sendJobs:
					s.busySenders.Add(1)
					s.deliver(ctx, it)
					s.busySenders.Add(-1)
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	defer func() {
		wg.Wait()
		// Rows handed over but not taken by a sender go back to the queue.
		// (The dispatcher stopped before delivery does: nothing is handed
		// over after this.)
		for {
			select {
			case it := <-s.sendJobs:
				if err := s.outbox.ReleaseOutbox(context.WithoutCancel(ctx), it); err != nil {
					s.logger.Warn("give back outbox row", "outbox_id", it.ID, "err", err)
				}
			default:
				return
			}
		}
	}()

	idle := time.NewTicker(s.cfg.IdleInterval)
	defer idle.Stop()
	for ctx.Err() == nil {
		if wait := s.paused(); wait > 0 {
			sleep(ctx, wait)
			continue
		}
		// A few rounds of the senders at once: fewer claims under load.
		limit := 4 * s.cfg.Senders
		batch, err := s.outbox.ClaimOutbox(ctx, routing.ChannelTelegram, limit, s.cfg.Lease)
		if err != nil && ctx.Err() == nil {
			s.logger.Error("claim outbox", "err", err)
			sleep(ctx, time.Second)
			continue
		}
		s.claims.outbox.Add(1)
		if len(batch) == 0 {
			s.claims.outboxEmpty.Add(1)
		}
		for i, it := range batch {
			select {
			case s.sendJobs <- it:
			case <-ctx.Done():
				for _, r := range batch[i:] {
					if err := s.outbox.ReleaseOutbox(context.WithoutCancel(ctx), r); err != nil {
						s.logger.Warn("give back outbox row", "outbox_id", r.ID, "err", err)
					}
				}
				return
			}
		}
		if len(batch) == limit {
			continue
		}
		select {
		case <-ctx.Done():
		case <-s.wakeDeliver:
		case <-idle.C:
		}
	}
}

// drainDelivery is the last delivery round at shutdown: it runs until
// nothing due is left and no sender is busy, or ctx (bounded by
// DrainTimeout) ends.
func (s *Service) drainDelivery(ctx context.Context) {
	for ctx.Err() == nil {
		if s.paused() > 0 {
			return // rate limited: the rows stay for the next start
		}
		items, err := s.outbox.ClaimOutbox(ctx, routing.ChannelTelegram, s.cfg.Senders, s.cfg.Lease)
		if err != nil {
			return
		}
		if len(items) == 0 {
			// A record in the background may make a chat's next row due.
			if s.busySenders.Load() == 0 && len(s.sendJobs) == 0 && len(s.recording) == 0 {
				return
			}
			sleep(ctx, 20*time.Millisecond)
			continue
		}
		var wg sync.WaitGroup
		for _, it := range items {
			wg.Add(1)
			go func() {
				defer wg.Done()
				s.deliver(ctx, it)
			}()
		}
		wg.Wait()
	}
}

// paused returns how long the sender must still wait after a 429.
func (s *Service) paused() time.Duration {
	s.pauseMu.Lock()
	defer s.pauseMu.Unlock()
	return time.Until(s.pauseUntil)
}

func (s *Service) pause(d time.Duration) {
	s.pauseMu.Lock()
	defer s.pauseMu.Unlock()
	if until := time.Now().Add(d); until.After(s.pauseUntil) {
		s.pauseUntil = until
	}
}

// deliver sends one claimed outbox row and records the result.
// markSentPatience is how long a sender keeps trying to record a message
// Telegram accepted: less than the lease of its row.
const markSentPatience = time.Minute

func (s *Service) deliver(ctx context.Context, it routing.OutboxItem) {
	// A result must be recorded even when ctx ends during the call.
	rctx := context.WithoutCancel(ctx)
	if wait := s.paused(); wait > 0 {
		if !sleep(ctx, wait) {
			s.recordRetry(rctx, it, time.Now(), errors.New("shutdown"), false)
			return
		}
	}
	var traceChat int64
	if s.trace != nil {
		traceChat, _ = strconv.ParseInt(it.ChatID, 10, 64)
		s.traceAt(stageSendStart, traceChat)
	}
	sctx, cancel := context.WithTimeout(ctx, sendTimeout)
	msgID, err := s.send(sctx, it)
	cancel()
	if s.trace != nil {
		s.traceAt(stageSendDone, traceChat)
	}
	err = redact(err, s.cfg.Token)

	var tooMany *tgbot.TooManyRequestsError
	switch {
	case err == nil:
		s.metrics.sends.WithLabelValues("sent").Inc()
		s.recordSent(ctx, it, msgID)
	case errors.As(err, &tooMany):
		wait := time.Duration(max(tooMany.RetryAfter, 1)) * time.Second
		s.metrics.sends.WithLabelValues("rate_limited").Inc()
		s.logger.Warn("rate limited by Telegram, pausing the sender", "retry_after_s", tooMany.RetryAfter)
		s.pause(wait)
		s.recordRetry(rctx, it, time.Now().Add(wait), err, false)
	case errors.Is(err, tgbot.ErrorForbidden):
		// Blocked by the user or deactivated: never retried.
		s.metrics.sends.WithLabelValues("undeliverable").Inc()
		n, merr := s.outbox.MarkUndeliverable(rctx, it, err)
		if merr != nil {
			s.logger.Error("mark outbox row undeliverable", "outbox_id", it.ID, "err", merr)
		}
		s.logger.Info("chat refuses messages, marked undeliverable", "outbox_id", it.ID, "rows", n)
	case errors.Is(err, tgbot.ErrorBadRequest), errors.Is(err, errBadPayload):
		// Retrying the same request cannot help (chat not found, bad text, ...).
		s.metrics.sends.WithLabelValues("failed").Inc()
		s.logger.Error("Telegram rejected an outbox row", "outbox_id", it.ID, "err", err)
		if merr := s.outbox.MarkFailed(rctx, it, err); merr != nil {
			s.logger.Error("mark outbox row failed", "outbox_id", it.ID, "err", merr)
		}
	case ctx.Err() != nil && !errors.Is(err, context.DeadlineExceeded):
		// Shutdown interrupted the call: try again later, not counted.
		s.recordRetry(rctx, it, time.Now(), err, false)
	case it.Attempts >= routing.MaxSendAttempts:
		s.metrics.sends.WithLabelValues("failed").Inc()
		s.logger.Error("giving up on outbox row", "outbox_id", it.ID, "attempts", it.Attempts, "err", err)
		if merr := s.outbox.MarkFailed(rctx, it, err); merr != nil {
			s.logger.Error("mark outbox row failed", "outbox_id", it.ID, "err", merr)
		}
	default:
		// 5xx, timeouts, network: retry with backoff.
		s.metrics.sends.WithLabelValues("retry").Inc()
		s.logger.Warn("send failed, will retry", "outbox_id", it.ID, "attempts", it.Attempts, "err", err)
		s.recordRetry(rctx, it, time.Now().Add(tgtext.RetryDelay(it.Attempts)), err, true)
	}
}

// maxRecording bounds the "sent" records in the background, per sender:
// when the database is slow, the senders wait for it rather than pile up
// records.
const maxRecording = 4

// recordSent records that Telegram accepted it (as message msgID) in the
// background: the sender goes on to its next message while the record
// waits for its commit, and the records of all senders meanwhile share one
// statement and one WAL flush (routing's grouped MarkSentNext). A sender
// that waited for its own record would spend most of its time waiting for
// the disk. The record is as durable as before; the window in which a
// crash re-sends an accepted message is the same: from Telegram's accept
// to the commit of its record.
func (s *Service) recordSent(ctx context.Context, it routing.OutboxItem, msgID string) {
	s.recording <- struct{}{}
	s.records.Add(1)
	go func() {
		defer func() {
			<-s.recording
			s.records.Done()
		}()
		rctx := context.WithoutCancel(ctx)
		more, err := s.outbox.MarkSentNext(rctx, it, msgID)
		// Telegram has the message: should the database be away (a
		// restart, a broken connection), keep trying to record it, or the
		// row is sent again once its lease ends. (At shutdown only until
		// the drain ends.)
		patience := min(markSentPatience, s.cfg.Lease/2)
		for wait, since := 100*time.Millisecond, time.Now(); err != nil && !errors.Is(err, routing.ErrNotFound) && time.Since(since) < patience; wait = min(2*wait, 2*time.Second) {
			s.logger.Warn("mark outbox row sent; trying again", "outbox_id", it.ID, "err", err)
			if !sleep(ctx, wait) {
				break
			}
			more, err = s.outbox.MarkSentNext(rctx, it, msgID)
		}
		if err != nil {
			s.logger.Warn("mark outbox row sent", "outbox_id", it.ID, "err", err)
		}
		if more {
			s.wake(s.wakeDeliver) // the chat's next row is waiting
		}
	}()
}

func (s *Service) recordRetry(ctx context.Context, it routing.OutboxItem, at time.Time, cause error, count bool) {
	if err := s.outbox.MarkRetry(ctx, it, at, cause, count); err != nil {
		s.logger.Warn("put outbox row back", "outbox_id", it.ID, "err", err)
	}
}

var errBadPayload = errors.New("telegram: outbox payload cannot be sent")

// send makes the Bot API call for one outbox row and returns the message id.
func (s *Service) send(ctx context.Context, it routing.OutboxItem) (string, error) {
	chatID, err := strconv.ParseInt(it.ChatID, 10, 64)
	if err != nil {
		return "", fmt.Errorf("%w: chat id %q", errBadPayload, it.ChatID)
	}
	p := it.Payload
	markup := keyboard(p.Buttons)
	var m *models.Message
	switch {
	case p.Document != nil:
		params := &tgbot.SendDocumentParams{
			ChatID:   chatID,
			Document: &models.InputFileUpload{Filename: p.Document.Name, Data: bytes.NewReader(p.Document.Data)},
			Caption:  p.Text,
		}
		if markup != nil {
			params.ReplyMarkup = markup
		}
		m, err = s.api.SendDocument(ctx, params)
	case p.Text != "":
		params := &tgbot.SendMessageParams{
			ChatID:             chatID,
			Text:               p.Text,
			LinkPreviewOptions: &models.LinkPreviewOptions{IsDisabled: tgbot.True()},
		}
		if p.Format == routing.FormatHTML {
			params.ParseMode = models.ParseModeHTML
		}
		if markup != nil {
			params.ReplyMarkup = markup
		}
		m, err = s.api.SendMessage(ctx, params)
	default:
		return "", fmt.Errorf("%w: empty", errBadPayload)
	}
	if err != nil {
		return "", err
	}
	if m == nil {
		return "", nil
	}
	return strconv.Itoa(m.ID), nil
}

func keyboard(rows [][]routing.Button) *models.InlineKeyboardMarkup {
	if len(rows) == 0 {
		return nil
	}
	kb := &models.InlineKeyboardMarkup{InlineKeyboard: make([][]models.InlineKeyboardButton, 0, len(rows))}
	for _, r := range rows {
		row := make([]models.InlineKeyboardButton, 0, len(r))
		for _, b := range r {
			row = append(row, models.InlineKeyboardButton{Text: b.Text, CallbackData: b.Data, URL: b.URL})
		}
		kb.InlineKeyboard = append(kb.InlineKeyboard, row)
	}
	return kb
}
