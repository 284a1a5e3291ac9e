package webchat

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jmoiron/sqlx"

	"citybot/internal/db"
	"citybot/internal/jobs"
	"citybot/internal/tgtext"
	"citybot/routing"
)

// deliverBatch is how many outbox rows one claim takes.
const deliverBatch = 64

// maxDocument is the largest file put into the event log (the /meinedaten
// export, staff attachments); larger ones are announced without content.
const maxDocument = 5 << 20

// runDelivery moves due outbox rows of the channel "web" into the event
// log until ctx is done.
func (s *Service) runDelivery(ctx context.Context) {
	idle := time.NewTicker(s.cfg.IdleInterval)
	defer idle.Stop()
	for ctx.Err() == nil {
		n, err := s.DeliverOnce(ctx)
		if err != nil {
			if ctx.Err() == nil {
				s.log.Error("webchat: deliver", "err", err)
				sleep(ctx, time.Second)
			}
			continue
		}
		if n == deliverBatch {
			continue
		}
		select {
		case <-ctx.Done():
		case <-s.wakeDel:
		case <-idle.C:
		}
	}
}

// runOrphanSweep ends, at once and then every OrphanSweep, the leases of
// outbox rows claimed by instances that are no longer running, and wakes
// delivery to take them.
func (s *Service) runOrphanSweep(ctx context.Context) {
	jobs.Every(ctx, "webchat orphan sweep", s.cfg.OrphanSweep, s.log, func(ctx context.Context) error {
		n, err := s.outbox.EndOrphanedClaims(ctx)
		if n > 0 {
			s.log.Info("webchat: took over the outbox claims of a stopped instance", "outbox_rows", n)
			s.wakeDelivery()
		}
		return err
	})
}

// DeliverOnce claims due outbox rows of the channel and appends each to its
// conversation's event log. It returns how many rows it claimed.
func (s *Service) DeliverOnce(ctx context.Context) (int, error) {
	items, err := s.outbox.ClaimOutbox(ctx, routing.ChannelWeb, deliverBatch, s.cfg.Lease)
	if err != nil {
		return 0, err
	}
	for _, it := range items {
		conv, err := s.deliver(ctx, it)
		switch {
		case err == nil:
			s.hub.wake(conv)
		case errors.Is(err, ErrNotFound):
			if ferr := s.outbox.MarkFailed(ctx, it, err); ferr != nil {
				s.log.Warn("webchat: mark failed", "outbox_id", it.ID, "err", ferr)
			}
		default:
			s.log.Warn("webchat: deliver, will retry", "outbox_id", it.ID, "err", err)
			if it.Attempts >= routing.MaxSendAttempts {
				err = s.outbox.MarkFailed(ctx, it, err)
			} else {
				err = s.outbox.MarkRetry(ctx, it, time.Now().Add(tgtext.RetryDelay(it.Attempts)), err, true)
			}
			if err != nil {
				s.log.Warn("webchat: put back", "outbox_id", it.ID, "err", err)
			}
		}
	}
	return len(items), nil
}

// botPayload is what a bot or staff event carries: the outbox payload, the
// document's content only up to maxDocument.
type botPayload struct {
	Text     string             `json:"text,omitempty"`
	Format   string             `json:"format,omitempty"`
	Buttons  [][]routing.Button `json:"buttons,omitempty"`
	Document *document          `json:"document,omitempty"`
}

type document struct {
	Name string `json:"name"`
	MIME string `json:"mime"`
	Size int    `json:"size"`
	Data []byte `json:"data,omitempty"`
}

// deliver appends one claimed row to the log and marks it sent, in one
// transaction: a row is in the log exactly once.
func (s *Service) deliver(ctx context.Context, it routing.OutboxItem) (int64, error) {
	conv, err := strconv.ParseInt(it.ChatID, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("chat %q: %w", it.ChatID, ErrNotFound)
	}
	p := botPayload{Text: it.Payload.Text, Format: it.Payload.Format, Buttons: it.Payload.Buttons}
	if d := it.Payload.Document; d != nil {
		p.Document = &document{Name: d.Name, MIME: d.MIME, Size: len(d.Data)}
		if len(d.Data) <= maxDocument {
			p.Document.Data = d.Data
		}
	}
	err = db.InTx(ctx, s.db, func(tx *sqlx.Tx) error {
		var id int64
		err := tx.GetContext(ctx, &id, `
			INSERT INTO webchat_events (conversation_id, sender, payload, outbox_id)
			SELECT c.id, coalesce((SELECT m.sender FROM messages m WHERE m.id = $3), 'system'), $2, $4
			FROM webchat_conversations c WHERE c.id = $1
			ON CONFLICT (outbox_id) DO NOTHING
			RETURNING id`, conv, jsonb(p), it.MessageID, it.ID)
		if db.IsNoRows(err) {
			var exists bool
			if err := tx.GetContext(ctx, &exists, `SELECT EXISTS (SELECT 1 FROM webchat_conversations WHERE id = $1)`, conv); err != nil {
				return err
			}
			if !exists {
				return fmt.Errorf("conversation %d: %w", conv, ErrNotFound)
			}
		} else if err != nil {
			return fmt.Errorf("append event: %w", err)
		}
		if err := notify(ctx, tx, conv); err != nil {
			return err
		}
		return s.outbox.WithTx(tx).MarkSent(ctx, it, strconv.FormatInt(id, 10))
	})
	return conv, err
}

// purgeLoop deletes events older than the retention, hourly.
func (s *Service) purgeLoop(ctx context.Context) {
	jobs.Every(ctx, "webchat purge", time.Hour, s.log, func(ctx context.Context) error {
		_, err := s.PurgeExpired(ctx)
		return err
	})
}

// RetentionPeriod is how long the transcript is kept now: the global
// retention of citizen data (Config.RetentionDays, read each time), else
// Config.Retention.
func (s *Service) RetentionPeriod(ctx context.Context) (time.Duration, error) {
	if s.cfg.RetentionDays == nil {
		return s.cfg.Retention, nil
	}
	days, err := s.cfg.RetentionDays(ctx)
	if err != nil {
		return 0, fmt.Errorf("webchat: retention: %w", err)
	}
	if days <= 0 {
		return 0, fmt.Errorf("webchat: retention of %d days: %w", days, ErrInvalid)
	}
	return time.Duration(days) * 24 * time.Hour, nil
}

// PurgeExpired deletes what is older than the retention period (Purge)
// and returns how many events.
func (s *Service) PurgeExpired(ctx context.Context) (int64, error) {
	d, err := s.RetentionPeriod(ctx)
	if err != nil {
		return 0, err
	}
	return s.Purge(ctx, time.Now().Add(-d))
}

// Purge deletes events created before t, and conversations with no event
// left that were last seen before t. It returns how many events.
func (s *Service) Purge(ctx context.Context, t time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM webchat_events WHERE created_at < $1`, t)
	if err != nil {
		return 0, fmt.Errorf("webchat: purge: %w", err)
	}
	n, _ := res.RowsAffected()
	if _, err := s.db.ExecContext(ctx, `
		DELETE FROM webchat_conversations c WHERE last_seen_at < $1
		AND NOT EXISTS (SELECT 1 FROM webchat_events e WHERE e.conversation_id = c.id)`, t); err != nil {
		return n, fmt.Errorf("webchat: purge conversations: %w", err)
	}
	return n, nil
}
