package faq

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"citybot/internal/dbtest"
	"citybot/internal/demodata"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

func demoDataset(t *testing.T) Dataset {
	t.Helper()
	ds, err := ReadDatasetFS(demodata.FS)
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

func TestImportDemoIsIdempotent(t *testing.T) {
	ctx := context.Background()
	s := NewStore(dbtest.New(t))
	ds := demoDataset(t)
	st, err := s.Import(ctx, ds)
	if err != nil {
		t.Fatal(err)
	}
	if st.DepartmentsCreated != 14 || st.EntriesCreated != 118 {
		t.Fatalf("first import: %+v", st)
	}
	st, err = s.Import(ctx, ds)
	if err != nil {
		t.Fatal(err)
	}
	if st.DepartmentsCreated != 0 || st.EntriesCreated != 0 || st.EntriesUpdated != 0 {
		t.Fatalf("second import: %+v", st)
	}
	n, err := s.CountEntries(ctx)
	if err != nil || n != 118 {
		t.Fatalf("count = %d, %v", n, err)
	}
	e, err := s.Entry(ctx, "bauantrag-stellen")
	if err != nil {
		t.Fatal(err)
	}
	if e.Department != "bauamt" || len(e.Variants) == 0 || e.Status != StatusPublished {
		t.Fatalf("entry: %+v", e)
	}
	if _, err := s.Entry(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing entry: %v", err)
	}
}

func TestExportRoundTrip(t *testing.T) {
	ctx := context.Background()
	s := NewStore(dbtest.New(t))
	if _, err := s.Import(ctx, demoDataset(t)); err != nil {
		t.Fatal(err)
	}
	ds, err := s.Export(ctx)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for name, v := range map[string]any{"departments.json": ds.Departments, "faq.json": ds.Entries} {
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := WriteJSON(f, v); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	back, err := ReadDataset(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(back.Departments) != 14 || len(back.Entries) != 118 {
		t.Fatalf("round trip: %d departments, %d entries", len(back.Departments), len(back.Entries))
	}
	s2 := NewStore(dbtest.New(t))
	if _, err := s2.Import(ctx, back); err != nil {
		t.Fatalf("re-import of export: %v", err)
	}
	orig := map[string]Entry{}
	for _, e := range demoDataset(t).Entries {
		orig[e.ID] = e
	}
	for _, e := range back.Entries {
		o := orig[e.ID]
		if o.Answer != e.Answer || o.Question != e.Question || strings.Join(o.Variants, "|") != strings.Join(e.Variants, "|") {
			t.Fatalf("entry %s changed in the round trip", e.ID)
		}
	}
}

func TestImportRejectsBadFilesAndWritesNothing(t *testing.T) {
	ctx := context.Background()
	good := demoDataset(t)
	for _, tc := range []struct {
		name   string
		mutate func(ds *Dataset)
		want   string
	}{
		{"empty answer", func(ds *Dataset) { ds.Entries[50].Answer = " " }, `item 51 (id "` + good.Entries[50].ID + `"): field "answer": must not be empty`},
		{"unknown department", func(ds *Dataset) { ds.Entries[3].Department = "raumfahrt" }, `field "department": unknown department "raumfahrt"`},
		{"bad id", func(ds *Dataset) { ds.Entries[7].ID = "Bad ID" }, `field "id"`},
		{"duplicate id", func(ds *Dataset) { ds.Entries[9].ID = ds.Entries[8].ID }, "appears twice"},
		{"duplicate variant", func(ds *Dataset) { ds.Entries[10].Variants = append(ds.Entries[10].Variants, ds.Entries[11].Question) }, "already a question or variant"},
		{"bad status", func(ds *Dataset) { ds.Entries[1].Status = "live" }, `field "status"`},
		{"department without name", func(ds *Dataset) { ds.Departments[2].Name = "" }, `departments.json: item 3`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := NewStore(dbtest.New(t))
			ds := demoDataset(t)
			tc.mutate(&ds)
			_, err := s.Import(ctx, ds)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("err is not ErrInvalid: %v", err)
			}
			n, _ := s.CountEntries(ctx)
			depts, _ := s.Departments(ctx)
			if n != 0 || len(depts) != 0 {
				t.Fatalf("half-imported: %d entries, %d departments", n, len(depts))
			}
		})
	}
}

func TestParseFileErrorsNameItemAndField(t *testing.T) {
	for _, tc := range []struct{ data, want string }{
		{`{"id": "x"}`, "not a JSON array"},
		{`[{"id":"a","department":"b","question":"q","answer":"a","variants":"nope"}]`, `item 1 (id "a"): field "variants": must be a list of strings`},
		{`[{"id":"a","question":"q","colour":"red"}]`, `field "colour": unknown field`},
		{"[\n{\"id\": \"a\",\n\"question\": }]", "line 3"},
	} {
		_, err := ParseJSON("faq.json", []byte(tc.data))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", tc.data, err, tc.want)
		}
	}
}
