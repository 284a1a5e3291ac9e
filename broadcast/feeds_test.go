package broadcast_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"citybot/broadcast"
	"citybot/staff"
)

// rssServer serves an RSS feed whose items the test changes.
type rssServer struct {
	*httptest.Server
	mu       sync.Mutex
	items    []rssItem
	requests atomic.Int64
}

type rssItem struct{ guid, title, link, desc string }

func newRSSServer(t *testing.T) *rssServer {
	rs := &rssServer{}
	rs.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rs.requests.Add(1)
		rs.mu.Lock()
		var b strings.Builder
		b.WriteString(`<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Pressemitteilungen Musterstadt</title><link>https://www.musterstadt.de</link><description>x</description>`)
		for i, it := range rs.items {
			fmt.Fprintf(&b, `<item><title>%s</title><link>%s</link><description>%s</description><pubDate>%s</pubDate>`,
				it.title, it.link, it.desc, time.Date(2026, 1, 1+i, 10, 0, 0, 0, time.UTC).Format(time.RFC1123Z))
			if it.guid != "" {
				fmt.Fprintf(&b, `<guid isPermaLink="false">%s</guid>`, it.guid)
			}
			b.WriteString(`</item>`)
		}
		b.WriteString(`</channel></rss>`)
		rs.mu.Unlock()
		w.Header().Set("Content-Type", "application/rss+xml")
		_, _ = w.Write([]byte(b.String()))
	}))
	t.Cleanup(rs.Close)
	return rs
}

func (rs *rssServer) set(items ...rssItem) {
	rs.mu.Lock()
	rs.items = items
	rs.mu.Unlock()
}

func (e *env) countPosts() int {
	e.t.Helper()
	var n int
	if err := e.db.Get(&n, `SELECT count(*) FROM posts`); err != nil {
		e.t.Fatal(err)
	}
	return n
}

func TestFeedItemPostedOnce(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	rs := newRSSServer(t)
	s1 := e.service(nil)
	tp := e.topic(s1, "aktuelles")
	ids := e.citizens(3)
	e.subscribeAll(ids, tp.ID)

	old := rssItem{guid: "pm-1", title: "Alte Meldung", link: "https://www.musterstadt.de/pm/1"}
	rs.set(old)
	f, err := s1.CreateFeed(ctx, staff.Principal{}, broadcast.FeedInput{URL: rs.URL + "/rss", TopicID: tp.ID, AutoPublish: true, Active: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := s1.RefreshFeed(ctx, staff.Principal{}, f.ID); err != nil {
		t.Fatal(err)
	}
	if n := e.countPosts(); n != 0 {
		t.Fatalf("first fetch posted %d items already in the feed", n)
	}

	fresh := rssItem{guid: "pm-2", title: "Neue Meldung", link: "https://www.musterstadt.de/pm/2?utm_source=rss",
		desc: "<p>Die <b>Hauptstra&szlig;e</b> ist gesperrt.</p>"}
	rs.set(fresh, old)
	for range 2 {
		if err := s1.RefreshFeed(ctx, staff.Principal{}, f.ID); err != nil {
			t.Fatal(err)
		}
	}
	if n := e.countPosts(); n != 1 {
		t.Fatalf("%d posts after refetching, want 1", n)
	}
	// The item is edited in the feed and the admin edits the feed: still
	// the same item.
	fresh.title = "Neue Meldung (aktualisiert)"
	rs.set(fresh, old)
	if _, err := s1.UpdateFeed(ctx, staff.Principal{}, f.ID, broadcast.FeedInput{URL: rs.URL + "/rss?v=2", TopicID: tp.ID, AutoPublish: true, Active: true, PollInterval: time.Hour}); err != nil {
		t.Fatal(err)
	}
	if err := s1.RefreshFeed(ctx, staff.Principal{}, f.ID); err != nil {
		t.Fatal(err)
	}
	if n := e.countPosts(); n != 1 {
		t.Fatalf("%d posts after an edit, want 1", n)
	}

	// Restart: a new service polls the feed on its own schedule.
	s2 := e.service(nil)
	if _, err := e.db.Exec(`UPDATE feeds SET next_fetch_at = now()`); err != nil {
		t.Fatal(err)
	}
	before := rs.requests.Load()
	run(t, s2)
	deadline := time.Now().Add(5 * time.Second)
	for rs.requests.Load() == before && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	sent := e.fake.WaitSent(t, 3, 5*time.Second)
	time.Sleep(300 * time.Millisecond)
	if n := e.countPosts(); n != 1 {
		t.Fatalf("%d posts after restart, want 1", n)
	}
	e.exactlyOnce(ids, 1)
	if want := "Neue Meldung\n\nDie Hauptstraße ist gesperrt."; sent[0].Text != want {
		t.Errorf("text = %q, want %q", sent[0].Text, want)
	}
	fd, err := s2.Feed(ctx, f.ID)
	if err != nil || fd.LastError != "" || !fd.LastSuccessAt.Valid || fd.Title != "Pressemitteilungen Musterstadt" {
		t.Errorf("feed after fetches: %+v, %v", fd, err)
	}
}

func TestFeedApproval(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	rs := newRSSServer(t)
	s := e.service(nil)
	tp := e.topic(s, "aktuelles")
	rs.set()
	f, err := s.CreateFeed(ctx, staff.Principal{}, broadcast.FeedInput{URL: rs.URL, TopicID: tp.ID, Active: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.RefreshFeed(ctx, staff.Principal{}, f.ID); err != nil {
		t.Fatal(err)
	}
	rs.set(rssItem{link: "https://www.musterstadt.de/a", title: "A"}, rssItem{link: "https://www.musterstadt.de/b", title: "B"})
	if err := s.RefreshFeed(ctx, staff.Principal{}, f.ID); err != nil {
		t.Fatal(err)
	}
	if n := e.countPosts(); n != 0 {
		t.Fatalf("%d posts without approval", n)
	}
	feeds, err := s.ListFeeds(ctx)
	if err != nil || len(feeds) != 1 || feeds[0].NewItems != 2 {
		t.Fatalf("ListFeeds = %+v, %v", feeds, err)
	}
	items, err := s.FeedItems(ctx, broadcast.FeedItemsOptions{Status: broadcast.ItemNew})
	if err != nil || len(items) != 2 {
		t.Fatalf("FeedItems = %+v, %v", items, err)
	}
	p, err := s.ApproveItem(ctx, staff.Principal{}, items[0].ID)
	if err != nil || p.Status != broadcast.StatusScheduled || p.LinkURL == "" {
		t.Fatalf("ApproveItem = %+v, %v", p, err)
	}
	_, err = s.ApproveItem(ctx, staff.Principal{}, items[0].ID)
	mustErrIs(t, err, broadcast.ErrState)
	if err := s.RejectItem(ctx, staff.Principal{}, items[1].ID); err != nil {
		t.Fatal(err)
	}
	// Same links again (with a fragment and a trailing slash): no new items.
	rs.set(rssItem{link: "https://www.musterstadt.de/a#top", title: "A"}, rssItem{link: "https://musterstadt.de/b/", title: "B"})
	if err := s.RefreshFeed(ctx, staff.Principal{}, f.ID); err != nil {
		t.Fatal(err)
	}
	if items, _ := s.FeedItems(ctx, broadcast.FeedItemsOptions{Status: broadcast.ItemNew}); len(items) != 0 {
		t.Errorf("the same items came back as new: %+v", items)
	}
}

func TestBrokenFeedsDoNotStallOthers(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	release := make(chan struct{})
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/slow":
			select {
			case <-release:
			case <-r.Context().Done():
			}
		case "/500":
			http.Error(w, "kaputt", http.StatusInternalServerError)
		case "/html":
			_, _ = w.Write([]byte("<html><body>Wartungsarbeiten</body></html>"))
		case "/huge":
			_, _ = w.Write([]byte(`<?xml version="1.0"?><rss version="2.0"><channel><title>` + strings.Repeat("x", 5000) + `</title></channel></rss>`))
		}
	}))
	t.Cleanup(func() { close(release); bad.Close() })
	good := newRSSServer(t)
	good.set(rssItem{guid: "1", title: "Gut"})

	s := e.service(func(c *broadcast.Config) {
		c.FeedConcurrency = 2
		c.FeedTimeout = 500 * time.Millisecond
		c.FeedMaxBytes = 2000
	})
	tp := e.topic(s, "aktuelles")
	for _, u := range []string{"file:///etc/passwd", "ftp://example.org/feed", "javascript:alert(1)", "http://"} {
		if _, err := s.CreateFeed(ctx, staff.Principal{}, broadcast.FeedInput{URL: u, TopicID: tp.ID, Active: true}); err == nil {
			t.Errorf("feed URL %q accepted", u)
		}
	}
	var badIDs []int64
	for _, p := range []string{"/slow", "/500", "/html", "/huge"} {
		f, err := s.CreateFeed(ctx, staff.Principal{}, broadcast.FeedInput{URL: bad.URL + p, TopicID: tp.ID, Active: true})
		if err != nil {
			t.Fatal(err)
		}
		badIDs = append(badIDs, f.ID)
	}
	gf, err := s.CreateFeed(ctx, staff.Principal{}, broadcast.FeedInput{URL: good.URL, TopicID: tp.ID, Active: true})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	run(t, s)
	deadline := time.Now().Add(10 * time.Second)
	for {
		f, err := s.Feed(ctx, gf.ID)
		if err != nil {
			t.Fatal(err)
		}
		if f.LastSuccessAt.Valid {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the good feed was not fetched: %+v", f)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("good feed fetched after %v", time.Since(start))
	for {
		feeds, err := s.ListFeeds(ctx)
		if err != nil {
			t.Fatal(err)
		}
		failed := 0
		for _, f := range feeds {
			if f.LastError != "" {
				failed++
			}
		}
		if failed == len(badIDs) {
			for _, f := range feeds {
				t.Logf("%s: last error %q", f.URL[len(bad.URL):], f.LastError)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("broken feeds without an error: %+v", feeds)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Two fetches of a new feed race (the poller and a manual refresh, or two
// instances): the one that read the feed before the other's first fetch
// must not take items published in between for old ones.
func TestFeedFirstFetchDecidedUnderLock(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	rs := newRSSServer(t)
	s := e.service(nil)
	tp := e.topic(s, "aktuelles")
	rs.set(rssItem{link: "https://www.musterstadt.de/a", title: "A"})
	f, err := s.CreateFeed(ctx, staff.Principal{}, broadcast.FeedInput{URL: rs.URL, TopicID: tp.ID, Active: true})
	if err != nil {
		t.Fatal(err)
	}
	stale := f // read before any fetch: never fetched
	if err := s.RefreshFeed(ctx, staff.Principal{}, f.ID); err != nil {
		t.Fatal(err)
	}
	rs.set(rssItem{link: "https://www.musterstadt.de/a", title: "A"}, rssItem{link: "https://www.musterstadt.de/b", title: "B"})
	if err := broadcast.FetchFeed(ctx, s, stale); err != nil {
		t.Fatal(err)
	}
	items, err := s.FeedItems(ctx, broadcast.FeedItemsOptions{Status: broadcast.ItemNew})
	if err != nil || len(items) != 1 || items[0].Title != "B" {
		t.Fatalf("new items %+v, %v: want B", items, err)
	}
}
