package upgrade

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	k8sfake "k8s.io/client-go/kubernetes/fake"

	"github.com/eksbg/eksbg/clusters"
	"github.com/eksbg/eksbg/internal/config"
	"github.com/eksbg/eksbg/internal/findings"
	"github.com/eksbg/eksbg/internal/gitops"
	"github.com/eksbg/eksbg/internal/wait"
	"github.com/eksbg/eksbg/upgrade/fake"
	"github.com/eksbg/eksbg/upgrade/journal"
)

// The unit tests' environment: demo, blue live at 1.32, one listener rule.
const (
	testRule    = "arn:aws:elasticloadbalancing:us-east-1:111122223333:listener-rule/app/web/50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6cabee"
	testBlueTG  = "arn:aws:elasticloadbalancing:us-east-1:111122223333:targetgroup/web-blue/73e2d6bc24d8a067"
	testGreenTG = "arn:aws:elasticloadbalancing:us-east-1:111122223333:targetgroup/web-green/2453ed029918f21f"
)

func testProject(bake string) string {
	return `apiVersion: eksbg.io/v1alpha1
kind: Project
environments:
  - name: demo
    aws: {region: us-east-1, accountId: "111122223333"}
    network:
      terraform: {dir: infra, outputs: {vpcId: vpc_id, subnetIds: {nodes: subnets}}}
    cluster: {eksctlConfig: cluster.yaml}
    traffic:
      listenerRules:
        - arn: ` + testRule + `
          targetGroups: {blue: ` + testBlueTG + `, green: ` + testGreenTG + `}
      steps: [10, 50, 100]
      bakeTime: ` + bake + `
      gates: {max5xxPercent: 2, minRequestCount: 10}
    argocd:
      management: {eksCluster: mgmt}
`
}

func clusterConfig(name, version string) string {
	return `apiVersion: eksctl.io/v1alpha5
kind: ClusterConfig
metadata:
  name: ` + name + `
  region: us-east-1
  version: "` + version + `"
managedNodeGroups:
  - name: general
    instanceType: m5.large
    desiredCapacity: 2
    maxSize: 4
`
}

// world is a whole environment of fakes: AWS, eksctl, Argo CD on a
// management cluster, and one client-go fake per workload cluster.
type world struct {
	t       *testing.T
	dir     string
	env     *config.Environment
	eks     *fake.EKS
	elb     *fake.ELB
	ec2     *fake.EC2
	cw      *fake.CloudWatch
	prov    *fake.Provisioner
	argo    *fake.ArgoCD
	backend journal.Backend
	clock   *wait.Fake

	mu       sync.Mutex
	clusters map[string]*Kube
	events   []Event
	// capacity, when set, is the capacity check's answer; capacityAsked
	// records the node groups and sizes it was asked about.
	capacity      func() []findings.Finding
	capacityAsked []map[string]int
}

func newWorld(t *testing.T) *world {
	t.Helper()
	dir := t.TempDir()
	write := func(name, data string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("eksbg.yaml", testProject("2m"))
	write("cluster.yaml", clusterConfig("demo-blue", "1.32"))
	proj, err := config.Load(filepath.Join(dir, "eksbg.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	env, err := proj.Env("demo")
	if err != nil {
		t.Fatal(err)
	}
	w := &world{t: t, dir: dir, env: env, eks: &fake.EKS{}, elb: &fake.ELB{}, ec2: &fake.EC2{}, cw: &fake.CloudWatch{},
		argo: fake.NewArgoCD("argocd", "web", "worker"), clock: wait.NewFake(time.Date(2026, 12, 8, 9, 0, 0, 0, time.UTC)),
		clusters: map[string]*Kube{}}
	w.prov = &fake.Provisioner{EKS: w.eks}
	w.backend = &journal.Local{Dir: filepath.Join(dir, ".eksbg", "state")}
	// Blue runs, registered with Argo CD with its singletons active, and
	// takes all the traffic.
	w.eks.PutCluster("demo-blue", "1.32", ekstypes.ClusterStatusActive)
	w.eks.PutNodegroup("demo-blue", "general", 2, ekstypes.NodegroupStatusActive)
	w.elb.PutForwardRule(testRule, testBlueTG, testGreenTG, 100, 0)
	w.elb.SetTargets(testBlueTG, map[string]elbtypes.TargetHealthStateEnum{"10.0.1.10": elbtypes.TargetHealthStateEnumHealthy})
	w.register("demo-blue", config.Blue, true)
	return w
}

// register gives a cluster to the fake Argo CD as eksbg would.
func (w *world) register(cluster, color string, active bool) {
	w.t.Helper()
	s := gitops.SingletonsSuspended
	if active {
		s = gitops.SingletonsActive
	}
	if err := w.argo.Register(gitops.Cluster{Name: cluster, Server: "https://" + cluster + ".eks.example", CAData: []byte("ca"),
		Labels: map[string]string{gitops.LabelColor: color, gitops.LabelSingletons: s}}); err != nil {
		w.t.Fatal(err)
	}
}

// cluster returns (creating) a workload cluster's fake clients.
func (w *world) cluster(name string) *Kube {
	w.mu.Lock()
	defer w.mu.Unlock()
	k := w.clusters[name]
	if k == nil {
		k = &Kube{Core: k8sfake.NewClientset(), Dynamic: fake.NewDynamic()}
		w.clusters[name] = k
	}
	return k
}

// options returns upgrade options on the world's fakes, to version to.
func (w *world) options(to string) Options {
	events := make(chan Event)
	go func() {
		for e := range events {
			w.mu.Lock()
			w.events = append(w.events, e)
			w.mu.Unlock()
		}
	}()
	w.t.Cleanup(func() { close(events) })
	return Options{Env: w.env, ProjectDir: w.dir, To: to, Who: "test", Operation: "upgrade to " + to,
		Provisioner: w.prov, Backend: w.backend, Events: events, Clock: w.clock, WorkDir: filepath.Join(w.dir, "work"),
		PollInterval: time.Second, GateInterval: 15 * time.Second,
		Timeouts: Timeouts{Regeneration: 10 * time.Millisecond},
		Clients: &Clients{EKS: w.eks, ELB: w.elb, EC2: w.ec2, CloudWatch: w.cw,
			Cluster: func(_ context.Context, name string) (*Kube, error) { return w.cluster(name), nil },
			Management: func(context.Context) (*Kube, error) {
				return &Kube{Core: w.argo.Core, Dynamic: w.argo.Dynamic}, nil
			}},
		Capacity: w.capacityCheck,
	}
}

// newRun opens a run on the world with a fresh journal to version to,
// holding the lock, as Run does before its phases.
func (w *world) newRun(to string) *run {
	w.t.Helper()
	ctx := context.Background()
	r, err := newRun(ctx, w.options(to))
	if err != nil {
		w.t.Fatal(err)
	}
	if _, err := r.acquire(ctx); err != nil {
		w.t.Fatal(err)
	}
	w.t.Cleanup(r.release)
	if err := r.openJournal(ctx); err != nil {
		w.t.Fatal(err)
	}
	return r
}

// done journals steps as done without running them, to start a test at a
// phase; data are the steps' data (by "phase/step").
func (w *world) done(r *run, data map[string]map[string]string, steps ...string) {
	w.t.Helper()
	for _, s := range steps {
		ph, step, _ := strings.Cut(s, "/")
		r.j.Entries = append(r.j.Entries, journal.Entry{Phase: ph, Step: step, State: journal.Done, At: w.clock.Now(), Data: data[s]})
	}
	if err := r.save(context.Background()); err != nil {
		w.t.Fatal(err)
	}
}

// rendered journals preflight and render done with green's config at
// version, as a run past those phases has them.
func (w *world) rendered(r *run, version string) {
	cfg := clusterConfig("demo-green", version)
	w.done(r, map[string]map[string]string{"preflight/checks": {"config": cfg}, "render/green config": {"config": cfg}},
		"preflight/checks", "preflight/", "render/green config", "render/")
}

// greenRunning makes green exist and run the apps with healthy targets,
// registered with its singletons suspended.
func (w *world) greenRunning(version string) {
	w.eks.PutCluster("demo-green", version, ekstypes.ClusterStatusActive)
	w.eks.PutNodegroup("demo-green", "general", 2, ekstypes.NodegroupStatusActive)
	w.elb.SetTargets(testGreenTG, map[string]elbtypes.TargetHealthStateEnum{"10.0.2.10": elbtypes.TargetHealthStateEnumHealthy})
	w.register("demo-green", config.Green, false)
}

// healthyMetrics makes CloudWatch report green serving well.
func (w *world) healthyMetrics() {
	w.cw.Set("", map[string]float64{"RequestCount": 500, "HTTPCode_Target_5XX_Count": 1, "TargetResponseTime": 0.05, "HealthyHostCount": 2, "UnHealthyHostCount": 0})
}

// eventsOf returns the messages of the events of a kind.
func (w *world) eventsOf(kind EventKind) []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for _, e := range w.events {
		if e.Kind == kind {
			out = append(out, e.Message)
		}
	}
	return out
}

// entry returns the newest journal entry of a step.
func (w *world) entry(t *testing.T, phase, step string) journal.Entry {
	t.Helper()
	j, err := w.backend.Journal(context.Background(), "demo")
	if err != nil {
		t.Fatal(err)
	}
	e, ok := j.Last(phase, step)
	if !ok {
		t.Fatalf("the journal has no %s/%s", phase, step)
	}
	return e
}

// weights returns the blue and green weights of the rule.
func (w *world) weights() (int32, int32) {
	return w.elb.Weight(testRule, testBlueTG), w.elb.Weight(testRule, testGreenTG)
}

// greenWeightsWritten lists green's weight after each ModifyRule.
func (w *world) greenWeightsWritten() []int32 {
	var out []int32
	for _, wr := range w.elb.Writes {
		out = append(out, wr[testRule][testGreenTG])
	}
	return out
}

func contains(list []string, sub string) bool {
	return slices.ContainsFunc(list, func(s string) bool { return strings.Contains(s, sub) })
}

// capacityCheck is the run's capacity check: it records the scaled node
// groups asked about and answers w.capacity's findings.
func (w *world) capacityCheck(_ context.Context, cfg *clusters.Config) (any, []findings.Finding, error) {
	spec, err := cfg.Spec()
	if err != nil {
		return nil, nil, err
	}
	asked := map[string]int{}
	for _, ng := range spec.NodeGroups {
		if ng.DesiredCapacity != nil {
			asked[ng.Name] = *ng.DesiredCapacity
		}
	}
	w.mu.Lock()
	w.capacityAsked = append(w.capacityAsked, asked)
	w.mu.Unlock()
	if w.capacity == nil {
		return nil, nil, nil
	}
	return nil, w.capacity(), nil
}
