package german

import "testing"

func TestStripAddresses(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"Schlagloch  im Ahornweg 7 seit Tagen", "schlagloch im   seit tagen"},
		{"Laterne vor Nr. 8 kaputt", "laterne   kaputt"},
		{"Müll an der Ecke Lindenstraße", "mull an der  "},
		{"Hausnummer 12 fehlt", "  fehlt"},
		{"Wann hat das Bürgerbüro offen?", "wann hat das burgerburo offen?"},
	} {
		if got := StripAddresses(tc.in); got != tc.want {
			t.Errorf("StripAddresses(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if !AddressPattern().MatchString("am marktplatz 3") {
		t.Error("AddressPattern does not match a folded address")
	}
}
