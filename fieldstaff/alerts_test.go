package fieldstaff

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"golang.org/x/crypto/bcrypt"

	"citybot/internal/dbtest"
	"citybot/routing"
	"citybot/staff"
)

// link links chat to user through a code, as the bot does.
func link(t *testing.T, s *Store, uid, chat int64) {
	t.Helper()
	code, _, err := s.CreateLinkCode(context.Background(), uid)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := redeem(t, s, chat, code); err != nil {
		t.Fatal(err)
	}
}

// openCase opens a waiting case of a new citizen (chat) in dept.
func openCase(t *testing.T, d *sqlx.DB, chat int64, dept, question string) int64 {
	t.Helper()
	ctx := context.Background()
	c, err := routing.NewStore(d).TouchCitizen(ctx, routing.ChannelTelegram, strconv.FormatInt(chat, 10), "de")
	if err != nil {
		t.Fatal(err)
	}
	cs, err := routing.NewCases(d, routing.CasesOptions{}).Open(ctx, c.ID, dept, "test", routing.OpenOptions{Question: question})
	if err != nil {
		t.Fatal(err)
	}
	return cs.ID
}

// alertTexts are the texts of the staff chat outbox rows of chat.
func alertTexts(t *testing.T, d *sqlx.DB, chat int64) []string {
	t.Helper()
	var out []string
	if err := d.Select(&out, `SELECT payload->>'text' FROM outbox WHERE staff_chat AND chat_id = $1 ORDER BY id`, strconv.FormatInt(chat, 10)); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestAlertSettings(t *testing.T) {
	ctx := context.Background()
	d := dbtest.New(t)
	s := New(d)
	uid := newUser(t, d, "dora@example.org", "Dora", "bauamt", "ordnungsamt")
	newUser(t, d, "x@example.org", "X", "gruenflaechen")

	got, err := s.AlertSettings(ctx, uid)
	if err != nil || len(got) != 2 || got[0].Mode != AlertOff || got[1].Mode != AlertOff {
		t.Fatalf("defaults = %+v, %v", got, err)
	}
	if err := s.SetAlertModes(ctx, uid, map[string]string{"bauamt": AlertEach, "ordnungsamt": AlertDigest}); err != nil {
		t.Fatal(err)
	}
	got, _ = s.AlertSettings(ctx, uid)
	if got[0].Department != "bauamt" || got[0].Mode != AlertEach || got[1].Mode != AlertDigest {
		t.Fatalf("saved = %+v", got)
	}
	if n := count(t, d, `SELECT count(*) FROM audit_log WHERE action = 'fieldstaff.alerts' AND user_id = $1 AND details->>'bauamt' = 'each'`, uid); n != 1 {
		t.Fatalf("audit rows = %d", n)
	}
	// Hostile input: another department's, an unknown mode. Nothing changes.
	for _, m := range []map[string]string{{"gruenflaechen": AlertEach}, {"bauamt": "always"}, {"bauamt": AlertOff, "nope": AlertEach}} {
		if err := s.SetAlertModes(ctx, uid, m); !errors.Is(err, ErrInvalid) {
			t.Fatalf("SetAlertModes(%v) = %v, want ErrInvalid", m, err)
		}
	}
	got, _ = s.AlertSettings(ctx, uid)
	if got[0].Mode != AlertEach {
		t.Fatalf("a refused change changed something: %+v", got)
	}
	// Saving the same modes again writes no audit row.
	if err := s.SetAlertModes(ctx, uid, map[string]string{"bauamt": AlertEach}); err != nil {
		t.Fatal(err)
	}
	if n := count(t, d, `SELECT count(*) FROM audit_log WHERE action = 'fieldstaff.alerts'`); n != 1 {
		t.Fatalf("audit rows after a no-op save = %d", n)
	}
}

func TestAlertsEachOnceAndIsolated(t *testing.T) {
	ctx := context.Background()
	d := dbtest.New(t)
	s := New(d)
	anna := newUser(t, d, "anna@example.org", "Anna", "bauamt")
	otto := newUser(t, d, "otto@example.org", "Otto", "ordnungsamt")
	nils := newUser(t, d, "nils@example.org", "Nils", "bauamt") // linked, alerts off
	link(t, s, anna, 11)
	link(t, s, otto, 12)
	link(t, s, nils, 13)
	for uid, dep := range map[int64]string{anna: "bauamt", otto: "ordnungsamt"} {
		if err := s.SetAlertModes(ctx, uid, map[string]string{dep: AlertEach}); err != nil {
			t.Fatal(err)
		}
	}
	id := openCase(t, d, 900, "bauamt", `Zaun <script>alert(1)</script> & Co`)
	cfg := AlertConfig{PublicURL: "https://citybot.example.org/"}
	n, err := s.RunAlerts(ctx, cfg)
	if err != nil || n != 1 {
		t.Fatalf("RunAlerts = %d, %v, want 1", n, err)
	}
	got := alertTexts(t, d, 11)
	if len(got) != 1 {
		t.Fatalf("anna got %d alerts", len(got))
	}
	for _, want := range []string{"Neuer Fall #" + itoa(id), "bauamt", "Zaun &lt;script&gt;alert(1)&lt;/script&gt; &amp; Co",
		`href="https://citybot.example.org/cases/` + itoa(id) + `"`} {
		if !strings.Contains(got[0], want) {
			t.Fatalf("alert %q lacks %q", got[0], want)
		}
	}
	var buttons string
	if err := d.Get(&buttons, `SELECT payload->>'buttons' FROM outbox WHERE staff_chat AND chat_id = '11'`); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buttons, `"al:c:`+itoa(id)+`"`) || !strings.Contains(buttons, `"al:x:`+itoa(id)+`"`) {
		t.Fatalf("buttons = %s", buttons)
	}
	if len(alertTexts(t, d, 12)) != 0 || len(alertTexts(t, d, 13)) != 0 {
		t.Fatal("another department's staff member, or one with alerts off, was alerted")
	}
	// Exactly once: a second run, and a run after a restart, queue nothing.
	if n, err := s.RunAlerts(ctx, cfg); err != nil || n != 0 {
		t.Fatalf("second run = %d, %v", n, err)
	}
	if n, err := New(d).RunAlerts(ctx, cfg); err != nil || n != 0 {
		t.Fatalf("run of a new store = %d, %v", n, err)
	}
	// Switching alerts on does not alert the cases that waited before.
	if err := s.SetAlertModes(ctx, nils, map[string]string{"bauamt": AlertEach}); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.RunAlerts(ctx, cfg); n != 0 {
		t.Fatalf("the backlog before switching on was alerted: %d", n)
	}
	// Without a public URL the alert names the case instead of a link.
	id2 := openCase(t, d, 901, "bauamt", "Baugenehmigung")
	if n, err := s.RunAlerts(ctx, AlertConfig{}); err != nil || n != 2 {
		t.Fatalf("RunAlerts = %d, %v, want 2 (anna, nils)", n, err)
	}
	got = alertTexts(t, d, 11)
	if len(got) != 2 || strings.Contains(got[1], "href") || !strings.Contains(got[1], "Web-Posteingang: Fall #"+itoa(id2)) {
		t.Fatalf("alert without public URL = %q", got)
	}
}

func TestAlertsConcurrentRuns(t *testing.T) {
	ctx := context.Background()
	d := dbtest.New(t)
	s := New(d)
	const users = 5
	for i := range users {
		uid := newUser(t, d, "u"+itoa(int64(i))+"@example.org", "U", "bauamt")
		link(t, s, uid, int64(100+i))
		if err := s.SetAlertModes(ctx, uid, map[string]string{"bauamt": AlertEach}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 4 {
		openCase(t, d, int64(900+i), "bauamt", "Frage")
	}
	// Several instances at once: every case alerts every user exactly once.
	var wg sync.WaitGroup
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 3 {
				if _, err := New(d).RunAlerts(ctx, AlertConfig{}); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	if n := count(t, d, `SELECT count(*) FROM outbox WHERE staff_chat`); n != users*4 {
		t.Fatalf("%d alert messages, want %d", n, users*4)
	}
	if n := count(t, d, `SELECT count(*) FROM fieldstaff_alerts`); n != users*4 {
		t.Fatalf("%d alert rows, want %d", n, users*4)
	}
}

func TestAlertsDigestAndOfficeHours(t *testing.T) {
	ctx := context.Background()
	d := dbtest.New(t)
	s := New(d)
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	cal, err := routing.NewCalendarIn("NW", berlin)
	if err != nil {
		t.Fatal(err)
	}
	dora := newUser(t, d, "dora@example.org", "Dora", "bauamt")
	emil := newUser(t, d, "emil@example.org", "Emil", "bauamt")
	link(t, s, dora, 21)
	link(t, s, emil, 22)
	if err := s.SetAlertModes(ctx, dora, map[string]string{"bauamt": AlertDigest}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetAlertModes(ctx, emil, map[string]string{"bauamt": AlertEach}); err != nil {
		t.Fatal(err)
	}
	// Bauamt is open Monday to Friday 8 to 16.
	w := routing.WeekHours{}
	for day := 1; day <= 5; day++ {
		w[day] = []routing.Span{{"08:00", "16:00"}}
	}
	if err := routing.SetOfficeHours(ctx, d, "bauamt", w); err != nil {
		t.Fatal(err)
	}
	ids := []int64{openCase(t, d, 900, "bauamt", "Erste Frage"), openCase(t, d, 901, "bauamt", "Zweite Frage"), openCase(t, d, 902, "bauamt", "Dritte Frage")}

	// Saturday 2026-12-05: closed; nothing goes out, all is held.
	saturday := time.Date(2026, 12, 5, 10, 0, 0, 0, berlin)
	monday := time.Date(2026, 12, 7, 8, 30, 0, 0, berlin)
	cfg := AlertConfig{Calendar: cal, DigestInterval: time.Hour, Now: func() time.Time { return saturday }}
	if n, err := s.RunAlerts(ctx, cfg); err != nil || n != 0 {
		t.Fatalf("closed office: RunAlerts = %d, %v", n, err)
	}
	// Monday at opening: Emil gets each case, Dora one digest listing them.
	cfg.Now = func() time.Time { return monday }
	if n, err := s.RunAlerts(ctx, cfg); err != nil || n != 4 {
		t.Fatalf("at opening: RunAlerts = %d, %v, want 3 + 1", n, err)
	}
	if got := alertTexts(t, d, 22); len(got) != 3 {
		t.Fatalf("emil got %d alerts, want 3", len(got))
	}
	got := alertTexts(t, d, 21)
	if len(got) != 1 || !strings.Contains(got[0], "3 neue Fälle") {
		t.Fatalf("dora's digest = %q", got)
	}
	for _, id := range ids {
		if !strings.Contains(got[0], "#"+itoa(id)) {
			t.Fatalf("digest %q lacks case %d", got[0], id)
		}
	}
	if n := count(t, d, `SELECT count(*) FROM fieldstaff_alerts WHERE user_id = $1 AND digest`, dora); n != 3 {
		t.Fatalf("digest alert rows = %d", n)
	}
	// A new case within the digest interval waits for the next digest.
	id4 := openCase(t, d, 903, "bauamt", "Vierte Frage")
	cfg.Now = func() time.Time { return monday.Add(20 * time.Minute) }
	if n, err := s.RunAlerts(ctx, cfg); err != nil || n != 1 {
		t.Fatalf("within the interval: RunAlerts = %d, %v, want 1 (emil)", n, err)
	}
	if got := alertTexts(t, d, 21); len(got) != 1 {
		t.Fatalf("dora got a digest within the interval: %q", got)
	}
	// After the interval, one case is a plain alert.
	cfg.Now = func() time.Time { return monday.Add(2 * time.Hour) }
	if n, err := s.RunAlerts(ctx, cfg); err != nil || n != 1 {
		t.Fatalf("after the interval: RunAlerts = %d, %v, want 1", n, err)
	}
	got = alertTexts(t, d, 21)
	if len(got) != 2 || !strings.Contains(got[1], "Neuer Fall #"+itoa(id4)) {
		t.Fatalf("dora's second alert = %q", got)
	}
}

func TestAlertsStopWhenUnlinkedOrDeactivated(t *testing.T) {
	ctx := context.Background()
	d := dbtest.New(t)
	s := New(d)
	st := staff.New(d).WithCost(bcrypt.MinCost).WithDeactivateHook(s.Deactivated)
	admin := newUser(t, d, "admin@example.org", "Admin")
	fritz := newUser(t, d, "fritz@example.org", "Fritz", "bauamt")
	gabi := newUser(t, d, "gabi@example.org", "Gabi", "bauamt")
	link(t, s, fritz, 31)
	link(t, s, gabi, 32)
	for _, uid := range []int64{fritz, gabi} {
		if err := s.SetAlertModes(ctx, uid, map[string]string{"bauamt": AlertEach}); err != nil {
			t.Fatal(err)
		}
	}
	openCase(t, d, 900, "bauamt", "Frage eins")
	if n, err := s.RunAlerts(ctx, AlertConfig{}); err != nil || n != 2 {
		t.Fatalf("RunAlerts = %d, %v", n, err)
	}
	// Queued, not sent yet: unlinking and deactivating take them back.
	if err := s.Unlink(ctx, fritz, fritz); err != nil {
		t.Fatal(err)
	}
	if err := st.UpdateUser(ctx, admin, staff.UserUpdate{ID: gabi, Name: "Gabi", Role: "staff", Language: "de", Active: false, Departments: []string{"bauamt"}}); err != nil {
		t.Fatal(err)
	}
	if n := count(t, d, `SELECT count(*) FROM outbox WHERE staff_chat`); n != 0 {
		t.Fatalf("%d unsent alerts of unlinked or deactivated users left in the outbox", n)
	}
	// Moved to another department: the setting stays, the alerts stop.
	hugo := newUser(t, d, "hugo@example.org", "Hugo", "bauamt")
	d.MustExec(`INSERT INTO departments (id, name) VALUES ('ordnungsamt', 'Ordnungsamt')`)
	link(t, s, hugo, 33)
	if err := s.SetAlertModes(ctx, hugo, map[string]string{"bauamt": AlertEach}); err != nil {
		t.Fatal(err)
	}
	if err := st.UpdateUser(ctx, admin, staff.UserUpdate{ID: hugo, Name: "Hugo", Role: "staff", Language: "de", Active: true, Departments: []string{"ordnungsamt"}}); err != nil {
		t.Fatal(err)
	}
	openCase(t, d, 901, "bauamt", "Frage zwei")
	if n, err := s.RunAlerts(ctx, AlertConfig{}); err != nil || n != 0 {
		t.Fatalf("alerts for unlinked, deactivated or moved users: %d, %v", n, err)
	}
}

// The digest interval is a setting (CITYBOT_ALERT_DIGEST_INTERVAL): a
// digest comes at most once per DigestInterval, default one hour.
func TestAlertsDigestInterval(t *testing.T) {
	ctx := context.Background()
	d := dbtest.New(t)
	s := New(d)
	dora := newUser(t, d, "dora@example.org", "Dora", "bauamt")
	link(t, s, dora, 31)
	if err := s.SetAlertModes(ctx, dora, map[string]string{"bauamt": AlertDigest}); err != nil {
		t.Fatal(err)
	}
	t0 := timeNow(t, d)
	at := func(every, after time.Duration) int {
		t.Helper()
		n, err := s.RunAlerts(ctx, AlertConfig{DigestInterval: every, Now: func() time.Time { return t0.Add(after) }})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	openCase(t, d, 930, "bauamt", "Erste Frage")
	if n := at(10*time.Minute, 0); n != 1 {
		t.Fatalf("first digest: %d", n)
	}
	openCase(t, d, 931, "bauamt", "Zweite Frage")
	if n := at(10*time.Minute, 5*time.Minute); n != 0 {
		t.Fatalf("within 10 minutes: %d", n)
	}
	if n := at(0, 11*time.Minute); n != 0 {
		t.Fatalf("by default (one hour), after 11 minutes: %d", n)
	}
	if n := at(10*time.Minute, 11*time.Minute); n != 1 {
		t.Fatalf("after 10 minutes: %d", n)
	}
}
