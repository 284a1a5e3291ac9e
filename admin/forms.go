package admin

import (
	"sort"
	"unicode/utf8"

	"citybot/staff"
)

// Validation of the users, departments and account forms: an invalid post
// shows the same form again with what was typed (never a password), a
// message next to each wrong field and a summary above the form that links
// to the fields (partial "form_errors" in templates/partials/forms.html).

// maxPasswordBytes is bcrypt's input limit (hashPasswordCost refuses more).
const maxPasswordBytes = 72

// summaryEntry is one entry of a form's error summary.
type summaryEntry struct {
	Field   string // id of the field, the link target
	Message string
}

// errorSummary lists the messages of errs in the order of the form's fields
// (order); fields not named there follow by name.
func errorSummary(errs map[string]string, order []string) []summaryEntry {
	var out []summaryEntry
	seen := map[string]bool{}
	for _, k := range order {
		if m, ok := errs[k]; ok {
			out = append(out, summaryEntry{Field: k, Message: m})
			seen[k] = true
		}
	}
	var rest []string
	for k := range errs {
		if !seen[k] {
			rest = append(rest, k)
		}
	}
	sort.Strings(rest)
	for _, k := range rest {
		out = append(out, summaryEntry{Field: k, Message: errs[k]})
	}
	return out
}

// newPasswordError is the message for a new password that hashPassword
// would refuse, or "" when it is acceptable; userInputs (the user's e-mail
// address and name) must not be what the password rests on.
func newPasswordError(p *page, pw string, userInputs ...string) string {
	switch {
	case pw == "":
		return p.T("form.err.password_empty")
	case utf8.RuneCountInString(pw) < minPasswordLen:
		return p.T("form.err.password_short", minPasswordLen)
	case len(pw) > maxPasswordBytes:
		return p.T("form.err.password_long", maxPasswordBytes)
	}
	if key := staff.PasswordProblem(pw, userInputs...); key != "" {
		return p.T(key) + " " + p.T("password.hint")
	}
	return ""
}
