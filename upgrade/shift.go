package upgrade

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eks"

	"github.com/eksbg/eksbg/internal/config"
	"github.com/eksbg/eksbg/upgrade/journal"
	"github.com/eksbg/eksbg/upgrade/traffic"
)

// Steps are the environment's traffic steps (percent on the new color).
func Steps(env *config.Environment) []int {
	if len(env.Traffic.Steps) > 0 {
		return env.Traffic.Steps
	}
	return config.DefaultSteps()
}

func stepName(pct int) string { return strconv.Itoa(pct) + "%" }

// metricPeriod is the period of the ALB's CloudWatch metrics: a reading
// covers whole minutes.
const metricPeriod = time.Minute

// shift moves traffic step by step, baking each step under the gates.
func (r *run) shift(ctx context.Context) error {
	if err := r.waitOutBreach(ctx); err != nil {
		return err
	}
	for _, pct := range Steps(r.o.Env) {
		err := r.step(ctx, PhaseShift, stepName(pct), func(ctx context.Context) (map[string]string, error) {
			return r.shiftStep(ctx, pct)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// shiftStep checks that green can take pct percent, writes the weights of
// every rule, verifies them and bakes under the gates. A breach sends
// every rule back to blue and returns a *GateBreachError.
func (r *run) shiftStep(ctx context.Context, pct int) (map[string]string, error) {
	// Green's targets must all be healthy before it gets more traffic.
	bad, err := r.shifter.HealthyTargets(ctx)
	if err != nil {
		return nil, err
	}
	if len(bad) > 0 {
		var s []string
		for _, b := range bad {
			s = append(s, b.String())
		}
		return nil, &HoldError{Reason: fmt.Sprintf("green has targets that are not healthy, so it gets no more traffic: %s", strings.Join(s, "; "))}
	}
	if err := r.capacityForStep(ctx, pct); err != nil {
		return nil, err
	}
	// The write runs to the end even on Ctrl-C: every rule at the same
	// step, never some at one weight and some at another.
	wctx := context.WithoutCancel(ctx)
	if err := r.shifter.SetWeights(wctx, pct); err != nil {
		return nil, r.breachRollback(ctx, pct, nil, fmt.Errorf("setting weights to %d%%: %w", pct, err))
	}
	if err := r.shifter.VerifyWeights(wctx, pct); err != nil {
		return nil, r.breachRollback(ctx, pct, nil, fmt.Errorf("verifying weights at %d%%: %w", pct, err))
	}
	ws, err := r.shifter.Weights(wctx)
	if err == nil {
		r.em.Emit(Event{Kind: Weights, Phase: PhaseShift, Step: stepName(pct), Weights: ws, To: r.shifter.To()})
	}
	reading, err := r.bake(ctx, pct)
	if err != nil {
		return nil, err
	}
	data := map[string]string{"weight": strconv.Itoa(pct)}
	if reading != nil {
		data["requests"] = fmt.Sprintf("%.0f", reading.Requests)
		data["errorPercent"] = fmt.Sprintf("%.2f", reading.ErrorPercent)
	}
	return data, nil
}

// capacityForStep holds the step when the subnets cannot take the nodes
// green needs to carry pct percent of blue's load (blue's current nodes
// per node group, in proportion) beyond those it has.
func (r *run) capacityForStep(ctx context.Context, pct int) error {
	cfg, _, err := r.greenConfig()
	if err != nil {
		return err
	}
	spec, err := cfg.Spec()
	if err != nil {
		return err
	}
	extra := map[string]int{}
	for _, ng := range managed(spec) {
		blueNodes, err := r.nodegroupSize(ctx, r.blue, ng.Name)
		if err != nil || blueNodes == 0 {
			continue // blue has no such group: green's own size is what it needs
		}
		greenNodes, err := r.nodegroupSize(ctx, r.green, ng.Name)
		if err != nil {
			return err
		}
		need := int(math.Ceil(float64(blueNodes) * float64(pct) / 100))
		if need > greenNodes {
			extra[ng.Name] = need - greenNodes
		}
	}
	fs, err := r.scaleUpCheck(ctx, cfg, extra)
	if err != nil {
		return err
	}
	if len(fs) > 0 {
		var s []string
		for _, f := range fs {
			s = append(s, f.What+" ("+f.Fix+")")
		}
		return &HoldError{Reason: fmt.Sprintf("the subnets cannot hold the nodes green needs at %d%%: %s", pct, strings.Join(s, "; "))}
	}
	return nil
}

func (r *run) nodegroupSize(ctx context.Context, cluster, ng string) (int, error) {
	d, err := r.cl.EKS.DescribeNodegroup(ctx, &eks.DescribeNodegroupInput{ClusterName: aws.String(cluster), NodegroupName: aws.String(ng)})
	if err != nil {
		return 0, fmt.Errorf("describing node group %s of %s: %w", ng, cluster, err)
	}
	if d.Nodegroup.ScalingConfig == nil {
		return 0, nil
	}
	return int(aws.ToInt32(d.Nodegroup.ScalingConfig.DesiredSize)), nil
}

// bake holds the step for the bake time, evaluating the gates every
// GateInterval over the last interval, and at the end over the whole bake
// (where the minimum request count applies). A breach rolls back.
func (r *run) bake(ctx context.Context, pct int) (*traffic.Reading, error) {
	bake := r.o.Env.Traffic.BakeTime
	gates := r.o.Env.Traffic.Gates
	start := r.clock.Now()
	if bake <= 0 {
		return nil, nil
	}
	interim := gates
	interim.MinRequestCount = nil // judged over the whole bake only
	next := min(r.o.GateInterval, bake)
	for {
		if err := r.sleep(ctx, next); err != nil {
			return nil, fmt.Errorf("baking %d%%: %w", pct, err)
		}
		now := r.clock.Now()
		final := now.Sub(start) >= bake
		window, g := r.o.GateInterval, interim
		if final {
			window, g = now.Sub(start), gates
		}
		rd, err := r.shifter.Evaluate(ctx, window, now)
		if err != nil {
			if ctx.Err() != nil {
				return nil, fmt.Errorf("baking %d%%: %w", pct, ctx.Err())
			}
			// CloudWatch unreachable is not a pass: try again next interval,
			// and fail the step if the bake ends without a reading.
			r.em.Emit(Event{Kind: Warning, Phase: PhaseShift, Step: stepName(pct), Message: "reading the gates: " + err.Error()})
			if final {
				return nil, r.breachRollback(ctx, pct, nil, fmt.Errorf("no gate reading at the end of the %d%% bake: %w", pct, err))
			}
			next = r.o.GateInterval
			continue
		}
		breaches := rd.Check(g)
		r.em.Emit(Event{Kind: Gate, Phase: PhaseShift, Step: stepName(pct), Reading: &rd, Breaches: breaches,
			Done: int(now.Sub(start).Seconds()), Total: int(bake.Seconds())})
		if len(breaches) > 0 {
			return nil, r.breachRollback(ctx, pct, breaches, nil)
		}
		if final {
			return &rd, nil
		}
		next = min(r.o.GateInterval, bake-now.Sub(start))
	}
}

// breachRollback sets every rule back to 100% blue, verifies it, marks
// the shift steps done so far as reverted in the journal (a rerun starts
// the shift over) and returns why.
func (r *run) breachRollback(ctx context.Context, pct int, breaches []traffic.Breach, cause error) error {
	wctx := context.WithoutCancel(ctx)
	var why error = &GateBreachError{Step: pct, Breaches: breaches}
	if cause != nil {
		why = cause
	}
	r.em.Emit(Event{Kind: Warning, Phase: PhaseShift, Step: stepName(pct), Message: "rolling traffic back to blue: " + why.Error(), Breaches: breaches})
	if err := r.shifter.Rollback(wctx); err != nil {
		return fmt.Errorf("%v; and rolling back failed, traffic may still reach green: %w", why, err)
	}
	if err := r.shifter.VerifyWeights(wctx, 0); err != nil {
		return fmt.Errorf("%v; and the rollback did not verify: %w", why, err)
	}
	if ws, err := r.shifter.Weights(wctx); err == nil {
		r.em.Emit(Event{Kind: Weights, Phase: PhaseShift, Step: "rollback", Weights: ws, To: r.shifter.To()})
	}
	for _, p := range Steps(r.o.Env) {
		if r.j.Completed(string(PhaseShift), stepName(p)) {
			r.j.Entries = append(r.j.Entries, journal.Entry{Phase: string(PhaseShift), Step: stepName(p), State: journal.Reverted,
				At: r.clock.Now().UTC(), Message: "traffic rolled back to blue: " + why.Error()})
		}
	}
	if err := r.save(ctx); err != nil {
		return err
	}
	return why
}

// waitOutBreach waits, after a rollback, until the breach is out of the
// gates' reading: CloudWatch reads whole minutes, so for a minute after
// the rollback a reading still holds the errors that caused it, and the
// first step would be judged on them.
func (r *run) waitOutBreach(ctx context.Context) error {
	var last time.Time
	for _, e := range r.j.Entries {
		if e.Phase == string(PhaseShift) && e.State == journal.Reverted && e.At.After(last) {
			last = e.At
		}
	}
	wait := last.Add(metricPeriod).Sub(r.clock.Now())
	if last.IsZero() || wait <= 0 {
		return nil
	}
	r.em.Emit(Event{Kind: Waiting, Phase: PhaseShift, Step: "metrics", Message: fmt.Sprintf("the last rollback was %s ago; CloudWatch reads whole minutes, so waiting %s before judging green again",
		r.clock.Now().Sub(last).Round(time.Second), wait.Round(time.Second))})
	return r.sleep(ctx, wait)
}
