package capacity

import (
	"bytes"
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"

	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/eksbg/eksbg/clusters"
	"github.com/eksbg/eksbg/internal/cni"
)

func u32(s string) uint32 {
	v, ok := parseU32(s)
	if !ok {
		panic(s)
	}
	return v
}

func TestFreeBlocks(t *testing.T) {
	p := netip.MustParsePrefix
	tests := []struct {
		name     string
		subnet   string
		used     []string
		prefixes []string
		res      []reservation
		want     int
	}{
		// A /24 has 16 blocks; the first holds the network, router, DNS and
		// reserved addresses, the last the broadcast address.
		{"empty /24", "10.0.0.0/24", nil, nil, nil, 14},
		{"/28", "10.0.0.0/28", nil, nil, nil, 0},
		{"/27", "10.0.0.32/27", nil, nil, nil, 0},
		{"/26", "10.0.0.64/26", nil, nil, nil, 2},
		{"one address per block", "10.0.0.0/24", []string{"10.0.0.24", "10.0.0.40", "10.0.0.41"}, nil, nil, 12},
		{"prefixes", "10.0.0.0/24", nil, []string{"10.0.0.16/28", "10.0.0.32"}, nil, 12},
		{"outside the subnet", "10.0.0.0/24", []string{"10.0.1.16", "9.255.255.255"}, []string{"10.0.2.0/28"}, nil, 14},
		{"explicit reservation", "10.0.0.0/24", nil, nil, []reservation{{p("10.0.0.64/26"), ec2types.SubnetCidrReservationTypeExplicit}}, 10},
		{"explicit reservation of one address", "10.0.0.0/24", nil, nil, []reservation{{p("10.0.0.100/32"), ec2types.SubnetCidrReservationTypeExplicit}}, 13},
		{"prefix reservation", "10.0.0.0/24", nil, nil, []reservation{{p("10.0.0.64/26"), ec2types.SubnetCidrReservationTypePrefix}}, 14},
		{"reservation wider than the subnet", "10.0.0.0/25", nil, nil, []reservation{{p("10.0.0.0/16"), ec2types.SubnetCidrReservationTypeExplicit}}, 0},
		{"/22 scattered", "10.0.0.0/22", scattered("10.0.0.0/22"), nil, nil, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var used, prefixes []uint32
			for _, a := range tc.used {
				used = append(used, u32(a))
			}
			for _, a := range tc.prefixes {
				prefixes = append(prefixes, u32(a))
			}
			if got := freeBlocks(p(tc.subnet), used, prefixes, tc.res); got != tc.want {
				t.Errorf("freeBlocks = %d, want %d", got, tc.want)
			}
		})
	}
}

// scattered is one address in the middle of every /28 of a subnet.
func scattered(cidr string) []string {
	p := netip.MustParsePrefix(cidr)
	var out []string
	a := p.Addr()
	for p.Contains(a) {
		for range 8 {
			a = a.Next()
		}
		out = append(out, a.String())
		for range 8 {
			a = a.Next()
		}
	}
	return out
}

func TestStandardFamily(t *testing.T) {
	for typ, want := range map[string]bool{
		"m5.large": true, "c7gn.xlarge": true, "r7iz.large": true, "t3.micro": true, "z1d.large": true, "a1.medium": true,
		"i4i.large": true, "im4gn.large": true, "d3en.xlarge": true, "h1.2xlarge": true,
		"p5.48xlarge": false, "g5.xlarge": false, "x2idn.16xlarge": false, "inf2.xlarge": false, "dl1.24xlarge": false,
		"trn1.2xlarge": false, "mac2.metal": false, "hpc7g.4xlarge": false, "u-6tb1.metal": false, "f1.2xlarge": false, "": false,
	} {
		if got := standardFamily(typ); got != want {
			t.Errorf("standardFamily(%q) = %t, want %t", typ, got, want)
		}
	}
}

func TestBar(t *testing.T) {
	tests := []struct {
		used, green, free int
		want              string
	}{
		{0, 0, 0, "░░░░░░░░░░░░░░░░░░░░"},
		{50, 25, 50, "██████████▒▒▒▒▒░░░░░"},
		{0, 1, 1000, "▒░░░░░░░░░░░░░░░░░░░"}, // a small demand still shows
		{100, 0, 100, "██████████░░░░░░░░░░"},
		{10, 30, 10, "█████▒▒▒▒▒!!!!!!!!!!"}, // demand over free
		{100, 50, 0, "█████████████!!!!!!!"}, // no free: all demand overflows
	}
	for _, tc := range tests {
		got := bar(tc.used, tc.green, tc.free)
		if got != tc.want {
			t.Errorf("bar(%d, %d, %d) = %s, want %s", tc.used, tc.green, tc.free, got, tc.want)
		}
		if n := len([]rune(got)); n != barWidth {
			t.Errorf("bar(%d, %d, %d) is %d cells", tc.used, tc.green, tc.free, n)
		}
	}
}

func TestSubnetFor(t *testing.T) {
	for need, want := range map[int]int{1: 28, 11: 28, 12: 27, 27: 27, 28: 26, 1019: 22, 1020: 21, 65531: 16, 65532: 0} {
		if got, _ := subnetFor(need); got != want {
			t.Errorf("subnetFor(%d) = /%d, want /%d", need, got, want)
		}
	}
}

func TestLoadBalancerOf(t *testing.T) {
	for rule, want := range map[string]string{
		"arn:aws:elasticloadbalancing:eu-west-1:111122223333:listener-rule/app/web/50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6cabee": "arn:aws:elasticloadbalancing:eu-west-1:111122223333:loadbalancer/app/web/50dc6c495c0c9188",
		"arn:aws:elasticloadbalancing:eu-west-1:111122223333:targetgroup/web/50dc6c495c0c9188":                                         "",
		"arn:aws:elasticloadbalancing:eu-west-1:111122223333:listener-rule/app/web/1/2":                                                "",
	} {
		if got := loadBalancerOf(rule); got != want {
			t.Errorf("loadBalancerOf(%s) = %q, want %q", rule, got, want)
		}
	}
}

// TestAZVerdict covers each zone rule and its remedy.
func TestAZVerdict(t *testing.T) {
	tests := []struct {
		name   string
		a      AZReport
		pd     bool
		want   Verdict
		remedy string
	}{
		{"fits", AZReport{AZ: "z", SupplyIPs: 1000, DemandIPs: 500, DemandIPsAtMax: 800}, false, OK, ""},
		{"short", AZReport{AZ: "z", SupplyIPs: 100, DemandIPs: 150, DemandIPsAtMax: 150}, false, Fail,
			"short of 50 IPs: add a /25 (123 IPs) in z"}, // 167 (150/0.9) - 100 = 67 > 59: a /25
		{"short at max", AZReport{AZ: "z", SupplyIPs: 1000, DemandIPs: 500, DemandIPsAtMax: 1200}, false, Warn,
			"at maxSize short of 200 IPs: add a /24 (251 IPs) in z"},
		{"headroom", AZReport{AZ: "z", SupplyIPs: 1000, DemandIPs: 901, DemandIPsAtMax: 901}, false, Warn,
			"99 IPs left, under 10% of free: add a /28 (11 IPs) in z"},
		{"headroom exactly 10%", AZReport{AZ: "z", SupplyIPs: 1000, DemandIPs: 900, DemandIPsAtMax: 900}, false, OK, ""},
		{"prefixes short", AZReport{AZ: "z", SupplyIPs: 1000, DemandIPs: 100, DemandIPsAtMax: 100, FreePrefixes: 2, DemandPrefixes: 3, DemandPrefixesAtMax: 3}, true, Fail,
			"prefix delegation needs 3 free /28s in z, there are 2"},
		{"prefixes short at max", AZReport{AZ: "z", SupplyIPs: 1000, DemandIPs: 100, DemandIPsAtMax: 100, FreePrefixes: 3, DemandPrefixes: 3, DemandPrefixesAtMax: 6}, true, Warn,
			"prefix delegation needs 6 free /28s in z at maxSize, there are 3"},
		{"prefixes ignored without prefix delegation", AZReport{AZ: "z", SupplyIPs: 1000, DemandIPs: 100, DemandIPsAtMax: 100, DemandPrefixes: 3}, false, OK, ""},
		{"no supply", AZReport{AZ: "z", DemandIPs: 11, DemandIPsAtMax: 11}, false, Fail, "short of 11 IPs: add a /27"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, remedy := azVerdict(tc.a, tc.pd)
			if v != tc.want || !strings.Contains(remedy, tc.remedy) || (tc.remedy == "") != (remedy == "") {
				t.Errorf("azVerdict = %s %q, want %s %q", v, remedy, tc.want, tc.remedy)
			}
		})
	}
}

// TestSubnetVerdict covers each subnet rule.
func TestSubnetVerdict(t *testing.T) {
	sub := func(avail, free int, elb bool) *subnetFacts {
		return &subnetFacts{ID: "subnet-1", AZ: "z", CIDR: "10.0.0.0/24", Available: avail, FreePrefixes: free, elb: elb}
	}
	roles := func(r ...string) map[string]bool {
		m := map[string]bool{}
		for _, x := range r {
			m[x] = true
		}
		return m
	}
	tests := []struct {
		name   string
		l      subnetLoad
		want   Verdict
		remedy string
	}{
		{"control plane fits", subnetLoad{s: sub(11, 0, false), roles: roles(RoleControlPlane), ips: 11}, OK, ""},
		{"control plane below 6", subnetLoad{s: sub(5, 0, false), roles: roles(RoleControlPlane), ips: 11}, Fail, "has 5 free IPs, EKS needs 6"},
		{"control plane below 11", subnetLoad{s: sub(8, 0, false), roles: roles(RoleControlPlane), ips: 11}, Warn, "not for a later in-place update (11)"},
		{"control plane and nodes", subnetLoad{s: sub(50, 0, false), roles: roles(RoleControlPlane, RoleNodes), ips: 11 + 40}, Warn, "not for a later in-place update"},
		{"control plane and nodes short", subnetLoad{s: sub(50, 0, false), roles: roles(RoleControlPlane, RoleNodes), ips: 11 + 45}, Fail, "its share of green is 51 IPs"},
		{"node share too big", subnetLoad{s: sub(50, 0, false), roles: roles(RoleNodes), ips: 60.2}, Fail, "its share of green is 61 IPs, it has 50 free"},
		{"elb keeps 8", subnetLoad{s: sub(108, 0, true), roles: roles(RoleNodes), ips: 100}, OK, ""},
		{"elb keeps 7", subnetLoad{s: sub(107, 0, true), roles: roles(RoleNodes), ips: 100}, Warn, "would keep 7 free IPs, under 8"},
		{"prefixes", subnetLoad{s: sub(500, 2, false), roles: roles(RoleNodes), ips: 100, prefixes: 2.5, prefixesAt: 3, pd: true}, Fail, "needs 3 free /28s in subnet-1, there are 2"},
		{"prefixes at max", subnetLoad{s: sub(500, 3, false), roles: roles(RoleNodes), ips: 100, prefixes: 3, prefixesAt: 4, pd: true}, Warn, "at maxSize"},
		{"prefixes without prefix delegation", subnetLoad{s: sub(500, 0, false), roles: roles(RoleNodes), ips: 100, prefixes: 3}, OK, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sr := subnetVerdict(&tc.l)
			if sr.Verdict != tc.want || !strings.Contains(sr.Remedy, tc.remedy) || (tc.remedy == "") != (sr.Remedy == "") {
				t.Errorf("subnetVerdict = %s %q, want %s %q", sr.Verdict, sr.Remedy, tc.want, tc.remedy)
			}
		})
	}
}

// TestQuotaVerdicts checks the thresholds: WARN from 80 %, FAIL above 100 %.
func TestQuotaVerdicts(t *testing.T) {
	tests := []struct {
		used, limit int
		want        Verdict
	}{{0, 5, OK}, {12, 20, OK}, {16, 20, Warn}, {20, 20, Warn}, {21, 20, Fail}}
	for _, tc := range tests {
		// One node group of (desired 0 + 1 surge) m5.large: demand 2 vCPUs.
		v := &view{prepared: &prepared{in: Input{Cluster: Cluster{Name: "g"}}}, ngs: []ngView{{ng: NodeGroup{Managed: true, Max: 1},
			node: nodeFigures{vcpus: 2, enis: 1, standard: true}}}}
		f := &regionFacts{onDemandVCPUs: tc.used - 2, clusters: map[string]bool{}, targetGroups: map[string]bool{},
			limits: map[quotaKey]float64{quotaOnDemandVCPUs: float64(tc.limit)}}
		qs := v.quotas(f)
		if len(qs) != 1 || qs[0].Verdict != tc.want || qs[0].Demand != 2 {
			t.Errorf("%d of %d: %+v, want %s", tc.used, tc.limit, qs, tc.want)
		}
	}
}

// fakeCNI is a CNIEnvSource and PodCensus.
type fakeCNI struct {
	env        map[string]string
	eniConfigs map[string]string
	census     map[string]PodCount
	err        error
	asked      []string
}

func (f *fakeCNI) AWSNodeEnv(_ context.Context, cluster string) (map[string]string, error) {
	f.asked = append(f.asked, "env:"+cluster)
	return f.env, f.err
}

func (f *fakeCNI) ENIConfigSubnets(_ context.Context, cluster string) (map[string]string, error) {
	f.asked = append(f.asked, "eniconfig:"+cluster)
	return f.eniConfigs, f.err
}

func (f *fakeCNI) PodsPerNode(_ context.Context, cluster string) (map[string]PodCount, error) {
	f.asked = append(f.asked, "census:"+cluster)
	return f.census, f.err
}

var _ CNIEnvSource = (*fakeCNI)(nil)
var _ PodCensus = (*fakeCNI)(nil)

// TestPrepareSources checks where the CNI settings and N come from: the
// config's add-on values, else the blue cluster's aws-node, else the
// add-on defaults; the input's pods per node, else the blue cluster's
// average, else max pods.
func TestPrepareSources(t *testing.T) {
	addon, _, err := AddonSettings(`{"env": {"WARM_IP_TARGET": "5"}}`)
	if err != nil {
		t.Fatal(err)
	}
	ngs := []NodeGroup{{Name: "given", PodsPerNode: 12}, {Name: "counted"}, {Name: "unknown"}}
	tests := []struct {
		name       string
		cluster    Cluster
		fake       *fakeCNI
		wantSource string
		wantW      int // WARM_IP_TARGET, -1 unset
		wantPods   []podsOf
		wantErr    string
	}{
		{"addon wins", Cluster{CNI: addon, CNISource: SourceAddon, NodeGroups: ngs},
			&fakeCNI{env: map[string]string{"WARM_IP_TARGET": "9"}, census: map[string]PodCount{"counted": {Pods: 7.2, BranchPods: 1.5}}},
			SourceAddon, 5, []podsOf{{12, 0, SourceNodeGroup}, {8, 2, SourceCensus}, {-1, 0, SourceMaxPods}}, ""},
		{"aws-node", Cluster{NodeGroups: ngs}, &fakeCNI{env: map[string]string{"WARM_IP_TARGET": "9"}},
			"aws-node DaemonSet of blue", 9, []podsOf{{12, 0, SourceNodeGroup}, {-1, 0, SourceMaxPods}, {-1, 0, SourceMaxPods}}, ""},
		{"defaults without a cluster source", Cluster{NodeGroups: ngs}, nil,
			SourceDefaults, -1, []podsOf{{12, 0, SourceNodeGroup}, {-1, 0, SourceMaxPods}, {-1, 0, SourceMaxPods}}, ""},
		{"defaults without aws-node", Cluster{NodeGroups: ngs}, &fakeCNI{}, SourceDefaults, -1, nil, ""},
		{"bad aws-node", Cluster{NodeGroups: ngs}, &fakeCNI{env: map[string]string{"WARM_IP_TARGET": "x"}}, "", 0, nil, "WARM_IP_TARGET"},
		{"source error", Cluster{NodeGroups: ngs}, &fakeCNI{err: errors.New("boom")}, "", 0, nil, "boom"},
		{"custom networking needs ENIConfigs", Cluster{}, &fakeCNI{env: map[string]string{cni.EnvCustomNetworkCfg: "true"}}, "", 0, nil, "ENIConfig subnets are unknown"},
		{"custom networking", Cluster{}, &fakeCNI{env: map[string]string{cni.EnvCustomNetworkCfg: "true"}, eniConfigs: map[string]string{"a": "subnet-1"}},
			"aws-node DaemonSet of blue", -1, nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := Clients{}
			if tc.fake != nil {
				c.CNIEnv, c.Census = tc.fake, tc.fake
			}
			p, err := prepare(context.Background(), c, Input{Cluster: tc.cluster, BlueCluster: "blue"})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			w := -1
			if p.settings.WarmIPTarget != nil {
				w = *p.settings.WarmIPTarget
			}
			if p.source != tc.wantSource || w != tc.wantW {
				t.Errorf("source %q WARM_IP_TARGET %d, want %q %d", p.source, w, tc.wantSource, tc.wantW)
			}
			if tc.wantPods != nil && !equalPods(p.pods, tc.wantPods) {
				t.Errorf("pods %+v, want %+v", p.pods, tc.wantPods)
			}
		})
	}
}

func equalPods(a, b []podsOf) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestAddonSettings(t *testing.T) {
	tests := []struct {
		values string
		ok     bool
		check  func(cni.Settings) bool
		err    string
	}{
		{`{"env": {"ENABLE_PREFIX_DELEGATION": "true", "WARM_PREFIX_TARGET": "2"}}`, true,
			func(s cni.Settings) bool { return s.PrefixDelegation() && s.EffectiveWarmPrefixTarget() == 2 }, ""},
		// YAML, with typed values; unset variables keep the add-on's defaults.
		{"env:\n  ENABLE_PREFIX_DELEGATION: true\n  MAX_ENI: 2\n", true,
			func(s cni.Settings) bool {
				return s.PrefixDelegation() && *s.MaxENI == 2 && s.EffectiveWarmPrefixTarget() == 1 && s.SubnetDiscovery
			}, ""},
		{`{"resources": {"requests": {"cpu": "25m"}}}`, false, nil, ""},
		{`{"env": {"WARM_ENI_TARGET": "-1"}}`, false, nil, "WARM_ENI_TARGET=-1"},
		{`{"env": [1, 2]}`, false, nil, "parsing"},
	}
	for _, tc := range tests {
		s, ok, err := AddonSettings(tc.values)
		switch {
		case tc.err != "":
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: err = %v, want %q", tc.values, err, tc.err)
			}
		case err != nil || ok != tc.ok || (tc.check != nil && !tc.check(s)):
			t.Errorf("%s: %+v ok=%t err=%v", tc.values, s, ok, err)
		}
	}
}

func TestFromConfig(t *testing.T) {
	const doc = `apiVersion: eksctl.io/v1alpha5
kind: ClusterConfig
metadata: {name: blue, region: eu-west-1, version: "1.32"}
vpc:
  id: vpc-1
  subnets:
    private:
      eu-west-1a: {id: subnet-a}
      b: {cidr: 10.0.1.0/24, az: eu-west-1b}
    public:
      eu-west-1a: {id: subnet-pa}
managedNodeGroups:
  - {name: defaults, privateNetworking: true}
  - {name: min-only, minSize: 3, maxSize: 5, instanceTypes: [m5.large, c5.xlarge], spot: true, subnets: [b], privateNetworking: true, maxPodsPerNode: 50}
nodeGroups:
  - {name: self, instanceType: t3.large, desiredCapacity: 4, availabilityZones: [eu-west-1a]}
addons:
  - {name: vpc-cni, configurationValues: '{"env":{"WARM_IP_TARGET":"3"}}'}
`
	cfg, err := clusters.Parse("c.yaml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	c, err := FromConfig(cfg, ConfigOptions{Name: "green", Version: "1.33", PodsPerNode: map[string]int{"self": 20}})
	if err != nil {
		t.Fatal(err)
	}
	if c.Name != "green" || c.Version != "1.33" || c.Region != "eu-west-1" || c.VPCID != "vpc-1" || c.CNISource != SourceAddon || *c.CNI.WarmIPTarget != 3 {
		t.Errorf("cluster %+v", c)
	}
	want := []NodeGroup{
		{Name: "self", InstanceTypes: []string{"t3.large"}, Desired: 4, Max: 4, PodsPerNode: 20, Subnets: []SubnetRef{{ID: "subnet-pa"}}},
		{Name: "defaults", Managed: true, InstanceTypes: []string{"m5.large"}, Desired: 2, Max: 2,
			Subnets: []SubnetRef{{ID: "subnet-a"}, {CIDR: "10.0.1.0/24"}}},
		{Name: "min-only", Managed: true, InstanceTypes: []string{"m5.large", "c5.xlarge"}, Spot: true, Desired: 3, Max: 5, MaxPodsOverride: 50,
			Subnets: []SubnetRef{{CIDR: "10.0.1.0/24"}}},
	}
	if len(c.NodeGroups) != len(want) {
		t.Fatalf("node groups %+v", c.NodeGroups)
	}
	for i, ng := range c.NodeGroups {
		if !equalNG(ng, want[i]) {
			t.Errorf("node group %d:\n got %+v\nwant %+v", i, ng, want[i])
		}
	}
	// Without controlPlaneSubnetIDs, every subnet of vpc.subnets.
	if got := c.ControlPlaneSubnets; len(got) != 3 || got[0].ID != "subnet-a" || got[1].CIDR != "10.0.1.0/24" || got[2].ID != "subnet-pa" {
		t.Errorf("control-plane subnets %+v", got)
	}

	sel := strings.Replace(doc, "{name: defaults, privateNetworking: true}", "{name: defaults, instanceSelector: {vCPUs: 2}}", 1)
	cfg, _ = clusters.Parse("c.yaml", []byte(sel))
	if _, err := FromConfig(cfg, ConfigOptions{}); err == nil || !strings.Contains(err.Error(), "instanceSelector") {
		t.Errorf("instanceSelector: err = %v", err)
	}
}

func equalNG(a, b NodeGroup) bool {
	if len(a.InstanceTypes) != len(b.InstanceTypes) || len(a.Subnets) != len(b.Subnets) {
		return false
	}
	for i := range a.InstanceTypes {
		if a.InstanceTypes[i] != b.InstanceTypes[i] {
			return false
		}
	}
	for i := range a.Subnets {
		if a.Subnets[i] != b.Subnets[i] {
			return false
		}
	}
	a.InstanceTypes, b.InstanceTypes, a.Subnets, b.Subnets = nil, nil, nil, nil
	return a.Name == b.Name && a.Managed == b.Managed && a.Spot == b.Spot && a.Desired == b.Desired && a.Max == b.Max &&
		a.PodsPerNode == b.PodsPerNode && a.MaxPodsOverride == b.MaxPodsOverride
}

// recorder is an xmlVisitor that writes events as text.
type recorder struct{ b strings.Builder }

func (r *recorder) open(path [][]byte) bool {
	r.b.WriteString("<" + string(bytes.Join(path, []byte("/"))) + " ")
	return bytes.Equal(path[len(path)-1], []byte("skip")) // skip <skip> elements
}
func (r *recorder) close(path [][]byte) { r.b.WriteString(">" + string(path[len(path)-1]) + " ") }
func (r *recorder) text(path [][]byte, t []byte) {
	r.b.WriteString(string(path[len(path)-1]) + "=" + string(t) + " ")
}

func TestScanXML(t *testing.T) {
	long := strings.Repeat("x", 3*scanBuffer)
	tests := []struct {
		doc, want, err string
	}{
		{`<?xml version="1.0" encoding="UTF-8"?>
<R xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
  <!-- a comment with <tags> and -- dashes -->
  <set><item><id>a&amp;b&#65;</id><empty/></item></set>
  <nextToken>t</nextToken>
</R>
`, "<R <R/set <R/set/item <R/set/item/id id=a&bA >id <R/set/item/empty >empty >item >set <R/nextToken nextToken=t >nextToken >R ", ""},
		{"<a><b>" + long + "</b></a>", "<a <a/b b=" + long + " >b >a ", ""},
		// Skipped elements: nothing inside is seen, not even malformed markup.
		{"<a><skip><x>1</x><y/><</skipper></skip><skip/><b>2</b><skip>" + long + "</skip ></a>", "<a <a/skip <a/skip <a/b b=2 >b <a/skip >a ", ""},
		{"<a><skip><x>", "", "<skip> is not closed"},
		{"<a><b>x</a>", "", "does not close"},
		{"<a><b>x</b>", "", "<a> is not closed"},
		{"<a><b", "", "truncated"},
		{"<a><></a>", "", "empty tag"},
	}
	for _, tc := range tests {
		var r recorder
		err := scanXML(strings.NewReader(tc.doc), &r)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%.40q: err = %v, want %q", tc.doc, err, tc.err)
			}
			continue
		}
		if err != nil || r.b.String() != tc.want {
			t.Errorf("%.40q: %v\n got %.200q\nwant %.200q", tc.doc, err, r.b.String(), tc.want)
		}
	}
}

// TestVisitors checks what the projector reads from EC2's response shapes.
func TestVisitors(t *testing.T) {
	const enis = `<DescribeNetworkInterfacesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
<requestId>r</requestId>
<networkInterfaceSet>
 <item><networkInterfaceId>eni-1</networkInterfaceId><subnetId>subnet-1</subnetId><vpcId>vpc-1</vpcId>
  <privateIpAddress>10.0.0.9</privateIpAddress>
  <association><publicIp>1.2.3.4</publicIp></association>
  <privateIpAddressesSet><item><privateIpAddress>10.0.0.9</privateIpAddress><primary>true</primary></item>
   <item><privateIpAddress>10.0.0.10</privateIpAddress></item></privateIpAddressesSet>
  <ipv4PrefixSet><item><ipv4Prefix>10.0.0.32/28</ipv4Prefix></item></ipv4PrefixSet>
  <tagSet/>
 </item>
 <item><subnetId>subnet-2</subnetId><vpcId>vpc-2</vpcId><privateIpAddressesSet><item><privateIpAddress>10.1.0.9</privateIpAddress></item></privateIpAddressesSet></item>
</networkInterfaceSet>
<nextToken>abc</nextToken>
</DescribeNetworkInterfacesResponse>`
	v := &eniVisitor{vpcs: map[string]bool{"vpc-1": true}, out: map[string]*eniAddrs{}}
	if err := scanXML(strings.NewReader(enis), v); err != nil {
		t.Fatal(err)
	}
	a := v.out["subnet-1"]
	if v.count != 2 || v.token != "abc" || len(v.out) != 1 || a == nil || len(a.ips) != 2 || a.ips[1] != u32("10.0.0.10") ||
		len(a.prefixes) != 1 || a.prefixes[0] != u32("10.0.0.32") {
		t.Errorf("eni visitor: count %d token %q out %+v", v.count, v.token, v.out)
	}

	const instances = `<DescribeInstancesResponse><reservationSet>
<item><instancesSet>
 <item><instanceType>m5.large</instanceType><networkInterfaceSet><item><instanceType>decoy</instanceType></item></networkInterfaceSet></item>
 <item><instanceType>m5.large</instanceType><instanceLifecycle>spot</instanceLifecycle></item>
</instancesSet></item>
<item><instancesSet><item><instanceType>p5.48xlarge</instanceType></item></instancesSet></item>
</reservationSet></DescribeInstancesResponse>`
	iv := &instanceVisitor{counts: map[instanceCount]int{}}
	if err := scanXML(strings.NewReader(instances), iv); err != nil {
		t.Fatal(err)
	}
	want := map[instanceCount]int{{"m5.large", false}: 1, {"m5.large", true}: 1, {"p5.48xlarge", false}: 1}
	if len(iv.counts) != len(want) || iv.token != "" {
		t.Errorf("instance visitor: %v %q", iv.counts, iv.token)
	}
	for k, n := range want {
		if iv.counts[k] != n {
			t.Errorf("instance visitor: %v, want %v", iv.counts, want)
		}
	}
}

// balance counts a scan's opens and closes.
type balance struct{ opens, closes, depth, maxDepth int }

func (b *balance) open(path [][]byte) bool {
	b.opens++
	b.depth = len(path)
	b.maxDepth = max(b.maxDepth, len(path))
	if bytes.Equal(path[len(path)-1], []byte("skip")) {
		b.closes++ // skipped: no close
		b.depth--
		return true
	}
	return false
}
func (b *balance) close(path [][]byte) {
	b.closes++
	if len(path) != b.depth {
		panic("close at another depth than the last open or close")
	}
	b.depth = len(path) - 1
}
func (b *balance) text([][]byte, []byte) {}

// FuzzScanXML checks that the scanner never panics and that a document it
// accepts closes every element it opens, innermost first.
func FuzzScanXML(f *testing.F) {
	f.Add(`<?xml version="1.0"?><R a="1"><s><i><x>1</x><y/></i></s><!-- c --></R>`)
	f.Add(`<a><b>x</a>`)
	f.Add(`<a><!--></a>`)
	f.Add(`<a>&amp;&#x41;</a>`)
	f.Fuzz(func(t *testing.T, doc string) {
		var b balance
		if err := scanXML(strings.NewReader(doc), &b); err != nil {
			return
		}
		if b.opens != b.closes {
			t.Fatalf("%d opens, %d closes", b.opens, b.closes)
		}
	})
}

func TestParseU32(t *testing.T) {
	for s, want := range map[string]uint32{
		"10.0.0.1": 10<<24 | 1, "255.255.255.255": 0xffffffff, "0.0.0.0": 0, "10.0.0.16/28": 10<<24 | 16, "192.168.1.0/0": 192<<24 | 168<<16 | 1<<8,
	} {
		if got, ok := parseU32(s); !ok || got != want {
			t.Errorf("parseU32(%q) = %d %t, want %d", s, got, ok, want)
		}
		if got, ok := parseU32([]byte(s)); !ok || got != want {
			t.Errorf("parseU32([]byte %q) = %d %t", s, got, ok)
		}
	}
	for _, s := range []string{"", "10.0.0", "10.0.0.1.2", "256.0.0.1", "10..0.1", "10.0.0.1/33", "10.0.0.1/", "01.0.0.1", "::1", "10.0.0.1 ", "a.b.c.d", "10.0.0.1/2x"} {
		if _, ok := parseU32(s); ok {
			t.Errorf("parseU32(%q) accepted", s)
		}
	}
}
