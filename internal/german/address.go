package german

import (
	"regexp"
	"strings"
)

// addressRe matches a street address with a house number in folded text
// ("ahornweg 7", "lindenstrasse 12", "vor nr. 8").
var addressRe = regexp.MustCompile(`\b\w+(?:strasse|str|weg|allee|platz|gasse|ring|damm|ufer|pfad|chaussee|markt|steig)\.?\s+\d+[a-z]?\b|\b(?:vor|neben|gegenuber)\s+(?:nr|hausnummer)\.?\s*\d+|\bhausnummer\s+\d+|\becke\s+\w+(?:strasse|str|weg|allee)\b|\w+(?:strasse|str|weg|allee)\s*/\s*\w+(?:strasse|str|weg|allee)\b|\bfeld\s+\d+|\breihe\s+\d+`)

// AddressPattern is the pattern of a street address with a house number in
// folded text (Fold): the matcher counts it as a personal cue. The regexp is
// shared and safe for concurrent use.
func AddressPattern() *regexp.Regexp { return addressRe }

// StripAddresses folds text, collapses its white space and removes street
// addresses with house numbers ("Ahornweg 7", "vor Nr. 8"): they locate a
// report but are not its topic.
func StripAddresses(text string) string {
	return addressRe.ReplaceAllString(strings.Join(strings.Fields(Fold(text)), " "), " ")
}
