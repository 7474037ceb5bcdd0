package clusters

import (
	"bytes"
	"fmt"
	"reflect"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// This file edits a Config's text in place. An edit names a mapping (by a
// path of keys and sequence indexes from the top) and a key in it, and
// either sets the key's value or removes the key. The edit is spliced into
// the text where the YAML tree says the entry is, so every other byte stays
// as written; the text is then parsed again and checked against the same
// edit applied to the tree. Where splicing cannot be trusted (a flow-style
// mapping such as `{a: 1}`, a multi-line scalar), the top-level entry that
// holds the edit is written out again from the edited tree instead, and if
// even that does not give the expected document, the whole document is.

// step is one element of a path: a mapping key (string) or a sequence index
// (int).
type step = any

// setKey sets key in the mapping at path to value, adding the key after the
// key named after (first when after is "^", last when it is "" or missing)
// when it is missing, and
// creating the mapping, and any missing mapping above it, when needed.
func (c *Config) setKey(path []step, key string, value *yaml.Node, after string) error {
	return c.edit(path, key, value, after)
}

// removeKey removes key from the mapping at path; it does nothing when
// either is missing.
func (c *Config) removeKey(path []step, key string) error {
	m := nodeAt(c.root, path)
	if lookup(m, key) == nil {
		return nil
	}
	return c.edit(path, key, nil, "")
}

// edit sets (value != nil) or removes (value == nil) key in the mapping at
// path.
func (c *Config) edit(path []step, key string, value *yaml.Node, after string) error {
	want := deepCopy(c.root)
	if err := applyToTree(want, path, key, value, after); err != nil {
		return err
	}
	wantJSON, err := toJSON(want, "", nil)
	if err != nil {
		return fmt.Errorf("editing %s: %w", c.File, err)
	}
	attempts := []func() ([]byte, bool){
		func() ([]byte, bool) { return c.splice(path, key, value, after) },
		func() ([]byte, bool) { return c.rewriteTopLevel(want, path, key) },
		func() ([]byte, bool) { return encodeDocument(c.src, want) },
	}
	for n, attempt := range attempts {
		src, ok := attempt()
		if !ok {
			continue
		}
		root, err := parseDoc(c.File, src)
		if err != nil {
			continue
		}
		got, err := toJSON(root, "", nil)
		if err != nil || !reflect.DeepEqual(got, wantJSON) {
			continue
		}
		c.src, c.root = src, root
		if n > 0 {
			c.rewrites++
		}
		return nil
	}
	return fmt.Errorf("editing %s: could not write %s", c.File, displaySteps(append(append([]step{}, path...), key)))
}

// applyToTree makes the edit on a tree: the semantic reference that the
// spliced text must match.
func applyToTree(root *yaml.Node, path []step, key string, value *yaml.Node, after string) error {
	m := root
	for i, s := range path {
		next := childAt(m, s)
		if next == nil || isNull(next) {
			if value == nil {
				return nil
			}
			k, ok := s.(string)
			if !ok || m.Kind != yaml.MappingNode {
				return fmt.Errorf("editing: no %s", displaySteps(path[:i+1]))
			}
			fresh := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
			if next == nil {
				m.Content = append(m.Content, strNode(k), fresh)
			} else {
				*next = *fresh
				fresh = next
			}
			next = fresh
		}
		m = next
	}
	if m.Kind != yaml.MappingNode {
		return fmt.Errorf("editing: %s is not a mapping", displaySteps(path))
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value != key {
			continue
		}
		if value == nil {
			m.Content = append(m.Content[:i], m.Content[i+2:]...)
		} else {
			m.Content[i+1] = deepCopy(value)
		}
		return nil
	}
	if value == nil {
		return nil
	}
	at := len(m.Content)
	if after == "^" {
		at = 0
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if after != "" && m.Content[i].Value == after {
			at = i + 2
		}
	}
	m.Content = append(m.Content[:at], append([]*yaml.Node{strNode(key), deepCopy(value)}, m.Content[at:]...)...)
	return nil
}

// splice makes the edit on the text. It reports false when the edit is one
// it does not splice.
func (c *Config) splice(path []step, key string, value *yaml.Node, after string) ([]byte, bool) {
	t := newText(c.src)
	m := nodeAt(c.root, path)
	if m == nil || isNull(m) {
		// Create the missing mappings, from the deepest one that exists.
		if value == nil {
			return nil, false
		}
		fresh := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Content: []*yaml.Node{strNode(key), value}}
		for p := path; len(p) > 0; p = p[:len(p)-1] {
			last, ok := p[len(p)-1].(string)
			if !ok {
				return nil, false
			}
			parent, cur := nodeAt(c.root, p[:len(p)-1]), nodeAt(c.root, p)
			switch {
			case parent == nil:
				fresh = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Content: []*yaml.Node{strNode(last), fresh}}
				continue
			case parent.Kind != yaml.MappingNode || parent.Style&yaml.FlowStyle != 0:
				return nil, false
			case cur != nil:
				// `last:` with no value: write the whole entry.
				return t.replaceEntry(parent, last, fresh, c.indentUnit())
			default:
				return t.insertEntry(parent, last, fresh, "", c.indentUnit())
			}
		}
		return nil, false
	}
	if m.Kind != yaml.MappingNode || m.Style&yaml.FlowStyle != 0 {
		return nil, false
	}
	if value == nil {
		return t.removeEntry(m, key)
	}
	if lookup(m, key) == nil {
		return t.insertEntry(m, key, value, after, c.indentUnit())
	}
	if out, ok := t.replaceScalar(m, key, value); ok {
		return out, true
	}
	return t.replaceEntry(m, key, value, c.indentUnit())
}

// rewriteTopLevel writes the top-level entry that holds the edit again
// from the edited tree want.
func (c *Config) rewriteTopLevel(want *yaml.Node, path []step, key string) ([]byte, bool) {
	top := key
	if len(path) > 0 {
		s, ok := path[0].(string)
		if !ok {
			return nil, false
		}
		top = s
	}
	v := lookup(want, top)
	t := newText(c.src)
	if v == nil {
		if lookup(c.root, top) == nil {
			return nil, false
		}
		return t.removeEntry(c.root, top)
	}
	if lookup(c.root, top) == nil {
		return t.insertEntry(c.root, top, v, "", c.indentUnit())
	}
	return t.replaceEntry(c.root, top, v, c.indentUnit())
}

// encodeDocument writes the whole tree out again, keeping the text before
// the document's first line (comments and a "---" marker).
func encodeDocument(src []byte, root *yaml.Node) ([]byte, bool) {
	cp := *root
	cp.HeadComment = "" // kept with the text before the first line
	body, err := render(&cp, 2)
	if err != nil {
		return nil, false
	}
	t := newText(src)
	return append(bytes.Clone(src[:t.lineStart(root.Line)]), body...), true
}

// indentUnit guesses the file's indentation step from its first nested
// block mapping; 2 when there is none.
func (c *Config) indentUnit() int {
	for i := 0; i+1 < len(c.root.Content); i += 2 {
		k, v := c.root.Content[i], c.root.Content[i+1]
		if v.Kind == yaml.MappingNode && v.Style&yaml.FlowStyle == 0 && v.Column > k.Column {
			return v.Column - k.Column
		}
	}
	return 2
}

// text is a config's source split into lines, for splicing.
type text struct {
	src    []byte
	starts []int // byte offset of each line's start; starts[i] is line i+1
}

func newText(src []byte) *text {
	t := &text{src: src, starts: []int{0}}
	for i, b := range src {
		if b == '\n' && i+1 < len(src) {
			t.starts = append(t.starts, i+1)
		}
	}
	return t
}

// lineStart is the byte offset where 1-based line n starts (len(src) past
// the end).
func (t *text) lineStart(n int) int {
	if n-1 >= len(t.starts) {
		return len(t.src)
	}
	return t.starts[n-1]
}

// line returns line n without its line break.
func (t *text) line(n int) string {
	end := len(t.src)
	if n < len(t.starts) {
		end = t.starts[n]
	}
	return strings.TrimRight(string(t.src[t.lineStart(n):end]), "\r\n")
}

func (t *text) lines() int { return len(t.starts) }

// offset converts a 1-based line and column (in characters, as yaml.v3
// counts) to a byte offset.
func (t *text) offset(line, col int) int {
	off := t.lineStart(line)
	for i := 1; i < col && off < len(t.src); i++ {
		_, size := utf8.DecodeRune(t.src[off:])
		off += size
	}
	return off
}

// indentOf counts the leading spaces of s.
func indentOf(s string) int { return len(s) - len(strings.TrimLeft(s, " ")) }

// entryLines returns the first and last line of the entry of key k, whose
// value is v, in a block mapping: from k's line through the last line that
// is more indented than k (or, for a sequence written at k's own
// indentation, starts with "-"), leaving out trailing blank and comment
// lines that are no deeper than k, which belong to whatever follows.
func (t *text) entryLines(k, v *yaml.Node) (first, last int) {
	keyIndent := k.Column - 1
	sameIndentSeq := v.Kind == yaml.SequenceNode && v.Style&yaml.FlowStyle == 0 && v.Column == k.Column
	first, last = k.Line, k.Line
	for n := k.Line + 1; n <= t.lines(); n++ {
		l := t.line(n)
		trimmed := strings.TrimSpace(l)
		ind := indentOf(l)
		switch {
		case trimmed == "":
			continue
		case strings.HasPrefix(trimmed, "#"):
			if ind > keyIndent {
				last = n
			}
			continue
		case ind == 0 && (strings.HasPrefix(l, "---") || strings.HasPrefix(l, "...")):
			return first, last
		case ind > keyIndent:
			last = n
		case ind == keyIndent && sameIndentSeq && (trimmed == "-" || strings.HasPrefix(trimmed, "- ")):
			last = n
		default:
			return first, last
		}
	}
	return first, last
}

// onDashLine reports whether key node k shares its line with the "- " of
// the sequence item it opens.
func (t *text) onDashLine(k *yaml.Node) bool {
	return indentOf(t.line(k.Line)) < k.Column-1
}

// keyIndex finds key in mapping m; -1 when missing.
func keyIndex(m *yaml.Node, key string) int {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return i
		}
	}
	return -1
}

// removeEntry cuts the entry of key out of block mapping m.
func (t *text) removeEntry(m *yaml.Node, key string) ([]byte, bool) {
	i := keyIndex(m, key)
	if i < 0 || m.Style&yaml.FlowStyle != 0 {
		return nil, false
	}
	k, v := m.Content[i], m.Content[i+1]
	_, last := t.entryLines(k, v)
	if t.onDashLine(k) {
		// "- key: v" followed by "  next: w": keep the dash and pull the
		// next entry up onto its line.
		if i+2 >= len(m.Content) {
			return nil, false
		}
		next := m.Content[i+2]
		return t.replace(t.offset(k.Line, k.Column), t.offset(next.Line, next.Column), nil), true
	}
	end := t.lineStart(last + 1)
	// Removing an entry that has a blank line on each side leaves one.
	if k.Line > 1 && strings.TrimSpace(t.line(k.Line-1)) == "" && last+1 <= t.lines() && strings.TrimSpace(t.line(last+1)) == "" {
		end = t.lineStart(last + 2)
	}
	return t.replace(t.lineStart(k.Line), end, nil), true
}

// replaceEntry writes the entry of key in block mapping m again with value.
func (t *text) replaceEntry(m *yaml.Node, key string, value *yaml.Node, unit int) ([]byte, bool) {
	i := keyIndex(m, key)
	if i < 0 || m.Style&yaml.FlowStyle != 0 {
		return nil, false
	}
	k, v := m.Content[i], m.Content[i+1]
	_, last := t.entryLines(k, v)
	newKey := strNode(key)
	newKey.LineComment = k.LineComment
	value = deepCopy(value)
	if value.Kind == yaml.ScalarNode && v.Kind == yaml.ScalarNode && value.LineComment == "" {
		value.LineComment = v.LineComment
	}
	body, err := renderEntry(newKey, value, k.Column-1, unit)
	if err != nil {
		return nil, false
	}
	start := t.lineStart(k.Line)
	if t.onDashLine(k) {
		start = t.offset(k.Line, k.Column)
		body = body[k.Column-1:]
	}
	return t.replace(start, t.lineStart(last+1), body), true
}

// insertEntry adds key: value to block mapping m after the entry of key
// after, before its first entry (and that entry's comments) when after is
// "^", or after its last entry. A new top-level entry gets a blank line
// before it when the file separates its top-level entries so.
func (t *text) insertEntry(m *yaml.Node, key string, value *yaml.Node, after string, unit int) ([]byte, bool) {
	if m.Kind != yaml.MappingNode || m.Style&yaml.FlowStyle != 0 || len(m.Content) == 0 {
		return nil, false
	}
	first := m.Content[0]
	body, err := renderEntry(strNode(key), value, first.Column-1, unit)
	if err != nil {
		return nil, false
	}
	if after == "^" {
		if t.onDashLine(first) {
			return nil, false
		}
		line := first.Line
		for line > 1 {
			l := t.line(line - 1)
			if !strings.HasPrefix(strings.TrimSpace(l), "#") || indentOf(l) != first.Column-1 {
				break
			}
			line--
		}
		at := t.lineStart(line)
		return t.replace(at, at, body), true
	}
	i := len(m.Content) - 2
	if j := keyIndex(m, after); after != "" && j >= 0 {
		i = j
	}
	k, v := m.Content[i], m.Content[i+1]
	_, last := t.entryLines(k, v)
	if i == len(m.Content)-2 {
		last = t.trailingComments(last, k.Column-1)
	}
	at := t.lineStart(last + 1)
	if first.Column == 1 && t.blankBetweenTopLevel(m) {
		body = append([]byte("\n"), body...)
	}
	if at == len(t.src) && len(t.src) > 0 && t.src[len(t.src)-1] != '\n' {
		body = append([]byte("\n"), body...)
	}
	return t.replace(at, at, body), true
}

// trailingComments extends the last line of a mapping's last entry over
// the comment lines after it that are at least as indented as its keys
// (indent), or, at the top level, over every comment to the end of the
// document: they belong to the mapping (often a commented-out field), not
// to what follows.
func (t *text) trailingComments(last, indent int) int {
	for n := last + 1; n <= t.lines(); n++ {
		l := t.line(n)
		trimmed := strings.TrimSpace(l)
		switch {
		case trimmed == "":
			continue
		case strings.HasPrefix(trimmed, "#") && (indent == 0 || indentOf(l) >= indent):
			last = n
		default:
			return last
		}
	}
	return last
}

// blankBetweenTopLevel reports whether a blank line comes before most of
// the top-level entries after the first, as in eksctl's examples.
func (t *text) blankBetweenTopLevel(m *yaml.Node) bool {
	blank, n := 0, 0
	for i := 2; i+1 < len(m.Content); i += 2 {
		n++
		if k := m.Content[i]; k.Line > 1 && strings.TrimSpace(t.line(k.Line-1)) == "" {
			blank++
		}
	}
	return n > 0 && 2*blank >= n
}

// replaceScalar rewrites, in place on its line, a one-line scalar value
// with another scalar, keeping its quoting style and whatever follows it on
// the line (a comment). It reports false for anything else.
func (t *text) replaceScalar(m *yaml.Node, key string, value *yaml.Node) ([]byte, bool) {
	i := keyIndex(m, key)
	if i < 0 {
		return nil, false
	}
	k, v := m.Content[i], m.Content[i+1]
	if v.Kind != yaml.ScalarNode || value.Kind != yaml.ScalarNode || v.Line != k.Line ||
		v.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 || v.Tag == "!!null" && v.Value == "" {
		return nil, false
	}
	if _, last := t.entryLines(k, v); last != k.Line {
		return nil, false
	}
	start := t.offset(v.Line, v.Column)
	end, ok := t.scalarEnd(v, start)
	if !ok {
		return nil, false
	}
	nv := deepCopy(value)
	if nv.Style == 0 && nv.Tag == "!!str" && v.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0 {
		nv.Style = v.Style & (yaml.DoubleQuotedStyle | yaml.SingleQuotedStyle)
	}
	nv.LineComment = ""
	out, err := render(nv, 2)
	if err != nil || bytes.Count(out, []byte("\n")) != 1 {
		return nil, false
	}
	return t.replace(start, end, bytes.TrimSuffix(out, []byte("\n"))), true
}

// scalarEnd finds where the one-line scalar v starting at byte start ends.
func (t *text) scalarEnd(v *yaml.Node, start int) (int, bool) {
	lineEnd := t.lineStart(v.Line + 1)
	s := t.src[start:lineEnd]
	switch {
	case v.Style&yaml.TaggedStyle != 0 || v.Anchor != "":
		return 0, false
	case v.Style&yaml.DoubleQuotedStyle != 0:
		for i := 1; i < len(s); i++ {
			switch s[i] {
			case '\\':
				i++
			case '"':
				return start + i + 1, true
			}
		}
		return 0, false
	case v.Style&yaml.SingleQuotedStyle != 0:
		for i := 1; i < len(s); i++ {
			if s[i] == '\'' {
				if i+1 < len(s) && s[i+1] == '\'' {
					i++
					continue
				}
				return start + i + 1, true
			}
		}
		return 0, false
	case v.Style != 0:
		return 0, false
	default:
		end := len(s)
		if i := bytes.Index(s, []byte(" #")); i >= 0 {
			end = i
		}
		return start + len(bytes.TrimRight(s[:end], " \t\r\n")), true
	}
}

// replace returns the text with src[from:to] replaced by with.
func (t *text) replace(from, to int, with []byte) []byte {
	out := make([]byte, 0, len(t.src)-(to-from)+len(with))
	out = append(out, t.src[:from]...)
	out = append(out, with...)
	return append(out, t.src[to:]...)
}

// renderEntry writes "key: value" as block YAML, every line indented by
// indent spaces, nested levels by unit.
func renderEntry(k, v *yaml.Node, indent, unit int) ([]byte, error) {
	out, err := render(&yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Content: []*yaml.Node{k, v}}, unit)
	if err != nil {
		return nil, err
	}
	if indent == 0 {
		return out, nil
	}
	pad := strings.Repeat(" ", indent)
	var b bytes.Buffer
	for _, l := range strings.SplitAfter(string(out), "\n") {
		if l != "" && l != "\n" {
			b.WriteString(pad)
		}
		b.WriteString(l)
	}
	return b.Bytes(), nil
}

// render encodes n as YAML with the given indentation step.
func render(n *yaml.Node, unit int) ([]byte, error) {
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(unit)
	if err := enc.Encode(n); err != nil {
		return nil, fmt.Errorf("encoding YAML: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encoding YAML: %w", err)
	}
	return b.Bytes(), nil
}

// nodeAt follows path from root; nil when it leads nowhere.
func nodeAt(root *yaml.Node, path []step) *yaml.Node {
	n := root
	for _, s := range path {
		if n = childAt(n, s); n == nil {
			return nil
		}
	}
	return n
}

// childAt is one step of nodeAt.
func childAt(n *yaml.Node, s step) *yaml.Node {
	if n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	switch s := s.(type) {
	case string:
		return lookup(n, s)
	case int:
		if n == nil || n.Kind != yaml.SequenceNode || s < 0 || s >= len(n.Content) {
			return nil
		}
		return n.Content[s]
	}
	return nil
}

// displaySteps formats a path as "nodeGroups[0].ami".
func displaySteps(path []step) string {
	var b strings.Builder
	for _, s := range path {
		switch s := s.(type) {
		case string:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(s)
		case int:
			fmt.Fprintf(&b, "[%d]", s)
		}
	}
	return b.String()
}

// deepCopy copies a node tree. Aliases keep pointing at the original
// anchors, which the copy does not change.
func deepCopy(n *yaml.Node) *yaml.Node {
	if n == nil {
		return nil
	}
	cp := *n
	if n.Content != nil {
		cp.Content = make([]*yaml.Node, len(n.Content))
		for i, c := range n.Content {
			cp.Content[i] = deepCopy(c)
		}
	}
	return &cp
}

// strNode is a string scalar.
func strNode(s string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}
}
