package standin

import (
	"fmt"

	"gopkg.in/yaml.v3"
)

// clusterConfig is the part of an eksctl ClusterConfig the stand-in acts
// on. It is decoded independently of eksbg's own reader (package clusters)
// on purpose: the stand-in plays eksctl, and a misreading in eksbg should
// show up as a disagreement, not be shared. The whole file has passed
// eksctl's JSON schema before this decode runs.
type clusterConfig struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct {
		Name    string            `yaml:"name"`
		Region  string            `yaml:"region"`
		Version string            `yaml:"version"`
		Tags    map[string]string `yaml:"tags"`
	} `yaml:"metadata"`
	VPC *struct {
		ID      string `yaml:"id"`
		Subnets struct {
			Private map[string]subnetSpec `yaml:"private"`
			Public  map[string]subnetSpec `yaml:"public"`
		} `yaml:"subnets"`
		ControlPlaneSubnetIDs []string `yaml:"controlPlaneSubnetIDs"`
		ClusterEndpoints      *struct {
			PublicAccess  *bool `yaml:"publicAccess"`
			PrivateAccess *bool `yaml:"privateAccess"`
		} `yaml:"clusterEndpoints"`
	} `yaml:"vpc"`
	KubernetesNetworkConfig *struct {
		IPFamily        string `yaml:"ipFamily"`
		ServiceIPv4CIDR string `yaml:"serviceIPv4CIDR"`
	} `yaml:"kubernetesNetworkConfig"`
	IAM *struct {
		ServiceRoleARN string `yaml:"serviceRoleARN"`
	} `yaml:"iam"`
	AccessConfig *struct {
		AuthenticationMode                      string `yaml:"authenticationMode"`
		BootstrapClusterCreatorAdminPermissions *bool  `yaml:"bootstrapClusterCreatorAdminPermissions"`
	} `yaml:"accessConfig"`
	CloudWatch *struct {
		ClusterLogging *struct {
			EnableTypes []string `yaml:"enableTypes"`
		} `yaml:"clusterLogging"`
	} `yaml:"cloudWatch"`
	NodeGroups        []nodeGroupSpec `yaml:"nodeGroups"`
	ManagedNodeGroups []nodeGroupSpec `yaml:"managedNodeGroups"`
	Addons            []struct {
		Name                string `yaml:"name"`
		Version             string `yaml:"version"`
		ConfigurationValues string `yaml:"configurationValues"`
	} `yaml:"addons"`
	GitOps    *yaml.Node `yaml:"gitops"`
	Outpost   *yaml.Node `yaml:"outpost"`
	RemoteNet *yaml.Node `yaml:"remoteNetworkConfig"`
	AutoMode  *struct {
		Enabled *bool `yaml:"enabled"`
	} `yaml:"autoModeConfig"`
	FargateProfiles []yaml.Node `yaml:"fargateProfiles"`
}

type subnetSpec struct {
	ID   string `yaml:"id"`
	AZ   string `yaml:"az"`
	CIDR string `yaml:"cidr"`
}

type nodeGroupSpec struct {
	Name                     string            `yaml:"name"`
	AMIFamily                string            `yaml:"amiFamily"`
	AMI                      string            `yaml:"ami"`
	InstanceType             string            `yaml:"instanceType"`
	InstanceTypes            []string          `yaml:"instanceTypes"`
	DesiredCapacity          *int              `yaml:"desiredCapacity"`
	MinSize                  *int              `yaml:"minSize"`
	MaxSize                  *int              `yaml:"maxSize"`
	VolumeSize               *int              `yaml:"volumeSize"`
	Spot                     bool              `yaml:"spot"`
	PrivateNetworking        bool              `yaml:"privateNetworking"`
	Subnets                  []string          `yaml:"subnets"`
	AvailabilityZones        []string          `yaml:"availabilityZones"`
	Labels                   map[string]string `yaml:"labels"`
	Tags                     map[string]string `yaml:"tags"`
	Taints                   yaml.Node         `yaml:"taints"`
	OverrideBootstrapCommand string            `yaml:"overrideBootstrapCommand"`
	InstancesDistribution    *struct {
		InstanceTypes                       []string `yaml:"instanceTypes"`
		OnDemandPercentageAboveBaseCapacity *int     `yaml:"onDemandPercentageAboveBaseCapacity"`
	} `yaml:"instancesDistribution"`
	InstanceSelector *yaml.Node `yaml:"instanceSelector"`
	ReleaseVersion   string     `yaml:"releaseVersion"`
}

func parseConfig(data []byte) (*clusterConfig, error) {
	var c clusterConfig
	if err := yaml.Unmarshal(data, &c); err != nil {
		return nil, fmt.Errorf("loading config file: %w", err)
	}
	return &c, nil
}

// amiFamily is the node group's AMI family with eksctl's default: Amazon
// Linux 2023 (eksctl's default since 0.198, for every supported version).
func (ng *nodeGroupSpec) amiFamily() string {
	if ng.AMIFamily == "" {
		return "AmazonLinux2023"
	}
	return ng.AMIFamily
}

func (ng *nodeGroupSpec) instanceTypes() []string {
	switch {
	case len(ng.InstanceTypes) > 0:
		return ng.InstanceTypes
	case ng.InstanceType != "":
		return []string{ng.InstanceType}
	case ng.InstancesDistribution != nil && len(ng.InstancesDistribution.InstanceTypes) > 0:
		return ng.InstancesDistribution.InstanceTypes
	}
	// eksctl's default instance type.
	return []string{"m5.large"}
}

// sizes applies eksctl's defaults: 2 nodes, min and max equal to desired.
func (ng *nodeGroupSpec) sizes() (minSize, maxSize, desired int) {
	desired = 2
	if ng.DesiredCapacity != nil {
		desired = *ng.DesiredCapacity
	} else if ng.MinSize != nil {
		desired = *ng.MinSize
	}
	minSize, maxSize = desired, desired
	if ng.MinSize != nil {
		minSize = *ng.MinSize
	}
	if ng.MaxSize != nil {
		maxSize = *ng.MaxSize
	}
	if maxSize < desired {
		maxSize = desired
	}
	if minSize > desired {
		minSize = desired
	}
	return minSize, maxSize, desired
}
