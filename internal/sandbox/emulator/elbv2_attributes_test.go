package emulator_test

import (
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/smithy-go"
)

func TestELBv2DescribeTargetGroupAttributes(t *testing.T) {
	d := startELBDemo(t)
	out, err := d.c.DescribeTargetGroupAttributes(d.ctx, &elasticloadbalancingv2.DescribeTargetGroupAttributesInput{TargetGroupArn: &d.blue})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, a := range out.Attributes {
		got[aws.ToString(a.Key)] = aws.ToString(a.Value)
	}
	if got["deregistration_delay.timeout_seconds"] != "10" || got["stickiness.enabled"] != "false" {
		t.Errorf("attributes = %v", got)
	}
	missing := d.blue[:len(d.blue)-4] + "ffff"
	_, err = d.c.DescribeTargetGroupAttributes(d.ctx, &elasticloadbalancingv2.DescribeTargetGroupAttributesInput{TargetGroupArn: &missing})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "TargetGroupNotFound" {
		t.Errorf("unknown target group: %v", err)
	}
}
