package webchat

import (
	"embed"
	"fmt"

	"citybot/internal/i18n"
)

//go:embed locales/*.toml
var localeFiles embed.FS

// messages are the web chat's texts, locales/<language>.toml (German the
// reference): the API's error messages and the chat's own pages.
var messages = loadMessages()

// requiredKeys are the keys the code looks up with a computed name (the
// problems') or whose absence would show the key itself on a page.
var requiredKeys = []string{
	"chat.heading", "privacy.heading", "privacy.body",
	"problem.too_long", "problem.rate_limited", "problem.invalid", "problem.unknown_token",
	"problem.origin", "problem.pow", "problem.pow_handoff", "problem.unavailable",
}

// loadMessages reads the embedded files. A key the chat needs that a
// language lacks is a programming error (TestTextFiles catches it first).
func loadMessages() i18n.Messages {
	m := i18n.MustLoad(localeFiles, "locales")
	for _, lang := range []string{"de", "en"} {
		for _, k := range requiredKeys {
			if _, ok := m[lang][k]; !ok {
				panic(fmt.Sprintf("webchat: locales/%s.toml lacks %q", lang, k))
			}
		}
	}
	return m
}
