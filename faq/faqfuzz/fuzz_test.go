// Package faqfuzz_test holds the fuzz targets of the FAQ's file imports
// (CSV and JSON). They live apart from package faq because faq's tests start
// a PostgreSQL cluster per test binary, which every fuzz worker would do
// again; this binary needs no database.
package faqfuzz_test

import (
	"bytes"
	"errors"
	"reflect"
	"testing"

	"citybot/faq"
)

// FuzzReadCSV: the CSV import takes any file without panicking; what it
// refuses it refuses with a ValidationError, and what it reads it writes
// back and reads again to the same entries.
func FuzzReadCSV(f *testing.F) {
	f.Add([]byte("id,department,question,variants,answer,tags,status\nbauantrag,bauamt,Wie stelle ich einen Bauantrag?,\"Bauantrag\nBaugenehmigung\",Beim Bauamt.,bau,published\n"))
	f.Add([]byte("\xef\xbb\xbfid;department;question;answer\nx;bauamt;'=1+1;\"a;b\"\n"))
	f.Add([]byte("id,department,question,answer\n\"unclosed,bauamt,q,a\n"))
	f.Add([]byte("id,id\n1,2\n"))
	f.Add([]byte("\xff\xfe"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ds, err := faq.ReadCSV(bytes.NewReader(data))
		if err != nil {
			var ve *faq.ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("error is not a ValidationError: %v", err)
			}
			return
		}
		var buf bytes.Buffer
		if err := faq.WriteCSV(&buf, ds.Entries); err != nil {
			t.Fatal(err)
		}
		again, err := faq.ReadCSV(&buf)
		if err != nil {
			t.Fatalf("written back, not readable: %v\n%s", err, buf.String())
		}
		if len(again.Entries) != len(ds.Entries) {
			t.Fatalf("%d entries, %d after the round trip", len(ds.Entries), len(again.Entries))
		}
		for i := range ds.Entries {
			if ds.Entries[i].Status == "" { // written as published
				ds.Entries[i].Status = faq.StatusPublished
			}
			if !reflect.DeepEqual(ds.Entries[i], again.Entries[i]) {
				t.Fatalf("entry %d changed in the round trip:\n%+v\n%+v", i, ds.Entries[i], again.Entries[i])
			}
		}
	})
}

// FuzzParseJSON: the JSON import (faq.json, departments.json) takes any
// file without panicking, and validation of what it read never panics.
func FuzzParseJSON(f *testing.F) {
	f.Add("faq.json", []byte(`[{"id":"bauantrag","department":"bauamt","question":"Wie stelle ich einen Bauantrag?","variants":["Bauantrag"],"answer":"Beim Bauamt.","tags":["bau"]}]`))
	f.Add("departments.json", []byte(`[{"id":"bauamt","name":"Bauamt","keywords":["bau"]}]`))
	f.Add("faq.json", []byte(`[{"id":1,"question":null,"variants":"x"}]`))
	f.Add("faq.json", []byte(`{"not":"a list"}`))
	f.Add("faq.json", []byte("[{\"id\":\"\\u0000\\ud800\"}]"))
	f.Fuzz(func(t *testing.T, name string, data []byte) {
		ds, err := faq.ParseJSON(name, data)
		if err != nil {
			return
		}
		_ = ds.Validate(map[string]bool{"bauamt": true})
	})
}
