package capacity

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/servicequotas"
)

// EC2API is the part of *ec2.Client the check calls.
type EC2API interface {
	DescribeSubnets(ctx context.Context, in *ec2.DescribeSubnetsInput, opts ...func(*ec2.Options)) (*ec2.DescribeSubnetsOutput, error)
	DescribeNetworkInterfaces(ctx context.Context, in *ec2.DescribeNetworkInterfacesInput, opts ...func(*ec2.Options)) (*ec2.DescribeNetworkInterfacesOutput, error)
	DescribeAvailabilityZones(ctx context.Context, in *ec2.DescribeAvailabilityZonesInput, opts ...func(*ec2.Options)) (*ec2.DescribeAvailabilityZonesOutput, error)
	DescribeInstances(ctx context.Context, in *ec2.DescribeInstancesInput, opts ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error)
	DescribeInstanceTypes(ctx context.Context, in *ec2.DescribeInstanceTypesInput, opts ...func(*ec2.Options)) (*ec2.DescribeInstanceTypesOutput, error)
	GetSubnetCidrReservations(ctx context.Context, in *ec2.GetSubnetCidrReservationsInput, opts ...func(*ec2.Options)) (*ec2.GetSubnetCidrReservationsOutput, error)
}

// EKSAPI is the part of *eks.Client the check calls.
type EKSAPI interface {
	ListClusters(ctx context.Context, in *eks.ListClustersInput, opts ...func(*eks.Options)) (*eks.ListClustersOutput, error)
}

// QuotasAPI is the part of *servicequotas.Client the check calls.
type QuotasAPI interface {
	GetServiceQuota(ctx context.Context, in *servicequotas.GetServiceQuotaInput, opts ...func(*servicequotas.Options)) (*servicequotas.GetServiceQuotaOutput, error)
	GetAWSDefaultServiceQuota(ctx context.Context, in *servicequotas.GetAWSDefaultServiceQuotaInput, opts ...func(*servicequotas.Options)) (*servicequotas.GetAWSDefaultServiceQuotaOutput, error)
}

// ELBAPI is the part of *elasticloadbalancingv2.Client the check calls.
type ELBAPI interface {
	DescribeTargetGroups(ctx context.Context, in *elb.DescribeTargetGroupsInput, opts ...func(*elb.Options)) (*elb.DescribeTargetGroupsOutput, error)
	DescribeListeners(ctx context.Context, in *elb.DescribeListenersInput, opts ...func(*elb.Options)) (*elb.DescribeListenersOutput, error)
	DescribeRules(ctx context.Context, in *elb.DescribeRulesInput, opts ...func(*elb.Options)) (*elb.DescribeRulesOutput, error)
}

// Clients are what the check reads through. The AWS clients are required;
// Census and CNIEnv are optional (nil: not available).
type Clients struct {
	EC2    EC2API
	EKS    EKSAPI
	Quotas QuotasAPI
	ELB    ELBAPI
	Census PodCensus
	CNIEnv CNIEnvSource
	// Concurrency bounds the AWS calls in flight; 0 means DefaultConcurrency.
	Concurrency int
}

// DefaultConcurrency is how many AWS calls the check keeps in flight. EC2's
// request-rate limits refill at 20 describe calls per second with a bucket
// of 100
// (https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-throttling.html),
// so ten concurrent calls stay within the burst.
const DefaultConcurrency = 10

// NewClients builds the AWS clients from one configuration (one account and
// region).
func NewClients(cfg aws.Config) Clients {
	return Clients{
		EC2:    ec2.NewFromConfig(cfg),
		EKS:    eks.NewFromConfig(cfg),
		Quotas: servicequotas.NewFromConfig(cfg),
		ELB:    elb.NewFromConfig(cfg),
	}
}
