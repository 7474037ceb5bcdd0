package capacity

import (
	"fmt"
	"math"
)

// DocsURL is where the remedies point: the sections of docs/capacity.md.
const DocsURL = "docs/capacity.md"

// remedyAddSubnet says which subnet size covers the zone's demand at
// maxSize and leaves HeadroomWarn of the supply free.
func remedyAddSubnet(a AZReport, format string, args ...any) string {
	need := max(a.DemandIPsAtMax, int(math.Ceil(float64(a.DemandIPs)/(1-HeadroomWarn)))) - a.SupplyIPs
	need = max(need, 1)
	what := fmt.Sprintf(format, args...)
	bits, usable := subnetFor(need)
	if bits == 0 {
		return fmt.Sprintf("%s: add subnets with %d more IPs in %s to the node groups (%s#add-a-subnet)", what, need, a.AZ, DocsURL)
	}
	return fmt.Sprintf("%s: add a /%d (%d IPs) in %s to the node groups (%s#add-a-subnet)", what, bits, usable, a.AZ, DocsURL)
}

// subnetFor is the smallest subnet (prefix length 16 to 28, the sizes a VPC
// subnet may have) with at least need usable addresses; 0 when none is
// big enough.
func subnetFor(need int) (bits, usable int) {
	for b := 28; b >= 16; b-- {
		if u := 1<<(32-b) - 5; u >= need {
			return b, u
		}
	}
	return 0, 0
}

// remedyPrefixes is the remedy for too few free /28 blocks in where (a
// zone or a subnet).
func remedyPrefixes(where string, atMax bool, need, have int) string {
	when := ""
	if atMax {
		when = " at maxSize"
	}
	return fmt.Sprintf("prefix delegation needs %d free /28s in %s%s, there are %d: add a subnet, or free whole /28s and keep them with a prefix CIDR reservation (%s#free-28-blocks)",
		need, where, when, have, DocsURL)
}

func remedyControlPlane(s *subnetFacts, fail bool) string {
	if fail {
		return fmt.Sprintf("control-plane subnet has %d free IPs, EKS needs %d: free addresses or pick other vpc.controlPlaneSubnetIDs (%s#control-plane-subnets)",
			s.Available, ControlPlaneMinIPs, DocsURL)
	}
	return fmt.Sprintf("control-plane subnet has %d free IPs: enough to create green (%d), not for a later in-place update (%d) (%s#control-plane-subnets)",
		s.Available, ControlPlaneMinIPs, ControlPlaneMinIPs+ControlPlaneUpdateIPs, DocsURL)
}

func remedySubnetShort(s *subnetFacts, demand int) string {
	return fmt.Sprintf("its share of green is %d IPs, it has %d free: add a subnet in %s (%s#add-a-subnet)", demand, s.Available, s.AZ, DocsURL)
}

func remedyELB(s *subnetFacts, left int) string {
	return fmt.Sprintf("load balancer subnet would keep %d free IPs, under %d: the AWS Load Balancer Controller would stop using it; keep node groups out of it or add a subnet in %s (%s#load-balancer-subnets)",
		max(left, 0), ELBMinFreeIPs, s.AZ, DocsURL)
}

func remedyQuota(q QuotaReport) string {
	want := int(math.Ceil(float64(q.Used+q.Demand) / QuotaWarn))
	return fmt.Sprintf("request %d or more: aws service-quotas request-service-quota-increase --service-code %s --quota-code %s --desired-value %d (%s#quotas)",
		want, q.Service, q.Code, want, DocsURL)
}
