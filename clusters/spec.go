package clusters

import (
	"fmt"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/eksbg/eksbg/internal/yamlstrict"
)

// DefaultInstanceType is the instance type eksctl gives a node group that
// names none (DefaultNodeType in eksctl's pkg/apis/eksctl.io/v1alpha5/types.go).
const DefaultInstanceType = "m5.large"

// Spec is a read-only view of the fields of a ClusterConfig that eksbg
// reads. Fields hold what the file says, without eksctl's defaults, unless a
// field's comment says otherwise.
type Spec struct {
	Name    string // metadata.name
	Region  string // metadata.region
	Version string // metadata.version; "" when unset (eksctl then picks its default)
	Tags    map[string]string
	// AvailabilityZones is the top-level availabilityZones list.
	AvailabilityZones []string
	VPC               VPC
	NodeGroups        []NodeGroup
	Addons            []Addon
}

// VPC is the vpc section.
type VPC struct {
	ID   string
	CIDR string
	// Private and Public are vpc.subnets.private and vpc.subnets.public, in
	// the order written.
	Private []Subnet
	Public  []Subnet
	// ControlPlaneSubnetIDs is vpc.controlPlaneSubnetIDs.
	ControlPlaneSubnetIDs []string
	// ControlPlaneSecurityGroupIDs is vpc.controlPlaneSecurityGroupIDs.
	ControlPlaneSecurityGroupIDs []string
}

// Subnet is one entry of vpc.subnets.private or vpc.subnets.public.
type Subnet struct {
	// Key is the entry's key: an availability zone name or any name the
	// config's node groups use to refer to it.
	Key  string
	ID   string
	AZ   string // the az field, or Key when that names a zone of the region (as eksctl reads it)
	CIDR string
}

// NodeGroup is one entry of nodeGroups (self-managed) or managedNodeGroups.
type NodeGroup struct {
	Name    string
	Managed bool // from managedNodeGroups
	// InstanceTypes is instanceType, instanceTypes or
	// instancesDistribution.instanceTypes; empty when none is written (eksctl
	// then uses DefaultInstanceType, or instanceSelector picks them).
	InstanceTypes []string
	// Spot is true for managed groups with spot: true and self-managed ones
	// whose instancesDistribution puts capacity above the on-demand base on
	// Spot (onDemandPercentageAboveBaseCapacity below 100; eksctl defaults
	// it to 100).
	Spot                              bool
	MinSize, MaxSize, DesiredCapacity *int
	MaxPodsPerNode                    int
	AvailabilityZones                 []string
	Subnets                           []string // as written: IDs or keys of vpc.subnets
	PrivateNetworking                 bool
	AMIFamily                         string // "" when unset (eksctl defaults it by version)
	AMI                               string
	ReleaseVersion                    string
	Labels                            map[string]string
	Taints                            []Taint
	OverrideBootstrapCommand          string
	PreBootstrapCommands              []string
	InstanceSelector                  bool // instanceSelector is set
	LaunchTemplate                    bool // launchTemplate is set (managed groups only)
	path                              string
}

// Path returns the node group's place in the document, as in
// "managedNodeGroups[1]".
func (ng NodeGroup) Path() string { return ng.path }

// Taint is one node taint.
type Taint struct{ Key, Value, Effect string }

// Addon is one entry of addons.
type Addon struct {
	Name                string
	Version             string // "" or "latest" mean eksctl resolves it
	ConfigurationValues string
}

// rawNodeGroup is what Spec decodes from both node group lists.
type rawNodeGroup struct {
	Name                  string            `yaml:"name"`
	InstanceType          string            `yaml:"instanceType"`
	InstanceTypes         []string          `yaml:"instanceTypes"`
	InstancesDistribution *rawDistribution  `yaml:"instancesDistribution"`
	Spot                  bool              `yaml:"spot"`
	MinSize               *int              `yaml:"minSize"`
	MaxSize               *int              `yaml:"maxSize"`
	DesiredCapacity       *int              `yaml:"desiredCapacity"`
	MaxPodsPerNode        int               `yaml:"maxPodsPerNode"`
	AvailabilityZones     []string          `yaml:"availabilityZones"`
	Subnets               []string          `yaml:"subnets"`
	PrivateNetworking     bool              `yaml:"privateNetworking"`
	AMIFamily             string            `yaml:"amiFamily"`
	AMI                   string            `yaml:"ami"`
	ReleaseVersion        string            `yaml:"releaseVersion"`
	Labels                map[string]string `yaml:"labels"`
	Taints                yaml.Node         `yaml:"taints"`
	OverrideBootstrap     string            `yaml:"overrideBootstrapCommand"`
	PreBootstrapCommands  []string          `yaml:"preBootstrapCommands"`
	InstanceSelector      yaml.Node         `yaml:"instanceSelector"`
	LaunchTemplate        yaml.Node         `yaml:"launchTemplate"`
}

type rawDistribution struct {
	InstanceTypes                       []string `yaml:"instanceTypes"`
	OnDemandPercentageAboveBaseCapacity *int     `yaml:"onDemandPercentageAboveBaseCapacity"`
}

type rawSubnet struct {
	ID   string `yaml:"id"`
	AZ   string `yaml:"az"`
	CIDR string `yaml:"cidr"`
}

type rawSpec struct {
	Metadata struct {
		Name    string            `yaml:"name"`
		Region  string            `yaml:"region"`
		Version string            `yaml:"version"`
		Tags    map[string]string `yaml:"tags"`
	} `yaml:"metadata"`
	AvailabilityZones []string `yaml:"availabilityZones"`
	VPC               struct {
		ID                           string   `yaml:"id"`
		CIDR                         string   `yaml:"cidr"`
		ControlPlaneSubnetIDs        []string `yaml:"controlPlaneSubnetIDs"`
		ControlPlaneSecurityGroupIDs []string `yaml:"controlPlaneSecurityGroupIDs"`
	} `yaml:"vpc"`
	Addons []struct {
		Name                string `yaml:"name"`
		Version             string `yaml:"version"`
		ConfigurationValues string `yaml:"configurationValues"`
	} `yaml:"addons"`
}

// Spec decodes the fields eksbg reads. It fails when one of them has a type
// eksctl would not accept either.
func (c *Config) Spec() (*Spec, error) {
	var raw rawSpec
	if err := c.root.Decode(&raw); err != nil {
		return nil, fmt.Errorf("reading %s: %w", c.File, err)
	}
	s := &Spec{
		Name:              raw.Metadata.Name,
		Region:            raw.Metadata.Region,
		Version:           raw.Metadata.Version,
		Tags:              raw.Metadata.Tags,
		AvailabilityZones: raw.AvailabilityZones,
		VPC: VPC{
			ID:                           raw.VPC.ID,
			CIDR:                         raw.VPC.CIDR,
			ControlPlaneSubnetIDs:        raw.VPC.ControlPlaneSubnetIDs,
			ControlPlaneSecurityGroupIDs: raw.VPC.ControlPlaneSecurityGroupIDs,
		},
	}
	var err error
	if s.VPC.Private, err = c.subnets("private", s.Region); err != nil {
		return nil, err
	}
	if s.VPC.Public, err = c.subnets("public", s.Region); err != nil {
		return nil, err
	}
	for _, a := range raw.Addons {
		s.Addons = append(s.Addons, Addon(a))
	}
	for _, list := range []struct {
		key     string
		managed bool
	}{{"nodeGroups", false}, {"managedNodeGroups", true}} {
		seq := lookup(c.root, list.key)
		if seq == nil {
			continue
		}
		if seq.Kind != yaml.SequenceNode {
			if isNull(seq) {
				continue
			}
			return nil, &yamlstrict.FieldError{File: c.File, Line: seq.Line, Column: seq.Column, Path: list.key, Msg: "must be a list"}
		}
		for i, item := range seq.Content {
			path := fmt.Sprintf("%s[%d]", list.key, i)
			var r rawNodeGroup
			if err := item.Decode(&r); err != nil {
				return nil, fmt.Errorf("reading %s %s: %w", c.File, path, err)
			}
			ng, err := r.nodeGroup(c.File, path, list.managed)
			if err != nil {
				return nil, err
			}
			s.NodeGroups = append(s.NodeGroups, ng)
		}
	}
	return s, nil
}

func (r rawNodeGroup) nodeGroup(file, path string, managed bool) (NodeGroup, error) {
	ng := NodeGroup{
		Name:                     r.Name,
		Managed:                  managed,
		Spot:                     managed && r.Spot,
		MinSize:                  r.MinSize,
		MaxSize:                  r.MaxSize,
		DesiredCapacity:          r.DesiredCapacity,
		MaxPodsPerNode:           r.MaxPodsPerNode,
		AvailabilityZones:        r.AvailabilityZones,
		Subnets:                  r.Subnets,
		PrivateNetworking:        r.PrivateNetworking,
		AMIFamily:                r.AMIFamily,
		AMI:                      r.AMI,
		ReleaseVersion:           r.ReleaseVersion,
		Labels:                   r.Labels,
		OverrideBootstrapCommand: r.OverrideBootstrap,
		PreBootstrapCommands:     r.PreBootstrapCommands,
		InstanceSelector:         !r.InstanceSelector.IsZero() && !isNull(&r.InstanceSelector),
		LaunchTemplate:           !r.LaunchTemplate.IsZero() && !isNull(&r.LaunchTemplate),
		path:                     path,
	}
	if r.InstanceType != "" && r.InstanceType != "mixed" {
		ng.InstanceTypes = append(ng.InstanceTypes, r.InstanceType)
	}
	ng.InstanceTypes = append(ng.InstanceTypes, r.InstanceTypes...)
	if d := r.InstancesDistribution; d != nil {
		ng.InstanceTypes = append(ng.InstanceTypes, d.InstanceTypes...)
		ng.Spot = d.OnDemandPercentageAboveBaseCapacity != nil && *d.OnDemandPercentageAboveBaseCapacity < 100
	}
	taints, err := decodeTaints(file, path+".taints", &r.Taints)
	if err != nil {
		return NodeGroup{}, err
	}
	ng.Taints = taints
	return ng, nil
}

// decodeTaints reads taints as a list of {key, value, effect}, or as the map
// "key: value:effect" that eksctl still accepts for self-managed node groups
// (taintsWrapper in eksctl's pkg/apis/eksctl.io/v1alpha5/types.go).
func decodeTaints(file, path string, n *yaml.Node) ([]Taint, error) {
	switch {
	case n.IsZero() || isNull(n):
		return nil, nil
	case n.Kind == yaml.SequenceNode:
		var out []Taint
		var raw []struct{ Key, Value, Effect string }
		if err := n.Decode(&raw); err != nil {
			return nil, fmt.Errorf("reading %s %s: %w", file, path, err)
		}
		for _, t := range raw {
			out = append(out, Taint(t))
		}
		return out, nil
	case n.Kind == yaml.MappingNode:
		var raw map[string]string
		if err := n.Decode(&raw); err != nil {
			return nil, fmt.Errorf("reading %s %s: %w", file, path, err)
		}
		keys := make([]string, 0, len(raw))
		for k := range raw {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var out []Taint
		for _, k := range keys {
			value, effect, ok := strings.Cut(raw[k], ":")
			if !ok {
				value, effect = "", raw[k]
			}
			out = append(out, Taint{Key: k, Value: value, Effect: effect})
		}
		return out, nil
	default:
		return nil, &yamlstrict.FieldError{File: file, Line: n.Line, Column: n.Column, Path: path, Msg: "must be a list of {key, value, effect}"}
	}
}

// subnets reads vpc.subnets.<role> in the order written.
func (c *Config) subnets(role, region string) ([]Subnet, error) {
	m := lookupPath(c.root, "vpc", "subnets", role)
	if m == nil || isNull(m) {
		return nil, nil
	}
	if m.Kind != yaml.MappingNode {
		return nil, &yamlstrict.FieldError{File: c.File, Line: m.Line, Column: m.Column, Path: "vpc.subnets." + role, Msg: "must be a mapping of name to {id, az, cidr}"}
	}
	var out []Subnet
	for i := 0; i+1 < len(m.Content); i += 2 {
		key := m.Content[i].Value
		var r rawSubnet
		if err := m.Content[i+1].Decode(&r); err != nil {
			return nil, fmt.Errorf("reading %s vpc.subnets.%s.%s: %w", c.File, role, key, err)
		}
		az := r.AZ
		if az == "" && region != "" && strings.HasPrefix(key, region) {
			// eksctl takes the key as the zone when az is empty
			// (AZSubnetMappingFromMap in eksctl's
			// pkg/apis/eksctl.io/v1alpha5/vpc.go); other keys are names whose
			// zone only AWS knows.
			az = key
		}
		out = append(out, Subnet{Key: key, ID: r.ID, AZ: az, CIDR: r.CIDR})
	}
	return out, nil
}

// isNull reports whether n is YAML null (an empty value or "~" or "null").
func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}
