package traffic

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// UnhealthyTarget is a green target that is not healthy, or (TargetID "")
// a green target group with no target at all, which would answer 503.
type UnhealthyTarget struct {
	TargetGroup string `json:"targetGroup"`
	TargetID    string `json:"targetId,omitempty"`
	Port        int32  `json:"port,omitempty"`
	// State, Reason and Description are DescribeTargetHealth's TargetHealth.
	State       string `json:"state"`
	Reason      string `json:"reason,omitempty"`
	Description string `json:"description,omitempty"`
}

// String says which target and why, for people.
func (u UnhealthyTarget) String() string {
	if u.TargetID == "" {
		return fmt.Sprintf("%s: %s", u.TargetGroup, u.Description)
	}
	s := fmt.Sprintf("%s: %s:%d is %s", u.TargetGroup, u.TargetID, u.Port, u.State)
	if u.Reason != "" {
		s += " (" + u.Reason + ": " + u.Description + ")"
	}
	return s
}

// HealthyTargets checks, with DescribeTargetHealth on each distinct target
// group of the colour traffic moves to, that it has targets and that all
// of them are healthy.
// It returns those that are not (initial, unhealthy, draining, unused,
// unavailable), and an empty group as one entry; none means green is
// ready for traffic.
func (s *Shifter) HealthyTargets(ctx context.Context) ([]UnhealthyTarget, error) {
	var out []UnhealthyTarget
	seen := map[string]bool{}
	for _, r := range s.rules {
		tg := r.TargetGroup(s.to)
		if seen[tg] {
			continue
		}
		seen[tg] = true
		res, err := s.elb.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(tg)})
		if err != nil {
			return nil, fmt.Errorf("describing target health of %s: %w", tg, err)
		}
		if len(res.TargetHealthDescriptions) == 0 {
			out = append(out, UnhealthyTarget{TargetGroup: tg, State: "empty", Description: "no targets registered"})
			continue
		}
		for _, d := range res.TargetHealthDescriptions {
			var h types.TargetHealth
			if d.TargetHealth != nil {
				h = *d.TargetHealth
			}
			if h.State == types.TargetHealthStateEnumHealthy {
				continue
			}
			u := UnhealthyTarget{TargetGroup: tg, State: string(h.State), Reason: string(h.Reason), Description: aws.ToString(h.Description)}
			if d.Target != nil {
				u.TargetID, u.Port = aws.ToString(d.Target.Id), aws.ToInt32(d.Target.Port)
			}
			out = append(out, u)
		}
	}
	return out, nil
}
