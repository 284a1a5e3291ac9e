package admin

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"citybot/internal/browsertest"
	"citybot/routing"
	"citybot/staff"
)

// TestBrowserCaseMap: in a real browser, with a tile server this test
// runs on loopback configured, the case page draws the map from its tiles
// (the policy lets them through; nothing is refused); without, there is no
// map and the OpenStreetMap link stays. Screenshots at 1366x900 and
// 390x844 with CITYBOT_UX_SHOTS.
func TestBrowserCaseMap(t *testing.T) {
	var hits atomic.Int64
	img := image.NewRGBA(image.Rect(0, 0, 256, 256))
	for y := 0; y < 256; y++ {
		for x := 0; x < 256; x++ {
			c := color.RGBA{0xe8, 0xec, 0xe0, 0xff}
			if x%64 < 6 || y%64 < 6 {
				c = color.RGBA{0xff, 0xff, 0xff, 0xff} // streets
			}
			img.Set(x, y, c)
		}
	}
	var tile bytes.Buffer
	if err := png.Encode(&tile, img); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/tiles/17/") {
			http.NotFound(w, r)
			return
		}
		hits.Add(1)
		w.Header().Set("Content-Type", "image/png")
		_, _ = w.Write(tile.Bytes())
	}))
	t.Cleanup(ts.Close)
	shots := os.Getenv("CITYBOT_UX_SHOTS")
	lat, lon := 49.4521, 11.0767
	for _, withTiles := range []bool{true, false} {
		tmpl := ""
		if withTiles {
			tmpl = ts.URL + "/tiles/{z}/{x}/{y}.png"
		}
		e := newEnv(t, withCases, func(c *Config, _ *Deps) { c.MapTiles = tmpl })
		e.user("bau@example.org", staff.RoleStaff, "bauamt")
		cs, _ := e.newCase("841", "bauamt",
			routing.Message{Text: "Am Spielplatz liegt seit Tagen Sperrmüll."},
			routing.Message{Kind: routing.KindLocation, Media: &routing.Media{Type: "location", Latitude: &lat, Longitude: &lon, Title: "Spielplatz Amselweg", Address: "Amselweg 9, 90403 Nürnberg"}},
		)
		for _, size := range []struct {
			name string
			w, h int64
		}{{"desktop", 1366, 900}, {"phone", 390, 844}} {
			hits.Store(0)
			b := browsertest.Start(t, browsertest.WithTimeout(2*time.Minute))
			b.Do(5*time.Second, chromedp.EmulateViewport(size.w, size.h))
			loginIn(b, e.url, "bau@example.org")
			b.Do(15*time.Second, chromedp.Navigate(fmt.Sprintf("%s/cases/%d", e.url, cs.ID)))
			waitFor(b, ".location")
			b.Do(5*time.Second, browsertest.Eval(`document.querySelector(".location").scrollIntoView({block: "center"})`))
			name := "case-location-" + map[bool]string{true: "map", false: "nomap"}[withTiles] + "-" + size.name
			if withTiles {
				n, _ := chromedp.Run(b.Context(), chromedp.Evaluate[int](`document.querySelectorAll(".minimap svg image").length`))
				if n < 2 {
					t.Fatalf("%s: %d tiles in the map", name, n)
				}
				// Every tile was fetched from the tile server.
				for deadline := time.Now().Add(15 * time.Second); hits.Load() < int64(n) && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
				}
				if hits.Load() < int64(n) {
					t.Errorf("%s: %d of %d tiles fetched", name, hits.Load(), n)
				}
				if got := evalString(t, b, sidewaysJS); got != "" {
					t.Errorf("%s: %s", name, got)
				}
			} else {
				if n, _ := chromedp.Run(b.Context(), chromedp.Evaluate[int](`document.querySelectorAll(".minimap, .location svg").length`)); n != 0 || hits.Load() != 0 {
					t.Errorf("%s: a map without tiles configured (%d, %d fetched)", name, n, hits.Load())
				}
			}
			if got := evalString(t, b, `document.querySelector(".location").textContent.replace(/\s+/g, " ").trim()`); !strings.Contains(got, "Spielplatz Amselweg, Amselweg 9, 90403 Nürnberg") || !strings.Contains(got, "49,45210° N, 11,07670° O") || !strings.Contains(got, "In OpenStreetMap") && !strings.Contains(got, "OpenStreetMap") {
				t.Errorf("%s: location %q", name, got)
			}
			shot(t, b, shots, name)
			for _, m := range b.Console() {
				if strings.Contains(m.Text, "Content Security Policy") || strings.Contains(m.Text, "Refused") {
					t.Errorf("%s: %s", name, m.Text)
				}
			}
			if ex := b.Exceptions(); len(ex) > 0 {
				t.Errorf("%s: page exceptions: %v", name, ex)
			}
		}
	}
}
