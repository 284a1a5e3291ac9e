package german

import "testing"

func TestContentPart(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Guten Tag, ich ziehe nach Musterstadt. Was brauche ich? Viele Grüße, Lena", "ich ziehe nach Musterstadt. Was brauche ich?"},
		{"Hallo zusammen, mein Ausweis läuft ab. Danke im Voraus!", "mein Ausweis läuft ab."},
		{"Hallo, wie beantrage ich einen Pass?", "wie beantrage ich einen Pass?"},
		{"Wie beantrage ich einen Pass?", "Wie beantrage ich einen Pass?"},
		{"Danke!", "Danke!"}, // nothing would remain: unchanged
	}
	for _, tt := range tests {
		if got := ContentPart(tt.in); got != tt.want {
			t.Errorf("ContentPart(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// The start words that spare most clauses the regular expressions are a
// necessary condition: every clause the expressions accept starts with one.
func TestClauseStarts(t *testing.T) {
	greetings := []string{"sehr geehrte damen und herren", "sehr geehrter herr meier", "liebe frau meier", "lieber herr x", "liebes team",
		"hallo", "hallo zusammen", "hi", "hey leute", "moin", "servus", "guten tag", "guten morgen", "guten abend zusammen", "gruss gott", "dear sir", "hello"}
	for _, f := range greetings {
		if !reGreetClause.MatchString(f) {
			t.Errorf("%q is no greeting to reGreetClause", f)
		}
		if !hasAnyPrefix(f, greetStarts) {
			t.Errorf("greeting %q starts with none of greetStarts", f)
		}
	}
	signOffs := []string{"viele grusse", "liebe grusse", "beste grusse", "herzliche grusse", "freundliche grusse", "schone grusse",
		"mit freundlichen grussen", "mit besten grussen", "best regards", "kind regards", "best wishes", "grusse", "gruss", "grussen",
		"regards", "wishes", "lg", "mfg", "vg", "bg", "cheers", "thanks", "thank you", "danke", "vielen dank", "besten dank", "danke schon",
		"danke im voraus", "vielen dank im voraus", "thanks in advance", "lg tom"}
	for _, f := range signOffs {
		if !reSignOff.MatchString(f) {
			t.Errorf("%q is no sign-off to reSignOff", f)
		}
		if !hasAnyPrefix(f, signOffStarts) {
			t.Errorf("sign-off %q starts with none of signOffStarts", f)
		}
	}
	for _, c := range []string{"Wie beantrage ich einen Reisepass?", "Hallo, ich brauche einen neuen Ausweis", "Viele Grüße, Lena", "Danke im Voraus!", "Mit freundlichen Grüßen"} {
		f := Normalize(c)
		if reGreetClause.MatchString(f) && !hasAnyPrefix(f, greetStarts) {
			t.Errorf("%q: greeting missed", c)
		}
		if reSignOff.MatchString(f) && !hasAnyPrefix(f, signOffStarts) {
			t.Errorf("%q: sign-off missed", c)
		}
	}
}
