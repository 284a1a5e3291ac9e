package fieldstaff

import (
	"embed"
	"fmt"
	"io/fs"

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
	sub, err := fs.Sub(localeFiles, "locales")
	if err != nil {
		panic(err)
	}
	m, err := i18n.Load(sub)
	if err != nil {
		panic(err) // the embedded files are checked by TestTextFiles
	}
	return m
}

// textIn is the text of key in lang, formatted with args.
func textIn(lang, key string, args ...any) string {
	msg, ok := messages[lang][key]
	if !ok {
		if msg, ok = messages[i18n.Ref][key]; !ok {
			return key
		}
	}
	if len(args) == 0 {
		return msg
	}
	return fmt.Sprintf(msg, args...)
}

// both is the text of key in German, then in English: a staff chat has no
// language setting.
func both(key string, args ...any) string {
	return textIn(i18n.Ref, key, args...) + "\n" + textIn("en", key, args...)
}
