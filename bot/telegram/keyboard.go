package telegram

import (
	"context"
	"strings"
	"time"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"citybot/bot"
	"citybot/bot/telegram/tgupdate"
)

// editKeyboard replaces the buttons of the message whose button was pressed
// (the /abo toggles), best effort after commit like answerCallback: the
// change itself is stored; a lost edit only shows an old keyboard, which
// /abo redraws.
func (s *Service) editKeyboard(ctx context.Context, inc tgupdate.Incoming, kb *bot.Keyboard) {
	if kb == nil || inc.CallbackMsgID == 0 || inc.ChatID == 0 {
		return
	}
	markup := keyboard(kb.Buttons)
	if markup == nil {
		markup = &models.InlineKeyboardMarkup{InlineKeyboard: [][]models.InlineKeyboardButton{}}
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	_, err := s.api.EditMessageReplyMarkup(cctx, &tgbot.EditMessageReplyMarkupParams{
		ChatID: inc.ChatID, MessageID: inc.CallbackMsgID, ReplyMarkup: markup,
	})
	if err != nil && !strings.Contains(err.Error(), "message is not modified") {
		s.logger.Warn("edit keyboard", "err", redact(err, s.cfg.Token))
	}
}
