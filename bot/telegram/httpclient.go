package telegram

import (
	"bytes"
	"io"
	"net/http"
	"strings"
)

// bufferBodies returns a copy of c whose requests with a body of unknown
// length are read into memory first and sent with a Content-Length.
//
// go-telegram/bot streams every request's multipart body through an
// io.Pipe; net/http sends such a body chunked and flushes each chunk, which
// is one write system call per form field (and as many reads on the other
// side). Buffered, a request goes out in one or two writes. The bodies are
// small (a text with buttons; /meinedaten's JSON file at most).
//
// It also cuts the replies to sendMessage and sendDocument down to the
// message id (shortReply): go-telegram/bot decodes a reply twice, the
// second time into the whole models.Message (sender, chat, entities,
// keyboard), which was most of the bot's JSON decoding, and citybot reads
// only the id of what it sent.
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
		resp, err := t.base.RoundTrip(req)
		return shorten(req, resp, err)
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
	resp, err := t.base.RoundTrip(&r)
	return shorten(req, resp, err)
}

// shorten replaces a successful reply to a method of idOnlyReply by
// shortReply's.
func shorten(req *http.Request, resp *http.Response, err error) (*http.Response, error) {
	if err != nil || resp.StatusCode != http.StatusOK || !idOnlyReply(req.URL.Path) {
		return resp, err
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxShortened+1))
	if err != nil {
		_ = resp.Body.Close()
		return nil, err
	}
	if len(body) > maxShortened {
		// Passed on as is: what was read, then the rest.
		resp.Body = struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(body), resp.Body), resp.Body}
		return resp, nil
	}
	_ = resp.Body.Close()
	body = shortReply(body)
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	resp.Header.Del("Content-Length")
	return resp, nil
}

// idOnlyReply: the methods whose callers read no more of the message
// sent than its id (Service.send; the broadcast sender and the staff
// replies ignore it). sendPhoto is not one: the broadcast sender keeps the
// photo's file id.
func idOnlyReply(path string) bool {
	return strings.HasSuffix(path, "/sendMessage") || strings.HasSuffix(path, "/sendDocument")
}

// maxShortened bounds the replies shortReply looks at (a message with a
// long text and keyboard is a few KB); a longer one is passed on as is.
const maxShortened = 64 << 10

// shortReply returns {"ok":true,"result":{"message_id":N}} for a reply
// that starts {"ok":true,"result":{"message_id":N, as the Bot API's do,
// and any other reply unchanged (go-telegram/bot decodes it in full).
func shortReply(b []byte) []byte {
	const prefix = `{"ok":true,"result":{"message_id":`
	if !bytes.HasPrefix(b, []byte(prefix)) {
		return b
	}
	i := len(prefix)
	for i < len(b) && i-len(prefix) < 19 && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	if i == len(prefix) || i >= len(b) || (b[i] != ',' && b[i] != '}') {
		return b
	}
	out := make([]byte, 0, i+2)
	out = append(out, b[:i]...)
	return append(out, "}}"...)
}

// CloseIdleConnections closes the idle connections of the wrapped
// transport (http.Client.CloseIdleConnections calls it).
func (t bufferedBodies) CloseIdleConnections() {
	if c, ok := t.base.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}
