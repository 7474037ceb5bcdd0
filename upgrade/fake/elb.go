package fake

import (
	"context"
	"fmt"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// ELB serves listener rules, target health and target group attributes
// from memory. ModifyRule replaces a rule's actions, as AWS does, and
// records every write in Writes.
type ELB struct {
	Calls
	Errors
	mu      sync.Mutex
	rules   map[string]elbtypes.Rule
	targets map[string][]elbtypes.TargetHealthDescription
	delay   map[string]string
	// Writes are the rules' forward weights after each ModifyRule: rule
	// ARN → target group ARN → weight.
	Writes []map[string]map[string]int32
	// OnModify, if set, is called after each ModifyRule with the rule and
	// its new weights by target group (outside the fake's lock).
	OnModify func(rule string, weights map[string]int32)
}

// PutForwardRule adds a rule forwarding to blue and green with weights.
func (f *ELB) PutForwardRule(arn, blueTG, greenTG string, blue, green int32) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.rules == nil {
		f.rules = map[string]elbtypes.Rule{}
	}
	f.rules[arn] = elbtypes.Rule{RuleArn: aws.String(arn), Actions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward,
		ForwardConfig: &elbtypes.ForwardActionConfig{TargetGroups: []elbtypes.TargetGroupTuple{
			{TargetGroupArn: aws.String(blueTG), Weight: aws.Int32(blue)},
			{TargetGroupArn: aws.String(greenTG), Weight: aws.Int32(green)}}}}}}
}

// SetTargets sets a target group's targets: id → health state.
func (f *ELB) SetTargets(tg string, states map[string]elbtypes.TargetHealthStateEnum) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.targets == nil {
		f.targets = map[string][]elbtypes.TargetHealthDescription{}
	}
	var ds []elbtypes.TargetHealthDescription
	for id, st := range states {
		ds = append(ds, elbtypes.TargetHealthDescription{Target: &elbtypes.TargetDescription{Id: aws.String(id), Port: aws.Int32(8080)},
			TargetHealth: &elbtypes.TargetHealth{State: st}})
	}
	f.targets[tg] = ds
}

// SetDeregistrationDelay sets a target group's
// deregistration_delay.timeout_seconds.
func (f *ELB) SetDeregistrationDelay(tg string, seconds int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.delay == nil {
		f.delay = map[string]string{}
	}
	f.delay[tg] = fmt.Sprint(seconds)
}

// Weight returns a rule's weight for a target group (-1 if it has none).
func (f *ELB) Weight(rule, tg string) int32 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return weightsOf(f.rules[rule])[tg]
}

func weightsOf(r elbtypes.Rule) map[string]int32 {
	out := map[string]int32{}
	for _, a := range r.Actions {
		if a.ForwardConfig == nil {
			continue
		}
		for _, t := range a.ForwardConfig.TargetGroups {
			out[aws.ToString(t.TargetGroupArn)] = aws.ToInt32(t.Weight)
		}
	}
	return out
}

// DescribeRules implements traffic.ELBv2API: the rules named, or
// RuleNotFound when one is missing, as AWS answers.
func (f *ELB) DescribeRules(_ context.Context, in *elb.DescribeRulesInput, _ ...func(*elb.Options)) (*elb.DescribeRulesOutput, error) {
	f.add("DescribeRules")
	if err := f.take("DescribeRules"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	out := &elb.DescribeRulesOutput{}
	for _, arn := range in.RuleArns {
		r, ok := f.rules[arn]
		if !ok {
			return nil, APIError("RuleNotFound", "One or more rules not found")
		}
		out.Rules = append(out.Rules, r)
	}
	return out, nil
}

// ModifyRule implements traffic.ELBv2API: it replaces the rule's actions.
func (f *ELB) ModifyRule(_ context.Context, in *elb.ModifyRuleInput, _ ...func(*elb.Options)) (*elb.ModifyRuleOutput, error) {
	f.add("ModifyRule")
	if err := f.take("ModifyRule"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	arn := aws.ToString(in.RuleArn)
	r, ok := f.rules[arn]
	if !ok {
		return nil, APIError("RuleNotFound", "One or more rules not found")
	}
	r.Actions = in.Actions
	f.rules[arn] = r
	w := map[string]map[string]int32{}
	for a, rr := range f.rules {
		w[a] = weightsOf(rr)
	}
	f.Writes = append(f.Writes, w)
	if hook := f.OnModify; hook != nil {
		f.mu.Unlock()
		defer f.mu.Lock()
		hook(arn, w[arn])
	}
	return &elb.ModifyRuleOutput{Rules: []elbtypes.Rule{r}}, nil
}

// DescribeTargetHealth implements traffic.ELBv2API.
func (f *ELB) DescribeTargetHealth(_ context.Context, in *elb.DescribeTargetHealthInput, _ ...func(*elb.Options)) (*elb.DescribeTargetHealthOutput, error) {
	f.add("DescribeTargetHealth")
	if err := f.take("DescribeTargetHealth"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return &elb.DescribeTargetHealthOutput{TargetHealthDescriptions: append([]elbtypes.TargetHealthDescription(nil), f.targets[aws.ToString(in.TargetGroupArn)]...)}, nil
}

// DescribeTargetGroupAttributes implements upgrade.ELBAPI.
func (f *ELB) DescribeTargetGroupAttributes(_ context.Context, in *elb.DescribeTargetGroupAttributesInput, _ ...func(*elb.Options)) (*elb.DescribeTargetGroupAttributesOutput, error) {
	f.add("DescribeTargetGroupAttributes")
	if err := f.take("DescribeTargetGroupAttributes"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	out := &elb.DescribeTargetGroupAttributesOutput{}
	if v, ok := f.delay[aws.ToString(in.TargetGroupArn)]; ok {
		out.Attributes = []elbtypes.TargetGroupAttribute{{Key: aws.String("deregistration_delay.timeout_seconds"), Value: aws.String(v)}}
	}
	return out, nil
}
