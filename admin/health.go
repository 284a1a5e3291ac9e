package admin

import (
	"context"
	"embed"
	"io/fs"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
)

// healthz: the process is alive and serving.
func (s *Server) healthz(c *gin.Context) {
	c.Header("Content-Type", "text/plain; charset=utf-8")
	c.String(http.StatusOK, "ok\n")
}

// readyz: the database answers and the rest of the service says it is ready.
func (s *Server) readyz(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
	defer cancel()
	c.Header("Content-Type", "text/plain; charset=utf-8")
	if err := s.db.PingContext(ctx); err != nil {
		s.log.Warn("not ready: database", "err", err)
		c.String(http.StatusServiceUnavailable, "database unavailable\n")
		return
	}
	if s.deps.Ready != nil {
		if err := s.deps.Ready(ctx); err != nil {
			s.log.Warn("not ready", "err", err)
			c.String(http.StatusServiceUnavailable, "not ready\n")
			return
		}
	}
	c.String(http.StatusOK, "ready\n")
}

//go:embed static
var staticFiles embed.FS

func (s *Server) static(c *gin.Context) {
	name := strings.TrimPrefix(c.Param("file"), "/")
	sub, _ := fs.Sub(staticFiles, "static")
	b, err := fs.ReadFile(sub, name)
	if err != nil || name == "" {
		s.fail(c, errNotFound)
		return
	}
	ct := "application/octet-stream"
	switch {
	case strings.HasSuffix(name, ".css"):
		ct = "text/css; charset=utf-8"
	case strings.HasSuffix(name, ".js"):
		ct = "text/javascript; charset=utf-8"
	case strings.HasSuffix(name, ".svg"):
		ct = "image/svg+xml"
	}
	c.Header("Cache-Control", "public, max-age=3600")
	c.Data(http.StatusOK, ct, b)
}

func stack() string { return string(debug.Stack()) }
