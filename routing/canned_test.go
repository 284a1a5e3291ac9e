package routing_test

import (
	"testing"

	"citybot/routing"
	"citybot/staff"
)

func TestCannedAnswers(t *testing.T) {
	f := newFixture(t)
	ctx := f.ctx
	a, err := f.cases.AddCannedAnswer(ctx, f.bau, routing.CannedAnswer{Department: "bauamt", Title: "Unterlagen", Body: "Bitte reichen Sie ... ein."})
	if err != nil || a.ID == 0 || a.CreatedBy == nil || *a.CreatedBy != f.bau.ID {
		t.Fatalf("add: %+v %v", a, err)
	}
	_, err = f.cases.AddCannedAnswer(ctx, f.bau, routing.CannedAnswer{Department: "ordnungsamt", Title: "x", Body: "y"})
	wantErr(t, "add for other department", err, routing.ErrForbidden)
	_, err = f.cases.AddCannedAnswer(ctx, f.bau, routing.CannedAnswer{Department: "bauamt", Title: " ", Body: "y"})
	wantErr(t, "add without title", err, routing.ErrInvalid)
	if _, err := f.cases.AddCannedAnswer(ctx, f.admin, routing.CannedAnswer{Department: "ordnungsamt", Title: "Lärm", Body: "Ruhezeiten ..."}); err != nil {
		t.Fatal(err)
	}
	_, err = f.cases.AddCannedAnswer(ctx, f.admin, routing.CannedAnswer{Department: "nope", Title: "x", Body: "y"})
	wantErr(t, "add for unknown department", err, routing.ErrInvalid)

	list := func(v staff.Principal, dept string) int {
		t.Helper()
		l, err := f.cases.CannedAnswers(ctx, v, dept)
		if err != nil {
			t.Fatal(err)
		}
		return len(l)
	}
	if list(f.bau, "") != 1 || list(f.ord, "") != 1 || list(f.admin, "") != 2 || list(f.ord, "bauamt") != 0 {
		t.Fatal("canned answers not isolated per department")
	}
	_, err = f.cases.CannedAnswer(ctx, f.ord, a.ID)
	wantErr(t, "get other department", err, routing.ErrNotFound)
	wantErr(t, "update other department", f.cases.UpdateCannedAnswer(ctx, f.ord, routing.CannedAnswer{ID: a.ID, Title: "x", Body: "y"}), routing.ErrNotFound)
	wantErr(t, "delete other department", f.cases.DeleteCannedAnswer(ctx, f.ord, a.ID), routing.ErrNotFound)
	wantErr(t, "move to other department", f.cases.UpdateCannedAnswer(ctx, f.bau, routing.CannedAnswer{ID: a.ID, Department: "ordnungsamt", Title: "x", Body: "y"}), routing.ErrForbidden)

	if err := f.cases.UpdateCannedAnswer(ctx, f.bau, routing.CannedAnswer{ID: a.ID, Title: "Unterlagen Bauantrag", Body: "Neu"}); err != nil {
		t.Fatal(err)
	}
	got, err := f.cases.CannedAnswer(ctx, f.bau2, a.ID)
	if err != nil || got.Title != "Unterlagen Bauantrag" || got.Body != "Neu" || got.Department != "bauamt" {
		t.Fatalf("updated = %+v %v", got, err)
	}
	if err := f.cases.DeleteCannedAnswer(ctx, f.bau2, a.ID); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "delete twice", f.cases.DeleteCannedAnswer(ctx, f.bau2, a.ID), routing.ErrNotFound)
}

func TestOfficeHoursStore(t *testing.T) {
	f := newFixture(t)
	ctx := f.ctx
	if err := routing.ApplyDemoOfficeHours(ctx, f.db); err != nil {
		t.Fatal(err)
	}
	w, err := routing.OfficeHours(ctx, f.db, "bauamt")
	if err != nil || len(w[1]) == 0 {
		t.Fatalf("demo hours = %v %v", w, err)
	}
	mine := routing.WeekHours{1: {{"09:00", "11:00"}}}
	if err := routing.SetOfficeHours(ctx, f.db, "bauamt", mine); err != nil {
		t.Fatal(err)
	}
	if err := routing.ApplyDemoOfficeHours(ctx, f.db); err != nil { // keeps what an admin set
		t.Fatal(err)
	}
	if w, _ := routing.OfficeHours(ctx, f.db, "bauamt"); len(w) != 1 || w[1][0] != (routing.Span{"09:00", "11:00"}) {
		t.Fatalf("hours = %v", w)
	}
	wantErr(t, "invalid", routing.SetOfficeHours(ctx, f.db, "bauamt", routing.WeekHours{9: {{"09:00", "11:00"}}}), routing.ErrInvalid)
	wantErr(t, "unknown department", routing.SetOfficeHours(ctx, f.db, "nope", mine), routing.ErrNotFound)
	_, err = routing.OfficeHours(ctx, f.db, "nope")
	wantErr(t, "unknown department", err, routing.ErrNotFound)
}
