package emulator_test

import (
	"bytes"
	"context"
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/servicequotas"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go/middleware"

	"github.com/eksbg/eksbg/internal/sandbox/emulator"
	"github.com/eksbg/eksbg/internal/sandbox/sandboxtest"
)

func putFaults(t *testing.T, url string, faults string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPut, url+"/_sandbox/faults", bytes.NewBufferString(faults))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT /_sandbox/faults: %s", resp.Status)
	}
}

// TestThrottlingWorkload: with 20% of every call throttled, SDK clients with
// the standard retryer complete a 1,000-call workload, and the call counter
// shows the retries. MaxAttempts is raised from the default 3: at 20%
// throttling, 0.2^3 = 0.8% of calls would still fail after three attempts.
func TestThrottlingWorkload(t *testing.T) {
	env := sandboxtest.StartScenario(t, "demo", sandboxtest.WithRand(rand.New(rand.NewPCG(1, 2))))
	putFaults(t, env.URL, `[{"service":"*","operation":"*","throttleRate":0.2}]`)
	env.Server.ResetStats()
	cfg := env.AWS.Copy()
	cfg.Retryer = func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = 10
			o.MaxBackoff = 20 * time.Millisecond
		})
	}
	// Count attempts on the client side too, below the retry middleware,
	// so the server's counter can be checked exactly against them.
	var attempts atomic.Int64
	cfg.APIOptions = append(cfg.APIOptions, func(st *middleware.Stack) error {
		return st.Finalize.Add(middleware.FinalizeMiddlewareFunc("countAttempts",
			func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
				attempts.Add(1)
				return next.HandleFinalize(ctx, in)
			}), middleware.After)
	})
	ctx := context.Background()
	stsc, ec2c, eksc, elbc, sqc := sts.NewFromConfig(cfg), ec2.NewFromConfig(cfg), eks.NewFromConfig(cfg), elb.NewFromConfig(cfg), servicequotas.NewFromConfig(cfg)
	calls := []func() error{
		func() error { _, err := stsc.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); return err },
		func() error { _, err := ec2c.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{}); return err },
		func() error { _, err := eksc.ListClusters(ctx, &eks.ListClustersInput{}); return err },
		func() error { _, err := elbc.DescribeTargetGroups(ctx, &elb.DescribeTargetGroupsInput{}); return err },
		func() error {
			_, err := sqc.GetAWSDefaultServiceQuota(ctx, &servicequotas.GetAWSDefaultServiceQuotaInput{ServiceCode: aws.String("ec2"), QuotaCode: aws.String("L-1216C47A")})
			return err
		},
	}
	const n = 1000
	for i := 0; i < n; i++ {
		if err := calls[i%len(calls)](); err != nil {
			t.Fatalf("call %d failed despite retries: %v", i, err)
		}
	}
	total, throttled := 0, 0
	for _, st := range env.Server.Stats() {
		total += st.Calls
		throttled += st.Throttled
		if st.Failed > 0 {
			t.Errorf("%s %s: %d failed", st.Service, st.Operation, st.Failed)
		}
	}
	if int64(total) != attempts.Load() {
		t.Fatalf("server counted %d calls, the clients made %d attempts", total, attempts.Load())
	}
	if total != n+throttled {
		t.Fatalf("counter: %d calls, %d throttled; want %d + throttled (a retry that was not a throttle?)", total, throttled, n)
	}
	// 20% of attempts are throttled: throttled/total near 0.2
	if r := float64(throttled) / float64(total); r < 0.15 || r > 0.25 {
		t.Fatalf("throttled share %.3f, want about 0.2", r)
	}
	t.Logf("%d calls completed with %d attempts (%d throttled and retried)", n, total, throttled)

	// the admin API reports the same counters
	resp, err := http.Get(env.URL + "/_sandbox/calls")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got struct {
		Total      int                `json:"total"`
		Operations []emulator.OpStats `json:"operations"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	if got.Total != total {
		t.Fatalf("/_sandbox/calls total %d, want %d", got.Total, total)
	}
}

// TestNoLostResponsesOnLoopback guards awsconf.WholeBodies: without it,
// about one in ten calls with a body of some size lost its response on
// loopback and was retried (see its comment).
func TestNoLostResponsesOnLoopback(t *testing.T) {
	env := sandboxtest.StartScenario(t, "demo")
	c := ec2.NewFromConfig(env.AWS, func(o *ec2.Options) { o.RetryMaxAttempts = 1 })
	for i := 0; i < 300; i++ {
		if _, err := c.DescribeNetworkInterfaces(context.Background(), &ec2.DescribeNetworkInterfacesInput{}); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
}

// TestFaultsErrorShapes: an injected 5xx and throttle carry each service's real codes.
func TestFaultsErrorShapes(t *testing.T) {
	env := sandboxtest.StartScenario(t, "demo")
	putFaults(t, env.URL, `[{"service":"ec2","operation":"*","throttleRate":1},{"service":"sts","operation":"GetCallerIdentity","errorRate":1}]`)
	cfg := env.AWS.Copy()
	cfg.RetryMaxAttempts = 1
	_, err := ec2.NewFromConfig(cfg).DescribeVpcs(context.Background(), &ec2.DescribeVpcsInput{})
	if code := errorCode(err); code != "RequestLimitExceeded" {
		t.Fatalf("EC2 throttle: %v", err)
	}
	_, err = sts.NewFromConfig(cfg).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	if code := errorCode(err); code != "InternalFailure" {
		t.Fatalf("STS fault: %v", err)
	}
	_, stderr, err := env.RunCLI(t, sandboxtest.CLIv2, "ec2", "describe-vpcs")
	if err == nil || !bytes.Contains([]byte(stderr), []byte("RequestLimitExceeded")) {
		t.Fatalf("CLI v2 throttled: %v %s", err, stderr)
	}
}
