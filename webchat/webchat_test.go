package webchat

import (
	"context"
	"crypto/sha256"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"citybot/routing"
	"citybot/staff"
)

// An FAQ question gets its answer with the feedback buttons; the
// conversation is stored as the channel "web".
func TestIntakeAnswersFromFAQ(t *testing.T) {
	e := newEnv(t)
	tok := e.start("Wie beantrage ich einen Personalausweis?")
	s := e.stream(tok, 0)
	seen := s.until(t, 10*time.Second, func(ev sseEvent) bool { return ev.From == "bot" })
	if seen[0].From != "citizen" || text(seen[0]) != "Wie beantrage ich einen Personalausweis?" {
		t.Fatalf("first event %+v", seen[0])
	}
	ans := seen[len(seen)-1]
	if !strings.Contains(strings.ToLower(text(ans)), "personalausweis") {
		t.Fatalf("answer %q", text(ans))
	}
	if _, ok := ans.Payload["buttons"]; !ok {
		t.Fatalf("no feedback buttons: %+v", ans.Payload)
	}
	var ch string
	must(t, e.db.Get(&ch, `SELECT channel FROM citizens`))
	if ch != routing.ChannelWeb {
		t.Fatalf("channel %q", ch)
	}
	var hashLen int
	must(t, e.db.Get(&hashLen, `SELECT length(token_hash) FROM webchat_conversations`))
	var n int
	must(t, e.db.Get(&n, `SELECT count(*) FROM webchat_conversations WHERE token_hash = convert_to($1, 'UTF8')`, tok))
	if hashLen != 32 || n != 0 {
		t.Fatal("the token is stored in clear")
	}
	// A button press: the feedback is taken, the buttons give way.
	btns := ans.Payload["buttons"].([]any)
	first := btns[0].([]any)[0].(map[string]any)
	st, out := e.post(tok, map[string]any{"data": first["data"], "label": first["text"], "ref": ans.ID})
	if st != http.StatusOK {
		t.Fatalf("button: %d %v", st, out)
	}
	s.until(t, 10*time.Second, func(ev sseEvent) bool { return ev.Payload["edit"] != nil })
}

// A reconnect with Last-Event-ID gets exactly what came after it; a
// repeated POST (same client_id) is stored and answered once.
func TestResumeByLastEventID(t *testing.T) {
	e := newEnv(t)
	tok := e.start("Hallo")
	s := e.stream(tok, 0)
	first := s.until(t, 10*time.Second, func(ev sseEvent) bool { return ev.From == "bot" })
	last := first[len(first)-1].ID
	s.res.Body.Close()
	// While disconnected: a question and its answer.
	for range 2 {
		if st, out := e.post(tok, map[string]any{"text": "Was kostet ein Reisepass?", "client_id": "abc"}); st != http.StatusOK {
			t.Fatalf("post: %d %v", st, out)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		var n int
		must(t, e.db.Get(&n, `SELECT count(*) FROM outbox WHERE channel = 'web' AND status <> 'sent'`))
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("outbox not delivered")
		}
		time.Sleep(50 * time.Millisecond)
	}
	s2 := e.stream(tok, last)
	got := s2.until(t, 10*time.Second, func(ev sseEvent) bool { return ev.From == "bot" })
	if got[0].ID <= last || got[0].From != "citizen" || text(got[0]) != "Was kostet ein Reisepass?" {
		t.Fatalf("resume started with %+v (last %d)", got[0], last)
	}
	var citizenMsgs int
	must(t, e.db.Get(&citizenMsgs, `SELECT count(*) FROM webchat_events WHERE sender = 'citizen' AND client_id = 'abc'`))
	if citizenMsgs != 1 {
		t.Fatalf("repeated POST stored %d times", citizenMsgs)
	}
}

// One token cannot read another conversation's events; an unknown token
// is refused.
func TestTokenIsolation(t *testing.T) {
	e := newEnv(t)
	a := e.start("Wie beantrage ich einen Personalausweis?")
	b := e.start("Hallo")
	sb := e.stream(b, 0)
	evs := sb.until(t, 10*time.Second, func(ev sseEvent) bool { return ev.From == "bot" })
	for _, ev := range evs {
		if strings.Contains(text(ev), "Personalausweis") {
			t.Fatalf("conversation b sees a's event %+v", ev)
		}
	}
	var convB int64
	must(t, e.db.Get(&convB, `SELECT id FROM webchat_conversations WHERE token_hash = $1`, hashToken(b)))
	var total, ofB int
	must(t, e.db.Get(&total, `SELECT count(*) FROM webchat_events`))
	must(t, e.db.Get(&ofB, `SELECT count(*) FROM webchat_events WHERE conversation_id = $1`, convB))
	if total <= ofB {
		t.Fatal("a has no events")
	}
	// Resuming "after 0" with b's token never yields a's ids.
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/chat/api/events", nil)
	req.Header.Set("Authorization", "Bearer not-a-token")
	res, err := http.DefaultClient.Do(req)
	must(t, err)
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("unknown token: %d", res.StatusCode)
	}
	if st, _ := e.post("forged", map[string]any{"text": "x"}); st != http.StatusUnauthorized {
		t.Fatalf("post with unknown token: %d", st)
	}
	_ = a
}

// Messages over the size limit are refused with a clear German and
// English text.
func TestSizeLimit(t *testing.T) {
	e := newEnv(t)
	st, out := e.post("", map[string]any{"text": strings.Repeat("ä", 2001)})
	if st != http.StatusRequestEntityTooLarge || out["error"] != "too_long" ||
		!strings.Contains(out["message"].(string), "2000 Zeichen") || !strings.Contains(out["message_en"].(string), "too long") {
		t.Fatalf("%d %v", st, out)
	}
	if st, _ := e.post("", map[string]any{"text": strings.Repeat("x", 20000)}); st != http.StatusRequestEntityTooLarge {
		t.Fatalf("huge body: %d", st)
	}
	if st, _ := e.post("", map[string]any{"text": strings.Repeat("ä", 2000)}); st != http.StatusOK {
		t.Fatalf("2000 characters: %d", st)
	}
	var n int
	must(t, e.db.Get(&n, `SELECT count(*) FROM webchat_events WHERE sender = 'citizen'`))
	if n != 1 {
		t.Fatalf("%d citizen events", n)
	}
}

// Per token and per address rate limits.
func TestRateLimits(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.TokenRate = 3; c.AddrRate = 5; c.NewPerAddr = 100 })
	tok := e.start("Hallo")
	for i := range 2 {
		if st, out := e.post(tok, map[string]any{"text": "Danke"}); st != http.StatusOK {
			t.Fatalf("message %d: %d %v", i, st, out)
		}
	}
	st, out := e.post(tok, map[string]any{"text": "Danke"})
	if st != http.StatusTooManyRequests || out["error"] != "rate_limited" || !strings.Contains(out["message"].(string), "warten") {
		t.Fatalf("per token: %d %v", st, out)
	}
	// Another conversation from the same address: the address limit (5)
	// is reached after two more.
	other := e.start("Hallo")
	st, out = e.post(other, map[string]any{"text": "Danke"})
	if st != http.StatusTooManyRequests {
		t.Fatalf("per address: %d %v", st, out)
	}
	// Another address (behind a trusted proxy) may still write.
	e2 := newEnv(t, func(c *Config) { c.AddrRate = 1; c.TrustedProxies = []string{"127.0.0.1"} })
	if st, _ := e2.post("", map[string]any{"text": "Hallo"}, "X-Forwarded-For", "203.0.113.1"); st != http.StatusOK {
		t.Fatal(st)
	}
	if st, _ := e2.post("", map[string]any{"text": "Hallo"}, "X-Forwarded-For", "203.0.113.1"); st != http.StatusTooManyRequests {
		t.Fatalf("same address again: %d", st)
	}
	if st, _ := e2.post("", map[string]any{"text": "Hallo"}, "X-Forwarded-For", "203.0.113.2"); st != http.StatusOK {
		t.Fatalf("other address: %d", st)
	}
}

// CORS: only the configured origins (and citybot's own).
func TestCORS(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.Origins = []string{"https://www.musterstadt.de"} })
	check := func(origin string, want int) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodOptions, e.srv.URL+"/chat/api/messages", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		res, err := http.DefaultClient.Do(req)
		must(t, err)
		res.Body.Close()
		if res.StatusCode != want {
			t.Fatalf("%s: %d", origin, res.StatusCode)
		}
		if want == http.StatusNoContent && res.Header.Get("Access-Control-Allow-Origin") != origin {
			t.Fatalf("%s: allow-origin %q", origin, res.Header.Get("Access-Control-Allow-Origin"))
		}
	}
	check("https://www.musterstadt.de", http.StatusNoContent)
	check(e.srv.URL, http.StatusNoContent)
	check("https://evil.example", http.StatusForbidden)
	res, err := http.Get(e.srv.URL + "/chat")
	must(t, err)
	res.Body.Close()
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "https://www.musterstadt.de") {
		t.Fatalf("CSP %q", csp)
	}
	if len(res.Cookies()) > 0 {
		t.Fatal("cookies set")
	}
}

// A staff reply reaches the open stream live; /loeschen clears the log.
func TestStaffReplyLive(t *testing.T) {
	e := newEnv(t)
	tok := e.start("/mitarbeiter Ich möchte mich über Lärm von der Baustelle in der Hauptstraße beschweren")
	s := e.stream(tok, 0)
	evs := s.until(t, 10*time.Second, func(ev sseEvent) bool { return handoffYes(ev) != nil })
	btn := handoffYes(evs[len(evs)-1])
	if st, out := e.post(tok, map[string]any{"data": btn["data"], "label": btn["text"], "ref": evs[len(evs)-1].ID}); st != http.StatusOK {
		t.Fatalf("confirm: %d %v", st, out)
	}
	var caseID int64
	deadline := time.Now().Add(10 * time.Second)
	for e.db.Get(&caseID, `SELECT id FROM cases`) != nil {
		if time.Now().After(deadline) {
			t.Fatalf("no case; button %v", btn)
		}
		time.Sleep(50 * time.Millisecond)
	}
	var uid int64
	must(t, e.db.Get(&uid, `INSERT INTO users (email, name, password_hash, role) VALUES ('a@x.de', 'A', 'x', 'admin') RETURNING id`))
	_, err := e.cases.Reply(context.Background(), staff.Principal{ID: uid, Role: staff.RoleAdmin}, caseID, "Ja, das ist erlaubt.", nil)
	must(t, err)
	s.until(t, 10*time.Second, func(ev sseEvent) bool {
		return ev.From == "staff" && strings.Contains(text(ev), "Ja, das ist erlaubt.")
	})
}

// handoffYes is the "yes, pass it on" button of an event, if any.
func handoffYes(ev sseEvent) map[string]any {
	rows, _ := ev.Payload["buttons"].([]any)
	for _, r := range rows {
		row, _ := r.([]any)
		for _, b := range row {
			m, _ := b.(map[string]any)
			if d, _ := m["data"].(string); strings.HasPrefix(d, "ho:") && strings.HasSuffix(d, ":y") {
				return m
			}
		}
	}
	return nil
}

// /meinedaten sends the export as a file in the log; /loeschen with its
// button erases the citizen and clears the log (open widgets get reset).
func TestExportAndErase(t *testing.T) {
	e := newEnv(t)
	tok := e.start("/meinedaten")
	s := e.stream(tok, 0)
	s.until(t, 10*time.Second, func(ev sseEvent) bool { return ev.Payload["document"] != nil })
	if st, _ := e.post(tok, map[string]any{"text": "/loeschen"}); st != http.StatusOK {
		t.Fatal(st)
	}
	evs := s.until(t, 10*time.Second, func(ev sseEvent) bool { return ev.Payload["buttons"] != nil })
	ask := evs[len(evs)-1]
	if st, _ := e.post(tok, map[string]any{"data": "del:y", "label": "Ja", "ref": ask.ID}); st != http.StatusOK {
		t.Fatal(st)
	}
	s.until(t, 10*time.Second, func(ev sseEvent) bool { return ev.Payload["reset"] == true })
	s.until(t, 10*time.Second, func(ev sseEvent) bool { return strings.Contains(text(ev), "gelöscht") })
	var citizens, msgs int
	must(t, e.db.Get(&citizens, `SELECT count(*) FROM citizens`))
	must(t, e.db.Get(&msgs, `SELECT count(*) FROM webchat_events WHERE sender = 'citizen'`))
	if citizens != 0 || msgs != 0 {
		t.Fatalf("after erasure: %d citizens, %d citizen events", citizens, msgs)
	}
}

// A stream outlives the server's read and write time-outs (cmd/citybot
// sets both for the web UI).
func TestStreamOutlivesServerTimeouts(t *testing.T) {
	e := newEnv(t)
	srv := httptest.NewUnstartedServer(e.svc.Handler())
	srv.Config.ReadTimeout, srv.Config.WriteTimeout = 500*time.Millisecond, 500*time.Millisecond
	srv.Start()
	t.Cleanup(srv.Close)
	tok := e.start("Hallo")
	e.srv = srv
	s := e.stream(tok, 0)
	s.until(t, 10*time.Second, func(ev sseEvent) bool { return ev.From == "bot" })
	time.Sleep(1500 * time.Millisecond)
	if st, _ := e.post(tok, map[string]any{"text": "Wie beantrage ich einen Personalausweis?"}); st != http.StatusOK {
		t.Fatal(st)
	}
	s.until(t, 10*time.Second, func(ev sseEvent) bool { return strings.Contains(text(ev), "Personalausweis") && ev.From == "bot" })
}

// With ProofOfWork, a new conversation needs a valid, unused proof.
func TestProofOfWork(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.ProofOfWork = 12 })
	st, out := e.post("", map[string]any{"text": "Hallo"})
	if st != http.StatusForbidden || out["error"] != "pow" || out["bits"] != float64(12) {
		t.Fatalf("without proof: %d %v", st, out)
	}
	// The server's time, for devices with a wrong clock.
	if ts, _ := out["time"].(float64); time.Since(time.Unix(int64(ts), 0)).Abs() > time.Minute {
		t.Fatalf("server time %v", out["time"])
	}
	now := time.Now().Unix()
	salt := "0123456789abcdef0123"
	var pow string
	for n := 0; ; n++ {
		pow = salt + ":" + jsonInt(now) + ":" + jsonInt(int64(n))
		if leadingZeroBits(sha256.Sum256([]byte(pow))) >= 12 {
			break
		}
	}
	if st, out := e.post("", map[string]any{"text": "Hallo", "pow": pow}); st != http.StatusOK {
		t.Fatalf("with proof: %d %v", st, out)
	}
	if st, _ := e.post("", map[string]any{"text": "Hallo", "pow": pow}); st != http.StatusForbidden {
		t.Fatalf("reused proof: %d", st)
	}
	if st, _ := e.post("", map[string]any{"text": "Hallo", "pow": salt + ":" + jsonInt(now) + ":x"}); st != http.StatusForbidden {
		t.Fatalf("wrong proof: %d", st)
	}
}

// solvePoW finds a proof of work "salt:now:nonce" of bits.
func solvePoW(salt string, bits int) string {
	now := jsonInt(time.Now().Unix())
	for n := 0; ; n++ {
		pow := salt + ":" + now + ":" + jsonInt(int64(n))
		if leadingZeroBits(sha256.Sum256([]byte(pow))) >= bits {
			return pow
		}
	}
}

// With ProofOfWork, a message that hands the conversation to staff needs
// a fresh proof of its own, bound to the conversation and the message:
// without it nothing is stored, the case is not opened, and the answer
// says why and gives the challenge.
func TestHandoffNeedsProofOfWork(t *testing.T) {
	const bits = 10
	e := newEnv(t, func(c *Config) { c.ProofOfWork = bits })
	st, out := e.post("", map[string]any{"text": "/mitarbeiter Ich möchte mich über Lärm von der Baustelle in der Hauptstraße beschweren",
		"pow": solvePoW("0123456789abcdef0123", bits)})
	if st != http.StatusOK {
		t.Fatalf("first message: %d %v", st, out)
	}
	tok := out["token"].(string)
	s := e.stream(tok, 0)
	evs := s.until(t, 10*time.Second, func(ev sseEvent) bool { return handoffYes(ev) != nil })
	ask := evs[len(evs)-1]
	btn := handoffYes(ask)
	confirm := map[string]any{"data": btn["data"], "label": btn["text"], "ref": ask.ID, "client_id": "c1"}
	st, out = e.post(tok, confirm)
	if st != http.StatusForbidden || out["error"] != "pow_handoff" || out["bits"] != float64(bits) ||
		!strings.Contains(out["message"].(string), "Mitarbeitenden") || !strings.Contains(out["message_en"].(string), "staff") {
		t.Fatalf("confirm without proof: %d %v", st, out)
	}
	challenge, _ := out["challenge"].(string)
	if len(challenge) != 32 {
		t.Fatalf("challenge %q", challenge)
	}
	var n int
	must(t, e.db.Get(&n, `SELECT count(*) FROM cases`))
	if n != 0 {
		t.Fatal("a case was opened without a proof")
	}
	must(t, e.db.Get(&n, `SELECT count(*) FROM webchat_events WHERE client_id = 'c1'`))
	if n != 0 {
		t.Fatal("the refused message was stored")
	}
	// A proof for another message, or with a made-up salt, does not do.
	for _, pow := range []string{solvePoW(handoffChallenge(1, "other"), bits), solvePoW("0123456789abcdef0123", bits)} {
		confirm["pow"] = pow
		if st, out := e.post(tok, confirm); st != http.StatusForbidden || out["error"] != "pow_handoff" {
			t.Fatalf("wrong proof %q: %d %v", pow, st, out)
		}
	}
	confirm["pow"] = solvePoW(challenge, bits)
	if st, out := e.post(tok, confirm); st != http.StatusOK {
		t.Fatalf("confirm with proof: %d %v", st, out)
	}
	waitCase(t, e.db)
	// Messages to the open case need no proof.
	if st, out := e.post(tok, map[string]any{"text": "Es ist jede Nacht so.", "client_id": "c2"}); st != http.StatusOK {
		t.Fatalf("message to the case: %d %v", st, out)
	}
}

// A typed "ja" hands off too, and so needs the proof as well.
func TestHandoffByTypedYesNeedsProofOfWork(t *testing.T) {
	const bits = 8
	e := newEnv(t, func(c *Config) { c.ProofOfWork = bits })
	st, out := e.post("", map[string]any{"text": "Ich möchte mich über nächtlichen Lärm von der Baustelle in der Hauptstraße beschweren",
		"pow": solvePoW("0123456789abcdef0123", bits)})
	if st != http.StatusOK {
		t.Fatalf("first message: %d %v", st, out)
	}
	tok := out["token"].(string)
	e.stream(tok, 0).until(t, 10*time.Second, func(ev sseEvent) bool { return handoffYes(ev) != nil })
	st, out = e.post(tok, map[string]any{"text": "ja", "client_id": "y1"})
	if st != http.StatusForbidden || out["error"] != "pow_handoff" {
		t.Fatalf("typed yes without proof: %d %v", st, out)
	}
	if st, out := e.post(tok, map[string]any{"text": "ja", "client_id": "y1", "pow": solvePoW(out["challenge"].(string), bits)}); st != http.StatusOK {
		t.Fatalf("typed yes with proof: %d %v", st, out)
	}
	waitCase(t, e.db)
}

// The transcript is kept as long as the global retention of citizen data
// says (routing's setting retention_days, read at each purge), not a fixed
// period: an admin's change applies to the web chat too.
func TestRetentionFollowsSetting(t *testing.T) {
	d, url := newDB(t)
	cases := routing.NewCases(d, routing.CasesOptions{})
	e := startEnv(t, d, url, true, func(c *Config) { c.RetentionDays = cases.GlobalRetentionDays })
	ctx := context.Background()
	old, recent := e.start("Hallo"), e.start("Wie beantrage ich einen Personalausweis?")
	e.stream(old, 0).until(t, 10*time.Second, func(ev sseEvent) bool { return ev.From == "bot" })
	e.stream(recent, 0).until(t, 10*time.Second, func(ev sseEvent) bool { return ev.From == "bot" })
	age := func(tok string, days int) {
		t.Helper()
		_, err := d.Exec(`UPDATE webchat_events SET created_at = now() - make_interval(days => $2)
			WHERE conversation_id = (SELECT id FROM webchat_conversations WHERE token_hash = $1)`, hashToken(tok), days)
		must(t, err)
		_, err = d.Exec(`UPDATE webchat_conversations SET last_seen_at = now() - make_interval(days => $2) WHERE token_hash = $1`, hashToken(tok), days)
		must(t, err)
	}
	age(old, 40)
	age(recent, 20)
	// Without the setting: routing's default (90 days): nothing goes.
	if p, err := e.svc.RetentionPeriod(ctx); err != nil || p != routing.DefaultRetentionDays*24*time.Hour {
		t.Fatalf("default retention %v, %v", p, err)
	}
	if n, err := e.svc.PurgeExpired(ctx); err != nil || n != 0 {
		t.Fatalf("purged %d, %v", n, err)
	}
	// 30 days: the older conversation goes, events and all.
	must(t, cases.SetGlobalRetentionDays(ctx, 30))
	n, err := e.svc.PurgeExpired(ctx)
	must(t, err)
	if n == 0 {
		t.Fatal("nothing purged")
	}
	if st, _ := e.post(old, map[string]any{"text": "Hallo"}); st != http.StatusUnauthorized {
		t.Fatalf("the purged conversation: %d", st)
	}
	var left int
	must(t, d.Get(&left, `SELECT count(*) FROM webchat_events WHERE created_at < now() - interval '30 days'`))
	if left != 0 {
		t.Fatalf("%d events older than 30 days", left)
	}
	e.stream(recent, 0).until(t, 10*time.Second, func(ev sseEvent) bool { return strings.Contains(text(ev), "Personalausweis") })
	// 10 days: the other goes too.
	must(t, cases.SetGlobalRetentionDays(ctx, 10))
	if _, err := e.svc.PurgeExpired(ctx); err != nil {
		t.Fatal(err)
	}
	var convs int
	must(t, d.Get(&convs, `SELECT count(*) FROM webchat_conversations`))
	if convs != 0 {
		t.Fatalf("%d conversations left", convs)
	}
	// Without RetentionDays the fixed Retention applies (default 30 days).
	if p, err := newEnv(t).svc.RetentionPeriod(ctx); err != nil || p != 30*24*time.Hour {
		t.Fatalf("fixed retention %v, %v", p, err)
	}
}

// The widget's "talk to a person" button sends /mitarbeiter; the
// transcript shows the button's text, the bot asks what it is about.
func TestTalkToAPersonButton(t *testing.T) {
	e := newEnv(t)
	tok := e.start("Hallo")
	s := e.stream(tok, 0)
	s.until(t, 10*time.Second, func(ev sseEvent) bool { return ev.From == "bot" })
	if st, out := e.post(tok, map[string]any{"text": "/mitarbeiter", "label": "Mit einer Person sprechen", "client_id": "h1"}); st != http.StatusOK {
		t.Fatalf("%d %v", st, out)
	}
	evs := s.until(t, 10*time.Second, func(ev sseEvent) bool { return ev.From == "bot" })
	if evs[0].From != "citizen" || text(evs[0]) != "Mit einer Person sprechen" {
		t.Fatalf("citizen event %+v", evs[0])
	}
	// A label does not replace an ordinary text.
	if st, _ := e.post(tok, map[string]any{"text": "Worum geht es?", "label": "x", "client_id": "h2"}); st != http.StatusOK {
		t.Fatal(st)
	}
	evs = s.until(t, 10*time.Second, func(ev sseEvent) bool { return ev.From == "citizen" })
	if text(evs[len(evs)-1]) != "Worum geht es?" {
		t.Fatalf("text shown as %q", text(evs[len(evs)-1]))
	}
}

// The bot's texts on the web channel do not promise what only Telegram
// can do: the hint under a new case and /hilfe's details ("Mehr dazu")
// say that the chat takes no photos or files, and offer no news
// subscriptions; in German and in English.
func TestWebTextsWithoutTelegramOnlyHints(t *testing.T) {
	e := newEnv(t)
	for _, c := range []struct {
		lang, help, more, staff         string
		want, notWant, wantCase, noCase string
	}{
		{"de", "/hilfe", "Mehr dazu", "/mitarbeiter Ich möchte mich über Lärm von der Baustelle in der Hauptstraße beschweren",
			"Fotos und Dateien kann dieser Chat nicht annehmen.", "/abo", "Fotos und Dateien kann dieser Chat nicht annehmen. Mit /abbrechen", "Fotos oder Dokumente"},
		{"en", "/help", "More", "/staff I want to complain about noise from the building site in the main street at night",
			"This chat cannot take photos or files.", "/subscribe", "This chat cannot take photos or files. /cancel", "photos or documents"},
	} {
		st, out := e.post("", map[string]any{"text": c.help, "lang": c.lang})
		if st != http.StatusOK {
			t.Fatalf("%s: %d %v", c.help, st, out)
		}
		tok := out["token"].(string)
		s := e.stream(tok, 0)
		evs := s.until(t, 10*time.Second, func(ev sseEvent) bool { return ev.From == "bot" && ev.Payload["buttons"] != nil })
		help := evs[len(evs)-1]
		rows := help.Payload["buttons"].([]any)
		btn := rows[0].([]any)[0].(map[string]any)
		if btn["text"] != c.more {
			t.Fatalf("%s: button %v", c.help, btn)
		}
		if st, out := e.post(tok, map[string]any{"data": btn["data"], "label": btn["text"], "ref": help.ID, "client_id": "m1"}); st != http.StatusOK {
			t.Fatalf("%s: %d %v", c.more, st, out)
		}
		evs = s.until(t, 10*time.Second, func(ev sseEvent) bool { return ev.From == "bot" && ev.ID > help.ID })
		more := text(evs[len(evs)-1])
		if !strings.Contains(more, c.want) || strings.Contains(more, c.notWant) {
			t.Errorf("%s, %s: %q", c.lang, c.more, more)
		}

		if st, out := e.post(tok, map[string]any{"text": c.staff, "client_id": "m2"}); st != http.StatusOK {
			t.Fatalf("%d %v", st, out)
		}
		evs = s.until(t, 10*time.Second, func(ev sseEvent) bool { return handoffYes(ev) != nil })
		ask := evs[len(evs)-1]
		yes := handoffYes(ask)
		if st, out := e.post(tok, map[string]any{"data": yes["data"], "label": yes["text"], "ref": ask.ID, "client_id": "m3"}); st != http.StatusOK {
			t.Fatalf("confirm: %d %v", st, out)
		}
		evs = s.until(t, 10*time.Second, func(ev sseEvent) bool { return ev.From == "bot" && strings.Contains(text(ev), "#") })
		msg := text(evs[len(evs)-1])
		if !strings.Contains(msg, c.wantCase) || strings.Contains(msg, c.noCase) {
			t.Errorf("%s: handoff message %q", c.lang, msg)
		}
	}
}

// The privacy notice: widget.js links CITYBOT_PRIVACY_URL when it is set,
// else the built-in notice, which says how long the transcript is kept
// (the retention setting, asked at each request), in German and English.
func TestPrivacyNotice(t *testing.T) {
	// The service's purge job reads the setting too, concurrently.
	var days atomic.Int64
	days.Store(45)
	e := newEnv(t, func(c *Config) {
		c.RetentionDays = func(context.Context) (int, error) { return int(days.Load()), nil }
	})
	get := func(srv, path string) (string, *http.Response) {
		t.Helper()
		res, err := http.Get(srv + path)
		must(t, err)
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		must(t, err)
		if res.StatusCode != http.StatusOK || len(res.Cookies()) > 0 {
			t.Fatalf("%s: %d, cookies %v", path, res.StatusCode, res.Cookies())
		}
		return string(b), res
	}
	if js, _ := get(e.srv.URL, "/widget.js"); !strings.Contains(js, `var privacyURL = "";`) {
		t.Error("widget.js without CITYBOT_PRIVACY_URL does not fall back to the built-in notice")
	}
	page, res := get(e.srv.URL, "/chat/datenschutz")
	if !strings.Contains(page, `<html lang="de">`) || !strings.Contains(page, "setzt keine Cookies") || !strings.Contains(page, "nach 45 Tagen gelöscht") ||
		!strings.Contains(res.Header.Get("Content-Security-Policy"), "default-src 'none'") {
		t.Errorf("German notice: %s", page)
	}
	days.Store(60)
	if page, _ := get(e.srv.URL, "/chat/datenschutz?lang=en"); !strings.Contains(page, `<html lang="en">`) || !strings.Contains(page, "sets no cookies") || !strings.Contains(page, "after 60 days") {
		t.Errorf("English notice: %s", page)
	}

	own := e.instance(false, func(c *Config) { c.PrivacyURL = `https://www.musterstadt.de/datenschutz?a="b"&c=</script>` })
	js, _ := get(own.srv.URL, "/widget.js")
	if !strings.Contains(js, `var privacyURL = "https://www.musterstadt.de/datenschutz?a=\"b\"\u0026c=\u003c/script\u003e";`) {
		t.Error("widget.js does not carry CITYBOT_PRIVACY_URL, escaped")
	}
}
