package webchat

import (
	_ "embed"
	"html/template"
	"net/http"
	"strings"
)

//go:embed static/widget.js
var widgetJS []byte

//go:embed static/widget.css
var widgetCSS []byte

func (s *Service) widgetJS(w http.ResponseWriter, r *http.Request) {
	serveStatic(w, "text/javascript; charset=utf-8", widgetJS)
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
	lang := "de"
	if strings.HasPrefix(r.URL.Query().Get("lang"), "en") ||
		(r.URL.Query().Get("lang") == "" && strings.HasPrefix(strings.ToLower(r.Header.Get("Accept-Language")), "en")) {
		lang = "en"
	}
	heading := "Chat mit der " + s.cfg.Title
	if lang == "en" {
		heading = "Chat with " + s.cfg.Title
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	frame := "'self'"
	for o := range s.origins {
		frame += " " + o
	}
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "+
		"img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors "+frame)
	_ = chatPage.Execute(w, map[string]string{"Lang": lang, "Title": s.cfg.Title, "Heading": heading})
}
