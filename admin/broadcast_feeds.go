package admin

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"citybot/broadcast"
)

// Feeds (admins): the list with last fetch, last success, last error and
// items waiting; the form; "Jetzt abrufen". The approval queue (editors
// and admins): approve (the item becomes a post sent now) or reject.

const bcMaxPollMinutes = 7 * 24 * 60

// bcFeedForm is the feed form as typed, with its errors per field.
type bcFeedForm struct {
	ID         int64
	URL        string
	Title      string
	Topic      string
	Auto       bool
	Department string
	Minutes    string
	Active     bool
	Errors     map[string]string
	General    string
}

func bcFeedFormOf(f broadcast.Feed) bcFeedForm {
	return bcFeedForm{ID: f.ID, URL: f.URL, Title: f.Title, Topic: idStr(f.TopicID), Auto: f.AutoPublish,
		Department: f.DepartmentID, Minutes: strconv.Itoa(f.PollSeconds / 60), Active: f.Active, Errors: map[string]string{}}
}

func readFeedForm(c *gin.Context, p *page, topics []broadcast.Topic, depts []deptRef, feeds []broadcast.Feed, self int64) (bcFeedForm, broadcast.FeedInput) {
	f := bcFeedForm{
		ID:         self,
		URL:        strings.TrimSpace(c.PostForm("url")),
		Title:      strings.TrimSpace(c.PostForm("title")),
		Topic:      strings.TrimSpace(c.PostForm("topic")),
		Auto:       c.PostForm("mode") == "auto",
		Department: strings.TrimSpace(c.PostForm("department")),
		Minutes:    strings.TrimSpace(c.PostForm("minutes")),
		Active:     c.PostForm("active") != "",
		Errors:     map[string]string{},
	}
	in := broadcast.FeedInput{URL: f.URL, Title: f.Title, AutoPublish: f.Auto, DepartmentID: f.Department, Active: f.Active}
	u, err := url.Parse(f.URL)
	switch {
	case f.URL == "":
		f.Errors["url"] = p.T("bc.err.feed_url_empty")
	case err != nil || !broadcast.IsHTTPURL(f.URL):
		f.Errors["url"] = p.T("bc.err.url")
	case u.User != nil:
		f.Errors["url"] = p.T("bc.err.feed_url_password")
	}
	id, _ := strconv.ParseInt(f.Topic, 10, 64)
	for _, t := range topics {
		if t.ID == id {
			in.TopicID = id
		}
	}
	if in.TopicID == 0 {
		f.Errors["topic"] = p.T("bc.err.feed_topic")
	}
	if f.Errors["url"] == "" && in.TopicID != 0 {
		for _, other := range feeds {
			if other.ID != self && other.URL == f.URL && other.TopicID == in.TopicID {
				f.Errors["url"] = p.T("bc.err.feed_exists")
			}
		}
	}
	if f.Department != "" && !hasDept(depts, f.Department) {
		f.Errors["department"] = p.T("bc.err.department")
	}
	if f.Minutes == "" {
		f.Minutes = "15"
	}
	if n, err := strconv.Atoi(f.Minutes); err != nil || n < int(broadcast.MinFeedPoll/time.Minute) || n > bcMaxPollMinutes {
		f.Errors["minutes"] = p.T("bc.err.minutes", int(broadcast.MinFeedPoll/time.Minute), bcMaxPollMinutes)
	} else {
		in.PollInterval = time.Duration(n) * time.Minute
	}
	return f, in
}

// bcFeedRow is a feed in the list.
type bcFeedRow struct {
	broadcast.Feed
	LastFetch   string
	LastSuccess string
	Name        string
	// ErrorText is the last fetch's error in the page's language, or as
	// recorded (English: ErrorLang "en") when it is no code.
	ErrorText, ErrorLang string
}

// feedErrorText words a feed's LastError (broadcast.FeedErrorCode) in the
// page's language: bc.feed.err.<code>; an old English text stays as it is,
// with lang "en".
func feedErrorText(p *page, lastError string) (text, lang string) {
	code, n, ok := broadcast.FeedErrorCode(lastError)
	if !ok {
		return lastError, "en"
	}
	if code == broadcast.FeedErrHTTPStatus {
		return p.T("bc.feed.err."+code, n), ""
	}
	return p.T("bc.feed.err." + code), ""
}

func (s *Server) bcFeedsPage(c *gin.Context) {
	fs, err := s.bc().ListFeeds(c.Request.Context())
	if err != nil {
		s.bcFail(c, err)
		return
	}
	p := s.bcPage(c, "bc.feeds.title")
	rows := make([]bcFeedRow, 0, len(fs))
	for _, f := range fs {
		r := bcFeedRow{Feed: f, Name: f.Title}
		if f.LastError != "" {
			r.ErrorText, r.ErrorLang = feedErrorText(p, f.LastError)
		}
		if r.Name == "" {
			r.Name = f.URL
		}
		if f.LastFetchAt.Valid {
			r.LastFetch = s.bcTime(f.LastFetchAt.Time)
		}
		if f.LastSuccessAt.Valid {
			r.LastSuccess = s.bcTime(f.LastSuccessAt.Time)
		}
		rows = append(rows, r)
	}
	hosts, err := s.bc().FeedInternalHosts(c.Request.Context())
	if err != nil {
		s.bcFail(c, err)
		return
	}
	p.Data = bcData(c, "feeds", map[string]any{"Feeds": rows, "InternalHosts": strings.Join(hosts, "\n")})
	s.render(c, http.StatusOK, "broadcast_feeds", p)
}

func (s *Server) renderFeedForm(c *gin.Context, p *page, status int, f bcFeedForm) {
	ctx := c.Request.Context()
	topics, err := s.bc().ListTopics(ctx, true)
	if err != nil {
		s.bcFail(c, err)
		return
	}
	depts, err := s.departmentRefs(ctx)
	if err != nil {
		s.bcFail(c, err)
		return
	}
	p.Data = bcData(c, "feeds", map[string]any{"F": f, "Topics": topics, "Departments": depts,
		"MinMinutes": int(broadcast.MinFeedPoll / time.Minute), "MaxMinutes": bcMaxPollMinutes})
	s.render(c, status, "broadcast_feed_form", p)
}

func (s *Server) bcFeedNewForm(c *gin.Context) {
	p := s.bcPage(c, "bc.feed.new")
	s.renderFeedForm(c, p, http.StatusOK, bcFeedForm{Minutes: "15", Active: true, Errors: map[string]string{}})
}

func (s *Server) bcFeedParam(c *gin.Context) (broadcast.Feed, bool) {
	id, err := idParam(c)
	if err != nil {
		s.fail(c, err)
		return broadcast.Feed{}, false
	}
	f, err := s.bc().Feed(c.Request.Context(), id)
	if err != nil {
		s.bcFail(c, err)
		return broadcast.Feed{}, false
	}
	return f, true
}

func (s *Server) bcFeedEditForm(c *gin.Context) {
	f, ok := s.bcFeedParam(c)
	if !ok {
		return
	}
	p := s.bcPage(c, "bc.feed.edit")
	s.renderFeedForm(c, p, http.StatusOK, bcFeedFormOf(f))
}

// bcSaveFeed creates (id 0) or updates a feed from the posted form.
func (s *Server) bcSaveFeed(c *gin.Context, id int64) {
	ctx := c.Request.Context()
	key := "bc.feed.new"
	if id != 0 {
		key = "bc.feed.edit"
	}
	p := s.bcPage(c, key)
	topics, err := s.bc().ListTopics(ctx, true)
	if err != nil {
		s.bcFail(c, err)
		return
	}
	depts, err := s.departmentRefs(ctx)
	if err != nil {
		s.bcFail(c, err)
		return
	}
	feeds, err := s.bc().ListFeeds(ctx)
	if err != nil {
		s.bcFail(c, err)
		return
	}
	f, in := readFeedForm(c, p, topics, depts, feeds, id)
	if len(f.Errors) > 0 {
		s.renderFeedForm(c, p, http.StatusBadRequest, f)
		return
	}
	by := principalOf(currentUser(c))
	if id == 0 {
		_, err = s.bc().CreateFeed(ctx, by, in)
	} else {
		_, err = s.bc().UpdateFeed(ctx, by, id, in)
	}
	if errors.Is(err, broadcast.ErrInvalid) {
		f.General = p.T("error.invalid") + " " + bcDetail(err)
		s.renderFeedForm(c, p, s.statusOf(err), f)
		return
	}
	if err != nil {
		s.bcFail(c, err)
		return
	}
	redirect(c, "/broadcast/feeds", "saved")
}

func (s *Server) bcFeedCreate(c *gin.Context) { s.bcSaveFeed(c, 0) }

func (s *Server) bcFeedUpdate(c *gin.Context) {
	f, ok := s.bcFeedParam(c)
	if !ok {
		return
	}
	s.bcSaveFeed(c, f.ID)
}

func (s *Server) bcFeedRefresh(c *gin.Context) {
	f, ok := s.bcFeedParam(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	err := s.bc().RefreshFeed(ctx, principalOf(currentUser(c)), f.ID)
	// A fetch error is recorded on the feed and shown in the list.
	if err != nil && (errors.Is(err, broadcast.ErrNotFound) || ctx.Err() != nil) {
		s.bcFail(c, err)
		return
	}
	if err != nil {
		redirect(c, "/broadcast/feeds#feed-"+idStr(f.ID), "bc_fetch_failed")
		return
	}
	redirect(c, "/broadcast/feeds#feed-"+idStr(f.ID), "bc_fetched")
}

func (s *Server) bcFeedDelete(c *gin.Context) {
	f, ok := s.bcFeedParam(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	if err := s.bc().DeleteFeed(ctx, principalOf(currentUser(c)), f.ID); err != nil {
		s.bcFail(c, err)
		return
	}
	redirect(c, "/broadcast/feeds", "bc_deleted")
}

// bcQueueItem is an item waiting for approval.
type bcQueueItem struct {
	broadcast.FeedItem
	FeedName  string
	Published string
	Summary   string
}

func (s *Server) bcQueuePage(c *gin.Context) {
	ctx := c.Request.Context()
	feedID, _ := strconv.ParseInt(c.Query("feed"), 10, 64)
	before, _ := strconv.ParseInt(c.Query("before"), 10, 64)
	items, err := s.bc().FeedItems(ctx, broadcast.FeedItemsOptions{FeedID: feedID, Status: broadcast.ItemNew, BeforeID: before, Limit: bcPostsPageSize + 1})
	if err != nil {
		s.bcFail(c, err)
		return
	}
	next := ""
	if len(items) > bcPostsPageSize {
		items = items[:bcPostsPageSize]
		v := url.Values{"before": {idStr(items[len(items)-1].ID)}}
		if feedID != 0 {
			v.Set("feed", idStr(feedID))
		}
		next = "/broadcast/queue?" + v.Encode()
	}
	feeds, err := s.bc().ListFeeds(ctx)
	if err != nil {
		s.bcFail(c, err)
		return
	}
	names := map[int64]string{}
	for _, f := range feeds {
		names[f.ID] = f.Title
		if f.Title == "" {
			names[f.ID] = f.URL
		}
	}
	views := make([]bcQueueItem, 0, len(items))
	for _, it := range items {
		v := bcQueueItem{FeedItem: it, FeedName: names[it.FeedID], Summary: excerpt(it.Summary, 400)}
		if it.PublishedAt.Valid {
			v.Published = s.bcTime(it.PublishedAt.Time)
		}
		views = append(views, v)
	}
	p := s.bcPage(c, "bc.queue.title")
	p.Data = bcData(c, "queue", map[string]any{"Items": views, "Next": next, "FeedID": feedID, "FeedName": names[feedID]})
	s.render(c, http.StatusOK, "broadcast_queue", p)
}

func (s *Server) bcItemApprove(c *gin.Context) {
	id, err := idParam(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	ctx := c.Request.Context()
	if _, err := s.bc().ApproveItem(ctx, principalOf(currentUser(c)), id); err != nil {
		s.bcFail(c, err)
		return
	}
	redirect(c, "/broadcast/queue", "bc_approved")
}

func (s *Server) bcItemReject(c *gin.Context) {
	id, err := idParam(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	ctx := c.Request.Context()
	if err := s.bc().RejectItem(ctx, principalOf(currentUser(c)), id); err != nil {
		s.bcFail(c, err)
		return
	}
	redirect(c, "/broadcast/queue", "bc_rejected")
}

// bcFeedHostsUpdate stores the hosts whose feeds may be on internal
// addresses (one per line).
func (s *Server) bcFeedHostsUpdate(c *gin.Context) {
	ctx := c.Request.Context()
	hosts := strings.Fields(c.PostForm("hosts"))
	if err := s.bc().SetFeedInternalHosts(ctx, principalOf(currentUser(c)), hosts); err != nil {
		s.bcFail(c, err)
		return
	}
	redirect(c, "/broadcast/feeds#internal-hosts", "saved")
}
