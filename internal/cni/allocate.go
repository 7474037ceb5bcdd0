package cni

import (
	"errors"
	"fmt"
)

// IPsPerPrefix is the number of IPv4 addresses in one delegated /28 prefix.
//
// See https://github.com/aws/amazon-vpc-cni-k8s/blob/master/docs/prefix-and-ip-target.md
const IPsPerPrefix = 16

// Max-pods ceilings that AWS's max-pods-calculator applies with prefix
// delegation: 110 pods, or 250 on instances with more than
// MaxPodsHighCPUThreshold vCPUs.
//
// See https://github.com/awslabs/amazon-eks-ami/blob/main/templates/al2/runtime/max-pods-calculator.sh
// and https://docs.aws.amazon.com/eks/latest/userguide/cni-increase-ip-addresses.html
const (
	MaxPodsCeilingLowCPU    = 110
	MaxPodsCeilingHighCPU   = 250
	MaxPodsHighCPUThreshold = 30
)

// Sanity bounds for inputs, far above any EC2 instance type (the largest
// have 15 ENIs on network card 0 and 50 IPv4 addresses per ENI, see
// https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/AvailableIpPerENI.html).
// They keep Allocate's arithmetic and output size bounded.
const (
	MaxSaneENIs           = 128
	MaxSaneIPv4PerENI     = 128
	MaxSaneMaxPodsPerNode = 100000
)

// InstanceShape is the part of an EC2 instance type that the VPC CNI cares
// about: vCPUs (for the max-pods ceiling), the maximum number of network
// interfaces and of IPv4 addresses per interface (on network card 0, the only
// one the VPC CNI uses for IPv4), and whether it is a Nitro instance (prefix
// delegation and ENI trunking need Nitro).
//
// See https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/AvailableIpPerENI.html
// and https://github.com/aws/amazon-vpc-cni-k8s/blob/master/pkg/vpc/vpc_ip_resource_limit.go
type InstanceShape struct {
	Name       string
	VCPUs      int
	MaxENIs    int
	IPv4PerENI int
	Nitro      bool
}

// Validate checks that the shape can host the VPC CNI: at least one ENI and
// at least two IPv4 addresses per ENI (a primary and one secondary), within
// the sanity bounds MaxSaneENIs and MaxSaneIPv4PerENI, and VCPUs >= 0 (0 means
// unknown and selects the low-CPU max-pods ceiling).
//
// See https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/AvailableIpPerENI.html
func (sh InstanceShape) Validate() error {
	var errs []error
	if sh.MaxENIs < 1 || sh.MaxENIs > MaxSaneENIs {
		errs = append(errs, fmt.Errorf("cni: instance %q: MaxENIs=%d, want 1..%d", sh.Name, sh.MaxENIs, MaxSaneENIs))
	}
	if sh.IPv4PerENI < 2 || sh.IPv4PerENI > MaxSaneIPv4PerENI {
		errs = append(errs, fmt.Errorf("cni: instance %q: IPv4PerENI=%d, want 2..%d", sh.Name, sh.IPv4PerENI, MaxSaneIPv4PerENI))
	}
	if sh.VCPUs < 0 {
		errs = append(errs, fmt.Errorf("cni: instance %q: VCPUs=%d must not be negative", sh.Name, sh.VCPUs))
	}
	return errors.Join(errs...)
}

// Node is one worker node as the VPC CNI sees it.
//
// Pods is N of the model: pods that are neither host-network nor on branch
// ENIs, i.e. the pods that take an address from ipamd's warm pool.
// BranchPods are pods that get a branch ENI through security groups for pods
// (https://docs.aws.amazon.com/eks/latest/userguide/security-groups-for-pods.html).
// MaxPodsOverride is the nodegroup's maxPodsPerNode (0: not set).
type Node struct {
	Shape           InstanceShape
	Pods            int
	BranchPods      int
	MaxPodsOverride int
}

// ENI roles used in ENI.Role.
//
// See https://github.com/aws/amazon-vpc-cni-k8s/blob/master/docs/eni-and-ip-target.md
// and https://docs.aws.amazon.com/eks/latest/userguide/security-groups-for-pods.html
const (
	// RolePrimary is the instance's primary ENI (device index 0).
	RolePrimary = "primary"
	// RoleSecondary is an ENI that ipamd attached for pod addresses.
	RoleSecondary = "secondary"
	// RoleTrunk is the trunk ENI the VPC resource controller attaches for
	// security groups for pods. It takes an ENI slot and one IP.
	RoleTrunk = "trunk"
	// RoleBranch is a branch ENI of the trunk, one per branch pod, with one IP.
	// Branch ENIs do not take instance ENI slots.
	RoleBranch = "branch"
)

// ENI is one network interface of a node as the VPC CNI would leave it.
//
// IPs counts the interface's private IPv4 addresses including its own
// primary address; Prefixes counts its delegated /28 prefixes (16 addresses
// each, not included in IPs). InPodSubnet is true for interfaces that custom
// networking places in the AZ's ENIConfig subnet rather than the node's
// subnet.
//
// See https://github.com/aws/amazon-vpc-cni-k8s/blob/master/docs/eni-and-ip-target.md,
// https://github.com/aws/amazon-vpc-cni-k8s/blob/master/docs/prefix-and-ip-target.md
// and https://docs.aws.amazon.com/eks/latest/userguide/cni-custom-network.html
type ENI struct {
	Role        string
	IPs         int
	Prefixes    int
	InPodSubnet bool
}

// Addresses is the number of subnet addresses the interface holds:
// IPs + IPsPerPrefix*Prefixes.
//
// See https://github.com/aws/amazon-vpc-cni-k8s/blob/master/docs/prefix-and-ip-target.md
func (e ENI) Addresses() int { return e.IPs + IPsPerPrefix*e.Prefixes }

// Allocation is the steady-state result of the VPC CNI's allocation on one
// node.
//
// ENIs are listed in this order: the primary ENI, the ENIs ipamd attached
// (role "secondary"; without custom networking the first of ipamd's ENIs is
// the primary itself), the trunk ENI if any, then one RoleBranch entry per
// branch pod. Branch ENIs are listed as ENIs (1 IP each) so that an emulator
// can create them one by one; AttachedENIs excludes them because they do not
// occupy instance ENI slots.
//
// NodeSubnetIPs and PodSubnetIPs are the subnet addresses the node consumes
// in its own subnet(s) and, with custom networking, in the AZ's ENIConfig
// subnet; they always equal the sums of ENI.Addresses over the ENIs with
// InPodSubnet false and true respectively. Without custom networking
// PodSubnetIPs is 0. (With ENABLE_SUBNET_DISCOVERY, "node subnet" means the
// node's subnet plus any kubernetes.io/role/cni tagged subnets of its AZ.)
//
// See https://github.com/aws/amazon-vpc-cni-k8s/blob/master/docs/eni-and-ip-target.md
// and https://github.com/aws/amazon-vpc-cni-k8s/blob/master/docs/prefix-and-ip-target.md
type Allocation struct {
	ENIs          []ENI
	NodeSubnetIPs int
	PodSubnetIPs  int
	// Prefixes is P, the number of /28 prefixes (prefix delegation only).
	// The subnet holding them must have P free /28-aligned blocks; see
	// Blocks28.
	Prefixes int
	// MaxPods is the kubelet max pods that applies (see MaxPods).
	MaxPods int

	// Pods is N after clamping to MaxPods.
	Pods int
	// BranchPods is the number of branch pods after clamping to
	// MaxPods-Pods.
	BranchPods int
	// WarmIPs is the number of pod-assignable addresses not in use (secondary
	// IPs or prefix addresses minus Pods), the "Unused IPs" of the VPC CNI
	// docs' tables.
	WarmIPs int
	// PodsWithoutIP is the number of Pods that cannot get an address because
	// the ENI limit is reached (possible because max pods ignores the trunk
	// ENI and the +2 host-network allowance, or with maxPodsPerNode).
	PodsWithoutIP int
	// ENILimit is the instance's ENI limit lowered by MAX_ENI: the number of
	// ENI slots.
	ENILimit int
	// UsableENIs is the most ENIs that ipamd fills with pod addresses:
	// ENILimit, minus one with custom networking (the primary ENI is not
	// used), minus one for the trunk ENI with security groups for pods.
	UsableENIs int
}

// AttachedENIs is the number of ENIs that occupy instance ENI slots (all but
// branch ENIs).
//
// See https://docs.aws.amazon.com/eks/latest/userguide/security-groups-for-pods.html
func (a Allocation) AttachedENIs() int { return len(a.ENIs) - a.count(RoleBranch) }

// PodENIs is the number of ENIs whose addresses ipamd hands to pods (k of the
// model): the primary and secondary ENIs, without custom networking's
// primary ENI, which serves no pods.
//
// See https://github.com/aws/amazon-vpc-cni-k8s/blob/master/docs/eni-and-ip-target.md
func (a Allocation) PodENIs() int {
	n := 0
	for _, e := range a.ENIs {
		if (e.Role == RolePrimary || e.Role == RoleSecondary) && (e.InPodSubnet || !a.customNetworking()) {
			n++
		}
	}
	return n
}

// SecondaryIPs is the number of secondary (non-primary) private IPv4
// addresses on the primary and secondary ENIs, the "Attached Secondary IPs" of
// docs/eni-and-ip-target.md.
//
// See https://github.com/aws/amazon-vpc-cni-k8s/blob/master/docs/eni-and-ip-target.md
func (a Allocation) SecondaryIPs() int {
	n := 0
	for _, e := range a.ENIs {
		if e.Role == RolePrimary || e.Role == RoleSecondary {
			n += e.IPs - 1
		}
	}
	return n
}

// Blocks28 is the number of free /28-aligned blocks that prefix delegation
// needs in the node's subnet (inPodSubnet false) or in the ENIConfig subnet
// (inPodSubnet true).
//
// See https://github.com/aws/amazon-vpc-cni-k8s/blob/master/docs/prefix-and-ip-target.md
// and https://docs.aws.amazon.com/eks/latest/userguide/cni-increase-ip-addresses.html
func (a Allocation) Blocks28(inPodSubnet bool) int {
	n := 0
	for _, e := range a.ENIs {
		if e.InPodSubnet == inPodSubnet {
			n += e.Prefixes
		}
	}
	return n
}

func (a Allocation) count(role string) int {
	n := 0
	for _, e := range a.ENIs {
		if e.Role == role {
			n++
		}
	}
	return n
}

func (a Allocation) customNetworking() bool {
	for _, e := range a.ENIs {
		if e.InPodSubnet {
			return true
		}
	}
	return false
}

// enis returns the ENI slot limit (instance limit lowered by MAX_ENI) and the
// model's E (minus one with custom networking, which takes the primary ENI
// out of the pool).
func enis(shape InstanceShape, s Settings) (limit, e int) {
	limit = shape.MaxENIs
	if m := val(s.MaxENI, 0); m >= 1 && m < limit {
		limit = m
	}
	e = limit
	if s.CustomNetworking {
		e--
	}
	return limit, e
}

// MaxPods is the kubelet max pods for a node of this shape:
//
//   - override (the nodegroup's maxPodsPerNode) when it is > 0;
//   - E*S + 2 in secondary-IP mode;
//   - min(E*S*16 + 2, 110), or 250 above 30 vCPUs, with prefix delegation on
//     a Nitro instance (non-Nitro instances fall back to the secondary-IP
//     formula, as the calculator does);
//
// where S = IPv4PerENI-1 and E is the instance's ENI limit lowered by MAX_ENI
// and, with custom networking, minus one. So with custom networking max pods
// is (Elimit-1)*S + 2, where Elimit is the instance limit before the
// custom-networking reduction, as in AWS's max-pods-calculator
// (--cni-custom-networking-enabled, --cni-max-eni). The trunk ENI of security
// groups for pods is not subtracted, as the calculator has no such input.
//
// It returns 0 for a shape that fails InstanceShape.Validate (unless override
// is set).
//
// Unlike the calculator's recommended value, the 110/250 ceiling is applied
// only with prefix delegation, which matches eni-max-pods.txt (e.g.
// c5.18xlarge: 737).
//
// See https://github.com/aws/amazon-vpc-cni-k8s/blob/master/misc/eni-max-pods.txt,
// https://github.com/awslabs/amazon-eks-ami/blob/main/templates/al2/runtime/max-pods-calculator.sh
// and https://docs.aws.amazon.com/eks/latest/userguide/cni-increase-ip-addresses.html
func MaxPods(shape InstanceShape, s Settings, override int) int {
	if override > 0 {
		return override
	}
	if shape.Validate() != nil {
		return 0
	}
	_, e := enis(shape, s)
	sec := shape.IPv4PerENI - 1
	if s.PrefixDelegation() && shape.Nitro {
		ceiling := MaxPodsCeilingLowCPU
		if shape.VCPUs > MaxPodsHighCPUThreshold {
			ceiling = MaxPodsCeilingHighCPU
		}
		return min(e*sec*IPsPerPrefix+2, ceiling)
	}
	return e*sec + 2
}

// Allocate computes the ENIs, secondary IPs and prefixes that the VPC CNI
// converges to on node n with settings s, following the model in the package
// documentation exactly. Where the model leaves a choice, Allocate:
//
//   - clamps n.Pods to MaxPods (the kubelet admits no more) and n.BranchPods
//     to MaxPods minus the clamped Pods;
//   - additionally caps the number of prefixes at UsableENIs*S, the physical
//     limit (the model's ceil(MP/16) can exceed it by one on tiny instances or
//     with maxPodsPerNode);
//   - with WARM_IP_TARGET/MINIMUM_IP_TARGET, fills the T secondary IPs ENI by
//     ENI, S per ENI, the last ENI taking the remainder; prefixes likewise;
//   - attaches a trunk ENI when s.PodENI is set on a Nitro instance with at
//     least two ENI slots (ipamd leaves room for it and the VPC resource
//     controller attaches it); the trunk takes a slot away from ipamd.
//     BranchPods > 0 without a trunk is an error;
//   - with custom networking puts the trunk and branch ENIs, like every other
//     pod address, in the ENIConfig subnet (InPodSubnet).
//
// Errors are returned for an invalid shape, node or settings, for prefix
// delegation on a non-Nitro instance, and when no ENI is left for pod
// addresses. Allocate never panics.
//
// See https://github.com/aws/amazon-vpc-cni-k8s/blob/master/docs/eni-and-ip-target.md,
// https://github.com/aws/amazon-vpc-cni-k8s/blob/master/docs/prefix-and-ip-target.md,
// https://docs.aws.amazon.com/eks/latest/userguide/cni-custom-network.html
// and https://docs.aws.amazon.com/eks/latest/userguide/security-groups-for-pods.html
func Allocate(n Node, s Settings) (Allocation, error) {
	var errs []error
	if err := n.Shape.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := s.Validate(); err != nil {
		errs = append(errs, err)
	}
	if n.Pods < 0 {
		errs = append(errs, fmt.Errorf("cni: Pods=%d must not be negative", n.Pods))
	}
	if n.BranchPods < 0 {
		errs = append(errs, fmt.Errorf("cni: BranchPods=%d must not be negative", n.BranchPods))
	}
	if n.MaxPodsOverride < 0 || n.MaxPodsOverride > MaxSaneMaxPodsPerNode {
		errs = append(errs, fmt.Errorf("cni: MaxPodsOverride=%d, want 0..%d", n.MaxPodsOverride, MaxSaneMaxPodsPerNode))
	}
	if len(errs) > 0 {
		return Allocation{}, errors.Join(errs...)
	}
	shape := n.Shape
	if s.PrefixDelegation() && !shape.Nitro {
		return Allocation{}, fmt.Errorf("cni: instance %q: prefix delegation needs a Nitro instance", shape.Name)
	}

	limit, e := enis(shape, s)
	trunk := s.PodENI && shape.Nitro && limit >= 2
	pool := e
	if trunk {
		pool--
	}
	if n.BranchPods > 0 && !trunk {
		switch {
		case !s.PodENI:
			return Allocation{}, fmt.Errorf("cni: %d branch pods need ENABLE_POD_ENI=true", n.BranchPods)
		case !shape.Nitro:
			return Allocation{}, fmt.Errorf("cni: instance %q: %d branch pods need a Nitro instance (ENI trunking)", shape.Name, n.BranchPods)
		default:
			return Allocation{}, fmt.Errorf("cni: instance %q: %d branch pods need a trunk ENI but the instance has only %d ENI slot(s)", shape.Name, n.BranchPods, limit)
		}
	}
	if pool < 1 {
		return Allocation{}, fmt.Errorf("cni: instance %q: no ENI left for pod addresses (ENI limit %d, custom networking %t, trunk ENI %t)",
			shape.Name, limit, s.CustomNetworking, trunk)
	}

	L := shape.IPv4PerENI
	S := L - 1
	mp := MaxPods(shape, s, n.MaxPodsOverride)
	pods := min(n.Pods, mp)
	branch := min(n.BranchPods, mp-pods)

	a := Allocation{
		MaxPods:    mp,
		Pods:       pods,
		BranchPods: branch,
		ENILimit:   limit,
		UsableENIs: pool,
	}

	// perENI[i] is the secondary-IP count (secondary-IP mode) or prefix
	// count (prefix delegation) of ipamd's i-th ENI.
	var perENI []int
	var capacity int // pod-assignable addresses
	switch {
	case !s.PrefixDelegation() && !s.IPTargetsDefined():
		w := s.EffectiveWarmENITarget()
		k := min(pool, max(1, ceilDiv(pods, S)+w), ceilDiv(mp, S))
		k = max(k, 1)
		perENI = make([]int, k)
		for i := range perENI {
			perENI[i] = S
		}
		capacity = k * S
	case !s.PrefixDelegation():
		w, m := s.ipTargets()
		t := min(max(pods+w, m), pool*S)
		k := max(1, ceilDiv(t, S))
		perENI = fill(t, S, k)
		capacity = t
	default:
		var p int
		if s.IPTargetsDefined() {
			w, m := s.ipTargets()
			p = max(ceilDiv(pods+w, IPsPerPrefix), ceilDiv(m, IPsPerPrefix))
		} else {
			p = min(ceilDiv(pods, IPsPerPrefix)+s.EffectiveWarmPrefixTarget(), ceilDiv(mp, IPsPerPrefix))
		}
		p = min(p, pool*S)
		k := max(1, ceilDiv(p, S))
		perENI = fill(p, S, k)
		a.Prefixes = p
		capacity = p * IPsPerPrefix
	}
	a.WarmIPs = max(capacity-pods, 0)
	a.PodsWithoutIP = max(pods-capacity, 0)

	cn := s.CustomNetworking
	a.ENIs = make([]ENI, 0, len(perENI)+2+branch)
	if cn {
		a.ENIs = append(a.ENIs, ENI{Role: RolePrimary, IPs: 1})
	}
	for i, c := range perENI {
		eni := ENI{Role: RoleSecondary, IPs: 1, InPodSubnet: cn}
		if !cn && i == 0 {
			eni.Role = RolePrimary
		}
		if s.PrefixDelegation() {
			eni.Prefixes = c
		} else {
			eni.IPs += c
		}
		a.ENIs = append(a.ENIs, eni)
	}
	if trunk {
		a.ENIs = append(a.ENIs, ENI{Role: RoleTrunk, IPs: 1, InPodSubnet: cn})
	}
	for range branch {
		a.ENIs = append(a.ENIs, ENI{Role: RoleBranch, IPs: 1, InPodSubnet: cn})
	}
	for _, eni := range a.ENIs {
		if eni.InPodSubnet {
			a.PodSubnetIPs += eni.Addresses()
		} else {
			a.NodeSubnetIPs += eni.Addresses()
		}
	}
	return a, nil
}

// fill spreads total units over k buckets of at most per units each, in
// order; any excess beyond k*per is dropped (callers ensure there is none).
func fill(total, per, k int) []int {
	out := make([]int, k)
	for i := range out {
		c := min(total, per)
		out[i] = c
		total -= c
	}
	return out
}

// ceilDiv is ceil(a/b) for a >= 0, b > 0.
func ceilDiv(a, b int) int { return (a + b - 1) / b }
