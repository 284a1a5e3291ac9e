// Package german is the project's German-first text analysis: folding (case,
// umlauts, ß), tokenisation, stopwords, stemming, compound splitting,
// synonyms, typo tolerance, the content part of long messages and small-talk
// recognition. It imports nothing of the project; faq (matching) and routing
// (department classification) build on it.
package german
