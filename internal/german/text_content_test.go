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
