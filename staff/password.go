package staff

import (
	_ "embed"
	"strings"
	"sync"
	"unicode"

	"github.com/trustelem/zxcvbn"
	"github.com/trustelem/zxcvbn/match"
)

// New passwords are judged by zxcvbn (github.com/trustelem/zxcvbn, a Go
// port of Dropbox's estimator): it estimates how many guesses an attacker
// needs, knowing common passwords, words, names, keyboard patterns,
// sequences, repeats and dates. Score 3 (about 10^8 guesses) is required.
// Its dictionaries are English; passwords_de.txt adds common German
// passwords and words, and the user's own e-mail address and name count as
// known words too. Its feedback is given in the UI's language by the kind
// of the weakest part (PasswordProblem).

// The keys PasswordProblem returns are message keys of the web UI's
// catalog ("password.common", ...); passwordProblemText says them in
// English for the command line.

// minPasswordScore is the zxcvbn score a new password needs (0..4).
const minPasswordScore = 3

//go:embed passwords_de.txt
var germanPasswordsFile string

var germanPasswords = sync.OnceValue(func() []string {
	var out []string
	for _, l := range strings.Split(germanPasswordsFile, "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return out
})

// PasswordProblem returns the message key of what makes pw weak, or "".
// userInputs are words the user's password must not rest on (e-mail
// address, name).
func PasswordProblem(pw string, userInputs ...string) string {
	core := strings.ToLower(strings.TrimFunc(pw, func(r rune) bool { return !unicode.IsLetter(r) }))
	for _, w := range germanPasswords() {
		if core == w || strings.ToLower(pw) == w {
			return "password.common"
		}
	}
	letters := func(s string) string {
		return strings.Map(func(r rune) rune {
			if unicode.IsLetter(r) {
				return unicode.ToLower(r)
			}
			return -1
		}, s)
	}
	// The password spelling out the e-mail's local part or the name, with
	// digits and symbols around or between: personal.
	for _, in := range userInputs {
		local, _, _ := strings.Cut(in, "@")
		if l := letters(local); len(l) >= 4 && strings.Contains(letters(pw), l) {
			return "password.personal"
		}
	}
	var inputs []string
	for _, in := range userInputs {
		in = strings.ToLower(in)
		inputs = append(inputs, in)
		inputs = append(inputs, strings.FieldsFunc(in, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })...)
	}
	res := zxcvbn.PasswordStrength(pw, append(inputs, germanPasswords()...))
	if res.Score >= minPasswordScore {
		return ""
	}
	// The longest part of the weakest kind names the problem.
	var worst *match.Match
	for _, m := range res.Sequence {
		if m.Pattern == "bruteforce" {
			continue
		}
		if worst == nil || m.J-m.I > worst.J-worst.I {
			worst = m
		}
	}
	if worst == nil {
		return "password.weak"
	}
	switch worst.Pattern {
	case "dictionary":
		switch {
		case worst.DictionaryName == "user_inputs" && isUserInput(worst.MatchedWord, inputs):
			return "password.personal"
		case worst.DictionaryName == "passwords" || worst.DictionaryName == "user_inputs":
			return "password.common"
		case worst.DictionaryName == "surnames" || worst.DictionaryName == "male_names" || worst.DictionaryName == "female_names":
			return "password.name"
		}
		return "password.word"
	case "spatial":
		return "password.keyboard"
	case "repeat":
		return "password.repeat"
	case "sequence":
		return "password.sequence"
	case "date", "regex":
		return "password.date"
	}
	return "password.weak"
}

func isUserInput(w string, inputs []string) bool {
	for _, in := range inputs {
		if in == w {
			return true
		}
	}
	return false
}

// passwordProblemText are PasswordProblem's keys in English, for errors
// outside the web UI (citybot user add).
var passwordProblemText = map[string]string{
	"password.common":   "This password is too common; attackers try it among the first.",
	"password.personal": "The password rests on your name or e-mail address and is easy to guess.",
	"password.name":     "The password rests on a common first name or surname and is easy to guess.",
	"password.word":     "A single word, even with digits or symbols, is easy to guess.",
	"password.keyboard": "Keyboard patterns such as \"qwerty\" or \"asdf\" are easy to guess.",
	"password.repeat":   "Repeats such as \"aaaa\" or \"abcabc\" are easy to guess.",
	"password.sequence": "Sequences such as \"1234\" or \"abcd\" are easy to guess.",
	"password.date":     "Years and dates are easy to guess.",
	"password.weak":     "The password is too easy to guess.",
}
