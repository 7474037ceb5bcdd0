// Package traffic moves an environment's traffic between its blue and green
// target groups and judges green while it takes a share: the weights of the
// ALB listener rules (ModifyRule with the full action list, then read back
// with DescribeRules), the CloudWatch gates on green's target groups, and
// green's target health. It acts and reports; deciding what to do next, and
// telling anyone about it, is the upgrade orchestration's job.
package traffic

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
)

// ELBv2API is the part of Elastic Load Balancing v2 this package calls, with
// the SDK's own signatures so that *elasticloadbalancingv2.Client satisfies
// it. It includes elasticloadbalancingv2.DescribeRulesAPIClient, so the SDK's
// paginator reads the rules.
type ELBv2API interface {
	DescribeRules(ctx context.Context, in *elbv2.DescribeRulesInput, optFns ...func(*elbv2.Options)) (*elbv2.DescribeRulesOutput, error)
	ModifyRule(ctx context.Context, in *elbv2.ModifyRuleInput, optFns ...func(*elbv2.Options)) (*elbv2.ModifyRuleOutput, error)
	DescribeTargetHealth(ctx context.Context, in *elbv2.DescribeTargetHealthInput, optFns ...func(*elbv2.Options)) (*elbv2.DescribeTargetHealthOutput, error)
}

// CloudWatchAPI is the part of CloudWatch this package calls;
// *cloudwatch.Client satisfies it, and so does the SDK's
// cloudwatch.GetMetricDataAPIClient paginator interface.
type CloudWatchAPI interface {
	GetMetricData(ctx context.Context, in *cloudwatch.GetMetricDataInput, optFns ...func(*cloudwatch.Options)) (*cloudwatch.GetMetricDataOutput, error)
}

var (
	_ ELBv2API                          = (*elbv2.Client)(nil)
	_ elbv2.DescribeRulesAPIClient      = (ELBv2API)(nil)
	_ CloudWatchAPI                     = (*cloudwatch.Client)(nil)
	_ cloudwatch.GetMetricDataAPIClient = (CloudWatchAPI)(nil)
)
