package admin

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"citybot/staff"
)

// TestUnansweredNoPreselection: the "zu Eintrag" choice of a question
// without a related entry starts empty (one click must not add the
// question to an unrelated entry), a related entry is named by its
// question, not its id, and an empty choice is sent back with a hint.
func TestUnansweredNoPreselection(t *testing.T) {
	e := newEnv(t)
	e.withDemoFAQ()
	e.user("ed@example.org", staff.RoleEditor, "bauamt", "gruenflaechen", "jugendamt", "buergerbuero")
	var entryID, question string
	if err := e.db.QueryRow(`SELECT id, question FROM faq_entries WHERE department_id = 'bauamt' ORDER BY id LIMIT 1`).Scan(&entryID, &question); err != nil {
		t.Fatal(err)
	}
	var cit int64
	if err := e.db.Get(&cit, `INSERT INTO citizens (channel, external_id) VALUES ('telegram', '9') RETURNING id`); err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.Exec(`INSERT INTO unanswered (citizen_id, text, reason) VALUES ($1, 'Wer mäht die Wiese am Spielplatz?', 'no_match')`, cit); err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.Exec(`INSERT INTO unanswered (citizen_id, text, reason, entry_id) VALUES ($1, 'Das hat mir nicht geholfen mit dem Abriss', 'not_helpful', $2)`, cit, entryID); err != nil {
		t.Fatal(err)
	}
	ed := e.loggedIn("ed@example.org")
	r := ed.get("/faq/unanswered")
	if r.Status != http.StatusOK {
		t.Fatalf("status %d", r.Status)
	}
	selects := regexp.MustCompile(`(?s)<select id="entry-\d+" name="entry"[^>]*>(.*?)</select>`).FindAllStringSubmatch(r.Body, -1)
	if len(selects) != 2 {
		t.Fatalf("%d entry choices", len(selects))
	}
	var empty, related int
	for _, s := range selects {
		switch {
		case !strings.Contains(s[1], " selected"):
			if !strings.HasPrefix(strings.TrimSpace(s[1]), `<option value="">`) {
				t.Errorf("a choice without a related entry does not start empty: %.200s", s[1])
			}
			empty++
		case strings.Contains(s[1], `<option value="`+entryID+`" selected>`):
			related++
		}
	}
	if empty != 1 || related != 1 {
		t.Errorf("empty choices %d, related %d", empty, related)
	}
	if !strings.Contains(r.Body, "Bezug: "+question) || strings.Contains(r.Body, "Bezug: "+entryID+"<") {
		t.Errorf("the related entry is not named by its question")
	}
	var qid string
	if err := e.db.Get(&qid, `SELECT id::text FROM unanswered WHERE entry_id IS NULL`); err != nil {
		t.Fatal(err)
	}
	r = ed.postForm("/faq/unanswered", "/faq/unanswered/variant", url.Values{"ids": {qid}, "entry": {""}, "variant": {"Wer mäht die Wiese?"}})
	if r.Status != http.StatusSeeOther || !strings.Contains(r.Header.Get("Location"), "un_choose_entry") {
		t.Errorf("empty entry: %d %s", r.Status, r.Header.Get("Location"))
	}
}
