package routing

import (
	"embed"
	"strconv"
	"strings"

	"citybot/internal/i18n"
)

// The texts routing writes to citizens (the handoff, office hours, a
// transfer) are in locales/<language>.toml, read by internal/i18n; German
// is the reference language and fills what another language lacks.
//
//go:embed locales/*.toml
var localeFiles embed.FS

// messages are the catalogue, read once: language -> key -> text.
var messages = loadMessages()

func loadMessages() i18n.Messages {
	m := i18n.MustLoad(localeFiles, "locales")
	return m
}

// textLang is the catalogue's language for a citizen's language code
// ("en", "en-GB", "de-AT", ...): its base language when there is a file for
// it, else German.
func textLang(code string) string {
	base := strings.ToLower(code)
	if i := strings.IndexAny(base, "-_"); i >= 0 {
		base = base[:i]
	}
	if _, ok := messages[base]; ok {
		return base
	}
	return i18n.Ref
}

// text is the text of key in the language of code, formatted with args.
// A key no file has shows itself (TestTextKeysInCode keeps that from
// happening).
func text(code, key string, args ...any) string {
	return messages.Text(textLang(code), key, args...)
}

// shortName is the first part of "Bauamt / Bauaufsicht" (office.unnamed
// for a department without a name).
func shortName(name, lang string) string {
	if i := strings.Index(name, " / "); i > 0 {
		name = name[:i]
	}
	if name = strings.TrimSpace(name); name == "" {
		return text(lang, "office.unnamed")
	}
	return name
}

// germanGender is the grammatical gender of a department's name by its
// last word: "n" (das Bauamt), "f" (die Zentrale), "m" (der
// Bürgerservice), or "other" for names it cannot place. It picks the
// office.* forms; a language without genders gives the same text for all.
func germanGender(name string) string {
	words := strings.Fields(name)
	if len(words) == 0 {
		return "other"
	}
	last := strings.ToLower(words[len(words)-1])
	for _, e := range []struct{ suffix, gender string }{
		{"amt", "n"}, {"büro", "n"}, {"zentrum", "n"}, {"referat", "n"}, {"team", "n"}, {"center", "n"},
		{"stelle", "f"}, {"zentrale", "f"}, {"wirtschaft", "f"}, {"ung", "f"}, {"kasse", "f"},
		{"behörde", "f"}, {"kämmerei", "f"}, {"bibliothek", "f"}, {"aufsicht", "f"},
		{"service", "m"}, {"dienst", "m"}, {"betrieb", "m"}, {"bauhof", "m"},
	} {
		if strings.HasSuffix(last, e.suffix) {
			return e.gender
		}
	}
	return "other"
}

// office words a department's short name in one of its forms (office.
// subject, to or at): "Das Bauamt", "an die Zentrale", "beim Bürgerservice".
func office(form, short, lang string) string {
	return text(lang, "office."+form+"."+germanGender(short), short)
}

func weekdayName(lang string, d int) string { return text(lang, "weekday."+strconv.Itoa(d)) }
func monthName(lang string, m int) string   { return text(lang, "month."+strconv.Itoa(m)) }
