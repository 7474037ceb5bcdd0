package eksctl

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// CreateCluster runs `eksctl create cluster -f configPath`. It returns once
// eksctl does: the cluster and its node groups exist and eksctl has waited
// for them.
func (e *Eksctl) CreateCluster(ctx context.Context, configPath string) error {
	return e.run(ctx, nil, CreateClusterArgs(configPath)...)
}

// CreateClusterArgs are the arguments of CreateCluster. eksbg writes the
// kubeconfig itself (it authenticates with EKS tokens), so eksctl must not
// touch the user's.
func CreateClusterArgs(configPath string) []string {
	return []string{"create", "cluster", "-f", configPath, "--write-kubeconfig=false"}
}

// DeleteCluster runs `eksctl delete cluster --name NAME --region REGION
// --wait`: eksctl deletes the node groups and the cluster and waits for
// their stacks to go.
func (e *Eksctl) DeleteCluster(ctx context.Context, name, region string) error {
	return e.run(ctx, nil, DeleteClusterArgs(name, region)...)
}

// DeleteClusterArgs are the arguments of DeleteCluster.
func DeleteClusterArgs(name, region string) []string {
	args := []string{"delete", "cluster", "--name", name, "--wait"}
	if region != "" {
		args = append(args, "--region", region)
	}
	return args
}

// Cluster is what `eksctl get cluster --name NAME -o json` prints for a
// cluster: EKS's DescribeCluster, with the SDK's field names.
type Cluster struct {
	Name               string
	Arn                string
	Version            string
	Status             string
	Endpoint           string
	PlatformVersion    string
	CreatedAt          time.Time
	Tags               map[string]string
	ResourcesVpcConfig struct {
		VpcId            string
		SubnetIds        []string
		SecurityGroupIds []string
	}
}

// GetCluster runs `eksctl get cluster --name NAME -o json`.
func (e *Eksctl) GetCluster(ctx context.Context, name, region string) (*Cluster, error) {
	out, err := e.output(ctx, GetClusterArgs(name, region)...)
	if err != nil {
		return nil, err
	}
	var cs []Cluster
	if err := json.Unmarshal(out, &cs); err != nil {
		return nil, fmt.Errorf("reading eksctl get cluster's JSON: %w", err)
	}
	if len(cs) != 1 {
		return nil, fmt.Errorf("eksctl get cluster --name %s returned %d clusters, want 1", name, len(cs))
	}
	return &cs[0], nil
}

// GetClusterArgs are the arguments of GetCluster.
func GetClusterArgs(name, region string) []string {
	args := []string{"get", "cluster", "--name", name, "-o", "json"}
	if region != "" {
		args = append(args, "--region", region)
	}
	return args
}

// Schema runs `eksctl utils schema`: the JSON schema of ClusterConfig that
// this eksctl accepts, which eksbg validates every config against.
func (e *Eksctl) Schema(ctx context.Context) ([]byte, error) {
	return e.output(ctx, "utils", "schema")
}

// CreateNodegroups runs `eksctl create nodegroup -f configPath`: eksctl
// creates the config's node groups that do not exist yet and skips the
// others, which finishes a cluster creation that was interrupted.
func (e *Eksctl) CreateNodegroups(ctx context.Context, configPath string) error {
	return e.run(ctx, nil, CreateNodegroupsArgs(configPath)...)
}

// CreateNodegroupsArgs are the arguments of CreateNodegroups.
func CreateNodegroupsArgs(configPath string) []string {
	return []string{"create", "nodegroup", "-f", configPath}
}
