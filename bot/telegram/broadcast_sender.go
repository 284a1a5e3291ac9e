package telegram

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"citybot/broadcast"
)

// BroadcastSender sends broadcast posts through the Telegram Bot API; it
// implements broadcast.Sender and translates the library's errors into the
// broadcast package's classification (429, 403, 400, transient).
type BroadcastSender struct {
	b *tgbot.Bot

	// Uploaded photos are sent once as a file; afterwards Telegram's file id
	// is reused (by content hash).
	mu       sync.Mutex
	photoIDs map[[32]byte]string
}

// NewBroadcastSender returns a sender using b. For high broadcast rates b
// needs an HTTP client with a connection pool of about the number of
// broadcast workers (tgbot.WithHTTPClient).
func NewBroadcastSender(b *tgbot.Bot) *BroadcastSender {
	return &BroadcastSender{b: b, photoIDs: make(map[[32]byte]string)}
}

// BroadcastSender returns a broadcast sender sharing the service's Bot API
// client (and so its HTTP connection pool and token).
func (s *Service) BroadcastSender() *BroadcastSender { return NewBroadcastSender(s.api) }

var _ broadcast.Sender = (*BroadcastSender)(nil)

// Send sends msg to chatID: a text message, or a photo with the text as
// caption, with a link button (if any) and the "Frage dazu" button.
func (s *BroadcastSender) Send(ctx context.Context, chatID string, msg broadcast.Message) error {
	var chat any = chatID
	if id, err := strconv.ParseInt(chatID, 10, 64); err == nil {
		chat = id
	}
	markup := broadcastMarkup(msg)
	var err error
	switch {
	case len(msg.Photo) > 0:
		err = s.sendUploadedPhoto(ctx, chat, msg, markup)
	case msg.PhotoURL != "":
		_, err = s.b.SendPhoto(ctx, &tgbot.SendPhotoParams{
			ChatID:      chat,
			Photo:       &models.InputFileString{Data: msg.PhotoURL},
			Caption:     msg.Text,
			ReplyMarkup: markup,
		})
	default:
		_, err = s.b.SendMessage(ctx, &tgbot.SendMessageParams{
			ChatID:             chat,
			Text:               msg.Text,
			ReplyMarkup:        markup,
			LinkPreviewOptions: &models.LinkPreviewOptions{IsDisabled: tgbot.True()},
		})
	}
	return classifyBroadcastError(err)
}

func (s *BroadcastSender) sendUploadedPhoto(ctx context.Context, chat any, msg broadcast.Message, markup models.ReplyMarkup) error {
	sum := sha256.Sum256(msg.Photo)
	s.mu.Lock()
	fileID := s.photoIDs[sum]
	s.mu.Unlock()
	var photo models.InputFile = &models.InputFileUpload{Filename: msg.PhotoName, Data: bytes.NewReader(msg.Photo)}
	if fileID != "" {
		photo = &models.InputFileString{Data: fileID}
	}
	m, err := s.b.SendPhoto(ctx, &tgbot.SendPhotoParams{
		ChatID:      chat,
		Photo:       photo,
		Caption:     msg.Text,
		ReplyMarkup: markup,
	})
	if err != nil {
		return err
	}
	if fileID == "" && m != nil && len(m.Photo) > 0 {
		s.mu.Lock()
		if len(s.photoIDs) > 256 {
			clear(s.photoIDs)
		}
		s.photoIDs[sum] = m.Photo[len(m.Photo)-1].FileID
		s.mu.Unlock()
	}
	return nil
}

func broadcastMarkup(msg broadcast.Message) models.ReplyMarkup {
	var row []models.InlineKeyboardButton
	if msg.LinkURL != "" {
		row = append(row, models.InlineKeyboardButton{Text: msg.LinkText, URL: msg.LinkURL})
	}
	if msg.QuestionData != "" {
		row = append(row, models.InlineKeyboardButton{Text: msg.QuestionText, CallbackData: msg.QuestionData})
	}
	if len(row) == 0 {
		return nil
	}
	return &models.InlineKeyboardMarkup{InlineKeyboard: [][]models.InlineKeyboardButton{row}}
}

// classifyBroadcastError maps go-telegram/bot errors to broadcast's.
func classifyBroadcastError(err error) error {
	if err == nil {
		return nil
	}
	var tooMany *tgbot.TooManyRequestsError
	if errors.As(err, &tooMany) {
		return &broadcast.RateLimitError{RetryAfter: time.Duration(tooMany.RetryAfter) * time.Second, Err: err}
	}
	var migrate *tgbot.MigrateError
	switch {
	case errors.Is(err, tgbot.ErrorForbidden):
		return fmt.Errorf("%w: %w", broadcast.ErrBlocked, err)
	case errors.As(err, &migrate), errors.Is(err, tgbot.ErrorBadRequest):
		return fmt.Errorf("%w: %w", broadcast.ErrRejected, err)
	}
	return err // 5xx, timeouts, network errors: transient
}
