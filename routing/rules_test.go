package routing_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/lib/pq"

	"citybot/routing"
)

func TestRuleStore(t *testing.T) {
	f := newFixture(t)
	ctx := f.ctx
	s := routing.NewRuleStore(f.db)
	a, err := s.Create(ctx, f.admin, routing.Rule{Department: "bauamt", Pattern: "  ohne   Bauschild ", Priority: 10}, true)
	if err != nil || a.ID == 0 || a.Pattern != "ohne Bauschild" || a.DepartmentName != "Bauamt / Bauaufsicht" || !a.Active {
		t.Fatalf("create = %+v %v", a, err)
	}
	b, err := s.Create(ctx, f.admin, routing.Rule{Department: "ordnungsamt", Pattern: "Falschparker", Priority: 50}, true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Create(ctx, f.admin, routing.Rule{Department: "zentrale", Pattern: "Beschwerde"}, false); err != nil {
		t.Fatal(err)
	}
	for name, r := range map[string]routing.Rule{
		"no pattern":         {Department: "bauamt", Pattern: "  "},
		"unknown department": {Department: "nope", Pattern: "x"},
		"no department":      {Pattern: "x"},
		"priority":           {Department: "bauamt", Pattern: "x", Priority: 5000},
	} {
		_, err := s.Create(ctx, f.admin, r, true)
		wantErr(t, name, err, routing.ErrInvalid)
	}
	active, err := s.Active(ctx)
	if err != nil || len(active) != 2 || active[0].ID != b.ID || active[1].ID != a.ID {
		t.Fatalf("active = %+v %v", active, err)
	}
	if err := s.Update(ctx, f.admin, routing.Rule{ID: a.ID, Department: "tiefbau", Pattern: "x"}, true); err == nil {
		t.Error("update to unknown department accepted")
	}
	if err := s.Update(ctx, f.admin, routing.Rule{ID: a.ID, Department: "ordnungsamt", Pattern: "Bauschild fehlt", Priority: 99}, true); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Get(ctx, a.ID); got.Department != "ordnungsamt" || got.Priority != 99 || got.Pattern != "Bauschild fehlt" {
		t.Errorf("updated = %+v", got)
	}
	if err := s.SetActive(ctx, f.admin, b.ID, false); err != nil {
		t.Fatal(err)
	}
	if active, _ := s.Active(ctx); len(active) != 1 {
		t.Errorf("active after switch off = %+v", active)
	}
	if all, _ := s.List(ctx); len(all) != 3 {
		t.Errorf("list = %+v", all)
	}
	if err := s.Delete(ctx, f.admin, b.ID); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "delete twice", s.Delete(ctx, f.admin, b.ID), routing.ErrNotFound)
	_, err = s.Get(ctx, b.ID)
	wantErr(t, "get deleted", err, routing.ErrNotFound)
	wantErr(t, "update deleted", s.Update(ctx, f.admin, routing.Rule{ID: b.ID, Department: "bauamt", Pattern: "x"}, true), routing.ErrNotFound)
	wantErr(t, "switch deleted", s.SetActive(ctx, f.admin, b.ID, true), routing.ErrNotFound)
}

func TestLiveRouter(t *testing.T) {
	f := newFixture(t)
	ctx := f.ctx
	// The FAQ source teaches the classifier what each department answers.
	faqs := routing.FAQFunc(func(context.Context) ([]routing.FAQEntry, error) {
		return []routing.FAQEntry{{Department: "bauamt", Question: "Brauche ich für ein Gewächshaus eine Genehmigung?", Tags: []string{"Gewächshaus"}}}, nil
	})
	if _, err := routing.NewLiveRouter(ctx, f.db, routing.FAQFunc(func(context.Context) ([]routing.FAQEntry, error) {
		return nil, errors.New("faq down")
	})); err == nil {
		t.Error("NewLiveRouter with a failing FAQ source: no error")
	}
	blind, err := routing.NewLiveRouter(ctx, f.db, nil)
	if err != nil {
		t.Fatal(err)
	}
	l, err := routing.NewLiveRouter(ctx, f.db, faqs)
	if err != nil {
		t.Fatal(err)
	}
	if got, blindGot := l.Rank("Gewächshaus im Garten", nil), blind.Rank("Gewächshaus im Garten", nil); !slices.Contains(got, "bauamt") || slices.Contains(blindGot, "bauamt") {
		t.Fatalf("with the FAQ's vocabulary: %v, without: %v; want bauamt offered with it only", got, blindGot)
	}
	q := "Mein Nachbar hat eine Frage zum Wetter"
	if got := l.Rank(q, nil); len(got) == 0 || got[0] != "zentrale" {
		t.Fatalf("before rule: %v", got)
	}
	if _, err := routing.NewRuleStore(f.db).Create(ctx, f.admin, routing.Rule{Department: "ordnungsamt", Pattern: "Wetter", Priority: 1}, true); err != nil {
		t.Fatal(err)
	}
	if err := l.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if got := l.Rank(q, nil); len(got) == 0 || got[0] != "ordnungsamt" {
		t.Fatalf("after rule: %v", got)
	}
	var _ routing.Router = l
	var _ routing.Router = l.Classifier()
}

// TestLiveRouterRun: a rule saved anywhere reaches every running router
// through routing_changed, without anyone calling Reload; the FAQ's channel
// stays quiet.
func TestLiveRouterRun(t *testing.T) {
	f := newFixture(t)
	ctx, cancel := context.WithCancel(f.ctx)
	l, err := routing.NewLiveRouter(ctx, f.db, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Listen(f.url, nil); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- l.Run(ctx) }()
	defer func() { cancel(); <-done }()
	faqCh := pq.NewListener(f.url, 10*time.Millisecond, time.Second, nil)
	defer faqCh.Close()
	if err := faqCh.Listen("faq_changed"); err != nil {
		t.Fatal(err)
	}
	q := "Mein Nachbar hat eine Frage zum Wetter"
	if _, err := routing.NewRuleStore(f.db).Create(f.ctx, f.admin, routing.Rule{Department: "ordnungsamt", Pattern: "Wetter", Priority: 1}, true); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		if got := l.Rank(q, nil); len(got) > 0 && got[0] == "ordnungsamt" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the running router did not pick up the new rule")
		}
		time.Sleep(20 * time.Millisecond)
	}
	select {
	case n := <-faqCh.Notify:
		t.Errorf("a rule change notified faq_changed: %+v", n)
	default:
	}
}
