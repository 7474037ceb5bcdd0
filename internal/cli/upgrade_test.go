package cli

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
	ec2 "github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/eksbg/eksbg/internal/config"
	"github.com/eksbg/eksbg/internal/gitops"
	"github.com/eksbg/eksbg/internal/kubeaccess"
	"github.com/eksbg/eksbg/internal/sandbox"
	"github.com/eksbg/eksbg/internal/sandbox/emulator"
	"github.com/eksbg/eksbg/internal/sandbox/sandboxtest"
	"github.com/eksbg/eksbg/internal/testenv"
	"github.com/eksbg/eksbg/upgrade/journal"
	"github.com/eksbg/eksbg/upgrade/traffic"
)

// sandboxUp starts the demo sandbox as a user does ('sandbox up') and
// returns the workspace's eksbg.yaml; the sandbox is stopped at the end.
func sandboxUp(t testing.TB) (ws string, rt *sandbox.Runtime) {
	t.Helper()
	sandboxtest.SkipShort(t, "kube-apiserver")
	dir := t.TempDir()
	st := filepath.Join(dir, "state", "world.json")
	ws = filepath.Join(dir, "ws")
	t.Setenv("EKSBG_TEST_AS_EKSBG", "1")
	t.Cleanup(func() {
		if rt, _ := sandbox.ReadRuntime(sandbox.RuntimeFile(st)); rt != nil {
			for _, pid := range append([]int{rt.PID}, rt.Processes...) {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	})
	var out, errOut bytes.Buffer
	if code := Main(context.Background(), []string{"sandbox", "up", "--state", st, "--addr", freeAddr(t), "--workspace", ws,
		"--eksctl-schema", testenv.EksctlSchemaPath(t), "--fresh"}, IO{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}); code != 0 {
		t.Fatalf("sandbox up: exit %d\n%s\n%s", code, out.String(), errOut.String())
	}
	rt, err := sandbox.ReadRuntime(sandbox.RuntimeFile(st))
	if err != nil || rt == nil {
		t.Fatalf("runtime: %v", err)
	}
	for k, v := range map[string]string{"AWS_ENDPOINT_URL": rt.URL, "AWS_REGION": "us-east-1",
		"AWS_ACCESS_KEY_ID": emulator.DefaultCredential.AccessKeyID, "AWS_SECRET_ACCESS_KEY": emulator.DefaultCredential.SecretAccessKey,
		"AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null", "EKSBG_EKSCTL_SCHEMA": testenv.EksctlSchemaPath(t),
		"PATH": filepath.Join(ws, "bin") + string(os.PathListSeparator) + os.Getenv("PATH"), "EKSBG_CONFIG": filepath.Join(ws, "eksbg.yaml"),
		"XDG_CACHE_HOME": filepath.Join(dir, "cache")} {
		t.Setenv(k, v)
	}
	return ws, rt
}

// eksbgProc is eksbg run as its own process (this test binary, as
// TestMain arranges), so that exit codes, signals and locks are real.
func eksbgProc(ctx context.Context, args ...string) (*exec.Cmd, *bytes.Buffer) {
	cmd := exec.CommandContext(ctx, os.Args[0], args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	return cmd, &out
}

func exitOf(err error) int {
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

// TestUpgradeDemo is the demo upgrade end to end in the sandbox, 1.32 to
// 1.34: a second upgrade of the same environment is refused naming the
// lock's holder; green's error rate raised to 20% during the second step
// makes the gate fire, every rule goes back to 100% blue with no increase
// after the breach, exit 1 and the journal saying why; with the error rate
// restored, the same command resumes, waits for --approve, and with it
// tears blue down. Then the invariants: one cluster, weights 0/100,
// singletons active only on green, no ENI, target or secret of blue left.
func TestUpgradeDemo(t *testing.T) {
	ws, rt := sandboxUp(t)
	ctx := t.Context()
	w := newDemoWorld(t, ws, rt)
	cfg, env := w.cfg, w.env
	rule := env.Traffic.ListenerRules[0]
	greenWeight := func() int32 { return w.greenWeight(t) }

	// Act 1: the upgrade, with a breach during step 2 (25%).
	up, out := eksbgProc(ctx, "upgrade", "--env", "demo", "--to", "1.34", "--gate-interval", "2s")
	if err := up.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- up.Wait() }()
	// A second upgrade while the first holds the lock.
	waitUntil(t, 2*time.Minute, "the first upgrade to take the lock", func() bool {
		b := &journal.Local{Dir: filepath.Join(ws, config.DefaultStateDir)}
		l, _ := b.LockHolder(ctx, "demo")
		return l != nil
	})
	second, out2 := eksbgProc(ctx, "upgrade", "--env", "demo", "--to", "1.34")
	if code := exitOf(second.Run()); code != 1 || !strings.Contains(out2.String(), "is locked by") || !strings.Contains(out2.String(), fmt.Sprintf("pid %d", up.Process.Pid)) {
		t.Errorf("second upgrade: exit %d, want 1 naming pid %d:\n%s", code, up.Process.Pid, out2)
	}
	waitUntil(t, 5*time.Minute, "green at 25%", func() bool {
		select {
		case err := <-done:
			t.Fatalf("upgrade ended before step 2: %v\n%s", err, out)
		default:
		}
		return greenWeight() == 25
	})
	breachAt := time.Now()
	putTrafficModel(t, rt.URL, `{"clusters":{"demo-green":{"errorRate":0.2}}}`)
	var code int
	select {
	case err := <-done:
		code = exitOf(err)
	case <-time.After(3 * time.Minute):
		t.Fatalf("no rollback 3 minutes after the breach:\n%s", out)
	}
	if code != 1 || !strings.Contains(out.String(), "gate breached at 25%") || !strings.Contains(out.String(), "5xx rate") {
		t.Fatalf("breached upgrade: exit %d, want 1 with the breach:\n%s", code, out)
	}
	if g := greenWeight(); g != 0 {
		t.Fatalf("green weight after the breach: %d", g)
	}
	t.Logf("rolled back %s after the breach", time.Since(breachAt).Round(time.Second))
	// The weight history: ModifyRule calls after the breach only lower green.
	for _, w := range modifyRuleWeights(t, rt, rule.ARN, rule.TargetGroups.Green, breachAt) {
		if w > 25 {
			t.Errorf("green's weight rose to %d after the breach", w)
		}
	}
	b := &journal.Local{Dir: filepath.Join(ws, config.DefaultStateDir)}
	j, err := b.Journal(ctx, "demo")
	if err != nil || !j.Open() {
		t.Fatalf("journal after the breach: %+v %v", j, err)
	}
	if e, ok := j.Last("shift", "25%"); !ok || e.State != journal.Failed || !strings.Contains(e.Message, "5xx rate") {
		t.Errorf("journal's 25%% entry: %+v", e)
	}
	if e, _ := j.Last("shift", "10%"); e.State != journal.Reverted {
		t.Errorf("journal's 10%% entry after the rollback: %+v", e)
	}

	// Act 2: errors restored; the same command resumes and stops before
	// the teardown; --approve finishes.
	putTrafficModel(t, rt.URL, `{"clusters":{"demo-green":{"errorRate":0}}}`)
	// Ctrl-C during the first step's bake: exit 130, weights at that step,
	// the journal says the step was interrupted.
	intr, out := eksbgProc(ctx, "upgrade", "--env", "demo", "--to", "1.34", "--gate-interval", "2s")
	if err := intr.Start(); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 3*time.Minute, "green at 10% again", func() bool { return greenWeight() == 10 })
	_ = intr.Process.Signal(os.Interrupt)
	if code := exitOf(intr.Wait()); code != ExitInterrupted || !strings.Contains(out.String(), "Interrupted") {
		t.Fatalf("interrupted upgrade: exit %d, want %d\n%s", code, ExitInterrupted, out)
	}
	if g := greenWeight(); g != 10 {
		t.Errorf("green weight after Ctrl-C in the 10%% bake: %d", g)
	}
	if j, _ := b.Journal(ctx, "demo"); j == nil || !j.Open() {
		t.Errorf("journal after Ctrl-C: %+v", j)
	} else if e, _ := j.Last("shift", "10%"); e.State != journal.Failed || !strings.Contains(e.Message, "context canceled") {
		t.Errorf("journal's 10%% entry after Ctrl-C: %+v", e)
	}
	resume, out := eksbgProc(ctx, "upgrade", "--env", "demo", "--to", "1.34", "--gate-interval", "2s")
	if code := exitOf(resume.Run()); code != 0 || !strings.Contains(out.String(), "resuming upgrade") || !strings.Contains(out.String(), "--approve") {
		t.Fatalf("resumed upgrade: exit %d\n%s", code, out)
	}
	if g := greenWeight(); g != 100 {
		t.Fatalf("green weight after the resumed shift: %d", g)
	}
	approve, out := eksbgProc(ctx, "upgrade", "--env", "demo", "--to", "1.34", "--approve")
	if code := exitOf(approve.Run()); code != 0 || !strings.Contains(out.String(), "completed") {
		t.Fatalf("approved upgrade: exit %d\n%s", code, out)
	}

	checkInvariants(t, cfg, ws, env, "green", "1.34")
}

// checkInvariants are what a finished upgrade to live color at version
// leaves: one cluster in the environment, every rule 100% on it, no ENI or
// target of the other color, one cluster secret with singletons active,
// the live record, a closed journal, and the eksctl config naming it.
func checkInvariants(t *testing.T, cfg aws.Config, ws string, env *config.Environment, live, version string) {
	t.Helper()
	ctx := t.Context()
	gone := "blue"
	if live == "blue" {
		gone = "green"
	}
	liveName, goneName := env.ClusterName(live), env.ClusterName(gone)
	eksc := eks.NewFromConfig(cfg)
	list, err := eksc.ListClusters(ctx, &eks.ListClustersInput{})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(list.Clusters, ","); got != liveName+",mgmt" && got != "mgmt,"+liveName {
		t.Errorf("clusters after the upgrade: %s", got)
	}
	elb := elbv2.NewFromConfig(cfg)
	sh, err := traffic.NewShifter(elb, nil, env.Traffic.ListenerRules, config.Green)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range mustWeights(t, sh) {
		if (live == "green" && (w.Blue != 0 || w.Green != 100)) || (live == "blue" && (w.Blue != 100 || w.Green != 0)) {
			t.Errorf("weights after the upgrade to %s: %+v", live, w)
		}
	}
	enis, err := ec2.NewFromConfig(cfg).DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{Filters: []ec2types.Filter{
		{Name: aws.String("tag:cluster.k8s.amazonaws.com/name"), Values: []string{goneName}}}})
	if err != nil || len(enis.NetworkInterfaces) != 0 {
		t.Errorf("ENIs of %s left: %d (%v)", goneName, len(enis.NetworkInterfaces), err)
	}
	for _, rule := range env.Traffic.ListenerRules {
		th, err := elb.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(rule.TargetGroup(gone))})
		if err != nil || len(th.TargetHealthDescriptions) != 0 {
			t.Errorf("targets left in %s's target group: %+v (%v)", gone, th, err)
		}
	}
	if got := argoClusterSecrets(t, cfg); got != "cluster-"+liveName+"=active" {
		t.Errorf("cluster secrets after the upgrade: %s", got)
	}
	b := stateBackend(t, cfg, ws, env)
	lv, err := b.Live(ctx, env.Name)
	if err != nil || lv == nil || lv.Color != live || lv.Version != version {
		t.Errorf("live color: %+v %v", lv, err)
	}
	if j, _ := b.Journal(ctx, env.Name); j.Open() || j.Outcome != "completed" {
		t.Errorf("journal: open %v outcome %q", j.Open(), j.Outcome)
	}
	// The environment's eksctl config now describes the live cluster.
	if data, err := os.ReadFile(filepath.Join(ws, "clusters", env.Name+".yaml")); err != nil || !strings.Contains(string(data), "name: "+liveName) {
		t.Errorf("clusters/%s.yaml after the upgrade: %v\n%s", env.Name, err, data)
	}
}

// argoClusterSecrets lists the management cluster's Argo CD cluster
// secrets as "NAME=SINGLETONS", joined by commas.
func argoClusterSecrets(t *testing.T, cfg aws.Config) string {
	t.Helper()
	mrc, err := kubeaccess.RESTConfig(t.Context(), eks.NewFromConfig(cfg), cfg, "mgmt")
	if err != nil {
		t.Fatal(err)
	}
	secrets, err := kubeClientset(t, mrc).CoreV1().Secrets("argocd").List(t.Context(), metav1.ListOptions{LabelSelector: gitops.LabelSecretType + "=cluster"})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range secrets.Items {
		names = append(names, s.Name+"="+s.Labels[gitops.LabelSingletons])
	}
	return strings.Join(names, ",")
}

// stateBackend opens the environment's state backend as eksbg does: the
// local directory of the workspace, or the S3 bucket in the emulator.
func stateBackend(t *testing.T, cfg aws.Config, ws string, env *config.Environment) journal.Backend {
	t.Helper()
	b, err := journal.ForEnvironment(env.State, ws, journal.NewS3Client(cfg))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustWeights(t *testing.T, sh *traffic.Shifter) []traffic.RuleWeights {
	t.Helper()
	ws, err := sh.Weights(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return ws
}

// demoWorld is what the sandbox tests read the demo environment through:
// the AWS configuration, the environment of the workspace's eksbg.yaml,
// and a Shifter over its rules as configured (blue is blue).
type demoWorld struct {
	cfg aws.Config
	env *config.Environment
	sh  *traffic.Shifter
}

func newDemoWorld(t testing.TB, ws string, rt *sandbox.Runtime) *demoWorld {
	t.Helper()
	cfg, err := sandbox.AWSConfig(t.Context(), rt.URL, "", "")
	if err != nil {
		t.Fatal(err)
	}
	proj, err := config.Load(filepath.Join(ws, "eksbg.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	env, err := proj.Env("demo")
	if err != nil {
		t.Fatal(err)
	}
	sh, err := traffic.NewShifter(elbv2.NewFromConfig(cfg), nil, env.Traffic.ListenerRules, config.Green)
	if err != nil {
		t.Fatal(err)
	}
	return &demoWorld{cfg: cfg, env: env, sh: sh}
}

// greenWeight is the green target group's weight in the demo's one rule.
func (w *demoWorld) greenWeight(t testing.TB) int32 {
	t.Helper()
	ws, err := w.sh.Weights(t.Context())
	if err != nil || len(ws) != 1 {
		t.Fatalf("weights: %v %v", ws, err)
	}
	return ws[0].Green
}

func waitUntil(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		<-tick.C
	}
}

func putTrafficModel(t *testing.T, url, body string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPut, url+"/_sandbox/traffic", strings.NewReader(body))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK && res.StatusCode != http.StatusNoContent {
		t.Fatalf("PUT /_sandbox/traffic: %s", res.Status)
	}
}

// modifyRuleWeights reads the emulator's weight history of a rule from
// the sandbox's saved world and returns the weights of target group tg
// recorded after since.
func modifyRuleWeights(t *testing.T, rt *sandbox.Runtime, ruleARN, tg string, since time.Time) []int {
	t.Helper()
	data, err := os.ReadFile(rt.StatePath)
	if err != nil {
		t.Fatal(err)
	}
	var w struct {
		Rules map[string]struct {
			History []struct {
				At      time.Time      `json:"at"`
				Weights map[string]int `json:"weights"`
			} `json:"history"`
		} `json:"rules"`
	}
	if err := json.Unmarshal(data, &w); err != nil {
		t.Fatal(err)
	}
	r, ok := w.Rules[ruleARN]
	if !ok || len(r.History) == 0 {
		t.Fatalf("no weight history for %s in %s", ruleARN, rt.StatePath)
	}
	var out []int
	for _, h := range r.History {
		if h.At.After(since) {
			out = append(out, h.Weights[tg])
		}
	}
	return out
}

func kubeClientset(t *testing.T, rc *rest.Config) kubernetes.Interface {
	t.Helper()
	kc, err := kubernetes.NewForConfig(rc)
	if err != nil {
		t.Fatal(err)
	}
	return kc
}

// TestShiftAndRollback: an upgrade run without --approve stops with
// traffic and singletons on green; 'eksbg shift --weight 50' moves half
// back under the gates; 'eksbg status' shows it; 'eksbg rollback
// --delete-green' puts traffic and singletons back on blue, takes green
// out of Argo CD, deletes it and closes the journal.
func TestShiftAndRollback(t *testing.T) {
	ws, rt := sandboxUp(t)
	compressTraffic(t, ws)
	ctx := t.Context()
	w := newDemoWorld(t, ws, rt)
	cfg, sh := w.cfg, w.sh
	run := func(want int, args ...string) string {
		t.Helper()
		cmd, out := eksbgProc(ctx, args...)
		if code := exitOf(cmd.Run()); code != want {
			t.Fatalf("eksbg %s: exit %d, want %d\n%s", strings.Join(args, " "), code, want, out)
		}
		return out.String()
	}
	out := run(0, "upgrade", "--env", "demo", "--to", "1.34", "--gate-interval", "1s")
	if !strings.Contains(out, "--approve") {
		t.Fatalf("upgrade without --approve did not stop before the teardown:\n%s", out)
	}
	if w := mustWeights(t, sh)[0]; w.Green != 100 {
		t.Fatalf("weights before the teardown: %+v", w)
	}
	// A different version while this one is open is refused.
	if out := run(1, "upgrade", "--env", "demo", "--to", "1.35"); !strings.Contains(out, "is open") || !strings.Contains(out, "rollback") {
		t.Errorf("upgrade to another version while one is open:\n%s", out)
	}
	run(0, "shift", "--env", "demo", "--weight", "50", "--gate-interval", "1s")
	if w := mustWeights(t, sh)[0]; w.Blue != 50 || w.Green != 50 {
		t.Fatalf("weights after shift 50: %+v", w)
	}
	st := run(0, "status", "--env", "demo", "-o", "json")
	var status struct {
		Rules   []traffic.RuleWeights
		Upgrade struct {
			Open bool
			Last struct{ Phase, Step string }
		}
	}
	if err := json.Unmarshal([]byte(st), &status); err != nil || !status.Upgrade.Open || status.Upgrade.Last.Phase != "shift" || status.Rules[0].Green != 50 {
		t.Errorf("status after the shift (%v):\n%s", err, st)
	}
	out = run(0, "rollback", "--env", "demo", "--delete-green")
	if w := mustWeights(t, sh)[0]; w.Blue != 100 || w.Green != 0 {
		t.Fatalf("weights after rollback: %+v (%s)", w, out)
	}
	eksc := eks.NewFromConfig(cfg)
	if _, err := eksc.DescribeCluster(ctx, &eks.DescribeClusterInput{Name: aws.String("demo-green")}); err == nil {
		t.Errorf("demo-green still exists after rollback --delete-green")
	}
	if got := argoClusterSecrets(t, cfg); got != "cluster-demo-blue=active" {
		t.Errorf("cluster secrets after rollback: %s", got)
	}
	b := &journal.Local{Dir: filepath.Join(ws, config.DefaultStateDir)}
	if j, _ := b.Journal(ctx, "demo"); j.Open() || !strings.HasPrefix(j.Outcome, "rolled back") {
		t.Errorf("journal after rollback: open %v, outcome %q", j.Open(), j.Outcome)
	}
	// Rerunning the rollback (as after a crash right after it ended)
	// converges: nothing to do, exit 0.
	if out := run(0, "rollback", "--env", "demo"); !strings.Contains(out, "was already rolled back") {
		t.Errorf("second rollback:\n%s", out)
	}
}
