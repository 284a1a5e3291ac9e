package admin

import (
	"bytes"
	"context"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"

	"citybot/faq"
	"citybot/internal/demodata"
	"citybot/staff"
)

// withDemoFAQ imports the demo city's departments and FAQ.
func (e *env) withDemoFAQ() *faq.Store {
	e.t.Helper()
	ds, err := faq.ReadDatasetFS(demodata.FS)
	if err != nil {
		e.t.Fatal(err)
	}
	st := faq.NewStore(e.db)
	if _, err := st.Import(context.Background(), ds); err != nil {
		e.t.Fatal(err)
	}
	return st
}

func (c *client) postMultipart(from, path, field, filename string, content []byte) resp {
	c.t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	_ = w.WriteField("csrf_token", c.csrf(from))
	fw, _ := w.CreateFormFile(field, filename)
	_, _ = fw.Write(content)
	_ = w.Close()
	req, _ := http.NewRequest(http.MethodPost, c.base+path, &body)
	req.Header.Set("Content-Type", w.FormDataContentType())
	return c.do(req)
}

func TestEditorPagesRender(t *testing.T) {
	e := newEnv(t)
	e.withDemoFAQ()
	e.user("admin@example.org", staff.RoleAdmin)
	e.user("bau@example.org", staff.RoleEditor, "bauamt")
	for _, who := range []string{"admin@example.org", "bau@example.org"} {
		c := e.loggedIn(who)
		for path, want := range map[string]string{
			"/faq": "Wie stelle ich einen Bauantrag?",
			"/faq?department=bauamt&status=published&q=bauantrag": `data-entry="bauantrag-stellen"`,
			"/faq/new":                           `action="/faq/new"`,
			"/faq/e/bauantrag-stellen":           `id="preview"`,
			"/faq/e/personalausweis-beantragen":  `You apply for a new ID card in person`, // the English answer field
			"/faq/e/bauantrag-stellen/history":   "System/Import",
			"/faq/synonyms":                      "eingebaute Synonyme",
			"/faq/try?q=Perso+verloren":          `data-entry="ausweis-verloren"`,
			"/faq/try?q=Perso+weg":               `data-via="synonym"`,
			"/faq/try?q=Persnalausweis+verloren": `data-via="typo"`,
			"/faq/regressions":                   "Noch keine Prüffragen",
			"/faq/unanswered":                    "Keine Fragen.",
			"/faq/dashboard":                     `role="img"`,
			"/faq/io":                            `enctype="multipart/form-data"`,
			"/faq/audit":                         `id="audit"`,
			"/faq/dashboard.csv":                 "metric,value",
			"/faq/export.csv":                    "id,department,question,variants,answer,tags,status",
			"/faq/export.json":                   `"id": "bauantrag-stellen"`,
			"/faq/export.json?file=departments":  `"id": "bauamt"`,
		} {
			r := c.get(path)
			if r.Status != http.StatusOK || !strings.Contains(r.Body, want) {
				t.Errorf("%s: GET %s: status %d, lacks %q", who, path, r.Status, want)
			}
		}
		// an entry of another department is shown read-only to the editor
		r := c.get("/faq/e/personalausweis-beantragen")
		if ro := strings.Contains(r.Body, "gehört zu einem anderen Amt"); ro != (who == "bau@example.org") {
			t.Errorf("%s: read-only notice %v", who, ro)
		}
	}
	// Try-it shows the confidence model's probability beside each candidate.
	c := e.loggedIn("admin@example.org")
	if r := c.get("/faq/try?q=Perso+verloren"); !regexp.MustCompile(`<td class="confidence">\d+ %</td>`).MatchString(r.Body) {
		t.Errorf("try-it shows no model confidence")
	}
	// The Telegram preview escapes HTML like the bot does.
	r := c.postForm("/faq/new", "/faq/new", url.Values{"action": {"preview"}, "department": {"bauamt"},
		"question": {"Frage <b>fett</b>?"}, "answer": {"Absatz eins & <script>.\n\nAbsatz zwei."}})
	if r.Status != 200 || !strings.Contains(r.Body, "<b>Frage &lt;b&gt;fett&lt;/b&gt;?</b>") || !strings.Contains(r.Body, "Absatz eins &amp; &lt;script&gt;.") {
		t.Errorf("preview: %d", r.Status)
	}
	// The English answer is saved with the entry and exported.
	r = c.postForm("/faq/new", "/faq/new", url.Values{"department": {"bauamt"}, "question": {"Gilt das auch auf Englisch?"},
		"answer": {"Ja."}, "answer_en": {"Yes, in English too."}, "status": {"published"}})
	if r.Status != 200 && r.Status != 303 {
		t.Errorf("create with English answer: %d", r.Status)
	}
	var en string
	if err := e.db.Get(&en, `SELECT answer_en FROM faq_entries WHERE question = 'Gilt das auch auf Englisch?'`); err != nil || en != "Yes, in English too." {
		t.Errorf("stored English answer = %q (%v)", en, err)
	}
	if r := c.get("/faq/export.json"); !strings.Contains(r.Body, `"answer_en": "Yes, in English too."`) {
		t.Error("export without the English answer")
	}
	// English.
	c.post("/language", url.Values{"lang": {"en"}, "csrf_token": {c.csrf("/faq")}})
	if r := c.get("/faq/synonyms"); !strings.Contains(r.Body, "built-in synonyms") {
		t.Errorf("English page: %s", r.Body[:200])
	}
}

// TestEditorRoutesEnforceDepartments: an editor of the Bauamt gets 403 from
// every state-changing route for an entry of the Bürgerbüro, and nothing
// changes; staff get 403 from every editor route.
func TestEditorRoutesEnforceDepartments(t *testing.T) {
	e := newEnv(t)
	st := e.withDemoFAQ()
	ctx := context.Background()
	adminID := e.user("admin@example.org", staff.RoleAdmin)
	e.user("bau@example.org", staff.RoleEditor, "bauamt")
	e.user("staff@example.org", staff.RoleStaff, "bauamt")
	const other = "personalausweis-beantragen"
	admin := staff.Principal{ID: adminID, Role: staff.RoleAdmin}
	oe, _ := st.Entry(ctx, other)
	ch := oe
	ch.Tags = append(ch.Tags, "Admin")
	rev, err := st.UpdateEntry(ctx, admin, ch, faq.AnyRevision)
	if err != nil {
		t.Fatal(err)
	}
	ch.Answer = "Entwurf"
	if _, err := st.SaveDraft(ctx, admin, ch); err != nil {
		t.Fatal(err)
	}
	var cit, qid int64
	_ = e.db.Get(&cit, `INSERT INTO citizens (channel, external_id) VALUES ('telegram', '9') RETURNING id`)
	_ = e.db.Get(&qid, `INSERT INTO unanswered (citizen_id, text, reason) VALUES ($1, 'Perso weg', 'no_match') RETURNING id`, cit)
	count := func() string {
		var s string
		_ = e.db.Get(&s, `SELECT (SELECT count(*) FROM faq_revisions) || '/' || (SELECT count(*) FROM faq_entries) || '/' ||
			(SELECT count(*) FROM faq_drafts) || '/' || (SELECT count(*) FROM unanswered WHERE status = 'open')`)
		return s
	}
	before := count()

	entryForm := url.Values{"department": {"buergerbuero"}, "question": {oe.Question}, "answer": {"Geändert"}, "revision": {"0"}}
	writes := []struct {
		path string
		form url.Values
	}{
		{"/faq/e/" + other, entryForm},
		{"/faq/e/" + other, withAction(entryForm, "draft")},
		{"/faq/e/" + other + "/publish", nil},
		{"/faq/e/" + other + "/status", url.Values{"status": {"archived"}}},
		{"/faq/e/" + other + "/discard", nil},
		{"/faq/e/" + other + "/restore", url.Values{"revision": {itoa(rev.ID)}}},
		{"/faq/new", url.Values{"department": {"buergerbuero"}, "question": {"Neu?"}, "answer": {"A"}}},
		{"/faq/e/bauantrag-stellen", url.Values{"department": {"buergerbuero"}, "question": {"Wie stelle ich einen Bauantrag?"}, "answer": {"A"}, "revision": {"0"}}},
		{"/faq/unanswered/variant", url.Values{"ids": {itoa(qid)}, "entry": {other}, "variant": {"Perso weg"}}},
		{"/faq/unanswered/new", url.Values{"ids": {itoa(qid)}, "department": {"buergerbuero"}, "question": {"Perso weg?"}, "answer": {"A"}}},
	}
	bau := e.loggedIn("bau@example.org")
	for _, w := range writes {
		if r := bau.postForm("/faq", w.path, w.form); r.Status != http.StatusForbidden {
			t.Errorf("editor: POST %s %v: status %d, want 403", w.path, w.form.Get("action"), r.Status)
		}
	}
	var buf bytes.Buffer
	_ = faq.WriteCSV(&buf, []faq.Entry{ch})
	if r := bau.postMultipart("/faq/io", "/faq/import", "file", "faq.csv", buf.Bytes()); r.Status != http.StatusForbidden {
		t.Errorf("editor: import of another department's entry: %d", r.Status)
	}
	if got := count(); got != before {
		t.Fatalf("forbidden requests changed data: %s -> %s", before, got)
	}

	// Staff: every editor route is forbidden.
	clerk := e.loggedIn("staff@example.org")
	tok := clerk.csrf("/account")
	for _, rt := range e.srv.engineRoutes() {
		if !strings.HasPrefix(rt[1], "/faq") {
			continue
		}
		path := strings.NewReplacer(":id", other, ":sid", "1", ":rid", "1").Replace(rt[1])
		var r resp
		if rt[0] == http.MethodGet {
			r = clerk.get(path)
		} else {
			r = clerk.post(path, url.Values{"csrf_token": {tok}})
		}
		if r.Status != http.StatusForbidden {
			t.Errorf("staff: %s %s: status %d, want 403", rt[0], path, r.Status)
		}
	}
	// The editor may change the own department's entry.
	r := bau.postForm("/faq/e/bauantrag-stellen", "/faq/e/bauantrag-stellen/status", url.Values{"status": {"archived"}})
	if r.Status != http.StatusSeeOther {
		t.Fatalf("own entry: %d", r.Status)
	}
}

func withAction(v url.Values, action string) url.Values {
	c := url.Values{}
	for k, vs := range v {
		c[k] = vs
	}
	c.Set("action", action)
	return c
}

var revisionRe = regexp.MustCompile(`name="revision" value="(\d+)"`)

// TestEditorFlow: create, edit, draft with the would-change diff of saved
// questions, publish, history and restore, through the pages.
func TestEditorFlow(t *testing.T) {
	e := newEnv(t)
	st := e.withDemoFAQ()
	ctx := context.Background()
	e.user("bau@example.org", staff.RoleEditor, "bauamt")
	c := e.loggedIn("bau@example.org")

	// Saved questions.
	for _, q := range [][2]string{{"Drohne anmelden", "staff"}, {"Wie stelle ich einen Bauantrag?", "bauantrag-stellen"}} {
		if r := c.postForm("/faq/regressions", "/faq/regressions", url.Values{"question": {q[0]}, "expect": {q[1]}}); r.Status != http.StatusSeeOther {
			t.Fatalf("save question: %d %s", r.Status, r.Body)
		}
	}
	if r := c.postForm("/faq/regressions", "/faq/regressions", url.Values{"question": {"Drohne anmelden"}, "expect": {"staff"}}); r.Status != http.StatusBadRequest || !strings.Contains(r.Body, "is saved already") {
		t.Errorf("duplicate question: %d", r.Status)
	}

	// Create a draft entry; a validation error keeps the input.
	r := c.postForm("/faq/new", "/faq/new", url.Values{"department": {"bauamt"}, "question": {"Darf ich eine Drohne über der Baustelle fliegen?"}, "answer": {" "}})
	if r.Status != http.StatusBadRequest || !strings.Contains(r.Body, "Antwort: must not be empty") || !strings.Contains(r.Body, "Drohne über der Baustelle") {
		t.Fatalf("invalid create: %d", r.Status)
	}
	r = c.postForm("/faq/new", "/faq/new", url.Values{"id": {"drohne"}, "department": {"bauamt"}, "question": {"Darf ich eine Drohne über der Baustelle fliegen?"},
		"variants": {"Drohne anmelden\n\nDrohne Baustelle"}, "answer": {"Nur mit Genehmigung."}, "tags": {"Drohne, Bauen"}})
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/faq/e/drohne?notice=faq_created" {
		t.Fatalf("create: %d %s", r.Status, r.Header.Get("Location"))
	}
	// The edit page of the draft shows what publishing would change.
	r = c.get("/faq/e/drohne")
	if !strings.Contains(r.Body, `id="changes"`) || !strings.Contains(r.Body, `data-question="Drohne anmelden"`) || strings.Contains(r.Body, `data-question="Wie stelle ich einen Bauantrag?"`) {
		t.Fatalf("would-change list wrong:\n%s", section(r.Body, `id="changes"`))
	}
	if !strings.Contains(section(r.Body, `id="changes"`), "verschlechtert") {
		t.Errorf("a saved staff question answered by the draft is not marked broken")
	}
	if r := c.postForm("/faq/e/drohne", "/faq/e/drohne/publish", nil); r.Status != http.StatusSeeOther {
		t.Fatalf("publish: %d", r.Status)
	}
	if e, _ := st.Entry(ctx, "drohne"); e.Status != faq.StatusPublished {
		t.Fatalf("status %s", e.Status)
	}

	// A draft of the published Bauantrag entry does not change the entry.
	page := c.get("/faq/e/bauantrag-stellen")
	rv := revisionRe.FindStringSubmatch(page.Body)
	orig, _ := st.Entry(ctx, "bauantrag-stellen")
	form := url.Values{"department": {"bauamt"}, "question": {orig.Question}, "variants": {strings.Join(orig.Variants, "\n")},
		"answer": {"Bauanträge stellen Sie online im Bauportal."}, "tags": {strings.Join(orig.Tags, ", ")}, "revision": {rv[1]}}
	if r := c.postForm("/faq/e/bauantrag-stellen", "/faq/e/bauantrag-stellen", withAction(form, "draft")); r.Status != http.StatusSeeOther {
		t.Fatalf("draft: %d %s", r.Status, r.Body)
	}
	if cur, _ := st.Entry(ctx, "bauantrag-stellen"); cur.Answer != orig.Answer {
		t.Fatal("draft changed the live entry")
	}
	page = c.get("/faq/e/bauantrag-stellen")
	if !strings.Contains(page.Body, `id="draft-note"`) || !strings.Contains(page.Body, "<ins>") || !strings.Contains(page.Body, "Bauportal") {
		t.Error("edit page does not show the draft and its diff")
	}
	if r := c.postForm("/faq/e/bauantrag-stellen", "/faq/e/bauantrag-stellen/publish", nil); r.Status != http.StatusSeeOther {
		t.Fatalf("publish draft: %d", r.Status)
	}
	if cur, _ := st.Entry(ctx, "bauantrag-stellen"); cur.Answer != "Bauanträge stellen Sie online im Bauportal." {
		t.Fatal("publish did not apply the draft")
	}
	// A stale form is refused with a conflict message.
	if r := c.postForm("/faq/e/bauantrag-stellen", "/faq/e/bauantrag-stellen", form); r.Status != http.StatusConflict || !strings.Contains(r.Body, "inzwischen") {
		t.Errorf("stale save: %d", r.Status)
	}

	// History: import baseline and the publish; restore the original.
	h := c.get("/faq/e/bauantrag-stellen/history")
	ids := regexp.MustCompile(`data-revision="(\d+)"`).FindAllStringSubmatch(h.Body, -1)
	if len(ids) != 2 || !strings.Contains(h.Body, "veröffentlicht") || !strings.Contains(h.Body, "importiert") || !strings.Contains(h.Body, "<del>") {
		t.Fatalf("history: %d revisions", len(ids))
	}
	oldest := ids[len(ids)-1][1]
	if r := c.postForm("/faq/e/bauantrag-stellen/history", "/faq/e/bauantrag-stellen/restore", url.Values{"revision": {oldest}}); r.Status != http.StatusSeeOther {
		t.Fatalf("restore: %d", r.Status)
	}
	if cur, _ := st.Entry(ctx, "bauantrag-stellen"); cur.Answer != orig.Answer {
		t.Fatal("restore did not bring the original answer back")
	}
	if r := c.postForm("/faq/e/bauantrag-stellen/history", "/faq/e/drohne/restore", url.Values{"revision": {oldest}}); r.Status != http.StatusNotFound {
		t.Errorf("restore of another entry's revision: %d", r.Status)
	}
	if h := c.get("/faq/e/bauantrag-stellen/history"); !strings.Contains(h.Body, "wiederhergestellt aus Version "+oldest) {
		t.Error("history lacks the restore")
	}
	// A draft overtaken by a live change cannot be published blindly.
	page = c.get("/faq/e/bauantrag-stellen")
	rv = revisionRe.FindStringSubmatch(page.Body)
	form.Set("revision", rv[1])
	if r := c.postForm("/faq/e/bauantrag-stellen", "/faq/e/bauantrag-stellen", withAction(form, "draft")); r.Status != http.StatusSeeOther {
		t.Fatalf("draft: %d", r.Status)
	}
	live := orig
	live.Tags = append(live.Tags, "Neu")
	if _, err := st.UpdateEntry(ctx, staff.Principal{Role: staff.RoleAdmin}, live, faq.AnyRevision); err != nil {
		t.Fatal(err)
	}
	if r := c.postForm("/faq/e/bauantrag-stellen", "/faq/e/bauantrag-stellen/publish", nil); r.Status != http.StatusConflict || !strings.Contains(r.Body, "älteren Fassung") {
		t.Errorf("publish of a stale draft: %d %s", r.Status, section(r.Body, "<main"))
	}
	// Saving the shown draft live supersedes it.
	page = c.get("/faq/e/bauantrag-stellen")
	rv = revisionRe.FindStringSubmatch(page.Body)
	form.Set("revision", rv[1])
	form.Set("from_draft", "1")
	if r := c.postForm("/faq/e/bauantrag-stellen", "/faq/e/bauantrag-stellen", form); r.Status != http.StatusSeeOther {
		t.Fatalf("live save of the draft: %d %s", r.Status, section(r.Body, `class="error"`))
	}
	if _, err := st.Draft(ctx, "bauantrag-stellen"); err == nil {
		t.Error("the draft survived a live save of it")
	}

	// The editor's log names the changes.
	if a := c.get("/faq/audit?object_type=faq_entry&object_id=bauantrag-stellen"); strings.Count(a.Body, "<tr><td>") < 3 || !strings.Contains(a.Body, "faq.restore") {
		t.Errorf("audit page")
	}
}

func section(body, marker string) string {
	i := strings.Index(body, marker)
	if i < 0 {
		return ""
	}
	end := min(len(body), i+4000)
	return body[i:end]
}

func TestEditorImportExport(t *testing.T) {
	e := newEnv(t)
	st := e.withDemoFAQ()
	e.user("admin@example.org", staff.RoleAdmin)
	c := e.loggedIn("admin@example.org")
	exp := c.get("/faq/export.csv")
	if exp.Status != 200 || !strings.HasPrefix(exp.Body, "\ufeffid,department") || exp.Header.Get("Content-Disposition") == "" {
		t.Fatalf("export: %d", exp.Status)
	}
	// Re-import of the export changes nothing.
	r := c.postMultipart("/faq/io", "/faq/import", "file", "faq.csv", []byte(exp.Body))
	if r.Status != 200 || !strings.Contains(r.Body, "Importiert: 0 neue und 0 geänderte Einträge") {
		t.Fatalf("re-import: %d %s", r.Status, section(r.Body, `class="notice"`))
	}
	// A bad row: nothing is written, the item and field are named.
	bad := "id,department,question,answer\nneu-a,bauamt,Frage A?,Antwort A.\nneu-b,bauamt,Frage B?,\n"
	r = c.postMultipart("/faq/io", "/faq/import", "file", "neu.csv", []byte(bad))
	if r.Status != http.StatusBadRequest || !strings.Contains(r.Body, `faq.csv: item 2 (id &#34;neu-b&#34;): field &#34;answer&#34;: must not be empty`) {
		t.Fatalf("bad csv: %d %s", r.Status, section(r.Body, `class="error"`))
	}
	if n, _ := st.CountEntries(context.Background()); n != 118 {
		t.Fatalf("entries after a bad import: %d", n)
	}
	// JSON import of one changed entry.
	js := c.get("/faq/export.json")
	changed := strings.Replace(js.Body, "Wie stelle ich einen Bauantrag?", "Wie stelle ich einen Bauantrag in Musterstadt?", 1)
	r = c.postMultipart("/faq/io", "/faq/import", "file", "faq.json", []byte(changed))
	if r.Status != 200 || !strings.Contains(r.Body, "0 neue und 1 geänderte Einträge") {
		t.Fatalf("json import: %d %s", r.Status, section(r.Body, "<main"))
	}
	if r := c.postMultipart("/faq/io", "/faq/import", "file", "faq.json", []byte("[{")); r.Status != http.StatusBadRequest || !strings.Contains(r.Body, "Nichts importiert") {
		t.Errorf("broken json: %d", r.Status)
	}
	_ = io.Discard
}

// TestEditorMessagesKnown: every message key the editor's Go code uses
// exists (the templates are checked by TestCatalogComplete).
func TestEditorMessagesKnown(t *testing.T) {
	cat := newCatalog()
	src, err := os.ReadFile("editor.go")
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`(?:T|editorPage|page)\([^"]*"([a-z_]+\.[a-z_.]+)"`)
	for _, m := range re.FindAllStringSubmatch(string(src), -1) {
		if !strings.HasSuffix(m[1], ".") && !cat.known(m[1]) {
			t.Errorf("editor.go uses unknown key %q", m[1])
		}
	}
	for _, k := range []string{"faq_created", "faq_saved", "faq_draft_saved", "faq_published", "faq_status", "faq_draft_discarded",
		"faq_restored", "syn_saved", "syn_deleted", "reg_saved", "reg_deleted", "un_dismissed", "un_variant"} {
		if !cat.known("notice." + k) {
			t.Errorf("unknown notice %q", k)
		}
	}
}

// thresholdsOnly is a matcher whose index has no confidence model, as when
// a service runs with the gate off.
type thresholdsOnly struct{}

func (thresholdsOnly) Options() faq.Options { o := faq.DefaultOptions(); o.Gate = nil; return o }

// Try-it matches with the bot's options (Deps.Matcher, the service's
// faq.Live), not with a model of its own.
func TestTryItUsesTheBotsMatcher(t *testing.T) {
	e := newEnv(t, func(_ *Config, d *Deps) { d.Matcher = thresholdsOnly{} })
	e.withDemoFAQ()
	e.user("admin@example.org", staff.RoleAdmin)
	r := e.loggedIn("admin@example.org").get("/faq/try?q=Perso+verloren")
	if r.Status != http.StatusOK || !strings.Contains(r.Body, `data-entry="ausweis-verloren"`) {
		t.Fatalf("try-it: status %d, no candidate", r.Status)
	}
	if strings.Contains(r.Body, " %</td>") || !strings.Contains(r.Body, `<td class="confidence">–</td>`) {
		t.Errorf("try-it shows a model confidence although the bot's matcher has no model")
	}
}
