package faq

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"citybot/internal/dbtest"
	"citybot/staff"
)

// editorFixture is a database with the demo FAQ, an admin, an editor of
// the Bauamt and a staff member.
type editorFixture struct {
	db                  *sqlx.DB
	s                   *Store
	admin, editor, staf staff.Principal
}

func newEditorFixture(t *testing.T) editorFixture {
	t.Helper()
	ctx := context.Background()
	d := dbtest.New(t)
	s := NewStore(d)
	if _, err := s.Import(ctx, demoDataset(t)); err != nil {
		t.Fatal(err)
	}
	user := func(email, role string, depts ...string) staff.Principal {
		var id int64
		if err := d.GetContext(ctx, &id, `INSERT INTO users (email, name, password_hash, role) VALUES ($1, $2, 'x', $3) RETURNING id`,
			email, strings.Split(email, "@")[0], role); err != nil {
			t.Fatal(err)
		}
		for _, dep := range depts {
			if _, err := d.ExecContext(ctx, `INSERT INTO user_departments (user_id, department_id) VALUES ($1, $2)`, id, dep); err != nil {
				t.Fatal(err)
			}
		}
		return staff.Principal{ID: id, Role: role, Departments: depts}
	}
	return editorFixture{
		db: d, s: s,
		admin:  user("admin@musterstadt.de", staff.RoleAdmin),
		editor: user("bau@musterstadt.de", staff.RoleEditor, "bauamt"),
		staf:   user("staff@musterstadt.de", "staff", "bauamt"),
	}
}

func (f editorFixture) count(t *testing.T, q string, args ...any) int {
	t.Helper()
	var n int
	if err := f.db.GetContext(context.Background(), &n, q, args...); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestRevisionsHistoryDiffAndRestore(t *testing.T) {
	ctx := context.Background()
	f := newEditorFixture(t)
	orig, err := f.s.Entry(ctx, "bauantrag-stellen")
	if err != nil {
		t.Fatal(err)
	}
	// The import wrote the first revision.
	h0, _ := f.s.History(ctx, orig.ID)
	if len(h0) != 1 || h0[0].Action != ActionImport {
		t.Fatalf("imported entry has revisions %+v", h0)
	}
	v, err := f.s.EntryView(ctx, orig.ID)
	if err != nil || v.Revision != h0[0].ID || v.Draft != nil {
		t.Fatalf("view: %+v, %v", v, err)
	}

	changed := orig
	changed.Question = "Wie reiche ich einen Bauantrag in Musterstadt ein?"
	changed.Variants = append([]string{"Bauantrag einreichen online"}, orig.Variants[1:]...)
	changed.Tags = append(append([]string{}, orig.Tags...), "Online")
	rev1, err := f.s.UpdateEntry(ctx, f.editor, changed, h0[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if rev1.Action != ActionUpdate || rev1.AuthorID != f.editor.ID || rev1.AuthorName != "bau" || rev1.Entry.Question != changed.Question {
		t.Fatalf("revision: %+v", rev1)
	}
	// A stale form (based on the import's revision) is refused.
	changed.Answer = "Anders."
	if _, err := f.s.UpdateEntry(ctx, f.editor, changed, h0[0].ID); !errors.Is(err, ErrConflict) {
		t.Fatalf("stale update: %v", err)
	}
	// An update without change writes nothing.
	same, err := f.s.Entry(ctx, orig.ID)
	if err != nil {
		t.Fatal(err)
	}
	if r, err := f.s.UpdateEntry(ctx, f.editor, same, rev1.ID); err != nil || r.ID != rev1.ID {
		t.Fatalf("no-op update: %+v, %v", r, err)
	}

	hist, err := f.s.History(ctx, orig.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 2 || hist[0].ID != rev1.ID || hist[1].Action != ActionImport || hist[1].AuthorID != 0 {
		t.Fatalf("history: %+v", hist)
	}
	if hist[1].Entry.Question != orig.Question || !sameContent(hist[1].Entry, orig) {
		t.Fatalf("baseline snapshot differs from the imported entry")
	}

	diff, err := f.s.RevisionDiff(ctx, rev1.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := "question: Wie [-stelle-]{+reiche+} ich einen Bauantrag{+ in Musterstadt ein+}?\n" +
		"variants:\n- " + orig.Variants[0] + "\n+ Bauantrag einreichen online\n"
	if got := diff.String(); !strings.HasPrefix(got, want) || !strings.Contains(got, "+ Online\n") {
		t.Fatalf("diff:\n%s\nwant prefix:\n%s", got, want)
	}
	if len(diff.ChangedFields()) != 3 {
		t.Fatalf("changed fields: %+v", diff.ChangedFields())
	}

	// Archive, then restore the original content: status stays archived.
	if _, err := f.s.SetStatus(ctx, f.editor, orig.ID, StatusArchived); err != nil {
		t.Fatal(err)
	}
	rr, err := f.s.Restore(ctx, f.editor, hist[1].ID)
	if err != nil {
		t.Fatal(err)
	}
	if rr.Action != ActionRestore || rr.RestoredFrom != hist[1].ID {
		t.Fatalf("restore revision: %+v", rr)
	}
	now, err := f.s.Entry(ctx, orig.ID)
	if err != nil {
		t.Fatal(err)
	}
	want2 := orig
	want2.Status = StatusArchived
	if !sameContent(now, want2) {
		t.Fatalf("after restore: %+v", now)
	}
	if h, _ := f.s.History(ctx, orig.ID); len(h) != 4 {
		t.Fatalf("history after restore: %d revisions", len(h))
	}
	// One audit row per change, written with it.
	if n := f.count(t, `SELECT count(*) FROM audit_log WHERE object_type = 'faq_entry' AND object_id = $1 AND user_id = $2`, orig.ID, f.editor.ID); n != 3 {
		t.Fatalf("audit rows: %d", n)
	}
	if _, err := f.s.Restore(ctx, f.editor, 999999); !errors.Is(err, ErrNotFound) {
		t.Fatalf("restore of a missing revision: %v", err)
	}
}

func TestCreateEntryValidatesAndDerivesID(t *testing.T) {
	ctx := context.Background()
	f := newEditorFixture(t)
	rev, err := f.s.CreateEntry(ctx, f.editor, Entry{Department: "bauamt", Question: "Darf ich eine Drohne über der Baustelle fliegen lassen?",
		Answer: "Nein.", Variants: []string{" Drohne Baustelle ", "", "drohne baustelle"}})
	if err != nil {
		t.Fatal(err)
	}
	if rev.EntryID != "darf-ich-eine-drohne-uber-der-baustelle-fliegen-lassen" || rev.Entry.Status != StatusDraft ||
		len(rev.Entry.Variants) != 1 || rev.Action != ActionCreate {
		t.Fatalf("created: %+v", rev)
	}
	_, err = f.s.CreateEntry(ctx, f.editor, Entry{ID: "x-1", Department: "bauamt", Question: "Wie  stelle ich einen BAUANTRAG?", Answer: "a"})
	var ve *ValidationError
	if !errors.As(err, &ve) || ve.Field != "question" || !strings.Contains(ve.Msg, "bauantrag-stellen") {
		t.Fatalf("duplicate question: %v", err)
	}
	_, err = f.s.CreateEntry(ctx, f.editor, Entry{ID: "x-2", Department: "bauamt", Question: "Neu?", Answer: " "})
	if !errors.As(err, &ve) || ve.Field != "answer" || !errors.Is(err, ErrInvalid) {
		t.Fatalf("empty answer: %v", err)
	}
	if got := err.Error(); got != `entry: field "answer": must not be empty` {
		t.Fatalf("message: %q", got)
	}
}

func TestDraftOfPublishedEntryAndPublish(t *testing.T) {
	ctx := context.Background()
	f := newEditorFixture(t)
	const id = "bauantrag-stellen"
	orig, _ := f.s.Entry(ctx, id)
	d := orig
	d.Answer = "Neue Antwort: Bauanträge stellen Sie jetzt online."
	if _, err := f.s.SaveDraft(ctx, f.editor, d); err != nil {
		t.Fatal(err)
	}
	live, _ := f.s.Entry(ctx, id)
	if live.Answer != orig.Answer {
		t.Fatal("saving a draft changed the live entry")
	}
	v, err := f.s.EntryView(ctx, id)
	if err != nil || v.Draft == nil || v.Draft.Entry.Answer != d.Answer || v.Draft.BaseRevision == 0 {
		t.Fatalf("view: %+v %v", v, err)
	}
	pending, err := f.s.PendingEntry(ctx, id)
	if err != nil || pending.Answer != d.Answer {
		t.Fatalf("pending: %v", err)
	}
	rev, err := f.s.Publish(ctx, f.editor, id)
	if err != nil {
		t.Fatal(err)
	}
	live, _ = f.s.Entry(ctx, id)
	if rev.Action != ActionPublish || live.Answer != d.Answer || live.Status != StatusPublished {
		t.Fatalf("published: %+v / %+v", rev, live)
	}
	if _, err := f.s.Draft(ctx, id); !errors.Is(err, ErrNotFound) {
		t.Fatalf("draft after publish: %v", err)
	}
	// Nothing to publish.
	if _, err := f.s.Publish(ctx, f.editor, id); !errors.Is(err, ErrConflict) {
		t.Fatalf("publish without draft: %v", err)
	}
	// A draft that someone overtook is refused, and stays.
	d.Answer = "Noch eine Antwort."
	if _, err := f.s.SaveDraft(ctx, f.editor, d); err != nil {
		t.Fatal(err)
	}
	other := live
	other.Tags = append(other.Tags, "Neu")
	if _, err := f.s.UpdateEntry(ctx, f.admin, other, AnyRevision); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.Publish(ctx, f.editor, id); !errors.Is(err, ErrConflict) {
		t.Fatalf("publish of a stale draft: %v", err)
	}
	if _, err := f.s.Draft(ctx, id); err != nil {
		t.Fatalf("stale draft lost: %v", err)
	}
	if err := f.s.DiscardDraft(ctx, f.editor, id); err != nil {
		t.Fatal(err)
	}
	// A new entry is a draft the bot does not know until published.
	rev, err = f.s.CreateEntry(ctx, f.editor, Entry{ID: "drohne-baustelle", Department: "bauamt",
		Question: "Darf ich eine Drohne über einer Baustelle fliegen lassen?", Answer: "Nur mit Genehmigung."})
	if err != nil {
		t.Fatal(err)
	}
	entries, _ := f.s.Entries(ctx, "")
	if NewIndex(entries, nil).Match("Drohne über Baustelle fliegen").Decision == DecisionAnswer &&
		NewIndex(entries, nil).Match("Drohne über Baustelle fliegen").Answer.EntryID == "drohne-baustelle" {
		t.Fatal("the bot answers with a draft entry")
	}
	if _, err := f.s.Publish(ctx, f.editor, "drohne-baustelle"); err != nil {
		t.Fatal(err)
	}
	entries, _ = f.s.Entries(ctx, "")
	if r := NewIndex(entries, nil).Match("Darf ich eine Drohne über einer Baustelle fliegen lassen?"); r.Decision != DecisionAnswer || r.Answer.EntryID != "drohne-baustelle" {
		t.Fatalf("published entry not answered: %+v", r)
	}
}

func TestPublishNotifiesDraftDoesNot(t *testing.T) {
	ctx := context.Background()
	d, url := dbtest.NewWithURL(t)
	s := NewStore(d)
	if _, err := s.Import(ctx, demoDataset(t)); err != nil {
		t.Fatal(err)
	}
	l := pq.NewListener(url, 10*time.Millisecond, time.Second, nil)
	defer l.Close()
	if err := l.Listen("faq_changed"); err != nil {
		t.Fatal(err)
	}
	admin := staff.Principal{Role: staff.RoleAdmin}
	e, _ := s.Entry(ctx, "bauantrag-stellen")
	e.Answer = "Geänderte Antwort."
	if _, err := s.SaveDraft(ctx, admin, e); err != nil {
		t.Fatal(err)
	}
	select {
	case n := <-l.Notify:
		t.Fatalf("notification for a draft: %+v", n)
	case <-time.After(300 * time.Millisecond):
	}
	if _, err := s.Publish(ctx, admin, e.ID); err != nil {
		t.Fatal(err)
	}
	select {
	case n := <-l.Notify:
		if n == nil || n.Channel != "faq_changed" {
			t.Fatalf("notification: %+v", n)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no faq_changed notification after publishing")
	}
}

// TestEditorOfOneDepartmentCannotChangeAnother tries every write method on
// an entry of another department: all fail with ErrForbidden and write
// nothing.
func TestEditorOfOneDepartmentCannotChangeAnother(t *testing.T) {
	ctx := context.Background()
	f := newEditorFixture(t)
	const other = "personalausweis-beantragen" // buergerbuero
	const own = "bauantrag-stellen"            // bauamt
	oe, _ := f.s.Entry(ctx, other)
	if oe.Department != "buergerbuero" {
		t.Fatalf("fixture: %s is of %s", other, oe.Department)
	}
	// a revision and a draft of the other entry, by the admin
	ch := oe
	ch.Tags = append(ch.Tags, "Admin")
	adminRev, err := f.s.UpdateEntry(ctx, f.admin, ch, AnyRevision)
	if err != nil {
		t.Fatal(err)
	}
	ch.Answer = "Entwurf des Admins."
	if _, err := f.s.SaveDraft(ctx, f.admin, ch); err != nil {
		t.Fatal(err)
	}
	var uid int64
	if err := f.db.GetContext(ctx, &uid, `INSERT INTO citizens (channel, external_id) VALUES ('telegram', '1') RETURNING id`); err != nil {
		t.Fatal(err)
	}
	var qid int64
	if err := f.db.GetContext(ctx, &qid, `INSERT INTO unanswered (citizen_id, text, reason) VALUES ($1, 'Perso weg', 'no_match') RETURNING id`, uid); err != nil {
		t.Fatal(err)
	}
	before := func() (int, int, int) {
		return f.count(t, `SELECT count(*) FROM faq_revisions`), f.count(t, `SELECT count(*) FROM audit_log`), f.count(t, `SELECT count(*) FROM faq_entries`)
	}
	r0, a0, e0 := before()

	moved, _ := f.s.Entry(ctx, own)
	moved.Department = "buergerbuero"
	newOther := Entry{ID: "neu", Department: "buergerbuero", Question: "Ganz neue Frage?", Answer: "Antwort."}
	for _, actor := range []struct {
		name string
		a    staff.Principal
	}{{"editor of bauamt", f.editor}, {"staff", f.staf}, {"editor without departments", staff.Principal{ID: f.editor.ID, Role: staff.RoleEditor}}} {
		a := actor.a
		calls := map[string]func() error{
			"CreateEntry":  func() error { _, err := f.s.CreateEntry(ctx, a, newOther); return err },
			"UpdateEntry":  func() error { _, err := f.s.UpdateEntry(ctx, a, ch, AnyRevision); return err },
			"SetStatus":    func() error { _, err := f.s.SetStatus(ctx, a, other, StatusArchived); return err },
			"Restore":      func() error { _, err := f.s.Restore(ctx, a, adminRev.ID); return err },
			"SaveDraft":    func() error { _, err := f.s.SaveDraft(ctx, a, ch); return err },
			"DiscardDraft": func() error { return f.s.DiscardDraft(ctx, a, other) },
			"Publish":      func() error { _, err := f.s.Publish(ctx, a, other); return err },
			"AddUnansweredAsVariant": func() error {
				_, err := f.s.AddUnansweredAsVariant(ctx, a, []int64{qid}, other, "Perso weg")
				return err
			},
			"CreateEntryFromUnanswered": func() error {
				_, err := f.s.CreateEntryFromUnanswered(ctx, a, []int64{qid}, newOther)
				return err
			},
			"ImportAs": func() error {
				_, err := f.s.ImportAs(ctx, a, Dataset{Entries: []Entry{ch}}, "faq.json")
				return err
			},
			"ImportCSV moving own entry": func() error {
				var b strings.Builder
				_ = WriteCSV(&b, []Entry{moved})
				_, err := f.s.ImportCSV(ctx, a, strings.NewReader(b.String()))
				return err
			},
		}
		switch {
		case a.Role == staff.RoleEditor && len(a.Departments) > 0:
			// moving an own entry into another department is changing that department
			calls["UpdateEntry moving own entry"] = func() error { _, err := f.s.UpdateEntry(ctx, a, moved, AnyRevision); return err }
			calls["SaveDraft moving own entry"] = func() error { _, err := f.s.SaveDraft(ctx, a, moved); return err }
		case a.Role != staff.RoleEditor:
			calls["CreateSynonym"] = func() error {
				_, err := f.s.CreateSynonym(ctx, a, Synonym{Term: "perso weg", Canonical: "Personalausweis verloren"})
				return err
			}
			calls["AddRegression"] = func() error {
				_, err := f.s.AddRegression(ctx, a, RegressionQuestion{Question: "x", Expect: ExpectStaff})
				return err
			}
			calls["DismissUnanswered"] = func() error { _, err := f.s.DismissUnanswered(ctx, a, []int64{qid}); return err }
		}
		for name, call := range calls {
			if err := call(); !errors.Is(err, ErrForbidden) {
				t.Errorf("%s: %s: err = %v, want ErrForbidden", actor.name, name, err)
			}
		}
	}
	if r, a, e := before(); r != r0 || a != a0 || e != e0 {
		t.Fatalf("forbidden calls wrote: revisions %d->%d, audit %d->%d, entries %d->%d", r0, r, a0, a, e0, e)
	}
	if _, err := f.s.Draft(ctx, other); err != nil {
		t.Fatalf("the admin's draft is gone: %v", err)
	}
	if n := f.count(t, `SELECT count(*) FROM unanswered WHERE status = 'open'`); n != 1 {
		t.Fatalf("unanswered changed")
	}
	// The same editor may change the own department's entry, and the
	// admin everything; missing entries are ErrNotFound, not ErrForbidden.
	if _, err := f.s.SetStatus(ctx, f.editor, own, StatusArchived); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.SetStatus(ctx, f.admin, other, StatusArchived); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.SetStatus(ctx, f.editor, "gibt-es-nicht", StatusArchived); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing entry: %v", err)
	}
}

// TestListEntriesLongQuery: a query of 70,000 words is one bounded
// statement (it was one LIKE and one parameter per word: slow, and past
// PostgreSQL's 65,535 parameters an error).
func TestListEntriesLongQuery(t *testing.T) {
	f := newEditorFixture(t)
	ctx := context.Background()
	q := "bauantrag stellen " + strings.Repeat("x ", 70000)
	got, err := f.s.ListEntries(ctx, EntryFilter{Query: q})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 0 {
		t.Fatalf("%d entries contain x and bauantrag", len(got))
	}
	got, err = f.s.ListEntries(ctx, EntryFilter{Query: "Bauantrag stellen " + strings.Repeat(" ", 300) + "zzzz-cut-off"})
	if err != nil || len(got) == 0 {
		t.Fatalf("cut query: %d entries, %v", len(got), err)
	}
	if w := SearchWords(strings.Repeat("a b c d e f g h i j ", 50)); len(w) != MaxSearchWords {
		t.Fatalf("words %q", w)
	}
}

// UpdateEntryOverDraft saves the form that showed a draft and drops the
// draft in one transaction: when dropping it fails, the entry is not
// changed either (no live change with its draft still pending).
func TestUpdateEntryOverDraftIsOneTransaction(t *testing.T) {
	ctx := context.Background()
	f := newEditorFixture(t)
	const id = "bauantrag-stellen"
	orig, _ := f.s.Entry(ctx, id)
	d := orig
	d.Answer = "Entwurf: Bauanträge stellen Sie jetzt online."
	if _, err := f.s.SaveDraft(ctx, f.editor, d); err != nil {
		t.Fatal(err)
	}
	audits := func() int {
		var n int
		if err := f.db.GetContext(ctx, &n, `SELECT count(*) FROM audit_log WHERE object_id = $1 AND action IN ('faq.update', 'faq.draft.discard')`, id); err != nil {
			t.Fatal(err)
		}
		return n
	}
	// A draft that cannot be deleted: the whole save fails.
	if _, err := f.db.ExecContext(ctx, `
		CREATE FUNCTION refuse_draft_delete() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN RAISE EXCEPTION 'refused'; END $$;
		CREATE TRIGGER refuse_draft_delete BEFORE DELETE ON faq_drafts FOR EACH ROW EXECUTE FUNCTION refuse_draft_delete();`); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.UpdateEntryOverDraft(ctx, f.editor, d, AnyRevision); err == nil {
		t.Fatal("the save succeeded although its draft could not be dropped")
	}
	if live, _ := f.s.Entry(ctx, id); live.Answer != orig.Answer {
		t.Error("the entry changed although the draft it supersedes is still there")
	}
	if n := audits(); n != 0 {
		t.Errorf("%d audit rows of a save that failed", n)
	}
	if _, err := f.db.ExecContext(ctx, `DROP TRIGGER refuse_draft_delete ON faq_drafts`); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.UpdateEntryOverDraft(ctx, f.editor, d, AnyRevision); err != nil {
		t.Fatal(err)
	}
	if live, _ := f.s.Entry(ctx, id); live.Answer != d.Answer {
		t.Errorf("live answer %q", live.Answer)
	}
	if _, err := f.s.Draft(ctx, id); !errors.Is(err, ErrNotFound) {
		t.Errorf("draft after the save: %v", err)
	}
	if n := audits(); n != 2 {
		t.Errorf("%d audit rows (faq.update, faq.draft.discard), want 2", n)
	}
	// Without a draft (another editor dropped it meanwhile) it is an update.
	d.Answer = "Noch einmal geändert."
	if _, err := f.s.UpdateEntryOverDraft(ctx, f.editor, d, AnyRevision); err != nil {
		t.Fatal(err)
	}
}
