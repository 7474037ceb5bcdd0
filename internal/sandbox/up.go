package sandbox

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	"github.com/hashicorp/terraform-exec/tfexec"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/eksbg/eksbg/internal/awsconf"
	"github.com/eksbg/eksbg/internal/kubeaccess"
	"github.com/eksbg/eksbg/internal/sandbox/emulator"
	"github.com/eksbg/eksbg/internal/sandbox/kube"
	"github.com/eksbg/eksbg/internal/sandbox/workspace"
)

// UpOptions configure `eksbg sandbox up`.
type UpOptions struct {
	Scenario  string
	Addr      string
	StatePath string
	Fresh     bool
	// Workspace is the directory written for the user.
	Workspace string
	// Eksbg is the eksbg binary that runs `sandbox serve` in the
	// background and that the workspace's eksctl shim runs.
	Eksbg string
	// EksctlSchema is eksctl's ClusterConfig schema file for the sandbox's
	// eksctl ("" when none is available).
	EksctlSchema string
	// NoControlPlanes runs the emulator alone (no Kubernetes).
	NoControlPlanes bool
	// Timeout bounds the wait for readiness.
	Timeout time.Duration
	Out     io.Writer
}

// UpResult says what `up` started and wrote.
type UpResult struct {
	Runtime   *Runtime
	Workspace string
	Files     []string
	// AlreadyRunning is true when up found a running sandbox.
	AlreadyRunning bool
	Took           time.Duration
}

// Up starts the sandbox in the background (emulator, and a control plane
// per EKS cluster), waits until it is ready, and writes the workspace. A
// sandbox already running is reused: up then only rewrites the workspace.
func Up(ctx context.Context, o UpOptions) (*UpResult, error) {
	start := time.Now()
	if o.Timeout == 0 {
		o.Timeout = 3 * time.Minute
	}
	rtFile := RuntimeFile(o.StatePath)
	res := &UpResult{Workspace: o.Workspace}
	step := func(format string, args ...any) func() {
		t0 := time.Now()
		fmt.Fprintf(o.Out, "==> "+format+"\n", args...)
		return func() { fmt.Fprintf(o.Out, "    done in %.1fs\n", time.Since(t0).Seconds()) }
	}

	rt, err := ReadRuntime(rtFile)
	if err != nil {
		return nil, err
	}
	sc, err := LoadScenario(o.Scenario)
	if err != nil {
		return nil, err
	}
	digest, err := emulator.ScenarioDigest(sc)
	if err != nil {
		return nil, err
	}
	if rt != nil && sandboxProcess(rt.PID) {
		if !rt.Ready {
			return nil, fmt.Errorf("a sandbox (pid %d) is starting or failed to start (%s): wait, or run 'eksbg sandbox down'", rt.PID, rt.Error)
		}
		if rt.ScenarioSHA256 != digest {
			return nil, fmt.Errorf("%w: a sandbox (pid %d) already runs scenario %s, not %s: run 'eksbg sandbox down' first, "+
				"or 'eksbg sandbox up --scenario %s' to keep it", emulator.ErrScenarioMismatch, rt.PID, rt.Scenario, o.Scenario, rt.Scenario)
		}
		fmt.Fprintf(o.Out, "==> a sandbox already runs (pid %d) at %s; rewriting the workspace\n", rt.PID, rt.URL)
		res.AlreadyRunning = true
	} else {
		if rt != nil {
			// Left by a sandbox that died: whatever it started goes first.
			stopProcesses(rt.Processes)
			_ = os.Remove(rtFile)
		}
		if err := os.MkdirAll(filepath.Dir(o.StatePath), 0o700); err != nil {
			return nil, err
		}
		// Refuse here, with serve's message, rather than in the log of a
		// serve that exits.
		if !o.Fresh {
			if err := emulator.CheckSavedScenario(o.StatePath, o.Scenario, sc); err != nil {
				return nil, err
			}
		}
		logPath := filepath.Join(filepath.Dir(o.StatePath), "sandbox.log")
		done := step("starting the sandbox (scenario %s) in the background; log: %s", o.Scenario, logPath)
		rt, err = spawn(ctx, o, rtFile, logPath)
		if err != nil {
			return nil, err
		}
		done()
	}
	res.Runtime = rt

	done := step("writing the workspace %s", o.Workspace)
	cfg, err := AWSConfig(ctx, rt.URL, "", "")
	if err != nil {
		return nil, err
	}
	w, err := workspace.Read(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("reading the sandbox's world: %w", err)
	}
	cred := emulator.DefaultCredential
	res.Files, err = workspace.Write(w, workspace.Options{
		Dir: o.Workspace, Endpoint: rt.URL, AccessKeyID: cred.AccessKeyID, SecretAccessKey: cred.SecretAccessKey,
		Eksbg: o.Eksbg, EksctlSchema: o.EksctlSchema,
	})
	if err != nil {
		return nil, err
	}
	done()
	done = step("applying the network stack with terraform (one workspace per environment)")
	if err := ApplyNetwork(ctx, filepath.Join(o.Workspace, workspace.NetworkDir), w); err != nil {
		return nil, err
	}
	done()
	// The scenario's load pods stand for the workloads blue carries; the
	// capacity model counts them, so 'up' is done when they run.
	done = step("waiting for the scenario's pods on each cluster")
	if err := waitLoad(ctx, cfg, rt); err != nil {
		return nil, err
	}
	done()
	res.Took = time.Since(start)
	return res, nil
}

// waitLoad waits until every cluster's sandbox-load Deployments have all
// their pods available.
func waitLoad(ctx context.Context, cfg aws.Config, rt *Runtime) error {
	eksc := eks.NewFromConfig(cfg)
	for _, c := range rt.Clusters {
		kc, err := kubeaccess.Clientset(ctx, eksc, cfg, c.Name)
		if err != nil {
			return err
		}
		last := ""
		err = wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, 3*time.Minute, true, func(ctx context.Context) (bool, error) {
			ds, err := kc.AppsV1().Deployments(kube.LoadNamespace).List(ctx, metav1.ListOptions{})
			if err != nil {
				return false, err
			}
			for _, d := range ds.Items {
				want := int32(1)
				if d.Spec.Replicas != nil {
					want = *d.Spec.Replicas
				}
				if d.Status.AvailableReplicas < want {
					last = fmt.Sprintf("%s/%s: %d of %d pods available", c.Name, d.Name, d.Status.AvailableReplicas, want)
					return false, nil
				}
			}
			return true, nil
		})
		if err != nil {
			return fmt.Errorf("waiting for the scenario's pods (%s): %w", last, err)
		}
	}
	return nil
}

// spawn starts `eksbg sandbox serve` detached, in its own session so it
// outlives `up` and a Ctrl-C at the terminal, and waits for its runtime
// file to say it is ready.
func spawn(ctx context.Context, o UpOptions, rtFile, logPath string) (*Runtime, error) {
	args := []string{"sandbox", "serve", "--scenario", o.Scenario, "--addr", o.Addr, "--state", o.StatePath, "--runtime-file", rtFile}
	if o.Fresh {
		args = append(args, "--fresh")
	}
	if !o.NoControlPlanes {
		args = append(args, "--control-planes")
	}
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	cmd := exec.Command(o.Eksbg, args...)
	cmd.Stdout, cmd.Stderr, cmd.Stdin = logf, logf, nil
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s sandbox serve: %w", o.Eksbg, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	fail := func(err error) (*Runtime, error) {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
		}
		return nil, fmt.Errorf("%w\n--- last lines of %s ---\n%s", err, logPath, tail(logPath, 15))
	}
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	timeout := time.NewTimer(o.Timeout)
	defer timeout.Stop()
	for {
		select {
		case <-ctx.Done():
			return fail(ctx.Err())
		case err := <-exited:
			return nil, fmt.Errorf("the sandbox exited while starting (%v)\n--- last lines of %s ---\n%s", err, logPath, tail(logPath, 15))
		case <-timeout.C:
			return fail(fmt.Errorf("the sandbox was not ready after %s", o.Timeout))
		case <-tick.C:
			rt, err := ReadRuntime(rtFile)
			if err != nil || rt == nil || rt.PID != cmd.Process.Pid {
				continue
			}
			if rt.Error != "" {
				return fail(errors.New(rt.Error))
			}
			if rt.Ready {
				return rt, nil
			}
		}
	}
}

func tail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// AWSConfig is an SDK configuration for the sandbox at url, with the
// given credentials (the default ones when id is empty).
func AWSConfig(ctx context.Context, url, id, secret string) (aws.Config, error) {
	health, err := ReadHealth(ctx, url)
	if err != nil {
		return aws.Config{}, err
	}
	if id == "" {
		id, secret = emulator.DefaultCredential.AccessKeyID, emulator.DefaultCredential.SecretAccessKey
	}
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(health.Region), config.WithBaseEndpoint(url),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(id, secret, "")))
	if err != nil {
		return aws.Config{}, fmt.Errorf("loading AWS configuration: %w", err)
	}
	cfg.BaseEndpoint = aws.String(url)
	awsconf.WholeBodies(&cfg)
	return cfg, nil
}

// ApplyNetwork inits the workspace's network stack and applies it in one
// Terraform workspace per environment, so that plans start clean.
func ApplyNetwork(ctx context.Context, dir string, w *workspace.World) error {
	bin, err := exec.LookPath("terraform")
	if err != nil {
		return fmt.Errorf("finding terraform: %w (eksbg reads the network from Terraform; install it from https://developer.hashicorp.com/terraform/install)", err)
	}
	tf, err := tfexec.NewTerraform(dir, bin)
	if err != nil {
		return err
	}
	var stderr bytes.Buffer
	tf.SetStderr(&stderr)
	wrap := func(what string, err error) error {
		return fmt.Errorf("%s in %s: %w\n%s", what, dir, err, stderr.String())
	}
	if err := tf.Init(ctx); err != nil {
		return wrap("terraform init", err)
	}
	existing, _, err := tf.WorkspaceList(ctx)
	if err != nil {
		return wrap("terraform workspace list", err)
	}
	for _, e := range w.Environments {
		if contains(existing, e.Name) {
			err = tf.WorkspaceSelect(ctx, e.Name)
		} else {
			err = tf.WorkspaceNew(ctx, e.Name)
		}
		if err != nil {
			return wrap("selecting workspace "+e.Name, err)
		}
		if err := tf.Apply(ctx); err != nil {
			return wrap("terraform apply (workspace "+e.Name+")", err)
		}
	}
	return tf.WorkspaceSelect(ctx, "default")
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// DownResult says what `down` stopped.
type DownResult struct {
	// Running is false when no sandbox ran.
	Running bool
	// Stopped counts the processes that were running: the serve process
	// and those it had started.
	Stopped int
	// Killed lists processes that did not stop on request.
	Killed []int
	Took   time.Duration
}

// Down stops the sandbox recorded beside statePath: SIGTERM to its serve
// process, which stops its control planes; anything still alive after
// that is killed. It leaves nothing running.
func Down(ctx context.Context, statePath string, out io.Writer) (*DownResult, error) {
	start := time.Now()
	rtFile := RuntimeFile(statePath)
	rt, err := ReadRuntime(rtFile)
	if err != nil {
		return nil, err
	}
	res := &DownResult{}
	if rt == nil {
		return res, nil
	}
	procs := append([]int{rt.PID}, rt.Processes...)
	for _, pid := range procs {
		if sandboxProcess(pid) {
			res.Stopped++
		}
	}
	res.Running = res.Stopped > 0
	if sandboxProcess(rt.PID) {
		fmt.Fprintf(out, "==> stopping the sandbox (pid %d) and its %d processes\n", rt.PID, len(rt.Processes))
		_ = syscall.Kill(rt.PID, syscall.SIGTERM)
		if !waitGone(ctx, []int{rt.PID}, 90*time.Second) {
			_ = syscall.Kill(rt.PID, syscall.SIGKILL)
			res.Killed = append(res.Killed, rt.PID)
		}
	}
	res.Killed = append(res.Killed, stopProcesses(rt.Processes)...)
	if err := os.Remove(rtFile); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	res.Took = time.Since(start)
	return res, nil
}

// stopProcesses ends those of pids that are still sandbox processes:
// SIGTERM, then SIGKILL after a grace period. It returns the killed ones.
func stopProcesses(pids []int) []int {
	var live []int
	for _, pid := range pids {
		if sandboxProcess(pid) {
			live = append(live, pid)
			_ = syscall.Kill(pid, syscall.SIGTERM)
		}
	}
	if len(live) == 0 || waitGone(context.Background(), live, 10*time.Second) {
		return nil
	}
	var killed []int
	for _, pid := range live {
		if sandboxProcess(pid) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			killed = append(killed, pid)
		}
	}
	waitGone(context.Background(), killed, 5*time.Second)
	return killed
}

// waitGone waits until none of pids is a live sandbox process.
func waitGone(ctx context.Context, pids []int, max time.Duration) bool {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	deadline := time.NewTimer(max)
	defer deadline.Stop()
	for {
		gone := true
		for _, pid := range pids {
			if sandboxProcess(pid) {
				gone = false
				break
			}
		}
		if gone {
			return true
		}
		select {
		case <-ctx.Done():
			return false
		case <-deadline.C:
			return false
		case <-tick.C:
		}
	}
}
