package admin

import (
	"github.com/gin-gonic/gin"

	"citybot/fieldstaff"
)

// alertData adds the user's alert modes per department to the account
// page.
func (s *Server) alertData(c *gin.Context, userID int64, data map[string]any) error {
	as, err := s.field.AlertSettings(c.Request.Context(), userID)
	if err != nil {
		return err
	}
	data["Alerts"] = as
	data["AlertModes"] = fieldstaff.AlertModes
	return nil
}

// saveAlerts saves the user's alert mode per department (the form's
// "alert:<department>" fields); fieldstaff refuses a department that is
// not the user's and an unknown mode, and audits the change.
func (s *Server) saveAlerts(c *gin.Context) {
	me := currentUser(c)
	ctx := c.Request.Context()
	as, err := s.field.AlertSettings(ctx, me.ID)
	if err != nil {
		s.fail(c, err)
		return
	}
	modes := map[string]string{}
	for _, a := range as {
		if v, ok := c.GetPostForm("alert:" + a.Department); ok {
			modes[a.Department] = v
		}
	}
	if err := s.field.SetAlertModes(ctx, me.ID, modes); err != nil {
		s.fail(c, err)
		return
	}
	redirect(c, "/account", "alerts_saved")
}
