package terraform

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPlanVars(t *testing.T) {
	files := map[string]string{
		"main.tf": `
variable "name" {}
variable "count_" { type = number }
variable "enabled" { type = bool }
variable "subnets" { type = list(string) }
variable "anything" { type = any }
variable "legacy" { type = "string" }
variable "legacy_map" { type = "map" }
variable "overridden" { type = string }
variable "from_tfvars" {}
variable "from_auto" {}
`,
		"vars.tf.json":        `{"variable": {"json_str": {"type": "string"}, "json_list": {"type": "list(string)"}}}`,
		"main_override.tf":    `variable "overridden" { type = list(string) }`,
		"terraform.tfvars":    `from_tfvars = "file"`,
		"x.auto.tfvars.json":  `{"from_auto": "file"}`,
		"broken.tf":           `variable "broken" {`,
		"README.md":           `variable "not_terraform" {}`,
		"modules/sub/main.tf": `variable "child" {}`,
	}
	dir := t.TempDir()
	for name, text := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name    string
		environ []string
		want    string
		wantErr string
	}{
		{name: "none", environ: []string{"PATH=/bin", "TF_VAR_=x"}, want: ""},
		{
			name: "literal and HCL",
			environ: []string{
				`TF_VAR_name=a "quoted" ${template} %{directive}`,
				"TF_VAR_count_=3",
				"TF_VAR_enabled=true",
				`TF_VAR_subnets=["a", "b"]`,
				`TF_VAR_anything={ k = 1 }`,
				"TF_VAR_legacy=x=y",
				`TF_VAR_legacy_map={ a = "b" }`,
				`TF_VAR_overridden=["o"]`,
				"TF_VAR_json_str=plain",
				`TF_VAR_json_list=["j"]`,
			},
			want: `anything = { k = 1 }
count_ = "3"
enabled = "true"
json_list = ["j"]
json_str = "plain"
legacy = "x=y"
legacy_map = { a = "b" }
name = "a \"quoted\" $${template} %%{directive}"
overridden = ["o"]
subnets = ["a", "b"]
`,
		},
		{
			name:    "undeclared, assigned in files, in a child module or a broken file",
			environ: []string{"TF_VAR_undeclared=1", "TF_VAR_from_tfvars=env", "TF_VAR_from_auto=env", "TF_VAR_child=1", "TF_VAR_broken=1", "TF_VAR_not_terraform=1"},
			want:    "",
		},
		{
			name:    "injection",
			environ: []string{"TF_VAR_subnets=[]\nname = \"evil\""},
			wantErr: `environment variable TF_VAR_subnets is not a valid HCL value for variable "subnets"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := planVars(dir, tt.environ)
			if tt.wantErr != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("planVars() =\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}
