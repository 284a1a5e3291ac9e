// Package config parses the service's configuration from environment
// variables, once, into a typed and validated struct.
package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Config is the whole configuration of citybot.
type Config struct {
	DatabaseURL string // DATABASE_URL; empty: embedded local cluster
	DataDir     string // CITYBOT_DATA_DIR: the local cluster and other state
	PGBin       string // CITYBOT_PG_BIN: where initdb and pg_ctl are
	PGDir       string // CITYBOT_PG_DIR: where the local cluster lives (default: see db.ClusterDir)

	HTTPAddr     string // CITYBOT_HTTP_ADDR
	DebugAddr    string // CITYBOT_DEBUG_ADDR: Go's profiler (net/http/pprof); empty: off
	PublicURL    string // CITYBOT_PUBLIC_URL: externally visible base URL; enables the Telegram webhook
	CookieSecure bool   // CITYBOT_COOKIE_SECURE; default: true when PublicURL is https

	TelegramToken  string // CITYBOT_TELEGRAM_TOKEN (or _FILE)
	TelegramAPIURL string // CITYBOT_TELEGRAM_API_URL: Bot API server (self-hosted or a fake)
	BotUsername    string // CITYBOT_TELEGRAM_BOT_USERNAME: the bot's @name, for subscription links (t.me/<name>?start=...)
	WebhookSecret  string // CITYBOT_TELEGRAM_WEBHOOK_SECRET (or _FILE)
	Workers        int    // CITYBOT_WORKERS: update handlers
	Senders        int    // CITYBOT_SENDERS: concurrent Bot API sends of the outbox
	DBMaxConns     int    // CITYBOT_DB_MAX_CONNS: connection pool size
	// StatementTimeout bounds every SQL statement (CITYBOT_STATEMENT_TIMEOUT).
	StatementTimeout time.Duration
	// RequestTimeout bounds every web request but the live-update stream
	// (CITYBOT_REQUEST_TIMEOUT).
	RequestTimeout time.Duration
	PrivacyURL     string // CITYBOT_PRIVACY_URL: linked from /start, /datenschutz and the web chat; empty: see cmd/citybot
	CityName       string // CITYBOT_CITY_NAME: shown above every news post
	HolidayState   string // CITYBOT_HOLIDAY_STATE: German state for public holidays (e.g. NW)
	Timezone       *time.Location
	TimezoneName   string // CITYBOT_TIMEZONE
	RetentionDays  int    // CITYBOT_RETENTION_DAYS: closed cases are deleted after this
	ReopenWindow   time.Duration
	// AlertInterval (CITYBOT_ALERT_INTERVAL): how often the bot looks for
	// new cases to alert linked staff about.
	AlertInterval time.Duration
	// AlertDigestInterval (CITYBOT_ALERT_DIGEST_INTERVAL): the least time
	// between two digests of case alerts to one staff member and department.
	AlertDigestInterval time.Duration

	Demo           bool   // CITYBOT_DEMO: load the demo FAQ into an empty database, create a demo admin
	DemoAdminEmail string // CITYBOT_DEMO_ADMIN_EMAIL
	LogLevel       string // CITYBOT_LOG_LEVEL: debug, info, warn, error
	LogFormat      string // CITYBOT_LOG_FORMAT: text or json
	BroadcastRate  float64
	QuietHours     string // CITYBOT_QUIET_HOURS, e.g. "22-7"; empty: none

	// TrustedProxies (CITYBOT_TRUSTED_PROXIES): addresses or CIDRs of the
	// reverse proxies whose X-Forwarded-For is believed; empty: none.
	TrustedProxies []string
	// MetricsAddr (CITYBOT_METRICS_ADDR): listen address of /metrics;
	// default 127.0.0.1:9090, "off" to serve no separate listener.
	MetricsAddr string
	// MetricsToken (CITYBOT_METRICS_TOKEN or _FILE): when set, /metrics is
	// also served on the web UI's port to requests with this bearer token.
	MetricsToken string

	// OIDC: sign-in through the city's identity provider (empty issuer: off).
	OIDCIssuer       string      // CITYBOT_OIDC_ISSUER
	OIDCClientID     string      // CITYBOT_OIDC_CLIENT_ID
	OIDCClientSecret string      // CITYBOT_OIDC_CLIENT_SECRET (or _FILE)
	OIDCGroupClaim   string      // CITYBOT_OIDC_GROUP_CLAIM (default groups)
	OIDCName         string      // CITYBOT_OIDC_NAME: the login button's provider name
	OIDCGroups       []OIDCGroup // CITYBOT_OIDC_GROUPS: the initial group mapping (JSON), then /admin/sso

	// MapTiles (CITYBOT_MAP_TILES) is a map tile URL template with {z},
	// {x} and {y} (https://tile.example.de/{z}/{x}/{y}.png): the case page
	// then shows a citizen's location on a small map. Empty: no map.
	MapTiles string
	// MapAttribution (CITYBOT_MAP_ATTRIBUTION) is shown under the map,
	// as the tiles' licence asks (default "© OpenStreetMap-Mitwirkende").
	MapAttribution string

	// Webchat (CITYBOT_WEBCHAT): serve the web chat (/widget.js, /chat);
	// default: on with the demo data, else off.
	Webchat bool
	// WebchatOrigins (CITYBOT_WEBCHAT_ORIGINS): origins of the city's
	// pages that may embed the widget (citybot's own always may).
	WebchatOrigins []string
}

// OIDCGroup maps a group of the identity provider to a role and departments.
type OIDCGroup struct {
	Group       string   `json:"group"`
	Role        string   `json:"role"`
	Departments []string `json:"departments"`
}

// Known lists every accepted variable with its meaning, for errors and --help.
var Known = map[string]string{
	"DATABASE_URL":                         "PostgreSQL URL; empty: start an embedded local cluster",
	"CITYBOT_DATA_DIR":                     "directory of the service's own files and, unless run as root, the local cluster (default .citybot)",
	"CITYBOT_PG_DIR":                       "directory of the local cluster (default: CITYBOT_DATA_DIR; as root /var/lib/citybot/<project>-<hash>)",
	"CITYBOT_PG_BIN":                       "directory with initdb and pg_ctl (default: found automatically)",
	"CITYBOT_HTTP_ADDR":                    "listen address of the web UI (default 127.0.0.1:8080)",
	"CITYBOT_DEBUG_ADDR":                   "listen address of Go's profiler /debug/pprof/ (default: off; keep it on localhost)",
	"CITYBOT_PUBLIC_URL":                   "public base URL (https://...); enables the Telegram webhook",
	"CITYBOT_COOKIE_SECURE":                "send cookies only over https (default: true when the public URL is https)",
	"CITYBOT_TELEGRAM_TOKEN":               "Telegram bot token; without it the bot does not run",
	"CITYBOT_TELEGRAM_TOKEN_FILE":          "file holding the Telegram bot token",
	"CITYBOT_TELEGRAM_API_URL":             "Telegram Bot API server (default https://api.telegram.org)",
	"CITYBOT_TELEGRAM_BOT_USERNAME":        "the bot's username (without @), for the subscription links shown to editors",
	"CITYBOT_TELEGRAM_WEBHOOK_SECRET":      "webhook secret token (A-Za-z0-9_-, 1..256); generated when empty",
	"CITYBOT_TELEGRAM_WEBHOOK_SECRET_FILE": "file holding the webhook secret token",
	"CITYBOT_WORKERS":                      "concurrent update handlers (default: 4 per CPU (GOMAXPROCS), 8 to 64)",
	"CITYBOT_SENDERS":                      "concurrent Bot API sends of answers (default 8)",
	"CITYBOT_DB_MAX_CONNS":                 "most PostgreSQL connections of the pool (default: workers + senders + 10)",
	"CITYBOT_STATEMENT_TIMEOUT":            "longest an SQL statement may run (default 30s; 0 for none)",
	"CITYBOT_REQUEST_TIMEOUT":              "longest a web request may take, the live-update stream aside (default 30s)",
	"CITYBOT_PRIVACY_URL":                  "privacy notice linked from /start, /datenschutz and the web chat (default: the web chat's own notice /chat/datenschutz)",
	"CITYBOT_CITY_NAME":                    "the city's name, shown with the topic above every news post (default Stadt Musterstadt)",
	"CITYBOT_HOLIDAY_STATE":                "German state for public holidays: BW BY BE BB HB HH HE MV NI NW RP SL SN ST SH TH (default NW)",
	"CITYBOT_TIMEZONE":                     "time zone of the city (default Europe/Berlin)",
	"CITYBOT_RETENTION_DAYS":               "days closed cases are kept (default 90)",
	"CITYBOT_REOPEN_WINDOW":                "a citizen message this long after closing reopens the case (default 72h)",
	"CITYBOT_ALERT_INTERVAL":               "how often new cases are looked for to alert linked staff in Telegram (default 30s, at least 1s)",
	"CITYBOT_ALERT_DIGEST_INTERVAL":        "least time between two digests of new cases to a staff member who chose the digest (default 1h, 1m to 24h)",
	"CITYBOT_DEMO":                         "load demo data into an empty database and create a demo admin (default true)",
	"CITYBOT_DEMO_ADMIN_EMAIL":             "e-mail of the demo admin (default admin@musterstadt.de)",
	"CITYBOT_LOG_LEVEL":                    "debug, info, warn or error (default info)",
	"CITYBOT_LOG_FORMAT":                   "text or json (default text)",
	"CITYBOT_BROADCAST_RATE":               "broadcast messages per second (default 25)",
	"CITYBOT_QUIET_HOURS":                  "hours in which ordinary broadcasts wait, e.g. 22-7 (default none)",
	"CITYBOT_TRUSTED_PROXIES":              "comma-separated addresses or CIDRs of reverse proxies whose X-Forwarded-For is believed (default none)",
	"CITYBOT_METRICS_ADDR":                 "listen address of /metrics (default 127.0.0.1:9090; off: none)",
	"CITYBOT_METRICS_TOKEN":                "bearer token that also opens /metrics on the web UI's port (default: not served there)",
	"CITYBOT_METRICS_TOKEN_FILE":           "file holding the metrics bearer token",
	"CITYBOT_OIDC_ISSUER":                  "OpenID Connect issuer URL of the city's identity provider (Keycloak, ADFS, Azure AD); empty: off",
	"CITYBOT_OIDC_CLIENT_ID":               "OpenID Connect client id of citybot",
	"CITYBOT_OIDC_CLIENT_SECRET":           "OpenID Connect client secret",
	"CITYBOT_OIDC_CLIENT_SECRET_FILE":      "file holding the OpenID Connect client secret",
	"CITYBOT_OIDC_GROUP_CLAIM":             "ID token claim with the user's groups (default groups)",
	"CITYBOT_OIDC_NAME":                    "name of the identity provider on the login button (default Single Sign-on)",
	"CITYBOT_OIDC_GROUPS":                  `initial group mapping as JSON, e.g. [{"group":"citybot-bauamt","role":"staff","departments":["bauamt"]}]; taken into the database once, then edited at /admin/sso`,
	"CITYBOT_MAP_TILES":                    "map tile URL template with {z}, {x}, {y} for the small map of a citizen's location (default none: a link to OpenStreetMap only)",
	"CITYBOT_MAP_ATTRIBUTION":              "credit shown under the map (default © OpenStreetMap-Mitwirkende)",
	"CITYBOT_WEBCHAT":                      "serve the web chat widget /widget.js and page /chat: on or off (default: on with CITYBOT_DEMO, else off)",
	"CITYBOT_WEBCHAT_ORIGINS":              "comma-separated origins (https://www.musterstadt.de) whose pages may embed the web chat (citybot's own always may)",
	"CITYBOT_NEW_PASSWORD_FILE":            "citybot user add: file holding the new user's password",
}

var (
	tokenRe  = regexp.MustCompile(`^[0-9]{3,15}:[A-Za-z0-9_-]{30,60}$`)
	secretRe = regexp.MustCompile(`^[A-Za-z0-9_-]{1,256}$`)
	states   = "BW BY BE BB HB HH HE MV NI NW RP SL SN ST SH TH"
)

// Load reads the configuration from environ ("KEY=value" pairs, as os.Environ).
// Errors name the setting and never contain a secret's value.
func Load(environ []string) (Config, error) {
	env := map[string]string{}
	var unknown []string
	for _, kv := range environ {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
		if strings.HasPrefix(k, "CITYBOT_") {
			if _, ok := Known[k]; !ok {
				unknown = append(unknown, k)
			}
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return Config{}, fmt.Errorf("unknown setting %s (see 'citybot help' for the list)", strings.Join(unknown, ", "))
	}
	get := func(k, def string) string {
		if v, ok := env[k]; ok && v != "" {
			return v
		}
		return def
	}
	c := Config{
		DatabaseURL:    get("DATABASE_URL", ""),
		DataDir:        get("CITYBOT_DATA_DIR", ".citybot"),
		PGBin:          get("CITYBOT_PG_BIN", ""),
		PGDir:          get("CITYBOT_PG_DIR", ""),
		HTTPAddr:       get("CITYBOT_HTTP_ADDR", "127.0.0.1:8080"),
		DebugAddr:      get("CITYBOT_DEBUG_ADDR", ""),
		PublicURL:      strings.TrimRight(get("CITYBOT_PUBLIC_URL", ""), "/"),
		TelegramAPIURL: strings.TrimRight(get("CITYBOT_TELEGRAM_API_URL", "https://api.telegram.org"), "/"),
		BotUsername:    strings.TrimPrefix(strings.TrimSpace(get("CITYBOT_TELEGRAM_BOT_USERNAME", "")), "@"),
		PrivacyURL:     get("CITYBOT_PRIVACY_URL", ""),
		CityName:       strings.TrimSpace(get("CITYBOT_CITY_NAME", "Stadt Musterstadt")),
		HolidayState:   strings.ToUpper(get("CITYBOT_HOLIDAY_STATE", "NW")),
		TimezoneName:   get("CITYBOT_TIMEZONE", "Europe/Berlin"),
		DemoAdminEmail: get("CITYBOT_DEMO_ADMIN_EMAIL", "admin@musterstadt.de"),
		LogLevel:       strings.ToLower(get("CITYBOT_LOG_LEVEL", "info")),
		LogFormat:      strings.ToLower(get("CITYBOT_LOG_FORMAT", "text")),
		QuietHours:     get("CITYBOT_QUIET_HOURS", ""),
		MetricsAddr:    get("CITYBOT_METRICS_ADDR", "127.0.0.1:9090"),
	}
	var err error
	if c.TelegramToken, err = secret(env, "CITYBOT_TELEGRAM_TOKEN"); err != nil {
		return Config{}, err
	}
	if c.WebhookSecret, err = secret(env, "CITYBOT_TELEGRAM_WEBHOOK_SECRET"); err != nil {
		return Config{}, err
	}
	if c.MetricsToken, err = secret(env, "CITYBOT_METRICS_TOKEN"); err != nil {
		return Config{}, err
	}
	if c.MetricsToken != "" && len(c.MetricsToken) < 16 {
		return Config{}, errors.New("CITYBOT_METRICS_TOKEN: must be at least 16 characters")
	}
	if c.MetricsAddr != "off" {
		if _, _, err := net.SplitHostPort(c.MetricsAddr); err != nil {
			return Config{}, fmt.Errorf("CITYBOT_METRICS_ADDR: %q is not host:port (or off)", c.MetricsAddr)
		}
	}
	for _, p := range strings.Split(get("CITYBOT_TRUSTED_PROXIES", ""), ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if _, err := netip.ParsePrefix(p); err != nil {
			if _, err := netip.ParseAddr(p); err != nil {
				return Config{}, fmt.Errorf("CITYBOT_TRUSTED_PROXIES: %q is not an IP address or CIDR", p)
			}
		}
		c.TrustedProxies = append(c.TrustedProxies, p)
	}
	if c.OIDCClientSecret, err = secret(env, "CITYBOT_OIDC_CLIENT_SECRET"); err != nil {
		return Config{}, err
	}
	c.OIDCIssuer = strings.TrimRight(get("CITYBOT_OIDC_ISSUER", ""), "/")
	c.OIDCClientID = get("CITYBOT_OIDC_CLIENT_ID", "")
	c.OIDCGroupClaim = get("CITYBOT_OIDC_GROUP_CLAIM", "groups")
	c.OIDCName = get("CITYBOT_OIDC_NAME", "")
	if c.OIDCIssuer != "" {
		if u, err := url.Parse(c.OIDCIssuer); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return Config{}, fmt.Errorf("CITYBOT_OIDC_ISSUER: %q is not an http(s) URL", c.OIDCIssuer)
		}
		if c.OIDCClientID == "" {
			return Config{}, errors.New("CITYBOT_OIDC_CLIENT_ID: required with CITYBOT_OIDC_ISSUER")
		}
		if err := json.Unmarshal([]byte(get("CITYBOT_OIDC_GROUPS", "[]")), &c.OIDCGroups); err != nil {
			return Config{}, fmt.Errorf("CITYBOT_OIDC_GROUPS: not a JSON list of {\"group\", \"role\", \"departments\"}: %v", err)
		}
		for _, g := range c.OIDCGroups {
			if g.Group == "" || (g.Role != "admin" && g.Role != "editor" && g.Role != "staff") {
				return Config{}, fmt.Errorf("CITYBOT_OIDC_GROUPS: group %q: needs a group name and the role admin, editor or staff", g.Group)
			}
		}
	}
	if c.TelegramToken != "" && !tokenRe.MatchString(c.TelegramToken) {
		return Config{}, errors.New("CITYBOT_TELEGRAM_TOKEN: malformed token (expected the form 123456789:ABC-DEF..., as BotFather gives it)")
	}
	if c.WebhookSecret != "" && !secretRe.MatchString(c.WebhookSecret) {
		return Config{}, errors.New("CITYBOT_TELEGRAM_WEBHOOK_SECRET: must be 1 to 256 characters of A-Z, a-z, 0-9, _ and -")
	}
	if c.DatabaseURL != "" {
		if _, err := url.Parse(c.DatabaseURL); err != nil && !strings.Contains(c.DatabaseURL, "=") {
			return Config{}, errors.New("DATABASE_URL: not a valid URL or connection string")
		}
	}
	for _, u := range []struct{ key, val string }{{"CITYBOT_PUBLIC_URL", c.PublicURL}, {"CITYBOT_TELEGRAM_API_URL", c.TelegramAPIURL}, {"CITYBOT_PRIVACY_URL", c.PrivacyURL}} {
		if u.val == "" {
			continue
		}
		pu, err := url.Parse(u.val)
		if err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" {
			return Config{}, fmt.Errorf("%s: %q is not an http(s) URL", u.key, u.val)
		}
	}
	c.MapTiles = get("CITYBOT_MAP_TILES", "")
	c.MapAttribution = get("CITYBOT_MAP_ATTRIBUTION", "© OpenStreetMap-Mitwirkende")
	for _, o := range strings.Split(get("CITYBOT_WEBCHAT_ORIGINS", ""), ",") {
		if o = strings.TrimRight(strings.TrimSpace(o), "/"); o == "" {
			continue
		}
		if u, err := url.Parse(o); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "" {
			return Config{}, fmt.Errorf("CITYBOT_WEBCHAT_ORIGINS: %q is not an origin such as https://www.musterstadt.de", o)
		}
		c.WebchatOrigins = append(c.WebchatOrigins, o)
	}
	if c.MapTiles != "" {
		pu, err := url.Parse(strings.NewReplacer("{z}", "0", "{x}", "0", "{y}", "0").Replace(c.MapTiles))
		if err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" || pu.User != nil ||
			!strings.Contains(c.MapTiles, "{z}") || !strings.Contains(c.MapTiles, "{x}") || !strings.Contains(c.MapTiles, "{y}") ||
			strings.Contains(tilesHost(c.MapTiles), "{") {
			return Config{}, fmt.Errorf("CITYBOT_MAP_TILES: %q is not an http(s) URL template with {z}, {x} and {y}", c.MapTiles)
		}
	}
	if c.Workers, err = intVar(env, "CITYBOT_WORKERS", DefaultWorkers(runtime.GOMAXPROCS(0)), 1, 256); err != nil {
		return Config{}, err
	}
	if c.Senders, err = intVar(env, "CITYBOT_SENDERS", 8, 1, 256); err != nil {
		return Config{}, err
	}
	if c.DBMaxConns, err = intVar(env, "CITYBOT_DB_MAX_CONNS", c.Workers+c.Senders+10, 4, 1000); err != nil {
		return Config{}, err
	}
	if c.StatementTimeout, err = durationVar(env, "CITYBOT_STATEMENT_TIMEOUT", 30*time.Second, 0); err != nil {
		return Config{}, err
	}
	if c.RequestTimeout, err = durationVar(env, "CITYBOT_REQUEST_TIMEOUT", 30*time.Second, time.Second); err != nil {
		return Config{}, err
	}
	if c.RetentionDays, err = intVar(env, "CITYBOT_RETENTION_DAYS", 90, 1, 3650); err != nil {
		return Config{}, err
	}
	if c.Demo, err = boolVar(env, "CITYBOT_DEMO", true); err != nil {
		return Config{}, err
	}
	switch v := strings.ToLower(get("CITYBOT_WEBCHAT", "")); v {
	case "":
		c.Webchat = c.Demo
	case "on", "true", "1", "yes":
		c.Webchat = true
	case "off", "false", "0", "no":
		c.Webchat = false
	default:
		return Config{}, errors.New("CITYBOT_WEBCHAT: must be on or off")
	}
	if c.CookieSecure, err = boolVar(env, "CITYBOT_COOKIE_SECURE", strings.HasPrefix(c.PublicURL, "https://")); err != nil {
		return Config{}, err
	}
	if c.ReopenWindow, err = time.ParseDuration(get("CITYBOT_REOPEN_WINDOW", "72h")); err != nil || c.ReopenWindow < 0 {
		return Config{}, errors.New("CITYBOT_REOPEN_WINDOW: must be a duration such as 72h")
	}
	if c.AlertInterval, err = time.ParseDuration(get("CITYBOT_ALERT_INTERVAL", "30s")); err != nil || c.AlertInterval < time.Second {
		return Config{}, errors.New("CITYBOT_ALERT_INTERVAL: must be a duration of at least 1s such as 30s")
	}
	if c.AlertDigestInterval, err = time.ParseDuration(get("CITYBOT_ALERT_DIGEST_INTERVAL", "1h")); err != nil ||
		c.AlertDigestInterval < time.Minute || c.AlertDigestInterval > 24*time.Hour {
		return Config{}, errors.New("CITYBOT_ALERT_DIGEST_INTERVAL: must be a duration from 1m to 24h such as 1h or 30m")
	}
	c.BroadcastRate = 25
	if v := get("CITYBOT_BROADCAST_RATE", ""); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f <= 0 || f > 1000 {
			return Config{}, errors.New("CITYBOT_BROADCAST_RATE: must be a number of messages per second between 0 and 1000")
		}
		c.BroadcastRate = f
	}
	if !strings.Contains(" "+states+" ", " "+c.HolidayState+" ") {
		return Config{}, fmt.Errorf("CITYBOT_HOLIDAY_STATE: %q is not one of %s", c.HolidayState, states)
	}
	if c.Timezone, err = time.LoadLocation(c.TimezoneName); err != nil {
		return Config{}, fmt.Errorf("CITYBOT_TIMEZONE: unknown time zone %q", c.TimezoneName)
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return Config{}, fmt.Errorf("CITYBOT_LOG_LEVEL: %q is not debug, info, warn or error", c.LogLevel)
	}
	switch c.LogFormat {
	case "text", "json":
	default:
		return Config{}, fmt.Errorf("CITYBOT_LOG_FORMAT: %q is not text or json", c.LogFormat)
	}
	if c.QuietHours != "" {
		if _, _, err := ParseQuietHours(c.QuietHours); err != nil {
			return Config{}, fmt.Errorf("CITYBOT_QUIET_HOURS: %v", err)
		}
	}
	return c, nil
}

// ParseQuietHours parses "22-7" into start and end hours.
func ParseQuietHours(s string) (from, to int, err error) {
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		return 0, 0, errors.New("expected FROM-TO in whole hours, e.g. 22-7")
	}
	from, err1 := strconv.Atoi(strings.TrimSpace(a))
	to, err2 := strconv.Atoi(strings.TrimSpace(b))
	if err1 != nil || err2 != nil || from < 0 || from > 23 || to < 0 || to > 23 || from == to {
		return 0, 0, errors.New("expected FROM-TO in whole hours 0..23, e.g. 22-7")
	}
	return from, to, nil
}

// secret reads KEY or KEY_FILE (not both).
func secret(env map[string]string, key string) (string, error) {
	v, f := env[key], env[key+"_FILE"]
	if v != "" && f != "" {
		return "", fmt.Errorf("%s and %s_FILE are both set; set one", key, key)
	}
	if f == "" {
		return strings.TrimSpace(v), nil
	}
	b, err := os.ReadFile(f)
	if err != nil {
		return "", fmt.Errorf("%s_FILE: cannot read %s: %v", key, f, errors.Unwrap(err))
	}
	return strings.TrimSpace(string(b)), nil
}

func intVar(env map[string]string, key string, def, lo, hi int) (int, error) {
	v := env[key]
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("%s: must be a whole number from %d to %d", key, lo, hi)
	}
	return n, nil
}

// DefaultWorkers is the default number of update handlers on a machine
// with procs CPUs: a handler spends most of its time waiting for
// PostgreSQL (and its commit's flush), so several per CPU keep the CPUs busy.
func DefaultWorkers(procs int) int {
	return min(max(4*procs, 8), 64)
}

// durationVar reads a duration of at least lo (0 stays 0: none).
func durationVar(env map[string]string, key string, def, lo time.Duration) (time.Duration, error) {
	v := env[key]
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if v == "0" {
		d, err = 0, nil
	}
	if err != nil || d < 0 || (d > 0 && d < lo) || (d == 0 && lo > 0) {
		return 0, fmt.Errorf("%s: must be a duration such as 30s (at least %v)", key, max(lo, time.Millisecond))
	}
	return d, nil
}

func boolVar(env map[string]string, key string, def bool) (bool, error) {
	v := env[key]
	if v == "" {
		return def, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("%s: must be true or false", key)
	}
	return b, nil
}

// tilesHost is the authority part of a URL template (between "://" and
// the next "/"): placeholders there would put the tiles on hosts the
// Content Security Policy does not name.
func tilesHost(tmpl string) string {
	_, rest, _ := strings.Cut(tmpl, "://")
	host, _, _ := strings.Cut(rest, "/")
	return host
}
