package german

// Synonym maps an everyday word or phrase to the official term the FAQ uses
// ("Perso" -> "Personalausweis").
type Synonym struct {
	Term      string `json:"term" db:"term"`
	Canonical string `json:"canonical" db:"canonical"`
}
