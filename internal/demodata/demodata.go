// Package demodata ships the demo city's dataset (departments, FAQ, and a
// development question set) inside the binary, so a fresh clone can run and
// test without anything outside the repository.
package demodata

import "embed"

// FS holds departments.json, faq.json and dev_questions.jsonl.
//
//go:embed departments.json faq.json dev_questions.jsonl
var FS embed.FS
