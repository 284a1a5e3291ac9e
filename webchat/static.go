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

// pageTop is the start of the web chat's own pages, up to their heading.
const pageTop = `<!doctype html>
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
`

var chatPage = template.Must(template.New("chat").Parse(pageTop + `<div id="citybot-chat"></div>
</main>
<script src="/widget.js" data-city-title="{{.Title}}" data-mode="page" data-target="citybot-chat"></script>
</body>
</html>
`))

// chatPage serves the chat as a page of its own, opened (?lang=en for
// English), under a strict Content Security Policy.
func (s *Service) chatPage(w http.ResponseWriter, r *http.Request) {
	lang := pageLang(r)
	heading := messages.Text(lang, "chat.heading", s.cfg.Title)
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

// privacyPages is the privacy notice page of each language: the page
// around the catalogue's privacy.body.
var privacyPages = func() map[string]*template.Template {
	out := map[string]*template.Template{}
	for _, lang := range []string{"de", "en"} {
		out[lang] = template.Must(template.New("privacy").Parse(pageTop + `
` + messages.Text(lang, "privacy.body") + `
</main>
</body>
</html>
`))
	}
	return out
}()

// privacyNotice is the built-in privacy notice of the web chat (linked
// from the widget when CITYBOT_PRIVACY_URL is not set).
func (s *Service) privacyNotice(w http.ResponseWriter, r *http.Request) {
	lang := pageLang(r)
	heading := messages.Text(lang, "privacy.heading")
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
	_ = privacyPages[lang].Execute(w, map[string]any{"Lang": lang, "Title": s.cfg.Title, "Heading": heading, "Days": days})
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
