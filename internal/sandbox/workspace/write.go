package workspace

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"gopkg.in/yaml.v3"

	"github.com/eksbg/eksbg/internal/atomicfile"
)

// Options say where the workspace goes and what its env file sets.
type Options struct {
	// Dir is the workspace directory; created if missing.
	Dir string
	// Endpoint is the sandbox's AWS endpoint URL.
	Endpoint string
	// AccessKeyID and SecretAccessKey are the sandbox's own credentials
	// (they open nothing but the emulator).
	AccessKeyID, SecretAccessKey string
	// Eksbg is the eksbg binary the eksctl shim runs.
	Eksbg string
	// EksctlSchema is the file of eksctl's ClusterConfig schema ("" if
	// none is available: the sandbox's eksctl then refuses every config).
	EksctlSchema string
}

// Files written into a workspace.
const (
	ProjectFile = "eksbg.yaml"
	EnvFile     = "env"
	NetworkDir  = "network"
	ClustersDir = "clusters"
	BinDir      = "bin"
)

// Write writes the workspace for w and returns the paths written.
func Write(w *World, o Options) ([]string, error) {
	var written []string
	put := func(rel string, data []byte, mode os.FileMode) error {
		p := filepath.Join(o.Dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := atomicfile.Write(p, data, mode); err != nil {
			return err
		}
		written = append(written, p)
		return nil
	}
	project, err := projectYAML(w)
	if err != nil {
		return nil, err
	}
	if err := put(ProjectFile, project, 0o644); err != nil {
		return nil, fmt.Errorf("writing %s: %w", ProjectFile, err)
	}
	if err := put(filepath.Join(NetworkDir, "main.tf"), networkTF(w), 0o644); err != nil {
		return nil, fmt.Errorf("writing the network stack: %w", err)
	}
	for _, e := range w.Environments {
		cfg, err := ClusterConfigYAML(w, &e)
		if err != nil {
			return nil, err
		}
		if err := put(filepath.Join(ClustersDir, e.Name+".yaml"), cfg, 0o644); err != nil {
			return nil, fmt.Errorf("writing the eksctl config of %s: %w", e.Name, err)
		}
	}
	// The env file holds the sandbox's credentials: owner-only, like every
	// state file eksbg writes.
	if err := put(EnvFile, envFile(w, o), 0o600); err != nil {
		return nil, fmt.Errorf("writing the env file: %w", err)
	}
	shim := fmt.Sprintf("#!/bin/sh\n# The sandbox's eksctl: eksbg's stand-in (docs/sandbox.md).\nexec %s sandbox eksctl \"$@\"\n", shellQuote(o.Eksbg))
	if err := put(filepath.Join(BinDir, "eksctl"), []byte(shim), 0o755); err != nil {
		return nil, fmt.Errorf("writing the eksctl shim: %w", err)
	}
	// eksbg itself on the same PATH, so the sourced env has both.
	link := filepath.Join(o.Dir, BinDir, "eksbg")
	_ = os.Remove(link)
	if err := os.Symlink(o.Eksbg, link); err != nil {
		return nil, fmt.Errorf("linking eksbg into the workspace: %w", err)
	}
	written = append(written, link)
	return written, nil
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

func envFile(w *World, o Options) []byte {
	var b bytes.Buffer
	abs, _ := filepath.Abs(o.Dir)
	fmt.Fprintf(&b, "# Source this file to point eksbg, eksctl, terraform and the AWS CLI at the sandbox.\n")
	fmt.Fprintf(&b, "export AWS_ENDPOINT_URL=%s\n", shellQuote(o.Endpoint))
	fmt.Fprintf(&b, "export AWS_REGION=%s AWS_DEFAULT_REGION=%s\n", w.Region, w.Region)
	fmt.Fprintf(&b, "export AWS_ACCESS_KEY_ID=%s AWS_SECRET_ACCESS_KEY=%s\n", shellQuote(o.AccessKeyID), shellQuote(o.SecretAccessKey))
	fmt.Fprintf(&b, "unset AWS_PROFILE AWS_SESSION_TOKEN\n")
	fmt.Fprintf(&b, "export EKSBG_CONFIG=%s\n", shellQuote(filepath.Join(abs, ProjectFile)))
	if o.EksctlSchema != "" {
		fmt.Fprintf(&b, "export EKSBG_EKSCTL_SCHEMA=%s\n", shellQuote(o.EksctlSchema))
	}
	fmt.Fprintf(&b, "export PATH=%s:\"$PATH\"\n", shellQuote(filepath.Join(abs, BinDir)))
	b.WriteString(awsCLIShim)
	return b.Bytes()
}

// awsCLIShim is the env file's answer to AWS CLIs that ignore
// AWS_ENDPOINT_URL: v2 before 2.13 and v1 before 1.29, such as Debian 12's
// awscli 2.9.19 (https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html
// lists the versions). For those it defines a shell function aws that
// passes --endpoint-url "$AWS_ENDPOINT_URL", so `aws eks list-clusters`
// reaches the sandbox and not the real AWS endpoint with the sandbox's
// credentials. It is POSIX sh (bash, zsh, dash); bash also exports it to
// the bash scripts it runs. Programs that exec aws themselves do not see a
// shell function: they need --endpoint-url or a newer CLI (docs/sandbox.md).
const awsCLIShim = `# AWS CLI v2 before 2.13 and v1 before 1.29 ignore AWS_ENDPOINT_URL: give
# them --endpoint-url, so they reach the sandbox and not AWS.
if [ -n "${EKSBG_AWS_SHIM:-}" ]; then unset -f aws; unset EKSBG_AWS_SHIM; fi
__eksbg_v=$(command aws --version 2>&1 </dev/null || true)
case "$__eksbg_v" in
aws-cli/[0-9]*)
  __eksbg_v=${__eksbg_v#aws-cli/}; __eksbg_v=${__eksbg_v%% *}
  __eksbg_major=${__eksbg_v%%.*}; __eksbg_minor=${__eksbg_v#*.}; __eksbg_minor=${__eksbg_minor%%.*}
  case "$__eksbg_major.$__eksbg_minor" in
  *[!0-9.]*|.*|*.) ;;
  *)
    if { [ "$__eksbg_major" -eq 2 ] && [ "$__eksbg_minor" -lt 13 ]; } || { [ "$__eksbg_major" -eq 1 ] && [ "$__eksbg_minor" -lt 29 ]; }; then
      aws() { command aws --endpoint-url "$AWS_ENDPOINT_URL" "$@"; }
      EKSBG_AWS_SHIM=$__eksbg_v
      if [ -n "${BASH_VERSION:-}" ]; then export -f aws; fi
    fi ;;
  esac ;;
esac
unset __eksbg_v __eksbg_major __eksbg_minor
`

// Terraform output names the network stack defines and eksbg.yaml maps.
const (
	OutVPC          = "vpc_id"
	OutNodes        = "node_subnet_ids"
	OutControlPlane = "control_plane_subnet_ids"
	OutLB           = "lb_subnet_ids"
)

// networkTF is the network stack: one workspace per environment, each
// describing that environment's VPC with terraform_data and outputs, so it
// plans and applies offline with the real terraform.
func networkTF(w *World) []byte {
	var b bytes.Buffer
	b.WriteString(`# The sandbox's network, as a Terraform stack eksbg reads outputs from.
# One workspace per environment; terraform_data stands in for the VPC and
# subnets (the sandbox has no Terraform provider), so plan and apply run
# offline. Change a value here and 'eksbg drift' reports the plan.
terraform {
  required_version = ">= 1.5.0"
}

locals {
  environments = {
`)
	for _, e := range w.Environments {
		var nodes []string
		for _, s := range e.NodeSubnets {
			nodes = append(nodes, aws.ToString(s.SubnetId))
		}
		fmt.Fprintf(&b, "    %s = {\n", e.Name)
		fmt.Fprintf(&b, "      vpc_id                   = %q\n", e.VPC)
		fmt.Fprintf(&b, "      node_subnet_ids          = %s\n", hclList(nodes))
		fmt.Fprintf(&b, "      control_plane_subnet_ids = %s\n", hclList(e.ControlPlane))
		fmt.Fprintf(&b, "      lb_subnet_ids            = %s\n", hclList(e.LBSubnets))
		b.WriteString("    }\n")
	}
	b.WriteString(`  }
  env = local.environments[terraform.workspace]
}

resource "terraform_data" "vpc" {
  input = local.env.vpc_id
}

resource "terraform_data" "subnets" {
  input = {
    nodes         = local.env.node_subnet_ids
    control_plane = local.env.control_plane_subnet_ids
    lb            = local.env.lb_subnet_ids
  }
}

output "vpc_id" {
  value = terraform_data.vpc.output
}

output "node_subnet_ids" {
  value = terraform_data.subnets.output.nodes
}

output "control_plane_subnet_ids" {
  value = terraform_data.subnets.output.control_plane
}

output "lb_subnet_ids" {
  value = terraform_data.subnets.output.lb
}
`)
	return b.Bytes()
}

func hclList(s []string) string {
	q := make([]string, len(s))
	for i, v := range s {
		q[i] = fmt.Sprintf("%q", v)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// The project file's shape, with fields in the order docs/config.md shows.
type (
	projectDoc struct {
		APIVersion   string   `yaml:"apiVersion"`
		Kind         string   `yaml:"kind"`
		Environments []envDoc `yaml:"environments"`
	}
	envDoc struct {
		Name string `yaml:"name"`
		AWS  struct {
			Region    string `yaml:"region"`
			AccountID string `yaml:"accountId"`
		} `yaml:"aws"`
		Network struct {
			Terraform struct {
				Dir       string `yaml:"dir"`
				Workspace string `yaml:"workspace"`
				Outputs   struct {
					VpcID     string            `yaml:"vpcId"`
					SubnetIDs map[string]string `yaml:"subnetIds"`
				} `yaml:"outputs"`
			} `yaml:"terraform"`
		} `yaml:"network"`
		Cluster struct {
			EksctlConfig string `yaml:"eksctlConfig"`
			NameTemplate string `yaml:"nameTemplate"`
		} `yaml:"cluster"`
		Traffic struct {
			ListenerRules []ruleDoc `yaml:"listenerRules"`
			Steps         []int     `yaml:"steps,flow"`
			BakeTime      string    `yaml:"bakeTime"`
			Gates         gatesDoc  `yaml:"gates"`
		} `yaml:"traffic"`
		ArgoCD struct {
			Management struct {
				EKSCluster string `yaml:"eksCluster"`
			} `yaml:"management"`
			ClusterSecretLabels map[string]string `yaml:"clusterSecretLabels"`
		} `yaml:"argocd"`
	}
	gatesDoc struct {
		Max5xxPercent     float64 `yaml:"max5xxPercent"`
		MaxP99Latency     string  `yaml:"maxP99Latency"`
		MinHealthyTargets int     `yaml:"minHealthyTargets,omitempty"`
		MinRequestCount   int     `yaml:"minRequestCount"`
	}
	ruleDoc struct {
		ARN          string            `yaml:"arn"`
		TargetGroups map[string]string `yaml:"targetGroups"`
	}
)

// ManagementCluster is the sandbox's Argo CD management cluster.
const ManagementCluster = "mgmt"

func projectYAML(w *World) ([]byte, error) {
	p := projectDoc{APIVersion: "eksbg.io/v1alpha1", Kind: "Project"}
	for _, e := range w.Environments {
		var d envDoc
		d.Name = e.Name
		d.AWS.Region, d.AWS.AccountID = w.Region, w.Account
		tf := &d.Network.Terraform
		tf.Dir, tf.Workspace = NetworkDir, e.Name
		tf.Outputs.VpcID = OutVPC
		tf.Outputs.SubnetIDs = map[string]string{"nodes": OutNodes, "controlPlane": OutControlPlane}
		if len(e.LBSubnets) > 0 {
			// An output eksbg.yaml maps must hold subnets; map it only then.
			tf.Outputs.SubnetIDs["loadBalancers"] = OutLB
		}
		d.Cluster.EksctlConfig = filepath.Join(ClustersDir, e.Name+".yaml")
		d.Cluster.NameTemplate = "{env}-{color}"
		for _, r := range e.Rules {
			d.Traffic.ListenerRules = append(d.Traffic.ListenerRules, ruleDoc{ARN: r.ARN, TargetGroups: map[string]string{"blue": r.Blue, "green": r.Green}})
		}
		// The sandbox's traffic model sends web 200 requests a second; its
		// bakes are short so that a demo upgrade takes minutes, not hours
		// (AWS needs minutes per step: CloudWatch's ALB metrics are per
		// minute).
		d.Traffic.Steps, d.Traffic.BakeTime = []int{10, 25, 50, 100}, "15s"
		// No minHealthyTargets: CloudWatch reads whole minutes, and the
		// minute a 15 s bake starts in still has green's targets initial.
		// Green's targets are checked all healthy before every step anyway.
		d.Traffic.Gates = gatesDoc{Max5xxPercent: 2, MaxP99Latency: "500ms", MinRequestCount: 50}
		d.ArgoCD.Management.EKSCluster = ManagementCluster
		d.ArgoCD.ClusterSecretLabels = map[string]string{"env": e.Name}
		p.Environments = append(p.Environments, d)
	}
	var b bytes.Buffer
	b.WriteString("# eksbg's project config for the sandbox, written by 'eksbg sandbox up' (docs/config.md).\n")
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(p); err != nil {
		return nil, fmt.Errorf("encoding eksbg.yaml: %w", err)
	}
	return b.Bytes(), nil
}

// The eksctl ClusterConfig's shape, in eksctl's field order.
type (
	clusterDoc struct {
		APIVersion string `yaml:"apiVersion"`
		Kind       string `yaml:"kind"`
		Metadata   struct {
			Name    string            `yaml:"name"`
			Region  string            `yaml:"region"`
			Version string            `yaml:"version"`
			Tags    map[string]string `yaml:"tags,omitempty"`
		} `yaml:"metadata"`
		VPC struct {
			ID      string `yaml:"id"`
			Subnets struct {
				Private map[string]subnetDoc `yaml:"private"`
			} `yaml:"subnets"`
			ControlPlaneSubnetIDs []string `yaml:"controlPlaneSubnetIDs"`
		} `yaml:"vpc"`
		ManagedNodeGroups []nodegroupDoc `yaml:"managedNodeGroups"`
		Addons            []addonDoc     `yaml:"addons,omitempty"`
	}
	subnetDoc struct {
		ID string `yaml:"id"`
	}
	nodegroupDoc struct {
		Name              string            `yaml:"name"`
		AMIFamily         string            `yaml:"amiFamily"`
		InstanceType      string            `yaml:"instanceType,omitempty"`
		InstanceTypes     []string          `yaml:"instanceTypes,omitempty"`
		Spot              bool              `yaml:"spot,omitempty"`
		DesiredCapacity   int32             `yaml:"desiredCapacity"`
		MinSize           int32             `yaml:"minSize"`
		MaxSize           int32             `yaml:"maxSize"`
		PrivateNetworking bool              `yaml:"privateNetworking"`
		Subnets           []string          `yaml:"subnets"`
		Labels            map[string]string `yaml:"labels,omitempty"`
	}
	addonDoc struct {
		Name                string `yaml:"name"`
		Version             string `yaml:"version,omitempty"`
		ConfigurationValues string `yaml:"configurationValues,omitempty"`
	}
)

var amiFamilies = map[string]string{
	"AL2_x86_64": "AmazonLinux2", "AL2_ARM_64": "AmazonLinux2",
	"AL2023_x86_64_STANDARD": "AmazonLinux2023", "AL2023_ARM_64_STANDARD": "AmazonLinux2023",
	"BOTTLEROCKET_x86_64": "Bottlerocket", "BOTTLEROCKET_ARM_64": "Bottlerocket",
}

// ClusterConfigYAML is the eksctl ClusterConfig of e's live cluster, as a
// team would keep it in git: node subnets keyed by AZ, control-plane
// subnets, managed node groups and add-ons with their versions.
func ClusterConfigYAML(w *World, e *Environment) ([]byte, error) {
	var c clusterDoc
	c.APIVersion, c.Kind = "eksctl.io/v1alpha5", "ClusterConfig"
	cl := e.Cluster
	c.Metadata.Name, c.Metadata.Region, c.Metadata.Version = aws.ToString(cl.Name), w.Region, aws.ToString(cl.Version)
	c.Metadata.Tags = map[string]string{}
	for k, v := range cl.Tags {
		if !strings.HasPrefix(k, "alpha.eksctl.io/") && !strings.HasPrefix(k, "eksctl.") {
			c.Metadata.Tags[k] = v
		}
	}
	c.VPC.ID = e.VPC
	c.VPC.Subnets.Private = map[string]subnetDoc{}
	for _, s := range e.NodeSubnets {
		c.VPC.Subnets.Private[aws.ToString(s.AvailabilityZone)] = subnetDoc{ID: aws.ToString(s.SubnetId)}
	}
	c.VPC.ControlPlaneSubnetIDs = e.ControlPlane
	for _, ng := range e.Nodegroups {
		d := nodegroupDoc{
			Name: aws.ToString(ng.NodegroupName), AMIFamily: amiFamilies[string(ng.AmiType)],
			Spot:            ng.CapacityType == "SPOT",
			DesiredCapacity: aws.ToInt32(ng.ScalingConfig.DesiredSize), MinSize: aws.ToInt32(ng.ScalingConfig.MinSize), MaxSize: aws.ToInt32(ng.ScalingConfig.MaxSize),
			PrivateNetworking: true, Subnets: ng.Subnets, Labels: ng.Labels,
		}
		if d.AMIFamily == "" {
			return nil, fmt.Errorf("node group %s has AMI type %s, which the workspace cannot express in eksctl", aws.ToString(ng.NodegroupName), ng.AmiType)
		}
		if len(ng.InstanceTypes) == 1 {
			d.InstanceType = ng.InstanceTypes[0]
		} else {
			d.InstanceTypes = ng.InstanceTypes
		}
		c.ManagedNodeGroups = append(c.ManagedNodeGroups, d)
	}
	sort.Slice(c.ManagedNodeGroups, func(i, j int) bool { return c.ManagedNodeGroups[i].Name < c.ManagedNodeGroups[j].Name })
	for _, a := range e.Addons {
		d := addonDoc{Name: aws.ToString(a.AddonName), Version: aws.ToString(a.AddonVersion)}
		if v := aws.ToString(a.ConfigurationValues); v != "" {
			// Compact JSON keeps the YAML readable and byte-stable.
			var buf bytes.Buffer
			if json.Compact(&buf, []byte(v)) == nil {
				v = buf.String()
			}
			d.ConfigurationValues = v
		}
		c.Addons = append(c.Addons, d)
	}
	sort.Slice(c.Addons, func(i, j int) bool { return c.Addons[i].Name < c.Addons[j].Name })
	var b bytes.Buffer
	fmt.Fprintf(&b, "# The eksctl ClusterConfig of %s, as the sandbox runs it (written by 'eksbg sandbox up').\n", c.Metadata.Name)
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(c); err != nil {
		return nil, fmt.Errorf("encoding the eksctl config of %s: %w", c.Metadata.Name, err)
	}
	return b.Bytes(), nil
}
