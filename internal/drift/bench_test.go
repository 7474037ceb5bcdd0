package drift_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/eksbg/eksbg/internal/cli"
	"github.com/eksbg/eksbg/internal/drift"
	"github.com/eksbg/eksbg/internal/gitops"
	"github.com/eksbg/eksbg/internal/sandbox"
	"github.com/eksbg/eksbg/internal/sandbox/argocd"
	"github.com/eksbg/eksbg/internal/sandbox/emulator"
	"github.com/eksbg/eksbg/internal/sandbox/kube"
	"github.com/eksbg/eksbg/internal/sandbox/kubeapply"
	"github.com/eksbg/eksbg/internal/sandbox/sandboxtest"
	"github.com/eksbg/eksbg/internal/sandbox/scenario"
	"github.com/eksbg/eksbg/internal/sandbox/workspace"
)

// mainEnv makes the test binary run eksbg itself, so that the benchmark
// measures `eksbg drift` as its own process; hwmEnv names a file it then
// writes its peak resident set size to (VmHWM of /proc/self/status: the
// child's rusage would count the parent's pages shared until exec).
const (
	mainEnv = "EKSBG_DRIFT_TEST_MAIN"
	hwmEnv  = "EKSBG_DRIFT_TEST_HWM"
)

func TestMain(m *testing.M) {
	if os.Getenv(mainEnv) == "1" {
		code := cli.Main(context.Background(), os.Args[1:], cli.StdIO())
		if path := os.Getenv(hwmEnv); path != "" {
			// The peak RSS, and the CPU time of eksbg itself and of the
			// terraform processes it ran.
			var self, children syscall.Rusage
			_ = syscall.Getrusage(syscall.RUSAGE_SELF, &self)
			_ = syscall.Getrusage(syscall.RUSAGE_CHILDREN, &children)
			cpu := func(ru syscall.Rusage) int64 { return (ru.Utime.Nano() + ru.Stime.Nano()) / 1e6 }
			status, err := os.ReadFile("/proc/self/status")
			for _, line := range strings.Split(string(status), "\n") {
				if strings.HasPrefix(line, "VmHWM:") {
					kb := strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(line, "VmHWM:"), "kB"))
					err = os.WriteFile(path, []byte(fmt.Sprintf("%s %d %d", kb, cpu(self), cpu(children))), 0o600)
				}
			}
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				code = cli.ExitError
			}
		}
		os.Exit(code)
	}
	os.Exit(m.Run())
}

// benchLatency is injected into every AWS call of the benchmark.
const benchLatency = 20 * time.Millisecond

// benchScenario is n environments env-00 .. env-<n-1> in one VPC: each a
// blue cluster (Kubernetes 1.32, a managed node group of two m5.large in
// two subnets of its own, three add-ons) serving a listener rule that
// forwards to its blue and green target groups, ten rules per load
// balancer.
func benchScenario(n int) *scenario.Scenario {
	s := &scenario.Scenario{APIVersion: scenario.APIVersion, Kind: scenario.Kind, Account: "111122223333", Region: "us-east-1",
		Timing: scenario.Timing{TargetInitial: 0.1},
		Quotas: map[string]float64{"ec2/L-1216C47A": 4096, "ec2/L-34B43A08": 512, "eks/L-1194D53C": 1000, "eks/L-6D54EA21": 30, "eks/L-BD136A63": 450,
			"vpc/L-DF5E4CA3": 50000, "elasticloadbalancing/L-B22855CB": 3000, "elasticloadbalancing/L-7EED9B64": 100}}
	vpc := scenario.VPC{ID: "vpc-0be00000000000001", CIDR: "10.64.0.0/14"}
	// Node subnets are /24s from 10.64.0.0 on, skipping 10.64.250-253
	// (control plane and load balancers): 2 per environment, up to 500.
	cidr := func(k int) string { return fmt.Sprintf("10.%d.%d.0/24", 64+k/250, k%250) }
	id := func(n int) string { return fmt.Sprintf("subnet-0be%014x", n) }
	cp := []string{id(1000), id(1001)}
	lb := []string{id(1002), id(1003)}
	vpc.Subnets = append(vpc.Subnets,
		scenario.Subnet{ID: cp[0], AZ: "us-east-1a", CIDR: "10.64.250.0/24"}, scenario.Subnet{ID: cp[1], AZ: "us-east-1b", CIDR: "10.64.251.0/24"},
		scenario.Subnet{ID: lb[0], AZ: "us-east-1a", CIDR: "10.64.252.0/24", Tags: map[string]string{"kubernetes.io/role/elb": "1"}},
		scenario.Subnet{ID: lb[1], AZ: "us-east-1b", CIDR: "10.64.253.0/24", Tags: map[string]string{"kubernetes.io/role/elb": "1"}})
	s.Clusters = append(s.Clusters, scenario.Cluster{Name: "mgmt", Version: "1.33", Subnets: cp, Tags: map[string]string{"eksbg.io/argocd-management": "true"}})
	var rules []scenario.Rule
	for i := range n {
		env := envName(n, i)
		nodes := []string{id(2 * i), id(2*i + 1)}
		vpc.Subnets = append(vpc.Subnets,
			scenario.Subnet{ID: nodes[0], AZ: "us-east-1a", CIDR: cidr(2 * i)},
			scenario.Subnet{ID: nodes[1], AZ: "us-east-1b", CIDR: cidr(2*i + 1)})
		s.Clusters = append(s.Clusters, scenario.Cluster{Name: env + "-blue", Version: "1.32", Subnets: cp,
			Tags: map[string]string{"eksbg.io/environment": env, "eksbg.io/color": "blue"},
			Nodegroups: []scenario.Nodegroup{{Name: "general", InstanceType: "m5.large", CapacityType: "ON_DEMAND", Desired: 2, Min: 1, Max: 4,
				Subnets: nodes, PodsPerNode: 10, Labels: map[string]string{"role": "general"}}},
			Addons: []scenario.Addon{{Name: "vpc-cni", Version: "v1.19.2-eksbuild.1"}, {Name: "coredns", Version: "v1.11.4-eksbuild.2"},
				{Name: "kube-proxy", Version: "v1.32.6-eksbuild.2"}}})
		s.TargetGroups = append(s.TargetGroups,
			scenario.TargetGroup{Name: env + "-blue-web", VPC: vpc.ID, Protocol: "HTTP", Port: 8080, TargetType: "ip", Cluster: env + "-blue", TargetCount: 2},
			scenario.TargetGroup{Name: env + "-green-web", VPC: vpc.ID, Protocol: "HTTP", Port: 8080, TargetType: "ip", Cluster: env + "-green"})
		rules = append(rules, scenario.Rule{Name: env, Priority: 10 + i, HostHeader: []string{env + ".example.com"},
			Forward: []scenario.Forward{{TargetGroup: env + "-blue-web", Weight: 100}, {TargetGroup: env + "-green-web", Weight: 0}}})
	}
	s.VPCs = []scenario.VPC{vpc}
	for i := 0; i < len(rules); i += 10 {
		rs := rules[i:min(i+10, len(rules))]
		s.LoadBalancers = append(s.LoadBalancers, scenario.LoadBalancer{Name: fmt.Sprintf("alb-%d", i/10), Subnets: lb,
			Listeners: []scenario.Listener{{Port: 80, DefaultForward: rs[0].Forward[:1], Rules: rs}}})
	}
	return s
}

// envName is the i-th of n environments: env-00 .. env-49, env-000 .. env-199.
func envName(n, i int) string {
	if n > 100 {
		return fmt.Sprintf("env-%03d", i)
	}
	return fmt.Sprintf("env-%02d", i)
}

// startManagement runs one real control plane for Argo CD's side (its
// Application CRD, a cluster secret and a Synced and Healthy Application
// per live cluster, as Argo CD would leave them) and returns its admin
// kubeconfig. The workload clusters get no control plane: each one's
// endpoint is a closed port on 127.0.0.1, so the capacity check cannot
// count their pods (it says so in a warning per environment) and fails at
// once, as it would not with an endpoint in DNS that resolves nowhere.
func startManagement(b *testing.B, env *sandboxtest.Env) string {
	sandboxtest.SkipShort(b, "kube-apiserver")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	bins, err := kube.LocateBinaries()
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	etcd, err := kube.StartEtcd(ctx, bins, filepath.Join(dir, "etcd"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = etcd.Stop(context.Background()) })
	cp, err := kube.StartControlPlane(ctx, bins, etcd, filepath.Join(dir, "mgmt"), kube.ClusterConfig{Name: "mgmt", ServiceCIDR: "172.20.0.0/16", Issuer: "https://oidc.example.com/mgmt"})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = cp.Stop(context.Background()) })
	argoBins, err := argocd.LocateBinaries()
	if err != nil {
		b.Fatal(err)
	}
	crd, err := os.ReadFile(filepath.Join(argoBins.CRDDir, "application-crd.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	objs, err := kubeapply.Decode(append(crd, "\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: argocd}\n"...))
	if err != nil {
		b.Fatal(err)
	}
	a, err := kubeapply.New(cp.RESTConfig(), "eksbg-bench")
	if err != nil {
		b.Fatal(err)
	}
	if err := a.Apply(ctx, objs...); err != nil {
		b.Fatal(err)
	}
	kc := kubernetes.NewForConfigOrDie(cp.RESTConfig())
	apps := dynamic.NewForConfigOrDie(cp.RESTConfig()).Resource(gitops.ApplicationGVR).Namespace("argocd")
	eksc := eks.NewFromConfig(env.AWS)
	p := eks.NewListClustersPaginator(eksc, &eks.ListClustersInput{})
	closed := 0 // TCP ports 1.. are closed: connections are refused at once
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			b.Fatal(err)
		}
		for _, name := range page.Clusters {
			if name == "mgmt" {
				continue
			}
			closed++
			if err := env.Server.SetControlPlane(name, fmt.Sprintf("https://127.0.0.1:%d", closed), cp.CAPEM()); err != nil {
				b.Fatal(err)
			}
			d, err := eksc.DescribeCluster(ctx, &eks.DescribeClusterInput{Name: aws.String(name)})
			if err != nil {
				b.Fatal(err)
			}
			server := aws.ToString(d.Cluster.Endpoint)
			if err := gitops.RegisterCluster(ctx, kc, "argocd", gitops.Cluster{Name: name, Server: server, CAData: []byte("-")}); err != nil {
				b.Fatal(err)
			}
			spec := map[string]any{"project": "default", "source": map[string]any{"repoURL": "https://git.example.com/apps", "path": "web", "targetRevision": "HEAD"},
				"destination": map[string]any{"server": server, "namespace": "web"}}
			app := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
				"metadata": map[string]any{"name": "web-" + name},
				"spec":     spec,
				"status": map[string]any{"sync": map[string]any{"status": "Synced", "revision": "abc", "comparedTo": map[string]any{"source": spec["source"], "destination": spec["destination"]}},
					"health": map[string]any{"status": "Healthy"}}}}
			if _, err := apps.Create(ctx, app, metav1.CreateOptions{}); err != nil {
				b.Fatal(err)
			}
		}
	}
	return cp.AdminKubeconfig()
}

// BenchmarkDriftAll runs `eksbg drift --all` over 50 environments of one
// sandbox, with 20 ms injected into every AWS call, as its own process,
// and `eksbg drift --env` of a sample of single environments. It reports
// the wall time of --all, the slowest single environment's, their ratio
// (the target is 3x on two cores), the peak RSS of the --all
// process, its AWS calls (DescribeCluster: one per cluster), and the CPU
// time of eksbg and of the terraform processes it ran. "skip-terraform"
// runs the same with --skip terraform: terraform's own processes (init,
// workspace list and select, plan, show per workspace) are most of the
// CPU time, and on two cores they, not AWS, bound the wall time.
//
//	go test -run '^$' -bench BenchmarkDriftAll -benchtime 3x ./internal/drift/
func BenchmarkDriftAll(b *testing.B) {
	const n = 50
	env := sandboxtest.Start(b, benchScenario(n))
	mgmt := startManagement(b, env)
	ctx := context.Background()
	w, err := workspace.Read(ctx, env.AWS)
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	if _, err := workspace.Write(w, workspace.Options{Dir: dir, Endpoint: env.URL, Eksbg: "/bin/true"}); err != nil {
		b.Fatal(err)
	}
	if err := sandbox.ApplyNetwork(ctx, filepath.Join(dir, workspace.NetworkDir), w); err != nil {
		b.Fatal(err)
	}
	cfg := filepath.Join(dir, workspace.ProjectFile)
	data, err := os.ReadFile(cfg)
	if err != nil {
		b.Fatal(err)
	}
	data = []byte(strings.ReplaceAll(string(data), "eksCluster: mgmt", "kubeconfig: "+mgmt))
	if err := os.WriteFile(cfg, data, 0o644); err != nil {
		b.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPut, env.URL+"/_sandbox/faults",
		strings.NewReader(fmt.Sprintf(`[{"service":"*","operation":"*","latencyMs":%d}]`, benchLatency.Milliseconds())))
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusOK {
		b.Fatalf("setting faults: %v %v", resp, err)
	}
	cache := b.TempDir()
	hwm := filepath.Join(b.TempDir(), "hwm")
	// figures are one run's peak RSS and CPU times (ms) of eksbg itself and
	// of its terraform processes.
	type figures struct{ rss, selfCPU, tfCPU int64 }
	drift := func(args ...string) (wall time.Duration, f figures, rep *drift.Report) {
		cmd := exec.Command(os.Args[0], append([]string{"drift", "--config", cfg, "-o", "json"}, args...)...)
		cmd.Env = append(os.Environ(), mainEnv+"=1", hwmEnv+"="+hwm, "XDG_CACHE_HOME="+cache,
			"AWS_ENDPOINT_URL="+env.URL, "AWS_REGION="+env.Region,
			"AWS_ACCESS_KEY_ID="+emulator.DefaultCredential.AccessKeyID, "AWS_SECRET_ACCESS_KEY="+emulator.DefaultCredential.SecretAccessKey,
			"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_PROFILE=", "AWS_EC2_METADATA_DISABLED=true")
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		start := time.Now()
		err := cmd.Run()
		wall = time.Since(start)
		if err != nil {
			b.Fatalf("eksbg drift %v: %v\n%s", args, err, errb.String())
		}
		rep = &drift.Report{}
		if err := json.Unmarshal(out.Bytes(), rep); err != nil {
			b.Fatalf("%v: %s", err, out.String())
		}
		data, err := os.ReadFile(hwm)
		if err != nil {
			b.Fatal(err)
		}
		var kb int64
		if _, err := fmt.Sscanf(string(data), "%d %d %d", &kb, &f.selfCPU, &f.tfCPU); err != nil {
			b.Fatalf("figures %q: %v", data, err)
		}
		f.rss = kb * 1024
		return wall, f, rep
	}
	// One run first, untimed: terraform's data directories and the
	// plugin-free inits are then as a nightly job's runner keeps them.
	if _, _, rep := drift("--all"); rep.Summary.Drift+rep.Summary.Errors != 0 || len(rep.Environments) != n {
		b.Fatalf("the benchmark's sandbox has drift: %+v", rep.Summary)
	}
	for _, variant := range []struct {
		name string
		args []string
	}{{"all-checks", nil}, {"skip-terraform", []string{"--skip", "terraform"}}} {
		b.Run(variant.name, func(b *testing.B) {
			var sum struct {
				all, slowest   time.Duration
				ratio, calls   float64
				selfCPU, tfCPU int64
				rss            int64
				describes      int
			}
			for range b.N {
				env.Server.ResetStats()
				wall, f, _ := drift(append([]string{"--all"}, variant.args...)...)
				calls, describes := 0, 0
				for _, st := range env.Server.Stats() {
					calls += st.Calls
					if st.Operation == "DescribeCluster" {
						describes += st.Calls
					}
				}
				// The slowest of a sample of single environments (they are alike).
				var slowest time.Duration
				for _, i := range []int{0, n / 3, 2 * n / 3, n - 1} {
					w, _, _ := drift(append([]string{"--env", envName(n, i)}, variant.args...)...)
					slowest = max(slowest, w)
				}
				sum.all += wall
				sum.slowest += slowest
				sum.selfCPU += f.selfCPU
				sum.tfCPU += f.tfCPU
				sum.ratio += float64(wall) / float64(slowest)
				sum.rss = max(sum.rss, f.rss)
				sum.calls += float64(calls)
				sum.describes = max(sum.describes, describes)
			}
			nb := float64(b.N)
			b.ReportMetric(float64(sum.all.Milliseconds())/nb, "wall-all-ms")
			b.ReportMetric(float64(sum.slowest.Milliseconds())/nb, "slowest-env-ms")
			b.ReportMetric(sum.ratio/nb, "x-slowest-env")
			b.ReportMetric(float64(sum.rss)/(1<<20), "peak-RSS-MB")
			b.ReportMetric(sum.calls/nb, "aws-calls")
			b.ReportMetric(float64(sum.describes), "DescribeCluster-calls")
			b.ReportMetric(float64(sum.selfCPU)/nb, "eksbg-CPU-ms")
			b.ReportMetric(float64(sum.tfCPU)/nb, "terraform-CPU-ms")
		})
	}
}
