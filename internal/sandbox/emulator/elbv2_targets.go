package emulator

import (
	"net/netip"
	"strconv"
	"time"

	"github.com/eksbg/eksbg/internal/sandbox/wire"
)

// RegisterTargets, DeregisterTargets and DescribeTargetHealth.

// albTargetsPerLB is the default "Targets per Application Load Balancer"
// quota (Service Quotas code L-7E6692B2).
const (
	albTargetsPerLB = 1000
	albTargetsQuota = "elasticloadbalancing/L-7E6692B2"
)

// elbTargetSpec is one TargetDescription of a request.
type elbTargetSpec struct {
	ID   string
	Port int
	AZ   string
}

// elbTargetGroupArg resolves the TargetGroupArn member of a targets call.
func (w *World) elbTargetGroupArg(arn string) (*TargetGroup, *wire.APIError) {
	if arn == "" {
		return nil, elbMissing("targetGroupArn")
	}
	if err := elbCheckARN(arn, "targetgroup", "target group"); err != nil {
		return nil, err
	}
	tg, ok := w.TargetGroups[arn]
	if !ok {
		return nil, wire.BadRequest("TargetGroupNotFound", "Target groups '%s' not found", arn)
	}
	return tg, nil
}

// elbTargetSpecs decodes the Targets member; a target's Port defaults to
// the target group's. Repeated targets count once.
func elbTargetSpecs(f wire.Form, tg *TargetGroup, required bool) ([]elbTargetSpec, *wire.APIError) {
	forms := f.MemberStructs("Targets")
	if required && len(forms) == 0 {
		return nil, elbMissing("targets")
	}
	var out []elbTargetSpec
	seen := map[elbTargetSpec]bool{}
	for i, t := range forms {
		id := t.String("Id")
		if id == "" {
			return nil, elbMissing(elbMemberPath("targets", i+1, "id"))
		}
		port, has, err := elbFormInt(t, "Port", elbMemberPath("targets", i+1, "port"))
		if err != nil {
			return nil, err
		}
		if !has {
			port = tg.Port
		}
		if port < 1 || port > 65535 {
			return nil, elbRangeError(elbMemberPath("targets", i+1, "port"), port, 1, 65535)
		}
		s := elbTargetSpec{ID: id, Port: port, AZ: t.String("AvailabilityZone")}
		key := elbTargetSpec{ID: id, Port: port}
		if seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, s)
	}
	return out, nil
}

// elbFindTarget returns the index of a registered target, -1 if none.
func elbFindTarget(tg *TargetGroup, id string, port int) int {
	for i, t := range tg.Targets {
		if t.ID == id && t.Port == port {
			return i
		}
	}
	return -1
}

// elbPrivateAddress reports whether a is in a range an IP target outside
// the VPC may be in (RFC 1918 and RFC 6598):
// https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-target-groups.html#target-type
func elbPrivateAddress(a netip.Addr) bool {
	for _, p := range []string{"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10"} {
		if netip.MustParsePrefix(p).Contains(a) {
			return true
		}
	}
	return false
}

// elbTargetPlacement validates one target for RegisterTargets and returns
// the Availability Zone it is registered in.
func (w *World) elbTargetPlacement(tg *TargetGroup, s elbTargetSpec) (string, *wire.APIError) {
	switch tg.TargetType {
	case "ip":
		a, err := netip.ParseAddr(s.ID)
		if err != nil || !a.Is4() {
			return "", wire.BadRequest("ValidationError", "The IP address '%s' is not a valid IPv4 address", s.ID)
		}
		if sn := w.elbSubnetOf(tg.VPCID, a); sn != nil {
			if s.AZ == "all" {
				return "", elbValidation("The IP address '%s' is within the VPC, and cannot have its Availability Zone overridden to 'all' from '%s'", s.ID, sn.AZ)
			}
			return sn.AZ, nil
		}
		// Addresses outside the VPC's subnets need AvailabilityZone, and
		// must be private (peered VPCs, on-premises networks). AWS decides
		// "in the VPC" by its subnets, not its CIDR blocks: an address of
		// the CIDR that no subnet holds is "not in the VPC" too.
		if s.AZ == "" {
			return "", elbValidation("The Availability Zone is required for IP address '%s' because it is not in the VPC", s.ID)
		}
		if s.AZ != "all" && !elbContains(w.AZs, s.AZ) {
			return "", elbValidation("The Availability Zone '%s' is not valid", s.AZ)
		}
		if !elbPrivateAddress(a) {
			return "", elbValidation("The IP address '%s' is outside the VPC and not in a private range (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 100.64.0.0/10)", s.ID)
		}
		return s.AZ, nil
	case "instance":
		inst, ok := w.Instances[s.ID]
		if !ok || inst.VPCID != tg.VPCID {
			return "", wire.BadRequest("InvalidTarget", "The specified target does not exist, is not in the same VPC as the target group, or has an unsupported instance type: '%s'", s.ID)
		}
		if inst.State != "running" {
			return "", wire.BadRequest("InvalidTarget", "The following targets are not in a running state and cannot be registered: '%s'", s.ID)
		}
		return inst.AZ, nil
	}
	return "", elbValidation("The sandbox does not model targets of type '%s'", tg.TargetType)
}

// https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_RegisterTargets.html
func elbRegisterTargets(c *call) (any, *wire.APIError) {
	tg, err := c.w.elbTargetGroupArg(c.req.Form.String("TargetGroupArn"))
	if err != nil {
		return nil, err
	}
	specs, err := elbTargetSpecs(c.req.Form, tg, true)
	if err != nil {
		return nil, err
	}
	azs := make([]string, len(specs))
	added := 0
	for i, s := range specs {
		if azs[i], err = c.w.elbTargetPlacement(tg, s); err != nil {
			return nil, err
		}
		if elbFindTarget(tg, s.ID, s.Port) < 0 {
			added++
		}
	}
	if len(tg.LoadBalancers) > 0 && added > 0 {
		lb := tg.LoadBalancers[0]
		limit := albTargetsPerLB
		if q, ok := c.w.Quotas[albTargetsQuota]; ok && q > 0 {
			limit = int(q)
		}
		n := added
		for _, other := range c.w.TargetGroups {
			if elbContains(other.LoadBalancers, lb) {
				n += len(other.Targets)
			}
		}
		if n > limit {
			return nil, wire.BadRequest("TooManyTargets", "The maximum number of targets per load balancer '%d' has been reached on load balancer '%s'", limit, lb)
		}
	}
	for i, s := range specs {
		if j := elbFindTarget(tg, s.ID, s.Port); j >= 0 {
			// Registering a draining target takes it back: it starts over.
			if t := &tg.Targets[j]; !t.DrainingUntil.IsZero() {
				t.DrainingUntil, t.RegisteredAt, t.AZ = time.Time{}, c.now, azs[i]
			}
			continue
		}
		tg.Targets = append(tg.Targets, Target{ID: s.ID, Port: s.Port, AZ: azs[i], RegisteredAt: c.now})
	}
	c.changed()
	return nil, nil
}

// https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_DeregisterTargets.html
func elbDeregisterTargets(c *call) (any, *wire.APIError) {
	tg, err := c.w.elbTargetGroupArg(c.req.Form.String("TargetGroupArn"))
	if err != nil {
		return nil, err
	}
	specs, err := elbTargetSpecs(c.req.Form, tg, true)
	if err != nil {
		return nil, err
	}
	delay := c.w.elbDeregistrationDelay(tg)
	for _, s := range specs {
		// A target that is not registered (with that port) is ignored:
		// AWS answers 200 and does nothing.
		j := elbFindTarget(tg, s.ID, s.Port)
		if j < 0 || !tg.Targets[j].DrainingUntil.IsZero() {
			continue
		}
		if delay == 0 {
			tg.Targets = append(tg.Targets[:j], tg.Targets[j+1:]...)
			continue
		}
		tg.Targets[j].DrainingUntil = c.now.Add(delay)
	}
	c.changed()
	return nil, nil
}

type elbDescribeTargetHealthResult struct {
	TargetHealthDescriptions elbList[elbTargetHealthDescription] `xml:"TargetHealthDescriptions"`
}

// https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_DescribeTargetHealth.html
func elbDescribeTargetHealth(c *call) (any, *wire.APIError) {
	tg, err := c.w.elbTargetGroupArg(c.req.Form.String("TargetGroupArn"))
	if err != nil {
		return nil, err
	}
	specs, err := elbTargetSpecs(c.req.Form, tg, false)
	if err != nil {
		return nil, err
	}
	out := &elbDescribeTargetHealthResult{TargetHealthDescriptions: elbList[elbTargetHealthDescription]{Member: []elbTargetHealthDescription{}}}
	describe := func(t Target) {
		state, reason, desc := c.w.targetHealth(tg, t, c.now)
		out.TargetHealthDescriptions.Member = append(out.TargetHealthDescriptions.Member, elbTargetHealthDescription{
			Target:          elbTarget{ID: t.ID, Port: t.Port, AvailabilityZone: c.w.elbTargetAZ(tg, t)},
			HealthCheckPort: strconv.Itoa(t.Port),
			TargetHealth:    elbTargetHealth{State: state, Reason: reason, Description: desc}})
	}
	if len(specs) == 0 {
		for _, t := range tg.Targets {
			describe(t)
		}
		return out, nil
	}
	for _, s := range specs {
		if j := elbFindTarget(tg, s.ID, s.Port); j >= 0 {
			describe(tg.Targets[j])
			continue
		}
		out.TargetHealthDescriptions.Member = append(out.TargetHealthDescriptions.Member, elbTargetHealthDescription{
			Target:          elbTarget{ID: s.ID, Port: s.Port},
			HealthCheckPort: strconv.Itoa(s.Port),
			TargetHealth:    elbTargetHealth{State: targetStateUnused, Reason: "Target.NotRegistered", Description: "Target is not registered to the target group"}})
	}
	return out, nil
}
