package faq

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"

	"citybot/staff"
)

// Dataset is the JSON exchange format: departments.json and faq.json.
type Dataset struct {
	Departments []Department
	Entries     []Entry
}

// ImportStats tells what an import changed.
type ImportStats struct {
	DepartmentsCreated, DepartmentsUpdated int
	EntriesCreated, EntriesUpdated         int
}

// ValidationError names the file, the item and the field that is wrong.
type ValidationError struct {
	File  string
	Index int // 1-based position in the file's array; 0 when not an item
	ID    string
	Field string
	Msg   string
}

func (e *ValidationError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Index > 0 {
		fmt.Fprintf(&b, ": item %d", e.Index)
		if e.ID != "" {
			fmt.Fprintf(&b, " (id %q)", e.ID)
		}
	}
	if e.Field != "" {
		fmt.Fprintf(&b, ": field %q", e.Field)
	}
	b.WriteString(": ")
	b.WriteString(e.Msg)
	return b.String()
}

func (e *ValidationError) Unwrap() error { return ErrInvalid }

var slugRe = regexp.MustCompile(`^[a-z0-9]+(?:-[a-z0-9]+)*$`)

// Limits of the exchange format; they keep a bad file from filling the database.
const (
	maxQuestionLen = 500
	maxAnswerLen   = 20000
	maxVariants    = 50
	maxTags        = 30
	maxFileSize    = 20 << 20
)

// ReadDataset reads departments.json and/or faq.json from path: a directory
// holding them, or a single file (its kind is told by its content).
func ReadDataset(path string) (Dataset, error) {
	st, err := os.Stat(path)
	if err != nil {
		return Dataset{}, err
	}
	if st.IsDir() {
		return ReadDatasetFS(os.DirFS(path))
	}
	data, err := readLimited(path)
	if err != nil {
		return Dataset{}, err
	}
	return parseFile(filepath.Base(path), data)
}

// ReadDatasetFS reads departments.json and faq.json (each optional, one required) from fsys.
func ReadDatasetFS(fsys fs.FS) (Dataset, error) {
	var ds Dataset
	found := false
	for _, name := range []string{"departments.json", "faq.json"} {
		data, err := fs.ReadFile(fsys, name)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return Dataset{}, err
		}
		if len(data) > maxFileSize {
			return Dataset{}, &ValidationError{File: name, Msg: "file is larger than 20 MB"}
		}
		found = true
		part, err := parseFile(name, data)
		if err != nil {
			return Dataset{}, err
		}
		ds.Departments = append(ds.Departments, part.Departments...)
		ds.Entries = append(ds.Entries, part.Entries...)
	}
	if !found {
		return Dataset{}, errors.New("neither departments.json nor faq.json found")
	}
	return ds, nil
}

func readLimited(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxFileSize {
		return nil, &ValidationError{File: filepath.Base(path), Msg: "file is larger than 20 MB"}
	}
	return data, nil
}

// ParseJSON parses one exchange file (departments or FAQ entries, told by content).
func ParseJSON(name string, data []byte) (Dataset, error) { return parseFile(name, data) }

func parseFile(name string, data []byte) (Dataset, error) {
	if !utf8.Valid(data) {
		return Dataset{}, &ValidationError{File: name, Msg: "file is not valid UTF-8"}
	}
	var raw []map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return Dataset{}, &ValidationError{File: name, Msg: "not a JSON array of objects: " + jsonErr(data, err)}
	}
	isFAQ := false
	for _, r := range raw {
		if _, ok := r["question"]; ok {
			isFAQ = true
			break
		}
	}
	if len(raw) == 0 && strings.Contains(strings.ToLower(name), "faq") {
		isFAQ = true
	}
	var ds Dataset
	for i, r := range raw {
		b, _ := json.Marshal(r)
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		var id string
		_ = json.Unmarshal(r["id"], &id)
		if isFAQ {
			var e Entry
			if err := dec.Decode(&e); err != nil {
				return Dataset{}, &ValidationError{File: name, Index: i + 1, ID: id, Field: fieldOf(err), Msg: cleanJSONErr(err)}
			}
			ds.Entries = append(ds.Entries, e)
		} else {
			var d Department
			if err := dec.Decode(&d); err != nil {
				return Dataset{}, &ValidationError{File: name, Index: i + 1, ID: id, Field: fieldOf(err), Msg: cleanJSONErr(err)}
			}
			ds.Departments = append(ds.Departments, d)
		}
	}
	return ds, nil
}

func jsonErr(data []byte, err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		line := 1 + bytes.Count(data[:min(int(se.Offset), len(data))], []byte("\n"))
		return fmt.Sprintf("%v (line %d)", se, line)
	}
	return err.Error()
}

func fieldOf(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return te.Field
	}
	if s := err.Error(); strings.HasPrefix(s, "json: unknown field ") {
		return strings.Trim(strings.TrimPrefix(s, "json: unknown field "), `"`)
	}
	return ""
}

func cleanJSONErr(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("must be %s, not %s", jsonKind(te.Type.String()), te.Value)
	}
	if strings.HasPrefix(err.Error(), "json: unknown field ") {
		return "unknown field"
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}

func jsonKind(goType string) string {
	switch goType {
	case "string":
		return "a string"
	case "[]string":
		return "a list of strings"
	}
	return goType
}

// Validate checks the dataset against itself and the departments that
// already exist (known). It reports the first problem, naming item and field.
func (ds Dataset) Validate(known map[string]bool) error {
	depts := map[string]bool{}
	for k := range known {
		depts[k] = true
	}
	seenDept := map[string]bool{}
	for i, d := range ds.Departments {
		ve := func(field, msg string) error {
			return &ValidationError{File: "departments.json", Index: i + 1, ID: d.ID, Field: field, Msg: msg}
		}
		if !slugRe.MatchString(d.ID) {
			return ve("id", "must be lowercase ASCII letters, digits and dashes")
		}
		if seenDept[d.ID] {
			return ve("id", "appears twice")
		}
		seenDept[d.ID] = true
		if strings.TrimSpace(d.Name) == "" {
			return ve("name", "must not be empty")
		}
		for _, k := range d.Keywords {
			if strings.TrimSpace(k) == "" {
				return ve("keywords", "must not contain empty keywords")
			}
		}
		depts[d.ID] = true
	}
	seen := map[string]bool{}
	phrases := map[string]string{}
	for i, e := range ds.Entries {
		ve := func(field, msg string) error {
			return &ValidationError{File: "faq.json", Index: i + 1, ID: e.ID, Field: field, Msg: msg}
		}
		switch {
		case !slugRe.MatchString(e.ID):
			return ve("id", "must be lowercase ASCII letters, digits and dashes")
		case seen[e.ID]:
			return ve("id", "appears twice")
		case e.Department == "":
			return ve("department", "must not be empty")
		case !depts[e.Department]:
			return ve("department", fmt.Sprintf("unknown department %q", e.Department))
		case strings.TrimSpace(e.Question) == "":
			return ve("question", "must not be empty")
		case len(e.Question) > maxQuestionLen:
			return ve("question", fmt.Sprintf("is longer than %d characters", maxQuestionLen))
		case strings.TrimSpace(e.Answer) == "":
			return ve("answer", "must not be empty")
		case len(e.Answer) > maxAnswerLen:
			return ve("answer", fmt.Sprintf("is longer than %d characters", maxAnswerLen))
		case len(e.AnswerEN) > maxAnswerLen:
			return ve("answer_en", fmt.Sprintf("is longer than %d characters", maxAnswerLen))
		case len(e.Variants) > maxVariants:
			return ve("variants", fmt.Sprintf("has more than %d variants", maxVariants))
		case len(e.Tags) > maxTags:
			return ve("tags", fmt.Sprintf("has more than %d tags", maxTags))
		}
		switch e.Status {
		case "", StatusDraft, StatusPublished, StatusArchived:
		default:
			return ve("status", "must be draft, published or archived")
		}
		seen[e.ID] = true
		for j, p := range append([]string{e.Question}, e.Variants...) {
			field := "question"
			if j > 0 {
				field = fmt.Sprintf("variants[%d]", j-1)
			}
			if strings.TrimSpace(p) == "" {
				return ve(field, "must not be empty")
			}
			if strings.ContainsAny(p, "\r\n") {
				return ve(field, "must be one line")
			}
			k := strings.ToLower(strings.Join(strings.Fields(p), " "))
			if other, ok := phrases[k]; ok && other != e.ID {
				return ve(field, fmt.Sprintf("%q is already a question or variant of entry %q", p, other))
			}
			phrases[k] = e.ID
		}
		for _, t := range e.Tags {
			if strings.TrimSpace(t) == "" {
				return ve("tags", "must not contain empty tags")
			}
			if strings.ContainsAny(t, "\r\n") {
				return ve("tags", "must be one line each")
			}
		}
	}
	return nil
}

// SystemActor is the actor of command-line imports and start-up tasks: an
// admin without a user account (revisions and audit rows show no author).
var SystemActor = staff.Principal{Role: staff.RoleAdmin}

// Import validates ds completely and then writes it in one transaction:
// departments and entries are created or updated by id, each changed entry
// gets a revision. Nothing is written when anything is invalid.
func (s *Store) Import(ctx context.Context, ds Dataset) (ImportStats, error) {
	return s.ImportAs(ctx, SystemActor, ds, "faq.json")
}

func (s *Store) checkPhrasesAgainstDB(ctx context.Context, tx *sqlx.Tx, ds Dataset) error {
	importing := map[string]bool{}
	for _, e := range ds.Entries {
		importing[e.ID] = true
	}
	var rows []entryRow
	if err := tx.SelectContext(ctx, &rows, `SELECT `+entryColumns+` FROM faq_entries`); err != nil {
		return fmt.Errorf("list faq entries: %w", err)
	}
	owner := map[string]string{}
	for _, r := range rows {
		if importing[r.ID] {
			continue
		}
		for _, p := range append([]string{r.Question}, r.VariantsArr...) {
			owner[strings.ToLower(strings.Join(strings.Fields(p), " "))] = r.ID
		}
	}
	for i, e := range ds.Entries {
		for j, p := range append([]string{e.Question}, e.Variants...) {
			if other, ok := owner[strings.ToLower(strings.Join(strings.Fields(p), " "))]; ok {
				field := "question"
				if j > 0 {
					field = fmt.Sprintf("variants[%d]", j-1)
				}
				return &ValidationError{File: "faq.json", Index: i + 1, ID: e.ID, Field: field,
					Msg: fmt.Sprintf("%q is already a question or variant of entry %q", p, other)}
			}
		}
	}
	return nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// Export returns all departments and entries in the exchange format.
func (s *Store) Export(ctx context.Context) (Dataset, error) {
	depts, err := s.Departments(ctx)
	if err != nil {
		return Dataset{}, err
	}
	entries, err := s.Entries(ctx, "")
	if err != nil {
		return Dataset{}, err
	}
	return Dataset{Departments: depts, Entries: entries}, nil
}

// WriteJSON writes v as indented JSON (the dataset's style: two spaces, no HTML escaping).
func WriteJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}
