// Package kubeaccess reaches the Kubernetes API of an EKS cluster the way
// EKS intends: endpoint and CA from DescribeCluster, and a bearer token in
// EKS's format that eksbg signs itself (internal/ekstoken). No kubeconfig,
// no aws or aws-iam-authenticator binary. TLS is always verified against
// the cluster's CA, in the sandbox too: its control planes serve
// certificates signed by the CA that its DescribeCluster returns.
package kubeaccess

import (
	"context"
	"encoding/base64"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/eksbg/eksbg/internal/ekstoken"
)

// DescribeClusterAPI is the one EKS call this package makes.
type DescribeClusterAPI interface {
	DescribeCluster(ctx context.Context, in *eks.DescribeClusterInput, optFns ...func(*eks.Options)) (*eks.DescribeClusterOutput, error)
}

// RESTConfig returns a client-go configuration for the named EKS cluster:
// its endpoint, its CA, and a token source that signs a fresh EKS token
// with cfg's credentials before the current one expires.
func RESTConfig(ctx context.Context, api DescribeClusterAPI, cfg aws.Config, cluster string) (*rest.Config, error) {
	out, err := api.DescribeCluster(ctx, &eks.DescribeClusterInput{Name: aws.String(cluster)})
	if err != nil {
		return nil, fmt.Errorf("describing cluster %s: %w", cluster, err)
	}
	return ForCluster(out.Cluster, cfg)
}

// ForCluster is RESTConfig for a cluster already described.
func ForCluster(c *ekstypes.Cluster, cfg aws.Config) (*rest.Config, error) {
	name := aws.ToString(c.Name)
	if c.Status != ekstypes.ClusterStatusActive && c.Status != ekstypes.ClusterStatusUpdating {
		return nil, fmt.Errorf("cluster %s is %s: its API is reachable only once it is ACTIVE", name, c.Status)
	}
	endpoint := aws.ToString(c.Endpoint)
	if endpoint == "" || c.CertificateAuthority == nil || aws.ToString(c.CertificateAuthority.Data) == "" {
		return nil, fmt.Errorf("cluster %s has no endpoint or CA yet", name)
	}
	ca, err := base64.StdEncoding.DecodeString(aws.ToString(c.CertificateAuthority.Data))
	if err != nil {
		return nil, fmt.Errorf("decoding the CA of cluster %s: %w", name, err)
	}
	src := ekstoken.NewSource(cfg, name)
	rc := &rest.Config{
		Host:            endpoint,
		TLSClientConfig: rest.TLSClientConfig{CAData: ca},
		UserAgent:       "eksbg",
		// eksbg's calls are few and bursty (a watch per phase, a patch per
		// object); client-go's default 5 QPS would pace a parity check of a
		// few hundred objects to a minute.
		QPS: 50, Burst: 100,
	}
	rc.Wrap(src.WrapTransport)
	return rc, nil
}

// Clientset is RESTConfig's typed client.
func Clientset(ctx context.Context, api DescribeClusterAPI, cfg aws.Config, cluster string) (kubernetes.Interface, error) {
	rc, err := RESTConfig(ctx, api, cfg, cluster)
	if err != nil {
		return nil, err
	}
	cs, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return nil, fmt.Errorf("building a client for cluster %s: %w", cluster, err)
	}
	return cs, nil
}
