package kubeaccess

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/eksbg/eksbg/internal/awsconf"
	"github.com/eksbg/eksbg/internal/config"
)

// Management returns a client configuration for an environment's Argo CD
// management cluster: an EKS cluster reached like any other (in the
// management region and role when they differ from the environment's), or
// a kubeconfig context.
func Management(ctx context.Context, env *config.Environment, cfg aws.Config) (*rest.Config, error) {
	m := env.ArgoCD.Management
	if m.EKSCluster != "" {
		if (m.Region != "" && m.Region != cfg.Region) || m.RoleARN != "" {
			region := m.Region
			if region == "" {
				region = cfg.Region
			}
			var err error
			cfg, err = awsconf.Load(ctx, awsconf.Options{Region: region, Profile: env.AWS.Profile, RoleARN: m.RoleARN})
			if err != nil {
				return nil, fmt.Errorf("loading AWS configuration for the Argo CD management cluster: %w", err)
			}
		}
		return RESTConfig(ctx, eks.NewFromConfig(cfg), cfg, m.EKSCluster)
	}
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if m.Kubeconfig != "" {
		rules.ExplicitPath = m.Kubeconfig
	}
	rc, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: m.Context}).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("loading the kubeconfig of the Argo CD management cluster: %w", err)
	}
	return rc, nil
}
