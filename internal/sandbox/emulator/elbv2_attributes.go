package emulator

import (
	"strconv"

	"github.com/eksbg/eksbg/internal/sandbox/wire"
)

type elbAttribute struct {
	Key   string `xml:"Key"`
	Value string `xml:"Value"`
}

type elbDescribeTargetGroupAttributesResult struct {
	Attributes elbList[elbAttribute] `xml:"Attributes"`
}

// elbDescribeTargetGroupAttributes answers with the attributes eksbg reads
// (the deregistration delay, which a workload's shutdown must outlast) and
// AWS's defaults for the others of an IP target group behind an ALB.
// https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_DescribeTargetGroupAttributes.html
func elbDescribeTargetGroupAttributes(c *call) (any, *wire.APIError) {
	arn := c.req.Form.String("TargetGroupArn")
	if arn == "" {
		return nil, elbMissing("targetGroupArn")
	}
	if err := elbCheckARN(arn, "targetgroup", "target group"); err != nil {
		return nil, err
	}
	if _, ok := c.w.TargetGroups[arn]; !ok {
		return nil, wire.BadRequest("TargetGroupNotFound", "Target groups '%s' not found", arn)
	}
	// The delay the sandbox applies when the group is in use; AWS reports
	// the configured value whether or not a load balancer uses the group.
	delay := int(sandboxDeregistrationDelay.Seconds())
	attrs := []elbAttribute{
		{"deregistration_delay.timeout_seconds", strconv.Itoa(delay)},
		{"deregistration_delay.connection_termination.enabled", "false"},
		{"load_balancing.algorithm.type", "round_robin"},
		{"load_balancing.cross_zone.enabled", "use_load_balancer_configuration"},
		{"slow_start.duration_seconds", "0"},
		{"stickiness.enabled", "false"},
		{"stickiness.type", "lb_cookie"},
		{"stickiness.lb_cookie.duration_seconds", "86400"},
	}
	return &elbDescribeTargetGroupAttributesResult{Attributes: elbList[elbAttribute]{Member: attrs}}, nil
}
