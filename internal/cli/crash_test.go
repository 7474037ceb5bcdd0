package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/eksbg/eksbg/internal/config"
	"github.com/eksbg/eksbg/upgrade/journal"
	"github.com/eksbg/eksbg/upgrade/traffic"
)

// compressTraffic shortens the workspace's shift (two steps, 2 s bakes)
// so that the crash matrix's many runs take minutes.
func compressTraffic(t testing.TB, ws string) {
	t.Helper()
	p := filepath.Join(ws, "eksbg.yaml")
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	s := strings.Replace(string(data), "steps: [10, 25, 50, 100]", "steps: [50, 100]", 1)
	s = strings.Replace(s, "bakeTime: 15s", "bakeTime: 2s", 1)
	// A killed run's rerun waits out its lease: keep it short here.
	s = strings.Replace(s, "    argocd:\n", "    state: {lockLease: 2s}\n    argocd:\n", 1)
	if s == string(data) {
		t.Fatal("the workspace's eksbg.yaml has no traffic steps to compress")
	}
	if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}

// trafficMonitor samples every rule's weights and both target groups'
// health while the upgrade runs, and records each moment a target group
// with weight above 0 had no healthy target: traffic sent to nothing.
type trafficMonitor struct {
	mu         sync.Mutex
	samples    int
	violations []string
	stop       context.CancelFunc
	done       chan struct{}
}

// monitorOnceSteady starts the traffic monitor once blue's targets have
// been healthy for 5 s: they start initial (the sandbox just registered
// them), Argo CD's first sync may still replace blue's pods just after
// 'sandbox up', and the monitor judges eksbg, not the sandbox's start.
func monitorOnceSteady(t *testing.T, w *demoWorld) *trafficMonitor {
	t.Helper()
	sh, err := traffic.NewShifter(elbv2.NewFromConfig(w.cfg), nil, w.env.Traffic.ListenerRules, config.Blue)
	if err != nil {
		t.Fatal(err)
	}
	steady := 0
	waitUntil(t, 2*time.Minute, "blue's targets healthy for 5 s", func() bool {
		bad, err := sh.HealthyTargets(t.Context())
		if err != nil || len(bad) > 0 {
			steady = 0
			return false
		}
		steady++
		return steady >= 20
	})
	return startTrafficMonitor(t, w.cfg, w.env)
}

func startTrafficMonitor(t *testing.T, cfg aws.Config, env *config.Environment) *trafficMonitor {
	ctx, cancel := context.WithCancel(context.Background())
	m := &trafficMonitor{stop: cancel, done: make(chan struct{})}
	elb := elbv2.NewFromConfig(cfg)
	go func() {
		defer close(m.done)
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			for _, rule := range env.Traffic.ListenerRules {
				out, err := elb.DescribeRules(ctx, &elbv2.DescribeRulesInput{RuleArns: []string{rule.ARN}})
				if err != nil || len(out.Rules) != 1 {
					continue
				}
				for _, a := range out.Rules[0].Actions {
					if a.Type != elbtypes.ActionTypeEnumForward || a.ForwardConfig == nil {
						continue
					}
					for _, tg := range a.ForwardConfig.TargetGroups {
						if aws.ToInt32(tg.Weight) == 0 {
							continue
						}
						th, err := elb.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: tg.TargetGroupArn})
						if err != nil {
							continue
						}
						healthy := 0
						for _, d := range th.TargetHealthDescriptions {
							if d.TargetHealth != nil && d.TargetHealth.State == elbtypes.TargetHealthStateEnumHealthy {
								healthy++
							}
						}
						m.mu.Lock()
						m.samples++
						if healthy == 0 {
							m.violations = append(m.violations, fmt.Sprintf("%s: weight %d on %s with no healthy target",
								time.Now().Format(time.RFC3339Nano), aws.ToInt32(tg.Weight), aws.ToString(tg.TargetGroupArn)))
						}
						m.mu.Unlock()
					}
				}
			}
		}
	}()
	return m
}

func (m *trafficMonitor) finish(t *testing.T) {
	t.Helper()
	m.stop()
	<-m.done
	m.mu.Lock()
	defer m.mu.Unlock()
	t.Logf("traffic monitor: %d samples of weighted target groups", m.samples)
	if m.samples == 0 {
		t.Error("the traffic monitor took no sample")
	}
	for _, v := range m.violations {
		t.Error(v)
	}
}

// TestUpgradeCrashMatrix kills eksbg with SIGKILL at journal boundaries
// and at random moments and reruns it until the upgrade completes; each
// rerun must resume and converge. First an upgrade blue 1.32 → green 1.34
// whose runs kill themselves right after their 1st, 2nd or 3rd journal
// save in turn (the 3rd advances one step per run, the others kill right
// after a resumed run's first records), so the chain passes every
// boundary of the upgrade; then green 1.34 → blue 1.35 with each run
// killed after a random delay. A monitor checks throughout that no rule
// ever sends traffic to a target group without a healthy target, and the
// invariants hold at the end of each upgrade.
func TestUpgradeCrashMatrix(t *testing.T) {
	ws, rt := sandboxUp(t)
	compressTraffic(t, ws)
	w := newDemoWorld(t, ws, rt)
	cfg, env := w.cfg, w.env
	mon := monitorOnceSteady(t, w)
	b := &journal.Local{Dir: filepath.Join(ws, config.DefaultStateDir)}
	entries := func() int {
		j, _ := b.Journal(t.Context(), "demo")
		if j == nil {
			return 0
		}
		return len(j.Entries)
	}

	// Chain 1: kills at journal boundaries.
	killed, positions := 0, map[int]bool{}
	for run := 0; ; run++ {
		if run > 400 {
			t.Fatalf("the upgrade did not complete after %d runs", run)
		}
		k := run%3 + 1
		cmd, out := eksbgProc(t.Context(), "upgrade", "--env", "demo", "--to", "1.34", "--approve", "--gate-interval", "1s")
		cmd.Env = append(os.Environ(), fmt.Sprintf("EKSBG_TEST_KILL_AFTER_SAVE=%d", k))
		err := cmd.Run()
		if code := exitOf(err); code == 0 {
			if !strings.Contains(out.String(), ": completed") {
				t.Fatalf("run %d exited 0 without completing:\n%s", run, out)
			}
			break
		} else if !killedBySIGKILL(err) {
			t.Fatalf("run %d (kill after save %d) exited %d instead of being killed or completing:\n%s", run, k, code, out)
		}
		killed++
		positions[entries()] = true
	}
	t.Logf("chain 1 (journal boundaries): %d runs killed at %d distinct journal positions, then completed", killed, len(positions))
	checkInvariants(t, cfg, ws, env, "green", "1.34")

	// Chain 2: kills at random moments, upgrading back to blue.
	rnd := rand.New(rand.NewPCG(7, 22))
	randomKills := 0
	for run := 0; ; run++ {
		if run > 200 {
			t.Fatalf("the second upgrade did not complete after %d runs", run)
		}
		cmd, out := eksbgProc(t.Context(), "upgrade", "--env", "demo", "--to", "1.35", "--approve", "--gate-interval", "1s")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		wait := make(chan error, 1)
		go func() { wait <- cmd.Wait() }()
		var err error
		if randomKills < 30 {
			delay := time.Duration(200+rnd.IntN(3300)) * time.Millisecond
			select {
			case err = <-wait:
			case <-time.After(delay):
				_ = cmd.Process.Signal(syscall.SIGKILL)
				if err = <-wait; killedBySIGKILL(err) {
					randomKills++
					continue
				}
				// It ended on its own just before the kill: judged below.
			}
		} else {
			err = <-wait
		}
		if code := exitOf(err); code != 0 || !strings.Contains(out.String(), ": completed") {
			t.Fatalf("run %d of the second upgrade: exit %d:\n%s", run, code, out)
		}
		break
	}
	t.Logf("chain 2 (random moments): %d runs killed, then completed", randomKills)
	checkInvariants(t, cfg, ws, env, "blue", "1.35")
	mon.finish(t)
}

func killedBySIGKILL(err error) bool {
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return false
	}
	ws, ok := ee.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL
}

// TestUpgradeUnderFaults runs the demo upgrade (steps compressed) with
// 10% of every AWS call throttled, 2% failing with a server error and
// 20-120 ms of latency on each, in a fresh sandbox per run; every run must
// complete and leave the invariants. EKSBG_FAULT_RUNS sets the number of
// runs (default 2; the acceptance is 10 out of 10:
// EKSBG_FAULT_RUNS=10 go test -run TestUpgradeUnderFaults ./internal/cli).
func TestUpgradeUnderFaults(t *testing.T) {
	runs := 2
	if n, err := strconv.Atoi(os.Getenv("EKSBG_FAULT_RUNS")); err == nil && n > 0 {
		runs = n
	}
	passed := 0
	for i := range runs {
		t.Run(fmt.Sprintf("run%d", i+1), func(t *testing.T) {
			ws, rt := sandboxUp(t)
			compressTraffic(t, ws)
			w := newDemoWorld(t, ws, rt)
			mon := monitorOnceSteady(t, w)
			putFaults(t, rt.URL, `[{"service":"*","operation":"*","throttleRate":0.1,"errorRate":0.02,"latencyMs":20,"jitterMs":100}]`)
			cmd, out := eksbgProc(t.Context(), "upgrade", "--env", "demo", "--to", "1.34", "--approve", "--gate-interval", "1s")
			if code := exitOf(cmd.Run()); code != 0 || !strings.Contains(out.String(), ": completed") {
				t.Fatalf("upgrade under faults: exit %d\n%s", code, out)
			}
			stats := sandboxCalls(t, rt.URL)
			t.Logf("emulator: %d calls, %d throttled, %d failed", stats.Calls, stats.Throttled, stats.Failed)
			if stats.Throttled == 0 || stats.Failed == 0 {
				t.Errorf("the faults were not injected: %+v", stats)
			}
			putFaults(t, rt.URL, `[]`)
			mon.finish(t)
			checkInvariants(t, w.cfg, ws, w.env, "green", "1.34")
			if !t.Failed() {
				passed++
			}
		})
	}
	t.Logf("%d of %d upgrades under faults completed", passed, runs)
}

func putFaults(t *testing.T, url, body string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPut, url+"/_sandbox/faults", strings.NewReader(body))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode/100 != 2 {
		t.Fatalf("PUT /_sandbox/faults: %s", res.Status)
	}
}

type callStats struct{ Calls, Throttled, Failed int }

// sandboxCalls sums the emulator's per-operation counters.
func sandboxCalls(t *testing.T, url string) callStats {
	t.Helper()
	res, err := http.Get(url + "/_sandbox/calls")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var body struct {
		Operations []callStats `json:"operations"`
	}
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	var sum callStats
	for _, o := range body.Operations {
		sum.Calls += o.Calls
		sum.Throttled += o.Throttled
		sum.Failed += o.Failed
	}
	return sum
}
