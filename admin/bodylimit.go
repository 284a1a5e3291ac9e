package admin

import (
	"errors"
	"mime"
	"net/http"

	"github.com/gin-gonic/gin"

	"citybot/broadcast"
	"citybot/internal/apperr"
)

// Request body limits, applied before anything reads the body (the CSRF
// check parses the form): a stranger's POST is read up to
// maxAnonymousBody, a logged-in user's up to maxFormBody, except on the
// few upload routes, which allow what their uploads need.
const (
	maxAnonymousBody = 16 << 10
	maxFormBody      = 1 << 20
)

// uploadLimits are the body limits of the upload routes (gin's full path).
var uploadLimits = map[string]int64{
	"/cases/:id/reply":     maxReplyBody,
	"/faq/import":          maxUpload + 1<<20,
	"/broadcast/posts":     2*broadcast.MaxPhotoBytes + 1<<20,
	"/broadcast/posts/:id": 2*broadcast.MaxPhotoBytes + 1<<20,
}

var errTooLarge = apperr.New(apperr.TooLarge, "admin: request body too large")

// bodyLimit is the limit of the request's body.
func bodyLimit(c *gin.Context) int64 {
	if currentSession(c) == nil {
		return maxAnonymousBody
	}
	if n, ok := uploadLimits[c.FullPath()]; ok {
		return n
	}
	return maxFormBody
}

// limitBody refuses a body larger than its limit: at once when the
// Content-Length says so, else when reading reaches the limit (the form
// parse in checkCSRF then answers 413).
func (s *Server) limitBody(c *gin.Context) {
	switch c.Request.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		c.Next()
		return
	}
	limit := bodyLimit(c)
	if c.Request.ContentLength > limit {
		c.Header("Connection", "close")
		s.fail(c, errTooLarge)
		return
	}
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, limit)
	c.Next()
}

// parseForm parses the request's form (urlencoded or multipart) once, so
// that a body over the limit is reported as such (gin's PostForm ignores
// parse errors).
func parseForm(r *http.Request) error {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	var err error
	if ct == "multipart/form-data" {
		err = r.ParseMultipartForm(32 << 20)
	} else {
		err = r.ParseForm()
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return errTooLarge
	}
	return nil // other malformed bodies: the token check fails
}
