package capacity_test

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/eksbg/eksbg/clusters"
	"github.com/eksbg/eksbg/internal/capacity"
	"github.com/eksbg/eksbg/internal/sandbox/sandboxtest"
)

// startScenario starts the emulator on a scenario of testdata/.
func startScenario(t *testing.T, file string) *sandboxtest.Env {
	t.Helper()
	data, err := os.ReadFile("testdata/" + file)
	if err != nil {
		t.Fatal(err)
	}
	return sandboxtest.StartYAML(t, string(data))
}

// greenInput reads a green cluster config of testdata/ with N pods per node
// for its node group "general".
func greenInput(t *testing.T, file string, pods int) capacity.Input {
	t.Helper()
	cfg, err := clusters.Load("testdata/" + file)
	if err != nil {
		t.Fatal(err)
	}
	c, err := capacity.FromConfig(cfg, capacity.ConfigOptions{PodsPerNode: map[string]int{"general": pods}})
	if err != nil {
		t.Fatal(err)
	}
	return capacity.Input{Name: file, Cluster: c}
}

type azWant struct {
	verdict                                capacity.Verdict
	supply, demand, atMax, free, demandPfx int
	remedy                                 string
}

type subnetWant struct {
	verdict capacity.Verdict
	remedy  string
}

// TestScenarios checks the report against the sandbox: a world that fits,
// one that fails on addresses in one zone only, one that fails only on /28
// fragmentation while AvailableIpAddressCount looks ample, and one that
// fails on the on-demand vCPU quota. Zones, subnets and quotas not listed
// must be OK.
func TestScenarios(t *testing.T) {
	// The green node group: 6 desired + 1 surge and max 9 m5.large over 3
	// zones, so 3 nodes per zone either way; 14 pods per node with
	// WARM_ENI_TARGET=1 take 3 ENIs and 30 addresses, 20 pods with prefix
	// delegation and WARM_PREFIX_TARGET=1 take 3 /28s and 49 addresses.
	// Each control-plane subnet adds 11.
	const (
		a, b, c        = "us-east-1a", "us-east-1b", "us-east-1c"
		nodesA, nodesB = "subnet-0ca0000000000a001", "subnet-0ca0000000000b001"
		nodesC         = "subnet-0ca0000000000c001"
	)
	tests := []struct {
		name, scenario, config string
		pods                   int
		verdict                capacity.Verdict
		azs                    map[string]azWant
		subnets                map[string]subnetWant
		quotas                 map[string]capacity.Verdict
		quotaRemedy            string
	}{
		{
			name: "fits", scenario: "fits.yaml", config: "green.eksctl.yaml", pods: 14, verdict: capacity.OK,
			azs: map[string]azWant{
				// 1019 - 40 reserved - 2 blue nodes x 30, plus the /27 control-plane subnet's 27 - 1 blue ENI
				a: {capacity.OK, 919 + 26, 90 + 11, 90 + 11, 56, 0, ""},
				b: {capacity.OK, 899 + 26, 90 + 11, 90 + 11, 55, 0, ""},
				c: {capacity.OK, 879, 90, 90, 54, 0, ""},
			},
		},
		{
			name: "one zone short", scenario: "oneaz.yaml", config: "green.eksctl.yaml", pods: 14, verdict: capacity.Fail,
			azs: map[string]azWant{
				a: {capacity.OK, 919 + 26, 101, 101, 56, 0, ""},
				// a /24: 251 - 120 reserved - 60 blue = 71, plus 26
				b: {capacity.Fail, 71 + 26, 101, 101, 3, 0, "short of 4 IPs: add a /27 (27 IPs) in us-east-1b to the node groups (docs/capacity.md#add-a-subnet)"},
				c: {capacity.OK, 879, 90, 90, 54, 0, ""},
			},
			subnets: map[string]subnetWant{
				nodesB: {capacity.Fail, "its share of green is 90 IPs, it has 71 free: add a subnet in us-east-1b"},
			},
		},
		{
			name: "fragmented", scenario: "fragmented.yaml", config: "green-pd.eksctl.yaml", pods: 20, verdict: capacity.Fail,
			azs: map[string]azWant{
				a: {capacity.Fail, 955 + 27, 147 + 11, 147 + 11, 0, 9, "prefix delegation needs 9 free /28s in us-east-1a, there are 0: add a subnet"},
				b: {capacity.Fail, 955 + 27, 147 + 11, 147 + 11, 0, 9, "prefix delegation needs 9 free /28s in us-east-1b, there are 0"},
				c: {capacity.OK, 955, 147, 147, 58, 9, ""},
			},
			subnets: map[string]subnetWant{
				nodesA: {capacity.Fail, "prefix delegation needs 9 free /28s in subnet-0ca0000000000a001, there are 0"},
				nodesB: {capacity.Fail, "needs 9 free /28s in subnet-0ca0000000000b001"},
			},
		},
		{
			name: "vCPU quota", scenario: "vcpu.yaml", config: "green.eksctl.yaml", pods: 14, verdict: capacity.Fail,
			azs: map[string]azWant{
				a: {capacity.OK, 945, 101, 101, 56, 0, ""},
				b: {capacity.OK, 925, 101, 101, 55, 0, ""},
				c: {capacity.OK, 879, 90, 90, 54, 0, ""},
			},
			// 12 vCPUs used + 7 x 2 green = 26 > 20; asks for 26 / 0.8
			quotas:      map[string]capacity.Verdict{"L-1216C47A": capacity.Fail},
			quotaRemedy: "aws service-quotas request-service-quota-increase --service-code ec2 --quota-code L-1216C47A --desired-value 33",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := startScenario(t, tc.scenario)
			r, err := capacity.Check(context.Background(), capacity.NewClients(env.AWS), greenInput(t, tc.config, tc.pods))
			if err != nil {
				t.Fatal(err)
			}
			if r.Verdict != tc.verdict {
				t.Errorf("verdict %s, want %s", r.Verdict, tc.verdict)
			}
			if len(r.AZs) != len(tc.azs) {
				t.Errorf("%d zones, want %d", len(r.AZs), len(tc.azs))
			}
			for _, az := range r.AZs {
				w := tc.azs[az.AZ]
				got := azWant{az.Verdict, az.SupplyIPs, az.DemandIPs, az.DemandIPsAtMax, az.FreePrefixes, az.DemandPrefixes, ""}
				if want := (azWant{w.verdict, w.supply, w.demand, w.atMax, w.free, w.demandPfx, ""}); got != want {
					t.Errorf("%s: got %+v, want %+v", az.AZ, got, want)
				}
				if (w.remedy == "") != (az.Remedy == "") || !strings.Contains(az.Remedy, w.remedy) {
					t.Errorf("%s remedy %q, want it to contain %q", az.AZ, az.Remedy, w.remedy)
				}
			}
			for _, s := range r.Subnets {
				w, ok := tc.subnets[s.ID]
				if !ok {
					w.verdict = capacity.OK
				}
				if s.Verdict != w.verdict || (w.remedy == "") != (s.Remedy == "") || !strings.Contains(s.Remedy, w.remedy) {
					t.Errorf("subnet %s: %s %q, want %s %q", s.ID, s.Verdict, s.Remedy, w.verdict, w.remedy)
				}
			}
			if len(r.Quotas) != 7 {
				t.Errorf("%d quotas, want 7 (all but rules per ALB, which needs listener rules)", len(r.Quotas))
			}
			for _, q := range r.Quotas {
				want, ok := tc.quotas[q.Code]
				if !ok {
					want = capacity.OK
				}
				if q.Verdict != want {
					t.Errorf("quota %s/%s: %s (%d + %d of %g), want %s", q.Service, q.Code, q.Verdict, q.Used, q.Demand, q.Limit, want)
				}
				if want != capacity.OK && !strings.Contains(q.Remedy, tc.quotaRemedy) {
					t.Errorf("quota %s remedy %q, want %q", q.Code, q.Remedy, tc.quotaRemedy)
				}
			}
		})
	}
}

// TestSubnetRoles checks the roles and the subnets listed: the node
// groups' and the control plane's, with their load balancer tags.
func TestSubnetRoles(t *testing.T) {
	env := startScenario(t, "fits.yaml")
	in := greenInput(t, "green.eksctl.yaml", 14)
	// Put the control plane in a load balancer subnet too.
	in.Cluster.ControlPlaneSubnets = append(in.Cluster.ControlPlaneSubnets, capacity.SubnetRef{ID: "subnet-0ca0000000000a003"})
	r, err := capacity.Check(context.Background(), capacity.NewClients(env.AWS), in)
	if err != nil {
		t.Fatal(err)
	}
	roles := map[string][]string{}
	for _, s := range r.Subnets {
		roles[s.ID] = s.Roles
	}
	want := map[string][]string{
		"subnet-0ca0000000000a001": {capacity.RoleNodes},
		"subnet-0ca0000000000b001": {capacity.RoleNodes},
		"subnet-0ca0000000000c001": {capacity.RoleNodes},
		"subnet-0ca0000000000a002": {capacity.RoleControlPlane},
		"subnet-0ca0000000000b002": {capacity.RoleControlPlane},
		"subnet-0ca0000000000a003": {capacity.RoleControlPlane, capacity.RoleELB},
	}
	if len(roles) != len(want) {
		t.Errorf("subnets %v, want %v", roles, want)
	}
	for id, w := range want {
		if !slices.Equal(roles[id], w) {
			t.Errorf("%s roles %v, want %v", id, roles[id], w)
		}
	}
}

// TestCIDRReservations checks the free /28 count against subnet CIDR
// reservations: an explicit reservation takes its blocks away, a prefix
// reservation keeps them for prefix delegation. Reservations are read for
// the prefix-delegation subnets only, one call each.
func TestCIDRReservations(t *testing.T) {
	env := startScenario(t, "fragmented.yaml")
	client := ec2.NewFromConfig(env.AWS)
	ctx := context.Background()
	for _, r := range []struct{ cidr, typ string }{{"10.30.8.128/26", "explicit"}, {"10.30.9.0/24", "prefix"}} {
		if _, err := client.CreateSubnetCidrReservation(ctx, &ec2.CreateSubnetCidrReservationInput{SubnetId: aws.String("subnet-0ca0000000000c001"),
			Cidr: aws.String(r.cidr), ReservationType: ec2types.SubnetCidrReservationType(r.typ)}); err != nil {
			t.Fatalf("reserving %s: %v", r.cidr, err)
		}
	}
	env.Server.ResetStats()
	r, err := capacity.Check(ctx, capacity.NewClients(env.AWS), greenInput(t, "green-pd.eksctl.yaml", 20))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range r.Subnets {
		if s.ID == "subnet-0ca0000000000c001" && s.FreePrefixes != 58-4 {
			t.Errorf("free /28s of %s = %d, want 54 (58 less the explicit /26)", s.ID, s.FreePrefixes)
		}
	}
	calls := 0
	for _, st := range env.Server.Stats() {
		if st.Operation == "GetSubnetCidrReservations" {
			calls = st.Calls
		}
	}
	if calls != 3 {
		t.Errorf("%d GetSubnetCidrReservations calls, want 3 (the node subnets)", calls)
	}

	// Secondary-IP mode reads none.
	env.Server.ResetStats()
	if _, err := capacity.Check(ctx, capacity.NewClients(env.AWS), greenInput(t, "green.eksctl.yaml", 20)); err != nil {
		t.Fatal(err)
	}
	for _, st := range env.Server.Stats() {
		if st.Operation == "GetSubnetCidrReservations" {
			t.Errorf("secondary-IP mode read CIDR reservations %d times", st.Calls)
		}
	}
}
