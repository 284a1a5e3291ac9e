package tgfake

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/go-telegram/bot/models"
)

type queuedUpdate struct {
	id  int64
	raw json.RawMessage
}

type webhookState struct {
	url            string
	secret         string
	maxConnections int
	allowedUpdates []string
}

// ---- getUpdates ----

const (
	conflictPoll    = "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
	conflictWebhook = "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"
)

func (s *Server) getUpdates(w http.ResponseWriter, r *http.Request, req *request) (any, Failure) {
	offset, _ := strconv.ParseInt(req.get("offset"), 10, 64)
	limit := 100
	if v := req.get("limit"); v != "" {
		if n, err := strconv.Atoi(v); err == nil {
			limit = min(max(n, 1), 100)
		}
	}
	timeoutSec, _ := strconv.Atoi(req.get("timeout"))

	s.mu.Lock()
	if s.webhook.url != "" {
		s.mu.Unlock()
		return nil, Failure{Code: http.StatusConflict, Description: conflictWebhook}
	}
	if s.polling {
		s.mu.Unlock()
		return nil, Failure{Code: http.StatusConflict, Description: conflictPoll}
	}
	s.polling = true
	hold := min(time.Duration(max(timeoutSec, 0))*time.Second, s.pollCap)
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.polling = false
		s.notifyLocked()
		s.mu.Unlock()
	}()

	var timer <-chan time.Time
	if hold > 0 {
		t := time.NewTimer(hold)
		defer t.Stop()
		timer = t.C
	}
	for {
		s.mu.Lock()
		s.confirmLocked(offset)
		offset = 0 // confirm only once; later loops just look for new updates
		if len(s.queue) > 0 || hold <= 0 {
			body := s.updatesBodyLocked(limit)
			s.mu.Unlock()
			return body, Failure{}
		}
		ch := s.waitChanLocked()
		s.mu.Unlock()
		select {
		case <-ch:
		case <-timer:
			return rawResult(`{"ok":true,"result":[]}`), Failure{}
		case <-s.closed:
			return rawResult(`{"ok":true,"result":[]}`), Failure{}
		case <-r.Context().Done():
			return nil, Failure{}
		}
	}
}

// confirmLocked drops updates confirmed by offset (ids below a positive offset; a
// negative offset keeps only the last -offset updates).
func (s *Server) confirmLocked(offset int64) {
	dropped := 0
	switch {
	case offset > 0:
		for dropped < len(s.queue) && s.queue[dropped].id < offset {
			dropped++
		}
	case offset < 0:
		if keep := int(-offset); keep < len(s.queue) {
			dropped = len(s.queue) - keep
		}
	}
	if dropped > 0 {
		clear(s.queue[:dropped])
		s.queue = s.queue[dropped:]
		s.notifyLocked()
	}
}

func (s *Server) updatesBodyLocked(limit int) rawResult {
	var b bytes.Buffer
	b.WriteString(`{"ok":true,"result":[`)
	for i, u := range s.queue {
		if i == limit {
			break
		}
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(u.raw)
	}
	b.WriteString(`]}`)
	return rawResult(b.Bytes())
}

// Pending returns the number of queued updates not yet confirmed by an offset.
func (s *Server) Pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.queue)
}

// AwaitDrained waits until every queued update was confirmed (offset moved past
// it) or ctx ends.
func (s *Server) AwaitDrained(ctx context.Context) error {
	return s.await(ctx, func() bool { return len(s.queue) == 0 })
}

// WaitDrained is AwaitDrained with a timeout that fails t.
func (s *Server) WaitDrained(t testing.TB, timeout time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := s.AwaitDrained(ctx); err != nil {
		t.Fatalf("tgfake: %d updates still pending after %v\n%s", s.Pending(), timeout, s.Dump())
	}
}

// JumpUpdateIDs makes the next update id larger by delta (Telegram's ids jump
// after a period of silence).
func (s *Server) JumpUpdateIDs(delta int) {
	s.mu.Lock()
	s.nextUpdateID += int64(delta)
	s.mu.Unlock()
}

// ---- pushing updates ----

// PushUpdate queues a raw update, e.g. a hostile one with an entity beyond the
// text. If raw is a JSON object its update_id is replaced by the next id;
// otherwise raw is queued verbatim (then the whole getUpdates answer is invalid
// JSON for the library). It returns the update id.
func (s *Server) PushUpdate(raw json.RawMessage) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.allocUpdateIDLocked()
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err == nil && obj != nil {
		obj["update_id"] = json.RawMessage(strconv.FormatInt(id, 10))
		if b, err := json.Marshal(obj); err == nil {
			raw = b
		}
	}
	s.enqueueLocked(id, raw)
	return int(id)
}

// PushUpdateVerbatim queues raw exactly as given (its update_id, if any, is
// used for offset handling; duplicates and out-of-order ids are allowed). It
// returns the id used for ordering.
func (s *Server) PushUpdateVerbatim(raw json.RawMessage) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	var probe struct {
		ID *int64 `json:"update_id"`
	}
	var id int64
	if json.Unmarshal(raw, &probe) == nil && probe.ID != nil {
		id = *probe.ID
		if id >= s.nextUpdateID {
			s.nextUpdateID = id + 1
		}
	} else {
		id = s.allocUpdateIDLocked()
	}
	s.enqueueLocked(id, append(json.RawMessage(nil), raw...))
	return int(id)
}

// PushText queues a private text message from the default user of chatID, with
// bot_command entities for /commands. It returns the update id.
func (s *Server) PushText(chatID int64, text string) int {
	return s.PushTextFrom(s.DefaultUser(chatID), chatID, text)
}

// PushTextFrom queues a text message from user in chatID.
func (s *Server) PushTextFrom(user models.User, chatID int64, text string) int {
	return s.push(func(u *models.Update, msgID int, now int) {
		u.Message = s.incoming(user, chatID, msgID, now)
		u.Message.Text = text
		u.Message.Entities = CommandEntities(text)
	})
}

// PushPhoto queues a photo message with caption. A fake JPEG is registered so
// getFile and the file download work. It returns the update id.
func (s *Server) PushPhoto(chatID int64, caption string) int {
	user := s.DefaultUser(chatID)
	img := fakeJPEG()
	small := s.registerFile("photos", "photo_s.jpg", "image/jpeg", img)
	f := s.registerFile("photos", "photo.jpg", "image/jpeg", img)
	return s.push(func(u *models.Update, msgID int, now int) {
		u.Message = s.incoming(user, chatID, msgID, now)
		u.Message.Photo = []models.PhotoSize{
			{FileID: small.FileID, FileUniqueID: small.FileUniqueID, Width: 90, Height: 90, FileSize: len(img)},
			{FileID: f.FileID, FileUniqueID: f.FileUniqueID, Width: 320, Height: 320, FileSize: len(img)},
		}
		u.Message.Caption = caption
	})
}

// PushDocument queues a document message; data is served via getFile/download.
func (s *Server) PushDocument(chatID int64, fileName string, data []byte, caption string) int {
	user := s.DefaultUser(chatID)
	mimeType := mimeByName(fileName)
	f := s.registerFile("documents", fileName, mimeType, data)
	return s.push(func(u *models.Update, msgID int, now int) {
		u.Message = s.incoming(user, chatID, msgID, now)
		u.Message.Document = &models.Document{
			FileID: f.FileID, FileUniqueID: f.FileUniqueID, FileName: fileName,
			MimeType: mimeType, FileSize: int64(len(data)),
		}
		u.Message.Caption = caption
	})
}

// PushLocation queues a location message.
func (s *Server) PushLocation(chatID int64, lat, lon float64) int {
	user := s.DefaultUser(chatID)
	return s.push(func(u *models.Update, msgID int, now int) {
		u.Message = s.incoming(user, chatID, msgID, now)
		u.Message.Location = &models.Location{Latitude: lat, Longitude: lon}
	})
}

// PushSticker queues a sticker message.
func (s *Server) PushSticker(chatID int64, emoji string) int {
	user := s.DefaultUser(chatID)
	f := s.registerFile("stickers", "sticker.webp", "image/webp", []byte("RIFF\x00\x00\x00\x00WEBPVP8 "))
	return s.push(func(u *models.Update, msgID int, now int) {
		u.Message = s.incoming(user, chatID, msgID, now)
		u.Message.Sticker = &models.Sticker{
			FileID: f.FileID, FileUniqueID: f.FileUniqueID, Type: "regular",
			Width: 512, Height: 512, Emoji: emoji, SetName: "FakeStickers",
		}
	})
}

// PushVoice queues a voice message of the given duration (seconds).
func (s *Server) PushVoice(chatID int64, duration int) int {
	user := s.DefaultUser(chatID)
	data := []byte("OggS\x00\x02fake-opus-voice")
	f := s.registerFile("voice", "voice.oga", "audio/ogg", data)
	return s.push(func(u *models.Update, msgID int, now int) {
		u.Message = s.incoming(user, chatID, msgID, now)
		u.Message.Voice = &models.Voice{
			FileID: f.FileID, FileUniqueID: f.FileUniqueID, Duration: duration,
			MimeType: "audio/ogg", FileSize: int64(len(data)),
		}
	})
}

// PushCallback queues a button press on message messageID in chatID by the
// default user. The embedded message is the bot's message as sent (if the server
// knows it) and always has a non-zero date. It returns the update id; the
// callback query id is unique per server (see UnansweredCallbacks).
func (s *Server) PushCallback(chatID int64, messageID int, data string) int {
	return s.PushCallbackFrom(s.DefaultUser(chatID), chatID, messageID, data)
}

// PushCallbackFrom is PushCallback for a given user.
func (s *Server) PushCallbackFrom(user models.User, chatID int64, messageID int, data string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.callbackUpdateLocked(user, chatID, messageID, data)
	raw, _ := json.Marshal(u)
	s.enqueueLocked(u.ID, raw)
	return int(u.ID)
}

// TextUpdate builds (without queueing) a text update with the next update id, e.g.
// for DeliverWebhook.
func (s *Server) TextUpdate(chatID int64, text string) *models.Update {
	user := s.DefaultUser(chatID)
	s.mu.Lock()
	defer s.mu.Unlock()
	u := &models.Update{ID: s.allocUpdateIDLocked()}
	u.Message = s.incoming(user, chatID, s.allocMessageIDLocked(), int(time.Now().Unix()))
	u.Message.Text = text
	u.Message.Entities = CommandEntities(text)
	return u
}

// CallbackUpdate builds (without queueing) a callback query update, e.g. for
// DeliverWebhook. The callback query id is registered for answerCallbackQuery.
func (s *Server) CallbackUpdate(chatID int64, messageID int, data string) *models.Update {
	user := s.DefaultUser(chatID)
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.callbackUpdateLocked(user, chatID, messageID, data)
}

func (s *Server) callbackUpdateLocked(user models.User, chatID int64, messageID int, data string) *models.Update {
	s.nextCallback++
	cbID := strconv.FormatInt(4_000_000_000_000_000+s.nextCallback, 10)
	s.callbacks[cbID] = &callbackState{chatID: chatID, messageID: messageID, data: data}
	now := int(time.Now().Unix())
	msg := &models.Message{ID: messageID, From: &s.botUser, Date: now, Chat: chatFor(chatID, "", user)}
	if st := s.messages[msgKey{chatID, messageID}]; st != nil && !st.deleted {
		msg.Date = st.date
		if st.kind == "text" {
			msg.Text = st.PlainText
		} else {
			msg.Caption = st.PlainText
		}
		if st.ReplyMarkup != nil && len(st.ReplyMarkup.InlineKeyboard) > 0 {
			msg.ReplyMarkup = &models.InlineKeyboardMarkup{InlineKeyboard: st.ReplyMarkup.InlineKeyboard}
		}
		if st.editDate != 0 {
			msg.EditDate = st.editDate
		}
	}
	return &models.Update{
		ID: s.allocUpdateIDLocked(),
		CallbackQuery: &models.CallbackQuery{
			ID:           cbID,
			From:         user,
			Message:      models.MaybeInaccessibleMessage{Type: models.MaybeInaccessibleMessageTypeMessage, Message: msg},
			ChatInstance: strconv.FormatInt(chatID*7919+13, 10),
			Data:         data,
		},
	}
}

// UnansweredCallbacks returns the ids of callback queries not answered yet.
func (s *Server) UnansweredCallbacks() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for id, c := range s.callbacks {
		if !c.answered {
			out = append(out, id)
		}
	}
	return out
}

// DefaultUser returns the user the Push helpers use for chatID: the chat's owner
// for private chats (positive ids), a fixed user otherwise.
func (s *Server) DefaultUser(chatID int64) models.User {
	id := chatID
	if id <= 0 {
		id = 4242
	}
	return models.User{
		ID: id, FirstName: "Erika", LastName: "Mustermann",
		Username: "user" + strconv.FormatInt(id, 10), LanguageCode: s.cfg.defaultLang,
	}
}

// push allocates ids, builds, marshals and queues an update.
func (s *Server) push(build func(u *models.Update, msgID int, now int)) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := &models.Update{ID: s.allocUpdateIDLocked()}
	build(u, s.allocMessageIDLocked(), int(time.Now().Unix()))
	raw, _ := json.Marshal(u)
	s.enqueueLocked(u.ID, raw)
	return int(u.ID)
}

func (s *Server) incoming(user models.User, chatID int64, msgID, now int) *models.Message {
	from := user
	return &models.Message{ID: msgID, From: &from, Date: now, Chat: chatFor(chatID, "", user)}
}

func (s *Server) allocUpdateIDLocked() int64 {
	id := s.nextUpdateID
	s.nextUpdateID++
	return id
}

func (s *Server) allocMessageIDLocked() int {
	id := s.nextMessageID
	s.nextMessageID++
	return id
}

func (s *Server) enqueueLocked(id int64, raw json.RawMessage) {
	s.queue = append(s.queue, queuedUpdate{id: id, raw: raw})
	s.notifyLocked()
}

// chatFor builds the Chat object for a chat id: private for positive ids, group or
// supergroup (-100...) for negative ones, channel for "@name" refs.
func chatFor(id int64, ref string, user models.User) models.Chat {
	switch {
	case strings.HasPrefix(ref, "@"):
		return models.Chat{ID: id, Type: models.ChatTypeChannel, Username: ref[1:], Title: ref[1:]}
	case id > 0:
		return models.Chat{ID: id, Type: models.ChatTypePrivate, FirstName: user.FirstName, LastName: user.LastName, Username: user.Username}
	case id <= -1_000_000_000_000:
		return models.Chat{ID: id, Type: models.ChatTypeSupergroup, Title: "Test supergroup"}
	default:
		return models.Chat{ID: id, Type: models.ChatTypeGroup, Title: "Test group"}
	}
}

// channelID maps "@name" to a stable fake channel id.
func channelID(ref string) int64 {
	h := fnv.New32a()
	_, _ = h.Write([]byte(strings.ToLower(ref)))
	return -1_000_000_000_000 - int64(h.Sum32())
}

// CommandEntities returns bot_command entities (offsets and lengths in UTF-16
// units) for every "/command" or "/command@botname" that starts the text or
// follows whitespace, as Telegram computes them.
func CommandEntities(text string) []models.MessageEntity {
	var out []models.MessageEntity
	utf16Pos := 0
	prevSpace := true
	for i := 0; i < len(text); {
		c := text[i]
		if c == '/' && prevSpace {
			j := i + 1
			for j < len(text) && j-i-1 < 64 && isCmdChar(text[j]) {
				j++
			}
			if j > i+1 && j-i-1 <= 32 {
				if j < len(text) && text[j] == '@' {
					k := j + 1
					for k < len(text) && isCmdChar(text[k]) {
						k++
					}
					if k > j+1 {
						j = k
					}
				}
				if j == len(text) || !isCmdChar(text[j]) && text[j] != '/' {
					out = append(out, models.MessageEntity{
						Type: models.MessageEntityTypeBotCommand, Offset: utf16Pos, Length: j - i,
					})
					utf16Pos += j - i // ASCII only
					i = j
					prevSpace = false
					continue
				}
			}
		}
		r, size := utf8.DecodeRuneInString(text[i:])
		utf16Pos += utf16.RuneLen(r)
		prevSpace = r == ' ' || r == '\n' || r == '\t' || r == '\r'
		i += size
	}
	return out
}

func isCmdChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}

// ---- webhook ----

// Webhook returns the URL and secret recorded by the last setWebhook ("" if none).
func (s *Server) Webhook() (url, secret string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.webhook.url, s.webhook.secret
}

// DeliverWebhook posts update (json.RawMessage, []byte, string or any value
// marshalled to JSON) to url as Telegram does: Content-Type application/json and,
// if secret is not empty, the X-Telegram-Bot-Api-Secret-Token header. It returns
// the HTTP status of the answer.
func (s *Server) DeliverWebhook(url, secret string, update any) (int, error) {
	var body []byte
	switch v := update.(type) {
	case json.RawMessage:
		body = v
	case []byte:
		body = v
	case string:
		body = []byte(v)
	default:
		b, err := json.Marshal(v)
		if err != nil {
			return 0, fmt.Errorf("tgfake: marshal update: %w", err)
		}
		body = b
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("tgfake: webhook request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	if secret != "" {
		req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, fmt.Errorf("tgfake: deliver webhook: %w", err)
	}
	defer resp.Body.Close()
	_, _ = bytes.NewBuffer(nil).ReadFrom(resp.Body)
	return resp.StatusCode, nil
}

// FlushWebhook delivers the queued updates, in order, to the webhook registered
// with setWebhook (with its secret). Each update answered with 2xx is removed from
// the queue; delivery stops at the first other answer, which is returned as an
// error (Telegram would retry it later). It returns the number delivered.
func (s *Server) FlushWebhook() (int, error) {
	delivered := 0
	for {
		s.mu.Lock()
		url, secret := s.webhook.url, s.webhook.secret
		if url == "" {
			s.mu.Unlock()
			return delivered, fmt.Errorf("tgfake: no webhook set")
		}
		if len(s.queue) == 0 {
			s.mu.Unlock()
			return delivered, nil
		}
		u := s.queue[0]
		s.mu.Unlock()
		status, err := s.DeliverWebhook(url, secret, u.raw)
		if err != nil {
			return delivered, err
		}
		if status < 200 || status > 299 {
			return delivered, fmt.Errorf("tgfake: webhook answered %d for update %d", status, u.id)
		}
		s.mu.Lock()
		if len(s.queue) > 0 && s.queue[0].id == u.id {
			s.queue = s.queue[1:]
			s.notifyLocked()
		}
		s.mu.Unlock()
		delivered++
	}
}
