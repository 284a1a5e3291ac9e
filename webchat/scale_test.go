package webchat

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"citybot/internal/db"
	"citybot/staff"
)

// Several instances behind a load balancer share the database: a citizen's
// stream is open on one instance while the conversation, the handoff and
// the delivery of the staff reply happen on another. Only NOTIFY can bring
// the reply to the stream in time: idle polling and keepalives are slower
// than the test waits.
func TestScaleTwoInstances(t *testing.T) {
	slow := func(c *Config) { c.IdleInterval, c.Keepalive = time.Minute, time.Minute }
	// instances starts two instances with their own instance ids on one
	// database; only the first delivers the outbox.
	instances := func(t *testing.T) (deliverer, streamer *env, ids [2]int32) {
		d, url := newDB(t)
		for i := range ids {
			in, err := db.StartInstance(context.Background(), d, nil)
			must(t, err)
			ids[i] = in.ID
		}
		deliverer = startEnv(t, d, url, true, slow, func(c *Config) { c.Instance = ids[0] })
		streamer = startEnv(t, d, url, false, slow, func(c *Config) { c.Instance = ids[1] })
		return deliverer, streamer, ids
	}
	run := func(t *testing.T, via, streamOn *env, deliverer int32) {
		tok := via.start("/mitarbeiter Ich möchte mich über Lärm von der Baustelle in der Hauptstraße beschweren")
		s := streamOn.stream(tok, 0)
		evs := s.until(t, 5*time.Second, func(ev sseEvent) bool { return handoffYes(ev) != nil })
		ask := evs[len(evs)-1]
		btn := handoffYes(ask)
		if st, out := via.post(tok, map[string]any{"data": btn["data"], "label": btn["text"], "ref": ask.ID}); st != http.StatusOK {
			t.Fatalf("confirm: %d %v", st, out)
		}
		caseID := waitCase(t, via.db)
		// The confirmation (an answer of the engine) reaches the stream too.
		s.until(t, 5*time.Second, func(ev sseEvent) bool { return ev.From == "bot" && ev.ID > ask.ID && ev.Payload["edit"] == nil })

		uid := staffUser(t, via.db)
		for i, reply := range []string{"Wir kümmern uns darum.", "Die Baustelle ist informiert."} {
			_, err := via.cases.Reply(context.Background(), staff.Principal{ID: uid, Role: staff.RoleAdmin}, caseID, reply, nil)
			must(t, err)
			got := s.until(t, 5*time.Second, func(ev sseEvent) bool { return ev.From == "staff" })
			if !strings.HasSuffix(text(got[len(got)-1]), "\n"+reply) {
				t.Fatalf("reply %d: %+v", i, got[len(got)-1])
			}
		}
		var claimers []int32
		must(t, via.db.Select(&claimers, `SELECT DISTINCT coalesce(claimed_by, 0) FROM outbox WHERE channel = 'web'`))
		if len(claimers) != 1 || claimers[0] != deliverer {
			t.Fatalf("outbox claimed by %v, want only %d", claimers, deliverer)
		}
	}
	// The stream on B; the conversation, the handoff and every delivery
	// through A.
	t.Run("stream on B", func(t *testing.T) {
		a, b, ids := instances(t)
		run(t, a, b, ids[0])
	})
	// The reverse: the stream on A; the conversation and the handoff
	// through B, every delivery by B.
	t.Run("stream on A", func(t *testing.T) {
		b, a, ids := instances(t)
		run(t, b, a, ids[0])
	})
	// Both deliver (whichever claims a row): every reply reaches the
	// stream exactly once, in order.
	t.Run("both deliver", func(t *testing.T) {
		d, url := newDB(t)
		a := startEnv(t, d, url, true, slow, func(c *Config) { c.Instance = 1 })
		b := startEnv(t, d, url, true, slow, func(c *Config) { c.Instance = 2 })
		tok := a.start("/mitarbeiter Ich möchte mich über Lärm von der Baustelle in der Hauptstraße beschweren")
		s := b.stream(tok, 0)
		evs := s.until(t, 5*time.Second, func(ev sseEvent) bool { return handoffYes(ev) != nil })
		btn := handoffYes(evs[len(evs)-1])
		if st, out := a.post(tok, map[string]any{"data": btn["data"], "label": btn["text"], "ref": evs[len(evs)-1].ID}); st != http.StatusOK {
			t.Fatalf("confirm: %d %v", st, out)
		}
		caseID := waitCase(t, d)
		uid := staffUser(t, d)
		const n = 10
		for i := range n {
			_, err := a.cases.Reply(context.Background(), staff.Principal{ID: uid, Role: staff.RoleAdmin}, caseID, "Antwort "+jsonInt(int64(i)), nil)
			must(t, err)
		}
		var got []string
		s.until(t, 10*time.Second, func(ev sseEvent) bool {
			if ev.From == "staff" {
				got = append(got, text(ev))
			}
			return len(got) == n
		})
		for i, g := range got {
			if !strings.HasSuffix(g, "\nAntwort "+jsonInt(int64(i))) {
				t.Fatalf("replies %s", strings.Join(got, ", "))
			}
		}
	})
}

// waitCase waits for the first case and returns its id.
func waitCase(t *testing.T, d *sqlx.DB) int64 {
	t.Helper()
	var id int64
	deadline := time.Now().Add(10 * time.Second)
	for d.Get(&id, `SELECT id FROM cases`) != nil {
		if time.Now().After(deadline) {
			t.Fatal("no case")
		}
		time.Sleep(50 * time.Millisecond)
	}
	return id
}

// staffUser inserts an admin and returns its id.
func staffUser(t *testing.T, d *sqlx.DB) int64 {
	t.Helper()
	var uid int64
	must(t, d.Get(&uid, `INSERT INTO users (email, name, password_hash, role) VALUES ('a@x.de', 'A', 'x', 'admin') RETURNING id`))
	return uid
}

// An outbox row claimed by an instance that stopped (a crash) is taken
// over within the orphan sweep, not after its lease.
func TestOrphanedClaimTakenOver(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.OrphanSweep = 200 * time.Millisecond; c.Instance = 7 })
	tok := e.start("Hallo")
	s := e.stream(tok, 0)
	s.until(t, 5*time.Second, func(ev sseEvent) bool { return ev.From == "bot" })
	var conv, citizen int64
	must(t, e.db.Get(&conv, `SELECT id FROM webchat_conversations`))
	must(t, e.db.Get(&citizen, `SELECT id FROM citizens`))
	// Claimed for an hour by instance 99, which holds no instance lock.
	_, err := e.db.Exec(`
		INSERT INTO outbox (citizen_id, channel, chat_id, payload, status, attempts, locked_until, claimed_by)
		VALUES ($1, 'web', $2, '{"text":"Nachgereicht"}', 'sending', 1, now() + interval '1 hour', 99)`, citizen, jsonInt(conv))
	must(t, err)
	s.until(t, 5*time.Second, func(ev sseEvent) bool { return text(ev) == "Nachgereicht" })
}
