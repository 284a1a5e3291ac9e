package faq

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// CSV exchange format of the FAQ, for spreadsheets: one entry per row,
// columns id, department, question, variants, answer, tags, status,
// answer_en (the optional English answer); a list
// cell (variants, tags) holds one item per line (a line break within the
// cell, as spreadsheets write it), so an item may contain any character
// but a line break. On import, a list cell without a line break may also
// separate its items with "|" (easier to type). The header row is
// required; its column order is free, variants, tags, status and
// answer_en are optional. Comma or semicolon (German spreadsheets) separate cells; a
// UTF-8 byte order mark is skipped.
var csvColumns = []string{"id", "department", "question", "variants", "answer", "tags", "status", "answer_en"}

// CSVListSep joins list cells (variants, tags).
const CSVListSep = "\n"

// CSVFile is the name CSV validation errors report.
const CSVFile = "faq.csv"

// WriteCSV writes entries in the CSV exchange format (comma separated). A
// cell that a spreadsheet would run as a formula (starting with =, +, -,
// @, tab or carriage return) gets an apostrophe in front; ReadCSV takes it
// off again, so an export imports unchanged.
func WriteCSV(w io.Writer, entries []Entry) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(csvColumns); err != nil {
		return err
	}
	for _, e := range entries {
		status := e.Status
		if status == "" {
			status = StatusPublished
		}
		if err := cw.Write(neutralise([]string{e.ID, e.Department, e.Question, strings.Join(e.Variants, CSVListSep), e.Answer,
			strings.Join(e.Tags, CSVListSep), status, e.AnswerEN})); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// ReadCSV parses the CSV exchange format into a dataset of entries. It
// checks the file's form (header, columns, encoding); Dataset.Validate and
// the import check the content. Errors are ValidationErrors naming the
// file, the item (1-based entry number: the row after the header) and the
// column.
func ReadCSV(r io.Reader) (Dataset, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxFileSize+1))
	if err != nil {
		return Dataset{}, err
	}
	if len(data) > maxFileSize {
		return Dataset{}, &ValidationError{File: CSVFile, Msg: "file is larger than 20 MB"}
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if !utf8.Valid(data) {
		return Dataset{}, &ValidationError{File: CSVFile, Msg: "file is not valid UTF-8 (save it as \"CSV UTF-8\")"}
	}
	cr := csv.NewReader(bytes.NewReader(data))
	first, _, _ := strings.Cut(string(data), "\n")
	if strings.Count(first, ";") > strings.Count(first, ",") {
		cr.Comma = ';'
	}
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return Dataset{}, &ValidationError{File: CSVFile, Msg: "file is empty (expected a header row: " + strings.Join(csvColumns, ", ") + ")"}
	}
	if err != nil {
		return Dataset{}, &ValidationError{File: CSVFile, Msg: csvErr(err)}
	}
	col := map[string]int{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(h))
		known := false
		for _, c := range csvColumns {
			known = known || c == h
		}
		if !known {
			return Dataset{}, &ValidationError{File: CSVFile, Field: h, Msg: "unknown column (expected " + strings.Join(csvColumns, ", ") + ")"}
		}
		if _, dup := col[h]; dup {
			return Dataset{}, &ValidationError{File: CSVFile, Field: h, Msg: "column appears twice"}
		}
		col[h] = i
	}
	for _, c := range []string{"id", "department", "question", "answer"} {
		if _, ok := col[c]; !ok {
			return Dataset{}, &ValidationError{File: CSVFile, Field: c, Msg: "required column is missing"}
		}
	}
	var ds Dataset
	for item := 1; ; item++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return Dataset{}, &ValidationError{File: CSVFile, Index: item, Msg: csvErr(err)}
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			item-- // a blank line
			continue
		}
		cell := func(name string) string {
			i, ok := col[name]
			if !ok || i >= len(rec) {
				return ""
			}
			return unneutralise(rec[i])
		}
		if len(rec) > len(header) {
			return Dataset{}, &ValidationError{File: CSVFile, Index: item, ID: cell("id"),
				Msg: fmt.Sprintf("has %d cells, the header %d", len(rec), len(header))}
		}
		ds.Entries = append(ds.Entries, Entry{
			ID:         strings.TrimSpace(cell("id")),
			Department: strings.TrimSpace(cell("department")),
			Question:   strings.TrimSpace(cell("question")),
			Variants:   splitCSVList(cell("variants")),
			Answer:     strings.TrimSpace(strings.ReplaceAll(cell("answer"), "\r\n", "\n")),
			Tags:       splitCSVList(cell("tags")),
			Status:     strings.ToLower(strings.TrimSpace(cell("status"))),
			AnswerEN:   strings.TrimSpace(strings.ReplaceAll(cell("answer_en"), "\r\n", "\n")),
		})
	}
	return ds, nil
}

// splitCSVList splits a list cell: by lines, or by "|" when it has one line.
func splitCSVList(s string) []string {
	out := []string{}
	s = strings.ReplaceAll(s, "\r\n", "\n")
	sep := "\n"
	if !strings.Contains(s, sep) {
		sep = "|"
	}
	for _, p := range strings.Split(s, sep) {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func csvErr(err error) string {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return fmt.Sprintf("line %d: %v", pe.Line, pe.Err)
	}
	return err.Error()
}

// unneutralise undoes neutralise: the apostrophe in front of a formula
// character (or of apostrophes before one) is taken off.
func unneutralise(c string) string {
	if len(c) >= 2 && c[0] == '\'' && formulaLike(c[1:]) {
		return c[1:]
	}
	return c
}

// formulaLike reports whether c, after any apostrophes, starts with a
// character that makes a spreadsheet read a formula.
func formulaLike(c string) bool {
	c = strings.TrimLeft(c, "'")
	return c != "" && strings.IndexByte("=+-@\t\r", c[0]) >= 0
}
