package emulator

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"sort"
	"time"

	"github.com/eksbg/eksbg/internal/sandbox/scenario"
)

// World is the whole emulated AWS account and region. Every field is
// exported so the world persists as JSON; derived indexes (subnet address
// maps) are rebuilt on load. The Server serialises access with one mutex.
type World struct {
	// Scenario records the scenario the world was built from, so that a
	// saved world is resumed only with it (persist.go).
	Scenario *ScenarioRecord `json:"scenario,omitempty"`

	Account     string                `json:"account"`
	Region      string                `json:"region"`
	Credentials []scenario.Credential `json:"credentials"`
	Timing      scenario.Timing       `json:"timing"`
	// Seed and Counter make generated IDs deterministic.
	Seed    string `json:"seed"`
	Counter uint64 `json:"counter"`

	AZs           []string                 `json:"azs"`
	InstanceTypes map[string]*InstanceType `json:"instanceTypes"`
	VPCs          map[string]*VPC          `json:"vpcs"`
	Subnets       map[string]*Subnet       `json:"subnets"`
	ENIs          map[string]*ENI          `json:"enis"`
	Instances     map[string]*Instance     `json:"instances"`
	Clusters      map[string]*Cluster      `json:"clusters"`

	LoadBalancers map[string]*LoadBalancer `json:"loadBalancers"`
	Listeners     map[string]*Listener     `json:"listeners"`
	Rules         map[string]*Rule         `json:"rules"`
	TargetGroups  map[string]*TargetGroup  `json:"targetGroups"`

	// Quotas maps "<service code>/<quota code>" to an applied value.
	Quotas  map[string]float64 `json:"quotas"`
	Traffic Traffic            `json:"traffic"`
	Faults  []scenario.Fault   `json:"faults"`
	// CIDRReservations are subnet CIDR reservations, by ID (ec2_cidr_reservations.go).
	CIDRReservations map[string]*CIDRReservation `json:"cidrReservations,omitempty"`
	// Buckets are S3 buckets with their objects, by name (s3.go).
	Buckets map[string]*Bucket `json:"buckets,omitempty"`
	// HoldForControlPlanes keeps clusters CREATING until ControlPlaneReady (controlplane.go).
	HoldForControlPlanes bool `json:"-"`
	// PodReadiness maps a cluster to its pods' addresses and whether each
	// is ready, as the sandbox's TargetGroupBinding controller reports
	// them (elbv2_readiness.go); not saved.
	PodReadiness map[string]map[string]bool `json:"-"`
}

// InstanceType is one row of DescribeInstanceTypes.
type InstanceType struct {
	Name       string `json:"name"`
	VCPUs      int    `json:"vcpus"`
	MemoryMiB  int    `json:"memoryMiB"`
	MaxENIs    int    `json:"maxENIs"`
	IPv4PerENI int    `json:"ipv4PerENI"`
	Hypervisor string `json:"hypervisor"`
	// Arch is x86_64 or arm64.
	Arch string `json:"arch"`
}

// VPC is a VPC.
type VPC struct {
	ID        string            `json:"id"`
	CIDR      string            `json:"cidr"`
	Tags      map[string]string `json:"tags,omitempty"`
	IsDefault bool              `json:"isDefault,omitempty"`
}

// Subnet is a subnet; its address map is rebuilt from the ENIs on load.
type Subnet struct {
	ID    string            `json:"id"`
	VPCID string            `json:"vpcId"`
	AZ    string            `json:"az"`
	CIDR  string            `json:"cidr"`
	Tags  map[string]string `json:"tags,omitempty"`

	ipam *ipam
}

// ENI is an elastic network interface with its addresses.
type ENI struct {
	ID               string            `json:"id"`
	SubnetID         string            `json:"subnetId"`
	VPCID            string            `json:"vpcId"`
	AZ               string            `json:"az"`
	Description      string            `json:"description"`
	InterfaceType    string            `json:"interfaceType"`
	RequesterManaged bool              `json:"requesterManaged,omitempty"`
	RequesterID      string            `json:"requesterId,omitempty"`
	Status           string            `json:"status"`
	MAC              string            `json:"mac"`
	PrivateIPs       []string          `json:"privateIps"` // first is primary
	Prefixes         []string          `json:"prefixes,omitempty"`
	InstanceID       string            `json:"instanceId,omitempty"`
	DeviceIndex      int               `json:"deviceIndex,omitempty"`
	AttachmentID     string            `json:"attachmentId,omitempty"`
	AttachTime       time.Time         `json:"attachTime,omitempty"`
	Tags             map[string]string `json:"tags,omitempty"`
	// Cluster and Nodegroup record which emulated EKS resource owns the ENI.
	Cluster   string `json:"cluster,omitempty"`
	Nodegroup string `json:"nodegroup,omitempty"`
}

// Instance is an EC2 instance (a node of a managed node group).
type Instance struct {
	ID           string            `json:"id"`
	Type         string            `json:"type"`
	SubnetID     string            `json:"subnetId"`
	VPCID        string            `json:"vpcId"`
	AZ           string            `json:"az"`
	PrivateIP    string            `json:"privateIp"`
	State        string            `json:"state"`
	LaunchTime   time.Time         `json:"launchTime"`
	CapacityType string            `json:"capacityType"`
	ImageID      string            `json:"imageId"`
	ENIs         []string          `json:"enis"`
	Tags         map[string]string `json:"tags,omitempty"`
	Cluster      string            `json:"cluster,omitempty"`
	Nodegroup    string            `json:"nodegroup,omitempty"`
}

// Cluster is an EKS cluster.
type Cluster struct {
	Name             string                `json:"name"`
	ARN              string                `json:"arn"`
	Version          string                `json:"version"`
	PlatformVersion  string                `json:"platformVersion"`
	Status           string                `json:"status"`
	CreatedAt        time.Time             `json:"createdAt"`
	Deadline         time.Time             `json:"deadline,omitempty"` // of the current transition
	RoleARN          string                `json:"roleArn"`
	SubnetIDs        []string              `json:"subnetIds"`
	SecurityGroupIDs []string              `json:"securityGroupIds,omitempty"`
	ClusterSGID      string                `json:"clusterSecurityGroupId"`
	VPCID            string                `json:"vpcId"`
	EndpointPublic   bool                  `json:"endpointPublic"`
	EndpointPrivate  bool                  `json:"endpointPrivate"`
	PublicCIDRs      []string              `json:"publicCidrs,omitempty"`
	LogTypes         []string              `json:"logTypes,omitempty"`
	ServiceCIDR      string                `json:"serviceCidr"`
	Endpoint         string                `json:"endpoint,omitempty"`
	CertificateData  string                `json:"certificateData,omitempty"`
	OIDCIssuer       string                `json:"oidcIssuer,omitempty"`
	Tags             map[string]string     `json:"tags,omitempty"`
	AuthMode         string                `json:"authenticationMode,omitempty"`
	SupportType      string                `json:"supportType,omitempty"` // upgrade policy; "" is EKS's default, EXTENDED
	CNI              scenario.CNI          `json:"cni"`
	ControlPlaneENIs []string              `json:"controlPlaneEnis,omitempty"`
	Nodegroups       map[string]*Nodegroup `json:"nodegroups"`
	Addons           map[string]*Addon     `json:"addons"`
	// Updates are the cluster's update records (UpdateNodegroupConfig), by ID.
	Updates map[string]*Update `json:"updates,omitempty"`
	// CreatorAdminARN is the creator EKS made cluster admin (authn.go); ""
	// when CreateCluster set bootstrapClusterCreatorAdminPermissions false.
	CreatorAdminARN string `json:"creatorAdminArn,omitempty"`
	// AccessEntries map other IAM principals to Kubernetes users (authn.go).
	AccessEntries []scenario.AccessEntry `json:"accessEntries,omitempty"`
	// ControlPlaneReady: the sandbox's API server serves Endpoint (controlplane.go).
	ControlPlaneReady bool `json:"-"`
}

// Nodegroup is a managed node group.
type Nodegroup struct {
	Name           string            `json:"name"`
	ARN            string            `json:"arn"`
	Cluster        string            `json:"cluster"`
	Status         string            `json:"status"`
	CreatedAt      time.Time         `json:"createdAt"`
	ModifiedAt     time.Time         `json:"modifiedAt"`
	Deadline       time.Time         `json:"deadline,omitempty"`
	Version        string            `json:"version"`
	ReleaseVersion string            `json:"releaseVersion"`
	InstanceTypes  []string          `json:"instanceTypes"`
	CapacityType   string            `json:"capacityType"`
	AMIType        string            `json:"amiType"`
	DiskSize       int               `json:"diskSize,omitempty"`
	Min            int               `json:"min"`
	Max            int               `json:"max"`
	Desired        int               `json:"desired"`
	SubnetIDs      []string          `json:"subnetIds"`
	NodeRole       string            `json:"nodeRole"`
	Labels         map[string]string `json:"labels,omitempty"`
	Taints         []Taint           `json:"taints,omitempty"`
	Tags           map[string]string `json:"tags,omitempty"`
	// PodsPerNode is N of the VPC CNI model; 0 means "max pods".
	PodsPerNode int `json:"podsPerNode,omitempty"`
	// MaxPods overrides the computed max pods (eksctl maxPodsPerNode).
	MaxPods   int      `json:"maxPods,omitempty"`
	Instances []string `json:"instances"`
	// Health lists the group's health issues (DEGRADED groups have some).
	Health []HealthIssue `json:"health,omitempty"`
	// MaxUnavailable of the update config.
	MaxUnavailable int `json:"maxUnavailable,omitempty"`
	// MaxUnavailablePercentage of the update config (instead of MaxUnavailable).
	MaxUnavailablePercentage int `json:"maxUnavailablePercentage,omitempty"`
	// LaunchTemplate the group was created with, if any.
	LaunchTemplate *LaunchTemplateSpec `json:"launchTemplate,omitempty"`
}

// LaunchTemplateSpec names an EC2 launch template, in EKS's API shape.
type LaunchTemplateSpec struct {
	Name    string `json:"name,omitempty"`
	Version string `json:"version,omitempty"`
	ID      string `json:"id,omitempty"`
}

// HealthIssue is a nodegroup health issue as EKS reports it.
type HealthIssue struct {
	Code        string   `json:"code"`
	Message     string   `json:"message"`
	ResourceIDs []string `json:"resourceIds,omitempty"`
}

// Taint is a Kubernetes taint in EKS's API shape.
type Taint struct {
	Key    string `json:"key"`
	Value  string `json:"value,omitempty"`
	Effect string `json:"effect"`
}

// Addon is an EKS add-on.
type Addon struct {
	Name                string            `json:"name"`
	ARN                 string            `json:"arn"`
	Version             string            `json:"version"`
	Status              string            `json:"status"`
	CreatedAt           time.Time         `json:"createdAt"`
	ModifiedAt          time.Time         `json:"modifiedAt"`
	Deadline            time.Time         `json:"deadline,omitempty"`
	ServiceAccountRole  string            `json:"serviceAccountRoleArn,omitempty"`
	ConfigurationValues string            `json:"configurationValues,omitempty"`
	Tags                map[string]string `json:"tags,omitempty"`
}

// Update is an EKS update record (UpdateNodegroupConfig and friends).
type Update struct {
	ID        string        `json:"id"`
	Type      string        `json:"type"`
	Status    string        `json:"status"`
	CreatedAt time.Time     `json:"createdAt"`
	Params    []UpdateParam `json:"params,omitempty"`
	Nodegroup string        `json:"nodegroup,omitempty"`
}

// UpdateParam is one parameter of an EKS update.
type UpdateParam struct {
	Type  string `json:"type"`
	Value string `json:"value"`
}

// LoadBalancer is an Application Load Balancer.
type LoadBalancer struct {
	ARN            string            `json:"arn"`
	Name           string            `json:"name"`
	DNSName        string            `json:"dnsName"`
	Scheme         string            `json:"scheme"`
	VPCID          string            `json:"vpcId"`
	SubnetIDs      []string          `json:"subnetIds"`
	SecurityGroups []string          `json:"securityGroups,omitempty"`
	CreatedAt      time.Time         `json:"createdAt"`
	State          string            `json:"state"`
	Tags           map[string]string `json:"tags,omitempty"`
	ENIs           []string          `json:"enis,omitempty"`
}

// Listener is a load-balancer listener.
type Listener struct {
	ARN            string   `json:"arn"`
	LoadBalancer   string   `json:"loadBalancer"`
	Port           int      `json:"port"`
	Protocol       string   `json:"protocol"`
	DefaultActions []Action `json:"defaultActions"`
	// DefaultRule is the ARN of the listener's default rule.
	DefaultRule string            `json:"defaultRule"`
	Tags        map[string]string `json:"tags,omitempty"`
}

// Rule is a listener rule; the default rule mirrors the listener's default actions.
type Rule struct {
	ARN        string            `json:"arn"`
	Listener   string            `json:"listener"`
	Priority   string            `json:"priority"` // "default" or a number
	IsDefault  bool              `json:"isDefault,omitempty"`
	Conditions []Condition       `json:"conditions,omitempty"`
	Actions    []Action          `json:"actions"`
	Tags       map[string]string `json:"tags,omitempty"`
	// History of forward weights (target group ARN -> weight), oldest
	// first, so CloudWatch metrics can follow weight shifts over time.
	History []WeightChange `json:"history,omitempty"`
}

// Condition is a rule condition.
type Condition struct {
	Field  string   `json:"field"`
	Values []string `json:"values"`
}

// Action is a listener or rule action; eksbg uses forward actions.
type Action struct {
	Type           string         `json:"type"`
	Order          int            `json:"order,omitempty"`
	TargetGroupARN string         `json:"targetGroupArn,omitempty"`
	Forward        *ForwardConfig `json:"forward,omitempty"`
	FixedResponse  *FixedResponse `json:"fixedResponse,omitempty"`
}

// ForwardConfig is the weighted target groups of a forward action.
type ForwardConfig struct {
	TargetGroups      []WeightedTG `json:"targetGroups"`
	StickinessEnabled bool         `json:"stickinessEnabled,omitempty"`
	StickinessSeconds int          `json:"stickinessSeconds,omitempty"`
}

// WeightedTG is one target group of a forward action.
type WeightedTG struct {
	ARN    string `json:"arn"`
	Weight int    `json:"weight"`
}

// FixedResponse is a fixed-response action.
type FixedResponse struct {
	StatusCode  string `json:"statusCode"`
	ContentType string `json:"contentType,omitempty"`
	MessageBody string `json:"messageBody,omitempty"`
}

// WeightChange records the forward weights a rule took at a time.
type WeightChange struct {
	At      time.Time      `json:"at"`
	Weights map[string]int `json:"weights"`
}

// TargetGroup is a target group.
type TargetGroup struct {
	ARN             string            `json:"arn"`
	Name            string            `json:"name"`
	VPCID           string            `json:"vpcId"`
	Protocol        string            `json:"protocol"`
	Port            int               `json:"port"`
	TargetType      string            `json:"targetType"`
	HealthCheckPath string            `json:"healthCheckPath"`
	LoadBalancers   []string          `json:"loadBalancers,omitempty"`
	Targets         []Target          `json:"targets,omitempty"`
	Tags            map[string]string `json:"tags,omitempty"`
	// Cluster whose pods back the group (traffic model).
	Cluster string `json:"cluster,omitempty"`
}

// Target is a registered target.
type Target struct {
	ID           string    `json:"id"`
	Port         int       `json:"port"`
	AZ           string    `json:"az,omitempty"`
	RegisteredAt time.Time `json:"registeredAt"`
	// Draining is set by DeregisterTargets until the deregistration delay passes.
	DrainingUntil time.Time `json:"drainingUntil,omitempty"`
}

// Traffic is the model behind CloudWatch metrics, with its history.
type Traffic struct {
	// RuleRPS maps a rule ARN to its requests per second over time.
	RuleRPS map[string][]RPSChange `json:"ruleRps"`
	// Clusters maps a cluster name to how its pods answer, with history.
	Clusters map[string][]ClusterTrafficChange `json:"clusters"`
}

// RPSChange records a rule's requests per second from a time on.
type RPSChange struct {
	At  time.Time `json:"at"`
	RPS float64   `json:"rps"`
}

// ClusterTrafficChange records how a cluster's pods answered from a time on.
type ClusterTrafficChange struct {
	At time.Time `json:"at"`
	scenario.ClusterTraffic
}

// newID returns a deterministic AWS-style ID: prefix + n hex digits.
func (w *World) newID(prefix string, n int) string {
	w.Counter++
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], w.Counter)
	h := sha256.Sum256(append([]byte(w.Seed), b[:]...))
	return prefix + hex.EncodeToString(h[:])[:n]
}

// stableID derives an ID from a name, so ARNs named in a scenario's eksbg.yaml stay the same across runs.
func stableID(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

func (w *World) arn(service, resource string) string {
	return fmt.Sprintf("arn:aws:%s:%s:%s:%s", service, w.Region, w.Account, resource)
}

// sortedKeys returns a map's keys in order: every listing the emulator
// returns is in a stable order, so pagination is consistent.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
