package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/eksbg/eksbg/internal/yamlstrict"
)

func ptr[T any](v T) *T { return &v }

// fullExample is what testdata/eksbg.yaml (the example of docs/config.md)
// parses to, with paths resolved against dir.
func fullExample(t *testing.T, dir string) *Project {
	home, err := os.UserHomeDir()
	if err != nil {
		t.Fatal(err)
	}
	const (
		stagingLB = "arn:aws:elasticloadbalancing:eu-west-1:111122223333:"
		prodLB    = "arn:aws:elasticloadbalancing:eu-west-1:444455556666:"
	)
	return &Project{
		APIVersion: APIVersion,
		Kind:       KindProject,
		File:       filepath.Join(dir, "eksbg.yaml"),
		Dir:        dir,
		Environments: []Environment{{
			Name: "staging",
			AWS:  AWS{Region: "eu-west-1", AccountID: "111122223333", Profile: "staging-admin"},
			Network: Network{Terraform: Terraform{
				Dir:       filepath.Join(dir, "infra/network"),
				Workspace: "staging",
				Outputs: TerraformOutputs{VPCID: "vpc_id", SubnetIDs: SubnetOutputs{
					Nodes: "private_subnet_ids", ControlPlane: "private_subnet_ids"}},
			}},
			Cluster: Cluster{EksctlConfig: filepath.Join(dir, "clusters/staging.yaml"), NameTemplate: "{env}-{color}"},
			Traffic: Traffic{
				ListenerRules: []ListenerRule{{
					ARN: stagingLB + "listener-rule/app/staging-web/50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6cabee",
					TargetGroups: TargetGroups{
						Blue:  stagingLB + "targetgroup/staging-web-blue/73e2d6bc24d8a067",
						Green: stagingLB + "targetgroup/staging-web-green/2453ed029918f21f",
					},
				}},
				Steps:    []int{50, 100},
				BakeTime: 2 * time.Minute,
				Gates:    Gates{Max5xxPercent: ptr(5.0)},
			},
			ArgoCD: ArgoCD{
				Management:          Management{Kubeconfig: filepath.Join(home, ".kube/config"), Context: "mgmt-staging"},
				Namespace:           "argocd",
				ClusterSecretLabels: map[string]string{"env": "staging"},
			},
			State:    State{Backend: "local", Dir: filepath.Join(dir, ".eksbg/state"), LockLease: DefaultLockLease},
			Teardown: TeardownManual,
		}, {
			Name: "prod",
			AWS:  AWS{Region: "eu-west-1", AccountID: "444455556666", RoleARN: "arn:aws:iam::444455556666:role/eksbg-deployer"},
			Network: Network{Terraform: Terraform{
				Dir:       filepath.Join(dir, "infra/network"),
				Workspace: "prod",
				Outputs: TerraformOutputs{VPCID: "vpc_id", SubnetIDs: SubnetOutputs{
					Nodes: "private_subnet_ids", ControlPlane: "control_plane_subnet_ids",
					Pods: "pod_subnet_ids", LoadBalancers: "public_subnet_ids"}},
			}},
			Cluster: Cluster{EksctlConfig: filepath.Join(dir, "clusters/prod.yaml"), NameTemplate: "prod-{color}",
				PodsPerNode: map[string]int{"general": 30, "batch": 8}},
			Traffic: Traffic{
				ListenerRules: []ListenerRule{{
					ARN: prodLB + "listener-rule/app/prod-web/6d0ecf831eec9f09/a0c6e51f7b8e36f6/3b5e1d3c9a2f4e71",
					TargetGroups: TargetGroups{
						Blue:  prodLB + "targetgroup/prod-web-blue/943f017f100becff",
						Green: prodLB + "targetgroup/prod-web-green/b5d1e2c3a4f50617",
					},
				}, {
					ARN: prodLB + "listener-rule/app/prod-api/8e4497da625e2d8a/c2d8e9f0a1b2c3d4/0f1e2d3c4b5a6978",
					TargetGroups: TargetGroups{
						Blue:  prodLB + "targetgroup/prod-api-blue/1a2b3c4d5e6f7a8b",
						Green: prodLB + "targetgroup/prod-api-green/8b7a6f5e4d3c2b1a",
					},
				}},
				Steps:    []int{5, 10, 25, 50, 100},
				BakeTime: 10 * time.Minute,
				Gates: Gates{
					Max5xxPercent:     ptr(0.5),
					MaxP99Latency:     ptr(800 * time.Millisecond),
					MinHealthyTargets: ptr(3),
					MinRequestCount:   ptr(500),
				},
			},
			ArgoCD: ArgoCD{
				Management: Management{EKSCluster: "mgmt", Region: "eu-central-1",
					RoleARN: "arn:aws:iam::777788889999:role/argocd-cluster-admin"},
				Namespace:           "argocd",
				ClusterSecretLabels: map[string]string{"env": "prod", "example.com/team": "platform"},
			},
			State:    State{Backend: "local", Dir: filepath.Join(dir, ".eksbg/state"), LockLease: DefaultLockLease},
			Teardown: TeardownManual,
		}},
	}
}

func TestLoadFullExample(t *testing.T) {
	p, err := Load("testdata/eksbg.yaml")
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	dir, err := filepath.Abs("testdata")
	if err != nil {
		t.Fatal(err)
	}
	want := fullExample(t, dir)
	want.File = "testdata/eksbg.yaml"
	if !reflect.DeepEqual(p, want) {
		t.Errorf("Load:\n got %+v\nwant %+v", p, want)
	}

	env, err := p.Env("prod")
	if err != nil {
		t.Fatal(err)
	}
	if got := env.ClusterName(Green); got != "prod-green" {
		t.Errorf("ClusterName(green) = %q", got)
	}
	if got := p.Environments[0].ClusterName(Blue); got != "staging-blue" {
		t.Errorf("ClusterName(blue) = %q", got)
	}
	if got := env.Traffic.ListenerRules[1].TargetGroup(Blue); !strings.HasSuffix(got, "/prod-api-blue/1a2b3c4d5e6f7a8b") {
		t.Errorf("TargetGroup(blue) = %q", got)
	}
	if env.ArgoCD.Management.UsesEKS() == p.Environments[0].ArgoCD.Management.UsesEKS() {
		t.Error("UsesEKS is the same for both environments")
	}
	_, err = p.Env("qa")
	if want := `unknown environment "qa" in testdata/eksbg.yaml (known: staging, prod)`; err == nil || err.Error() != want {
		t.Errorf("Env(qa) error = %v, want %s", err, want)
	}
}

// TestDocsExample keeps the example in docs/config.md and testdata/eksbg.yaml
// identical, and so checks that the documented example is valid.
func TestDocsExample(t *testing.T) {
	md, err := os.ReadFile("../../docs/config.md")
	if err != nil {
		t.Fatal(err)
	}
	_, block, ok := strings.Cut(string(md), "\n```yaml\n")
	if !ok {
		t.Fatal("docs/config.md has no ```yaml block")
	}
	block, _, ok = strings.Cut(block, "```\n")
	if !ok {
		t.Fatal("docs/config.md: ```yaml block is not closed")
	}
	if strings.Contains(block, "```yaml") {
		t.Fatal("docs/config.md has more than one ```yaml block")
	}
	data, err := os.ReadFile("testdata/eksbg.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if block != string(data) {
		t.Errorf("the ```yaml block of docs/config.md differs from testdata/eksbg.yaml; copy one to the other")
	}
	p, err := Parse("docs/eksbg.yaml", []byte(block))
	if err != nil {
		t.Fatalf("docs example: %v", err)
	}
	if want := fullExample(t, "docs"); !reflect.DeepEqual(p, want) {
		t.Errorf("docs example:\n got %+v\nwant %+v", p, want)
	}
}

const minimalRules = `      listenerRules:
        - arn: arn:aws:elasticloadbalancing:eu-west-1:111122223333:listener-rule/app/web/50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6cabee
          targetGroups:
            blue: arn:aws:elasticloadbalancing:eu-west-1:111122223333:targetgroup/web-blue/73e2d6bc24d8a067
            green: arn:aws:elasticloadbalancing:eu-west-1:111122223333:targetgroup/web-green/2453ed029918f21f
`

// minimal is the smallest valid project; error cases edit it.
const minimal = `apiVersion: eksbg.io/v1alpha1
kind: Project
environments:
  - name: dev
    aws: {region: eu-west-1, accountId: "111122223333"}
    network:
      terraform: {dir: infra, outputs: {vpcId: vpc_id, subnetIds: {nodes: subnets}}}
    cluster: {eksctlConfig: cluster.yaml}
    traffic:
` + minimalRules + `    argocd:
      management: {eksCluster: mgmt}
`

func TestDefaults(t *testing.T) {
	p, err := Parse("conf/eksbg.yaml", []byte(minimal))
	if err != nil {
		t.Fatal(err)
	}
	e := p.Environments[0]
	for _, c := range []struct {
		name      string
		got, want any
	}{
		{"steps", e.Traffic.Steps, []int{10, 25, 50, 100}},
		{"bakeTime", e.Traffic.BakeTime, 5 * time.Minute},
		{"gates", e.Traffic.Gates, Gates{}},
		{"workspace", e.Network.Terraform.Workspace, "default"},
		{"terraform dir", e.Network.Terraform.Dir, "conf/infra"},
		{"controlPlane subnets", e.Network.Terraform.Outputs.SubnetIDs.ControlPlane, "subnets"},
		{"eksctlConfig", e.Cluster.EksctlConfig, "conf/cluster.yaml"},
		{"nameTemplate", e.Cluster.NameTemplate, "{env}-{color}"},
		{"cluster name", e.ClusterName(Blue), "dev-blue"},
		{"argocd namespace", e.ArgoCD.Namespace, "argocd"},
		{"management region", e.ArgoCD.Management.Region, "eu-west-1"},
		{"state", e.State, State{Backend: "local", Dir: "conf/.eksbg/state", LockLease: DefaultLockLease}},
	} {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %#v, want %#v", c.name, c.got, c.want)
		}
	}

	// An explicit bake time of 0s is kept, not replaced by the default.
	src := strings.Replace(minimal, "    traffic:\n", "    traffic:\n      bakeTime: 0s\n", 1)
	if p, err := Parse("eksbg.yaml", []byte(src)); err != nil || p.Environments[0].Traffic.BakeTime != 0 {
		t.Errorf("bakeTime: 0s gave %v, %v", p, err)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name     string
		old, new string // replaced once in minimal
		want     []string
	}{
		{"unknown key", "    cluster: {eksctlConfig: cluster.yaml}", "    cluster: {eksctlConfig: cluster.yaml, name: x}", []string{
			`eksbg.yaml:8:43: environments[0].cluster.name: unknown field "name" (expected one of: eksctlConfig, nameTemplate, podsPerNode)`}},
		{"wrong type", "aws: {region: eu-west-1,", "aws: {region: [eu-west-1],", []string{
			`eksbg.yaml:5:19: environments[0].aws.region: expected string, got sequence`}},
		{"apiVersion and kind", "apiVersion: eksbg.io/v1alpha1\nkind: Project\n", "apiVersion: eksbg.io/v1\n", []string{
			`eksbg.yaml:1:1: kind: required: set it to "Project"`,
			`eksbg.yaml:1:13: apiVersion: expected "eksbg.io/v1alpha1", got "eksbg.io/v1"`}},
		{"no environments", minimal[strings.Index(minimal, "environments:"):], "environments: []\n", []string{
			`eksbg.yaml:3:15: environments: required: at least one environment`}},
		{"name", "name: dev", "name: Dev_1", []string{
			`eksbg.yaml:4:11: environments[0].name: expected a DNS label such as "prod" (lower-case letters, digits and '-', at most 63 characters), got "Dev_1"`}},
		{"aws", `aws: {region: eu-west-1, accountId: "111122223333"}`, `aws: {region: eu-west, accountId: 12345, roleArn: "arn:aws:iam::1:user/x"}`, []string{
			`eksbg.yaml:5:19: environments[0].aws.region: expected an AWS region such as "eu-west-1", got "eu-west"`,
			`eksbg.yaml:5:39: environments[0].aws.accountId: expected a 12-digit AWS account ID such as "123456789012", got "12345"`,
			`eksbg.yaml:5:55: environments[0].aws.roleArn: expected an IAM role ARN such as "arn:aws:iam::123456789012:role/eksbg", got "arn:aws:iam::1:user/x"`}},
		{"role in other account", `accountId: "111122223333"}`, `accountId: "111122223333", roleArn: "arn:aws:iam::999999999999:role/x"}`, []string{
			`eksbg.yaml:5:66: environments[0].aws.roleArn: role is in account 999999999999, but aws.accountId is 111122223333`}},
		{"missing sections", "    network:\n      terraform: {dir: infra, outputs: {vpcId: vpc_id, subnetIds: {nodes: subnets}}}\n    cluster: {eksctlConfig: cluster.yaml}\n", "", []string{
			`eksbg.yaml:4:5: environments[0].network: required: the Terraform network stack (network.terraform.dir and network.terraform.outputs)`,
			`eksbg.yaml:4:5: environments[0].cluster: required: the eksctl ClusterConfig path (cluster.eksctlConfig)`}},
		{"terraform", "{dir: infra, outputs: {vpcId: vpc_id, subnetIds: {nodes: subnets}}}", "{workspace: 'a b', outputs: {vpcId: 'vpc id', subnetIds: {pods: p}}}", []string{
			`eksbg.yaml:7:18: environments[0].network.terraform.dir: required: the directory of the Terraform network stack`,
			`eksbg.yaml:7:30: environments[0].network.terraform.workspace: expected a Terraform workspace name, got "a b"`,
			`eksbg.yaml:7:54: environments[0].network.terraform.outputs.vpcId: expected the name of a Terraform output holding the VPC ID, got "vpc id"`,
			`eksbg.yaml:7:75: environments[0].network.terraform.outputs.subnetIds.nodes: required: the name of a Terraform output holding the node subnet IDs`}},
		{"name template without color", "{eksctlConfig: cluster.yaml}", "{eksctlConfig: cluster.yaml, nameTemplate: dev-a}", []string{
			`eksbg.yaml:8:57: environments[0].cluster.nameTemplate: expected a template containing {color}, such as "dev-{color}", got "dev-a"`}},
		{"pods per node", "{eksctlConfig: cluster.yaml}", "{eksctlConfig: cluster.yaml, podsPerNode: {general: 0, ok: 3}}", []string{
			`eksbg.yaml:8:66: environments[0].cluster.podsPerNode.general: expected at least 1 pod per node, got 0`}},
		{"name template placeholder", "{eksctlConfig: cluster.yaml}", "{eksctlConfig: cluster.yaml, nameTemplate: '{region}-{color}'}", []string{
			`eksbg.yaml:8:57: environments[0].cluster.nameTemplate: expected only the placeholders {env} and {color}, got "{region}-{color}"`}},
		{"name template result", "{eksctlConfig: cluster.yaml}", "{eksctlConfig: cluster.yaml, nameTemplate: 'dev {color}'}", []string{
			`eksbg.yaml:8:57: environments[0].cluster.nameTemplate: gives cluster name "dev blue"; expected an EKS cluster name (letters, digits, '-' and '_', starting with a letter or digit, at most 100 characters)`}},
		{"no listener rules", minimalRules, "      listenerRules: []\n", []string{
			`eksbg.yaml:10:22: environments[0].traffic.listenerRules: required: at least one ALB listener rule with its blue and green target groups`}},
		{"no traffic", "    traffic:\n" + minimalRules, "", []string{
			`eksbg.yaml:4:5: environments[0].traffic: required: the ALB listener rules to shift (traffic.listenerRules)`}},
		{"arns", "listener-rule/app/web/", "targetgroup/app/web/", []string{
			`eksbg.yaml:11:16: environments[0].traffic.listenerRules[0].arn: expected an ALB listener rule ARN (arn:aws:elasticloadbalancing:<region>:<account>:listener-rule/app/<load-balancer>/<id>/<id>/<id>), got "arn:aws:elasticloadbalancing:eu-west-1:111122223333:targetgroup/app/web/50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6cabee"`}},
		{"target group region and account", "eu-west-1:111122223333:targetgroup/web-green", "eu-west-2:111122223333:targetgroup/web-green", []string{
			`eksbg.yaml:14:20: environments[0].traffic.listenerRules[0].targetGroups.green: is in region eu-west-2, but aws.region is eu-west-1`}},
		{"target group account", "eu-west-1:111122223333:targetgroup/web-blue", "eu-west-1:999999999999:targetgroup/web-blue", []string{
			`eksbg.yaml:13:19: environments[0].traffic.listenerRules[0].targetGroups.blue: is in account 999999999999, but aws.accountId is 111122223333`}},
		{"same target groups", "targetgroup/web-green/2453ed029918f21f", "targetgroup/web-blue/73e2d6bc24d8a067", []string{
			`eksbg.yaml:14:20: environments[0].traffic.listenerRules[0].targetGroups.green: must differ from targetGroups.blue`}},
		{"missing target group", "            green: arn:aws:elasticloadbalancing:eu-west-1:111122223333:targetgroup/web-green/2453ed029918f21f\n", "", []string{
			`eksbg.yaml:12:11: environments[0].traffic.listenerRules[0].targetGroups.green: required: a target group ARN (arn:aws:elasticloadbalancing:<region>:<account>:targetgroup/<name>/<id>)`}},
		{"steps", "    traffic:\n", "    traffic:\n      steps: [0, 20, 20, 50, 101, 90]\n", []string{
			`eksbg.yaml:10:15: environments[0].traffic.steps[0]: must be between 1 and 100, got 0`,
			`eksbg.yaml:10:22: environments[0].traffic.steps[2]: must be greater than the previous step (20): steps are strictly increasing percentages`,
			`eksbg.yaml:10:30: environments[0].traffic.steps[4]: must be between 1 and 100, got 101`,
			`eksbg.yaml:10:35: environments[0].traffic.steps[5]: the last step must be 100 (all traffic on the new color), got 90`}},
		{"empty steps", "    traffic:\n", "    traffic:\n      steps: []\n", []string{
			`eksbg.yaml:10:14: environments[0].traffic.steps: expected at least one step, such as [10, 25, 50, 100]`}},
		{"step not a number", "    traffic:\n", "    traffic:\n      steps: [10, half, 100]\n", []string{
			`eksbg.yaml:10:19: environments[0].traffic.steps[1]: expected integer, got "half"`}},
		{"bake time and gates", "    traffic:\n", "    traffic:\n      bakeTime: -1m\n      gates: {max5xxPercent: 101, maxP99Latency: 0s, minHealthyTargets: -1, minRequestCount: -2}\n", []string{
			`eksbg.yaml:10:17: environments[0].traffic.bakeTime: expected a duration of 0s or more, got -1m0s`,
			`eksbg.yaml:11:30: environments[0].traffic.gates.max5xxPercent: expected a percentage between 0 and 100, got 101`,
			`eksbg.yaml:11:50: environments[0].traffic.gates.maxP99Latency: expected a positive duration such as "500ms", got 0s`,
			`eksbg.yaml:11:73: environments[0].traffic.gates.minHealthyTargets: expected 0 or more, got -1`,
			`eksbg.yaml:11:94: environments[0].traffic.gates.minRequestCount: expected 0 or more, got -2`}},
		{"bake time not a duration", "    traffic:\n", "    traffic:\n      bakeTime: 5\n", []string{
			`eksbg.yaml:10:17: environments[0].traffic.bakeTime: expected duration such as "30s", "5m" or "1h30m", got 5`}},
		{"management missing", "management: {eksCluster: mgmt}", "namespace: Argo", []string{
			`eksbg.yaml:15:5: environments[0].argocd.management: required: either eksCluster (the EKS cluster Argo CD runs in) or kubeconfig and/or context`,
			`eksbg.yaml:16:18: environments[0].argocd.namespace: expected a namespace name, a DNS label such as "prod" (lower-case letters, digits and '-', at most 63 characters), got "Argo"`}},
		{"management both", "{eksCluster: mgmt}", "{eksCluster: mgmt, context: c}", []string{
			`eksbg.yaml:16:19: environments[0].argocd.management: expected either eksCluster or kubeconfig/context, not both`}},
		{"management kubeconfig with region", "{eksCluster: mgmt}", "{kubeconfig: k, region: eu-west-1}", []string{
			`eksbg.yaml:16:43: environments[0].argocd.management.region: only used with eksCluster; remove it when using kubeconfig/context`}},
		{"management eks", "{eksCluster: mgmt}", "{eksCluster: 'my mgmt', region: mars}", []string{
			`eksbg.yaml:16:32: environments[0].argocd.management.eksCluster: expected an EKS cluster name (letters, digits, '-' and '_', starting with a letter or digit, at most 100 characters), got "my mgmt"`,
			`eksbg.yaml:16:51: environments[0].argocd.management.region: expected an AWS region such as "eu-west-1", got "mars"`}},
		{"labels", "{eksCluster: mgmt}\n", "{eksCluster: mgmt}\n      clusterSecretLabels:\n        a.b/c/d: x\n        argocd.argoproj.io/secret-type: cluster\n        team: -bad\n", []string{
			`eksbg.yaml:18:18: environments[0].argocd.clusterSecretLabels["a.b/c/d"]: expected a Kubernetes label key such as "team" or "example.com/team", got "a.b/c/d"`,
			`eksbg.yaml:19:41: environments[0].argocd.clusterSecretLabels["argocd.argoproj.io/secret-type"]: is set by eksbg (to "cluster"); remove it`,
			`eksbg.yaml:20:15: environments[0].argocd.clusterSecretLabels.team: expected a Kubernetes label value (at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit), got "-bad"`}},
		{"state backend", "    argocd:\n", "    state: {backend: gcs}\n    argocd:\n", []string{
			`eksbg.yaml:15:22: environments[0].state.backend: expected "local" or "s3", got "gcs"`}},
		{"duplicate environments", "environments:\n", "environments:\n  - name: dev\n    aws: {region: eu-west-1, accountId: \"111122223333\"}\n", []string{
			`eksbg.yaml:4:5: environments[0].network: required: the Terraform network stack (network.terraform.dir and network.terraform.outputs)`,
			`eksbg.yaml:4:5: environments[0].cluster: required: the eksctl ClusterConfig path (cluster.eksctlConfig)`,
			`eksbg.yaml:4:5: environments[0].traffic: required: the ALB listener rules to shift (traffic.listenerRules)`,
			`eksbg.yaml:4:5: environments[0].argocd: required: how to reach the Argo CD management cluster (argocd.management)`,
			`eksbg.yaml:6:11: environments[1].name: duplicate environment name "dev" (also environments[0])`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !strings.Contains(minimal, tt.old) {
				t.Fatalf("minimal does not contain %q", tt.old)
			}
			src := strings.Replace(minimal, tt.old, tt.new, 1)
			p, err := Parse("eksbg.yaml", []byte(src))
			var errs yamlstrict.Errors
			if !errors.As(err, &errs) {
				t.Fatalf("Parse = %v, %v; want yamlstrict.Errors", p, err)
			}
			if got, want := err.Error(), strings.Join(tt.want, "\n"); got != want {
				t.Errorf("errors:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

func TestClashingClusterNames(t *testing.T) {
	env := minimal[strings.Index(minimal, "  - name: dev"):]
	second := strings.Replace(env, "name: dev", "name: qa", 1)
	second = strings.Replace(second, "{eksctlConfig: cluster.yaml}", "{eksctlConfig: cluster.yaml, nameTemplate: 'dev-{color}'}", 1)
	_, err := Parse("eksbg.yaml", []byte(minimal+second))
	want := `eksbg.yaml:21:57: environments[1].cluster.nameTemplate: cluster name "dev-blue" is also used by environment "dev" in the same account and region`
	if err == nil || err.Error() != want {
		t.Errorf("error = %v\nwant %s", err, want)
	}
}

func TestLoadMissing(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "eksbg.yaml"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Load error = %v, want fs.ErrNotExist", err)
	}
	for _, s := range []string{"eksbg sandbox up", "--config"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not mention %q", err, s)
		}
	}
}

func TestEnvNoEnvironments(t *testing.T) {
	_, err := (&Project{}).Env("prod")
	if want := `unknown environment "prod": eksbg.yaml defines no environments`; err == nil || err.Error() != want {
		t.Errorf("Env error = %v, want %s", err, want)
	}
}

func TestColors(t *testing.T) {
	if OtherColor(Blue) != Green || OtherColor(Green) != Blue || OtherColor("red") != "" {
		t.Error("OtherColor")
	}
	if !ValidColor(Blue) || !ValidColor(Green) || ValidColor("Blue") {
		t.Error("ValidColor")
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(minimal))
	if data, err := os.ReadFile("testdata/eksbg.yaml"); err == nil {
		f.Add(data)
	}
	f.Add([]byte("apiVersion: eksbg.io/v1alpha1\nkind: Project\nenvironments: [{name: a, traffic: {steps: [100, 1]}}]\n"))
	f.Add([]byte("environments:\n  - &e {name: a}\n  - <<: *e\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse("fuzz.yaml", data)
		if err == nil {
			if len(p.Environments) == 0 {
				t.Fatal("valid project without environments")
			}
			for i := range p.Environments {
				e := &p.Environments[i]
				if !strings.Contains(e.ClusterName(Blue), Blue) || e.Traffic.Steps[len(e.Traffic.Steps)-1] != 100 {
					t.Fatalf("environment %q passed validation: %+v", e.Name, e)
				}
			}
			return
		}
		errs, ok := err.(yamlstrict.Errors)
		if !ok || len(errs) == 0 {
			t.Fatalf("error is %T %q, want yamlstrict.Errors", err, err)
		}
		for _, e := range errs {
			if e.Line <= 0 && e.Msg == "" {
				t.Fatalf("entry without line or message: %#v", e)
			}
		}
	})
}
