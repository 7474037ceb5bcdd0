package traffic

import (
	"errors"
	"reflect"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/eksbg/eksbg/internal/config"
)

const (
	blueTG  = "arn:aws:elasticloadbalancing:us-east-1:111122223333:targetgroup/b/1111111111111111"
	greenTG = "arn:aws:elasticloadbalancing:us-east-1:111122223333:targetgroup/g/2222222222222222"
	otherTG = "arn:aws:elasticloadbalancing:us-east-1:111122223333:targetgroup/o/3333333333333333"
	ruleARN = "arn:aws:elasticloadbalancing:us-east-1:111122223333:listener-rule/app/alb/50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6cabee"
)

func tuple(arn string, w int32) types.TargetGroupTuple {
	return types.TargetGroupTuple{TargetGroupArn: aws.String(arn), Weight: aws.Int32(w)}
}

// TestWithWeights: only the blue and green weights change; the OIDC action
// before the forward keeps its settings and asks ModifyRule to keep its
// stored secret; the input is not modified.
func TestWithWeights(t *testing.T) {
	lr := config.ListenerRule{ARN: ruleARN, TargetGroups: config.TargetGroups{Blue: blueTG, Green: greenTG}}
	oidc := types.Action{Type: types.ActionTypeEnumAuthenticateOidc, Order: aws.Int32(1), AuthenticateOidcConfig: &types.AuthenticateOidcActionConfig{
		ClientId: aws.String("app"), Issuer: aws.String("https://idp.example"), ClientSecret: aws.String("redacted-by-aws")}}
	stick := &types.TargetGroupStickinessConfig{Enabled: aws.Bool(true), DurationSeconds: aws.Int32(600)}
	fwd := types.Action{Type: types.ActionTypeEnumForward, Order: aws.Int32(2), ForwardConfig: &types.ForwardActionConfig{
		TargetGroups: []types.TargetGroupTuple{tuple(otherTG, 7), tuple(blueTG, 100), tuple(greenTG, 0)}, TargetGroupStickinessConfig: stick}}
	in := []types.Action{oidc, fwd}

	for _, c := range []struct {
		name string
		in   []types.Action
		g    int
		want []types.TargetGroupTuple
		err  bool
	}{
		{"oidc then forward", in, 25, []types.TargetGroupTuple{tuple(otherTG, 7), tuple(blueTG, 75), tuple(greenTG, 25)}, false},
		{"all green", []types.Action{fwd}, 100, []types.TargetGroupTuple{tuple(otherTG, 7), tuple(blueTG, 0), tuple(greenTG, 100)}, false},
		{"single target group", []types.Action{{Type: types.ActionTypeEnumForward, TargetGroupArn: aws.String(blueTG)}}, 10, nil, true},
		{"fixed response only", []types.Action{{Type: types.ActionTypeEnumFixedResponse}}, 10, nil, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := &Shifter{from: config.Blue, to: config.Green}
			got, err := s.withWeights(c.in, lr, c.g)
			if c.err {
				if !errors.Is(err, ErrUnsupportedRule) {
					t.Fatalf("err = %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			f := got[len(got)-1]
			if !reflect.DeepEqual(f.ForwardConfig.TargetGroups, c.want) || f.ForwardConfig.TargetGroupStickinessConfig != stick ||
				f.TargetGroupArn != nil || aws.ToInt32(f.Order) != 2 {
				t.Fatalf("forward %+v", f.ForwardConfig)
			}
			if len(got) == 2 {
				o := got[0].AuthenticateOidcConfig
				if o.ClientSecret != nil || !aws.ToBool(o.UseExistingClientSecret) || aws.ToString(o.ClientId) != "app" || aws.ToInt32(got[0].Order) != 1 {
					t.Fatalf("oidc %+v", o)
				}
			}
		})
	}
	// The input is as it was.
	if aws.ToInt32(fwd.ForwardConfig.TargetGroups[1].Weight) != 100 || aws.ToString(oidc.AuthenticateOidcConfig.ClientSecret) != "redacted-by-aws" {
		t.Fatal("withWeights modified its input")
	}
}

func TestDimensions(t *testing.T) {
	for _, c := range []struct {
		arn, tg, lb string
	}{
		{greenTG, "targetgroup/g/2222222222222222", ""},
		{ruleARN, "", "app/alb/50dc6c495c0c9188"},
		{"arn:aws:elasticloadbalancing:us-east-1:111122223333:listener/app/alb/50dc6c495c0c9188/f2f7dc8efc522ab2", "", "app/alb/50dc6c495c0c9188"},
		{"arn:aws:elasticloadbalancing:us-east-1:111122223333:loadbalancer/app/alb/50dc6c495c0c9188", "", "app/alb/50dc6c495c0c9188"},
		{"arn:aws:elasticloadbalancing:us-east-1:111122223333:listener-rule/net/nlb/50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6cabee", "", ""},
		{"targetgroup/g/2222222222222222", "", ""},
	} {
		tg, tgErr := TargetGroupDimension(c.arn)
		lb, lbErr := LoadBalancerDimension(c.arn)
		if tg != c.tg || (tgErr == nil) != (c.tg != "") || lb != c.lb || (lbErr == nil) != (c.lb != "") {
			t.Errorf("%s: target group %q %v, load balancer %q %v", c.arn, tg, tgErr, lb, lbErr)
		}
	}
}

func TestNewShifterValidates(t *testing.T) {
	good := config.ListenerRule{ARN: ruleARN, TargetGroups: config.TargetGroups{Blue: blueTG, Green: greenTG}}
	for _, c := range []struct {
		name  string
		rules []config.ListenerRule
		ok    bool
	}{
		{"good", []config.ListenerRule{good}, true},
		{"none", nil, false},
		{"twice", []config.ListenerRule{good, good}, false},
		{"no green", []config.ListenerRule{{ARN: ruleARN, TargetGroups: config.TargetGroups{Blue: blueTG}}}, false},
		{"same group", []config.ListenerRule{{ARN: ruleARN, TargetGroups: config.TargetGroups{Blue: blueTG, Green: blueTG}}}, false},
	} {
		if _, err := NewShifter(nil, nil, c.rules, config.Green); (err == nil) != c.ok {
			t.Errorf("%s: %v", c.name, err)
		}
	}
}
