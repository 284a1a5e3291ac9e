package faq

import (
	"strings"
	"testing"
)

func TestDiffText(t *testing.T) {
	render := func(ops []DiffOp) string {
		return EntryDiff{Fields: []FieldDiff{{Field: "x", Changed: true, Ops: ops}}}.String()
	}
	for _, tc := range []struct{ a, b, want string }{
		{"", "", "x: \n"},
		{"gleich", "gleich", "x: gleich\n"},
		{"", "neu", "x: {+neu+}\n"},
		{"alt", "", "x: [-alt-]\n"},
		{"Die Gebühr beträgt 37 Euro.", "Die Gebühr beträgt 46 Euro.", "x: Die Gebühr beträgt [-37-]{+46+} Euro.\n"},
		{"a b c", "x y z", "x: [-a b c-]{+x y z+}\n"},
		{"Öffnungszeiten: Mo bis Fr", "Öffnungszeiten: Mo, Di und Fr", "x: Öffnungszeiten: Mo[- bis-]{+, Di und+} Fr\n"},
		{"Zeile eins\nZeile zwei", "Zeile eins\nZeile drei\nZeile vier", "x: Zeile eins\nZeile [-zwei-]{+drei\nZeile vier+}\n"},
	} {
		ops := DiffText(tc.a, tc.b)
		if got := render(ops); got != tc.want {
			t.Errorf("DiffText(%q, %q) = %q, want %q", tc.a, tc.b, got, tc.want)
		}
		// the equal and inserted parts give the new text, equal and deleted the old
		var na, nb strings.Builder
		for _, op := range ops {
			if op.Kind != DiffInsert {
				na.WriteString(op.Text)
			}
			if op.Kind != DiffDelete {
				nb.WriteString(op.Text)
			}
		}
		if na.String() != tc.a || nb.String() != tc.b {
			t.Errorf("DiffText(%q, %q) does not reproduce its inputs: %q / %q", tc.a, tc.b, na.String(), nb.String())
		}
	}
}

func TestDiffEntries(t *testing.T) {
	old := Entry{ID: "e", Department: "bauamt", Question: "Wie stelle ich einen Bauantrag?", Variants: []string{"a", "b", "c"},
		Tags: []string{"Bauen"}, Answer: "Im Bauamt.", Status: StatusDraft}
	new := old
	new.Variants = []string{"a", "c", "d"}
	new.Status = StatusPublished
	new.Department = "tiefbau"
	d := DiffEntries(old, new)
	want := "department: [-bauamt-]{+tiefbau+}\nstatus: [-draft-]{+published+}\nvariants:\n  a\n- b\n  c\n+ d\n"
	if got := d.String(); got != want {
		t.Fatalf("diff:\n%s\nwant:\n%s", got, want)
	}
	if !d.Changed() || len(d.Fields) != 6 {
		t.Fatalf("fields: %+v", d.Fields)
	}
	if DiffEntries(old, old).Changed() {
		t.Fatal("no change reported as change")
	}
	// The English answer shows when there is one.
	withEN := new
	withEN.AnswerEN = "In the building office."
	if d := DiffEntries(new, withEN); len(d.Fields) != 7 || !d.Changed() || !strings.Contains(d.String(), "answer_en") {
		t.Errorf("English answer diff: %s", d.String())
	}
	// A long answer rewritten completely stays cheap and correct.
	long := strings.Repeat("wort ", 5000)
	ops := DiffText(long, strings.Repeat("anders ", 5000))
	if len(ops) != 3 || ops[2].Text != " " || ops[0].Kind != DiffDelete || ops[1].Kind != DiffInsert {
		t.Fatalf("long diff: %d ops", len(ops))
	}
}
