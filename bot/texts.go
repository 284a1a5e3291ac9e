package bot

import (
	"embed"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"citybot/internal/i18n"
	"citybot/routing"
)

// texts are the bot's own words in one language, read from
// locales/<language>.toml (the keys are the field names; the maps are
// smalltalk.<kind>, mediaNoun.<kind> and plurals.<noun>.one/other, with
// "default" for the "" entry). German is the default; English is used when
// the citizen's Telegram language is English.
type texts struct {
	welcome        string // %s: welcomeAbo or "", %s: privacy URL
	welcomeAbo     string
	help           string // %s: privacy URL
	privacy        string // %s: privacy URL
	unknownCommand string
	flood          string // too many messages in a short time

	helpful, notHelpful, noneOfThese string
	suggest                          string
	englishNote                      string // appended to German FAQ answers for English speakers
	englishNoteLink                  string // the same with the answer's first link (%s)

	noMatch, personal string
	notHelpfulReply   string
	noSuggestionFit   string
	thanksFeedback    string
	staleButton       string
	entryGone         string

	empty, tooLong, unreadable, malformed  string
	photo, document, sticker, voice, other string
	location                               string

	smalltalk map[string]string

	eraseAsk, eraseYes, eraseNo, eraseDone, eraseCancelled, eraseExpired string
	dataSummary                                                          string               // counts: see dataSummaryText
	plurals                                                              map[string][2]string // singular, plural
	dataFileCaption                                                      string

	// The handoff to staff and case mode.
	handoffAsk, handoffYes, handoffNo string // after "not helpful" / "none of these"
	notHelpfulLead, noFitLead         string // before handoffAsk
	handoffDeclined                   string
	noStaff                           string // no handoff configured
	caseHint                          string // appended to the message of a new case
	caseHintWeb                       string // the same in the web chat (text only)
	otherOffice                       string // button under the handoff message
	chooseOffice                      string // %s: the current office
	allOffices, keepOffice            string
	keptOffice                        string // toast
	officeLocked                      string // the case is being worked on: no change
	caseReopened                      string // %s: the office
	mediaNoun                         map[string]string
	withdrawn                         string // %s: the office
	noCase                            string

	// The dialog (dialog.go, dialog_flow.go).
	moreHelp, helpMore                string // button under /start and /hilfe; the details (%s: privacy URL)
	helpMoreWeb                       string // the details in the web chat (text only, no subscriptions)
	askDetail                         string // a detail without a topic
	askTopic                          string // "Worum geht es?"
	confirmNoMatch, confirmPersonal   string // leads of the confirmation
	relatedLead                       string // before the FAQ entries offered beside the confirmation
	confirmAsk                        string // %s: the proposed office
	confirmRestate                    string // %s: the question
	confirmExtended, confirmRemind    string // leads when asking again
	chooseOfficeFirst                 string // before a case: which office?
	caseForwarded                     string // %s: "an das Tiefbauamt", %d: case number
	caseMediaForwarded                string // %s: what, %s: "an das Tiefbauamt", %d: case number
	caseThanks                        string // %d: case number, %s: "beim Bauamt"
	caseClosedInfo                    string // %d: case number, %s: office
	reopenAsk                         string // %d: case number, %s: office
	reopenYes, reopenNew, staleReopen string
	botReply, capabilities, calm      string
	emptyPrompt                       string // "?", "hmm"
	moreAbout                         string // "Mehr dazu"
	followUpLead                      string // %s: the entry's question

	// News channels (subscriptions.go).
	topicLang                        string // for broadcast.Topic.Name
	aboIntro, aboNoTopics            string
	aboUnavailable                   string
	aboCancelled, aboNothingToCancel string
	deepLinkDone                     string // %s: the topic
	deepLinkUnknown                  string
	toggledOn, toggledOff            string // toasts, %s: the topic
	topicGone                        string // toast
	questionButton                   string // stored label of "Frage dazu"
	postRef                          string // %s: topics, %s: the post text
	postAsk                          string // %s: the post's first line
	dataSubscriptions                string // %s: topic names
	dataNoSubscriptions              string

	commands string // the command menu: "name description", one a line (CommandMenus)
}

//go:embed locales/*.toml
var localeFiles embed.FS

// The texts of each language in locales/<language>.toml; German is the
// default and fills what another language lacks.
var (
	textsByLang = loadTexts()
	de, en      = textsByLang["de"], textsByLang["en"]
)

// loadTexts reads the embedded message files. A key the bot needs that
// de.toml lacks is a programming error (TestTextFiles catches it first).
func loadTexts() map[string]*texts {
	m := i18n.MustLoad(localeFiles, "locales")
	out := map[string]*texts{}
	for lang := range m {
		var missing []string
		out[lang] = newTexts(lang, func(key string) string {
			if s, ok := m[lang][key]; ok {
				return s
			}
			if s, ok := m[i18n.Ref][key]; ok {
				return s
			}
			missing = append(missing, key)
			return key
		}, func(prefix string) map[string]string {
			return prefixed(m, lang, prefix)
		})
		if len(missing) > 0 {
			panic(fmt.Sprintf("bot: locales/%s.toml and de.toml lack %q", lang, missing))
		}
	}
	return out
}

// prefixed is the texts under "prefix.": key without the prefix -> text,
// "default" read as "" (the map's fallback entry); German fills the gaps.
func prefixed(m i18n.Messages, lang, prefix string) map[string]string {
	out := map[string]string{}
	for _, l := range []string{i18n.Ref, lang} {
		for k, v := range m[l] {
			if sub, ok := strings.CutPrefix(k, prefix+"."); ok {
				if sub == "default" {
					sub = ""
				}
				out[sub] = v
			}
		}
	}
	return out
}

// newTexts builds one language's texts: get looks a key up, group the
// keys under a prefix (smalltalk.greeting, ...).
func newTexts(lang string, get func(key string) string, group func(prefix string) map[string]string) *texts {
	plurals := map[string][2]string{}
	for k, v := range group("plurals") {
		noun, form, _ := strings.Cut(k, ".")
		p := plurals[noun]
		switch form {
		case "one":
			p[0] = v
		case "other":
			p[1] = v
		}
		plurals[noun] = p
	}
	return &texts{
		topicLang: lang,
		smalltalk: group("smalltalk"),
		mediaNoun: group("mediaNoun"),
		plurals:   plurals,

		welcome:             get("welcome"),
		welcomeAbo:          get("welcomeAbo"),
		help:                get("help"),
		privacy:             get("privacy"),
		unknownCommand:      get("unknownCommand"),
		flood:               get("flood"),
		helpful:             get("helpful"),
		notHelpful:          get("notHelpful"),
		noneOfThese:         get("noneOfThese"),
		suggest:             get("suggest"),
		englishNote:         get("englishNote"),
		englishNoteLink:     get("englishNoteLink"),
		noMatch:             get("noMatch"),
		personal:            get("personal"),
		notHelpfulReply:     get("notHelpfulReply"),
		noSuggestionFit:     get("noSuggestionFit"),
		thanksFeedback:      get("thanksFeedback"),
		staleButton:         get("staleButton"),
		entryGone:           get("entryGone"),
		empty:               get("empty"),
		tooLong:             get("tooLong"),
		unreadable:          get("unreadable"),
		malformed:           get("malformed"),
		photo:               get("photo"),
		document:            get("document"),
		sticker:             get("sticker"),
		voice:               get("voice"),
		other:               get("other"),
		location:            get("location"),
		eraseAsk:            get("eraseAsk"),
		eraseYes:            get("eraseYes"),
		eraseNo:             get("eraseNo"),
		eraseDone:           get("eraseDone"),
		eraseCancelled:      get("eraseCancelled"),
		eraseExpired:        get("eraseExpired"),
		dataSummary:         get("dataSummary"),
		dataFileCaption:     get("dataFileCaption"),
		handoffAsk:          get("handoffAsk"),
		handoffYes:          get("handoffYes"),
		handoffNo:           get("handoffNo"),
		notHelpfulLead:      get("notHelpfulLead"),
		noFitLead:           get("noFitLead"),
		handoffDeclined:     get("handoffDeclined"),
		noStaff:             get("noStaff"),
		caseHint:            get("caseHint"),
		caseHintWeb:         get("caseHintWeb"),
		otherOffice:         get("otherOffice"),
		chooseOffice:        get("chooseOffice"),
		allOffices:          get("allOffices"),
		keepOffice:          get("keepOffice"),
		keptOffice:          get("keptOffice"),
		officeLocked:        get("officeLocked"),
		caseReopened:        get("caseReopened"),
		withdrawn:           get("withdrawn"),
		noCase:              get("noCase"),
		moreHelp:            get("moreHelp"),
		helpMore:            get("helpMore"),
		helpMoreWeb:         get("helpMoreWeb"),
		askDetail:           get("askDetail"),
		askTopic:            get("askTopic"),
		confirmNoMatch:      get("confirmNoMatch"),
		confirmPersonal:     get("confirmPersonal"),
		relatedLead:         get("relatedLead"),
		confirmAsk:          get("confirmAsk"),
		confirmRestate:      get("confirmRestate"),
		confirmExtended:     get("confirmExtended"),
		confirmRemind:       get("confirmRemind"),
		chooseOfficeFirst:   get("chooseOfficeFirst"),
		caseForwarded:       get("caseForwarded"),
		caseMediaForwarded:  get("caseMediaForwarded"),
		caseThanks:          get("caseThanks"),
		caseClosedInfo:      get("caseClosedInfo"),
		reopenAsk:           get("reopenAsk"),
		reopenYes:           get("reopenYes"),
		reopenNew:           get("reopenNew"),
		staleReopen:         get("staleReopen"),
		botReply:            get("botReply"),
		capabilities:        get("capabilities"),
		calm:                get("calm"),
		emptyPrompt:         get("emptyPrompt"),
		moreAbout:           get("moreAbout"),
		followUpLead:        get("followUpLead"),
		aboIntro:            get("aboIntro"),
		aboNoTopics:         get("aboNoTopics"),
		aboUnavailable:      get("aboUnavailable"),
		aboCancelled:        get("aboCancelled"),
		aboNothingToCancel:  get("aboNothingToCancel"),
		deepLinkDone:        get("deepLinkDone"),
		deepLinkUnknown:     get("deepLinkUnknown"),
		toggledOn:           get("toggledOn"),
		toggledOff:          get("toggledOff"),
		topicGone:           get("topicGone"),
		questionButton:      get("questionButton"),
		postRef:             get("postRef"),
		postAsk:             get("postAsk"),
		dataSubscriptions:   get("dataSubscriptions"),
		dataNoSubscriptions: get("dataNoSubscriptions"),
		commands:            get("commands"),
	}
}

// MenuCommand is one entry of the command menu a messenger shows
// (Telegram's "/" menu): the command without "/" and what it does.
type MenuCommand struct{ Command, Description string }

// CommandMenu is the command menu of one language.
type CommandMenu struct {
	Lang     string // "" for the default menu, in the reference language (German)
	Commands []MenuCommand
}

// CommandMenus returns the command menus of the message files ("commands"):
// the default (German) first, then the other languages by code.
func CommandMenus() []CommandMenu {
	langs := make([]string, 0, len(textsByLang))
	for lang := range textsByLang {
		if lang != i18n.Ref {
			langs = append(langs, lang)
		}
	}
	slices.Sort(langs)
	out := []CommandMenu{{Lang: "", Commands: textsByLang[i18n.Ref].menu()}}
	for _, lang := range langs {
		out = append(out, CommandMenu{Lang: lang, Commands: textsByLang[lang].menu()})
	}
	return out
}

// menu reads the command menu: "name description", one a line.
func (t *texts) menu() []MenuCommand {
	var out []MenuCommand
	for _, line := range strings.Split(t.commands, "\n") {
		name, desc, _ := strings.Cut(strings.TrimSpace(line), " ")
		if name != "" {
			out = append(out, MenuCommand{Command: name, Description: strings.TrimSpace(desc)})
		}
	}
	return out
}

var linkRe = regexp.MustCompile(`https?://[^\s<>()"“”„]+[^\s<>()"“”„.,;:!?]`)

// note is what follows a German FAQ answer for an English reader: a short
// English note, with the answer's first link when it has one.
func (t *texts) note(answer string) string {
	if t.englishNote == "" {
		return ""
	}
	if u := linkRe.FindString(answer); u != "" && t.englishNoteLink != "" {
		return fmt.Sprintf(t.englishNoteLink, u)
	}
	return t.englishNote
}

// textsFor returns the texts for a Telegram language code ("en", "en-GB",
// ...): those of its language when there is a file for it, else German.
func textsFor(lang string) *texts {
	base := strings.ToLower(lang)
	if i := strings.IndexAny(base, "-_"); i >= 0 {
		base = base[:i]
	}
	if t, ok := textsByLang[base]; ok {
		return t
	}
	return de
}

func (t *texts) smalltalkReply(kind string) string {
	if s, ok := t.smalltalk[kind]; ok {
		return s
	}
	return t.smalltalk[""]
}

func (t *texts) dataSummaryText(since string, msgs, in, out, answers, feedback, unanswered, cases int) string {
	return fmt.Sprintf(t.dataSummary, since, t.count(msgs, "message"), in, out, t.count(answers, "answer"), feedback,
		t.count(unanswered, "recorded"), t.count(cases, "case"))
}

// count is "1 Anfrage", "2 Anfragen", "0 Anfragen".
func (t *texts) count(n int, noun string) string {
	forms := t.plurals[noun]
	if n == 1 {
		return "1 " + forms[0]
	}
	return fmt.Sprintf("%d %s", n, forms[1])
}

func (t *texts) noun(kind string) string {
	if s, ok := t.mediaNoun[kind]; ok {
		return s
	}
	return t.mediaNoun[""]
}

// officeName is the short name of a department for the citizen
// ("Bauamt / Bauaufsicht" -> "Bauamt").
func officeName(name string) string {
	if i := strings.Index(name, " / "); i > 0 {
		return strings.TrimSpace(name[:i])
	}
	return strings.TrimSpace(name)
}

// caseHintFor is the hint under a new case's message for a channel: the
// web chat takes no photos or files.
func (t *texts) caseHintFor(channel string) string {
	if channel == routing.ChannelWeb {
		return t.caseHintWeb
	}
	return t.caseHint
}

// helpMoreFor is the detailed help for a channel: the web chat takes no
// photos or files and has no news subscriptions.
func (t *texts) helpMoreFor(channel string) string {
	if channel == routing.ChannelWeb {
		return t.helpMoreWeb
	}
	return t.helpMore
}
