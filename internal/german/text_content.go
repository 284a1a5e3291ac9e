package german

import (
	"regexp"
	"strings"
)

// ContentPart returns the content-bearing part of a message: leading
// greetings ("Hallo zusammen,", "Sehr geehrte Damen und Herren,") and
// trailing sign-offs ("Viele Grüße, Lena", "Danke im Voraus!") are dropped,
// so that a long message is scored on what it asks, not on its politeness.
// When nothing would remain, text is returned unchanged.
func ContentPart(text string) string {
	clauses := splitClauses(text)
	start, end := 0, len(clauses)
	for start < end && isGreetingClause(clauses[start]) {
		start++
	}
	signedOff := false
	for end > start {
		c := clauses[end-1]
		if isSignOffClause(c) {
			end--
			signedOff = true
			continue
		}
		// a name after a sign-off: "Viele Grüße, Lena" / "LG Tom Meier"
		if !signedOff && end-2 >= start && isSignOffClause(clauses[end-2]) && isNameClause(c) {
			end -= 2
			signedOff = true
			continue
		}
		break
	}
	if start == 0 && end == len(clauses) {
		return text
	}
	if start >= end {
		return text
	}
	return strings.Join(clauses[start:end], " ")
}

// splitClauses splits text after sentence punctuation and commas, keeping
// the punctuation with its clause (it ends clauses for the analyzer too).
func splitClauses(text string) []string {
	var out []string
	last := 0
	for i, r := range text {
		switch r {
		case '.', ',', ';', '!', '?', '\n':
			if s := strings.TrimSpace(text[last : i+1]); s != "" {
				out = append(out, s)
			}
			last = i + 1
		}
	}
	if s := strings.TrimSpace(text[last:]); s != "" {
		out = append(out, s)
	}
	return out
}

var (
	reGreetClause = regexp.MustCompile(`^(?:sehr geehrte\w*|liebe[rs]?|hallo|hi|hey|moin|servus|guten (?:tag|morgen|abend)|gruss gott|dear|hello)\b[^.?!]{0,40}$`)
	reSignOff     = regexp.MustCompile(`^(?:(?:viele|liebe|beste|herzliche|freundliche|schone|mit freundlichen|mit besten|best|kind)\s+)?(?:grusse?n?|gruss|regards|wishes)\b|^(?:lg|mfg|vg|bg|cheers|thanks|thank you|danke|vielen dank|besten dank|danke schon|danke im voraus|vielen dank im voraus|thanks in advance)\b[^?]{0,25}$`)
)

// greetStarts and signOffStarts: a clause that starts with none of these
// cannot match reGreetClause or reSignOff (each branch of them is anchored
// at the start and begins with one of these words), and is not run through
// the regular expression: most clauses are neither, and the backtracking
// matcher allocates a bitmap the size of the expression times the clause.
var (
	greetStarts   = []string{"sehr geehrte", "liebe", "hallo", "hi", "hey", "moin", "servus", "guten ", "gruss gott", "dear", "hello"}
	signOffStarts = []string{"viele", "liebe", "best", "herzliche", "freundliche", "schone", "mit", "kind", "grus", "regards", "wishes",
		"lg", "mfg", "vg", "bg", "cheers", "thank", "danke"}
)

func hasAnyPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

func isGreetingClause(c string) bool {
	f := strings.TrimSpace(strings.Trim(Normalize(c), " "))
	if f == "" {
		return true
	}
	if k := Smalltalk(c); k != "" {
		return k == SmalltalkGreeting || k == SmalltalkAsk
	}
	return hasAnyPrefix(f, greetStarts) && reGreetClause.MatchString(f) && len(strings.Fields(f)) <= 5
}

func isSignOffClause(c string) bool {
	f := Normalize(c)
	if f == "" {
		return true
	}
	switch Smalltalk(c) {
	case SmalltalkThanks, SmalltalkGoodbye, SmalltalkOK:
		return true
	}
	return hasAnyPrefix(f, signOffStarts) && reSignOff.MatchString(f)
}

// isNameClause: one to three capitalised words, as a signature.
func isNameClause(c string) bool {
	ws := strings.Fields(strings.TrimRight(c, ".!"))
	if len(ws) == 0 || len(ws) > 3 {
		return false
	}
	for _, w := range ws {
		r := []rune(w)
		if len(r) < 2 || !(r[0] >= 'A' && r[0] <= 'Z' || r[0] == 'Ä' || r[0] == 'Ö' || r[0] == 'Ü') {
			return false
		}
	}
	return true
}
