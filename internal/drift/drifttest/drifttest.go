// Package drifttest starts, for the drift check's tests, the whole sandbox
// a team would run `eksbg drift` against: the AWS API emulator, a real
// control plane per EKS cluster, real Argo CD on the management cluster
// with every environment's cluster registered and its Applications synced,
// and the workspace `eksbg sandbox up` writes (eksbg.yaml, the eksctl
// configs, the Terraform network stack, applied with the real terraform).
package drifttest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/eksbg/eksbg/clusters"
	"github.com/eksbg/eksbg/internal/config"
	"github.com/eksbg/eksbg/internal/gitops"
	"github.com/eksbg/eksbg/internal/sandbox"
	"github.com/eksbg/eksbg/internal/sandbox/argocd"
	"github.com/eksbg/eksbg/internal/sandbox/emulator"
	"github.com/eksbg/eksbg/internal/sandbox/kube"
	"github.com/eksbg/eksbg/internal/sandbox/sandboxtest"
	"github.com/eksbg/eksbg/internal/sandbox/scenario"
	"github.com/eksbg/eksbg/internal/sandbox/scenarios"
	"github.com/eksbg/eksbg/internal/sandbox/workspace"
)

// Sandbox is a running sandbox and its workspace.
type Sandbox struct {
	AWS     *sandboxtest.Env
	Manager *kube.Manager
	GitOps  *argocd.Sandbox
	// Dir is the workspace; Config its eksbg.yaml.
	Dir    string
	Config string
}

// Scenario is the demo world (environment "demo": demo-blue serving the
// "web" rule, green not built) plus environment "shop", whose blue and
// green clusters both exist (an upgrade built green and has not moved
// traffic yet), behind the "shop" rule of the same load balancer.
func Scenario(t testing.TB) *scenario.Scenario {
	t.Helper()
	s, err := scenarios.Load("demo")
	if err != nil {
		t.Fatal(err)
	}
	s.Timing.ClusterCreate, s.Timing.NodegroupUpdate, s.Timing.TargetInitial = 1, 1, 1
	vpc := s.VPCs[0].ID
	cp := []string{"subnet-0de00000000000a02", "subnet-0de00000000000b02"}
	for _, color := range []string{"blue", "green"} {
		c := scenario.Cluster{Name: "shop-" + color, Version: "1.33", Subnets: cp,
			Tags: map[string]string{"eksbg.io/environment": "shop", "eksbg.io/color": color}}
		if color == "blue" {
			c.Nodegroups = []scenario.Nodegroup{{Name: "apps", InstanceType: "m5.large", CapacityType: "ON_DEMAND", Desired: 2, Min: 1, Max: 4,
				Subnets: []string{"subnet-0de00000000000a01", "subnet-0de00000000000b01"}, PodsPerNode: 6, Labels: map[string]string{"role": "apps"}}}
		}
		s.Clusters = append(s.Clusters, c)
		s.TargetGroups = append(s.TargetGroups, scenario.TargetGroup{Name: "shop-" + color + "-web", VPC: vpc, Protocol: "HTTP", Port: 8080,
			TargetType: "ip", Cluster: "shop-" + color, HealthCheckPath: "/healthz"})
	}
	l := &s.LoadBalancers[0].Listeners[0]
	l.Rules = append(l.Rules, scenario.Rule{Name: "shop", Priority: 5, HostHeader: []string{"shop.example.com"},
		Forward: []scenario.Forward{{TargetGroup: "shop-blue-web", Weight: 100}, {TargetGroup: "shop-green-web", Weight: 0}}})
	return s
}

// Start starts the sandbox on Scenario (edited by edit, when given), waits
// until every live cluster's Applications are Synced and Healthy and its
// target groups hold only healthy targets, and writes and applies the
// workspace. Everything stops when the test ends.
func Start(t testing.TB, edit func(*scenario.Scenario)) *Sandbox {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	sc := Scenario(t)
	if edit != nil {
		edit(sc)
	}
	env := sandboxtest.Start(t, sc)
	dir := t.TempDir()
	m := sandboxtest.StartKube(t, env, sandboxtest.WithKubeDir(filepath.Join(dir, "kube")), sandboxtest.WithResync(250*time.Millisecond)).Manager
	g, err := argocd.StartSandbox(ctx, argocd.SandboxOptions{Emulator: env.Server, URL: env.URL, Manager: m, Dir: filepath.Join(dir, "argocd")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(g.Close)
	s := &Sandbox{AWS: env, Manager: m, GitOps: g, Dir: filepath.Join(dir, "workspace")}

	w, err := workspace.Read(ctx, env.AWS)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := workspace.Write(w, workspace.Options{Dir: s.Dir, Endpoint: env.URL, Eksbg: "/bin/true"}); err != nil {
		t.Fatal(err)
	}
	if err := sandbox.ApplyNetwork(ctx, filepath.Join(s.Dir, workspace.NetworkDir), w); err != nil {
		t.Fatal(err)
	}
	s.Config = filepath.Join(s.Dir, workspace.ProjectFile)
	for _, e := range w.Environments {
		if err := s.waitLive(ctx, aws.ToString(e.Cluster.Name), aws.ToString(e.Cluster.Endpoint), e.Rules); err != nil {
			t.Fatalf("environment %s: %v", e.Name, err)
		}
	}
	return s
}

// waitLive waits for the live cluster's Applications to be Synced and
// Healthy and its target groups to hold healthy targets only.
func (s *Sandbox) waitLive(ctx context.Context, cluster, server string, rules []workspace.Rule) error {
	if apps, err := gitops.WaitApplications(ctx, s.GitOps.ArgoCD.Dynamic(), s.GitOps.ArgoCD.Namespace(), server, gitops.AllSyncedHealthy(1)); err != nil {
		return fmt.Errorf("the Applications of %s: %w (%s)", cluster, err, gitops.NotReady(apps))
	}
	elb := elbv2.NewFromConfig(s.AWS.AWS)
	for _, r := range rules {
		tg := r.Blue
		if err := wait.PollUntilContextCancel(ctx, 200*time.Millisecond, true, func(ctx context.Context) (bool, error) {
			out, err := elb.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(tg)})
			if err != nil {
				return false, err
			}
			for _, d := range out.TargetHealthDescriptions {
				if d.TargetHealth == nil || d.TargetHealth.State != elbtypes.TargetHealthStateEnumHealthy {
					return false, nil
				}
			}
			return len(out.TargetHealthDescriptions) > 0, nil
		}); err != nil {
			return fmt.Errorf("the targets of %s: %w", tg, err)
		}
	}
	return nil
}

// ManagementKubeconfig is the admin kubeconfig of the Argo CD management
// cluster, for kubectl.
func (s *Sandbox) ManagementKubeconfig(t testing.TB) string {
	t.Helper()
	cp, ok := s.Manager.ControlPlane(s.GitOps.Management)
	if !ok {
		t.Fatalf("no control plane for the management cluster %s", s.GitOps.Management)
	}
	return cp.AdminKubeconfig()
}

// Project loads the workspace's eksbg.yaml.
func (s *Sandbox) Project(t testing.TB) *config.Project {
	t.Helper()
	p, err := config.Load(s.Config)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// SetAWSEnv points the AWS SDK's default chain at the sandbox for the rest
// of the test, as the workspace's env file does: for code that loads its
// own configuration (eksbg's commands).
func (s *Sandbox) SetAWSEnv(t *testing.T) {
	t.Helper()
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL": s.AWS.URL, "AWS_REGION": s.AWS.Region,
		"AWS_ACCESS_KEY_ID": emulator.DefaultCredential.AccessKeyID, "AWS_SECRET_ACCESS_KEY": emulator.DefaultCredential.SecretAccessKey,
		"AWS_SESSION_TOKEN": "", "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null", "AWS_PROFILE": "",
		"AWS_EC2_METADATA_DISABLED": "true",
	} {
		t.Setenv(k, v)
	}
}

// Edit replaces old with new in the workspace file rel (exactly once), and
// puts the file back when the test ends.
func (s *Sandbox) Edit(t testing.TB, rel, old, new string) {
	t.Helper()
	p := filepath.Join(s.Dir, rel)
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(data), old); n != 1 {
		t.Fatalf("%s has %q %d times, want once", rel, old, n)
	}
	if err := os.WriteFile(p, []byte(strings.Replace(string(data), old, new, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.WriteFile(p, data, 0o644) })
}

// CopyEksctlConfig writes a copy of environment env's eksctl config
// (clusters/ENV.yaml) that names cluster instead (metadata.name), for an
// environment a test makes from env: the live color of an environment
// without a record in the state backend is the color of the cluster its
// eksctl config names. It returns the copy's path.
func (s *Sandbox) CopyEksctlConfig(t testing.TB, env, cluster string) string {
	t.Helper()
	src := filepath.Join(s.Dir, workspace.ClustersDir, env+".yaml")
	cfg, err := clusters.Load(src)
	if err != nil {
		t.Fatal(err)
	}
	old := "\n  name: " + cfg.Name() + "\n"
	data := string(cfg.Bytes())
	if n := strings.Count(data, old); n != 1 {
		t.Fatalf("%s has %q %d times, want once", src, old, n)
	}
	dst := filepath.Join(s.Dir, workspace.ClustersDir, cluster+".yaml")
	if err := os.WriteFile(dst, []byte(strings.Replace(data, old, "\n  name: "+cluster+"\n", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	cp, err := clusters.Load(dst)
	if err != nil {
		t.Fatal(err)
	}
	if cp.Name() != cluster {
		t.Fatalf("the copy of %s names %q, want %s", src, cp.Name(), cluster)
	}
	return dst
}

// Shell runs a command line with sh, with the AWS CLI pointed at the
// sandbox (as a fix printed by eksbg drift would be pasted) and env added
// to its environment, and returns its output.
func (s *Sandbox) Shell(t testing.TB, line string, env ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "/bin/sh", "-c", line)
	home := t.TempDir()
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + home,
		"AWS_ENDPOINT_URL=" + s.AWS.URL,
		"AWS_ACCESS_KEY_ID=" + emulator.DefaultCredential.AccessKeyID, "AWS_SECRET_ACCESS_KEY=" + emulator.DefaultCredential.SecretAccessKey,
		"AWS_DEFAULT_REGION=" + s.AWS.Region, "AWS_REGION=" + s.AWS.Region,
		"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_PAGER=", "AWS_MAX_ATTEMPTS=1",
	}
	cmd.Env = append(cmd.Env, env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", line, err, out)
	}
	return string(out)
}
