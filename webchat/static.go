package webchat

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"html/template"
	"net/http"
	"strings"
	"time"
)

//go:embed static/widget.js
var widgetJS []byte

//go:embed static/widget.css
var widgetCSS []byte

// privacyPlaceholder in widget.js is replaced by the privacy notice's
// address (a JavaScript string; empty: the built-in notice).
const privacyPlaceholder = `"__CITYBOT_PRIVACY_URL__"`

// widgetScript is widget.js with the privacy notice's address filled in.
func widgetScript(privacyURL string) []byte {
	u, _ := json.Marshal(privacyURL)
	// json.Marshal escapes <, > and & : safe in a script.
	return bytes.Replace(widgetJS, []byte(privacyPlaceholder), u, 1)
}

func (s *Service) widgetJS(w http.ResponseWriter, r *http.Request) {
	serveStatic(w, "text/javascript; charset=utf-8", s.script)
}

func (s *Service) widgetCSS(w http.ResponseWriter, r *http.Request) {
	serveStatic(w, "text/css; charset=utf-8", widgetCSS)
}

// serveStatic serves an embedded file to any page (a script or style
// sheet needs no CORS); it sets no cookie.
func serveStatic(w http.ResponseWriter, ctype string, b []byte) {
	h := w.Header()
	h.Set("Content-Type", ctype)
	h.Set("Cache-Control", "public, max-age=300")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cross-Origin-Resource-Policy", "cross-origin")
	_, _ = w.Write(b)
}

var chatPage = template.Must(template.New("chat").Parse(`<!doctype html>
<html lang="{{.Lang}}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Heading}}</title>
<link rel="stylesheet" href="/widget.css">
</head>
<body class="citybot-chat-page">
<main>
<h1>{{.Heading}}</h1>
<div id="citybot-chat"></div>
</main>
<script src="/widget.js" data-city-title="{{.Title}}" data-mode="page" data-target="citybot-chat"></script>
</body>
</html>
`))

// chatPage serves the chat as a page of its own, opened (?lang=en for
// English), under a strict Content Security Policy.
func (s *Service) chatPage(w http.ResponseWriter, r *http.Request) {
	lang := pageLang(r)
	heading := "Chat mit der " + s.cfg.Title
	if lang == "en" {
		heading = "Chat with " + s.cfg.Title
	}
	h := pageHeaders(w)
	frame := "'self'"
	for o := range s.origins {
		frame += " " + o
	}
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "+
		"img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors "+frame)
	_ = chatPage.Execute(w, map[string]string{"Lang": lang, "Title": s.cfg.Title, "Heading": heading})
}

// pageLang is the language of a page: ?lang=, else Accept-Language.
func pageLang(r *http.Request) string {
	q := r.URL.Query().Get("lang")
	if strings.HasPrefix(q, "en") || (q == "" && strings.HasPrefix(strings.ToLower(r.Header.Get("Accept-Language")), "en")) {
		return "en"
	}
	return "de"
}

var privacyPage = template.Must(template.New("privacy").Parse(`<!doctype html>
<html lang="{{.Lang}}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Heading}}</title>
<link rel="stylesheet" href="/widget.css">
</head>
<body class="citybot-chat-page">
<main>
<h1>{{.Heading}}</h1>
{{if eq .Lang "en"}}
<p>This notice covers the chat of {{.Title}} on its website (the chat widget and the page <a href="/chat?lang=en">/chat</a>).</p>
<h2>Before your first message</h2>
<p>The chat loads only its own files from this server. It sets no cookies and stores nothing, neither in your browser nor on the server.</p>
<h2>From your first message on</h2>
<ul>
<li>Your browser keeps a random identifier of the conversation in its local storage (localStorage, not a cookie) so that you can continue the conversation later. The server stores only a hash of it.</li>
<li>The city stores your messages and the chat's answers to answer your questions and to improve the service (editors see questions the chat could not answer).</li>
<li>If you pass your request to the city's staff, the staff of the office in charge see the conversation and answer it.</li>
<li>The conversation is deleted {{if .Days}}after {{.Days}} days{{else}}after the retention period{{end}}; requests handed to staff are kept as long as the office's rules say.</li>
<li>Against abuse the server counts messages per network address in its working memory for at most an hour; the address is not stored with the conversation.</li>
</ul>
<h2>Your rights</h2>
<p>In the chat, "Show my data" (or <code>/meinedaten</code>) gives you everything stored about you as a file; "Delete my data" (or <code>/loeschen</code>) erases it after a confirmation, and your browser forgets the identifier. You also have the rights to information, rectification, erasure, restriction and objection under the GDPR and may complain to a data protection supervisory authority. The city's contact details and those of its data protection officer are in the imprint of its website.</p>
{{else}}
<p>Diese Hinweise gelten für den Chat der {{.Title}} auf ihrer Website (den Chat-Baustein und die Seite <a href="/chat">/chat</a>).</p>
<h2>Vor Ihrer ersten Nachricht</h2>
<p>Der Chat lädt nur seine eigenen Dateien von diesem Server. Er setzt keine Cookies und speichert nichts, weder in Ihrem Browser noch auf dem Server.</p>
<h2>Ab Ihrer ersten Nachricht</h2>
<ul>
<li>Ihr Browser speichert eine zufällige Kennung des Gesprächs in seinem lokalen Speicher (localStorage, kein Cookie), damit Sie das Gespräch später fortsetzen können. Der Server speichert davon nur einen Hashwert.</li>
<li>Die Stadt speichert Ihre Nachrichten und die Antworten des Chats, um Ihre Fragen zu beantworten und den Service zu verbessern (Fragen, die der Chat nicht beantworten konnte, sehen die Redakteurinnen und Redakteure).</li>
<li>Wenn Sie Ihr Anliegen an die Mitarbeitenden geben, sehen die Mitarbeitenden der zuständigen Stelle das Gespräch und beantworten es.</li>
<li>Der Gesprächsverlauf wird {{if .Days}}nach {{.Days}} Tagen{{else}}nach Ablauf der Speicherfrist{{end}} gelöscht; Anfragen an die Mitarbeitenden so lange, wie es die Regeln der Stelle vorsehen.</li>
<li>Gegen Missbrauch zählt der Server Nachrichten je Netzwerkadresse höchstens eine Stunde lang in seinem Arbeitsspeicher; die Adresse wird nicht mit dem Gespräch gespeichert.</li>
</ul>
<h2>Ihre Rechte</h2>
<p>Im Chat gibt Ihnen „Meine Daten anzeigen“ (oder <code>/meinedaten</code>) alles, was über Sie gespeichert ist, als Datei; „Meine Daten löschen“ (oder <code>/loeschen</code>) löscht es nach einer Rückfrage, und Ihr Browser vergisst die Kennung. Sie haben außerdem die Rechte auf Auskunft, Berichtigung, Löschung, Einschränkung und Widerspruch nach der DSGVO und können sich bei einer Datenschutz-Aufsichtsbehörde beschweren. Die Kontaktdaten der Stadt und ihrer oder ihres Datenschutzbeauftragten stehen im Impressum ihrer Website.</p>
{{end}}
</main>
</body>
</html>
`))

// privacyNotice is the built-in privacy notice of the web chat (linked
// from the widget when CITYBOT_PRIVACY_URL is not set).
func (s *Service) privacyNotice(w http.ResponseWriter, r *http.Request) {
	lang := pageLang(r)
	heading := "Datenschutzhinweise zum Chat"
	if lang == "en" {
		heading = "Privacy notice of the chat"
	}
	days := 0
	if s.cfg.RetentionDays != nil {
		if d, err := s.cfg.RetentionDays(r.Context()); err == nil && d > 0 {
			days = d
		}
	} else {
		days = int(s.cfg.Retention / (24 * time.Hour))
	}
	h := pageHeaders(w)
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; base-uri 'none'; form-action 'none'")
	_ = privacyPage.Execute(w, map[string]any{"Lang": lang, "Title": s.cfg.Title, "Heading": heading, "Days": days})
}

// pageHeaders sets the headers of the chat's own HTML pages (the caller
// adds the page's Content-Security-Policy) and returns the header map.
func pageHeaders(w http.ResponseWriter) http.Header {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	return h
}
