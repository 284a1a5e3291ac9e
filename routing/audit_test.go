package routing_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"

	"citybot/routing"
	"citybot/staff"
)

// failAudit makes every audit_log insert of action fail (a CHECK
// constraint on the test database) until the returned function runs.
func (f *fixture) failAudit(action string) func() {
	f.t.Helper()
	f.exec(`ALTER TABLE audit_log ADD CONSTRAINT test_fail_audit CHECK (action <> '` + action + `')`)
	return func() { f.exec(`ALTER TABLE audit_log DROP CONSTRAINT test_fail_audit`) }
}

// auditRows are the details of the audit rows of action on the object.
func (f *fixture) auditRows(userID int64, action, objectType string, objectID int64) []map[string]any {
	f.t.Helper()
	var raw []string
	if err := f.db.SelectContext(f.ctx, &raw, `SELECT details::text FROM audit_log
		WHERE user_id = $1 AND action = $2 AND object_type = $3 AND object_id = $4 ORDER BY id`,
		userID, action, objectType, strconv.FormatInt(objectID, 10)); err != nil {
		f.t.Fatal(err)
	}
	out := make([]map[string]any, len(raw))
	for i, r := range raw {
		if err := json.Unmarshal([]byte(r), &out[i]); err != nil {
			f.t.Fatal(err)
		}
	}
	return out
}

func (f *fixture) wantOneAudit(userID int64, action, objectType string, objectID int64, want map[string]any) {
	f.t.Helper()
	rows := f.auditRows(userID, action, objectType, objectID)
	if len(rows) != 1 {
		f.t.Fatalf("%s: %d audit rows, want 1", action, len(rows))
	}
	// Round-trip want through JSON, so numbers compare as float64.
	b, _ := json.Marshal(want)
	var w map[string]any
	_ = json.Unmarshal(b, &w)
	if !reflect.DeepEqual(rows[0], w) {
		f.t.Errorf("%s details = %v, want %v", action, rows[0], w)
	}
}

// TestCannedAnswerAuditAtomic: a canned answer's change and its audit row
// commit together; a failing audit insert leaves the answer as it was.
func TestCannedAnswerAuditAtomic(t *testing.T) {
	f := newFixture(t)
	ctx := f.ctx
	in := routing.CannedAnswer{Department: "bauamt", Title: " Unterlagen ", Body: "Bitte reichen Sie ... ein."}

	undo := f.failAudit("canned.create")
	if _, err := f.cases.AddCannedAnswer(ctx, f.bau, in); err == nil {
		t.Fatal("add with failing audit insert succeeded")
	}
	if n := f.count(`SELECT count(*) FROM canned_answers`); n != 0 {
		t.Fatalf("add with failing audit insert left %d answers", n)
	}
	undo()
	a, err := f.cases.AddCannedAnswer(ctx, f.bau, in)
	if err != nil {
		t.Fatal(err)
	}
	created := map[string]any{"department": "bauamt", "title": "Unterlagen", "body_length": 26}
	f.wantOneAudit(f.bau.ID, "canned.create", "canned_answer", a.ID, created)

	upd := routing.CannedAnswer{ID: a.ID, Title: "Unterlagen Bauantrag", Body: "Neu"}
	undo = f.failAudit("canned.update")
	if err := f.cases.UpdateCannedAnswer(ctx, f.bau, upd); err == nil {
		t.Fatal("update with failing audit insert succeeded")
	}
	if got, _ := f.cases.CannedAnswer(ctx, f.bau, a.ID); got.Title != "Unterlagen" {
		t.Fatalf("update with failing audit insert changed the answer: %+v", got)
	}
	undo()
	if err := f.cases.UpdateCannedAnswer(ctx, f.bau, upd); err != nil {
		t.Fatal(err)
	}
	f.wantOneAudit(f.bau.ID, "canned.update", "canned_answer", a.ID, map[string]any{
		"department": "bauamt", "title": "Unterlagen Bauantrag", "body_length": 3, "before": created,
	})

	undo = f.failAudit("canned.delete")
	if err := f.cases.DeleteCannedAnswer(ctx, f.bau, a.ID); err == nil {
		t.Fatal("delete with failing audit insert succeeded")
	}
	if _, err := f.cases.CannedAnswer(ctx, f.bau, a.ID); err != nil {
		t.Fatalf("delete with failing audit insert removed the answer: %v", err)
	}
	undo()
	if err := f.cases.DeleteCannedAnswer(ctx, f.bau, a.ID); err != nil {
		t.Fatal(err)
	}
	f.wantOneAudit(f.bau.ID, "canned.delete", "canned_answer", a.ID, map[string]any{
		"department": "bauamt", "title": "Unterlagen Bauantrag", "body_length": 3,
	})
	// Refused changes write nothing.
	wantErr(t, "delete twice", f.cases.DeleteCannedAnswer(ctx, f.bau, a.ID), routing.ErrNotFound)
	if n := f.count(`SELECT count(*) FROM audit_log WHERE action LIKE 'canned.%'`); n != 3 {
		t.Errorf("%d canned audit rows, want 3", n)
	}
}

// TestRuleAuditAtomic: a routing rule's change and its audit row commit
// together; a failing audit insert leaves the rules as they were. Only
// admins change rules.
func TestRuleAuditAtomic(t *testing.T) {
	f := newFixture(t)
	ctx := f.ctx
	s := routing.NewRuleStore(f.db)
	r := routing.Rule{Department: "bauamt", Pattern: "ohne Bauschild", Priority: 10}

	_, err := s.Create(ctx, f.ord, r, true)
	wantErr(t, "create by an editor", err, routing.ErrForbidden)
	undo := f.failAudit("rule.create")
	if _, err := s.Create(ctx, f.admin, r, true); err == nil {
		t.Fatal("create with failing audit insert succeeded")
	}
	if n := f.count(`SELECT count(*) FROM routing_rules`); n != 0 {
		t.Fatalf("create with failing audit insert left %d rules", n)
	}
	undo()
	rec, err := s.Create(ctx, f.admin, r, true)
	if err != nil {
		t.Fatal(err)
	}
	created := map[string]any{"pattern": "ohne Bauschild", "department": "bauamt", "priority": 10, "active": true}
	f.wantOneAudit(f.admin.ID, "rule.create", "routing_rule", rec.ID, created)

	upd := routing.Rule{ID: rec.ID, Department: "ordnungsamt", Pattern: "Bauschild fehlt", Priority: 99}
	undo = f.failAudit("rule.update")
	if err := s.Update(ctx, f.admin, upd, true); err == nil {
		t.Fatal("update with failing audit insert succeeded")
	}
	if got, _ := s.Get(ctx, rec.ID); got.Pattern != "ohne Bauschild" || got.Department != "bauamt" {
		t.Fatalf("update with failing audit insert changed the rule: %+v", got)
	}
	undo()
	if err := s.Update(ctx, f.admin, upd, true); err != nil {
		t.Fatal(err)
	}
	updated := map[string]any{"pattern": "Bauschild fehlt", "department": "ordnungsamt", "priority": 99, "active": true}
	f.wantOneAudit(f.admin.ID, "rule.update", "routing_rule", rec.ID, map[string]any{
		"pattern": "Bauschild fehlt", "department": "ordnungsamt", "priority": 99, "active": true, "before": created,
	})

	undo = f.failAudit("rule.deactivate")
	if err := s.SetActive(ctx, f.admin, rec.ID, false); err == nil {
		t.Fatal("switch with failing audit insert succeeded")
	}
	if got, _ := s.Get(ctx, rec.ID); !got.Active {
		t.Fatal("switch with failing audit insert switched the rule off")
	}
	undo()
	if err := s.SetActive(ctx, f.admin, rec.ID, false); err != nil {
		t.Fatal(err)
	}
	updated["active"] = false
	f.wantOneAudit(f.admin.ID, "rule.deactivate", "routing_rule", rec.ID, updated)

	undo = f.failAudit("rule.delete")
	if err := s.Delete(ctx, f.admin, rec.ID); err == nil {
		t.Fatal("delete with failing audit insert succeeded")
	}
	if _, err := s.Get(ctx, rec.ID); err != nil {
		t.Fatalf("delete with failing audit insert removed the rule: %v", err)
	}
	undo()
	wantErr(t, "delete by staff", s.Delete(ctx, f.bau, rec.ID), routing.ErrForbidden)
	if err := s.Delete(ctx, f.admin, rec.ID); err != nil {
		t.Fatal(err)
	}
	f.wantOneAudit(f.admin.ID, "rule.delete", "routing_rule", rec.ID, updated)
	wantErr(t, "delete twice", s.Delete(ctx, f.admin, rec.ID), routing.ErrNotFound)
	if n := f.count(`SELECT count(*) FROM audit_log WHERE action LIKE 'rule.%'`); n != 4 {
		t.Errorf("%d rule audit rows, want 4", n)
	}
}

// TestCannedAnswerConcurrentSaves: two staff of a department save the same
// canned answer at once, again and again. Every save has its audit row, and
// the rows chain: each row's "before" is the answer the previous row left,
// and the last row is what is stored. A save whose audit row were written
// outside the change's transaction (or without the row lock) breaks the
// chain.
func TestCannedAnswerConcurrentSaves(t *testing.T) {
	f := newFixture(t)
	ctx := f.ctx
	a, err := f.cases.AddCannedAnswer(ctx, f.bau, routing.CannedAnswer{Department: "bauamt", Title: "Start", Body: "x"})
	if err != nil {
		t.Fatal(err)
	}
	const rounds = 15
	var wg sync.WaitGroup
	errs := make(chan error, 2*rounds)
	for w, who := range []staff.Principal{f.bau, f.bau2} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range rounds {
				title := fmt.Sprintf("Fassung %d.%d", w, i)
				if err := f.cases.UpdateCannedAnswer(ctx, who, routing.CannedAnswer{ID: a.ID, Title: title, Body: strings.Repeat("b", 1+w*rounds+i)}); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	byUser := map[int64]int{}
	var rows []struct {
		UserID  int64  `db:"user_id"`
		Details string `db:"details"`
	}
	if err := f.db.SelectContext(ctx, &rows, `SELECT user_id, details::text AS details FROM audit_log
		WHERE action = 'canned.update' AND object_type = 'canned_answer' AND object_id = $1 ORDER BY id`, strconv.FormatInt(a.ID, 10)); err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2*rounds {
		t.Fatalf("%d audit rows, want %d", len(rows), 2*rounds)
	}
	prev := map[string]any{"department": "bauamt", "title": "Start", "body_length": float64(1)}
	for i, r := range rows {
		byUser[r.UserID]++
		var d map[string]any
		if err := json.Unmarshal([]byte(r.Details), &d); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(d["before"], prev) {
			t.Fatalf("audit row %d: before = %v, want the previous save %v", i, d["before"], prev)
		}
		prev = map[string]any{"department": d["department"], "title": d["title"], "body_length": d["body_length"]}
	}
	if byUser[f.bau.ID] != rounds || byUser[f.bau2.ID] != rounds {
		t.Errorf("audit rows per user = %v, want %d each", byUser, rounds)
	}
	got, err := f.cases.CannedAnswer(ctx, f.bau, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Title != prev["title"] || float64(len(got.Body)) != prev["body_length"] {
		t.Errorf("stored %q (%d), the last audit row says %v", got.Title, len(got.Body), prev)
	}
}
