package bot

import (
	"fmt"
	"regexp"
	"strings"

	"citybot/internal/german"
	"citybot/routing"
)

// texts are the bot's own words in one language. German is the default;
// English is used when the citizen's Telegram language is English.
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
}

var de = &texts{
	welcome: "Willkommen beim Bürgerservice-Chat der Stadt! 👋\n\n" +
		"Fragen Sie einfach in eigenen Worten, z. B. „Wie beantrage ich einen Personalausweis?“ " +
		"Was ich nicht weiß, gebe ich auf Wunsch an die zuständige Stelle weiter.\n\n" +
		"/hilfe – so funktioniert der Chat\n/mitarbeiter – mit Mitarbeitenden sprechen\n%s\n" +
		"Datenschutz: %s",
	welcomeAbo: "/abo – Nachrichten der Stadt\n",
	help: "So funktioniert der Chat:\n\n" +
		"• Fragen Sie in einem Satz; ich antworte aus den häufigen Fragen.\n" +
		"• Weiß ich keine Antwort, frage ich, ob ich Ihre Frage an die zuständige Stelle weitergeben soll. Ihre Antwort kommt hier in den Chat.\n" +
		"• „Mitarbeiter“ oder /mitarbeiter: mit Menschen sprechen.\n\n" +
		"Datenschutz: %s",
	moreHelp: "Mehr dazu",
	helpMore: "Während Ihre Anfrage bei einer Stelle liegt, beantworte ich weiter Ihre Fragen; Ergänzungen, Fotos und Dateien gebe ich an die Stelle weiter.\n\n" +
		"Befehle:\n/start – Begrüßung\n/hilfe – Hilfe\n/mitarbeiter – Ihr Anliegen an die Mitarbeitenden geben\n/abbrechen – Ihre offene Anfrage zurückziehen\n" +
		"/abo – Nachrichten der Stadt abonnieren\n/abbestellen – alle Abos beenden\n" +
		"/meinedaten – was über Sie gespeichert ist\n/loeschen – alle Ihre Daten löschen\n\n" +
		"Wir speichern Ihre Nachrichten, um Ihre Fragen zu beantworten und den Service zu verbessern. Datenschutz: %s",
	askDetail:          "Worum geht es genau? Schreiben Sie mir bitte das Thema dazu, z. B. „Was kostet ein Reisepass?“",
	askTopic:           "Gern gebe ich Ihr Anliegen an die Mitarbeitenden. Worum geht es? Schreiben Sie es in ein, zwei Sätzen.",
	confirmNoMatch:     "Dazu habe ich leider keine passende Antwort.",
	relatedLead:        "Vielleicht hilft Ihnen auch schon eine dieser Antworten:",
	confirmPersonal:    "Das klingt nach einem persönlichen Anliegen, das ich als automatischer Chat nicht beantworten kann.",
	confirmAsk:         "Soll ich Ihre Anfrage an die zuständige Stelle weitergeben? Mein Vorschlag: %s.",
	confirmRestate:     "Ihre Anfrage: „%s“",
	confirmExtended:    "Ich habe das zu Ihrer Anfrage hinzugefügt.",
	confirmRemind:      "Ich habe Ihre Anfrage noch nicht weitergegeben.",
	chooseOfficeFirst:  "Welche Stelle soll Ihre Anfrage bekommen?",
	caseForwarded:      "Danke, ich habe das %s weitergegeben (Anfrage #%d).",
	caseMediaForwarded: "Danke, ich habe %s %s weitergegeben (Anfrage #%d).",
	caseThanks:         "Gern! Ihre Anfrage #%d liegt %s; die Antwort bekommen Sie hier im Chat.",
	caseClosedInfo:     "Ihre Anfrage #%d (%s) ist abgeschlossen. Wenn noch etwas offen ist, schreiben Sie es einfach; ich frage Sie dann, ob ich die Anfrage wieder öffnen soll.",
	reopenAsk:          "Ihre Anfrage #%d (%s) ist abgeschlossen. Soll ich sie mit Ihrer Nachricht wieder öffnen?",
	reopenYes:          "Ja, wieder öffnen",
	reopenNew:          "Nein, neue Frage",
	staleReopen:        "Diese Anfrage lässt sich nicht mehr wieder öffnen. Schreiben Sie Ihre Frage einfach neu.",
	botReply:           "Ich bin der automatische Chat der Stadtverwaltung, kein Mensch. Ich beantworte häufige Fragen. Möchten Sie mit einem Menschen sprechen, schreiben Sie „Mitarbeiter“ oder /mitarbeiter.",
	capabilities:       "Ich beantworte häufige Fragen zur Stadtverwaltung, z. B. zu Ausweis und Pass, Ummeldung, Müll, Parken oder Bauanträgen. Fragen Sie einfach in eigenen Worten. Was ich nicht weiß, gebe ich auf Wunsch an die zuständige Stelle weiter. I also answer in English.",
	calm:               "Ich verstehe, dass Sie sich ärgern. Ich helfe Ihnen gern: Schreiben Sie mir, worum es geht – oder mit /mitarbeiter an die Mitarbeitenden.",
	emptyPrompt:        "Wie kann ich Ihnen helfen? Schreiben Sie Ihre Frage am besten in einem Satz, z. B. „Wie beantrage ich einen Personalausweis?“",
	moreAbout:          "Mehr dazu",
	followUpLead:       "Zu „%s“",
	privacy:            "Wir speichern Ihre Nachrichten, um Ihre Fragen zu beantworten und den Service zu verbessern. Mit /meinedaten sehen Sie, was über Sie gespeichert ist; mit /loeschen löschen Sie alles.\n\nDatenschutzerklärung: %s",
	flood:              "Sie haben mir in kurzer Zeit sehr viele Nachrichten geschickt. Sie sind alle gespeichert. Ich antworte wieder, wenn Sie etwas langsamer schreiben – am besten eine Frage auf einmal.",
	unknownCommand:     "Diesen Befehl kenne ich leider nicht. Mit /hilfe sehen Sie, was ich kann – oder schreiben Sie Ihre Frage einfach in eigenen Worten.",

	helpful:     "👍 Hat geholfen",
	notHelpful:  "👎 Nicht geholfen",
	noneOfThese: "Nichts davon",
	suggest:     "Ich bin mir nicht ganz sicher, was Sie meinen. Geht es um eines dieser Themen?",

	noMatch: "Dazu habe ich leider keine passende Antwort. Ich habe Ihre Frage für die Mitarbeitenden der Stadtverwaltung notiert.\n\n" +
		"Sie können Ihre Frage auch gern noch einmal anders formulieren.",
	personal: "Das klingt nach einem persönlichen Anliegen. Dazu kann ich als automatischer Chat keine Auskunft geben. " +
		"Ich habe Ihre Nachricht für die Mitarbeitenden der Stadtverwaltung notiert.",
	notHelpfulReply: "Schade, dass die Antwort nicht geholfen hat. Ich habe Ihre Frage für die Mitarbeitenden der Stadtverwaltung notiert.\n\n" +
		"Sie können Ihre Frage auch gern noch einmal anders formulieren.",
	noSuggestionFit: "Danke! Dann habe ich dazu leider keine passende Antwort. Ich habe Ihre Frage für die Mitarbeitenden der Stadtverwaltung notiert.",
	thanksFeedback:  "Danke für Ihre Rückmeldung!",
	staleButton:     "Diese Schaltfläche ist nicht mehr gültig.",
	entryGone:       "Diese Antwort gibt es leider nicht mehr. Bitte stellen Sie Ihre Frage noch einmal.",

	empty:      "Ihre Nachricht war leer. Schreiben Sie mir Ihre Frage einfach in eigenen Worten.",
	tooLong:    "Ihre Nachricht ist sehr lang. Bitte stellen Sie Ihre Frage kürzer, in höchstens %d Zeichen – dann kann ich besser helfen.",
	unreadable: "Ihre Nachricht enthielt Zeichen, die ich nicht lesen kann. Bitte schreiben Sie sie noch einmal.",
	malformed:  "Diese Nachricht konnte ich leider nicht verarbeiten. Bitte senden Sie Ihre Frage noch einmal als einfachen Text.",
	photo:      "Danke für das Bild. Bilder kann ich leider nicht auswerten. Bitte beschreiben Sie Ihr Anliegen in Worten – oder geben Sie es mit /mitarbeiter an die Mitarbeitenden, dann kommt auch das Bild dazu.",
	document:   "Danke für die Datei. Dateien kann ich leider nicht auswerten. Bitte beschreiben Sie Ihr Anliegen in Worten.",
	sticker:    "😊 Schreiben Sie mir Ihre Frage gern als Text.",
	voice:      "Sprachnachrichten kann ich leider noch nicht verarbeiten. Bitte schreiben Sie Ihre Frage als Text.",
	other:      "Diese Art von Nachricht kann ich leider nicht verarbeiten. Bitte schreiben Sie Ihre Frage als Text.",
	location:   "Danke für den Standort. Bitte beschreiben Sie zusätzlich in Worten, worum es geht.",

	smalltalk: map[string]string{
		german.SmalltalkGreeting:  "Hallo! 👋 Wie kann ich Ihnen helfen? Schreiben Sie mir Ihre Frage einfach in eigenen Worten.",
		german.SmalltalkThanks:    "Gern geschehen! Melden Sie sich jederzeit wieder, wenn Sie eine Frage haben.",
		german.SmalltalkGoodbye:   "Auf Wiedersehen und einen schönen Tag! 👋",
		german.SmalltalkHowAreYou: "Danke der Nachfrage, mir geht es gut! Wie kann ich Ihnen helfen?",
		german.SmalltalkBot:       "Ich bin ein automatischer Chat der Stadtverwaltung und beantworte häufige Fragen. Was ich nicht beantworten kann, notiere ich für die Mitarbeitenden.",
		german.SmalltalkOK:        "Prima! Wenn Sie noch eine Frage haben, schreiben Sie mir einfach.",
		german.SmalltalkAsk:       "Gern! Stellen Sie Ihre Frage einfach in eigenen Worten.",
		"":                        "Gern! Wie kann ich Ihnen helfen?",
	},

	eraseAsk: "Möchten Sie wirklich alle Daten löschen, die über Sie in diesem Chat gespeichert sind (Nachrichten, Antworten, Rückmeldungen)? " +
		"Das lässt sich nicht rückgängig machen.",
	eraseYes:       "🗑 Ja, alles löschen",
	eraseNo:        "Abbrechen",
	eraseDone:      "Ihre Daten wurden gelöscht. Wenn Sie mir wieder schreiben, beginnt ein neuer Chat ohne Ihre früheren Daten.",
	eraseCancelled: "In Ordnung, es wurde nichts gelöscht.",
	eraseExpired:   "Diese Bestätigung ist abgelaufen. Senden Sie /loeschen, wenn Sie Ihre Daten löschen möchten.",
	dataSummary:    "Über Sie gespeichert (seit %s):\n\n• %s (%d von Ihnen, %d an Sie)\n• %s aus den häufigen Fragen, %d davon mit Ihrer Rückmeldung\n• %s\n• %s an die Mitarbeitenden\n\nAlle Einzelheiten stehen in der Datei, die gleich folgt. Mit /loeschen können Sie alles löschen.",
	plurals: map[string][2]string{
		"message": {"Nachricht", "Nachrichten"}, "answer": {"Antwort", "Antworten"},
		"recorded": {"für die Mitarbeitenden notierte Frage", "für die Mitarbeitenden notierte Fragen"},
		"case":     {"Anfrage", "Anfragen"},
	},
	dataFileCaption: "Ihre gespeicherten Daten",

	handoffAsk:      "Soll ich Ihre Frage an die zuständige Stelle weitergeben?",
	notHelpfulLead:  "Schade, dass die Antwort nicht geholfen hat.",
	noFitLead:       "Danke! Dann habe ich dazu leider keine passende Antwort.",
	handoffYes:      "Ja, bitte weitergeben",
	handoffNo:       "Nein, danke",
	handoffDeclined: "In Ordnung. Sie können Ihre Frage gern anders formulieren – oder sie mit /mitarbeiter jederzeit an die Mitarbeitenden geben.",
	noStaff:         "Eine Weitergabe an die Mitarbeitenden ist in diesem Chat gerade nicht möglich. Ich habe Ihre Frage aber notiert.",
	caseHint:        "Schreiben Sie gern weitere Einzelheiten, Fotos oder Dokumente hier in den Chat – alles kommt zu Ihrer Anfrage. Mit /abbrechen ziehen Sie die Anfrage zurück.",
	otherOffice:     "Andere Stelle wählen",
	chooseOffice:    "Welche Stelle soll Ihre Anfrage bekommen? Zurzeit: %s.",
	allOffices:      "Alle Stellen anzeigen",
	keepOffice:      "So lassen",
	keptOffice:      "In Ordnung, die Stelle bleibt.",
	officeLocked:    "Ihre Anfrage wird bereits bearbeitet, die Stelle lässt sich nicht mehr wechseln. Schreiben Sie einfach hier, wenn etwas nicht passt.",
	caseReopened:    "Ihre Anfrage #%d ist wieder offen; ich habe Ihre Nachricht %s weitergegeben.",
	mediaNoun: map[string]string{
		routing.KindPhoto: "das Foto", routing.KindDocument: "die Datei", routing.KindLocation: "den Standort",
		routing.KindVoice: "die Sprachnachricht", "": "Ihre Nachricht",
	},
	withdrawn: "Ihre Anfrage (%s) ist zurückgezogen. Wenn Sie wieder schreiben, antworte ich Ihnen zunächst selbst.",
	noCase:    "Sie haben gerade keine offene Anfrage an die Mitarbeitenden.",

	topicLang:           "de",
	aboIntro:            "Welche Nachrichten der Stadt möchten Sie hier im Chat bekommen? Tippen Sie auf ein Thema, um es an- oder abzuwählen (✅ = abonniert).",
	aboNoTopics:         "Zurzeit gibt es keine Themen zum Abonnieren.",
	aboUnavailable:      "Abos sind in diesem Chat gerade nicht verfügbar.",
	aboCancelled:        "Sie haben alle Abos beendet und bekommen keine Nachrichten der Stadt mehr. Mit /abo können Sie jederzeit wieder Themen wählen.",
	aboNothingToCancel:  "Sie haben keine Abos. Mit /abo können Sie Themen wählen.",
	deepLinkDone:        "Sie haben „%s“ abonniert. ✅ Neue Nachrichten zu diesem Thema bekommen Sie hier im Chat.\n\nMit /abo wählen Sie weitere Themen, mit /abbestellen beenden Sie alle Abos.",
	deepLinkUnknown:     "Dieses Thema gibt es leider nicht (mehr).",
	toggledOn:           "✅ Abonniert: %s",
	toggledOff:          "Abbestellt: %s",
	topicGone:           "Dieses Thema gibt es nicht mehr.",
	questionButton:      "Frage dazu",
	postRef:             "📢 Nachricht der Stadt (%s):\n%s",
	postAsk:             "Was möchten Sie zu „%s“ wissen? Schreiben Sie Ihre Frage einfach hier in den Chat.",
	dataSubscriptions:   "Abonnierte Themen: %s. Mit /abbestellen beenden Sie alle Abos.",
	dataNoSubscriptions: "Abonnierte Themen: keine.",
}

var en = &texts{
	welcome: "Welcome to the city's citizen service chat! 👋\n\n" +
		"Just ask in your own words, e.g. “How do I apply for an ID card?” " +
		"What I cannot answer I pass on to the responsible office if you like; the reply comes here in this chat.\n\n" +
		"/help – how this chat works\n/staff – talk to the staff\n%s\n" +
		"Privacy: %s",
	welcomeAbo: "/subscribe – news of the city\n",
	help: "How this chat works:\n\n" +
		"• Ask in one sentence; I answer from the common questions.\n" +
		"• If I have no answer, I ask whether to pass your question on to the responsible office. Their reply comes here in this chat.\n" +
		"• “staff” or /staff: talk to people.\n\n" +
		"Privacy: %s",
	moreHelp: "More",
	helpMore: "While your request is with an office, I still answer your questions; additions, photos and files I pass on to the office.\n\n" +
		"Commands:\n/start – welcome\n/help – help\n/staff – pass your request to the staff\n/cancel – withdraw your open request\n" +
		"/subscribe – news of the city\n/unsubscribe – end all subscriptions\n" +
		"/meinedaten – what is stored about you\n/loeschen – delete all your data\n\n" +
		"We store your messages to answer your questions and to improve this service. Privacy: %s",
	askDetail:          "What exactly is it about? Please tell me the topic, e.g. “How much is a passport?”",
	askTopic:           "I am happy to pass your request to the staff. What is it about? Please write it in a sentence or two.",
	confirmNoMatch:     "Sorry, I have no matching answer for this.",
	relatedLead:        "Perhaps one of these answers already helps:",
	confirmPersonal:    "This sounds like a personal matter, which I as an automated chat cannot answer.",
	confirmAsk:         "Shall I pass your request on to the responsible office? I suggest: %s.",
	confirmRestate:     "Your request: “%s”",
	confirmExtended:    "I have added this to your request.",
	confirmRemind:      "I have not passed your request on yet.",
	chooseOfficeFirst:  "Which office should get your request?",
	caseForwarded:      "Thank you, I have passed this on %s (request #%d).",
	caseMediaForwarded: "Thank you, I have passed %s on %s (request #%d).",
	caseThanks:         "You are welcome! Your request #%d is %s; you will get the reply here in this chat.",
	caseClosedInfo:     "Your request #%d (%s) has been closed. If something is still open, just write it; I will then ask whether to reopen the request.",
	reopenAsk:          "Your request #%d (%s) has been closed. Shall I reopen it with your message?",
	reopenYes:          "Yes, reopen it",
	reopenNew:          "No, a new question",
	staleReopen:        "This request can no longer be reopened. Just write your question again.",
	botReply:           "I am the city administration's automated chat, not a person. I answer common questions. If you would like to talk to a person, write “staff” or /staff.",
	capabilities:       "I answer common questions about the city administration, e.g. ID cards and passports, registering your address, waste, parking or building permits. Just ask in your own words, in English or German. What I cannot answer I pass on to the responsible office if you like.",
	calm:               "I understand that you are annoyed. I am happy to help: tell me what it is about – or use /staff to reach the staff.",
	emptyPrompt:        "How can I help you? Ideally write your question in one sentence, e.g. “How do I apply for an ID card?”",
	moreAbout:          "More",
	followUpLead:       "About “%s”",
	privacy:            "We store your messages to answer your questions and to improve this service. /meinedaten shows what is stored about you; /loeschen deletes all of it.\n\nPrivacy policy: %s",
	flood:              "You have sent me a great many messages in a short time. They are all stored. I will answer again when you write a little more slowly – ideally one question at a time.",
	unknownCommand:     "I do not know this command. /help shows what I can do – or just write your question in your own words.",

	helpful:         "👍 Helpful",
	notHelpful:      "👎 Not helpful",
	noneOfThese:     "None of these",
	suggest:         "I am not quite sure what you mean. Is it about one of these topics?",
	englishNote:     "\n\n(This answer is only available in German; write “staff” to reach a person.)",
	englishNoteLink: "\n\n(This answer is only available in German. More on the city's website: %s – or write “staff” to reach a person.)",

	noMatch: "Sorry, I have no matching answer for this. I have recorded your question for the city's staff.\n\n" +
		"You are welcome to rephrase your question.",
	personal: "This sounds like a personal matter, which I as an automated chat cannot answer. " +
		"I have recorded your message for the city's staff.",
	notHelpfulReply: "Sorry the answer did not help. I have recorded your question for the city's staff.\n\n" +
		"You are welcome to rephrase your question.",
	noSuggestionFit: "Thank you! Then I have no matching answer, sorry. I have recorded your question for the city's staff.",
	thanksFeedback:  "Thank you for your feedback!",
	staleButton:     "This button is no longer valid.",
	entryGone:       "This answer is no longer available. Please ask your question again.",

	empty:      "Your message was empty. Just write your question in your own words.",
	tooLong:    "Your message is very long. Please ask your question in at most %d characters – then I can help better.",
	unreadable: "Your message contained characters I cannot read. Please write it again.",
	malformed:  "Sorry, I could not process this message. Please send your question again as plain text.",
	photo:      "Thank you for the picture. I cannot read pictures, sorry. Please describe your request in words – or pass it to the staff with /staff, then the picture goes with it.",
	document:   "Thank you for the file. I cannot read files, sorry. Please describe your request in words.",
	sticker:    "😊 Feel free to write your question as text.",
	voice:      "I cannot process voice messages yet, sorry. Please write your question as text.",
	other:      "I cannot process this kind of message, sorry. Please write your question as text.",
	location:   "Thank you for the location. Please also describe in words what it is about.",

	smalltalk: map[string]string{
		german.SmalltalkGreeting:  "Hello! 👋 How can I help you? Just write your question in your own words.",
		german.SmalltalkThanks:    "You are welcome! Get in touch any time you have a question.",
		german.SmalltalkGoodbye:   "Goodbye and have a nice day! 👋",
		german.SmalltalkHowAreYou: "Thanks for asking, I am fine! How can I help you?",
		german.SmalltalkBot:       "I am an automated chat of the city administration and answer common questions. What I cannot answer, I record for the staff.",
		german.SmalltalkOK:        "Great! If you have another question, just write.",
		german.SmalltalkAsk:       "Sure! Just ask your question in your own words.",
		"":                        "Sure! How can I help you?",
	},

	eraseAsk:       "Do you really want to delete all data stored about you in this chat (messages, answers, feedback)? This cannot be undone.",
	eraseYes:       "🗑 Yes, delete everything",
	eraseNo:        "Cancel",
	eraseDone:      "Your data has been deleted. If you write again, a new chat starts without your earlier data.",
	eraseCancelled: "All right, nothing was deleted.",
	eraseExpired:   "This confirmation has expired. Send /loeschen if you want to delete your data.",
	dataSummary:    "Stored about you (since %s):\n\n• %s (%d from you, %d to you)\n• %s from the FAQ, %d of them with your feedback\n• %s\n• %s to the staff\n\nAll details are in the file that follows. /loeschen deletes everything.",
	plurals: map[string][2]string{
		"message": {"message", "messages"}, "answer": {"answer", "answers"},
		"recorded": {"question recorded for the staff", "questions recorded for the staff"},
		"case":     {"request", "requests"},
	},
	dataFileCaption: "Your stored data",

	handoffAsk:      "Shall I pass your question on to the responsible office?",
	notHelpfulLead:  "Sorry the answer did not help.",
	noFitLead:       "Thank you! Then I have no matching answer, sorry.",
	handoffYes:      "Yes, please",
	handoffNo:       "No, thanks",
	handoffDeclined: "All right. You are welcome to rephrase your question – or pass it to the staff any time with /staff.",
	noStaff:         "Passing requests to the staff is not possible in this chat right now. I have recorded your question, though.",
	caseHint:        "Feel free to send more details, photos or documents here – everything is added to your request. /cancel withdraws the request.",
	otherOffice:     "Choose another office",
	chooseOffice:    "Which office should get your request? Currently: %s.",
	allOffices:      "Show all offices",
	keepOffice:      "Keep it",
	keptOffice:      "All right, the office stays.",
	officeLocked:    "Your request is already being worked on, so the office can no longer be changed. Just write here if something does not fit.",
	caseReopened:    "Your request #%d is open again; I have passed your message on %s.",
	mediaNoun: map[string]string{
		routing.KindPhoto: "the photo", routing.KindDocument: "the file", routing.KindLocation: "the location",
		routing.KindVoice: "the voice message", "": "your message",
	},
	withdrawn: "Your request (%s) has been withdrawn. If you write again, I will answer first myself.",
	noCase:    "You have no open request with the staff right now.",

	topicLang:           "en",
	aboIntro:            "Which news of the city would you like to get in this chat? Tap a topic to select or deselect it (✅ = subscribed). Most news is in German.",
	aboNoTopics:         "There are no topics to subscribe to right now.",
	aboUnavailable:      "Subscriptions are not available in this chat right now.",
	aboCancelled:        "You have ended all subscriptions and will get no more news of the city. /subscribe lets you choose topics again any time.",
	aboNothingToCancel:  "You have no subscriptions. /subscribe lets you choose topics.",
	deepLinkDone:        "You have subscribed to “%s”. ✅ New messages on this topic reach you here in this chat.\n\n/subscribe chooses more topics, /unsubscribe ends all subscriptions.",
	deepLinkUnknown:     "Sorry, this topic does not exist (any more).",
	toggledOn:           "✅ Subscribed: %s",
	toggledOff:          "Unsubscribed: %s",
	topicGone:           "This topic no longer exists.",
	questionButton:      "Frage dazu",
	postRef:             "📢 Nachricht der Stadt (%s):\n%s",
	postAsk:             "What would you like to know about “%s”? Just write your question here in the chat.",
	dataSubscriptions:   "Subscribed topics: %s. /unsubscribe ends all subscriptions.",
	dataNoSubscriptions: "Subscribed topics: none.",
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

// textsFor returns the texts for a Telegram language code ("en", "en-GB", ...).
func textsFor(lang string) *texts {
	if strings.HasPrefix(strings.ToLower(lang), "en") {
		return en
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
