package faq

import (
	"encoding/csv"
	"io"
	"strconv"
	"strings"
	"time"
)

// WriteDashboardCSV writes the dashboard's numbers as CSV in four sections
// separated by an empty line, each with its own header row: the summary
// (metric,value), the days, the top entries and the top unanswered topics.
// Rates are fractions with four decimals (0.8125), days ISO dates.
func WriteDashboardCSV(w io.Writer, d Dashboard) error {
	cw := csv.NewWriter(w)
	itoa := strconv.Itoa
	rate := func(f float64) string { return strconv.FormatFloat(f, 'f', 4, 64) }
	rows := [][]string{
		{"metric", "value"},
		{"from", d.Period.From.Format(time.RFC3339)},
		{"to", d.Period.To.Format(time.RFC3339)},
		{"time_zone", d.Period.TZ},
		{"messages", itoa(d.Messages)},
		{"conversations", itoa(d.Conversations)},
		{"questions", itoa(d.Questions())},
		{"answered", itoa(d.Answered)},
		{"answered_share", rate(d.AnsweredShare())},
		{"handoffs", itoa(d.Handoffs)},
		{"handoff_conversations", itoa(d.HandoffConvs)},
		{"handoff_rate", rate(d.HandoffRate())},
		{"helpful", itoa(d.Helpful)},
		{"not_helpful", itoa(d.NotHelpful)},
		{"helpful_rate", rate(d.HelpfulRate())},
		{},
		{"day", "messages", "conversations", "answered", "handoffs", "handoff_conversations", "helpful", "not_helpful"},
	}
	for _, ds := range d.Days {
		rows = append(rows, []string{ds.Day.Format("2006-01-02"), itoa(ds.Messages), itoa(ds.Conversations), itoa(ds.Answered),
			itoa(ds.Handoffs), itoa(ds.HandoffConvs), itoa(ds.Helpful), itoa(ds.NotHelpful)})
	}
	rows = append(rows, []string{}, []string{"entry_id", "question", "answers", "helpful", "not_helpful"})
	for _, e := range d.TopEntries {
		rows = append(rows, []string{e.EntryID, e.Question, itoa(e.Answers), itoa(e.Helpful), itoa(e.NotHelpful)})
	}
	rows = append(rows, []string{}, []string{"unanswered_terms", "count", "last_seen", "entry_id", "sample"})
	for _, t := range d.TopUnanswered {
		rows = append(rows, []string{strings.Join(t.Terms, " "), itoa(t.Count), t.LastSeen.Format(time.RFC3339), t.EntryID, t.Sample})
	}
	rows = append(rows, []string{}, []string{"department", "cases", "replied", "median_first_reply_seconds"})
	for _, r := range d.FirstReply {
		rows = append(rows, []string{r.Department, itoa(r.Cases), itoa(r.Replied), strconv.FormatInt(int64(r.Median/time.Second), 10)})
	}
	for _, r := range rows {
		if len(r) == 0 {
			// csv.Writer writes nothing for an empty record; a section break is an empty line.
			cw.Flush()
			if _, err := io.WriteString(w, "\n"); err != nil {
				return err
			}
			continue
		}
		if err := cw.Write(neutralise(r)); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// neutralise prefixes cells that a spreadsheet would run as a formula
// (=, +, -, @, tab or CR at the start) with an apostrophe, and so also
// cells that look neutralised already ('=...: one more); numbers are left
// alone.
func neutralise(r []string) []string {
	out := make([]string, len(r))
	for i, c := range r {
		out[i] = c
		if c == "" {
			continue
		}
		if _, err := strconv.ParseFloat(c, 64); err == nil {
			continue
		}
		if formulaLike(c) {
			out[i] = "'" + c
		}
	}
	return out
}
