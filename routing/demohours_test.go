package routing

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"citybot/internal/demodata"
)

// The demo city's office hours are what its FAQ tells citizens: the
// handoff message ("Das Bürgerbüro ist gerade geschlossen ...") must not
// contradict the answer the bot gave a minute before.
func TestDemoOfficeHoursMatchFAQ(t *testing.T) {
	data, err := demodata.FS.ReadFile("faq.json")
	if err != nil {
		t.Fatal(err)
	}
	var entries []struct {
		ID     string `json:"id"`
		Answer string `json:"answer"`
	}
	if err := json.Unmarshal(data, &entries); err != nil {
		t.Fatal(err)
	}
	answers := map[string]string{}
	for _, e := range entries {
		answers[e.ID] = e.Answer
	}
	mf := func(from, to string) []Span { return []Span{{from, to}} }
	weekdays := func(from, to string, days ...int) WeekHours {
		w := WeekHours{}
		for _, d := range days {
			w[d] = mf(from, to)
		}
		return w
	}
	general := weekdays("08:00", "12:00", 1, 2, 3, 4, 5)
	general[4] = []Span{{"08:00", "12:00"}, {"14:00", "17:30"}}
	zentrale := weekdays("07:30", "16:00", 1, 2, 3, 4)
	zentrale[5] = mf("07:30", "13:00")
	citizen := WeekHours{1: mf("08:00", "12:30"), 2: mf("08:00", "18:00"), 3: mf("08:00", "12:30"), 4: mf("08:00", "18:00"), 5: mf("08:00", "12:30"), 6: mf("09:00", "12:00")}
	kfz := weekdays("07:30", "12:30", 1, 2, 3, 4, 5)
	kfz[4] = []Span{{"07:30", "12:30"}, {"14:00", "17:30"}}
	cemetery := weekdays("08:00", "15:30", 1, 2, 3, 4)
	cemetery[5] = mf("08:00", "12:00")
	// What the FAQ says (entry, words of its answer) and the hours that say it.
	statements := []struct {
		entry, says string
		hours       WeekHours
		depts       []string
	}{
		{"oeffnungszeiten-rathaus", "Das Bürgerbüro im Rathaus (Marktplatz 1) ist montags, mittwochs und freitags von 8 bis 12:30 Uhr, dienstags und donnerstags von 8 bis 18 Uhr sowie samstags von 9 bis 12 Uhr geöffnet",
			citizen, []string{"buergerbuero"}},
		{"oeffnungszeiten-rathaus", "Die übrigen Ämter haben allgemeine Sprechzeiten montags bis freitags von 8 bis 12 Uhr und donnerstags zusätzlich von 14 bis 17:30 Uhr",
			general, []string{"bauamt", "ordnungsamt", "standesamt", "abfallwirtschaft", "steueramt", "sozialamt", "jugendamt", "gewerbeamt", "tiefbau", "fundbuero"}},
		{"kontakt", "montags bis donnerstags von 7:30 bis 16 Uhr und freitags von 7:30 bis 13 Uhr", zentrale, []string{"zentrale"}},
		{"fahrzeug-zulassen", "montags bis freitags von 7:30 bis 12:30 Uhr und donnerstags zusätzlich von 14 bis 17:30 Uhr", kfz, []string{"kfz-zulassung"}},
		{"friedhof-oeffnungszeiten", "montags bis donnerstags von 8 bis 15:30 Uhr und freitags von 8 bis 12 Uhr", cemetery, []string{"gruenflaechen"}},
	}
	demo := DemoOfficeHours()
	covered := map[string]bool{}
	for _, s := range statements {
		if !strings.Contains(answers[s.entry], s.says) {
			t.Errorf("FAQ %s no longer says %q", s.entry, s.says)
		}
		for _, d := range s.depts {
			covered[d] = true
			if !reflect.DeepEqual(demo[d], s.hours) {
				t.Errorf("%s: office hours %v, the FAQ says %v (%q)", d, demo[d], s.hours, s.says)
			}
		}
	}
	for d := range demo {
		if !covered[d] {
			t.Errorf("%s: office hours no FAQ entry states", d)
		}
	}
}
