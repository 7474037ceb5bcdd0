package emulator_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/servicequotas"
	sqtypes "github.com/aws/aws-sdk-go-v2/service/servicequotas/types"

	"github.com/eksbg/eksbg/internal/sandbox/sandboxtest"
)

// cliQuota is the Quota member of the CLIs' JSON output.
type cliQuota struct {
	ServiceCode, ServiceName, QuotaArn, QuotaCode, QuotaName, Unit string
	Value                                                          float64
	Adjustable, GlobalQuota                                        bool
	QuotaAppliedAtLevel                                            string
	UsageMetric                                                    *struct {
		MetricNamespace, MetricName, MetricStatisticRecommendation string
		MetricDimensions                                           map[string]string
	}
}

// quotaCLIs are the two CLIs: v2 (Debian's package) and v1 (botocore).
var quotaCLIs = [][]string{{sandboxtest.CLIv2}, {"python3", "-m", "awscli"}}

func TestQuotasGetServiceQuotaSDK(t *testing.T) {
	env := sandboxtest.StartScenario(t, "demo")
	ctx := context.Background()
	sq := servicequotas.NewFromConfig(env.AWS)

	out, err := sq.GetServiceQuota(ctx, &servicequotas.GetServiceQuotaInput{ServiceCode: aws.String("ec2"), QuotaCode: aws.String("L-1216C47A")})
	if err != nil {
		t.Fatal(err)
	}
	q := out.Quota
	if aws.ToFloat64(q.Value) != 64 || aws.ToString(q.QuotaName) != "Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) instances" ||
		aws.ToString(q.ServiceName) != "Amazon Elastic Compute Cloud (Amazon EC2)" || aws.ToString(q.Unit) != "None" || !q.Adjustable || q.GlobalQuota ||
		aws.ToString(q.QuotaArn) != "arn:aws:servicequotas:us-east-1:111122223333:ec2/L-1216C47A" || q.QuotaAppliedAtLevel != sqtypes.AppliedLevelEnumAccount {
		t.Fatalf("applied quota: %+v", q)
	}
	if q.UsageMetric == nil || aws.ToString(q.UsageMetric.MetricNamespace) != "AWS/Usage" || q.UsageMetric.MetricDimensions["Class"] != "Standard/OnDemand" ||
		q.UsageMetric.MetricDimensions["Resource"] != "vCPU" {
		t.Fatalf("usage metric: %+v", q.UsageMetric)
	}

	// The default value: no account in the ARN, the AWS default of 5 vCPUs.
	def, err := sq.GetAWSDefaultServiceQuota(ctx, &servicequotas.GetAWSDefaultServiceQuotaInput{ServiceCode: aws.String("ec2"), QuotaCode: aws.String("L-1216C47A")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToFloat64(def.Quota.Value) != 5 || aws.ToString(def.Quota.QuotaArn) != "arn:aws:servicequotas:us-east-1::ec2/L-1216C47A" {
		t.Fatalf("default quota: %+v", def.Quota)
	}

	// A quota with no applied value in the scenario: GetServiceQuota fails
	// with NoSuchResourceException and the default is what clients fall back to.
	_, err = sq.GetServiceQuota(ctx, &servicequotas.GetServiceQuotaInput{ServiceCode: aws.String("ec2"), QuotaCode: aws.String("L-0263D0A3")})
	var nsr *sqtypes.NoSuchResourceException
	if !errors.As(err, &nsr) {
		t.Fatalf("no applied value: got %v, want NoSuchResourceException", err)
	}
	def, err = sq.GetAWSDefaultServiceQuota(ctx, &servicequotas.GetAWSDefaultServiceQuotaInput{ServiceCode: aws.String("ec2"), QuotaCode: aws.String("L-0263D0A3")})
	if err != nil || aws.ToFloat64(def.Quota.Value) != 5 || aws.ToString(def.Quota.QuotaName) != "EC2-VPC Elastic IPs" {
		t.Fatalf("fallback default: %+v %v", def, err)
	}

	// Service codes are case-sensitive: EC2 is no service.
	_, err = sq.GetServiceQuota(ctx, &servicequotas.GetServiceQuotaInput{ServiceCode: aws.String("EC2"), QuotaCode: aws.String("L-1216C47A")})
	if !errors.As(err, &nsr) || !strings.Contains(nsr.ErrorMessage(), "specified service does not exist") {
		t.Fatalf("unknown service: %v", err)
	}
	_, err = sq.GetAWSDefaultServiceQuota(ctx, &servicequotas.GetAWSDefaultServiceQuotaInput{ServiceCode: aws.String("eks"), QuotaCode: aws.String("L-00000000")})
	if !errors.As(err, &nsr) {
		t.Fatalf("unknown quota: %v", err)
	}
	// Input the model's patterns refuse.
	_, err = sq.GetServiceQuota(ctx, &servicequotas.GetServiceQuotaInput{ServiceCode: aws.String("ec2!"), QuotaCode: aws.String("L-1216C47A")})
	var iae *sqtypes.IllegalArgumentException
	if !errors.As(err, &iae) {
		t.Fatalf("bad service code: %v", err)
	}

	// The other built-in quotas the scenario applies.
	for _, c := range []struct {
		service, code, name string
		value               float64
	}{
		{"ec2", "L-34B43A08", "All Standard (A, C, D, H, I, M, R, T, Z) Spot Instance Requests", 32},
		{"eks", "L-1194D53C", "Clusters", 100},
		{"eks", "L-6D54EA21", "Managed node groups per cluster", 30},
		{"eks", "L-BD136A63", "Nodes per managed node group", 450},
		{"vpc", "L-DF5E4CA3", "Network interfaces per Region", 5000},
		{"elasticloadbalancing", "L-B22855CB", "Target Groups per Region", 3000},
		{"elasticloadbalancing", "L-7EED9B64", "Rules per Application Load Balancer", 100},
	} {
		out, err := sq.GetServiceQuota(ctx, &servicequotas.GetServiceQuotaInput{ServiceCode: aws.String(c.service), QuotaCode: aws.String(c.code)})
		if err != nil {
			t.Fatalf("%s/%s: %v", c.service, c.code, err)
		}
		if aws.ToString(out.Quota.QuotaName) != c.name || aws.ToFloat64(out.Quota.Value) != c.value {
			t.Errorf("%s/%s: got %q = %v", c.service, c.code, aws.ToString(out.Quota.QuotaName), aws.ToFloat64(out.Quota.Value))
		}
	}
}

func TestQuotasListServiceQuotasPagination(t *testing.T) {
	env := sandboxtest.StartScenario(t, "demo")
	ctx := context.Background()
	sq := servicequotas.NewFromConfig(env.AWS)

	p := servicequotas.NewListServiceQuotasPaginator(sq, &servicequotas.ListServiceQuotasInput{ServiceCode: aws.String("eks"), MaxResults: aws.Int32(1)})
	var codes []string
	pages := 0
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		if len(page.Quotas) != 1 {
			t.Fatalf("page %d has %d quotas, want 1", pages, len(page.Quotas))
		}
		codes = append(codes, aws.ToString(page.Quotas[0].QuotaCode))
	}
	if pages != 3 || strings.Join(codes, ",") != "L-1194D53C,L-6D54EA21,L-BD136A63" {
		t.Fatalf("got %d pages: %v", pages, codes)
	}

	// One page of everything; a quota filter; the empty list of a service
	// whose quotas have only defaults would be empty too.
	all, err := sq.ListServiceQuotas(ctx, &servicequotas.ListServiceQuotasInput{ServiceCode: aws.String("elasticloadbalancing")})
	if err != nil || len(all.Quotas) != 2 || all.NextToken != nil {
		t.Fatalf("elasticloadbalancing: %+v %v", all, err)
	}
	one, err := sq.ListServiceQuotas(ctx, &servicequotas.ListServiceQuotasInput{ServiceCode: aws.String("ec2"), QuotaCode: aws.String("L-34B43A08")})
	if err != nil || len(one.Quotas) != 1 || aws.ToFloat64(one.Quotas[0].Value) != 32 {
		t.Fatalf("filtered: %+v %v", one, err)
	}

	// Errors: a token from elsewhere, MaxResults out of range, unknown service.
	_, err = sq.ListServiceQuotas(ctx, &servicequotas.ListServiceQuotasInput{ServiceCode: aws.String("eks"), NextToken: aws.String("bm90LWEtdG9rZW4=")})
	var bad *sqtypes.InvalidPaginationTokenException
	if !errors.As(err, &bad) {
		t.Fatalf("bad token: %v", err)
	}
	_, err = sq.ListServiceQuotas(ctx, &servicequotas.ListServiceQuotasInput{ServiceCode: aws.String("eks"), MaxResults: aws.Int32(101)})
	var iae *sqtypes.IllegalArgumentException
	if !errors.As(err, &iae) {
		t.Fatalf("MaxResults 101: %v", err)
	}
	_, err = sq.ListServiceQuotas(ctx, &servicequotas.ListServiceQuotasInput{ServiceCode: aws.String("nosuchservice")})
	var nsr *sqtypes.NoSuchResourceException
	if !errors.As(err, &nsr) {
		t.Fatalf("unknown service: %v", err)
	}

	// The CLIs follow NextToken themselves (--page-size 1 makes three calls).
	for _, cli := range quotaCLIs {
		stdout, stderr, err := env.RunCLI(t, cli[0], append(cli[1:], "service-quotas", "list-service-quotas", "--service-code", "eks", "--page-size", "1")...)
		if err != nil {
			t.Fatalf("%v: %v\n%s", cli, err, stderr)
		}
		var got struct{ Quotas []cliQuota }
		if err := json.Unmarshal(stdout, &got); err != nil {
			t.Fatal(err)
		}
		if len(got.Quotas) != 3 || got.Quotas[2].QuotaCode != "L-BD136A63" || got.Quotas[2].Value != 450 {
			t.Fatalf("%v: %s", cli, stdout)
		}
	}
}

func TestQuotasCLIs(t *testing.T) {
	env := sandboxtest.StartScenario(t, "demo")
	for _, cli := range quotaCLIs {
		run := func(args ...string) ([]byte, string, error) {
			return env.RunCLI(t, cli[0], append(append([]string{}, cli[1:]...), args...)...)
		}
		stdout, stderr, err := run("service-quotas", "get-service-quota", "--service-code", "ec2", "--quota-code", "L-1216C47A")
		if err != nil {
			t.Fatalf("%v: %v\n%s", cli, err, stderr)
		}
		var got struct{ Quota cliQuota }
		if err := json.Unmarshal(stdout, &got); err != nil {
			t.Fatal(err)
		}
		q := got.Quota
		if q.Value != 64 || q.QuotaCode != "L-1216C47A" || q.ServiceCode != "ec2" || !q.Adjustable || q.Unit != "None" ||
			q.QuotaArn != "arn:aws:servicequotas:us-east-1:111122223333:ec2/L-1216C47A" || q.UsageMetric == nil ||
			q.UsageMetric.MetricDimensions["Class"] != "Standard/OnDemand" {
			t.Fatalf("%v: %s", cli, stdout)
		}

		stdout, stderr, err = run("service-quotas", "get-aws-default-service-quota", "--service-code", "eks", "--quota-code", "L-BD136A63")
		if err != nil {
			t.Fatalf("%v: %v\n%s", cli, err, stderr)
		}
		got = struct{ Quota cliQuota }{}
		if err := json.Unmarshal(stdout, &got); err != nil {
			t.Fatal(err)
		}
		if got.Quota.Value != 450 || got.Quota.QuotaName != "Nodes per managed node group" || got.Quota.QuotaArn != "arn:aws:servicequotas:us-east-1::eks/L-BD136A63" {
			t.Fatalf("%v default: %s", cli, stdout)
		}

		// No applied value: the error a real account gives, code first.
		_, stderr, err = run("service-quotas", "get-service-quota", "--service-code", "vpc", "--quota-code", "L-F678F1CE")
		if err == nil || !strings.Contains(stderr, "An error occurred (NoSuchResourceException) when calling the GetServiceQuota operation") {
			t.Fatalf("%v no applied value: err %v stderr %s", cli, err, stderr)
		}
		_, stderr, err = run("service-quotas", "get-aws-default-service-quota", "--service-code", "EC2", "--quota-code", "L-1216C47A")
		// (CLI v2 adds "(reached max retries: 0)" before the message.)
		if err == nil || !strings.Contains(stderr, "An error occurred (NoSuchResourceException) when calling the GetAWSDefaultServiceQuota operation") ||
			!strings.Contains(stderr, ": The request failed because the specified service does not exist.") {
			t.Fatalf("%v unknown service: err %v stderr %s", cli, err, stderr)
		}
	}
}
