package admin

import (
	"fmt"
	"math"
	"net/http"
	"strings"
	"testing"

	"citybot/routing"
	"citybot/staff"
)

func TestTileMapLayout(t *testing.T) {
	const tmpl = "https://tiles.example.de/{z}/{x}/{y}.png"
	// (0, 0) is the corner of tiles 65536/65536 at zoom 17.
	m := newTileMap(tmpl, 0, 0)
	if m == nil || m.MX != mapWidth/2 || m.MY != mapHeight/2 {
		t.Fatalf("map %+v", m)
	}
	var under string
	for _, tl := range m.Tiles {
		if tl.X <= m.MX && m.MX < tl.X+tileSize && tl.Y <= m.MY && m.MY < tl.Y+tileSize {
			under = tl.URL
		}
		if tl.X >= mapWidth || tl.Y >= mapHeight || tl.X+tileSize <= 0 || tl.Y+tileSize <= 0 {
			t.Errorf("tile outside the map: %+v", tl)
		}
	}
	if under != "https://tiles.example.de/17/65536/65536.png" {
		t.Errorf("tile under the marker %q", under)
	}
	if len(m.Tiles) != 4 { // the point on a corner: 240 px of two tiles each way
		t.Errorf("%d tiles, want 2x2", len(m.Tiles))
	}
	// Nürnberg: the tile under the marker is the one the point lies in.
	lat, lon := 49.4521, 11.0767
	m = newTileMap(tmpl, lat, lon)
	n := math.Exp2(mapZoom)
	wantX := int(math.Floor((lon + 180) / 360 * n))
	wantY := int(math.Floor((1 - math.Asinh(math.Tan(lat*math.Pi/180))/math.Pi) / 2 * n))
	found := false
	for _, tl := range m.Tiles {
		if tl.X <= m.MX && m.MX < tl.X+tileSize && tl.Y <= m.MY && m.MY < tl.Y+tileSize {
			found = tl.URL == fmt.Sprintf("https://tiles.example.de/17/%d/%d.png", wantX, wantY)
		}
	}
	if !found {
		t.Errorf("Nürnberg: the marker is not on tile %d/%d: %+v", wantX, wantY, m)
	}
	// At the date line the tile numbers wrap; no negative or too large ones.
	for _, tl := range newTileMap(tmpl, 10, 179.9999).Tiles {
		if strings.Contains(tl.URL, "/-") || strings.Contains(tl.URL, fmt.Sprintf("/%d/", int(n))) {
			t.Errorf("date line: %s", tl.URL)
		}
	}
	// Hostile or impossible coordinates, or no template: no map.
	for _, c := range [][2]float64{{91, 0}, {-90, 0}, {0, 181}, {math.NaN(), 0}, {0, math.Inf(1)}, {1e308, 1e308}} {
		if m := newTileMap(tmpl, c[0], c[1]); m != nil {
			t.Errorf("%v: a map", c)
		}
	}
	if newTileMap("", 1, 1) != nil {
		t.Error("a map without tiles")
	}
}

func TestTileOriginAndCSP(t *testing.T) {
	for tmpl, want := range map[string]string{
		"https://tile.openstreetmap.org/{z}/{x}/{y}.png": "https://tile.openstreetmap.org",
		"http://127.0.0.1:8089/tiles/{z}/{x}/{y}.png":    "http://127.0.0.1:8089",
		"":                                "",
		"javascript:alert(1)/{z}/{x}/{y}": "",
		"https://evil.example; script-src *;/{z}/{x}/{y}": "",
	} {
		if got := tileOrigin(tmpl); got != want {
			t.Errorf("tileOrigin(%q) = %q, want %q", tmpl, got, want)
		}
	}
	if got := contentSecurityPolicyWith("https://tiles.example.de"); !strings.Contains(got, "img-src 'self' data: https://tiles.example.de;") || strings.Count(got, "tiles.example.de") != 1 {
		t.Errorf("csp %s", got)
	}
	if contentSecurityPolicyWith("") != contentSecurityPolicy {
		t.Error("csp changed without tiles")
	}
}

// TestCaseLocation: the case page shows the place the citizen chose with
// its address, the coordinates in German, the OpenStreetMap link, and the
// map only with tiles configured, whose origin alone the policy then
// allows for images.
func TestCaseLocation(t *testing.T) {
	lat, lon := 49.4521, 11.0767
	for _, tiles := range []string{"", "https://tiles.example.de/{z}/{x}/{y}.png"} {
		e := newEnv(t, withCases, func(c *Config, _ *Deps) { c.MapTiles = tiles })
		e.user("bau@example.org", staff.RoleStaff, "bauamt")
		cs, _ := e.newCase("831", "bauamt",
			routing.Message{Text: "Hier liegt Sperrmüll"},
			routing.Message{Kind: routing.KindLocation, Media: &routing.Media{Type: "location", Latitude: &lat, Longitude: &lon, Title: "Spielplatz <Amselweg>", Address: "Amselweg 9, 90403 Nürnberg"}},
			routing.Message{Kind: routing.KindLocation, Media: &routing.Media{Type: "location", Latitude: &lat, Longitude: &lon}},
		)
		c := e.loggedIn("bau@example.org")
		r := c.get(fmt.Sprintf("/cases/%d", cs.ID))
		if r.Status != http.StatusOK {
			t.Fatalf("tiles %q: %d", tiles, r.Status)
		}
		for _, want := range []string{"Spielplatz &lt;Amselweg&gt;, Amselweg 9, 90403 Nürnberg", "vom Bürger gewählter Ort", "Standort 49,45210° N, 11,07670° O", "https://www.openstreetmap.org/?mlat=49.452100"} {
			if !strings.Contains(r.Body, want) {
				t.Errorf("tiles %q: page lacks %q", tiles, want)
			}
		}
		csp := r.Header.Get("Content-Security-Policy")
		if tiles == "" {
			if strings.Contains(r.Body, "<svg") || strings.Contains(r.Body, "minimap") || csp != contentSecurityPolicy {
				t.Errorf("without tiles: a map or another policy: %s", csp)
			}
			continue
		}
		if n := strings.Count(r.Body, `class="minimap"`); n != 2 {
			t.Errorf("with tiles: %d maps, want 2", n)
		}
		if !strings.Contains(r.Body, `href="https://tiles.example.de/17/`) || !strings.Contains(r.Body, "© OpenStreetMap-Mitwirkende") || !strings.Contains(r.Body, `aria-label="Karte mit dem Standort 49,45210° N, 11,07670° O"`) {
			t.Error("with tiles: tiles, credit or label missing")
		}
		if !strings.Contains(csp, "img-src 'self' data: https://tiles.example.de;") {
			t.Errorf("with tiles: policy %s", csp)
		}
		// Other pages get the same policy; scripts stay on 'self'.
		if !strings.Contains(csp, "script-src 'self';") {
			t.Errorf("policy %s", csp)
		}
	}
}
