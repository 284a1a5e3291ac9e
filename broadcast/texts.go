package broadcast

import (
	"embed"
	"fmt"

	"citybot/internal/i18n"
)

//go:embed locales/*.toml
var localeFiles embed.FS

// messages are the texts citizens read of the news channels,
// locales/<language>.toml (German the reference). Posts go out in German.
var messages = loadMessages()

// textKeys are the keys the package looks up.
var textKeys = []string{"button.question", "button.link", "item.untitled"}

// loadMessages reads the embedded files. A key the package needs that
// de.toml lacks is a programming error (TestTextFiles catches it first).
func loadMessages() i18n.Messages {
	m := i18n.MustLoad(localeFiles, "locales")
	for _, k := range textKeys {
		if _, ok := m[i18n.Ref][k]; !ok {
			panic(fmt.Sprintf("broadcast: locales/de.toml lacks %q", k))
		}
	}
	return m
}

// text is the German text of key.
func text(key string) string { return messages.Text(i18n.Ref, key) }
