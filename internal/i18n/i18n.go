// Package i18n loads message catalogues: one TOML file per language, each a
// flat table of key = "text" (fmt-style verbs such as %s and %d for the
// arguments). The admin UI, the bot, routing, fieldstaff, the web chat and
// broadcast embed their own files (admin/locales, bot/locales,
// routing/locales, fieldstaff/locales, webchat/locales, broadcast/locales)
// and look texts up in what Load returns; German is the reference language.
//
// The files are plain TOML, read with github.com/pelletier/go-toml/v2, so
// a translator can write comments (# ...), multi-line strings ("""...""")
// and keys in any order. Keys that contain dots are quoted ("nav.inbox"); a
// nested table ([nav] or nav.inbox = ...) is read as the same dotted keys.
package i18n

import (
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"

	"github.com/pelletier/go-toml/v2"
)

// Ref is the reference language: every other language has its keys, and
// a text missing in another language falls back to it.
const Ref = "de"

// Messages is language -> key -> text.
type Messages map[string]map[string]string

// Load reads every *.toml file at the root of fsys; the file's name is its
// language ("de.toml" holds "de"). Duplicate keys, values that are not
// strings and unreadable files are errors.
func Load(fsys fs.FS) (Messages, error) {
	names, err := fs.Glob(fsys, "*.toml")
	if err != nil {
		return nil, err
	}
	out := Messages{}
	for _, name := range names {
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		var doc map[string]any
		if err := toml.Unmarshal(b, &doc); err != nil {
			return nil, fmt.Errorf("i18n: %s: %w", name, err)
		}
		msgs := map[string]string{}
		if err := flatten(msgs, "", doc); err != nil {
			return nil, fmt.Errorf("i18n: %s: %w", name, err)
		}
		out[strings.TrimSuffix(path.Base(name), ".toml")] = msgs
	}
	if _, ok := out[Ref]; !ok {
		return nil, fmt.Errorf("i18n: no %s.toml", Ref)
	}
	return out, nil
}

// MustLoad is Load of the directory dir of an embedded file system. It
// panics on an error: the files are part of the binary, and each package's
// catalogue test reads them first.
func MustLoad(fsys fs.FS, dir string) Messages {
	sub, err := fs.Sub(fsys, dir)
	if err != nil {
		panic(err)
	}
	m, err := Load(sub)
	if err != nil {
		panic(err)
	}
	return m
}

// Text is the text of key in lang, formatted with args; a key lang lacks
// comes from Ref, and a key no file has shows itself.
func (m Messages) Text(lang, key string, args ...any) string {
	msg, ok := m[lang][key]
	if !ok {
		if msg, ok = m[Ref][key]; !ok {
			return key
		}
	}
	if len(args) == 0 {
		return msg
	}
	return fmt.Sprintf(msg, args...)
}

func flatten(dst map[string]string, prefix string, doc map[string]any) error {
	for k, v := range doc {
		key := prefix + k
		switch v := v.(type) {
		case string:
			if _, dup := dst[key]; dup {
				return fmt.Errorf("key %q given twice", key)
			}
			dst[key] = v
		case map[string]any:
			if err := flatten(dst, key+".", v); err != nil {
				return err
			}
		default:
			return fmt.Errorf("key %q: %T, want a string", key, v)
		}
	}
	return nil
}

// Verbs returns the fmt verbs of a text, sorted ("%s", "%d", "%[2]s" counts
// as "s"; "%%" is no verb). Two translations of a key take the same
// arguments when their verbs agree.
func Verbs(s string) []string {
	var out []string
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			continue
		}
		j := i + 1
		// flags, width, precision, argument index
		for j < len(s) && strings.IndexByte("+-# 0123456789.[]*", s[j]) >= 0 {
			j++
		}
		if j >= len(s) {
			break
		}
		if s[j] != '%' {
			out = append(out, string(s[j]))
		}
		i = j
	}
	slices.Sort(out)
	return out
}

// Check lists what is wrong with a catalogue: a key of the reference
// language missing in another language or the other way round, and a key
// whose translations disagree in their fmt verbs (unless the reference
// text is empty: a text the reference language does without).
func Check(m Messages) []string {
	var out []string
	langs := make([]string, 0, len(m))
	for l := range m {
		langs = append(langs, l)
	}
	slices.Sort(langs)
	ref := m[Ref]
	for _, lang := range langs {
		if lang == Ref {
			continue
		}
		for _, k := range sortedKeys(ref) {
			text, ok := m[lang][k]
			if !ok {
				out = append(out, fmt.Sprintf("%s.toml lacks %q", lang, k))
				continue
			}
			if a, b := Verbs(ref[k]), Verbs(text); ref[k] != "" && !slices.Equal(a, b) {
				out = append(out, fmt.Sprintf("%q: verbs %v in %s, %v in %s", k, a, Ref, b, lang))
			}
		}
		for _, k := range sortedKeys(m[lang]) {
			if _, ok := ref[k]; !ok {
				out = append(out, fmt.Sprintf("%s.toml has %q, which %s.toml lacks", lang, k, Ref))
			}
		}
	}
	return out
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
