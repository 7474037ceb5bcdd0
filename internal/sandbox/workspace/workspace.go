// Package workspace writes the directory `eksbg sandbox up` hands to the
// user: an eksbg.yaml for the sandbox's environments, a Terraform network
// stack whose outputs describe the sandbox's VPC (terraform_data and
// outputs only, so it plans and applies offline with the real terraform),
// the eksctl ClusterConfig of each live cluster, an `env` file to source,
// and the `eksctl` shim on the workspace's PATH.
//
// Everything is read through the AWS APIs, as a platform team would write
// these files for a real account, so the workspace matches the world the
// emulator serves at the moment it is written.
package workspace

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// Tags eksbg reads on clusters to group them into environments.
const (
	TagEnvironment = "eksbg.io/environment"
	TagColor       = "eksbg.io/color"
)

// World is what the workspace is written from.
type World struct {
	Account, Region string
	Environments    []Environment
}

// Environment is one environment of the sandbox: its live cluster, the
// subnets by role and the listener rules moving its traffic.
type Environment struct {
	Name string
	// Cluster is the live cluster (blue when both colors exist).
	Cluster      *ekstypes.Cluster
	Nodegroups   []*ekstypes.Nodegroup
	Addons       []*ekstypes.Addon
	VPC          string
	NodeSubnets  []ec2types.Subnet
	ControlPlane []string
	LBSubnets    []string
	Rules        []Rule
}

// Rule is a listener rule forwarding to the environment's blue and green
// target groups.
type Rule struct {
	ARN, Blue, Green string
}

// Read gathers the World through the AWS APIs: clusters tagged with
// eksbg.io/environment, their node groups, add-ons and subnets, and the
// listener rules that forward to target groups named <env>-blue-* and
// <env>-green-*.
func Read(ctx context.Context, cfg aws.Config) (*World, error) {
	id, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return nil, fmt.Errorf("asking STS for the account: %w", err)
	}
	w := &World{Account: aws.ToString(id.Account), Region: cfg.Region}
	eksc, ec2c, elbc := eks.NewFromConfig(cfg), ec2.NewFromConfig(cfg), elb.NewFromConfig(cfg)

	byEnv := map[string]*Environment{}
	p := eks.NewListClustersPaginator(eksc, &eks.ListClustersInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("listing clusters: %w", err)
		}
		for _, name := range page.Clusters {
			d, err := eksc.DescribeCluster(ctx, &eks.DescribeClusterInput{Name: aws.String(name)})
			if err != nil {
				return nil, fmt.Errorf("describing cluster %s: %w", name, err)
			}
			c := d.Cluster
			env := c.Tags[TagEnvironment]
			if env == "" || c.Status != ekstypes.ClusterStatusActive {
				continue
			}
			if cur, ok := byEnv[env]; ok && cur.Cluster.Tags[TagColor] == "blue" {
				continue // blue stays the live color while both exist
			}
			byEnv[env] = &Environment{Name: env, Cluster: c, VPC: aws.ToString(c.ResourcesVpcConfig.VpcId), ControlPlane: c.ResourcesVpcConfig.SubnetIds}
		}
	}
	for _, e := range byEnv {
		if err := readEnv(ctx, eksc, ec2c, e); err != nil {
			return nil, err
		}
		w.Environments = append(w.Environments, *e)
	}
	sort.Slice(w.Environments, func(i, j int) bool { return w.Environments[i].Name < w.Environments[j].Name })
	if err := readRules(ctx, elbc, w); err != nil {
		return nil, err
	}
	return w, nil
}

func readEnv(ctx context.Context, eksc *eks.Client, ec2c *ec2.Client, e *Environment) error {
	name := e.Cluster.Name
	nodeSubnets := map[string]bool{}
	ngp := eks.NewListNodegroupsPaginator(eksc, &eks.ListNodegroupsInput{ClusterName: name})
	for ngp.HasMorePages() {
		page, err := ngp.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("listing node groups of %s: %w", aws.ToString(name), err)
		}
		for _, ng := range page.Nodegroups {
			d, err := eksc.DescribeNodegroup(ctx, &eks.DescribeNodegroupInput{ClusterName: name, NodegroupName: aws.String(ng)})
			if err != nil {
				return fmt.Errorf("describing node group %s: %w", ng, err)
			}
			e.Nodegroups = append(e.Nodegroups, d.Nodegroup)
			for _, s := range d.Nodegroup.Subnets {
				nodeSubnets[s] = true
			}
		}
	}
	ap := eks.NewListAddonsPaginator(eksc, &eks.ListAddonsInput{ClusterName: name})
	for ap.HasMorePages() {
		page, err := ap.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("listing add-ons of %s: %w", aws.ToString(name), err)
		}
		for _, a := range page.Addons {
			d, err := eksc.DescribeAddon(ctx, &eks.DescribeAddonInput{ClusterName: name, AddonName: aws.String(a)})
			if err != nil {
				return fmt.Errorf("describing add-on %s: %w", a, err)
			}
			e.Addons = append(e.Addons, d.Addon)
		}
	}
	sp := ec2.NewDescribeSubnetsPaginator(ec2c, &ec2.DescribeSubnetsInput{Filters: []ec2types.Filter{{Name: aws.String("vpc-id"), Values: []string{e.VPC}}}})
	for sp.HasMorePages() {
		page, err := sp.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("describing the subnets of %s: %w", e.VPC, err)
		}
		for _, s := range page.Subnets {
			id := aws.ToString(s.SubnetId)
			if nodeSubnets[id] {
				e.NodeSubnets = append(e.NodeSubnets, s)
			}
			for _, t := range s.Tags {
				if aws.ToString(t.Key) == "kubernetes.io/role/elb" || aws.ToString(t.Key) == "kubernetes.io/role/internal-elb" {
					e.LBSubnets = append(e.LBSubnets, id)
					break
				}
			}
		}
	}
	sort.Slice(e.NodeSubnets, func(i, j int) bool {
		return aws.ToString(e.NodeSubnets[i].AvailabilityZone) < aws.ToString(e.NodeSubnets[j].AvailabilityZone)
	})
	sort.Strings(e.LBSubnets)
	return nil
}

// readRules finds, for each environment, the listener rules whose forward
// action names its blue and green target groups.
func readRules(ctx context.Context, elbc *elb.Client, w *World) error {
	tgName := map[string]string{}
	tp := elb.NewDescribeTargetGroupsPaginator(elbc, &elb.DescribeTargetGroupsInput{})
	for tp.HasMorePages() {
		page, err := tp.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("describing target groups: %w", err)
		}
		for _, tg := range page.TargetGroups {
			tgName[aws.ToString(tg.TargetGroupArn)] = aws.ToString(tg.TargetGroupName)
		}
	}
	lp := elb.NewDescribeLoadBalancersPaginator(elbc, &elb.DescribeLoadBalancersInput{})
	for lp.HasMorePages() {
		page, err := lp.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("describing load balancers: %w", err)
		}
		for _, lb := range page.LoadBalancers {
			ls, err := elbc.DescribeListeners(ctx, &elb.DescribeListenersInput{LoadBalancerArn: lb.LoadBalancerArn})
			if err != nil {
				return fmt.Errorf("describing listeners of %s: %w", aws.ToString(lb.LoadBalancerName), err)
			}
			for _, l := range ls.Listeners {
				rs, err := elbc.DescribeRules(ctx, &elb.DescribeRulesInput{ListenerArn: l.ListenerArn})
				if err != nil {
					return fmt.Errorf("describing rules of %s: %w", aws.ToString(l.ListenerArn), err)
				}
				for _, r := range rs.Rules {
					if aws.ToBool(r.IsDefault) {
						continue
					}
					matchRule(w, r, tgName)
				}
			}
		}
	}
	return nil
}

func matchRule(w *World, r elbtypes.Rule, tgName map[string]string) {
	for i := range w.Environments {
		e := &w.Environments[i]
		var rule Rule
		for _, a := range r.Actions {
			if a.ForwardConfig == nil {
				continue
			}
			for _, tg := range a.ForwardConfig.TargetGroups {
				arn := aws.ToString(tg.TargetGroupArn)
				switch n := tgName[arn]; {
				case strings.HasPrefix(n, e.Name+"-blue-"):
					rule.Blue = arn
				case strings.HasPrefix(n, e.Name+"-green-"):
					rule.Green = arn
				}
			}
		}
		if rule.Blue != "" && rule.Green != "" {
			rule.ARN = aws.ToString(r.RuleArn)
			e.Rules = append(e.Rules, rule)
		}
	}
}
