package main

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestBuildEnglish(t *testing.T) {
	ding := `# Version :: test
etw. beantragen {vt} (bei jdm.) | beantragend | beantragt :: to apply for sth. (to sb.) | applying for | applied for
Miete {f}; Pacht {f} | Mieten {pl}; Pachten {pl} | Miete bezahlen :: rent | rents | to pay rent
sterben {vi} [biol.] [med.] | sterbend | gestorben :: to die | dying | died
Aalstrich {m} [zool.] :: eel stripe
und {conj} :: and
`
	path := filepath.Join(t.TempDir(), "de-en")
	if err := os.WriteFile(path, []byte(ding), 0o644); err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{"beantragen": true, "beantragt": true, "miete": true, "mieten": true, "pacht": true, "pachten": true, "sterben": true, "gestorben": true, "und": true}
	lines, err := buildEnglish(path, known)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"applied\tbeantragt",
		"apply\tbeantragen",
		"die\tsterben",
		"died\tgestorben",
		"rent\tmiete;pacht",
		"rents\tmieten;pachten",
	}
	if !slices.Equal(lines, want) {
		t.Errorf("buildEnglish:\n got %q\nwant %q", lines, want)
	}
}
