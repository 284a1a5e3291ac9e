package fieldstaff

import (
	"embed"

	"citybot/internal/i18n"
)

// The bot's texts to staff chats (linking, field reports, case alerts) are
// in locales/<language>.toml, read by
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

// bothBlock is both with a blank line between the languages, for texts of
// several lines.
func bothBlock(key string, args ...any) string {
	return textIn(i18n.Ref, key, args...) + "\n\n" + textIn("en", key, args...)
}

// pair is the text of key in German and English on one line.
func pair(key string, args ...any) string {
	return textIn(i18n.Ref, key, args...) + " / " + textIn("en", key, args...)
}
