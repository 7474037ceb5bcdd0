package capacity

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"

	"golang.org/x/sync/errgroup"
)

// Check computes the capacity report of one green cluster: the entry point
// of `eksbg capacity` and of the pre-flight phase of an upgrade.
func Check(ctx context.Context, c Clients, in Input) (*Report, error) {
	rs, err := CheckAll(ctx, c, []Input{in})
	if err != nil {
		return nil, err
	}
	return rs[0], nil
}

// CheckAll checks green clusters that live in the account and region of c,
// reading what they share (the region's network interfaces, instances and
// quotas, a VPC's subnets) once. Reports are in the order of ins.
func CheckAll(ctx context.Context, c Clients, ins []Input) ([]*Report, error) {
	if c.EC2 == nil || c.EKS == nil || c.Quotas == nil || c.ELB == nil {
		return nil, fmt.Errorf("capacity: the EC2, EKS, Service Quotas and ELB clients are required")
	}
	co := newCollector(c)
	if c.Census != nil || c.CNIEnv != nil {
		// Only a blue cluster that exists has pods to count and an aws-node
		// to read: one ListClusters (which the quota check needs anyway)
		// saves a DescribeCluster per environment that has none.
		names, err := co.clusterNames(ctx)
		if err != nil {
			return nil, err
		}
		ins = slices.Clone(ins)
		for i := range ins {
			if ins[i].BlueCluster != "" && !slices.Contains(names, ins[i].BlueCluster) {
				ins[i].BlueCluster = ""
			}
		}
	}
	preps := make([]*prepared, len(ins))
	g, gctx := errgroup.WithContext(ctx)
	for i, in := range ins {
		g.Go(func() error {
			p, err := prepare(gctx, c, in)
			preps[i] = p
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}

	vpcOf := make([]string, len(preps))
	var unknown []string
	for i, p := range preps {
		vpcOf[i] = p.in.Cluster.VPCID
		if vpcOf[i] == "" {
			id := firstSubnetID(p.in.Cluster)
			if id == "" {
				return nil, fmt.Errorf("cluster %s: the config names neither a VPC (vpc.id) nor a subnet ID", p.in.Cluster.Name)
			}
			unknown = append(unknown, id)
		}
	}
	if len(unknown) > 0 {
		found, err := co.subnetVPCs(ctx, unknown)
		if err != nil {
			return nil, err
		}
		for i, p := range preps {
			if vpcOf[i] == "" {
				id := firstSubnetID(p.in.Cluster)
				if vpcOf[i] = found[id]; vpcOf[i] == "" {
					return nil, fmt.Errorf("cluster %s: subnet %s does not exist", p.in.Cluster.Name, id)
				}
			}
		}
	}

	pl := plan{quotas: planQuotas(preps)}
	types, lbs := map[string]bool{}, map[string]bool{}
	for i, p := range preps {
		if !slices.Contains(pl.vpcs, vpcOf[i]) {
			pl.vpcs = append(pl.vpcs, vpcOf[i])
		}
		for _, ng := range p.in.Cluster.NodeGroups {
			for _, t := range ng.InstanceTypes {
				types[t] = true
			}
		}
		for _, r := range p.in.ListenerRules {
			lb := loadBalancerOf(r)
			if lb == "" {
				return nil, fmt.Errorf("environment %s: %q is not a listener rule ARN", p.in.Name, r)
			}
			lbs[lb] = true
		}
	}
	sort.Strings(pl.vpcs)
	pl.instanceTypes, pl.loadBalancers = slices.Sorted(maps.Keys(types)), slices.Sorted(maps.Keys(lbs))
	pl.pdSubnets = func(vpc string, subnets []*subnetFacts) []*subnetFacts {
		byID := make(map[string]*subnetFacts, len(subnets))
		for _, s := range subnets {
			byID[s.ID] = s
		}
		var out []*subnetFacts
		for i, p := range preps {
			if vpcOf[i] != vpc || !p.settings.PrefixDelegation() {
				continue
			}
			v, err := p.resolveSubnets(vpc, byID, subnets)
			if err != nil {
				continue // reported when the input is evaluated
			}
			for _, s := range v.pdSubnets() {
				if !slices.Contains(out, s) {
					out = append(out, s)
				}
			}
		}
		return out
	}

	f, err := co.collect(ctx, pl)
	if err != nil {
		return nil, err
	}
	out := make([]*Report, len(preps))
	for i, p := range preps {
		v, err := p.resolveSubnets(vpcOf[i], f.subnets, f.byVPC[vpcOf[i]])
		if err != nil {
			return nil, err
		}
		if err := v.figure(f.types); err != nil {
			return nil, err
		}
		out[i] = v.evaluate(f)
	}
	return out, nil
}

// firstSubnetID is a subnet ID the cluster names, "" if none.
func firstSubnetID(c Cluster) string {
	for _, ng := range c.NodeGroups {
		for _, s := range ng.Subnets {
			if s.ID != "" {
				return s.ID
			}
		}
	}
	for _, s := range c.ControlPlaneSubnets {
		if s.ID != "" {
			return s.ID
		}
	}
	return ""
}
