package admin

import (
	"strings"
	"testing"

	"citybot/broadcast"
)

// TestFeedErrorTexts: every code a failed feed fetch records has a text in
// every language of the catalogue (a missing one fails here, not on the
// page), with the HTTP status filled in; an old English text is shown as
// it is, marked English.
func TestFeedErrorTexts(t *testing.T) {
	cat := newCatalog()
	for lang := range cat {
		p := &page{Lang: lang, cat: cat}
		for _, code := range broadcast.FeedErrorCodes {
			rec := code
			if code == broadcast.FeedErrHTTPStatus {
				rec = code + " 404"
			}
			if _, ok := cat[lang]["bc.feed.err."+code]; !ok {
				t.Errorf("%s: no text bc.feed.err.%s", lang, code)
				continue
			}
			text, tl := feedErrorText(p, rec)
			if text == "" || strings.HasPrefix(text, "bc.") || strings.Contains(text, "%!") || tl != "" {
				t.Errorf("%s: %q shows %q (lang %q)", lang, rec, text, tl)
			}
			if code == broadcast.FeedErrHTTPStatus && !strings.Contains(text, "404") {
				t.Errorf("%s: the status is missing: %q", lang, text)
			}
		}
	}
	p := &page{Lang: "de", cat: cat}
	if text, tl := feedErrorText(p, "the feed could not be fetched"); text != "the feed could not be fetched" || tl != "en" {
		t.Errorf("an old English text: %q (lang %q)", text, tl)
	}
	if text, _ := feedErrorText(p, broadcast.FeedErrParse); text != "Kein gültiger RSS- oder Atom-Feed." {
		t.Errorf("parse in German: %q", text)
	}
}
