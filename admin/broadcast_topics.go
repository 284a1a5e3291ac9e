package admin

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"citybot/broadcast"
)

// Topics (admins): the list with subscriber counts and deep links, the
// form, and subscribers over time as an SVG chart with a data table.

var bcSlugRe = regexp.MustCompile(`^[a-z0-9_-]{1,40}$`)

// bcTopicForm is the topic form as typed, with its errors per field.
type bcTopicForm struct {
	ID          int64
	Slug        string
	NameDE      string
	NameEN      string
	Description string
	Active      bool
	Sort        string
	Errors      map[string]string
	General     string
}

func bcTopicFormOf(t broadcast.Topic) bcTopicForm {
	return bcTopicForm{ID: t.ID, Slug: t.Slug, NameDE: t.NameDE, NameEN: t.NameEN, Description: t.Description,
		Active: t.Active, Sort: strconv.Itoa(t.Sort), Errors: map[string]string{}}
}

func readTopicForm(c *gin.Context, p *page, others []broadcast.Topic) (bcTopicForm, broadcast.TopicInput) {
	f := bcTopicForm{
		Slug:        strings.ToLower(strings.TrimSpace(c.PostForm("slug"))),
		NameDE:      strings.TrimSpace(c.PostForm("name_de")),
		NameEN:      strings.TrimSpace(c.PostForm("name_en")),
		Description: strings.TrimSpace(c.PostForm("description")),
		Active:      c.PostForm("active") != "",
		Sort:        strings.TrimSpace(c.PostForm("sort")),
		Errors:      map[string]string{},
	}
	in := broadcast.TopicInput{Slug: f.Slug, NameDE: f.NameDE, NameEN: f.NameEN, Description: f.Description, Active: f.Active}
	switch {
	case f.Slug == "":
		f.Errors["slug"] = p.T("bc.err.slug_empty")
	case !bcSlugRe.MatchString(f.Slug):
		f.Errors["slug"] = p.T("bc.err.slug")
	default:
		for _, t := range others {
			if t.Slug == f.Slug {
				f.Errors["slug"] = p.T("bc.err.slug_taken")
			}
		}
	}
	if f.NameDE == "" {
		f.Errors["name_de"] = p.T("bc.err.name_de")
	}
	if f.Sort == "" {
		f.Sort = "0"
	}
	if n, err := strconv.Atoi(f.Sort); err != nil || n < -100000 || n > 100000 {
		f.Errors["sort"] = p.T("bc.err.sort")
	} else {
		in.Sort = n
	}
	return f, in
}

// bcTopicRow is a topic in the list.
type bcTopicRow struct {
	broadcast.Topic
	Subscribers int
	Payload     string
	Link        string // "" when the bot's username is unknown
}

func (s *Server) bcDeepLink(slug string) (payload, link string) {
	payload = broadcast.DeepLinkPayload(slug)
	if n, ok := s.deps.Broadcast.(botUsernamer); ok && n.BotUsername() != "" {
		link = broadcast.DeepLink(n.BotUsername(), slug)
	} else if s.cfg.BotUsername != "" {
		link = broadcast.DeepLink(s.cfg.BotUsername, slug)
	}
	return payload, link
}

func (s *Server) bcTopicsPage(c *gin.Context) {
	ctx := c.Request.Context()
	ts, err := s.bc().ListTopics(ctx, true)
	if err != nil {
		s.bcFail(c, err)
		return
	}
	counts, err := s.bc().SubscriberCounts(ctx)
	if err != nil {
		s.bcFail(c, err)
		return
	}
	rows := make([]bcTopicRow, 0, len(ts))
	for _, t := range ts {
		r := bcTopicRow{Topic: t, Subscribers: counts[t.ID]}
		r.Payload, r.Link = s.bcDeepLink(t.Slug)
		rows = append(rows, r)
	}
	p := s.bcPage(c, "bc.topics.title")
	_, probe := s.bcDeepLink("x")
	p.Data = bcData(c, "topics", map[string]any{"Topics": rows, "HasLinks": probe != ""})
	s.render(c, http.StatusOK, "broadcast_topics", p)
}

// bcChart is a line chart of subscribers per day, drawn server-side.
type bcChart struct {
	W, H        int
	Left, Right int // plot area x
	Top, Bottom int // plot area y
	Points      string
	Dots        []bcDot
	YMax        int
	YMid        int
	YMidY       int
	FirstLabel  string
	LastLabel   string
	Title       string
	Desc        string
	Rows        []bcChartRow
}

type bcDot struct {
	X, Y  int
	Label string
}

type bcChartRow struct {
	Day                         string
	Subscribers, Added, Removed int
}

var bcChartDays = []int{30, 90, 365}

func (s *Server) bcChartOf(p *page, name string, days int, pts []broadcast.SubscriberPoint) bcChart {
	ch := bcChart{W: 640, H: 260, Left: 56, Right: 624, Top: 16, Bottom: 220}
	maxV := 0
	for _, pt := range pts {
		maxV = max(maxV, pt.Subscribers)
	}
	ch.YMax = niceCeil(maxV)
	ch.YMid = ch.YMax / 2
	plotW, plotH := float64(ch.Right-ch.Left), float64(ch.Bottom-ch.Top)
	y := func(v int) int { return ch.Bottom - int(float64(v)/float64(ch.YMax)*plotH+0.5) }
	ch.YMidY = y(ch.YMid)
	var b strings.Builder
	for i, pt := range pts {
		x := ch.Left
		if len(pts) > 1 {
			x += int(float64(i)/float64(len(pts)-1)*plotW + 0.5)
		}
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%d,%d", x, y(pt.Subscribers))
		day := pt.Day.Format("02.01.2006")
		if len(pts) <= 31 {
			ch.Dots = append(ch.Dots, bcDot{X: x, Y: y(pt.Subscribers), Label: p.T("bc.chart.point", day, pt.Subscribers)})
		}
		ch.Rows = append(ch.Rows, bcChartRow{Day: day, Subscribers: pt.Subscribers, Added: pt.Added, Removed: pt.Removed})
	}
	ch.Points = b.String()
	if len(pts) > 0 {
		first, last := pts[0], pts[len(pts)-1]
		ch.FirstLabel, ch.LastLabel = first.Day.Format("02.01."), last.Day.Format("02.01.")
		ch.Title = p.T("bc.chart.title", name, days)
		ch.Desc = p.T("bc.chart.desc", first.Day.Format("02.01.2006"), first.Subscribers, last.Day.Format("02.01.2006"), last.Subscribers, maxV)
	}
	return ch
}

// niceCeil is the smallest of 1, 2, 5, 10, 20, 50, ... that is >= v.
func niceCeil(v int) int {
	for m := 1; ; m *= 10 {
		for _, k := range []int{1, 2, 5} {
			if k*m >= v {
				return k * m
			}
		}
	}
}

func (s *Server) renderTopicForm(c *gin.Context, p *page, status int, f bcTopicForm, t *broadcast.Topic) {
	data := map[string]any{"F": f}
	if t != nil {
		data["Payload"], data["Link"] = s.bcDeepLink(t.Slug)
		days := 30
		if d, err := strconv.Atoi(c.Query("days")); err == nil {
			for _, ok := range bcChartDays {
				if d == ok {
					days = d
				}
			}
		}
		to := time.Now()
		pts, err := s.bc().SubscriberHistory(c.Request.Context(), t.ID, to.AddDate(0, 0, -(days-1)), to)
		if err != nil {
			s.bcFail(c, err)
			return
		}
		data["Chart"] = s.bcChartOf(p, t.Name(p.Lang), days, pts)
		data["Days"] = days
		data["DayChoices"] = bcChartDays
	}
	p.Data = bcData(c, "topics", data)
	s.render(c, status, "broadcast_topic_form", p)
}

func (s *Server) bcTopicNewForm(c *gin.Context) {
	p := s.bcPage(c, "bc.topic.new")
	s.renderTopicForm(c, p, http.StatusOK, bcTopicForm{Active: true, Sort: "0", Errors: map[string]string{}}, nil)
}

func (s *Server) bcTopicParam(c *gin.Context) (broadcast.Topic, bool) {
	id, err := idParam(c)
	if err != nil {
		s.fail(c, err)
		return broadcast.Topic{}, false
	}
	t, err := s.bc().Topic(c.Request.Context(), id)
	if err != nil {
		s.bcFail(c, err)
		return broadcast.Topic{}, false
	}
	return t, true
}

func (s *Server) bcTopicEditForm(c *gin.Context) {
	t, ok := s.bcTopicParam(c)
	if !ok {
		return
	}
	p := s.bcPage(c, "bc.topic.edit")
	s.renderTopicForm(c, p, http.StatusOK, bcTopicFormOf(t), &t)
}

func (s *Server) bcTopicCreate(c *gin.Context) {
	ctx := c.Request.Context()
	p := s.bcPage(c, "bc.topic.new")
	all, err := s.bc().ListTopics(ctx, true)
	if err != nil {
		s.bcFail(c, err)
		return
	}
	f, in := readTopicForm(c, p, all)
	if len(f.Errors) > 0 {
		s.renderTopicForm(c, p, http.StatusBadRequest, f, nil)
		return
	}
	_, err = s.bc().CreateTopic(ctx, principalOf(currentUser(c)), in)
	if errors.Is(err, broadcast.ErrInvalid) {
		f.General = p.T("error.invalid") + " " + bcDetail(err)
		s.renderTopicForm(c, p, s.statusOf(err), f, nil)
		return
	}
	if err != nil {
		s.bcFail(c, err)
		return
	}
	redirect(c, "/broadcast/topics", "saved")
}

func (s *Server) bcTopicUpdate(c *gin.Context) {
	ctx := c.Request.Context()
	old, ok := s.bcTopicParam(c)
	if !ok {
		return
	}
	p := s.bcPage(c, "bc.topic.edit")
	all, err := s.bc().ListTopics(ctx, true)
	if err != nil {
		s.bcFail(c, err)
		return
	}
	var others []broadcast.Topic
	for _, t := range all {
		if t.ID != old.ID {
			others = append(others, t)
		}
	}
	f, in := readTopicForm(c, p, others)
	f.ID = old.ID
	if len(f.Errors) > 0 {
		s.renderTopicForm(c, p, http.StatusBadRequest, f, &old)
		return
	}
	_, err = s.bc().UpdateTopic(ctx, principalOf(currentUser(c)), old.ID, in)
	if errors.Is(err, broadcast.ErrInvalid) {
		f.General = p.T("error.invalid") + " " + bcDetail(err)
		s.renderTopicForm(c, p, s.statusOf(err), f, &old)
		return
	}
	if err != nil {
		s.bcFail(c, err)
		return
	}
	redirect(c, "/broadcast/topics", "saved")
}
