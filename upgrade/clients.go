package upgrade

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/eksbg/eksbg/internal/kubeaccess"
	"github.com/eksbg/eksbg/upgrade/traffic"
)

// EKSAPI is the part of EKS the phases call, with the SDK's signatures so
// that *eks.Client satisfies it. It includes the interfaces of the SDK's
// waiters and paginators the phases use.
type EKSAPI interface {
	DescribeCluster(ctx context.Context, in *eks.DescribeClusterInput, optFns ...func(*eks.Options)) (*eks.DescribeClusterOutput, error)
	ListNodegroups(ctx context.Context, in *eks.ListNodegroupsInput, optFns ...func(*eks.Options)) (*eks.ListNodegroupsOutput, error)
	DescribeNodegroup(ctx context.Context, in *eks.DescribeNodegroupInput, optFns ...func(*eks.Options)) (*eks.DescribeNodegroupOutput, error)
	ListAddons(ctx context.Context, in *eks.ListAddonsInput, optFns ...func(*eks.Options)) (*eks.ListAddonsOutput, error)
	DescribeAddon(ctx context.Context, in *eks.DescribeAddonInput, optFns ...func(*eks.Options)) (*eks.DescribeAddonOutput, error)
}

// ELBAPI is the part of Elastic Load Balancing v2 the phases call: what
// the traffic shifter needs, and the target groups' attributes (the
// deregistration delay).
type ELBAPI interface {
	traffic.ELBv2API
	DescribeTargetGroupAttributes(ctx context.Context, in *elb.DescribeTargetGroupAttributesInput, optFns ...func(*elb.Options)) (*elb.DescribeTargetGroupAttributesOutput, error)
}

// EC2API is the part of EC2 the phases call: the teardown's search for
// network interfaces a deleted cluster left.
type EC2API interface {
	DescribeNetworkInterfaces(ctx context.Context, in *ec2.DescribeNetworkInterfacesInput, optFns ...func(*ec2.Options)) (*ec2.DescribeNetworkInterfacesOutput, error)
}

var (
	_ EKSAPI                                 = (*eks.Client)(nil)
	_ eks.DescribeClusterAPIClient           = (EKSAPI)(nil)
	_ eks.DescribeNodegroupAPIClient         = (EKSAPI)(nil)
	_ eks.DescribeAddonAPIClient             = (EKSAPI)(nil)
	_ eks.ListNodegroupsAPIClient            = (EKSAPI)(nil)
	_ eks.ListAddonsAPIClient                = (EKSAPI)(nil)
	_ ELBAPI                                 = (*elb.Client)(nil)
	_ EC2API                                 = (*ec2.Client)(nil)
	_ ec2.DescribeNetworkInterfacesAPIClient = (EC2API)(nil)
)

// Kube is one Kubernetes cluster's clients. REST may be nil when the
// clients are fakes.
type Kube struct {
	REST    *rest.Config
	Core    kubernetes.Interface
	Dynamic dynamic.Interface
}

// Clients are what the phases talk to: AWS through narrow interfaces,
// Kubernetes through client-go's. Real ones come from NewClients; unit
// tests pass fakes (package upgrade/fake).
type Clients struct {
	EKS        EKSAPI
	ELB        ELBAPI
	EC2        EC2API
	CloudWatch traffic.CloudWatchAPI
	// Cluster returns the clients of an EKS cluster by name.
	Cluster func(ctx context.Context, name string) (*Kube, error)
	// Management returns the clients of the Argo CD management cluster.
	Management func(ctx context.Context) (*Kube, error)
}

// NewClients builds real clients from the AWS configuration. restFor and
// management give the REST configurations of EKS clusters and of the
// management cluster (nil: kubeaccess, with DescribeCluster and an EKS
// token; kubeaccess.Management); wrap, if set, is applied to every REST
// configuration first (the run counts requests with it).
func NewClients(cfg aws.Config, restFor func(ctx context.Context, cluster string) (*rest.Config, error),
	management func(ctx context.Context) (*rest.Config, error), wrap func(*rest.Config)) Clients {
	e := eks.NewFromConfig(cfg)
	if restFor == nil {
		restFor = func(ctx context.Context, cluster string) (*rest.Config, error) {
			return kubeaccess.RESTConfig(ctx, e, cfg, cluster)
		}
	}
	build := func(rc *rest.Config, err error) (*Kube, error) {
		if err != nil {
			return nil, err
		}
		rc = rest.CopyConfig(rc)
		if wrap != nil {
			wrap(rc)
		}
		kc, err := kubernetes.NewForConfig(rc)
		if err != nil {
			return nil, err
		}
		dyn, err := dynamic.NewForConfig(rc)
		if err != nil {
			return nil, err
		}
		return &Kube{REST: rc, Core: kc, Dynamic: dyn}, nil
	}
	c := Clients{EKS: e, ELB: elb.NewFromConfig(cfg), EC2: ec2.NewFromConfig(cfg), CloudWatch: cloudwatch.NewFromConfig(cfg),
		Cluster: func(ctx context.Context, name string) (*Kube, error) { return build(restFor(ctx, name)) },
	}
	c.Management = func(ctx context.Context) (*Kube, error) {
		if management == nil {
			return nil, fmt.Errorf("no Argo CD management cluster configured")
		}
		k, err := build(management(ctx))
		if err != nil {
			return nil, fmt.Errorf("reaching the Argo CD management cluster: %w", err)
		}
		return k, nil
	}
	return c
}
