package bot

import (
	"testing"
)

func TestEscapeHTML(t *testing.T) {
	if got := EscapeHTML(`<b>"A" & 'B'</b>`); got != "&lt;b&gt;&#34;A&#34; &amp; &#39;B&#39;&lt;/b&gt;" {
		t.Errorf("EscapeHTML = %q", got)
	}
}

func TestParseButton(t *testing.T) {
	for _, tc := range []struct {
		in        string
		kind, arg string
		id        int64
	}{
		{"fb:12:y", "fb", "y", 12},
		{"sg:7:x", "sg", "x", 7},
		{"del:y", "del", "y", 0},
		{"fb:abc:y", "", "", 0},
		{"", "", "", 0},
		{"a:b:c:d", "", "", 0},
	} {
		k, id, a := parseButton(tc.in)
		if k != tc.kind || id != tc.id || a != tc.arg {
			t.Errorf("parseButton(%q) = %q %d %q", tc.in, k, id, a)
		}
	}
}
