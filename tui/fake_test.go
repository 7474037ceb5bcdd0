package tui

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/eksbg/eksbg/internal/capacity"
	"github.com/eksbg/eksbg/internal/config"
	"github.com/eksbg/eksbg/internal/drift"
	"github.com/eksbg/eksbg/internal/findings"
	"github.com/eksbg/eksbg/upgrade"
	"github.com/eksbg/eksbg/upgrade/journal"
	"github.com/eksbg/eksbg/upgrade/preflight"
	"github.com/eksbg/eksbg/upgrade/traffic"
)

// fakeBackend is a Backend with per-method outputs and errors, recorded
// calls, and scripted operations: each sends its events, then (with block
// set) waits for release or its context, then returns its result.
type fakeBackend struct {
	mu sync.Mutex

	envs        []config.Environment
	envsErr     error
	status      map[string]*Status
	statusErr   map[string]error
	versions    []Version
	versionsErr error
	capacity    map[string]*capacity.Report
	capErr      error
	plan        *preflight.Plan
	planErr     error
	drift       map[string]*drift.EnvResult
	driftErr    error

	// events and results of operations, by kind.
	events  map[opKind][]upgrade.Event
	results map[opKind]error
	// block makes operations of a kind wait, after their events, until
	// release is closed or their context ends (then they return its error).
	block   map[opKind]bool
	release chan struct{}

	calls []string
}

var _ Backend = (*fakeBackend)(nil)

func (f *fakeBackend) record(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, fmt.Sprintf(format, args...))
}

// called returns the calls recorded so far.
func (f *fakeBackend) called() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

func (f *fakeBackend) Environments(context.Context) ([]config.Environment, error) {
	f.record("Environments")
	return f.envs, f.envsErr
}

func (f *fakeBackend) Status(_ context.Context, env string) (*Status, error) {
	f.record("Status %s", env)
	return f.status[env], f.statusErr[env]
}

func (f *fakeBackend) Versions(_ context.Context, env string) ([]Version, error) {
	f.record("Versions %s", env)
	return f.versions, f.versionsErr
}

func (f *fakeBackend) Capacity(_ context.Context, env, to string) (*capacity.Report, error) {
	f.record("Capacity %s %q", env, to)
	return f.capacity[env], f.capErr
}

func (f *fakeBackend) Plan(_ context.Context, env, to string) (*preflight.Plan, error) {
	f.record("Plan %s %s", env, to)
	return f.plan, f.planErr
}

func (f *fakeBackend) Drift(_ context.Context, env string) (*drift.EnvResult, error) {
	f.record("Drift %s", env)
	return f.drift[env], f.driftErr
}

// setBlock sets whether operations of kind block.
func (f *fakeBackend) setBlock(kind opKind, b bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.block[kind] = b
}

func (f *fakeBackend) op(ctx context.Context, kind opKind, events chan<- upgrade.Event) error {
	f.mu.Lock()
	evs, block, result := f.events[kind], f.block[kind], f.results[kind]
	f.mu.Unlock()
	for _, e := range evs {
		events <- e
	}
	if block {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-f.release:
		}
	}
	return result
}

func (f *fakeBackend) Upgrade(ctx context.Context, env, to string, approve bool, events chan<- upgrade.Event) error {
	f.record("Upgrade %s %s approve=%t", env, to, approve)
	return f.op(ctx, opUpgrade, events)
}

func (f *fakeBackend) Shift(ctx context.Context, env string, weight int, events chan<- upgrade.Event) error {
	f.record("Shift %s %d", env, weight)
	return f.op(ctx, opShift, events)
}

func (f *fakeBackend) Rollback(ctx context.Context, env string, deleteGreen bool, events chan<- upgrade.Event) error {
	f.record("Rollback %s deleteGreen=%t", env, deleteGreen)
	return f.op(ctx, opRollback, events)
}

// t0 is the tests' clock.
var t0 = time.Date(2026, time.November, 16, 10, 0, 0, 0, time.UTC)

func ptr[T any](v T) *T { return &v }

const webRule = "arn:aws:elasticloadbalancing:us-east-1:000000000000:listener-rule/app/demo-alb/50dc6c495c0c9188/f2f7dc8efc522ab2/web"

// testEnv is an environment of the sandbox's shape.
func testEnv(name string) config.Environment {
	return config.Environment{Name: name, AWS: config.AWS{Region: "us-east-1"},
		Cluster: config.Cluster{NameTemplate: "{env}-{color}"},
		Traffic: config.Traffic{
			ListenerRules: []config.ListenerRule{{ARN: webRule, TargetGroups: config.TargetGroups{Blue: "tg-blue", Green: "tg-green"}}},
			Steps:         []int{10, 25, 50, 100}, BakeTime: 15 * time.Second,
			Gates: config.Gates{Max5xxPercent: ptr(2.0), MaxP99Latency: ptr(500 * time.Millisecond), MinRequestCount: ptr(50)},
		}}
}

// testStatus is an environment on blue at version, green absent, with the
// web rule at green percent.
func testStatus(env, version string, green int32) *Status {
	return &Status{Status: &upgrade.Status{Environment: env,
		Clusters: []upgrade.ClusterStatus{
			{Color: "blue", Name: env + "-blue", Exists: true, Status: "ACTIVE", Version: version, Live: true},
			{Color: "green", Name: env + "-green"},
		},
		Rules: []traffic.RuleWeights{{RuleARN: webRule, Blue: 100 - green, Green: green}},
	}}
}

// openJournal is an upgrade of env to 1.34 stopped in its 25% step.
func openJournal(env string) *journal.Journal {
	at := func(m int) time.Time { return t0.Add(time.Duration(m-60) * time.Minute) }
	j := &journal.Journal{ID: "20261116-090000-abcdef", Environment: env, StartedAt: at(0),
		From: journal.ClusterRef{Name: env + "-blue", Color: "blue", Version: "1.32"},
		To:   journal.ClusterRef{Name: env + "-green", Color: "green", Version: "1.34"}}
	for i, p := range []upgrade.Phase{upgrade.PhasePreflight, upgrade.PhaseRender, upgrade.PhaseCreate, upgrade.PhaseRegister, upgrade.PhaseParity} {
		j.Entries = append(j.Entries, journal.Entry{Phase: string(p), State: journal.Started, At: at(i * 5)},
			journal.Entry{Phase: string(p), State: journal.Done, At: at(i*5 + 4)})
	}
	j.Entries = append(j.Entries,
		journal.Entry{Phase: "shift", State: journal.Started, At: at(30)},
		journal.Entry{Phase: "shift", Step: "10%", State: journal.Started, At: at(30)},
		journal.Entry{Phase: "shift", Step: "10%", State: journal.Done, At: at(31)},
		journal.Entry{Phase: "shift", Step: "25%", State: journal.Started, At: at(31)},
		journal.Entry{Phase: "shift", Step: "25%", State: journal.Failed, At: at(32), Message: "baking 25%: context canceled"},
		journal.Entry{Phase: "shift", State: journal.Failed, At: at(32), Message: "interrupted: baking 25%: context canceled"})
	return j
}

// testCapacity is a report of three zones, one nearly full, with quotas and
// subnets.
func testCapacity(subnets int) *capacity.Report {
	rep := &capacity.Report{Verdict: capacity.Warn, Name: "demo", Cluster: "demo-green", Version: "1.32",
		AZs: []capacity.AZReport{
			{AZ: "us-east-1a", SupplyIPs: 3900, DemandIPs: 420, UsableIPs: 4091, Verdict: capacity.OK},
			{AZ: "us-east-1b", SupplyIPs: 3700, DemandIPs: 420, UsableIPs: 4091, Verdict: capacity.OK},
			{AZ: "us-east-1c", SupplyIPs: 460, DemandIPs: 420, UsableIPs: 4091, Verdict: capacity.Warn,
				Remedy: "add a /22 subnet in us-east-1c to the nodes output"},
		},
		Quotas: []capacity.QuotaReport{
			{Service: "ec2", Code: "L-1216C47A", Name: "Running On-Demand Standard instances (vCPUs)", Limit: 256, Used: 48, Demand: 48, Verdict: capacity.OK},
			{Service: "eks", Code: "L-33415657", Name: "Managed node groups per cluster", Limit: 30, Used: 0, Demand: 2, Verdict: capacity.OK},
			{Service: "elasticloadbalancing", Code: "L-B22855CB", Name: "Target Groups per Region", Limit: 3000, Used: 4, Demand: 2, Verdict: capacity.OK},
		},
	}
	for i := 0; i < subnets; i++ {
		az := rep.AZs[i%3].AZ
		rep.Subnets = append(rep.Subnets, capacity.SubnetReport{ID: fmt.Sprintf("subnet-%017x", i+1), AZ: az,
			CIDR: fmt.Sprintf("10.%d.%d.0/24", i/256, i%256), AvailableIPs: 250 - i%200, FreePrefixes: 15 - i%10,
			Roles: []string{"nodes"}, DemandIPs: 20, Verdict: capacity.OK})
	}
	return rep
}

func testDrift(env string, n int) *drift.EnvResult {
	r := &drift.EnvResult{Environment: env, LiveColor: "blue", LiveCluster: env + "-blue", LiveFrom: "state"}
	if n > 0 {
		r.Findings = append(r.Findings, findings.Finding{Environment: env, Check: string(drift.KindCluster), Resource: "nodegroup/" + env + "-blue/web",
			Field: "maxSize", Expected: "6", Actual: "9", Severity: findings.Fail, Fix: "eksctl scale nodegroup or edit clusters/" + env + ".yaml"})
	}
	return r
}

func testPlan() *preflight.Plan {
	return &preflight.Plan{Environment: "demo",
		Blue:  preflight.ClusterRef{Name: "demo-blue", Color: "blue", Version: "1.32"},
		Green: preflight.ClusterRef{Name: "demo-green", Color: "green", Version: "1.34"},
		Diff:  "--- clusters/demo.yaml\n+++ green\n@@ -3,3 +3,3 @@\n metadata:\n-  name: demo-blue\n-  version: \"1.32\"\n+  name: demo-green\n+  version: \"1.34\"\n",
		Findings: []findings.Finding{
			{Severity: findings.Warn, Check: "capacity", Where: findings.Where{Object: "availability zone us-east-1c"},
				What: "green needs 420 addresses; the zone's subnets have 460 free", Fix: "add a subnet"},
			{Severity: findings.Info, Check: "removed-api", What: "no API removed between 1.32 and 1.34 is used"},
		},
		Phases: []preflight.PhaseEstimate{{Name: "preflight", What: "capacity, quotas, compatibility"}, {Name: "create-green", What: "eksctl create cluster"}},
	}
}

// shiftEvents are an upgrade's events up to the 25% step's second gate
// reading.
func shiftEvents(breach bool) []upgrade.Event {
	at := func(s int) time.Time { return t0.Add(time.Duration(s-300) * time.Second) }
	var evs []upgrade.Event
	sec := 0
	for _, p := range []upgrade.Phase{upgrade.PhasePreflight, upgrade.PhaseRender, upgrade.PhaseCreate, upgrade.PhaseRegister, upgrade.PhaseParity} {
		evs = append(evs, upgrade.Event{At: at(sec), Kind: upgrade.PhaseStarted, Phase: p})
		sec += 20
		evs = append(evs, upgrade.Event{At: at(sec), Kind: upgrade.PhaseFinished, Phase: p, Elapsed: 20 * time.Second, Calls: &upgrade.CallCount{Kubernetes: 3}})
	}
	p99 := func(ms int) *time.Duration { d := time.Duration(ms) * time.Millisecond; return &d }
	reading := func(req, errPct float64, ms int) *traffic.Reading {
		return &traffic.Reading{Requests: req, ErrorPercent: errPct, P99: p99(ms), MinHealthy: ptr(3.0)}
	}
	rule := func(g int32) []traffic.RuleWeights {
		return []traffic.RuleWeights{{RuleARN: webRule, Blue: 100 - g, Green: g}}
	}
	evs = append(evs,
		upgrade.Event{At: at(100), Kind: upgrade.PhaseStarted, Phase: upgrade.PhaseShift},
		upgrade.Event{At: at(100), Kind: upgrade.StepStarted, Phase: upgrade.PhaseShift, Step: "10%"},
		upgrade.Event{At: at(101), Kind: upgrade.Weights, Phase: upgrade.PhaseShift, Step: "10%", Weights: rule(10), To: config.Green},
		upgrade.Event{At: at(106), Kind: upgrade.Gate, Phase: upgrade.PhaseShift, Step: "10%", Done: 5, Total: 15, Reading: reading(100, 0.1, 120)},
		upgrade.Event{At: at(111), Kind: upgrade.Gate, Phase: upgrade.PhaseShift, Step: "10%", Done: 10, Total: 15, Reading: reading(110, 0, 140)},
		upgrade.Event{At: at(116), Kind: upgrade.Gate, Phase: upgrade.PhaseShift, Step: "10%", Done: 15, Total: 15, Reading: reading(320, 0.3, 130)},
		upgrade.Event{At: at(116), Kind: upgrade.StepFinished, Phase: upgrade.PhaseShift, Step: "10%", Elapsed: 16 * time.Second},
		upgrade.Event{At: at(116), Kind: upgrade.StepStarted, Phase: upgrade.PhaseShift, Step: "25%"},
		upgrade.Event{At: at(117), Kind: upgrade.Weights, Phase: upgrade.PhaseShift, Step: "25%", Weights: rule(25), To: config.Green},
		upgrade.Event{At: at(122), Kind: upgrade.Gate, Phase: upgrade.PhaseShift, Step: "25%", Done: 5, Total: 15, Reading: reading(250, 0.2, 150)},
	)
	if !breach {
		return append(evs, upgrade.Event{At: at(127), Kind: upgrade.Gate, Phase: upgrade.PhaseShift, Step: "25%", Done: 10, Total: 15, Reading: reading(260, 0.4, 160)})
	}
	b := []traffic.Breach{{Gate: traffic.GateMax5xxPercent, Value: 20, Limit: 2, Message: "5xx rate 20.00% is above 2.00%"}}
	return append(evs,
		upgrade.Event{At: at(127), Kind: upgrade.Gate, Phase: upgrade.PhaseShift, Step: "25%", Done: 10, Total: 15, Reading: reading(260, 20, 180), Breaches: b},
		upgrade.Event{At: at(127), Kind: upgrade.Warning, Phase: upgrade.PhaseShift, Step: "25%", Message: "rolling traffic back to blue: gate breached at 25%", Breaches: b},
		upgrade.Event{At: at(128), Kind: upgrade.Weights, Phase: upgrade.PhaseShift, Step: "rollback", Weights: rule(0), To: config.Green},
		upgrade.Event{At: at(128), Kind: upgrade.StepFinished, Phase: upgrade.PhaseShift, Step: "25%", Elapsed: 12 * time.Second, Err: &upgrade.GateBreachError{Step: 25, Breaches: b}},
		upgrade.Event{At: at(128), Kind: upgrade.PhaseFinished, Phase: upgrade.PhaseShift, Elapsed: 28 * time.Second, Err: &upgrade.GateBreachError{Step: 25, Breaches: b}},
	)
}

// newFake is a backend with three environments: demo (on 1.32, drift),
// staging (clean) and prod (an open upgrade).
func newFake() *fakeBackend {
	prod := testStatus("prod", "1.32", 0)
	prod.Journal = openJournal("prod")
	return &fakeBackend{
		envs:     []config.Environment{testEnv("demo"), testEnv("staging"), testEnv("prod")},
		status:   map[string]*Status{"demo": testStatus("demo", "1.32", 0), "staging": testStatus("staging", "1.33", 0), "prod": prod},
		versions: BuiltinVersions(),
		capacity: map[string]*capacity.Report{"demo": testCapacity(6), "staging": testCapacity(3), "prod": testCapacity(3)},
		plan:     testPlan(),
		drift:    map[string]*drift.EnvResult{"demo": testDrift("demo", 1), "staging": testDrift("staging", 0), "prod": testDrift("prod", 0)},
		events:   map[opKind][]upgrade.Event{},
		results:  map[opKind]error{},
		block:    map[opKind]bool{},
		release:  make(chan struct{}),
	}
}
