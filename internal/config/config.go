// Package config reads and validates the eksbg project file, eksbg.yaml:
// the environments eksbg upgrades, with their AWS account, network stack,
// eksctl cluster config, traffic shifting, Argo CD and state settings.
// The schema is documented in docs/config.md.
package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/eksbg/eksbg/internal/yamlstrict"
)

const (
	// APIVersion is the only apiVersion this package reads.
	APIVersion = "eksbg.io/v1alpha1"
	// KindProject is the kind of a project file.
	KindProject = "Project"
	// DefaultFile is the project file name eksbg looks for by default.
	DefaultFile = "eksbg.yaml"

	// Blue is one of the two cluster colors.
	Blue = "blue"
	// Green is the other cluster color.
	Green = "green"

	// StateBackendLocal keeps state as files in a local directory.
	StateBackendLocal = "local"
	// StateBackendS3 keeps state as objects in an S3 bucket.
	StateBackendS3 = "s3"
	// DefaultStateDir is the default local state directory.
	DefaultStateDir = ".eksbg/state"
	// TeardownManual deletes blue only when the operator approves;
	// TeardownAuto deletes it as soon as traffic and singletons moved.
	TeardownManual = "manual"
	TeardownAuto   = "auto"
	// DefaultArgoCDNamespace is the default namespace of Argo CD.
	DefaultArgoCDNamespace = "argocd"
	// DefaultNameTemplate is the default cluster name template.
	DefaultNameTemplate = "{env}-{color}"
	// DefaultWorkspace is the default Terraform workspace.
	DefaultWorkspace = "default"
	// DefaultLockLease is how long an environment's lock stays valid
	// without being renewed; its holder renews it every third of that.
	DefaultLockLease = time.Minute
	// DefaultBakeTime is how long each traffic step bakes by default.
	DefaultBakeTime = 5 * time.Minute
)

// DefaultSteps returns the default traffic steps: the percentage of
// traffic sent to the new color at each step.
func DefaultSteps() []int { return []int{10, 25, 50, 100} }

// Project is the content of eksbg.yaml.
type Project struct {
	APIVersion   string        `yaml:"apiVersion"`
	Kind         string        `yaml:"kind"`
	Environments []Environment `yaml:"environments"`

	// File is the name the project was read from, as given to Load or Parse.
	File string `yaml:"-"`
	// Dir is the directory relative paths in the file were resolved
	// against: the file's directory (absolute after Load).
	Dir string `yaml:"-"`
}

// Environment is one environment (for example staging or prod): a pair
// of blue and green EKS clusters behind the same load balancer rules.
type Environment struct {
	// Name identifies the environment on the command line; a DNS label.
	Name    string  `yaml:"name"`
	AWS     AWS     `yaml:"aws"`
	Network Network `yaml:"network"`
	Cluster Cluster `yaml:"cluster"`
	Traffic Traffic `yaml:"traffic"`
	ArgoCD  ArgoCD  `yaml:"argocd"`
	State   State   `yaml:"state,omitempty"`
	// Teardown is "manual" (the default: blue is deleted only after
	// `eksbg upgrade --approve` or a confirmation in the TUI) or "auto".
	Teardown string `yaml:"teardown,omitempty"`
}

// AWS says where the environment lives and how to get credentials for it.
type AWS struct {
	Region    string `yaml:"region"`
	AccountID string `yaml:"accountId"`
	// Profile is an optional shared-config profile for the base credentials.
	Profile string `yaml:"profile,omitempty"`
	// RoleARN is an optional IAM role assumed with the base credentials.
	RoleARN string `yaml:"roleArn,omitempty"`
}

// Network locates the VPC and subnets the clusters are created in.
type Network struct {
	Terraform Terraform `yaml:"terraform"`
}

// Terraform is the Terraform stack that owns the network.
type Terraform struct {
	// Dir is the root module directory (resolved against the config file).
	Dir string `yaml:"dir"`
	// Workspace defaults to DefaultWorkspace.
	Workspace string           `yaml:"workspace,omitempty"`
	Outputs   TerraformOutputs `yaml:"outputs"`
}

// TerraformOutputs names the outputs of the network stack eksbg reads.
type TerraformOutputs struct {
	// VPCID is the name of a string output holding the VPC ID.
	VPCID     string        `yaml:"vpcId"`
	SubnetIDs SubnetOutputs `yaml:"subnetIds"`
}

// SubnetOutputs names list-of-string outputs holding subnet IDs, by role.
type SubnetOutputs struct {
	// Nodes: subnets for worker nodes (required).
	Nodes string `yaml:"nodes"`
	// ControlPlane: subnets for the EKS control plane ENIs; defaults to Nodes.
	ControlPlane string `yaml:"controlPlane,omitempty"`
	// Pods: subnets for pods with VPC CNI custom networking; empty if unused.
	Pods string `yaml:"pods,omitempty"`
	// LoadBalancers: subnets for load balancers; empty if unused.
	LoadBalancers string `yaml:"loadBalancers,omitempty"`
}

// Cluster describes the EKS clusters of the environment.
type Cluster struct {
	// EksctlConfig is the eksctl ClusterConfig file used for new clusters
	// (resolved against the config file).
	EksctlConfig string `yaml:"eksctlConfig"`
	// NameTemplate gives cluster names; {color} (required) becomes blue or
	// green and {env} the environment name. Defaults to DefaultNameTemplate.
	NameTemplate string `yaml:"nameTemplate,omitempty"`
	// PodsPerNode maps a node group name to the pods per node that take a
	// VPC address (not host-network, not on a branch ENI), for the
	// capacity check; node groups left out use the blue cluster's average.
	PodsPerNode map[string]int `yaml:"podsPerNode,omitempty"`
}

// Traffic says how traffic moves from one color to the other.
type Traffic struct {
	// ListenerRules are the ALB listener rules whose weights eksbg shifts.
	ListenerRules []ListenerRule `yaml:"listenerRules"`
	// Steps are the percentages of traffic on the new color, strictly
	// increasing and ending at 100. Defaults to DefaultSteps.
	Steps []int `yaml:"steps,omitempty"`
	// BakeTime is how long each step is held while gates are checked.
	// Defaults to DefaultBakeTime; 0 disables baking.
	BakeTime time.Duration `yaml:"bakeTime,omitempty"`
	// Gates must hold during each step's bake time, or eksbg rolls back.
	Gates Gates `yaml:"gates,omitempty"`
}

// ListenerRule is one ALB listener rule forwarding to a pair of target
// groups, one per color.
type ListenerRule struct {
	ARN          string       `yaml:"arn"`
	TargetGroups TargetGroups `yaml:"targetGroups"`
}

// TargetGroups holds the target group ARN of each color.
type TargetGroups struct {
	Blue  string `yaml:"blue"`
	Green string `yaml:"green"`
}

// Gates are health thresholds on CloudWatch metrics of the new color's
// target groups. A nil gate is not checked.
type Gates struct {
	// Max5xxPercent is the highest share of requests, in percent (0-100),
	// answered with HTTP 5xx by the targets or the load balancer.
	Max5xxPercent *float64 `yaml:"max5xxPercent,omitempty"`
	// MaxP99Latency is the highest p99 of TargetResponseTime.
	MaxP99Latency *time.Duration `yaml:"maxP99Latency,omitempty"`
	// MinHealthyTargets is the lowest HealthyHostCount.
	MinHealthyTargets *int `yaml:"minHealthyTargets,omitempty"`
	// MinRequestCount is the fewest requests a step must see for the other
	// gates to count; fewer is a failure.
	MinRequestCount *int `yaml:"minRequestCount,omitempty"`
}

// ArgoCD says how eksbg registers clusters with Argo CD.
type ArgoCD struct {
	Management Management `yaml:"management"`
	// Namespace is where Argo CD runs and cluster secrets go; defaults to
	// DefaultArgoCDNamespace.
	Namespace string `yaml:"namespace,omitempty"`
	// ClusterSecretLabels are put on the cluster secrets eksbg creates.
	ClusterSecretLabels map[string]string `yaml:"clusterSecretLabels,omitempty"`
}

// Management is how to reach the cluster Argo CD runs in: either an EKS
// cluster (eksbg generates a token) or a kubeconfig file and context.
type Management struct {
	// EKSCluster is the name of the EKS management cluster.
	EKSCluster string `yaml:"eksCluster,omitempty"`
	// Region of EKSCluster; defaults to the environment's region.
	Region string `yaml:"region,omitempty"`
	// RoleARN is an optional role to assume to reach EKSCluster.
	RoleARN string `yaml:"roleArn,omitempty"`
	// Kubeconfig is a kubeconfig file (resolved against the config file;
	// "~/" is the home directory). Empty with Context set means the usual
	// kubeconfig loading rules ($KUBECONFIG, ~/.kube/config).
	Kubeconfig string `yaml:"kubeconfig,omitempty"`
	// Context in the kubeconfig; empty means its current context.
	Context string `yaml:"context,omitempty"`
}

// UsesEKS reports whether the management cluster is reached by EKS name.
func (m Management) UsesEKS() bool { return m.EKSCluster != "" }

// State is where eksbg keeps the state of upgrades.
type State struct {
	// Backend is StateBackendLocal (the default) or StateBackendS3.
	Backend string `yaml:"backend,omitempty"`
	// Dir is the local state directory (resolved against the config
	// file); defaults to DefaultStateDir. The local backend only.
	Dir string `yaml:"dir,omitempty"`
	// Bucket is the S3 bucket of the s3 backend (required there).
	Bucket string `yaml:"bucket,omitempty"`
	// Prefix is the key prefix in Bucket, without leading or trailing
	// "/"; "" puts each environment at the top of the bucket.
	Prefix string `yaml:"prefix,omitempty"`
	// Region is the bucket's region; defaults to aws.region.
	Region string `yaml:"region,omitempty"`
	// LockLease is how long the environment's lock stays valid without
	// being renewed (default DefaultLockLease, 1s to 1h). A run renews it
	// every third of that and stops if it cannot; another run takes the
	// lock over only once the lease has expired.
	LockLease time.Duration `yaml:"lockLease,omitempty"`
}

// notFoundError is the error Load returns for a missing file.
type notFoundError struct{ path string }

func (e *notFoundError) Error() string {
	return fmt.Sprintf("config file %s not found: run \"eksbg sandbox up\" to create a sandbox and write one, "+
		"write one by hand (see docs/config.md), or pass --config to use another file", e.path)
}

func (e *notFoundError) Unwrap() error { return fs.ErrNotExist }

// Load reads, validates and completes the project file at path. Relative
// paths in it are made absolute against the file's directory. A missing
// file gives an error (matching fs.ErrNotExist) that says how to create one.
func Load(path string) (*Project, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, &notFoundError{path: path}
	}
	if err != nil {
		return nil, fmt.Errorf("read config file: %w", err)
	}
	dir, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		return nil, fmt.Errorf("config file %s: %w", path, err)
	}
	return parse(path, dir, data)
}

// Parse decodes and validates a project file read from file, applies
// defaults, and resolves relative paths against filepath.Dir(file). All
// problems are returned at once as yamlstrict.Errors.
func Parse(file string, data []byte) (*Project, error) {
	return parse(file, filepath.Dir(file), data)
}

func parse(file, dir string, data []byte) (*Project, error) {
	var p Project
	doc, err := yamlstrict.Decode(file, data, &p)
	if err != nil {
		return nil, err
	}
	if errs := validate(doc, &p); len(errs) > 0 {
		errs.Sort()
		return nil, errs
	}
	p.File, p.Dir = file, dir
	for i := range p.Environments {
		p.Environments[i].resolvePaths(dir)
	}
	return &p, nil
}

func (e *Environment) resolvePaths(dir string) {
	for _, p := range []*string{&e.Network.Terraform.Dir, &e.Cluster.EksctlConfig, &e.State.Dir, &e.ArgoCD.Management.Kubeconfig} {
		*p = resolvePath(dir, *p)
	}
}

// resolvePath expands a leading "~/" and joins relative paths to dir.
func resolvePath(dir, p string) string {
	if p == "" {
		return ""
	}
	if p == "~" || strings.HasPrefix(p, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, p[1:])
		}
	}
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	return filepath.Join(dir, p)
}

// EnvNames returns the environment names in file order.
func (p *Project) EnvNames() []string {
	names := make([]string, len(p.Environments))
	for i, e := range p.Environments {
		names[i] = e.Name
	}
	return names
}

// Env returns the environment called name; an unknown name gives an
// error listing the known ones.
func (p *Project) Env(name string) (*Environment, error) {
	for i := range p.Environments {
		if p.Environments[i].Name == name {
			return &p.Environments[i], nil
		}
	}
	file := p.File
	if file == "" {
		file = DefaultFile
	}
	if len(p.Environments) == 0 {
		return nil, fmt.Errorf("unknown environment %q: %s defines no environments", name, file)
	}
	return nil, fmt.Errorf("unknown environment %q in %s (known: %s)", name, file, strings.Join(p.EnvNames(), ", "))
}

// ClusterName returns the name of the environment's cluster of the given
// color, from the cluster name template.
func (e *Environment) ClusterName(color string) string {
	tmpl := e.Cluster.NameTemplate
	if tmpl == "" {
		tmpl = DefaultNameTemplate
	}
	return strings.NewReplacer("{color}", color, "{env}", e.Name).Replace(tmpl)
}

// TargetGroup returns the ARN of the rule's target group of the given
// color, or "" for an unknown color.
func (r *ListenerRule) TargetGroup(color string) string {
	switch color {
	case Blue:
		return r.TargetGroups.Blue
	case Green:
		return r.TargetGroups.Green
	}
	return ""
}

// ValidColor reports whether c is Blue or Green.
func ValidColor(c string) bool { return c == Blue || c == Green }

// LiveColor answers which colour serves the environment, the one answer
// plan, upgrade, drift and the TUI use: recorded is the colour the state
// backend recorded when an upgrade completed ("" when it has no record);
// without one, it is the colour of configCluster, the cluster the
// environment's eksctl config names (an upgrade writes green's config over
// it when it completes, so before the first upgrade it names the live
// cluster). journal.LiveColor reads both inputs.
func (e *Environment) LiveColor(recorded, configCluster string) (string, error) {
	if ValidColor(recorded) {
		return recorded, nil
	}
	for _, c := range []string{Blue, Green} {
		if e.ClusterName(c) == configCluster {
			return c, nil
		}
	}
	return "", fmt.Errorf("%s names cluster %q, which is neither %q nor %q (cluster.nameTemplate of environment %s)",
		e.Cluster.EksctlConfig, configCluster, e.ClusterName(Blue), e.ClusterName(Green), e.Name)
}

// OtherColor returns Green for Blue and Blue for Green ("" otherwise).
func OtherColor(c string) string {
	switch c {
	case Blue:
		return Green
	case Green:
		return Blue
	}
	return ""
}
