package terraform

import (
	"bytes"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"
)

// planVars turns the TF_VAR_<name> variables of environ into the text of
// a .tfvars file, so that a plan sees them although tfexec cannot pass
// them through the environment (see Workspace.env). It reproduces what
// terraform does with TF_VAR_*:
//
//   - only variables the root module declares are set (terraform ignores
//     the others; a variables file assigning them would only warn, but
//     leaving them out keeps the plan's output clean);
//   - a variable that terraform.tfvars, terraform.tfvars.json or a
//     *.auto.tfvars(.json) file assigns keeps that value, because the
//     environment has the lowest precedence and a -var-file the highest;
//   - a variable declared with a primitive type (or none) takes the value
//     as a literal string, any other as an HCL expression.
//
// See https://developer.hashicorp.com/terraform/language/values/variables#variable-definition-precedence
// and https://developer.hashicorp.com/terraform/cli/config/environment-variables#tf_var_name
func planVars(dir string, environ []string) ([]byte, error) {
	env := map[string]string{}
	for _, kv := range environ {
		k, v, _ := strings.Cut(kv, "=")
		if name, ok := strings.CutPrefix(k, "TF_VAR_"); ok && name != "" {
			env[name] = v
		}
	}
	if len(env) == 0 {
		return nil, nil
	}
	declared, assigned, err := rootVariables(dir)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	for _, name := range slices.Sorted(maps.Keys(env)) {
		hclMode, ok := declared[name]
		if !ok || assigned[name] {
			continue
		}
		v := env[name]
		if !hclMode {
			fmt.Fprintf(&buf, "%s = %s\n", name, hclwrite.TokensForValue(cty.StringVal(v)).Bytes())
			continue
		}
		// One expression and nothing else: a value cannot smuggle in a
		// second assignment. terraform rejects such values too.
		if _, diags := hclsyntax.ParseExpression([]byte(v), "TF_VAR_"+name, hcl.InitialPos); diags.HasErrors() {
			return nil, fmt.Errorf("environment variable TF_VAR_%s is not a valid HCL value for variable %q: %s", name, name, diags.Error())
		}
		fmt.Fprintf(&buf, "%s = %s\n", name, v)
	}
	return buf.Bytes(), nil
}

// rootVariables reads the root module in dir: the variables it declares
// (true when terraform parses their TF_VAR_ value as HCL) and the ones its
// automatically loaded .tfvars files assign. Files that do not parse are
// skipped: terraform itself reports them better.
func rootVariables(dir string) (declared map[string]bool, assigned map[string]bool, err error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("reading stack directory: %w", err)
	}
	var config, overrides, tfvars []string
	for _, e := range entries {
		n := e.Name()
		switch {
		case e.IsDir():
		case n == "terraform.tfvars", n == "terraform.tfvars.json", strings.HasSuffix(n, ".auto.tfvars"), strings.HasSuffix(n, ".auto.tfvars.json"):
			tfvars = append(tfvars, n)
		case strings.HasSuffix(n, ".tf"), strings.HasSuffix(n, ".tf.json"):
			// Override files are merged after the others and may change a
			// variable's type.
			// https://developer.hashicorp.com/terraform/language/files/override
			base := strings.TrimSuffix(strings.TrimSuffix(n, ".json"), ".tf")
			if base == "override" || strings.HasSuffix(base, "_override") {
				overrides = append(overrides, n)
			} else {
				config = append(config, n)
			}
		}
	}
	p := hclparse.NewParser()
	declared, assigned = map[string]bool{}, map[string]bool{}
	for _, n := range slices.Concat(config, overrides) {
		body := parseFile(p, filepath.Join(dir, n))
		if body == nil {
			continue
		}
		content, _, _ := body.PartialContent(&hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{{Type: "variable", LabelNames: []string{"name"}}}})
		for _, b := range content.Blocks {
			attrs, _, _ := b.Body.PartialContent(&hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "type"}}})
			name := b.Labels[0]
			if t, ok := attrs.Attributes["type"]; ok {
				declared[name] = parsesAsHCL(t.Expr)
			} else if _, seen := declared[name]; !seen {
				declared[name] = false
			}
		}
	}
	for _, n := range tfvars {
		body := parseFile(p, filepath.Join(dir, n))
		if body == nil {
			continue
		}
		attrs, _ := body.JustAttributes()
		for name := range attrs {
			assigned[name] = true
		}
	}
	return declared, assigned, nil
}

func parseFile(p *hclparse.Parser, path string) hcl.Body {
	var f *hcl.File
	var diags hcl.Diagnostics
	if strings.HasSuffix(path, ".json") {
		f, diags = p.ParseJSONFile(path)
	} else {
		f, diags = p.ParseHCLFile(path)
	}
	if diags.HasErrors() || f == nil {
		return nil
	}
	return f.Body
}

// parsesAsHCL mirrors terraform's decodeVariableType: string, number and
// bool (and the legacy quoted "string") take literal values; every other
// type constraint, any included, takes HCL.
// https://github.com/hashicorp/terraform/blob/v1.11.4/internal/configs/named_values.go
func parsesAsHCL(expr hcl.Expression) bool {
	kw := hcl.ExprAsKeyword(expr)
	if kw == "" {
		// The pre-0.12 quoted form: "string", "list" or "map".
		if v, diags := expr.Value(nil); !diags.HasErrors() && v.Type() == cty.String && v.IsKnown() && !v.IsNull() {
			kw = v.AsString()
		}
	}
	switch kw {
	case "string", "number", "bool":
		return false
	}
	return true
}
