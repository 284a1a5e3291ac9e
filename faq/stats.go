package faq

import (
	"context"
	"fmt"
	"time"
)

// DefaultStatsTZ is the time zone days are counted in when a Period names none.
const DefaultStatsTZ = "Europe/Berlin"

// Period is a time window [From, To) for the dashboard, with the time zone
// whose calendar days the numbers are grouped by.
type Period struct {
	From, To time.Time
	TZ       string // IANA name; DefaultStatsTZ when empty
}

// LastDays is the period of the last n calendar days up to and including
// the day of now, in tz.
func LastDays(n int, now time.Time, tz string) (Period, error) {
	if tz == "" {
		tz = DefaultStatsTZ
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return Period{}, fmt.Errorf("time zone %q: %w", tz, err)
	}
	t := now.In(loc)
	end := time.Date(t.Year(), t.Month(), t.Day()+1, 0, 0, 0, 0, loc)
	return Period{From: end.AddDate(0, 0, -n), To: end, TZ: tz}, nil
}

// DayStats are one calendar day's numbers.
type DayStats struct {
	Day           time.Time // midnight in the period's time zone
	Messages      int       // messages citizens wrote
	Conversations int       // citizens who wrote that day
	Answered      int       // FAQ answers the bot gave (direct or a chosen suggestion)
	Handoffs      int       // cases opened in the staff inbox (handoffs)
	HandoffConvs  int       // citizens with at least one handoff that day
	Helpful       int       // answers rated "helped"
	NotHelpful    int       // answers rated "Nicht geholfen"
}

// EntryStats are the numbers of one FAQ entry's answers.
type EntryStats struct {
	EntryID    string `db:"entry_id"`
	Question   string `db:"question"`
	Answers    int    `db:"answers"`
	Helpful    int    `db:"helpful"`
	NotHelpful int    `db:"not_helpful"`
}

// UnansweredTopic is one group of similar unanswered questions.
type UnansweredTopic struct {
	Terms    []string
	Sample   string // newest text; only within retention
	Count    int
	LastSeen time.Time
	EntryID  string
}

// Dashboard holds the editors' numbers over a period.
//
// Definitions: a conversation is a citizen writing on a calendar day; a
// handoff is a case opened in the staff inbox; questions are the bot's
// answers plus the handoffs; the answered share is answers / questions; the
// handoff rate is conversations with a handoff / conversations; the helpful
// rate is "helped" / all ratings. The time to the first staff reply is
// measured per case opened in the period, from its opening to the first
// staff message of the case, grouped by the case's (current) department.
type Dashboard struct {
	Period Period
	Days   []DayStats

	Messages, Conversations, Answered, Handoffs, HandoffConvs, Helpful, NotHelpful int

	TopEntries    []EntryStats
	TopUnanswered []UnansweredTopic

	FirstReply []DepartmentReplyTime
}

// DepartmentReplyTime is the median time to the first staff reply of the
// cases a department got in the period.
type DepartmentReplyTime struct {
	Department string        `db:"department"`
	Name       string        `db:"name"`
	Cases      int           `db:"cases"`   // cases opened
	Replied    int           `db:"replied"` // of which staff replied to
	Median     time.Duration `db:"-"`       // over the replied cases
	MedianSec  float64       `db:"median_s"`
}

func ratio2(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// Questions is Answered + Handoffs.
func (d Dashboard) Questions() int { return d.Answered + d.Handoffs }

// AnsweredShare is the share of questions the bot answered (0..1).
func (d Dashboard) AnsweredShare() float64 { return ratio2(d.Answered, d.Questions()) }

// HelpfulRate is the share of rated answers rated helpful (0..1).
func (d Dashboard) HelpfulRate() float64 { return ratio2(d.Helpful, d.Helpful+d.NotHelpful) }

// HandoffRate is the share of conversations handed to staff (0..1).
func (d Dashboard) HandoffRate() float64 { return ratio2(d.HandoffConvs, d.Conversations) }

const statsTopN = 10

// Dashboard computes the numbers of period p. The unanswered topics only
// cover questions within retention.
func (s *Store) Dashboard(ctx context.Context, p Period, now time.Time) (Dashboard, error) {
	if p.TZ == "" {
		p.TZ = DefaultStatsTZ
	}
	loc, err := time.LoadLocation(p.TZ)
	if err != nil {
		return Dashboard{}, fmt.Errorf("time zone %q: %w", p.TZ, err)
	}
	if !p.To.After(p.From) {
		return Dashboard{}, &ValidationError{File: "period", Field: "to", Msg: "must be after from"}
	}
	if p.To.Sub(p.From) > 3*366*24*time.Hour {
		return Dashboard{}, &ValidationError{File: "period", Field: "from", Msg: "period is longer than three years"}
	}
	d := Dashboard{Period: p}
	byDay := map[string]*DayStats{}
	f := p.From.In(loc)
	for day := time.Date(f.Year(), f.Month(), f.Day(), 0, 0, 0, 0, loc); day.Before(p.To); day = day.AddDate(0, 0, 1) {
		d.Days = append(d.Days, DayStats{Day: day})
	}
	for i := range d.Days {
		byDay[d.Days[i].Day.Format("2006-01-02")] = &d.Days[i]
	}
	type dayRow struct {
		Day string `db:"day"`
		A   int    `db:"a"`
		B   int    `db:"b"`
		C   int    `db:"c"`
	}
	queries := []struct {
		q   string
		put func(ds *DayStats, r dayRow)
	}{
		{`SELECT to_char(created_at AT TIME ZONE $3, 'YYYY-MM-DD') AS day, count(*) AS a, count(DISTINCT citizen_id) AS b, 0 AS c
			FROM messages WHERE direction = 'in' AND created_at >= $1 AND created_at < $2 GROUP BY 1`,
			func(ds *DayStats, r dayRow) { ds.Messages, ds.Conversations = r.A, r.B }},
		{`SELECT to_char(created_at AT TIME ZONE $3, 'YYYY-MM-DD') AS day, count(*) AS a,
				count(*) FILTER (WHERE helpful) AS b, count(*) FILTER (WHERE NOT helpful) AS c
			FROM bot_answers WHERE created_at >= $1 AND created_at < $2 GROUP BY 1`,
			func(ds *DayStats, r dayRow) { ds.Answered, ds.Helpful, ds.NotHelpful = r.A, r.B, r.C }},
		{`SELECT to_char(created_at AT TIME ZONE $3, 'YYYY-MM-DD') AS day, count(*) AS a, count(DISTINCT citizen_id) AS b, 0 AS c
			FROM cases WHERE created_at >= $1 AND created_at < $2 GROUP BY 1`,
			func(ds *DayStats, r dayRow) { ds.Handoffs, ds.HandoffConvs = r.A, r.B }},
	}
	for _, q := range queries {
		var rows []dayRow
		if err := s.db.SelectContext(ctx, &rows, q.q, p.From, p.To, p.TZ); err != nil {
			return Dashboard{}, fmt.Errorf("dashboard: %w", err)
		}
		for _, r := range rows {
			if ds := byDay[r.Day]; ds != nil {
				q.put(ds, r)
			}
		}
	}
	for _, ds := range d.Days {
		d.Messages += ds.Messages
		d.Conversations += ds.Conversations
		d.Answered += ds.Answered
		d.Handoffs += ds.Handoffs
		d.HandoffConvs += ds.HandoffConvs
		d.Helpful += ds.Helpful
		d.NotHelpful += ds.NotHelpful
	}
	err = s.db.SelectContext(ctx, &d.TopEntries, `
		SELECT a.entry_id, coalesce(e.question, '') AS question, count(*) AS answers,
			count(*) FILTER (WHERE a.helpful) AS helpful, count(*) FILTER (WHERE NOT a.helpful) AS not_helpful
		FROM bot_answers a LEFT JOIN faq_entries e ON e.id = a.entry_id
		WHERE a.created_at >= $1 AND a.created_at < $2
		GROUP BY a.entry_id, e.question
		ORDER BY answers DESC, a.entry_id
		LIMIT $3`, p.From, p.To, statsTopN)
	if err != nil {
		return Dashboard{}, fmt.Errorf("dashboard: top entries: %w", err)
	}
	err = s.db.SelectContext(ctx, &d.FirstReply, `
		SELECT c.department_id AS department, coalesce(dep.name, c.department_id) AS name, count(*) AS cases,
			count(fr.first) AS replied,
			coalesce(percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM fr.first - c.created_at)), 0) AS median_s
		FROM cases c
		LEFT JOIN departments dep ON dep.id = c.department_id
		LEFT JOIN LATERAL (
			SELECT min(m.created_at) AS first FROM case_messages cm JOIN messages m ON m.id = cm.message_id
			WHERE cm.case_id = c.id AND m.sender = 'staff' AND m.created_at >= c.created_at) fr ON true
		WHERE c.created_at >= $1 AND c.created_at < $2
		GROUP BY c.department_id, dep.name
		ORDER BY c.department_id`, p.From, p.To)
	if err != nil {
		return Dashboard{}, fmt.Errorf("dashboard: first reply: %w", err)
	}
	for i := range d.FirstReply {
		d.FirstReply[i].Median = time.Duration(d.FirstReply[i].MedianSec * float64(time.Second)).Round(time.Second)
	}
	groups, err := s.UnansweredGroups(ctx, UnansweredFilter{Status: "all", From: p.From, To: p.To}, now)
	if err != nil {
		return Dashboard{}, err
	}
	for i, g := range groups {
		if i == statsTopN {
			break
		}
		d.TopUnanswered = append(d.TopUnanswered, UnansweredTopic{Terms: g.Terms, Sample: g.Sample, Count: g.Count, LastSeen: g.LastSeen, EntryID: g.EntryID})
	}
	return d, nil
}
