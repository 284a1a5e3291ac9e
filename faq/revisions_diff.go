package faq

import (
	"slices"
	"strings"
	"unicode"
)

// DiffKind is the kind of a diff segment.
type DiffKind string

// Diff segment kinds.
const (
	DiffEqual  DiffKind = "="
	DiffInsert DiffKind = "+"
	DiffDelete DiffKind = "-"
)

// DiffOp is one segment of a diff: text that stayed, was inserted or was
// deleted. For list fields (variants, tags) one op is one item.
type DiffOp struct {
	Kind DiffKind
	Text string
}

// FieldDiff is the diff of one field of an entry.
type FieldDiff struct {
	Field   string // id, department, status, question, variants, tags, answer
	Changed bool
	List    bool // Ops are list items (variants, tags), else runs of text
	Ops     []DiffOp
}

// EntryDiff is the field-by-field diff between two states of an entry.
type EntryDiff struct {
	Fields []FieldDiff // in a fixed order, unchanged fields included
}

// Changed reports whether any field differs.
func (d EntryDiff) Changed() bool {
	for _, f := range d.Fields {
		if f.Changed {
			return true
		}
	}
	return false
}

// ChangedFields returns only the fields that differ.
func (d EntryDiff) ChangedFields() []FieldDiff {
	var out []FieldDiff
	for _, f := range d.Fields {
		if f.Changed {
			out = append(out, f)
		}
	}
	return out
}

// String renders the changed fields for logs and tests: text fields as
// "field: kept [-deleted-]{+inserted+}", list fields one item per line with
// "  " (kept), "- " or "+ ".
func (d EntryDiff) String() string {
	var b strings.Builder
	for _, f := range d.ChangedFields() {
		b.WriteString(f.Field)
		b.WriteString(":")
		if f.List {
			b.WriteString("\n")
			for _, op := range f.Ops {
				switch op.Kind {
				case DiffEqual:
					b.WriteString("  ")
				case DiffInsert:
					b.WriteString("+ ")
				case DiffDelete:
					b.WriteString("- ")
				}
				b.WriteString(op.Text)
				b.WriteString("\n")
			}
			continue
		}
		b.WriteString(" ")
		for _, op := range f.Ops {
			switch op.Kind {
			case DiffEqual:
				b.WriteString(op.Text)
			case DiffInsert:
				b.WriteString("{+" + op.Text + "+}")
			case DiffDelete:
				b.WriteString("[-" + op.Text + "-]")
			}
		}
		b.WriteString("\n")
	}
	return b.String()
}

// DiffEntries compares two states of an entry: question and answer word by
// word, variants and tags item by item, the other fields as a whole.
func DiffEntries(old, new Entry) EntryDiff {
	whole := func(field, a, b string) FieldDiff {
		f := FieldDiff{Field: field, Changed: a != b}
		if !f.Changed {
			if a != "" {
				f.Ops = []DiffOp{{DiffEqual, a}}
			}
			return f
		}
		if a != "" {
			f.Ops = append(f.Ops, DiffOp{DiffDelete, a})
		}
		if b != "" {
			f.Ops = append(f.Ops, DiffOp{DiffInsert, b})
		}
		return f
	}
	text := func(field, a, b string) FieldDiff {
		return FieldDiff{Field: field, Changed: a != b, Ops: DiffText(a, b)}
	}
	list := func(field string, a, b []string) FieldDiff {
		return FieldDiff{Field: field, Changed: !slices.Equal(nonNil(a), nonNil(b)), List: true, Ops: DiffLists(a, b)}
	}
	d := EntryDiff{Fields: []FieldDiff{
		whole("department", old.Department, new.Department),
		whole("status", old.Status, new.Status),
		text("question", old.Question, new.Question),
		list("variants", old.Variants, new.Variants),
		list("tags", old.Tags, new.Tags),
		text("answer", old.Answer, new.Answer),
	}}
	if old.AnswerEN != "" || new.AnswerEN != "" { // the optional English answer, when there is one
		d.Fields = append(d.Fields, text("answer_en", old.AnswerEN, new.AnswerEN))
	}
	return d
}

// DiffLists diffs two lists item by item (longest common subsequence).
func DiffLists(a, b []string) []DiffOp {
	return lcsDiff(a, b, false)
}

// DiffText diffs two texts word by word; whitespace (line breaks included)
// is kept, so joining the Text of the equal and inserted ops gives b.
func DiffText(a, b string) []DiffOp {
	return joinChanges(lcsDiff(splitWords(a), splitWords(b), true))
}

// joinChanges makes a diff readable: whitespace that is all that stayed
// between two changes becomes part of them, and each run of changes is
// shown as one deletion followed by one insertion.
func joinChanges(ops []DiffOp) []DiffOp {
	var out []DiffOp
	var del, ins strings.Builder
	flush := func() {
		if del.Len() > 0 {
			out = append(out, DiffOp{DiffDelete, del.String()})
		}
		if ins.Len() > 0 {
			out = append(out, DiffOp{DiffInsert, ins.String()})
		}
		del.Reset()
		ins.Reset()
	}
	for i, op := range ops {
		switch {
		case op.Kind == DiffDelete:
			del.WriteString(op.Text)
		case op.Kind == DiffInsert:
			ins.WriteString(op.Text)
		case strings.TrimSpace(op.Text) == "" && i > 0 && i < len(ops)-1 && ops[i+1].Kind != DiffEqual && (del.Len() > 0 || ins.Len() > 0):
			del.WriteString(op.Text)
			ins.WriteString(op.Text)
		default:
			flush()
			out = append(out, op)
		}
	}
	flush()
	return out
}

// splitWords splits s into words (letters and digits), runs of space and
// single other characters (punctuation).
func splitWords(s string) []string {
	class := func(r rune) int {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_':
			return 1
		case unicode.IsSpace(r):
			return 2
		}
		return 3
	}
	var out []string
	start, prev := 0, 0
	for i, r := range s {
		c := class(r)
		if i > 0 && (c != prev || c == 3) {
			out = append(out, s[start:i])
			start = i
		}
		prev = c
	}
	if start < len(s) {
		out = append(out, s[start:])
	}
	return out
}

// maxLCSCells bounds the diff's table; beyond it the changed middle is
// shown as one deletion and one insertion.
const maxLCSCells = 4_000_000

// lcsDiff diffs token lists. Common prefix and suffix are cut first, so
// the quadratic table only covers the changed middle. With merge, adjacent
// ops of one kind are joined into one text (runs of words).
func lcsDiff(a, b []string, merge bool) []DiffOp {
	var ops []DiffOp
	add := func(k DiffKind, t string) {
		if merge && len(ops) > 0 && ops[len(ops)-1].Kind == k {
			ops[len(ops)-1].Text += t
			return
		}
		ops = append(ops, DiffOp{k, t})
	}
	p := 0
	for p < len(a) && p < len(b) && a[p] == b[p] {
		add(DiffEqual, a[p])
		p++
	}
	sfx := 0
	for sfx < len(a)-p && sfx < len(b)-p && a[len(a)-1-sfx] == b[len(b)-1-sfx] {
		sfx++
	}
	ma, mb := a[p:len(a)-sfx], b[p:len(b)-sfx]
	n, m := len(ma), len(mb)
	if n*m > maxLCSCells {
		for _, t := range ma {
			add(DiffDelete, t)
		}
		for _, t := range mb {
			add(DiffInsert, t)
		}
	} else if n > 0 || m > 0 {
		// l[i][j] = LCS length of ma[i:] and mb[j:]
		l := make([][]int32, n+1)
		for i := range l {
			l[i] = make([]int32, m+1)
		}
		for i := n - 1; i >= 0; i-- {
			for j := m - 1; j >= 0; j-- {
				if ma[i] == mb[j] {
					l[i][j] = l[i+1][j+1] + 1
				} else {
					l[i][j] = max(l[i+1][j], l[i][j+1])
				}
			}
		}
		// Walk the table; at a fork prefer deletions, so that a replaced run
		// reads "[-old-]{+new+}".
		var dels, ins []string
		flush := func() {
			for _, t := range dels {
				add(DiffDelete, t)
			}
			for _, t := range ins {
				add(DiffInsert, t)
			}
			dels, ins = dels[:0], ins[:0]
		}
		i, j := 0, 0
		for i < n || j < m {
			switch {
			case i < n && j < m && ma[i] == mb[j]:
				flush()
				add(DiffEqual, ma[i])
				i++
				j++
			case j >= m || (i < n && l[i+1][j] >= l[i][j+1]):
				dels = append(dels, ma[i])
				i++
			default:
				ins = append(ins, mb[j])
				j++
			}
		}
		flush()
	}
	for _, t := range a[len(a)-sfx:] {
		add(DiffEqual, t)
	}
	return ops
}
