package scenario

import (
	"fmt"
	"net/netip"
	"os"
	"regexp"
	"strings"

	"github.com/eksbg/eksbg/internal/yamlstrict"
)

// Load reads and validates a scenario file.
func Load(path string) (*Scenario, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading scenario: %w", err)
	}
	return Parse(path, data)
}

var (
	reAccount  = regexp.MustCompile(`^[0-9]{12}$`)
	reRegion   = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)
	reVPC      = regexp.MustCompile(`^vpc-[0-9a-f]{8,17}$`)
	reSubnet   = regexp.MustCompile(`^subnet-[0-9a-f]{8,17}$`)
	reName     = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9-]{0,99}$`)
	reTGName   = regexp.MustCompile(`^[a-zA-Z0-9]([a-zA-Z0-9-]{0,30}[a-zA-Z0-9])?$`)
	reQuotaKey = regexp.MustCompile(`^[a-z0-9-]+/L-[0-9A-F]{8}$`)
	reVersion  = regexp.MustCompile(`^1\.[0-9]{2}$`)
)

// Parse decodes and validates a scenario. Every problem found is reported
// with file, line and field.
func Parse(file string, data []byte) (*Scenario, error) {
	var s Scenario
	doc, err := yamlstrict.Decode(file, data, &s)
	if err != nil {
		return nil, err
	}
	v := validator{doc: doc}
	v.scenario(&s)
	if len(v.errs) > 0 {
		return nil, v.errs
	}
	return &s, nil
}

type validator struct {
	doc  *yamlstrict.Doc
	errs yamlstrict.Errors
}

func (v *validator) fail(path, format string, args ...any) {
	v.errs = append(v.errs, v.doc.Errorf(path, format, args...))
}

func (v *validator) scenario(s *Scenario) {
	if s.APIVersion != APIVersion {
		v.fail("apiVersion", "must be %q, got %q", APIVersion, s.APIVersion)
	}
	if s.Kind != Kind {
		v.fail("kind", "must be %q, got %q", Kind, s.Kind)
	}
	if !reAccount.MatchString(s.Account) {
		v.fail("account", "must be a 12-digit AWS account ID, got %q", s.Account)
	}
	if !reRegion.MatchString(s.Region) {
		v.fail("region", "must be an AWS region such as us-east-1, got %q", s.Region)
	}
	for i, c := range s.Credentials {
		p := fmt.Sprintf("credentials[%d]", i)
		if c.AccessKeyID == "" || c.SecretAccessKey == "" {
			v.fail(p, "needs accessKeyId and secretAccessKey")
		}
	}
	v.nonNegative("timing.clusterCreate", s.Timing.ClusterCreate)
	v.nonNegative("timing.clusterDelete", s.Timing.ClusterDelete)
	v.nonNegative("timing.nodegroupCreate", s.Timing.NodegroupCreate)
	v.nonNegative("timing.nodegroupDelete", s.Timing.NodegroupDelete)
	v.nonNegative("timing.nodegroupUpdate", s.Timing.NodegroupUpdate)
	v.nonNegative("timing.addonCreate", s.Timing.AddonCreate)
	v.nonNegative("timing.addonDelete", s.Timing.AddonDelete)
	v.nonNegative("timing.targetInitial", s.Timing.TargetInitial)
	for i, az := range s.AvailabilityZones {
		v.az(fmt.Sprintf("availabilityZones[%d]", i), az, s.Region)
	}

	subnets := map[string]netip.Prefix{}
	var all []netip.Prefix
	var allPaths []string
	vpcs := map[string]bool{}
	for i, vpc := range s.VPCs {
		p := fmt.Sprintf("vpcs[%d]", i)
		if !reVPC.MatchString(vpc.ID) {
			v.fail(p+".id", "must look like vpc-0123456789abcdef0, got %q", vpc.ID)
		} else if vpcs[vpc.ID] {
			v.fail(p+".id", "duplicate VPC ID %q", vpc.ID)
		}
		vpcs[vpc.ID] = true
		vcidr, ok := v.cidr(p+".cidr", vpc.CIDR, 16, 28)
		for j, sn := range vpc.Subnets {
			sp := fmt.Sprintf("%s.subnets[%d]", p, j)
			if !reSubnet.MatchString(sn.ID) {
				v.fail(sp+".id", "must look like subnet-0123456789abcdef0, got %q", sn.ID)
			} else if _, dup := subnets[sn.ID]; dup {
				v.fail(sp+".id", "duplicate subnet ID %q", sn.ID)
			}
			v.az(sp+".az", sn.AZ, s.Region)
			scidr, sok := v.cidr(sp+".cidr", sn.CIDR, 16, 28)
			if sok && ok && (!vcidr.Contains(scidr.Addr()) || scidr.Bits() < vcidr.Bits()) {
				v.fail(sp+".cidr", "%s is not inside the VPC's %s", sn.CIDR, vpc.CIDR)
			}
			if sok {
				for k, o := range all {
					if o.Overlaps(scidr) {
						v.fail(sp+".cidr", "%s overlaps %s (%s)", sn.CIDR, o, allPaths[k])
					}
				}
				all = append(all, scidr)
				allPaths = append(allPaths, sp)
				if usable := (1 << (32 - scidr.Bits())) - 5; sn.ReservedIPs > usable || sn.ReservedIPs < 0 {
					v.fail(sp+".reservedIPs", "must be between 0 and %d (the subnet's usable addresses), got %d", usable, sn.ReservedIPs)
				}
			}
			subnets[sn.ID] = scidr
			switch sn.ReservedLayout {
			case "", "packed", "scattered":
			default:
				v.fail(sp+".reservedLayout", `must be "packed" or "scattered", got %q`, sn.ReservedLayout)
			}
			for k, ni := range sn.NetworkInterfaces {
				np := fmt.Sprintf("%s.networkInterfaces[%d]", sp, k)
				if ni.Name == "" {
					v.fail(np+".name", "is required (it becomes the ENI's Name tag)")
				}
				if ni.SecondaryIPs < 0 || ni.Prefixes < 0 {
					v.fail(np, "secondaryIPs and prefixes must not be negative")
				}
			}
		}
	}
	types := map[string]bool{}
	for i, it := range s.InstanceTypes {
		p := fmt.Sprintf("instanceTypes[%d]", i)
		if it.Name == "" || !strings.Contains(it.Name, ".") {
			v.fail(p+".name", "must be an instance type such as m5.large, got %q", it.Name)
		}
		types[it.Name] = true
		if it.VCPUs < 1 {
			v.fail(p+".vcpus", "must be at least 1")
		}
		if it.MaxENIs < 1 {
			v.fail(p+".maxENIs", "must be at least 1")
		}
		if it.IPv4PerENI < 1 {
			v.fail(p+".ipv4PerENI", "must be at least 1")
		}
		switch it.Hypervisor {
		case "", "nitro", "xen":
		default:
			v.fail(p+".hypervisor", `must be "nitro" or "xen", got %q`, it.Hypervisor)
		}
	}
	clusters := map[string]bool{}
	for i, c := range s.Clusters {
		p := fmt.Sprintf("clusters[%d]", i)
		if !reName.MatchString(c.Name) {
			v.fail(p+".name", "must start with a letter and hold only letters, digits and hyphens (at most 100), got %q", c.Name)
		} else if clusters[c.Name] {
			v.fail(p+".name", "duplicate cluster name %q", c.Name)
		}
		clusters[c.Name] = true
		if !reVersion.MatchString(c.Version) {
			v.fail(p+".version", `must be a Kubernetes minor version such as "1.31", got %q`, c.Version)
		}
		if len(c.Subnets) < 2 {
			v.fail(p+".subnets", "EKS needs at least two subnets in different availability zones")
		}
		for j, id := range c.Subnets {
			if _, ok := subnets[id]; !ok {
				v.fail(fmt.Sprintf("%s.subnets[%d]", p, j), "unknown subnet %q", id)
			}
		}
		switch c.CNI.Mode {
		case "", "secondary-ip", "prefix-delegation":
		default:
			v.fail(p+".cni.mode", `must be "secondary-ip" or "prefix-delegation", got %q`, c.CNI.Mode)
		}
		for name, n := range map[string]*int{"warmENITarget": c.CNI.WarmENITarget, "warmIPTarget": c.CNI.WarmIPTarget,
			"minimumIPTarget": c.CNI.MinimumIPTarget, "warmPrefixTarget": c.CNI.WarmPrefixTarget, "maxENI": c.CNI.MaxENI} {
			if n != nil && *n < 0 {
				v.fail(p+".cni."+name, "must not be negative")
			}
		}
		for az, id := range c.CNI.PodSubnets {
			if _, ok := subnets[id]; !ok {
				v.fail(p+".cni.podSubnets."+az, "unknown subnet %q", id)
			}
		}
		ngs := map[string]bool{}
		for j, ng := range c.Nodegroups {
			np := fmt.Sprintf("%s.nodegroups[%d]", p, j)
			if !reName.MatchString(ng.Name) {
				v.fail(np+".name", "must start with a letter and hold only letters, digits and hyphens, got %q", ng.Name)
			} else if ngs[ng.Name] {
				v.fail(np+".name", "duplicate nodegroup name %q", ng.Name)
			}
			ngs[ng.Name] = true
			if ng.InstanceType == "" {
				v.fail(np+".instanceType", "is required")
			}
			switch ng.CapacityType {
			case "", "ON_DEMAND", "SPOT":
			default:
				v.fail(np+".capacityType", `must be "ON_DEMAND" or "SPOT", got %q`, ng.CapacityType)
			}
			if ng.Min < 0 || ng.Max < 1 || ng.Min > ng.Desired || ng.Desired > ng.Max {
				v.fail(np, "needs 0 <= min <= desired <= max and max >= 1, got min %d, desired %d, max %d", ng.Min, ng.Desired, ng.Max)
			}
			for k, id := range ng.Subnets {
				if _, ok := subnets[id]; !ok {
					v.fail(fmt.Sprintf("%s.subnets[%d]", np, k), "unknown subnet %q", id)
				}
			}
			if ng.PodsPerNode < 0 {
				v.fail(np+".podsPerNode", "must not be negative")
			}
		}
		for j, a := range c.Addons {
			if a.Name == "" || a.Version == "" {
				v.fail(fmt.Sprintf("%s.addons[%d]", p, j), "needs name and version")
			}
		}
		v.accessEntries(p+".accessEntries", c.AccessEntries)
	}
	tgs := map[string]bool{}
	for i, tg := range s.TargetGroups {
		p := fmt.Sprintf("targetGroups[%d]", i)
		if !reTGName.MatchString(tg.Name) {
			v.fail(p+".name", "must be 1-32 letters, digits and hyphens, not starting or ending with a hyphen, got %q", tg.Name)
		} else if tgs[tg.Name] {
			v.fail(p+".name", "duplicate target group name %q", tg.Name)
		}
		tgs[tg.Name] = true
		if !vpcs[tg.VPC] {
			v.fail(p+".vpc", "unknown VPC %q", tg.VPC)
		}
		// The cluster may not exist yet: green's target group waits for it.
		if tg.Cluster != "" && !reName.MatchString(tg.Cluster) {
			v.fail(p+".cluster", "not a cluster name: %q", tg.Cluster)
		}
		switch tg.TargetType {
		case "", "ip", "instance":
		default:
			v.fail(p+".targetType", `must be "ip" or "instance", got %q`, tg.TargetType)
		}
		if tg.Port < 0 || tg.Port > 65535 {
			v.fail(p+".port", "must be 1-65535")
		}
		for j, t := range tg.Targets {
			if _, err := netip.ParseAddr(t); err != nil && tg.TargetType != "instance" {
				v.fail(fmt.Sprintf("%s.targets[%d]", p, j), "must be an IPv4 address, got %q", t)
			}
		}
	}
	rules := map[string]bool{}
	for i, lb := range s.LoadBalancers {
		p := fmt.Sprintf("loadBalancers[%d]", i)
		if !reTGName.MatchString(lb.Name) {
			v.fail(p+".name", "must be 1-32 letters, digits and hyphens, got %q", lb.Name)
		}
		if len(lb.Subnets) < 2 {
			v.fail(p+".subnets", "an Application Load Balancer needs subnets in at least two availability zones")
		}
		for j, id := range lb.Subnets {
			if _, ok := subnets[id]; !ok {
				v.fail(fmt.Sprintf("%s.subnets[%d]", p, j), "unknown subnet %q", id)
			}
		}
		for j, l := range lb.Listeners {
			lp := fmt.Sprintf("%s.listeners[%d]", p, j)
			if l.Port < 1 || l.Port > 65535 {
				v.fail(lp+".port", "must be 1-65535, got %d", l.Port)
			}
			v.forward(lp+".defaultForward", l.DefaultForward, tgs)
			prios := map[int]bool{}
			for k, r := range l.Rules {
				rp := fmt.Sprintf("%s.rules[%d]", lp, k)
				if r.Name == "" {
					v.fail(rp+".name", "is required (traffic and eksbg.yaml refer to rules by name)")
				} else if rules[r.Name] {
					v.fail(rp+".name", "duplicate rule name %q", r.Name)
				}
				rules[r.Name] = true
				if r.Priority < 1 || r.Priority > 50000 {
					v.fail(rp+".priority", "must be 1-50000, got %d", r.Priority)
				} else if prios[r.Priority] {
					v.fail(rp+".priority", "priority %d is already used on this listener", r.Priority)
				}
				prios[r.Priority] = true
				if len(r.PathPattern) == 0 && len(r.HostHeader) == 0 {
					v.fail(rp, "needs a pathPattern or hostHeader condition")
				}
				v.forward(rp+".forward", r.Forward, tgs)
			}
		}
	}
	for k, val := range s.Quotas {
		if !reQuotaKey.MatchString(k) {
			v.fail(fmt.Sprintf("quotas[%q]", k), `key must be "<service code>/<quota code>" such as "ec2/L-1216C47A"`)
		}
		if val < 0 {
			v.fail(fmt.Sprintf("quotas[%q]", k), "must not be negative")
		}
	}
	for name, rps := range s.Traffic.Rules {
		if !rules[name] {
			v.fail("traffic.rules."+name, "unknown rule %q (rules are named in loadBalancers[].listeners[].rules[].name)", name)
		}
		if rps < 0 {
			v.fail("traffic.rules."+name, "must not be negative")
		}
	}
	for name, ct := range s.Traffic.Clusters {
		p := "traffic.clusters." + name
		if !clusters[name] && !reName.MatchString(name) {
			v.fail(p, "not a cluster name: %q", name)
		}
		if ct.ErrorRate < 0 || ct.ErrorRate > 1 {
			v.fail(p+".errorRate", "must be a fraction between 0 and 1, got %g", ct.ErrorRate)
		}
		if ct.P99Ms < 0 || ct.P50Ms < 0 {
			v.fail(p, "latencies must not be negative")
		}
	}
	for i, f := range s.Faults {
		v.fault(fmt.Sprintf("faults[%d]", i), f)
	}
	buckets := map[string]bool{}
	for i, b := range s.Buckets {
		p := fmt.Sprintf("buckets[%d].name", i)
		if err := ValidateBucketName(b.Name); err != nil {
			v.fail(p, "%v", err)
		} else if buckets[b.Name] {
			v.fail(p, "duplicate bucket %q", b.Name)
		}
		buckets[b.Name] = true
	}
}

// ValidateFault checks one fault rule (also used by the admin API).
func ValidateFault(f Fault) error {
	switch {
	case f.Service == "" || f.Operation == "":
		return fmt.Errorf(`service and operation are required ("*" matches any)`)
	case f.ThrottleRate < 0 || f.ThrottleRate > 1:
		return fmt.Errorf("throttleRate must be between 0 and 1, got %g", f.ThrottleRate)
	case f.ErrorRate < 0 || f.ErrorRate > 1:
		return fmt.Errorf("errorRate must be between 0 and 1, got %g", f.ErrorRate)
	case f.LatencyMs < 0 || f.LatencyMs > 600000:
		return fmt.Errorf("latencyMs must be between 0 and 600000, got %g", f.LatencyMs)
	case f.JitterMs < 0 || f.JitterMs > 600000:
		return fmt.Errorf("jitterMs must be between 0 and 600000, got %g", f.JitterMs)
	}
	return nil
}

func (v *validator) fault(p string, f Fault) {
	if err := ValidateFault(f); err != nil {
		v.fail(p, "%v", err)
	}
}

func (v *validator) forward(p string, fw []Forward, tgs map[string]bool) {
	if len(fw) == 0 {
		v.fail(p, "needs at least one target group")
	}
	if len(fw) > 5 {
		v.fail(p, "at most 5 target groups per forward action, got %d", len(fw))
	}
	for i, f := range fw {
		if !tgs[f.TargetGroup] {
			v.fail(fmt.Sprintf("%s[%d].targetGroup", p, i), "unknown target group %q", f.TargetGroup)
		}
		if f.Weight < 0 || f.Weight > 999 {
			v.fail(fmt.Sprintf("%s[%d].weight", p, i), "must be 0-999, got %d", f.Weight)
		}
	}
}

// rePrincipal is an IAM user or role ARN, the principals an access entry
// may name.
var rePrincipal = regexp.MustCompile(`^arn:aws[a-z-]*:iam::[0-9]{12}:(user|role)/[\w+=,.@/-]+$`)

// accessEntries checks access entries as CreateAccessEntry does
// (https://docs.aws.amazon.com/eks/latest/userguide/set-custom-username.html).
func (v *validator) accessEntries(p string, entries []AccessEntry) {
	seen := map[string]bool{}
	for i, e := range entries {
		ep := fmt.Sprintf("%s[%d]", p, i)
		switch {
		case !rePrincipal.MatchString(e.PrincipalARN):
			v.fail(ep+".principalArn", "must be an IAM user or role ARN such as arn:aws:iam::111122223333:role/Admin, got %q", e.PrincipalARN)
		case seen[e.PrincipalARN]:
			v.fail(ep+".principalArn", "duplicate access entry for %s", e.PrincipalARN)
		}
		seen[e.PrincipalARN] = true
		for _, reserved := range []string{"system:", "eks:", "aws:", "amazon:", "iam:"} {
			if strings.HasPrefix(e.Username, reserved) {
				v.fail(ep+".username", "must not start with %q, got %q", reserved, e.Username)
			}
		}
		for j, g := range e.KubernetesGroups {
			if g == "" {
				v.fail(fmt.Sprintf("%s.kubernetesGroups[%d]", ep, j), "must not be empty")
			}
		}
	}
}

func (v *validator) nonNegative(p string, f float64) {
	if f < 0 {
		v.fail(p, "must not be negative, got %g", f)
	}
}

func (v *validator) az(p, az, region string) {
	if !strings.HasPrefix(az, region) || len(az) != len(region)+1 || az[len(az)-1] < 'a' || az[len(az)-1] > 'z' {
		v.fail(p, "must be an availability zone of %s such as %sa, got %q", region, region, az)
	}
}

func (v *validator) cidr(p, s string, minBits, maxBits int) (netip.Prefix, bool) {
	pf, err := netip.ParsePrefix(s)
	if err != nil || !pf.Addr().Is4() {
		v.fail(p, "must be an IPv4 CIDR such as 10.0.0.0/16, got %q", s)
		return pf, false
	}
	if pf.Masked() != pf {
		v.fail(p, "%s has host bits set (did you mean %s?)", s, pf.Masked())
		return pf, false
	}
	if pf.Bits() < minBits || pf.Bits() > maxBits {
		v.fail(p, "block size must be between /%d and /%d, got /%d", minBits, maxBits, pf.Bits())
		return pf, false
	}
	return pf, true
}
