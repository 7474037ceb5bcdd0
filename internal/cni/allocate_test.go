package cni

import (
	"slices"
	"strconv"
	"strings"
	"testing"
)

// Instance shapes from the VPC CNI's pkg/vpc/vpc_ip_resource_limit.go
// (ENILimit and IPv4Limit on network card 0, hypervisor) and EC2 vCPU counts.
var (
	a1Medium     = InstanceShape{Name: "a1.medium", VCPUs: 1, MaxENIs: 2, IPv4PerENI: 4, Nitro: true}
	c5Large      = InstanceShape{Name: "c5.large", VCPUs: 2, MaxENIs: 3, IPv4PerENI: 10, Nitro: true}
	c54xlarge    = InstanceShape{Name: "c5.4xlarge", VCPUs: 16, MaxENIs: 8, IPv4PerENI: 30, Nitro: true}
	c59xlarge    = InstanceShape{Name: "c5.9xlarge", VCPUs: 36, MaxENIs: 8, IPv4PerENI: 30, Nitro: true}
	c518xlarge   = InstanceShape{Name: "c5.18xlarge", VCPUs: 72, MaxENIs: 15, IPv4PerENI: 50, Nitro: true}
	m4Large      = InstanceShape{Name: "m4.large", VCPUs: 2, MaxENIs: 2, IPv4PerENI: 10, Nitro: false}
	m5Large      = InstanceShape{Name: "m5.large", VCPUs: 2, MaxENIs: 3, IPv4PerENI: 10, Nitro: true}
	m5Xlarge     = InstanceShape{Name: "m5.xlarge", VCPUs: 4, MaxENIs: 4, IPv4PerENI: 15, Nitro: true}
	m52xlarge    = InstanceShape{Name: "m5.2xlarge", VCPUs: 8, MaxENIs: 4, IPv4PerENI: 15, Nitro: true}
	m54xlarge    = InstanceShape{Name: "m5.4xlarge", VCPUs: 16, MaxENIs: 8, IPv4PerENI: 30, Nitro: true}
	m524xlarge   = InstanceShape{Name: "m5.24xlarge", VCPUs: 96, MaxENIs: 15, IPv4PerENI: 50, Nitro: true}
	p3dn24xlarge = InstanceShape{Name: "p3dn.24xlarge", VCPUs: 96, MaxENIs: 15, IPv4PerENI: 50, Nitro: true}
	p548xlarge   = InstanceShape{Name: "p5.48xlarge", VCPUs: 192, MaxENIs: 2, IPv4PerENI: 50, Nitro: true}
	r5Large      = InstanceShape{Name: "r5.large", VCPUs: 2, MaxENIs: 3, IPv4PerENI: 10, Nitro: true}
	t2Micro      = InstanceShape{Name: "t2.micro", VCPUs: 1, MaxENIs: 2, IPv4PerENI: 2, Nitro: false}
	t3Nano       = InstanceShape{Name: "t3.nano", VCPUs: 2, MaxENIs: 2, IPv4PerENI: 2, Nitro: true}
	t3Small      = InstanceShape{Name: "t3.small", VCPUs: 2, MaxENIs: 3, IPv4PerENI: 4, Nitro: true}
	t3Medium     = InstanceShape{Name: "t3.medium", VCPUs: 2, MaxENIs: 3, IPv4PerENI: 6, Nitro: true}
	t3Large      = InstanceShape{Name: "t3.large", VCPUs: 2, MaxENIs: 3, IPv4PerENI: 12, Nitro: true}
	t3Xlarge     = InstanceShape{Name: "t3.xlarge", VCPUs: 4, MaxENIs: 4, IPv4PerENI: 15, Nitro: true}
)

// settings builders; -1 means "unset" (nil).
func opt(v int) *int {
	if v < 0 {
		return nil
	}
	return Ptr(v)
}

func secondaryIP(warmENI, warmIP, minIP int) Settings {
	return Settings{Mode: ModeSecondaryIP, WarmENITarget: opt(warmENI), WarmIPTarget: opt(warmIP), MinimumIPTarget: opt(minIP), SubnetDiscovery: true}
}

func prefixDelegation(warmPrefix, warmIP, minIP int) Settings {
	return Settings{Mode: ModePrefixDelegation, WarmPrefixTarget: opt(warmPrefix), WarmIPTarget: opt(warmIP), MinimumIPTarget: opt(minIP), SubnetDiscovery: true}
}

// perENI returns the secondary-IP (or prefix) count of each pod ENI.
func perENI(a Allocation, prefixes bool) []int {
	var out []int
	for _, e := range a.ENIs {
		if e.Role != RolePrimary && e.Role != RoleSecondary {
			continue
		}
		if !e.InPodSubnet && a.customNetworking() {
			continue
		}
		if prefixes {
			out = append(out, e.Prefixes)
		} else {
			out = append(out, e.IPs-1)
		}
	}
	return out
}

func mustAllocate(t *testing.T, n Node, s Settings) Allocation {
	t.Helper()
	a, err := Allocate(n, s)
	if err != nil {
		t.Fatalf("Allocate(%+v, %+v): %v", n, s, err)
	}
	checkInvariants(t, n, s, a)
	return a
}

// TestM5Large is the acceptance example from the project spec: an m5.large
// (3 ENIs, 10 IPv4 per ENI, 2 vCPUs) with 20 pods.
func TestM5Large(t *testing.T) {
	n := Node{Shape: m5Large, Pods: 20}

	// WARM_ENI_TARGET=1: 3 ENIs, 30 IPs.
	a := mustAllocate(t, n, secondaryIP(1, -1, -1))
	if a.PodENIs() != 3 || a.NodeSubnetIPs != 30 || a.PodSubnetIPs != 0 {
		t.Errorf("W=1: got %d ENIs, %d node IPs, %d pod IPs; want 3, 30, 0", a.PodENIs(), a.NodeSubnetIPs, a.PodSubnetIPs)
	}
	// Defaults (WARM_ENI_TARGET unset) are the same.
	if b := mustAllocate(t, n, Settings{}); b.NodeSubnetIPs != 30 {
		t.Errorf("zero Settings: got %d IPs, want 30", b.NodeSubnetIPs)
	}
	if b := mustAllocate(t, n, DefaultSettings()); b.NodeSubnetIPs != 30 {
		t.Errorf("DefaultSettings: got %d IPs, want 30", b.NodeSubnetIPs)
	}

	// WARM_IP_TARGET=2: T = 22 secondaries on 3 ENIs, 25 IPs.
	a = mustAllocate(t, n, secondaryIP(-1, 2, -1))
	if a.NodeSubnetIPs != 25 || a.PodENIs() != 3 || !slices.Equal(perENI(a, false), []int{9, 9, 4}) {
		t.Errorf("WARM_IP_TARGET=2: got %d IPs on %v; want 25 on [9 9 4]", a.NodeSubnetIPs, perENI(a, false))
	}

	// Prefix delegation, WARM_PREFIX_TARGET=1: 3 prefixes on 1 ENI, 49 IPs.
	a = mustAllocate(t, n, prefixDelegation(1, -1, -1))
	if a.NodeSubnetIPs != 49 || a.Prefixes != 3 || a.PodENIs() != 1 || a.Blocks28(false) != 3 {
		t.Errorf("PD p=1: got %d IPs, %d prefixes, %d ENIs, %d blocks; want 49, 3, 1, 3",
			a.NodeSubnetIPs, a.Prefixes, a.PodENIs(), a.Blocks28(false))
	}
	if a.MaxPods != 110 {
		t.Errorf("PD max pods = %d, want 110", a.MaxPods)
	}
}

// TestENIAndIPTargetDoc encodes every example of
// https://github.com/aws/amazon-vpc-cni-k8s/blob/master/docs/eni-and-ip-target.md
// ("Some example cases"). Columns: Attached ENIs, Attached Secondary IPs,
// Unused IPs, IPs per ENI (secondary IPs per ENI). "-" in the doc is unset.
//
// Discrepancy: for t3.small, WARM_IP_TARGET=2, MINIMUM_IP_TARGET=5, 0 pods,
// the doc shows the 5 secondary IPs as "2,3" per ENI; the model fills ENI by
// ENI, giving 3,2. Totals agree.
func TestENIAndIPTargetDoc(t *testing.T) {
	tests := []struct {
		shape                   InstanceShape
		warmENI, warmIP, minIP  int
		pods                    int
		enis, secondaries, warm int
		perENI                  []int
	}{
		{t3Small, 1, -1, -1, 0, 1, 3, 3, []int{3}},
		{t3Small, 1, -1, -1, 5, 3, 9, 4, []int{3, 3, 3}},
		{t3Small, 1, -1, -1, 9, 3, 9, 0, []int{3, 3, 3}},

		{t3Small, -1, 1, 1, 0, 1, 1, 1, []int{1}},
		{t3Small, -1, 1, 1, 5, 2, 6, 1, []int{3, 3}},
		{t3Small, -1, 1, 1, 9, 3, 9, 0, []int{3, 3, 3}},

		{t3Small, -1, 2, 5, 0, 2, 5, 5, []int{3, 2}}, // doc: 2,3 (see above)
		{t3Small, -1, 2, 5, 5, 3, 7, 2, []int{3, 3, 1}},
		{t3Small, -1, 2, 5, 9, 3, 9, 0, []int{3, 3, 3}},

		{p3dn24xlarge, 1, -1, -1, 0, 1, 49, 49, []int{49}},
		{p3dn24xlarge, 1, -1, -1, 3, 2, 98, 95, []int{49, 49}},
		{p3dn24xlarge, 1, -1, -1, 95, 3, 147, 52, []int{49, 49, 49}},

		{p3dn24xlarge, -1, 5, 10, 0, 1, 10, 10, []int{10}},
		{p3dn24xlarge, -1, 5, 10, 7, 1, 12, 5, []int{12}},
		{p3dn24xlarge, -1, 5, 10, 15, 1, 20, 5, []int{20}},
		{p3dn24xlarge, -1, 5, 10, 45, 2, 50, 5, []int{49, 1}},
	}
	for _, tc := range tests {
		name := tc.shape.Name + "/W=" + show(tc.warmENI) + "/w=" + show(tc.warmIP) + "/m=" + show(tc.minIP) + "/N=" + itoa(tc.pods)
		t.Run(name, func(t *testing.T) {
			a := mustAllocate(t, Node{Shape: tc.shape, Pods: tc.pods}, secondaryIP(tc.warmENI, tc.warmIP, tc.minIP))
			if got := a.PodENIs(); got != tc.enis {
				t.Errorf("ENIs = %d, want %d", got, tc.enis)
			}
			if got := a.SecondaryIPs(); got != tc.secondaries {
				t.Errorf("secondary IPs = %d, want %d", got, tc.secondaries)
			}
			if a.WarmIPs != tc.warm {
				t.Errorf("unused IPs = %d, want %d", a.WarmIPs, tc.warm)
			}
			if got := perENI(a, false); !slices.Equal(got, tc.perENI) {
				t.Errorf("IPs per ENI = %v, want %v", got, tc.perENI)
			}
			// Subnet IPs = secondaries + one primary per ENI.
			if want := tc.secondaries + tc.enis; a.NodeSubnetIPs != want {
				t.Errorf("subnet IPs = %d, want %d", a.NodeSubnetIPs, want)
			}
		})
	}
}

// TestPrefixAndIPTargetDoc encodes every example of
// https://github.com/aws/amazon-vpc-cni-k8s/blob/master/docs/prefix-and-ip-target.md
// ("Examples"). Columns: ENIs, Attached Prefixes, Unused Prefixes, Prefixes
// per ENI, Unused IPs. The doc's "Pod per ENIs"/"Pod per Prefixes" describe
// pod placement, which the model does not track.
//
// Discrepancies (the project's model wins):
//   - t3.small, WARM_IP_TARGET=7, MINIMUM_IP_TARGET=20, 0 pods: the doc's row
//     is self-contradictory: "Attached Prefixes 1", "Unused Prefixes 1" and
//     "Unused IPs 16", but "Prefixes per ENI 2" and "Pod per Prefixes 0,0".
//     The model gives P = max(ceil(7/16), ceil(20/16)) = 2, so 2 prefixes,
//     2 unused prefixes, 32 unused IPs (consistent with the doc's note that a
//     MINIMUM_IP_TARGET of 20 is equivalent to 32).
//   - p3dn.24xlarge: the doc shows extra empty ENIs (3 pods, p=1: 2 ENIs
//     "2,0"; 95 pods, p=1: 3 ENIs "7,0,0"; 45 pods, w=5, m=10: 2 ENIs "4,0").
//     The model gives k = max(1, ceil(P/S)) = 1 ENI with S = 49 prefix slots.
func TestPrefixAndIPTargetDoc(t *testing.T) {
	tests := []struct {
		shape                      InstanceShape
		warmPrefix, warmIP, minIP  int
		pods                       int
		enis, prefixes, freePrefix int
		perENI                     []int
		unusedIPs                  int
		docENIs                    int // when the doc differs from the model
	}{
		{t3Small, 1, -1, -1, 0, 1, 1, 1, []int{1}, 16, 0},
		{t3Small, 1, -1, -1, 5, 1, 2, 1, []int{2}, 27, 0},
		{t3Small, 1, -1, -1, 16, 1, 2, 1, []int{2}, 16, 0},
		{t3Small, 1, -1, -1, 17, 1, 3, 1, []int{3}, 31, 0},
		{t3Small, 1, -1, -1, 58, 2, 5, 1, []int{3, 2}, 22, 0},

		{t3Small, -1, 1, 1, 0, 1, 1, 1, []int{1}, 16, 0},
		{t3Small, -1, 1, 1, 5, 1, 1, 0, []int{1}, 11, 0},
		{t3Small, -1, 1, 1, 17, 1, 2, 0, []int{2}, 15, 0},
		{t3Small, -1, 1, 1, 58, 2, 4, 0, []int{3, 1}, 6, 0},

		{t3Small, -1, 7, 20, 0, 1, 2, 2, []int{2}, 32, 0}, // doc: 1 prefix, 1 unused, 16 unused IPs (see above)
		{t3Small, -1, 7, 20, 5, 1, 2, 1, []int{2}, 27, 0},
		{t3Small, -1, 7, 20, 17, 1, 2, 0, []int{2}, 15, 0},
		{t3Small, -1, 7, 20, 58, 2, 5, 1, []int{3, 2}, 22, 0},

		{p3dn24xlarge, 1, -1, -1, 0, 1, 1, 1, []int{1}, 16, 0},
		{p3dn24xlarge, 1, -1, -1, 3, 1, 2, 1, []int{2}, 29, 2},  // doc: 2 ENIs "2,0"
		{p3dn24xlarge, 1, -1, -1, 95, 1, 7, 1, []int{7}, 17, 3}, // doc: 3 ENIs "7,0,0"

		{p3dn24xlarge, -1, 5, 10, 0, 1, 1, 1, []int{1}, 16, 0},
		{p3dn24xlarge, -1, 5, 10, 7, 1, 1, 0, []int{1}, 9, 0},
		{p3dn24xlarge, -1, 5, 10, 15, 1, 2, 1, []int{2}, 17, 0},
		{p3dn24xlarge, -1, 5, 10, 45, 1, 4, 1, []int{4}, 19, 2}, // doc: 2 ENIs "4,0"
	}
	for _, tc := range tests {
		name := tc.shape.Name + "/p=" + show(tc.warmPrefix) + "/w=" + show(tc.warmIP) + "/m=" + show(tc.minIP) + "/N=" + itoa(tc.pods)
		t.Run(name, func(t *testing.T) {
			a := mustAllocate(t, Node{Shape: tc.shape, Pods: tc.pods}, prefixDelegation(tc.warmPrefix, tc.warmIP, tc.minIP))
			if got := a.PodENIs(); got != tc.enis {
				t.Errorf("ENIs = %d, want %d", got, tc.enis)
			}
			if a.Prefixes != tc.prefixes {
				t.Errorf("prefixes = %d, want %d", a.Prefixes, tc.prefixes)
			}
			if got := a.Prefixes - ceilDiv(a.Pods, IPsPerPrefix); got != tc.freePrefix {
				t.Errorf("unused prefixes = %d, want %d", got, tc.freePrefix)
			}
			if got := perENI(a, true); !slices.Equal(got, tc.perENI) {
				t.Errorf("prefixes per ENI = %v, want %v", got, tc.perENI)
			}
			if a.WarmIPs != tc.unusedIPs {
				t.Errorf("unused IPs = %d, want %d", a.WarmIPs, tc.unusedIPs)
			}
			if want := IPsPerPrefix*tc.prefixes + tc.enis; a.NodeSubnetIPs != want {
				t.Errorf("subnet IPs = %d, want 16*P+k = %d", a.NodeSubnetIPs, want)
			}
			if a.Blocks28(false) != tc.prefixes {
				t.Errorf("/28 blocks = %d, want %d", a.Blocks28(false), tc.prefixes)
			}
		})
	}
}

// TestMaxPods checks MaxPods against
// https://github.com/aws/amazon-vpc-cni-k8s/blob/master/misc/eni-max-pods.txt
// (secondary-IP mode) and AWS's max-pods-calculator
// (https://github.com/awslabs/amazon-eks-ami/blob/main/templates/al2/runtime/max-pods-calculator.sh)
// for prefix delegation and custom networking.
func TestMaxPods(t *testing.T) {
	pd := Settings{Mode: ModePrefixDelegation}
	cn := Settings{CustomNetworking: true}
	pdcn := Settings{Mode: ModePrefixDelegation, CustomNetworking: true}
	tests := []struct {
		shape    InstanceShape
		s        Settings
		override int
		want     int
	}{
		// eni-max-pods.txt
		{a1Medium, Settings{}, 0, 8},
		{c5Large, Settings{}, 0, 29},
		{c54xlarge, Settings{}, 0, 234},
		{c59xlarge, Settings{}, 0, 234},
		{c518xlarge, Settings{}, 0, 737},
		{m4Large, Settings{}, 0, 20},
		{m5Large, Settings{}, 0, 29},
		{m5Xlarge, Settings{}, 0, 58},
		{m52xlarge, Settings{}, 0, 58},
		{m54xlarge, Settings{}, 0, 234},
		{m524xlarge, Settings{}, 0, 737},
		{p3dn24xlarge, Settings{}, 0, 737},
		{p548xlarge, Settings{}, 0, 100},
		{r5Large, Settings{}, 0, 29},
		{t2Micro, Settings{}, 0, 4},
		{t3Nano, Settings{}, 0, 4},
		{t3Small, Settings{}, 0, 11},
		{t3Medium, Settings{}, 0, 17},
		{t3Large, Settings{}, 0, 35},
		{t3Xlarge, Settings{}, 0, 58},

		// Prefix delegation: E*S*16+2 capped at 110, or 250 above 30 vCPUs.
		{m5Large, pd, 0, 110},    // 434 -> 110
		{t3Medium, pd, 0, 110},   // 242 -> 110
		{c54xlarge, pd, 0, 110},  // 16 vCPUs
		{c59xlarge, pd, 0, 250},  // 36 vCPUs, 3482 -> 250
		{c518xlarge, pd, 0, 250}, // 737 in secondary-IP mode
		{p548xlarge, pd, 0, 250}, // 1570 -> 250
		{t3Nano, pd, 0, 34},      // 2*1*16+2, below the ceiling
		{m4Large, pd, 0, 20},     // not Nitro: secondary-IP formula
		{t2Micro, pd, 0, 4},      // not Nitro
		{t3Small, DefaultSettings(), 0, 11},

		// Custom networking: (Elimit-1)*S+2.
		{m5Large, cn, 0, 20},
		{t3Medium, cn, 0, 12},
		{m5Xlarge, cn, 0, 44},
		{c518xlarge, cn, 0, 688},
		{t3Nano, cn, 0, 3},
		{m5Large, pdcn, 0, 110}, // 2*9*16+2 = 290 -> 110
		{t3Nano, pdcn, 0, 18},   // 1*1*16+2

		// MAX_ENI lowers E (the calculator's --cni-max-eni).
		{m5Large, Settings{MaxENI: Ptr(2)}, 0, 20},
		{m5Large, Settings{MaxENI: Ptr(5)}, 0, 29},
		{m5Large, Settings{MaxENI: Ptr(0)}, 0, 29},
		{m5Large, Settings{MaxENI: Ptr(2), CustomNetworking: true}, 0, 11},

		// Security groups for pods do not change max pods.
		{m5Large, Settings{PodENI: true}, 0, 29},

		// maxPodsPerNode overrides everything.
		{m5Large, Settings{}, 50, 50},
		{m5Large, pd, 17, 17},
		{InstanceShape{Name: "bogus"}, Settings{}, 10, 10},

		// Invalid shapes.
		{InstanceShape{Name: "bogus"}, Settings{}, 0, 0},
		{InstanceShape{Name: "one-ip", MaxENIs: 3, IPv4PerENI: 1}, Settings{}, 0, 0},
	}
	for _, tc := range tests {
		if got := MaxPods(tc.shape, tc.s, tc.override); got != tc.want {
			t.Errorf("MaxPods(%s, mode=%q cn=%t maxENI=%v, override=%d) = %d, want %d",
				tc.shape.Name, tc.s.Mode, tc.s.CustomNetworking, tc.s.MaxENI, tc.override, got, tc.want)
		}
	}
}

// TestCustomNetworking checks that with custom networking the node subnet
// holds only the primary ENI's primary IP and every pod address goes to the
// ENIConfig subnet
// (https://docs.aws.amazon.com/eks/latest/userguide/cni-custom-network.html).
func TestCustomNetworking(t *testing.T) {
	// m5.large, W=1, 10 pods: E = 2, MP = 20, k = min(2, 2+1, 3) = 2.
	s := secondaryIP(1, -1, -1)
	s.CustomNetworking = true
	a := mustAllocate(t, Node{Shape: m5Large, Pods: 10}, s)
	if a.NodeSubnetIPs != 1 || a.PodSubnetIPs != 20 || a.PodENIs() != 2 || a.AttachedENIs() != 3 || a.MaxPods != 20 {
		t.Errorf("CN W=1: node %d pod %d podENIs %d attached %d maxPods %d; want 1 20 2 3 20",
			a.NodeSubnetIPs, a.PodSubnetIPs, a.PodENIs(), a.AttachedENIs(), a.MaxPods)
	}
	if a.ENIs[0] != (ENI{Role: RolePrimary, IPs: 1}) {
		t.Errorf("primary ENI = %+v", a.ENIs[0])
	}
	// 20 pods: clamped to max pods 20, but the 2 pod ENIs hold only 18.
	a = mustAllocate(t, Node{Shape: m5Large, Pods: 25}, s)
	if a.Pods != 20 || a.PodsWithoutIP != 2 || a.PodSubnetIPs != 20 {
		t.Errorf("CN 25 pods: Pods %d without IP %d pod IPs %d; want 20 2 20", a.Pods, a.PodsWithoutIP, a.PodSubnetIPs)
	}

	// WARM_IP_TARGET=2 with 10 pods: T = 12, k = 2 -> 14 pod-subnet IPs.
	s = secondaryIP(-1, 2, -1)
	s.CustomNetworking = true
	a = mustAllocate(t, Node{Shape: m5Large, Pods: 10}, s)
	if a.NodeSubnetIPs != 1 || a.PodSubnetIPs != 14 {
		t.Errorf("CN w=2: node %d pod %d; want 1 14", a.NodeSubnetIPs, a.PodSubnetIPs)
	}

	// Prefix delegation, p=1, 20 pods: P = 3 on one ENI in the pod subnet.
	s = prefixDelegation(1, -1, -1)
	s.CustomNetworking = true
	a = mustAllocate(t, Node{Shape: m5Large, Pods: 20}, s)
	if a.NodeSubnetIPs != 1 || a.PodSubnetIPs != 49 || a.Blocks28(true) != 3 || a.Blocks28(false) != 0 {
		t.Errorf("CN PD: node %d pod %d blocks %d/%d; want 1 49 3/0", a.NodeSubnetIPs, a.PodSubnetIPs, a.Blocks28(true), a.Blocks28(false))
	}

	// An instance with a single ENI has nothing left for pods.
	if _, err := Allocate(Node{Shape: InstanceShape{Name: "one", MaxENIs: 1, IPv4PerENI: 4, Nitro: true}}, Settings{CustomNetworking: true}); err == nil {
		t.Error("custom networking on a 1-ENI instance: want error")
	}
}

// TestSecurityGroupsForPods checks the trunk ENI (one ENI slot, one IP) and
// one branch IP per branch pod
// (https://docs.aws.amazon.com/eks/latest/userguide/security-groups-for-pods.html).
func TestSecurityGroupsForPods(t *testing.T) {
	s := DefaultSettings()
	s.PodENI = true

	// m5.large, 10 pods, 5 branch pods: the trunk leaves ipamd 2 ENIs.
	a := mustAllocate(t, Node{Shape: m5Large, Pods: 10, BranchPods: 5}, s)
	if a.UsableENIs != 2 || a.PodENIs() != 2 || a.AttachedENIs() != 3 || a.count(RoleBranch) != 5 || a.count(RoleTrunk) != 1 {
		t.Errorf("SGP: usable %d podENIs %d attached %d branches %d trunks %d; want 2 2 3 5 1",
			a.UsableENIs, a.PodENIs(), a.AttachedENIs(), a.count(RoleBranch), a.count(RoleTrunk))
	}
	if want := 20 + 1 + 5; a.NodeSubnetIPs != want {
		t.Errorf("SGP: node subnet IPs %d, want %d", a.NodeSubnetIPs, want)
	}
	// The trunk is attached (and its IP used) even with no branch pods.
	if a := mustAllocate(t, Node{Shape: m5Large, Pods: 0}, s); a.NodeSubnetIPs != 10+1 {
		t.Errorf("SGP, idle node: %d IPs, want 11", a.NodeSubnetIPs)
	}
	// Branch pods are clamped to max pods minus the other pods.
	a = mustAllocate(t, Node{Shape: m5Large, Pods: 25, BranchPods: 10}, s)
	if a.Pods != 25 || a.BranchPods != 4 || a.PodsWithoutIP != 7 {
		t.Errorf("SGP clamp: pods %d branch %d without IP %d; want 25 4 7", a.Pods, a.BranchPods, a.PodsWithoutIP)
	}

	// With custom networking, trunk and branches live in the ENIConfig subnet.
	s.CustomNetworking = true
	a = mustAllocate(t, Node{Shape: m5Large, Pods: 5, BranchPods: 3}, s)
	if a.NodeSubnetIPs != 1 || a.PodSubnetIPs != 10+1+3 || a.UsableENIs != 1 {
		t.Errorf("SGP+CN: node %d pod %d usable %d; want 1 14 1", a.NodeSubnetIPs, a.PodSubnetIPs, a.UsableENIs)
	}
	// ...and on a 2-ENI instance nothing is left for pods.
	if _, err := Allocate(Node{Shape: a1Medium, Pods: 1}, s); err == nil {
		t.Error("SGP+CN on a 2-ENI instance: want error")
	}

	// Errors: branch pods without ENABLE_POD_ENI, on non-Nitro, or with no
	// slot for a trunk.
	for _, tc := range []struct {
		n    Node
		s    Settings
		want string
	}{
		{Node{Shape: m5Large, BranchPods: 1}, DefaultSettings(), "ENABLE_POD_ENI"},
		{Node{Shape: m4Large, BranchPods: 1}, Settings{PodENI: true}, "Nitro"},
		{Node{Shape: InstanceShape{Name: "one", MaxENIs: 1, IPv4PerENI: 4, Nitro: true}, BranchPods: 1}, Settings{PodENI: true}, "trunk"},
	} {
		if _, err := Allocate(tc.n, tc.s); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Allocate(%+v): err = %v, want one mentioning %q", tc.n, err, tc.want)
		}
	}
	// ENABLE_POD_ENI on a non-Nitro instance without branch pods: no trunk.
	a = mustAllocate(t, Node{Shape: m4Large, Pods: 3}, Settings{PodENI: true})
	if a.count(RoleTrunk) != 0 || a.UsableENIs != 2 {
		t.Errorf("non-Nitro SGP: trunks %d usable %d; want 0 2", a.count(RoleTrunk), a.UsableENIs)
	}
}

// TestWarmTargets covers edge cases of the warm targets documented in
// https://github.com/aws/amazon-vpc-cni-k8s/blob/master/README.md.
func TestWarmTargets(t *testing.T) {
	tests := []struct {
		name  string
		n     Node
		s     Settings
		enis  int
		ips   int
		pfx   int
		pods  int
		noIPs int
	}{
		// WARM_ENI_TARGET=0: only as many ENIs as the pods need, at least 1.
		{"W=0/N=0", Node{Shape: m5Large}, secondaryIP(0, -1, -1), 1, 10, 0, 0, 0},
		{"W=0/N=9", Node{Shape: m5Large, Pods: 9}, secondaryIP(0, -1, -1), 1, 10, 0, 9, 0},
		{"W=0/N=10", Node{Shape: m5Large, Pods: 10}, secondaryIP(0, -1, -1), 2, 20, 0, 10, 0},
		{"W=2/N=0", Node{Shape: m5Large}, secondaryIP(2, -1, -1), 2, 20, 0, 0, 0},
		// WARM_ENI_TARGET capped by E and by ceil(MP/S).
		{"W=10/N=0", Node{Shape: m5Large}, secondaryIP(10, -1, -1), 3, 30, 0, 0, 0},
		{"W=1/override=9", Node{Shape: m5Large, MaxPodsOverride: 9}, secondaryIP(1, -1, -1), 1, 10, 0, 0, 0},
		// Pods above max pods are clamped; the node still only has 27 IPs.
		{"W=1/N=100", Node{Shape: m5Large, Pods: 100}, secondaryIP(1, -1, -1), 3, 30, 0, 29, 2},
		// WARM_IP_TARGET=0 / MINIMUM_IP_TARGET=0 are "unset" (ipamd), so the
		// WARM_ENI_TARGET default applies.
		{"w=0,m=0", Node{Shape: m5Large, Pods: 20}, secondaryIP(-1, 0, 0), 3, 30, 0, 20, 0},
		// MINIMUM_IP_TARGET alone.
		{"m=12/N=3", Node{Shape: m5Large, Pods: 3}, secondaryIP(-1, -1, 12), 2, 14, 0, 3, 0},
		// T is capped at E*S.
		{"w=100/N=20", Node{Shape: m5Large, Pods: 20}, secondaryIP(-1, 100, -1), 3, 30, 0, 20, 0},
		// MAX_ENI caps ENIs and max pods.
		{"MAX_ENI=1", Node{Shape: m5Large, Pods: 20}, Settings{MaxENI: Ptr(1)}, 1, 10, 0, 11, 2},

		// Prefix delegation, WARM_PREFIX_TARGET unset counts as 0.
		{"PD p=unset/N=0", Node{Shape: m5Large}, prefixDelegation(-1, -1, -1), 1, 1, 0, 0, 0},
		{"PD p=unset/N=1", Node{Shape: m5Large, Pods: 1}, prefixDelegation(-1, -1, -1), 1, 17, 1, 1, 0},
		{"PD p=0/N=33", Node{Shape: m5Large, Pods: 33}, prefixDelegation(0, -1, -1), 1, 49, 3, 33, 0},
		// P capped at ceil(MP/16) = 7.
		{"PD p=5/N=100", Node{Shape: m5Large, Pods: 100}, prefixDelegation(5, -1, -1), 1, 113, 7, 100, 0},
		// 10 prefixes need a second ENI (S = 9).
		{"PD p=10 override=200", Node{Shape: m5Large, MaxPodsOverride: 200}, prefixDelegation(10, -1, -1), 2, 162, 10, 0, 0},
		// w/m override p.
		{"PD w=2,p=3/N=20", Node{Shape: m5Large, Pods: 20}, prefixDelegation(3, 2, -1), 1, 33, 2, 20, 0},
		// t3.nano with maxPodsPerNode: P is capped at the physical E*S = 2.
		{"PD tiny override", Node{Shape: t3Nano, Pods: 200, MaxPodsOverride: 200}, prefixDelegation(1, -1, -1), 2, 34, 2, 200, 168},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := mustAllocate(t, tc.n, tc.s)
			if a.PodENIs() != tc.enis || a.NodeSubnetIPs != tc.ips || a.Prefixes != tc.pfx || a.Pods != tc.pods || a.PodsWithoutIP != tc.noIPs {
				t.Errorf("got ENIs %d IPs %d prefixes %d pods %d without IP %d; want %d %d %d %d %d",
					a.PodENIs(), a.NodeSubnetIPs, a.Prefixes, a.Pods, a.PodsWithoutIP,
					tc.enis, tc.ips, tc.pfx, tc.pods, tc.noIPs)
			}
		})
	}
}

func TestAllocateErrors(t *testing.T) {
	tests := []struct {
		name string
		n    Node
		s    Settings
		want string
	}{
		{"no ENIs", Node{Shape: InstanceShape{Name: "x", IPv4PerENI: 10}}, Settings{}, "MaxENIs=0"},
		{"too many ENIs", Node{Shape: InstanceShape{Name: "x", MaxENIs: 1000, IPv4PerENI: 10}}, Settings{}, "MaxENIs=1000"},
		{"one IP per ENI", Node{Shape: InstanceShape{Name: "x", MaxENIs: 3, IPv4PerENI: 1}}, Settings{}, "IPv4PerENI=1"},
		{"negative vCPUs", Node{Shape: InstanceShape{Name: "x", VCPUs: -1, MaxENIs: 3, IPv4PerENI: 10}}, Settings{}, "VCPUs=-1"},
		{"negative pods", Node{Shape: m5Large, Pods: -1}, Settings{}, "Pods=-1"},
		{"negative branch pods", Node{Shape: m5Large, BranchPods: -2}, Settings{}, "BranchPods=-2"},
		{"negative override", Node{Shape: m5Large, MaxPodsOverride: -3}, Settings{}, "MaxPodsOverride=-3"},
		{"bad mode", Node{Shape: m5Large}, Settings{Mode: "ipv6"}, "unknown mode"},
		{"negative target", Node{Shape: m5Large}, Settings{WarmIPTarget: Ptr(-1)}, "WARM_IP_TARGET=-1"},
		{"PD on Xen", Node{Shape: m4Large}, Settings{Mode: ModePrefixDelegation}, "Nitro"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, err := Allocate(tc.n, tc.s)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one mentioning %q", err, tc.want)
			}
			if a.ENIs != nil {
				t.Errorf("allocation on error: %+v", a)
			}
		})
	}
	// All problems are reported at once.
	_, err := Allocate(Node{Shape: InstanceShape{Name: "x"}, Pods: -1}, Settings{Mode: "x"})
	for _, want := range []string{"MaxENIs", "IPv4PerENI", "Pods=-1", "unknown mode"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("joined error %v lacks %q", err, want)
		}
	}
}

// refSubnetIPs is the project's model, written out literally from the spec,
// as an independent cross-check of Allocate's totals.
func refSubnetIPs(n Node, s Settings) (node, pod int) {
	L := n.Shape.IPv4PerENI
	S := L - 1
	elimit := n.Shape.MaxENIs
	if s.MaxENI != nil && *s.MaxENI >= 1 && *s.MaxENI < elimit {
		elimit = *s.MaxENI
	}
	E := elimit
	if s.CustomNetworking {
		E--
	}
	trunk := 0
	if s.PodENI && n.Shape.Nitro && elimit >= 2 {
		trunk = 1
	}
	E -= trunk
	MP := MaxPods(n.Shape, s, n.MaxPodsOverride)
	N := min(n.Pods, MP)
	B := min(n.BranchPods, MP-N)
	w, m := 0, 0
	if s.WarmIPTarget != nil {
		w = min(*s.WarmIPTarget, maxTarget)
	}
	if s.MinimumIPTarget != nil {
		m = min(*s.MinimumIPTarget, maxTarget)
	}
	wm := w > 0 || m > 0
	ceil := func(a, b int) int { return (a + b - 1) / b }
	var ips int
	switch {
	case s.Mode == ModePrefixDelegation:
		var P int
		if wm {
			P = max(ceil(N+w, 16), ceil(m, 16))
		} else {
			p := 0
			if s.WarmPrefixTarget != nil {
				p = min(*s.WarmPrefixTarget, maxTarget)
			}
			P = min(ceil(N, 16)+p, ceil(MP, 16))
		}
		P = min(P, E*S)
		k := max(1, ceil(P, S))
		ips = 16*P + k
	case wm:
		T := min(max(N+w, m), E*S)
		k := max(1, ceil(T, S))
		ips = T + k
	default:
		W := 1
		if s.WarmENITarget != nil {
			W = min(*s.WarmENITarget, maxTarget)
		}
		k := min(E, max(1, ceil(N, S)+W), ceil(MP, S))
		ips = k * L
	}
	extra := trunk + B
	if s.CustomNetworking {
		return 1, ips + extra
	}
	return ips + extra, 0
}

// checkInvariants asserts the structural invariants of an allocation.
func checkInvariants(t *testing.T, n Node, s Settings, a Allocation) {
	t.Helper()
	var node, pod, prefixes int
	for i, e := range a.ENIs {
		if e.IPs < 1 || e.IPs > n.Shape.IPv4PerENI || e.Prefixes < 0 || e.Prefixes > n.Shape.IPv4PerENI-1 {
			t.Fatalf("ENI %d out of bounds: %+v (shape %+v)", i, e, n.Shape)
		}
		if (e.Role == RoleBranch || e.Role == RoleTrunk) && (e.IPs != 1 || e.Prefixes != 0) {
			t.Fatalf("ENI %d: %+v, want 1 IP", i, e)
		}
		if e.Prefixes > 0 && !s.PrefixDelegation() {
			t.Fatalf("ENI %d has prefixes in secondary-IP mode: %+v", i, e)
		}
		if e.Prefixes > 0 && e.IPs != 1 {
			t.Fatalf("ENI %d mixes prefixes and secondary IPs: %+v", i, e)
		}
		if e.InPodSubnet != (s.CustomNetworking && !(i == 0 && e.Role == RolePrimary)) {
			t.Fatalf("ENI %d InPodSubnet=%t with custom networking %t", i, e.InPodSubnet, s.CustomNetworking)
		}
		if e.InPodSubnet {
			pod += e.IPs + IPsPerPrefix*e.Prefixes
		} else {
			node += e.IPs + IPsPerPrefix*e.Prefixes
		}
		prefixes += e.Prefixes
	}
	if node != a.NodeSubnetIPs || pod != a.PodSubnetIPs {
		t.Fatalf("ENI sums node %d pod %d != totals %d %d", node, pod, a.NodeSubnetIPs, a.PodSubnetIPs)
	}
	if prefixes != a.Prefixes || a.Blocks28(true)+a.Blocks28(false) != a.Prefixes {
		t.Fatalf("prefix sum %d != Prefixes %d", prefixes, a.Prefixes)
	}
	if !s.CustomNetworking && a.PodSubnetIPs != 0 {
		t.Fatalf("PodSubnetIPs %d without custom networking", a.PodSubnetIPs)
	}
	if s.CustomNetworking && a.NodeSubnetIPs != 1 {
		t.Fatalf("NodeSubnetIPs %d with custom networking, want 1", a.NodeSubnetIPs)
	}
	if a.AttachedENIs() > a.ENILimit || a.ENILimit > n.Shape.MaxENIs {
		t.Fatalf("attached ENIs %d > limit %d (instance %d)", a.AttachedENIs(), a.ENILimit, n.Shape.MaxENIs)
	}
	if k := a.PodENIs(); k < 1 || k > a.UsableENIs {
		t.Fatalf("pod ENIs %d not in 1..%d", k, a.UsableENIs)
	}
	if a.Pods < 0 || a.BranchPods < 0 || a.Pods+a.BranchPods > a.MaxPods || a.Pods > n.Pods || a.BranchPods > n.BranchPods {
		t.Fatalf("pods %d + branch %d vs max %d (asked %d, %d)", a.Pods, a.BranchPods, a.MaxPods, n.Pods, n.BranchPods)
	}
	if a.MaxPods != MaxPods(n.Shape, s, n.MaxPodsOverride) {
		t.Fatalf("MaxPods %d != MaxPods() %d", a.MaxPods, MaxPods(n.Shape, s, n.MaxPodsOverride))
	}
	capacity := a.SecondaryIPs()
	if s.PrefixDelegation() {
		capacity = IPsPerPrefix * a.Prefixes
	}
	if a.WarmIPs < 0 || a.PodsWithoutIP < 0 || a.WarmIPs-a.PodsWithoutIP != capacity-a.Pods {
		t.Fatalf("warm %d without IP %d, capacity %d pods %d", a.WarmIPs, a.PodsWithoutIP, capacity, a.Pods)
	}
	if got := a.count(RoleBranch); got != a.BranchPods {
		t.Fatalf("%d branch ENIs for %d branch pods", got, a.BranchPods)
	}
	rn, rp := refSubnetIPs(n, s)
	if rn != a.NodeSubnetIPs || rp != a.PodSubnetIPs {
		t.Fatalf("model says node %d pod %d, Allocate %d %d", rn, rp, a.NodeSubnetIPs, a.PodSubnetIPs)
	}
}

// FuzzAllocate checks that Allocate never panics and that every allocation
// satisfies the invariants: the ENIs' addresses (IPs + 16*prefixes) add up to
// NodeSubnetIPs + PodSubnetIPs, attached ENIs stay within the (MAX_ENI
// lowered) instance limit, pod ENIs within the usable ENIs, and the totals
// equal the model's formulas.
func FuzzAllocate(f *testing.F) {
	// maxENIs, ipv4PerENI, vcpus, nitro, pd, cn, podENI, pods, branch, override,
	// warmENI, warmIP, minIP, warmPrefix, maxENI (-1 = unset)
	f.Add(3, 10, 2, true, false, false, false, 20, 0, 0, 1, -1, -1, -1, -1)
	f.Add(3, 10, 2, true, false, false, false, 20, 0, 0, -1, 2, -1, -1, -1)
	f.Add(3, 10, 2, true, true, false, false, 20, 0, 0, -1, -1, -1, 1, -1)
	f.Add(3, 4, 2, true, true, false, false, 58, 0, 0, -1, 7, 20, -1, -1)
	f.Add(15, 50, 96, true, true, false, false, 95, 0, 0, -1, -1, -1, 1, -1)
	f.Add(15, 50, 96, true, false, true, true, 300, 40, 0, 1, -1, -1, -1, 4)
	f.Add(2, 2, 2, true, true, true, true, 1000, 10, 500, -1, -1, -1, 9, -1)
	f.Add(1, 2, 0, false, false, false, true, 1, 1, 0, 0, 0, 0, 0, 0)
	f.Add(0, 0, -1, false, true, true, true, -1, -1, -1, -2, -2, -2, -2, -2)
	f.Fuzz(func(t *testing.T, maxENIs, ipv4, vcpus int, nitro, pd, cn, podENI bool,
		pods, branch, override, warmENI, warmIP, minIP, warmPrefix, maxENI int) {
		ptr := func(v int) *int {
			if v == -1 {
				return nil
			}
			return Ptr(v)
		}
		s := Settings{
			Mode:             ModeSecondaryIP,
			WarmENITarget:    ptr(warmENI),
			WarmIPTarget:     ptr(warmIP),
			MinimumIPTarget:  ptr(minIP),
			WarmPrefixTarget: ptr(warmPrefix),
			MaxENI:           ptr(maxENI),
			CustomNetworking: cn,
			PodENI:           podENI,
		}
		if pd {
			s.Mode = ModePrefixDelegation
		}
		n := Node{
			Shape:           InstanceShape{Name: "fuzz", VCPUs: vcpus, MaxENIs: maxENIs, IPv4PerENI: ipv4, Nitro: nitro},
			Pods:            pods,
			BranchPods:      branch,
			MaxPodsOverride: override,
		}
		_ = MaxPods(n.Shape, s, override) // must not panic either
		a, err := Allocate(n, s)
		if err != nil {
			if a.ENIs != nil || a.NodeSubnetIPs != 0 {
				t.Fatalf("non-zero allocation with error %v", err)
			}
			return
		}
		checkInvariants(t, n, s, a)
	})
}

func show(v int) string {
	if v < 0 {
		return "-"
	}
	return itoa(v)
}

func itoa(v int) string { return strconv.Itoa(v) }
