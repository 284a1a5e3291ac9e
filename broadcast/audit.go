package broadcast

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Every change an editor or admin makes (topics, posts, feeds, feed items,
// the feed hosts setting) takes the acting user (staff.Principal) and
// writes its audit row (internal/audit) in the change's transaction. The
// details are what the admin UI's audit view shows; they describe the
// input as the user gave it.

func idStr(id int64) string { return strconv.FormatInt(id, 10) }

func topicDetails(in TopicInput) map[string]any {
	return map[string]any{"slug": in.Slug, "name_de": in.NameDE, "name_en": in.NameEN, "active": in.Active, "sort": in.Sort}
}

func postDetails(in PostInput) map[string]any {
	return map[string]any{
		"text": excerpt(in.Text, 200), "topics": in.TopicIDs, "department": in.DepartmentID, "warning": in.IsWarning,
		"link": in.LinkURL, "photo_url": in.PhotoURL, "photo_upload": in.PhotoName,
	}
}

func feedDetails(in FeedInput) map[string]any {
	return map[string]any{"url": in.URL, "title": in.Title, "topic": in.TopicID, "auto_publish": in.AutoPublish,
		"department": in.DepartmentID, "poll_minutes": int(in.PollInterval / time.Minute), "active": in.Active}
}

// excerpt is s with runs of white space as one space, cut to n runes
// (with "…").
func excerpt(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return strings.TrimSpace(string(r[:n-1])) + "…"
}
