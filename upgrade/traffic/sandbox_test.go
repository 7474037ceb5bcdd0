package traffic_test

import (
	"context"
	"errors"
	"io"
	"math"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/eksbg/eksbg/internal/config"
	"github.com/eksbg/eksbg/internal/sandbox/sandboxtest"
	"github.com/eksbg/eksbg/internal/sandbox/scenario"
	"github.com/eksbg/eksbg/internal/sandbox/scenarios"
	"github.com/eksbg/eksbg/upgrade/traffic"
)

// world is the demo sandbox with two more rules on demo-alb's listener:
// "api" forwards to blue 100, green 0 and a third target group
// (demo-extra-web) 5; "old" forwards to blue only. Everything is found
// through the ELBv2 API, as eksbg would.
type world struct {
	env   *sandboxtest.Env
	clock *sandboxtest.Clock
	elb   *elbv2.Client
	cw    *cloudwatch.Client
	// rule ARNs by path pattern, and the listener's default rule
	web, api, old, def string
	blue, green, extra string // target group ARNs
}

var t0 = time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)

func startWorld(t *testing.T, edit func(*scenario.Scenario)) *world {
	t.Helper()
	s, err := scenarios.Load("demo")
	if err != nil {
		t.Fatal(err)
	}
	s.TargetGroups = append(s.TargetGroups, scenario.TargetGroup{Name: "demo-extra-web", VPC: s.VPCs[0].ID, Protocol: "HTTP", Port: 8080, TargetType: "ip"})
	l := &s.LoadBalancers[0].Listeners[0]
	l.Rules = append(l.Rules,
		scenario.Rule{Name: "api", Priority: 5, PathPattern: []string{"/api/*"}, Forward: []scenario.Forward{
			{TargetGroup: "demo-blue-web", Weight: 100}, {TargetGroup: "demo-green-web", Weight: 0}, {TargetGroup: "demo-extra-web", Weight: 5}}},
		scenario.Rule{Name: "old", Priority: 6, PathPattern: []string{"/old/*"}, Forward: []scenario.Forward{{TargetGroup: "demo-blue-web", Weight: 1}}},
	)
	if edit != nil {
		edit(s)
	}
	clock := sandboxtest.NewClock(t0)
	env := sandboxtest.Start(t, s, sandboxtest.WithClock(clock.Now))
	w := &world{env: env, clock: clock, elb: elbv2.NewFromConfig(env.AWS), cw: cloudwatch.NewFromConfig(env.AWS)}
	ctx := context.Background()

	tgs, err := w.elb.DescribeTargetGroups(ctx, &elbv2.DescribeTargetGroupsInput{Names: []string{"demo-blue-web", "demo-green-web", "demo-extra-web"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tg := range tgs.TargetGroups {
		switch aws.ToString(tg.TargetGroupName) {
		case "demo-blue-web":
			w.blue = aws.ToString(tg.TargetGroupArn)
		case "demo-green-web":
			w.green = aws.ToString(tg.TargetGroupArn)
		case "demo-extra-web":
			w.extra = aws.ToString(tg.TargetGroupArn)
		}
	}
	lbs, err := w.elb.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{Names: []string{"demo-alb"}})
	if err != nil {
		t.Fatal(err)
	}
	ls, err := w.elb.DescribeListeners(ctx, &elbv2.DescribeListenersInput{LoadBalancerArn: lbs.LoadBalancers[0].LoadBalancerArn})
	if err != nil {
		t.Fatal(err)
	}
	rules, err := w.elb.DescribeRules(ctx, &elbv2.DescribeRulesInput{ListenerArn: ls.Listeners[0].ListenerArn})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rules.Rules {
		if aws.ToBool(r.IsDefault) {
			w.def = aws.ToString(r.RuleArn)
			continue
		}
		for _, c := range r.Conditions {
			if c.PathPatternConfig == nil {
				continue
			}
			switch c.PathPatternConfig.Values[0] {
			case "/*":
				w.web = aws.ToString(r.RuleArn)
			case "/api/*":
				w.api = aws.ToString(r.RuleArn)
			case "/old/*":
				w.old = aws.ToString(r.RuleArn)
			}
		}
	}
	if w.blue == "" || w.green == "" || w.extra == "" || w.web == "" || w.api == "" || w.old == "" || w.def == "" {
		t.Fatalf("demo world: %+v", w)
	}
	return w
}

// rule is an environment's listener rule on the demo's blue and green.
func (w *world) rule(arn string) config.ListenerRule {
	return config.ListenerRule{ARN: arn, TargetGroups: config.TargetGroups{Blue: w.blue, Green: w.green}}
}

func (w *world) shifter(t *testing.T, elb traffic.ELBv2API, arns []string, opts ...traffic.Option) *traffic.Shifter {
	t.Helper()
	var rules []config.ListenerRule
	for _, a := range arns {
		rules = append(rules, w.rule(a))
	}
	s, err := traffic.NewShifter(elb, w.cw, rules, config.Green, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// forward reads a rule's forward action straight from DescribeRules.
func (w *world) forward(t *testing.T, arn string) *elbtypes.ForwardActionConfig {
	t.Helper()
	out, err := w.elb.DescribeRules(context.Background(), &elbv2.DescribeRulesInput{RuleArns: []string{arn}})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range out.Rules[0].Actions {
		if a.Type == elbtypes.ActionTypeEnumForward {
			return a.ForwardConfig
		}
	}
	t.Fatalf("rule %s has no forward action", arn)
	return nil
}

// weights is a forward's weights by target group ARN.
func weights(fc *elbtypes.ForwardActionConfig) map[string]int32 {
	m := map[string]int32{}
	for _, tg := range fc.TargetGroups {
		m[aws.ToString(tg.TargetGroupArn)] = aws.ToInt32(tg.Weight)
	}
	return m
}

func (w *world) wantWeights(t *testing.T, arn string, want map[string]int32) {
	t.Helper()
	got := weights(w.forward(t, arn))
	if len(got) != len(want) {
		t.Fatalf("rule %s forwards %v, want %v", arn, got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Fatalf("rule %s forwards %v, want %v", arn, got, want)
		}
	}
}

// flakyELB counts ModifyRule calls and fails them for chosen rules a
// number of times (-1: always).
type flakyELB struct {
	traffic.ELBv2API
	mu       sync.Mutex
	failures map[string]int
	modifies map[string]int
	onFail   func() // called after each injected failure, if set
}

func newFlaky(c traffic.ELBv2API) *flakyELB {
	return &flakyELB{ELBv2API: c, failures: map[string]int{}, modifies: map[string]int{}}
}

func (f *flakyELB) fail(arn string, times int) {
	f.mu.Lock()
	f.failures[arn] = times
	f.mu.Unlock()
}

func (f *flakyELB) ModifyRule(ctx context.Context, in *elbv2.ModifyRuleInput, optFns ...func(*elbv2.Options)) (*elbv2.ModifyRuleOutput, error) {
	f.mu.Lock()
	arn := aws.ToString(in.RuleArn)
	f.modifies[arn]++
	n := f.failures[arn]
	if n > 0 {
		f.failures[arn] = n - 1
	}
	f.mu.Unlock()
	if n != 0 {
		if f.onFail != nil {
			f.onFail()
		}
		return nil, errors.New("injected ModifyRule failure")
	}
	return f.ELBv2API.ModifyRule(ctx, in, optFns...)
}

func (f *flakyELB) calls(arn string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.modifies[arn]
}

// TestSetWeightsKeepsStickinessAndOtherGroups: SetWeights(10) writes 90/10
// on both rules, keeps web's stickiness and api's third target group with
// its weight, reads back as 90/10, and a second SetWeights(10) writes
// nothing.
func TestSetWeightsKeepsStickinessAndOtherGroups(t *testing.T) {
	w := startWorld(t, nil)
	ctx := context.Background()
	// Stickiness on web, set as an operator would, keeping 100/0.
	_, err := w.elb.ModifyRule(ctx, &elbv2.ModifyRuleInput{RuleArn: aws.String(w.web), Actions: []elbtypes.Action{{
		Type: elbtypes.ActionTypeEnumForward, ForwardConfig: &elbtypes.ForwardActionConfig{
			TargetGroups:                []elbtypes.TargetGroupTuple{{TargetGroupArn: aws.String(w.blue), Weight: aws.Int32(100)}, {TargetGroupArn: aws.String(w.green), Weight: aws.Int32(0)}},
			TargetGroupStickinessConfig: &elbtypes.TargetGroupStickinessConfig{Enabled: aws.Bool(true), DurationSeconds: aws.Int32(3600)}}}}})
	if err != nil {
		t.Fatal(err)
	}
	elb := newFlaky(w.elb)
	s := w.shifter(t, elb, []string{w.web, w.api})

	if err := s.SetWeights(ctx, 10); err != nil {
		t.Fatalf("SetWeights(10): %v", err)
	}
	if err := s.VerifyWeights(ctx, 10); err != nil {
		t.Fatalf("VerifyWeights(10): %v", err)
	}
	w.wantWeights(t, w.web, map[string]int32{w.blue: 90, w.green: 10})
	w.wantWeights(t, w.api, map[string]int32{w.blue: 90, w.green: 10, w.extra: 5})
	st := w.forward(t, w.web).TargetGroupStickinessConfig
	if st == nil || !aws.ToBool(st.Enabled) || aws.ToInt32(st.DurationSeconds) != 3600 {
		t.Fatalf("web's stickiness after SetWeights: %+v", st)
	}

	got, err := s.Weights(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].RuleARN != w.web || got[0].Blue != 90 || got[0].Green != 10 || !got[0].Stickiness || got[0].StickinessSeconds != 3600 ||
		got[1].RuleARN != w.api || got[1].Blue != 90 || got[1].Green != 10 || len(got[1].Others) != 1 || got[1].Others[0] != (traffic.TargetGroupWeight{ARN: w.extra, Weight: 5}) {
		t.Fatalf("Weights: %+v", got)
	}
	if p := got[0].Percent(config.Green); p != 10 {
		t.Errorf("Percent(green) %v", p)
	}

	// Already there: nothing is written.
	if err := s.SetWeights(ctx, 10); err != nil {
		t.Fatal(err)
	}
	if elb.calls(w.web) != 1 || elb.calls(w.api) != 1 {
		t.Fatalf("ModifyRule calls: web %d, api %d; want 1 each", elb.calls(w.web), elb.calls(w.api))
	}

	// Checking for another split names each rule and what it has.
	err = s.VerifyWeights(ctx, 25)
	if err == nil || !strings.Contains(err.Error(), w.web+" forwards 90/10 blue/green, want 75/25") || !strings.Contains(err.Error(), w.api) {
		t.Fatalf("VerifyWeights(25) = %v", err)
	}
	if err := s.SetWeights(ctx, 101); err == nil {
		t.Fatal("SetWeights(101) accepted")
	}
}

// TestSetWeightsRefusesRules: a rule whose forward lacks green, and a
// listener's default rule, are refused by name, and no rule is written.
func TestSetWeightsRefusesRules(t *testing.T) {
	w := startWorld(t, nil)
	ctx := context.Background()
	for _, c := range []struct {
		name, arn string
		want      []string
	}{
		{"no green", w.old, []string{"listener rule " + w.old, "forwards to " + w.blue + " (weight 1), without green " + w.green}},
		{"default rule", w.def, []string{"listener rule " + w.def, "default rule", "ModifyListener"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			elb := newFlaky(w.elb)
			s := w.shifter(t, elb, []string{w.web, c.arn})
			err := s.SetWeights(ctx, 10)
			if !errors.Is(err, traffic.ErrUnsupportedRule) {
				t.Fatalf("SetWeights: %v", err)
			}
			for _, want := range c.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q lacks %q", err, want)
				}
			}
			if elb.calls(w.web) != 0 {
				t.Fatalf("web was written")
			}
			w.wantWeights(t, w.web, map[string]int32{w.blue: 100, w.green: 0})
			if _, err := s.Weights(ctx); !errors.Is(err, traffic.ErrUnsupportedRule) {
				t.Fatalf("Weights: %v", err)
			}
		})
	}
}

// TestRollbackAfterPartialWrite: a write that fails on one rule leaves
// the rules inconsistent and is reported by name; Rollback retries that
// rule until every rule is 100/0 again, or reports it when it never works
// while still rolling the others back.
func TestRollbackAfterPartialWrite(t *testing.T) {
	fast := traffic.WithRollbackRetry(3, func(int) time.Duration { return time.Millisecond })
	for _, c := range []struct {
		name     string
		failures int // of api's ModifyRule during Rollback
		wantErr  bool
	}{
		{"recovers", 2, false},
		{"never", -1, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := startWorld(t, nil)
			ctx := context.Background()
			elb := newFlaky(w.elb)
			s := w.shifter(t, elb, []string{w.web, w.api}, fast)
			elb.fail(w.api, 1)
			err := s.SetWeights(ctx, 50)
			if err == nil || !strings.Contains(err.Error(), "modifying rule "+w.api) || strings.Contains(err.Error(), "modifying rule "+w.web) {
				t.Fatalf("SetWeights(50) = %v", err)
			}
			w.wantWeights(t, w.web, map[string]int32{w.blue: 50, w.green: 50})
			w.wantWeights(t, w.api, map[string]int32{w.blue: 100, w.green: 0, w.extra: 5})
			if err := s.VerifyWeights(ctx, 50); err == nil || !strings.Contains(err.Error(), w.api) {
				t.Fatalf("VerifyWeights(50) = %v", err)
			}

			// Put api at 50/50 too, then fail its rollback writes.
			if err := s.SetWeights(ctx, 50); err != nil {
				t.Fatal(err)
			}
			elb.fail(w.api, c.failures)
			before := elb.calls(w.api)
			err = s.Rollback(ctx)
			if (err != nil) != c.wantErr {
				t.Fatalf("Rollback = %v", err)
			}
			w.wantWeights(t, w.web, map[string]int32{w.blue: 100, w.green: 0})
			if c.wantErr {
				if !strings.Contains(err.Error(), "modifying rule "+w.api) || elb.calls(w.api)-before != 3 {
					t.Fatalf("Rollback = %v after %d writes of api", err, elb.calls(w.api)-before)
				}
				return
			}
			if elb.calls(w.api)-before != 3 {
				t.Fatalf("api written %d times during Rollback, want 3", elb.calls(w.api)-before)
			}
			w.wantWeights(t, w.api, map[string]int32{w.blue: 100, w.green: 0, w.extra: 5})
			if err := s.VerifyWeights(ctx, 0); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestRollbackStopsWithContext: a canceled context ends the retries.
func TestRollbackStopsWithContext(t *testing.T) {
	w := startWorld(t, nil)
	elb := newFlaky(w.elb)
	s := w.shifter(t, elb, []string{w.web}, traffic.WithRollbackRetry(100, func(int) time.Duration { return time.Hour }))
	if err := s.SetWeights(context.Background(), 25); err != nil {
		t.Fatal(err)
	}
	elb.fail(w.web, -1)
	ctx, cancel := context.WithCancel(context.Background())
	elb.onFail = cancel // the first failed write cancels; Rollback must not wait an hour
	err := s.Rollback(ctx)
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), w.web) {
		t.Fatalf("Rollback = %v", err)
	}
}

// putTraffic changes the emulator's traffic model (docs/sandbox.md, Admin API).
func putTraffic(t *testing.T, url, body string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPut, url+"/_sandbox/traffic", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT /_sandbox/traffic: %s %s", resp.Status, b)
	}
}

func near(got, want float64) bool { return math.Abs(got-want) <= math.Abs(want)*0.01 }

func ptr[T any](v T) *T { return &v }

// TestEvaluateGates: with green at 50% of web's 200 requests a second and
// demo-green answering 20% errors at 900 ms p99 (set through the admin
// API), Evaluate reads those figures from CloudWatch and Check reports the
// 5xx and latency breaches; too little traffic is a breach of its own.
func TestEvaluateGates(t *testing.T) {
	w := startWorld(t, nil)
	ctx := context.Background()
	s := w.shifter(t, w.elb, []string{w.web})

	// Before any shift green has no requests: not enough to judge.
	rd, err := s.Evaluate(ctx, 5*time.Minute, t0)
	if err != nil {
		t.Fatal(err)
	}
	if rd.Requests != 0 {
		t.Fatalf("requests before the shift: %v", rd.Requests)
	}
	b := rd.Check(config.Gates{MinRequestCount: ptr(100), Max5xxPercent: ptr(1.0)})
	if len(b) != 1 || b[0].Gate != traffic.GateMinRequestCount || b[0].Value != 0 || b[0].Limit != 100 || !strings.Contains(b[0].Message, "not enough traffic to judge") {
		t.Fatalf("breaches before the shift: %+v", b)
	}

	if err := s.SetWeights(ctx, 50); err != nil {
		t.Fatal(err)
	}
	w.clock.Advance(5 * time.Minute)
	putTraffic(t, w.env.URL, `{"clusters":{"demo-green":{"errorRate":0.2,"p99Ms":900}}}`)
	w.clock.Advance(10 * time.Minute)
	now := t0.Add(15 * time.Minute)

	rd, err = s.Evaluate(ctx, 10*time.Minute, now)
	if err != nil {
		t.Fatal(err)
	}
	// 100 requests a second for 600 s, 20% of them 5xx.
	if !near(rd.Requests, 60000) || !near(rd.Errors5xx, 12000) || !near(rd.ErrorPercent, 20) {
		t.Fatalf("reading: %+v", rd)
	}
	if rd.P99 == nil || !near(rd.P99.Seconds(), 0.9) {
		t.Fatalf("p99: %v", rd.P99)
	}
	// demo-green-web has no targets: 0 healthy, 0 unhealthy.
	if rd.MinHealthy == nil || *rd.MinHealthy != 0 || rd.MaxUnhealthy == nil || *rd.MaxUnhealthy != 0 {
		t.Fatalf("host counts: %v %v", rd.MinHealthy, rd.MaxUnhealthy)
	}
	if len(rd.TargetGroups) != 1 || rd.TargetGroups[0].TargetGroup != w.green || !strings.HasPrefix(rd.TargetGroups[0].LoadBalancer, "app/demo-alb/") {
		t.Fatalf("target groups: %+v", rd.TargetGroups)
	}

	for _, c := range []struct {
		name  string
		gates config.Gates
		want  []string // gates breached, in order
	}{
		{"all pass", config.Gates{Max5xxPercent: ptr(25.0), MaxP99Latency: ptr(time.Second), MinRequestCount: ptr(1000)}, nil},
		{"5xx and p99", config.Gates{Max5xxPercent: ptr(5.0), MaxP99Latency: ptr(500 * time.Millisecond), MinRequestCount: ptr(1000)},
			[]string{traffic.GateMax5xxPercent, traffic.GateMaxP99Latency}},
		{"not enough traffic", config.Gates{Max5xxPercent: ptr(5.0), MinRequestCount: ptr(100000)}, []string{traffic.GateMinRequestCount}},
		{"healthy targets", config.Gates{MinHealthyTargets: ptr(2)}, []string{traffic.GateMinHealthyTargets}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := rd.Check(c.gates)
			if len(got) != len(c.want) {
				t.Fatalf("breaches %+v, want %v", got, c.want)
			}
			for i := range got {
				if got[i].Gate != c.want[i] {
					t.Fatalf("breaches %+v, want %v", got, c.want)
				}
			}
			if c.name == "5xx and p99" {
				if !near(got[0].Value, 20) || got[0].Limit != 5 || !strings.Contains(got[0].Message, "above max5xxPercent 5%") {
					t.Errorf("5xx breach %+v", got[0])
				}
				if !near(got[1].Value, 0.9) || got[1].Limit != 0.5 {
					t.Errorf("p99 breach %+v", got[1])
				}
			}
		})
	}
}

// TestHealthyTargets: an empty green target group is reported; targets
// whose addresses nothing holds go initial, then unhealthy, and show in
// UnHealthyHostCount; a green backed by a serving cluster is all healthy.
func TestHealthyTargets(t *testing.T) {
	t.Run("demo green", func(t *testing.T) {
		w := startWorld(t, nil)
		ctx := context.Background()
		s := w.shifter(t, w.elb, []string{w.web, w.api}) // one green group, asked once
		got, err := s.HealthyTargets(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].TargetGroup != w.green || got[0].TargetID != "" || got[0].Description != "no targets registered" {
			t.Fatalf("empty green: %+v", got)
		}

		_, err = w.elb.RegisterTargets(ctx, &elbv2.RegisterTargetsInput{TargetGroupArn: aws.String(w.green), Targets: []elbtypes.TargetDescription{
			{Id: aws.String("10.20.0.200"), Port: aws.Int32(8080)}, {Id: aws.String("10.20.4.200"), Port: aws.Int32(8080)}}})
		if err != nil {
			t.Fatal(err)
		}
		got, err = s.HealthyTargets(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[0].State != "initial" || got[0].Reason != "Elb.RegistrationInProgress" {
			t.Fatalf("just registered: %+v", got)
		}
		w.clock.Advance(5 * time.Minute)
		got, err = s.HealthyTargets(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[0].State != "unhealthy" || got[1].State != "unhealthy" || got[0].Port != 8080 ||
			!strings.Contains(got[0].String(), "10.20.0.200:8080 is unhealthy (Target.FailedHealthChecks") {
			t.Fatalf("after health checks: %+v", got)
		}

		rd, err := s.Evaluate(ctx, 3*time.Minute, t0.Add(5*time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		if rd.MaxUnhealthy == nil || *rd.MaxUnhealthy != 2 {
			t.Fatalf("UnHealthyHostCount: %v", rd.MaxUnhealthy)
		}
		b := rd.Check(config.Gates{})
		if len(b) != 1 || b[0].Gate != traffic.GateUnhealthyTargets || b[0].Value != 2 {
			t.Fatalf("breaches: %+v", b)
		}
	})

	t.Run("green serving", func(t *testing.T) {
		// Green's target group backed by the running cluster's pods.
		w := startWorld(t, func(s *scenario.Scenario) {
			for i := range s.TargetGroups {
				if s.TargetGroups[i].Name == "demo-green-web" {
					s.TargetGroups[i].Cluster, s.TargetGroups[i].TargetCount = "demo-blue", 2
				}
			}
		})
		w.clock.Advance(time.Minute)
		s := w.shifter(t, w.elb, []string{w.web})
		got, err := s.HealthyTargets(context.Background())
		if err != nil || len(got) != 0 {
			t.Fatalf("HealthyTargets = %+v, %v", got, err)
		}
	})
}
