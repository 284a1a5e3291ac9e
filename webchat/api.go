package webchat

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"

	"citybot/bot"
	"citybot/internal/apperr"
	"citybot/internal/db"
	"citybot/routing"
)

// maxBody bounds a POST body: 2,000 characters of up to 4 bytes, JSON
// escaping and the other fields fit.
const maxBody = 16 << 10

// maxData is the longest button data (Telegram's limit, which the engine's
// buttons keep).
const maxData = 64

// problem is an error answer: its kind (the HTTP status is
// apperr.HTTPStatus of it), a code for the widget and the arguments of its
// text (problem.<code> in the catalogues, German and English; the widget
// shows it).
type problem struct {
	kind apperr.Kind
	code string
	args []any
}

func (p problem) status() int { return apperr.HTTPStatus(p.kind) }

// text is the problem's message in lang.
func (p problem) text(lang string) string {
	return messages.Text(lang, "problem."+p.code, p.args...)
}

var (
	probTooLong     = func(n int) problem { return problem{apperr.TooLarge, "too_long", []any{n}} }
	probRate        = problem{kind: apperr.RateLimited, code: "rate_limited"}
	probInvalid     = problem{kind: apperr.Invalid, code: "invalid"}
	probToken       = problem{kind: apperr.Unauthorized, code: "unknown_token"}
	probOrigin      = problem{kind: apperr.Forbidden, code: "origin"}
	probPoW         = problem{kind: apperr.Forbidden, code: "pow"}
	probHandoffPoW  = problem{kind: apperr.Forbidden, code: "pow_handoff"}
	probUnavailable = problem{kind: apperr.Unavailable, code: "unavailable"}
)

func writeProblem(w http.ResponseWriter, p problem) {
	if p.kind == apperr.RateLimited {
		w.Header().Set("Retry-After", "60")
	}
	writeJSON(w, p.status(), map[string]string{"error": p.code, "message": p.text("de"), "message_en": p.text("en")})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// api wraps an API handler: CORS for the allowed origins (preflight
// included), the method, no caching.
func (s *Service) api(method string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		if origin := r.Header.Get("Origin"); origin != "" {
			w.Header().Add("Vary", "Origin")
			if !s.allowedOrigin(r, origin) {
				writeProblem(w, probOrigin)
				return
			}
			w.Header().Set("Access-Control-Allow-Origin", origin)
			w.Header().Set("Access-Control-Expose-Headers", "Retry-After")
		}
		if r.Method == http.MethodOptions {
			w.Header().Set("Access-Control-Allow-Methods", method)
			w.Header().Set("Access-Control-Allow-Headers", "Authorization, Content-Type, Last-Event-ID")
			w.Header().Set("Access-Control-Max-Age", "600")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		if r.Method != method {
			w.Header().Set("Allow", method+", OPTIONS")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		h(w, r)
	}
}

// allowedOrigin: the configured origins and citybot's own.
func (s *Service) allowedOrigin(r *http.Request, origin string) bool {
	origin = strings.ToLower(origin)
	if s.origins[origin] {
		return true
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return origin == scheme+"://"+strings.ToLower(r.Host)
}

// clientAddr is the client's address: the peer, or behind a trusted proxy
// the last X-Forwarded-For entry that is not a trusted proxy.
func (s *Service) clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil || !s.trusted(peer) {
		return host
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break
		}
		if !s.trusted(a) {
			return a.String()
		}
	}
	return host
}

func (s *Service) trusted(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range s.proxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// conversation is a row of webchat_conversations.
type conversation struct {
	ID int64 `db:"id"`
}

func hashToken(tok string) []byte {
	h := sha256.Sum256([]byte(tok))
	return h[:]
}

func newToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// bearer is the token of the Authorization header, "" if none.
func bearer(r *http.Request) string {
	a := r.Header.Get("Authorization")
	if len(a) > 7 && strings.EqualFold(a[:7], "bearer ") {
		return strings.TrimSpace(a[7:])
	}
	return ""
}

// lookup finds the conversation of a token.
func (s *Service) lookup(ctx context.Context, tok string) (conversation, error) {
	var c conversation
	if tok == "" || len(tok) > 100 {
		return c, ErrUnauthorized
	}
	err := s.db.GetContext(ctx, &c, `SELECT id FROM webchat_conversations WHERE token_hash = $1`, hashToken(tok))
	if db.IsNoRows(err) {
		return c, ErrUnauthorized
	}
	if err != nil {
		return c, fmt.Errorf("webchat: conversation: %w", err)
	}
	return c, nil
}

// inbound is the body of POST /chat/api/messages.
type inbound struct {
	Text     string `json:"text"`
	Data     string `json:"data"`  // a pressed button's data
	Label    string `json:"label"` // the pressed button's label, for the transcript
	Ref      int64  `json:"ref"`   // the event whose button was pressed
	ClientID string `json:"client_id"`
	Lang     string `json:"lang"`
	// PoW is the proof of work of a new conversation: "salt:unix-time:nonce".
	PoW string `json:"pow"`
}

// postMessage takes a citizen's message: it stores it and runs the dialog
// engine in one transaction. Without a token it starts a conversation and
// returns the token.
func (s *Service) postMessage(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	var in inbound
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeProblem(w, probTooLong(s.cfg.MaxTextLen))
			return
		}
		writeProblem(w, probInvalid)
		return
	}
	if p, ok := s.validate(&in); !ok {
		writeProblem(w, p)
		return
	}
	addr := s.clientAddr(r)
	if !s.addrMsg.allow(addr) {
		writeProblem(w, probRate)
		return
	}
	ctx := r.Context()
	tok := bearer(r)
	newTok := ""
	var conv conversation
	var err error
	if tok == "" {
		if !s.validPoW(in.PoW, time.Now()) {
			s.writePoWProblem(w)
			return
		}
		if !s.addrNew.allow(addr) {
			writeProblem(w, probRate)
			return
		}
		newTok = newToken()
	} else if conv, err = s.lookup(ctx, tok); err != nil {
		if errors.Is(err, ErrUnauthorized) {
			writeProblem(w, probToken)
		} else {
			s.log.Error("webchat: lookup", "err", err)
			writeProblem(w, probUnavailable)
		}
		return
	}
	id, err := s.receive(ctx, &conv, newTok, in)
	switch {
	case err == nil:
	case errors.Is(err, ErrRateLimited):
		writeProblem(w, probRate)
		return
	case errors.Is(err, errPoWUsed):
		s.writePoWProblem(w)
		return
	case errors.Is(err, errHandoffPoW):
		writeJSON(w, probHandoffPoW.status(), map[string]any{"error": probHandoffPoW.code,
			"message": probHandoffPoW.text("de"), "message_en": probHandoffPoW.text("en"),
			"bits": s.cfg.ProofOfWork, "challenge": handoffChallenge(conv.ID, in.ClientID), "time": time.Now().Unix()})
		return
	default:
		s.log.Error("webchat: handle message", "err", err)
		writeProblem(w, probUnavailable)
		return
	}
	s.hub.wake(conv.ID)
	s.wakeDelivery()
	out := map[string]any{"id": id}
	if newTok != "" {
		out["token"] = newTok
	}
	writeJSON(w, http.StatusOK, out)
}

// validate checks and normalises a message.
func (s *Service) validate(in *inbound) (problem, bool) {
	in.Text = strings.TrimSpace(in.Text)
	switch {
	case !utf8.ValidString(in.Text) || !utf8.ValidString(in.Data) || !utf8.ValidString(in.Label):
		return probInvalid, false
	case (in.Text == "") == (in.Data == ""):
		return probInvalid, false
	case utf8.RuneCountInString(in.Text) > s.cfg.MaxTextLen:
		return probTooLong(s.cfg.MaxTextLen), false
	case len(in.Data) > maxData, len(in.ClientID) > 64, in.Ref < 0:
		return probInvalid, false
	}
	in.Text = strings.ReplaceAll(in.Text, "\x00", "")
	if r := []rune(in.Label); len(r) > 100 {
		in.Label = string(r[:100])
	}
	if len(in.Lang) > 16 {
		in.Lang = ""
	}
	return problem{}, true
}

// citizenPayload is what a citizen's event shows.
type citizenPayload struct {
	Text string `json:"text"`
}

// receive stores the message and runs the engine, in one transaction.
// With newTok it first creates the conversation (conv is set). It returns
// the citizen event's id.
func (s *Service) receive(ctx context.Context, conv *conversation, newTok string, in inbound) (int64, error) {
	var id int64
	err := db.InTx(ctx, s.db, func(tx *sqlx.Tx) error {
		if newTok != "" {
			var salt *string
			if s.cfg.ProofOfWork > 0 {
				v, _, _ := strings.Cut(in.PoW, ":")
				salt = &v
			}
			if err := tx.GetContext(ctx, conv, `
				INSERT INTO webchat_conversations (token_hash, pow_salt) VALUES ($1, $2) RETURNING id`, hashToken(newTok), salt); err != nil {
				if db.IsUniqueViolation(err) {
					return errPoWUsed
				}
				return fmt.Errorf("webchat: new conversation: %w", err)
			}
		} else {
			// Serialises the messages of one conversation (across instances).
			if err := tx.GetContext(ctx, conv, `
				UPDATE webchat_conversations SET last_seen_at = now() WHERE id = $1 RETURNING id`, conv.ID); err != nil {
				if db.IsNoRows(err) {
					return ErrNotFound
				}
				return fmt.Errorf("webchat: lock conversation: %w", err)
			}
			if in.ClientID != "" {
				err := tx.GetContext(ctx, &id, `
					SELECT id FROM webchat_events WHERE conversation_id = $1 AND client_id = $2`, conv.ID, in.ClientID)
				if err == nil {
					return nil // a repeated POST: stored and answered already
				}
				if !db.IsNoRows(err) {
					return fmt.Errorf("webchat: repeated message: %w", err)
				}
			}
			var recent int
			if err := tx.GetContext(ctx, &recent, `
				SELECT count(*) FROM webchat_events
				WHERE conversation_id = $1 AND sender = 'citizen' AND created_at > now() - interval '1 minute'`, conv.ID); err != nil {
				return fmt.Errorf("webchat: rate: %w", err)
			}
			if recent >= s.cfg.TokenRate {
				return ErrRateLimited
			}
		}
		shown := in.Text
		if in.Data != "" || (in.Label != "" && strings.HasPrefix(in.Text, "/")) {
			// A pressed button, or a command sent by a button of the
			// widget ("talk to a person": /mitarbeiter): the transcript
			// shows the button's text.
			shown = in.Label
		}
		var clientID *string
		if in.ClientID != "" {
			clientID = &in.ClientID
		}
		if err := tx.GetContext(ctx, &id, `
			INSERT INTO webchat_events (conversation_id, sender, payload, client_id)
			VALUES ($1, 'citizen', $2, $3) RETURNING id`, conv.ID, jsonb(citizenPayload{Text: shown}), clientID); err != nil {
			return fmt.Errorf("webchat: store message: %w", err)
		}
		msg := bot.Inbound{Channel: routing.ChannelWeb, ChatID: strconv.FormatInt(conv.ID, 10),
			MessageID: strconv.FormatInt(id, 10), Language: in.Lang, Kind: routing.KindText, Text: in.Text}
		if in.Data != "" {
			msg.Kind, msg.Text, msg.Data = routing.KindButton, "", in.Data
		}
		res, err := s.engine.Handle(ctx, tx, msg)
		if err != nil {
			return err
		}
		// A message that hands the conversation to staff (a confirmation,
		// a typed "ja", "talk to a person") opens a case: that costs a
		// proof of work of its own, bound to this conversation and message.
		// Without one the whole transaction is undone and the widget sends
		// the message again with the proof. (A new conversation's proof
		// covers a case its first message opens.)
		if s.cfg.ProofOfWork > 0 && newTok == "" && res.CitizenID != 0 {
			opened, err := openedCase(ctx, tx, res.CitizenID)
			if err != nil {
				return err
			}
			if opened && !s.validHandoffPoW(in, conv.ID, time.Now()) {
				return errHandoffPoW
			}
		}
		if res.Erased {
			// The citizen's data is gone: so is the transcript. Open
			// widgets clear their view (the erasure's confirmation follows
			// through the outbox).
			if _, err := tx.ExecContext(ctx, `DELETE FROM webchat_events WHERE conversation_id = $1`, conv.ID); err != nil {
				return fmt.Errorf("webchat: erase: %w", err)
			}
			if err := tx.GetContext(ctx, &id, `
				INSERT INTO webchat_events (conversation_id, sender, payload) VALUES ($1, 'system', '{"reset":true}') RETURNING id`,
				conv.ID); err != nil {
				return fmt.Errorf("webchat: erase: %w", err)
			}
		} else if res.Keyboard != nil && in.Ref > 0 {
			p := editPayload{Edit: in.Ref, Buttons: res.Keyboard.Buttons}
			if p.Buttons == nil {
				p.Buttons = [][]routing.Button{}
			}
			if _, err := tx.ExecContext(ctx, `
				INSERT INTO webchat_events (conversation_id, sender, payload) VALUES ($1, 'system', $2)`,
				conv.ID, jsonb(p)); err != nil {
				return fmt.Errorf("webchat: edit buttons: %w", err)
			}
		}
		return notify(ctx, tx, conv.ID)
	})
	return id, err
}

// editPayload replaces the buttons of an earlier event (the feedback
// buttons give way to the choice made).
type editPayload struct {
	Edit    int64              `json:"edit"`
	Buttons [][]routing.Button `json:"buttons"`
}

// jsonb marshals v for a jsonb parameter.
func jsonb(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// notify tells every instance (LISTEN webchat_events) that a conversation
// has new events; sent at commit.
func notify(ctx context.Context, tx *sqlx.Tx, conv int64) error {
	if _, err := tx.ExecContext(ctx, `SELECT pg_notify($1, $2)`, NotifyChannel, strconv.FormatInt(conv, 10)); err != nil {
		return fmt.Errorf("webchat: notify: %w", err)
	}
	return nil
}

// sleep waits d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// writePoWProblem asks for a proof of work with the bits required, and the
// server's time (a proof's time must be within powWindow of it: the
// widget uses it, so a wrong clock on the citizen's device does not
// matter).
func (s *Service) writePoWProblem(w http.ResponseWriter) {
	writeJSON(w, probPoW.status(), map[string]any{"error": probPoW.code, "message": probPoW.text("de"), "message_en": probPoW.text("en"),
		"bits": s.cfg.ProofOfWork, "time": time.Now().Unix()})
}

var errPoWUsed = apperr.New(apperr.Conflict, "webchat: proof of work used before")

// errHandoffPoW: the message would open a case but brings no valid proof
// of work for it.
var errHandoffPoW = apperr.New(apperr.Forbidden, "webchat: a handoff needs a proof of work")

// handoffChallenge is the salt a handoff's proof of work must use: bound
// to the conversation and the message's client id, so that a proof opens
// one case only (a message is stored once per client id; a repeated POST
// does not run the dialog again). Opaque to the client.
func handoffChallenge(conv int64, clientID string) string {
	h := sha256.Sum256([]byte("citybot-webchat-handoff:" + strconv.FormatInt(conv, 10) + ":" + clientID))
	return hex.EncodeToString(h[:16])
}

// validHandoffPoW checks the proof of work of a message that opens a case:
// "challenge:unix-time:nonce" with the message's challenge, a time within
// powWindow of now and the leading zero bits. The message needs a client id.
func (s *Service) validHandoffPoW(in inbound, conv int64, now time.Time) bool {
	if in.ClientID == "" {
		return false
	}
	rest, ok := strings.CutPrefix(in.PoW, handoffChallenge(conv, in.ClientID)+":")
	if !ok {
		return false
	}
	return s.powFresh(in.PoW, rest, now)
}

// openedCase reports whether the citizen's open case was opened in tx
// (its created_at is the transaction's now()).
func openedCase(ctx context.Context, tx *sqlx.Tx, citizenID int64) (bool, error) {
	c, err := routing.NewCases(nil, routing.CasesOptions{}).WithTx(tx).Active(ctx, citizenID)
	if errors.Is(err, routing.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("webchat: handoff check: %w", err)
	}
	var now time.Time
	if err := tx.GetContext(ctx, &now, `SELECT now()`); err != nil {
		return false, fmt.Errorf("webchat: handoff check: %w", err)
	}
	return c.Open() && c.CreatedAt.Equal(now), nil
}

// powWindow is how long a proof of work is good for.
const powWindow = 10 * time.Minute

// validPoW checks "salt:unix-time:nonce": a salt of 16..64 characters, a
// time within powWindow of now, and SHA-256 of the whole string with
// ProofOfWork leading zero bits. (The salt's single use is checked when
// the conversation is stored.)
func (s *Service) validPoW(pow string, now time.Time) bool {
	bits := s.cfg.ProofOfWork
	if bits <= 0 {
		return true
	}
	parts := strings.Split(pow, ":")
	if len(pow) > 200 || len(parts) != 3 || len(parts[0]) < 16 || len(parts[0]) > 64 || parts[2] == "" {
		return false
	}
	return s.powFresh(pow, parts[1]+":"+parts[2], now)
}

// powFresh checks the "unix-time:nonce" end of a proof of work: a time
// within powWindow of now, a nonce, and SHA-256 of the whole proof with
// ProofOfWork leading zero bits.
func (s *Service) powFresh(pow, rest string, now time.Time) bool {
	tsStr, nonce, ok := strings.Cut(rest, ":")
	if !ok || nonce == "" || strings.Contains(nonce, ":") || len(pow) > 200 {
		return false
	}
	ts, err := strconv.ParseInt(tsStr, 10, 64)
	if err != nil {
		return false
	}
	if d := now.Sub(time.Unix(ts, 0)); d > powWindow || d < -powWindow {
		return false
	}
	return leadingZeroBits(sha256.Sum256([]byte(pow))) >= s.cfg.ProofOfWork
}

func leadingZeroBits(h [32]byte) int {
	n := 0
	for _, b := range h {
		if b == 0 {
			n += 8
			continue
		}
		for b&0x80 == 0 {
			n++
			b <<= 1
		}
		break
	}
	return n
}
