package admin

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"citybot/routing"
	"citybot/staff"
)

// withCases wires the real case domain.
func withCases(c *Config, d *Deps) { d.Cases = routing.NewCases(d.DB, routing.CasesOptions{}) }

// fakeFiles serves fixed file contents by file id.
type fakeFiles struct {
	mu    sync.Mutex
	files map[string][]byte
}

func (f *fakeFiles) OpenFile(_ context.Context, channel, fileID string) (io.ReadCloser, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	b, ok := f.files[fileID]
	if !ok {
		return nil, fmt.Errorf("file %s: %w", fileID, routing.ErrNotFound)
	}
	return io.NopCloser(bytes.NewReader(b)), nil
}

// newCase stores a citizen with messages and opens a case in dept.
func (e *env) newCase(chat, dept string, msgs ...routing.Message) (routing.Case, []routing.Message) {
	e.t.Helper()
	ctx := context.Background()
	st := routing.NewStore(e.db)
	cit, err := st.TouchCitizen(ctx, routing.ChannelTelegram, chat, "de")
	if err != nil {
		e.t.Fatal(err)
	}
	var stored []routing.Message
	for _, m := range msgs {
		m.CitizenID = cit.ID
		if m.Direction == "" {
			m.Direction, m.Sender = routing.DirectionIn, routing.SenderCitizen
		}
		if m.Kind == "" {
			m.Kind = routing.KindText
		}
		sm, err := st.AddMessage(ctx, m)
		if err != nil {
			e.t.Fatal(err)
		}
		stored = append(stored, sm)
	}
	c, err := routing.NewCases(e.db, routing.CasesOptions{}).Open(ctx, cit.ID, dept, routing.ReasonNoMatch, routing.OpenOptions{})
	if err != nil {
		e.t.Fatal(err)
	}
	return c, stored
}

func text(s string) routing.Message { return routing.Message{Text: s} }

func TestInboxFlow(t *testing.T) {
	e := newEnv(t, withCases)
	e.user("bau@example.org", staff.RoleStaff, "bauamt")
	e.user("bau2@example.org", staff.RoleStaff, "bauamt")
	e.user("ord@example.org", staff.RoleStaff, "ordnungsamt")
	cs, _ := e.newCase("1001", "bauamt", text("Wie lange dauert meine Baugenehmigung?"))
	other, _ := e.newCase("1002", "ordnungsamt", text("Falschparker vor meiner Einfahrt"))
	bau := e.loggedIn("bau@example.org")
	caseURL := fmt.Sprintf("/cases/%d", cs.ID)

	r := bau.get("/inbox")
	if r.Status != 200 || !strings.Contains(r.Body, "Baugenehmigung") || strings.Contains(r.Body, "Falschparker") {
		t.Fatalf("inbox: %d\n%s", r.Status, r.Body)
	}
	if !strings.Contains(r.Body, `class="unread"`) {
		t.Error("new case not marked unread")
	}
	if r := bau.get("/inbox?view=waiting&partial=1"); !strings.Contains(r.Body, "Baugenehmigung") || strings.Contains(r.Body, "<html") {
		t.Errorf("partial list: %s", r.Body)
	}
	if r := bau.get("/inbox?q=baugenehm"); !strings.Contains(r.Body, "Baugenehmigung") {
		t.Error("search by word prefix")
	}
	if r := bau.get("/inbox?q=zzzz"); strings.Contains(r.Body, "Baugenehmigung") {
		t.Error("search without hit lists the case")
	}

	// Staff see the citizen's reference number (#ID) in the inbox and on the case.
	if !strings.Contains(r.Body, fmt.Sprintf(">#%d</a>", cs.ID)) {
		t.Errorf("inbox without the reference number #%d", cs.ID)
	}
	r = bau.get(caseURL)
	if r.Status != 200 || !strings.Contains(r.Body, "Wie lange dauert meine Baugenehmigung?") {
		t.Fatalf("case page: %d", r.Status)
	}
	if !strings.Contains(r.Body, fmt.Sprintf("<h1>Fall #%d", cs.ID)) {
		t.Errorf("case page without the reference number #%d", cs.ID)
	}
	if r := bau.get("/inbox"); strings.Contains(r.Body, `class="unread"`) {
		t.Error("viewed case still unread")
	}

	steps := []struct {
		name   string
		path   string
		form   url.Values
		status int
		check  string // SQL that must return true afterwards
	}{
		{"empty reply", "/reply", url.Values{"text": {"  "}}, 400, ""},
		{"reply", "/reply", url.Values{"text": {"Etwa vier Wochen."}}, 303,
			`SELECT EXISTS (SELECT 1 FROM outbox o JOIN messages m ON m.id = o.message_id JOIN case_messages cm ON cm.message_id = m.id WHERE cm.case_id = $1 AND m.text = 'Etwa vier Wochen.' AND o.status = 'pending')`},
		{"note", "/note", url.Values{"text": {"Akte liegt bei Herrn M."}}, 303,
			`SELECT EXISTS (SELECT 1 FROM case_events WHERE case_id = $1 AND kind = 'note')`},
		{"assign to colleague", "/assign", url.Values{"user_id": {"2"}}, 303,
			`SELECT EXISTS (SELECT 1 FROM cases WHERE id = $1 AND assignee_id = 2)`},
		{"assign to staff of another department", "/assign", url.Values{"user_id": {"3"}}, 400, ""},
		{"assign to me", "/assign", url.Values{"user_id": {"me"}}, 303,
			`SELECT EXISTS (SELECT 1 FROM cases WHERE id = $1 AND assignee_id = 1)`},
		{"transfer to unknown", "/transfer", url.Values{"department": {"nope"}}, 400, ""},
		{"close", "/close", nil, 303, `SELECT EXISTS (SELECT 1 FROM cases WHERE id = $1 AND status = 'closed')`},
		{"reply to closed", "/reply", url.Values{"text": {"Noch was"}}, 400, ""},
		{"reopen", "/reopen", nil, 303, `SELECT EXISTS (SELECT 1 FROM cases WHERE id = $1 AND status <> 'closed')`},
		{"transfer", "/transfer", url.Values{"department": {"ordnungsamt"}, "note": {"Bitte übernehmen"}}, 303,
			`SELECT EXISTS (SELECT 1 FROM cases WHERE id = $1 AND department_id = 'ordnungsamt' AND status = 'waiting')`},
	}
	for _, st := range steps {
		r := bau.postForm(caseURL, caseURL+st.path, st.form)
		if r.Status != st.status {
			t.Fatalf("%s: status %d, want %d\n%s", st.name, r.Status, st.status, r.Body)
		}
		if st.status == 303 && !strings.HasPrefix(r.Header.Get("Location"), caseURL+"?notice=") && st.name != "transfer" {
			t.Errorf("%s: redirect to %q", st.name, r.Header.Get("Location"))
		}
		if st.check != "" {
			var ok bool
			if err := e.db.Get(&ok, st.check, cs.ID); err != nil || !ok {
				t.Fatalf("%s: check failed (%v)", st.name, err)
			}
		}
	}
	// After the transfer the case left the Bauamt and is in the Ordnungsamt's list.
	if r := bau.get(caseURL); r.Status != 404 {
		t.Errorf("transferred case still visible to Bauamt: %d", r.Status)
	}
	ord := e.loggedIn("ord@example.org")
	r = ord.get("/inbox")
	if !strings.Contains(r.Body, fmt.Sprintf("#%d", cs.ID)) || !strings.Contains(r.Body, fmt.Sprintf("#%d", other.ID)) {
		t.Error("transferred case not in the Ordnungsamt inbox")
	}
	r = ord.get(caseURL)
	for _, want := range []string{"Etwa vier Wochen.", "Akte liegt bei Herrn M.", "Bitte übernehmen", "wird gesendet", "Weitergeleitet von Bauamt an Ordnungsamt"} {
		if !strings.Contains(r.Body, want) {
			t.Errorf("transcript lacks %q\n%s", want, r.Body)
		}
	}
	// Audit: every staff action on the case is recorded (by routing, in the same transaction).
	var actions []string
	if err := e.db.Select(&actions, `SELECT DISTINCT action FROM audit_log WHERE object_type = 'case' AND object_id = $1 ORDER BY action`, fmt.Sprint(cs.ID)); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(actions, ","); got != "case.assigned,case.closed,case.note,case.reopened,case.replied,case.transferred,case.viewed" {
		t.Errorf("audit actions: %s", got)
	}
}

func TestDeliveryStateShown(t *testing.T) {
	e := newEnv(t, withCases)
	e.user("bau@example.org", staff.RoleStaff, "bauamt")
	cs, _ := e.newCase("1001", "bauamt", text("Frage"))
	bau := e.loggedIn("bau@example.org")
	caseURL := fmt.Sprintf("/cases/%d", cs.ID)
	bau.postForm(caseURL, caseURL+"/reply", url.Values{"text": {"Antwort eins"}})
	if _, err := e.db.Exec(`UPDATE outbox SET status = 'undeliverable', last_error = 'Forbidden: bot was blocked by the user'`); err != nil {
		t.Fatal(err)
	}
	r := bau.get(caseURL)
	if !strings.Contains(r.Body, "nicht zustellbar: Forbidden: bot was blocked by the user") {
		t.Errorf("delivery failure not shown:\n%s", r.Body)
	}
	if _, err := e.db.Exec(`UPDATE outbox SET status = 'sent', last_error = ''`); err != nil {
		t.Fatal(err)
	}
	if r := bau.get(caseURL); !strings.Contains(r.Body, "zugestellt") {
		t.Error("sent state not shown")
	}
}

// TestCaseIsolation walks every case route as staff of another department
// (and as an editor without departments): 404 or 403 everywhere, and
// nothing changes.
func TestCaseIsolation(t *testing.T) {
	files := &fakeFiles{files: map[string][]byte{"photo-1": pngBytes}}
	e := newEnv(t, withCases, func(_ *Config, d *Deps) { d.Files = files })
	e.user("bau@example.org", staff.RoleStaff, "bauamt")
	e.user("ord@example.org", staff.RoleStaff, "ordnungsamt")
	e.user("red@example.org", staff.RoleEditor)
	cs, msgs := e.newCase("1001", "bauamt", routing.Message{Kind: routing.KindPhoto, Media: &routing.Media{Type: "photo", FileID: "photo-1"}})
	var before string
	snapshot := func() string {
		var s string
		if err := e.db.Get(&s, `SELECT row_to_json(c)::text || (SELECT count(*) FROM case_events)::text || (SELECT count(*) FROM outbox)::text || (SELECT count(*) FROM case_reads)::text FROM cases c WHERE id = $1`, cs.ID); err != nil {
			t.Fatal(err)
		}
		return s
	}
	before = snapshot()
	// The rightful staff can see the photo.
	bau := e.loggedIn("bau@example.org")
	if r := bau.get(fmt.Sprintf("/cases/%d/media/%d", cs.ID, msgs[0].ID)); r.Status != 200 || r.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("own media: %d %s", r.Status, r.Header.Get("Content-Type"))
	}
	before = snapshot()

	forms := map[string]url.Values{
		"/reply": {"text": {"x"}}, "/note": {"text": {"x"}}, "/assign": {"user_id": {"me"}},
		"/transfer": {"department": {"ordnungsamt"}}, "/close": {}, "/reopen": {},
	}
	for _, who := range []string{"ord@example.org", "red@example.org"} {
		c := e.loggedIn(who)
		for _, rt := range caseRoutes() {
			path := strings.ReplaceAll(rt[1], ":id", fmt.Sprint(cs.ID))
			path = strings.ReplaceAll(path, ":msg", fmt.Sprint(msgs[0].ID))
			var r resp
			if rt[0] == "GET" {
				r = c.get(path)
			} else {
				f := url.Values{}
				for k, v := range forms[strings.TrimPrefix(path, fmt.Sprintf("/cases/%d", cs.ID))] {
					f[k] = v
				}
				r = c.postForm("/account", path, f)
			}
			if r.Status != 404 && r.Status != 403 {
				t.Errorf("%s %s %s: %d", who, rt[0], path, r.Status)
			}
			if strings.Contains(r.Body, "PNG") {
				t.Errorf("%s %s: file leaked", who, path)
			}
		}
		if r := c.get("/inbox?view=departments"); strings.Contains(r.Body, fmt.Sprintf("#%d", cs.ID)) {
			t.Errorf("%s sees the case in the list", who)
		}
		if r := c.get(fmt.Sprintf("/inbox?q=%d", cs.ID)); strings.Contains(r.Body, fmt.Sprintf("#%d", cs.ID)) {
			t.Errorf("%s finds the case by number", who)
		}
	}
	if after := snapshot(); after != before {
		t.Errorf("case changed by outsiders:\n%s\n%s", before, after)
	}
	// Every route of the engine under /cases is in caseRoutes.
	for _, ri := range e.srv.engineRoutes() {
		if strings.HasPrefix(ri[1], "/cases/") {
			found := false
			for _, rt := range caseRoutes() {
				if rt == ri {
					found = true
				}
			}
			if !found {
				t.Errorf("route %s %s not covered by the isolation test", ri[0], ri[1])
			}
		}
	}
}

var pngBytes = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde\x00\x00\x00\x0cIDATx\x9cc\xf8\xcf\xc0\x00\x00\x03\x01\x01\x00\xc9\xfe\x92\xef\x00\x00\x00\x00IEND\xaeB`\x82")

func TestMediaProxy(t *testing.T) {
	files := &fakeFiles{files: map[string][]byte{"photo-1": pngBytes, "doc-1": []byte("<html><script>alert(1)</script></html>")}}
	e := newEnv(t, withCases, func(_ *Config, d *Deps) { d.Files = files })
	e.user("bau@example.org", staff.RoleStaff, "bauamt")
	lat, lon := 51.3397, 12.3731
	cs, msgs := e.newCase("1001", "bauamt",
		routing.Message{Kind: routing.KindPhoto, Text: "Schlagloch", Media: &routing.Media{Type: "photo", FileID: "photo-1"}},
		routing.Message{Kind: routing.KindDocument, Media: &routing.Media{Type: "document", FileID: "doc-1", FileName: "antrag.html", MIMEType: "text/html"}},
		routing.Message{Kind: routing.KindLocation, Media: &routing.Media{Type: "location", Latitude: &lat, Longitude: &lon}},
	)
	_, other := e.newCase("1002", "bauamt", routing.Message{Kind: routing.KindPhoto, Media: &routing.Media{Type: "photo", FileID: "photo-1"}})
	bau := e.loggedIn("bau@example.org")
	page := bau.get(fmt.Sprintf("/cases/%d", cs.ID))
	for _, want := range []string{
		fmt.Sprintf(`<img src="/cases/%d/media/%d" alt="Foto: Schlagloch"`, cs.ID, msgs[0].ID),
		fmt.Sprintf(`href="/cases/%d/media/%d" download`, cs.ID, msgs[1].ID),
		"https://www.openstreetmap.org/?mlat=51.339700&amp;mlon=12.373100",
	} {
		if !strings.Contains(page.Body, want) {
			t.Errorf("case page lacks %s", want)
		}
	}
	tests := []struct {
		name        string
		msg         int64
		status      int
		contentType string
		disposition string
	}{
		{"photo inline", msgs[0].ID, 200, "image/png", "inline"},
		{"document as download", msgs[1].ID, 200, "application/octet-stream", `attachment; filename=antrag.html`},
		{"location has no file", msgs[2].ID, 404, "", ""},
		{"message of another case", other[0].ID, 404, "", ""},
	}
	for _, tt := range tests {
		r := bau.get(fmt.Sprintf("/cases/%d/media/%d", cs.ID, tt.msg))
		if r.Status != tt.status {
			t.Errorf("%s: %d", tt.name, r.Status)
			continue
		}
		if tt.status == 200 && (r.Header.Get("Content-Type") != tt.contentType || r.Header.Get("Content-Disposition") != tt.disposition ||
			!strings.Contains(r.Header.Get("Content-Security-Policy"), "sandbox") || r.Header.Get("X-Content-Type-Options") != "nosniff") {
			t.Errorf("%s: headers %v", tt.name, r.Header)
		}
	}
}

func TestXSSEscaped(t *testing.T) {
	e := newEnv(t, withCases)
	e.user("bau@example.org", staff.RoleStaff, "bauamt")
	payloads := []string{`<script>alert("x")</script>`, `<img src=x onerror=alert(1)>`, `"><svg onload=alert(1)>`}
	cs, _ := e.newCase("1001", "bauamt", text(strings.Join(payloads, " ")))
	bau := e.loggedIn("bau@example.org")
	caseURL := fmt.Sprintf("/cases/%d", cs.ID)
	bau.postForm(caseURL, caseURL+"/note", url.Values{"text": {payloads[1]}})
	bau.postForm(caseURL, caseURL+"/reply", url.Values{"text": {payloads[0]}})
	pages := []string{"/inbox", "/inbox?view=departments&partial=1", caseURL, caseURL + "?partial=transcript", "/inbox?q=" + url.QueryEscape(payloads[0])}
	for _, p := range pages {
		r := bau.get(p)
		if r.Status != 200 {
			t.Fatalf("%s: %d", p, r.Status)
		}
		for _, bad := range []string{"<script>alert", "<img src=x", "<svg onload", "onerror=alert(1)>"} {
			if strings.Contains(r.Body, bad) {
				t.Errorf("%s contains raw %q", p, bad)
			}
		}
	}
	if r := bau.get(caseURL); !strings.Contains(r.Body, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;") {
		t.Error("escaped text not shown")
	}
}

// TestLiveEvents: a case opened in the database reaches the SSE stream of
// the department's staff, and not that of another department.
func TestLiveEvents(t *testing.T) {
	e := newEnv(t, withCases)
	e.user("bau@example.org", staff.RoleStaff, "bauamt")
	e.user("ord@example.org", staff.RoleStaff, "ordnungsamt")
	stream := func(c *client) (<-chan string, func()) {
		ctx, cancel := context.WithCancel(context.Background())
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, e.url+"/inbox/events", nil)
		r, err := c.hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if ct := r.Header.Get("Content-Type"); ct != "text/event-stream" {
			t.Fatalf("content type %q", ct)
		}
		ch := make(chan string, 16)
		go func() {
			defer r.Body.Close()
			sc := bufio.NewScanner(r.Body)
			for sc.Scan() {
				if strings.HasPrefix(sc.Text(), "data: {\"case_id\"") {
					ch <- sc.Text()
				}
			}
		}()
		return ch, cancel
	}
	bauEvents, stop1 := stream(e.loggedIn("bau@example.org"))
	defer stop1()
	ordEvents, stop2 := stream(e.loggedIn("ord@example.org"))
	defer stop2()
	// The hub's LISTEN may still be starting: open cases until one arrives.
	deadline := time.After(10 * time.Second)
	var got string
	for i := 0; got == ""; i++ {
		e.newCase(fmt.Sprint(2000+i), "bauamt", text("Neu"))
		select {
		case got = <-bauEvents:
		case <-time.After(300 * time.Millisecond):
		case <-deadline:
			t.Fatal("no event for the Bauamt")
		}
	}
	if !strings.Contains(got, `"department":"bauamt"`) || !strings.Contains(got, `"kind":"opened"`) {
		t.Errorf("event %s", got)
	}
	select {
	case ev := <-ordEvents:
		t.Errorf("Ordnungsamt got a Bauamt event: %s", ev)
	case <-time.After(300 * time.Millisecond):
	}
}
