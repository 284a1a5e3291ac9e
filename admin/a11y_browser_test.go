package admin

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"citybot/broadcast"
	"citybot/internal/browsertest"
	"citybot/routing"
	"citybot/staff"
)

// The accessibility audit: every main page of the UI, for every role and in
// both languages, is loaded in a real headless Chromium and checked with
// axe-core (WCAG 2.0/2.1 A and AA rules: BITV 2.0) plus a few keyboard
// basics axe does not cover. scripts/test installs axe-core from npm and
// sets CITYBOT_AXE_JS; without it the test fails, it never skips.

// envAxeJS names the environment variable with the path of axe.min.js.
const envAxeJS = "CITYBOT_AXE_JS"

// axeTags are the rule sets run: WCAG 2.0 and 2.1, levels A and AA.
var axeTags = []string{"wcag2a", "wcag2aa", "wcag21a", "wcag21aa"}

func axeSource(t *testing.T) string {
	t.Helper()
	p := os.Getenv(envAxeJS)
	if p == "" {
		t.Fatalf("%s is not set: run the tests with scripts/test (it installs axe-core from npm), "+
			"or `npm install axe-core@4` and set %s to node_modules/axe-core/axe.min.js", envAxeJS, envAxeJS)
	}
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%s: %v: run scripts/test (it installs axe-core from npm), or `npm install axe-core@4` and point %s at axe.min.js", envAxeJS, err, envAxeJS)
	}
	return string(b)
}

// a11yEnv is a server with every part wired (cases, rules, broadcast, FAQ)
// and some data on every page.
type a11yEnv struct {
	*env
	caseID   int64
	closedID int64
	sentID   string
	postID   string
	topicID  string
	feedID   string
	userID   int64
	cannedID int64
	ruleID   int64
	ssoID    int64
}

func newA11yEnv(t *testing.T) *a11yEnv {
	t.Helper()
	files := &fakeFiles{files: map[string][]byte{"photo-1": pngBytes}}
	var svc *broadcast.Service
	// A map tile server on loopback: the case page's location gets its map.
	tiles := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		_, _ = w.Write(pngBytes)
	}))
	t.Cleanup(tiles.Close)
	e := newEnv(t, withCases, withRules, func(c *Config, d *Deps) {
		c.MapTiles = tiles.URL + "/{z}/{x}/{y}.png"
		d.Files = files
		svc = broadcast.New(d.DB, &recordingSender{}, broadcast.Config{
			Rate: 100, PollInterval: 50 * time.Millisecond, FeedPollInterval: time.Hour, Lease: 5 * time.Second,
		})
		d.Broadcast = svc
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = svc.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	e.withDemoFAQ()
	a := &a11yEnv{env: e}
	e.user("admin@example.org", staff.RoleAdmin)
	e.user("ed@example.org", staff.RoleEditor, "bauamt")
	a.userID = e.user("bau@example.org", staff.RoleStaff, "bauamt")

	admin, clerk, editor := e.loggedIn("admin@example.org"), e.loggedIn("bau@example.org"), e.loggedIn("ed@example.org")
	mustSee := func(r resp, what string) {
		t.Helper()
		if r.Status != http.StatusSeeOther {
			t.Fatalf("%s: status %d: %s", what, r.Status, r.Body)
		}
	}

	// A case with a transcript: text, photo, location, a reply and a note.
	lat, lon := 49.4521, 11.0767
	cs, _ := e.newCase("4711", "bauamt",
		routing.Message{Text: "Darf ich ohne Genehmigung einen Carport bauen?"},
		routing.Message{Kind: routing.KindPhoto, Text: "So soll er aussehen", Media: &routing.Media{Type: "photo", FileID: "photo-1"}},
		routing.Message{Kind: routing.KindLocation, Media: &routing.Media{Type: "location", Latitude: &lat, Longitude: &lon}},
	)
	a.caseID = cs.ID
	casePath := fmt.Sprintf("/cases/%d", cs.ID)
	mustSee(clerk.postForm(casePath, casePath+"/reply", url.Values{"text": {"Ein Carport bis 30 m² ist meist genehmigungsfrei."}}), "reply")
	mustSee(clerk.postForm(casePath, casePath+"/note", url.Values{"text": {"Bebauungsplan prüfen"}}), "note")
	e.newCase("4712", "bauamt", text("Wann ist das Bauamt geöffnet?"))
	closed, _ := e.newCase("4713", "bauamt", text("Hat sich erledigt, danke."))
	a.closedID = closed.ID
	cp := fmt.Sprintf("/cases/%d", closed.ID)
	mustSee(clerk.postForm(cp, cp+"/close", nil), "close")

	// Canned answer, routing rule.
	mustSee(clerk.postForm("/canned/new", "/canned", url.Values{"department": {"bauamt"}, "title": {"Unterlagen Bauantrag"}, "body": {"Bitte bringen Sie den Lageplan mit."}}), "canned")
	a.cannedID = cannedID(t, e, "Unterlagen Bauantrag")
	mustSee(admin.postForm("/admin/rules/new", "/admin/rules", url.Values{"pattern": {"Baum fällen"}, "department": {"ordnungsamt"}, "priority": {"10"}, "active": {"on"}}), "rule")
	if err := e.db.Get(&a.ssoID, `INSERT INTO oidc_groups (group_name, role) VALUES ('/Stadt/Bauamt', 'staff') RETURNING id`); err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.Exec(`INSERT INTO oidc_group_departments (group_id, department_id) VALUES ($1, 'bauamt')`, a.ssoID); err != nil {
		t.Fatal(err)
	}
	if err := e.db.Get(&a.ruleID, `SELECT id FROM routing_rules LIMIT 1`); err != nil {
		t.Fatal(err)
	}

	// FAQ: saved questions, an unanswered question.
	for _, q := range [][2]string{{"Drohne anmelden", "staff"}, {"Wie stelle ich einen Bauantrag?", "bauantrag-stellen"}} {
		mustSee(editor.postForm("/faq/regressions", "/faq/regressions", url.Values{"question": {q[0]}, "expect": {q[1]}}), "regression")
	}
	var cit int64
	if err := e.db.Get(&cit, `INSERT INTO citizens (channel, external_id) VALUES ('telegram', '9') RETURNING id`); err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.Exec(`INSERT INTO unanswered (citizen_id, text, reason) VALUES ($1, 'Perso weg', 'no_match')`, cit); err != nil {
		t.Fatal(err)
	}

	// Broadcast: a topic, a post with a photo, a feed with queued items.
	a.topicID = locationID(t, admin.postForm("/broadcast/topics/new", "/broadcast/topics",
		url.Values{"slug": {"baustellen"}, "name_de": {"Baustellen & Verkehr"}, "name_en": {"Roadworks"}, "description": {"Sperrungen"}, "active": {"on"}, "sort": {"3"}}), "/broadcast/topics")
	var topicID int64
	if err := e.db.Get(&topicID, `SELECT id FROM topics WHERE slug = 'baustellen'`); err != nil {
		t.Fatal(err)
	}
	a.topicID = fmt.Sprint(topicID)
	a.postID = locationID(t, editor.bcPostMultipart("/broadcast/posts/new", "/broadcast/posts",
		url.Values{"text": {"Die Brücke ist gesperrt."}, "topics": {a.topicID}, "link_url": {"https://stadt.example/bruecke"}, "department": {"bauamt"}},
		"photo", "bruecke.png", pngBytes), "/broadcast/posts/")
	a.sentID = locationID(t, editor.bcPostMultipart("/broadcast/posts/new", "/broadcast/posts",
		url.Values{"text": {"Wochenmarkt heute bis 14 Uhr."}, "topics": {a.topicID}, "department": {"bauamt"}}, "", "", nil), "/broadcast/posts/")
	mustSee(editor.postForm("/broadcast/posts/"+a.sentID, "/broadcast/posts/"+a.sentID+"/send", url.Values{"when": {"now"}, "confirm": {"yes"}}), "send")
	fs := &feedServer{items: []string{"Alt", "Neu"}}
	ts := httptest.NewServer(fs)
	t.Cleanup(ts.Close)
	mustSee(admin.postForm("/broadcast/feeds/new", "/broadcast/feeds", url.Values{"url": {ts.URL + "/rss"}, "topic": {a.topicID}, "mode": {"approval"}, "department": {"bauamt"}, "minutes": {"15"}, "active": {"on"}}), "feed")
	var feedID int64
	if err := e.db.Get(&feedID, `SELECT id FROM feeds LIMIT 1`); err != nil {
		t.Fatal(err)
	}
	a.feedID = fmt.Sprint(feedID)
	admin.postForm("/broadcast/feeds", "/broadcast/feeds/"+a.feedID+"/refresh", nil)
	fs.add("Ganz neu")
	admin.postForm("/broadcast/feeds", "/broadcast/feeds/"+a.feedID+"/refresh", nil)
	return a
}

// pages returns the pages each role is audited on.
func (a *a11yEnv) pages(role string) []string {
	casePath := fmt.Sprintf("/cases/%d", a.caseID)
	common := []string{"/account", "/nicht-da"}
	inbox := []string{"/inbox", "/inbox?view=mine", "/inbox?view=departments", "/inbox?view=closed", casePath, fmt.Sprintf("/cases/%d", a.closedID)}
	faqPages := []string{"/faq", "/faq?department=bauamt&status=published&q=bauantrag", "/faq/new", "/faq/e/bauantrag-stellen",
		"/faq/e/personalausweis-beantragen", "/faq/e/bauantrag-stellen/history", "/faq/synonyms", "/faq/try?q=Perso+verloren",
		"/faq/regressions", "/faq/unanswered", "/faq/dashboard", "/faq/io", "/faq/audit"}
	bcPages := []string{"/broadcast/posts", "/broadcast/posts/new", "/broadcast/posts/" + a.postID, "/broadcast/posts/" + a.sentID, "/broadcast/queue"}
	switch role {
	case staff.RoleStaff:
		return append(append(inbox, "/canned", "/canned/new", fmt.Sprintf("/canned/%d", a.cannedID), fmt.Sprintf("/canned/%d/delete", a.cannedID)), common...)
	case staff.RoleEditor:
		return append(append(faqPages, bcPages...), common...)
	}
	out := append([]string(nil), inbox...)
	out = append(out, faqPages...)
	out = append(out, bcPages...)
	out = append(out,
		"/broadcast/topics", "/broadcast/topics/new", "/broadcast/topics/"+a.topicID,
		"/broadcast/feeds", "/broadcast/feeds/new", "/broadcast/feeds/"+a.feedID,
		"/canned", fmt.Sprintf("/canned/%d", a.cannedID),
		"/admin/users", "/admin/users/new", fmt.Sprintf("/admin/users/%d", a.userID),
		"/admin/departments", "/admin/departments/bauamt",
		"/admin/rules", "/admin/rules/new", fmt.Sprintf("/admin/rules/%d", a.ruleID), fmt.Sprintf("/admin/rules/%d/delete", a.ruleID),
		"/admin/audit",
		"/admin/sso", "/admin/sso/new", fmt.Sprintf("/admin/sso/%d", a.ssoID), fmt.Sprintf("/admin/sso/%d/delete", a.ssoID),
	)
	return append(out, common...)
}

type axeNode struct {
	Target  []any  `json:"target"`
	Summary string `json:"summary"`
	HTML    string `json:"html"`
}

type axeViolation struct {
	ID     string    `json:"id"`
	Impact string    `json:"impact"`
	Help   string    `json:"help"`
	Nodes  []axeNode `json:"nodes"`
}

// pageCheck is what the keyboard and structure checks found on a page.
type pageCheck struct {
	Lang        string `json:"lang"`
	H1          int    `json:"h1"`
	Main        int    `json:"main"`
	SkipFirst   bool   `json:"skipFirst"`
	SkipTarget  bool   `json:"skipTarget"`
	Focused     string `json:"focused"`
	FocusedSkip bool   `json:"focusedSkip"`
	Outline     string `json:"outline"`
	Title       string `json:"title"`
}

// resetFocusJS moves focus (and the sequential focus starting point, which
// an autofocused field has moved) to the start of the document, as after
// loading a page without autofocus.
const resetFocusJS = `(function(){
  var b = document.body; b.setAttribute('tabindex', '-1'); b.focus(); b.removeAttribute('tabindex'); b.blur();
})()`

const structureJS = `(function(){
  var f = document.querySelector('a[href]:not([tabindex="-1"]), button:not([disabled]), input:not([type=hidden]):not([disabled]), select, textarea, [tabindex]:not([tabindex="-1"])');
  var skip = document.querySelector('a.skip');
  var ae = document.activeElement;
  return JSON.stringify({
    lang: document.documentElement.getAttribute('lang') || '',
    h1: document.querySelectorAll('h1').length,
    main: document.querySelectorAll('main, [role=main]').length,
    skipFirst: !!skip && f === skip,
    skipTarget: !!skip && !!document.querySelector(skip.getAttribute('href')),
    focused: ae ? ae.outerHTML.slice(0, 80) : '',
    focusedSkip: ae === skip,
    outline: ae ? getComputedStyle(ae).outlineStyle + ' ' + getComputedStyle(ae).outlineWidth : '',
    title: document.title
  });
})()`

func axeRunJS() string {
	run := axeTags
	// CITYBOT_AXE_TAGS=best-practice,... adds rule sets for a wider look.
	for _, tag := range strings.Split(os.Getenv("CITYBOT_AXE_TAGS"), ",") {
		if tag = strings.TrimSpace(tag); tag != "" {
			run = append(run[:len(run):len(run)], tag)
		}
	}
	tags, _ := json.Marshal(run)
	return `axe.run(document, {runOnly: {type: 'tag', values: ` + string(tags) + `}, resultTypes: ['violations']}).then(function(r){
  return JSON.stringify({passes: r.passes.length, incomplete: r.incomplete.map(function(v){ return v.id + ' ' + v.nodes.map(function(n){ var c = (n.any || []).concat(n.all || [], n.none || [])[0]; return n.target.join(' ') + '=' + (c && c.data && (c.data.messageKey || JSON.stringify(c.data).slice(0, 80)) || (c && c.message) || '?'); }).join('; '); }),
    violations: r.violations.map(function(v){ return {id: v.id, impact: v.impact || '', help: v.help,
    nodes: v.nodes.map(function(n){ return {target: n.target, summary: n.failureSummary || '', html: (n.html || '').slice(0, 160)}; })}; })});
})`
}

// audit collects violations over many pages.
type audit struct {
	t      *testing.T
	axe    string
	found  map[string][]string // rule -> "page: target"
	counts map[string]int      // rule -> nodes
	impact map[string]string
	other  []string
	review map[string]int // rule -> pages where axe needs a human to decide
	pages  int
}

func (au *audit) add(page string, vs []axeViolation) {
	for _, v := range vs {
		au.impact[v.ID] = v.Impact
		for _, n := range v.Nodes {
			au.counts[v.ID]++
			au.found[v.ID] = append(au.found[v.ID], fmt.Sprintf("%s: %v %s (%s)", page, n.Target, strings.ReplaceAll(n.Summary, "\n", " "), n.HTML))
		}
	}
}

func (au *audit) report() {
	au.t.Logf("axe checked %d pages; needs review (not failed): %v", au.pages, au.review)
	if len(au.found) == 0 && len(au.other) == 0 {
		return
	}
	var rules []string
	for id := range au.found {
		rules = append(rules, id)
	}
	sort.Strings(rules)
	var b strings.Builder
	for _, id := range rules {
		fmt.Fprintf(&b, "\n== %s (%s): %d nodes\n", id, au.impact[id], au.counts[id])
		seen := map[string]bool{}
		for _, s := range au.found[id] {
			if !seen[s] {
				seen[s] = true
				b.WriteString("  " + s + "\n")
			}
		}
	}
	for _, s := range au.other {
		b.WriteString("\n" + s)
	}
	au.t.Errorf("accessibility violations:%s", b.String())
}

// check runs axe and the structure checks on the page the browser shows.
func (au *audit) check(b *browsertest.Browser, page, lang string) {
	t := au.t
	t.Helper()
	ctx, cancel := context.WithTimeout(b.Context(), 30*time.Second)
	defer cancel()
	// Collapsed content is checked too.
	if err := chromedp.Do(ctx, browsertest.Eval(`document.querySelectorAll("details").forEach(function(d){ d.open = true; })`)); err != nil {
		t.Fatalf("%s: open details: %v", page, err)
	}
	if err := chromedp.Do(ctx, browsertest.Eval(au.axe)); err != nil {
		t.Fatalf("%s: inject axe: %v", page, err)
	}
	res, err := chromedp.Run(ctx, chromedp.Evaluate[string](axeRunJS(), chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("%s: axe.run: %v", page, err)
	}
	var ar struct {
		Passes     int            `json:"passes"`
		Incomplete []string       `json:"incomplete"`
		Violations []axeViolation `json:"violations"`
	}
	if err := json.Unmarshal([]byte(res), &ar); err != nil {
		t.Fatalf("%s: axe result: %v", page, err)
	}
	if ar.Passes == 0 {
		t.Fatalf("%s: axe ran no rules", page)
	}
	for _, id := range ar.Incomplete {
		au.review[id]++
	}
	au.pages++
	au.add(page, ar.Violations)
	// The first Tab of the keyboard goes to the skip link, which shows focus.
	if err := chromedp.Do(ctx, browsertest.Eval(resetFocusJS), chromedp.KeyEvent(kb.Tab)); err != nil {
		t.Fatalf("%s: tab: %v", page, err)
	}
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](structureJS))
	if err != nil {
		t.Fatalf("%s: %v", page, err)
	}
	var pc pageCheck
	if err := json.Unmarshal([]byte(s), &pc); err != nil {
		t.Fatal(err)
	}
	if pc.Lang != lang {
		au.other = append(au.other, fmt.Sprintf("%s: <html lang=%q>, want %q", page, pc.Lang, lang))
	}
	if pc.H1 != 1 {
		au.other = append(au.other, fmt.Sprintf("%s: %d <h1>, want 1", page, pc.H1))
	}
	if pc.Main != 1 {
		au.other = append(au.other, fmt.Sprintf("%s: %d <main>, want 1", page, pc.Main))
	}
	if !pc.SkipFirst || !pc.SkipTarget {
		au.other = append(au.other, fmt.Sprintf("%s: the skip link is not the first focusable element or its target is missing", page))
	}
	if !pc.FocusedSkip {
		au.other = append(au.other, fmt.Sprintf("%s: the first Tab focuses %s, not the skip link", page, pc.Focused))
	} else if strings.HasPrefix(pc.Outline, "none") || strings.HasSuffix(pc.Outline, " 0px") {
		au.other = append(au.other, fmt.Sprintf("%s: no visible focus outline on the skip link (%s)", page, pc.Outline))
	}
}

func newAudit(t *testing.T) *audit {
	return &audit{t: t, axe: axeSource(t), found: map[string][]string{}, counts: map[string]int{}, impact: map[string]string{}, review: map[string]int{}}
}

// loginIn logs in through the form in the browser.
func loginIn(b *browsertest.Browser, base, email string) {
	b.Do(15*time.Second,
		chromedp.Navigate(base+"/login"),
		chromedp.WaitVisible("#email"),
		chromedp.SendKeys("#email", email),
		chromedp.SendKeys("#password", testPassword),
		chromedp.Submit("#password"),
		chromedp.WaitNotPresent("#password"),
	)
}

// switchLanguage presses the language button in the header.
func switchLanguage(b *browsertest.Browser, lang string) {
	b.Do(15*time.Second, chromedp.Click(`form.lang button[value="`+lang+`"]`))
	// The click navigates: poll across the page change.
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		v, err := chromedp.Run(b.Context(), chromedp.Evaluate[string](`document.readyState + " " + document.documentElement.lang`))
		if err == nil && v == "complete "+lang {
			return
		}
	}
	b.Do(time.Second, browsertest.Until(`document.documentElement.lang === "`+lang+`"`))
}

// invalidForms are forms submitted with their required fields emptied, to
// audit the error states (error summary, messages linked to the fields).
func (a *a11yEnv) invalidForms(role string) []string {
	switch role {
	case staff.RoleStaff:
		return []string{"/canned/new", "/account"}
	case staff.RoleEditor:
		return []string{"/faq/new", "/faq/regressions", "/faq/synonyms", "/broadcast/posts/new", "/account"}
	}
	return []string{"/admin/users/new", fmt.Sprintf("/admin/users/%d", a.userID), "/admin/departments/bauamt", "/admin/rules/new", "/admin/sso/new", "/canned/new",
		"/broadcast/topics/new", "/broadcast/feeds/new", "/broadcast/posts/new", "/faq/new", "/account"}
}

// submitEmpty submits the first form of main with its required fields
// emptied and browser validation off, and waits for the answer page.
func submitEmpty(b *browsertest.Browser) {
	b.Do(15*time.Second, browsertest.Eval(`(function(){
  window.__before = 1;
  var f = document.querySelector('main form[method=post]');
  f.noValidate = true;
  f.querySelectorAll('[required]').forEach(function(e){ if (e.type !== 'checkbox' && e.type !== 'radio') e.value = ''; });
  if (f.querySelector('#current')) { f.querySelector('#current').value = 'falsch falsch falsch'; f.querySelector('#password').value = 'kurz'; }
  f.requestSubmit();
})()`))
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		v, err := chromedp.Run(b.Context(), chromedp.Evaluate[string](`(window.__before ? "old" : "new") + " " + document.readyState`))
		if err == nil && v == "new complete" {
			return
		}
	}
	b.Do(time.Second, browsertest.Until(`!window.__before`))
}

// TestA11yPages audits every main page with axe-core, per role and language.
func TestA11yPages(t *testing.T) {
	au := newAudit(t)
	a := newA11yEnv(t)

	// Each page is reachable for its role (the error page: 404).
	for _, u := range []struct{ email, role string }{{"admin@example.org", staff.RoleAdmin}, {"ed@example.org", staff.RoleEditor}, {"bau@example.org", staff.RoleStaff}} {
		c := a.loggedIn(u.email)
		for _, p := range a.pages(u.role) {
			want := http.StatusOK
			if p == "/nicht-da" {
				want = http.StatusNotFound
			}
			if r := c.get(p); r.Status != want {
				t.Fatalf("%s: GET %s: status %d, want %d", u.role, p, r.Status, want)
			}
		}
	}

	b := browsertest.Start(t, browsertest.WithTimeout(8*time.Minute))
	for _, lang := range []string{"de", "en"} {
		b.Do(15*time.Second, chromedp.Navigate(a.url+"/login"), chromedp.WaitVisible("#email"))
		if lang == "en" {
			switchLanguage(b, "en")
		}
		au.check(b, "anonymous "+lang+" /login", lang)
		// A failed login.
		b.Do(15*time.Second, chromedp.SendKeys("#email", "niemand@example.org"), chromedp.SendKeys("#password", "falsch"), chromedp.Submit("#password"), chromedp.WaitVisible(".error"))
		au.check(b, "anonymous "+lang+" /login (failed)", lang)
		// An invitation link: the form, its error state, a used-up link.
		_, tok := a.invited("neu-"+lang+"@example.org", staff.RoleStaff, "bauamt")
		b.Do(15*time.Second, chromedp.Navigate(a.url+"/invite?t="+url.QueryEscape(tok)), chromedp.WaitVisible("#password2"))
		au.check(b, "anonymous "+lang+" /invite", lang)
		submitEmpty(b)
		au.check(b, "anonymous "+lang+" /invite (invalid form)", lang)
		b.Do(15*time.Second, chromedp.Navigate(a.url+"/invite?t=nicht-gueltig"), chromedp.WaitVisible("#invite-invalid"))
		au.check(b, "anonymous "+lang+" /invite (invalid link)", lang)
	}
	for _, u := range []struct{ email, role string }{{"admin@example.org", staff.RoleAdmin}, {"ed@example.org", staff.RoleEditor}, {"bau@example.org", staff.RoleStaff}} {
		loginIn(b, a.url, u.email)
		for _, lang := range []string{"de", "en"} {
			b.Do(15*time.Second, chromedp.Navigate(a.url+"/account"), chromedp.WaitVisible("main"))
			cur, _ := chromedp.Run(b.Context(), chromedp.Evaluate[string](`document.documentElement.lang`))
			if cur != lang {
				switchLanguage(b, lang)
			}
			for _, p := range a.pages(u.role) {
				b.Do(15*time.Second, chromedp.Navigate(a.url+p), chromedp.WaitReady("body"))
				au.check(b, u.role+" "+lang+" "+p, lang)
			}
			if u.role == staff.RoleAdmin {
				b.Do(15*time.Second, chromedp.Navigate(fmt.Sprintf("%s/admin/users/%d", a.url, a.userID)), chromedp.WaitVisible(`form[action$="/invite"] button`))
				b.Do(15*time.Second, browsertest.Eval(`window.__before = 1`), chromedp.Click(`form[action$="/invite"] button`))
				waitJS(b, `!window.__before && !!document.getElementById("invite-url")`)
				au.check(b, u.role+" "+lang+" user_invited", lang)
			}
			if u.role == staff.RoleStaff {
				// The Telegram link code, shown once on the account page.
				b.Do(15*time.Second, chromedp.Navigate(a.url+"/account"), chromedp.WaitVisible(`form[action="/account/telegram/code"] button`))
				b.Do(15*time.Second, chromedp.Click(`form[action="/account/telegram/code"] button`), chromedp.WaitVisible("#telegram-code"))
				au.check(b, u.role+" "+lang+" /account (telegram code)", lang)
			}
			for _, p := range a.invalidForms(u.role) {
				b.Do(15*time.Second, chromedp.Navigate(a.url+p), chromedp.WaitReady("body"))
				submitEmpty(b)
				if ok, _ := chromedp.Run(b.Context(), chromedp.Evaluate[bool](`!!document.querySelector('[role=alert], [aria-invalid=true], main p.detail')`)); !ok {
					t.Errorf("%s: the emptied form shows no error", p)
				}
				au.check(b, u.role+" "+lang+" "+p+" (invalid form)", lang)
			}
		}
		// Log out through the form.
		b.Do(15*time.Second, chromedp.Click(`form[action="/logout"] button`), chromedp.WaitVisible("#email"))
	}
	if ex := b.Exceptions(); len(ex) > 0 {
		t.Errorf("page exceptions: %v", ex)
	}
	au.report()
}

// TestA11yFocusStyle: the style sheets give keyboard focus a visible outline.
func TestA11yFocusStyle(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("static", "app.css"))
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`:focus-visible\s*\{[^}]*outline:\s*\d+px\s+solid`)
	if !re.Match(b) {
		t.Error("app.css has no solid outline on :focus-visible")
	}
	for _, f := range []string{"app.css", "editor.css", "broadcast.css"} {
		b, err := os.ReadFile(filepath.Join("static", f))
		if err != nil {
			t.Fatal(err)
		}
		if regexp.MustCompile(`outline:\s*(none|0)[^;]*;`).Match(b) && !strings.Contains(string(b), "main:focus { outline: none; }") {
			t.Errorf("%s removes the focus outline", f)
		}
	}
}

// TestA11yReflow: at 320 CSS px (WCAG 1.4.10) no page scrolls sideways;
// wide tables scroll inside their own container. With
// CITYBOT_A11Y_SHOTS=dir the pages are saved as PNG screenshots.
func TestA11yReflow(t *testing.T) {
	au := newAudit(t)
	a := newA11yEnv(t)
	b := browsertest.Start(t, browsertest.WithTimeout(5*time.Minute))
	// A window cannot be made this narrow; the viewport can.
	b.Do(5*time.Second, chromedp.EmulateViewport(320, 800))
	shots := os.Getenv("CITYBOT_A11Y_SHOTS")
	var problems []string
	check := func(name string) {
		t.Helper()
		w, err := chromedp.Run(b.Context(), chromedp.Evaluate[string](`(function(){
  document.querySelectorAll("details").forEach(function(d){ d.open = true; });
  var de = document.documentElement, vw = de.clientWidth, out = [];
  if (de.scrollWidth > vw) {
    document.querySelectorAll('body *').forEach(function(el){
      var r = el.getBoundingClientRect();
      if (r.right > vw + 1 && r.width > 0) {
        for (var p = el.parentElement; p; p = p.parentElement) { var o = getComputedStyle(p).overflowX; if (o === 'auto' || o === 'scroll' || o === 'hidden') return; }
        out.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (el.className && typeof el.className === 'string' ? '.' + el.className.split(' ').join('.') : '') + ' right=' + Math.round(r.right));
      }
    });
    return 'page ' + de.scrollWidth + 'px wide in a ' + vw + 'px viewport: ' + out.slice(0, 6).join(', ');
  }
  return '';
})()`))
		if err != nil {
			t.Fatal(err)
		}
		if w != "" {
			problems = append(problems, name+": "+w)
		}
		// axe again, narrow: scroll boxes must be reachable by keyboard.
		au.check(b, "320px "+name, "de")
		if shots != "" {
			png, err := chromedp.Run(b.Context(), chromedp.FullScreenshot(100))
			if err != nil {
				t.Fatal(err)
			}
			fn := strings.Trim(regexp.MustCompile(`[^a-z0-9]+`).ReplaceAllString(strings.ToLower(name), "-"), "-") + ".png"
			if err := os.WriteFile(filepath.Join(shots, fn), png, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	b.Do(15*time.Second, chromedp.Navigate(a.url+"/login"), chromedp.WaitVisible("#email"))
	check("login")
	for _, u := range []struct{ email, role string }{{"admin@example.org", staff.RoleAdmin}} {
		loginIn(b, a.url, u.email)
		for _, p := range a.pages(u.role) {
			b.Do(15*time.Second, chromedp.Navigate(a.url+p), chromedp.WaitReady("body"))
			check(u.role + " " + p)
		}
	}
	if len(problems) > 0 {
		t.Errorf("horizontal scrolling at 320 px:\n%s", strings.Join(problems, "\n"))
	}
	au.report()
}

// TestA11yLiveFocus: when the inbox list is refreshed live, keyboard focus
// stays on the case link it was on instead of falling back to the page.
func TestA11yLiveFocus(t *testing.T) {
	e := newEnv(t, withCases)
	e.user("bau@example.org", staff.RoleStaff, "bauamt")
	first, _ := e.newCase("4711", "bauamt", text("Wo gibt es Bauanträge?"))
	b := browsertest.Start(t, browsertest.WithTimeout(60*time.Second))
	loginIn(b, e.url, "bau@example.org")
	link := fmt.Sprintf(`a[href="/cases/%d"]`, first.ID)
	b.Do(15*time.Second,
		chromedp.Navigate(e.url+"/inbox"),
		chromedp.WaitVisible(link),
		browsertest.Until(`document.body.getAttribute("data-live") === "on"`),
		browsertest.Eval(`document.querySelector('#caselist `+link+`').focus()`),
	)
	second, _ := e.newCase("4712", "bauamt", text("Und wo gibt es Formulare?"))
	b.Do(15*time.Second,
		chromedp.WaitVisible(fmt.Sprintf(`tr[data-case="%d"]`, second.ID)),
		browsertest.Until(`document.getElementById("caselist").hasAttribute("data-refreshed")`),
	)
	if got, _ := chromedp.Run(b.Context(), chromedp.Evaluate[string](`document.activeElement ? document.activeElement.tagName + " " + (document.activeElement.getAttribute("href") || "") : ""`)); got != fmt.Sprintf("A /cases/%d", first.ID) {
		t.Errorf("focus after the live update on %q", got)
	}
	if ex := b.Exceptions(); len(ex) > 0 {
		t.Errorf("page exceptions: %v", ex)
	}
}
