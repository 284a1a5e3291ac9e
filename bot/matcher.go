package bot

import "citybot/faq"

// IndexMatcher is a Matcher over a fixed set of entries (tests, tools); the
// running service uses *faq.Live, which follows FAQ changes.
type IndexMatcher struct {
	ix   *faq.Index
	byID map[string]faq.Entry
}

// NewIndexMatcher indexes entries with the synonyms.
func NewIndexMatcher(entries []faq.Entry, synonyms []faq.Synonym) *IndexMatcher {
	m := &IndexMatcher{ix: faq.NewIndex(entries, synonyms), byID: make(map[string]faq.Entry, len(entries))}
	for _, e := range entries {
		m.byID[e.ID] = e
	}
	return m
}

// Match matches text against the index.
func (m *IndexMatcher) Match(text string) faq.Result { return m.ix.Match(text) }

// Entry returns the entry with id.
func (m *IndexMatcher) Entry(id string) (faq.Entry, bool) {
	e, ok := m.byID[id]
	return e, ok
}
