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
