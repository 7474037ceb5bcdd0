package capacity

import (
	"fmt"
	"strings"

	"github.com/eksbg/eksbg/internal/cni"
)

// Verdict is OK, WARN or FAIL.
type Verdict string

// The verdicts, from best to worst.
const (
	OK   Verdict = "OK"
	Warn Verdict = "WARN"
	Fail Verdict = "FAIL"
)

func (v Verdict) rank() int {
	switch v {
	case Fail:
		return 2
	case Warn:
		return 1
	}
	return 0
}

// Worse returns the worse of v and w.
func (v Verdict) Worse(w Verdict) Verdict {
	if w.rank() > v.rank() {
		return w
	}
	if v == "" {
		return OK
	}
	return v
}

// AtLeast reports whether v is w or worse.
func (v Verdict) AtLeast(w Verdict) bool { return v.rank() >= w.rank() }

// Report is the result of a check. Its JSON field names are a contract that
// tools outside eksbg read; the fields marked `json:"-"` are context for
// the table and Markdown forms and for callers in Go.
type Report struct {
	// Verdict is the worst verdict of every zone, subnet and quota.
	Verdict Verdict        `json:"verdict"`
	AZs     []AZReport     `json:"azs"`
	Subnets []SubnetReport `json:"subnets"`
	Quotas  []QuotaReport  `json:"quotas"`

	// Name is the Input's name; Cluster and Version the green cluster's.
	Name    string `json:"-"`
	Cluster string `json:"-"`
	Version string `json:"-"`
	// CNI are the VPC CNI settings the model used and CNISource where they
	// came from.
	CNI       cni.Settings `json:"-"`
	CNISource string       `json:"-"`
	// NodeGroups are the per-node figures of each node group.
	NodeGroups []NodeGroupReport `json:"-"`
}

// AZReport is one availability zone: the free addresses of the subnets the
// green cluster uses there, and what it will take.
type AZReport struct {
	AZ string `json:"az"`
	// SupplyIPs is the sum of AvailableIpAddressCount over the zone's
	// subnets of the green cluster.
	SupplyIPs int `json:"supplyIPs"`
	// DemandIPs are the addresses the green cluster takes at
	// desiredCapacity plus one surge node per node group, with 11 per
	// control-plane subnet; DemandIPsAtMax the same at maxSize.
	DemandIPs      int `json:"demandIPs"`
	DemandIPsAtMax int `json:"demandIPsAtMax"`
	// FreePrefixes are the free /28 blocks of the zone's node (and pod)
	// subnets; DemandPrefixes those prefix delegation needs.
	FreePrefixes   int     `json:"freePrefixes"`
	DemandPrefixes int     `json:"demandPrefixes"`
	Verdict        Verdict `json:"verdict"`
	// Remedy is one line saying what to do, "" when OK.
	Remedy string `json:"remedy"`

	// UsableIPs is the zone's subnets' size less AWS's reserved addresses
	// (for the bars: used = UsableIPs - SupplyIPs).
	UsableIPs int `json:"-"`
	// DemandPrefixesAtMax is DemandPrefixes at maxSize.
	DemandPrefixesAtMax int `json:"-"`
}

// SubnetReport is one subnet the green cluster uses.
type SubnetReport struct {
	ID           string `json:"id"`
	AZ           string `json:"az"`
	CIDR         string `json:"cidr"`
	AvailableIPs int    `json:"availableIPs"`
	FreePrefixes int    `json:"freePrefixes"`
	// Roles: nodes, pods (ENIConfig), cni (discovered), control-plane,
	// elb, internal-elb.
	Roles   []string `json:"roles"`
	Verdict Verdict  `json:"verdict"`
	Remedy  string   `json:"remedy"`

	// DemandIPs and DemandPrefixes are the subnet's share of the green
	// cluster's demand (zone demand spread in proportion to free IPs).
	DemandIPs      int `json:"-"`
	DemandPrefixes int `json:"-"`
}

// QuotaReport is one service quota.
type QuotaReport struct {
	Service string  `json:"service"`
	Code    string  `json:"code"`
	Limit   float64 `json:"limit"`
	Used    int     `json:"used"`
	Demand  int     `json:"demand"`
	Verdict Verdict `json:"verdict"`
	// Remedy is one line for WARN and FAIL (an addition to the issue's
	// fields, left out when empty).
	Remedy string `json:"remedy,omitempty"`

	// Name is the quota's name.
	Name string `json:"-"`
}

// NodeGroupReport is the per-node figures of one node group.
type NodeGroupReport struct {
	Name string
	// InstanceType is the type whose nodes take the most addresses.
	InstanceType string
	Desired, Max int
	AZs          []string
	// Pods is N; PodsSource says where it came from.
	Pods       int
	PodsSource string
	MaxPods    int
	// IPs, Prefixes, ENIs and VCPUs are per node.
	IPs, Prefixes, ENIs, VCPUs int
	Spot                       bool
}

// Header implements output.Tabular.
func (r *Report) Header() []string {
	return []string{"KIND", "NAME", "VERDICT", "USED/GREEN/FREE", "DETAIL", "REMEDY"}
}

// Rows implements output.Tabular: the cluster, its node groups, each zone
// with a bar of used, green and free addresses, each subnet, each quota.
func (r *Report) Rows() [][]string {
	var rows [][]string
	name := r.Cluster
	if r.Name != "" && r.Name != r.Cluster {
		name = r.Name + ": " + r.Cluster
	}
	version := ""
	if r.Version != "" {
		version = " " + r.Version
	}
	rows = append(rows, []string{"cluster", name, string(r.Verdict), "",
		fmt.Sprintf("green%s; VPC CNI %s (%s)", version, describeCNI(r.CNI), r.CNISource), ""})
	for _, ng := range r.NodeGroups {
		spot := ""
		if ng.Spot {
			spot = " spot"
		}
		rows = append(rows, []string{"nodegroup", ng.Name, "", "",
			fmt.Sprintf("%d+1 (max %d) x %s%s over %s; %d pods/node (%s, max %d): %d IPs, %d /28, %d ENIs",
				ng.Desired, ng.Max, ng.InstanceType, spot, strings.Join(ng.AZs, ","), ng.Pods, ng.PodsSource, ng.MaxPods,
				ng.IPs, ng.Prefixes, ng.ENIs), ""})
	}
	for _, az := range r.AZs {
		detail := fmt.Sprintf("free %d, green %d (at max %d)", az.SupplyIPs, az.DemandIPs, az.DemandIPsAtMax)
		if az.DemandPrefixes > 0 || az.FreePrefixes > 0 {
			detail += fmt.Sprintf("; /28: free %d, green %d", az.FreePrefixes, az.DemandPrefixes)
		}
		rows = append(rows, []string{"az", az.AZ, string(az.Verdict), bar(az.UsableIPs-az.SupplyIPs, az.DemandIPs, az.SupplyIPs), detail, az.Remedy})
	}
	for _, s := range r.Subnets {
		detail := fmt.Sprintf("%s %s [%s] free %d, green %d; /28 free %d", s.AZ, s.CIDR, strings.Join(s.Roles, ","),
			s.AvailableIPs, s.DemandIPs, s.FreePrefixes)
		if s.DemandPrefixes > 0 {
			detail += fmt.Sprintf(", green %d", s.DemandPrefixes)
		}
		rows = append(rows, []string{"subnet", s.ID, string(s.Verdict), "", detail, s.Remedy})
	}
	for _, q := range r.Quotas {
		rows = append(rows, []string{"quota", q.Service + "/" + q.Code, string(q.Verdict),
			bar(q.Used, q.Demand, int(q.Limit)-q.Used),
			fmt.Sprintf("%s: %d used + %d green of %s", q.Name, q.Used, q.Demand, formatLimit(q.Limit)), q.Remedy})
	}
	return rows
}

// barWidth is the width of the table's bars.
const barWidth = 20

// bar draws one bar of barWidth cells over used + free (free before the
// green cluster): █ used, ▒ green's demand, ░ what stays free. A demand
// larger than free fills the bar, the part that does not fit drawn as "!".
func bar(used, green, free int) string {
	used, green, free = max(used, 0), max(green, 0), max(free, 0)
	total := used + max(free, green)
	if total == 0 {
		return strings.Repeat("░", barWidth)
	}
	cells := func(n int) int { return (n*barWidth + total/2) / total }
	u := cells(used)
	fits := min(green, free)
	gcells := cells(used+fits) - u
	if fits > 0 && gcells == 0 {
		gcells = 1
	}
	over := 0
	if green > free {
		over = max(barWidth-u-gcells, 1)
		if u+gcells+over > barWidth {
			gcells = max(barWidth-u-over, 0)
		}
	}
	rest := max(barWidth-u-gcells-over, 0)
	return strings.Repeat("█", u) + strings.Repeat("▒", gcells) + strings.Repeat("!", over) + strings.Repeat("░", rest)
}

func formatLimit(v float64) string {
	if v == float64(int64(v)) {
		return fmt.Sprintf("%d", int64(v))
	}
	return fmt.Sprintf("%g", v)
}

// describeCNI is a short form of the settings the model depends on.
func describeCNI(s cni.Settings) string {
	var parts []string
	switch {
	case s.PrefixDelegation() && s.IPTargetsDefined():
		parts = append(parts, "prefix delegation")
	case s.PrefixDelegation():
		parts = append(parts, fmt.Sprintf("prefix delegation, WARM_PREFIX_TARGET=%d", s.EffectiveWarmPrefixTarget()))
	case !s.IPTargetsDefined():
		parts = append(parts, fmt.Sprintf("secondary IPs, WARM_ENI_TARGET=%d", s.EffectiveWarmENITarget()))
	default:
		parts = append(parts, "secondary IPs")
	}
	if s.WarmIPTarget != nil && *s.WarmIPTarget > 0 {
		parts = append(parts, fmt.Sprintf("WARM_IP_TARGET=%d", *s.WarmIPTarget))
	}
	if s.MinimumIPTarget != nil && *s.MinimumIPTarget > 0 {
		parts = append(parts, fmt.Sprintf("MINIMUM_IP_TARGET=%d", *s.MinimumIPTarget))
	}
	if s.MaxENI != nil && *s.MaxENI > 0 {
		parts = append(parts, fmt.Sprintf("MAX_ENI=%d", *s.MaxENI))
	}
	if s.CustomNetworking {
		parts = append(parts, "custom networking")
	}
	if s.PodENI {
		parts = append(parts, "security groups for pods")
	}
	return strings.Join(parts, ", ")
}

// EnvReport is one environment's report in a multi-environment result.
type EnvReport struct {
	Environment string `json:"environment"`
	*Report
}

// Multi is the result of `eksbg capacity --all`: each environment's report
// (its JSON keeps the single report's fields, plus "environment").
type Multi struct {
	Verdict      Verdict     `json:"verdict"`
	Environments []EnvReport `json:"environments"`
}

// Header implements output.Tabular.
func (m *Multi) Header() []string { return append([]string{"ENV"}, (&Report{}).Header()...) }

// Rows implements output.Tabular.
func (m *Multi) Rows() [][]string {
	var rows [][]string
	for _, e := range m.Environments {
		for _, r := range e.Report.Rows() {
			rows = append(rows, append([]string{e.Environment}, r...))
		}
	}
	return rows
}
