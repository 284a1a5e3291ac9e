package admin

import (
	"strings"
	"testing"
	"time"

	"citybot/faq"
)

// TestDashboardCharts draws the dashboard's charts for the numbers of
// faq's known data set (TestDashboardMatchesKnownDataSet): accessible SVG,
// gaps for days without data, the German number format, escaping.
func TestDashboardCharts(t *testing.T) {
	day := func(d int) time.Time { return time.Date(2025, 3, d, 0, 0, 0, 0, time.UTC) }
	d := faq.Dashboard{
		Days: []faq.DayStats{
			{Day: day(10), Messages: 4, Conversations: 2, Answered: 3, Handoffs: 1, HandoffConvs: 1, Helpful: 1, NotHelpful: 1},
			{Day: day(11), Messages: 3, Conversations: 2, Answered: 1, Handoffs: 2, HandoffConvs: 1, Helpful: 1},
			{Day: day(12), Messages: 1, Conversations: 1, Handoffs: 1, HandoffConvs: 1},
		},
		Messages: 8, Conversations: 5, Answered: 4, Handoffs: 4, HandoffConvs: 3, Helpful: 2, NotHelpful: 1,
		TopEntries: []faq.EntryStats{{EntryID: "bauantrag-stellen", Question: "Wie stelle ich einen Bauantrag?", Answers: 3, Helpful: 2, NotHelpful: 1},
			{EntryID: "hund-anmelden", Answers: 1}},
	}
	cat := newCatalog()
	charts := dashboardCharts(d, func(key string, args ...any) string { return cat.t("en", key, args...) })
	svg := barChartSVG(charts[0])
	for _, s := range []string{`role="img"`, `aria-labelledby="chart-days-title chart-days-desc"`, `<title id="chart-days-title">`, `<desc id="chart-days-desc">8 messages in 5 conversations over 3 days.</desc>`, "<title>10.03., Messages: 4</title>"} {
		if !strings.Contains(svg, s) {
			t.Errorf("bar chart lacks %q", s)
		}
	}
	line := lineChartSVG(charts[1])
	if !strings.Contains(line, "<polyline") || !strings.Contains(line, "50.0\u00a0%") {
		t.Errorf("line chart: %s", line)
	}
	// A day without feedback has no helpful rate: no point at 0 %, "–" in the table.
	if strings.Contains(line, "12.03., Helpful rate") || !strings.Contains(charts[1].tableHTML(), `<th scope="row">12.03.</th><td>0.0`+"\u00a0"+`%</td><td>–</td>`) {
		t.Errorf("a day without data is drawn as 0 %%: %s", charts[1].tableHTML())
	}
	// German number format.
	de := charts[1]
	de.Comma = true
	if s := lineChartSVG(de); !strings.Contains(s, "50,0\u00a0%") || strings.Contains(s, "50.0\u00a0%") {
		t.Errorf("German chart: %s", s)
	}
	table := charts[0].tableHTML()
	if !strings.Contains(table, `<caption>Messages and conversations per day</caption>`) || !strings.Contains(table, `<th scope="row">10.03.</th><td>4</td><td>2</td><td>3</td><td>1</td>`) {
		t.Errorf("table: %s", table)
	}
	if got := charts[2].Labels; len(got) != 2 || got[0] != "Wie stelle ich einen Bauantrag?" || got[1] != "hund-anmelden" {
		t.Errorf("entry labels: %q", got)
	}
	if s := barChartSVG(chart{ID: "x", Title: `<script>"`, Labels: []string{"<b>"}, Series: []series{{"s", []float64{1}}}}); strings.Contains(s, "<script>") || strings.Contains(s, "<b>") {
		t.Errorf("chart does not escape: %s", s)
	}
}
