package admin

import (
	"math"
	"testing"
	"time"

	"citybot/routing"
)

func TestGermanFormats(t *testing.T) {
	de, en := &page{Lang: "de", cat: newCatalog()}, &page{Lang: "en", cat: newCatalog()}
	for _, tt := range []struct {
		d      time.Duration
		de, en string
	}{
		{45 * time.Second, "45 s", "45 s"},
		{2*time.Minute + 12*time.Second, "2 Min. 12 s", "2 min 12 s"},
		{42 * time.Minute, "42 Min.", "42 min"},
		{2 * time.Hour, "2 Std.", "2 h"},
		{5*time.Hour + 10*time.Minute, "5 Std. 10 Min.", "5 h 10 min"},
		{3*24*time.Hour + 4*time.Hour, "3 Tg. 4 Std.", "3 d 4 h"},
		{-time.Minute, "0 s", "0 s"},
	} {
		if got := de.Duration(tt.d); got != tt.de {
			t.Errorf("de %v: %q, want %q", tt.d, got, tt.de)
		}
		if got := en.Duration(tt.d); got != tt.en {
			t.Errorf("en %v: %q, want %q", tt.d, got, tt.en)
		}
	}
	for _, tt := range []struct {
		v      float64
		dec    int
		de, en string
	}{
		{37.5, 2, "37,50", "37.50"},
		{1234567, 0, "1.234.567", "1,234,567"},
		{-1234.5, 1, "-1.234,5", "-1,234.5"},
		{math.NaN(), 1, "–", "–"},
	} {
		if got := de.Num(tt.v, tt.dec); got != tt.de {
			t.Errorf("de %v: %q, want %q", tt.v, got, tt.de)
		}
		if got := en.Num(tt.v, tt.dec); got != tt.en {
			t.Errorf("en %v: %q, want %q", tt.v, got, tt.en)
		}
	}
	if got := de.Percent(0.45); got != "45,0\u00a0%" {
		t.Errorf("percent %q", got)
	}
	if got := en.Percent(0.45); got != "45.0%" {
		t.Errorf("en percent %q", got)
	}
	at := time.Date(2026, 3, 5, 9, 7, 0, 0, time.UTC)
	if got := de.Date(at) + " | " + en.Date(at); got != "05.03.2026, 09:07 Uhr | 5 Mar 2026, 09:07" {
		t.Errorf("dates %q", got)
	}
	if got := de.Coord(49.4521, 11.0767) + " | " + de.Coord(-1, -2) + " | " + en.Coord(49.4521, 11.0767); got != "49,45210° N, 11,07670° O | 1,00000° S, 2,00000° W | 49.45210° N, 11.07670° E" {
		t.Errorf("coordinates %q", got)
	}
	if got := de.CodeName("channel", "telegram") + " " + de.CodeName("language", "de") + " " + de.CodeName("language", "xx"); got != "Telegram Deutsch xx" {
		t.Errorf("code names %q", got)
	}
}

func TestShortSubject(t *testing.T) {
	for in, want := range map[string]string{
		"Darf ich einen Carport bauen? Er wäre 6 m lang.":                         "Darf ich einen Carport bauen?",
		"Hallo. Mein Perso ist weg":                                               "Hallo",
		"Zeile eins\nZeile zwei":                                                  "Zeile eins",
		"Sehr langer Text ohne Satzende der einfach immer weiter geht und weiter": "Sehr langer Text ohne Satzende der…",
	} {
		if got := shortSubject(in, 36); got != want {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
	}
}

func TestPlaceholders(t *testing.T) {
	p := &page{Lang: "de", cat: newCatalog()}
	cs := routing.Case{ID: 42, DepartmentName: "Bauamt"}
	d := deptInfo{Name: "Bauamt", Phone: "0911 123", Hours: routing.WeekHours{1: {{"08:00", "12:00"}}, 4: {{"14:00", "18:00"}}}}
	got := p.placeholders("Fall {fall} beim {amt}, Tel. {telefon}: {oeffnungszeiten}. {unbekannt}", cs, d)
	if want := "Fall #42 beim Bauamt, Tel. 0911 123: Mo 08:00–12:00; Do 14:00–18:00. {unbekannt}"; got != want {
		t.Errorf("%q, want %q", got, want)
	}
}
