package telegram

import (
	"context"
	"time"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
	"github.com/jmoiron/sqlx"

	"citybot/bot/telegram/tgupdate"
	"citybot/fieldstaff"
)

// StaffChats is the field staff domain as the dispatcher asks it, before
// the citizen engine, in the transaction of the update
// (fieldstaff.(*Store).HandleMessage, which also answers replies to case
// alerts and their buttons).
type StaffChats interface {
	HandleMessage(ctx context.Context, tx *sqlx.Tx, m fieldstaff.Message) (fieldstaff.Reply, error)
}

// staffChatLister is a StaffChats that tells the staff chats among many in
// one statement (fieldstaff.(*Store).StaffChatsAmong): a batch asks it once
// instead of HandleMessage loading each chat's status.
type staffChatLister interface {
	StaffChatsAmong(ctx context.Context, tx *sqlx.Tx, chatIDs []int64) (map[int64]bool, error)
}

// staffChatsAmong returns, for the chats of incs, which are staff chats
// (linked or refused); nil when StaffChats cannot tell them in one go (each
// update is then asked about on its own).
func (s *Service) staffChatsAmong(ctx context.Context, tx *sqlx.Tx, incs []tgupdate.Incoming) (map[int64]bool, error) {
	l, ok := s.cfg.StaffChats.(staffChatLister)
	if !ok {
		return nil, nil
	}
	var chats []int64
	for _, inc := range incs {
		if inc.Skip == "" && inc.ChatID != 0 {
			chats = append(chats, inc.ChatID)
		}
	}
	if len(chats) == 0 {
		return nil, nil
	}
	staff, err := l.StaffChatsAmong(ctx, tx, chats)
	if err == nil && staff == nil {
		staff = map[int64]bool{}
	}
	return staff, err
}

// staffChat asks StaffChats about an update; handled means the chat is
// staff's and the update must not reach the citizen engine. known, when
// not nil, holds the staff chats among the batch's (staffChatsAmong).
func (s *Service) staffChat(ctx context.Context, tx *sqlx.Tx, inc tgupdate.Incoming, known map[int64]bool, r *fieldstaff.Reply) (handled bool, err error) {
	if s.cfg.StaffChats == nil || inc.ChatID == 0 {
		return false, nil
	}
	*r, err = s.cfg.StaffChats.HandleMessage(ctx, tx, fieldstaff.Message{
		ChatID: inc.ChatID, Kind: inc.In.Kind, Text: inc.In.Text, Data: inc.In.Data,
		CallbackMsgID: inc.CallbackMsgID, MediaGroupID: inc.MediaGroupID, Media: inc.In.Media,
		ReplyTo: inc.ReplyTo, ReplyToBot: inc.ReplyToBot, ReplyToText: inc.ReplyToText,
		Flood:    s.engine.Flood(), // staff chats are limited as citizens' are
		NotStaff: known != nil && !known[inc.ChatID],
	})
	if err != nil {
		return false, err
	}
	return r.Handled, nil
}

// sendStaffReply sends the answer to a staff chat after its transaction
// committed, and sets or removes the chat's staff command menu. Best
// effort: staff answers are not citizen messages and do not go through
// the outbox; what they confirm is stored already, and the commands can
// be repeated.
func (s *Service) sendStaffReply(ctx context.Context, chatID int64, r fieldstaff.Reply) {
	if !r.Handled {
		return
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if r.ClearButtons != 0 {
		if _, err := s.api.EditMessageReplyMarkup(cctx, &tgbot.EditMessageReplyMarkupParams{ChatID: chatID, MessageID: r.ClearButtons,
			ReplyMarkup: models.InlineKeyboardMarkup{InlineKeyboard: [][]models.InlineKeyboardButton{}}}); err != nil {
			s.logger.Debug("clear staff buttons", "chat_id", chatID, "err", redact(err, s.cfg.Token))
		}
	}
	if r.Text != "" {
		p := &tgbot.SendMessageParams{ChatID: chatID, Text: r.Text}
		if len(r.Buttons) > 0 {
			kb := make([][]models.InlineKeyboardButton, len(r.Buttons))
			for i, b := range r.Buttons {
				kb[i] = []models.InlineKeyboardButton{{Text: b.Text, CallbackData: b.Data}}
			}
			p.ReplyMarkup = models.InlineKeyboardMarkup{InlineKeyboard: kb}
		}
		if _, err := s.api.SendMessage(cctx, p); err != nil {
			s.logger.Warn("send staff reply", "chat_id", chatID, "err", redact(err, s.cfg.Token))
		}
	}
	scope := &models.BotCommandScopeChat{ChatID: chatID}
	switch {
	case r.Linked:
		cmds := make([]models.BotCommand, 0, len(fieldstaff.StaffCommands))
		for _, c := range fieldstaff.StaffCommands {
			cmds = append(cmds, models.BotCommand{Command: c.Command, Description: c.Description})
		}
		if _, err := s.api.SetMyCommands(cctx, &tgbot.SetMyCommandsParams{Commands: cmds, Scope: scope}); err != nil {
			s.logger.Warn("set staff commands", "chat_id", chatID, "err", redact(err, s.cfg.Token))
		}
	case r.Unlinked:
		if _, err := s.api.DeleteMyCommands(cctx, &tgbot.DeleteMyCommandsParams{Scope: scope}); err != nil {
			s.logger.Warn("delete staff commands", "chat_id", chatID, "err", redact(err, s.cfg.Token))
		}
	}
}
