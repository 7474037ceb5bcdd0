package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"

	"github.com/eksbg/eksbg/internal/output"
	"github.com/eksbg/eksbg/internal/sandbox/emulator"
	"github.com/eksbg/eksbg/internal/sandbox/sandboxtest"
)

// capacityScenario is internal/capacity's fits world with a load balancer
// whose rule forwards to both colors, and an on-demand vCPU quota of 30: the
// green cluster's 14 vCPUs on top of the blue one's 12 reach 87 % of it.
func capacityScenario(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile("../capacity/testdata/fits.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s := strings.Replace(string(data), "quotas: {ec2/L-1216C47A: 256}", "quotas: {ec2/L-1216C47A: 30}", 1)
	return s + `targetGroups:
  - {name: dev-blue-web, vpc: vpc-0ca00000000000001, port: 8080, cluster: cap-blue, targetCount: 2}
  - {name: dev-green-web, vpc: vpc-0ca00000000000001, port: 8080, cluster: dev-green}
loadBalancers:
  - name: dev-alb
    subnets: [subnet-0ca0000000000a003, subnet-0ca0000000000b003]
    listeners:
      - port: 80
        defaultForward: [{targetGroup: dev-blue-web, weight: 1}]
        rules:
          - {name: web, priority: 10, pathPattern: ["/*"], forward: [{targetGroup: dev-blue-web, weight: 100}, {targetGroup: dev-green-web, weight: 0}]}
`
}

// capacityWorkspace starts the sandbox, points the AWS SDK at it and writes
// an eksbg.yaml with two environments: dev (the green cluster of
// internal/capacity's tests: WARN on the vCPU quota) and big (100 nodes:
// FAIL). It returns the eksbg.yaml path.
func capacityWorkspace(t *testing.T) string {
	t.Helper()
	env := sandboxtest.StartYAML(t, capacityScenario(t))
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL": env.URL, "AWS_REGION": env.Region,
		"AWS_ACCESS_KEY_ID": emulator.DefaultCredential.AccessKeyID, "AWS_SECRET_ACCESS_KEY": emulator.DefaultCredential.SecretAccessKey,
		"AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null", "AWS_PROFILE": "", "AWS_EC2_METADATA_DISABLED": "true",
	} {
		t.Setenv(k, v)
	}
	client := elb.NewFromConfig(env.AWS)
	ctx := context.Background()
	lbs, err := client.DescribeLoadBalancers(ctx, &elb.DescribeLoadBalancersInput{})
	if err != nil || len(lbs.LoadBalancers) != 1 {
		t.Fatalf("load balancers: %v %v", lbs, err)
	}
	ls, err := client.DescribeListeners(ctx, &elb.DescribeListenersInput{LoadBalancerArn: lbs.LoadBalancers[0].LoadBalancerArn})
	if err != nil {
		t.Fatal(err)
	}
	rules, err := client.DescribeRules(ctx, &elb.DescribeRulesInput{ListenerArn: ls.Listeners[0].ListenerArn})
	if err != nil {
		t.Fatal(err)
	}
	var rule, blue, green string
	for _, r := range rules.Rules {
		if aws.ToBool(r.IsDefault) {
			continue
		}
		rule = aws.ToString(r.RuleArn)
		for _, tg := range r.Actions[0].ForwardConfig.TargetGroups {
			if arn := aws.ToString(tg.TargetGroupArn); strings.Contains(arn, "green") {
				green = arn
			} else {
				blue = arn
			}
		}
	}

	dir := t.TempDir()
	green0, err := os.ReadFile("../capacity/testdata/green.eksctl.yaml")
	if err != nil {
		t.Fatal(err)
	}
	big := strings.NewReplacer("desiredCapacity: 6", "desiredCapacity: 100", "maxSize: 9", "maxSize: 120").Replace(string(green0))
	for name, data := range map[string]string{"dev.yaml": string(green0), "big.yaml": big} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	var b strings.Builder
	b.WriteString("apiVersion: eksbg.io/v1alpha1\nkind: Project\nenvironments:\n")
	for _, e := range []string{"dev", "big"} {
		b.WriteString(`  - name: ` + e + `
    aws: {region: us-east-1, accountId: "111122223333"}
    network:
      terraform: {dir: infra, outputs: {vpcId: vpc_id, subnetIds: {nodes: subnets}}}
    cluster:
      eksctlConfig: ` + e + `.yaml
      podsPerNode: {general: 14}
    traffic:
      listenerRules:
        - arn: ` + rule + `
          targetGroups: {blue: ` + blue + `, green: ` + green + `}
    argocd:
      management: {eksCluster: mgmt}
`)
	}
	path := filepath.Join(dir, "eksbg.yaml")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestCapacityCommand runs `eksbg capacity` against the sandbox: exit codes
// for OK, WARN (with and without --fail-on warn) and FAIL, the JSON field
// names outside tools read, --all and -f.
func TestCapacityCommand(t *testing.T) {
	cfg := capacityWorkspace(t)

	out, stderr, code := run(t, "capacity", "--config", cfg, "--env", "dev", "--to", "1.33", "-o", "json")
	if code != ExitOK || stderr != "" {
		t.Fatalf("--env dev: exit %d, stderr %q", code, stderr)
	}
	var raw map[string]any
	if err := json.Unmarshal([]byte(out), &raw); err != nil {
		t.Fatalf("JSON: %v\n%s", err, out)
	}
	checkKeys(t, "report", raw, "verdict", "azs", "subnets", "quotas")
	if raw["verdict"] != "WARN" {
		t.Errorf("verdict %v, want WARN", raw["verdict"])
	}
	checkKeys(t, "azs[0]", raw["azs"].([]any)[0].(map[string]any),
		"az", "supplyIPs", "demandIPs", "demandIPsAtMax", "freePrefixes", "demandPrefixes", "verdict", "remedy")
	checkKeys(t, "subnets[0]", raw["subnets"].([]any)[0].(map[string]any),
		"id", "az", "cidr", "availableIPs", "freePrefixes", "roles", "verdict", "remedy")
	var quotas []string
	for _, q := range raw["quotas"].([]any) {
		m := q.(map[string]any)
		quotas = append(quotas, m["code"].(string))
		if m["verdict"] == "OK" {
			checkKeys(t, "quotas[]", m, "service", "code", "limit", "used", "demand", "verdict")
		} else {
			checkKeys(t, "quotas[]", m, "service", "code", "limit", "used", "demand", "verdict", "remedy")
		}
	}
	// With listener rules in eksbg.yaml, every quota of the issue is checked.
	if want := []string{"L-1216C47A", "L-34B43A08", "L-1194D53C", "L-6D54EA21", "L-BD136A63", "L-DF5E4CA3", "L-B22855CB", "L-7EED9B64"}; !slices.Equal(quotas, want) {
		t.Errorf("quotas %v, want %v", quotas, want)
	}

	if _, _, code := run(t, "capacity", "--config", cfg, "--env", "dev", "--fail-on", "warn"); code != ExitFindings {
		t.Errorf("WARN with --fail-on warn: exit %d, want %d", code, ExitFindings)
	}
	out, stderr, code = run(t, "capacity", "--config", cfg, "--env", "big")
	if code != ExitFindings || stderr != "" || !strings.Contains(out, "FAIL") || !strings.Contains(out, "docs/capacity.md#add-a-subnet") {
		t.Errorf("--env big: exit %d, stderr %q\n%s", code, stderr, out)
	}

	out, _, code = run(t, "capacity", "--config", cfg, "--all", "-o", "json")
	if code != ExitFindings {
		t.Errorf("--all: exit %d, want %d", code, ExitFindings)
	}
	var all struct {
		Verdict      string
		Environments []map[string]any
	}
	if err := json.Unmarshal([]byte(out), &all); err != nil || all.Verdict != "FAIL" || len(all.Environments) != 2 {
		t.Fatalf("--all JSON %v: %s", err, out)
	}
	for i, want := range []string{"dev", "big"} {
		e := all.Environments[i]
		checkKeys(t, "environments[]", e, "environment", "verdict", "azs", "subnets", "quotas")
		if e["environment"] != want {
			t.Errorf("environments[%d] = %v, want %s", i, e["environment"], want)
		}
	}

	// -f needs no eksbg.yaml.
	out, stderr, code = run(t, "capacity", "--config", filepath.Join(t.TempDir(), "none.yaml"), "-f", "../capacity/testdata/green.eksctl.yaml", "-o", "markdown")
	if code != ExitOK || !strings.HasPrefix(out, "| KIND | NAME | VERDICT |") || !strings.Contains(out, "| az | us-east-1a | OK |") {
		t.Errorf("-f: exit %d, stderr %q\n%s", code, stderr, out)
	}
	// The table's zone rows carry bars.
	out, _, _ = run(t, "capacity", "--config", cfg, "--env", "dev")
	if !strings.Contains(out, "▒") || !strings.Contains(out, "░") {
		t.Errorf("table without bars:\n%s", out)
	}
}

func checkKeys(t *testing.T, what string, m map[string]any, keys ...string) {
	t.Helper()
	var got []string
	for k := range m {
		got = append(got, k)
	}
	slices.Sort(got)
	slices.Sort(keys)
	if !slices.Equal(got, keys) {
		t.Errorf("%s keys %v, want %v", what, got, keys)
	}
}

// TestCapacityUsage checks the flag rules: exactly one of --env, --all and
// -f; --fail-on fail or warn; --to a minor version.
func TestCapacityUsage(t *testing.T) {
	for _, args := range [][]string{
		{"capacity"},
		{"capacity", "--env", "dev", "--all"},
		{"capacity", "-f", "x.yaml", "--all"},
		{"capacity", "--all", "--fail-on", "never"},
		{"capacity", "--all", "--to", "v1.33"},
	} {
		_, stderr, code := run(t, args...)
		if code != ExitError || !strings.Contains(stderr, "eksbg capacity --help") {
			t.Errorf("%v: exit %d, stderr %q", args, code, stderr)
		}
	}
	// A missing eksbg.yaml is an error (exit 1), not a finding.
	if _, stderr, code := run(t, "capacity", "--config", filepath.Join(t.TempDir(), "none.yaml"), "--all"); code != ExitError || !strings.Contains(stderr, "not found") {
		t.Errorf("missing config: exit %d, stderr %q", code, stderr)
	}
}

// TestCapacityFlags checks that flags reach the options.
func TestCapacityFlags(t *testing.T) {
	f := &Factory{IO: IO{Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}}, Globals: &GlobalOptions{Output: "markdown", ConfigPath: "p.yaml", Env: "prod"},
		Getenv: func(string) string { return "" }}
	var got *CapacityOptions
	cmd := NewCmdCapacity(f, func(o *CapacityOptions) error { got = o; return nil })
	cmd.SetArgs([]string{"--to", "1.33", "--fail-on", "warn"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if got.Env != "prod" || got.ConfigPath != "p.yaml" || got.To != "1.33" || got.FailOn != "warn" || got.Format != output.Markdown || got.All || got.File != "" {
		t.Errorf("options %+v", got)
	}
}
