package broadcast

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"

	"citybot/internal/tgtext"
)

func TestQuietHoursWindow(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	at := func(d, h, m int) time.Time { return time.Date(2026, 3, d, h, m, 0, 0, berlin) }
	night := QuietHours{From: 22, To: 7}
	midday := QuietHours{From: 12, To: 14}
	for _, tc := range []struct {
		q      QuietHours
		t      time.Time
		active bool
		next   time.Time
	}{
		{night, at(10, 21, 59), false, at(10, 21, 59)},
		{night, at(10, 22, 0), true, at(11, 7, 0)},
		{night, at(11, 3, 0), true, at(11, 7, 0)},
		{night, at(11, 7, 0), false, at(11, 7, 0)},
		{midday, at(10, 12, 30), true, at(10, 14, 0)},
		{midday, at(10, 14, 0), false, at(10, 14, 0)},
		{QuietHours{}, at(10, 23, 0), false, at(10, 23, 0)},
		// The night of the switch to summer time (29 March 2026).
		{night, at(29, 1, 30), true, at(29, 7, 0)},
	} {
		if got := tc.q.Active(tc.t, berlin); got != tc.active {
			t.Errorf("%+v.Active(%v) = %v", tc.q, tc.t, got)
		}
		if got := tc.q.NextAllowed(tc.t.UTC(), berlin); !got.Equal(tc.next) {
			t.Errorf("%+v.NextAllowed(%v) = %v, want %v", tc.q, tc.t, got, tc.next)
		}
	}
}

func TestItemKey(t *testing.T) {
	pub := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		a, b *gofeed.Item
		same bool
	}{
		{&gofeed.Item{GUID: "x1", Title: "A"}, &gofeed.Item{GUID: " x1 ", Title: "A, edited", Link: "https://other"}, true},
		{&gofeed.Item{Link: "http://www.Example.org/a/?utm_source=rss#top"}, &gofeed.Item{Link: "https://example.org/a"}, true},
		{&gofeed.Item{Link: "https://example.org/a?id=1"}, &gofeed.Item{Link: "https://example.org/a?id=2"}, false},
		{&gofeed.Item{Title: "T", PublishedParsed: &pub}, &gofeed.Item{Title: "T", PublishedParsed: &pub}, true},
		{&gofeed.Item{Title: "T"}, &gofeed.Item{Title: "U"}, false},
	} {
		ka, kb := itemKey(tc.a), itemKey(tc.b)
		if (ka == kb) != tc.same {
			t.Errorf("keys %q and %q: same = %v, want %v", ka, kb, ka == kb, tc.same)
		}
		if len(ka) > 210 {
			t.Errorf("key too long: %d", len(ka))
		}
	}
	if k := itemKey(&gofeed.Item{GUID: strings.Repeat("g", 500)}); len(k) > 210 {
		t.Errorf("long guid key has %d bytes", len(k))
	}
}

func TestPlainTextAndItemText(t *testing.T) {
	for in, want := range map[string]string{
		"Hallo  Welt":                            "Hallo Welt",
		"<p>Eins</p><p>Zwei &amp; drei</p>":      "Eins\n\nZwei & drei",
		"a<br>b<script>alert(1)</script>c":       "a\nbc",
		"<div>\n\n  Text   mit\tLeerraum </div>": "Text mit Leerraum",
	} {
		if got := plainText(in); got != want {
			t.Errorf("plainText(%q) = %q, want %q", in, got, want)
		}
	}
	long := itemText("Titel", strings.Repeat("ä", 5000), MaxTextLen)
	if n := tgtext.UTF16Len(long); n > MaxTextLen || !strings.HasSuffix(long, "…") {
		t.Errorf("itemText: %d units, suffix %q", n, long[len(long)-3:])
	}
	if got := itemText("Gleich", "Gleich", 100); got != "Gleich" {
		t.Errorf("itemText with summary = title: %q", got)
	}
}

func TestBackoff(t *testing.T) {
	for a, want := range map[int]time.Duration{0: time.Second, 1: time.Second, 2: 2 * time.Second, 5: 16 * time.Second, 10: 512 * time.Second, 11: 10 * time.Minute, 50: 10 * time.Minute} {
		if got := backoff(a); got != want {
			t.Errorf("backoff(%d) = %v, want %v", a, got, want)
		}
	}
}

// TestFeedErrorCode: what a failed fetch records reads back as its code
// (with the HTTP status); texts recorded before the codes do not.
func TestFeedErrorCode(t *testing.T) {
	for _, c := range []struct {
		err  error
		code string
		n    int
	}{
		{fmt.Errorf("fetch: %w", ErrInternalAddress), FeedErrInternalAddress, 0},
		{&httpStatusError{status: 503}, FeedErrHTTPStatus, 503},
		{errFeedTimeout, FeedErrTimeout, 0},
		{errFeedTooLarge, FeedErrTooLarge, 0},
		{errFeedParse, FeedErrParse, 0},
		{&net.DNSError{Err: "no such host", Name: "intern.example"}, FeedErrDNS, 0},
		{ErrInvalid, FeedErrURL, 0},
		{errors.New("connection reset by 10.0.0.7:8080"), FeedErrFetch, 0},
	} {
		rec := feedErrorText(c.err)
		code, n, ok := FeedErrorCode(rec)
		if !ok || code != c.code || n != c.n {
			t.Errorf("%v: recorded %q, read %q %d %v; want %q %d", c.err, rec, code, n, ok, c.code, c.n)
		}
		if strings.Contains(rec, "10.0.0.7") || strings.Contains(rec, "intern.example") {
			t.Errorf("%v: the record names the host: %q", c.err, rec)
		}
	}
	for _, old := range []string{"", "the feed could not be fetched", "http_status", "http_status abc", "timeout now"} {
		if _, _, ok := FeedErrorCode(old); ok {
			t.Errorf("%q read as a code", old)
		}
	}
}
