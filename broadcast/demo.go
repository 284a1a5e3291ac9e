package broadcast

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"
)

// DemoTopics are the demo city's news topics (what /abo offers).
func DemoTopics() []TopicInput {
	return []TopicInput{
		{Slug: "warnungen", NameDE: "Warnungen", NameEN: "Warnings", Description: "Unwetter, Hochwasser, Stromausfall und andere Gefahren in Musterstadt.", Active: true, Sort: 10},
		{Slug: "baustellen", NameDE: "Baustellen & Verkehr", NameEN: "Roadworks & traffic", Description: "Sperrungen, Umleitungen und Baustellen im Stadtgebiet.", Active: true, Sort: 20},
		{Slug: "abfall", NameDE: "Müllabfuhr", NameEN: "Waste collection", Description: "Verschobene Abfuhrtermine, Sperrmüll- und Schadstoffaktionen.", Active: true, Sort: 30},
		{Slug: "veranstaltungen", NameDE: "Veranstaltungen", NameEN: "Events", Description: "Feste, Märkte und Termine der Stadt.", Active: true, Sort: 40},
		{Slug: "rathaus", NameDE: "Aus dem Rathaus", NameEN: "City hall news", Description: "Neuigkeiten der Verwaltung, geänderte Öffnungszeiten, Bürgerbeteiligung.", Active: true, Sort: 50},
	}
}

// ApplyDemoTopics creates the demo topics when the city has none yet.
func ApplyDemoTopics(ctx context.Context, q sqlx.ExtContext) (int, error) {
	var n int
	if err := sqlx.GetContext(ctx, q, &n, `SELECT count(*) FROM topics`); err != nil {
		return 0, fmt.Errorf("count topics: %w", err)
	}
	if n > 0 {
		return 0, nil
	}
	for _, in := range DemoTopics() {
		if err := in.normalize(); err != nil {
			return 0, err
		}
		if _, err := q.ExecContext(ctx, `
			INSERT INTO topics (slug, name_de, name_en, description, active, sort) VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (slug) DO NOTHING`, in.Slug, in.NameDE, in.NameEN, in.Description, in.Active, in.Sort); err != nil {
			return 0, fmt.Errorf("demo topic %s: %w", in.Slug, err)
		}
		n++
	}
	return n, nil
}
