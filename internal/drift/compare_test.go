package drift

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
	"gopkg.in/yaml.v3"

	"github.com/eksbg/eksbg/clusters"
	"github.com/eksbg/eksbg/internal/config"
	"github.com/eksbg/eksbg/internal/findings"
	"github.com/eksbg/eksbg/internal/gitops"
	"github.com/eksbg/eksbg/terraform"
	"github.com/eksbg/eksbg/upgrade/journal"
	"github.com/eksbg/eksbg/upgrade/traffic"
)

const eksctlConfig = `apiVersion: eksctl.io/v1alpha5
kind: ClusterConfig
metadata:
  name: prod-blue
  region: eu-west-1
  version: "1.32"
  tags: {team: platform}
vpc:
  clusterEndpoints: {publicAccess: false, privateAccess: true}
cloudWatch:
  clusterLogging:
    enableTypes: ["*"]
managedNodeGroups:
  - name: general
    amiFamily: AmazonLinux2023
    instanceTypes: [m5.large, m5a.large]
    minSize: 3
    maxSize: 9
    desiredCapacity: 6
    labels: {role: general}
    taints:
      - {key: dedicated, value: web, effect: NoSchedule}
  - name: spot
    spot: true
    instanceType: c5.large
  - name: missing
nodeGroups:
  - name: self-managed
addons:
  - {name: vpc-cni, version: v1.19.2}
  - {name: coredns, version: latest}
  - {name: kube-proxy, version: v1.32.6-eksbuild.2}
`

func compareFor(t *testing.T, strict bool) *clusterCompare {
	t.Helper()
	cfg, err := clusters.Parse("clusters/prod.yaml", []byte(eksctlConfig))
	if err != nil {
		t.Fatal(err)
	}
	spec, err := cfg.Spec()
	if err != nil {
		t.Fatal(err)
	}
	var extra extraSpec
	if err := yaml.Unmarshal(cfg.Bytes(), &extra); err != nil {
		t.Fatal(err)
	}
	return &clusterCompare{env: "prod", file: "clusters/prod.yaml", cluster: "prod-blue", spec: spec, extra: extra, strict: strict}
}

// matching is a cluster, node groups and add-ons as the config says.
func matching() (*ekstypes.Cluster, []*ekstypes.Nodegroup, []*ekstypes.Addon) {
	cl := &ekstypes.Cluster{Name: aws.String("prod-blue"), Arn: aws.String("arn:aws:eks:eu-west-1:444455556666:cluster/prod-blue"),
		Version: aws.String("1.32"), Status: ekstypes.ClusterStatusActive,
		Tags:               map[string]string{"team": "platform", "alpha.eksctl.io/cluster-name": "prod-blue"},
		ResourcesVpcConfig: &ekstypes.VpcConfigResponse{EndpointPublicAccess: false, EndpointPrivateAccess: true},
		Logging: &ekstypes.Logging{ClusterLogging: []ekstypes.LogSetup{
			{Enabled: aws.Bool(true), Types: []ekstypes.LogType{"api", "audit", "authenticator", "controllerManager", "scheduler"}}}}}
	ngs := []*ekstypes.Nodegroup{
		{NodegroupName: aws.String("general"), AmiType: ekstypes.AMITypesAl2023X8664Standard, InstanceTypes: []string{"m5a.large", "m5.large"},
			CapacityType: ekstypes.CapacityTypesOnDemand, ScalingConfig: &ekstypes.NodegroupScalingConfig{MinSize: aws.Int32(3), MaxSize: aws.Int32(9), DesiredSize: aws.Int32(6)},
			Labels: map[string]string{"role": "general", "alpha.eksctl.io/nodegroup-name": "general"},
			Taints: []ekstypes.Taint{{Key: aws.String("dedicated"), Value: aws.String("web"), Effect: ekstypes.TaintEffectNoSchedule}}},
		{NodegroupName: aws.String("spot"), AmiType: ekstypes.AMITypesAl2X8664, InstanceTypes: []string{"c5.large"}, CapacityType: ekstypes.CapacityTypesSpot,
			ScalingConfig: &ekstypes.NodegroupScalingConfig{MinSize: aws.Int32(2), MaxSize: aws.Int32(2), DesiredSize: aws.Int32(2)}},
		{NodegroupName: aws.String("missing"), AmiType: ekstypes.AMITypesBottlerocketX8664, InstanceTypes: []string{"m5.large"}, CapacityType: ekstypes.CapacityTypesOnDemand},
	}
	addons := []*ekstypes.Addon{
		{AddonName: aws.String("vpc-cni"), AddonVersion: aws.String("v1.19.2-eksbuild.1"), Status: ekstypes.AddonStatusActive},
		{AddonName: aws.String("coredns"), AddonVersion: aws.String("v1.11.4-eksbuild.2"), Status: ekstypes.AddonStatusActive},
		{AddonName: aws.String("kube-proxy"), AddonVersion: aws.String("v1.32.6-eksbuild.2"), Status: ekstypes.AddonStatusActive},
		{AddonName: aws.String("metrics-server"), AddonVersion: aws.String("v0.7.2-eksbuild.1"), Status: ekstypes.AddonStatusActive},
	}
	return cl, ngs, addons
}

type fieldDiff struct{ resource, field, expected, actual string }

func diffsOf(fs []findings.Finding) []fieldDiff {
	var out []fieldDiff
	for _, f := range fs {
		out = append(out, fieldDiff{f.Resource, f.Field, f.Expected, f.Actual})
	}
	return out
}

// TestClusterCompare changes one thing at a time against a cluster that
// matches its eksctl config, and checks the one finding it makes.
func TestClusterCompare(t *testing.T) {
	cc := compareFor(t, false)
	cl, ngs, addons := matching()
	if fs := append(append(cc.clusterFindings(cl), cc.nodegroups(ngs)...), cc.addons(addons)...); len(fs) != 0 {
		t.Fatalf("a matching cluster has findings: %+v", fs)
	}
	for _, tc := range []struct {
		name   string
		edit   func(cl *ekstypes.Cluster, ngs []*ekstypes.Nodegroup, addons *[]*ekstypes.Addon)
		strict bool
		want   []fieldDiff
	}{
		{"version", func(cl *ekstypes.Cluster, _ []*ekstypes.Nodegroup, _ *[]*ekstypes.Addon) {
			cl.Version = aws.String("1.33")
		},
			false, []fieldDiff{{"cluster/prod-blue", "version", "1.32", "1.33"}}},
		{"endpoint opened to the internet", func(cl *ekstypes.Cluster, _ []*ekstypes.Nodegroup, _ *[]*ekstypes.Addon) {
			cl.ResourcesVpcConfig.EndpointPublicAccess, cl.ResourcesVpcConfig.PublicAccessCidrs = true, []string{"0.0.0.0/0"}
		}, false, []fieldDiff{{"cluster/prod-blue", "endpointPublicAccess", "false", "true"}}},
		{"public endpoint narrowed", func(cl *ekstypes.Cluster, _ []*ekstypes.Nodegroup, _ *[]*ekstypes.Addon) {
			cl.ResourcesVpcConfig.EndpointPublicAccess, cl.ResourcesVpcConfig.PublicAccessCidrs = true, []string{"203.0.113.0/24"}
		}, false, []fieldDiff{{"cluster/prod-blue", "endpointPublicAccess", "false", "true"}, {"cluster/prod-blue", "publicAccessCIDRs", "0.0.0.0/0", "203.0.113.0/24"}}},
		{"audit logs off", func(cl *ekstypes.Cluster, _ []*ekstypes.Nodegroup, _ *[]*ekstypes.Addon) {
			cl.Logging.ClusterLogging = []ekstypes.LogSetup{{Enabled: aws.Bool(true), Types: []ekstypes.LogType{"api"}}, {Enabled: aws.Bool(false), Types: []ekstypes.LogType{"audit"}}}
		}, false, []fieldDiff{{"cluster/prod-blue", "logging", "api, audit, authenticator, controllerManager, scheduler", "api"}}},
		{"tag changed", func(cl *ekstypes.Cluster, _ []*ekstypes.Nodegroup, _ *[]*ekstypes.Addon) {
			cl.Tags["team"] = "payments"
		},
			false, []fieldDiff{{"cluster/prod-blue", "tags.team", "platform", "payments"}}},
		{"updating", func(cl *ekstypes.Cluster, _ []*ekstypes.Nodegroup, _ *[]*ekstypes.Addon) {
			cl.Status = ekstypes.ClusterStatusUpdating
		},
			false, []fieldDiff{{"cluster/prod-blue", "status", "ACTIVE", "UPDATING"}}},
		{"scaled past maxSize", func(_ *ekstypes.Cluster, ngs []*ekstypes.Nodegroup, _ *[]*ekstypes.Addon) {
			ngs[0].ScalingConfig.MaxSize, ngs[0].ScalingConfig.DesiredSize = aws.Int32(12), aws.Int32(11)
		}, false, []fieldDiff{{"nodegroup/prod-blue/general", "maxSize", "9", "12"}}},
		{"desired size with --strict", func(_ *ekstypes.Cluster, ngs []*ekstypes.Nodegroup, _ *[]*ekstypes.Addon) {
			ngs[0].ScalingConfig.DesiredSize = aws.Int32(8)
		}, true, []fieldDiff{{"nodegroup/prod-blue/general", "desiredCapacity", "6", "8"}}},
		{"desired size without --strict", func(_ *ekstypes.Cluster, ngs []*ekstypes.Nodegroup, _ *[]*ekstypes.Addon) {
			ngs[0].ScalingConfig.DesiredSize = aws.Int32(8)
		}, false, nil},
		{"label and taint", func(_ *ekstypes.Cluster, ngs []*ekstypes.Nodegroup, _ *[]*ekstypes.Addon) {
			ngs[0].Labels["role"] = "batch"
			ngs[0].Taints = nil
		}, false, []fieldDiff{{"nodegroup/prod-blue/general", "labels.role", "general", "batch"}, {"nodegroup/prod-blue/general", "taints", "dedicated=web:NO_SCHEDULE", "(none)"}}},
		{"instance types, capacity type, AMI family", func(_ *ekstypes.Cluster, ngs []*ekstypes.Nodegroup, _ *[]*ekstypes.Addon) {
			ngs[0].InstanceTypes = []string{"m6i.large"}
			ngs[0].AmiType = ekstypes.AMITypesBottlerocketX8664
			ngs[1].CapacityType = ekstypes.CapacityTypesOnDemand
		}, false, []fieldDiff{
			{"nodegroup/prod-blue/general", "instanceTypes", "m5.large, m5a.large", "m6i.large"},
			{"nodegroup/prod-blue/general", "amiFamily", "AmazonLinux2023", "Bottlerocket (AMI type BOTTLEROCKET_x86_64)"},
			{"nodegroup/prod-blue/spot", "capacityType", "SPOT", "ON_DEMAND"}}},
		{"node group deleted, one added", func(_ *ekstypes.Cluster, ngs []*ekstypes.Nodegroup, _ *[]*ekstypes.Addon) {
			ngs[2].NodegroupName = aws.String("extra")
		}, false, []fieldDiff{
			{"nodegroup/prod-blue/missing", "", "exists (managedNodeGroups[2] of clusters/prod.yaml)", "does not exist"},
			{"nodegroup/prod-blue/extra", "", "absent: clusters/prod.yaml has no such managed node group", "exists"}}},
		{"add-ons", func(_ *ekstypes.Cluster, _ []*ekstypes.Nodegroup, addons *[]*ekstypes.Addon) {
			(*addons)[0].AddonVersion = aws.String("v1.20.0-eksbuild.1")
			(*addons)[2].Status = ekstypes.AddonStatusDegraded
			*addons = append((*addons)[:3], &ekstypes.Addon{AddonName: aws.String("aws-ebs-csi-driver"), AddonVersion: aws.String("v1.40.0-eksbuild.1")})
		}, false, []fieldDiff{
			{"addon/prod-blue/vpc-cni", "version", "v1.19.2", "v1.20.0-eksbuild.1"},
			{"addon/prod-blue/kube-proxy", "status", "ACTIVE", "DEGRADED"},
			{"addon/prod-blue/aws-ebs-csi-driver", "", "absent: clusters/prod.yaml lists no such add-on", "installed"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cl, ngs, addons := matching()
			tc.edit(cl, ngs, &addons)
			cc := compareFor(t, tc.strict)
			got := diffsOf(append(append(cc.clusterFindings(cl), cc.nodegroups(ngs)...), cc.addons(addons)...))
			if !slices.Equal(got, tc.want) {
				t.Errorf("got  %v\nwant %v", got, tc.want)
			}
		})
	}
}

func TestAddonVersionMatches(t *testing.T) {
	for _, tc := range []struct {
		want, got string
		ok        bool
	}{
		{"", "v1.19.2-eksbuild.1", true},
		{"latest", "v1.19.2-eksbuild.1", true},
		{"v1.19.2-eksbuild.1", "v1.19.2-eksbuild.1", true},
		{"1.19.2-eksbuild.1", "v1.19.2-eksbuild.1", true},
		{"v1.19.2", "v1.19.2-eksbuild.3", true},
		{"v1.19.2", "v1.19.20-eksbuild.1", false},
		{"v1.19.2-eksbuild.1", "v1.19.2-eksbuild.2", false},
	} {
		if got := addonVersionMatches(tc.want, tc.got); got != tc.ok {
			t.Errorf("addonVersionMatches(%q, %q) = %v", tc.want, tc.got, got)
		}
	}
}

func TestTerraformFindings(t *testing.T) {
	p := &terraform.Plan{Changed: true,
		Changes: []terraform.Change{
			{Address: "aws_subnet.a", Actions: []string{"update"}},
			{Address: "aws_subnet.b", Actions: []string{"delete", "create"}},
			{Address: "aws_vpc.main", Actions: []string{"no-op"}, Importing: true},
		},
		OutputChanges: []terraform.Change{{Address: "output.vpc_id", Actions: []string{"update"}}},
		Drift:         []terraform.Change{{Address: "aws_subnet.a", Actions: []string{"update"}}},
	}
	var got []string
	for _, f := range terraformFindings(p, "fix") {
		got = append(got, f.Resource+": "+f.Actual)
	}
	want := []string{"aws_subnet.a: plan would update (changed outside Terraform)", "aws_subnet.b: plan would replace",
		"aws_vpc.main: plan would import", "output.vpc_id: plan would update"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q\nwant %q", got, want)
	}
	// terraform's verdict counts even when eksbg lists no change.
	if fs := terraformFindings(&terraform.Plan{Changed: true}, "fix"); len(fs) != 1 || fs[0].Severity != findings.Fail {
		t.Errorf("changed plan without listed changes: %+v", fs)
	}
	if fs := terraformFindings(&terraform.Plan{}, "fix"); len(fs) != 0 {
		t.Errorf("clean plan: %+v", fs)
	}
}

func TestWeightFinding(t *testing.T) {
	env := &config.Environment{Name: "prod", Traffic: config.Traffic{ListenerRules: []config.ListenerRule{{ARN: "rule", TargetGroups: config.TargetGroups{Blue: "tg-b", Green: "tg-g"}}}}}
	blueLive := &liveInfo{color: "blue", cluster: "prod-blue", other: "prod-green", exists: true, from: "state"}
	greenLive := &liveInfo{color: "green", cluster: "prod-green", other: "prod-blue", exists: true, otherExists: true, from: "state"}
	c := &checker{o: Options{Now: func() time.Time { return t0 }}}
	noUpgrade := &stateInfo{}
	fresh := &stateInfo{journal: &journal.Journal{ID: "u1", StartedAt: t0.Add(-time.Hour), To: journal.ClusterRef{Version: "1.33"}}}
	for _, tc := range []struct {
		name     string
		live     *liveInfo
		w        traffic.RuleWeights
		st       *stateInfo
		ok       bool
		sev      findings.Severity
		actual   string
		expected string
	}{
		{"all on blue", blueLive, traffic.RuleWeights{RuleARN: "rule", Blue: 100}, noUpgrade, false, findings.Info, "", ""},
		{"weights 1/0 send everything to blue", blueLive, traffic.RuleWeights{RuleARN: "rule", Blue: 1}, noUpgrade, false, findings.Info, "", ""},
		{"abandoned at 50/50", blueLive, traffic.RuleWeights{RuleARN: "rule", Blue: 50, Green: 50}, noUpgrade, true, findings.Fail,
			"blue 50, green 50 (green's cluster prod-green does not exist)", "blue 100, green 0 (blue is live: the state backend's record)"},
		{"green live, still on blue", greenLive, traffic.RuleWeights{RuleARN: "rule", Blue: 100}, noUpgrade, true, findings.Fail,
			"blue 100, green 0", "blue 0, green 100 (green is live: the state backend's record)"},
		{"a third target group", blueLive, traffic.RuleWeights{RuleARN: "rule", Blue: 100, Others: []traffic.TargetGroupWeight{{ARN: "tg-x", Weight: 5}}}, noUpgrade, true, findings.Fail,
			"blue 100, green 0; other target groups: tg-x 5", "blue 100, green 0 (blue is live: the state backend's record)"},
		{"an upgrade in progress", greenLive, traffic.RuleWeights{RuleARN: "rule", Blue: 25, Green: 75}, fresh, true, findings.Warn,
			"blue 25, green 75", "blue 0, green 100 (green is live: the state backend's record); an upgrade is in progress"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, ok := c.weightFinding(env, tc.live, tc.w, c.upgradeInProgress(tc.st), tc.st)
			if ok != tc.ok || f.Severity != tc.sev || f.Actual != tc.actual || f.Expected != tc.expected {
				t.Errorf("got %v %+v", ok, f)
			}
			if ok && tc.st == noUpgrade && !strings.HasPrefix(f.Fix, "aws elbv2 modify-rule --rule-arn rule --actions '[{") {
				t.Errorf("fix %q", f.Fix)
			}
		})
	}
}

func TestAppKeys(t *testing.T) {
	blue := appKeys([]gitops.Application{{Name: "web-prod-blue"}, {Name: "api-blue"}, {Name: "shared"}}, "prod-blue", "blue")
	green := appKeys([]gitops.Application{{Name: "web-prod-green"}, {Name: "api-green"}, {Name: "shared"}}, "prod-green", "green")
	for k := range blue {
		if _, ok := green[k]; !ok {
			t.Errorf("%s has no twin in %v", k, green)
		}
	}
	if len(blue) != 3 || blue["web-{cluster}"] != "web-prod-blue" || blue["api-{color}"] != "api-blue" {
		t.Errorf("keys %v", blue)
	}
}

func TestHumanDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{30 * time.Minute: "30m", 26 * time.Hour: "26h", 77 * time.Hour: "3d5h", 96 * time.Hour: "4d"} {
		if got := humanDuration(d); got != want {
			t.Errorf("%s: %q, want %q", d, got, want)
		}
	}
}

func TestArgoFindings(t *testing.T) {
	synced := func(name, server string) gitops.Application {
		return gitops.Application{Name: name, Server: server, Sync: "Synced", Health: "Healthy", Current: true}
	}
	base := func() argoInput {
		return argoInput{namespace: "argocd", mgmt: "on the Argo CD management cluster mgmt",
			live:    &liveInfo{color: "blue", cluster: "prod-blue", other: "prod-green", exists: true, otherExists: true},
			servers: map[string]string{"prod-blue": "https://blue", "prod-green": "https://green"},
			m: &mgmtCluster{
				apps: []gitops.Application{synced("web-prod-blue", "https://blue"), synced("web-prod-green", "https://green"),
					synced("api-blue", "https://blue"), synced("api-green", "https://green"), synced("other-env", "https://elsewhere")},
				secrets: []clusterSecret{{"cluster-prod-blue", "prod-blue", "https://blue"}, {"cluster-prod-green", "prod-green", "https://green"},
					{"cluster-staging-blue", "staging-blue", "https://gone"}}}}
	}
	if fs, skipped := argoFindings(base()); len(fs) != 0 || skipped != "" {
		t.Fatalf("a clean Argo CD: %+v %q", fs, skipped)
	}
	for _, tc := range []struct {
		name    string
		edit    func(*argoInput)
		want    []fieldDiff
		sev     findings.Severity
		skipped string
	}{
		{"secret of a deleted cluster", func(in *argoInput) {
			in.live.otherExists = false
			delete(in.servers, "prod-green")
		}, []fieldDiff{{"secret/argocd/cluster-prod-green", "", "no cluster secret: cluster prod-green does not exist", "registers prod-green (https://green)"}}, findings.Fail, ""},
		{"stale server", func(in *argoInput) { in.servers["prod-blue"] = "https://blue-2" },
			[]fieldDiff{{"secret/argocd/cluster-prod-blue", "server", "https://blue-2", "https://blue"},
				// the Applications follow the secret, so none is on blue now
				{"application/argocd/api-green", "", "absent: nothing like it runs on the live cluster prod-blue", "targets prod-green"},
				{"application/argocd/web-prod-green", "", "absent: nothing like it runs on the live cluster prod-blue", "targets prod-green"}}, findings.Fail, ""},
		{"live cluster not registered", func(in *argoInput) { in.m.secrets = in.m.secrets[1:] },
			[]fieldDiff{{"secret/argocd/cluster-prod-blue", "", "registers the live cluster prod-blue", "no cluster secret for it"}}, findings.Fail, ""},
		{"out of sync", func(in *argoInput) {
			in.m.apps[0].Sync, in.m.apps[0].Health, in.m.apps[0].Message = "OutOfSync", "Degraded", "Deployment web: 0/3 ready"
		}, []fieldDiff{{"application/argocd/web-prod-blue", "status", "Synced/Healthy", "OutOfSync/Degraded: Deployment web: 0/3 ready"}}, findings.Fail, ""},
		{"not compared yet", func(in *argoInput) { in.m.apps[2].Current = false },
			[]fieldDiff{{"application/argocd/api-blue", "status", "Synced/Healthy", "Synced/Healthy, not yet compared with its current spec"}}, findings.Fail, ""},
		{"twin missing during an upgrade", func(in *argoInput) {
			in.m.apps = slices.Delete(in.m.apps, 1, 2)
			in.upgrading = true
		}, []fieldDiff{{"application/argocd/web-prod-green", "", "exists on prod-green, as web-prod-blue does on prod-blue", "missing"}}, findings.Warn, ""},
		{"live cluster gone", func(in *argoInput) {
			in.live.exists = false
			delete(in.servers, "prod-blue")
		}, []fieldDiff{{"secret/argocd/cluster-prod-blue", "", "no cluster secret: cluster prod-blue does not exist", "registers prod-blue (https://blue)"}}, findings.Fail,
			"the live cluster prod-blue does not exist: its Applications were not checked"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := base()
			tc.edit(&in)
			fs, skipped := argoFindings(in)
			if got := diffsOf(fs); !slices.Equal(got, tc.want) || skipped != tc.skipped {
				t.Errorf("got  %v %q\nwant %v %q", got, skipped, tc.want, tc.skipped)
			}
			for _, f := range fs {
				if f.Severity != tc.sev {
					t.Errorf("%s: severity %s, want %s", f.Resource, f.Severity, tc.sev)
				}
			}
		})
	}
}
