package fieldstaff

import (
	"embed"

	"citybot/internal/i18n"
)

// The texts of field reports are in locales/<language>.toml, read by
// internal/i18n; German is the reference language.
//
//go:embed locales/*.toml
var localeFiles embed.FS

// messages are the catalogue, read once: language -> key -> text.
var messages = loadMessages()

func loadMessages() i18n.Messages {
	m := i18n.MustLoad(localeFiles, "locales")
	return m
}

// textIn is the text of key in lang, formatted with args.
func textIn(lang, key string, args ...any) string {
	return messages.Text(lang, key, args...)
}

// both is the text of key in German, then in English: a staff chat has no
// language setting.
func both(key string, args ...any) string {
	return textIn(i18n.Ref, key, args...) + "\n" + textIn("en", key, args...)
}
