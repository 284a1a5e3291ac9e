// Package tgupdate reads Telegram updates as they arrive, raw JSON that
// anyone who can reach the webhook or crafts a message may shape: Peek takes
// the update id and chat for storing an update, Decode turns a stored one
// into the dialog engine's Inbound. Both never panic on hostile input and
// trust nothing the library's router would (entity offsets, sizes,
// encoding). The package needs no database, so its fuzz target runs
// without one.
package tgupdate

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/go-telegram/bot/models"

	"citybot/bot"
	"citybot/internal/tgtext"
	"citybot/routing"
)

// Limits of what an update may carry. Telegram sends at most 4096
// characters of text and 1024 of caption; anything far beyond is crafted.
const (
	MaxUpdateBytes   = 1 << 20 // webhook body limit
	maxEntities      = 1000
	maxCallbackBytes = 64
)

// Incoming is a decoded, validated update.
type Incoming struct {
	In         bot.Inbound
	ChatID     int64
	CallbackID string // set for button presses: must be answered
	// CallbackMsgID is the message whose button was pressed (for editing
	// its keyboard), 0 if unknown.
	CallbackMsgID int
	// ReplyTo is the message a message replies to (0: none); ReplyToBot:
	// that message is the bot's, or forwarded (a staff reply to an alert);
	// ReplyToText: its text or caption (at most 256 bytes, valid UTF-8).
	ReplyTo     int
	ReplyToBot  bool
	ReplyToText string
	// MediaGroupID: the message is one of an album (a linked staff chat's
	// field report takes the album's photos as one report).
	MediaGroupID string
	Skip         string // non-empty: nothing to answer (reason for the log)
}

// Decode turns a stored raw update into an Inbound for the engine. It never
// panics on hostile input and validates what the library's router would
// trust (entity offsets, sizes, encoding); a broken message gets an Inbound
// with a Problem, so the citizen still gets a reply.
func Decode(raw []byte) Incoming {
	var u models.Update
	validUTF8 := utf8.Valid(raw)
	if err := json.Unmarshal(raw, &u); err != nil {
		// Structurally broken: answer if we can tell the chat.
		p, perr := Peek(raw)
		if perr != nil || p.ChatID == 0 {
			return Incoming{Skip: "undecodable update"}
		}
		return Incoming{ChatID: p.ChatID, In: inbound(p.ChatID, "", bot.Inbound{Kind: routing.KindOther, Problem: bot.ProblemMalformed})}
	}
	switch {
	case u.Message != nil:
		return decodeMessage(u.Message, validUTF8)
	case u.CallbackQuery != nil:
		return decodeCallback(u.CallbackQuery, validUTF8)
	default:
		return Incoming{Skip: "update type not handled"}
	}
}

func inbound(chatID int64, lang string, in bot.Inbound) bot.Inbound {
	in.Channel = routing.ChannelTelegram
	in.ChatID = strconv.FormatInt(chatID, 10)
	in.Language = lang
	return in
}

func decodeMessage(m *models.Message, validUTF8 bool) Incoming {
	if m.Chat.ID == 0 {
		return Incoming{Skip: "message without chat"}
	}
	if m.Chat.Type != "" && m.Chat.Type != models.ChatTypePrivate {
		return Incoming{Skip: "not a private chat"}
	}
	lang := ""
	if m.From != nil {
		if m.From.IsBot {
			return Incoming{Skip: "message from a bot"}
		}
		lang = m.From.LanguageCode
	}
	in := bot.Inbound{MessageID: strconv.Itoa(m.ID), Text: m.Text}
	switch {
	case len(m.Photo) > 0:
		in.Kind, in.Text = routing.KindPhoto, m.Caption
		p := m.Photo[len(m.Photo)-1] // the largest size
		in.Media = &routing.Media{Type: "photo", FileID: p.FileID, FileUniqueID: p.FileUniqueID, FileSize: int64(p.FileSize)}
	case m.Document != nil:
		in.Kind, in.Text = routing.KindDocument, m.Caption
		d := m.Document
		in.Media = &routing.Media{Type: "document", FileID: d.FileID, FileUniqueID: d.FileUniqueID, FileName: d.FileName, MIMEType: d.MimeType, FileSize: d.FileSize}
	case m.Sticker != nil:
		in.Kind, in.Text = routing.KindSticker, ""
		in.Media = &routing.Media{Type: "sticker", FileID: m.Sticker.FileID, FileUniqueID: m.Sticker.FileUniqueID, Emoji: m.Sticker.Emoji}
	case m.Voice != nil || m.Audio != nil || m.VideoNote != nil:
		in.Kind, in.Text = routing.KindVoice, ""
		switch {
		case m.Voice != nil:
			in.Media = &routing.Media{Type: "voice", FileID: m.Voice.FileID, FileUniqueID: m.Voice.FileUniqueID, MIMEType: m.Voice.MimeType, FileSize: m.Voice.FileSize}
		case m.Audio != nil:
			in.Media = &routing.Media{Type: "audio", FileID: m.Audio.FileID, FileUniqueID: m.Audio.FileUniqueID, MIMEType: m.Audio.MimeType, FileSize: m.Audio.FileSize}
		default:
			in.Kind = routing.KindOther
			in.Media = &routing.Media{Type: "video_note", FileID: m.VideoNote.FileID, FileUniqueID: m.VideoNote.FileUniqueID}
		}
	case m.Location != nil || m.Venue != nil:
		in.Kind, in.Text = routing.KindLocation, ""
		loc := m.Location
		if loc == nil {
			loc = &m.Venue.Location
		}
		lat, lon := loc.Latitude, loc.Longitude
		in.Media = &routing.Media{Type: "location", Latitude: &lat, Longitude: &lon}
		if m.Venue != nil {
			in.Media.Title, in.Media.Address = m.Venue.Title, m.Venue.Address
		}
	case m.Video != nil || m.Animation != nil || m.Contact != nil || m.Poll != nil || m.Dice != nil ||
		m.Game != nil || m.Story != nil || m.Checklist != nil || m.Invoice != nil || m.PaidMedia != nil:
		in.Kind, in.Text = routing.KindOther, m.Caption
		in.Media = &routing.Media{Type: otherType(m)}
	default:
		in.Kind = routing.KindText
	}
	if in.Media != nil {
		sanitizeMedia(in.Media)
	}
	if err := validateMessage(m); err != nil {
		in.Problem = bot.ProblemMalformed
	} else if !validUTF8 || strings.ContainsRune(in.Text, utf8.RuneError) && strings.Trim(in.Text, "\uFFFD\x00 \n\t") == "" {
		in.Problem = bot.ProblemUnreadable
	}
	in.Text = strings.ReplaceAll(in.Text, "\uFFFD", "")
	group := ""
	if len(m.MediaGroupID) <= 64 && utf8.ValidString(m.MediaGroupID) {
		group = m.MediaGroupID
	}
	out := Incoming{ChatID: m.Chat.ID, MediaGroupID: group, In: inbound(m.Chat.ID, lang, in)}
	if r := m.ReplyToMessage; r != nil && r.ID > 0 {
		out.ReplyTo = r.ID
		out.ReplyToBot = r.From != nil && r.From.IsBot || r.ForwardOrigin != nil
		t := r.Text
		if t == "" {
			t = r.Caption
		}
		if len(t) > 256 {
			t = t[:256]
		}
		out.ReplyToText = strings.ToValidUTF8(strings.ReplaceAll(t, "\x00", ""), "")
	}
	return out
}

func otherType(m *models.Message) string {
	switch {
	case m.Video != nil:
		return "video"
	case m.Animation != nil:
		return "animation"
	case m.Contact != nil:
		return "contact"
	case m.Poll != nil:
		return "poll"
	default:
		return "other"
	}
}

func sanitizeMedia(m *routing.Media) {
	clean := func(s string) string {
		s = strings.ToValidUTF8(strings.ReplaceAll(s, "\x00", ""), "")
		if len(s) > 512 {
			s = strings.ToValidUTF8(s[:512], "")
		}
		return s
	}
	m.FileID, m.FileUniqueID, m.FileName, m.MIMEType, m.Emoji = clean(m.FileID), clean(m.FileUniqueID), clean(m.FileName), clean(m.MIMEType), clean(m.Emoji)
	m.Title, m.Address = clean(m.Title), clean(m.Address)
}

// validateMessage checks what the library's router and our command parsing
// would trust: entities must lie within the text (in UTF-16 units).
func validateMessage(m *models.Message) error {
	if err := validEntities(m.Text, m.Entities); err != nil {
		return fmt.Errorf("entities: %w", err)
	}
	if err := validEntities(m.Caption, m.CaptionEntities); err != nil {
		return fmt.Errorf("caption entities: %w", err)
	}
	return nil
}

func validEntities(text string, es []models.MessageEntity) error {
	if len(es) == 0 {
		return nil
	}
	if len(es) > maxEntities {
		return errors.New("too many entities")
	}
	n := tgtext.UTF16Len(text)
	for _, e := range es {
		if e.Offset < 0 || e.Length <= 0 || e.Offset > n || e.Length > n-e.Offset {
			return fmt.Errorf("entity %s at %d+%d outside text of length %d", e.Type, e.Offset, e.Length, n)
		}
	}
	return nil
}

func decodeCallback(q *models.CallbackQuery, validUTF8 bool) Incoming {
	chatID := q.From.ID
	if q.Message.Message != nil && q.Message.Message.Chat.ID != 0 {
		chatID = q.Message.Message.Chat.ID
		if t := q.Message.Message.Chat.Type; t != "" && t != models.ChatTypePrivate {
			return Incoming{Skip: "not a private chat", CallbackID: q.ID}
		}
	} else if q.Message.InaccessibleMessage != nil && q.Message.InaccessibleMessage.Chat.ID != 0 {
		chatID = q.Message.InaccessibleMessage.Chat.ID
	}
	if chatID == 0 {
		return Incoming{Skip: "button press without chat", CallbackID: q.ID}
	}
	in := bot.Inbound{Kind: routing.KindButton, Data: q.Data}
	if !validUTF8 || !utf8.ValidString(q.Data) || len(q.Data) > maxCallbackBytes || strings.ContainsRune(q.Data, 0) {
		in.Data = ""
	}
	msgID := 0
	if q.Message.Message != nil {
		msgID = q.Message.Message.ID
	}
	return Incoming{ChatID: chatID, CallbackID: q.ID, CallbackMsgID: msgID, In: inbound(chatID, q.From.LanguageCode, in)}
}
