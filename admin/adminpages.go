package admin

import "github.com/gin-gonic/gin"

func (s *Server) routeAdmin(g *gin.RouterGroup) {
	g.GET("/users", s.usersPage)
	g.GET("/users/new", s.userForm)
	g.POST("/users", s.createUser)
	g.GET("/users/:id", s.userForm)
	g.POST("/users/:id", s.updateUser)
	g.POST("/users/:id/invite", s.reissueInvite)
	g.POST("/users/:id/invite/revoke", s.revokeInvite)
	g.GET("/audit", s.auditPage)
	g.GET("/throttles", s.throttlesPage)
	g.POST("/throttles/clear", s.clearThrottlePost)
	g.GET("/departments", s.departmentsPage)
	g.GET("/departments/new", s.newDepartmentForm)
	g.POST("/departments", s.createDepartment)
	g.GET("/departments/:id", s.departmentForm)
	g.POST("/departments/:id", s.updateDepartment)
	s.routeSSO(g)
}
