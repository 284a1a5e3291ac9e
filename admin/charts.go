package admin

import (
	"fmt"
	"html"
	"math"
	"strconv"
	"strings"

	"citybot/faq"
)

// chart is data for a server-rendered SVG chart: one label per category
// (a day, an entry) and one or more series of values.
type chart struct {
	ID      string // unique on the page; used for the title/desc ids
	Title   string
	Desc    string // a sentence summarising the chart for screen readers
	Labels  []string
	Series  []series
	Percent bool // values are fractions 0..1, shown as percent
	// Comma writes numbers the German way: "45,0 %", "37,50". A value that
	// is NaN has no data (a day without answers) and is shown as "–" and
	// not drawn.
	Comma  bool
	Width  int // default 720
	Height int // default 240
}

// series is one named row of values of a chart.
type series struct {
	Name   string
	Values []float64
}

// Colours with at least 3:1 contrast against white (WCAG 1.4.11), told apart
// also by the legend's order and the data table.
var chartColours = []string{"#1f5fa8", "#c2410c", "#15803d", "#7e22ce"}

func (c chart) size() (int, int) {
	w, h := c.Width, c.Height
	if w <= 0 {
		w = 720
	}
	if h <= 0 {
		h = 240
	}
	return w, h
}

func (c chart) format(v float64) string {
	if math.IsNaN(v) {
		return "–"
	}
	var s string
	switch {
	case c.Percent:
		s = strconv.FormatFloat(v*100, 'f', 1, 64) + "\u00a0%"
	case v == math.Trunc(v):
		s = strconv.FormatFloat(v, 'f', 0, 64)
	default:
		s = strconv.FormatFloat(v, 'f', 2, 64)
	}
	if c.Comma {
		s = strings.Replace(s, ".", ",", 1)
	}
	return s
}

func (c chart) maxValue() float64 {
	m := 0.0
	for _, s := range c.Series {
		for _, v := range s.Values {
			if !math.IsNaN(v) {
				m = max(m, v)
			}
		}
	}
	if c.Percent {
		return 1
	}
	if m <= 0 {
		return 1
	}
	// a round axis maximum: 1, 2, 5 times a power of ten
	p := math.Pow(10, math.Floor(math.Log10(m)))
	for _, f := range []float64{1, 2, 5, 10} {
		if f*p >= m {
			return f * p
		}
	}
	return m
}

const (
	padLeft   = 60
	padRight  = 12
	padTop    = 12
	padBottom = 44
)

// open writes the accessible SVG header, the axis and its grid lines.
func (c chart) open(b *strings.Builder) (plotW, plotH, maxV float64) {
	w, h := c.size()
	esc := html.EscapeString
	fmt.Fprintf(b, `<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 %d %d" width="100%%" role="img" aria-labelledby="%s-title %s-desc" preserveAspectRatio="xMidYMid meet">`,
		w, h, esc(c.ID), esc(c.ID))
	fmt.Fprintf(b, `<title id="%s-title">%s</title><desc id="%s-desc">%s</desc>`, esc(c.ID), esc(c.Title), esc(c.ID), esc(c.Desc))
	plotW = float64(w - padLeft - padRight)
	plotH = float64(h - padTop - padBottom)
	maxV = c.maxValue()
	b.WriteString(`<g class="axis" font-size="11" fill="#333">`)
	for i := 0; i <= 4; i++ {
		v := maxV * float64(i) / 4
		y := padTop + plotH - plotH*float64(i)/4
		fmt.Fprintf(b, `<line x1="%d" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#ccc" stroke-width="1"/>`, padLeft, y, padLeft+plotW, y)
		fmt.Fprintf(b, `<text x="%d" y="%.1f" text-anchor="end" dominant-baseline="middle">%s</text>`, padLeft-6, y, esc(c.format(v)))
	}
	// category labels: at most ~12, evenly spaced
	n := len(c.Labels)
	step := max(1, (n+11)/12)
	for i := 0; i < n; i += step {
		x := padLeft + plotW*(float64(i)+0.5)/float64(n)
		fmt.Fprintf(b, `<text x="%.1f" y="%d" text-anchor="middle">%s</text>`, x, h-padBottom+16, esc(shorten(c.Labels[i], 14)))
	}
	b.WriteString(`</g>`)
	return plotW, plotH, maxV
}

func (c chart) legend(b *strings.Builder) {
	if len(c.Series) < 2 {
		return
	}
	_, h := c.size()
	x := float64(padLeft)
	for i, s := range c.Series {
		fmt.Fprintf(b, `<rect x="%.1f" y="%d" width="10" height="10" fill="%s"/>`, x, h-14, chartColours[i%len(chartColours)])
		fmt.Fprintf(b, `<text x="%.1f" y="%d" font-size="11" fill="#333">%s</text>`, x+14, h-5, html.EscapeString(s.Name))
		x += 24 + 7*float64(len([]rune(s.Name)))
	}
}

func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// barChartSVG renders c as grouped vertical bars. Every bar carries its
// value as a tooltip (<title>); pair the chart with tableHTML for a data
// table alternative.
func barChartSVG(c chart) string {
	var b strings.Builder
	plotW, plotH, maxV := c.open(&b)
	n := len(c.Labels)
	if n > 0 && len(c.Series) > 0 {
		slot := plotW / float64(n)
		barW := slot * 0.8 / float64(len(c.Series))
		for si, s := range c.Series {
			colour := chartColours[si%len(chartColours)]
			for i, v := range s.Values {
				if i >= n {
					break
				}
				if math.IsNaN(v) {
					continue // no data: no bar (not a bar of 0)
				}
				bh := plotH * v / maxV
				x := padLeft + slot*float64(i) + slot*0.1 + barW*float64(si)
				y := padTop + plotH - bh
				fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s, %s: %s</title></rect>`,
					x, y, barW, bh, colour, html.EscapeString(c.Labels[i]), html.EscapeString(s.Name), html.EscapeString(c.format(v)))
			}
		}
	}
	c.legend(&b)
	b.WriteString(`</svg>`)
	return b.String()
}

// lineChartSVG renders c as lines with a point per value.
func lineChartSVG(c chart) string {
	var b strings.Builder
	plotW, plotH, maxV := c.open(&b)
	n := len(c.Labels)
	if n > 0 {
		slot := plotW / float64(n)
		for si, s := range c.Series {
			colour := chartColours[si%len(chartColours)]
			// Days without data break the line: they are gaps, not zeros.
			var seg []string
			flush := func() {
				if len(seg) > 1 {
					fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>`, colour, strings.Join(seg, " "))
				}
				seg = nil
			}
			for i, v := range s.Values {
				if i >= n {
					break
				}
				if math.IsNaN(v) {
					flush()
					continue
				}
				x, y := fmt.Sprintf("%.1f", padLeft+slot*(float64(i)+0.5)), fmt.Sprintf("%.1f", padTop+plotH-plotH*v/maxV)
				seg = append(seg, x+","+y)
				fmt.Fprintf(&b, `<circle cx="%s" cy="%s" r="3" fill="%s"><title>%s, %s: %s</title></circle>`, x, y, colour,
					html.EscapeString(c.Labels[i]), html.EscapeString(s.Name), html.EscapeString(c.format(v)))
			}
			flush()
		}
	}
	c.legend(&b)
	b.WriteString(`</svg>`)
	return b.String()
}

// tableHTML renders the chart's data as an HTML table (the text
// alternative of the chart), captioned with the chart's title.
func (c chart) tableHTML() string {
	esc := html.EscapeString
	var b strings.Builder
	fmt.Fprintf(&b, `<table class="chart-data" id="%s-table"><caption>%s</caption><thead><tr><td></td>`, esc(c.ID), esc(c.Title))
	for _, s := range c.Series {
		fmt.Fprintf(&b, `<th scope="col">%s</th>`, esc(s.Name))
	}
	b.WriteString(`</tr></thead><tbody>`)
	for i, l := range c.Labels {
		fmt.Fprintf(&b, `<tr><th scope="row">%s</th>`, esc(l))
		for _, s := range c.Series {
			v := ""
			if i < len(s.Values) {
				v = c.format(s.Values[i])
			}
			fmt.Fprintf(&b, `<td>%s</td>`, esc(v))
		}
		b.WriteString(`</tr>`)
	}
	b.WriteString(`</tbody></table>`)
	return b.String()
}

// ratioOrNaN is a/b, or NaN (no data) when b is 0.
func ratioOrNaN(a, b int) float64 {
	if b == 0 {
		return math.NaN()
	}
	return float64(a) / float64(b)
}

// dashboardCharts returns the dashboard's standard charts, worded by t
// (the page's catalogue: dash.chart.*).
func dashboardCharts(d faq.Dashboard, t func(key string, args ...any) string) []chart {
	var days []string
	var msgs, convs, answered, handoffs, share, helpful []float64
	for _, ds := range d.Days {
		days = append(days, ds.Day.Format("02.01."))
		msgs = append(msgs, float64(ds.Messages))
		convs = append(convs, float64(ds.Conversations))
		answered = append(answered, float64(ds.Answered))
		handoffs = append(handoffs, float64(ds.Handoffs))
		share = append(share, ratioOrNaN(ds.Answered, ds.Answered+ds.Handoffs))
		helpful = append(helpful, ratioOrNaN(ds.Helpful, ds.Helpful+ds.NotHelpful))
	}
	var entries []string
	var counts []float64
	for _, e := range d.TopEntries {
		label := e.EntryID
		if e.Question != "" {
			label = e.Question
		}
		entries = append(entries, label)
		counts = append(counts, float64(e.Answers))
	}
	return []chart{
		{ID: "chart-days", Title: t("dash.chart.per_day"),
			Desc:   t("dash.chart.per_day_desc", d.Messages, d.Conversations, len(d.Days)),
			Labels: days, Series: []series{{t("dash.chart.messages"), msgs}, {t("dash.chart.conversations"), convs}, {t("dash.chart.answered"), answered}, {t("dash.chart.handoffs"), handoffs}}},
		{ID: "chart-rates", Title: t("dash.chart.rates_per_day"), Percent: true,
			Desc:   t("dash.chart.rates_desc", d.AnsweredShare()*100, d.HelpfulRate()*100),
			Labels: days, Series: []series{{t("dash.chart.answered_share"), share}, {t("dash.chart.helpful_rate"), helpful}}},
		{ID: "chart-entries", Title: t("dash.chart.top_entries"),
			Desc:   t("dash.chart.top_entries_desc", len(entries)),
			Labels: entries, Series: []series{{t("dash.chart.answers"), counts}}},
	}
}
