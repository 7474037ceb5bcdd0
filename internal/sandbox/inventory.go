package sandbox

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"golang.org/x/sync/errgroup"
)

// Inventory is what an AWS endpoint serves, as eksbg sees it through the
// AWS APIs: the same calls it makes against a real account.
type Inventory struct {
	Account  string             `json:"account"`
	Region   string             `json:"region"`
	Endpoint string             `json:"endpoint,omitempty"`
	Subnets  []InventorySubnet  `json:"subnets"`
	Clusters []InventoryCluster `json:"clusters"`
	Rules    []InventoryRule    `json:"rules"`
	// Runtime is the running sandbox's processes, when it was started by
	// 'sandbox up' (nil for a bare 'sandbox serve' or a real account).
	Runtime *Runtime `json:"runtime,omitempty"`
}

// InventorySubnet is a subnet and its free addresses.
type InventorySubnet struct {
	ID           string `json:"id"`
	VPC          string `json:"vpc"`
	AZ           string `json:"az"`
	CIDR         string `json:"cidr"`
	Name         string `json:"name,omitempty"`
	AvailableIPs int32  `json:"availableIPs"`
}

// InventoryCluster is an EKS cluster and its node groups.
type InventoryCluster struct {
	Name       string               `json:"name"`
	Version    string               `json:"version"`
	Status     string               `json:"status"`
	Nodegroups []InventoryNodegroup `json:"nodegroups"`
}

// InventoryNodegroup is a managed node group.
type InventoryNodegroup struct {
	Name    string `json:"name"`
	Status  string `json:"status"`
	Type    string `json:"instanceType"`
	Desired int32  `json:"desired"`
}

// InventoryRule is a listener rule's forward weights.
type InventoryRule struct {
	LoadBalancer string           `json:"loadBalancer"`
	Priority     string           `json:"priority"`
	Weights      map[string]int32 `json:"weights"`
	ARN          string           `json:"arn"`
}

// Header implements output.Tabular: one row per resource.
func (i *Inventory) Header() []string { return []string{"KIND", "NAME", "DETAIL"} }

// Rows implements output.Tabular.
func (i *Inventory) Rows() [][]string {
	rows := [][]string{{"account", i.Account, i.Region + " " + i.Endpoint}}
	if rt := i.Runtime; rt != nil {
		state := "ready"
		if !rt.Ready {
			state = "starting"
		}
		if rt.Error != "" {
			state = "failed: " + rt.Error
		}
		rows = append(rows, []string{"sandbox", fmt.Sprintf("pid %d", rt.PID), fmt.Sprintf("%s since %s, %d processes", state, rt.StartedAt.Format(time.RFC3339), len(rt.Processes))})
		for _, c := range rt.Clusters {
			rows = append(rows, []string{"control-plane", c.Name, c.Endpoint})
		}
	}
	for _, s := range i.Subnets {
		name := s.ID
		if s.Name != "" {
			name += " (" + s.Name + ")"
		}
		rows = append(rows, []string{"subnet", name, fmt.Sprintf("%s %s %d free", s.AZ, s.CIDR, s.AvailableIPs)})
	}
	for _, c := range i.Clusters {
		rows = append(rows, []string{"cluster", c.Name, c.Status + " Kubernetes " + c.Version})
		for _, ng := range c.Nodegroups {
			rows = append(rows, []string{"nodegroup", c.Name + "/" + ng.Name, fmt.Sprintf("%s %d x %s", ng.Status, ng.Desired, ng.Type)})
		}
	}
	for _, r := range i.Rules {
		var parts []string
		for _, tg := range sortedKeys(r.Weights) {
			parts = append(parts, fmt.Sprintf("%s=%d", tg, r.Weights[tg]))
		}
		rows = append(rows, []string{"rule", r.LoadBalancer + " #" + r.Priority, strings.Join(parts, " ")})
	}
	return rows
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Inspect reads the inventory through the AWS APIs, concurrently per service.
func Inspect(ctx context.Context, cfg aws.Config) (*Inventory, error) {
	inv := &Inventory{Region: cfg.Region}
	if cfg.BaseEndpoint != nil {
		inv.Endpoint = *cfg.BaseEndpoint
	}
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		id, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if err != nil {
			return fmt.Errorf("getting caller identity: %w", err)
		}
		inv.Account = aws.ToString(id.Account)
		return nil
	})
	g.Go(func() error {
		p := ec2.NewDescribeSubnetsPaginator(ec2.NewFromConfig(cfg), &ec2.DescribeSubnetsInput{MaxResults: aws.Int32(1000)})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return fmt.Errorf("describing subnets: %w", err)
			}
			for _, s := range page.Subnets {
				is := InventorySubnet{ID: aws.ToString(s.SubnetId), VPC: aws.ToString(s.VpcId), AZ: aws.ToString(s.AvailabilityZone),
					CIDR: aws.ToString(s.CidrBlock), AvailableIPs: aws.ToInt32(s.AvailableIpAddressCount)}
				for _, t := range s.Tags {
					if aws.ToString(t.Key) == "Name" {
						is.Name = aws.ToString(t.Value)
					}
				}
				inv.Subnets = append(inv.Subnets, is)
			}
		}
		sort.Slice(inv.Subnets, func(a, b int) bool { return inv.Subnets[a].ID < inv.Subnets[b].ID })
		return nil
	})
	g.Go(func() error {
		client := eks.NewFromConfig(cfg)
		p := eks.NewListClustersPaginator(client, &eks.ListClustersInput{})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return fmt.Errorf("listing clusters: %w", err)
			}
			for _, name := range page.Clusters {
				c, err := client.DescribeCluster(ctx, &eks.DescribeClusterInput{Name: aws.String(name)})
				if err != nil {
					return fmt.Errorf("describing cluster %s: %w", name, err)
				}
				ic := InventoryCluster{Name: name, Version: aws.ToString(c.Cluster.Version), Status: string(c.Cluster.Status)}
				np := eks.NewListNodegroupsPaginator(client, &eks.ListNodegroupsInput{ClusterName: aws.String(name)})
				for np.HasMorePages() {
					ngs, err := np.NextPage(ctx)
					if err != nil {
						return fmt.Errorf("listing nodegroups of %s: %w", name, err)
					}
					for _, ngName := range ngs.Nodegroups {
						ng, err := client.DescribeNodegroup(ctx, &eks.DescribeNodegroupInput{ClusterName: aws.String(name), NodegroupName: aws.String(ngName)})
						if err != nil {
							return fmt.Errorf("describing nodegroup %s/%s: %w", name, ngName, err)
						}
						in := InventoryNodegroup{Name: ngName, Status: string(ng.Nodegroup.Status)}
						if len(ng.Nodegroup.InstanceTypes) > 0 {
							in.Type = ng.Nodegroup.InstanceTypes[0]
						}
						if ng.Nodegroup.ScalingConfig != nil {
							in.Desired = aws.ToInt32(ng.Nodegroup.ScalingConfig.DesiredSize)
						}
						ic.Nodegroups = append(ic.Nodegroups, in)
					}
				}
				inv.Clusters = append(inv.Clusters, ic)
			}
		}
		return nil
	})
	g.Go(func() error {
		client := elb.NewFromConfig(cfg)
		lbs := elb.NewDescribeLoadBalancersPaginator(client, &elb.DescribeLoadBalancersInput{})
		for lbs.HasMorePages() {
			page, err := lbs.NextPage(ctx)
			if err != nil {
				return fmt.Errorf("describing load balancers: %w", err)
			}
			for _, lb := range page.LoadBalancers {
				ls, err := client.DescribeListeners(ctx, &elb.DescribeListenersInput{LoadBalancerArn: lb.LoadBalancerArn})
				if err != nil {
					return fmt.Errorf("describing listeners of %s: %w", aws.ToString(lb.LoadBalancerName), err)
				}
				for _, l := range ls.Listeners {
					rules, err := client.DescribeRules(ctx, &elb.DescribeRulesInput{ListenerArn: l.ListenerArn})
					if err != nil {
						return fmt.Errorf("describing rules: %w", err)
					}
					for _, r := range rules.Rules {
						ir := InventoryRule{LoadBalancer: aws.ToString(lb.LoadBalancerName) + ":" + strconv.Itoa(int(aws.ToInt32(l.Port))),
							Priority: aws.ToString(r.Priority), Weights: map[string]int32{}, ARN: aws.ToString(r.RuleArn)}
						for _, a := range r.Actions {
							if a.ForwardConfig == nil {
								continue
							}
							for _, tg := range a.ForwardConfig.TargetGroups {
								ir.Weights[tgName(aws.ToString(tg.TargetGroupArn))] = aws.ToInt32(tg.Weight)
							}
						}
						inv.Rules = append(inv.Rules, ir)
					}
				}
			}
		}
		return nil
	})
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return inv, nil
}

// tgName is the name part of a target group ARN (…:targetgroup/NAME/ID).
func tgName(arn string) string {
	parts := strings.Split(arn, "/")
	if len(parts) >= 3 {
		return parts[len(parts)-2]
	}
	return arn
}
