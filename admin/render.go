package admin

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"citybot/staff"
)

//go:embed templates
var templateFiles embed.FS

// templates holds one template set per page: the layout, the shared
// partials and the page's own file.
type templates struct {
	pages map[string]*template.Template
}

// templateFuncs are the templates' functions; dates are shown in the
// city's time zone loc.
func templateFuncs(loc *time.Location) template.FuncMap {
	return template.FuncMap{
		"datetime": func(t time.Time) string { return t.In(loc).Format("02.01.2006 15:04") },
		"isodate":  func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
		"query":    url.QueryEscape,
		"contains": func(list []string, s string) bool {
			for _, v := range list {
				if v == s {
					return true
				}
			}
			return false
		},
		"add": func(a, b int) int { return a + b },
		// percent is a probability in whole percent ("–" for none).
		"percent": func(p float64) string {
			if p <= 0 {
				return "–"
			}
			return fmt.Sprintf("%.0f %%", p*100)
		},
		"minutes": func(n int) time.Duration { return time.Duration(n) * time.Minute },
		// shorten is a subject's first sentence, at most n characters.
		"shorten": func(s string, n int) string { return shortSubject(s, n) },
		"deref": func(p *int64) int64 {
			if p == nil {
				return 0
			}
			return *p
		},
		// osm links a location to OpenStreetMap.
		"osm": func(lat, lon float64) string {
			return fmt.Sprintf("https://www.openstreetmap.org/?mlat=%.6f&mlon=%.6f#map=17/%.6f/%.6f", lat, lon, lat, lon)
		},
		"dict": func(kv ...any) map[string]any {
			m := make(map[string]any, len(kv)/2)
			for i := 0; i+1 < len(kv); i += 2 {
				m[fmt.Sprint(kv[i])] = kv[i+1]
			}
			return m
		},
	}
}

// mustParseTemplates parses the embedded templates. They are part of the
// binary, so an error is a programming error (and caught by every test).
func mustParseTemplates(loc *time.Location) *templates {
	t, err := parseTemplates(templateFiles, loc)
	if err != nil {
		panic(err)
	}
	return t
}

func parseTemplates(fsys fs.FS, loc *time.Location) (*templates, error) {
	base, err := template.New("layout.html").Funcs(templateFuncs(loc)).ParseFS(fsys, "templates/layout.html", "templates/partials/*.html")
	if err != nil {
		return nil, fmt.Errorf("parse layout: %w", err)
	}
	names, err := fs.Glob(fsys, "templates/pages/*.html")
	if err != nil {
		return nil, err
	}
	t := &templates{pages: map[string]*template.Template{}}
	for _, n := range names {
		c, err := base.Clone()
		if err != nil {
			return nil, err
		}
		if _, err := c.ParseFS(fsys, n); err != nil {
			return nil, fmt.Errorf("parse %s: %w", n, err)
		}
		t.pages[strings.TrimSuffix(path.Base(n), ".html")] = c
	}
	return t, nil
}

// page is what every template gets.
type page struct {
	Lang      string
	Languages []string
	Title     string
	User      *staff.Principal
	CSRF      string
	Path      string // current request URI (for "next" fields)
	Nav       string // active navigation item
	Error     string
	Notice    string
	Data      any
	SSO       string // the identity provider's name on the login page; "" without OIDC
	cat       catalog
	loc       *time.Location // the city's time zone, for dates
}

// TimeZone is the name of the city's time zone ("Europe/Berlin").
func (p *page) TimeZone() string {
	if p.loc == nil {
		return time.Local.String()
	}
	return p.loc.String()
}

// T translates a message key into the page's language; args are
// fmt.Sprintf arguments.
func (p *page) T(key string, args ...any) string { return p.cat.t(p.Lang, key, args...) }

// page builds the common page data for the request.
func (s *Server) page(c *gin.Context, titleKey string) *page {
	p := &page{
		SSO:       s.ssoName(),
		Lang:      s.language(c),
		Languages: s.cat.languages(),
		User:      currentUser(c),
		CSRF:      s.csrfToken(c),
		Path:      c.Request.URL.RequestURI(),
		cat:       s.cat,
		loc:       s.loc(),
	}
	p.Title = p.T(titleKey)
	switch c.Query("notice") {
	case "":
	default:
		if k := "notice." + c.Query("notice"); s.cat.known(k) {
			p.Notice = p.T(k)
		}
	}
	return p
}

// language picks the UI language: the user's setting, the language cookie,
// the configured default.
func (s *Server) language(c *gin.Context) string {
	if u := currentUser(c); u != nil && s.cat.has(u.Language) {
		return u.Language
	}
	if l, err := c.Cookie(langCookie); err == nil && s.cat.has(l) {
		return l
	}
	return s.cfg.DefaultLanguage
}

// render executes the page template into a buffer and writes it only when
// that succeeded.
func (s *Server) render(c *gin.Context, status int, name string, p *page) {
	s.renderTemplate(c, status, name, "layout", p)
}

// renderFragment renders one named template of a page without the layout
// (used by live updates to refresh a region).
func (s *Server) renderFragment(c *gin.Context, name, fragment string, p *page) {
	s.renderTemplate(c, http.StatusOK, name, fragment, p)
}

func (s *Server) renderTemplate(c *gin.Context, status int, name, tmpl string, p *page) {
	t, ok := s.tmpl.pages[name]
	if !ok {
		s.log.Error("unknown template", "name", name)
		c.String(http.StatusInternalServerError, "internal error")
		return
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, tmpl, p); err != nil {
		s.log.Error("render template", "name", name, "err", err)
		if name != "error" {
			c.Writer.Header().Del("Content-Type")
			c.Header("Content-Type", "text/plain; charset=utf-8")
		}
		c.String(http.StatusInternalServerError, "internal error")
		return
	}
	c.Data(status, "text/html; charset=utf-8", buf.Bytes())
}

// redirect after a successful POST, with an optional notice key.
func redirect(c *gin.Context, to, notice string) {
	if notice != "" {
		sep := "?"
		if strings.Contains(to, "?") {
			sep = "&"
		}
		to += sep + "notice=" + url.QueryEscape(notice)
	}
	c.Redirect(http.StatusSeeOther, to)
}

func (s *Server) ssoName() string {
	if !s.cfg.OIDC.Enabled() {
		return ""
	}
	if s.cfg.OIDC.Name != "" {
		return s.cfg.OIDC.Name
	}
	return "Single Sign-on"
}
