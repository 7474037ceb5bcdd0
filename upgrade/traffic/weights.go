package traffic

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/eksbg/eksbg/internal/awserr"
	"github.com/eksbg/eksbg/internal/config"
	"github.com/eksbg/eksbg/internal/wait"
)

// Shifter sets and checks the blue/green weights of an environment's
// listener rules as traffic moves from one colour (the live one) to the
// other (the next one), and reads the gates and target health of the
// colour traffic moves to. Weights are always reported as configured
// (RuleWeights.Blue is the blue target group's), whichever way traffic
// moves. Acting (SetWeights) is split
// from checking (VerifyWeights), as argo-rollouts' traffic routers do
// (rollout/trafficrouting), so the caller can journal between the two.
type Shifter struct {
	elb      ELBv2API
	cw       CloudWatchAPI
	rules    []config.ListenerRule
	from, to string
	attempts int
	backoff  func(attempt int) time.Duration
	clock    wait.Clock
}

// Option adjusts a Shifter.
type Option func(*Shifter)

// WithRollbackRetry sets how many times Rollback tries each rule that is
// not yet at 100% blue (at least 1), and the delay before attempt n+1.
// The default is 5 attempts, 1 s doubling up to 10 s.
func WithRollbackRetry(attempts int, backoff func(attempt int) time.Duration) Option {
	return func(s *Shifter) {
		s.attempts = max(attempts, 1)
		if backoff != nil {
			s.backoff = backoff
		}
	}
}

// WithClock sets the clock Rollback waits between attempts with (default
// wait.Real).
func WithClock(c wait.Clock) Option {
	return func(s *Shifter) {
		if c != nil {
			s.clock = c
		}
	}
}

// defaultBackoff waits 1 s, 2 s, 4 s, 8 s, then 10 s between attempts.
func defaultBackoff(attempt int) time.Duration {
	d := time.Second << min(attempt-1, 4)
	return min(d, 10*time.Second)
}

// NewShifter returns a Shifter that moves traffic to the colour to (blue
// or green) on the environment's listener rules
// (config.Environment.Traffic.ListenerRules), from the other colour. Each
// rule needs an ARN and two distinct target groups; cw may be nil when
// Evaluate is not used.
func NewShifter(elb ELBv2API, cw CloudWatchAPI, rules []config.ListenerRule, to string, opts ...Option) (*Shifter, error) {
	if !config.ValidColor(to) {
		return nil, fmt.Errorf("traffic moves to %q, which is neither %s nor %s", to, config.Blue, config.Green)
	}
	if len(rules) == 0 {
		return nil, errors.New("the environment has no listener rules (traffic.listenerRules)")
	}
	seen := map[string]bool{}
	for i, r := range rules {
		switch {
		case r.ARN == "":
			return nil, fmt.Errorf("listener rule %d has no ARN", i+1)
		case seen[r.ARN]:
			return nil, fmt.Errorf("listener rule %s is listed twice", r.ARN)
		case r.TargetGroups.Blue == "" || r.TargetGroups.Green == "":
			return nil, fmt.Errorf("listener rule %s needs both a blue and a green target group", r.ARN)
		case r.TargetGroups.Blue == r.TargetGroups.Green:
			return nil, fmt.Errorf("listener rule %s has the same target group for blue and green", r.ARN)
		}
		seen[r.ARN] = true
	}
	s := &Shifter{elb: elb, cw: cw, rules: slices.Clone(rules), from: config.OtherColor(to), to: to, attempts: 5, backoff: defaultBackoff, clock: wait.Real{}}
	for _, o := range opts {
		o(s)
	}
	return s, nil
}

// TargetGroupWeight is one target group of a forward action and its weight.
type TargetGroupWeight struct {
	ARN    string `json:"arn"`
	Weight int32  `json:"weight"`
}

// RuleWeights is the forward action of one listener rule as the load
// balancer has it.
type RuleWeights struct {
	RuleARN string `json:"ruleArn"`
	// Blue and Green are the weights of the configured target groups.
	Blue  int32 `json:"blue"`
	Green int32 `json:"green"`
	// Others are the forward's other target groups, which eksbg leaves alone.
	Others []TargetGroupWeight `json:"others,omitempty"`
	// Stickiness is the forward's target group stickiness
	// (TargetGroupStickinessConfig); StickinessSeconds is its duration.
	Stickiness        bool  `json:"stickiness,omitempty"`
	StickinessSeconds int32 `json:"stickinessSeconds,omitempty"`
}

// From and To are the colours traffic moves from and to.
func (s *Shifter) From() string { return s.from }

// To is the colour traffic moves to; see From.
func (s *Shifter) To() string { return s.to }

// Weight is the weight of the colour's target group.
func (w RuleWeights) Weight(color string) int32 {
	if color == config.Green {
		return w.Green
	}
	return w.Blue
}

// Percent is the colour's share of the blue/green pair, in percent (0 when
// both weights are 0). Other target groups of the forward are not counted.
func (w RuleWeights) Percent(color string) float64 {
	if w.Blue+w.Green <= 0 {
		return 0
	}
	return 100 * float64(w.Weight(color)) / float64(w.Blue+w.Green)
}

// ErrUnsupportedRule is matched (errors.Is) by a *RuleError: a rule whose
// forward eksbg cannot shift. Retrying does not help.
var ErrUnsupportedRule = errors.New("listener rule cannot be shifted")

// RuleError says why a listener rule cannot be shifted.
type RuleError struct {
	RuleARN string
	Reason  string
}

// Error names the rule and the reason.
func (e *RuleError) Error() string { return "listener rule " + e.RuleARN + ": " + e.Reason }

// Is makes errors.Is(err, ErrUnsupportedRule) true.
func (e *RuleError) Is(target error) bool { return target == ErrUnsupportedRule }

// Weights reads the forward weights of every rule of the environment, in
// the order of the configuration.
func (s *Shifter) Weights(ctx context.Context) ([]RuleWeights, error) {
	rules, err := s.describe(ctx, s.rules)
	if err != nil {
		return nil, err
	}
	out := make([]RuleWeights, 0, len(s.rules))
	var errs []error
	for _, lr := range s.rules {
		w, err := ruleWeights(rules[lr.ARN], lr)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, w)
	}
	return out, errors.Join(errs...)
}

// SetWeights gives the colour traffic moves to toPercent and the other
// 100-toPercent on every rule of the environment. Each ModifyRule carries the rule's full action
// list as DescribeRules returned it, with only the blue and green weights
// changed: other actions, other target groups and stickiness stay as they
// were (ModifyRule replaces the whole list,
// https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_ModifyRule.html).
// Rules already at those weights are not written.
//
// If any rule cannot be shifted (*RuleError), nothing is written. Otherwise
// every rule is tried even after one fails, and the failures come back
// joined, each naming its rule; Rollback restores a consistent state.
func (s *Shifter) SetWeights(ctx context.Context, toPercent int) error {
	if toPercent < 0 || toPercent > 100 {
		return fmt.Errorf("%s weight %d is not a percentage (0-100)", s.to, toPercent)
	}
	rules, err := s.describe(ctx, s.rules)
	if err != nil {
		return err
	}
	type write struct {
		arn     string
		actions []types.Action
	}
	var writes []write
	var refused []error
	for _, lr := range s.rules {
		r := rules[lr.ARN]
		w, err := ruleWeights(r, lr)
		if err != nil {
			refused = append(refused, err)
			continue
		}
		if s.atWeights(w, toPercent) {
			continue
		}
		acts, err := s.withWeights(r.Actions, lr, toPercent)
		if err != nil {
			refused = append(refused, err)
			continue
		}
		writes = append(writes, write{lr.ARN, acts})
	}
	if len(refused) > 0 {
		return fmt.Errorf("setting weights %s: nothing written: %w", s.describeWeights(toPercent), errors.Join(refused...))
	}
	var errs []error
	for _, w := range writes {
		if _, err := s.elb.ModifyRule(ctx, &elbv2.ModifyRuleInput{RuleArn: aws.String(w.arn), Actions: w.actions}); err != nil {
			errs = append(errs, fmt.Errorf("modifying rule %s: %w", w.arn, err))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("setting weights %s: %d of %d rules failed: %w", s.describeWeights(toPercent), len(errs), len(writes), errors.Join(errs...))
	}
	return nil
}

// VerifyWeights reads every rule back (DescribeRules) and fails, naming
// each rule that disagrees and what it has, unless the colour traffic
// moves to has toPercent and the other 100-toPercent on all of them.
func (s *Shifter) VerifyWeights(ctx context.Context, toPercent int) error {
	rules, err := s.describe(ctx, s.rules)
	if err != nil {
		return err
	}
	var errs []error
	for _, lr := range s.rules {
		w, err := ruleWeights(rules[lr.ARN], lr)
		if err == nil && !s.atWeights(w, toPercent) {
			err = fmt.Errorf("rule %s forwards %d/%d blue/green, want %s", lr.ARN, w.Blue, w.Green, s.describeWeights(toPercent))
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("verifying weights: %w", errors.Join(errs...))
	}
	return nil
}

// Rollback sets every rule to 100% of the colour traffic moves from (the
// live one) and reads each back, retrying the
// rules that are not there yet (a failed write, a failed read, or a read
// that disagrees) up to the configured attempts, waiting between attempts
// unless ctx ends. A rule that cannot be shifted at all is reported and not
// retried; every other rule is still rolled back. Callers that roll back
// because of Ctrl-C should pass a context that is not already canceled
// (context.WithoutCancel with a timeout), or nothing will be written.
func (s *Shifter) Rollback(ctx context.Context) error {
	pending := slices.Clone(s.rules)
	var permanent []error
	for attempt := 1; ; attempt++ {
		var errs []error
		pending, errs, permanent = s.rollbackOnce(ctx, pending, permanent)
		if len(pending) == 0 {
			if len(permanent) > 0 {
				return fmt.Errorf("rolling back to %s: %w", s.from, errors.Join(permanent...))
			}
			return nil
		}
		if attempt >= s.attempts {
			return fmt.Errorf("rolling back to %s: %d rule(s) not at 100%% %s after %d attempts: %w",
				s.from, len(pending), s.from, attempt, errors.Join(append(permanent, errs...)...))
		}
		if err := s.clock.Sleep(ctx, s.backoff(attempt)); err != nil {
			return fmt.Errorf("rolling back to %s: %d rule(s) not at 100%% %s: %w",
				s.from, len(pending), s.from, errors.Join(append(append(permanent, errs...), err)...))
		}
	}
}

// rollbackOnce writes 100% from-colour to the pending rules that need it and reads
// them back, one rule at a time so that one missing rule cannot stop the
// others. It returns the rules still pending, this attempt's errors, and
// the permanent failures so far.
func (s *Shifter) rollbackOnce(ctx context.Context, pending []config.ListenerRule, permanent []error) ([]config.ListenerRule, []error, []error) {
	var errs []error
	var written, next []config.ListenerRule
	for _, lr := range pending {
		r, err := s.describeOne(ctx, lr.ARN)
		if err != nil {
			if awserr.IsCode(err, "RuleNotFound") {
				permanent = append(permanent, err)
			} else {
				errs = append(errs, err)
				next = append(next, lr)
			}
			continue
		}
		w, err := ruleWeights(r, lr)
		if err != nil {
			permanent = append(permanent, err)
			continue
		}
		if s.atWeights(w, 0) {
			continue
		}
		acts, err := s.withWeights(r.Actions, lr, 0)
		if err != nil {
			permanent = append(permanent, err)
			continue
		}
		if _, err := s.elb.ModifyRule(ctx, &elbv2.ModifyRuleInput{RuleArn: aws.String(lr.ARN), Actions: acts}); err != nil {
			errs = append(errs, fmt.Errorf("modifying rule %s: %w", lr.ARN, err))
			next = append(next, lr)
			continue
		}
		written = append(written, lr)
	}
	for _, lr := range written {
		r, err := s.describeOne(ctx, lr.ARN)
		if err == nil {
			var w RuleWeights
			if w, err = ruleWeights(r, lr); err == nil && !s.atWeights(w, 0) {
				err = fmt.Errorf("rule %s still forwards %d/%d blue/green after ModifyRule", lr.ARN, w.Blue, w.Green)
			}
		}
		if err != nil {
			errs = append(errs, err)
			next = append(next, lr)
		}
	}
	return next, errs, permanent
}

// describe reads the given rules with one paginated DescribeRules, keyed
// by ARN; a rule the answer lacks is an error naming it.
func (s *Shifter) describe(ctx context.Context, rules []config.ListenerRule) (map[string]types.Rule, error) {
	arns := make([]string, len(rules))
	for i, r := range rules {
		arns[i] = r.ARN
	}
	out := map[string]types.Rule{}
	p := elbv2.NewDescribeRulesPaginator(s.elb, &elbv2.DescribeRulesInput{RuleArns: arns})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			if awserr.IsCode(err, "RuleNotFound") {
				// AWS does not say which: name them all.
				return nil, fmt.Errorf("describing listener rules: one or more of %s does not exist: %w", strings.Join(arns, ", "), err)
			}
			return nil, fmt.Errorf("describing listener rules: %w", err)
		}
		for _, r := range page.Rules {
			out[aws.ToString(r.RuleArn)] = r
		}
	}
	var missing []string
	for _, a := range arns {
		if _, ok := out[a]; !ok {
			missing = append(missing, a)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("describing listener rules: no answer for %s", strings.Join(missing, ", "))
	}
	return out, nil
}

// describeOne reads one rule.
func (s *Shifter) describeOne(ctx context.Context, arn string) (types.Rule, error) {
	out, err := s.elb.DescribeRules(ctx, &elbv2.DescribeRulesInput{RuleArns: []string{arn}})
	if err != nil {
		return types.Rule{}, fmt.Errorf("describing listener rule %s: %w", arn, err)
	}
	for _, r := range out.Rules {
		if aws.ToString(r.RuleArn) == arn {
			return r, nil
		}
	}
	return types.Rule{}, fmt.Errorf("describing listener rule %s: not in the answer", arn)
}

// atWeights reports whether a rule has toPercent on the colour traffic
// moves to and the rest on the other.
func (s *Shifter) atWeights(w RuleWeights, toPercent int) bool {
	return int(w.Weight(s.to)) == toPercent && int(w.Weight(s.from)) == 100-toPercent
}

// describeWeights says toPercent as blue/green weights, "75/25 blue/green".
func (s *Shifter) describeWeights(toPercent int) string {
	blue := 100 - toPercent
	if s.to == config.Blue {
		blue = toPercent
	}
	return fmt.Sprintf("%d/%d blue/green", blue, 100-blue)
}

// forwardIndex finds the rule's forward action, refusing what eksbg cannot
// shift: the default rule (only ModifyListener changes its actions), and a
// rule without exactly one forward action.
func forwardIndex(r types.Rule, lr config.ListenerRule) (int, error) {
	if aws.ToBool(r.IsDefault) {
		return 0, &RuleError{lr.ARN, "is a listener's default rule, whose actions only ModifyListener changes; point eksbg at a non-default rule"}
	}
	idx := -1
	for i, a := range r.Actions {
		if a.Type == types.ActionTypeEnumForward {
			if idx >= 0 {
				return 0, &RuleError{lr.ARN, "has more than one forward action"}
			}
			idx = i
		}
	}
	if idx < 0 {
		var kinds []string
		for _, a := range r.Actions {
			kinds = append(kinds, string(a.Type))
		}
		return 0, &RuleError{lr.ARN, fmt.Sprintf("has no forward action (it has: %s)", strings.Join(kinds, ", "))}
	}
	return idx, nil
}

// forwardGroups lists a forward action's target groups with their weights.
// DescribeRules returns a ForwardConfig even for a rule made with
// TargetGroupArn alone; the fallback covers answers that do not.
func forwardGroups(a types.Action) []types.TargetGroupTuple {
	if a.ForwardConfig != nil && len(a.ForwardConfig.TargetGroups) > 0 {
		return a.ForwardConfig.TargetGroups
	}
	if a.TargetGroupArn != nil {
		return []types.TargetGroupTuple{{TargetGroupArn: a.TargetGroupArn, Weight: aws.Int32(1)}}
	}
	return nil
}

// ruleWeights reads a rule's blue, green and other weights, refusing a
// forward that lacks either configured target group.
func ruleWeights(r types.Rule, lr config.ListenerRule) (RuleWeights, error) {
	idx, err := forwardIndex(r, lr)
	if err != nil {
		return RuleWeights{}, err
	}
	a := r.Actions[idx]
	w := RuleWeights{RuleARN: lr.ARN}
	var hasBlue, hasGreen bool
	var have []string
	for _, t := range forwardGroups(a) {
		arn, weight := aws.ToString(t.TargetGroupArn), aws.ToInt32(t.Weight)
		have = append(have, fmt.Sprintf("%s (weight %d)", arn, weight))
		switch arn {
		case lr.TargetGroups.Blue:
			w.Blue, hasBlue = weight, true
		case lr.TargetGroups.Green:
			w.Green, hasGreen = weight, true
		default:
			w.Others = append(w.Others, TargetGroupWeight{ARN: arn, Weight: weight})
		}
	}
	if !hasBlue || !hasGreen {
		var lacks []string
		if !hasBlue {
			lacks = append(lacks, "blue "+lr.TargetGroups.Blue)
		}
		if !hasGreen {
			lacks = append(lacks, "green "+lr.TargetGroups.Green)
		}
		return RuleWeights{}, &RuleError{lr.ARN, fmt.Sprintf("forwards to %s, without %s; add the missing target group to the rule's forward action (weight 0)",
			strings.Join(have, ", "), strings.Join(lacks, " and "))}
	}
	if fc := a.ForwardConfig; fc != nil && fc.TargetGroupStickinessConfig != nil {
		w.Stickiness = aws.ToBool(fc.TargetGroupStickinessConfig.Enabled)
		w.StickinessSeconds = aws.ToInt32(fc.TargetGroupStickinessConfig.DurationSeconds)
	}
	return w, nil
}

// withWeights returns a copy of a rule's actions, as ModifyRule takes them,
// with the colour traffic moves to at toPercent, the other at the rest and
// everything else as it was. The input is not modified.
func (s *Shifter) withWeights(actions []types.Action, lr config.ListenerRule, toPercent int) ([]types.Action, error) {
	to := lr.TargetGroup(s.to)
	from := lr.TargetGroup(s.from)
	idx, err := forwardIndex(types.Rule{Actions: actions}, lr)
	if err != nil {
		return nil, err
	}
	out := make([]types.Action, len(actions))
	for i, a := range actions {
		if a.Type == types.ActionTypeEnumAuthenticateOidc && a.AuthenticateOidcConfig != nil {
			// DescribeRules never returns the client secret; ModifyRule
			// keeps the stored one when told to
			// (AuthenticateOidcActionConfig.UseExistingClientSecret).
			oc := *a.AuthenticateOidcConfig
			oc.ClientSecret, oc.UseExistingClientSecret = nil, aws.Bool(true)
			a.AuthenticateOidcConfig = &oc
		}
		out[i] = a
	}
	fwd := out[idx]
	groups := forwardGroups(fwd)
	tuples := make([]types.TargetGroupTuple, len(groups))
	var hasFrom, hasTo bool
	for i, t := range groups {
		tuples[i] = t
		switch aws.ToString(t.TargetGroupArn) {
		case from:
			tuples[i].Weight, hasFrom = aws.Int32(int32(100-toPercent)), true
		case to:
			tuples[i].Weight, hasTo = aws.Int32(int32(toPercent)), true
		}
	}
	if !hasFrom || !hasTo {
		return nil, &RuleError{lr.ARN, "forward action lacks the blue or the green target group"}
	}
	fc := types.ForwardActionConfig{}
	if fwd.ForwardConfig != nil {
		fc = *fwd.ForwardConfig
	}
	fc.TargetGroups = tuples
	fwd.ForwardConfig = &fc
	// With two or more target groups the forward is a ForwardConfig alone:
	// AWS refuses a TargetGroupArn beside a ForwardConfig that names more
	// than that one group (API_Action.html).
	fwd.TargetGroupArn = nil
	out[idx] = fwd
	return out, nil
}
