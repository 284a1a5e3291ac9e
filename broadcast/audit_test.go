package broadcast_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"citybot/broadcast"
	"citybot/staff"
)

// editor is a staff user in the test database (audit rows name their user).
func (e *env) editor() staff.Principal {
	e.t.Helper()
	var id int64
	if err := e.db.Get(&id, `INSERT INTO users (email, name, password_hash, role) VALUES ('red@example.org', 'Red', 'x', 'editor') RETURNING id`); err != nil {
		e.t.Fatal(err)
	}
	return staff.Principal{ID: id, Role: staff.RoleEditor}
}

// auditDetails are the details (JSON text) of the audit rows of action by
// userID on the object.
func (e *env) auditDetails(userID int64, action, objectType string, objectID int64) []string {
	e.t.Helper()
	var out []string
	if err := e.db.Select(&out, `SELECT details::text FROM audit_log
		WHERE user_id = $1 AND action = $2 AND object_type = $3 AND object_id = $4 ORDER BY id`,
		userID, action, objectType, strconv.FormatInt(objectID, 10)); err != nil {
		e.t.Fatal(err)
	}
	return out
}

// atomic checks that change commits only with its audit row: with every
// audit insert of action failing (a CHECK constraint on the test database)
// change fails and same still holds; then change succeeds and writes
// exactly one audit row of action by the user on the object (objectID()
// read after the change), with the details want ("" = any).
func (e *env) atomic(by staff.Principal, action, objectType string, change func() error, same func() bool, objectID func() int64, want string) {
	e.t.Helper()
	if _, err := e.db.Exec(`ALTER TABLE audit_log ADD CONSTRAINT test_fail_audit CHECK (action <> '` + action + `')`); err != nil {
		e.t.Fatal(err)
	}
	if err := change(); err == nil {
		e.t.Fatalf("%s with a failing audit insert succeeded", action)
	}
	if !same() {
		e.t.Fatalf("%s with a failing audit insert changed something", action)
	}
	if _, err := e.db.Exec(`ALTER TABLE audit_log DROP CONSTRAINT test_fail_audit`); err != nil {
		e.t.Fatal(err)
	}
	if err := change(); err != nil {
		e.t.Fatalf("%s: %v", action, err)
	}
	got := e.auditDetails(by.ID, action, objectType, objectID())
	if len(got) != 1 {
		e.t.Fatalf("%s: %d audit rows, want 1", action, len(got))
	}
	if want != "" && got[0] != want {
		e.t.Errorf("%s details = %s, want %s", action, got[0], want)
	}
}

func (e *env) count(q string, args ...any) int {
	e.t.Helper()
	var n int
	if err := e.db.Get(&n, q, args...); err != nil {
		e.t.Fatal(err)
	}
	return n
}

// TestChangesAuditedAtomically: every change of topics, posts, feeds, feed
// items and the feed hosts setting commits with its audit row, or not at
// all.
func TestChangesAuditedAtomically(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	s := e.service(nil)
	by := e.editor()
	id := func(v *int64) func() int64 { return func() int64 { return *v } }

	// Topics.
	var topicID int64
	e.atomic(by, "broadcast.topic.create", "topic", func() error {
		tp, err := s.CreateTopic(ctx, by, broadcast.TopicInput{Slug: "aktuelles", NameDE: "Aktuelles", Active: true})
		topicID = tp.ID
		return err
	}, func() bool { return e.count(`SELECT count(*) FROM topics`) == 0 }, id(&topicID),
		`{"slug": "aktuelles", "sort": 0, "active": true, "name_de": "Aktuelles", "name_en": ""}`)
	e.atomic(by, "broadcast.topic.update", "topic", func() error {
		_, err := s.UpdateTopic(ctx, by, topicID, broadcast.TopicInput{Slug: "aktuelles", NameDE: "Neues", Active: true})
		return err
	}, func() bool { return e.count(`SELECT count(*) FROM topics WHERE name_de = 'Aktuelles'`) == 1 }, id(&topicID),
		`{"slug": "aktuelles", "sort": 0, "active": true, "before": {"slug": "aktuelles", "sort": 0, "active": true, "name_de": "Aktuelles", "name_en": ""}, "name_de": "Neues", "name_en": ""}`)

	// Posts.
	var postID int64
	in := broadcast.PostInput{Text: "Straßenfest", TopicIDs: []int64{topicID}}
	e.atomic(by, "broadcast.post.create", "post", func() error {
		p, err := s.CreatePost(ctx, by, in)
		postID = p.ID
		return err
	}, func() bool { return e.countPosts() == 0 }, id(&postID), "")
	in.PhotoURL = "https://example.org/a.jpg"
	e.atomic(by, "broadcast.post.update", "post", func() error {
		_, err := s.UpdatePost(ctx, by, postID, in)
		return err
	}, func() bool { return e.count(`SELECT count(*) FROM posts WHERE photo_url = ''`) == 1 }, id(&postID), "")
	e.atomic(by, "broadcast.post.remove_photo", "post", func() error { return s.RemovePhoto(ctx, by, postID) },
		func() bool { return e.count(`SELECT count(*) FROM posts WHERE photo_url <> ''`) == 1 }, id(&postID), "{}")
	at := time.Date(2030, 5, 1, 8, 0, 0, 0, time.UTC)
	e.atomic(by, "broadcast.post.schedule", "post", func() error {
		_, err := s.SchedulePost(ctx, by, postID, at)
		return err
	}, func() bool { return e.count(`SELECT count(*) FROM posts WHERE status = 'draft'`) == 1 }, id(&postID),
		`{"send_at": "2030-05-01T08:00:00Z", "warning": false}`)
	e.atomic(by, "broadcast.post.unschedule", "post", func() error { return s.Unschedule(ctx, by, postID) },
		func() bool { return e.count(`SELECT count(*) FROM posts WHERE status = 'scheduled'`) == 1 }, id(&postID), "{}")
	e.atomic(by, "broadcast.post.send", "post", func() error {
		_, err := s.SchedulePost(ctx, by, postID, time.Time{})
		return err
	}, func() bool { return e.count(`SELECT count(*) FROM posts WHERE status = 'draft'`) == 1 }, id(&postID), `{"warning": false}`)
	e.atomic(by, "broadcast.post.cancel", "post", func() error { return s.CancelPost(ctx, by, postID) },
		func() bool { return e.count(`SELECT count(*) FROM posts WHERE status = 'scheduled'`) == 1 }, id(&postID), "{}")
	draft, err := s.CreatePost(ctx, by, in)
	if err != nil {
		t.Fatal(err)
	}
	e.atomic(by, "broadcast.post.delete", "post", func() error { return s.DeletePost(ctx, by, draft.ID) },
		func() bool { return e.count(`SELECT count(*) FROM posts WHERE id = $1`, draft.ID) == 1 }, id(&draft.ID), "{}")

	// Feeds and their items.
	rs := newRSSServer(t)
	var feedID int64
	fin := broadcast.FeedInput{URL: rs.URL, TopicID: topicID, Active: true, PollInterval: time.Hour}
	e.atomic(by, "broadcast.feed.create", "feed", func() error {
		f, err := s.CreateFeed(ctx, by, fin)
		feedID = f.ID
		return err
	}, func() bool { return e.count(`SELECT count(*) FROM feeds`) == 0 }, id(&feedID), "")
	fin.Title = "Presse"
	e.atomic(by, "broadcast.feed.update", "feed", func() error {
		_, err := s.UpdateFeed(ctx, by, feedID, fin)
		return err
	}, func() bool { return e.count(`SELECT count(*) FROM feeds WHERE title = ''`) == 1 }, id(&feedID), "")
	e.atomic(by, "broadcast.feed.refresh", "feed", func() error { return s.RefreshFeed(ctx, by, feedID) },
		func() bool { return e.count(`SELECT count(*) FROM feeds WHERE last_fetch_at IS NULL`) == 1 }, id(&feedID), `{"ok": true}`)
	rs.set(rssItem{link: "https://www.musterstadt.de/a", title: "A"}, rssItem{link: "https://www.musterstadt.de/b", title: "B"})
	if err := s.RefreshFeed(ctx, by, feedID); err != nil {
		t.Fatal(err)
	}
	items, err := s.FeedItems(ctx, broadcast.FeedItemsOptions{Status: broadcast.ItemNew})
	if err != nil || len(items) != 2 {
		t.Fatalf("FeedItems = %+v, %v", items, err)
	}
	posts := e.countPosts()
	e.atomic(by, "broadcast.item.approve", "feed_item", func() error {
		_, err := s.ApproveItem(ctx, by, items[0].ID)
		return err
	}, func() bool {
		return e.countPosts() == posts && e.count(`SELECT count(*) FROM feed_items WHERE id = $1 AND status = 'new'`, items[0].ID) == 1
	}, id(&items[0].ID), "")
	e.atomic(by, "broadcast.item.reject", "feed_item", func() error { return s.RejectItem(ctx, by, items[1].ID) },
		func() bool {
			return e.count(`SELECT count(*) FROM feed_items WHERE id = $1 AND status = 'new'`, items[1].ID) == 1
		}, id(&items[1].ID), "{}")
	e.atomic(by, "broadcast.feed.delete", "feed", func() error { return s.DeleteFeed(ctx, by, feedID) },
		func() bool { return e.count(`SELECT count(*) FROM feeds`) == 1 }, id(&feedID),
		`{"url": "`+rs.URL+`", "topic": `+strconv.FormatInt(topicID, 10)+`}`)

	// The feed hosts setting (object id: the setting's key, not a number).
	if _, err := e.db.Exec(`ALTER TABLE audit_log ADD CONSTRAINT test_fail_audit CHECK (action <> 'broadcast.feed.internal_hosts')`); err != nil {
		t.Fatal(err)
	}
	if err := s.SetFeedInternalHosts(ctx, by, []string{"intranet.musterstadt.de"}); err == nil {
		t.Fatal("setting the hosts with a failing audit insert succeeded")
	}
	if hosts, _ := s.FeedInternalHosts(ctx); len(hosts) != 1 || hosts[0] != "127.0.0.1" {
		t.Fatalf("hosts after a failed audit insert: %v", hosts)
	}
	if _, err := e.db.Exec(`ALTER TABLE audit_log DROP CONSTRAINT test_fail_audit`); err != nil {
		t.Fatal(err)
	}
	if err := s.SetFeedInternalHosts(ctx, by, []string{"Intranet.Musterstadt.de", "127.0.0.1"}); err != nil {
		t.Fatal(err)
	}
	var details []string
	if err := e.db.Select(&details, `SELECT details::text FROM audit_log WHERE user_id = $1 AND action = 'broadcast.feed.internal_hosts'
		AND object_type = 'setting' AND object_id = 'feed_internal_hosts'`, by.ID); err != nil {
		t.Fatal(err)
	}
	if len(details) != 1 || details[0] != `{"hosts": ["Intranet.Musterstadt.de", "127.0.0.1"]}` {
		t.Errorf("hosts audit rows = %v", details)
	}

	// Refused changes write nothing.
	_, err = s.UpdateTopic(ctx, by, 999999, broadcast.TopicInput{Slug: "x", NameDE: "x"})
	mustErrIs(t, err, broadcast.ErrNotFound)
	mustErrIs(t, s.DeleteFeed(ctx, by, feedID), broadcast.ErrNotFound)
	if n := e.count(`SELECT count(*) FROM audit_log WHERE user_id = $1`, by.ID); n != 19 {
		t.Errorf("%d audit rows of the editor, want 19", n)
	}
}

// TestUpdatePostRemovesPhotoInItsTransaction: the form's "remove the
// uploaded photo" is part of the update: an update that is refused keeps
// the photo, one that succeeds drops it with both audit rows.
func TestUpdatePostRemovesPhotoInItsTransaction(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	s := e.service(nil)
	by := e.editor()
	tp := e.topic(s, "aktuelles")
	p, err := s.CreatePost(ctx, by, broadcast.PostInput{Text: "Straßenfest", TopicIDs: []int64{tp.ID},
		Photo: []byte("\xff\xd8\xff\xe0 a jpeg"), PhotoName: "fest.jpg"})
	if err != nil {
		t.Fatal(err)
	}
	hasPhoto := func() bool {
		return e.count(`SELECT count(*) FROM posts WHERE id = $1 AND photo_data IS NOT NULL`, p.ID) == 1
	}
	if !hasPhoto() {
		t.Fatal("the post has no photo")
	}
	// Refused (an unknown department): nothing changes, the photo stays.
	_, err = s.UpdatePost(ctx, by, p.ID, broadcast.PostInput{Text: "Straßenfest, neu", TopicIDs: []int64{tp.ID},
		DepartmentID: "gibt-es-nicht", RemovePhoto: true})
	mustErrIs(t, err, broadcast.ErrInvalid)
	if !hasPhoto() || len(e.auditDetails(by.ID, "broadcast.post.remove_photo", "post", p.ID)) != 0 {
		t.Fatal("a refused update removed the photo")
	}
	if _, err := s.UpdatePost(ctx, by, p.ID, broadcast.PostInput{Text: "Straßenfest, neu", TopicIDs: []int64{tp.ID}, RemovePhoto: true}); err != nil {
		t.Fatal(err)
	}
	if hasPhoto() || e.count(`SELECT count(*) FROM posts WHERE id = $1 AND text = 'Straßenfest, neu'`, p.ID) != 1 {
		t.Error("the update did not remove the photo or did not save the text")
	}
	if n, m := len(e.auditDetails(by.ID, "broadcast.post.remove_photo", "post", p.ID)), len(e.auditDetails(by.ID, "broadcast.post.update", "post", p.ID)); n != 1 || m != 1 {
		t.Errorf("audit rows: %d remove_photo, %d update; want 1 each", n, m)
	}
}
