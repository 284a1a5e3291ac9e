package fieldstaff

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"golang.org/x/crypto/bcrypt"

	"citybot/internal/db"
	"citybot/internal/dbtest"
	"citybot/routing"
	"citybot/staff"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

func newUser(t *testing.T, d *sqlx.DB, email, name string, deps ...string) int64 {
	t.Helper()
	var id int64
	if err := d.Get(&id, `INSERT INTO users (email, name, password_hash, role) VALUES ($1, $2, 'x', 'staff') RETURNING id`, email, name); err != nil {
		t.Fatal(err)
	}
	for _, dep := range deps {
		d.MustExec(`INSERT INTO departments (id, name) VALUES ($1, $1) ON CONFLICT DO NOTHING`, dep)
		d.MustExec(`INSERT INTO user_departments (user_id, department_id) VALUES ($1, $2)`, id, dep)
	}
	return id
}

func redeem(t *testing.T, s *Store, chat int64, code string) (Link, error) {
	t.Helper()
	var l Link
	err := db.InTx(context.Background(), s.db, func(tx *sqlx.Tx) error {
		var err error
		l, err = s.Redeem(context.Background(), tx, chat, code)
		return err
	})
	return l, err
}

func count(t *testing.T, d *sqlx.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := d.Get(&n, q, args...); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestLinkCodeLifecycle(t *testing.T) {
	ctx := context.Background()
	d := dbtest.New(t)
	s := New(d)
	uid := newUser(t, d, "anna@example.org", "Anna Amt", "ordnungsamt")

	code, exp, err := s.CreateLinkCode(ctx, uid)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := NormalizeCode(code); !ok {
		t.Fatalf("code %q does not look like a code", code)
	}
	if n := count(t, d, `SELECT count(*) FROM fieldstaff_link_codes WHERE code_hash = $1`, []byte(code)); n != 0 {
		t.Fatal("code stored in clear")
	}
	if d := exp.Sub(timeNow(t, d)); d < 9*60e9 || d > 11*60e9 {
		t.Fatalf("expires in %v, want ~10 min", d)
	}
	if _, err := redeem(t, s, 42, "AAAAAAAAAA"); !errors.Is(err, ErrCodeInvalid) {
		t.Fatalf("unknown code: %v", err)
	}
	// Lower case and a space are accepted.
	l, err := redeem(t, s, 42, code[:5]+" "+string(toLower(code[5:])))
	if err != nil {
		t.Fatal(err)
	}
	if l.UserID != uid || l.ChatID != 42 || l.Name != "Anna Amt" || len(l.Departments) != 1 || l.Departments[0] != "ordnungsamt" {
		t.Fatalf("link = %+v", l)
	}
	if _, err := redeem(t, s, 43, code); !errors.Is(err, ErrCodeInvalid) {
		t.Fatalf("used code: %v", err)
	}
	if got, err := s.Lookup(ctx, 42); err != nil || got.UserID != uid {
		t.Fatalf("Lookup = %+v, %v", got, err)
	}
	if _, err := s.Lookup(ctx, 43); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Lookup unlinked: %v", err)
	}
	if ls, err := s.LinkedUsers(ctx); err != nil || len(ls) != 1 || ls[0].ChatID != 42 {
		t.Fatalf("LinkedUsers = %+v, %v", ls, err)
	}
	if n := count(t, d, `SELECT count(*) FROM audit_log WHERE action = 'fieldstaff.link' AND user_id = $1`, uid); n != 1 {
		t.Fatalf("link audit rows = %d", n)
	}

	// An expired code is refused.
	code2, _, err := s.CreateLinkCode(ctx, uid)
	if err != nil {
		t.Fatal(err)
	}
	d.MustExec(`UPDATE fieldstaff_link_codes SET expires_at = now() - interval '1 second' WHERE used_at IS NULL`)
	if _, err := redeem(t, s, 44, code2); !errors.Is(err, ErrCodeInvalid) {
		t.Fatalf("expired code: %v", err)
	}
	if n, err := s.Sweep(ctx); err != nil || n != 1 {
		t.Fatalf("Sweep = %d, %v; want 1 (the expired code; the used one is not expired yet)", n, err)
	}

	// A new code ends the one before.
	c1, _, _ := s.CreateLinkCode(ctx, uid)
	c2, _, _ := s.CreateLinkCode(ctx, uid)
	if _, err := redeem(t, s, 45, c1); !errors.Is(err, ErrCodeInvalid) {
		t.Fatalf("superseded code: %v", err)
	}
	// Another user's code does not take a linked chat.
	other := newUser(t, d, "bob@example.org", "Bob")
	c3, _, _ := s.CreateLinkCode(ctx, other)
	if _, err := redeem(t, s, 42, c3); !errors.Is(err, ErrChatTaken) {
		t.Fatalf("taken chat: %v", err)
	}
	// Linking from a new phone moves the link.
	if _, err := redeem(t, s, 46, c2); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Lookup(ctx, 42); !errors.Is(err, ErrNotFound) {
		t.Fatalf("old chat still linked: %v", err)
	}

	if err := s.Unlink(ctx, uid, uid); err != nil {
		t.Fatal(err)
	}
	if err := s.Unlink(ctx, uid, uid); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second unlink: %v", err)
	}
	if n := count(t, d, `SELECT count(*) FROM audit_log WHERE action = 'fieldstaff.unlink' AND object_id = $1`, itoa(uid)); n != 2 {
		t.Fatalf("unlink audit rows = %d, want 2 (moved, unlinked)", n)
	}
}

func TestDeactivationUnlinksAndRefuses(t *testing.T) {
	ctx := context.Background()
	d := dbtest.New(t)
	s := New(d)
	st := staff.New(d).WithCost(bcrypt.MinCost).WithDeactivateHook(s.Deactivated)
	uid := newUser(t, d, "carl@example.org", "Carl", "bauamt")
	admin := newUser(t, d, "admin@example.org", "Admin")
	code, _, err := s.CreateLinkCode(ctx, uid)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := redeem(t, s, 77, code); err != nil {
		t.Fatal(err)
	}
	if err := st.UpdateUser(ctx, admin, staff.UserUpdate{ID: uid, Name: "Carl", Role: "staff", Language: "de", Active: false, Departments: []string{"bauamt"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Lookup(ctx, 77); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deactivated user's chat still linked: %v", err)
	}
	if ok, err := s.Refused(ctx, d, 77); err != nil || !ok {
		t.Fatalf("Refused = %v, %v", ok, err)
	}
	if n := count(t, d, `SELECT count(*) FROM audit_log WHERE action = 'fieldstaff.unlink' AND user_id = $1 AND details->>'reason' = 'deactivated'`, admin); n != 1 {
		t.Fatalf("deactivation unlink audit rows = %d", n)
	}
	if _, _, err := s.CreateLinkCode(ctx, uid); !errors.Is(err, ErrInvalid) {
		t.Fatalf("code for inactive user: %v", err)
	}
	// A failing hook rolls the deactivation back.
	st2 := staff.New(d).WithCost(bcrypt.MinCost).WithDeactivateHook(func(context.Context, *sqlx.Tx, int64, int64) error { return errors.New("boom") })
	if err := st2.UpdateUser(ctx, admin, staff.UserUpdate{ID: admin, Name: "Admin", Role: "staff", Language: "de", Active: false}); err == nil {
		t.Fatal("hook error ignored")
	}
	if n := count(t, d, `SELECT count(*) FROM users WHERE id = $1 AND active`, admin); n != 1 {
		t.Fatal("deactivation committed despite the hook's error")
	}
}

// TestRedeemConcurrent: the same code redeemed by two chats at once links
// exactly one of them.
func TestRedeemConcurrent(t *testing.T) {
	ctx := context.Background()
	d := dbtest.New(t)
	s := New(d)
	for round := 0; round < 5; round++ {
		uid := newUser(t, d, "u"+itoa(int64(round))+"@example.org", "U")
		code, _, err := s.CreateLinkCode(ctx, uid)
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		start := make(chan struct{})
		errs := make([]error, 2)
		for i := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				_, errs[i] = redeem(t, s, int64(1000*round+i+1), code)
			}()
		}
		close(start)
		wg.Wait()
		ok := 0
		for _, err := range errs {
			switch {
			case err == nil:
				ok++
			case !errors.Is(err, ErrCodeInvalid):
				t.Fatal(err)
			}
		}
		if ok != 1 {
			t.Fatalf("round %d: %d chats linked, want 1 (%v)", round, ok, errs)
		}
		if n := count(t, d, `SELECT count(*) FROM fieldstaff_links WHERE user_id = $1`, uid); n != 1 {
			t.Fatalf("round %d: %d links", round, n)
		}
	}
}

// TestHandleChatCitizen: a citizen's chat is not handled, also when it
// sends something that looks like a code; a refused code leaves the
// update's transaction usable.
func TestHandleChatCitizen(t *testing.T) {
	ctx := context.Background()
	d := dbtest.New(t)
	s := New(d)
	err := db.InTx(ctx, d, func(tx *sqlx.Tx) error {
		for _, text := range []string{"Wie beantrage ich einen Reisepass?", "ABCDEFGHJK", "/start", "/abmelden", ""} {
			r, err := s.HandleChat(ctx, tx, 11, text)
			if err != nil {
				return err
			}
			if r.Handled {
				t.Errorf("%q handled as staff: %+v", text, r)
			}
		}
		r, err := s.HandleChat(ctx, tx, 11, "staff-ABCDEFGHJK")
		if err != nil {
			return err
		}
		if !r.Handled || !strings.Contains(r.Text, "ungültig") {
			t.Errorf("a bad staff- code: %+v", r)
		}
		var one int
		return tx.GetContext(ctx, &one, `SELECT 1`)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// The flood limit counts a staff chat's messages (an album once), not a
// citizen's; without a limit nothing is counted; Sweep deletes the counts
// of chats silent for a day.
func TestFloodCount(t *testing.T) {
	ctx := context.Background()
	d := dbtest.New(t)
	s := New(d)
	uid := newUser(t, d, "fred@example.org", "Fred", "ordnungsamt")
	link(t, s, uid, 501)
	flood := routing.Flood{Limit: 3, Window: time.Minute}
	send := func(m Message) Reply {
		t.Helper()
		var r Reply
		if err := db.InTx(ctx, d, func(tx *sqlx.Tx) error {
			var err error
			r, err = s.HandleMessage(ctx, tx, m)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return r
	}
	var texts []string
	for _, m := range []Message{
		{Kind: routing.KindText, Text: "eins"},
		{Kind: routing.KindPhoto, Text: "Foto", MediaGroupID: "g1"},
		{Kind: routing.KindPhoto, Text: "Foto", MediaGroupID: "g1"},
		{Kind: routing.KindPhoto, Text: "Foto", MediaGroupID: "g1"},
		{Kind: routing.KindText, Text: "zwei"},
		{Kind: routing.KindPhoto, Text: "Foto", MediaGroupID: "g2"},
		{Kind: routing.KindPhoto, Text: "Foto", MediaGroupID: "g2"},
		{Kind: routing.KindText, Text: "drei"},
	} {
		m.ChatID, m.Flood = 501, flood
		texts = append(texts, send(m).Text)
	}
	// Counted: eins, the album g1, zwei (answered); album g2 reaches the
	// limit (one notice, not one per photo); drei is over it.
	for i, want := range []string{"Mitarbeiterzugang", "Mitarbeiterzugang", "Mitarbeiterzugang", "Mitarbeiterzugang", "Mitarbeiterzugang", "sehr viele Nachrichten", "", ""} {
		if want == "" && texts[i] != "" || !strings.Contains(texts[i], want) {
			t.Errorf("message %d: %q, want %q", i, texts[i], want)
		}
	}
	// A citizen's chat is not counted, nor anything without a limit.
	send(Message{ChatID: 502, Kind: routing.KindText, Text: "Hallo", Flood: flood})
	send(Message{ChatID: 501, Kind: routing.KindText, Text: "fünf"})
	if n := count(t, d, `SELECT count(*) FROM fieldstaff_chat_flood`); n != 1 {
		t.Fatalf("%d flood rows, want the staff chat's only", n)
	}
	if n := count(t, d, `SELECT cardinality(recent) FROM fieldstaff_chat_flood WHERE chat_id = 501`); n != flood.Limit+2 {
		t.Fatalf("%d times kept, want limit + 2", n)
	}
	d.MustExec(`UPDATE fieldstaff_chat_flood SET updated_at = now() - interval '25 hours'`)
	if _, err := s.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	if n := count(t, d, `SELECT count(*) FROM fieldstaff_chat_flood`); n != 0 {
		t.Fatalf("%d flood rows after the sweep", n)
	}
}

// StaffChatsAmong tells the linked and the refused chats among many; a
// citizen's chat marked NotStaff is handled as without the mark, and a
// link code in it is still redeemed.
func TestStaffChatsAmong(t *testing.T) {
	ctx := context.Background()
	d := dbtest.New(t)
	s := New(d)
	uid := newUser(t, d, "dora@example.org", "Dora", "bauamt")
	code, _, err := s.CreateLinkCode(ctx, uid)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := redeem(t, s, 77, code); err != nil {
		t.Fatal(err)
	}
	if _, err := d.ExecContext(ctx, `INSERT INTO fieldstaff_refused_chats (chat_id) VALUES (78)`); err != nil {
		t.Fatal(err)
	}
	uid2 := newUser(t, d, "emil@example.org", "Emil", "bauamt")
	code2, _, err := s.CreateLinkCode(ctx, uid2)
	if err != nil {
		t.Fatal(err)
	}
	err = db.InTx(ctx, d, func(tx *sqlx.Tx) error {
		staff, err := s.StaffChatsAmong(ctx, tx, []int64{77, 78, 79})
		if err != nil {
			return err
		}
		if len(staff) != 2 || !staff[77] || !staff[78] {
			t.Errorf("StaffChatsAmong = %v, want 77 and 78", staff)
		}
		r, err := s.HandleMessage(ctx, tx, Message{ChatID: 79, Kind: routing.KindText, Text: "Wann hat das Bürgeramt offen?", NotStaff: true,
			Flood: routing.Flood{Limit: 5, Window: time.Minute}})
		if err != nil {
			return err
		}
		if r.Handled {
			t.Errorf("a citizen's question handled as staff: %+v", r)
		}
		r, err = s.HandleMessage(ctx, tx, Message{ChatID: 79, Kind: routing.KindText, Text: "/start staff-" + code2, NotStaff: true,
			Flood: routing.Flood{Limit: 5, Window: time.Minute}})
		if err != nil {
			return err
		}
		if !r.Handled || !r.Linked {
			t.Errorf("a deep link with a code in a chat marked NotStaff: %+v", r)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := count(t, d, `SELECT count(*) FROM fieldstaff_chat_flood WHERE chat_id = 79`); n != 1 {
		t.Fatalf("flood rows of chat 79 = %d, want 1 (the code counted, the question not)", n)
	}
}
