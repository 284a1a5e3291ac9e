package admin

import (
	"embed"
	"fmt"
	"io/fs"
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
	msg, ok := c[lang][key]
	if !ok {
		if msg, ok = c["de"][key]; !ok {
			return key
		}
	}
	if len(args) > 0 {
		return fmt.Sprintf(msg, args...)
	}
	return msg
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
	sub, err := fs.Sub(localeFiles, "locales")
	if err != nil {
		panic(err)
	}
	m, err := i18n.Load(sub)
	if err != nil {
		panic(err) // the files are embedded: TestCatalogFiles catches this
	}
	return catalog(m)
})

func newCatalog() catalog { return loadCatalog() }
