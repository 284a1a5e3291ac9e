package browsertest

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

func TestBrowserRunsPage(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(`<!doctype html><html lang="de"><title>Hallo</title><main id="main"><p id="p">Grüß Gott</p></main><script>console.log("from page")</script></html>`))
	}))
	defer ts.Close()
	b := Start(t, WithTimeout(30*time.Second))
	b.Do(20*time.Second, chromedp.Navigate(ts.URL), chromedp.WaitVisible("#p"))
	text, err := chromedp.Run(b.Context(), chromedp.Text("#p"))
	if err != nil || text != "Grüß Gott" {
		t.Fatalf("text %q, %v", text, err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		for _, m := range b.Console() {
			if strings.Contains(m.Text, "from page") {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Error("console message not collected")
}

func TestPathMissing(t *testing.T) {
	t.Setenv(EnvPath, "/nonexistent/chromium")
	_, err := Path()
	if err == nil || !strings.Contains(err.Error(), "apt-get install -y chromium") {
		t.Fatalf("err = %v", err)
	}
}

// TestUntilSurvivesNavigation: a page that reloads itself several times
// while Until waits; Until keeps polling in each new document instead of
// failing with the destroyed execution context.
func TestUntilSurvivesNavigation(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(`<!doctype html><html lang="de"><title>Weiter</title><main><p>…</p></main><script>
var n = +(new URLSearchParams(location.search).get("n") || 0);
if (n < 8) setTimeout(function(){ location.href = "/?n=" + (n + 1); }, 40);
</script></html>`))
	}))
	defer ts.Close()
	b := Start(t, WithTimeout(30*time.Second))
	b.Do(20*time.Second, chromedp.Navigate(ts.URL))
	b.Do(20*time.Second, Until(`location.search === "?n=8" && document.readyState === "complete"`))
	if !ContextReplaced(errors.New("exception: Execution context was destroyed.")) || ContextReplaced(errors.New("timeout")) {
		t.Error("ContextReplaced misreads errors")
	}
}
