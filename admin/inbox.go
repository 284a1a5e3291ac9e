package admin

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"citybot/routing"
	"citybot/staff"
)

func (s *Server) routeInbox(g *gin.RouterGroup) {
	g.GET("/inbox", s.needCases, s.inbox)
	g.GET("/inbox/events", s.needCases, s.events)
	g.POST("/inbox/bulk", s.needCases, s.inboxBulk)
	c := g.Group("/cases/:id", s.needCases, s.caseID)
	c.GET("", s.casePage)
	c.GET("/media/:msg", s.caseMedia)
	c.POST("/reply", s.caseReply)
	c.POST("/note", s.caseNote)
	c.POST("/assign", s.caseAssign)
	c.POST("/transfer", s.caseTransfer)
	c.POST("/close", s.caseClose)
	c.POST("/reopen", s.caseReopen)
}

// caseRoutes lists every case route (method, path with :id) for the
// isolation test.
func caseRoutes() [][2]string {
	return [][2]string{
		{"GET", "/cases/:id"}, {"GET", "/cases/:id/media/:msg"},
		{"POST", "/cases/:id/reply"}, {"POST", "/cases/:id/note"}, {"POST", "/cases/:id/assign"},
		{"POST", "/cases/:id/transfer"}, {"POST", "/cases/:id/close"}, {"POST", "/cases/:id/reopen"},
	}
}

func (s *Server) needCases(c *gin.Context) {
	if s.deps.Cases == nil {
		s.fail(c, errNoService)
		return
	}
	c.Next()
}

const ctxCaseID = "citybot.case_id"

func (s *Server) caseID(c *gin.Context) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		s.fail(c, errNotFound)
		return
	}
	c.Set(ctxCaseID, id)
	c.Next()
}

var inboxViews = []string{routing.ViewWaiting, routing.ViewMine, routing.ViewDepartments, routing.ViewClosed}

// inboxCounts are the number of cases per inbox view, for the tabs and the
// browser title.
type inboxCounts map[string]int

func (s *Server) inboxCounts(ctx context.Context, u *staff.Principal) (inboxCounts, error) {
	return s.deps.Cases.Counts(ctx, principalOf(u))
}

// inboxRow is a case of an inbox list with its wait.
type inboxRow struct {
	routing.CaseSummary
	Wait *waitInfo
}

func (s *Server) inbox(c *gin.Context) {
	ctx := c.Request.Context()
	u := currentUser(c)
	view := c.DefaultQuery("view", routing.ViewWaiting)
	query := strings.TrimSpace(c.Query("q"))
	// A search covers every tab unless a tab is chosen in its filter.
	if scope := c.Query("scope"); query != "" {
		view = routing.ViewAll
		if contains(inboxViews, scope) {
			view = scope
		}
	}
	if !contains(inboxViews, view) && view != routing.ViewAll {
		view = routing.ViewWaiting
	}
	if view == routing.ViewAll && query == "" {
		view = routing.ViewWaiting
	}
	f := routing.ListFilter{
		View:       view,
		Query:      query,
		Department: c.Query("dept"),
		Cursor:     c.Query("cursor"),
		Limit:      50,
	}
	if srt := c.Query("sort"); routing.ValidSort(srt) {
		f.Sort, f.Desc = srt, c.Query("dir") == "desc"
	}
	list, next, err := s.deps.Cases.List(ctx, principalOf(u), f)
	if err != nil {
		s.fail(c, err)
		return
	}
	deps, err := s.visibleDepartments(ctx, u)
	if err != nil {
		s.fail(c, err)
		return
	}
	counts, err := s.inboxCounts(ctx, u)
	if err != nil {
		s.fail(c, err)
		return
	}
	infos, err := s.deptInfos(ctx)
	if err != nil {
		s.fail(c, err)
		return
	}
	p := s.page(c, "inbox.title")
	p.Nav = "inbox"
	if n := counts[routing.ViewWaiting]; n > 0 {
		p.Title = fmt.Sprintf("(%d) %s", n, p.Title)
	}
	now := time.Now()
	rows := make([]inboxRow, len(list))
	for i, cs := range list {
		rows[i] = inboxRow{CaseSummary: cs}
		if cs.Status == routing.CaseWaiting {
			w := s.waitOf(p, infos[cs.Department], cs.WaitingSince, now)
			rows[i].Wait = &w
		}
	}
	q := url.Values{"view": {view}}
	if f.Query != "" {
		q.Set("q", f.Query)
		if view != routing.ViewAll {
			q.Set("scope", view)
		}
	}
	if f.Department != "" {
		q.Set("dept", f.Department)
	}
	sortLinks, sortState := inboxSorting(q, view, f)
	if f.Sort != "" {
		q.Set("sort", f.Sort)
		if f.Desc {
			q.Set("dir", "desc")
		}
	}
	nextURL := ""
	if next != "" {
		nq := url.Values{}
		for k, v := range q {
			nq[k] = v
		}
		nq.Set("cursor", next)
		nextURL = "/inbox?" + nq.Encode()
	}
	live := url.Values{}
	for k, v := range c.Request.URL.Query() {
		live[k] = v
	}
	live.Set("view", view)
	live.Set("partial", "1")
	all, err := s.departmentRefs(ctx)
	if err != nil {
		s.fail(c, err)
		return
	}
	p.Data = map[string]any{
		"View": view, "Views": inboxViews, "Filter": f, "Cases": rows, "Next": nextURL,
		"Departments": deps, "AllDepartments": all, "LiveSrc": "/inbox?" + live.Encode(),
		"Counts": counts, "Searching": f.Query != "", "BaseTitle": p.T("inbox.title"),
		"SortLinks": sortLinks, "SortState": sortState, "Sort": f.Sort, "Desc": f.Desc,
	}
	if c.Query("partial") == "1" {
		s.renderFragment(c, "inbox", "caselist", p)
		return
	}
	s.render(c, http.StatusOK, "inbox", p)
}

// inboxSorting returns, per sortable column, the link that sorts by it
// (the other direction when it is the current order) and its aria-sort
// value ("" for columns the list is not sorted by). base is the list's
// query without sorting. The waiting list's own order is the longest
// wait first.
func inboxSorting(base url.Values, view string, f routing.ListFilter) (map[string]string, map[string]string) {
	cur, desc := f.Sort, f.Desc
	if cur == "" && view == routing.ViewWaiting {
		cur = routing.SortWait
	}
	links, state := map[string]string{}, map[string]string{}
	for _, col := range []string{routing.SortWait, routing.SortNumber, routing.SortDepartment, routing.SortStatus} {
		q := url.Values{}
		for k, v := range base {
			q[k] = v
		}
		q.Set("sort", col)
		if col == cur && !desc {
			q.Set("dir", "desc")
		}
		links[col] = "/inbox?" + q.Encode()
		if col == cur {
			// For the wait, the list's natural order (longest first) is
			// a descending wait.
			if (col == routing.SortWait) != desc {
				state[col] = "descending"
			} else {
				state[col] = "ascending"
			}
		}
	}
	return links, state
}

// maxBulk bounds one bulk action.
const maxBulk = 200

// inboxBulk assigns, transfers or closes the chosen cases. Each case is
// checked on its own (visibility, state); the rest go on when one fails.
func (s *Server) inboxBulk(c *gin.Context) {
	ctx := c.Request.Context()
	u := currentUser(c)
	v := principalOf(u)
	back := "/inbox"
	if view := c.PostForm("view"); contains(inboxViews, view) {
		back += "?view=" + view
		if srt := c.PostForm("sort"); routing.ValidSort(srt) {
			back += "&sort=" + srt
			if c.PostForm("dir") == "desc" {
				back += "&dir=desc"
			}
		}
	}
	ids := c.PostFormArray("ids")
	if len(ids) == 0 {
		redirect(c, back, "bulk_none")
		return
	}
	if len(ids) > maxBulk {
		s.fail(c, fmt.Errorf("%w: more than %d cases", ErrInvalid, maxBulk))
		return
	}
	action, dept := c.PostForm("action"), c.PostForm("department")
	var do func(id int64) error
	switch action {
	case "assign_me":
		do = func(id int64) error { return s.deps.Cases.Assign(ctx, v, id, v.ID) }
	case "close":
		do = func(id int64) error { return s.deps.Cases.Close(ctx, v, id) }
	case "transfer":
		if dept == "" {
			redirect(c, back, "bulk_no_department")
			return
		}
		do = func(id int64) error { return s.deps.Cases.Transfer(ctx, v, id, dept, c.PostForm("note")) }
	default:
		s.fail(c, fmt.Errorf("%w: bulk action %q", ErrInvalid, action))
		return
	}
	failed := 0
	for _, raw := range ids {
		id, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || id <= 0 {
			failed++
			continue
		}
		if err := do(id); err != nil {
			if st := s.statusOf(err); st >= 500 && st != 501 {
				s.fail(c, err)
				return
			}
			failed++
		}
	}
	if failed > 0 {
		redirect(c, back, "bulk_partial")
		return
	}
	redirect(c, back, "bulk_done")
}

// visibleDepartments: all for admins, else the user's own.
func (s *Server) visibleDepartments(ctx context.Context, u *staff.Principal) ([]deptRef, error) {
	all, err := s.departmentRefs(ctx)
	if err != nil || u.IsAdmin() {
		return all, err
	}
	var out []deptRef
	for _, d := range all {
		if contains(u.Departments, d.ID) {
			out = append(out, d)
		}
	}
	return out, nil
}

func (s *Server) colleagues(ctx context.Context, dept string) ([]staff.Colleague, error) {
	return s.staff.Colleagues(ctx, dept)
}

// transcriptView is a transcript entry prepared for the template.
type transcriptView struct {
	routing.TranscriptItem
	Class    string
	Who      string
	Summary  string // events: what happened
	Text     string // notes and transfer notes
	Image    bool   // photos are shown inline through the proxy
	MediaURL string
	Lat, Lon float64
	HasLoc   bool
	Place    string   // the place's name and address, when the citizen chose a place
	Map      *tileMap // nil: no tiles configured
	Failed   bool
}

func (s *Server) casePage(c *gin.Context) {
	ctx := c.Request.Context()
	u := currentUser(c)
	v := principalOf(u)
	id := c.GetInt64(ctxCaseID)
	partial := c.Query("partial")
	if partial == "" {
		// Mark read first: it also writes "case.viewed" to the audit log.
		if err := s.deps.Cases.MarkRead(ctx, v, id); err != nil {
			s.fail(c, err)
			return
		}
	}
	s.renderCase(c, http.StatusOK, partial, "", "")
}

// renderCase renders the case page (or one of its live fragments); draft
// and replyErr refill the reply box after a failed send.
func (s *Server) renderCase(c *gin.Context, status int, partial, draft, replyErr string) {
	ctx := c.Request.Context()
	u := currentUser(c)
	v := principalOf(u)
	id := c.GetInt64(ctxCaseID)
	cs, err := s.deps.Cases.Get(ctx, v, id)
	if err != nil {
		s.fail(c, err)
		return
	}
	items, err := s.deps.Cases.Transcript(ctx, v, id)
	if err != nil {
		s.fail(c, err)
		return
	}
	p := s.page(c, "case.title")
	p.Title = p.T("case.title", cs.ID)
	p.Nav = "inbox"
	cols, err := s.colleagues(ctx, cs.Department)
	if err != nil {
		s.fail(c, err)
		return
	}
	names := map[int64]string{}
	for _, col := range cols {
		names[col.ID] = col.Name
	}
	infos, err := s.deptInfos(ctx)
	if err != nil {
		s.fail(c, err)
		return
	}
	d := infos[cs.Department]
	transcript := s.transcriptViews(p, cs, items, names, infos)
	data := map[string]any{
		"Case":           cs,
		"Transcript":     transcript,
		"FieldPos":       fieldPosition(cs, transcript),
		"MapAttribution": s.cfg.MapAttribution,
		"Colleagues":     cols,
		"Dept":           d,
	}
	if cs.Status == routing.CaseWaiting {
		data["Wait"] = s.waitOf(p, d, cs.WaitingSince, time.Now())
	}
	earlier, err := s.earlierCases(ctx, v, cs)
	if err != nil {
		s.fail(c, err)
		return
	}
	data["Earlier"] = earlier
	if partial == "transcript" {
		p.Data = data
		s.renderFragment(c, "case", "transcript", p)
		return
	}
	if partial == "info" {
		p.Data = data
		s.renderFragment(c, "case", "caseinfo", p)
		return
	}
	if short := shortSubject(cs.Subject, 70); short != "" {
		p.Title = p.T("case.title", cs.ID) + ": " + short
		data["Short"] = short
	}
	deps, err := s.departmentRefs(ctx)
	if err != nil {
		s.fail(c, err)
		return
	}
	data["Departments"] = deps
	canned, faqs, err := s.picks(ctx, p, v, cs, d)
	if err != nil {
		s.fail(c, err)
		return
	}
	data["Canned"], data["FAQ"] = canned, faqs
	// Without JavaScript the insert button submits a GET that pre-fills the reply.
	if k := c.Query("insert"); k != "" && draft == "" {
		for _, pk := range append(append([]pick{}, canned...), faqs...) {
			if pk.Value == k {
				draft = pk.Text
			}
		}
	}
	data["Draft"] = draft
	data["ReplyError"] = replyErr
	p.Data = data
	s.render(c, status, "case", p)
}

func (s *Server) transcriptViews(p *page, cs routing.Case, items []routing.TranscriptItem, names map[int64]string, depts map[string]deptInfo) []transcriptView {
	deptName := func(id string) string {
		if d, ok := depts[id]; ok {
			return d.Name
		}
		return id
	}
	userName := func(v any) string {
		var id int64
		switch x := v.(type) {
		case float64:
			id = int64(x)
		case int64:
			id = x
		}
		if n, ok := names[id]; ok {
			return n
		}
		return "#" + strconv.FormatInt(id, 10)
	}
	out := make([]transcriptView, 0, len(items))
	for _, it := range items {
		tv := transcriptView{TranscriptItem: it}
		switch {
		case it.Message != nil:
			m := it.Message
			tv.Class = m.Direction
			switch m.Sender {
			case routing.SenderCitizen:
				tv.Who = p.T("case.citizen")
				if cs.FieldReport && cs.Reporter() != "" {
					tv.Who = cs.Reporter() // a field report: the staff member who sent it
				}
			case routing.SenderBot:
				tv.Who = p.T("case.bot")
			default:
				tv.Who = it.StaffName
				if tv.Who == "" {
					tv.Who = p.T("case.staff")
				}
			}
			if m.Media != nil {
				if m.Media.FileID != "" {
					tv.MediaURL = fmt.Sprintf("/cases/%d/media/%d", cs.ID, m.ID)
					tv.Image = m.Kind == routing.KindPhoto || (m.Kind == routing.KindSticker && !strings.HasPrefix(m.Media.MIMEType, "video"))
				}
				if m.Media.Latitude != nil && m.Media.Longitude != nil {
					tv.Lat, tv.Lon, tv.HasLoc = *m.Media.Latitude, *m.Media.Longitude, true
					tv.Place = strings.Join(nonEmpty(m.Media.Title, m.Media.Address), ", ")
					tv.Map = newTileMap(s.cfg.MapTiles, tv.Lat, tv.Lon)
				}
			}
			if it.Delivery != nil {
				tv.Failed = it.Delivery.Status == routing.OutboxFailed || it.Delivery.Status == routing.OutboxUndeliverable
			}
		case it.Event != nil:
			e := it.Event
			tv.Class = "event"
			if e.ActorName != nil {
				tv.Who = *e.ActorName
			} else {
				tv.Who = p.T("case.system")
			}
			switch e.Kind {
			case routing.EventNote:
				tv.Class = "note"
				tv.Text = e.Details.String("text")
			case routing.EventAssigned:
				tv.Summary = p.T("event.assigned", userName(e.Details["user_id"]))
			case routing.EventTransferred:
				tv.Summary = p.T("event.transferred", deptName(e.Details.String("from")), deptName(e.Details.String("to")))
				tv.Text = e.Details.String("note")
			case routing.EventDepartmentChanged:
				tv.Summary = p.T("event.department_changed", deptName(e.Details.String("to")))
			default:
				tv.Summary = p.T("event." + e.Kind)
			}
		}
		out = append(out, tv)
	}
	return out
}

// cannedFor lists the canned answers of dept the viewer may use in the
// reply box (its own departments' answers; admins all).
func (s *Server) cannedFor(ctx context.Context, v staff.Principal, dept string) ([]routing.CannedAnswer, error) {
	return s.deps.Cases.CannedAnswers(ctx, v, dept)
}

// caseAction runs one staff action and redirects back to the case.
func (s *Server) caseAction(c *gin.Context, notice string, fn func(ctx context.Context, v staff.Principal, id int64) error) {
	id := c.GetInt64(ctxCaseID)
	if err := fn(c.Request.Context(), principalOf(currentUser(c)), id); err != nil {
		s.fail(c, err)
		return
	}
	redirect(c, fmt.Sprintf("/cases/%d", id), notice)
}

const maxReplyBody = routing.MaxAttachmentSize*3 + 1<<20

func (s *Server) caseReply(c *gin.Context) {
	var atts []routing.Attachment
	if mf, err := c.MultipartForm(); err == nil && mf != nil {
		for _, fh := range mf.File["attachments"] {
			if fh.Size == 0 {
				continue
			}
			f, err := fh.Open()
			if err != nil {
				s.fail(c, fmt.Errorf("open attachment: %w", err))
				return
			}
			b, err := io.ReadAll(io.LimitReader(f, routing.MaxAttachmentSize+1))
			f.Close()
			if err != nil {
				s.fail(c, fmt.Errorf("read attachment: %w", err))
				return
			}
			atts = append(atts, routing.Attachment{Name: fh.Filename, MIME: fh.Header.Get("Content-Type"), Data: b})
		}
	}
	text := c.PostForm("text")
	ctx := c.Request.Context()
	v := principalOf(currentUser(c))
	id := c.GetInt64(ctxCaseID)
	p := s.page(c, "case.title")
	if strings.TrimSpace(text) == "" && len(atts) == 0 {
		// Stay on the case with a message at the reply box.
		s.renderCase(c, http.StatusBadRequest, "", text, p.T("case.reply_empty"))
		return
	}
	if _, err := s.deps.Cases.Reply(ctx, v, id, text, atts); err != nil {
		if s.statusOf(err) == http.StatusBadRequest {
			msg := p.T("case.reply_invalid", routing.MaxReplyLength)
			if len(atts) > 0 {
				msg = p.T("case.reply_invalid_files", routing.MaxAttachmentSize>>20)
			}
			s.renderCase(c, http.StatusBadRequest, "", text, msg)
			return
		}
		s.fail(c, err)
		return
	}
	if c.PostForm("then") != "close" {
		redirect(c, fmt.Sprintf("/cases/%d", id), "replied")
		return
	}
	if err := s.deps.Cases.Close(ctx, v, id); err != nil {
		s.fail(c, err)
		return
	}
	// On to the next citizen who waits, if there is one.
	next, err := s.nextWaiting(ctx, v, id)
	if err != nil {
		s.fail(c, err)
		return
	}
	if next == 0 {
		redirect(c, "/inbox", "replied_closed_last")
		return
	}
	redirect(c, fmt.Sprintf("/cases/%d", next), "replied_closed")
}

func (s *Server) caseNote(c *gin.Context) {
	s.caseAction(c, "noted", func(ctx context.Context, v staff.Principal, id int64) error {
		return s.deps.Cases.AddNote(ctx, v, id, c.PostForm("text"))
	})
}

func (s *Server) caseAssign(c *gin.Context) {
	s.caseAction(c, "assigned", func(ctx context.Context, v staff.Principal, id int64) error {
		to := c.PostForm("user_id")
		var uid int64
		switch to {
		case "me":
			uid = v.ID
		case "", "0":
		default:
			var err error
			if uid, err = strconv.ParseInt(to, 10, 64); err != nil {
				return fmt.Errorf("%w: user", ErrInvalid)
			}
		}
		return s.deps.Cases.Assign(ctx, v, id, uid)
	})
}

func (s *Server) caseTransfer(c *gin.Context) {
	u := currentUser(c)
	id := c.GetInt64(ctxCaseID)
	dept := c.PostForm("department")
	if err := s.deps.Cases.Transfer(c.Request.Context(), principalOf(u), id, dept, c.PostForm("note")); err != nil {
		s.fail(c, err)
		return
	}
	if !u.IsAdmin() && !contains(u.Departments, dept) {
		// The case has left the user's departments.
		redirect(c, "/inbox", "transferred")
		return
	}
	redirect(c, fmt.Sprintf("/cases/%d", id), "transferred")
}

func (s *Server) caseClose(c *gin.Context) {
	s.caseAction(c, "closed", s.deps.Cases.Close)
}

func (s *Server) caseReopen(c *gin.Context) {
	s.caseAction(c, "reopened", s.deps.Cases.Reopen)
}

// safeImageTypes are shown inline; everything else is a download.
var safeImageTypes = []string{"image/jpeg", "image/png", "image/gif", "image/webp"}

// caseMedia proxies a citizen's file of a message of this case. The case's
// transcript (visibility-checked) must contain the message.
func (s *Server) caseMedia(c *gin.Context) {
	ctx := c.Request.Context()
	id := c.GetInt64(ctxCaseID)
	msgID, err := strconv.ParseInt(c.Param("msg"), 10, 64)
	if err != nil {
		s.fail(c, errNotFound)
		return
	}
	items, err := s.deps.Cases.Transcript(ctx, principalOf(currentUser(c)), id)
	if err != nil {
		s.fail(c, err)
		return
	}
	var m *routing.Message
	for _, it := range items {
		if it.Message != nil && it.Message.ID == msgID && it.Message.Media != nil && it.Message.Media.FileID != "" {
			m = it.Message
		}
	}
	if m == nil {
		s.fail(c, errNotFound)
		return
	}
	if s.deps.Files == nil {
		s.fail(c, errNoService)
		return
	}
	cs, err := s.deps.Cases.Get(ctx, principalOf(currentUser(c)), id)
	if err != nil {
		s.fail(c, err)
		return
	}
	rc, err := s.deps.Files.OpenFile(ctx, cs.Channel, m.Media.FileID)
	if err != nil {
		s.fail(c, fmt.Errorf("fetch file: %w", err))
		return
	}
	defer rc.Close()
	br := bufio.NewReaderSize(rc, 512)
	head, _ := br.Peek(512)
	ct := http.DetectContentType(head)
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	h := c.Writer.Header()
	h.Set("Cache-Control", "private, max-age=3600")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	if contains(safeImageTypes, ct) {
		h.Set("Content-Type", ct)
		h.Set("Content-Disposition", "inline")
	} else {
		name := m.Media.FileName
		if name == "" {
			name = fmt.Sprintf("%s-%d", m.Kind, m.ID)
		}
		h.Set("Content-Type", "application/octet-stream")
		h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	}
	c.Status(http.StatusOK)
	if _, err := io.Copy(c.Writer, br); err != nil {
		s.log.Warn("media proxy copy", "case_id", id, "err", err)
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// nonEmpty returns the strings that are not blank, trimmed.
func nonEmpty(ss ...string) []string {
	var out []string
	for _, v := range ss {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}
