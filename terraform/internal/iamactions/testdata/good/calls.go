// Synthetic eksbg code for the iamactions tests: it is parsed, never built.
package good

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// A consumer-side interface names the input type.
type quotas interface {
	DescribeSubnets(ctx context.Context, in *ec2.DescribeSubnetsInput, opts ...func(*ec2.Options)) (*ec2.DescribeSubnetsOutput, error)
}

func calls(ctx context.Context, c *eks.Client, lb *elb.Client, e *ec2.Client) {
	_, _ = c.CreateNodegroup(ctx, &eks.CreateNodegroupInput{})
	in := new(elb.ModifyRuleInput) // no composite literal: the type is named
	_, _ = lb.ModifyRule(ctx, in)
	p := ec2.NewDescribeInstancesPaginator(e, nil) // paginator, no input
	_ = p
	_ = eks.NewClusterActiveWaiter(c)
	_ = eks.NewNodegroupDeletedWaiter(c)
	_ = elb.NewTargetInServiceWaiter(lb)
	_ = types.Filter{} // a types package is not a service
	_ = eks.NewFromConfig
}

func presign(ctx context.Context, pc *sts.PresignClient, in *sts.GetCallerIdentityInput) {
	// Presigned: the input comes from elsewhere, the method names the op.
	_, _ = pc.PresignGetCallerIdentity(ctx, in)
}
