package telegram

import (
	"bytes"
	"io"
	"net/http"
)

// bufferBodies returns a copy of c whose requests with a body of unknown
// length are read into memory first and sent with a Content-Length.
//
// go-telegram/bot streams every request's multipart body through an
// io.Pipe; net/http sends such a body chunked and flushes each chunk, which
// is one write system call per form field (and as many reads on the other
// side). Buffered, a request goes out in one or two writes. The bodies are
// small (a text with buttons; /meinedaten's JSON file at most).
func bufferBodies(c *http.Client) *http.Client {
	out := *c
	base := c.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	if _, ok := base.(bufferedBodies); !ok {
		out.Transport = bufferedBodies{base: base}
	}
	return &out
}

type bufferedBodies struct{ base http.RoundTripper }

func (t bufferedBodies) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body == nil || req.Body == http.NoBody || req.ContentLength != 0 {
		return t.base.RoundTrip(req)
	}
	data, err := io.ReadAll(req.Body)
	_ = req.Body.Close()
	if err != nil {
		return nil, err
	}
	r := *req // a RoundTripper must not change the caller's request
	r.ContentLength = int64(len(data))
	r.Body = http.NoBody
	if len(data) > 0 {
		r.Body = io.NopCloser(bytes.NewReader(data))
	}
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }
	return t.base.RoundTrip(&r)
}

// CloseIdleConnections closes the idle connections of the wrapped
// transport (http.Client.CloseIdleConnections calls it).
func (t bufferedBodies) CloseIdleConnections() {
	if c, ok := t.base.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}
