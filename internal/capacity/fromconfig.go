package capacity

import (
	"fmt"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/eksbg/eksbg/clusters"
	"github.com/eksbg/eksbg/internal/cni"
	"github.com/eksbg/eksbg/internal/config"
)

// This file holds the adapters from eksctl ClusterConfigs (package
// clusters) and eksbg.yaml environments to the model's input.

// ConfigOptions complete what an eksctl ClusterConfig does not say.
type ConfigOptions struct {
	// Name of the green cluster; default the config's metadata.name.
	Name string
	// Version of the green cluster; default metadata.version.
	Version string
	// PodsPerNode is N per node group name (eksbg.yaml cluster.podsPerNode).
	PodsPerNode map[string]int
}

// eksctlDefaultNodes is eksctl's node count for a node group that sets
// neither desiredCapacity nor minSize (DefaultNodeCount in eksctl's
// pkg/apis/eksctl.io/v1alpha5/types.go).
const eksctlDefaultNodes = 2

// FromConfig reads the green cluster's shape from an eksctl ClusterConfig:
// its VPC and subnets as written, node groups (instance types, spot,
// desiredCapacity and maxSize with eksctl's defaults, maxPodsPerNode,
// subnets as eksctl resolves them), control-plane subnets
// (vpc.controlPlaneSubnetIDs, else every subnet of vpc.subnets) and the VPC
// CNI settings of the vpc-cni add-on's configurationValues, when it sets an
// env.
func FromConfig(cfg *clusters.Config, o ConfigOptions) (Cluster, error) {
	spec, err := cfg.Spec()
	if err != nil {
		return Cluster{}, err
	}
	c := Cluster{Name: spec.Name, Version: spec.Version, Region: spec.Region, VPCID: spec.VPC.ID}
	if o.Name != "" {
		c.Name = o.Name
	}
	if o.Version != "" {
		c.Version = o.Version
	}
	ref := func(sn clusters.Subnet, what string) (SubnetRef, error) {
		if sn.ID == "" && sn.CIDR == "" {
			return SubnetRef{}, fmt.Errorf("%s: %s subnet %q has neither id nor cidr: capacity needs subnets that exist", cfg.File, what, sn.Key)
		}
		return SubnetRef{ID: sn.ID, CIDR: sn.CIDR}, nil
	}
	for _, ng := range spec.NodeGroups {
		if ng.InstanceSelector && len(ng.InstanceTypes) == 0 {
			return Cluster{}, fmt.Errorf("%s: %s: node group %s picks its instance types with instanceSelector; capacity needs them written out (instanceTypes)",
				cfg.File, ng.Path(), ng.Name)
		}
		types := ng.InstanceTypes
		if len(types) == 0 {
			types = []string{clusters.DefaultInstanceType}
		}
		desired := eksctlDefaultNodes
		switch {
		case ng.DesiredCapacity != nil:
			desired = *ng.DesiredCapacity
		case ng.MinSize != nil:
			desired = *ng.MinSize
		}
		maxSize := desired
		if ng.MaxSize != nil {
			maxSize = *ng.MaxSize
		}
		out := NodeGroup{Name: ng.Name, Managed: ng.Managed, InstanceTypes: types, Spot: ng.Spot, Desired: desired, Max: maxSize,
			PodsPerNode: o.PodsPerNode[ng.Name], MaxPodsOverride: ng.MaxPodsPerNode}
		subnets, err := spec.NodeGroupSubnets(ng)
		if err != nil {
			return Cluster{}, fmt.Errorf("%s: %w", cfg.File, err)
		}
		if len(subnets) == 0 {
			return Cluster{}, fmt.Errorf("%s: %s: node group %s has no subnets (vpc.subnets lists none of its kind)", cfg.File, ng.Path(), ng.Name)
		}
		for _, sn := range subnets {
			r, err := ref(sn, "node group "+ng.Name)
			if err != nil {
				return Cluster{}, err
			}
			out.Subnets = append(out.Subnets, r)
		}
		c.NodeGroups = append(c.NodeGroups, out)
	}
	if len(spec.VPC.ControlPlaneSubnetIDs) > 0 {
		for _, id := range spec.VPC.ControlPlaneSubnetIDs {
			c.ControlPlaneSubnets = append(c.ControlPlaneSubnets, SubnetRef{ID: id})
		}
	} else {
		for _, sn := range append(append([]clusters.Subnet{}, spec.VPC.Private...), spec.VPC.Public...) {
			r, err := ref(sn, "control-plane")
			if err != nil {
				return Cluster{}, err
			}
			c.ControlPlaneSubnets = append(c.ControlPlaneSubnets, r)
		}
	}
	for _, a := range spec.Addons {
		if a.Name != "vpc-cni" || strings.TrimSpace(a.ConfigurationValues) == "" {
			continue
		}
		s, ok, err := AddonSettings(a.ConfigurationValues)
		if err != nil {
			return Cluster{}, fmt.Errorf("%s: addons vpc-cni configurationValues: %w", cfg.File, err)
		}
		if ok {
			c.CNI, c.CNISource = s, SourceAddon
		}
	}
	return c, nil
}

// FromEnvironment builds the input of an environment of eksbg.yaml: the
// next cluster of its eksctl config (the color the config does not name),
// read as is and named by the environment's name template,
// with its podsPerNode, listener rules and green target groups. version is
// the green cluster's Kubernetes version ("" keeps the config's).
func FromEnvironment(env *config.Environment, version string) (Input, error) {
	cfg, err := clusters.Load(env.Cluster.EksctlConfig)
	if err != nil {
		return Input{}, fmt.Errorf("environment %s: %w", env.Name, err)
	}
	// The config names the live cluster; the new one is the other color
	// (after an upgrade to green, the next one builds blue).
	live, next := config.Blue, config.Green
	if cfg.Name() == env.ClusterName(config.Green) {
		live, next = config.Green, config.Blue
	}
	c, err := FromConfig(cfg, ConfigOptions{Name: env.ClusterName(next), Version: version, PodsPerNode: env.Cluster.PodsPerNode})
	if err != nil {
		return Input{}, fmt.Errorf("environment %s: %w", env.Name, err)
	}
	for ng := range env.Cluster.PodsPerNode {
		if !slices.ContainsFunc(c.NodeGroups, func(n NodeGroup) bool { return n.Name == ng }) {
			return Input{}, fmt.Errorf("environment %s: cluster.podsPerNode names node group %q, which %s does not have", env.Name, ng, cfg.File)
		}
	}
	c.Region = env.AWS.Region
	in := Input{Name: env.Name, Cluster: c, BlueCluster: env.ClusterName(live)}
	for _, r := range env.Traffic.ListenerRules {
		in.ListenerRules = append(in.ListenerRules, r.ARN)
		in.GreenTargetGroups = append(in.GreenTargetGroups, r.TargetGroup(next))
	}
	return in, nil
}

// AddonSettings reads the VPC CNI settings from the vpc-cni add-on's
// configurationValues (JSON or YAML, whose env map sets aws-node's
// environment; https://docs.aws.amazon.com/eks/latest/userguide/cni-network-policy-configure.html
// shows the shape). Variables it does not set keep the add-on's defaults
// (cni.DefaultSettings). ok is false when the values set no env.
func AddonSettings(values string) (s cni.Settings, ok bool, err error) {
	var doc struct {
		Env map[string]any `yaml:"env"`
	}
	if err := yaml.Unmarshal([]byte(values), &doc); err != nil {
		return cni.Settings{}, false, fmt.Errorf("parsing: %w", err)
	}
	if len(doc.Env) == 0 {
		return cni.Settings{}, false, nil
	}
	env := cni.DefaultSettings().Env()
	for k, v := range doc.Env {
		env[k] = fmt.Sprint(v)
	}
	s, err = cni.ParseEnv(env)
	if err != nil {
		return cni.Settings{}, false, err
	}
	return s, true, nil
}
