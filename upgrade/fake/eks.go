package fake

import (
	"context"
	"sort"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
)

// EKS serves clusters, node groups and add-ons from memory. Its methods
// have the SDK's signatures, so it satisfies upgrade.EKSAPI and the SDK's
// waiter and paginator interfaces.
type EKS struct {
	Calls
	Errors
	mu       sync.Mutex
	clusters map[string]*eksCluster
}

type eksCluster struct {
	c          ekstypes.Cluster
	nodegroups map[string]ekstypes.Nodegroup
	addons     map[string]ekstypes.Addon
}

// PutCluster adds (or replaces) a cluster: name, Kubernetes version and
// status; endpoint and CA are made up.
func (f *EKS) PutCluster(name, version string, status ekstypes.ClusterStatus) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.clusters == nil {
		f.clusters = map[string]*eksCluster{}
	}
	c := f.clusters[name]
	if c == nil {
		c = &eksCluster{nodegroups: map[string]ekstypes.Nodegroup{}, addons: map[string]ekstypes.Addon{}}
		f.clusters[name] = c
	}
	c.c = ekstypes.Cluster{Name: aws.String(name), Version: aws.String(version), Status: status,
		Endpoint:             aws.String("https://" + name + ".eks.example"),
		CertificateAuthority: &ekstypes.Certificate{Data: aws.String("Y2E=")}} // "ca"
}

// SetClusterStatus changes a cluster's status.
func (f *EKS) SetClusterStatus(name string, status ekstypes.ClusterStatus) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if c := f.clusters[name]; c != nil {
		c.c.Status = status
	}
}

// DeleteCluster removes a cluster and everything of it.
func (f *EKS) DeleteCluster(name string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.clusters, name)
}

// PutNodegroup adds a node group of desired nodes to a cluster.
func (f *EKS) PutNodegroup(cluster, name string, desired int32, status ekstypes.NodegroupStatus) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if c := f.clusters[cluster]; c != nil {
		c.nodegroups[name] = ekstypes.Nodegroup{ClusterName: aws.String(cluster), NodegroupName: aws.String(name), Status: status,
			ScalingConfig: &ekstypes.NodegroupScalingConfig{DesiredSize: aws.Int32(desired), MinSize: aws.Int32(desired), MaxSize: aws.Int32(desired)}}
	}
}

// PutAddon adds an ACTIVE add-on to a cluster.
func (f *EKS) PutAddon(cluster, name string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if c := f.clusters[cluster]; c != nil {
		c.addons[name] = ekstypes.Addon{ClusterName: aws.String(cluster), AddonName: aws.String(name), Status: ekstypes.AddonStatusActive}
	}
}

// HasCluster reports whether the cluster exists.
func (f *EKS) HasCluster(name string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.clusters[name] != nil
}

func notFound(what string) error {
	return &ekstypes.ResourceNotFoundException{Message: aws.String(what + " not found")}
}

// DescribeCluster implements upgrade.EKSAPI.
func (f *EKS) DescribeCluster(_ context.Context, in *eks.DescribeClusterInput, _ ...func(*eks.Options)) (*eks.DescribeClusterOutput, error) {
	f.add("DescribeCluster")
	if err := f.take("DescribeCluster"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.clusters[aws.ToString(in.Name)]
	if c == nil {
		return nil, notFound("cluster " + aws.ToString(in.Name))
	}
	cl := c.c
	return &eks.DescribeClusterOutput{Cluster: &cl}, nil
}

// ListNodegroups implements upgrade.EKSAPI (one page).
func (f *EKS) ListNodegroups(_ context.Context, in *eks.ListNodegroupsInput, _ ...func(*eks.Options)) (*eks.ListNodegroupsOutput, error) {
	f.add("ListNodegroups")
	if err := f.take("ListNodegroups"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.clusters[aws.ToString(in.ClusterName)]
	if c == nil {
		return nil, notFound("cluster " + aws.ToString(in.ClusterName))
	}
	var names []string
	for n := range c.nodegroups {
		names = append(names, n)
	}
	sort.Strings(names)
	return &eks.ListNodegroupsOutput{Nodegroups: names}, nil
}

// DescribeNodegroup implements upgrade.EKSAPI.
func (f *EKS) DescribeNodegroup(_ context.Context, in *eks.DescribeNodegroupInput, _ ...func(*eks.Options)) (*eks.DescribeNodegroupOutput, error) {
	f.add("DescribeNodegroup")
	if err := f.take("DescribeNodegroup"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.clusters[aws.ToString(in.ClusterName)]
	if c == nil {
		return nil, notFound("cluster " + aws.ToString(in.ClusterName))
	}
	ng, ok := c.nodegroups[aws.ToString(in.NodegroupName)]
	if !ok {
		return nil, notFound("node group " + aws.ToString(in.NodegroupName))
	}
	return &eks.DescribeNodegroupOutput{Nodegroup: &ng}, nil
}

// ListAddons implements upgrade.EKSAPI (one page).
func (f *EKS) ListAddons(_ context.Context, in *eks.ListAddonsInput, _ ...func(*eks.Options)) (*eks.ListAddonsOutput, error) {
	f.add("ListAddons")
	if err := f.take("ListAddons"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.clusters[aws.ToString(in.ClusterName)]
	if c == nil {
		return nil, notFound("cluster " + aws.ToString(in.ClusterName))
	}
	var names []string
	for n := range c.addons {
		names = append(names, n)
	}
	sort.Strings(names)
	return &eks.ListAddonsOutput{Addons: names}, nil
}

// DescribeAddon implements upgrade.EKSAPI.
func (f *EKS) DescribeAddon(_ context.Context, in *eks.DescribeAddonInput, _ ...func(*eks.Options)) (*eks.DescribeAddonOutput, error) {
	f.add("DescribeAddon")
	if err := f.take("DescribeAddon"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.clusters[aws.ToString(in.ClusterName)]
	if c == nil {
		return nil, notFound("cluster " + aws.ToString(in.ClusterName))
	}
	a, ok := c.addons[aws.ToString(in.AddonName)]
	if !ok {
		return nil, notFound("add-on " + aws.ToString(in.AddonName))
	}
	return &eks.DescribeAddonOutput{Addon: &a}, nil
}

func (f *EKS) hasNodegroup(cluster, name string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.clusters[cluster]
	if c == nil {
		return false
	}
	_, ok := c.nodegroups[name]
	return ok
}
