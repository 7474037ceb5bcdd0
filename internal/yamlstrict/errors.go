package yamlstrict

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
)

// FieldError is one problem in a YAML document.
//
// Line and Column are 1-based; 0 means unknown. Path is the field path
// inside the document, e.g. "environments[0].traffic.steps[1]", and is
// empty for problems that concern the document as a whole.
type FieldError struct {
	File   string
	Line   int
	Column int
	Path   string
	Msg    string
}

// Error formats the problem as "file:line:col: path: msg", leaving out the
// position when it is unknown and the path when it is empty.
func (e *FieldError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		if e.File != "" {
			b.WriteByte(':')
		}
		b.WriteString(strconv.Itoa(e.Line))
		if e.Column > 0 {
			b.WriteByte(':')
			b.WriteString(strconv.Itoa(e.Column))
		}
	}
	if b.Len() > 0 {
		b.WriteString(": ")
	}
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Errors is a list of FieldErrors. It is the error type Decode returns
// whenever anything is wrong with a document.
type Errors []*FieldError

// Error joins the messages of all entries with newlines.
func (es Errors) Error() string {
	lines := make([]string, 0, len(es))
	for _, e := range es {
		if e != nil {
			lines = append(lines, e.Error())
		}
	}
	return strings.Join(lines, "\n")
}

// Unwrap returns the entries, so that errors.As can find a *FieldError.
func (es Errors) Unwrap() []error {
	out := make([]error, 0, len(es))
	for _, e := range es {
		if e != nil {
			out = append(out, e)
		}
	}
	return out
}

// Sort orders the entries by file, line and column, keeping the relative
// order of entries at the same position.
func (es Errors) Sort() {
	slices.SortStableFunc(es, func(a, b *FieldError) int {
		if a == nil || b == nil {
			return cmp.Compare(boolInt(a == nil), boolInt(b == nil))
		}
		return cmp.Or(
			cmp.Compare(a.File, b.File),
			cmp.Compare(a.Line, b.Line),
			cmp.Compare(a.Column, b.Column),
		)
	})
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// JoinKey appends a mapping key to a path: ".key" for plain keys
// (letters, digits, '_' and '-'), `["key"]` (Go-quoted) for any other key.
// A plain key at the start of an empty path is returned as is.
func JoinKey(path, key string) string {
	if !plainKey(key) {
		return path + "[" + strconv.Quote(key) + "]"
	}
	if path == "" {
		return key
	}
	return path + "." + key
}

// JoinIndex appends a sequence index to a path: "path[i]".
func JoinIndex(path string, i int) string {
	return path + "[" + strconv.Itoa(i) + "]"
}

func plainKey(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}
