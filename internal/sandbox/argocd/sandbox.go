package argocd

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/eksbg/eksbg/internal/awsconf"
	"github.com/eksbg/eksbg/internal/gitops"
	"github.com/eksbg/eksbg/internal/sandbox/catalog"
	"github.com/eksbg/eksbg/internal/sandbox/emulator"
	"github.com/eksbg/eksbg/internal/sandbox/kube"
	"github.com/eksbg/eksbg/internal/sandbox/scenario"
	"github.com/eksbg/eksbg/internal/sandbox/tgb"
)

// Tags the sandbox reads on EKS clusters.
const (
	// TagManagement marks the Argo CD management cluster (value "true").
	// It has no eksbg.io/environment tag: it belongs to no environment.
	TagManagement = "eksbg.io/argocd-management"
	// TagEnvironment and TagColor are eksbg's environment and color tags.
	TagEnvironment = "eksbg.io/environment"
	TagColor       = "eksbg.io/color"
)

// SandboxOptions configure StartSandbox.
type SandboxOptions struct {
	// Emulator is the sandbox's AWS API emulator, served at URL.
	Emulator *emulator.Server
	URL      string
	// Manager runs the clusters' control planes; they must be ready.
	Manager *kube.Manager
	// Dir holds Argo CD's files (Options.Dir).
	Dir string
	// Binaries; nil means LocateBinaries.
	Binaries *Binaries
	Logger   *slog.Logger
}

// Sandbox is the sandbox's GitOps and load-balancing side: Argo CD on the
// management cluster, with every workload cluster registered, and the
// TargetGroupBinding controller on every workload cluster.
type Sandbox struct {
	// ArgoCD is nil when the scenario has no management cluster.
	ArgoCD *Instance
	// TGB reconciles the TargetGroupBindings of the workload clusters.
	TGB *tgb.Controller
	// Management is the management cluster's name ("" without one).
	Management string

	opts   SandboxOptions
	cancel context.CancelFunc
	loop   sync.WaitGroup
}

// StartSandbox starts Argo CD on the cluster tagged TagManagement (when
// there is one), registers every cluster tagged eksbg.io/environment
// with it (RegisterSandboxClusters), starts the TargetGroupBinding
// controller on every other cluster and keeps that set in step with the
// control planes as clusters come and go. Clusters created later (green)
// are not registered with Argo CD: that is eksbg's job (gitops.RegisterCluster).
func StartSandbox(ctx context.Context, o SandboxOptions) (_ *Sandbox, err error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	var region string
	var cred scenario.Credential
	o.Emulator.View(func(w *emulator.World) {
		region = w.Region
		cred = emulator.DefaultCredential
		if len(w.Credentials) > 0 {
			cred = w.Credentials[0]
		}
	})
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(region), config.WithBaseEndpoint(o.URL),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(cred.AccessKeyID, cred.SecretAccessKey, "")))
	if err != nil {
		return nil, fmt.Errorf("loading AWS configuration: %w", err)
	}
	awsconf.WholeBodies(&cfg)
	clusters, err := describeClusters(ctx, eks.NewFromConfig(cfg))
	if err != nil {
		return nil, err
	}
	elb := elbv2.NewFromConfig(cfg)
	s := &Sandbox{opts: o, TGB: tgb.New(tgb.Options{ELB: elb, Readiness: o.Emulator, Logger: o.Logger})}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	var envs []string
	for _, c := range clusters {
		if c.Tags[TagManagement] == "true" {
			s.Management = aws.ToString(c.Name)
		}
		if env := c.Tags[TagEnvironment]; env != "" && !slices.Contains(envs, env) {
			envs = append(envs, env)
		}
	}
	// The CRD goes on every workload cluster before Argo CD syncs the
	// catalog's TargetGroupBindings there.
	if err := s.syncTGBClusters(ctx); err != nil {
		return nil, err
	}
	lctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.cancel = cancel
	s.loop.Add(1)
	go func() {
		defer s.loop.Done()
		s.watchClusters(lctx)
	}()
	if s.Management == "" {
		o.Logger.Info("no cluster is tagged " + TagManagement + "=true: not starting Argo CD")
		return s, nil
	}
	cp, ok := o.Manager.ControlPlane(s.Management)
	if !ok {
		return nil, fmt.Errorf("the management cluster %s has no control plane", s.Management)
	}
	s.ArgoCD, err = Start(ctx, Options{Binaries: o.Binaries, Dir: o.Dir, ManagementKubeconfig: cp.AdminKubeconfig(),
		Management: cp.RESTConfig(), Environments: envs, Logger: o.Logger,
		AWS: AWSEnv{Endpoint: o.URL, Region: region, AccessKeyID: cred.AccessKeyID, SecretAccessKey: cred.SecretAccessKey}})
	if err != nil {
		return nil, err
	}
	if err := RegisterSandboxClusters(ctx, s.ArgoCD, elb, clusters); err != nil {
		return nil, err
	}
	return s, nil
}

// describeClusters lists the EKS clusters and describes each.
func describeClusters(ctx context.Context, api *eks.Client) ([]*ekstypes.Cluster, error) {
	var out []*ekstypes.Cluster
	p := eks.NewListClustersPaginator(api, &eks.ListClustersInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("listing clusters: %w", err)
		}
		for _, name := range page.Clusters {
			d, err := api.DescribeCluster(ctx, &eks.DescribeClusterInput{Name: aws.String(name)})
			if err != nil {
				return nil, fmt.Errorf("describing cluster %s: %w", name, err)
			}
			out = append(out, d.Cluster)
		}
	}
	return out, nil
}

// DescribeTargetGroupsAPI is the ELBv2 call RegisterSandboxClusters makes.
type DescribeTargetGroupsAPI interface {
	DescribeTargetGroups(ctx context.Context, in *elbv2.DescribeTargetGroupsInput, optFns ...func(*elbv2.Options)) (*elbv2.DescribeTargetGroupsOutput, error)
}

// RegisterSandboxClusters registers every cluster tagged
// eksbg.io/environment that has no cluster secret yet with Argo CD, labelled env=<environment>,
// eksbg.io/color=<color> and eksbg.io/singletons ("true" for the blue
// cluster, or the only one, of its environment), and annotated with the
// ARN of its <environment>-<color>-web target group when there is one.
func RegisterSandboxClusters(ctx context.Context, inst *Instance, elb DescribeTargetGroupsAPI, clusters []*ekstypes.Cluster) error {
	perEnv := map[string]int{}
	for _, c := range clusters {
		if env := c.Tags[TagEnvironment]; env != "" {
			perEnv[env]++
		}
	}
	for _, c := range clusters {
		env, color := c.Tags[TagEnvironment], c.Tags[TagColor]
		if env == "" || c.CertificateAuthority == nil {
			continue
		}
		ca, err := decodeCA(aws.ToString(c.CertificateAuthority.Data))
		if err != nil {
			return fmt.Errorf("cluster %s: %w", aws.ToString(c.Name), err)
		}
		reg := gitops.Cluster{Name: aws.ToString(c.Name), Server: aws.ToString(c.Endpoint), CAData: ca,
			Labels: map[string]string{catalog.LabelEnvironment: env, gitops.LabelColor: color,
				gitops.LabelSingletons: singletons(color == "blue" || perEnv[env] == 1)}}
		out, err := elb.DescribeTargetGroups(ctx, &elbv2.DescribeTargetGroupsInput{Names: []string{catalog.TargetGroupName(env, color)}})
		var nf *elbtypes.TargetGroupNotFoundException
		switch {
		case errors.As(err, &nf):
		case err != nil:
			return fmt.Errorf("finding the target group of %s: %w", reg.Name, err)
		case len(out.TargetGroups) == 1:
			reg.Annotations = map[string]string{gitops.AnnotationTargetGroupARN: aws.ToString(out.TargetGroups[0].TargetGroupArn)}
		}
		// A secret already there (eksbg registered the cluster, or moved
		// its singletons) is left as it is.
		if _, err := inst.Kube().CoreV1().Secrets(inst.Namespace()).Get(ctx, gitops.SecretName(reg.Name), metav1.GetOptions{}); err == nil {
			continue
		} else if !apierrors.IsNotFound(err) {
			return fmt.Errorf("reading the cluster secret of %s: %w", reg.Name, err)
		}
		if err := gitops.RegisterCluster(ctx, inst.Kube(), inst.Namespace(), reg); err != nil {
			return err
		}
	}
	return nil
}

// syncTGBClusters puts the TargetGroupBinding controller on every running
// control plane but the management cluster's, and takes it off those
// gone.
func (s *Sandbox) syncTGBClusters(ctx context.Context) error {
	var want []string
	for _, st := range s.opts.Manager.Status() {
		if st.Cluster == s.Management {
			continue
		}
		cp, ok := s.opts.Manager.ControlPlane(st.Cluster)
		if !ok || st.Err != nil {
			continue
		}
		want = append(want, st.Cluster)
		if err := s.TGB.AddCluster(ctx, st.Cluster, cp.RESTConfig()); err != nil {
			return err
		}
	}
	for _, name := range s.TGB.Clusters() {
		if !slices.Contains(want, name) {
			s.TGB.RemoveCluster(name)
		}
	}
	return nil
}

// watchClusters keeps the TargetGroupBinding controller's clusters in step
// with the control planes.
func (s *Sandbox) watchClusters(ctx context.Context) {
	poke := make(chan struct{}, 1)
	unsubscribe := s.opts.Emulator.Subscribe(func(emulator.Event) {
		select {
		case poke <- struct{}{}:
		default:
		}
	})
	defer unsubscribe()
	t := time.NewTicker(2 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-poke:
		case <-t.C:
		}
		if err := s.syncTGBClusters(ctx); err != nil && ctx.Err() == nil {
			s.opts.Logger.Warn("starting the TargetGroupBinding controller on a cluster", "error", err)
		}
	}
}

// PIDs are the process ids of Argo CD's processes (none without it).
func (s *Sandbox) PIDs() []int {
	if s.ArgoCD == nil {
		return nil
	}
	return s.ArgoCD.PIDs()
}

// Close stops the TargetGroupBinding controller and Argo CD.
func (s *Sandbox) Close() {
	if s.cancel != nil {
		s.cancel()
		s.loop.Wait()
	}
	s.TGB.Close()
	if s.ArgoCD != nil {
		s.ArgoCD.Close()
	}
}

// DefaultSandboxDir is Argo CD's directory beside the control planes'
// (kube.Manager's Dir).
func DefaultSandboxDir(kubeDir string) string { return filepath.Join(filepath.Dir(kubeDir), "argocd") }

// decodeCA decodes DescribeCluster's certificateAuthority.data (base64 PEM).
func decodeCA(data string) ([]byte, error) {
	ca, err := base64.StdEncoding.DecodeString(data)
	if err != nil {
		return nil, fmt.Errorf("decoding the cluster's CA: %w", err)
	}
	return ca, nil
}

// singletons is the LabelSingletons value for a cluster that runs them or not.
func singletons(active bool) string {
	if active {
		return gitops.SingletonsActive
	}
	return gitops.SingletonsSuspended
}
