package admin

import (
	"math"
	"net/url"
	"strconv"
	"strings"
)

// A citizen's location on the case page: the place's name and address
// when the citizen chose a place in Telegram (a venue), the coordinates,
// a link to OpenStreetMap and, when a tile server is configured
// (Config.MapTiles, CITYBOT_MAP_TILES), a small map. There is no reverse
// geocoding: that needs an online service or a gazetteer the project does
// not have, so a bare location is shown as coordinates.
//
// The map is an inline SVG of the tiles around the point with a marker,
// laid out on the server: no script, no inline style (the Content
// Security Policy forbids both), and the tile server's origin is added to
// img-src only when one is configured.

// mapZoom is the zoom level of the small map (streets and house blocks).
const mapZoom = 17

// Map size in CSS pixels (the SVG scales down on a phone).
const (
	mapWidth  = 480
	mapHeight = 240
	tileSize  = 256
)

// tileMap is a small map around a point, ready for the template.
type tileMap struct {
	W, H   int
	Tiles  []mapTile
	MX, MY int // the marker, relative to the map
}

type mapTile struct {
	X, Y int // top left corner, relative to the map
	URL  string
}

// tileOrigin is the scheme://host[:port] of a tile URL template, for the
// Content Security Policy; "" when tmpl is empty or not a URL.
func tileOrigin(tmpl string) string {
	_, rest, _ := strings.Cut(tmpl, "://")
	if host, _, _ := strings.Cut(rest, "/"); tmpl == "" || strings.Contains(host, "{") {
		return "" // the policy could not name the hosts
	}
	u, err := url.Parse(strings.NewReplacer("{z}", "0", "{x}", "0", "{y}", "0").Replace(tmpl))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || strings.ContainsAny(u.Host, "{} ;'\"") {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

// newTileMap lays out the tiles around (lat, lon); nil without a template
// or for a point a Web Mercator map cannot show (hostile or broken
// coordinates never reach the arithmetic).
func newTileMap(tmpl string, lat, lon float64) *tileMap {
	if tileOrigin(tmpl) == "" || math.IsNaN(lat) || math.IsNaN(lon) || lat < -85 || lat > 85 || lon < -180 || lon > 180 {
		return nil
	}
	n := float64(int(1) << mapZoom)
	px := (lon + 180) / 360 * n * tileSize
	rad := lat * math.Pi / 180
	py := (1 - math.Log(math.Tan(rad)+1/math.Cos(rad))/math.Pi) / 2 * n * tileSize
	left, top := px-mapWidth/2, py-mapHeight/2
	m := &tileMap{W: mapWidth, H: mapHeight, MX: int(math.Round(px - left)), MY: int(math.Round(py - top))}
	max := int(n) - 1
	for ty := int(math.Floor(top / tileSize)); float64(ty*tileSize) < top+mapHeight; ty++ {
		for tx := int(math.Floor(left / tileSize)); float64(tx*tileSize) < left+mapWidth; tx++ {
			if ty < 0 || ty > max {
				continue
			}
			wx := ((tx % (max + 1)) + max + 1) % (max + 1) // the date line wraps
			u := strings.NewReplacer("{z}", strconv.Itoa(mapZoom), "{x}", strconv.Itoa(wx), "{y}", strconv.Itoa(ty)).Replace(tmpl)
			m.Tiles = append(m.Tiles, mapTile{X: int(math.Round(float64(tx*tileSize) - left)), Y: int(math.Round(float64(ty*tileSize) - top)), URL: u})
		}
	}
	return m
}

// contentSecurityPolicyWith is the policy with the tile server's origin
// allowed for images ("" origin: the default policy).
func contentSecurityPolicyWith(tileOrigin string) string {
	if tileOrigin == "" {
		return contentSecurityPolicy
	}
	return strings.Replace(contentSecurityPolicy, "img-src 'self' data:;", "img-src 'self' data: "+tileOrigin+";", 1)
}
