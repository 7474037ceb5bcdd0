package fake

import (
	"context"

	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"

	"github.com/eksbg/eksbg/clusters"
)

// Provisioner plays eksctl against an EKS fake: CreateCluster makes the
// config's cluster ACTIVE with its managed node groups and the default
// add-ons, CreateNodegroups adds the missing ones, DeleteCluster removes
// the cluster. Queued errors are returned before anything is done.
type Provisioner struct {
	Calls
	Errors
	EKS *EKS
}

// DefaultAddons are the add-ons EKS installs on every new cluster.
var DefaultAddons = []string{"coredns", "kube-proxy", "vpc-cni"}

// CreateCluster implements upgrade.Provisioner.
func (p *Provisioner) CreateCluster(_ context.Context, configPath string) error {
	p.add("CreateCluster")
	if err := p.take("CreateCluster"); err != nil {
		return err
	}
	s, err := spec(configPath)
	if err != nil {
		return err
	}
	p.EKS.PutCluster(s.Name, s.Version, ekstypes.ClusterStatusActive)
	for _, a := range DefaultAddons {
		p.EKS.PutAddon(s.Name, a)
	}
	p.nodegroups(s)
	return nil
}

// CreateNodegroups implements upgrade.Provisioner.
func (p *Provisioner) CreateNodegroups(_ context.Context, configPath string) error {
	p.add("CreateNodegroups")
	if err := p.take("CreateNodegroups"); err != nil {
		return err
	}
	s, err := spec(configPath)
	if err != nil {
		return err
	}
	p.nodegroups(s)
	return nil
}

func (p *Provisioner) nodegroups(s *clusters.Spec) {
	for _, ng := range s.NodeGroups {
		if !ng.Managed {
			continue
		}
		if p.EKS.hasNodegroup(s.Name, ng.Name) {
			continue
		}
		desired := int32(2)
		if ng.DesiredCapacity != nil {
			desired = int32(*ng.DesiredCapacity)
		}
		p.EKS.PutNodegroup(s.Name, ng.Name, desired, ekstypes.NodegroupStatusActive)
	}
}

// DeleteCluster implements upgrade.Provisioner.
func (p *Provisioner) DeleteCluster(_ context.Context, name, _ string) error {
	p.add("DeleteCluster")
	if err := p.take("DeleteCluster"); err != nil {
		return err
	}
	p.EKS.DeleteCluster(name)
	return nil
}

func spec(path string) (*clusters.Spec, error) {
	cfg, err := clusters.Load(path)
	if err != nil {
		return nil, err
	}
	return cfg.Spec()
}
