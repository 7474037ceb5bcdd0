package capacity

import (
	"fmt"

	"github.com/eksbg/eksbg/internal/findings"
)

// The checks capacity findings are made by, as `eksbg plan` and
// `eksbg upgrade --force CHECK` name them.
const (
	checkCapacity = "capacity" // zones and subnets
	checkQuota    = "quota"    // service quotas
)

// severity is the verdict as a finding's severity: FAIL is findings.Fail,
// WARN findings.Warn; ok is false for OK (and for no verdict), which is no
// finding.
func (v Verdict) severity() (s findings.Severity, ok bool) {
	switch v {
	case Fail:
		return findings.Fail, true
	case Warn:
		return findings.Warn, true
	}
	return findings.Info, false
}

// Findings are the report's FAIL and WARN lines as findings, zones first,
// then subnets, then quotas, each with its remedy as the fix: check
// "capacity" for zones and subnets, "quota" for service quotas. This
// is the one conversion of a capacity report: `eksbg plan` shows What and
// Where; `eksbg drift` reports Resource ("az/ZONE", "subnet/ID",
// "quota/SERVICE/CODE"), Field, Expected and Actual.
func (r *Report) Findings() []findings.Finding {
	var out []findings.Finding
	for _, az := range r.AZs {
		s, ok := az.Verdict.severity()
		if !ok {
			continue
		}
		expected := fmt.Sprintf("%d free addresses for green (%d at maxSize)", az.DemandIPs, az.DemandIPsAtMax)
		actual := fmt.Sprintf("%d free", az.SupplyIPs)
		if az.DemandPrefixes > 0 {
			expected += fmt.Sprintf(", %d free /28 prefixes", az.DemandPrefixes)
			actual += fmt.Sprintf(", %d free /28 prefixes", az.FreePrefixes)
		}
		out = append(out, findings.Finding{Severity: s, Check: checkCapacity, Where: findings.Where{Object: "availability zone " + az.AZ},
			What: fmt.Sprintf("green needs %d addresses (%d at maxSize); the zone's subnets have %d free", az.DemandIPs, az.DemandIPsAtMax, az.SupplyIPs),
			Fix:  az.Remedy, Resource: "az/" + az.AZ, Field: "freeAddresses", Expected: expected, Actual: actual})
	}
	for _, sn := range r.Subnets {
		s, ok := sn.Verdict.severity()
		if !ok {
			continue
		}
		expected := fmt.Sprintf("%d free addresses for its share of green (%s)", sn.DemandIPs, sn.AZ)
		actual := fmt.Sprintf("%d free", sn.AvailableIPs)
		if sn.DemandPrefixes > 0 {
			expected += fmt.Sprintf(", %d free /28 prefixes", sn.DemandPrefixes)
			actual += fmt.Sprintf(", %d free /28 prefixes", sn.FreePrefixes)
		}
		out = append(out, findings.Finding{Severity: s, Check: checkCapacity, Where: findings.Where{Object: "subnet " + sn.ID + " (" + sn.AZ + ")"},
			What: fmt.Sprintf("%d free addresses, %d free /28 prefixes", sn.AvailableIPs, sn.FreePrefixes),
			Fix:  sn.Remedy, Resource: "subnet/" + sn.ID, Field: "freeAddresses", Expected: expected, Actual: actual})
	}
	for _, q := range r.Quotas {
		s, ok := q.Verdict.severity()
		if !ok {
			continue
		}
		out = append(out, findings.Finding{Severity: s, Check: checkQuota, Where: findings.Where{Object: q.Service + " " + q.Code},
			What: fmt.Sprintf("%s: %d used + %d for green of a limit of %g", q.Name, q.Used, q.Demand, q.Limit),
			Fix:  q.Remedy, Resource: "quota/" + q.Service + "/" + q.Code, Field: "limit",
			Expected: fmt.Sprintf("at least %d (%d used + %d for green)", q.Used+q.Demand, q.Used, q.Demand), Actual: fmt.Sprintf("%g", q.Limit)})
	}
	return out
}
