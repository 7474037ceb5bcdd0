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
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"
	"gopkg.in/yaml.v3"

	"github.com/eksbg/eksbg/internal/drift"
	"github.com/eksbg/eksbg/internal/sandbox"
	"github.com/eksbg/eksbg/internal/sandbox/emulator"
	"github.com/eksbg/eksbg/internal/sandbox/sandboxtest"
	"github.com/eksbg/eksbg/internal/sandbox/workspace"
)

// Fleet benchmark shape (issue 19): 200 environments over 4 Terraform
// stacks and 2 AWS accounts.
const (
	fleetEnvs     = 200
	fleetStacks   = 4
	fleetAccounts = 2
)

// BenchmarkDriftFleet runs `eksbg drift --all` over 200 environments, 4
// network stacks of 50 workspaces each and 2 accounts, with 20 ms added to
// every AWS call, as its own process. The sandbox has one account: the two
// "accounts" are two shared-config profiles (acct-0, acct-1) whose
// credentials reach the same emulator, so that eksbg groups and caches by
// account as it would with two. It reports:
//
//   - wall-ms: the wall time of drift --all;
//   - tf-CPU-ms/env: the CPU of eksbg's terraform processes per
//     environment, against bare-plan-CPU-ms, the median CPU of one
//     `terraform plan` of one workspace run alone (already initialised),
//     and their ratio x-bare-plan (the target is 1.2);
//   - floor-ms: all the CPU the run used (eksbg, its terraform processes,
//     the in-process emulator, the sandbox's control plane) divided by the
//     cores, and x-floor, wall over floor (target 1.3);
//   - aws-calls/env and peak-RSS-MB (of the eksbg process).
//
// Never a timed test: figures only.
//
//	go test -run '^$' -bench BenchmarkDriftFleet -benchtime 1x -timeout 30m ./internal/drift/
func BenchmarkDriftFleet(b *testing.B) {
	env := sandboxtest.Start(b, benchScenario(fleetEnvs))
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
	// Four copies of the network stack, each applied in the workspaces of
	// its quarter of the environments.
	stackOf := func(i int) int { return i * fleetStacks / len(w.Environments) }
	src, err := os.ReadFile(filepath.Join(dir, workspace.NetworkDir, "main.tf"))
	if err != nil {
		b.Fatal(err)
	}
	g, gctx := errgroup.WithContext(ctx)
	for s := range fleetStacks {
		sdir := filepath.Join(dir, fmt.Sprintf("network-%d", s))
		if err := os.MkdirAll(sdir, 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(sdir, "main.tf"), src, 0o644); err != nil {
			b.Fatal(err)
		}
		part := *w
		part.Environments = nil
		for i, e := range w.Environments {
			if stackOf(i) == s {
				part.Environments = append(part.Environments, e)
			}
		}
		g.Go(func() error { return sandbox.ApplyNetwork(gctx, sdir, &part) })
	}
	if err := g.Wait(); err != nil {
		b.Fatal(err)
	}
	// eksbg.yaml: each environment's stack and account (profile).
	cfg := filepath.Join(dir, workspace.ProjectFile)
	var project map[string]any
	data, err := os.ReadFile(cfg)
	if err != nil {
		b.Fatal(err)
	}
	if err := yaml.Unmarshal(data, &project); err != nil {
		b.Fatal(err)
	}
	envIndex := map[string]int{}
	for i, e := range w.Environments {
		envIndex[e.Name] = i
	}
	for _, e := range project["environments"].([]any) {
		m := e.(map[string]any)
		i := envIndex[m["name"].(string)]
		m["network"].(map[string]any)["terraform"].(map[string]any)["dir"] = fmt.Sprintf("network-%d", stackOf(i))
		m["aws"].(map[string]any)["profile"] = fmt.Sprintf("acct-%d", i%fleetAccounts)
		m["argocd"].(map[string]any)["management"] = map[string]any{"kubeconfig": mgmt}
	}
	if data, err = yaml.Marshal(project); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(cfg, data, 0o644); err != nil {
		b.Fatal(err)
	}
	awsConfig := filepath.Join(dir, "aws-config")
	var ac strings.Builder
	for a := range fleetAccounts {
		fmt.Fprintf(&ac, "[profile acct-%d]\naws_access_key_id = %s\naws_secret_access_key = %s\nregion = %s\n\n",
			a, emulator.DefaultCredential.AccessKeyID, emulator.DefaultCredential.SecretAccessKey, env.Region)
	}
	if err := os.WriteFile(awsConfig, []byte(ac.String()), 0o600); err != nil {
		b.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPut, env.URL+"/_sandbox/faults",
		strings.NewReader(fmt.Sprintf(`[{"service":"*","operation":"*","latencyMs":%d}]`, benchLatency.Milliseconds())))
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusOK {
		b.Fatalf("setting faults: %v %v", resp, err)
	}
	awsEnv := []string{"AWS_ENDPOINT_URL=" + env.URL, "AWS_REGION=" + env.Region,
		"AWS_CONFIG_FILE=" + awsConfig, "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_PROFILE=", "AWS_ACCESS_KEY_ID=", "AWS_SECRET_ACCESS_KEY=",
		"AWS_EC2_METADATA_DISABLED=true"}
	cache := b.TempDir()
	hwm := filepath.Join(b.TempDir(), "hwm")
	run := func() (wall time.Duration, rssKB, selfCPU, tfCPU int64, rep *drift.Report) {
		cmd := exec.Command(os.Args[0], "drift", "--config", cfg, "-o", "json", "--all")
		cmd.Env = append(append(os.Environ(), mainEnv+"=1", hwmEnv+"="+hwm, "XDG_CACHE_HOME="+cache), awsEnv...)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		start := time.Now()
		err := cmd.Run()
		wall = time.Since(start)
		if err != nil {
			b.Fatalf("eksbg drift --all: %v\n%s", err, errb.String())
		}
		rep = &drift.Report{}
		if err := json.Unmarshal(out.Bytes(), rep); err != nil {
			b.Fatalf("%v: %s", err, out.String())
		}
		data, err := os.ReadFile(hwm)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := fmt.Sscanf(string(data), "%d %d %d", &rssKB, &selfCPU, &tfCPU); err != nil {
			b.Fatalf("figures %q: %v", data, err)
		}
		return wall, rssKB, selfCPU, tfCPU, rep
	}
	// Untimed first run: data directories and plugin cache as a nightly
	// runner keeps them.
	if _, _, _, _, rep := run(); rep.Summary.Drift+rep.Summary.Errors != 0 || len(rep.Environments) != fleetEnvs {
		b.Fatalf("the benchmark's sandbox has drift: %+v", rep.Summary)
	}
	bare := barePlanCPU(b, filepath.Join(dir, "network-0"), w.Environments[0].Name, awsEnv)
	b.ResetTimer()
	var walls, tfs, floors []float64
	var rss, calls int64
	for range b.N {
		env.Server.ResetStats()
		before := sandboxCPU()
		wall, kb, selfCPU, tfCPU, _ := run()
		other := sandboxCPU() - before
		n := 0
		for _, st := range env.Server.Stats() {
			n += st.Calls
		}
		walls = append(walls, float64(wall.Milliseconds()))
		tfs = append(tfs, float64(tfCPU)/fleetEnvs)
		floors = append(floors, float64(selfCPU+tfCPU+other)/float64(runtime.NumCPU()))
		rss = max(rss, kb*1024)
		calls = max(calls, int64(n))
	}
	b.StopTimer()
	wall, tf, floor := median(walls), median(tfs), median(floors)
	b.ReportMetric(wall, "wall-ms")
	b.ReportMetric(tf, "tf-CPU-ms/env")
	b.ReportMetric(bare, "bare-plan-CPU-ms")
	b.ReportMetric(tf/bare, "x-bare-plan")
	b.ReportMetric(floor, "floor-ms")
	b.ReportMetric(wall/floor, "x-floor")
	b.ReportMetric(float64(calls)/fleetEnvs, "aws-calls/env")
	b.ReportMetric(float64(rss)/(1<<20), "peak-RSS-MB")
}

// barePlanCPU is the median CPU time (ms, user and system) of three runs of
// a bare `terraform plan` of one workspace of the stack in dir, in the
// stack's own initialised .terraform, with nothing else of eksbg running.
func barePlanCPU(b *testing.B, dir, ws string, awsEnv []string) float64 {
	bin, err := exec.LookPath("terraform")
	if err != nil {
		b.Fatal(err)
	}
	var cpu []float64
	for range 3 {
		cmd := exec.Command(bin, "plan", "-input=false", "-detailed-exitcode", "-lock=false")
		cmd.Dir = dir
		cmd.Env = append(append(os.Environ(), "TF_WORKSPACE="+ws, "TF_IN_AUTOMATION=1"), awsEnv...)
		var errb bytes.Buffer
		cmd.Stderr = &errb
		if err := cmd.Run(); err != nil {
			b.Fatalf("terraform plan of %s: %v\n%s", ws, err, errb.String())
		}
		cpu = append(cpu, float64((cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()).Milliseconds()))
	}
	return median(cpu)
}

// sandboxCPU is the CPU time (ms) of this process (the emulator runs in
// it) and of its live descendants (etcd, kube-apiserver): what the
// sandbox spent, besides eksbg's own process and its children.
func sandboxCPU() int64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	total := (ru.Utime.Nano() + ru.Stime.Nano()) / 1e6
	tick := int64(100) // USER_HZ on Linux
	parents := map[int]int{}
	cpu := map[int]int64{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// Fields after the command (in parentheses): state, ppid, ...;
		// utime and stime are fields 14 and 15 of the whole line.
		rest := string(stat[bytes.LastIndexByte(stat, ')')+2:])
		f := strings.Fields(rest)
		if len(f) < 13 {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		ut, _ := strconv.ParseInt(f[11], 10, 64)
		st, _ := strconv.ParseInt(f[12], 10, 64)
		parents[pid], cpu[pid] = ppid, (ut+st)*1000/tick
	}
	self := os.Getpid()
	var desc func(pid int) bool
	seen := map[int]bool{}
	desc = func(pid int) bool {
		for range 64 {
			pp, ok := parents[pid]
			if !ok || pp == 0 {
				return false
			}
			if pp == self {
				return true
			}
			pid = pp
		}
		return false
	}
	for pid := range cpu {
		if !seen[pid] && desc(pid) {
			seen[pid] = true
			total += cpu[pid]
		}
	}
	return total
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	return s[len(s)/2]
}
