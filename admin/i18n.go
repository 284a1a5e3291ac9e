package admin

import (
	"embed"
	"slices"
	"sync"

	"citybot/internal/i18n"
)

// catalog is the UI's message catalogue: language -> key -> text, read from
// locales/<language>.toml. German is the reference language; a key missing
// in another language falls back to German, and a missing key shows itself
// (tests catch that). It is loaded once and never changed.
type catalog map[string]map[string]string

func (c catalog) t(lang, key string, args ...any) string {
	return i18n.Messages(c).Text(lang, key, args...)
}

// LangName is a language's name in itself ("Deutsch", "English"), for
// the language switch and choice.
func (p *page) LangName(lang string) string { return p.cat.t(lang, "lang.name") }

func (c catalog) has(lang string) bool { _, ok := c[lang]; return ok }

func (c catalog) known(key string) bool { _, ok := c["de"][key]; return ok }

func (c catalog) languages() []string {
	out := make([]string, 0, len(c))
	for l := range c {
		out = append(out, l)
	}
	slices.Sort(out)
	return out
}

//go:embed locales/*.toml
var localeFiles embed.FS

// loadCatalog reads the embedded message files once; every Server shares
// the result, which nobody writes.
var loadCatalog = sync.OnceValue(func() catalog {
	m := i18n.MustLoad(localeFiles, "locales")
	return catalog(m)
})

func newCatalog() catalog { return loadCatalog() }
