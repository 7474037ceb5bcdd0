package emulator_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/smithy-go"

	"github.com/eksbg/eksbg/internal/sandbox/emulator"
	"github.com/eksbg/eksbg/internal/sandbox/sandboxtest"
)

// ELBv2 against the demo scenario: the demo-alb load balancer, its HTTP:80
// listener, the "web" rule forwarding 100/0 to demo-blue-web and
// demo-green-web, and six demo-blue pod addresses registered in
// demo-blue-web.

// elbDemo is the demo world on a fake clock with the ARNs the tests use.
type elbDemo struct {
	env                              *sandboxtest.Env
	clock                            *sandboxtest.Clock
	c                                *elbv2.Client
	lb, listener, web, defaultRule   string
	blue, green                      string
	ctx                              context.Context
	lbName, blueName, greenName, vpc string
}

const elbDemoVPC = "vpc-0de00000000000001"

// elbCLIs are the two AWS CLIs, as RunCLI takes them.
var elbCLIs = [][]string{{sandboxtest.CLIv2}, {"python3", "-m", "awscli"}}

func cliName(cli []string) string {
	if len(cli) == 1 {
		return "aws-cli-v2"
	}
	return "aws-cli-v1"
}

func startELBDemo(t *testing.T) *elbDemo {
	t.Helper()
	clock := sandboxtest.NewClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	env := sandboxtest.StartScenario(t, "demo", sandboxtest.WithClock(clock.Now))
	d := &elbDemo{env: env, clock: clock, c: elbv2.NewFromConfig(env.AWS), ctx: context.Background(),
		lbName: "demo-alb", blueName: "demo-blue-web", greenName: "demo-green-web", vpc: elbDemoVPC}
	lbs, err := d.c.DescribeLoadBalancers(d.ctx, &elbv2.DescribeLoadBalancersInput{Names: []string{"demo-alb"}})
	if err != nil || len(lbs.LoadBalancers) != 1 {
		t.Fatalf("DescribeLoadBalancers demo-alb: %v", err)
	}
	d.lb = aws.ToString(lbs.LoadBalancers[0].LoadBalancerArn)
	ls, err := d.c.DescribeListeners(d.ctx, &elbv2.DescribeListenersInput{LoadBalancerArn: &d.lb})
	if err != nil || len(ls.Listeners) != 1 {
		t.Fatalf("DescribeListeners: %v", err)
	}
	d.listener = aws.ToString(ls.Listeners[0].ListenerArn)
	rules, err := d.c.DescribeRules(d.ctx, &elbv2.DescribeRulesInput{ListenerArn: &d.listener})
	if err != nil || len(rules.Rules) != 2 {
		t.Fatalf("DescribeRules: %v", err)
	}
	for _, r := range rules.Rules {
		if aws.ToBool(r.IsDefault) {
			d.defaultRule = aws.ToString(r.RuleArn)
		} else {
			d.web = aws.ToString(r.RuleArn)
		}
	}
	tgs, err := d.c.DescribeTargetGroups(d.ctx, &elbv2.DescribeTargetGroupsInput{Names: []string{"demo-blue-web", "demo-green-web"}})
	if err != nil || len(tgs.TargetGroups) != 2 {
		t.Fatalf("DescribeTargetGroups: %v", err)
	}
	for _, tg := range tgs.TargetGroups {
		switch aws.ToString(tg.TargetGroupName) {
		case "demo-blue-web":
			d.blue = aws.ToString(tg.TargetGroupArn)
		case "demo-green-web":
			d.green = aws.ToString(tg.TargetGroupArn)
		}
	}
	return d
}

// cli runs a CLI that must succeed and decodes its JSON output.
func (d *elbDemo) cli(t *testing.T, cli []string, args ...string) map[string]any {
	t.Helper()
	stdout, stderr, err := d.env.RunCLI(t, cli[0], append(append([]string{}, cli[1:]...), args...)...)
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", cliName(cli), args, err, stderr)
	}
	out := map[string]any{}
	if len(strings.TrimSpace(string(stdout))) == 0 {
		return out
	}
	if err := json.Unmarshal(stdout, &out); err != nil {
		t.Fatalf("%s %v: decoding %q: %v", cliName(cli), args, stdout, err)
	}
	return out
}

// cliFails runs a CLI that must fail and returns its stderr.
func (d *elbDemo) cliFails(t *testing.T, cli []string, args ...string) string {
	t.Helper()
	stdout, stderr, err := d.env.RunCLI(t, cli[0], append(append([]string{}, cli[1:]...), args...)...)
	if err == nil {
		t.Fatalf("%s %v succeeded, want an error: %s", cliName(cli), args, stdout)
	}
	return stderr
}

// apiError asserts err is an AWS error with the code and a message holding msg.
func apiError(t *testing.T, what string, err error, code, msg string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Errorf("%s: got %v, want %s", what, err, code)
		return
	}
	if ae.ErrorCode() != code || !strings.Contains(ae.ErrorMessage(), msg) {
		t.Errorf("%s: got %s: %s, want %s containing %q", what, ae.ErrorCode(), ae.ErrorMessage(), code, msg)
	}
}

// weights reads a rule's forward weights back through DescribeRules.
func (d *elbDemo) weights(t *testing.T, ruleARN string) map[string]int32 {
	t.Helper()
	out, err := d.c.DescribeRules(d.ctx, &elbv2.DescribeRulesInput{RuleArns: []string{ruleARN}})
	if err != nil || len(out.Rules) != 1 {
		t.Fatalf("DescribeRules %s: %v", ruleARN, err)
	}
	got := map[string]int32{}
	for _, a := range out.Rules[0].Actions {
		if a.ForwardConfig == nil {
			t.Fatalf("forward action without ForwardConfig: %+v", a)
		}
		for _, tg := range a.ForwardConfig.TargetGroups {
			got[aws.ToString(tg.TargetGroupArn)] = aws.ToInt32(tg.Weight)
		}
	}
	return got
}

func (d *elbDemo) forward(weights ...int32) []elbtypes.Action {
	var tgs []elbtypes.TargetGroupTuple
	for i, arn := range []string{d.blue, d.green} {
		if i < len(weights) {
			tgs = append(tgs, elbtypes.TargetGroupTuple{TargetGroupArn: aws.String(arn), Weight: aws.Int32(weights[i])})
		}
	}
	return []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, ForwardConfig: &elbtypes.ForwardActionConfig{TargetGroups: tgs}}}
}

// health returns the target health descriptions of a target group by "ip:port".
func (d *elbDemo) health(t *testing.T, tg string, targets ...elbtypes.TargetDescription) map[string]elbtypes.TargetHealthDescription {
	t.Helper()
	out, err := d.c.DescribeTargetHealth(d.ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: &tg, Targets: targets})
	if err != nil {
		t.Fatalf("DescribeTargetHealth: %v", err)
	}
	m := map[string]elbtypes.TargetHealthDescription{}
	for _, h := range out.TargetHealthDescriptions {
		m[fmt.Sprintf("%s:%d", aws.ToString(h.Target.Id), aws.ToInt32(h.Target.Port))] = h
	}
	return m
}

func TestELBv2DescribeDemo(t *testing.T) {
	d := startELBDemo(t)
	ctx := d.ctx

	lbs, err := d.c.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{})
	if err != nil || len(lbs.LoadBalancers) != 1 {
		t.Fatalf("DescribeLoadBalancers: %v %+v", err, lbs)
	}
	lb := lbs.LoadBalancers[0]
	if aws.ToString(lb.LoadBalancerName) != "demo-alb" || lb.Type != elbtypes.LoadBalancerTypeEnumApplication ||
		lb.Scheme != elbtypes.LoadBalancerSchemeEnumInternetFacing || lb.State == nil || lb.State.Code != elbtypes.LoadBalancerStateEnumActive ||
		aws.ToString(lb.VpcId) != elbDemoVPC || aws.ToString(lb.CanonicalHostedZoneId) != "Z35SXDOTRQ7X7K" ||
		lb.IpAddressType != elbtypes.IpAddressTypeIpv4 || len(lb.SecurityGroups) != 1 || lb.CreatedTime == nil {
		t.Errorf("load balancer: %+v", lb)
	}
	if dns := aws.ToString(lb.DNSName); !strings.HasPrefix(dns, "demo-alb-") || !strings.HasSuffix(dns, ".us-east-1.elb.amazonaws.com") {
		t.Errorf("DNSName %q", dns)
	}
	if !strings.HasPrefix(d.lb, "arn:aws:elasticloadbalancing:us-east-1:111122223333:loadbalancer/app/demo-alb/") {
		t.Errorf("load balancer ARN %s", d.lb)
	}
	var zones []string
	for _, az := range lb.AvailabilityZones {
		zones = append(zones, aws.ToString(az.ZoneName)+"="+aws.ToString(az.SubnetId))
	}
	if want := "us-east-1a=subnet-0de00000000000a03 us-east-1b=subnet-0de00000000000b03 us-east-1c=subnet-0de00000000000c03"; strings.Join(zones, " ") != want {
		t.Errorf("AvailabilityZones %v, want %s", zones, want)
	}

	ls, err := d.c.DescribeListeners(ctx, &elbv2.DescribeListenersInput{ListenerArns: []string{d.listener}})
	if err != nil || len(ls.Listeners) != 1 {
		t.Fatalf("DescribeListeners by ARN: %v", err)
	}
	l := ls.Listeners[0]
	if aws.ToInt32(l.Port) != 80 || l.Protocol != elbtypes.ProtocolEnumHttp || aws.ToString(l.LoadBalancerArn) != d.lb || len(l.DefaultActions) != 1 {
		t.Fatalf("listener: %+v", l)
	}
	da := l.DefaultActions[0]
	if da.Type != elbtypes.ActionTypeEnumForward || aws.ToString(da.TargetGroupArn) != d.blue || aws.ToInt32(da.Order) != 1 ||
		da.ForwardConfig == nil || len(da.ForwardConfig.TargetGroups) != 1 || aws.ToInt32(da.ForwardConfig.TargetGroups[0].Weight) != 1 {
		t.Errorf("default action: %+v", da)
	}

	rules, err := d.c.DescribeRules(ctx, &elbv2.DescribeRulesInput{ListenerArn: &d.listener})
	if err != nil || len(rules.Rules) != 2 {
		t.Fatalf("DescribeRules: %v", err)
	}
	web, def := rules.Rules[0], rules.Rules[1]
	if aws.ToString(web.Priority) != "10" || aws.ToBool(web.IsDefault) || len(web.Conditions) != 1 || len(web.Actions) != 1 {
		t.Fatalf("web rule: %+v", web)
	}
	cond := web.Conditions[0]
	if aws.ToString(cond.Field) != "path-pattern" || strings.Join(cond.Values, ",") != "/*" ||
		cond.PathPatternConfig == nil || strings.Join(cond.PathPatternConfig.Values, ",") != "/*" {
		t.Errorf("web condition: %+v", cond)
	}
	wa := web.Actions[0]
	if wa.Type != elbtypes.ActionTypeEnumForward || wa.TargetGroupArn != nil || wa.ForwardConfig == nil ||
		wa.ForwardConfig.TargetGroupStickinessConfig == nil || aws.ToBool(wa.ForwardConfig.TargetGroupStickinessConfig.Enabled) ||
		wa.ForwardConfig.TargetGroupStickinessConfig.DurationSeconds != nil {
		t.Errorf("web action: %+v", wa)
	}
	if got := d.weights(t, d.web); got[d.blue] != 100 || got[d.green] != 0 || len(got) != 2 {
		t.Errorf("web weights %v, want blue 100 green 0", got)
	}
	if aws.ToString(def.Priority) != "default" || !aws.ToBool(def.IsDefault) || len(def.Conditions) != 0 ||
		len(def.Actions) != 1 || aws.ToString(def.Actions[0].TargetGroupArn) != d.blue {
		t.Errorf("default rule: %+v", def)
	}

	tgs, err := d.c.DescribeTargetGroups(ctx, &elbv2.DescribeTargetGroupsInput{LoadBalancerArn: &d.lb})
	if err != nil || len(tgs.TargetGroups) != 2 {
		t.Fatalf("DescribeTargetGroups by load balancer: %v %+v", err, tgs)
	}
	for i, want := range []string{"demo-blue-web", "demo-green-web"} {
		tg := tgs.TargetGroups[i]
		if aws.ToString(tg.TargetGroupName) != want || aws.ToInt32(tg.Port) != 8080 || tg.Protocol != elbtypes.ProtocolEnumHttp ||
			tg.TargetType != elbtypes.TargetTypeEnumIp || aws.ToString(tg.VpcId) != elbDemoVPC || aws.ToString(tg.HealthCheckPath) != "/healthz" ||
			aws.ToString(tg.HealthCheckPort) != "traffic-port" || !aws.ToBool(tg.HealthCheckEnabled) || tg.Matcher == nil ||
			aws.ToString(tg.Matcher.HttpCode) != "200" || strings.Join(tg.LoadBalancerArns, ",") != d.lb {
			t.Errorf("target group %d: %+v", i, tg)
		}
	}

	tags, err := d.c.DescribeTags(ctx, &elbv2.DescribeTagsInput{ResourceArns: []string{d.lb, d.web, d.blue}})
	if err != nil || len(tags.TagDescriptions) != 3 {
		t.Fatalf("DescribeTags: %v", err)
	}
	for _, td := range tags.TagDescriptions {
		var kv []string
		for _, tag := range td.Tags {
			kv = append(kv, aws.ToString(tag.Key)+"="+aws.ToString(tag.Value))
		}
		want := ""
		if aws.ToString(td.ResourceArn) == d.web {
			want = "Name=web"
		}
		if strings.Join(kv, ",") != want {
			t.Errorf("tags of %s: %v, want %q", aws.ToString(td.ResourceArn), kv, want)
		}
	}

	blue := d.health(t, d.blue)
	if len(blue) != 6 {
		t.Fatalf("demo-blue-web has %d targets, want 6", len(blue))
	}
	for key, h := range blue {
		if !strings.HasPrefix(key, "10.20.") || aws.ToInt32(h.Target.Port) != 8080 || aws.ToString(h.HealthCheckPort) != "8080" ||
			!strings.HasPrefix(aws.ToString(h.Target.AvailabilityZone), "us-east-1") ||
			h.TargetHealth.State != elbtypes.TargetHealthStateEnumHealthy || h.TargetHealth.Reason != "" {
			t.Errorf("blue target %s: %+v %+v", key, h.Target, h.TargetHealth)
		}
	}
	if green := d.health(t, d.green); len(green) != 0 {
		t.Errorf("demo-green-web has targets: %v", green)
	}
}

func TestELBv2DescribeCLI(t *testing.T) {
	d := startELBDemo(t)
	for _, cli := range elbCLIs {
		t.Run(cliName(cli), func(t *testing.T) {
			lbs := d.cli(t, cli, "elbv2", "describe-load-balancers", "--names", "demo-alb")
			lb := lbs["LoadBalancers"].([]any)[0].(map[string]any)
			if lb["LoadBalancerArn"] != d.lb || lb["Type"] != "application" || lb["State"].(map[string]any)["Code"] != "active" ||
				len(lb["AvailabilityZones"].([]any)) != 3 {
				t.Errorf("describe-load-balancers: %v", lb)
			}
			ls := d.cli(t, cli, "elbv2", "describe-listeners", "--load-balancer-arn", d.lb)
			l := ls["Listeners"].([]any)[0].(map[string]any)
			if l["ListenerArn"] != d.listener || l["Port"] != 80.0 || l["Protocol"] != "HTTP" {
				t.Errorf("describe-listeners: %v", l)
			}
			rules := d.cli(t, cli, "elbv2", "describe-rules", "--listener-arn", d.listener)["Rules"].([]any)
			if len(rules) != 2 {
				t.Fatalf("describe-rules: %v", rules)
			}
			web := rules[0].(map[string]any)
			fc := web["Actions"].([]any)[0].(map[string]any)["ForwardConfig"].(map[string]any)
			tgs := fc["TargetGroups"].([]any)
			if web["Priority"] != "10" || web["IsDefault"] != false || len(tgs) != 2 ||
				tgs[0].(map[string]any)["TargetGroupArn"] != d.blue || tgs[0].(map[string]any)["Weight"] != 100.0 ||
				tgs[1].(map[string]any)["TargetGroupArn"] != d.green || tgs[1].(map[string]any)["Weight"] != 0.0 ||
				fc["TargetGroupStickinessConfig"].(map[string]any)["Enabled"] != false {
				t.Errorf("web rule: %v", web)
			}
			cond := web["Conditions"].([]any)[0].(map[string]any)
			if cond["Field"] != "path-pattern" || fmt.Sprint(cond["Values"]) != "[/*]" ||
				fmt.Sprint(cond["PathPatternConfig"].(map[string]any)["Values"]) != "[/*]" {
				t.Errorf("web condition: %v", cond)
			}
			def := rules[1].(map[string]any)
			if def["Priority"] != "default" || def["IsDefault"] != true || len(def["Conditions"].([]any)) != 0 {
				t.Errorf("default rule: %v", def)
			}
			tg := d.cli(t, cli, "elbv2", "describe-target-groups", "--names", "demo-green-web")["TargetGroups"].([]any)[0].(map[string]any)
			if tg["TargetGroupArn"] != d.green || tg["Port"] != 8080.0 || tg["TargetType"] != "ip" || fmt.Sprint(tg["LoadBalancerArns"]) != "["+d.lb+"]" {
				t.Errorf("describe-target-groups: %v", tg)
			}
			th := d.cli(t, cli, "elbv2", "describe-target-health", "--target-group-arn", d.blue)["TargetHealthDescriptions"].([]any)
			if len(th) != 6 {
				t.Fatalf("describe-target-health: %v", th)
			}
			for _, h := range th {
				hm := h.(map[string]any)
				if hm["TargetHealth"].(map[string]any)["State"] != "healthy" || hm["HealthCheckPort"] != "8080" ||
					hm["Target"].(map[string]any)["Port"] != 8080.0 {
					t.Errorf("target health: %v", hm)
				}
			}
			tags := d.cli(t, cli, "elbv2", "describe-tags", "--resource-arns", d.web, d.green)["TagDescriptions"].([]any)
			if len(tags) != 2 || fmt.Sprint(tags[0].(map[string]any)["Tags"]) != "[map[Key:Name Value:web]]" ||
				len(tags[1].(map[string]any)["Tags"].([]any)) != 0 {
				t.Errorf("describe-tags: %v", tags)
			}
		})
	}
}

func TestELBv2ModifyRuleWeightShift(t *testing.T) {
	d := startELBDemo(t)
	// 100/0 -> 75/25 through the SDK.
	out, err := d.c.ModifyRule(d.ctx, &elbv2.ModifyRuleInput{RuleArn: &d.web, Actions: d.forward(75, 25)})
	if err != nil {
		t.Fatalf("ModifyRule 75/25: %v", err)
	}
	if len(out.Rules) != 1 || aws.ToString(out.Rules[0].RuleArn) != d.web || len(out.Rules[0].Conditions) != 1 {
		t.Errorf("ModifyRule result: %+v", out.Rules)
	}
	if got := d.weights(t, d.web); got[d.blue] != 75 || got[d.green] != 25 {
		t.Errorf("after 75/25: %v", got)
	}
	d.clock.Advance(time.Minute)
	// -> 0/100 through the AWS CLI v2, in its JSON form.
	actions := fmt.Sprintf(`[{"Type":"forward","ForwardConfig":{"TargetGroups":[{"TargetGroupArn":%q,"Weight":0},{"TargetGroupArn":%q,"Weight":100}],"TargetGroupStickinessConfig":{"Enabled":true,"DurationSeconds":300}}}]`, d.blue, d.green)
	res := d.cli(t, []string{sandboxtest.CLIv2}, "elbv2", "modify-rule", "--rule-arn", d.web, "--actions", actions)
	if rules := res["Rules"].([]any); len(rules) != 1 {
		t.Errorf("modify-rule output: %v", res)
	}
	if got := d.weights(t, d.web); got[d.blue] != 0 || got[d.green] != 100 {
		t.Errorf("after 0/100: %v", got)
	}
	rules, err := d.c.DescribeRules(d.ctx, &elbv2.DescribeRulesInput{RuleArns: []string{d.web}})
	if err != nil {
		t.Fatal(err)
	}
	st := rules.Rules[0].Actions[0].ForwardConfig.TargetGroupStickinessConfig
	if !aws.ToBool(st.Enabled) || aws.ToInt32(st.DurationSeconds) != 300 {
		t.Errorf("stickiness %+v, want enabled for 300 s", st)
	}
	d.clock.Advance(time.Minute)
	// Back to 50/50 through the CLI v1 with its shorthand, changing the condition too.
	res = d.cli(t, elbCLIs[1], "elbv2", "modify-rule", "--rule-arn", d.web,
		"--conditions", "Field=path-pattern,PathPatternConfig={Values=[/app/*,/api/*]}",
		"--actions", fmt.Sprintf("Type=forward,ForwardConfig={TargetGroups=[{TargetGroupArn=%s,Weight=50},{TargetGroupArn=%s,Weight=50}]}", d.blue, d.green))
	cond := res["Rules"].([]any)[0].(map[string]any)["Conditions"].([]any)[0].(map[string]any)
	if fmt.Sprint(cond["Values"]) != "[/app/* /api/*]" || fmt.Sprint(cond["PathPatternConfig"].(map[string]any)["Values"]) != "[/app/* /api/*]" {
		t.Errorf("condition after modify-rule: %v", cond)
	}
	if got := d.weights(t, d.web); got[d.blue] != 50 || got[d.green] != 50 {
		t.Errorf("after 50/50: %v", got)
	}

	// The rule's weight history, which CloudWatch's traffic model follows.
	var history []emulator.WeightChange
	d.env.Server.View(func(w *emulator.World) { history = append(history, w.Rules[d.web].History...) })
	if len(history) != 4 {
		t.Fatalf("history has %d entries, want 4: %+v", len(history), history)
	}
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for i, want := range []struct {
		at          time.Time
		blue, green int
	}{{t0, 75, 25}, {t0.Add(time.Minute), 0, 100}, {t0.Add(2 * time.Minute), 50, 50}} {
		h := history[i+1]
		if !h.At.Equal(want.at) || h.Weights[d.blue] != want.blue || h.Weights[d.green] != want.green {
			t.Errorf("history[%d] = %+v, want %v blue %d green %d", i+1, h, want.at, want.blue, want.green)
		}
	}

	// All weights zero is accepted (the ALB then answers 503).
	if _, err := d.c.ModifyRule(d.ctx, &elbv2.ModifyRuleInput{RuleArn: &d.web, Actions: d.forward(0, 0)}); err != nil {
		t.Errorf("ModifyRule 0/0: %v", err)
	}
	// Forwarding to blue alone drops green's association with the load balancer.
	if _, err := d.c.ModifyRule(d.ctx, &elbv2.ModifyRuleInput{RuleArn: &d.web, Actions: []elbtypes.Action{
		{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: &d.blue}}}); err != nil {
		t.Fatalf("ModifyRule to blue: %v", err)
	}
	rules, err = d.c.DescribeRules(d.ctx, &elbv2.DescribeRulesInput{RuleArns: []string{d.web}})
	if err != nil {
		t.Fatal(err)
	}
	if a := rules.Rules[0].Actions[0]; aws.ToString(a.TargetGroupArn) != d.blue || len(a.ForwardConfig.TargetGroups) != 1 ||
		aws.ToInt32(a.ForwardConfig.TargetGroups[0].Weight) != 1 {
		t.Errorf("single-target-group action: %+v", a)
	}
	tgs, err := d.c.DescribeTargetGroups(d.ctx, &elbv2.DescribeTargetGroupsInput{TargetGroupArns: []string{d.green}})
	if err != nil || len(tgs.TargetGroups[0].LoadBalancerArns) != 0 {
		t.Errorf("green still associated: %v %+v", err, tgs)
	}
	lbTGs, err := d.c.DescribeTargetGroups(d.ctx, &elbv2.DescribeTargetGroupsInput{LoadBalancerArn: &d.lb})
	if err != nil || len(lbTGs.TargetGroups) != 1 || aws.ToString(lbTGs.TargetGroups[0].TargetGroupArn) != d.blue {
		t.Errorf("target groups of the load balancer: %v %+v", err, lbTGs)
	}
}

func TestELBv2ModifyListener(t *testing.T) {
	d := startELBDemo(t)
	out, err := d.c.ModifyListener(d.ctx, &elbv2.ModifyListenerInput{ListenerArn: &d.listener, Port: aws.Int32(8080),
		Protocol: elbtypes.ProtocolEnumHttp, DefaultActions: d.forward(10, 90)})
	if err != nil {
		t.Fatalf("ModifyListener: %v", err)
	}
	l := out.Listeners[0]
	if aws.ToInt32(l.Port) != 8080 || len(l.DefaultActions) != 1 || len(l.DefaultActions[0].ForwardConfig.TargetGroups) != 2 ||
		l.DefaultActions[0].TargetGroupArn != nil {
		t.Errorf("ModifyListener result: %+v", l)
	}
	// The default rule mirrors the listener's default actions.
	if got := d.weights(t, d.defaultRule); got[d.blue] != 10 || got[d.green] != 90 {
		t.Errorf("default rule weights %v, want 10/90", got)
	}
	var history []emulator.WeightChange
	d.env.Server.View(func(w *emulator.World) { history = w.Rules[d.defaultRule].History })
	if n := len(history); n != 2 || history[1].Weights[d.green] != 90 {
		t.Errorf("default rule history: %+v", history)
	}
	// ModifyRule on the default rule changes the listener too.
	if _, err := d.c.ModifyRule(d.ctx, &elbv2.ModifyRuleInput{RuleArn: &d.defaultRule, Actions: d.forward(1)}); err != nil {
		t.Fatalf("ModifyRule default: %v", err)
	}
	ls := d.cli(t, []string{sandboxtest.CLIv2}, "elbv2", "describe-listeners", "--listener-arns", d.listener)
	la := ls["Listeners"].([]any)[0].(map[string]any)
	if la["Port"] != 8080.0 || la["DefaultActions"].([]any)[0].(map[string]any)["TargetGroupArn"] != d.blue {
		t.Errorf("listener after ModifyRule on the default rule: %v", la)
	}
	// Through the CLI v1 back to port 80.
	res := d.cli(t, elbCLIs[1], "elbv2", "modify-listener", "--listener-arn", d.listener, "--port", "80")
	if res["Listeners"].([]any)[0].(map[string]any)["Port"] != 80.0 {
		t.Errorf("modify-listener: %v", res)
	}
	_, err = d.c.ModifyListener(d.ctx, &elbv2.ModifyListenerInput{ListenerArn: &d.listener, Protocol: elbtypes.ProtocolEnumTcp})
	apiError(t, "ModifyListener TCP", err, "ValidationError", "Listener protocol 'TCP' must be one of 'HTTPS, HTTP'")
	_, err = d.c.ModifyListener(d.ctx, &elbv2.ModifyListenerInput{ListenerArn: &d.listener, Port: aws.Int32(70000)})
	apiError(t, "ModifyListener port 70000", err, "ValidationError", "Member must have value less than or equal to 65535")
	_, err = d.c.ModifyListener(d.ctx, &elbv2.ModifyListenerInput{ListenerArn: aws.String(strings.Replace(d.listener, "/app/", "/app/x", 1))})
	apiError(t, "ModifyListener unknown", err, "ListenerNotFound", "One or more listeners not found")
}

func TestELBv2Errors(t *testing.T) {
	d := startELBDemo(t)
	ctx := d.ctx
	missingLB := strings.Replace(d.lb, "demo-alb", "nope-alb", 1)
	missingTG := strings.Replace(d.blue, "demo-blue-web", "nope-web", 1)
	missingRule := d.web[:len(d.web)-4] + "0000"
	cases := []struct {
		name      string
		call      func() error
		code, msg string
	}{
		{"DescribeLoadBalancers unknown ARN", func() error {
			_, err := d.c.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{LoadBalancerArns: []string{missingLB}})
			return err
		}, "LoadBalancerNotFound", "One or more load balancers not found"},
		{"DescribeLoadBalancers unknown name", func() error {
			_, err := d.c.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{Names: []string{"demo-alb", "nope"}})
			return err
		}, "LoadBalancerNotFound", "Load balancers '[nope]' not found"},
		{"DescribeLoadBalancers malformed ARN", func() error {
			_, err := d.c.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{LoadBalancerArns: []string{"demo-alb"}})
			return err
		}, "ValidationError", "'demo-alb' is not a valid load balancer ARN"},
		{"DescribeListeners unknown", func() error {
			_, err := d.c.DescribeListeners(ctx, &elbv2.DescribeListenersInput{ListenerArns: []string{d.listener + "0"}})
			return err
		}, "ListenerNotFound", "One or more listeners not found"},
		{"DescribeListeners unknown load balancer", func() error {
			_, err := d.c.DescribeListeners(ctx, &elbv2.DescribeListenersInput{LoadBalancerArn: &missingLB})
			return err
		}, "LoadBalancerNotFound", "One or more load balancers not found"},
		{"DescribeRules unknown", func() error {
			_, err := d.c.DescribeRules(ctx, &elbv2.DescribeRulesInput{RuleArns: []string{missingRule}})
			return err
		}, "RuleNotFound", "One or more rules not found"},
		{"DescribeRules no listener", func() error {
			_, err := d.c.DescribeRules(ctx, &elbv2.DescribeRulesInput{})
			return err
		}, "ValidationError", "You must specify either listener rule ARNs or a listener ARN"},
		{"DescribeTargetGroups unknown", func() error {
			_, err := d.c.DescribeTargetGroups(ctx, &elbv2.DescribeTargetGroupsInput{TargetGroupArns: []string{missingTG}})
			return err
		}, "TargetGroupNotFound", "One or more target groups not found"},
		{"DescribeTargetGroups names and ARN", func() error {
			_, err := d.c.DescribeTargetGroups(ctx, &elbv2.DescribeTargetGroupsInput{TargetGroupArns: []string{d.blue}, Names: []string{"x"}})
			return err
		}, "ValidationError", "cannot be specified at the same time"},
		{"DescribeTargetGroups PageSize 0", func() error {
			_, err := d.c.DescribeTargetGroups(ctx, &elbv2.DescribeTargetGroupsInput{PageSize: aws.Int32(0)})
			return err
		}, "ValidationError", "Value '0' at 'pageSize' failed to satisfy constraint: Member must have value greater than or equal to 1"},
		{"DescribeLoadBalancers PageSize 401", func() error {
			_, err := d.c.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{PageSize: aws.Int32(401)})
			return err
		}, "ValidationError", "Member must have value less than or equal to 400"},
		{"DescribeRules bad marker", func() error {
			_, err := d.c.DescribeRules(ctx, &elbv2.DescribeRulesInput{ListenerArn: &d.listener, Marker: aws.String("bogus")})
			return err
		}, "ValidationError", "marker"},
		{"DescribeTags 21 resources", func() error {
			arns := []string{}
			for i := 0; i < 21; i++ {
				arns = append(arns, fmt.Sprintf("%s%02d", d.blue[:len(d.blue)-2], i))
			}
			_, err := d.c.DescribeTags(ctx, &elbv2.DescribeTagsInput{ResourceArns: arns})
			return err
		}, "ValidationError", "Member must have length less than or equal to 20"},
		{"DescribeTags unknown target group", func() error {
			_, err := d.c.DescribeTags(ctx, &elbv2.DescribeTagsInput{ResourceArns: []string{d.lb, missingTG}})
			return err
		}, "TargetGroupNotFound", missingTG},
		{"ModifyRule unknown rule", func() error {
			_, err := d.c.ModifyRule(ctx, &elbv2.ModifyRuleInput{RuleArn: &missingRule, Actions: d.forward(1, 1)})
			return err
		}, "RuleNotFound", "One or more rules not found"},
		{"ModifyRule weight 1000", func() error {
			_, err := d.c.ModifyRule(ctx, &elbv2.ModifyRuleInput{RuleArn: &d.web, Actions: d.forward(1, 1000)})
			return err
		}, "ValidationError", "Value '1000' at 'actions.1.member.forwardConfig.targetGroups.2.member.weight' failed to satisfy constraint: Member must have value less than or equal to 999"},
		{"ModifyRule weight -1", func() error {
			_, err := d.c.ModifyRule(ctx, &elbv2.ModifyRuleInput{RuleArn: &d.web, Actions: d.forward(-1, 1)})
			return err
		}, "ValidationError", "Member must have value greater than or equal to 0"},
		{"ModifyRule six target groups", func() error {
			var tgs []elbtypes.TargetGroupTuple
			for i := 0; i < 6; i++ {
				tgs = append(tgs, elbtypes.TargetGroupTuple{TargetGroupArn: aws.String(fmt.Sprintf("%s%d", d.blue, i)), Weight: aws.Int32(1)})
			}
			_, err := d.c.ModifyRule(ctx, &elbv2.ModifyRuleInput{RuleArn: &d.web, Actions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward,
				ForwardConfig: &elbtypes.ForwardActionConfig{TargetGroups: tgs}}}})
			return err
		}, "ValidationError", "Member must have length less than or equal to 5"},
		{"ModifyRule unknown target group", func() error {
			_, err := d.c.ModifyRule(ctx, &elbv2.ModifyRuleInput{RuleArn: &d.web, Actions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward,
				TargetGroupArn: &missingTG}}})
			return err
		}, "TargetGroupNotFound", "Target group '" + missingTG + "' not found"},
		{"ModifyRule TargetGroupArn disagrees with ForwardConfig", func() error {
			a := d.forward(1, 1)
			a[0].TargetGroupArn = &d.blue
			_, err := d.c.ModifyRule(ctx, &elbv2.ModifyRuleInput{RuleArn: &d.web, Actions: a})
			return err
		}, "ValidationError", "it must be the same target group specified in TargetGroupArn"},
		{"ModifyRule default rule conditions", func() error {
			_, err := d.c.ModifyRule(ctx, &elbv2.ModifyRuleInput{RuleArn: &d.defaultRule, Conditions: []elbtypes.RuleCondition{
				{Field: aws.String("path-pattern"), Values: []string{"/x"}}}})
			return err
		}, "OperationNotPermitted", "cannot have conditions"},
		{"ModifyRule bad condition field", func() error {
			_, err := d.c.ModifyRule(ctx, &elbv2.ModifyRuleInput{RuleArn: &d.web, Conditions: []elbtypes.RuleCondition{
				{Field: aws.String("path"), Values: []string{"/x"}}}})
			return err
		}, "ValidationError", "Condition field 'path' must be one of"},
		{"ModifyRule stickiness without duration", func() error {
			a := d.forward(1, 1)
			a[0].ForwardConfig.TargetGroupStickinessConfig = &elbtypes.TargetGroupStickinessConfig{Enabled: aws.Bool(true)}
			_, err := d.c.ModifyRule(ctx, &elbv2.ModifyRuleInput{RuleArn: &d.web, Actions: a})
			return err
		}, "ValidationError", "duration"},
		{"RegisterTargets unknown target group", func() error {
			_, err := d.c.RegisterTargets(ctx, &elbv2.RegisterTargetsInput{TargetGroupArn: &missingTG,
				Targets: []elbtypes.TargetDescription{{Id: aws.String("10.20.0.10")}}})
			return err
		}, "TargetGroupNotFound", "Target groups '" + missingTG + "' not found"},
		{"RegisterTargets outside the VPC", func() error {
			_, err := d.c.RegisterTargets(ctx, &elbv2.RegisterTargetsInput{TargetGroupArn: &d.green,
				Targets: []elbtypes.TargetDescription{{Id: aws.String("10.99.0.10")}}})
			return err
		}, "ValidationError", "The Availability Zone is required for IP address '10.99.0.10' because it is not in the VPC"},
		{"RegisterTargets not IPv4", func() error {
			_, err := d.c.RegisterTargets(ctx, &elbv2.RegisterTargetsInput{TargetGroupArn: &d.green,
				Targets: []elbtypes.TargetDescription{{Id: aws.String("i-0123456789abcdef0")}}})
			return err
		}, "ValidationError", "'i-0123456789abcdef0' is not a valid IPv4 address"},
		{"RegisterTargets IPv6", func() error {
			_, err := d.c.RegisterTargets(ctx, &elbv2.RegisterTargetsInput{TargetGroupArn: &d.green,
				Targets: []elbtypes.TargetDescription{{Id: aws.String("fd00::1")}}})
			return err
		}, "ValidationError", "'fd00::1' is not a valid IPv4 address"},
		{"RegisterTargets in-VPC address with zone all", func() error {
			_, err := d.c.RegisterTargets(ctx, &elbv2.RegisterTargetsInput{TargetGroupArn: &d.green,
				Targets: []elbtypes.TargetDescription{{Id: aws.String("10.20.0.10"), AvailabilityZone: aws.String("all")}}})
			return err
		}, "ValidationError", "is within the VPC, and cannot have its Availability Zone overridden to 'all' from 'us-east-1a'"},
		{"RegisterTargets public address outside the VPC", func() error {
			_, err := d.c.RegisterTargets(ctx, &elbv2.RegisterTargetsInput{TargetGroupArn: &d.green,
				Targets: []elbtypes.TargetDescription{{Id: aws.String("8.8.8.8"), AvailabilityZone: aws.String("all")}}})
			return err
		}, "ValidationError", "not in a private range"},
		{"RegisterTargets port 0", func() error {
			_, err := d.c.RegisterTargets(ctx, &elbv2.RegisterTargetsInput{TargetGroupArn: &d.green,
				Targets: []elbtypes.TargetDescription{{Id: aws.String("10.20.0.10"), Port: aws.Int32(0)}}})
			return err
		}, "ValidationError", "Value '0' at 'targets.1.member.port'"},
		{"DescribeTargetHealth unknown target group", func() error {
			_, err := d.c.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: &missingTG})
			return err
		}, "TargetGroupNotFound", "not found"},
		{"DeregisterTargets malformed ARN", func() error {
			_, err := d.c.DeregisterTargets(ctx, &elbv2.DeregisterTargetsInput{TargetGroupArn: aws.String("demo-blue-web"),
				Targets: []elbtypes.TargetDescription{{Id: aws.String("10.20.0.10")}}})
			return err
		}, "ValidationError", "'demo-blue-web' is not a valid target group ARN"},
	}
	for _, tc := range cases {
		apiError(t, tc.name, tc.call(), tc.code, tc.msg)
	}
	// None of the refused changes took effect.
	if got := d.weights(t, d.web); got[d.blue] != 100 || got[d.green] != 0 {
		t.Errorf("weights changed by refused calls: %v", got)
	}
	if n := len(d.health(t, d.green)); n != 0 {
		t.Errorf("green has %d targets after refused registrations", n)
	}
}

func TestELBv2ErrorsCLI(t *testing.T) {
	d := startELBDemo(t)
	tooHeavy := fmt.Sprintf("Type=forward,ForwardConfig={TargetGroups=[{TargetGroupArn=%s,Weight=1000}]}", d.blue)
	for _, cli := range elbCLIs {
		t.Run(cliName(cli), func(t *testing.T) {
			for _, tc := range []struct {
				args      []string
				code, msg string
			}{
				{[]string{"elbv2", "modify-rule", "--rule-arn", d.web, "--actions", tooHeavy},
					"(ValidationError) when calling the ModifyRule operation", "1 validation error detected: Value '1000' at 'actions.1.member.forwardConfig.targetGroups.1.member.weight'"},
				{[]string{"elbv2", "modify-rule", "--rule-arn", d.defaultRule, "--conditions", "Field=path-pattern,Values=/x"},
					"(OperationNotPermitted) when calling the ModifyRule operation", "cannot have conditions"},
				{[]string{"elbv2", "describe-target-health", "--target-group-arn", strings.Replace(d.blue, "demo-blue-web", "nope", 1)},
					"(TargetGroupNotFound) when calling the DescribeTargetHealth operation", "not found"},
				{[]string{"elbv2", "describe-load-balancers", "--names", "nope"},
					"(LoadBalancerNotFound) when calling the DescribeLoadBalancers operation", ": Load balancers '[nope]' not found"},
				{[]string{"elbv2", "register-targets", "--target-group-arn", d.green, "--targets", "Id=172.31.0.5"},
					"(ValidationError) when calling the RegisterTargets operation", ": The Availability Zone is required for IP address '172.31.0.5' because it is not in the VPC"},
				{[]string{"elbv2", "describe-rules", "--rule-arns", d.web[:len(d.web)-4] + "0000"},
					"(RuleNotFound) when calling the DescribeRules operation", ": One or more rules not found"},
			} {
				if stderr := d.cliFails(t, cli, tc.args...); !strings.Contains(stderr, "An error occurred "+tc.code) || !strings.Contains(stderr, tc.msg) {
					t.Errorf("%v: stderr %q, want %q and %q", tc.args, stderr, tc.code, tc.msg)
				}
			}
		})
	}
}

// elbTwoALBs is a world with two load balancers, each with its target group.
const elbTwoALBs = `
apiVersion: eksbg.io/v1alpha1
kind: SandboxScenario
account: "111122223333"
region: us-west-2
vpcs:
  - id: vpc-0aaa0000000000001
    cidr: 10.40.0.0/16
    subnets:
      - {id: subnet-0aaa00000000000a1, az: us-west-2a, cidr: 10.40.1.0/24}
      - {id: subnet-0aaa00000000000b1, az: us-west-2b, cidr: 10.40.2.0/24}
targetGroups:
  - {name: one-web, vpc: vpc-0aaa0000000000001, port: 80}
  - {name: two-web, vpc: vpc-0aaa0000000000001, port: 80}
  - {name: spare-web, vpc: vpc-0aaa0000000000001, port: 80}
loadBalancers:
  - name: one-alb
    subnets: [subnet-0aaa00000000000a1, subnet-0aaa00000000000b1]
    listeners:
      - port: 80
        defaultForward: [{targetGroup: one-web, weight: 1}]
  - name: two-alb
    subnets: [subnet-0aaa00000000000a1, subnet-0aaa00000000000b1]
    listeners:
      - port: 80
        defaultForward: [{targetGroup: two-web, weight: 1}]
quotas:
  elasticloadbalancing/L-7EED9B64: 2
`

func TestELBv2TargetGroupAssociationLimit(t *testing.T) {
	env := sandboxtest.StartYAML(t, elbTwoALBs)
	ctx := context.Background()
	c := elbv2.NewFromConfig(env.AWS)
	tgs, err := c.DescribeTargetGroups(ctx, &elbv2.DescribeTargetGroupsInput{})
	if err != nil || len(tgs.TargetGroups) != 3 {
		t.Fatalf("DescribeTargetGroups: %v", err)
	}
	arn := map[string]string{}
	for _, tg := range tgs.TargetGroups {
		arn[aws.ToString(tg.TargetGroupName)] = aws.ToString(tg.TargetGroupArn)
	}
	lbs, err := c.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{Names: []string{"one-alb"}})
	if err != nil {
		t.Fatal(err)
	}
	if z := aws.ToString(lbs.LoadBalancers[0].CanonicalHostedZoneId); z != "Z1H1FL5HABSF5" {
		t.Errorf("us-west-2 ALB zone %q", z)
	}
	ls, err := c.DescribeListeners(ctx, &elbv2.DescribeListenersInput{LoadBalancerArn: lbs.LoadBalancers[0].LoadBalancerArn})
	if err != nil {
		t.Fatal(err)
	}
	forward := func(names ...string) []elbtypes.Action {
		fc := &elbtypes.ForwardActionConfig{}
		for _, n := range names {
			fc.TargetGroups = append(fc.TargetGroups, elbtypes.TargetGroupTuple{TargetGroupArn: aws.String(arn[n]), Weight: aws.Int32(1)})
		}
		return []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, ForwardConfig: fc}}
	}
	_, err = c.ModifyListener(ctx, &elbv2.ModifyListenerInput{ListenerArn: ls.Listeners[0].ListenerArn, DefaultActions: forward("one-web", "two-web")})
	apiError(t, "two-web on one-alb", err, "TargetGroupAssociationLimit",
		"The following target groups cannot be associated with more than one load balancer: "+arn["two-web"])
	// The scenario's quota of 2 target groups per load balancer.
	if _, err := c.ModifyListener(ctx, &elbv2.ModifyListenerInput{ListenerArn: ls.Listeners[0].ListenerArn, DefaultActions: forward("one-web", "spare-web")}); err != nil {
		t.Fatalf("one-web and spare-web on one-alb: %v", err)
	}
	tg, err := c.DescribeTargetGroups(ctx, &elbv2.DescribeTargetGroupsInput{Names: []string{"spare-web"}})
	if err != nil || strings.Join(tg.TargetGroups[0].LoadBalancerArns, ",") != aws.ToString(lbs.LoadBalancers[0].LoadBalancerArn) {
		t.Errorf("spare-web associations: %v %+v", err, tg)
	}
	// Once one-alb lets go of spare-web, two-alb may take it, but not a third target group.
	if _, err := c.ModifyListener(ctx, &elbv2.ModifyListenerInput{ListenerArn: ls.Listeners[0].ListenerArn, DefaultActions: forward("one-web")}); err != nil {
		t.Fatal(err)
	}
	// An ARN with another load balancer's name and this one's ID names none.
	_, err = c.DescribeListeners(ctx, &elbv2.DescribeListenersInput{LoadBalancerArn: aws.String(strings.Replace(aws.ToString(lbs.LoadBalancers[0].LoadBalancerArn), "one-alb", "two-alb", 1))})
	apiError(t, "DescribeListeners of a made-up ARN", err, "LoadBalancerNotFound", "One or more load balancers not found")
	two, err := c.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{Names: []string{"two-alb"}})
	if err != nil {
		t.Fatal(err)
	}
	ls2, err := c.DescribeListeners(ctx, &elbv2.DescribeListenersInput{LoadBalancerArn: two.LoadBalancers[0].LoadBalancerArn})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ModifyListener(ctx, &elbv2.ModifyListenerInput{ListenerArn: ls2.Listeners[0].ListenerArn, DefaultActions: forward("two-web", "spare-web")}); err != nil {
		t.Errorf("spare-web on two-alb after one-alb released it: %v", err)
	}
	_, err = c.ModifyListener(ctx, &elbv2.ModifyListenerInput{ListenerArn: ls.Listeners[0].ListenerArn, DefaultActions: forward("one-web", "spare-web")})
	apiError(t, "spare-web back on one-alb", err, "TargetGroupAssociationLimit", arn["spare-web"])
}

func TestELBv2Pagination(t *testing.T) {
	d := startELBDemo(t)
	p := elbv2.NewDescribeTargetGroupsPaginator(d.c, &elbv2.DescribeTargetGroupsInput{PageSize: aws.Int32(1)})
	var names []string
	pages := 0
	for p.HasMorePages() {
		out, err := p.NextPage(d.ctx)
		if err != nil {
			t.Fatalf("page %d: %v", pages+1, err)
		}
		pages++
		if len(out.TargetGroups) != 1 {
			t.Errorf("page %d has %d target groups", pages, len(out.TargetGroups))
		}
		if (out.NextMarker != nil) != (pages == 1) {
			t.Errorf("page %d NextMarker %v", pages, out.NextMarker)
		}
		for _, tg := range out.TargetGroups {
			names = append(names, aws.ToString(tg.TargetGroupName))
		}
	}
	if pages != 2 || strings.Join(names, ",") != "demo-blue-web,demo-green-web" {
		t.Errorf("%d pages: %v", pages, names)
	}
	// DescribeRules pages in priority order, the default rule last.
	first, err := d.c.DescribeRules(d.ctx, &elbv2.DescribeRulesInput{ListenerArn: &d.listener, PageSize: aws.Int32(1)})
	if err != nil || len(first.Rules) != 1 || aws.ToString(first.Rules[0].Priority) != "10" || first.NextMarker == nil {
		t.Fatalf("DescribeRules page 1: %v %+v", err, first)
	}
	second, err := d.c.DescribeRules(d.ctx, &elbv2.DescribeRulesInput{ListenerArn: &d.listener, PageSize: aws.Int32(1), Marker: first.NextMarker})
	if err != nil || len(second.Rules) != 1 || aws.ToString(second.Rules[0].Priority) != "default" || second.NextMarker != nil {
		t.Fatalf("DescribeRules page 2: %v %+v", err, second)
	}
	// A marker of one operation is refused by another.
	_, err = d.c.DescribeTargetGroups(d.ctx, &elbv2.DescribeTargetGroupsInput{Marker: first.NextMarker})
	apiError(t, "DescribeRules marker on DescribeTargetGroups", err, "ValidationError", "marker")

	for _, cli := range elbCLIs {
		t.Run(cliName(cli), func(t *testing.T) {
			calls := func() int {
				n := 0
				for _, st := range d.env.Server.Stats() {
					if st.Service == "elasticloadbalancing" && st.Operation == "DescribeTargetGroups" {
						n = st.Calls
					}
				}
				return n
			}
			// The CLI takes --page-size as ELBv2's own PageSize member, which
			// turns its automatic pagination off: the caller follows
			// NextMarker with --marker, as against AWS.
			before := calls()
			out := d.cli(t, cli, "elbv2", "describe-target-groups", "--page-size", "1")
			tgs := out["TargetGroups"].([]any)
			marker, _ := out["NextMarker"].(string)
			if len(tgs) != 1 || tgs[0].(map[string]any)["TargetGroupName"] != "demo-blue-web" || marker == "" {
				t.Fatalf("describe-target-groups --page-size 1: %v", out)
			}
			out = d.cli(t, cli, "elbv2", "describe-target-groups", "--page-size", "1", "--marker", marker)
			tgs = out["TargetGroups"].([]any)
			if len(tgs) != 1 || tgs[0].(map[string]any)["TargetGroupName"] != "demo-green-web" || out["NextMarker"] != nil {
				t.Errorf("describe-target-groups --page-size 1 --marker: %v", out)
			}
			if n := calls() - before; n != 2 {
				t.Errorf("the CLI made %d DescribeTargetGroups calls, want 2", n)
			}
			// --max-items is the CLI's own: it stops after one item and hands back a token.
			out = d.cli(t, cli, "elbv2", "describe-target-groups", "--max-items", "1")
			if len(out["TargetGroups"].([]any)) != 1 || out["NextToken"] == nil {
				t.Errorf("--max-items 1: %v", out)
			}
			out = d.cli(t, cli, "elbv2", "describe-target-groups", "--max-items", "1", "--starting-token", out["NextToken"].(string))
			if tgs := out["TargetGroups"].([]any); len(tgs) != 1 || tgs[0].(map[string]any)["TargetGroupName"] != "demo-green-web" {
				t.Errorf("--starting-token: %v", out)
			}
			if stderr := d.cliFails(t, cli, "elbv2", "describe-target-groups", "--page-size", "1", "--marker", "bogus"); !strings.Contains(stderr, "(ValidationError)") {
				t.Errorf("bad marker: %s", stderr)
			}
		})
	}
}

func TestELBv2TargetHealth(t *testing.T) {
	d := startELBDemo(t)
	// A demo-blue pod address not yet registered, and its subnet's zone.
	var podIP string
	registered := map[string]bool{}
	d.env.Server.View(func(w *emulator.World) {
		for _, tg := range w.TargetGroups {
			for _, tt := range tg.Targets {
				registered[tt.ID] = true
			}
		}
		ids := make([]string, 0, len(w.ENIs))
		for id := range w.ENIs {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		for _, id := range ids {
			e := w.ENIs[id]
			if e.Cluster != "demo-blue" || e.Nodegroup == "" || len(e.PrivateIPs) < 2 {
				continue
			}
			for _, ip := range e.PrivateIPs[1:] {
				if !registered[ip] && podIP == "" {
					podIP = ip
				}
			}
		}
	})
	if podIP == "" {
		t.Fatal("no free demo-blue pod address")
	}
	target := elbtypes.TargetDescription{Id: aws.String(podIP)}
	key := podIP + ":8080"
	state := func(tg string) (elbtypes.TargetHealthStateEnum, elbtypes.TargetHealthReasonEnum) {
		t.Helper()
		h, ok := d.health(t, tg, target)[key]
		if !ok {
			t.Fatalf("no health for %s", key)
		}
		return h.TargetHealth.State, h.TargetHealth.Reason
	}

	// Unregistered: unused, Target.NotRegistered.
	if s, r := state(d.blue); s != elbtypes.TargetHealthStateEnumUnused || r != elbtypes.TargetHealthReasonEnumNotRegistered {
		t.Errorf("before registration: %s %s", s, r)
	}
	// Registered (port defaults to the target group's 8080): initial for
	// the scenario's targetInitial (2 s), then healthy.
	if _, err := d.c.RegisterTargets(d.ctx, &elbv2.RegisterTargetsInput{TargetGroupArn: &d.blue, Targets: []elbtypes.TargetDescription{target}}); err != nil {
		t.Fatalf("RegisterTargets: %v", err)
	}
	all := d.health(t, d.blue)
	if len(all) != 7 {
		t.Errorf("demo-blue-web has %d targets, want 7", len(all))
	}
	h := all[key]
	if h.TargetHealth.State != elbtypes.TargetHealthStateEnumInitial || h.TargetHealth.Reason != elbtypes.TargetHealthReasonEnumRegistrationInProgress ||
		aws.ToString(h.TargetHealth.Description) != "Target registration is in progress" || aws.ToString(h.HealthCheckPort) != "8080" ||
		!strings.HasPrefix(aws.ToString(h.Target.AvailabilityZone), "us-east-1") {
		t.Errorf("after registration: %+v %+v", h.Target, h.TargetHealth)
	}
	d.clock.Advance(1500 * time.Millisecond)
	if s, _ := state(d.blue); s != elbtypes.TargetHealthStateEnumInitial {
		t.Errorf("1.5 s after registration: %s", s)
	}
	d.clock.Advance(time.Second)
	if s, r := state(d.blue); s != elbtypes.TargetHealthStateEnumHealthy || r != "" {
		t.Errorf("2.5 s after registration: %s %s", s, r)
	}
	// Registering again changes nothing.
	if _, err := d.c.RegisterTargets(d.ctx, &elbv2.RegisterTargetsInput{TargetGroupArn: &d.blue, Targets: []elbtypes.TargetDescription{target}}); err != nil {
		t.Fatal(err)
	}
	if s, _ := state(d.blue); s != elbtypes.TargetHealthStateEnumHealthy {
		t.Errorf("after registering again: %s", s)
	}

	// Deregistered through the CLI v2: draining for the sandbox's 10 s delay, then gone.
	d.cli(t, []string{sandboxtest.CLIv2}, "elbv2", "deregister-targets", "--target-group-arn", d.blue, "--targets", "Id="+podIP)
	if s, r := state(d.blue); s != elbtypes.TargetHealthStateEnumDraining || r != elbtypes.TargetHealthReasonEnumDeregistrationInProgress {
		t.Errorf("after deregistration: %s %s", s, r)
	}
	d.clock.Advance(9 * time.Second)
	if s, _ := state(d.blue); s != elbtypes.TargetHealthStateEnumDraining {
		t.Errorf("9 s after deregistration: %s", s)
	}
	d.clock.Advance(2 * time.Second)
	all = d.health(t, d.blue)
	if _, ok := all[key]; ok || len(all) != 6 {
		t.Errorf("11 s after deregistration the target is still listed: %v", all[key])
	}
	if s, r := state(d.blue); s != elbtypes.TargetHealthStateEnumUnused || r != elbtypes.TargetHealthReasonEnumNotRegistered {
		t.Errorf("after draining: %s %s", s, r)
	}
	var left int
	d.env.Server.View(func(w *emulator.World) {
		for _, tg := range w.TargetGroups {
			if tg.Name == "demo-blue-web" {
				left = len(tg.Targets)
			}
		}
	})
	if left != 6 {
		t.Errorf("the world keeps %d targets in demo-blue-web, want 6", left)
	}

	// demo-green-web's cluster (demo-green) does not exist: its targets
	// fail their health checks once registered. An address no ENI holds
	// fails them too, and so does one outside the VPC (zone "all").
	other := elbtypes.TargetDescription{Id: aws.String("10.20.3.250"), Port: aws.Int32(9000)}
	outside := elbtypes.TargetDescription{Id: aws.String("192.168.7.7"), AvailabilityZone: aws.String("all")}
	d.cli(t, elbCLIs[1], "elbv2", "register-targets", "--target-group-arn", d.green, "--targets", "Id="+podIP, "Id=10.20.3.250,Port=9000")
	if _, err := d.c.RegisterTargets(d.ctx, &elbv2.RegisterTargetsInput{TargetGroupArn: &d.green, Targets: []elbtypes.TargetDescription{outside}}); err != nil {
		t.Fatalf("RegisterTargets outside the VPC with zone all: %v", err)
	}
	d.clock.Advance(3 * time.Second)
	green := d.health(t, d.green)
	if len(green) != 3 {
		t.Fatalf("demo-green-web targets: %v", green)
	}
	if h := green[key].TargetHealth; h.State != elbtypes.TargetHealthStateEnumUnhealthy || h.Reason != elbtypes.TargetHealthReasonEnumResponseCodeMismatch {
		t.Errorf("green pod target: %+v", h)
	}
	if h := green["10.20.3.250:9000"].TargetHealth; h.State != elbtypes.TargetHealthStateEnumUnhealthy || h.Reason != elbtypes.TargetHealthReasonEnumFailedHealthChecks {
		t.Errorf("unheld address: %+v", h)
	}
	if h := green["192.168.7.7:8080"]; aws.ToString(h.Target.AvailabilityZone) != "all" || h.TargetHealth.State != elbtypes.TargetHealthStateEnumUnhealthy {
		t.Errorf("outside address: %+v %+v", h.Target, h.TargetHealth)
	}

	// When no load balancer uses a target group its targets are unused,
	// and deregistering drains at once.
	if _, err := d.c.ModifyRule(d.ctx, &elbv2.ModifyRuleInput{RuleArn: &d.web, Actions: d.forward(1)}); err != nil {
		t.Fatal(err)
	}
	if h := d.health(t, d.green)[key].TargetHealth; h.State != elbtypes.TargetHealthStateEnumUnused || h.Reason != elbtypes.TargetHealthReasonEnumNotInUse {
		t.Errorf("target of an unused group: %+v", h)
	}
	if _, err := d.c.DeregisterTargets(d.ctx, &elbv2.DeregisterTargetsInput{TargetGroupArn: &d.green,
		Targets: []elbtypes.TargetDescription{target, other, {Id: aws.String("10.20.9.9")}}}); err != nil {
		t.Fatalf("DeregisterTargets (one of them never registered): %v", err)
	}
	green = d.health(t, d.green)
	if len(green) != 1 {
		t.Errorf("demo-green-web after immediate deregistration: %v", green)
	}

	// Deleting demo-blue's node group takes its pods' addresses away:
	// blue's targets then fail their health checks.
	if _, err := eks.NewFromConfig(d.env.AWS).DeleteNodegroup(d.ctx, &eks.DeleteNodegroupInput{
		ClusterName: aws.String("demo-blue"), NodegroupName: aws.String("general")}); err != nil {
		t.Fatalf("DeleteNodegroup: %v", err)
	}
	if h := d.health(t, d.blue); len(h) != 6 || h[aws.ToString(firstKey(h))].TargetHealth.State != elbtypes.TargetHealthStateEnumHealthy {
		t.Errorf("blue targets while the node group is deleting: %v", h)
	}
	d.clock.Advance(time.Minute)
	for k, h := range d.health(t, d.blue) {
		if h.TargetHealth.State != elbtypes.TargetHealthStateEnumUnhealthy || h.TargetHealth.Reason != elbtypes.TargetHealthReasonEnumFailedHealthChecks ||
			aws.ToString(h.TargetHealth.Description) != "Health checks failed" {
			t.Errorf("blue target %s after its node group was deleted: %+v", k, h.TargetHealth)
		}
	}
}

func firstKey(m map[string]elbtypes.TargetHealthDescription) *string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if len(keys) == 0 {
		return aws.String("")
	}
	return &keys[0]
}
