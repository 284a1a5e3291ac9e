package tgfake

import (
	"encoding/json"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/go-telegram/bot/models"
)

type methodFunc func(s *Server, w http.ResponseWriter, r *http.Request, req *request) (any, Failure)

type methodHandler struct {
	name string // canonical method name
	fn   methodFunc
}

// methodTable maps lower-case method names to handlers. It is never modified.
var methodTable = func() map[string]methodHandler {
	list := []methodHandler{
		{"getMe", (*Server).getMe},
		{"getUpdates", (*Server).getUpdates},
		{"setWebhook", (*Server).setWebhook},
		{"deleteWebhook", (*Server).deleteWebhook},
		{"getWebhookInfo", (*Server).getWebhookInfo},
		{"sendMessage", (*Server).sendMessage},
		{"sendPhoto", (*Server).sendPhoto},
		{"sendDocument", (*Server).sendDocument},
		{"editMessageText", (*Server).editMessageText},
		{"editMessageReplyMarkup", (*Server).editMessageReplyMarkup},
		{"answerCallbackQuery", (*Server).answerCallbackQuery},
		{"setMyCommands", (*Server).setMyCommands},
		{"deleteMyCommands", (*Server).deleteMyCommands},
		{"deleteMessage", (*Server).deleteMessage},
		{"getFile", (*Server).getFile},
		{"sendChatAction", (*Server).sendChatAction},
	}
	m := make(map[string]methodHandler, len(list))
	for _, h := range list {
		m[strings.ToLower(h.name)] = h
	}
	return m
}()

const (
	maxTextLen    = 4096
	maxCaptionLen = 1024
	maxButtonData = 64

	errTextEmpty      = "Bad Request: message text is empty"
	errTextTooLong    = "Bad Request: message is too long"
	errCaptionTooLong = "Bad Request: message caption is too long"
	errEditNotFound   = "Bad Request: message to edit not found"
	errDeleteNotFound = "Bad Request: message to delete not found"
	errNotModified    = "Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message"
	errButtonData     = "Bad Request: BUTTON_DATA_INVALID"
	errQueryInvalid   = "Bad Request: query is too old and response timeout expired or query ID is invalid"
)

func badRequest(desc string) Failure { return Failure{Code: http.StatusBadRequest, Description: desc} }

type msgKey struct {
	chat int64
	id   int
}

type msgState struct {
	SentMessage
	date     int
	editDate int
	kind     string // "text", "photo", "document"
	deleted  bool
}

type callbackState struct {
	chatID    int64
	messageID int
	data      string
	answered  bool
}

// ---- simple methods ----

func (s *Server) getMe(_ http.ResponseWriter, _ *http.Request, _ *request) (any, Failure) {
	u := s.botUser
	return &u, Failure{}
}

func (s *Server) setWebhook(_ http.ResponseWriter, _ *http.Request, req *request) (any, Failure) {
	secret := req.get("secret_token")
	if secret != "" {
		if len(secret) > 256 || strings.IndexFunc(secret, func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-')
		}) >= 0 {
			return nil, badRequest("Bad Request: secret token contains unallowed characters")
		}
	}
	u := req.get("url")
	if u != "" {
		pu, err := url.Parse(u)
		if err != nil || pu.Host == "" || (pu.Scheme != "https" && pu.Scheme != "http") {
			return nil, badRequest("Bad Request: bad webhook: Failed to resolve host: invalid URL")
		}
	}
	var allowed []string
	if v := req.get("allowed_updates"); v != "" {
		_ = json.Unmarshal([]byte(v), &allowed)
	}
	maxConn, _ := strconv.Atoi(req.get("max_connections"))
	s.mu.Lock()
	defer s.mu.Unlock()
	if u == "" {
		s.webhook = webhookState{}
	} else {
		s.webhook = webhookState{url: u, secret: secret, maxConnections: maxConn, allowedUpdates: allowed}
	}
	if parseBool(req.get("drop_pending_updates")) {
		s.queue = nil
	}
	s.notifyLocked()
	return true, Failure{}
}

func (s *Server) deleteWebhook(_ http.ResponseWriter, _ *http.Request, req *request) (any, Failure) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.webhook = webhookState{}
	if parseBool(req.get("drop_pending_updates")) {
		s.queue = nil
	}
	s.notifyLocked()
	return true, Failure{}
}

func (s *Server) getWebhookInfo(_ http.ResponseWriter, _ *http.Request, _ *request) (any, Failure) {
	s.mu.Lock()
	defer s.mu.Unlock()
	info := &models.WebhookInfo{URL: s.webhook.url, AllowedUpdates: s.webhook.allowedUpdates}
	if s.webhook.url != "" {
		info.PendingUpdateCount = len(s.queue)
		info.MaxConnections = s.webhook.maxConnections
		if info.MaxConnections == 0 {
			info.MaxConnections = 40
		}
	}
	return info, Failure{}
}

func (s *Server) answerCallbackQuery(_ http.ResponseWriter, _ *http.Request, req *request) (any, Failure) {
	id := req.get("callback_query_id")
	if UTF16Len(req.get("text")) > 200 {
		return nil, badRequest("Bad Request: MESSAGE_TOO_LONG")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cb := s.callbacks[id]
	if cb == nil || cb.answered {
		return nil, badRequest(errQueryInvalid)
	}
	cb.answered = true
	return true, Failure{}
}

func (s *Server) setMyCommands(_ http.ResponseWriter, _ *http.Request, req *request) (any, Failure) {
	var cmds []models.BotCommand
	if err := json.Unmarshal([]byte(req.get("commands")), &cmds); err != nil {
		return nil, badRequest("Bad Request: can't parse commands JSON object")
	}
	if len(cmds) > 100 {
		return nil, badRequest("Bad Request: too many commands")
	}
	for _, c := range cmds {
		if len(c.Command) < 1 || len(c.Command) > 32 || strings.IndexFunc(c.Command, func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_')
		}) >= 0 {
			return nil, badRequest("Bad Request: BOT_COMMAND_INVALID")
		}
		if n := UTF16Len(strings.TrimSpace(c.Description)); n < 1 || n > 256 {
			return nil, badRequest("Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
		}
	}
	scope := commandScope(req)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.commands == nil {
		s.commands = make(map[string][]models.BotCommand)
	}
	s.commands[scope+"/"+req.get("language_code")] = cmds
	return true, Failure{}
}

func (s *Server) deleteMyCommands(_ http.ResponseWriter, _ *http.Request, req *request) (any, Failure) {
	key := commandScope(req) + "/" + req.get("language_code")
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.commands, key)
	return true, Failure{}
}

// commandScope is the key of a request's command scope: its type, and for
// the scope "chat" "chat:<chat_id>".
func commandScope(req *request) string {
	v := req.get("scope")
	if v == "" {
		return "default"
	}
	var sc struct {
		Type   string          `json:"type"`
		ChatID json.RawMessage `json:"chat_id"`
	}
	if json.Unmarshal([]byte(v), &sc) != nil || sc.Type == "" {
		return "default"
	}
	if sc.Type == "chat" {
		return "chat:" + strings.Trim(string(sc.ChatID), `"`)
	}
	return sc.Type
}

// MyCommands returns the commands last set with setMyCommands for the scope type
// ("" or "default", "all_private_chats", ..., "chat:<chat_id>") and language
// code ("" for all); deleteMyCommands removes them.
func (s *Server) MyCommands(scopeType, languageCode string) []models.BotCommand {
	if scopeType == "" {
		scopeType = "default"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]models.BotCommand(nil), s.commands[scopeType+"/"+languageCode]...)
}

func (s *Server) getFile(_ http.ResponseWriter, _ *http.Request, req *request) (any, Failure) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.files[req.get("file_id")]
	if f == nil {
		return nil, badRequest("Bad Request: invalid file_id")
	}
	file := f.File
	return &file, Failure{}
}

var chatActions = map[string]bool{
	"typing": true, "upload_photo": true, "record_video": true, "upload_video": true,
	"record_voice": true, "upload_voice": true, "upload_document": true, "choose_sticker": true,
	"find_location": true, "record_video_note": true, "upload_video_note": true,
}

func (s *Server) sendChatAction(_ http.ResponseWriter, _ *http.Request, req *request) (any, Failure) {
	if _, _, f := chatParam(req); f.Code != 0 {
		return nil, f
	}
	if !chatActions[req.get("action")] {
		return nil, badRequest("Bad Request: wrong parameter action in request")
	}
	return true, Failure{}
}

// ---- sending ----

func (s *Server) sendMessage(_ http.ResponseWriter, _ *http.Request, req *request) (any, Failure) {
	chatID, ref, f := chatParam(req)
	if f.Code != 0 {
		return nil, f
	}
	text, pm := req.get("text"), req.get("parse_mode")
	plain, f := checkText(text, pm, maxTextLen, true, s.cfg.lenientAmp)
	if f.Code != 0 {
		return nil, f
	}
	markup, f := parseMarkup(req.get("reply_markup"))
	if f.Code != 0 {
		return nil, f
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.storeSentLocked(req, "sendMessage", "text", chatID, ref, text, plain, pm, markup)
	msg := s.messageLocked(st)
	return msg, Failure{}
}

func (s *Server) sendPhoto(_ http.ResponseWriter, _ *http.Request, req *request) (any, Failure) {
	return s.sendMedia(req, "sendPhoto", "photo")
}

func (s *Server) sendDocument(_ http.ResponseWriter, _ *http.Request, req *request) (any, Failure) {
	return s.sendMedia(req, "sendDocument", "document")
}

func (s *Server) sendMedia(req *request, method, field string) (any, Failure) {
	chatID, ref, f := chatParam(req)
	if f.Code != 0 {
		return nil, f
	}
	upload := req.file(field)
	ref2 := req.get(field)
	if upload == nil && strings.HasPrefix(ref2, "attach://") {
		upload = req.file(strings.TrimPrefix(ref2, "attach://"))
	}
	if upload == nil && ref2 == "" {
		return nil, badRequest("Bad Request: there is no " + field + " in the request")
	}
	caption, pm := req.get("caption"), req.get("parse_mode")
	plain, f := checkText(caption, pm, maxCaptionLen, false, s.cfg.lenientAmp)
	if f.Code == 0 && UTF16Len(plain) > maxCaptionLen {
		f = badRequest(errCaptionTooLong)
	}
	if f.Code != 0 {
		if f.Description == errTextTooLong {
			f.Description = errCaptionTooLong
		}
		return nil, f
	}
	markup, f := parseMarkup(req.get("reply_markup"))
	if f.Code != 0 {
		return nil, f
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var file *storedFile
	switch {
	case upload != nil:
		file = s.registerFileLocked(field+"s", upload.Filename, mimeByName(upload.Filename), upload.Data)
	case s.files[ref2] != nil:
		file = s.files[ref2]
	case strings.HasPrefix(ref2, "http://") || strings.HasPrefix(ref2, "https://"):
		name := ref2[strings.LastIndexByte(ref2, '/')+1:]
		file = s.registerFileLocked(field+"s", name, mimeByName(name), nil)
	default:
		return nil, badRequest("Bad Request: wrong file identifier/HTTP URL specified")
	}
	st := s.storeSentLocked(req, method, field, chatID, ref, caption, plain, pm, markup)
	msg := s.messageLocked(st)
	msg.Text = ""
	msg.Caption = plain
	if field == "photo" {
		msg.Photo = []models.PhotoSize{{FileID: file.FileID, FileUniqueID: file.FileUniqueID, Width: 320, Height: 320, FileSize: int(file.FileSize)}}
	} else {
		name := ""
		if upload != nil {
			name = upload.Filename
		}
		msg.Document = &models.Document{FileID: file.FileID, FileUniqueID: file.FileUniqueID, FileName: name, MimeType: file.contentType, FileSize: file.FileSize}
	}
	return msg, Failure{}
}

// storeSentLocked assigns a message id and records the message. Callers hold s.mu.
func (s *Server) storeSentLocked(req *request, method, kind string, chatID int64, ref, text, plain, pm string, markup *ReplyMarkup) *msgState {
	now := time.Now()
	st := &msgState{
		SentMessage: SentMessage{
			Method: method, ChatID: chatID, ChatRef: ref, MessageID: s.allocMessageIDLocked(),
			Text: text, PlainText: plain, ParseMode: pm, ReplyMarkup: markup,
			Params: req.params, Files: req.files, Time: now,
		},
		date: int(now.Unix()),
		kind: kind,
	}
	if s.record {
		s.messages[msgKey{chatID, st.MessageID}] = st
	}
	s.recordSentLocked(st.SentMessage)
	return st
}

// messageLocked builds the Message object returned for a stored message.
func (s *Server) messageLocked(st *msgState) *models.Message {
	from := s.botUser
	msg := &models.Message{
		ID: st.MessageID, From: &from, Date: st.date, EditDate: st.editDate,
		Chat: chatFor(st.ChatID, st.ChatRef, s.DefaultUser(st.ChatID)),
		Text: st.PlainText,
	}
	if st.ReplyMarkup != nil && len(st.ReplyMarkup.InlineKeyboard) > 0 {
		msg.ReplyMarkup = &models.InlineKeyboardMarkup{InlineKeyboard: st.ReplyMarkup.InlineKeyboard}
	}
	return msg
}

// ---- editing and deleting ----

// lookupLocked finds a message for edit/delete. In counter-only mode contents are
// not kept: any id the server assigned is accepted with an empty state.
func (s *Server) lookupLocked(chatID int64, id int) *msgState {
	if st := s.messages[msgKey{chatID, id}]; st != nil {
		if st.deleted {
			return nil
		}
		return st
	}
	if !s.record && id >= s.cfg.firstMessageID && id < s.nextMessageID {
		return &msgState{SentMessage: SentMessage{ChatID: chatID, MessageID: id}, kind: "unknown", date: int(time.Now().Unix())}
	}
	return nil
}

func (s *Server) editTarget(req *request) (chatID int64, id int, inline bool, f Failure) {
	if req.get("inline_message_id") != "" {
		return 0, 0, true, Failure{}
	}
	chatID, _, f = chatParam(req)
	if f.Code != 0 {
		return 0, 0, false, f
	}
	id, err := strconv.Atoi(req.get("message_id"))
	if err != nil || id <= 0 {
		return 0, 0, false, badRequest(errEditNotFound)
	}
	return chatID, id, false, Failure{}
}

func (s *Server) editMessageText(_ http.ResponseWriter, _ *http.Request, req *request) (any, Failure) {
	chatID, id, inline, f := s.editTarget(req)
	if f.Code != 0 {
		return nil, f
	}
	text, pm := req.get("text"), req.get("parse_mode")
	plain, f := checkText(text, pm, maxTextLen, true, s.cfg.lenientAmp)
	if f.Code != 0 {
		return nil, f
	}
	markup, f := parseMarkup(req.get("reply_markup"))
	if f.Code != 0 {
		return nil, f
	}
	if inline {
		return true, Failure{}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.lookupLocked(chatID, id)
	if st == nil {
		return nil, badRequest(errEditNotFound)
	}
	if st.kind == "photo" || st.kind == "document" {
		return nil, badRequest("Bad Request: there is no text in the message to edit")
	}
	if st.kind != "unknown" && st.PlainText == plain && st.Text == text && sameMarkup(st.ReplyMarkup, markup) {
		return nil, badRequest(errNotModified)
	}
	st.Text, st.PlainText, st.ParseMode, st.ReplyMarkup = text, plain, pm, markup
	st.Params = req.params
	st.Edits++
	st.editDate = int(time.Now().Unix())
	return s.messageLocked(st), Failure{}
}

func (s *Server) editMessageReplyMarkup(_ http.ResponseWriter, _ *http.Request, req *request) (any, Failure) {
	chatID, id, inline, f := s.editTarget(req)
	if f.Code != 0 {
		return nil, f
	}
	markup, f := parseMarkup(req.get("reply_markup"))
	if f.Code != 0 {
		return nil, f
	}
	if inline {
		return true, Failure{}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.lookupLocked(chatID, id)
	if st == nil {
		return nil, badRequest(errEditNotFound)
	}
	if st.kind != "unknown" && sameMarkup(st.ReplyMarkup, markup) {
		return nil, badRequest(errNotModified)
	}
	st.ReplyMarkup = markup
	st.Edits++
	st.editDate = int(time.Now().Unix())
	msg := s.messageLocked(st)
	if st.kind == "photo" || st.kind == "document" {
		msg.Text, msg.Caption = "", st.PlainText
	}
	return msg, Failure{}
}

func (s *Server) deleteMessage(_ http.ResponseWriter, _ *http.Request, req *request) (any, Failure) {
	chatID, _, f := chatParam(req)
	if f.Code != 0 {
		return nil, f
	}
	id, err := strconv.Atoi(req.get("message_id"))
	if err != nil {
		return nil, badRequest(errDeleteNotFound)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.lookupLocked(chatID, id)
	if st == nil {
		return nil, badRequest(errDeleteNotFound)
	}
	st.deleted = true
	st.Deleted = true
	return true, Failure{}
}

// Message returns the current state of a message the bot sent (after edits and
// deletion; see SentMessage.Edits and Deleted). Only available while recording.
func (s *Server) Message(chatID int64, messageID int) (SentMessage, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.messages[msgKey{chatID, messageID}]
	if st == nil {
		return SentMessage{}, false
	}
	return st.SentMessage, true
}

// ---- validation helpers ----

// chatParam parses chat_id: a number or "@channelusername".
func chatParam(req *request) (int64, string, Failure) {
	ref := strings.TrimSpace(req.get("chat_id"))
	if ref == "" {
		return 0, "", badRequest("Bad Request: chat_id is empty")
	}
	if strings.HasPrefix(ref, "@") && len(ref) > 1 {
		return channelID(ref), ref, Failure{}
	}
	id, err := strconv.ParseInt(ref, 10, 64)
	if err != nil || id == 0 {
		return 0, ref, badRequest("Bad Request: chat not found")
	}
	return id, ref, Failure{}
}

// checkText validates a message text or caption for parse mode pm and returns the
// plain text. required makes empty (or whitespace-only) text an error.
func checkText(text, pm string, limit int, required, lenientAmp bool) (string, Failure) {
	if required && text == "" {
		return "", badRequest(errTextEmpty)
	}
	plain := text
	switch strings.ToLower(pm) {
	case "":
	case "html":
		p, err := ParseHTML(text, lenientAmp)
		if err != nil {
			return "", badRequest("Bad Request: can't parse entities: " + err.Error())
		}
		plain = p
	case "markdown", "markdownv2":
		// Accepted without validation.
	default:
		return "", badRequest("Bad Request: unsupported parse_mode")
	}
	if required && strings.TrimFunc(plain, unicode.IsSpace) == "" {
		return "", badRequest(errTextEmpty)
	}
	if UTF16Len(plain) > limit {
		return "", badRequest(errTextTooLong)
	}
	return plain, Failure{}
}

// parseMarkup parses and validates reply_markup ("" means none).
func parseMarkup(raw string) (*ReplyMarkup, Failure) {
	if strings.TrimSpace(raw) == "" {
		return nil, Failure{}
	}
	m := &ReplyMarkup{Raw: raw}
	if err := json.Unmarshal([]byte(raw), m); err != nil {
		return nil, badRequest("Bad Request: can't parse reply keyboard markup JSON object")
	}
	for _, row := range m.InlineKeyboard {
		for _, b := range row {
			if b.Text == "" {
				return nil, badRequest("Bad Request: can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard")
			}
			if len(b.CallbackData) > maxButtonData {
				return nil, badRequest(errButtonData)
			}
			if b.URL != "" {
				u, err := url.Parse(b.URL)
				if err != nil || !(u.Scheme == "tg" || (u.Scheme == "http" || u.Scheme == "https") && u.Host != "") {
					return nil, badRequest("Bad Request: inline keyboard button URL '" + b.URL + "' is invalid: Wrong HTTP URL")
				}
			}
			if b.CallbackData == "" && b.URL == "" && b.WebApp == nil && b.LoginURL == nil &&
				b.SwitchInlineQuery == "" && b.SwitchInlineQueryCurrentChat == "" &&
				b.SwitchInlineQueryChosenChat == nil && b.CopyText.Text == "" &&
				b.CallbackGame == nil && !b.Pay {
				return nil, badRequest("Bad Request: can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard")
			}
		}
	}
	return m, Failure{}
}

func sameMarkup(a, b *ReplyMarkup) bool {
	empty := func(m *ReplyMarkup) bool { return m == nil || len(m.InlineKeyboard) == 0 }
	if empty(a) || empty(b) {
		return empty(a) == empty(b)
	}
	return reflect.DeepEqual(a.InlineKeyboard, b.InlineKeyboard)
}

func parseBool(v string) bool {
	b, _ := strconv.ParseBool(v)
	return b
}
