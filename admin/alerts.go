package admin

import (
	"time"

	"github.com/gin-gonic/gin"

	"citybot/fieldstaff"
)

// alertData adds the user's alert modes per department to the account
// page, and how often a digest comes at most.
func (s *Server) alertData(c *gin.Context, p *page, data map[string]any) error {
	as, err := s.field.AlertSettings(c.Request.Context(), p.User.ID)
	if err != nil {
		return err
	}
	data["Alerts"] = as
	data["AlertModes"] = fieldstaff.AlertModes
	data["DigestEvery"] = digestEvery(p, s.cfg.AlertDigestInterval)
	return nil
}

// digestEvery says how often a digest comes at most ("einmal pro
// Stunde", "alle 30 Minuten") in the page's language.
func digestEvery(p *page, d time.Duration) string {
	if d <= 0 {
		d = fieldstaff.DefaultDigestInterval
	}
	switch {
	case d == time.Hour:
		return p.T("account.digest_every.hour")
	case d%time.Hour == 0:
		return p.T("account.digest_every.hours", int(d/time.Hour))
	}
	return p.T("account.digest_every.minutes", int(d.Round(time.Minute)/time.Minute))
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
