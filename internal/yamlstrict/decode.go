// Package yamlstrict decodes YAML documents strictly: unknown keys,
// duplicate keys, values of the wrong type, multiple documents and empty
// documents are errors, and every error names the file, line, column and
// field path. All problems found are reported at once.
package yamlstrict

import (
	"bytes"
	"encoding"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

const (
	// maxErrors bounds the number of errors reported for one document.
	maxErrors = 100
	// maxVisits bounds the work done on a document, so that aliases
	// expanding exponentially ("billion laughs") cannot hang the walk.
	maxVisits = 1 << 18
)

// Decode parses data, read from the named file, into out, which must be a
// non-nil pointer (normally to a struct). On any problem it returns an
// Errors listing every problem found and leaves out untouched. The
// returned Doc is non-nil whenever data parsed as YAML, so that callers
// can point at fields in their own, semantic, validation.
func Decode(file string, data []byte, out any) (doc *Doc, err error) {
	rv := reflect.ValueOf(out)
	if !rv.IsValid() || rv.Kind() != reflect.Pointer || rv.IsNil() {
		return nil, Errors{{File: file, Msg: fmt.Sprintf("internal error: Decode needs a non-nil pointer, got %T", out)}}
	}
	defer func() {
		if r := recover(); r != nil {
			err = Errors{{File: file, Msg: fmt.Sprintf("internal error decoding YAML: %v", r)}}
		}
	}()

	root, errs := parse(file, data)
	if root == nil {
		return nil, errs
	}
	doc = &Doc{File: file, root: root}
	if len(errs) > 0 {
		return doc, errs
	}

	w := &walker{file: file, active: map[*yaml.Node]bool{}}
	w.walk(nil, root, rv.Type().Elem(), "")
	if len(w.errs) > 0 {
		w.errs.Sort()
		return doc, w.errs
	}
	if err := decodeNode(root, out); err != nil {
		return doc, yamlErrors(file, data, err, false)
	}
	return doc, nil
}

// parse reads exactly one non-empty document and returns its top node.
func parse(file string, data []byte) (*yaml.Node, Errors) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var d yaml.Node
	if err := dec.Decode(&d); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, Errors{{File: file, Msg: "document is empty"}}
		}
		return nil, yamlErrors(file, data, err, true)
	}
	if d.Kind != yaml.DocumentNode || len(d.Content) == 0 {
		return nil, Errors{{File: file, Line: d.Line, Column: d.Column, Msg: "document is empty"}}
	}
	root := d.Content[0]
	if isNull(root) {
		return nil, Errors{{File: file, Line: root.Line, Column: root.Column, Msg: "document is empty"}}
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case errors.Is(err, io.EOF):
		return root, nil
	case err != nil:
		return root, yamlErrors(file, data, err, true)
	default:
		return root, Errors{{File: file, Line: next.Line, Column: next.Column,
			Msg: "a second YAML document starts here; the file must hold exactly one document (remove the '---' separator)"}}
	}
}

// decodeNode is n.Decode(out) turning panics into errors.
func decodeNode(n *yaml.Node, out any) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	return n.Decode(out)
}

var (
	lineRE   = regexp.MustCompile(`^line (\d+): (.*)$`)
	anchorRE = regexp.MustCompile(`^unknown anchor '(.*)' referenced$`)
)

// parserProblems are the yaml.v3 parser (not scanner) messages; for these
// yaml.v3 reports a 0-based line.
var parserProblems = map[string]bool{
	"did not find expected ',' or ']'":       true,
	"did not find expected ',' or '}'":       true,
	"did not find expected '-' indicator":    true,
	"did not find expected <document start>": true,
	"did not find expected <stream-start>":   true,
	"did not find expected key":              true,
	"did not find expected node content":     true,
	"found duplicate %TAG directive":         true,
	"found duplicate %YAML directive":        true,
	"found incompatible YAML document":       true,
	"found undefined tag handle":             true,
}

// yamlErrors converts an error from yaml.v3 into Errors. For syntax errors
// (from parsing, not decoding) it turns the line yaml.v3 reports into a
// 1-based one and finds it when yaml.v3 leaves it out.
func yamlErrors(file string, data []byte, err error, syntax bool) Errors {
	var lines []string
	var te *yaml.TypeError
	if errors.As(err, &te) {
		lines = te.Errors
	} else {
		lines = []string{strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	var errs Errors
	for _, l := range lines {
		e := &FieldError{File: file, Msg: strings.TrimSpace(l)}
		if m := lineRE.FindStringSubmatch(e.Msg); m != nil {
			e.Line, _ = strconv.Atoi(m[1])
			e.Msg = m[2]
		}
		if syntax {
			switch {
			case parserProblems[e.Msg]:
				e.Line++ // 0-based, and 0 when it was omitted
			case e.Line > 0:
			case readerError(e.Msg):
				e.Line = badCharLine(data)
			case anchorRE.MatchString(e.Msg):
				e.Line = lineOf(data, "*"+anchorRE.FindStringSubmatch(e.Msg)[1])
			default:
				e.Line = 1 // scanner errors leave out line 1
			}
		}
		errs = append(errs, e)
	}
	return errs
}

// lineOf returns the 1-based line of the first occurrence of s in data, or 0.
func lineOf(data []byte, s string) int {
	i := bytes.Index(data, []byte(s))
	if i < 0 {
		return 0
	}
	return bytes.Count(data[:i], []byte("\n")) + 1
}

func readerError(msg string) bool {
	for _, s := range []string{"UTF-8", "UTF-16", "Unicode", "control characters", "input error"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// badCharLine returns the 1-based line of the first byte sequence YAML
// does not accept (invalid UTF-8 or a control character), or 0.
func badCharLine(data []byte) int {
	line := 1
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			return line
		case r == '\n':
			line++
		case r < 0x20 && r != '\t' && r != '\r', r == 0x7f, r >= 0x80 && r < 0xa0 && r != 0x85,
			r >= 0xd800 && r <= 0xdfff, r == 0xfffe || r == 0xffff:
			return line
		}
		i += size
	}
	return 0
}

var (
	unmarshalerType         = reflect.TypeFor[yaml.Unmarshaler]()
	obsoleteUnmarshalerType = reflect.TypeFor[interface{ UnmarshalYAML(func(any) error) error }]()
	textUnmarshalerType     = reflect.TypeFor[encoding.TextUnmarshaler]()
	durationType            = reflect.TypeFor[time.Duration]()
)

// walker checks a node tree against a Go type, collecting errors.
type walker struct {
	file   string
	errs   Errors
	active map[*yaml.Node]bool // alias targets being expanded
	visits int
}

func (w *walker) add(line, col int, path, format string, args ...any) {
	switch {
	case len(w.errs) < maxErrors:
		w.errs = append(w.errs, &FieldError{File: w.file, Line: line, Column: col, Path: path, Msg: fmt.Sprintf(format, args...)})
	case len(w.errs) == maxErrors:
		w.errs = append(w.errs, &FieldError{File: w.file, Line: line, Column: col, Msg: fmt.Sprintf("too many errors; stopped after %d", maxErrors)})
	}
}

// walk checks node n (the value of key, or nil for sequence items and the
// root) against type t.
func (w *walker) walk(key, n *yaml.Node, t reflect.Type, path string) {
	w.visits++
	if w.visits > maxVisits || len(w.errs) > maxErrors {
		if w.visits == maxVisits+1 {
			w.add(n.Line, n.Column, path, "document is too complex (too many nodes after expanding aliases)")
		}
		return
	}
	line, col := posOf(key, n)
	orig := n
	if n.Kind == yaml.AliasNode {
		target := n.Alias
		if target == nil {
			w.add(line, col, path, "unknown alias %q", n.Value)
			return
		}
		if w.active[target] {
			w.add(line, col, path, "alias *%s refers to a value that contains it", n.Value)
			return
		}
		w.active[target] = true
		defer delete(w.active, target)
		n = target
	}

	for t.Kind() == reflect.Pointer {
		if isNull(n) {
			return
		}
		t = t.Elem()
	}
	pt := reflect.PointerTo(t)
	if pt.Implements(unmarshalerType) || pt.Implements(obsoleteUnmarshalerType) ||
		n.Kind == yaml.ScalarNode && pt.Implements(textUnmarshalerType) {
		w.selfDecode(line, col, orig, t, path)
		return
	}
	if isNull(n) || t.Kind() == reflect.Interface {
		return
	}
	if t == durationType {
		w.duration(line, col, n, path)
		return
	}

	switch t.Kind() {
	case reflect.Struct:
		if w.expect(line, col, n, yaml.MappingNode, path) {
			w.mapping(n, path, structInfoOf(t), nil, nil)
		}
	case reflect.Map:
		if w.expect(line, col, n, yaml.MappingNode, path) {
			w.mapping(n, path, nil, t.Key(), t.Elem())
		}
	case reflect.Slice, reflect.Array:
		if !w.expect(line, col, n, yaml.SequenceNode, path) {
			return
		}
		if t.Kind() == reflect.Array && len(n.Content) != t.Len() {
			w.add(line, col, path, "expected a sequence of exactly %d items, got %d", t.Len(), len(n.Content))
		}
		for i, item := range n.Content {
			w.walk(nil, item, t.Elem(), JoinIndex(path, i))
		}
	case reflect.String:
		w.scalar(line, col, n, path, "string", nil)
	case reflect.Bool:
		w.scalar(line, col, n, path, "boolean (true or false)", func() bool { return n.ShortTag() == "!!bool" })
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		if w.scalar(line, col, n, path, "integer", func() bool { return n.ShortTag() == "!!int" }) &&
			decodeNode(n, reflect.New(t).Interface()) != nil {
			lo, hi := intRange(t)
			w.add(line, col, path, "expected integer between %s and %s, got %s", lo, hi, n.Value)
		}
	case reflect.Float32, reflect.Float64:
		w.scalar(line, col, n, path, "number", func() bool {
			tag := n.ShortTag()
			return (tag == "!!int" || tag == "!!float") && decodeNode(n, reflect.New(t).Interface()) == nil
		})
	default:
		w.add(line, col, path, "internal error: cannot decode into Go type %s", t)
	}
}

// selfDecode lets a type that decodes itself try the node.
func (w *walker) selfDecode(line, col int, n *yaml.Node, t reflect.Type, path string) {
	err := decodeNode(n, reflect.New(t).Interface())
	if err == nil {
		return
	}
	var te *yaml.TypeError
	if errors.As(err, &te) {
		for _, l := range te.Errors {
			if m := lineRE.FindStringSubmatch(strings.TrimSpace(l)); m != nil {
				l = m[2]
			}
			w.add(line, col, path, "%s", l)
		}
		return
	}
	w.add(line, col, path, "%s", strings.TrimPrefix(err.Error(), "yaml: "))
}

func (w *walker) duration(line, col int, n *yaml.Node, path string) {
	w.scalar(line, col, n, path, `duration such as "30s", "5m" or "1h30m"`, func() bool {
		_, err := time.ParseDuration(n.Value)
		return err == nil && n.ShortTag() == "!!str"
	})
}

// scalar checks that n is a scalar accepted by ok (if non-nil), adding
// "expected <what>, got ..." if not, and reports whether it is.
func (w *walker) scalar(line, col int, n *yaml.Node, path, what string, ok func() bool) bool {
	if n.Kind != yaml.ScalarNode || ok != nil && !ok() {
		w.add(line, col, path, "expected %s, got %s", what, describe(n))
		return false
	}
	return true
}

// expect reports whether n has the wrong kind, adding an error if so.
func (w *walker) expect(line, col int, n *yaml.Node, kind yaml.Kind, path string) bool {
	if n.Kind == kind {
		return true
	}
	w.add(line, col, path, "expected %s, got %s", kindName(kind), describe(n))
	return false
}

// mapping checks the pairs of mapping n: against struct fields when si is
// non-nil, else as a map with the given key and value types.
func (w *walker) mapping(n *yaml.Node, path string, si *structInfo, kt, vt reflect.Type) {
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if isMerge(k) {
			w.merge(k, v, path, si, kt, vt)
			continue
		}
		if k.Kind != yaml.ScalarNode {
			w.add(k.Line, k.Column, path, "expected a scalar key, got %s", describe(k))
			continue
		}
		if first, dup := seen[k.Value]; dup {
			w.add(k.Line, k.Column, JoinKey(path, k.Value), "duplicate key %q (first defined at line %d)", k.Value, first.Line)
			continue
		}
		seen[k.Value] = k
		if si == nil {
			w.walk(nil, k, kt, path)
			w.walk(k, v, vt, JoinKey(path, k.Value))
			continue
		}
		if f, ok := si.byName[k.Value]; ok {
			w.walk(k, v, f.typ, JoinKey(path, k.Value))
		} else if si.inlineMap != nil {
			w.walk(k, v, si.inlineMap, JoinKey(path, k.Value))
		} else {
			w.add(k.Line, k.Column, JoinKey(path, k.Value), "unknown field %q (expected one of: %s)", k.Value, strings.Join(si.names, ", "))
		}
	}
}

// merge checks the value of a "<<" merge key: a mapping or a sequence of
// mappings whose keys are merged into the enclosing mapping.
func (w *walker) merge(k, v *yaml.Node, path string, si *structInfo, kt, vt reflect.Type) {
	w.visits++
	if w.visits > maxVisits {
		return
	}
	srcs := []*yaml.Node{v}
	if d := deref(v); d.Kind == yaml.SequenceNode {
		srcs = d.Content
	}
	for _, s := range srcs {
		d := deref(s)
		if d.Kind != yaml.MappingNode {
			w.add(s.Line, s.Column, path, "merge key %q expects a mapping or a sequence of mappings, got %s", k.Value, describe(d))
			continue
		}
		if w.active[d] {
			w.add(s.Line, s.Column, path, "merged value contains itself")
			continue
		}
		w.active[d] = true
		w.mapping(d, path, si, kt, vt)
		delete(w.active, d)
	}
}

func kindName(k yaml.Kind) string {
	switch k {
	case yaml.MappingNode:
		return "mapping"
	case yaml.SequenceNode:
		return "sequence"
	}
	return "value"
}

// describe names what a node is, for "got ..." in messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "mapping"
	case yaml.SequenceNode:
		return "sequence"
	case yaml.AliasNode:
		return "alias *" + n.Value
	case yaml.ScalarNode:
		v := n.Value
		if len(v) > 60 {
			v = v[:57] + "..."
		}
		if n.ShortTag() == "!!str" {
			return strconv.Quote(v)
		}
		return v
	}
	return "document"
}

func intRange(t reflect.Type) (lo, hi string) {
	bits := t.Bits()
	if t.Kind() >= reflect.Uint && t.Kind() <= reflect.Uintptr {
		return "0", strconv.FormatUint(math.MaxUint64>>(64-bits), 10)
	}
	return strconv.FormatInt(math.MinInt64>>(64-bits), 10), strconv.FormatInt(math.MaxInt64>>(64-bits), 10)
}
