package capacity

import (
	"context"
	"fmt"
	"maps"
	"math"
	"slices"
	"sort"

	"github.com/eksbg/eksbg/internal/cni"
)

// Where N (pods per node) and the CNI settings came from, as the report
// shows them.
const (
	SourceNodeGroup = "eksbg.yaml podsPerNode"
	SourceCensus    = "blue cluster average"
	SourceMaxPods   = "max pods"
	SourceAddon     = "vpc-cni addon configurationValues"
	SourceDefaults  = "VPC CNI add-on defaults"
)

// prepared is an Input with what Check learns before reading AWS: the CNI
// settings, ENIConfig subnets and, per node group, N and where it came from.
type prepared struct {
	in         Input
	settings   cni.Settings
	source     string
	podSubnets map[string]string
	pods       []podsOf
}

// podsOf is N of one node group: Pods is -1 for "max pods", which depends
// on the instance type.
type podsOf struct {
	pods, branch int
	source       string
}

// prepare fills in the CNI settings (the input's own, else the blue
// cluster's aws-node environment, else the add-on's defaults), the ENIConfig
// subnets custom networking needs, and N per node group (the input's, else
// the blue cluster's average, else max pods).
func prepare(ctx context.Context, c Clients, in Input) (*prepared, error) {
	p := &prepared{in: in, settings: in.Cluster.CNI, source: in.Cluster.CNISource, podSubnets: in.Cluster.PodSubnets}
	if p.source == "" {
		p.settings, p.source = cni.DefaultSettings(), SourceDefaults
		if c.CNIEnv != nil && in.BlueCluster != "" {
			env, err := c.CNIEnv.AWSNodeEnv(ctx, in.BlueCluster)
			if err != nil {
				return nil, fmt.Errorf("reading the aws-node environment of %s: %w", in.BlueCluster, err)
			}
			if env != nil {
				s, err := cni.ParseEnv(env)
				if err != nil {
					return nil, fmt.Errorf("aws-node DaemonSet of %s: %w", in.BlueCluster, err)
				}
				p.settings, p.source = s, "aws-node DaemonSet of "+in.BlueCluster
			}
		}
	}
	if err := p.settings.Validate(); err != nil {
		return nil, fmt.Errorf("cluster %s: %w", in.Cluster.Name, err)
	}
	if p.settings.CustomNetworking && len(p.podSubnets) == 0 {
		if c.CNIEnv != nil && in.BlueCluster != "" {
			m, err := c.CNIEnv.ENIConfigSubnets(ctx, in.BlueCluster)
			if err != nil {
				return nil, fmt.Errorf("reading the ENIConfigs of %s: %w", in.BlueCluster, err)
			}
			p.podSubnets = m
		}
		if len(p.podSubnets) == 0 {
			return nil, fmt.Errorf("cluster %s uses VPC CNI custom networking, but the ENIConfig subnets are unknown: "+
				"they are read from the blue cluster's ENIConfigs, which are not available", in.Cluster.Name)
		}
	}
	var census map[string]PodCount
	for _, ng := range in.Cluster.NodeGroups {
		if ng.PodsPerNode <= 0 && c.Census != nil && in.BlueCluster != "" {
			m, err := c.Census.PodsPerNode(ctx, in.BlueCluster)
			if err != nil {
				return nil, fmt.Errorf("counting the pods of %s: %w", in.BlueCluster, err)
			}
			census = m
			break
		}
	}
	for _, ng := range in.Cluster.NodeGroups {
		n := podsOf{pods: -1, branch: ng.BranchPodsPerNode, source: SourceMaxPods}
		if pc, ok := census[ng.Name]; ok && pc.Pods > 0 {
			n = podsOf{pods: int(math.Ceil(pc.Pods)), branch: int(math.Ceil(pc.BranchPods)), source: SourceCensus}
		}
		if ng.PodsPerNode > 0 {
			n.pods, n.source = ng.PodsPerNode, SourceNodeGroup
		}
		p.pods = append(p.pods, n)
	}
	return p, nil
}

// ngView is one node group resolved against the region's subnets and types.
type ngView struct {
	ng      NodeGroup
	subnets []*subnetFacts
	azs     []string
	node    nodeFigures
}

// view is a prepared input resolved against the region's facts.
type view struct {
	*prepared
	vpc        string
	ngs        []ngView
	cp         []*subnetFacts
	podSubnets map[string]*subnetFacts // by AZ (custom networking)
	discovered map[string][]*subnetFacts
}

// resolveSubnets resolves the input's subnets (IDs, or CIDRs in the VPC),
// its ENIConfig subnets and, with subnet discovery, the subnets tagged
// kubernetes.io/role/cni=1 in the node groups' zones.
func (p *prepared) resolveSubnets(vpc string, subnets map[string]*subnetFacts, byVPC []*subnetFacts) (*view, error) {
	v := &view{prepared: p, vpc: vpc, podSubnets: map[string]*subnetFacts{}, discovered: map[string][]*subnetFacts{}}
	lookup := func(ref SubnetRef, what string) (*subnetFacts, error) {
		if ref.ID != "" {
			if s, ok := subnets[ref.ID]; ok && s.VPC == vpc {
				return s, nil
			}
			return nil, fmt.Errorf("cluster %s: %s subnet %s is not in %s", p.in.Cluster.Name, what, ref.ID, vpc)
		}
		for _, s := range byVPC {
			if s.CIDR == ref.CIDR {
				return s, nil
			}
		}
		return nil, fmt.Errorf("cluster %s: %s has no subnet with CIDR %s", p.in.Cluster.Name, vpc, ref.CIDR)
	}
	azs := map[string]bool{}
	for _, ng := range p.in.Cluster.NodeGroups {
		nv := ngView{ng: ng}
		if len(ng.Subnets) == 0 {
			return nil, fmt.Errorf("cluster %s: node group %s has no subnets", p.in.Cluster.Name, ng.Name)
		}
		seen := map[string]bool{}
		for _, ref := range ng.Subnets {
			s, err := lookup(ref, "node group "+ng.Name)
			if err != nil {
				return nil, err
			}
			if seen[s.ID] {
				continue
			}
			seen[s.ID] = true
			nv.subnets = append(nv.subnets, s)
			if !slices.Contains(nv.azs, s.AZ) {
				nv.azs = append(nv.azs, s.AZ)
			}
			azs[s.AZ] = true
		}
		sort.Strings(nv.azs)
		v.ngs = append(v.ngs, nv)
	}
	seen := map[string]bool{}
	for _, ref := range p.in.Cluster.ControlPlaneSubnets {
		s, err := lookup(ref, "control-plane")
		if err != nil {
			return nil, err
		}
		if !seen[s.ID] {
			seen[s.ID] = true
			v.cp = append(v.cp, s)
		}
	}
	if p.settings.CustomNetworking {
		for az := range azs {
			id, ok := p.podSubnets[az]
			if !ok {
				return nil, fmt.Errorf("cluster %s: custom networking has no ENIConfig subnet for %s", p.in.Cluster.Name, az)
			}
			s, err := lookup(SubnetRef{ID: id}, "ENIConfig")
			if err != nil {
				return nil, err
			}
			if s.AZ != az {
				return nil, fmt.Errorf("cluster %s: the ENIConfig subnet of %s, %s, is in %s", p.in.Cluster.Name, az, id, s.AZ)
			}
			v.podSubnets[az] = s
		}
	} else if p.settings.SubnetDiscovery {
		for _, s := range byVPC {
			if s.cni && azs[s.AZ] {
				v.discovered[s.AZ] = append(v.discovered[s.AZ], s)
			}
		}
	}
	return v, nil
}

// pdSubnets are the subnets whose free /28 blocks matter: with prefix
// delegation, the node groups' subnets, the ENIConfig subnets and the
// discovered ones.
func (v *view) pdSubnets() []*subnetFacts {
	if !v.settings.PrefixDelegation() {
		return nil
	}
	var out []*subnetFacts
	add := func(s *subnetFacts) {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	for _, ng := range v.ngs {
		for _, s := range ng.subnets {
			if !v.settings.CustomNetworking {
				add(s)
			}
		}
	}
	for _, az := range slices.Sorted(maps.Keys(v.podSubnets)) {
		add(v.podSubnets[az])
	}
	for _, az := range slices.Sorted(maps.Keys(v.discovered)) {
		for _, s := range v.discovered[az] {
			add(s)
		}
	}
	return out
}

// nodeFigures are one node's needs, for the node group's worst instance type.
type nodeFigures struct {
	typ                 string
	nodeIPs, podIPs     int // in the node's subnet; in the ENIConfig subnet
	nodePfx, podPfx     int // /28 blocks likewise
	enis, vcpus, maxPod int
	pods                int
	standard            bool
}

func (f nodeFigures) ips() int      { return f.nodeIPs + f.podIPs }
func (f nodeFigures) prefixes() int { return f.nodePfx + f.podPfx }

// figure computes the per-node figures of every node group with the VPC CNI
// model, taking for each group the instance type that needs the most
// addresses (and the most vCPUs and ENIs of any of its types).
func (v *view) figure(types map[string]typeFacts) error {
	for i := range v.ngs {
		nv := &v.ngs[i]
		if len(nv.ng.InstanceTypes) == 0 {
			return fmt.Errorf("cluster %s: node group %s has no instance type", v.in.Cluster.Name, nv.ng.Name)
		}
		n := v.pods[i]
		var best nodeFigures
		for j, typ := range nv.ng.InstanceTypes {
			tf, ok := types[typ]
			if !ok {
				return fmt.Errorf("cluster %s: node group %s: instance type %s is not offered in this region", v.in.Cluster.Name, nv.ng.Name, typ)
			}
			shape := cni.InstanceShape{Name: typ, VCPUs: tf.VCPUs, MaxENIs: tf.MaxENIs, IPv4PerENI: tf.IPv4PerENI, Nitro: tf.Nitro}
			pods := n.pods
			if pods < 0 {
				pods = cni.MaxPods(shape, v.settings, nv.ng.MaxPodsOverride)
			}
			a, err := cni.Allocate(cni.Node{Shape: shape, Pods: pods, BranchPods: n.branch, MaxPodsOverride: nv.ng.MaxPodsOverride}, v.settings)
			if err != nil {
				return fmt.Errorf("cluster %s: node group %s: %w", v.in.Cluster.Name, nv.ng.Name, err)
			}
			f := nodeFigures{typ: typ, nodeIPs: a.NodeSubnetIPs, podIPs: a.PodSubnetIPs, nodePfx: a.Blocks28(false), podPfx: a.Blocks28(true),
				enis: len(a.ENIs), vcpus: tf.VCPUs, maxPod: a.MaxPods, pods: a.Pods, standard: standardFamily(typ)}
			if j == 0 || f.ips() > best.ips() || (f.ips() == best.ips() && f.prefixes() > best.prefixes()) {
				f.vcpus, f.enis = max(f.vcpus, best.vcpus), max(f.enis, best.enis)
				f.standard = f.standard || best.standard
				best = f
			} else {
				best.vcpus, best.enis = max(best.vcpus, f.vcpus), max(best.enis, f.enis)
				best.standard = best.standard || f.standard
			}
		}
		nv.node = best
	}
	return nil
}

// ceilDiv is ceil(a/b) for a >= 0, b > 0.
func ceilDiv(a, b int) int { return (a + b - 1) / b }
