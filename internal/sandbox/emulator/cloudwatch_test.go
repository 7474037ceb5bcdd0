package emulator_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/smithy-go"

	"github.com/eksbg/eksbg/internal/sandbox/emulator"
	"github.com/eksbg/eksbg/internal/sandbox/sandboxtest"
)

// cwDemo is the demo world on a fake clock, with the dimensions of its
// load balancer and target groups and the ARN of its "web" rule.
type cwDemo struct {
	env               *sandboxtest.Env
	clock             *sandboxtest.Clock
	t0                time.Time
	cw                *cloudwatch.Client
	lb, blue, green   string // dimension values
	ruleARN           string
	blueARN, greenARN string
}

func startCWDemo(t *testing.T) *cwDemo {
	t.Helper()
	t0 := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	clock := sandboxtest.NewClock(t0)
	env := sandboxtest.StartScenario(t, "demo", sandboxtest.WithClock(clock.Now))
	d := &cwDemo{env: env, clock: clock, t0: t0, cw: cloudwatch.NewFromConfig(env.AWS)}
	env.Server.View(func(w *emulator.World) {
		for arn, tg := range w.TargetGroups {
			suffix := arn[strings.LastIndex(arn, ":")+1:]
			switch tg.Name {
			case "demo-blue-web":
				d.blue, d.blueARN = suffix, arn
			case "demo-green-web":
				d.green, d.greenARN = suffix, arn
			}
		}
		for arn := range w.LoadBalancers {
			d.lb = arn[strings.Index(arn, ":loadbalancer/")+len(":loadbalancer/"):]
		}
		for arn, r := range w.Rules {
			if r.Tags["Name"] == "web" {
				d.ruleARN = arn
			}
		}
	})
	if d.blue == "" || d.green == "" || d.ruleARN == "" || !strings.HasPrefix(d.lb, "app/demo-alb/") {
		t.Fatalf("demo world: blue %q green %q lb %q rule %q", d.blue, d.green, d.lb, d.ruleARN)
	}
	return d
}

// query builds a MetricDataQuery on an ALB target-group metric.
func (d *cwDemo) query(id, metric, tg, stat string, period int32) cwtypes.MetricDataQuery {
	return cwtypes.MetricDataQuery{Id: aws.String(id), MetricStat: &cwtypes.MetricStat{
		Metric: &cwtypes.Metric{Namespace: aws.String("AWS/ApplicationELB"), MetricName: aws.String(metric),
			Dimensions: []cwtypes.Dimension{{Name: aws.String("TargetGroup"), Value: aws.String(tg)}, {Name: aws.String("LoadBalancer"), Value: aws.String(d.lb)}}},
		Period: aws.Int32(period), Stat: aws.String(stat)}}
}

// get runs GetMetricData through the SDK (RPC v2 CBOR), ascending.
func (d *cwDemo) get(t *testing.T, start, end time.Time, qs ...cwtypes.MetricDataQuery) map[string]cwtypes.MetricDataResult {
	t.Helper()
	out, err := d.cw.GetMetricData(context.Background(), &cloudwatch.GetMetricDataInput{StartTime: aws.Time(start), EndTime: aws.Time(end),
		MetricDataQueries: qs, ScanBy: cwtypes.ScanByTimestampAscending})
	if err != nil {
		t.Fatal(err)
	}
	if out.NextToken != nil {
		t.Fatalf("unexpected NextToken %q", *out.NextToken)
	}
	res := map[string]cwtypes.MetricDataResult{}
	for _, r := range out.MetricDataResults {
		if r.StatusCode != cwtypes.StatusCodeComplete || len(r.Timestamps) != len(r.Values) {
			t.Fatalf("result %s: status %s, %d timestamps, %d values", aws.ToString(r.Id), r.StatusCode, len(r.Timestamps), len(r.Values))
		}
		res[aws.ToString(r.Id)] = r
	}
	return res
}

// point is one datapoint.
type point struct {
	at time.Time
	v  float64
}

func points(r cwtypes.MetricDataResult) []point {
	var out []point
	for i := range r.Timestamps {
		out = append(out, point{r.Timestamps[i].UTC(), r.Values[i]})
	}
	return out
}

func near(got, want, tolerance float64) bool {
	return math.Abs(got-want) <= math.Abs(want)*tolerance
}

// checkSeries compares a series with the expected datapoints (to 1%).
func checkSeries(t *testing.T, name string, got []point, want []point) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: got %d datapoints %v, want %v", name, len(got), got, want)
	}
	for i := range want {
		if !got[i].at.Equal(want[i].at) || !near(got[i].v, want[i].v, 0.01) {
			t.Fatalf("%s: datapoint %d is %v = %v, want %v = %v", name, i, got[i].at, got[i].v, want[i].at, want[i].v)
		}
	}
}

// TestCloudWatchWeightShift: the demo's "web" rule serves 200 requests a
// second, all to blue; the metrics follow a 50/50 weight shift from the
// instant of the ModifyRule on, and buckets straddling it are time-weighted.
func TestCloudWatchWeightShift(t *testing.T) {
	d := startCWDemo(t)
	t0 := d.t0
	res := d.get(t, t0.Add(-5*time.Minute), t0,
		d.query("blue", "RequestCount", d.blue, "Sum", 300), d.query("green", "RequestCount", d.green, "Sum", 300))
	checkSeries(t, "blue before", points(res["blue"]), []point{{t0.Add(-5 * time.Minute), 200 * 300}})
	checkSeries(t, "green before", points(res["green"]), nil)
	if aws.ToString(res["blue"].Label) != "RequestCount" {
		t.Errorf("label %q", aws.ToString(res["blue"].Label))
	}

	// Shift 50/50 at t0 through the ELBv2 API, then let 10 minutes pass.
	_, err := elbv2.NewFromConfig(d.env.AWS).ModifyRule(context.Background(), &elbv2.ModifyRuleInput{RuleArn: aws.String(d.ruleARN),
		Actions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, ForwardConfig: &elbtypes.ForwardActionConfig{
			TargetGroups: []elbtypes.TargetGroupTuple{{TargetGroupArn: aws.String(d.blueARN), Weight: aws.Int32(50)},
				{TargetGroupArn: aws.String(d.greenARN), Weight: aws.Int32(50)}}}}}})
	if err != nil {
		t.Fatalf("ModifyRule: %v", err)
	}
	d.clock.Advance(10 * time.Minute)

	res = d.get(t, t0.Add(-5*time.Minute), t0.Add(10*time.Minute),
		d.query("blue", "RequestCount", d.blue, "Sum", 300), d.query("green", "RequestCount", d.green, "Sum", 300),
		d.query("straddle", "RequestCount", d.blue, "Sum", 600))
	checkSeries(t, "blue after", points(res["blue"]), []point{{t0.Add(-5 * time.Minute), 60000}, {t0, 30000}, {t0.Add(5 * time.Minute), 30000}})
	checkSeries(t, "green after", points(res["green"]), []point{{t0, 30000}, {t0.Add(5 * time.Minute), 30000}})
	// [t0-5m, t0+5m): half of it before the shift; [t0+5m, t0+15m) is
	// filled up to now, t0+10m.
	checkSeries(t, "blue 10-minute buckets", points(res["straddle"]), []point{{t0.Add(-5 * time.Minute), 60000 + 30000}, {t0.Add(5 * time.Minute), 30000}})

	// The start time is rounded down to the minute, and the bucket still
	// being filled counts up to now only.
	res = d.get(t, t0.Add(9*time.Minute+30*time.Second), t0.Add(20*time.Minute), d.query("green", "RequestCount", d.green, "Sum", 300))
	checkSeries(t, "green partial bucket", points(res["green"]), []point{{t0.Add(9 * time.Minute), 100 * 60}})

	// Descending is the default order.
	out, err := d.cw.GetMetricData(context.Background(), &cloudwatch.GetMetricDataInput{StartTime: aws.Time(t0.Add(-5 * time.Minute)),
		EndTime: aws.Time(t0.Add(10 * time.Minute)), MetricDataQueries: []cwtypes.MetricDataQuery{d.query("blue", "RequestCount", d.blue, "Sum", 300)}})
	if err != nil {
		t.Fatal(err)
	}
	checkSeries(t, "blue descending", points(out.MetricDataResults[0]), []point{{t0.Add(5 * time.Minute), 30000}, {t0, 30000}, {t0.Add(-5 * time.Minute), 60000}})

	// The target group alone is a dimension set ALB metrics have too; the
	// load balancer alone sums its target groups; anything else has no data.
	tgOnly := d.query("tgonly", "RequestCount", d.green, "Sum", 300)
	tgOnly.MetricStat.Metric.Dimensions = tgOnly.MetricStat.Metric.Dimensions[:1]
	lbOnly := d.query("lbonly", "RequestCount", d.green, "Sum", 300)
	lbOnly.MetricStat.Metric.Dimensions = lbOnly.MetricStat.Metric.Dimensions[1:]
	other := d.query("other", "RequestCount", d.green, "Sum", 300)
	other.MetricStat.Metric.Namespace = aws.String("AWS/NetworkELB")
	res = d.get(t, t0, t0.Add(10*time.Minute), tgOnly, lbOnly, other)
	checkSeries(t, "TargetGroup alone", points(res["tgonly"]), []point{{t0, 30000}, {t0.Add(5 * time.Minute), 30000}})
	checkSeries(t, "LoadBalancer alone", points(res["lbonly"]), []point{{t0, 60000}, {t0.Add(5 * time.Minute), 60000}})
	checkSeries(t, "other namespace", points(res["other"]), nil)

	// Host counts: blue has its 6 targets healthy, green has none.
	res = d.get(t, t0, t0.Add(5*time.Minute), d.query("bh", "HealthyHostCount", d.blue, "Average", 300),
		d.query("bu", "UnHealthyHostCount", d.blue, "Maximum", 300), d.query("gh", "HealthyHostCount", d.green, "Minimum", 300))
	checkSeries(t, "blue healthy", points(res["bh"]), []point{{t0, 6}})
	checkSeries(t, "blue unhealthy", points(res["bu"]), []point{{t0, 0}})
	checkSeries(t, "green healthy", points(res["gh"]), []point{{t0, 0}})
}

// putTraffic changes the traffic model through the admin API.
func putTraffic(t *testing.T, url, body string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPut, url+"/_sandbox/traffic", strings.NewReader(body))
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

// shift50 puts the demo's web rule at 50/50 directly in the world (for
// the tests that are not about ModifyRule).
func (d *cwDemo) shift50(t *testing.T) {
	t.Helper()
	_, err := elbv2.NewFromConfig(d.env.AWS).ModifyRule(context.Background(), &elbv2.ModifyRuleInput{RuleArn: aws.String(d.ruleARN),
		Actions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, ForwardConfig: &elbtypes.ForwardActionConfig{
			TargetGroups: []elbtypes.TargetGroupTuple{{TargetGroupArn: aws.String(d.blueARN), Weight: aws.Int32(50)},
				{TargetGroupArn: aws.String(d.greenARN), Weight: aws.Int32(50)}}}}}})
	if err != nil {
		t.Fatalf("ModifyRule: %v", err)
	}
}

// TestCloudWatchErrorsAndLatency: raising demo-green's error rate and p99
// through the admin API moves its 5xx count and response time from that
// instant on, and a metric-math expression gives the error rate.
func TestCloudWatchErrorsAndLatency(t *testing.T) {
	d := startCWDemo(t)
	t0 := d.t0
	d.shift50(t)
	d.clock.Advance(10 * time.Minute)
	putTraffic(t, d.env.URL, `{"clusters":{"demo-green":{"errorRate":0.2,"p99Ms":900}}}`)
	d.clock.Advance(10 * time.Minute)

	win := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	res := d.get(t, t0, win(20),
		d.query("g5xx", "HTTPCode_Target_5XX_Count", d.green, "Sum", 300),
		d.query("b5xx", "HTTPCode_Target_5XX_Count", d.blue, "Sum", 300),
		d.query("gp99", "TargetResponseTime", d.green, "p99", 300),
		d.query("gp50", "TargetResponseTime", d.green, "p50", 300),
		d.query("gavg", "TargetResponseTime", d.green, "Average", 300),
		d.query("bp99", "TargetResponseTime", d.blue, "p99", 300),
	)
	// 30,000 requests per 5 minutes each; green at 0.1% then 20%.
	checkSeries(t, "green 5xx", points(res["g5xx"]), []point{{win(0), 30}, {win(5), 30}, {win(10), 6000}, {win(15), 6000}})
	checkSeries(t, "blue 5xx", points(res["b5xx"]), []point{{win(0), 30}, {win(5), 30}, {win(10), 30}, {win(15), 30}})
	checkSeries(t, "green p99", points(res["gp99"]), []point{{win(0), 0.110}, {win(5), 0.110}, {win(10), 0.9}, {win(15), 0.9}})
	checkSeries(t, "green p50", points(res["gp50"]), []point{{win(0), 0.0275}, {win(5), 0.0275}, {win(10), 0.225}, {win(15), 0.225}})
	checkSeries(t, "blue p99", points(res["bp99"]), []point{{win(0), 0.120}, {win(5), 0.120}, {win(10), 0.120}, {win(15), 0.120}})
	// The average is about 1.2 × p50 (log-normal with p99 = 4 × p50).
	for _, p := range points(res["gavg"]) {
		p50 := 0.0275
		if !p.at.Before(win(10)) {
			p50 = 0.225
		}
		if !near(p.v, 1.2*p50, 0.02) {
			t.Errorf("green average at %v = %v, want about %v", p.at, p.v, 1.2*p50)
		}
	}

	// A bucket straddling the change: the 5xx are time-weighted.
	res = d.get(t, win(5), win(15), d.query("g5xx", "HTTPCode_Target_5XX_Count", d.green, "Sum", 600))
	checkSeries(t, "green 5xx straddling", points(res["g5xx"]), []point{{win(5), 30 + 6000}})

	// Metric math: the error rate in percent, its inputs not returned.
	m1, m2 := d.query("m1", "RequestCount", d.green, "Sum", 300), d.query("m2", "HTTPCode_Target_5XX_Count", d.green, "Sum", 300)
	m1.ReturnData, m2.ReturnData = aws.Bool(false), aws.Bool(false)
	e1 := cwtypes.MetricDataQuery{Id: aws.String("e1"), Expression: aws.String("m2/m1*100"), Label: aws.String("green 5xx %")}
	e2 := cwtypes.MetricDataQuery{Id: aws.String("e2"), Expression: aws.String("(m2 + 0) / (m1 - m2 + m2) * 100 - e1")}
	res = d.get(t, t0, win(20), m1, m2, e1, e2)
	if len(res) != 2 {
		t.Fatalf("ReturnData false inputs were returned: %v", res)
	}
	if aws.ToString(res["e1"].Label) != "green 5xx %" {
		t.Errorf("label %q", aws.ToString(res["e1"].Label))
	}
	checkSeries(t, "error rate", points(res["e1"]), []point{{win(0), 0.1}, {win(5), 0.1}, {win(10), 20}, {win(15), 20}})
	for _, p := range points(res["e2"]) {
		if math.Abs(p.v) > 1e-9 {
			t.Errorf("e2 at %v = %v, want 0", p.at, p.v)
		}
	}

	// Validation errors, with CloudWatch's codes.
	for _, c := range []struct {
		name string
		in   *cloudwatch.GetMetricDataInput
		code string
	}{
		{"start after end", &cloudwatch.GetMetricDataInput{StartTime: aws.Time(win(10)), EndTime: aws.Time(win(0)),
			MetricDataQueries: []cwtypes.MetricDataQuery{m1}}, "ValidationError"},
		{"period", &cloudwatch.GetMetricDataInput{StartTime: aws.Time(win(0)), EndTime: aws.Time(win(10)),
			MetricDataQueries: []cwtypes.MetricDataQuery{d.query("x", "RequestCount", d.green, "Sum", 90)}}, "ValidationError"},
		{"id", &cloudwatch.GetMetricDataInput{StartTime: aws.Time(win(0)), EndTime: aws.Time(win(10)),
			MetricDataQueries: []cwtypes.MetricDataQuery{d.query("M1", "RequestCount", d.green, "Sum", 60)}}, "ValidationError"},
		{"expression", &cloudwatch.GetMetricDataInput{StartTime: aws.Time(win(0)), EndTime: aws.Time(win(10)),
			MetricDataQueries: []cwtypes.MetricDataQuery{m1, {Id: aws.String("e9"), Expression: aws.String("m1/m7")}}}, "ValidationError"},
		{"token", &cloudwatch.GetMetricDataInput{StartTime: aws.Time(win(0)), EndTime: aws.Time(win(10)),
			MetricDataQueries: []cwtypes.MetricDataQuery{m2}, NextToken: aws.String("bm9wZQ")}, "InvalidNextToken"},
	} {
		_, err := d.cw.GetMetricData(context.Background(), c.in)
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != c.code {
			t.Errorf("%s: got %v, want %s", c.name, err, c.code)
		}
	}
	tooMany := &cloudwatch.GetMetricDataInput{StartTime: aws.Time(win(0)), EndTime: aws.Time(win(10))}
	for i := 0; i < 501; i++ {
		tooMany.MetricDataQueries = append(tooMany.MetricDataQueries, d.query(fmt.Sprintf("q%d", i), "RequestCount", d.green, "Sum", 60))
	}
	if _, err := d.cw.GetMetricData(context.Background(), tooMany); err == nil || !strings.Contains(err.Error(), "ValidationError") {
		t.Errorf("501 queries: %v", err)
	}
}

// TestCloudWatchPagination: MaxDatapoints cuts the result into pages the
// SDK paginator follows; the pages add up to the single-call result.
func TestCloudWatchPagination(t *testing.T) {
	d := startCWDemo(t)
	t0 := d.t0
	qs := []cwtypes.MetricDataQuery{d.query("a", "RequestCount", d.blue, "Sum", 60), d.query("b", "HTTPCode_Target_5XX_Count", d.blue, "Sum", 60)}
	in := &cloudwatch.GetMetricDataInput{StartTime: aws.Time(t0.Add(-20 * time.Minute)), EndTime: aws.Time(t0), MetricDataQueries: qs, MaxDatapoints: aws.Int32(7)}
	p := cloudwatch.NewGetMetricDataPaginator(d.cw, in)
	got := map[string][]point{}
	pages := 0
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		pages++
		n := 0
		for _, r := range page.MetricDataResults {
			n += len(r.Values)
			got[aws.ToString(r.Id)] = append(got[aws.ToString(r.Id)], points(r)...)
			last := page.NextToken == nil
			if (r.StatusCode == cwtypes.StatusCodeComplete) != (last || aws.ToString(r.Id) == "a" && len(got["a"]) == 20) {
				t.Errorf("page %d: %s is %s", pages, aws.ToString(r.Id), r.StatusCode)
			}
		}
		if n > 7 {
			t.Fatalf("page %d has %d datapoints", pages, n)
		}
	}
	if pages != 6 { // 40 datapoints, 7 a page
		t.Fatalf("%d pages", pages)
	}
	for _, id := range []string{"a", "b"} {
		if len(got[id]) != 20 {
			t.Fatalf("%s: %d datapoints", id, len(got[id]))
		}
		for i, pt := range got[id] { // descending, a minute apart
			want := t0.Add(-time.Duration(i+1) * time.Minute)
			if !pt.at.Equal(want) {
				t.Fatalf("%s[%d] at %v, want %v", id, i, pt.at, want)
			}
		}
	}
	if got["a"][0].v != 12000 || got["b"][0].v != 12 {
		t.Fatalf("values: %v %v", got["a"][0], got["b"][0])
	}
}

// cliMetricData is the CLIs' get-metric-data output.
type cliMetricData struct {
	MetricDataResults []struct {
		Id, Label, StatusCode string
		// CLI v1 prints timestamps as the wire has them (its default
		// cli_timestamp_format is "none"): epoch seconds from CBOR; CLI v2
		// prints ISO 8601.
		Timestamps []any
		Values     []float64
	}
	Messages []any
}

// cliTime reads a timestamp of CLI output.
func cliTime(v any) (time.Time, error) {
	switch x := v.(type) {
	case string:
		return time.Parse(time.RFC3339, x)
	case float64:
		return time.UnixMilli(int64(math.Round(x * 1000))).UTC(), nil
	}
	return time.Time{}, fmt.Errorf("timestamp %v (%T)", v, v)
}

// TestCloudWatchCLIs: the CLI v2 (AWS query) and v1 (RPC v2 CBOR) show
// the same values as the SDK, including pages they join themselves, and
// CloudWatch's error for an inverted window.
func TestCloudWatchCLIs(t *testing.T) {
	d := startCWDemo(t)
	t0 := d.t0
	d.shift50(t)
	d.clock.Advance(10 * time.Minute)
	putTraffic(t, d.env.URL, `{"clusters":{"demo-green":{"errorRate":0.2,"p99Ms":900}}}`)
	d.clock.Advance(10 * time.Minute)

	queries := fmt.Sprintf(`[
  {"Id": "req", "MetricStat": {"Metric": {"Namespace": "AWS/ApplicationELB", "MetricName": "RequestCount",
    "Dimensions": [{"Name": "TargetGroup", "Value": %[1]q}, {"Name": "LoadBalancer", "Value": %[2]q}]}, "Period": 300, "Stat": "Sum"}, "ReturnData": false},
  {"Id": "err", "MetricStat": {"Metric": {"Namespace": "AWS/ApplicationELB", "MetricName": "HTTPCode_Target_5XX_Count",
    "Dimensions": [{"Name": "TargetGroup", "Value": %[1]q}, {"Name": "LoadBalancer", "Value": %[2]q}]}, "Period": 300, "Stat": "Sum"}},
  {"Id": "p99", "MetricStat": {"Metric": {"Namespace": "AWS/ApplicationELB", "MetricName": "TargetResponseTime",
    "Dimensions": [{"Name": "TargetGroup", "Value": %[1]q}, {"Name": "LoadBalancer", "Value": %[2]q}]}, "Period": 300, "Stat": "p99"}},
  {"Id": "rate", "Expression": "err/req*100", "Label": "error rate"},
  {"Id": "none", "MetricStat": {"Metric": {"Namespace": "AWS/ApplicationELB", "MetricName": "RequestCount",
    "Dimensions": [{"Name": "TargetGroup", "Value": "targetgroup/nope/0123456789abcdef"}]}, "Period": 300, "Stat": "Sum"}}
]`, d.green, d.lb)
	file := filepath.Join(t.TempDir(), "queries.json")
	if err := os.WriteFile(file, []byte(queries), 0o600); err != nil {
		t.Fatal(err)
	}
	start, end := t0.Format(time.RFC3339), t0.Add(20*time.Minute).Format(time.RFC3339)
	want := map[string][]float64{ // ascending
		"err":  {30, 30, 6000, 6000},
		"p99":  {0.11, 0.11, 0.9, 0.9},
		"rate": {0.1, 0.1, 20, 20},
		"none": nil,
	}

	// The SDK's answer to the same queries, for comparison.
	var sdkQueries []cwtypes.MetricDataQuery
	if err := json.Unmarshal([]byte(queries), &sdkQueries); err != nil {
		t.Fatal(err)
	}
	sdk := d.get(t, t0, t0.Add(20*time.Minute), sdkQueries...)
	if len(sdk) != 4 {
		t.Fatalf("SDK returned %d series", len(sdk))
	}
	for id, vals := range want {
		got := points(sdk[id])
		if len(got) != len(vals) {
			t.Fatalf("SDK %s: %v", id, got)
		}
		for i := range vals {
			if !near(got[i].v, vals[i], 0.01) || !got[i].at.Equal(t0.Add(time.Duration(i)*5*time.Minute)) {
				t.Fatalf("SDK %s[%d] = %v", id, i, got[i])
			}
		}
	}

	for _, cli := range quotaCLIs {
		run := func(args ...string) ([]byte, string, error) {
			return d.env.RunCLI(t, cli[0], append(append([]string{}, cli[1:]...), args...)...)
		}
		stdout, stderr, err := run("cloudwatch", "get-metric-data", "--metric-data-queries", "file://"+file,
			"--start-time", start, "--end-time", end, "--scan-by", "TimestampAscending")
		if err != nil {
			t.Fatalf("%v: %v\n%s", cli, err, stderr)
		}
		var out cliMetricData
		if err := json.Unmarshal(stdout, &out); err != nil {
			t.Fatalf("%v: %v\n%s", cli, err, stdout)
		}
		if len(out.MetricDataResults) != 4 || out.Messages == nil {
			t.Fatalf("%v: %s", cli, stdout)
		}
		for _, r := range out.MetricDataResults {
			vals, ok := want[r.Id]
			if !ok || r.StatusCode != "Complete" || len(r.Values) != len(vals) || len(r.Timestamps) != len(vals) || r.Timestamps == nil || r.Values == nil {
				t.Fatalf("%v: %s: %+v", cli, r.Id, r)
			}
			for i := range vals {
				ts, err := cliTime(r.Timestamps[i])
				if err != nil || !ts.Equal(t0.Add(time.Duration(i)*5*time.Minute)) || !near(r.Values[i], vals[i], 0.01) {
					t.Fatalf("%v: %s[%d] = %s %v", cli, r.Id, i, r.Timestamps[i], r.Values[i])
				}
			}
			if r.Id == "rate" && r.Label != "error rate" || r.Id == "err" && r.Label != "HTTPCode_Target_5XX_Count" {
				t.Errorf("%v: %s label %q", cli, r.Id, r.Label)
			}
		}

		// --page-size sets MaxDatapoints; the CLI follows NextToken and
		// concatenates the pages.
		stdout, stderr, err = run("cloudwatch", "get-metric-data", "--metric-data-queries", "file://"+file,
			"--start-time", start, "--end-time", end, "--page-size", "3")
		if err != nil {
			t.Fatalf("%v pages: %v\n%s", cli, err, stderr)
		}
		out = cliMetricData{}
		if err := json.Unmarshal(stdout, &out); err != nil {
			t.Fatal(err)
		}
		joined := map[string][]float64{}
		for _, r := range out.MetricDataResults {
			joined[r.Id] = append(joined[r.Id], r.Values...)
		}
		if len(out.MetricDataResults) <= 4 || len(joined["err"]) != 4 || joined["err"][0] != 6000 || joined["err"][3] != 30 || len(joined["rate"]) != 4 {
			t.Fatalf("%v pages: %s", cli, stdout)
		}

		_, stderr, err = run("cloudwatch", "get-metric-data", "--metric-data-queries", "file://"+file, "--start-time", end, "--end-time", start)
		// (CLI v2 adds "(reached max retries: 0)" before the message.)
		if err == nil || !strings.Contains(stderr, "An error occurred (ValidationError) when calling the GetMetricData operation") ||
			!strings.Contains(stderr, ": The parameter StartTime must be less than the parameter EndTime.") {
			t.Fatalf("%v inverted window: %v %s", cli, err, stderr)
		}
	}
}

// TestCloudWatchJSON10: the AWS JSON 1.0 protocol CloudWatch also speaks.
func TestCloudWatchJSON10(t *testing.T) {
	d := startCWDemo(t)
	t0 := d.t0
	body := fmt.Sprintf(`{"StartTime": %d, "EndTime": %d, "ScanBy": "TimestampAscending", "MetricDataQueries": [{"Id": "m1",
	  "MetricStat": {"Metric": {"Namespace": "AWS/ApplicationELB", "MetricName": "RequestCount",
	  "Dimensions": [{"Name": "TargetGroup", "Value": %q}]}, "Period": 60, "Stat": "Sum"}}]}`,
		t0.Add(-2*time.Minute).Unix(), t0.Unix(), d.blue)
	req, _ := http.NewRequest(http.MethodPost, d.env.URL+"/", bytes.NewBufferString(body))
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	req.Header.Set("X-Amz-Target", "GraniteServiceVersion20100801.GetMetricData")
	resp, err := http.DefaultClient.Do(signedDefault(t, req, []byte(body), "monitoring", d.env.Region))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		MetricDataResults []struct {
			Id         string
			Timestamps []float64
			Values     []float64
			StatusCode string
		}
		Messages []any
	}
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || json.Unmarshal(b, &out) != nil {
		t.Fatalf("%s: %s", resp.Status, b)
	}
	r := out.MetricDataResults
	if len(r) != 1 || r[0].StatusCode != "Complete" || len(r[0].Values) != 2 || r[0].Values[0] != 12000 ||
		r[0].Timestamps[0] != float64(t0.Add(-2*time.Minute).Unix()) || out.Messages == nil {
		t.Fatalf("%s", b)
	}
}

// TestCloudWatchRequestRateChange: a rule's request rate changed through
// the admin API applies from that instant on; earlier buckets keep the old rate.
func TestCloudWatchRequestRateChange(t *testing.T) {
	d := startCWDemo(t)
	t0 := d.t0
	putTraffic(t, d.env.URL, `{"rules":{"web":50}}`)
	d.clock.Advance(10 * time.Minute)
	res := d.get(t, t0.Add(-5*time.Minute), t0.Add(10*time.Minute),
		d.query("blue", "RequestCount", d.blue, "Sum", 300))
	checkSeries(t, "blue", points(res["blue"]), []point{
		{t0.Add(-5 * time.Minute), 200 * 300}, // before the change
		{t0, 50 * 300},
		{t0.Add(5 * time.Minute), 50 * 300},
	})
}
