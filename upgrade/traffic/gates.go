package traffic

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/eksbg/eksbg/internal/config"
)

// The gates read the metrics an Application Load Balancer publishes for
// its target groups in the AWS/ApplicationELB namespace, per target group
// and load balancer
// (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-cloudwatch-metrics.html).
const albNamespace = "AWS/ApplicationELB"

// cwMaxQueries is GetMetricData's limit on queries per request.
const cwMaxQueries = 500

// TargetGroupReading is the metrics of one green target group behind one
// load balancer.
type TargetGroupReading struct {
	// TargetGroup is the target group's ARN.
	TargetGroup string `json:"targetGroup"`
	// LoadBalancer is the LoadBalancer dimension, "app/<name>/<id>".
	LoadBalancer string  `json:"loadBalancer"`
	Requests     float64 `json:"requests"`
	Errors5xx    float64 `json:"errors5xx"`
	// P99 is the highest p99 TargetResponseTime of the window's periods;
	// nil without requests.
	P99 *time.Duration `json:"p99,omitempty"`
	// MinHealthy is the lowest HealthyHostCount, MaxUnhealthy the highest
	// UnHealthyHostCount; nil when CloudWatch has no datapoint.
	MinHealthy   *float64 `json:"minHealthy,omitempty"`
	MaxUnhealthy *float64 `json:"maxUnhealthy,omitempty"`
}

// Reading is what CloudWatch says about green over a window: every green
// target group of the environment's rules, and the totals the gates judge.
type Reading struct {
	// Color is the colour read: the one traffic moves to.
	Color string    `json:"color"`
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	// Requests is Σ RequestCount; Errors5xx Σ HTTPCode_Target_5XX_Count.
	Requests  float64 `json:"requests"`
	Errors5xx float64 `json:"errors5xx"`
	// ErrorPercent is 100 × Errors5xx / Requests (0 without requests).
	ErrorPercent float64 `json:"errorPercent"`
	// P99 is the highest p99 TargetResponseTime of any target group and
	// period: percentiles do not add up, the highest is the safe reading.
	P99 *time.Duration `json:"p99,omitempty"`
	// MinHealthy is the lowest HealthyHostCount of any green target group,
	// MaxUnhealthy the highest UnHealthyHostCount.
	MinHealthy   *float64             `json:"minHealthy,omitempty"`
	MaxUnhealthy *float64             `json:"maxUnhealthy,omitempty"`
	TargetGroups []TargetGroupReading `json:"targetGroups"`
}

// Evaluate reads green's metrics over [now-window, now) with one
// GetMetricData request (paginated by the SDK if CloudWatch splits the
// answer): for each green target group and the load balancer of its rule,
// RequestCount and HTTPCode_Target_5XX_Count (Sum), TargetResponseTime
// (p99), HealthyHostCount (Minimum) and UnHealthyHostCount (Maximum), with
// one period as long as the window (rounded up to whole minutes).
func (s *Shifter) Evaluate(ctx context.Context, window time.Duration, now time.Time) (Reading, error) {
	if s.cw == nil {
		return Reading{}, errors.New("evaluating gates: the shifter has no CloudWatch client")
	}
	if window <= 0 {
		return Reading{}, fmt.Errorf("evaluating gates: window %s is not positive", window)
	}
	groups, err := s.toGroups()
	if err != nil {
		return Reading{}, err
	}
	metrics := []struct{ prefix, name, stat string }{
		{"r", "RequestCount", "Sum"},
		{"e", "HTTPCode_Target_5XX_Count", "Sum"},
		{"l", "TargetResponseTime", "p99"},
		{"h", "HealthyHostCount", "Minimum"},
		{"u", "UnHealthyHostCount", "Maximum"},
	}
	if len(groups)*len(metrics) > cwMaxQueries {
		return Reading{}, fmt.Errorf("evaluating gates: %d green target groups need more than %d queries", len(groups), cwMaxQueries)
	}
	period := int32(math.Ceil(window.Minutes())) * 60
	var queries []cwtypes.MetricDataQuery
	for i, g := range groups {
		for _, m := range metrics {
			queries = append(queries, cwtypes.MetricDataQuery{
				Id: aws.String(fmt.Sprintf("%s%d", m.prefix, i)),
				MetricStat: &cwtypes.MetricStat{
					Metric: &cwtypes.Metric{Namespace: aws.String(albNamespace), MetricName: aws.String(m.name),
						Dimensions: []cwtypes.Dimension{
							{Name: aws.String("TargetGroup"), Value: aws.String(g.tgDim)},
							{Name: aws.String("LoadBalancer"), Value: aws.String(g.lbDim)},
						}},
					Period: aws.Int32(period), Stat: aws.String(m.stat)},
			})
		}
	}
	start := now.Add(-window)
	values := map[string][]float64{}
	p := cloudwatch.NewGetMetricDataPaginator(s.cw, &cloudwatch.GetMetricDataInput{
		StartTime: aws.Time(start), EndTime: aws.Time(now), MetricDataQueries: queries})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return Reading{}, fmt.Errorf("getting metric data: %w", err)
		}
		for _, r := range page.MetricDataResults {
			values[aws.ToString(r.Id)] = append(values[aws.ToString(r.Id)], r.Values...)
		}
	}

	rd := Reading{Color: s.to, Start: start, End: now}
	for i, g := range groups {
		tr := TargetGroupReading{TargetGroup: g.arn, LoadBalancer: g.lbDim}
		id := func(prefix string) []float64 { return values[fmt.Sprintf("%s%d", prefix, i)] }
		for _, v := range id("r") {
			tr.Requests += v
		}
		for _, v := range id("e") {
			tr.Errors5xx += v
		}
		if v, ok := extreme(id("l"), math.Max); ok {
			d := time.Duration(v * float64(time.Second))
			tr.P99 = &d
		}
		if v, ok := extreme(id("h"), math.Min); ok {
			tr.MinHealthy = &v
		}
		if v, ok := extreme(id("u"), math.Max); ok {
			tr.MaxUnhealthy = &v
		}
		rd.Requests += tr.Requests
		rd.Errors5xx += tr.Errors5xx
		rd.P99 = maxPtr(rd.P99, tr.P99, func(a, b time.Duration) bool { return a > b })
		rd.MinHealthy = maxPtr(rd.MinHealthy, tr.MinHealthy, func(a, b float64) bool { return a < b })
		rd.MaxUnhealthy = maxPtr(rd.MaxUnhealthy, tr.MaxUnhealthy, func(a, b float64) bool { return a > b })
		rd.TargetGroups = append(rd.TargetGroups, tr)
	}
	if rd.Requests > 0 {
		rd.ErrorPercent = 100 * rd.Errors5xx / rd.Requests
	}
	return rd, nil
}

// extreme folds values with f (math.Max or math.Min); false when empty.
func extreme(values []float64, f func(a, b float64) float64) (float64, bool) {
	if len(values) == 0 {
		return 0, false
	}
	v := values[0]
	for _, x := range values[1:] {
		v = f(v, x)
	}
	return v, true
}

// maxPtr returns whichever of cur and v wins by better (nil loses).
func maxPtr[T any](cur, v *T, better func(a, b T) bool) *T {
	if v == nil {
		return cur
	}
	if cur == nil || better(*v, *cur) {
		x := *v
		return &x
	}
	return cur
}

// toGroup is a green target group and the load balancer its rule
// belongs to, as CloudWatch dimension values.
type toGroup struct {
	arn, tgDim, lbDim string
}

// toGroups lists each distinct (green target group, load balancer) of
// the environment's rules, in configuration order.
func (s *Shifter) toGroups() ([]toGroup, error) {
	var out []toGroup
	seen := map[string]bool{}
	for _, r := range s.rules {
		tg, err := TargetGroupDimension(r.TargetGroup(s.to))
		if err != nil {
			return nil, err
		}
		lb, err := LoadBalancerDimension(r.ARN)
		if err != nil {
			return nil, err
		}
		if key := tg + " " + lb; !seen[key] {
			seen[key] = true
			out = append(out, toGroup{r.TargetGroup(s.to), tg, lb})
		}
	}
	return out, nil
}

// TargetGroupDimension is the TargetGroup dimension of CloudWatch's ALB
// metrics for a target group ARN: the ARN's resource, "targetgroup/<name>/<id>".
func TargetGroupDimension(arn string) (string, error) {
	i := strings.LastIndex(arn, ":")
	if !strings.HasPrefix(arn, "arn:") || i < 0 || !strings.HasPrefix(arn[i+1:], "targetgroup/") || strings.Count(arn[i+1:], "/") != 2 {
		return "", fmt.Errorf("%q is not a target group ARN (arn:...:targetgroup/<name>/<id>)", arn)
	}
	return arn[i+1:], nil
}

// LoadBalancerDimension is the LoadBalancer dimension, "app/<name>/<id>",
// of the load balancer a listener, listener rule or load balancer ARN
// belongs to (a rule's ARN is listener-rule/app/<name>/<id>/<listener>/<rule>).
func LoadBalancerDimension(arn string) (string, error) {
	i := strings.LastIndex(arn, ":")
	if !strings.HasPrefix(arn, "arn:") || i < 0 {
		return "", fmt.Errorf("%q is not a load balancer, listener or listener rule ARN", arn)
	}
	parts := strings.Split(arn[i+1:], "/")
	switch {
	case len(parts) >= 4 && (parts[0] == "loadbalancer" || parts[0] == "listener" || parts[0] == "listener-rule") && parts[1] == "app":
		return strings.Join(parts[1:4], "/"), nil
	}
	return "", fmt.Errorf("%q is not the ARN of an Application Load Balancer, or of one of its listeners or rules", arn)
}

// The gates Check reports, named as in eksbg.yaml (traffic.gates), plus
// unHealthyHostCount, which has no threshold: any unhealthy green target
// breaches it.
const (
	GateMinRequestCount   = "minRequestCount"
	GateMax5xxPercent     = "max5xxPercent"
	GateMaxP99Latency     = "maxP99Latency"
	GateMinHealthyTargets = "minHealthyTargets"
	GateUnhealthyTargets  = "unHealthyHostCount"
)

// Breach is a gate the reading does not pass.
type Breach struct {
	// Gate is one of the Gate... constants.
	Gate string `json:"gate"`
	// Value is the reading and Limit the gate's limit, in the gate's unit:
	// requests, percent, seconds or targets. Value is NaN when CloudWatch
	// had no datapoint.
	Value float64 `json:"value"`
	Limit float64 `json:"limit"`
	// Message says it for people.
	Message string `json:"message"`
}

// String is the message.
func (b Breach) String() string { return b.Message }

// Check judges the reading against the gates (nil gates are not checked)
// and returns the breaches, none when every gate passes. With fewer
// requests than MinRequestCount the step cannot be judged: that is a
// breach, and the 5xx and latency gates are not judged on so little
// traffic; the target-count gates still are.
func (r Reading) Check(g config.Gates) []Breach {
	var out []Breach
	enough := true
	if g.MinRequestCount != nil && r.Requests < float64(*g.MinRequestCount) {
		enough = false
		out = append(out, Breach{Gate: GateMinRequestCount, Value: r.Requests, Limit: float64(*g.MinRequestCount),
			Message: fmt.Sprintf("not enough traffic to judge: %.0f requests to %s, %s needs %d", r.Requests, r.Color, GateMinRequestCount, *g.MinRequestCount)})
	}
	if enough && g.Max5xxPercent != nil && r.ErrorPercent > *g.Max5xxPercent {
		out = append(out, Breach{Gate: GateMax5xxPercent, Value: r.ErrorPercent, Limit: *g.Max5xxPercent,
			Message: fmt.Sprintf("5xx rate %.2f%% (%.0f of %.0f requests) is above %s %g%%", r.ErrorPercent, r.Errors5xx, r.Requests, GateMax5xxPercent, *g.Max5xxPercent)})
	}
	if enough && g.MaxP99Latency != nil && r.P99 != nil && *r.P99 > *g.MaxP99Latency {
		out = append(out, Breach{Gate: GateMaxP99Latency, Value: r.P99.Seconds(), Limit: g.MaxP99Latency.Seconds(),
			Message: fmt.Sprintf("p99 response time %s is above %s %s", r.P99.Round(time.Millisecond), GateMaxP99Latency, *g.MaxP99Latency)})
	}
	if g.MinHealthyTargets != nil {
		switch {
		case r.MinHealthy == nil:
			out = append(out, Breach{Gate: GateMinHealthyTargets, Value: math.NaN(), Limit: float64(*g.MinHealthyTargets),
				Message: fmt.Sprintf("no HealthyHostCount data for %s; %s needs %d", r.Color, GateMinHealthyTargets, *g.MinHealthyTargets)})
		case *r.MinHealthy < float64(*g.MinHealthyTargets):
			out = append(out, Breach{Gate: GateMinHealthyTargets, Value: *r.MinHealthy, Limit: float64(*g.MinHealthyTargets),
				Message: fmt.Sprintf("%g healthy %s targets at the lowest, below %s %d", *r.MinHealthy, r.Color, GateMinHealthyTargets, *g.MinHealthyTargets)})
		}
	}
	if r.MaxUnhealthy != nil && *r.MaxUnhealthy > 0 {
		out = append(out, Breach{Gate: GateUnhealthyTargets, Value: *r.MaxUnhealthy, Limit: 0,
			Message: fmt.Sprintf("%g unhealthy %s targets at the highest (UnHealthyHostCount); %s must have none", *r.MaxUnhealthy, r.Color, r.Color)})
	}
	return out
}
