package bot

import (
	"cmp"
	"io/fs"
	"reflect"
	"strings"
	"testing"

	"citybot/internal/german"
	"citybot/internal/i18n"
	"citybot/routing"
)

func loadLocales(t *testing.T) i18n.Messages {
	t.Helper()
	sub, err := fs.Sub(localeFiles, "locales")
	if err != nil {
		t.Fatal(err)
	}
	m, err := i18n.Load(sub)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestTextFiles: the message files parse, every language has the keys of
// de.toml and no others, each key's translations take the same fmt verbs,
// every key is read into the texts, and every text the code needs is set.
func TestTextFiles(t *testing.T) {
	m := loadLocales(t)
	if len(m) < 2 {
		t.Fatalf("%d languages", len(m))
	}
	for _, p := range i18n.Check(m) {
		t.Error(p)
	}
	// What the texts hold is what the files say, key by key: no key is
	// left unread, none read into the wrong field.
	for lang, tx := range textsByLang {
		flat := flatTexts(tx)
		for k, v := range m[lang] {
			if flat[k] != v {
				t.Errorf("%s.toml %q: the texts hold %q", lang, k, flat[k])
			}
		}
		for k := range flat {
			if _, ok := m[lang][k]; !ok {
				t.Errorf("%s.toml lacks %q", lang, k)
			}
		}
	}
	typ := reflect.TypeFor[texts]()
	for lang, tx := range textsByLang {
		v := reflect.ValueOf(tx).Elem()
		for i := range typ.NumField() {
			f := v.Field(i)
			name := typ.Field(i).Name
			// English speakers get a note under German FAQ answers; German readers none.
			if f.Kind() == reflect.String && f.String() == "" && !(lang == "de" && strings.HasPrefix(name, "englishNote")) {
				t.Errorf("%s: %s is empty", lang, name)
			}
		}
		for _, kind := range []string{german.SmalltalkGreeting, german.SmalltalkThanks, german.SmalltalkGoodbye, german.SmalltalkHowAreYou,
			german.SmalltalkBot, german.SmalltalkOK, german.SmalltalkAsk, ""} {
			if tx.smalltalk[kind] == "" {
				t.Errorf("%s: no smalltalk reply for %q", lang, kind)
			}
		}
		for _, kind := range []string{routing.KindPhoto, routing.KindDocument, routing.KindLocation, routing.KindVoice, ""} {
			if tx.mediaNoun[kind] == "" {
				t.Errorf("%s: no media noun for %q", lang, kind)
			}
		}
		for _, noun := range []string{"message", "answer", "recorded", "case"} {
			if p := tx.plurals[noun]; p[0] == "" || p[1] == "" {
				t.Errorf("%s: plurals of %q: %q", lang, noun, p)
			}
		}
		if tx.topicLang != lang {
			t.Errorf("%s: topicLang %q", lang, tx.topicLang)
		}
	}
}

// flatTexts is a language's texts as the files' keys -> text.
func flatTexts(tx *texts) map[string]string {
	out := map[string]string{}
	v := reflect.ValueOf(tx).Elem()
	for i := range v.NumField() {
		name, f := v.Type().Field(i).Name, v.Field(i)
		switch {
		case name == "topicLang":
		case f.Kind() == reflect.String:
			out[name] = f.String()
		default:
			for _, mk := range f.MapKeys() {
				sub := cmp.Or(mk.String(), "default")
				if mv := f.MapIndex(mk); mv.Kind() == reflect.String {
					out[name+"."+sub] = mv.String()
				} else {
					out[name+"."+sub+".one"] = mv.Index(0).String()
					out[name+"."+sub+".other"] = mv.Index(1).String()
				}
			}
		}
	}
	return out
}

func TestTextsFor(t *testing.T) {
	for code, want := range map[string]*texts{"": de, "de": de, "de-AT": de, "en": en, "en-GB": en, "EN_us": en, "fr": de, "tr": de} {
		if textsFor(code) != want {
			t.Errorf("textsFor(%q) is %s", code, textsFor(code).topicLang)
		}
	}
}

// TestCommandMenus: the command menus of the message files, the default
// (German) first; every command is one the bot answers.
func TestCommandMenus(t *testing.T) {
	want := []CommandMenu{
		{"", []MenuCommand{
			{"start", "Begrüßung"},
			{"hilfe", "So funktioniert der Chat"},
			{"mitarbeiter", "Mein Anliegen an die Mitarbeitenden geben"},
			{"abbrechen", "Meine offene Anfrage zurückziehen"},
			{"abo", "Nachrichten der Stadt abonnieren"},
			{"abbestellen", "Alle Abos beenden"},
			{"meinedaten", "Was über mich gespeichert ist"},
			{"loeschen", "Meine Daten löschen"},
		}},
		{"en", []MenuCommand{
			{"start", "Welcome"},
			{"help", "How this chat works"},
			{"staff", "Pass my request to the staff"},
			{"cancel", "Withdraw my open request"},
			{"subscribe", "Subscribe to news of the city"},
			{"unsubscribe", "End all subscriptions"},
			{"meinedaten", "What is stored about me"},
			{"loeschen", "Delete my data"},
		}},
	}
	got := CommandMenus()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("CommandMenus() = %q\nwant %q", got, want)
	}
	for _, m := range got {
		for _, c := range m.Commands {
			if !knownCommands["/"+c.Command] || c.Description == "" {
				t.Errorf("%q menu: /%s (%q) is no command the bot knows, or has no description", m.Lang, c.Command, c.Description)
			}
		}
	}
}
