package tgfake

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
)

// maxBody bounds request bodies (Telegram accepts uploads up to 50 MB).
const maxBody = 64 << 20

// UploadedFile is a file part of a multipart request.
type UploadedFile struct {
	Field    string // form field name, e.g. "photo" or "document"
	Filename string
	Data     []byte
}

// request holds the decoded parameters of one API call.
type request struct {
	params map[string]string
	files  []UploadedFile
}

func (q *request) get(name string) string { return q.params[name] }

func (q *request) has(name string) bool {
	_, ok := q.params[name]
	return ok
}

func (q *request) file(field string) *UploadedFile {
	for i := range q.files {
		if q.files[i].Field == field {
			return &q.files[i]
		}
	}
	return nil
}

// parseRequest decodes query string and body (multipart/form-data,
// application/x-www-form-urlencoded or JSON) into string parameters. JSON values
// that are not strings are kept as their JSON text, like the form encoding of
// structured fields (reply_markup, entities, commands, ...).
func parseRequest(r *http.Request) (*request, error) {
	q := &request{params: make(map[string]string)}
	for k, v := range r.URL.Query() {
		if len(v) > 0 {
			q.params[k] = v[0]
		}
	}
	if r.Body == nil || r.Body == http.NoBody {
		return q, nil
	}
	body := http.MaxBytesReader(nil, r.Body, maxBody)
	ct := r.Header.Get("Content-Type")
	mediaType, mparams, _ := mime.ParseMediaType(ct)
	switch mediaType {
	case "multipart/form-data":
		boundary := mparams["boundary"]
		if boundary == "" {
			return q, errors.New("multipart body without boundary")
		}
		mr := multipart.NewReader(body, boundary)
		for {
			part, err := mr.NextPart()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				// The library sends an empty body (no closing boundary) for
				// methods without parameters.
				if len(q.params) == 0 && len(q.files) == 0 && isEmptyMultipart(err) {
					break
				}
				return q, fmt.Errorf("can't parse multipart body: %v", err)
			}
			data, err := io.ReadAll(part)
			if err != nil {
				return q, fmt.Errorf("can't read multipart part: %v", err)
			}
			if part.FileName() != "" {
				q.files = append(q.files, UploadedFile{Field: part.FormName(), Filename: part.FileName(), Data: data})
				// Like Telegram's attach:// handling the field still "exists".
				if _, ok := q.params[part.FormName()]; !ok {
					q.params[part.FormName()] = "attach://" + part.FormName()
				}
				continue
			}
			q.params[part.FormName()] = string(data)
		}
	case "application/json":
		data, err := io.ReadAll(body)
		if err != nil {
			return q, fmt.Errorf("can't read body: %v", err)
		}
		if len(bytes.TrimSpace(data)) == 0 {
			return q, nil
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(data, &m); err != nil {
			return q, fmt.Errorf("can't parse JSON object: %v", err)
		}
		for k, v := range m {
			var str string
			if len(v) > 0 && v[0] == '"' && json.Unmarshal(v, &str) == nil {
				q.params[k] = str
			} else {
				q.params[k] = string(v)
			}
		}
	default: // application/x-www-form-urlencoded or nothing
		data, err := io.ReadAll(body)
		if err != nil {
			return q, fmt.Errorf("can't read body: %v", err)
		}
		if len(data) == 0 {
			return q, nil
		}
		vals, err := url.ParseQuery(string(data))
		if err != nil {
			return q, fmt.Errorf("can't parse form body: %v", err)
		}
		for k, v := range vals {
			if len(v) > 0 {
				q.params[k] = v[0]
			}
		}
	}
	return q, nil
}

func isEmptyMultipart(err error) bool {
	return errors.Is(err, io.ErrUnexpectedEOF) || strings.Contains(err.Error(), "EOF")
}
