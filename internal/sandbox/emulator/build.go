package emulator

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/eksbg/eksbg/internal/sandbox/scenario"
)

// DefaultCredential is what the emulator accepts when a scenario names none;
// the sandbox's env file exports it.
var DefaultCredential = scenario.Credential{AccessKeyID: "AKIASANDBOX000000000", SecretAccessKey: "sandbox-secret-access-key"}

// Default timings (seconds) when a scenario leaves them out: short enough for
// a demo, long enough that CREATING and DELETING are observable.
var defaultTiming = scenario.Timing{ClusterCreate: 5, ClusterDelete: 3, NodegroupCreate: 3, NodegroupDelete: 2,
	NodegroupUpdate: 2, AddonCreate: 1, AddonDelete: 1, TargetInitial: 0}

// NewWorld builds the world a scenario describes, as it stands at now:
// the scenario's clusters, nodegroups and add-ons are ACTIVE, with their
// instances, ENIs and addresses allocated.
func NewWorld(s *scenario.Scenario, now time.Time) (*World, error) {
	w := &World{
		Account: s.Account, Region: s.Region, Credentials: s.Credentials, Timing: s.Timing,
		Seed:          s.Account + "/" + s.Region,
		InstanceTypes: builtinInstanceTypes(),
		VPCs:          map[string]*VPC{}, Subnets: map[string]*Subnet{}, ENIs: map[string]*ENI{},
		Instances: map[string]*Instance{}, Clusters: map[string]*Cluster{},
		LoadBalancers: map[string]*LoadBalancer{}, Listeners: map[string]*Listener{}, Rules: map[string]*Rule{},
		TargetGroups: map[string]*TargetGroup{}, Quotas: map[string]float64{},
		Traffic: Traffic{RuleRPS: map[string][]RPSChange{}, Clusters: map[string][]ClusterTrafficChange{}},
		Faults:  s.Faults,
	}
	if len(w.Credentials) == 0 {
		w.Credentials = []scenario.Credential{DefaultCredential}
	}
	for i := range w.Credentials {
		if w.Credentials[i].ARN == "" {
			w.Credentials[i].ARN = fmt.Sprintf("arn:aws:iam::%s:user/sandbox", s.Account)
		}
	}
	applyTimingDefaults(&w.Timing)
	for _, it := range s.InstanceTypes {
		hv := it.Hypervisor
		if hv == "" {
			hv = "nitro"
		}
		w.InstanceTypes[it.Name] = &InstanceType{Name: it.Name, VCPUs: it.VCPUs, MemoryMiB: it.MemoryMiB,
			MaxENIs: it.MaxENIs, IPv4PerENI: it.IPv4PerENI, Hypervisor: hv, Arch: "x86_64"}
	}
	azs := map[string]bool{s.Region + "a": true, s.Region + "b": true, s.Region + "c": true}
	if len(s.AvailabilityZones) > 0 {
		azs = map[string]bool{}
		for _, az := range s.AvailabilityZones {
			azs[az] = true
		}
	}
	for _, v := range s.VPCs {
		w.VPCs[v.ID] = &VPC{ID: v.ID, CIDR: v.CIDR, Tags: v.Tags}
		for _, sn := range v.Subnets {
			azs[sn.AZ] = true
			m, err := newIPAM(sn.CIDR)
			if err != nil {
				return nil, err
			}
			w.Subnets[sn.ID] = &Subnet{ID: sn.ID, VPCID: v.ID, AZ: sn.AZ, CIDR: sn.CIDR, Tags: sn.Tags, ipam: m}
		}
	}
	w.AZs = sortedKeys(azs)
	// Reserved addresses: requester-managed ENIs of up to 50 addresses each,
	// as NAT gateways, endpoints and databases hold them.
	for _, v := range s.VPCs {
		for _, sn := range v.Subnets {
			for left := sn.ReservedIPs; left > 0; left -= 50 {
				n := min(left, 50)
				if _, err := w.createENI(eniSpec{SubnetID: sn.ID, Description: fmt.Sprintf("Reserved by the scenario (%d addresses)", n),
					RequesterManaged: true, RequesterID: "scenario", IPs: n, Scattered: sn.ReservedLayout == "scattered"}, now); err != nil {
					return nil, fmt.Errorf("reserving addresses in %s: %w", sn.ID, err)
				}
			}
		}
	}
	// Hand-made ENIs: unattached, so "available"
	// (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_NetworkInterface.html).
	for _, v := range s.VPCs {
		for _, sn := range v.Subnets {
			for _, ni := range sn.NetworkInterfaces {
				tags := map[string]string{"Name": ni.Name}
				for k, val := range ni.Tags {
					tags[k] = val
				}
				e, err := w.createENI(eniSpec{SubnetID: sn.ID, Description: ni.Description, IPs: 1 + ni.SecondaryIPs,
					Prefixes: ni.Prefixes, Tags: tags}, now)
				if err == nil && (len(e.PrivateIPs) < 1+ni.SecondaryIPs || len(e.Prefixes) < ni.Prefixes) {
					err = errNoAddresses{sn.ID}
				}
				if err != nil {
					return nil, fmt.Errorf("network interface %s in %s: %w", ni.Name, sn.ID, err)
				}
				e.Status = "available"
			}
		}
	}
	for k, v := range s.Quotas {
		w.Quotas[k] = v
	}
	w.addScenarioBuckets(s.Buckets, now)
	created := now.Add(-24 * time.Hour)
	for _, sc := range s.Clusters {
		c, err := w.newCluster(sc.Name, sc.Version, sc.Subnets, nil, sc.Tags, created)
		if err != nil {
			return nil, fmt.Errorf("cluster %s: %w", sc.Name, err)
		}
		c.Status, c.CNI = StatusActive, sc.CNI
		// The scenario's clusters were made by its first credential.
		c.CreatorAdminARN, c.AccessEntries = w.Credentials[0].ARN, sc.AccessEntries
		for _, a := range sc.Addons {
			c.Addons[a.Name] = &Addon{Name: a.Name, Version: a.Version, Status: StatusActive, CreatedAt: created, ModifiedAt: created,
				ARN:                 w.arn("eks", fmt.Sprintf("addon/%s/%s/%s", c.Name, a.Name, uuidFrom(stableID(c.Name, a.Name)))),
				ConfigurationValues: a.ConfigurationValues}
		}
		for _, sng := range sc.Nodegroups {
			subnets := sng.Subnets
			if len(subnets) == 0 {
				subnets = sc.Subnets
			}
			ng := w.newNodegroup(c, sng.Name, []string{sng.InstanceType}, sng.CapacityType, sng.AMIType, subnets,
				sng.Min, sng.Max, sng.Desired, sng.Labels, created)
			ng.Status, ng.PodsPerNode, ng.MaxPods = StatusActive, sng.PodsPerNode, sng.MaxPods
			if _, ok := w.InstanceTypes[sng.InstanceType]; !ok {
				return nil, fmt.Errorf("cluster %s nodegroup %s: unknown instance type %q (add it under instanceTypes)", c.Name, ng.Name, sng.InstanceType)
			}
			if err := w.reconcileNodegroup(c, ng, created); err != nil {
				return nil, fmt.Errorf("cluster %s nodegroup %s: %w (the scenario's subnets are too small for it)", c.Name, ng.Name, err)
			}
		}
	}
	if err := w.buildLoadBalancing(s, created); err != nil {
		return nil, err
	}
	for name, ct := range s.Traffic.Clusters {
		w.Traffic.Clusters[name] = []ClusterTrafficChange{{At: created, ClusterTraffic: ct}}
	}
	return w, nil
}

func applyTimingDefaults(t *scenario.Timing) {
	set := func(v *float64, d float64) {
		if *v == 0 {
			*v = d
		}
	}
	set(&t.ClusterCreate, defaultTiming.ClusterCreate)
	set(&t.ClusterDelete, defaultTiming.ClusterDelete)
	set(&t.NodegroupCreate, defaultTiming.NodegroupCreate)
	set(&t.NodegroupDelete, defaultTiming.NodegroupDelete)
	set(&t.NodegroupUpdate, defaultTiming.NodegroupUpdate)
	set(&t.AddonCreate, defaultTiming.AddonCreate)
	set(&t.AddonDelete, defaultTiming.AddonDelete)
}

// uuidFrom formats 32 hex digits as a UUID (EKS nodegroup and addon ARNs end in one).
func uuidFrom(h string) string {
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// newCluster registers a cluster and creates its control-plane ENIs: EKS
// places 2 to 4 of them in the cluster's subnets, in distinct AZs
// (https://docs.aws.amazon.com/eks/latest/userguide/network-reqs.html).
func (w *World) newCluster(name, version string, subnets, sgs []string, tags map[string]string, now time.Time) (*Cluster, error) {
	if len(subnets) == 0 {
		return nil, fmt.Errorf("no subnets")
	}
	first, ok := w.Subnets[subnets[0]]
	if !ok {
		return nil, fmt.Errorf("subnet %s does not exist", subnets[0])
	}
	id := strings.ToUpper(stableID("cluster", name, now.String())[:32])
	c := &Cluster{Name: name, ARN: w.arn("eks", "cluster/"+name), Version: version, PlatformVersion: platformVersion(version),
		Status: StatusCreating, CreatedAt: now, Deadline: now.Add(seconds(w.Timing.ClusterCreate)),
		RoleARN:   fmt.Sprintf("arn:aws:iam::%s:role/%s-cluster-role", w.Account, name),
		SubnetIDs: subnets, SecurityGroupIDs: sgs, ClusterSGID: "sg-" + stableID("clustersg", name)[:17], VPCID: first.VPCID,
		EndpointPublic: true, PublicCIDRs: []string{"0.0.0.0/0"}, ServiceCIDR: "172.20.0.0/16",
		Endpoint:   fmt.Sprintf("https://%s.gr7.%s.eks.amazonaws.com", id, w.Region),
		OIDCIssuer: fmt.Sprintf("https://oidc.eks.%s.amazonaws.com/id/%s", w.Region, id),
		Tags:       tags, AuthMode: "API_AND_CONFIG_MAP",
		Nodegroups: map[string]*Nodegroup{}, Addons: map[string]*Addon{}, Updates: map[string]*Update{}}
	ca, err := newClusterCA(now)
	if err != nil {
		return nil, err
	}
	c.CertificateData = ca
	picked := w.distinctAZSubnets(subnets, 4)
	if len(picked) < 2 {
		return nil, fmt.Errorf("subnets must be in at least two different availability zones")
	}
	for _, sid := range picked {
		e, err := w.createENI(eniSpec{SubnetID: sid, Description: "Amazon EKS " + name, RequesterManaged: true,
			RequesterID: "eks.amazonaws.com", IPs: 1, Cluster: name}, now)
		if err != nil {
			for _, done := range c.ControlPlaneENIs {
				w.deleteENI(done)
			}
			return nil, err
		}
		c.ControlPlaneENIs = append(c.ControlPlaneENIs, e.ID)
	}
	w.Clusters[name] = c
	return c, nil
}

// platformVersion is a plausible EKS platform version for a Kubernetes version.
func platformVersion(v string) string { return "eks.1" }

func (w *World) newNodegroup(c *Cluster, name string, types []string, capacity, ami string, subnets []string,
	minSize, maxSize, desired int, labels map[string]string, now time.Time) *Nodegroup {
	if capacity == "" {
		capacity = "ON_DEMAND"
	}
	if ami == "" {
		ami = "AL2023_x86_64_STANDARD"
	}
	ng := &Nodegroup{Name: name, Cluster: c.Name, Status: StatusCreating, CreatedAt: now, ModifiedAt: now,
		Deadline: now.Add(seconds(w.Timing.NodegroupCreate)), Version: c.Version,
		ReleaseVersion: c.Version + ".0-20260101", InstanceTypes: types, CapacityType: capacity, AMIType: ami,
		DiskSize: 20, Min: minSize, Max: maxSize, Desired: desired, SubnetIDs: subnets,
		NodeRole: fmt.Sprintf("arn:aws:iam::%s:role/%s-node-role", w.Account, c.Name), Labels: labels,
		MaxUnavailable: 1}
	ng.ARN = w.arn("eks", fmt.Sprintf("nodegroup/%s/%s/%s", c.Name, name, uuidFrom(stableID("ng", c.Name, name, now.String()))))
	c.Nodegroups[name] = ng
	return ng
}

// ELBv2 ARNs end in 16 hex digits derived from names, so the ARNs a
// scenario's eksbg.yaml names are the same on every run.
func (w *World) tgARN(name string) string {
	return w.arn("elasticloadbalancing", "targetgroup/"+name+"/"+stableID("tg", name)[:16])
}

func (w *World) buildLoadBalancing(s *scenario.Scenario, now time.Time) error {
	tgByName := map[string]string{}
	for _, st := range s.TargetGroups {
		tg := &TargetGroup{ARN: w.tgARN(st.Name), Name: st.Name, VPCID: st.VPC, Protocol: defaultStr(st.Protocol, "HTTP"),
			Port: defaultInt(st.Port, 80), TargetType: defaultStr(st.TargetType, "ip"),
			HealthCheckPath: defaultStr(st.HealthCheckPath, "/"), Cluster: st.Cluster}
		for _, t := range st.Targets {
			tg.Targets = append(tg.Targets, Target{ID: t, Port: tg.Port, RegisteredAt: now})
		}
		if st.TargetCount > 0 {
			ips := w.podIPs(st.Cluster, st.TargetCount)
			if len(ips) < st.TargetCount {
				return fmt.Errorf("target group %s: cluster %q has only %d pod addresses for %d targets", st.Name, st.Cluster, len(ips), st.TargetCount)
			}
			for _, ip := range ips {
				tg.Targets = append(tg.Targets, Target{ID: ip, Port: tg.Port, RegisteredAt: now})
			}
		}
		w.TargetGroups[tg.ARN] = tg
		tgByName[st.Name] = tg.ARN
	}
	forward := func(fw []scenario.Forward) []Action {
		fc := &ForwardConfig{}
		for _, f := range fw {
			fc.TargetGroups = append(fc.TargetGroups, WeightedTG{ARN: tgByName[f.TargetGroup], Weight: f.Weight})
		}
		a := Action{Type: "forward", Order: 1, Forward: fc}
		if len(fc.TargetGroups) == 1 {
			a.TargetGroupARN = fc.TargetGroups[0].ARN
		}
		return []Action{a}
	}
	for _, sl := range s.LoadBalancers {
		lbID := stableID("lb", sl.Name)[:16]
		first := w.Subnets[sl.Subnets[0]]
		lb := &LoadBalancer{ARN: w.arn("elasticloadbalancing", "loadbalancer/app/"+sl.Name+"/"+lbID), Name: sl.Name,
			DNSName: fmt.Sprintf("%s-%d.%s.elb.amazonaws.com", sl.Name, 1000000000+int(parseHex(lbID[:7])), w.Region),
			Scheme:  defaultStr(sl.Scheme, "internet-facing"), VPCID: first.VPCID, SubnetIDs: sl.Subnets,
			SecurityGroups: []string{"sg-" + stableID("lbsg", sl.Name)[:17]}, CreatedAt: now, State: "active"}
		for _, sid := range sl.Subnets {
			e, err := w.createENI(eniSpec{SubnetID: sid, Description: "ELB app/" + sl.Name + "/" + lbID, RequesterManaged: true,
				RequesterID: "amazon-elb", IPs: 1}, now)
			if err != nil {
				return fmt.Errorf("load balancer %s: %w", sl.Name, err)
			}
			lb.ENIs = append(lb.ENIs, e.ID)
		}
		w.LoadBalancers[lb.ARN] = lb
		for _, sls := range sl.Listeners {
			lid := stableID("listener", sl.Name, strconv.Itoa(sls.Port))[:16]
			l := &Listener{ARN: w.arn("elasticloadbalancing", fmt.Sprintf("listener/app/%s/%s/%s", sl.Name, lbID, lid)),
				LoadBalancer: lb.ARN, Port: sls.Port, Protocol: defaultStr(sls.Protocol, "HTTP"), DefaultActions: forward(sls.DefaultForward)}
			w.Listeners[l.ARN] = l
			ruleARN := func(key string) string {
				return w.arn("elasticloadbalancing", fmt.Sprintf("listener-rule/app/%s/%s/%s/%s", sl.Name, lbID, lid, stableID("rule", sl.Name, lid, key)[:16]))
			}
			def := &Rule{ARN: ruleARN("default"), Listener: l.ARN, Priority: "default", IsDefault: true, Actions: l.DefaultActions}
			l.DefaultRule = def.ARN
			w.Rules[def.ARN] = def
			w.recordWeights(def, now)
			for _, sr := range sls.Rules {
				r := &Rule{ARN: ruleARN(sr.Name), Listener: l.ARN, Priority: strconv.Itoa(sr.Priority), Actions: forward(sr.Forward),
					Tags: map[string]string{"Name": sr.Name}}
				if len(sr.PathPattern) > 0 {
					r.Conditions = append(r.Conditions, Condition{Field: "path-pattern", Values: sr.PathPattern})
				}
				if len(sr.HostHeader) > 0 {
					r.Conditions = append(r.Conditions, Condition{Field: "host-header", Values: sr.HostHeader})
				}
				w.Rules[r.ARN] = r
				w.recordWeights(r, now)
				if rps, ok := s.Traffic.Rules[sr.Name]; ok {
					w.Traffic.RuleRPS[r.ARN] = []RPSChange{{At: now, RPS: rps}}
				}
			}
			for _, a := range l.DefaultActions {
				if a.Forward != nil {
					for _, t := range a.Forward.TargetGroups {
						tg := w.TargetGroups[t.ARN]
						tg.LoadBalancers = appendUnique(tg.LoadBalancers, lb.ARN)
					}
				}
			}
			for _, r := range w.Rules {
				if r.Listener != l.ARN {
					continue
				}
				for _, a := range r.Actions {
					if a.Forward != nil {
						for _, t := range a.Forward.TargetGroups {
							tg := w.TargetGroups[t.ARN]
							tg.LoadBalancers = appendUnique(tg.LoadBalancers, lb.ARN)
						}
					}
				}
			}
		}
	}
	return nil
}

// recordWeights appends the rule's current forward weights to its history.
func (w *World) recordWeights(r *Rule, now time.Time) {
	r.History = append(r.History, WeightChange{At: now, Weights: forwardWeights(r)})
}

// podIPs returns up to n secondary addresses of a cluster's nodes, spread
// over AZs: the addresses the VPC CNI hands to pods.
func (w *World) podIPs(cluster string, n int) []string {
	perAZ := map[string][]string{}
	for _, id := range sortedKeys(w.ENIs) {
		e := w.ENIs[id]
		if e.Cluster != cluster || e.Nodegroup == "" {
			continue
		}
		perAZ[e.AZ] = append(perAZ[e.AZ], e.PrivateIPs[1:]...)
	}
	azs := sortedKeys(perAZ)
	var out []string
	for i := 0; len(out) < n; i++ {
		added := false
		for _, az := range azs {
			if i < len(perAZ[az]) && len(out) < n {
				out = append(out, perAZ[az][i])
				added = true
			}
		}
		if !added {
			break
		}
	}
	sort.Strings(out)
	return out
}

func appendUnique(s []string, v string) []string {
	for _, x := range s {
		if x == v {
			return s
		}
	}
	return append(s, v)
}

func defaultStr(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

func defaultInt(n, d int) int {
	if n == 0 {
		return d
	}
	return n
}

func parseHex(s string) int64 {
	n, _ := strconv.ParseInt(s, 16, 64)
	return n
}
