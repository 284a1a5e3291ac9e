package config

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

const goodToken = "123456789:AAHfiqksKZ8WmR2zSjiQ7_v4TMAKdiHm9T0"

func TestLoadDefaults(t *testing.T) {
	c, err := Load(nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.DatabaseURL != "" || c.HTTPAddr != "127.0.0.1:8080" || !c.Demo || c.TelegramToken != "" {
		t.Fatalf("unexpected defaults: %+v", c)
	}
	if c.TelegramAPIURL != "https://api.telegram.org" {
		t.Fatalf("api url %q", c.TelegramAPIURL)
	}
	if w := DefaultWorkers(runtime.GOMAXPROCS(0)); c.Workers != w || c.Senders != 8 || c.DBMaxConns != w+8+10 {
		t.Errorf("workers %d, senders %d, pool %d; want %d, 8, %d", c.Workers, c.Senders, c.DBMaxConns, w, w+18)
	}
	if c.StatementTimeout != 30*time.Second || c.RequestTimeout != 30*time.Second {
		t.Errorf("timeouts: statement %v, request %v", c.StatementTimeout, c.RequestTimeout)
	}
}

func TestDefaultWorkers(t *testing.T) {
	for procs, want := range map[int]int{1: 8, 2: 8, 4: 16, 8: 32, 16: 64, 64: 64} {
		if got := DefaultWorkers(procs); got != want {
			t.Errorf("DefaultWorkers(%d) = %d, want %d", procs, got, want)
		}
	}
}

func TestLoadLimits(t *testing.T) {
	c, err := Load([]string{"CITYBOT_WORKERS=12", "CITYBOT_SENDERS=4", "CITYBOT_DB_MAX_CONNS=30", "CITYBOT_STATEMENT_TIMEOUT=0", "CITYBOT_REQUEST_TIMEOUT=5s"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Workers != 12 || c.Senders != 4 || c.DBMaxConns != 30 || c.StatementTimeout != 0 || c.RequestTimeout != 5*time.Second {
		t.Errorf("got %+v", c)
	}
}

func TestLoadErrorsNameTheSetting(t *testing.T) {
	for _, tc := range []struct {
		env  []string
		want string
	}{
		{[]string{"CITYBOT_TELEGRAM_TOKEN=nonsense-secret"}, "CITYBOT_TELEGRAM_TOKEN"},
		{[]string{"CITYBOT_FOO=1"}, "CITYBOT_FOO"},
		{[]string{"CITYBOT_WORKERS=0"}, "CITYBOT_WORKERS"},
		{[]string{"CITYBOT_DB_MAX_CONNS=2"}, "CITYBOT_DB_MAX_CONNS"},
		{[]string{"CITYBOT_STATEMENT_TIMEOUT=soon"}, "CITYBOT_STATEMENT_TIMEOUT"},
		{[]string{"CITYBOT_REQUEST_TIMEOUT=0"}, "CITYBOT_REQUEST_TIMEOUT"},
		{[]string{"CITYBOT_PUBLIC_URL=ftp://x"}, "CITYBOT_PUBLIC_URL"},
		{[]string{"CITYBOT_TELEGRAM_API_URL=nourl"}, "CITYBOT_TELEGRAM_API_URL"},
		{[]string{"CITYBOT_HOLIDAY_STATE=XX"}, "CITYBOT_HOLIDAY_STATE"},
		{[]string{"CITYBOT_TELEGRAM_WEBHOOK_SECRET=has space"}, "CITYBOT_TELEGRAM_WEBHOOK_SECRET"},
		{[]string{"CITYBOT_TELEGRAM_TOKEN=" + goodToken, "CITYBOT_TELEGRAM_TOKEN_FILE=/x"}, "both set"},
		{[]string{"CITYBOT_QUIET_HOURS=22"}, "CITYBOT_QUIET_HOURS"},
		{[]string{"CITYBOT_LOG_LEVEL=loud"}, "CITYBOT_LOG_LEVEL"},
	} {
		_, err := Load(tc.env)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: err = %v, want it to name %q", tc.env, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "nonsense-secret") {
			t.Errorf("error leaks the secret: %v", err)
		}
	}
}

func TestSecretFromFile(t *testing.T) {
	f := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(f, []byte(goodToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load([]string{"CITYBOT_TELEGRAM_TOKEN_FILE=" + f, "CITYBOT_PUBLIC_URL=https://bot.example.org/"})
	if err != nil {
		t.Fatal(err)
	}
	if c.TelegramToken != goodToken || c.PublicURL != "https://bot.example.org" || !c.CookieSecure {
		t.Fatalf("got %+v", c)
	}
}

func TestSecuritySettings(t *testing.T) {
	c, err := Load([]string{"CITYBOT_TRUSTED_PROXIES=10.0.0.0/8, 192.0.2.7 ,fd00::/8", "CITYBOT_METRICS_ADDR=0.0.0.0:9100",
		"CITYBOT_METRICS_TOKEN=0123456789abcdef-secret"})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(c.TrustedProxies, " ") != "10.0.0.0/8 192.0.2.7 fd00::/8" || c.MetricsAddr != "0.0.0.0:9100" || c.MetricsToken != "0123456789abcdef-secret" {
		t.Fatalf("got %q %q %q", c.TrustedProxies, c.MetricsAddr, c.MetricsToken)
	}
	d, err := Load(nil)
	if err != nil || len(d.TrustedProxies) != 0 || d.MetricsAddr != "127.0.0.1:9090" || d.MetricsToken != "" {
		t.Fatalf("defaults: %+v %v", d, err)
	}
	for _, env := range [][]string{{"CITYBOT_TRUSTED_PROXIES=10.0.0.0/33"}, {"CITYBOT_TRUSTED_PROXIES=proxy.example"},
		{"CITYBOT_METRICS_ADDR=9090"}, {"CITYBOT_METRICS_TOKEN=short-secret"}} {
		_, err := Load(env)
		name, _, _ := strings.Cut(env[0], "=")
		if err == nil || !strings.Contains(err.Error(), name) || strings.Contains(err.Error(), "short-secret") {
			t.Errorf("%v: err = %v", env, err)
		}
	}
}

func TestOIDCSettings(t *testing.T) {
	c, err := Load([]string{"CITYBOT_OIDC_ISSUER=https://login.example.de/realms/stadt/", "CITYBOT_OIDC_CLIENT_ID=citybot",
		"CITYBOT_OIDC_CLIENT_SECRET=very-secret", `CITYBOT_OIDC_GROUPS=[{"group":"citybot-bau","role":"staff","departments":["bauamt"]}]`})
	if err != nil {
		t.Fatal(err)
	}
	if c.OIDCIssuer != "https://login.example.de/realms/stadt" || c.OIDCGroupClaim != "groups" || len(c.OIDCGroups) != 1 || c.OIDCGroups[0].Departments[0] != "bauamt" {
		t.Fatalf("%+v", c)
	}
	for _, env := range [][]string{
		{"CITYBOT_OIDC_ISSUER=https://login.example.de"},
		{"CITYBOT_OIDC_ISSUER=login.example.de", "CITYBOT_OIDC_CLIENT_ID=x"},
		{"CITYBOT_OIDC_ISSUER=https://login.example.de", "CITYBOT_OIDC_CLIENT_ID=x", "CITYBOT_OIDC_GROUPS={}"},
		{"CITYBOT_OIDC_ISSUER=https://login.example.de", "CITYBOT_OIDC_CLIENT_ID=x", `CITYBOT_OIDC_GROUPS=[{"group":"g","role":"root"}]`},
	} {
		if _, err := Load(env); err == nil || !strings.Contains(err.Error(), "CITYBOT_OIDC_") {
			t.Errorf("%v: err = %v", env, err)
		}
	}
}

func TestMapSettings(t *testing.T) {
	c, err := Load(nil)
	if err != nil || c.MapTiles != "" {
		t.Fatalf("default: %q %v", c.MapTiles, err)
	}
	c, err = Load([]string{"CITYBOT_MAP_TILES=https://tiles.stadt.example/{z}/{x}/{y}.png"})
	if err != nil || c.MapTiles != "https://tiles.stadt.example/{z}/{x}/{y}.png" || c.MapAttribution != "© OpenStreetMap-Mitwirkende" {
		t.Fatalf("%q %q %v", c.MapTiles, c.MapAttribution, err)
	}
	for _, v := range []string{
		"tiles.stadt.example/{z}/{x}/{y}.png",           // no scheme
		"https://tiles.stadt.example/{z}/{x}.png",       // no {y}
		"javascript:alert(1)//{z}/{x}/{y}",              // not http(s)
		"https://{z}.tiles.example/{z}/{x}/{y}.png",     // placeholder in the host
		"https://user:pw@tiles.example/{z}/{x}/{y}.png", // credentials
	} {
		if _, err := Load([]string{"CITYBOT_MAP_TILES=" + v}); err == nil || !strings.Contains(err.Error(), "CITYBOT_MAP_TILES") {
			t.Errorf("%s: err = %v", v, err)
		}
	}
}

func TestAlertSettings(t *testing.T) {
	c, err := Load(nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.AlertInterval != 30*time.Second || c.AlertDigestInterval != time.Hour {
		t.Errorf("defaults: alert interval %v, digest interval %v", c.AlertInterval, c.AlertDigestInterval)
	}
	if c, err = Load([]string{"CITYBOT_ALERT_DIGEST_INTERVAL=30m"}); err != nil || c.AlertDigestInterval != 30*time.Minute {
		t.Errorf("30m: %v, %v", c.AlertDigestInterval, err)
	}
	for _, bad := range []string{"soon", "0", "30s", "25h", "-1h"} {
		if _, err := Load([]string{"CITYBOT_ALERT_DIGEST_INTERVAL=" + bad}); err == nil || !strings.Contains(err.Error(), "CITYBOT_ALERT_DIGEST_INTERVAL") {
			t.Errorf("%q: err = %v, want it to name the setting", bad, err)
		}
	}
}
