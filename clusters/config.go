package clusters

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"gopkg.in/yaml.v3"

	"github.com/eksbg/eksbg/internal/yamlstrict"
)

// APIVersion and Kind are the only ones eksctl accepts for a ClusterConfig
// (https://eksctl.io/usage/schema/).
const (
	APIVersion = "eksctl.io/v1alpha5"
	Kind       = "ClusterConfig"
)

// Config is one eksctl ClusterConfig: the file's text as written and its
// YAML tree. Methods that change it (those Derive calls) splice the text, so
// whatever they do not touch stays byte for byte as it was.
type Config struct {
	// File names the config in messages (a path, or a name given to Parse).
	File string

	src  []byte
	root *yaml.Node // the document's top mapping node
	// rewrites counts edits that could not be spliced and wrote a whole
	// entry or document again instead (see edit.go); tests keep it at 0.
	rewrites int
}

// Load reads and parses the eksctl ClusterConfig at path.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading cluster config: %w", err)
	}
	return Parse(path, data)
}

// Parse parses data, named name in messages, as an eksctl ClusterConfig. It
// checks that data is one YAML document holding a mapping with eksctl's
// apiVersion and kind; Validate checks the rest against eksctl's schema.
func Parse(name string, data []byte) (*Config, error) {
	root, err := parseDoc(name, data)
	if err != nil {
		return nil, err
	}
	c := &Config{File: name, src: bytes.Clone(data), root: root}
	for _, f := range []struct{ key, want string }{{"apiVersion", APIVersion}, {"kind", Kind}} {
		v := lookup(root, f.key)
		switch {
		case v == nil:
			return nil, &yamlstrict.FieldError{File: name, Line: root.Line, Path: f.key, Msg: fmt.Sprintf("missing; an eksctl cluster config has %s: %s", f.key, f.want)}
		case v.Kind != yaml.ScalarNode || v.Value != f.want:
			return nil, &yamlstrict.FieldError{File: name, Line: v.Line, Column: v.Column, Path: f.key, Msg: fmt.Sprintf("is %q; eksbg reads %s: %s", v.Value, f.key, f.want)}
		}
	}
	return c, nil
}

// parseDoc parses exactly one YAML document whose top node is a mapping.
func parseDoc(name string, data []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &yamlstrict.FieldError{File: name, Msg: "document is empty"}
		}
		return nil, fmt.Errorf("parsing %s: %w", name, err)
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case errors.Is(err, io.EOF):
	case err != nil:
		return nil, fmt.Errorf("parsing %s: %w", name, err)
	default:
		return nil, &yamlstrict.FieldError{File: name, Line: next.Line, Column: next.Column,
			Msg: "a second YAML document starts here; eksctl reads one ClusterConfig per file"}
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, &yamlstrict.FieldError{File: name, Line: doc.Line, Column: doc.Column, Msg: "the document is not a mapping; expected an eksctl ClusterConfig"}
	}
	return doc.Content[0], nil
}

// Bytes returns the config's text. For a config nothing has changed it is
// exactly the text that was parsed.
func (c *Config) Bytes() []byte { return bytes.Clone(c.src) }

// Name returns metadata.name as written.
func (c *Config) Name() string { return scalarAt(c.root, "metadata", "name") }

// Clone returns an independent copy of c.
func (c *Config) Clone() *Config {
	cp, err := Parse(c.File, c.src)
	if err != nil {
		// c.src parsed when c was made, and every edit re-parses it.
		panic(fmt.Sprintf("clusters: re-parsing a config that parsed before: %v", err))
	}
	return cp
}

// lookup returns the value of key in mapping node m, or nil.
func lookup(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// lookupPath follows keys from m.
func lookupPath(m *yaml.Node, keys ...string) *yaml.Node {
	for _, k := range keys {
		m = lookup(m, k)
	}
	return m
}

// scalarAt returns the scalar at keys under m, or "".
func scalarAt(m *yaml.Node, keys ...string) string {
	n := lookupPath(m, keys...)
	if n == nil || n.Kind != yaml.ScalarNode {
		return ""
	}
	return n.Value
}
