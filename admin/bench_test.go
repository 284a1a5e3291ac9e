package admin

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"testing"
	"time"

	"citybot/staff"
)

// BenchmarkInbox measures the server time of the inbox list and the case
// view with 100,000 cases and 1,000,000 messages in the database (generated
// with generate_series), as staff of one of three departments. It reports
// p50 and p95 in milliseconds; target p95 < 50 ms.
//
//	go test -run '^$' -bench BenchmarkInbox -benchtime 200x ./admin
func BenchmarkInbox(b *testing.B) {
	e := newEnv(b, withCases)
	e.user("bau@example.org", staff.RoleStaff, "bauamt")
	ctx := context.Background()
	start := time.Now()
	for _, q := range []string{
		`INSERT INTO citizens (channel, external_id, language)
		 SELECT 'telegram', (100000 + g)::text, 'de' FROM generate_series(1, 100000) g`,
		`INSERT INTO messages (citizen_id, direction, kind, text, sender, created_at)
		 SELECT c.id, CASE WHEN k % 3 = 2 THEN 'out' ELSE 'in' END, 'text',
		        'Nachricht ' || k || ' zu Anliegen ' || c.id || ' Baugenehmigung Carport Parkausweis Sperrmüll',
		        CASE WHEN k % 3 = 2 THEN 'staff' ELSE 'citizen' END,
		        now() - make_interval(mins => (100000 - c.id)::int * 5 + (10 - k))
		 FROM citizens c, generate_series(1, 10) k`,
		`INSERT INTO cases (citizen_id, department_id, status, reason, subject, preview, search, created_at, waiting_since, attention_at, last_activity_at, closed_at, close_reason)
		 SELECT c.id, (ARRAY['bauamt','ordnungsamt','zentrale'])[1 + c.id % 3],
		        s.status, 'no_match', 'Anliegen ' || c.id, 'Nachricht zu Anliegen ' || c.id,
		        to_tsvector('simple', 'Anliegen ' || c.id || ' Baugenehmigung Carport'),
		        t.at, t.at, t.at, t.at,
		        CASE WHEN s.status = 'closed' THEN t.at + interval '1 hour' END,
		        CASE WHEN s.status = 'closed' THEN 'staff' ELSE '' END
		 FROM citizens c,
		      LATERAL (SELECT (ARRAY['waiting','answered','closed','closed','closed'])[1 + (c.id / 3) % 5] AS status) s,
		      LATERAL (SELECT now() - make_interval(mins => (100000 - c.id)::int * 5) AS at) t`,
		`INSERT INTO case_messages (case_id, message_id)
		 SELECT ca.id, m.id FROM cases ca JOIN messages m ON m.citizen_id = ca.citizen_id`,
		`VACUUM ANALYZE`,
	} {
		if _, err := e.db.ExecContext(ctx, q); err != nil {
			b.Fatal(err)
		}
	}
	_, _ = e.db.ExecContext(ctx, `CHECKPOINT`) // superuser only; best effort
	var nCases, nMsgs int
	_ = e.db.Get(&nCases, `SELECT count(*) FROM cases`)
	_ = e.db.Get(&nMsgs, `SELECT count(*) FROM messages`)
	b.Logf("generated %d cases and %d messages in %s", nCases, nMsgs, time.Since(start).Round(time.Millisecond))

	c := e.loggedIn("bau@example.org")
	u, _ := url.Parse(e.url)
	cookies := c.jar.Cookies(u)
	h := e.srv.Handler()
	var bauCases []int64
	if err := e.db.Select(&bauCases, `SELECT id FROM cases WHERE department_id = 'bauamt' ORDER BY id`); err != nil {
		b.Fatal(err)
	}
	rnd := rand.New(rand.NewPCG(1, 2))

	var nextCursor string
	if r := c.get("/inbox?view=departments"); r.Status != 200 {
		b.Fatal(r.Status)
	} else if m := regexpNext.FindStringSubmatch(r.Body); m != nil {
		nextCursor = m[1]
	}
	benches := []struct {
		name string
		path func() string
	}{
		{"list_waiting", func() string { return "/inbox?view=waiting" }},
		{"list_departments", func() string { return "/inbox?view=departments" }},
		{"list_departments_page2", func() string { return "/inbox?view=departments&cursor=" + nextCursor }},
		{"list_closed", func() string { return "/inbox?view=closed" }},
		{"list_search", func() string { return "/inbox?view=departments&q=carport" }},
		{"case_view", func() string { return fmt.Sprintf("/cases/%d", bauCases[rnd.IntN(len(bauCases))]) }},
		{"case_transcript_partial", func() string {
			return fmt.Sprintf("/cases/%d?partial=transcript", bauCases[rnd.IntN(len(bauCases))])
		}},
	}
	for _, bm := range benches {
		b.Run(bm.name, func(b *testing.B) {
			for range 20 { // warm up caches and connections
				req := httptest.NewRequest(http.MethodGet, bm.path(), nil)
				for _, ck := range cookies {
					req.AddCookie(ck)
				}
				h.ServeHTTP(httptest.NewRecorder(), req)
			}
			var durs []time.Duration
			for b.Loop() {
				req := httptest.NewRequest(http.MethodGet, bm.path(), nil)
				for _, ck := range cookies {
					req.AddCookie(ck)
				}
				w := httptest.NewRecorder()
				t0 := time.Now()
				h.ServeHTTP(w, req)
				durs = append(durs, time.Since(t0))
				if w.Code != 200 {
					b.Fatalf("%s: %d", req.URL, w.Code)
				}
			}
			slices.Sort(durs)
			pct := func(p float64) float64 {
				return float64(durs[int(float64(len(durs)-1)*p)].Microseconds()) / 1000
			}
			b.ReportMetric(pct(0.50), "p50-ms")
			b.ReportMetric(pct(0.95), "p95-ms")
		})
	}
}
