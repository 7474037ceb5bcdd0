package capacity

import (
	"context"

	"github.com/eksbg/eksbg/internal/cni"
)

// Input is one green cluster to check, and what only the environment knows
// about it.
type Input struct {
	// Name labels the report (an environment name or a file name).
	Name string
	// Cluster is the green cluster's shape.
	Cluster Cluster
	// BlueCluster names the cluster running today; PodCensus and
	// CNIEnvSource are asked about it. "" when there is none.
	BlueCluster string
	// ListenerRules are the ALB listener rule ARNs whose weights the
	// upgrade shifts (eksbg.yaml traffic.listenerRules): the load balancers
	// they belong to are checked against the rules-per-ALB quota.
	ListenerRules []string
	// GreenTargetGroups are the green target group ARNs of eksbg.yaml;
	// those that do not exist yet count against the target-groups quota.
	GreenTargetGroups []string
}

// Cluster is the green cluster as the capacity model sees it. It is built
// from an eksctl ClusterConfig by FromConfig, or by hand.
type Cluster struct {
	// Name of the green cluster.
	Name string
	// Version is the Kubernetes version it will run (shown, not used by
	// the model).
	Version string
	// Region is the config's region ("" when it names none).
	Region string
	// VPCID is the cluster's VPC; "" to find it from the subnets.
	VPCID string
	// ControlPlaneSubnets are the subnets EKS places the control plane's
	// network interfaces in.
	ControlPlaneSubnets []SubnetRef
	// NodeGroups are the cluster's node groups.
	NodeGroups []NodeGroup
	// CNI are the VPC CNI settings; CNISource says where they came from.
	// When CNISource is "", Check reads them from the blue cluster's
	// aws-node DaemonSet (CNIEnvSource) or takes cni.DefaultSettings.
	CNI       cni.Settings
	CNISource string
	// PodSubnets maps an availability zone to the subnet of its ENIConfig,
	// for VPC CNI custom networking. Check reads them from CNIEnvSource
	// when custom networking is on and this is empty.
	PodSubnets map[string]string
}

// SubnetRef names a subnet by ID, or by CIDR when a config gives no ID (it
// is then looked up in the VPC).
type SubnetRef struct {
	ID   string
	CIDR string
}

// NodeGroup is one node group of the green cluster.
type NodeGroup struct {
	Name    string
	Managed bool
	// InstanceTypes the group may launch; the model charges each node the
	// most addresses (and vCPUs) any of them needs.
	InstanceTypes []string
	Spot          bool
	// Desired and Max are desiredCapacity and maxSize.
	Desired, Max int
	// PodsPerNode is N of the model when known (eksbg.yaml
	// cluster.podsPerNode); 0 leaves it to PodCensus, then to max pods.
	PodsPerNode int
	// BranchPodsPerNode are pods with security groups for pods, each on a
	// branch ENI with one address.
	BranchPodsPerNode int
	// MaxPodsOverride is maxPodsPerNode (0: computed).
	MaxPodsOverride int
	// Subnets the group's nodes are launched in.
	Subnets []SubnetRef
}

// PodCount is what a node group's nodes carry on average.
type PodCount struct {
	// Pods per node that are neither host-network nor on a branch ENI.
	Pods float64
	// BranchPods per node (security groups for pods).
	BranchPods float64
}

// PodCensus reads the blue cluster's pods. It is implemented over the
// Kubernetes API (left for the cluster client); a nil PodCensus in Clients
// means "not available", and the model then assumes max pods per node.
type PodCensus interface {
	// PodsPerNode returns, per node group name, the average pods per node.
	PodsPerNode(ctx context.Context, cluster string) (map[string]PodCount, error)
}

// CNIEnvSource reads the blue cluster's VPC CNI configuration. A nil
// CNIEnvSource means "not available".
type CNIEnvSource interface {
	// AWSNodeEnv returns the environment of the aws-node DaemonSet's
	// aws-node container (nil when the DaemonSet is absent).
	AWSNodeEnv(ctx context.Context, cluster string) (map[string]string, error)
	// ENIConfigSubnets returns, per availability zone, the subnet of the
	// ENIConfig that custom networking uses there.
	ENIConfigSubnets(ctx context.Context, cluster string) (map[string]string, error)
}
