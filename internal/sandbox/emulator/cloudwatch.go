package emulator

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/eksbg/eksbg/internal/sandbox/scenario"
	"github.com/eksbg/eksbg/internal/sandbox/wire"
)

// CloudWatch GetMetricData, over the three protocols clients speak to it:
// Smithy RPC v2 CBOR (aws-sdk-go-v2 v1.75+, botocore 1.43), AWS query
// (older CLIs such as Debian's awscli 2.9) and AWS JSON 1.0.
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricData.html
//
// The metrics are those an Application Load Balancer publishes in the
// AWS/ApplicationELB namespace for its target groups, computed on demand from
// the traffic model (World.Traffic) and the forward weights each rule had over
// time (Rule.History), so a weight shift shows in the metrics from the
// instant it happened on.

// albNamespace is the namespace of Application Load Balancer metrics.
const albNamespace = "AWS/ApplicationELB"

// The limits of GetMetricData.
const (
	cwMaxQueries       = 500
	cwDefaultDatapoint = 100800
)

// cwDimension is a metric dimension.
type cwDimension struct {
	Name  string `json:"Name"`
	Value string `json:"Value"`
}

// cwMetric names a metric.
type cwMetric struct {
	Namespace  string        `json:"Namespace"`
	MetricName string        `json:"MetricName"`
	Dimensions []cwDimension `json:"Dimensions"`
}

// cwMetricStat is a metric with the statistic and period to return.
type cwMetricStat struct {
	Metric cwMetric `json:"Metric"`
	Period int      `json:"Period"`
	Stat   string   `json:"Stat"`
	Unit   string   `json:"Unit"`
}

// cwQuery is one MetricDataQuery.
type cwQuery struct {
	ID         string        `json:"Id"`
	MetricStat *cwMetricStat `json:"MetricStat"`
	Expression string        `json:"Expression"`
	Label      string        `json:"Label"`
	ReturnData *bool         `json:"ReturnData"`
	Period     int           `json:"Period"`
	AccountID  string        `json:"AccountId"`
}

// cwInput is GetMetricDataInput.
type cwInput struct {
	MetricDataQueries []cwQuery       `json:"MetricDataQueries"`
	StartTime         *wire.Timestamp `json:"StartTime"`
	EndTime           *wire.Timestamp `json:"EndTime"`
	NextToken         string          `json:"NextToken"`
	ScanBy            string          `json:"ScanBy"`
	MaxDatapoints     *int            `json:"MaxDatapoints"`
}

// xmlMembers is a list that AWS query encodes as <Name><member>..</member></Name>,
// writing the wrapper even when the list is empty (<Timestamps/>), as
// CloudWatch does, so clients show the empty list rather than nothing.
type xmlMembers[T any] []T

// MarshalXML writes the wrapper element and one <member> per element.
func (l xmlMembers[T]) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	if err := e.EncodeToken(start); err != nil {
		return err
	}
	for _, v := range l {
		var item any = v
		if f, ok := item.(float64); ok {
			// Plain decimals (1200000, not Go's 1.2e+06), as AWS writes doubles.
			item = strconv.FormatFloat(f, 'f', -1, 64)
		}
		if err := e.EncodeElement(item, xml.StartElement{Name: xml.Name{Local: "member"}}); err != nil {
			return err
		}
	}
	return e.EncodeToken(start.End())
}

// cwMessage is a MessageData.
type cwMessage struct {
	Code  string `json:"Code" xml:"Code"`
	Value string `json:"Value" xml:"Value"`
}

// cwResult is a MetricDataResult.
type cwResult struct {
	ID         string                     `json:"Id" xml:"Id"`
	Label      string                     `json:"Label" xml:"Label"`
	Timestamps xmlMembers[wire.Timestamp] `json:"Timestamps" xml:"Timestamps"`
	Values     xmlMembers[float64]        `json:"Values" xml:"Values"`
	StatusCode string                     `json:"StatusCode" xml:"StatusCode"`
}

// cwOutput is GetMetricDataOutput (json tags for JSON 1.0 and CBOR, xml
// tags for the children of <GetMetricDataResult>).
type cwOutput struct {
	MetricDataResults xmlMembers[cwResult]  `json:"MetricDataResults" xml:"MetricDataResults"`
	NextToken         string                `json:"NextToken,omitempty" xml:"NextToken,omitempty"`
	Messages          xmlMembers[cwMessage] `json:"Messages" xml:"Messages"`
}

func (s *Server) registerCloudWatch() {
	s.register(wire.ServiceCloudWatch, "GetMetricData", func(c *call) (any, *wire.APIError) {
		in, aerr := decodeGetMetricData(c.req)
		if aerr != nil {
			return nil, aerr
		}
		return c.w.getMetricData(in, c.now)
	})
}

func cwInvalid(format string, args ...any) *wire.APIError {
	return wire.BadRequest("ValidationError", format, args...)
}

// decodeGetMetricData reads the input from a query form or a JSON/CBOR body.
func decodeGetMetricData(req *wire.Request) (*cwInput, *wire.APIError) {
	in := &cwInput{}
	if req.Protocol != wire.AWSQuery {
		if err := wire.DecodeJSON(req, in); err != nil {
			return nil, err
		}
		return in, nil
	}
	f := req.Form
	for _, m := range f.MemberStructs("MetricDataQueries") {
		q := cwQuery{ID: m.String("Id"), Expression: m.String("Expression"), Label: m.String("Label"), AccountID: m.String("AccountId")}
		if s := m.String("ReturnData"); s != "" {
			b := strings.EqualFold(s, "true")
			q.ReturnData = &b
		}
		p, _, aerr := m.Int("Period")
		if aerr != nil {
			return nil, aerr
		}
		q.Period = p
		if m.Has("MetricStat") {
			ms := m.Sub("MetricStat")
			mt := ms.Sub("Metric")
			st := &cwMetricStat{Metric: cwMetric{Namespace: mt.String("Namespace"), MetricName: mt.String("MetricName")},
				Stat: ms.String("Stat"), Unit: ms.String("Unit")}
			for _, d := range mt.MemberStructs("Dimensions") {
				st.Metric.Dimensions = append(st.Metric.Dimensions, cwDimension{Name: d.String("Name"), Value: d.String("Value")})
			}
			if st.Period, _, aerr = ms.Int("Period"); aerr != nil {
				return nil, aerr
			}
			q.MetricStat = st
		}
		in.MetricDataQueries = append(in.MetricDataQueries, q)
	}
	for _, k := range []struct {
		name string
		dst  **wire.Timestamp
	}{{"StartTime", &in.StartTime}, {"EndTime", &in.EndTime}} {
		if s := f.String(k.name); s != "" {
			t, err := wire.ParseTime(s)
			if err != nil {
				return nil, wire.BadRequest("InvalidParameterValue", "Value (%s) for parameter %s is invalid. Expected: 'Timestamp'.", s, k.name)
			}
			*k.dst = &wire.Timestamp{Time: t}
		}
	}
	in.NextToken, in.ScanBy = f.String("NextToken"), f.String("ScanBy")
	if n, ok, aerr := f.Int("MaxDatapoints"); aerr != nil {
		return nil, aerr
	} else if ok {
		in.MaxDatapoints = &n
	}
	return in, nil
}

// reQueryID is what CloudWatch accepts as a query Id: a lowercase letter
// first, then letters, digits and underscores.
var reQueryID = regexp.MustCompile(`^[a-z][a-zA-Z0-9_]*$`)

// validPeriod reports whether CloudWatch accepts a period: 1, 5, 10, 20 or
// 30 seconds (high resolution) or a multiple of 60.
func validPeriod(p int) bool {
	switch p {
	case 1, 5, 10, 20, 30:
		return true
	}
	return p > 0 && p%60 == 0
}

// series is the data of one query: values keyed by bucket start (Unix
// seconds), on the grid start + k*period.
type series struct {
	period int
	start  time.Time
	end    time.Time // of the grid; data stops at now
	points map[int64]float64
}

// getMetricData validates the request, evaluates every query and returns
// the page of datapoints asked for.
func (w *World) getMetricData(in *cwInput, now time.Time) (any, *wire.APIError) {
	if in.StartTime == nil {
		return nil, cwInvalid("1 validation error detected: Value null at 'startTime' failed to satisfy constraint: Member must not be null")
	}
	if in.EndTime == nil {
		return nil, cwInvalid("1 validation error detected: Value null at 'endTime' failed to satisfy constraint: Member must not be null")
	}
	start, end := in.StartTime.Time, in.EndTime.Time
	if start.Equal(end) {
		return nil, cwInvalid("The parameter StartTime must not equal parameter EndTime.")
	}
	if start.After(end) {
		return nil, cwInvalid("The parameter StartTime must be less than the parameter EndTime.")
	}
	if len(in.MetricDataQueries) == 0 {
		return nil, cwInvalid("1 validation error detected: Value null at 'metricDataQueries' failed to satisfy constraint: Member must not be null")
	}
	if len(in.MetricDataQueries) > cwMaxQueries {
		return nil, cwInvalid("The collection MetricDataQueries must not have a size greater than %d.", cwMaxQueries)
	}
	scanAsc := false
	switch in.ScanBy {
	case "", "TimestampDescending":
	case "TimestampAscending":
		scanAsc = true
	default:
		return nil, cwInvalid("1 validation error detected: Value '%s' at 'scanBy' failed to satisfy constraint: Member must satisfy enum value set: [TimestampDescending, TimestampAscending]", in.ScanBy)
	}
	maxPoints := cwDefaultDatapoint
	if in.MaxDatapoints != nil {
		if *in.MaxDatapoints < 1 {
			return nil, cwInvalid("The parameter MaxDatapoints must be greater than 0.")
		}
		maxPoints = *in.MaxDatapoints
	}
	byID := map[string]*cwQuery{}
	for i := range in.MetricDataQueries {
		q := &in.MetricDataQueries[i]
		member := fmt.Sprintf("MetricDataQueries.member.%d", i+1)
		if !reQueryID.MatchString(q.ID) {
			return nil, cwInvalid("The value %s for parameter %s.Id is not valid: an Id must start with a lowercase letter and contain only letters, numbers and underscores.", q.ID, member)
		}
		if _, dup := byID[q.ID]; dup {
			return nil, cwInvalid("The values for parameter id in MetricDataQueries are not unique.")
		}
		byID[q.ID] = q
		switch {
		case q.MetricStat != nil && q.Expression != "":
			return nil, cwInvalid("The parameter %s.Expression must not be specified together with %s.MetricStat.", member, member)
		case q.MetricStat == nil && q.Expression == "":
			return nil, cwInvalid("The parameter %s.MetricStat is required when %s.Expression is not specified.", member, member)
		case q.MetricStat != nil:
			ms := q.MetricStat
			if ms.Metric.MetricName == "" || ms.Stat == "" {
				return nil, cwInvalid("The parameters %s.MetricStat.Metric.MetricName and %s.MetricStat.Stat are required.", member, member)
			}
			if !validPeriod(ms.Period) {
				return nil, cwInvalid("The value %d for parameter %s.MetricStat.Period is not valid: it must be 1, 5, 10, 20, 30 or a multiple of 60.", ms.Period, member)
			}
			if _, ok := parseStat(ms.Stat); !ok {
				return nil, cwInvalid("The value %s for parameter %s.MetricStat.Stat is not a valid statistic.", ms.Stat, member)
			}
		}
		if q.Period != 0 && !validPeriod(q.Period) {
			return nil, cwInvalid("The value %d for parameter %s.Period is not valid: it must be 1, 5, 10, 20, 30 or a multiple of 60.", q.Period, member)
		}
	}

	ev := &evaluator{w: w, now: now, start: start, end: end, queries: byID, done: map[string]*series{}, busy: map[string]bool{}}
	type out struct {
		q    *cwQuery
		ts   []int64
		vals []float64
	}
	var outs []out
	total := 0
	for i := range in.MetricDataQueries {
		q := &in.MetricDataQueries[i]
		s, aerr := ev.eval(q.ID)
		if aerr != nil {
			return nil, aerr
		}
		if q.ReturnData != nil && !*q.ReturnData {
			continue
		}
		o := out{q: q}
		for t := range s.points {
			o.ts = append(o.ts, t)
		}
		sort.Slice(o.ts, func(a, b int) bool {
			if scanAsc {
				return o.ts[a] < o.ts[b]
			}
			return o.ts[a] > o.ts[b]
		})
		for _, t := range o.ts {
			o.vals = append(o.vals, s.points[t])
		}
		total += len(o.ts)
		outs = append(outs, o)
	}

	// Pages cut the concatenation of the returned series, in query order,
	// at MaxDatapoints; a series with points left for later pages reports
	// PartialData, as CloudWatch does. The token is tied to the request.
	first, last, next, perr := wire.Page("GetMetricData/"+requestFingerprint(in), total, in.NextToken, maxPoints, cwDefaultDatapoint)
	if perr != nil {
		return nil, perr
	}
	res := &cwOutput{MetricDataResults: xmlMembers[cwResult]{}, Messages: xmlMembers[cwMessage]{}, NextToken: next}
	offset := 0
	for _, o := range outs {
		r := cwResult{ID: o.q.ID, Label: o.q.Label, StatusCode: "Complete",
			Timestamps: xmlMembers[wire.Timestamp]{}, Values: xmlMembers[float64]{}}
		if r.Label == "" {
			r.Label = o.q.ID
			if o.q.MetricStat != nil {
				r.Label = o.q.MetricStat.Metric.MetricName
			}
		}
		lo, hi := max(first-offset, 0), min(last-offset, len(o.ts))
		for j := lo; j < hi; j++ {
			r.Timestamps = append(r.Timestamps, wire.TS(time.Unix(o.ts[j], 0).UTC()))
			r.Values = append(r.Values, o.vals[j])
		}
		if offset+len(o.ts) > last {
			r.StatusCode = "PartialData"
		}
		offset += len(o.ts)
		res.MetricDataResults = append(res.MetricDataResults, r)
	}
	return res, nil
}

// requestFingerprint identifies a request's window and queries, so a
// NextToken is only accepted for the request that produced it.
func requestFingerprint(in *cwInput) string {
	b, _ := json.Marshal(struct {
		Q          []cwQuery
		Start, End int64
		Scan       string
	}{in.MetricDataQueries, in.StartTime.Unix(), in.EndTime.Unix(), in.ScanBy})
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:8])
}

// evaluator computes query series, memoised, detecting cycles among expressions.
type evaluator struct {
	w          *World
	now        time.Time
	start, end time.Time
	queries    map[string]*cwQuery
	done       map[string]*series
	busy       map[string]bool
}

func (ev *evaluator) eval(id string) (*series, *wire.APIError) {
	if s, ok := ev.done[id]; ok {
		return s, nil
	}
	q := ev.queries[id]
	if ev.busy[id] {
		return nil, cwInvalid("Error in expression '%s': circular reference to '%s'.", q.Expression, id)
	}
	ev.busy[id] = true
	defer delete(ev.busy, id)
	var s *series
	if q.MetricStat != nil {
		s = ev.w.metricSeries(q.MetricStat, ev.start, ev.end, ev.now)
	} else {
		e, err := parseExpression(q.Expression)
		if err != nil {
			return nil, cwInvalid("Error in expression '%s' of query '%s': %v.", q.Expression, id, err)
		}
		v, aerr := e.eval(ev)
		if aerr != nil {
			return nil, aerr
		}
		if v.series == nil {
			// A constant: CloudWatch needs a period to place it; without
			// one the series is empty.
			v.series = &series{points: map[int64]float64{}}
		}
		s = v.series
	}
	ev.done[id] = s
	return s, nil
}

// statKind classifies a statistic.
type statKind struct {
	name string  // Sum, SampleCount, Average, Minimum, Maximum, or "p"
	pct  float64 // for percentiles, 0..100
}

var (
	rePercentile = regexp.MustCompile(`^p(\d{1,2}(\.\d{1,10})?|100)$`)
	reOtherStat  = regexp.MustCompile(`^((tm|wm|tc|ts)\d{1,2}(\.\d{1,10})?|(TM|WM|TC|TS)\([0-9.%:]*\)|IQM)$`)
)

// parseStat reads a statistic: the five basic ones, percentiles (p99), and
// the trimmed/winsorized statistics, which the model answers with its
// mean (tm, wm, IQM), sample count (tc) or sum (ts).
func parseStat(s string) (statKind, bool) {
	switch s {
	case "Sum", "SampleCount", "Average", "Minimum", "Maximum":
		return statKind{name: s}, true
	}
	if m := rePercentile.FindStringSubmatch(s); m != nil {
		p, _ := strconv.ParseFloat(m[1], 64)
		return statKind{name: "p", pct: p}, true
	}
	if reOtherStat.MatchString(s) {
		switch strings.ToLower(s[:2]) {
		case "tc":
			return statKind{name: "SampleCount"}, true
		case "ts":
			return statKind{name: "Sum"}, true
		}
		return statKind{name: "Average"}, true
	}
	return statKind{}, false
}

// retention is how long CloudWatch keeps datapoints of a period: 3 hours
// below a minute, 15 days at 1 to 4 minutes, 63 days at multiples of 5
// minutes, 455 days at multiples of an hour (GetMetricData's documentation).
func retention(period int) time.Duration {
	const day = 24 * time.Hour
	switch {
	case period < 60:
		return 3 * time.Hour
	case period%3600 == 0:
		return 455 * day
	case period%300 == 0:
		return 63 * day
	}
	return 15 * day
}

// alignStart rounds StartTime down as CloudWatch does: to the minute for
// recent data (to the 5-minute and hour clock intervals past 15 and 63
// days), and for sub-minute periods to an even division of the minute by
// the period. Buckets then step by the period from there.
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricData.html#API_GetMetricData_RequestParameters
func alignStart(start time.Time, period int, now time.Time) time.Time {
	age := now.Sub(start)
	switch {
	case period < 60:
		return start.Truncate(time.Duration(period) * time.Second)
	case age > 63*24*time.Hour:
		return start.Truncate(time.Hour)
	case age > 15*24*time.Hour:
		return start.Truncate(5 * time.Minute)
	}
	return start.Truncate(time.Minute)
}

// albMetric describes one AWS/ApplicationELB metric the emulator computes.
type albMetric struct {
	unit string
	kind string // "count", "errors", "latency", "healthy", "unhealthy"
}

var albMetrics = map[string]albMetric{
	"RequestCount":              {unit: "Count", kind: "count"},
	"HTTPCode_Target_5XX_Count": {unit: "Count", kind: "errors"},
	"TargetResponseTime":        {unit: "Seconds", kind: "latency"},
	"HealthyHostCount":          {unit: "Count", kind: "healthy"},
	"UnHealthyHostCount":        {unit: "Count", kind: "unhealthy"},
}

// flow is the traffic of one rule to one target group.
type flow struct {
	rule    *Rule
	tg      *TargetGroup
	rps     []RPSChange    // the rule's requests per second over time
	weights []WeightChange // the rule's forward weights over time
	traffic []ClusterTrafficChange
}

// metricSeries computes a MetricStat's series. A metric the model does not
// publish (another namespace, name or dimension set) has no data: CloudWatch
// returns an empty, Complete series for metrics that do not exist.
func (w *World) metricSeries(ms *cwMetricStat, start, end, now time.Time) *series {
	p := ms.Period
	s := &series{period: p, start: alignStart(start, p, now), end: end, points: map[int64]float64{}}
	m, ok := albMetrics[ms.Metric.MetricName]
	if ms.Metric.Namespace != albNamespace || !ok || (ms.Unit != "" && ms.Unit != m.unit) {
		return s
	}
	dims := map[string]string{}
	for _, d := range ms.Metric.Dimensions {
		if _, dup := dims[d.Name]; dup {
			return s
		}
		dims[d.Name] = d.Value
	}
	tgDim, hasTG := dims["TargetGroup"]
	lbDim, hasLB := dims["LoadBalancer"]
	if len(dims) != btoi(hasTG)+btoi(hasLB) || len(dims) == 0 {
		return s
	}
	var tg *TargetGroup
	if hasTG {
		if tg = w.targetGroupByDimension(tgDim); tg == nil {
			return s
		}
	}
	lbARN := ""
	if hasLB {
		if lbARN = w.loadBalancerByDimension(lbDim); lbARN == "" {
			return s
		}
	}
	flows := w.flows(tg, lbARN)
	stat, _ := parseStat(ms.Stat)

	// The buckets with data: from the later of the aligned start and the
	// retention horizon, up to now (there is no data in the future).
	step := time.Duration(p) * time.Second
	first := s.start
	if horizon := now.Add(-retention(p)); first.Before(horizon) {
		first = first.Add(horizon.Sub(first).Truncate(step))
	}
	// Host counts sample the targets up to once a minute, within a budget
	// of samples per query so that long windows stay cheap.
	buckets := int(math.Ceil(math.Min(end.Sub(first).Seconds(), now.Sub(first).Seconds()) / float64(p)))
	samples := max(1, min(60, (p+59)/60, hostSampleBudget/max(buckets, 1)))
	for t := first; t.Before(end) && t.Before(now); t = t.Add(step) {
		e := t.Add(step)
		if e.After(now) {
			e = now
		}
		var v float64
		var has bool
		switch m.kind {
		case "healthy", "unhealthy":
			if tg == nil { // host counts are per target group
				continue
			}
			v, has = w.hostCount(tg, flows, m.kind == "healthy", t, e, samples, stat)
		default:
			v, has = integrate(flows, t, e).value(m.kind, stat, e.Sub(t))
		}
		if has {
			s.points[t.Unix()] = v
		}
	}
	return s
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// targetGroupByDimension finds a target group by its TargetGroup dimension
// value, "targetgroup/<name>/<id>" (the end of its ARN).
func (w *World) targetGroupByDimension(v string) *TargetGroup {
	for _, arn := range sortedKeys(w.TargetGroups) {
		if strings.HasSuffix(arn, ":"+v) {
			return w.TargetGroups[arn]
		}
	}
	return nil
}

// loadBalancerByDimension finds a load balancer by its LoadBalancer
// dimension value, "app/<name>/<id>" (its ARN after "loadbalancer/").
func (w *World) loadBalancerByDimension(v string) string {
	for _, arn := range sortedKeys(w.LoadBalancers) {
		if strings.HasSuffix(arn, ":loadbalancer/"+v) {
			return arn
		}
	}
	return ""
}

// flows lists the traffic behind a metric: every rule (of the load balancer
// lbARN when given) that forwarded to the target group (to any group when
// tg is nil) at some time, with its requests per second and the traffic
// model of the group's cluster.
func (w *World) flows(tg *TargetGroup, lbARN string) []flow {
	var out []flow
	for _, arn := range sortedKeys(w.Rules) {
		r := w.Rules[arn]
		if lbARN != "" {
			l, ok := w.Listeners[r.Listener]
			if !ok || l.LoadBalancer != lbARN {
				continue
			}
		}
		hist := r.History
		if len(hist) == 0 {
			hist = []WeightChange{{Weights: forwardWeights(r)}}
		}
		groups := map[string]bool{}
		for _, h := range hist {
			for g := range h.Weights {
				groups[g] = true
			}
		}
		for _, g := range sortedKeys(groups) {
			if tg != nil && g != tg.ARN {
				continue
			}
			target, ok := w.TargetGroups[g]
			if !ok {
				continue
			}
			out = append(out, flow{rule: r, tg: target, rps: w.Traffic.RuleRPS[arn], weights: hist,
				traffic: w.Traffic.Clusters[target.Cluster]})
		}
	}
	return out
}

// forwardWeights is a rule's current forward weights by target group.
func forwardWeights(r *Rule) map[string]int {
	weights := map[string]int{}
	for _, a := range r.Actions {
		if a.Type != "forward" {
			continue
		}
		if a.Forward != nil {
			for _, t := range a.Forward.TargetGroups {
				weights[t.ARN] += t.Weight
			}
		} else if a.TargetGroupARN != "" {
			weights[a.TargetGroupARN] = 1
		}
	}
	return weights
}

// defaultClusterTraffic is how pods answer when the scenario gives their
// cluster no traffic model: no errors, 100 ms at p99.
var defaultClusterTraffic = scenario.ClusterTraffic{P99Ms: 100}

// agg accumulates the traffic of a bucket.
type agg struct {
	requests float64
	errors   float64
	// meanSum is Σ requests × mean response time (s); lnP50Sum and
	// sigmaSum the request-weighted log-normal parameters.
	meanSum, lnP50Sum, sigmaSum float64
}

// z99 is the standard normal quantile of 0.99.
var z99 = math.Sqrt2 * math.Erfinv(0.98)

// integrate adds up the requests of the flows over [a, e), piecewise over
// the rules' weight and request-rate history and the clusters' traffic history: requests =
// Σ RPS × weight / total weight of the rule's forward action × seconds,
// 5xx = requests × the cluster's error rate in force at each instant.
func integrate(flows []flow, a, e time.Time) agg {
	var g agg
	for _, f := range flows {
		if len(f.rps) == 0 {
			continue
		}
		ri := sort.Search(len(f.rps), func(i int) bool { return f.rps[i].At.After(a) }) - 1
		wi := sort.Search(len(f.weights), func(i int) bool { return f.weights[i].At.After(a) }) - 1
		ci := sort.Search(len(f.traffic), func(i int) bool { return f.traffic[i].At.After(a) }) - 1
		for t := a; t.Before(e); {
			next := e
			if wi+1 < len(f.weights) && f.weights[wi+1].At.Before(next) {
				next = f.weights[wi+1].At
			}
			if ci+1 < len(f.traffic) && f.traffic[ci+1].At.Before(next) {
				next = f.traffic[ci+1].At
			}
			if ri+1 < len(f.rps) && f.rps[ri+1].At.Before(next) {
				next = f.rps[ri+1].At
			}
			if wi >= 0 && ri >= 0 { // before its first weights the rule did not exist
				frac := share(f.weights[wi].Weights, f.tg.ARN)
				ct := defaultClusterTraffic
				if ci >= 0 {
					ct = f.traffic[ci].ClusterTraffic
				}
				if n := f.rps[ri].RPS * frac * next.Sub(t).Seconds(); n > 0 {
					g.add(n, ct)
				}
			}
			t = next
			for wi+1 < len(f.weights) && !f.weights[wi+1].At.After(t) {
				wi++
			}
			for ci+1 < len(f.traffic) && !f.traffic[ci+1].At.After(t) {
				ci++
			}
			for ri+1 < len(f.rps) && !f.rps[ri+1].At.After(t) {
				ri++
			}
		}
	}
	return g
}

// share is a target group's fraction of a forward action's weights.
func share(weights map[string]int, tg string) float64 {
	total := 0
	for _, w := range weights {
		total += w
	}
	if total <= 0 {
		return 0
	}
	return float64(weights[tg]) / float64(total)
}

// add accounts n requests answered as ct says. Response times are
// log-normal: p50 = P50Ms (default p99/4), and σ such that p99 = P99Ms; the
// mean is p50 × exp(σ²/2), about 1.2 × p50 when p99 = 4 × p50.
func (g *agg) add(n float64, ct scenario.ClusterTraffic) {
	p99 := ct.P99Ms / 1000
	p50 := ct.P50Ms / 1000
	if p50 <= 0 {
		p50 = p99 / 4
	}
	if p50 <= 0 {
		p50 = 0.001
	}
	sigma := 0.0
	if p99 > p50 {
		sigma = math.Log(p99/p50) / z99
	}
	g.requests += n
	g.errors += n * ct.ErrorRate
	g.meanSum += n * p50 * math.Exp(sigma*sigma/2)
	g.lnP50Sum += n * math.Log(p50)
	g.sigmaSum += n * sigma
}

// value is a bucket's statistic of a request metric. Counts are whole
// numbers; buckets without requests (or without 5xx) have no datapoint,
// as a load balancer publishes nothing when no requests flow. Count
// statistics treat the bucket as per-minute samples of equal size.
func (g agg) value(kind string, stat statKind, width time.Duration) (float64, bool) {
	requests := math.Round(g.requests)
	if requests < 1 {
		return 0, false
	}
	samples := math.Max(1, math.Ceil(width.Seconds()/60))
	switch kind {
	case "count", "errors":
		sum := requests
		if kind == "errors" {
			sum = math.Round(g.errors)
			if sum < 1 {
				return 0, false
			}
		}
		switch stat.name {
		case "Sum":
			return sum, true
		case "SampleCount":
			return samples, true
		}
		return sum / samples, true
	}
	// TargetResponseTime: a mixture of the bucket's log-normal answers,
	// approximated by the request-weighted log-normal parameters; the
	// mean is exact.
	mean := g.meanSum / g.requests
	mu, sigma := g.lnP50Sum/g.requests, g.sigmaSum/g.requests
	quantile := func(q float64) float64 { return math.Exp(mu + sigma*math.Sqrt2*math.Erfinv(2*q-1)) }
	switch stat.name {
	case "Average":
		return mean, true
	case "Sum":
		return mean * requests, true
	case "SampleCount":
		return requests, true
	case "Minimum":
		return quantile(0.001), true
	case "Maximum":
		return quantile(0.999), true
	}
	q := math.Min(math.Max(stat.pct/100, 0.001), 0.999)
	return quantile(q), true
}

// hostSampleBudget bounds the target-health samples of one query.
const hostSampleBudget = 20000

// hostCount samples a target group's healthy (or unhealthy) targets up to
// maxSamples times, evenly over [a, e). The group reports it while a rule
// of its flows exists, whether or not it receives requests, as a load
// balancer publishes host counts for every group it routes to. Targets
// are those registered now (a deregistered target leaves no trace).
func (w *World) hostCount(tg *TargetGroup, flows []flow, healthy bool, a, e time.Time, maxSamples int, stat statKind) (float64, bool) {
	var since time.Time
	for _, f := range flows {
		if len(f.weights) > 0 && (since.IsZero() || f.weights[0].At.Before(since)) {
			since = f.weights[0].At
		}
	}
	if len(flows) == 0 || !since.Before(e) {
		return 0, false
	}
	if a.Before(since) {
		a = since
	}
	n := int(math.Ceil(e.Sub(a).Seconds() / 60))
	n = min(max(n, 1), maxSamples)
	step := e.Sub(a) / time.Duration(n)
	want := "unhealthy"
	if healthy {
		want = "healthy"
	}
	var sum, lo, hi float64
	for i := 0; i < n; i++ {
		at := a.Add(time.Duration(i) * step)
		count := 0.0
		for _, t := range tg.Targets {
			if t.RegisteredAt.After(at) {
				continue
			}
			if state, _, _ := w.targetHealth(tg, t, at); state == want {
				count++
			}
		}
		sum += count
		if i == 0 || count < lo {
			lo = count
		}
		if i == 0 || count > hi {
			hi = count
		}
	}
	switch stat.name {
	case "Sum":
		return sum, true
	case "SampleCount":
		return float64(n), true
	case "Minimum":
		return lo, true
	case "Maximum":
		return hi, true
	}
	return sum / float64(n), true
}

// Metric math: arithmetic (+ - * /, parentheses, unary minus) over query
// ids and numbers, and FILL(series, value).
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/using-metric-math.html

// mathValue is a series or a scalar.
type mathValue struct {
	series *series
	scalar float64
}

// mathExpr is a parsed expression.
type mathExpr interface {
	eval(ev *evaluator) (mathValue, *wire.APIError)
}

type numExpr float64

func (n numExpr) eval(*evaluator) (mathValue, *wire.APIError) {
	return mathValue{scalar: float64(n)}, nil
}

type refExpr string

func (r refExpr) eval(ev *evaluator) (mathValue, *wire.APIError) {
	if _, ok := ev.queries[string(r)]; !ok {
		return mathValue{}, cwInvalid("Error in expression: Unrecognized metric id '%s'.", string(r))
	}
	s, err := ev.eval(string(r))
	return mathValue{series: s}, err
}

type binExpr struct {
	op   byte
	l, r mathExpr
}

func (b binExpr) eval(ev *evaluator) (mathValue, *wire.APIError) {
	l, err := b.l.eval(ev)
	if err != nil {
		return mathValue{}, err
	}
	r, err := b.r.eval(ev)
	if err != nil {
		return mathValue{}, err
	}
	apply := func(x, y float64) (float64, bool) {
		var v float64
		switch b.op {
		case '+':
			v = x + y
		case '-':
			v = x - y
		case '*':
			v = x * y
		case '/':
			v = x / y
		}
		return v, !math.IsNaN(v) && !math.IsInf(v, 0)
	}
	switch {
	case l.series == nil && r.series == nil:
		v, _ := apply(l.scalar, r.scalar)
		return mathValue{scalar: v}, nil
	case l.series != nil && r.series != nil:
		// Two series combine at the timestamps both have.
		out := &series{period: l.series.period, start: l.series.start, end: l.series.end, points: map[int64]float64{}}
		for t, x := range l.series.points {
			if y, ok := r.series.points[t]; ok {
				if v, ok := apply(x, y); ok {
					out.points[t] = v
				}
			}
		}
		return mathValue{series: out}, nil
	}
	src, scalar, left := l.series, r.scalar, true
	if src == nil {
		src, scalar, left = r.series, l.scalar, false
	}
	out := &series{period: src.period, start: src.start, end: src.end, points: map[int64]float64{}}
	for t, x := range src.points {
		var v float64
		var ok bool
		if left {
			v, ok = apply(x, scalar)
		} else {
			v, ok = apply(scalar, x)
		}
		if ok {
			out.points[t] = v
		}
	}
	return mathValue{series: out}, nil
}

type fillExpr struct {
	x     mathExpr
	value float64
}

// eval fills the buckets of the series' grid that have no value, up to now.
func (f fillExpr) eval(ev *evaluator) (mathValue, *wire.APIError) {
	v, err := f.x.eval(ev)
	if err != nil || v.series == nil {
		return v, err
	}
	src := v.series
	out := &series{period: src.period, start: src.start, end: src.end, points: map[int64]float64{}}
	step := time.Duration(src.period) * time.Second
	first := src.start
	if horizon := ev.now.Add(-retention(src.period)); first.Before(horizon) {
		first = first.Add(horizon.Sub(first).Truncate(step))
	}
	for t := first; step > 0 && t.Before(src.end) && t.Before(ev.now); t = t.Add(step) {
		out.points[t.Unix()] = f.value
	}
	for t, x := range src.points {
		out.points[t] = x
	}
	return mathValue{series: out}, nil
}

// parseExpression parses a metric math expression.
func parseExpression(s string) (mathExpr, error) {
	p := &mathParser{src: s}
	p.next()
	e, err := p.sum()
	if err != nil {
		return nil, err
	}
	if p.tok != "" {
		return nil, fmt.Errorf("unexpected %q", p.tok)
	}
	return e, nil
}

type mathParser struct {
	src string
	pos int
	tok string
}

var reMathToken = regexp.MustCompile(`^(\s*)([0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?|[A-Za-z_][A-Za-z0-9_]*|[-+*/(),])`)

// next advances to the next token ("" at the end; "?" for garbage).
func (p *mathParser) next() {
	rest := p.src[p.pos:]
	if strings.TrimSpace(rest) == "" {
		p.tok, p.pos = "", len(p.src)
		return
	}
	m := reMathToken.FindStringSubmatch(rest)
	if m == nil {
		p.tok = "?" + strings.TrimSpace(rest)
		return
	}
	p.tok = m[2]
	p.pos += len(m[0])
}

func (p *mathParser) sum() (mathExpr, error) {
	l, err := p.product()
	if err != nil {
		return nil, err
	}
	for p.tok == "+" || p.tok == "-" {
		op := p.tok[0]
		p.next()
		r, err := p.product()
		if err != nil {
			return nil, err
		}
		l = binExpr{op: op, l: l, r: r}
	}
	return l, nil
}

func (p *mathParser) product() (mathExpr, error) {
	l, err := p.unary()
	if err != nil {
		return nil, err
	}
	for p.tok == "*" || p.tok == "/" {
		op := p.tok[0]
		p.next()
		r, err := p.unary()
		if err != nil {
			return nil, err
		}
		l = binExpr{op: op, l: l, r: r}
	}
	return l, nil
}

func (p *mathParser) unary() (mathExpr, error) {
	if p.tok == "-" {
		p.next()
		x, err := p.unary()
		if err != nil {
			return nil, err
		}
		if n, ok := x.(numExpr); ok {
			return -n, nil
		}
		return binExpr{op: '-', l: numExpr(0), r: x}, nil
	}
	return p.primary()
}

func (p *mathParser) primary() (mathExpr, error) {
	tok := p.tok
	switch {
	case tok == "":
		return nil, fmt.Errorf("unexpected end of expression")
	case tok == "(":
		p.next()
		e, err := p.sum()
		if err != nil {
			return nil, err
		}
		if p.tok != ")" {
			return nil, fmt.Errorf("missing ')'")
		}
		p.next()
		return e, nil
	case tok[0] >= '0' && tok[0] <= '9':
		v, err := strconv.ParseFloat(tok, 64)
		if err != nil {
			return nil, fmt.Errorf("invalid number %q", tok)
		}
		p.next()
		return numExpr(v), nil
	case tok == "FILL":
		p.next()
		if p.tok != "(" {
			return nil, fmt.Errorf("FILL needs arguments")
		}
		p.next()
		x, err := p.sum()
		if err != nil {
			return nil, err
		}
		if p.tok != "," {
			return nil, fmt.Errorf("FILL takes a series and a value")
		}
		p.next()
		v, err := p.sum()
		if err != nil {
			return nil, err
		}
		n, ok := v.(numExpr)
		if !ok {
			return nil, fmt.Errorf("the value of FILL must be a number")
		}
		if p.tok != ")" {
			return nil, fmt.Errorf("missing ')'")
		}
		p.next()
		return fillExpr{x: x, value: float64(n)}, nil
	case tok[0] >= 'a' && tok[0] <= 'z':
		p.next()
		return refExpr(tok), nil
	case tok[0] >= 'A' && tok[0] <= 'Z' || tok[0] == '_':
		return nil, fmt.Errorf("unknown function or identifier %q", tok)
	}
	return nil, fmt.Errorf("unexpected %q", strings.TrimPrefix(tok, "?"))
}
