package routing

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"
)

// SendStaffChat queues a message to a linked staff member's chat (a case
// alert): an outbox row of no citizen, sent by the delivery worker like any
// other and kept with its channel message id once sent (unlike ephemeral
// rows). It returns the outbox row's id.
func (s *Store) SendStaffChat(ctx context.Context, channel, chatID string, p Payload) (int64, error) {
	var id int64
	if err := sqlx.GetContext(ctx, s.q, &id, `
		INSERT INTO outbox (channel, chat_id, payload, staff_chat) VALUES ($1, $2, $3, true) RETURNING id`,
		channel, chatID, p); err != nil {
		return 0, fmt.Errorf("enqueue staff chat message: %w", err)
	}
	return id, nil
}

// DropStaffChat deletes the staff chat messages of chatID that are not
// sent yet (the chat was unlinked, its user deactivated) and returns how
// many. A row a sender holds right now is left to it.
func (s *Store) DropStaffChat(ctx context.Context, channel, chatID string) (int64, error) {
	res, err := s.q.ExecContext(ctx, `
		DELETE FROM outbox WHERE staff_chat AND channel = $1 AND chat_id = $2 AND status = 'pending'`, channel, chatID)
	if err != nil {
		return 0, fmt.Errorf("drop staff chat messages: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}
