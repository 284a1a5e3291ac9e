package admin

import (
	"fmt"
	"strings"
	"testing"

	"citybot/staff"
)

// A case of the web chat shows its channel by name, not as the code "web".
func TestCaseShowsWebChatChannel(t *testing.T) {
	e := newEnv(t, withCases)
	e.user("bau@example.org", staff.RoleStaff, "bauamt")
	cs, _ := e.newCase("17", "bauamt", text("Frage aus dem Web-Chat"))
	if _, err := e.db.Exec(`UPDATE citizens SET channel = 'web' WHERE id = $1`, cs.CitizenID); err != nil {
		t.Fatal(err)
	}
	r := e.loggedIn("bau@example.org").get(fmt.Sprintf("/cases/%d", cs.ID))
	if r.Status != 200 || !strings.Contains(r.Body, "Website-Chat") {
		t.Fatalf("status %d; the case page does not name the channel Website-Chat", r.Status)
	}
}

// The inbox list names each case's channel in words (a badge with text,
// not colour alone), so that staff see which chats came from the website.
func TestInboxShowsChannel(t *testing.T) {
	e := newEnv(t, withCases)
	e.user("bau@example.org", staff.RoleStaff, "bauamt")
	web, _ := e.newCase("17", "bauamt", text("Frage aus dem Web-Chat"))
	tg, _ := e.newCase("18", "bauamt", text("Frage aus Telegram"))
	if _, err := e.db.Exec(`UPDATE citizens SET channel = 'web' WHERE id = $1`, web.CitizenID); err != nil {
		t.Fatal(err)
	}
	r := e.loggedIn("bau@example.org").get("/inbox")
	if r.Status != 200 {
		t.Fatalf("status %d", r.Status)
	}
	row := func(id int64) string {
		t.Helper()
		start := strings.Index(r.Body, fmt.Sprintf(`data-case="%d"`, id))
		if start < 0 {
			t.Fatalf("case %d not listed", id)
		}
		end := strings.Index(r.Body[start:], "</tr>")
		return r.Body[start : start+end]
	}
	badge := `<span class="badge badge-channel"><span class="visually-hidden">Kanal: </span>%s</span>`
	if got := row(web.ID); !strings.Contains(got, fmt.Sprintf(badge, "Website-Chat")) {
		t.Errorf("web case row: %s", got)
	}
	if got := row(tg.ID); !strings.Contains(got, fmt.Sprintf(badge, "Telegram")) || strings.Contains(got, "Website-Chat") {
		t.Errorf("Telegram case row: %s", got)
	}
}
