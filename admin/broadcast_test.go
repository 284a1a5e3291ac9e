package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"citybot/broadcast"
	"citybot/staff"
)

// recordingSender is a broadcast.Sender that records what it sends (the
// broadcast package's own tests cover the Telegram path).
type recordingSender struct {
	delay time.Duration
	mu    sync.Mutex
	sent  map[string][]broadcast.Message
}

func (r *recordingSender) Send(ctx context.Context, chatID string, msg broadcast.Message) error {
	if r.delay > 0 {
		select {
		case <-time.After(r.delay):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.sent == nil {
		r.sent = map[string][]broadcast.Message{}
	}
	r.sent[chatID] = append(r.sent[chatID], msg)
	return nil
}

func (r *recordingSender) count() (chats, msgs int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, ms := range r.sent {
		chats++
		msgs += len(ms)
	}
	return chats, msgs
}

// bcEnv is an admin server with a running broadcast service.
type bcEnv struct {
	*env
	svc    *broadcast.Service
	sender *recordingSender
}

func newBroadcastEnv(t *testing.T, rate float64, delay time.Duration, opts ...envOption) *bcEnv {
	t.Helper()
	sender := &recordingSender{delay: delay}
	var svc *broadcast.Service
	e := newEnv(t, append(opts, func(_ *Config, d *Deps) {
		svc = broadcast.New(d.DB, sender, broadcast.Config{
			Rate: rate, PollInterval: 50 * time.Millisecond, FeedPollInterval: time.Hour, Lease: 5 * time.Second,
		})
		d.Broadcast = svc
	})...)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = svc.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return &bcEnv{env: e, svc: svc, sender: sender}
}

// subscribers creates n Telegram citizens subscribed to the topic.
func (e *bcEnv) subscribers(topicID int64, n int) {
	e.t.Helper()
	if _, err := e.db.Exec(`
		WITH c AS (
			INSERT INTO citizens (channel, external_id)
			SELECT 'telegram', (900000 + $1 * 1000 + g)::text FROM generate_series(1, $2) g
			RETURNING id
		)
		INSERT INTO subscriptions (citizen_id, topic_id) SELECT id, $1 FROM c`, topicID, n); err != nil {
		e.t.Fatal(err)
	}
}

func (e *bcEnv) topic(slug, name string) broadcast.Topic {
	e.t.Helper()
	tp, err := e.svc.CreateTopic(context.Background(), staff.Principal{}, broadcast.TopicInput{Slug: slug, NameDE: name, Active: true})
	if err != nil {
		e.t.Fatal(err)
	}
	return tp
}

// bcPostMultipart posts a multipart form (with a valid CSRF token from the
// page at from) and an optional file field.
func (c *client) bcPostMultipart(from, path string, form url.Values, fileField, fileName string, file []byte) resp {
	c.t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	_ = w.WriteField("csrf_token", c.csrf(from))
	for k, vs := range form {
		for _, v := range vs {
			_ = w.WriteField(k, v)
		}
	}
	if fileField != "" {
		fw, _ := w.CreateFormFile(fileField, fileName)
		_, _ = fw.Write(file)
	}
	_ = w.Close()
	req, _ := http.NewRequest(http.MethodPost, c.base+path, &body)
	req.Header.Set("Content-Type", w.FormDataContentType())
	return c.do(req)
}

func locationID(t *testing.T, r resp, prefix string) string {
	t.Helper()
	loc := r.Header.Get("Location")
	rest, ok := strings.CutPrefix(loc, prefix)
	if r.Status != http.StatusSeeOther || !ok {
		t.Fatalf("status %d, location %q, want a redirect to %s...: %s", r.Status, loc, prefix, r.Body)
	}
	id, _, _ := strings.Cut(rest, "?")
	return id
}

func fieldError(body, field string) bool {
	return strings.Contains(body, `id="`+field+`-error"`) && strings.Contains(body, `role="alert"`)
}

func TestBroadcastPagesHiddenWithoutService(t *testing.T) {
	e := newEnv(t)
	e.user("admin@example.org", staff.RoleAdmin)
	admin := e.loggedIn("admin@example.org")
	if r := admin.get("/broadcast/posts"); r.Status != http.StatusNotFound {
		t.Errorf("posts without a service: %d", r.Status)
	}
	if r := admin.get("/account"); strings.Contains(r.Body, `href="/broadcast/posts"`) {
		t.Error("nav link shown without a service")
	}
}

func TestBroadcastRoles(t *testing.T) {
	e := newBroadcastEnv(t, 50, 0)
	e.user("admin@example.org", staff.RoleAdmin)
	e.user("ed@example.org", staff.RoleEditor, "bauamt")
	e.user("staff@example.org", staff.RoleStaff, "bauamt")
	tp := e.topic("aktuelles", "Aktuelles")
	clerk, editor, admin := e.loggedIn("staff@example.org"), e.loggedIn("ed@example.org"), e.loggedIn("admin@example.org")

	for _, path := range []string{"/broadcast/posts", "/broadcast/posts/new", "/broadcast/queue", "/broadcast/topics", "/broadcast/feeds", "/broadcast/posts/1/progress"} {
		if r := clerk.get(path); r.Status != http.StatusForbidden {
			t.Errorf("staff GET %s: %d, want 403", path, r.Status)
		}
	}
	form := url.Values{"text": {"Hallo"}, "topics": {fmt.Sprint(tp.ID)}}
	if r := clerk.postForm("/account", "/broadcast/posts", form); r.Status != http.StatusForbidden {
		t.Errorf("staff POST post: %d, want 403", r.Status)
	}
	if r := clerk.postForm("/account", "/broadcast/topics", url.Values{"slug": {"x"}, "name_de": {"X"}}); r.Status != http.StatusForbidden {
		t.Errorf("staff POST topic: %d, want 403", r.Status)
	}
	if r := clerk.get("/account"); strings.Contains(r.Body, `href="/broadcast/posts"`) {
		t.Error("staff sees the nav link")
	}
	if n := e.count(`SELECT count(*) FROM posts`); n != 0 {
		t.Fatalf("staff created %d posts", n)
	}

	// Editors post, but do not manage topics and feeds.
	r := editor.get("/broadcast/posts")
	if r.Status != http.StatusOK || !strings.Contains(r.Body, `href="/broadcast/posts" aria-current="page"`) {
		t.Errorf("editor posts: %d", r.Status)
	}
	if strings.Contains(r.Body, `href="/broadcast/topics"`) {
		t.Error("editor sees the topics link")
	}
	for _, path := range []string{"/broadcast/topics", "/broadcast/topics/new", "/broadcast/feeds", "/broadcast/feeds/new"} {
		if r := editor.get(path); r.Status != http.StatusForbidden {
			t.Errorf("editor GET %s: %d, want 403", path, r.Status)
		}
	}
	if r := editor.postForm("/broadcast/posts", "/broadcast/topics", url.Values{"slug": {"x"}, "name_de": {"X"}}); r.Status != http.StatusForbidden {
		t.Errorf("editor POST topic: %d, want 403", r.Status)
	}
	if r := editor.get("/broadcast/queue"); r.Status != http.StatusOK {
		t.Errorf("editor queue: %d", r.Status)
	}
	for _, path := range []string{"/broadcast/topics", "/broadcast/feeds", "/broadcast/posts", "/broadcast/queue"} {
		if r := admin.get(path); r.Status != http.StatusOK {
			t.Errorf("admin GET %s: %d", path, r.Status)
		}
	}
}

func TestBroadcastCSRF(t *testing.T) {
	e := newBroadcastEnv(t, 50, 0)
	e.user("admin@example.org", staff.RoleAdmin)
	admin := e.loggedIn("admin@example.org")
	tp := e.topic("aktuelles", "Aktuelles")
	post, err := e.svc.CreatePost(context.Background(), staff.Principal{}, broadcast.PostInput{Text: "Hallo", TopicIDs: []int64{tp.ID}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		path string
		form url.Values
	}{
		{"/broadcast/topics", url.Values{"slug": {"neu"}, "name_de": {"Neu"}}},
		{"/broadcast/posts", url.Values{"text": {"Hallo"}, "topics": {fmt.Sprint(tp.ID)}}},
		{fmt.Sprintf("/broadcast/posts/%d/send", post.ID), url.Values{"when": {"now"}, "confirm": {"yes"}}},
		{"/broadcast/feeds", url.Values{"url": {"https://example.org/feed"}, "topic": {fmt.Sprint(tp.ID)}}},
	} {
		for _, tok := range []string{"", "wrong-token"} {
			f := url.Values{}
			for k, v := range tt.form {
				f[k] = v
			}
			if tok != "" {
				f.Set("csrf_token", tok)
			}
			if r := admin.post(tt.path, f); r.Status != http.StatusForbidden {
				t.Errorf("POST %s with token %q: %d, want 403", tt.path, tok, r.Status)
			}
		}
	}
	if n := e.count(`SELECT count(*) FROM topics`); n != 1 {
		t.Errorf("%d topics after rejected posts", n)
	}
	if n := e.count(`SELECT count(*) FROM posts WHERE status <> 'draft'`); n != 0 {
		t.Error("a rejected POST released a post")
	}
	if n := e.count(`SELECT count(*) FROM feeds`); n != 0 {
		t.Error("a rejected POST created a feed")
	}
}

func TestBroadcastTopicsAdmin(t *testing.T) {
	e := newBroadcastEnv(t, 50, 0)
	e.user("admin@example.org", staff.RoleAdmin)
	admin := e.loggedIn("admin@example.org")
	if r := admin.get("/broadcast/topics"); r.Status != http.StatusOK || !strings.Contains(r.Body, "Noch keine Themen") {
		t.Fatalf("empty list: %d", r.Status)
	}
	existing := e.topic("aktuelles", "Aktuelles")

	valid := url.Values{"slug": {"baustellen"}, "name_de": {"Baustellen & Verkehr"}, "name_en": {"Roadworks"}, "description": {"Sperrungen"}, "active": {"on"}, "sort": {"3"}}
	with := func(k, v string) url.Values { return formWith(valid, k, v) }
	for _, tt := range []struct {
		name, field string
		form        url.Values
		msg         string
	}{
		{"empty slug", "slug", with("slug", " "), "Bitte geben Sie einen Kurznamen an."},
		{"bad slug", "slug", with("slug", "Bau stellen!"), "nur Kleinbuchstaben"},
		{"taken slug", "slug", with("slug", "aktuelles"), "Diesen Kurznamen hat schon ein anderes Thema."},
		{"no German name", "name_de", with("name_de", ""), "Bitte geben Sie einen deutschen Namen an."},
		{"sort", "sort", with("sort", "oben"), "ganze Zahl"},
	} {
		r := admin.postForm("/broadcast/topics/new", "/broadcast/topics", tt.form)
		if r.Status != http.StatusBadRequest || !fieldError(r.Body, tt.field) || !strings.Contains(r.Body, tt.msg) {
			t.Errorf("%s: %d, field error %v, message %q", tt.name, r.Status, fieldError(r.Body, tt.field), tt.msg)
		}
		if !strings.Contains(r.Body, `aria-describedby="`+tt.field+`-error`) {
			t.Errorf("%s: error not linked to the field", tt.name)
		}
	}
	if n := e.count(`SELECT count(*) FROM topics`); n != 1 {
		t.Fatalf("invalid forms stored topics: %d", n)
	}

	locationID(t, admin.postForm("/broadcast/topics/new", "/broadcast/topics", valid), "/broadcast/topics")
	var tp broadcast.Topic
	if err := e.db.Get(&tp, `SELECT id, slug, name_de, name_en, description, active, sort, created_at, updated_at FROM topics WHERE slug = 'baustellen'`); err != nil {
		t.Fatal(err)
	}
	if tp.NameEN != "Roadworks" || tp.Sort != 3 || !tp.Active {
		t.Errorf("stored %+v", tp)
	}
	sid := fmt.Sprint(tp.ID)
	if e.auditCount("broadcast.topic.create", "topic", sid) != 1 {
		t.Error("create not audited")
	}
	e.subscribers(tp.ID, 3)
	r := admin.get("/broadcast/topics")
	if !strings.Contains(r.Body, `<code>abo-baustellen</code>`) || !strings.Contains(r.Body, `data-subscribers="3"`) ||
		!strings.Contains(r.Body, "Baustellen &amp; Verkehr") {
		t.Errorf("list lacks payload, count or name:\n%s", r.Body)
	}

	// Edit: taken slug refused, then a valid change.
	if r := admin.postForm("/broadcast/topics/"+sid, "/broadcast/topics/"+sid, with("slug", existing.Slug)); r.Status != http.StatusBadRequest {
		t.Errorf("edit to a taken slug: %d", r.Status)
	}
	if r := admin.postForm("/broadcast/topics/"+sid, "/broadcast/topics/"+sid, with("name_de", "Baustellen")); r.Status != http.StatusSeeOther {
		t.Fatalf("update: %d %s", r.Status, r.Body)
	}
	if got, _ := e.svc.Topic(context.Background(), tp.ID); got.NameDE != "Baustellen" {
		t.Errorf("name after update %q", got.NameDE)
	}
	if e.auditCount("broadcast.topic.update", "topic", sid) != 1 {
		t.Error("update not audited")
	}

	// The chart: accessible SVG with title, desc and a data table.
	r = admin.get("/broadcast/topics/" + sid + "?days=30")
	for _, want := range []string{`role="img"`, `aria-labelledby="chart-title chart-desc"`, `<title id="chart-title">`, `<desc id="chart-desc">`, `<polyline points="`, `id="chart-table"`, `<code id="deeplink">abo-baustellen</code>`} {
		if !strings.Contains(r.Body, want) {
			t.Errorf("topic page lacks %s", want)
		}
	}
	if n := strings.Count(r.Body, `<tr><th scope="row">`); n != 30 {
		t.Errorf("chart table has %d rows, want 30", n)
	}
	if !strings.Contains(r.Body, "<td>3</td><td>3</td><td>0</td></tr></tbody>") {
		t.Error("the last day does not show the 3 new subscribers")
	}
	if r := admin.get("/broadcast/topics/999999"); r.Status != http.StatusNotFound {
		t.Errorf("unknown topic: %d", r.Status)
	}
	if r := admin.get("/broadcast/topics/abc"); r.Status != http.StatusNotFound {
		t.Errorf("bad id: %d", r.Status)
	}
}

func TestBroadcastPosts(t *testing.T) {
	e := newBroadcastEnv(t, 200, 0)
	e.user("ed@example.org", staff.RoleEditor, "bauamt")
	editor := e.loggedIn("ed@example.org")
	tp := e.topic("aktuelles", "Aktuelles")
	other := e.topic("events", "Veranstaltungen")
	e.subscribers(tp.ID, 4)
	topicID := fmt.Sprint(tp.ID)

	valid := url.Values{"text": {"Die Brücke ist <script>alert(1)</script> gesperrt & bleibt es."}, "topics": {topicID, fmt.Sprint(other.ID)},
		"link_url": {"https://stadt.example/bruecke"}, "department": {"bauamt"}}
	with := func(k, v string) url.Values {
		f := url.Values{}
		for k, vs := range valid {
			f[k] = vs
		}
		if v == "" {
			f.Del(k)
		} else {
			f.Set(k, v)
		}
		return f
	}
	for _, tt := range []struct {
		name, field, msg string
		form             url.Values
	}{
		{"empty text", "text", "Bitte geben Sie einen Text ein.", with("text", "")},
		{"too long", "text", "erlaubt sind höchstens 4096", with("text", strings.Repeat("a", 4097))},
		{"caption too long", "text", "mit Foto sind höchstens 1024", with("photo_url", "https://stadt.example/a.jpg")},
		{"no topic", "topics", "mindestens ein Thema", with("topics", "")},
		{"unknown topic", "topics", "gibt es nicht", with("topics", "999999")},
		{"bad link", "link_url", "http:// oder https://", with("link_url", "javascript:alert(1)")},
		{"bad photo url", "photo_url", "http:// oder https://", with("photo_url", "ftp://x/y.jpg")},
		{"unknown department", "department", "Dieses Amt gibt es nicht.", with("department", "nope")},
	} {
		f := tt.form
		if tt.name == "caption too long" {
			f.Set("text", strings.Repeat("b", 1025))
		}
		r := editor.bcPostMultipart("/broadcast/posts/new", "/broadcast/posts", f, "", "", nil)
		if r.Status != http.StatusBadRequest || !fieldError(r.Body, tt.field) || !strings.Contains(r.Body, tt.msg) {
			t.Errorf("%s: %d, field error %v, message %q", tt.name, r.Status, fieldError(r.Body, tt.field), tt.msg)
		}
	}
	// A file that is not an image.
	r := editor.bcPostMultipart("/broadcast/posts/new", "/broadcast/posts", valid, "photo", "x.jpg", []byte("MZ not an image at all"))
	if r.Status != http.StatusBadRequest || !fieldError(r.Body, "photo") {
		t.Errorf("non-image upload: %d", r.Status)
	}
	if n := e.count(`SELECT count(*) FROM posts`); n != 0 {
		t.Fatalf("invalid forms stored %d posts", n)
	}

	// Create a draft with a photo: the preview escapes the text and shows the buttons.
	id := locationID(t, editor.bcPostMultipart("/broadcast/posts/new", "/broadcast/posts", valid, "photo", "bruecke.png", pngBytes), "/broadcast/posts/")
	if e.auditCount("broadcast.post.create", "post", id) != 1 {
		t.Error("create not audited")
	}
	page := editor.get("/broadcast/posts/" + id)
	if page.Status != http.StatusOK {
		t.Fatalf("post page: %d", page.Status)
	}
	if strings.Contains(page.Body, "<script>alert(1)</script>") || !strings.Contains(page.Body, "&lt;script&gt;alert(1)&lt;/script&gt; gesperrt &amp; bleibt es.") {
		t.Errorf("the preview does not escape the text:\n%s", page.Body)
	}
	for _, want := range []string{`id="preview-recipients">4<`, "Frage dazu", "Mehr erfahren", `src="/broadcast/posts/` + id + `/photo"`, "Hochgeladen: bruecke.png"} {
		if !strings.Contains(page.Body, want) {
			t.Errorf("post page lacks %q", want)
		}
	}
	if ph := editor.get("/broadcast/posts/" + id + "/photo"); ph.Status != http.StatusOK || ph.Header.Get("Content-Type") != "image/png" {
		t.Errorf("photo: %d %s", ph.Status, ph.Header.Get("Content-Type"))
	}

	// Edit: remove the photo, change the text.
	edit := with("text", "Die Brücke ist wieder frei.")
	edit.Set("remove_photo", "on")
	if r := editor.bcPostMultipart("/broadcast/posts/"+id, "/broadcast/posts/"+id, edit, "", "", nil); r.Status != http.StatusSeeOther {
		t.Fatalf("update: %d %s", r.Status, r.Body)
	}
	var p broadcast.Post
	var pid int64
	fmt.Sscan(id, &pid)
	p, _ = e.svc.Post(context.Background(), pid)
	if p.HasPhotoData || p.Text != "Die Brücke ist wieder frei." || p.DepartmentID != "bauamt" || len(p.TopicIDs) != 2 {
		t.Errorf("after update: %+v", p)
	}
	if e.auditCount("broadcast.post.update", "post", id) != 1 || e.auditCount("broadcast.post.remove_photo", "post", id) != 1 {
		t.Error("update not audited")
	}

	// Schedule: a time in the past is refused, a future one stored (Europe/Berlin).
	r = editor.postForm("/broadcast/posts/"+id, "/broadcast/posts/"+id+"/send", url.Values{"when": {"at"}, "at": {"2020-01-01T10:00"}})
	if r.Status != http.StatusBadRequest || !fieldError(r.Body, "at") || !strings.Contains(r.Body, "Vergangenheit") {
		t.Errorf("past time: %d", r.Status)
	}
	r = editor.postForm("/broadcast/posts/"+id, "/broadcast/posts/"+id+"/send", url.Values{"when": {"at"}, "at": {"morgen"}})
	if r.Status != http.StatusBadRequest || !fieldError(r.Body, "at") {
		t.Errorf("bad time: %d", r.Status)
	}
	berlin, _ := time.LoadLocation("Europe/Berlin")
	at := time.Now().In(berlin).Add(48 * time.Hour).Truncate(time.Minute)
	r = editor.postForm("/broadcast/posts/"+id, "/broadcast/posts/"+id+"/send", url.Values{"when": {"at"}, "at": {at.Format("2006-01-02T15:04")}})
	if r.Status != http.StatusSeeOther {
		t.Fatalf("schedule: %d %s", r.Status, r.Body)
	}
	p, _ = e.svc.Post(context.Background(), pid)
	if p.Status != broadcast.StatusScheduled || !p.SendAt.Time.Equal(at) {
		t.Errorf("scheduled %s at %v, want %v", p.Status, p.SendAt.Time, at)
	}
	if e.auditCount("broadcast.post.schedule", "post", id) != 1 {
		t.Error("schedule not audited")
	}
	if r := editor.get("/broadcast/posts/" + id); !strings.Contains(r.Body, `value="`+at.Format("2006-01-02T15:04")+`"`) {
		t.Error("the form does not show the scheduled time")
	}
	if r := editor.postForm("/broadcast/posts/"+id, "/broadcast/posts/"+id+"/unschedule", nil); r.Status != http.StatusSeeOther {
		t.Fatalf("unschedule: %d", r.Status)
	}
	if p, _ = e.svc.Post(context.Background(), pid); p.Status != broadcast.StatusDraft {
		t.Errorf("after unschedule: %s", p.Status)
	}

	// "Jetzt senden" asks first, with the number of recipients, and sends nothing yet.
	if r := editor.postForm("/broadcast/posts/"+id, "/broadcast/posts/"+id+"/send", url.Values{"when": {"now"}}); r.Status != http.StatusOK ||
		!strings.Contains(r.Body, "Die Nachricht geht sofort an 4 Empfängerinnen und Empfänger") || !strings.Contains(r.Body, `name="confirm" value="yes"`) {
		t.Fatalf("send without confirmation: %d", r.Status)
	}
	if p, _ = e.svc.Post(context.Background(), pid); p.Status != broadcast.StatusDraft {
		t.Fatalf("sent without confirmation: %s", p.Status)
	}
	// Send now: all 4 subscribers get it; the progress JSON says so.
	if r := editor.postForm("/broadcast/posts/"+id, "/broadcast/posts/"+id+"/send", url.Values{"when": {"now"}, "confirm": {"yes"}}); r.Status != http.StatusSeeOther {
		t.Fatalf("send: %d", r.Status)
	}
	if e.auditCount("broadcast.post.send", "post", id) != 1 {
		t.Error("send not audited")
	}
	var pr bcProgressView
	deadline := time.Now().Add(15 * time.Second)
	for {
		r := editor.get("/broadcast/posts/" + id + "/progress")
		if r.Status != http.StatusOK || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
			t.Fatalf("progress: %d %s", r.Status, r.Header.Get("Content-Type"))
		}
		if err := json.Unmarshal([]byte(r.Body), &pr); err != nil {
			t.Fatal(err)
		}
		if pr.Status == broadcast.StatusSent || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if pr.Status != "sent" || pr.StatusText != "Gesendet" || !pr.Done || pr.Sent != 4 || pr.Remaining != 0 || pr.Total != 4 || pr.Percent != 100 {
		t.Errorf("progress %+v", pr)
	}
	if chats, msgs := e.sender.count(); chats != 4 || msgs != 4 {
		t.Errorf("sent %d messages to %d chats", msgs, chats)
	}
	// A sent post cannot be edited, cancelled or deleted.
	if r := editor.bcPostMultipart("/broadcast/posts/"+id, "/broadcast/posts/"+id, valid, "", "", nil); r.Status != http.StatusConflict {
		t.Errorf("edit after sending: %d", r.Status)
	}
	if r := editor.postForm("/broadcast/posts/"+id, "/broadcast/posts/"+id+"/cancel", nil); r.Status != http.StatusConflict {
		t.Errorf("cancel after sending: %d", r.Status)
	}
	page = editor.get("/broadcast/posts/" + id)
	if strings.Contains(page.Body, `id="post-form"`) || !strings.Contains(page.Body, `data-progress-src="/broadcast/posts/`+id+`/progress"`) ||
		!strings.Contains(page.Body, `id="progress-sent" data-field="sent">4<`) {
		t.Error("the page of a sent post shows the form or no progress")
	}
	list := editor.get("/broadcast/posts")
	if !strings.Contains(list.Body, `id="post-`+id+`"`) || !strings.Contains(list.Body, "4 von 4 gesendet") {
		t.Errorf("list:\n%s", list.Body)
	}
	if r := editor.get("/broadcast/posts?status=sent"); !strings.Contains(r.Body, `id="post-`+id+`"`) {
		t.Error("status filter lost the post")
	}
	if r := editor.get("/broadcast/posts?status=draft"); strings.Contains(r.Body, `id="post-`+id+`"`) {
		t.Error("status filter shows a sent post as draft")
	}

	// Cancel a scheduled post; delete a draft.
	p2, err := e.svc.CreatePost(context.Background(), staff.Principal{}, broadcast.PostInput{Text: "Später", TopicIDs: []int64{tp.ID}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.SchedulePost(context.Background(), staff.Principal{}, p2.ID, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	id2 := fmt.Sprint(p2.ID)
	if r := editor.postForm("/broadcast/posts/"+id2, "/broadcast/posts/"+id2+"/cancel", nil); r.Status != http.StatusSeeOther {
		t.Fatalf("cancel: %d", r.Status)
	}
	if p, _ := e.svc.Post(context.Background(), p2.ID); p.Status != broadcast.StatusCancelled || e.auditCount("broadcast.post.cancel", "post", id2) != 1 {
		t.Errorf("cancel: %s", p.Status)
	}
	p3, _ := e.svc.CreatePost(context.Background(), staff.Principal{}, broadcast.PostInput{Text: "Weg damit", TopicIDs: []int64{tp.ID}})
	id3 := fmt.Sprint(p3.ID)
	if r := editor.postForm("/broadcast/posts/"+id3, "/broadcast/posts/"+id3+"/delete", nil); r.Status != http.StatusSeeOther {
		t.Fatalf("delete: %d", r.Status)
	}
	if r := editor.get("/broadcast/posts/" + id3); r.Status != http.StatusNotFound || e.auditCount("broadcast.post.delete", "post", id3) != 1 {
		t.Errorf("deleted post: %d", r.Status)
	}
	if r := editor.get("/broadcast/posts/999999/progress"); r.Status != http.StatusNotFound {
		t.Errorf("progress of an unknown post: %d", r.Status)
	}
}

// feedServer serves an RSS feed whose items can change; fail makes it
// answer 500.
type feedServer struct {
	mu    sync.Mutex
	items []string // titles; guid = title
	fail  atomic.Bool
}

func (f *feedServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if f.fail.Load() {
		http.Error(w, "boom", http.StatusInternalServerError)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var b strings.Builder
	b.WriteString(`<?xml version="1.0"?><rss version="2.0"><channel><title>Stadtnachrichten</title><link>https://stadt.example/</link><description>x</description>`)
	for _, it := range f.items {
		fmt.Fprintf(&b, `<item><title>%s</title><guid>%s</guid><link>https://stadt.example/%s</link><description>Mehr zu %s</description></item>`, it, it, url.PathEscape(it), it)
	}
	b.WriteString(`</channel></rss>`)
	w.Header().Set("Content-Type", "application/rss+xml")
	_, _ = w.Write([]byte(b.String()))
}

func (f *feedServer) add(title string) {
	f.mu.Lock()
	f.items = append(f.items, title)
	f.mu.Unlock()
}

var itemIDRe = regexp.MustCompile(`action="/broadcast/queue/(\d+)/approve"`)

func TestBroadcastFeedsAdmin(t *testing.T) {
	e := newBroadcastEnv(t, 200, 0)
	e.user("admin@example.org", staff.RoleAdmin)
	e.user("ed@example.org", staff.RoleEditor, "bauamt")
	admin, editor := e.loggedIn("admin@example.org"), e.loggedIn("ed@example.org")
	tp := e.topic("aktuelles", "Aktuelles")
	e.subscribers(tp.ID, 2)
	fs := &feedServer{items: []string{"Alt"}}
	ts := httptest.NewServer(fs)
	t.Cleanup(ts.Close)

	valid := url.Values{"url": {ts.URL + "/rss"}, "topic": {fmt.Sprint(tp.ID)}, "mode": {"approval"}, "department": {"bauamt"}, "minutes": {"15"}, "active": {"on"}}
	with := func(k, v string) url.Values { return formWith(valid, k, v) }
	for _, tt := range []struct {
		name, field, msg string
		form             url.Values
	}{
		{"no url", "url", "Adresse des Feeds an", with("url", "")},
		{"ftp url", "url", "http:// oder https://", with("url", "ftp://example.org/feed")},
		{"password", "url", "kein Passwort", with("url", "https://u:p@example.org/feed")},
		{"no topic", "topic", "Bitte wählen Sie ein Thema.", with("topic", "")},
		{"interval", "minutes", "von 1 bis", with("minutes", "0")},
		{"department", "department", "Dieses Amt gibt es nicht.", with("department", "nope")},
	} {
		r := admin.postForm("/broadcast/feeds/new", "/broadcast/feeds", tt.form)
		if r.Status != http.StatusBadRequest || !fieldError(r.Body, tt.field) || !strings.Contains(r.Body, tt.msg) {
			t.Errorf("%s: %d, field error %v, message %q", tt.name, r.Status, fieldError(r.Body, tt.field), tt.msg)
		}
	}
	if r := admin.postForm("/broadcast/feeds/new", "/broadcast/feeds", valid); r.Status != http.StatusSeeOther {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	var feedID int64
	if err := e.db.Get(&feedID, `SELECT id FROM feeds WHERE url = $1 AND NOT auto_publish AND poll_seconds = 900 AND department_id = 'bauamt'`, ts.URL+"/rss"); err != nil {
		t.Fatal(err)
	}
	fid := fmt.Sprint(feedID)
	if e.auditCount("broadcast.feed.create", "feed", fid) != 1 {
		t.Error("create not audited")
	}
	if r := admin.postForm("/broadcast/feeds/new", "/broadcast/feeds", valid); r.Status != http.StatusBadRequest || !strings.Contains(r.Body, "gibt es für dieses Thema schon") {
		t.Errorf("duplicate feed: %d", r.Status)
	}

	// First fetch: items already there are not posted. Then a new item waits for approval.
	if r := admin.postForm("/broadcast/feeds", "/broadcast/feeds/"+fid+"/refresh", nil); r.Status != http.StatusSeeOther || !strings.Contains(r.Header.Get("Location"), "notice=bc_fetched") {
		t.Fatalf("refresh: %d %s", r.Status, r.Header.Get("Location"))
	}
	fs.add("Neu: Stadtfest")
	fs.add("Neu: Baustelle")
	admin.postForm("/broadcast/feeds", "/broadcast/feeds/"+fid+"/refresh", nil)
	if e.auditCount("broadcast.feed.refresh", "feed", fid) != 2 {
		t.Error("refresh not audited")
	}
	r := admin.get("/broadcast/feeds")
	if !strings.Contains(r.Body, `<a href="/broadcast/queue?feed=`+fid+`">2</a>`) || !strings.Contains(r.Body, "Stadtnachrichten") || strings.Contains(r.Body, "feed-error") {
		t.Errorf("feed list:\n%s", r.Body)
	}
	q := editor.get("/broadcast/queue?feed=" + fid)
	ids := itemIDRe.FindAllStringSubmatch(q.Body, -1)
	if len(ids) != 2 || !strings.Contains(q.Body, "Neu: Stadtfest") {
		t.Fatalf("queue has %d items:\n%s", len(ids), q.Body)
	}
	if r := editor.postForm("/broadcast/queue", "/broadcast/queue/"+ids[0][1]+"/approve", nil); r.Status != http.StatusSeeOther {
		t.Fatalf("approve: %d", r.Status)
	}
	if r := editor.postForm("/broadcast/queue", "/broadcast/queue/"+ids[1][1]+"/reject", nil); r.Status != http.StatusSeeOther {
		t.Fatalf("reject: %d", r.Status)
	}
	if r := editor.postForm("/broadcast/queue", "/broadcast/queue/"+ids[1][1]+"/approve", nil); r.Status != http.StatusConflict {
		t.Errorf("approve a rejected item: %d", r.Status)
	}
	if e.auditCount("broadcast.item.approve", "feed_item", ids[0][1]) != 1 || e.auditCount("broadcast.item.reject", "feed_item", ids[1][1]) != 1 {
		t.Error("approve/reject not audited")
	}
	if n := e.count(`SELECT count(*) FROM posts p JOIN feed_items i ON i.post_id = p.id WHERE i.id = $1 AND p.department_id = 'bauamt'`, ids[0][1]); n != 1 {
		t.Error("approved item has no post")
	}
	if r := editor.get("/broadcast/queue"); !strings.Contains(r.Body, "Keine Einträge warten") {
		t.Error("queue not empty")
	}

	// Edit: auto-publish, longer interval.
	if r := admin.postForm("/broadcast/feeds/"+fid, "/broadcast/feeds/"+fid, with("mode", "auto")); r.Status != http.StatusSeeOther {
		t.Fatalf("update: %d %s", r.Status, r.Body)
	}
	if f, _ := e.svc.Feed(context.Background(), feedID); !f.AutoPublish || e.auditCount("broadcast.feed.update", "feed", fid) != 1 {
		t.Errorf("update: %+v", f)
	}

	// A broken feed: the error is shown in the list.
	fs.fail.Store(true)
	if r := admin.postForm("/broadcast/feeds", "/broadcast/feeds/"+fid+"/refresh", nil); !strings.Contains(r.Header.Get("Location"), "notice=bc_fetch_failed") {
		t.Errorf("failed refresh: %s", r.Header.Get("Location"))
	}
	r = admin.get("/broadcast/feeds")
	if !strings.Contains(r.Body, `class="error feed-error"`) || !strings.Contains(r.Body, "Der Feed-Server hat mit HTTP 500 geantwortet.") {
		t.Errorf("feed error not shown (in German):\n%s", r.Body)
	}

	// Delete.
	if r := admin.postForm("/broadcast/feeds/"+fid, "/broadcast/feeds/"+fid+"/delete", nil); r.Status != http.StatusSeeOther {
		t.Fatalf("delete: %d", r.Status)
	}
	if r := admin.get("/broadcast/feeds/" + fid); r.Status != http.StatusNotFound || e.auditCount("broadcast.feed.delete", "feed", fid) != 1 {
		t.Errorf("deleted feed: %d", r.Status)
	}
}

func TestBroadcastEnglish(t *testing.T) {
	e := newBroadcastEnv(t, 50, 0)
	e.user("admin@example.org", staff.RoleAdmin)
	admin := e.loggedIn("admin@example.org")
	if _, err := e.db.Exec(`UPDATE users SET language = 'en'`); err != nil {
		t.Fatal(err)
	}
	admin = e.loggedIn("admin@example.org")
	r := admin.get("/broadcast/posts/new")
	if !strings.Contains(r.Body, "Save draft and show preview") || !strings.Contains(r.Body, `>News</a>`) {
		t.Errorf("English page:\n%s", r.Body)
	}
}

// TestBroadcastDeepLinkReady: with the bot's username configured, topics
// show their subscription link as a real link with a copy button, not as
// a pattern to fill in.
func TestBroadcastDeepLinkReady(t *testing.T) {
	e := newBroadcastEnv(t, 50, 0, func(c *Config, _ *Deps) { c.BotUsername = "@musterstadt_bot" })
	e.user("admin@example.org", staff.RoleAdmin)
	admin := e.loggedIn("admin@example.org")
	tp := e.topic("baustellen", "Baustellen")
	const link = "https://t.me/musterstadt_bot?start=" + broadcast.DeepLinkPrefix + "baustellen"
	r := admin.get("/broadcast/topics")
	if !strings.Contains(r.Body, `<a href="`+link+`"`) || !strings.Contains(r.Body, `data-copy="link-`) || strings.Contains(r.Body, "CITYBOT_TELEGRAM_BOT_USERNAME") {
		t.Errorf("topics list without a ready link: %s", r.Body)
	}
	r = admin.get(fmt.Sprintf("/broadcast/topics/%d", tp.ID))
	if !strings.Contains(r.Body, `value="`+link+`"`) || !strings.Contains(r.Body, `data-copy="deeplink-text"`) {
		t.Errorf("topic page without a ready link")
	}
}
