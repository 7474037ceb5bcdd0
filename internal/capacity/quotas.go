package capacity

import "slices"

// The service quotas the check compares the green cluster with. Codes are
// Service Quotas' (https://docs.aws.amazon.com/servicequotas/latest/userguide/):
// EC2 https://docs.aws.amazon.com/ec2/latest/instancetypes/ec2-instance-quotas.html,
// EKS https://docs.aws.amazon.com/eks/latest/userguide/service-quotas.html,
// VPC https://docs.aws.amazon.com/vpc/latest/userguide/amazon-vpc-limits.html,
// ELB https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-limits.html.
const (
	quotaOnDemandVCPUs        quotaKey = "ec2/L-1216C47A"
	quotaSpotVCPUs            quotaKey = "ec2/L-34B43A08"
	quotaClusters             quotaKey = "eks/L-1194D53C"
	quotaNodegroupsPerCluster quotaKey = "eks/L-6D54EA21"
	quotaNodesPerNodegroup    quotaKey = "eks/L-BD136A63"
	quotaENIs                 quotaKey = "vpc/L-DF5E4CA3"
	quotaTargetGroups         quotaKey = "elasticloadbalancing/L-B22855CB"
	quotaRulesPerALB          quotaKey = "elasticloadbalancing/L-7EED9B64"
)

// quotaDef is a quota of the report, with its name as Service Quotas
// spells it.
type quotaDef struct {
	key  quotaKey
	name string
}

// quotaTable lists the quotas in the order of the report's rows.
func quotaTable() []quotaDef {
	return []quotaDef{
		{quotaOnDemandVCPUs, "Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) instances (vCPUs)"},
		{quotaSpotVCPUs, "All Standard (A, C, D, H, I, M, R, T, Z) Spot Instance Requests (vCPUs)"},
		{quotaClusters, "Clusters"},
		{quotaNodegroupsPerCluster, "Managed node groups per cluster"},
		{quotaNodesPerNodegroup, "Nodes per managed node group"},
		{quotaENIs, "Network interfaces per Region"},
		{quotaTargetGroups, "Target Groups per Region"},
		{quotaRulesPerALB, "Rules per Application Load Balancer"},
	}
}

// QuotaWarn is the share of a quota's limit from which usage plus the green
// cluster's demand is a WARN; above the limit it is a FAIL.
const QuotaWarn = 0.8

// quotas compares usage plus the green cluster's demand with each limit.
// Demand is counted at desiredCapacity plus one surge node per node group,
// the figure that must fit.
func (v *view) quotas(f *regionFacts) []QuotaReport {
	var onDemand, spot, nodegroups, maxNodes, enis int
	for _, ng := range v.ngs {
		nodes := ng.ng.Desired + 1
		if ng.node.standard {
			if ng.ng.Spot {
				spot += nodes * ng.node.vcpus
			} else {
				onDemand += nodes * ng.node.vcpus
			}
		}
		if ng.ng.Managed {
			nodegroups++
			maxNodes = max(maxNodes, ng.ng.Max, nodes)
		}
		enis += nodes * ng.node.enis
	}
	// EKS places 2 to 4 control-plane network interfaces, one per zone.
	// https://docs.aws.amazon.com/eks/latest/userguide/network-reqs.html
	cpZones := map[string]bool{}
	for _, s := range v.cp {
		cpZones[s.AZ] = true
	}
	enis += min(max(len(cpZones), 2), 4)

	newCluster := 1
	if f.clusters[v.in.Cluster.Name] {
		newCluster = 0
	}
	newTGs := 0
	for _, tg := range v.in.GreenTargetGroups {
		if !f.targetGroups[tg] {
			newTGs++
		}
	}
	rules := -1
	for _, r := range v.in.ListenerRules {
		if n, ok := f.rules[loadBalancerOf(r)]; ok {
			rules = max(rules, n)
		}
	}

	used := map[quotaKey][2]int{
		quotaOnDemandVCPUs:        {f.onDemandVCPUs, onDemand},
		quotaSpotVCPUs:            {f.spotVCPUs, spot},
		quotaClusters:             {len(f.clusters), newCluster},
		quotaNodegroupsPerCluster: {0, nodegroups},
		quotaNodesPerNodegroup:    {0, maxNodes},
		quotaENIs:                 {f.enis, enis},
		quotaTargetGroups:         {len(f.targetGroups), newTGs},
	}
	if rules >= 0 {
		// The upgrade shifts weights on existing rules: it adds none.
		used[quotaRulesPerALB] = [2]int{rules, 0}
	}
	var out []QuotaReport
	for _, d := range quotaTable() {
		u, ok := used[d.key]
		limit, known := f.limits[d.key]
		if !ok || !known {
			continue
		}
		service, code := d.key.split()
		q := QuotaReport{Service: service, Code: code, Name: d.name, Limit: limit, Used: u[0], Demand: u[1], Verdict: OK}
		total := float64(q.Used + q.Demand)
		switch {
		case total > limit:
			q.Verdict = Fail
		case total > 0 && total >= QuotaWarn*limit:
			q.Verdict = Warn
		}
		if q.Verdict != OK {
			q.Remedy = remedyQuota(q)
		}
		out = append(out, q)
	}
	return out
}

// planQuotas lists the quotas inputs need read.
func planQuotas(ins []*prepared) []quotaKey {
	rules := slices.ContainsFunc(ins, func(p *prepared) bool { return len(p.in.ListenerRules) > 0 })
	var out []quotaKey
	for _, d := range quotaTable() {
		if d.key != quotaRulesPerALB || rules {
			out = append(out, d.key)
		}
	}
	return out
}
