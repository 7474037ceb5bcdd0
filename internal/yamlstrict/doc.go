package yamlstrict

import (
	"fmt"
	"strconv"

	"gopkg.in/yaml.v3"
)

// Doc keeps the parsed node tree of a document so that semantic
// validation done after Decode can point at lines and columns.
type Doc struct {
	// File is the name used in error messages.
	File string
	root *yaml.Node
}

// Root returns the top-level node of the document (never a DocumentNode),
// or nil when nothing was parsed.
func (d *Doc) Root() *yaml.Node {
	if d == nil {
		return nil
	}
	return d.root
}

// Errorf builds a FieldError for path, e.g. "environments[0].traffic.steps[1]"
// or `quotas["ec2/L-1216C47A"]`, with the line and column of that field.
// When the field is absent the position of its nearest existing ancestor
// is used, so a missing required field points at its parent mapping.
// Scalars are located at their value, collections at their key.
func (d *Doc) Errorf(path string, format string, args ...any) *FieldError {
	e := &FieldError{Path: path, Msg: fmt.Sprintf(format, args...)}
	if d == nil {
		return e
	}
	e.File = d.File
	e.Line, e.Column, _ = d.locate(path)
	return e
}

// Has reports whether path exists in the document (its value may be null).
func (d *Doc) Has(path string) bool {
	if d == nil {
		return false
	}
	_, _, ok := d.locate(path)
	return ok
}

// locate returns the position of path, or of its nearest existing
// ancestor with found == false.
func (d *Doc) locate(path string) (line, col int, found bool) {
	n := d.root
	if n == nil {
		return 0, 0, false
	}
	line, col = n.Line, n.Column
	segs, ok := parsePath(path)
	for _, s := range segs {
		c := deref(n)
		var k, v *yaml.Node
		switch {
		case s.isIndex && c.Kind == yaml.SequenceNode:
			if s.index >= 0 && s.index < len(c.Content) {
				v = c.Content[s.index]
			}
		case !s.isIndex && c.Kind == yaml.MappingNode:
			k, v = findKey(c, s.key, 0)
		}
		if v == nil {
			return line, col, false
		}
		line, col = posOf(k, v)
		n = v
	}
	return line, col, ok
}

// findKey returns the key and value nodes of name in mapping m, looking
// into merged ("<<") mappings when m has no such key itself.
func findKey(m *yaml.Node, name string, depth int) (key, val *yaml.Node) {
	if depth > maxMergeDepth || m.Kind != yaml.MappingNode {
		return nil, nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k := m.Content[i]
		if k.Kind == yaml.ScalarNode && !isMerge(k) && k.Value == name {
			return k, m.Content[i+1]
		}
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if !isMerge(m.Content[i]) {
			continue
		}
		v := deref(m.Content[i+1])
		srcs := []*yaml.Node{v}
		if v.Kind == yaml.SequenceNode {
			srcs = v.Content
		}
		for _, s := range srcs {
			if k, v := findKey(deref(s), name, depth+1); v != nil {
				return k, v
			}
		}
	}
	return nil, nil
}

const maxMergeDepth = 32

// deref follows alias nodes (a bounded number of times).
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; i < maxMergeDepth && n.Kind == yaml.AliasNode && n.Alias != nil; i++ {
		n = n.Alias
	}
	return n
}

func isMerge(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Value == "<<" &&
		(n.Tag == "" || n.Tag == "!" || n.ShortTag() == "!!merge")
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// posOf is where an error about val (the value of key, if any) points:
// at the key for block collections and empty values, else at the value.
func posOf(key, val *yaml.Node) (int, int) {
	if key != nil {
		blockColl := (val.Kind == yaml.MappingNode || val.Kind == yaml.SequenceNode) && val.Style&yaml.FlowStyle == 0
		empty := isNull(val) && val.Value == ""
		if blockColl || empty {
			return key.Line, key.Column
		}
	}
	return val.Line, val.Column
}

type segment struct {
	key     string
	index   int
	isIndex bool
}

// parsePath splits a path like `a.b[2]["c.d"]` into segments. ok is false
// when the path is malformed; the segments parsed so far are returned.
func parsePath(p string) (segs []segment, ok bool) {
	for i := 0; i < len(p); {
		switch p[i] {
		case '.':
			i++
			if i >= len(p) || p[i] == '.' || p[i] == '[' {
				return segs, false
			}
		case '[':
			if i+1 < len(p) && p[i+1] == '"' {
				q, err := strconv.QuotedPrefix(p[i+1:])
				if err != nil {
					return segs, false
				}
				key, err := strconv.Unquote(q)
				j := i + 1 + len(q)
				if err != nil || j >= len(p) || p[j] != ']' {
					return segs, false
				}
				segs = append(segs, segment{key: key})
				i = j + 1
				continue
			}
			j := i + 1
			for j < len(p) && p[j] >= '0' && p[j] <= '9' {
				j++
			}
			if j == i+1 || j >= len(p) || p[j] != ']' {
				return segs, false
			}
			n, err := strconv.Atoi(p[i+1 : j])
			if err != nil {
				return segs, false
			}
			segs = append(segs, segment{index: n, isIndex: true})
			i = j + 1
		default:
			j := i
			for j < len(p) && p[j] != '.' && p[j] != '[' {
				j++
			}
			segs = append(segs, segment{key: p[i:j]})
			i = j
		}
	}
	return segs, true
}
