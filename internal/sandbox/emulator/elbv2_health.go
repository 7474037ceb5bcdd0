package emulator

import (
	"net/netip"
	"time"
)

// Target health, derived from the world rather than stored: a target is
// healthy while the address it names is held by an ENI (its pod's node is
// running) and the cluster behind its target group serves.
// https://docs.aws.amazon.com/elasticloadbalancing/latest/application/target-group-health-checks.html

// Target health states and reasons, as DescribeTargetHealth spells them.
const (
	targetStateInitial   = "initial"
	targetStateHealthy   = "healthy"
	targetStateUnhealthy = "unhealthy"
	targetStateUnused    = "unused"
	targetStateDraining  = "draining"
)

// sandboxDeregistrationDelay is how long a deregistered target drains.
// AWS's default deregistration_delay.timeout_seconds is 300 s
// (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-target-groups.html#deregistration-delay);
// the sandbox uses 10 s so that demos and tests do not stall for five
// minutes. A target group no load balancer uses drains at once, as on AWS.
const sandboxDeregistrationDelay = 10 * time.Second

// elbDeregistrationDelay is the draining time of a target deregistered from tg.
func (w *World) elbDeregistrationDelay(tg *TargetGroup) time.Duration {
	if len(tg.LoadBalancers) == 0 {
		return 0
	}
	return sandboxDeregistrationDelay
}

// targetHealth reports a registered target's health at now, as
// DescribeTargetHealth does: State, and Reason and Description unless it is
// healthy. The checks go in AWS's order of precedence: draining, then not in
// use, then registration, then health checks.
func (w *World) targetHealth(tg *TargetGroup, t Target, now time.Time) (state, reason, description string) {
	if !t.DrainingUntil.IsZero() {
		if now.Before(t.DrainingUntil) {
			return targetStateDraining, "Target.DeregistrationInProgress", "Target deregistration is in progress"
		}
		return targetStateUnused, "Target.NotRegistered", "Target is not registered to the target group"
	}
	if len(tg.LoadBalancers) == 0 {
		return targetStateUnused, "Target.NotInUse", "Target group is not configured to receive traffic from the load balancer"
	}
	if az := w.elbTargetAZ(tg, t); az != "" && az != "all" {
		if lb, ok := w.LoadBalancers[tg.LoadBalancers[0]]; ok && !w.elbLBInAZ(lb, az) {
			return targetStateUnused, "Target.NotInUse", "Target is in an Availability Zone that is not enabled for the load balancer"
		}
	}
	if now.Before(t.RegisteredAt.Add(seconds(w.Timing.TargetInitial))) {
		return targetStateInitial, "Elb.RegistrationInProgress", "Target registration is in progress"
	}
	if !w.elbTargetAddressHeld(tg, t) {
		// Nothing answers at the address any more: its pod and node are
		// gone (the cluster was deleted or scaled in).
		return targetStateUnhealthy, "Target.FailedHealthChecks", "Health checks failed"
	}
	if w.elbTargetPodNotReady(tg, t) {
		// The pod is there but not ready: its health check fails
		// (elbv2_readiness.go).
		return targetStateUnhealthy, "Target.FailedHealthChecks", "Health checks failed"
	}
	if tg.Cluster != "" {
		c, ok := w.Clusters[tg.Cluster]
		// A cluster being created or deleted (or absent) has no pods
		// behind the service; an UPDATING cluster keeps serving, as EKS
		// control-plane updates do not stop workloads.
		if !ok || (c.Status != StatusActive && c.Status != StatusUpdating) {
			return targetStateUnhealthy, "Target.ResponseCodeMismatch", "Health checks failed with these codes: [503]"
		}
	}
	return targetStateHealthy, "", ""
}

// elbTargetAZ is the Availability Zone a target reports: the one it was
// registered in, else the zone of the subnet holding its address.
func (w *World) elbTargetAZ(tg *TargetGroup, t Target) string {
	if t.AZ != "" {
		return t.AZ
	}
	if tg.TargetType == "instance" {
		if inst, ok := w.Instances[t.ID]; ok {
			return inst.AZ
		}
		return ""
	}
	if a, err := netip.ParseAddr(t.ID); err == nil {
		if sn := w.elbSubnetOf(tg.VPCID, a); sn != nil {
			return sn.AZ
		}
	}
	return ""
}

func (w *World) elbLBInAZ(lb *LoadBalancer, az string) bool {
	for _, sid := range lb.SubnetIDs {
		if sn, ok := w.Subnets[sid]; ok && sn.AZ == az {
			return true
		}
	}
	return false
}

// elbSubnetOf returns the subnet of vpcID whose CIDR holds a; any VPC's when
// vpcID is "".
func (w *World) elbSubnetOf(vpcID string, a netip.Addr) *Subnet {
	holds := func(sn *Subnet) bool {
		p, err := netip.ParsePrefix(sn.CIDR)
		return err == nil && p.Contains(a)
	}
	if vpcID != "" {
		// Subnets of one VPC never overlap: the first match is the one.
		for _, sn := range w.Subnets {
			if sn.VPCID == vpcID && holds(sn) {
				return sn
			}
		}
		return nil
	}
	for _, id := range sortedKeys(w.Subnets) {
		if sn := w.Subnets[id]; holds(sn) {
			return sn
		}
	}
	return nil
}

// elbTargetAddressHeld reports whether the target's address is held by an ENI
// (or, for instance targets, whether the instance runs).
func (w *World) elbTargetAddressHeld(tg *TargetGroup, t Target) bool {
	if tg.TargetType == "instance" {
		inst, ok := w.Instances[t.ID]
		return ok && inst.State == "running"
	}
	a, err := netip.ParseAddr(t.ID)
	if err != nil {
		return false
	}
	sn := w.elbSubnetOf(tg.VPCID, a)
	if sn == nil {
		sn = w.elbSubnetOf("", a)
	}
	if sn == nil || sn.ipam == nil {
		return false
	}
	// The subnet's address map marks every address an ENI holds (primary,
	// secondary and delegated prefixes); the first four and the last are
	// AWS's own.
	i, err := sn.ipam.index(a.String())
	if err != nil || i < 4 || i >= sn.ipam.size-1 {
		return false
	}
	return sn.ipam.isSet(i)
}

// elbPruneDrainedTargets removes the targets whose deregistration delay has
// passed; it reports whether any were.
func (w *World) elbPruneDrainedTargets(now time.Time) bool {
	changed := false
	for _, arn := range sortedKeys(w.TargetGroups) {
		tg := w.TargetGroups[arn]
		kept := tg.Targets[:0]
		for _, t := range tg.Targets {
			if !t.DrainingUntil.IsZero() && !now.Before(t.DrainingUntil) {
				changed = true
				continue
			}
			kept = append(kept, t)
		}
		tg.Targets = kept
	}
	return changed
}
