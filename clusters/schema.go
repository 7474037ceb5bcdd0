package clusters

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"gopkg.in/yaml.v3"

	"github.com/eksbg/eksbg/internal/yamlstrict"
)

// schemaURL is the name the schema is compiled under; it never leaves the
// process.
const schemaURL = "eksctl-clusterconfig.schema.json"

// Schema is eksctl's ClusterConfig JSON schema, compiled. Get it from the
// installed eksctl (`eksctl utils schema`) so that eksbg checks configs
// against the eksctl that will create the cluster.
type Schema struct {
	compiled *jsonschema.Schema
	doc      map[string]any // the schema as parsed, for field-name suggestions
	// Corrected lists the known defects of eksctl's generated schema that
	// CompileSchema corrected (see schemaQuirks), by name.
	Corrected []string
}

// CompileSchema compiles eksctl's ClusterConfig schema (a draft-07 JSON
// schema, as `eksctl utils schema` prints it).
//
// eksctl generates its schema from its Go types, and two of its rules
// reject configs that eksctl itself accepts; CompileSchema corrects exactly
// those two where it finds them, so that it never refuses a config eksctl
// would create (see schemaQuirks).
func CompileSchema(data []byte) (*Schema, error) {
	return compileSchema(data, schemaQuirks)
}

func compileSchema(data []byte, quirks []schemaQuirk) (*Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("parsing eksctl schema: %w", err)
	}
	m, ok := doc.(map[string]any)
	if !ok {
		return nil, errors.New("parsing eksctl schema: not a JSON object")
	}
	s := &Schema{doc: m}
	for _, q := range quirks {
		if q.fix(m) {
			s.Corrected = append(s.Corrected, q.name)
		}
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft7)
	if err := c.AddResource(schemaURL, m); err != nil {
		return nil, fmt.Errorf("loading eksctl schema: %w", err)
	}
	if s.compiled, err = c.Compile(schemaURL); err != nil {
		return nil, fmt.Errorf("compiling eksctl schema: %w", err)
	}
	return s, nil
}

// schemaQuirk is one known defect of eksctl's generated schema: a rule that
// rejects what eksctl's own decoder and validation accept. fix corrects it in
// the parsed schema and reports whether the schema had it, so a newer eksctl
// whose schema is right is used as it is.
type schemaQuirk struct {
	name string
	fix  func(schema map[string]any) bool
}

var schemaQuirks = []schemaQuirk{
	{
		// IdentityProvider is {type} plus oneOf [OIDCIdentityProvider], and
		// OIDCIdentityProvider forbids additional properties without listing
		// type, so no identity provider can pass. eksctl decodes the entry
		// into its IdentityProvider wrapper, which reads type and then the
		// OIDC fields (pkg/apis/eksctl.io/v1alpha5/identity_provider.go).
		// The correction lets OIDCIdentityProvider carry the same type
		// property IdentityProvider declares; nothing else is loosened.
		name: "identityProviders: OIDCIdentityProvider does not allow the type field its oneOf parent requires",
		fix: func(s map[string]any) bool {
			parent := definition(s, "IdentityProvider")
			oidc := definition(s, "OIDCIdentityProvider")
			parentProps, _ := parent["properties"].(map[string]any)
			oidcProps, _ := oidc["properties"].(map[string]any)
			typ, ok := parentProps["type"]
			if !ok || oidcProps == nil || oidc["additionalProperties"] != false {
				return false
			}
			if _, has := oidcProps["type"]; has {
				return false
			}
			oneOf, _ := parent["oneOf"].([]any)
			if !slices.ContainsFunc(oneOf, func(v any) bool {
				ref, _ := v.(map[string]any)
				return ref["$ref"] == "#/definitions/OIDCIdentityProvider"
			}) {
				return false
			}
			oidcProps["type"] = typ
			return true
		},
	},
	{
		// RemoteNetworkConfig requires vpcGatewayID, but eksctl's type has
		// it as an optional pointer (`json:"vpcGatewayID,omitempty"`) and its
		// validation only checks it when set ((*ClusterConfig).validateRemoteNetworkingConfig
		// in pkg/apis/eksctl.io/v1alpha5/validation.go); eksctl's own
		// examples/43-hybrid-nodes.yaml leaves it out.
		name: "remoteNetworkConfig: vpcGatewayID is required by the schema but optional in eksctl",
		fix: func(s map[string]any) bool {
			def := definition(s, "RemoteNetworkConfig")
			req, _ := def["required"].([]any)
			i := slices.Index(req, any("vpcGatewayID"))
			if i < 0 {
				return false
			}
			def["required"] = slices.Delete(slices.Clone(req), i, i+1)
			return true
		},
	},
}

// definition returns #/definitions/name of a schema, or nil.
func definition(s map[string]any, name string) map[string]any {
	defs, _ := s["definitions"].(map[string]any)
	d, _ := defs[name].(map[string]any)
	return d
}

// Validate checks c against the schema. It returns nil or a
// yamlstrict.Errors with one entry per problem, each naming the field's path
// and its line in c.File; an unknown field comes with the closest field
// name the schema allows there.
func (s *Schema) Validate(c *Config) error {
	idx := map[string]*yaml.Node{}
	inst, err := toJSON(c.root, "", idx)
	if err != nil {
		var fe *yamlstrict.FieldError
		if errors.As(err, &fe) {
			fe.File = c.File
		}
		return yamlstrict.Errors{fe}
	}
	err = s.compiled.Validate(inst)
	if err == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return fmt.Errorf("validating %s against eksctl's schema: %w", c.File, err)
	}
	var errs yamlstrict.Errors
	seen := map[string]bool{}
	for _, leaf := range leaves(ve) {
		for _, fe := range s.fieldErrors(c.File, leaf, idx) {
			if k := fe.Error(); !seen[k] {
				seen[k] = true
				errs = append(errs, fe)
			}
		}
	}
	errs.Sort()
	return errs
}

// leaves returns the innermost errors of a validation error tree: they name
// the field at fault, where the outer ones only say "somewhere below".
func leaves(e *jsonschema.ValidationError) []*jsonschema.ValidationError {
	if len(e.Causes) == 0 {
		return []*jsonschema.ValidationError{e}
	}
	var out []*jsonschema.ValidationError
	for _, c := range e.Causes {
		out = append(out, leaves(c)...)
	}
	return out
}

// fieldErrors turns one schema error into messages that point into the file.
func (s *Schema) fieldErrors(file string, e *jsonschema.ValidationError, idx map[string]*yaml.Node) []*yamlstrict.FieldError {
	at := func(loc []string, msg string) *yamlstrict.FieldError {
		fe := &yamlstrict.FieldError{File: file, Path: displayPath(loc), Msg: msg}
		if n := idx[pointer(loc)]; n != nil {
			fe.Line, fe.Column = n.Line, n.Column
		}
		return fe
	}
	p := message.NewPrinter(language.English)
	switch k := e.ErrorKind.(type) {
	case *kind.AdditionalProperties:
		allowed := s.propertiesAt(e.SchemaURL)
		var out []*yamlstrict.FieldError
		for _, name := range k.Properties {
			msg := fmt.Sprintf("unknown field %q", name)
			if best := closest(name, allowed); best != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", best)
			} else if len(allowed) > 0 && len(allowed) <= 12 {
				msg += fmt.Sprintf(" (expected one of: %s)", strings.Join(allowed, ", "))
			}
			out = append(out, at(append(slices.Clone(e.InstanceLocation), name), msg+"; eksctl refuses fields it does not know"))
		}
		return out
	case *kind.Required:
		return []*yamlstrict.FieldError{at(e.InstanceLocation, k.LocalizedString(p))}
	default:
		return []*yamlstrict.FieldError{at(e.InstanceLocation, k.LocalizedString(p))}
	}
}

// propertiesAt lists the properties the schema object at url (the schema's
// own name, a '#' and a JSON pointer) declares, sorted.
func (s *Schema) propertiesAt(u string) []string {
	_, frag, ok := strings.Cut(u, "#")
	if !ok {
		return nil
	}
	var cur any = s.doc
	for _, tok := range strings.Split(strings.TrimPrefix(frag, "/"), "/") {
		if tok == "" {
			continue
		}
		if unesc, err := url.PathUnescape(tok); err == nil {
			tok = unesc
		}
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		m, _ := cur.(map[string]any)
		cur = m[tok]
	}
	m, _ := cur.(map[string]any)
	props, _ := m["properties"].(map[string]any)
	names := make([]string, 0, len(props))
	for k := range props {
		names = append(names, k)
	}
	slices.Sort(names)
	return names
}

// closest returns the name in names nearest to s when it is near enough to
// be a likely misspelling (case-insensitive edit distance at most a third of
// the name, and at most 3), or "".
func closest(s string, names []string) string {
	best, bestD := "", math.MaxInt
	limit := min(3, max(1, len(s)/3))
	for _, n := range names {
		if d := editDistance(strings.ToLower(s), strings.ToLower(n)); d <= limit && d < bestD {
			best, bestD = n, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// pointer joins instance location tokens into the index key toJSON uses.
func pointer(loc []string) string {
	var b strings.Builder
	for _, t := range loc {
		b.WriteByte('/')
		b.WriteString(strings.ReplaceAll(strings.ReplaceAll(t, "~", "~0"), "/", "~1"))
	}
	return b.String()
}

// displayPath turns instance location tokens into a path such as
// "managedNodeGroups[0].labels". Tokens that are indexes come from arrays;
// in an eksctl ClusterConfig no object key is all digits, so the guess is
// safe for messages.
func displayPath(loc []string) string {
	path := ""
	for _, t := range loc {
		if i, err := strconv.Atoi(t); err == nil && i >= 0 {
			path = yamlstrict.JoinIndex(path, i)
			continue
		}
		path = yamlstrict.JoinKey(path, t)
	}
	return path
}

// toJSON converts a YAML node to the value encoding/json would give for the
// same document (what eksctl validates, as it reads YAML through JSON with
// sigs.k8s.io/yaml), recording in idx, when not nil, the node each JSON
// pointer comes from: the key node for mapping entries, so that messages
// point at the field name.
func toJSON(n *yaml.Node, ptr string, idx map[string]*yaml.Node) (any, error) {
	if idx != nil && idx[ptr] == nil {
		idx[ptr] = n
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return toJSON(n.Content[0], ptr, idx)
	case yaml.AliasNode:
		return toJSON(n.Alias, ptr, idx)
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for i, item := range n.Content {
			v, err := toJSON(item, ptr+"/"+strconv.Itoa(i), idx)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case yaml.MappingNode:
		out := map[string]any{}
		if err := mergeInto(out, n, ptr, idx); err != nil {
			return nil, err
		}
		return out, nil
	default:
		return scalarJSON(n)
	}
}

// mergeInto adds the entries of mapping n to out, expanding merge keys
// ("<<") the way YAML does: explicit keys win over merged ones.
func mergeInto(out map[string]any, n *yaml.Node, ptr string, idx map[string]*yaml.Node) error {
	var merges []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Tag == "!!merge" {
			merges = append(merges, v)
			continue
		}
		if k.Kind != yaml.ScalarNode {
			return &yamlstrict.FieldError{Line: k.Line, Column: k.Column, Msg: "mapping keys must be strings"}
		}
		child := ptr + "/" + strings.ReplaceAll(strings.ReplaceAll(k.Value, "~", "~0"), "/", "~1")
		if idx != nil {
			idx[child] = k
		}
		val, err := toJSON(v, child, idx)
		if err != nil {
			return err
		}
		out[k.Value] = val
	}
	for _, m := range merges {
		if m.Kind == yaml.AliasNode {
			m = m.Alias
		}
		srcs := []*yaml.Node{m}
		if m.Kind == yaml.SequenceNode {
			srcs = m.Content
		}
		for _, src := range srcs {
			if src.Kind == yaml.AliasNode {
				src = src.Alias
			}
			if src.Kind != yaml.MappingNode {
				return &yamlstrict.FieldError{Line: src.Line, Column: src.Column, Msg: "a merge key (<<) needs a mapping"}
			}
			merged := map[string]any{}
			if err := mergeInto(merged, src, ptr, idx); err != nil {
				return err
			}
			for k, v := range merged {
				if _, set := out[k]; !set {
					out[k] = v
				}
			}
		}
	}
	return nil
}

// scalarJSON converts a scalar by its resolved YAML tag.
func scalarJSON(n *yaml.Node) (any, error) {
	switch n.ShortTag() {
	case "!!null":
		return nil, nil
	case "!!bool":
		var b bool
		if err := n.Decode(&b); err != nil {
			return nil, &yamlstrict.FieldError{Line: n.Line, Column: n.Column, Msg: err.Error()}
		}
		return b, nil
	case "!!int", "!!float":
		var f float64
		if err := n.Decode(&f); err != nil {
			return nil, &yamlstrict.FieldError{Line: n.Line, Column: n.Column, Msg: err.Error()}
		}
		if math.IsInf(f, 0) || math.IsNaN(f) {
			return nil, &yamlstrict.FieldError{Line: n.Line, Column: n.Column, Msg: fmt.Sprintf("%s has no JSON equivalent", n.Value)}
		}
		if n.ShortTag() == "!!int" {
			var i int64
			if err := n.Decode(&i); err == nil {
				return json.Number(strconv.FormatInt(i, 10)), nil
			}
		}
		return json.Number(strconv.FormatFloat(f, 'g', -1, 64)), nil
	default:
		// !!str, !!timestamp, !!binary: JSON has only strings for these.
		return n.Value, nil
	}
}
