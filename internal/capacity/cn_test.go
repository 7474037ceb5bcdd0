package capacity

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/eksbg/eksbg/clusters"
	"github.com/eksbg/eksbg/internal/cni"
	"github.com/eksbg/eksbg/internal/sandbox/sandboxtest"
)

// TestCustomNetworkingSandbox checks custom networking against the sandbox,
// with the blue cluster's aws-node environment, ENIConfigs and pod census
// from a fake: each node takes 1 address in its subnet and its pod ENIs'
// addresses in the zone's ENIConfig subnet.
func TestCustomNetworkingSandbox(t *testing.T) {
	data, err := os.ReadFile("testdata/fits.yaml")
	if err != nil {
		t.Fatal(err)
	}
	env := sandboxtest.StartYAML(t, string(data))
	cfg, err := clusters.Load("testdata/green.eksctl.yaml")
	if err != nil {
		t.Fatal(err)
	}
	c, err := FromConfig(cfg, ConfigOptions{})
	if err != nil {
		t.Fatal(err)
	}
	fake := &fakeCNI{env: map[string]string{cni.EnvCustomNetworkCfg: "true"},
		eniConfigs: map[string]string{"us-east-1a": "subnet-0ca0000000000a003", "us-east-1b": "subnet-0ca0000000000b003", "us-east-1c": "subnet-0ca0000000000c001"},
		census:     map[string]PodCount{"general": {Pods: 13.4}}}
	clients := NewClients(env.AWS)
	clients.CNIEnv, clients.Census = fake, fake
	r, err := Check(context.Background(), clients, Input{Cluster: c, BlueCluster: "cap-blue"})
	if err != nil {
		t.Fatal(err)
	}
	// m5.large, custom networking, 14 pods: max pods (3-1)*9+2 = 20, k =
	// min(2, ceil(14/9)+1, ceil(20/9)) = 2 pod ENIs of 10 addresses; 3 nodes
	// per zone.
	if ng := r.NodeGroups[0]; ng.Pods != 14 || ng.PodsSource != SourceCensus || ng.MaxPods != 20 || ng.IPs != 21 {
		t.Errorf("node group %+v", ng)
	}
	if !strings.HasPrefix(r.CNISource, "aws-node DaemonSet of cap-blue") || !r.CNI.CustomNetworking {
		t.Errorf("CNI %q %+v", r.CNISource, r.CNI)
	}
	want := map[string]struct {
		roles  string
		demand int
	}{
		"subnet-0ca0000000000a001": {"nodes", 3},
		"subnet-0ca0000000000a002": {"control-plane", 11},
		"subnet-0ca0000000000a003": {"pods,elb", 60},
		"subnet-0ca0000000000b001": {"nodes", 3},
		"subnet-0ca0000000000b002": {"control-plane", 11},
		"subnet-0ca0000000000b003": {"pods,elb", 60},
		"subnet-0ca0000000000c001": {"nodes,pods", 63},
	}
	if len(r.Subnets) != len(want) {
		t.Errorf("%d subnets, want %d", len(r.Subnets), len(want))
	}
	for _, s := range r.Subnets {
		w := want[s.ID]
		if strings.Join(s.Roles, ",") != w.roles || s.DemandIPs != w.demand || s.Verdict != OK {
			t.Errorf("%s: roles %v demand %d %s, want %s %d OK", s.ID, s.Roles, s.DemandIPs, s.Verdict, w.roles, w.demand)
		}
	}
	for _, az := range r.AZs {
		if az.AZ == "us-east-1a" && (az.DemandIPs != 3+60+11 || az.SupplyIPs != 919+26+251) {
			t.Errorf("%+v", az)
		}
	}

	delete(fake.eniConfigs, "us-east-1c")
	if _, err := Check(context.Background(), clients, Input{Cluster: c, BlueCluster: "cap-blue"}); err == nil ||
		!strings.Contains(err.Error(), "no ENIConfig subnet for us-east-1c") {
		t.Errorf("missing ENIConfig: err = %v", err)
	}
}

// TestMixedInstanceTypes checks that a node group with several instance
// types is charged the type needing the most addresses, and the most vCPUs.
func TestMixedInstanceTypes(t *testing.T) {
	types := map[string]typeFacts{
		"m5.large":   {VCPUs: 2, MaxENIs: 3, IPv4PerENI: 10, Nitro: true},
		"m5.xlarge":  {VCPUs: 4, MaxENIs: 4, IPv4PerENI: 15, Nitro: true},
		"p3.2xlarge": {VCPUs: 8, MaxENIs: 4, IPv4PerENI: 15, Nitro: false},
	}
	v := &view{prepared: &prepared{settings: cni.DefaultSettings(), pods: []podsOf{{pods: 20, source: SourceNodeGroup}}},
		ngs: []ngView{{ng: NodeGroup{Name: "mixed", InstanceTypes: []string{"m5.xlarge", "m5.large", "p3.2xlarge"}}}}}
	if err := v.figure(types); err != nil {
		t.Fatal(err)
	}
	// 20 pods: m5.large k = min(3, 3+1, 4) = 3 -> 30; m5.xlarge (S = 14)
	// k = min(4, 2+1, 5) = 3 -> 45; p3.2xlarge likewise 45 but not Standard.
	if f := v.ngs[0].node; f.typ != "m5.xlarge" || f.ips() != 45 || f.vcpus != 8 || !f.standard {
		t.Errorf("figures %+v", f)
	}
	v.ngs[0].ng.InstanceTypes = []string{"x9.huge"}
	if err := v.figure(types); err == nil || !strings.Contains(err.Error(), "x9.huge is not offered") {
		t.Errorf("unknown type: %v", err)
	}
}
