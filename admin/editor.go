package admin

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"citybot/faq"
	"citybot/internal/german"
	"citybot/internal/tgtext"
	"citybot/staff"
)

// The FAQ editor: entries with drafts, revisions and diffs, synonyms, "try
// it", regression questions, the unanswered-question loop, the dashboard,
// import/export and the editors' audit log. Editors change the entries of
// their departments, admins all; faq.Store enforces it, these handlers only
// translate forms and errors. Every page lives under /faq.

// routeEditor registers the editor pages (admins and editors). Their
// messages are in editor_i18n.go, merged by newCatalog.
func (s *Server) routeEditor(e *gin.Engine) {
	g := e.Group("/faq", s.requireRole(staff.RoleAdmin, staff.RoleEditor))
	g.GET("", s.faqList)
	g.GET("/new", s.faqNewForm)
	g.POST("/new", s.faqCreate)
	g.GET("/e/:id", s.faqEditForm)
	g.POST("/e/:id", s.faqSave)
	g.POST("/e/:id/publish", s.faqPublish)
	g.POST("/e/:id/status", s.faqStatus)
	g.POST("/e/:id/discard", s.faqDiscard)
	g.GET("/e/:id/history", s.faqHistory)
	g.POST("/e/:id/restore", s.faqRestore)
	g.GET("/synonyms", s.synonymsPage)
	g.POST("/synonyms", s.synonymCreate)
	g.POST("/synonyms/:sid", s.synonymUpdate)
	g.POST("/synonyms/:sid/delete", s.synonymDelete)
	g.GET("/try", s.tryPage)
	g.GET("/regressions", s.regressionsPage)
	g.POST("/regressions", s.regressionCreate)
	g.POST("/regressions/:rid/delete", s.regressionDelete)
	g.GET("/unanswered", s.unansweredPage)
	g.POST("/unanswered/dismiss", s.unansweredDismiss)
	g.POST("/unanswered/variant", s.unansweredVariant)
	g.POST("/unanswered/new", s.unansweredNewEntry)
	g.GET("/dashboard", s.dashboardPage)
	g.GET("/dashboard.csv", s.dashboardCSV)
	g.GET("/io", s.faqIOPage)
	g.GET("/export.json", s.faqExportJSON)
	g.GET("/export.csv", s.faqExportCSV)
	g.POST("/import", s.faqImport)
	g.GET("/audit", s.editorAuditPage)
}

func (s *Server) faqStore() *faq.Store { return faq.NewStore(s.db) }

// matchOptions are the bot's matcher options (Deps.Matcher), else the defaults.
func (s *Server) matchOptions() faq.Options {
	if s.deps.Matcher != nil {
		return s.deps.Matcher.Options()
	}
	return faq.DefaultOptions()
}

// userMessage is the text of an error a user can act on (validation,
// conflict), or "" for errors that must not be shown.
func userMessage(p *page, err error) string {
	var ve *faq.ValidationError
	switch {
	case errors.As(err, &ve):
		return p.T("faq.invalid", fieldLabel(p, ve.Field), ve.Msg)
	case errors.Is(err, faq.ErrConflict):
		return p.T("faq.conflict")
	}
	return ""
}

func fieldLabel(p *page, field string) string {
	base := field
	if i := strings.IndexByte(field, '['); i > 0 {
		base = field[:i]
	}
	if k := "faq.field." + base; p.cat.known(k) {
		return p.T(k)
	}
	return field
}

// editorPage is page data with the editor's sub-navigation.
func (s *Server) editorPage(c *gin.Context, titleKey, _ string) *page {
	p := s.page(c, titleKey)
	p.Nav = "faq"
	return p
}

// editorData is the page data of an editor page: kv plus "Sub", the active
// item of the editor's sub-navigation.
func editorData(sub string, kv map[string]any) map[string]any {
	kv["Sub"] = sub
	kv["SubItems"] = []string{"list", "synonyms", "try", "regressions", "unanswered", "dashboard", "io", "audit"}
	return kv
}

// trustedHTML marks markup the faq package generated with all text escaped
// (SVG charts and their data tables).
func trustedHTML(s string) template.HTML { return template.HTML(s) } //nolint:gosec // escaped by faq

func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

func splitTags(s string) []string {
	var out []string
	for _, t := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '\n' || r == '|' }) {
		if t = strings.TrimSpace(t); t != "" {
			out = append(out, t)
		}
	}
	return out
}

// entryFromForm reads the entry form.
func entryFromForm(c *gin.Context) faq.Entry {
	return faq.Entry{
		ID:         strings.TrimSpace(c.PostForm("id")),
		Department: c.PostForm("department"),
		Question:   c.PostForm("question"),
		Variants:   lines(c.PostForm("variants")),
		Answer:     c.PostForm("answer"),
		AnswerEN:   c.PostForm("answer_en"),
		Tags:       splitTags(c.PostForm("tags")),
		Status:     c.PostForm("status"),
	}
}

// Bubble is one Telegram message of an answer preview.
type Bubble struct {
	Title string // bold first line (first message only)
	Body  string
}

// answerPreview splits an answer like the bot does (title in bold, then the
// answer, split at paragraph boundaries into Telegram's 4096-unit limit).
// The template escapes the text, as the bot does for Telegram's HTML mode.
func answerPreview(e faq.Entry) []Bubble {
	title := strings.TrimSpace(e.Question)
	full := title + "\n\n" + strings.TrimSpace(e.Answer)
	var out []Bubble
	for i, part := range tgtext.SplitText(full, tgtext.TelegramTextLimit) {
		switch {
		case i == 0 && strings.HasPrefix(part, title+"\n\n"):
			out = append(out, Bubble{Title: title, Body: part[len(title)+2:]})
		case i == 0 && part == title:
			out = append(out, Bubble{Title: title})
		default:
			out = append(out, Bubble{Body: part})
		}
	}
	return out
}

func (s *Server) departmentsForEditor(c *gin.Context) ([]faq.Department, map[string]string, error) {
	depts, err := s.faqStore().Departments(c.Request.Context())
	if err != nil {
		return nil, nil, err
	}
	names := map[string]string{}
	for _, d := range depts {
		names[d.ID] = d.Name
	}
	return depts, names, nil
}

// --- list ---

func (s *Server) faqList(c *gin.Context) {
	ctx := c.Request.Context()
	f := faq.EntryFilter{Query: strings.TrimSpace(c.Query("q")), Department: c.Query("department"), Tag: c.Query("tag"), Status: c.Query("status")}
	// Long queries are cut (faq.SearchWords); the form shows what was searched.
	shortened := false
	if words := faq.SearchWords(f.Query); strings.Join(words, " ") != strings.Join(strings.Fields(strings.ToLower(f.Query)), " ") {
		f.Query, shortened = strings.Join(words, " "), true
	}
	st := s.faqStore()
	entries, err := st.ListEntries(ctx, f)
	if err != nil {
		s.fail(c, err)
		return
	}
	depts, names, err := s.departmentsForEditor(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	tags, err := st.Tags(ctx)
	if err != nil {
		s.fail(c, err)
		return
	}
	p := s.editorPage(c, "faq.title", "list")
	if shortened {
		p.Notice = p.T("faq.search_shortened", faq.MaxSearchWords, faq.MaxSearchRunes)
	}
	a := principalOf(p.User)
	p.Data = editorData("list", map[string]any{"Filter": f, "Entries": entries, "Departments": depts, "DeptNames": names, "Tags": tags,
		"Statuses": []string{faq.StatusDraft, faq.StatusPublished, faq.StatusArchived}, "Actor": a})
	s.render(c, http.StatusOK, "editor_list", p)
}

// --- create / edit ---

type entryForm struct {
	Entry     faq.Entry
	New       bool
	Revision  int64
	Draft     *faq.Draft
	Live      *faq.Entry // the published state when a draft is shown
	Preview   []Bubble
	CanEdit   bool
	Diff      *faq.EntryDiff // draft vs live
	Changes   []faq.RegressionCheck
	ChangesOK bool // the would-change check ran
	Unsaved   bool // the form shows input that is not saved (preview, check)
}

func (s *Server) renderEntryForm(c *gin.Context, status int, f entryForm, errMsg string) {
	depts, names, err := s.departmentsForEditor(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	title := "faq.edit"
	if f.New {
		title = "faq.new"
	}
	p := s.editorPage(c, title, "list")
	p.Error = errMsg
	if f.Preview == nil {
		f.Preview = answerPreview(f.Entry)
	}
	a := principalOf(p.User)
	var editable []faq.Department
	for _, d := range depts {
		if a.CanEdit(d.ID) {
			editable = append(editable, d)
		}
	}
	p.Data = editorData("list", map[string]any{"F": f, "Departments": editable, "DeptNames": names,
		"Variants": strings.Join(f.Entry.Variants, "\n"), "Tags": strings.Join(f.Entry.Tags, ", ")})
	s.render(c, status, "editor_form", p)
}

func (s *Server) faqNewForm(c *gin.Context) {
	u := currentUser(c)
	e := faq.Entry{Status: faq.StatusDraft, Question: c.Query("question")}
	if len(u.Departments) > 0 {
		e.Department = u.Departments[0]
	}
	s.renderEntryForm(c, http.StatusOK, entryForm{Entry: e, New: true, CanEdit: true, Preview: []Bubble{}}, "")
}

func (s *Server) faqCreate(c *gin.Context) {
	e := entryFromForm(c)
	if e.Status == "" {
		e.Status = faq.StatusDraft
	}
	if c.PostForm("action") == "preview" {
		s.renderEntryForm(c, http.StatusOK, entryForm{Entry: e, New: true, CanEdit: true, Unsaved: true}, "")
		return
	}
	rev, err := s.faqStore().CreateEntry(c.Request.Context(), principalOf(currentUser(c)), e)
	if err != nil {
		s.entryFormError(c, entryForm{Entry: e, New: true, CanEdit: true}, err)
		return
	}
	redirect(c, "/faq/e/"+url.PathEscape(rev.EntryID), "faq_created")
}

// entryFormError shows the form again with the user's input and the error
// when the user can fix it, or the error page.
func (s *Server) entryFormError(c *gin.Context, f entryForm, err error) {
	p := s.page(c, "faq.edit")
	if msg := userMessage(p, err); msg != "" {
		s.renderEntryForm(c, s.statusOf(err), f, msg)
		return
	}
	s.fail(c, err)
}

func (s *Server) faqEditForm(c *gin.Context) { s.showEntry(c, http.StatusOK, "") }

// showEntry renders the edit page of the entry in the URL (with its draft,
// the draft's diff and the would-change list), optionally with an error.
func (s *Server) showEntry(c *gin.Context, status int, errMsg string) {
	ctx := c.Request.Context()
	st := s.faqStore()
	v, err := st.EntryView(ctx, c.Param("id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	a := principalOf(currentUser(c))
	f := entryForm{Entry: v.Entry, Revision: v.Revision, Draft: v.Draft, CanEdit: a.CanEdit(v.Entry.Department)}
	if v.Draft != nil {
		live := v.Entry
		f.Live = &live
		f.Entry = v.Draft.Entry
		f.Entry.Status = v.Entry.Status
		d := faq.DiffEntries(live, v.Draft.Entry)
		f.Diff = &d
	}
	if v.Draft != nil || v.Entry.Status != faq.StatusPublished {
		// What publishing would do to the saved questions.
		if f.Changes, err = st.WouldChangeOnPublish(ctx, v.Entry.ID); err != nil {
			s.fail(c, err)
			return
		}
		f.ChangesOK = true
	}
	s.renderEntryForm(c, status, f, errMsg)
}

func (s *Server) faqSave(c *gin.Context) {
	ctx := c.Request.Context()
	st := s.faqStore()
	id := c.Param("id")
	v, err := st.EntryView(ctx, id)
	if err != nil {
		s.fail(c, err)
		return
	}
	a := principalOf(currentUser(c))
	e := entryFromForm(c)
	e.ID = id
	base, _ := strconv.ParseInt(c.PostForm("revision"), 10, 64)
	// The form has no status field for an existing entry: the re-shown
	// form (preview, check, errors) keeps the entry's stored status, so it
	// neither shows a raw key nor offers to publish a published entry.
	if e.Status == "" {
		e.Status = v.Entry.Status
	}
	f := entryForm{Entry: e, Revision: base, Draft: v.Draft, CanEdit: a.CanEdit(v.Entry.Department)}
	if v.Draft != nil {
		live := v.Entry
		f.Live = &live
	}
	if a := c.PostForm("action"); a == "preview" || a == "check" {
		f.Unsaved = true
	}
	switch c.PostForm("action") {
	case "preview":
		s.renderEntryForm(c, http.StatusOK, f, "")
	case "check":
		// the would-change check for the form's content, as if published
		ch := e
		ch.Status = faq.StatusPublished
		if f.Changes, err = st.WouldChange(ctx, ch); err != nil {
			s.fail(c, err)
			return
		}
		f.ChangesOK = true
		s.renderEntryForm(c, http.StatusOK, f, "")
	case "draft":
		if _, err := st.SaveDraft(ctx, a, e); err != nil {
			s.entryFormError(c, f, err)
			return
		}
		redirect(c, "/faq/e/"+url.PathEscape(id), "faq_draft_saved")
	default:
		update := st.UpdateEntry
		if v.Draft != nil && c.PostForm("from_draft") == "1" {
			// The form showed the draft: saving it live supersedes it.
			update = st.UpdateEntryOverDraft
		}
		if _, err := update(ctx, a, e, base); err != nil {
			s.entryFormError(c, f, err)
			return
		}
		redirect(c, "/faq/e/"+url.PathEscape(id), "faq_saved")
	}
}

func (s *Server) faqPublish(c *gin.Context) {
	id := c.Param("id")
	if _, err := s.faqStore().Publish(c.Request.Context(), principalOf(currentUser(c)), id); err != nil {
		if errors.Is(err, faq.ErrConflict) && !errors.Is(err, faq.ErrForbidden) {
			p := s.page(c, "faq.edit")
			s.showEntry(c, s.statusOf(err), p.T("faq.conflict_publish"))
			return
		}
		s.fail(c, err)
		return
	}
	redirect(c, "/faq/e/"+url.PathEscape(id), "faq_published")
}

func (s *Server) faqStatus(c *gin.Context) {
	id := c.Param("id")
	if _, err := s.faqStore().SetStatus(c.Request.Context(), principalOf(currentUser(c)), id, c.PostForm("status")); err != nil {
		s.fail(c, err)
		return
	}
	redirect(c, "/faq/e/"+url.PathEscape(id), "faq_status")
}

func (s *Server) faqDiscard(c *gin.Context) {
	id := c.Param("id")
	if err := s.faqStore().DiscardDraft(c.Request.Context(), principalOf(currentUser(c)), id); err != nil {
		s.fail(c, err)
		return
	}
	redirect(c, "/faq/e/"+url.PathEscape(id), "faq_draft_discarded")
}

// --- history ---

type historyItem struct {
	Rev  faq.Revision
	Diff faq.EntryDiff
}

func (s *Server) faqHistory(c *gin.Context) {
	ctx := c.Request.Context()
	st := s.faqStore()
	e, err := st.Entry(ctx, c.Param("id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	revs, err := st.History(ctx, e.ID)
	if err != nil {
		s.fail(c, err)
		return
	}
	items := make([]historyItem, len(revs))
	for i, r := range revs {
		prev := faq.Entry{}
		if i+1 < len(revs) {
			prev = revs[i+1].Entry
		}
		items[i] = historyItem{Rev: r, Diff: faq.DiffEntries(prev, r.Entry)}
	}
	p := s.editorPage(c, "faq.history", "list")
	p.Data = editorData("list", map[string]any{"Entry": e, "Items": items, "CanEdit": principalOf(p.User).CanEdit(e.Department)})
	s.render(c, http.StatusOK, "editor_history", p)
}

func (s *Server) faqRestore(c *gin.Context) {
	id := c.Param("id")
	rid, _ := strconv.ParseInt(c.PostForm("revision"), 10, 64)
	ctx := c.Request.Context()
	st := s.faqStore()
	rev, err := st.Revision(ctx, rid)
	if err != nil || rev.EntryID != id {
		s.fail(c, errNotFound)
		return
	}
	if _, err := st.Restore(ctx, principalOf(currentUser(c)), rid); err != nil {
		s.fail(c, err)
		return
	}
	redirect(c, "/faq/e/"+url.PathEscape(id)+"/history", "faq_restored")
}

// --- synonyms ---

func (s *Server) synonymsPage(c *gin.Context) {
	s.renderSynonyms(c, http.StatusOK, "", faq.Synonym{})
}

func (s *Server) renderSynonyms(c *gin.Context, status int, errMsg string, input faq.Synonym) {
	items, err := s.faqStore().SynonymItems(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return
	}
	p := s.editorPage(c, "syn.title", "synonyms")
	p.Error = errMsg
	p.Data = editorData("synonyms", map[string]any{"Items": items, "Input": input, "Builtin": len(german.DefaultSynonyms())})
	s.render(c, status, "editor_synonyms", p)
}

func (s *Server) synonymFormError(c *gin.Context, err error, input faq.Synonym) {
	p := s.page(c, "syn.title")
	if msg := userMessage(p, err); msg != "" {
		s.renderSynonyms(c, s.statusOf(err), msg, input)
		return
	}
	s.fail(c, err)
}

func (s *Server) synonymCreate(c *gin.Context) {
	in := faq.Synonym{Term: c.PostForm("term"), Canonical: c.PostForm("canonical")}
	if _, err := s.faqStore().CreateSynonym(c.Request.Context(), principalOf(currentUser(c)), in); err != nil {
		s.synonymFormError(c, err, in)
		return
	}
	redirect(c, "/faq/synonyms", "syn_saved")
}

func (s *Server) synonymUpdate(c *gin.Context) {
	id, _ := strconv.ParseInt(c.Param("sid"), 10, 64)
	in := faq.Synonym{Term: c.PostForm("term"), Canonical: c.PostForm("canonical")}
	if _, err := s.faqStore().UpdateSynonym(c.Request.Context(), principalOf(currentUser(c)), id, in); err != nil {
		s.synonymFormError(c, err, faq.Synonym{})
		return
	}
	redirect(c, "/faq/synonyms", "syn_saved")
}

func (s *Server) synonymDelete(c *gin.Context) {
	id, _ := strconv.ParseInt(c.Param("sid"), 10, 64)
	if err := s.faqStore().DeleteSynonym(c.Request.Context(), principalOf(currentUser(c)), id); err != nil {
		s.fail(c, err)
		return
	}
	redirect(c, "/faq/synonyms", "syn_deleted")
}

// --- try it ---

func (s *Server) tryPage(c *gin.Context) {
	ctx := c.Request.Context()
	st := s.faqStore()
	q := strings.TrimSpace(c.Query("q"))
	entryID := c.Query("entry")
	data := map[string]any{"Q": q, "EntryID": entryID}
	if q != "" {
		var tr faq.TryResult
		var err error
		if entryID != "" {
			tr, err = st.TryDraft(ctx, q, entryID, s.matchOptions())
		} else {
			tr, err = st.TryIt(ctx, q, nil, s.matchOptions())
		}
		if err != nil {
			s.fail(c, err)
			return
		}
		data["Result"] = tr
	}
	p := s.editorPage(c, "try.title", "try")
	p.Data = editorData("try", data)
	s.render(c, http.StatusOK, "editor_try", p)
}

// --- regression questions ---

func (s *Server) regressionsPage(c *gin.Context) {
	s.renderRegressions(c, http.StatusOK, "", faq.RegressionQuestion{Question: c.Query("question"), Expect: c.Query("expect")})
}

func (s *Server) renderRegressions(c *gin.Context, status int, errMsg string, input faq.RegressionQuestion) {
	ctx := c.Request.Context()
	st := s.faqStore()
	checks, err := st.RegressionReport(ctx)
	if err != nil {
		s.fail(c, err)
		return
	}
	entries, err := st.Entries(ctx, "")
	if err != nil {
		s.fail(c, err)
		return
	}
	failing := 0
	for _, ch := range checks {
		if !ch.AfterOK {
			failing++
		}
	}
	p := s.editorPage(c, "reg.title", "regressions")
	p.Error = errMsg
	p.Data = editorData("regressions", map[string]any{"Checks": checks, "Entries": entries, "Input": input, "Failing": failing})
	s.render(c, status, "editor_regressions", p)
}

func (s *Server) regressionCreate(c *gin.Context) {
	in := faq.RegressionQuestion{Question: c.PostForm("question"), Expect: c.PostForm("expect"), Note: c.PostForm("note")}
	if _, err := s.faqStore().AddRegression(c.Request.Context(), principalOf(currentUser(c)), in); err != nil {
		p := s.page(c, "reg.title")
		if msg := userMessage(p, err); msg != "" {
			s.renderRegressions(c, s.statusOf(err), msg, in)
			return
		}
		s.fail(c, err)
		return
	}
	redirect(c, "/faq/regressions", "reg_saved")
}

func (s *Server) regressionDelete(c *gin.Context) {
	id, _ := strconv.ParseInt(c.Param("rid"), 10, 64)
	if err := s.faqStore().DeleteRegression(c.Request.Context(), principalOf(currentUser(c)), id); err != nil {
		s.fail(c, err)
		return
	}
	redirect(c, "/faq/regressions", "reg_deleted")
}

// --- unanswered ---

func (s *Server) unansweredPage(c *gin.Context) {
	ctx := c.Request.Context()
	st := s.faqStore()
	status := c.DefaultQuery("status", "open")
	switch status {
	case "open", "dismissed", "resolved", "all":
	default:
		status = "open"
	}
	groups, err := st.UnansweredGroups(ctx, faq.UnansweredFilter{Status: status}, time.Now())
	if err != nil {
		s.fail(c, err)
		return
	}
	days, err := st.UnansweredRetentionDays(ctx)
	if err != nil {
		s.fail(c, err)
		return
	}
	entries, err := st.Entries(ctx, "")
	if err != nil {
		s.fail(c, err)
		return
	}
	depts, _, err := s.departmentsForEditor(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	p := s.editorPage(c, "un.title", "unanswered")
	a := principalOf(p.User)
	var editable []faq.Department
	for _, d := range depts {
		if a.CanEdit(d.ID) {
			editable = append(editable, d)
		}
	}
	var editableEntries []faq.Entry
	questions := make(map[string]string, len(entries))
	for _, e := range entries {
		questions[e.ID] = e.Question
		if a.CanEdit(e.Department) {
			editableEntries = append(editableEntries, e)
		}
	}
	slices.SortFunc(editableEntries, func(x, y faq.Entry) int {
		return strings.Compare(strings.ToLower(x.Question), strings.ToLower(y.Question))
	})
	p.Data = editorData("unanswered", map[string]any{"Groups": groups, "Status": status, "RetentionDays": days,
		"Statuses": []string{"open", "resolved", "dismissed", "all"},
		"Entries":  editableEntries, "Departments": editable, "Questions": questions})
	s.render(c, http.StatusOK, "editor_unanswered", p)
}

func formIDs(c *gin.Context) []int64 {
	var ids []int64
	for _, v := range c.PostFormArray("ids") {
		for _, f := range strings.Split(v, ",") {
			if id, err := strconv.ParseInt(strings.TrimSpace(f), 10, 64); err == nil && id > 0 {
				ids = append(ids, id)
			}
		}
	}
	return ids
}

func (s *Server) unansweredDismiss(c *gin.Context) {
	if _, err := s.faqStore().DismissUnanswered(c.Request.Context(), principalOf(currentUser(c)), formIDs(c)); err != nil {
		s.fail(c, err)
		return
	}
	redirect(c, "/faq/unanswered", "un_dismissed")
}

func (s *Server) unansweredVariant(c *gin.Context) {
	entryID := c.PostForm("entry")
	if entryID == "" {
		// Nothing is chosen unless the editor chooses it.
		redirect(c, "/faq/unanswered", "un_choose_entry")
		return
	}
	if _, err := s.faqStore().AddUnansweredAsVariant(c.Request.Context(), principalOf(currentUser(c)), formIDs(c), entryID, c.PostForm("variant")); err != nil {
		s.fail(c, err)
		return
	}
	redirect(c, "/faq/e/"+url.PathEscape(entryID), "un_variant")
}

func (s *Server) unansweredNewEntry(c *gin.Context) {
	e := faq.Entry{Department: c.PostForm("department"), Question: c.PostForm("question"), Answer: c.PostForm("answer"),
		Variants: lines(c.PostForm("variants"))}
	rev, err := s.faqStore().CreateEntryFromUnanswered(c.Request.Context(), principalOf(currentUser(c)), formIDs(c), e)
	if err != nil {
		s.fail(c, err)
		return
	}
	redirect(c, "/faq/e/"+url.PathEscape(rev.EntryID), "faq_created")
}

// --- dashboard ---

func (s *Server) dashboardPeriod(c *gin.Context) (faq.Period, string, string, error) {
	now := time.Now()
	p, err := faq.LastDays(30, now, s.loc().String())
	if err != nil {
		return faq.Period{}, "", "", err
	}
	loc, _ := time.LoadLocation(p.TZ)
	from, to := c.Query("from"), c.Query("to")
	if t, err := time.ParseInLocation("2006-01-02", from, loc); err == nil {
		p.From = t
	}
	if t, err := time.ParseInLocation("2006-01-02", to, loc); err == nil {
		p.To = t.AddDate(0, 0, 1)
	}
	if !p.To.After(p.From) {
		return faq.Period{}, from, to, fmt.Errorf("%w: period", ErrInvalid)
	}
	return p, p.From.Format("2006-01-02"), p.To.AddDate(0, 0, -1).Format("2006-01-02"), nil
}

func (s *Server) dashboardPage(c *gin.Context) {
	per, from, to, err := s.dashboardPeriod(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	d, err := s.faqStore().Dashboard(c.Request.Context(), per, time.Now())
	if err != nil {
		s.fail(c, err)
		return
	}
	p := s.editorPage(c, "dash.title", "dashboard")
	type chartView struct {
		Chart chart
		SVG   any
		Table any
	}
	var charts []chartView
	for i, ch := range dashboardCharts(d, p.T) {
		ch.Comma = p.T("fmt.decimal") == ","
		svg := barChartSVG(ch)
		if i == 1 {
			svg = lineChartSVG(ch)
		}
		charts = append(charts, chartView{Chart: ch, SVG: trustedHTML(svg), Table: trustedHTML(ch.tableHTML())})
	}
	pct := p.Percent
	p.Data = editorData("dashboard", map[string]any{"D": d, "From": from, "To": to, "Charts": charts,
		"AnsweredPct": pct(d.AnsweredShare()), "HelpfulPct": pct(d.HelpfulRate()), "HandoffPct": pct(d.HandoffRate()),
		"CSV": "/faq/dashboard.csv?from=" + url.QueryEscape(from) + "&to=" + url.QueryEscape(to)})
	s.render(c, http.StatusOK, "editor_dashboard", p)
}

func (s *Server) dashboardCSV(c *gin.Context) {
	per, from, to, err := s.dashboardPeriod(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	d, err := s.faqStore().Dashboard(c.Request.Context(), per, time.Now())
	if err != nil {
		s.fail(c, err)
		return
	}
	var buf bytes.Buffer
	if err := faq.WriteDashboardCSV(&buf, d); err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Content-Disposition", fmt.Sprintf(`attachment; filename="citybot-dashboard-%s-%s.csv"`, from, to))
	c.Data(http.StatusOK, "text/csv; charset=utf-8", buf.Bytes())
}

// --- import / export ---

func (s *Server) faqIOPage(c *gin.Context) {
	p := s.editorPage(c, "io.title", "io")
	p.Data = editorData("io", map[string]any{})
	s.render(c, http.StatusOK, "editor_io", p)
}

func (s *Server) faqExportJSON(c *gin.Context) {
	ds, err := s.faqStore().Export(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return
	}
	var buf bytes.Buffer
	v := any(ds.Entries)
	name := "faq.json"
	if c.Query("file") == "departments" {
		v, name = ds.Departments, "departments.json"
	}
	if err := faq.WriteJSON(&buf, v); err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Content-Disposition", `attachment; filename="`+name+`"`)
	c.Data(http.StatusOK, "application/json; charset=utf-8", buf.Bytes())
}

func (s *Server) faqExportCSV(c *gin.Context) {
	var buf bytes.Buffer
	buf.WriteString("\ufeff") // spreadsheets recognise UTF-8 by the byte order mark
	if err := s.faqStore().ExportCSV(c.Request.Context(), &buf); err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Content-Disposition", `attachment; filename="faq.csv"`)
	c.Data(http.StatusOK, "text/csv; charset=utf-8", buf.Bytes())
}

const maxUpload = 20 << 20

func (s *Server) faqImport(c *gin.Context) {
	ctx := c.Request.Context()
	a := principalOf(currentUser(c))
	fh, err := c.FormFile("file")
	p := s.editorPage(c, "io.title", "io")
	p.Data = editorData("io", map[string]any{})
	fail := func(status int, msg string) {
		p.Error = msg
		s.render(c, status, "editor_io", p)
	}
	if err != nil {
		fail(http.StatusBadRequest, p.T("io.nofile"))
		return
	}
	if fh.Size > maxUpload {
		fail(http.StatusBadRequest, p.T("io.toolarge"))
		return
	}
	f, err := fh.Open()
	if err != nil {
		s.fail(c, err)
		return
	}
	defer f.Close()
	var st faq.ImportStats
	name := strings.ToLower(fh.Filename)
	if strings.HasSuffix(name, ".csv") {
		st, err = s.faqStore().ImportCSV(ctx, a, f)
	} else {
		var data bytes.Buffer
		if _, err = data.ReadFrom(f); err == nil {
			var ds faq.Dataset
			if ds, err = faq.ParseJSON(fh.Filename, data.Bytes()); err == nil {
				st, err = s.faqStore().ImportAs(ctx, a, ds, fh.Filename)
			}
		}
	}
	if err != nil {
		var ve *faq.ValidationError
		switch {
		case errors.As(err, &ve):
			fail(s.statusOf(err), p.T("io.invalid", ve.Error()))
		case errors.Is(err, faq.ErrForbidden):
			fail(s.statusOf(err), p.T("io.forbidden"))
		default:
			s.fail(c, err)
		}
		return
	}
	p.Notice = p.T("io.done", st.EntriesCreated, st.EntriesUpdated, st.DepartmentsCreated, st.DepartmentsUpdated)
	s.render(c, http.StatusOK, "editor_io", p)
}

// --- audit log of the editor's objects ---

func (s *Server) editorAuditPage(c *gin.Context) {
	before, _ := strconv.ParseInt(c.Query("before"), 10, 64)
	typ := c.Query("object_type")
	rows, next, err := s.faqStore().EditorAudit(c.Request.Context(), faq.AuditFilter{ObjectType: typ, ObjectID: c.Query("object_id"), Before: before})
	if err != nil {
		s.fail(c, err)
		return
	}
	nextURL := ""
	if next > 0 {
		v := c.Request.URL.Query()
		v.Set("before", strconv.FormatInt(next, 10))
		nextURL = "/faq/audit?" + v.Encode()
	}
	p := s.editorPage(c, "faudit.title", "audit")
	p.Data = editorData("audit", map[string]any{"Rows": rows, "Next": nextURL, "Type": typ, "ObjectID": c.Query("object_id"),
		"Types": faq.EditorAuditTypes()})
	s.render(c, http.StatusOK, "editor_audit", p)
}
