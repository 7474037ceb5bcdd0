package drift

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"

	"github.com/eksbg/eksbg/internal/config"
	"github.com/eksbg/eksbg/internal/findings"
	"github.com/eksbg/eksbg/upgrade/traffic"
)

// checkTraffic checks that every listener rule sends all of the
// environment's traffic to the live color, and that the live color's
// target groups have only healthy targets.
func (c *checker) checkTraffic(ctx context.Context, run *envRun, g *awsGroup, live *liveInfo, st *stateInfo) {
	env := run.env
	cfg, err := g.config(ctx, env)
	if err != nil {
		run.fail(KindTraffic, err)
		return
	}
	elb := elbv2.NewFromConfig(cfg)
	// Weights are read as configured whichever way a Shifter moves.
	sh, err := traffic.NewShifter(elb, nil, env.Traffic.ListenerRules, config.Green)
	if err != nil {
		run.fail(KindTraffic, err)
		return
	}
	ws, err := sh.Weights(ctx)
	for _, e := range splitJoined(err) {
		var re *traffic.RuleError
		if !errors.As(e, &re) {
			run.fail(KindTraffic, e)
			continue
		}
		run.add(findings.Finding{Check: string(KindTraffic), Resource: re.RuleARN, Field: "forward",
			Expected: "one forward action to the blue and the green target group of eksbg.yaml", Actual: re.Reason, Severity: findings.Fail,
			Fix: "make the rule forward to both target groups (the idle one with weight 0), or fix traffic.listenerRules in eksbg.yaml"})
	}
	upgrading := c.upgradeInProgress(st)
	for _, w := range ws {
		if f, ok := c.weightFinding(env, live, w, upgrading, st); ok {
			run.add(f)
		}
	}
	// traffic.Shifter checks the health of the colour it moves to: the
	// live one here.
	hs, err := traffic.NewShifter(elb, nil, env.Traffic.ListenerRules, live.color)
	if err != nil {
		run.fail(KindTraffic, err)
		return
	}
	unhealthy, err := hs.HealthyTargets(ctx)
	if err != nil {
		run.fail(KindTraffic, err)
		return
	}
	for _, u := range unhealthy {
		run.add(targetFinding(live, u))
	}
}

// upgradeInProgress reports whether an upgrade is open and younger than
// StaleAfter: traffic between its two colors is then expected.
func (c *checker) upgradeInProgress(st *stateInfo) bool {
	return st != nil && st.journal.Open() && c.now().Sub(st.journal.StartedAt) <= StaleAfter
}

// weightFinding judges one rule's weights: the live color must have all of
// the traffic, the other color and any other target group none.
func (c *checker) weightFinding(env *config.Environment, live *liveInfo, w traffic.RuleWeights, upgrading bool, st *stateInfo) (findings.Finding, bool) {
	liveW, otherW := w.Blue, w.Green
	if live.color == config.Green {
		liveW, otherW = w.Green, w.Blue
	}
	var others []string
	for _, o := range w.Others {
		if o.Weight > 0 {
			others = append(others, fmt.Sprintf("%s %d", o.ARN, o.Weight))
		}
	}
	if liveW > 0 && otherW == 0 && len(others) == 0 {
		return findings.Finding{}, false
	}
	expected := "blue 100, green 0"
	if live.color == config.Green {
		expected = "blue 0, green 100"
	}
	expected += fmt.Sprintf(" (%s is live: %s)", live.color, liveSource(live.from))
	actual := fmt.Sprintf("blue %d, green %d", w.Blue, w.Green)
	if !live.otherExists && otherW > 0 {
		actual += fmt.Sprintf(" (%s's cluster %s does not exist)", config.OtherColor(live.color), live.other)
	}
	if len(others) > 0 {
		actual += "; other target groups: " + strings.Join(others, ", ")
	}
	f := findings.Finding{Check: string(KindTraffic), Resource: w.RuleARN, Field: "weights", Expected: expected, Actual: actual, Severity: findings.Fail}
	var rule config.ListenerRule
	for _, r := range env.Traffic.ListenerRules {
		if r.ARN == w.RuleARN {
			rule = r
		}
	}
	if j := st.journal; j.Open() {
		f.Fix = fmt.Sprintf("eksbg rollback --env %s  # upgrade %s is open: this ends it on the old color; or resume it: eksbg upgrade --env %s --to %s", env.Name, j.ID, env.Name, j.To.Version)
	} else {
		f.Fix = modifyRuleCommand(rule, live.color, w)
	}
	if upgrading {
		// An upgrade younger than a day moves traffic step by step: its
		// weights are its own, not drift. A stale one is drift.
		f.Severity = findings.Warn
		f.Expected += "; an upgrade is in progress"
	}
	return f, true
}

// modifyRuleCommand is the AWS CLI command that sends all of a rule's
// traffic to the live color, keeping the other target groups at weight 0.
func modifyRuleCommand(r config.ListenerRule, liveColor string, w traffic.RuleWeights) string {
	type tg struct {
		TargetGroupArn string
		Weight         int32
	}
	tgs := []tg{{r.TargetGroup(liveColor), 100}, {r.TargetGroup(config.OtherColor(liveColor)), 0}}
	for _, o := range w.Others {
		tgs = append(tgs, tg{o.ARN, 0})
	}
	actions := []map[string]any{{"Type": "forward", "ForwardConfig": map[string]any{"TargetGroups": tgs}}}
	b, _ := json.Marshal(actions)
	return fmt.Sprintf("aws elbv2 modify-rule --rule-arn %s --actions '%s'  # replaces the rule's actions: add back any authenticate action it has", r.ARN, b)
}

// targetFinding reports a live target that is not healthy, or a live
// target group with no target.
func targetFinding(live *liveInfo, u traffic.UnhealthyTarget) findings.Finding {
	if u.TargetID == "" {
		return findings.Finding{Check: string(KindTraffic), Resource: u.TargetGroup, Field: "targets",
			Expected: fmt.Sprintf("healthy targets: %s is the live color", live.color), Actual: "no targets registered", Severity: findings.Fail,
			Fix: fmt.Sprintf("kubectl get targetgroupbindings -A  # on %s: its TargetGroupBinding registers the pods", live.cluster)}
	}
	actual := u.State
	if u.Reason != "" {
		actual += " (" + u.Reason + ": " + u.Description + ")"
	}
	sev := findings.Fail
	if u.State == "initial" || u.State == "draining" {
		// Targets come and go with every rollout.
		sev = findings.Warn
	}
	return findings.Finding{Check: string(KindTraffic), Resource: u.TargetGroup, Field: fmt.Sprintf("target %s:%d", u.TargetID, u.Port),
		Expected: "healthy", Actual: actual, Severity: sev,
		Fix: fmt.Sprintf("aws elbv2 describe-target-health --target-group-arn %s  # then look at the pod behind the target on %s", u.TargetGroup, live.cluster)}
}

// splitJoined returns the errors an errors.Join holds, or err alone.
func splitJoined(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}
