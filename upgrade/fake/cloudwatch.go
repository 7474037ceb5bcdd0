package fake

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
)

// CloudWatch answers GetMetricData from Metrics: by metric name, the one
// value every matching query gets (a metric that is not there has no
// datapoint, as CloudWatch answers for a target group without data).
// Set TargetGroup to answer only for queries on that TargetGroup dimension
// ("targetgroup/NAME/ID"); others get no data.
type CloudWatch struct {
	Calls
	Errors
	mu          sync.Mutex
	metrics     map[string]float64
	targetGroup string
}

// Set replaces the metrics served, by metric name ("RequestCount",
// "HTTPCode_Target_5XX_Count", "TargetResponseTime", "HealthyHostCount",
// "UnHealthyHostCount"), for the target group dimension tg ("" for all).
func (f *CloudWatch) Set(tg string, metrics map[string]float64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.metrics, f.targetGroup = metrics, tg
}

// GetMetricData implements traffic.CloudWatchAPI.
func (f *CloudWatch) GetMetricData(_ context.Context, in *cloudwatch.GetMetricDataInput, _ ...func(*cloudwatch.Options)) (*cloudwatch.GetMetricDataOutput, error) {
	f.add("GetMetricData")
	if err := f.take("GetMetricData"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	out := &cloudwatch.GetMetricDataOutput{}
	for _, q := range in.MetricDataQueries {
		r := cwtypes.MetricDataResult{Id: q.Id, StatusCode: cwtypes.StatusCodeComplete}
		if ms := q.MetricStat; ms != nil && ms.Metric != nil {
			tgOK := f.targetGroup == ""
			for _, d := range ms.Metric.Dimensions {
				if aws.ToString(d.Name) == "TargetGroup" && strings.EqualFold(aws.ToString(d.Value), f.targetGroup) {
					tgOK = true
				}
			}
			if v, ok := f.metrics[aws.ToString(ms.Metric.MetricName)]; ok && tgOK {
				r.Values = []float64{v}
				r.Timestamps = []time.Time{in.EndTime.Add(-time.Minute)}
			}
		}
		out.MetricDataResults = append(out.MetricDataResults, r)
	}
	return out, nil
}
