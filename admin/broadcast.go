package admin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"citybot/broadcast"
	"citybot/staff"
)

// News channels (broadcast): posts for editors and admins, topics and feeds
// for admins, the feed approval queue for editors and admins. Deps.Broadcast
// (*broadcast.Service) does the work; nil hides the pages (routes and nav
// link). Every change takes the acting user, and broadcast writes its audit
// row in the change's transaction.
//
// Files: broadcast.go (routes, errors, shared helpers), broadcast_posts.go,
// broadcast_topics.go, broadcast_feeds.go, broadcast_i18n.go; templates
// pages/broadcast_*.html and partials/broadcast.html; static/broadcast.js
// (progress polling) and static/broadcast.css.

// Broadcast is what the admin pages need of the broadcast domain; it is
// satisfied by *broadcast.Service.
type Broadcast interface {
	Config() broadcast.Config

	// The changes take the acting user and write their audit rows.
	CreateTopic(ctx context.Context, by staff.Principal, in broadcast.TopicInput) (broadcast.Topic, error)
	UpdateTopic(ctx context.Context, by staff.Principal, id int64, in broadcast.TopicInput) (broadcast.Topic, error)
	Topic(ctx context.Context, id int64) (broadcast.Topic, error)
	ListTopics(ctx context.Context, all bool) ([]broadcast.Topic, error)
	SubscriberCounts(ctx context.Context) (map[int64]int, error)
	SubscriberHistory(ctx context.Context, topicID int64, from, to time.Time) ([]broadcast.SubscriberPoint, error)

	CreatePost(ctx context.Context, by staff.Principal, in broadcast.PostInput) (broadcast.Post, error)
	UpdatePost(ctx context.Context, by staff.Principal, id int64, in broadcast.PostInput) (broadcast.Post, error)
	DeletePost(ctx context.Context, by staff.Principal, id int64) error
	Post(ctx context.Context, id int64) (broadcast.Post, error)
	PostPhoto(ctx context.Context, id int64) (string, []byte, error)
	ListPosts(ctx context.Context, o broadcast.ListPostsOptions) ([]broadcast.Post, error)
	Preview(ctx context.Context, id int64) (broadcast.Preview, error)
	SchedulePost(ctx context.Context, by staff.Principal, id int64, sendAt time.Time) (broadcast.Post, error)
	Unschedule(ctx context.Context, by staff.Principal, id int64) error
	CancelPost(ctx context.Context, by staff.Principal, id int64) error
	Progress(ctx context.Context, id int64) (broadcast.Progress, error)

	CreateFeed(ctx context.Context, by staff.Principal, in broadcast.FeedInput) (broadcast.Feed, error)
	UpdateFeed(ctx context.Context, by staff.Principal, id int64, in broadcast.FeedInput) (broadcast.Feed, error)
	DeleteFeed(ctx context.Context, by staff.Principal, id int64) error
	Feed(ctx context.Context, id int64) (broadcast.Feed, error)
	ListFeeds(ctx context.Context) ([]broadcast.Feed, error)
	FeedItems(ctx context.Context, o broadcast.FeedItemsOptions) ([]broadcast.FeedItem, error)
	ApproveItem(ctx context.Context, by staff.Principal, itemID int64) (broadcast.Post, error)
	RejectItem(ctx context.Context, by staff.Principal, itemID int64) error
	RefreshFeed(ctx context.Context, by staff.Principal, id int64) error
	FeedInternalHosts(ctx context.Context) ([]string, error)
	SetFeedInternalHosts(ctx context.Context, by staff.Principal, hosts []string) error
}

// botUsernamer is optionally implemented by Deps.Broadcast (e.g. a wrapper
// that knows the bot's Telegram username); then the topics page shows the
// full t.me deep link, otherwise only the /start payload.
type botUsernamer interface{ BotUsername() string }

// routeBroadcast registers the broadcast pages under /broadcast when the
// service is configured, and switches the layout's nav link on.
func (s *Server) routeBroadcast(e *gin.Engine) {
	if s.deps.Broadcast == nil {
		return
	}
	s.enableBroadcastNav()
	g := e.Group("/broadcast", s.requireRole(staff.RoleAdmin, staff.RoleEditor))
	g.GET("", func(c *gin.Context) { c.Redirect(http.StatusSeeOther, "/broadcast/posts") })
	g.GET("/posts", s.bcPostsPage)
	g.GET("/posts/new", s.bcPostNewForm)
	g.POST("/posts", s.bcPostCreate)
	g.GET("/posts/:id", s.bcPostPage)
	g.POST("/posts/:id", s.bcPostUpdate)
	g.GET("/posts/:id/photo", s.bcPostPhoto)
	g.GET("/posts/:id/progress", s.bcPostProgress)
	g.POST("/posts/:id/send", s.bcPostSend)
	g.POST("/posts/:id/unschedule", s.bcPostUnschedule)
	g.POST("/posts/:id/cancel", s.bcPostCancel)
	g.POST("/posts/:id/delete", s.bcPostDelete)
	g.GET("/queue", s.bcQueuePage)
	g.POST("/queue/:id/approve", s.bcItemApprove)
	g.POST("/queue/:id/reject", s.bcItemReject)

	a := g.Group("", s.requireRole(staff.RoleAdmin))
	a.GET("/topics", s.bcTopicsPage)
	a.GET("/topics/new", s.bcTopicNewForm)
	a.POST("/topics", s.bcTopicCreate)
	a.GET("/topics/:id", s.bcTopicEditForm)
	a.POST("/topics/:id", s.bcTopicUpdate)
	a.GET("/feeds", s.bcFeedsPage)
	a.POST("/feed-hosts", s.bcFeedHostsUpdate)
	a.GET("/feeds/new", s.bcFeedNewForm)
	a.POST("/feeds", s.bcFeedCreate)
	a.GET("/feeds/:id", s.bcFeedEditForm)
	a.POST("/feeds/:id", s.bcFeedUpdate)
	a.POST("/feeds/:id/refresh", s.bcFeedRefresh)
	a.POST("/feeds/:id/delete", s.bcFeedDelete)
}

// enableBroadcastNav redefines the layout's (empty) broadcast_nav template
// as the real link in every page's template set. It runs in New, before
// any template is executed.
func (s *Server) enableBroadcastNav() {
	for name, t := range s.tmpl.pages {
		if _, err := t.New("broadcast_nav").Parse(`{{template "broadcast_nav_link" .}}`); err != nil {
			panic(fmt.Sprintf("broadcast nav in %s: %v", name, err))
		}
	}
}

// bcFail renders the error page for an error of the broadcast domain.
// Invalid and state errors get a message that says what happened;
// everything else goes through fail. The status comes from statusOf.
func (s *Server) bcFail(c *gin.Context, err error) {
	switch {
	case errors.Is(err, broadcast.ErrState):
		s.bcErrorPage(c, s.statusOf(err), "bc.err.state", "")
	case errors.Is(err, broadcast.ErrInvalid):
		s.bcErrorPage(c, s.statusOf(err), "error.invalid", bcDetail(err))
	default:
		s.fail(c, err)
	}
}

func (s *Server) bcErrorPage(c *gin.Context, status int, key, detail string) {
	c.Error(fmt.Errorf("status %d: %s", status, key)) //nolint:errcheck // recorded for the request log
	p := s.page(c, "error.title")
	p.Data = map[string]any{"Status": status, "Message": p.T(key), "Detail": detail}
	s.render(c, status, "error", p)
	c.Abort()
}

// bcDetail is the user-facing part of a broadcast validation error
// ("broadcast: invalid input: <detail>"; the package writes these for
// users, in English).
func bcDetail(err error) string {
	const prefix = "broadcast: invalid input: "
	msg := err.Error()
	if i := strings.Index(msg, prefix); i >= 0 {
		return msg[i+len(prefix):]
	}
	return ""
}

func (s *Server) bc() Broadcast { return s.deps.Broadcast }

// bcLoc is the time zone of the news channels (the city's by default).
func (s *Server) bcLoc() *time.Location {
	if loc := s.bc().Config().Location; loc != nil {
		return loc
	}
	return s.loc()
}

// loc is the city's time zone (CITYBOT_TIMEZONE, through the calendar):
// every date the UI shows or reads is in it.
func (s *Server) loc() *time.Location { return s.cal.Location() }

// bcTime formats t in the news channels' time zone.
func (s *Server) bcTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(s.bcLoc()).Format("02.01.2006 15:04")
}

// bcDuration says how long d is, roughly, in the page's language.
func bcDuration(p *page, d time.Duration) string {
	switch {
	case d < time.Minute:
		return p.T("bc.dur.seconds", max(1, int(d.Round(time.Second)/time.Second)))
	case d < time.Hour:
		return p.T("bc.dur.minutes", int(d.Round(time.Minute)/time.Minute))
	default:
		d = d.Round(time.Minute)
		return p.T("bc.dur.hours", int(d/time.Hour), int(d%time.Hour/time.Minute))
	}
}

// bcSubItems are the sub-navigation entries of the broadcast pages for u.
func bcSubItems(u *staff.Principal) []string {
	if u.IsAdmin() {
		return []string{"posts", "new", "queue", "topics", "feeds"}
	}
	return []string{"posts", "new", "queue"}
}

// bcPage is page() for a broadcast page (nav item "broadcast").
func (s *Server) bcPage(c *gin.Context, titleKey string) *page {
	p := s.page(c, titleKey)
	p.Nav = "broadcast"
	return p
}

// bcData builds a page's Data with the sub-navigation entries.
func bcData(c *gin.Context, sub string, m map[string]any) map[string]any {
	if m == nil {
		m = map[string]any{}
	}
	m["Sub"] = sub
	m["SubItems"] = bcSubItems(currentUser(c))
	return m
}

func idParam(c *gin.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("id %q: %w", c.Param("id"), ErrNotFound)
	}
	return id, nil
}

// bcTopicNames returns the topics (all) and their names in lang by id.
func (s *Server) bcTopicNames(ctx context.Context, lang string) ([]broadcast.Topic, map[int64]string, error) {
	ts, err := s.bc().ListTopics(ctx, true)
	if err != nil {
		return nil, nil, err
	}
	names := make(map[int64]string, len(ts))
	for _, t := range ts {
		names[t.ID] = t.Name(lang)
	}
	return ts, names, nil
}

func idStr(id int64) string { return strconv.FormatInt(id, 10) }
