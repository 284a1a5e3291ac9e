package faq_test

import (
	"fmt"
	"math/rand"
	"strings"
	"testing"

	"citybot/faq"
	"citybot/internal/german"
)

// benchQueries are representative citizen messages: short, long, typos,
// English, small talk, out of scope.
var benchQueries = []string{
	"perso verloren",
	"Was muss ich tun, wenn ich einen Bauantrag stellen will?",
	"Wertstofhof samstags offen?",
	"Steuer für meinen Hund, wie viel?",
	"How do I register a car in Musterstadt?",
	"Guten Tag, ich ziehe zum 1. Oktober für mein Studium von Hamburg nach Musterstadt. Muss ich mich bei Ihnen melden und was brauche ich dafür alles? Viele Grüße, Lena",
	"Wo bleibt mein Bauantrag Aktenzeichen 2024-113?",
	"Danke!",
	"Wie wird das Wetter morgen?",
	"Hundemarke verloren was kostet ne neue",
}

func BenchmarkMatch118(b *testing.B) {
	ix := demoIndex(b)
	for _, q := range benchQueries { // warm up: lazily built typo index, pools
		ix.Match(q)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ix.Match(benchQueries[i%len(benchQueries)])
	}
}

// generatedEntries builds n FAQ entries deterministically by recombining the
// demo FAQ's vocabulary (seeded rand), so the index has a realistic
// vocabulary size and term distribution.
func generatedEntries(tb testing.TB, n int) []faq.Entry {
	demo, _, _ := loadDemo(tb)
	var words []string
	seen := map[string]bool{}
	for _, e := range demo {
		for _, w := range strings.Fields(e.Question + " " + strings.Join(e.Variants, " ") + " " + e.Answer) {
			w = strings.Trim(w, ".,;:!?()\"„“–")
			if len([]rune(w)) >= 4 && !seen[w] {
				seen[w] = true
				words = append(words, w)
			}
		}
	}
	rng := rand.New(rand.NewSource(42))
	pick := func(k int) string {
		p := make([]string, k)
		for i := range p {
			p[i] = words[rng.Intn(len(words))]
		}
		return strings.Join(p, " ")
	}
	out := make([]faq.Entry, 0, n)
	for i := 0; i < n; i++ {
		base := demo[i%len(demo)]
		e := faq.Entry{
			ID:         fmt.Sprintf("gen-%05d", i),
			Department: base.Department,
			Question:   "Wie " + pick(4) + "?",
			Answer:     pick(45),
			Tags:       []string{pick(1), pick(1)},
		}
		for v := 0; v < 4; v++ {
			e.Variants = append(e.Variants, pick(2+rng.Intn(3)))
		}
		if i < len(demo) {
			e = demo[i] // keep the real entries in
		}
		out = append(out, e)
	}
	return out
}

func BenchmarkMatch10k(b *testing.B) {
	entries := generatedEntries(b, 10000)
	ix := faq.NewIndex(entries, german.DefaultSynonyms())
	for _, q := range benchQueries {
		ix.Match(q)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ix.Match(benchQueries[i%len(benchQueries)])
	}
}

func BenchmarkBuild10k(b *testing.B) {
	entries := generatedEntries(b, 10000)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		faq.NewIndex(entries, german.DefaultSynonyms())
	}
}

func BenchmarkBuild118(b *testing.B) {
	entries, _, _ := loadDemo(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		faq.NewIndex(entries, german.DefaultSynonyms())
	}
}

// The experimental parts: matching with the lexicon and the confidence
// model, and building an index with the lexicon (its first load, about
// 0.2 s, happens once per process, before the timer).
func BenchmarkMatch118LexiconModel(b *testing.B) {
	entries, _, _ := loadDemo(b)
	m, err := faq.DefaultModel()
	if err != nil {
		b.Fatal(err)
	}
	opts := faq.DefaultOptions()
	opts.Lexicon, opts.Model = true, m
	ix := faq.NewIndexWithOptions(entries, german.DefaultSynonyms(), opts)
	for _, q := range benchQueries {
		ix.Match(q)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ix.Match(benchQueries[i%len(benchQueries)])
	}
}

// BenchmarkMatch118ThresholdsOnly: the score thresholds without the
// confidence model that checks them by default (Options.Gate nil).
func BenchmarkMatch118ThresholdsOnly(b *testing.B) {
	entries, _, _ := loadDemo(b)
	opts := faq.DefaultOptions()
	opts.Gate = nil
	ix := faq.NewIndexWithOptions(entries, german.DefaultSynonyms(), opts)
	for _, q := range benchQueries {
		ix.Match(q)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ix.Match(benchQueries[i%len(benchQueries)])
	}
}

func BenchmarkBuild118Lexicon(b *testing.B) {
	entries, _, _ := loadDemo(b)
	opts := faq.DefaultOptions()
	opts.Lexicon = true
	german.DefaultLexicon()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		faq.NewIndexWithOptions(entries, german.DefaultSynonyms(), opts)
	}
}

// BenchmarkLexiconLoad: decompressing and indexing the embedded lexicon,
// which a process does once (german.DefaultLexicon).
func BenchmarkLexiconLoad(b *testing.B) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		german.LoadLexicon()
	}
}
