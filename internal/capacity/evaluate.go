package capacity

import (
	"maps"
	"slices"
	"sort"
)

// Model constants.
const (
	// ControlPlaneMinIPs is the minimum of free addresses EKS needs in each
	// cluster subnet for the control plane's network interfaces (16
	// recommended); ControlPlaneUpdateIPs more are needed for a later
	// in-place version update.
	// https://docs.aws.amazon.com/eks/latest/userguide/network-reqs.html
	ControlPlaneMinIPs    = 6
	ControlPlaneUpdateIPs = 5
	// ELBMinFreeIPs is what the AWS Load Balancer Controller needs free in
	// a subnet to use it.
	// https://kubernetes-sigs.github.io/aws-load-balancer-controller/latest/deploy/subnet_discovery/
	ELBMinFreeIPs = 8
	// HeadroomWarn is the share of supply that should stay free after the
	// green cluster is added.
	HeadroomWarn = 0.10
)

// Subnet roles in SubnetReport.Roles.
const (
	RoleNodes        = "nodes"
	RolePods         = "pods"
	RoleCNI          = "cni"
	RoleControlPlane = "control-plane"
	RoleELB          = "elb"
	RoleInternalELB  = "internal-elb"
)

// subnetLoad is what the green cluster takes from one subnet.
type subnetLoad struct {
	s                    *subnetFacts
	roles                map[string]bool
	ips, ipsMax          float64
	prefixes, prefixesAt float64
	pd                   bool // its free /28 blocks matter
}

// azLoad is one zone's totals.
type azLoad struct {
	demand, demandMax     int
	prefixes, prefixesMax int
	subnets               []*subnetLoad
}

// evaluate computes the report of one resolved input.
func (v *view) evaluate(f *regionFacts) *Report {
	r := &Report{Name: v.in.Name, Cluster: v.in.Cluster.Name, Version: v.in.Cluster.Version,
		CNI: v.settings, CNISource: v.source, AZs: []AZReport{}, Subnets: []SubnetReport{}, Quotas: []QuotaReport{}}
	loads := map[string]*subnetLoad{}
	load := func(s *subnetFacts, role string) *subnetLoad {
		l := loads[s.ID]
		if l == nil {
			l = &subnetLoad{s: s, roles: map[string]bool{}}
			loads[s.ID] = l
		}
		l.roles[role] = true
		return l
	}
	azs := map[string]*azLoad{}
	zone := func(az string) *azLoad {
		z := azs[az]
		if z == nil {
			z = &azLoad{}
			azs[az] = z
		}
		return z
	}
	pd := v.settings.PrefixDelegation()
	cn := v.settings.CustomNetworking

	for i, ng := range v.ngs {
		nodesByAZ := ceilDiv(ng.ng.Desired+1, len(ng.azs))
		maxByAZ := ceilDiv(ng.ng.Max, len(ng.azs))
		r.NodeGroups = append(r.NodeGroups, NodeGroupReport{Name: ng.ng.Name, InstanceType: ng.node.typ, Desired: ng.ng.Desired,
			Max: ng.ng.Max, AZs: ng.azs, Pods: ng.node.pods, PodsSource: v.pods[i].source,
			MaxPods: ng.node.maxPod, IPs: ng.node.ips(), Prefixes: ng.node.prefixes(), ENIs: ng.node.enis, VCPUs: ng.node.vcpus, Spot: ng.ng.Spot})
		for _, az := range ng.azs {
			z := zone(az)
			z.demand += nodesByAZ * ng.node.ips()
			z.demandMax += maxByAZ * ng.node.ips()
			z.prefixes += nodesByAZ * ng.node.prefixes()
			z.prefixesMax += maxByAZ * ng.node.prefixes()
			// The node-subnet side is spread over the group's subnets of
			// the zone (and, with subnet discovery, the tagged ones) in
			// proportion to their free addresses.
			var pool []*subnetLoad
			for _, s := range ng.subnets {
				if s.AZ == az {
					pool = append(pool, load(s, RoleNodes))
				}
			}
			nodeIPs, nodePfx := ng.node.nodeIPs, ng.node.nodePfx
			if cn {
				ps := load(v.podSubnets[az], RolePods)
				ps.pd = pd
				ps.ips += float64(nodesByAZ * ng.node.podIPs)
				ps.ipsMax += float64(maxByAZ * ng.node.podIPs)
				ps.prefixes += float64(nodesByAZ * ng.node.podPfx)
				ps.prefixesAt += float64(maxByAZ * ng.node.podPfx)
			} else {
				for _, s := range v.discovered[az] {
					pool = append(pool, load(s, RoleCNI))
				}
				for _, l := range pool {
					l.pd = pd
				}
			}
			spread(pool, nodesByAZ*nodeIPs, maxByAZ*nodeIPs, nodesByAZ*nodePfx, maxByAZ*nodePfx)
		}
	}
	for _, s := range v.cp {
		l := load(s, RoleControlPlane)
		l.ips += ControlPlaneMinIPs + ControlPlaneUpdateIPs
		l.ipsMax += ControlPlaneMinIPs + ControlPlaneUpdateIPs
		z := zone(s.AZ)
		z.demand += ControlPlaneMinIPs + ControlPlaneUpdateIPs
		z.demandMax += ControlPlaneMinIPs + ControlPlaneUpdateIPs
	}
	for _, l := range loads {
		if l.s.elb {
			l.roles[RoleELB] = true
		}
		if l.s.internalELB {
			l.roles[RoleInternalELB] = true
		}
		zone(l.s.AZ).subnets = append(zone(l.s.AZ).subnets, l)
	}

	for _, az := range slices.Sorted(maps.Keys(azs)) {
		z := azs[az]
		sort.Slice(z.subnets, func(i, j int) bool { return z.subnets[i].s.ID < z.subnets[j].s.ID })
		ar := AZReport{AZ: az, DemandIPs: z.demand, DemandIPsAtMax: z.demandMax, DemandPrefixes: z.prefixes, DemandPrefixesAtMax: z.prefixesMax}
		for _, l := range z.subnets {
			ar.SupplyIPs += l.s.Available
			ar.UsableIPs += l.s.usableIPs()
			if l.roles[RoleNodes] || l.roles[RolePods] || l.roles[RoleCNI] {
				ar.FreePrefixes += l.s.FreePrefixes
			}
		}
		ar.Verdict, ar.Remedy = azVerdict(ar, pd)
		r.AZs = append(r.AZs, ar)
		r.Verdict = r.Verdict.Worse(ar.Verdict)
		for _, l := range z.subnets {
			sr := subnetVerdict(l)
			r.Subnets = append(r.Subnets, sr)
			r.Verdict = r.Verdict.Worse(sr.Verdict)
		}
	}
	r.Quotas = v.quotas(f)
	for _, q := range r.Quotas {
		r.Verdict = r.Verdict.Worse(q.Verdict)
	}
	r.Verdict = r.Verdict.Worse(OK)
	return r
}

// spread adds demand to the subnets of pool in proportion to their free
// addresses (evenly when none has any).
func spread(pool []*subnetLoad, ips, ipsMax, prefixes, prefixesMax int) {
	total := 0
	for _, l := range pool {
		total += max(l.s.Available, 0)
	}
	for _, l := range pool {
		share := 1 / float64(len(pool))
		if total > 0 {
			share = float64(max(l.s.Available, 0)) / float64(total)
		}
		l.ips += share * float64(ips)
		l.ipsMax += share * float64(ipsMax)
		l.prefixes += share * float64(prefixes)
		l.prefixesAt += share * float64(prefixesMax)
	}
}

// azVerdict applies the zone rules: FAIL when the demand at desired plus
// surge exceeds the supply or, with prefix delegation, the free /28 blocks;
// WARN when the demand at maxSize does, or when less than HeadroomWarn of the
// supply would stay free.
func azVerdict(a AZReport, pd bool) (Verdict, string) {
	switch {
	case a.DemandIPs > a.SupplyIPs:
		return Fail, remedyAddSubnet(a, "short of %d IPs", a.DemandIPs-a.SupplyIPs)
	case pd && a.DemandPrefixes > a.FreePrefixes:
		return Fail, remedyPrefixes(a.AZ, false, a.DemandPrefixes, a.FreePrefixes)
	case a.DemandIPsAtMax > a.SupplyIPs:
		return Warn, remedyAddSubnet(a, "at maxSize short of %d IPs", a.DemandIPsAtMax-a.SupplyIPs)
	case pd && a.DemandPrefixesAtMax > a.FreePrefixes:
		return Warn, remedyPrefixes(a.AZ, true, a.DemandPrefixesAtMax, a.FreePrefixes)
	case a.SupplyIPs > 0 && float64(a.SupplyIPs-a.DemandIPs) < HeadroomWarn*float64(a.SupplyIPs):
		return Warn, remedyAddSubnet(a, "%d IPs left, under 10%% of free", a.SupplyIPs-a.DemandIPs)
	}
	return OK, ""
}

// subnetVerdict applies the subnet rules: a control-plane subnet needs 6
// free addresses (FAIL) and 5 more for a later in-place update (WARN); a
// subnet must hold its share of the zone's demand and, with prefix
// delegation, of its /28 blocks (FAIL); a load balancer subnet must keep
// ELBMinFreeIPs free after its share (WARN).
func subnetVerdict(l *subnetLoad) SubnetReport {
	s := l.s
	sr := SubnetReport{ID: s.ID, AZ: s.AZ, CIDR: s.CIDR, AvailableIPs: s.Available, FreePrefixes: s.FreePrefixes,
		DemandIPs: ceilF(l.ips), DemandPrefixes: ceilF(l.prefixes), Verdict: OK}
	for _, role := range []string{RoleNodes, RolePods, RoleCNI, RoleControlPlane, RoleELB, RoleInternalELB} {
		if l.roles[role] {
			sr.Roles = append(sr.Roles, role)
		}
	}
	cp := l.roles[RoleControlPlane]
	left := s.Available - sr.DemandIPs
	// What must fit now: the control plane's update reserve only warns.
	need := sr.DemandIPs
	if cp {
		need -= ControlPlaneUpdateIPs
	}
	switch {
	case cp && s.Available < ControlPlaneMinIPs:
		sr.Verdict, sr.Remedy = Fail, remedyControlPlane(s, true)
	case need > s.Available:
		sr.Verdict, sr.Remedy = Fail, remedySubnetShort(s, need)
	case l.pd && sr.DemandPrefixes > s.FreePrefixes:
		sr.Verdict, sr.Remedy = Fail, remedyPrefixes(s.ID, false, sr.DemandPrefixes, s.FreePrefixes)
	case cp && sr.DemandIPs > s.Available:
		sr.Verdict, sr.Remedy = Warn, remedyControlPlane(s, false)
	case (s.elb || s.internalELB) && left < ELBMinFreeIPs:
		sr.Verdict, sr.Remedy = Warn, remedyELB(s, left)
	case l.pd && ceilF(l.prefixesAt) > s.FreePrefixes:
		sr.Verdict, sr.Remedy = Warn, remedyPrefixes(s.ID, true, ceilF(l.prefixesAt), s.FreePrefixes)
	}
	return sr
}

// ceilF rounds a share up, ignoring float noise below 1e-9.
func ceilF(x float64) int {
	n := int(x)
	if x-float64(n) > 1e-9 {
		n++
	}
	return n
}
