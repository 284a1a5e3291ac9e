package faq

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"slices"
	"strings"
	"testing"

	"citybot/internal/dbtest"
	"citybot/staff"
)

func TestCSVRoundTrip(t *testing.T) {
	ctx := context.Background()
	f := newEditorFixture(t)
	var buf bytes.Buffer
	if err := f.s.ExportCSV(ctx, &buf); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(buf.String(), "id,department,question,variants,answer,tags,status,answer_en\n") {
		t.Fatalf("header: %q", buf.String()[:80])
	}
	ds, err := ReadCSV(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	orig := demoDataset(t)
	if len(ds.Entries) != len(orig.Entries) {
		t.Fatalf("read %d entries", len(ds.Entries))
	}
	want := map[string]Entry{}
	for _, e := range orig.Entries {
		e.Status = StatusPublished
		want[e.ID] = e
	}
	english := 0
	for _, e := range ds.Entries {
		if e.AnswerEN != "" {
			english++
		}
		if !sameContent(CleanEntry(want[e.ID]), e) {
			t.Fatalf("entry %s changed in the round trip:\n%+v\n%+v", e.ID, want[e.ID], e)
		}
	}
	// Importing the unchanged file changes nothing; into an empty FAQ it creates all.
	st, err := f.s.ImportCSV(ctx, f.admin, bytes.NewReader(buf.Bytes()))
	if err != nil || st.EntriesCreated != 0 || st.EntriesUpdated != 0 {
		t.Fatalf("re-import: %+v %v", st, err)
	}
	s2 := NewStore(dbtest.New(t))
	if _, err := s2.Import(ctx, Dataset{Departments: orig.Departments}); err != nil {
		t.Fatal(err)
	}
	st, err = s2.ImportCSV(ctx, staff.Principal{Role: staff.RoleAdmin}, bytes.NewReader(buf.Bytes()))
	if err != nil || st.EntriesCreated != len(orig.Entries) {
		t.Fatalf("import into empty FAQ: %+v %v", st, err)
	}
	// An editor's change in a spreadsheet (semicolons, BOM, CRLF) updates one entry with a revision.
	sheet := "\ufeffid;department;question;variants;answer;tags\r\n" +
		"bauantrag-stellen;bauamt;Wie stelle ich einen Bauantrag?;Bauantrag stellen | Bauantrag online;\"Online, über das Bauportal.\nMehr im Bauamt.\";Bauen | Online\r\n"
	st, err = f.s.ImportCSV(ctx, f.editor, strings.NewReader(sheet))
	if err != nil || st.EntriesUpdated != 1 {
		t.Fatalf("spreadsheet import: %+v %v", st, err)
	}
	e, _ := f.s.Entry(ctx, "bauantrag-stellen")
	if e.Answer != "Online, über das Bauportal.\nMehr im Bauamt." || strings.Join(e.Variants, "|") != "Bauantrag stellen|Bauantrag online" || e.Status != StatusPublished {
		t.Fatalf("imported: %+v", e)
	}
	if h, _ := f.s.History(ctx, e.ID); len(h) != 2 || h[0].Action != ActionImport || h[0].AuthorID != f.editor.ID {
		t.Fatalf("history: %+v", h)
	}
	// English answers went through the round trip, and a sheet without
	// the answer_en column keeps the stored one.
	if english < 20 || !strings.HasPrefix(e.AnswerEN, "You submit a building application") {
		t.Errorf("English answers: %d in the export; after the sheet import %q", english, e.AnswerEN)
	}
	sheet = "id,department,question,answer,answer_en\n" +
		"bauantrag-stellen,bauamt,Wie stelle ich einen Bauantrag?,Online.,Online via the building portal.\n"
	if st, err = f.s.ImportCSV(ctx, f.editor, strings.NewReader(sheet)); err != nil || st.EntriesUpdated != 1 {
		t.Fatalf("sheet with English: %+v %v", st, err)
	}
	if e, _ = f.s.Entry(ctx, "bauantrag-stellen"); e.AnswerEN != "Online via the building portal." {
		t.Errorf("English answer from the sheet = %q", e.AnswerEN)
	}
}

// Variants and tags with "|" in them survive export and import; the older
// one-line form with "|" between items is still read.
func TestCSVListsRoundTrip(t *testing.T) {
	in := []Entry{{ID: "a", Department: "bauamt", Question: "Frage?", Answer: "Antwort.",
		Variants: []string{"Bauantrag | Bauanzeige: was gilt?", "A|B", "ganz normal"}, Tags: []string{"Bauen|Wohnen", "x"}, Status: StatusDraft}}
	var buf bytes.Buffer
	if err := WriteCSV(&buf, in); err != nil {
		t.Fatal(err)
	}
	ds, err := ReadCSV(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds.Entries) != 1 || !slices.Equal(ds.Entries[0].Variants, in[0].Variants) || !slices.Equal(ds.Entries[0].Tags, in[0].Tags) {
		t.Fatalf("round trip: %+v", ds.Entries)
	}
	old := "id;department;question;variants;answer;tags\r\na;bauamt;Frage?;eins | zwei;Antwort.;Bauen|Wohnen\r\n"
	ds, err = ReadCSV(strings.NewReader(old))
	if err != nil {
		t.Fatal(err)
	}
	if got := ds.Entries[0]; !slices.Equal(got.Variants, []string{"eins", "zwei"}) || !slices.Equal(got.Tags, []string{"Bauen", "Wohnen"}) {
		t.Fatalf("one-line lists: %+v", got)
	}
	// A variant is one line: a line break in it is refused on import.
	bad := Dataset{Departments: []Department{{ID: "bauamt", Name: "Bauamt"}}, Entries: []Entry{{ID: "a", Department: "bauamt",
		Question: "Frage?", Answer: "Antwort.", Variants: []string{"zwei\nZeilen"}}}}
	if err := bad.Validate(nil); err == nil || !strings.Contains(err.Error(), "one line") {
		t.Errorf("variant with a line break: %v", err)
	}
}

func TestBadCSVNamesItemAndFieldAndWritesNothing(t *testing.T) {
	ctx := context.Background()
	f := newEditorFixture(t)
	var buf bytes.Buffer
	if err := f.s.ExportCSV(ctx, &buf); err != nil {
		t.Fatal(err)
	}
	// The export with a bad row after the fourth entry (cells may span lines).
	recs, err := csv.NewReader(bytes.NewReader(buf.Bytes())).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	recs = slices.Insert(recs, 5, []string{"kaputt", "bauamt", "", "", "", "", ""})
	var withBad bytes.Buffer
	w := csv.NewWriter(&withBad)
	if err := w.WriteAll(recs); err != nil {
		t.Fatal(err)
	}
	good := "id,department,question,variants,answer,tags,status\n" +
		"neu-eins,bauamt,Erste neue Frage?,,Antwort eins.,,published\n"
	for _, tc := range []struct{ name, csv, want string }{
		{"empty answer", good + "neu-zwei,bauamt,Zweite neue Frage?,,\"  \",,\n", `faq.csv: item 2 (id "neu-zwei"): field "answer": must not be empty`},
		{"unknown department", good + "neu-zwei,raumfahrt,Zweite?,,A.,,\n", `faq.csv: item 2 (id "neu-zwei"): field "department": unknown department "raumfahrt"`},
		{"bad status", good + "neu-zwei,bauamt,Zweite?,,A.,,live\n", `faq.csv: item 2 (id "neu-zwei"): field "status"`},
		{"variant of another entry", good + "neu-zwei,bauamt,Zweite?,Bauantrag stellen,A.,,\n", `faq.csv: item 2 (id "neu-zwei"): field "variants[0]": "Bauantrag stellen" is already a question or variant of entry "bauantrag-stellen"`},
		{"unknown column", "id,department,question,answer,colour\n", `faq.csv: field "colour": unknown column`},
		{"missing column", "id,department,question\n", `faq.csv: field "answer": required column is missing`},
		{"too many cells", good + "neu-zwei,bauamt,Zweite?,,A.,,,extra\n", `faq.csv: item 2 (id "neu-zwei"): has 8 cells`},
		{"broken quotes", good + "neu-zwei,bauamt,\"Zweite?,,A.,,\n", `faq.csv: item 2: line 3`},
		{"not UTF-8", "id,department,question,answer\nx,bauamt,Stra\xdfe?,A.\n", `not valid UTF-8`},
		{"whole export with one bad row", withBad.String(), `faq.csv: item 5 (id "kaputt"): field "question": must not be empty`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r0 := f.count(t, `SELECT count(*) FROM faq_revisions`)
			_, err := f.s.ImportCSV(ctx, f.admin, strings.NewReader(tc.csv))
			if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, ErrInvalid) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			if n := f.count(t, `SELECT count(*) FROM faq_entries`); n != 118 {
				t.Fatalf("entries: %d", n)
			}
			if n := f.count(t, `SELECT count(*) FROM faq_entries WHERE id LIKE 'neu-%'`); n != 0 {
				t.Fatal("a valid row of a bad file was written")
			}
			if n := f.count(t, `SELECT count(*) FROM faq_revisions`); n != r0 {
				t.Fatal("revisions written")
			}
		})
	}
}

// TestCSVFormulaCells: cells a spreadsheet would run as a formula are
// written with an apostrophe in front, and read back unchanged.
func TestCSVFormulaCells(t *testing.T) {
	bad := []string{`=HYPERLINK("http://evil.example","Klick")`, "+49 221 12345", "-1+2", "@SUM(A1:A2)", "\t=1+1", "\r=1+1"}
	in := Entry{ID: "formel", Department: "bauamt", Question: bad[0], Variants: []string{bad[1], "normal"}, Answer: bad[2],
		Tags: []string{bad[3]}, Status: StatusPublished}
	in2 := Entry{ID: "formel-2", Department: "bauamt", Question: bad[4], Answer: bad[5], Status: StatusPublished}
	// A text that itself starts with an apostrophe before a formula
	// character keeps it (the import takes off only the export's one).
	in3 := Entry{ID: "formel-3", Department: "bauamt", Question: "'=A1 ist keine Formel", Answer: "'+49 bleibt so", Status: StatusPublished}
	var buf bytes.Buffer
	if err := WriteCSV(&buf, []Entry{in, in2, in3}); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(bytes.NewReader(buf.Bytes())).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for _, rec := range recs[1:] {
		for i, cell := range rec {
			if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
				t.Errorf("column %s starts with a formula character: %q", recs[0][i], cell)
			}
		}
	}
	ds, err := ReadCSV(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if len(ds.Entries) != 3 || ds.Entries[2].Question != in3.Question || ds.Entries[2].Answer != in3.Answer || ds.Entries[0].Question != in.Question || !slices.Equal(ds.Entries[0].Variants, in.Variants) ||
		ds.Entries[0].Answer != in.Answer || !slices.Equal(ds.Entries[0].Tags, in.Tags) || ds.Entries[1].Question != strings.TrimSpace(in2.Question) {
		t.Fatalf("round trip changed the entries: %+v", ds.Entries)
	}
}
