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

// formMessages are the texts of the users, departments and account forms'
// validation, German first.
func formMessages() catalog {
	return catalog{
		"de": {
			"form.err.summary":              "Bitte korrigieren Sie die markierten Angaben:",
			"form.err.password_empty":       "Bitte geben Sie ein Passwort ein.",
			"form.err.password_short":       "Das Passwort ist zu kurz. Bitte verwenden Sie mindestens %d Zeichen.",
			"form.err.password_long":        "Das Passwort ist zu lang. Bitte verwenden Sie höchstens %d Zeichen; Umlaute und andere Sonderzeichen zählen dabei mehrfach.",
			"users.err.email_empty":         "Bitte geben Sie die E-Mail-Adresse ein.",
			"users.err.email":               "Bitte geben Sie eine gültige E-Mail-Adresse ein, zum Beispiel name@stadt.example.",
			"users.err.email_taken":         "Diese E-Mail-Adresse hat schon ein anderer Benutzer. Bitte geben Sie eine andere ein oder bearbeiten Sie den vorhandenen Benutzer.",
			"users.err.name":                "Bitte geben Sie den Namen ein.",
			"users.err.role":                "Bitte wählen Sie eine Rolle aus der Liste.",
			"users.err.language":            "Bitte wählen Sie eine Sprache aus der Liste.",
			"users.err.departments":         "Bitte wählen Sie nur Ämter aus der Liste.",
			"users.err.self_role":           "Sie können sich die Rolle „Administration“ nicht selbst entziehen. Bitte behalten Sie diese Rolle oder bitten Sie eine andere Person mit Administrationsrechten.",
			"users.err.self_active":         "Sie können Ihr eigenes Konto nicht deaktivieren. Bitte lassen Sie „aktiv“ angekreuzt oder bitten Sie eine andere Person mit Administrationsrechten.",
			"users.err.not_saved":           "Die Angaben wurden nicht gespeichert, weil sich inzwischen etwas geändert hat (zum Beispiel wurde ein Amt gelöscht). Bitte prüfen Sie das Formular und speichern Sie erneut.",
			"departments.err.name":          "Bitte geben Sie den Namen des Amts ein.",
			"departments.err.email":         "Bitte geben Sie eine gültige E-Mail-Adresse ein, zum Beispiel bauamt@stadt.example, oder lassen Sie das Feld leer.",
			"departments.err.phone":         "Bitte geben Sie eine Telefonnummer aus Ziffern ein, zum Beispiel 0911 231-0. Erlaubt sind außerdem Leerzeichen, Klammern, Punkte sowie die Zeichen +, / und -.",
			"departments.err.hours_format":  "„%s“ ist kein Zeitraum. Bitte schreiben Sie Zeiträume wie 08:00-12:00, mehrere durch Komma getrennt, oder lassen Sie das Feld leer.",
			"departments.err.hours_order":   "Der Zeitraum %s endet nicht nach seinem Beginn. Bitte geben Sie zuerst die frühere Uhrzeit an, zum Beispiel 08:00-12:00.",
			"departments.err.hours_overlap": "Die Zeiträume überschneiden sich oder stehen nicht in zeitlicher Reihenfolge. Bitte ordnen Sie sie nach der Uhrzeit, ohne Überschneidung, zum Beispiel 08:00-12:00, 14:00-16:00.",
			"departments.err.hours":         "Die Sprechzeiten sind nicht gültig. Bitte schreiben Sie Zeiträume wie 08:00-12:00.",
			"departments.err.retention":     "Bitte geben Sie eine ganze Zahl von %d bis %d ein oder lassen Sie das Feld leer.",
			"account.err.current_empty":     "Bitte geben Sie Ihr aktuelles Passwort ein.",
			"account.err.current_wrong":     "Das aktuelle Passwort ist nicht richtig. Bitte geben Sie das Passwort ein, mit dem Sie sich anmelden.",
		},
		"en": {
			"form.err.summary":              "Please correct the marked fields:",
			"form.err.password_empty":       "Please enter a password.",
			"form.err.password_short":       "The password is too short. Please use at least %d characters.",
			"form.err.password_long":        "The password is too long. Please use at most %d characters; umlauts and other special characters count more than once.",
			"users.err.email_empty":         "Please enter the email address.",
			"users.err.email":               "Please enter a valid email address, for example name@stadt.example.",
			"users.err.email_taken":         "Another user already has this email address. Please enter a different one or edit the existing user.",
			"users.err.name":                "Please enter the name.",
			"users.err.role":                "Please choose a role from the list.",
			"users.err.language":            "Please choose a language from the list.",
			"users.err.departments":         "Please choose only departments from the list.",
			"users.err.self_role":           "You cannot take the role “Administrator” from yourself. Please keep this role, or ask another administrator.",
			"users.err.self_active":         "You cannot deactivate your own account. Please leave “active” checked, or ask another administrator.",
			"users.err.not_saved":           "Nothing was saved because something changed meanwhile (a department was deleted, for example). Please check the form and save again.",
			"departments.err.name":          "Please enter the department's name.",
			"departments.err.email":         "Please enter a valid email address, for example bauamt@stadt.example, or leave the field empty.",
			"departments.err.phone":         "Please enter a phone number made of digits, for example 0911 231-0. Spaces, brackets, dots and the characters +, / and - are allowed too.",
			"departments.err.hours_format":  "“%s” is not a time span. Please write spans like 08:00-12:00, several separated by commas, or leave the field empty.",
			"departments.err.hours_order":   "The span %s does not end after it starts. Please give the earlier time first, for example 08:00-12:00.",
			"departments.err.hours_overlap": "The spans overlap or are not in order of time. Please order them by time, without overlap, for example 08:00-12:00, 14:00-16:00.",
			"departments.err.hours":         "The office hours are not valid. Please write spans like 08:00-12:00.",
			"departments.err.retention":     "Please enter a whole number from %d to %d, or leave the field empty.",
			"account.err.current_empty":     "Please enter your current password.",
			"account.err.current_wrong":     "The current password is not correct. Please enter the password you log in with.",
		},
	}
}
