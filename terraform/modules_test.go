package terraform

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/terraform-exec/tfexec"
	tfjson "github.com/hashicorp/terraform-json"
	"github.com/zclconf/go-cty/cty"

	"github.com/eksbg/eksbg/internal/config"
	"github.com/eksbg/eksbg/internal/sandbox/sandboxtest"
	"github.com/eksbg/eksbg/terraform/internal/iamactions"
)

// hclModule is a module's top-level blocks, parsed with hclsyntax.
type hclModule struct {
	variables map[string]*hclsyntax.Block
	outputs   map[string]*hclsyntax.Block
	resources map[string]*hclsyntax.Block // "type.name"
	modules   map[string]*hclsyntax.Block
	locals    map[string]*hclsyntax.Attribute
}

func parseModule(t *testing.T, dir string) *hclModule {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.tf"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no .tf files in %s (%v)", dir, err)
	}
	m := &hclModule{variables: map[string]*hclsyntax.Block{}, outputs: map[string]*hclsyntax.Block{},
		resources: map[string]*hclsyntax.Block{}, modules: map[string]*hclsyntax.Block{}, locals: map[string]*hclsyntax.Attribute{}}
	p := hclparse.NewParser()
	for _, file := range files {
		f, diags := p.ParseHCLFile(file)
		if diags.HasErrors() {
			t.Fatalf("parsing %s: %v", file, diags)
		}
		for _, b := range f.Body.(*hclsyntax.Body).Blocks {
			switch b.Type {
			case "variable":
				m.variables[b.Labels[0]] = b
			case "output":
				m.outputs[b.Labels[0]] = b
			case "resource":
				m.resources[b.Labels[0]+"."+b.Labels[1]] = b
			case "module":
				m.modules[b.Labels[0]] = b
			case "locals":
				maps.Copy(m.locals, b.Body.Attributes)
			}
		}
	}
	return m
}

// TestModuleInterfaces checks the variables and outputs of every module
// (each documented, each variable typed), and what eksbg relies on in
// them.
func TestModuleInterfaces(t *testing.T) {
	docs, err := os.ReadFile(filepath.Join("..", "docs", "terraform.md"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		dir       string
		variables []string
		outputs   []string
		// documented: the variables and outputs must appear in docs/terraform.md.
		documented bool
	}{
		{
			dir: "network",
			variables: []string{"name", "cidr_block", "availability_zones", "cluster_names", "max_nodes_per_color", "addresses_per_node",
				"node_subnet_prefix_length", "control_plane_subnet_prefix_length", "load_balancer_subnet_prefix_length",
				"public_load_balancers", "nat_gateways", "custom_networking", "pod_cidr_block", "tags"},
			outputs: []string{"vpc_id", "account_id", "private_subnet_ids", "control_plane_subnet_ids", "pod_subnet_ids", "pod_subnet_ids_by_az",
				"public_subnet_ids", "vpc_cidr_blocks", "node_subnet_prefix_length", "nat_public_ips"},
			documented: true,
		},
		{
			dir: "network/layout",
			variables: []string{"cidr_block", "availability_zones", "max_nodes_per_color", "addresses_per_node", "node_subnet_prefix_length",
				"control_plane_subnet_prefix_length", "load_balancer_subnet_prefix_length", "custom_networking", "pod_cidr_block"},
			outputs: []string{"node_subnet_cidrs", "load_balancer_subnet_cidrs", "control_plane_subnet_cidrs", "pod_subnet_cidrs",
				"node_subnet_prefix_length", "node_addresses_needed"},
		},
		{
			dir: "traffic",
			variables: []string{"name", "vpc_id", "target_cidr_blocks", "subnet_ids", "internal", "ingress_cidr_blocks", "certificate_arn", "ssl_policy",
				"hosts", "initial_color", "deregistration_delay", "tags"},
			outputs:    []string{"load_balancer_arn", "dns_name", "zone_id", "security_group_id", "listener_arn", "target_group_arns", "listener_rules"},
			documented: true,
		},
		{
			dir:        "iam",
			variables:  []string{"name", "region", "cluster_names", "listener_rule_arns", "listener_arns", "target_group_arns", "role_names", "tags"},
			outputs:    []string{"policy_arn", "policy_json", "actions"},
			documented: true,
		},
		{
			dir:       "iam/policy",
			variables: []string{"partition", "region", "account_id", "cluster_names", "listener_rule_arns", "listener_arns", "target_group_arns"},
			outputs:   []string{"json", "actions"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.dir, func(t *testing.T) {
			m := parseModule(t, filepath.Join("modules", tt.dir))
			if got := slices.Sorted(maps.Keys(m.variables)); !slices.Equal(got, slices.Sorted(slices.Values(tt.variables))) {
				t.Errorf("variables = %v, want %v", got, slices.Sorted(slices.Values(tt.variables)))
			}
			if got := slices.Sorted(maps.Keys(m.outputs)); !slices.Equal(got, slices.Sorted(slices.Values(tt.outputs))) {
				t.Errorf("outputs = %v, want %v", got, slices.Sorted(slices.Values(tt.outputs)))
			}
			for name, b := range m.variables {
				for _, attr := range []string{"description", "type"} {
					if _, ok := b.Body.Attributes[attr]; !ok {
						t.Errorf("variable %s has no %s", name, attr)
					}
				}
			}
			for name, b := range m.outputs {
				if _, ok := b.Body.Attributes["description"]; !ok {
					t.Errorf("output %s has no description", name)
				}
			}
			if tt.documented {
				for _, name := range slices.Concat(tt.variables, tt.outputs) {
					if !bytes.Contains(docs, []byte("`"+name+"`")) {
						t.Errorf("docs/terraform.md does not document `%s` of module %s", name, tt.dir)
					}
				}
			}
		})
	}

	t.Run("network outputs match eksbg.yaml", func(t *testing.T) {
		// The output names of the config package's full example (the one
		// docs/config.md shows) are the network module's.
		p, err := config.Load(filepath.Join("..", "internal", "config", "testdata", "eksbg.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		m := parseModule(t, filepath.Join("modules", "network"))
		names := []string{AccountIDOutput}
		for _, e := range p.Environments {
			o := e.Network.Terraform.Outputs
			names = append(names, o.VPCID, o.SubnetIDs.Nodes, o.SubnetIDs.ControlPlane, o.SubnetIDs.Pods, o.SubnetIDs.LoadBalancers)
		}
		for _, n := range names {
			if _, ok := m.outputs[n]; n != "" && !ok {
				t.Errorf("the network module has no output %q, which eksbg.yaml's example names", n)
			}
		}
	})

	t.Run("traffic leaves the weights to eksbg", func(t *testing.T) {
		m := parseModule(t, filepath.Join("modules", "traffic"))
		rule, ok := m.resources["aws_lb_listener_rule.host"]
		if !ok {
			t.Fatal("no aws_lb_listener_rule.host")
		}
		var ignored []string
		for _, b := range rule.Body.Blocks {
			if b.Type != "lifecycle" {
				continue
			}
			a, ok := b.Body.Attributes["ignore_changes"]
			if !ok {
				continue
			}
			tuple, ok := a.Expr.(*hclsyntax.TupleConsExpr)
			if !ok {
				t.Fatalf("ignore_changes is %T, want a list", a.Expr)
			}
			for _, e := range tuple.Exprs {
				tr, diags := hcl.AbsTraversalForExpr(e)
				if diags.HasErrors() {
					t.Fatalf("ignore_changes element: %v", diags)
				}
				if len(tr) == 1 {
					ignored = append(ignored, tr.RootName())
				}
			}
		}
		if !slices.Contains(ignored, "action") {
			t.Errorf("aws_lb_listener_rule.host ignores changes to %v, want action (the forward weights eksbg shifts)", ignored)
		}

		tg, ok := m.resources["aws_lb_target_group.this"]
		if !ok {
			t.Fatal("no aws_lb_target_group.this")
		}
		if v := literal(t, tg.Body.Attributes["target_type"]); !v.RawEquals(cty.StringVal("ip")) {
			t.Errorf("target_type = %#v, want \"ip\" (TargetGroupBinding registers pod IPs)", v)
		}
		dd, ok := tg.Body.Attributes["deregistration_delay"]
		if !ok {
			t.Fatal("target groups do not set deregistration_delay")
		}
		if refs := dd.Expr.Variables(); len(refs) != 1 || refs[0].RootName() != "var" {
			t.Errorf("deregistration_delay should come from var.deregistration_delay")
		}
		if def := literal(t, m.variables["deregistration_delay"].Body.Attributes["default"]); !def.RawEquals(cty.NumberIntVal(60)) {
			t.Errorf("deregistration_delay defaults to %#v, want 60", def)
		}
	})

	t.Run("iam policy reads actions.json", func(t *testing.T) {
		m := parseModule(t, filepath.Join("modules", "iam", "policy"))
		a, ok := m.locals["actions"]
		if !ok {
			t.Fatal("no local actions")
		}
		src := string(a.SrcRange.SliceBytes(mustRead(t, a.SrcRange.Filename)))
		if !strings.Contains(src, `jsondecode(file("${path.module}/actions.json"))`) {
			t.Errorf("local.actions = %s, want it read from actions.json", src)
		}
	})
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// literal evaluates a constant attribute.
func literal(t *testing.T, a *hclsyntax.Attribute) cty.Value {
	t.Helper()
	if a == nil {
		return cty.NilVal
	}
	v, diags := a.Expr.Value(nil)
	if diags.HasErrors() {
		t.Fatalf("%s is not a constant: %v", a.Name, diags)
	}
	return v
}

func TestModulesFormatted(t *testing.T) {
	sandboxtest.SkipShort(t, "terraform")
	cmd := exec.CommandContext(t.Context(), "terraform", "fmt", "-check", "-recursive", "-diff", "-no-color", "modules")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Errorf("terraform fmt -check -recursive modules: %v\n%s\nRun terraform fmt -recursive terraform/modules.", err, out)
	}
}

// applyModule applies the module in dir with the given arguments in a
// throwaway root stack and returns its outputs. Only provider-free modules
// can be applied here.
func applyModule(t *testing.T, dir string, args map[string]any) (map[string]any, error) {
	t.Helper()
	sandboxtest.SkipShort(t, "terraform")
	root := t.TempDir()
	if err := os.CopyFS(filepath.Join(root, "m"), os.DirFS(dir)); err != nil {
		t.Fatal(err)
	}
	mod := map[string]any{"source": "./m"}
	maps.Copy(mod, args)
	main, _ := json.Marshal(map[string]any{
		"module": map[string]any{"m": mod},
		"output": map[string]any{"m": map[string]any{"value": "${module.m}"}},
	})
	if err := os.WriteFile(filepath.Join(root, "main.tf.json"), main, 0o600); err != nil {
		t.Fatal(err)
	}
	tf, err := tfexec.NewTerraform(root, "terraform")
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if err := tf.Init(ctx); err != nil {
		t.Fatal(err)
	}
	if err := tf.Apply(ctx); err != nil {
		return nil, err
	}
	outs, err := tf.Output(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(outs["m"].Value, &m); err != nil {
		t.Fatal(err)
	}
	return m, nil
}

// TestNetworkLayout evaluates the network module's address plan with the
// real terraform.
func TestNetworkLayout(t *testing.T) {
	azs := []string{"us-east-1a", "us-east-1b", "us-east-1c"}
	tests := []struct {
		name    string
		args    map[string]any
		want    map[string]any // expected output values (JSON-decoded)
		wantErr string
	}{
		{
			// 30 nodes over 3 zones: 10 a zone and color; 2 colors x 10 x 30
			// addresses + 5 reserved = 605: a /22 (1019 usable).
			name: "secondary IP mode",
			args: map[string]any{"cidr_block": "10.20.0.0/16", "availability_zones": azs, "max_nodes_per_color": 30, "addresses_per_node": 30},
			want: map[string]any{
				"node_addresses_needed":     605.0,
				"node_subnet_prefix_length": 22.0,
				"node_subnet_cidrs":         map[string]any{"us-east-1a": "10.20.0.0/22", "us-east-1b": "10.20.4.0/22", "us-east-1c": "10.20.8.0/22"},
				// Largest first: the /24s follow the /22s, the /28s come last.
				"load_balancer_subnet_cidrs": map[string]any{"us-east-1a": "10.20.12.0/24", "us-east-1b": "10.20.13.0/24", "us-east-1c": "10.20.14.0/24"},
				"control_plane_subnet_cidrs": map[string]any{"us-east-1a": "10.20.15.0/28", "us-east-1b": "10.20.15.16/28", "us-east-1c": "10.20.15.32/28"},
				"pod_subnet_cidrs":           map[string]any{},
			},
		},
		{
			// 7 nodes over two zones round up to 4 a zone:
			// 2 x 4 x 30 + 5 = 245 addresses, a /24 (251 usable).
			name: "rounding up per zone",
			args: map[string]any{"cidr_block": "10.0.0.0/16", "availability_zones": azs[:2], "max_nodes_per_color": 7},
			want: map[string]any{"node_addresses_needed": 245.0, "node_subnet_prefix_length": 24.0},
		},
		{
			// Custom networking: a node keeps 1 address in its node
			// subnet (2 x 10 x 1 + 5 = 25: a /27); its pods' 30 go to the
			// pod subnets, a /18 each of 100.64.0.0/16.
			name: "custom networking",
			args: map[string]any{"cidr_block": "10.0.0.0/16", "availability_zones": azs, "max_nodes_per_color": 30, "custom_networking": true},
			want: map[string]any{
				"node_addresses_needed":     25.0,
				"node_subnet_prefix_length": 27.0,
				"pod_subnet_cidrs":          map[string]any{"us-east-1a": "100.64.0.0/18", "us-east-1b": "100.64.64.0/18", "us-east-1c": "100.64.128.0/18"},
			},
		},
		{
			name: "explicit prefix",
			args: map[string]any{"cidr_block": "10.0.0.0/16", "availability_zones": azs, "max_nodes_per_color": 30, "node_subnet_prefix_length": 20},
			want: map[string]any{"node_subnet_prefix_length": 20.0, "node_subnet_cidrs": map[string]any{"us-east-1a": "10.0.0.0/20", "us-east-1b": "10.0.16.0/20", "us-east-1c": "10.0.32.0/20"}},
		},
		{
			name:    "explicit prefix too small",
			args:    map[string]any{"cidr_block": "10.0.0.0/16", "availability_zones": azs, "max_nodes_per_color": 30, "node_subnet_prefix_length": 24},
			wantErr: "A /24 node subnet holds 251 addresses, but blue and green at their maximum need 600 per zone.",
		},
		{
			name:    "does not fit the VPC",
			args:    map[string]any{"cidr_block": "10.0.0.0/20", "availability_zones": azs, "max_nodes_per_color": 60},
			wantErr: "The subnets do not fit in 10.0.0.0/20",
		},
		{
			name:    "no subnet is large enough",
			args:    map[string]any{"cidr_block": "10.0.0.0/16", "availability_zones": azs[:2], "max_nodes_per_color": 2000, "addresses_per_node": 50},
			wantErr: "No subnet of a /16 holds 100005 addresses per zone",
		},
		{
			name:    "one zone",
			args:    map[string]any{"cidr_block": "10.0.0.0/16", "availability_zones": azs[:1], "max_nodes_per_color": 3},
			wantErr: "the EKS control plane needs subnets in at least two",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := applyModule(t, filepath.Join("modules", "network", "layout"), tt.args)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(strings.Join(strings.Fields(err.Error()), " "), tt.wantErr) {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for k, want := range tt.want {
				if g, _ := json.Marshal(got[k]); string(g) != string(mustJSON(want)) {
					t.Errorf("%s = %s, want %s", k, g, mustJSON(want))
				}
			}
		})
	}
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

// repoRoot is the eksbg module's root (this package is one level down).
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatal(err)
	}
	return root
}

// TestIAMPolicyMatchesCode keeps the iam module's policy equal, action for
// action, to the AWS API operations eksbg's code calls.
func TestIAMPolicyMatchesCode(t *testing.T) {
	uses, err := iamactions.Derive(t.Context(), iamactions.ForEksbg(repoRoot(t)))
	if err != nil {
		t.Fatal(err)
	}
	derived := iamactions.Actions(uses)
	if len(derived) == 0 {
		t.Fatal("derived no actions from the code: the scanner is broken (this package alone calls ec2:DescribeSubnets)")
	}
	actionsFile := filepath.Join("modules", "iam", "policy", "actions.json")
	var listed []string
	if err := json.Unmarshal(mustRead(t, actionsFile), &listed); err != nil {
		t.Fatalf("%s: %v", actionsFile, err)
	}
	var missing, extra []string
	for _, a := range derived {
		if !slices.Contains(listed, a) {
			var at []string
			for _, u := range uses {
				if u.Action == a {
					at = append(at, u.Pos)
				}
			}
			missing = append(missing, fmt.Sprintf("%s (called at %s)", a, strings.Join(at, ", ")))
		}
	}
	for _, a := range listed {
		if !slices.Contains(derived, a) {
			extra = append(extra, a)
		}
	}
	if len(missing) > 0 || len(extra) > 0 {
		t.Errorf("terraform/%s does not match the AWS API calls in the code.\n"+
			"missing (the code calls them, the policy does not allow them):\n\t%s\n"+
			"extra (the policy allows them, no code calls them):\n\t%s\n"+
			"Run `go generate ./terraform` to rewrite it from the code.",
			actionsFile, strings.Join(missing, "\n\t"), strings.Join(extra, "\n\t"))
	}
	if want := iamactions.FormatJSON(derived); len(missing) == 0 && len(extra) == 0 && !bytes.Equal(mustRead(t, actionsFile), want) {
		t.Errorf("%s has the right actions but not as the generator writes them: run `go generate ./terraform`", actionsFile)
	}

	// The rendered policy allows exactly the listed actions.
	outs, err := applyModule(t, filepath.Join("modules", "iam", "policy"), map[string]any{"region": "us-east-1", "account_id": "111122223333", "cluster_names": []string{"prod-blue"},
		// eksbg shifts weights (ModifyRule): the policy needs the rules it may change.
		"listener_rule_arns": []string{"arn:aws:elasticloadbalancing:us-east-1:111122223333:listener-rule/app/prod/50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6cabee"}})
	if err != nil {
		t.Fatal(err)
	}
	doc := policyDoc(t, outs["json"].(string))
	if got := doc.actions(); !slices.Equal(got, slices.Sorted(slices.Values(listed))) {
		t.Errorf("the rendered policy allows %v, want the %d actions of actions.json", got, len(listed))
	}
}

type policyDocument struct {
	Version   string
	Statement []struct {
		Sid      string
		Effect   string
		Action   []string
		Resource []string
	}
}

func policyDoc(t *testing.T, s string) policyDocument {
	t.Helper()
	var d policyDocument
	if err := json.Unmarshal([]byte(s), &d); err != nil {
		t.Fatalf("policy JSON: %v\n%s", err, s)
	}
	if d.Version != "2012-10-17" {
		t.Errorf("policy Version = %q", d.Version)
	}
	return d
}

func (d policyDocument) actions() []string {
	var all []string
	for _, s := range d.Statement {
		all = append(all, s.Action...)
	}
	slices.Sort(all)
	return all
}

// TestIAMPolicyScoping renders the policy for a list of actions with
// writes in it (the code makes few writes so far): reads on "*", writes
// narrowed to the environment's clusters and load balancer resources.
func TestIAMPolicyScoping(t *testing.T) {
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(filepath.Join("modules", "iam", "policy"))); err != nil {
		t.Fatal(err)
	}
	actions := []string{"ec2:DescribeSubnets", "eks:CreateNodegroup", "eks:DeleteCluster", "eks:ListClusters",
		"elasticloadbalancing:ModifyRule", "elasticloadbalancing:DescribeRules", "ec2:CreateTags", "sts:GetCallerIdentity"}
	if err := os.WriteFile(filepath.Join(dir, "actions.json"), iamactions.FormatJSON(actions), 0o600); err != nil {
		t.Fatal(err)
	}
	rule := "arn:aws:elasticloadbalancing:eu-west-1:111122223333:listener-rule/app/prod/1/2/3"
	outs, err := applyModule(t, dir, map[string]any{
		"partition": "aws", "region": "eu-west-1", "account_id": "111122223333",
		"cluster_names": []string{"prod-blue", "prod-green"}, "listener_rule_arns": []string{rule},
	})
	if err != nil {
		t.Fatal(err)
	}
	doc := policyDoc(t, outs["json"].(string))
	got := map[string][2][]string{}
	for _, s := range doc.Statement {
		if s.Effect != "Allow" {
			t.Errorf("statement %s: Effect %q", s.Sid, s.Effect)
		}
		got[s.Sid] = [2][]string{s.Action, s.Resource}
	}
	arn := "arn:aws:eks:eu-west-1:111122223333:"
	want := map[string][2][]string{
		"Read": {{"ec2:DescribeSubnets", "eks:ListClusters", "elasticloadbalancing:DescribeRules", "sts:GetCallerIdentity"}, {"*"}},
		"Clusters": {{"eks:CreateNodegroup", "eks:DeleteCluster"}, {
			arn + "cluster/prod-blue", arn + "nodegroup/prod-blue/*/*", arn + "addon/prod-blue/*/*",
			arn + "cluster/prod-green", arn + "nodegroup/prod-green/*/*", arn + "addon/prod-green/*/*"}},
		"Traffic": {{"elasticloadbalancing:ModifyRule"}, {rule}},
		"Other":   {{"ec2:CreateTags"}, {"*"}},
	}
	if !mapsEqualFunc(got, want) {
		t.Errorf("statements =\n%v\nwant\n%v", got, want)
	}

	// Load balancer writes with no load balancer resource to write to is
	// a mistake the module refuses.
	_, err = applyModule(t, dir, map[string]any{"region": "eu-west-1", "account_id": "111122223333", "cluster_names": []string{"prod-*"}})
	if err == nil || !strings.Contains(strings.Join(strings.Fields(err.Error()), " "), "eksbg changes load balancer resources (elasticloadbalancing:ModifyRule): set listener_rule_arns") {
		t.Errorf("error = %v, want the missing ARNs named", err)
	}
}

func mapsEqualFunc(a, b map[string][2][]string) bool {
	return maps.EqualFunc(a, b, func(x, y [2][]string) bool { return slices.Equal(x[0], y[0]) && slices.Equal(x[1], y[1]) })
}

// pluginMirror holds the AWS provider (registry.terraform.io/hashicorp/aws)
// for terraform init -plugin-dir: the machines this project runs on have
// it, and no registry is reachable to download it.
func pluginMirror() string {
	if d := os.Getenv("EKSBG_TF_PLUGIN_DIR"); d != "" {
		return d
	}
	return "/opt/tf-plugins"
}

// TestModulesPlanWithAWSProvider plans the three modules together, as a
// team would wire them, with the real AWS provider against the sandbox's
// emulator: every attribute must exist in the provider's schema and every
// expression evaluate. Nothing is applied (the emulator creates no VPCs).
func TestModulesPlanWithAWSProvider(t *testing.T) {
	sandboxtest.SkipShort(t, "terraform")
	mirror := pluginMirror()
	if _, err := os.Stat(filepath.Join(mirror, "registry.terraform.io", "hashicorp", "aws")); err != nil {
		t.Fatalf("the AWS provider is not in %s (%v): set EKSBG_TF_PLUGIN_DIR to a terraform plugin directory holding hashicorp/aws", mirror, err)
	}
	root := stack(t, "modules")
	if err := os.CopyFS(root, os.DirFS("modules")); err != nil {
		t.Fatal(err)
	}
	sb := sandboxtest.StartScenario(t, "demo")
	tf, err := tfexec.NewTerraform(root, "terraform")
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if err := tf.Init(ctx, tfexec.PluginDir(mirror)); err != nil {
		t.Fatal(err)
	}
	planFile := filepath.Join(t.TempDir(), "plan")
	if _, err := tf.Plan(ctx, tfexec.Out(planFile), tfexec.Var("endpoint="+sb.URL)); err != nil {
		t.Fatal(err)
	}
	plan, err := tf.ShowPlanFile(ctx, planFile)
	if err != nil {
		t.Fatal(err)
	}
	after := map[string]map[string]any{}
	for _, rc := range plan.ResourceChanges {
		if rc.Mode == tfjson.ManagedResourceMode {
			if !rc.Change.Actions.Create() {
				t.Errorf("%s: actions %v, want create", rc.Address, rc.Change.Actions)
			}
			after[rc.Address], _ = rc.Change.After.(map[string]any)
		}
	}

	// Subnets: sizes from the layout, tags for EKS and the load balancer
	// controller.
	wantSubnets := map[string]struct {
		cidr string
		tags map[string]string
	}{
		`module.network.aws_subnet.nodes["us-east-1a"]`: {"10.20.3.0/27", map[string]string{"eksbg.io/role": "nodes",
			"kubernetes.io/cluster/demo-blue": "shared", "kubernetes.io/cluster/demo-green": "shared"}},
		`module.network.aws_subnet.load_balancers["us-east-1b"]`: {"10.20.1.0/24", map[string]string{"eksbg.io/role": "load-balancers",
			"kubernetes.io/role/elb": "1", "kubernetes.io/cluster/demo-blue": "shared", "kubernetes.io/cluster/demo-green": "shared"}},
		`module.network.aws_subnet.control_plane["us-east-1c"]`: {"10.20.3.128/28", map[string]string{"eksbg.io/role": "control-plane"}},
		`module.network.aws_subnet.pods["us-east-1a"]`:          {"100.64.0.0/18", map[string]string{"eksbg.io/role": "pods"}},
	}
	for addr, want := range wantSubnets {
		a := after[addr]
		if a == nil {
			t.Errorf("no planned %s", addr)
			continue
		}
		if a["cidr_block"] != want.cidr {
			t.Errorf("%s cidr_block = %v, want %s", addr, a["cidr_block"], want.cidr)
		}
		tags, _ := a["tags"].(map[string]any)
		for k, v := range want.tags {
			if tags[k] != v {
				t.Errorf("%s tag %s = %v, want %q", addr, k, tags[k], v)
			}
		}
		if _, ok := tags["kubernetes.io/role/elb"]; ok && want.tags["kubernetes.io/role/elb"] == "" {
			t.Errorf("%s has the kubernetes.io/role/elb tag", addr)
		}
	}
	if n := countPrefix(after, "module.network.aws_subnet."); n != 12 {
		t.Errorf("planned %d subnets, want 12 (4 roles x 3 zones)", n)
	}

	// Target groups and rules.
	for _, tg := range []string{`module.traffic.aws_lb_target_group.this["web-blue"]`, `module.traffic.aws_lb_target_group.this["api-green"]`} {
		a := after[tg]
		if a["target_type"] != "ip" || a["deregistration_delay"] != "45" {
			t.Errorf("%s: target_type %v, deregistration_delay %v; want ip, 45", tg, a["target_type"], a["deregistration_delay"])
		}
	}
	rule := after[`module.traffic.aws_lb_listener_rule.host["web"]`]
	b, _ := json.Marshal(rule["action"])
	if !strings.Contains(string(b), `"target_group":[{"weight":0},{"weight":100}]`) {
		t.Errorf("web rule action = %s, want forward weights 100 and 0", b)
	}

	// The policy the iam module creates is the generated one.
	pol, _ := after["module.iam.aws_iam_policy.eksbg"]["policy"].(string)
	var listed []string
	if err := json.Unmarshal(mustRead(t, filepath.Join("modules", "iam", "policy", "actions.json")), &listed); err != nil {
		t.Fatal(err)
	}
	if got := policyDoc(t, pol).actions(); !slices.Equal(got, slices.Sorted(slices.Values(listed))) {
		t.Errorf("planned policy allows %v, want actions.json's %v", got, listed)
	}

	// The provider really talked to the sandbox: the account ID came from
	// its STS.
	var account any
	for _, m := range plan.PriorState.Values.RootModule.ChildModules {
		for _, r := range m.Resources {
			if r.Address == "module.network.data.aws_caller_identity.current" {
				account = r.AttributeValues["account_id"]
			}
		}
	}
	if account != sb.Account {
		t.Errorf("module.network's caller identity account_id = %v, want the sandbox's %s", account, sb.Account)
	}
}

func countPrefix(m map[string]map[string]any, prefix string) int {
	n := 0
	for k := range m {
		if strings.HasPrefix(k, prefix) {
			n++
		}
	}
	return n
}
