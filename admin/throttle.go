package admin

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// Password checks are throttled per account and client address, and per
// client address alone (staff/throttle.go); admins see and clear the
// throttles here.

// throttlesPage lists the throttles of the last day for admins.
func (s *Server) throttlesPage(c *gin.Context) {
	list, err := s.staff.ListThrottles(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return
	}
	p := s.page(c, "throttles.title")
	p.Nav = "users"
	p.Data = map[string]any{"Throttles": list}
	s.render(c, http.StatusOK, "throttles", p)
}

// clearThrottlePost lifts one throttle (an owner who mistyped too often).
func (s *Server) clearThrottlePost(c *gin.Context) {
	ctx := c.Request.Context()
	email, ip := c.PostForm("email"), c.PostForm("ip")
	if err := s.staff.ClearThrottle(ctx, currentUser(c).ID, email, ip); err != nil {
		s.fail(c, err)
		return
	}
	redirect(c, "/admin/throttles", "throttle_cleared")
}
