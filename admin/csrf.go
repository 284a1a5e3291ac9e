package admin

import (
	"crypto/subtle"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
)

// CSRF protection, layer two (layer one is net/http.CrossOriginProtection in
// front of the whole engine, which rejects cross-site browser POSTs by
// Sec-Fetch-Site/Origin).
//
// Synchronizer token: a logged-in user's forms carry the random token stored
// with the server-side session; anonymous forms (login, language switch)
// carry the value of an HttpOnly pre-session cookie (double submit). A
// state-changing request whose form field csrf_token (or header
// X-CSRF-Token) does not match is rejected with 403. The token is compared
// in constant time. No extra library: the standard library's check plus a
// session-bound token cover what gorilla/csrf would, without a signing key
// to configure.

const csrfField = "csrf_token"

// csrfToken returns the token to put into forms, creating the pre-session
// cookie for anonymous visitors when needed.
func (s *Server) csrfToken(c *gin.Context) string {
	if sess := currentSession(c); sess != nil {
		return sess.CSRF
	}
	if v, ok := c.Get(ctxPreToken); ok {
		return v.(string)
	}
	tok, err := c.Cookie(preCookie)
	if err != nil || len(tok) < 32 {
		tok = randomToken()
		s.setCookie(c, preCookie, tok, 2*time.Hour)
	}
	c.Set(ctxPreToken, tok)
	return tok
}

const ctxPreToken = "citybot.pretoken"

func (s *Server) checkCSRF(c *gin.Context) {
	switch c.Request.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		c.Next()
		return
	}
	// The body is bounded by limitBody, which runs before this.
	if err := parseForm(c.Request); err != nil {
		c.Header("Connection", "close")
		s.fail(c, err)
		return
	}
	var want string
	if sess := currentSession(c); sess != nil {
		want = sess.CSRF
	} else if ck, err := c.Cookie(preCookie); err == nil {
		want = ck
	}
	got := c.GetHeader("X-CSRF-Token")
	if got == "" {
		got = c.PostForm(csrfField)
	}
	if want == "" || got == "" || subtle.ConstantTimeCompare([]byte(want), []byte(got)) != 1 {
		s.log.Warn("csrf token rejected", "method", c.Request.Method, "path", c.Request.URL.Path, "ip", c.ClientIP())
		s.fail(c, errCSRF)
		return
	}
	c.Next()
}
