package clusters

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// testSchema compiles testdata's copy of eksctl's schema once per test
// binary.
var testSchema = sync.OnceValues(func() (*Schema, error) {
	data, err := os.ReadFile(schemaPath)
	if err != nil {
		return nil, err
	}
	return CompileSchema(data)
})

func mustSchema(t *testing.T) *Schema {
	t.Helper()
	s, err := testSchema()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSchemaExamples(t *testing.T) {
	s := mustSchema(t)
	if len(s.Corrected) != 2 {
		t.Errorf("corrected %d quirks of the schema, want 2: %q", len(s.Corrected), s.Corrected)
	}
	files, err := filepath.Glob(filepath.Join(examplesDir, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 49 {
		t.Fatalf("%d examples, want 49", len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			c, err := Load(f)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Validate(c); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestSchemaQuirksAreNarrow checks each correction of the schema on the
// example that needs it: without the correction the example is refused, and
// with it the rest of the rule still holds.
func TestSchemaQuirksAreNarrow(t *testing.T) {
	raw, err := os.ReadFile(schemaPath)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := compileSchema(raw, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"27-oidc-provider.yaml", "43-hybrid-nodes.yaml"} {
		c, err := Load(filepath.Join(examplesDir, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := plain.Validate(c); err == nil {
			t.Errorf("%s passes the uncorrected schema; is the quirk gone from eksctl's schema?", f)
		}
	}
	s := mustSchema(t)
	tests := []struct {
		name, file string
		edit       func(string) string
		want       string // "" for valid
	}{
		{"oidc as published", "27-oidc-provider.yaml", nil, ""},
		{"oidc without clientID", "27-oidc-provider.yaml", func(y string) string {
			return strings.Replace(y, "    clientID: 10basodnbu3gs9b1bf9r566btu\n", "", 1)
		}, `missing property 'clientID'`},
		{"oidc with unknown field", "27-oidc-provider.yaml", func(y string) string {
			return strings.Replace(y, "    usernameClaim: email", "    usernameClaims: email", 1)
		}, `identityProviders[0].usernameClaims: unknown field "usernameClaims" (did you mean "usernameClaim"?)`},
		{"oidc with another type", "27-oidc-provider.yaml", func(y string) string {
			return strings.Replace(y, "    type: oidc", "    type: saml", 1)
		}, `identityProviders[0].type`},
		{"hybrid as published", "43-hybrid-nodes.yaml", nil, ""},
		{"hybrid without remoteNodeNetworks", "43-hybrid-nodes.yaml", func(y string) string {
			return strings.Replace(y, "  remoteNodeNetworks:\n    - cidrs: [\"10.80.146.0/24\"]\n", "", 1)
		}, `remoteNetworkConfig: missing property 'remoteNodeNetworks'`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(examplesDir, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			y := string(data)
			if tt.edit != nil {
				if y2 := tt.edit(y); y2 == y {
					t.Fatal("edit changed nothing")
				} else {
					y = y2
				}
			}
			c, err := Parse(tt.file, []byte(y))
			if err != nil {
				t.Fatal(err)
			}
			err = s.Validate(c)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestSchemaErrors(t *testing.T) {
	s := mustSchema(t)
	const head = "apiVersion: eksctl.io/v1alpha5\nkind: ClusterConfig\nmetadata:\n  name: a\n  region: us-east-1\n"
	tests := []struct {
		name, yaml string
		want       []string
	}{
		{"misspelt node group field", head + "managedNodeGroups:\n  - name: ng\n    instanceTyp: m5.large\n", []string{
			`c.yaml:8:5: managedNodeGroups[0].instanceTyp: unknown field "instanceTyp" (did you mean "instanceType"?); eksctl refuses fields it does not know`}},
		{"unknown top-level field", head + "nodegroups:\n  - name: ng\n", []string{
			`c.yaml:6:1: nodegroups: unknown field "nodegroups" (did you mean "nodeGroups"?); eksctl refuses fields it does not know`}},
		{"unknown field, nothing close", head + "vpc:\n  id: vpc-1\n  frobnicate: true\n", []string{
			`c.yaml:8:3: vpc.frobnicate: unknown field "frobnicate"; eksctl refuses fields it does not know`}},
		{"wrong type", head + "nodeGroups:\n  - name: ng\n    minSize: two\n", []string{
			`c.yaml:8:5: nodeGroups[0].minSize: got string, want integer`}},
		{"missing region", "apiVersion: eksctl.io/v1alpha5\nkind: ClusterConfig\nmetadata:\n  name: a\n", []string{
			`c.yaml:3:1: metadata: missing property 'region'`}},
		{"two problems", head + "nodeGroups:\n  - name: ng\n    desiredCapacit: 2\naddons:\n  - name: x\n    verson: v1\n", []string{
			`c.yaml:8:5: nodeGroups[0].desiredCapacit: unknown field "desiredCapacit" (did you mean "desiredCapacity"?); eksctl refuses fields it does not know`,
			`c.yaml:11:5: addons[0].verson: unknown field "verson" (did you mean "version"?); eksctl refuses fields it does not know`}},
		{"merge key", head + "x: &base {name: ng, minSize: 1}\n", []string{
			`c.yaml:6:1: x: unknown field "x"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse("c.yaml", []byte(tt.yaml))
			if err != nil {
				t.Fatal(err)
			}
			err = s.Validate(c)
			if err == nil {
				t.Fatal("valid, want an error")
			}
			got := strings.Split(err.Error(), "\n")
			if len(got) != len(tt.want) {
				t.Fatalf("got %d errors:\n%s\nwant %d:\n%s", len(got), err, len(tt.want), strings.Join(tt.want, "\n"))
			}
			for i := range got {
				if !strings.HasPrefix(got[i], tt.want[i]) {
					t.Errorf("error %d:\n got %s\nwant %s", i, got[i], tt.want[i])
				}
			}
		})
	}
}
