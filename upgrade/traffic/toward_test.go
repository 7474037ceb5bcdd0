package traffic

import (
	"context"
	"testing"

	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/eksbg/eksbg/internal/config"
	"github.com/eksbg/eksbg/upgrade/fake"
)

// TestShifterTowardBlue: after the first upgrade green is live and the
// next one builds blue. The Shifter moves traffic to blue with the rules
// as configured: no caller swaps target groups.
func TestShifterTowardBlue(t *testing.T) {
	const rule = "arn:aws:elasticloadbalancing:us-east-1:111122223333:listener-rule/app/web/1/2/3"
	const blueTG, greenTG = "arn:aws:elasticloadbalancing:us-east-1:111122223333:targetgroup/web-blue/1", "arn:aws:elasticloadbalancing:us-east-1:111122223333:targetgroup/web-green/2"
	elb := &fake.ELB{}
	elb.PutForwardRule(rule, blueTG, greenTG, 0, 100) // green is live
	elb.SetTargets(blueTG, map[string]elbtypes.TargetHealthStateEnum{"10.0.1.1": elbtypes.TargetHealthStateEnumUnhealthy})
	elb.SetTargets(greenTG, map[string]elbtypes.TargetHealthStateEnum{"10.0.2.1": elbtypes.TargetHealthStateEnumHealthy})
	s, err := NewShifter(elb, nil, []config.ListenerRule{{ARN: rule, TargetGroups: config.TargetGroups{Blue: blueTG, Green: greenTG}}}, config.Blue)
	if err != nil {
		t.Fatal(err)
	}
	if s.From() != config.Green || s.To() != config.Blue {
		t.Fatalf("from %s to %s", s.From(), s.To())
	}
	ctx := context.Background()
	if err := s.SetWeights(ctx, 25); err != nil {
		t.Fatal(err)
	}
	if b, g := elb.Weight(rule, blueTG), elb.Weight(rule, greenTG); b != 25 || g != 75 {
		t.Errorf("after SetWeights(25) toward blue: blue %d, green %d; want 25/75", b, g)
	}
	if err := s.VerifyWeights(ctx, 25); err != nil {
		t.Errorf("VerifyWeights(25): %v", err)
	}
	ws, err := s.Weights(ctx)
	if err != nil || len(ws) != 1 || ws[0].Blue != 25 || ws[0].Percent(config.Blue) != 25 {
		t.Errorf("Weights = %+v, %v; want them as configured, blue 25", ws, err)
	}
	// Health is read on the colour traffic moves to: blue's target.
	bad, err := s.HealthyTargets(ctx)
	if err != nil || len(bad) != 1 || bad[0].TargetID != "10.0.1.1" {
		t.Errorf("HealthyTargets = %+v, %v; want blue's unhealthy target", bad, err)
	}
	// Rollback goes back to the live colour, green.
	if err := s.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if b, g := elb.Weight(rule, blueTG), elb.Weight(rule, greenTG); b != 0 || g != 100 {
		t.Errorf("after Rollback: blue %d, green %d; want 0/100", b, g)
	}
}
