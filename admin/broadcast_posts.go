package admin

import (
	"context"
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"citybot/broadcast"
	"citybot/internal/tgtext"
	"citybot/staff"
)

// Posts: the list, the editor (text, photo, link, topics, department,
// warning) with a preview of exactly what Telegram shows, send now or at a
// time, unschedule, cancel while sending, and the live progress (a small
// JSON endpoint polled by static/broadcast.js).

const bcPostsPageSize = 50

// bcDatetimeLocal is the format of <input type="datetime-local">.
const bcDatetimeLocal = "2006-01-02T15:04"

// bcPhotoTypes are the uploaded photo types Telegram shows as photos.
var bcPhotoTypes = []string{"image/jpeg", "image/png", "image/webp", "image/gif"}

// bcPostForm is the post form as typed, with its errors per field (already
// translated; the template links them to the fields).
type bcPostForm struct {
	ID           int64
	Text         string
	PhotoURL     string
	LinkURL      string
	Department   string
	Topics       map[int64]bool
	Warning      bool
	HasPhotoData bool
	PhotoName    string
	Errors       map[string]string
	General      string // an error of the whole form
}

func bcPostFormOf(p broadcast.Post) bcPostForm {
	f := bcPostForm{
		ID: p.ID, Text: p.Text, PhotoURL: p.PhotoURL, LinkURL: p.LinkURL, Department: p.DepartmentID,
		Topics: map[int64]bool{}, Warning: p.IsWarning, HasPhotoData: p.HasPhotoData, PhotoName: p.PhotoName,
		Errors: map[string]string{},
	}
	for _, id := range p.TopicIDs {
		f.Topics[id] = true
	}
	return f
}

// readPostForm reads and checks the posted form; existing is the stored
// post when editing. The input is valid when f.Errors is empty.
func (s *Server) readPostForm(c *gin.Context, p *page, existing *broadcast.Post, topics []broadcast.Topic, depts []deptRef) (bcPostForm, broadcast.PostInput) {
	f := bcPostForm{
		Text:       strings.TrimSpace(strings.ReplaceAll(c.PostForm("text"), "\r\n", "\n")),
		PhotoURL:   strings.TrimSpace(c.PostForm("photo_url")),
		LinkURL:    strings.TrimSpace(c.PostForm("link_url")),
		Department: strings.TrimSpace(c.PostForm("department")),
		Topics:     map[int64]bool{},
		Warning:    c.PostForm("warning") != "",
		Errors:     map[string]string{},
	}
	removePhoto := c.PostForm("remove_photo") != ""
	if existing != nil {
		f.ID = existing.ID
		f.HasPhotoData = existing.HasPhotoData && !removePhoto
		f.PhotoName = existing.PhotoName
	}
	in := broadcast.PostInput{Text: f.Text, PhotoURL: f.PhotoURL, LinkURL: f.LinkURL, DepartmentID: f.Department,
		IsWarning: f.Warning, CreatedBy: currentUser(c).ID}

	// Photo upload.
	if fh, err := c.FormFile("photo"); err == nil && fh.Size > 0 {
		data, ctype, err := readPhoto(fh)
		switch {
		case errors.Is(err, errPhotoTooLarge):
			f.Errors["photo"] = p.T("bc.err.photo_size", broadcast.MaxPhotoBytes>>20)
		case err != nil:
			f.Errors["photo"] = p.T("bc.err.photo_read")
		case !slices.Contains(bcPhotoTypes, ctype):
			f.Errors["photo"] = p.T("bc.err.photo_type")
		default:
			in.Photo, in.PhotoName = data, fh.Filename
		}
	}
	if f.PhotoURL != "" && !broadcast.IsHTTPURL(f.PhotoURL) {
		f.Errors["photo_url"] = p.T("bc.err.url")
	} else if f.PhotoURL != "" && len(in.Photo) > 0 {
		f.Errors["photo_url"] = p.T("bc.err.photo_both")
	}
	if f.LinkURL != "" && !broadcast.IsHTTPURL(f.LinkURL) {
		f.Errors["link_url"] = p.T("bc.err.url")
	}

	hasPhoto := len(in.Photo) > 0 || f.PhotoURL != "" || f.HasPhotoData
	limit := broadcast.MaxTextLen
	if hasPhoto {
		limit = broadcast.MaxCaptionLen
	}
	switch n := tgtext.UTF16Len(f.Text); {
	case f.Text == "":
		f.Errors["text"] = p.T("bc.err.text_empty")
	case !utf8.ValidString(f.Text):
		f.Errors["text"] = p.T("bc.err.text_invalid")
	case n > limit && hasPhoto:
		f.Errors["text"] = p.T("bc.err.caption_long", n, limit)
	case n > limit:
		f.Errors["text"] = p.T("bc.err.text_long", n, limit)
	}

	known := map[int64]bool{}
	for _, t := range topics {
		known[t.ID] = true
	}
	for _, v := range c.PostFormArray("topics") {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || !known[id] {
			f.Errors["topics"] = p.T("bc.err.topic_unknown")
			continue
		}
		if !f.Topics[id] {
			f.Topics[id] = true
			in.TopicIDs = append(in.TopicIDs, id)
		}
	}
	if len(in.TopicIDs) == 0 && f.Errors["topics"] == "" {
		f.Errors["topics"] = p.T("bc.err.topics")
	}
	if f.Department != "" && !hasDept(depts, f.Department) {
		f.Errors["department"] = p.T("bc.err.department")
	}
	return f, in
}

var errPhotoTooLarge = errors.New("photo too large")

func readPhoto(fh *multipart.FileHeader) ([]byte, string, error) {
	if fh.Size > broadcast.MaxPhotoBytes {
		return nil, "", errPhotoTooLarge
	}
	r, err := fh.Open()
	if err != nil {
		return nil, "", err
	}
	defer r.Close()
	data, err := io.ReadAll(io.LimitReader(r, broadcast.MaxPhotoBytes+1))
	if err != nil {
		return nil, "", err
	}
	if len(data) > broadcast.MaxPhotoBytes {
		return nil, "", errPhotoTooLarge
	}
	return data, http.DetectContentType(data), nil
}

// bcPostView is a post for the list and the post page.
type bcPostView struct {
	broadcast.Post
	StatusText string
	TopicNames []string
	Excerpt    string
	When       string // scheduled for, started at or created at
	WhenKey    string
	Progress   *bcProgressView // live (sending, scheduled), else nil
}

func (s *Server) bcPostViewOf(p *page, post broadcast.Post, names map[int64]string) bcPostView {
	v := bcPostView{Post: post, StatusText: p.T("bc.status." + post.Status), Excerpt: excerpt(post.Text, 90)}
	for _, id := range post.TopicIDs {
		v.TopicNames = append(v.TopicNames, names[id])
	}
	switch {
	case post.StartedAt.Valid:
		v.WhenKey, v.When = "bc.when.started", s.bcTime(post.StartedAt.Time)
	case post.SendAt.Valid:
		v.WhenKey, v.When = "bc.when.scheduled", s.bcTime(post.SendAt.Time)
	default:
		v.WhenKey, v.When = "bc.when.created", s.bcTime(post.CreatedAt)
	}
	return v
}

func excerpt(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return strings.TrimSpace(string(r[:n-1])) + "…"
}

// bcProgressView is a post's progress as the page and the JSON endpoint
// show it.
type bcProgressView struct {
	PostID           int64   `json:"post_id"`
	Status           string  `json:"status"`
	StatusText       string  `json:"status_text"`
	Done             bool    `json:"done"` // no more changes to expect
	Total            int     `json:"total"`
	Sent             int     `json:"sent"`
	Failed           int     `json:"failed"`
	Undeliverable    int     `json:"undeliverable"`
	Cancelled        int     `json:"cancelled"`
	Remaining        int     `json:"remaining"`
	Processed        int     `json:"processed"` // sent + failed + undeliverable + cancelled
	Rate             float64 `json:"rate"`
	RateText         string  `json:"rate_text"`
	EstimatedEnd     string  `json:"estimated_end"` // RFC 3339, "" = none
	EstimatedEndText string  `json:"estimated_end_text"`
	Percent          int     `json:"percent"`
}

func (s *Server) bcProgressOf(p *page, pr broadcast.Progress) bcProgressView {
	v := bcProgressView{
		PostID: pr.PostID, Status: pr.Status, StatusText: p.T("bc.status." + pr.Status),
		Done:  pr.Status == broadcast.StatusSent || pr.Status == broadcast.StatusCancelled || pr.Status == broadcast.StatusDraft,
		Total: pr.Total, Sent: pr.Sent, Failed: pr.Failed, Undeliverable: pr.Undeliverable,
		Cancelled: pr.Cancelled, Remaining: pr.Remaining, Rate: pr.Rate,
		RateText: strconv.FormatFloat(pr.Rate, 'f', 1, 64),
	}
	v.RateText = strings.Replace(v.RateText, ".", p.T("fmt.decimal"), 1)
	v.Processed = v.Sent + v.Failed + v.Undeliverable + v.Cancelled
	if all := v.Processed + v.Remaining; all > 0 {
		v.Percent = v.Processed * 100 / all
	} else if v.Done {
		v.Percent = 100
	}
	v.EstimatedEndText = "–"
	if !pr.EstimatedEnd.IsZero() && !v.Done {
		v.EstimatedEnd = pr.EstimatedEnd.UTC().Format(time.RFC3339)
		v.EstimatedEndText = s.bcTime(pr.EstimatedEnd)
	}
	return v
}

func (s *Server) bcPostsPage(c *gin.Context) {
	ctx := c.Request.Context()
	p := s.bcPage(c, "bc.posts.title")
	status := c.Query("status")
	if !slices.Contains(bcStatuses, status) {
		status = ""
	}
	before, _ := strconv.ParseInt(c.Query("before"), 10, 64)
	posts, err := s.bc().ListPosts(ctx, broadcast.ListPostsOptions{Status: status, BeforeID: before, Limit: bcPostsPageSize + 1})
	if err != nil {
		s.bcFail(c, err)
		return
	}
	next := ""
	if len(posts) > bcPostsPageSize {
		posts = posts[:bcPostsPageSize]
		v := url.Values{"before": {idStr(posts[len(posts)-1].ID)}}
		if status != "" {
			v.Set("status", status)
		}
		next = "/broadcast/posts?" + v.Encode()
	}
	_, names, err := s.bcTopicNames(ctx, p.Lang)
	if err != nil {
		s.bcFail(c, err)
		return
	}
	views := make([]bcPostView, 0, len(posts))
	for _, post := range posts {
		v := s.bcPostViewOf(p, post, names)
		if post.Status == broadcast.StatusSending || post.Status == broadcast.StatusScheduled {
			pr, err := s.bc().Progress(ctx, post.ID)
			if err != nil {
				s.bcFail(c, err)
				return
			}
			pv := s.bcProgressOf(p, pr)
			v.Progress = &pv
		}
		views = append(views, v)
	}
	p.Data = bcData(c, "posts", map[string]any{"Posts": views, "Status": status, "Statuses": bcStatuses, "Next": next})
	s.render(c, http.StatusOK, "broadcast_posts", p)
}

var bcStatuses = []string{broadcast.StatusDraft, broadcast.StatusScheduled, broadcast.StatusSending, broadcast.StatusSent, broadcast.StatusCancelled}

// bcFormChoices returns what the post form offers: the topics (active ones,
// plus inactive ones the post already has) and the departments.
func (s *Server) bcFormChoices(ctx context.Context, selected map[int64]bool) ([]broadcast.Topic, []deptRef, error) {
	all, err := s.bc().ListTopics(ctx, true)
	if err != nil {
		return nil, nil, err
	}
	var ts []broadcast.Topic
	for _, t := range all {
		if t.Active || selected[t.ID] {
			ts = append(ts, t)
		}
	}
	depts, err := s.departmentRefs(ctx)
	if err != nil {
		return nil, nil, err
	}
	return ts, depts, nil
}

// bcPostPageData is everything the post page shows.
type bcPostPageData struct {
	Post        *bcPostView
	F           bcPostForm
	Topics      []broadcast.Topic
	Departments []deptRef
	Editable    bool
	Preview     *bcPreviewView
	Progress    *bcProgressView
	ScheduleAt  string
	SchedErr    string
	MaxText     int
	MaxCaption  int
	MaxPhotoMB  int
	QuietHours  string
	Confirm     bool // "Jetzt senden" was pressed: ask with the number of recipients
}

// bcPreviewView is the preview of a stored post.
type bcPreviewView struct {
	broadcast.Message
	HasPhotoData bool
	Recipients   int
	StartsAt     string
	Held         bool // quiet hours move the start
	Duration     string
	Problems     []string
}

// renderPostPage renders the post page (or the new-post form when post is
// nil) with form f.
func (s *Server) renderPostPage(c *gin.Context, p *page, status int, post *broadcast.Post, f bcPostForm, schedErr string) {
	s.renderPostPageWith(c, p, status, post, f, schedErr, false)
}

func (s *Server) renderPostPageWith(c *gin.Context, p *page, status int, post *broadcast.Post, f bcPostForm, schedErr string, confirm bool) {
	ctx := c.Request.Context()
	topics, depts, err := s.bcFormChoices(ctx, f.Topics)
	if err != nil {
		s.bcFail(c, err)
		return
	}
	cfg := s.bc().Config()
	d := bcPostPageData{
		F: f, Topics: topics, Departments: depts, Editable: true, SchedErr: schedErr,
		MaxText: broadcast.MaxTextLen, MaxCaption: broadcast.MaxCaptionLen, MaxPhotoMB: broadcast.MaxPhotoBytes >> 20,
		Confirm: confirm,
	}
	if cfg.QuietHours.Enabled() {
		d.QuietHours = p.T("bc.quiet_hours", cfg.QuietHours.From, cfg.QuietHours.To)
	}
	sub := "new"
	if post != nil {
		sub = ""
		_, names, err := s.bcTopicNames(ctx, p.Lang)
		if err != nil {
			s.bcFail(c, err)
			return
		}
		pv := s.bcPostViewOf(p, *post, names)
		d.Post = &pv
		d.Editable = post.Status == broadcast.StatusDraft || post.Status == broadcast.StatusScheduled
		prev, err := s.bc().Preview(ctx, post.ID)
		if err != nil {
			s.bcFail(c, err)
			return
		}
		d.Preview = &bcPreviewView{
			Message: prev.Message, HasPhotoData: post.HasPhotoData, Recipients: prev.Recipients,
			StartsAt: s.bcTime(prev.StartsAt), Duration: bcDuration(p, prev.Duration),
		}
		for _, code := range prev.Problems {
			d.Preview.Problems = append(d.Preview.Problems, p.T("bc.problem."+code))
		}
		base := time.Now()
		if post.SendAt.Valid && post.SendAt.Time.After(base) {
			base = post.SendAt.Time
		}
		d.Preview.Held = prev.StartsAt.Sub(base) > time.Minute
		if post.Status != broadcast.StatusDraft {
			pr, err := s.bc().Progress(ctx, post.ID)
			if err != nil {
				s.bcFail(c, err)
				return
			}
			prv := s.bcProgressOf(p, pr)
			d.Progress = &prv
		}
		if d.ScheduleAt = c.PostForm("at"); d.ScheduleAt == "" {
			at := time.Now().Add(time.Hour).Truncate(time.Hour)
			if post.SendAt.Valid && post.Status == broadcast.StatusScheduled {
				at = post.SendAt.Time
			}
			d.ScheduleAt = at.In(s.bcLoc()).Format(bcDatetimeLocal)
		}
	}
	p.Data = bcData(c, sub, map[string]any{"D": d})
	s.render(c, status, "broadcast_post", p)
}

func (s *Server) bcPostNewForm(c *gin.Context) {
	p := s.bcPage(c, "bc.post.new")
	s.renderPostPage(c, p, http.StatusOK, nil, bcPostForm{Topics: map[int64]bool{}, Errors: map[string]string{}}, "")
}

func (s *Server) bcPostParam(c *gin.Context) (broadcast.Post, bool) {
	id, err := idParam(c)
	if err != nil {
		s.fail(c, err)
		return broadcast.Post{}, false
	}
	post, err := s.bc().Post(c.Request.Context(), id)
	if err != nil {
		s.bcFail(c, err)
		return broadcast.Post{}, false
	}
	return post, true
}

func (s *Server) bcPostPage(c *gin.Context) {
	post, ok := s.bcPostParam(c)
	if !ok {
		return
	}
	p := s.bcPage(c, "bc.post.title")
	p.Title = p.T("bc.post.title_n", post.ID)
	s.renderPostPage(c, p, http.StatusOK, &post, bcPostFormOf(post), "")
}

func (s *Server) bcPostCreate(c *gin.Context) {
	ctx := c.Request.Context()
	p := s.bcPage(c, "bc.post.new")
	topics, depts, err := s.bcFormChoices(ctx, nil)
	if err != nil {
		s.bcFail(c, err)
		return
	}
	f, in := s.readPostForm(c, p, nil, topics, depts)
	if len(f.Errors) > 0 {
		s.renderPostPage(c, p, http.StatusBadRequest, nil, f, "")
		return
	}
	post, err := s.bc().CreatePost(ctx, principalOf(currentUser(c)), in)
	if errors.Is(err, broadcast.ErrInvalid) {
		f.General = p.T("error.invalid") + " " + bcDetail(err)
		s.renderPostPage(c, p, s.statusOf(err), nil, f, "")
		return
	}
	if err != nil {
		s.bcFail(c, err)
		return
	}
	redirect(c, "/broadcast/posts/"+idStr(post.ID), "bc_saved")
}

func (s *Server) bcPostUpdate(c *gin.Context) {
	ctx := c.Request.Context()
	post, ok := s.bcPostParam(c)
	if !ok {
		return
	}
	p := s.bcPage(c, "bc.post.title")
	p.Title = p.T("bc.post.title_n", post.ID)
	if post.Status != broadcast.StatusDraft && post.Status != broadcast.StatusScheduled {
		s.bcFail(c, broadcast.ErrState)
		return
	}
	existing := map[int64]bool{}
	for _, id := range post.TopicIDs {
		existing[id] = true
	}
	topics, depts, err := s.bcFormChoices(ctx, existing)
	if err != nil {
		s.bcFail(c, err)
		return
	}
	f, in := s.readPostForm(c, p, &post, topics, depts)
	if len(f.Errors) > 0 {
		s.renderPostPage(c, p, http.StatusBadRequest, &post, f, "")
		return
	}
	by := principalOf(currentUser(c))
	// The uploaded photo was removed on the form: dropped with the update.
	in.RemovePhoto = post.HasPhotoData && !f.HasPhotoData && len(in.Photo) == 0 && in.PhotoURL == ""
	if _, err := s.bc().UpdatePost(ctx, by, post.ID, in); err != nil {
		if errors.Is(err, broadcast.ErrInvalid) {
			f.General = p.T("error.invalid") + " " + bcDetail(err)
			s.renderPostPage(c, p, s.statusOf(err), &post, f, "")
			return
		}
		s.bcFail(c, err)
		return
	}
	redirect(c, "/broadcast/posts/"+idStr(post.ID), "bc_saved")
}

func (s *Server) bcPostPhoto(c *gin.Context) {
	id, err := idParam(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	_, data, err := s.bc().PostPhoto(c.Request.Context(), id)
	if err != nil {
		s.bcFail(c, err)
		return
	}
	ctype := http.DetectContentType(data)
	if !slices.Contains(bcPhotoTypes, ctype) {
		s.fail(c, errNotFound)
		return
	}
	c.Header("Content-Disposition", "inline")
	c.Data(http.StatusOK, ctype, data)
}

func (s *Server) bcPostProgress(c *gin.Context) {
	id, err := idParam(c)
	if err != nil {
		c.JSON(http.StatusNotFound, gin.H{"error": "not found"})
		return
	}
	pr, err := s.bc().Progress(c.Request.Context(), id)
	if err != nil {
		status := s.statusOf(err)
		if status >= 500 {
			s.log.Error("broadcast progress", "post_id", id, "err", err)
		}
		c.JSON(status, gin.H{"error": http.StatusText(status)})
		return
	}
	p := &page{Lang: s.language(c), cat: s.cat}
	c.JSON(http.StatusOK, s.bcProgressOf(p, pr))
}

// bcPostSend releases a post: now (when=now) or at a local time (at).
func (s *Server) bcPostSend(c *gin.Context) {
	ctx := c.Request.Context()
	post, ok := s.bcPostParam(c)
	if !ok {
		return
	}
	p := s.bcPage(c, "bc.post.title")
	p.Title = p.T("bc.post.title_n", post.ID)
	var at time.Time
	if c.PostForm("when") == "now" && c.PostForm("confirm") != "yes" {
		// Sending to every subscriber is asked once more, with their number.
		s.renderPostPageWith(c, p, http.StatusOK, &post, bcPostFormOf(post), "", true)
		return
	}
	if c.PostForm("when") != "now" {
		v := strings.TrimSpace(c.PostForm("at"))
		t, err := time.ParseInLocation(bcDatetimeLocal, v, s.bcLoc())
		msg := ""
		switch {
		case v == "":
			msg = p.T("bc.err.at_empty")
		case err != nil:
			msg = p.T("bc.err.at_invalid")
		case t.Before(time.Now().Add(-time.Minute)):
			msg = p.T("bc.err.at_past")
		}
		if msg != "" {
			s.renderPostPage(c, p, http.StatusBadRequest, &post, bcPostFormOf(post), msg)
			return
		}
		at = t
	}
	if _, err := s.bc().SchedulePost(ctx, principalOf(currentUser(c)), post.ID, at); err != nil {
		s.bcFail(c, err)
		return
	}
	if at.IsZero() {
		redirect(c, "/broadcast/posts/"+idStr(post.ID), "bc_sending")
		return
	}
	redirect(c, "/broadcast/posts/"+idStr(post.ID), "bc_scheduled")
}

func (s *Server) bcPostAction(c *gin.Context, action, notice string, do func(context.Context, staff.Principal, int64) error) {
	id, err := idParam(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	ctx := c.Request.Context()
	if err := do(ctx, principalOf(currentUser(c)), id); err != nil {
		s.bcFail(c, err)
		return
	}
	to := "/broadcast/posts/" + idStr(id)
	if action == "delete" {
		to = "/broadcast/posts"
	}
	redirect(c, to, notice)
}

func (s *Server) bcPostUnschedule(c *gin.Context) {
	s.bcPostAction(c, "unschedule", "bc_unscheduled", s.bc().Unschedule)
}

func (s *Server) bcPostCancel(c *gin.Context) {
	s.bcPostAction(c, "cancel", "bc_cancelled", s.bc().CancelPost)
}

func (s *Server) bcPostDelete(c *gin.Context) {
	s.bcPostAction(c, "delete", "bc_deleted", s.bc().DeletePost)
}
