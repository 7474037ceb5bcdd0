package cli

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	"github.com/spf13/cobra"
	clientauthv1beta1 "k8s.io/client-go/pkg/apis/clientauthentication/v1beta1"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/eksbg/eksbg/internal/awsconf"
	"github.com/eksbg/eksbg/internal/ekstoken"
)

// TokenOptions are the parsed flags of `eksbg token`.
type TokenOptions struct {
	Ctx         context.Context
	ClusterName string
	Region      string
}

// NewCmdToken builds `eksbg token`, a kubectl credential plugin that does
// what `aws eks get-token` does, without the AWS CLI.
func NewCmdToken(f *Factory, runF func(*TokenOptions) error) *cobra.Command {
	o := &TokenOptions{}
	cmd := &cobra.Command{
		Use:   "token --cluster-name NAME",
		Short: "Print an EKS bearer token as a kubectl ExecCredential",
		Long: `Print an authentication token for an EKS cluster, in the ExecCredential format
kubectl's exec credential plugins use (client.authentication.k8s.io/v1beta1).

The token is EKS's: a presigned STS GetCallerIdentity request naming the
cluster, signed with the AWS credentials of the standard SDK chain. eksbg
signs it itself, so neither the AWS CLI nor aws-iam-authenticator is needed.
Tokens are valid for 15 minutes; kubectl asks for a new one when the
expirationTimestamp passes. eksbg's own commands never need this: they
reach clusters with the same tokens directly.`,
		Example: `  eksbg token --cluster-name demo-blue
  # in a kubeconfig user entry:
  #   exec: {apiVersion: client.authentication.k8s.io/v1beta1, command: eksbg,
  #          args: [token, --cluster-name, demo-blue], interactiveMode: Never}`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.ClusterName == "" {
				return usageErrorf("--cluster-name is required")
			}
			o.Ctx = cmd.Context()
			if runF != nil {
				return runF(o)
			}
			cfg, err := awsconf.Load(o.Ctx, awsconf.Options{Region: o.Region})
			if err != nil {
				return err
			}
			tok, err := ekstoken.Generate(o.Ctx, cfg, o.ClusterName)
			if err != nil {
				return err
			}
			return writeExecCredential(f, tok)
		},
	}
	cmd.Flags().StringVar(&o.ClusterName, "cluster-name", "", "EKS cluster the token is for")
	cmd.Flags().StringVar(&o.Region, "region", "", "AWS region (default: the SDK chain's)")
	return cmd
}

func writeExecCredential(f *Factory, tok ekstoken.Token) error {
	exp := tok.Expiration.UTC().Truncate(time.Second)
	ec := clientauthv1beta1.ExecCredential{
		Status: &clientauthv1beta1.ExecCredentialStatus{Token: tok.Value},
	}
	ec.APIVersion, ec.Kind = clientauthv1beta1.SchemeGroupVersion.String(), "ExecCredential"
	ec.Status.ExpirationTimestamp = nil
	b, err := json.Marshal(struct {
		clientauthv1beta1.ExecCredential
	}{ec})
	if err != nil {
		return err
	}
	// metav1.Time has no constructor-free zero handling we want here: set
	// the expiry through a map so it is RFC 3339 in UTC, as aws eks get-token prints it.
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	m["status"].(map[string]any)["expirationTimestamp"] = exp.Format(time.RFC3339)
	delete(m, "metadata")
	out, err := json.Marshal(m)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(f.IO.Out, string(out))
	return err
}

// SandboxKubeconfigOptions are the parsed flags of `eksbg sandbox kubeconfig`.
type SandboxKubeconfigOptions struct {
	Ctx         context.Context
	Clusters    []string
	StaticToken bool
	File        string
}

// NewCmdSandboxKubeconfig builds `eksbg sandbox kubeconfig`.
func NewCmdSandboxKubeconfig(f *Factory, runF func(*SandboxKubeconfigOptions) error) *cobra.Command {
	o := &SandboxKubeconfigOptions{}
	cmd := &cobra.Command{
		Use:   "kubeconfig",
		Short: "Print a kubeconfig for the sandbox's clusters",
		Long: `Print a kubeconfig with one context per EKS cluster the sandbox runs (or the
ones named with --cluster), for kubectl. Each cluster's endpoint and CA come
from DescribeCluster, as for any EKS cluster; the user entry runs 'eksbg token'
as an exec credential plugin, so kubectl always holds a fresh EKS token
(source the workspace's env file first). --static-token embeds a token instead,
valid for 14 minutes. eksbg itself never needs a kubeconfig.`,
		Example: `  source sandbox/env
  eksbg sandbox kubeconfig > sandbox/kubeconfig
  kubectl --kubeconfig sandbox/kubeconfig --context demo-blue get nodes`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Ctx = cmd.Context()
			if runF != nil {
				return runF(o)
			}
			return runSandboxKubeconfig(f, o)
		},
	}
	cmd.Flags().StringSliceVar(&o.Clusters, "cluster", nil, "clusters to include (default: every ACTIVE cluster)")
	cmd.Flags().BoolVar(&o.StaticToken, "static-token", false, "embed a token (valid 14 minutes) instead of the exec plugin")
	cmd.Flags().StringVar(&o.File, "file", "", "write to this file (mode 0600) instead of stdout")
	return cmd
}

func runSandboxKubeconfig(f *Factory, o *SandboxKubeconfigOptions) error {
	cfg, err := awsconf.Load(o.Ctx, awsconf.Options{})
	if err != nil {
		return err
	}
	eksc := eks.NewFromConfig(cfg)
	names := o.Clusters
	if len(names) == 0 {
		p := eks.NewListClustersPaginator(eksc, &eks.ListClustersInput{})
		for p.HasMorePages() {
			page, err := p.NextPage(o.Ctx)
			if err != nil {
				return fmt.Errorf("listing clusters: %w", err)
			}
			names = append(names, page.Clusters...)
		}
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	kc := clientcmdapi.NewConfig()
	for _, name := range names {
		d, err := eksc.DescribeCluster(o.Ctx, &eks.DescribeClusterInput{Name: aws.String(name)})
		if err != nil {
			return fmt.Errorf("describing cluster %s: %w", name, err)
		}
		c := d.Cluster
		if aws.ToString(c.Endpoint) == "" || c.CertificateAuthority == nil {
			if len(o.Clusters) > 0 {
				return fmt.Errorf("cluster %s has no endpoint yet (it is %s)", name, c.Status)
			}
			continue
		}
		ca, err := decodeCA(aws.ToString(c.CertificateAuthority.Data))
		if err != nil {
			return fmt.Errorf("cluster %s: %w", name, err)
		}
		kc.Clusters[name] = &clientcmdapi.Cluster{Server: aws.ToString(c.Endpoint), CertificateAuthorityData: ca}
		user := &clientcmdapi.AuthInfo{}
		if o.StaticToken {
			tok, err := ekstoken.Generate(o.Ctx, cfg, name)
			if err != nil {
				return err
			}
			user.Token = tok.Value
		} else {
			user.Exec = &clientcmdapi.ExecConfig{
				APIVersion: clientauthv1beta1.SchemeGroupVersion.String(), Command: self,
				Args: []string{"token", "--cluster-name", name, "--region", cfg.Region}, InteractiveMode: clientcmdapi.NeverExecInteractiveMode,
			}
		}
		kc.AuthInfos[name] = user
		kc.Contexts[name] = &clientcmdapi.Context{Cluster: name, AuthInfo: name}
		if kc.CurrentContext == "" {
			kc.CurrentContext = name
		}
	}
	if len(kc.Clusters) == 0 {
		return fmt.Errorf("no sandbox cluster has an API endpoint: is the sandbox up with its control planes ('eksbg sandbox up')?")
	}
	data, err := clientcmd.Write(*kc)
	if err != nil {
		return err
	}
	if o.File != "" {
		return os.WriteFile(o.File, data, 0o600)
	}
	_, err = f.IO.Out.Write(data)
	return err
}

func decodeCA(b64 string) ([]byte, error) {
	ca, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, fmt.Errorf("decoding the cluster CA: %w", err)
	}
	return ca, nil
}
