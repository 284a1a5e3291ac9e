package faq_test

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"citybot/faq"
)

func TestZZDump(t *testing.T) {
	if os.Getenv("ZZ_DUMP") == "" {
		t.Skip()
	}
	entries, _, qs := loadDemo(t)
	ix := faq.NewIndex(entries, faq.DefaultSynonyms())
	var b strings.Builder
	for _, q := range qs {
		if q.Expect == "smalltalk" {
			continue
		}
		res := ix.Match(q.Q)
		cs := ix.Search(q.Q, 3)
		var s1, s2, cov, ph float64
		id := ""
		if len(cs) > 0 {
			s1, cov, ph, id = cs[0].Score, cs[0].Coverage, cs[0].Phrase, cs[0].EntryID
		}
		if len(cs) > 1 {
			s2 = cs[1].Score
		}
		ok := "H"
		if strings.HasPrefix(q.Expect, "faq:") {
			ok = "W"
			if q.Expect == "faq:"+id {
				ok = "C"
			}
		}
		fmt.Fprintf(&b, "%s\t%.3f\t%.3f\t%.3f\t%.3f\t%v\t%s\t%s\t%q\n", ok, s1, s1-s2, cov, ph, res.Personal, res.Decision, id, q.Q)
	}
	os.WriteFile("/tmp/wk/dump.tsv", []byte(b.String()), 0o644)
}
