package tgupdate

import (
	"encoding/json"
	"errors"
	"fmt"
)

// Raw is an update as received, with the fields intake needs.
type Raw struct {
	ID     int64
	ChatID int64 // 0 when the update has no chat
	Raw    []byte
}

// Peek reads update_id and the chat id from a raw update without
// trusting the rest of it.
func Peek(raw []byte) (Raw, error) {
	var p struct {
		UpdateID *int64 `json:"update_id"`
		Message  *struct {
			Chat struct {
				ID int64 `json:"id"`
			} `json:"chat"`
		} `json:"message"`
		CallbackQuery *struct {
			From struct {
				ID int64 `json:"id"`
			} `json:"from"`
			Message *struct {
				Chat struct {
					ID int64 `json:"id"`
				} `json:"chat"`
			} `json:"message"`
		} `json:"callback_query"`
	}
	if err := json.Unmarshal(raw, &p); err != nil {
		// Fall back to the update id alone: a type mismatch elsewhere must
		// not make an update unstorable.
		var q struct {
			UpdateID *int64 `json:"update_id"`
		}
		if err2 := json.Unmarshal(raw, &q); err2 != nil || q.UpdateID == nil {
			return Raw{}, fmt.Errorf("decode update: %w", err)
		}
		p.UpdateID = q.UpdateID
	}
	if p.UpdateID == nil || *p.UpdateID < 0 {
		return Raw{}, errors.New("update without update_id")
	}
	u := Raw{ID: *p.UpdateID, Raw: raw}
	switch {
	case p.Message != nil:
		u.ChatID = p.Message.Chat.ID
	case p.CallbackQuery != nil && p.CallbackQuery.Message != nil && p.CallbackQuery.Message.Chat.ID != 0:
		u.ChatID = p.CallbackQuery.Message.Chat.ID
	case p.CallbackQuery != nil:
		u.ChatID = p.CallbackQuery.From.ID // a private chat's id is the user's id
	}
	return u, nil
}
