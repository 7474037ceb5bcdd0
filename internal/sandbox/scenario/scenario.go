// Package scenario reads SandboxScenario files: the world the sandbox's AWS
// emulator starts from (documented in docs/sandbox.md). The field names are a
// contract: tests outside this repository write these files.
package scenario

// APIVersion and Kind identify a scenario file.
const (
	APIVersion = "eksbg.io/v1alpha1"
	Kind       = "SandboxScenario"
)

// Scenario is a sandbox world.
type Scenario struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	// Account is the 12-digit AWS account ID the emulator answers as.
	Account string `yaml:"account"`
	// Region is the one region the emulator serves.
	Region string `yaml:"region"`
	// Credentials the emulator accepts; default test/test.
	Credentials []Credential `yaml:"credentials,omitempty"`
	// Timing of asynchronous state changes, in seconds.
	Timing Timing `yaml:"timing,omitempty"`
	// AvailabilityZones of the region; default: a, b, c plus every zone a subnet uses.
	AvailabilityZones []string           `yaml:"availabilityZones,omitempty"`
	VPCs              []VPC              `yaml:"vpcs"`
	InstanceTypes     []InstanceType     `yaml:"instanceTypes,omitempty"`
	Clusters          []Cluster          `yaml:"clusters,omitempty"`
	TargetGroups      []TargetGroup      `yaml:"targetGroups,omitempty"`
	LoadBalancers     []LoadBalancer     `yaml:"loadBalancers,omitempty"`
	Quotas            map[string]float64 `yaml:"quotas,omitempty"`
	Traffic           Traffic            `yaml:"traffic,omitempty"`
	Faults            []Fault            `yaml:"faults,omitempty"`
	// Buckets are S3 buckets that exist when the sandbox starts.
	Buckets []Bucket `yaml:"buckets,omitempty"`
}

// Credential is an access key pair the emulator accepts, and the IAM
// principal it stands for.
type Credential struct {
	AccessKeyID     string `yaml:"accessKeyId"`
	SecretAccessKey string `yaml:"secretAccessKey"`
	// ARN of the caller; default arn:aws:iam::<account>:user/sandbox.
	ARN string `yaml:"arn,omitempty"`
}

// Timing holds the seconds each asynchronous transition takes.
type Timing struct {
	ClusterCreate   float64 `yaml:"clusterCreate,omitempty"`
	ClusterDelete   float64 `yaml:"clusterDelete,omitempty"`
	NodegroupCreate float64 `yaml:"nodegroupCreate,omitempty"`
	NodegroupDelete float64 `yaml:"nodegroupDelete,omitempty"`
	NodegroupUpdate float64 `yaml:"nodegroupUpdate,omitempty"`
	AddonCreate     float64 `yaml:"addonCreate,omitempty"`
	AddonDelete     float64 `yaml:"addonDelete,omitempty"`
	// TargetInitial is how long a newly registered target stays "initial"
	// before its health checks pass.
	TargetInitial float64 `yaml:"targetInitial,omitempty"`
}

// VPC is a VPC and its subnets.
type VPC struct {
	ID      string            `yaml:"id"`
	CIDR    string            `yaml:"cidr"`
	Tags    map[string]string `yaml:"tags,omitempty"`
	Subnets []Subnet          `yaml:"subnets"`
}

// Subnet is a subnet of a VPC.
type Subnet struct {
	ID   string            `yaml:"id"`
	AZ   string            `yaml:"az"`
	CIDR string            `yaml:"cidr"`
	Tags map[string]string `yaml:"tags,omitempty"`
	// ReservedIPs are addresses held by things outside the scenario's
	// clusters (NAT gateways, databases, endpoints); they appear as
	// requester-managed ENIs.
	ReservedIPs int `yaml:"reservedIPs,omitempty"`
	// ReservedLayout places them: "packed" (lowest addresses, the default)
	// or "scattered" (one in every /28, so no /28 prefix is free).
	ReservedLayout string `yaml:"reservedLayout,omitempty"`
	// NetworkInterfaces are ENIs created by hand (CreateNetworkInterface):
	// unattached, with secondary addresses and /28 prefixes.
	NetworkInterfaces []NetworkInterface `yaml:"networkInterfaces,omitempty"`
}

// NetworkInterface is an unattached ENI that exists when the sandbox starts.
type NetworkInterface struct {
	// Name is the ENI's Name tag.
	Name        string            `yaml:"name"`
	Description string            `yaml:"description,omitempty"`
	Tags        map[string]string `yaml:"tags,omitempty"`
	// SecondaryIPs is the number of secondary private IPv4 addresses.
	SecondaryIPs int `yaml:"secondaryIPs,omitempty"`
	// Prefixes is the number of /28 IPv4 prefixes delegated to the ENI.
	Prefixes int `yaml:"prefixes,omitempty"`
}

// InstanceType adds to or overrides the built-in instance-type table.
type InstanceType struct {
	Name       string `yaml:"name"`
	VCPUs      int    `yaml:"vcpus"`
	MaxENIs    int    `yaml:"maxENIs"`
	IPv4PerENI int    `yaml:"ipv4PerENI"`
	MemoryMiB  int    `yaml:"memoryMiB,omitempty"`
	// Hypervisor "nitro" (default) or "xen".
	Hypervisor string `yaml:"hypervisor,omitempty"`
}

// Cluster is an EKS cluster that exists when the sandbox starts.
type Cluster struct {
	Name       string            `yaml:"name"`
	Version    string            `yaml:"version"`
	Subnets    []string          `yaml:"subnets"`
	Tags       map[string]string `yaml:"tags,omitempty"`
	CNI        CNI               `yaml:"cni,omitempty"`
	Nodegroups []Nodegroup       `yaml:"nodegroups,omitempty"`
	Addons     []Addon           `yaml:"addons,omitempty"`
	// AccessEntries let IAM principals other than the cluster's creator
	// authenticate to its Kubernetes API.
	AccessEntries []AccessEntry `yaml:"accessEntries,omitempty"`
}

// AccessEntry maps an IAM principal to a Kubernetes user and groups, with
// the field names of EKS's AccessEntry
// (https://docs.aws.amazon.com/eks/latest/APIReference/API_AccessEntry.html).
type AccessEntry struct {
	// PrincipalARN is an IAM user or role ARN (not an STS session: EKS
	// refuses those). A role matches every session of it.
	PrincipalARN string `yaml:"principalArn" json:"principalArn"`
	// Username is the Kubernetes username; default as EKS makes it: the
	// user's ARN, or arn:aws:sts::<account>:assumed-role/<role>/{{SessionName}}.
	// {{AccountID}}, {{SessionName}} and {{SessionNameRaw}} are expanded.
	Username string `yaml:"username,omitempty" json:"username,omitempty"`
	// KubernetesGroups are the Kubernetes groups the principal belongs to.
	KubernetesGroups []string `yaml:"kubernetesGroups,omitempty" json:"kubernetesGroups,omitempty"`
}

// CNI holds the VPC CNI settings of a cluster's aws-node DaemonSet.
type CNI struct {
	// Mode is "secondary-ip" (default) or "prefix-delegation".
	Mode             string `yaml:"mode,omitempty"`
	WarmENITarget    *int   `yaml:"warmENITarget,omitempty"`
	WarmIPTarget     *int   `yaml:"warmIPTarget,omitempty"`
	MinimumIPTarget  *int   `yaml:"minimumIPTarget,omitempty"`
	WarmPrefixTarget *int   `yaml:"warmPrefixTarget,omitempty"`
	MaxENI           *int   `yaml:"maxENI,omitempty"`
	// PodSubnets turns on custom networking: AZ -> the ENIConfig's subnet.
	PodSubnets map[string]string `yaml:"podSubnets,omitempty"`
}

// Nodegroup is a managed node group.
type Nodegroup struct {
	Name         string            `yaml:"name"`
	InstanceType string            `yaml:"instanceType"`
	CapacityType string            `yaml:"capacityType,omitempty"`
	Desired      int               `yaml:"desired"`
	Min          int               `yaml:"min"`
	Max          int               `yaml:"max"`
	Subnets      []string          `yaml:"subnets,omitempty"`
	PodsPerNode  int               `yaml:"podsPerNode,omitempty"`
	MaxPods      int               `yaml:"maxPods,omitempty"`
	Labels       map[string]string `yaml:"labels,omitempty"`
	AMIType      string            `yaml:"amiType,omitempty"`
}

// Addon is an EKS add-on.
type Addon struct {
	Name    string `yaml:"name"`
	Version string `yaml:"version"`
	// ConfigurationValues is the add-on's JSON or YAML configuration.
	ConfigurationValues string `yaml:"configurationValues,omitempty"`
}

// TargetGroup is an ALB target group.
type TargetGroup struct {
	Name       string `yaml:"name"`
	VPC        string `yaml:"vpc"`
	Protocol   string `yaml:"protocol,omitempty"`
	Port       int    `yaml:"port,omitempty"`
	TargetType string `yaml:"targetType,omitempty"`
	// Cluster whose pods back this target group (traffic model and
	// target health follow that cluster).
	Cluster string `yaml:"cluster,omitempty"`
	// Targets registered at start: IP addresses, or the count of pod IPs to
	// take from the cluster's nodes.
	Targets         []string `yaml:"targets,omitempty"`
	TargetCount     int      `yaml:"targetCount,omitempty"`
	HealthCheckPath string   `yaml:"healthCheckPath,omitempty"`
}

// LoadBalancer is an Application Load Balancer.
type LoadBalancer struct {
	Name      string     `yaml:"name"`
	Scheme    string     `yaml:"scheme,omitempty"`
	Subnets   []string   `yaml:"subnets"`
	Listeners []Listener `yaml:"listeners"`
}

// Listener is a load-balancer listener.
type Listener struct {
	Port     int    `yaml:"port"`
	Protocol string `yaml:"protocol,omitempty"`
	// DefaultForward is the default action's weighted target groups.
	DefaultForward []Forward `yaml:"defaultForward"`
	Rules          []Rule    `yaml:"rules,omitempty"`
}

// Rule is a listener rule.
type Rule struct {
	// Name is the rule's Name tag; traffic and eksbg.yaml refer to it.
	Name        string    `yaml:"name"`
	Priority    int       `yaml:"priority"`
	PathPattern []string  `yaml:"pathPattern,omitempty"`
	HostHeader  []string  `yaml:"hostHeader,omitempty"`
	Forward     []Forward `yaml:"forward"`
}

// Forward is one weighted target group of a forward action.
type Forward struct {
	TargetGroup string `yaml:"targetGroup"`
	Weight      int    `yaml:"weight"`
}

// Traffic is the model behind the CloudWatch metrics.
type Traffic struct {
	// Rules maps a rule name to its requests per second.
	Rules map[string]float64 `yaml:"rules,omitempty"`
	// Clusters maps a cluster name to how its pods answer.
	Clusters map[string]ClusterTraffic `yaml:"clusters,omitempty"`
}

// ClusterTraffic is how a cluster's pods answer requests.
type ClusterTraffic struct {
	// ErrorRate is the fraction (0..1) of requests answered 5xx.
	ErrorRate float64 `yaml:"errorRate"`
	// P99Ms is the 99th percentile target response time in milliseconds.
	P99Ms float64 `yaml:"p99Ms"`
	// P50Ms is the median; default P99Ms / 4.
	P50Ms float64 `yaml:"p50Ms,omitempty"`
}

// Bucket is an S3 bucket (empty, in the scenario's region), for example
// the one eksbg's s3 state backend keeps upgrade state in.
type Bucket struct {
	// Name follows S3's general purpose bucket naming rules.
	Name string `yaml:"name"`
}

// Fault injects latency, throttling and server errors.
type Fault struct {
	// Service is a signing name (ec2, eks, elasticloadbalancing,
	// servicequotas, monitoring, sts, s3) or "*".
	Service string `yaml:"service" json:"service"`
	// Operation is an operation name or "*".
	Operation string  `yaml:"operation" json:"operation"`
	LatencyMs float64 `yaml:"latencyMs,omitempty" json:"latencyMs,omitempty"`
	// JitterMs adds a uniformly random 0..JitterMs to LatencyMs per call.
	JitterMs float64 `yaml:"jitterMs,omitempty" json:"jitterMs,omitempty"`
	// ThrottleRate and ErrorRate are fractions 0..1 of calls.
	ThrottleRate float64 `yaml:"throttleRate,omitempty" json:"throttleRate,omitempty"`
	ErrorRate    float64 `yaml:"errorRate,omitempty" json:"errorRate,omitempty"`
}
