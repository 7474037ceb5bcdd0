package cli

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/eksbg/eksbg/upgrade"
)

// waitSteps are the steps whose time is spent waiting for something
// outside eksbg: AWS creating or deleting (eksctl), Argo CD syncing or
// pruning, targets registering or draining. Their sum is what an upgrade
// cannot be faster than; the bakes are added from the config.
var waitSteps = map[upgrade.Phase][]string{
	upgrade.PhaseCreate:   {"eksctl create cluster", "wait for node groups and add-ons", "wait for nodes"},
	upgrade.PhaseRegister: {"wait for sync"},
	upgrade.PhaseParity:   {"workloads available", "target groups"},
	upgrade.PhaseHandoff:  {"wait for blue's jobs", "wait for green"},
	upgrade.PhaseTeardown: {"drain", "remove from Argo CD", "delete target group bindings", "delete load balancers", "eksctl delete cluster"},
}

// BenchmarkUpgradeSandbox runs the demo upgrade in the sandbox (steps
// 50/100, 2 s bakes, polls every 500 ms) in process and reports eksbg's
// wall time against the waits it cannot avoid (creation, sync, bakes,
// draining, deletion), and the AWS and Kubernetes calls of each phase.
//
//	go test -run '^$' -bench BenchmarkUpgradeSandbox -benchtime 1x ./internal/cli
func BenchmarkUpgradeSandbox(b *testing.B) {
	for range b.N {
		ws, _ := sandboxUp(b)
		compressTraffic(b, ws)
		f := &Factory{IO: IO{Out: io.Discard, ErrOut: io.Discard}, Getenv: os.Getenv,
			Globals: &GlobalOptions{ConfigPath: filepath.Join(ws, "eksbg.yaml"), Env: "demo"}}
		ctx := b.Context()
		d, err := upgradeDeps(ctx, f, true)
		if err != nil {
			b.Fatal(err)
		}
		events := make(chan upgrade.Event, 256)
		waits := time.Duration(0)
		stepTimes := map[string]time.Duration{}
		done := make(chan struct{})
		go func() {
			defer close(done)
			for e := range events {
				if e.Kind != upgrade.StepFinished {
					continue
				}
				stepTimes[string(e.Phase)+"/"+e.Step] = e.Elapsed
				for _, s := range waitSteps[e.Phase] {
					if s == e.Step {
						waits += e.Elapsed
					}
				}
			}
		}()
		if err := d.withEksctl(ctx, events); err != nil {
			b.Fatal(err)
		}
		d.opts.Events, d.opts.To, d.opts.Approve = events, "1.34", true
		d.opts.GateInterval, d.opts.PollInterval = time.Second, 500*time.Millisecond
		start := time.Now()
		b.ResetTimer()
		sum, err := upgrade.Run(ctx, d.opts)
		wall := time.Since(start)
		b.StopTimer()
		close(events)
		<-done
		if err != nil {
			b.Fatal(err)
		}
		bakes := time.Duration(len(upgrade.Steps(d.env))) * d.env.Traffic.BakeTime
		waits += bakes
		b.ReportMetric(wall.Seconds(), "wall-s")
		b.ReportMetric(waits.Seconds(), "waits-s")
		b.ReportMetric(100*(wall-waits).Seconds()/waits.Seconds(), "overhead-%")
		var lines []string
		totalAWS, totalKube := 0, 0
		for _, p := range sum.Phases {
			totalAWS += p.Calls.AWSTotal()
			totalKube += p.Calls.Kubernetes
			var ops []string
			for _, op := range p.Calls.Operations() {
				ops = append(ops, fmt.Sprintf("%s×%d", op, p.Calls.AWS[op]))
			}
			lines = append(lines, fmt.Sprintf("%-13s %8s  AWS %3d  Kubernetes %3d  %s", p.Phase, p.Elapsed.Round(100*time.Millisecond),
				p.Calls.AWSTotal(), p.Calls.Kubernetes, strings.Join(ops, " ")))
		}
		b.ReportMetric(float64(totalAWS), "aws-calls")
		b.ReportMetric(float64(totalKube), "kube-calls")
		keys := make([]string, 0, len(stepTimes))
		for k := range stepTimes {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var steps []string
		for _, k := range keys {
			steps = append(steps, fmt.Sprintf("%s=%s", k, stepTimes[k].Round(100*time.Millisecond)))
		}
		b.Logf("wall %s, unavoidable waits %s (bakes %s)\n%s\nsteps: %s", wall.Round(100*time.Millisecond), waits.Round(100*time.Millisecond),
			bakes, strings.Join(lines, "\n"), strings.Join(steps, ", "))
	}
}
