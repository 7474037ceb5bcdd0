// Package preflight works out what an upgrade would do and whether it may:
// green's eksctl config derived from blue's, and the checks the upgrade's
// preflight phase runs (EKS upgrade insights, removed APIs in what runs and
// in the Argo CD apps' manifests, workloads that would drop requests, Spot
// without a termination handler, subnet capacity and service quotas). It
// changes nothing; `eksbg plan` shows its Plan, and package upgrade runs it
// as its first phase. It renders plans but never talks to a terminal.
package preflight

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/eksbg/eksbg/clusters"
	"github.com/eksbg/eksbg/internal/config"
	"github.com/eksbg/eksbg/internal/findings"
	"github.com/eksbg/eksbg/internal/gitops"
	"github.com/eksbg/eksbg/internal/kubeaccess"
	"github.com/eksbg/eksbg/internal/textdiff"
	"github.com/eksbg/eksbg/terraform"
	"github.com/eksbg/eksbg/upgrade/journal"
)

// Options are what MakePlan needs.
type Options struct {
	Env *config.Environment
	// ProjectDir is the directory of eksbg.yaml: relative paths in Env are
	// relative to it.
	ProjectDir string
	// To is green's Kubernetes version.
	To string
	// Backend holds the live colour's record (nil: none, the eksctl
	// config's cluster is live; journal.LiveColor).
	Backend journal.Backend
	// AWS is the environment's AWS configuration.
	AWS aws.Config
	// Terraform reads the network.
	Terraform *terraform.Runner
	// Schema is eksctl's ClusterConfig schema (`eksctl utils schema`).
	Schema *clusters.Schema
	// REST returns a client configuration for an EKS cluster; nil uses
	// kubeaccess (DescribeCluster and an EKS token).
	REST func(ctx context.Context, cluster string) (*rest.Config, error)
	// ArgoCD returns a client configuration for the Argo CD management
	// cluster; nil skips the checks of the apps' rendered manifests (the
	// plan then says so in a finding).
	ArgoCD func(ctx context.Context) (*rest.Config, error)
	// Capacity, when set, runs the capacity check on the derived green
	// config and returns its findings and report (package capacity).
	Capacity func(ctx context.Context, green *clusters.Config) (report any, fs []findings.Finding, err error)
}

// ClusterRef names one color's cluster.
type ClusterRef struct {
	Name    string `json:"name"`
	Color   string `json:"color"`
	Version string `json:"version"`
}

// Plan is what an upgrade would do, computed without changing anything.
type Plan struct {
	Environment string     `json:"environment"`
	Blue        ClusterRef `json:"blue"`
	Green       ClusterRef `json:"green"`
	// GreenConfig is the derived eksctl ClusterConfig (YAML).
	GreenConfig string `json:"greenConfig"`
	// Diff is GreenConfig as a unified diff against blue's file.
	Diff     string             `json:"diff"`
	Findings []findings.Finding `json:"findings"`
	// Capacity is the capacity report of green (nil if not run).
	Capacity any             `json:"capacity,omitempty"`
	Phases   []PhaseEstimate `json:"phases"`
	// Blocked is true when a finding fails the upgrade.
	Blocked bool `json:"blocked"`
}

// PhaseEstimate is one phase of the upgrade as the plan sees it.
type PhaseEstimate struct {
	Name  string   `json:"name"`
	What  string   `json:"what"`
	Gates []string `json:"gates,omitempty"`
	// Estimate is a typical duration on AWS (Estimates gives the basis).
	Estimate time.Duration `json:"-"`
	// EstimateSeconds is Estimate for JSON readers.
	EstimateSeconds int `json:"estimateSeconds"`
}

// MakePlan derives green from blue and checks everything the preflight
// phase checks, without creating anything.
func MakePlan(ctx context.Context, o Options) (*Plan, error) {
	env := o.Env
	cfgPath := env.Cluster.EksctlConfig
	if !filepath.IsAbs(cfgPath) {
		cfgPath = filepath.Join(o.ProjectDir, cfgPath)
	}
	blueCfg, err := clusters.Load(cfgPath)
	if err != nil {
		return nil, fmt.Errorf("loading the environment's eksctl config: %w", err)
	}
	recorded := ""
	if o.Backend != nil {
		lv, err := o.Backend.Live(ctx, env.Name)
		if err != nil {
			return nil, err
		}
		if lv != nil {
			recorded = lv.Color
		}
	}
	color, err := env.LiveColor(recorded, blueCfg.Name())
	if err != nil {
		return nil, err
	}
	blueName := blueCfg.Name()
	if want := env.ClusterName(color); blueName != want {
		// An upgrade completed and recorded its colour, but the config it
		// wrote was not kept (or was reverted): green would be derived
		// from the wrong cluster.
		return nil, fmt.Errorf("%s describes %s, but %s is the live cluster (the state backend's record): restore the config the last upgrade wrote for %s, then plan again",
			cfgPath, blueName, want, want)
	}
	eksc := eks.NewFromConfig(o.AWS)
	live, err := eksc.DescribeCluster(ctx, &eks.DescribeClusterInput{Name: aws.String(blueName)})
	if err != nil {
		return nil, fmt.Errorf("describing the live cluster %s: %w", blueName, err)
	}
	blueVersion := aws.ToString(live.Cluster.Version)
	if cmpMinor(o.To, blueVersion) <= 0 {
		return nil, fmt.Errorf("green's version %s is not newer than %s's %s: blue/green upgrades go forward", o.To, blueName, blueVersion)
	}
	greenColor := config.OtherColor(color)
	p := &Plan{Environment: env.Name,
		Blue:  ClusterRef{Name: blueName, Color: color, Version: blueVersion},
		Green: ClusterRef{Name: env.ClusterName(greenColor), Color: greenColor, Version: o.To}}

	// Render: the network from Terraform, green from blue.
	tfEnv := *env
	if d := tfEnv.Network.Terraform.Dir; !filepath.IsAbs(d) {
		tfEnv.Network.Terraform.Dir = filepath.Join(o.ProjectDir, d)
	}
	ec2c := ec2.NewFromConfig(o.AWS)
	nw, err := o.Terraform.ReadNetwork(ctx, &tfEnv, ec2c)
	if err != nil {
		return nil, err
	}
	green, fs, err := clusters.Derive(ctx, blueCfg, clusters.DeriveOptions{
		Name: p.Green.Name, Version: o.To, BlueVersion: blueVersion, Network: deriveNetwork(nw),
		Tags:   map[string]string{clusters.TagEnvironment: env.Name, clusters.TagColor: greenColor},
		Addons: eksc, Schema: o.Schema,
	})
	var refused *clusters.RefusedError
	switch {
	case errors.As(err, &refused):
		p.Findings = append(p.Findings, refused.Findings()...)
	case err != nil:
		return nil, fmt.Errorf("deriving green's config: %w", err)
	default:
		p.GreenConfig = string(green.Bytes())
		p.Diff = textdiff.Unified(env.Cluster.EksctlConfig, p.Green.Name+".yaml (green)", string(blueCfg.Bytes()), p.GreenConfig, 3)
	}
	p.Findings = append(p.Findings, fs...)

	// Compatibility.
	ins, err := Insights(ctx, eksc, blueName)
	if err != nil {
		return nil, err
	}
	p.Findings = append(p.Findings, ins...)
	restFor := o.REST
	if restFor == nil {
		restFor = func(ctx context.Context, cluster string) (*rest.Config, error) {
			return kubeaccess.RESTConfig(ctx, eksc, o.AWS, cluster)
		}
	}
	rc, err := restFor(ctx, blueName)
	if err != nil {
		return nil, err
	}
	kc, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return nil, err
	}
	dyn, err := dynamic.NewForConfig(rc)
	if err != nil {
		return nil, err
	}
	disc, err := discovery.NewDiscoveryClientForConfig(rc)
	if err != nil {
		return nil, err
	}
	objs, err := LiveObjects(ctx, dyn, disc, blueName)
	if err != nil {
		return nil, err
	}
	appObjs, argoFinding := o.argoObjects(ctx, blueName, aws.ToString(live.Cluster.Endpoint))
	if argoFinding != nil {
		p.Findings = append(p.Findings, *argoFinding)
	}
	objs = append(objs, appObjs...)
	removed, err := clusters.RemovedAPIs(blueVersion, o.To, objs)
	if err != nil {
		return nil, err
	}
	p.Findings = append(p.Findings, removed...)
	requested, err := DeprecatedRequests(ctx, func(ctx context.Context) ([]byte, error) {
		return disc.RESTClient().Get().AbsPath("/metrics").DoRaw(ctx)
	}, blueName, o.To)
	if err != nil {
		return nil, err
	}
	p.Findings = append(p.Findings, requested...)
	wl, err := Workloads(ctx, kc, dyn, elb.NewFromConfig(o.AWS), blueName)
	if err != nil {
		return nil, err
	}
	p.Findings = append(p.Findings, wl...)
	if green != nil {
		spec, err := green.Spec()
		if err != nil {
			return nil, err
		}
		spot, err := SpotWithoutNTH(ctx, kc, spec, blueName)
		if err != nil {
			return nil, err
		}
		p.Findings = append(p.Findings, spot...)
		if o.Capacity != nil {
			rep, cfs, err := o.Capacity(ctx, green)
			if err != nil {
				return nil, fmt.Errorf("checking capacity: %w", err)
			}
			p.Capacity = rep
			p.Findings = append(p.Findings, cfs...)
		}
	}
	findings.Sort(p.Findings)
	p.Blocked = findings.Blocking(p.Findings)
	p.Phases = Estimates(env)
	return p, nil
}

// argoObjects reads the rendered objects of the Argo CD Applications that
// target blue (and will target green through the same ApplicationSets). A
// failure to reach Argo CD does not stop the plan: it becomes a warning
// saying what was not checked.
func (o Options) argoObjects(ctx context.Context, blue, endpoint string) ([]clusters.Object, *findings.Finding) {
	warn := func(err error) *findings.Finding {
		return &findings.Finding{Severity: findings.Warn, Check: CheckRemovedAPI, Where: findings.Where{Object: "Argo CD"},
			What: "the manifests of blue's Argo CD Applications were not checked for removed APIs: " + err.Error(),
			Fix:  "check argocd.management in eksbg.yaml and that eksbg can reach the management cluster"}
	}
	if o.ArgoCD == nil {
		return nil, warn(fmt.Errorf("no Argo CD management cluster configured"))
	}
	rc, err := o.ArgoCD(ctx)
	if err != nil {
		return nil, warn(err)
	}
	dyn, err := dynamic.NewForConfig(rc)
	if err != nil {
		return nil, warn(err)
	}
	ns := o.Env.ArgoCD.Namespace
	if ns == "" {
		ns = "argocd"
	}
	objs, err := gitops.AppObjects(ctx, dyn, ns, blue, endpoint)
	if err != nil {
		return nil, warn(err)
	}
	return objs, nil
}

// deriveNetwork maps Terraform's network onto what Derive takes.
func deriveNetwork(n *terraform.Network) clusters.Network {
	conv := func(ids []string) []clusters.NetworkSubnet {
		var out []clusters.NetworkSubnet
		for _, s := range n.Described(ids) {
			out = append(out, clusters.NetworkSubnet{ID: s.ID, AZ: s.AvailabilityZone, CIDR: s.CIDR})
		}
		return out
	}
	return clusters.Network{VPCID: n.VpcID, Nodes: conv(n.Subnets.Nodes), ControlPlane: conv(n.Subnets.ControlPlane),
		LoadBalancers: conv(n.Subnets.LoadBalancers)}
}

// cmpMinor compares "1.N" versions by minor.
func cmpMinor(a, b string) int {
	var am, bm int
	fmt.Sscanf(strings.TrimPrefix(a, "1."), "%d", &am)
	fmt.Sscanf(strings.TrimPrefix(b, "1."), "%d", &bm)
	return am - bm
}

// Estimates lists the upgrade's phases with their gates and typical
// durations on AWS: EKS control planes take 8-12 minutes to create and
// 5-10 to delete, managed node groups 3-5 minutes
// (https://docs.aws.amazon.com/eks/latest/userguide/create-cluster.html);
// the shift takes one bake time per step.
func Estimates(env *config.Environment) []PhaseEstimate {
	steps := env.Traffic.Steps
	if len(steps) == 0 {
		steps = config.DefaultSteps()
	}
	bake := env.Traffic.BakeTime // the loader applies DefaultBakeTime; 0 disables baking
	var stepText []string
	for _, s := range steps {
		stepText = append(stepText, fmt.Sprintf("%d%%", s))
	}
	g := env.Traffic.Gates
	gates := []string{"green targets all healthy", "subnets hold green at this step's size"}
	if g.Max5xxPercent != nil {
		gates = append(gates, fmt.Sprintf("5xx rate <= %g%%", *g.Max5xxPercent))
	}
	if g.MaxP99Latency != nil {
		gates = append(gates, fmt.Sprintf("p99 latency <= %s", *g.MaxP99Latency))
	}
	if g.MinHealthyTargets != nil {
		gates = append(gates, fmt.Sprintf(">= %d healthy targets", *g.MinHealthyTargets))
	}
	if g.MinRequestCount != nil {
		gates = append(gates, fmt.Sprintf(">= %d requests per step", *g.MinRequestCount))
	}
	phases := []PhaseEstimate{
		{Name: "preflight", What: "capacity, quotas and compatibility (this plan)", Estimate: 30 * time.Second},
		{Name: "render", What: "write green's eksctl config beside the journal", Estimate: time.Second},
		{Name: "create-green", What: "eksctl create cluster; wait for nodes Ready and add-ons ACTIVE; capacity again with real ENIs",
			Gates: []string{"cluster ACTIVE", "nodes Ready", "add-ons ACTIVE", "capacity OK"}, Estimate: 18 * time.Minute},
		{Name: "register", What: "Argo CD cluster secret for green (singletons suspended); wait for its Applications",
			Gates: []string{"every Application on green Synced and Healthy"}, Estimate: 3 * time.Minute},
		{Name: "parity", What: "same Applications on both colors; workloads available; green target groups healthy",
			Gates: []string{"Application twins", "Deployments and StatefulSets available", "green targets healthy"}, Estimate: time.Minute},
		{Name: "shift", What: "listener-rule weights to green in steps " + strings.Join(stepText, ", ") + ", baking " + bake.String() + " each; automatic rollback when a gate fails",
			Gates: gates, Estimate: time.Duration(len(steps)) * bake},
		{Name: "handoff", What: "singletons (CronJobs) suspended on blue, resumed on green", Estimate: time.Minute},
		{Name: "teardown", What: "deregister blue; remove its Argo CD secret and Applications; eksctl delete cluster; check no load balancer or ENI is left",
			Estimate: 12 * time.Minute},
	}
	for i := range phases {
		phases[i].EstimateSeconds = int(phases[i].Estimate.Seconds())
	}
	return phases
}
