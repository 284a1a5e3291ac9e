package faq

import (
	"context"
	"errors"
	"testing"
)

func TestSynonymsEditor(t *testing.T) {
	ctx := context.Background()
	f := newEditorFixture(t)
	it, err := f.s.CreateSynonym(ctx, f.editor, Synonym{Term: "  Bau  Papiere ", Canonical: "Bauantrag"})
	if err != nil {
		t.Fatal(err)
	}
	if it.Term != "bau papiere" || it.Canonical != "Bauantrag" {
		t.Fatalf("created: %+v", it)
	}
	var ve *ValidationError
	for _, tc := range []struct {
		syn   Synonym
		field string
	}{
		{Synonym{Term: "BAU PAPIERE", Canonical: "Baugenehmigung"}, "term"},
		{Synonym{Term: "", Canonical: "Bauantrag"}, "term"},
		{Synonym{Term: "!!!", Canonical: "Bauantrag"}, "term"},
		{Synonym{Term: "drohne", Canonical: ""}, "canonical"},
		{Synonym{Term: "Bauantrag", Canonical: "bauantrag"}, "canonical"},
	} {
		if _, err := f.s.CreateSynonym(ctx, f.editor, tc.syn); !errors.As(err, &ve) || ve.Field != tc.field || !errors.Is(err, ErrInvalid) {
			t.Errorf("%+v: err = %v, want field %s", tc.syn, err, tc.field)
		}
	}
	// The matcher uses it: "Baupapiere einreichen" answers with the Bauantrag entry.
	tr, err := f.s.TryIt(ctx, "bau papiere abgeben", nil, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	if tr.Published.Result.Decision != DecisionAnswer || tr.Published.Result.Answer.EntryID != "bauantrag-stellen" {
		t.Fatalf("synonym not used: %+v", tr.Published.Result)
	}
	up, err := f.s.UpdateSynonym(ctx, f.editor, it.ID, Synonym{Term: "Bauunterlagen", Canonical: "Bauantrag"})
	if err != nil || up.Term != "bauunterlagen" {
		t.Fatalf("update: %+v %v", up, err)
	}
	if _, err := f.s.UpdateSynonym(ctx, f.editor, 999, Synonym{Term: "x", Canonical: "y"}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("update missing: %v", err)
	}
	items, err := f.s.SynonymItems(ctx)
	if err != nil || len(items) != 1 {
		t.Fatalf("items: %+v %v", items, err)
	}
	if err := f.s.DeleteSynonym(ctx, f.staf, it.ID); !errors.Is(err, ErrForbidden) {
		t.Fatalf("staff delete: %v", err)
	}
	if err := f.s.DeleteSynonym(ctx, f.editor, it.ID); err != nil {
		t.Fatal(err)
	}
	if err := f.s.DeleteSynonym(ctx, f.editor, it.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("delete twice: %v", err)
	}
	if n := f.count(t, `SELECT count(*) FROM audit_log WHERE object_type = 'synonym'`); n != 3 {
		t.Fatalf("audit rows: %d", n)
	}
}
